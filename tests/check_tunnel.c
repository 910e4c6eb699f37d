/*
 * check_tunnel: WebSocket and other Upgrade tunnels. Integration tests:
 * each runs the real sluice in front of the test origin, whose
 * /ws mode answers a WebSocket handshake with 101 and then echoes every
 * byte it receives, and checks what a user of a tunnel would: the
 * handshake passes through, bytes come back exact with backpressure, an
 * idle tunnel closes after tunnel_timeout, a close by either side
 * delivers what was sent, and tunnels drain on backend removal and on
 * shutdown like any exchange in flight. h2c upgrades and CONNECT are
 * refused. Every test prints its figures on stdout.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_tunnel. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define IO_MS		ITEST_IO_TIMEOUT_MS
#define HOST		"Host: test.local\r\n"
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="	/* RFC 6455 1.3 */
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="	/* its answer */
#define WS_LOG		"\"GET /ws HTTP/1.1\" 101 "	/* its log line */
#define WAIT_MS		5000	/* bound of a close, a state change */
#define EXIT_MS		10000	/* bound of a sluice exit we wait for */
#define POLL_MS		10	/* step of a polled wait */
#define MARGIN		0.5	/* s an event may come after its moment */
#define EXIT_MARGIN	1.0	/* s an exit may come after its moment */
#define EARLY		0.02	/* s it may come before (clock steps) */
#define MIB		(1024 * 1024)
#define SLICE		65536	/* largest write of a flow */

#define NTUN		8		/* echo: tunnels at once */
#define FLOW_LEN	(256 * 1024)	/* and what each one echoes */
#define HELLO_LEN	1000		/* server bytes sent with the 101 */
#define PRESS_MAX	(64 * MIB)	/* backpressure: most a client writes */
#define STALL_MS	500		/* no progress this long: stalled */
#define RSS_GROWTH_KB	4096
#define IDLE_S		1.0		/* idle timeout: tunnel_timeout */
#define KEEP_N		8		/* messages that keep it open */
#define KEEP_PACE_MS	300		/* one every so many ms */
#define PUSH_MS		100		/* the origin's pace, one way */
#define ONE_WAY_S	2.5		/* how long that is watched */
#define DRAIN_S		1.0		/* drain on removal: drain_timeout */
#define KEPT_S		1.5		/* a kept server's tunnel: watched */
#define HARD_S		2.0		/* shutdown: shutdown_timeout */
#define CLIENT_CLOSE_S	0.5		/* the client closes then */

#define TUN_A		1		/* origin 0 as server "a" */
#define TUN_B		2		/* origin 1 as server "b" */

/* One test's world: the itest processes and the admin port. */
struct tun {
	struct itest	 t;
	int		 admin;		/* admin listener port */
	long long	 gen;		/* the generation sluice serves */
};

/* One tunnel's transfer: data goes out, the same must come back. */
struct tun_flow {
	struct itest_conn	*c;
	unsigned char		*data;
	size_t			 len;
	size_t			 sent;
	size_t			 got;
	int			 eof;	/* the tunnel closed (reset too) */
	int			 reset;
};

/* What a flow runs until. */
enum tun_until {
	TUN_UNTIL_BACK = 0,	/* every byte came back */
	TUN_UNTIL_SENT,		/* every byte went out */
};

static void	tun_config(struct tun *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* --- the world and its configuration ----------------------------------- */

/* Make the world: origin a, origin b when two, the ports. */
static void
tun_init(struct tun *d, int two)
{
	memset(d, 0, sizeof(*d));
	itest_init(&d->t);
	itest_origin_start(&d->t, 0, "a");
	if (two)
		itest_origin_start(&d->t, 1, "b");
	d->admin = itest_free_port();
	itest_sluice_port(&d->t);
}

/* Write the config: global lines, [admin], then the formatted rest. */
static void
tun_config(struct tun *d, const char *global, const char *fmt, ...)
{
	char	*rest = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	va_end(ap);
	itest_sluice_config(&d->t, global,
	    "[admin]\nlisten = 127.0.0.1:%d\n\n%s", d->admin, rest);
	free(rest);
}

/* Config: listener web -> app, whose servers are a and/or b (TUN_A,
 * TUN_B) followed by the extra upstream lines. */
static void
tun_conf_app(struct tun *d, const char *global, int servers,
    const char *extra)
{
	char	 a[80] = "", b[80] = "";

	if (servers & TUN_A)
		snprintf(a, sizeof(a), "server = 127.0.0.1:%d name=a\n",
		    d->t.origin[0].port);
	if (servers & TUN_B)
		snprintf(b, sizeof(b), "server = 127.0.0.1:%d name=b\n",
		    d->t.origin[1].port);
	tun_config(d, global, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s%s%s", d->t.sluice.port, a,
	    b, extra != NULL ? extra : "");
}

/* Start sluice on the config written; it serves generation 1. */
static void
tun_launch(struct tun *d)
{
	itest_sluice_launch(&d->t);
	d->gen = 1;
}

/* The usual world: origin a behind sluice, with the extra upstream lines
 * and the global ones (NULL: the harness's). */
static void
tun_start(struct tun *d, const char *global, const char *extra)
{
	tun_init(d, 0);
	tun_conf_app(d, global, TUN_A, extra);
	tun_launch(d);
}

/* POST /reload: assert 200 and the next generation. */
static void
tun_reload(struct tun *d)
{
	d->gen = itest_admin_reload(d->admin, NULL, d->gen);
}

/* Sleep until the itest_now() time when: the scenario's pace. */
static void
tun_sleep_until(double when)
{
	double	 left = when - itest_now();

	if (left > 0)
		poll(NULL, 0, (int)(left * 1000) + 1);
}

/* --- handshake --------------------------------------------------------- */

/*
 * Connect and send the WebSocket handshake for path with earlylen bytes
 * of early after it, in one write; *r gets the response head. Fails the
 * test unless a 101 arrives.
 */
static void
tun_open_resp(struct tun *d, struct itest_conn *c, const char *path,
    const void *early, size_t earlylen, struct itest_resp *r)
{
	unsigned char	*buf;
	int		 n;

	buf = malloc(512 + earlylen);
	ck_assert(buf != NULL);
	n = snprintf((char *)buf, 512, "GET %s HTTP/1.1\r\n" HOST
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: " WS_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", path);
	ck_assert(n > 0 && n < 512);
	if (earlylen > 0)
		memcpy(buf + n, early, earlylen);
	itest_connect(c, d->t.sluice.port, IO_MS);
	ck_assert_msg(itest_send(c, buf, (size_t)n + earlylen, IO_MS) == 0,
	    "cannot send the handshake for %s", path);
	free(buf);
	itest_read_head(c, r, IO_MS);
	ck_assert_msg(r->status == 101, "handshake for %s: status %d (eof "
	    "%d, reset %d, timeout %d), want 101:\n%s", path, r->status,
	    r->eof, r->reset, r->timeout, r->head != NULL ? r->head : "");
}

/* Open a tunnel on path; the 101 head is checked by status only. */
static void
tun_open(struct tun *d, struct itest_conn *c, const char *path)
{
	struct itest_resp	 r;

	tun_open_resp(d, c, path, NULL, 0, &r);
	itest_resp_free(&r);
}

/* Assert the 101 of a WebSocket handshake as a client checks it. */
static void
tun_assert_handshake(const struct itest_resp *r)
{
	const char	*u = itest_resp_header(r, "Upgrade");
	const char	*conn = itest_resp_header(r, "Connection");
	const char	*acc = itest_resp_header(r, "Sec-WebSocket-Accept");

	ck_assert_msg(u != NULL && strcasecmp(u, "websocket") == 0 &&
	    itest_resp_header_count(r, "Upgrade") == 1, "101 without "
	    "\"Upgrade: websocket\":\n%s", r->head);
	ck_assert_msg(conn != NULL && strcasestr(conn, "upgrade") != NULL &&
	    itest_resp_header_count(r, "Connection") == 1, "101 without "
	    "\"Connection: upgrade\":\n%s", r->head);
	ck_assert_msg(acc != NULL && strcmp(acc, WS_ACCEPT) == 0, "101 "
	    "without the origin's Sec-WebSocket-Accept:\n%s", r->head);
	ck_assert_msg(itest_resp_header(r, "Transfer-Encoding") == NULL &&
	    itest_resp_header(r, "Content-Length") == NULL, "101 with "
	    "body framing:\n%s", r->head);
}

/* --- bytes through a tunnel -------------------------------------------- */

/* Set up a flow of len pseudo-random bytes (from seed) on c. */
static void
tun_flow_init(struct tun_flow *f, struct itest_conn *c, size_t len,
    uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->len = len;
	f->data = malloc(len > 0 ? len : 1);
	ck_assert(f->data != NULL);
	itest_random_fill(f->data, len, seed);
}

/* Free a flow's data. */
static void
tun_flow_free(struct tun_flow *f)
{
	free(f->data);
	f->data = NULL;
}

/* Write the next slice of f; a full socket buffer is not an error. */
static void
tun_flow_send(struct tun_flow *f)
{
	size_t	 n = f->len - f->sent < SLICE ? f->len - f->sent : SLICE;
	ssize_t	 w;

	if (n == 0)
		return;
	w = send(f->c->fd, f->data + f->sent, n, MSG_NOSIGNAL);
	if (w > 0)
		f->sent += (size_t)w;
	else if (w == -1 && errno != EAGAIN && errno != EINTR)
		f->eof = 1;
}

/* Bytes waiting: those the harness buffered first, then the socket's. */
static ssize_t
tun_recv(struct itest_conn *c, unsigned char *buf, size_t len)
{
	if (c->len > 0)
		return itest_read_some(c, buf, len, 0);
	return recv(c->fd, buf, len, 0);
}

/* Read what came back and check it against what was sent (once all of
 * it is back, only the close may follow). */
static void
tun_flow_recv(struct tun_flow *f)
{
	static unsigned char	 buf[SLICE];
	size_t			 want = f->len - f->got;
	ssize_t			 n;

	if (want == 0 || want > sizeof(buf))
		want = want == 0 ? 1 : sizeof(buf);
	n = tun_recv(f->c, buf, want);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		f->eof = 1;
		f->reset = n == -1 && errno == ECONNRESET;
		return;
	}
	ck_assert_msg(f->got + (size_t)n <= f->len, "more bytes came back "
	    "than were sent");
	ck_assert_msg(memcmp(buf, f->data + f->got, (size_t)n) == 0,
	    "a byte came back wrong between offsets %zu and %zu", f->got,
	    f->got + (size_t)n);
	f->got += (size_t)n;
}

/* 1 when f has gone as far as until asks. */
static int
tun_flow_done(const struct tun_flow *f, enum tun_until until)
{
	return until == TUN_UNTIL_SENT ? f->sent == f->len : f->got == f->len;
}

/* Poll the n flows once (writes where wanted, reads always). */
static void
tun_flows_poll(struct tun_flow *f, int n, enum tun_until until,
    double deadline)
{
	struct pollfd	 pfd[NTUN];
	int		 i, buffered = 0, ms;

	for (i = 0; i < n; i++) {
		pfd[i].fd = f[i].c->fd;
		pfd[i].events = POLLIN | (f[i].sent < f[i].len ? POLLOUT : 0);
		pfd[i].revents = 0;
		buffered |= f[i].c->len > 0;
	}
	ms = buffered ? 0 : (int)((deadline - itest_now()) * 1000) + 1;
	if (poll(pfd, (nfds_t)n, ms < 0 ? 0 : ms) == -1 && errno != EINTR)
		ck_abort_msg("poll: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (pfd[i].revents & POLLOUT)
			tun_flow_send(&f[i]);
		if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
		    f[i].c->len > 0)
			tun_flow_recv(&f[i]);
		ck_assert_msg(!f[i].eof || tun_flow_done(&f[i], until),
		    "tunnel %d closed (%s) with %zu of %zu bytes sent, %zu "
		    "back", i, f[i].reset ? "reset" : "EOF", f[i].sent,
		    f[i].len, f[i].got);
	}
}

/*
 * Run n flows at once, writing and reading each as its socket allows,
 * until every one got as far as until says, within timeout_ms. Fails the
 * test on a close, a timeout or a byte that differs.
 */
static void
tun_flows_run(struct tun_flow *f, int n, enum tun_until until,
    int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 i, done;

	ck_assert(n <= NTUN);
	for (;;) {
		for (i = 0, done = 1; i < n; i++)
			done &= tun_flow_done(&f[i], until);
		if (done)
			return;
		for (i = 0; i < n && itest_now() >= deadline; i++)
			ck_assert_msg(tun_flow_done(&f[i], until), "tunnel %d: "
			    "%zu of %zu bytes sent, %zu back within %d ms", i,
			    f[i].sent, f[i].len, f[i].got, timeout_ms);
		tun_flows_poll(f, n, until, deadline);
	}
}

/* Echo len bytes (from seed) through the tunnel on c; fails the test
 * unless all of them come back exact within IO_MS. */
static void
tun_echo(struct itest_conn *c, size_t len, uint64_t seed)
{
	struct tun_flow	 f;

	tun_flow_init(&f, c, len, seed);
	tun_flows_run(&f, 1, TUN_UNTIL_BACK, IO_MS);
	tun_flow_free(&f);
}

/* Read exactly len bytes into buf within timeout_ms; the count read. */
static size_t
tun_read_exact(struct itest_conn *c, void *buf, size_t len, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	size_t	 got = 0;
	ssize_t	 n;
	int	 ms;

	while (got < len) {
		ms = (int)((deadline - itest_now()) * 1000);
		if (ms <= 0)
			break;
		n = itest_read_some(c, (unsigned char *)buf + got, len - got,
		    ms);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * Read what arrives on c for secs seconds, checking it is the origin's
 * pattern from offset *got on. Returns the itest_now() time the tunnel
 * closed, or 0 when it stayed open.
 */
static double
tun_read_for(struct itest_conn *c, double secs, size_t *got)
{
	static unsigned char	 buf[4096], want[4096];
	double			 end = itest_now() + secs;
	struct pollfd		 pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t			 n;
	int			 ms;

	while ((ms = (int)((end - itest_now()) * 1000)) > 0) {
		if (c->len == 0 && poll(&pfd, 1, ms) != 1)
			continue;
		n = tun_recv(c, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return itest_now();
		itest_pattern_fill(want, *got, (size_t)n);
		ck_assert_msg(memcmp(buf, want, (size_t)n) == 0, "pushed "
		    "bytes differ near offset %zu", *got);
		*got += (size_t)n;
	}
	return 0;
}

/* Wait for the tunnel on c to close; its itest_now() time. Fails the
 * test when bytes arrive instead or the bound passes. */
static double
tun_wait_closed(struct itest_conn *c, int timeout_ms, const char *what)
{
	int	 rc = itest_wait_closed(c, timeout_ms);

	ck_assert_msg(rc == 1, "%s: the tunnel %s", what, rc == 0 ?
	    "got bytes instead of closing" : "stayed open past the bound");
	return itest_now();
}

/* Read and check the rest of f until the tunnel closes (bounded): what a
 * client does after its half of the close. */
static void
tun_flow_drain(struct tun_flow *f, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;

	while (!f->eof) {
		ck_assert_msg(itest_now() < deadline, "the tunnel stayed open "
		    "%d ms after the client's close (%zu bytes back)",
		    timeout_ms, f->got);
		tun_flows_poll(f, 1, TUN_UNTIL_SENT, deadline);
	}
}

/* --- logs, /status, /metrics ------------------------------------------- */

/* Wait until the access log holds want lines with needle; the
 * termination of the first in term. Fails the test past WAIT_MS. */
static void
tun_log_wait(struct tun *d, const char *needle, int want, char *term,
    size_t len)
{
	int	 n = itest_wait_lines_with(d->t.access_log, needle, NULL, want,
	    WAIT_MS);

	ck_assert_msg(n >= want, "access log: %d line(s) with %s within %d "
	    "ms, want %d:\n%s", n, needle, WAIT_MS, want,
	    itest_file_tail(d->t.access_log));
	itest_lines_term(d->t.access_log, needle, NULL, term, len);
}

/*
 * Wait until origin i has logged n tunnel ends ("WSEOF - - N" for a
 * clean close, "WSERR - - N" for a reset); the last one's kind goes to
 * tag and its byte count is returned. Fails the test past WAIT_MS.
 */
static unsigned long long
tun_origin_end(struct tun *d, int i, int n, char *tag, size_t len)
{
	double			 deadline = itest_now() + WAIT_MS / 1e3;
	char			*log, *p, *last;
	unsigned long long	 bytes = 0;
	int			 got;

	for (;;) {
		log = itest_read_file(d->t.origin_log[i], NULL);
		for (got = 0, last = NULL, p = log; (p = strstr(p, "\nWS")) !=
		    NULL; p++, got++)
			last = p + 1;
		if (got >= n && last != NULL)
			break;
		free(log);
		ck_assert_msg(itest_now() < deadline, "origin %d logged %d "
		    "tunnel end(s) within %d ms, want %d", i, got, WAIT_MS, n);
		poll(NULL, 0, POLL_MS);
	}
	snprintf(tag, len, "%.*s", (int)strcspn(last, " "), last);
	sscanf(last, "%*s - - %llu", &bytes);
	free(log);
	return bytes;
}

/* Wait until server name's in_flight is want (-1: the server is gone);
 * fails the test past WAIT_MS. */
static void
tun_wait_inflight(struct tun *d, const char *name, long long want)
{
	long long	 n;

	if (want == -1) {
		ck_assert_msg(itest_wait_server_gone(d->admin, name, WAIT_MS),
		    "server %s still in /status after %d ms", name, WAIT_MS);
		return;
	}
	ck_assert_msg(itest_wait_status_int(d->admin, name, "in_flight", want,
	    WAIT_MS, &n), "server %s: in_flight %lld after %d ms, want %lld",
	    name, n, WAIT_MS, want);
}

/* The value of an unlabelled gauge in /metrics, -1 when absent. */
static long long
tun_metric(struct tun *d, const char *name)
{
	struct itest_resp	 r;
	char			 pat[96];
	const char		*p;
	long long		 v = -1;

	itest_get(d->admin, "/metrics", &r);
	ck_assert_msg(r.status == 200 && r.complete, "GET /metrics: %d",
	    r.status);
	snprintf(pat, sizeof(pat), "\n%s ", name);
	if ((p = strstr((const char *)r.body, pat)) != NULL)
		v = strtoll(p + strlen(pat), NULL, 10);
	itest_resp_free(&r);
	return v;
}

/* --- echo -------------------------------------------------------------- */

/* The 101 passes through and the early bytes come back. */
static void
tun_echo_handshake(struct tun *d, struct itest_conn *c)
{
	static const char	 early[] = "early bytes, in the handshake's "
				    "own write";
	char			 back[sizeof(early)];
	struct itest_resp	 r;
	size_t			 n;

	tun_open_resp(d, c, "/ws", early, sizeof(early) - 1, &r);
	printf("ws echo: 101 head:\n%s", r.head);
	tun_assert_handshake(&r);
	itest_resp_free(&r);
	n = tun_read_exact(c, back, sizeof(early) - 1, IO_MS);
	printf("ws echo: %zu of %zu early bytes back\n", n, sizeof(early) - 1);
	ck_assert_msg(n == sizeof(early) - 1 && memcmp(back, early, n) == 0,
	    "early bytes: %zu of %zu came back, or differ", n,
	    sizeof(early) - 1);
}

/* Bytes the server sent in the same write as its 101 reach the client. */
static void
tun_echo_hello(struct tun *d)
{
	struct itest_conn	 c;
	unsigned char		 got[HELLO_LEN], want[HELLO_LEN];
	char			 path[32];
	size_t			 n;

	snprintf(path, sizeof(path), "/ws?hello=%d", HELLO_LEN);
	tun_open(d, &c, path);
	n = tun_read_exact(&c, got, sizeof(got), IO_MS);
	itest_pattern_fill(want, 0, sizeof(want));
	printf("ws echo: %zu of %d bytes the server sent with its 101 "
	    "arrived\n", n, HELLO_LEN);
	ck_assert_msg(n == sizeof(got) && memcmp(got, want, n) == 0,
	    "server bytes after the 101: %zu of %d, or they differ", n,
	    HELLO_LEN);
	tun_echo(&c, 1000, 3);
	itest_close(&c);
}

/*
 * What the server receives: an upgrade request to /echo, which answers
 * 200 with the head it got, shows the upgrade headers forwarded; the
 * declined upgrade leaves an HTTP/1.1 connection that serves the next
 * request.
 */
static void
tun_echo_declined(struct tun *d)
{
	static const char *const	 want[] = { "Connection: upgrade\r\n",
					    "Upgrade: websocket\r\n",
					    "Sec-WebSocket-Key: " WS_KEY "\r\n",
					    "Sec-WebSocket-Version: 13\r\n" };
	struct itest_conn		 c;
	struct itest_resp		 r;
	size_t				 i;

	itest_connect(&c, d->t.sluice.port, IO_MS);
	itest_send_str(&c, "GET /echo HTTP/1.1\r\n" HOST "Connection: "
	    "keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n"
	    "\r\n");
	itest_read_response(&c, &r, 0, IO_MS);
	printf("ws echo: an upgrade the server declines: %d, the server "
	    "got:\n%s", r.status, r.body != NULL ? (char *)r.body : "");
	ck_assert_msg(r.status == 200 && r.complete, "declined upgrade: "
	    "status %d", r.status);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strcasestr((char *)r.body, want[i]) != NULL,
		    "the server did not get %.*s", (int)strlen(want[i]) - 2,
		    want[i]);
	itest_resp_free(&r);
	itest_send_str(&c, "GET /echo HTTP/1.1\r\n" HOST "\r\n");
	itest_read_response(&c, &r, 0, IO_MS);
	ck_assert_msg(r.status == 200 && r.complete, "the request after a "
	    "declined upgrade: status %d", r.status);
	itest_resp_free(&r);
	itest_close(&c);
}

/* NTUN tunnels at once; they count as in flight. The time it took. */
static double
tun_echo_many(struct tun *d, long long *st, long long *sa, long long *m)
{
	struct itest_conn	 c[NTUN];
	struct tun_flow		 f[NTUN];
	double			 t0;
	int			 i;

	for (i = 0; i < NTUN; i++) {
		tun_open(d, &c[i], "/ws");
		tun_flow_init(&f[i], &c[i], FLOW_LEN, 100 + (uint64_t)i);
	}
	*st = itest_admin_status_int(d->admin, NULL, "in_flight");
	*sa = itest_admin_status_int(d->admin, "a", "in_flight");
	*m = tun_metric(d, "sluice_in_flight");
	t0 = itest_now();
	tun_flows_run(f, NTUN, TUN_UNTIL_BACK, 2 * IO_MS);
	t0 = itest_now() - t0;
	for (i = 0; i < NTUN; i++) {
		tun_flow_free(&f[i]);
		itest_close(&c[i]);
	}
	return t0;
}

/* A WebSocket through sluice: handshake, early bytes, 1 MiB, several. */
START_TEST(test_ws_echo)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 term[32];
	double			 big, many;
	long long		 st, sa, m;

	tun_start(&d, NULL, NULL);
	tun_echo_handshake(&d, &c);
	big = itest_now();
	tun_echo(&c, MIB, 1);
	big = itest_now() - big;
	itest_close(&c);
	tun_echo_hello(&d);
	tun_echo_declined(&d);
	many = tun_echo_many(&d, &st, &sa, &m);
	tun_wait_inflight(&d, "a", 0);
	tun_log_wait(&d, "\" 101 ", NTUN + 2, term, sizeof(term));
	printf("ws echo: 1 MiB echoed byte-exact in %.3f s; %d tunnels at "
	    "once, %d KiB each, in %.3f s; in flight meanwhile: /status %lld "
	    "(server a %lld), sluice_in_flight %lld; %d of %d access-log "
	    "lines not ok\n", big, NTUN, FLOW_LEN / 1024, many, st, sa, m,
	    itest_lines_not_ok(d.t.access_log, "\" 101 ", NULL, 0), NTUN + 2);
	fflush(stdout);
	ck_assert_msg(st == NTUN && sa == NTUN && m == NTUN, "%d tunnels "
	    "open: /status in_flight %lld, server a %lld, sluice_in_flight "
	    "%lld", NTUN, st, sa, m);
	ck_assert_msg(itest_lines_not_ok(d.t.access_log, "\" 101 ", NULL, 0) ==
	    0, "a tunnel closed by its client is not logged ok:\n%s",
	    itest_file_tail(d.t.access_log));
	itest_finish(&d.t);
}
END_TEST

/* --- backpressure ------------------------------------------------------ */

/*
 * Write f without reading until all of it is out or no byte could be
 * written for STALL_MS; *peak gets the highest VmRSS of pid seen. 1 when
 * the writes stalled.
 */
static int
tun_fill(struct tun_flow *f, pid_t pid, long *peak)
{
	struct pollfd	 pfd = { .fd = f->c->fd, .events = POLLOUT };
	long		 rss;
	int		 r;

	while (f->sent < f->len) {
		r = poll(&pfd, 1, STALL_MS);
		if ((rss = itest_rss_kb(pid)) > *peak)
			*peak = rss;
		if (r == 0)
			return 1;
		ck_assert_msg(r == 1 && !(pfd.revents & (POLLERR | POLLHUP)),
		    "the tunnel failed after %zu bytes written", f->sent);
		tun_flow_send(f);
		ck_assert_msg(!f->eof, "the tunnel closed after %zu bytes "
		    "written", f->sent);
	}
	return 0;
}

/* A client that stops reading: sluice pauses, its memory stays flat. */
START_TEST(test_backpressure)
{
	struct tun		 d;
	struct itest_conn	 c;
	struct tun_flow		 f;
	long			 base, peak = 0, after;
	double			 took;
	int			 stalled;

	tun_init(&d, 0);
	/* Under ASan freed memory sits in quarantine and counts as RSS. */
	d.t.asan_extra = "quarantine_size_mb=1";
	tun_conf_app(&d, NULL, TUN_A, NULL);
	tun_launch(&d);
	tun_open(&d, &c, "/ws");
	tun_echo(&c, MIB, 5);			/* warm up */
	base = itest_rss_kb(d.t.sluice.pid);
	tun_flow_init(&f, &c, PRESS_MAX, 6);
	stalled = tun_fill(&f, d.t.sluice.pid, &peak);
	printf("backpressure: the client wrote %.1f MiB without reading, "
	    "then %s; sluice RSS %ld KiB before, peak %ld KiB (%+ld KiB)\n",
	    (double)f.sent / MIB, stalled ? "its writes stalled" :
	    "wrote everything", base, peak, peak - base);
	fflush(stdout);
	took = itest_now();
	tun_flows_run(&f, 1, TUN_UNTIL_BACK, 6 * IO_MS);
	took = itest_now() - took;
	after = itest_rss_kb(d.t.sluice.pid);
	printf("backpressure: reading again, all %d MiB came back "
	    "byte-exact in %.2f s; sluice RSS %ld KiB after\n",
	    PRESS_MAX / MIB, took, after);
	fflush(stdout);
	tun_flow_free(&f);
	ck_assert_msg(base > 0 && peak > 0, "no VmRSS for sluice");
	ck_assert_msg(stalled, "a client that does not read wrote %d MiB "
	    "unhindered", PRESS_MAX / MIB);
	ck_assert_msg(peak - base < RSS_GROWTH_KB, "sluice RSS grew by %ld "
	    "KiB while its client did not read", peak - base);
	itest_close(&c);
	itest_finish(&d.t);
}
END_TEST

/* --- idle timeout ------------------------------------------------------ */

/* An idle tunnel closes after tunnel_timeout; traffic keeps it open. */
START_TEST(test_idle_timeout)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 term[32], tag[16];
	unsigned long long	 bytes;
	double			 t0, kept, last, closed;
	int			 i;

	tun_start(&d, NULL, "tunnel_timeout = 1s\n");
	tun_open(&d, &c, "/ws");
	t0 = itest_now();
	for (i = 0; i < KEEP_N; i++) {
		tun_sleep_until(t0 + (i + 1) * KEEP_PACE_MS / 1e3);
		tun_echo(&c, 64, (uint64_t)i);
	}
	last = itest_now();
	kept = last - t0;
	closed = tun_wait_closed(&c, WAIT_MS, "idle") - last;
	itest_close(&c);
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	bytes = tun_origin_end(&d, 0, 1, tag, sizeof(tag));
	printf("idle timeout (tunnel_timeout %.0f s): open %.2f s with 64 "
	    "bytes each way every %d ms; then closed %.3f s after the last "
	    "byte; logged %s; the origin saw %s after %llu bytes\n", IDLE_S,
	    kept, KEEP_PACE_MS, closed, term, tag, bytes);
	fflush(stdout);
	ck_assert_msg(closed >= IDLE_S - EARLY && closed <= IDLE_S + MARGIN,
	    "an idle tunnel closed %.3f s after its last byte, want %.1f s",
	    closed, IDLE_S);
	ck_assert_str_eq(term, "timeout_body");
	ck_assert_msg(strcmp(tag, "WSEOF") == 0 && bytes == KEEP_N * 64,
	    "the origin saw %s after %llu bytes, want WSEOF after %d", tag,
	    bytes, KEEP_N * 64);
	tun_wait_inflight(&d, "a", 0);
	itest_finish(&d.t);
}
END_TEST

/*
 * Traffic one way only (the server pushes, the client listens, as a
 * notification feed does) is traffic: tunnel_timeout is about bytes
 * passing either way (sluice.ini(5)), so the tunnel stays open.
 */
START_TEST(test_idle_one_way)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 path[32];
	size_t			 got = 0;
	double			 t0, cut;

	tun_start(&d, NULL, "tunnel_timeout = 1s\n");
	snprintf(path, sizeof(path), "/ws?push=%d", PUSH_MS);
	tun_open(&d, &c, path);
	t0 = itest_now();
	cut = tun_read_for(&c, ONE_WAY_S, &got);
	printf("one-way traffic (tunnel_timeout %.0f s, a byte from the "
	    "server every %d ms, nothing from the client): %zu bytes, then "
	    "the tunnel %s %.3f s after it opened\n", IDLE_S, PUSH_MS, got,
	    cut == 0 ? "was still open" : "closed", cut == 0 ? ONE_WAY_S :
	    cut - t0);
	fflush(stdout);
	ck_assert_msg(cut == 0, "a tunnel with a byte every %d ms from the "
	    "server was closed after %.3f s (tunnel_timeout %.0f s):\n%s",
	    PUSH_MS, cut - t0, IDLE_S, itest_file_tail(d.t.access_log));
	ck_assert_msg(got >= (size_t)(ONE_WAY_S * 1000 / PUSH_MS / 2),
	    "only %zu pushed bytes in %.1f s", got, ONE_WAY_S);
	itest_close(&c);
	itest_finish(&d.t);
}
END_TEST

/* --- clean close ------------------------------------------------------- */

/* The client closes: the origin gets everything and a clean EOF. */
START_TEST(test_close_client)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 term[32], tag[16];
	unsigned long long	 bytes;

	tun_start(&d, NULL, NULL);
	tun_open(&d, &c, "/ws");
	tun_echo(&c, MIB, 7);
	itest_close(&c);
	bytes = tun_origin_end(&d, 0, 1, tag, sizeof(tag));
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	printf("client close: after 1 MiB echoed the client closed; the "
	    "origin saw %s after %llu bytes; logged %s\n", tag, bytes, term);
	fflush(stdout);
	ck_assert_msg(strcmp(tag, "WSEOF") == 0 && bytes == MIB, "the "
	    "origin saw %s after %llu bytes, want WSEOF after %d", tag,
	    bytes, MIB);
	ck_assert_str_eq(term, "ok");
	tun_wait_inflight(&d, "a", 0);
	itest_finish(&d.t);
}
END_TEST

/*
 * The client sends 1 MiB and closes its side (FIN), then reads what comes
 * back until the tunnel closes: everything it sent must reach the server,
 * which then sees a clean close, though its echo was still on the way.
 */
START_TEST(test_close_client_sending)
{
	struct tun		 d;
	struct itest_conn	 c;
	struct tun_flow		 f;
	char			 term[32], tag[16];
	unsigned long long	 bytes;
	long			 peak = 0;

	tun_start(&d, NULL, NULL);
	tun_open(&d, &c, "/ws");
	tun_flow_init(&f, &c, MIB, 8);
	ck_assert_msg(!tun_fill(&f, d.t.sluice.pid, &peak), "the client "
	    "could not write %d bytes without reading", MIB);
	ck_assert(shutdown(c.fd, SHUT_WR) == 0);
	tun_flow_drain(&f, WAIT_MS);
	bytes = tun_origin_end(&d, 0, 1, tag, sizeof(tag));
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	printf("client close while sending: the client sent 1 MiB then FIN, "
	    "then got %zu bytes back and %s; the origin received %llu of %d "
	    "bytes, then %s; logged %s\n", f.got, f.reset ? "a reset" :
	    "EOF", bytes, MIB, tag, term);
	fflush(stdout);
	tun_flow_free(&f);
	ck_assert_msg(strcmp(tag, "WSEOF") == 0 && bytes == MIB, "the client "
	    "sent %d bytes and closed cleanly; the origin received %llu, "
	    "then %s (want WSEOF, a clean close)", MIB, bytes, tag);
	itest_close(&c);
	itest_finish(&d.t);
}
END_TEST

/* The server closes (after 1 MiB, and right after its 101): the client
 * gets everything, then EOF. */
START_TEST(test_close_server)
{
	struct tun		 d;
	struct itest_conn	 c;
	struct tun_flow		 f;
	char			 path[32], term[2][32];
	double			 t0, closed, closed0;

	tun_start(&d, NULL, NULL);
	snprintf(path, sizeof(path), "/ws?close=%d", MIB);
	tun_open(&d, &c, path);
	tun_flow_init(&f, &c, MIB, 9);
	tun_flows_run(&f, 1, TUN_UNTIL_BACK, IO_MS);
	t0 = itest_now();
	closed = tun_wait_closed(&c, WAIT_MS, "server close") - t0;
	tun_flow_free(&f);
	itest_close(&c);
	tun_open(&d, &c, "/ws?close=0");
	t0 = itest_now();
	closed0 = tun_wait_closed(&c, WAIT_MS, "close after 101") - t0;
	itest_close(&c);
	tun_log_wait(&d, "/ws?close=1048576 HTTP/1.1\" 101 ", 1, term[0],
	    sizeof(term[0]));
	tun_log_wait(&d, "/ws?close=0 HTTP/1.1\" 101 ", 1, term[1],
	    sizeof(term[1]));
	printf("server close: after echoing 1 MiB (all of it back) the "
	    "origin closed: EOF %.3f s after the last byte, logged %s; "
	    "closed right after its 101: EOF %.3f s after it, logged %s\n",
	    closed, term[0], closed0, term[1]);
	fflush(stdout);
	ck_assert_str_eq(term[0], "ok");
	ck_assert_str_eq(term[1], "ok");
	tun_wait_inflight(&d, "a", 0);
	itest_finish(&d.t);
}
END_TEST

/* --- drain on removal -------------------------------------------------- */

/* A reload that keeps the server leaves its tunnel alone past the
 * drain_timeout. */
static void
tun_drain_kept(struct tun *d, struct itest_conn *c, const char *extra)
{
	char	 state[32];
	double	 t0;

	tun_conf_app(d, NULL, TUN_A | TUN_B, extra);
	tun_reload(d);
	t0 = itest_now();
	tun_sleep_until(t0 + KEPT_S);
	tun_echo(c, 65536, 11);
	itest_admin_status_str(d->admin, "a", "state", state, sizeof(state));
	printf("drain: a reload that keeps server a: its tunnel still echoes "
	    "%.1f s later (drain_timeout %.0f s); a is %s with in_flight "
	    "%lld\n", itest_now() - t0, DRAIN_S, state,
	    itest_admin_status_int(d->admin, "a", "in_flight"));
	fflush(stdout);
	ck_assert_str_eq(state, "active");
	ck_assert_int_eq(itest_admin_status_int(d->admin, "a", "in_flight"), 1);
}

/* A reload that removes server a: the tunnel works until drain_timeout,
 * then closes; a new tunnel goes to b. The close time from the reload. */
static double
tun_drain_removed(struct tun *d, struct itest_conn *c, struct itest_conn *c2,
    const char *extra)
{
	struct itest_resp	 r;
	char			 state[32];
	double			 sent, done, cut;

	tun_conf_app(d, NULL, TUN_B, extra);
	sent = itest_now();
	tun_reload(d);
	done = itest_now();
	tun_open_resp(d, c2, "/ws", NULL, 0, &r);
	ck_assert_str_eq(itest_resp_header(&r, "X-Origin"), "b");
	itest_resp_free(&r);
	tun_sleep_until(done + 0.3 * DRAIN_S);
	tun_echo(c, 65536, 12);
	tun_sleep_until(done + 0.7 * DRAIN_S);
	tun_echo(c, 65536, 13);
	itest_admin_status_str(d->admin, "a", "state", state, sizeof(state));
	ck_assert_str_eq(state, "draining");
	cut = tun_wait_closed(c, WAIT_MS, "drain");
	printf("drain: a reload that removes server a: its tunnel echoed at "
	    "+%.1f and +%.1f s, was %s, and closed %.3f s after the reload "
	    "(drain_timeout %.0f s)\n", 0.3 * DRAIN_S, 0.7 * DRAIN_S, state,
	    cut - done, DRAIN_S);
	fflush(stdout);
	ck_assert_msg(cut - sent >= DRAIN_S - EARLY, "closed %.3f s after "
	    "the reload, before its drain_timeout", cut - sent);
	return cut - done;
}

/* Tunnels drain like exchanges when their server leaves the config. */
START_TEST(test_drain_removal)
{
	static const char	 extra[] = "drain_timeout = 1s\n";
	struct tun		 d;
	struct itest_conn	 c, c2;
	char			 term[32];
	double			 cut;

	tun_init(&d, 1);
	tun_conf_app(&d, NULL, TUN_A, extra);
	tun_launch(&d);
	tun_open(&d, &c, "/ws");
	tun_drain_kept(&d, &c, extra);
	cut = tun_drain_removed(&d, &c, &c2, extra);
	itest_close(&c);
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	tun_wait_inflight(&d, "a", -1);
	tun_echo(&c2, 65536, 14);
	printf("drain: logged %s; server a gone from /status; the tunnel to "
	    "b still echoes\n", term);
	fflush(stdout);
	ck_assert_msg(cut <= DRAIN_S + MARGIN, "the removed server's tunnel "
	    "closed %.3f s after the reload, drain_timeout %.0f s", cut,
	    DRAIN_S);
	ck_assert_str_eq(term, "drain_body");
	itest_close(&c2);
	itest_finish(&d.t);
}
END_TEST

/* --- shutdown ---------------------------------------------------------- */

/* SIGTERM, and wait until sluice says it drains; the time of the signal. */
static double
tun_sigterm(struct tun *d)
{
	double	 t0 = itest_now();

	ck_assert_msg(itest_signal_wait(&d->t.sluice, SIGTERM,
	    d->t.error_log, "shutdown: draining", WAIT_MS), "no drain within "
	    "%d ms of SIGTERM:\n%s", WAIT_MS, itest_file_tail(d->t.error_log));
	return t0;
}

/* The tunnel is kept until shutdown_timeout, then ended: killed_body. */
START_TEST(test_shutdown_hard)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 term[32];
	double			 t0, cut, exited;
	int			 st, i;

	tun_start(&d, "shutdown_timeout = 2s\n", NULL);
	tun_open(&d, &c, "/ws");
	t0 = tun_sigterm(&d);
	for (i = 1; i <= 3; i++) {
		tun_sleep_until(t0 + i * HARD_S / 4);
		tun_echo(&c, 65536, 20 + (uint64_t)i);
	}
	cut = tun_wait_closed(&c, WAIT_MS, "hard stop") - t0;
	st = itest_proc_wait(&d.t.sluice, EXIT_MS);
	exited = itest_now() - t0;
	itest_close(&c);
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	printf("shutdown (shutdown_timeout %.0f s): the tunnel echoed at "
	    "+%.1f, +%.1f, +%.1f s, closed at +%.3f s, logged %s; exit %d at "
	    "+%.3f s\n", HARD_S, HARD_S / 4, HARD_S / 2, 3 * HARD_S / 4, cut,
	    term, st, exited);
	fflush(stdout);
	ck_assert_msg(cut >= HARD_S - EARLY && cut <= HARD_S + MARGIN, "the "
	    "tunnel closed %.3f s after SIGTERM, shutdown_timeout %.0f s",
	    cut, HARD_S);
	ck_assert_str_eq(term, "killed_body");
	ck_assert_msg(st == 0 && exited <= HARD_S + EXIT_MARGIN, "exit "
	    "status %d %.3f s after SIGTERM", st, exited);
	itest_finish(&d.t);
}
END_TEST

/* The client closes its tunnel during the drain: sluice exits at once. */
START_TEST(test_shutdown_client_close)
{
	struct tun		 d;
	struct itest_conn	 c;
	char			 term[32];
	double			 t0, closed, exited;
	int			 st;

	tun_start(&d, "shutdown_timeout = 30s\n", NULL);
	tun_open(&d, &c, "/ws");
	t0 = tun_sigterm(&d);
	tun_sleep_until(t0 + CLIENT_CLOSE_S);
	tun_echo(&c, 65536, 30);
	itest_close(&c);
	closed = itest_now();
	st = itest_proc_wait(&d.t.sluice, EXIT_MS);
	exited = itest_now() - closed;
	tun_log_wait(&d, WS_LOG, 1, term, sizeof(term));
	printf("shutdown (shutdown_timeout 30 s): the client closed its "
	    "tunnel %.3f s after SIGTERM; sluice exited %d %.3f s later; "
	    "logged %s\n", closed - t0, st, exited, term);
	fflush(stdout);
	ck_assert_msg(st == 0 && exited <= MARGIN, "exit status %d %.3f s "
	    "after the last tunnel closed", st, exited);
	ck_assert_str_eq(term, "ok");
	itest_finish(&d.t);
}
END_TEST

/* --- h2c and CONNECT --------------------------------------------------- */

/* 1 when a line of the raw head starts with name (case-insensitive). */
static int
tun_head_has(const char *head, const char *name)
{
	const char	*p = head;
	size_t		 n = strlen(name);

	while (p != NULL) {
		if (strncasecmp(p, name, n) == 0)
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/* Upgrade: h2c goes on as plain HTTP/1.1, without the upgrade headers. */
static void
tun_h2c(struct tun *d)
{
	struct itest_conn	 c;
	struct itest_resp	 r;
	const char		*body;
	int			 i;

	itest_connect(&c, d->t.sluice.port, IO_MS);
	for (i = 0; i < 2; i++) {
		itest_send_str(&c, "GET /echo HTTP/1.1\r\n" HOST
		    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		    "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
		itest_read_response(&c, &r, 0, IO_MS);
		body = (const char *)r.body;
		printf("h2c: %s %d, the origin saw:\n%s", i == 0 ? "status" :
		    "again on the same connection:", r.status, body);
		fflush(stdout);
		ck_assert_msg(r.status == 200 && r.complete, "h2c upgrade "
		    "request: status %d", r.status);
		ck_assert_msg(itest_resp_header(&r, "Upgrade") == NULL,
		    "a response to h2c names Upgrade:\n%s", r.head);
		ck_assert_msg(!tun_head_has(body, "upgrade:") &&
		    !tun_head_has(body, "connection:") &&
		    !tun_head_has(body, "http2-settings:"), "the origin saw "
		    "the h2c upgrade headers:\n%s", body);
		itest_resp_free(&r);
	}
	itest_close(&c);
}

/* Send CONNECT to the origin's address on c; *r gets the answer's head
 * (body when whole is set, read within WAIT_MS). */
static void
tun_connect_send(struct tun *d, struct itest_conn *c, struct itest_resp *r,
    int whole)
{
	char	 req[256];

	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", d->t.origin[0].port,
	    d->t.origin[0].port);
	itest_connect(c, d->t.sluice.port, IO_MS);
	itest_send_str(c, req);
	if (whole)
		itest_read_response(c, r, 0, WAIT_MS);
	else
		itest_read_head(c, r, IO_MS);
}

/* CONNECT is refused; nothing reaches the origin. */
static void
tun_connect(struct tun *d)
{
	struct itest_conn	 c;
	struct itest_resp	 r;
	long long		 requests;

	tun_connect_send(d, &c, &r, 0);
	requests = itest_admin_status_int(d->admin, "a", "requests");
	printf("CONNECT: status %d; server a: %lld requests (the 2 h2c "
	    "ones); the origin logged %d lines\n", r.status, requests,
	    itest_count_lines(d->t.origin_log[0]));
	fflush(stdout);
	ck_assert_msg(r.status >= 400 && r.status <= 599, "CONNECT: status "
	    "%d", r.status);
	ck_assert_msg(requests == 2 && itest_count_lines(d->t.origin_log[0])
	    == 2, "CONNECT reached the origin: %lld requests",
	    requests);
	itest_resp_free(&r);
	itest_close(&c);
}

/* h2c is not honoured and CONNECT is refused. */
START_TEST(test_h2c_connect)
{
	struct tun	 d;

	tun_start(&d, NULL, NULL);
	tun_h2c(&d);
	tun_connect(&d);
	itest_finish(&d.t);
}
END_TEST

/*
 * The refusal of a CONNECT ends: its body is delimited by the close that
 * its "Connection: close" announces, so a client waits for that close.
 */
START_TEST(test_connect_answer_ends)
{
	struct tun		 d;
	struct itest_conn	 c;
	struct itest_resp	 r;
	double			 t0;

	tun_start(&d, NULL, NULL);
	t0 = itest_now();
	tun_connect_send(&d, &c, &r, 1);
	t0 = itest_now() - t0;
	printf("CONNECT: status %d, Connection: %s, Content-Length: %s; the "
	    "answer %s after %.3f s\n", r.status,
	    itest_resp_header(&r, "Connection") != NULL ?
	    itest_resp_header(&r, "Connection") : "-",
	    itest_resp_header(&r, "Content-Length") != NULL ?
	    itest_resp_header(&r, "Content-Length") : "-", r.complete ?
	    "was whole" : "was still open", t0);
	fflush(stdout);
	ck_assert_msg(r.complete, "the answer to CONNECT (status %d) did not "
	    "end within %d ms:\n%s", r.status, WAIT_MS, r.head);
	itest_resp_free(&r);
	itest_close(&c);
	itest_finish(&d.t);
}
END_TEST

/* A test case with a generous timeout (ASan, a loaded CI machine). */
static TCase *
tun_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	return tc;
}

/* The suite: bytes, closes, drains, refusals. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("tunnel");
	TCase	*tc;

	tc = tun_tcase("bytes");
	tcase_add_test(tc, test_ws_echo);
	tcase_add_test(tc, test_backpressure);
	suite_add_tcase(s, tc);

	tc = tun_tcase("close");
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_idle_one_way);
	tcase_add_test(tc, test_close_client);
	tcase_add_test(tc, test_close_client_sending);
	tcase_add_test(tc, test_close_server);
	suite_add_tcase(s, tc);

	tc = tun_tcase("drain");
	tcase_add_test(tc, test_drain_removal);
	tcase_add_test(tc, test_shutdown_hard);
	tcase_add_test(tc, test_shutdown_client_close);
	suite_add_tcase(s, tc);

	tc = tun_tcase("refused");
	tcase_add_test(tc, test_h2c_connect);
	tcase_add_test(tc, test_connect_answer_ends);
	suite_add_tcase(s, tc);
	return s;
}
