/*
 * h2: the HTTP/2 front on nghttp2 (h2.h, front.h).
 *
 * One struct h2conn per connection, one struct h2stream per request. The
 * session is driven from the bufferevent's callbacks and from one event
 * of the connection's (c->ev), which runs whatever the exchanges asked
 * for (a head, body bytes, an end, a reset) once they have returned: the
 * session is never entered from inside one of its own callbacks, and the
 * exchanges hear of a stream's end (exchange_sent, exchange_client_gone)
 * only after nghttp2 returned, from h2_settle. The connection is freed
 * from that event too, never under a callback.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <pthread.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "conf/conf.h"
#include "proxy/exchange.h"
#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/base/runtime.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/front.h"
#include "proxy/front/h2.h"
#include "proxy/front/nulscan.h"

#define H2_CONN_MAGIC		0x48324343u	/* "H2CC" */
#define H2_STREAM_MAGIC		0x48325354u	/* "H2ST" */
#define H2_OUT_HIGH		(64 * 1024)	/* socket output: stop
						 * framing */
#define H2_BODY_HIGH		(256 * 1024)	/* a response's queue:
						 * pause its upstream */
#define H2_BODY_LOW		(64 * 1024)	/* resume it */
#define H2_GOAWAY_WAIT_MS	1000		/* the notice's round trip,
						 * at most */
#define H2_RESET_BURST		200		/* client resets a
						 * connection may send at
						 * once ... */
#define H2_RESET_RATE		50		/* ... and then a second */
#define H2_TICK_MS		1000		/* the streams' deadlines are
						 * looked at this often */

TAILQ_HEAD(h2stream_list, h2stream);
TAILQ_HEAD(h2conn_list, h2conn);

struct h2conn {
	unsigned		 magic;
	nghttp2_session		*ng;
	struct bufferevent	*bev;		/* the husk's */
	struct evhttp_connection *husk;		/* evhttp's, idle; owns bev
						 * and the socket */
	struct clientconn	*client;
	struct clientconn_user	 user;		/* on client: the husk freed */
	h2_start_fn		*start;
	void			*arg;
	struct event		*ev;		/* settle: run the session */
	struct event		*goaway_ev;	/* the notice's round trip */
	struct h2stream_list	 settle;	/* streams with news */
	uint64_t		 idle_ms;	/* keepalive_timeout */
	uint64_t		 write_ms;	/* client_timeout */
	uint64_t		 max_body;
	uint64_t		 held;		/* request body bytes its
						 * streams hold */
	uint64_t		 max_hdrs;	/* header list, RFC 9113 size */
	int			 max_fields;	/* max_headers */
	int			 goaway;	/* 0; 1 notice sent; 2 final */
	int			 pinged;	/* the notice's PING sent */
	int32_t			 last_id;	/* the final GOAWAY's */
	int			 dead;		/* the husk is gone or the
						 * session failed: close */
	int			 husk_gone;	/* evhttp freed it */
	int			 fatal;		/* the session failed: what it
						 * queued goes, then close */
	uint64_t		 resets;	/* the reset budget's tokens
						 * (H2_RESET_BURST at most) */
	uint64_t		 reset_ms;	/* when last refilled */
	uint64_t		 req_ms;	/* a request must be whole
						 * this long after its HEADERS
						 * (client_header_timeout +
						 * client_body_timeout) */
	struct event		*tick_ev;	/* the streams' deadlines */
	struct h2stream_list	 all;		/* its streams with a struct,
						 * oldest first */
	TAILQ_ENTRY(h2conn)	 entry;
};

struct h2stream {
	unsigned		 magic;
	struct h2conn		*c;
	int32_t			 id;
	struct exchange		*ex;		/* NULL: none (yet, any more) */
	struct evkeyvalq	 in;
	struct evkeyvalq	 out;
	struct evbuffer		*body;		/* the request's */
	struct evbuffer		*resp;		/* response bytes not framed */
	char			*method;
	char			*path;
	char			*authority;
	char			*cookie;	/* the crumbs joined */
	uint64_t		 hdrsize;	/* as SETTINGS counts it */
	uint64_t		 held;		/* body bytes counted in
						 * c->held */
	size_t			 unconsumed;	/* body bytes whose window is
						 * not given back yet */
	int			 nfields;
	int			 refuse;	/* 0, or a status to answer */
	int			 ready;		/* the request is whole */
	int			 started;	/* a head was submitted */
	int			 eof;		/* the response's last byte
						 * is in resp */
	int			 nobody;	/* HEAD, 204, 304: no DATA */
	int			 deferred;	/* the data source waits */
	int			 full;		/* resp went over the mark */
	int			 drained;	/* news: below the mark */
	int			 closed;	/* nghttp2 closed it */
	int			 eof_sent;	/* its last DATA is framed */
	int			 flushing;	/* closed; its last bytes
						 * wait in the output */
	uint32_t		 close_err;
	int			 queued;	/* on c->settle */
	uint64_t		 born_ms;	/* its HEADERS came */
	uint64_t		 progress_ms;	/* the response last moved */
	TAILQ_ENTRY(h2stream)	 sentry;
	TAILQ_ENTRY(h2stream)	 aentry;	/* on c->all */
};

static __thread struct h2conn_list	 conns;	/* tqh_last NULL: empty */
static bufferevent_data_cb		 evhttp_readcb, evhttp_writecb;
static bufferevent_event_cb		 evhttp_eventcb;
static int				 learnt;	/* 1 ok, -1 failed */
static int				 going;		/* atomic: the shutdown
							 * notice was given */

static void	h2_kick(struct h2conn *);
static void	h2_settle(struct h2conn *);
static void	h2_request(struct h2stream *);
static void	h2_goaway(struct h2conn *);
static void	h2_refuse(struct h2stream *, int);
static void	h2_goaway_final(struct h2conn *);

/* Once: evhttp's bufferevent callbacks, from an outgoing connection. */
static void
h2_learn_once(void)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	void				*arg = NULL;

	learnt = -1;
	/* never connected: no socket is made, no event added */
	evcon = evhttp_connection_base_new(sluice_base, NULL, "127.0.0.1", 9);
	if (evcon == NULL)
		return;
	bev = evhttp_connection_get_bufferevent(evcon);
	bufferevent_getcb(bev, &evhttp_readcb, &evhttp_writecb,
	    &evhttp_eventcb, &arg);
	if (arg == evcon && evhttp_readcb != NULL && evhttp_eventcb != NULL)
		learnt = 1;
	evhttp_connection_free(evcon);
}

/* See h2.h. */
int
h2_learn(void)
{
	static pthread_once_t	once = PTHREAD_ONCE_INIT;

	pthread_once(&once, h2_learn_once);
	return learnt == 1 ? 0 : -1;
}

/* See h2.h. */
struct evhttp_connection *
h2_evcon(struct bufferevent *bev)
{
	bufferevent_data_cb	 r, w;
	bufferevent_event_cb	 e;
	void			*arg = NULL;

	if (learnt != 1)
		return NULL;
	bufferevent_getcb(bev, &r, &w, &e, &arg);
	if (r != evhttp_readcb || w != evhttp_writecb || e != evhttp_eventcb ||
	    arg == NULL || evhttp_connection_get_bufferevent(arg) != bev)
		return NULL;
	return arg;
}

/* See h2.h. */
int
h2_alpn_chosen(struct bufferevent *bev)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(bev);
	const unsigned char	*p;
	unsigned int		 n;

	if (ssl == NULL)
		return 0;
	SSL_get0_alpn_selected(ssl, &p, &n);
	return n == 2 && p[0] == 'h' && p[1] == '2';
}

/*
 * Streams
 */

static struct h2stream *
h2_stream_of(struct h2conn *c, int32_t id)
{
	struct h2stream	*st = nghttp2_session_get_stream_user_data(c->ng, id);

	if (st != NULL)
		SLUICE_MAGIC_CHECK(st, H2_STREAM_MAGIC);
	return st;
}

/* st has news for h2_settle. */
static void
h2_stream_news(struct h2stream *st)
{
	if (!st->queued) {
		st->queued = 1;
		TAILQ_INSERT_TAIL(&st->c->settle, st, sentry);
	}
}

static struct h2stream *
h2_stream_new(struct h2conn *c, int32_t id)
{
	struct h2stream	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->body = evbuffer_new()) == NULL ||
	    (st->resp = evbuffer_new()) == NULL) {
		if (st->body != NULL)
			evbuffer_free(st->body);
		free(st);
		return NULL;
	}
	st->magic = H2_STREAM_MAGIC;
	st->c = c;
	st->id = id;
	st->born_ms = st->progress_ms = sluice_now_ms();
	TAILQ_INIT(&st->in);
	TAILQ_INIT(&st->out);
	TAILQ_INSERT_TAIL(&c->all, st, aentry);
	metrics_h2(METRICS_H2_STREAMS);
	return st;
}

static void
h2_stream_free(struct h2stream *st)
{
	st->c->held -= st->held;
	TAILQ_REMOVE(&st->c->all, st, aentry);
	evhttp_clear_headers(&st->in);
	evhttp_clear_headers(&st->out);
	evbuffer_free(st->body);
	evbuffer_free(st->resp);
	free(st->method);
	free(st->path);
	free(st->authority);
	free(st->cookie);
	st->magic = 0;
	free(st);
}

/* st's exchange hears how st ended: sent, or the client left. */
static void
h2_stream_end(struct h2stream *st)
{
	if (st->ex == NULL)
		return;
	if (st->closed && st->close_err == NGHTTP2_NO_ERROR && st->eof)
		exchange_sent(st->ex);
	else
		exchange_client_gone(st->ex);
}

/*
 * The session's callbacks
 */

/* Frames out: onto the socket's output, up to a mark. */
static ssize_t
h2_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	struct h2conn	*c = arg;
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	(void)ng;
	(void)flags;
	if (evbuffer_get_length(out) >= H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, data, len) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int
h2_begin_headers_cb(nghttp2_session *ng, const nghttp2_frame *frame,
    void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (c->goaway == 2 && frame->hd.stream_id > c->last_id) {
		/* after the final GOAWAY: not processed, safe to retry */
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE,
		    frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	if ((st = h2_stream_new(c, frame->hd.stream_id)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
	return 0;
}

/* Keep a pseudo-header's value; -1 when out of memory. */
static int
h2_keep(char **where, const uint8_t *v, size_t n)
{
	free(*where);
	if ((*where = malloc(n + 1)) == NULL)
		return -1;
	memcpy(*where, v, n);
	(*where)[n] = '\0';
	return 0;
}

/* Cookie crumbs are joined with "; " (RFC 9113 8.2.3). */
static int
h2_cookie(struct h2stream *st, const uint8_t *v, size_t n)
{
	size_t	 old = st->cookie != NULL ? strlen(st->cookie) : 0;
	char	*p;

	if ((p = realloc(st->cookie, old + n + 3)) == NULL)
		return -1;
	if (old > 0) {
		memcpy(p + old, "; ", 2);
		old += 2;
	}
	memcpy(p + old, v, n);
	p[old + n] = '\0';
	st->cookie = p;
	return 0;
}

static int
h2_header_cb(nghttp2_session *ng, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st = h2_stream_of(c, frame->hd.stream_id);
	char		 small[512], *k, *v;
	int		 r = 0;

	(void)ng;
	(void)flags;
	if (st == NULL || st->refuse)
		return 0;
	/* RFC 9113 6.5.2: name, value and 32 for each field */
	st->hdrsize += namelen + valuelen + 32;
	if (st->hdrsize > c->max_hdrs || ++st->nfields > c->max_fields) {
		st->refuse = 431;
		return 0;
	}
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;		/* trailers: not forwarded */
	if (namelen > 0 && name[0] == ':') {
		if (namelen == 7 && memcmp(name, ":method", 7) == 0)
			r = h2_keep(&st->method, value, valuelen);
		else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
			r = h2_keep(&st->path, value, valuelen);
		else if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
			r = h2_keep(&st->authority, value, valuelen);
	} else if (namelen == 6 && memcmp(name, "cookie", 6) == 0)
		r = h2_cookie(st, value, valuelen);
	else if (namelen == 4 && memcmp(name, "host", 4) == 0) {
		if (st->authority == NULL)	/* :authority comes first */
			r = h2_keep(&st->authority, value, valuelen);
	} else {
		/* nghttp2 checked the field (RFC 9113 8.2.1, 8.2.2); a
		 * short one is made a C string on the stack */
		k = namelen + valuelen + 2 <= sizeof(small) ? small :
		    malloc(namelen + valuelen + 2);
		if (k == NULL)
			r = -1;
		else {
			memcpy(k, name, namelen);
			k[namelen] = '\0';
			v = k + namelen + 1;
			memcpy(v, value, valuelen);
			v[valuelen] = '\0';
			r = evhttp_add_header(&st->in, k, v) == 0 ? 0 : -1;
			if (k != small)
				free(k);
		}
	}
	if (r == -1)
		st->refuse = 500;
	return 0;
}

/*
 * Request bodies are held whole until their exchange is done (as evhttp
 * holds an HTTP/1.1 one), so what a connection's streams may hold is
 * bounded by flow control: a stream's window is given back (WINDOW_UPDATE)
 * only while the connection holds at most max_body_size. Past that the
 * streams wait for the exchanges of whole requests to end and make room;
 * only when no whole request holds anything (all that is held belongs to
 * bodies still arriving, which could wait on each other for ever) may the
 * oldest of them take more, and finish. So a connection holds at most
 * max_body_size, one more body, and each stream's window (64 KiB).
 */
static int
h2_may_take(const struct h2conn *c, const struct h2stream *st)
{
	const struct h2stream	*o, *oldest = NULL;

	if (c->held <= c->max_body)
		return 1;
	TAILQ_FOREACH(o, &c->all, aentry) {
		if (o->ready && o->held > 0)
			return 0;	/* its exchange will make room */
		if (!o->ready && !o->closed && oldest == NULL)
			oldest = o;
	}
	return oldest == st;
}

/* Room was made (a stream ended or its request became whole): windows
 * held back are given back, oldest stream first. */
static void
h2_credit(struct h2conn *c)
{
	struct h2stream	*st;

	TAILQ_FOREACH(st, &c->all, aentry)
		if (st->unconsumed > 0 && !st->closed && h2_may_take(c, st)) {
			nghttp2_session_consume_stream(c->ng, st->id,
			    st->unconsumed);
			st->unconsumed = 0;
		}
}

static int
h2_data_cb(nghttp2_session *ng, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st = h2_stream_of(c, id);

	(void)flags;
	/* the connection's window is given back at once: only streams
	 * wait (else a stream held back could starve the oldest one) */
	nghttp2_session_consume_connection(ng, len);
	if (st == NULL || st->refuse) {
		nghttp2_session_consume_stream(ng, id, len);
		return 0;
	}
	if (evbuffer_get_length(st->body) + len > c->max_body)
		st->refuse = 413;
	else if (evbuffer_add(st->body, data, len) == -1)
		st->refuse = 500;
	else {
		st->held += len;
		c->held += len;
	}
	if (st->refuse || h2_may_take(c, st))
		nghttp2_session_consume_stream(ng, id, len);
	else
		st->unconsumed += len;
	return 0;
}

/*
 * The client reset a stream: one token of its budget (H2_RESET_BURST,
 * refilled at H2_RESET_RATE a second). Opening streams and resetting
 * them at once (CVE-2023-44487) would have sluice start and cancel
 * upstream work as fast as the client can write; past the budget the
 * connection is cut with GOAWAY(ENHANCE_YOUR_CALM).
 */
static void
h2_reset_taken(struct h2conn *c)
{
	static __thread struct log_limit	 lim;
	uint64_t				 now = sluice_now_ms();
	uint64_t				 add;
	unsigned long				 held;

	add = (now - c->reset_ms) * H2_RESET_RATE / 1000;
	if (add > 0) {
		c->resets += add;
		c->reset_ms += add * 1000 / H2_RESET_RATE;
		if (c->resets >= H2_RESET_BURST) {
			c->resets = H2_RESET_BURST;
			c->reset_ms = now;
		}
	}
	if (c->resets > 0) {
		c->resets--;
		return;
	}
	if (c->fatal)
		return;
	c->fatal = 1;
	metrics_h2(METRICS_H2_CALM);
	nghttp2_session_terminate_session(c->ng, NGHTTP2_ENHANCE_YOUR_CALM);
	if (log_limit_pass(&lim, now, &held))
		log_warn("h2 %s:%u: stream resets over %d and %d a second: "
		    "connection cut (ENHANCE_YOUR_CALM)%s",
		    clientconn_ip(c->client), clientconn_port(c->client),
		    H2_RESET_BURST, H2_RESET_RATE, held > 0 ?
		    " (and more not logged)" : "");
}

static int
h2_frame_recv_cb(nghttp2_session *ng, const nghttp2_frame *frame,
    void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st;

	(void)ng;
	switch (frame->hd.type) {
	case NGHTTP2_RST_STREAM:
		h2_reset_taken(c);
		return 0;
	case NGHTTP2_PING:
		if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && c->goaway == 1 &&
		    c->goaway_ev != NULL)
			event_active(c->goaway_ev, EV_TIMEOUT, 0);
		return 0;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
	    (st = h2_stream_of(c, frame->hd.stream_id)) == NULL ||
	    st->ready)
		return 0;
	st->ready = 1;
	h2_stream_news(st);
	return 0;
}

static int
h2_stream_close_cb(nghttp2_session *ng, int32_t id, uint32_t err,
    void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st = h2_stream_of(c, id);

	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	st->closed = 1;
	st->close_err = err;
	h2_stream_news(st);
	return 0;
}

/* The shutdown notice went out: the PING that times its round trip. */
static int
h2_frame_send_cb(nghttp2_session *ng, const nghttp2_frame *frame,
    void *arg)
{
	struct h2conn	*c = arg;

	if (frame->hd.type == NGHTTP2_GOAWAY)
		metrics_h2(METRICS_H2_GOAWAYS);
	if (frame->hd.type == NGHTTP2_RST_STREAM &&
	    frame->rst_stream.error_code == NGHTTP2_REFUSED_STREAM)
		metrics_h2(METRICS_H2_REFUSED);
	if (frame->hd.type == NGHTTP2_GOAWAY && c->goaway == 1 &&
	    !c->pinged) {
		c->pinged = 1;
		nghttp2_submit_ping(ng, NGHTTP2_FLAG_NONE, NULL);
	}
	return 0;
}

/* Response bytes for a DATA frame. */
static ssize_t
h2_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2stream	*st = src->ptr;
	int		 n;

	(void)ng;
	(void)id;
	(void)arg;
	n = evbuffer_remove(st->resp, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->progress_ms = sluice_now_ms();
	if (st->full && evbuffer_get_length(st->resp) < H2_BODY_LOW) {
		st->full = 0;
		st->drained = 1;
		h2_stream_news(st);
	}
	if (evbuffer_get_length(st->resp) == 0 && st->eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		st->eof_sent = 1;
	}
	else if (n == 0) {
		st->deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	return n;
}

/*
 * Driving the session
 */

/*
 * The session failed (a protocol error, a flood nghttp2 caught): what it
 * queued (its GOAWAY) is sent, nothing more is read, and the connection
 * closes once its output is out (or at the write deadline).
 */
static void
h2_fatal(struct h2conn *c)
{
	c->fatal = 1;
	bufferevent_disable(c->bev, EV_READ);
}

/* Read what the socket brought, frame what is due; 0, or -1: close. */
static int
h2_run(struct h2conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v[8];
	ssize_t			 r;
	int			 i, n;

	if (c->fatal)		/* nothing more is read */
		evbuffer_drain(in, evbuffer_get_length(in));
	while (!c->dead && !c->fatal && evbuffer_get_length(in) > 0) {
		n = evbuffer_peek(in, -1, NULL, v, 8);
		if (n > 8)
			n = 8;
		for (i = 0; i < n; i++) {
			r = nghttp2_session_mem_recv(c->ng, v[i].iov_base,
			    v[i].iov_len);
			if (r < 0) {
				log_debug("h2 %s:%u: %s",
				    clientconn_ip(c->client),
				    clientconn_port(c->client),
				    nghttp2_strerror((int)r));
				h2_fatal(c);
				break;
			}
			evbuffer_drain(in, (size_t)r);
		}
		if (c->fatal)
			break;
	}
	if (!c->dead && nghttp2_session_send(c->ng) != 0)
		c->dead = 1;
	if (!c->dead && (c->fatal || !nghttp2_session_want_read(c->ng) ||
	    (c->goaway == 2 && TAILQ_EMPTY(&c->all))) &&
	    !nghttp2_session_want_write(c->ng) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		c->dead = 1;
	return c->dead ? -1 : 0;
}

/*
 * The idle deadline runs only while no stream is open; while some are,
 * the tick looks at their deadlines.
 */
static void
h2_timeouts(struct h2conn *c)
{
	struct timeval	rtv = sluice_tv(c->idle_ms);
	struct timeval	wtv = sluice_tv(c->write_ms);
	struct timeval	ttv = sluice_tv(H2_TICK_MS);

	bufferevent_set_timeouts(c->bev, TAILQ_EMPTY(&c->all) ? &rtv : NULL,
	    &wtv);
	if (!TAILQ_EMPTY(&c->all) && !evtimer_pending(c->tick_ev, NULL))
		evtimer_add(c->tick_ev, &ttv);
}

/*
 * Each open stream's deadlines: a request not whole req_ms after its
 * HEADERS gets 408 (as a slow HTTP/1.1 head or body does); a response
 * whose queued bytes the client has not taken for client_timeout (its
 * window stayed shut, or it stopped reading) is reset, which ends its
 * exchange and frees what it held. A response waiting for its server is
 * not the client's fault: the upstream's read_timeout bounds that.
 */
static void
h2_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st;
	uint64_t	 now = sluice_now_ms();
	int		 acted = 0;

	(void)fd;
	(void)what;
	SLUICE_MAGIC_CHECK(c, H2_CONN_MAGIC);
	if (c->dead || c->fatal)
		return;
	TAILQ_FOREACH(st, &c->all, aentry) {
		if (st->closed)
			continue;
		if (!st->ready && !st->started &&
		    now - st->born_ms >= c->req_ms) {
			log_info("h2 %s:%u: stream %d: the request was not "
			    "whole in %llu ms: 408", clientconn_ip(c->client),
			    clientconn_port(c->client), (int)st->id,
			    (unsigned long long)c->req_ms);
			h2_refuse(st, 408);
			nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE,
			    st->id, NGHTTP2_NO_ERROR);
			acted = 1;
		} else if (st->started && !st->eof_sent &&
		    evbuffer_get_length(st->resp) > 0 &&
		    now - st->progress_ms >= c->write_ms) {
			log_info("h2 %s:%u: stream %d: the response did not "
			    "move for %llu ms: reset", clientconn_ip(c->client),
			    clientconn_port(c->client), (int)st->id,
			    (unsigned long long)c->write_ms);
			nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE,
			    st->id, NGHTTP2_CANCEL);
			acted = 1;
		}
	}
	if (acted)
		h2_kick(c);
	else
		h2_timeouts(c);
}

static void
h2_free(struct h2conn *c)
{
	struct h2stream	*st;

	/* every stream left: its exchange hears how it ended */
	while ((st = TAILQ_FIRST(&c->settle)) != NULL) {
		TAILQ_REMOVE(&c->settle, st, sentry);
		st->queued = 0;
	}
	while ((st = TAILQ_FIRST(&c->all)) != NULL) {
		if (!st->closed)
			nghttp2_session_set_stream_user_data(c->ng, st->id,
			    NULL);
		h2_stream_end(st);
		h2_stream_free(st);
	}
	nghttp2_session_del(c->ng);
	if (c->goaway_ev != NULL)
		event_free(c->goaway_ev);
	if (c->tick_ev != NULL)
		event_free(c->tick_ev);
	event_free(c->ev);
	TAILQ_REMOVE(&conns, c, entry);
	clientconn_detach(c->client, &c->user);
	if (!c->husk_gone) {
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		evhttp_connection_free(c->husk);	/* the socket too */
	}
	c->magic = 0;
	free(c);
}

/* Streams with news: start their exchanges, tell the exchanges of ends. */
static void
h2_settle(struct h2conn *c)
{
	struct h2stream	*st;

	while ((st = TAILQ_FIRST(&c->settle)) != NULL) {
		TAILQ_REMOVE(&c->settle, st, sentry);
		st->queued = 0;
		if (st->closed) {
			/* sent means with the kernel, as on HTTP/1.1: the
			 * exchange hears once the output is written */
			if (st->ex != NULL && st->close_err ==
			    NGHTTP2_NO_ERROR && st->eof &&
			    evbuffer_get_length(bufferevent_get_output(
			    c->bev)) > 0) {
				st->flushing = 1;
				continue;
			}
			h2_stream_end(st);
			h2_stream_free(st);
			h2_credit(c);
			continue;
		}
		if (st->drained && st->ex != NULL) {
			st->drained = 0;
			exchange_drained(st->ex);
		}
		if (st->ready == 1) {
			st->ready = 2;
			h2_credit(c);
			h2_request(st);
		}
	}
}

/* The connection's event: run the session and settle; maybe close. */
static void
h2_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn	*c = arg;
	int		 i;

	(void)fd;
	(void)what;
	SLUICE_MAGIC_CHECK(c, H2_CONN_MAGIC);
	/* settling may submit more, which may close more streams */
	for (i = 0; i < 16 && !c->dead; i++) {
		if (h2_run(c) == -1)
			break;
		if (TAILQ_EMPTY(&c->settle))
			break;
		h2_settle(c);
	}
	if (c->dead) {
		h2_free(c);
		return;
	}
	if (i == 16)		/* settled last: what it submitted is due */
		h2_kick(c);
	h2_timeouts(c);
}

/* Run the session from the loop, soon (once for many asks). */
static void
h2_kick(struct h2conn *c)
{
	event_active(c->ev, EV_TIMEOUT, 0);
}

static void
h2_bev_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	h2_ev_cb(-1, 0, arg);
}

static void
h2_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct h2conn	*c = arg;
	struct h2stream	*st;
	int		 flushed = 0;

	/* the output is written: the streams that waited for it are done */
	TAILQ_FOREACH(st, &c->all, aentry)
		if (st->flushing) {
			st->flushing = 0;
			h2_stream_news(st);
			flushed = 1;
		}
	if (flushed) {
		h2_ev_cb(-1, 0, c);
		return;
	}
	if (c->fatal || c->goaway == 2 || nghttp2_session_want_write(c->ng) ||
	    !nghttp2_session_want_read(c->ng))
		h2_ev_cb(-1, 0, c);
}

static void
h2_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct h2conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("h2 %s:%u: %s timeout", clientconn_ip(c->client),
		    clientconn_port(c->client), (what & BEV_EVENT_READING) ?
		    "idle" : "write");
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		c->dead = 1;
		h2_ev_cb(-1, 0, c);
	}
}

/* evhttp freed the husk (a listener closed): the session ends now. */
static void
h2_husk_gone(struct clientconn_user *u)
{
	struct h2conn	*c = (struct h2conn *)(void *)((char *)u -
			    offsetof(struct h2conn, user));

	SLUICE_MAGIC_CHECK(c, H2_CONN_MAGIC);
	/* the record and the bufferevent are evhttp's to free: after this
	 * callback neither is touched */
	c->husk_gone = 1;
	c->dead = 1;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	h2_free(c);
}

/*
 * The front of a stream
 */

static struct h2stream *
h2_front_stream(const struct front *f)
{
	struct h2stream	*st = f->impl;

	SLUICE_MAGIC_CHECK(st, H2_STREAM_MAGIC);
	return st;
}

static void
h2_begin(struct front *f)
{
	h2_front_stream(f)->ex = f->ex;
}

/* The exchange ends: a response it did not finish is reset. */
static void
h2_release(struct front *f)
{
	struct h2stream	*st = h2_front_stream(f);

	st->ex = NULL;
	if (!st->closed && !st->c->dead && !st->eof) {
		nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
		h2_kick(st->c);
	}
}

/* Hop-by-hop fields never go out on HTTP/2 (RFC 9113 8.2.2). */
static int
h2_hop(const char *name)
{
	return strcasecmp(name, "connection") == 0 ||
	    strcasecmp(name, "keep-alive") == 0 ||
	    strcasecmp(name, "proxy-connection") == 0 ||
	    strcasecmp(name, "transfer-encoding") == 0 ||
	    strcasecmp(name, "upgrade") == 0 || strcasecmp(name, "te") == 0;
}

#define H2_HEAD_MAX	256	/* fields in a response head */

/*
 * Submit the response head from out (names lower-cased, as HTTP/2 wants
 * them), with a data source unless there is no body. -1 on failure.
 */
static int
h2_submit_head(struct h2stream *st, int code, struct evkeyvalq *out)
{
	static nghttp2_data_provider	 dp = { .read_callback = h2_read_cb };
	nghttp2_data_provider		 p = dp;
	nghttp2_nv			 nv[H2_HEAD_MAX];
	struct evkeyval			*kv;
	char				 status[8], small[2048], *names, *w;
	size_t				 n = 0, len = 0;
	int				 r;

	TAILQ_FOREACH(kv, out, next)
		len += strlen(kv->key) + 1;
	names = len + 1 <= sizeof(small) ? small : malloc(len + 1);
	if (names == NULL)
		return -1;
	snprintf(status, sizeof(status), "%d", code);
	nv[n++] = (nghttp2_nv){ (uint8_t *)(uintptr_t)":status",
	    (uint8_t *)status, 7,
	    strlen(status), NGHTTP2_NV_FLAG_NONE };
	w = names;
	TAILQ_FOREACH(kv, out, next) {
		size_t	i, kl = strlen(kv->key);

		if (h2_hop(kv->key) || n == H2_HEAD_MAX)
			continue;
		for (i = 0; i < kl; i++)
			w[i] = (char)(kv->key[i] >= 'A' && kv->key[i] <= 'Z' ?
			    kv->key[i] + 32 : kv->key[i]);
		nv[n++] = (nghttp2_nv){ (uint8_t *)w,
		    (uint8_t *)(uintptr_t)kv->value,
		    kl, strlen(kv->value), NGHTTP2_NV_FLAG_NONE };
		w += kl + 1;
	}
	st->nobody = st->nobody || code == 204 || code == 304;
	p.source.ptr = st;
	r = nghttp2_submit_response(st->c->ng, st->id, nv, n,
	    st->nobody ? NULL : &p);
	if (names != small)
		free(names);
	st->started = 1;
	st->progress_ms = sluice_now_ms();
	if (st->nobody)
		st->eof = st->eof_sent = 1;
	h2_kick(st->c);
	return r == 0 ? 0 : -1;
}

static void
h2_reply(struct front *f, int code, const char *reason,
    struct evbuffer *body)
{
	struct h2stream	*st = h2_front_stream(f);

	(void)reason;
	if (st->closed || st->c->dead)
		return;
	if (body != NULL && !st->nobody)
		evbuffer_add_buffer(st->resp, body);
	st->eof = 1;
	if (h2_submit_head(st, code, f->out) == -1)
		nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
}

static void
h2_start(struct front *f, int code, const char *reason, uint64_t timeout_ms)
{
	struct h2stream	*st = h2_front_stream(f);

	(void)reason;
	(void)timeout_ms;		/* the connection's write deadline */
	if (st->closed || st->c->dead || code < 200)
		return;			/* no 101 on HTTP/2: takeover cuts */
	if (h2_submit_head(st, code, f->out) == -1)
		nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
}

/* The data source waits for bytes: wake it. */
static void
h2_resume(struct h2stream *st)
{
	if (st->deferred && st->started && !st->closed) {
		st->deferred = 0;
		nghttp2_session_resume_data(st->c->ng, st->id);
	}
	h2_kick(st->c);
}

static int
h2_body(struct front *f, struct evbuffer *data)
{
	struct h2stream	*st = h2_front_stream(f);

	if (st->closed || st->c->dead || st->nobody) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return 0;
	}
	/* the client's clock runs from when it has bytes to take (a slow
	 * server is the upstream's read_timeout's business) */
	if (evbuffer_get_length(st->resp) == 0)
		st->progress_ms = sluice_now_ms();
	evbuffer_add_buffer(st->resp, data);
	h2_resume(st);
	if (evbuffer_get_length(st->resp) > H2_BODY_HIGH)
		st->full = 1;
	return st->full;
}

static void
h2_end(struct front *f)
{
	struct h2stream	*st = h2_front_stream(f);

	st->eof = 1;
	if (!st->closed && !st->c->dead)
		h2_resume(st);
}

/* The response is cut short: the stream is reset (the client sees it). */
static void
h2_cut(struct front *f)
{
	struct h2stream	*st = h2_front_stream(f);

	if (!st->closed && !st->c->dead)
		nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
	h2_kick(st->c);			/* exchange_client_gone follows */
}

static void
h2_watch(struct front *f)
{
	(void)f;			/* a reset stream reports itself */
}

static struct bufferevent *
h2_takeover(struct front *f)
{
	(void)f;
	return NULL;
}

static const struct front_ops h2_ops = {
	.name = "h2",
	.multiplexed = 1,
	.begin = h2_begin,
	.release = h2_release,
	.reply = h2_reply,
	.start = h2_start,
	.body = h2_body,
	.end = h2_end,
	.cut = h2_cut,
	.close = h2_cut,
	.watch = h2_watch,
	.takeover = h2_takeover,
};

/* The method's evhttp type; -1: one evhttp 2.1 has no name for. */
static int
h2_method(const char *m, enum evhttp_cmd_type *cmd)
{
	static const struct {
		const char		*name;
		enum evhttp_cmd_type	 cmd;
	} t[] = {
		{ "GET", EVHTTP_REQ_GET }, { "HEAD", EVHTTP_REQ_HEAD },
		{ "POST", EVHTTP_REQ_POST }, { "PUT", EVHTTP_REQ_PUT },
		{ "DELETE", EVHTTP_REQ_DELETE },
		{ "OPTIONS", EVHTTP_REQ_OPTIONS },
		{ "TRACE", EVHTTP_REQ_TRACE },
		{ "CONNECT", EVHTTP_REQ_CONNECT },
		{ "PATCH", EVHTTP_REQ_PATCH },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0) {
			*cmd = t[i].cmd;
			return 0;
		}
	return -1;
}

/* Answer st here, with no exchange (a refused request). */
static void
h2_refuse(struct h2stream *st, int code)
{
	struct evbuffer	*b = evbuffer_new();
	char		 len[24];

	evhttp_clear_headers(&st->out);
	if (b != NULL)
		evbuffer_add_printf(b, "%d\n", code);
	snprintf(len, sizeof(len), "%zu", b != NULL ?
	    evbuffer_get_length(b) : 0);
	evhttp_add_header(&st->out, "Content-Type",
	    "text/plain; charset=utf-8");
	evhttp_add_header(&st->out, "Content-Length", len);
	if (b != NULL && !st->nobody)
		evbuffer_add_buffer(st->resp, b);
	if (b != NULL)
		evbuffer_free(b);
	st->eof = 1;
	if (h2_submit_head(st, code, &st->out) == -1)
		nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
}

/* st's request is whole: make it an exchange. */
static void
h2_request(struct h2stream *st)
{
	struct h2conn	*c = st->c;
	struct front	 f;
	int		 code = st->refuse;

	memset(&f, 0, sizeof(f));
	st->nobody = st->method != NULL && strcmp(st->method, "HEAD") == 0;
	if (code == 0 && (st->method == NULL ||
	    h2_method(st->method, &f.cmd) == -1))
		code = 501;
	if (code == 0 && f.cmd != EVHTTP_REQ_CONNECT && st->path == NULL)
		code = 400;
	if (code == 0 && st->authority != NULL &&
	    evhttp_add_header(&st->in, "Host", st->authority) == -1)
		code = 500;
	if (code == 0 && st->cookie != NULL &&
	    evhttp_add_header(&st->in, "Cookie", st->cookie) == -1)
		code = 500;
	if (code != 0) {
		h2_refuse(st, code);
		return;
	}
	f.ops = &h2_ops;
	f.impl = st;
	f.client = c->client;
	f.in = &st->in;
	f.out = &st->out;
	f.body = st->body;
	f.uri = st->path != NULL ? st->path : "*";
	f.u = NULL;		/* :path is origin-form (or "*"): the host is
				 * :authority's, never the target's */
	f.major = 2;
	f.minor = 0;
	if (c->start(c->arg, &f) == -1)
		nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_REFUSED_STREAM);
}

/*
 * Taking the connection
 */

/* See h2.h. */
int
h2_divert(struct bufferevent *bev, struct evhttp_connection *evcon,
    struct clientconn *client, const struct conf_listener *cl,
    h2_start_fn *start, void *arg)
{
	nghttp2_session_callbacks	*cbs = NULL;
	nghttp2_option			*opt = NULL;
	struct h2conn			*c;
	nghttp2_settings_entry		 set[3];
	int				 rc = -1;

	if (h2_evcon(bev) != evcon)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->magic = H2_CONN_MAGIC;
	c->bev = bev;
	c->husk = evcon;
	c->client = client;
	c->start = start;
	c->arg = arg;
	c->idle_ms = cl->keepalive_timeout_ms;
	c->write_ms = cl->client_timeout_ms;
	c->max_body = cl->max_body_size;
	c->max_hdrs = cl->http2_max_header_list_size;
	c->max_fields = cl->max_headers;
	c->req_ms = cl->client_header_timeout_ms + cl->client_body_timeout_ms;
	c->resets = H2_RESET_BURST;
	c->reset_ms = sluice_now_ms();
	TAILQ_INIT(&c->settle);
	TAILQ_INIT(&c->all);
	if ((c->ev = event_new(sluice_base, -1, 0, h2_ev_cb, c)) == NULL ||
	    (c->tick_ev = evtimer_new(sluice_base, h2_tick_cb, c)) == NULL ||
	    nghttp2_session_callbacks_new(&cbs) != 0 ||
	    nghttp2_option_new(&opt) != 0)
		goto out;
	nghttp2_session_callbacks_set_send_callback(cbs, h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
	    h2_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    h2_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    h2_frame_recv_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    h2_stream_close_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs,
	    h2_frame_send_cb);
	nghttp2_option_set_max_send_header_block_length(opt, 1 << 20);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	if (nghttp2_session_server_new2(&c->ng, cbs, c, opt) != 0) {
		c->ng = NULL;
		goto out;
	}
	set[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	set[0].value = (uint32_t)cl->http2_max_concurrent_streams;
	set[1].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	set[1].value = (uint32_t)cl->http2_max_header_list_size;
	set[2] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, set, 3) != 0)
		goto out;
	rc = 0;
out:
	if (cbs != NULL)
		nghttp2_session_callbacks_del(cbs);
	if (opt != NULL)
		nghttp2_option_del(opt);
	if (rc == -1) {
		if (c->ng != NULL)
			nghttp2_session_del(c->ng);
		if (c->ev != NULL)
			event_free(c->ev);
		if (c->tick_ev != NULL)
			event_free(c->tick_ev);
		free(c);
		return -1;
	}
	/* evhttp never sees the connection again */
	nulscan_forget(&client->scan);
	c->user.gone = h2_husk_gone;
	clientconn_attach(client, &c->user);
	if (conns.tqh_last == NULL)
		TAILQ_INIT(&conns);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	metrics_h2(METRICS_H2_CONNECTIONS);
	bufferevent_setcb(bev, h2_bev_read_cb, h2_bev_write_cb,
	    h2_bev_event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	h2_timeouts(c);
	if (SLUICE_LOAD(&going))	/* came during the shutdown notice */
		h2_goaway(c);
	return 0;
}

/*
 * Going away
 */

/*
 * The final GOAWAY, naming the last stream taken, written between two of
 * nghttp2's frames (its send callback takes whole frames or nothing).
 * nghttp2 is not told: it would ignore the HEADERS of later streams,
 * where RFC 9113 8.1 lets sluice refuse them with REFUSED_STREAM, which
 * tells the client plainly to retry elsewhere (h2_begin_headers_cb).
 */
static void
h2_goaway_final(struct h2conn *c)
{
	unsigned char	f[17] = { 0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0 };

	if (nghttp2_session_send(c->ng) != 0) {
		c->dead = 1;
		return;
	}
	f[9] = (unsigned char)(c->last_id >> 24 & 0x7f);
	f[10] = (unsigned char)(c->last_id >> 16);
	f[11] = (unsigned char)(c->last_id >> 8);
	f[12] = (unsigned char)c->last_id;
	/* NO_ERROR: f[13..16] stay 0 */
	if (evbuffer_add(bufferevent_get_output(c->bev), f, sizeof(f)) == 0)
		metrics_h2(METRICS_H2_GOAWAYS);
}

/* The notice's round trip is over: the final GOAWAY. */
static void
h2_goaway_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn	*c = arg;

	(void)fd;
	(void)what;
	SLUICE_MAGIC_CHECK(c, H2_CONN_MAGIC);
	if (c->goaway != 1 || c->dead || c->fatal)
		return;
	c->goaway = 2;
	c->last_id = nghttp2_session_get_last_proc_stream_id(c->ng);
	h2_goaway_final(c);
	h2_kick(c);
}

/* The first GOAWAY and its PING; the final one after the round trip. */
static void
h2_goaway(struct h2conn *c)
{
	struct timeval	 tv = sluice_tv(H2_GOAWAY_WAIT_MS);

	if (c->goaway != 0 || c->dead)
		return;
	c->goaway = 1;
	/* the PING follows once the notice is out (h2_frame_send_cb): its
	 * answer then says the client read the notice */
	nghttp2_submit_shutdown_notice(c->ng);
	c->goaway_ev = evtimer_new(sluice_base, h2_goaway_cb, c);
	if (c->goaway_ev == NULL || evtimer_add(c->goaway_ev, &tv) == -1)
		h2_goaway_cb(-1, 0, c);
	h2_kick(c);
}

/* See h2.h. */
void
h2_goaway_all(void)
{
	struct h2conn	*c;

	SLUICE_STORE(&going, 1);
	if (conns.tqh_last == NULL)
		return;
	TAILQ_FOREACH(c, &conns, entry)
		h2_goaway(c);
}

/* See h2.h. */
void
h2_close_all(void)
{
	struct h2conn	*c;

	if (conns.tqh_last == NULL)
		return;
	/* what the hard stop queued (503s, resets) goes, then they close */
	TAILQ_FOREACH(c, &conns, entry) {
		h2_fatal(c);
		h2_kick(c);
	}
}
