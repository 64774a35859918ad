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

/* A holder's uid when no process or owner could be found. */
#define HOLDER_UID_UNKNOWN	((uid_t)-1)

struct holder {
	pid_t		pid;		/* 0 if unknown */
	char		comm[32];	/* "?" if unknown */
	uid_t		uid;		/* real uid, or HOLDER_UID_UNKNOWN */
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

/*
 * Make s fit to print on a terminal, in place: every byte that is not
 * printable in the C locale (isprint: control characters, ESC, bytes past
 * ASCII) becomes '?', and so do blanks unless blanks is true.  What a
 * holder tells about itself (a process name, a record in etcd) is
 * anyone's text: it must not forge lines or move the cursor.
 */
void	holder_printable(char *s, bool blanks);

/*
 * The real uid of process pid: the first field of the "Uid:" line of
 * /proc/PID/status, which every user may read.  Returns it, or
 * HOLDER_UID_UNKNOWN if pid is not above 0, has gone or cannot be read.
 */
uid_t	holder_uid(pid_t);

/*
 * What a message adds after naming a holder whose uid is not the
 * caller's real uid (getuid()): " of another user (uid N)" in buf (room
 * for 40 bytes is enough); " of unknown owner" for HOLDER_UID_UNKNOWN,
 * never to pass for one's own; "" for the caller's own holder, so that
 * those messages read as they always have.  Returns the text, buf or a
 * constant.
 */
const char *holder_whose(uid_t, char *buf, size_t len);

/* "flock", "ofd" or "posix". */
const char *lock_kind_name(enum lock_kind);

/*
 * One line: "PID COMM KIND shared|exclusive START-END|EOF", and
 * holder_whose()'s words after it for another user's holder.
 */
void	holder_print(FILE *, const struct holder *);

/*
 * The first process with a descriptor for socket inode ino (found through
 * /proc/PID/fd links "socket:[ino]"), or 0 if none is visible.
 */
pid_t	holder_of_socket(unsigned long ino);

/*
 * Every process with a descriptor for socket inode ino, as
 * holder_of_socket() finds them: up to max pids stored in pids, their
 * count returned (0 if none is visible).
 */
size_t	holder_socket_pids(unsigned long ino, pid_t *pids, size_t max);

/* Whether pid has a descriptor for socket inode ino now. */
bool	holder_has_socket(pid_t, unsigned long ino);

#endif
