/*
 * A waiting room for socket locks (socklock.h): waiters for one lock line
 * up so that only one of them, the head, watches the lock, and a hand-off
 * wakes one process, not every waiter.
 *
 * The room is a unix listening socket bound in the abstract namespace as
 * "solo-queue/ID" (ID names the lock and the user, see waitroom_init()),
 * in the lock's network namespace: no lock is named "solo-queue/...", so
 * the two never collide, and like the lock it vanishes with its last
 * descriptor.  Whoever binds it is the head; the others connect to it and
 * sleep, their connections lying in its accept queue in arrival order.
 * The head that takes the lock (or gives up) accepts the oldest queued
 * connection and sends it the room's own listening descriptor
 * (SCM_RIGHTS): that waiter is the head now, and the queue behind it
 * stays as it was.
 *
 * The room only decides who watches: the lock is still taken by bind
 * alone, so a room that goes wrong (a head SIGKILLed, a descriptor lost
 * in flight, a squatter) costs time, never correctness.
 */
#ifndef LOCKKIT_WAITROOM_H
#define LOCKKIT_WAITROOM_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <stdbool.h>

struct waitroom {
	struct sockaddr_un	sun;
	socklen_t		len;
	int			head;	/* the room's listening socket, or -1 */
	int			conn;	/* our place in the queue, or -1 */
	bool			usable;	/* false: wait without the room */
	int			refused; /* connections refused in a row */
};

/* What waitroom_join() and waitroom_receive() found. */
enum waitroom_state {
	WAITROOM_HEAD,		/* we are the head: watch the lock */
	WAITROOM_QUEUED,	/* queued: poll waitroom_fd() for POLLIN */
	WAITROOM_RETRY,		/* try the lock, then join again, after a */
				/* pause (the room is being set up) or at */
				/* once (it has just gone) */
	WAITROOM_NONE		/* no room to use: watch the lock directly */
};

/*
 * Set up the room "solo-queue/ID" for a lock, not yet joined; ID is
 * printable, at most 96 bytes, and names the user ("UID/...",
 * "tcp/UID/...") so that each user has a room of their own, and the lock
 * so that no two locks share one.  A room whose peer is not our
 * effective uid is never used (see waitroom_join()).
 */
void	waitroom_init(struct waitroom *, const char *id);

/*
 * Join the room: bind and listen (we are the head), else connect to its
 * listener and queue.  The listener must be of our effective uid
 * (SO_PEERCRED): another user's socket under the name is a squatter, and
 * we wait without the room (NONE, for the rest of this wait).  NONE too
 * when the queue is full or no socket can be made.  RETRY when the name
 * is bound but refuses connections (a head between bind and listen);
 * after ROOM_REFUSALS of those in a row, NONE: a socket that stays so is
 * no head.  Never fails: errors mean NONE.
 */
enum waitroom_state	waitroom_join(struct waitroom *);

/* The descriptor a queued waiter polls for POLLIN, or -1. */
int	waitroom_fd(const struct waitroom *);

/*
 * Our queued connection turned readable: read what came without blocking.
 * HEAD when it was the room's listening socket (checked: a listening
 * AF_UNIX stream socket of our uid bound at the room's name); QUEUED when
 * nothing came yet; RETRY when the connection is gone (the room's
 * listener closed, as when its head died) or sent something else.
 */
enum waitroom_state	waitroom_receive(struct waitroom *);

/*
 * Leave the room, handing it on: as head, or as a queued waiter that was
 * sent the room already (checked without blocking), send the room to the
 * oldest queued waiter still there of our effective uid (SO_PEERCRED:
 * another user's connection is closed unsent); then close our
 * descriptors.  A few
 * system calls when nobody waits: an accept that finds none, and a close.
 * errno is kept.
 */
void	waitroom_leave(struct waitroom *);

#endif
