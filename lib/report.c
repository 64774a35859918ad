#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <json.h>

#include "report.h"

/*
 * json-c is loaded when a report is first made, never before: linked in,
 * even statically, it cost every run of every tool, --json or not, about
 * 0.5% of flockrun -F's start-up (measured with bench/pair; 12 more libc
 * symbols for the loader to bind at start, twice the relocations).  So
 * the tools bind dlopen and dlsym, and nothing of json-c.  The soname is
 * json-c's ABI from 0.13 on, the one the headers describe.
 */
#define JSON_C_SONAME	"libjson-c.so.5"

static struct {
	json_object	*(*new_object)(void);
	json_object	*(*new_array)(void);
	json_object	*(*new_string_len)(const char *, int);
	json_object	*(*new_int64)(int64_t);
	json_object	*(*new_boolean)(json_bool);
	int		 (*object_add)(json_object *, const char *,
			    json_object *);
	int		 (*array_add)(json_object *, json_object *);
	const char	*(*to_string)(json_object *, int);
	int		 (*put)(json_object *);
} jc;

static const char *const jc_names[] = {
	"json_object_new_object", "json_object_new_array",
	"json_object_new_string_len", "json_object_new_int64",
	"json_object_new_boolean", "json_object_object_add",
	"json_object_array_add", "json_object_to_json_string_ext",
	"json_object_put"
};

_Static_assert(sizeof(jc) == sizeof(jc_names) / sizeof(jc_names[0]) *
    sizeof(void *), "jc holds one pointer per name in jc_names");

/* Fill jc; 0, or -1 with *why set to dlerror()'s text. */
static int
jc_load(const char **why)
{
	void *lib, *fn;
	size_t i;

	if (jc.put != NULL)
		return 0;
	if ((lib = dlopen(JSON_C_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		*why = dlerror();
		return -1;
	}
	/*
	 * jc is nothing but pointers, in jc_names's order; POSIX has a
	 * function's address in dlsym()'s void * (the library stays loaded).
	 */
	for (i = 0; i < sizeof(jc_names) / sizeof(jc_names[0]); i++) {
		if ((fn = dlsym(lib, jc_names[i])) == NULL) {
			*why = dlerror();
			memset(&jc, 0, sizeof(jc));
			return -1;
		}
		memcpy((char *)&jc + i * sizeof(fn), &fn, sizeof(fn));
	}
	return 0;
}

struct report {
	json_object	*doc;		/* {"holders": list} */
	json_object	*list;
	int		 error;		/* errno of the first failure, or 0 */
};

/*
 * Length of the valid UTF-8 sequence at s, of which n bytes are left, or
 * 0 if s does not start one (RFC 3629, section 4).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;	/* overlong, or a UTF-16 surrogate */
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/*
 * A JSON string of s, invalid bytes made U+FFFD; NULL if out of memory,
 * or if s is longer than a path can be (no string reported is).
 * The buffer is static, as the report is, so that the tools bind no
 * allocator at start for it.  Each byte grows to at most the 3 of U+FFFD.
 */
static json_object *
utf8_string(const char *s)
{
	static char buf[PATH_MAX * 3];
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, len;

	if (n > PATH_MAX)
		return NULL;
	while (i < n) {
		if ((len = utf8_len(p + i, n - i)) == 0) {
			/* U+FFFD, REPLACEMENT CHARACTER */
			buf[o++] = '\xef';
			buf[o++] = '\xbf';
			buf[o++] = '\xbd';
			i++;
			continue;
		}
		memcpy(buf + o, p + i, len);
		o += len;
		i += len;
	}
	return jc.new_string_len(buf, (int)o);
}

struct report *
report_new(const char **why)
{
	static struct report r;

	if (jc_load(why) == -1)
		return NULL;
	memset(&r, 0, sizeof(r));
	if ((r.doc = jc.new_object()) == NULL ||
	    (r.list = jc.new_array()) == NULL ||
	    jc.object_add(r.doc, "holders", r.list) != 0) {
		jc.put(r.list);
		jc.put(r.doc);
		*why = "out of memory";
		return NULL;
	}
	return &r;
}

/*
 * Add key to o: value v, or null if v is NULL and null is true (a field
 * every holder has), or nothing.  Returns 0, or -1 if out of memory.
 */
static int
put(json_object *o, const char *key, json_object *v, bool null)
{
	if (v == NULL && !null)
		return 0;
	if (jc.object_add(o, key, v) != 0) {
		jc.put(v);
		return -1;
	}
	return 0;
}

/* A string, or NULL for none and on failure (*bad set). */
static json_object *
str(const char *s, bool *bad)
{
	json_object *j;

	if (s == NULL)
		return NULL;
	if ((j = utf8_string(s)) == NULL)
		*bad = true;
	return j;
}

static json_object *
num(int64_t v, bool *bad)
{
	json_object *j;

	if ((j = jc.new_int64(v)) == NULL)
		*bad = true;
	return j;
}

void
report_add(struct report *r, const struct report_entry *e)
{
	json_object *h;
	bool bad = false;
	int rv = 0;

	if (r->error != 0)
		return;
	if ((h = jc.new_object()) == NULL) {
		r->error = ENOMEM;
		return;
	}
	/* In lslocks's order where the fields are its own. */
	rv |= put(h, "command", str(e->command, &bad), true);
	rv |= put(h, "pid", e->pid > 0 ? num(e->pid, &bad) : NULL, true);
	rv |= put(h, "uid", e->has_uid ? num(e->uid, &bad) : NULL, true);
	rv |= put(h, "kind", str(e->kind, &bad), false);
	if (e->mode != REPORT_MODE_NONE)
		rv |= put(h, "mode", str(e->mode == REPORT_SHARED ? "shared" :
		    "exclusive", &bad), false);
	if (e->has_range) {
		rv |= put(h, "start", num(e->start, &bad), false);
		rv |= put(h, "length", num(e->length, &bad), false);
	}
	rv |= put(h, "path", str(e->path, &bad), false);
	rv |= put(h, "address", str(e->address, &bad), false);
	rv |= put(h, "device", str(e->device, &bad), false);
	rv |= put(h, "lockfile", str(e->lockfile, &bad), false);
	rv |= put(h, "since", e->since != 0 ? num(e->since, &bad) : NULL,
	    false);
	if (e->stale != REPORT_STALE_NONE) {
		json_object *b = jc.new_boolean(e->stale ==
		    REPORT_STALE);

		bad |= b == NULL;
		rv |= put(h, "stale", b, false);
	}
	if (bad || rv != 0 || jc.array_add(r->list, h) != 0) {
		jc.put(h);
		r->error = ENOMEM;
	}
}

void
report_holder(struct report_entry *e, const struct holder *h,
    const char *path)
{
	memset(e, 0, sizeof(*e));
	e->kind = lock_kind_name(h->kind);
	e->pid = h->pid;
	e->command = h->pid > 0 ? h->comm : NULL;
	e->uid = h->uid;
	e->has_uid = h->uid != HOLDER_UID_UNKNOWN;
	e->mode = h->exclusive ? REPORT_EXCLUSIVE : REPORT_SHARED;
	e->has_range = true;
	e->start = h->start;
	e->length = h->end == -1 ? 0 : h->end - h->start + 1;
	e->path = path;
}

int
report_print(struct report *r, FILE *fp)
{
	const char *s;
	int e = r->error;

	if (e == 0) {
		s = jc.to_string(r->doc,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s == NULL)
			e = ENOMEM;
		/* fwrite, which the tools call anyway: no more symbols to bind */
		else if (fwrite(s, 1, strlen(s), fp) != strlen(s) ||
		    fwrite("\n", 1, 1, fp) != 1 || fflush(fp) == EOF)
			e = errno;
	}
	jc.put(r->doc);
	r->doc = NULL;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}
