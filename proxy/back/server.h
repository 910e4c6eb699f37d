/*
 * server: backend servers and their runtime state.
 *
 * A server's identity is upstream name + server name. It lives here, not in
 * a generation: a reload that keeps a server keeps this object (its pool
 * and counters); a reload that drops it marks it draining, and it is freed
 * once nothing refers to it (no generation, exchange or connection).
 */
#ifndef SLUICE_BACK_SERVER_H
#define SLUICE_BACK_SERVER_H

#include <pthread.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "conf/conf.h"
#include "proxy/back/health.h"
#include "proxy/back/idleclose.h"
#include "proxy/base/runtime.h"

struct tls_client;
struct upconn;
struct upqueue;
struct exchange;

#define SERVER_MAGIC	0x53525652u	/* "SRVR" */
#define SERVER_WEIGHT_CONF	(-1)	/* weight_override: none, the conf's */
#define SERVER_STICKY_ID_LEN	16	/* hex digits of a sticky id */
#define SERVER_STICKY_SECS	10	/* sticky_recent's window, s */

/*
 * Whether a generation lists the server (draining: a reload removed it).
 * The operator's drain and weight (admin_drain, weight_override) and
 * health (passive and active, struct health) are separate fields.
 */
enum server_state {
	SERVER_ACTIVE = 0,	/* receives new requests */
	SERVER_DRAINING,	/* no new requests; in-flight ones finish */
};

/* Settings copied from the newest generation that lists the server. */
struct server_settings {
	struct timeval	 connect_timeout;
	struct timeval	 read_timeout;
	struct timeval	 write_timeout;
	struct timeval	 keepalive_timeout;
	uint64_t	 drain_timeout_ms;
	int		 keepalive;	/* idle connections kept */
	struct tls_client *tls;		/* NULL: plain TCP; owned by the
					 * newest generation listing the
					 * server */
	char		*tls_name;	/* SNI and the name verified */
	char		*tls_sig;	/* the TLS settings, as text */
	unsigned	 epoch;		/* grows when connections made
					 * before may no longer be reused */
	struct health_conf health;
	int		 fail_on_5xx;
	int		 fail_on_invalid;
	char		*check_path;	/* active checks; NULL: none */
	struct timeval	 check_interval;
	uint64_t	 check_timeout_ms;
	int		 check_status_min;
	int		 check_status_max;
	struct timeval	 tunnel_timeout;
	int		 allow_truncation; /* TLS: a close-delimited body
					 * may end without close_notify */
	size_t		 max_head;	/* max_response_header_size, also
					 * of the trailer section */
	size_t		 max_headers;	/* max_response_headers, also of
					 * the trailer lines */
	unsigned	 max_interim;	/* max_interim_responses */
	size_t		 max_chunk_ext;	/* max_chunk_extension */
};

TAILQ_HEAD(upconn_list, upconn);

/*
 * One worker's part of a server: its copy of the settings (applied from its
 * own thread when it takes a generation, so a reload never changes them
 * under it) and its connection pool. Only that worker touches it; the
 * counts are read by the admin.
 */
struct server_local {
	struct server_settings	 set;
	struct upconn_list	 idle;		/* pooled, newest first */
	unsigned		 nidle;		/* atomic */
	struct upconn_list	 busy;
	unsigned		 nbusy;		/* atomic */
};

struct server {
	unsigned		 magic;
	char			*upstream;	/* upstream name */
	char			*name;		/* server name */
	char			*addrtext;	/* "host:port" as configured */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct server_local	*local;		/* one per worker */
	enum server_state	 state;		/* atomic; main writes */
	int			 refs;		/* atomic: gens + exchanges +
						 * conns */
	unsigned		 inflight;	/* atomic: exchanges on it */
	unsigned		 slots;		/* atomic (sequentially
						 * consistent): tries counted
						 * against max_conns */
	int			 max_conns;	/* atomic: the newest
						 * generation's; 0: none */
	struct upqueue		*queue;		/* its upstream name's;
						 * referenced */
	char			 sticky_id[SERVER_STICKY_ID_LEN + 1];
						/* its sticky cookie's value:
						 * from the names, hex */
	uint64_t		 sticky_requests; /* atomic: routed by it */
	uint64_t		 sticky_sec[SERVER_STICKY_SECS];
	uint64_t		 sticky_count[SERVER_STICKY_SECS];
						/* per second of the last
						 * ones, under mu */
	uint64_t		 drained_at;	/* atomic: ms of the admin's
						 * drain or weight 0 */
	uint64_t		 requests;	/* atomic: exchanges started */
	uint64_t		 connects;	/* atomic: connections opened */
	uint64_t		 reuses;	/* atomic: requests on pooled
						 * connections */
	uint64_t		 invalid;	/* atomic: malformed ones */
	uint64_t		 held;		/* atomic: kept in by
						 * max_ejected */
	uint64_t		 held_logged;	/* atomic: ms of the last log */
	uint64_t		 retired;	/* atomic: pooled connections
						 * closed before the server's
						 * learned idle timeout */
	uint64_t		 safe_fresh;	/* atomic: POSTs and the like
						 * sent on a new connection,
						 * the pooled ones idle past
						 * the safe age */
	struct event		*drain_ev;	/* drain_timeout timer */
	void			(*drain_expired)(struct server *);
						/* called when it fires */
	pthread_mutex_t		 mu;		/* guards health, learn */
	struct health		 health;
	struct idleclose	 learn;		/* its idle timeout, from what
						 * every worker's connections
						 * showed */
	uint64_t		 learn_close_ms; /* atomic copies of learn, */
	uint64_t		 learn_close_at; /* for the workers' pools */
	uint64_t		 learn_alive_ms;
	uint64_t		 learn_safe_ms;
	int			 admin_drain;	/* atomic: drained at runtime */
	int			 weight_override; /* atomic: admin's 0..1000
						   * (0: no requests), or
						   * SERVER_WEIGHT_CONF */
	int			 conf_weight;	/* the weight= of the newest
						 * generation applied; main
						 * thread only */
	struct event		*check_ev;	/* active health check timer */
	struct upconn		*check_uc;	/* the check in progress */
	int			 check_status;	/* its response status */
	int			 check_slot;	/* it holds a max_conns slot */
	TAILQ_ENTRY(server)	 entry;		/* the registry */
};

TAILQ_HEAD(server_list, server);

/* This thread's part of s. */
static inline struct server_local *
server_local(const struct server *s)
{
	return &s->local[sluice_worker_id];
}

/*
 * The weight s takes requests with when its generation configures
 * conf_weight: the admin's override when one is set, else conf_weight.
 * 0: no new request (the admin's weight 0).
 */
static inline int
server_weight(const struct server *s, int conf_weight)
{
	int	w = SLUICE_LOAD(&s->weight_override);

	return w == SERVER_WEIGHT_CONF ? conf_weight : w;
}

/* Guard s->health (workers report verdicts, the main thread checks). */
static inline void
server_lock(struct server *s)
{
	if (sluice_nworkers > 1)
		pthread_mutex_lock(&s->mu);
}

static inline void
server_unlock(struct server *s)
{
	if (sluice_nworkers > 1)
		pthread_mutex_unlock(&s->mu);
}

/*
 * What a connection showed of s's idle timeout (idleclose.h): the server
 * closed it after idle_ms idle, or it was still open after idle_ms. Any
 * worker; a change is logged.
 */
void		 server_idle_closed(struct server *s, uint64_t idle_ms);
void		 server_idle_alive(struct server *s, uint64_t idle_ms);

/* A pooled connection idle this long is closed; UINT64_MAX: no bound. */
uint64_t	 server_idle_retire_ms(const struct server *s, uint64_t now);

/* The longest idle a request that must not be repeated may reuse. */
uint64_t	 server_idle_safe_ms(const struct server *s);

/* The idle timeout learned for s, in ms; 0: none. */
uint64_t	 server_idle_timeout_ms(const struct server *s);

/* Idle and busy connections of s over every worker. */
void		 server_conns(const struct server *s, unsigned *idle,
		    unsigned *busy);

/*
 * Find the server with this identity and address in the registry, or
 * create it (active, with up's settings). Returns it with one more
 * reference (the caller's), or NULL when out of memory. An existing server
 * is not changed: a generation applies its settings only when it becomes
 * current (server_apply), so a reload that fails changes nothing.
 */
struct server	*server_get(const struct conf_upstream *up,
		    const struct conf_server *cs);

/*
 * Make s active with up's settings; tls is up's client context (NULL when
 * up does not use TLS). -1 when out of memory (settings unchanged), 1 when
 * connections made before may no longer be reused (other TLS settings:
 * the caller closes the idle ones), else 0.
 */
int		 server_apply(struct server *s, const struct conf_upstream *up,
		    const struct conf_server *cs, struct tls_client *tls);

/* server_apply's part for the calling worker other than the main one;
 * returns as server_apply. */
int		 server_apply_local(struct server *s,
		    const struct conf_upstream *up,
		    const struct conf_server *cs, struct tls_client *tls);

/*
 * Take and drop a reference. The last drop frees the server, in the main
 * thread (from a worker: the next time the main loop sweeps).
 */
void		 server_ref(struct server *);
void		 server_unref(struct server *);

/* Change the state; logs "old -> new" at debug level. */
void		 server_set_state(struct server *, enum server_state);

/* All live servers, for status and shutdown. */
struct server_list *server_registry(void);

const char	*server_state_name(enum server_state);

/*
 * 1 when a new request may go to s now (state, admin drain, health);
 * passive 0 ignores passive health (the server is alone in its upstream:
 * taking it out would only turn errors into 503s, as nginx reasons).
 */
int		 server_usable(const struct server *, uint64_t now,
		    int passive);

/* 1 when health (passive and active) has s in service. */
int		 server_up(const struct server *, uint64_t now);

/*
 * A request on s succeeded or failed (trial: it was the trial request).
 * peers are the npeers servers of the upstream it was picked from (s
 * among them): a failure takes s out only while fewer than max_ejected of
 * them are out already.
 */
void		 server_passive(struct server *, int ok, int trial,
		    struct server *const *peers, size_t npeers);

/*
 * max_conns: take one of s's slots. 1 when the try may go (*slot says
 * whether a slot was taken: 0 when s has no limit), 0 when s is at its
 * limit. Any thread; a compare-and-swap, so that two generations'
 * upstreams (two pick locks) never take the same last slot.
 */
int		 server_slot_take(struct server *s, int *slot);

/*
 * Give a slot back; when requests wait in s's queue, the hook set with
 * server_slot_hook (the door's grant) runs.
 */
void		 server_slot_put(struct server *s);
void		 server_slot_hook(void (*fn)(struct upqueue *));

/*
 * A request came to s by its sticky cookie: counted in sticky_requests
 * and in the last SERVER_STICKY_SECS seconds. Any worker.
 */
void		 server_sticky_count(struct server *, uint64_t now);

/* Requests routed by s's sticky cookie in the last SERVER_STICKY_SECS
 * seconds. */
uint64_t	 server_sticky_recent(struct server *, uint64_t now);

/* An active health check of s passed or failed (why: for the log). */
void		 server_checked(struct server *, int ok, const char *why);

#endif
