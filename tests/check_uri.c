/*
 * check_uri: paths and URLs (proxy/http/uri.c), table driven. Dot-segment
 * removal (RFC 3986 5.2.4, with %2e counted as a dot) and what climbs above
 * "/"; strip routes matching whole segments; Location, Content-Location
 * and Refresh values pointed back at the client's side; Set-Cookie paths
 * given a stripped prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/uri.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* A path and what it becomes; NULL: refused (climbs above "/"). */
static const struct {
	const char	*in;
	const char	*out;
} norm_cases[] = {
	{ "/", "/" },
	{ "/a/b", "/a/b" },
	{ "/a/b/", "/a/b/" },
	{ "/a/./b", "/a/b" },
	{ "/a/b/../c", "/a/c" },
	{ "/a/.", "/a/" },
	{ "/a/..", "/" },
	{ "/a/b/..", "/a/" },
	{ "/./", "/" },
	{ "/.", "/" },
	{ "/a/./b/./", "/a/b/" },
	{ "/a/b/../../c", "/c" },
	{ "/legacy/../admin", "/admin" },
	{ "/legacy/%2e%2e/internal/x", "/internal/x" },
	{ "/legacy/%2E%2E/internal/x", "/internal/x" },
	{ "/legacy/.%2e/x", "/x" },
	{ "/legacy/%2e./x", "/x" },
	{ "/legacy/%2e/x", "/legacy/x" },
	{ "/a%2eb/c", "/a%2eb/c" },
	{ "/a/.../b", "/a/.../b" },
	{ "/a/..b/c", "/a/..b/c" },
	{ "/a/b../c", "/a/b../c" },
	{ "/a/%2e%2e%2e/b", "/a/%2e%2e%2e/b" },
	{ "/a/%2f../b", "/a/%2f../b" },
	{ "/a%2F..%2Fb", "/a%2F..%2Fb" },
	{ "/a/%2F/../b", "/a/b" },
	{ "//a", "//a" },
	{ "/a//b", "/a//b" },
	{ "/a//../b", "/a/b" },
	{ "//..", "/" },
	{ "/a/%25/b", "/a/%25/b" },
	{ "/..", NULL },
	{ "/../", NULL },
	{ "/../a", NULL },
	{ "/a/../..", NULL },
	{ "/a/../../b", NULL },
	{ "/%2e%2e/x", NULL },
	{ "/%2E%2e", NULL },
	{ "/legacy/../../etc/passwd", NULL },
	{ "/a/./../..", NULL },
};

/* norm_cases[_i]: the normalised path, or the refusal. */
START_TEST(test_normalize)
{
	const char	*in = norm_cases[_i].in, *want = norm_cases[_i].out;
	char		 out[256];
	size_t		 n = 999;
	int		 r;

	memset(out, 'x', sizeof(out));
	r = uri_path_normalize(in, strlen(in), out, &n);
	if (want == NULL) {
		ck_assert_msg(r == -1, "%s: want refused, got \"%s\"", in,
		    r == 0 ? out : "?");
		return;
	}
	ck_assert_msg(r == 0, "%s: refused, want \"%s\"", in, want);
	ck_assert_msg(strcmp(out, want) == 0, "%s: want \"%s\", got \"%s\"",
	    in, want, out);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_uint_le(n, strlen(in));
}
END_TEST

/* A strip prefix matches whole segments only. */
static const struct {
	const char	*prefix;
	const char	*path;
	int		 match;
} strip_cases[] = {
	{ "/legacy", "/legacy", 1 },
	{ "/legacy", "/legacy/", 1 },
	{ "/legacy", "/legacy/a/b", 1 },
	{ "/legacy", "/legacy//a", 1 },
	{ "/legacy", "/legacyx", 0 },
	{ "/legacy", "/legac", 0 },
	{ "/legacy", "/", 0 },
	{ "/legacy", "/other/legacy", 0 },
	{ "/a/b", "/a/b/c", 1 },
	{ "/a/b", "/a/bc", 0 },
	{ "", "/", 1 },
	{ "", "/anything", 1 },
};

/* strip_cases[_i]. */
START_TEST(test_strip_match)
{
	ck_assert_msg(uri_strip_match(strip_cases[_i].prefix,
	    strlen(strip_cases[_i].prefix), strip_cases[_i].path) ==
	    strip_cases[_i].match, "%s under %s: want %d",
	    strip_cases[_i].path, strip_cases[_i].prefix,
	    strip_cases[_i].match);
}
END_TEST

/* The server 10.0.0.9:8080, on line "app.internal:8080", host = NAME. */
static const struct uri_self self[] = {
	{ "10.0.0.9", 8, 8080 },
	{ "app.internal", 12, 8080 },
	{ "intranet.local", 14, 0 },
	{ "[::1]", 5, 8443 },
};

/*
 * A value, the outside it is rewritten for (scheme, client Host, prefix)
 * and the result; NULL: left as it is.
 */
static const struct {
	const char	*in;
	const char	*scheme;
	const char	*host;
	const char	*prefix;
	const char	*out;
} loc_cases[] = {
	/* the server's address, with and without strip */
	{ "http://10.0.0.9:8080/login", "https", "www.example.com", "",
	    "https://www.example.com/login" },
	{ "http://10.0.0.9:8080/login?a=1#f", "https", "www.example.com",
	    "/legacy", "https://www.example.com/legacy/login?a=1#f" },
	{ "http://10.0.0.9:8080", "https", "www.example.com", "/legacy",
	    "https://www.example.com/legacy/" },
	{ "http://10.0.0.9:8080?q", "http", "w.test:8000", "/legacy",
	    "http://w.test:8000/legacy/?q" },
	{ "http://10.0.0.9/x", "http", "w.test", "", "http://w.test/x" },
	{ "http://10.0.0.9:9999/x", "http", "w.test", "", NULL },
	{ "http://10.0.0.99:8080/x", "http", "w.test", "", NULL },
	/* the host on the server line, in any case */
	{ "http://APP.internal:8080/", "https", "w.test", "",
	    "https://w.test/" },
	{ "https://app.internal:8080/a", "http", "w.test", "/p",
	    "http://w.test/p/a" },
	/* host = NAME without a port: the URL's scheme's default */
	{ "http://intranet.local/x", "https", "w.test", "/legacy",
	    "https://w.test/legacy/x" },
	{ "http://intranet.local:80/x", "https", "w.test", "",
	    "https://w.test/x" },
	{ "https://intranet.local:443/x", "https", "w.test", "",
	    "https://w.test/x" },
	{ "http://intranet.local:8080/x", "https", "w.test", "", NULL },
	/* IPv6 */
	{ "https://[::1]:8443/v", "https", "w.test", "", "https://w.test/v" },
	{ "https://[::1]:8444/v", "https", "w.test", "", NULL },
	/* other hosts, userinfo, bad ports */
	{ "http://www.other.com/x", "https", "w.test", "/legacy", NULL },
	{ "http://intranet.local.evil.com/x", "https", "w.test", "", NULL },
	{ "http://user@10.0.0.9:8080/x", "https", "w.test", "", NULL },
	{ "http://10.0.0.9:80a/x", "https", "w.test", "", NULL },
	{ "ftp://10.0.0.9:8080/x", "https", "w.test", "", NULL },
	/* network-path references */
	{ "//10.0.0.9:8080/x", "https", "w.test", "/legacy",
	    "https://w.test/legacy/x" },
	{ "//other/x", "https", "w.test", "/legacy", NULL },
	/* relative: only an absolute path, only with a prefix */
	{ "/login", "https", "w.test", "/legacy", "/legacy/login" },
	{ "/", "https", "w.test", "/legacy", "/legacy/" },
	{ "/login", "https", "w.test", "", NULL },
	{ "login", "https", "w.test", "/legacy", NULL },
	{ "../x", "https", "w.test", "/legacy", NULL },
	{ "?q=1", "https", "w.test", "/legacy", NULL },
	{ "", "https", "w.test", "/legacy", NULL },
	/* no client Host (HTTP/1.0): the path alone */
	{ "http://10.0.0.9:8080/x", "http", NULL, "/legacy", "/legacy/x" },
	{ "http://10.0.0.9:8080/x", "http", NULL, "", "/x" },
};

/* The outside of loc_cases[i]. */
static void
outside(struct uri_outside *o, int i)
{
	o->scheme = loc_cases[i].scheme;
	o->host = loc_cases[i].host;
	o->prefix = loc_cases[i].prefix;
	o->prefixlen = strlen(o->prefix);
	o->self = self;
	o->nself = NELEM(self);
}

/* loc_cases[_i] as a Location. */
START_TEST(test_location)
{
	struct uri_outside	 o;
	const char		*in = loc_cases[_i].in;
	const char		*want = loc_cases[_i].out;
	char			*out = NULL;
	int			 r;

	outside(&o, _i);
	r = uri_rewrite_location(&o, in, strlen(in), &out);
	if (want == NULL) {
		ck_assert_msg(r == 0, "%s: want untouched, got %s", in,
		    r == 1 ? out : "-1");
	} else {
		ck_assert_msg(r == 1, "%s: want %s, got %d", in, want, r);
		ck_assert_msg(strcmp(out, want) == 0, "%s: want %s, got %s",
		    in, want, out);
	}
	free(out);
}
END_TEST

/* loc_cases[_i] inside a Refresh, in several spellings. */
START_TEST(test_refresh)
{
	static const char *const forms[][2] = {
		{ "5; url=", "" },
		{ "0;URL=", "" },
		{ "3, url = '", "'" },
		{ "1;url=\"", "\" " },
		{ "2; ", "" },
	};
	struct uri_outside	 o;
	char			 in[512], want[512], *out;
	size_t			 f;
	int			 r;

	outside(&o, _i);
	for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if (loc_cases[_i].in[0] == '\0')
			continue;
		snprintf(in, sizeof(in), "%s%s%s", forms[f][0],
		    loc_cases[_i].in, forms[f][1]);
		if (loc_cases[_i].out != NULL)
			snprintf(want, sizeof(want), "%s%s%s", forms[f][0],
			    loc_cases[_i].out, forms[f][1]);
		out = NULL;
		r = uri_rewrite_refresh(&o, in, strlen(in), &out);
		if (loc_cases[_i].out == NULL)
			ck_assert_msg(r == 0, "%s: want untouched, got %s",
			    in, r == 1 ? out : "-1");
		else
			ck_assert_msg(r == 1 && strcmp(out, want) == 0,
			    "%s: want %s, got %s", in, want,
			    r == 1 ? out : "nothing");
		free(out);
	}
}
END_TEST

/* A Refresh without a URL, or with junk for a delay, is left alone. */
START_TEST(test_refresh_other)
{
	static const char *const vals[] = {
		"5", "", "abc; url=http://10.0.0.9:8080/", "5 url=http://x/",
	};
	struct uri_outside	 o;
	char			*out = NULL;
	size_t			 i;

	outside(&o, 0);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		ck_assert_msg(uri_rewrite_refresh(&o, vals[i], strlen(vals[i]),
		    &out) == 0, "%s: rewritten to %s", vals[i], out);
}
END_TEST

/* A Set-Cookie value and what prefix "/legacy" makes of it; NULL: kept. */
static const struct {
	const char	*in;
	const char	*out;
} cookie_cases[] = {
	{ "sid=1; Path=/", "sid=1; Path=/legacy/" },
	{ "sid=1; Path=/app; HttpOnly", "sid=1; Path=/legacy/app; HttpOnly" },
	{ "sid=1;path=/x;Secure", "sid=1;path=/legacy/x;Secure" },
	{ "sid=1; PATH = /x", "sid=1; PATH = /legacy/x" },
	{ "sid=1; Domain=a.test; Path=/; Max-Age=60; SameSite=Lax",
	    "sid=1; Domain=a.test; Path=/legacy/; Max-Age=60; SameSite=Lax" },
	{ "sid=1; Path=/a; Path=/b", "sid=1; Path=/legacy/a; Path=/legacy/b" },
	{ "sid=1", NULL },
	{ "sid=1; HttpOnly", NULL },
	{ "Path=/x", NULL },			/* a cookie called Path */
	{ "sid=1; Path=", NULL },
	{ "sid=1; Path=relative", NULL },
	{ "sid=1; Paths=/x", NULL },
	{ "sid=1; XPath=/x", NULL },
};

/* cookie_cases[_i]. */
START_TEST(test_cookie)
{
	const char	*in = cookie_cases[_i].in, *want = cookie_cases[_i].out;
	char		*out = NULL;
	int		 r;

	r = uri_rewrite_cookie_path("/legacy", 7, in, strlen(in), &out);
	if (want == NULL)
		ck_assert_msg(r == 0, "%s: want kept, got %s", in,
		    r == 1 ? out : "-1");
	else
		ck_assert_msg(r == 1 && strcmp(out, want) == 0,
		    "%s: want %s, got %s", in, want, r == 1 ? out : "nothing");
	free(out);
}
END_TEST

/* A Host value and the length of its host part (0: not an authority). */
static const struct {
	const char	*in;
	size_t		 host;
} auth_cases[] = {
	{ "example.com", 11 },
	{ "example.com:8443", 11 },
	{ "example.com:", 11 },		/* port = *DIGIT */
	{ "EXAMPLE.com:80", 11 },
	{ "a", 1 },
	{ "10.0.0.1", 8 },
	{ "10.0.0.1:80", 8 },
	{ "[::1]", 5 },
	{ "[::1]:8080", 5 },
	{ "[2001:db8::7]:443", 13 },
	{ "[::ffff:10.0.0.1]", 17 },
	{ "xn--bcher-kva.example", 21 },
	{ "a%20b", 5 },
	{ "sub_delims!$&'()*+,;=", 21 },
	{ "host:65535", 4 },
	{ "", 0 },
	{ ":80", 0 },
	{ "host:65536", 0 },
	{ "host:123456", 0 },
	{ "host:8x", 0 },
	{ "host:80:80", 0 },
	{ "ho st", 0 },
	{ "host/path", 0 },
	{ "host?q", 0 },
	{ "host#f", 0 },
	{ "user@host", 0 },
	{ "a%2", 0 },
	{ "a%zz", 0 },
	{ "[::1", 0 },
	{ "[::1]x", 0 },
	{ "[not-v6]", 0 },
	{ "[]", 0 },
	{ "::1", 0 },			/* IPv6 without brackets */
	{ "h\"x", 0 },
	{ "h<x>", 0 },
	{ "h\\x", 0 },
	{ "h\x7fx", 0 },
	{ "h\xc3\xa9", 0 },		/* raw UTF-8: not a reg-name */
};

START_TEST(test_authority)
{
	const char	*in = auth_cases[_i].in;
	size_t		 got = uri_authority_host(in, strlen(in));

	ck_assert_msg(got == auth_cases[_i].host, "\"%s\": host length %zu, "
	    "want %zu", in, got, auth_cases[_i].host);
}
END_TEST

/* The runner's suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("uri");
	TCase	*tc = tcase_create("paths");

	tcase_add_loop_test(tc, test_normalize, 0, NELEM(norm_cases));
	tcase_add_loop_test(tc, test_strip_match, 0, NELEM(strip_cases));
	tcase_add_loop_test(tc, test_authority, 0, NELEM(auth_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("urls");
	tcase_add_loop_test(tc, test_location, 0, NELEM(loc_cases));
	tcase_add_loop_test(tc, test_refresh, 0, NELEM(loc_cases));
	tcase_add_test(tc, test_refresh_other);
	tcase_add_loop_test(tc, test_cookie, 0, NELEM(cookie_cases));
	suite_add_tcase(s, tc);
	return s;
}
