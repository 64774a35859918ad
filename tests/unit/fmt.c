/* Unit tests for lib/fmt.c: decimal numbers, widths and padding. */
#include <limits.h>
#include <string.h>

#include "fmt.h"
#include "tap.h"

static char out[64];

/* fmt_dec() into out, NUL-terminated here, for comparing. */
static const char *
dec(unsigned long v, size_t width, char pad)
{
	size_t n;

	memset(out, 'X', sizeof(out));
	n = fmt_dec(out, v, width, pad);
	out[n] = '\0';
	return out;
}

int
main(void)
{
	size_t n;

	CHECK(strcmp(dec(0, 0, '0'), "0") == 0, "zero is one digit");
	CHECK(strcmp(dec(7, 0, ' '), "7") == 0, "one digit, no width");
	CHECK(strcmp(dec(4242, 0, ' '), "4242") == 0, "several digits");
	CHECK(strcmp(dec(4, 3, '0'), "004") == 0, "zero-filled to 3");
	CHECK(strcmp(dec(65, 3, '0'), "065") == 0, "two digits to 3");
	CHECK(strcmp(dec(1234, 3, '0'), "1234") == 0,
	    "wider than the width: never cut");
	CHECK(strcmp(dec(4242, 10, ' '), "      4242") == 0,
	    "space-filled to 10");
	CHECK(strcmp(dec(0, 10, ' '), "         0") == 0, "zero, filled");
	CHECK(strcmp(dec(ULONG_MAX, 0, ' '), "18446744073709551615") == 0 &&
	    strlen(out) == FMT_DEC_MAX, "ULONG_MAX is FMT_DEC_MAX digits");
	memset(out, 'X', sizeof(out));
	n = fmt_dec(out, 42, 0, ' ');
	CHECK(n == 2 && out[2] == 'X', "writes no NUL");
	return TAP_DONE();
}
