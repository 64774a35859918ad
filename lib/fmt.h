/*
 * Decimal numbers written into names without stdio, and read without
 * <ctype.h>.  snprintf() brings in vfprintf, whose code and tables cost a
 * short-lived tool four page faults and about 180 KiB of resident memory
 * at every run (lockdev -l).
 */
#ifndef LOCKKIT_FMT_H
#define LOCKKIT_FMT_H

#include <stddef.h>

/*
 * An ASCII decimal digit, for the parsers.  Not isdigit(): its locale
 * table costs a page fault per run, and only ASCII digits count here.
 */
#define FMT_DIGIT(c)	((c) >= '0' && (c) <= '9')

/* Longest fmt_dec() output with width 0: the digits of ULONG_MAX. */
#define FMT_DEC_MAX	20

/*
 * Writes v in decimal at s, right-aligned in at least width characters,
 * filled on the left with pad, and returns the number of characters
 * written.  Writes no NUL; s must have room for max(width, FMT_DEC_MAX).
 */
size_t	fmt_dec(char *s, unsigned long v, size_t width, char pad);

#endif
