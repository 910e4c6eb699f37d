/*
 * prom: the /metrics page. The events the proxy counted come from the
 * metrics store; gauges from the process state the caller passes; the
 * per-server families from the server registry, read when the page is
 * rendered; the process families from /proc.
 *
 * A reload that changes a server's address keeps the old object
 * (draining) next to the new one under the same upstream/server names;
 * such twins make one series: counts are summed, and up/draining/weight
 * come from the one the configuration lists (the first active one).
 */
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "proxy/back/queue.h"
#include "proxy/back/server.h"
#include "proxy/base/version.h"
#include "proxy/base/metrics.h"
#include "proxy/base/promtext.h"
#include "proxy/base/runtime.h"
#include "proxy/ctl/prom.h"
#include "proxy/front/nulscan.h"

/* Where prom_listener writes, and which family. */
struct prom_ls {
	struct promtext	*o;
	int		 max;		/* sluice_connections_max */
};

/* One listener's sample. */
static void
prom_listener(void *arg, const struct prom_listener *l)
{
	static const char *const	 label = "listener";
	struct prom_ls			*ls = arg;

	if (ls->max && l->max_connections > 0)
		promtext_line_u64(ls->o, "sluice_connections_max", "", 1,
		    &label, &l->name, l->max_connections);
	else if (!ls->max)
		promtext_line_u64(ls->o, "sluice_connections", "", 1, &label,
		    &l->name, l->connections);
}

/*
 * sluice_connections and sluice_connections_max: the sample without a
 * listener label is the whole process (the global max_connections), the
 * others each listener's (its own limit, when it has one).
 */
static void
prom_connections(struct promtext *o, const struct prom_gauges *g)
{
	struct prom_ls	ls = { o, 0 };

	promtext_head(o, "sluice_connections", "gauge",
	    "Open client connections: all, and by listener.");
	promtext_line_u64(o, "sluice_connections", "", 0, NULL, NULL,
	    g->connections);
	if (g->each_listener != NULL)
		g->each_listener(prom_listener, &ls);
	promtext_head(o, "sluice_connections_max", "gauge",
	    "Client connections allowed: all (max_connections), and by "
	    "listener.");
	promtext_line_u64(o, "sluice_connections_max", "", 0, NULL, NULL,
	    g->max_connections);
	ls.max = 1;
	if (g->each_listener != NULL)
		g->each_listener(prom_listener, &ls);
}

/* Append what the rest of the proxy keeps (g NULL: zeros, no state). */
static void
prom_gauges_write(struct promtext *o, const struct prom_gauges *g)
{
	static const struct prom_gauges	 zero;
	static const char *const		 results[] = { "ok", "failed" };
	const char				*label = "state";
	const char				*vlabel = "version";
	const char				*version = SLUICE_VERSION;
	uint64_t				 reloads[2], bodies, waits;

	if (g == NULL)
		g = &zero;
	promtext_head(o, "sluice_build_info", "gauge",
	    "Always 1: the version of this sluice, as its label.");
	promtext_line(o, "sluice_build_info", "", 1, &vlabel, &version, "1");
	promtext_scalar(o, "sluice_generation", "gauge",
	    "The current configuration generation.", g->generation);
	promtext_head(o, "sluice_state", "gauge",
	    "The lifecycle state sluice is in (1 for the current one).");
	if (g->state != NULL)
		promtext_line(o, "sluice_state", "", 1, &label, &g->state, "1");
	reloads[0] = g->reloads_ok;
	reloads[1] = g->reloads_failed;
	promtext_enum(o, "sluice_reloads_total",
	    "Configuration reloads by result.", "result", results, reloads, 2);
	promtext_scalar(o, "sluice_in_flight", "gauge",
	    "Exchanges in progress.", g->in_flight);
	promtext_scalar(o, "sluice_client_connections", "gauge",
	    "Open client connections.", g->connections);
	prom_connections(o, g);
	bodies = nulscan_buffered_bodies(&waits);
	promtext_scalar(o, "sluice_request_body_bytes_buffered", "gauge",
	    "Request body bytes read and not yet answered "
	    "(max_buffered_bodies bounds them).", g == &zero ? 0 : bodies);
	promtext_scalar(o, "sluice_request_body_waits_total", "counter",
	    "Times a connection stopped being read for max_buffered_bodies.",
	    g == &zero ? 0 : waits);
	promtext_scalar(o, "sluice_tls_ticket_key_rotations_total", "counter",
	    "Rotations of the TLS session-ticket keys.", g->ticket_rotations);
}

/*
 * Per-server families
 */

/* What a server family shows, as an index into prom_srv.v. */
enum prom_srv_value {
	PROM_SRV_INFLIGHT = 0,
	PROM_SRV_IDLE,
	PROM_SRV_BUSY,
	PROM_SRV_OPENED,
	PROM_SRV_REUSED,
	PROM_SRV_UP,
	PROM_SRV_DRAINING,
	PROM_SRV_INVALID,
	PROM_SRV_HELD,
	PROM_SRV_RETIRED,
	PROM_SRV_SAFE_FRESH,
	PROM_SRV_IDLE_CLOSE,		/* ms */
	PROM_SRV_WEIGHT,
	PROM_SRV_N,
};

/* One upstream/server identity: its twins summed (see the top). */
struct prom_srv {
	const struct server	*rep;	/* the one up/draining/weight come
					 * from */
	uint64_t		 v[PROM_SRV_N];
};

/* The per-server families, in page order. */
static const struct prom_srv_family {
	const char		*name;
	const char		*type;
	const char		*help;
	enum prom_srv_value	 value;
	int			 ms;	/* the value is in ms: show s */
} prom_srv_families[] = {
	{ "sluice_server_in_flight", "gauge",
	    "Exchanges using the server now.", PROM_SRV_INFLIGHT, 0 },
	{ "sluice_upstream_connections_idle", "gauge",
	    "Pooled idle connections to the server.", PROM_SRV_IDLE, 0 },
	{ "sluice_upstream_connections_busy", "gauge",
	    "Connections to the server carrying an exchange.",
	    PROM_SRV_BUSY, 0 },
	{ "sluice_upstream_connections_opened_total", "counter",
	    "Connections opened to the server.", PROM_SRV_OPENED, 0 },
	{ "sluice_upstream_connections_reused_total", "counter",
	    "Requests sent on a pooled connection.", PROM_SRV_REUSED, 0 },
	{ "sluice_server_up", "gauge",
	    "1 when health checks have the server in service.",
	    PROM_SRV_UP, 0 },
	{ "sluice_server_draining", "gauge",
	    "1 when the server takes no new requests (removed or drained).",
	    PROM_SRV_DRAINING, 0 },
	{ "sluice_upstream_invalid_responses_total", "counter",
	    "Malformed responses from the server (each a 502).",
	    PROM_SRV_INVALID, 0 },
	{ "sluice_server_ejections_held_total", "counter",
	    "Failures that would have taken the server out past max_ejected.",
	    PROM_SRV_HELD, 0 },
	{ "sluice_upstream_connections_retired_total", "counter",
	    "Pooled connections closed before the server's learned idle "
	    "timeout.", PROM_SRV_RETIRED, 0 },
	{ "sluice_upstream_safe_fresh_total", "counter",
	    "Requests that must not be repeated sent on a new connection: "
	    "the pooled ones had idled past the safe age.",
	    PROM_SRV_SAFE_FRESH, 0 },
	{ "sluice_upstream_idle_timeout_seconds", "gauge",
	    "The server's idle timeout as learned from its closes (0: none).",
	    PROM_SRV_IDLE_CLOSE, 1 },
	{ "sluice_server_weight", "gauge",
	    "The weight in use: the admin's, else the configured one "
	    "(0: no new requests).", PROM_SRV_WEIGHT, 0 },
};

/* 1 when s takes no new requests by admin state. */
static int
prom_server_draining(const struct server *s)
{
	return SLUICE_LOAD(&s->state) == SERVER_DRAINING ||
	    SLUICE_LOAD(&s->admin_drain);
}

/* Add s to the table of n identities (linear: a few hundred at most). */
static void
prom_srv_add(struct prom_srv *t, size_t *n, const struct server *s)
{
	struct prom_srv	*e;
	size_t			 i;
	unsigned		 idle, busy;

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].rep->upstream, s->upstream) == 0 &&
		    strcmp(t[i].rep->name, s->name) == 0)
			break;
	e = &t[i];
	if (i == *n) {
		(*n)++;
		e->rep = s;
	} else if (e->rep->state != SERVER_ACTIVE &&
	    s->state == SERVER_ACTIVE)
		e->rep = s;
	server_conns(s, &idle, &busy);
	e->v[PROM_SRV_INFLIGHT] += SLUICE_LOAD(&s->inflight);
	e->v[PROM_SRV_IDLE] += idle;
	e->v[PROM_SRV_BUSY] += busy;
	e->v[PROM_SRV_OPENED] += SLUICE_LOAD(&s->connects);
	e->v[PROM_SRV_REUSED] += SLUICE_LOAD(&s->reuses);
	e->v[PROM_SRV_INVALID] += SLUICE_LOAD(&s->invalid);
	e->v[PROM_SRV_HELD] += SLUICE_LOAD(&s->held);
	e->v[PROM_SRV_RETIRED] += SLUICE_LOAD(&s->retired);
	e->v[PROM_SRV_SAFE_FRESH] += SLUICE_LOAD(&s->safe_fresh);
}

/* The registry as identities; *n of them. NULL: out of memory. */
static struct prom_srv *
prom_srv_table(size_t *n)
{
	struct server_list	*reg = server_registry();
	struct prom_srv	*t;
	const struct server	*s;
	uint64_t		 now = sluice_now_ms();
	size_t			 count = 0, i;

	TAILQ_FOREACH(s, reg, entry)
		count++;
	if ((t = calloc(count > 0 ? count : 1, sizeof(*t))) == NULL)
		return NULL;
	*n = 0;
	TAILQ_FOREACH(s, reg, entry)
		prom_srv_add(t, n, s);
	for (i = 0; i < *n; i++) {
		t[i].v[PROM_SRV_UP] = server_up(t[i].rep, now) ? 1 : 0;
		t[i].v[PROM_SRV_DRAINING] =
		    prom_server_draining(t[i].rep);
		t[i].v[PROM_SRV_IDLE_CLOSE] =
		    server_idle_timeout_ms(t[i].rep);
		t[i].v[PROM_SRV_WEIGHT] = (uint64_t)server_weight(t[i].rep,
		    t[i].rep->conf_weight);
	}
	return t;
}

/* Append the per-server families, from the registry. */
static void
prom_servers(struct promtext *o)
{
	static const char *const	 names[] = { "upstream", "server" };
	const struct prom_srv_family	*f;
	const char			*values[2];
	struct prom_srv		*t;
	size_t				 n, i, j;

	if ((t = prom_srv_table(&n)) == NULL) {
		o->failed = 1;
		return;
	}
	for (j = 0; j < sizeof(prom_srv_families) /
	    sizeof(*prom_srv_families); j++) {
		f = &prom_srv_families[j];
		promtext_head(o, f->name, f->type, f->help);
		for (i = 0; i < n; i++) {
			values[0] = t[i].rep->upstream;
			values[1] = t[i].rep->name;
			if (f->ms)
				promtext_line_double(o, f->name, "", 2, names,
				    values, (double)t[i].v[f->value] / 1e3);
			else
				promtext_line_u64(o, f->name, "", 2, names,
				    values, t[i].v[f->value]);
		}
	}
	free(t);
}

/* Append the per-upstream queue families, from the queue registry. */
static void
prom_queues(struct promtext *o)
{
	static const struct {
		const char	*name, *type, *help;
	} fam[] = {
		{ "sluice_queue_depth", "gauge",
		    "Requests waiting in an upstream's queue now." },
		{ "sluice_queue_requests_total", "counter",
		    "Requests that waited in an upstream's queue." },
		{ "sluice_queue_overflows_total", "counter",
		    "Requests refused (503) with the upstream's queue full." },
		{ "sluice_queue_timeouts_total", "counter",
		    "Requests that waited queue_timeout (503)." },
	};
	static const char *const	 names[] = { "upstream" };
	const struct upqueue		*q;
	const char			*values[1];
	uint64_t			 v;
	size_t				 j;

	for (j = 0; j < sizeof(fam) / sizeof(*fam); j++) {
		promtext_head(o, fam[j].name, fam[j].type, fam[j].help);
		TAILQ_FOREACH(q, upqueue_registry(), entry) {
			values[0] = q->name;
			v = j == 0 ? upqueue_depth(q) : j == 1 ?
			    SLUICE_LOAD(&q->queued) : j == 2 ?
			    SLUICE_LOAD(&q->overflows) :
			    SLUICE_LOAD(&q->timeouts);
			promtext_line_u64(o, fam[j].name, "", 1, names, values,
			    v);
		}
	}
}

/*
 * Process families (Linux /proc; elsewhere only what getrusage and
 * getrlimit give)
 */

/* Read the first line of path that starts with prefix; -1: none. */
static int
prom_read_line(const char *path, const char *prefix, char *buf,
    size_t size)
{
	FILE	*fp;
	int	 found = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (!found && fgets(buf, (int)size, fp) != NULL)
		found = strncmp(buf, prefix, strlen(prefix)) == 0;
	fclose(fp);
	return found ? 0 : -1;
}

/* CPU time used (user + system), in seconds; -1 when unknown. */
static double
prom_cpu_seconds(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Virtual (field 0) or resident (field 1) size in bytes; -1: unknown. */
static double
prom_memory_bytes(int field)
{
	char			 buf[256];
	unsigned long long	 size, resident;
	long			 page = sysconf(_SC_PAGESIZE);

	if (page <= 0 ||
	    prom_read_line("/proc/self/statm", "", buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -1;
	return (double)(field == 0 ? size : resident) * (double)page;
}

/* Start time since the epoch in seconds (stat starttime + btime); -1. */
static double
prom_start_time(void)
{
	char			 buf[1024], *p;
	unsigned long long	 start, btime;
	long			 hz = sysconf(_SC_CLK_TCK);
	int			 i;

	if (hz <= 0 ||
	    prom_read_line("/proc/stat", "btime ", buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "btime %llu", &btime) != 1 ||
	    prom_read_line("/proc/self/stat", "", buf, sizeof(buf)) == -1 ||
	    (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after "pid (comm)": starttime is the 20th field */
	for (i = 0; i < 19 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &start) != 1)
		return -1;
	return (double)btime + (double)start / (double)hz;
}

/* Open file descriptors (entries of /proc/self/fd); -1 when unknown. */
static double
prom_open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	double		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* The soft limit on open file descriptors; -1 when unknown or none. */
static double
prom_max_fds(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return -1;
	return (double)rl.rlim_cur;
}

/* Append the process families (no sample when a value is unknown). */
static void
prom_process(struct promtext *o)
{
	static const struct {
		const char	*name;
		const char	*type;
		const char	*help;
	} fam[] = {
		{ "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds." },
		{ "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes." },
		{ "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes." },
		{ "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds." },
		{ "process_open_fds", "gauge",
		    "Number of open file descriptors." },
		{ "process_max_fds", "gauge",
		    "Maximum number of open file descriptors." },
	};
	double	 v[6];
	size_t	 i;

	v[0] = prom_cpu_seconds();
	v[1] = prom_memory_bytes(1);
	v[2] = prom_memory_bytes(0);
	v[3] = prom_start_time();
	v[4] = prom_open_fds();
	v[5] = prom_max_fds();
	for (i = 0; i < sizeof(fam) / sizeof(*fam); i++) {
		promtext_head(o, fam[i].name, fam[i].type, fam[i].help);
		if (v[i] >= 0)
			promtext_line_double(o, fam[i].name, "", 0, NULL, NULL,
			    v[i]);
	}
}

/*
 * See prom.h. The page is made in a buffer of its own and moved (not
 * copied) to out, so a failure leaves out as it was.
 */
int
prom_render(struct evbuffer *out, const struct prom_gauges *g)
{
	struct promtext	 o = { NULL, 0 };

	if ((o.buf = evbuffer_new()) == NULL)
		return -1;
	prom_gauges_write(&o, g);
	metrics_write(&o);
	prom_servers(&o);
	prom_queues(&o);
	prom_process(&o);
	if (!o.failed && evbuffer_add_buffer(out, o.buf) == -1)
		o.failed = 1;
	evbuffer_free(o.buf);
	return o.failed ? -1 : 0;
}
