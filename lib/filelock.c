#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "filelock.h"

#define MAXHOLDERS	8

static const char *
name(const struct filelock *f, char *buf, size_t len)
{
	if (f->path != NULL)
		return f->path;
	snprintf(buf, len, "fd %d", f->fd);
	return buf;
}

/* The request's inclusive byte range, as /proc/locks shows ranges. */
static void
range(const struct lockreq *r, off_t *start, off_t *end)
{
	if (r->kind == LOCK_KIND_FLOCK) {
		*start = 0;
		*end = -1;
	} else if (r->len > 0) {
		*start = r->start;
		*end = r->start + r->len - 1;
	} else if (r->len == 0) {
		*start = r->start;
		*end = -1;
	} else {
		*start = r->start + r->len;
		*end = r->start - 1;
	}
}

static int
open_mode(const struct lockreq *r)
{
	/* fcntl's F_WRLCK needs a descriptor open for writing. */
	return r->kind != LOCK_KIND_FLOCK && !r->shared ? O_RDWR : O_RDONLY;
}

#define OPEN_ROUNDS	64	/* create-or-open attempts before EAGAIN */

/*
 * Open path with flags, creating it (0666 less umask) if missing.  An
 * existing file is opened without O_CREAT: in a world-writable sticky
 * directory such as /tmp, fs.protected_regular (protected_fifos for a
 * FIFO) makes O_CREAT of another user's existing file fail with EACCES,
 * even for root, where the plain open is allowed and the lock works.
 * Only a missing file is created, with O_EXCL.  Between the two calls
 * another process may create the name (EEXIST) or remove it again (ENOENT
 * on the next plain open, as --remove does): go round again.  Each lost
 * round means another process created or removed the file in between;
 * after OPEN_ROUNDS of them, EAGAIN.  O_EXCL also fails on a dangling
 * symbolic link; that one is followed with plain O_CREAT, creating its
 * target, as flock(1) does.
 */
static int
open_or_create(const char *path, int flags)
{
	struct stat st;
	int fd, i;

	for (i = 0; i < OPEN_ROUNDS; i++) {
		if ((fd = open(path, flags)) != -1 || errno != ENOENT)
			return fd;
		fd = open(path, flags | O_CREAT | O_EXCL, 0666);
		if (fd != -1 || errno != EEXIST)
			return fd;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return open(path, flags | O_CREAT, 0666);
	}
	errno = EAGAIN;
	return -1;
}

/*
 * Open a file to lock, creating it if create.  O_NONBLOCK, because
 * open(2) itself may wait, where no -w reaches it: a FIFO until a writer
 * comes, a serial line until its carrier does.  The lock calls ignore the
 * flag; it is cleared at once all the same, as the command inherits the
 * descriptor.
 */
static int
open_path(const char *path, int *mode, bool create)
{
	int fd, e, flags = O_NOCTTY | O_NONBLOCK;

	fd = create ? open_or_create(path, *mode | flags) :
	    open(path, *mode | flags);
	/*
	 * A directory opens read-only only.  A file we may not write is
	 * still opened: the lock may fail later, and then says write access
	 * is needed.
	 */
	if (fd == -1 && (errno == EISDIR || (*mode == O_RDWR &&
	    (errno == EACCES || errno == EROFS || errno == ETXTBSY)))) {
		*mode = O_RDONLY;
		fd = create ? open_or_create(path, O_RDONLY | flags) :
		    open(path, O_RDONLY | flags);
	}
	if (fd != -1 && fcntl(fd, F_SETFL, 0) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void
filelock_open(struct filelock *f, const char *path, const struct lockreq *r)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->oflags = open_mode(r);
	if (*path == '\0') {
		warnx("'': cannot open: empty file name");
		exit(exit_for_open(ENOENT));
	}
	if ((f->fd = open_path(path, &f->oflags, true)) == -1) {
		int e = errno;

		warn("%s: cannot open", path);
		exit(exit_for_open(e));
	}
}

/*
 * Learn which inode f->fd is, once, and only when someone asks: a lone
 * lock taken and handed to a command never needs it.
 */
static void
identify(struct filelock *f)
{
	struct stat st;

	if (f->known)
		return;
	if (fstat(f->fd, &st) == -1) {
		if (f->path != NULL)
			err(LK_EXIT_OSERR, "%s: fstat", f->path);
		err(LK_EXIT_OSERR, "fd %d: fstat", f->fd);
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->mode = st.st_mode;
	f->known = true;
}

void
filelock_use_fd(struct filelock *f, int fd)
{
	int fl;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	if ((fl = fcntl(fd, F_GETFL)) == -1)
		err(LK_EXIT_LOCKFAIL, "fd %d: cannot lock", fd);
	/* flock and fcntl both refuse one (EBADF), whatever it names. */
	if (fl & O_PATH)
		errx(LK_EXIT_LOCKFAIL, "fd %d: cannot lock: an O_PATH "
		    "descriptor cannot be locked", fd);
	f->oflags = fl & O_ACCMODE;
}

static int
lock_call(const struct filelock *f, const struct lockreq *r, int type,
    bool block)
{
	struct flock l;
	int cmd;

	if (r->kind == LOCK_KIND_FLOCK)
		return flock(f->fd, type | (block ? 0 : LOCK_NB));
	memset(&l, 0, sizeof(l));	/* OFD locks require l_pid == 0 */
	l.l_type = (short)(type == LOCK_UN ? F_UNLCK : type == LOCK_SH ?
	    F_RDLCK : F_WRLCK);
	l.l_whence = SEEK_SET;
	l.l_start = r->start;
	l.l_len = r->len;
	if (r->kind == LOCK_KIND_OFD)
		cmd = block ? F_OFD_SETLKW : F_OFD_SETLK;
	else
		cmd = block ? F_SETLKW : F_SETLK;
	return fcntl(f->fd, cmd, &l);
}

static bool
is_conflict(int e)
{
	return e == EWOULDBLOCK || e == EAGAIN || e == EACCES;
}

/* Print why a lock call failed and return its exit status. */
static int
lock_failed(const struct filelock *f, const struct lockreq *r, int e)
{
	char buf[32];
	const char *n = name(f, buf, sizeof(buf));

	if (e == EDEADLK)
		warnx("%s: cannot lock: would deadlock", n);
	else if (e == ENOLCK)
		warnx("%s: cannot lock: no locks available "
		    "(on NFS, is the lock daemon running?)", n);
	else if (e == EBADF && r->kind != LOCK_KIND_FLOCK && !r->shared &&
	    (f->oflags & O_ACCMODE) == O_RDONLY)
		warnx("%s: cannot take an exclusive fcntl lock: "
		    "needs write access", n);
	else if (e == EBADF && r->kind != LOCK_KIND_FLOCK && r->shared &&
	    (f->oflags & O_ACCMODE) == O_WRONLY)
		warnx("%s: cannot take a shared fcntl lock: %s", n,
		    f->path == NULL ? "the descriptor must be open for reading" :
		    "needs read access");
	/*
	 * NFS emulates flock with fcntl locks and refuses an exclusive one
	 * on a read-only descriptor (EBADF).  A file is reopened read-write
	 * (take_one()); an inherited descriptor cannot be.
	 */
	else if (e == EBADF && !r->shared &&
	    (f->oflags & O_ACCMODE) == O_RDONLY)
		warnx("%s: cannot take an exclusive lock: %s", n,
		    f->path == NULL ? "the descriptor must be open for writing" :
		    "needs write access");
	else
		warnx("%s: cannot lock: %s", n, strerror(e));
	return exit_for_lock(e);
}

void
filelock_say_holders(struct filelock *f, const struct lockreq *r,
    const char *label, bool waiting)
{
	struct holder h[MAXHOLDERS];
	char buf[32], whose[48];
	const char *end = waiting ? "; waiting" : "";
	int i, n;

	if (label == NULL)
		label = name(f, buf, sizeof(buf));
	n = filelock_test(f, r, h, MAXHOLDERS);
	for (i = 0; i < n; i++)
		if (h[i].pid > 0)
			warnx("%s: held by pid %d (%s)%s, %s %s%s", label,
			    (int)h[i].pid, h[i].comm, holder_whose(h[i].uid,
			    whose, sizeof(whose)), lock_kind_name(h[i].kind),
			    h[i].exclusive ? "exclusive" : "shared", end);
		else
			warnx("%s: held by another process%s, %s %s%s", label,
			    holder_whose(h[i].uid, whose, sizeof(whose)),
			    lock_kind_name(h[i].kind),
			    h[i].exclusive ? "exclusive" : "shared", end);
	if (n <= 0)
		warnx("%s: held by another process%s", label, end);
}

/*
 * Reopen f read-write, for a lock that needs write access.  Without
 * O_CREAT (see open_or_create()), and only if the path still names the
 * inode already open: a file removed or replaced meanwhile is not the
 * one the caller asked to lock.  True if f->fd is now read-write.
 */
static bool
reopen_rw(struct filelock *f)
{
	struct stat st;
	int mode = O_RDWR, fd;

	if ((fd = open_path(f->path, &mode, false)) == -1)
		return false;
	identify(f);
	if (mode != O_RDWR || fstat(fd, &st) == -1 || st.st_dev != f->dev ||
	    st.st_ino != f->ino) {
		close(fd);
		return false;
	}
	close(f->fd);
	f->fd = fd;
	f->oflags = O_RDWR;
	return true;
}

/*
 * Take one lock.  Returns 0, FL_CONFLICT, FL_TIMEOUT or FL_ERROR.
 */
static int
take_one(struct filelock *f, const struct lockreq *r,
    const struct deadline *d, bool nonblock, bool verbose, int *status)
{
	int type = r->shared ? LOCK_SH : LOCK_EX;
	bool first = true, block;
	int e;

	for (;;) {
		/*
		 * The first attempt never blocks and comes before any
		 * deadline check, so a free lock is taken however short the
		 * wait.  Later, the deadline is checked before each blocking
		 * call; if the alarm fires between this check and the call,
		 * its next tick interrupts the call (see
		 * deadline_alarm_arm()).
		 */
		block = !nonblock && !first;
		if (block && deadline_passed(d)) {
			if (verbose)
				filelock_say_holders(f, r, NULL, false);
			return FL_TIMEOUT;
		}
		if (lock_call(f, r, type, block) == 0)
			return 0;
		e = errno;
		if (e == EINTR)
			continue;	/* timeout or stray signal: see above */
		if (is_conflict(e) && !block) {
			if (!nonblock) {
				if (verbose)
					filelock_say_holders(f, r, NULL, true);
				first = false;
				continue;
			}
			if (verbose)
				filelock_say_holders(f, r, NULL, false);
			return FL_CONFLICT;
		}
		/*
		 * NFSv4 emulates flock with fcntl, which wants write access
		 * for an exclusive lock: reopen read-write, as flock(1) does.
		 */
		if (r->kind == LOCK_KIND_FLOCK && (e == EIO || e == EBADF) &&
		    f->path != NULL && (f->oflags & O_ACCMODE) != O_RDWR &&
		    reopen_rw(f))
			continue;
		*status = lock_failed(f, r, e);
		return FL_ERROR;
	}
}

static int
by_inode(const void *a, const void *b)
{
	const struct filelock *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

int
filelock_acquire(struct filelock *fl, size_t n, const struct lockreq *r,
    const struct deadline *d, bool nonblock, bool verbose, int *status)
{
	size_t i;
	int rv = 0;

	/*
	 * One global order, (device, inode), for every caller: a cycle of
	 * waiters would need someone to hold a later inode while waiting for
	 * an earlier one, which this order never does.
	 */
	if (n > 1) {
		for (i = 0; i < n; i++)
			identify(&fl[i]);
		qsort(fl, n, sizeof(*fl), by_inode);
	}
	for (i = 0; i < n; i++) {
		fl[i].locked = false;
		fl[i].alias = i > 0 && by_inode(&fl[i - 1], &fl[i]) == 0;
		fl[i].busy = false;
	}
	if (!nonblock && deadline_alarm_arm(d) == -1)
		err(LK_EXIT_OSERR, "timer");
	for (i = 0; i < n && rv == 0; i++) {
		if (fl[i].alias)
			continue;
		rv = take_one(&fl[i], r, d, nonblock, verbose, status);
		fl[i].locked = rv == 0;
		fl[i].busy = rv == FL_CONFLICT || rv == FL_TIMEOUT;
	}
	if (!nonblock)
		deadline_alarm_disarm();
	if (rv != 0)
		filelock_release(fl, n, r);
	return rv;
}

int
filelock_unlock(struct filelock *f, const struct lockreq *r)
{
	return lock_call(f, r, LOCK_UN, false);
}

void
filelock_release(struct filelock *fl, size_t n, const struct lockreq *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fl[i].locked) {
			(void)filelock_unlock(&fl[i], r);
			fl[i].locked = false;
		}
}

static bool
named(struct filelock *f)
{
	struct stat st;

	if (f->path == NULL)
		return true;
	identify(f);
	return stat(f->path, &st) == 0 && st.st_dev == f->dev &&
	    st.st_ino == f->ino;
}

bool
filelock_still_named(struct filelock *fl, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!named(&fl[i]))
			return false;
	return true;
}

void
filelock_reopen(struct filelock *fl, size_t n, const struct lockreq *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!named(&fl[i])) {
			close(fl[i].fd);
			filelock_open(&fl[i], fl[i].path, r);
		}
}

int
filelock_test(struct filelock *f, const struct lockreq *r,
    struct holder *h, size_t max)
{
	struct flock l;
	off_t start, end;
	int n;

	range(r, &start, &end);
	if (r->kind != LOCK_KIND_FLOCK) {
		memset(&l, 0, sizeof(l));
		l.l_type = r->shared ? F_RDLCK : F_WRLCK;
		l.l_whence = SEEK_SET;
		l.l_start = r->start;
		l.l_len = r->len;
		if (fcntl(f->fd, r->kind == LOCK_KIND_OFD ? F_OFD_GETLK :
		    F_GETLK, &l) == -1)
			return -1;
		if (l.l_type == F_UNLCK)
			return 0;
	}
	identify(f);
	n = holder_find(f->dev, f->ino, r->kind, !r->shared,
	    start, end, h, max);
	if (n == 0 && r->kind != LOCK_KIND_FLOCK && max > 0) {
		/* Held, by F_GETLK, but gone from /proc/locks or not visible. */
		memset(h, 0, sizeof(*h));
		h->pid = l.l_pid > 0 ? l.l_pid : 0;
		h->kind = l.l_pid > 0 ? LOCK_KIND_POSIX : LOCK_KIND_OFD;
		h->exclusive = l.l_type == F_WRLCK;
		h->start = l.l_start;
		h->end = l.l_len == 0 ? -1 : l.l_start + l.l_len - 1;
		holder_comm(h->pid, h->comm, sizeof(h->comm));
		h->uid = holder_uid(h->pid);
		n = 1;
	}
	return n;
}

void
filelock_remove(struct filelock *fl, size_t n, const struct lockreq *r)
{
	bool ok = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!fl[i].alias) {
			/*
			 * A shared holder may remove only when it alone holds
			 * the file: an exclusive lock taken without waiting
			 * proves that.  Others keep using the file otherwise.
			 */
			identify(&fl[i]);
			ok = fl[i].locked && S_ISREG(fl[i].mode) &&
			    (!r->shared || lock_call(&fl[i], r, LOCK_EX,
			    false) == 0);
		}
		/* Unlink only the inode we hold, while we still hold it. */
		if (ok && fl[i].path != NULL && named(&fl[i]) &&
		    unlink(fl[i].path) == -1 && errno != ENOENT)
			warn("%s: cannot remove", fl[i].path);
	}
}
