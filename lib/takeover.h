/*
 * Taking a solo lock over from its holder (solo --replace): the
 * processes that have the lock's socket open are sent SIGTERM, given a
 * grace period, then sent SIGKILL, while the caller waits for the lock.
 */
#ifndef LOCKKIT_TAKEOVER_H
#define LOCKKIT_TAKEOVER_H

#include <sys/types.h>

#include <stdbool.h>
#include <time.h>

#include "deadline.h"
#include "socklock.h"

struct takeover {
	unsigned long	ino;		/* the holder's socket, 0 if unseen */
	pid_t		pid;		/* the holder named, 0 if unseen */
	uid_t		uid;		/* its real uid */
	char		comm[32];	/* its command name */
};

/*
 * Take the lock sl, ending whoever holds it.  The holder is every process
 * with the socket bound at sl's address open (found as socklock_holder()
 * finds one): the process that took the lock and whatever inherited the
 * socket, but not the rest of its process group.  Each is sent SIGTERM;
 * the caller then waits for the lock as socklock_wait() does, up to grace
 * (or to the deadline d if sooner); if it has not got the lock by then,
 * the processes that still have that same socket open are sent SIGKILL
 * and the wait goes on until d.  A process that takes the lock in between
 * holds another socket: it is waited for, never signalled.
 * Only processes whose real uid is caller are ended, unless caller is 0
 * (root); the check is made before any signal is sent.
 * With verbose, each signal sent is reported on stderr (warnx(3)).
 * Returns 0 with the lock in sl->fd; 1 if d passed first; 2 if the holder
 * may not be ended, with nothing signalled: t->pid, t->uid and t->comm
 * name a holder of another uid, or t->pid is 0 if no holder is visible
 * (another user's, whose /proc/PID/fd we may not read, or one in another
 * pid namespace); 3 if the caller itself has the socket open (it
 * inherited it), with nothing signalled; -1 with errno set on any other failure.
 */
int	takeover_lock(struct socklock *sl, uid_t caller,
	    const struct timespec *grace, const struct deadline *d,
	    bool verbose, struct takeover *t);

#endif
