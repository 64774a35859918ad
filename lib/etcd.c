#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "deadline.h"
#include "etcd.h"

/*
 * gRPC status codes etcd's gateway returns in "code" (grpc codes.Code):
 * 14 Unavailable (no leader, leader changed, timed out: ask another
 * member), 16 Unauthenticated (an expired token, or one another member
 * issued: etcd 3.4's "simple" tokens live in one member's memory).
 */
#define GRPC_UNAVAILABLE	14
#define GRPC_UNAUTHENTICATED	16

#define CONNECT_TIMEOUT_MS	1000L

struct buf {
	char	*p;
	size_t	 len, cap;
};

struct etcd {
	const struct etcd_conf	*conf;
	CURL			*h;		/* unary calls */
	char			*token[ETCD_MAXENDPOINTS];
	size_t			 cur;		/* endpoint to try first */
	long			 timeout_ms;	/* per endpoint attempt */
	long			 budget_ms;	/* per call; 0: none */
	long			 req_ms;	/* this attempt's limit */
	char			 why[ETCD_WHYLEN];
	char			 errbuf[CURL_ERROR_SIZE];
	struct buf		 body;
	/* The one watch (etcd_watch_*). */
	CURLM			*multi;
	CURL			*w;
	struct curl_slist	*whdrs;
	struct buf		 wbuf;
	size_t			 wep;
	bool			 wdeleted, wbroken;
};

static bool	curl_ready;

static size_t
buf_add(struct buf *b, const char *p, size_t n)
{
	size_t cap;
	char *np;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n);
}

/*
 * Every socket close-on-exec: solo-etcd's command must not inherit its
 * connection to etcd (libcurl itself does not ask for it).
 */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

char *
etcd_b64_encode(const void *p, size_t n)
{
	size_t sz = (n + 2) / 3 * 4 + 1;
	char *s;

	if ((s = malloc(sz)) == NULL)
		return NULL;
	if (b64_ntop(p, n, s, sz) == -1) {
		free(s);
		errno = ENOMEM;		/* cannot happen: sz fits */
		return NULL;
	}
	return s;
}

char *
etcd_b64_decode(const char *s, size_t *len)
{
	size_t sz = strlen(s) / 4 * 3 + 4;
	unsigned char *p;
	int n;

	if ((p = malloc(sz)) == NULL)
		return NULL;
	if ((n = b64_pton(s, p, sz - 1)) == -1) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	p[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return (char *)p;
}

int
etcd_endpoints(struct etcd_conf *c, char *list, const char **bad,
    const char **errstr)
{
	char *ep, *host, *port, *path, *user;
	const char *perr;
	CURLU *u;
	bool ok;

	c->nendpoints = 0;
	while ((ep = strsep(&list, ",")) != NULL) {
		*bad = ep;
		if (c->nendpoints == ETCD_MAXENDPOINTS) {
			*errstr = "too many endpoints (at most 16)";
			return -1;
		}
		if (strncmp(ep, "http://", 7) != 0 &&
		    strncmp(ep, "https://", 8) != 0) {
			*errstr = "expected http://HOST:PORT or https://HOST:PORT";
			return -1;
		}
		if ((u = curl_url()) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
		host = port = path = user = NULL;
		ok = curl_url_set(u, CURLUPART_URL, ep, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		    *host != '\0';
		if (ok) {
			curl_url_get(u, CURLUPART_PATH, &path, 0);
			curl_url_get(u, CURLUPART_PORT, &port, 0);
		}
		/* A user name alone, or with ":password", is userinfo. */
		if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK)
			user = NULL;
		if (user == NULL && strchr(ep, '@') != NULL)
			user = strdup("");
		curl_free(host);
		curl_url_cleanup(u);
		if (user != NULL) {
			free(user);
			curl_free(path);
			curl_free(port);
			/* Not shown: what follows "//" may be a password. */
			*bad = NULL;
			*errstr = "a user name or password in a URL is refused; "
			    "use --user NAME and SOLO_ETCD_PASSWORD";
			return -1;
		}
		if (!ok) {
			curl_free(path);
			curl_free(port);
			*errstr = "not a valid URL";
			return -1;
		}
		ok = path == NULL || strcmp(path, "/") == 0 || *path == '\0';
		curl_free(path);
		if (!ok || strpbrk(ep, "?#") != NULL) {
			curl_free(port);
			*errstr = "an endpoint has no path, query or fragment";
			return -1;
		}
		/* etcd has no well-known port: 2379 is a convention. */
		perr = "none";
		if (port != NULL)
			strtonum(port, 1, 65535, &perr);
		curl_free(port);
		if (perr != NULL) {
			*errstr = "expected http://HOST:PORT or "
			    "https://HOST:PORT, PORT from 1 to 65535";
			return -1;
		}
		c->endpoints[c->nendpoints++] = ep;
	}
	return 0;
}

struct etcd *
etcd_open(const struct etcd_conf *conf, long timeout_ms)
{
	struct etcd *e;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			errno = ENOMEM;
			return NULL;
		}
		curl_ready = true;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->conf = conf;
	e->timeout_ms = timeout_ms;
	if ((e->h = curl_easy_init()) == NULL) {
		etcd_close(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void
etcd_close(struct etcd *e)
{
	size_t i;

	if (e == NULL)
		return;
	etcd_watch_stop(e);
	if (e->h != NULL)
		curl_easy_cleanup(e->h);
	for (i = 0; i < ETCD_MAXENDPOINTS; i++)
		free(e->token[i]);
	free(e->body.p);
	free(e->wbuf.p);
	free(e);
}

const char *
etcd_why(const struct etcd *e)
{
	return e->why;
}

const char *
etcd_endpoint(const struct etcd *e)
{
	return e->conf->endpoints[e->cur];
}

void
etcd_set_timeout(struct etcd *e, long timeout_ms)
{
	e->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

void
etcd_set_budget(struct etcd *e, long budget_ms)
{
	e->budget_ms = budget_ms > 0 ? budget_ms : 0;
}

/* Add "ENDPOINT: what" to e->why, "; "-separated. */
static void
why_add(struct etcd *e, size_t ep, const char *what)
{
	if (e->why[0] != '\0')
		strlcat(e->why, "; ", sizeof(e->why));
	strlcat(e->why, e->conf->endpoints[ep], sizeof(e->why));
	strlcat(e->why, ": ", sizeof(e->why));
	strlcat(e->why, what, sizeof(e->why));
}

/* The options a handle for endpoint ep needs: URL, TLS files, headers. */
static struct curl_slist *
handle_setup(struct etcd *e, CURL *h, size_t ep, const char *path,
    bool auth)
{
	const struct etcd_conf *c = e->conf;
	struct curl_slist *hdrs = NULL, *t;
	char url[1024], authz[1024];
	const char *base = c->endpoints[ep];
	size_t n = strlen(base);

	if (n > 0 && base[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e->errbuf);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	if (c->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->cert != NULL)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	if (c->key != NULL)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	if ((hdrs = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL)
		return NULL;
	if (auth && e->token[ep] != NULL) {
		snprintf(authz, sizeof(authz), "Authorization: %s",
		    e->token[ep]);
		if ((t = curl_slist_append(hdrs, authz)) == NULL) {
			curl_slist_free_all(hdrs);
			return NULL;
		}
		hdrs = t;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	return hdrs;
}

/*
 * POST body to path on endpoint ep; the answer goes to e->body, its HTTP
 * status to *status.  Returns 0, or -1 (added to e->why) if no HTTP answer
 * came.
 */
static int
post(struct etcd *e, size_t ep, const char *path, const char *body,
    bool auth, long *status)
{
	struct curl_slist *hdrs;
	CURLcode rc;

	/*
	 * Empty before every request: an answer with no body (a proxy's 502,
	 * a 404) must not leave the previous answer, or no string, to parse.
	 */
	e->body.len = 0;
	if (e->body.p != NULL)
		e->body.p[0] = '\0';
	e->errbuf[0] = '\0';
	if ((hdrs = handle_setup(e, e->h, ep, path, auth)) == NULL) {
		why_add(e, ep, "out of memory");
		return -1;
	}
	curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, e->req_ms);
	curl_easy_setopt(e->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e->h, CURLOPT_WRITEDATA, &e->body);
	rc = curl_easy_perform(e->h);
	curl_easy_setopt(e->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		why_add(e, ep, e->errbuf[0] != '\0' ? e->errbuf :
		    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/*
 * The last answer's body parsed as JSON: the object (the caller puts it),
 * or NULL if the body is empty or not JSON (not an etcd answer).
 */
static json_object *
body_json(const struct etcd *e)
{
	if (e->body.len == 0)
		return NULL;
	return json_tokener_parse(e->body.p);
}

/* o[k1][k2]...: the member at that path, or NULL. */
static json_object *
jget(json_object *o, const char *k1, const char *k2)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return v;
}

/* An int64 the gateway sends as a string; absent (zero) gives 0. */
static int64_t
jint(json_object *o, const char *k1, const char *k2)
{
	json_object *v = jget(o, k1, k2);

	return v == NULL ? 0 : json_object_get_int64(v);
}

static json_object *
jint64(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_object_new_string(s);
}

static json_object *
jbytes(const char *s, size_t n)
{
	json_object *o;
	char *b;

	if ((b = etcd_b64_encode(s, n)) == NULL)
		return NULL;
	o = json_object_new_string(b);
	free(b);
	return o;
}

/* The error an answer names, or fallback. */
static const char *
jerror(json_object *o, const char *fallback)
{
	json_object *v;

	if ((v = jget(o, "message", NULL)) == NULL &&
	    (v = jget(o, "error", NULL)) == NULL)
		return fallback;
	return json_object_get_string(v);
}

/* Authenticate on endpoint ep: 0, ETCD_UNAVAILABLE, ETCD_REFUSED. */
static int
authenticate(struct etcd *e, size_t ep)
{
	json_object *req, *resp, *tok;
	long status;
	int r;

	if ((req = json_object_new_object()) == NULL)
		return ETCD_UNAVAILABLE;
	json_object_object_add(req, "name",
	    json_object_new_string(e->conf->user));
	json_object_object_add(req, "password",
	    json_object_new_string(e->conf->password));
	r = post(e, ep, "/v3/auth/authenticate",
	    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
	    false, &status);
	json_object_put(req);
	if (r == -1)
		return ETCD_UNAVAILABLE;
	resp = body_json(e);
	if (status == 200 && (tok = jget(resp, "token", NULL)) != NULL) {
		free(e->token[ep]);
		e->token[ep] = strdup(json_object_get_string(tok));
		json_object_put(resp);
		return e->token[ep] != NULL ? 0 : ETCD_UNAVAILABLE;
	}
	r = jint(resp, "code", NULL) == GRPC_UNAVAILABLE ?
	    ETCD_UNAVAILABLE : ETCD_REFUSED;
	why_add(e, ep, jerror(resp, "authentication failed"));
	json_object_put(resp);
	return r;
}

/*
 * This attempt's time limit in e->req_ms: the per-request one, cut to
 * what is left of the call's budget (end).  False when none is left.
 */
static bool
attempt_time(struct etcd *e, const struct deadline *end)
{
	int left;

	e->req_ms = e->timeout_ms;
	if (e->budget_ms == 0)
		return true;
	if ((left = deadline_poll_ms(end)) <= 0)
		return false;
	if (left < e->req_ms)
		e->req_ms = left;
	return true;
}

/*
 * The one way every call reaches etcd: POST req to path, trying each
 * endpoint once from the one that answered last, all of them together
 * within the budget (etcd_set_budget).  An endpoint that could not be
 * reached is tried last by the next call, so that a hung member does not
 * take the first attempt of every retry.  Returns 0 with the parsed
 * answer in *resp (the caller puts it), or ETCD_UNAVAILABLE /
 * ETCD_REFUSED with e->why set.  Takes req's reference.
 */
static int
call(struct etcd *e, const char *path, json_object *req, json_object **resp)
{
	const struct etcd_conf *c = e->conf;
	const char *body;
	json_object *o;
	struct deadline end;
	struct timespec budget;
	size_t n, ep, first = e->cur;
	long status;
	int attempt, r = ETCD_UNAVAILABLE;

	budget.tv_sec = e->budget_ms / 1000;
	budget.tv_nsec = e->budget_ms % 1000 * 1000000L;
	deadline_start(&end, e->budget_ms > 0 ? &budget : NULL);
	e->why[0] = '\0';
	if (req == NULL || (body = json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN)) == NULL) {
		json_object_put(req);
		snprintf(e->why, sizeof(e->why), "out of memory");
		return ETCD_UNAVAILABLE;
	}
	for (n = 0; n < c->nendpoints; n++) {
		ep = (first + n) % c->nendpoints;
		for (attempt = 0; attempt < 2; attempt++) {
			if (!attempt_time(e, &end)) {
				why_add(e, ep, "not tried: no time left");
				r = ETCD_UNAVAILABLE;
				break;
			}
			if (c->user != NULL && e->token[ep] == NULL &&
			    (r = authenticate(e, ep)) != 0)
				break;
			if (post(e, ep, path, body, true, &status) == -1) {
				r = ETCD_UNAVAILABLE;
				if (ep == e->cur)
					e->cur = (ep + 1) % c->nendpoints;
				break;
			}
			o = body_json(e);
			if (status == 200 && o != NULL) {
				e->cur = ep;
				*resp = o;
				json_object_put(req);
				return 0;
			}
			if (jint(o, "code", NULL) == GRPC_UNAUTHENTICATED &&
			    c->user != NULL && attempt == 0) {
				/* A token this member does not know: anew. */
				free(e->token[ep]);
				e->token[ep] = NULL;
				json_object_put(o);
				continue;
			}
			why_add(e, ep, jerror(o, "not an etcd v3 answer"));
			r = o != NULL && status != 503 &&
			    jint(o, "code", NULL) != GRPC_UNAVAILABLE ?
			    ETCD_REFUSED : ETCD_UNAVAILABLE;
			json_object_put(o);
			break;
		}
		if (r == ETCD_REFUSED || deadline_passed(&end))
			break;
	}
	json_object_put(req);
	return r;
}

int
etcd_grant(struct etcd *e, int64_t ttl, int64_t *id, int64_t *granted)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	json_object_object_add(req, "TTL", jint64(ttl));
	if ((r = call(e, "/v3/lease/grant", req, &resp)) != 0)
		return r;
	*id = jint(resp, "ID", NULL);
	*granted = jint(resp, "TTL", NULL);
	json_object_put(resp);
	if (*id == 0) {
		snprintf(e->why, sizeof(e->why), "%s: no lease granted",
		    etcd_endpoint(e));
		return ETCD_REFUSED;
	}
	return 0;
}

int
etcd_keepalive(struct etcd *e, int64_t id, int64_t *ttl)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	/*
	 * LeaseKeepAlive is a stream; the gateway reads one request from a
	 * body with one object and answers it: one round trip.
	 */
	json_object_object_add(req, "ID", jint64(id));
	if ((r = call(e, "/v3/lease/keepalive", req, &resp)) != 0)
		return r;
	*ttl = jint(resp, "result", "TTL");
	json_object_put(resp);
	return 0;
}

int
etcd_timetolive(struct etcd *e, int64_t id, int64_t *ttl)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	json_object_object_add(req, "ID", jint64(id));
	if ((r = call(e, "/v3/lease/timetolive", req, &resp)) != 0)
		return r;
	/* "TTL": "-1" for a lease that does not exist. */
	*ttl = jint(resp, "TTL", NULL);
	json_object_put(resp);
	return 0;
}

int
etcd_revoke(struct etcd *e, int64_t id)
{
	json_object *req = json_object_new_object(), *resp;
	char was[ETCD_WHYLEN];
	int r;

	memcpy(was, e->why, sizeof(was));
	json_object_object_add(req, "ID", jint64(id));
	if ((r = call(e, "/v3/lease/revoke", req, &resp)) == 0)
		json_object_put(resp);
	if (r == ETCD_REFUSED && strstr(e->why, "lease not found") != NULL)
		r = 0;
	if (r == 0)
		memcpy(e->why, was, sizeof(was));
	return r;
}

void
etcd_kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* kvs[0] of a range answer into *kv: 1, or 0 if none. */
static int
first_kv(json_object *range, struct etcd_kv *kv)
{
	json_object *kvs = jget(range, "kvs", NULL), *o, *v;

	memset(kv, 0, sizeof(*kv));
	if (kvs == NULL || json_object_array_length(kvs) == 0)
		return 0;
	o = json_object_array_get_idx(kvs, 0);
	v = jget(o, "key", NULL);
	kv->key = etcd_b64_decode(v != NULL ? json_object_get_string(v) : "",
	    NULL);
	v = jget(o, "value", NULL);
	kv->value = etcd_b64_decode(v != NULL ? json_object_get_string(v) :
	    "", NULL);
	kv->create_rev = jint(o, "create_revision", NULL);
	kv->lease = jint(o, "lease", NULL);
	if (kv->key == NULL || kv->value == NULL) {
		etcd_kv_free(kv);
		return 0;
	}
	return 1;
}

/*
 * A RangeRequest over every key starting with prefix (range_end: the
 * prefix with its last byte plus one, as clientv3.GetPrefixRangeEnd),
 * sorted by create revision, one key.
 */
static json_object *
prefix_range(const char *prefix, bool last, int64_t maxrev)
{
	json_object *r = json_object_new_object();
	char end[4096];
	size_t n = strlen(prefix);

	if (r == NULL || n == 0 || n >= sizeof(end))
		return r;
	memcpy(end, prefix, n + 1);
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n > 0)
		end[n - 1]++;
	json_object_object_add(r, "key", jbytes(prefix, strlen(prefix)));
	json_object_object_add(r, "range_end", n > 0 ? jbytes(end, n) :
	    jbytes("", 1));
	json_object_object_add(r, "limit", jint64(1));
	json_object_object_add(r, "sort_order",
	    json_object_new_string(last ? "DESCEND" : "ASCEND"));
	json_object_object_add(r, "sort_target",
	    json_object_new_string("CREATE"));
	if (maxrev > 0)
		json_object_object_add(r, "max_create_revision",
		    jint64(maxrev));
	return r;
}

/*
 * A transaction of two operations either way: 0 with the answer in *resp
 * (the caller puts it) and its two responses in *rs, or as call().
 */
static int
txn(struct etcd *e, json_object *req, json_object **resp, json_object **rs)
{
	int r;

	if ((r = call(e, "/v3/kv/txn", req, resp)) != 0)
		return r;
	*rs = jget(*resp, "responses", NULL);
	if (*rs == NULL || json_object_array_length(*rs) != 2) {
		json_object_put(*resp);
		snprintf(e->why, sizeof(e->why), "%s: not a transaction's "
		    "answer", etcd_endpoint(e));
		return ETCD_REFUSED;
	}
	return 0;
}

static json_object *
op(const char *kind, json_object *req)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, kind, req);
	return o;
}

int
etcd_lock_txn(struct etcd *e, const char *prefix, const char *key,
    const char *value, int64_t lease, int64_t *myrev, struct etcd_kv *owner)
{
	json_object *req = json_object_new_object(), *cmp, *put, *get, *ops;
	json_object *resp, *rs;
	struct etcd_kv mine;
	int r;

	/* If(CreateRevision(key) == 0) */
	cmp = json_object_new_object();
	json_object_object_add(cmp, "target", json_object_new_string("CREATE"));
	json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
	json_object_object_add(cmp, "key", jbytes(key, strlen(key)));
	json_object_object_add(cmp, "create_revision", jint64(0));
	ops = json_object_new_array();
	json_object_array_add(ops, cmp);
	json_object_object_add(req, "compare", ops);
	/* Then(put key with the lease, get the owner) */
	put = json_object_new_object();
	json_object_object_add(put, "key", jbytes(key, strlen(key)));
	json_object_object_add(put, "value", jbytes(value, strlen(value)));
	json_object_object_add(put, "lease", jint64(lease));
	ops = json_object_new_array();
	json_object_array_add(ops, op("request_put", put));
	json_object_array_add(ops, op("request_range",
	    prefix_range(prefix, false, 0)));
	json_object_object_add(req, "success", ops);
	/* Else(get key, get the owner) */
	get = json_object_new_object();
	json_object_object_add(get, "key", jbytes(key, strlen(key)));
	ops = json_object_new_array();
	json_object_array_add(ops, op("request_range", get));
	json_object_array_add(ops, op("request_range",
	    prefix_range(prefix, false, 0)));
	json_object_object_add(req, "failure", ops);

	if ((r = txn(e, req, &resp, &rs)) != 0)
		return r;
	if (json_object_get_boolean(jget(resp, "succeeded", NULL)))
		*myrev = jint(resp, "header", "revision");
	else {
		first_kv(jget(json_object_array_get_idx(rs, 0),
		    "response_range", NULL), &mine);
		*myrev = mine.create_rev;
		etcd_kv_free(&mine);
	}
	first_kv(jget(json_object_array_get_idx(rs, 1), "response_range",
	    NULL), owner);
	json_object_put(resp);
	return 0;
}

int
etcd_first(struct etcd *e, const char *prefix, struct etcd_kv *kv)
{
	json_object *resp;
	int r;

	if ((r = call(e, "/v3/kv/range", prefix_range(prefix, false, 0),
	    &resp)) != 0)
		return r;
	r = first_kv(resp, kv);
	json_object_put(resp);
	return r;
}

int
etcd_last_before(struct etcd *e, const char *prefix, int64_t maxrev,
    const char *key, struct etcd_kv *kv, int64_t *rev, bool *exists)
{
	json_object *req = json_object_new_object(), *ops, *get, *resp, *rs;
	int r;

	/* No compare: a read-only transaction, both ranges at one revision. */
	get = json_object_new_object();
	json_object_object_add(get, "key", jbytes(key, strlen(key)));
	json_object_object_add(get, "count_only", json_object_new_boolean(1));
	ops = json_object_new_array();
	json_object_array_add(ops, op("request_range",
	    prefix_range(prefix, true, maxrev)));
	json_object_array_add(ops, op("request_range", get));
	json_object_object_add(req, "success", ops);
	if ((r = txn(e, req, &resp, &rs)) != 0)
		return r;
	r = first_kv(jget(json_object_array_get_idx(rs, 0), "response_range",
	    NULL), kv);
	*exists = jint(jget(json_object_array_get_idx(rs, 1),
	    "response_range", NULL), "count", NULL) > 0;
	*rev = jint(resp, "header", "revision");
	json_object_put(resp);
	return r;
}

int
etcd_exists(struct etcd *e, const char *key, int64_t *rev)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	json_object_object_add(req, "key", jbytes(key, strlen(key)));
	json_object_object_add(req, "count_only", json_object_new_boolean(1));
	if ((r = call(e, "/v3/kv/range", req, &resp)) != 0)
		return r;
	r = jint(resp, "count", NULL) > 0;
	if (rev != NULL)
		*rev = jint(resp, "header", "revision");
	json_object_put(resp);
	return r;
}

/* One line of the watch stream: a WatchResponse in "result". */
static void
watch_line(struct etcd *e, const char *line)
{
	json_object *o = json_tokener_parse(line), *res, *evs, *t;
	size_t i;

	res = jget(o, "result", NULL);
	if (res == NULL || json_object_get_boolean(jget(res, "canceled",
	    NULL)))
		e->wbroken = true;	/* an error, or compacted past rev */
	evs = jget(res, "events", NULL);
	for (i = 0; evs != NULL && i < json_object_array_length(evs); i++) {
		t = jget(json_object_array_get_idx(evs, i), "type", NULL);
		if (t != NULL && strcmp(json_object_get_string(t),
		    "DELETE") == 0)
			e->wdeleted = true;
	}
	json_object_put(o);
}

/* The gateway writes one JSON object per line. */
static size_t
on_watch(char *p, size_t size, size_t n, void *arg)
{
	struct etcd *e = arg;
	char *nl;
	size_t used;

	if (buf_add(&e->wbuf, p, size * n) != size * n)
		return 0;
	while ((nl = memchr(e->wbuf.p, '\n', e->wbuf.len)) != NULL) {
		*nl = '\0';
		watch_line(e, e->wbuf.p);
		used = (size_t)(nl - e->wbuf.p) + 1;
		memmove(e->wbuf.p, nl + 1, e->wbuf.len - used + 1);
		e->wbuf.len -= used;
	}
	/* Done: stop reading (curl ends the transfer on a short write). */
	return e->wdeleted || e->wbroken ? 0 : size * n;
}

int
etcd_watch_start(struct etcd *e, const char *key, int64_t rev)
{
	json_object *req, *cr;
	struct curl_slist *t;
	size_t ep = e->cur;

	etcd_watch_stop(e);
	e->why[0] = '\0';
	if (e->conf->user != NULL && e->token[ep] == NULL &&
	    authenticate(e, ep) != 0)
		return ETCD_UNAVAILABLE;
	if ((e->w = curl_easy_init()) == NULL) {
		snprintf(e->why, sizeof(e->why), "out of memory");
		return ETCD_UNAVAILABLE;
	}
	if ((e->whdrs = handle_setup(e, e->w, ep, "/v3/watch", true)) ==
	    NULL || (t = curl_slist_append(e->whdrs,
	    "Grpc-Metadata-hasleader: true")) == NULL) {
		/*
		 * hasleader: the member ends the watch if it loses its
		 * leader (clientv3.WithRequireLeader), rather than keep a
		 * cut-off member's silence for "not deleted yet".
		 */
		etcd_watch_stop(e);
		snprintf(e->why, sizeof(e->why), "out of memory");
		return ETCD_UNAVAILABLE;
	}
	e->whdrs = t;
	curl_easy_setopt(e->w, CURLOPT_HTTPHEADER, e->whdrs);
	cr = json_object_new_object();
	json_object_object_add(cr, "key", jbytes(key, strlen(key)));
	json_object_object_add(cr, "start_revision", jint64(rev));
	req = op("create_request", cr);
	curl_easy_setopt(e->w, CURLOPT_COPYPOSTFIELDS,
	    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	curl_easy_setopt(e->w, CURLOPT_WRITEFUNCTION, on_watch);
	curl_easy_setopt(e->w, CURLOPT_WRITEDATA, e);
	/* Silence on a quiet key is normal; TCP keep-alive finds a dead peer. */
	curl_easy_setopt(e->w, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e->w, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(e->w, CURLOPT_TCP_KEEPINTVL, 1L);
	e->wbuf.len = 0;
	e->wdeleted = e->wbroken = false;
	e->wep = ep;
	/*
	 * A multi handle of its own, gone with the watch: its wake-up
	 * socketpair is not close-on-exec, and a command started after
	 * the wait must not inherit it.
	 */
	if ((e->multi = curl_multi_init()) == NULL ||
	    curl_multi_add_handle(e->multi, e->w) != CURLM_OK) {
		etcd_watch_stop(e);
		snprintf(e->why, sizeof(e->why), "out of memory");
		return ETCD_UNAVAILABLE;
	}
	return 0;
}

int
etcd_watch_wait(struct etcd *e, int timeout_ms, int fd)
{
	struct curl_waitfd wfd;
	struct deadline dl;
	struct timespec dur;
	struct CURLMsg *m;
	CURLcode rc = CURLE_OK;
	int running, left, n;
	bool done = false;

	dur.tv_sec = timeout_ms < 0 ? -1 : timeout_ms / 1000;
	dur.tv_nsec = timeout_ms < 0 ? 0 : timeout_ms % 1000 * 1000000L;
	deadline_start(&dl, &dur);
	for (;;) {
		curl_multi_perform(e->multi, &running);
		while ((m = curl_multi_info_read(e->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE && m->easy_handle == e->w) {
				done = true;
				rc = m->data.result;
			}
		if (e->wdeleted)
			return 1;
		if (done || e->wbroken) {
			e->why[0] = '\0';
			why_add(e, e->wep, e->wbroken ? "watch canceled" :
			    rc == CURLE_OK ? "watch ended" :
			    e->errbuf[0] != '\0' ? e->errbuf :
			    curl_easy_strerror(rc));
			/* Start the next call at the next endpoint. */
			e->cur = (e->wep + 1) % e->conf->nendpoints;
			return ETCD_UNAVAILABLE;
		}
		if (deadline_passed(&dl))
			return 0;
		wfd.fd = fd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		n = deadline_poll_ms(&dl);
		curl_multi_poll(e->multi, &wfd, fd >= 0 ? 1 : 0,
		    n < 0 || n > 1000 ? 1000 : n, NULL);
		if (fd >= 0 && (wfd.revents & POLLIN))
			return 2;
	}
}

void
etcd_watch_stop(struct etcd *e)
{
	if (e->w != NULL) {
		if (e->multi != NULL)
			curl_multi_remove_handle(e->multi, e->w);
		curl_easy_cleanup(e->w);
		e->w = NULL;
	}
	if (e->multi != NULL) {
		curl_multi_cleanup(e->multi);
		e->multi = NULL;
	}
	curl_slist_free_all(e->whdrs);
	e->whdrs = NULL;
}
