#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcdlock.h"

#define REQUEST_MS	2000L	/* one request to one endpoint, at most */
#define WAKE_MS		200	/* a waiter's keep-alive and deadline checks */

long long
etcdlock_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Requests without a limit of their own: REQUEST_MS per endpoint. */
static void
unlimited(struct etcdlock *l)
{
	etcd_set_timeout(l->e, REQUEST_MS);
	etcd_set_budget(l->e, 0);
}

int
etcdlock_init(struct etcdlock *l, struct etcd *e, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->e = e;
	if (asprintf(&l->prefix, "%s/", name) == -1) {
		l->prefix = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
etcdlock_free(struct etcdlock *l)
{
	free(l->prefix);
	free(l->key);
	l->prefix = l->key = NULL;
}

int
etcdlock_try(struct etcdlock *l, int64_t ttl, const char *value,
    struct etcd_kv *owner)
{
	int r;

	memset(owner, 0, sizeof(*owner));
	unlimited(l);
	l->sent = etcdlock_now_ms();
	if ((r = etcd_grant(l->e, ttl, &l->lease, &l->ttl)) != 0)
		return r;
	free(l->key);
	if (asprintf(&l->key, "%s%" PRIx64, l->prefix, l->lease) == -1) {
		l->key = NULL;
		etcd_revoke(l->e, l->lease);
		return ETCD_UNAVAILABLE;
	}
	r = etcd_lock_txn(l->e, l->prefix, l->key, value, l->lease, &l->rev,
	    owner);
	if (r != 0) {
		etcd_revoke(l->e, l->lease);
		return r;
	}
	l->seen = l->rev;
	if (owner->key == NULL || owner->create_rev == l->rev) {
		etcd_kv_free(owner);
		return 0;
	}
	return 1;
}

/*
 * Both calls of a keep-alive together within budget_ms of t0 (at least 1
 * ms: a call out of time fails at once), each endpoint attempt within an
 * eighth of the TTL: keep-alives are due from a third of the TTL on and
 * the command is stopped at 0.6 TTL, so a hung member leaves time for the
 * others (and is tried last next time, see etcd.h).
 */
static void
keep_limits(struct etcdlock *l, long long t0, long long budget_ms)
{
	long long left = budget_ms - (etcdlock_now_ms() - t0);
	long per = (long)(l->ttl * 1000 / 8);

	etcd_set_timeout(l->e, per < REQUEST_MS ? per : REQUEST_MS);
	etcd_set_budget(l->e, left > 0 ? (long)left : 1);
}

int
etcdlock_keep(struct etcdlock *l, long long budget_ms)
{
	long long t0 = etcdlock_now_ms();
	int64_t ttl = 0, seen = 0;
	int r;

	if (t0 - l->sent < l->ttl * 1000 / 3)
		return 0;
	keep_limits(l, t0, budget_ms);
	r = etcd_keepalive(l->e, l->lease, &ttl);
	if (r == 0 && ttl > 0) {
		keep_limits(l, t0, budget_ms);
		r = etcd_exists(l->e, l->key, &seen);
	}
	unlimited(l);
	if (r < 0)
		return r;
	if (ttl <= 0) {
		l->why = "the lease expired or was revoked";
		return ETCDLOCK_LOST;
	}
	if (r == 0) {
		l->why = "the key was deleted";
		return ETCDLOCK_LOST;
	}
	l->seen = seen;
	l->sent = t0;
	l->ttl = ttl;
	return 0;
}

const char *
etcdlock_why_gone(struct etcdlock *l, long long budget_ms)
{
	int64_t ttl = 0;
	int r;

	keep_limits(l, etcdlock_now_ms(), budget_ms);
	r = etcd_timetolive(l->e, l->lease, &ttl);
	unlimited(l);
	if (r != 0)
		return "our key was deleted, or its lease revoked or expired";
	return ttl < 0 ? "its lease was revoked or expired" :
	    "our key was deleted";
}

int
etcdlock_watch(struct etcdlock *l)
{
	return etcd_watch_start(l->e, l->key, l->seen + 1);
}

int
etcdlock_release(struct etcdlock *l)
{
	etcd_watch_stop(l->e);
	unlimited(l);
	return etcd_revoke(l->e, l->lease);
}

/* Whether the lease has gone without a keep-alive too long to go on. */
static bool
starved(const struct etcdlock *l)
{
	return etcdlock_now_ms() - l->sent > l->ttl * 600;
}

int
etcdlock_wait(struct etcdlock *l, const struct deadline *dl, int fd)
{
	struct etcd_kv ahead;
	int64_t rev;
	bool mine;
	int r, k, left;

	for (;;) {
		unlimited(l);
		r = etcd_last_before(l->e, l->prefix, l->rev - 1, l->key,
		    &ahead, &rev, &mine);
		/* As newer mutex.go's Lock: our own key must survive. */
		if (r >= 0 && !mine) {
			etcd_kv_free(&ahead);
			l->why = "the key was deleted";
			return ETCDLOCK_LOST;
		}
		if (r == 0)
			return 0;
		if (r == 1) {
			r = etcd_watch_start(l->e, ahead.key, rev);
			etcd_kv_free(&ahead);
		}
		/*
		 * Wake every WAKE_MS for the deadline and the keep-alives;
		 * the watch stays open across: no request asks for the
		 * lock's state until the key ahead is deleted.
		 */
		for (;;) {
			left = deadline_poll_ms(dl);
			if (left < 0 || left > WAKE_MS)
				left = WAKE_MS;
			if (r == 0)
				r = etcd_watch_wait(l->e, left, fd);
			else if (poll(&(struct pollfd){ fd, POLLIN, 0 },
			    fd >= 0 ? 1 : 0, left) == 1)
				r = 2;	/* a failed call: pause, try again */
			if (r == 2) {
				etcd_watch_stop(l->e);
				return 2;
			}
			if (r != 0 || deadline_passed(dl))
				break;
			if ((k = etcdlock_keep(l, REQUEST_MS)) ==
			    ETCDLOCK_LOST) {
				etcd_watch_stop(l->e);
				return k;
			}
			if (k < 0 && starved(l)) {
				r = k;
				break;
			}
		}
		etcd_watch_stop(l->e);
		if (r < 0 && starved(l))
			return r;
		if (deadline_passed(dl))
			return 1;
	}
}
