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
 * A connection's scanner lives in its client record (clientconn.h), the
 * argument of the callback on its input buffer: no table to look it up
 * in. It is 24 bytes, since every idle connection has one; what reading
 * a request needs (the scan of its head, its deadline, its body's share
 * of the budget) is taken when its first byte arrives and given back
 * once it is answered.
 */
#ifndef SLUICE_FRONT_NULSCAN_H
#define SLUICE_FRONT_NULSCAN_H

#include <stdint.h>

struct bufferevent;
struct nulscan_run;

/* One connection's scanner. */
struct nulscan {
	struct bufferevent		*bev;
	struct nulscan_run		*run;	/* the request being read or
						 * handled; NULL: between
						 * requests */
	const struct nulscan_limits	*lim;	/* NULL: not watching */
};

/* A listener's deadlines on a request (client_header_timeout, ...). */
struct nulscan_limits {
	uint64_t	 head_ms;	/* a head's first byte to its end */
	uint64_t	 body_ms;	/* from the head's end to the request */
	uint64_t	 max_input;	/* unparsed bytes a request may hold
					 * (0: no bound) */
	uint64_t	 pipeline;	/* bytes a client may send ahead
					 * while its request is handled (0:
					 * no bound) */
	/* NULL, or asked at the first bytes of each request, before
	 * evhttp sees them: 1 when it took the connection away (then n
	 * was forgotten, and the bytes are its) */
	int		(*divert)(struct nulscan *n);
};

struct conf_listener;

/* A listener's limits: its deadlines, max_header_size +
 * max_body_size + a read's worth as max_input, max_header_size + a
 * read's worth as pipeline. */
void	nulscan_limits_of(const struct conf_listener *,
	    struct nulscan_limits *);

/*
 * Watch bev's input with n, with the limits of lim (which must outlive
 * n's watch, a listener's, shared by its connections): past a
 * deadline the client gets 408 (when nothing of its is queued for it)
 * and the connection is shut; past max_input, 413. While a request is
 * handled, reading stops once pipeline bytes wait behind it. n stays
 * where it is until nulscan_forget. -1 when out of memory.
 */
int	nulscan_attach(struct nulscan *n, struct bufferevent *bev,
	    const struct nulscan_limits *lim);

/* evhttp has the whole request (its head and body): no deadline runs. */
void	nulscan_dispatched(struct nulscan *);

/* 1 when a NUL was seen in the head of the request being handled. */
int	nulscan_found(const struct nulscan *);

/* The response is done: the next bytes start a new request head. */
void	nulscan_next(struct nulscan *);

/* The connection is closing: stop watching it, drop its state. */
void	nulscan_forget(struct nulscan *);

/* max_buffered_bodies of the newest configuration (0: no budget). */
void	nulscan_set_budget(uint64_t bytes);

/*
 * Request body bytes read and not yet answered, over all connections and
 * workers; *waits gets how many times a connection was paused for the
 * max_buffered_bodies budget.
 */
uint64_t nulscan_buffered_bodies(uint64_t *waits);

/* Free what the worker keeps for requests (at exit). */
void	nulscan_free(void);

#endif
