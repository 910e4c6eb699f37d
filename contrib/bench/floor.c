/*
 * floor: the benchmark's floor, a bare libevent evhttp server answering like
 * the bench origin (contrib/bench/origin.conf.in) from memory. It shows what
 * evhttp alone costs per request and per idle connection, so that sluice's
 * own share (sluice - floor) can be told from evhttp's. One thread, no
 * logging, keep-alive as evhttp does it, idle connections closed after 60 s
 * like the others' keepalive_timeout, TCP_NODELAY like sluice and nginx.
 *
 *	floor -p PORT		listens on 127.0.0.1:PORT
 *
 * GET /small: 200, the origin's 64-byte text/plain body; /16k and /1m: 200,
 * static buffers of the sizes of the origin's files; anything else: 404.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

/* The origin's /small body, byte for byte. */
#define FLOOR_SMALL	"sluice bench origin: a small fixed body of 64 bytes " \
			"...........\n"
/* The sizes and fill bytes of the origin's /16k and /1m files (bench.sh). */
#define FLOOR_16K	16384
#define FLOOR_1M	1048576
/* As the other servers' listen backlog (backlog=4096 in the nginx configs). */
#define FLOOR_BACKLOG	4096
/* As the other servers' keepalive_timeout. */
#define FLOOR_TIMEOUT_S	60

static char	body16k[FLOOR_16K];
static char	body1m[FLOOR_1M];

static void	floor_reply(struct evhttp_request *, const char *,
		    const void *, size_t);
static void	floor_cb(struct evhttp_request *, void *);
static int	floor_port(const char *);
static void	floor_usage(void) __attribute__((noreturn));

/* Send 200 with body (not copied: it is static) as content type ctype. */
static void
floor_reply(struct evhttp_request *req, const char *ctype,
    const void *body, size_t len)
{
	struct evbuffer	*b = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ctype);
	if (evbuffer_add_reference(b, body, len, NULL, NULL) == -1) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* Answer one request as the origin would. */
static void
floor_cb(struct evhttp_request *req, void *arg)
{
	const char	*path = evhttp_request_get_uri(req);

	(void)arg;
	if (strcmp(path, "/small") == 0)
		floor_reply(req, "text/plain", FLOOR_SMALL,
		    sizeof(FLOOR_SMALL) - 1);
	else if (strcmp(path, "/16k") == 0)
		floor_reply(req, "application/octet-stream", body16k,
		    sizeof(body16k));
	else if (strcmp(path, "/1m") == 0)
		floor_reply(req, "application/octet-stream", body1m,
		    sizeof(body1m));
	else
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* The port in s, or exit with the usage. */
static int
floor_port(const char *s)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		floor_usage();
	return (int)v;
}

/* Print how to call floor and exit 2. */
static void
floor_usage(void)
{
	errx(2, "usage: floor -p PORT");
}

/* Listen on 127.0.0.1:PORT and serve until killed. */
int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	struct event_base	*base;
	struct evconnlistener	*el;
	struct evhttp		*http;
	int			 ch, one = 1, port = 0;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p')
			floor_usage();
		port = floor_port(optarg);
	}
	if (port == 0 || optind != argc)
		floor_usage();
	memset(body16k, 'b', sizeof(body16k));
	memset(body1m, 'B', sizeof(body1m));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL)
		errx(1, "libevent: out of memory");
	el = evconnlistener_new_bind(base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE,
	    FLOOR_BACKLOG, (struct sockaddr *)&sin, (int)sizeof(sin));
	if (el == NULL)
		err(1, "127.0.0.1:%d", port);
	/*
	 * Accepted sockets inherit it (Linux): no system call per connection.
	 * Without it a body over 16 KiB (libevent's largest single write)
	 * ends in a short segment that Nagle holds for the client's delayed
	 * ACK, about 40 ms a response.
	 */
	if (setsockopt(evconnlistener_get_fd(el), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) == -1)
		err(1, "TCP_NODELAY");
	if (evhttp_bind_listener(http, el) == NULL)
		errx(1, "evhttp_bind_listener failed");
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(http, FLOOR_TIMEOUT_S);
	evhttp_set_gencb(http, floor_cb, NULL);
	event_base_dispatch(base);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
