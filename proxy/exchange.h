/*
 * exchange: one client request and its upstream request, from the moment
 * evhttp hands us a complete request until the last response byte is with
 * the kernel (or the exchange failed). exchange_finish is its one
 * teardown: it answers the client exactly once, releases the upstream
 * connection, drops the generation, writes one access-log line with a
 * termination code, and frees.
 */
#ifndef SLUICE_EXCHANGE_H
#define SLUICE_EXCHANGE_H

#include <stdint.h>

struct exchange;
struct front;
struct gen;
struct gen_listener;

/*
 * Where an exchange is; one setter changes it (logged old -> new at debug
 * level). The order matters: from STREAMING on, the client has a head.
 */
enum exchange_state {
	EXCHANGE_ROUTING = 0,	/* checked, routed; nothing sent anywhere */
	EXCHANGE_QUEUED,	/* waiting for a slot under max_conns */
	EXCHANGE_UPSTREAM,	/* with a server: connect, send, wait for the
				 * head */
	EXCHANGE_STREAMING,	/* the response head went out; the body
				 * follows */
	EXCHANGE_TUNNEL,	/* switched protocols: a byte tunnel */
	EXCHANGE_ANSWERED,	/* sluice answered itself (an error, OPTIONS
				 * Max-Forwards 0) */
	EXCHANGE_CLOSING,	/* the tunnel ended: the connection closes */
};

/* Who ended an exchange (the first half of a termination code). */
enum exchange_who {
	EXCHANGE_WHO_NONE = 0,	/* completed normally: "ok" */
	EXCHANGE_WHO_CLIENT,
	EXCHANGE_WHO_SERVER,
	EXCHANGE_WHO_PROXY,
	EXCHANGE_WHO_TIMEOUT,
	EXCHANGE_WHO_DRAIN,
	EXCHANGE_WHO_KILLED,
};

/* In which phase (the second half). */
enum exchange_phase {
	EXCHANGE_PHASE_REQUEST = 0,	/* ours: validating, routing */
	EXCHANGE_PHASE_QUEUE,		/* waiting in the upstream's queue */
	EXCHANGE_PHASE_CONNECT,		/* connecting upstream */
	EXCHANGE_PHASE_HEADERS,		/* sending, waiting for the head */
	EXCHANGE_PHASE_BODY,		/* streaming the response */
};

/*
 * Start an exchange for the request of front f (copied), which arrived on
 * a listener of generation g, gl its entry for the listener; the exchange
 * takes its own reference. The request is always answered. The exchange
 * works on f's client until it finishes, and hears from it if the client
 * leaves first. -1 when out of memory (nothing was taken).
 */
int	exchange_start(const struct front *f, struct gen *g,
	    struct gen_listener *gl);

/*
 * For the fronts (front/front.h): the response's last byte went to the
 * kernel (ex finishes); the client left or reset the request (ex
 * finishes); output that had gone over the high mark drained.
 */
void	exchange_sent(struct exchange *ex);
void	exchange_client_gone(struct exchange *ex);
void	exchange_drained(struct exchange *ex);

/*
 * End every exchange now with termination code who (drain, killed):
 * responses not started get 503, started ones are cut.
 */
void	exchange_kill_all(enum exchange_who who);

/* End the exchanges running on a server (its drain deadline passed). */
struct server;
void	exchange_kill_server(struct server *, enum exchange_who who);

/* Exchanges finished since start, and how many were killed or drained. */
void	exchange_totals(uint64_t *finished, uint64_t *killed);

/* Exchanges in flight. */
unsigned exchange_count(void);

/* Responses from now on carry Connection: close (shutdown). */
void	exchange_set_closing(int);

/*
 * This worker took generation g: requests waiting in a queue wait for
 * g's upstream of their upstream's name from now on (and take its
 * settings when they leave the queue).
 */
void	exchange_requeue(struct gen *g);

/* Called whenever the number of exchanges drops to zero. */
void	exchange_set_idle_cb(void (*cb)(void));

#endif
