/*
 * clientconn: the registry of client (downstream) connections.
 *
 * evhttp keeps no public list of its connections and offers one close
 * callback per connection. The registry gives each connection a struct
 * clientconn the first time a request arrives on it, found again by the evhttp
 * connection pointer, and freed from that close callback.
 */
#ifndef SLUICE_FRONT_CLIENTCONN_H
#define SLUICE_FRONT_CLIENTCONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

struct evhttp_connection;

#define CLIENTCONN_MAGIC	0x434c4e54u	/* "CLNT" */

struct clientconn {
	unsigned			 magic;
	struct evhttp_connection	*evcon;
	unsigned			*lcount; /* atomic: its
						 * listener's count */
	void				*busy;	/* the request on it (its
						 * exchange), NULL when idle */
	void				(*gone)(void *busy); /* told when
						 * the connection closes
						 * under it */
	uint64_t			 requests;
	int				 tls;	/* arrived over TLS */
	char				*tls_subject; /* a verified client
						 * certificate's (RFC 2253);
						 * NULL: none */
	char				 tls_fp[65]; /* its SHA-256 in hex;
						 * "": none */
	char				 ip[INET6_ADDRSTRLEN];
	uint16_t			 port;
	int				 from_proxy; /* ip and port are a
						 * PROXY header's */
	TAILQ_ENTRY(clientconn)		 entry;
};

TAILQ_HEAD(clientconn_list, clientconn);

/*
 * The client of evcon, created (and its close callback set) on first use;
 * lcount is its listener's connection count, kept while it is open;
 * proxy: its listener reads a PROXY header, whose client then stands for
 * the socket's peer. NULL when out of memory.
 */
struct clientconn	*clientconn_get(struct evhttp_connection *evcon,
		    unsigned *lcount, int proxy);

/*
 * A request (busy, its exchange) works on c until clientconn_detach;
 * gone(busy) is called if the connection closes meanwhile (after which
 * busy must not touch c).
 */
void		 clientconn_attach(struct clientconn *c, void (*gone)(void *),
		    void *busy);
void		 clientconn_detach(struct clientconn *c, void *busy);

/* Every open client connection we have seen a request on. */
struct clientconn_list *clientconn_registry(void);
unsigned	 clientconn_count(void);

/* Called after a client connection closed (drain watches this). */
void		 clientconn_set_close_cb(void (*cb)(void));

/* Free the registry's table (at exit, once every connection is closed). */
void		 clientconn_registry_free(void);

#endif
