/*
 * clientconn: the registry of client (downstream) connections.
 *
 * evhttp keeps no public list of its connections and offers one close
 * callback per connection. The registry gives each connection a struct
 * clientconn when it is accepted, which holds the connection's NUL
 * scanner from the first byte on; the record joins the registry in the
 * loop turn of its accept, once evhttp has made its connection, is found
 * again by the connection's socket, and is freed from that close
 * callback. The peer, TLS and PROXY details are read at its first
 * request.
 *
 * Every idle keep-alive connection has one, so it is small: 56 bytes,
 * the scanner's 24 included (64 from malloc). What connections of one
 * listener share (its count, its limits) is kept once for all of them,
 * what few connections have (a client certificate, a PROXY header's
 * client) is allocated apart, and the peer's address is evhttp's own
 * copy.
 */
#ifndef SLUICE_FRONT_CLIENTCONN_H
#define SLUICE_FRONT_CLIENTCONN_H

#include <stdint.h>

#include "proxy/front/nulscan.h"

struct bufferevent;
struct evhttp_connection;
struct clientconn_extra;
struct clientconn_kind;

struct clientconn {
	struct nulscan			 scan;	/* scan.bev: its bufferevent */
	struct evhttp_connection	*evcon;	/* NULL until adopted */
	struct clientconn_kind		*kind;	/* its listener's count and
						 * limits */
	struct clientconn_user		*busy;	/* what works on it (a
						 * request's front, an HTTP/2
						 * connection); NULL: idle */
	struct clientconn_extra		*extra;	/* TLS, certificate, PROXY
						 * client: read at the first
						 * request; NULL before */
};

/*
 * evhttp's bevcb made bev for a connection just accepted on a listener
 * whose count is lcount and whose limits are lim (copied): counted now
 * (clientconn_count, *lcount) until it closes, and its bytes watched
 * from now when scan is 1 (0: later, clientconn_scan_start). It joins
 * the registry later in this loop turn, once evhttp has made its
 * connection.
 */
void		 clientconn_accepted(struct bufferevent *bev, unsigned *lcount,
		    const struct nulscan_limits *lim, int scan);

/* A PROXY header was read on bev: watch its bytes from now. */
void		 clientconn_scan_start(struct bufferevent *bev);

/*
 * Take the connections accepted so far into the registry now (before an
 * evhttp server that has them is freed).
 */
void		 clientconn_adopt_all(void);

/*
 * The client of evcon, created (and its close callback set) if its accept
 * did not register it (then counted in lcount, its bytes not watched),
 * and its details read at the first call; proxy: its listener reads a
 * PROXY header, whose client then stands for the socket's peer. NULL
 * when out of memory.
 */
struct clientconn	*clientconn_get(struct evhttp_connection *evcon,
		    unsigned *lcount, int proxy);

/* The client's address and port (behind a PROXY header, the ones it
 * names); "-" and 0 when unknown. */
const char	*clientconn_ip(const struct clientconn *);
uint16_t	 clientconn_port(const struct clientconn *);

/* 1 when it arrived over TLS. */
int		 clientconn_tls(const struct clientconn *);

/* Its verified certificate's subject (RFC 2253) and SHA-256 in hex;
 * NULL when it sent none. */
const char	*clientconn_tls_subject(const struct clientconn *);
const char	*clientconn_tls_fp(const struct clientconn *);

/*
 * What works on a connection (an HTTP/1.1 request's front, an HTTP/2
 * connection): gone is called if the connection closes under it.
 */
struct clientconn_user {
	void	(*gone)(struct clientconn_user *);
};

/*
 * u works on c until clientconn_detach; u->gone(u) is called if the
 * connection closes meanwhile (after which u must not touch c).
 */
void		 clientconn_attach(struct clientconn *c,
		    struct clientconn_user *u);
void		 clientconn_detach(struct clientconn *c,
		    struct clientconn_user *u);

/* Call fn on every open client connection of this worker (fn may not
 * close one). */
void		 clientconn_foreach(void (*fn)(struct clientconn *, void *),
		    void *arg);
unsigned	 clientconn_count(void);

/* Called after a client connection closed (drain watches this). */
void		 clientconn_set_close_cb(void (*cb)(void));

/* Free the registry's table (at exit, once every connection is closed). */
void		 clientconn_registry_free(void);

#endif
