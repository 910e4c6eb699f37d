/*
 * loadgen: the load client of the drain tests.
 *
 * Usage: loadgen [options] HOST:PORT, loopback only (see loadgen_usage()).
 * It keeps -c keep-alive connections, each with one request outstanding at
 * a time, and classifies the outcome of every request exactly (enum
 * loadgen_outcome). A connection the server closes while it is idle, or
 * after a response that ends it ("Connection: close", a body delimited by
 * the close), is a reconnect, not a failure. Only a close or reset that
 * comes after the first byte of a request went to the socket is a failure.
 *
 * Two choices make that line honest. An idle connection is peeked at
 * (recv MSG_PEEK) right before it is reused, so a FIN or RST the kernel
 * already holds makes a reconnect even when the loop has not reported it
 * yet. And requests are written with send(2) at once, so "written" is the
 * moment of that call, not a later turn of the loop; what the socket does
 * not take goes through the bufferevent. A connection is opened when a
 * request is due, so "refused" always belongs to a request.
 *
 * Output: "loadgen: started" on stderr once the first requests are under
 * way; the summary on stdout, one key=value a line, then "loadgen: N ok,
 * N failed"; with -o one line per finished request. At -d, -n, SIGINT or
 * SIGTERM it stops sending and waits for the requests in flight, each
 * bounded by -t.
 *
 * -H NAME (up to LOADGEN_MAX_HDRS times) records the value of response
 * header NAME: each -o line gets one more field per -H, in the order
 * given, after OUTCOME: the value (its instances joined with ",", bytes
 * outside 0x21..0x7e as "_", cut at LOADGEN_HVAL_LEN - 1 bytes), "\"\""
 * for an empty value, "-" when the response had no such header or none
 * arrived. Without -H the lines are as they always were.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define LOADGEN_CONN_MAGIC	0x4c4f4144u	/* "LOAD" */
#define LOADGEN_MAX_CONNS	100000
#define LOADGEN_MAX_BODY	(64 * 1024 * 1024)
#define LOADGEN_MAX_MS		(24LL * 3600 * 1000)
#define LOADGEN_MAX_LINE	(16 * 1024)	/* one head or chunk line */
#define LOADGEN_MAX_HEAD	(64 * 1024)	/* a head, trailers included */
#define LOADGEN_MAX_HEADERS	200
#define LOADGEN_ORIGIN_LEN	64		/* X-Origin kept, NUL too */
#define LOADGEN_MAX_ORIGINS	64
#define LOADGEN_RETRY_MS	10	/* least pause after a failure */
#define LOADGEN_GRACE_MS	1000	/* beyond -t, when stopping */
#define LOADGEN_PROGRESS_MS	1000
#define LOADGEN_MAX_NOTES	20	/* failures described on stderr */
#define LOADGEN_FD_SPARE	32
#define LOADGEN_MAX_HDRS	4	/* -H names */
#define LOADGEN_HVAL_LEN	400	/* a recorded value, NUL too */

/* How a request ended; the names are the summary keys and -o outcomes. */
enum loadgen_outcome {
	LOADGEN_OK = 0,			/* a complete HTTP response */
	LOADGEN_REFUSED,		/* the connect failed */
	LOADGEN_EOF_AFTER_WRITE,	/* written, EOF before any response */
	LOADGEN_RESET_AFTER_WRITE,	/* written, error before any response */
	LOADGEN_TRUNCATED,		/* response begun, connection ended */
	LOADGEN_TIMEOUT,		/* no complete response within -t */
	LOADGEN_BAD_RESPONSE,		/* not a response we can parse */
	LOADGEN_NOUTCOMES
};

/* Why a connection was closed without a failure; all are reconnects. */
enum loadgen_reconnect {
	LOADGEN_RC_IDLE = 0,		/* the loop saw EOF/RST while idle */
	LOADGEN_RC_PEEKED,		/* the peek before reuse saw it */
	LOADGEN_RC_RESPONSE,		/* the response ended the connection */
	LOADGEN_RC_UNASKED,		/* bytes arrived while idle */
	LOADGEN_NRC
};

enum loadgen_method {
	LOADGEN_GET = 0,
	LOADGEN_POST,
	LOADGEN_MIX,			/* alternate GET and POST */
};

enum loadgen_conn_state {
	LOADGEN_CONN_CLOSED = 0,	/* no socket */
	LOADGEN_CONN_CONNECTING,	/* connect under way, request waits */
	LOADGEN_CONN_BUSY,		/* request written, response awaited */
	LOADGEN_CONN_IDLE,		/* keep-alive, between requests */
};

enum loadgen_phase {
	LOADGEN_PH_STATUS = 0,		/* status line */
	LOADGEN_PH_HEADERS,
	LOADGEN_PH_BODY,		/* Content-Length body */
	LOADGEN_PH_CLOSE,		/* body delimited by the close */
	LOADGEN_PH_CHUNK_SIZE,
	LOADGEN_PH_CHUNK_DATA,
	LOADGEN_PH_CHUNK_END,		/* CRLF after chunk data */
	LOADGEN_PH_TRAILERS,
	LOADGEN_PH_DONE,
};

enum loadgen_parse {
	LOADGEN_PARSE_MORE = 0,		/* need more bytes */
	LOADGEN_PARSE_AGAIN,		/* progress made, step again */
	LOADGEN_PARSE_DONE,		/* response complete */
	LOADGEN_PARSE_ERROR,
};

/* The response being read on a connection. */
struct loadgen_resp {
	enum loadgen_phase	 phase;
	int			 started;	/* a response byte arrived */
	int			 status;
	int			 minor;		/* HTTP/1.minor */
	int			 close;		/* connection ends after it */
	int			 keepalive;	/* "Connection: keep-alive" */
	int			 have_clen;
	int			 te;		/* Transfer-Encoding present */
	int			 chunked;	/* ... and chunked last */
	unsigned long long	 clen;
	unsigned long long	 left;		/* body or chunk bytes due */
	size_t			 headbytes;
	unsigned		 nheaders;
	char			 origin[LOADGEN_ORIGIN_LEN];
	unsigned		 hseen[LOADGEN_MAX_HDRS];	/* -H */
	char			 hval[LOADGEN_MAX_HDRS][LOADGEN_HVAL_LEN];
};

/* One client connection slot and the request it carries. */
struct loadgen_conn {
	unsigned		 magic;
	unsigned		 slot;
	enum loadgen_conn_state	 state;
	struct bufferevent	*bev;		/* NULL when closed */
	unsigned long long	 serial;	/* TCP connection, 1-based */
	struct event		*next;		/* think time, rate, retry */
	struct event		*deadline;	/* the request's -t */
	int			 active;	/* a request is outstanding */
	int			 slotted;	/* -r: its send time is taken */
	int			 post;
	double			 start;
	int			 err;		/* errno of the failure */
	struct loadgen_resp	 resp;
};

/* Responses counted by X-Origin. */
struct loadgen_origin {
	char			 name[LOADGEN_ORIGIN_LEN];
	unsigned long long	 count;
};

/* The process: options, the loop, the connections and the counters. */
static struct {
	/* options */
	struct sockaddr_in	 addr;
	const char		*hostport;
	unsigned		 nconns;
	long long		 duration_ms;	/* 0: none (with -n) */
	unsigned long long	 max_requests;	/* 0: none */
	double			 rate;		/* 0: flat out */
	long long		 think_min, think_max;
	enum loadgen_method	 method;
	const char		*path;
	size_t			 body_len;
	long long		 timeout_ms;
	const char		*out_path;
	int			 quiet;
	const char		*hdr_names[LOADGEN_MAX_HDRS];	/* -H */
	unsigned		 nhdrs;

	/* run */
	struct event_base	*base;
	struct loadgen_conn	*conns;
	char			*req[2];	/* GET, POST */
	size_t			 req_len[2];
	FILE			*out;
	double			 t0;		/* monotonic ms at start */
	double			 next_slot;	/* -r: next free send time */
	double			 end_ms;
	int			 stopping;
	unsigned long long	 outstanding;
	struct event		*stop_timer, *grace_timer, *progress;
	struct event		*sigint, *sigterm;

	/* counters */
	unsigned long long	 sent;
	unsigned long long	 outcomes[LOADGEN_NOUTCOMES];
	unsigned long long	 classes[6];	/* by status / 100 */
	unsigned long long	 reconnects[LOADGEN_NRC];
	unsigned long long	 opened;
	unsigned		 notes;
	struct loadgen_origin	 origins[LOADGEN_MAX_ORIGINS];
	unsigned		 norigins;
} loadgen;

static const char *const loadgen_outcome_names[LOADGEN_NOUTCOMES] = {
	"ok", "refused", "eof_after_write", "reset_after_write",
	"truncated", "timeout", "bad_response",
};

static void	loadgen_request_finish(struct loadgen_conn *,
		    enum loadgen_outcome);
static void	loadgen_stop(const char *);

/* Print the usage text on f. */
static void
loadgen_usage(FILE *f)
{
	fprintf(f,
	    "usage: loadgen [-q] [-c conns] [-d ms] [-n requests] [-r rate]\n"
	    "               [-w min-max] [-m GET|POST|mix] [-p path]"
	    " [-b bytes]\n"
	    "               [-t ms] [-o file] [-H name]... HOST:PORT\n"
	    "  -c N        keep-alive connections, one request outstanding"
	    " on each (10)\n"
	    "  -d MS       stop sending after MS ms (2000; with -n, 0 means"
	    " no limit)\n"
	    "  -n N        stop sending after N requests in total\n"
	    "  -r RATE     requests per second over all connections"
	    " (flat out)\n"
	    "  -w MIN-MAX  think time after a response, uniform in ms (0-0)\n"
	    "  -m METHOD   GET, POST or mix (alternate) (GET)\n"
	    "  -p PATH     request path (/)\n"
	    "  -b BYTES    POST body size (1024)\n"
	    "  -t MS       per-request timeout, connect included (10000)\n"
	    "  -o FILE     one line per request: START_MS END_MS CONN METHOD"
	    " STATUS\n"
	    "              ORIGIN OUTCOME [VALUE...]\n"
	    "  -H NAME     record response header NAME in -o (up to 4)\n"
	    "  -q          print only the summary and \"loadgen: started\"\n"
	    "HOST is loopback only: 127.0.0.0/8 or localhost.\n"
	    "Exit 0 after a run, 1 on a usage error, 2 if it cannot start.\n");
}

/* Parse a decimal integer that makes up all of s, within [min, max]. */
static int
loadgen_number(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse -w: "MIN-MAX" or a single "MS". */
static int
loadgen_parse_think(const char *s)
{
	char	 buf[64];
	char	*dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	if ((dash = strchr(buf, '-')) != NULL)
		*dash = '\0';
	if (loadgen_number(buf, 0, LOADGEN_MAX_MS, &loadgen.think_min) == -1)
		return -1;
	loadgen.think_max = loadgen.think_min;
	if (dash != NULL && loadgen_number(dash + 1, 0, LOADGEN_MAX_MS,
	    &loadgen.think_max) == -1)
		return -1;
	return loadgen.think_min <= loadgen.think_max ? 0 : -1;
}

/* Parse -m. */
static int
loadgen_parse_method(const char *s)
{
	if (strcasecmp(s, "GET") == 0)
		loadgen.method = LOADGEN_GET;
	else if (strcasecmp(s, "POST") == 0)
		loadgen.method = LOADGEN_POST;
	else if (strcasecmp(s, "mix") == 0)
		loadgen.method = LOADGEN_MIX;
	else
		return -1;
	return 0;
}

/* Parse -p: an origin-form target without spaces or control bytes. */
static int
loadgen_parse_path(const char *s)
{
	const unsigned char	*p;

	if (s[0] != '/' || strlen(s) > 4096)
		return -1;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return -1;
	loadgen.path = s;
	return 0;
}

/* Parse -r: a positive number of requests per second. */
static int
loadgen_parse_rate(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v <= 0 || v > 1e7)
		return -1;
	loadgen.rate = v;
	return 0;
}

/* Parse HOST:PORT, refusing any host that is not loopback. */
static int
loadgen_parse_addr(const char *s)
{
	char		 host[64];
	const char	*colon = strrchr(s, ':');
	long long	 port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host) ||
	    loadgen_number(colon + 1, 1, 65535, &port) == -1)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	memset(&loadgen.addr, 0, sizeof(loadgen.addr));
	loadgen.addr.sin_family = AF_INET;
	loadgen.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &loadgen.addr.sin_addr) != 1 ||
	    (ntohl(loadgen.addr.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "loadgen: %s: only loopback (127.0.0.0/8) "
		    "is allowed\n", s);
		return -1;
	}
	loadgen.hostport = s;
	return 0;
}

/* Parse one option into loadgen; -1 on a bad value. */
static int
loadgen_option(int ch, const char *arg)
{
	long long	 v;

	switch (ch) {
	case 'c':
		if (loadgen_number(arg, 1, LOADGEN_MAX_CONNS, &v) == -1)
			return -1;
		loadgen.nconns = (unsigned)v;
		return 0;
	case 'd':
		return loadgen_number(arg, 0, LOADGEN_MAX_MS,
		    &loadgen.duration_ms);
	case 'n':
		if (loadgen_number(arg, 1, LLONG_MAX, &v) == -1)
			return -1;
		loadgen.max_requests = (unsigned long long)v;
		return 0;
	case 'b':
		if (loadgen_number(arg, 0, LOADGEN_MAX_BODY, &v) == -1)
			return -1;
		loadgen.body_len = (size_t)v;
		return 0;
	case 't':
		return loadgen_number(arg, 1, LOADGEN_MAX_MS,
		    &loadgen.timeout_ms);
	case 'r':
		return loadgen_parse_rate(arg);
	case 'w':
		return loadgen_parse_think(arg);
	case 'm':
		return loadgen_parse_method(arg);
	case 'p':
		return loadgen_parse_path(arg);
	case 'H':
		if (loadgen.nhdrs == LOADGEN_MAX_HDRS || arg[0] == '\0')
			return -1;
		loadgen.hdr_names[loadgen.nhdrs++] = arg;
		return 0;
	}
	return -1;
}

/* Parse the command line; 0 to run, 1 for -h, -1 on a usage error. */
static int
loadgen_args(int argc, char **argv)
{
	int	 ch;

	loadgen.nconns = 10;
	loadgen.duration_ms = 2000;
	loadgen.path = "/";
	loadgen.body_len = 1024;
	loadgen.timeout_ms = 10000;
	while ((ch = getopt(argc, argv, "c:d:n:r:w:m:p:b:t:o:H:qh")) != -1) {
		if (ch == 'h')
			return 1;
		if (ch == 'q')
			loadgen.quiet = 1;
		else if (ch == 'o')
			loadgen.out_path = optarg;
		else if (ch == '?' || loadgen_option(ch, optarg) == -1) {
			if (ch != '?')
				fprintf(stderr, "loadgen: -%c %s: bad value\n",
				    ch, optarg);
			return -1;
		}
	}
	if (argc - optind != 1)
		return -1;
	if (loadgen.duration_ms == 0 && loadgen.max_requests == 0) {
		fprintf(stderr, "loadgen: -d 0 needs -n\n");
		return -1;
	}
	return loadgen_parse_addr(argv[optind]);
}

/* Milliseconds of the monotonic clock. */
static double
loadgen_clock(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds since loadgen started. */
static double
loadgen_now(void)
{
	return loadgen_clock() - loadgen.t0;
}

/* Arm a timer ms from now (negative: at once). */
static void
loadgen_timer_add(struct event *ev, double ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms - (double)tv.tv_sec * 1000) * 1000);
	event_add(ev, &tv);
}

/* The connection behind a callback argument; a stale pointer aborts. */
static struct loadgen_conn *
loadgen_conn_of(void *arg)
{
	struct loadgen_conn	*c = arg;

	if (c == NULL || c->magic != LOADGEN_CONN_MAGIC) {
		fprintf(stderr, "loadgen: bad connection magic\n");
		abort();
	}
	return c;
}

/* Build one request (head and body) in memory; NULL on failure. */
static char *
loadgen_request_build(int post, size_t *lenp)
{
	char	*buf, head[4352];
	int	 n;
	size_t	 i;

	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: sluice-loadgen\r\nAccept: */*\r\n",
	    post ? "POST" : "GET", loadgen.path, loadgen.hostport);
	if (post)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: application/octet-stream\r\n"
		    "Content-Length: %zu\r\n", loadgen.body_len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	*lenp = (size_t)n + (post ? loadgen.body_len : 0);
	if ((buf = malloc(*lenp)) == NULL)
		return NULL;
	memcpy(buf, head, (size_t)n);
	for (i = (size_t)n; i < *lenp; i++)
		buf[i] = (char)('a' + (i - (size_t)n) % 26);
	return buf;
}

/* Whether the next request is a POST, by -m. */
static int
loadgen_method_next(void)
{
	if (loadgen.method == LOADGEN_MIX)
		return (int)(loadgen.sent % 2);
	return loadgen.method == LOADGEN_POST;
}

/* A think time drawn uniformly from -w, in ms. */
static double
loadgen_think(void)
{
	long long	 span = loadgen.think_max - loadgen.think_min + 1;

	if (span <= 1)
		return (double)loadgen.think_min;
	return (double)(loadgen.think_min + random() % span);
}

/* Set a connection's state. */
static void
loadgen_conn_set_state(struct loadgen_conn *c, enum loadgen_conn_state s)
{
	c->state = s;
}

/* Close a connection's socket, if any; the request is left alone. */
static void
loadgen_conn_close(struct loadgen_conn *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->serial = 0;
	loadgen_conn_set_state(c, LOADGEN_CONN_CLOSED);
}

/* Close a connection that ended without failing a request; count why. */
static void
loadgen_conn_reconnect(struct loadgen_conn *c, enum loadgen_reconnect why)
{
	loadgen.reconnects[why]++;
	loadgen_conn_close(c);
}

/* Reconnects of every kind. */
static unsigned long long
loadgen_reconnects(void)
{
	unsigned long long	 n = 0;
	int			 i;

	for (i = 0; i < LOADGEN_NRC; i++)
		n += loadgen.reconnects[i];
	return n;
}

/*
 * Whether the server has closed an idle connection already: the kernel
 * holds its FIN or RST (or bytes nobody asked for), though the loop may not
 * have said so yet.
 */
static int
loadgen_conn_gone(struct loadgen_conn *c)
{
	char		 b;
	ssize_t		 n;

	n = recv(bufferevent_getfd(c->bev), &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	return 1;
}

/* Write the request: send(2) now, the rest through the bufferevent. */
static void
loadgen_conn_write(struct loadgen_conn *c)
{
	const char	*req = loadgen.req[c->post];
	size_t		 len = loadgen.req_len[c->post];
	ssize_t		 n;

	loadgen_conn_set_state(c, LOADGEN_CONN_BUSY);
	n = send(bufferevent_getfd(c->bev), req, len,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		c->err = errno;
		loadgen_request_finish(c, LOADGEN_RESET_AFTER_WRITE);
		return;
	}
	if (n == -1)
		n = 0;
	if ((size_t)n < len)
		evbuffer_add_reference(bufferevent_get_output(c->bev),
		    req + n, len - (size_t)n, NULL, NULL);
}

/* The connect completed: count the connection and write the request. */
static void
loadgen_conn_connected(struct loadgen_conn *c)
{
	c->serial = ++loadgen.opened;
	bufferevent_enable(c->bev, EV_READ);
	loadgen_conn_write(c);
}

static void	loadgen_read_cb(struct bufferevent *, void *);
static void	loadgen_event_cb(struct bufferevent *, short, void *);

/*
 * Open a socket and start connecting; -1 (errno set) when the connect
 * fails at once. The connect is made here rather than by
 * bufferevent_socket_connect() so that no callback runs inside it.
 */
static int
loadgen_conn_connect(struct loadgen_conn *c)
{
	int	 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&loadgen.addr,
	    sizeof(loadgen.addr)) == -1 && errno != EINPROGRESS) {
		c->err = errno;
		close(fd);
		errno = c->err;
		return -1;
	}
	c->bev = bufferevent_socket_new(loadgen.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		return -1;
	}
	bufferevent_setcb(c->bev, loadgen_read_cb, NULL, loadgen_event_cb, c);
	loadgen_conn_set_state(c, LOADGEN_CONN_CONNECTING);
	/* With no address, libevent waits for the connect we started. */
	if (bufferevent_socket_connect(c->bev, NULL, 0) == -1) {
		loadgen_conn_close(c);
		return -1;
	}
	return 0;
}

/* Forget the response of the previous request. */
static void
loadgen_resp_reset(struct loadgen_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->phase = LOADGEN_PH_STATUS;
}

/* Start a request on a connection, reconnecting first if it went away. */
static void
loadgen_request_start(struct loadgen_conn *c)
{
	c->active = 1;
	c->start = loadgen_now();
	c->post = loadgen_method_next();
	c->err = 0;
	loadgen_resp_reset(&c->resp);
	loadgen.sent++;
	loadgen.outstanding++;
	loadgen_timer_add(c->deadline, (double)loadgen.timeout_ms);
	if (loadgen.max_requests > 0 && loadgen.sent >= loadgen.max_requests)
		loadgen_stop("-n reached");
	if (c->state == LOADGEN_CONN_IDLE && loadgen_conn_gone(c)) {
		/* Closed while idle, nothing written: not a failure. */
		loadgen_conn_reconnect(c, LOADGEN_RC_PEEKED);
	}
	if (c->state == LOADGEN_CONN_IDLE) {
		loadgen_conn_write(c);
		return;
	}
	if (loadgen_conn_connect(c) == -1) {
		c->err = errno;
		loadgen_request_finish(c, LOADGEN_REFUSED);
	}
}

/* Arm the timer of a connection's next request after its think time. */
static void
loadgen_conn_schedule(struct loadgen_conn *c, int think, int failed)
{
	double	 delay = think ? loadgen_think() : 0;

	if (failed && delay < LOADGEN_RETRY_MS)
		delay = LOADGEN_RETRY_MS;
	c->slotted = 0;
	loadgen_timer_add(c->next, delay);
}

/*
 * With -r, take the next free send time once the think time is over (not
 * before, or a long think would push back connections ready sooner); 1
 * when it lies ahead and the timer is armed for it.
 */
static int
loadgen_conn_slot(struct loadgen_conn *c)
{
	double	 now = loadgen_now(), slot = loadgen.next_slot;

	if (loadgen.rate <= 0 || c->slotted)
		return 0;
	if (slot < now)
		slot = now;
	loadgen.next_slot = slot + 1000.0 / loadgen.rate;
	c->slotted = 1;
	if (slot <= now)
		return 0;
	loadgen_timer_add(c->next, slot - now);
	return 1;
}

/* Timer of the next request: think time over, then the -r slot. */
static void
loadgen_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen_conn	*c = loadgen_conn_of(arg);

	(void)fd;
	(void)what;
	if (loadgen.stopping || c->active || loadgen_conn_slot(c))
		return;
	loadgen_request_start(c);
}

/* Timer of -t: the request is a timeout. */
static void
loadgen_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen_conn	*c = loadgen_conn_of(arg);

	(void)fd;
	(void)what;
	if (c->active)
		loadgen_request_finish(c, LOADGEN_TIMEOUT);
}

/* Copy an X-Origin value, keeping it to one safe token. */
static void
loadgen_origin_clean(char *dst, const char *src)
{
	size_t	 i;

	for (i = 0; src[i] != '\0' && i < LOADGEN_ORIGIN_LEN - 1; i++) {
		if ((src[i] >= 'a' && src[i] <= 'z') ||
		    (src[i] >= 'A' && src[i] <= 'Z') ||
		    (src[i] >= '0' && src[i] <= '9') ||
		    strchr("._:-", src[i]) != NULL)
			dst[i] = src[i];
		else
			dst[i] = '_';
	}
	dst[i] = '\0';
	if (i == 0)
		strcpy(dst, "-");
}

/* The counter of an origin; with add, a new one when absent. */
static struct loadgen_origin *
loadgen_origin_get(const char *name, int add)
{
	struct loadgen_origin	*o;
	unsigned		 i;

	for (i = 0; i < loadgen.norigins; i++)
		if (strcmp(loadgen.origins[i].name, name) == 0)
			return &loadgen.origins[i];
	if (!add || loadgen.norigins == LOADGEN_MAX_ORIGINS)
		return NULL;
	o = &loadgen.origins[loadgen.norigins++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

/* Count one complete response under its origin; the last slot is kept
 * for "_other", every origin beyond the table. */
static void
loadgen_origin_count(const char *name)
{
	struct loadgen_origin	*o;

	o = loadgen_origin_get(name,
	    loadgen.norigins < LOADGEN_MAX_ORIGINS - 1);
	if (o == NULL)
		o = loadgen_origin_get("_other", 1);
	o->count++;
}

/* The CONN of -o: the TCP connection's number, "-" before a connect. */
static const char *
loadgen_conn_name(const struct loadgen_conn *c)
{
	static char	 buf[24];

	if (c->serial == 0)
		return "-";
	snprintf(buf, sizeof(buf), "%llu", c->serial);
	return buf;
}

/* Append the -o line of a finished request. */
static void
loadgen_out_line(struct loadgen_conn *c, enum loadgen_outcome o, double end)
{
	char		 status[12];
	unsigned	 i;

	if (c->resp.status > 0)
		snprintf(status, sizeof(status), "%d", c->resp.status);
	else
		strcpy(status, "-");
	fprintf(loadgen.out, "%llu %llu %s %s %s %s %s",
	    (unsigned long long)c->start, (unsigned long long)end,
	    loadgen_conn_name(c),
	    c->post ? "POST" : "GET", status,
	    c->resp.origin[0] != '\0' ? c->resp.origin : "-",
	    loadgen_outcome_names[o]);
	for (i = 0; i < loadgen.nhdrs; i++)
		fprintf(loadgen.out, " %s", c->resp.hseen[i] == 0 ? "-" :
		    c->resp.hval[i][0] == '\0' ? "\"\"" : c->resp.hval[i]);
	fputc('\n', loadgen.out);
}

/* Describe a failure on stderr, the first LOADGEN_MAX_NOTES of them. */
static void
loadgen_note(struct loadgen_conn *c, enum loadgen_outcome o, double end)
{
	if (loadgen.quiet || loadgen.notes > LOADGEN_MAX_NOTES)
		return;
	if (loadgen.notes++ == LOADGEN_MAX_NOTES) {
		fprintf(stderr, "loadgen: further failures not described\n");
		return;
	}
	fprintf(stderr, "loadgen: %.0f ms: slot %u conn %s %s: %s after "
	    "%.0f ms%s%s\n", end, c->slot, loadgen_conn_name(c),
	    c->post ? "POST" : "GET", loadgen_outcome_names[o],
	    end - c->start, c->err != 0 ? ": " : "",
	    c->err != 0 ? strerror(c->err) : "");
}

/* Count a finished request and log it. */
static void
loadgen_record(struct loadgen_conn *c, enum loadgen_outcome o, double end)
{
	loadgen.outcomes[o]++;
	if (o == LOADGEN_OK) {
		loadgen.classes[c->resp.status / 100]++;
		loadgen_origin_count(c->resp.origin[0] != '\0' ?
		    c->resp.origin : "-");
	}
	if (loadgen.out != NULL)
		loadgen_out_line(c, o, end);
	if (o != LOADGEN_OK)
		loadgen_note(c, o, end);
}

/*
 * After a complete response: keep the connection for the next request, or
 * close it when the response ended it; that close is a reconnect.
 */
static void
loadgen_conn_release(struct loadgen_conn *c)
{
	struct bufferevent	*bev = c->bev;

	if (c->resp.close ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
		/* Unsent request bytes or unasked response bytes: unusable. */
		loadgen_conn_reconnect(c, LOADGEN_RC_RESPONSE);
		return;
	}
	loadgen_conn_set_state(c, LOADGEN_CONN_IDLE);
}

/* Stop the loop once stopping and no request is in flight. */
static void
loadgen_maybe_done(void)
{
	if (loadgen.stopping && loadgen.outstanding == 0)
		event_base_loopbreak(loadgen.base);
}

/* The request on c ended with outcome o: count it, then go on or stop. */
static void
loadgen_request_finish(struct loadgen_conn *c, enum loadgen_outcome o)
{
	loadgen_record(c, o, loadgen_now());
	event_del(c->deadline);
	c->active = 0;
	loadgen.outstanding--;
	if (o == LOADGEN_OK)
		loadgen_conn_release(c);
	else
		loadgen_conn_close(c);
	if (loadgen.stopping) {
		loadgen_conn_close(c);
		loadgen_maybe_done();
		return;
	}
	loadgen_conn_schedule(c, 1, o != LOADGEN_OK);
}

/*
 * Take one line (CRLF or LF) of a head, chunk size or trailer from in.
 * NULL with *err 0 when the line is not all there yet, with *err 1 when it
 * is too long, holds a NUL or the head grows too big.
 */
static char *
loadgen_resp_line(struct loadgen_resp *r, struct evbuffer *in, int *err)
{
	struct evbuffer_ptr	 p;
	size_t			 eol, n;
	char			*line;

	*err = 0;
	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_CRLF);
	if (p.pos == -1) {
		*err = evbuffer_get_length(in) > LOADGEN_MAX_LINE;
		return NULL;
	}
	r->headbytes += (size_t)p.pos + eol;
	if ((size_t)p.pos > LOADGEN_MAX_LINE ||
	    r->headbytes > LOADGEN_MAX_HEAD) {
		*err = 1;
		return NULL;
	}
	line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (line == NULL || strlen(line) != n) {
		free(line);
		*err = 1;
		return NULL;
	}
	return line;
}

/* Parse the status line "HTTP/1.x NNN reason". */
static enum loadgen_parse
loadgen_resp_status(struct loadgen_resp *r, const char *line)
{
	int	 i;

	if (strncmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ')
		return LOADGEN_PARSE_ERROR;
	for (i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return LOADGEN_PARSE_ERROR;
	if (line[12] != '\0' && line[12] != ' ')
		return LOADGEN_PARSE_ERROR;
	r->minor = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	/* We never ask for an upgrade, so 101 is as wrong as 099. */
	if (r->status < 100 || r->status > 599 || r->status == 101)
		return LOADGEN_PARSE_ERROR;
	r->phase = LOADGEN_PH_HEADERS;
	return LOADGEN_PARSE_AGAIN;
}

/* Whether ch may appear in a header name (an RFC 9110 token). */
static int
loadgen_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Strip spaces and tabs from both ends of s, in place. */
static char *
loadgen_trim(char *s)
{
	size_t	 n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Content-Length: digits only; repeated, it must repeat the same value. */
static int
loadgen_resp_clen(struct loadgen_resp *r, const char *v)
{
	long long	 n;

	if (strlen(v) > 18 || loadgen_number(v, 0, LLONG_MAX, &n) == -1)
		return -1;
	if (r->have_clen && r->clen != (unsigned long long)n)
		return -1;
	r->have_clen = 1;
	r->clen = (unsigned long long)n;
	return 0;
}

/* Transfer-Encoding: the body is chunked when chunked is the last coding. */
static void
loadgen_resp_te(struct loadgen_resp *r, char *v)
{
	char	*last = strrchr(v, ',');

	last = loadgen_trim(last != NULL ? last + 1 : v);
	r->te = 1;
	r->chunked = strcasecmp(last, "chunked") == 0;
}

/* Connection: note "close" and "keep-alive" among its tokens. */
static void
loadgen_resp_connection(struct loadgen_resp *r, char *v)
{
	char	*tok, *save = NULL;

	for (tok = strtok_r(v, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		tok = loadgen_trim(tok);
		if (strcasecmp(tok, "close") == 0)
			r->close = 1;
		else if (strcasecmp(tok, "keep-alive") == 0)
			r->keepalive = 1;
	}
}

/* -H: append the value v of header name to what r records for it. */
static void
loadgen_resp_record(struct loadgen_resp *r, const char *name, const char *v)
{
	unsigned	 i;
	size_t		 at, k;

	for (i = 0; i < loadgen.nhdrs; i++) {
		if (strcasecmp(name, loadgen.hdr_names[i]) != 0)
			continue;
		at = strlen(r->hval[i]);
		if (r->hseen[i]++ > 0 && at + 1 < LOADGEN_HVAL_LEN)
			r->hval[i][at++] = ',';
		for (k = 0; v[k] != '\0' && at + 1 < LOADGEN_HVAL_LEN; k++)
			r->hval[i][at++] = v[k] >= 0x21 && v[k] <= 0x7e ?
			    v[k] : '_';
		r->hval[i][at] = '\0';
	}
}

/* Parse one header line; only the framing headers and X-Origin matter
 * (and the -H names). */
static enum loadgen_parse
loadgen_resp_header(struct loadgen_resp *r, char *line)
{
	char	*colon = strchr(line, ':'), *p, *v;

	if (++r->nheaders > LOADGEN_MAX_HEADERS || colon == NULL ||
	    colon == line)
		return LOADGEN_PARSE_ERROR;
	/* This also refuses obs-fold and a space before the colon. */
	for (p = line; p < colon; p++)
		if (!loadgen_tchar(*p))
			return LOADGEN_PARSE_ERROR;
	*colon = '\0';
	v = loadgen_trim(colon + 1);
	if (strcasecmp(line, "Content-Length") == 0) {
		if (loadgen_resp_clen(r, v) == -1)
			return LOADGEN_PARSE_ERROR;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0)
		loadgen_resp_te(r, v);
	else if (strcasecmp(line, "Connection") == 0)
		loadgen_resp_connection(r, v);
	else if (strcasecmp(line, "X-Origin") == 0 && r->origin[0] == '\0')
		loadgen_origin_clean(r->origin, v);
	loadgen_resp_record(r, line, v);
	return LOADGEN_PARSE_AGAIN;
}

/* The head ended: skip an interim 1xx, or choose how the body is framed. */
static enum loadgen_parse
loadgen_resp_head_end(struct loadgen_resp *r)
{
	if (r->status < 200) {
		loadgen_resp_reset(r);
		r->started = 1;
		return LOADGEN_PARSE_AGAIN;
	}
	/* A sender must not send both (RFC 9112 6.1); sluice must not. */
	if (r->te && r->have_clen)
		return LOADGEN_PARSE_ERROR;
	if (r->minor == 0 && !r->keepalive)
		r->close = 1;
	if (r->status == 204 || r->status == 304)
		r->phase = LOADGEN_PH_DONE;
	else if (r->te && r->chunked)
		r->phase = LOADGEN_PH_CHUNK_SIZE;
	else if (r->have_clen) {
		r->left = r->clen;
		r->phase = r->clen > 0 ? LOADGEN_PH_BODY : LOADGEN_PH_DONE;
	} else {
		r->phase = LOADGEN_PH_CLOSE;
		r->close = 1;
	}
	return r->phase == LOADGEN_PH_DONE ? LOADGEN_PARSE_DONE :
	    LOADGEN_PARSE_AGAIN;
}

/* Parse a chunk-size line: hex digits, then perhaps extensions. */
static enum loadgen_parse
loadgen_resp_chunk_size(struct loadgen_resp *r, const char *line)
{
	unsigned long long	 n = 0;
	const char		*p;
	int			 digits = 0, d;

	for (p = line; *p != '\0'; p++, digits++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (*p | 0x20) - 'a' + 10;
		else
			break;
		if (digits == 15)
			return LOADGEN_PARSE_ERROR;
		n = n * 16 + (unsigned long long)d;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (digits == 0 || (*p != '\0' && *p != ';'))
		return LOADGEN_PARSE_ERROR;
	r->left = n;
	r->phase = n > 0 ? LOADGEN_PH_CHUNK_DATA : LOADGEN_PH_TRAILERS;
	return LOADGEN_PARSE_AGAIN;
}

/* Handle one complete line in the phase that expects lines. */
static enum loadgen_parse
loadgen_resp_line_step(struct loadgen_resp *r, char *line)
{
	switch (r->phase) {
	case LOADGEN_PH_STATUS:
		return loadgen_resp_status(r, line);
	case LOADGEN_PH_HEADERS:
		if (line[0] == '\0')
			return loadgen_resp_head_end(r);
		return loadgen_resp_header(r, line);
	case LOADGEN_PH_CHUNK_SIZE:
		return loadgen_resp_chunk_size(r, line);
	case LOADGEN_PH_CHUNK_END:
		if (line[0] != '\0')
			return LOADGEN_PARSE_ERROR;
		r->phase = LOADGEN_PH_CHUNK_SIZE;
		return LOADGEN_PARSE_AGAIN;
	case LOADGEN_PH_TRAILERS:
		if (line[0] != '\0')
			return LOADGEN_PARSE_AGAIN;
		r->phase = LOADGEN_PH_DONE;
		return LOADGEN_PARSE_DONE;
	default:
		return LOADGEN_PARSE_ERROR;
	}
}

/* Drop body bytes, at most r->left of them. */
static enum loadgen_parse
loadgen_resp_skip(struct loadgen_resp *r, struct evbuffer *in,
    enum loadgen_phase then)
{
	size_t	 n = evbuffer_get_length(in);

	if (n == 0)
		return LOADGEN_PARSE_MORE;
	if (n > r->left)
		n = (size_t)r->left;
	evbuffer_drain(in, n);
	r->left -= n;
	if (r->left > 0)
		return LOADGEN_PARSE_MORE;
	r->phase = then;
	return then == LOADGEN_PH_DONE ? LOADGEN_PARSE_DONE :
	    LOADGEN_PARSE_AGAIN;
}

/* Make one step of parsing; every AGAIN consumed at least one byte. */
static enum loadgen_parse
loadgen_resp_step(struct loadgen_resp *r, struct evbuffer *in)
{
	enum loadgen_parse	 p;
	char			*line;
	int			 err;

	switch (r->phase) {
	case LOADGEN_PH_BODY:
		return loadgen_resp_skip(r, in, LOADGEN_PH_DONE);
	case LOADGEN_PH_CHUNK_DATA:
		return loadgen_resp_skip(r, in, LOADGEN_PH_CHUNK_END);
	case LOADGEN_PH_CLOSE:
		evbuffer_drain(in, evbuffer_get_length(in));
		return LOADGEN_PARSE_MORE;
	case LOADGEN_PH_DONE:
		return LOADGEN_PARSE_DONE;
	default:
		break;
	}
	if ((line = loadgen_resp_line(r, in, &err)) == NULL)
		return err ? LOADGEN_PARSE_ERROR : LOADGEN_PARSE_MORE;
	p = loadgen_resp_line_step(r, line);
	free(line);
	return p;
}

/* Parse what has arrived, as far as it goes. */
static enum loadgen_parse
loadgen_resp_feed(struct loadgen_resp *r, struct evbuffer *in)
{
	enum loadgen_parse	 p = LOADGEN_PARSE_AGAIN;
	size_t			 bound = evbuffer_get_length(in) + 1;

	if (evbuffer_get_length(in) > 0)
		r->started = 1;
	while (p == LOADGEN_PARSE_AGAIN && bound-- > 0)
		p = loadgen_resp_step(r, in);
	return p == LOADGEN_PARSE_AGAIN ? LOADGEN_PARSE_MORE : p;
}

/* Bytes arrived: parse the response, or drop a connection that talks
 * out of turn. */
static void
loadgen_read_cb(struct bufferevent *bev, void *arg)
{
	struct loadgen_conn	*c = loadgen_conn_of(arg);

	if (c->state != LOADGEN_CONN_BUSY) {
		/* Bytes while idle (a 408, say): the connection is spent. */
		loadgen_conn_reconnect(c, LOADGEN_RC_UNASKED);
		return;
	}
	switch (loadgen_resp_feed(&c->resp, bufferevent_get_input(bev))) {
	case LOADGEN_PARSE_DONE:
		loadgen_request_finish(c, LOADGEN_OK);
		break;
	case LOADGEN_PARSE_ERROR:
		loadgen_request_finish(c, LOADGEN_BAD_RESPONSE);
		break;
	default:
		break;
	}
}

/* EOF or error while a request is outstanding on the connection. */
static void
loadgen_event_busy(struct loadgen_conn *c, short what)
{
	if ((what & BEV_EVENT_EOF) && c->resp.phase == LOADGEN_PH_CLOSE)
		loadgen_request_finish(c, LOADGEN_OK);
	else if (c->resp.started)
		loadgen_request_finish(c, LOADGEN_TRUNCATED);
	else if (what & BEV_EVENT_EOF)
		loadgen_request_finish(c, LOADGEN_EOF_AFTER_WRITE);
	else
		loadgen_request_finish(c, LOADGEN_RESET_AFTER_WRITE);
}

/* Connected, EOF or error on a connection. */
static void
loadgen_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct loadgen_conn	*c = loadgen_conn_of(arg);

	(void)bev;
	if (what & BEV_EVENT_ERROR)
		c->err = EVUTIL_SOCKET_ERROR();
	switch (c->state) {
	case LOADGEN_CONN_CONNECTING:
		if (what & BEV_EVENT_CONNECTED)
			loadgen_conn_connected(c);
		else
			loadgen_request_finish(c, LOADGEN_REFUSED);
		break;
	case LOADGEN_CONN_BUSY:
		loadgen_event_busy(c, what);
		break;
	default:
		/* Closed while idle, nothing written: a reconnect. */
		c->err = 0;
		loadgen_conn_reconnect(c, LOADGEN_RC_IDLE);
		break;
	}
}

/* Stop sending: drop pending requests and idle connections, then wait. */
static void
loadgen_stop(const char *why)
{
	unsigned	 i;

	if (loadgen.stopping)
		return;
	loadgen.stopping = 1;
	event_del(loadgen.stop_timer);
	event_del(loadgen.progress);
	for (i = 0; i < loadgen.nconns; i++) {
		event_del(loadgen.conns[i].next);
		if (!loadgen.conns[i].active)
			loadgen_conn_close(&loadgen.conns[i]);
	}
	loadgen_timer_add(loadgen.grace_timer,
	    (double)(loadgen.timeout_ms + LOADGEN_GRACE_MS));
	if (!loadgen.quiet)
		fprintf(stderr, "loadgen: %.0f ms: stopping (%s), %llu in "
		    "flight\n", loadgen_now(), why, loadgen.outstanding);
	loadgen_maybe_done();
}

/* Timer of -d. */
static void
loadgen_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	loadgen_stop("-d reached");
}

/* SIGINT or SIGTERM: the loop stops sending. */
static void
loadgen_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	loadgen_stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Past the last deadline when stopping: whatever remains is a timeout. */
static void
loadgen_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	unsigned	 i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < loadgen.nconns; i++)
		if (loadgen.conns[i].active)
			loadgen_request_finish(&loadgen.conns[i],
			    LOADGEN_TIMEOUT);
	loadgen_maybe_done();
}

/* The number of failed requests: all that are not complete responses. */
static unsigned long long
loadgen_failed(void)
{
	unsigned long long	 n = 0;
	int			 o;

	for (o = LOADGEN_OK + 1; o < LOADGEN_NOUTCOMES; o++)
		n += loadgen.outcomes[o];
	return n;
}

/* Once a second without -q: a progress line on stderr. */
static void
loadgen_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fprintf(stderr, "loadgen: %.0f ms: sent=%llu ok=%llu failed=%llu "
	    "reconnects=%llu\n", loadgen_now(), loadgen.sent,
	    loadgen.outcomes[LOADGEN_OK], loadgen_failed(),
	    loadgen_reconnects());
	loadgen_timer_add(loadgen.progress, LOADGEN_PROGRESS_MS);
}

/* Order origins by name. */
static int
loadgen_origin_cmp(const void *a, const void *b)
{
	const struct loadgen_origin	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Print the summary on stdout. */
static void
loadgen_summary(void)
{
	double		 secs = loadgen.end_ms / 1000.0;
	unsigned	 i;
	int		 o;

	printf("sent=%llu\n", loadgen.sent);
	printf("ok=%llu\n", loadgen.outcomes[LOADGEN_OK]);
	for (i = 2; i <= 5; i++)
		printf("s%uxx=%llu\n", i, loadgen.classes[i]);
	for (o = LOADGEN_OK + 1; o < LOADGEN_NOUTCOMES; o++)
		printf("%s=%llu\n", loadgen_outcome_names[o],
		    loadgen.outcomes[o]);
	printf("failed=%llu\n", loadgen_failed());
	printf("reconnects=%llu\n", loadgen_reconnects());
	printf("connections_opened=%llu\n", loadgen.opened);
	printf("elapsed_ms=%.0f\n", loadgen.end_ms);
	printf("rps=%.1f\n", secs > 0 ?
	    (double)loadgen.outcomes[LOADGEN_OK] / secs : 0.0);
	qsort(loadgen.origins, loadgen.norigins, sizeof(loadgen.origins[0]),
	    loadgen_origin_cmp);
	for (i = 0; i < loadgen.norigins; i++)
		printf("origin.%s=%llu\n", loadgen.origins[i].name,
		    loadgen.origins[i].count);
	printf("loadgen: %llu ok, %llu failed\n",
	    loadgen.outcomes[LOADGEN_OK], loadgen_failed());
	fflush(stdout);
}

/* Raise the open-file limit as far as allowed; -1 if -c cannot fit. */
static int
loadgen_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur < (rlim_t)loadgen.nconns + LOADGEN_FD_SPARE) {
		fprintf(stderr, "loadgen: -c %u exceeds the open-file "
		    "limit\n", loadgen.nconns);
		return -1;
	}
	return 0;
}

/* Allocate the connection slots and their timers. */
static int
loadgen_conns_new(void)
{
	struct loadgen_conn	*c;
	unsigned		 i;

	loadgen.conns = calloc(loadgen.nconns, sizeof(*loadgen.conns));
	if (loadgen.conns == NULL)
		return -1;
	for (i = 0; i < loadgen.nconns; i++) {
		c = &loadgen.conns[i];
		c->magic = LOADGEN_CONN_MAGIC;
		c->slot = i;
		c->next = evtimer_new(loadgen.base, loadgen_next_cb, c);
		c->deadline = evtimer_new(loadgen.base, loadgen_deadline_cb,
		    c);
		if (c->next == NULL || c->deadline == NULL)
			return -1;
	}
	return 0;
}

/* The event loop, with precise timers: think times and -r are in ms and
 * the default coarse clock is off by a few of them. */
static struct event_base *
loadgen_base_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Create the loop, the requests, the slots, timers and signal events. */
static int
loadgen_setup(void)
{
	if (loadgen_fd_limit() == -1)
		return -1;
	if (loadgen.out_path != NULL &&
	    (loadgen.out = fopen(loadgen.out_path, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", loadgen.out_path,
		    strerror(errno));
		return -1;
	}
	loadgen.req[0] = loadgen_request_build(0, &loadgen.req_len[0]);
	loadgen.req[1] = loadgen_request_build(1, &loadgen.req_len[1]);
	if ((loadgen.base = loadgen_base_new()) == NULL ||
	    loadgen.req[0] == NULL || loadgen.req[1] == NULL ||
	    loadgen_conns_new() == -1)
		return -1;
	loadgen.stop_timer = evtimer_new(loadgen.base, loadgen_stop_cb, NULL);
	loadgen.grace_timer = evtimer_new(loadgen.base, loadgen_grace_cb,
	    NULL);
	loadgen.progress = evtimer_new(loadgen.base, loadgen_progress_cb,
	    NULL);
	loadgen.sigint = evsignal_new(loadgen.base, SIGINT,
	    loadgen_signal_cb, NULL);
	loadgen.sigterm = evsignal_new(loadgen.base, SIGTERM,
	    loadgen_signal_cb, NULL);
	if (loadgen.stop_timer == NULL || loadgen.grace_timer == NULL ||
	    loadgen.progress == NULL || loadgen.sigint == NULL ||
	    loadgen.sigterm == NULL)
		return -1;
	evsignal_add(loadgen.sigint, NULL);
	evsignal_add(loadgen.sigterm, NULL);
	return 0;
}

/* Start the clock and the first request of every connection. */
static void
loadgen_start(void)
{
	unsigned	 i;

	loadgen.t0 = loadgen_clock();
	if (loadgen.duration_ms > 0)
		loadgen_timer_add(loadgen.stop_timer,
		    (double)loadgen.duration_ms);
	if (!loadgen.quiet)
		loadgen_timer_add(loadgen.progress, LOADGEN_PROGRESS_MS);
	/* The first requests wait for no think time, only for -r. */
	for (i = 0; i < loadgen.nconns && !loadgen.stopping; i++)
		if (!loadgen_conn_slot(&loadgen.conns[i]))
			loadgen_request_start(&loadgen.conns[i]);
	fprintf(stderr, "loadgen: started\n");
}

/* Free one slot's socket and timers. */
static void
loadgen_conn_free(struct loadgen_conn *c)
{
	loadgen_conn_close(c);
	if (c->next != NULL)
		event_free(c->next);
	if (c->deadline != NULL)
		event_free(c->deadline);
	c->magic = 0;
}

/* Free everything setup made, in any state setup left it. */
static void
loadgen_teardown(void)
{
	struct event	*evs[] = { loadgen.stop_timer, loadgen.grace_timer,
			    loadgen.progress, loadgen.sigint, loadgen.sigterm };
	unsigned	 i;

	for (i = 0; loadgen.conns != NULL && i < loadgen.nconns; i++)
		loadgen_conn_free(&loadgen.conns[i]);
	free(loadgen.conns);
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (loadgen.base != NULL)
		event_base_free(loadgen.base);
	libevent_global_shutdown();
	free(loadgen.req[0]);
	free(loadgen.req[1]);
	if (loadgen.out != NULL)
		fclose(loadgen.out);
}

/* Run the load, print the summary, free everything. */
int
main(int argc, char **argv)
{
	int	 r;

	if ((r = loadgen_args(argc, argv)) != 0) {
		loadgen_usage(r == 1 ? stdout : stderr);
		return r == 1 ? 0 : 1;
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	if (loadgen_setup() == -1) {
		fprintf(stderr, "loadgen: cannot start\n");
		loadgen_teardown();
		return 2;
	}
	loadgen_start();
	/* -n may be reached, all refused, before the loop even runs. */
	if (!loadgen.stopping || loadgen.outstanding > 0)
		event_base_dispatch(loadgen.base);
	loadgen.end_ms = loadgen_now();
	loadgen_summary();
	if (!loadgen.quiet)
		fprintf(stderr, "loadgen: reconnects: %llu idle close, %llu "
		    "seen by the peek, %llu ended by the response, %llu "
		    "unasked bytes\n", loadgen.reconnects[LOADGEN_RC_IDLE],
		    loadgen.reconnects[LOADGEN_RC_PEEKED],
		    loadgen.reconnects[LOADGEN_RC_RESPONSE],
		    loadgen.reconnects[LOADGEN_RC_UNASKED]);
	loadgen_teardown();
	return 0;
}
