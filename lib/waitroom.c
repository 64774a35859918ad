#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "waitroom.h"

#define ROOM_PREFIX	"solo-queue/"
/* As socklock.c's WAITER_BACKLOG: listen(2) trims it to somaxconn. */
#define ROOM_BACKLOG	65535
/*
 * A head binds and then listens at once; a name refusing connections
 * this many times in a row (the caller backs off between tries, to 20 ms:
 * about a quarter of a second in all) is held by something else.
 */
#define ROOM_REFUSALS	20

void
waitroom_init(struct waitroom *wr, const char *id)
{
	int n;

	memset(wr, 0, sizeof(*wr));
	wr->head = wr->conn = -1;
	wr->sun.sun_family = AF_UNIX;
	/* Abstract: a leading NUL; the name runs to len, unterminated. */
	n = snprintf(wr->sun.sun_path + 1, sizeof(wr->sun.sun_path) - 1,
	    ROOM_PREFIX "%s", id);
	wr->usable = n > 0 && (size_t)n < sizeof(wr->sun.sun_path) - 1;
	wr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)(n > 0 ? n : 0));
}

int
waitroom_fd(const struct waitroom *wr)
{
	return wr->conn;
}

/* Give up the room for the rest of this wait: NONE. */
static enum waitroom_state
no_room(struct waitroom *wr, int fd)
{
	if (fd != -1)
		close(fd);
	wr->usable = false;
	return WAITROOM_NONE;
}

enum waitroom_state
waitroom_join(struct waitroom *wr)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int fd;

	if (!wr->usable)
		return WAITROOM_NONE;
	if (wr->head != -1)
		return WAITROOM_HEAD;
	if (wr->conn != -1)
		return WAITROOM_QUEUED;
	/*
	 * Non-blocking, for the head's accept(2) in waitroom_leave(); the
	 * flag lives in the open file, so every later head has it too.
	 */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return no_room(wr, -1);
	/* bind is the test-and-set: one head at a time. */
	if (bind(fd, (struct sockaddr *)&wr->sun, wr->len) == 0) {
		if (listen(fd, ROOM_BACKLOG) == -1)
			return no_room(wr, fd);
		wr->head = fd;
		return WAITROOM_HEAD;
	}
	if (errno != EADDRINUSE)
		return no_room(wr, fd);
	/*
	 * Bound by someone: queue behind them.  The same socket connects:
	 * a failed bind binds nothing.  Non-blocking, so a full queue
	 * refuses (EAGAIN) rather than stalls us.
	 */
	if (connect(fd, (struct sockaddr *)&wr->sun, wr->len) == -1) {
		/*
		 * Refused: bound and not listening yet (a new head between
		 * its bind and listen), or gone since our bind: try again.
		 * Full (EAGAIN) or anything else: do without.
		 */
		if (errno == ECONNREFUSED && ++wr->refused < ROOM_REFUSALS) {
			close(fd);
			return WAITROOM_RETRY;
		}
		return no_room(wr, fd);
	}
	wr->refused = 0;
	/*
	 * Abstract names have no permissions: another user may have bound
	 * ours first.  Such a squatter could hold us queued and never send
	 * the room, so we wait without it.  The kernel gives a connection
	 * the credentials its listener had at listen(2).
	 */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.uid != geteuid())
		return no_room(wr, fd);
	wr->conn = fd;
	return WAITROOM_QUEUED;
}

/*
 * Is fd the room's listening socket: a listening AF_UNIX stream socket,
 * bound at the room's name, set listening by our uid?  A descriptor that
 * came over a connection is checked before it is trusted.
 */
static bool
is_room(const struct waitroom *wr, int fd)
{
	struct sockaddr_un sun;
	struct ucred uc;
	socklen_t len;
	int v;

	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX)
		return false;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_STREAM)
		return false;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 ||
	    v != 1)
		return false;
	/* listen(2) sets a unix socket's own SO_PEERCRED to its caller's. */
	len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.uid != geteuid())
		return false;
	len = sizeof(sun);
	memset(&sun, 0, sizeof(sun));
	return getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len == wr->len && memcmp(&sun, &wr->sun, len) == 0;
}

/* The message the room travels in: one byte, and room for one fd. */
union room_ctl {
	struct cmsghdr	c;
	char		buf[CMSG_SPACE(sizeof(int))];
};

static void
room_msg(struct msghdr *msg, struct iovec *iov, char *byte,
    union room_ctl *u)
{
	memset(msg, 0, sizeof(*msg));
	memset(u, 0, sizeof(*u));
	iov->iov_base = byte;
	iov->iov_len = 1;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = u->buf;
	msg->msg_controllen = sizeof(u->buf);
}

enum waitroom_state
waitroom_receive(struct waitroom *wr)
{
	union room_ctl u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte;
	ssize_t n;
	int fd = -1;

	if (wr->conn == -1)
		return wr->head != -1 ? WAITROOM_HEAD : WAITROOM_RETRY;
	room_msg(&msg, &iov, &byte, &u);
	/*
	 * Close-on-exec from the start: the room must not reach a command
	 * we exec.  Descriptors beyond the one we expect are closed by the
	 * kernel (MSG_CTRUNC).
	 */
	n = recvmsg(wr->conn, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return WAITROOM_QUEUED;
	if (n > 0)
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd == -1)
				memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	/*
	 * A head sends the room once and closes: whatever came, our place
	 * in the queue is over.  Reset or end of file: the room's listener
	 * closed (its last head died) and reset every queued connection.
	 */
	close(wr->conn);
	wr->conn = -1;
	if (fd != -1 && is_room(wr, fd)) {
		wr->head = fd;
		return WAITROOM_HEAD;
	}
	if (fd != -1)
		close(fd);
	return WAITROOM_RETRY;
}

/*
 * Is c, a connection accept(2) took from the room, a waiter of our
 * effective uid?  Abstract names have no permissions: anyone may connect
 * to our room, and whoever is sent it could accept our waiters and hold
 * them queued until their deadlines.  The kernel gives a connection the
 * credentials its peer had at connect(2), which the peer cannot change.
 */
static bool
is_ours(int c)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	return getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    uc.uid == geteuid();
}

/* Send the room's listening socket over c: 0, or -1 (the waiter went). */
static int
send_room(int c, int room)
{
	union room_ctl u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 'R';

	room_msg(&msg, &iov, &byte, &u);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &room, sizeof(int));
	/* A waiter gone or leaving: EPIPE (never SIGPIPE) or ECONNRESET. */
	return sendmsg(c, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -1;
}

void
waitroom_leave(struct waitroom *wr)
{
	int e = errno, c;

	if (wr->conn != -1) {
		/*
		 * Queued and leaving (a deadline, or we took the lock on a
		 * recheck): the head may be sending us the room just now.
		 * Shutting our side for reading first settles it: a send
		 * the kernel queued before is read below and passed on; one
		 * after fails with EPIPE and the head tries the next waiter.
		 * Both sides check the flag under the same socket lock.
		 */
		shutdown(wr->conn, SHUT_RD);
		if (waitroom_receive(wr) == WAITROOM_QUEUED) {
			close(wr->conn);
			wr->conn = -1;
		}
	}
	if (wr->head != -1) {
		/*
		 * The oldest queued connection first: the accept queue is
		 * FIFO.  A waiter that went away took its place with it
		 * (EPIPE), and another user's connection is no waiter of
		 * ours (closed unsent: see is_ours()): try the next.
		 * EAGAIN: nobody waits.  Once sent, the room lives on in
		 * flight even as we close our copy; if its receiver dies
		 * before taking it, the kernel drops it, the room's last
		 * reference goes, every queued connection is reset and
		 * those waiters join again: one herd, in that case only.
		 */
		while ((c = accept4(wr->head, NULL, NULL, SOCK_CLOEXEC)) != -1 ||
		    errno == ECONNABORTED || errno == EINTR) {
			if (c == -1)
				continue;
			if (is_ours(c) && send_room(c, wr->head) == 0) {
				close(c);
				break;
			}
			close(c);
		}
		close(wr->head);
		wr->head = -1;
	}
	errno = e;
}
