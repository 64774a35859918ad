#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
/* Only strvis(3) is used, which both strnvis() flavours agree on. */
#define LIBBSD_NETBSD_VIS
#include <vis.h>

#include "exitcode.h"
#include "fmt.h"
#include "parse.h"

int
parse_duration(const char *s, bool allow_inf, struct timespec *ts,
    const char **errstr)
{
	long long sec = 0;
	long nsec = 0, scale = 100000000;
	bool digits = false;

	if (allow_inf && (strcmp(s, "inf") == 0 || strcmp(s, "infinity") == 0)) {
		ts->tv_sec = -1;
		ts->tv_nsec = 0;
		return 0;
	}
	if (*s == '-') {
		*errstr = "negative";
		return -1;
	}
	for (; FMT_DIGIT(*s); s++) {
		digits = true;
		sec = sec * 10 + (*s - '0');
		if (sec > DURATION_MAX) {
			*errstr = "too large";
			return -1;
		}
	}
	if (*s == '.')
		for (s++; FMT_DIGIT(*s); s++) {
			digits = true;
			nsec += (*s - '0') * scale;
			scale /= 10;
		}
	if (!digits || *s != '\0') {
		*errstr = "not a number of seconds";
		return -1;
	}
	if (sec == DURATION_MAX && nsec > 0) {
		*errstr = "too large";
		return -1;
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return 0;
}

void
parse_duration_arg(const char *opt, const char *s, bool allow_inf,
    struct timespec *ts)
{
	const char *errstr;

	if (parse_duration(s, allow_inf, ts, &errstr) == -1)
		errx(LK_EXIT_USAGE, "invalid %s '%s': %s", opt, parse_shown(s),
		    errstr);
}

static const struct {
	const char	*suffix;
	int		 base;
	int		 power;
} suffixes[] = {
	{ "", 1, 0 },
	{ "K", 1024, 1 }, { "KiB", 1024, 1 }, { "KB", 1000, 1 },
	{ "M", 1024, 2 }, { "MiB", 1024, 2 }, { "MB", 1000, 2 },
	{ "G", 1024, 3 }, { "GiB", 1024, 3 }, { "GB", 1000, 3 },
	{ "T", 1024, 4 }, { "TiB", 1024, 4 }, { "TB", 1000, 4 },
	{ "P", 1024, 5 }, { "PiB", 1024, 5 }, { "PB", 1000, 5 },
	{ "E", 1024, 6 }, { "EiB", 1024, 6 }, { "EB", 1000, 6 },
};

int
parse_size(const char *s, bool allow_negative, off_t *out,
    const char **errstr)
{
	int64_t v = 0, mul = 1;
	bool neg = false, digits = false;
	size_t i;
	int p;

	if (*s == '-') {
		if (!allow_negative) {
			*errstr = "negative";
			return -1;
		}
		neg = true;
		s++;
	}
	for (; FMT_DIGIT(*s); s++) {
		digits = true;
		if (v > (INT64_MAX - (*s - '0')) / 10) {
			*errstr = "too large";
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	if (!digits) {
		*errstr = "not a number";
		return -1;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strcmp(s, suffixes[i].suffix) == 0)
			break;
	if (i == sizeof(suffixes) / sizeof(suffixes[0])) {
		*errstr = "unknown suffix (K, KiB, KB, M ... E)";
		return -1;
	}
	for (p = 0; p < suffixes[i].power; p++)
		mul *= suffixes[i].base;
	if (v > INT64_MAX / mul) {
		*errstr = "too large";
		return -1;
	}
	v *= mul;
	*out = (off_t)(neg ? -v : v);
	return 0;
}

long long
parse_number(const char *s, long long min, long long max,
    const char **errstr)
{
	if (!FMT_DIGIT(*s == '-' ? s[1] : *s)) {
		*errstr = "invalid";
		return 0;
	}
	return strtonum(s, min, max, errstr);
}

int
parse_exit_status(const char *s, const char **errstr)
{
	int v;

	*errstr = NULL;
	v = (int)parse_number(s, 0, 255, errstr);
	return *errstr != NULL ? -1 : v;
}

int
parse_exit_status_arg(const char *s)
{
	const char *errstr;
	int v;

	if ((v = parse_exit_status(s, &errstr)) == -1)
		errx(LK_EXIT_USAGE, "invalid conflict exit code '%s': expected "
		    "0 to 255", parse_shown(s));
	return v;
}

int
parse_lock_name(const char *s, const char **errstr)
{
	const char *p;

	if (*s == '\0' || strlen(s) > LOCK_NAME_MAX) {
		*errstr = "must be 1 to 80 characters";
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p)) {
			*errstr = "must be printable, without spaces";
			return -1;
		}
	return 0;
}

const char *
parse_shown(const char *s)
{
	/* strvis(3) writes at most 4 bytes for each one. */
	static char in[PARSE_SHOWN_MAX + 1], out[4 * PARSE_SHOWN_MAX + 4];
	size_t n = strnlen(s, PARSE_SHOWN_MAX + 1);

	if (n > PARSE_SHOWN_MAX)
		n = PARSE_SHOWN_MAX;
	memcpy(in, s, n);
	in[n] = '\0';
	strvis(out, in, VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL);
	if (s[n] != '\0')
		memcpy(out + strlen(out), "...", 4);
	return out;
}
