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
#include <stddef.h>
#include <time.h>

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
	/*
	 * After DEVLOCK_HELD: the name whose removal another process's
	 * flock blocks ("." for the directory's), *owner that process's
	 * pid or -1; "" when held by a lock file's owner.
	 */
	char	 busy[NAME_MAX + 1];
	/*
	 * After -1 with EPERM from removing a stale lock file
	 * (another user's, in a sticky directory): its name, owner and
	 * that errno; "" otherwise.
	 */
	char	 stale[NAME_MAX + 1];
	uid_t	 stale_uid;
	int	 stale_errno;
	/* devlock_wait()'s inotify instance, no longer watching, or -1 */
	int	 ifd;
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

/*
 * Close the lock directory and what devlock_wait() kept open (its
 * inotify instance).  Locks are left as they are.
 */
void	devlock_close(struct devlock *);

/*
 * Who holds the device: a live pid, 0 if free (stale and garbage files
 * do not count), or -1 if held by a file still being written (empty and
 * younger than DEVLOCK_GRACE seconds).  Reads every name other programs
 * use; writes nothing.
 */
pid_t	devlock_owner(const struct devlock *);

/*
 * Open only the lock directory, for devlock_list() and devlock_file(), with
 * devlock_init()'s check.  Returns 0, or -1 with errno set.
 */
int	devlock_open_dir(struct devlock *, const char *lockdir);

/* One lock file, as devlock_file() reads it. */
struct devlock_file {
	char	name[NAME_MAX + 1];
	bool	stale;		/* by the rule devlock_owner() applies */
	pid_t	pid;		/* in it: 0 if empty, -1 if garbage */
	uid_t	uid;		/* the file's owner */
	time_t	mtime;		/* when it was written; 0 if unreadable */
	ino_t	ino;		/* 0 if unreadable */
};

/*
 * Read lock file name in the lock directory into *f, judging staleness as
 * devlock_owner() does (a file being written, empty and recent, is not
 * stale).  Returns 0, or -1 with errno ENOENT if there is no such file.
 * Writes nothing.
 */
int	devlock_file(const struct devlock *, const char *name,
	    struct devlock_file *f);

/*
 * Call fn(file, arg) for every lock file (LCK.* and LK.*) in the lock
 * directory, in directory order; a file that is also linked as LCK..NAME
 * (as lockers link LCK.MMM.mmm) only under that name.  Returns 0, or -1
 * with errno set if the directory cannot be read.  Writes and removes
 * nothing.
 */
int	devlock_list(const struct devlock *,
	    void (*fn)(const struct devlock_file *, void *), void *arg);

/*
 * The device lock file name stands for, into buf: for LCK..NAME the first
 * of /dev/NAME, and NAME with '_' then ':' read as '/', that is a
 * character device, else /dev/NAME; for the SVr4 names the device
 * /sys/dev/char knows by that major and minor number, else "".
 */
void	devlock_device(const char *name, char *buf, size_t len);

/*
 * The owner uid of the first lock file (of any name) naming pid, for
 * saying who wrote it: a pid in a file proves nothing, as anyone who can
 * write the lock directory can name any process.  (uid_t)-1 if none.
 */
uid_t	devlock_file_uid(const struct devlock *, pid_t pid);

/*
 * Lock for pid.  Returns DEVLOCK_OK (also when pid already holds it),
 * DEVLOCK_HELD with *owner set (and busy, see above), or -1 with errno
 * (EACCES: a lock file we cannot read is in the way; EPERM with stale
 * set: a stale one we may not remove).  Never waits for
 * another process's lock.  Stale locks are taken
 * over so that of any number of concurrent lockers exactly one wins.
 */
int	devlock_lock(struct devlock *, pid_t pid, pid_t *owner);

/*
 * Has pid ended, reaped or not (a zombie, whose lock is stale)?  EPERM
 * from kill(2) means it lives, as another user's.
 */
bool	devlock_exited(pid_t pid);

/*
 * devlock_lock, waiting until the deadline for the holder to go: in the
 * waiters' queue on the device node, trying at random moments 0.5 to 1 s
 * apart until at its head, then watching the lock files.  A
 * stale file we may not remove (stale set) is waited for too, as its
 * owner's lockdev removes it in a moment; at the deadline it gives
 * DEVLOCK_HELD with stale still set and *owner 0.  The
 * inotify instance it waited with is kept, watching nothing, until
 * devlock_close() (or exit): closing one waits for the kernel (see
 * unwatch_dir()), and that wait must not delay what the caller does with
 * the lock.
 */
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
 * DEVLOCK_HELD (*owner set) if a live other process owns them, or
 * another process's flock keeps us from removing them (busy).
 */
int	devlock_unlock(struct devlock *, pid_t pid, bool force, pid_t *owner);

#endif
