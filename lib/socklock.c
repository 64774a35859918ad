#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "holder.h"
#include "parse.h"
#include "socklock.h"
#include "waitroom.h"

/*
 * Waiters queue as connections the holder never accepts, each asleep on
 * its own until the kernel resets it as the holder's socket closes.  The
 * queue must hold every waiter: a connection that finds it full is
 * dropped (TCP drops the SYN and retransmits it 1, 2, 4, 8 ... s later).
 * listen(2) trims the backlog to net.core.somaxconn (4096 on kernels from
 * 5.4, 128 before), so ask for the most; a waiter that still finds no
 * room falls back to retrying bind (see socklock_wait()).
 */
#define WAITER_BACKLOG	65535
/*
 * Retrying bind without an event to wait for (no connection can be made
 * or queued, or the address is bound by a socket that does not listen):
 * at once, then after BACKOFF_MIN_US, doubling up to BACKOFF_MAX_US.  The cap
 * bounds how long the lock can lie free while such a waiter sleeps, well
 * under the 50 ms between holders we promise; it costs a waiter about
 * fifty binds a second, a few microseconds each.
 */
#define BACKOFF_MIN_US	50
#define BACKOFF_MAX_US	20000
/* Loopback answers a SYN in microseconds: one unanswered this long was
 * dropped, by a full queue or a firewall. */
#define SYN_WAIT_MS	100
/*
 * A queued waiter sleeps until the reset, and no longer than this before
 * it tries bind again: should a wake-up ever be lost (none is known: the
 * reset is queued before the holder's socket leaves its name), the lock
 * lies free for a second at most, not until the deadline.  The same
 * bound serves when the room's head cannot watch (stopped by SIGSTOP or
 * ^Z): each sleep lasts a random time between half of this and all of it
 * (recheck_us()), so that waiters never recheck in step, and of N such
 * waiters one finds the lock free within about 1/N s on average, not
 * all of them in the same instant and then none for a second.
 */
#define QUEUED_RECHECK_US	1000000
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

/* A socket of the lock's family; -1 with errno and sl->failed set. */
static int
new_socket(struct socklock *sl, int flags)
{
	int fd;

	if ((fd = socket(sl->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags,
	    0)) == -1)
		sl->failed = "create a socket";
	return fd;
}

/* Close fd keeping errno: for the error paths. */
static void
close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/*
 * A socket to knock at the lock's address with (see knock()),
 * non-blocking.  Closing it resets the connection (SO_LINGER 0) rather
 * than leaving it in TIME_WAIT, where a connection to ourselves would
 * keep the lock's address from every bind for a minute.
 */
static int
new_knocker(struct socklock *sl)
{
	struct linger lg = { 1, 0 };
	int c;

	if ((c = new_socket(sl, SOCK_NONBLOCK)) == -1)
		return -1;
	if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1) {
		sl->failed = "set SO_LINGER";
		close_keep_errno(c);
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

/* What a knock at the lock's address found. */
enum knock {
	KNOCK_QUEUED,	/* a holder listens: we wait in its queue */
	KNOCK_PENDING,	/* no answer yet (TCP): SYN_WAIT_MS decides */
	KNOCK_FREE,	/* connected to ourselves: nobody is there */
	KNOCK_REFUSED,	/* nobody listens, though a socket may be bound */
	KNOCK_NONE	/* no connection can be made, or queued, here */
};

/*
 * c has connected.  TCP lets a socket connect to itself: with nothing
 * bound at the lock's address, the kernel may give c the lock's own port
 * as its local port (when that port lies in ip_local_port_range), and
 * the SYN then meets itself.  Such a connection is no holder, and no port
 * the kernel hands out this way is bound by anyone: so the lock is free.
 * The caller closes c at once, which resets it and frees the port again.
 */
static int
connected(struct socklock *sl, int c)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);

	if (sl->sa.ss_family == AF_UNIX)
		return KNOCK_QUEUED;
	memset(&me, 0, sizeof(me));
	if (getsockname(c, (struct sockaddr *)&me, &len) == -1) {
		sl->failed = "getsockname";
		return -1;
	}
	return same_tcp(&me, &sl->sa) ? KNOCK_FREE : KNOCK_QUEUED;
}

/* A connect(2) error as a knock's finding, or -1 (sl->failed set). */
static int
connect_error(struct socklock *sl, int e)
{
	switch (e) {
	case EINPROGRESS:
	case EALREADY:
	case EINTR:
		return KNOCK_PENDING;
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ETIMEDOUT:
		return KNOCK_REFUSED;
	/*
	 * No route: loopback down (unshare -n), or no IPv6 on it; no
	 * local port left (ip_local_port_range used up); a unix
	 * listener's queue full (EAGAIN); a firewall or security module
	 * refusing.  The lock itself may still work: bind decides.
	 */
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EADDRNOTAVAIL:
	case EAGAIN:
	case EACCES:
	case EPERM:
		return KNOCK_NONE;
	default:
		sl->failed = "connect";
		errno = e;
		return -1;
	}
}

/*
 * Connect a new non-blocking socket to the lock's address.  Returns a
 * knock's finding, with the connection in *cp when QUEUED or PENDING
 * (else *cp is -1), or -1 with errno and sl->failed set.
 */
static int
knock(struct socklock *sl, int *cp)
{
	int c, k;

	*cp = -1;
	if ((c = new_knocker(sl)) == -1)
		return -1;
	if (connect(c, (const struct sockaddr *)&sl->sa, sl->salen) == 0)
		k = connected(sl, c);
	else
		k = connect_error(sl, errno);
	if (k == KNOCK_QUEUED || k == KNOCK_PENDING)
		*cp = c;
	else
		close_keep_errno(c);
	return k;
}

bool
socklock_was_reset(int c)
{
	socklen_t len = sizeof(int);
	int e = 0;

	return getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &len) == -1 || e != 0;
}

/* A PENDING knock's c has turned writable: what did the connect find? */
static int
knock_result(struct socklock *sl, int c)
{
	socklen_t len = sizeof(int);
	int e;

	if (getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &len) == -1) {
		sl->failed = "getsockopt";
		return -1;
	}
	return e == 0 ? connected(sl, c) : connect_error(sl, e);
}

/*
 * Bind fd to the lock's address and listen: 0 with the lock in sl->fd; 1
 * if the address is taken, fd left open and unbound (a failed bind binds
 * nothing), for another try; -1 with errno and sl->failed set, fd closed.
 */
static int
claim(struct socklock *sl, int fd)
{
	/* Never SO_REUSEADDR: bind itself is the test-and-set. */
	if (bind(fd, (struct sockaddr *)&sl->sa, sl->salen) == -1) {
		if (errno == EADDRINUSE)
			return 1;
		sl->failed = "bind";
	} else if (listen(fd, WAITER_BACKLOG) == 0) {
		sl->fd = fd;
		return 0;
	} else
		sl->failed = "listen";
	close_keep_errno(fd);
	return -1;
}

int
socklock_try(struct socklock *sl)
{
	int fd, r;

	if ((fd = new_socket(sl, 0)) == -1)
		return -1;
	if ((r = claim(sl, fd)) == 1)
		close(fd);
	return r;
}

/*
 * Sleep in poll(2) on *pfd (none if its fd is -1) for us microseconds,
 * or until the deadline if that comes first; us < 0: the deadline only.
 * Returns poll's count, 0 also when interrupted (the caller's loop looks
 * again), or -1 with errno and sl->failed set.
 */
static int
sleep_on(struct socklock *sl, struct pollfd *pfd, long us,
    const struct deadline *d)
{
	struct timespec ts, *tsp = NULL;
	int ms = deadline_poll_ms(d), r;

	if (ms >= 0 && (us < 0 || (long)ms * 1000 < us))
		us = (long)ms * 1000;
	if (us >= 0) {
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (us % 1000000) * 1000;
		tsp = &ts;
	}
	if ((r = ppoll(pfd, pfd->fd == -1 ? 0 : 1, tsp, NULL)) == -1) {
		if (errno == EINTR)
			return 0;
		sl->failed = "poll";
	}
	return r;
}

/* The next backoff: at once, then BACKOFF_MIN_US doubling to the cap. */
static long
backoff_step(long *us)
{
	long now = *us;

	*us = now == 0 ? BACKOFF_MIN_US : now >= BACKOFF_MAX_US / 2 ?
	    BACKOFF_MAX_US : now * 2;
	return now;
}

/* A queued waiter's next sleep: QUEUED_RECHECK_US / 2 to it, at random. */
static long
recheck_us(void)
{
	return QUEUED_RECHECK_US / 2 +
	    (long)arc4random_uniform(QUEUED_RECHECK_US / 2 + 1);
}

/*
 * The lock's waiting room (waitroom.h), one for each user: "solo-queue/"
 * then "UID/NAME" for the abstract name "solo/UID/NAME", or "tcp/", the
 * effective uid and the address for a TCP lock ("tcp/1000/127.0.0.1:80").
 * The two never meet: a name's room goes on with the digits of a uid, a
 * port's with "tcp", though a name may read "127.0.0.1:80".  For a port
 * that several users share (-a), each user queues in a room of their own
 * and a hand-off wakes one head for each user that waits: a room joined
 * across users would let one user's squatter stall another's waiters.
 */
static void
room_init(struct socklock *sl, struct waitroom *wr, bool queue)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&sl->sa;
	char id[128];

	if (!queue) {
		waitroom_init(wr, "");
		wr->usable = false;
		return;
	}
	if (sl->sa.ss_family == AF_UNIX)
		snprintf(id, sizeof(id), "%.*s", (int)(sl->salen -
		    offsetof(struct sockaddr_un, sun_path) - 1 -
		    strlen(UNIX_PREFIX)), sun->sun_path + 1 + strlen(UNIX_PREFIX));
	else
		snprintf(id, sizeof(id), "tcp/%u/%s", (unsigned)geteuid(),
		    socklock_name(sl));
	waitroom_init(wr, id);
}

/*
 * One turn in the waiting room, for a waiter that is not its head: join
 * it, or sleep in our place until the room comes to us, the room goes
 * (join again), recheck_us() passes or the deadline comes.  The
 * caller tries the lock after each turn: a recheck keeps our place, so a
 * room held by a squatter of our own uid, or a wake-up lost, costs a
 * second at most.  Returns 0, or -1 with errno and sl->failed set.
 */
static int
room_turn(struct socklock *sl, struct waitroom *wr, long *backoff_us,
    const struct deadline *d)
{
	struct pollfd pfd = { -1, POLLIN | POLLRDHUP, 0 };
	int r;

	switch (waitroom_join(wr)) {
	case WAITROOM_HEAD:
	case WAITROOM_NONE:
		*backoff_us = 0;
		return 0;
	case WAITROOM_RETRY:
		/* A new head between its bind and listen: let it finish. */
		pfd.fd = -1;
		return sleep_on(sl, &pfd, backoff_step(backoff_us), d) == -1 ?
		    -1 : 0;
	case WAITROOM_QUEUED:
		break;
	}
	/*
	 * The head writes nothing but the room, and the room's listener
	 * resets our connection as it closes: either turns it readable, and
	 * if that happened before poll starts, poll returns at once.
	 */
	pfd.fd = waitroom_fd(wr);
	if ((r = sleep_on(sl, &pfd, recheck_us(), d)) == -1)
		return -1;
	if (r > 0 && waitroom_receive(wr) == WAITROOM_RETRY)
		*backoff_us = 0;	/* the room went: join again at once */
	return 0;
}

/*
 * Waiters line up in a waiting room (waitroom.h) when queue is true:
 * only its head watches the lock, as below, so a release wakes one
 * process rather than every waiter, which all raced for bind, and the
 * losers to connect again, with the winner's command competing with them
 * for the CPU.  The room only decides who watches: bind stays the only
 * test-and-set, so whatever befalls the room (its head killed, a
 * descriptor lost in flight, a squatter), the lock holds one holder at
 * most and some waiter tries it within QUEUED_RECHECK_US.
 */
static int
wait_lock(struct socklock *sl, const struct deadline *d, bool queue)
{
	struct pollfd pfd = { -1, 0, 0 };
	struct waitroom wr;
	long backoff_us = 0;
	bool reset;
	int fd, r, k;

	room_init(sl, &wr, queue);
	/*
	 * One socket for every try, made now: once woken, taking the lock
	 * is then a bind and a listen, and no more.
	 */
	if ((fd = new_socket(sl, 0)) == -1)
		return -1;
	for (;;) {
		if ((r = claim(sl, fd)) != 1) {
			fd = -1;	/* the lock's now, or closed */
			break;
		}
		if (deadline_passed(d))
			break;
		if (wr.usable && wr.head == -1) {
			if (room_turn(sl, &wr, &backoff_us, d) == -1)
				goto fail;
			continue;
		}
		if (pfd.fd == -1)
			k = knock(sl, &pfd.fd);
		else if (pfd.events & POLLIN) {
			/*
			 * Queued: the holder never accepts or writes, so
			 * the connection turns readable or hung up only when
			 * the kernel resets it as the holder's socket
			 * closes.  If the holder went before poll() starts,
			 * the reset is already there and poll returns at
			 * once: no lost wake-up.  Bounded all the same (see
			 * QUEUED_RECHECK_US); a timeout keeps our place.
			 */
			r = sleep_on(sl, &pfd, recheck_us(), d);
			if (r == -1)
				goto fail;
			if (r == 0)
				continue;
			/*
			 * Not reset: the holder accepted us and closed, or
			 * wrote; no solo, but a server on the port.  It
			 * would wake us as soon as we knock again: back off
			 * first, as for a refused knock.
			 */
			reset = socklock_was_reset(pfd.fd);
			close(pfd.fd);
			pfd.fd = -1;
			if (reset)
				backoff_us = 0;	/* the holder went */
			else if (sleep_on(sl, &pfd, backoff_step(&backoff_us),
			    d) == -1)
				goto fail;
			continue;
		} else {
			/*
			 * Pending: a SYN not answered yet.  Loopback answers
			 * in microseconds unless the holder's queue is full
			 * and dropped it; the retransmission may still queue
			 * us, but comes a second or more later, so try bind
			 * meanwhile, backing off.
			 */
			r = sleep_on(sl, &pfd, backoff_step(&backoff_us), d);
			if (r == -1)
				goto fail;
			if (r == 0)
				continue;
			k = knock_result(sl, pfd.fd);
		}
		if (k == -1)
			goto fail;
		if (k == KNOCK_QUEUED || k == KNOCK_PENDING) {
			pfd.events = k == KNOCK_QUEUED ? POLLIN | POLLRDHUP :
			    POLLOUT;
			continue;
		}
		/*
		 * No event to wait for: no connection can be made here
		 * (loopback down) or queued (a unix listener's queue full);
		 * or refused with the address still bound, by a holder
		 * between bind and listen or, most often, by the holder that
		 * just woke us, still closing (a TCP listener resets its
		 * queue before it gives up its port, and a waiter on another
		 * CPU gets here in between).  Retry bind after a backoff:
		 * at once, then from BACKOFF_MIN_US doubling to
		 * BACKOFF_MAX_US.  Sleeping also lets a holder we preempted
		 * finish.
		 */
		if (pfd.fd != -1) {
			close(pfd.fd);
			pfd.fd = -1;
		}
		if (k == KNOCK_FREE)
			backoff_us = 0;	/* nobody there: bind at once */
		if (sleep_on(sl, &pfd, backoff_step(&backoff_us), d) == -1)
			goto fail;
	}
	/*
	 * Taken (before our caller's exec: the room is close-on-exec and
	 * must go now), timed out or failed: the next waiter is the head.
	 */
	waitroom_leave(&wr);
	if (pfd.fd != -1)
		close_keep_errno(pfd.fd);
	if (fd != -1)
		close(fd);
	return r;
fail:
	waitroom_leave(&wr);
	if (pfd.fd != -1)
		close_keep_errno(pfd.fd);
	close_keep_errno(fd);
	return -1;
}

int
socklock_wait(struct socklock *sl, const struct deadline *d)
{
	return wait_lock(sl, d, true);
}

int
socklock_wait_direct(struct socklock *sl, const struct deadline *d)
{
	return wait_lock(sl, d, false);
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

/*
 * Whether bind says the address is taken: 1 taken, 0 free, -1 with errno
 * and sl->failed set.  For when no connection can tell: the probe holds a
 * free address for the microseconds between its bind and its close, and
 * a locker without -w binding just then is told it is held.
 */
static int
bind_probe(struct socklock *sl)
{
	int fd, r;

	if ((fd = new_socket(sl, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sl->sa, sl->salen) == 0)
		r = 0;
	else if (errno == EADDRINUSE)
		r = 1;
	else {
		sl->failed = "bind";
		r = -1;
	}
	close_keep_errno(fd);
	return r;
}

int
socklock_held(struct socklock *sl)
{
	struct pollfd pfd;
	int c, k, r;

	if ((k = knock(sl, &c)) == KNOCK_PENDING) {
		pfd.fd = c;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, SYN_WAIT_MS);
		while (r == -1 && errno == EINTR);
		if (r == -1) {
			sl->failed = "poll";
			k = -1;
		} else
			k = r == 0 ? KNOCK_NONE : knock_result(sl, c);
	}
	if (c != -1)
		close_keep_errno(c);
	switch (k) {
	case KNOCK_QUEUED:
		return 1;
	case KNOCK_FREE:
		return 0;
	case KNOCK_REFUSED:
		/* An address bound without listening is still taken. */
		return bound_inode(sl, NULL) != 0;
	case KNOCK_PENDING:
	case KNOCK_NONE:
		/* Unanswered, or no connection here: bind decides. */
		return bind_probe(sl);
	default:
		return -1;
	}
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

/*
 * The owner of unix socket ino, from the kernel's sock_diag netlink
 * (UNIX_DIAG_UID, Linux 5.3 and later: the uid that made the socket):
 * what a holder cannot hide, as it can its pid (in another user's /proc)
 * and its SO_PEERCRED (a full listen queue refuses our connection).
 * HOLDER_UID_UNKNOWN if the kernel does not say.
 */
static uid_t
unix_owner(unsigned long ino)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} q;
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *h = (const struct nlmsghdr *)(void *)buf;
	const struct unix_diag_msg *m;
	const struct rtattr *a;
	uid_t uid = HOLDER_UID_UNKNOWN;
	uint32_t u;
	ssize_t n;
	int fd, alen;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return uid;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_ino = (uint32_t)ino;
	q.req.udiag_show = UDIAG_SHOW_UID;
	/* No cookie to match: INET_DIAG_NOCOOKIE. */
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;
	if (send(fd, &q, sizeof(q), 0) == (ssize_t)sizeof(q) &&
	    (n = recv(fd, buf, sizeof(buf), 0)) > 0 &&
	    NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*m))) {
		m = NLMSG_DATA(h);
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (a = (const struct rtattr *)(m + 1); m->udiag_ino == ino &&
		    RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == UNIX_DIAG_UID &&
			    RTA_PAYLOAD(a) >= sizeof(u)) {
				memcpy(&u, RTA_DATA(a), sizeof(u));
				uid = (uid_t)u;
			}
	}
	close(fd);
	return uid;
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
	if (pid == 0 && sl->sa.ss_family == AF_UNIX && ino != 0)
		*uid = unix_owner(ino);
	if (pid > 0 && (u = holder_uid(pid)) != HOLDER_UID_UNKNOWN)
		*uid = u;
	holder_comm(pid, comm, len);
	return pid;
}

/* A socket's line in /proc/net/tcp or tcp6. */
struct tcpline {
	char		addr[33];	/* local address, the kernel's hex */
	unsigned	port;
	unsigned	st;		/* state; 0x0A is TCP_LISTEN */
	unsigned long	uid, ino;
};

static int
parse_tcpline(const char *line, struct tcpline *t)
{
	return sscanf(line, "%*d: %32[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %lu "
	    "%*d %lu", t->addr, &t->port, &t->st, &t->uid, &t->ino) == 5 ?
	    0 : -1;
}

/*
 * Fill h for the socket ino: its pid and command, and its uid if the
 * socket's line gave none: the process's.
 */
static void
who_has(struct socklock_holder *h, unsigned long ino)
{
	h->pid = ino != 0 ? holder_of_socket(ino) : 0;
	holder_comm(h->pid, h->comm, sizeof(h->comm));
	if (h->uid == HOLDER_UID_UNKNOWN)
		h->uid = holder_uid(h->pid);
}

/*
 * The listening sockets of one of /proc/net/tcp (v6 false) or tcp6 on a
 * per-user address: uid's, or any if all.  The kernel writes each 32-bit
 * word of an address as the hex of its value in host byte order.
 */
static int
list_tcp(bool v6, uid_t uid, bool all,
    void (*fn)(const struct socklock_holder *, void *), void *arg)
{
	struct socklock sl;
	struct sockaddr_in *sin = (struct sockaddr_in *)&sl.sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sl.sa;
	struct socklock_holder h;
	struct tcpline t;
	char line[512], word[9];
	uint32_t w[4], a;
	size_t i, words = v6 ? 4 : 1;
	FILE *fp;

	if ((fp = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "re")) ==
	    NULL)
		return v6 && errno == ENOENT ? 0 : -1;	/* no IPv6 */
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (parse_tcpline(line, &t) == -1 || t.st != 0x0A ||
		    strlen(t.addr) != words * 8)
			continue;
		for (i = 0; i < words; i++) {
			memcpy(word, t.addr + i * 8, 8);
			word[8] = '\0';
			w[i] = (uint32_t)strtol(word, NULL, 16);
		}
		memset(&sl, 0, sizeof(sl));
		if (v6) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)t.port);
			memcpy(&sin6->sin6_addr, w, sizeof(w));
			if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
				continue;
			a = ntohl(w[3]);
		} else {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)t.port);
			sin->sin_addr.s_addr = w[0];
			a = ntohl(w[0]);
		}
		/* 127.A.B.1, and A.B the uid's (uids above 65535 have none) */
		if ((a & 0xff0000ffu) != 0x7f000001u ||
		    (!all && (uid > 65535 || (a >> 8 & 0xffff) != uid)))
			continue;
		memset(&h, 0, sizeof(h));
		snprintf(h.address, sizeof(h.address), "%s",
		    socklock_name(&sl));
		h.kind = "tcp";
		h.uid = (uid_t)t.uid;
		who_has(&h, t.ino);
		fn(&h, arg);
	}
	fclose(fp);
	return 0;
}

/* Listening abstract unix sockets named solo/UID/NAME: uid's, or any. */
static int
list_unix(uid_t uid, bool all,
    void (*fn)(const struct socklock_holder *, void *), void *arg)
{
	struct socklock_holder h;
	char line[512], *name, *end;
	unsigned long ino;
	unsigned flags, type, st;
	long owner;
	FILE *fp;
	int off;

	if ((fp = fopen("/proc/net/unix", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %x %x %x %lu %n", &flags, &type,
		    &st, &ino, &off) != 4 || (flags & 0x10000) == 0)
			continue;	/* not listening */
		name = line + off;
		if (strncmp(name, "@" UNIX_PREFIX, sizeof(UNIX_PREFIX)) != 0 ||
		    !FMT_DIGIT(name[sizeof(UNIX_PREFIX)]))
			continue;
		owner = strtol(name + sizeof(UNIX_PREFIX), &end, 10);
		if (*end != '/' || (!all && owner != (long)uid))
			continue;
		memset(&h, 0, sizeof(h));
		snprintf(h.address, sizeof(h.address), "%s", name);
		h.kind = "unix";
		h.uid = HOLDER_UID_UNKNOWN;
		who_has(&h, ino);
		fn(&h, arg);
	}
	fclose(fp);
	return 0;
}

int
socklock_list(uid_t uid, bool all,
    void (*fn)(const struct socklock_holder *, void *), void *arg)
{
	if (list_tcp(false, uid, all, fn, arg) == -1 ||
	    list_tcp(true, uid, all, fn, arg) == -1 ||
	    list_unix(uid, all, fn, arg) == -1)
		return -1;
	return 0;
}

unsigned long
socklock_inode(const struct socklock *sl)
{
	return bound_inode(sl, NULL);
}

int
socklock_watch(struct socklock *sl, int *fdp)
{
	int k;

	if ((k = knock(sl, fdp)) == -1)
		return -1;
	/*
	 * The local port is chosen at connect(), before any packet: a
	 * pending connection given the lock's own port would meet itself
	 * and never be reset (see connected()), so it means "free" at once.
	 */
	if (k == KNOCK_PENDING && (k = connected(sl, *fdp)) != KNOCK_QUEUED) {
		close_keep_errno(*fdp);
		*fdp = -1;
		return k == -1 ? -1 : 1;
	}
	if (k == KNOCK_QUEUED)
		return 0;
	/*
	 * Free, refused (between bind and listen, or a holder still
	 * closing), or no connection possible here: loopback down, no
	 * local port left, a unix queue full.  The caller retries the
	 * bind after a backoff, as socklock_wait() does.
	 */
	return 1;
}
