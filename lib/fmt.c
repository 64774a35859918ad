#include "fmt.h"

size_t
fmt_dec(char *s, unsigned long v, size_t width, char pad)
{
	char digits[FMT_DEC_MAX];
	size_t n = 0, len;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (len = 0; len + n < width; len++)
		s[len] = pad;
	while (n > 0)
		s[len++] = digits[--n];
	return len;
}
