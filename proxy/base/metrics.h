/*
 * metrics: the store of counters and histograms that GET /metrics shows.
 * The proxy reports events as they happen; ctl/prom.c renders the page,
 * with the gauges that live elsewhere (in-flight counts, idle connections,
 * the generation), read when the page is rendered.
 */
#ifndef SLUICE_BASE_METRICS_H
#define SLUICE_BASE_METRICS_H

#include <stdint.h>

/* Kinds of upstream timeouts. */
enum metrics_timeout {
	METRICS_TIMEOUT_CONNECT = 0,
	METRICS_TIMEOUT_READ,
	METRICS_TIMEOUT_WRITE,
	METRICS_TIMEOUT_N,
};

/* Why exchanges were cut short by sluice itself. */
enum metrics_ended {
	METRICS_ENDED_DRAIN_TIMEOUT = 0,	/* a removed server's end */
	METRICS_ENDED_KILLED,			/* shutdown's hard stop */
	METRICS_ENDED_N,
};

/* HTTP/2 events, each a counter of its own (sluice_http2_*_total). */
enum metrics_h2 {
	METRICS_H2_CONNECTIONS = 0,	/* connections taken */
	METRICS_H2_STREAMS,		/* streams opened by clients */
	METRICS_H2_GOAWAYS,		/* GOAWAY frames sent */
	METRICS_H2_REFUSED,		/* streams refused (REFUSED_STREAM) */
	METRICS_H2_CALM,		/* connections cut with
					 * ENHANCE_YOUR_CALM (a flood) */
	METRICS_H2_N,
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

/*
 * One request left an upstream's queue after waiting wait_s seconds:
 * sluice_queue_wait_seconds{upstream}, a histogram.
 */
void	metrics_queue_wait(const char *upstream, double wait_s);

/* sluice_tls_client_verify_failures_total{listener}. */
void	metrics_tls_client_reject(const char *listener);

/* accept(2) failed on listener (out of descriptors, say). */
void	metrics_accept_error(const char *listener);

/* sluice_exchanges_ended_total{reason="drain_timeout|killed"}. */
void	metrics_ended(enum metrics_ended);

/* One HTTP/2 event. */
void	metrics_h2(enum metrics_h2);

/*
 * Append what is stored, in page order: the three families of
 * metrics_exchange, the queue waits, the timeouts, retries, health
 * transitions, refused client certificates, ended exchanges, the HTTP/2
 * counters and the log lines syslog dropped (log_dropped; their HELP and
 * TYPE lines too).
 */
struct promtext;
void	metrics_write(struct promtext *);

/* Free everything (at exit). */
void	metrics_free(void);

#endif
