/*
 * upstream: the server registry and server lifetimes.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "proxy/log.h"
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
	return 0;
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
	struct tls_client	*old = s->set.tls;

	if (server_settings_load(s, up, cs, tls) == -1)
		return -1;
	/* connections set up under the old TLS settings are not reused */
	if (old != NULL || tls != NULL) {
		s->set.epoch++;
		upconn_close_idle(s);
	}
	if (s->drain_ev != NULL)
		evtimer_del(s->drain_ev);
	server_set_state(s, SERVER_ACTIVE);
	return 0;
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
	s->magic = 0;
	free(s->upstream);
	free(s->name);
	free(s->addrtext);
	free(s->set.tls_name);
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
		upconn_close_idle(s);
		server_unref(s);
	}
}
