/*
 * client: client connection registry, keyed by the evhttp connection
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

#include "proxy/client.h"
#include "proxy/exchange.h"
#include "proxy/listener.h"
#include "proxy/nulscan.h"
#include "proxy/ptrmap.h"
#include "proxy/sluice.h"

/* This worker's connections; the count is over every worker. */
static __thread struct client_list	 clients;
static __thread struct ptrmap		 byconn;	/* evcon -> client */
static unsigned				 nclients;	/* atomic */
static void			(*close_cb)(void);

/* Register the hook run after a client connection closed. */
void
client_set_close_cb(void (*cb)(void))
{
	close_cb = cb;
}

/* The registry, for drain and status. */
struct client_list *
client_registry(void)
{
	if (clients.tqh_last == NULL)
		TAILQ_INIT(&clients);
	return &clients;
}

/* Open client connections known to the registry. */
unsigned
client_count(void)
{
	return SLUICE_LOAD(&nclients);
}

/* evhttp closes the connection: end its exchange, forget it. */
static void
client_closed(struct evhttp_connection *evcon, void *arg)
{
	struct client	*c = arg;

	SLUICE_MAGIC_CHECK(c, CLIENT_MAGIC);
	nulscan_forget(evhttp_connection_get_bufferevent(evcon));
	if (c->ex != NULL)
		exchange_client_gone(c->ex);
	ptrmap_del(&byconn, evcon);
	TAILQ_REMOVE(&clients, c, entry);
	SLUICE_DEC(&c->lst->nclients);
	SLUICE_DEC(&nclients);
	c->magic = 0;
	free(c);
	if (close_cb != NULL)
		close_cb();
}

/* Fill in the peer address and turn off Nagle for a new connection. */
static void
client_init(struct client *c, struct evhttp_connection *evcon)
{
	struct bufferevent	*bev;
	char		*addr = NULL;
	ev_uint16_t	 port = 0;
	int		 one = 1;
	evutil_socket_t	 fd;

	evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(c->ip, sizeof(c->ip), "%s", addr != NULL ? addr : "-");
	c->port = port;
	bev = evhttp_connection_get_bufferevent(evcon);
	c->tls = bufferevent_openssl_get_ssl(bev) != NULL;
	fd = bufferevent_getfd(bev);
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* See client.h. */
struct client *
client_get(struct evhttp_connection *evcon, struct listener *lst)
{
	struct client	*c;

	if ((c = ptrmap_get(&byconn, evcon)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (ptrmap_put(&byconn, evcon, c) == -1) {
		free(c);
		return NULL;
	}
	c->magic = CLIENT_MAGIC;
	c->evcon = evcon;
	c->lst = lst;
	client_init(c, evcon);
	TAILQ_INSERT_TAIL(client_registry(), c, entry);
	SLUICE_INC(&lst->nclients);
	SLUICE_INC(&nclients);
	evhttp_connection_set_closecb(evcon, client_closed, c);
	return c;
}

/* Free the map. */
void
client_registry_free(void)
{
	ptrmap_free(&byconn);
}
