/*
 * process: the state of the process, in one struct: the configuration
 * path, the current generation, the listeners, the lifecycle state, the
 * shutdown's timers and counters, the reloads' record, the admin
 * listener. The main thread writes it; workers read state and nretired.
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

struct process	process = {
	.listeners = TAILQ_HEAD_INITIALIZER(process.listeners),
	.retired = TAILQ_HEAD_INITIALIZER(process.retired),
	.last_reload_ok = 1,
};

static const char *process_state_names[] = {
	"running", "notice", "draining", "stopping",
};

/* See process.h. */
const char *
process_state_name(enum process_state st)
{
	return process_state_names[st];
}

/* See process.h. */
void
process_set_state(enum process_state st)
{
	if (process.state == st)
		return;
	log_debug("process: %s -> %s", process_state_name(process.state),
	    process_state_name(st));
	SLUICE_STORE(&process.state, st);
}

/* Log every line of a multi-line error text at error level. */
void
process_log_lines(const char *prefix, const char *text)
{
	const char	*p = text, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_error("%s%.*s", prefix, (int)(nl != NULL ? nl - p :
		    (ptrdiff_t)strlen(p)), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* Tell systemd we are ready, with the generation and the load. */
void
process_notify_status(void)
{
	notify_send("READY=1\nSTATUS=generation %llu, %u exchange(s) in "
	    "flight", (unsigned long long)process.gen_id, exchange_count());
}

/* Write the pid file, if one is configured. */
void
process_pid_file(const char *path, int create)
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

/* How many workers conf asks for: auto is one per CPU. */
unsigned
process_workers(const struct conf *conf)
{
	long	n = conf->global.workers;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > WORKER_MAX ? WORKER_MAX : (unsigned)n;
}

/* Call fn for each listener of the current configuration. */
static void
process_each_listener(void (*fn)(void *, const struct prom_listener *),
    void *arg)
{
	const struct conf_listener	*cl;
	struct prom_listener		 al;
	struct listener			*l;
	size_t				 i;

	if (process.current == NULL)
		return;
	for (i = 0; i < process.current->conf->nlisteners; i++) {
		cl = &process.current->conf->listeners[i];
		al.name = cl->name;
		al.listen = cl->listen.text;
		al.connections = 0;
		al.max_connections = (unsigned)cl->max_connections;
		TAILQ_FOREACH(l, &process.listeners, entry)
			if (l->addr.sslen == cl->listen.sslen &&
			    memcmp(&l->addr.ss, &cl->listen.ss,
			    cl->listen.sslen) == 0)
				al.connections = SLUICE_LOAD(&l->nclients);
		fn(arg, &al);
	}
}

/*
 * The process drain for /status: since the first shutdown signal (or the
 * upgrade), until shutdown_timeout after it, as Unix times.
 */
static void
process_drain_info(struct admin_info *i)
{
	uint64_t	now = sluice_now_ms(), end;
	time_t		wall = time(NULL);

	if (process.state == PROCESS_RUNNING || process.drain_start_ms == 0 ||
	    process.current == NULL)
		return;
	end = process.drain_start_ms +
	    process.current->conf->global.shutdown_timeout_ms;
	i->drain_left_ms = end > now ? end - now : 0;
	i->drain_since = wall - (time_t)((now - process.drain_start_ms) /
	    1000);
	i->drain_deadline = wall + (time_t)((i->drain_left_ms + 500) / 1000);
}

/* See process.h. */
void
process_admin_info(struct admin_info *i)
{
	i->generation = process.gen_id;
	i->state = process_state_name(process.state);
	i->workers = sluice_nworkers;
	i->ready = process.state == PROCESS_RUNNING;
	i->last_reload = process.last_reload;
	i->last_reload_ok = process.last_reload_ok;
	i->last_reload_errors = process.last_reload_errors != NULL ?
	    process.last_reload_errors : "";
	i->reloads_ok = process.reloads_ok;
	i->reloads_failed = process.reloads_failed;
	i->conf = process.current != NULL ? &process.current->conf->admin :
	    NULL;
	i->tls = process.current != NULL ? process.current->admin_tls : NULL;
	i->max_connections = process.current != NULL &&
	    process.current->conf->global.max_connections > 0 ?
	    (unsigned long)process.current->conf->global.max_connections :
	    sluice_conns_auto();
	i->each_listener = process_each_listener;
	process_drain_info(i);
}
