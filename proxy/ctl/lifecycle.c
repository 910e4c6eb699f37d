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
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf/conf.h"
#include "proxy/ctl/admin.h"
#include "proxy/front/clientconn.h"
#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/ctl/lifecycle.h"
#include "proxy/front/listener.h"
#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/ctl/notify.h"
#include "proxy/front/inherit.h"
#include "proxy/ctl/upgrade.h"
#include "proxy/front/nulscan.h"
#include "proxy/base/runtime.h"
#include "proxy/back/upconn.h"
#include "proxy/back/server.h"
#include "proxy/back/upstream.h"
#include "proxy/base/worker.h"

enum lifecycle_state {
	LIFECYCLE_RUNNING = 0,
	LIFECYCLE_NOTICE,	/* still accepting; /readyz says 503 */
	LIFECYCLE_DRAINING,	/* not accepting; in-flight finishing */
	LIFECYCLE_STOPPING,
};

static const char *state_names[] = {
	"running", "notice", "draining", "stopping",
};

static const char		*conf_path;
static struct gen		*current;
static uint64_t			 gen_id;
static struct listener_list	 listeners = TAILQ_HEAD_INITIALIZER(listeners);
static struct listener_list	 retired = TAILQ_HEAD_INITIALIZER(retired);
static enum lifecycle_state	 state;		/* atomic: workers read */
static unsigned			 nretired;	/* atomic: workers read */
static struct event		*sig_ev[8];
static struct event		*stop_ev;	/* shutdown_timeout */
static struct event		*check_ev;	/* "is the drain over?" */
static struct event		*notice_ev;	/* drain_notice */
static struct event		*retire_ev;	/* free retired listeners */
static uint64_t			 drain_start_ms;
static uint64_t			 drain_finished;	/* totals at the */
static uint64_t			 drain_killed;		/* signal */
static uint64_t			 reloads_ok, reloads_failed;
static time_t			 last_reload;
static int			 last_reload_ok = 1;
static char			*last_reload_errors;
static struct admin		*admin;
static char			 conf_error_log[512];

static void	lifecycle_info(struct admin_info *);
static unsigned	lifecycle_workers(const struct conf *);
static int	lifecycle_reload(void);
static void	lifecycle_notify_status(void);

static const struct admin_hooks admin_hooks = {
	lifecycle_info, lifecycle_reload,
};

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

/* Close and free listeners opened for a reload that failed. */
static void
lifecycle_listeners_discard(struct listener_list *opened)
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
lifecycle_listeners_open(struct gen *g, struct listener_list *opened,
    char **errors)
{
	struct listener	*l;
	char		*err;
	size_t		 i;

	for (i = 0; i < g->nlsts; i++) {
		if (lifecycle_listener_find(&g->lsts[i].conf->listen) != NULL)
			continue;
		if ((l = listener_open(g->lsts[i].conf, &err)) == NULL) {
			*errors = err != NULL ? err : strdup("out of memory");
			lifecycle_listeners_discard(opened);
			return -1;
		}
		TAILQ_INSERT_TAIL(opened, l, entry);
	}
	return 0;
}

/* A removed server's drain_timeout passed: end what still runs on it. */
static void
lifecycle_drain_expired(struct server *s)
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
lifecycle_servers_drain(struct gen *old, struct gen *g)
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
			upstream_server_remove(s, lifecycle_drain_expired);
		}
}

/* In a worker: take g (settings first, then routing). */
static void
lifecycle_worker_gen(void *arg)
{
	struct gen	*g = arg;

	gen_activate_local(g);
	listener_set_gen(g);
}

/*
 * Point every worker at g; start the listeners g opened; close those g
 * does not list.
 */
static void
lifecycle_swap(struct gen *g, struct listener_list *opened)
{
	struct listener		*l, *next;
	struct gen		*old = current;

	/*
	 * Every worker has switched when the reload reports success: a
	 * request sent after "reload: generation N" (or after POST /reload
	 * answered) is routed by N, whichever worker takes it.
	 */
	listener_set_gen(g);
	worker_each_sync(lifecycle_worker_gen, g);
	while ((l = TAILQ_FIRST(opened)) != NULL) {
		TAILQ_REMOVE(opened, l, entry);
		TAILQ_INSERT_TAIL(&listeners, l, entry);
		listener_serve(l);
	}
	for (l = TAILQ_FIRST(&listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (gen_listener_find(g, &l->addr) != NULL)
			continue;
		/* its connections stay with it; the socket closes */
		listener_close(l);
		TAILQ_REMOVE(&listeners, l, entry);
		TAILQ_INSERT_TAIL(&retired, l, entry);
		SLUICE_INC(&nretired);
		if (retire_ev != NULL)
			event_active(retire_ev, EV_TIMEOUT, 0);
	}
	current = g;
	if (old != NULL) {
		lifecycle_servers_drain(old, g);
		gen_unref(old);
	}
}

/* Remember the outcome of a reload for /status. */
static void
lifecycle_reload_record(int ok, const char *errors)
{
	last_reload = time(NULL);
	last_reload_ok = ok;
	free(last_reload_errors);
	last_reload_errors = strdup(errors != NULL ? errors : "");
}

/*
 * Open the admin listener g asks for, unless it is already open. 0 with
 * *fresh set to the new one (or NULL), or -1 with the error recorded.
 */
static int
lifecycle_admin_open(struct gen *g, struct admin **fresh, char **errors)
{
	const struct conf_admin	*ca = &g->conf->admin;
	char			*err;

	*fresh = NULL;
	if (!ca->enabled || (admin != NULL && admin_is_on(admin, &ca->listen)))
		return 0;
	if ((*fresh = admin_open(&ca->listen, &admin_hooks, &err)) != NULL)
		return 0;
	*errors = err != NULL ? err : strdup("admin: out of memory");
	return -1;
}

/* Swap in the admin listener g asks for. */
static void
lifecycle_admin_swap(struct gen *g, struct admin *fresh)
{
	if (fresh != NULL || !g->conf->admin.enabled) {
		admin_free_later(admin);	/* we may be in its callback */
		admin = fresh;
	}
}

/* Build a generation from conf and open what it needs. NULL on failure. */
static struct gen *
lifecycle_build(struct conf *conf, struct listener_list *opened,
    struct admin **fresh, char **errors)
{
	struct gen	*g;

	if ((g = gen_new(conf, gen_id + 1, errors)) == NULL)
		return NULL;
	if (lifecycle_listeners_open(g, opened, errors) == -1) {
		gen_unref(g);
		return NULL;
	}
	if (lifecycle_admin_open(g, fresh, errors) == -1) {
		lifecycle_listeners_discard(opened);
		gen_unref(g);
		return NULL;
	}
	return g;
}

/*
 * Load and apply the configuration. 0, or -1 with nothing changed and
 * *errors set to a malloc'd text of one line per error.
 */
static int
lifecycle_load(char **errors)
{
	struct listener_list	 opened = TAILQ_HEAD_INITIALIZER(opened);
	struct conf		*conf;
	struct gen		*g;
	struct admin		*fresh;

	*errors = NULL;
	if ((conf = conf_load_file(conf_path, errors)) == NULL)
		return -1;
	if (current != NULL && log_open(&conf->global) == -1) {
		conf_free(conf);
		*errors = strdup("cannot open the log files");
		return -1;
	}
	if (current != NULL && lifecycle_workers(conf) != sluice_nworkers)
		log_warn("workers: %u worker(s) serve until the next start or "
		    "binary upgrade (SIGUSR2); the setting is read at start",
		    sluice_nworkers);
	if ((g = lifecycle_build(conf, &opened, &fresh, errors)) == NULL)
		return -1;
	gen_id++;
	if (gen_activate(g) == -1)
		log_error("out of memory applying server settings");
	lifecycle_swap(g, &opened);
	lifecycle_admin_swap(g, fresh);
	return 0;
}

/* Reload as a transaction (SIGHUP, POST /reload). 0, or -1 on failure. */
static int
lifecycle_reload(void)
{
	uint64_t	 t0 = sluice_now_ms();
	char		*errors = NULL;
	int		 r;

	if (state != LIFECYCLE_RUNNING) {
		log_warn("reload ignored: shutting down");
		lifecycle_reload_record(0, "reload refused: shutting down");
		reloads_failed++;
		return -1;
	}
	log_info("reload: reading %s", conf_path);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    notify_monotonic_usec());
	r = lifecycle_load(&errors);
	lifecycle_notify_status();
	if (r == -1) {
		reloads_failed++;
		lifecycle_log_lines("", errors);
		log_error("reload failed; still serving generation %llu",
		    (unsigned long long)gen_id);
		lifecycle_reload_record(0, errors);
		free(errors);
		return -1;
	}
	reloads_ok++;
	lifecycle_reload_record(1, NULL);
	log_info("reload: generation %llu in %llu ms",
	    (unsigned long long)gen_id,
	    (unsigned long long)(sluice_now_ms() - t0));
	return 0;
}

/* What /status and /readyz report. */
static void
lifecycle_info(struct admin_info *i)
{
	i->generation = gen_id;
	i->state = state_names[state];
	i->workers = sluice_nworkers;
	i->ready = state == LIFECYCLE_RUNNING;
	i->last_reload = last_reload;
	i->last_reload_ok = last_reload_ok;
	i->last_reload_errors = last_reload_errors != NULL ?
	    last_reload_errors : "";
	i->reloads_ok = reloads_ok;
	i->reloads_failed = reloads_failed;
	i->token = current != NULL ? current->conf->admin.token : NULL;
}

static void	lifecycle_poke(void);
static void	lifecycle_client_closed(void);

/* lifecycle_poke and lifecycle_client_closed, queued by a worker. */
static void
lifecycle_poke_main(void *arg)
{
	lifecycle_poke();
}

static void
lifecycle_client_closed_main(void *arg)
{
	lifecycle_client_closed();
}

/*
 * Ask the main loop to check whether the drain is over (from any worker;
 * nothing is queued unless a drain runs).
 */
static void
lifecycle_poke(void)
{
	if (SLUICE_LOAD(&state) < LIFECYCLE_DRAINING)
		return;
	if (sluice_worker_id != 0)
		worker_call(0, lifecycle_poke_main, NULL);
	else if (check_ev != NULL)
		event_active(check_ev, EV_TIMEOUT, 0);
}

/* A client connection closed: the drain, or a retired listener, may end. */
static void
lifecycle_client_closed(void)
{
	if (SLUICE_LOAD(&nretired) > 0) {
		if (sluice_worker_id != 0) {
			worker_call(0, lifecycle_client_closed_main, NULL);
			return;
		}
		if (retire_ev != NULL)
			event_active(retire_ev, EV_TIMEOUT, 0);
	}
	lifecycle_poke();
}

/* 1 when a client connection of l is still open, in any worker. */
static int
lifecycle_listener_busy(const struct listener *l)
{
	return SLUICE_LOAD(&l->nclients) > 0;
}

/*
 * Free the listeners a reload removed once their last client connection
 * has closed (from the loop, never under evhttp's own callbacks).
 */
static void
lifecycle_retire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l, *next;

	for (l = TAILQ_FIRST(&retired); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (!listener_closed(l) || lifecycle_listener_busy(l))
			continue;
		TAILQ_REMOVE(&retired, l, entry);
		SLUICE_DEC(&nretired);
		listener_free(l);
	}
}

/* In one worker: idle client connections close after ms. */
static void
lifecycle_idle_clients_local(void *arg)
{
	struct clientconn	*c;
	struct timeval	 tv = sluice_tv((uint64_t)(uintptr_t)arg);

	TAILQ_FOREACH(c, clientconn_registry(), entry)
		if (c->busy == NULL)
			bufferevent_set_timeouts(
			    evhttp_connection_get_bufferevent(c->evcon), &tv,
			    NULL);
}

/* Close idle client connections: they are what keeps a drain going. */
static void
lifecycle_idle_clients_timeout(void)
{
	void	*ms = (void *)(uintptr_t)
		    current->conf->global.drain_idle_timeout_ms;

	worker_each(lifecycle_idle_clients_local, NULL, ms);
	lifecycle_idle_clients_local(ms);
}

/*
 * The end: leave the loop (after grace_ms) with a summary of the drain.
 * Exchanges still open are being ended (hard stop) and count as such.
 */
static void
lifecycle_exit(const char *how, uint64_t grace_ms)
{
	struct timeval	tv = sluice_tv(grace_ms);
	uint64_t	finished, killed;

	exchange_totals(&finished, &killed);
	finished -= drain_finished;
	killed -= drain_killed;
	log_info("shutdown %s after %llu ms: %llu exchange(s) drained, "
	    "%llu ended early", how,
	    (unsigned long long)(sluice_now_ms() - drain_start_ms),
	    (unsigned long long)(finished - killed),
	    (unsigned long long)(killed + exchange_count()));
	SLUICE_STORE(&state, LIFECYCLE_STOPPING);
	event_base_loopexit(sluice_base, &tv);
}

/* 1 once every listening socket is closed (its queue accepted). */
static int
lifecycle_listeners_closed(void)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &listeners, entry)
		if (!listener_closed(l))
			return 0;
	return 1;
}

/*
 * Drain over when no socket accepts any more, nothing is in flight and no
 * client is connected.
 */
static void
lifecycle_check_cb(evutil_socket_t fd, short what, void *arg)
{
	if (state == LIFECYCLE_DRAINING && lifecycle_listeners_closed() &&
	    exchange_count() == 0 && clientconn_count() == 0)
		lifecycle_exit("complete", 0);
	else if (state == LIFECYCLE_STOPPING && exchange_count() == 0)
		event_base_loopexit(sluice_base, NULL);
}

/*
 * Hard stop: end what remains. Responses not started get a 503 that is
 * given a moment to flush; started ones are cut at once.
 */
static void
lifecycle_hard_stop(void)
{
	if (state == LIFECYCLE_STOPPING)
		return;
	if (drain_start_ms == 0) {
		drain_start_ms = sluice_now_ms();
		exchange_totals(&drain_finished, &drain_killed);
	}
	log_warn("hard stop: ending %u exchange(s) in flight",
	    exchange_count());
	exchange_set_closing(1);
	exchange_kill_all(EXCHANGE_WHO_KILLED);
	lifecycle_exit("forced", exchange_count() > 0 ? 200 : 0);
}

/* shutdown_timeout passed. */
static void
lifecycle_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	lifecycle_hard_stop();
}

/* Stage 2: stop accepting (queued connections first) and drain. */
static void
lifecycle_drain_start(void)
{
	struct listener	*l;

	SLUICE_STORE(&state, LIFECYCLE_DRAINING);
	log_info("shutdown: draining %u exchange(s), %u connection(s)",
	    exchange_count(), clientconn_count());
	notify_send("STOPPING=1\nSTATUS=draining %u exchange(s)",
	    exchange_count());
	TAILQ_FOREACH(l, &listeners, entry)
		listener_close(l);
	lifecycle_idle_clients_timeout();
	lifecycle_poke();
}

/* drain_notice passed. */
static void
lifecycle_notice_cb(evutil_socket_t fd, short what, void *arg)
{
	if (state == LIFECYCLE_NOTICE)
		lifecycle_drain_start();
}

/* SIGTERM/SIGINT: notice, then drain; a second signal stops at once. */
static void
lifecycle_shutdown(void)
{
	const struct conf_global	*g = &current->conf->global;
	struct timeval			 tv;

	if (state != LIFECYCLE_RUNNING) {
		lifecycle_hard_stop();
		return;
	}
	drain_start_ms = sluice_now_ms();
	exchange_totals(&drain_finished, &drain_killed);
	exchange_set_closing(1);
	tv = sluice_tv(g->shutdown_timeout_ms);
	evtimer_add(stop_ev, &tv);
	if (g->drain_notice_ms == 0) {
		lifecycle_drain_start();
		return;
	}
	SLUICE_STORE(&state, LIFECYCLE_NOTICE);
	notify_send("STOPPING=1\nSTATUS=shutdown notice");
	log_info("shutdown: notice for %llu ms; still accepting",
	    (unsigned long long)g->drain_notice_ms);
	tv = sluice_tv(g->drain_notice_ms);
	evtimer_add(notice_ev, &tv);
}

/* Tell systemd we are ready, with the generation and the load. */
static void
lifecycle_notify_status(void)
{
	notify_send("READY=1\nSTATUS=generation %llu, %u exchange(s) in "
	    "flight", (unsigned long long)gen_id, exchange_count());
}

/* SIGUSR1: reopen the log files (after logrotate moved them). */
static void
lifecycle_reopen_logs(void)
{
	if (log_open(&current->conf->global) == -1)
		log_error("SIGUSR1: cannot reopen the logs; keeping the old "
		    "ones");
	else
		log_info("SIGUSR1: logs reopened");
}

/* The new binary is serving: this process drains and exits. */
static void
lifecycle_upgraded(long pid)
{
	struct listener	*l;
	struct timeval	 tv;

	log_info("upgrade: pid %ld is ready; draining", pid);
	notify_send("MAINPID=%ld", pid);
	TAILQ_FOREACH(l, &listeners, entry)
		l->shared = 1;	/* the new process accepts on them now */
	/* its /readyz is the one that answers from now on */
	admin_free(admin);
	admin = NULL;
	drain_start_ms = sluice_now_ms();
	exchange_totals(&drain_finished, &drain_killed);
	exchange_set_closing(1);
	tv = sluice_tv(current->conf->global.shutdown_timeout_ms);
	evtimer_add(stop_ev, &tv);
	lifecycle_drain_start();
}

/* SIGUSR2: start the binary at our path with our listening sockets. */
static void
lifecycle_upgrade(void)
{
	struct listener	*l;
	int		 fds[INHERIT_FDS_MAX], n = 0;

	if (state != LIFECYCLE_RUNNING) {
		log_warn("upgrade ignored: shutting down");
		return;
	}
	TAILQ_FOREACH(l, &listeners, entry)
		if (listener_fd(l) != -1 && n < INHERIT_FDS_MAX - 1)
			fds[n++] = listener_fd(l);
	if (admin_fd(admin) != -1)
		fds[n++] = admin_fd(admin);
	upgrade_start(fds, n, lifecycle_upgraded);
}

/* A signal arrived; act from the loop. */
static void
lifecycle_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		(void)lifecycle_reload();
		break;
	case SIGUSR1:
		lifecycle_reopen_logs();
		break;
	case SIGUSR2:
		lifecycle_upgrade();
		break;
	case SIGQUIT:
		lifecycle_hard_stop();
		break;
	default:
		lifecycle_shutdown();
	}
}

/* Install the signal events and timers. -1 on failure. */
static int
lifecycle_events(void)
{
	static const int	sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2 };
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
	notice_ev = evtimer_new(sluice_base, lifecycle_notice_cb, NULL);
	retire_ev = event_new(sluice_base, -1, 0, lifecycle_retire_cb, NULL);
	if (stop_ev == NULL || check_ev == NULL || notice_ev == NULL ||
	    retire_ev == NULL)
		return -1;
	exchange_set_idle_cb(lifecycle_poke);
	listener_set_closed_cb(lifecycle_poke);
	clientconn_set_close_cb(lifecycle_client_closed);
	return 0;
}

/* Write the pid file, if one is configured. */
static void
lifecycle_pid_file(const char *path, int create)
{
	FILE	*fp;
	long	 pid = 0;

	if (path == NULL)
		return;
	if (!create) {
		/* after an upgrade the file is the new process's */
		if ((fp = fopen(path, "r")) != NULL) {
			if (fscanf(fp, "%ld", &pid) == 1 &&
			    pid == (long)getpid())
				unlink(path);
			fclose(fp);
		}
		return;
	}
	if ((fp = fopen(path, "w")) == NULL) {
		log_warn("pid_file %s: %s", path, strerror(errno));
		return;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

/* A worker thread starts: flush its access-log lines from its loop. */
static void
lifecycle_worker_init(void *arg)
{
	if (log_attach(sluice_base) == -1)
		log_error("worker %u: out of memory", sluice_worker_id);
}

/*
 * A worker thread ends (the main thread waits): close its connections,
 * client and upstream, and free what it kept for itself.
 */
static void
lifecycle_worker_fini(void *arg)
{
	struct server	*s;

	listener_worker_fini();
	TAILQ_FOREACH(s, server_registry(), entry)
		upconn_close_idle(s);
	clientconn_registry_free();
	nulscan_free();
	log_detach();
}

/* How many workers conf asks for: auto is one per CPU. */
static unsigned
lifecycle_workers(const struct conf *conf)
{
	long	n = conf->global.workers;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > WORKER_MAX ? WORKER_MAX : (unsigned)n;
}

/* Free everything at exit, so that leak checkers see a clean process. */
static void
lifecycle_cleanup(void)
{
	struct listener	*l;
	struct server	*s;
	size_t		 i;

	admin_free(admin);
	admin = NULL;
	admin_free_retiring();
	worker_stop(lifecycle_worker_fini);
	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		listener_free(l);	/* closes its connections */
	}
	while ((l = TAILQ_FIRST(&retired)) != NULL) {
		TAILQ_REMOVE(&retired, l, entry);
		listener_free(l);
	}
	upstream_stop_all();
	TAILQ_FOREACH(s, server_registry(), entry)
		upconn_close_idle(s);
	listener_set_gen(NULL);
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
	if (notice_ev != NULL)
		event_free(notice_ev);
	if (retire_ev != NULL)
		event_free(retire_ev);
	free(last_reload_errors);
	last_reload_errors = NULL;
	upgrade_free();
	clientconn_registry_free();
	nulscan_free();
	metrics_free();
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
	unsigned	 nworkers;
	int		 status = 1;

	conf_path = path;
	if ((conf = conf_load_file(path, &errors)) == NULL) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	if ((sluice_base = sluice_base_new()) == NULL ||
	    log_open(&conf->global) == -1 || log_attach(sluice_base) == -1) {
		conf_free(conf);
		if (sluice_base != NULL)
			event_base_free(sluice_base);
		return 1;
	}
	snprintf(conf_error_log, sizeof(conf_error_log), "%s",
	    conf->global.error_log);
	nworkers = lifecycle_workers(conf);
	conf_free(conf);
	inherit_init();
	if (lifecycle_events() == 0 &&
	    worker_start(nworkers, lifecycle_worker_init) == 0 &&
	    lifecycle_load(&errors) == 0) {
		inherit_close_unused();
		lifecycle_pid_file(current->conf->global.pid_file, 1);
		log_info("ready: %zu listener(s), generation %llu, %u "
		    "worker(s), pid %ld", current->nlsts,
		    (unsigned long long)gen_id, sluice_nworkers,
		    (long)getpid());
		notify_send("MAINPID=%ld", (long)getpid());
		lifecycle_notify_status();
		upgrade_report_ready();
		event_base_dispatch(sluice_base);
		status = 0;
	} else if (errors != NULL) {
		lifecycle_log_lines("", errors);
		if (strcmp(conf_error_log, "-") != 0)
			fputs(errors, stderr);
		free(errors);
	}
	lifecycle_cleanup();
	return status;
}

/* See lifecycle.h. Certificates and keys are loaded and checked too. */
int
lifecycle_check(const char *path)
{
	struct conf	*conf;
	struct gen	*g;
	char		*errors = NULL;

	if ((conf = conf_load_file(path, &errors)) == NULL ||
	    (g = gen_new(conf, 0, &errors)) == NULL) {
		fputs(errors != NULL ? errors : "out of memory\n", stderr);
		free(errors);
		return 1;
	}
	gen_unref(g);
	printf("%s: configuration ok\n", path);
	return 0;
}
