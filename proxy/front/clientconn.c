/*
 * clientconn: the client connection registry, keyed by the evhttp connection
 * pointer.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "proxy/front/clientconn.h"
#include "proxy/front/nulscan.h"
#include "proxy/front/proxyhdr.h"
#include "proxy/base/ptrmap.h"
#include "proxy/base/runtime.h"
#include "tls/tls.h"

/* A connection accepted in this loop turn, not yet in the registry. */
struct clientconn_new {
	struct bufferevent	*bev;		/* referenced */
	unsigned		*lcount;
};

/* This worker's connections; the count is over every worker. */
static __thread struct clientconn_list	 clients;
static __thread struct ptrmap		 byconn;	/* evcon -> client */
static __thread struct clientconn_new	*fresh;		/* accepted */
static __thread size_t			 nfresh, fresh_cap;
static __thread struct event		*fresh_ev;	/* adopts them */
static unsigned				 nclients;	/* atomic */
static void			(*close_cb)(void);

/* Register the hook run after a client connection closed. */
void
clientconn_set_close_cb(void (*cb)(void))
{
	close_cb = cb;
}

/* The registry, for drain and status. */
struct clientconn_list *
clientconn_registry(void)
{
	if (clients.tqh_last == NULL)
		TAILQ_INIT(&clients);
	return &clients;
}

/* Open client connections known to the registry. */
unsigned
clientconn_count(void)
{
	return SLUICE_LOAD(&nclients);
}

/* One client connection fewer, on its listener and in all. */
static void
clientconn_uncount(unsigned *lcount)
{
	SLUICE_DEC(lcount);
	SLUICE_DEC(&nclients);
}

/* evhttp closes the connection: end its exchange, forget it. */
static void
clientconn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct clientconn	*c = arg;

	SLUICE_MAGIC_CHECK(c, CLIENTCONN_MAGIC);
	nulscan_forget(evhttp_connection_get_bufferevent(evcon));
	if (c->busy != NULL)
		c->gone(c->busy);
	ptrmap_del(&byconn, evcon);
	TAILQ_REMOVE(&clients, c, entry);
	clientconn_uncount(c->lcount);
	c->magic = 0;
	free(c->tls_subject);
	free(c->tls_fp);
	free(c->proxy_ip);
	free(c);
	if (close_cb != NULL)
		close_cb();
}

/*
 * Fill in the peer address (behind a PROXY header, the client it names)
 * and the client certificate. (Nagle is off from the listening socket.)
 */
static void
clientconn_init(struct clientconn *c, struct evhttp_connection *evcon,
    int proxy)
{
	struct bufferevent	*bev;
	SSL		*ssl;
	char		*addr = NULL, subject[1024];
	char		 fp[TLS_FINGERPRINT_LEN + 1];
	ev_uint16_t	 port = 0;

	evhttp_connection_get_peer(evcon, &addr, &port);
	c->ip = addr != NULL ? addr : "-";
	c->port = port;
	bev = evhttp_connection_get_bufferevent(evcon);
	/* behind a PROXY header, the client is the one it names */
	if (proxy && (c->proxy_ip = malloc(INET6_ADDRSTRLEN)) != NULL) {
		if (proxyhdr_client(bev, c->proxy_ip, &c->port)) {
			c->ip = c->proxy_ip;
			c->from_proxy = 1;
		} else {
			free(c->proxy_ip);
			c->proxy_ip = NULL;
		}
	}
	c->tls = (ssl = bufferevent_openssl_get_ssl(bev)) != NULL;
	/* the handshake is over: a client certificate is there now */
	/* two allocations, on the few connections with a certificate
	 * rather than 64 bytes on every one */
	if (ssl != NULL && tls_peer_identity(ssl, subject, sizeof(subject),
	    fp)) {
		c->tls_subject = strdup(subject);
		c->tls_fp = strdup(fp);
	}
}

/*
 * A new entry for evcon, in the registry with its close callback set;
 * the connection was counted by its caller. NULL when out of memory.
 */
static struct clientconn *
clientconn_new(struct evhttp_connection *evcon, unsigned *lcount)
{
	struct clientconn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (ptrmap_put(&byconn, evcon, c) == -1) {
		free(c);
		return NULL;
	}
	c->magic = CLIENTCONN_MAGIC;
	c->evcon = evcon;
	c->lcount = lcount;
	TAILQ_INSERT_TAIL(clientconn_registry(), c, entry);
	evhttp_connection_set_closecb(evcon, clientconn_closed, c);
	return c;
}

/* See clientconn.h. */
struct clientconn *
clientconn_get(struct evhttp_connection *evcon, unsigned *lcount, int proxy)
{
	struct clientconn	*c;

	clientconn_adopt_all();
	if ((c = ptrmap_get(&byconn, evcon)) == NULL) {
		/* not seen at its accept (out of memory then) */
		SLUICE_INC(lcount);
		SLUICE_INC(&nclients);
		if ((c = clientconn_new(evcon, lcount)) == NULL) {
			clientconn_uncount(lcount);
			return NULL;
		}
	}
	if (!c->known) {
		clientconn_init(c, evcon, proxy);
		c->known = 1;
	}
	return c;
}

/*
 * Take the connection whose bufferevent is bev into the registry: evhttp
 * made its connection after the bevcb and gave it bev's callbacks, whose
 * argument is the connection. A bufferevent evhttp has already freed (it
 * could not make a request for it) has no callbacks left; ours was the
 * last reference.
 */
static void
clientconn_adopt(struct clientconn_new *n)
{
	struct evhttp_connection	*evcon;
	bufferevent_event_cb		 eventcb;
	void				*arg;

	/* (evhttp clears only the read callback while it writes) */
	bufferevent_getcb(n->bev, NULL, NULL, &eventcb, &arg);
	if (eventcb == NULL || (evcon = arg) == NULL ||
	    evhttp_connection_get_bufferevent(evcon) != n->bev ||
	    clientconn_new(evcon, n->lcount) == NULL) {
		/* its close is not heard of: nothing may outlive it */
		nulscan_forget(n->bev);
		clientconn_uncount(n->lcount);
	}
	bufferevent_decref(n->bev);
}

/* See clientconn.h. */
void
clientconn_adopt_all(void)
{
	size_t	i;

	for (i = 0; i < nfresh; i++)
		clientconn_adopt(&fresh[i]);
	nfresh = 0;
}

/* The loop turn's accepts are over: adopt them. */
static void
clientconn_fresh_cb(evutil_socket_t fd, short what, void *arg)
{
	clientconn_adopt_all();
}

/* See clientconn.h. */
void
clientconn_accepted(struct bufferevent *bev, unsigned *lcount)
{
	struct clientconn_new	*p;
	size_t			 cap;

	SLUICE_INC(lcount);
	SLUICE_INC(&nclients);
	if (fresh_ev == NULL && (fresh_ev = event_new(sluice_base, -1, 0,
	    clientconn_fresh_cb, NULL)) == NULL) {
		clientconn_uncount(lcount);	/* clientconn_get counts it */
		nulscan_forget(bev);
		return;
	}
	if (nfresh == fresh_cap) {
		cap = fresh_cap == 0 ? 16 : fresh_cap * 2;
		if ((p = reallocarray(fresh, cap, sizeof(*p))) == NULL) {
			clientconn_uncount(lcount);
			nulscan_forget(bev);
			return;
		}
		fresh = p;
		fresh_cap = cap;
	}
	bufferevent_incref(bev);
	fresh[nfresh].bev = bev;
	fresh[nfresh++].lcount = lcount;
	event_active(fresh_ev, EV_TIMEOUT, 0);
}

/* See clientconn.h. */
void
clientconn_attach(struct clientconn *c, void (*gone)(void *), void *busy)
{
	SLUICE_MAGIC_CHECK(c, CLIENTCONN_MAGIC);
	c->busy = busy;
	c->gone = gone;
	c->requests++;
}

/* See clientconn.h. */
void
clientconn_detach(struct clientconn *c, void *busy)
{
	SLUICE_MAGIC_CHECK(c, CLIENTCONN_MAGIC);
	if (c->busy == busy) {
		c->busy = NULL;
		c->gone = NULL;
	}
}

/* Free the map and the adoption queue. */
void
clientconn_registry_free(void)
{
	clientconn_adopt_all();
	if (fresh_ev != NULL)
		event_free(fresh_ev);
	fresh_ev = NULL;
	free(fresh);
	fresh = NULL;
	fresh_cap = 0;
	ptrmap_free(&byconn);
}
