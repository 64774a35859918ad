#include <sys/sysmacros.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holder.h"

struct lockline {
	enum lock_kind	kind;
	bool		exclusive;
	pid_t		pid;
	unsigned	maj, min;
	unsigned long	ino;
	off_t		start, end;
};

const char *
lock_kind_name(enum lock_kind k)
{
	switch (k) {
	case LOCK_KIND_FLOCK:
		return "flock";
	case LOCK_KIND_OFD:
		return "ofd";
	default:
		return "posix";
	}
}

/*
 * Parse one lock description as /proc/locks and fdinfo write it:
 * "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF".  Waiters ("1: ->
 * FLOCK ...") and leases are not holders and are refused.
 */
static int
parse_lockline(const char *s, struct lockline *l)
{
	char type[16], mode[16], rw[16], end[24];
	long long start;
	int pid;

	if (sscanf(s, "%*d: %15s %15s %15s %d %x:%x:%lu %lld %23s",
	    type, mode, rw, &pid, &l->maj, &l->min, &l->ino, &start,
	    end) != 9)
		return -1;
	if (strcmp(type, "FLOCK") == 0)
		l->kind = LOCK_KIND_FLOCK;
	else if (strcmp(type, "OFDLCK") == 0)
		l->kind = LOCK_KIND_OFD;
	else if (strcmp(type, "POSIX") == 0)
		l->kind = LOCK_KIND_POSIX;
	else
		return -1;
	if (strcmp(rw, "WRITE") == 0)
		l->exclusive = true;
	else if (strcmp(rw, "READ") == 0)
		l->exclusive = false;
	else
		return -1;
	l->pid = pid;
	l->start = (off_t)start;
	l->end = strcmp(end, "EOF") == 0 ? -1 : (off_t)strtoll(end, NULL, 10);
	return 0;
}

static bool
overlaps(off_t s1, off_t e1, off_t s2, off_t e2)
{
	return (e1 == -1 || s2 <= e1) && (e2 == -1 || s1 <= e2);
}

static bool
conflicts(const struct lockline *l, dev_t dev, ino_t ino, enum lock_kind k,
    bool exclusive, off_t start, off_t end)
{
	if (l->maj != major(dev) || l->min != minor(dev) || l->ino != ino)
		return false;
	if ((l->kind == LOCK_KIND_FLOCK) != (k == LOCK_KIND_FLOCK))
		return false;
	if (!exclusive && !l->exclusive)
		return false;
	return overlaps(l->start, l->end, start, end);
}

/*
 * The start of /proc/PID/WHAT, NUL-terminated in buf (len > 1): the
 * number of bytes read, or -1 if it cannot be read or is empty.
 */
static ssize_t
read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

void
holder_comm(pid_t pid, char *buf, size_t len)
{
	if (read_proc(pid, "comm", buf, len) == -1) {
		snprintf(buf, len, "?");
		return;
	}
	buf[strcspn(buf, "\n")] = '\0';
	holder_printable(buf, false);
	if (*buf == '\0')
		snprintf(buf, len, "?");
}

void
holder_printable(char *s, bool blanks)
{
	for (; *s != '\0'; s++)
		if (blanks ? !isprint((unsigned char)*s) :
		    !isgraph((unsigned char)*s))
			*s = '?';
}

uid_t
holder_uid(pid_t pid)
{
	char buf[1024], *p;
	unsigned long uid;

	if (pid <= 0 || read_proc(pid, "status", buf, sizeof(buf)) == -1)
		return HOLDER_UID_UNKNOWN;
	/* "Uid:\tREAL\tEFFECTIVE\tSAVED\tFS", well inside the first 1 KiB. */
	if ((p = strstr(buf, "\nUid:")) == NULL ||
	    sscanf(p + 5, "%lu", &uid) != 1 || uid >= HOLDER_UID_UNKNOWN)
		return HOLDER_UID_UNKNOWN;
	return (uid_t)uid;
}

const char *
holder_whose(uid_t uid, char *buf, size_t len)
{
	if (uid == HOLDER_UID_UNKNOWN)
		return " of unknown owner";
	if (uid == getuid())
		return "";
	snprintf(buf, len, " of another user (uid %u)", (unsigned)uid);
	return buf;
}

static bool
seen(const struct holder *h, size_t n, const struct holder *c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].pid == c->pid && h[i].kind == c->kind &&
		    h[i].exclusive == c->exclusive && h[i].start == c->start &&
		    h[i].end == c->end)
			return true;
	return false;
}

/* Whether a holder found through fdinfo already has lock line l's lock. */
static bool
listed(const struct holder *h, size_t n, const struct lockline *l)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].pid > 0 && h[i].kind == l->kind &&
		    h[i].exclusive == l->exclusive && h[i].start == l->start &&
		    h[i].end == l->end)
			return true;
	return false;
}

static size_t
add(struct holder *h, size_t n, size_t max, const struct lockline *l,
    pid_t pid)
{
	struct holder c;

	if (n >= max)
		return n;
	memset(&c, 0, sizeof(c));
	c.pid = pid > 0 ? pid : 0;
	c.kind = l->kind;
	c.exclusive = l->exclusive;
	c.start = l->start;
	c.end = l->end;
	if (seen(h, n, &c))
		return n;
	if (c.pid > 0)
		holder_comm(c.pid, c.comm, sizeof(c.comm));
	else
		snprintf(c.comm, sizeof(c.comm), "?");
	c.uid = holder_uid(c.pid);
	h[n] = c;
	return n + 1;
}

/* Every process with a matching lock line in one of its fdinfo files. */
static size_t
scan_fdinfo(const struct lockline *l, struct holder *h, size_t n, size_t max)
{
	char path[64], buf[4096];
	struct lockline fl;
	struct dirent *pe, *fe;
	DIR *proc, *fds;
	ssize_t r;
	pid_t pid;
	int fd;

	if ((proc = opendir("/proc")) == NULL)
		return n;
	while (n < max && (pe = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = (pid_t)strtol(pe->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
		if ((fds = opendir(path)) == NULL)
			continue;
		while (n < max && (fe = readdir(fds)) != NULL) {
			if (!isdigit((unsigned char)fe->d_name[0]))
				continue;
			if ((fd = openat(dirfd(fds), fe->d_name,
			    O_RDONLY | O_CLOEXEC)) == -1)
				continue;
			r = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (r <= 0)
				continue;
			buf[r] = '\0';
			for (char *p = strstr(buf, "lock:\t"); p != NULL;
			    p = strstr(p + 1, "lock:\t")) {
				if (parse_lockline(p + 6, &fl) == 0 &&
				    fl.kind == l->kind && fl.maj == l->maj &&
				    fl.min == l->min && fl.ino == l->ino &&
				    fl.exclusive == l->exclusive &&
				    fl.start == l->start && fl.end == l->end)
					n = add(h, n, max, &fl, pid);
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return n;
}

int
holder_find(dev_t dev, ino_t ino, enum lock_kind k, bool exclusive,
    off_t start, off_t end, struct holder *h, size_t max)
{
	struct lockline l;
	char line[256];
	size_t n = 0, before;
	FILE *fp;

	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		if (parse_lockline(line, &l) == -1 ||
		    !conflicts(&l, dev, ino, k, exclusive, start, end))
			continue;
		if (l.kind == LOCK_KIND_POSIX) {
			n = add(h, n, max, &l, l.pid);
			continue;
		}
		/*
		 * flock and OFD locks are held by whoever has the open file
		 * description; /proc/locks shows only the pid that took it
		 * (or -1), which may have gone while a child keeps the lock.
		 */
		/*
		 * Two descriptions with identical lock lines (same kind,
		 * mode and range) have the same fdinfo holders: the scan for
		 * the first found them all, and a second scan finding nothing
		 * new must not add the line's own pid (-1 for OFD) as a
		 * phantom holder.
		 */
		if (listed(h, n, &l))
			continue;
		before = n;
		n = scan_fdinfo(&l, h, n, max);
		if (n == before)
			n = add(h, n, max, &l, l.pid);
	}
	fclose(fp);
	return (int)n;
}

void
holder_print(FILE *fp, const struct holder *h)
{
	char pid[16], whose[48];

	if (h->pid > 0)
		snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	else
		snprintf(pid, sizeof(pid), "?");
	fprintf(fp, "%s %s %s %s %jd-", pid, h->comm, lock_kind_name(h->kind),
	    h->exclusive ? "exclusive" : "shared", (intmax_t)h->start);
	if (h->end == -1)
		fprintf(fp, "EOF");
	else
		fprintf(fp, "%jd", (intmax_t)h->end);
	fprintf(fp, "%s\n", holder_whose(h->uid, whose, sizeof(whose)));
}

/* Does pid have a descriptor for the socket whose link text is want? */
static bool
has_socket(pid_t pid, const char *want)
{
	char link[64], path[64];
	struct dirent *fe;
	DIR *fds;
	ssize_t n;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((fds = opendir(path)) == NULL)
		return false;
	while (!found && (fe = readdir(fds)) != NULL) {
		n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(fds);
	return found;
}

size_t
holder_socket_pids(unsigned long ino, pid_t *pids, size_t max)
{
	char want[48];
	struct dirent *pe;
	DIR *proc;
	size_t n = 0;
	pid_t pid;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (pe = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = (pid_t)strtol(pe->d_name, NULL, 10);
		if (has_socket(pid, want))
			pids[n++] = pid;
	}
	closedir(proc);
	return n;
}

pid_t
holder_of_socket(unsigned long ino)
{
	pid_t pid;

	return holder_socket_pids(ino, &pid, 1) == 1 ? pid : 0;
}

bool
holder_has_socket(pid_t pid, unsigned long ino)
{
	char want[48];

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	return has_socket(pid, want);
}
