#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holder.h"
#include "parse.h"
#include "privlock.h"

/* The reason for a refusal that names a uid, for *why. */
static char why_buf[64];

const char *
privlock_default_dir(uid_t uid, char *buf, size_t len)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	int n;

	if (uid == 0)
		n = snprintf(buf, len, "/run/solo");
	else if (run != NULL && *run == '/')
		n = snprintf(buf, len, "%s/solo", run);
	else
		return NULL;
	return n > 0 && (size_t)n < len ? buf : NULL;
}

/*
 * name as one file name: '/' (a path), '%' (the escape) and a leading '.'
 * ("." and "..", hidden files) as %2F, %25 and %2E.  At most 3 x 80 bytes.
 */
static void
escape(const char *name, char *buf)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '%' || (*p == '.' && p == name))
			buf += sprintf(buf, "%%%02X", (unsigned)*p);
		else
			*buf++ = *p;
	*buf = '\0';
}

static int
refuse(const char **why, const char *reason)
{
	*why = reason;
	errno = EPERM;
	return -1;
}

static int
failed(const char **why)
{
	*why = strerror(errno);
	return -1;
}

static int
open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
privlock_init(struct privlock *pl, const char *dir, const char *name,
    bool create, const char **why)
{
	struct stat st;
	int n;

	memset(pl, 0, sizeof(*pl));
	pl->dirfd = pl->fd = -1;
	if (parse_lock_name(name, why) == -1) {
		errno = EINVAL;
		return -1;
	}
	escape(name, pl->file);
	n = snprintf(pl->path, sizeof(pl->path), "%s/%s", dir, pl->file);
	if (n < 0 || (size_t)n >= sizeof(pl->path)) {
		errno = ENAMETOOLONG;
		return failed(why);
	}
	/*
	 * O_NOFOLLOW: a symbolic link planted at dir is refused, never
	 * followed.  The checks below are on the descriptor, which is what
	 * every later step uses: renaming or replacing dir after this
	 * cannot change what was checked.
	 */
	if ((pl->dirfd = open_dir(dir)) == -1 && errno == ENOENT && create) {
		/* EEXIST: a racing solo made it, or someone planted it;
		 * either way the checks below decide. */
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return failed(why);
		pl->dirfd = open_dir(dir);
	}
	if (pl->dirfd == -1 && errno == ENOENT && !create)
		return 0;
	if (pl->dirfd == -1) {
		if ((errno == ENOTDIR || errno == ELOOP) &&
		    lstat(dir, &st) == 0)
			return refuse(why, S_ISLNK(st.st_mode) ? "is a symbolic "
			    "link; refusing" : "not a directory; refusing");
		return failed(why);
	}
	if (fstat(pl->dirfd, &st) == -1)
		return failed(why);
	/*
	 * Only the owner (and root) can create, remove or rename names in
	 * a directory nobody else may write: nobody else can put a lock file
	 * there first, or swap ours for one they hold.
	 */
	if (st.st_uid != geteuid()) {
		snprintf(why_buf, sizeof(why_buf), "owned by uid %u, not %u; "
		    "refusing", (unsigned)st.st_uid, (unsigned)geteuid());
		return refuse(why, why_buf);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return refuse(why, "writable by group or others; refusing");
	return 0;
}

/* The lock file's descriptor, made with flags (creating or not), checked. */
static int
open_file(struct privlock *pl, int flags, const char **why)
{
	struct stat st;

	if (pl->fd != -1)
		return 0;
	/*
	 * O_NOFOLLOW and O_NONBLOCK: neither a symbolic link nor a fifo
	 * (which the directory's owner alone could have put there) is
	 * followed or blocks us; fstat then refuses them.
	 */
	pl->fd = openat(pl->dirfd, pl->file, flags | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (pl->fd == -1)
		return errno == ELOOP ? refuse(why, "is a symbolic link; "
		    "refusing") : failed(why);
	if (fstat(pl->fd, &st) == -1)
		return failed(why);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(pl->fd);
		pl->fd = -1;
		return refuse(why, "not a regular file of our own; refusing");
	}
	return 0;
}

int
privlock_open(struct privlock *pl, const char **why)
{
	return open_file(pl, O_RDONLY | O_CREAT, why);
}

int
privlock_try(struct privlock *pl)
{
	if (flock(pl->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -1;
}

int
privlock_wait(struct privlock *pl, const struct deadline *d)
{
	int r, e;

	if (deadline_alarm_arm(d) == -1)
		return -1;
	for (;;) {
		/*
		 * If the alarm fires between this check and flock(), its
		 * next tick interrupts flock (see deadline_alarm_arm()).
		 */
		if (deadline_passed(d)) {
			r = 1;
			break;
		}
		if (flock(pl->fd, LOCK_EX) == 0) {
			r = 0;
			break;
		}
		if (errno != EINTR) {
			r = -1;
			break;
		}
	}
	e = errno;
	deadline_alarm_disarm();
	errno = e;
	return r;
}

/* The first holder of the lock file, in *h: 1, 0 if none, -1. */
static int
find(struct privlock *pl, struct holder *h)
{
	struct stat st;
	const char *why;

	if (pl->dirfd == -1)
		return 0;	/* no directory (privlock_init), no holder */
	if (open_file(pl, O_RDONLY, &why) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(pl->fd, &st) == -1)
		return -1;
	return holder_find(st.st_dev, st.st_ino, LOCK_KIND_FLOCK, true, 0, -1,
	    h, 1);
}

int
privlock_held(struct privlock *pl)
{
	struct holder h;
	int n = find(pl, &h);

	return n > 0 ? 1 : n;
}

pid_t
privlock_holder(struct privlock *pl, char *comm, size_t len, uid_t *uid)
{
	struct holder h;

	*uid = HOLDER_UID_UNKNOWN;
	if (find(pl, &h) <= 0) {
		holder_comm(0, comm, len);
		return 0;
	}
	*uid = h.uid;
	snprintf(comm, len, "%s", h.comm);
	return h.pid;
}
