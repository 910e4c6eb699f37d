/*
 * check_edge: sluice at the edge (sluice.ini(5): trusted_proxies), with
 * the real binary and a real origin. What the origin receives is read
 * from its /echo (the request head as it arrived), and the client address
 * from the access log and from a header rule with $remote_addr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define WAIT_MS		10000

/*
 * The values of every header line called name in the head text (lines
 * "Name: value\r\n"), joined with " | ", into buf; how many there were.
 */
static int
edge_head_values(const char *head, const char *name, char *buf, size_t len)
{
	const char	*p = head, *eol;
	size_t		 n = strlen(name), at = 0;
	int		 count = 0;

	buf[0] = '\0';
	for (; p != NULL && *p != '\0'; p = eol != NULL ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ')
			p++;
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0,
		    "%s%.*s", count > 0 ? " | " : "", (int)((eol != NULL ? eol :
		    p + strlen(p)) - p - (eol != NULL && eol > p &&
		    eol[-1] == '\r')), p);
		count++;
	}
	return count;
}

/* The CLIENT field of the access log's last line, without the port. */
static void
edge_last_client(struct itest *t, char *buf, size_t len)
{
	char	*log = itest_read_file(t->access_log, NULL);
	char	*line, *end, *colon;

	end = log + strlen(log);
	if (end > log && end[-1] == '\n')
		*--end = '\0';
	line = strrchr(log, '\n');
	line = line != NULL ? line + 1 : log;
	/* "TIME CLIENT:PORT LISTENER ..." */
	line = strchr(line, ' ');
	ck_assert_ptr_nonnull(line);
	snprintf(buf, len, "%.*s", (int)strcspn(line + 1, " "), line + 1);
	if ((colon = strrchr(buf, ':')) != NULL)
		*colon = '\0';
	free(log);
}

/* A request from the client with extra header lines; the echoed head. */
static char *
edge_echo(struct itest *t, const char *extra, int nlines)
{
	struct itest_resp	 r;
	char			 req[1024];
	char			*head;

	snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: app.example"
	    "\r\n%s\r\n", extra);
	itest_request(t->sluice.port, req, &r);
	ck_assert_int_eq(r.status, 200);
	head = (char *)r.body;
	r.body = NULL;
	itest_resp_free(&r);
	ck_assert(itest_wait_lines(t->access_log, nlines, WAIT_MS));
	return head;
}

/* One request through a trusted or untrusted peer, and what must come. */
static const struct {
	const char	*why;
	int		 trusted;	/* 127.0.0.1 is a trusted proxy */
	const char	*sent;		/* header lines */
	const char	*xff;		/* what the origin gets */
	const char	*proto;
	const char	*host;
	const char	*forwarded;	/* "" none */
	const char	*client;	/* access log, $remote_addr */
} xff_cases[] = {
	{ "untrusted: a forged chain is replaced", 0,
	    "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n"
	    "Forwarded: for=1.2.3.4\r\n",
	    "127.0.0.1", "http", "app.example", "", "127.0.0.1" },
	{ "untrusted: nothing sent", 0, "",
	    "127.0.0.1", "http", "app.example", "", "127.0.0.1" },
	{ "trusted: the client is the rightmost untrusted entry", 1,
	    "X-Forwarded-For: 203.0.113.7, 10.1.2.3\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example\r\n",
	    "203.0.113.7, 10.1.2.3, 127.0.0.1", "https", "www.example", "",
	    "203.0.113.7" },
	{ "trusted: a client's forged entry left of the real one", 1,
	    "X-Forwarded-For: 1.1.1.1, 203.0.113.7\r\n",
	    "1.1.1.1, 203.0.113.7, 127.0.0.1", "http", "app.example", "",
	    "203.0.113.7" },
	{ "trusted: over two lines, three hops", 1,
	    "X-Forwarded-For: 198.51.100.4\r\n"
	    "X-Forwarded-For: 10.9.9.9, 10.1.1.1\r\n",
	    "198.51.100.4, 10.9.9.9, 10.1.1.1, 127.0.0.1", "http",
	    "app.example", "", "198.51.100.4" },
	{ "trusted: every hop trusted: the leftmost", 1,
	    "X-Forwarded-For: 10.0.0.9, 10.0.0.8\r\n",
	    "10.0.0.9, 10.0.0.8, 127.0.0.1", "http", "app.example", "",
	    "10.0.0.9" },
	{ "trusted: IPv6 entries", 1,
	    "X-Forwarded-For: 2001:DB8::7, [2001:db8:ff::2]\r\n",
	    "2001:DB8::7, [2001:db8:ff::2], 127.0.0.1", "http",
	    "app.example", "", "2001:db8::7" },
	{ "trusted: an entry that is no address ends the walk", 1,
	    "X-Forwarded-For: 203.0.113.7, unknown, 10.0.0.2\r\n",
	    "203.0.113.7, unknown, 10.0.0.2, 127.0.0.1", "http",
	    "app.example", "", "10.0.0.2" },
	{ "trusted: Forwarded passes", 1,
	    "Forwarded: for=203.0.113.7\r\n",
	    "127.0.0.1", "http", "app.example", "for=203.0.113.7",
	    "127.0.0.1" },
};

/*
 * Each row (loop 0: the untrusted ones, 1: the trusted): what the
 * origin receives in X-Forwarded-For, -Proto, -Host
 * and Forwarded, and which client address the access log and
 * $remote_addr show.
 */
START_TEST(test_xff)
{
	struct itest	 t;
	char		 v[512], client[64], *head;
	size_t		 i;
	int		 trusted = _i, n = 0;

	{
		itest_init(&t);
		itest_origin_start(&t, 0, "a");
		itest_sluice_port(&t);
		itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
		    "upstream = app\n%s"
		    "request_header = set X-Client $remote_addr\n\n"
		    "[upstream app]\nserver = 127.0.0.1:%d\n",
		    t.sluice.port, trusted ? "trusted_proxies = 127.0.0.1 "
		    "10.0.0.0/8 2001:db8:ff::/48\n" : "", t.origin[0].port);
		for (i = 0, n = 0; i < sizeof(xff_cases) /
		    sizeof(xff_cases[0]); i++) {
			if (xff_cases[i].trusted != trusted)
				continue;
			head = edge_echo(&t, xff_cases[i].sent, ++n);
			ck_assert_int_eq(edge_head_values(head,
			    "X-Forwarded-For", v, sizeof(v)), 1);
			ck_assert_msg(strcmp(v, xff_cases[i].xff) == 0,
			    "%s: X-Forwarded-For %s, want %s",
			    xff_cases[i].why, v, xff_cases[i].xff);
			edge_head_values(head, "X-Forwarded-Proto", v,
			    sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].proto) == 0,
			    "%s: X-Forwarded-Proto %s", xff_cases[i].why, v);
			edge_head_values(head, "X-Forwarded-Host", v,
			    sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].host) == 0,
			    "%s: X-Forwarded-Host %s", xff_cases[i].why, v);
			edge_head_values(head, "Forwarded", v, sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].forwarded) == 0,
			    "%s: Forwarded %s", xff_cases[i].why, v);
			edge_head_values(head, "X-Client", v, sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].client) == 0,
			    "%s: $remote_addr %s, want %s", xff_cases[i].why,
			    v, xff_cases[i].client);
			edge_last_client(&t, client, sizeof(client));
			ck_assert_msg(strcmp(client, xff_cases[i].client) == 0,
			    "%s: access log client %s, want %s",
			    xff_cases[i].why, client, xff_cases[i].client);
			free(head);
		}
		itest_finish(&t);
	}
}
END_TEST

/* --- redirect = https -------------------------------------------------- */

/* One request to a redirect listener and the answer it must get. */
static const struct {
	int		 port8443;	/* to the "redirect = https 8443" one */
	const char	*request;	/* without the final empty line */
	int		 status;
	const char	*location;	/* NULL: none */
} redirect_cases[] = {
	{ 0, "GET / HTTP/1.1\r\nHost: example.com", 301,
	    "https://example.com/" },
	{ 0, "GET /a/b?x=1&y=%2F HTTP/1.1\r\nHost: example.com:8080", 301,
	    "https://example.com/a/b?x=1&y=%2F" },
	{ 1, "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com:8080", 301,
	    "https://example.com:8443/a/b?x=1" },
	{ 0, "HEAD /h HTTP/1.1\r\nHost: Example.COM", 301,
	    "https://Example.COM/h" },
	{ 0, "POST /form HTTP/1.1\r\nHost: example.com\r\n"
	    "Content-Length: 3\r\n\r\nabc", 308, "https://example.com/form" },
	{ 0, "PUT /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0",
	    308, "https://example.com/p" },
	{ 1, "DELETE /d HTTP/1.1\r\nHost: example.com", 308,
	    "https://example.com:8443/d" },
	{ 0, "PATCH /x HTTP/1.1\r\nHost: example.com\r\n"
	    "Content-Length: 0", 308, "https://example.com/x" },
	{ 0, "OPTIONS /o HTTP/1.1\r\nHost: example.com", 308,
	    "https://example.com/o" },
	{ 0, "GET /%7Euser/a%20b/./../c?q=%00&r=%zz HTTP/1.1\r\n"
	    "Host: example.com", 301,
	    "https://example.com/%7Euser/a%20b/./../c?q=%00&r=%zz" },
	/* raw UTF-8 is no URI (RFC 3986 2.1): refused on every listener */
	{ 0, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: example.com", 400, NULL },
	{ 0, "GET //double//slash HTTP/1.1\r\nHost: example.com", 301,
	    "https://example.com//double//slash" },
	{ 0, "GET /v6 HTTP/1.1\r\nHost: [2001:db8::7]:8080", 301,
	    "https://[2001:db8::7]/v6" },
	{ 1, "GET /v4 HTTP/1.1\r\nHost: 192.0.2.9", 301,
	    "https://192.0.2.9:8443/v4" },
	{ 0, "GET http://other.example:80/abs?q HTTP/1.1\r\n"
	    "Host: example.com", 301, "https://other.example/abs?q" },
	{ 0, "GET http://other.example HTTP/1.1\r\nHost: example.com", 301,
	    "https://other.example/" },
	{ 0, "GET / HTTP/1.0", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: ex ample.com", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: example.com:99999", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: user@example.com", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: ::1", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: example.com/x", 400, NULL },
	{ 0, "OPTIONS * HTTP/1.1\r\nHost: example.com", 400, NULL },
	{ 0, "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example", 400,
	    NULL },
};

/*
 * Every row on its own connection: the status, the Location, a body on
 * all but HEAD, and the access log says redirect; the origin never hears
 * of any of it.
 */
START_TEST(test_redirect)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	char			 req[512];
	const char		*loc;
	int			 p8443, i, n;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	p8443 = itest_free_port();
	itest_sluice_start(&t, "[listener http]\nlisten = 127.0.0.1:%d\n"
	    "redirect = https\n\n[listener alt]\nlisten = 127.0.0.1:%d\n"
	    "redirect = https 8443\n\n[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d\n", t.sluice.port, p8443,
	    itest_free_port(), t.origin[0].port);
	n = (int)(sizeof(redirect_cases) / sizeof(redirect_cases[0]));
	for (i = 0; i < n; i++) {
		itest_connect(&c, redirect_cases[i].port8443 ? p8443 :
		    t.sluice.port, WAIT_MS);
		snprintf(req, sizeof(req), "%s%s", redirect_cases[i].request,
		    strstr(redirect_cases[i].request, "\r\n\r\n") != NULL ?
		    "" : "\r\n\r\n");
		itest_send_str(&c, req);
		itest_read_response(&c, &r, strncmp(req, "HEAD", 4) == 0,
		    WAIT_MS);
		loc = itest_resp_header(&r, "Location");
		ck_assert_msg(r.status == redirect_cases[i].status, "%s: "
		    "status %d, want %d", redirect_cases[i].request, r.status,
		    redirect_cases[i].status);
		if (redirect_cases[i].location == NULL)
			ck_assert_msg(loc == NULL, "%s: Location %s",
			    redirect_cases[i].request, loc);
		else {
			ck_assert_msg(loc != NULL && strcmp(loc,
			    redirect_cases[i].location) == 0, "%s: Location "
			    "%s, want %s", redirect_cases[i].request, loc,
			    redirect_cases[i].location);
			ck_assert_msg(strncmp(req, "HEAD", 4) == 0 ?
			    r.bodylen == 0 : r.bodylen > 0 && strstr((char *)
			    r.body, redirect_cases[i].location) != NULL,
			    "%s: body %s", redirect_cases[i].request, r.body);
		}
		itest_resp_free(&r);
		itest_close(&c);
	}
	ck_assert(itest_wait_lines(t.access_log, n, WAIT_MS));
	ck_assert_int_eq(itest_count_file(t.access_log, " redirect #"),
	    n - 9);
	ck_assert_int_eq(itest_count_lines(t.origin_log[0]), 0);
	itest_finish(&t);
}
END_TEST

/* --- error_page --------------------------------------------------------- */

/* Write text into t's directory as name; the path into path. */
static void
edge_page(struct itest *t, const char *name, const char *text, char *path,
    size_t len)
{
	snprintf(path, len, "%s/%s", t->dir, name);
	itest_write_file(path, text);
}

/* The error-page world's config, with the dead upstream's page file. */
static void
edge_pages_config(struct itest *t, const char *lpage, const char *dead,
    const char *slow, int dead_port, int bare_port)
{
	itest_sluice_config(t, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /dead/ dead\nroute = /slow/ slow strip\n"
	    "route = /one/ one strip\n"
	    "error_page = 400 404 502 503 %s\n\n"
	    "[listener bare]\nlisten = 127.0.0.1:%d\nroute = /x/ app\n"
	    "error_page = 404 %s\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d\n\n"
	    "[upstream dead]\nserver = 127.0.0.1:%d\nretries = 0\n"
	    "error_page = 502 %s\n\n"
	    "[upstream slow]\nserver = 127.0.0.1:%d\nread_timeout = 200ms\n"
	    "error_page = 504 %s\n\n"
	    "[upstream one]\nserver = 127.0.0.1:%d max_conns=1\n",
	    t->sluice.port, lpage, bare_port, lpage, t->origin[0].port,
	    dead_port, dead, t->origin[0].port, slow, t->origin[0].port);
}

/* GET or HEAD path on port; the response (freed by the caller). */
static void
edge_get(int port, const char *method, const char *path,
    struct itest_resp *r)
{
	struct itest_conn	 c;
	char			 req[256];

	itest_connect(&c, port, WAIT_MS);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n", method, path);
	itest_send_str(&c, req);
	itest_read_response(&c, r, strcmp(method, "HEAD") == 0, WAIT_MS);
	itest_close(&c);
}

/* Assert a response: status, Content-Type, body. */
static void
edge_assert_page(const struct itest_resp *r, int status, const char *type,
    const char *body, const char *what)
{
	const char	*ct = itest_resp_header(r, "Content-Type");

	ck_assert_msg(r->status == status, "%s: status %d, want %d", what,
	    r->status, status);
	ck_assert_msg(ct != NULL && strcmp(ct, type) == 0, "%s: Content-Type "
	    "%s, want %s", what, ct != NULL ? ct : "(none)", type);
	ck_assert_msg(r->body != NULL && strcmp((const char *)r->body,
	    body) == 0, "%s: body \"%s\", want \"%s\"", what,
	    r->body != NULL ? (const char *)r->body : "", body);
}

/*
 * Each path sluice answers itself gets its page, the upstream's before
 * the listener's; a server's own error is never replaced; HEAD gets the
 * page's length; a reload swaps a page, and one that names a missing file
 * is refused and keeps the old one.
 */
START_TEST(test_error_pages)
{
	static const char	 lbody[] = "<p>sorry</p>\n";
	static const char	 dbody[] = "{\"error\":\"dead\"}\n";
	static const char	 sbody[] = "slow down\n";
	struct itest		 t;
	struct itest_resp	 r;
	struct itest_conn	 hold;
	char			 lp[256], dp[256], sp[256], len[16];
	int			 dead, bare;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	dead = itest_free_port();
	bare = itest_free_port();
	edge_page(&t, "l.html", lbody, lp, sizeof(lp));
	edge_page(&t, "dead.json", dbody, dp, sizeof(dp));
	edge_page(&t, "slow.txt", sbody, sp, sizeof(sp));
	edge_pages_config(&t, lp, dp, sp, dead, bare);
	itest_sluice_launch(&t);

	edge_get(t.sluice.port, "GET", "/dead/x", &r);
	edge_assert_page(&r, 502, "application/json", dbody,
	    "502, the upstream's page");
	itest_resp_free(&r);
	edge_get(t.sluice.port, "HEAD", "/dead/x", &r);
	snprintf(len, sizeof(len), "%zu", strlen(dbody));
	ck_assert_int_eq(r.status, 502);
	ck_assert_str_eq(itest_resp_header(&r, "Content-Length"), len);
	ck_assert_uint_eq(r.bodylen, 0);
	itest_resp_free(&r);
	edge_get(t.sluice.port, "GET", "/slow/delay/2000", &r);
	edge_assert_page(&r, 504, "text/plain; charset=utf-8", sbody,
	    "504, the upstream's page");
	itest_resp_free(&r);
	edge_get(t.sluice.port, "GET", "/a/../../x", &r);
	edge_assert_page(&r, 400, "text/html; charset=utf-8", lbody,
	    "400, the listener's page");
	itest_resp_free(&r);
	edge_get(bare, "GET", "/nothing", &r);
	edge_assert_page(&r, 404, "text/html; charset=utf-8", lbody,
	    "404, the other listener's page");
	itest_resp_free(&r);
	/* a full queue (0) is sluice's 503: the listener's page */
	itest_connect(&hold, t.sluice.port, WAIT_MS);
	itest_send_str(&hold, "GET /one/delay/1000 HTTP/1.1\r\nHost: t\r\n"
	    "\r\n");
	ck_assert(itest_wait_file(t.origin_log[0], "/delay/1000", WAIT_MS));
	edge_get(t.sluice.port, "GET", "/one/x", &r);
	edge_assert_page(&r, 503, "text/html; charset=utf-8", lbody,
	    "503 of a full queue, the listener's page");
	itest_resp_free(&r);
	itest_close(&hold);
	/* a server's own 502 stays the server's */
	edge_get(t.sluice.port, "GET", "/status/502", &r);
	ck_assert_int_eq(r.status, 502);
	ck_assert_msg(r.body == NULL || strstr((char *)r.body, "sorry") ==
	    NULL, "a server's 502 got the page: %s", r.body);
	itest_resp_free(&r);
	/* a reload swaps the page; a missing file is refused */
	edge_page(&t, "dead.json", "{\"error\":\"new\"}\n", dp, sizeof(dp));
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	edge_get(t.sluice.port, "GET", "/dead/x", &r);
	edge_assert_page(&r, 502, "application/json", "{\"error\":\"new\"}\n",
	    "502 after the reload");
	itest_resp_free(&r);
	snprintf(dp, sizeof(dp), "%s/missing.json", t.dir);
	edge_pages_config(&t, lp, dp, sp, dead, bare);
	itest_sluice_hup(&t, "reload failed; still serving generation 2",
	    WAIT_MS);
	ck_assert_int_eq(itest_count_file(t.error_log, "missing.json\": No "
	    "such file or directory"), 1);
	edge_get(t.sluice.port, "GET", "/dead/x", &r);
	edge_assert_page(&r, 502, "application/json", "{\"error\":\"new\"}\n",
	    "502 after a refused reload");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* --- proxy_protocol ----------------------------------------------------- */

#define PP_SIG	"\r\n\r\n\0\r\nQUIT\n"	/* the v2 signature, 12 bytes */

/* A v2 header (16 bytes of header, then len bytes of addresses). */
#define PP_V2(cmd, fam, len)	PP_SIG cmd fam "\0" len

/* One header sent before "GET /echo", what must come of it. */
static const struct {
	const char	*why;
	const char	*hdr;
	size_t		 len;		/* of hdr (it may hold NULs) */
	const char	*xff;		/* what the origin gets; NULL:
					 * the connection is refused */
	const char	*client;	/* the access log's */
} pp_cases[] = {
	{ "v1 TCP4", "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n", 0,
	    "203.0.113.7", "203.0.113.7" },
	{ "v1 TCP6", "PROXY TCP6 2001:db8::7 2001:db8::1 5555 80\r\n", 0,
	    "2001:db8::7", "2001:db8::7" },
	{ "v1 UNKNOWN: the socket's peer (trusted)", "PROXY UNKNOWN\r\n", 0,
	    "198.51.100.20, 127.0.0.1", "198.51.100.20" },
	{ "v2 TCP4", PP_V2("\x21", "\x11", "\x0c")
	    "\xc6\x33\x64\x09" "\x0a\x00\x00\x01" "\x11\x5c" "\x00\x50",
	    28, "198.51.100.9", "198.51.100.9" },
	{ "v2 TCP6", PP_V2("\x21", "\x21", "\x24")
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x11\x5c"
	    "\x01\xbb", 52, "2001:db8::7", "2001:db8::7" },
	{ "v2 LOCAL: the socket's peer (trusted)",
	    PP_V2("\x20", "\x00", "\x00"), 16, "198.51.100.20, 127.0.0.1",
	    "198.51.100.20" },
	{ "v2 TCP4 with a TLV", PP_V2("\x21", "\x11", "\x12")
	    "\xc6\x33\x64\x0a" "\x0a\x00\x00\x01" "\x11\x5c" "\x00\x50"
	    "\x01\x00\x03h2x", 34, "198.51.100.10", "198.51.100.10" },
	{ "a trusted source: its X-Forwarded-For counts",
	    "PROXY TCP4 10.0.0.5 10.0.0.1 5555 80\r\n", 0,
	    "198.51.100.20, 10.0.0.5", "198.51.100.20" },
	{ "HTTP without a header", "", 0, NULL, NULL },
	{ "v1 missing fields", "PROXY TCP4 1.2.3.4\r\n", 0, NULL, NULL },
	{ "v1 with LF only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 0, NULL,
	    NULL },
	{ "v1 lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, NULL,
	    NULL },
	{ "v1 TCP4 with an IPv6 address", "PROXY TCP4 ::1 ::1 1 2\r\n", 0,
	    NULL, NULL },
	{ "v1 port out of range",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n", 0, NULL, NULL },
	{ "v1 too long", "PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxx\r\n", 0, NULL, NULL },
	{ "v2 version 3", PP_V2("\x31", "\x11", "\x0c") "12345678abcd",
	    28, NULL, NULL },
	{ "v2 unknown command", PP_V2("\x22", "\x11", "\x0c")
	    "12345678abcd", 28, NULL, NULL },
	{ "v2 too short for TCP4", PP_V2("\x21", "\x11", "\x04") "1234",
	    20, NULL, NULL },
	{ "v2 oversized", PP_SIG "\x21\x11\xff\xff", 16, NULL, NULL },
	{ "a TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc",
	    9, NULL, NULL },
};

/* The proxy_protocol world: listener web trusts 127.0.0.1 and 10/8. */
static void
edge_pp_start(struct itest *t, const char *trusted)
{
	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_sluice_port(t);
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nproxy_protocol = on\ntrusted_proxies = %s\n"
	    "client_timeout = 1s\n\n[upstream app]\nserver = 127.0.0.1:%d\n",
	    t->sluice.port, trusted, t->origin[0].port);
}

/*
 * Each row on its own connection: the header (in two writes, split
 * inside it), then a request. A good header: the origin gets its client
 * in X-Forwarded-For, the access log shows it. A bad one: the connection
 * closes without a byte, and the origin hears nothing.
 */
START_TEST(test_proxy_protocol)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	static const char	 req[] = "GET /echo HTTP/1.1\r\nHost: t\r\n"
				    "X-Forwarded-For: 198.51.100.20\r\n"
				    "Connection: close\r\n\r\n";
	char			 v[256], client[64];
	size_t			 i, len, half;
	int			 served = 0, refused = 0;

	edge_pp_start(&t, "127.0.0.1 10.0.0.0/8");
	for (i = 0; i < sizeof(pp_cases) / sizeof(pp_cases[0]); i++) {
		len = pp_cases[i].len != 0 ? pp_cases[i].len :
		    strlen(pp_cases[i].hdr);
		half = len / 2;
		itest_connect(&c, t.sluice.port, WAIT_MS);
		if (half > 0) {
			ck_assert_int_eq(itest_send(&c, pp_cases[i].hdr, half,
			    WAIT_MS), 0);
			ck_assert_int_eq(itest_send(&c, pp_cases[i].hdr + half,
			    len - half, WAIT_MS), 0);
		}
		(void)itest_send(&c, req, strlen(req), WAIT_MS);
		itest_read_response(&c, &r, 0, WAIT_MS);
		if (pp_cases[i].xff == NULL) {
			ck_assert_msg(r.status == -1 && (r.eof || r.reset) &&
			    !r.timeout, "%s: status %d, eof %d, timeout %d",
			    pp_cases[i].why, r.status, r.eof, r.timeout);
			refused++;
		} else {
			ck_assert_msg(r.status == 200, "%s: status %d",
			    pp_cases[i].why, r.status);
			edge_head_values((const char *)r.body,
			    "X-Forwarded-For", v, sizeof(v));
			ck_assert_msg(strcmp(v, pp_cases[i].xff) == 0,
			    "%s: X-Forwarded-For %s, want %s",
			    pp_cases[i].why, v, pp_cases[i].xff);
			ck_assert(itest_wait_lines(t.access_log, ++served,
			    WAIT_MS));
			edge_last_client(&t, client, sizeof(client));
			ck_assert_msg(strcmp(client, pp_cases[i].client) == 0,
			    "%s: client %s, want %s", pp_cases[i].why, client,
			    pp_cases[i].client);
		}
		itest_resp_free(&r);
		itest_close(&c);
	}
	printf("proxy_protocol: %d headers served, %d refused\n", served,
	    refused);
	fflush(stdout);
	ck_assert_int_eq(itest_count_lines(t.origin_log[0]), served);
	ck_assert(itest_wait_file(t.error_log, "refused: PROXY header: ",
	    WAIT_MS));
	itest_finish(&t);
}
END_TEST

/*
 * A header sent a byte at a time keeps the connection no longer than
 * client_timeout in all (the read timeout alone would restart at every
 * byte); a valid header from a peer that is no trusted proxy is refused.
 */
START_TEST(test_proxy_protocol_bounds)
{
	static const char	 hdr[] = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 "
				    "80\r\n";
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		 b;
	double			 t0, took = 0;
	size_t			 i;

	edge_pp_start(&t, _i == 0 ? "127.0.0.1" : "10.0.0.0/8");
	itest_connect(&c, t.sluice.port, WAIT_MS);
	if (_i == 0) {
		t0 = itest_now();
		for (i = 0; i + 2 < sizeof(hdr) - 1; i++) {
			if (itest_send(&c, hdr + i, 1, 1000) == -1 ||
			    itest_read_some(&c, &b, 1, 150) == 0)
				break;
		}
		took = itest_now() - t0;
		ck_assert_msg(itest_wait_closed(&c, 3000), "still open after "
		    "%.1f s", itest_now() - t0);
		took = itest_now() - t0;
		printf("proxy_protocol: a header a byte every 150 ms closed "
		    "after %.2f s (client_timeout 1 s)\n", took);
		fflush(stdout);
		ck_assert_msg(took < 1.6, "closed after %.2f s", took);
		ck_assert(itest_wait_file(t.error_log, "not complete",
		    WAIT_MS));
	} else {
		itest_send_str(&c, hdr);
		itest_send_str(&c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
		itest_read_response(&c, &r, 0, WAIT_MS);
		ck_assert_int_eq(r.status, -1);
		itest_resp_free(&r);
		ck_assert(itest_wait_file(t.error_log, "connection from "
		    "127.0.0.1 refused: PROXY header: the peer is not in "
		    "trusted_proxies", WAIT_MS));
		ck_assert_int_eq(itest_count_lines(t.origin_log[0]), 0);
	}
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* The suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("edge");
	TCase	*tc = tcase_create("addr");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_xff, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("pages");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_error_pages);
	suite_add_tcase(s, tc);
	tc = tcase_create("proxy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_proxy_protocol);
	tcase_add_loop_test(tc, test_proxy_protocol_bounds, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("redirect");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_redirect);
	suite_add_tcase(s, tc);
	return s;
}
