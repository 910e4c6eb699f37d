/*
 * nulscan: NUL bytes in request heads. libevent 2.1.12 reads header lines
 * as C strings, so "X: a\0b" reaches us as "X: a" and cannot be told from
 * a valid header. RFC 9110 5.5 wants such a message rejected (or the NUL
 * replaced), never forwarded cut. nulscan watches the bytes as they arrive
 * on a client connection, before evhttp parses them: from the start of a
 * request until the end of its head, and again for the next request.
 *
 * Connections are known by their bufferevent. Their scan state lives in a
 * table keyed by that pointer; a connection's entry goes when it closes
 * after a request (nulscan_forget), and entries of connections that closed
 * without one are reclaimed when the table is full (oldest first) or when
 * a new connection reuses the address.
 */
#ifndef SLUICE_FRONT_NULSCAN_H
#define SLUICE_FRONT_NULSCAN_H

struct bufferevent;

/* Watch the input of a new client connection. -1 when out of memory. */
int	nulscan_attach(struct bufferevent *bev);

/* 1 when a NUL was seen in the head of the request being handled. */
int	nulscan_found(struct bufferevent *bev);

/* The response is done: the next bytes start a new request head. */
void	nulscan_next(struct bufferevent *bev);

/* The connection is closing: drop its state. */
void	nulscan_forget(struct bufferevent *bev);

/* Free the table (at exit). */
void	nulscan_free(void);

#endif
