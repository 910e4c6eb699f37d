/*
 * metrics: counters and histograms for GET /metrics, in the Prometheus
 * text exposition format, version 0.0.4.
 *
 * Storage. Each labelled family keeps one series per distinct tuple of
 * label values in a small chained hash map that doubles as it fills. A
 * series copies its label strings once, when it is created, into its own
 * allocation; after that an event costs one cheap hash per label string
 * (a word at a time), one lookup and a few additions: no allocation and
 * no formatting, which waits for metrics_render. The number of series is
 * bounded by the configuration (listeners x upstreams x servers x six
 * status classes), so nothing is evicted; everything lives until
 * metrics_free. When memory runs out creating a series, that event is
 * not counted (and the next one tries again).
 *
 * Label values. A name that is absent (NULL) or empty is rendered "-":
 * a request that never reached an upstream is counted under
 * {upstream="-",server="-"}, and "-" is the only spelling of "none" on
 * the page (a configured name "-" would share those series). The status
 * class is "1xx".."5xx", or "none" when no status (or no valid one) was
 * sent. Values are escaped (backslash, double quote, newline) when the
 * page is rendered.
 *
 * Per-server families are read from the server registry when the page is
 * rendered. A reload that changes a server's address keeps the old object
 * (draining) next to the new one under the same upstream/server names;
 * such twins make one series: counts are summed, and up/draining/weight
 * come from the one the configuration lists (the first active one).
 */
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "proxy/base/metrics.h"
#include "proxy/base/runtime.h"
#include "proxy/back/server.h"

#define METRICS_MAXLABELS	4
#define METRICS_NBUCKETS	15	/* histogram buckets, +Inf included */
#define METRICS_MINSIZE		16	/* hash buckets in a new table */
#define METRICS_K		0x517cc1b727220a95ULL	/* FxHash */

/* Upper bounds of the histogram buckets, in seconds. */
static const double metrics_le[METRICS_NBUCKETS - 1] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60,
};

/* The same bounds as rendered in le="...". */
static const char *const metrics_le_text[METRICS_NBUCKETS] = {
	"0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60", "+Inf",
};

/* Status classes by status / 100; "none" for anything else. */
static const char *const metrics_classes[] = {
	"none", "1xx", "2xx", "3xx", "4xx", "5xx",
};

static const char *const metrics_timeout_names[METRICS_TIMEOUT_N] = {
	"connect", "read", "write",
};

static const char *const metrics_ended_names[METRICS_ENDED_N] = {
	"drain_timeout", "killed",
};

/* One label value of an event, hashed once. */
struct metrics_label {
	const char	*s;
	size_t		 len;
	uint64_t	 hash;
};

/* One tuple of label values and what was counted under it. */
struct metrics_series {
	struct metrics_series	*next;		/* hash chain */
	struct metrics_series	*link;		/* creation order, to render */
	uint64_t		 hash;
	const char		*value[METRICS_MAXLABELS]; /* in this block */
	size_t			 len[METRICS_MAXLABELS];
	uint64_t		 count;
	double			 sum;		/* histograms */
	uint64_t		 bucket[];	/* histograms: per bucket, not
						 * cumulative; values follow */
};

/* A labelled counter or histogram and its series. */
struct metrics_family {
	const char		*name;
	const char		*help;
	int			 histogram;	/* 0: counter */
	int			 nlabels;
	const char		*label[METRICS_MAXLABELS];
	struct metrics_series	**table;	/* size chains, a power of 2 */
	size_t			 size;
	size_t			 n;
	struct metrics_series	*first;		/* creation order */
	struct metrics_series	*last;
};

static struct metrics_family metrics_requests = {
	"sluice_requests_total",
	"Finished exchanges by listener, upstream, server and status class.",
	0, 4, { "listener", "upstream", "server", "code" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family metrics_request_duration = {
	"sluice_request_duration_seconds",
	"Total time of finished exchanges, in seconds.",
	1, 1, { "listener" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family metrics_upstream_duration = {
	"sluice_upstream_duration_seconds",
	"Time of the upstream part of finished exchanges, in seconds.",
	1, 1, { "upstream" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family metrics_health_transitions = {
	"sluice_health_transitions_total",
	"Servers going in or out of service by health.",
	0, 3, { "upstream", "server", "to" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family *const metrics_families[] = {
	&metrics_requests, &metrics_request_duration,
	&metrics_upstream_duration, &metrics_health_transitions,
};

/* Workers count, the main thread renders: one lock over the storage. */
static pthread_mutex_t	metrics_mu = PTHREAD_MUTEX_INITIALIZER;

#define METRICS_LOCK()	do {						\
	if (sluice_nworkers > 1)					\
		pthread_mutex_lock(&metrics_mu);			\
} while (0)
#define METRICS_UNLOCK()	do {					\
	if (sluice_nworkers > 1)					\
		pthread_mutex_unlock(&metrics_mu);			\
} while (0)

static uint64_t	metrics_timeouts[METRICS_TIMEOUT_N];
static uint64_t	metrics_retries;
static uint64_t	metrics_ended_count[METRICS_ENDED_N];

/*
 * Storage
 */

/* FxHash's step: rotate, xor a word in, multiply. */
static inline uint64_t
metrics_mix(uint64_t h, uint64_t w)
{
	return ((h << 5 | h >> 59) ^ w) * METRICS_K;
}

/* Point l at s ("-" for NULL or empty) and hash it a word at a time. */
static void
metrics_label_set(struct metrics_label *l, const char *s)
{
	uint64_t	 h, w;
	size_t		 i;
	unsigned	 n;

	if (s == NULL || *s == '\0')
		s = "-";
	l->s = s;
	l->len = strlen(s);
	h = l->len;
	for (i = 0; i + 8 <= l->len; i += 8) {
		memcpy(&w, s + i, 8);
		h = metrics_mix(h, w);
	}
	if (i < l->len) {
		/* in a register: a short memcpy would stall the load */
		for (w = 0, n = 0; i < l->len; i++, n += 8)
			w |= (uint64_t)(unsigned char)s[i] << n;
		h = metrics_mix(h, w);
	}
	l->hash = h;
}

/* The label of a status's class, hashed on first use. */
static const struct metrics_label *
metrics_class(int status)
{
	static __thread struct metrics_label	 labels[6];
	static __thread int			 ready;
	int				 i;

	if (!ready) {
		for (i = 0; i < 6; i++)
			metrics_label_set(&labels[i], metrics_classes[i]);
		ready = 1;
	}
	return &labels[status >= 100 && status < 600 ? status / 100 : 0];
}

/* The hash of a tuple: its labels' hashes folded, then mixed (fmix64). */
static uint64_t
metrics_key_hash(const struct metrics_label *const *k, int n)
{
	uint64_t	 h = 0;
	int		 i;

	for (i = 0; i < n; i++)
		h = metrics_mix(h, k[i]->hash);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* 1 when the n bytes at a and b are equal; n is 1, 2, 4 or 8. */
static inline int
metrics_same_word(const char *a, const char *b, size_t n)
{
	uint64_t	 x = 0, y = 0;

	memcpy(&x, a, n);
	memcpy(&y, b, n);
	return x == y;
}

/*
 * 1 when the len bytes at a and b are equal. Names are short, so this is
 * inline and without a byte loop: the tail is compared by loads that
 * overlap what came before.
 */
static inline int
metrics_same(const char *a, const char *b, size_t len)
{
	size_t	 i;

	if (len >= 8) {
		for (i = 0; i + 8 <= len; i += 8)
			if (!metrics_same_word(a + i, b + i, 8))
				return 0;
		return metrics_same_word(a + len - 8, b + len - 8, 8);
	}
	if (len >= 4)
		return metrics_same_word(a, b, 4) &&
		    metrics_same_word(a + len - 4, b + len - 4, 4);
	if (len >= 2)
		return metrics_same_word(a, b, 2) &&
		    metrics_same_word(a + len - 2, b + len - 2, 2);
	return len == 0 || *a == *b;
}

/* 1 when series s has exactly the label values k. */
static int
metrics_series_match(const struct metrics_series *s,
    const struct metrics_label *const *k, int n, uint64_t hash)
{
	int	 i;

	if (s->hash != hash)
		return 0;
	for (i = 0; i < n; i++)
		if (s->len[i] != k[i]->len ||
		    !metrics_same(s->value[i], k[i]->s, k[i]->len))
			return 0;
	return 1;
}

/* Double f's table; on failure keep the old one (longer chains). */
static void
metrics_grow(struct metrics_family *f)
{
	struct metrics_series	**t, *s, *next;
	size_t			  size, i, b;

	size = f->size == 0 ? METRICS_MINSIZE : f->size * 2;
	if ((t = calloc(size, sizeof(*t))) == NULL)
		return;
	for (i = 0; i < f->size; i++)
		for (s = f->table[i]; s != NULL; s = next) {
			next = s->next;
			b = s->hash & (size - 1);
			s->next = t[b];
			t[b] = s;
		}
	free(f->table);
	f->table = t;
	f->size = size;
}

/* A new zeroed series for k in f, with copies of the values; NULL: ENOMEM. */
static struct metrics_series *
metrics_series_new(struct metrics_family *f,
    const struct metrics_label *const *k, uint64_t hash)
{
	struct metrics_series	*s;
	size_t			 size, nb;
	char			*p;
	int			 i;

	if (f->n >= f->size)
		metrics_grow(f);
	if (f->size == 0)
		return NULL;
	nb = f->histogram ? METRICS_NBUCKETS : 0;
	size = sizeof(*s) + nb * sizeof(s->bucket[0]);
	for (i = 0; i < f->nlabels; i++)
		size += k[i]->len + 1;
	if ((s = calloc(1, size)) == NULL)
		return NULL;
	p = (char *)&s->bucket[nb];
	for (i = 0; i < f->nlabels; i++) {
		memcpy(p, k[i]->s, k[i]->len + 1);
		s->value[i] = p;
		s->len[i] = k[i]->len;
		p += k[i]->len + 1;
	}
	s->hash = hash;
	s->next = f->table[hash & (f->size - 1)];
	f->table[hash & (f->size - 1)] = s;
	if (f->last != NULL)
		f->last->link = s;
	else
		f->first = s;
	f->last = s;
	f->n++;
	return s;
}

/* The series of f for the label values k, created if new; NULL: ENOMEM. */
static struct metrics_series *
metrics_series_get(struct metrics_family *f,
    const struct metrics_label *const *k)
{
	struct metrics_series	*s;
	uint64_t		 hash;

	hash = metrics_key_hash(k, f->nlabels);
	if (f->size != 0)
		for (s = f->table[hash & (f->size - 1)]; s != NULL;
		    s = s->next)
			if (metrics_series_match(s, k, f->nlabels, hash))
				return s;
	return metrics_series_new(f, k, hash);
}

/* Add one observation of v seconds to histogram series s. */
static void
metrics_observe(struct metrics_series *s, double v)
{
	int	 i;

	for (i = 0; i < METRICS_NBUCKETS - 1; i++)
		if (v <= metrics_le[i])
			break;
	s->bucket[i]++;
	s->sum += v;
	s->count++;
}

/* Free f's series and table; f is empty and usable again. */
static void
metrics_family_clear(struct metrics_family *f)
{
	struct metrics_series	*s, *next;

	for (s = f->first; s != NULL; s = next) {
		next = s->link;
		free(s);
	}
	free(f->table);
	f->table = NULL;
	f->size = f->n = 0;
	f->first = f->last = NULL;
}

/*
 * Events
 */

/* Count one finished exchange; see metrics.h. */
void
metrics_exchange(const char *listener, const char *upstream,
    const char *server, int status, double total_s, double upstream_s)
{
	struct metrics_label		 l, u, sv;
	const struct metrics_label	*k[4] = { &l, &u, &sv,
					    metrics_class(status) };
	struct metrics_series		*s;

	metrics_label_set(&l, listener);
	metrics_label_set(&u, upstream);
	metrics_label_set(&sv, server);
	if (!(total_s >= 0))		/* negative or NaN */
		total_s = 0;
	METRICS_LOCK();
	if ((s = metrics_series_get(&metrics_requests, k)) != NULL)
		s->count++;
	if ((s = metrics_series_get(&metrics_request_duration, k)) != NULL)
		metrics_observe(s, total_s);
	if (upstream_s >= 0 && (s = metrics_series_get(
	    &metrics_upstream_duration, k + 1)) != NULL)
		metrics_observe(s, upstream_s);
	METRICS_UNLOCK();
}

/* Count an upstream timeout of this kind. */
void
metrics_timeout(enum metrics_timeout kind)
{
	if ((unsigned)kind < METRICS_TIMEOUT_N)
		SLUICE_INC(&metrics_timeouts[kind]);
}

/* Count a retry. */
void
metrics_retry(void)
{
	SLUICE_INC(&metrics_retries);
}

/* Count a server going up (up != 0) or down by health. */
void
metrics_health(const char *upstream, const char *server, int up)
{
	struct metrics_label		 u, sv, to;
	const struct metrics_label	*k[3] = { &u, &sv, &to };
	struct metrics_series		*s;

	metrics_label_set(&u, upstream);
	metrics_label_set(&sv, server);
	metrics_label_set(&to, up ? "up" : "down");
	METRICS_LOCK();
	if ((s = metrics_series_get(&metrics_health_transitions, k)) != NULL)
		s->count++;
	METRICS_UNLOCK();
}

/* Count an exchange cut short by sluice for this reason. */
void
metrics_ended(enum metrics_ended why)
{
	if ((unsigned)why < METRICS_ENDED_N)
		SLUICE_INC(&metrics_ended_count[why]);
}

/* Free every series and zero every counter; events may follow. */
void
metrics_free(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(metrics_families) / sizeof(*metrics_families);
	    i++)
		metrics_family_clear(metrics_families[i]);
	memset(metrics_timeouts, 0, sizeof(metrics_timeouts));
	metrics_retries = 0;
	memset(metrics_ended_count, 0, sizeof(metrics_ended_count));
}

/*
 * Rendering
 */

/* The page being written; the first failure sticks. */
struct metrics_out {
	struct evbuffer	*buf;
	int		 failed;
};

/* Append len bytes of s. */
static void
metrics_add(struct metrics_out *o, const char *s, size_t len)
{
	if (!o->failed && evbuffer_add(o->buf, s, len) == -1)
		o->failed = 1;
}

/* Append a NUL-terminated string. */
static void
metrics_puts(struct metrics_out *o, const char *s)
{
	metrics_add(o, s, strlen(s));
}

/* Append a label value with backslash, double quote and newline escaped. */
static void
metrics_escaped(struct metrics_out *o, const char *s)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, "\\\"\n");
		metrics_add(o, s, n);
		s += n;
		if (*s == '\0')
			return;
		metrics_add(o, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
		    "\\n", 2);
		s++;
	}
}

/* Append "# HELP" and "# TYPE" for a family. */
static void
metrics_head(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	metrics_puts(o, "# HELP ");
	metrics_puts(o, name);
	metrics_puts(o, " ");
	metrics_puts(o, help);
	metrics_puts(o, "\n# TYPE ");
	metrics_puts(o, name);
	metrics_puts(o, " ");
	metrics_puts(o, type);
	metrics_puts(o, "\n");
}

/*
 * Append one sample line: name and suffix, the n labels (names[i] =
 * "values[i]", none when n is 0) and the value's text.
 */
static void
metrics_line(struct metrics_out *o, const char *name, const char *suffix,
    int n, const char *const *names, const char *const *values,
    const char *value)
{
	int	 i;

	metrics_puts(o, name);
	metrics_puts(o, suffix);
	for (i = 0; i < n; i++) {
		metrics_puts(o, i == 0 ? "{" : ",");
		metrics_puts(o, names[i]);
		metrics_puts(o, "=\"");
		metrics_escaped(o, values[i]);
		metrics_puts(o, "\"");
	}
	metrics_puts(o, n > 0 ? "} " : " ");
	metrics_puts(o, value);
	metrics_puts(o, "\n");
}

/* A sample line with an integer value. */
static void
metrics_line_u64(struct metrics_out *o, const char *name, const char *suffix,
    int n, const char *const *names, const char *const *values, uint64_t v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	metrics_line(o, name, suffix, n, names, values, buf);
}

/* A double as Go's ParseFloat reads it, in the fewest digits that do. */
static void
metrics_format_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%cInf", v > 0 ? '+' : '-');
	else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

/* A sample line with a floating-point value. */
static void
metrics_line_double(struct metrics_out *o, const char *name,
    const char *suffix, int n, const char *const *names,
    const char *const *values, double v)
{
	char	 buf[32];

	metrics_format_double(buf, sizeof(buf), v);
	metrics_line(o, name, suffix, n, names, values, buf);
}

/* Append one histogram series: cumulative buckets, _sum and _count. */
static void
metrics_render_histogram(struct metrics_out *o,
    const struct metrics_family *f, const struct metrics_series *s)
{
	const char	*names[METRICS_MAXLABELS + 1];
	const char	*values[METRICS_MAXLABELS + 1];
	uint64_t	 cum = 0;
	int		 i, n = f->nlabels;

	memcpy(names, f->label, n * sizeof(*names));
	memcpy(values, s->value, n * sizeof(*values));
	names[n] = "le";
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += s->bucket[i];
		values[n] = metrics_le_text[i];
		metrics_line_u64(o, f->name, "_bucket", n + 1, names, values,
		    cum);
	}
	metrics_line_double(o, f->name, "_sum", n, names, values, s->sum);
	metrics_line_u64(o, f->name, "_count", n, names, values, s->count);
}

/* Append a labelled family with all its series, in creation order. */
static void
metrics_render_family(struct metrics_out *o, const struct metrics_family *f)
{
	const struct metrics_series	*s;

	metrics_head(o, f->name, f->histogram ? "histogram" : "counter",
	    f->help);
	for (s = f->first; s != NULL; s = s->link)
		if (f->histogram)
			metrics_render_histogram(o, f, s);
		else
			metrics_line_u64(o, f->name, "", f->nlabels, f->label,
			    s->value, s->count);
}

/* Append a counter with one label over a fixed set of values. */
static void
metrics_render_enum(struct metrics_out *o, const char *name,
    const char *help, const char *label, const char *const *values,
    const uint64_t *counts, int n)
{
	int	 i;

	metrics_head(o, name, "counter", help);
	for (i = 0; i < n; i++)
		metrics_line_u64(o, name, "", 1, &label, &values[i],
		    counts[i]);
}

/* Append an unlabelled gauge or counter. */
static void
metrics_render_scalar(struct metrics_out *o, const char *name,
    const char *type, const char *help, uint64_t v)
{
	metrics_head(o, name, type, help);
	metrics_line_u64(o, name, "", 0, NULL, NULL, v);
}

/* Append what the rest of the proxy keeps (g NULL: zeros, no state). */
static void
metrics_render_gauges(struct metrics_out *o, const struct metrics_gauges *g)
{
	static const struct metrics_gauges	 zero;
	static const char *const		 results[] = { "ok", "failed" };
	const char				*label = "state";
	uint64_t				 reloads[2];

	if (g == NULL)
		g = &zero;
	metrics_render_scalar(o, "sluice_generation", "gauge",
	    "The current configuration generation.", g->generation);
	metrics_head(o, "sluice_state", "gauge",
	    "The lifecycle state sluice is in (1 for the current one).");
	if (g->state != NULL)
		metrics_line(o, "sluice_state", "", 1, &label, &g->state, "1");
	reloads[0] = g->reloads_ok;
	reloads[1] = g->reloads_failed;
	metrics_render_enum(o, "sluice_reloads_total",
	    "Configuration reloads by result.", "result", results, reloads, 2);
	metrics_render_scalar(o, "sluice_in_flight", "gauge",
	    "Exchanges in progress.", g->in_flight);
	metrics_render_scalar(o, "sluice_client_connections", "gauge",
	    "Open client connections.", g->connections);
}

/* Append the event counters, in the order metrics.h lists them. */
static void
metrics_render_counters(struct metrics_out *o)
{
	metrics_render_enum(o, "sluice_upstream_timeouts_total",
	    "Upstream timeouts by kind.", "kind", metrics_timeout_names,
	    metrics_timeouts, METRICS_TIMEOUT_N);
	metrics_render_scalar(o, "sluice_retries_total", "counter",
	    "Requests retried on another connection or server.",
	    metrics_retries);
	metrics_render_family(o, &metrics_health_transitions);
	metrics_render_enum(o, "sluice_exchanges_ended_total",
	    "Exchanges cut short by sluice, by reason.", "reason",
	    metrics_ended_names, metrics_ended_count, METRICS_ENDED_N);
}

/*
 * Per-server families
 */

/* What a server family shows, as an index into metrics_srv.v. */
enum metrics_srv_value {
	METRICS_SRV_INFLIGHT = 0,
	METRICS_SRV_IDLE,
	METRICS_SRV_BUSY,
	METRICS_SRV_OPENED,
	METRICS_SRV_REUSED,
	METRICS_SRV_UP,
	METRICS_SRV_DRAINING,
	METRICS_SRV_INVALID,
	METRICS_SRV_HELD,
	METRICS_SRV_RETIRED,
	METRICS_SRV_SAFE_FRESH,
	METRICS_SRV_IDLE_CLOSE,		/* ms */
	METRICS_SRV_WEIGHT,
	METRICS_SRV_N,
};

/* One upstream/server identity: its twins summed (see the top). */
struct metrics_srv {
	const struct server	*rep;	/* the one up/draining/weight come
					 * from */
	uint64_t		 v[METRICS_SRV_N];
};

/* The per-server families, in page order. */
static const struct metrics_srv_family {
	const char		*name;
	const char		*type;
	const char		*help;
	enum metrics_srv_value	 value;
	int			 ms;	/* the value is in ms: show s */
} metrics_srv_families[] = {
	{ "sluice_server_in_flight", "gauge",
	    "Exchanges using the server now.", METRICS_SRV_INFLIGHT, 0 },
	{ "sluice_upstream_connections_idle", "gauge",
	    "Pooled idle connections to the server.", METRICS_SRV_IDLE, 0 },
	{ "sluice_upstream_connections_busy", "gauge",
	    "Connections to the server carrying an exchange.",
	    METRICS_SRV_BUSY, 0 },
	{ "sluice_upstream_connections_opened_total", "counter",
	    "Connections opened to the server.", METRICS_SRV_OPENED, 0 },
	{ "sluice_upstream_connections_reused_total", "counter",
	    "Requests sent on a pooled connection.", METRICS_SRV_REUSED, 0 },
	{ "sluice_server_up", "gauge",
	    "1 when health checks have the server in service.",
	    METRICS_SRV_UP, 0 },
	{ "sluice_server_draining", "gauge",
	    "1 when the server takes no new requests (removed or drained).",
	    METRICS_SRV_DRAINING, 0 },
	{ "sluice_upstream_invalid_responses_total", "counter",
	    "Malformed responses from the server (each a 502).",
	    METRICS_SRV_INVALID, 0 },
	{ "sluice_server_ejections_held_total", "counter",
	    "Failures that would have taken the server out past max_ejected.",
	    METRICS_SRV_HELD, 0 },
	{ "sluice_upstream_connections_retired_total", "counter",
	    "Pooled connections closed before the server's learned idle "
	    "timeout.", METRICS_SRV_RETIRED, 0 },
	{ "sluice_upstream_safe_fresh_total", "counter",
	    "Requests that must not be repeated sent on a new connection: "
	    "the pooled ones had idled past the safe age.",
	    METRICS_SRV_SAFE_FRESH, 0 },
	{ "sluice_upstream_idle_timeout_seconds", "gauge",
	    "The server's idle timeout as learned from its closes (0: none).",
	    METRICS_SRV_IDLE_CLOSE, 1 },
	{ "sluice_server_weight", "gauge",
	    "The weight in use: the admin's, else the configured one "
	    "(0: no new requests).", METRICS_SRV_WEIGHT, 0 },
};

/* 1 when s takes no new requests by admin state. */
static int
metrics_server_draining(const struct server *s)
{
	return SLUICE_LOAD(&s->state) == SERVER_DRAINING ||
	    SLUICE_LOAD(&s->admin_drain);
}

/* Add s to the table of n identities (linear: a few hundred at most). */
static void
metrics_srv_add(struct metrics_srv *t, size_t *n, const struct server *s)
{
	struct metrics_srv	*e;
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
	e->v[METRICS_SRV_INFLIGHT] += SLUICE_LOAD(&s->inflight);
	e->v[METRICS_SRV_IDLE] += idle;
	e->v[METRICS_SRV_BUSY] += busy;
	e->v[METRICS_SRV_OPENED] += SLUICE_LOAD(&s->connects);
	e->v[METRICS_SRV_REUSED] += SLUICE_LOAD(&s->reuses);
	e->v[METRICS_SRV_INVALID] += SLUICE_LOAD(&s->invalid);
	e->v[METRICS_SRV_HELD] += SLUICE_LOAD(&s->held);
	e->v[METRICS_SRV_RETIRED] += SLUICE_LOAD(&s->retired);
	e->v[METRICS_SRV_SAFE_FRESH] += SLUICE_LOAD(&s->safe_fresh);
}

/* The registry as identities; *n of them. NULL: out of memory. */
static struct metrics_srv *
metrics_srv_table(size_t *n)
{
	struct server_list	*reg = server_registry();
	struct metrics_srv	*t;
	const struct server	*s;
	uint64_t		 now = sluice_now_ms();
	size_t			 count = 0, i;

	TAILQ_FOREACH(s, reg, entry)
		count++;
	if ((t = calloc(count > 0 ? count : 1, sizeof(*t))) == NULL)
		return NULL;
	*n = 0;
	TAILQ_FOREACH(s, reg, entry)
		metrics_srv_add(t, n, s);
	for (i = 0; i < *n; i++) {
		t[i].v[METRICS_SRV_UP] = server_up(t[i].rep, now) ? 1 : 0;
		t[i].v[METRICS_SRV_DRAINING] =
		    metrics_server_draining(t[i].rep);
		t[i].v[METRICS_SRV_IDLE_CLOSE] =
		    server_idle_timeout_ms(t[i].rep);
		t[i].v[METRICS_SRV_WEIGHT] = (uint64_t)server_weight(t[i].rep,
		    t[i].rep->conf_weight);
	}
	return t;
}

/* Append the per-server families, from the registry. */
static void
metrics_render_servers(struct metrics_out *o)
{
	static const char *const	 names[] = { "upstream", "server" };
	const struct metrics_srv_family	*f;
	const char			*values[2];
	struct metrics_srv		*t;
	size_t				 n, i, j;

	if ((t = metrics_srv_table(&n)) == NULL) {
		o->failed = 1;
		return;
	}
	for (j = 0; j < sizeof(metrics_srv_families) /
	    sizeof(*metrics_srv_families); j++) {
		f = &metrics_srv_families[j];
		metrics_head(o, f->name, f->type, f->help);
		for (i = 0; i < n; i++) {
			values[0] = t[i].rep->upstream;
			values[1] = t[i].rep->name;
			if (f->ms)
				metrics_line_double(o, f->name, "", 2, names,
				    values, (double)t[i].v[f->value] / 1e3);
			else
				metrics_line_u64(o, f->name, "", 2, names,
				    values, t[i].v[f->value]);
		}
	}
	free(t);
}

/*
 * Process families (Linux /proc; elsewhere only what getrusage and
 * getrlimit give)
 */

/* Read the first line of path that starts with prefix; -1: none. */
static int
metrics_read_line(const char *path, const char *prefix, char *buf,
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
metrics_cpu_seconds(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Virtual (field 0) or resident (field 1) size in bytes; -1: unknown. */
static double
metrics_memory_bytes(int field)
{
	char			 buf[256];
	unsigned long long	 size, resident;
	long			 page = sysconf(_SC_PAGESIZE);

	if (page <= 0 ||
	    metrics_read_line("/proc/self/statm", "", buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -1;
	return (double)(field == 0 ? size : resident) * (double)page;
}

/* Start time since the epoch in seconds (stat starttime + btime); -1. */
static double
metrics_start_time(void)
{
	char			 buf[1024], *p;
	unsigned long long	 start, btime;
	long			 hz = sysconf(_SC_CLK_TCK);
	int			 i;

	if (hz <= 0 ||
	    metrics_read_line("/proc/stat", "btime ", buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "btime %llu", &btime) != 1 ||
	    metrics_read_line("/proc/self/stat", "", buf, sizeof(buf)) == -1 ||
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
metrics_open_fds(void)
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
metrics_max_fds(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return -1;
	return (double)rl.rlim_cur;
}

/* Append the process families (no sample when a value is unknown). */
static void
metrics_render_process(struct metrics_out *o)
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

	v[0] = metrics_cpu_seconds();
	v[1] = metrics_memory_bytes(1);
	v[2] = metrics_memory_bytes(0);
	v[3] = metrics_start_time();
	v[4] = metrics_open_fds();
	v[5] = metrics_max_fds();
	for (i = 0; i < sizeof(fam) / sizeof(*fam); i++) {
		metrics_head(o, fam[i].name, fam[i].type, fam[i].help);
		if (v[i] >= 0)
			metrics_line_double(o, fam[i].name, "", 0, NULL, NULL,
			    v[i]);
	}
}

/*
 * Append the whole page; see metrics.h. The page is made in a buffer of
 * its own and moved (not copied) to out, so a failure leaves out as it was.
 */
int
metrics_render(struct evbuffer *out, const struct metrics_gauges *g)
{
	struct metrics_out	 o = { NULL, 0 };

	if ((o.buf = evbuffer_new()) == NULL)
		return -1;
	metrics_render_gauges(&o, g);
	METRICS_LOCK();
	metrics_render_family(&o, &metrics_requests);
	metrics_render_family(&o, &metrics_request_duration);
	metrics_render_family(&o, &metrics_upstream_duration);
	metrics_render_counters(&o);
	METRICS_UNLOCK();
	metrics_render_servers(&o);
	metrics_render_process(&o);
	if (!o.failed && evbuffer_add_buffer(out, o.buf) == -1)
		o.failed = 1;
	evbuffer_free(o.buf);
	return o.failed ? -1 : 0;
}
