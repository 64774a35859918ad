/*
 * A counting semaphore made of solo locks: N slots, each an ordinary
 * socket lock (ports PORT to PORT+N-1, or names NAME/0 to NAME/N-1), of
 * which a process holds one.  At most N processes hold a slot at once,
 * and the kernel frees a slot the moment its holder dies, as it frees a
 * single solo lock.
 */
#ifndef LOCKKIT_SLOTS_H
#define LOCKKIT_SLOTS_H

#include <sys/types.h>

#include <stdbool.h>

#include "deadline.h"
#include "socklock.h"

#define SLOTS_MAX	64

struct slots {
	struct socklock	sl[SLOTS_MAX];
	int		n;		/* slots in use, 1 to SLOTS_MAX */
	bool		plain;		/* one lock, not a slot set */
	int		taken;		/* the slot held, or -1 */
	char		name[192];	/* slots_name()'s */
};

/*
 * Set up n slots (1 to SLOTS_MAX) on ports port to port+n-1 at addr, as
 * socklock_tcp() takes addr and uid; n 0 for the one lock on port itself.
 * Returns 0, or -1 with *errstr set: socklock_tcp()'s reasons, or "runs
 * past port 65535".
 */
int	slots_tcp(struct slots *, const char *addr, uid_t, int port, int n,
	    const char **errstr);

/*
 * Set up n slots named name/0 to name/n-1 (socklock_unix()); n 0 for the
 * one lock named name.  Returns 0, or -1 with *errstr set:
 * socklock_unix()'s reasons for name itself, or "too long with its slot
 * number" when a slot's name would pass socklock_unix()'s limit.
 */
int	slots_unix(struct slots *, uid_t, const char *name, int n,
	    const char **errstr);

/*
 * The set's name for messages: the lock's own name for one lock,
 * "127.0.0.1:5000-5003" or "@solo/0/job/0-3" for slots.  errno is left
 * as it was.
 */
const char *slots_name(struct slots *);

/*
 * Try each slot in turn and take the first free one.  Returns 0 with
 * s->taken set and that slot's socket in s->sl[s->taken].fd, 1 if every
 * slot is held, -1 with errno set on any other failure.
 */
int	slots_try(struct slots *);

/*
 * Take a slot, waiting until the deadline for any of them.  One lock
 * waits with socklock_wait().  Slots are all watched at once, each by a
 * connection from socklock_watch(), in one poll(2): the first slot whose
 * holder goes is taken, with no polling in between.  Returns as
 * slots_try() does, 1 meaning the deadline passed.
 */
int	slots_wait(struct slots *, const struct deadline *);

#endif
