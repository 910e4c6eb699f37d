/*
 * lifecycle: the process from start to exit: load, start the workers,
 * serve; signals only mark, the loop acts (libevent signal events):
 * SIGHUP reloads (reload.c), SIGTERM and SIGINT shut down (shutdown.c),
 * SIGQUIT stops at once, SIGUSR1 reopens the logs, SIGUSR2 upgrades the
 * binary. At exit everything is freed.
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
#include "proxy/base/version.h"
#include "proxy/base/worker.h"
#include "proxy/ctl/admin.h"
#include "proxy/ctl/notify.h"
#include "proxy/ctl/process.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/inherit.h"
#include "proxy/front/listener.h"
#include "proxy/front/nulscan.h"
#include "proxy/front/proxyhdr.h"
#include "proxy/ctl/lifecycle.h"
#include "proxy/ctl/reload.h"
#include "proxy/ctl/shutdown.h"
#include "proxy/ctl/upgrade.h"

static void	lifecycle_client_closed(void);

/* lifecycle_client_closed, queued by a worker. */
static void
lifecycle_client_closed_main(void *arg)
{
	lifecycle_client_closed();
}

/* A client connection closed: the drain, or a retired listener, may end. */
static void
lifecycle_client_closed(void)
{
	listener_client_closed();
	if (SLUICE_LOAD(&process.nretired) > 0) {
		if (sluice_worker_id != 0) {
			worker_call(0, lifecycle_client_closed_main, NULL);
			return;
		}
		if (process.retire_ev != NULL)
			event_active(process.retire_ev, EV_TIMEOUT, 0);
	}
	shutdown_poke();
}

/* SIGUSR1: reopen the log files (after logrotate moved them). */
static void
lifecycle_reopen_logs(void)
{
	if (log_open(&process.current->conf->global) == -1)
		log_error("SIGUSR1: cannot reopen the logs; keeping the old "
		    "ones");
	else
		log_info("SIGUSR1: logs reopened");
}

/* SIGUSR2: start the binary at our path with our listening sockets. */
static void
lifecycle_upgrade(void)
{
	struct listener	*l;
	int		 fds[INHERIT_FDS_MAX], n = 0;

	if (process.state != PROCESS_RUNNING) {
		log_warn("upgrade ignored: shutting down");
		return;
	}
	TAILQ_FOREACH(l, &process.listeners, entry)
		if (listener_fd(l) != -1 && n < INHERIT_FDS_MAX - 1)
			fds[n++] = listener_fd(l);
	if (admin_fd(process.admin) != -1)
		fds[n++] = admin_fd(process.admin);
	upgrade_start(fds, n, shutdown_upgraded);
}

/* A signal arrived; act from the loop. */
static void
lifecycle_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		(void)reload_run();
		break;
	case SIGUSR1:
		lifecycle_reopen_logs();
		break;
	case SIGUSR2:
		lifecycle_upgrade();
		break;
	case SIGQUIT:
		shutdown_hard();
		break;
	default:
		shutdown_begin();
	}
}

/* The signals sluice acts on, by their slot in process.sig_ev. */
static const int	lifecycle_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
			    SIGUSR1, SIGUSR2 };

/* Install the signal events and timers. -1 on failure. */
static int
lifecycle_events(void)
{
	size_t			i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(lifecycle_sigs) / sizeof(lifecycle_sigs[0]);
	    i++) {
		process.sig_ev[i] = evsignal_new(sluice_base, lifecycle_sigs[i],
		    lifecycle_signal_cb, NULL);
		if (process.sig_ev[i] == NULL ||
		    evsignal_add(process.sig_ev[i], NULL) == -1)
			return -1;
	}
	process.stop_ev = evtimer_new(sluice_base, shutdown_stop_cb, NULL);
	process.check_ev = event_new(sluice_base, -1, 0, shutdown_check_cb,
	    NULL);
	process.notice_ev = evtimer_new(sluice_base, shutdown_notice_cb, NULL);
	process.retire_ev = event_new(sluice_base, -1, 0, reload_retire_cb,
	    NULL);
	process.tickets_ev = event_new(sluice_base, -1, EV_PERSIST,
	    reload_tickets_cb, NULL);
	if (process.stop_ev == NULL || process.check_ev == NULL ||
	    process.notice_ev == NULL || process.retire_ev == NULL ||
	    process.tickets_ev == NULL)
		return -1;
	exchange_set_idle_cb(shutdown_poke);
	listener_set_closed_cb(shutdown_poke);
	clientconn_set_close_cb(lifecycle_client_closed);
	return 0;
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
	proxyhdr_map_free();
	log_detach();
}

/* Free everything at exit, so that leak checkers see a clean  */
static void
lifecycle_cleanup(void)
{
	struct listener	*l;
	struct server	*s;
	sigset_t	 mask;
	size_t		 i;

	admin_free(process.admin);
	process.admin = NULL;
	admin_free_retiring();
	worker_stop(lifecycle_worker_fini);
	while ((l = TAILQ_FIRST(&process.listeners)) != NULL) {
		TAILQ_REMOVE(&process.listeners, l, entry);
		listener_free(l);	/* closes its connections */
	}
	while ((l = TAILQ_FIRST(&process.retired)) != NULL) {
		TAILQ_REMOVE(&process.retired, l, entry);
		listener_free(l);
	}
	upstream_stop_all();
	TAILQ_FOREACH(s, server_registry(), entry)
		upconn_close_idle(s);
	listener_set_gen(NULL);
	if (process.current != NULL) {
		process_pid_file(process.current->conf->global.pid_file, 0);
		gen_unref(process.current);
		process.current = NULL;
	}
	/* run the deferred frees */
	event_base_loop(sluice_base, EVLOOP_NONBLOCK);
	/*
	 * Freeing a signal event puts the default action back: a SIGTERM in
	 * the rest of the exit (LeakSanitizer's scan can take seconds) would
	 * turn a clean exit into death by signal, 143. Ignored from here.
	 */
	sigemptyset(&mask);
	for (i = 0; i < sizeof(lifecycle_sigs) / sizeof(lifecycle_sigs[0]);
	    i++)
		sigaddset(&mask, lifecycle_sigs[i]);
	/* blocked while libevent puts the old action back; then ignored,
	 * which also drops one already pending */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	for (i = 0; i < sizeof(lifecycle_sigs) / sizeof(lifecycle_sigs[0]);
	    i++) {
		if (process.sig_ev[i] != NULL)
			event_free(process.sig_ev[i]);
		process.sig_ev[i] = NULL;
		signal(lifecycle_sigs[i], SIG_IGN);
	}
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	if (process.stop_ev != NULL)
		event_free(process.stop_ev);
	if (process.check_ev != NULL)
		event_free(process.check_ev);
	if (process.notice_ev != NULL)
		event_free(process.notice_ev);
	if (process.retire_ev != NULL)
		event_free(process.retire_ev);
	if (process.tickets_ev != NULL)
		event_free(process.tickets_ev);
	free(process.last_reload_errors);
	process.last_reload_errors = NULL;
	upgrade_free();
	clientconn_registry_free();
	nulscan_free();
	proxyhdr_map_free();
	metrics_free();
	log_detach();
	log_close();
	event_base_free(sluice_base);
	sluice_base = NULL;
}

/* See lifecycle.h. */
int
lifecycle_start(const char *path)
{
	struct conf	*conf;
	char		*errors = NULL;
	unsigned	 nworkers;

	process.conf_path = path;
	if ((conf = conf_load_file(path, &errors)) == NULL) {
		fputs(errors, stderr);
		free(errors);
		return -1;
	}
	if ((sluice_base = sluice_base_new()) == NULL ||
	    log_open(&conf->global) == -1 || log_attach(sluice_base) == -1) {
		conf_free(conf);
		if (sluice_base != NULL)
			event_base_free(sluice_base);
		sluice_base = NULL;
		return -1;
	}
	snprintf(process.conf_error_log, sizeof(process.conf_error_log), "%s",
	    conf->global.error_log);
	log_capture_libevent();
	if (sluice_nofile_raise() > 0)
		log_info("descriptors: %lu, %lu kept in reserve; "
		    "max_connections = auto is %lu", sluice_nofile,
		    sluice_fd_reserve(), sluice_conns_auto());
	nworkers = process_workers(conf);
	conf_free(conf);
	inherit_init();
	if (lifecycle_events() == 0 &&
	    worker_start(nworkers, lifecycle_worker_init) == 0 &&
	    reload_load(&errors) == 0) {
		inherit_close_unused();
		process_pid_file(process.current->conf->global.pid_file, 1);
		log_info("ready: %zu listener(s), generation %llu, %u "
		    "worker(s), pid %ld", process.current->nlsts,
		    (unsigned long long)process.gen_id, sluice_nworkers,
		    (long)getpid());
		notify_send("MAINPID=%ld", (long)getpid());
		process_notify_status();
		upgrade_report_ready();
		return 0;
	}
	if (errors != NULL) {
		process_log_lines("", errors);
		if (strcmp(process.conf_error_log, "-") != 0)
			fputs(errors, stderr);
		free(errors);
	}
	lifecycle_cleanup();
	return -1;
}

/* See lifecycle.h. */
void
lifecycle_stop(void)
{
	lifecycle_cleanup();
}

/* See lifecycle.h. */
int
lifecycle_run(const char *path)
{
	if (lifecycle_start(path) == -1)
		return 1;
	event_base_dispatch(sluice_base);
	lifecycle_stop();
	return 0;
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

/* See lifecycle.h. */
const char *
lifecycle_version(void)
{
	return SLUICE_VERSION;
}
