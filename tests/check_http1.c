/*
 * check_http1: the strict HTTP/1.1 parser and request validator. Table
 * driven: each row is one head, chunk-size line or request and what must
 * come out of it.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/http/http1.h"
#include "tests/check_main.h"

#define NONE	HTTP1_FRAMING_NONE
#define LENGTH	HTTP1_FRAMING_LENGTH
#define CHUNKED	HTTP1_FRAMING_CHUNKED
#define CLOSE	HTTP1_FRAMING_CLOSE

/* One response head and what http1_response_parse must make of it. */
struct resp_case {
	const char		*name;
	const char		*head;
	size_t			 len;		/* 0: strlen(head) */
	int			 head_request;
	int			 rc;
	int			 status;
	enum http1_framing	 framing;
	uint64_t		 cl;
	int			 has_cl;
	int			 keep_alive;
	size_t			 head_len;	/* 0: the whole input */
	const char		*why;		/* the reason when rc is -1 */
};

/* A head refused with reason why; BADX with a length and HEAD flag. */
#define BAD(name, head, why)	{ name, head, 0, 0, -1, 0, 0, 0, 0, 0, 0, why }
#define BADX(name, head, len, head_request, why) \
	{ name, head, len, head_request, -1, 0, 0, 0, 0, 0, 0, why }

static const struct resp_case resp_cases[] = {
	/* valid */
	{ "cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 5, 1, 1, 0, NULL },
	{ "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, 0, 1, 200, CHUNKED, 0, 0, 1, 0, NULL },
	{ "close-delimited", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "no headers", "HTTP/1.1 200 OK\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "1.0 cl", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 3, 1, 0, 0, NULL },
	{ "1.0 keep-alive",
	    "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	    "Content-Length: 3\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 3, 1, 1, 0, NULL },
	{ "1.0 keep-alive close-delimited",
	    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "1.1 close", "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 1\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 1, 1, 0, 0, NULL },
	{ "close in list", "HTTP/1.1 200 OK\r\nConnection: foo ,\tClose\r\n"
	    "Content-Length: 1\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 1, 1, 0, 0, NULL },
	{ "close in second Connection", "HTTP/1.1 200 OK\r\nConnection: foo\r\n"
	    "Connection: close\r\nContent-Length: 1\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 1, 1, 0, 0, NULL },
	{ "closed not close", "HTTP/1.1 200 OK\r\nConnection: closed\r\n"
	    "Content-Length: 1\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 1, 1, 1, 0, NULL },
	{ "empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 0, 1, 1, 0, NULL },
	{ "no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 0, 1, 1, 0, NULL },
	{ "reason with spaces", "HTTP/1.1 404 Not  Found \r\n\r\n",
	    0, 0, 1, 404, CLOSE, 0, 0, 0, 0, NULL },
	{ "bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\n",
	    0, 0, 1, 200, LENGTH, 2, 1, 1, 0, NULL },
	{ "mixed line ends", "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\n",
	    0, 0, 1, 200, LENGTH, 2, 1, 1, 0, NULL },
	{ "body after head", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
	    0, 0, 1, 200, LENGTH, 2, 1, 1, 38, NULL },
	{ "next response after head", "HTTP/1.1 204 No Content\r\n\r\n"
	    "HTTP/1.1 200 OK\r\n\r\n",
	    0, 0, 1, 204, NONE, 0, 0, 1, 27, NULL },
	{ "204", "HTTP/1.1 204 No Content\r\n\r\n",
	    0, 0, 1, 204, NONE, 0, 0, 1, 0, NULL },
	{ "204 cl 0", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 204, NONE, 0, 0, 1, 0, NULL },
	{ "304 keeps cl", "HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 50\r\n\r\n",
	    0, 0, 1, 304, NONE, 50, 1, 1, 0, NULL },
	{ "304 no cl", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
	    0, 0, 1, 304, NONE, 0, 0, 1, 0, NULL },
	{ "HEAD keeps cl", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
	    0, 1, 1, 200, NONE, 100, 1, 1, 0, NULL },
	{ "HEAD chunked",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, 1, 1, 200, NONE, 0, 0, 1, 0, NULL },
	{ "HEAD no framing", "HTTP/1.1 200 OK\r\n\r\n",
	    0, 1, 1, 200, NONE, 0, 0, 1, 0, NULL },
	{ "100 continue", "HTTP/1.1 100 Continue\r\n\r\n",
	    0, 0, 1, 100, NONE, 0, 0, 1, 0, NULL },
	{ "103 early hints", "HTTP/1.1 103 Early Hints\r\n"
	    "Link: </s.css>; rel=preload\r\n\r\n",
	    0, 0, 1, 103, NONE, 0, 0, 1, 0, NULL },
	{ "102 cl 0", "HTTP/1.1 102 Processing\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 102, NONE, 0, 0, 1, 0, NULL },
	{ "cl list identical",
	    "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 5, 1, 1, 0, NULL },
	{ "cl repeated identical", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
	    "content-length: 7\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 7, 1, 1, 0, NULL },
	{ "cl leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 7, 1, 1, 0, NULL },
	{ "cl ows", "HTTP/1.1 200 OK\r\nContent-Length:\t 9 \t\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 9, 1, 1, 0, NULL },
	{ "cl 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 0, 1, 1, 0, NULL },
	{ "cl int64 max", "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 9223372036854775807ULL, 1, 1, 0, NULL },
	{ "te case", "HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: Chunked\r\n\r\n",
	    0, 0, 1, 200, CHUNKED, 0, 0, 1, 0, NULL },
	{ "te ows",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding:   chunked \t\r\n\r\n",
	    0, 0, 1, 200, CHUNKED, 0, 0, 1, 0, NULL },
	{ "obs-text value", "HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "htab in value", "HTTP/1.1 200 OK\r\nX-A: a\tb\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "empty value", "HTTP/1.1 200 OK\r\nX-Empty:\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "tchar name", "HTTP/1.1 200 OK\r\nX-!#$%&'*+.^_`|~9: v\r\n\r\n",
	    0, 0, 1, 200, CLOSE, 0, 0, 0, 0, NULL },
	{ "599", "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 599, LENGTH, 0, 1, 1, 0, NULL },
	{ "1.2 as 1.1", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 1, 200, LENGTH, 0, 1, 1, 0, NULL },
	/* malformed status line */
	BAD("2x0", "HTTP/1.1 2x0 OK\r\n\r\n", "malformed status code"),
	BAD("999", "HTTP/1.1 999 OK\r\n\r\n", "status code out of range"),
	BAD("600", "HTTP/1.1 600 OK\r\n\r\n", "status code out of range"),
	BAD("099", "HTTP/1.1 099 OK\r\n\r\n", "status code out of range"),
	BAD("two digits", "HTTP/1.1 20 OK\r\n\r\n", "malformed status code"),
	BAD("four digits", "HTTP/1.1 2000 OK\r\n\r\n", "malformed status code"),
	BAD("no space before reason", "HTTP/1.1 200OK\r\n\r\n",
	    "malformed status code"),
	BAD("double space", "HTTP/1.1  200 OK\r\n\r\n",
	    "malformed status code"),
	BAD("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version"),
	BAD("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version"),
	BAD("HTTP/1", "HTTP/1 200 OK\r\n\r\n", "malformed status line"),
	BAD("lowercase name", "http/1.1 200 OK\r\n\r\n",
	    "malformed status line"),
	BAD("101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\n\r\n",
	    "unexpected 101 Switching Protocols"),
	BAD("empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n",
	    "malformed status line"),
	BAD("ctl in reason", "HTTP/1.1 200 O\x01K\r\n\r\n",
	    "control character in reason phrase"),
	BAD("bare CR in status", "HTTP/1.1 200 O\rK\r\n\r\n", "bare CR"),
	/* malformed header lines */
	BAD("space before colon",
	    "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
	    "invalid header name"),
	BAD("space in name", "HTTP/1.1 200 OK\r\nX Bad: v\r\n\r\n",
	    "invalid header name"),
	BAD("empty name", "HTTP/1.1 200 OK\r\n: v\r\n\r\n",
	    "invalid header name"),
	BAD("no colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
	    "header line without colon"),
	BAD("non-token name", "HTTP/1.1 200 OK\r\nX(a): v\r\n\r\n",
	    "invalid header name"),
	BAD("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n",
	    "obs-fold or whitespace before header"),
	BAD("obs-fold tab", "HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n\r\n",
	    "obs-fold or whitespace before header"),
	BAD("ctl in value", "HTTP/1.1 200 OK\r\nX-A: a\x01" "b\r\n\r\n",
	    "control character in header value"),
	BAD("del in value", "HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n",
	    "control character in header value"),
	BADX("nul in value", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 29, 0,
	    "control character in header value"),
	BAD("bare CR in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n",
	    "bare CR"),
	BAD("CR CR LF", "HTTP/1.1 200 OK\r\nX-A: a\r\r\n\r\n", "bare CR"),
	/* framing */
	BAD("cl differ", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", "differing Content-Length"),
	BAD("cl list differ", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl list empty item",
	    "HTTP/1.1 200 OK\r\nContent-Length: 5,,5\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl plus", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl hex", "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl junk", "HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl inner space", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl over int64", "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 9223372036854775808\r\n\r\n",
	    "invalid Content-Length"),
	BAD("cl overflow", "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n",
	    "invalid Content-Length"),
	BAD("te gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("te identity",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("te gzip, chunked", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("te chunked twice",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("te xchunked",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("te chunked comma", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked,\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("cl and te", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "Content-Length with Transfer-Encoding"),
	BADX("te and cl on HEAD",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 0, 1,
	    "Content-Length with Transfer-Encoding"),
	BAD("te in 1.0",
	    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Transfer-Encoding in HTTP/1.0"),
	BAD("204 te", "HTTP/1.1 204 No Content\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "Transfer-Encoding without a body"),
	BAD("304 te",
	    "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", "Transfer-Encoding without a body"),
	BAD("100 te", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", "Transfer-Encoding without a body"),
	BAD("204 cl 5", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	    "Content-Length on 1xx or 204"),
	BAD("103 cl 5", "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n",
	    "Content-Length on 1xx or 204"),
	/* incomplete */
	{ "empty input", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "no empty line", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
	    0, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "half CRLF", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r",
	    0, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	/* garbage is refused before the head is complete */
	BAD("early bad version", "HTTP/2", "malformed status line"),
	BAD("early garbage", "SSH-2.0-OpenSSH", "malformed status line"),
	BAD("early bad status", "HTTP/1.1 2x0 OK\r\nX-A:",
	    "malformed status code"),
};

/*
 * Parse a copy of head[0..len) in a heap block of exactly len bytes, so
 * AddressSanitizer sees any read past the end. Only the scalar fields of
 * *r are valid afterwards.
 */
static int
parse_exact(const char *head, size_t len, int head_request,
    struct http1_response *r, const char **why)
{
	char	*copy = malloc(len > 0 ? len : 1);
	int	 rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, head, len);
	rc = http1_response_parse(copy, len, head_request, r, why);
	free(copy);
	return rc;
}

/* Table row _i of resp_cases. */
START_TEST(test_response_table)
{
	const struct resp_case	*c = &resp_cases[_i];
	struct http1_response	 r;
	const char		*why = NULL;
	size_t			 len = c->len ? c->len : strlen(c->head);
	int			 rc;

	rc = parse_exact(c->head, len, c->head_request, &r, &why);
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->name, rc,
	    c->rc, why ? why : "-");
	if (rc == -1)
		ck_assert_msg(why != NULL && strcmp(why, c->why) == 0,
		    "%s: reason \"%s\", want \"%s\"", c->name,
		    why ? why : "-", c->why);
	if (rc != 1)
		return;
	ck_assert_msg(r.status == c->status, "%s: status %d", c->name,
	    r.status);
	ck_assert_msg(r.framing == c->framing, "%s: framing %d, want %d",
	    c->name, r.framing, c->framing);
	ck_assert_msg(r.content_length == c->cl, "%s: cl %llu", c->name,
	    (unsigned long long)r.content_length);
	ck_assert_msg(r.has_content_length == c->has_cl, "%s: has_cl %d",
	    c->name, r.has_content_length);
	ck_assert_msg(r.keep_alive == c->keep_alive, "%s: keep_alive %d",
	    c->name, r.keep_alive);
	ck_assert_msg(r.head_len == (c->head_len ? c->head_len : len),
	    "%s: head_len %zu", c->name, r.head_len);
}
END_TEST

/* Valid heads fed byte by byte: every proper prefix needs more. */
static const char *const prefix_heads[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\n",
	"HTTP/1.0 404 Not Found\nConnection: keep-alive\nContent-Length: 0\n\n",
	"HTTP/1.1 204\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\n"
	    "Set-Cookie: b=2\r\n\r\n"),
};

/* Row _i of prefix_heads, fed incrementally. */
START_TEST(test_response_prefixes)
{
	const char		*head = prefix_heads[_i];
	struct http1_response	 r;
	const char		*why;
	size_t			 n, len = strlen(head);
	int			 rc;

	for (n = 0; n < len; n++) {
		rc = parse_exact(head, n, 0, &r, &why);
		ck_assert_msg(rc == 0, "head %d prefix %zu: rc %d (%s)", _i,
		    n, rc, why ? why : "-");
	}
	ck_assert_int_eq(parse_exact(head, len, 0, &r, &why), 1);
	ck_assert_uint_eq(r.head_len, len);
}
END_TEST

/* Names, values (OWS trimmed), reason and lookup point into the buffer. */
START_TEST(test_response_fields)
{
	static const char head[] = "HTTP/1.1 201 Created here\r\n"
	    "Location:   /x \t\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n"
	    "X-Empty: \r\n\r\n";
	struct http1_response		 r;
	const struct http1_header	*h;
	const char			*why;

	ck_assert_int_eq(http1_response_parse(head, sizeof(head) - 1, 0, &r,
	    &why), 1);
	ck_assert_int_eq(r.minor, 1);
	ck_assert_uint_eq(r.reasonlen, 12);
	ck_assert(memcmp(r.reason, "Created here", 12) == 0);
	ck_assert_uint_eq(r.nheaders, 4);
	ck_assert_uint_eq(r.headers[0].namelen, 8);
	ck_assert_uint_eq(r.headers[0].valuelen, 2);
	ck_assert(memcmp(r.headers[0].value, "/x", 2) == 0);
	ck_assert_uint_eq(r.headers[3].valuelen, 0);
	h = http1_response_header(&r, "SET-COOKIE");
	ck_assert_ptr_eq(h, &r.headers[1]);
	ck_assert(memcmp(h->value, "a=1", 3) == 0);
	ck_assert_ptr_null(http1_response_header(&r, "Set-Cookie2"));
	ck_assert_ptr_null(http1_response_header(&r, "Set"));
}
END_TEST

/* Build a head with n "X-N: v" headers into buf; returns its length. */
static size_t
many_headers(char *buf, size_t size, int n)
{
	size_t	 len;
	int	 i;

	len = (size_t)snprintf(buf, size, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "X-%d: v\r\n",
		    i);
	len += (size_t)snprintf(buf + len, size - len, "\r\n");
	return len;
}

/* HTTP1_MAX_HEADERS headers fit; one more is refused. */
START_TEST(test_response_max_headers)
{
	static char		 buf[8192];
	struct http1_response	 r;
	const char		*why;
	size_t			 len;

	len = many_headers(buf, sizeof(buf), HTTP1_MAX_HEADERS);
	ck_assert_int_eq(http1_response_parse(buf, len, 0, &r, &why), 1);
	ck_assert_uint_eq(r.nheaders, HTTP1_MAX_HEADERS);
	len = many_headers(buf, sizeof(buf), HTTP1_MAX_HEADERS + 1);
	ck_assert_int_eq(http1_response_parse(buf, len, 0, &r, &why), -1);
}
END_TEST

/* One chunk-size line and its expected result. */
struct chunk_case {
	const char	*line;
	int		 rc;
	uint64_t	 size;
};

static const struct chunk_case chunk_cases[] = {
	{ "0", 0, 0 },
	{ "5", 0, 5 },
	{ "a", 0, 10 },
	{ "A", 0, 10 },
	{ "ff", 0, 255 },
	{ "1F4", 0, 500 },
	{ "FFFFFFFF", 0, 0xffffffffULL },
	{ "0000000000000000000000005", 0, 5 },
	{ "5;ext=1", 0, 5 },
	{ "5;", 0, 5 },
	{ "5 ;name=\"v\"", 0, 5 },
	{ "5\t ;x", 0, 5 },
	{ "4000000000000000", 0, 1ULL << 62 },
	{ "4000000000000001", -1, 0 },
	{ "10000000000000000", -1, 0 },
	{ "ffffffffffffffffff", -1, 0 },
	{ "", -1, 0 },
	{ ";ext", -1, 0 },
	{ "0x5", -1, 0 },
	{ "+5", -1, 0 },
	{ "-5", -1, 0 },
	{ " 5", -1, 0 },
	{ "5 ", -1, 0 },
	{ "5 5", -1, 0 },
	{ "5junk", -1, 0 },
	{ "g", -1, 0 },
	{ "5\r", -1, 0 },
};

/* Table row _i of chunk_cases. */
START_TEST(test_chunk_table)
{
	const struct chunk_case	*c = &chunk_cases[_i];
	uint64_t		 size = 12345;
	int			 rc;

	rc = http1_chunk_size_parse(c->line, strlen(c->line), &size);
	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->line, rc);
	if (rc == 0)
		ck_assert_msg(size == c->size, "\"%s\": size %llu", c->line,
		    (unsigned long long)size);
}
END_TEST

/* The length bounds the line: bytes after it are not read. */
START_TEST(test_chunk_bounded)
{
	uint64_t	 size;

	ck_assert_int_eq(http1_chunk_size_parse("12zz", 2, &size), 0);
	ck_assert_uint_eq(size, 0x12);
}
END_TEST

/* tchar, value and list helpers. */
START_TEST(test_helpers)
{
	ck_assert(http1_is_tchar('a') && http1_is_tchar('~'));
	ck_assert(!http1_is_tchar(' ') && !http1_is_tchar(':'));
	ck_assert(!http1_is_tchar('"') && !http1_is_tchar(0x80));
	ck_assert(!http1_is_tchar('\0'));
	ck_assert(http1_value_ok("a\tb \xff", 5));
	ck_assert(!http1_value_ok("a\0b", 3));
	ck_assert(!http1_value_ok("a\nb", 3));
	ck_assert(http1_list_has("keep-alive, Close", "close"));
	ck_assert(http1_list_has(" , close ,", "close"));
	ck_assert(!http1_list_has("closed, xclose", "close"));
	ck_assert(!http1_list_has("", "close"));
	ck_assert(!http1_list_has(NULL, "close"));
}
END_TEST

/* Optional whitespace goes from both ends of a value, nothing else. */
START_TEST(test_value_trim)
{
	static const char *const cases[][2] = {
		{ "\tvictim.test", "victim.test" },
		{ "a.test\t \t", "a.test" },
		{ " \t a b \t ", "a b" },
		{ "plain", "plain" },
		{ " \t ", "" },
		{ "", "" },
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i][0]);
		http1_value_trim(buf);
		ck_assert_msg(strcmp(buf, cases[i][1]) == 0, "[%s] -> [%s]",
		    cases[i][0], buf);
	}
}
END_TEST

/* One request as evhttp hands it over and the expected verdict. */
struct req_case {
	const char	*name;
	const char	*method;
	const char	*uri;
	int		 major;
	int		 minor;
	const char	*hdrs[12];	/* name, value, ..., NULL */
	size_t		 body_len;
	int		 rc;
	const char	*why;		/* the reason when rc is -1 */
};

static const struct req_case req_cases[] = {
	/* valid */
	{ "GET origin", "GET", "/", 1, 1, { "Host", "example.com" }, 0, 0,
	    NULL },
	{ "GET query", "GET", "/a/b?c=d&e=%20", 1, 1,
	    { "Host", "example.com", "Accept", "*/*" }, 0, 0, NULL },
	{ "GET absolute", "GET", "http://example.com/x", 1, 1,
	    { "Host", "example.com" }, 0, 0, NULL },
	{ "GET absolute https port", "GET", "HTTPS://example.com:8443?q", 1, 1,
	    { "Host", "other" }, 0, 0, NULL },
	{ "OPTIONS *", "OPTIONS", "*", 1, 1, { "Host", "example.com" }, 0, 0,
	    NULL },
	{ "POST cl", "POST", "/upload", 1, 1,
	    { "Host", "example.com", "Content-Length", "5" }, 5, 0, NULL },
	{ "POST chunked", "POST", "/upload", 1, 1,
	    { "Host", "example.com", "Transfer-Encoding", "chunked" }, 10, 0,
	    NULL },
	{ "POST chunked case", "POST", "/", 1, 1,
	    { "Host", "h", "transfer-encoding", "CHUNKED" }, 0, 0, NULL },
	{ "1.0 no Host", "GET", "/", 1, 0, { NULL }, 0, 0, NULL },
	{ "Host ipv6 port", "GET", "/", 1, 1, { "Host", "[::1]:8080" }, 0, 0,
	    NULL },
	{ "Host ipv4", "GET", "/", 1, 1, { "Host", "127.0.0.1" }, 0, 0, NULL },
	{ "Host empty port", "GET", "/", 1, 1, { "Host", "example.com:" },
	    0, 0, NULL },
	{ "Host pct", "GET", "/", 1, 1, { "Host", "ex%41mple" }, 0, 0, NULL },
	{ "HEAD cl 0", "HEAD", "/", 1, 1,
	    { "Host", "h", "Content-Length", "0" }, 0, 0, NULL },
	{ "htab and obs-text", "GET", "/", 1, 1,
	    { "Host", "h", "X-A", "a\tb \xe9" }, 0, 0, NULL },
	{ "GET with body", "GET", "/", 1, 1,
	    { "Host", "h", "Content-Length", "3" }, 3, 0, NULL },
	/* request-target */
	{ "empty uri", "GET", "", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri space", "GET", "/a b", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri tab", "GET", "/a\tb", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri ctl", "GET", "/a\x01", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri CR", "GET", "/a\r\nX: y", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri del", "GET", "/a\x7f", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri fragment", "GET", "/a#b", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri non-ascii", "GET", "/caf\xc3\xa9", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri relative", "GET", "a/b", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri ftp", "GET", "ftp://h/", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri no authority", "GET", "http:///x", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri empty authority", "GET", "http://", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri userinfo", "GET", "http://u@h/", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "uri bad port", "GET", "http://h:99999/", 1, 1, { "Host", "h" },
	    0, -1, "invalid request-target" },
	{ "star with GET", "GET", "*", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "star suffix", "OPTIONS", "*x", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	{ "authority-form", "CONNECT", "h:443", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid request-target" },
	/* method and version */
	{ "method with space", "G T", "/", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid method" },
	{ "empty method", "", "/", 1, 1, { "Host", "h" }, 0, -1,
	    "invalid method" },
	{ "HTTP/2.0", "GET", "/", 2, 0, { "Host", "h" }, 0, -1,
	    "unsupported HTTP version" },
	/* header names and values */
	{ "name space", "GET", "/", 1, 1, { "Host", "h", "X Bad", "v" }, 0, -1,
	    "invalid header name" },
	{ "name trailing space", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length ", "5" }, 5, -1,
	    "invalid header name" },
	{ "empty name", "GET", "/", 1, 1, { "Host", "h", "", "v" }, 0, -1,
	    "invalid header name" },
	{ "name colon", "GET", "/", 1, 1, { "Host", "h", "X:A", "v" }, 0, -1,
	    "invalid header name" },
	{ "value ctl", "GET", "/", 1, 1, { "Host", "h", "X-A", "a\x01" }, 0, -1,
	    "control character in header value" },
	{ "value CR", "GET", "/", 1, 1, { "Host", "h", "X-A", "a\rb" }, 0, -1,
	    "control character in header value" },
	{ "value LF", "GET", "/", 1, 1,
	    { "Host", "h", "X-A", "a\nX-B: c" }, 0, -1,
	    "control character in header value" },
	{ "value del", "GET", "/", 1, 1, { "Host", "h", "X-A", "\x7f" }, 0, -1,
	    "control character in header value" },
	/* Host */
	{ "missing Host", "GET", "/", 1, 1, { "Accept", "*/*" }, 0, -1,
	    "missing Host" },
	{ "absolute no Host", "GET", "http://h/", 1, 1, { NULL }, 0, -1,
	    "missing Host" },
	{ "two Host", "GET", "/", 1, 1, { "Host", "a", "host", "b" }, 0, -1,
	    "more than one Host" },
	{ "two Host 1.0", "GET", "/", 1, 0, { "Host", "a", "Host", "a" },
	    0, -1, "more than one Host" },
	{ "Host empty", "GET", "/", 1, 1, { "Host", "" }, 0, -1,
	    "invalid Host" },
	{ "Host slash", "GET", "/", 1, 1, { "Host", "a/b" }, 0, -1,
	    "invalid Host" },
	{ "Host space", "GET", "/", 1, 1, { "Host", "a b" }, 0, -1,
	    "invalid Host" },
	{ "Host userinfo", "GET", "/", 1, 1, { "Host", "u@h" }, 0, -1,
	    "invalid Host" },
	{ "Host port letters", "GET", "/", 1, 1, { "Host", "h:8o" }, 0, -1,
	    "invalid Host" },
	{ "Host port range", "GET", "/", 1, 1, { "Host", "h:65536" }, 0, -1,
	    "invalid Host" },
	{ "Host port only", "GET", "/", 1, 1, { "Host", ":80" }, 0, -1,
	    "invalid Host" },
	{ "Host open bracket", "GET", "/", 1, 1, { "Host", "[::1" }, 0, -1,
	    "invalid Host" },
	{ "Host bad pct", "GET", "/", 1, 1, { "Host", "a%zz" }, 0, -1,
	    "invalid Host" },
	/* Content-Length and Transfer-Encoding */
	{ "two cl", "POST", "/", 1, 1, { "Host", "h", "Content-Length", "5",
	    "Content-Length", "5" }, 5, -1, "more than one Content-Length" },
	{ "cl list", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "5, 5" }, 5, -1,
	    "invalid Content-Length" },
	{ "cl letters", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "abc" }, 0, -1,
	    "invalid Content-Length" },
	{ "cl plus", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "+5" }, 5, -1,
	    "invalid Content-Length" },
	{ "cl negative", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "-1" }, 0, -1,
	    "invalid Content-Length" },
	{ "cl overflow", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "99999999999999999999" }, 0, -1,
	    "invalid Content-Length" },
	{ "cl body mismatch", "POST", "/", 1, 1,
	    { "Host", "h", "Content-Length", "5" }, 3, -1,
	    "body differs from Content-Length" },
	{ "cl and te", "POST", "/", 1, 1, { "Host", "h", "Content-Length", "5",
	    "Transfer-Encoding", "chunked" }, 5, -1,
	    "Content-Length with Transfer-Encoding" },
	{ "te gzip", "POST", "/", 1, 1,
	    { "Host", "h", "Transfer-Encoding", "gzip" }, 0, -1,
	    "unsupported Transfer-Encoding" },
	{ "te identity", "POST", "/", 1, 1,
	    { "Host", "h", "Transfer-Encoding", "identity" }, 0, -1,
	    "unsupported Transfer-Encoding" },
	{ "te gzip chunked", "POST", "/", 1, 1,
	    { "Host", "h", "Transfer-Encoding", "gzip, chunked" }, 0, -1,
	    "unsupported Transfer-Encoding" },
	{ "te two headers", "POST", "/", 1, 1, { "Host", "h",
	    "Transfer-Encoding", "gzip", "Transfer-Encoding", "chunked" },
	    0, -1, "unsupported Transfer-Encoding" },
	{ "te chunked twice", "POST", "/", 1, 1, { "Host", "h",
	    "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked" },
	    0, -1, "unsupported Transfer-Encoding" },
	{ "te in 1.0", "POST", "/", 1, 0,
	    { "Host", "h", "Transfer-Encoding", "chunked" }, 0, -1,
	    "Transfer-Encoding in HTTP/1.0" },
	{ "HEAD cl", "HEAD", "/", 1, 1,
	    { "Host", "h", "Content-Length", "5" }, 0, -1,
	    "body on HEAD or TRACE" },
	{ "HEAD te", "HEAD", "/", 1, 1,
	    { "Host", "h", "Transfer-Encoding", "chunked" }, 0, -1,
	    "body on HEAD or TRACE" },
	{ "TRACE cl", "TRACE", "/", 1, 1,
	    { "Host", "h", "Content-Length", "1" }, 0, -1,
	    "body on HEAD or TRACE" },
};

/* Table row _i of req_cases. */
START_TEST(test_request_table)
{
	const struct req_case	*c = &req_cases[_i];
	struct http1_field	 f[sizeof(c->hdrs) / sizeof(c->hdrs[0])];
	const char		*why = NULL;
	size_t			 i, n = 0;
	int			 rc;

	for (i = 0; c->hdrs[i] != NULL; i += 2, n++) {
		f[n].name = c->hdrs[i];
		f[n].value = c->hdrs[i + 1];
	}
	rc = http1_request_check(c->method, c->uri, c->major, c->minor, f, n,
	    c->body_len, &why);
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->name, rc,
	    c->rc, why ? why : "-");
	if (rc == -1)
		ck_assert_msg(why != NULL && strcmp(why, c->why) == 0,
		    "%s: reason \"%s\", want \"%s\"", c->name,
		    why ? why : "-", c->why);
}
END_TEST

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* The http1 suite. */
/* RFC 9110 2.5: 1.x past 1.1 is read as 1.1; another major is refused. */
START_TEST(test_request_version)
{
	static const struct {
		int	 major, minor, rc, minor_after;
	} v[] = {
		{ 1, 0, 0, 0 }, { 1, 1, 0, 1 }, { 1, 2, 0, 1 }, { 1, 9, 0, 1 },
		{ 1, 127, 0, 1 }, { 1, -81, 0, 1 }, { 1, -128, 0, 1 },
		{ 0, 9, -1, 9 }, { 0, 1, -1, 1 },
		{ 2, 0, -1, 0 }, { 3, 1, -1, 1 },
	};
	size_t	 i;
	int	 minor;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		minor = v[i].minor;
		ck_assert_int_eq(http1_request_version(v[i].major, &minor),
		    v[i].rc);
		ck_assert_int_eq(minor, v[i].minor_after);
	}
}
END_TEST

Suite *
check_suite(void)
{
	Suite	*s = suite_create("http1");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_response_table, 0, NELEM(resp_cases));
	tcase_add_loop_test(tc, test_response_prefixes, 0,
	    NELEM(prefix_heads));
	tcase_add_test(tc, test_request_version);
	tcase_add_test(tc, test_response_fields);
	tcase_add_test(tc, test_value_trim);
	tcase_add_test(tc, test_response_max_headers);
	tcase_add_loop_test(tc, test_chunk_table, 0, NELEM(chunk_cases));
	tcase_add_test(tc, test_chunk_bounded);
	tcase_add_test(tc, test_helpers);
	tcase_add_loop_test(tc, test_request_table, 0, NELEM(req_cases));
	suite_add_tcase(s, tc);
	return s;
}
