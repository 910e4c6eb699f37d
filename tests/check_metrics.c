/*
 * check_metrics: the /metrics page. Events go in through the metrics_
 * functions, the page is rendered into an evbuffer and read back by a
 * small strict parser of the text format 0.0.4 (every line a comment or
 * "name{labels} value"; HELP then TYPE before a family's samples, which
 * are contiguous; histogram series as cumulative buckets ending at +Inf,
 * then _sum, then _count equal to the +Inf bucket), and values are
 * checked exactly. Servers come from the real registry via server_get.
 */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "conf/conf.h"
#include "proxy/base/metrics.h"
#include "proxy/ctl/prom.h"
#include "proxy/back/server.h"
#include "tests/check_main.h"
#include "tests/itest.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define __SANITIZE_ADDRESS__	1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
/* From <sanitizer/allocator_interface.h>, which not every compiler has. */
size_t	__sanitizer_get_current_allocated_bytes(void);
#endif
#define KV		"\x1e"	/* between a label's name and value */
#define SEP		"\x1f"	/* after each label's value */

/* One sample read back; labels in page order, le kept apart. */
struct sample {
	char	*name;
	char	*labels;	/* "k" KV "v" SEP ..., values unescaped */
	char	*le;		/* NULL unless a _bucket line */
	double	 value;
};

/* One family: its HELP and TYPE, and how many samples it had. */
struct family {
	char	*name;
	char	*type;
	int	 nsamples;
};

/* A parsed page. */
struct page {
	char		*text;
	struct sample	*s;
	size_t		 ns;
	struct family	*f;
	size_t		 nf;
	char		 err[256];	/* the first problem, "" when none */
};

/* Where a histogram family's current series is. */
struct histo {
	char		*labels;	/* of the series, NULL between */
	double		 le;		/* the last bucket's bound */
	double		 count;		/* the last bucket's count */
	int		 nbuckets;
	int		 want;		/* 0 bucket, 1 _sum, 2 _count */
};

/*
 * Parser
 */

/* Record the first error, with its line number; returns -1. */
static int
page_error(struct page *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->err[0] != '\0')
		return -1;
	n = snprintf(p->err, sizeof(p->err), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof(p->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Length of the metric (or, label = 1, label) name at s; 0 if none. */
static size_t
name_len(const char *s, int label)
{
	size_t	 n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	    s[n] == '_' || (!label && s[n] == ':') ||
	    (n > 0 && s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

/* A sample value: a float, +Inf, -Inf or NaN, and nothing after it. */
static int
parse_value(const char *s, double *v)
{
	char	*end;

	if (strcmp(s, "+Inf") == 0)
		*v = INFINITY;
	else if (strcmp(s, "-Inf") == 0)
		*v = -INFINITY;
	else if (strcmp(s, "NaN") == 0)
		*v = NAN;
	else {
		if (*s == '\0' || *s == ' ')
			return -1;
		*v = strtod(s, &end);
		if (*end != '\0' || strncasecmp(s, "inf", 3) == 0 ||
		    strncasecmp(s, "nan", 3) == 0)
			return -1;
	}
	return 0;
}

/* Append len bytes to the malloc'd string *dst. */
static void
str_append(char **dst, const char *s, size_t len)
{
	size_t	 have = *dst == NULL ? 0 : strlen(*dst);

	ck_assert_ptr_nonnull(*dst = realloc(*dst, have + len + 1));
	memcpy(*dst + have, s, len);
	(*dst)[have + len] = '\0';
}

/* One label value from after its '"' to the closing one; unescaped. */
static const char *
parse_label_value(const char *s, char **out)
{
	for (;;) {
		if (*s == '\0')
			return NULL;
		if (*s == '"')
			return s + 1;
		if (*s == '\\') {
			s++;
			if (*s == '\\' || *s == '"')
				str_append(out, s, 1);
			else if (*s == 'n')
				str_append(out, "\n", 1);
			else
				return NULL;
		} else
			str_append(out, s, 1);
		s++;
	}
}

/* The labels after '{' into sm (le apart); returns past '}' or NULL. */
static const char *
parse_labels(const char *s, struct sample *sm)
{
	char	*name, *value, *seen = NULL, key[72];
	size_t	 n;

	str_append(&sm->labels, "", 0);
	for (;;) {
		if ((n = name_len(s, 1)) == 0 || n > 64 || s[n] != '=' ||
		    s[n + 1] != '"')
			break;
		name = strndup(s, n);
		snprintf(key, sizeof(key), SEP "%s" SEP, name);
		if (seen != NULL && strstr(seen, key) != NULL) {
			free(name);
			break;
		}
		str_append(&seen, key, strlen(key));
		value = NULL;
		str_append(&value, "", 0);
		s = parse_label_value(s + n + 2, &value);
		if (s != NULL && strcmp(name, "le") == 0)
			sm->le = value;
		else if (s != NULL) {
			str_append(&sm->labels, name, n);
			str_append(&sm->labels, KV, 1);
			str_append(&sm->labels, value, strlen(value));
			str_append(&sm->labels, SEP, 1);
			free(value);
		} else
			free(value);
		free(name);
		if (s == NULL || (*s != ',' && *s != '}'))
			break;
		if (*s++ == '}') {
			free(seen);
			return s;
		}
	}
	free(seen);
	return NULL;
}

/* The family a sample name belongs to, given the current family f. */
static int
sample_in_family(const char *name, const struct family *f)
{
	size_t	 n = strlen(f->name);

	if (strcmp(f->type, "histogram") != 0)
		return strcmp(name, f->name) == 0;
	return strncmp(name, f->name, n) == 0 &&
	    (strcmp(name + n, "_bucket") == 0 ||
	    strcmp(name + n, "_sum") == 0 || strcmp(name + n, "_count") == 0);
}

/* A "# HELP" or "# TYPE" line. */
static int
parse_comment(struct page *p, int line, const char *s, int *typed)
{
	size_t		 n, i;
	struct family	*f;

	if (strncmp(s, "# HELP ", 7) == 0) {
		if ((n = name_len(s + 7, 0)) == 0 || s[7 + n] != ' ' ||
		    s[8 + n] == '\0')
			return page_error(p, line, "bad HELP");
		for (i = 0; i < p->nf; i++)
			if (strncmp(p->f[i].name, s + 7, n) == 0 &&
			    p->f[i].name[n] == '\0')
				return page_error(p, line, "HELP twice");
		ck_assert_ptr_nonnull(p->f = realloc(p->f,
		    (p->nf + 1) * sizeof(*p->f)));
		f = &p->f[p->nf++];
		f->name = strndup(s + 7, n);
		f->type = NULL;
		f->nsamples = 0;
		*typed = 0;
		return 0;
	}
	if (strncmp(s, "# TYPE ", 7) != 0)
		return page_error(p, line, "not HELP or TYPE: %s", s);
	if (p->nf == 0 || *typed)
		return page_error(p, line, "TYPE without its HELP");
	f = &p->f[p->nf - 1];
	n = strlen(f->name);
	if (strncmp(s + 7, f->name, n) != 0 || s[7 + n] != ' ')
		return page_error(p, line, "TYPE of another family");
	s += 8 + n;
	if (strcmp(s, "counter") != 0 && strcmp(s, "gauge") != 0 &&
	    strcmp(s, "histogram") != 0)
		return page_error(p, line, "bad type %s", s);
	f->type = strdup(s);
	*typed = 1;
	return 0;
}

/* Check a histogram line against the series it continues or starts. */
static int
check_histogram(struct page *p, int line, const char *suffix,
    const struct sample *sm, struct histo *h)
{
	double	 le;

	if (h->want == 0 && strcmp(suffix, "_bucket") != 0)
		return page_error(p, line, "%s before +Inf", suffix);
	if (h->want == 1 && strcmp(suffix, "_sum") != 0)
		return page_error(p, line, "%s, want _sum", suffix);
	if (h->want == 2 && strcmp(suffix, "_count") != 0)
		return page_error(p, line, "%s, want _count", suffix);
	if (h->labels == NULL)
		h->labels = strdup(sm->labels);
	else if (strcmp(h->labels, sm->labels) != 0)
		return page_error(p, line, "series changed mid-histogram");
	if (h->want == 1) {
		h->want = 2;
		return 0;
	}
	if (h->want == 2) {
		if (sm->value != h->count)
			return page_error(p, line, "_count %g != +Inf %g",
			    sm->value, h->count);
		free(h->labels);
		memset(h, 0, sizeof(*h));
		return 0;
	}
	if (sm->le == NULL || parse_value(sm->le, &le) == -1)
		return page_error(p, line, "bucket without a valid le");
	if (h->nbuckets > 0 && !(le > h->le))
		return page_error(p, line, "le %s not increasing", sm->le);
	if (h->nbuckets > 0 && sm->value < h->count)
		return page_error(p, line, "buckets not cumulative");
	h->le = le;
	h->count = sm->value;
	h->nbuckets++;
	if (isinf(le))
		h->want = 1;
	return 0;
}

/* A sample line, in the current family. */
static int
parse_sample(struct page *p, int line, const char *s, struct histo *h)
{
	struct sample	 sm = { NULL, NULL, NULL, 0 };
	struct family	*f = p->nf > 0 ? &p->f[p->nf - 1] : NULL;
	size_t		 n;
	int		 rc = 0;

	if ((n = name_len(s, 0)) == 0)
		return page_error(p, line, "no metric name");
	sm.name = strndup(s, n);
	s += n;
	if (*s == '{')
		s = parse_labels(s + 1, &sm);
	else
		str_append(&sm.labels, "", 0);
	if (s == NULL || *s++ != ' ' || parse_value(s, &sm.value) == -1)
		rc = page_error(p, line, "bad sample");
	else if (f == NULL || f->type == NULL || !sample_in_family(sm.name, f))
		rc = page_error(p, line, "%s outside its family", sm.name);
	else if (sm.le != NULL && strcmp(f->type, "histogram") != 0)
		rc = page_error(p, line, "le outside a histogram");
	else if (strcmp(f->type, "histogram") == 0)
		rc = check_histogram(p, line, sm.name + strlen(f->name), &sm,
		    h);
	if (rc == -1) {
		free(sm.name);
		free(sm.labels);
		free(sm.le);
		return -1;
	}
	f->nsamples++;
	ck_assert_ptr_nonnull(p->s = realloc(p->s, (p->ns + 1) *
	    sizeof(*p->s)));
	p->s[p->ns++] = sm;
	return 0;
}

/* What a sample is looked up by. */
struct sample_key {
	const char	*name;
	const char	*labels;
	const char	*le;		/* NULL: none */
};

/* Compare a key with a sample by name, labels and le. */
static int
sample_key_cmp(const void *a, const void *b)
{
	const struct sample_key	*k = a;
	const struct sample	*y = b;
	int			 c;

	if ((c = strcmp(k->name, y->name)) != 0 ||
	    (c = strcmp(k->labels, y->labels)) != 0)
		return c;
	return strcmp(k->le != NULL ? k->le : "", y->le != NULL ? y->le : "");
}

/* Compare two samples (for qsort). */
static int
sample_cmp(const void *a, const void *b)
{
	const struct sample	*x = a;
	struct sample_key	 k = { x->name, x->labels, x->le };

	return sample_key_cmp(&k, b);
}

/* Sort the samples for lookups; two alike are an error. */
static int
page_index(struct page *p)
{
	size_t	 i;

	qsort(p->s, p->ns, sizeof(*p->s), sample_cmp);
	for (i = 1; i < p->ns; i++)
		if (sample_cmp(&p->s[i - 1], &p->s[i]) == 0)
			return page_error(p, 0, "duplicate %s", p->s[i].name);
	return 0;
}

/* Parse text (taken over) into p. 0, or -1 with p->err set. */
static int
page_parse(struct page *p, char *text)
{
	struct histo	 h = { NULL, 0, 0, 0, 0 };
	char		*line, *nl;
	int		 lineno = 0, typed = 0, rc = 0;

	memset(p, 0, sizeof(*p));
	p->text = text;
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		return page_error(p, 0, "no final newline");
	for (line = text; rc == 0 && *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		lineno++;
		if (*line == '#' && h.labels != NULL)
			rc = page_error(p, lineno, "histogram cut short");
		else if (*line == '#')
			rc = parse_comment(p, lineno, line, &typed);
		else
			rc = parse_sample(p, lineno, line, &h);
		*nl = '\n';
	}
	if (rc == 0 && h.labels != NULL)
		rc = page_error(p, lineno, "histogram cut short at the end");
	free(h.labels);
	return rc == 0 ? page_index(p) : -1;
}

/* Free what page_parse made. */
static void
page_free(struct page *p)
{
	size_t	 i;

	for (i = 0; i < p->ns; i++) {
		free(p->s[i].name);
		free(p->s[i].labels);
		free(p->s[i].le);
	}
	for (i = 0; i < p->nf; i++) {
		free(p->f[i].name);
		free(p->f[i].type);
	}
	free(p->s);
	free(p->f);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

/*
 * Helpers
 */

/* Labels from NULL-terminated name, value pairs, as the parser keeps them. */
static char *
labels(const char *first, ...)
{
	va_list		 ap;
	const char	*k, *v;
	char		*out = NULL;

	str_append(&out, "", 0);
	va_start(ap, first);
	for (k = first; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		str_append(&out, k, strlen(k));
		str_append(&out, KV, 1);
		str_append(&out, v, strlen(v));
		str_append(&out, SEP, 1);
	}
	va_end(ap);
	return out;
}

/* Render the page into a new string. */
static char *
render_text(const struct prom_gauges *g)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 len;
	char		*text;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(prom_render(b, g), 0);
	len = evbuffer_get_length(b);
	ck_assert_ptr_nonnull(text = malloc(len + 1));
	ck_assert_int_eq(evbuffer_remove(b, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(b);
	return text;
}

/* Render and parse; the page must be valid. */
static void
render(struct page *p, const struct prom_gauges *g)
{
	char	*text = render_text(g);

	ck_assert_msg(page_parse(p, text) == 0, "%s\n%s", p->err, text);
}

/* The sample name{lab} (lab taken over, le as given), or NULL. */
static const struct sample *
find(const struct page *p, const char *name, char *lab, const char *le)
{
	struct sample_key	 key = { name, lab, le };
	const struct sample	*s;

	s = bsearch(&key, p->s, p->ns, sizeof(*p->s), sample_key_cmp);
	free(lab);
	return s;
}

/* The value of name{lab}, which must exist. */
static double
value(const struct page *p, const char *name, char *lab)
{
	const struct sample	*s = find(p, name, lab, NULL);

	ck_assert_msg(s != NULL, "no sample %s", name);
	return s->value;
}

/* The family called name, which must exist. */
static const struct family *
family(const struct page *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->nf; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return &p->f[i];
	ck_abort_msg("no family %s", name);
	return NULL;
}

/* How many samples of family name the page has. */
static int
nsamples(const struct page *p, const char *name)
{
	return family(p, name)->nsamples;
}

/* sluice_requests_total for listener web, upstream app, server blue. */
static double
requests(const struct page *p, const char *l, const char *u, const char *s,
    const char *code)
{
	return value(p, "sluice_requests_total", labels("listener", l,
	    "upstream", u, "server", s, "code", code, NULL));
}

/* A histogram's cumulative bucket, le as rendered. */
static double
bucket(const struct page *p, const char *name, const char *lname,
    const char *lvalue, const char *le)
{
	char			 full[128];
	const struct sample	*s;

	snprintf(full, sizeof(full), "%s_bucket", name);
	s = find(p, full, labels(lname, lvalue, NULL), le);
	ck_assert_msg(s != NULL, "no %s{%s} le=%s", full, lvalue, le);
	return s->value;
}

/* A histogram's _sum or _count (suffix). */
static double
hvalue(const struct page *p, const char *name, const char *suffix,
    const char *lname, const char *lvalue)
{
	char	 full[128];

	snprintf(full, sizeof(full), "%s%s", name, suffix);
	return value(p, full, labels(lname, lvalue, NULL));
}

/* Every test starts and ends with nothing counted. */
static void
setup(void)
{
	metrics_free();
}

/* Free what the test counted. */
static void
teardown(void)
{
	metrics_free();
}

/*
 * The parser
 */

/* Pages the parser must refuse. */
static const char *const bad_pages[] = {
	"x 1\n",					/* no family */
	"# HELP x h\nx 1\n",				/* no TYPE */
	"# TYPE x gauge\nx 1\n",			/* no HELP */
	"# HELP x h\n# TYPE x gauge\nx 1",		/* no newline */
	"# HELP x h\n# TYPE x gauge\nx{a=\"1\"}1\n",	/* no space */
	"# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n",	/* bad escape */
	"# HELP x h\n# TYPE x gauge\nx{a=\"1\",} 1\n",	/* trailing comma */
	"# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n", /* twice */
	"# HELP x h\n# TYPE x gauge\nx 1 2\n",		/* timestamp */
	"# HELP x h\n# TYPE x gauge\nx one\n",		/* value */
	"# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",	/* duplicate */
	"# HELP x h\n# TYPE x gauge\ny 1\n",		/* other family */
	"# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\nx 1\n",
	"# HELP x h\n# TYPE x gauge\n\n",		/* empty line */
	"# HELP x h\n# TYPE x summary\n",		/* type */
	"# HELP x h\n# TYPE x gauge\n# HELP x h\n# TYPE x gauge\n",
	"# HELP h h\n# TYPE h histogram\n"		/* cut by a HELP */
	    "h_bucket{le=\"+Inf\"} 1\n# HELP x h\n# TYPE x gauge\n",
	"# HELP h h\n# TYPE h histogram\n"		/* not cumulative */
	    "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
	    "h_sum 1\nh_count 1\n",
	"# HELP h h\n# TYPE h histogram\n"		/* count != +Inf */
	    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
	    "h_sum 1\nh_count 3\n",
	"# HELP h h\n# TYPE h histogram\n"		/* no +Inf */
	    "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
	"# HELP h h\n# TYPE h histogram\n"		/* le order */
	    "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
	"# HELP h h\n# TYPE h histogram\n"		/* no _count */
	    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\n",
};

/* Table row _i of bad_pages is refused. */
START_TEST(test_parser_refuses)
{
	struct page	 p;

	ck_assert_msg(page_parse(&p, strdup(bad_pages[_i])) == -1,
	    "accepted: %s", bad_pages[_i]);
	page_free(&p);
}
END_TEST

/* A page written by hand, with escapes, is read as meant. */
START_TEST(test_parser_accepts)
{
	struct page	 p;
	const char	*text =
	    "# HELP x h\n# TYPE x counter\n"
	    "x{a=\"q\\\"b\\\\n\\n\",b=\"\"} 3\nx 1e-05\n"
	    "# HELP h h\n# TYPE h histogram\n"
	    "h_bucket{k=\"v\",le=\"0.5\"} 1\nh_bucket{k=\"v\",le=\"+Inf\"} 2\n"
	    "h_sum{k=\"v\"} 0.75\nh_count{k=\"v\"} 2\n";

	ck_assert_msg(page_parse(&p, strdup(text)) == 0, "%s", p.err);
	ck_assert(value(&p, "x", labels("a", "q\"b\\n\n", "b", "", NULL)) ==
	    3);
	ck_assert(value(&p, "x", labels(NULL)) == 1e-05);
	ck_assert(bucket(&p, "h", "k", "v", "0.5") == 1);
	ck_assert(hvalue(&p, "h", "_sum", "k", "v") == 0.75);
	page_free(&p);
}
END_TEST

/*
 * The page
 */

/* Every family and its type. */
static const struct {
	const char	*name;
	const char	*type;
} families[] = {
	{ "sluice_build_info", "gauge" },
	{ "sluice_generation", "gauge" },
	{ "sluice_state", "gauge" },
	{ "sluice_reloads_total", "counter" },
	{ "sluice_in_flight", "gauge" },
	{ "sluice_client_connections", "gauge" },
	{ "sluice_connections", "gauge" },
	{ "sluice_connections_max", "gauge" },
	{ "sluice_request_body_bytes_buffered", "gauge" },
	{ "sluice_request_body_waits_total", "counter" },
	{ "sluice_tls_ticket_key_rotations_total", "counter" },
	{ "sluice_requests_total", "counter" },
	{ "sluice_request_duration_seconds", "histogram" },
	{ "sluice_upstream_duration_seconds", "histogram" },
	{ "sluice_queue_wait_seconds", "histogram" },
	{ "sluice_upstream_timeouts_total", "counter" },
	{ "sluice_retries_total", "counter" },
	{ "sluice_health_transitions_total", "counter" },
	{ "sluice_tls_client_verify_failures_total", "counter" },
	{ "sluice_accept_errors_total", "counter" },
	{ "sluice_exchanges_ended_total", "counter" },
	{ "sluice_http2_connections_total", "counter" },
	{ "sluice_http2_streams_total", "counter" },
	{ "sluice_http2_goaways_total", "counter" },
	{ "sluice_http2_streams_refused_total", "counter" },
	{ "sluice_http2_calm_total", "counter" },
	{ "sluice_log_dropped_total", "counter" },
	{ "sluice_server_in_flight", "gauge" },
	{ "sluice_upstream_connections_idle", "gauge" },
	{ "sluice_upstream_connections_busy", "gauge" },
	{ "sluice_upstream_connections_opened_total", "counter" },
	{ "sluice_upstream_connections_reused_total", "counter" },
	{ "sluice_server_up", "gauge" },
	{ "sluice_server_draining", "gauge" },
	{ "sluice_upstream_invalid_responses_total", "counter" },
	{ "sluice_server_ejections_held_total", "counter" },
	{ "sluice_upstream_connections_retired_total", "counter" },
	{ "sluice_upstream_safe_fresh_total", "counter" },
	{ "sluice_upstream_idle_timeout_seconds", "gauge" },
	{ "sluice_server_weight", "gauge" },
	{ "sluice_queue_depth", "gauge" },
	{ "sluice_queue_requests_total", "counter" },
	{ "sluice_queue_overflows_total", "counter" },
	{ "sluice_queue_timeouts_total", "counter" },
	{ "process_cpu_seconds_total", "counter" },
	{ "process_resident_memory_bytes", "gauge" },
	{ "process_virtual_memory_bytes", "gauge" },
	{ "process_start_time_seconds", "gauge" },
	{ "process_open_fds", "gauge" },
	{ "process_max_fds", "gauge" },
};

/* Before any event: every family, exactly once, with zero counters. */
START_TEST(test_empty_page)
{
	struct page	 p;
	int		 i;

	render(&p, NULL);
	ck_assert_int_eq((int)p.nf, NELEM(families));
	for (i = 0; i < NELEM(families); i++) {
		ck_assert_str_eq(p.f[i].name, families[i].name);
		ck_assert_str_eq(p.f[i].type, families[i].type);
	}
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), 0);
	ck_assert_int_eq(nsamples(&p, "sluice_request_duration_seconds"), 0);
	ck_assert_int_eq(nsamples(&p, "sluice_health_transitions_total"), 0);
	ck_assert_int_eq(nsamples(&p, "sluice_state"), 0);
	ck_assert(value(&p, "sluice_retries_total", labels(NULL)) == 0);
	ck_assert(value(&p, "sluice_generation", labels(NULL)) == 0);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "connect", NULL)) == 0);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "write", NULL)) == 0);
	ck_assert(value(&p, "sluice_exchanges_ended_total",
	    labels("reason", "killed", NULL)) == 0);
	ck_assert(value(&p, "sluice_reloads_total",
	    labels("result", "failed", NULL)) == 0);
	page_free(&p);
}
END_TEST

/* The page goes after what out already holds. */
START_TEST(test_render_appends)
{
	struct evbuffer	*b = evbuffer_new();
	const char	*pre = "before\n";
	char		 head[16];

	ck_assert_ptr_nonnull(b);
	evbuffer_add(b, pre, strlen(pre));
	ck_assert_int_eq(prom_render(b, NULL), 0);
	ck_assert_int_eq(evbuffer_copyout(b, head, 14), 14);
	ck_assert_int_eq(memcmp(head, "before\n# HELP ", 14), 0);
	evbuffer_free(b);
}
END_TEST

/* The process families have sane values on Linux. */
START_TEST(test_process)
{
	struct page	 p;
	double		 start;

	render(&p, NULL);
	ck_assert(value(&p, "process_cpu_seconds_total", labels(NULL)) >= 0);
	ck_assert(value(&p, "process_resident_memory_bytes",
	    labels(NULL)) > 4096);
	ck_assert(value(&p, "process_virtual_memory_bytes", labels(NULL)) >=
	    value(&p, "process_resident_memory_bytes", labels(NULL)));
	start = value(&p, "process_start_time_seconds", labels(NULL));
	ck_assert(start > 1.5e9 && start <= (double)time(NULL) + 1);
	ck_assert(value(&p, "process_open_fds", labels(NULL)) >= 3);
	page_free(&p);
}
END_TEST

/* The gauges the proxy passes in. */
START_TEST(test_gauges)
{
	struct prom_gauges	 g = { 7, "running", 3, 2, 11, 5, 0, NULL, 4 };
	struct page		 p;

	render(&p, &g);
	ck_assert(value(&p, "sluice_generation", labels(NULL)) == 7);
	ck_assert(value(&p, "sluice_state",
	    labels("state", "running", NULL)) == 1);
	ck_assert_int_eq(nsamples(&p, "sluice_state"), 1);
	ck_assert(value(&p, "sluice_reloads_total",
	    labels("result", "ok", NULL)) == 3);
	ck_assert(value(&p, "sluice_reloads_total",
	    labels("result", "failed", NULL)) == 2);
	ck_assert(value(&p, "sluice_in_flight", labels(NULL)) == 11);
	ck_assert(value(&p, "sluice_client_connections", labels(NULL)) == 5);
	ck_assert(value(&p, "sluice_tls_ticket_key_rotations_total",
	    labels(NULL)) == 4);
	page_free(&p);
}
END_TEST

/* Statuses and their classes. */
static const struct {
	int		 status;
	const char	*code;
} classes[] = {
	{ 0, "none" }, { -1, "none" }, { 99, "none" }, { 600, "none" },
	{ 100, "1xx" }, { 199, "1xx" }, { 200, "2xx" }, { 204, "2xx" },
	{ 299, "2xx" }, { 302, "3xx" }, { 404, "4xx" }, { 499, "4xx" },
	{ 500, "5xx" }, { 503, "5xx" }, { 599, "5xx" },
};

/* Each status counts in its class; classes never seen have no sample. */
START_TEST(test_status_classes)
{
	static const char *const codes[] = {
		"none", "1xx", "2xx", "3xx", "4xx", "5xx",
	};
	struct page	 p;
	int		 i, j, want;

	for (i = 0; i < NELEM(classes); i++)
		metrics_exchange("web", "app", "blue", classes[i].status,
		    0.01, 0.005);
	render(&p, NULL);
	for (j = 0; j < NELEM(codes); j++) {
		for (i = want = 0; i < NELEM(classes); i++)
			want += strcmp(classes[i].code, codes[j]) == 0;
		ck_assert_msg(requests(&p, "web", "app", "blue", codes[j]) ==
		    want, "%s", codes[j]);
	}
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), NELEM(codes));
	page_free(&p);
}
END_TEST

/* NULL and "" names are "-"; same series either way. */
START_TEST(test_absent_names)
{
	struct page	 p;

	metrics_exchange("web", NULL, NULL, 503, 0.001, -1);
	metrics_exchange("web", "", "", 503, 0.001, -1);
	metrics_exchange("web", "app", NULL, 0, 0.001, -1);
	metrics_exchange(NULL, NULL, NULL, 0, 0.001, -1);
	render(&p, NULL);
	ck_assert(requests(&p, "web", "-", "-", "5xx") == 2);
	ck_assert(requests(&p, "web", "app", "-", "none") == 1);
	ck_assert(requests(&p, "-", "-", "-", "none") == 1);
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), 3);
	/* no upstream time, no upstream histogram */
	ck_assert_int_eq(nsamples(&p, "sluice_upstream_duration_seconds"), 0);
	ck_assert(hvalue(&p, "sluice_request_duration_seconds", "_count",
	    "listener", "web") == 3);
	page_free(&p);
}
END_TEST

/* Observations and the cumulative count each bucket must show. */
static const double	 obs[] = {
	0.0005, 0.001, 0.0011, 0.3, 0.5, 0.5000001, 59.9, 60, 61, 1000,
};
static const struct {
	const char	*le;
	int		 count;
} buckets[] = {
	{ "0.001", 2 }, { "0.005", 3 }, { "0.01", 3 }, { "0.025", 3 },
	{ "0.05", 3 }, { "0.1", 3 }, { "0.25", 3 }, { "0.5", 5 }, { "1", 6 },
	{ "2.5", 6 }, { "5", 6 }, { "10", 6 }, { "30", 6 }, { "60", 8 },
	{ "+Inf", 10 },
};

/* Bucket bounds are inclusive; sums come back exactly. */
START_TEST(test_histogram)
{
	const char	*rd = "sluice_request_duration_seconds";
	const char	*ud = "sluice_upstream_duration_seconds";
	struct page	 p;
	double		 sum = 0, usum = 0;
	int		 i;

	for (i = 0; i < NELEM(obs); i++) {
		metrics_exchange("web", "app", "blue", 200, obs[i],
		    i % 2 == 0 ? obs[i] / 2 : -1);
		sum += obs[i];
		usum += i % 2 == 0 ? obs[i] / 2 : 0;
	}
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, rd), NELEM(buckets) + 2);
	for (i = 0; i < NELEM(buckets); i++)
		ck_assert_msg(bucket(&p, rd, "listener", "web",
		    buckets[i].le) == buckets[i].count, "le %s",
		    buckets[i].le);
	ck_assert(hvalue(&p, rd, "_sum", "listener", "web") == sum);
	ck_assert(hvalue(&p, rd, "_count", "listener", "web") == NELEM(obs));
	ck_assert(hvalue(&p, ud, "_sum", "upstream", "app") == usum);
	ck_assert(hvalue(&p, ud, "_count", "upstream", "app") ==
	    (NELEM(obs) + 1) / 2);
	ck_assert(bucket(&p, ud, "upstream", "app", "0.001") == 2);
	page_free(&p);
}
END_TEST

/* Negative and NaN totals count as 0 s; NaN upstream time as none. */
START_TEST(test_histogram_odd_values)
{
	const char	*rd = "sluice_request_duration_seconds";
	struct page	 p;

	metrics_exchange("web", "app", "blue", 200, -3, NAN);
	metrics_exchange("web", "app", "blue", 200, NAN, 0);
	render(&p, NULL);
	ck_assert(bucket(&p, rd, "listener", "web", "0.001") == 2);
	ck_assert(hvalue(&p, rd, "_sum", "listener", "web") == 0);
	ck_assert(hvalue(&p, "sluice_upstream_duration_seconds", "_count",
	    "upstream", "app") == 1);
	page_free(&p);
}
END_TEST

/* Timeouts, retries, ended exchanges, health transitions. */
START_TEST(test_counters)
{
	struct page	 p;
	int		 i;

	for (i = 0; i < 3; i++)
		metrics_timeout(METRICS_TIMEOUT_READ);
	metrics_timeout(METRICS_TIMEOUT_CONNECT);
	metrics_timeout((enum metrics_timeout)99);	/* ignored */
	for (i = 0; i < 5; i++)
		metrics_retry();
	metrics_ended(METRICS_ENDED_KILLED);
	metrics_ended(METRICS_ENDED_KILLED);
	metrics_ended((enum metrics_ended)-1);		/* ignored */
	metrics_health("app", "blue", 0);
	metrics_health("app", "blue", 1);
	metrics_health("app", "blue", 0);
	metrics_health("app", "green", 1);
	render(&p, NULL);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "connect", NULL)) == 1);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "read", NULL)) == 3);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "write", NULL)) == 0);
	ck_assert(value(&p, "sluice_retries_total", labels(NULL)) == 5);
	ck_assert(value(&p, "sluice_exchanges_ended_total",
	    labels("reason", "killed", NULL)) == 2);
	ck_assert(value(&p, "sluice_exchanges_ended_total",
	    labels("reason", "drain_timeout", NULL)) == 0);
	ck_assert(value(&p, "sluice_health_transitions_total",
	    labels("upstream", "app", "server", "blue", "to", "down",
	    NULL)) == 2);
	ck_assert(value(&p, "sluice_health_transitions_total",
	    labels("upstream", "app", "server", "blue", "to", "up",
	    NULL)) == 1);
	ck_assert(value(&p, "sluice_health_transitions_total",
	    labels("upstream", "app", "server", "green", "to", "up",
	    NULL)) == 1);
	ck_assert_int_eq(nsamples(&p, "sluice_health_transitions_total"), 3);
	page_free(&p);
}
END_TEST

/* Backslash, double quote and newline are escaped, and read back. */
START_TEST(test_escaping)
{
	const char	*odd = "a\"b\\c\nd";
	struct page	 p;
	char		*text;

	metrics_exchange(odd, "up\\", "\"", 200, 0.1, -1);
	text = render_text(NULL);
	ck_assert_ptr_nonnull(strstr(text, "sluice_requests_total{"
	    "listener=\"a\\\"b\\\\c\\nd\",upstream=\"up\\\\\",server=\"\\\"\","
	    "code=\"2xx\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "sluice_request_duration_seconds_"
	    "count{listener=\"a\\\"b\\\\c\\nd\"} 1\n"));
	ck_assert_msg(page_parse(&p, text) == 0, "%s", p.err);
	ck_assert(requests(&p, odd, "up\\", "\"", "2xx") == 1);
	page_free(&p);
}
END_TEST

/* Keys whose strings join alike, or differ only late, stay apart. */
START_TEST(test_keys_apart)
{
	static const char *const k[][3] = {
		{ "ab", "c", "x" }, { "a", "bc", "x" }, { "abc", "", "x" },
		{ "listener-number-one", "u", "s" },
		{ "listener-number-onf", "u", "s" },
		{ "listener-number-one.", "u", "s" },
		{ "12345678", "u", "s" }, { "1234567", "8u", "s" },
	};
	struct page	 p;
	int		 i, j;

	for (i = 0; i < NELEM(k); i++)
		for (j = 0; j <= i; j++)
			metrics_exchange(k[i][0], k[i][1], k[i][2], 200, 0, -1);
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), NELEM(k));
	for (i = 0; i < NELEM(k); i++)
		ck_assert_msg(requests(&p, k[i][0], k[i][1][0] != '\0' ?
		    k[i][1] : "-", k[i][2], "2xx") == i + 1, "%d", i);
	page_free(&p);
}
END_TEST

#define NKEYS	3000

/* Many keys, interleaved, force the tables to grow; every count holds. */
START_TEST(test_many_keys)
{
	static const char *const codes[] = { "2xx", "3xx", "4xx", "5xx" };
	char		 l[32], s[32];
	struct page	 p;
	int		 i, round;

	for (round = 0; round < 4; round++)
		for (i = 0; i < NKEYS; i++) {
			if (round > i % 4)
				continue;
			snprintf(l, sizeof(l), "l%d", i % 50);
			snprintf(s, sizeof(s), "server-%d", i);
			metrics_exchange(l, "app", s, 200 + 100 * (i % 4), 0.2,
			    0.1);
		}
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), NKEYS);
	ck_assert_int_eq(nsamples(&p, "sluice_request_duration_seconds"),
	    50 * (NELEM(buckets) + 2));
	for (i = 0; i < NKEYS; i++) {
		snprintf(l, sizeof(l), "l%d", i % 50);
		snprintf(s, sizeof(s), "server-%d", i);
		ck_assert_msg(requests(&p, l, "app", s, codes[i % 4]) ==
		    i % 4 + 1, "key %d", i);
	}
	ck_assert(hvalue(&p, "sluice_upstream_duration_seconds", "_count",
	    "upstream", "app") == NKEYS / 4 * (1 + 2 + 3 + 4));
	page_free(&p);
}
END_TEST

/* metrics_free empties everything; counting starts again from zero. */
START_TEST(test_free_reuse)
{
	struct page	 p;
	int		 i;

	for (i = 0; i < 100; i++) {
		metrics_exchange("web", "app", "blue", 200, 0.1, 0.05);
		metrics_health("app", "blue", i % 2);
	}
	metrics_retry();
	metrics_timeout(METRICS_TIMEOUT_WRITE);
	metrics_ended(METRICS_ENDED_DRAIN_TIMEOUT);
	metrics_free();
	metrics_free();			/* twice is fine */
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, "sluice_requests_total"), 0);
	ck_assert_int_eq(nsamples(&p, "sluice_upstream_duration_seconds"), 0);
	ck_assert_int_eq(nsamples(&p, "sluice_health_transitions_total"), 0);
	ck_assert(value(&p, "sluice_retries_total", labels(NULL)) == 0);
	ck_assert(value(&p, "sluice_upstream_timeouts_total",
	    labels("kind", "write", NULL)) == 0);
	ck_assert(value(&p, "sluice_exchanges_ended_total",
	    labels("reason", "drain_timeout", NULL)) == 0);
	page_free(&p);
	metrics_exchange("web", "app", "blue", 200, 0.1, 0.05);
	metrics_exchange("web", "app", "green", 200, 0.1, 0.05);
	render(&p, NULL);
	ck_assert(requests(&p, "web", "app", "blue", "2xx") == 1);
	ck_assert(requests(&p, "web", "app", "green", "2xx") == 1);
	ck_assert(hvalue(&p, "sluice_request_duration_seconds", "_count",
	    "listener", "web") == 2);
	page_free(&p);
}
END_TEST

#ifdef __SANITIZE_ADDRESS__
/*
 * Events on known keys allocate nothing, and metrics_free gives back every
 * byte the series took. Needs the exact count of live bytes that
 * AddressSanitizer keeps (glibc's mallinfo2 counts chunks cached in tcache
 * as in use): a plain build does not register it (check_suite says SKIP).
 */
START_TEST(test_free_returns_memory)
{
	char	 name[32];
	size_t	 (*used)(void) = __sanitizer_get_current_allocated_bytes;
	size_t	 before, full = 0;
	int	 i, round;

	for (round = 0; round < 3; round++) {
		before = used();
		for (i = 0; i < 3000; i++) {
			snprintf(name, sizeof(name), "name-%d", i % 1000);
			if (i == 1000)
				full = used();
			metrics_exchange(name, "app", name, 200, 0.1, 0.05);
			metrics_health("app", name, i % 2);
		}
		ck_assert_uint_gt(full, before);
		ck_assert_uint_eq(used(), full);
		metrics_free();
		ck_assert_uint_eq(used(), before);
	}
}
END_TEST
#endif

/*
 * Servers
 */

/* A config with upstream app: blue on port, green on 9002. */
static struct conf *
conf_app(int port)
{
	struct conf	*c;
	char		 text[512], *errors = NULL;

	snprintf(text, sizeof(text),
	    "[listener web]\nlisten = 127.0.0.1:8080\nupstream = app\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=blue\n"
	    "server = 127.0.0.1:9002 name=green weight=3\n", port);
	c = conf_load_string("t.ini", text, &errors);
	ck_assert_msg(c != NULL, "conf: %s", errors);
	return c;
}

/* Set the counters metrics reads from s. */
static void
server_fill(struct server *s, unsigned inflight, unsigned nidle,
    unsigned nbusy, uint64_t connects, uint64_t reuses)
{
	s->inflight = inflight;
	s->local[0].nidle = nidle;	/* one worker */
	s->local[0].nbusy = nbusy;
	s->connects = connects;
	s->reuses = reuses;
}

/* One per-server sample for app/name. */
static double
srv(const struct page *p, const char *family_name, const char *name)
{
	return value(p, family_name, labels("upstream", "app", "server", name,
	    NULL));
}

/* The per-server families read the registry when the page is made. */
START_TEST(test_servers)
{
	struct conf	*c = conf_app(9001);
	struct server	*blue, *green;
	struct page	 p;

	blue = server_get(&c->upstreams[0], &c->upstreams[0].servers[0]);
	green = server_get(&c->upstreams[0], &c->upstreams[0].servers[1]);
	ck_assert_ptr_nonnull(blue);
	ck_assert_ptr_nonnull(green);
	server_fill(blue, 4, 2, 3, 10, 25);
	server_fill(green, 0, 1, 0, 1, 0);
	green->admin_drain = 1;
	green->health.checked_down = 1;
	render(&p, NULL);
	ck_assert(srv(&p, "sluice_server_in_flight", "blue") == 4);
	ck_assert(srv(&p, "sluice_upstream_connections_idle", "blue") == 2);
	ck_assert(srv(&p, "sluice_upstream_connections_busy", "blue") == 3);
	ck_assert(srv(&p, "sluice_upstream_connections_opened_total",
	    "blue") == 10);
	ck_assert(srv(&p, "sluice_upstream_connections_reused_total",
	    "blue") == 25);
	ck_assert(srv(&p, "sluice_server_up", "blue") == 1);
	ck_assert(srv(&p, "sluice_server_draining", "blue") == 0);
	ck_assert(srv(&p, "sluice_upstream_connections_idle", "green") == 1);
	ck_assert(srv(&p, "sluice_server_up", "green") == 0);
	ck_assert(srv(&p, "sluice_server_draining", "green") == 1);
	ck_assert(srv(&p, "sluice_server_weight", "blue") == 1);
	ck_assert(srv(&p, "sluice_server_weight", "green") == 3);
	ck_assert_int_eq(nsamples(&p, "sluice_server_up"), 2);
	page_free(&p);
	/* the admin's weight, 0 included, wins over the configured one */
	blue->weight_override = 7;
	green->weight_override = 0;
	render(&p, NULL);
	ck_assert(srv(&p, "sluice_server_weight", "blue") == 7);
	ck_assert(srv(&p, "sluice_server_weight", "green") == 0);
	page_free(&p);
	green->weight_override = SERVER_WEIGHT_CONF;
	render(&p, NULL);
	ck_assert(srv(&p, "sluice_server_weight", "green") == 3);
	page_free(&p);
	server_fill(blue, 0, 0, 0, 0, 0);
	server_fill(green, 0, 0, 0, 0, 0);
	server_unref(blue);
	server_unref(green);
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, "sluice_server_in_flight"), 0);
	page_free(&p);
	conf_free(c);
}
END_TEST

/* Old and new blue (address changed by a reload) make one series. */
START_TEST(test_server_twins)
{
	struct conf	*c1 = conf_app(9001), *c2 = conf_app(9003);
	struct server	*old, *cur, *green;
	struct page	 p;

	old = server_get(&c1->upstreams[0], &c1->upstreams[0].servers[0]);
	green = server_get(&c1->upstreams[0], &c1->upstreams[0].servers[1]);
	cur = server_get(&c2->upstreams[0], &c2->upstreams[0].servers[0]);
	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_nonnull(cur);
	ck_assert_ptr_ne(old, cur);
	server_set_state(old, SERVER_DRAINING);
	old->health.checked_down = 1;
	server_fill(old, 2, 0, 2, 7, 3);
	server_fill(cur, 1, 4, 1, 5, 9);
	old->weight_override = 5;	/* the removed one's: not shown */
	render(&p, NULL);
	ck_assert_int_eq(nsamples(&p, "sluice_server_in_flight"), 2);
	ck_assert(srv(&p, "sluice_server_in_flight", "blue") == 3);
	ck_assert(srv(&p, "sluice_upstream_connections_idle", "blue") == 4);
	ck_assert(srv(&p, "sluice_upstream_connections_busy", "blue") == 3);
	ck_assert(srv(&p, "sluice_upstream_connections_opened_total",
	    "blue") == 12);
	ck_assert(srv(&p, "sluice_upstream_connections_reused_total",
	    "blue") == 12);
	ck_assert(srv(&p, "sluice_server_up", "blue") == 1);
	ck_assert(srv(&p, "sluice_server_draining", "blue") == 0);
	ck_assert(srv(&p, "sluice_server_weight", "blue") == 1);
	page_free(&p);
	/* the current one removed too: draining, and its health shows */
	server_set_state(cur, SERVER_DRAINING);
	server_unref(cur);
	render(&p, NULL);
	ck_assert(srv(&p, "sluice_server_in_flight", "blue") == 2);
	ck_assert(srv(&p, "sluice_server_up", "blue") == 0);
	ck_assert(srv(&p, "sluice_server_draining", "blue") == 1);
	page_free(&p);
	server_fill(old, 0, 0, 0, 0, 0);
	server_unref(old);
	server_unref(green);
	conf_free(c1);
	conf_free(c2);
}
END_TEST

/*
 * The Grafana dashboard
 */

#define DASHBOARD	"contrib/grafana/sluice.json"

/* 1 when name is a family of p, or a histogram family's series. */
static int
page_has(const struct page *p, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	char	 base[128];
	size_t	 i, j, n = strlen(name), sl;

	for (i = 0; i < p->nf; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return 1;
	for (j = 0; j < 3; j++) {
		sl = strlen(suffix[j]);
		if (n <= sl || n - sl >= sizeof(base) ||
		    strcmp(name + n - sl, suffix[j]) != 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - sl), name);
		for (i = 0; i < p->nf; i++)
			if (strcmp(p->f[i].name, base) == 0 &&
			    strcmp(p->f[i].type, "histogram") == 0)
				return 1;
	}
	return 0;
}

/* The end of the JSON string starting after its opening quote at s. */
static const char *
json_string_end(const char *s)
{
	for (; *s != '\0' && *s != '"'; s++)
		if (*s == '\\' && s[1] != '\0')
			s++;
	return s;
}

/*
 * Every metric name an "expr" of the dashboard uses (each sluice_...
 * token) is a family of the real page, or a series of a histogram
 * family: renaming a metric fails here until the dashboard follows.
 */
START_TEST(test_dashboard_names)
{
	struct page	 p;
	char		*json, name[128], seen[8192] = " ";
	const char	*s, *end, *t;
	size_t		 len, n;
	int		 nexpr = 0, nnames = 0;

	json = itest_read_file(DASHBOARD, &len);
	ck_assert_msg(json != NULL && len > 0, "cannot read %s", DASHBOARD);
	render(&p, NULL);
	for (s = json; (s = strstr(s, "\"expr\"")) != NULL; s = end) {
		s += 6;
		s += strspn(s, " \t\r\n");
		ck_assert_msg(*s == ':', "%s: \"expr\" without a value",
		    DASHBOARD);
		s += 1 + strspn(s + 1, " \t\r\n");
		ck_assert_msg(*s == '"', "%s: \"expr\" not a string",
		    DASHBOARD);
		end = json_string_end(++s);
		nexpr++;
		for (t = s; t < end && (t = strstr(t, "sluice_")) != NULL &&
		    t < end; t += n) {
			n = 7 + strspn(t + 7, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789_");
			ck_assert(n < sizeof(name));
			snprintf(name, sizeof(name), "%.*s", (int)n, t);
			ck_assert_msg(page_has(&p, name), "%s uses %s, which "
			    "/metrics does not have", DASHBOARD, name);
			snprintf(name, sizeof(name), " %.*s ", (int)n, t);
			if (strstr(seen, name) == NULL &&
			    strlen(seen) + strlen(name) < sizeof(seen)) {
				strcat(seen, name + 1);
				nnames++;
			}
		}
	}
	printf("dashboard: %d queries use %d metric names, all on the page:"
	    "%s\n", nexpr, nnames, seen);
	fflush(stdout);
	ck_assert_msg(nexpr >= 10 && nnames >= 10, "%s: only %d queries, %d "
	    "names", DASHBOARD, nexpr, nnames);
	page_free(&p);
	free(json);
}
END_TEST

/* The metrics suite; a test that cannot run in this build is not
 * registered, and a SKIP line says so. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tp = tcase_create("parser");
	TCase	*tc = tcase_create("page");

	tcase_add_loop_test(tp, test_parser_refuses, 0, NELEM(bad_pages));
	tcase_add_test(tp, test_parser_accepts);
	suite_add_tcase(s, tp);
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_page);
	tcase_add_test(tc, test_render_appends);
	tcase_add_test(tc, test_process);
	tcase_add_test(tc, test_gauges);
	tcase_add_test(tc, test_status_classes);
	tcase_add_test(tc, test_absent_names);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_histogram_odd_values);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_keys_apart);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_free_reuse);
#ifdef __SANITIZE_ADDRESS__
	tcase_add_test(tc, test_free_returns_memory);
#else
	printf("SKIP: test_free_returns_memory needs AddressSanitizer\n");
	fflush(stdout);
#endif
	tcase_add_test(tc, test_servers);
	tcase_add_test(tc, test_server_twins);
	tcase_add_test(tc, test_dashboard_names);
	suite_add_tcase(s, tc);
	return s;
}
