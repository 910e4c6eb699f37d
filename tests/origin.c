/*
 * origin: the test origin server of the integration tests.
 *
 * Built on raw bufferevents rather than evhttp so that every mode sends
 * exactly the bytes it means, malformed responses included. It parses
 * request heads itself (CRLF or LF), reads bodies framed by Content-Length
 * or chunked, and keeps connections alive unless asked to close.
 *
 * Usage: origin -n NAME [-p PORT] [-l LOGFILE] [-k MS [-K]] [-f FILE] [-C]
 * [-L HEADER] [-T CERTS]. With -T, a connection the origin closes after a
 * response ends with close_notify, but after /closedirty/N (the bytes of
 * /close/N) it does not. /flood/KIND/N sends the start of a response
 * and then one part of it again and again (origin_floods: 1xx responses,
 * a header line, header lines, trailer lines, a chunk extension) until N
 * bytes are queued, then closes; "FLOOD KIND - BYTES" is logged when the
 * connection goes, BYTES what the kernel took.
 * It binds 127.0.0.1 (port 0 unless -p), prints
 * "PORT <n>" on stdout (its only output there) and serves until SIGTERM or
 * SIGINT, then exits 0. With -l it appends "METHOD TARGET BODYLEN" to
 * LOGFILE for every request it receives, before answering (BODYLEN is "-"
 * for /noread, whose body is never read). Modes by path
 * (a query string is ignored) are listed in origin_modes[] below; /ws is
 * a WebSocket handshake followed by an echo of every byte. /ws takes
 * query options: close=N closes the connection once N bytes have been
 * echoed (0: right after the 101), push=MS also sends one pattern byte
 * every MS ms, hello=N sends N pattern bytes in the same write as the
 * 101. The echo stops reading while more than 1 MiB of it waits to be
 * sent, so a peer that does not read stalls its own writes. When the peer
 * ends a /ws connection, "WSEOF - - N" (a clean close) or "WSERR - - N"
 * is logged, N the bytes received after the handshake.
 *
 * -k MS closes a keep-alive connection once it has been idle (waiting for a
 * request, nothing buffered either way) for exactly MS ms, as a server's
 * keep-alive timeout does; the log lines then get a fourth field, how long
 * the connection was idle before that request in ms ("-" for the first
 * request on a connection), and each such close is logged as
 * "IDLECLOSE - - MS". -K also announces it: "Keep-Alive: timeout=S" (MS
 * rounded up to seconds) on every keep-alive response. -f FILE makes
 * /health answer 503 while FILE exists (200 otherwise), so that a test
 * flips the origin's health by creating and removing the file. -C closes a
 * connection that has served a response, without answering, when its next
 * request arrives (logged first): every reuse of a pooled connection then
 * loses the keep-alive race, in a way no check before the reuse can see.
 *
 * A request carrying one or more "X-Reply: Name: value" headers is
 * answered, whatever its path, with those lines as response headers (in
 * order, the same name as often as given; each value is sent as it came,
 * so it should be "Name: value") and, as /echo does, the request head as
 * received then its body as the response body; "X-Reply-Status: N"
 * (200..599) picks the status, 200 by default (204 and 304 have no body).
 * A test makes the origin send any Location, Set-Cookie or Refresh that
 * way. -L HEADER adds one more field at the end of every request log line
 * (after the -k field when there is one): the value of request header
 * HEADER as received, its instances joined with ",", "-" when absent, each
 * byte outside 0x21..0x7e written as \xHH so the line stays split by
 * spaces; every response made here (not the canned /raw ones, not /ws)
 * then also carries that field back as "X-Origin-Saw: VALUE". -T CERTS
 * serves TLS instead of plain TCP with the certificate CERTS.pem and its
 * key CERTS.key (the names tests/certs.sh gives), TLS 1.2 and 1.3.
 *
 * The origin counts the requests it is answering at once (from the
 * complete request to the last response byte queued, a /ws tunnel while
 * it is open): GET /conc answers "busy N max M", the count now and the
 * most since the start; /conc/reset sets the most to the count now. Those
 * two are neither counted nor logged.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "tests/itest.h"

#define ORIGIN_MAX_HEAD		(256 * 1024)
#define ORIGIN_GEN_HIGH		(1024 * 1024)	/* fill output up to it */
#define ORIGIN_GEN_LOW		(256 * 1024)	/* refill below it */
#define ORIGIN_GEN_PIECE	(64 * 1024)

enum origin_state {
	ORIGIN_HEAD = 0,	/* waiting for a request head */
	ORIGIN_BODY,		/* reading a request body */
	ORIGIN_BUSY,		/* answering: a timer or a generator runs */
	ORIGIN_SILENT,		/* /stall, /noread: never answers */
	ORIGIN_CLOSING,		/* close once the output is flushed */
	ORIGIN_TUNNEL,		/* /ws: after the 101, echo every byte */
};

enum origin_chunk {
	ORIGIN_CHUNK_SIZE = 0,	/* expecting a chunk-size line */
	ORIGIN_CHUNK_DATA,	/* inside chunk data */
	ORIGIN_CHUNK_DATA_END,	/* expecting the CRLF after the data */
	ORIGIN_CHUNK_TRAILER,	/* trailer lines up to the empty line */
};

/*
 * /flood/KIND/N: a response whose KIND part repeats until N bytes are
 * queued, then the connection closes: what a proxy must bound.
 */
struct origin_flood {
	const char	*kind;
	const char	*start;		/* sent once */
	const char	*unit;		/* then repeated */
};

/* One client connection and the request it is reading or answering. */
struct origin_conn {
	LIST_ENTRY(origin_conn)	 entry;
	struct bufferevent	*bev;
	struct event		*timer;
	struct event		*idle;		/* -k: the keep-alive timer */
	double			 idle_since;	/* ms; < 0: not idle */
	double			 waited;	/* ms idle before the request */
	unsigned long		 served;	/* responses finished */
	enum origin_state	 state;

	char			*head;		/* raw head, NUL added */
	size_t			 headlen;
	char			 method[16];
	char			*target;
	int			 is_head;	/* method HEAD */
	int			 keepalive;
	int			 chunked;
	enum origin_chunk	 chunk;
	uint64_t		 body_left;
	struct evbuffer		*body;

	uint64_t		 gen_off;	/* next pattern byte to send */
	uint64_t		 gen_left;
	int			 gen_chunked;
	unsigned		 gen_nchunk;	/* chunks sent so far */
	unsigned		 drip_ms;
	int			 close_after;	/* close after the response */
	int			 dirty_close;	/* TLS: no close_notify */
	const struct origin_flood *flood;	/* /flood: what repeats */
	uint64_t		 flood_left;	/* bytes still to queue */
	uint64_t		 flood_queued;	/* bytes queued so far */
	int			 busy;		/* counted in origin.busy */

	int64_t			 ws_left;	/* /ws?close=N: bytes still to
						 * echo; -1: no limit */
	uint64_t		 ws_got;	/* received after the 101 */
	unsigned		 ws_push_ms;	/* /ws?push=MS */
};

/* The process: one loop, one listener, every open connection. */
static struct {
	struct event_base		*base;
	const char			*name;
	FILE				*log;
	int				 port;		/* -p, 0: any */
	unsigned			 idle_ms;	/* -k, 0: never */
	int				 announce;	/* -K */
	const char			*health_file;	/* -f */
	int				 close_reused;	/* -C */
	const char			*log_header;	/* -L */
	SSL_CTX				*tls;		/* -T */
	LIST_HEAD(, origin_conn)	 conns;
	unsigned			 busy;		/* requests being
							 * answered now */
	unsigned			 busy_max;	/* the most at once */
} origin;

/* A mode: a path prefix and the function that answers it. */
struct origin_mode {
	const char	*prefix;
	void		(*fn)(struct origin_conn *, const char *arg);
};

/* A canned raw response for /raw/KIND; "%s" is replaced by the name. */
struct origin_raw {
	const char	*kind;
	const char	*fmt;
	int		 close;		/* close the connection after */
};

static void	origin_conn_run(struct origin_conn *);
static void	origin_gen_fill(struct origin_conn *);

static const struct origin_raw origin_raws[] = {
	{ "103", "HTTP/1.1 103 Early Hints\r\n"
	    "Link: </style.css>; rel=preload\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nX-Origin: %s\r\nContent-Length: 9\r\n\r\n"
	    "after 103", 0 },
	{ "dupcl", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Content-Length: 5\r\nContent-Length: 10\r\n\r\nhelloworld", 1 },
	{ "clte", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n", 1 },
	{ "badstatus", "HTTP/1.1 2x0 OK\r\nX-Origin: %s\r\n"
	    "Content-Length: 2\r\n\r\nok", 1 },
	{ "bigstatus", "HTTP/1.1 999 Whatever\r\nX-Origin: %s\r\n"
	    "Content-Length: 2\r\n\r\nok", 1 },
	{ "te-gzip", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Transfer-Encoding: gzip\r\n\r\nnot really gzip", 1 },
	{ "space-colon", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Content-Length : 5\r\n\r\nhello", 1 },
	{ "manyheaders", "HTTP/1.1 200 OK\r\nServer: origin\r\n"
	    "X-Origin: %s\r\nVary: Accept\r\n"
	    "Set-Cookie: a=1; Path=/\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
	    "Vary: Accept-Encoding\r\nX-Empty:\r\nSet-Cookie: b=2; Path=/\r\n"
	    "Content-Length: 2\r\nX-Long: 0123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789\r\n"
	    "Cache-Control: max-age=60\r\n\r\nok", 0 },
	{ "nodate", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\nX-A: 1\r\n"
	    "X-B: 2\r\nContent-Length: 2\r\n\r\nok", 0 },
	{ "setcookie", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
	    "Content-Length: 2\r\n\r\nok", 0 },
	{ "hop", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
	    "Upgrade: foo\r\nProxy-Connection: x\r\nTrailer: X-Trail\r\n"
	    "X-Normal: yes\r\nContent-Length: 2\r\n\r\nok", 0 },
	{ "http10", "HTTP/1.0 200 OK\r\nX-Origin: %s\r\n\r\n"
	    "http/1.0 body, close-delimited\n", 1 },
	/* legacy frameworks: a 204 that declares a body */
	{ "204cl", "HTTP/1.1 204 No Content\r\nX-Origin: %s\r\n"
	    "Content-Length: 5\r\n\r\n", 0 },
	/* Connection as a list, over two lines; the origin keeps the
	 * connection open all the same, so only the list can say close */
	{ "connlist", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Connection: X-Hop-A, Close\r\nConnection: x-hop-b\r\n"
	    "X-Hop-A: 1\r\nX-Hop-B: 2\r\nX-Normal: yes\r\n"
	    "Content-Length: 2\r\n\r\nok", 0 },
	{ "connlist-keep", "HTTP/1.1 200 OK\r\nX-Origin: %s\r\n"
	    "Connection: X-Hop-A\r\nConnection: keep-alive,x-hop-b\r\n"
	    "X-Hop-A: 1\r\nX-Hop-B: 2\r\nX-Normal: yes\r\n"
	    "Content-Length: 2\r\n\r\nok", 0 },
	{ "http10-keep", "HTTP/1.0 200 OK\r\nX-Origin: %s\r\n"
	    "Connection: x-hop-a, Keep-Alive\r\nX-Hop-A: 1\r\n"
	    "Content-Length: 2\r\n\r\nok", 0 },
	{ "http10-nokeep", "HTTP/1.0 200 OK\r\nX-Origin: %s\r\n"
	    "Connection: keep-alive-not\r\n"
	    "Content-Length: 2\r\n\r\nok", 0 },
};

/* Chunk sizes /chunked/N cycles through. */
static const size_t origin_chunk_sizes[] = {
	1, 10, 100, 1000, 4096, 10000, 65536
};

/* Parse a decimal number that must make up all of s; -1 when it does not. */
static int64_t
origin_number(const char *s)
{
	char		*end;
	long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '/'))
		return -1;
	return v;
}

/* Free a connection, its timer and its request. */
static void
origin_conn_free(struct origin_conn *c)
{
	if (c->flood != NULL && origin.log != NULL) {
		fprintf(origin.log, "FLOOD %s - %" PRIu64 "\n", c->flood->kind,
		    c->flood_queued - evbuffer_get_length(
		    bufferevent_get_output(c->bev)));
		fflush(origin.log);
	}
	if (c->busy)
		origin.busy--;
	LIST_REMOVE(c, entry);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->idle != NULL)
		event_free(c->idle);
	bufferevent_free(c->bev);
	evbuffer_free(c->body);
	free(c->head);
	free(c->target);
	free(c);
}

/* Forget the current request so the next one can be read. */
static void
origin_conn_reset(struct origin_conn *c)
{
	free(c->head);
	free(c->target);
	c->head = NULL;
	c->target = NULL;
	c->headlen = 0;
	c->method[0] = '\0';
	c->is_head = c->chunked = c->close_after = 0;
	c->body_left = 0;
	c->chunk = ORIGIN_CHUNK_SIZE;
	evbuffer_drain(c->body, evbuffer_get_length(c->body));
	c->gen_off = c->gen_left = 0;
	c->gen_chunked = 0;
	c->gen_nchunk = 0;
	c->served++;
	c->state = ORIGIN_HEAD;
}

/* The response is complete: read the next request or close. */
static void
origin_conn_done(struct origin_conn *c)
{
	if (c->busy)
		origin.busy--;
	c->busy = 0;
	if (c->close_after || !c->keepalive) {
		c->state = ORIGIN_CLOSING;
		/* The write callback must see the buffer drain to empty. */
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		return;
	}
	origin_conn_reset(c);
}

/*
 * The values of every request header called name (case-insensitive) in
 * c->head, joined with ",", into buf (size bytes, cut short when too
 * long), each byte outside 0x21..0x7e as \xHH; "-" when there is none.
 * Returns how many there were.
 */
static int
origin_head_values(const struct origin_conn *c, const char *name, char *buf,
    size_t size)
{
	const char	*p = c->head, *eol, *v;
	size_t		 n = strlen(name), len, at = 0, i;
	int		 count = 0;

	buf[0] = '\0';
	while (p != NULL && (eol = strchr(p, '\n')) != NULL) {
		p = eol + 1;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		for (v = p + n + 1; *v == ' ' || *v == '\t'; v++)
			;
		len = strcspn(v, "\r\n");
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (count++ > 0 && at + 1 < size)
			buf[at++] = ',';
		for (i = 0; i < len && at + 5 < size; i++) {
			if (v[i] >= 0x21 && v[i] <= 0x7e)
				buf[at++] = v[i];
			else
				at += (size_t)snprintf(buf + at, size - at,
				    "\\x%02x", (unsigned char)v[i]);
		}
		buf[at] = '\0';
	}
	if (count == 0)
		snprintf(buf, size, "-");
	return count;
}

/* Append one request line to the log file and flush it. */
static void
origin_log(struct origin_conn *c, const char *bodylen)
{
	char	 extra[1024] = "";

	if (origin.log == NULL)
		return;
	if (origin.log_header != NULL) {
		extra[0] = ' ';
		origin_head_values(c, origin.log_header, extra + 1,
		    sizeof(extra) - 1);
	}
	if (origin.idle_ms == 0)
		fprintf(origin.log, "%s %s %s%s\n", c->method, c->target,
		    bodylen, extra);
	else if (c->served == 0)
		fprintf(origin.log, "%s %s %s -%s\n", c->method, c->target,
		    bodylen, extra);
	else
		fprintf(origin.log, "%s %s %s %.0f%s\n", c->method, c->target,
		    bodylen, c->waited, extra);
	fflush(origin.log);
}

/* Monotonic clock in milliseconds. */
static double
origin_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* -k: the connection stayed idle for idle_ms; close it, as servers do. */
static void
origin_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*c = arg;

	if (origin.log != NULL) {
		fprintf(origin.log, "IDLECLOSE - - %.0f\n",
		    origin_now_ms() - c->idle_since);
		fflush(origin.log);
	}
	origin_conn_free(c);
}

/*
 * -k: run the idle clock while the connection waits for a request with
 * nothing buffered in either direction; stop it otherwise. A request that
 * ends an idle period records how long it lasted in c->waited.
 */
static void
origin_idle_update(struct origin_conn *c)
{
	struct timeval	 tv;
	int		 idle;

	if (origin.idle_ms == 0)
		return;
	idle = c->state == ORIGIN_HEAD &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
	if (!idle) {
		if (c->idle_since >= 0) {
			c->waited = origin_now_ms() - c->idle_since;
			evtimer_del(c->idle);
		}
		c->idle_since = -1;
		return;
	}
	if (c->idle_since >= 0)
		return;
	c->idle_since = origin_now_ms();
	tv.tv_sec = origin.idle_ms / 1000;
	tv.tv_usec = (origin.idle_ms % 1000) * 1000;
	evtimer_add(c->idle, &tv);
}

/* Queue a response head; clen < 0 means no Content-Length header. */
static void
origin_reply_head(struct origin_conn *c, int code, const char *reason,
    const char *extra, int64_t clen)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 saw[1024];

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nX-Origin: %s\r\n%s",
	    code, reason, origin.name, extra);
	if (origin.log_header != NULL && c->head != NULL) {
		origin_head_values(c, origin.log_header, saw, sizeof(saw));
		evbuffer_add_printf(out, "X-Origin-Saw: %s\r\n", saw);
	}
	if (origin.announce && c->keepalive)
		evbuffer_add_printf(out, "Keep-Alive: timeout=%u\r\n",
		    (origin.idle_ms + 999) / 1000);
	if (clen >= 0)
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n",
		    clen);
	if (!c->keepalive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add(out, "\r\n", 2);
}

/* Queue a whole response with a Content-Length body and finish it. */
static void
origin_reply(struct origin_conn *c, int code, const char *reason,
    const char *extra, const void *body, size_t len)
{
	int	 bodyless = code == 204 || code == 304;

	origin_reply_head(c, code, reason, extra,
	    bodyless ? -1 : (int64_t)len);
	if (!bodyless && !c->is_head && len > 0)
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
	origin_conn_done(c);
}

/* Answer 400 to a request we cannot parse, and close. */
static void
origin_bad_request(struct origin_conn *c)
{
	c->keepalive = 0;
	origin_reply(c, 400, "Bad Request", "", "bad request\n", 12);
}

/* Append n pattern bytes starting at offset off to out. */
static void
origin_pattern_add(struct evbuffer *out, uint64_t off, size_t n)
{
	struct evbuffer_iovec	 v;

	if (evbuffer_reserve_space(out, (ev_ssize_t)n, &v, 1) < 1)
		return;
	itest_pattern_fill(v.iov_base, off, n);
	v.iov_len = n;
	evbuffer_commit_space(out, &v, 1);
}

/* Size of the next chunk a generator sends. */
static size_t
origin_gen_piece(struct origin_conn *c)
{
	size_t	 n = ORIGIN_GEN_PIECE;
	size_t	 nsizes = sizeof(origin_chunk_sizes) /
		    sizeof(origin_chunk_sizes[0]);

	if (c->drip_ms > 0)
		n = 1;
	else if (c->gen_chunked)
		n = origin_chunk_sizes[c->gen_nchunk++ % nsizes];
	if (n > c->gen_left)
		n = (size_t)c->gen_left;
	return n;
}

/* Queue the next piece of a generated body, chunk-framed when chunked. */
static void
origin_gen_piece_add(struct origin_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n = origin_gen_piece(c);

	if (c->gen_chunked)
		evbuffer_add_printf(out, "%zx\r\n", n);
	origin_pattern_add(out, c->gen_off, n);
	if (c->gen_chunked)
		evbuffer_add(out, "\r\n", 2);
	c->gen_off += n;
	c->gen_left -= n;
}

/* The generated body is all queued: end it and finish the response. */
static void
origin_gen_end(struct origin_conn *c)
{
	if (c->gen_chunked && !c->is_head)
		evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	c->drip_ms = 0;
	origin_conn_done(c);
}

/* Keep the output buffer filled up to ORIGIN_GEN_HIGH; end when done. */
static void
origin_gen_fill(struct origin_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	while (c->gen_left > 0 && evbuffer_get_length(out) < ORIGIN_GEN_HIGH)
		origin_gen_piece_add(c);
	if (c->gen_left == 0)
		origin_gen_end(c);
}

/* Timer of /drip: send one byte, re-arm, or end the body. */
static void
origin_drip_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*c = arg;
	struct timeval		 tv;

	if (c->gen_left > 0)
		origin_gen_piece_add(c);
	if (c->gen_left == 0) {
		origin_gen_end(c);
		origin_conn_run(c);
		return;
	}
	tv.tv_sec = c->drip_ms / 1000;
	tv.tv_usec = (c->drip_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* Start a generated pattern body of n bytes, framed as asked. */
static void
origin_gen_start(struct origin_conn *c, const char *arg, int chunked,
    int close_delimited)
{
	int64_t	 n = origin_number(arg);

	if (n < 0) {
		origin_bad_request(c);
		return;
	}
	if (close_delimited)
		c->close_after = 1;
	origin_reply_head(c, 200, "OK",
	    chunked ? "Transfer-Encoding: chunked\r\n" : "",
	    chunked || close_delimited ? -1 : n);
	c->gen_chunked = chunked;
	c->gen_left = c->is_head ? 0 : (uint64_t)n;
	c->state = ORIGIN_BUSY;
	bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_GEN_LOW, 0);
	origin_gen_fill(c);
}

/* /bytes/N: N pattern bytes with Content-Length. */
static void
origin_mode_bytes(struct origin_conn *c, const char *arg)
{
	origin_gen_start(c, arg, 0, 0);
}

/* /chunked/N: the same bytes, chunked, in chunks of varying sizes. */
static void
origin_mode_chunked(struct origin_conn *c, const char *arg)
{
	origin_gen_start(c, arg, 1, 0);
}

/* /close/N: the same bytes, no Content-Length, closed after the body. */
static void
origin_mode_close(struct origin_conn *c, const char *arg)
{
	origin_gen_start(c, arg, 0, 1);
}

/* /closedirty/N: as /close/N, but over TLS closed without close_notify. */
static void
origin_mode_closedirty(struct origin_conn *c, const char *arg)
{
	c->dirty_close = 1;
	origin_gen_start(c, arg, 0, 1);
}

/* Arm the connection's timer for ms milliseconds with callback cb. */
static void
origin_timer_start(struct origin_conn *c, unsigned ms,
    void (*cb)(evutil_socket_t, short, void *))
{
	struct timeval	 tv;

	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = evtimer_new(origin.base, cb, c);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* /drip/N/MS: N pattern bytes, chunked, one byte every MS ms. */
static void
origin_mode_drip(struct origin_conn *c, const char *arg)
{
	int64_t		 n = origin_number(arg);
	const char	*slash = strchr(arg, '/');
	int64_t		 ms = slash ? origin_number(slash + 1) : -1;

	if (n < 0 || ms <= 0 || ms > 60000) {
		origin_bad_request(c);
		return;
	}
	origin_reply_head(c, 200, "OK", "Transfer-Encoding: chunked\r\n", -1);
	c->gen_chunked = 1;
	c->gen_left = c->is_head ? 0 : (uint64_t)n;
	c->drip_ms = (unsigned)ms;
	c->state = ORIGIN_BUSY;
	origin_timer_start(c, c->drip_ms, origin_drip_cb);
}

/* Timer of /delay: answer now. */
static void
origin_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*c = arg;

	origin_reply(c, 200, "OK", "", "delayed\n", 8);
	origin_conn_run(c);
}

/* /delay/MS: a small 200 after MS milliseconds. */
static void
origin_mode_delay(struct origin_conn *c, const char *arg)
{
	int64_t	 ms = origin_number(arg);

	if (ms < 0 || ms > 600000) {
		origin_bad_request(c);
		return;
	}
	c->state = ORIGIN_BUSY;
	origin_timer_start(c, (unsigned)ms, origin_delay_cb);
}

/* /status/CODE: that status with a small body (none for 204 and 304). */
static void
origin_mode_status(struct origin_conn *c, const char *arg)
{
	int64_t	 code = origin_number(arg);
	char	 body[32];
	int	 n;

	if (code < 200 || code > 599) {
		origin_bad_request(c);
		return;
	}
	n = snprintf(body, sizeof(body), "status %d\n", (int)code);
	origin_reply(c, (int)code, "Status", "", body, (size_t)n);
}

/* /flood/KIND/N: the response whose KIND part repeats (origin_floods). */
static const struct origin_flood origin_floods[] = {
	/* 1xx responses forever */
	{ "1xx", "", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; "
	    "rel=preload\r\n\r\n" },
	/* one header line that never ends */
	{ "header", "HTTP/1.1 200 OK\r\nX-Big: ",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	/* header lines forever */
	{ "headers", "HTTP/1.1 200 OK\r\n", "X-Many: v\r\n" },
	/* short trailer lines forever */
	{ "trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\n0\r\n", "X-Trailer: v\r\n" },
	/* long trailer lines forever: the size bound comes first */
	{ "bigtrailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\n0\r\n", "X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\n" },
	/* a chunk extension that never ends */
	{ "chunkext", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\n5;", "a" },
};

/* Queue flood units up to ORIGIN_GEN_HIGH; close once all are queued. */
static void
origin_flood_fill(struct origin_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 ulen = strlen(c->flood->unit), n;
	char		 piece[ORIGIN_GEN_PIECE];

	for (n = 0; n + ulen <= sizeof(piece); n += ulen)
		memcpy(piece + n, c->flood->unit, ulen);
	while (c->flood_left > 0 && evbuffer_get_length(out) <
	    ORIGIN_GEN_HIGH) {
		if (n > c->flood_left)
			n = (size_t)c->flood_left;
		evbuffer_add(out, piece, n);
		c->flood_left -= n;
		c->flood_queued += n;
	}
	if (c->flood_left == 0) {
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		c->close_after = 1;
		origin_conn_done(c);
	}
}

/* /flood/KIND/N; see origin_floods. */
static void
origin_mode_flood(struct origin_conn *c, const char *arg)
{
	const char	*slash = strchr(arg, '/');
	size_t		 i, klen = slash != NULL ? (size_t)(slash - arg) : 0;
	int64_t		 n = slash != NULL ? origin_number(slash + 1) : -1;

	for (i = 0; i < sizeof(origin_floods) / sizeof(origin_floods[0]); i++)
		if (strlen(origin_floods[i].kind) == klen &&
		    strncmp(origin_floods[i].kind, arg, klen) == 0)
			break;
	if (n < 0 || i == sizeof(origin_floods) / sizeof(origin_floods[0])) {
		origin_bad_request(c);
		return;
	}
	c->flood = &origin_floods[i];
	c->flood_left = (uint64_t)n;
	evbuffer_add(bufferevent_get_output(c->bev), c->flood->start,
	    strlen(c->flood->start));
	c->flood_queued = strlen(c->flood->start);
	c->state = ORIGIN_BUSY;
	bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_GEN_LOW, 0);
	origin_flood_fill(c);
}

/* /hangup: close without answering. */
static void
origin_mode_hangup(struct origin_conn *c, const char *arg)
{
	c->close_after = 1;
	origin_conn_done(c);
}

/* /stall: never answer; keep reading so the connection stays open. */
static void
origin_mode_stall(struct origin_conn *c, const char *arg)
{
	c->state = ORIGIN_SILENT;
}

/* /echo: the raw request head as received, then the body. */
static void
origin_mode_echo(struct origin_conn *c, const char *arg)
{
	size_t		 blen = evbuffer_get_length(c->body);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 extra[64];

	snprintf(extra, sizeof(extra), "X-Body-Len: %zu\r\n", blen);
	origin_reply_head(c, 200, "OK", extra, (int64_t)(c->headlen + blen));
	if (!c->is_head) {
		evbuffer_add(out, c->head, c->headlen);
		evbuffer_add_buffer(out, c->body);
	}
	origin_conn_done(c);
}

/* 1 when the request head has a header called name (case-insensitive). */
static int
origin_head_has(const struct origin_conn *c, const char *name)
{
	const char	*p = c->head, *eol;
	size_t		 n = strlen(name);

	while ((eol = strchr(p, '\n')) != NULL) {
		p = eol + 1;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
	}
	return 0;
}

/*
 * A request with X-Reply headers: each value becomes a response header
 * line, the status is X-Reply-Status (200 by default), the body is the
 * request as received (head, then body), as for /echo.
 */
static void
origin_mode_reply(struct origin_conn *c)
{
	struct evbuffer	*hdrs = evbuffer_new(), *out;
	const char	*p = c->head, *eol, *v;
	size_t		 blen = evbuffer_get_length(c->body), len;
	char		 num[16], *extra;
	int64_t		 code = 200;
	int		 bodyless;

	while ((eol = strchr(p, '\n')) != NULL) {
		p = eol + 1;
		if (strncasecmp(p, "X-Reply-Status:", 15) == 0) {
			for (v = p + 15; *v == ' ' || *v == '\t'; v++)
				;
			snprintf(num, sizeof(num), "%.*s",
			    (int)strcspn(v, " \t\r\n"), v);
			code = origin_number(num);
			continue;
		}
		if (strncasecmp(p, "X-Reply:", 8) != 0)
			continue;
		for (v = p + 8; *v == ' ' || *v == '\t'; v++)
			;
		len = strcspn(v, "\r\n");
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		evbuffer_add(hdrs, v, len);
		evbuffer_add(hdrs, "\r\n", 2);
	}
	if (code < 200 || code > 599) {
		evbuffer_free(hdrs);
		origin_bad_request(c);
		return;
	}
	evbuffer_add(hdrs, "", 1);
	extra = (char *)evbuffer_pullup(hdrs, -1);
	bodyless = code == 204 || code == 304;
	origin_reply_head(c, (int)code, code == 200 ? "OK" : "Reply", extra,
	    bodyless ? -1 : (int64_t)(c->headlen + blen));
	evbuffer_free(hdrs);
	if (!bodyless && !c->is_head) {
		out = bufferevent_get_output(c->bev);
		evbuffer_add(out, c->head, c->headlen);
		evbuffer_add_buffer(out, c->body);
	}
	origin_conn_done(c);
}

/* The value of header name in the raw request head, into buf; 0 or -1. */
static int
origin_head_value(const struct origin_conn *c, const char *name, char *buf,
    size_t size)
{
	const char	*p = c->head, *eol;
	size_t		 n = strlen(name), len;

	while ((eol = strchr(p, '\n')) != NULL) {
		p = eol + 1;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, "\r\n");
		if (len >= size)
			return -1;
		memcpy(buf, p, len);
		buf[len] = '\0';
		return 0;
	}
	return -1;
}

/* The number after "name=" in the query of target, -1 when absent. */
static int64_t
origin_query_number(const char *target, const char *name)
{
	const char	*q = strchr(target, '?'), *p;
	size_t		 n = strlen(name);

	for (p = q; p != NULL; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '=')
			return origin_number(p + 2 + n);
	return -1;
}

/* /ws: stop echoing; close once what is queued has been sent. */
static void
origin_tunnel_close(struct origin_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->timer != NULL)
		evtimer_del(c->timer);
	c->state = ORIGIN_CLOSING;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/*
 * /ws: echo what arrived (up to the close=N limit), and stop reading
 * while the echo waits to be sent, as a server under backpressure does.
 */
static void
origin_tunnel_echo(struct origin_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n = evbuffer_get_length(in);

	c->ws_got += n;
	if (c->ws_left >= 0 && (uint64_t)c->ws_left < n)
		n = (size_t)c->ws_left;
	evbuffer_remove_buffer(in, out, n);
	if (c->ws_left >= 0 && (c->ws_left -= (int64_t)n) == 0) {
		origin_tunnel_close(c);
		return;
	}
	if (evbuffer_get_length(out) > ORIGIN_GEN_HIGH) {
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_GEN_LOW, 0);
	} else
		bufferevent_enable(c->bev, EV_READ);
}

/* Timer of /ws?push=MS: one more pattern byte, then re-arm. */
static void
origin_ws_push_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*c = arg;
	struct timeval		 tv;

	origin_pattern_add(bufferevent_get_output(c->bev), c->gen_off++, 1);
	tv.tv_sec = c->ws_push_ms / 1000;
	tv.tv_usec = (c->ws_push_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* /ws?push=MS: start sending a byte every MS ms. */
static void
origin_ws_push_start(struct origin_conn *c)
{
	int64_t	 ms = origin_query_number(c->target, "push");

	if (ms <= 0 || ms > 60000)
		return;
	c->ws_push_ms = (unsigned)ms;
	c->gen_off = 0;
	origin_timer_start(c, c->ws_push_ms, origin_ws_push_cb);
}

/*
 * /ws: a WebSocket handshake (RFC 6455 4.2.2: Sec-WebSocket-Accept from
 * the key), then every byte received is sent back as it is.
 */
static void
origin_mode_ws(struct origin_conn *c, const char *arg)
{
	static const char	 guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	unsigned char		 md[20];
	char			 key[128], both[256], accept[64];
	int64_t			 hello;

	if (origin_head_value(c, "Sec-WebSocket-Key", key, sizeof(key)) == -1 ||
	    origin_head_value(c, "Upgrade", both, sizeof(both)) == -1) {
		origin_reply_head(c, 400, "Bad Request", "", 0);
		origin_conn_done(c);
		return;
	}
	snprintf(both, sizeof(both), "%s%s", key, guid);
	SHA1((const unsigned char *)both, strlen(both), md);
	EVP_EncodeBlock((unsigned char *)accept, md, sizeof(md));
	evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\nX-Origin: %s\r\n\r\n", accept,
	    origin.name);
	if ((hello = origin_query_number(c->target, "hello")) > 0 &&
	    hello <= ORIGIN_GEN_HIGH)
		origin_pattern_add(out, 0, (size_t)hello);
	c->state = ORIGIN_TUNNEL;
	c->ws_left = origin_query_number(c->target, "close");
	if (c->ws_left == 0) {
		origin_tunnel_close(c);
		return;
	}
	origin_ws_push_start(c);
	origin_tunnel_echo(c);
}

/* SHA-256 of an evbuffer in lowercase hex (65 bytes with the NUL). */
static void
origin_sha256_hex(struct evbuffer *buf, char out[65])
{
	EVP_MD_CTX		*ctx = EVP_MD_CTX_new();
	struct evbuffer_iovec	*v;
	unsigned char		 md[32];
	unsigned		 mdlen = 0, i;
	int			 n, k;

	n = evbuffer_peek(buf, -1, NULL, NULL, 0);
	v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	n = evbuffer_peek(buf, -1, NULL, v, n);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (k = 0; k < n; k++)
		EVP_DigestUpdate(ctx, v[k].iov_base, v[k].iov_len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	free(v);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * mdlen] = '\0';
}

/* /sha: the SHA-256 of the request body in hex. */
static void
origin_mode_sha(struct origin_conn *c, const char *arg)
{
	char	 hex[65];
	char	 extra[64];

	origin_sha256_hex(c->body, hex);
	snprintf(extra, sizeof(extra), "X-Body-Len: %zu\r\n",
	    evbuffer_get_length(c->body));
	origin_reply(c, 200, "OK", extra, hex, strlen(hex));
}

/* /raw/KIND: a canned response, sent as is. */
static void
origin_mode_raw(struct origin_conn *c, const char *arg)
{
	size_t	 i, n = sizeof(origin_raws) / sizeof(origin_raws[0]);

	for (i = 0; i < n; i++)
		if (strcmp(arg, origin_raws[i].kind) == 0)
			break;
	if (i == n) {
		origin_reply(c, 404, "Not Found", "", "no such raw\n", 12);
		return;
	}
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    origin_raws[i].fmt, origin.name);
	c->close_after = origin_raws[i].close;
	origin_conn_done(c);
}

/* /health: 200, or 503 while the -f file exists. */
static void
origin_mode_health(struct origin_conn *c, const char *arg)
{
	if (origin.health_file != NULL && access(origin.health_file, F_OK) == 0)
		origin_reply(c, 503, "Service Unavailable", "", "unhealthy\n",
		    10);
	else
		origin_reply(c, 200, "OK", "", "healthy\n", 8);
}

static const struct origin_mode origin_modes[] = {
	{ "/bytes/",	origin_mode_bytes },
	{ "/chunked/",	origin_mode_chunked },
	{ "/close/",	origin_mode_close },
	{ "/closedirty/", origin_mode_closedirty },
	{ "/drip/",	origin_mode_drip },
	{ "/delay/",	origin_mode_delay },
	{ "/status/",	origin_mode_status },
	{ "/raw/",	origin_mode_raw },
	{ "/ws",	origin_mode_ws },
	{ "/hangup",	origin_mode_hangup },
	{ "/flood/",	origin_mode_flood },
	{ "/stall",	origin_mode_stall },
	{ "/echo",	origin_mode_echo },
	{ "/sha",	origin_mode_sha },
	{ "/health",	origin_mode_health },
};

/* The path of the target without its query, in a static buffer. */
static const char *
origin_path(const char *target)
{
	static char	 path[4096];
	size_t		 n = strcspn(target, "?");

	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, target, n);
	path[n] = '\0';
	return path;
}

/*
 * /conc: "busy N max M\n", the requests being answered now and the most
 * answered at once since the start or the last /conc/reset (which sets
 * the most to the number now). Not logged, not counted.
 */
static void
origin_mode_conc(struct origin_conn *c, const char *path)
{
	char	body[64];
	int	n;

	if (strcmp(path, "/conc/reset") == 0)
		origin.busy_max = origin.busy;
	n = snprintf(body, sizeof(body), "busy %u max %u\n", origin.busy,
	    origin.busy_max);
	origin_reply(c, 200, "OK", "", body, (size_t)n);
}

/* A complete request arrived: log it and answer by its path. */
static void
origin_dispatch(struct origin_conn *c)
{
	const char	*path = origin_path(c->target);
	char		 len[32];
	size_t		 i, plen;
	size_t		 n = sizeof(origin_modes) /
			    sizeof(origin_modes[0]);

	if (strcmp(path, "/conc") == 0 || strcmp(path, "/conc/reset") == 0) {
		origin_mode_conc(c, path);
		return;
	}
	c->busy = 1;
	if (++origin.busy > origin.busy_max)
		origin.busy_max = origin.busy;
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(c->body));
	origin_log(c, len);
	if (origin.close_reused && c->served > 0) {
		origin_mode_hangup(c, "");
		return;
	}
	if (origin_head_has(c, "X-Reply")) {
		origin_mode_reply(c);
		return;
	}
	for (i = 0; i < n; i++) {
		plen = strlen(origin_modes[i].prefix);
		if (strncmp(path, origin_modes[i].prefix, plen) != 0)
			continue;
		/* "/echo" must not match "/echoes"; "/bytes/" takes args. */
		if (origin_modes[i].prefix[plen - 1] != '/' &&
		    path[plen] != '\0')
			continue;
		origin_modes[i].fn(c, path + plen);
		return;
	}
	origin_reply(c, 404, "Not Found", "", "not found\n", 10);
}

/* Offset just past the empty line ending the head in, or -1 if none yet. */
static ssize_t
origin_head_end(struct evbuffer *in)
{
	struct evbuffer_ptr	 p, e;
	size_t			 eol;

	evbuffer_ptr_set(in, &p, 0, EVBUFFER_PTR_SET);
	for (;;) {
		e = evbuffer_search_eol(in, &p, &eol, EVBUFFER_EOL_CRLF);
		if (e.pos == -1)
			return -1;
		if (e.pos == p.pos)
			return (ssize_t)(e.pos + eol);
		evbuffer_ptr_set(in, &p, e.pos + eol, EVBUFFER_PTR_SET);
	}
}

/* The next line of head at *pos, without its line end; 0 at the end. */
static int
origin_next_line(const char *head, size_t len, size_t *pos,
    const char **line, size_t *linelen)
{
	const char	*nl;

	if (*pos >= len)
		return 0;
	nl = memchr(head + *pos, '\n', len - *pos);
	if (nl == NULL)
		return 0;
	*line = head + *pos;
	*linelen = (size_t)(nl - *line);
	if (*linelen > 0 && (*line)[*linelen - 1] == '\r')
		(*linelen)--;
	*pos = (size_t)(nl - head) + 1;
	return 1;
}

/* 1 when the list value (len bytes) mentions token, case-insensitive. */
static int
origin_value_has(const char *value, size_t len, const char *token)
{
	size_t	 tlen = strlen(token), i;

	for (i = 0; i + tlen <= len; i++)
		if (strncasecmp(value + i, token, tlen) == 0)
			return 1;
	return 0;
}

/* Apply one header line to the request framing; -1 when unusable. */
static int
origin_header(struct origin_conn *c, const char *line, size_t len)
{
	const char	*colon = memchr(line, ':', len);
	const char	*v;
	size_t		 nlen, vlen;
	char		 num[32];

	if (colon == NULL)
		return -1;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (vlen == 0 || vlen >= sizeof(num))
			return -1;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		if (origin_number(num) < 0)
			return -1;
		c->body_left = (uint64_t)origin_number(num);
	} else if (nlen == 17 &&
	    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		c->chunked = origin_value_has(v, vlen, "chunked");
	} else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0) {
		if (origin_value_has(v, vlen, "close"))
			c->keepalive = 0;
		else if (origin_value_has(v, vlen, "keep-alive"))
			c->keepalive = 1;
	}
	return 0;
}

/* Parse the request line "METHOD SP TARGET SP VERSION"; -1 if malformed. */
static int
origin_request_line(struct origin_conn *c, const char *line, size_t len)
{
	const char	*sp1 = memchr(line, ' ', len);
	const char	*sp2 = NULL, *p;
	size_t		 mlen, tlen;

	for (p = line; p < line + len; p++)
		if (*p == ' ')
			sp2 = p;
	if (sp1 == NULL || sp2 == sp1)
		return -1;
	mlen = (size_t)(sp1 - line);
	tlen = (size_t)(sp2 - sp1 - 1);
	if (mlen == 0 || mlen >= sizeof(c->method) || tlen == 0)
		return -1;
	memcpy(c->method, line, mlen);
	c->method[mlen] = '\0';
	c->target = strndup(sp1 + 1, tlen);
	c->is_head = strcmp(c->method, "HEAD") == 0;
	c->keepalive = !(len - (size_t)(sp2 + 1 - line) == 8 &&
	    strncmp(sp2 + 1, "HTTP/1.0", 8) == 0);
	return 0;
}

/* Parse c->head: request line and the headers that matter here. */
static int
origin_parse_head(struct origin_conn *c)
{
	const char	*line;
	size_t		 len, pos = 0;

	if (!origin_next_line(c->head, c->headlen, &pos, &line, &len) ||
	    origin_request_line(c, line, len) == -1)
		return -1;
	while (origin_next_line(c->head, c->headlen, &pos, &line, &len) &&
	    len > 0)
		if (origin_header(c, line, len) == -1)
			return -1;
	return 0;
}

/* Take a request head from the input if one is complete; 0 if not yet. */
static int
origin_read_head(struct origin_conn *c, struct evbuffer *in)
{
	ssize_t	 end;

	/* Empty lines before a request line are ignored (RFC 9112 2.2). */
	while (evbuffer_get_length(in) >= 1) {
		char	 ch[2];
		size_t	 n = evbuffer_copyout(in, ch, 2);

		if (ch[0] == '\n')
			evbuffer_drain(in, 1);
		else if (n == 2 && ch[0] == '\r' && ch[1] == '\n')
			evbuffer_drain(in, 2);
		else
			break;
	}
	end = origin_head_end(in);
	if (end == -1) {
		if (evbuffer_get_length(in) > ORIGIN_MAX_HEAD)
			origin_bad_request(c);
		return evbuffer_get_length(in) > ORIGIN_MAX_HEAD;
	}
	c->headlen = (size_t)end;
	c->head = malloc(c->headlen + 1);
	evbuffer_remove(in, c->head, c->headlen);
	c->head[c->headlen] = '\0';
	if (origin_parse_head(c) == -1) {
		origin_bad_request(c);
		return 1;
	}
	if (strcmp(origin_path(c->target), "/noread") == 0) {
		/* Never read again: a large body stalls the sender. */
		origin_log(c, "-");
		bufferevent_disable(c->bev, EV_READ);
		c->state = ORIGIN_SILENT;
		return 1;
	}
	c->chunk = ORIGIN_CHUNK_SIZE;
	c->state = ORIGIN_BODY;
	return 1;
}

/* Move up to c->body_left bytes of body from in; 1 when none are left. */
static int
origin_body_move(struct origin_conn *c, struct evbuffer *in)
{
	size_t	 n = evbuffer_get_length(in);

	if (n > c->body_left)
		n = (size_t)c->body_left;
	evbuffer_remove_buffer(in, c->body, n);
	c->body_left -= n;
	return c->body_left == 0;
}

/* One step of a chunked body: 1 progressed, 0 needs input, -1 malformed. */
static int
origin_chunk_step(struct origin_conn *c, struct evbuffer *in)
{
	char	*line, *end;
	int	 r = 1;

	if (c->chunk == ORIGIN_CHUNK_DATA) {
		if (evbuffer_get_length(in) == 0)
			return 0;
		if (origin_body_move(c, in))
			c->chunk = ORIGIN_CHUNK_DATA_END;
		return 1;
	}
	if ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) == NULL)
		return 0;
	if (c->chunk == ORIGIN_CHUNK_SIZE) {
		errno = 0;
		c->body_left = strtoull(line, &end, 16);
		if (end == line || errno != 0)
			r = -1;
		c->chunk = c->body_left == 0 ? ORIGIN_CHUNK_TRAILER :
		    ORIGIN_CHUNK_DATA;
	} else if (c->chunk == ORIGIN_CHUNK_DATA_END) {
		r = line[0] == '\0' ? 1 : -1;
		c->chunk = ORIGIN_CHUNK_SIZE;
	} else if (line[0] == '\0') {
		r = 2;		/* the empty line ending the trailers */
	}
	free(line);
	return r;
}

/* Read body bytes; dispatch once the request is complete. 0: need more. */
static int
origin_read_body(struct origin_conn *c, struct evbuffer *in)
{
	int	 r;

	if (!c->chunked) {
		if (c->body_left > 0 && !origin_body_move(c, in))
			return 0;
		origin_dispatch(c);
		return 1;
	}
	while ((r = origin_chunk_step(c, in)) == 1)
		;
	if (r == 0)
		return 0;
	if (r == -1)
		origin_bad_request(c);
	else
		origin_dispatch(c);
	return 1;
}

/* Process buffered input, then close the connection if it is finished. */
static void
origin_conn_run(struct origin_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	int		 progressed = 1;

	origin_idle_update(c);
	if (c->state == ORIGIN_TUNNEL) {
		origin_tunnel_echo(c);
		return;
	}
	while (progressed && (c->state == ORIGIN_HEAD ||
	    c->state == ORIGIN_BODY)) {
		if (c->state == ORIGIN_HEAD)
			progressed = origin_read_head(c, in);
		else
			progressed = origin_read_body(c, in);
	}
	if (c->state == ORIGIN_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		/* a TLS server's proper end; freeing alone sends none */
		if (origin.tls != NULL && !c->dirty_close)
			(void)SSL_shutdown(bufferevent_openssl_get_ssl(c->bev));
		origin_conn_free(c);
		return;
	}
	origin_idle_update(c);
}

/* Bytes arrived. */
static void
origin_read_cb(struct bufferevent *bev, void *arg)
{
	origin_conn_run(arg);
}

/* The output drained below the low mark: refill or finish closing. */
static void
origin_write_cb(struct bufferevent *bev, void *arg)
{
	struct origin_conn	*c = arg;

	if (c->state == ORIGIN_BUSY && c->gen_left > 0 && c->drip_ms == 0)
		origin_gen_fill(c);
	else if (c->state == ORIGIN_BUSY && c->flood_left > 0)
		origin_flood_fill(c);
	origin_conn_run(c);
}

/* EOF or error from the peer: drop the connection (logged for /ws). */
static void
origin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct origin_conn	*c = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (c->state == ORIGIN_TUNNEL && origin.log != NULL) {
		fprintf(origin.log, "%s - - %" PRIu64 "\n", what &
		    BEV_EVENT_ERROR ? "WSERR" : "WSEOF", c->ws_got);
		fflush(origin.log);
	}
	origin_conn_free(c);
}

/* A new client connection. */
static void
origin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct origin_conn	*c = calloc(1, sizeof(*c));
	SSL			*ssl = NULL;
	int			 one = 1;

	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	/* without it, a reused connection's second segment waits ~40 ms */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (origin.tls != NULL && (ssl = SSL_new(origin.tls)) == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	if (origin.tls != NULL) {
		/* BEV_OPT_CLOSE_ON_FREE frees the SSL too */
		c->bev = bufferevent_openssl_socket_new(origin.base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else
		c->bev = bufferevent_socket_new(origin.base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	c->body = evbuffer_new();
	c->keepalive = 1;
	c->idle_since = -1;
	c->idle = evtimer_new(origin.base, origin_idle_cb, c);
	LIST_INSERT_HEAD(&origin.conns, c, entry);
	bufferevent_setcb(c->bev, origin_read_cb, origin_write_cb,
	    origin_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	origin_idle_update(c);
}

/* SIGTERM or SIGINT: leave the loop. */
static void
origin_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(origin.base);
}

/* Bind 127.0.0.1:port (0: any) and return the listener; print "PORT <n>". */
static struct evconnlistener *
origin_listen(int port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct evconnlistener	*l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	l = evconnlistener_new_bind(origin.base, origin_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    128, (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL)
		return NULL;
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin,
	    &len) == -1) {
		evconnlistener_free(l);
		return NULL;
	}
	printf("PORT %d\n", ntohs(sin.sin_port));
	fflush(stdout);
	return l;
}

/* -T: a TLS server context with PREFIX.pem and PREFIX.key; -1 on error. */
static int
origin_tls_setup(const char *prefix)
{
	char	 cert[4096], key[4096];

	snprintf(cert, sizeof(cert), "%s.pem", prefix);
	snprintf(key, sizeof(key), "%s.key", prefix);
	if ((origin.tls = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(origin.tls, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(origin.tls, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(origin.tls, key,
	    SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "origin: -T %s: cannot use %s and %s\n",
		    prefix, cert, key);
		return -1;
	}
	return 0;
}

/* Parse the command line into origin.name and the log file. */
static int
origin_args(int argc, char **argv)
{
	int	 ch;

	origin.name = "origin";
	while ((ch = getopt(argc, argv, "n:l:p:k:Kf:CL:T:")) != -1) {
		switch (ch) {
		case 'n':
			origin.name = optarg;
			break;
		case 'p':
			origin.port = atoi(optarg);
			break;
		case 'k':
			origin.idle_ms = (unsigned)atoi(optarg);
			break;
		case 'K':
			origin.announce = 1;
			break;
		case 'f':
			origin.health_file = optarg;
			break;
		case 'C':
			origin.close_reused = 1;
			break;
		case 'L':
			origin.log_header = optarg;
			break;
		case 'T':
			if (origin_tls_setup(optarg) == -1)
				return -1;
			break;
		case 'l':
			if ((origin.log = fopen(optarg, "a")) == NULL) {
				perror(optarg);
				return -1;
			}
			break;
		default:
			fprintf(stderr, "usage: origin -n NAME [-p PORT] "
			    "[-l LOGFILE] [-k MS [-K]] [-f FILE] [-C] "
			    "[-L HEADER] [-T CERTS]\n");
			return -1;
		}
	}
	return 0;
}

/* Serve until a signal, then free everything. */
int
main(int argc, char **argv)
{
	struct evconnlistener	*l;
	struct event		*sigterm, *sigint;

	if (origin_args(argc, argv) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	LIST_INIT(&origin.conns);
	origin.base = event_base_new();
	if (origin.base == NULL || (l = origin_listen(origin.port)) == NULL) {
		fprintf(stderr, "origin: cannot listen: %s\n",
		    strerror(errno));
		return 1;
	}
	sigterm = evsignal_new(origin.base, SIGTERM, origin_signal_cb, NULL);
	sigint = evsignal_new(origin.base, SIGINT, origin_signal_cb, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(origin.base);
	while (!LIST_EMPTY(&origin.conns))
		origin_conn_free(LIST_FIRST(&origin.conns));
	evconnlistener_free(l);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(origin.base);
	SSL_CTX_free(origin.tls);
	libevent_global_shutdown();
	if (origin.log != NULL)
		fclose(origin.log);
	return 0;
}
