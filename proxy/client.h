/*
 * client: the registry of client (downstream) connections.
 *
 * evhttp keeps no public list of its connections and offers one close
 * callback per connection. The registry gives each connection a struct
 * client the first time a request arrives on it, found again by the evhttp
 * connection pointer, and freed from that close callback.
 */
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

struct evhttp_connection;
struct exchange;
struct listener;

#define CLIENT_MAGIC	0x434c4e54u	/* "CLNT" */

struct client {
	unsigned			 magic;
	struct evhttp_connection	*evcon;
	struct listener			*lst;
	struct exchange			*ex;	/* current, NULL when idle */
	uint64_t			 requests;
	int				 tls;	/* arrived over TLS */
	char				 ip[INET6_ADDRSTRLEN];
	uint16_t			 port;
	TAILQ_ENTRY(client)		 entry;
};

TAILQ_HEAD(client_list, client);

/*
 * The client of evcon, created (and its close callback set) on first use.
 * NULL when out of memory.
 */
struct client	*client_get(struct evhttp_connection *evcon,
		    struct listener *lst);

/* Every open client connection we have seen a request on. */
struct client_list *client_registry(void);
unsigned	 client_count(void);

/* Called after a client connection closed (drain watches this). */
void		 client_set_close_cb(void (*cb)(void));

/* Free the registry's table (at exit, once every connection is closed). */
void		 client_registry_free(void);

#endif
