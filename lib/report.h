/*
 * The lock holders a tool reports with --json: one JSON document,
 * {"holders": [HOLDER, ...]}, the shape of util-linux lslocks --json's
 * {"locks": [...]}, with its field names and types where they overlap
 * (command, pid, start, path).  Each tool's man page documents the fields
 * it writes.  Built with json-c, which only this file calls, and which it
 * loads with dlopen(3) when the first report is made: no tool loads it
 * unless asked for JSON.
 */
#ifndef LOCKKIT_REPORT_H
#define LOCKKIT_REPORT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "holder.h"

enum report_mode { REPORT_MODE_NONE, REPORT_SHARED, REPORT_EXCLUSIVE };
enum report_stale { REPORT_STALE_NONE, REPORT_LIVE, REPORT_STALE };

/*
 * One holder.  Fields left at their zero value are left out of the
 * document, except pid, command and uid, which every holder has: those
 * are null when unknown (pid 0, command NULL, has_uid false).
 */
struct report_entry {
	const char		*kind;		/* "flock", "tcp", "uucp" ... */
	pid_t			 pid;
	const char		*command;
	bool			 has_uid;
	uid_t			 uid;
	enum report_mode	 mode;
	bool			 has_range;
	off_t			 start;
	off_t			 length;	/* 0: to the end of the file */
	const char		*path;		/* the locked file */
	const char		*address;	/* a socket's */
	const char		*device;	/* a device lock's */
	const char		*lockfile;	/* where a device lock is kept */
	time_t			 since;		/* 0: unknown; in seconds */
	enum report_stale	 stale;
};

struct report;

/*
 * An empty list of holders; one at a time (it is static).  Loads json-c (JSON_C_SONAME in report.c) on
 * first use.  Returns NULL with *why set to the reason (the loader's
 * message, or "out of memory") if json-c cannot be loaded or there is no
 * memory.
 */
struct report *report_new(const char **why);

/*
 * Append a copy of e.  Strings (at most PATH_MAX bytes) are copied, each made valid UTF-8 as JSON
 * needs: every byte that does not start a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, surrogates or code points above U+10FFFF) becomes
 * U+FFFD, the rest is kept as it is.  A failure (ENOMEM) is remembered
 * and returned by report_print().
 */
void	report_add(struct report *, const struct report_entry *e);

/*
 * The entry for a file lock's holder h on path (NULL: a descriptor, whose
 * path is left out).  The entry points into h and path.
 */
void	report_holder(struct report_entry *, const struct holder *h,
	    const char *path);

/*
 * Write the document to fp, pretty-printed, ending with a newline, flush
 * fp, and free the report's JSON.  Returns 0, or -1 with errno set if a
 * report_add() failed or the write did.
 */
int	report_print(struct report *, FILE *fp);

#endif
