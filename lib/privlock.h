/*
 * Private named locks: flock(2) on a file in a directory that only its
 * owner can create names in, so that no other user (root aside) can take
 * or hold the lock first.  The directory is opened without following a
 * symbolic link and refused unless it is owned by the effective uid and
 * not writable by group or others.  The lock belongs to the open file:
 * kept across exec, it dies with the last process holding it, and a
 * crashed holder leaves only an unlocked file, which the next taker locks
 * as it is (no takeover step, so no takeover race).
 */
#ifndef LOCKKIT_PRIVLOCK_H
#define LOCKKIT_PRIVLOCK_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "deadline.h"

struct privlock {
	char	path[PATH_MAX];	/* DIR/FILE, for messages */
	char	file[256];	/* the name within the directory */
	int	dirfd;		/* the checked directory, or -1 */
	int	fd;		/* the lock file, or -1 */
};

/*
 * The directory private names live in by default: /run/solo for uid 0
 * (/run is root's and cleared at boot), else $XDG_RUNTIME_DIR/solo (the
 * user's own 0700 directory under /run/user).  Written into buf; returns
 * buf, or NULL if uid is not 0 and XDG_RUNTIME_DIR is unset, empty or not
 * absolute, or the result does not fit.
 */
const char *privlock_default_dir(uid_t, char *buf, size_t len);

/*
 * Set up the lock for name (1 to 80 printable characters, no spaces; the
 * file name escapes '/', '%' and a leading '.' as %2F, %25 and %2E) in
 * dir, making dir's last component (mode 0700) if it is missing and
 * create is true; if anything is missing and create is false, returns 0
 * with pl->dirfd -1, which privlock_held() and privlock_holder() take as
 * free.  Empty and "." components of dir are dropped (so that a trailing
 * "/" or "/." cannot make a symbolic link be followed), a ".." one is
 * refused; a relative dir is taken below getcwd(3).  Every component,
 * from "/" down, is opened with O_NOFOLLOW below the one above and
 * checked with fstat(2), so what is checked is what is used: each
 * ancestor must be owned by root or the effective uid and not writable
 * by group or others unless it is a root-owned sticky directory; dir
 * itself must be the effective uid's and not writable by group or others.
 * Returns 0 with pl->path "DIR/FILE"; or -1 with *why set to the reason
 * and pl->path to the object at fault, for "PATH: REASON": errno EINVAL
 * for a bad name (*why then fits "invalid name 'NAME': %s", and pl->path
 * is dir), EPERM for a refusal, or as mkdir(2), open(2) and getcwd(3)
 * set it.
 */
int	privlock_init(struct privlock *, const char *dir, const char *name,
	    bool create, const char **why);

/*
 * Open (creating, mode 0600) the lock file without following a symbolic
 * link or blocking on a fifo, and refuse anything but a regular file of
 * the effective uid's with no permission for group or others, which
 * could open it and so flock it (EPERM, *why set).  Returns 0 with pl->fd open
 * close-on-exec, or -1 with errno and *why set.
 */
int	privlock_open(struct privlock *, const char **why);

/* Take the lock without waiting: 0, 1 if held, -1 with errno set. */
int	privlock_try(struct privlock *);

/*
 * Take the lock, waiting in a blocking flock(2) until the deadline, which
 * deadline_alarm_arm() enforces (no polling).  Returns 0, 1 on timeout,
 * -1 with errno set.  SIGALRM's action is the caller's again on return.
 */
int	privlock_wait(struct privlock *, const struct deadline *);

/*
 * Without taking the lock or creating the file: 1 if it is held now, 0
 * if free or the file is missing, -1 with errno and *why set (a file
 * privlock_open() would refuse, EPERM, with its reason).  From
 * /proc/locks.
 */
int	privlock_held(struct privlock *, const char **why);

/*
 * The pid of a holder (0 if none is found), its command name and its real
 * uid (HOLDER_UID_UNKNOWN if not found), from /proc/locks and /proc/PID.
 */
pid_t	privlock_holder(struct privlock *, char *comm, size_t, uid_t *uid);

#endif
