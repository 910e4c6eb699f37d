/*
 * upstream: the door into the server side.
 *
 * One struct upstream is one upstream of one generation: its servers (each
 * referenced) and the balancer's state. The spine and the control plane act
 * on servers only through the functions below: an exchange takes a server
 * (the pick, with the health trial it may start), settles its try with
 * what happened (the verdict is decided here, from the upstream's rules),
 * takes another for a retry, and drops it; a generation applies its
 * settings; a reload removes servers (they drain); the admin endpoint
 * drains, enables and weighs them. Behind the door, back/server.c keeps
 * the registry and health, back/upconn.c the connections and pools,
 * back/probe.c the active checks; none of them calls the door.
 */
#ifndef SLUICE_BACK_UPSTREAM_H
#define SLUICE_BACK_UPSTREAM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "conf/conf.h"
#include "proxy/back/balance.h"
#include "proxy/back/upconn.h"

struct server;
struct tls_client;
struct upqueue;
struct upstream_wait;

/* One upstream of one generation. */
struct upstream {
	const struct conf_upstream	*conf;
	struct server			**servers;	/* referenced */
	struct balance_peer		*peers;		/* same order */
	pthread_mutex_t			 mu;		/* picks, across
							 * workers */
	int				 mu_init;
	size_t				 n;
	int				 limited;	/* a server has
							 * max_conns */
	int				 backups;	/* a server is a
							 * backup */
	struct upqueue			*queue;		/* its name's;
							 * referenced */
	struct tls_client		*tls;		/* NULL: plain; owned */
};

/* An exchange's hold on one server, from take to drop. */
struct upstream_hold {
	struct server	*srv;		/* referenced; NULL: none */
	int		 trial;		/* this try is the server's health
					 * trial */
	int		 judged;	/* this try has its verdict */
	int		 slot;		/* it holds one of max_conns */
};

/* What upstream_take got. */
enum upstream_got {
	UPSTREAM_GOT = 0,	/* h holds a server */
	UPSTREAM_NONE,		/* no server is usable */
	UPSTREAM_FULL,		/* every usable server is at max_conns and
				 * the queue is full (or 0) */
	UPSTREAM_QUEUED,	/* the request waits; granted comes later */
};

/*
 * A waiting request's turn came, in the worker it waits in, from its
 * loop: h holds a server (granted takes *h over), or h->srv is NULL when
 * no server of the upstream is usable any more. The wait is over.
 */
typedef void	upstream_granted_fn(void *arg, struct upstream_hold *h);

/*
 * Find or create the servers of cu in the registry (nothing else changes
 * until upstream_activate). up->tls is the caller's to set. 0, or -1 when
 * out of memory (upstream_fini frees what was made).
 */
int	upstream_init(struct upstream *up, const struct conf_upstream *cu);

/* Drop the servers' references and free. */
void	upstream_fini(struct upstream *up);

/*
 * The generation of up becomes current (main thread): its servers take
 * its settings, turn active and run their health checks. -1 when out of
 * memory.
 */
int	upstream_activate(struct upstream *up);

/* The same for the calling worker's copy of the settings. */
void	upstream_activate_local(struct upstream *up);

/* 1 when up lists srv. */
int	upstream_lists(const struct upstream *up, const struct server *srv);

/*
 * Pick a server for a new request and take it: in flight there, the
 * server referenced, its health trial started when one is due, a slot of
 * its max_conns taken. Servers that are draining, drained, at weight 0 or
 * out by health are skipped, and so are those at their max_conns; backup
 * servers are picked only while no other is usable. When every usable
 * server is at its limit, or requests wait already, the request waits in
 * the upstream's queue (when it has room): *wp is its wait, and
 * granted(arg, ...) runs when a slot is its (or none can come). pin: see
 * upstream_sticky_find; -1 for none.
 */
enum upstream_got upstream_take(struct upstream *up, struct upstream_hold *h,
	    int pin, upstream_granted_fn *granted, void *arg,
	    struct upstream_wait **wp);

/*
 * Sticky sessions: the index in up of the server whose sticky cookie
 * value is v[0..len), or -1 (an old or forged value). Passed to
 * upstream_take as pin, it sends the request to that server while it is
 * usable, and while the admin's drain (or weight 0) is younger than its
 * drain_timeout; it waits for that server at its limit, unless it
 * drains. Otherwise the request is balanced as if it had no cookie.
 */
int	upstream_sticky_find(const struct upstream *up, const char *v,
	    size_t len);

/* The sticky cookie value of h's server. */
const char *upstream_sticky_id(const struct upstream_hold *h);

/*
 * The request leaves the queue. 1: it was waiting and has left (w is
 * freed). 0: its grant is on the way: with abandon (the request ends)
 * the grant is given back when it arrives and granted is not called;
 * without, the grant still comes (a timeout that lost the race).
 */
int	upstream_wait_cancel(struct upstream_wait *w, int abandon);

/*
 * A reload: w waits for up's servers from now (up has w's upstream
 * name). 0, or -1 when w waits no longer (its grant is on the way).
 */
int	upstream_wait_move(struct upstream_wait *w, struct upstream *up);

/*
 * Grant slots to the waiting requests of up's name while some are free
 * (after a reload or a change of servers), and tell those for which no
 * server is usable any more.
 */
void	upstream_kick(struct upstream *up);

/*
 * The server's part of the try is over (the response read, or the
 * connection closed): its max_conns slot goes to the oldest waiting
 * request. The hold stays until upstream_drop.
 */
void	upstream_release(struct upstream_hold *h);

/*
 * For a retry: take another server where one is usable, else the same one
 * again unless other_only. 0: h now holds it (the old one dropped); -1:
 * nothing to retry on (h unchanged).
 */
int	upstream_retake(struct upstream *up, struct upstream_hold *h,
	    int other_only);

/* The response head arrived with status: the try's verdict. */
void	upstream_settle_head(struct upstream *up, struct upstream_hold *h,
	    int status);

/*
 * The try failed with err (reused: on a pooled connection). Connects and
 * timeouts are failures; so is a connection closed or reset before a
 * complete head, unless it was pooled (a server may close idle ones). A
 * malformed response is counted, and a failure only with fail_on_invalid
 * (else it shows the server up).
 */
void	upstream_settle_error(struct upstream *up, struct upstream_hold *h,
	    enum upconn_error err, int reused);

/*
 * Let go of the server (its slot too); a trial without a verdict is given
 * back.
 */
void	upstream_drop(struct upstream_hold *h);

/* The idle timeout of tunnels through h's server. */
const struct timeval *upstream_tunnel_timeout(const struct upstream_hold *h);

/*
 * Control (main thread). drain: no new request, idle connections close,
 * in-flight ones finish; enable undoes it. weight: from the next request,
 * 0 none, SERVER_WEIGHT_CONF the configured one. The admin's drain and
 * weight stay while the server is in the configuration.
 */
void	upstream_server_drain(struct server *srv);
void	upstream_server_enable(struct server *srv);
void	upstream_server_weight(struct server *srv, int weight);

/*
 * A reload no longer lists srv: it drains (no new request, its checks
 * stop, its idle connections close, the admin's drain and weight are
 * forgotten) and expired(srv) is called when its drain_timeout passes
 * with exchanges still on it.
 */
void	upstream_server_remove(struct server *srv,
	    void (*expired)(struct server *));

/* At exit: stop every server's health checks and drain timer. */
void	upstream_stop_all(void);

#endif
