/*
 * reload: the reload transaction. Read, parse, check, build the
 * generation, open new listeners (and the admin listener), then swap one
 * pointer: every worker takes the generation before the reload reports
 * success. Any failure before the swap changes nothing. After it, removed
 * listeners retire (freed once their last client connection closes) and
 * removed servers drain.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf/conf.h"
#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/back/server.h"
#include "proxy/back/upconn.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/base/runtime.h"
#include "proxy/base/worker.h"
#include "proxy/ctl/admin.h"
#include "proxy/ctl/notify.h"
#include "proxy/ctl/process.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/inherit.h"
#include "proxy/front/listener.h"
#include "proxy/front/nulscan.h"
#include "proxy/ctl/reload.h"
#include "tls/tls.h"

static const struct admin_hooks reload_admin_hooks = {
	process_admin_info, reload_run,
};

/* The open listener on addr, or NULL. */
static struct listener *
reload_listener_find(const struct conf_addr *addr)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &process.listeners, entry)
		if (l->addr.sslen == addr->sslen &&
		    memcmp(&l->addr.ss, &addr->ss, addr->sslen) == 0)
			return l;
	return NULL;
}

/* Close and free listeners opened for a reload that failed. */
static void
reload_listeners_discard(struct listener_list *opened)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(opened)) != NULL) {
		TAILQ_REMOVE(opened, l, entry);
		listener_free(l);
	}
}

/*
 * Open the listeners of g that are not open yet, into *opened. -1 (with
 * *errors set and every listener opened here closed again) when one cannot
 * be opened.
 */
static int
reload_listeners_open(struct gen *g, struct listener_list *opened,
    char **errors)
{
	struct listener	*l;
	char		*err;
	size_t		 i;

	for (i = 0; i < g->nlsts; i++) {
		if (reload_listener_find(&g->lsts[i].conf->listen) != NULL)
			continue;
		if ((l = listener_open(g->lsts[i].conf, &err)) == NULL) {
			*errors = err != NULL ? err : strdup("out of memory");
			reload_listeners_discard(opened);
			return -1;
		}
		TAILQ_INSERT_TAIL(opened, l, entry);
	}
	return 0;
}

/* A removed server's drain_timeout passed: end what still runs on it. */
static void
reload_drain_expired(struct server *s)
{
	log_warn("server %s/%s: drain_timeout passed with %u exchange(s) "
	    "in flight; ending them", s->upstream, s->name,
	    SLUICE_LOAD(&s->inflight));
	server_ref(s);
	exchange_kill_server(s, EXCHANGE_WHO_DRAIN);
	server_unref(s);
}

/* Servers of old that g no longer lists drain. */
static void
reload_servers_drain(struct gen *old, struct gen *g)
{
	size_t		i, j;

	for (i = 0; i < old->nups; i++)
		for (j = 0; j < old->ups[i].n; j++) {
			struct server	*s = old->ups[i].servers[j];

			if (gen_has_server(g, s) ||
			    SLUICE_LOAD(&s->state) != SERVER_ACTIVE)
				continue;
			log_info("server %s/%s: removed; draining %u "
			    "exchange(s)", s->upstream, s->name,
			    SLUICE_LOAD(&s->inflight));
			upstream_server_remove(s, reload_drain_expired);
		}
}

/* In a worker: take g (settings first, then routing). */
static void
reload_worker_gen(void *arg)
{
	struct gen	*g = arg;

	gen_activate_local(g);
	listener_set_gen(g);
	exchange_requeue(g);
}

/*
 * Point every worker at g; start the listeners g opened; close those g
 * does not list.
 */
static void
reload_swap(struct gen *g, struct listener_list *opened)
{
	struct listener		*l, *next;
	struct gen		*old = process.current;
	size_t			 i;

	/*
	 * Every worker has switched when the reload reports success: a
	 * request sent after "reload: generation N" (or after POST /reload
	 * answered) is routed by N, whichever worker takes it.
	 */
	listener_set_gen(g);
	exchange_requeue(g);
	worker_each_sync(reload_worker_gen, g);
	while ((l = TAILQ_FIRST(opened)) != NULL) {
		TAILQ_REMOVE(opened, l, entry);
		TAILQ_INSERT_TAIL(&process.listeners, l, entry);
		listener_serve(l);
	}
	for (l = TAILQ_FIRST(&process.listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (gen_listener_find(g, &l->addr) != NULL)
			continue;
		/* its connections stay with it; the socket closes */
		listener_close(l);
		TAILQ_REMOVE(&process.listeners, l, entry);
		TAILQ_INSERT_TAIL(&process.retired, l, entry);
		SLUICE_INC(&process.nretired);
		if (process.retire_ev != NULL)
			event_active(process.retire_ev, EV_TIMEOUT, 0);
	}
	process.current = g;
	if (old != NULL) {
		reload_servers_drain(old, g);
		gen_unref(old);
	}
	/* the waiting requests now wait for g's servers: some may be free */
	for (i = 0; i < g->nups; i++)
		upstream_kick(&g->ups[i]);
}

/* Remember the outcome of a reload for /status. */
static void
reload_record(int ok, const char *errors)
{
	process.last_reload = time(NULL);
	process.last_reload_ok = ok;
	free(process.last_reload_errors);
	process.last_reload_errors = strdup(errors != NULL ? errors : "");
}

/*
 * Open the admin listener g asks for, unless it is already open. 0 with
 * *fresh set to the new one (or NULL), or -1 with the error recorded.
 */
static int
reload_admin_open(struct gen *g, struct admin **fresh, char **errors)
{
	const struct conf_admin	*ca = &g->conf->admin;
	char			*err;

	*fresh = NULL;
	if (!ca->enabled || (process.admin != NULL &&
	    admin_is_on(process.admin, &ca->listen)))
		return 0;
	if ((*fresh = admin_open(&ca->listen, &reload_admin_hooks,
	    &err)) != NULL)
		return 0;
	*errors = err != NULL ? err : strdup("process.admin: out of memory");
	return -1;
}

/* Swap in the admin listener g asks for. */
static void
reload_admin_swap(struct gen *g, struct admin *fresh)
{
	if (fresh != NULL || !g->conf->admin.enabled) {
		/* we may be in its callback */
		admin_free_later(process.admin);
		process.admin = fresh;
	}
}

/* Build a generation from conf and open what it needs. NULL on failure. */
static struct gen *
reload_build(struct conf *conf, struct listener_list *opened,
    struct admin **fresh, char **errors)
{
	struct gen	*g;

	if ((g = gen_new(conf, process.gen_id + 1, errors)) == NULL)
		return NULL;
	if (reload_listeners_open(g, opened, errors) == -1) {
		gen_unref(g);
		return NULL;
	}
	if (reload_admin_open(g, fresh, errors) == -1) {
		reload_listeners_discard(opened);
		gen_unref(g);
		return NULL;
	}
	return g;
}

/* See reload.h. */
void
reload_tickets_cb(evutil_socket_t fd, short what, void *arg)
{
	if (tls_tickets_rotate() == -1)
		log_error("tls: the random generator failed; the session-"
		    "ticket keys were not rotated");
	else
		log_debug("tls: session-ticket keys rotated (%llu)",
		    (unsigned long long)tls_tickets_rotations());
}

/*
 * (Re)arm the rotation of the session-ticket keys for ms. A reload that
 * keeps the interval keeps the timer: reloading does not put the next
 * rotation off.
 */
static void
reload_tickets_arm(uint64_t ms)
{
	struct timeval	 tv;

	if (process.tickets_ev == NULL || ms == process.tickets_ms)
		return;
	tv = sluice_tv(ms);
	if (event_add(process.tickets_ev, &tv) == -1) {
		log_error("tls: cannot arm the session-ticket key rotation");
		return;
	}
	process.tickets_ms = ms;
}

/*
 * Load and apply the configuration. 0, or -1 with nothing changed and
 * *errors set to a malloc'd text of one line per error.
 */
int
reload_load(char **errors)
{
	struct listener_list	 opened = TAILQ_HEAD_INITIALIZER(opened);
	struct conf		*conf;
	struct gen		*g;
	struct admin		*fresh;

	*errors = NULL;
	if ((conf = conf_load_file(process.conf_path, errors)) == NULL)
		return -1;
	if (process.current != NULL && log_open(&conf->global) == -1) {
		conf_free(conf);
		*errors = strdup("cannot open the log files");
		return -1;
	}
	if (process.current != NULL && process_workers(conf) != sluice_nworkers)
		log_warn("workers: %u worker(s) serve until the next start or "
		    "binary upgrade (SIGUSR2); the setting is read at start",
		    sluice_nworkers);
	if ((g = reload_build(conf, &opened, &fresh, errors)) == NULL)
		return -1;
	process.gen_id++;
	if (gen_activate(g) == -1)
		log_error("out of memory applying server settings");
	reload_swap(g, &opened);
	reload_admin_swap(g, fresh);
	reload_tickets_arm(g->conf->global.tls_ticket_rotation_ms);
	return 0;
}

/* Reload as a transaction (SIGHUP, POST /reload). 0, or -1 on failure. */
int
reload_run(void)
{
	uint64_t	 t0 = sluice_now_ms();
	char		*errors = NULL;
	int		 r;

	if (process.state != PROCESS_RUNNING) {
		log_warn("reload ignored: shutting down");
		reload_record(0, "reload refused: shutting down");
		process.reloads_failed++;
		return -1;
	}
	log_info("reload: reading %s", process.conf_path);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    notify_monotonic_usec());
	r = reload_load(&errors);
	process_notify_status();
	if (r == -1) {
		process.reloads_failed++;
		process_log_lines("", errors);
		log_error("reload failed; still serving generation %llu",
		    (unsigned long long)process.gen_id);
		reload_record(0, errors);
		free(errors);
		return -1;
	}
	process.reloads_ok++;
	reload_record(1, NULL);
	log_info("reload: generation %llu in %llu ms",
	    (unsigned long long)process.gen_id,
	    (unsigned long long)(sluice_now_ms() - t0));
	return 0;
}

/* 1 when a client connection of l is still open, in any worker. */
static int
reload_listener_busy(const struct listener *l)
{
	return SLUICE_LOAD(&l->nclients) > 0;
}

/*
 * Free the listeners a reload removed once their last client connection
 * has closed (from the loop, never under evhttp's own callbacks).
 */
void
reload_retire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l, *next;

	for (l = TAILQ_FIRST(&process.retired); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (!listener_closed(l) || reload_listener_busy(l))
			continue;
		TAILQ_REMOVE(&process.retired, l, entry);
		SLUICE_DEC(&process.nretired);
		listener_free(l);
	}
}
