/*
 * Finding who holds a lock on a file: /proc/locks names every lock by
 * device and inode; POSIX locks carry their owner's pid there, while flock
 * and OFD locks belong to an open file description, whose holders are the
 * processes that have it open with a "lock:" line in /proc/PID/fdinfo.
 */
#ifndef LOCKKIT_HOLDER_H
#define LOCKKIT_HOLDER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lock_kind { LOCK_KIND_FLOCK, LOCK_KIND_OFD, LOCK_KIND_POSIX };

struct holder {
	pid_t		pid;		/* 0 if unknown */
	char		comm[32];	/* "?" if unknown */
	enum lock_kind	kind;
	bool		exclusive;
	off_t		start;
	off_t		end;		/* inclusive; -1 for end of file */
};

/*
 * Fill h[0..max) with the holders of locks on (dev, ino) that conflict with
 * a request of the given kind (flock conflicts with flock; OFD and POSIX
 * with each other), mode and inclusive byte range [start, end] (end -1: to
 * end of file).  Returns how many were found (at most max), or -1 with
 * errno set if /proc/locks cannot be read.  Never takes a lock.
 */
int	holder_find(dev_t, ino_t, enum lock_kind, bool exclusive, off_t start,
	    off_t end, struct holder *h, size_t max);

/* The process name of pid from /proc/PID/comm, or "?", made printable. */
void	holder_comm(pid_t, char *, size_t);

/* "flock", "ofd" or "posix". */
const char *lock_kind_name(enum lock_kind);

/* One line: "PID COMM KIND shared|exclusive START-END|EOF". */
void	holder_print(FILE *, const struct holder *);

/*
 * The first process with a descriptor for socket inode ino (found through
 * /proc/PID/fd links "socket:[ino]"), or 0 if none is visible.
 */
pid_t	holder_of_socket(unsigned long ino);

#endif
