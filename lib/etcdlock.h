/*
 * etcd's lock recipe (the concurrency package of etcd's Go client,
 * mutex.go and session.go) on the client in etcd.h, so that a lock taken
 * here and one taken by etcdctl lock exclude each other: a lease, a key
 * NAME/<lease id in hex> attached to it, and the owner is the key under
 * NAME/ with the lowest create revision; a waiter watches the key created
 * last before its own until it is deleted.
 *
 * The lease clock is CLOCK_MONOTONIC in milliseconds (etcdlock_now_ms).
 * l->sent is the time the last acknowledged keep-alive (first, the grant)
 * was sent: the server renews on receiving it, later, so the lease cannot
 * expire on the server before l->sent + l->ttl seconds, as long as the
 * server's clock runs no faster than ours.
 */
#ifndef LOCKKIT_ETCDLOCK_H
#define LOCKKIT_ETCDLOCK_H

#include <stdint.h>

#include "deadline.h"
#include "etcd.h"

/* Besides ETCD_UNAVAILABLE and ETCD_REFUSED. */
#define ETCDLOCK_LOST	(-3)	/* lease or key gone: l->why says which */

struct etcdlock {
	struct etcd	*e;
	char		*prefix;	/* NAME/ */
	char		*key;		/* NAME/<lease hex>, once granted */
	int64_t		 lease;
	int64_t		 ttl;		/* seconds, as granted */
	int64_t		 rev;		/* our key's create revision */
	int64_t		 seen;		/* a store revision it existed at */
	long long	 sent;		/* see above */
	const char	*why;
};

/* CLOCK_MONOTONIC in milliseconds. */
long long	etcdlock_now_ms(void);

/* Set up l for lock name on e; -1 with errno ENOMEM on failure. */
int	etcdlock_init(struct etcdlock *, struct etcd *, const char *name);
void	etcdlock_free(struct etcdlock *);

/*
 * mutex.go's TryLock: a lease of ttl seconds, then one transaction that
 * puts our key (holding value) if absent and reads the owner.  Returns 0
 * if we own the lock; 1 if another does (stored in *owner; our key stays,
 * queued, until etcdlock_release); or ETCD_UNAVAILABLE / ETCD_REFUSED,
 * with nothing of ours left in etcd (the lease, if granted, revoked).
 */
int	etcdlock_try(struct etcdlock *, int64_t ttl, const char *value,
	    struct etcd_kv *owner);

/*
 * mutex.go's waitDeletes, without polling: watch the key created last
 * before ours until it is deleted, then look again, until none is left,
 * keeping the lease alive meanwhile; then check that our key survived.
 * Returns 0 when we own the lock, 1 once deadline passes, 2 as soon as fd
 * (if >= 0) is readable (call again to go on waiting), ETCDLOCK_LOST, or
 * ETCD_UNAVAILABLE / ETCD_REFUSED when no keep-alive has succeeded for
 * 0.6 TTL.  Our key stays in etcd in every case but ETCDLOCK_LOST.
 */
int	etcdlock_wait(struct etcdlock *, const struct deadline *, int fd);

/*
 * session.go's keep-alive: renew the lease if a third of the TTL has
 * passed since l->sent, and check that our key still exists, spending at
 * most budget_ms.  Returns 0 (renewed, or not due yet), ETCDLOCK_LOST,
 * or ETCD_UNAVAILABLE / ETCD_REFUSED (try again soon: l->sent unchanged).
 */
int	etcdlock_keep(struct etcdlock *, long long budget_ms);

/*
 * While holding: watch our own key for its deletion (by someone, or with
 * the lease, revoked or expired), from the revision after the last one it
 * was seen at, so a deletion since is reported too; on the endpoint that
 * answered last.  As etcd_watch_start; then etcd_watch_wait's 1 means the
 * lock is lost.
 */
int	etcdlock_watch(struct etcdlock *);

/*
 * Once our key is gone: which went, by one lease time-to-live request of
 * at most budget_ms.  Returns "its lease was revoked or expired", "our
 * key was deleted", or, if the request fails, "our key was deleted, or
 * its lease revoked or expired".
 */
const char	*etcdlock_why_gone(struct etcdlock *, long long budget_ms);

/*
 * Stop the watch (our own revoke would fire it), then revoke the lease,
 * deleting our key: 0 or ETCD_UNAVAILABLE / REFUSED.
 */
int	etcdlock_release(struct etcdlock *);

#endif
