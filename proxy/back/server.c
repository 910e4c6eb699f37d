/*
 * server: the server registry and server lifetimes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/base/runtime.h"
#include "proxy/back/queue.h"
#include "proxy/back/server.h"
#include "proxy/base/worker.h"
#include "tls/tls.h"

static struct server_list registry = TAILQ_HEAD_INITIALIZER(registry);

/* The registry of live servers. */
struct server_list *
server_registry(void)
{
	return &registry;
}

/* A state's name for logs and status. */
const char *
server_state_name(enum server_state s)
{
	return s == SERVER_ACTIVE ? "active" : "draining";
}

/*
 * What a TLS connection to s was set up with, as text; NULL for plain TCP.
 * Pooled connections survive a reload only when it is unchanged.
 */
static int
server_tls_signature(const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls, char **sig)
{
	*sig = NULL;
	if (tls == NULL)
		return 0;
	return asprintf(sig, "%d|%s|%s|%s|%s", up->tls_verify,
	    up->tls_ca != NULL ? up->tls_ca : "",
	    tls_client_server_name(up, cs),
	    up->tls_client_cert.cert != NULL ? up->tls_client_cert.cert : "",
	    up->tls_client_cert.key != NULL ? up->tls_client_cert.key : "") ==
	    -1 ? -1 : 0;
}

/* Set the active health check path (NULL: none). -1 when out of memory. */
static int
server_check_path(struct server_settings *set, const char *path)
{
	char	*copy = NULL;

	if (path != NULL && (copy = strdup(path)) == NULL)
		return -1;
	free(set->check_path);
	set->check_path = copy;
	return 0;
}

/* Copy an upstream's settings into set. -1 when out of memory. */
static int
server_settings_load(struct server_settings *set,
    const struct conf_upstream *up, const struct conf_server *cs,
    struct tls_client *tls)
{
	char	*name = NULL;

	if (tls != NULL &&
	    (name = strdup(tls_client_server_name(up, cs))) == NULL)
		return -1;
	free(set->tls_name);
	set->tls_name = name;
	set->tls = tls;
	set->connect_timeout = sluice_tv(up->connect_timeout_ms);
	set->read_timeout = sluice_tv(up->read_timeout_ms);
	set->write_timeout = sluice_tv(up->write_timeout_ms);
	set->keepalive_timeout = sluice_tv(up->keepalive_timeout_ms);
	set->drain_timeout_ms = up->drain_timeout_ms;
	set->keepalive = up->keepalive;
	set->health.max_fails = up->max_fails;
	set->health.fail_timeout_ms = up->fail_timeout_ms;
	set->health.rise = up->health_rise;
	set->health.fall = up->health_fall;
	set->health.slow_start_ms = up->slow_start_ms;
	set->health.max_ejected_pct = up->max_ejected_pct;
	set->fail_on_5xx = up->fail_on_5xx;
	set->fail_on_invalid = up->fail_on_invalid;
	set->check_interval = sluice_tv(up->health_interval_ms);
	set->check_timeout_ms = up->health_timeout_ms;
	set->check_status_min = up->health_status_min;
	set->check_status_max = up->health_status_max;
	set->tunnel_timeout = sluice_tv(up->tunnel_timeout_ms);
	set->allow_truncation = up->tls_allow_truncation;
	set->max_head = (size_t)up->max_response_header_size;
	set->max_headers = (size_t)up->max_response_headers;
	set->max_interim = (unsigned)up->max_interim_responses;
	set->max_chunk_ext = (size_t)up->max_chunk_extension;
	return server_check_path(set, up->health_check);
}

/* 1 when s is the server cs of upstream up (same name and address). */
static int
server_matches(const struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs)
{
	return strcmp(s->upstream, up->name) == 0 &&
	    strcmp(s->name, cs->name) == 0 && s->sslen == cs->addr.sslen &&
	    memcmp(&s->ss, &cs->addr.ss, s->sslen) == 0;
}

/*
 * The value of s's sticky cookie: FNV-1a (64 bits) of the upstream's and
 * the server's names, in hex. Never the address; the same in every
 * worker, after a reload and after a restart.
 */
static void
server_sticky_id(struct server *s)
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 h = 0xcbf29ce484222325ULL;
	const char		*p;
	int			 i;

	for (p = s->upstream; ; p++) {
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		if (*p == '\0')
			break;
	}
	for (p = s->name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (i = SERVER_STICKY_ID_LEN - 1; i >= 0; i--, h >>= 4)
		s->sticky_id[i] = hex[h & 0xf];
	s->sticky_id[SERVER_STICKY_ID_LEN] = '\0';
}

/* Allocate a new server for cs; NULL when out of memory. */
static struct server *
server_new(const struct conf_upstream *up, const struct conf_server *cs)
{
	struct server	*s;
	unsigned	 i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->magic = SERVER_MAGIC;
	s->weight_override = SERVER_WEIGHT_CONF;
	s->conf_weight = cs->weight;
	s->max_conns = cs->max_conns;
	s->upstream = strdup(up->name);
	s->name = strdup(cs->name);
	s->addrtext = strdup(cs->addr.text);
	if (s->upstream == NULL || s->name == NULL || s->addrtext == NULL) {
		free(s->upstream);
		free(s->name);
		free(s->addrtext);
		free(s);
		return NULL;
	}
	if ((s->local = calloc(sluice_nworkers, sizeof(*s->local))) == NULL ||
	    (s->queue = upqueue_get(up->name)) == NULL ||
	    pthread_mutex_init(&s->mu, NULL) != 0) {
		upqueue_unref(s->queue);
		free(s->local);
		free(s->upstream);
		free(s->name);
		free(s->addrtext);
		free(s);
		return NULL;
	}
	for (i = 0; i < sluice_nworkers; i++) {
		TAILQ_INIT(&s->local[i].idle);
		TAILQ_INIT(&s->local[i].busy);
		/* not reachable before its generation is current */
		server_settings_load(&s->local[i].set, up, cs, NULL);
	}
	memcpy(&s->ss, &cs->addr.ss, cs->addr.sslen);
	s->sslen = cs->addr.sslen;
	server_sticky_id(s);
	s->learn_safe_ms = idleclose_safe_ms(&s->learn);
	TAILQ_INSERT_TAIL(&registry, s, entry);
	log_debug("server %s/%s (%s): created", s->upstream, s->name,
	    s->addrtext);
	return s;
}

/* Find or create a server by identity; see server.h. */
struct server *
server_get(const struct conf_upstream *up, const struct conf_server *cs)
{
	struct server	*s;

	TAILQ_FOREACH(s, &registry, entry)
		if (server_matches(s, up, cs))
			break;
	if (s == NULL && (s = server_new(up, cs)) == NULL)
		return NULL;
	SLUICE_INC(&s->refs);
	return s;
}

/*
 * This thread's copy of the settings becomes up's. -1 when out of memory
 * (settings unchanged), 1 when connections made before may no longer be
 * reused (they were set up under other TLS settings), else 0.
 */
static int
server_apply_settings(struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls)
{
	struct server_settings	*set = &server_local(s)->set;
	char			*sig;
	int			 moved = 0;

	if (server_tls_signature(up, cs, tls, &sig) == -1)
		return -1;
	if (server_settings_load(set, up, cs, tls) == -1) {
		free(sig);
		return -1;
	}
	if ((sig == NULL) != (set->tls_sig == NULL) ||
	    (sig != NULL && strcmp(sig, set->tls_sig) != 0)) {
		set->epoch++;
		moved = 1;
	}
	free(set->tls_sig);
	set->tls_sig = sig;
	return moved;
}

/* See server.h. */
int
server_apply(struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls)
{
	int	r;

	if ((r = server_apply_settings(s, up, cs, tls)) == -1)
		return -1;
	s->conf_weight = cs->weight;
	SLUICE_STORE(&s->max_conns, cs->max_conns);
	if (s->drain_ev != NULL)
		evtimer_del(s->drain_ev);
	server_set_state(s, SERVER_ACTIVE);
	return r;
}

/* See server.h. */
int
server_apply_local(struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls)
{
	int	r;

	if ((r = server_apply_settings(s, up, cs, tls)) == -1)
		log_error("server %s/%s: out of memory applying its settings",
		    s->upstream, s->name);
	return r;
}

/* See server.h. */
void
server_conns(const struct server *s, unsigned *idle, unsigned *busy)
{
	unsigned	i;

	*idle = *busy = 0;
	for (i = 0; i < sluice_nworkers; i++) {
		*idle += SLUICE_LOAD(&s->local[i].nidle);
		*busy += SLUICE_LOAD(&s->local[i].nbusy);
	}
}

/* Publish s->learn for the pools (s->mu held) and log a change. */
static void
server_idle_changed(struct server *s, enum idleclose_change c,
    uint64_t idle_ms, uint64_t now)
{
	uint64_t	close_ms = s->learn.close_ms;

	SLUICE_STORE(&s->learn_close_ms, close_ms);
	SLUICE_STORE(&s->learn_close_at, s->learn.close_at);
	SLUICE_STORE(&s->learn_alive_ms, s->learn.alive_ms);
	SLUICE_STORE(&s->learn_safe_ms, idleclose_safe_ms(&s->learn));
	if (c == IDLECLOSE_LEARNED)
		log_info("server %s/%s: closes idle connections after about "
		    "%llu ms; pooled ones retire at %llu ms", s->upstream,
		    s->name, (unsigned long long)close_ms,
		    (unsigned long long)idleclose_retire_ms(&s->learn, now));
	else if (c == IDLECLOSE_FORGOT)
		log_info("server %s/%s: kept a connection open for %llu ms; "
		    "learning its idle timeout again", s->upstream, s->name,
		    (unsigned long long)idle_ms);
}

/* See server.h. */
void
server_idle_closed(struct server *s, uint64_t idle_ms)
{
	uint64_t		now = sluice_now_ms();
	enum idleclose_change	c;

	server_lock(s);
	c = idleclose_closed(&s->learn, idle_ms, now);
	server_idle_changed(s, c, idle_ms, now);
	server_unlock(s);
}

/* See server.h. A reuse no longer than one seen before tells nothing
 * new, and takes no lock. */
void
server_idle_alive(struct server *s, uint64_t idle_ms)
{
	uint64_t		now = sluice_now_ms();
	enum idleclose_change	c;

	if (idle_ms <= SLUICE_LOAD(&s->learn_alive_ms))
		return;
	server_lock(s);
	c = idleclose_alive(&s->learn, idle_ms, now);
	server_idle_changed(s, c, idle_ms, now);
	server_unlock(s);
}

/* See server.h. */
uint64_t
server_idle_retire_ms(const struct server *s, uint64_t now)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	k.close_ms = SLUICE_LOAD(&s->learn_close_ms);
	k.close_at = SLUICE_LOAD(&s->learn_close_at);
	return idleclose_retire_ms(&k, now);
}

/* See server.h. */
uint64_t
server_idle_safe_ms(const struct server *s)
{
	return SLUICE_LOAD(&s->learn_safe_ms);
}

/* See server.h. */
uint64_t
server_idle_timeout_ms(const struct server *s)
{
	return SLUICE_LOAD(&s->learn_close_ms);
}

/* See server.h. */
int
server_up(const struct server *s, uint64_t now)
{
	return health_up(&s->health, now);
}

/* See server.h. */
int
server_usable(const struct server *s, uint64_t now, int passive)
{
	if (SLUICE_LOAD(&s->state) != SERVER_ACTIVE ||
	    SLUICE_LOAD(&s->admin_drain))
		return 0;
	return passive ? health_usable(&s->health, now) :
	    !s->health.checked_down;
}

/* The door's grant of free slots to the queue (server_slot_hook). */
static void	(*server_slot_freed)(struct upqueue *);

/*
 * Log a health transition once, and count it. A server back in service
 * has free slots: the requests waiting for its upstream may take them.
 */
static void
server_health_changed(struct server *s, enum health_change c,
    const char *why)
{
	if (c == HEALTH_SAME || c == HEALTH_HELD)
		return;
	if (c == HEALTH_WENT_DOWN)
		log_warn("server %s/%s: down (%s)", s->upstream, s->name, why);
	else
		log_info("server %s/%s: up (%s)", s->upstream, s->name, why);
	metrics_health(s->upstream, s->name, c == HEALTH_WENT_UP);
	if (c == HEALTH_WENT_UP && server_slot_freed != NULL &&
	    upqueue_depth(s->queue) > 0)
		server_slot_freed(s->queue);
}

/*
 * Failures would take s out, but as many servers as max_ejected allows
 * already are: it stays in. Counted each time; logged at most once per
 * fail_timeout (a failing server fails every request it gets).
 */
static void
server_held(struct server *s, size_t npeers, uint64_t now)
{
	const struct health_conf	*hc = &server_local(s)->set.health;
	uint64_t			 last = SLUICE_LOAD(&s->held_logged);

	SLUICE_INC(&s->held);
	if (last != 0 && now - last < hc->fail_timeout_ms)
		return;
	SLUICE_STORE(&s->held_logged, now);
	log_warn("server %s/%s: too many failed requests, but kept in "
	    "service: max_ejected (%d%% of %zu servers) are out already",
	    s->upstream, s->name, hc->max_ejected_pct, npeers);
}

/*
 * Passive verdicts that could take a server out are decided one at a
 * time across workers, so that two failing servers cannot both be taken
 * out past max_ejected. Order: this lock, then a server's.
 */
static pthread_mutex_t	server_eject_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * How many of peers other than s take no new request now: out by health
 * (passive or active), draining, drained or at weight 0 by the admin.
 * Taking s out too must not leave the upstream with nothing.
 */
static size_t
server_peers_down(const struct server *s, struct server *const *peers,
    size_t n, uint64_t now)
{
	const struct server	*p;
	size_t			 i, down = 0;
	int			 up;

	for (i = 0; i < n; i++) {
		if ((p = peers[i]) == s)
			continue;
		server_lock(peers[i]);
		up = health_up(&p->health, now);
		server_unlock(peers[i]);
		down += !up || SLUICE_LOAD(&p->state) != SERVER_ACTIVE ||
		    SLUICE_LOAD(&p->admin_drain) ||
		    SLUICE_LOAD(&p->weight_override) == 0;
	}
	return down;
}

/* See server.h. */
void
server_passive(struct server *s, int ok, int trial,
    struct server *const *peers, size_t npeers)
{
	const struct server_settings	*set = &server_local(s)->set;
	uint64_t			 now = sluice_now_ms();
	enum health_change		 c;
	int				 may = 1, threads = sluice_nworkers > 1;

	if (!ok && threads)
		pthread_mutex_lock(&server_eject_mu);
	if (!ok)
		may = health_may_eject(server_peers_down(s, peers, npeers,
		    now), npeers, set->health.max_ejected_pct);
	server_lock(s);
	c = health_passive(&s->health, &set->health, ok, trial, may, now);
	server_unlock(s);
	if (!ok && threads)
		pthread_mutex_unlock(&server_eject_mu);
	if (c == HEALTH_HELD) {
		server_held(s, npeers, now);
		return;
	}
	server_health_changed(s, c, ok ? "a trial request succeeded" :
	    "too many failed requests");
}

/* See server.h. */
int
server_slot_take(struct server *s, int *slot)
{
	unsigned	v;
	int		max = SLUICE_LOAD(&s->max_conns);

	*slot = 0;
	if (max <= 0)
		return 1;
	v = __atomic_load_n(&s->slots, __ATOMIC_SEQ_CST);
	do {
		if (v >= (unsigned)max)
			return 0;
	} while (!__atomic_compare_exchange_n(&s->slots, &v, v + 1, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	*slot = 1;
	return 1;
}

/* See server.h. */
void
server_slot_put(struct server *s)
{
	/* lower slots, then read the depth: see upstream_enqueue */
	__atomic_sub_fetch(&s->slots, 1, __ATOMIC_SEQ_CST);
	if (upqueue_depth(s->queue) > 0 && server_slot_freed != NULL)
		server_slot_freed(s->queue);
}

/* See server.h. */
void
server_slot_hook(void (*fn)(struct upqueue *))
{
	server_slot_freed = fn;
}

/* See server.h. */
void
server_sticky_count(struct server *s, uint64_t now)
{
	uint64_t	sec = now / 1000;
	unsigned	i = (unsigned)(sec % SERVER_STICKY_SECS);

	SLUICE_INC(&s->sticky_requests);
	server_lock(s);
	if (s->sticky_sec[i] != sec) {
		s->sticky_sec[i] = sec;
		s->sticky_count[i] = 0;
	}
	s->sticky_count[i]++;
	server_unlock(s);
}

/* See server.h. */
uint64_t
server_sticky_recent(struct server *s, uint64_t now)
{
	uint64_t	sec = now / 1000, n = 0;
	unsigned	i;

	server_lock(s);
	for (i = 0; i < SERVER_STICKY_SECS; i++)
		if (s->sticky_sec[i] + SERVER_STICKY_SECS > sec &&
		    s->sticky_sec[i] <= sec)
			n += s->sticky_count[i];
	server_unlock(s);
	return n;
}

/* See server.h. */
void
server_checked(struct server *s, int ok, const char *why)
{
	enum health_change	c;

	server_lock(s);
	c = health_check(&s->health, &server_local(s)->set.health, ok,
	    sluice_now_ms());
	server_unlock(s);
	server_health_changed(s, c, why);
}

/* Take a reference. */
void
server_ref(struct server *s)
{
	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	SLUICE_INC(&s->refs);
}

/* Free a server nothing refers to any more. */
static void
server_free(struct server *s)
{
	unsigned	i;

	log_debug("server %s/%s: freed", s->upstream, s->name);
	TAILQ_REMOVE(&registry, s, entry);
	if (s->drain_ev != NULL)
		event_free(s->drain_ev);
	/* a check in progress holds a reference: only its timer is left */
	if (s->check_ev != NULL)
		event_free(s->check_ev);
	s->magic = 0;
	upqueue_unref(s->queue);
	free(s->upstream);
	free(s->name);
	free(s->addrtext);
	for (i = 0; i < sluice_nworkers; i++) {
		free(s->local[i].set.tls_name);
		free(s->local[i].set.tls_sig);
		free(s->local[i].set.check_path);
	}
	free(s->local);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/*
 * Free the servers whose last reference a worker dropped. Only the main
 * thread can give one a reference again (a reload lists it again), so a
 * count still at zero here is final.
 */
static void
server_sweep(void *arg)
{
	struct server	*s, *next;

	for (s = TAILQ_FIRST(&registry); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (SLUICE_LOAD(&s->refs) == 0)
			server_free(s);
	}
}

/* Drop a reference; the last one frees the server. */
void
server_unref(struct server *s)
{
	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	if (SLUICE_UNREF(&s->refs) != 0)
		return;
	if (sluice_worker_id == 0)
		server_free(s);
	else
		worker_call(0, server_sweep, NULL);
}

/* Set the state; logs "old -> new" at debug level. */
void
server_set_state(struct server *s, enum server_state st)
{
	if (s->state == st)
		return;
	log_debug("server %s/%s: %s -> %s", s->upstream, s->name,
	    server_state_name(s->state), server_state_name(st));
	SLUICE_STORE(&s->state, st);
}
