#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "holder.h"
#include "parse.h"
#include "socklock.h"

/*
 * Waiters queue as connections the holder never accepts.  A backlog of 1
 * would let only two waiters in; the rest would sit in SYN retransmission
 * (1 s, 3 s, 7 s ...) and start late.  With room for many, every waiter
 * sleeps on a live connection and is woken the moment the holder goes.
 */
#define WAITER_BACKLOG	128
#define UNIX_PREFIX	"solo/"

int
socklock_tcp(struct socklock *sl, const char *addr, uid_t uid, int port,
    const char **errstr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&sl->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sl->sa;

	memset(sl, 0, sizeof(*sl));
	sl->fd = -1;
	if (addr == NULL) {
		if (uid > 65535) {
			*errstr = "uid above 65535";
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x7f000001u |
		    ((uint32_t)uid & 0xffff) << 8);
	} else if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			*errstr = "not a loopback address";
			return -1;
		}
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			*errstr = "not a loopback address";
			return -1;
		}
	} else {
		*errstr = "not an IPv4 or IPv6 address";
		return -1;
	}
	if (sl->sa.ss_family == AF_INET) {
		sin->sin_port = htons((uint16_t)port);
		sl->salen = sizeof(*sin);
	} else {
		sin6->sin6_port = htons((uint16_t)port);
		sl->salen = sizeof(*sin6);
	}
	return 0;
}

/*
 * Written on first use: a lock taken without a word never pays for
 * inet_ntop and printf (a few page faults at every start).
 */
const char *
socklock_name(struct socklock *sl)
{
	const struct sockaddr_in *sin = (struct sockaddr_in *)&sl->sa;
	const struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sl->sa;
	const struct sockaddr_un *sun = (struct sockaddr_un *)&sl->sa;
	char buf[INET6_ADDRSTRLEN];
	int e = errno;	/* callers pass it to err() in the same call */

	if (sl->name[0] != '\0')
		return sl->name;
	if (sl->sa.ss_family == AF_UNIX) {
		/* The abstract name runs from after its NUL to salen. */
		snprintf(sl->name, sizeof(sl->name), "@%.*s",
		    (int)(sl->salen - offsetof(struct sockaddr_un, sun_path) -
		    1), sun->sun_path + 1);
	} else if (sl->sa.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		snprintf(sl->name, sizeof(sl->name), "%s:%d", buf,
		    ntohs(sin->sin_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		snprintf(sl->name, sizeof(sl->name), "[%s]:%d", buf,
		    ntohs(sin6->sin6_port));
	}
	errno = e;
	return sl->name;
}

int
socklock_unix(struct socklock *sl, uid_t uid, const char *name,
    const char **errstr)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&sl->sa;
	int n;

	memset(sl, 0, sizeof(*sl));
	sl->fd = -1;
	if (parse_lock_name(name, errstr) == -1)
		return -1;
	sun->sun_family = AF_UNIX;
	/* Abstract namespace: a leading NUL, nothing on the file system. */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
	    UNIX_PREFIX "%u/%s", (unsigned)uid, name);
	sl->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
	return 0;
}

static int
new_socket(const struct socklock *sl)
{
	return socket(sl->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/*
 * A socket to knock at the lock's address with (see knock()).  Closing
 * it resets the connection (SO_LINGER 0) rather than leaving it in
 * TIME_WAIT, where a connection to ourselves would keep the lock's
 * address from every bind for a minute.
 */
static int
new_knocker(const struct socklock *sl)
{
	struct linger lg = { 1, 0 };
	int c;

	if ((c = new_socket(sl)) == -1)
		return -1;
	if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1) {
		close(c);
		return -1;
	}
	return c;
}

/* Do two TCP addresses name the same address and port? */
static bool
same_tcp(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/*
 * Connect c (from new_knocker()) to the lock's address: 0 if a holder
 * listens there, 1 if the address is free after all, -1 with errno set
 * as connect(2) sets it.
 * TCP lets a socket connect to itself.  With nothing bound at the lock's
 * address, the kernel may give c the lock's own port as its local port
 * (when that port lies in ip_local_port_range), and the SYN then meets
 * itself.  Such a connection is no holder, and no port the kernel hands
 * out this way is bound by anyone: so the lock is free.  The caller
 * closes c at once, which resets it and frees the port again.
 */
static int
knock(const struct socklock *sl, int c)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);

	if (connect(c, (const struct sockaddr *)&sl->sa, sl->salen) == -1)
		return -1;
	if (sl->sa.ss_family == AF_UNIX)
		return 0;
	memset(&me, 0, sizeof(me));
	if (getsockname(c, (struct sockaddr *)&me, &len) == -1)
		return -1;
	return same_tcp(&me, &sl->sa) ? 1 : 0;
}

/*
 * Bind fd to the lock's address and listen: 0 with the lock in sl->fd; 1
 * if the address is taken, fd left open and unbound (a failed bind binds
 * nothing), for another try; -1 with errno set and fd closed.
 */
static int
claim(struct socklock *sl, int fd)
{
	int e;

	/* Never SO_REUSEADDR: bind itself is the test-and-set. */
	if (bind(fd, (struct sockaddr *)&sl->sa, sl->salen) == -1) {
		if (errno == EADDRINUSE)
			return 1;
	} else if (listen(fd, WAITER_BACKLOG) == 0) {
		sl->fd = fd;
		return 0;
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
socklock_try(struct socklock *sl)
{
	int fd, r;

	if ((fd = new_socket(sl)) == -1)
		return -1;
	if ((r = claim(sl, fd)) == 1)
		close(fd);
	return r;
}

/* Bound a blocking connect (unix: waiting for room in the queue). */
static void
connect_timeout(int fd, const struct deadline *d)
{
	struct timeval tv = { 0, 0 };
	int ms = deadline_poll_ms(d);

	if (ms >= 0) {
		if (ms == 0)
			ms = 1;
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Sleep us microseconds, or until the deadline if that comes first. */
static void
nap(long us, const struct deadline *d)
{
	struct timespec ts;
	int ms = deadline_poll_ms(d);

	if (ms >= 0 && (long)ms * 1000 < us)
		us = (long)ms * 1000;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	(void)nanosleep(&ts, NULL);	/* EINTR: the loop checks again */
}

int
socklock_wait(struct socklock *sl, const struct deadline *d)
{
	struct pollfd pfd;
	long backoff_us = 0;
	int fd, r, c, e;

	/*
	 * One socket for every try, made now: once woken, taking the lock
	 * is then a bind and a listen, and no more.
	 */
	if ((fd = new_socket(sl)) == -1)
		return -1;
	for (;;) {
		if ((r = claim(sl, fd)) != 1)
			return r;
		if (deadline_passed(d))
			break;
		if ((c = new_knocker(sl)) == -1)
			goto fail;
		connect_timeout(c, d);
		if ((r = knock(sl, c)) == 0) {
			backoff_us = 0;
			/*
			 * The holder never accepts or writes, so this
			 * connection turns readable or hung up only when the
			 * kernel resets it as the holder's socket closes.  If
			 * the holder went before poll() starts, the reset is
			 * already there and poll returns at once: no lost
			 * wake-up.
			 */
			pfd.fd = c;
			pfd.events = POLLIN | POLLRDHUP;
			r = poll(&pfd, 1, deadline_poll_ms(d));
			e = errno;
			close(c);
			if (r == -1 && e != EINTR) {
				errno = e;
				goto fail;
			}
			continue;
		}
		/* Connected to ourselves: nobody listens, as when refused. */
		e = r == 1 ? ECONNREFUSED : errno;
		close(c);
		if (e == EINTR || e == EAGAIN || e == EINPROGRESS ||
		    e == ETIMEDOUT)
			continue;	/* the deadline check above decides */
		/*
		 * EADDRNOTAVAIL: no local port left for the connection
		 * (ip_local_port_range used up); one frees as others close.
		 */
		if (e != ECONNREFUSED && e != ECONNRESET && e != ECONNABORTED &&
		    e != EADDRNOTAVAIL) {
			errno = e;
			goto fail;
		}
		/*
		 * Refused or reset, with the address still bound: a holder
		 * between bind and listen, or, most often, the holder that
		 * just woke us, still closing.  A TCP listener resets its
		 * queued connections before it gives up its port, and a
		 * waiter on another CPU (or one that preempted it) gets
		 * here in between, for up to a few hundred microseconds.
		 * The kernel tells nobody when the port comes free, so
		 * retry: at once, then after 10 us, doubling up to a
		 * second (a socket that holds the address and never
		 * listens must not make us spin).  Sleeping also lets a
		 * holder we preempted finish.
		 */
		if (backoff_us > 0)
			nap(backoff_us, d);
		backoff_us = backoff_us == 0 ? 10 : backoff_us >= 500000 ?
		    1000000 : backoff_us * 2;
	}
	close(fd);
	return 1;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The kernel's hex form of a local address in /proc/net/tcp{,6}. */
static void
proc_hex(const struct socklock *sl, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&sl->sa;
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)&sl->sa;
	uint32_t w[4];

	if (sl->sa.ss_family == AF_INET) {
		snprintf(buf, len, "%08X:%04X", (unsigned)sin->sin_addr.s_addr,
		    (unsigned)ntohs(sin->sin_port));
		return;
	}
	memcpy(w, &sin6->sin6_addr, sizeof(w));
	snprintf(buf, len, "%08X%08X%08X%08X:%04X", (unsigned)w[0],
	    (unsigned)w[1], (unsigned)w[2], (unsigned)w[3],
	    (unsigned)ntohs(sin6->sin6_port));
}

/*
 * Inode of a socket bound to sl's address (listening ones first), or 0;
 * for TCP, *uid gets the uid column of /proc/net/tcp{,6} (the socket's
 * creator's effective uid), if uid is not NULL.
 */
static unsigned long
bound_inode(const struct socklock *sl, uid_t *uid)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&sl->sa;
	char line[512], local[80], want[80];
	unsigned long ino, any = 0, u;
	unsigned flags, type, st;
	FILE *fp;
	int off;

	if (sl->sa.ss_family == AF_UNIX) {
		if ((fp = fopen("/proc/net/unix", "re")) == NULL)
			return 0;
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (sscanf(line, "%*s %*s %*s %x %x %x %lu %n", &flags,
			    &type, &st, &ino, &off) != 4)
				continue;
			if (line[off] == '@' &&
			    strcmp(line + off + 1, sun->sun_path + 1) == 0 &&
			    (flags & 0x10000) != 0) {	/* listening */
				any = ino;
				break;
			}
		}
		fclose(fp);
		return any;
	}
	proc_hex(sl, want, sizeof(want));
	if ((fp = fopen(sl->sa.ss_family == AF_INET ? "/proc/net/tcp" :
	    "/proc/net/tcp6", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%*d: %79s %*s %x %*s %*s %*s %lu %*d %lu",
		    local, &st, &u, &ino) != 4 || strcasecmp(local, want) != 0)
			continue;
		if (st == 0x0A || any == 0) {	/* TCP_LISTEN first */
			any = ino;
			if (uid != NULL)
				*uid = (uid_t)u;
		}
		if (st == 0x0A)
			break;
	}
	fclose(fp);
	return any;
}

bool
socklock_open_to_all(const struct socklock *sl, int *start)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&sl->sa;
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)&sl->sa;
	FILE *fp;
	int port;

	*start = 1024;	/* the kernel's default */
	if ((fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "re")) != NULL) {
		if (fscanf(fp, "%d", start) != 1)
			*start = 1024;
		fclose(fp);
	}
	if (sl->sa.ss_family == AF_UNIX)
		return true;
	port = ntohs(sl->sa.ss_family == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
	return port >= *start;
}

int
socklock_held(const struct socklock *sl)
{
	struct deadline d;
	struct timespec second = { 1, 0 };
	int c, r, e;

	if ((c = new_knocker(sl)) == -1)
		return -1;
	deadline_start(&d, &second);
	connect_timeout(c, &d);
	r = knock(sl, c);
	e = errno;
	close(c);
	if (r == 1)
		return 0;	/* connected to ourselves: nobody is there */
	if (r == 0 || e == EAGAIN || e == EINPROGRESS || e == ETIMEDOUT)
		return 1;	/* listening, perhaps with a full queue */
	if (e != ECONNREFUSED) {
		errno = e;
		return -1;
	}
	/* Refused, but an address bound without listening is still taken. */
	return bound_inode(sl, NULL) != 0;
}

/*
 * The credentials a unix socket's holder had when it called listen(2),
 * which the kernel gives whoever connects (SO_PEERCRED): 0, or -1.
 */
static int
listener_cred(const struct socklock *sl, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);
	int c, r = -1;

	/* Non-blocking: a full queue must not stall a message. */
	if ((c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	/* Never accepted: the holder sees nothing, and close drops it. */
	if (connect(c, (const struct sockaddr *)&sl->sa, sl->salen) == 0 &&
	    getsockopt(c, SOL_SOCKET, SO_PEERCRED, uc, &len) == 0 &&
	    uc->pid > 0)
		r = 0;
	close(c);
	return r;
}

pid_t
socklock_holder(const struct socklock *sl, char *comm, size_t len,
    uid_t *uid)
{
	struct ucred uc;
	unsigned long ino;
	pid_t pid;
	uid_t u;

	*uid = HOLDER_UID_UNKNOWN;
	ino = bound_inode(sl, uid);
	pid = ino != 0 ? holder_of_socket(ino) : 0;
	/*
	 * Another user's descriptors are hidden from us in /proc; a unix
	 * socket's listener still tells its pid and uid to a connection.
	 */
	if (pid == 0 && sl->sa.ss_family == AF_UNIX &&
	    listener_cred(sl, &uc) == 0) {
		pid = uc.pid;
		*uid = uc.uid;
	}
	if (pid > 0 && (u = holder_uid(pid)) != HOLDER_UID_UNKNOWN)
		*uid = u;
	holder_comm(pid, comm, len);
	return pid;
}
