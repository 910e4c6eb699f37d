/*
 * admin: the operator's HTTP endpoint. GET /healthz, /readyz, /status
 * (JSON), /metrics (Prometheus); POST /reload and runtime control of
 * servers (drain, enable, weight). Loopback by default; served by its own
 * evhttp so that it never counts as client traffic and stays up while
 * draining.
 *
 * Every request but the probes (/healthz, /readyz) must name the admin in
 * its Host (its local address, localhost on loopback, or a server_name);
 * a POST whose Origin or Sec-Fetch-Site shows another site is refused
 * (403), token or not: browsers cannot be made to reach it. The token
 * guards POSTs, and off loopback (by the listen address) every request
 * but the probes, and /status and /metrics with public_read. With
 * tls_certificate the current generation's certificates serve each new
 * connection.
 */
#ifndef SLUICE_CTL_ADMIN_H
#define SLUICE_CTL_ADMIN_H

#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "proxy/ctl/prom.h"

struct admin;
struct tls_server;

/* What the lifecycle reports. */
struct admin_info {
	uint64_t	 generation;
	const char	*state;			/* running, draining, ... */
	int		 ready;			/* /readyz answers 200 */
	unsigned	 workers;		/* worker threads */
	time_t		 last_reload;		/* 0: never */
	int		 last_reload_ok;
	const char	*last_reload_errors;	/* "" when none */
	uint64_t	 reloads_ok;
	uint64_t	 reloads_failed;
	const struct conf_admin	*conf;		/* the current [admin]: token,
						 * server_name, public_read */
	struct tls_server	*tls;		/* its certificates; NULL:
						 * plain HTTP */
	unsigned long	 max_connections;	/* in force (auto resolved) */
	time_t		 drain_since;		/* the shutdown signal; 0:
						 * the process is not
						 * draining */
	time_t		 drain_deadline;	/* the hard stop */
	uint64_t	 drain_left_ms;		/* until it */
	/* each listener of the current configuration, in its order */
	void		(*each_listener)(void (*fn)(void *,
			    const struct prom_listener *), void *arg);
};

/* The lifecycle's side: report, and reload (0 ok, -1 failed). */
struct admin_hooks {
	void	(*info)(struct admin_info *);
	int	(*reload)(void);
};

/*
 * Listen on addr and serve. hooks must outlive the admin. Returns it, or
 * NULL with *err a malloc'd message.
 */
struct admin	*admin_open(const struct conf_addr *addr,
		    const struct admin_hooks *hooks, char **err);

/* 1 when the admin listens on addr. */
int		 admin_is_on(const struct admin *, const struct conf_addr *);

/* The listening descriptor (for a binary upgrade), or -1. */
int		 admin_fd(const struct admin *);

/*
 * Free it from the loop, not now: a reload requested through the admin
 * endpoint itself may replace it while its request is being answered.
 */
void		 admin_free_later(struct admin *);

/* Free the admins still waiting for their deferred free (at exit). */
void		 admin_free_retiring(void);

/* Close the admin listener and its connections. NULL is fine. */
void		 admin_free(struct admin *);

#endif
