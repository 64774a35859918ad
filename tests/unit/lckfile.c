/* Unit tests for lib/lckfile.c: every owner format, and the binary/ASCII line. */
#include <stdint.h>
#include <string.h>

#include "lckfile.h"
#include "tap.h"

static pid_t
str(const char *s)
{
	return lckfile_parse((const unsigned char *)s, strlen(s));
}

static pid_t
bin32(int32_t v)
{
	unsigned char b[sizeof(v)];

	memcpy(b, &v, sizeof(v));
	return lckfile_parse(b, sizeof(b));
}

static pid_t
bin16(int16_t v)
{
	unsigned char b[sizeof(v)];

	memcpy(b, &v, sizeof(v));
	return lckfile_parse(b, sizeof(b));
}

int
main(void)
{
	char buf[LCKFILE_FORMAT_MAX];
	int n;

	CHECK(str("") == 0, "empty: no owner yet");
	CHECK(str("      4242\n") == 4242, "HDB %10d\\n");
	CHECK(str("4242") == 4242 && str("4242\n") == 4242,
	    "bare digits, with and without newline");
	CHECK(str("\t  4242 uucp.example\n") == 4242, "pid then node name");
	CHECK(str("00000000000000004242") == 4242, "zero padded, 20 wide");
	CHECK(lckfile_parse((const unsigned char *)"4242\0\0\0\0\0\0", 10) ==
	    4242, "NUL-padded ASCII");
	CHECK(str("123\n") == 123, "4-byte ASCII with newline");
	CHECK(str("1234") == 1234, "4-byte ASCII without newline");
	CHECK(str("12") == 12 && str("7\n") == 7, "2-byte ASCII");

	CHECK(bin32(4242) == 4242, "4-byte binary pid");
	/* 12576 is " 1\0\0": once misread as ASCII pid 1. */
	CHECK(bin32(12576) == 12576, "4-byte binary that starts like ASCII");
	CHECK(bin32(1 << 22) == 1 << 22, "4-byte binary at the pid ceiling");
	CHECK(bin32(0) == -1 && bin32(-5) == -1, "4-byte zero or negative");
	CHECK(bin16(4242) == 4242, "2-byte binary pid");
	CHECK(bin16(12576) == 12576, "2-byte binary that starts like ASCII");
	CHECK(bin16(0) == -1 && bin16(-5) == -1, "2-byte zero or negative");

	CHECK(str("garbage\n") == -1 && str("-42\n") == -1 &&
	    str("0\n") == -1 && str("      0\n") == -1, "garbage and pid 0");
	CHECK(str("99999999999\n") == -1, "beyond an int");
	CHECK(str("42x\n") == -1, "digits run into letters");

	n = lckfile_format(buf, 4242);
	CHECK(n == 11 && strcmp(buf, "      4242\n") == 0, "we write HDB");
	CHECK(lckfile_parse((const unsigned char *)buf, (size_t)n) == 4242,
	    "what we write reads back");
	n = lckfile_format(buf, 1);
	CHECK(n == 11 && strcmp(buf, "         1\n") == 0, "pid 1, padded");
	n = lckfile_format(buf, 2147483647);
	CHECK(n == 11 && strcmp(buf, "2147483647\n") == 0,
	    "the widest int fills the field");
	return TAP_DONE();
}
