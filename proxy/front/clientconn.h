/*
 * clientconn: the registry of client (downstream) connections.
 *
 * evhttp keeps no public list of its connections and offers one close
 * callback per connection. The registry gives each connection a struct
 * clientconn when it is accepted (in the loop turn of its accept, once
 * evhttp has made its connection), found again by the evhttp connection
 * pointer, and freed from that close callback; the peer, TLS and PROXY
 * details are filled in at its first request.
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
	unsigned			 known:1; /* the details below are
						 * filled in (first request) */
	unsigned			 tls:1;	/* arrived over TLS */
	unsigned			 from_proxy:1; /* ip and port are a
						 * PROXY header's */
	struct evhttp_connection	*evcon;
	unsigned			*lcount; /* atomic: its
						 * listener's count */
	void				*busy;	/* the request on it (its
						 * exchange), NULL when idle */
	void				(*gone)(void *busy); /* told when
						 * the connection closes
						 * under it */
	uint64_t			 requests;
	char				*tls_subject; /* a verified client
						 * certificate's (RFC 2253);
						 * NULL: none */
	char				*tls_fp; /* its SHA-256 in hex;
						 * NULL: none */
	TAILQ_ENTRY(clientconn)		 entry;
	const char			*ip;	/* the peer's address: evhttp's
						 * copy (it lives as long),
						 * or proxy_ip */
	char				*proxy_ip; /* a PROXY header's;
						 * NULL: none */
	uint16_t			 port;
};

TAILQ_HEAD(clientconn_list, clientconn);

struct bufferevent;

/*
 * evhttp's bevcb made bev for a connection just accepted on a listener
 * whose count is lcount: counted now (clientconn_count, *lcount) until it
 * closes. It joins the registry later in this loop turn, once evhttp has
 * made its connection.
 */
void		 clientconn_accepted(struct bufferevent *bev, unsigned *lcount);

/*
 * Take the connections accepted so far into the registry now (before an
 * evhttp server that has them is freed).
 */
void		 clientconn_adopt_all(void);

/*
 * The client of evcon, created (and its close callback set) if its accept
 * did not register it, and its details read at the first call;
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

/* Every open client connection. */
struct clientconn_list *clientconn_registry(void);
unsigned	 clientconn_count(void);

/* Called after a client connection closed (drain watches this). */
void		 clientconn_set_close_cb(void (*cb)(void));

/* Free the registry's table (at exit, once every connection is closed). */
void		 clientconn_registry_free(void);

#endif
