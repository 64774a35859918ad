#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "lckfile.h"

/*
 * Binary pids are told from ASCII by their value.  Linux never hands out
 * a pid above 2^22; an ASCII file has no zero byte, so any 4 of its bytes
 * read as an int are at least 2^24 in either byte order.  A 4-byte file
 * whose int is a possible pid is therefore binary.  Two bytes cannot be
 * told apart that way ("12" is also the short 12849): they are ASCII only
 * when they look like what a pid writer prints ("12", "7\n"), else binary.
 */
#define PID_CEILING	(1 << 22)

static pid_t
parse_ascii(const unsigned char *buf, size_t len)
{
	size_t i = 0;
	long long v = 0;
	int digits = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (i < len && FMT_DIGIT(buf[i]) && v <= INT32_MAX) {
		v = v * 10 + (buf[i++] - '0');
		digits++;
	}
	/* Digits, then the end, a newline, a NUL pad, or " node". */
	if (digits > 0 && v > 0 && v <= INT32_MAX && (i == len ||
	    buf[i] == '\n' || buf[i] == ' ' || buf[i] == '\t' ||
	    buf[i] == '\0'))
		return (pid_t)v;
	return -1;
}

pid_t
lckfile_parse(const unsigned char *buf, size_t len)
{
	int32_t i32;
	int16_t i16;

	if (len == 0)
		return 0;
	if (len == sizeof(i32)) {
		memcpy(&i32, buf, sizeof(i32));
		if (i32 > 0 && i32 <= PID_CEILING)
			return (pid_t)i32;
	}
	if (len == sizeof(i16) && !(FMT_DIGIT(buf[0]) &&
	    (FMT_DIGIT(buf[1]) || buf[1] == '\n'))) {
		memcpy(&i16, buf, sizeof(i16));
		return i16 > 0 ? (pid_t)i16 : -1;
	}
	return parse_ascii(buf, len);
}

int
lckfile_format(char buf[LCKFILE_FORMAT_MAX], pid_t pid)
{
	size_t n;

	n = fmt_dec(buf, (unsigned long)pid, 10, ' ');
	buf[n++] = '\n';
	buf[n] = '\0';
	return (int)n;
}
