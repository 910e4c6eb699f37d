/*
 * upconn: our HTTP/1.1 client connection to a server.
 *
 * The connection's callbacks may end the exchange that owns it, and the
 * exchange may release (and so close) the connection from inside those
 * callbacks. A depth counter keeps the struct alive until the outermost
 * callback returns; a released connection is only marked, then freed there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "proxy/http/http1.h"
#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "proxy/back/upconn.h"
#include "proxy/back/server.h"
#include "proxy/base/worker.h"
#include "tls/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

_Static_assert(CONF_RESP_HEADERS_MAX == HTTP1_MAX_HEADERS,
    "max_response_headers is bounded by the parser's array");

#define UPCONN_MAGIC		0x55504331u	/* "UPC1" */
/* A chunk-size line: its size (16 hex digits reach 2^64) and the BWS
 * before an extension, besides max_chunk_extension (at most 4k). */
#define UPCONN_CHUNK_SIZE_MAX	32
#define UPCONN_MAX_LINE		(UPCONN_CHUNK_SIZE_MAX + 4096)
#define UPCONN_PEEK_MS		200	/* idle longer: check at reuse */
#define UPCONN_READ_MAX		(256 * 1024)	/* one read of ours: a
						 * client write's worth
						 * (LISTENER_MAX_WRITE) */

enum upconn_state {
	UPCONN_NEW = 0,		/* not connected yet */
	UPCONN_CONNECTING,
	UPCONN_HEAD,		/* request going out, waiting for the head */
	UPCONN_BODY,
	UPCONN_DONE,		/* response complete */
	UPCONN_IDLE,		/* in the pool */
	UPCONN_FAILED,		/* error reported; waiting for release */
};

enum upconn_chunk {
	UPCONN_CHUNK_SIZE = 0,
	UPCONN_CHUNK_DATA,
	UPCONN_CHUNK_CRLF,
	UPCONN_CHUNK_TRAILER,
};

struct upconn {
	unsigned		 magic;
	struct server		*srv;		/* referenced */
	struct bufferevent	*bev;
	struct event		*rev;		/* plain TCP: reads (see
						 * upconn_rev_cb); NULL: TLS,
						 * or not connected yet */
	struct timeval		 rtv;		/* its timeout ... */
	int			 has_rtv;	/* ... when set */
	int			 drained;	/* its last read took all
						 * there was */
	enum upconn_state	 state;
	const struct upconn_cbs	*cbs;		/* NULL once released */
	void			*arg;
	int			 head_request;
	int			 upgrade;	/* a 101 is welcome */
	int			 sent;		/* request fully written */
	int			 paused;
	int			 reused;
	unsigned		 epoch;		/* server's, when connected */
	int			 has_tmo;	/* tmo overrides srv's */
	struct timeval		 tmo;
	int			 started;	/* response bytes arrived */
	uint64_t		 idle_since;	/* ms, when pooled */
	uint64_t		 idle_until;	/* ms, when its pool timer
						 * runs out */
	uint64_t		 taken_idle;	/* ms it was idle when taken */
	int			 retiring;	/* the pool timer is the learned
						 * idle timeout's */
	int			 keep_alive;
	uint64_t		 idle_ms;	/* server's Keep-Alive timeout
						 * less a margin; 0: none */
	enum http1_framing	 framing;
	enum upconn_chunk	 chunk;
	uint64_t		 remaining;	/* body or chunk bytes left */
	unsigned		 ninterim;	/* 1xx heads skipped */
	size_t			 trailer_bytes;	/* of the trailer section */
	size_t			 trailer_lines;
	struct evbuffer		*body;		/* bytes handed to cbs->body */
	short			 pending;	/* close seen, input unread */
	unsigned long		 tls_err;	/* OpenSSL's reason of the
						 * close or failure; 0: none */
	int			 depth;		/* callbacks on the stack */
	int			 zombie;	/* released: free at depth 0 */
	TAILQ_ENTRY(upconn)	 entry;		/* server's idle or busy list */
};

static const char *upconn_state_names[] = {
	"new", "connecting", "head", "body", "done", "idle", "failed",
};

static void	upconn_read_cb(struct bufferevent *, void *);
static void	upconn_write_cb(struct bufferevent *, void *);
static void	upconn_event_cb(struct bufferevent *, short, void *);
static void	upconn_idle_read_cb(struct bufferevent *, void *);
static void	upconn_idle_event_cb(struct bufferevent *, short, void *);
static void	upconn_event(struct upconn *, short);

/* The one state setter; logs old -> new at debug level. */
static void
upconn_set_state(struct upconn *uc, enum upconn_state st)
{
	if (uc->state == st)
		return;
	log_debug("server %s/%s: connection %p: %s -> %s", uc->srv->upstream,
	    uc->srv->name, (void *)uc, upconn_state_names[uc->state],
	    upconn_state_names[st]);
	uc->state = st;
}

/*
 * Reading a plain TCP connection is sluice's own, not the bufferevent's:
 * libevent asks the kernel how much is there (an ioctl) before every
 * read and then reads at most 4 KiB of it, so each readable event cost
 * three system calls where one readv does (UPCONN_READ_MAX at once).
 * The bufferevent still writes, connects and holds the input buffer, and
 * its callbacks stay the ones called: upconn_rev_cb reads into its input
 * and calls them as it would (read, or the event with READING and EOF,
 * ERROR or TIMEOUT), so the rest of this file reads the same either way.
 * A TLS connection reads through OpenSSL's bufferevent as before. These
 * helpers are the one place that knows which.
 */

/* Reading on or off. */
static void
upconn_reading(struct upconn *uc, int on)
{
	if (uc->rev == NULL)
		on ? bufferevent_enable(uc->bev, EV_READ) :
		    bufferevent_disable(uc->bev, EV_READ);
	else if (on)
		event_add(uc->rev, uc->has_rtv ? &uc->rtv : NULL);
	else
		event_del(uc->rev);
}

/* 1 when reading is on. */
static int
upconn_is_reading(const struct upconn *uc)
{
	if (uc->rev == NULL)
		return (bufferevent_get_enabled(uc->bev) & EV_READ) != 0;
	return event_pending(uc->rev, EV_READ, NULL) != 0;
}

/* Both directions off. */
static void
upconn_quiet(struct upconn *uc)
{
	upconn_reading(uc, 0);
	bufferevent_disable(uc->bev, EV_WRITE);
}

/* The read and write timeouts (NULL: none), re-armed where they run. */
static void
upconn_timeouts(struct upconn *uc, const struct timeval *r,
    const struct timeval *w)
{
	if (uc->rev == NULL) {
		bufferevent_set_timeouts(uc->bev, r, w);
		return;
	}
	bufferevent_set_timeouts(uc->bev, NULL, w);
	if ((uc->has_rtv = r != NULL))
		uc->rtv = *r;
	if (!event_pending(uc->rev, EV_READ, NULL))
		return;
	if (r != NULL)
		event_add(uc->rev, r);
	else
		event_remove_timer(uc->rev);
}

#define UPCONN_READ_HEAD	(16 * 1024)	/* a first read, before the
						 * head says what comes */

/*
 * How much one read asks for: what the body still owes, at most
 * UPCONN_READ_MAX (less than that: chains are allocated in powers of
 * two, their header included); 16 KiB while the head is awaited or the
 * connection idles (most heads and small bodies fit; a longer body is
 * read on with its size known). Without libevent's FIONREAD a read sizes
 * its buffer by this, so a small response does not get a large one.
 */
static size_t
upconn_read_want(const struct upconn *uc)
{
	size_t	want = UPCONN_READ_MAX - 512, have;

	if (uc->state != UPCONN_BODY)
		return UPCONN_READ_HEAD;
	if (uc->framing == HTTP1_FRAMING_LENGTH) {
		have = evbuffer_get_length(bufferevent_get_input(uc->bev));
		if (have < uc->remaining && uc->remaining - have < want)
			want = uc->remaining - have;
	}
	return want;
}

/*
 * One readv of at most want bytes from the socket into the bufferevent's
 * input (its end is frozen but for the bufferevent's own reads; this is
 * one). Notes whether the read took all there was (less than its room);
 * returns what readv returned, -1 with errno also when no room could be
 * had.
 */
static ssize_t
upconn_readv(struct upconn *uc, evutil_socket_t fd, size_t want)
{
	struct evbuffer		*in = bufferevent_get_input(uc->bev);
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	ssize_t			 n;
	size_t			 left, room = 0;
	int			 i, nv;

	evbuffer_unfreeze(in, 0);
	if ((nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2)) <= 0) {
		evbuffer_freeze(in, 0);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		room += v[i].iov_len;
	}
	n = readv(fd, iov, nv);
	left = n > 0 ? (size_t)n : 0;
	uc->drained = left < room;
	for (i = 0; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	evbuffer_freeze(in, 0);
	return n;
}

/*
 * A plain connection is readable, or its read timeout passed: read what
 * is there into the bufferevent's input and call its callbacks as the
 * bufferevent would have.
 */
static void
upconn_rev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upconn		*uc = arg;
	struct bufferevent	*bev = uc->bev;
	bufferevent_data_cb	 readcb;
	bufferevent_event_cb	 eventcb;
	void			*cbarg;
	ssize_t			 n;

	bufferevent_getcb(bev, &readcb, NULL, &eventcb, &cbarg);
	if (what & EV_TIMEOUT) {
		event_del(uc->rev);
		if (eventcb != NULL)
			eventcb(bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
			    cbarg);
		return;
	}
	if ((n = upconn_readv(uc, fd, upconn_read_want(uc))) > 0) {
		if (readcb != NULL)
			readcb(bev, cbarg);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	event_del(uc->rev);
	if (eventcb != NULL)
		eventcb(bev, BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF :
		    BEV_EVENT_ERROR), cbarg);
}

/* Free the connection now: socket, buffers, server reference. */
static void
upconn_free(struct upconn *uc)
{
	if (uc->rev != NULL)
		event_free(uc->rev);
	if (uc->bev != NULL)
		bufferevent_free(uc->bev);
	if (uc->body != NULL)
		evbuffer_free(uc->body);
	server_unref(uc->srv);
	uc->magic = 0;
	free(uc);
}

/* Close the connection, now or when the outermost callback returns. */
static void
upconn_destroy(struct upconn *uc)
{
	uc->cbs = NULL;
	uc->arg = NULL;
	if (uc->depth > 0) {
		uc->zombie = 1;
		if (uc->bev != NULL)
			upconn_quiet(uc);
		return;
	}
	upconn_free(uc);
}

/* Enter a callback of ours. */
static void
upconn_enter(struct upconn *uc)
{
	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	uc->depth++;
}

/* Leave a callback; free a connection released meanwhile. */
static void
upconn_leave(struct upconn *uc)
{
	if (--uc->depth == 0 && uc->zombie)
		upconn_free(uc);
}

/* 1 when the pooled connection's socket shows no EOF, error or data. */
static int
upconn_alive(struct upconn *uc)
{
	char	c;
	ssize_t	n;
	int	fd = bufferevent_getfd(uc->bev);

	if (evbuffer_get_length(bufferevent_get_input(uc->bev)) > 0)
		return 0;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Record what a connection showed of srv's idle timeout. */
static void
upconn_learn(struct server *srv, int closed, uint64_t idle_ms)
{
	if (closed)
		server_idle_closed(srv, idle_ms);
	else
		server_idle_alive(srv, idle_ms);
}

/*
 * Close a connection that reached the learned idle timeout (from a
 * callback of its own too: upconn_destroy waits for it to return).
 */
static void
upconn_retire(struct upconn *uc)
{
	SLUICE_INC(&uc->srv->retired);
	log_debug("server %s/%s: pooled connection retired before the "
	    "server's idle timeout", uc->srv->upstream, uc->srv->name);
	upconn_destroy(uc);
}

#define UPCONN_TIMER_SLACK_MS	50	/* libevent's clock behind ours */

/*
 * A pooled connection goes back to work: forget its pool events. Near
 * its end, its pool timer may have expired in libevent's clock (coarse,
 * a few ms behind sluice's) in this very loop turn, leaving the read
 * event active with EV_TIMEOUT and out of epoll; event_add does not put
 * an active event back, so enabling reading later would do nothing and
 * the response would wait unread. Disabling removes the event whatever
 * its state. Well before that end reading stays on: a disable and the
 * enable that follows in the same turn cost an epoll_ctl of nothing.
 */
static void
upconn_unpool(struct upconn *uc, uint64_t now)
{
	if (now + UPCONN_TIMER_SLACK_MS >= uc->idle_until)
		upconn_quiet(uc);
	bufferevent_setcb(uc->bev, NULL, NULL, NULL, NULL);
	uc->taken_idle = now - uc->idle_since;
}

/*
 * Take a live connection from srv's pool, closing dead and retiring ones
 * on the way. safe: the request must not be repeated, so a connection
 * idle longer than the safe age is not taken (nor, being older, any
 * after it): the caller opens a fresh one.
 */
static struct upconn *
upconn_pool_take(struct server *srv, int safe)
{
	struct server_local	*loc = server_local(srv);
	struct upconn		*uc;
	uint64_t		 now = sluice_now_ms(), age, retire;

	retire = server_idle_retire_ms(srv, now);
	while ((uc = TAILQ_FIRST(&loc->idle)) != NULL) {
		age = now - uc->idle_since;
		if (safe && age > server_idle_safe_ms(srv)) {
			SLUICE_INC(&srv->safe_fresh);
			return NULL;
		}
		TAILQ_REMOVE(&loc->idle, uc, entry);
		SLUICE_DEC(&loc->nidle);
		if (age >= retire) {
			upconn_retire(uc);
			continue;
		}
		/*
		 * A close the loop has not seen yet: servers close idle
		 * connections after a second or more, so a connection idle
		 * for less than UPCONN_PEEK_MS is not worth a system call.
		 */
		if (age < UPCONN_PEEK_MS || upconn_alive(uc)) {
			upconn_unpool(uc, now);
			return uc;
		}
		log_debug("server %s/%s: pooled connection found closed",
		    srv->upstream, srv->name);
		upconn_learn(srv, 1, age);
		upconn_free(uc);
	}
	return NULL;
}

/* A TLS bufferevent for a new connection to srv; NULL on failure. */
static struct bufferevent *
upconn_tls_bev(struct server *srv)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = tls_client_ssl_new(server_local(srv)->set.tls,
	    server_local(srv)->set.tls_name)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(sluice_base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/*
	 * A reset after a complete response is an end like any close; the
	 * end of a close-delimited body is judged by close_notify
	 * (upconn_close_end). Without close_notify OpenSSL reports an error
	 * whatever this says (tls/client.c keeps the unexpected EOF visible).
	 */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Why a TLS connection attempt failed, for the error log. */
static const char *
upconn_tls_why(struct upconn *uc)
{
	static __thread char buf[256];
	SSL		*ssl = bufferevent_openssl_get_ssl(uc->bev);
	const char	*v;
	unsigned long	 e;

	if (ssl == NULL)
		return NULL;
	if ((v = tls_client_verify_error(ssl)) != NULL) {
		snprintf(buf, sizeof(buf), "TLS: certificate verify failed: %s",
		    v);
		return buf;
	}
	if ((e = uc->tls_err) != 0) {
		snprintf(buf, sizeof(buf), "TLS: ");
		ERR_error_string_n(e, buf + 5, sizeof(buf) - 5);
		return buf;
	}
	return NULL;
}

/*
 * Take the TLS errors of a close or failure off the bufferevent: OpenSSL's
 * reason is kept for upconn_tls_why, and a close without close_notify
 * (OpenSSL 3 reports it as an error) becomes the EOF it is; whether that
 * EOF ends a body properly is upconn_close_end's question. Returns what.
 */
static short
upconn_tls_event(struct upconn *uc, short what)
{
	unsigned long	 e;
	int		 dirty = 0;

	if (bufferevent_openssl_get_ssl(uc->bev) == NULL ||
	    !(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return what;
	/* libevent also queues SSL_get_error's code, whose library is 0 */
	while ((e = bufferevent_get_openssl_error(uc->bev)) != 0) {
		if (tls_client_unexpected_eof(e))
			dirty = 1;
		else if (ERR_GET_LIB(e) != 0 && uc->tls_err == 0)
			uc->tls_err = e;
	}
	if (dirty && uc->tls_err == 0)
		what = (short)((what & ~BEV_EVENT_ERROR) | BEV_EVENT_EOF);
	return what;
}

/*
 * A close-delimited body ended with the connection: 1 when that is its
 * proper end. Over TLS only a close_notify says so (a close without it
 * may be an attacker's cut), unless tls_allow_truncation.
 */
static int
upconn_close_end(struct upconn *uc)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(uc->bev);

	return ssl == NULL || (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) ||
	    server_local(uc->srv)->set.allow_truncation;
}

/* A new, unconnected connection to srv. */
static struct upconn *
upconn_new(struct server *srv)
{
	struct upconn	*uc;

	if ((uc = calloc(1, sizeof(*uc))) == NULL)
		return NULL;
	uc->magic = UPCONN_MAGIC;
	uc->bev = server_local(srv)->set.tls != NULL ? upconn_tls_bev(srv) :
	    bufferevent_socket_new(sluice_base, -1, BEV_OPT_CLOSE_ON_FREE);
	uc->body = evbuffer_new();
	if (uc->bev == NULL || uc->body == NULL) {
		if (uc->bev != NULL)
			bufferevent_free(uc->bev);
		if (uc->body != NULL)
			evbuffer_free(uc->body);
		free(uc);
		return NULL;
	}
	server_ref(srv);
	uc->srv = srv;
	uc->epoch = server_local(srv)->set.epoch;
	return uc;
}

/* See upconn.h. */
struct upconn *
upconn_get_fresh(struct server *srv)
{
	struct upconn	*uc;

	if ((uc = upconn_new(srv)) == NULL)
		return NULL;
	TAILQ_INSERT_TAIL(&server_local(srv)->busy, uc, entry);
	SLUICE_INC(&server_local(srv)->nbusy);
	return uc;
}

/* See upconn.h. */
void
upconn_set_timeout(struct upconn *uc, uint64_t ms)
{
	uc->has_tmo = 1;
	uc->tmo = sluice_tv(ms);
}

/* See upconn.h. */
int
upconn_response_started(const struct upconn *uc)
{
	return uc->started;
}

/* The timeout to use: the override, or the server's setting. */
static const struct timeval *
upconn_tv(const struct upconn *uc, const struct timeval *set)
{
	return uc->has_tmo ? &uc->tmo : set;
}

/* See upconn.h. */
struct upconn *
upconn_get(struct server *srv, int flags)
{
	struct upconn	*uc;

	if ((uc = upconn_pool_take(srv, (flags & UPCONN_GET_SAFE) != 0)) !=
	    NULL) {
		uc->reused = 1;
		SLUICE_INC(&srv->reuses);
	} else if ((uc = upconn_new(srv)) == NULL)
		return NULL;
	TAILQ_INSERT_TAIL(&server_local(srv)->busy, uc, entry);
	SLUICE_INC(&server_local(srv)->nbusy);
	return uc;
}

/* Start the TCP connection. 0, or -1 when it could not be attempted. */
static int
upconn_connect(struct upconn *uc)
{
	struct server	*srv = uc->srv;

	/* both directions: a TLS handshake reads too */
	upconn_timeouts(uc,
	    upconn_tv(uc, &server_local(srv)->set.connect_timeout),
	    upconn_tv(uc, &server_local(srv)->set.connect_timeout));
	upconn_set_state(uc, UPCONN_CONNECTING);
	SLUICE_INC(&srv->connects);
	if (bufferevent_socket_connect(uc->bev, (struct sockaddr *)&srv->ss,
	    (int)srv->sslen) == -1) {
		log_warn("server %s/%s: cannot connect to %s: %s",
		    srv->upstream, srv->name, srv->addrtext, strerror(errno));
		return -1;
	}
	/* libevent makes the socket without close-on-exec: an upgraded
	 * process must not inherit our upstream connections */
	if (bufferevent_getfd(uc->bev) != -1)
		fcntl(bufferevent_getfd(uc->bev), F_SETFD, FD_CLOEXEC);
	if (bufferevent_openssl_get_ssl(uc->bev) == NULL &&
	    (uc->rev = event_new(sluice_base, bufferevent_getfd(uc->bev),
	    EV_READ | EV_PERSIST, upconn_rev_cb, uc)) == NULL) {
		log_warn("server %s/%s: out of memory", srv->upstream,
		    srv->name);
		return -1;
	}
	return 0;
}

static void	upconn_write_cb(struct bufferevent *, void *);

/*
 * Write the request of a reused connection at once instead of waiting
 * for the loop to report it writable (it nearly always is). When it all
 * goes, the request is out without the write event ever being added
 * (nor its timer), and 1 is returned; what does not go, or an error, is
 * left to the bufferevent (0). Plain TCP only: TLS writes go through
 * OpenSSL.
 */
static int
upconn_write_now(struct upconn *uc)
{
	struct evbuffer	*out = bufferevent_get_output(uc->bev);
	evutil_socket_t	 fd = bufferevent_getfd(uc->bev);

	ssize_t		 n = 1;

	if (fd == -1 || bufferevent_openssl_get_ssl(uc->bev) != NULL)
		return 0;
	/* a socket bufferevent keeps its output's start frozen but for
	 * its own writes; this is one */
	evbuffer_unfreeze(out, 1);
	while (n > 0 && evbuffer_get_length(out) > 0)
		n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0)
		return 0;
	/* writing stays enabled after a connection's first request, and
	 * adding the request to the output then added the write event:
	 * taken away in the same loop turn, it costs no epoll_ctl */
	if (bufferevent_get_enabled(uc->bev) & EV_WRITE)
		bufferevent_disable(uc->bev, EV_WRITE);
	upconn_write_cb(uc->bev, uc);
	return 1;
}

/* See upconn.h. */
int
upconn_request(struct upconn *uc, struct evbuffer *req, int flags,
    const struct upconn_cbs *cbs, void *arg)
{
	struct evbuffer	*out = bufferevent_get_output(uc->bev);

	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	uc->cbs = cbs;
	uc->arg = arg;
	uc->head_request = (flags & UPCONN_REQ_HEAD) != 0;
	uc->upgrade = (flags & UPCONN_REQ_UPGRADE) != 0;
	uc->sent = 0;
	uc->paused = 0;
	uc->pending = 0;
	uc->keep_alive = 0;
	uc->idle_ms = 0;
	uc->started = 0;
	uc->ninterim = 0;
	uc->trailer_bytes = uc->trailer_lines = 0;
	bufferevent_setcb(uc->bev, upconn_read_cb, upconn_write_cb,
	    upconn_event_cb, uc);
	if ((flags & UPCONN_REQ_KEEP ? evbuffer_add_buffer_reference(out, req) :
	    evbuffer_add_buffer(out, req)) == -1)
		return -1;
	if (uc->state == UPCONN_NEW)
		return upconn_connect(uc);
	/* reused: no read timeout until the request is out */
	upconn_set_state(uc, UPCONN_HEAD);
	if (upconn_write_now(uc))
		return 0;
	upconn_timeouts(uc, NULL,
	    upconn_tv(uc, &server_local(uc->srv)->set.write_timeout));
	upconn_reading(uc, 1);
	bufferevent_enable(uc->bev, EV_WRITE);
	return 0;
}

/* Report an error once; the exchange then releases the connection. */
static void
upconn_fail(struct upconn *uc, enum upconn_error err, const char *why)
{
	const struct upconn_cbs	*cbs = uc->cbs;

	upconn_set_state(uc, UPCONN_FAILED);
	upconn_quiet(uc);
	if (cbs != NULL)
		cbs->error(uc->arg, err, why);
}

/* The response is complete: tell the exchange whether to reuse. */
static void
upconn_complete(struct upconn *uc)
{
	int	reusable;

	upconn_set_state(uc, UPCONN_DONE);
	reusable = uc->keep_alive && uc->sent &&
	    evbuffer_get_length(bufferevent_get_input(uc->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(uc->bev)) == 0;
	/*
	 * Reading stays on: the pool reads for close detection anyway, and
	 * bytes past the response (read_cb in DONE) spoil reuse.
	 */
	if (uc->cbs != NULL)
		uc->cbs->done(uc->arg, reusable);
}

/* Hand up to n body bytes from the input to the exchange. */
static void
upconn_deliver(struct upconn *uc, struct evbuffer *in, size_t n)
{
	if (n == 0)
		return;
	evbuffer_remove_buffer(in, uc->body, n);
	if (uc->cbs != NULL)
		uc->cbs->body(uc->arg, uc->body);
	evbuffer_drain(uc->body, evbuffer_get_length(uc->body));
}

/*
 * How long the server says it keeps an idle connection (Keep-Alive:
 * timeout=N), less a margin so that we close first: a pooled connection
 * the server closes just as we reuse it costs a request. 0 when unsaid.
 */
static uint64_t
upconn_keepalive_ms(const struct http1_response *r)
{
	const struct http1_header	*h;
	const char			*p, *end;
	uint64_t			 n = 0;

	if ((h = http1_response_header(r, "Keep-Alive")) == NULL)
		return 0;
	end = h->value + h->valuelen;
	for (p = h->value; p + 8 <= end; p++)
		if (strncasecmp(p, "timeout=", 8) == 0 &&
		    (p == h->value || p[-1] == ' ' || p[-1] == ',' ||
		    p[-1] == '\t'))
			break;
	if (p + 8 > end)
		return 0;
	for (p += 8; p < end && *p >= '0' && *p <= '9' && n < 86400; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (n == 0)
		return 1;	/* "timeout=0": do not keep it at all */
	n *= 1000;
	return n > 1000 ? n - 500 : n / 2;
}

/*
 * A 101: the head goes to the exchange, then, once it is off the input,
 * the connection is handed over as a byte stream. Returns 0 (no more
 * HTTP on this connection).
 */
static int
upconn_switch(struct upconn *uc, struct evbuffer *in,
    const struct http1_response *resp)
{
	size_t	head_len = resp->head_len;

	upconn_set_state(uc, UPCONN_DONE);
	uc->keep_alive = 0;
	if (uc->cbs != NULL)
		uc->cbs->head(uc->arg, resp);
	evbuffer_drain(in, head_len);
	if (uc->cbs != NULL && uc->cbs->upgraded != NULL)
		uc->cbs->upgraded(uc->arg);
	return 0;
}

/* See upconn.h. */
struct bufferevent *
upconn_detach(struct upconn *uc)
{
	struct bufferevent	*bev = uc->bev;
	struct server		*srv = uc->srv;

	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	/* the tunnel reads through the bufferevent */
	if (uc->rev != NULL) {
		event_free(uc->rev);
		uc->rev = NULL;
	}
	uc->bev = NULL;
	TAILQ_REMOVE(&server_local(srv)->busy, uc, entry);
	SLUICE_DEC(&server_local(srv)->nbusy);
	upconn_destroy(uc);
	return bev;
}

/* Header lines complete in a head still coming (its status line aside). */
static size_t
upconn_head_lines(const char *buf, size_t len)
{
	const char	*p, *end = buf + len;
	size_t		 n = 0;

	for (p = buf; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	return n > 0 ? n - 1 : 0;
}

/* Parse the response head. 1: parsed a head, 0: need more, -1: failed. */
static int
upconn_parse_head(struct upconn *uc, struct evbuffer *in)
{
	const struct server_settings	*set = &server_local(uc->srv)->set;
	struct http1_response	 resp;
	size_t			 len = evbuffer_get_length(in);
	size_t			 want = len < set->max_head ? len :
				    set->max_head;
	const char		*buf, *why = NULL;
	int			 r;

	buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
	r = http1_response_parse(buf, want,
	    (uc->head_request ? HTTP1_RESP_HEAD : 0) |
	    (uc->upgrade ? HTTP1_RESP_UPGRADE : 0), &resp, &why);
	if (r == 0 && want == set->max_head)
		why = "response head too large (max_response_header_size)";
	else if (r == 0 && upconn_head_lines(buf, want) > set->max_headers)
		why = "too many headers (max_response_headers)";
	else if (r == 1 && resp.nheaders > set->max_headers)
		why = "too many headers (max_response_headers)";
	else if (r == 1 && resp.status < 200 && resp.status != 101 &&
	    uc->ninterim == set->max_interim)
		why = "too many 1xx responses (max_interim_responses)";
	if (r == -1 || why != NULL) {
		upconn_fail(uc, UPCONN_ERR_PROTOCOL, why);
		return -1;
	}
	if (r == 0)
		return 0;
	if (resp.status == 101)
		return upconn_switch(uc, in, &resp);
	if (resp.status < 200) {	/* 100, 102, 103: skip */
		uc->ninterim++;
		evbuffer_drain(in, resp.head_len);
		return 1;
	}
	if (uc->reused && uc->taken_idle != 0) {
		upconn_learn(uc->srv, 0, uc->taken_idle);
		uc->taken_idle = 0;
	}
	uc->framing = resp.framing;
	uc->keep_alive = resp.keep_alive;
	uc->idle_ms = upconn_keepalive_ms(&resp);
	uc->remaining = resp.content_length;
	uc->chunk = UPCONN_CHUNK_SIZE;
	upconn_set_state(uc, UPCONN_BODY);
	if (uc->cbs != NULL)
		uc->cbs->head(uc->arg, &resp);
	evbuffer_drain(in, resp.head_len);
	if (uc->framing == HTTP1_FRAMING_NONE ||
	    (uc->framing == HTTP1_FRAMING_LENGTH && uc->remaining == 0))
		upconn_complete(uc);
	return 1;
}

/*
 * Take one line off in, its line end (CRLF or LF) excluded: into
 * line[max + 1] when line is not NULL, its length into *len. A line longer
 * than max, or a part of one already longer with no line end yet, fails
 * with why. 1 read, 0 need more, -1 failed.
 */
static int
upconn_readline(struct upconn *uc, struct evbuffer *in, char *line,
    size_t *len, size_t max, const char *why)
{
	struct evbuffer_ptr	p, q;
	size_t			 n, eol;
	char			 cr = 0;

	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
	n = p.pos == -1 ? evbuffer_get_length(in) : (size_t)p.pos;
	if (n > max + 1) {		/* + 1: it may end in the CR */
		upconn_fail(uc, UPCONN_ERR_PROTOCOL, why);
		return -1;
	}
	if (p.pos == -1)
		return 0;
	if (n > 0 && evbuffer_ptr_set(in, &q, n - 1, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_copyout_from(in, &q, &cr, 1) == 1 && cr == '\r')
		n--;
	if (n > max) {
		upconn_fail(uc, UPCONN_ERR_PROTOCOL, why);
		return -1;
	}
	if (line != NULL) {
		evbuffer_copyout(in, line, n);
		line[n] = '\0';
	}
	evbuffer_drain(in, (size_t)p.pos + eol);
	*len = n;
	return 1;
}

/* A chunk-size line, its extension within max_chunk_extension. */
static int
upconn_chunk_size(struct upconn *uc, struct evbuffer *in)
{
	static const char	 why[] =
	    "chunk extension too long (max_chunk_extension)";
	size_t			 max = server_local(uc->srv)->set.max_chunk_ext;
	char			 line[UPCONN_MAX_LINE + 1];
	const char		*ext;
	size_t			 len;
	int			 r;

	if ((r = upconn_readline(uc, in, line, &len,
	    UPCONN_CHUNK_SIZE_MAX + max, why)) != 1)
		return r;
	if ((ext = memchr(line, ';', len)) != NULL &&
	    (size_t)(line + len - ext) > max) {
		upconn_fail(uc, UPCONN_ERR_PROTOCOL, why);
		return -1;
	}
	if (http1_chunk_size_parse(line, len, &uc->remaining) == -1) {
		upconn_fail(uc, UPCONN_ERR_PROTOCOL, "bad chunk size");
		return -1;
	}
	uc->chunk = uc->remaining == 0 ? UPCONN_CHUNK_TRAILER :
	    UPCONN_CHUNK_DATA;
	return 1;
}

/*
 * One line of the trailer section, dropped: the section is bounded as a
 * head is, by max_response_header_size bytes and max_response_headers
 * lines. The empty line completes the response.
 */
static int
upconn_trailer(struct upconn *uc, struct evbuffer *in)
{
	const struct server_settings	*set = &server_local(uc->srv)->set;
	size_t				 len, left;
	int				 r;

	left = set->max_head > uc->trailer_bytes + 2 ?
	    set->max_head - uc->trailer_bytes - 2 : 0;
	if ((r = upconn_readline(uc, in, NULL, &len, left, "trailer section "
	    "too large (max_response_header_size)")) != 1)
		return r;
	if (len == 0) {
		upconn_complete(uc);
		return 1;
	}
	uc->trailer_bytes += len + 2;
	if (++uc->trailer_lines > set->max_headers) {
		upconn_fail(uc, UPCONN_ERR_PROTOCOL,
		    "too many trailer lines (max_response_headers)");
		return -1;
	}
	return 1;
}

/* Advance the chunked decoder by one step. 1 progressed, 0 wait, -1 bad. */
static int
upconn_chunked_step(struct upconn *uc, struct evbuffer *in)
{
	size_t	len, avail;
	int	r;

	if (uc->chunk == UPCONN_CHUNK_DATA) {
		if ((avail = evbuffer_get_length(in)) == 0)
			return 0;
		if (avail > uc->remaining)
			avail = uc->remaining;
		uc->remaining -= avail;
		if (uc->remaining == 0)
			uc->chunk = UPCONN_CHUNK_CRLF;
		upconn_deliver(uc, in, avail);
		return 1;
	}
	switch (uc->chunk) {
	case UPCONN_CHUNK_SIZE:
		return upconn_chunk_size(uc, in);
	case UPCONN_CHUNK_CRLF:
		if ((r = upconn_readline(uc, in, NULL, &len, 0,
		    "chunk data longer than its size")) != 1)
			return r;
		uc->chunk = UPCONN_CHUNK_SIZE;
		return 1;
	default:
		return upconn_trailer(uc, in);
	}
}

/* Deliver what the input holds of the body. 1 progressed, 0 wait, -1. */
static int
upconn_body_step(struct upconn *uc, struct evbuffer *in)
{
	size_t	avail = evbuffer_get_length(in);

	switch (uc->framing) {
	case HTTP1_FRAMING_CHUNKED:
		return upconn_chunked_step(uc, in);
	case HTTP1_FRAMING_LENGTH:
		if (avail == 0)
			return 0;
		if (avail > uc->remaining)
			avail = uc->remaining;
		uc->remaining -= avail;
		upconn_deliver(uc, in, avail);
		if (uc->remaining == 0 && uc->state == UPCONN_BODY)
			upconn_complete(uc);
		return 1;
	case HTTP1_FRAMING_CLOSE:
		if (avail == 0)
			return 0;
		upconn_deliver(uc, in, avail);
		return 1;
	default:
		return 0;
	}
}

/*
 * Process buffered input as far as the state and the client allow; a close
 * seen meanwhile is acted on once the bytes before it are delivered.
 */
static void
upconn_process(struct upconn *uc)
{
	struct evbuffer	*in = bufferevent_get_input(uc->bev);
	short		 what;
	int		 r = 1;

	while (r == 1 && uc->cbs != NULL && !uc->paused) {
		if (uc->state == UPCONN_HEAD)
			r = evbuffer_get_length(in) > 0 ?
			    upconn_parse_head(uc, in) : 0;
		else if (uc->state == UPCONN_BODY)
			r = upconn_body_step(uc, in);
		else
			r = 0;
	}
	if (r == 0 && uc->pending && uc->cbs != NULL && !uc->paused) {
		what = uc->pending;
		uc->pending = 0;
		upconn_event(uc, what);
	}
}

/*
 * Take what else the socket holds in one large read: upconn_rev_cb's
 * read of this loop turn filled its room (16 KiB before the head was
 * read, when it did not yet know how much the body owes), so more may be
 * there. A read never asks for more than the body still owes, so a small
 * response does not get a large buffer. An EOF or error is noted as the
 * bufferevent would (reading again would see a reset as a plain EOF).
 * Plain TCP only: TLS reads go through OpenSSL. 1 when there is
 * something to process.
 */
static int
upconn_read_more(struct upconn *uc)
{
	struct evbuffer		*in;
	evutil_socket_t		 fd;
	ssize_t			 n;
	size_t			 want, have;

	/* (a plain connection's own read of this loop turn left nothing) */
	if (uc->zombie || uc->cbs == NULL || uc->paused || uc->pending ||
	    (uc->rev != NULL && uc->drained) ||
	    (uc->state != UPCONN_HEAD && uc->state != UPCONN_BODY) ||
	    (fd = bufferevent_getfd(uc->bev)) == -1 ||
	    bufferevent_openssl_get_ssl(uc->bev) != NULL)
		return 0;
	in = bufferevent_get_input(uc->bev);
	/* less than the whole: chains are allocated in powers of two,
	 * their header included */
	want = UPCONN_READ_MAX - 512;
	if (uc->state == UPCONN_BODY && uc->framing == HTTP1_FRAMING_LENGTH) {
		if ((have = evbuffer_get_length(in)) >= uc->remaining)
			return 0;
		if (uc->remaining - have < want)
			want = uc->remaining - have;
	}
	if ((n = upconn_readv(uc, fd, want)) > 0)
		return 1;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR || errno == ENOMEM))
		return 0;
	/* acted on by upconn_process once the bytes before it are out */
	uc->pending = BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF :
	    BEV_EVENT_ERROR);
	upconn_reading(uc, 0);
	return 1;
}

/* Response bytes arrived. */
static void
upconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct upconn	*uc = arg;

	upconn_enter(uc);
	uc->started = 1;
	if (uc->state == UPCONN_DONE) {	/* bytes past the response */
		uc->keep_alive = 0;
		upconn_reading(uc, 0);
	} else {
		/* the head first: it tells how much more to read */
		upconn_process(uc);
		if (upconn_read_more(uc))
			upconn_process(uc);
	}
	upconn_leave(uc);
}

/* The output buffer drained: the request is out; arm the read timeout. */
static void
upconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct upconn	*uc = arg;

	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	if (uc->sent || uc->state == UPCONN_FAILED)
		return;
	uc->sent = 1;
	upconn_timeouts(uc,
	    upconn_tv(uc, &server_local(uc->srv)->set.read_timeout), NULL);
	/* (the timeouts re-armed a read already on) */
	if (!uc->paused && !upconn_is_reading(uc))
		upconn_reading(uc, 1);
}

/* The TCP handshake finished: send the request. */
static void
upconn_connected(struct upconn *uc)
{
	int	one = 1;

	setsockopt(bufferevent_getfd(uc->bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
	upconn_set_state(uc, UPCONN_HEAD);
	upconn_timeouts(uc, NULL,
	    upconn_tv(uc, &server_local(uc->srv)->set.write_timeout));
	upconn_reading(uc, 1);
	bufferevent_enable(uc->bev, EV_WRITE);
}

/* Map a bufferevent event to an error, or to the end of the body. */
static void
upconn_event(struct upconn *uc, short what)
{
	int		writing = (what & BEV_EVENT_WRITING) != 0;
	const char	*why;

	if (uc->state == UPCONN_CONNECTING) {
		if (what & BEV_EVENT_TIMEOUT)
			upconn_fail(uc, UPCONN_ERR_CONNECT_TIMEOUT,
			    "connect timed out");
		else {
			why = upconn_tls_why(uc);
			upconn_fail(uc, UPCONN_ERR_CONNECT, why != NULL ? why :
			    "connect failed");
		}
	} else if (what & BEV_EVENT_TIMEOUT)
		upconn_fail(uc, writing ? UPCONN_ERR_WRITE_TIMEOUT :
		    UPCONN_ERR_READ_TIMEOUT, writing ? "write timed out" :
		    "read timed out");
	else if ((what & BEV_EVENT_EOF) && uc->state == UPCONN_BODY &&
	    uc->framing == HTTP1_FRAMING_CLOSE) {
		uc->keep_alive = 0;
		if (upconn_close_end(uc))
			upconn_complete(uc);
		else
			upconn_fail(uc, UPCONN_ERR_READ,
			    "truncated (no close_notify)");
	} else if (uc->state == UPCONN_HEAD || uc->state == UPCONN_BODY) {
		/* a pooled connection the server closed as it was reused */
		if (uc->reused && !uc->started && uc->taken_idle != 0) {
			upconn_learn(uc->srv, 1, uc->taken_idle);
			uc->taken_idle = 0;
		}
		/* TLS 1.3: a refused client certificate shows up here */
		why = upconn_tls_why(uc);
		upconn_fail(uc, writing && !uc->sent ? UPCONN_ERR_WRITE :
		    UPCONN_ERR_READ, why != NULL ? why : what & BEV_EVENT_EOF ?
		    "connection closed by server" : "connection reset");
	}
}

/* Connected, timed out, closed or failed. */
static void
upconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upconn	*uc = arg;

	upconn_enter(uc);
	what = upconn_tls_event(uc, what);
	if (what & BEV_EVENT_CONNECTED)
		upconn_connected(uc);
	else if (uc->state == UPCONN_HEAD || uc->state == UPCONN_BODY) {
		/* bytes before the close are delivered first */
		uc->pending = what;
		upconn_process(uc);
	} else if (uc->cbs != NULL)
		upconn_event(uc, what);
	upconn_leave(uc);
}

/* See upconn.h. */
void
upconn_pause(struct upconn *uc)
{
	uc->paused = 1;
	upconn_reading(uc, 0);
}

/* See upconn.h. Buffered input is processed from the loop, not here. */
void
upconn_resume(struct upconn *uc)
{
	if (!uc->paused)
		return;
	uc->paused = 0;
	if (uc->state != UPCONN_HEAD && uc->state != UPCONN_BODY)
		return;
	/* a close already seen is kept: reading again would see a reset
	 * as a plain EOF */
	if (uc->sent && !uc->pending)
		upconn_reading(uc, 1);
	if (evbuffer_get_length(bufferevent_get_input(uc->bev)) > 0 ||
	    uc->pending)
		bufferevent_trigger(uc->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* See upconn.h. */
int
upconn_reused(const struct upconn *uc)
{
	return uc->reused;
}

/* See upconn.h. */
int
upconn_request_sent(const struct upconn *uc)
{
	return uc->sent;
}

/* Put a finished connection in its server's pool. */
static void
upconn_pool_put(struct upconn *uc)
{
	struct server		*srv = uc->srv;
	struct server_local	*loc = server_local(srv);
	struct upconn		*old;
	struct timeval		 tv;
	uint64_t		 ms, retire;

	uc->idle_since = sluice_now_ms();
	/* the shortest of ours, the server's announced and its learned */
	ms = (uint64_t)loc->set.keepalive_timeout.tv_sec * 1000 +
	    (uint64_t)loc->set.keepalive_timeout.tv_usec / 1000;
	if (uc->idle_ms != 0 && uc->idle_ms < ms)
		ms = uc->idle_ms;
	retire = server_idle_retire_ms(srv, uc->idle_since);
	if ((uc->retiring = retire < ms))
		ms = retire;
	if (ms == 0) {
		upconn_retire(uc);
		return;
	}
	if (loc->nidle >= (unsigned)loc->set.keepalive &&
	    (old = TAILQ_LAST(&loc->idle, upconn_list)) != NULL) {
		TAILQ_REMOVE(&loc->idle, old, entry);
		SLUICE_DEC(&loc->nidle);
		upconn_free(old);
	}
	upconn_set_state(uc, UPCONN_IDLE);
	uc->cbs = NULL;
	uc->arg = NULL;
	bufferevent_setcb(uc->bev, upconn_idle_read_cb, NULL,
	    upconn_idle_event_cb, uc);
	tv = sluice_tv(ms);
	uc->idle_until = uc->idle_since + ms;
	upconn_timeouts(uc, &tv, NULL);
	/* (the timeouts re-armed a read already on) */
	if (!upconn_is_reading(uc))
		upconn_reading(uc, 1);
	TAILQ_INSERT_HEAD(&loc->idle, uc, entry);
	SLUICE_INC(&loc->nidle);
}

/* See upconn.h. */
void
upconn_release(struct upconn *uc, int reusable)
{
	struct server	*srv = uc->srv;

	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	TAILQ_REMOVE(&server_local(srv)->busy, uc, entry);
	SLUICE_DEC(&server_local(srv)->nbusy);
	/* a drained server keeps no pool: drain closed it once */
	if (reusable && uc->state == UPCONN_DONE && !uc->zombie &&
	    SLUICE_LOAD(&srv->state) == SERVER_ACTIVE &&
	    !SLUICE_LOAD(&srv->admin_drain) &&
	    server_local(srv)->set.keepalive > 0 &&
	    uc->epoch == server_local(srv)->set.epoch)
		upconn_pool_put(uc);
	else
		upconn_destroy(uc);
}

/* Take an idle connection out of the pool (to close it). */
static void
upconn_idle_remove(struct upconn *uc)
{
	struct server	*srv = uc->srv;

	SLUICE_MAGIC_CHECK(uc, UPCONN_MAGIC);
	TAILQ_REMOVE(&server_local(srv)->idle, uc, entry);
	SLUICE_DEC(&server_local(srv)->nidle);
}

/* Close an idle connection, removing it from the pool. */
static void
upconn_idle_close(struct upconn *uc)
{
	upconn_idle_remove(uc);
	upconn_free(uc);
}

/* An idle connection got bytes nobody asked for (a 408 before a close,
 * say): the server is done with it. */
static void
upconn_idle_read_cb(struct bufferevent *bev, void *arg)
{
	struct upconn	*uc = arg;

	upconn_idle_remove(uc);
	upconn_learn(uc->srv, 1, sluice_now_ms() - uc->idle_since);
	upconn_free(uc);
}

/* An idle connection was closed by the server, or its timer ran out. */
static void
upconn_idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upconn	*uc = arg;

	upconn_idle_remove(uc);
	upconn_learn(uc->srv, !(what & BEV_EVENT_TIMEOUT),
	    sluice_now_ms() - uc->idle_since);
	if ((what & BEV_EVENT_TIMEOUT) && uc->retiring)
		upconn_retire(uc);
	else
		upconn_free(uc);
}

/* See upconn.h. */
void
upconn_close_idle(struct server *srv)
{
	struct upconn	*uc;

	while ((uc = TAILQ_FIRST(&server_local(srv)->idle)) != NULL)
		upconn_idle_close(uc);
}

/* In a worker: close its idle connections to srv. */
static void
upconn_close_idle_cb(void *arg)
{
	upconn_close_idle(arg);
}

/* Every worker has: drop the reference taken for them. */
static void
upconn_close_idle_done(void *arg)
{
	server_unref(arg);
}

/* See upconn.h. */
void
upconn_close_idle_all(struct server *srv)
{
	upconn_close_idle(srv);
	server_ref(srv);
	worker_each(upconn_close_idle_cb, upconn_close_idle_done, srv);
}
