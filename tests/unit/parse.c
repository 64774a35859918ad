/* Unit tests for lib/parse.c and lib/exitcode.c. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "exitcode.h"
#include "parse.h"
#include "tap.h"

/* The reasons users read after "invalid timeout 'x': ". */
#define NOSECS		"not a number of seconds"
#define NOSUFFIX	"unknown suffix (K, KiB, KB, M ... E)"

static bool
dur(const char *s, bool inf, long long sec, long nsec)
{
	struct timespec ts;
	const char *e = NULL;

	return parse_duration(s, inf, &ts, &e) == 0 && ts.tv_sec == sec &&
	    ts.tv_nsec == nsec;
}

static bool
dur_bad(const char *s, bool inf, const char *why)
{
	struct timespec ts;
	const char *e = NULL;

	return parse_duration(s, inf, &ts, &e) == -1 && strcmp(e, why) == 0;
}

static bool
size(const char *s, bool neg, long long want)
{
	off_t v;
	const char *e = NULL;

	return parse_size(s, neg, &v, &e) == 0 && v == want;
}

static bool
size_bad(const char *s, bool neg, const char *why)
{
	off_t v;
	const char *e = NULL;

	return parse_size(s, neg, &v, &e) == -1 && strcmp(e, why) == 0;
}

static bool
number(const char *s, long long min, long long want)
{
	const char *e = NULL;

	return parse_number(s, min, 65535, &e) == want && e == NULL;
}

static bool
number_bad(const char *s, long long min, const char *why)
{
	const char *e = NULL;

	(void)parse_number(s, min, 65535, &e);
	return e != NULL && strcmp(e, why) == 0;
}

int
main(void)
{
	CHECK(dur("10", false, 10, 0), "duration: whole seconds");
	CHECK(dur("0.25", false, 0, 250000000), "duration: fraction");
	CHECK(dur(".5", false, 0, 500000000), "duration: leading dot");
	CHECK(dur("3.", false, 3, 0), "duration: trailing dot");
	CHECK(dur("1.0000000019", false, 1, 1),
	    "duration: digits past nanoseconds dropped");
	CHECK(dur("0", false, 0, 0), "duration: zero");
	CHECK(dur("inf", true, -1, 0), "duration: inf when allowed");
	CHECK(dur("infinity", true, -1, 0), "duration: infinity when allowed");
	CHECK(dur_bad("inf", false, NOSECS), "duration: inf refused");
	CHECK(dur_bad("-1", false, "negative"), "duration: negative");
	CHECK(dur_bad("", false, NOSECS), "duration: empty");
	CHECK(dur_bad(".", false, NOSECS), "duration: lone dot");
	CHECK(dur_bad("nan", true, NOSECS), "duration: nan");
	CHECK(dur_bad("1e3", false, NOSECS), "duration: exponent");
	CHECK(dur_bad("0x10", false, NOSECS), "duration: hex");
	CHECK(dur_bad("5s", false, NOSECS), "duration: trailing junk");
	CHECK(dur_bad(" 5", false, NOSECS), "duration: leading space");
	CHECK(dur_bad("100000001", false, "too large"), "duration: too large");
	CHECK(dur_bad("100000000.5", false, "too large"),
	    "duration: just over the maximum");
	CHECK(dur_bad("99999999999999999999999", false, "too large"),
	    "duration: huge, no overflow");

	CHECK(size("0", false, 0), "size: zero");
	CHECK(size("4096", false, 4096), "size: plain");
	CHECK(size("4K", false, 4096), "size: K");
	CHECK(size("4KiB", false, 4096), "size: KiB");
	CHECK(size("4KB", false, 4000), "size: KB is decimal");
	CHECK(size("1M", false, 1048576), "size: M");
	CHECK(size("2GiB", false, 2147483648LL), "size: GiB");
	CHECK(size("1T", false, 1099511627776LL), "size: T");
	CHECK(size("7E", false, 7LL << 60), "size: E");
	CHECK(size("-10", true, -10), "size: negative when allowed");
	CHECK(size("-1K", true, -1024), "size: negative with suffix");
	CHECK(size_bad("-10", false, "negative"), "size: negative refused");
	CHECK(size_bad("8E", false, "too large"), "size: 8E overflows");
	CHECK(size_bad("9223372036854775808", false, "too large"),
	    "size: past INT64_MAX");
	CHECK(size_bad("1X", false, NOSUFFIX), "size: unknown suffix");
	CHECK(size_bad("K", false, "not a number"), "size: suffix alone");
	CHECK(size_bad("", false, "not a number"), "size: empty");
	CHECK(size_bad("1.5K", false, NOSUFFIX), "size: fraction");

	{
		const char *e;

		CHECK(parse_exit_status("0", &e) == 0 && e == NULL,
		    "exit status: 0");
		CHECK(parse_exit_status("255", &e) == 255, "exit status: 255");
		CHECK(parse_exit_status("256", &e) == -1 && e != NULL,
		    "exit status: 256 refused");
		CHECK(parse_exit_status("-1", &e) == -1 && e != NULL,
		    "exit status: -1 refused");
		CHECK(parse_exit_status("x", &e) == -1 && e != NULL,
		    "exit status: junk refused");
		CHECK(parse_exit_status(" 3", &e) == -1 && e != NULL,
		    "exit status: leading blank refused");
	}
	CHECK(number("80", 1, 80), "number: 80");
	CHECK(number("007", 1, 7), "number: leading zeros are decimal");
	CHECK(number("-3", -5, -3), "number: negative where allowed");
	CHECK(number_bad("-3", 0, "too small"),
	    "number: negative where not, too small");
	CHECK(number_bad(" 80", 1, "invalid"), "number: leading blank invalid");
	CHECK(number_bad("+5", 1, "invalid"), "number: plus sign invalid");
	CHECK(number_bad("-", -5, "invalid"), "number: a lone minus invalid");
	CHECK(number_bad("", 0, "invalid"), "number: empty invalid");
	CHECK(number_bad("8x", 0, "invalid"), "number: trailing junk invalid");
	CHECK(number_bad("65536", 1, "too large"), "number: too large");
	CHECK(exit_for_open(EACCES) == 66, "exit: open EACCES is 66");
	CHECK(exit_for_open(EROFS) == 73, "exit: open EROFS is 73");
	CHECK(exit_for_open(ENOSPC) == 73, "exit: open ENOSPC is 73");
	CHECK(exit_for_open(EMFILE) == 71, "exit: open EMFILE is 71");
	CHECK(exit_for_lock(EBADF) == 65, "exit: lock EBADF is 65");
	CHECK(exit_for_lock(ENOLCK) == 71, "exit: lock ENOLCK is 71");
	CHECK(exit_for_exec(ENOENT) == 69, "exit: exec ENOENT is 69");
	CHECK(exit_for_wait(3 << 8) == 3, "exit: status passed through");
	CHECK(exit_for_wait(SIGKILL) == 137, "exit: signal is 128+N");
	CHECK(exit_for_lockdev(EACCES) == 2, "exit: lockdev EACCES is 2");
	CHECK(exit_for_lockdev(EPERM) == 12, "exit: lockdev EPERM is 12");
	CHECK(exit_for_lockdev(EBUSY) == 255, "exit: lockdev other is 255");
	return TAP_DONE();
}
