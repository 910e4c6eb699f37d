/*
 * clientconn: the client connection registry, indexed by socket.
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
#include "proxy/base/fdtab.h"
#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "tls/tls.h"

/*
 * What one connection in a few has, apart from the record; the others
 * share one of two that say only whether they came over TLS (no magic
 * number in the record either: 4 bytes would make it 64).
 */
struct clientconn_extra {
	char		*tls_subject;		/* NULL: none */
	char		*tls_fp;
	char		 ip[INET6_ADDRSTRLEN];	/* a PROXY header's client */
	uint16_t	 port;
	unsigned char	 tls;			/* arrived over TLS */
	unsigned char	 from_proxy;		/* ip and port are the peer */
};

static struct clientconn_extra	extra_plain, extra_tls = { .tls = 1 };

/*
 * What the connections of one listener share, while one is open: its
 * count and its limits (the listener's at the accept: a reload that
 * changes them makes a new kind for the new connections).
 */
struct clientconn_kind {
	struct nulscan_limits	 lim;		/* what the scanners see */
	unsigned		*lcount;	/* atomic: the listener's
						 * count */
	unsigned		 refs;		/* connections */
	struct clientconn_kind	*next;
};

/* Every idle connection has one: keep it at 56 bytes (64 from malloc). */
_Static_assert(sizeof(struct clientconn) <= 56, "struct clientconn grew");

/* This worker's connections, by socket; the count is over every worker. */
static __thread struct fdtab		 bysock;
static __thread struct clientconn	**fresh;	/* accepted this turn,
							 * bev referenced */
static __thread size_t			 nfresh, fresh_cap;
static __thread struct event		*fresh_ev;	/* adopts them */
static __thread struct clientconn_kind	*kinds;		/* in use */
static unsigned				 nclients;	/* atomic */
static void			(*close_cb)(void);

/* Register the hook run after a client connection closed. */
void
clientconn_set_close_cb(void (*cb)(void))
{
	close_cb = cb;
}

/* Open client connections known to the registry. */
unsigned
clientconn_count(void)
{
	return SLUICE_LOAD(&nclients);
}

/* The kind of lcount and lim, shared; NULL when out of memory. */
static struct clientconn_kind *
clientconn_kind(unsigned *lcount, const struct nulscan_limits *lim)
{
	struct clientconn_kind	*k;

	for (k = kinds; k != NULL; k = k->next)
		if (k->lcount == lcount && k->lim.head_ms == lim->head_ms &&
		    k->lim.body_ms == lim->body_ms &&
		    k->lim.max_input == lim->max_input &&
		    k->lim.pipeline == lim->pipeline &&
		    k->lim.divert == lim->divert)
			break;
	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return NULL;
		k->lim = *lim;
		k->lcount = lcount;
		k->next = kinds;
		kinds = k;
	}
	k->refs++;
	return k;
}

/* One connection of k fewer; the last frees it. */
static void
clientconn_kind_put(struct clientconn_kind *k)
{
	struct clientconn_kind	**pp;

	if (--k->refs > 0)
		return;
	for (pp = &kinds; *pp != k; pp = &(*pp)->next)
		;
	*pp = k->next;
	free(k);
}

/* Free c and what it holds, and count it out of its listener and all. */
static void
clientconn_free(struct clientconn *c)
{
	nulscan_forget(&c->scan);
	SLUICE_DEC(c->kind->lcount);
	SLUICE_DEC(&nclients);
	clientconn_kind_put(c->kind);
	if (c->extra != NULL && c->extra != &extra_plain &&
	    c->extra != &extra_tls) {
		free(c->extra->tls_subject);
		free(c->extra->tls_fp);
		free(c->extra);
	}
	free(c);
}

/* Take c out of the table: at its socket, or wherever it is. */
static void
clientconn_unindex(struct clientconn *c)
{
	int	fd = (int)bufferevent_getfd(c->scan.bev);

	if (fdtab_get(&bysock, fd) == c) {
		fdtab_del(&bysock, fd);
		return;
	}
	/* the socket is already gone (not seen in libevent 2.1.12) */
	for (fd = 0; fdtab_next(&bysock, &fd) != NULL; fd++)
		if (fdtab_get(&bysock, fd) == c) {
			fdtab_del(&bysock, fd);
			return;
		}
}

/* evhttp closes the connection: end its exchange, forget it. */
static void
clientconn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct clientconn	*c = arg;

	if (c->busy != NULL)
		c->busy->gone(c->busy);
	clientconn_unindex(c);
	clientconn_free(c);
	if (close_cb != NULL)
		close_cb();
}

/* c's own extra record, made with tls; NULL when out of memory. */
static struct clientconn_extra *
clientconn_extra(struct clientconn *c, int tls)
{
	if (c->extra == NULL && (c->extra = calloc(1, sizeof(*c->extra))) !=
	    NULL)
		c->extra->tls = (unsigned char)tls;
	return c->extra;
}

/*
 * Read the peer behind a PROXY header and the client certificate. (Nagle
 * is off from the listening socket.)
 */
static void
clientconn_init(struct clientconn *c, int proxy)
{
	struct bufferevent	*bev = c->scan.bev;
	struct clientconn_extra	*x;
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	char		 ip[INET6_ADDRSTRLEN], subject[1024];
	char		 fp[TLS_FINGERPRINT_LEN + 1];
	uint16_t	 port;

	if (proxy && proxyhdr_client(bev, ip, &port) &&
	    (x = clientconn_extra(c, ssl != NULL)) != NULL) {
		memcpy(x->ip, ip, sizeof(ip));
		x->port = port;
		x->from_proxy = 1;
	}
	/* the handshake is over: a client certificate is there now */
	if (ssl != NULL && tls_peer_identity(ssl, subject, sizeof(subject),
	    fp) && (x = clientconn_extra(c, 1)) != NULL) {
		x->tls_subject = strdup(subject);
		x->tls_fp = strdup(fp);
	}
	if (c->extra == NULL)
		c->extra = ssl != NULL ? &extra_tls : &extra_plain;
}

/* See clientconn.h. */
const char *
clientconn_ip(const struct clientconn *c)
{
	char		*addr = NULL;
	ev_uint16_t	 port;

	if (c->extra != NULL && c->extra->from_proxy)
		return c->extra->ip;
	if (c->evcon != NULL)
		evhttp_connection_get_peer(c->evcon, &addr, &port);
	return addr != NULL ? addr : "-";
}

/* See clientconn.h. */
uint16_t
clientconn_port(const struct clientconn *c)
{
	char		*addr;
	ev_uint16_t	 port = 0;

	if (c->extra != NULL && c->extra->from_proxy)
		return c->extra->port;
	if (c->evcon != NULL)
		evhttp_connection_get_peer(c->evcon, &addr, &port);
	return port;
}

/* See clientconn.h. */
int
clientconn_tls(const struct clientconn *c)
{
	return c->extra != NULL ? c->extra->tls :
	    bufferevent_openssl_get_ssl(c->scan.bev) != NULL;
}

/* See clientconn.h. */
const char *
clientconn_tls_subject(const struct clientconn *c)
{
	return c->extra != NULL ? c->extra->tls_subject : NULL;
}

/* See clientconn.h. */
const char *
clientconn_tls_fp(const struct clientconn *c)
{
	return c->extra != NULL ? c->extra->tls_fp : NULL;
}

/* A record for bev, counted; NULL (and not counted) when out of memory. */
static struct clientconn *
clientconn_new(struct bufferevent *bev, unsigned *lcount,
    const struct nulscan_limits *lim)
{
	struct clientconn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->kind = clientconn_kind(lcount, lim)) == NULL) {
		free(c);
		return NULL;
	}
	c->scan.bev = bev;
	SLUICE_INC(lcount);
	SLUICE_INC(&nclients);
	return c;
}

/* c is evcon's: in the table by its socket, told of its close. -1 when
 * out of memory. */
static int
clientconn_index(struct clientconn *c, struct evhttp_connection *evcon)
{
	if (fdtab_put(&bysock, (int)bufferevent_getfd(c->scan.bev), c) == -1)
		return -1;
	c->evcon = evcon;
	evhttp_connection_set_closecb(evcon, clientconn_closed, c);
	return 0;
}

/* The record of bev: in the table, or accepted in this loop turn. */
static struct clientconn *
clientconn_find(struct bufferevent *bev)
{
	struct clientconn	*c;
	size_t			 i;

	c = fdtab_get(&bysock, (int)bufferevent_getfd(bev));
	if (c != NULL && c->scan.bev == bev)
		return c;
	for (i = 0; i < nfresh; i++)
		if (fresh[i]->scan.bev == bev)
			return fresh[i];
	return NULL;
}

/* See clientconn.h. */
struct clientconn *
clientconn_get(struct evhttp_connection *evcon, unsigned *lcount, int proxy)
{
	static const struct nulscan_limits	 none;
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(evcon);
	struct clientconn	*c;

	clientconn_adopt_all();
	if ((c = clientconn_find(bev)) == NULL) {
		/* not seen at its accept (out of memory then) */
		if ((c = clientconn_new(bev, lcount, &none)) == NULL)
			return NULL;
		if (clientconn_index(c, evcon) == -1) {
			clientconn_free(c);
			return NULL;
		}
	}
	if (c->extra == NULL)
		clientconn_init(c, proxy);
	return c;
}

/*
 * Take c into the registry: evhttp made its connection after the bevcb
 * and gave it the bufferevent's callbacks, whose argument is the
 * connection. A bufferevent evhttp has already freed (it could not make
 * a request for it) has no callbacks left; ours was the last reference.
 */
static void
clientconn_adopt(struct clientconn *c)
{
	struct bufferevent		*bev = c->scan.bev;
	struct evhttp_connection	*evcon;
	bufferevent_event_cb		 eventcb;
	void				*arg;

	/* (evhttp clears only the read callback while it writes) */
	bufferevent_getcb(bev, NULL, NULL, &eventcb, &arg);
	if (eventcb == NULL || (evcon = arg) == NULL ||
	    evhttp_connection_get_bufferevent(evcon) != bev ||
	    clientconn_index(c, evcon) == -1) {
		/* its close is not heard of: nothing may outlive it */
		clientconn_free(c);
	}
	bufferevent_decref(bev);
}

/* See clientconn.h. */
void
clientconn_adopt_all(void)
{
	size_t	i, n = nfresh;

	nfresh = 0;		/* (clientconn_find no longer looks there) */
	for (i = 0; i < n; i++)
		clientconn_adopt(fresh[i]);
}

/* The loop turn's accepts are over: adopt them. */
static void
clientconn_fresh_cb(evutil_socket_t fd, short what, void *arg)
{
	clientconn_adopt_all();
}

/* See clientconn.h. */
void
clientconn_accepted(struct bufferevent *bev, unsigned *lcount,
    const struct nulscan_limits *lim, int scan)
{
	struct clientconn	**p, *c;
	size_t			  cap;

	if (fresh_ev == NULL && (fresh_ev = event_new(sluice_base, -1, 0,
	    clientconn_fresh_cb, NULL)) == NULL)
		return;			/* clientconn_get makes it */
	if (nfresh == fresh_cap) {
		cap = fresh_cap == 0 ? 16 : fresh_cap * 2;
		if ((p = reallocarray(fresh, cap, sizeof(*p))) == NULL)
			return;
		fresh = p;
		fresh_cap = cap;
	}
	if ((c = clientconn_new(bev, lcount, lim)) == NULL)
		return;
	if (scan && nulscan_attach(&c->scan, bev, &c->kind->lim) == -1)
		log_warn("out of memory watching a client's requests");
	bufferevent_incref(bev);
	fresh[nfresh++] = c;
	event_active(fresh_ev, EV_TIMEOUT, 0);
}

/* See clientconn.h. */
void
clientconn_scan_start(struct bufferevent *bev)
{
	struct clientconn	*c = clientconn_find(bev);

	if (c == NULL || c->scan.lim != NULL)
		return;
	if (nulscan_attach(&c->scan, bev, &c->kind->lim) == -1)
		log_warn("out of memory watching a client's requests");
	else
		nulscan_next(&c->scan);
}

/* See clientconn.h. */
void
clientconn_attach(struct clientconn *c, struct clientconn_user *u)
{
	c->busy = u;
}

/* See clientconn.h. */
void
clientconn_detach(struct clientconn *c, struct clientconn_user *u)
{
	if (c->busy == u)
		c->busy = NULL;
}

/* See clientconn.h. */
void
clientconn_foreach(void (*fn)(struct clientconn *, void *), void *arg)
{
	struct clientconn	*c;
	int			 fd;

	for (fd = 0; (c = fdtab_next(&bysock, &fd)) != NULL; fd++)
		fn(c, arg);
}

/* Free the table and the adoption queue. */
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
	fdtab_free(&bysock);
}
