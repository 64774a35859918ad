/*
 * Locks on files and directories: flock(2), Linux OFD locks and POSIX
 * record locks, on one file or on several taken in a fixed global order.
 */
#ifndef LOCKKIT_FILELOCK_H
#define LOCKKIT_FILELOCK_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "deadline.h"
#include "holder.h"

struct lockreq {
	enum lock_kind	kind;
	bool		shared;
	off_t		start;		/* fcntl only */
	off_t		len;		/* fcntl only: 0 to EOF, < 0 before start */
};

struct filelock {
	const char	*path;		/* NULL when given a descriptor */
	int		 fd;
	int		 oflags;	/* how fd was opened */
	bool		 known;		/* dev, ino and mode are fd's */
	dev_t		 dev;
	ino_t		 ino;
	mode_t		 mode;
	bool		 locked;
	bool		 alias;		/* same inode as an earlier entry */
	bool		 busy;		/* where a conflict or timeout stopped */
};

/* Result of filelock_acquire() other than 0. */
enum { FL_CONFLICT = -1, FL_TIMEOUT = -2, FL_ERROR = -3 };

/*
 * Open path for locking as flock(1) does: read-only, created 0666 (less
 * umask) if missing, directories too; read-write when an exclusive fcntl
 * lock needs write access and the file allows it.  An existing file is
 * opened without O_CREAT, which fs.protected_regular and protected_fifos
 * refuse for another user's file in a sticky directory; a missing one is
 * created with O_EXCL, again if it was created or removed meanwhile
 * (EAGAIN after 64 rounds).  On failure prints "PATH: cannot open:
 * REASON" and exits with exit_for_open().
 */
void	filelock_open(struct filelock *, const char *path,
	    const struct lockreq *);

/*
 * Use an inherited descriptor; exits LK_EXIT_LOCKFAIL, with one line
 * "fd N: cannot lock: REASON", if it is not open or is an O_PATH one.
 */
void	filelock_use_fd(struct filelock *, int fd);

/*
 * Lock fl[0..n) in order of (device, inode), so that two callers naming the
 * same files in any order never deadlock; entries naming an inode already
 * listed are marked alias and not locked twice (two flock or OFD locks on
 * one file from separate opens would conflict with each other).  Waits
 * until the deadline unless nonblock; a conflict or timeout leaves nothing
 * locked.  If verbose, names the holders on stderr, one line each, before
 * waiting and on a conflict or timeout; the entry that conflict or
 * timeout stopped at is marked busy.  Returns
 * 0, FL_CONFLICT, FL_TIMEOUT, or FL_ERROR after printing the cause (its
 * exit status is then in *status).
 */
int	filelock_acquire(struct filelock *, size_t n, const struct lockreq *,
	    const struct deadline *, bool nonblock, bool verbose, int *status);

/*
 * For --verbose: name on stderr, one line each, the holders of what the
 * request conflicts with on f, as "LABEL: held by pid N (COMM), KIND MODE"
 * (KIND and MODE as lock_kind_name() and /proc/locks give them), "held by
 * another process" where the pid is not known, followed by "; waiting" if
 * waiting: the same form before a wait as after a conflict or timeout.
 * label NULL: f's path, or "fd N".
 */
void	filelock_say_holders(struct filelock *, const struct lockreq *,
	    const char *label, bool waiting);

/* Release every lock fl[0..n) holds; the descriptors stay open. */
void	filelock_release(struct filelock *, size_t n, const struct lockreq *);

/* Unlock one descriptor (flock -u); 0 or -1 with errno. */
int	filelock_unlock(struct filelock *, const struct lockreq *);

/*
 * True if every path still names the inode its descriptor locked.  A file
 * unlinked (or replaced) by the previous holder while it held the lock
 * fails this, and the caller must release, reopen and lock again.
 */
bool	filelock_still_named(struct filelock *, size_t n);

/*
 * Reopen entries whose path no longer names their inode, for the retry
 * after filelock_still_named() failed.
 */
void	filelock_reopen(struct filelock *, size_t n, const struct lockreq *);

/*
 * Test without locking: how many holders conflict with the request on fl,
 * filling h[0..max).  POSIX conflicts come from F_GETLK, the rest from
 * /proc/locks.  Returns the count, or -1 with errno set.
 */
int	filelock_test(struct filelock *, const struct lockreq *,
	    struct holder *h, size_t max);

/*
 * Remove the files of fl[0..n) while still holding their locks (so a waiter
 * that then gets the old inode sees it unnamed and retries).  A shared
 * holder removes only if it can upgrade to exclusive at once, i.e. nobody
 * else holds the file.  Directories are left alone.
 */
void	filelock_remove(struct filelock *, size_t n, const struct lockreq *);

#endif
