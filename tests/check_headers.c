/*
 * check_headers: what crosses the proxy. Requests are built from evhttp
 * header lists and compared as serialized text; responses are parsed with
 * http1_response_parse and compared as evkeyvalq lists.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/http/headers.h"
#include "proxy/http/http1.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* One headers_is_hop_by_hop question. */
struct hop_case {
	const char	*name;
	size_t		 namelen;	/* 0: strlen(name) */
	const char	*connection;
	int		 hop;
};

static const struct hop_case hop_cases[] = {
	{ "Connection", 0, NULL, 1 },
	{ "connection", 0, NULL, 1 },
	{ "KEEP-ALIVE", 0, NULL, 1 },
	{ "Proxy-Connection", 0, NULL, 1 },
	{ "TE", 0, NULL, 1 },
	{ "te", 0, NULL, 1 },
	{ "Trailer", 0, NULL, 1 },
	{ "Transfer-Encoding", 0, NULL, 1 },
	{ "Upgrade", 0, NULL, 1 },
	{ "Upgrade-Insecure-Requests", 0, NULL, 0 },
	{ "Upgrade-Insecure-Requests", 7, NULL, 1 },	/* "Upgrade" */
	{ "Trailers", 0, NULL, 0 },
	{ "TEE", 0, NULL, 0 },
	{ "Content-Type", 0, NULL, 0 },
	{ "Content-Length", 0, NULL, 0 },
	{ "X-Foo", 0, "close, x-foo", 1 },
	{ "X-Foo", 0, " X-FOO ", 1 },
	{ "X-Foo", 0, "close,\tX-Foo,keep-alive", 1 },
	{ "X-Foo", 0, "close, X-Foo2", 0 },
	{ "X-Foo", 0, "close, X-Fo", 0 },
	{ "X-Foo", 0, "", 0 },
	{ "X-Foo", 0, ",,", 0 },
	{ "X-Foo", 0, "close", 0 },
	{ "X-Foo-Bar", 5, "x-foo", 1 },			/* "X-Foo" */
};

/* Table row _i of hop_cases. */
START_TEST(test_hop_table)
{
	const struct hop_case	*c = &hop_cases[_i];
	size_t			 len;

	len = c->namelen ? c->namelen : strlen(c->name);
	ck_assert_msg(headers_is_hop_by_hop(c->name, len, c->connection) ==
	    c->hop, "%.*s with Connection \"%s\"", (int)len, c->name,
	    c->connection ? c->connection : "(none)");
}
END_TEST

/* Fill f (room for max) from name, value pairs ending with NULL. */
static size_t
fields_fill(struct http1_field *f, size_t max, const char *const *hdrs)
{
	size_t	n = 0;

	for (; hdrs != NULL && hdrs[0] != NULL; hdrs += 2) {
		ck_assert_uint_lt(n, max);
		f[n].name = hdrs[0];
		f[n++].value = hdrs[1];
	}
	return n;
}

/* A headers_sink into an evbuffer. */
static int
sink_add(void *arg, const void *p, size_t len)
{
	return evbuffer_add(arg, p, len);
}

/* A headers_out into an evhttp header list. */
static int
out_add(void *arg, const char *name, const char *value)
{
	return evhttp_add_header(arg, name, value);
}

/* The bytes of b as a NUL-terminated string the caller frees. */
static char *
buffer_text(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(evbuffer_copyout(b, s, len), (int)len);
	s[len] = '\0';
	return s;
}

/*
 * One request built by headers_request_build and its exact output; a
 * case whose name starts with "trusted" comes from a trusted proxy.
 */
struct build_case {
	const char	*name;
	const char	*method;
	const char	*hdrs[32];	/* name, value, ..., NULL */
	const char	*client_ip;
	int		 tls;
	size_t		 body_len;
	const char	*want;
	const char	*via;		/* appended to Via; NULL: none */
	const char	*host;		/* host = server or NAME; NULL */
	const char	*id_name;	/* request_id; NULL: off */
	const char	*id;
};

static const struct build_case build_cases[] = {
	{ "full example", "POST",
	    { "Host", "example.com", "User-Agent", "curl/8.0",
	    "Connection", "keep-alive, X-Trace", "X-Trace", "abc",
	    "Keep-Alive", "timeout=5", "Accept", "*/*",
	    "Transfer-Encoding", "chunked", "Expect", "100-continue",
	    "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http",
	    "Cookie", "a=1", "Cookie", "b=2", NULL, NULL },
	    "192.0.2.1", 1, 12,
	    "POST /api HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "User-Agent: curl/8.0\r\n"
	    "Accept: */*\r\n"
	    "Cookie: a=1\r\n"
	    "Cookie: b=2\r\n"
	    "X-Forwarded-For: 192.0.2.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Host: example.com\r\n"
	    "Content-Length: 12\r\n"
	    "\r\n", NULL, NULL, NULL, NULL },
	{ "xff without existing", "GET", { "Host", "h", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "an untrusted client's xff is replaced", "GET",
	    { "X-Forwarded-For", "1.1.1.1", "Host", "h",
	    "x-forwarded-for", "2.2.2.2, 3.3.3.3", "Forwarded",
	    "for=1.1.1.1", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "trusted: xff joins all existing", "GET",
	    { "X-Forwarded-For", "1.1.1.1", "Host", "h",
	    "x-forwarded-for", "2.2.2.2, 3.3.3.3", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "trusted: proto, host and Forwarded kept as sent", "GET",
	    { "Host", "inner:8080", "X-Forwarded-Proto", "https",
	    "X-Forwarded-Host", "www.example.com", "Forwarded",
	    "for=203.0.113.7;proto=https", "X-Forwarded-For", "203.0.113.7",
	    NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: inner:8080\r\n"
	    "Forwarded: for=203.0.113.7;proto=https\r\n"
	    "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Host: www.example.com\r\n\r\n", NULL, NULL, NULL,
	    NULL },
	{ "trusted: none sent, ours set", "GET",
	    { "Host", "h", NULL, NULL }, "10.0.0.1", 1, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n\r\n", NULL,
	    NULL, NULL, NULL },
	{ "xff empty existing skipped", "GET",
	    { "Host", "h", "X-Forwarded-For", "", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "xff named in Connection", "GET",
	    { "Host", "h", "Connection", "X-Forwarded-For",
	    "X-Forwarded-For", "6.6.6.6", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "no client ip", "GET", { "Host", "h", NULL }, NULL, 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "proto and host replaced", "GET",
	    { "X-Forwarded-Proto", "https", "Host", "real.example",
	    "X-Forwarded-Host", "evil.example", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: real.example\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: real.example\r\n"
	    "\r\n", NULL, NULL, NULL, NULL },
	{ "no Host, no X-Forwarded-Host", "GET",
	    { "X-Forwarded-Host", "evil.example", NULL, NULL },
	    "10.0.0.1", 1, 0,
	    "GET /api HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\nHost: backend:80\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "hop-by-hop removed", "GET",
	    { "Host", "h", "Connection", "close, X-A", "Connection", " x-b ",
	    "Keep-Alive", "1", "Proxy-Connection", "keep-alive",
	    "TE", "trailers", "Trailer", "X-T", "Upgrade", "websocket",
	    "Transfer-Encoding", "chunked", "X-A", "a", "X-B", "b",
	    "X-C", "c", "Expect", "100-continue", NULL, NULL },
	    "10.0.0.1", 0, 3,
	    "GET /api HTTP/1.1\r\nHost: h\r\nX-C: c\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Content-Length: 3\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "Host survives Connection", "GET",
	    { "Host", "h", "Connection", "Host", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "client cl replaced", "PUT",
	    { "Host", "h", "Content-Length", "99", NULL, NULL },
	    "10.0.0.1", 0, 4,
	    "PUT /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Content-Length: 4\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "POST empty body", "POST", { "Host", "h", NULL }, "10.0.0.1", 0, 0,
	    "POST /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Content-Length: 0\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "PATCH empty body", "PATCH", { "Host", "h", NULL }, "10.0.0.1", 0, 0,
	    "PATCH /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Content-Length: 0\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "DELETE empty body", "DELETE",
	    { "Host", "h", "Content-Length", "0", NULL }, "10.0.0.1", 0, 0,
	    "DELETE /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "Via appended to the client's", "GET",
	    { "Host", "h", "Via", "1.0 fred", "Via", "1.1 p.example (x)",
	    NULL }, "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "Via: 1.0 fred, 1.1 p.example (x), 1.1 sluice\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n",
	    "1.1 sluice", NULL, NULL, NULL },
	{ "Via alone", "GET", { "Host", "h", NULL }, "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nVia: 1.0 sluice\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n",
	    "1.0 sluice", NULL, NULL, NULL },
	{ "HTTP/1.0 without Host", "GET", { "Accept", "*/*", NULL, NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nAccept: */*\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nHost: backend:80\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "GET with body", "GET", { "Host", "h", NULL }, "10.0.0.1", 0, 2,
	    "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Content-Length: 2\r\n\r\n", NULL, NULL, NULL, NULL },
	{ "host = NAME: first, the client's in X-Forwarded-Host", "GET",
	    { "Accept", "*/*", "Host", "www.example.com:8000", NULL },
	    "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: intranet.local\r\nAccept: */*\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: www.example.com:8000\r\n\r\n", NULL,
	    "intranet.local", NULL, NULL },
	{ "host = NAME, HTTP/1.0 without Host", "GET",
	    { "Accept", "*/*", NULL }, "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: intranet.local\r\nAccept: */*\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n",
	    NULL, "intranet.local", NULL, NULL },
	{ "host = NAME: Connection cannot remove it", "GET",
	    { "Host", "h", "Connection", "host", NULL }, "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: 10.0.0.9:8080\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: h\r\n\r\n", NULL, "10.0.0.9:8080", NULL,
	    NULL },
	{ "the request ID replaces the client's, every spelling", "GET",
	    { "Host", "h", "X-Request-Id", "abc", "x-request-id", "def",
	    "X-Other", "1", NULL }, "10.0.0.1", 0, 0,
	    "GET /api HTTP/1.1\r\nHost: h\r\nX-Other: 1\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: h\r\n"
	    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n", NULL,
	    NULL, "X-Request-Id", "0123456789abcdef0123456789abcdef" },
	{ "the request ID before Content-Length", "POST",
	    { "Host", "h", NULL }, "10.0.0.1", 0, 3,
	    "POST /api HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: h\r\nReq: r-1\r\nContent-Length: 3\r\n\r\n",
	    NULL, NULL, "Req", "r-1" },
};

/* Table row _i of build_cases. */
START_TEST(test_build_table)
{
	const struct build_case	*c = &build_cases[_i];
	struct headers_forward	 fwd = { .client_ip = c->client_ip,
	    .tls = c->tls, .default_host = "backend:80", .via = c->via,
	    .host = c->host, .id_name = c->id_name, .id = c->id,
	    .trusted = strncmp(c->name, "trusted", 7) == 0 };
	struct http1_field	 f[32];
	struct headers_in	 in = { f, 0, NULL };
	struct headers_sink	 sink;
	struct evbuffer		*out;
	char			*got;

	in.n = fields_fill(f, 32, c->hdrs);
	out = evbuffer_new();
	ck_assert_ptr_nonnull(out);
	sink.add = sink_add;
	sink.arg = out;
	ck_assert_int_eq(headers_request_build(&sink, c->method, "/api", &in,
	    &fwd, c->body_len), 0);
	got = buffer_text(out);
	ck_assert_msg(strcmp(got, c->want) == 0, "%s:\n--- got\n%s--- want\n%s",
	    c->name, got, c->want);
	free(got);
	evbuffer_free(out);
}
END_TEST

/* One response head and the header list headers_response_copy makes. */
struct copy_case {
	const char	*name;
	const char	*head;
	int		 head_request;
	const char	*want[16];	/* name, value, ..., NULL */
};

static const struct copy_case copy_cases[] = {
	{ "set-cookie kept twice",
	    "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n"
	    "Set-Cookie: b=2; Path=/\r\n\r\n", 0,
	    { "Set-Cookie", "a=1", "Set-Cookie", "b=2; Path=/",
	    "Content-Length", "2", NULL } },
	{ "hop-by-hop dropped",
	    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\n"
	    "Keep-Alive: timeout=5\r\nX-Internal: secret\r\n"
	    "Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\n"
	    "Proxy-Connection: close\r\nUpgrade: h2c\r\nTE: trailers\r\n"
	    "Content-Type: text/plain\r\n\r\n", 0,
	    { "Content-Type", "text/plain", NULL } },
	{ "listed in second Connection",
	    "HTTP/1.1 200 OK\r\nConnection: x-a\r\nConnection: X-B\r\n"
	    "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n", 0,
	    { "X-C", "3", NULL } },
	{ "cl list normalized", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n"
	    "content-length: 5\r\nETag: \"e\"\r\n\r\n", 0,
	    { "ETag", "\"e\"", "Content-Length", "5", NULL } },
	{ "chunked has no cl",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Vary: Accept\r\n\r\n", 0,
	    { "Vary", "Accept", NULL } },
	{ "close-delimited has no cl",
	    "HTTP/1.0 200 OK\r\nServer: s\r\n\r\n", 0,
	    { "Server", "s", NULL } },
	{ "HEAD keeps cl", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1,
	    { "Content-Length", "100", NULL } },
	{ "HEAD without cl", "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n", 1,
	    { "X-A", "1", NULL } },
	{ "304 keeps cl", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n"
	    "ETag: \"e\"\r\n\r\n", 0,
	    { "ETag", "\"e\"", "Content-Length", "50", NULL } },
	{ "204 drops cl 0", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n"
	    "X-A: 1\r\n\r\n", 0,
	    { "X-A", "1", NULL } },
	{ "cl survives Connection",
	    "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\n"
	    "Content-Length: 3\r\n\r\n", 0,
	    { "Content-Length", "3", NULL } },
	{ "empty and obs-text values", "HTTP/1.1 200 OK\r\nX-E:\r\n"
	    "X-T: caf\xc3\xa9 \t\r\n\r\n", 0,
	    { "X-E", "", "X-T", "caf\xc3\xa9", NULL } },
};

/* Assert that q holds exactly the name, value pairs of want, in order. */
static void
list_expect(const char *name, const struct evkeyvalq *q,
    const char *const *want)
{
	const struct evkeyval	*kv;

	TAILQ_FOREACH(kv, q, next) {
		ck_assert_msg(want[0] != NULL, "%s: extra %s: %s", name,
		    kv->key, kv->value);
		ck_assert_msg(strcmp(kv->key, want[0]) == 0 &&
		    strcmp(kv->value, want[1]) == 0,
		    "%s: got %s: %s, want %s: %s", name, kv->key, kv->value,
		    want[0], want[1]);
		want += 2;
	}
	ck_assert_msg(want[0] == NULL, "%s: missing %s", name, want[0]);
}

/* Table row _i of copy_cases. */
START_TEST(test_copy_table)
{
	const struct copy_case	*c = &copy_cases[_i];
	struct http1_response	 r;
	struct evkeyvalq	 q;
	struct headers_out	 out = { .add = out_add };
	const char		*why;

	ck_assert_int_eq(http1_response_parse(c->head, strlen(c->head),
	    c->head_request, &r, &why), 1);
	TAILQ_INIT(&q);
	out.arg = &q;
	ck_assert_int_eq(headers_response_copy(&r, &out), 0);
	list_expect(c->name, &q, c->want);
	evhttp_clear_headers(&q);
}
END_TEST

/* A value longer than the stack copy buffer goes through the heap. */
START_TEST(test_copy_long_value)
{
	static char		 head[16384];
	char			 value[9000];
	struct http1_response	 r;
	struct evkeyvalq	 q;
	struct headers_out	 out = { .add = out_add };
	const char		*why, *got;
	int			 len;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	len = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "X-Long: %s\r\nX-Short: s\r\n\r\n", value);
	ck_assert_int_eq(http1_response_parse(head, (size_t)len, 0, &r, &why),
	    1);
	TAILQ_INIT(&q);
	out.arg = &q;
	ck_assert_int_eq(headers_response_copy(&r, &out), 0);
	got = evhttp_find_header(&q, "X-Long");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, value);
	ck_assert_str_eq(evhttp_find_header(&q, "X-Short"), "s");
	evhttp_clear_headers(&q);
}
END_TEST

/* A headers_out's keep for test_copy_keep: Server and Set-Cookie stay out. */
static int
copy_keep(void *arg, const char *name, size_t len)
{
	(void)arg;
	return !((len == 6 && strncasecmp(name, "server", 6) == 0) ||
	    (len == 10 && strncasecmp(name, "set-cookie", 10) == 0));
}

/* A response copied through keep: the refused headers, every instance. */
START_TEST(test_copy_keep)
{
	static const char	 head[] = "HTTP/1.1 200 OK\r\nServer: x\r\n"
				    "Set-Cookie: a=1\r\nX-A: 1\r\n"
				    "set-cookie: b=2\r\nContent-Length: 0\r\n\r\n";
	struct http1_response	 r;
	struct evkeyvalq	 q;
	struct headers_out	 out = { .add = out_add, .keep = copy_keep };
	const struct evkeyval	*kv;
	const char		*why;
	int			 n = 0;

	TAILQ_INIT(&q);
	out.arg = &q;
	ck_assert_int_eq(http1_response_parse(head, sizeof(head) - 1, 0, &r,
	    &why), 1);
	ck_assert_int_eq(headers_response_copy(&r, &out), 0);
	TAILQ_FOREACH(kv, &q, next)
		n++;
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(evhttp_find_header(&q, "X-A"), "1");
	ck_assert_str_eq(evhttp_find_header(&q, "Content-Length"), "0");
	evhttp_clear_headers(&q);
}
END_TEST

/* The rules of test_build_rules: Cookie and X-Forwarded-For taken away. */
static int
rules_keep(void *rules, const char *name, size_t len)
{
	(void)rules;
	return !((len == 6 && strncasecmp(name, "cookie", 6) == 0) ||
	    (len == 15 && strncasecmp(name, "x-forwarded-for", 15) == 0) ||
	    (len == 17 && strncasecmp(name, "x-forwarded-proto", 17) == 0));
}

/* ... and two headers added, one replacing X-Forwarded-Proto. */
static int
rules_add(void *rules, const struct headers_sink *out)
{
	static const char	 add[] = "X-Forwarded-Proto: https\r\n"
				    "X-Env: prod\r\n";

	(void)rules;
	return out->add(out->arg, add, sizeof(add) - 1);
}

/*
 * Rules through headers_request_build, into a headers_buf: what keep
 * refuses is left out whether the client sent it or the proxy adds it,
 * what add writes comes last; the flat buffer outgrows its stack array.
 */
START_TEST(test_build_rules)
{
	static const char	*hdrs[] = { "Host", "h", "Cookie", "a=1",
				    "Accept", "*/*", "COOKIE", "b=2",
				    "X-Forwarded-For", "1.2.3.4", NULL, NULL };
	struct headers_forward	 fwd = { .client_ip = "10.0.0.1",
	    .default_host = "b:80", .keep = rules_keep, .add = rules_add };
	struct http1_field	 f[8];
	struct headers_in	 in = { f, 0, NULL };
	struct headers_sink	 sink;
	struct headers_buf	 b;
	char			 big[3 * HEADERS_BUF_STACK], want[512];

	in.n = fields_fill(f, 8, hdrs);
	headers_buf_init(&b, &sink);
	ck_assert_int_eq(headers_request_build(&sink, "POST", "/x", &in, &fwd,
	    3), 0);
	snprintf(want, sizeof(want), "POST /x HTTP/1.1\r\nHost: h\r\n"
	    "Accept: */*\r\nX-Forwarded-Host: h\r\nContent-Length: 3\r\n"
	    "X-Forwarded-Proto: https\r\nX-Env: prod\r\n\r\n");
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert(memcmp(b.p, want, b.len) == 0);
	ck_assert_ptr_eq(b.p, b.stack);
	headers_buf_free(&b);

	/* a head past the stack array: on the heap, whole */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hdrs[5] = big;
	in.n = fields_fill(f, 8, hdrs);
	headers_buf_init(&b, &sink);
	ck_assert_int_eq(headers_request_build(&sink, "GET", "/x", &in, &fwd,
	    0), 0);
	ck_assert_ptr_ne(b.p, b.stack);
	ck_assert_uint_gt(b.len, sizeof(big));
	ck_assert(memmem(b.p, b.len, big, sizeof(big) - 1) != NULL);
	ck_assert(memmem(b.p, b.len, "X-Env: prod\r\n\r\n", 15) != NULL);
	headers_buf_free(&b);
	hdrs[5] = "*/*";
}
END_TEST

/* The headers suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("headers");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_hop_table, 0, NELEM(hop_cases));
	tcase_add_loop_test(tc, test_build_table, 0, NELEM(build_cases));
	tcase_add_loop_test(tc, test_copy_table, 0, NELEM(copy_cases));
	tcase_add_test(tc, test_copy_long_value);
	tcase_add_test(tc, test_build_rules);
	tcase_add_test(tc, test_copy_keep);
	suite_add_tcase(s, tc);
	return s;
}
