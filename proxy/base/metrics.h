/*
 * metrics: counters and histograms for GET /metrics, in the Prometheus
 * text format (version 0.0.4). The proxy reports events as they happen;
 * gauges that already live elsewhere (in-flight counts, idle connections,
 * the generation) are read when the page is rendered.
 */
#ifndef SLUICE_BASE_METRICS_H
#define SLUICE_BASE_METRICS_H

#include <stdint.h>

struct evbuffer;

/* Kinds of upstream timeouts. */
enum metrics_timeout {
	METRICS_TIMEOUT_CONNECT = 0,
	METRICS_TIMEOUT_READ,
	METRICS_TIMEOUT_WRITE,
	METRICS_TIMEOUT_N,
};

/* Why exchanges were cut short by sluice itself. */
enum metrics_ended {
	METRICS_ENDED_DRAIN_TIMEOUT = 0,	/* a removed server's deadline */
	METRICS_ENDED_KILLED,			/* shutdown's hard stop */
	METRICS_ENDED_N,
};

/*
 * One finished exchange: the listener's name, the upstream and server
 * names (NULL when the request never reached one), the status sent to the
 * client (0 when none was), the total time and the upstream time in
 * seconds (upstream_s < 0 when there was no upstream part).
 * Counted in sluice_requests_total{listener,upstream,server,code} (code is
 * the status class "1xx".."5xx", or "none") and the two histograms
 * sluice_request_duration_seconds{listener} and
 * sluice_upstream_duration_seconds{upstream}. Names are copied.
 */
void	metrics_exchange(const char *listener, const char *upstream,
	    const char *server, int status, double total_s, double upstream_s);

/* sluice_upstream_timeouts_total{kind="connect|read|write"}. */
void	metrics_timeout(enum metrics_timeout);

/* sluice_retries_total. */
void	metrics_retry(void);

/* sluice_health_transitions_total{upstream,server,to="up|down"}. */
void	metrics_health(const char *upstream, const char *server, int up);

/* sluice_exchanges_ended_total{reason="drain_timeout|killed"}. */
void	metrics_ended(enum metrics_ended);

/* What the renderer reads from the rest of the proxy. */
struct metrics_gauges {
	uint64_t	 generation;		/* sluice_generation */
	const char	*state;			/* sluice_state{state=...} 1 */
	uint64_t	 reloads_ok;		/* sluice_reloads_total{result} */
	uint64_t	 reloads_failed;
	unsigned	 in_flight;		/* sluice_in_flight */
	unsigned	 connections;		/* sluice_client_connections */
};

/*
 * Append the whole page to out: the counters above, the gauges, and per
 * live server (from the server registry): sluice_server_in_flight,
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
int	metrics_render(struct evbuffer *out, const struct metrics_gauges *);

/* Free everything (at exit). */
void	metrics_free(void);

#endif
