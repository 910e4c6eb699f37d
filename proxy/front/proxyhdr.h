/*
 * proxyhdr: the PROXY protocol header in front of a client connection
 * (a listener's proxy_protocol = on).
 *
 * evhttp reads a connection through a bufferevent that sluice makes but
 * whose life evhttp ends, without telling, and whose writes must go
 * straight to the socket (a filter bufferevent reports a write done as
 * soon as it has moved the bytes on, and evhttp then shuts the socket
 * down under them). So the header is read where the bytes first land,
 * ahead of evhttp and of TLS, without any bufferevent in between:
 *
 * - plain: a callback on the socket bufferevent's input buffer, which
 *   runs inside the read, before evhttp's read callback. A partial header
 *   is moved aside, so evhttp sees nothing until it is complete; then the
 *   callback goes and the request bytes stay. The state is found by the
 *   bufferevent in a per-worker map (as the NUL scanner's), and holds no
 *   pointer that outlives the connection.
 * - TLS: a BIO pushed under the SSL when its handshake starts (OpenSSL's
 *   info callback), which reads the header off the socket before the
 *   ClientHello; its state is the BIO's and is freed with the SSL.
 *
 * A header that is missing, malformed, too long or late (client_timeout
 * from the first byte, on top of the read timeout evhttp already runs
 * from the accept), or one from a peer that is not a trusted proxy,
 * closes the connection without a byte of answer, logged (at most a line
 * a second per worker) with the peer's address.
 */
#ifndef SLUICE_FRONT_PROXYHDR_H
#define SLUICE_FRONT_PROXYHDR_H

#include <netinet/in.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "conf/conf.h"
#include "proxy/front/nulscan.h"

struct bufferevent;

/*
 * Read the header in front of the plain connection of bev (a socket
 * bufferevent, its fd not set yet) of listener l. done(bev, lim) runs
 * once the header has gone (to attach what watches the request bytes,
 * with l's deadlines, copied). -1 when out of memory.
 */
int		 proxyhdr_plain(struct bufferevent *bev,
		    const struct conf_listener *l,
		    void (*done)(struct bufferevent *,
		    const struct nulscan_limits *));

/*
 * Read the header in front of the TLS connection of ssl (of bev, the
 * bufferevent made for it) of listener l. -1 when out of memory.
 */
int		 proxyhdr_tls(SSL *ssl, struct bufferevent *bev,
		    const struct conf_listener *l);

/*
 * The client the header of bev's connection named: 1 with ip and *port
 * set (once per connection: the plain state is freed then), 0 when there
 * is no such header or it named none (LOCAL, UNKNOWN): the socket's peer
 * stands.
 */
int		 proxyhdr_client(struct bufferevent *bev,
		    char ip[INET6_ADDRSTRLEN], uint16_t *port);

/* At exit, in each worker: free what the plain map still holds. */
void		 proxyhdr_map_free(void);

#endif
