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

/*
 * dir's components into buf, one NUL-terminated after another, with
 * empty and "." ones dropped: "/tmp/link/." and "/tmp/link/" are
 * /tmp/link, whose last component O_NOFOLLOW then guards (a trailing "/"
 * or "/." would make open(2) follow a symbolic link there).  A relative
 * dir comes after the working directory's components (getcwd(3) returns
 * no links), so that every ancestor is checked.  Returns how many, or
 * -1 with *why set: EPERM for a ".." component, ENAMETOOLONG, or
 * getcwd's errno.
 */
static int
components(const char *dir, char *buf, size_t len, const char **why)
{
	char cwd[PATH_MAX];
	const char *p, *q, *from[2] = { cwd, dir };
	size_t n, used = 0;
	int i, count = 0;

	cwd[0] = '\0';
	if (*dir != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return failed(why);
	for (i = 0; i < 2; i++)
		for (p = from[i]; *p != '\0'; p = q) {
			while (*p == '/')
				p++;
			for (q = p; *q != '\0' && *q != '/'; q++)
				continue;
			n = (size_t)(q - p);
			if (n == 0 || (n == 1 && *p == '.'))
				continue;
			if (n == 2 && p[0] == '.' && p[1] == '.')
				return refuse(why, "has a '..' component; "
				    "refusing");
			if (used + n + 1 > len) {
				errno = ENAMETOOLONG;
				return failed(why);
			}
			memcpy(buf + used, p, n);
			buf[used + n] = '\0';
			used += n + 1;
			count++;
		}
	return count;
}

/*
 * Why an ancestor of the private directory is unsafe, or NULL.  Whoever
 * may rename or replace an entry of an ancestor can swap the private
 * directory, or one above it, for one of its own while a job holds the
 * lock, and let a second job run.  So, as OpenSSH's safe_path() does for
 * its files, each ancestor must be owned by root or by us and not
 * writable by group or others; but a root-owned sticky directory (/tmp)
 * may be, since there only an entry's owner (the next one down, checked
 * in turn) or root may rename or remove it.
 */
static const char *
unsafe_ancestor(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		if (geteuid() == 0)
			snprintf(why_buf, sizeof(why_buf), "owned by uid %u, "
			    "not 0; refusing", (unsigned)st->st_uid);
		else
			snprintf(why_buf, sizeof(why_buf), "owned by uid %u, "
			    "not 0 or %u; refusing", (unsigned)st->st_uid,
			    (unsigned)geteuid());
		return why_buf;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    ((st->st_mode & S_ISVTX) == 0 || st->st_uid != 0))
		return "writable by group or others; refusing";
	return NULL;
}

/*
 * pl->path becomes the path of an object at fault: the first i of the
 * components in comp, of which the first k are the working directory's;
 * as the user wrote it below the working directory, else absolute.
 */
static void
path_to(struct privlock *pl, const char *comp, int i, int k)
{
	char *p = pl->path;
	int j;

	for (j = 0; j < i; j++, comp += strlen(comp) + 1) {
		if (j < k && i > k)
			continue;
		if (p != pl->path || k == 0 || i <= k)
			*p++ = '/';
		p = stpcpy(p, comp);
	}
	if (p == pl->path)
		*p++ = '/';
	*p = '\0';
}

/* Why fd, the private directory or the file in it, may not be used. */
static const char *
not_ours(int fd, bool dir)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return strerror(errno);
	if (dir && !S_ISDIR(st.st_mode))
		return "not a directory; refusing";
	if (!dir && (!S_ISREG(st.st_mode) || st.st_uid != geteuid()))
		return "not a regular file of our own; refusing";
	if (st.st_uid != geteuid()) {
		snprintf(why_buf, sizeof(why_buf), "owned by uid %u, not %u; "
		    "refusing", (unsigned)st.st_uid, (unsigned)geteuid());
		return why_buf;
	}
	/*
	 * Only the owner (and root) can create, remove or rename names in
	 * a directory nobody else may write: nobody else can put a lock
	 * file there first, or swap ours for one they hold.  And nobody
	 * else may open the file, as a flock needs only that: a 0600 file
	 * may sit in a directory others can search.
	 */
	if (dir && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "writable by group or others; refusing";
	if (!dir && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(why_buf, sizeof(why_buf), "mode %04o: open to group "
		    "or others; refusing", (unsigned)(st.st_mode & 07777));
		return why_buf;
	}
	return NULL;
}

/*
 * Open component c below fd (the last one, at i == n, for reading and
 * made if missing and create), without following a symbolic link.
 */
static int
open_below(int fd, const char *c, bool last, bool create)
{
	int next;

	next = openat(fd, c, (last ? O_RDONLY : O_PATH) | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (next == -1 && errno == ENOENT && last && create) {
		/* EEXIST: a racing solo made it, or someone planted it;
		 * either way the checks decide. */
		if (mkdirat(fd, c, 0700) == -1 && errno != EEXIST)
			return -1;
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	return next;
}

int
privlock_init(struct privlock *pl, const char *dir, const char *name,
    bool create, const char **why)
{
	char comp[PATH_MAX], cwd[PATH_MAX];
	const char *c, *bad = NULL;
	struct stat st;
	int n, k = 0, i, fd, next, e;
	size_t len;

	memset(pl, 0, sizeof(*pl));
	pl->dirfd = pl->fd = -1;
	if (parse_lock_name(name, why) == -1) {
		errno = EINVAL;
		return -1;
	}
	escape(name, pl->file);
	snprintf(pl->path, sizeof(pl->path), "%s", dir);
	/* One byte short: path_to() writes them with a '/' before each. */
	if ((n = components(dir, comp, sizeof(comp) - 1, why)) == -1)
		return -1;
	if (*dir != '/' && (k = components(".", cwd, sizeof(cwd), why)) ==
	    -1)
		return -1;
	/*
	 * From / down, each component opened with O_NOFOLLOW below the one
	 * above and checked with fstat(2) on that descriptor: no symbolic
	 * link is followed anywhere, and what is checked is what is used,
	 * whatever is renamed meanwhile.
	 */
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return failed(why);
	for (i = 0, c = comp; i <= n; i++) {
		if (i > 0) {
			next = open_below(fd, c, i == n, create);
			if (next == -1 && errno == ENOENT && !create) {
				close(fd);
				return 0;	/* nothing there: free */
			}
			if (next == -1)
				break;	/* fd: the parent */
			close(fd);
			fd = next;
			c += strlen(c) + 1;
		}
		/* fd is the first i components: "/" and each ancestor. */
		if (i < n && (fstat(fd, &st) == -1 ||
		    (bad = unsafe_ancestor(&st)) != NULL))
			break;
	}
	if (i <= n || (bad = not_ours(fd, true)) != NULL) {
		/* Failed at component i; below fd, if opening it failed. */
		e = errno;
		if (bad == NULL && (e == ENOTDIR || e == ELOOP) &&
		    fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0)
			bad = S_ISLNK(st.st_mode) ? "is a symbolic link; "
			    "refusing" : "not a directory; refusing";
		close(fd);
		path_to(pl, comp, i <= n ? i : n, k);
		errno = e;
		return bad == NULL ? failed(why) : refuse(why, bad);
	}
	pl->dirfd = fd;
	path_to(pl, comp, n, k);
	len = strlen(pl->path);
	if (len + 1 + strlen(pl->file) >= sizeof(pl->path)) {
		errno = ENAMETOOLONG;
		return failed(why);
	}
	if (strcmp(pl->path, "/") != 0)
		pl->path[len++] = '/';
	memcpy(pl->path + len, pl->file, strlen(pl->file) + 1);
	return 0;
}

/* The lock file's descriptor, made with flags (creating or not), checked. */
static int
open_file(struct privlock *pl, int flags, const char **why)
{
	const char *bad;

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
	if ((bad = not_ours(pl->fd, false)) != NULL) {
		close(pl->fd);
		pl->fd = -1;
		return refuse(why, bad);
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

	/* One try before any deadline check: a free lock is always taken. */
	if ((r = privlock_try(pl)) != 1)
		return r;
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
find(struct privlock *pl, struct holder *h, const char **why)
{
	struct stat st;
	int n;

	if (pl->dirfd == -1)
		return 0;	/* no directory (privlock_init), no holder */
	if (open_file(pl, O_RDONLY, why) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(pl->fd, &st) == -1)
		return failed(why);
	if ((n = holder_find(st.st_dev, st.st_ino, LOCK_KIND_FLOCK, true, 0,
	    -1, h, 1)) == -1)
		return failed(why);
	return n;
}

int
privlock_held(struct privlock *pl, const char **why)
{
	struct holder h;
	int n = find(pl, &h, why);

	return n > 0 ? 1 : n;
}

pid_t
privlock_holder(struct privlock *pl, char *comm, size_t len, uid_t *uid)
{
	struct holder h;
	const char *why;

	*uid = HOLDER_UID_UNKNOWN;
	if (find(pl, &h, &why) <= 0) {
		holder_comm(0, comm, len);
		return 0;
	}
	*uid = h.uid;
	snprintf(comm, len, "%s", h.comm);
	return h.pid;
}
