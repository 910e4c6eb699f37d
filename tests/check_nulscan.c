/*
 * check_nulscan: NUL bytes in request heads (proxy/nulscan.c). The
 * scanner watches a client bufferevent's input: from the start of a
 * request to the end of its head (an empty line, CRLF or bare LF), and
 * again from nulscan_next() for the next request. Here the client side is
 * a real bufferevent pair: each write on one end is one read on the other
 * (the input nulscan watches), and draining that input stands for evhttp
 * consuming a request. No event loop runs: a pair moves the bytes at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/base/runtime.h"
#include "proxy/front/nulscan.h"
#include "tests/check_main.h"

/* A literal with its length, NULs inside counted (sizeof, less the
 * terminating one). */
#define LIT(s)		(s), sizeof(s) - 1

#define CONNS		4

static struct event_base	*base;
static const struct nulscan_limits lim = { 10000, 60000, 0, 0, NULL };
static struct bufferevent	*pair[CONNS][2];	/* [i][1] is watched */
static struct nulscan		 scans[CONNS];		/* by these */

/* A base and CONNS pairs, the read end of each watched (in each test's
 * process). */
static void
setup(void)
{
	int	 i;

	ck_assert_ptr_nonnull(base = event_base_new());
	sluice_base = base;		/* the deadlines' timers */
	for (i = 0; i < CONNS; i++) {
		ck_assert_int_eq(bufferevent_pair_new(base, 0, pair[i]), 0);
		ck_assert_int_eq(bufferevent_enable(pair[i][1], EV_READ), 0);
		ck_assert_int_eq(nulscan_attach(&scans[i], pair[i][1], &lim),
		    0);
	}
}

/* Free the table, the pairs and the base. */
static void
teardown(void)
{
	int	 i;

	for (i = 0; i < CONNS; i++)
		nulscan_forget(&scans[i]);
	nulscan_free();
	for (i = 0; i < CONNS; i++) {
		bufferevent_free(pair[i][0]);
		bufferevent_free(pair[i][1]);
	}
	event_base_free(base);
}

/* The watched end of connection i. */
static struct bufferevent *
conn(int i)
{
	return pair[i][1];
}

/* One read of len bytes on connection i: they arrive in its input. */
static void
feed(int i, const void *p, size_t len)
{
	struct evbuffer	*in = bufferevent_get_input(conn(i));
	size_t		 before = evbuffer_get_length(in);

	ck_assert_int_eq(bufferevent_write(pair[i][0], p, len), 0);
	ck_assert_uint_eq(evbuffer_get_length(in), before + len);
}

/* The same, one byte per read. */
static void
feed_bytes(int i, const char *p, size_t len)
{
	size_t	 k;

	for (k = 0; k < len; k++)
		feed(i, p + k, 1);
}

/* evhttp consumed len bytes of connection i's input (a whole request). */
static void
consume(int i, size_t len)
{
	ck_assert_int_eq(evbuffer_drain(bufferevent_get_input(conn(i)), len),
	    0);
}

/* A NUL inside a header value is found. */
START_TEST(test_head_nul)
{
	feed(0, LIT("GET / HTTP/1.1\r\nHost: a\r\nX-Y: a\0b\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
}
END_TEST

/* A NUL in the request line is found too. */
START_TEST(test_request_line_nul)
{
	feed(0, LIT("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
}
END_TEST

/* A head without a NUL: nothing found. */
START_TEST(test_clean_head)
{
	feed(0, LIT("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* A NUL in the body, in the same read as the head: not a head's. */
START_TEST(test_body_nul)
{
	feed(0, LIT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "\r\nab\0cd"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* A NUL in the body, in a later read. */
START_TEST(test_body_nul_later)
{
	feed(0, LIT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "\r\n"));
	feed(0, LIT("ab\0cd"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* A head over two reads: the NUL in the second is found; one in the
 * first is still found after the second. */
START_TEST(test_split_reads)
{
	feed(0, LIT("GET / HTTP/1.1\r\nX-Y: a"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	feed(0, LIT("\0b\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);

	feed(1, LIT("GET / HTTP/1.1\r\nX-Y: a\0"));
	ck_assert_int_eq(nulscan_found(&scans[1]), 1);
	feed(1, LIT("b\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[1]), 1);
}
END_TEST

/* The empty line that ends the head split across reads (CR LF CR | LF):
 * the body's NUL after it is not a head's; a NUL right after the first
 * CR LF is. */
START_TEST(test_end_split)
{
	feed(0, LIT("GET / HTTP/1.1\r\nHost: a\r\n\r"));
	feed(0, LIT("\n\0body"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);

	feed(1, LIT("GET / HTTP/1.1\r\nHost: a\r\n"));
	feed(1, LIT("\0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[1]), 1);
}
END_TEST

/* One byte per read, a NUL in the head and one in a body. */
START_TEST(test_byte_reads)
{
	feed_bytes(0, LIT("GET / HTTP/1.1\r\nX: \0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
	feed_bytes(1, LIT("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n\0\0"));
	ck_assert_int_eq(nulscan_found(&scans[1]), 0);
}
END_TEST

/* Bare LF lines end the head as CRLF ones do, and so does LF CR LF. */
START_TEST(test_lf_lines)
{
	feed(0, LIT("GET / HTTP/1.1\nHost: a\n\n\0"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	feed(1, LIT("GET / HTTP/1.1\nHost: a\n\r\n\0"));
	ck_assert_int_eq(nulscan_found(&scans[1]), 0);
	feed(2, LIT("GET / HTTP/1.1\nHost: a\nX: \0\n\n"));
	ck_assert_int_eq(nulscan_found(&scans[2]), 1);
}
END_TEST

/* Two requests in one read, the NUL in the second's head: not seen for
 * the first; seen once the first is consumed and nulscan_next rescans
 * what is buffered. */
START_TEST(test_pipelined_second)
{
	static const char	 first[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char	 both[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				    "GET /2 HTTP/1.1\r\nX: \0\r\n\r\n";

	feed(0, both, sizeof(both) - 1);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	consume(0, sizeof(first) - 1);
	nulscan_next(&scans[0]);
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
}
END_TEST

/* Two requests in one read, the NUL in the first's head: found, then
 * cleared for the clean second one. */
START_TEST(test_pipelined_first)
{
	static const char	 first[] = "GET /1 HTTP/1.1\r\nX: \0\r\n\r\n";
	static const char	 both[] = "GET /1 HTTP/1.1\r\nX: \0\r\n\r\n"
				    "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";

	feed(0, both, sizeof(both) - 1);
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
	consume(0, sizeof(first) - 1);
	nulscan_next(&scans[0]);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* A pipelined request after one whose body holds a NUL: once the first
 * request (head and body) is consumed, the second's clean head is clean. */
START_TEST(test_pipelined_after_body)
{
	static const char	 first[] = "POST /1 HTTP/1.1\r\n"
				    "Content-Length: 3\r\n\r\na\0b";
	static const char	 both[] = "POST /1 HTTP/1.1\r\n"
				    "Content-Length: 3\r\n\r\na\0b"
				    "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";

	feed(0, both, sizeof(both) - 1);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	consume(0, sizeof(first) - 1);
	nulscan_next(&scans[0]);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* nulscan_next with nothing buffered: the next head is scanned as it
 * arrives. */
START_TEST(test_next_then_arrives)
{
	static const char	 req[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";

	feed(0, req, sizeof(req) - 1);
	consume(0, sizeof(req) - 1);
	nulscan_next(&scans[0]);
	feed(0, LIT("GET /2 HTTP/1.1\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	feed(0, LIT("X: \0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
}
END_TEST

/* Connections are apart: a NUL on one marks no other. */
START_TEST(test_connections_apart)
{
	int	 i;

	for (i = 1; i < CONNS; i++)
		feed(i, LIT("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
	feed(0, LIT("GET / HTTP/1.1\r\nX: \0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
	for (i = 1; i < CONNS; i++)
		ck_assert_msg(nulscan_found(&scans[i]) == 0, "connection %d",
		    i);
}
END_TEST

/* A forgotten connection reports nothing, bytes arriving on it after are
 * ignored, and a scanner never attached reports nothing. */
START_TEST(test_forget)
{
	struct nulscan	none;

	feed(0, LIT("GET / HTTP/1.1\r\nX: \0"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
	nulscan_forget(&scans[0]);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	feed(0, LIT("\0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	nulscan_next(&scans[0]);		/* no state: nothing to do */
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);

	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(nulscan_found(&none), 0);
	nulscan_next(&none);
	nulscan_dispatched(&none);
	nulscan_forget(&none);
	ck_assert_int_eq(nulscan_found(&none), 0);
}
END_TEST

/* A scanner forgotten and attached again starts over. */
START_TEST(test_reattach)
{
	feed(0, LIT("GET / HTTP/1.1\r\nX: \0\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 1);
	consume(0, evbuffer_get_length(bufferevent_get_input(conn(0))));
	nulscan_forget(&scans[0]);
	ck_assert_int_eq(nulscan_attach(&scans[0], conn(0), &lim), 0);
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
	feed(0, LIT("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
	ck_assert_int_eq(nulscan_found(&scans[0]), 0);
}
END_TEST

/* The nulscan suite. */
/* A request line and whether its version passes. */
struct version_case {
	const char	*line;
	int		 ok;
};

static const struct version_case version_cases[] = {
	{ "GET / HTTP/1.1\r\n", 1 },
	{ "GET / HTTP/1.0\n", 1 },
	{ "GET / HTTP/1.9\r\n", 1 },		/* read as 1.1 later */
	{ "GET / HTTP/2.0\r\n", 1 },		/* grammar ok: 505 later */
	{ "GET / HTTP/1.11\r\n", 0 },		/* evhttp: "HTTP/1.11 400" */
	{ "GET / HTTP/1.921\r\n", 0 },		/* evhttp: "HTTP/1.-103" */
	{ "GET / HTTP/01.1\r\n", 0 },
	{ "GET / HTTP/1.\r\n", 0 },
	{ "GET / HTTP/1.1 \r\n", 0 },
	{ "GET / http/1.1\r\n", 0 },
	{ "GET /\r\n", 0 },			/* HTTP/0.9 */
	{ "\r\n", 0 },
	{ "GET / HTTP/1.1\r\r\n", 0 },
};

/* Write len bytes to connection i, n at a time; what its input holds. */
static size_t
feed_by(int i, const char *p, size_t len, size_t n)
{
	size_t	 k;

	for (k = 0; k < len; k += n)
		ck_assert_int_eq(bufferevent_write(pair[i][0], p + k,
		    len - k < n ? len - k : n), 0);
	return evbuffer_get_length(bufferevent_get_input(conn(i)));
}

/*
 * The request line's version must be HTTP/DIGIT.DIGIT: else the input is
 * thrown away and nothing more is kept (a 400 goes to a socket; a pair
 * has none), in one read or a byte at a time.
 */
START_TEST(test_bad_version)
{
	const struct version_case	*v = &version_cases[_i];
	char				 req[128];
	size_t				 len;

	len = (size_t)snprintf(req, sizeof(req), "%sHost: a\r\n\r\n",
	    v->line);
	ck_assert_msg(feed_by(0, req, len, len) == (v->ok ? len : 0),
	    "%s: %s", v->line, v->ok ? "refused" : "passed");
	ck_assert_msg(feed_by(1, req, len, 1) == (v->ok ? len : 0),
	    "%s, a byte at a time: %s", v->line, v->ok ? "refused" :
	    "passed");
}
END_TEST

Suite *
check_suite(void)
{
	Suite	*s = suite_create("nulscan");
	TCase	*tc = tcase_create("scan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_head_nul);
	tcase_add_test(tc, test_request_line_nul);
	tcase_add_test(tc, test_clean_head);
	tcase_add_test(tc, test_body_nul);
	tcase_add_test(tc, test_body_nul_later);
	tcase_add_test(tc, test_split_reads);
	tcase_add_test(tc, test_end_split);
	tcase_add_test(tc, test_byte_reads);
	tcase_add_test(tc, test_lf_lines);
	tcase_add_test(tc, test_pipelined_second);
	tcase_add_test(tc, test_pipelined_first);
	tcase_add_test(tc, test_pipelined_after_body);
	tcase_add_test(tc, test_next_then_arrives);
	tcase_add_test(tc, test_connections_apart);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_reattach);
	tcase_add_loop_test(tc, test_bad_version, 0,
	    sizeof(version_cases) / sizeof(version_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}
