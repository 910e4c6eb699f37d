/*
 * client: client connection registry, a chained hash on the evhttp
 * connection pointer.
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
#include "proxy/nulscan.h"
#include "proxy/sluice.h"

static struct client_list	 clients = TAILQ_HEAD_INITIALIZER(clients);
static struct client		**table;
static size_t			 tablesize;	/* a power of two */
static unsigned			 nclients;
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
	return &clients;
}

/* Open client connections known to the registry. */
unsigned
client_count(void)
{
	return nclients;
}

/* Hash a connection pointer. */
static size_t
client_hash(const struct evhttp_connection *evcon)
{
	uintptr_t	p = (uintptr_t)evcon;

	p ^= p >> 17;
	p *= 0x9e3779b97f4a7c15ull;
	return (size_t)(p >> 20) & (tablesize - 1);
}

/* Double the table when it fills up. -1 when out of memory. */
static int
client_table_grow(void)
{
	struct client	**old = table, *c, *next;
	size_t		  oldsize = tablesize, i, h;

	tablesize = tablesize == 0 ? 256 : tablesize * 2;
	if ((table = calloc(tablesize, sizeof(*table))) == NULL) {
		table = old;
		tablesize = oldsize;
		return -1;
	}
	for (i = 0; i < oldsize; i++)
		for (c = old[i]; c != NULL; c = next) {
			next = c->hnext;
			h = client_hash(c->evcon);
			c->hnext = table[h];
			table[h] = c;
		}
	free(old);
	return 0;
}

/* Unlink c from its hash chain. */
static void
client_unhash(struct client *c)
{
	struct client	**pp = &table[client_hash(c->evcon)];

	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
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
	client_unhash(c);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
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
	size_t		 h;

	if (tablesize != 0)
		for (c = table[client_hash(evcon)]; c != NULL; c = c->hnext)
			if (c->evcon == evcon)
				return c;
	if (nclients >= tablesize && client_table_grow() == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->magic = CLIENT_MAGIC;
	c->evcon = evcon;
	c->lst = lst;
	client_init(c, evcon);
	h = client_hash(evcon);
	c->hnext = table[h];
	table[h] = c;
	TAILQ_INSERT_TAIL(&clients, c, entry);
	nclients++;
	evhttp_connection_set_closecb(evcon, client_closed, c);
	return c;
}

/* Free the hash table. */
void
client_registry_free(void)
{
	free(table);
	table = NULL;
	tablesize = 0;
}
