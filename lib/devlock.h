/*
 * UUCP/FHS device lock files, as cu, minicom, pppd, Kermit and liblockdev
 * use them: "LCK..NAME" and the SVr4 "LCK.MMM.mmm", two hard links of one
 * file in the lock directory holding the owner's pid in HDB format.
 *
 * Every file operation is relative to the lock directory's descriptor and
 * every name is a single component, so nothing is ever written outside it.
 */
#ifndef LOCKKIT_DEVLOCK_H
#define LOCKKIT_DEVLOCK_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>

#include "deadline.h"

#define DEVLOCK_MAXNAMES	12
#define DEVLOCK_GRACE		5	/* seconds an empty lock file is held */

struct devlock {
	int	 dirfd;			/* the lock directory */
	char	 dev[PATH_MAX];		/* device path, symlinks resolved */
	dev_t	 rdev;
	/* names[0] is LCK..NAME, names[1] LCK.MMM.mmm: the ones we write */
	char	 names[DEVLOCK_MAXNAMES][NAME_MAX + 1];
	int	 nnames;
	bool	 debug;			/* say what is read, on stderr */
	bool	 waiting;		/* in devlock_wait: zombies are stale */
};

/* Lock result, besides -1 with errno set. */
enum { DEVLOCK_OK = 0, DEVLOCK_HELD = 1 };

/*
 * Open the lock directory and work out the names for device.  The device
 * must exist and be a character device (ENOENT, ENOTDIR, EINVAL ...); a
 * lock directory writable by others without the sticky bit is refused
 * (EPERM).  Returns 0, or -1 with errno set and *failed pointing at the
 * object at fault (device or lockdir).
 */
int	devlock_init(struct devlock *, const char *lockdir, const char *device,
	    const char **failed);
void	devlock_close(struct devlock *);

/*
 * Who holds the device: a live pid, 0 if free (stale and garbage files
 * do not count), or -1 if held by a file still being written (empty and
 * younger than DEVLOCK_GRACE seconds).  Reads every name other programs
 * use; writes nothing.
 */
pid_t	devlock_owner(const struct devlock *);

/*
 * Lock for pid.  Returns DEVLOCK_OK (also when pid already holds it),
 * DEVLOCK_HELD with *owner set, or -1 with errno.  Stale locks are taken
 * over so that of any number of concurrent lockers exactly one wins.
 */
int	devlock_lock(struct devlock *, pid_t pid, pid_t *owner);

/* devlock_lock, waiting until the deadline for the holder to go. */
int	devlock_wait(struct devlock *, pid_t pid, const struct deadline *,
	    pid_t *owner);

/*
 * Hand the lock from pid to newpid, rewriting both names by rename so the
 * device never looks free.  A free or stale device is simply locked for
 * newpid.  DEVLOCK_HELD (*owner set) if someone else holds it.
 */
int	devlock_relock(struct devlock *, pid_t pid, pid_t newpid,
	    pid_t *owner);

/*
 * Remove both names if their owner is pid or dead, or if force.
 * DEVLOCK_HELD (*owner set) if a live other process owns them.
 */
int	devlock_unlock(struct devlock *, pid_t pid, bool force, pid_t *owner);

#endif
