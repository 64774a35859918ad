/*
 * libFuzzer target: the duration, size and number parsers, on any
 * string.  Checks that accepted values are in range and refusals say why,
 * and that a number is accepted only as digits after an optional '-'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec ts;
	const char *errstr;
	char *s;
	off_t v;
	long long n;
	int inf;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (inf = 0; inf < 2; inf++) {
		errstr = NULL;
		if (parse_duration(s, inf, &ts, &errstr) == 0) {
			if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L ||
			    ts.tv_sec > DURATION_MAX ||
			    (ts.tv_sec < 0 && (!inf || ts.tv_sec != -1)))
				abort();
		} else if (errstr == NULL)
			abort();
		errstr = NULL;
		if (parse_size(s, inf, &v, &errstr) == 0) {
			if (!inf && v < 0)
				abort();
		} else if (errstr == NULL)
			abort();
	}
	errstr = NULL;
	n = parse_number(s, -1000, 65535, &errstr);
	if (errstr == NULL && (n < -1000 || n > 65535 ||
	    strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')) ||
	    s[*s == '-'] == '\0'))
		abort();
	free(s);
	return 0;
}
