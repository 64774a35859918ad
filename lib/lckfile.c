#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lckfile.h"

pid_t
lckfile_parse(const unsigned char *buf, size_t len)
{
	size_t i = 0;
	long long v = 0;
	int32_t i32;
	int16_t i16;
	int digits = 0;

	if (len == 0)
		return 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (i < len && isdigit(buf[i]) && v <= INT32_MAX) {
		v = v * 10 + (buf[i++] - '0');
		digits++;
	}
	/* ASCII: digits, then the end, a newline, or " node". */
	if (digits > 0 && v > 0 && v <= INT32_MAX && (i == len ||
	    buf[i] == '\n' || buf[i] == ' ' || buf[i] == '\t' ||
	    buf[i] == '\0'))
		return (pid_t)v;
	/* Binary pids from old UUCP: exactly an int or a short. */
	if (len == sizeof(i32)) {
		memcpy(&i32, buf, sizeof(i32));
		return i32 > 0 ? (pid_t)i32 : -1;
	}
	if (len == sizeof(i16)) {
		memcpy(&i16, buf, sizeof(i16));
		return i16 > 0 ? (pid_t)i16 : -1;
	}
	return -1;
}

int
lckfile_format(char *buf, size_t len, pid_t pid)
{
	return snprintf(buf, len, "%10d\n", (int)pid);
}
