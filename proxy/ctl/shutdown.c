/*
 * shutdown: the three stages. Notice (drain_notice): still accepting,
 * /readyz says 503, every response says Connection: close. Drain: the
 * listeners close (their queues accepted first), in-flight exchanges
 * finish, idle keep-alive connections close after drain_idle_timeout.
 * Hard stop at shutdown_timeout: what remains is ended. The process leaves
 * its loop as soon as nothing is in flight and no client is connected.
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
#include "proxy/front/h2.h"
#include "proxy/front/inherit.h"
#include "proxy/front/listener.h"
#include "proxy/front/nulscan.h"
#include "proxy/ctl/shutdown.h"

/* shutdown_poke, queued by a worker. */
static void
shutdown_poke_main(void *arg)
{
	shutdown_poke();
}

/*
 * Ask the main loop to check whether the drain is over (from any worker;
 * nothing is queued unless a drain runs).
 */
void
shutdown_poke(void)
{
	if (SLUICE_LOAD(&process.state) < PROCESS_DRAINING)
		return;
	if (sluice_worker_id != 0)
		worker_call(0, shutdown_poke_main, NULL);
	else if (process.check_ev != NULL)
		event_active(process.check_ev, EV_TIMEOUT, 0);
}

/* An idle client connection closes after *tv. */
static void
shutdown_idle_client(struct clientconn *c, void *tv)
{
	if (c->busy == NULL)
		bufferevent_set_timeouts(c->scan.bev, tv, NULL);
}

/* In one worker: idle client connections close after ms. */
static void
shutdown_idle_clients_local(void *arg)
{
	struct timeval	 tv = sluice_tv((uint64_t)(uintptr_t)arg);

	clientconn_foreach(shutdown_idle_client, &tv);
}

/* In one worker: HTTP/2 connections go away (arg NULL), or end (not). */
static void
shutdown_h2_local(void *arg)
{
	if (arg == NULL)
		h2_goaway_all();
	else
		h2_close_all();
}

/*
 * Every HTTP/2 connection, idle or busy, hears the shutdown at once (the
 * two GOAWAYs, h2.h); with end, they are closed (the hard stop).
 */
static void
shutdown_h2(int end)
{
	void	*arg = end ? (void *)1 : NULL;

	worker_each(shutdown_h2_local, NULL, arg);
	shutdown_h2_local(arg);
}

/* Close idle client connections: they are what keeps a drain going. */
static void
shutdown_idle_clients_timeout(void)
{
	void	*ms = (void *)(uintptr_t)
		    process.current->conf->global.drain_idle_timeout_ms;

	worker_each(shutdown_idle_clients_local, NULL, ms);
	shutdown_idle_clients_local(ms);
}

/*
 * The end: leave the loop (after grace_ms) with a summary of the drain.
 * Exchanges still open are being ended (hard stop) and count as such.
 */
static void
shutdown_exit(const char *how, uint64_t grace_ms)
{
	struct timeval	tv = sluice_tv(grace_ms);
	uint64_t	finished, killed;

	exchange_totals(&finished, &killed);
	finished -= process.drain_finished;
	killed -= process.drain_killed;
	log_info("shutdown %s after %llu ms: %llu exchange(s) drained, "
	    "%llu ended early", how,
	    (unsigned long long)(sluice_now_ms() - process.drain_start_ms),
	    (unsigned long long)(finished - killed),
	    (unsigned long long)(killed + exchange_count()));
	process_set_state(PROCESS_STOPPING);
	event_base_loopexit(sluice_base, &tv);
}

/* 1 once every listening socket is closed (its queue accepted). */
static int
shutdown_listeners_closed(void)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &process.listeners, entry)
		if (!listener_closed(l))
			return 0;
	return 1;
}

/*
 * Drain over when no socket accepts any more, nothing is in flight and no
 * client is connected.
 */
void
shutdown_check_cb(evutil_socket_t fd, short what, void *arg)
{
	if (process.state == PROCESS_DRAINING && shutdown_listeners_closed() &&
	    exchange_count() == 0 && clientconn_count() == 0)
		shutdown_exit("complete", 0);
	else if (process.state == PROCESS_STOPPING && exchange_count() == 0)
		event_base_loopexit(sluice_base, NULL);
}

/*
 * Hard stop: end what remains. Responses not started get a 503 that is
 * given a moment to flush; started ones are cut at once.
 */
void
shutdown_hard(void)
{
	if (process.state == PROCESS_STOPPING)
		return;
	if (process.drain_start_ms == 0) {
		process.drain_start_ms = sluice_now_ms();
		exchange_totals(&process.drain_finished, &process.drain_killed);
	}
	/* a warning only when something is cut (SIGQUIT when idle is not) */
	if (exchange_count() > 0)
		log_warn("hard stop: ending %u exchange(s) in flight",
		    exchange_count());
	else
		log_info("hard stop: no exchange in flight");
	exchange_set_closing(1);
	exchange_kill_all(EXCHANGE_WHO_KILLED);
	shutdown_h2(1);
	shutdown_exit("forced", exchange_count() > 0 ? 200 : 0);
}

/* shutdown_timeout passed. */
void
shutdown_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	shutdown_hard();
}

/* Stage 2: stop accepting (queued connections first) and drain. */
static void
shutdown_drain(void)
{
	struct listener	*l;

	process_set_state(PROCESS_DRAINING);
	log_info("shutdown: draining %u exchange(s), %u connection(s)",
	    exchange_count(), clientconn_count());
	notify_send("STOPPING=1\nSTATUS=draining %u exchange(s)",
	    exchange_count());
	TAILQ_FOREACH(l, &process.listeners, entry)
		listener_close(l);
	shutdown_idle_clients_timeout();
	shutdown_poke();
}

/* drain_notice passed. */
void
shutdown_notice_cb(evutil_socket_t fd, short what, void *arg)
{
	if (process.state == PROCESS_NOTICE)
		shutdown_drain();
}

/* SIGTERM/SIGINT: notice, then drain; a second signal stops at once. */
void
shutdown_begin(void)
{
	const struct conf_global	*g;
	struct timeval			 tv;

	/* a signal may come while lifecycle_cleanup runs the last loop turn,
	 * stopping, with no current generation any more */
	if (process.state != PROCESS_RUNNING) {
		shutdown_hard();
		return;
	}
	g = &process.current->conf->global;
	process.drain_start_ms = sluice_now_ms();
	exchange_totals(&process.drain_finished, &process.drain_killed);
	exchange_set_closing(1);
	shutdown_h2(0);
	tv = sluice_tv(g->shutdown_timeout_ms);
	evtimer_add(process.stop_ev, &tv);
	if (g->drain_notice_ms == 0) {
		shutdown_drain();
		return;
	}
	process_set_state(PROCESS_NOTICE);
	notify_send("STOPPING=1\nSTATUS=shutdown notice");
	log_info("shutdown: notice for %llu ms; still accepting",
	    (unsigned long long)g->drain_notice_ms);
	tv = sluice_tv(g->drain_notice_ms);
	evtimer_add(process.notice_ev, &tv);
}

/* The new binary is serving: this process drains and exits. */
void
shutdown_upgraded(long pid)
{
	struct listener	*l;
	struct timeval	 tv;

	log_info("upgrade: pid %ld is ready; draining", pid);
	notify_send("MAINPID=%ld", pid);
	TAILQ_FOREACH(l, &process.listeners, entry)
		l->shared = 1;	/* the new process accepts on them now */
	/* its /readyz is the one that answers from now on */
	admin_free(process.admin);
	process.admin = NULL;
	process.drain_start_ms = sluice_now_ms();
	exchange_totals(&process.drain_finished, &process.drain_killed);
	exchange_set_closing(1);
	shutdown_h2(0);
	tv = sluice_tv(process.current->conf->global.shutdown_timeout_ms);
	evtimer_add(process.stop_ev, &tv);
	shutdown_drain();
}
