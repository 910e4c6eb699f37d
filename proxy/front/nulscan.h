/*
 * nulscan: NUL bytes in request heads. libevent 2.1.12 reads header lines
 * as C strings, so "X: a\0b" reaches us as "X: a" and cannot be told from
 * a valid header. RFC 9110 5.5 wants such a message rejected (or the NUL
 * replaced), never forwarded cut. nulscan watches the bytes as they arrive
 * on a client connection, before evhttp parses them: from the start of a
 * request until the end of its head, and again for the next request.
 *
 * It also keeps the deadlines on a request: client_header_timeout from
 * the first byte of a head to its end, client_body_timeout from there to
 * the moment evhttp hands the whole request over. evhttp's own timer
 * only measures the time between two reads, which a client sending one
 * byte a second resets forever.
 *
 * Connections are known by their bufferevent. Their scan state lives in a
 * table keyed by that pointer; a connection's entry goes when it closes
 * after a request (nulscan_forget), and entries of connections that closed
 * without one are reclaimed when the table is full (oldest first) or when
 * a new connection reuses the address.
 */
#ifndef SLUICE_FRONT_NULSCAN_H
#define SLUICE_FRONT_NULSCAN_H

#include <stdint.h>

struct bufferevent;

/* A listener's deadlines on a request (client_header_timeout, ...). */
struct nulscan_limits {
	uint64_t	 head_ms;	/* a head's first byte to its end */
	uint64_t	 body_ms;	/* from the head's end to the request */
	uint64_t	 max_input;	/* unparsed bytes a request may hold
					 * (0: no bound) */
};

struct conf_listener;

/* A listener's limits: its deadlines, and max_header_size +
 * max_body_size + a read's worth as max_input. */
void	nulscan_limits_of(const struct conf_listener *,
	    struct nulscan_limits *);

/*
 * Watch the input of a new client connection, with the deadlines of lim
 * (copied): past one, the client gets 408 (when nothing of its is
 * queued for it) and the connection is shut. -1 when out of memory.
 */
int	nulscan_attach(struct bufferevent *bev,
	    const struct nulscan_limits *lim);

/* evhttp has the whole request (its head and body): no deadline runs. */
void	nulscan_dispatched(struct bufferevent *bev);

/* 1 when a NUL was seen in the head of the request being handled. */
int	nulscan_found(struct bufferevent *bev);

/* The response is done: the next bytes start a new request head. */
void	nulscan_next(struct bufferevent *bev);

/* The connection is closing: drop its state. */
void	nulscan_forget(struct bufferevent *bev);

/* max_buffered_bodies of the newest configuration (0: no budget). */
void	nulscan_set_budget(uint64_t bytes);

/*
 * Request body bytes read and not yet answered, over all connections and
 * workers; *waits gets how many times a connection was paused for the
 * max_buffered_bodies budget.
 */
uint64_t nulscan_buffered_bodies(uint64_t *waits);

/* Free the table (at exit). */
void	nulscan_free(void);

#endif
