/*
 * Unit tests for lib/etcd.c's pure parts: base64 as etcd's JSON carries
 * bytes (RFC 4648 test vectors), and the endpoint list's checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "tap.h"

static int
enc_is(const char *in, const char *want)
{
	char *s = etcd_b64_encode(in, strlen(in));
	int ok = s != NULL && strcmp(s, want) == 0;

	free(s);
	return ok;
}

static int
dec_is(const char *in, const char *want)
{
	size_t n;
	char *s = etcd_b64_decode(in, &n);
	int ok = s != NULL && n == strlen(want) && strcmp(s, want) == 0;

	free(s);
	return ok;
}

/* Whether list parses; with n, into that many endpoints. */
static int
parses(const char *list, size_t n)
{
	struct etcd_conf c;
	const char *bad, *errstr;
	char buf[512];

	memset(&c, 0, sizeof(c));
	snprintf(buf, sizeof(buf), "%s", list);
	return etcd_endpoints(&c, buf, &bad, &errstr) == 0 &&
	    c.nendpoints == n;
}

int
main(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "job/694d7a5be8a9c30b", "am9iLzY5NGQ3YTViZThhOWMzMGI=" },
	};
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		CHECK(enc_is(vec[i][0], vec[i][1]), "RFC 4648 vector encodes");
		CHECK(dec_is(vec[i][1], vec[i][0]), "RFC 4648 vector decodes");
	}
	s = etcd_b64_encode("\xff\x00\xfe", 3);
	CHECK(s != NULL && strcmp(s, "/wD+") == 0, "binary bytes, NUL included");
	free(s);
	s = etcd_b64_decode("/wD+", &n);
	CHECK(s != NULL && n == 3 && memcmp(s, "\xff\x00\xfe", 3) == 0,
	    "binary bytes decode, length kept");
	free(s);
	errno = 0;
	CHECK(etcd_b64_decode("Zm9v!", NULL) == NULL && errno == EINVAL,
	    "not base64: EINVAL");
	CHECK(etcd_b64_decode("Zg=", NULL) == NULL, "bad padding refused");

	CHECK(parses("http://127.0.0.1:2379", 1), "one http endpoint");
	CHECK(parses("https://etcd1:2379/,http://[::1]:2379", 2),
	    "https, a trailing slash, IPv6");
	CHECK(!parses("127.0.0.1:2379", 0), "no scheme refused");
	CHECK(!parses("ftp://h:21", 0), "other schemes refused");
	CHECK(!parses("http://", 0), "no host refused");
	CHECK(!parses("http://h:2379/v3", 0), "a path refused");
	CHECK(!parses("http://h:2379?a", 0), "a query refused");
	CHECK(!parses("http://h:70000", 0), "a bad port refused");
	CHECK(!parses("http://h:1,", 0), "an empty endpoint refused");
	CHECK(!parses("http://h", 0), "no port refused");
	CHECK(!parses("http://h:0", 0), "port 0 refused");
	CHECK(!parses("http://u:pw@h:2379", 0), "a password refused");
	CHECK(!parses("http://u@h:2379", 0), "a user name refused");
	return TAP_DONE();
}
