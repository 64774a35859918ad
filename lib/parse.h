/*
 * Parsers for the numbers users type: durations in seconds and byte sizes.
 * Each returns 0 on success; on failure it returns -1 and points *errstr at
 * a short reason ("not a number", "too large", "negative" ...) fit for
 * "flockrun: invalid timeout '%s': %s".
 */
#ifndef LOCKKIT_PARSE_H
#define LOCKKIT_PARSE_H

#include <sys/types.h>

#include <stdbool.h>
#include <time.h>

#define DURATION_MAX	100000000	/* seconds; a bit over three years */

/*
 * Decimal seconds with an optional fraction ("10", "0.25", ".5"); with
 * allow_inf also "inf" or "infinity", stored as tv_sec = -1.  No sign,
 * exponent, hex or NaN; digits past nanoseconds are dropped.
 */
int	parse_duration(const char *, bool allow_inf, struct timespec *,
	    const char **errstr);

/*
 * parse_duration() of the argument s of option opt, for a tool's option
 * parser: on failure it exits LK_EXIT_USAGE after printing
 * "invalid OPT 'S': REASON".
 */
void	parse_duration_arg(const char *opt, const char *s, bool allow_inf,
	    struct timespec *);

/*
 * A byte count with an optional suffix: K, M, G, T, P, E or KiB, MiB ...
 * for powers of 1024, KB, MB ... for powers of 1000.  A leading '-' is
 * accepted only with allow_negative.
 */
int	parse_size(const char *, bool allow_negative, off_t *,
	    const char **errstr);

/*
 * strtonum(3) for what users type: decimal digits only, after an
 * optional '-' (out of range if min is not negative, as in strtonum).
 * strtonum itself, through strtoll, also takes leading blanks and a '+',
 * so " 80" or "+5" would pass; here they are "invalid", as anything else
 * that is not a number.
 */
long long	parse_number(const char *, long long min, long long max,
		    const char **errstr);

/* An exit status for -E: 0 to 255; -1 with *errstr set otherwise. */
int	parse_exit_status(const char *, const char **errstr);

/*
 * parse_exit_status() of s, the argument of -E (--conflict-exit-code),
 * for a tool's option parser.  Returns the status, 0 to 255; anything
 * else (a sign, a blank, a value past 255, not a number) exits
 * LK_EXIT_USAGE after printing "invalid conflict exit code 'S': expected
 * 0 to 255" (S as parse_shown() shows it).
 */
int	parse_exit_status_arg(const char *s);

#define LOCK_NAME_MAX	80

/*
 * A lock's name (solo -U): 1 to LOCK_NAME_MAX printable characters
 * without spaces.  Returns 0, or -1 with *errstr set.
 */
int	parse_lock_name(const char *, const char **errstr);

#define PARSE_SHOWN_MAX	200	/* bytes of input shown; "..." after */

/*
 * What the user typed, fit to quote in a one-line message: control
 * characters, backslashes and bytes that are not ASCII written as C
 * escapes or \ooo, as vis(3) (VIS_CSTYLE | VIS_OCTAL) does, and cut at
 * PARSE_SHOWN_MAX bytes.  In a static buffer, which the next call
 * overwrites: one per message.
 */
const char	*parse_shown(const char *s);

#endif
