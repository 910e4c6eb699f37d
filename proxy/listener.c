/*
 * listener: evhttp servers and their listening sockets.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/inherit.h"
#include "proxy/listener.h"
#include "proxy/log.h"
#include "proxy/nulscan.h"
#include "proxy/sluice.h"
#include "tls/tls.h"

#define LISTENER_BACKLOG	511
#define LISTENER_CLOSE_TRIES	100	/* loop turns to empty the queue */

/* The evhttp request callback: every request starts an exchange. */
static void
listener_request_cb(struct evhttp_request *req, void *arg)
{
	struct listener	*l = arg;

	SLUICE_MAGIC_CHECK(l, LISTENER_MAGIC);
	exchange_start(req, l, l->gen, l->gl);
}

/*
 * A bufferevent that fails at once: the connection closes instead of
 * being served in plain text (evhttp falls back to plain text when the
 * bevcb returns NULL). Its partner is freed, so the first read sees EOF;
 * created without CLOSE_ON_FREE, so evhttp closes the socket itself.
 */
static struct bufferevent *
listener_bev_refuse(struct event_base *base)
{
	struct bufferevent	*pair[2];

	if (bufferevent_pair_new(base, 0, pair) == -1)
		return NULL;
	bufferevent_free(pair[1]);
	return pair[0];
}

/*
 * evhttp asks for the bufferevent of a new connection: TLS when the
 * current generation gives this listener certificates, so a reload's new
 * certificates serve the very next handshake.
 */
static struct bufferevent *
listener_bevcb(struct event_base *base, void *arg)
{
	struct listener		*l = arg;
	struct bufferevent	*bev = NULL;
	SSL			*ssl;

	SLUICE_MAGIC_CHECK(l, LISTENER_MAGIC);
	if (l->gl == NULL || l->gl->tls == NULL) {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL && nulscan_attach(bev) == -1)
			log_warn("listener %s: out of memory", l->addr.text);
		return bev;
	}
	if ((ssl = tls_server_ssl_new(l->gl->tls)) != NULL &&
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		SSL_free(ssl);
	if (bev == NULL) {
		log_error("listener %s: cannot set up TLS for a connection",
		    l->addr.text);
		return listener_bev_refuse(base);
	}
	if (nulscan_attach(bev) == -1)
		log_warn("listener %s: out of memory", l->addr.text);
	return bev;
}

/* Create the evhttp server with the settings that never change. */
static struct evhttp *
listener_http_new(struct listener *l)
{
	struct evhttp	*http;

	if ((http = evhttp_new(sluice_base)) == NULL)
		return NULL;
	evhttp_set_default_content_type(http, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
	    EVHTTP_REQ_CONNECT);	/* answered 501 by us, properly framed */
	evhttp_set_gencb(http, listener_request_cb, l);
	evhttp_set_bevcb(http, listener_bevcb, l);
	return http;
}

/* See listener.h. */
struct evconnlistener *
listener_socket(const struct conf_addr *addr, int backlog)
{
	int	fd;

	if ((fd = inherit_take(addr)) != -1)	/* already listening */
		return evconnlistener_new(sluice_base, NULL, NULL,
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE, 0, fd);
	return evconnlistener_new_bind(sluice_base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE,
	    backlog, (const struct sockaddr *)&addr->ss, (int)addr->sslen);
}

/* See listener.h. */
struct listener *
listener_open(const struct conf_listener *cl, char **err)
{
	struct listener		*l;
	struct evconnlistener	*el;

	*err = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->addr.text = strdup(cl->listen.text)) == NULL) {
		free(l);
		*err = strdup("out of memory");
		return NULL;
	}
	l->magic = LISTENER_MAGIC;
	memcpy(&l->addr.ss, &cl->listen.ss, cl->listen.sslen);
	l->addr.sslen = cl->listen.sslen;
	if ((l->http = listener_http_new(l)) == NULL)
		goto fail;
	if ((el = listener_socket(&l->addr, LISTENER_BACKLOG)) == NULL)
		goto fail;
	if ((l->bound = evhttp_bind_listener(l->http, el)) == NULL) {
		evconnlistener_free(el);
		goto fail;
	}
	return l;
fail:
	if (asprintf(err, "%s: cannot listen on %s: %s", cl->name,
	    cl->listen.text, strerror(errno)) == -1)
		*err = NULL;
	listener_free(l);
	return NULL;
}

/* See listener.h. Settings apply to connections accepted from now on. */
void
listener_attach(struct listener *l, struct gen *g, struct gen_listener *gl)
{
	const struct conf_listener	*cl = gl->conf;
	struct timeval			 tv = sluice_tv(cl->client_timeout_ms);

	l->gen = g;
	l->gl = gl;
	evhttp_set_max_body_size(l->http, (ev_ssize_t)cl->max_body_size);
	evhttp_set_max_headers_size(l->http, (ev_ssize_t)cl->max_header_size);
	evhttp_set_timeout_tv(l->http, &tv);
}

/* 1 when connections wait in the kernel's accept queue. */
static int
listener_has_queued(struct listener *l)
{
	struct pollfd	pfd;

	pfd.fd = evhttp_bound_socket_get_fd(l->bound);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Retry closing once the loop has accepted what was queued. */
static void
listener_close_cb(evutil_socket_t fd, short what, void *arg)
{
	listener_close(arg);
}

/*
 * See listener.h. Closing a listening socket resets the connections in
 * its accept queue, so the queue is emptied first: while it holds
 * connections, the close waits one loop turn (evhttp accepts them).
 */
void
listener_close(struct listener *l)
{
	struct timeval	tv = { 0, 0 };

	SLUICE_MAGIC_CHECK(l, LISTENER_MAGIC);
	if (l->bound == NULL)
		return;
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
	evhttp_del_accept_socket(l->http, l->bound);
	l->bound = NULL;
	log_info("listener %s: closed", l->addr.text);
}

/* See listener.h. */
int
listener_fd(const struct listener *l)
{
	return l->bound != NULL ? evhttp_bound_socket_get_fd(l->bound) : -1;
}

/* See listener.h. */
void
listener_free(struct listener *l)
{
	if (l->close_ev != NULL)
		event_free(l->close_ev);
	if (l->http != NULL)
		evhttp_free(l->http);
	free(l->addr.text);
	l->magic = 0;
	free(l);
}
