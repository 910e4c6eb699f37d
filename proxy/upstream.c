/*
 * upstream: the server registry and server lifetimes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/probe.h"
#include "proxy/sluice.h"
#include "proxy/upconn.h"
#include "proxy/upstream.h"
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
server_check_path(struct server *s, const char *path)
{
	char	*copy = NULL;

	if (path != NULL && (copy = strdup(path)) == NULL)
		return -1;
	free(s->set.check_path);
	s->set.check_path = copy;
	return 0;
}

/* Copy an upstream's settings into a server. -1 when out of memory. */
static int
server_settings_load(struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls)
{
	char	*name = NULL;

	if (tls != NULL &&
	    (name = strdup(tls_client_server_name(up, cs))) == NULL)
		return -1;
	free(s->set.tls_name);
	s->set.tls_name = name;
	s->set.tls = tls;
	s->set.connect_timeout = sluice_tv(up->connect_timeout_ms);
	s->set.read_timeout = sluice_tv(up->read_timeout_ms);
	s->set.write_timeout = sluice_tv(up->write_timeout_ms);
	s->set.keepalive_timeout = sluice_tv(up->keepalive_timeout_ms);
	s->set.drain_timeout_ms = up->drain_timeout_ms;
	s->set.keepalive = up->keepalive;
	s->set.health.max_fails = up->max_fails;
	s->set.health.fail_timeout_ms = up->fail_timeout_ms;
	s->set.health.rise = up->health_rise;
	s->set.health.fall = up->health_fall;
	s->set.health.slow_start_ms = up->slow_start_ms;
	s->set.fail_on_5xx = up->fail_on_5xx;
	s->set.check_interval = sluice_tv(up->health_interval_ms);
	s->set.check_timeout_ms = up->health_timeout_ms;
	s->set.check_status_min = up->health_status_min;
	s->set.check_status_max = up->health_status_max;
	s->set.tunnel_timeout = sluice_tv(up->tunnel_timeout_ms);
	return server_check_path(s, up->health_check);
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

/* Allocate a new server for cs; NULL when out of memory. */
static struct server *
server_new(const struct conf_upstream *up, const struct conf_server *cs)
{
	struct server	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->magic = SERVER_MAGIC;
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
	memcpy(&s->ss, &cs->addr.ss, cs->addr.sslen);
	s->sslen = cs->addr.sslen;
	TAILQ_INIT(&s->idle);
	TAILQ_INIT(&s->busy);
	TAILQ_INSERT_TAIL(&registry, s, entry);
	log_debug("server %s/%s (%s): created", s->upstream, s->name,
	    s->addrtext);
	return s;
}

/* Find or create a server by identity; see upstream.h. */
struct server *
server_get(const struct conf_upstream *up, const struct conf_server *cs)
{
	struct server	*s;

	TAILQ_FOREACH(s, &registry, entry)
		if (server_matches(s, up, cs))
			break;
	if (s == NULL) {
		if ((s = server_new(up, cs)) == NULL)
			return NULL;
		/* not reachable before its generation is current */
		server_settings_load(s, up, cs, NULL);
	}
	s->refs++;
	return s;
}

/* See upstream.h. */
int
server_apply(struct server *s, const struct conf_upstream *up,
    const struct conf_server *cs, struct tls_client *tls)
{
	char	*sig;

	if (server_tls_signature(up, cs, tls, &sig) == -1)
		return -1;
	if (server_settings_load(s, up, cs, tls) == -1) {
		free(sig);
		return -1;
	}
	/* connections set up under other TLS settings are not reused */
	if ((sig == NULL) != (s->set.tls_sig == NULL) ||
	    (sig != NULL && strcmp(sig, s->set.tls_sig) != 0)) {
		s->set.epoch++;
		upconn_close_idle(s);
	}
	free(s->set.tls_sig);
	s->set.tls_sig = sig;
	if (s->drain_ev != NULL)
		evtimer_del(s->drain_ev);
	server_set_state(s, SERVER_ACTIVE);
	probe_schedule(s);
	return 0;
}

/* See upstream.h. */
int
server_up(const struct server *s, uint64_t now)
{
	return health_up(&s->health, now);
}

/* See upstream.h. */
int
server_usable(const struct server *s, uint64_t now, int passive)
{
	if (s->state != SERVER_ACTIVE || s->admin_drain)
		return 0;
	return passive ? health_usable(&s->health, now) :
	    !s->health.checked_down;
}

/* Log a health transition once, and count it. */
static void
server_health_changed(struct server *s, enum health_change c,
    const char *why)
{
	if (c == HEALTH_SAME)
		return;
	if (c == HEALTH_WENT_DOWN)
		log_warn("server %s/%s: down (%s)", s->upstream, s->name, why);
	else
		log_info("server %s/%s: up (%s)", s->upstream, s->name, why);
	metrics_health(s->upstream, s->name, c == HEALTH_WENT_UP);
}

/* See upstream.h. */
void
server_passive(struct server *s, int ok, int trial)
{
	enum health_change	c;

	c = health_passive(&s->health, &s->set.health, ok, trial,
	    sluice_now_ms());
	server_health_changed(s, c, ok ? "a trial request succeeded" :
	    "too many failed requests");
}

/* See upstream.h. */
void
server_checked(struct server *s, int ok, const char *why)
{
	enum health_change	c;

	c = health_check(&s->health, &s->set.health, ok, sluice_now_ms());
	server_health_changed(s, c, why);
}

/* Take a reference. */
void
server_ref(struct server *s)
{
	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	s->refs++;
}

/* Free a server nothing refers to any more. */
static void
server_free(struct server *s)
{
	log_debug("server %s/%s: freed", s->upstream, s->name);
	TAILQ_REMOVE(&registry, s, entry);
	if (s->drain_ev != NULL)
		event_free(s->drain_ev);
	probe_stop(s);
	s->magic = 0;
	free(s->upstream);
	free(s->name);
	free(s->addrtext);
	free(s->set.tls_name);
	free(s->set.tls_sig);
	free(s->set.check_path);
	free(s);
}

/* Drop a reference; the last one frees the server. */
void
server_unref(struct server *s)
{
	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	if (--s->refs == 0)
		server_free(s);
}

/* Set the admin state. Draining closes the idle pool at once. */
void
server_set_state(struct server *s, enum server_state st)
{
	if (s->state == st)
		return;
	log_debug("server %s/%s: %s -> %s", s->upstream, s->name,
	    server_state_name(s->state), server_state_name(st));
	s->state = st;
	if (st == SERVER_DRAINING) {
		server_ref(s);
		probe_stop(s);
		upconn_close_idle(s);
		server_unref(s);
	}
}
