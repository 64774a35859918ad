/*
 * The owner recorded in a UUCP-style lock file, in any format programs
 * write: HDB ASCII ("%10d\n", or any width and padding, optionally
 * followed by a node name), or a 4- or 2-byte binary pid (old UUCP).
 */
#ifndef LOCKKIT_LCKFILE_H
#define LOCKKIT_LCKFILE_H

#include <sys/types.h>

#include <stddef.h>

#include "fmt.h"

#define LCKFILE_READ_MAX	64	/* bytes of a lock file ever read */

/*
 * The pid in buf[0..len): > 0 for a pid, 0 if the content is empty, -1 if
 * it is garbage (no pid that any writer would produce).
 */
pid_t	lckfile_parse(const unsigned char *buf, size_t len);

/* Room for what lckfile_format() writes, with its NUL. */
#define LCKFILE_FORMAT_MAX	(FMT_DEC_MAX + 2)

/*
 * The lock file content we write for pid (> 0): HDB format, "%10d\n",
 * NUL-terminated; returns its length.
 */
int	lckfile_format(char buf[LCKFILE_FORMAT_MAX], pid_t);

#endif
