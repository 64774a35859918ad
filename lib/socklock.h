/*
 * Locks held as listening sockets: a TCP port on a loopback address, or a
 * Linux abstract unix socket name.  The kernel allows one socket per
 * address and frees it the moment its last holder dies, so nothing is left
 * behind and a crashed holder never blocks anyone.
 */
#ifndef LOCKKIT_SOCKLOCK_H
#define LOCKKIT_SOCKLOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "deadline.h"

struct socklock {
	struct sockaddr_storage	sa;
	socklen_t		salen;
	char			name[160];	/* socklock_name()'s */
	int			fd;		/* the held socket, or -1 */
	const char		*failed;	/* the call that failed: "bind" */
};

/*
 * Set up a TCP lock on port at addr, or with addr NULL at the per-user
 * address 127.A.B.1, A = (uid >> 8) & 255, B = uid & 255.  addr must be a
 * loopback address (127.0.0.0/8 or ::1).  Returns 0, or -1 with *errstr
 * set to the reason.
 */
int	socklock_tcp(struct socklock *, const char *addr, uid_t, int port,
	    const char **errstr);

/* Set up a lock on the abstract unix socket "@lockkit-solo/UID/NAME". */
int	socklock_unix(struct socklock *, uid_t, const char *name,
	    const char **errstr);

/*
 * The lock's address for messages ("127.0.0.1:80", "[::1]:80",
 * "@solo/0/x"), made on first use; errno is left as it was.
 */
const char *socklock_name(struct socklock *);

/*
 * Try to take the lock: bind (never SO_REUSEADDR) and listen.  Returns 0
 * with sl->fd open close-on-exec, 1 if someone holds it (bind says
 * EADDRINUSE), -1 with errno set on any other failure.  On -1 here and
 * below, sl->failed names the call that failed, for messages ("bind",
 * "listen", "connect", "poll", ...).
 */
int	socklock_try(struct socklock *);

/*
 * Take the lock, waiting until the deadline.  Waiters line up in a
 * waiting room (waitroom.h), in arrival order, and only its head watches
 * the lock: a release wakes one waiter, not all of them.  Watching is
 * driven by the kernel: connect to the holder's listening socket, which
 * never accepts, and sleep in poll(2) until that connection is reset when
 * the holder's socket closes.  Where no connection can be made (loopback
 * down) or queued (the holder's queue full, see listen(2)'s somaxconn),
 * retry bind every 20 ms at most instead.  Where the room cannot be used
 * (another user's socket has its name, its queue is full), watch the lock
 * as the head does.  A holder that accepts our connection and closes it
 * (a server, not a solo) is knocked on again after a backoff as above,
 * not at once.  Every waiter tries bind at least once a second, at a
 * random moment from half a second on, so that waiters queued behind a
 * head that stopped never try all at once.
 * Returns 0, 1 on timeout, -1 with errno set.
 */
int	socklock_wait(struct socklock *, const struct deadline *);

/*
 * socklock_wait() without the waiting room: watch the lock directly,
 * competing with the room's head, not queued behind other waiters (for
 * --replace, which has just ended the holder for itself).
 */
int	socklock_wait_direct(struct socklock *, const struct deadline *);

/*
 * Whether any local user may bind the lock's address and so take the
 * lock first: an abstract name always; a port at or above
 * net.ipv4.ip_unprivileged_port_start (this network namespace's, read
 * from /proc/sys; 1024 if it cannot be read), whose value goes to *start.
 */
bool	socklock_open_to_all(const struct socklock *, int *start);

/*
 * Without taking the lock: 1 if it is held now, 0 if free, -1 on error.
 * A connection to a listener says held; where none can be made (loopback
 * down), a bind and close of a socket of our own decides, and for its
 * microseconds holds a free address.
 */
int	socklock_held(struct socklock *);

/*
 * The pid holding the lock (0 if not found), its command name, and in
 * *uid the holder's real uid (from /proc/PID/status), or failing that the
 * socket's owner (TCP: /proc/net/tcp's uid column; unix: the listener's
 * SO_PEERCRED, else sock_diag's UNIX_DIAG_UID), or HOLDER_UID_UNKNOWN.
 */
pid_t	socklock_holder(const struct socklock *, char *comm, size_t,
	    uid_t *uid);

/* A lock's holder, as socklock_list() finds it. */
struct socklock_holder {
	char		 address[PATH_MAX];	/* socklock_name()'s, or */
						/* solo's private name */
	const char	*kind;		/* "tcp" or "unix" */
	pid_t		 pid;		/* 0 if not found */
	char		 comm[32];	/* holder_comm()'s */
	uid_t		 uid;		/* the socket's, else the process's, */
};					/* or HOLDER_UID_UNKNOWN */

/*
 * Call fn(holder, arg) for every solo lock held now: sockets listening on
 * the per-user address 127.A.B.1 of uid (socklock_tcp()), in
 * /proc/net/tcp and, as ::ffff:127.A.B.1, /proc/net/tcp6; then abstract
 * unix sockets named "solo/UID/NAME" listening in /proc/net/unix.  With
 * all, every uid's.  Locks taken with -a at another address, and private
 * names (privlock.h), are not listed.  Returns 0, or -1 with errno set if
 * /proc/net/tcp or unix cannot be read.
 */
int	socklock_list(uid_t uid, bool all,
	    void (*fn)(const struct socklock_holder *, void *), void *arg);

/*
 * The inode of the socket bound at the lock's address, a listening one
 * first (from /proc/net/tcp, tcp6 or unix), or 0 if none is found.
 */
unsigned long	socklock_inode(const struct socklock *);

/*
 * Start watching the lock's holder without blocking, to wait on several
 * locks at once: a non-blocking connection to its listening socket,
 * which is never accepted.  Returns 0 with *fd set to that connection:
 * poll(2) it for POLLIN | POLLRDHUP, and it turns readable or hung up
 * when the connection is refused or reset, as the holder's socket closes;
 * the caller closes it.  Returns 1 when there is nobody to watch (the
 * address free, bound but not listening, a unix queue full, or no
 * connection possible at all, as with loopback down): the caller should
 * try to take the lock, and watch again after a pause (a backoff, as
 * socklock_wait() does).  Returns -1 with errno and sl->failed set on
 * any other failure.
 */
int	socklock_watch(struct socklock *, int *fd);

/*
 * A watching connection c (socklock_watch()'s, or socklock_wait()'s) has
 * turned readable or hung up: true if it was reset (SO_ERROR says
 * ECONNRESET, or any error, or cannot be read), as the kernel resets a
 * connection its listener never accepted when that listener closes: the
 * holder went.  False if the holder accepted it and closed it (end of
 * file) or wrote to it: a server, not a solo, which answers every knock
 * at once; the caller should back off before watching it again.  Reading
 * SO_ERROR clears it.
 */
bool	socklock_was_reset(int c);

#endif
