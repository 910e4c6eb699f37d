/*
 * metrics: the store of the counters and histograms GET /metrics shows
 * (ctl/prom.c renders the page; metrics_write writes what is stored).
 *
 * Storage. Each labelled family keeps one series per distinct tuple of
 * label values in a small chained hash map that doubles as it fills. A
 * series copies its label strings once, when it is created, into its own
 * allocation; after that an event costs one cheap hash per label string
 * (a word at a time), one lookup and a few additions: no allocation and
 * no formatting, which waits for metrics_write. The number of series is
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
 * page is written.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/log.h"
#include "proxy/base/metrics.h"
#include "proxy/base/promtext.h"
#include "proxy/base/runtime.h"

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

static struct metrics_family metrics_queue_wait_family = {
	"sluice_queue_wait_seconds",
	"Time requests waited in an upstream's queue, in seconds.",
	1, 1, { "upstream" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family metrics_tls_rejects = {
	"sluice_tls_client_verify_failures_total",
	"TLS handshakes refused for a missing or unverified client "
	"certificate, by listener.",
	0, 1, { "listener" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family metrics_accept_errors = {
	"sluice_accept_errors_total",
	"accept(2) failures other than try-again (out of descriptors: "
	"accepting pauses), by listener.",
	0, 1, { "listener" },
	NULL, 0, 0, NULL, NULL,
};

static struct metrics_family *const metrics_families[] = {
	&metrics_requests, &metrics_request_duration,
	&metrics_upstream_duration, &metrics_health_transitions,
	&metrics_queue_wait_family, &metrics_tls_rejects,
	&metrics_accept_errors,
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
static uint64_t	metrics_h2_count[METRICS_H2_N];

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

/* See metrics.h. */
void
metrics_h2(enum metrics_h2 what)
{
	SLUICE_INC(&metrics_h2_count[what]);
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

/* See metrics.h. */
void
metrics_queue_wait(const char *upstream, double wait_s)
{
	struct metrics_label		 u;
	const struct metrics_label	*k[1] = { &u };
	struct metrics_series		*s;

	metrics_label_set(&u, upstream);
	if (!(wait_s >= 0))
		wait_s = 0;
	METRICS_LOCK();
	if ((s = metrics_series_get(&metrics_queue_wait_family, k)) != NULL)
		metrics_observe(s, wait_s);
	METRICS_UNLOCK();
}

/* See metrics.h. */
void
metrics_tls_client_reject(const char *listener)
{
	struct metrics_label		 l;
	const struct metrics_label	*k[1] = { &l };
	struct metrics_series		*s;

	metrics_label_set(&l, listener);
	METRICS_LOCK();
	if ((s = metrics_series_get(&metrics_tls_rejects, k)) != NULL)
		s->count++;
	METRICS_UNLOCK();
}

/* See metrics.h. */
void
metrics_accept_error(const char *listener)
{
	struct metrics_label		 l;
	const struct metrics_label	*k[1] = { &l };
	struct metrics_series		*s;

	metrics_label_set(&l, listener);
	METRICS_LOCK();
	if ((s = metrics_series_get(&metrics_accept_errors, k)) != NULL)
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
	memset(metrics_h2_count, 0, sizeof(metrics_h2_count));
}

/*
 * Writing what is stored
 */

/* Append one histogram series: cumulative buckets, _sum and _count. */
static void
metrics_write_histogram(struct promtext *o,
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
		promtext_line_u64(o, f->name, "_bucket", n + 1, names, values,
		    cum);
	}
	promtext_line_double(o, f->name, "_sum", n, names, values, s->sum);
	promtext_line_u64(o, f->name, "_count", n, names, values, s->count);
}

/* Append a labelled family with all its series, in creation order. */
static void
metrics_write_family(struct promtext *o, const struct metrics_family *f)
{
	const struct metrics_series	*s;

	promtext_head(o, f->name, f->histogram ? "histogram" : "counter",
	    f->help);
	for (s = f->first; s != NULL; s = s->link)
		if (f->histogram)
			metrics_write_histogram(o, f, s);
		else
			promtext_line_u64(o, f->name, "", f->nlabels, f->label,
			    s->value, s->count);
}

/* sluice_log_dropped_total: lines a syslog log could not send. */
static void
metrics_write_log_dropped(struct promtext *o)
{
	static const char *const names[] = { "access", "error" };
	uint64_t		 n[2];

	n[0] = log_dropped(LOG_ACCESS);
	n[1] = log_dropped(LOG_ERROR);
	promtext_enum(o, "sluice_log_dropped_total",
	    "Log lines dropped: the syslog socket was full or gone.", "log",
	    names, n, 2);
}

/* The HTTP/2 counters (metrics_h2). */
static void
metrics_write_h2(struct promtext *o)
{
	static const struct {
		const char	*name, *help;
	} f[METRICS_H2_N] = {
		{ "sluice_http2_connections_total",
		    "HTTP/2 client connections taken." },
		{ "sluice_http2_streams_total",
		    "HTTP/2 streams opened by clients." },
		{ "sluice_http2_goaways_total", "HTTP/2 GOAWAY frames sent." },
		{ "sluice_http2_streams_refused_total",
		    "HTTP/2 streams refused with REFUSED_STREAM." },
		{ "sluice_http2_calm_total",
		    "HTTP/2 connections cut for a flood (ENHANCE_YOUR_CALM)." },
	};
	int	i;

	for (i = 0; i < METRICS_H2_N; i++)
		promtext_scalar(o, f[i].name, "counter", f[i].help,
		    SLUICE_LOAD(&metrics_h2_count[i]));
}

/* Append the event counters, in the order metrics.h lists them. */
static void
metrics_write_counters(struct promtext *o)
{
	promtext_enum(o, "sluice_upstream_timeouts_total",
	    "Upstream timeouts by kind.", "kind", metrics_timeout_names,
	    metrics_timeouts, METRICS_TIMEOUT_N);
	promtext_scalar(o, "sluice_retries_total", "counter",
	    "Requests retried on another connection or server.",
	    metrics_retries);
	metrics_write_family(o, &metrics_health_transitions);
	metrics_write_family(o, &metrics_tls_rejects);
	metrics_write_family(o, &metrics_accept_errors);
	promtext_enum(o, "sluice_exchanges_ended_total",
	    "Exchanges cut short by sluice, by reason.", "reason",
	    metrics_ended_names, metrics_ended_count, METRICS_ENDED_N);
	metrics_write_h2(o);
	metrics_write_log_dropped(o);
}

/* See metrics.h. */
void
metrics_write(struct promtext *o)
{
	METRICS_LOCK();
	metrics_write_family(o, &metrics_requests);
	metrics_write_family(o, &metrics_request_duration);
	metrics_write_family(o, &metrics_upstream_duration);
	metrics_write_family(o, &metrics_queue_wait_family);
	metrics_write_counters(o);
	METRICS_UNLOCK();
}
