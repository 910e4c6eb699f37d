/*
 * check_route: route selection (gen_route). A listener's routes are built
 * by gen_new from a configuration loaded with conf_load_string, as a
 * reload builds them, and no socket is opened. Table driven: each row is
 * a request's host (lower-case and without its port, as the caller passes
 * it; NULL when the request has none) and path, and the upstream it must
 * go to. The rules (sluice.ini(5), route): routes naming a matching host,
 * exact or "*.suffix", win over routes for any host; among them the
 * longest prefix wins; else the listener's default upstream; else none.
 * A route that strips its prefix matches it by whole path segments.
 * Among routes with the same host and prefix, one whose header= and
 * cookie= conditions hold beats one without (listener cond).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conf/conf.h"
#include "proxy/gen.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* Listener web (0) has a default upstream; bare (1) has none. */
static const char conf_text[] =
	"[listener web]\n"
	"listen = 127.0.0.1:18080\n"
	"upstream = dflt\n"
	"route = /api/ api\n"
	"route = /api/v1/ v1\n"
	"route = /api/v1/users/ users\n"
	"route = /static/ static\n"
	"route = legacy.example.com/ legacy\n"
	"route = legacy.example.com/api/ legacy_api\n"
	"route = *.example.com/ wild\n"
	"route = *.example.com/api/ wild_api\n"
	"route = shop.example.com/api/ shop_api\n"
	"\n"
	"[listener bare]\n"
	"listen = 127.0.0.1:18081\n"
	"route = /only/ only\n"
	"route = a.test/ a\n"
	"route = /legacy/ legacy strip\n"
	"route = /app legacy_api strip\n"
	"\n"
	"[listener cond]\n"
	"listen = 127.0.0.1:18082\n"
	"route = / blue\n"
	"route = / green cookie=preview:green\n"
	"route = / green2 header=X-Preview:1\n"
	"route = / both cookie=preview:green header=X-Preview:1\n"
	"route = /api/ api\n"
	"route = /api/ capi header=x-api:v2\n"
	"route = h.test/ hgreen cookie=preview:green\n"
	"route = h.test/ hblue\n"
	"\n"
	"[upstream dflt]\nserver = 127.0.0.1:9001\n"
	"[upstream api]\nserver = 127.0.0.1:9002\n"
	"[upstream v1]\nserver = 127.0.0.1:9003\n"
	"[upstream users]\nserver = 127.0.0.1:9004\n"
	"[upstream static]\nserver = 127.0.0.1:9005\n"
	"[upstream legacy]\nserver = 127.0.0.1:9006\n"
	"[upstream legacy_api]\nserver = 127.0.0.1:9007\n"
	"[upstream wild]\nserver = 127.0.0.1:9008\n"
	"[upstream wild_api]\nserver = 127.0.0.1:9009\n"
	"[upstream shop_api]\nserver = 127.0.0.1:9010\n"
	"[upstream only]\nserver = 127.0.0.1:9011\n"
	"[upstream a]\nserver = 127.0.0.1:9012\n"
	"[upstream blue]\nserver = 127.0.0.1:9013\n"
	"[upstream green]\nserver = 127.0.0.1:9014\n"
	"[upstream green2]\nserver = 127.0.0.1:9015\n"
	"[upstream both]\nserver = 127.0.0.1:9016\n"
	"[upstream capi]\nserver = 127.0.0.1:9017\n"
	"[upstream hgreen]\nserver = 127.0.0.1:9018\n"
	"[upstream hblue]\nserver = 127.0.0.1:9019\n";

/* One request and the upstream it must get (NULL: no route). */
struct route_case {
	const char	*why;
	int		 listener;	/* index in conf_text */
	const char	*host;
	const char	*path;
	const char	*want;
	const char	*hdrs;		/* "Name: value\n" lines; NULL:
					 * none */
};

static const struct route_case route_cases[] = {
	{ "no host, no route matches: the default", 0, NULL, "/", "dflt", NULL },
	{ "no host: an any-host prefix", 0, NULL, "/api/x", "api", NULL },
	{ "the longest of two prefixes", 0, NULL, "/api/v1/x", "v1", NULL },
	{ "the longest of three prefixes", 0, NULL, "/api/v1/users/7",
	    "users", NULL },
	{ "a prefix is bytes: /api is not under /api/", 0, NULL, "/api",
	    "dflt", NULL },
	{ "a path equal to the prefix", 0, NULL, "/static/", "static", NULL },
	{ "an unknown host gets any-host routes", 0, "other.test",
	    "/static/img", "static", NULL },
	{ "an exact host", 0, "legacy.example.com", "/", "legacy", NULL },
	{ "an exact host, its longer prefix", 0, "legacy.example.com",
	    "/api/x", "legacy_api", NULL },
	{ "a host route wins over a longer any-host prefix", 0,
	    "legacy.example.com", "/api/v1/users/7", "legacy_api", NULL },
	{ "the port stripped by the caller: the exact host", 0,
	    "legacy.example.com", "/static/", "legacy", NULL },
	{ "a port left on the host matches no host route", 0,
	    "legacy.example.com:8080", "/static/", "static", NULL },
	{ "*.suffix: a name under it", 0, "www.example.com", "/", "wild", NULL },
	{ "*.suffix: a name two levels under it", 0, "a.b.example.com",
	    "/api/v1/x", "wild_api", NULL },
	{ "*.suffix does not match the bare name", 0, "example.com", "/",
	    "dflt", NULL },
	{ "*.suffix needs the dot", 0, "xexample.com", "/api/x", "api", NULL },
	{ "an exact host wins over *.suffix, same prefix", 0,
	    "shop.example.com", "/api/x", "shop_api", NULL },
	{ "the exact host lacks the prefix: *.suffix then", 0,
	    "shop.example.com", "/", "wild", NULL },
	{ "no default and no route: none", 1, NULL, "/", NULL, NULL },
	{ "no default: an any-host route", 1, NULL, "/only/x", "only", NULL },
	{ "no default: an exact host", 1, "a.test", "/x", "a", NULL },
	{ "an exact host does not match a name under it", 1, "b.a.test",
	    "/x", NULL, NULL },
	{ "no default: a host route, no route for others", 1, "other.test",
	    "/x", NULL, NULL },
	{ "strip: the prefix without its slash", 1, NULL, "/legacy",
	    "legacy", NULL },
	{ "strip: the prefix", 1, NULL, "/legacy/", "legacy", NULL },
	{ "strip: under the prefix", 1, NULL, "/legacy/a/b", "legacy", NULL },
	{ "strip: whole segments only", 1, NULL, "/legacyx", NULL, NULL },
	{ "strip, written without a slash", 1, NULL, "/app/x", "legacy_api", NULL },
	{ "strip, written without a slash: whole segments", 1, NULL,
	    "/apps", NULL, NULL },
	{ "cond: no header, no cookie", 2, NULL, "/", "blue", NULL },
	{ "cond: the cookie", 2, NULL, "/x", "green",
	    "Cookie: preview=green\n" },
	{ "cond: the cookie among others", 2, NULL, "/x", "green",
	    "Cookie: a=1; preview=green;b=2\n" },
	{ "cond: the cookie on a second Cookie line", 2, NULL, "/x", "green",
	    "Cookie: a=1\nCookie: preview=green\n" },
	{ "cond: another cookie value", 2, NULL, "/x", "blue",
	    "Cookie: preview=greenish\n" },
	{ "cond: cookie names compare exactly", 2, NULL, "/x", "blue",
	    "Cookie: Preview=green\n" },
	{ "cond: the value in another cookie", 2, NULL, "/x", "blue",
	    "Cookie: x=preview=green\n" },
	{ "cond: the header", 2, NULL, "/x", "green2", "X-Preview: 1\n" },
	{ "cond: header names in any case", 2, NULL, "/x", "green2",
	    "x-PREVIEW: 1\n" },
	{ "cond: another header value", 2, NULL, "/x", "blue",
	    "X-Preview: 10\n" },
	{ "cond: the header on one of its lines", 2, NULL, "/x", "green2",
	    "X-Preview: 0\nX-Preview: 1\n" },
	{ "cond: a Cookie header is not the header condition", 2, NULL,
	    "/x", "blue", "Cookie: X-Preview=1\n" },
	{ "cond: both hold: the route with both", 2, NULL, "/x", "both",
	    "Cookie: preview=green\nX-Preview: 1\n" },
	{ "cond: a longer prefix beats a condition that holds", 2, NULL,
	    "/api/x", "api", "Cookie: preview=green\n" },
	{ "cond: the longer prefix with its condition", 2, NULL, "/api/x",
	    "capi", "X-Api: v2\n" },
	{ "cond: values compare exactly", 2, NULL, "/api/x", "api",
	    "X-Api: V2\n" },
	{ "cond: a host route, its condition holds", 2, "h.test", "/x",
	    "hgreen", "Cookie: preview=green\n" },
	{ "cond: a host route, its condition fails", 2, "h.test", "/x",
	    "hblue", "X-Preview: 1\n" },
	{ "cond: a host route beats a longer conditioned prefix", 2,
	    "h.test", "/api/x", "hblue", "X-Api: v2\n" },
	{ "cond: another host gets any-host routes", 2, "o.test", "/x",
	    "green", "Cookie: preview=green\n" },
};

/* Fill q from "Name: value\n" lines. */
static void
route_headers(struct evkeyvalq *q, const char *lines)
{
	char	 buf[256], *line, *save = NULL, *colon;

	snprintf(buf, sizeof(buf), "%s", lines);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		ck_assert_int_eq(evhttp_add_header(q, line, colon + 2), 0);
	}
}

static struct gen	*g;

/* Build the generation of conf_text (in each test's process). */
static void
setup(void)
{
	struct conf	*c;
	char		*errors = NULL;

	c = conf_load_string("route.ini", conf_text, &errors);
	ck_assert_msg(c != NULL, "conf: %s", errors);
	g = gen_new(c, 1, &errors);
	ck_assert_msg(g != NULL, "gen_new: %s", errors);
	ck_assert_uint_eq(g->nlsts, 3);
}

/* Drop it. */
static void
teardown(void)
{
	gen_unref(g);
	g = NULL;
}

/* One row of route_cases. */
START_TEST(test_route)
{
	const struct route_case		*rc = &route_cases[_i];
	const struct gen_route		*r;
	const char			*got;
	struct evkeyvalq		 q;

	TAILQ_INIT(&q);
	if (rc->hdrs != NULL)
		route_headers(&q, rc->hdrs);
	r = gen_route(&g->lsts[rc->listener], rc->host, rc->path, &q);
	evhttp_clear_headers(&q);
	got = r != NULL ? r->up->conf->name : NULL;
	ck_assert(r == NULL || r->strip == (strncmp(rc->why, "strip", 5) ==
	    0));
	ck_assert_msg(rc->want == NULL ? got == NULL : got != NULL &&
	    strcmp(got, rc->want) == 0, "%s: listener %d, host %s, path %s: "
	    "got %s, want %s", rc->why, rc->listener, rc->host != NULL ?
	    rc->host : "(none)", rc->path, got != NULL ? got : "no route",
	    rc->want != NULL ? rc->want : "no route");
}
END_TEST

/* A listener's table: longest prefix first, an exact host before a
 * suffix of the same length (what the first match of gen_route relies
 * on). */
START_TEST(test_table_order)
{
	const struct gen_listener	*gl = &g->lsts[0];
	size_t				 i;

	ck_assert_uint_eq(gl->nroutes, 9);
	for (i = 1; i < gl->nroutes; i++) {
		const struct gen_route	*a = &gl->routes[i - 1];
		const struct gen_route	*b = &gl->routes[i];

		ck_assert_msg(a->prefixlen > b->prefixlen ||
		    (a->prefixlen == b->prefixlen && a->suffix <= b->suffix),
		    "route %zu (%s%s) before route %zu (%s%s)", i - 1,
		    a->host != NULL ? a->host : "", a->prefix, i,
		    b->host != NULL ? b->host : "", b->prefix);
	}
	ck_assert_ptr_nonnull(gl->dflt.up);
	ck_assert_ptr_null(g->lsts[1].dflt.up);
}
END_TEST

/* The route suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc = tcase_create("select");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_route, 0, NELEM(route_cases));
	tcase_add_test(tc, test_table_order);
	suite_add_tcase(s, tc);
	return s;
}
