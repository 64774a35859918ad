/*
 * A client for etcd v3's HTTP/JSON gateway (the /v3/ paths every etcd 3.4
 * member serves on its client port): leases, the transaction and ranges of
 * etcd's lock recipe, watches and password authentication.  HTTP and TLS
 * are libcurl's, JSON is json-c's; the JSON shapes are those of etcd's
 * gateway API reference (rpc.proto through grpc-gateway): byte fields are
 * base64, 64-bit integers are decimal strings, and fields at their zero
 * value are left out.
 *
 * Linked only into solo-etcd: the local tools never load libcurl.
 *
 * Every call tries the endpoints in turn, starting with the one that last
 * answered, and moves on when one cannot be reached or says it has no
 * leader; so lock, keep-alive and revoke all fail over.  One that could
 * not be reached is tried last by the next call.
 */
#ifndef LOCKKIT_ETCD_H
#define LOCKKIT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_MAXENDPOINTS	16
#define ETCD_WHYLEN		1024

/* What etcd_* calls return besides 0 and a positive answer. */
enum {
	ETCD_UNAVAILABLE = -1,	/* no endpoint answered; why in e->why */
	ETCD_REFUSED = -2	/* a member answered with an error (e->why) */
};

struct etcd_conf {
	char		*endpoints[ETCD_MAXENDPOINTS];	/* "http(s)://h:p" */
	size_t		 nendpoints;
	const char	*cacert, *cert, *key;	/* PEM files, or NULL */
	const char	*user, *password;	/* NULL: no authentication */
};

/* One key-value pair, as a range or a transaction returns it. */
struct etcd_kv {
	char		*key;		/* NUL-terminated copy; malloc'd */
	char		*value;		/* likewise; "" when empty */
	int64_t		 create_rev;
	int64_t		 lease;		/* 0: none */
};

struct etcd;

/*
 * Split a comma-separated list of endpoints into conf->endpoints (pointers
 * into list, which is modified).  Each must be an http:// or https:// URL
 * with a host, an explicit port from 1 to 65535, no user name or password
 * (they belong in etcd_conf, never in a URL shown in messages and ps) and
 * nothing after the port but an optional "/".  Returns 0, or -1 with
 * *errstr naming the reason and the bad endpoint in *bad, NULL when it
 * holds userinfo: it must not be shown.
 */
int	etcd_endpoints(struct etcd_conf *, char *list, const char **bad,
	    const char **errstr);

/*
 * A client for conf (which must outlive it): initialises libcurl.  Returns
 * NULL with errno set (ENOMEM) on failure.  Per-request time limit in
 * milliseconds: timeout_ms, for each endpoint tried.
 */
struct etcd	*etcd_open(const struct etcd_conf *, long timeout_ms);
void		 etcd_close(struct etcd *);
/* The last failure: "ENDPOINT: reason[; ENDPOINT: reason ...]". */
const char	*etcd_why(const struct etcd *);
/* The endpoint that answered last. */
const char	*etcd_endpoint(const struct etcd *);
/* Change the per-request time limit (ms, at least 1). */
void		 etcd_set_timeout(struct etcd *, long timeout_ms);
/*
 * Limit every call from now on, all its endpoint attempts together, to
 * budget_ms milliseconds on CLOCK_MONOTONIC from the call's start (each
 * attempt gets the per-request limit or what is left, the smaller); 0:
 * no limit but the per-request one.  A call out of time returns
 * ETCD_UNAVAILABLE.
 */
void		 etcd_set_budget(struct etcd *, long budget_ms);

/*
 * LeaseGrant: a lease of ttl seconds.  Stores its ID in *id and the TTL
 * the server granted (it may round up to its minimum) in *granted.
 * Returns 0 or ETCD_UNAVAILABLE / ETCD_REFUSED.
 */
int	etcd_grant(struct etcd *, int64_t ttl, int64_t *id, int64_t *granted);

/*
 * One LeaseKeepAlive round trip for lease id: stores the TTL the lease
 * now has in *ttl, 0 if the lease no longer exists (expired or revoked).
 * Returns 0 or ETCD_UNAVAILABLE / ETCD_REFUSED.
 */
int	etcd_keepalive(struct etcd *, int64_t id, int64_t *ttl);

/*
 * LeaseTimeToLive for lease id: stores the seconds it has left in *ttl,
 * or -1 if it no longer exists (revoked or expired), as etcd answers.
 * Returns 0 or ETCD_UNAVAILABLE / ETCD_REFUSED.
 */
int	etcd_timetolive(struct etcd *, int64_t id, int64_t *ttl);

/*
 * LeaseRevoke: ends lease id and deletes its keys.  A lease that no longer
 * exists counts as revoked.  Returns 0, leaving etcd_why() as it was (the
 * cause of a failure the revoke cleans up after), or ETCD_UNAVAILABLE /
 * ETCD_REFUSED.
 */
int	etcd_revoke(struct etcd *, int64_t id);

/*
 * The lock recipe's first step (etcd clientv3/concurrency mutex.go), as
 * one transaction: if key does not exist, put it with value attached to
 * lease; else get it; either way get the key under prefix with the lowest
 * create revision.  Stores our key's create revision in *myrev and the
 * owner in *owner (key NULL if none).  Returns 0 or ETCD_UNAVAILABLE /
 * ETCD_REFUSED.
 */
int	etcd_lock_txn(struct etcd *, const char *prefix, const char *key,
	    const char *value, int64_t lease, int64_t *myrev,
	    struct etcd_kv *owner);

/*
 * Range over prefix: the key with the lowest create revision, stored in
 * *kv.  Returns 1 if found, 0 if none, or ETCD_UNAVAILABLE / ETCD_REFUSED.
 */
int	etcd_first(struct etcd *, const char *prefix, struct etcd_kv *kv);

/*
 * One read-only transaction (one round trip): the key under prefix with
 * the highest create revision at most maxrev (> 0), stored in *kv, and
 * whether key exists, in *exists; *rev gets the store revision both were
 * read at.  Returns 1 if such a key was found, 0 if none, or
 * ETCD_UNAVAILABLE / ETCD_REFUSED.
 */
int	etcd_last_before(struct etcd *, const char *prefix, int64_t maxrev,
	    const char *key, struct etcd_kv *kv, int64_t *rev, bool *exists);

/*
 * Whether key exists: 1, 0, or ETCD_UNAVAILABLE / ETCD_REFUSED.  *rev
 * (if rev is not NULL) gets the store revision it was read at.
 */
int	etcd_exists(struct etcd *, const char *key, int64_t *rev);

void	etcd_kv_free(struct etcd_kv *);

/*
 * Watch key for its deletion, from store revision rev on (the watch
 * reports history from there, so a delete after rev is never missed),
 * without polling: one streaming /v3/watch request.  etcd_watch_start
 * opens it on the current endpoint and returns 0 (or ETCD_UNAVAILABLE
 * if it cannot be set up); etcd_watch_wait then waits at most timeout_ms
 * (-1: no limit) or until fd (if >= 0) is readable, and returns 1 when
 * the key was deleted, 0 on timeout, 2 if fd is readable, or
 * ETCD_UNAVAILABLE if the stream broke (the next call starts at another
 * endpoint); etcd_watch_stop closes it.  Only one watch at a time;
 * the other calls may run while it is open.
 */
int	etcd_watch_start(struct etcd *, const char *key, int64_t rev);
int	etcd_watch_wait(struct etcd *, int timeout_ms, int fd);
void	etcd_watch_stop(struct etcd *);

/*
 * Base64 (RFC 4648, with padding), as etcd's JSON carries bytes, through
 * the resolver library's b64_ntop/b64_pton.  etcd_b64_encode returns a
 * malloc'd string or NULL (ENOMEM); etcd_b64_decode returns a malloc'd,
 * NUL-terminated buffer (its length in *len) or NULL with errno EINVAL
 * (not base64) or ENOMEM.
 */
char	*etcd_b64_encode(const void *, size_t);
char	*etcd_b64_decode(const char *, size_t *len);

#endif
