/*
 * prom: the whole GET /metrics page in the Prometheus text format
 * (version 0.0.4).
 */
#ifndef SLUICE_CTL_PROM_H
#define SLUICE_CTL_PROM_H

#include <stdint.h>

struct evbuffer;

/* A listener's connections, for /status and /metrics. */
struct prom_listener {
	const char	*name;
	const char	*listen;
	unsigned	 connections;		/* open now */
	unsigned	 max_connections;	/* its own; 0: none */
};

/* What the page reads from the process state. */
struct prom_gauges {
	uint64_t	 generation;		/* sluice_generation */
	const char	*state;			/* sluice_state{state=...} 1 */
	uint64_t	 reloads_ok;		/* sluice_reloads_total */
	uint64_t	 reloads_failed;
	unsigned	 in_flight;		/* sluice_in_flight */
	unsigned	 connections;		/* sluice_client_connections,
						 * sluice_connections */
	unsigned long	 max_connections;	/* sluice_connections_max */
	/* per listener: sluice_connections{listener} and _max (its own) */
	void		(*each_listener)(void (*fn)(void *,
			    const struct prom_listener *), void *arg);
	uint64_t	 ticket_rotations;	/* sluice_tls_ticket_key_
						 * rotations_total */
};

/*
 * Append the whole page to out: the gauges, the counters of the metrics
 * store, per live server (from the server registry): sluice_server_in_flight,
 * sluice_upstream_connections_idle, sluice_upstream_connections_busy,
 * sluice_upstream_connections_opened_total,
 * sluice_upstream_connections_reused_total, sluice_server_up (health),
 * sluice_server_draining, sluice_upstream_invalid_responses_total,
 * sluice_server_ejections_held_total,
 * sluice_upstream_connections_retired_total,
 * sluice_upstream_safe_fresh_total,
 * sluice_upstream_idle_timeout_seconds, sluice_server_weight (the weight
 * in use: the admin's, else the configured one; 0: no new requests) — all
 * labelled {upstream,server}.
 * Returns 0, or -1 when out of memory.
 */
int	prom_render(struct evbuffer *out, const struct prom_gauges *);

#endif
