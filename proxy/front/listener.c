/*
 * listener: evhttp servers and their listening sockets.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "proxy/exchange.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/h1.h"
#include "proxy/front/h2.h"
#include "proxy/base/fault.h"
#include "proxy/gen.h"
#include "proxy/front/inherit.h"
#include "proxy/front/listener.h"
#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/front/nulscan.h"
#include "proxy/front/proxyhdr.h"
#include "proxy/base/runtime.h"
#include "proxy/base/worker.h"
#include "tls/tls.h"

#define LISTENER_BACKLOG	511
#define LISTENER_CLOSE_TRIES	100	/* loop turns to empty the queue */
#define LISTENER_MAX_WRITE	(256 * 1024)	/* one write to a client */
#define LISTENER_FD_BACKOFF_MS	100	/* out of descriptors: pause */
#define LISTENER_LIMIT_POLL_MS	50	/* at max_connections: look again */
#define LISTENER_FD_HEADROOM	4	/* kept free once descriptors ran
					 * out: the admin, server
					 * connections */
#define LISTENER_TIGHT_MS	1000	/* "ran out" lasts this long */
#define LISTENER_PAUSE_FDS	1	/* why a slot does not accept */
#define LISTENER_PAUSE_OWN	2	/* its listener's max_connections */
#define LISTENER_PAUSE_ALL	4	/* the global max_connections */

TAILQ_HEAD(listener_slot_list, listener_slot);

/* This thread's slots with an evhttp, and its newest generation. */
static __thread struct listener_slot_list	 slots;
static __thread struct gen			*cur_gen;
static __thread uint64_t			 fd_tight_until; /* ms */
static void					(*closed_cb)(void);

static void	listener_close_main(struct listener *);
static void	listener_resume_cb(evutil_socket_t, short, void *);
static int	listener_fd_headroom(struct listener_slot *);

/*
 * Serve this thread's newest generation when it lists the slot's address:
 * routing, and the settings evhttp copies onto each new connection. A
 * listener a reload removed keeps the generation it had.
 */
static void
listener_slot_refresh(struct listener_slot *sl)
{
	const struct conf_listener	*cl;
	struct gen_listener		*gl;
	struct timeval			 tv;

	if (sl->gen == cur_gen || cur_gen == NULL ||
	    (gl = gen_listener_find(cur_gen, &sl->l->addr)) == NULL)
		return;
	if (sl->gen != NULL)
		gen_unref(sl->gen);
	sl->gen = gen_ref(cur_gen);
	sl->gl = gl;
	cl = gl->conf;
	tv = sluice_tv(cl->client_timeout_ms);
	evhttp_set_max_body_size(sl->http, (ev_ssize_t)cl->max_body_size);
	evhttp_set_max_headers_size(sl->http, (ev_ssize_t)cl->max_header_size);
	evhttp_set_timeout_tv(sl->http, &tv);
}

/* See listener.h. The old generation goes as soon as nothing serves it. */
void
listener_set_gen(struct gen *g)
{
	struct listener_slot	*sl;
	struct gen		*old = cur_gen;

	cur_gen = g != NULL ? gen_ref(g) : NULL;
	if (g != NULL)
		nulscan_set_budget(g->conf->global.max_buffered_bodies);
	if (slots.tqh_last != NULL)
		TAILQ_FOREACH(sl, &slots, entry)
			listener_slot_refresh(sl);
	if (old != NULL)
		gen_unref(old);
}

/* The evhttp request callback: every request starts an exchange. */
static void
listener_request_cb(struct evhttp_request *req, void *arg)
{
	struct listener_slot		*sl = arg;
	struct evhttp_connection	*evcon;
	struct clientconn		*c;

	SLUICE_MAGIC_CHECK(sl, LISTENER_SLOT_MAGIC);
	listener_slot_refresh(sl);
	if (sl->gl == NULL) {		/* never given a generation */
		evhttp_send_error(req, 503, NULL);
		return;
	}
	evcon = evhttp_request_get_connection(req);
	if ((c = clientconn_get(evcon, &sl->l->nclients,
	    sl->gl->conf->proxy_protocol)) == NULL) {
		log_error("listener %s: out of memory for a connection",
		    sl->l->addr.text);
		evhttp_connection_free(evcon);
		return;
	}
	nulscan_dispatched(&c->scan);
	h1_request(req, c, sl->gen, sl->gl);
}

/* A request of an HTTP/2 connection of sl's: in its generation now. */
static int
listener_h2_start(void *arg, const struct front *f)
{
	struct listener_slot	*sl = arg;

	SLUICE_MAGIC_CHECK(sl, LISTENER_SLOT_MAGIC);
	listener_slot_refresh(sl);
	if (sl->gl == NULL)
		return -1;
	return exchange_start(f, sl->gen, sl->gl);
}

/*
 * The NUL scanner's divert hook on listeners that offer h2, asked at the
 * first bytes of each request: a connection whose handshake chose h2 is
 * taken from evhttp before it reads a byte (h2.h). A connection that
 * cannot be taken stays evhttp's, which answers the preface with a 400.
 */
static int
listener_h2_divert(struct nulscan *n)
{
	static __thread struct log_limit	 lim;
	struct evhttp_connection		*evcon;
	struct listener_slot			*sl;
	struct clientconn			*c;
	unsigned long				 held;

	if (!h2_alpn_chosen(n->bev))
		return 0;
	if ((evcon = h2_evcon(n->bev)) == NULL)
		goto fail;
	TAILQ_FOREACH(sl, &slots, entry)
		if (sl->http == evhttp_connection_get_server(evcon))
			break;
	if (sl == NULL || (listener_slot_refresh(sl), sl->gl == NULL))
		goto fail;
	if ((c = clientconn_get(evcon, &sl->l->nclients,
	    sl->gl->conf->proxy_protocol)) == NULL ||
	    h2_divert(n->bev, evcon, c, sl->gl->conf, listener_h2_start,
	    sl) == -1)
		goto fail;
	return 1;
fail:
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_error("an HTTP/2 connection could not be taken from "
		    "evhttp (out of memory, or evhttp's callbacks not "
		    "recognised)%s", held > 0 ? " (and more not logged)" : "");
	return 0;
}

/*
 * The input callback of a refused connection. It runs inside the read
 * (no BEV_OPT_DEFER_CALLBACKS), before evhttp's read callback, so evhttp
 * never sees a byte: a ClientHello is never parsed as a request and
 * answered with a plain-text 400. The shutdown makes the next read see EOF
 * (or more bytes, thrown away the same way), and evhttp frees the
 * connection.
 */
static void
listener_refuse_input_cb(struct evbuffer *input,
    const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent	*bev = arg;
	evutil_socket_t		 fd;

	if (info->n_added == 0)		/* our own drain */
		return;
	evbuffer_drain(input, evbuffer_get_length(input));
	if ((fd = bufferevent_getfd(bev)) != -1)
		shutdown(fd, SHUT_RDWR);
}

/*
 * A bufferevent that serves nothing, for a TLS connection whose TLS could
 * not be set up (evhttp falls back to plain text when the bevcb returns
 * NULL). It is a socket bufferevent, so evhttp's bufferevent_setfd gives it
 * the socket, and CLOSE_ON_FREE: when evhttp frees the connection (EOF
 * after listener_refuse_input_cb, or client_timeout for a client that
 * sends nothing) the bufferevent closes the socket and evhttp does not, so
 * it is closed once. evhttp replaces the bufferevent's callbacks but not
 * the callbacks of its input buffer. NULL when even this cannot be made.
 * See listener.h.
 */
struct bufferevent *
listener_bev_refuse(struct event_base *base)
{
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	if (evbuffer_add_cb(bufferevent_get_input(bev),
	    listener_refuse_input_cb, bev) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/*
 * What every client bufferevent gets. libevent writes at most 16 KiB per
 * write callback, so a 16 KiB body and its head would leave in two
 * writes, a loop turn each; the exchange pauses its server past 256 KiB
 * queued, so one write may take whatever is queued.
 */
static void
listener_bev_setup(struct listener_slot *sl, struct bufferevent *bev,
    int *scan)
{
	bufferevent_set_max_single_write(bev, LISTENER_MAX_WRITE);
	*scan = 1;		/* its bytes are requests from the first */
}

/*
 * Log that a connection's TLS could not be set up: at most one line a
 * second for each listener in each worker, since every new connection can
 * fail again (out of memory, say); the next line counts those left out.
 */
static void
listener_log_tls_failure(struct listener_slot *sl)
{
	unsigned long	 held;

	if (!log_limit_pass(&sl->tls_log, sluice_now_ms(), &held))
		return;
	if (held == 0)
		log_error("listener %s: cannot set up TLS for a connection",
		    sl->l->addr.text);
	else
		log_error("listener %s: cannot set up TLS for a connection "
		    "(%lu more not logged)", sl->l->addr.text, held);
}

/*
 * A listener that verifies clients refused one in its handshake
 * (tls_server_on_reject): counted, and logged with OpenSSL's reason and
 * the peer, at most one line a second per worker (every new connection
 * can fail again).
 */
static void
listener_tls_reject(const char *listener, const SSL *ssl, const char *why)
{
	static __thread struct log_limit	 lim;
	struct sockaddr_storage			 ss;
	socklen_t				 sslen = sizeof(ss);
	unsigned long				 held;
	char					 ip[INET6_ADDRSTRLEN] = "-";
	int					 fd = SSL_get_fd(ssl);

	metrics_tls_client_reject(listener);
	if (!log_limit_pass(&lim, sluice_now_ms(), &held))
		return;
	if (fd != -1 && getpeername(fd, (struct sockaddr *)&ss,
	    &sslen) == 0)
		inet_ntop(ss.ss_family, ss.ss_family == AF_INET6 ?
		    (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
		    (void *)&((struct sockaddr_in *)&ss)->sin_addr, ip,
		    sizeof(ip));
	log_warn("listener %s: client certificate of %s refused: %s%s",
	    listener, ip, why, held > 0 ? " (and more not logged)" : "");
}

/* The PROXY header is gone: the request bytes' NUL scanner starts. */
static void
listener_proxy_done(struct bufferevent *bev, const struct nulscan_limits *lim)
{
	clientconn_scan_start(bev);	/* with the listener's limits */
}

/*
 * The bufferevent of a connection to a proxy_protocol listener: the
 * header is read ahead of evhttp (plain) or of TLS (see proxyhdr.h).
 */
static struct bufferevent *
listener_bev_proxy(struct listener_slot *sl, struct event_base *base,
    int *scan)
{
	struct bufferevent	*bev = NULL;
	SSL			*ssl = NULL;

	if (sl->gl->tls == NULL) {
		if ((bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL)
			return listener_bev_refuse(base);
		bufferevent_set_max_single_write(bev, LISTENER_MAX_WRITE);
		if (proxyhdr_plain(bev, sl->gl->conf,
		    listener_proxy_done) == -1) {
			bufferevent_free(bev);
			return listener_bev_refuse(base);
		}
		return bev;
	}
	if ((ssl = tls_server_ssl_new(sl->gl->tls)) != NULL &&
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		SSL_free(ssl);
	if (bev != NULL && proxyhdr_tls(ssl, bev, sl->gl->conf) == -1) {
		bufferevent_free(bev);
		bev = NULL;
	}
	if (bev == NULL) {
		listener_log_tls_failure(sl);
		return listener_bev_refuse(base);
	}
	listener_bev_setup(sl, bev, scan);
	return bev;
}

/*
 * The bufferevent of a new connection: TLS when the current generation
 * gives this listener certificates, so a reload's new certificates serve
 * the very next handshake.
 */
static struct bufferevent *
listener_bev_new(struct listener_slot *sl, struct event_base *base, int *scan)
{
	struct bufferevent	*bev = NULL;
	SSL			*ssl;

	if (sl->gl != NULL && sl->gl->conf->proxy_protocol)
		return listener_bev_proxy(sl, base, scan);
	if (sl->gl == NULL || sl->gl->tls == NULL) {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL)
			listener_bev_setup(sl, bev, scan);
		return bev;
	}
	ssl = fault_hit(FAULT_TLS_SETUP) ? NULL :
	    tls_server_ssl_new(sl->gl->tls);
	if (ssl != NULL &&
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		SSL_free(ssl);
	if (bev == NULL) {
		listener_log_tls_failure(sl);
		/* NULL (no memory at all) would serve plain text */
		return listener_bev_refuse(base);
	}
	listener_bev_setup(sl, bev, scan);
	return bev;
}

/* The evconnlistener a slot accepts with. */
static struct evconnlistener *
listener_slot_el(struct listener_slot *sl)
{
	return evhttp_bound_socket_get_listener(sl->bound);
}

/* Stop accepting on sl for why; the timer looks again after ms. */
static void
listener_pause(struct listener_slot *sl, int why, uint64_t ms)
{
	struct timeval	tv = sluice_tv(ms);

	if (sl->bound == NULL)
		return;
	if (sl->paused == 0)
		evconnlistener_disable(listener_slot_el(sl));
	sl->paused |= why;
	if (sl->resume_ev == NULL &&
	    (sl->resume_ev = evtimer_new(sluice_base, listener_resume_cb,
	    sl)) == NULL)
		tv = sluice_tv(0);	/* no timer: accept again at once */
	if (sl->resume_ev != NULL)
		evtimer_add(sl->resume_ev, &tv);
	else
		listener_resume_cb(-1, 0, sl);
}

/*
 * The connection limit that stops sl accepting (0: none reached): the
 * global max_connections, or the listener's own. A closing listener
 * takes what its queue holds anyway: closing the socket would reset
 * those connections, and going over for a moment is better.
 */
static int
listener_at_limit(const struct listener_slot *sl)
{
	const struct conf	*conf;
	unsigned long		 max;
	int			 lmax;

	if (sl->gen == NULL || sl->l->closing)
		return 0;
	conf = sl->gen->conf;
	max = conf->global.max_connections > 0 ?
	    (unsigned long)conf->global.max_connections : sluice_conns_auto();
	if (clientconn_count() >= max)
		return LISTENER_PAUSE_ALL;
	lmax = sl->gl != NULL ? sl->gl->conf->max_connections : 0;
	if (lmax > 0 && SLUICE_LOAD(&sl->l->nclients) >= (unsigned)lmax)
		return LISTENER_PAUSE_OWN;
	return 0;
}

/*
 * The retry timer of a paused slot: accept again unless a limit still
 * holds (then look again a little later). A slot paused for want of
 * descriptors tries: the next accept tells.
 */
static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener_slot	*sl = arg;
	struct timeval		 tv = sluice_tv(LISTENER_LIMIT_POLL_MS);
	int			 why;

	SLUICE_MAGIC_CHECK(sl, LISTENER_SLOT_MAGIC);
	if (sl->bound == NULL || sl->paused == 0)
		return;
	if ((why = listener_at_limit(sl)) != 0) {
		sl->paused = why;
		if (sl->resume_ev != NULL)
			evtimer_add(sl->resume_ev, &tv);
		return;
	}
	/* paused for want of descriptors: back only with the headroom */
	if ((sl->paused & LISTENER_PAUSE_FDS) && !listener_fd_headroom(sl)) {
		fd_tight_until = sluice_now_ms() + LISTENER_TIGHT_MS;
		tv = sluice_tv(LISTENER_FD_BACKOFF_MS);
		sl->paused = LISTENER_PAUSE_FDS;
		if (sl->resume_ev != NULL)
			evtimer_add(sl->resume_ev, &tv);
		return;
	}
	sl->paused = 0;
	if (sl->resume_ev != NULL)
		evtimer_del(sl->resume_ev);
	evconnlistener_enable(listener_slot_el(sl));
}

/* See listener.h. After the close callback: its descriptor is shut. */
void
listener_client_closed(void)
{
	struct listener_slot	*sl;

	if (slots.tqh_last == NULL)
		return;
	TAILQ_FOREACH(sl, &slots, entry)
		if (sl->paused != 0 && sl->resume_ev != NULL)
			event_active(sl->resume_ev, EV_TIMEOUT, 0);
}

/*
 * In a worker (told by another, or itself): every slot of this worker at
 * a connection limit stops accepting. No argument: a listener may be
 * going away meanwhile, the worker's own list of slots is not.
 */
static void
listener_limits_cb(void *arg)
{
	struct listener_slot	*sl;
	int			 why;

	if (slots.tqh_last == NULL)
		return;
	TAILQ_FOREACH(sl, &slots, entry)
		if (sl->bound != NULL && (sl->paused & ~LISTENER_PAUSE_FDS) ==
		    0 && (why = listener_at_limit(sl)) != 0)
			listener_pause(sl, why, LISTENER_LIMIT_POLL_MS);
}

/*
 * A connection was accepted on sl: count it, and at a limit stop
 * accepting here and tell the other workers to stop too. The accept loop
 * stops at once when its listener is disabled; another worker may accept
 * one more before it hears, so the limit can be passed by one connection
 * per other worker, for a moment.
 */
static void
listener_accepted(struct listener_slot *sl, struct bufferevent *bev, int scan)
{
	struct nulscan_limits	 lim = { 10000, 60000, 0, 0, NULL }; /* no
								 * conf */
	unsigned		 i;

	if (sl->gl != NULL)
		nulscan_limits_of(sl->gl->conf, &lim);
	if (sl->gl != NULL && sl->gl->tls != NULL && sl->gl->conf->http2)
		lim.divert = listener_h2_divert;
	clientconn_accepted(bev, &sl->l->nclients, &lim, scan);
	if (fd_tight_until != 0 && sluice_now_ms() >= fd_tight_until)
		fd_tight_until = 0;
	if (fd_tight_until != 0 && !listener_fd_headroom(sl))
		listener_pause(sl, LISTENER_PAUSE_FDS, LISTENER_FD_BACKOFF_MS);
	if (listener_at_limit(sl) == 0)
		return;
	listener_limits_cb(NULL);
	for (i = 0; i < sluice_nworkers; i++)
		if (i != sluice_worker_id)
			worker_call(i, listener_limits_cb, NULL);
}

/*
 * 1 when LISTENER_FD_HEADROOM more descriptors can still be opened, tried
 * by opening and closing them: asked before a slot paused for want of
 * descriptors accepts again, and after each accept for LISTENER_TIGHT_MS
 * after descriptors last ran out. Without this the client listeners would
 * take every descriptor that frees, and the admin endpoint, health checks
 * and the connections to servers that accepted clients need would get
 * none.
 */
static int
listener_fd_headroom(struct listener_slot *sl)
{
	int	fd[LISTENER_FD_HEADROOM], i, n;

	for (n = 0; n < LISTENER_FD_HEADROOM; n++)
		if ((fd[n] = fcntl(0, F_DUPFD_CLOEXEC, 0)) == -1)
			break;
	for (i = 0; i < n; i++)
		close(fd[i]);
	return n == LISTENER_FD_HEADROOM;
}

/* evhttp asks for the bufferevent of a connection it just accepted. */
static struct bufferevent *
listener_bevcb(struct event_base *base, void *arg)
{
	struct listener_slot	*sl = arg;
	struct bufferevent	*bev;
	int			 scan = 0;

	SLUICE_MAGIC_CHECK(sl, LISTENER_SLOT_MAGIC);
	listener_slot_refresh(sl);
	if ((bev = listener_bev_new(sl, base, &scan)) != NULL)
		listener_accepted(sl, bev, scan);
	return bev;
}

/*
 * accept(2) failed with more than "try again": evhttp set no error
 * callback, so libevent would log and return, and the loop would call it
 * again at once, for as long as the condition lasts (out of descriptors:
 * 100 % CPU and a line per try). Instead the slot stops accepting for
 * LISTENER_FD_BACKOFF_MS, or until a client connection of this worker
 * closes, with one line a second saying so. The argument is evhttp's.
 */
static void
listener_accept_error_cb(struct evconnlistener *el, void *arg)
{
	struct listener_slot	*sl;
	unsigned long		 held;
	int			 err = EVUTIL_SOCKET_ERROR();

	TAILQ_FOREACH(sl, &slots, entry)
		if (sl->http == arg && sl->bound != NULL &&
		    listener_slot_el(sl) == el)
			break;
	if (sl == NULL)
		return;
	metrics_accept_error(sl->l->addr.text);
	if (err == EMFILE || err == ENFILE)
		fd_tight_until = sluice_now_ms() + LISTENER_TIGHT_MS;
	listener_pause(sl, LISTENER_PAUSE_FDS, LISTENER_FD_BACKOFF_MS);
	if (!log_limit_pass(&sl->accept_log, sluice_now_ms(), &held))
		return;
	if (held > 0)
		log_error("listener %s: cannot accept: %s; accepting again "
		    "in %d ms or when a connection closes (%lu more since "
		    "the last line)", sl->l->addr.text,
		    evutil_socket_error_to_string(err),
		    LISTENER_FD_BACKOFF_MS, held);
	else
		log_error("listener %s: cannot accept: %s; accepting again "
		    "in %d ms or when a connection closes", sl->l->addr.text,
		    evutil_socket_error_to_string(err),
		    LISTENER_FD_BACKOFF_MS);
}

/* Create the evhttp server with the settings that never change. */
static struct evhttp *
listener_http_new(struct listener_slot *sl)
{
	struct evhttp	*http;

	if ((http = evhttp_new(sluice_base)) == NULL)
		return NULL;
	evhttp_set_default_content_type(http, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_TRACE);	/* the last two:
							 * 501 by us, logged */
	evhttp_set_gencb(http, listener_request_cb, sl);
	evhttp_set_bevcb(http, listener_bevcb, sl);
	if (h2_learn() == -1)
		log_error("evhttp's connection callbacks are not recognised: "
		    "HTTP/2 connections will get a 400");
	return http;
}

/*
 * See listener.h. Nagle is turned off on the listening socket: Linux
 * gives the setting to every connection accepted from it, which spares a
 * system call per connection (an inherited socket gets it too).
 */
struct evconnlistener *
listener_socket(const struct conf_addr *addr, int backlog)
{
	struct evconnlistener	*el;
	int			 fd, one = 1;

	if ((fd = inherit_take(addr)) != -1)	/* already listening */
		el = evconnlistener_new(sluice_base, NULL, NULL,
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE, 0, fd);
	else
		el = evconnlistener_new_bind(sluice_base, NULL, NULL,
		    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
		    LEV_OPT_CLOSE_ON_FREE, backlog,
		    (const struct sockaddr *)&addr->ss, (int)addr->sslen);
	if (el != NULL)
		(void)setsockopt(evconnlistener_get_fd(el), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	return el;
}

/* Start serving sl from this thread's loop, accepting on el. -1 on error. */
static int
listener_slot_open(struct listener_slot *sl, struct evconnlistener *el)
{
	if ((sl->http = listener_http_new(sl)) == NULL) {
		evconnlistener_free(el);
		return -1;
	}
	if ((sl->bound = evhttp_bind_listener(sl->http, el)) == NULL) {
		evconnlistener_free(el);
		evhttp_free(sl->http);
		sl->http = NULL;
		return -1;
	}
	evconnlistener_set_error_cb(el, listener_accept_error_cb);
	if (slots.tqh_last == NULL)
		TAILQ_INIT(&slots);
	TAILQ_INSERT_TAIL(&slots, sl, entry);
	listener_slot_refresh(sl);
	return 0;
}

/* Free sl's evhttp (and the connections it has) in this thread. */
static void
listener_slot_free(struct listener_slot *sl)
{
	if (sl->http == NULL)
		return;
	TAILQ_REMOVE(&slots, sl, entry);
	if (sl->resume_ev != NULL)
		event_free(sl->resume_ev);
	sl->resume_ev = NULL;
	sl->paused = 0;
	clientconn_adopt_all();		/* so their close callbacks run */
	evhttp_free(sl->http);
	sl->http = NULL;
	sl->bound = NULL;
	if (sl->gen != NULL)
		gen_unref(sl->gen);
	sl->gen = NULL;
	sl->gl = NULL;
}

/* See listener.h. */
struct listener *
listener_open(const struct conf_listener *cl, char **err)
{
	struct listener		*l;
	struct evconnlistener	*el;
	unsigned		 i;

	*err = NULL;
	tls_server_on_reject(listener_tls_reject);
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->slots = calloc(sluice_nworkers, sizeof(*l->slots))) == NULL ||
	    (l->addr.text = strdup(cl->listen.text)) == NULL) {
		if (l != NULL)
			free(l->slots);
		free(l);
		*err = strdup("out of memory");
		return NULL;
	}
	l->magic = LISTENER_MAGIC;
	for (i = 0; i < sluice_nworkers; i++) {
		l->slots[i].magic = LISTENER_SLOT_MAGIC;
		l->slots[i].l = l;
	}
	memcpy(&l->addr.ss, &cl->listen.ss, cl->listen.sslen);
	l->addr.sslen = cl->listen.sslen;
	if ((el = listener_socket(&l->addr, LISTENER_BACKLOG)) == NULL ||
	    listener_slot_open(&l->slots[0], el) == -1)
		goto fail;
	return l;
fail:
	if (asprintf(err, "%s: cannot listen on %s: %s", cl->name,
	    cl->listen.text, strerror(errno)) == -1)
		*err = NULL;
	listener_free(l);
	return NULL;
}

/* A worker cannot accept on l: say why (errno). */
static void
listener_serve_error(const struct listener *l)
{
	log_error("listener %s: worker %u cannot accept: %s", l->addr.text,
	    sluice_worker_id, strerror(errno));
}

/*
 * In a worker: accept on a descriptor of its own for the shared socket.
 * Every worker's loop watches the one kernel queue; whoever is free first
 * accepts, and closing a descriptor loses nothing while another is open.
 */
static void
listener_serve_cb(void *arg)
{
	struct listener		*l = arg;
	struct listener_slot	*sl = &l->slots[sluice_worker_id];
	struct evconnlistener	*el;
	int			 fd;

	/* queued before any close of l: the main descriptor is open */
	if ((fd = fcntl(listener_fd(l), F_DUPFD_CLOEXEC, 0)) == -1) {
		listener_serve_error(l);
		return;
	}
	if ((el = evconnlistener_new(sluice_base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE, 0, fd)) == NULL) {
		listener_serve_error(l);
		close(fd);		/* not the listener's: it has none */
		return;
	}
	if (listener_slot_open(sl, el) == -1)	/* it freed el and fd */
		listener_serve_error(l);
}

/* See listener.h. */
void
listener_serve(struct listener *l)
{
	worker_each(listener_serve_cb, NULL, l);
}

/* 1 when connections wait in the kernel's accept queue. */
static int
listener_has_queued(struct listener *l)
{
	struct pollfd	pfd;

	pfd.fd = listener_fd(l);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Retry closing once the loop has accepted what was queued. */
static void
listener_close_cb(evutil_socket_t fd, short what, void *arg)
{
	listener_close_main(arg);
}

/*
 * Close the main thread's descriptor, the last one. Closing a listening
 * socket resets the connections in its accept queue, so the queue is
 * emptied first: while it holds connections, the close waits one loop
 * turn (evhttp accepts them).
 */
static void
listener_close_main(struct listener *l)
{
	struct listener_slot	*sl = &l->slots[0];
	struct timeval		 tv = { 0, 0 };

	SLUICE_MAGIC_CHECK(l, LISTENER_MAGIC);
	if (sl->bound == NULL)
		return;
	if (sl->paused & ~LISTENER_PAUSE_FDS) {	/* a limit: see at_limit */
		sl->paused = 0;
		evconnlistener_enable(listener_slot_el(sl));
	}
	if (!l->shared && listener_has_queued(l) &&
	    l->close_tries++ < LISTENER_CLOSE_TRIES) {
		if (l->close_ev == NULL)
			l->close_ev = evtimer_new(sluice_base,
			    listener_close_cb, l);
		if (l->close_ev != NULL) {
			evtimer_add(l->close_ev, &tv);
			return;
		}
	}
	evhttp_del_accept_socket(sl->http, sl->bound);
	sl->bound = NULL;
	sl->paused = 0;
	log_info("listener %s: closed", l->addr.text);
	if (closed_cb != NULL)
		closed_cb();
}

/* See listener.h. */
void
listener_set_closed_cb(void (*cb)(void))
{
	closed_cb = cb;
}

/* In a worker: stop accepting on its descriptor. */
static void
listener_stop_cb(void *arg)
{
	struct listener		*l = arg;
	struct listener_slot	*sl = &l->slots[sluice_worker_id];

	if (sl->bound != NULL)
		evhttp_del_accept_socket(sl->http, sl->bound);
	sl->bound = NULL;
	sl->paused = 0;
}

/* See listener.h. */
void
listener_close(struct listener *l)
{
	SLUICE_MAGIC_CHECK(l, LISTENER_MAGIC);
	if (l->closing)
		return;
	l->closing = 1;
	/* the workers stop first: then the main loop accepts the queue */
	worker_each_sync(listener_stop_cb, l);
	listener_close_main(l);
}

/* See listener.h. */
int
listener_closed(const struct listener *l)
{
	return l->slots[0].bound == NULL;
}

/* See listener.h. */
int
listener_fd(const struct listener *l)
{
	return l->slots[0].bound != NULL ?
	    evhttp_bound_socket_get_fd(l->slots[0].bound) : -1;
}

/* In a worker: free its part of a listener. */
static void
listener_free_cb(void *arg)
{
	struct listener	*l = arg;

	listener_slot_free(&l->slots[sluice_worker_id]);
}

/* The workers are done with l: free the rest from the main thread. */
static void
listener_free_main(void *arg)
{
	struct listener	*l = arg;

	if (l->slots != NULL)
		listener_slot_free(&l->slots[0]);
	if (l->close_ev != NULL)
		event_free(l->close_ev);
	free(l->slots);
	free(l->addr.text);
	l->magic = 0;
	free(l);
}

/* See listener.h. */
void
listener_free(struct listener *l)
{
	if (l->slots == NULL) {
		listener_free_main(l);
		return;
	}
	worker_each(listener_free_cb, listener_free_main, l);
}

/* See listener.h. */
void
listener_worker_fini(void)
{
	struct listener_slot	*sl;

	while (slots.tqh_last != NULL && (sl = TAILQ_FIRST(&slots)) != NULL)
		listener_slot_free(sl);
	listener_set_gen(NULL);
}
