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
#include "proxy/back/queue.h"
#include "proxy/back/server.h"
#include "proxy/back/upconn.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "proxy/base/worker.h"
#include "tls/tls.h"

#define UPSTREAM_WAIT_MAGIC	0x57414954u	/* "WAIT" */

/* Where a waiting request is (under its queue's lock). */
enum upstream_wait_state {
	UPSTREAM_WAITING = 0,	/* in the queue */
	UPSTREAM_GRANTED,	/* out of it; the grant is on its way */
};

/* A request waiting in a queue. */
struct upstream_wait {
	unsigned		 magic;
	struct upqueue		*q;
	struct upstream		*up;		/* picks from its servers */
	enum upstream_wait_state state;
	int			 abandoned;	/* its request ended: give
						 * the grant back */
	unsigned		 worker;	/* where it waits */
	upstream_granted_fn	*granted;
	void			*arg;
	int			 pin;		/* its sticky server; -1 */
	struct upstream_hold	 hold;		/* the grant */
	TAILQ_ENTRY(upstream_wait) entry;
};

static void	upstream_kick_queue(struct upqueue *);

/* Why upstream_pick found nothing. */
enum upstream_why {
	UPSTREAM_WHY_NONE = 0,	/* no server is usable */
	UPSTREAM_WHY_FULL,	/* every usable one is at its max_conns */
};

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
	server_slot_hook(upstream_kick_queue);
	if ((up->queue = upqueue_get(cu->name)) == NULL)
		return -1;
	for (i = 0; i < cu->nservers; i++) {
		if ((up->servers[i] = server_get(cu, &cu->servers[i])) == NULL)
			return -1;
		up->n++;
		up->limited |= cu->servers[i].max_conns > 0;
		up->backups |= cu->servers[i].backup;
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
	upqueue_unref(up->queue);
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
 * flight. Backup servers count only while no other is usable. Returns
 * how many are usable; those at their max_conns are among them, with
 * usable 0 for the balancer, and counted in *full.
 */
static size_t
upstream_peers(struct upstream *up, uint64_t now, size_t *full)
{
	struct balance_peer	*p;
	struct server		*s;
	size_t			 i, usable = 0, primaries = 0;
	int			 w, max;

	*full = 0;
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
		p->full = 0;
		usable += p->usable;
		primaries += p->usable && !up->conf->servers[i].backup;
	}
	if (!up->limited && !up->backups)
		return usable;
	for (i = 0, usable = 0; i < up->n; i++) {
		p = &up->peers[i];
		if (primaries > 0 && up->conf->servers[i].backup)
			p->usable = 0;
		if (!p->usable)
			continue;
		usable++;
		s = up->servers[i];
		max = SLUICE_LOAD(&s->max_conns);
		if (max > 0 && __atomic_load_n(&s->slots,
		    __ATOMIC_SEQ_CST) >= (unsigned)max) {
			p->usable = 0;
			p->full = 1;
			(*full)++;
		}
	}
	return usable;
}

/*
 * The pinned server i of a sticky request (up->mu held, the peers just
 * read), its slot taken: NULL when the request goes elsewhere, or with
 * *wait set when it waits for that server (at its limit, not draining).
 */
static struct server *
upstream_pinned(struct upstream *up, size_t i, uint64_t now, int *slot,
    int *wait)
{
	struct server	*s = up->servers[i];
	uint64_t	 at;
	int		 up_;

	*wait = 0;
	if (up->peers[i].usable || up->peers[i].full) {
		if (server_slot_take(s, slot))
			return s;
		*wait = 1;
		return NULL;
	}
	/* soft drain: the admin's drain or weight 0, within drain_timeout */
	if (SLUICE_LOAD(&s->state) != SERVER_ACTIVE ||
	    (!SLUICE_LOAD(&s->admin_drain) &&
	    server_weight(s, up->conf->servers[i].weight) != 0))
		return NULL;
	at = SLUICE_LOAD(&s->drained_at);
	if (now >= at + server_local(s)->set.drain_timeout_ms)
		return NULL;
	server_lock(s);
	up_ = up->n > 1 ? health_usable(&s->health, now) :
	    !s->health.checked_down;
	server_unlock(s);
	/* a sticky request never waits for a draining server */
	return up_ && server_slot_take(s, slot) ? s : NULL;
}

/*
 * Pick a server, avoiding avoid when another is usable, and take its
 * slot; *trial says whether the pick started the server's health trial,
 * *slot whether it took a slot. pin (NULL: none) is a sticky request's
 * server, -1 when it has none, set to -1 when the request goes
 * elsewhere. NULL: none, *why says why.
 */
static struct server *
upstream_pick(struct upstream *up, const struct server *avoid, int *trial,
    int *slot, enum upstream_why *why, int *pin)
{
	uint64_t	 now = sluice_now_ms();
	struct server	*s = NULL;
	size_t		 i, usable, full, tries;
	int		 k, wait;

	/*
	 * One pick at a time across workers: the balancer's state and a
	 * health trial (taken here) stay exact whatever the number of
	 * workers. Order: the upstream, then a server. A slot is taken
	 * with a compare-and-swap: another generation's upstream (another
	 * lock) may pick the same server.
	 */
	*trial = 0;
	*slot = 0;
	if (sluice_nworkers > 1)
		pthread_mutex_lock(&up->mu);
	usable = upstream_peers(up, now, &full);
	*why = usable > 0 ? UPSTREAM_WHY_FULL : UPSTREAM_WHY_NONE;
	if (pin != NULL && *pin >= 0 && (size_t)*pin < up->n) {
		if ((s = upstream_pinned(up, (size_t)*pin, now, slot,
		    &wait)) != NULL) {
			server_sticky_count(s, now);
			goto trial;
		}
		if (wait) {
			*why = UPSTREAM_WHY_FULL;
			goto out;
		}
		*pin = -1;		/* its sessions move */
	}
	for (i = 0; avoid != NULL && usable - full > 1 && i < up->n; i++)
		if (up->servers[i] == avoid && up->peers[i].usable) {
			up->peers[i].usable = 0;
			break;
		}
	for (tries = 0; tries < up->n; tries++) {
		k = balance_pick(up->conf->balance, up->peers, up->n,
		    sluice_random(), sluice_random());
		if (k == -1)
			break;
		if (server_slot_take(up->servers[k], slot)) {
			s = up->servers[k];
			break;
		}
		up->peers[k].usable = 0;
	}
trial:
	if (s != NULL) {
		server_lock(s);
		if (up->n > 1)
			*trial = health_take(&s->health, now);
		server_unlock(s);
	}
out:
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
upstream_hold(struct upstream_hold *h, struct server *s, int trial,
    int slot)
{
	h->srv = s;
	h->trial = trial;
	h->judged = 0;
	h->slot = slot;
	server_ref(s);
	SLUICE_INC(&s->inflight);
	SLUICE_INC(&s->requests);
}

/* In the waiter's worker: hand the grant over, or give it back. */
static void
upstream_wait_deliver(void *arg)
{
	struct upstream_wait	*w = arg;

	SLUICE_MAGIC_CHECK(w, UPSTREAM_WAIT_MAGIC);
	if (w->abandoned)
		upstream_drop(&w->hold);
	else
		w->granted(w->arg, &w->hold);
	w->magic = 0;
	free(w);
}

/*
 * Grant slots to the oldest waiting requests while servers have some (q
 * locked). A request whose upstream has no usable server any more is
 * told at once: it must not wait for a server that is draining or gone.
 */
static void
upstream_kick_locked(struct upqueue *q)
{
	struct upstream_wait	*w, *next;
	struct server		*s;
	enum upstream_why	 why;
	int			 trial, slot;

	for (w = TAILQ_FIRST(&q->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		s = upstream_pick(w->up, NULL, &trial, &slot, &why, &w->pin);
		/* one waiting for its sticky server lets others pass */
		if (s == NULL && why == UPSTREAM_WHY_FULL && w->pin >= 0)
			continue;
		if (s == NULL && why == UPSTREAM_WHY_FULL)
			break;
		TAILQ_REMOVE(&q->waiters, w, entry);
		__atomic_sub_fetch(&q->n, 1, __ATOMIC_SEQ_CST);
		if (s != NULL)
			upstream_hold(&w->hold, s, trial, slot);
		w->state = UPSTREAM_GRANTED;
		worker_call(w->worker, upstream_wait_deliver, w);
	}
}

/* Kick q from outside its lock, when requests wait. */
static void
upstream_kick_queue(struct upqueue *q)
{
	if (q == NULL || upqueue_depth(q) == 0)
		return;
	upqueue_lock(q);
	upstream_kick_locked(q);
	upqueue_unlock(q);
}

/* See upstream.h. */
void
upstream_kick(struct upstream *up)
{
	upstream_kick_queue(up->queue);
}

/*
 * Queue the request (the pick found every usable server at its limit,
 * or requests wait already). UPSTREAM_GOT when a slot turned up after
 * all, UPSTREAM_QUEUED, or UPSTREAM_NONE/UPSTREAM_FULL.
 */
static enum upstream_got
upstream_enqueue(struct upstream *up, struct upstream_hold *h, int pin,
    upstream_granted_fn *granted, void *arg, struct upstream_wait **wp)
{
	struct upqueue		*q = up->queue;
	struct upstream_wait	*w;
	struct server		*s;
	enum upstream_why	 why;
	int			 trial, slot;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return UPSTREAM_FULL;
	upqueue_lock(q);
	if (upqueue_depth(q) == 0) {
		/* nobody waits now: the pick may take a slot */
		s = upstream_pick(up, NULL, &trial, &slot, &why, &pin);
		if (s != NULL || why == UPSTREAM_WHY_NONE) {
			upqueue_unlock(q);
			free(w);
			if (s == NULL)
				return UPSTREAM_NONE;
			upstream_hold(h, s, trial, slot);
			return UPSTREAM_GOT;
		}
	}
	if (upqueue_depth(q) >= (unsigned)up->conf->queue) {
		upqueue_unlock(q);
		free(w);
		SLUICE_INC(&q->overflows);
		return UPSTREAM_FULL;
	}
	w->magic = UPSTREAM_WAIT_MAGIC;
	w->q = q;
	w->up = up;
	w->worker = sluice_worker_id;
	w->granted = granted;
	w->arg = arg;
	w->pin = pin;
	TAILQ_INSERT_TAIL(&q->waiters, w, entry);
	__atomic_add_fetch(&q->n, 1, __ATOMIC_SEQ_CST);
	SLUICE_INC(&q->queued);
	/*
	 * A slot freed between the pick and the count above was released
	 * by a thread that saw no waiter: look again, now that one is
	 * counted (the release lowers slots, then reads n; this raised n,
	 * and now reads slots).
	 */
	upstream_kick_locked(q);
	upqueue_unlock(q);
	*wp = w;
	return UPSTREAM_QUEUED;
}

/* See upstream.h. */
enum upstream_got
upstream_take(struct upstream *up, struct upstream_hold *h, int pin,
    upstream_granted_fn *granted, void *arg, struct upstream_wait **wp)
{
	struct server		*s;
	enum upstream_why	 why;
	int			 trial, slot;

	memset(h, 0, sizeof(*h));
	*wp = NULL;
	/* a fresh request does not pass requests that wait */
	if (!up->limited || upqueue_depth(up->queue) == 0) {
		if ((s = upstream_pick(up, NULL, &trial, &slot,
		    &why, &pin)) != NULL) {
			upstream_hold(h, s, trial, slot);
			return UPSTREAM_GOT;
		}
		if (why == UPSTREAM_WHY_NONE)
			return UPSTREAM_NONE;
	}
	return upstream_enqueue(up, h, pin, granted, arg, wp);
}

/* See upstream.h. */
int
upstream_sticky_find(const struct upstream *up, const char *v, size_t len)
{
	size_t	i;

	if (len != SERVER_STICKY_ID_LEN)
		return -1;
	for (i = 0; i < up->n; i++)
		if (memcmp(up->servers[i]->sticky_id, v, len) == 0)
			return (int)i;
	return -1;
}

/* See upstream.h. */
const char *
upstream_sticky_id(const struct upstream_hold *h)
{
	return h->srv->sticky_id;
}

/* See upstream.h. */
int
upstream_wait_cancel(struct upstream_wait *w, int abandon)
{
	struct upqueue	*q = w->q;

	SLUICE_MAGIC_CHECK(w, UPSTREAM_WAIT_MAGIC);
	upqueue_lock(q);
	if (w->state == UPSTREAM_WAITING) {
		TAILQ_REMOVE(&q->waiters, w, entry);
		__atomic_sub_fetch(&q->n, 1, __ATOMIC_SEQ_CST);
		upqueue_unlock(q);
		if (!abandon)
			SLUICE_INC(&q->timeouts);
		w->magic = 0;
		free(w);
		return 1;
	}
	if (abandon)
		w->abandoned = 1;
	upqueue_unlock(q);
	return 0;
}

/* See upstream.h. */
int
upstream_wait_move(struct upstream_wait *w, struct upstream *up)
{
	int	r = -1;

	SLUICE_MAGIC_CHECK(w, UPSTREAM_WAIT_MAGIC);
	upqueue_lock(w->q);
	if (w->state == UPSTREAM_WAITING && up->queue == w->q) {
		/* the pin is an index: the same server's in up, if listed */
		if (w->pin >= 0) {
			const struct server	*s = w->up->servers[w->pin];
			size_t			 i;

			w->pin = -1;
			for (i = 0; i < up->n; i++)
				if (up->servers[i] == s)
					w->pin = (int)i;
		}
		w->up = up;
		r = 0;
	}
	upqueue_unlock(w->q);
	return r;
}

/* See upstream.h. */
void
upstream_release(struct upstream_hold *h)
{
	struct server	*s = h->srv;

	if (s == NULL || !h->slot)
		return;
	h->slot = 0;
	server_slot_put(s);
}

/* See upstream.h. */
int
upstream_retake(struct upstream *up, struct upstream_hold *h,
    int other_only)
{
	struct server		*s;
	enum upstream_why	 why;
	int			 trial, slot;

	/* a slot of its own would make the same server look full */
	upstream_release(h);
	if ((s = upstream_pick(up, h->srv, &trial, &slot, &why,
	    NULL)) == NULL)
		return -1;
	if (other_only && s == h->srv) {
		if (trial)		/* the pick started it: give it back */
			upstream_untake(s);
		if (slot)
			server_slot_put(s);
		return -1;
	}
	upstream_drop(h);
	upstream_hold(h, s, trial, slot);
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
	/* the last usable server out: the waiting requests must know */
	if (!ok)
		upstream_kick_queue(up->queue);
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
	upstream_release(h);
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
	if (!SLUICE_LOAD(&srv->admin_drain))
		SLUICE_STORE(&srv->drained_at, sluice_now_ms());
	SLUICE_STORE(&srv->admin_drain, 1);
	upconn_close_idle_all(srv);
	upstream_kick_queue(srv->queue);
}

/* See upstream.h. */
void
upstream_server_enable(struct server *srv)
{
	SLUICE_STORE(&srv->admin_drain, 0);
	upstream_kick_queue(srv->queue);
}

/* See upstream.h. */
void
upstream_server_weight(struct server *srv, int weight)
{
	if (weight == 0 && SLUICE_LOAD(&srv->weight_override) != 0 &&
	    !SLUICE_LOAD(&srv->admin_drain))
		SLUICE_STORE(&srv->drained_at, sluice_now_ms());
	SLUICE_STORE(&srv->weight_override, weight);
	upstream_kick_queue(srv->queue);
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
	upstream_kick_queue(srv->queue);
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
