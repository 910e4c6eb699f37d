/*
 * fuzz_e2e: a libFuzzer target for everything a client's bytes meet, from
 * the accept to the answer: the real sluice (lifecycle_start, the same
 * code as the binary, one worker) runs in this process with four
 * listeners and an origin of its own, all on 127.0.0.1, and each input is
 * written raw on a new client connection. evhttp parses it (its request
 * line and headers, chunked bodies, pipelining), so libevent's HTTP code
 * is inside the fuzzed surface along with sluice's NUL scanner, PROXY
 * protocol, limits, routing, header rules, forwarding, its own answers,
 * the admin endpoint and the access log. README.md says how to run it.
 *
 * The first input byte picks the listener (mod 4): 0 plain with header
 * rules and routes, 1 with the PROXY protocol, 2 with small limits, 3 the
 * admin endpoint (with a token the fuzzer cannot guess, so that nothing
 * changes state). The rest is sent as it is, in pieces as the socket
 * takes them, and the answer read while the loop turns, until sluice
 * closes or nothing moves for FUZZ_IDLE_TURNS turns (FUZZ_MAX_TURNS at
 * most). The loop runs in this thread: no timer fires during an input,
 * so the deadlines are not what is fuzzed here (tests/check_hardening.c
 * covers them).
 *
 * Besides the sanitizers, it checks what a client can see: every answer
 * sluice writes starts with "HTTP/1." and a three-digit status; and
 * connections do not pile up: once the client has closed and the loop
 * has run a while, sluice holds at most FUZZ_MAX_HELD client connections
 * (one that is still being torn down is fine, one per input is a leak).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "proxy/base/runtime.h"
#include "proxy/ctl/lifecycle.h"
#include "proxy/front/clientconn.h"

#define FUZZ_LISTENERS	4
#define FUZZ_MAX_TURNS	2000	/* loop turns per input, at most */
#define FUZZ_IDLE_TURNS	20	/* turns with nothing moving: done */
#define FUZZ_SETTLE	200	/* turns after the close, at most */
#define FUZZ_MAX_HELD	64	/* client connections sluice may still
				 * hold after that, and after a wait of
				 * FUZZ_SETTLE_MS if it holds more: more
				 * is a leak */
#define FUZZ_SETTLE_MS	300
#define FUZZ_MAX_INPUT	(256 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	fuzz_ports[FUZZ_LISTENERS];
static char	fuzz_dir[64];
static char	fuzz_conf[128];

/* Stop the run: a promise is broken. */
static void
fuzz_fail(const char *why)
{
	fprintf(stderr, "fuzz_e2e: %s\n", why);
	abort();
}

/* A free loopback port (the kernel's pick; closed again at once). */
static int
fuzz_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fuzz_fail("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		fuzz_fail("bind");
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/*
 * The origin
 */

/* The answer is out: close. */
static void
fuzz_origin_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

/* Closed or failed: free. */
static void
fuzz_origin_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

/* Once a request head is in, answer 200 with a short body and close. */
static void
fuzz_origin_read(struct bufferevent *bev, void *arg)
{
	static const char	 resp[] = "HTTP/1.1 200 OK\r\n"
				    "Content-Type: text/plain\r\n"
				    "Set-Cookie: s=1; Path=/app\r\n"
				    "Location: http://127.0.0.1/app/x\r\n"
				    "Content-Length: 3\r\n"
				    "Connection: close\r\n\r\nok\n";
	struct evbuffer		*in = bufferevent_get_input(bev);

	(void)arg;
	if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos == -1) {
		if (evbuffer_get_length(in) > 1024 * 1024)
			bufferevent_free(bev);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setcb(bev, NULL, fuzz_origin_written, fuzz_origin_event,
	    NULL);
	bufferevent_disable(bev, EV_READ);
	bufferevent_write(bev, resp, sizeof(resp) - 1);
}

/* A connection from sluice. */
static void
fuzz_origin_accept(struct evconnlistener *el, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	(void)el;
	(void)sa;
	(void)salen;
	(void)arg;
	bev = bufferevent_socket_new(sluice_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, fuzz_origin_read, NULL, fuzz_origin_event,
	    NULL);
	bufferevent_enable(bev, EV_READ);
}

/* Listen for sluice's connections on port. */
static void
fuzz_origin_start(int port)
{
	struct evconnlistener	*el;
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	el = evconnlistener_new_bind(sluice_base, fuzz_origin_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (el == NULL)
		fuzz_fail("origin: cannot listen");
}

/*
 * Start-up
 */

/* Remove the scratch directory at exit. */
static void
fuzz_cleanup(void)
{
	char	 path[128];

	unlink(fuzz_conf);
	snprintf(path, sizeof(path), "%s/error.log", fuzz_dir);
	unlink(path);
	rmdir(fuzz_dir);
}

/*
 * Write the configuration: the four listeners, the upstream at origin (a
 * port picked now; the origin listens there once sluice's loop exists).
 */
static void
fuzz_write_conf(int origin)
{
	FILE	*fp;
	int	 i;

	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/sluice-fuzz-e2e.XXXXXX");
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_fail("mkdtemp");
	atexit(fuzz_cleanup);
	for (i = 0; i < FUZZ_LISTENERS; i++)
		fuzz_ports[i] = fuzz_free_port();
	snprintf(fuzz_conf, sizeof(fuzz_conf), "%s/sluice.ini", fuzz_dir);
	if ((fp = fopen(fuzz_conf, "w")) == NULL)
		fuzz_fail("config");
	fprintf(fp, "[global]\n"
	    "access_log = /dev/null\n"
	    "error_log = %s/error.log\n"
	    "log_level = warn\n"
	    "shutdown_timeout = 1s\n"
	    "[admin]\nlisten = 127.0.0.1:%d\n"
	    "token = fuzz-e2e-0123456789abcdef-not-guessed\n"
	    "[listener plain]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "route = /app/ app strip\n"
	    "route = *.example.com/x/ app header=X-Canary:1\n"
	    "request_id = on\n"
	    "request_header = set X-Client $remote_addr\n"
	    "request_header = add X-Host $host\n"
	    "response_header = remove Server\n"
	    "[listener pp]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "proxy_protocol = on\ntrusted_proxies = 127.0.0.1/32\n"
	    "[listener small]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_header_size = 1k\nmax_headers = 8\nmax_body_size = 1k\n"
	    "[upstream app]\nserver = 127.0.0.1:%d\n"
	    "retries = 0\nrewrite_location = on\n"
	    "rewrite_cookie_path = on\nsticky = cookie sid\n",
	    fuzz_dir, fuzz_ports[3], fuzz_ports[0], fuzz_ports[1],
	    fuzz_ports[2], origin);
	if (fclose(fp) != 0)
		fuzz_fail("config");
}

/* Start sluice and the origin, once. */
static void
fuzz_start(void)
{
	int	 origin = fuzz_free_port();

	fuzz_write_conf(origin);
	if (lifecycle_start(fuzz_conf) == -1)
		fuzz_fail("sluice did not start; see the errors above");
	fuzz_origin_start(origin);
}

/*
 * One input
 */

/* Connect to a listener, non-blocking; the socket. */
static int
fuzz_connect(int port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fuzz_fail("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		fuzz_fail("connect");
	return fd;
}

/*
 * Check what arrived on a listener (admin: the admin endpoint): empty
 * (sluice closed without a word, as it may on garbage), or "HTTP/1.N NNN "
 * with N 0 or 1. Only the answers evhttp writes itself, before sluice
 * sees a request (400 for a head it cannot parse, 413 past
 * max_header_size, 417 for an Expect other than 100-continue, 501 for a
 * method it does not know), echo the
 * request's minor version: one digit on a listener, whose NUL scanner
 * refuses any version but HTTP/DIGIT.DIGIT first; anything evhttp read
 * on the admin endpoint, which has no scanner ("HTTP/1.-103 400").
 */
static void
fuzz_check_answer(const unsigned char *a, size_t n, int admin)
{
	size_t	 i = 7;

	if (n == 0)
		return;
	if (n < 13 || memcmp(a, "HTTP/1.", 7) != 0)
		fuzz_fail("an answer that is not HTTP/1.x");
	if (admin && a[i] == '-')
		i++;
	while (i < n && a[i] >= '0' && a[i] <= '9')
		i++;
	if (i == 7 || i + 5 > n || a[i] != ' ' || a[i + 1] < '1' ||
	    a[i + 1] > '5' || a[i + 2] < '0' || a[i + 2] > '9' ||
	    a[i + 3] < '0' || a[i + 3] > '9' || a[i + 4] != ' ')
		fuzz_fail("an answer without a status line");
	if (i == 8 && (a[7] == '0' || a[7] == '1'))
		return;
	if (i > 8 && !admin)
		fuzz_fail("HTTP/1.NN: a version evhttp should not have seen");
	if (memcmp(a + i, " 400 ", 5) != 0 && memcmp(a + i, " 413 ", 5) != 0 &&
	    memcmp(a + i, " 417 ", 5) != 0 && memcmp(a + i, " 501 ", 5) != 0)
		fuzz_fail("HTTP/1.N with N past 1 on an answer sluice wrote");
}

/* Stop the loop: the time to settle is over. */
static void
fuzz_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(sluice_base);
}

/*
 * Let the timers run for FUZZ_SETTLE_MS: a refused connection lingers
 * 200 ms for its 400 to leave (proxy/front/nulscan.c), and a fast run
 * makes many in that time.
 */
static void
fuzz_settle(void)
{
	struct timeval	 tv = { 0, FUZZ_SETTLE_MS * 1000 };

	if (event_base_once(sluice_base, -1, EV_TIMEOUT, fuzz_settle_cb,
	    NULL, &tv) == -1)
		fuzz_fail("event_base_once");
	event_base_dispatch(sluice_base);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 started;
	static unsigned char	 answer[24];
	unsigned char		 buf[16384];
	size_t			 sent = 0, got = 0;
	ssize_t			 n;
	int			 fd, lsn, turn, idle = 0, done = 0;

	if (size == 0 || size > FUZZ_MAX_INPUT)
		return 0;
	if (!started) {
		fuzz_start();
		started = 1;
	}
	lsn = data[0] % FUZZ_LISTENERS;
	fd = fuzz_connect(fuzz_ports[lsn]);
	data++;
	size--;
	for (turn = 0; turn < FUZZ_MAX_TURNS && !done &&
	    idle < FUZZ_IDLE_TURNS; turn++) {
		int	 moved = 0;

		event_base_loop(sluice_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (sent < size) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				moved = 1;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != ENOTCONN)
				done = 1;	/* sluice closed or reset */
		}
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			if (got < sizeof(answer))
				memcpy(answer + got, buf, sizeof(answer) -
				    got < (size_t)n ? sizeof(answer) - got :
				    (size_t)n);
			got += (size_t)n;
			moved = 1;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN))
			done = 1;
		idle = moved ? 0 : idle + 1;
	}
	if (getenv("FUZZ_E2E_PRINT") != NULL)	/* replaying by hand */
		fprintf(stderr, "fuzz_e2e: listener %d, %zu of %zu bytes "
		    "sent, %zu back: %.*s\n", lsn,
		    sent, size, got, (int)(got < sizeof(answer) ? got :
		    sizeof(answer)), answer);
	fuzz_check_answer(answer, got < sizeof(answer) ? got :
	    sizeof(answer), lsn == 3);
	close(fd);
	for (turn = 0; turn < FUZZ_SETTLE && clientconn_count() > 0; turn++)
		event_base_loop(sluice_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	if (clientconn_count() > FUZZ_MAX_HELD)
		fuzz_settle();
	if (clientconn_count() > FUZZ_MAX_HELD)
		fuzz_fail("client connections pile up after their clients "
		    "closed");
	return 0;
}
