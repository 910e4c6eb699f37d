/*
 * lifecycle: the process from start to exit.
 *
 * Reload is a transaction: read, parse, check, build the generation, open
 * new listeners, then swap one pointer. Any failure before the swap changes
 * nothing. Shutdown stops accepting, lets in-flight exchanges finish with
 * Connection: close, closes idle keep-alive connections after
 * drain_idle_timeout, and ends what remains at shutdown_timeout.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf/conf.h"
#include "proxy/client.h"
#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/lifecycle.h"
#include "proxy/listener.h"
#include "proxy/log.h"
#include "proxy/sluice.h"
#include "proxy/upconn.h"
#include "proxy/upstream.h"

enum lifecycle_state {
	LIFECYCLE_RUNNING = 0,
	LIFECYCLE_DRAINING,
	LIFECYCLE_STOPPING,
};

static const char		*conf_path;
static struct gen		*current;
static uint64_t			 gen_id;
static struct listener_list	 listeners = TAILQ_HEAD_INITIALIZER(listeners);
static struct listener_list	 retired = TAILQ_HEAD_INITIALIZER(retired);
static enum lifecycle_state	 state;
static struct event		*sig_ev[5];
static struct event		*stop_ev;	/* shutdown_timeout */
static struct event		*check_ev;	/* "is the drain over?" */
static uint64_t			 drain_start_ms;
static uint64_t			 reloads_ok, reloads_failed;

/* Log every line of a multi-line error text at error level. */
static void
lifecycle_log_lines(const char *prefix, const char *text)
{
	const char	*p = text, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_error("%s%.*s", prefix, (int)(nl != NULL ? nl - p :
		    (ptrdiff_t)strlen(p)), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* The open listener on addr, or NULL. */
static struct listener *
lifecycle_listener_find(const struct conf_addr *addr)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &listeners, entry)
		if (l->addr.sslen == addr->sslen &&
		    memcmp(&l->addr.ss, &addr->ss, addr->sslen) == 0)
			return l;
	return NULL;
}

/*
 * Open the listeners of g that are not open yet, into *opened. -1 (and
 * every listener opened here closed again) when one cannot be opened.
 */
static int
lifecycle_listeners_open(struct gen *g, struct listener_list *opened)
{
	struct listener	*l;
	char		*err;
	size_t		 i;

	for (i = 0; i < g->nlsts; i++) {
		if (lifecycle_listener_find(&g->lsts[i].conf->listen) != NULL)
			continue;
		if ((l = listener_open(g->lsts[i].conf, &err)) == NULL) {
			log_error("%s", err != NULL ? err : "out of memory");
			free(err);
			while ((l = TAILQ_FIRST(opened)) != NULL) {
				TAILQ_REMOVE(opened, l, entry);
				listener_free(l);
			}
			return -1;
		}
		TAILQ_INSERT_TAIL(opened, l, entry);
	}
	return 0;
}

/* Start the drain timer of a server that left the configuration. */
static void
lifecycle_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	log_warn("server %s/%s: drain_timeout passed with %u exchange(s) "
	    "in flight; ending them", s->upstream, s->name, s->inflight);
	server_ref(s);
	exchange_kill_server(s, EXCHANGE_WHO_DRAIN);
	server_unref(s);
}

/* Mark servers of old that g no longer lists as draining. */
static void
lifecycle_servers_drain(struct gen *old, struct gen *g)
{
	struct timeval	tv;
	size_t		i, j;

	for (i = 0; i < old->nups; i++)
		for (j = 0; j < old->ups[i].n; j++) {
			struct server	*s = old->ups[i].servers[j];

			if (gen_has_server(g, s) || s->state != SERVER_ACTIVE)
				continue;
			log_info("server %s/%s: removed; draining %u "
			    "exchange(s)", s->upstream, s->name, s->inflight);
			server_set_state(s, SERVER_DRAINING);
			if (s->drain_ev == NULL)
				s->drain_ev = evtimer_new(sluice_base,
				    lifecycle_drain_timeout_cb, s);
			tv = sluice_tv(s->set.drain_timeout_ms);
			if (s->drain_ev != NULL)
				evtimer_add(s->drain_ev, &tv);
		}
}

/* Point every listener at g; close those g does not list. */
static void
lifecycle_swap(struct gen *g, struct listener_list *opened)
{
	struct listener		*l, *next;
	struct gen_listener	*gl;
	struct gen		*old = current;

	while ((l = TAILQ_FIRST(opened)) != NULL) {
		TAILQ_REMOVE(opened, l, entry);
		TAILQ_INSERT_TAIL(&listeners, l, entry);
	}
	for (l = TAILQ_FIRST(&listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if ((gl = gen_listener_find(g, &l->addr)) != NULL) {
			listener_attach(l, g, gl);
			continue;
		}
		/* its connections stay with it; the socket closes */
		listener_close(l);
		TAILQ_REMOVE(&listeners, l, entry);
		TAILQ_INSERT_TAIL(&retired, l, entry);
	}
	current = g;
	if (old != NULL) {
		lifecycle_servers_drain(old, g);
		gen_unref(old);
	}
}

/* Load and apply the configuration. 0, or -1 with nothing changed. */
static int
lifecycle_load(void)
{
	struct listener_list	 opened = TAILQ_HEAD_INITIALIZER(opened);
	struct conf		*conf;
	struct gen		*g;
	char			*errors = NULL;

	if ((conf = conf_load_file(conf_path, &errors)) == NULL) {
		lifecycle_log_lines("", errors);
		free(errors);
		return -1;
	}
	if (current != NULL && log_open(&conf->global) == -1) {
		conf_free(conf);
		return -1;
	}
	if ((g = gen_new(conf, gen_id + 1)) == NULL) {
		log_error("%s: out of memory building the configuration",
		    conf_path);
		return -1;
	}
	if (lifecycle_listeners_open(g, &opened) == -1) {
		gen_unref(g);
		return -1;
	}
	gen_id++;
	lifecycle_swap(g, &opened);
	return 0;
}

/* SIGHUP: reload as a transaction. */
static void
lifecycle_reload(void)
{
	uint64_t	t0 = sluice_now_ms();

	if (state != LIFECYCLE_RUNNING) {
		log_warn("reload ignored: shutting down");
		return;
	}
	log_info("reload: reading %s", conf_path);
	if (lifecycle_load() == -1) {
		reloads_failed++;
		log_error("reload failed; still serving generation %llu",
		    (unsigned long long)gen_id);
		return;
	}
	reloads_ok++;
	log_info("reload: generation %llu in %llu ms",
	    (unsigned long long)gen_id,
	    (unsigned long long)(sluice_now_ms() - t0));
}

/* Ask the loop to check whether the drain is over. */
static void
lifecycle_poke(void)
{
	if (state != LIFECYCLE_RUNNING && check_ev != NULL)
		event_active(check_ev, EV_TIMEOUT, 0);
}

/* Close idle client connections: they are what keeps a drain going. */
static void
lifecycle_idle_clients_timeout(void)
{
	struct client	*c;
	struct timeval	 tv = sluice_tv(current->conf->global.drain_idle_timeout_ms);

	TAILQ_FOREACH(c, client_registry(), entry)
		if (c->ex == NULL)
			bufferevent_set_timeouts(
			    evhttp_connection_get_bufferevent(c->evcon), &tv,
			    NULL);
}

/* The end: free everything and leave the loop. */
static void
lifecycle_exit(const char *how)
{
	log_info("shutdown %s after %llu ms", how,
	    (unsigned long long)(sluice_now_ms() - drain_start_ms));
	state = LIFECYCLE_STOPPING;
	event_base_loopexit(sluice_base, NULL);
}

/* Drain over when nothing is in flight and no client is connected. */
static void
lifecycle_check_cb(evutil_socket_t fd, short what, void *arg)
{
	if (state == LIFECYCLE_DRAINING && exchange_count() == 0 &&
	    client_count() == 0)
		lifecycle_exit("complete");
}

/* Hard stop: end what remains. */
static void
lifecycle_hard_stop(void)
{
	unsigned	n = exchange_count();

	if (state == LIFECYCLE_STOPPING)
		return;
	log_warn("hard stop: ending %u exchange(s) in flight", n);
	exchange_kill_all(EXCHANGE_WHO_KILLED);
	lifecycle_exit("forced");
}

/* shutdown_timeout passed. */
static void
lifecycle_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	lifecycle_hard_stop();
}

/* SIGTERM/SIGINT: stop accepting and drain. */
static void
lifecycle_drain(void)
{
	struct listener	*l;
	struct timeval	 tv;

	if (state != LIFECYCLE_RUNNING) {
		lifecycle_hard_stop();	/* the second signal */
		return;
	}
	state = LIFECYCLE_DRAINING;
	drain_start_ms = sluice_now_ms();
	log_info("shutdown: draining %u exchange(s), %u connection(s)",
	    exchange_count(), client_count());
	exchange_set_closing(1);
	TAILQ_FOREACH(l, &listeners, entry)
		listener_close(l);
	lifecycle_idle_clients_timeout();
	tv = sluice_tv(current->conf->global.shutdown_timeout_ms);
	evtimer_add(stop_ev, &tv);
	lifecycle_poke();
}

/* A signal arrived; act from the loop. */
static void
lifecycle_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		lifecycle_reload();
		break;
	case SIGQUIT:
		lifecycle_hard_stop();
		break;
	default:
		lifecycle_drain();
	}
}

/* Install the signal events and timers. -1 on failure. */
static int
lifecycle_events(void)
{
	static const int	sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	size_t			i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sig_ev[i] = evsignal_new(sluice_base, sigs[i],
		    lifecycle_signal_cb, NULL);
		if (sig_ev[i] == NULL || evsignal_add(sig_ev[i], NULL) == -1)
			return -1;
	}
	stop_ev = evtimer_new(sluice_base, lifecycle_stop_cb, NULL);
	check_ev = event_new(sluice_base, -1, 0, lifecycle_check_cb, NULL);
	if (stop_ev == NULL || check_ev == NULL)
		return -1;
	exchange_set_idle_cb(lifecycle_poke);
	client_set_close_cb(lifecycle_poke);
	return 0;
}

/* Write the pid file, if one is configured. */
static void
lifecycle_pid_file(const char *path, int create)
{
	FILE	*fp;

	if (path == NULL)
		return;
	if (!create) {
		unlink(path);
		return;
	}
	if ((fp = fopen(path, "w")) == NULL) {
		log_warn("pid_file %s: %s", path, strerror(errno));
		return;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

/* Free everything at exit, so that leak checkers see a clean process. */
static void
lifecycle_cleanup(void)
{
	struct listener	*l;
	struct server	*s;
	size_t		 i;

	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		listener_free(l);	/* closes its connections */
	}
	while ((l = TAILQ_FIRST(&retired)) != NULL) {
		TAILQ_REMOVE(&retired, l, entry);
		listener_free(l);
	}
	TAILQ_FOREACH(s, server_registry(), entry)
		upconn_close_idle(s);
	if (current != NULL) {
		lifecycle_pid_file(current->conf->global.pid_file, 0);
		gen_unref(current);
		current = NULL;
	}
	/* run the deferred frees */
	event_base_loop(sluice_base, EVLOOP_NONBLOCK);
	for (i = 0; i < sizeof(sig_ev) / sizeof(sig_ev[0]); i++)
		if (sig_ev[i] != NULL)
			event_free(sig_ev[i]);
	if (stop_ev != NULL)
		event_free(stop_ev);
	if (check_ev != NULL)
		event_free(check_ev);
	client_registry_free();
	log_detach();
	log_close();
	event_base_free(sluice_base);
	sluice_base = NULL;
}

/* See lifecycle.h. */
int
lifecycle_run(const char *path)
{
	struct conf	*conf;
	char		*errors = NULL;
	int		 status = 1;

	conf_path = path;
	if ((conf = conf_load_file(path, &errors)) == NULL) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	if ((sluice_base = event_base_new()) == NULL ||
	    log_open(&conf->global) == -1 || log_attach(sluice_base) == -1) {
		conf_free(conf);
		if (sluice_base != NULL)
			event_base_free(sluice_base);
		return 1;
	}
	conf_free(conf);
	if (lifecycle_events() == 0 && lifecycle_load() == 0) {
		lifecycle_pid_file(current->conf->global.pid_file, 1);
		log_info("ready: %zu listener(s), generation %llu, pid %ld",
		    current->nlsts, (unsigned long long)gen_id,
		    (long)getpid());
		event_base_dispatch(sluice_base);
		status = 0;
	}
	lifecycle_cleanup();
	return status;
}

/* See lifecycle.h. */
int
lifecycle_check(const char *path)
{
	struct conf	*conf;
	char		*errors = NULL;

	if ((conf = conf_load_file(path, &errors)) == NULL) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	conf_free(conf);
	printf("%s: configuration ok\n", path);
	return 0;
}
