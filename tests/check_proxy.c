/*
 * check_proxy: forwarding one request at a time. Integration tests: each
 * starts its own origin(s) and its own sluice on ephemeral loopback ports
 * (tests/itest.c), talks raw HTTP/1.1 to sluice and checks what a user
 * would see: the bytes that come back, the status codes, the timings, the
 * logs. It covers the origin alone (the harness's own check), forwarding
 * (bodies in every framing, keep-alive, pipelining, routes), failures and
 * timeouts (connect, read, write, an origin down or hanging up), request
 * and response hygiene (bad requests, hop-by-hop and Connection lists,
 * Forwarded and Via, Host, absolute-form, 1xx), resources and clients
 * going away, the access log and the command line (-t, -h).
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_proxy. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_main.h"
#include "proxy/base/version.h"
#include "tests/itest.h"

#define MIB		(1024 * 1024)
#define IO_MS		ITEST_IO_TIMEOUT_MS
#define HOST		"Host: test.local\r\n"
/* How much later than configured a timeout may fire, in seconds. */
#define TIMEOUT_MARGIN	0.5
/* How much earlier (clock granularity), in seconds. */
#define TIMEOUT_EARLY	0.02

/* One malformed request and why it is malformed. */
struct proxy_bad {
	const char	*what;
	const char	*req;
	size_t		 len;		/* 0: strlen(req) */
};

/* --- helpers ----------------------------------------------------------- */

/* Start origin "a" and sluice in front of it with the given timeouts. */
static void
proxy_start(struct itest *t, int connect_s, int read_s, int write_s)
{
	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_sluice_simple(t, connect_s, read_s, write_s);
}

/* Send "METHOD PATH" with a Host header on c and read the response. */
static int
proxy_req(struct itest_conn *c, const char *method, const char *path,
    struct itest_resp *r)
{
	char	 req[512];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n" HOST "\r\n", method,
	    path);
	itest_send_str(c, req);
	return itest_read_response(c, r, strcmp(method, "HEAD") == 0, IO_MS);
}

/* Send a request with a Content-Length body on c and read the response. */
static int
proxy_req_body(struct itest_conn *c, const char *method, const char *path,
    const unsigned char *body, size_t len, struct itest_resp *r)
{
	char	 head[512];

	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n" HOST
	    "Content-Length: %zu\r\n\r\n", method, path, len);
	itest_send_str(c, head);
	ck_assert_msg(itest_send(c, body, len, IO_MS) == 0,
	    "cannot send a %zu-byte body", len);
	return itest_read_response(c, r, 0, IO_MS);
}

/* Offset of the first byte of body that differs from the pattern, or -1. */
static long
proxy_pattern_diff(const unsigned char *body, size_t len, uint64_t off)
{
	unsigned char	*want = malloc(len + 1);
	size_t		 i;
	long		 at = -1;

	ck_assert(want != NULL);
	itest_pattern_fill(want, off, len);
	if (memcmp(want, body, len) != 0)
		for (i = 0; i < len && at == -1; i++)
			if (want[i] != body[i])
				at = (long)i;
	free(want);
	return at;
}

/* Assert that r is a complete 200 whose body is the pattern of n bytes. */
static void
proxy_assert_pattern(const struct itest_resp *r, size_t n, const char *what)
{
	ck_assert_msg(r->status == 200, "%s: status %d (eof %d reset %d "
	    "timeout %d)", what, r->status, r->eof, r->reset, r->timeout);
	ck_assert_msg(r->complete, "%s: body incomplete (%zu of %zu bytes, "
	    "eof %d reset %d timeout %d)", what, r->bodylen, n, r->eof,
	    r->reset, r->timeout);
	ck_assert_msg(r->bodylen == n, "%s: %zu body bytes, want %zu", what,
	    r->bodylen, n);
	ck_assert_msg(proxy_pattern_diff(r->body, n, 0) == -1,
	    "%s: body differs from the origin's at offset %ld", what,
	    proxy_pattern_diff(r->body, n, 0));
}

/* GET path on c and assert the pattern of n bytes comes back. */
static void
proxy_get_pattern(struct itest_conn *c, const char *path, size_t n)
{
	struct itest_resp	 r;

	proxy_req(c, "GET", path, &r);
	proxy_assert_pattern(&r, n, path);
	itest_resp_free(&r);
}

/*
 * In a request head (lines up to the empty line), how many lines have the
 * header name; the first value goes to first (when not NULL).
 */
static int
proxy_head_count(const char *head, const char *name, char *first,
    size_t firstlen)
{
	const char	*line = strchr(head, '\n'), *v, *eol;
	size_t		 nlen = strlen(name);
	int		 n = 0;

	if (first != NULL)
		first[0] = '\0';
	while (line != NULL && line[1] != '\r' && line[1] != '\n' &&
	    line[1] != '\0') {
		line++;
		eol = strchr(line, '\n');
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			for (v = line + nlen + 1; *v == ' '; v++)
				;
			if (n++ == 0 && first != NULL && eol != NULL)
				snprintf(first, firstlen, "%.*s",
				    (int)(eol - v - (eol[-1] == '\r')), v);
		}
		line = eol;
	}
	return n;
}

/* Seconds from t0 until a response to what arrives on c; fills r. */
static double
proxy_timed_response(struct itest_conn *c, struct itest_resp *r, double t0)
{
	itest_read_response(c, r, 0, IO_MS);
	return itest_now() - t0;
}

/* Assert a timeout response: 504 within configured + margin. */
static void
proxy_assert_timeout(const char *what, const struct itest_resp *r,
    double took, int configured_s)
{
	printf("%s: %.3f s (configured %d s), status %d\n", what, took,
	    configured_s, r->status);
	fflush(stdout);
	ck_assert_msg(r->status == 504, "%s: status %d, want 504 (eof %d "
	    "reset %d timeout %d)", what, r->status, r->eof, r->reset,
	    r->timeout);
	ck_assert_msg(took >= configured_s - TIMEOUT_EARLY, "%s fired early: "
	    "%.3f s, configured %d s", what, took, configured_s);
	ck_assert_msg(took <= configured_s + TIMEOUT_MARGIN, "%s fired late: "
	    "%.3f s, configured %d s", what, took, configured_s);
}

/* --- the origin alone (checks the harness and the origin) -------------- */

/* The origin's modes, framing, keep-alive and log, talked to directly. */
START_TEST(test_origin_direct)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		 body[1000];
	char			 hex[65];
	char			*log;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_connect(&c, t.origin[0].port, IO_MS);
	proxy_get_pattern(&c, "/bytes/100000", 100000);
	proxy_get_pattern(&c, "/chunked/100000", 100000);
	proxy_req(&c, "GET", "/drip/3/10", &r);
	ck_assert_int_eq(r.framing, 'C');
	ck_assert_str_eq((char *)r.body, "000");
	itest_resp_free(&r);
	proxy_req(&c, "HEAD", "/bytes/77", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(itest_resp_header(&r, "Content-Length"), "77");
	ck_assert_str_eq(itest_resp_header(&r, "X-Origin"), "a");
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/status/204", &r);
	ck_assert_int_eq(r.status, 204);
	itest_resp_free(&r);
	itest_random_fill(body, sizeof(body), 7);
	itest_sha256_hex(body, sizeof(body), hex);
	proxy_req_body(&c, "POST", "/sha?x=1", body, sizeof(body), &r);
	ck_assert_str_eq((char *)r.body, hex);
	itest_resp_free(&r);
	proxy_req_body(&c, "PUT", "/echo", (const unsigned char *)"hi", 2, &r);
	ck_assert_str_eq(itest_resp_header(&r, "X-Body-Len"), "2");
	ck_assert_msg(strncmp((char *)r.body, "PUT /echo HTTP/1.1\r\n", 20)
	    == 0 && strcmp((char *)r.body + r.bodylen - 6, "\r\n\r\nhi") == 0,
	    "echo body: %s", r.body);
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/close/5000", &r);
	proxy_assert_pattern(&r, 5000, "/close/5000");
	ck_assert_int_eq(r.framing, 'E');
	itest_resp_free(&r);
	itest_close(&c);
	log = itest_read_file(t.origin_log[0], NULL);
	ck_assert_str_eq(log, "GET /bytes/100000 0\nGET /chunked/100000 0\n"
	    "GET /drip/3/10 0\nHEAD /bytes/77 0\nGET /status/204 0\n"
	    "POST /sha?x=1 1000\nPUT /echo 2\nGET /close/5000 0\n");
	free(log);
	itest_finish(&t);
}
END_TEST

/* The origin's chunked request bodies, /hangup and /raw modes. */
START_TEST(test_origin_raw)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_connect(&c, t.origin[0].port, IO_MS);
	itest_send_str(&c, "POST /sha HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3;x=y\r\nllo\r\n"
	    "0\r\nX-Trailer: 1\r\n\r\n");
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_str_eq((char *)r.body, "2cf24dba5fb0a30e26e83b2ac5b9e29e"
	    "1b161e5c1fa7425e73043362938b9824");
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/raw/103", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.ninterim, 1);
	ck_assert_str_eq((char *)r.body, "after 103");
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/raw/setcookie", &r);
	ck_assert_int_eq(itest_resp_header_count(&r, "Set-Cookie"), 2);
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/hangup", &r);
	ck_assert_int_eq(r.status, -1);
	ck_assert(r.eof);
	itest_resp_free(&r);
	itest_close(&c);
	ck_assert_int_eq(itest_request(t.origin[0].port, "GET /raw/http10 "
	    "HTTP/1.1\r\n" HOST "\r\n", &r), 0);
	ck_assert_int_eq(r.minor, 0);
	ck_assert_int_eq(r.framing, 'E');
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* --- forwarding -------------------------------------------------------- */

/* Response bodies of every framing come back byte-exact, up to 8 MiB. */
START_TEST(test_get_bodies)
{
	static const char	*paths[] = { "/bytes/%zu", "/chunked/%zu",
				    "/close/%zu" };
	static const size_t	 sizes[] = { 0, 1, 100000, 8 * MIB };
	struct itest		 t;
	struct itest_conn	 c;
	char			 path[64];
	size_t			 i, j;

	proxy_start(&t, 1, 1, 1);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 4; j++) {
			itest_connect(&c, t.sluice.port, IO_MS);
			snprintf(path, sizeof(path), paths[i], sizes[j]);
			proxy_get_pattern(&c, path, sizes[j]);
			itest_close(&c);
		}
	}
	itest_finish(&t);
}
END_TEST

/* POST and PUT bodies reach the origin byte-exact, up to 8 MiB. */
START_TEST(test_upload_bodies)
{
	static const size_t	 sizes[] = { 0, 1, 65543, MIB, 8 * MIB };
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		*body = malloc(8 * MIB);
	char			 hex[65];
	size_t			 i;

	ck_assert(body != NULL);
	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	for (i = 0; i < 10; i++) {
		itest_random_fill(body, sizes[i % 5], i + 1);
		itest_sha256_hex(body, sizes[i % 5], hex);
		proxy_req_body(&c, i < 5 ? "POST" : "PUT", "/sha", body,
		    sizes[i % 5], &r);
		ck_assert_msg(r.status == 200, "%zu bytes: status %d (eof %d "
		    "reset %d timeout %d)", sizes[i % 5], r.status, r.eof,
		    r.reset, r.timeout);
		ck_assert_msg(strcmp((char *)r.body, hex) == 0,
		    "%s of %zu bytes: origin got sha256 %s, sent %s",
		    i < 5 ? "POST" : "PUT", sizes[i % 5], r.body, hex);
		itest_resp_free(&r);
	}
	itest_close(&c);
	free(body);
	itest_finish(&t);
}
END_TEST

/* A chunked request body is re-framed with Content-Length, unchanged. */
START_TEST(test_upload_chunked)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		*body = malloc(MIB);
	char			 hex[65], line[32], first[64];
	size_t			 off, n;

	ck_assert(body != NULL);
	itest_random_fill(body, MIB, 99);
	itest_sha256_hex(body, MIB, hex);
	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	itest_send_str(&c, "POST /sha HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (off = 0; off < MIB; off += n) {
		n = off % 3 == 0 ? 1000 : 70000;
		n = n > MIB - off ? MIB - off : n;
		snprintf(line, sizeof(line), "%zx\r\n", n);
		itest_send_str(&c, line);
		ck_assert(itest_send(&c, body + off, n, IO_MS) == 0);
		itest_send_str(&c, "\r\n");
	}
	itest_send_str(&c, "0\r\n\r\n");
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_msg(r.status == 200 && strcmp((char *)r.body, hex) == 0,
	    "chunked upload: status %d, sha256 %s, sent %s", r.status,
	    r.body, hex);
	itest_resp_free(&r);
	itest_send_str(&c, "POST /echo HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(proxy_head_count((char *)r.body, "Transfer-Encoding",
	    NULL, 0) == 0, "Transfer-Encoding forwarded:\n%s", r.body);
	ck_assert_int_eq(proxy_head_count((char *)r.body, "Content-Length",
	    first, sizeof(first)), 1);
	ck_assert_str_eq(first, "5");
	itest_resp_free(&r);
	itest_close(&c);
	free(body);
	itest_finish(&t);
}
END_TEST

/* HEAD, 204 and 304 carry no body: the next response is intact. */
START_TEST(test_no_body_responses)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	const char		*cl;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	proxy_req(&c, "HEAD", "/bytes/100", &r);
	ck_assert_int_eq(r.status, 200);
	cl = itest_resp_header(&r, "Content-Length");
	ck_assert_msg(cl == NULL || strcmp(cl, "100") == 0,
	    "HEAD Content-Length %s", cl);
	itest_resp_free(&r);
	proxy_req(&c, "HEAD", "/chunked/100", &r);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/status/204", &r);
	ck_assert_int_eq(r.status, 204);
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/status/304", &r);
	ck_assert_int_eq(r.status, 304);
	itest_resp_free(&r);
	/* Any stray body byte above would garble this response. */
	proxy_get_pattern(&c, "/bytes/10", 10);
	ck_assert_msg(c.len == 0, "%zu stray bytes after the responses",
	    c.len);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* 100 requests on one keep-alive client connection are all answered. */
START_TEST(test_keepalive_100)
{
	struct itest		 t;
	struct itest_conn	 c;
	char			 path[32];
	int			 i;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/%s/%d",
		    i % 2 ? "chunked" : "bytes", i * 37);
		proxy_get_pattern(&c, path, (size_t)i * 37);
	}
	itest_close(&c);
	ck_assert_int_eq(itest_count_lines(t.origin_log[0]), 100);
	itest_finish(&t);
}
END_TEST

/*
 * A NUL in the head of a pipelined request (sent in the same write as a
 * valid one) is still caught; a NUL in a request body is data.
 */
START_TEST(test_nul_pipelined)
{
	static const char	 two[] = "GET /bytes/3 HTTP/1.1\r\n" HOST "\r\n"
				    "GET /bytes/4 HTTP/1.1\r\n" HOST
				    "X-A: a\0b\r\n\r\n";
	static const char	 body[] = "POST /sha HTTP/1.1\r\n" HOST
				    "Content-Length: 3\r\n\r\na\0b";
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	ck_assert_int_eq(itest_send(&c, two, sizeof(two) - 1, IO_MS), 0);
	ck_assert_int_eq(itest_read_response(&c, &r, 0, IO_MS), 0);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_msg(r.status == 400, "pipelined NUL: status %d", r.status);
	itest_resp_free(&r);
	itest_close(&c);
	itest_connect(&c, t.sluice.port, IO_MS);
	ck_assert_int_eq(itest_send(&c, body, sizeof(body) - 1, IO_MS), 0);
	ck_assert_int_eq(itest_read_response(&c, &r, 0, IO_MS), 0);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_close(&c);
	/* the origin saw the two good requests only */
	ck_assert_int_eq(itest_count_lines(t.origin_log[0]), 2);
	itest_finish(&t);
}
END_TEST

/* After a response the client cannot reuse c for (close-delimited),
 * connect again. */
static void
proxy_reuse_or_reconnect(struct itest_conn *c, const struct itest_resp *r,
    int port)
{
	if (r->framing != 'E')
		return;
	itest_close(c);
	itest_connect(c, port, IO_MS);
}

/* Close-delimited upstream responses (1.1 and 1.0) arrive complete, and
 * the next request on the client connection is answered. */
START_TEST(test_close_delimited)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	proxy_req(&c, "GET", "/close/300000", &r);
	proxy_assert_pattern(&r, 300000, "/close/300000");
	proxy_reuse_or_reconnect(&c, &r, t.sluice.port);
	itest_resp_free(&r);
	proxy_get_pattern(&c, "/bytes/10", 10);
	proxy_req(&c, "GET", "/raw/http10", &r);
	ck_assert_msg(r.status == 200 && r.complete, "http10: status %d",
	    r.status);
	ck_assert_str_eq((char *)r.body, "http/1.0 body, close-delimited\n");
	proxy_reuse_or_reconnect(&c, &r, t.sluice.port);
	itest_resp_free(&r);
	proxy_get_pattern(&c, "/chunked/20", 20);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* A slow chunked response (one byte every 50 ms) arrives complete. */
START_TEST(test_drip)
{
	struct itest		 t;
	struct itest_conn	 c;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	proxy_get_pattern(&c, "/drip/20/50", 20);
	proxy_get_pattern(&c, "/bytes/5", 5);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* Routes pick the upstream by longest prefix, else the default. */
START_TEST(test_routes)
{
	struct itest		 t;
	struct itest_resp	 r;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_origin_start(&t, 1, "b");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /echo up2\nroute = /echo/x app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream up2]\nserver = 127.0.0.1:%d name=b\n",
	    itest_sluice_port(&t), t.origin[0].port,
	    t.origin[1].port);
	itest_request(t.sluice.port, "GET /echo HTTP/1.1\r\n" HOST "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(itest_resp_header(&r, "X-Origin"), "b");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /echo/x HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	ck_assert_str_eq(itest_resp_header(&r, "X-Origin"), "a");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /bytes/1 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	ck_assert_str_eq(itest_resp_header(&r, "X-Origin"), "a");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* No route and no default upstream: 404 from sluice, nothing upstream. */
START_TEST(test_no_route)
{
	struct itest		 t;
	struct itest_resp	 r;
	char			*log;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "route = /bytes/ app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    itest_sluice_port(&t), t.origin[0].port);
	itest_request(t.sluice.port, "GET /status/200 HTTP/1.1\r\n" HOST
	    "\r\n", &r);
	ck_assert_msg(r.status == 404, "no route: status %d", r.status);
	ck_assert_msg(itest_resp_header(&r, "X-Origin") == NULL,
	    "the 404 came from the origin");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /bytes/3 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	proxy_assert_pattern(&r, 3, "/bytes/3");
	itest_resp_free(&r);
	log = itest_read_file(t.origin_log[0], NULL);
	ck_assert_str_eq(log, "GET /bytes/3 0\n");
	free(log);
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/status/200",
	    " 404 ", 1, 5000), "no access-log line for the 404");
	itest_finish(&t);
	log = itest_read_file(t.access_log, NULL);
	ck_assert_msg(strstr(log, "\"GET /status/200 HTTP/1.1\" 404 ") !=
	    NULL && strstr(strstr(log, "/status/200"), " - - ") != NULL,
	    "404 line lacks \"- -\" for upstream and server:\n%s", log);
	free(log);
}
END_TEST

/* --- failures and timeouts --------------------------------------------- */

/*
 * A listener whose accept queue is full (backlog 0, connections queued
 * until one more gets no SYN-ACK), so a new connect hangs. The queued
 * connections are kept in held[] (up to 16); returns the listening fd.
 */
static int
proxy_full_listener(int *port, int held[16], int *nheld)
{
	struct itest_conn	 c;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ck_assert(listen(fd, 0) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	for (*nheld = 0; *nheld < 16; ) {
		if (itest_connect_try(&c, *port, 200) == 0) {
			held[(*nheld)++] = c.fd;
			continue;
		}
		/* This one got no SYN-ACK in time: the queue is full. */
		ck_assert_msg(errno == ETIMEDOUT, "filling the backlog: %s",
		    strerror(errno));
		return fd;
	}
	ck_abort_msg("the accept queue never filled up");
	return -1;
}

/* Connecting to an upstream that never answers the SYN: 504 in time. */
START_TEST(test_connect_timeout)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	int			 lfd, port, held[16], nheld, i;
	double			 t0, took;

	itest_init(&t);
	lfd = proxy_full_listener(&port, held, &nheld);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\nserver = 127.0.0.1:%d "
	    "name=a\nconnect_timeout = 1s\nread_timeout = 3s\n"
	    "write_timeout = 3s\n", itest_sluice_port(&t), port);
	itest_connect(&c, t.sluice.port, IO_MS);
	t0 = itest_now();
	itest_send_str(&c, "GET /bytes/1 HTTP/1.1\r\n" HOST "\r\n");
	took = proxy_timed_response(&c, &r, t0);
	proxy_assert_timeout("connect timeout", &r, took, 1);
	itest_resp_free(&r);
	itest_close(&c);
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/bytes/1",
	    "timeout_connect", 1, 5000), "no access-log line ending "
	    "timeout_connect:\n%s",
	    itest_read_file(t.access_log, NULL));
	itest_finish(&t);
	for (i = 0; i < nheld; i++)
		close(held[i]);
	close(lfd);
}
END_TEST

/* An upstream that reads the request and never answers: 504 in time. */
START_TEST(test_read_timeout)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	double			 t0, took;

	proxy_start(&t, 3, 1, 3);
	itest_connect(&c, t.sluice.port, IO_MS);
	t0 = itest_now();
	itest_send_str(&c, "GET /stall HTTP/1.1\r\n" HOST "\r\n");
	took = proxy_timed_response(&c, &r, t0);
	proxy_assert_timeout("read timeout", &r, took, 1);
	itest_resp_free(&r);
	itest_close(&c);
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/stall",
	    "timeout_headers", 1, 5000), "no access-log line ending "
	    "timeout_headers:\n%s",
	    itest_read_file(t.access_log, NULL));
	itest_finish(&t);
}
END_TEST

/* An upstream that stops reading an 8 MiB request body: 504 in time. */
START_TEST(test_write_timeout)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		*body = malloc(8 * MIB);
	double			 t0, took;

	ck_assert(body != NULL);
	itest_random_fill(body, 8 * MIB, 5);
	proxy_start(&t, 3, 3, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	itest_send_str(&c, "POST /noread HTTP/1.1\r\n" HOST
	    "Content-Length: 8388608\r\n\r\n");
	ck_assert(itest_send(&c, body, 8 * MIB, IO_MS) == 0);
	/* sluice has the body once it is all sent; the clock starts here. */
	t0 = itest_now();
	took = proxy_timed_response(&c, &r, t0);
	proxy_assert_timeout("write timeout", &r, took, 1);
	itest_resp_free(&r);
	itest_close(&c);
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/noread",
	    " timeout_", 1, 5000), "no access-log line with a timeout_ "
	    "termination:\n%s",
	    itest_read_file(t.access_log, NULL));
	free(body);
	itest_finish(&t);
}
END_TEST

/* An upstream address nobody listens on: 502, quickly. */
START_TEST(test_origin_down)
{
	struct itest		 t;
	struct itest_resp	 r;
	double			 t0, took;

	itest_init(&t);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\nserver = 127.0.0.1:%d "
	    "name=a\nconnect_timeout = 1s\n",
	    itest_sluice_port(&t), itest_free_port());
	t0 = itest_now();
	itest_request(t.sluice.port, "GET /bytes/1 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	took = itest_now() - t0;
	printf("origin down: status %d in %.3f s\n", r.status, took);
	ck_assert_msg(r.status == 502, "origin down: status %d", r.status);
	ck_assert_msg(took < 1.0, "refused connect took %.3f s", took);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* An upstream that closes without answering: 502. */
START_TEST(test_origin_hangup)
{
	struct itest		 t;
	struct itest_resp	 r;

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /hangup HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	ck_assert_msg(r.status == 502, "hangup: status %d", r.status);
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /bytes/1 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	proxy_assert_pattern(&r, 1, "after a hangup");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * 503 (no usable server) cannot be built from a config alone: an upstream
 * without servers is a config error, and draining or failed servers come
 * with reloads and health checks. check_resilience tests it
 * (test_all_down_passive, test_all_down_active, test_weight_zero).
 */

/* --- request hygiene --------------------------------------------------- */

/* String literals with a NUL inside: their length comes from sizeof. */
#define BAD_NUL		"GET /bytes/2 HTTP/1.1\r\n" HOST \
			"X-Bad: a\0b\r\n\r\n"
#define BAD_NUL_TARGET	"GET /bytes/2\0x HTTP/1.1\r\n" HOST "\r\n"

static const struct proxy_bad proxy_bads[] = {
	{ "duplicate Content-Length", "POST /sha HTTP/1.1\r\n" HOST
	    "Content-Length: 5\r\nContent-Length: 10\r\n\r\nhelloworld", 0 },
	{ "Content-Length with Transfer-Encoding", "POST /sha HTTP/1.1\r\n"
	    HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n", 0 },
	{ "Transfer-Encoding gzip", "POST /sha HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: gzip\r\n\r\nGET /smuggled HTTP/1.1\r\n" HOST
	    "\r\n", 0 },
	{ "Transfer-Encoding gzip, chunked", "POST /sha HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n"
	    "0\r\n\r\n", 0 },
	{ "space before colon", "POST /sha HTTP/1.1\r\n" HOST
	    "Content-Length : 5\r\n\r\nhello", 0 },
	{ "header name with space", "GET /bytes/2 HTTP/1.1\r\n" HOST
	    "X Bad: v\r\n\r\n", 0 },
	{ "NUL in a value", BAD_NUL, sizeof(BAD_NUL) - 1 },
	{ "NUL in the target", BAD_NUL_TARGET, sizeof(BAD_NUL_TARGET) - 1 },
	{ "CTL in a value", "GET /bytes/2 HTTP/1.1\r\n" HOST
	    "X-Bad: a\001b\r\n\r\n", 0 },
	{ "space in the target", "GET /a b HTTP/1.1\r\n" HOST "\r\n", 0 },
	{ "missing Host", "GET /bytes/2 HTTP/1.1\r\n\r\n", 0 },
	{ "two Host headers", "GET /bytes/2 HTTP/1.1\r\n" HOST
	    "Host: other.local\r\n\r\n", 0 },
	{ "HEAD with a body", "HEAD /bytes/2 HTTP/1.1\r\n" HOST
	    "Content-Length: 5\r\n\r\nhello", 0 },
	{ "invalid Content-Length", "POST /sha HTTP/1.1\r\n" HOST
	    "Content-Length: 5x\r\n\r\nhello", 0 },
};

/* Each malformed request: 400, and the origin receives nothing of it. */
START_TEST(test_bad_request)
{
	const struct proxy_bad	*b = &proxy_bads[_i];
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	char			*log;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	ck_assert(itest_send(&c, b->req, b->len ? b->len : strlen(b->req),
	    IO_MS) == 0);
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_msg(r.status == 400, "%s: status %d, want 400", b->what,
	    r.status);
	itest_resp_free(&r);
	/* What follows a request with broken framing cannot be trusted. */
	ck_assert_msg(itest_wait_closed(&c, IO_MS) == 1,
	    "%s: the connection stayed open after the 400", b->what);
	itest_close(&c);
	itest_request(t.sluice.port, "GET /bytes/1 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	proxy_assert_pattern(&r, 1, "the good request after");
	itest_resp_free(&r);
	log = itest_read_file(t.origin_log[0], NULL);
	ck_assert_msg(strcmp(log, "GET /bytes/1 0\n") == 0,
	    "%s: the origin received:\n%s", b->what, log);
	free(log);
	itest_finish(&t);
}
END_TEST

/* A request version, and what the client must see. */
struct proxy_version {
	const char	*version;
	int		 status;
	const char	*line;		/* the status line's start */
	int		 forwarded;	/* the origin gets it */
};

static const struct proxy_version proxy_versions[] = {
	/* RFC 9110 2.5: a newer 1.x is read as 1.1, answered as 1.1 */
	{ "HTTP/1.9", 200, "HTTP/1.1 200 ", 1 },
	{ "HTTP/1.0", 200, "HTTP/1.0 200 ", 1 },
	/* another major version: never a status line that echoes it */
	{ "HTTP/0.9", 505, "HTTP/1.1 505 ", 0 },
	{ "HTTP/0.1", 505, "HTTP/1.1 505 ", 0 },
	/* evhttp's parser refuses a major past 1 itself: 400, as 1.1 */
	{ "HTTP/2.0", 400, "HTTP/1.1 400 ", 0 },
	/* not HTTP/DIGIT.DIGIT: refused before evhttp, which would answer
	 * "HTTP/1.11 400" or, past 127, "HTTP/1.-103 400" */
	{ "HTTP/12.3", 400, "HTTP/1.1 400 ", 0 },
	{ "HTTP/1.11", 400, "HTTP/1.1 400 ", 0 },
	{ "HTTP/1.921\r\nX: a\rb", 400, "HTTP/1.1 400 ", 0 },
	{ "HTTP/01.1", 400, "HTTP/1.1 400 ", 0 },
};

/* Each version: the right status, a status line of a real version. */
START_TEST(test_versions)
{
	const struct proxy_version	*v = &proxy_versions[_i];
	struct itest			 t;
	struct itest_conn		 c;
	struct itest_resp		 r;
	char				 req[128], *log;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	snprintf(req, sizeof(req), "GET /bytes/2 %s\r\n" HOST "\r\n",
	    v->version);
	ck_assert(itest_send(&c, req, strlen(req), IO_MS) == 0);
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_msg(r.status == v->status && r.head != NULL &&
	    strncmp(r.head, v->line, strlen(v->line)) == 0, "%s: want \"%s\","
	    " got status %d: %.40s", v->version, v->line, r.status,
	    r.head != NULL ? r.head : "(none)");
	itest_resp_free(&r);
	if (v->status >= 400)
		ck_assert_msg(itest_wait_closed(&c, IO_MS) == 1, "%s: the "
		    "connection stayed open after the %d", v->version,
		    v->status);
	itest_close(&c);
	log = itest_read_file(t.origin_log[0], NULL);
	ck_assert_msg(strcmp(log, v->forwarded ? "GET /bytes/2 0\n" : "") ==
	    0, "%s: the origin received:\n%s", v->version, log);
	free(log);
	itest_finish(&t);
}
END_TEST

/* Hop-by-hop request headers are not forwarded; end-to-end ones are. */
START_TEST(test_hop_request)
{
	static const char	*hop[] = { "X-Conn-Named", "Keep-Alive", "TE",
				    "Upgrade", "Proxy-Connection", "Expect",
				    "Trailer", "Transfer-Encoding" };
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	char			 v[256];
	size_t			 i;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	itest_send_str(&c, "POST /echo HTTP/1.1\r\n" HOST
	    "Connection: keep-alive, X-Conn-Named\r\nX-Conn-Named: secret\r\n"
	    "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: foo/1\r\n"
	    "Proxy-Connection: keep-alive\r\nExpect: 100-continue\r\n"
	    "Trailer: X-Trail\r\nX-End-To-End: kept\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_int_eq(r.status, 200);
	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		ck_assert_msg(proxy_head_count((char *)r.body, hop[i], NULL,
		    0) == 0, "%s was forwarded:\n%s", hop[i], r.body);
	proxy_head_count((char *)r.body, "Connection", v, sizeof(v));
	ck_assert_msg(strcasestr(v, "X-Conn-Named") == NULL,
	    "Connection: %s forwarded", v);
	ck_assert_int_eq(proxy_head_count((char *)r.body, "X-End-To-End", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "kept");
	ck_assert_msg(r.bodylen > 5 &&
	    strcmp((char *)r.body + r.bodylen - 5, "hello") == 0,
	    "body not forwarded: %s", r.body);
	itest_resp_free(&r);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* Hop-by-hop response headers are not returned to the client. */
START_TEST(test_hop_response)
{
	static const char	*hop[] = { "X-Hop", "Keep-Alive", "Upgrade",
				    "Proxy-Connection", "Trailer" };
	struct itest		 t;
	struct itest_resp	 r;
	const char		*conn;
	size_t			 i;

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /raw/hop HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	ck_assert_int_eq(r.status, 200);
	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		ck_assert_msg(itest_resp_header(&r, hop[i]) == NULL,
		    "%s returned to the client:\n%s", hop[i], r.head);
	conn = itest_resp_header(&r, "Connection");
	ck_assert_msg(conn == NULL || strcasestr(conn, "X-Hop") == NULL,
	    "Connection: %s returned", conn);
	ck_assert_str_eq(itest_resp_header(&r, "X-Normal"), "yes");
	ck_assert_str_eq((char *)r.body, "ok");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * A server's end-to-end headers reach the client whole, each once, in the
 * server's order (repeated names too), whatever their number; one Date,
 * the server's when it sent one (sluice packs them for evhttp: see
 * exchange.c's exchange_pack).
 */
START_TEST(test_response_header_order)
{
	static const char	*want[][2] = {
		{ "Server", "origin" }, { "X-Origin", "a" },
		{ "Vary", "Accept" }, { "Set-Cookie", "a=1; Path=/" },
		{ "Vary", "Accept-Encoding" }, { "X-Empty", "" },
		{ "Set-Cookie", "b=2; Path=/" },
		{ "X-Long", "01234567890123456789012345678901234567890123"
		    "456789012345678901234567890123456789" },
		{ "Cache-Control", "max-age=60" } };
	struct itest		 t;
	struct itest_resp	 r;
	size_t			 i, j = 0, n = sizeof(want) / sizeof(want[0]);

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /raw/manyheaders HTTP/1.1\r\n"
	    HOST "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	printf("response headers in the server's order:\n%s", r.head);
	for (i = 0; i < r.nheaders && j < n; i++)
		if (strcasecmp(r.names[i], want[j][0]) == 0 &&
		    strcmp(r.values[i], want[j][1]) == 0)
			j++;
	ck_assert_msg(j == n, "header %zu (%s) missing or out of order:\n%s",
	    j, j < n ? want[j][0] : "", r.head);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(itest_resp_header_count(&r, want[i][0]),
		    strcmp(want[i][0], "Vary") == 0 ||
		    strcmp(want[i][0], "Set-Cookie") == 0 ? 2 : 1);
	ck_assert_int_eq(itest_resp_header_count(&r, "Date"), 1);
	ck_assert_str_eq(itest_resp_header(&r, "Date"),
	    "Tue, 01 Dec 2026 10:00:00 GMT");
	ck_assert_int_eq(itest_resp_header_count(&r, "Content-Length"), 1);
	ck_assert_str_eq((char *)r.body, "ok");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /raw/nodate HTTP/1.1\r\n" HOST
	    "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(itest_resp_header_count(&r, "Date"), 1);
	ck_assert_str_eq(itest_resp_header(&r, "X-A"), "1");
	ck_assert_str_eq(itest_resp_header(&r, "X-B"), "2");
	ck_assert_str_eq((char *)r.body, "ok");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * From a client that is no trusted proxy (none are configured), its
 * X-Forwarded-For and -Proto are replaced, not appended to: the peer, http;
 * -Host = Host; Host unchanged.
 */
START_TEST(test_forwarded)
{
	struct itest		 t;
	struct itest_resp	 r;
	char			 v[256];
	const char		*h;

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /echo HTTP/1.1\r\n"
	    "Host: h.example:8080\r\nX-Forwarded-For: 1.2.3.4\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	h = (char *)r.body;
	ck_assert_int_eq(proxy_head_count(h, "X-Forwarded-For", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "127.0.0.1");
	ck_assert_int_eq(proxy_head_count(h, "X-Forwarded-Proto", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "http");
	ck_assert_int_eq(proxy_head_count(h, "X-Forwarded-Host", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "h.example:8080");
	ck_assert_int_eq(proxy_head_count(h, "Host", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "h.example:8080");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /echo HTTP/1.1\r\n" HOST "\r\n", &r);
	ck_assert_int_eq(proxy_head_count((char *)r.body, "X-Forwarded-For",
	    v, sizeof(v)), 1);
	ck_assert_str_eq(v, "127.0.0.1");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* Via is appended (RFC 9110 7.6.3); OPTIONS Max-Forwards is honoured. */
START_TEST(test_via_max_forwards)
{
	struct itest		 t;
	struct itest_resp	 r;
	char			 v[256];

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /echo HTTP/1.1\r\n" HOST
	    "Via: 1.0 fred\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(proxy_head_count((char *)r.body, "Via", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "1.0 fred, 1.1 sluice (sluice/" SLUICE_VERSION ")");
	itest_resp_free(&r);
	itest_request(t.sluice.port, "OPTIONS /echo HTTP/1.1\r\n" HOST
	    "Max-Forwards: 3\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(proxy_head_count((char *)r.body, "Max-Forwards", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "2");
	itest_resp_free(&r);
	/* 0: sluice answers itself (Allow, no body; /echo would echo) */
	itest_request(t.sluice.port, "OPTIONS /echo HTTP/1.1\r\n" HOST
	    "Max-Forwards: 0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.bodylen, 0);
	ck_assert_ptr_nonnull(itest_resp_header(&r, "Allow"));
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* --- Connection lists and Host ----------------------------------------- */

/* One client request: its version and Connection lines, and whether the
 * connection must close after the answer. */
struct proxy_conn_case {
	const char	*what;
	int		 minor;		/* HTTP/1.minor */
	const char	*lines;		/* header lines, CRLF-terminated */
	int		 close;
};

static const struct proxy_conn_case proxy_conn_cases[] = {
	{ "close first, a header named", 1,
	    "Connection: close, X-Forwarded-For\r\n", 1 },
	{ "close last, odd case and whitespace", 1,
	    "Connection: X-Foo ,\tCLOSE \r\n", 1 },
	{ "close in a second line", 1,
	    "Connection: x-foo\r\nConnection: close\r\n", 1 },
	{ "keep-alive and close", 1, "Connection: keep-alive, close\r\n", 1 },
	{ "keep-alive and a header named", 1,
	    "Connection: keep-alive, X-Foo\r\n", 0 },
	{ "'closed' is no close token", 1, "Connection: closed\r\n", 0 },
	{ "no Connection", 1, "", 0 },
	{ "1.0: keep-alive second in a list", 0,
	    "Connection: X-Foo, Keep-Alive\r\n", 0 },
	{ "1.0: keep-alive in a second line", 0,
	    "Connection: x-foo\r\nConnection: keep-alive\r\n", 0 },
	{ "1.0: 'keep-alive-not' is no keep-alive", 0,
	    "Connection: keep-alive-not\r\n", 1 },
	{ "1.0: keep-alive and close", 0,
	    "Connection: keep-alive, close\r\n", 1 },
	{ "1.0: no Connection", 0, "", 1 },
};

/*
 * Send what (a request on a new connection to port) and check that the
 * answer says and does what c wants: "Connection: close" and a close, or
 * (HTTP/1.0: "Connection: keep-alive") a second request answered on the
 * same connection. The answer's status into *status, the head in head.
 */
static void
proxy_conn_check(int port, const struct proxy_conn_case *c,
    const char *method, const char *path, const char *extra, int *status,
    char *body, size_t bodylen)
{
	struct itest_conn	 conn;
	struct itest_resp	 r;
	const char		*v;
	char			 req[1024];
	int			 closed;

	snprintf(req, sizeof(req), "%s %s HTTP/1.%d\r\n" HOST "%s%s\r\n",
	    method, path, c->minor, c->lines, extra);
	itest_connect(&conn, port, IO_MS);
	itest_send_str(&conn, req);
	itest_read_response(&conn, &r, 0, IO_MS);
	*status = r.status;
	snprintf(body, bodylen, "%s", r.body != NULL ? (char *)r.body : "");
	v = itest_resp_header(&r, "Connection");
	if (c->close)
		ck_assert_msg(v != NULL && strcasecmp(v, "close") == 0,
		    "%s %s, %s: Connection %s, want close", method, path,
		    c->what, v != NULL ? v : "absent");
	else if (c->minor == 0)
		ck_assert_msg(v != NULL && strcasecmp(v, "keep-alive") == 0,
		    "%s %s, %s: Connection %s, want keep-alive", method, path,
		    c->what, v != NULL ? v : "absent");
	else
		ck_assert_msg(v == NULL, "%s %s, %s: Connection %s", method,
		    path, c->what, v);
	itest_resp_free(&r);
	if (c->close) {
		closed = itest_wait_closed(&conn, IO_MS);
		ck_assert_msg(closed == 1, "%s %s, %s: the connection stayed "
		    "open", method, path, c->what);
	} else {
		itest_send_str(&conn, req);
		itest_read_response(&conn, &r, 0, IO_MS);
		ck_assert_msg(r.status == *status, "%s %s, %s: the second "
		    "request on the connection got %d", method, path,
		    c->what, r.status);
		itest_resp_free(&r);
	}
	itest_close(&conn);
}

/*
 * RFC 9110 7.6.1: Connection is a list of tokens, in any number of lines,
 * in any case. "close" anywhere closes after the response (a proxied one
 * and one sluice answers itself); an HTTP/1.0 client keeps the connection
 * with "keep-alive" anywhere in the list; every token names a header that
 * is not forwarded.
 */
START_TEST(test_connection_list)
{
	const struct proxy_conn_case	*c;
	struct itest			 t;
	char				 body[4096], v[256];
	size_t				 i;
	int				 status;

	proxy_start(&t, 1, 1, 1);
	for (i = 0; i < sizeof(proxy_conn_cases) /
	    sizeof(proxy_conn_cases[0]); i++) {
		c = &proxy_conn_cases[i];
		proxy_conn_check(t.sluice.port, c, "GET", "/echo",
		    "X-Forwarded-For: 6.6.6.6\r\nX-Foo: named\r\n", &status,
		    body, sizeof(body));
		ck_assert_msg(status == 200, "%s: status %d", c->what, status);
		ck_assert_msg(proxy_head_count(body, "X-Foo", NULL, 0) ==
		    (strcasestr(c->lines, "x-foo") == NULL),
		    "%s: X-Foo forwarded wrongly:\n%s", c->what, body);
		proxy_head_count(body, "X-Forwarded-For", v, sizeof(v));
		/* an untrusted client's is never passed on */
		ck_assert_msg(strcmp(v, "127.0.0.1") == 0,
		    "%s: X-Forwarded-For %s", c->what, v);
		/* sluice's own answer (Max-Forwards 0) keeps the rules */
		proxy_conn_check(t.sluice.port, c, "OPTIONS", "/echo",
		    "Max-Forwards: 0\r\n", &status, body, sizeof(body));
		ck_assert_msg(status == 200, "%s: OPTIONS status %d", c->what,
		    status);
		printf("Connection list, %s: %s\n", c->what, c->close ?
		    "closed after the answer" : "kept open");
	}
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/* One upstream response with a Connection list: whether sluice may reuse
 * the upstream connection, and the headers it names. */
struct proxy_up_conn_case {
	const char	*raw;		/* /raw/KIND */
	int		 reuse;
	const char	*named[2];	/* headers that must not come back */
};

static const struct proxy_up_conn_case proxy_up_conn_cases[] = {
	{ "connlist", 0, { "X-Hop-A", "X-Hop-B" } },
	{ "connlist-keep", 1, { "X-Hop-A", "X-Hop-B" } },
	{ "http10-keep", 1, { "X-Hop-A", NULL } },
	{ "http10-nokeep", 0, { NULL, NULL } },
};

/* The idle field of the last line of origin 0's log ("-": a new
 * connection), into buf. */
static void
proxy_origin_last_idle(const struct itest *t, char *buf, size_t len)
{
	char	*log = itest_read_file(t->origin_log[0], NULL), *sp;
	size_t	 n = strlen(log);

	while (n > 0 && log[n - 1] == '\n')
		log[--n] = '\0';
	sp = strrchr(log, ' ');
	snprintf(buf, len, "%s", sp != NULL ? sp + 1 : "");
	free(log);
}

/*
 * The same rules on responses: "close" anywhere in a server's Connection
 * list (or no keep-alive from an HTTP/1.0 server) ends the upstream
 * connection, which the next request shows by arriving on a new one; the
 * headers named are never forwarded. The client connection is not
 * affected.
 */
START_TEST(test_connection_list_response)
{
	const struct proxy_up_conn_case	*c;
	struct itest			 t;
	struct itest_conn		 conn;
	struct itest_resp		 r;
	char				 idle[32], path[64];
	size_t				 i, j;

	itest_init(&t);
	/* -k: the log says how long a connection idled ("-": new) */
	itest_origin_start_opts(&t, 0, "a", "-k 60000");
	itest_sluice_simple(&t, 1, 1, 1);
	itest_connect(&conn, t.sluice.port, IO_MS);
	for (i = 0; i < sizeof(proxy_up_conn_cases) /
	    sizeof(proxy_up_conn_cases[0]); i++) {
		c = &proxy_up_conn_cases[i];
		proxy_req(&conn, "GET", "/bytes/2", &r);
		itest_resp_free(&r);
		snprintf(path, sizeof(path), "/raw/%s", c->raw);
		proxy_req(&conn, "GET", path, &r);
		ck_assert_msg(r.status == 200 && strcmp((char *)r.body, "ok") ==
		    0, "/raw/%s: %d", c->raw, r.status);
		for (j = 0; j < 2 && c->named[j] != NULL; j++)
			ck_assert_msg(itest_resp_header(&r, c->named[j]) ==
			    NULL, "/raw/%s: %s came back:\n%s", c->raw,
			    c->named[j], r.head);
		ck_assert_msg(itest_resp_header(&r, "Connection") == NULL,
		    "/raw/%s: Connection %s to the client", c->raw,
		    itest_resp_header(&r, "Connection"));
		itest_resp_free(&r);
		proxy_req(&conn, "GET", "/bytes/3", &r);
		proxy_assert_pattern(&r, 3, "the request after");
		itest_resp_free(&r);
		proxy_origin_last_idle(&t, idle, sizeof(idle));
		printf("upstream Connection list, /raw/%s: the next request "
		    "came on %s\n", c->raw, strcmp(idle, "-") == 0 ?
		    "a new connection" : "the same connection");
		ck_assert_msg((strcmp(idle, "-") != 0) == c->reuse,
		    "/raw/%s: the next request's connection idled %s ms; "
		    "want %s", c->raw, idle, c->reuse ? "a reused one" :
		    "a new one (-)");
	}
	fflush(stdout);
	itest_close(&conn);
	itest_finish(&t);
}
END_TEST

/* Origins a and b; sluice routes victim.test to b, anything else to a. */
static void
proxy_start_victim(struct itest *t)
{
	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_origin_start(t, 1, "b");
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = victim.test/ victim\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream victim]\nserver = 127.0.0.1:%d name=b\n",
	    itest_sluice_port(t), t->origin[0].port, t->origin[1].port);
}

/* A Host value as sent, the route it must take, what must go upstream. */
struct proxy_host_case {
	const char	*sent;		/* "Host:" and the rest of the line */
	const char	*origin;	/* the origin that must answer */
	const char	*host;		/* Host and X-Forwarded-Host upstream */
};

static const struct proxy_host_case proxy_host_cases[] = {
	{ "Host: victim.test", "b", "victim.test" },
	{ "Host:\tvictim.test", "b", "victim.test" },
	{ "Host:victim.test\t", "b", "victim.test" },
	{ "Host: \t victim.test \t", "b", "victim.test" },
	{ "Host: VICTIM.Test", "b", "VICTIM.Test" },
	{ "Host:\tvictim.test:8080", "b", "victim.test:8080" },
	{ "Host: other.test", "a", "other.test" },
	{ "Host:\tother.test", "a", "other.test" },
};

/*
 * The Host that is checked is the one routed on and forwarded: optional
 * whitespace around it is not part of it (RFC 9112 5), and host names
 * match in any case (RFC 9110 4.2.3).
 */
START_TEST(test_host_trimmed)
{
	const struct proxy_host_case	*c;
	struct itest			 t;
	struct itest_resp		 r;
	char				 req[256], v[256];
	const char			*o;
	size_t				 i;

	proxy_start_victim(&t);
	for (i = 0; i < sizeof(proxy_host_cases) /
	    sizeof(proxy_host_cases[0]); i++) {
		c = &proxy_host_cases[i];
		snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\n%s\r\n\r\n",
		    c->sent);
		itest_request(t.sluice.port, req, &r);
		o = itest_resp_header(&r, "X-Origin");
		ck_assert_msg(r.status == 200 && o != NULL &&
		    strcmp(o, c->origin) == 0, "%s: %d from %s, want 200 "
		    "from %s", c->sent, r.status, o != NULL ? o : "-",
		    c->origin);
		ck_assert_int_eq(proxy_head_count((char *)r.body, "Host", v,
		    sizeof(v)), 1);
		ck_assert_msg(strcmp(v, c->host) == 0, "%s: upstream got "
		    "Host [%s]", c->sent, v);
		proxy_head_count((char *)r.body, "X-Forwarded-Host", v,
		    sizeof(v));
		ck_assert_msg(strcmp(v, c->host) == 0, "%s: upstream got "
		    "X-Forwarded-Host [%s]", c->sent, v);
		itest_resp_free(&r);
	}
	printf("Host: %zu forms routed and forwarded trimmed\n", i);
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/*
 * An absolute-form target (RFC 9112 3.2.2) is routed on its authority,
 * which replaces Host upstream; the client connection stays open (evhttp
 * alone would close it after the response without saying so).
 */
START_TEST(test_absolute_form)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	const char		*o;
	char			 v[256];
	int			 i;

	proxy_start_victim(&t);
	itest_connect(&c, t.sluice.port, IO_MS);
	for (i = 0; i < 3; i++) {
		itest_send_str(&c, i == 1 ?
		    "GET http://victim.test/echo?x=1 HTTP/1.1\r\n"
		    "Host: other.test\r\n\r\n" :
		    "GET http://other.example/echo HTTP/1.1\r\n"
		    "Host: other.example\r\n\r\n");
		ck_assert_msg(itest_read_response(&c, &r, 0, IO_MS) == 0,
		    "absolute-form request %d on one connection: status %d, "
		    "eof %d", i + 1, r.status, r.eof);
		o = itest_resp_header(&r, "X-Origin");
		ck_assert_msg(r.status == 200 && o != NULL &&
		    strcmp(o, i == 1 ? "b" : "a") == 0, "request %d: %d "
		    "from %s", i + 1, r.status, o != NULL ? o : "-");
		ck_assert_msg(itest_resp_header(&r, "Connection") == NULL,
		    "request %d: Connection %s", i + 1,
		    itest_resp_header(&r, "Connection"));
		proxy_head_count((char *)r.body, "Host", v, sizeof(v));
		ck_assert_str_eq(v, i == 1 ? "victim.test" : "other.example");
		ck_assert_msg(strncmp((char *)r.body, i == 1 ?
		    "GET /echo?x=1 HTTP/1.1" : "GET /echo HTTP/1.1", 18) == 0,
		    "request %d went upstream as: %.40s", i + 1, r.body);
		itest_resp_free(&r);
	}
	printf("absolute-form: 3 requests on one kept-open connection, routed "
	    "on the target's host\n");
	fflush(stdout);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* Two Set-Cookie headers stay two separate header lines. */
START_TEST(test_set_cookie)
{
	struct itest		 t;
	struct itest_resp	 r;
	size_t			 i;
	int			 a = 0, b = 0;

	proxy_start(&t, 1, 1, 1);
	itest_request(t.sluice.port, "GET /raw/setcookie HTTP/1.1\r\n" HOST
	    "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(itest_resp_header_count(&r, "Set-Cookie") == 2,
	    "Set-Cookie lines:\n%s", r.head);
	for (i = 0; i < r.nheaders; i++) {
		if (strcasecmp(r.names[i], "Set-Cookie") != 0)
			continue;
		a += strcmp(r.values[i], "a=1; Path=/") == 0;
		b += strcmp(r.values[i], "b=2; Path=/") == 0;
	}
	ck_assert_msg(a == 1 && b == 1, "Set-Cookie values:\n%s", r.head);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

static const char *proxy_bad_upstream[] = {
	"dupcl", "clte", "badstatus", "bigstatus", "te-gzip", "space-colon"
};

/* Each malformed upstream response: 502. */
START_TEST(test_bad_response)
{
	struct itest		 t;
	struct itest_resp	 r;
	char			 req[128];

	proxy_start(&t, 1, 1, 1);
	snprintf(req, sizeof(req), "GET /raw/%s HTTP/1.1\r\n" HOST "\r\n",
	    proxy_bad_upstream[_i]);
	itest_request(t.sluice.port, req, &r);
	ck_assert_msg(r.status == 502, "/raw/%s: status %d, want 502",
	    proxy_bad_upstream[_i], r.status);
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /bytes/4 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	proxy_assert_pattern(&r, 4, "after a bad response");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* A 103 before the 200: the 200 arrives, the next request is right. */
START_TEST(test_early_hints)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	proxy_req(&c, "GET", "/raw/103", &r);
	ck_assert_msg(r.status == 200, "/raw/103: status %d", r.status);
	ck_assert_str_eq((char *)r.body, "after 103");
	itest_resp_free(&r);
	proxy_get_pattern(&c, "/bytes/5", 5);
	proxy_get_pattern(&c, "/chunked/7", 7);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* --- bounds on what a server sends ------------------------------------- */

/* What the origin floods (tests/origin /flood/KIND/N), and what comes of
 * it: a 502 while no response began, else a 200 cut short. */
static const struct {
	const char	*kind;
	int		 status;
	const char	*term;
	const char	*reason;
} proxy_floods[] = {
	{ "1xx", 502, "server_headers",
	    "too many 1xx responses (max_interim_responses)" },
	{ "header", 502, "server_headers",
	    "response head too large (max_response_header_size)" },
	{ "headers", 502, "server_headers",
	    "too many headers (max_response_headers)" },
	{ "trailers", 200, "server_body",
	    "too many trailer lines (max_response_headers)" },
	{ "bigtrailers", 200, "server_body",
	    "trailer section too large (max_response_header_size)" },
	{ "chunkext", 200, "server_body",
	    "chunk extension too long (max_chunk_extension)" },
};

/* Bytes the origin is asked to flood, and the bounds of sluice's part. */
#define FLOOD_BYTES	(50 * MIB)
#define FLOOD_CPU_MS	300	/* CPU time sluice may spend on one */
#define FLOOD_HWM_KB	8192	/* growth of its peak RSS */
#define FLOOD_WAIT_MS	10000	/* bound of a log wait */

/* The number after needle in the file at path ("FLOOD kind - N"), or -1. */
static long long
proxy_flood_sent(const char *path, const char *needle)
{
	char		*text = itest_read_file(path, NULL), *p;
	long long	 n = -1;

	if (text != NULL && (p = strstr(text, needle)) != NULL)
		n = strtoll(p + strlen(needle) + 2, NULL, 10);
	free(text);
	return n;
}

/* The CPU time (user + system) pid has used, in ms (counted by the kernel
 * in clock ticks: 10 ms with the usual USER_HZ of 100). */
static long
proxy_cpu_ms(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15, after the command name in parentheses */
	ck_assert_ptr_nonnull(p = strrchr(buf, ')'));
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %lu %lu", &ut, &st), 2);
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* The peak RSS of pid so far (VmHWM), in KiB. */
static long
proxy_hwm_kb(pid_t pid)
{
	char	 path[64], line[256];
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(kb, 0);
	return kb;
}

/*
 * A server that floods a response part (1xx responses, a header line, header
 * lines, trailer lines, long trailer lines, a chunk extension) for 50 MiB:
 * sluice stops at the bound, a 502 before the client got a head, a cut
 * after it (the chunked response gets no last chunk), logged with the
 * reason and the termination code; its CPU time and peak RSS stay small.
 */
START_TEST(test_response_bounds)
{
	struct itest	 t;
	struct itest_resp r;
	struct itest_conn c;
	char		 path[64], term[64], needle[64];
	long long	 sent;
	long		 cpu0, cpu1, hwm0, hwm1, rss1;
	int		 i = _i;

	proxy_start(&t, 1, 5, 5);
	itest_connect(&c, t.sluice.port, IO_MS);	/* warm up */
	proxy_get_pattern(&c, "/chunked/100000", 100000);
	itest_close(&c);
	cpu0 = proxy_cpu_ms(t.sluice.pid);
	hwm0 = proxy_hwm_kb(t.sluice.pid);
	snprintf(path, sizeof(path), "/flood/%s/%d", proxy_floods[i].kind,
	    FLOOD_BYTES);
	itest_get(t.sluice.port, path, &r);
	ck_assert_msg(itest_wait_file(t.error_log, proxy_floods[i].reason,
	    FLOOD_WAIT_MS), "no \"%s\" in the error log:\n%s",
	    proxy_floods[i].reason, itest_file_tail(t.error_log));
	snprintf(needle, sizeof(needle), "FLOOD %s ", proxy_floods[i].kind);
	ck_assert_msg(itest_wait_file(t.origin_log[0], needle,
	    FLOOD_WAIT_MS),
	    "the origin did not end its flood:\n%s",
	    itest_file_tail(t.origin_log[0]));
	ck_assert(itest_wait_lines_with(t.access_log, path, NULL, 1,
	    FLOOD_WAIT_MS) >= 1);
	itest_lines_term(t.access_log, path, NULL, term, sizeof(term));
	cpu1 = proxy_cpu_ms(t.sluice.pid);
	hwm1 = proxy_hwm_kb(t.sluice.pid);
	rss1 = itest_rss_kb(t.sluice.pid);
	sent = proxy_flood_sent(t.origin_log[0], needle);
	printf("bounds, %s: status %d, %s, %zu body bytes, term %s; origin "
	    "wrote %lld of %d bytes; sluice CPU %ld ms, peak RSS %ld -> %ld "
	    "KiB (RSS %ld KiB)\n", proxy_floods[i].kind, r.status,
	    r.complete ? "complete" : "cut", r.bodylen, term, sent, FLOOD_BYTES,
	    cpu1 - cpu0, hwm0, hwm1, rss1);
	fflush(stdout);
	ck_assert_int_eq(r.status, proxy_floods[i].status);
	if (proxy_floods[i].status == 200) {
		ck_assert_msg(!r.complete && r.framing == 'C' && r.eof,
		    "the cut response was not visible: framing %c, "
		    "complete %d", r.framing, r.complete);
		ck_assert_str_eq((char *)r.body, "hello");
	}
	ck_assert_str_eq(term, proxy_floods[i].term);
	ck_assert_msg(cpu1 - cpu0 < FLOOD_CPU_MS, "sluice spent %ld ms of CPU",
	    cpu1 - cpu0);
	ck_assert_msg(hwm1 - hwm0 < FLOOD_HWM_KB, "sluice's peak RSS grew by "
	    "%ld KiB", hwm1 - hwm0);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* GET path on port with n "X-Reply: X-H: i" lines: the origin answers
 * with those n headers (and its own few); the status. */
static int
proxy_bounds_get(int port, const char *path, int n)
{
	struct itest_resp	 r;
	char			 req[8192];
	size_t			 len;
	int			 i, status;

	len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n" HOST
	    "Connection: close\r\n", path);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "X-Reply: X-H: %d\r\n", i);
	snprintf(req + len, sizeof(req) - len, "\r\n");
	itest_request(port, req, &r);
	status = r.status;
	itest_resp_free(&r);
	return status;
}

/*
 * The bounds are the upstream's: with max_response_headers = 20 and
 * max_interim_responses = 0, complete heads of 10 headers pass, of 30 are
 * a 502, and one 103 before a 200 is a 502; the default upstream passes
 * all three.
 */
START_TEST(test_response_bounds_keys)
{
	struct itest	 t;
	int		 tight, loose, s10, s30, s103, l30, l103;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	tight = itest_sluice_port(&t);
	loose = itest_free_port();
	itest_sluice_start(&t, "[listener tight]\nlisten = 127.0.0.1:%d\n"
	    "upstream = tight\n\n[listener loose]\nlisten = 127.0.0.1:%d\n"
	    "upstream = loose\n\n[upstream tight]\nserver = 127.0.0.1:%d\n"
	    "max_response_headers = 20\nmax_interim_responses = 0\n\n"
	    "[upstream loose]\nserver = 127.0.0.1:%d\n", tight, loose,
	    t.origin[0].port, t.origin[0].port);
	s10 = proxy_bounds_get(tight, "/echo", 10);
	s30 = proxy_bounds_get(tight, "/echo", 30);
	s103 = proxy_bounds_get(tight, "/raw/103", 0);
	l30 = proxy_bounds_get(loose, "/echo", 30);
	l103 = proxy_bounds_get(loose, "/raw/103", 0);
	printf("bounds by key: max_response_headers 20: 10 headers %d, 30 "
	    "headers %d; max_interim_responses 0: a 103 %d; defaults: 30 "
	    "headers %d, a 103 %d\n", s10, s30, s103, l30, l103);
	fflush(stdout);
	ck_assert_int_eq(s10, 200);
	ck_assert_int_eq(s30, 502);
	ck_assert_int_eq(s103, 502);
	ck_assert_int_eq(l30, 200);
	ck_assert_int_eq(l103, 200);
	ck_assert(itest_wait_file(t.error_log,
	    "too many headers (max_response_headers)", FLOOD_WAIT_MS));
	ck_assert(itest_wait_file(t.error_log,
	    "too many 1xx responses (max_interim_responses)", FLOOD_WAIT_MS));
	itest_finish(&t);
}
END_TEST

/* --- resources and the client going away ------------------------------- */

/* Read a response body slowly for secs seconds (64 KiB, pause 50 ms),
 * checking the bytes; returns the peak RSS of pid seen, in KiB. */
static long
proxy_read_slowly(struct itest_conn *c, pid_t pid, double secs,
    uint64_t *got)
{
	static unsigned char	 buf[65536];
	double			 end = itest_now() + secs;
	long			 peak = 0, rss;
	ssize_t			 n;

	while (itest_now() < end) {
		n = itest_read_some(c, buf, sizeof(buf), IO_MS);
		ck_assert_msg(n > 0, "response ended after %llu bytes",
		    (unsigned long long)*got);
		ck_assert_msg(proxy_pattern_diff(buf, (size_t)n, *got) == -1,
		    "body differs near offset %llu", (unsigned long long)*got);
		*got += (uint64_t)n;
		if ((rss = itest_rss_kb(pid)) > peak)
			peak = rss;
		poll(NULL, 0, 50);	/* the pace of a slow reader */
	}
	return peak;
}

/* A slow reader of 64 MiB: sluice does not buffer the response. */
START_TEST(test_slow_reader_rss)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	long			 base, peak;
	uint64_t		 got = 0;

	itest_init(&t);
	/* Under ASan freed memory sits in quarantine and counts as RSS. */
	t.asan_extra = "quarantine_size_mb=1";
	itest_origin_start(&t, 0, "a");
	itest_sluice_simple(&t, 1, 5, 5);
	itest_connect(&c, t.sluice.port, IO_MS);
	proxy_get_pattern(&c, "/bytes/1048576", MIB);	/* warm up */
	base = itest_rss_kb(t.sluice.pid);
	itest_send_str(&c, "GET /bytes/67108864 HTTP/1.1\r\n" HOST "\r\n");
	ck_assert_int_eq(itest_read_head(&c, &r, IO_MS), 0);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	peak = proxy_read_slowly(&c, t.sluice.pid, 3.0, &got);
	printf("slow reader: sluice RSS %ld KiB before, peak %ld KiB, "
	    "growth %ld KiB, after reading %llu of 67108864 bytes in 3 s\n",
	    base, peak, peak - base, (unsigned long long)got);
	fflush(stdout);
	ck_assert_msg(base > 0 && peak > 0, "no VmRSS for sluice");
	ck_assert_msg(peak - base < 4096, "sluice RSS grew by %ld KiB while "
	    "a slow client read %llu bytes", peak - base,
	    (unsigned long long)got);
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* The client leaves mid-response: sluice lives on and logs client_*. */
START_TEST(test_client_gone_body)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	unsigned char		 buf[4096];

	proxy_start(&t, 1, 5, 5);
	itest_connect(&c, t.sluice.port, IO_MS);
	itest_send_str(&c, "GET /bytes/67108864 HTTP/1.1\r\n" HOST "\r\n");
	ck_assert_int_eq(itest_read_head(&c, &r, IO_MS), 0);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	ck_assert(itest_read_some(&c, buf, sizeof(buf), IO_MS) > 0);
	itest_close(&c);
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/bytes/67108864",
	    " client_", 1, 5000), "no access-log line with a client_ "
	    "termination:\n%s",
	    itest_read_file(t.access_log, NULL));
	ck_assert(itest_proc_alive(&t.sluice));
	itest_request(t.sluice.port, "GET /bytes/9 HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	proxy_assert_pattern(&r, 9, "after the client left");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * The client leaves while sluice waits for the upstream's head: the
 * exchange ends as client_* well before the 10 s read timeout.
 */
START_TEST(test_client_gone_waiting)
{
	struct itest		 t;
	struct itest_conn	 c;
	double			 t0;

	proxy_start(&t, 1, 10, 10);
	itest_connect(&c, t.sluice.port, IO_MS);
	itest_send_str(&c, "GET /stall HTTP/1.1\r\n" HOST "\r\n");
	ck_assert_msg(itest_wait_file(t.origin_log[0], "GET /stall", 5000),
	    "the request never reached the origin");
	itest_close(&c);
	t0 = itest_now();
	ck_assert_msg(itest_wait_lines_with(t.access_log, "/stall",
	    " client_", 1, 5000), "no client_ termination within 5 s of the "
	    "client leaving:\n%s",
	    itest_read_file(t.access_log, NULL));
	printf("client gone while waiting: logged after %.3f s\n",
	    itest_now() - t0);
	itest_finish(&t);
}
END_TEST

/* --- access log -------------------------------------------------------- */

/* Split an access-log line into fields (a quoted field is one). */
static int
proxy_log_fields(char *line, char *f[], int max)
{
	int	 n = 0;

	while (*line != '\0' && n < max) {
		while (*line == ' ')
			line++;
		if (*line == '\0')
			break;
		if (*line == '"') {
			f[n++] = ++line;
			line = strchr(line, '"');
			if (line == NULL)
				return -1;
		} else {
			f[n++] = line;
			line += strcspn(line, " ");
		}
		if (*line != '\0')
			*line++ = '\0';
	}
	return n;
}

/* 1 when s is a non-negative decimal number (digits, optional ".ddd"). */
static int
proxy_is_number(const char *s)
{
	size_t	 n = strspn(s, "0123456789");

	if (n == 0)
		return 0;
	if (s[n] == '.')
		return s[n + 1 + strspn(s + n + 1, "0123456789")] == '\0';
	return s[n] == '\0';
}

/* Check one access-log line against what the client did. */
static void
proxy_check_log_line(char *line, const char *client, const char *request,
    const char *status)
{
	char	*f[16], copy[1024];
	int	 n;

	snprintf(copy, sizeof(copy), "%s", line);
	n = proxy_log_fields(line, f, 16);
	ck_assert_msg(n == 14, "%d fields, want 14: %s", n, copy);
	ck_assert_msg(strcmp(f[13], "-") == 0, "request id (off): %s", copy);
	ck_assert_msg(f[12][0] == '#' && f[12][1] != '\0' &&
	    strspn(f[12] + 1, "0123456789abcdef") == strlen(f[12] + 1),
	    "exchange id: %s", copy);
	ck_assert_msg(strcmp(f[1], client) == 0, "client %s, want %s: %s",
	    f[1], client, copy);
	ck_assert_msg(strcmp(f[2], "web") == 0, "listener: %s", copy);
	ck_assert_msg(strcmp(f[3], request) == 0, "request: %s", copy);
	ck_assert_msg(strcmp(f[4], status) == 0, "status: %s", copy);
	ck_assert_msg(proxy_is_number(f[5]), "bytes: %s", copy);
	ck_assert_msg(strcmp(f[6], "app") == 0, "upstream: %s", copy);
	ck_assert_msg(strcmp(f[7], "a") == 0, "server: %s", copy);
	ck_assert_msg(proxy_is_number(f[8]), "total ms: %s", copy);
	ck_assert_msg(proxy_is_number(f[9]), "upstream ms: %s", copy);
	/* no max_conns: nothing waits */
	ck_assert_msg(strcmp(f[10], "0.000") == 0, "queue ms: %s", copy);
	ck_assert_msg(strcmp(f[11], "ok") == 0, "termination: %s", copy);
}

/* One access-log line per exchange, with every field. */
START_TEST(test_access_log)
{
	static const char	*req[] = { "GET /bytes/10 HTTP/1.1",
				    "POST /sha HTTP/1.1",
				    "GET /status/503 HTTP/1.1" };
	static const char	*status[] = { "200", "200", "503" };
	struct itest		 t;
	struct itest_conn	 c;
	struct itest_resp	 r;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 client[64], *log, *line, *save = NULL;
	char			 ids[3][32] = { "", "", "" };
	int			 i;

	proxy_start(&t, 1, 1, 1);
	itest_connect(&c, t.sluice.port, IO_MS);
	ck_assert(getsockname(c.fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(client, sizeof(client), "127.0.0.1:%d", ntohs(sin.sin_port));
	proxy_get_pattern(&c, "/bytes/10", 10);
	proxy_req_body(&c, "POST", "/sha", (const unsigned char *)"abc", 3,
	    &r);
	itest_resp_free(&r);
	proxy_req(&c, "GET", "/status/503", &r);
	ck_assert_int_eq(r.status, 503);
	itest_resp_free(&r);
	itest_close(&c);
	itest_finish(&t);	/* sluice has written every line by exit */
	log = itest_read_file(t.access_log, NULL);
	ck_assert_msg(itest_count_lines(t.access_log) == 3,
	    "%d lines for 3 exchanges:\n%s", itest_count_lines(t.access_log),
	    log);
	line = strtok_r(log, "\n", &save);
	for (i = 0; i < 3 && line != NULL; i++) {
		if (strrchr(line, '#') != NULL)
			snprintf(ids[i], sizeof(ids[i]), "%s",
			    strrchr(line, '#'));
		proxy_check_log_line(line, client, req[i], status[i]);
		line = strtok_r(NULL, "\n", &save);
	}
	ck_assert_msg(strcmp(ids[0], ids[1]) != 0 && strcmp(ids[1], ids[2]) &&
	    strcmp(ids[0], ids[2]) != 0, "exchange ids repeat: %s %s %s",
	    ids[0], ids[1], ids[2]);
	free(log);
}
END_TEST

/* The access-log line of an exchange whose request matches needle: its
 * exchange id ("#..."), copied into id. */
static void
proxy_access_id(const struct itest *t, const char *needle, char *id,
    size_t len)
{
	char	*log = itest_read_file(t->access_log, NULL), *line, *save;

	id[0] = '\0';
	save = NULL;
	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, needle) != NULL && strrchr(line, '#') != NULL)
			snprintf(id, len, "%.*s", (int)strcspn(strrchr(line,
			    '#'), " "), strrchr(line, '#'));
	free(log);
}

/*
 * Every error-log line about an exchange carries the exchange id its
 * access-log line carries: a refused request, an upstream failure.
 */
START_TEST(test_exchange_ids)
{
	struct itest		 t;
	struct itest_resp	 r;
	char			 id[32], want[64];

	itest_init(&t);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\nserver = 127.0.0.1:%d "
	    "name=a\nretries = 0\n", itest_sluice_port(&t), itest_free_port());
	itest_request(t.sluice.port, "GET /ctl HTTP/1.1\r\n" HOST
	    "X-Bad: a\x01b\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 400);
	itest_resp_free(&r);
	itest_request(t.sluice.port, "GET /down HTTP/1.1\r\n" HOST "\r\n",
	    &r);
	ck_assert_int_eq(r.status, 502);
	itest_resp_free(&r);
	itest_finish(&t);
	proxy_access_id(&t, "\"GET /ctl HTTP/1.1\" 400 ", id, sizeof(id));
	snprintf(want, sizeof(want), "%s 127.0.0.1:", id);
	ck_assert_msg(id[0] == '#' && itest_count_file(t.error_log, want) == 1,
	    "the 400 is %s in the access log; the error log:\n%s", id,
	    itest_file_tail(t.error_log));
	proxy_access_id(&t, "\"GET /down HTTP/1.1\" 502 ", id, sizeof(id));
	snprintf(want, sizeof(want), "%s GET /down HTTP/1.1 app/a", id);
	ck_assert_msg(id[0] == '#' && itest_count_file(t.error_log, want) == 1,
	    "the 502 is %s in the access log; the error log:\n%s", id,
	    itest_file_tail(t.error_log));
	printf("exchange ids: the 400's and the 502's error-log lines carry "
	    "the ids of their access-log lines\n");
	fflush(stdout);
}
END_TEST

/* --- the command line -------------------------------------------------- */

/* Run `./sluice -t -c path`: its exit status, its output in *out. */
static int
proxy_check_file(const char *path, char **out)
{
	char	*argv[] = { (char *)(uintptr_t)"./sluice",
		    (char *)(uintptr_t)"-t", (char *)(uintptr_t)"-c",
		    (char *)(uintptr_t)path, NULL };

	return itest_run(argv, out, 10000);
}

/* `sluice -t -c conf/sluice.ini` says the example is fine. */
START_TEST(test_cli_check_ok)
{
	char	*out;
	int	 st;

	st = proxy_check_file("conf/sluice.ini", &out);
	ck_assert_msg(st == 0, "sluice -t exited %d:\n%s", st, out);
	ck_assert_msg(strstr(out, "configuration ok") != NULL,
	    "no \"configuration ok\":\n%s", out);
	free(out);
}
END_TEST

/* `sluice -t` on a bad file exits 1 naming file:line: key. */
START_TEST(test_cli_check_bad)
{
	struct itest	 t;
	char		*out, want[256];
	int		 st;

	itest_init(&t);
	itest_write_file(t.conf, "[global]\nlog_level = info\n"
	    "no_such_key = 1\n");
	st = proxy_check_file(t.conf, &out);
	snprintf(want, sizeof(want), "%s:3: no_such_key:", t.conf);
	ck_assert_msg(st == 1, "sluice -t on a bad file exited %d:\n%s", st,
	    out);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want,
	    out);
	free(out);
}
END_TEST

/* GET /bytes/1 on port: the answer's X-Origin, "" when there is none. */
static const char *
proxy_origin_of(int port, char *buf, size_t size)
{
	struct itest_resp	 r;
	const char		*v;

	ck_assert_int_eq(itest_get(port, "/bytes/1", &r), 0);
	v = r.status == 200 ? itest_resp_header(&r, "X-Origin") : NULL;
	snprintf(buf, size, "%s", v != NULL ? v : "");
	itest_resp_free(&r);
	return buf;
}

/*
 * The application's upstream in conf.d/, its server's port from the
 * environment: served. A reload with a bad included file changes nothing
 * and names that file and line; a good edit of the included file applies.
 */
START_TEST(test_include_reload)
{
	struct itest	 t;
	char		 dir[256], app[300], bad[300], want[512], port[16];
	char		 o[64];

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_origin_start(&t, 1, "b");
	snprintf(port, sizeof(port), "%d", t.origin[0].port);
	ck_assert_int_eq(setenv("SLUICE_T_A_PORT", port, 1), 0);
	snprintf(port, sizeof(port), "%d", t.origin[1].port);
	ck_assert_int_eq(setenv("SLUICE_T_B_PORT", port, 1), 0);
	unsetenv("SLUICE_T_UNSET");
	snprintf(dir, sizeof(dir), "%s/conf.d", t.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(app, sizeof(app), "%s/app.ini", dir);
	snprintf(bad, sizeof(bad), "%s/zz.ini", dir);
	itest_write_file(app, "[upstream app]\n"
	    "server = 127.0.0.1:${SLUICE_T_A_PORT} name=a\n");
	itest_sluice_config(&t, "shutdown_timeout = 5s\n"
	    "include = conf.d/*.ini\n", "[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\n", itest_sluice_port(&t));
	itest_sluice_launch(&t);
	ck_assert_str_eq(proxy_origin_of(t.sluice.port, o, sizeof(o)), "a");

	itest_write_file(app, "[upstream app]\n"
	    "server = 127.0.0.1:${SLUICE_T_B_PORT} name=b\n");
	itest_write_file(bad, "[upstream other]\n"
	    "server = 127.0.0.1:${SLUICE_T_UNSET}\n");
	itest_sluice_hup(&t, "reload failed; still serving generation 1",
	    10000);
	snprintf(want, sizeof(want), "%s:2: server: ${SLUICE_T_UNSET} is not "
	    "set in the environment", bad);
	ck_assert_msg(itest_wait_file(t.error_log, want, 0), "no \"%s\" in "
	    "the error log:\n%s", want, itest_file_tail(t.error_log));
	ck_assert_str_eq(proxy_origin_of(t.sluice.port, o, sizeof(o)), "a");

	ck_assert_int_eq(unlink(bad), 0);
	itest_sluice_hup(&t, "reload: generation 2 in ", 10000);
	ck_assert_str_eq(proxy_origin_of(t.sluice.port, o, sizeof(o)), "b");
	printf("include: conf.d/app.ini with ${SLUICE_T_A_PORT} served by a; "
	    "a bad conf.d/zz.ini refused (\"%s\"), still a; fixed: b\n", want);
	itest_finish(&t);
	ck_assert_int_eq(unlink(app), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* `sluice -t` never prints a value that came from the environment. */
START_TEST(test_cli_check_secret)
{
	struct itest	 t;
	char		*out, want[256];
	int		 st;

	itest_init(&t);
	ck_assert_int_eq(setenv("SLUICE_T_SECRET", "s3cr3t-hunter2", 1), 0);
	itest_write_file(t.conf, "[admin]\nlisten = 127.0.0.1:9901\n"
	    "token = ${SLUICE_T_SECRET}\n"
	    "[listener web]\nlisten = ${SLUICE_T_SECRET}\nupstream = app\n"
	    "[upstream app]\nserver = 127.0.0.1:1\n");
	st = proxy_check_file(t.conf, &out);
	snprintf(want, sizeof(want), "%s:3: token: ", t.conf);
	ck_assert_msg(st == 1 && strstr(out, want) != NULL, "sluice -t "
	    "exited %d, want \"%s\":\n%s", st, want, out);
	snprintf(want, sizeof(want), "%s:5: listen: \"${SLUICE_T_SECRET}\"",
	    t.conf);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want,
	    out);
	ck_assert_msg(strstr(out, "hunter2") == NULL, "the secret shows:\n%s",
	    out);
	free(out);
}
END_TEST

/* `sluice -h` prints usage. */
START_TEST(test_cli_help)
{
	char	*argv[] = { (char *)(uintptr_t)"./sluice",
		    (char *)(uintptr_t)"-h", NULL };
	char	*out;
	int	 st;

	st = itest_run(argv, &out, 10000);
	ck_assert_msg(st == 0, "sluice -h exited %d:\n%s", st, out);
	ck_assert_msg(strcasestr(out, "usage") != NULL &&
	    strstr(out, "-c") != NULL && strstr(out, "-t") != NULL,
	    "no usage text:\n%s", out);
	free(out);
}
END_TEST

/*
 * -V, -v and --version print "sluice VERSION" from proxy/base/version.h;
 * the running sluice says the same in /status and sluice_build_info.
 */
START_TEST(test_cli_version)
{
	static const char *const	 flags[] = { "-V", "-v", "--version" };
	char				*argv[] = { (char *)(uintptr_t)"./sluice",
					    NULL, NULL };
	struct itest			 t;
	struct itest_resp		 r;
	char				*out, *json, want[64];
	size_t				 i;
	int				 st, admin = itest_free_port();

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		argv[1] = (char *)(uintptr_t)flags[i];
		st = itest_run(argv, &out, 10000);
		ck_assert_msg(st == 0 && strcmp(out, "sluice " SLUICE_VERSION
		    "\n") == 0, "sluice %s exited %d: \"%s\"", flags[i], st,
		    out);
		free(out);
	}
	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[admin]\nlisten = 127.0.0.1:%d\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "[upstream app]\nserver = 127.0.0.1:%d\n", admin,
	    itest_sluice_port(&t), t.origin[0].port);
	json = itest_admin_status(admin);
	ck_assert_msg(strstr(json, "\"version\":\"" SLUICE_VERSION "\"") !=
	    NULL, "/status: %s", json);
	free(json);
	ck_assert_int_eq(itest_get(admin, "/metrics", &r), 0);
	snprintf(want, sizeof(want), "sluice_build_info{version=\"%s\"} 1\n",
	    SLUICE_VERSION);
	ck_assert_msg(r.status == 200 && strstr((char *)r.body, want) != NULL,
	    "/metrics lacks %s", want);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* A test case with the standard timeout. */
static TCase *
proxy_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	return tc;
}

/* Every test, grouped by what it exercises. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc;

	tc = proxy_tcase("origin");
	tcase_add_test(tc, test_origin_direct);
	tcase_add_test(tc, test_origin_raw);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("forward");
	tcase_add_test(tc, test_get_bodies);
	tcase_add_test(tc, test_upload_bodies);
	tcase_add_test(tc, test_upload_chunked);
	tcase_add_test(tc, test_no_body_responses);
	tcase_add_test(tc, test_keepalive_100);
	tcase_add_test(tc, test_close_delimited);
	tcase_add_test(tc, test_drip);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_no_route);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("failures");
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_read_timeout);
	tcase_add_test(tc, test_write_timeout);
	tcase_add_test(tc, test_origin_down);
	tcase_add_test(tc, test_origin_hangup);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("hygiene");
	tcase_add_loop_test(tc, test_versions, 0,
	    sizeof(proxy_versions) / sizeof(proxy_versions[0]));
	tcase_add_loop_test(tc, test_bad_request, 0,
	    (int)(sizeof(proxy_bads) / sizeof(proxy_bads[0])));
	tcase_add_test(tc, test_hop_request);
	tcase_add_test(tc, test_hop_response);
	tcase_add_test(tc, test_response_header_order);
	tcase_add_test(tc, test_forwarded);
	tcase_add_test(tc, test_via_max_forwards);
	tcase_add_test(tc, test_nul_pipelined);
	tcase_add_test(tc, test_set_cookie);
	tcase_add_loop_test(tc, test_bad_response, 0,
	    (int)(sizeof(proxy_bad_upstream) / sizeof(proxy_bad_upstream[0])));
	tcase_add_test(tc, test_early_hints);
	tcase_add_test(tc, test_connection_list);
	tcase_add_test(tc, test_connection_list_response);
	tcase_add_test(tc, test_host_trimmed);
	tcase_add_test(tc, test_absolute_form);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("resources");
	tcase_add_test(tc, test_slow_reader_rss);
	tcase_add_test(tc, test_client_gone_body);
	tcase_add_test(tc, test_client_gone_waiting);
	tcase_add_test(tc, test_access_log);
	tcase_add_test(tc, test_exchange_ids);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("bounds");
	tcase_add_loop_test(tc, test_response_bounds, 0,
	    (int)(sizeof(proxy_floods) / sizeof(proxy_floods[0])));
	tcase_add_test(tc, test_response_bounds_keys);
	suite_add_tcase(s, tc);

	tc = proxy_tcase("cli");
	tcase_add_test(tc, test_cli_check_ok);
	tcase_add_test(tc, test_cli_check_bad);
	tcase_add_test(tc, test_cli_help);
	tcase_add_test(tc, test_cli_version);
	tcase_add_test(tc, test_cli_check_secret);
	tcase_add_test(tc, test_include_reload);
	suite_add_tcase(s, tc);
	return s;
}
