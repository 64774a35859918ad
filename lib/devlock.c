#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "devlock.h"
#include "fmt.h"
#include "holder.h"
#include "lckfile.h"
#include "procstart.h"

#define NAME_OURS	0	/* LCK..NAME */
#define NAME_SVR4	1	/* LCK.MMM.mmm */
#define ROUNDS_MAX	32	/* lock attempts before giving up (EAGAIN) */

enum { ST_FREE, ST_STALE, ST_ALIVE, ST_WRITING };

struct owner {
	int	state;
	pid_t	pid;		/* the live owner's, else 0 */
	pid_t	read;		/* what the file holds: 0 empty, -1 garbage */
	uid_t	uid;		/* the file's owner, mtime and inode, */
	time_t	mtime;		/* if it was opened (for devlock_file) */
	ino_t	ino;
};

/*
 * Names and paths are built without snprintf (see fmt.h): n in decimal at
 * p, then the string after; returns the end of it all, at its NUL.
 */
static char *
put_dec(char *p, unsigned long n, const char *after)
{
	p += fmt_dec(p, n, 0, '0');
	return stpcpy(p, after);
}

/* prefix, then each number after a dot, 3 digits at least: LCK.004.065 */
static void
svr4_name(char buf[40], const char *prefix, const unsigned *num, size_t n)
{
	char *p = stpcpy(buf, prefix);
	size_t i;

	for (i = 0; i < n; i++) {
		*p++ = '.';
		p += fmt_dec(p, num[i], 3, '0');
	}
	*p = '\0';
}

static int
add_name(struct devlock *dl, const char *prefix, const char *name)
{
	char buf[NAME_MAX + 1];
	size_t plen = strlen(prefix), nlen = strlen(name);
	int i;

	if (plen + nlen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, prefix, plen);
	memcpy(buf + plen, name, nlen + 1);
	for (i = 0; i < dl->nnames; i++)
		if (strcmp(dl->names[i], buf) == 0)
			return 0;
	if (dl->nnames == DEVLOCK_MAXNAMES)
		return 0;
	memcpy(dl->names[dl->nnames++], buf, strlen(buf) + 1);
	return 0;
}

/*
 * Device path less "/dev/" (or "/"), each further '/' turned into sep.
 * A name that does not fit could never be a lock file's: ENAMETOOLONG.
 */
static int
dev_name(const char *path, char sep, char *out, size_t len)
{
	size_t i;

	if (strncmp(path, "/dev/", 5) == 0)
		path += 5;
	while (*path == '/')
		path++;
	for (i = 0; i + 1 < len && path[i] != '\0'; i++) {
		out[i] = path[i];
		if (out[i] == '/')
			out[i] = sep;
	}
	out[i] = '\0';
	if (path[i] != '\0') {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * The names other programs lock the device under, from the path they were
 * given.  A name longer than a file name can be is no lock anyone holds:
 * it is left out.  (The buffer holds one file name, not a path: each
 * stack page touched costs a page fault, at every run.)
 */
static void
add_path_names(struct devlock *dl, const char *path)
{
	char name[NAME_MAX + 1];
	const char *base = strrchr(path, '/');

	/* minicom, pppd */
	if (dev_name(path, '_', name, sizeof(name)) == 0)
		(void)add_name(dl, "LCK..", name);
	/* liblockdev */
	if (dev_name(path, ':', name, sizeof(name)) == 0)
		(void)add_name(dl, "LCK..", name);
	/* cu, Kermit, mgetty */
	(void)add_name(dl, "LCK..", base != NULL ? base + 1 : path);
}

/* dl->dirfd: lockdir, if no one but its owner can plant locks there. */
static int
open_lockdir(struct devlock *dl, const char *lockdir)
{
	struct stat st;
	int e;

	if ((dl->dirfd = open(lockdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if (fstat(dl->dirfd, &st) == -1)
		return -1;
	/* Anyone could plant or remove others' locks in such a directory. */
	if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
		e = EPERM;
		close(dl->dirfd);
		dl->dirfd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int
devlock_init(struct devlock *dl, const char *lockdir, const char *device,
    const char **failed)
{
	char indev[sizeof("/dev/") + NAME_MAX], name[NAME_MAX + 1], svr4[40];
	unsigned num[3];
	const char *given = device;
	size_t len;
	struct stat st;

	memset(dl, 0, sizeof(*dl));
	dl->dirfd = -1;
	dl->ifd = -1;
	*failed = device;
	/* "ttyS0" means /dev/ttyS0, as for liblockdev. */
	if (strchr(device, '/') == NULL) {
		if ((len = strlen(device)) > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(stpcpy(indev, "/dev/"), device, len + 1);
		given = indev;
	}
	if (realpath(given, dl->dev) == NULL)
		return -1;
	if (stat(dl->dev, &st) == -1)
		return -1;
	if (!S_ISCHR(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	dl->rdev = st.st_rdev;

	if (dev_name(dl->dev, '_', name, sizeof(name)) == -1)
		return -1;
	num[0] = major(st.st_dev);
	num[1] = major(st.st_rdev);
	num[2] = minor(st.st_rdev);
	svr4_name(svr4, "LCK", num + 1, 2);
	if (add_name(dl, "LCK..", name) == -1 || add_name(dl, "", svr4) == -1)
		return -1;
	/* Names others use; read, never written. */
	svr4_name(svr4, "LCK.C", num + 1, 2);
	if (add_name(dl, "", svr4) == -1)
		return -1;
	svr4_name(svr4, "LK", num, 3);
	if (add_name(dl, "", svr4) == -1)
		return -1;
	add_path_names(dl, dl->dev);
	add_path_names(dl, given);

	*failed = lockdir;
	return open_lockdir(dl, lockdir);
}

int
devlock_open_dir(struct devlock *dl, const char *lockdir)
{
	memset(dl, 0, sizeof(*dl));
	dl->ifd = -1;
	return open_lockdir(dl, lockdir);
}

void
devlock_close(struct devlock *dl)
{
	if (dl->dirfd != -1)
		close(dl->dirfd);
	dl->dirfd = -1;
	if (dl->ifd != -1)
		close(dl->ifd);
	dl->ifd = -1;
}

/* Has pid exited, unreaped?  (State Z in /proc/PID/stat.) */
static bool
zombie(pid_t pid)
{
	char state;

	return procstart_read(pid, &state, NULL) == 0 && state == 'Z';
}

bool
devlock_exited(pid_t pid)
{
	if (kill(pid, 0) == -1)
		return errno == ESRCH;
	return zombie(pid);
}

/*
 * Can pid own a lock file last changed at mtime?  It must live: a zombie
 * still answers kill(), and stays one until its parent reaps it, which
 * some parents (and some inits) take seconds or forever to do.  One rule
 * for a test, a lock and a wait alike: a zombie is dead.  It has closed
 * every descriptor, so uses no device, and never runs again; its pid
 * cannot be handed out while it is unreaped, so taking its lock over
 * harms nobody, where counting it alive would let a test say held while
 * a waiter (woken by its pidfd) takes the lock, or leave every taker
 * waiting on a parent that never reaps.  (Programs that only ask
 * kill(2), as cu does, still see it held until it is reaped.)  A leader
 * that exited while its other threads run is not a zombie (procstart.h).
 * And it must be older than the file (see
 * procstart_judge()): a pid reused by a process started after the write,
 * or any pid in a file written before this boot, owns nothing; *aged says
 * which.  What cannot be read (/proc hidden by hidepid) does not count
 * against the owner.
 */
static bool
alive(pid_t pid, const struct timespec *mtime, int *aged)
{
	int64_t boot, since_boot = -1;
	char state = 'R';

	*aged = PROCSTART_MAY_OWN;
	if (pid <= 0 || (kill(pid, 0) == -1 && errno != EPERM))
		return false;
	if (procstart_read(pid, &state, &since_boot) == -1)
		since_boot = -1;
	if (state == 'Z')
		return false;
	if (procstart_boot(&boot) == 0)
		*aged = procstart_judge((int64_t)mtime->tv_sec * 1000000000 +
		    mtime->tv_nsec, boot, since_boot);
	return *aged == PROCSTART_MAY_OWN;
}

/*
 * For -d: what reading name found, and for a stale file why it is one:
 * pid is the one in it (0: none; -1: garbage), or why says what else.
 */
static void
say_owner(const char *name, const struct owner *o, pid_t pid,
    const char *why, int aged)
{
	switch (o->state) {
	case ST_FREE:
		warnx("%s: absent", name);
		break;
	case ST_ALIVE:
		warnx("%s: held by pid %d", name, (int)o->pid);
		break;
	case ST_WRITING:
		warnx("%s: empty, being written (under %d s old)", name,
		    DEVLOCK_GRACE);
		break;
	default:
		if (why != NULL)
			warnx("%s: stale: %s", name, why);
		else if (aged == PROCSTART_PREBOOT)
			warnx("%s: stale: written before this boot (pid %d)",
			    name, (int)pid);
		else if (aged == PROCSTART_NEWER)
			warnx("%s: stale: pid %d started after it was written",
			    name, (int)pid);
		else if (pid > 0)
			warnx("%s: stale: pid %d has ended", name, (int)pid);
		else
			warnx("%s: stale: %s", name, pid == 0 ? "empty" :
			    "no valid pid in it");
	}
}

/* Read one name: never follows a symlink, never blocks, reads little. */
static struct owner
read_owner(const struct devlock *dl, const char *name)
{
	unsigned char buf[LCKFILE_READ_MAX];
	struct owner o = { ST_STALE, 0, 0, 0, 0, 0 };
	const char *why = NULL;
	int aged = PROCSTART_MAY_OWN;
	struct stat st;
	pid_t read_pid = 0;
	ssize_t n;
	int fd;

	fd = openat(dl->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		/* A planted symlink (ELOOP) or worse is garbage: stale. */
		o.state = errno == ENOENT ? ST_FREE : ST_STALE;
		why = errno == ELOOP ? "a symbolic link" : "cannot be read";
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		why = "not a regular file";
		goto out;
	}
	o.uid = st.st_uid;
	o.mtime = st.st_mtime;
	o.ino = st.st_ino;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	o.pid = n > 0 ? lckfile_parse(buf, (size_t)n) : n == 0 ? 0 : -1;
	read_pid = o.read = o.pid;
	if (n == -1)
		why = "cannot be read";
	if (o.pid == 0 && time(NULL) - st.st_mtime < DEVLOCK_GRACE)
		o.state = ST_WRITING;	/* another program between create and write */
	else if (alive(o.pid, &st.st_mtim, &aged))
		o.state = ST_ALIVE;
	else
		o.pid = 0;
out:
	if (dl->debug)
		say_owner(name, &o, read_pid, why, aged);
	return o;
}

pid_t
devlock_owner(const struct devlock *dl)
{
	struct owner o;
	pid_t rv = 0;
	int i;

	for (i = 0; i < dl->nnames; i++) {
		o = read_owner(dl, dl->names[i]);
		if (o.state == ST_ALIVE)
			return o.pid;
		if (o.state == ST_WRITING)
			rv = -1;
	}
	return rv;
}

uid_t
devlock_file_uid(const struct devlock *dl, pid_t pid)
{
	unsigned char buf[LCKFILE_READ_MAX];
	struct stat st;
	ssize_t n;
	int fd, i;

	for (i = 0; i < dl->nnames; i++) {
		fd = openat(dl->dirfd, dl->names[i], O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd == -1)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n > 0 && lckfile_parse(buf, (size_t)n) == pid &&
		    fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			close(fd);
			return st.st_uid;
		}
		close(fd);
	}
	return (uid_t)-1;
}

/* A foreign name held by someone other than pid, or 0. */
static pid_t
foreign_owner(const struct devlock *dl, pid_t pid)
{
	struct owner o;
	int i;

	for (i = NAME_SVR4 + 1; i < dl->nnames; i++) {
		o = read_owner(dl, dl->names[i]);
		if (o.state == ST_ALIVE && o.pid != pid)
			return o.pid;
		if (o.state == ST_WRITING)
			return -1;
	}
	return 0;
}

/*
 * A private file in the lock directory holding pid, for linking: unnamed
 * (O_TMPFILE, linked through /proc/self/fd) where the file system allows,
 * so a locker killed at any moment leaves nothing behind and waiters
 * watching the directory are not woken by it; else named LTMP.PID.* (NFS
 * and others; sweep_temps() cleans up after killed lockers).
 */
struct temp {
	int	fd;			/* the unnamed file, or -1 */
	char	name[NAME_MAX + 1];	/* the named one */
	char	proc[40];		/* /proc/self/fd/N */
};

static int
fill_temp(int fd, pid_t pid)
{
	char content[LCKFILE_FORMAT_MAX];
	int n;

	n = lckfile_format(content, pid);
	errno = 0;
	if (fchmod(fd, 0644) == -1 || write(fd, content, (size_t)n) != n) {
		if (errno == 0)
			errno = ENOSPC;		/* a short write */
		return -1;
	}
	return 0;
}

/* "/proc/self/fd/N" into buf (at least 40 bytes): how to name fd by path. */
static void
fd_path(char *buf, int fd)
{
	put_dec(stpcpy(buf, "/proc/self/fd/"), (unsigned long)fd, "");
}

static int
make_temp(const struct devlock *dl, pid_t pid, struct temp *t, bool named)
{
	char *p;
	int fd, i, e;

	t->name[0] = '\0';
	t->fd = -1;
	if (!named && (fd = openat(dl->dirfd, ".", O_TMPFILE | O_WRONLY |
	    O_CLOEXEC, 0644)) != -1) {
		fd_path(t->proc, fd);
		/* It can only be linked through /proc; without it, named. */
		if (access(t->proc, F_OK) == 0) {
			if (fill_temp(fd, pid) == -1) {
				e = errno;
				close(fd);
				errno = e;
				return -1;
			}
			t->fd = fd;
			return 0;
		}
		close(fd);
	}
	for (i = 0; i < 100; i++) {
		/* LTMP.PID.RANDOM.I */
		p = stpcpy(t->name, "LTMP.");
		p = put_dec(p, (unsigned long)getpid(), ".");
		p = put_dec(p, (unsigned long)random(), ".");
		put_dec(p, (unsigned long)i, "");
		fd = openat(dl->dirfd, t->name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return -1;
		if (fill_temp(fd, pid) == -1) {
			e = errno;
			close(fd);
			unlinkat(dl->dirfd, t->name, 0);
			errno = e;
			return -1;
		}
		if (close(fd) == -1) {
			e = errno;
			unlinkat(dl->dirfd, t->name, 0);
			errno = e;
			return -1;
		}
		return 0;
	}
	errno = EEXIST;
	return -1;
}

/* Give the temporary file another name in the lock directory. */
static int
link_temp(const struct devlock *dl, const struct temp *t, const char *name)
{
	if (t->fd != -1)
		return linkat(AT_FDCWD, t->proc, dl->dirfd, name,
		    AT_SYMLINK_FOLLOW);
	return linkat(dl->dirfd, t->name, dl->dirfd, name, 0);
}

/* Is name our temporary file? */
static bool
is_temp(const struct devlock *dl, const struct temp *t, const char *name)
{
	struct stat a, b;

	if (fstatat(dl->dirfd, name, &a, AT_SYMLINK_NOFOLLOW) == -1)
		return false;
	if (t->fd != -1 ? fstat(t->fd, &b) == -1 :
	    fstatat(dl->dirfd, t->name, &b, AT_SYMLINK_NOFOLLOW) == -1)
		return false;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void
drop_temp(const struct devlock *dl, struct temp *t)
{
	int e = errno;

	if (t->fd != -1)
		close(t->fd);
	else
		unlinkat(dl->dirfd, t->name, 0);
	errno = e;
}

/*
 * Remove the temporary files of lockdev processes that died between
 * make_temp() and its unlink (SIGKILL, a crash): "LTMP.PID." with PID
 * gone or a zombie (which never writes again, and may stay unreaped for
 * seconds).  The caller holds flock on the lock directory, so no
 * other sweeper runs meanwhile (a busy directory lock skips the sweep); and while a dead PID's file exists, a new
 * process that reuses PID cannot create that same name (O_EXCL), so what
 * we unlink is the dead process's file, never a live one's.
 */
static void
sweep_temps(const struct devlock *dl)
{
	/* getdents64() on a stack buffer: readdir() would malloc. */
	char buf[4096] __attribute__((aligned(8)));
	struct dirent64 *de;
	char *end;
	ssize_t n, off;
	long pid;
	int fd;

	if ((fd = openat(dl->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += de->d_reclen) {
			de = (struct dirent64 *)(void *)(buf + off);
			if (strncmp(de->d_name, "LTMP.", 5) != 0 ||
			    de->d_name[5] < '1' || de->d_name[5] > '9')
				continue;
			errno = 0;
			pid = strtol(de->d_name + 5, &end, 10);
			if (errno == 0 && *end == '.' && pid <= INT_MAX &&
			    devlock_exited((pid_t)pid))
				unlinkat(dl->dirfd, de->d_name, 0);
		}
	}
	close(fd);
}

/*
 * Who holds flock on fd's file, for the conflict message: a pid, or -1
 * if it cannot be seen.
 */
static pid_t
flocker(int fd)
{
	struct holder h;
	struct stat st;

	if (fstat(fd, &st) == -1 || holder_find(st.st_dev, st.st_ino,
	    LOCK_KIND_FLOCK, true, 0, -1, &h, 1) != 1 || h.pid <= 0)
		return -1;
	return h.pid;
}

/*
 * flock fd exclusively without ever blocking for long: another lockdev
 * holds this lock for a few system calls only, so a few tries apart
 * outlast it; a lock held longer (50 ms in all) is someone else's doing,
 * and we give up (EWOULDBLOCK) rather than hang past -n or -w.  The naps
 * start at 50 us and double up to 1 ms: the usual meeting is a waiter
 * woken by a run-mode command's exit (its pidfd) finding the holder
 * still removing that command's files, tens of microseconds of work,
 * and a first nap of a whole millisecond was most of what such a
 * hand-off cost beyond flockrun's.
 */
#define BRIEF_NS	50000000L	/* how long to try, in all */
static int
flock_briefly(int fd)
{
	struct timespec nap = { 0, 50000 };
	long slept = 0;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		if (slept >= BRIEF_NS)
			break;
		nanosleep(&nap, NULL);
		slept += nap.tv_nsec;
		nap.tv_nsec = nap.tv_nsec >= 500000 ? 1000000 :
		    nap.tv_nsec * 2;
	}
	errno = EWOULDBLOCK;
	return -1;
}

/*
 * Remove name if, read again under a lock, it is stale, or held by mine
 * (not 0), or force.  Returns 0 (removed, gone, or no longer to be
 * removed: the caller reads again), DEVLOCK_HELD with *owner set (with
 * mine, a live other owner; or, with dl->busy naming it, the lock below
 * held by another process, *owner its pid or -1), or -1 with errno
 * (EACCES: a file we cannot read, which we never judge stale).
 *
 * Why a lock: reading a file stale and unlinking it are two steps.  If
 * two removers both read the same stale file and one unlinks it, a new
 * owner may link() the name before the second unlinks: the second would
 * remove a live lock.  So every lockdev process removes a file only
 * under an exclusive flock on that file itself, after checking that the
 * name still is the file it locked and reading it again: a second
 * remover then finds the name gone or another file (whose inode cannot
 * be the first one's: we hold it open), and leaves it.  Only such a
 * remover unlinks a name, and link() cannot replace one, so the name
 * stays the locked file until we unlink it.  A symbolic link planted at
 * the name cannot be flocked: those are removed under flock on the
 * directory instead, which serves them alone.  Neither lock is waited
 * for (flock_briefly()): the directory lock used to be, and any user
 * who could read the directory could hang every lockdev by holding it.
 * Now another user can only hold a file it can read, a stale one (it
 * could take the device anyway, by writing a lock of its own), and is
 * then named, not waited for beyond -w.
 */
static int
remove_name(struct devlock *dl, const char *name, pid_t mine, bool force,
    pid_t *owner)
{
	struct stat a, b;
	struct owner o;
	int fd, lockfd, rv = 0;

	fd = openat(dl->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	lockfd = fd;
	if (fd == -1 && errno == ELOOP) {
		fd = openat(dl->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		lockfd = dl->dirfd;
	}
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (flock_briefly(lockfd) == -1) {
		rv = -1;
		if (errno == EWOULDBLOCK) {
			*owner = flocker(lockfd);
			memcpy(dl->busy, lockfd == fd ? name : ".",
			    strlen(lockfd == fd ? name : ".") + 1);
			rv = DEVLOCK_HELD;
		}
		close(fd);
		return rv;
	}
	if (fstat(fd, &a) == 0 && fstatat(dl->dirfd, name, &b,
	    AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		o = read_owner(dl, name);
		if (force || o.state == ST_STALE ||
		    (o.state == ST_ALIVE && mine != 0 && o.pid == mine)) {
			if (unlinkat(dl->dirfd, name, 0) == -1) {
				if (errno != ENOENT)
					rv = -1;
				/*
				 * Another user's, in a sticky directory
				 * (EACCES would be the directory's fault):
				 * say whose (devlock.h), and a waiter
				 * waits for its owner to remove it.
				 */
				if (errno == EPERM) {
					memcpy(dl->stale, name,
					    strlen(name) + 1);
					dl->stale_uid = a.st_uid;
					dl->stale_errno = errno;
				}
			} else if (flock(dl->dirfd, LOCK_EX | LOCK_NB) == 0) {
				/*
				 * Whoever died leaving this lock may have
				 * left a temp file too.  Best effort: if
				 * another sweeps, it is done.
				 */
				sweep_temps(dl);
				if (lockfd != dl->dirfd)
					flock(dl->dirfd, LOCK_UN);
			}
		} else if (mine != 0 && o.state != ST_FREE) {
			*owner = o.pid > 0 ? o.pid : -1;
			rv = DEVLOCK_HELD;
		}
	}
	if (lockfd == dl->dirfd)
		flock(dl->dirfd, LOCK_UN);
	close(fd);
	return rv;
}

enum { PLACE_RETRY = 2 };

/* Link the temporary file (holding pid) at name, or say who holds name. */
static int
place(struct devlock *dl, const char *name, const struct temp *t,
    pid_t pid, pid_t *owner, bool *made)
{
	struct owner o;
	int r;

	*made = false;
	if (link_temp(dl, t, name) == 0) {
		*made = true;
		return DEVLOCK_OK;
	}
	if (errno != EEXIST)
		return -1;
	o = read_owner(dl, name);
	switch (o.state) {
	case ST_ALIVE:
		if (o.pid == pid)
			return DEVLOCK_OK;	/* already ours */
		*owner = o.pid;
		return DEVLOCK_HELD;
	case ST_WRITING:
		*owner = -1;
		return DEVLOCK_HELD;
	case ST_STALE:
		if ((r = remove_name(dl, name, 0, false, owner)) != 0)
			return r;
		return PLACE_RETRY;
	default:
		return PLACE_RETRY;	/* gone meanwhile */
	}
}

/*
 * Undo a name we linked, if it still is our file.  It cannot change
 * between the check and the unlink: it holds our live pid, so no
 * remove_name() of another process removes it, and
 * link() cannot replace an existing name.
 */
static void
unplace(const struct devlock *dl, const char *name, const struct temp *t)
{
	if (is_temp(dl, t, name))
		unlinkat(dl->dirfd, name, 0);
}

int
devlock_lock(struct devlock *dl, pid_t pid, pid_t *owner)
{
	struct owner o;
	struct temp t;
	bool made0, made1;
	int round, r, e;

	dl->busy[0] = dl->stale[0] = '\0';
	if ((*owner = foreign_owner(dl, pid)) != 0)
		return DEVLOCK_HELD;
	/*
	 * Held by a live owner: say so without making a temp file to
	 * link.  This is the answer place() would give after its link
	 * failed, read the same way, and spares every woken waiter five
	 * system calls and a file; a free or stale name goes on to link(),
	 * which alone decides who gets it.
	 */
	o = read_owner(dl, dl->names[NAME_OURS]);
	if ((o.state == ST_ALIVE && o.pid != pid) || o.state == ST_WRITING) {
		*owner = o.state == ST_ALIVE ? o.pid : -1;
		return DEVLOCK_HELD;
	}
	if (make_temp(dl, pid, &t, false) == -1)
		return -1;
	for (round = 0; round < ROUNDS_MAX; round++) {
		r = place(dl, dl->names[NAME_OURS], &t, pid, owner, &made0);
		if (r == PLACE_RETRY)
			continue;
		if (r != DEVLOCK_OK)
			break;
		r = place(dl, dl->names[NAME_SVR4], &t, pid, owner, &made1);
		if (r == DEVLOCK_OK)
			break;
		/* Never keep half a lock. */
		if (made0)
			unplace(dl, dl->names[NAME_OURS], &t);
		if (r != PLACE_RETRY)
			break;
		/* An unnamed file linked once and unlinked cannot be linked again. */
		if (made0 && t.fd != -1) {
			drop_temp(dl, &t);
			if (make_temp(dl, pid, &t, false) == -1)
				return -1;
		}
	}
	e = errno;
	drop_temp(dl, &t);
	if (round == ROUNDS_MAX) {
		e = EAGAIN;
		r = -1;
	}
	errno = e;
	return r;
}

/* Is name one we read?  For filtering inotify events. */
static bool
watched(const struct devlock *dl, const char *name)
{
	int i;

	for (i = 0; i < dl->nnames; i++)
		if (strcmp(dl->names[i], name) == 0)
			return true;
	return false;
}

/* Drain inotify; true if any event concerns one of our names. */
static bool
relevant_events(const struct devlock *dl, int ifd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool hit = false;
	ssize_t n;
	char *p;

	while ((n = read(ifd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
			    (ev->len > 0 && watched(dl, ev->name)))
				hit = true;
		}
	return hit;
}

/*
 * Milliseconds to sleep: until the deadline, or a grace period's end, or
 * a moment when a lock remove_name() needs was busy (its release is
 * announced by nothing we watch), or with no inotify (ifd -1) the next
 * step of a backoff from 1 ms doubling to POLL_MAX_MS.
 */
#define POLL_MAX_MS	20
static int
sleep_ms(const struct devlock *dl, const struct deadline *d, pid_t owner,
    int ifd, int *backoff)
{
	int ms = deadline_poll_ms(d);

	if (dl->busy[0] != '\0' && (ms == -1 || ms > 100))
		ms = 100;
	else if (owner <= 0 && (ms == -1 || ms > 1000 * DEVLOCK_GRACE))
		ms = 1000 * DEVLOCK_GRACE;	/* a file being written */
	if (ifd == -1) {
		if (ms == -1 || ms > *backoff)
			ms = *backoff;
		*backoff = *backoff >= POLL_MAX_MS / 2 ? POLL_MAX_MS :
		    *backoff * 2;
	}
	return ms;
}

/*
 * An inotify descriptor watching the lock directory (the watch's number
 * in *wd), or -1 if none can be had: inotify instances are few
 * (fs.inotify.max_user_instances, 128 by default, for all of a user's
 * programs), and the waiters past them must still wait.  They poll, every
 * POLL_MAX_MS at most: each try is a read of the lock files, and the lock
 * lies free no longer than that.
 */
static int
watch_dir(const struct devlock *dl, int *wd)
{
	char path[64];
	int ifd, e;

	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			return -1;
		return -2;
	}
	fd_path(path, dl->dirfd);
	if ((*wd = inotify_add_watch(ifd, path, IN_DELETE | IN_MOVED_FROM |
	    IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)) == -1) {
		e = errno;
		close(ifd);
		errno = e;
		return e == ENOSPC ? -1 : -2;	/* ENOSPC: max_user_watches */
	}
	return ifd;
}

/*
 * Done waiting: stop watching, and keep the instance for devlock_close().
 * Closing an inotify instance that still has a watch blocks until the
 * kernel has freed the watch, after an SRCU grace period: 10 to 15 ms
 * measured on an idle 2-CPU machine, more under load.  A waiter that won
 * the lock files would pay that before it lets the queue go and before
 * its command starts, with the device free all the while: with a queue,
 * that was most of each hand-off.  inotify_rm_watch() instead only
 * queues the watch to be freed in the background and returns at once;
 * the close comes in devlock_close(), after run mode's command and its
 * unlock, when the watch is usually freed and any wait delays nobody
 * (lockdev -l exits instead, having let the queue go).  No
 * wake-up is lost: we wait no more, and the next waiter in the queue
 * sets up its own watch before its first attempt (wait_for()).  Until
 * then the instance counts against max_user_instances, one per holder
 * that waited; waiters past that limit poll.
 */
static void
unwatch_dir(struct devlock *dl, int ifd, int wd)
{
	if (ifd == -1)
		return;
	(void)inotify_rm_watch(ifd, wd);
	if (dl->ifd != -1)
		close(dl->ifd);
	dl->ifd = ifd;
}

/*
 * The waiters' queue.  A waiter that finds the device held first takes,
 * blocking, an OFD write lock (fcntl F_OFD_SETLKW) on one byte of the
 * device node; only the one holding it, the head, watches the lock
 * directory and takes the lock files, then lets go.  The kernel keeps the
 * others asleep in its own queue, so 1000 waiters cost one inotify
 * instance (there are only fs.inotify.max_user_instances, 128 by default)
 * and one wake-up per hand-off, not 1000 of each; besides, each wakes
 * about once a second to try the lock files, lest a stopped head stall
 * them all (devlock_wait()).
 *
 * Why this object and this kind of lock:
 * - The device node needs no new file: UUCP tools (liblockdev, minicom)
 *   read every LCK* name in the lock directory, and a file of ours
 *   there could confuse them.
 * - An OFD lock never conflicts with flock(2) (Linux keeps the two
 *   apart), so the queue is independent of run mode's flock on the same
 *   node, held across its command.  A head waits only for lock files,
 *   never for that flock: it lets the queue go before run mode flocks
 *   the device (take() returns first), so no process ever holds one
 *   while waiting for the other, and no cycle can form.
 * - The byte lies far past anything a program reads or locks on a device
 *   (2^62 and up) and depends on the lock directory: waiters for the
 *   same device in different lock directories (tests, chroots) never
 *   queue behind each other's holders.  Two directories hashing alike
 *   only share a queue: slower, still correct.  A program taking a
 *   whole-file fcntl lock on the device conflicts with the queue; it
 *   then sees the device busy while lockdev waits for it, and our
 *   waiters wait for it, both bounded by their deadlines.
 * - A queue member holds the device open (read-write, O_NONBLOCK,
 *   O_NOCTTY; an OFD write lock needs a writable descriptor).  Where it
 *   cannot be opened so (no write permission, TIOCEXCL's EBUSY, a driver
 *   that refuses) or the lock cannot be had, the waiter waits unqueued,
 *   as every waiter did before.
 * - A head that is SIGKILLed, or exits any way, closes its descriptor,
 *   and the kernel drops its lock and wakes the next waiter, which
 *   becomes the head.  A waiter's deadline, and each of its ticks
 *   (devlock_wait()), interrupts its wait in the queue
 *   (deadline_alarm_arm()), and it leaves the queue then.
 */
#define QUEUE_BASE	((off_t)1 << 62)
#define QUEUE_SPAN	((uint64_t)1 << 40)
#define QUEUE_TIMEOUT	(-2)
#define QUEUE_TICK	(-3)

/* The queue's byte for this lock directory: see above. */
static off_t
queue_byte(const struct devlock *dl)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;	/* Fibonacci hashing */
	struct stat st;
	uint64_t h;

	if (fstat(dl->dirfd, &st) == -1)
		return QUEUE_BASE;
	h = ((uint64_t)st.st_dev * k ^ (uint64_t)st.st_ino) * k;
	return QUEUE_BASE + (off_t)((h >> 20) % QUEUE_SPAN);
}

/*
 * The device node, opened to queue on (see above), or -1 if there is
 * no queue to be had: the caller then waits unqueued.
 */
static int
queue_open(const struct devlock *dl)
{
	struct stat st;
	int fd;

	if ((fd = open(dl->dev, O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	/* The node devlock_init() checked, not one put in its place since. */
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != dl->rdev) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A random moment QUEUE_TICK_MIN_NS to twice that from now, or the
 * deadline d if it comes sooner, into *tick.  Random per process
 * (arc4random, as socklock.c's queued rechecks), so that the waiters'
 * ticks spread out rather than wake together.
 */
#define QUEUE_TICK_MIN_NS	500000000L
static void
queue_tick(struct deadline *tick, const struct deadline *d)
{
	struct timespec dur = { 0, 0 };

	dur.tv_nsec = QUEUE_TICK_MIN_NS +
	    (long)arc4random_uniform((uint32_t)QUEUE_TICK_MIN_NS);
	deadline_start(tick, &dur);
	if (!d->inf && (d->at.tv_sec < tick->at.tv_sec ||
	    (d->at.tv_sec == tick->at.tv_sec &&
	    d->at.tv_nsec < tick->at.tv_nsec)))
		*tick = *d;
}

/*
 * Wait in the queue on fd (queue_open()) to be its head, until the next
 * tick (queue_tick()) at most.  Returns 0 at the head (close fd to let
 * the next one in), QUEUE_TICK at the tick, QUEUE_TIMEOUT if the
 * deadline passed first, or -1 with errno set if there is no queue to be
 * had after all (the caller then waits unqueued).
 */
static int
queue_wait(const struct devlock *dl, int fd, const struct deadline *d)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_len = 1 };
	struct deadline tick;
	int r, e;

	fl.l_start = queue_byte(dl);
	queue_tick(&tick, d);
	if (deadline_alarm_arm(&tick) == -1)
		return -1;
	/* EINTR from a SIGALRM before the tick (a stray one): go on. */
	while ((r = fcntl(fd, F_OFD_SETLKW, &fl)) == -1 && errno == EINTR &&
	    !deadline_passed(&tick))
		;
	e = errno;
	deadline_alarm_disarm();
	if (r == 0)
		return 0;
	if (e != EINTR) {
		errno = e;
		return -1;
	}
	return deadline_passed(d) ? QUEUE_TIMEOUT : QUEUE_TICK;
}

/*
 * devlock_lock() for a waiter: a stale file we may not remove counts as
 * held, by no live process.  In a sticky directory (/var/lock on Debian)
 * another user's lockdev removes its command's file just after the
 * command ends, and a waiter that reads it then must not fail for it:
 * the removal wakes it (inotify, or the next tick or poll), and if it
 * never comes the deadline ends the wait, stale naming the file.
 */
static int
try_lock(struct devlock *dl, pid_t pid, pid_t *owner)
{
	int r;

	if ((r = devlock_lock(dl, pid, owner)) == -1 && dl->stale[0] != '\0') {
		*owner = 0;
		return DEVLOCK_HELD;
	}
	return r;
}

static int
wait_for(struct devlock *dl, pid_t pid, const struct deadline *d,
    pid_t *owner)
{
	struct pollfd pfd[2];
	bool wake;
	int ifd, wd = -1, r, e, backoff = 1;

	/*
	 * Watch before the first attempt: a removal between an attempt and
	 * poll() is then already queued, so no wake-up is lost.
	 */
	if ((ifd = watch_dir(dl, &wd)) == -2)
		return -1;
	for (;;) {
		r = try_lock(dl, pid, owner);
		if (r != DEVLOCK_HELD || deadline_passed(d))
			break;
		pfd[0].fd = ifd;
		pfd[0].events = POLLIN;
		pfd[1].fd = -1;
		pfd[1].events = POLLIN;
		/*
		 * A pidfd turns readable when the owner dies, which may
		 * leave its lock file behind: wake for that too.  If it is
		 * already gone, try again at once.
		 */
		if (*owner > 0 && (pfd[1].fd = pidfd_open(*owner, 0)) == -1 &&
		    errno == ESRCH)
			continue;
		for (wake = false; !wake; ) {
			r = poll(pfd, 2, sleep_ms(dl, d, *owner, ifd,
			    &backoff));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;	/* timed out, or failed: see below */
			if (pfd[1].fd != -1 && pfd[1].revents != 0)
				wake = true;
			/* Our own temporary files stir the directory too. */
			if (pfd[0].revents != 0 && relevant_events(dl, ifd))
				wake = true;
		}
		e = errno;
		if (pfd[1].fd != -1)
			close(pfd[1].fd);
		if (r == -1) {
			unwatch_dir(dl, ifd, wd);
			errno = e;
			return -1;
		}
	}
	e = errno;
	unwatch_dir(dl, ifd, wd);
	errno = e;
	return r;
}

int
devlock_wait(struct devlock *dl, pid_t pid, const struct deadline *d,
    pid_t *owner)
{
	int r = -1, e, qfd, q = -1;

	/*
	 * Head of the queue first, then wait as the only one watching.  A
	 * deadline passed in the queue gets one last try, to report who
	 * holds the device (or, if it went just then, to take it).
	 *
	 * A queued waiter also tries once at each tick, a random moment
	 * every 0.5 to 1 s, then joins the queue again (at its end: the
	 * kernel forgets an interrupted request).  Only the head watches,
	 * and a head that is stopped (SIGSTOP, ^Z), traced or otherwise
	 * stalled keeps its place, and the lock files unwatched, for as
	 * long as it stalls: without the ticks everyone queued behind it
	 * would wait out their deadlines, with the device free all along.
	 * With them, a stall costs a hand-off one tick at most, and with N
	 * waiters about 1/N of one (each ticks at its own random moments).
	 * A try is devlock_lock(): a few reads while the device is held,
	 * and a take-over as race-free against the head's as against any
	 * locker's, so the head and a ticking waiter never both win.  Why
	 * not tell a stalled head by its state instead ('T' in /proc):
	 * queued waiters must wake to look anyway (nothing wakes a sleeper
	 * in F_OFD_SETLKW but the lock or a signal), the OFD lock names no
	 * pid to look at, and a head stalls in other ways too (stopped by a
	 * debugger, a dead NFS server, swapped out).  The cost is order: a
	 * waiter queued longer than half a second may be passed by later
	 * ones.
	 */
	if ((qfd = queue_open(dl)) != -1)
		while ((q = queue_wait(dl, qfd, d)) == QUEUE_TICK &&
		    (r = try_lock(dl, pid, owner)) == DEVLOCK_HELD)
			;
	if (q == QUEUE_TICK)
		;	/* took it at a tick, or failed: r says which */
	else if (q == QUEUE_TIMEOUT)
		r = try_lock(dl, pid, owner);
	else
		r = wait_for(dl, pid, d, owner);
	e = errno;
	/* Holding the lock files now, or giving up: the next one's turn. */
	if (qfd != -1)
		close(qfd);
	errno = e;
	return r;
}

int
devlock_relock(struct devlock *dl, pid_t pid, pid_t newpid, pid_t *owner)
{
	char tmp2[NAME_MAX + 3];
	struct temp t;
	struct owner o[2];
	bool ours = false;
	int i, e;

	if ((*owner = foreign_owner(dl, pid)) != 0 && *owner != newpid)
		return DEVLOCK_HELD;
	for (i = 0; i < 2; i++) {
		o[i] = read_owner(dl, dl->names[i]);
		if (o[i].state == ST_WRITING ||
		    (o[i].state == ST_ALIVE && o[i].pid != pid)) {
			*owner = o[i].pid > 0 ? o[i].pid : -1;
			return DEVLOCK_HELD;
		}
		if (o[i].state == ST_ALIVE)
			ours = true;
	}
	if (!ours)
		return devlock_lock(dl, newpid, owner);

	/*
	 * Two links of one new file, renamed over the old names: each
	 * rename replaces a name atomically, so both names exist throughout
	 * and the device never looks free.
	 */
	if (make_temp(dl, newpid, &t, true) == -1)
		return -1;
	stpcpy(stpcpy(tmp2, t.name), ".2");
	if (linkat(dl->dirfd, t.name, dl->dirfd, tmp2, 0) == -1 ||
	    renameat(dl->dirfd, t.name, dl->dirfd, dl->names[NAME_OURS]) == -1 ||
	    renameat(dl->dirfd, tmp2, dl->dirfd, dl->names[NAME_SVR4]) == -1) {
		e = errno;
		unlinkat(dl->dirfd, t.name, 0);
		unlinkat(dl->dirfd, tmp2, 0);
		errno = e;
		return -1;
	}
	return DEVLOCK_OK;
}

int
devlock_unlock(struct devlock *dl, pid_t pid, bool force, pid_t *owner)
{
	struct owner o;
	int i, r;

	/*
	 * Neither name goes if either is a live other's (unless force):
	 * checked here, and again by remove_name() under its lock, which
	 * alone decides.  A name found absent is left alone: link() needs
	 * no lock, so by the time we would unlink it, it may be a new
	 * owner's.
	 */
	dl->busy[0] = dl->stale[0] = '\0';
	for (i = 0; i < 2 && !force; i++) {
		o = read_owner(dl, dl->names[i]);
		if ((o.state == ST_ALIVE && o.pid != pid) ||
		    o.state == ST_WRITING) {
			*owner = o.pid > 0 ? o.pid : -1;
			return DEVLOCK_HELD;
		}
	}
	for (i = 0; i < 2; i++)
		if ((r = remove_name(dl, dl->names[i], pid, force, owner)) != 0)
			return r;
	return DEVLOCK_OK;
}

int
devlock_file(const struct devlock *dl, const char *name,
    struct devlock_file *f)
{
	struct owner o = read_owner(dl, name);

	if (o.state == ST_FREE) {
		errno = ENOENT;
		return -1;
	}
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->stale = o.state == ST_STALE;
	f->pid = o.read;
	f->uid = o.uid;
	f->mtime = o.mtime;
	f->ino = o.ino;
	return 0;
}

/* "/dev/" and the device /sys/dev/char/MAJ:MIN names, or "" if none. */
static void
sys_devname(unsigned maj, unsigned min, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *fp;

	*buf = '\0';
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", maj, min);
	if ((fp = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "/dev/%s", line + 8);
			break;
		}
	fclose(fp);
}

static bool
is_chardev(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

void
devlock_device(const char *name, char *buf, size_t len)
{
	static const char seps[] = "_:";
	unsigned maj, min;
	char *p;
	int n;

	*buf = '\0';
	if (strncmp(name, "LCK..", 5) == 0) {
		/* As named; then with '_' or ':' read as '/' (add_path_names) */
		for (n = 0; n <= 2; n++) {
			snprintf(buf, len, "/dev/%s", name + 5);
			if (n > 0)
				for (p = buf + 5; *p != '\0'; p++)
					if (*p == seps[n - 1])
						*p = '/';
			if (is_chardev(buf))
				return;
		}
		snprintf(buf, len, "/dev/%s", name + 5);
		return;
	}
	/* LCK.MMM.mmm, LCK.C.MMM.mmm, LK.DDD.MMM.mmm (svr4_name) */
	if (sscanf(name, "LCK.%3u.%3u%n", &maj, &min, &n) == 2 ||
	    sscanf(name, "LCK.C.%3u.%3u%n", &maj, &min, &n) == 2 ||
	    sscanf(name, "LK.%*3u.%3u.%3u%n", &maj, &min, &n) == 2)
		if (name[n] == '\0')
			sys_devname(maj, min, buf, len);
}

/*
 * Does the lock directory hold a LCK..NAME link to inode ino?  (For
 * devlock_list(): lockers link LCK..NAME and LCK.MMM.mmm to one file.)
 */
static bool
has_lck_link(const struct devlock *dl, ino_t ino)
{
	char buf[4096] __attribute__((aligned(8)));
	struct dirent64 *de;
	struct stat st;
	ssize_t n, off;
	bool found = false;
	int fd;

	if ((fd = openat(dl->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return false;
	while (!found && (n = getdents64(fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n && !found; off += de->d_reclen) {
			de = (struct dirent64 *)(void *)(buf + off);
			found = de->d_ino == ino &&
			    strncmp(de->d_name, "LCK..", 5) == 0 &&
			    fstatat(dl->dirfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == ino;
		}
	close(fd);
	return found;
}

int
devlock_list(const struct devlock *dl,
    void (*fn)(const struct devlock_file *, void *), void *arg)
{
	/* getdents64() on a stack buffer, as sweep_temps() reads. */
	char buf[4096] __attribute__((aligned(8)));
	struct devlock_file f;
	struct dirent64 *de;
	struct stat st;
	ssize_t n, off;
	int fd, e;

	if ((fd = openat(dl->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += de->d_reclen) {
			de = (struct dirent64 *)(void *)(buf + off);
			if (strncmp(de->d_name, "LCK.", 4) != 0 &&
			    strncmp(de->d_name, "LK.", 3) != 0)
				continue;
			if (devlock_file(dl, de->d_name, &f) == -1)
				continue;	/* gone meanwhile */
			/* One file, two names: listed as LCK..NAME. */
			if (strncmp(f.name, "LCK..", 5) != 0 && f.ino != 0 &&
			    fstatat(dl->dirfd, f.name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink > 1 &&
			    has_lck_link(dl, f.ino))
				continue;
			fn(&f, arg);
		}
	}
	e = errno;
	close(fd);
	errno = e;
	return n == -1 ? -1 : 0;
}
