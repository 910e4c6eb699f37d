/*
 * clientconn: the client connection registry, keyed by the evhttp connection
 * pointer.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>

#include "proxy/front/clientconn.h"
#include "proxy/front/nulscan.h"
#include "proxy/front/proxyhdr.h"
#include "proxy/base/ptrmap.h"
#include "proxy/base/runtime.h"
#include "tls/tls.h"

/* This worker's connections; the count is over every worker. */
static __thread struct clientconn_list	 clients;
static __thread struct ptrmap		 byconn;	/* evcon -> client */
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
	SLUICE_DEC(c->lcount);
	SLUICE_DEC(&nclients);
	c->magic = 0;
	free(c->tls_subject);
	free(c);
	if (close_cb != NULL)
		close_cb();
}

/*
 * Fill in the peer address (behind a PROXY header, the client it names)
 * and turn off Nagle for a new connection.
 */
static void
clientconn_init(struct clientconn *c, struct evhttp_connection *evcon,
    int proxy)
{
	struct bufferevent	*bev;
	SSL		*ssl;
	char		*addr = NULL, subject[1024];
	ev_uint16_t	 port = 0;
	int		 one = 1;
	evutil_socket_t	 fd;

	evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(c->ip, sizeof(c->ip), "%s", addr != NULL ? addr : "-");
	c->port = port;
	bev = evhttp_connection_get_bufferevent(evcon);
	/* behind a PROXY header, the client is the one it names */
	if (proxy && proxyhdr_client(bev, c->ip, &c->port))
		c->from_proxy = 1;
	c->tls = (ssl = bufferevent_openssl_get_ssl(bev)) != NULL;
	/* the handshake is over: a client certificate is there now */
	if (ssl != NULL && tls_peer_identity(ssl, subject, sizeof(subject),
	    c->tls_fp))
		c->tls_subject = strdup(subject);
	fd = bufferevent_getfd(bev);
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* See clientconn.h. */
struct clientconn *
clientconn_get(struct evhttp_connection *evcon, unsigned *lcount, int proxy)
{
	struct clientconn	*c;

	if ((c = ptrmap_get(&byconn, evcon)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (ptrmap_put(&byconn, evcon, c) == -1) {
		free(c);
		return NULL;
	}
	c->magic = CLIENTCONN_MAGIC;
	c->evcon = evcon;
	c->lcount = lcount;
	clientconn_init(c, evcon, proxy);
	TAILQ_INSERT_TAIL(clientconn_registry(), c, entry);
	SLUICE_INC(lcount);
	SLUICE_INC(&nclients);
	evhttp_connection_set_closecb(evcon, clientconn_closed, c);
	return c;
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

/* Free the map. */
void
clientconn_registry_free(void)
{
	ptrmap_free(&byconn);
}
