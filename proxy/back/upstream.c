/*
 * upstream: the door into the server side (see upstream.h). Picks and
 * settles come in pairs, as nginx's get/free peer: what a try says about
 * a server's health is decided here, so that no caller touches health.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "proxy/back/health.h"
#include "proxy/back/probe.h"
#include "proxy/back/server.h"
#include "proxy/back/upconn.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "tls/tls.h"

/* See upstream.h. */
int
upstream_init(struct upstream *up, const struct conf_upstream *cu)
{
	size_t	i;

	up->conf = cu;
	up->servers = calloc(cu->nservers, sizeof(*up->servers));
	up->peers = calloc(cu->nservers, sizeof(*up->peers));
	if (up->servers == NULL || up->peers == NULL)
		return -1;
	if (pthread_mutex_init(&up->mu, NULL) != 0)
		return -1;
	up->mu_init = 1;
	for (i = 0; i < cu->nservers; i++) {
		if ((up->servers[i] = server_get(cu, &cu->servers[i])) == NULL)
			return -1;
		up->n++;
	}
	return 0;
}

/* See upstream.h. */
void
upstream_fini(struct upstream *up)
{
	size_t	i;

	for (i = 0; i < up->n; i++)
		server_unref(up->servers[i]);
	free(up->servers);
	free(up->peers);
	if (up->mu_init)
		pthread_mutex_destroy(&up->mu);
	tls_client_free(up->tls);
}

/* See upstream.h. */
int
upstream_activate(struct upstream *up)
{
	struct server	*s;
	size_t		 i;
	int		 r;

	for (i = 0; i < up->n; i++) {
		s = up->servers[i];
		if ((r = server_apply(s, up->conf, &up->conf->servers[i],
		    up->tls)) == -1)
			return -1;
		if (r == 1)		/* other TLS settings: no reuse */
			upconn_close_idle(s);
		probe_schedule(s);
	}
	return 0;
}

/* See upstream.h. */
void
upstream_activate_local(struct upstream *up)
{
	size_t	i;

	for (i = 0; i < up->n; i++)
		if (server_apply_local(up->servers[i], up->conf,
		    &up->conf->servers[i], up->tls) == 1)
			upconn_close_idle(up->servers[i]);
}

/* See upstream.h. */
int
upstream_lists(const struct upstream *up, const struct server *srv)
{
	size_t	i;

	for (i = 0; i < up->n; i++)
		if (up->servers[i] == srv)
			return 1;
	return 0;
}

/*
 * The balancer's view of every server (up->mu held): usable, weight
 * (the runtime one or the configured one, ramped by slow start), in
 * flight. Returns how many are usable.
 */
static size_t
upstream_peers(struct upstream *up, uint64_t now)
{
	struct balance_peer	*p;
	struct server		*s;
	size_t			 i, usable = 0;
	int			 w;

	for (i = 0; i < up->n; i++) {
		s = up->servers[i];
		p = &up->peers[i];
		/* weight 0: no new request, retries included */
		w = server_weight(s, up->conf->servers[i].weight);
		server_lock(s);
		p->usable = w > 0 && server_usable(s, now, up->n > 1);
		p->weight = w > 0 ? health_weight(&s->health,
		    &server_local(s)->set.health, w, now) : 0;
		server_unlock(s);
		p->inflight = SLUICE_LOAD(&s->inflight);
		usable += p->usable;
	}
	return usable;
}

/*
 * Pick a server, avoiding avoid when another is usable; *trial says
 * whether the pick started the server's health trial. NULL: none.
 */
static struct server *
upstream_pick(struct upstream *up, const struct server *avoid, int *trial)
{
	uint64_t	 now = sluice_now_ms();
	struct server	*s = NULL;
	size_t		 i, usable;
	int		 k;

	/*
	 * One pick at a time across workers: the balancer's state and a
	 * health trial (taken here) stay exact whatever the number of
	 * workers. Order: the upstream, then a server.
	 */
	*trial = 0;
	if (sluice_nworkers > 1)
		pthread_mutex_lock(&up->mu);
	usable = upstream_peers(up, now);
	for (i = 0; avoid != NULL && usable > 1 && i < up->n; i++)
		if (up->servers[i] == avoid && up->peers[i].usable) {
			up->peers[i].usable = 0;
			break;
		}
	k = balance_pick(up->conf->balance, up->peers, up->n, sluice_random(),
	    sluice_random());
	if (k != -1) {
		s = up->servers[k];
		server_lock(s);
		if (up->n > 1)
			*trial = health_take(&s->health, now);
		server_unlock(s);
	}
	if (sluice_nworkers > 1)
		pthread_mutex_unlock(&up->mu);
	return s;
}

/* Give back a trial that got no verdict. */
static void
upstream_untake(struct server *s)
{
	server_lock(s);
	health_untake(&s->health);
	server_unlock(s);
}

/* Hold s for a try: in flight there until dropped. */
static void
upstream_hold(struct upstream_hold *h, struct server *s, int trial)
{
	h->srv = s;
	h->trial = trial;
	h->judged = 0;
	server_ref(s);
	SLUICE_INC(&s->inflight);
	SLUICE_INC(&s->requests);
}

/* See upstream.h. */
int
upstream_take(struct upstream *up, struct upstream_hold *h)
{
	struct server	*s;
	int		 trial;

	memset(h, 0, sizeof(*h));
	if ((s = upstream_pick(up, NULL, &trial)) == NULL)
		return -1;
	upstream_hold(h, s, trial);
	return 0;
}

/* See upstream.h. */
int
upstream_retake(struct upstream *up, struct upstream_hold *h,
    int other_only)
{
	struct server	*s;
	int		 trial;

	if ((s = upstream_pick(up, h->srv, &trial)) == NULL)
		return -1;
	if (other_only && s == h->srv) {
		if (trial)		/* the pick started it: give it back */
			upstream_untake(s);
		return -1;
	}
	upstream_drop(h);
	upstream_hold(h, s, trial);
	return 0;
}

/*
 * Passive health: what the try says about its server. A server alone in
 * its upstream is never taken out (as nginx), so it gets none. The first
 * verdict comes with the response head; a later one (a timeout in the
 * body) can only add a failure.
 */
static void
upstream_verdict(struct upstream *up, struct upstream_hold *h, int ok)
{
	if (up->n > 1)
		server_passive(h->srv, ok, h->trial, up->servers, up->n);
	h->trial = 0;
	h->judged = 1;
}

/* See upstream.h. */
void
upstream_settle_head(struct upstream *up, struct upstream_hold *h,
    int status)
{
	upstream_verdict(up, h, !(status >= 500 &&
	    server_local(h->srv)->set.fail_on_5xx));
}

/* See upstream.h. */
void
upstream_settle_error(struct upstream *up, struct upstream_hold *h,
    enum upconn_error err, int reused)
{
	switch (err) {
	case UPCONN_ERR_READ:
	case UPCONN_ERR_WRITE:
		if (!h->judged && !reused)
			upstream_verdict(up, h, 0);
		break;
	case UPCONN_ERR_PROTOCOL:
		/* one bad endpoint must not take servers out */
		SLUICE_INC(&h->srv->invalid);
		if (server_local(h->srv)->set.fail_on_invalid)
			upstream_verdict(up, h, 0);
		else if (!h->judged)
			upstream_verdict(up, h, 1);
		break;
	default:
		upstream_verdict(up, h, 0);
	}
}

/* See upstream.h. */
void
upstream_drop(struct upstream_hold *h)
{
	struct server	*s = h->srv;

	if (s == NULL)
		return;
	if (h->trial)
		upstream_untake(s);
	h->trial = 0;
	SLUICE_DEC(&s->inflight);
	h->srv = NULL;
	server_unref(s);
}

/* See upstream.h. */
const struct timeval *
upstream_tunnel_timeout(const struct upstream_hold *h)
{
	return &server_local(h->srv)->set.tunnel_timeout;
}

/* See upstream.h. */
void
upstream_server_drain(struct server *srv)
{
	SLUICE_STORE(&srv->admin_drain, 1);
	upconn_close_idle_all(srv);
}

/* See upstream.h. */
void
upstream_server_enable(struct server *srv)
{
	SLUICE_STORE(&srv->admin_drain, 0);
}

/* See upstream.h. */
void
upstream_server_weight(struct server *srv, int weight)
{
	SLUICE_STORE(&srv->weight_override, weight);
}

/* The drain_timeout of a removed server passed. */
static void
upstream_drain_expired(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;

	SLUICE_MAGIC_CHECK(srv, SERVER_MAGIC);
	if (srv->drain_expired != NULL)
		srv->drain_expired(srv);
}

/* See upstream.h. */
void
upstream_server_remove(struct server *srv, void (*expired)(struct server *))
{
	struct timeval	tv;

	/* removed: runtime state goes with the server */
	SLUICE_STORE(&srv->admin_drain, 0);
	SLUICE_STORE(&srv->weight_override, SERVER_WEIGHT_CONF);
	server_set_state(srv, SERVER_DRAINING);
	server_ref(srv);
	probe_stop(srv);
	upconn_close_idle_all(srv);
	srv->drain_expired = expired;
	if (srv->drain_ev == NULL)
		srv->drain_ev = evtimer_new(sluice_base, upstream_drain_expired,
		    srv);
	tv = sluice_tv(server_local(srv)->set.drain_timeout_ms);
	if (srv->drain_ev != NULL)
		evtimer_add(srv->drain_ev, &tv);
	server_unref(srv);
}

/* See upstream.h. */
void
upstream_stop_all(void)
{
	struct server	*s;

	TAILQ_FOREACH(s, server_registry(), entry) {
		probe_stop(s);
		if (s->drain_ev != NULL)
			evtimer_del(s->drain_ev);
	}
}
