/*
 * check_resilience: backends that fail, and the operator's controls.
 * Integration tests: each runs the real sluice in front of test origins,
 * mostly under load from tests/loadgen, and checks what a user would
 * check. When backends fail (test cases "health" and "retries"): one that
 * dies costs at most the requests it held, a pool with nothing usable
 * answers 503 at once, a bad response is no outage, max_ejected keeps a
 * server in, health checks take a server out and bring it back with slow
 * start, the keep-alive race costs nothing, and a retry never repeats a
 * POST the backend may have read. Control ("control" and "metrics"):
 * weights split traffic exactly, a runtime drain loses nothing, weight 0
 * sends a server nothing new (retries included) and reset brings its
 * split back, the admin endpoint wants its token, checks a weight's value
 * and moves by reload, and /metrics parses and agrees with the load
 * client. Every test prints its figures on stdout.
 *
 * A load client's request times count from its own start, which lies
 * between the moment it was spawned and the moment it said "started"; a
 * request is placed before or after an event only when both bounds agree.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_resilience. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define WAIT_MS		5000	/* bound of a state change we wait for */
#define LOAD_STOP_MS	15000	/* bound of a load client's stop */
#define POLL_MS		10	/* step of a polled wait */
#define MARGIN		0.5	/* s an event may come after its moment */
#define TOKEN		"s3cret-Token_4242"
#define RES_A		1	/* res_conf_app(): origin 0 is a server */
#define RES_B		2	/* origin 1 is a server */
#define RES_AB		3

#define FLAP_FAIL_S	2	/* flapping origin: fail_timeout */
#define FLAP_BEFORE_MS	1000	/* load before the kill */
#define FLAP_OUTAGE_MS	1000	/* how long the origin stays dead */
#define DOWN_N		20	/* all down: requests timed */
#define DOWN_FAST_S	0.25	/* bound of each (connect_timeout 2 s) */
#define DOWN_CHECK_MS	100	/* health_interval */
#define RACE_SERVERS	40	/* keep-alive race: entries of an origin */
#define RACE_CONNS	40	/* clients, each pacing about 1 s */
#define RACE_THINK	"950-1050"	/* their think time, ms */
#define RACE_N		2000	/* requests of each load, half POSTs */
#define RACE_NEAR_MIN	3	/* reuses near 1 s that show the race ran */
#define RACE_LEARN_MS	30000	/* bound of the learning */
#define RACE_WAIT_MS	90000	/* bound of a paced load */
#define RACE_IDLE_MS	1000	/* the origins' keep-alive timeout */
#define MIXED_SERVERS	4	/* entries of each origin */
#define MIXED_CONNS	20
#define MIXED_THINK	"100-1500"
#define MIXED_N		600
#define HC_INTERVAL_MS	200	/* health checks: health_interval */
#define HC_FALL		3
#define HC_RISE		2
#define HC_SLOW_S	3	/* slow_start */
#define HC_WEIGHT	10
#define HC_SECONDS	(HC_SLOW_S + 1)	/* seconds of split printed */
#define HC_PASSIVE_S	60	/* fail_timeout of the passive outage */
#define CANARY_N	10000	/* canary: requests of the split */
#define CANARY_TOL	0.02
#define BG_BEFORE_MS	1000	/* runtime drain: load before it */
#define BG_SEQ		20	/* sequential requests of each check */
#define W0_A		3	/* weight 0: configured weights of a, b */
#define W0_B		1
#define W0_SLOW_MS	3000	/* the GET in flight on b at weight 0 */
#define W0_SPLIT	100	/* sequential requests of the split */
#define W0_CHECKS	3	/* health checks of b awaited at weight 0 */
#define W0_RETRY_N	6	/* GETs of the retry test, each phase */
#define MET_LOAD_N	2000	/* metrics: requests of the load client */
#define MET_EDGE_N	6	/* sequential GETs, half to the black hole */
#define MAX_FAMILIES	128	/* metric families a page may hold */

/* One test's world: the itest processes, the admin port and token. */
struct res {
	struct itest	 t;
	int		 admin;		/* admin listener port */
	const char	*token;		/* [admin] token, or NULL */
	const char	*names[2];	/* server names of origins 0 and 1 */
	long long	 gen;		/* the generation sluice serves */
	const char	*global;	/* [global] lines, or NULL: itest's */
	const char	*admin_host;	/* [admin] listen host; NULL:
					 * 127.0.0.1 */
	const char	*admin_extra;	/* more [admin] lines, or NULL */
};


/* A metric family of a /metrics page. */
struct res_family {
	char		 name[128];
	char		 type[16];	/* "" until its TYPE line */
	int		 help;
	int		 used;		/* a line of it was seen */
	int		 samples;
};

/* What the check of a /metrics page found. */
struct res_prom {
	struct res_family	 fam[MAX_FAMILIES];
	int			 nfam;
	int			 cur;		/* family of the last line */
	int			 nsamples;
	int			 lineno;
	char			 why[256];	/* the first problem */
};

/* One sample of a /metrics page, split. */
struct res_sample {
	char		 name[128];
	char		 labels[512];	/* between the braces, "" if none */
	double		 value;
};

static void	res_config(struct res *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* --- the world and its configurations ---------------------------------- */

/* Make the world without origins: the directory and the ports. */
static void
res_init(struct res *r, const char *token)
{
	memset(r, 0, sizeof(*r));
	itest_init(&r->t);
	r->admin = itest_free_port();
	r->token = token;
	itest_sluice_port(&r->t);
}

/* Make the world with origin 0 as a and, unless b is NULL, 1 as b. */
static void
res_world(struct res *r, const char *token, const char *a, const char *b)
{
	res_init(r, token);
	itest_origin_start(&r->t, 0, a);
	r->names[0] = a;
	if (b != NULL) {
		itest_origin_start(&r->t, 1, b);
		r->names[1] = b;
	}
}

/* Write the config: [admin] with the token, then the formatted rest. */
static void
res_config(struct res *r, const char *fmt, ...)
{
	char	*rest = NULL, tok[128] = "";
	va_list	 ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	va_end(ap);
	if (r->token != NULL)
		snprintf(tok, sizeof(tok), "token = %s\n", r->token);
	itest_sluice_config(&r->t, r->global, "[admin]\nlisten = %s:%d\n"
	    "%s%s\n%s", r->admin_host != NULL ? r->admin_host : "127.0.0.1",
	    r->admin, tok, r->admin_extra != NULL ? r->admin_extra : "",
	    rest);
	free(rest);
}

/*
 * Config: listener web -> upstream app, whose servers are the origins
 * which selects (RES_A, RES_B), named after r->names, with weights wa and
 * wb, followed by the extra upstream lines.
 */
static void
res_conf_app(struct res *r, int which, int wa, int wb, const char *extra)
{
	char	 sa[128] = "", sb[128] = "";

	if (which & RES_A)
		snprintf(sa, sizeof(sa), "server = 127.0.0.1:%d name=%s "
		    "weight=%d\n", r->t.origin[0].port, r->names[0], wa);
	if (which & RES_B)
		snprintf(sb, sizeof(sb), "server = 127.0.0.1:%d name=%s "
		    "weight=%d\n", r->t.origin[1].port, r->names[1], wb);
	res_config(r, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s%s%s", r->t.sluice.port, sa,
	    sb, extra);
}

/* Start sluice on the config written; it serves generation 1. */
static void
res_launch(struct res *r)
{
	itest_sluice_launch(&r->t);
	r->gen = 1;
}

/* A path in the test's directory, in a static buffer per slot (0, 1). */
static const char *
res_path(const struct res *r, int slot, const char *name)
{
	static char	 buf[2][256];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", r->t.dir, name);
	return buf[slot];
}

/* --- admin ------------------------------------------------------------- */

/* POST /reload: assert 200 and the next generation. */
static void
res_reload(struct res *r)
{
	r->gen = itest_admin_reload(r->admin, r->token, r->gen);
}

/* Assert that server name's key in /status is want. */
static void
res_assert_server(struct res *r, const char *name, const char *key,
    const char *want)
{
	char	*json = itest_admin_status(r->admin), buf[32];

	ck_assert_msg(strcmp(itest_status_str(json, name, key, buf,
	    sizeof(buf)), want) == 0, "/status: server %s has %s \"%s\", "
	    "want \"%s\": %s", name, key, buf, want, json);
	free(json);
}

/* res_assert_server through GET /status with the token. */
static void
res_assert_server_tok(struct res *r, const char *name, const char *key,
    const char *want)
{
	struct itest_resp	 resp;
	char			 buf[32];

	itest_admin_request(r->admin, "GET", "/status", r->token, &resp);
	ck_assert_msg(resp.status == 200, "GET /status with the token: %d",
	    resp.status);
	ck_assert_msg(strcmp(itest_status_str((char *)resp.body, name, key,
	    buf, sizeof(buf)), want) == 0, "/status: server %s has %s "
	    "\"%s\", want \"%s\"", name, key, buf, want);
	itest_resp_free(&resp);
}

/* --- logs -------------------------------------------------------------- */

/* Requests origin i logged, health checks and idle closes left out. */
static int
res_origin_requests(const struct itest *t, int i)
{
	char	*s = itest_read_file(t->origin_log[i], NULL), *line;
	char	*save = NULL;
	int	 n = 0;

	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		n += strncmp(line, "GET /health ", 12) != 0 &&
		    strncmp(line, "IDLECLOSE ", 10) != 0;
	free(s);
	return n;
}

/* The origin that answered r, "-" when none said. */
static const char *
res_origin_of(const struct itest_resp *r)
{
	const char	*o = itest_resp_header(r, "X-Origin");

	return o != NULL ? o : "-";
}

/* --- the load client --------------------------------------------------- */


/* Wait for the load client to end by itself (-d or -n); assert exit 0. */
static void
res_load_wait(struct itest_load *l, int timeout_ms)
{
	int	 st = itest_proc_wait(&l->proc, timeout_ms);

	ck_assert_msg(st == 0, "%s exited with status %d (-2: still running "
	    "after %d ms); notes:\n%s", l->proc.name, st, timeout_ms,
	    itest_file_tail(l->notes));
}

/*
 * n requests one after the other on one connection (so the balancer's
 * picks are in order and nothing else picks meanwhile); all must be
 * 2xx. *a and *b get how many origins 0 and 1 answered.
 */
static void
res_sequence(struct res *r, const char *name, int n, long long *a,
    long long *b)
{
	struct itest_load	 l;
	char			 key[64];

	itest_load_start(&r->t, &l, name, r->t.sluice.port, "-q -c 1 -n %d "
	    "-d 0 -p /bytes/16 -t 5000", n);
	res_load_wait(&l, LOAD_STOP_MS);
	itest_load_assert_clean(&l, name);
	ck_assert_int_eq(itest_load_value(&l, "sent"), n);
	snprintf(key, sizeof(key), "origin.%s", r->names[0]);
	*a = itest_load_value(&l, key);
	*a = *a < 0 ? 0 : *a;
	snprintf(key, sizeof(key), "origin.%s", r->names[1] != NULL ?
	    r->names[1] : "-");
	*b = itest_load_value(&l, key);
	*b = *b < 0 ? 0 : *b;
}

/* --- /metrics ---------------------------------------------------------- */

/* Length of the metric (colon: ':' allowed) or label name at s. */
static size_t
res_prom_name_len(const char *s, int colon)
{
	size_t	 n = 0;

	for (;; n++) {
		char	 c = s[n];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (colon && c == ':') ||
		    (n > 0 && c >= '0' && c <= '9'))
			continue;
		return n;
	}
}

/* Record the first problem of the page; returns -1. */
static int
res_prom_bad(struct res_prom *p, const char *why, const char *line)
{
	if (p->why[0] == '\0' && p->lineno == 0)
		snprintf(p->why, sizeof(p->why), "%s: %.120s", why, line);
	else if (p->why[0] == '\0')
		snprintf(p->why, sizeof(p->why), "line %d: %s: %.120s",
		    p->lineno, why, line);
	return -1;
}

/* The family called name, added when add is set; -1 if none (or full). */
static int
res_prom_family(struct res_prom *p, const char *name, int add)
{
	int	 i;

	for (i = 0; i < p->nfam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return i;
	if (!add || p->nfam == MAX_FAMILIES ||
	    strlen(name) >= sizeof(p->fam[0].name))
		return -1;
	memcpy(p->fam[p->nfam].name, name, strlen(name) + 1);
	return p->nfam++;
}

/* A line of family f: its lines must form one group. 0 or -1. */
static int
res_prom_enter(struct res_prom *p, int f, const char *line)
{
	if (f != p->cur && p->fam[f].used)
		return res_prom_bad(p, "family not in one group", line);
	p->fam[f].used = 1;
	p->cur = f;
	return 0;
}

/* Check the label set {...} at s; *end gets the byte after it. */
static int
res_prom_labels(const char *s, const char **end)
{
	const char	*p = s + 1;
	size_t		 n;

	while (*p != '}') {
		n = res_prom_name_len(p, 0);
		if (n == 0 || p[n] != '=' || p[n + 1] != '"')
			return -1;
		for (p += n + 2; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && p[1] != '\\' && p[1] != '"' &&
			    p[1] != 'n')
				return -1;
			if (*p == '\\')
				p++;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return -1;
	}
	*end = p + 1;
	return 0;
}

/* Split a sample line into *smp; 0, or -1 when it is not one. */
static int
res_prom_split(const char *line, struct res_sample *smp)
{
	size_t		 n = res_prom_name_len(line, 1);
	const char	*rest = line + n, *lab;
	char		*end;

	if (n == 0 || n >= sizeof(smp->name))
		return -1;
	snprintf(smp->name, sizeof(smp->name), "%.*s", (int)n, line);
	smp->labels[0] = '\0';
	if (*rest == '{') {
		lab = rest;
		if (res_prom_labels(lab, &rest) == -1 ||
		    (size_t)(rest - lab) - 2 >= sizeof(smp->labels))
			return -1;
		snprintf(smp->labels, sizeof(smp->labels), "%.*s",
		    (int)(rest - lab - 2), lab + 1);
	}
	if (*rest != ' ')
		return -1;
	while (*rest == ' ')
		rest++;
	smp->value = strtod(rest, &end);
	if (end == rest)
		return -1;
	if (*end == ' ') {		/* an optional time stamp */
		rest = end + 1;
		strtoll(rest, &end, 10);
		if (end == rest)
			return -1;
	}
	return *end == '\0' ? 0 : -1;
}

/* The family a sample name belongs to (histogram parts included). */
static int
res_prom_base(struct res_prom *p, const char *name)
{
	static const char *const	 sfx[] = { "_bucket", "_sum",
					    "_count" };
	char				 base[128];
	size_t				 n = strlen(name), k, i;
	int				 f;

	if ((f = res_prom_family(p, name, 0)) != -1 && p->fam[f].type[0])
		return f;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (n <= k || strcmp(name + n - k, sfx[i]) != 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
		f = res_prom_family(p, base, 0);
		if (f != -1 && (strcmp(p->fam[f].type, "histogram") == 0 ||
		    (i > 0 && strcmp(p->fam[f].type, "summary") == 0)))
			return f;
	}
	return -1;
}

/* A "# HELP" or "# TYPE" line (other comments pass). 0 or -1. */
static int
res_prom_comment(struct res_prom *p, const char *line)
{
	static const char *const	 types[] = { "counter", "gauge",
					    "histogram", "summary",
					    "untyped" };
	char				 kw[8], name[160], type[32];
	size_t				 i;
	int				 f;

	if (sscanf(line, "# %7s %159s", kw, name) != 2 ||
	    (strcmp(kw, "HELP") != 0 && strcmp(kw, "TYPE") != 0))
		return 0;
	if (res_prom_name_len(name, 1) != strlen(name) ||
	    (f = res_prom_family(p, name, 1)) == -1)
		return res_prom_bad(p, "bad family name", line);
	if (res_prom_enter(p, f, line) == -1)
		return -1;
	if (kw[0] == 'H') {
		if (p->fam[f].help++)
			return res_prom_bad(p, "second HELP", line);
		return 0;
	}
	if (p->fam[f].type[0] != '\0' || p->fam[f].samples > 0)
		return res_prom_bad(p, "second TYPE, or TYPE after samples",
		    line);
	if (sscanf(line, "# TYPE %*s %31s", type) != 1)
		return res_prom_bad(p, "TYPE without a type", line);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		return res_prom_bad(p, "unknown type", line);
	snprintf(p->fam[f].type, sizeof(p->fam[f].type), "%s", types[i]);
	return 0;
}

/* A sample line. 0 or -1. */
static int
res_prom_sample(struct res_prom *p, const char *line)
{
	struct res_sample	 smp;
	int			 f;

	if (res_prom_split(line, &smp) == -1)
		return res_prom_bad(p, "not `name{labels} value`", line);
	if ((f = res_prom_base(p, smp.name)) == -1)
		return res_prom_bad(p, "sample before its # TYPE", line);
	if (res_prom_enter(p, f, line) == -1)
		return -1;
	p->fam[f].samples++;
	p->nsamples++;
	return 0;
}

/* Families have HELP and TYPE; names follow the conventions. */
static int
res_prom_families(struct res_prom *p)
{
	const struct res_family	*fm;
	size_t			 n;
	int			 i;

	p->lineno = 0;			/* the page as a whole */
	for (i = 0; i < p->nfam; i++) {
		fm = &p->fam[i];
		n = strlen(fm->name);
		if (!fm->help || fm->type[0] == '\0')
			return res_prom_bad(p, "family without HELP or TYPE",
			    fm->name);
		/* process_*: the standard process metrics */
		if (strncmp(fm->name, "sluice_", 7) != 0 &&
		    strncmp(fm->name, "process_", 8) != 0)
			return res_prom_bad(p, "name without sluice_",
			    fm->name);
		if (strcmp(fm->type, "counter") == 0 &&
		    (n < 6 || strcmp(fm->name + n - 6, "_total") != 0))
			return res_prom_bad(p, "counter without _total",
			    fm->name);
	}
	return 0;
}

/* Check a whole page (text format 0.0.4). 0, or -1 with p->why. */
static int
res_prom_check(const char *text, struct res_prom *p)
{
	char	*s = strdup(text), *line, *nl;
	int	 rc = 0;

	ck_assert(s != NULL);
	memset(p, 0, sizeof(*p));
	p->cur = -1;
	for (line = s; rc == 0 && *line != '\0'; line = nl + 1) {
		p->lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			rc = res_prom_bad(p, "last line without newline",
			    line);
			break;
		}
		*nl = '\0';
		if (*line == '#')
			rc = res_prom_comment(p, line);
		else
			rc = res_prom_sample(p, line);
	}
	if (rc == 0)
		rc = res_prom_families(p);
	free(s);
	return rc;
}

/* 1 when labels (without braces) hold every pair of want ("a=\"x\",..."). */
static int
res_labels_match(const char *labels, const char *want)
{
	char		 pair[128];
	const char	*w = want, *comma, *at;
	size_t		 n;

	while (*w != '\0') {
		comma = strchr(w, ',');
		n = comma != NULL ? (size_t)(comma - w) : strlen(w);
		snprintf(pair, sizeof(pair), "%.*s", (int)n, w);
		for (at = strstr(labels, pair); at != NULL;
		    at = strstr(at + 1, pair))
			if ((at == labels || at[-1] == ',') &&
			    (at[n] == '\0' || at[n] == ','))
				break;
		if (at == NULL)
			return 0;
		w += n + (comma != NULL);
	}
	return 1;
}

/* Call fn on every sample of a page that res_prom_check() accepted. */
static void
res_prom_each(const char *text,
    void (*fn)(const struct res_sample *, void *), void *arg)
{
	char			*s = strdup(text), *line, *save = NULL;
	struct res_sample	 smp;

	ck_assert(s != NULL);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (*line != '#' && res_prom_split(line, &smp) == 0)
			fn(&smp, arg);
	free(s);
}

/* A sum over the samples of one name whose labels match. */
struct res_sum {
	const char	*name;
	const char	*want;
	double		 sum;
	int		 n;
};

/* Add a matching sample to the sum. */
static void
res_sum_add(const struct res_sample *smp, void *arg)
{
	struct res_sum	*s = arg;

	if (strcmp(smp->name, s->name) != 0 ||
	    !res_labels_match(smp->labels, s->want))
		return;
	s->sum += smp->value;
	s->n++;
}

/* The sum of the samples called name with the labels of want ("": any);
 * 0 when there is none (a labelled counter not yet incremented). */
static double
res_metric(const char *text, const char *name, const char *want)
{
	struct res_sum	 s = { name, want, 0, 0 };

	res_prom_each(text, res_sum_add, &s);
	return s.sum;
}

/* The same, as an integer (counters and gauges of counts). */
static long long
res_metric_ll(const char *text, const char *name, const char *want)
{
	return (long long)(res_metric(text, name, want) + 0.5);
}

/* GET /metrics: assert a 200 that parses; the page, malloc'd. */
static char *
res_metrics(struct res *r, struct res_prom *p)
{
	struct itest_resp	 resp;
	char			*page;

	itest_get(r->admin, "/metrics", &resp);
	ck_assert_msg(resp.status == 200 && resp.complete, "GET /metrics: "
	    "status %d", resp.status);
	page = (char *)resp.body;
	resp.body = NULL;
	itest_resp_free(&resp);
	ck_assert_msg(res_prom_check(page, p) == 0, "/metrics does not "
	    "parse: %s", p->why);
	return page;
}

/* A histogram's buckets for one label set, as they are listed. */
struct res_histo {
	char		 bucket[160];	/* NAME_bucket */
	const char	*want;
	double		 last;		/* the previous bucket */
	double		 inf;		/* the +Inf bucket, -1 if none */
	int		 nbuckets;
	int		 decreasing;	/* a bucket below the one before */
};

/* Walk one bucket of the histogram. */
static void
res_histo_add(const struct res_sample *smp, void *arg)
{
	struct res_histo	*h = arg;

	if (strcmp(smp->name, h->bucket) != 0 ||
	    !res_labels_match(smp->labels, h->want))
		return;
	if (smp->value < h->last)
		h->decreasing = 1;
	h->last = smp->value;
	h->nbuckets++;
	if (strstr(smp->labels, "le=\"+Inf\"") != NULL)
		h->inf = smp->value;
}

/* Assert that histogram name{want} is cumulative and its +Inf bucket is
 * its count; returns the count. */
static long long
res_assert_histogram(const char *page, const char *name, const char *want)
{
	struct res_histo	 h;
	char			 count[160];
	double			 c;

	memset(&h, 0, sizeof(h));
	snprintf(h.bucket, sizeof(h.bucket), "%s_bucket", name);
	snprintf(count, sizeof(count), "%s_count", name);
	h.want = want;
	h.inf = -1;
	res_prom_each(page, res_histo_add, &h);
	c = res_metric(page, count, want);
	ck_assert_msg(h.nbuckets > 1 && !h.decreasing && h.inf == c,
	    "histogram %s{%s}: %d buckets, decreasing %d, +Inf %.0f, count "
	    "%.0f", name, want, h.nbuckets, h.decreasing, h.inf, c);
	return (long long)c;
}

/* One value from a fresh GET /metrics. */
static long long
res_metric_now(struct res *r, const char *name, const char *want)
{
	struct res_prom	 p;
	char		*page = res_metrics(r, &p);
	long long	 v = res_metric_ll(page, name, want);

	free(page);
	return v;
}

/* The value of the one sample name{want} of a fresh /metrics page; fails
 * unless there is exactly one. */
static long long
res_metric_sample(struct res *r, const char *name, const char *want)
{
	struct res_prom	 p;
	char		*page = res_metrics(r, &p);
	struct res_sum	 s = { name, want, 0, 0 };

	res_prom_each(page, res_sum_add, &s);
	free(page);
	ck_assert_msg(s.n == 1, "/metrics: %d samples of %s{%s}, want 1", s.n,
	    name, want);
	return (long long)(s.sum + 0.5);
}

/* --- a flapping origin under load -------------------------------------- */

/* Requests of the flapping run, placed around the kill. */
struct res_flap {
	double		 kill;		/* itest_now() at the SIGKILL */
	int		 total;
	int		 by_dead;	/* answered by the killed origin */
	int		 by_new;	/* by the one restarted on its port */
	int		 failed;
	int		 failed_late;	/* failed, surely sent after the kill */
	int		 failed_post;
	char		 first_bad[160];
};

/* Place one request of the flapping run. */
static void
res_flap_add(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct res_flap	*f = arg;

	f->total++;
	if (itest_req_ok(q)) {
		f->by_dead += strcmp(q->origin, "a") == 0;
		f->by_new += strcmp(q->origin, "a2") == 0;
		return;
	}
	if (f->failed++ == 0)
		itest_req_describe(q, f->first_bad, sizeof(f->first_bad));
	f->failed_late += itest_load_earliest(l, q->start) > f->kill;
	f->failed_post += strcmp(q->method, "POST") == 0;
}

/* Kill origin 0 (SIGKILL) and reap it; returns the moment. */
static double
res_kill_origin(struct res *r)
{
	double	 at = itest_now();

	ck_assert_msg(kill(r->t.origin[0].pid, SIGKILL) == 0, "kill: %s",
	    strerror(errno));
	ck_assert_int_eq(itest_proc_wait(&r->t.origin[0], WAIT_MS),
	    128 + SIGKILL);
	return at;
}

/* Assert the one down and one up transition of app/a in log and metrics,
 * and none of app/b. */
static void
res_assert_one_flap(struct res *r)
{
	struct res_prom	 p;
	char		*page = res_metrics(r, &p);
	long long	 down, up;

	ck_assert_int_eq(itest_lines_with(r->t.error_log,
	    "server app/a: down (", NULL), 1);
	ck_assert_int_eq(itest_lines_with(r->t.error_log,
	    "server app/a: up (", NULL), 1);
	ck_assert_int_eq(itest_lines_with(r->t.error_log, "server app/b: ",
	    "down"), 0);
	down = res_metric_ll(page, "sluice_health_transitions_total",
	    "upstream=\"app\",server=\"a\",to=\"down\"");
	up = res_metric_ll(page, "sluice_health_transitions_total",
	    "upstream=\"app\",server=\"a\",to=\"up\"");
	ck_assert_msg(down == 1 && up == 1, "metrics: %lld down, %lld up "
	    "transitions of app/a, want 1 and 1", down, up);
	free(page);
}

/* SIGKILL an origin under GET load, restart it on its port: only the
 * requests it held may fail, it goes down and comes back. */
START_TEST(test_flapping_origin)
{
	struct res		 r;
	struct itest_load	 l;
	struct res_flap		 f;
	double			 down, up, back;
	int			 port, received, held, connfail, retried;
	long long		 retries;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, 1, 1, "connect_timeout = 2s\n"
	    "read_timeout = 5s\nmax_fails = 1\nfail_timeout = 2s\n");
	res_launch(&r);
	itest_load_start(&r.t, &l, "flap", r.t.sluice.port, "-c 20 -r 400 "
	    "-p /delay/25 -d 6000 -t 5000");
	itest_pause(FLAP_BEFORE_MS);
	memset(&f, 0, sizeof(f));
	port = r.t.origin[0].port;
	f.kill = res_kill_origin(&r);
	received = res_origin_requests(&r.t, 0);
	down = itest_wait_log(r.t.error_log, "server app/a: down (", WAIT_MS);
	res_assert_server(&r, "a", "health", "down");
	itest_pause(FLAP_OUTAGE_MS);
	itest_origin_start_opts(&r.t, 0, "a2", "-p %d", port);
	ck_assert_int_eq(r.t.origin[0].port, port);
	back = itest_now();
	up = itest_wait_log(r.t.error_log, "server app/a: up (",
	    (FLAP_FAIL_S + 3) * 1000);
	res_load_wait(&l, LOAD_STOP_MS);
	itest_reqs_each(&l, res_flap_add, &f);
	held = received - f.by_dead;
	connfail = itest_lines_with(r.t.error_log, "app/a (", "connect failed");
	retried = itest_lines_with(r.t.error_log, ": retrying on app/b", NULL);
	retries = res_metric_now(&r, "sluice_retries_total", "");
	printf("flapping origin: %d GETs, %d failed (a held %d when it died; "
	    "the first failure: %s); %lld retried on b (%d after a refused "
	    "connect); a down %.0f ms after the kill, up %.0f ms after its "
	    "restart; a answered %d before, %d after\n", f.total, f.failed,
	    held, f.failed > 0 ? f.first_bad : "none", retries, connfail,
	    (down - f.kill) * 1e3, (up - back) * 1e3, f.by_dead, f.by_new);
	fflush(stdout);
	ck_assert_int_eq(f.total, itest_load_value(&l, "sent"));
	ck_assert_msg(f.failed <= held, "%d requests failed, but a held only "
	    "%d when it died; the first: %s", f.failed, held, f.first_bad);
	ck_assert_msg(f.failed_late == 0, "%d request(s) sent after the kill "
	    "failed; the first failure: %s", f.failed_late, f.first_bad);
	/* a goes out by the reset exchanges it held (closed before a
	 * head), often before any connect to it is refused */
	ck_assert_msg(retries == retried &&
	    retries >= connfail, "%d refused connects to a, %lld retries in "
	    "the metrics, %d \"retrying on app/b\" lines", connfail, retries,
	    retried);
	ck_assert_msg(f.by_new > 0, "the restarted origin got no request");
	ck_assert_msg(up - back <= FLAP_FAIL_S + MARGIN, "a came back %.3f s "
	    "after its restart (fail_timeout %d s)", up - back, FLAP_FAIL_S);
	res_assert_one_flap(&r);
	itest_finish(&r.t);
}
END_TEST

/* --- nothing usable: 503 at once --------------------------------------- */

/* n GETs in a row, each must be a 503; the slowest in *max (s). */
static void
res_assert_503s(struct res *r, int n, double *max, double *mean)
{
	struct itest_resp	 resp;
	double			 t0, dt, sum = 0;
	int			 i;

	*max = 0;
	for (i = 0; i < n; i++) {
		t0 = itest_now();
		itest_get(r->t.sluice.port, "/bytes/16", &resp);
		dt = itest_now() - t0;
		ck_assert_msg(resp.status == 503 && resp.complete, "request "
		    "%d with nothing usable: status %d", i, resp.status);
		itest_resp_free(&resp);
		sum += dt;
		if (dt > *max)
			*max = dt;
	}
	*mean = sum / n;
}

/* The connections /status counts for servers a and b together. */
static long long
res_connects(struct res *r)
{
	char		*json = itest_admin_status(r->admin);
	long long	 n;

	n = itest_status_int(json, "a", "connects") +
	    itest_status_int(json, "b", "connects");
	free(json);
	return n;
}

/*
 * Origins stopped: once passive health has both out, 503 at once. Both
 * may go out only with max_ejected = 100% (the default keeps one in).
 */
START_TEST(test_all_down_passive)
{
	struct res		 r;
	struct itest_resp	 resp;
	double			 max, mean, t0, first;
	long long		 connects;
	int			 i, code;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, 1, 1, "connect_timeout = 2s\n"
	    "max_fails = 1\nfail_timeout = 30s\nmax_ejected = 100%\n");
	res_launch(&r);
	itest_get(r.t.sluice.port, "/bytes/16", &resp);
	ck_assert_int_eq(resp.status, 200);
	itest_resp_free(&resp);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(itest_proc_stop(&r.t.origin[i],
		    ITEST_STOP_TIMEOUT_MS), 0);
	t0 = itest_now();
	itest_get(r.t.sluice.port, "/bytes/16", &resp);
	first = itest_now() - t0;
	code = resp.status;
	itest_resp_free(&resp);
	itest_wait_log(r.t.error_log, "server app/a: down (", WAIT_MS);
	itest_wait_log(r.t.error_log, "server app/b: down (", WAIT_MS);
	connects = res_connects(&r);
	res_assert_503s(&r, DOWN_N, &max, &mean);
	printf("all down (passive): the first request after the stop got "
	    "%d in %.3f s; then %d requests got 503 in %.4f s at most (mean "
	    "%.4f s, connect_timeout 2 s), %lld connects meanwhile\n", code,
	    first, DOWN_N, max, mean, res_connects(&r) - connects);
	fflush(stdout);
	ck_assert_msg(code == 502, "the first request after the stop: %d, "
	    "want 502 (a refused, the retry on b refused)", code);
	ck_assert_msg(max < DOWN_FAST_S, "a 503 took %.3f s", max);
	ck_assert_int_eq(res_connects(&r), connects);
	ck_assert_int_eq(itest_lines_with(r.t.access_log, "\" 503 ",
	    " proxy_request"), DOWN_N);
	itest_finish(&r.t);
}
END_TEST

/* Start origin i named name with -f file, the file present (down). */
static void
res_origin_flippable(struct res *r, int i, const char *name,
    const char *file)
{
	itest_write_file(file, "down\n");
	itest_origin_start_opts(&r->t, i, name, "-f %s", file);
	r->names[i] = name;
}

/* Every health check fails: 503 at once; one passes again: 200. */
START_TEST(test_all_down_active)
{
	struct res		 r;
	struct itest_resp	 resp;
	double			 max, mean, t1, up;
	char			 fa[256], fb[256];

	res_init(&r, NULL);
	snprintf(fa, sizeof(fa), "%s", res_path(&r, 0, "a.down"));
	snprintf(fb, sizeof(fb), "%s", res_path(&r, 1, "b.down"));
	res_origin_flippable(&r, 0, "a", fa);
	res_origin_flippable(&r, 1, "b", fb);
	res_conf_app(&r, RES_AB, 1, 1, "connect_timeout = 2s\n"
	    "health_check = /health\nhealth_interval = 100ms\n"
	    "health_timeout = 500ms\nhealth_fall = 2\nhealth_rise = 2\n");
	res_launch(&r);
	itest_wait_log(r.t.error_log, "server app/a: down (", WAIT_MS);
	itest_wait_log(r.t.error_log, "server app/b: down (", WAIT_MS);
	res_assert_503s(&r, DOWN_N, &max, &mean);
	ck_assert_int_eq(res_origin_requests(&r.t, 0) +
	    res_origin_requests(&r.t, 1), 0);
	ck_assert(unlink(fa) == 0);
	t1 = itest_now();
	up = itest_wait_log(r.t.error_log, "server app/a: up (", WAIT_MS);
	itest_get(r.t.sluice.port, "/bytes/16", &resp);
	printf("all down (active checks failing): %d requests got 503 in "
	    "%.4f s at most (mean %.4f s), none reached an origin (%d health "
	    "checks did); a's checks pass again: up after %.0f ms "
	    "(health_rise 2 x 100 ms), then %d from %s\n", DOWN_N, max, mean,
	    itest_count_file(r.t.origin_log[0], "GET /health ") +
	    itest_count_file(r.t.origin_log[1], "GET /health "),
	    (up - t1) * 1e3, resp.status, itest_resp_header(&resp,
	    "X-Origin") != NULL ? itest_resp_header(&resp, "X-Origin") : "-");
	fflush(stdout);
	ck_assert_msg(max < DOWN_FAST_S, "a 503 took %.3f s", max);
	ck_assert_msg(up - t1 <= 2 * DOWN_CHECK_MS / 1e3 + MARGIN, "a came "
	    "back %.3f s after its checks passed again", up - t1);
	ck_assert_msg(resp.status == 200 && itest_resp_header(&resp,
	    "X-Origin") != NULL && strcmp(itest_resp_header(&resp,
	    "X-Origin"), "a") == 0, "after a came back: %d", resp.status);
	itest_resp_free(&resp);
	itest_finish(&r.t);
}
END_TEST

/* --- a bad response is no outage --------------------------------------- */

/* n GETs of path, one connection each; how many got 200, and from a. */
static void
res_gets(struct res *r, const char *path, int n, int *ok, int *from_a)
{
	struct itest_resp	 resp;
	int			 i;

	*ok = *from_a = 0;
	for (i = 0; i < n; i++) {
		itest_get(r->t.sluice.port, path, &resp);
		*ok += resp.status == 200;
		*from_a += strcmp(res_origin_of(&resp), r->names[0]) == 0;
		itest_resp_free(&resp);
	}
}

/* The value of a per-server metric of app/name now. */
static long long
res_server_metric(struct res *r, const char *metric, const char *name)
{
	char	 want[128];

	snprintf(want, sizeof(want), "upstream=\"app\",server=\"%s\"", name);
	return res_metric_now(r, metric, want);
}

/* GET /raw/204cl twice: a 502 each, one on each server. */
static void
res_two_invalid(struct res *r)
{
	struct itest_resp	 resp;
	int			 i;

	for (i = 0; i < 2; i++) {
		itest_get(r->t.sluice.port, "/raw/204cl", &resp);
		ck_assert_msg(resp.status == 502, "204 with Content-Length: "
		    "%d, want 502", resp.status);
		itest_resp_free(&resp);
	}
	ck_assert_int_eq(itest_lines_with(r->t.origin_log[0], "/raw/204cl",
	    NULL), 1);
	ck_assert_int_eq(itest_lines_with(r->t.origin_log[1], "/raw/204cl",
	    NULL), 1);
	ck_assert_int_eq(itest_lines_with(r->t.error_log, "invalid response: ",
	    "Content-Length"), 2);
}

/*
 * A legacy endpoint that answers 204 with a Content-Length, on both
 * servers: each such request is a 502, counted by server, and nothing
 * else: no server goes out, so the site keeps serving.
 */
START_TEST(test_invalid_no_outage)
{
	struct res	 r;
	char		*json;
	int		 ok, a;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, 1, 1, "");
	res_launch(&r);
	res_two_invalid(&r);
	res_gets(&r, "/bytes/16", 100, &ok, &a);
	printf("invalid responses: two 502s (a 204 with Content-Length on a "
	    "and on b), then 100 GETs: %d ok, %d from a; %lld and %lld "
	    "counted invalid\n", ok, a,
	    res_server_metric(&r, "sluice_upstream_invalid_responses_total",
	    "a"), res_server_metric(&r,
	    "sluice_upstream_invalid_responses_total", "b"));
	fflush(stdout);
	ck_assert_int_eq(ok, 100);
	ck_assert_int_eq(a, 50);
	ck_assert_int_eq(res_server_metric(&r,
	    "sluice_upstream_invalid_responses_total", "a"), 1);
	ck_assert_int_eq(res_server_metric(&r,
	    "sluice_upstream_invalid_responses_total", "b"), 1);
	ck_assert_int_eq(res_metric_now(&r, "sluice_health_transitions_total",
	    ""), 0);
	ck_assert_int_eq(itest_lines_with(r.t.error_log, ": down (", NULL), 0);
	res_assert_server(&r, "a", "health", "up");
	res_assert_server(&r, "b", "health", "up");
	json = itest_admin_status(r.admin);
	ck_assert_msg(itest_status_int(json, "a", "invalid") == 1 &&
	    itest_status_int(json, "b", "invalid") == 1, "/status: %s", json);
	free(json);
	itest_finish(&r.t);
}
END_TEST

/*
 * fail_on_invalid = on counts them as failures again, still bounded by
 * max_ejected: the first takes a out, the second would take b out too,
 * but b stays in (logged once, counted), and every later request is
 * served by b.
 */
START_TEST(test_fail_on_invalid)
{
	struct res	 r;
	char		*json;
	int		 ok, a;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, 1, 1, "fail_on_invalid = on\n"
	    "fail_timeout = 30s\n");
	res_launch(&r);
	res_two_invalid(&r);
	res_gets(&r, "/bytes/16", 100, &ok, &a);
	printf("fail_on_invalid: a out, b kept in by max_ejected (%lld held, "
	    "%d log line); then 100 GETs: %d ok, %d from a\n",
	    res_server_metric(&r, "sluice_server_ejections_held_total", "b"),
	    itest_lines_with(r.t.error_log, "server app/b: too many failed "
	    "requests, but kept in service", NULL), ok, a);
	fflush(stdout);
	ck_assert_int_eq(ok, 100);
	ck_assert_int_eq(a, 0);
	res_assert_server(&r, "a", "health", "down");
	res_assert_server(&r, "b", "health", "up");
	ck_assert_int_eq(res_metric_now(&r, "sluice_health_transitions_total",
	    "server=\"a\",to=\"down\""), 1);
	ck_assert_int_eq(res_metric_now(&r, "sluice_health_transitions_total",
	    "server=\"b\""), 0);
	ck_assert_int_eq(res_server_metric(&r,
	    "sluice_server_ejections_held_total", "b"), 1);
	ck_assert_int_eq(res_server_metric(&r,
	    "sluice_server_ejections_held_total", "a"), 0);
	ck_assert_int_eq(itest_lines_with(r.t.error_log, "server app/b: too "
	    "many failed requests, but kept in service", NULL), 1);
	json = itest_admin_status(r.admin);
	ck_assert_msg(itest_status_int(json, "b", "held") == 1, "/status: %s",
	    json);
	free(json);
	itest_finish(&r.t);
}
END_TEST

/* Servers of /status whose health is down, among names[0..n). */
static int
res_count_down(struct res *r, const char *const *names, int n, char *which,
    size_t len)
{
	char	*json = itest_admin_status(r->admin), buf[16];
	int	 i, down = 0;

	which[0] = '\0';
	for (i = 0; i < n; i++) {
		itest_status_str(json, names[i], "health", buf, sizeof(buf));
		if (strcmp(buf, "down") == 0) {
			down++;
			snprintf(which + strlen(which), len - strlen(which),
			    "%s%s", down > 1 ? "," : "", names[i]);
		}
	}
	free(json);
	return down;
}

/*
 * Four servers, three refusing connections: passive health takes out two
 * (max_ejected 50%), keeps the third in, and with it every request still
 * finds the good one by a retry. max_ejected = 100% lets the third go.
 */
START_TEST(test_max_ejected)
{
	static const char *const names[] = { "f1", "f2", "f3" };
	struct res		 r;
	char			 which[32], dead[3][64];
	int			 i, ok, good, down;
	long long		 held;

	res_world(&r, NULL, "good", NULL);
	for (i = 0; i < 3; i++)
		snprintf(dead[i], sizeof(dead[i]), "server = 127.0.0.1:%d "
		    "name=%s\n", itest_free_port(), names[i]);
	res_config(&r, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s%s%s"
	    "server = 127.0.0.1:%d name=good\nmax_fails = 1\n"
	    "fail_timeout = 30s\n", r.t.sluice.port, dead[0], dead[1],
	    dead[2], r.t.origin[0].port);
	res_launch(&r);
	/* each request tries a server in turn, and one more on a refusal */
	res_gets(&r, "/bytes/16", 12, &ok, &good);
	down = res_count_down(&r, names, 3, which, sizeof(which));
	held = 0;
	for (i = 0; i < 3; i++)
		held += res_server_metric(&r,
		    "sluice_server_ejections_held_total", names[i]);
	res_gets(&r, "/bytes/16", 20, &ok, &good);
	printf("max_ejected 50%%, 3 of 4 servers refusing: %d out (%s), "
	    "%lld failures held one in; then 20 GETs: %d ok, %d from good\n",
	    down, which, held, ok, good);
	fflush(stdout);
	ck_assert_msg(down == 2, "%d servers out (%s), want 2", down, which);
	ck_assert_int_eq(res_metric_now(&r, "sluice_health_transitions_total",
	    "to=\"down\""), 2);
	ck_assert_msg(held >= 1, "no failure was held");
	ck_assert_int_eq(ok, 20);
	ck_assert_int_eq(good, 20);
	res_assert_server(&r, "good", "health", "up");
	/* no cap: the third goes out at its next failure */
	res_config(&r, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s%s%s"
	    "server = 127.0.0.1:%d name=good\nmax_fails = 1\n"
	    "fail_timeout = 30s\nmax_ejected = 100%%\n", r.t.sluice.port,
	    dead[0], dead[1], dead[2], r.t.origin[0].port);
	res_reload(&r);
	res_gets(&r, "/bytes/16", 4, &ok, &good);
	down = res_count_down(&r, names, 3, which, sizeof(which));
	printf("max_ejected 100%%: %d out (%s); 4 GETs: %d ok\n", down, which,
	    ok);
	fflush(stdout);
	ck_assert_msg(down == 3, "%d servers out (%s), want 3", down, which);
	ck_assert_int_eq(ok, 4);
	itest_finish(&r.t);
}
END_TEST

/* --- the keep-alive race ----------------------------------------------- */

/* What an origin with -k logged: requests and how long their
 * connection had been idle, and its idle closes. */
struct res_idle {
	int		 lines;		/* lines read (for a later mark) */
	int		 requests;
	int		 reused;	/* on a connection that served before */
	int		 near;		/* ... idle near_ms or more */
	int		 closes;	/* IDLECLOSE lines */
	double		 max;		/* the longest idle before reuse */
};

/* Read lines [from, to) of origin i's log into *s (to < 0: to the end);
 * near_ms: what counts as near the origin's timeout. */
static void
res_idle_stats(const struct itest *t, int i, int from, int to,
    double near_ms, struct res_idle *s)
{
	char	*log = itest_read_file(t->origin_log[i], NULL), *line;
	char	*save = NULL, *sp;
	double	 ms;
	int	 n = 0;

	memset(s, 0, sizeof(*s));
	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		s->lines++;
		if (n++ < from || (to >= 0 && n > to))
			continue;
		if (strncmp(line, "IDLECLOSE ", 10) == 0) {
			s->closes++;
			continue;
		}
		s->requests++;
		if ((sp = strrchr(line, ' ')) == NULL || sp[1] == '-')
			continue;
		ms = atof(sp + 1);
		s->reused++;
		s->near += ms >= near_ms;
		if (ms > s->max)
			s->max = ms;
	}
	free(log);
}

/* Lines of origin i's log now. */
static int
res_origin_lines(const struct itest *t, int i)
{
	struct res_idle	 s;

	res_idle_stats(t, i, 0, 0, 0, &s);
	return s.lines;
}

/* Upstream lines: n servers at port, named prefix1..prefixN. */
static char *
res_many_servers(const char *prefix, int port, int n)
{
	char	*s = NULL, *next;
	int	 i;

	ck_assert((s = strdup("")) != NULL);
	for (i = 1; i <= n; i++) {
		ck_assert(asprintf(&next, "%sserver = 127.0.0.1:%d "
		    "name=%s%d\n", s, port, prefix, i) != -1);
		free(s);
		s = next;
	}
	return s;
}

/* "server UP/" lines of the error log that say a timeout was learned. */
static int
res_learned(struct res *r, const char *up)
{
	char	 who[64];

	snprintf(who, sizeof(who), "server %s/", up);
	return itest_lines_with(r->t.error_log, who,
	    "closes idle connections after about");
}

/* Wait until the idle timeouts of n servers of up are learned (what
 * every worker's connections show adds up); the moment. Fails past
 * timeout_ms. */
static double
res_wait_learned(struct res *r, const char *up, int n, int timeout_ms)
{
	double	 end = itest_now() + timeout_ms / 1e3;
	int	 want = n;

	while (res_learned(r, up) < want) {
		ck_assert_msg(itest_now() < end, "%d of %d idle timeouts of "
		    "%s learned within %d ms; the error log's tail:\n%s",
		    res_learned(r, up), want, up, timeout_ms,
		    itest_file_tail(r->t.error_log));
		poll(NULL, 0, POLL_MS);
	}
	return itest_now();
}

/* The sum of a per-server metric over an upstream (connects, say). */
static long long
res_upstream_metric(struct res *r, const char *metric, const char *up)
{
	char	 want[64];

	snprintf(want, sizeof(want), "upstream=\"%s\"", up);
	return res_metric_now(r, metric, want);
}

/* One value from a fresh GET /metrics, as it is (gauges in seconds). */
static double
res_metric_double(struct res *r, const char *name, const char *want)
{
	struct res_prom	 p;
	char		*page = res_metrics(r, &p);
	double		 v = res_metric(page, name, want);

	free(page);
	return v;
}

/* Print one case of the race. */
static void
res_race_print(const char *what, const struct itest_load *l,
    const struct res_idle *s, int retries)
{
	printf("keep-alive race, %s: %lld paced requests, %lld failed; the "
	    "origin saw %d requests, %d on reused connections (%d idle "
	    ">= 900 ms, the longest %.0f ms), closed %d idle connections; "
	    "%d requests retried\n", what, itest_load_value(l, "sent"),
	    itest_load_value(l, "failed") + itest_load_value(l, "s5xx"),
	    s->requests, s->reused, s->near, s->max, s->closes, retries);
	fflush(stdout);
}

/* Start a paced GET+POST load of RACE_N requests on port. */
static void
res_race_load(struct res *r, struct itest_load *l, const char *name,
    int port)
{
	itest_load_start(&r->t, l, name, port, "-q -c %d -w %s -m mix -b 512 "
	    "-p /bytes/64 -n %d -d 0 -t 5000", RACE_CONNS, RACE_THINK, RACE_N);
}

/*
 * Three origins that close idle connections after exactly 1 s: one says
 * so (Keep-Alive: timeout=1), one does not ("quiet"), and one never does
 * within the test ("never"), each behind an upstream that lists it
 * RACE_SERVERS times; RACE_CONNS clients each, pacing about 1 s, half
 * POSTs, so that each entry's pooled connection is reused after about
 * 1 s. Not one request fails. sluice learns the quiet one's timeout:
 * before that its pooled connections are reused near 1 s (the race is
 * run; the GETs that lose it are retried, and no POST goes on such a
 * connection), after it none is (they retire at 750 ms). The announced
 * one is never closed under sluice, and learning costs the never-closing
 * one no connections once warm.
 */
START_TEST(test_keepalive_race)
{
	struct res		 r;
	struct itest_load	 lq, la, ln;
	struct res_idle		 before, after, sa, sn;
	double			 learned, t0, tmo;
	long long		 c_warm, c_end, f_warm, f_end, req_warm;
	long long		 retired;
	int			 mark, qport, nport, n_after;
	char			*ups[3];

	res_init(&r, NULL);
	itest_origin_start_opts(&r.t, 0, "quiet", "-k %d", RACE_IDLE_MS);
	itest_origin_start_opts(&r.t, 1, "ann", "-k %d -K", RACE_IDLE_MS);
	itest_origin_start_opts(&r.t, 2, "never", "-k 600000");
	qport = itest_free_port();
	nport = itest_free_port();
	ups[0] = res_many_servers("q", r.t.origin[0].port, RACE_SERVERS);
	ups[1] = res_many_servers("k", r.t.origin[1].port, RACE_SERVERS);
	ups[2] = res_many_servers("n", r.t.origin[2].port, RACE_SERVERS);
	res_config(&r, "[listener quiet]\nlisten = 127.0.0.1:%d\n"
	    "upstream = quiet\n\n[listener ann]\nlisten = 127.0.0.1:%d\n"
	    "upstream = ann\n\n[listener never]\nlisten = 127.0.0.1:%d\n"
	    "upstream = never\n\n[upstream quiet]\n%s\n[upstream ann]\n%s\n"
	    "[upstream never]\n%s", qport, r.t.sluice.port, nport, ups[0],
	    ups[1], ups[2]);
	free(ups[0]);
	free(ups[1]);
	free(ups[2]);
	res_launch(&r);
	t0 = itest_now();
	res_race_load(&r, &lq, "quiet", qport);
	res_race_load(&r, &la, "ann", r.t.sluice.port);
	res_race_load(&r, &ln, "never", nport);
	learned = res_wait_learned(&r, "quiet", RACE_SERVERS, RACE_LEARN_MS);
	mark = res_origin_lines(&r.t, 0);
	c_warm = res_upstream_metric(&r,
	    "sluice_upstream_connections_opened_total", "never");
	f_warm = res_upstream_metric(&r, "sluice_upstream_safe_fresh_total",
	    "never");
	req_warm = res_origin_lines(&r.t, 2);
	res_load_wait(&lq, RACE_WAIT_MS);
	res_load_wait(&la, LOAD_STOP_MS);
	res_load_wait(&ln, LOAD_STOP_MS);
	c_end = res_upstream_metric(&r,
	    "sluice_upstream_connections_opened_total", "never");
	f_end = res_upstream_metric(&r, "sluice_upstream_safe_fresh_total",
	    "never");
	res_idle_stats(&r.t, 0, 0, mark, 900, &before);
	res_idle_stats(&r.t, 0, mark, -1, 900, &after);
	res_idle_stats(&r.t, 1, 0, -1, 900, &sa);
	res_idle_stats(&r.t, 2, 0, -1, 900, &sn);
	n_after = sn.requests - (int)req_warm;
	retired = res_upstream_metric(&r,
	    "sluice_upstream_connections_retired_total", "quiet");
	tmo = res_metric_double(&r, "sluice_upstream_idle_timeout_seconds",
	    "server=\"q1\"");
	res_race_print("not announced, before learning", &lq, &before,
	    itest_lines_with(r.t.error_log, "retrying on quiet/", NULL));
	printf("keep-alive race, not announced, after learning (%.1f s into "
	    "the load; timeout learned %.3f s): %d requests, %d reused, %d "
	    "idle >= 900 ms, the longest %.0f ms; %lld pooled connections "
	    "retired early\n", learned - t0, tmo, after.requests,
	    after.reused, after.near, after.max, retired);
	res_race_print("Keep-Alive: timeout=1 announced", &la, &sa,
	    itest_lines_with(r.t.error_log, "retrying on ann/", NULL));
	printf("keep-alive race, never closed: once warm, %lld new "
	    "connections for %d requests, %lld of them for safety (%lld and "
	    "%lld in all for %d)\n", c_end - c_warm, n_after, f_end - f_warm,
	    c_end, f_end, sn.requests);
	fflush(stdout);
	itest_load_assert_clean(&lq, "not announced");
	itest_load_assert_clean(&la, "announced");
	itest_load_assert_clean(&ln, "never closed");
	ck_assert_int_eq(itest_load_value(&lq, "sent"), RACE_N);
	/* the race was run before the learning, not after */
	ck_assert_msg(before.near >= RACE_NEAR_MIN, "%d reuses idle >= 900 "
	    "ms before the learning: the race was not provoked", before.near);
	ck_assert_msg(after.near == 0 && after.requests > RACE_N / 4,
	    "%d reuses idle >= 900 ms of %d requests after the learning",
	    after.near, after.requests);
	ck_assert_msg(retired > 0, "no pooled connection retired early");
	ck_assert_msg(tmo >= 0.95 && tmo <= 1.1, "learned %.3f s", tmo);
	ck_assert_msg(sa.closes == 0, "the announcing origin closed %d idle "
	    "connections: sluice kept them past its Keep-Alive timeout",
	    sa.closes);
	/*
	 * What learning costs a server that never closes: next to nothing,
	 * 1 % of the requests per worker at most. Each worker has a pool of
	 * its own, so with N workers each pooled connection waits N times as
	 * long between two requests of the same load, and more of them pass
	 * the safe age by chance (workers = 2: 0 to 25 of about 1,600).
	 */
	ck_assert_msg(sn.closes == 0 && f_end - f_warm <= n_after *
	    (getenv("SLUICE_TEST_WORKERS") != NULL ?
	    atoi(getenv("SLUICE_TEST_WORKERS")) : 1) / 100,
	    "the never-closing origin: %lld new connections for safety for "
	    "%d requests once warm", f_end - f_warm, n_after);
	itest_finish(&r.t);
}
END_TEST

/*
 * One upstream with a server that closes idle connections after 300 ms
 * and one after 5 s: each is learned for itself. Nothing fails; once the
 * fast one is learned its connections are never reused near 300 ms, and
 * the slow one's are still reused after idling longer than that (the
 * slow one never closes one: sluice's keepalive_timeout is 4 s).
 */
START_TEST(test_keepalive_mixed)
{
	struct res		 r;
	struct itest_load	 l;
	struct res_idle		 fast, slow;
	char			*f, *sl;
	int			 mark;
	double			 tf, ts;

	res_init(&r, NULL);
	itest_origin_start_opts(&r.t, 0, "fast", "-k 300");
	itest_origin_start_opts(&r.t, 1, "slow", "-k 5000");
	f = res_many_servers("f", r.t.origin[0].port, MIXED_SERVERS);
	sl = res_many_servers("s", r.t.origin[1].port, MIXED_SERVERS);
	res_config(&r, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s%s", r.t.sluice.port, f, sl);
	free(f);
	free(sl);
	res_launch(&r);
	itest_load_start(&r.t, &l, "mixed", r.t.sluice.port, "-q -c %d -w %s "
	    "-m mix -b 512 -p /bytes/64 -n %d -d 0 -t 5000", MIXED_CONNS,
	    MIXED_THINK, MIXED_N);
	/* the fast entries are learned; the slow ones never close */
	res_wait_learned(&r, "app", MIXED_SERVERS, RACE_LEARN_MS);
	mark = res_origin_lines(&r.t, 0);
	res_load_wait(&l, RACE_WAIT_MS);
	res_idle_stats(&r.t, 0, mark, -1, 280, &fast);
	res_idle_stats(&r.t, 1, 0, -1, 300, &slow);
	tf = res_metric_double(&r, "sluice_upstream_idle_timeout_seconds",
	    "server=\"f1\"");
	ts = res_metric_double(&r, "sluice_upstream_idle_timeout_seconds",
	    "server=\"s1\"");
	printf("keep-alive, 300 ms and 5 s servers in one upstream: %lld "
	    "requests, %lld failed; learned %.3f s and %.3f s; after that "
	    "the fast origin saw %d requests, %d reused, %d idle >= 280 ms "
	    "(the longest %.0f ms); the slow one %d reused, %d idle >= 300 "
	    "ms (the longest %.0f ms), closed %d\n", itest_load_value(&l,
	    "sent"), itest_load_value(&l, "failed"), tf, ts, fast.requests,
	    fast.reused, fast.near, fast.max, slow.reused, slow.near,
	    slow.max, slow.closes);
	fflush(stdout);
	itest_load_assert_clean(&l, "300 ms and 5 s");
	ck_assert_msg(tf >= 0.28 && tf <= 0.35, "fast learned %.3f s", tf);
	ck_assert_msg(ts == 0, "slow learned %.3f s", ts);
	ck_assert_msg(fast.near == 0 && fast.reused > 0, "fast: %d of %d "
	    "reuses idle >= 280 ms after the learning", fast.near,
	    fast.reused);
	ck_assert_msg(slow.near > 0 && slow.closes == 0, "slow: %d reuses "
	    "idle >= 300 ms, %d idle closes", slow.near, slow.closes);
	itest_finish(&r.t);
}
END_TEST

/* One request on its own connection: method (GET or POST) /bytes/16;
 * "STATUS from ORIGIN" in got. Returns the status. */
static int
res_try(struct res *r, const char *method, char *got, size_t len)
{
	struct itest_resp	 resp;
	int			 code;

	if (strcmp(method, "POST") == 0)
		itest_post(r->t.sluice.port, "/bytes/16", &resp);
	else
		itest_get(r->t.sluice.port, "/bytes/16", &resp);
	code = resp.status;
	snprintf(got, len, "%d from %s", code, res_origin_of(&resp));
	itest_resp_free(&resp);
	return code;
}

/* Assert that the next request (method) got want ("STATUS from ORIGIN"). */
static void
res_expect(struct res *r, const char *method, const char *want,
    const char *why)
{
	char	 got[64];

	res_try(r, method, got, sizeof(got));
	printf("retry rules: %s %s: %s\n", method, why, got);
	fflush(stdout);
	ck_assert_msg(strcmp(got, want) == 0, "%s %s: got %s, want %s",
	    method, why, got, want);
}

/*
 * Origins that close a reused connection when a request arrives on it,
 * unanswered (-C): a GET is retried on the other server, on a fresh
 * connection (that origin would close a pooled one too); a POST that
 * went out on such a connection is not retried, so no origin sees it
 * twice; a POST whose connect was refused is retried.
 */
START_TEST(test_retry_rules)
{
	struct res	 r;

	res_init(&r, NULL);
	/* each request on a connection of its own must find the pool the
	 * last one left: pools are per worker, so one worker here */
	r.global = "shutdown_timeout = 5s\nworkers = 1\n";
	itest_origin_start_opts(&r.t, 0, "a", "-C");
	itest_origin_start_opts(&r.t, 1, "b", "-C");
	r.names[0] = "a";
	r.names[1] = "b";
	res_conf_app(&r, RES_AB, 1, 1, "max_fails = 0\n");
	res_launch(&r);
	res_expect(&r, "GET", "200 from a", "to a, a fresh connection");
	res_expect(&r, "GET", "200 from b", "to b, a fresh connection");
	res_expect(&r, "GET", "200 from b", "to a, pooled, closed unanswered");
	res_expect(&r, "POST", "502 from -", "to b, pooled, closed "
	    "unanswered");
	ck_assert_int_eq(itest_count_file(r.t.origin_log[0], "POST "), 0);
	ck_assert_int_eq(itest_count_file(r.t.origin_log[1], "POST "), 1);
	ck_assert_int_eq(itest_proc_stop(&r.t.origin[0],
	    ITEST_STOP_TIMEOUT_MS), 0);
	res_expect(&r, "POST", "200 from b", "to a, which refuses");
	ck_assert_int_eq(itest_count_file(r.t.origin_log[1], "POST "), 2);
	ck_assert_int_eq(itest_lines_with(r.t.error_log, "retrying on app/b",
	    NULL), 2);
	itest_finish(&r.t);
}
END_TEST

/* --- active health checks and slow start ------------------------------- */

/* Requests of the health run: a's last one before it came back, and
 * the split by second once it is back. */
struct res_hc {
	double		 t1;		/* the file removed */
	double		 up;		/* a back in service */
	double		 last_a;	/* latest start a answered before t1 */
	int		 a[HC_SECONDS], b[HC_SECONDS];
};

/* Place one request of the health run. */
static void
res_hc_add(const struct itest_load *l, const struct itest_req *q, void *arg)
{
	struct res_hc	*h = arg;
	double		 lo = itest_load_earliest(l, q->start);
	int		 a = strcmp(q->origin, "a") == 0, k;

	if (!itest_req_ok(q))
		return;
	if (a && itest_load_latest(l, q->start) < h->t1 && lo > h->last_a)
		h->last_a = lo;
	if (lo < h->up || (k = (int)(lo - h->up)) >= HC_SECONDS)
		return;
	h->a[k] += a;
	h->b[k] += !a;
}

/* a's share of second k of the split. */
static double
res_hc_share(const struct res_hc *h, int k)
{
	int	 n = h->a[k] + h->b[k];

	return n == 0 ? 0 : (double)h->a[k] / n;
}

/* Print the split by second after a came back. */
static void
res_hc_print(const struct res_hc *h)
{
	int	 k;

	printf("slow start %d s, a's share by second once up:", HC_SLOW_S);
	for (k = 0; k < HC_SECONDS; k++)
		printf(" %d-%ds a %d / b %d (%.0f%%)%s", k, k + 1, h->a[k],
		    h->b[k], 100 * res_hc_share(h, k),
		    k + 1 < HC_SECONDS ? ";" : "\n");
	fflush(stdout);
}

/*
 * Flip a's /health to 503 under load: traffic stops within health_fall
 * intervals and none reaches a while down; flip it back: a returns after
 * health_rise and slow start ramps its share.
 */
START_TEST(test_health_checks)
{
	struct res		 r;
	struct itest_load	 l;
	struct res_hc		 h;
	double			 t0, down;
	char			 fa[256], extra[512];
	int			 n_down, n_end;

	res_init(&r, NULL);
	snprintf(fa, sizeof(fa), "%s", res_path(&r, 0, "a.down"));
	itest_origin_start_opts(&r.t, 0, "a", "-f %s", fa);
	itest_origin_start(&r.t, 1, "b");
	r.names[0] = "a";
	r.names[1] = "b";
	snprintf(extra, sizeof(extra), "health_check = /health\n"
	    "health_interval = %dms\nhealth_timeout = 500ms\n"
	    "health_fall = %d\nhealth_rise = %d\nslow_start = %ds\n",
	    HC_INTERVAL_MS, HC_FALL, HC_RISE, HC_SLOW_S);
	res_conf_app(&r, RES_AB, HC_WEIGHT, HC_WEIGHT, extra);
	res_launch(&r);
	itest_load_start(&r.t, &l, "hc", r.t.sluice.port, "-q -c 10 -r 500 "
	    "-p /bytes/16 -d 60000 -t 5000");
	itest_pause(1000);
	memset(&h, 0, sizeof(h));
	t0 = itest_now();
	itest_write_file(fa, "down\n");
	down = itest_wait_log(r.t.error_log, "server app/a: down (", WAIT_MS);
	itest_pause(HC_INTERVAL_MS);
	n_down = res_origin_requests(&r.t, 0);
	itest_pause(1000);
	res_assert_server(&r, "a", "health", "down");
	n_end = res_origin_requests(&r.t, 0);
	h.t1 = itest_now();
	ck_assert(unlink(fa) == 0);
	h.up = itest_wait_log(r.t.error_log, "server app/a: up (", WAIT_MS);
	itest_pause(HC_SECONDS * 1000);
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	h.last_a = 0;
	itest_reqs_each(&l, res_hc_add, &h);
	printf("health checks every %d ms: a failing -> down after %.0f ms "
	    "(health_fall %d), its last request began <= %.0f ms after the "
	    "flip; %d requests reached it while down; passing again -> up "
	    "after %.0f ms (health_rise %d)\n", HC_INTERVAL_MS,
	    (down - t0) * 1e3, HC_FALL, (h.last_a - t0) * 1e3, n_end - n_down,
	    (h.up - h.t1) * 1e3, HC_RISE);
	res_hc_print(&h);
	itest_load_assert_clean(&l, "health checks");
	ck_assert_msg(down - t0 <= HC_FALL * HC_INTERVAL_MS / 1e3 + MARGIN,
	    "a went down %.3f s after its checks began to fail", down - t0);
	ck_assert_msg(h.last_a - t0 <= HC_FALL * HC_INTERVAL_MS / 1e3 +
	    MARGIN, "a still got a request %.3f s after its checks began to "
	    "fail", h.last_a - t0);
	ck_assert_msg(n_end == n_down, "%d requests reached a while it was "
	    "down by health", n_end - n_down);
	ck_assert_msg(h.up - h.t1 <= HC_RISE * HC_INTERVAL_MS / 1e3 + MARGIN,
	    "a came back %.3f s after its checks passed again", h.up - h.t1);
	ck_assert_msg(res_hc_share(&h, 0) < 0.3 && res_hc_share(&h,
	    HC_SECONDS - 1) > 0.4 && res_hc_share(&h, 0) < res_hc_share(&h,
	    HC_SLOW_S - 1), "slow start did not ramp a's share");
	itest_finish(&r.t);
}
END_TEST

/* Wait until origin 0 has logged n health checks. */
static void
res_wait_checks(struct res *r, int n)
{
	ck_assert_msg(itest_wait_count(r->t.origin_log[0], "GET /health ", n,
	    WAIT_MS) >= n, "fewer than %d health checks within %d ms", n,
	    WAIT_MS);
}

/*
 * A 5xx takes a out (fail_on_5xx) while b serves; a's passing checks
 * bring it back long before fail_timeout. (Two servers: sluice, like
 * nginx, keeps a server that is alone in its upstream whatever passive
 * health says.)
 */
START_TEST(test_health_ends_passive)
{
	struct res		 r;
	struct itest_resp	 resp;
	double			 down, up;
	char			 extra[512], mid[32];
	long long		 a, b;

	res_world(&r, NULL, "a", "b");
	snprintf(extra, sizeof(extra), "fail_on_5xx = on\nmax_fails = 1\n"
	    "fail_timeout = %ds\nhealth_check = /health\n"
	    "health_interval = %dms\nhealth_rise = %d\n", HC_PASSIVE_S,
	    HC_INTERVAL_MS, HC_RISE);
	res_conf_app(&r, RES_AB, 1, 1, extra);
	res_launch(&r);
	res_wait_checks(&r, HC_RISE);
	itest_get(r.t.sluice.port, "/status/500", &resp);
	ck_assert_msg(resp.status == 500 && strcmp(res_origin_of(&resp),
	    "a") == 0, "GET /status/500: %d from %s", resp.status,
	    res_origin_of(&resp));
	itest_resp_free(&resp);
	down = itest_wait_log(r.t.error_log, "server app/a: down (", WAIT_MS);
	itest_get(r.t.sluice.port, "/bytes/16", &resp);
	snprintf(mid, sizeof(mid), "%d from %s", resp.status,
	    res_origin_of(&resp));
	/* a only if its checks had it back already */
	ck_assert_msg(resp.status == 200 && (strcmp(res_origin_of(&resp),
	    "b") == 0 || itest_count_file(r.t.error_log,
	    "server app/a: up (") == 1), "a request while a is out: %s", mid);
	itest_resp_free(&resp);
	up = itest_wait_log(r.t.error_log, "server app/a: up (", WAIT_MS);
	res_sequence(&r, "back", 4, &a, &b);
	printf("fail_on_5xx: a 500 took a out; a request meanwhile got %s; "
	    "passing checks brought a back after %.0f ms of a %d s "
	    "fail_timeout; then a %lld, b %lld of 4\n", mid,
	    (up - down) * 1e3, HC_PASSIVE_S, a, b);
	fflush(stdout);
	ck_assert_msg(up - down <= HC_INTERVAL_MS / 1e3 + MARGIN, "a came "
	    "back %.3f s after its passive outage began", up - down);
	ck_assert_msg(a > 0, "a got no request once back");
	itest_finish(&r.t);
}
END_TEST

/* --- canary split ------------------------------------------------------ */

/*
 * POST /upstreams/app/servers/name/weight?value=value; assert that the
 * answer shows weight want in use. The in-flight count it shows.
 */
static long long
res_set_weight(struct res *r, const char *name, const char *value,
    int want)
{
	char		 path[128], *body;
	long long	 inflight;

	snprintf(path, sizeof(path), "/upstreams/app/servers/%s/weight"
	    "?value=%s", name, value);
	body = itest_admin_post(r->admin, path, r->token);
	ck_assert_msg(itest_json_int(body, "weight") == want, "POST %s: %s, "
	    "want weight %d", path, body, want);
	inflight = itest_json_int(body, "in_flight");
	free(body);
	return inflight;
}

/* n sequential requests must split exactly want_a / n - want_a. */
static void
res_assert_split(struct res *r, const char *what, int n, int want_a)
{
	long long	 a, b;

	res_sequence(r, what, n, &a, &b);
	printf("canary, %s: the next %d requests: a %lld, b %lld (want %d, "
	    "%d)\n", what, n, a, b, want_a, n - want_a);
	fflush(stdout);
	ck_assert_msg(a == want_a && b == n - want_a, "%s: a %lld, b %lld, "
	    "want %d and %d", what, a, b, want_a, n - want_a);
}

/* Weights 9 and 1 split 90/10; a weight changed by reload or by the
 * admin endpoint holds exactly from the next request. */
START_TEST(test_canary)
{
	struct res		 r;
	struct itest_load	 l;
	long long		 a, b;
	double			 share;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, 9, 1, "");
	res_launch(&r);
	itest_load_start(&r.t, &l, "canary", r.t.sluice.port, "-q -c 20 "
	    "-n %d -d 0 -p /bytes/16 -t 5000", CANARY_N);
	res_load_wait(&l, 60000);
	itest_load_assert_clean(&l, "canary");
	a = itest_load_value(&l, "origin.a");
	b = itest_load_value(&l, "origin.b");
	share = (double)a / CANARY_N;
	printf("canary, weights 9 and 1: %d requests, a %lld (%.2f%%), b "
	    "%lld (%.2f%%)\n", CANARY_N, a, 100 * share, b,
	    100.0 * (double)b / CANARY_N);
	fflush(stdout);
	ck_assert_int_eq(a + b, CANARY_N);
	ck_assert_msg(share >= 0.9 - CANARY_TOL && share <= 0.9 + CANARY_TOL,
	    "a got %.2f%%, want 90 +- 2", 100 * share);
	res_conf_app(&r, RES_AB, 1, 1, "");
	res_reload(&r);
	res_assert_split(&r, "reload to 1 and 1", 100, 50);
	res_set_weight(&r, "b", "3", 3);
	res_assert_split(&r, "admin weight of b to 3", 100, 25);
	res_conf_app(&r, RES_AB, 9, 1, "");
	res_reload(&r);
	/* the admin weight survives a reload that keeps b: 9 and 3 */
	res_assert_split(&r, "reload to 9 and 1, b's admin weight 3 kept",
	    120, 90);
	itest_finish(&r.t);
}
END_TEST

/* --- runtime drain under load ------------------------------------------ */

/* Requests of the drain run, placed around the POST. */
struct res_drain {
	double		 sent;		/* POST .../drain sent */
	double		 done;		/* and answered */
	int		 before, before_blue;
	int		 after, after_blue;
	int		 across;
	int		 bad;
	char		 first_bad[160];
};

/* Place one request of the drain run. */
static void
res_drain_add(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct res_drain	*d = arg;
	int			 blue = strcmp(q->origin, "blue") == 0;

	if (!itest_req_ok(q)) {
		if (d->bad++ == 0)
			itest_req_describe(q, d->first_bad,
			    sizeof(d->first_bad));
		return;
	}
	if (itest_load_latest(l, q->start) < d->sent) {
		d->before++;
		d->before_blue += blue;
	} else if (itest_load_earliest(l, q->start) > d->done) {
		d->after++;
		d->after_blue += blue;
	} else
		d->across++;
}

/* POST action on blue; assert the answer shows admin want. The in-flight
 * count it shows. */
static long long
res_blue(struct res *r, const char *action, const char *want)
{
	char		 path[96], buf[32], *body;
	long long	 inflight;

	snprintf(path, sizeof(path), "/upstreams/app/servers/blue/%s",
	    action);
	body = itest_admin_post(r->admin, path, r->token);
	itest_json_str(body, "admin", buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, want) == 0, "POST %s: %s", path, body);
	inflight = itest_json_int(body, "in_flight");
	free(body);
	return inflight;
}

/* The reloads around a runtime drain: kept, enabled, removed, re-added. */
static void
res_drain_reloads(struct res *r)
{
	long long	 blue, green;

	res_reload(r);
	res_assert_server(r, "blue", "admin", "drain");
	res_sequence(r, "kept", BG_SEQ, &blue, &green);
	printf("runtime drain: after a reload keeping blue, still drained: "
	    "blue %lld, green %lld of %d\n", blue, green, BG_SEQ);
	ck_assert_int_eq(blue, 0);
	res_blue(r, "enable", "enable");
	res_sequence(r, "enabled", BG_SEQ, &blue, &green);
	printf("runtime drain: after /enable: blue %lld, green %lld of %d\n",
	    blue, green, BG_SEQ);
	ck_assert_msg(blue > 0 && green > 0, "after enable: blue %lld, green "
	    "%lld", blue, green);
	res_blue(r, "drain", "drain");
	res_conf_app(r, RES_B, 1, 1, "read_timeout = 30s\n");
	res_reload(r);
	ck_assert_msg(itest_wait_server_gone(r->admin, "blue", WAIT_MS), "blue "
	    "still in /status %d ms after its removal", WAIT_MS);
	res_conf_app(r, RES_AB, 1, 1, "read_timeout = 30s\n");
	res_reload(r);
	res_assert_server(r, "blue", "admin", "enable");
	res_sequence(r, "readded", BG_SEQ, &blue, &green);
	printf("runtime drain: drained blue removed by a reload and added "
	    "back: enabled, blue %lld, green %lld of %d\n", blue, green,
	    BG_SEQ);
	fflush(stdout);
	ck_assert_msg(blue > 0, "blue added back got no request");
}

/* Drain blue by the admin endpoint under load: nothing is lost, no new
 * request reaches blue; then reloads and /enable. */
START_TEST(test_runtime_drain)
{
	struct res		 r;
	struct itest_load	 l;
	struct res_drain	 d;
	long long		 held;
	int			 blue_n, n;

	res_world(&r, NULL, "blue", "green");
	res_conf_app(&r, RES_AB, 1, 1, "read_timeout = 30s\n");
	res_launch(&r);
	itest_load_start(&r.t, &l, "bg", r.t.sluice.port, "-q -c 40 -r 1000 "
	    "-m mix -p /delay/50 -b 256 -d 3000 -t 5000");
	itest_pause(BG_BEFORE_MS);
	memset(&d, 0, sizeof(d));
	d.sent = itest_now();
	held = res_blue(&r, "drain", "drain");
	d.done = itest_now();
	ck_assert_msg(itest_wait_status_int(r.admin, "blue", "in_flight", 0,
	    WAIT_MS, NULL), "blue still busy %d ms after the drain", WAIT_MS);
	blue_n = res_origin_requests(&r.t, 0);
	res_load_wait(&l, LOAD_STOP_MS);
	n = itest_reqs_each(&l, res_drain_add, &d);
	printf("runtime drain under load: %d requests, %d failed; blue held "
	    "%lld when drained; %d sent before (%d by blue), %d after (%d by "
	    "blue), %d across\n", n, d.bad, held, d.before, d.before_blue,
	    d.after, d.after_blue, d.across);
	fflush(stdout);
	itest_load_assert_clean(&l, "runtime drain");
	ck_assert_msg(d.bad == 0, "a request failed: %s", d.first_bad);
	ck_assert_msg(d.before_blue > 0 && d.after > 0 && d.after_blue == 0,
	    "before: %d by blue; after: %d, %d by blue", d.before_blue,
	    d.after, d.after_blue);
	ck_assert_msg(res_origin_requests(&r.t, 0) == blue_n, "blue received "
	    "%d requests after its in-flight ones finished",
	    res_origin_requests(&r.t, 0) - blue_n);
	res_assert_server(&r, "blue", "admin", "drain");
	res_assert_server(&r, "blue", "state", "active");
	res_drain_reloads(&r);
	itest_finish(&r.t);
}
END_TEST

/* --- weight 0: a soft drain -------------------------------------------- */

/* Requests of the weight 0 run, placed around the POST. */
struct res_w0 {
	double		 sent;		/* POST ...?value=0 sent */
	double		 done;		/* and answered */
	int		 before_b;	/* sent before it, answered by b */
	int		 after, after_b;
	int		 bad;
	char		 first_bad[160];
};

/* Place one request of the weight 0 run. */
static void
res_w0_add(const struct itest_load *l, const struct itest_req *q, void *arg)
{
	struct res_w0	*w = arg;
	int		 b = strcmp(q->origin, "b") == 0;

	if (!itest_req_ok(q)) {
		if (w->bad++ == 0)
			itest_req_describe(q, w->first_bad,
			    sizeof(w->first_bad));
		return;
	}
	if (itest_load_latest(l, q->start) < w->sent)
		w->before_b += b;
	else if (itest_load_earliest(l, q->start) > w->done) {
		w->after++;
		w->after_b += b;
	}
}

/* Assert server name of app in /status (weight, configured_weight, state
 * active, admin enable) and in sluice_server_weight. */
static void
res_assert_weight(struct res *r, const char *name, int w, int cw)
{
	char		*json = itest_admin_status(r->admin), st[32], adm[32];
	char		 labels[96];
	long long	 got, conf, m;

	got = itest_status_int(json, name, "weight");
	conf = itest_status_int(json, name, "configured_weight");
	itest_status_str(json, name, "state", st, sizeof(st));
	itest_status_str(json, name, "admin", adm, sizeof(adm));
	snprintf(labels, sizeof(labels), "upstream=\"app\",server=\"%s\"",
	    name);
	m = res_metric_sample(r, "sluice_server_weight", labels);
	ck_assert_msg(got == w && conf == cw && m == w &&
	    strcmp(st, "active") == 0 && strcmp(adm, "enable") == 0, "server "
	    "%s: weight %lld, configured_weight %lld, sluice_server_weight "
	    "%lld, state %s, admin %s; want %d, %d, %d, active, enable: %s",
	    name, got, conf, m, st, adm, w, cw, w, json);
	free(json);
}

/*
 * On c, a slow GET that lands on b: from a fresh start, smooth round robin
 * with 3 and 1 picks a, a, then b. Asserts that it is in flight there.
 */
static void
res_w0_slow(struct res *r, struct itest_conn *c)
{
	long long	 a, b;
	char		 req[160];

	res_sequence(r, "w0-first", W0_A - 1, &a, &b);
	ck_assert_msg(a == W0_A - 1 && b == 0, "the first %d requests: a "
	    "%lld, b %lld", W0_A - 1, a, b);
	itest_connect(c, r->t.sluice.port, WAIT_MS);
	snprintf(req, sizeof(req), "GET /delay/%d HTTP/1.1\r\nHost: w0\r\n"
	    "Connection: close\r\n\r\n", W0_SLOW_MS);
	itest_send_str(c, req);
	ck_assert_msg(itest_wait_status_int(r->admin, "b", "in_flight", 1,
	    WAIT_MS, NULL), "the slow GET is not in flight on b");
}

/* The slow GET on c, still unanswered when weight 0 was set (asserted
 * before), completes: 200 from b. */
static void
res_w0_slow_done(struct itest_conn *c)
{
	struct itest_resp	 resp;
	const char		*o;

	itest_read_response(c, &resp, 0, W0_SLOW_MS + WAIT_MS);
	o = res_origin_of(&resp);
	printf("weight 0: the GET /delay/%d in flight on b when it was set "
	    "to 0: %d from %s\n", W0_SLOW_MS, resp.status, o);
	fflush(stdout);
	ck_assert_msg(resp.status == 200 && resp.complete &&
	    strcmp(o, "b") == 0, "the slow GET: %d from %s", resp.status, o);
	itest_resp_free(&resp);
	itest_close(c);
}

/* 1 when nothing has arrived on c yet. */
static int
res_unanswered(const struct itest_conn *c)
{
	struct pollfd	 pfd;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	return c->len == 0 && poll(&pfd, 1, 0) == 0;
}

/* Under load, weight 0 on b: what b held finishes, nothing new reaches
 * it; it stays active and enabled. */
static void
res_w0_load(struct res *r)
{
	struct itest_load	 l;
	struct itest_conn	 c;
	struct res_w0		 w;
	long long		 held;
	int			 b_n, n, pending;

	res_w0_slow(r, &c);
	itest_load_start(&r->t, &l, "w0", r->t.sluice.port, "-q -c 20 "
	    "-m mix -p /delay/200 -b 256 -d 3000 -t 5000");
	itest_pause(BG_BEFORE_MS);
	memset(&w, 0, sizeof(w));
	w.sent = itest_now();
	held = res_set_weight(r, "b", "0", 0);
	w.done = itest_now();
	pending = res_unanswered(&c);
	itest_wait_log(r->t.error_log, "server app/b: weight 0 by the admin "
	    "endpoint (no new requests", WAIT_MS);
	ck_assert_msg(pending, "the slow GET on b was answered before weight "
	    "0 was set (W0_SLOW_MS is too short here)");
	ck_assert_msg(itest_wait_status_int(r->admin, "b", "in_flight", 0,
	    W0_SLOW_MS + WAIT_MS, NULL), "b still busy %d ms after weight 0",
	    W0_SLOW_MS + WAIT_MS);
	b_n = res_origin_requests(&r->t, 1);
	res_w0_slow_done(&c);
	res_load_wait(&l, LOAD_STOP_MS);
	n = itest_reqs_each(&l, res_w0_add, &w);
	printf("weight 0 under load: %d requests, %d failed; b held %lld "
	    "when set to 0; %d sent before it answered by b, %d sent after "
	    "(%d by b)\n", n, w.bad, held, w.before_b, w.after, w.after_b);
	fflush(stdout);
	itest_load_assert_clean(&l, "weight 0");
	ck_assert_msg(w.bad == 0, "a request failed: %s", w.first_bad);
	ck_assert_msg(held > 0 && w.before_b > 0, "b held %lld requests when "
	    "set to 0 and answered %d before", held, w.before_b);
	ck_assert_msg(w.after > 0 && w.after_b == 0, "after weight 0: %d "
	    "requests, %d by b", w.after, w.after_b);
	ck_assert_msg(res_origin_requests(&r->t, 1) == b_n, "b received %d "
	    "requests after its in-flight ones finished",
	    res_origin_requests(&r->t, 1) - b_n);
}

/* At weight 0, b's health checks go on and sequential requests all go
 * to a. */
static void
res_w0_checks(struct res *r)
{
	long long	 a, b;
	int		 n0, n;

	n0 = itest_count_file(r->t.origin_log[1], "GET /health ");
	n = itest_wait_count(r->t.origin_log[1], "GET /health ",
	    n0 + W0_CHECKS, WAIT_MS);
	ck_assert_msg(n >= n0 + W0_CHECKS, "%d \"GET /health \" in %s after "
	    "%d ms, want more than %d", n, r->t.origin_log[1], WAIT_MS,
	    n0 + W0_CHECKS - 1);
	res_assert_server(r, "b", "health", "up");
	res_sequence(r, "w0-seq", BG_SEQ, &a, &b);
	printf("weight 0: b active, enabled, weight 0 of %d configured; "
	    "health checks of b went on (%d more); the next %d requests: a "
	    "%lld, b %lld\n", W0_B, n - n0, BG_SEQ, a, b);
	fflush(stdout);
	ck_assert_msg(a == BG_SEQ && b == 0, "at weight 0: a %lld, b %lld",
	    a, b);
}

/* value=reset: the configured weight, in the exact smooth split. */
static void
res_w0_reset(struct res *r)
{
	long long	 a, b;
	int		 want_b = W0_SPLIT * W0_B / (W0_A + W0_B);
	char		 line[128];

	res_set_weight(r, "b", "reset", W0_B);
	snprintf(line, sizeof(line), "server app/b: weight reset by the "
	    "admin endpoint (back to the configured %d)", W0_B);
	itest_wait_log(r->t.error_log, line, WAIT_MS);
	res_assert_weight(r, "b", W0_B, W0_B);
	res_sequence(r, "w0-reset", W0_SPLIT, &a, &b);
	printf("weight 0: after value=reset, the next %d requests: a %lld, b "
	    "%lld (want %d, %d)\n", W0_SPLIT, a, b, W0_SPLIT - want_b,
	    want_b);
	fflush(stdout);
	ck_assert_msg(a == W0_SPLIT - want_b && b == want_b, "after reset: a "
	    "%lld, b %lld, want %d and %d", a, b, W0_SPLIT - want_b, want_b);
}

/* Weight 0 keeps b's idle pooled connections (nothing in flight now). */
static void
res_w0_idle(struct res *r)
{
	long long	 idle, idle_set, idle_after, a, b;
	char		*body;

	idle = itest_admin_status_int(r->admin, "b", "idle");
	body = itest_admin_post(r->admin,
	    "/upstreams/app/servers/b/weight?value=0", r->token);
	idle_set = itest_json_int(body, "idle");
	free(body);
	res_sequence(r, "w0-idle", BG_SEQ, &a, &b);
	idle_after = itest_admin_status_int(r->admin, "b", "idle");
	printf("weight 0: b's idle connections: %lld before, %lld in the "
	    "answer, %lld after %d more requests (a %lld, b %lld)\n", idle,
	    idle_set, idle_after, BG_SEQ, a, b);
	fflush(stdout);
	ck_assert_msg(idle > 0 && idle_set == idle && idle_after == idle &&
	    b == 0, "b's idle connections: %lld, %lld, %lld; b got %lld",
	    idle, idle_set, idle_after, b);
}

/* Weight 0 on every server: 503 at once; reset: 200 again. */
static void
res_w0_all(struct res *r)
{
	struct itest_resp	 resp;
	double			 max, mean;
	long long		 a, b;

	res_set_weight(r, "a", "0", 0);
	res_assert_weight(r, "a", 0, W0_A);
	res_assert_weight(r, "b", 0, W0_B);
	res_assert_503s(r, DOWN_N, &max, &mean);
	res_set_weight(r, "a", "reset", W0_A);
	res_set_weight(r, "b", "reset", W0_B);
	itest_get(r->t.sluice.port, "/bytes/16", &resp);
	ck_assert_msg(resp.status == 200, "after reset: %d", resp.status);
	itest_resp_free(&resp);
	res_sequence(r, "w0-all", W0_A + W0_B, &a, &b);
	printf("weight 0 on every server: %d requests, each 503 (slowest %.1f "
	    "ms, mean %.1f ms); after reset: 200, then a %lld, b %lld of %d\n",
	    DOWN_N, max * 1e3, mean * 1e3, a, b, W0_A + W0_B);
	fflush(stdout);
	ck_assert_msg(max <= DOWN_FAST_S, "a 503 took %.3f s", max);
	ck_assert_msg(a + b == W0_A + W0_B && b > 0, "after reset: a %lld, "
	    "b %lld", a, b);
}

/* POST weight?value=0 under load is a soft drain, reset the configured
 * weight; 0 everywhere is 503 at once. */
START_TEST(test_weight_zero)
{
	struct res	 r;

	res_world(&r, NULL, "a", "b");
	res_conf_app(&r, RES_AB, W0_A, W0_B, "read_timeout = 30s\n"
	    "keepalive_timeout = 30s\nhealth_check = /health\n"
	    "health_interval = 100ms\n");
	res_launch(&r);
	res_assert_weight(&r, "a", W0_A, W0_A);
	res_assert_weight(&r, "b", W0_B, W0_B);
	res_w0_load(&r);
	res_assert_weight(&r, "a", W0_A, W0_A);
	res_assert_weight(&r, "b", 0, W0_B);
	res_w0_checks(&r);
	res_w0_reset(&r);
	res_w0_idle(&r);
	res_w0_all(&r);
	itest_finish(&r.t);
}
END_TEST

/* n GETs in a row, each must get status want; the requests b logged. */
static int
res_w0_gets(struct res *r, int n, int want)
{
	struct itest_resp	 resp;
	int			 i, before = res_origin_requests(&r->t, 1);

	for (i = 0; i < n; i++) {
		itest_get(r->t.sluice.port, "/bytes/16", &resp);
		ck_assert_msg(resp.status == want, "GET %d: %d, want %d", i,
		    resp.status, want);
		itest_resp_free(&resp);
	}
	return res_origin_requests(&r->t, 1) - before;
}

/* A retry never goes to a server at weight 0: a refuses connections, b
 * takes a's retries until it is set to 0, then a's own retries fail. */
START_TEST(test_weight_zero_retry)
{
	struct res	 r;
	int		 dead, to_b, to_b0, rb, rb0, ra0;

	res_init(&r, NULL);
	itest_origin_start(&r.t, 1, "b");
	r.names[0] = "a";
	r.names[1] = "b";
	dead = itest_free_port();	/* nothing listens there */
	res_config(&r, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "server = 127.0.0.1:%d name=b\nmax_fails = 0\n", r.t.sluice.port,
	    dead, r.t.origin[1].port);
	res_launch(&r);
	to_b = res_w0_gets(&r, W0_RETRY_N, 200);
	rb = itest_lines_with(r.t.error_log, ": retrying on app/b", NULL);
	res_set_weight(&r, "b", "0", 0);
	to_b0 = res_w0_gets(&r, W0_RETRY_N, 502);
	rb0 = itest_lines_with(r.t.error_log, ": retrying on app/b", NULL) - rb;
	ra0 = itest_lines_with(r.t.error_log, ": retrying on app/a", NULL);
	printf("weight 0 and retries: a refuses; %d GETs with b at weight 1: "
	    "all 200, %d reached b, %d retried on b; with b at 0: all 502, "
	    "%d reached b, %d retried on b, %d on a\n", W0_RETRY_N, to_b, rb,
	    to_b0, rb0, ra0);
	fflush(stdout);
	ck_assert_msg(to_b == W0_RETRY_N && rb > 0, "with b at 1: %d reached "
	    "b, %d retried on it", to_b, rb);
	ck_assert_msg(to_b0 == 0 && rb0 == 0 && ra0 > 0, "with b at 0: %d "
	    "reached b, %d retried on b, %d on a", to_b0, rb0, ra0);
	itest_finish(&r.t);
}
END_TEST

/* --- admin security ---------------------------------------------------- */

/* One admin request and the status it must get. */
struct res_case {
	const char	*method;
	const char	*path;
	int		 token;		/* 0 none, 1 right, 2 wrong */
	int		 want;
};

static const struct res_case res_cases[] = {
	{ "POST", "/upstreams/app/servers/a/drain", 0, 401 },
	{ "POST", "/upstreams/app/servers/a/drain", 2, 401 },
	{ "POST", "/upstreams/app/servers/a/weight?value=5", 0, 401 },
	{ "POST", "/upstreams/app/servers/a/enable", 2, 401 },
	{ "POST", "/reload", 0, 401 },
	{ "POST", "/reload", 2, 401 },
	{ "GET", "/status", 0, 200 },
	{ "GET", "/metrics", 0, 200 },
	{ "GET", "/healthz", 0, 200 },
	{ "POST", "/upstreams/nope/servers/a/drain", 1, 404 },
	{ "POST", "/upstreams/app/servers/nope/drain", 1, 404 },
	{ "POST", "/upstreams/app/servers/a/explode", 1, 404 },
	{ "GET", "/nope", 0, 404 },
	{ "GET", "/upstreams/app/servers/a/drain", 1, 405 },
	{ "GET", "/reload", 1, 405 },
	{ "POST", "/status", 1, 405 },
	{ "POST", "/upstreams/app/servers/a/drain", 1, 200 },
	{ "POST", "/upstreams/app/servers/a/enable", 1, 200 },
	{ "POST", "/reload", 1, 200 },
};

/* A weight query, the status it must get and a's weight in use after. */
struct res_weight_case {
	const char	*query;		/* after .../servers/a/weight */
	int		 want;
	int		 weight;
};

/* In order: a's configured weight is 1; a 400 changes nothing. */
static const struct res_weight_case res_weight_cases[] = {
	{ "?value=0", 200, 0 },		/* no new requests */
	{ "?value=-1", 400, 0 },
	{ "?value=abc", 400, 0 },
	{ "?value=", 400, 0 },
	{ "?value=1001", 400, 0 },
	{ "?value=+5", 400, 0 },
	{ "?value=%205", 400, 0 },
	{ "?value=5x", 400, 0 },
	{ "", 400, 0 },
	{ "?value=reset", 200, 1 },	/* the configured weight */
	{ "?value=1000", 200, 1000 },
	{ "?value=reset&x=y", 200, 1 },
	{ "?value=reset", 200, 1 },	/* no admin weight: still fine */
	{ "?value=1", 200, 1 },
};

/* POST one weight case on server a; assert the status, the error text
 * of a 400, and a's weights and states in /status after it. */
static void
res_weight_case_run(struct res *r, const struct res_weight_case *c)
{
	struct itest_resp	 resp;
	char			 path[128], err[256], st[32], adm[32], *json;
	long long		 w, cw;

	snprintf(path, sizeof(path), "/upstreams/app/servers/a/weight%s",
	    c->query);
	itest_admin_request(r->admin, "POST", path, r->token, &resp);
	itest_json_str((char *)resp.body, "error", err, sizeof(err));
	ck_assert_msg(resp.status == c->want && (c->want != 400 ||
	    (strstr(err, "0..1000") != NULL && strstr(err, "reset") !=
	    NULL)), "POST %s: %d %s, want %d", path, resp.status,
	    resp.body != NULL ? (char *)resp.body : "", c->want);
	itest_resp_free(&resp);
	json = itest_admin_status(r->admin);
	w = itest_status_int(json, "a", "weight");
	cw = itest_status_int(json, "a", "configured_weight");
	itest_status_str(json, "a", "state", st, sizeof(st));
	itest_status_str(json, "a", "admin", adm, sizeof(adm));
	ck_assert_msg(w == c->weight && cw == 1 && strcmp(st, "active") ==
	    0 && strcmp(adm, "enable") == 0, "after POST %s: weight %lld, "
	    "configured_weight %lld, state %s, admin %s; want %d, 1, active, "
	    "enable: %s", path, w, cw, st, adm, c->weight, json);
	free(json);
}

/* sluice -t on a config whose admin listens on 0.0.0.0; the exit
 * status, the output in out (malloc'd). */
static int
res_check_open_admin(struct res *r, const char *token, char **out)
{
	char	 path[256], tok[64] = "", *conf = NULL;
	char	*argv[] = { (char *)(uintptr_t)"./sluice",
		    (char *)(uintptr_t)"-t", (char *)(uintptr_t)"-c", path,
		    NULL };

	snprintf(path, sizeof(path), "%s", res_path(r, 0, "open.ini"));
	if (token != NULL)
		snprintf(tok, sizeof(tok), "token = %s\n", token);
	ck_assert(asprintf(&conf, "[admin]\nlisten = 0.0.0.0:%d\n%s\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d\n", r->admin, tok,
	    r->t.sluice.port, r->t.origin[0].port) != -1);
	itest_write_file(path, conf);
	free(conf);
	return itest_run(argv, out, WAIT_MS);
}

/*
 * POST /reload that moves the admin listener: the answer still arrives
 * (the old endpoint is retired after it, not under it), the new address
 * serves, the old one is closed, and traffic is untouched.
 */
START_TEST(test_admin_move)
{
	struct res		 r;
	struct itest_resp	 resp;
	struct itest_conn	 c;
	int			 old, code;

	res_world(&r, NULL, "a", NULL);
	res_conf_app(&r, RES_A, 1, 1, "");
	res_launch(&r);
	old = r.admin;
	r.admin = itest_free_port();
	res_conf_app(&r, RES_A, 1, 1, "");
	itest_post(old, "/reload", &resp);
	code = resp.status;
	ck_assert_msg(code == 200 && resp.body != NULL &&
	    strstr((char *)resp.body, "\"generation\":2") != NULL,
	    "POST /reload on the old address: %d %s", code,
	    resp.body != NULL ? (char *)resp.body : "");
	itest_resp_free(&resp);
	itest_get(r.admin, "/healthz", &resp);
	ck_assert_int_eq(resp.status, 200);
	itest_resp_free(&resp);
	/* the old address refuses once the new generation is in */
	ck_assert_msg(itest_connect_try(&c, old, 1000) == -1,
	    "the old admin address still accepts connections");
	itest_close(&c);
	itest_get(r.t.sluice.port, "/bytes/8", &resp);
	ck_assert_int_eq(resp.status, 200);
	itest_resp_free(&resp);
	printf("admin move: POST /reload on %d answered, %d serves, %d "
	    "closed\n", old, r.admin, old);
	itest_finish(&r.t);
}
END_TEST

/* The token guards every POST; GET needs none; 404 and 405; a weight's
 * value is checked; no open admin listener without a token. */
START_TEST(test_admin_security)
{
	struct res		 r;
	const struct res_case	*c;
	const char		*tokens[] = { NULL, TOKEN, "wrong" };
	size_t			 i, n;
	char			*out;
	int			 code, st;

	res_world(&r, TOKEN, "a", NULL);
	res_conf_app(&r, RES_A, 1, 0, "");
	res_launch(&r);
	n = sizeof(res_cases) / sizeof(res_cases[0]);
	for (i = 0; i < n; i++) {
		c = &res_cases[i];
		code = itest_admin_code(r.admin, c->method, c->path,
		    tokens[c->token]);
		ck_assert_msg(code == c->want, "%s %s with %s token: %d, want "
		    "%d", c->method, c->path, c->token == 0 ? "no" :
		    c->token == 1 ? "the" : "a wrong", code, c->want);
		if (c->want == 401)
			res_assert_server(&r, "a", "admin", "enable");
	}
	printf("admin security: %zu requests answered as expected (401 "
	    "without or with a wrong token, 200 with it, GET without, 404, "
	    "405)\n", n);
	n = sizeof(res_weight_cases) / sizeof(res_weight_cases[0]);
	for (i = 0; i < n; i++)
		res_weight_case_run(&r, &res_weight_cases[i]);
	printf("admin security: %zu weight values answered as expected (0, "
	    "1..1000 and reset 200; -1, abc, empty, 1001, +5, missing 400 "
	    "naming 0..1000 and reset)\n", n);
	st = res_check_open_admin(&r, NULL, &out);
	printf("admin security: sluice -t with admin on 0.0.0.0 and no "
	    "token: exit %d: %s", st, out);
	fflush(stdout);
	ck_assert_msg(st == 1 && strstr(out, "token") != NULL, "sluice -t "
	    "with an open admin listener: exit %d: %s", st, out);
	free(out);
	st = res_check_open_admin(&r, TOKEN, &out);
	ck_assert_msg(st == 0, "sluice -t with an open admin listener and a "
	    "token: exit %d: %s", st, out);
	free(out);
	itest_finish(&r.t);
}
END_TEST

/* --- admin hardening: Host, Origin, Sec-Fetch-Site, token rules -------- */

/*
 * method path on the admin port with the extra header lines hdrs ("" for
 * none, each ending in CRLF; a "Host:" among them replaces 127.0.0.1's)
 * and the token (NULL: none). The status, -1 when none arrived.
 */
static int
res_admin_with(struct res *r, const char *method, const char *path,
    const char *hdrs, const char *token)
{
	struct itest_resp	 resp;
	char			 req[2048], auth[256] = "";
	int			 code;

	if (token != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n",
		    token);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n%s%s%s%s"
	    "Connection: close\r\n\r\n", method, path,
	    strncasecmp(hdrs, "Host:", 5) == 0 || strstr(hdrs, "\nHost:") !=
	    NULL ? "" : "Host: 127.0.0.1\r\n", hdrs, auth,
	    strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
	itest_request(r->admin, req, &resp);
	code = resp.status;
	itest_resp_free(&resp);
	return code;
}

/* One request of the browser tests and what it must get. */
struct res_browser_case {
	const char	*what;
	const char	*method;
	const char	*path;
	const char	*hdrs;		/* %d: the admin port */
	int		 want;
};

/*
 * In order, on a loopback admin without token, server a enabled: refused
 * ones change nothing (checked after each), then the ones that act.
 */
static const struct res_browser_case res_browser_cases[] = {
	{ "evil Origin", "POST", "/upstreams/app/servers/a/drain",
	    "Origin: http://evil.example\r\n", 403 },
	{ "Origin of another local port", "POST",
	    "/upstreams/app/servers/a/drain",
	    "Origin: http://127.0.0.1:1\r\n", 403 },
	{ "https Origin on plain HTTP", "POST",
	    "/upstreams/app/servers/a/drain",
	    "Origin: https://127.0.0.1:%d\r\n", 403 },
	{ "Origin null", "POST", "/upstreams/app/servers/a/drain",
	    "Origin: null\r\n", 403 },
	{ "Sec-Fetch-Site cross-site", "POST",
	    "/upstreams/app/servers/a/drain", "Sec-Fetch-Site: cross-site\r\n",
	    403 },
	{ "Sec-Fetch-Site same-site", "POST",
	    "/upstreams/app/servers/a/weight?value=0",
	    "Sec-Fetch-Site: same-site\r\n", 403 },
	{ "own Origin, cross-site fetch", "POST",
	    "/upstreams/app/servers/a/drain",
	    "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: cross-site\r\n",
	    403 },
	{ "rebinding Host", "POST", "/upstreams/app/servers/a/drain",
	    "Host: evil.example:%d\r\n", 403 },
	{ "rebinding Host, own-looking Origin", "POST", "/reload",
	    "Host: evil.example\r\nOrigin: http://evil.example:%d\r\n", 403 },
	{ "evil Origin on reload", "POST", "/reload",
	    "Origin: http://evil.example\r\n", 403 },
	{ "rebinding read of /status", "GET", "/status",
	    "Host: evil.example:%d\r\n", 403 },
	{ "rebinding read of /metrics", "GET", "/metrics",
	    "Host: evil.example\r\n", 403 },
	{ "probe with any Host", "GET", "/healthz",
	    "Host: lb.example\r\n", 200 },
	{ "GET with evil Origin (reads are not refused for it)", "GET",
	    "/status", "Origin: http://evil.example\r\n", 200 },
};

/* The ones that act, in order: no Origin, own Origins, names. */
static const struct res_browser_case res_browser_ok[] = {
	{ "no Origin (curl)", "POST", "/upstreams/app/servers/a/drain", "",
	    200 },
	{ "own Origin", "POST", "/upstreams/app/servers/a/enable",
	    "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n",
	    200 },
	{ "localhost", "POST", "/upstreams/app/servers/a/drain",
	    "Host: localhost:%d\r\nOrigin: http://localhost:%d\r\n", 200 },
	{ "server_name", "POST", "/upstreams/app/servers/a/enable",
	    "Host: Admin.Test\r\nOrigin: http://admin.test:%d\r\n"
	    "Sec-Fetch-Site: none\r\n", 200 },
};

/* Run case c (its %d are the admin port); assert its status. */
static void
res_browser_run(struct res *r, const struct res_browser_case *c)
{
	char	hdrs[512];
	int	code;

	snprintf(hdrs, sizeof(hdrs), c->hdrs, r->admin, r->admin);
	code = res_admin_with(r, c->method, c->path, hdrs, NULL);
	ck_assert_msg(code == c->want, "%s: %s %s: %d, want %d", c->what,
	    c->method, c->path, code, c->want);
}

/*
 * A loopback admin without a token: a browser page cannot act through it
 * (cross-site Origin, Sec-Fetch-Site) nor reach it by DNS rebinding (a
 * Host that is not the admin's), and what it tried did not happen; curl
 * and same-origin pages still work. Refusals are logged, bounded.
 */
START_TEST(test_admin_browser)
{
	struct res	 r;
	size_t		 i, n;
	int		 lines, sent;
	double		 t0;

	res_init(&r, NULL);
	itest_origin_start(&r.t, 0, "a");
	r.names[0] = "a";
	r.admin_extra = "server_name = admin.test\n";
	res_conf_app(&r, RES_A, 1, 0, "");
	res_launch(&r);
	n = sizeof(res_browser_cases) / sizeof(res_browser_cases[0]);
	for (i = 0; i < n; i++) {
		res_browser_run(&r, &res_browser_cases[i]);
		res_assert_server(&r, "a", "admin", "enable");
		ck_assert_int_eq(itest_admin_status_int(r.admin, "a",
		    "weight"), 1);
	}
	ck_assert_int_eq(itest_admin_status_int(r.admin, NULL, "generation"),
	    1);
	printf("admin browser: %zu cross-site or rebinding requests answered "
	    "as expected (403, the probe 200); a stayed enabled at weight 1, "
	    "generation 1\n", n);
	itest_wait_log(r.t.error_log, "warn: admin: 403 to "
	    "/upstreams/app/servers/a/drain from 127.0.0.1: cross-origin "
	    "request (Origin: \"http://evil.example\")", WAIT_MS);
	n = sizeof(res_browser_ok) / sizeof(res_browser_ok[0]);
	for (i = 0; i < n; i++) {
		res_browser_run(&r, &res_browser_ok[i]);
		res_assert_server(&r, "a", "admin", i % 2 == 0 ? "drain" :
		    "enable");
	}
	printf("admin browser: %zu requests without Origin or from the "
	    "admin's own origin acted (drain, enable)\n", n);
	/* refusals for 1.5 s write about one line a second, counting the
	 * rest */
	t0 = itest_now();
	lines = itest_lines_with(r.t.error_log, "admin: 403", NULL);
	for (sent = 0; itest_now() - t0 < 1.5; sent++) {
		ck_assert_int_eq(res_admin_with(&r, "POST", "/reload",
		    "Origin: http://evil.example\r\n", NULL), 403);
		itest_pause(5);
	}
	itest_wait_log(r.t.error_log, "(and more not logged)", WAIT_MS);
	lines = itest_lines_with(r.t.error_log, "admin: 403", NULL) - lines;
	printf("admin browser: %d refused requests in %.2f s logged %d "
	    "line(s)\n", sent, itest_now() - t0, lines);
	ck_assert_msg(lines >= 1 && lines <= (int)(itest_now() - t0) + 2,
	    "%d refusals logged %d lines", sent, lines);
	itest_finish(&r.t);
}
END_TEST

/*
 * An admin bound to 0.0.0.0 is off loopback (by its listen address) even
 * for a client on 127.0.0.1: every request but the probes needs the
 * token; public_read = on lets GET /status and /metrics through and
 * nothing else.
 */
START_TEST(test_admin_off_loopback)
{
	static const struct {
		const char	*method, *path;
		int		 with_token, closed, open;	/* want */
	} cases[] = {
		{ "GET", "/status", 0, 401, 200 },
		{ "HEAD", "/status", 0, 401, 200 },
		{ "GET", "/metrics", 0, 401, 200 },
		{ "GET", "/healthz", 0, 200, 200 },
		{ "GET", "/readyz", 0, 200, 200 },
		{ "GET", "/nope", 0, 401, 401 },
		{ "GET", "/upstreams/app/servers/a/drain", 0, 401, 401 },
		{ "POST", "/upstreams/app/servers/a/drain", 0, 401, 401 },
		{ "GET", "/status", 1, 200, 200 },
		{ "GET", "/metrics", 1, 200, 200 },
	};
	struct res	 r;
	size_t		 i, n = sizeof(cases) / sizeof(cases[0]);
	int		 code, pass;
	const char	*extra[2] = { "", "public_read = on\n" };

	res_world(&r, TOKEN, "a", NULL);
	r.admin_host = "0.0.0.0";
	for (pass = 0; pass < 2; pass++) {
		r.admin_extra = extra[pass];
		res_conf_app(&r, RES_A, 1, 0, "");
		if (pass == 0)
			res_launch(&r);
		else
			res_reload(&r);
		for (i = 0; i < n; i++) {
			code = res_admin_with(&r, cases[i].method,
			    cases[i].path, "", cases[i].with_token ? TOKEN :
			    NULL);
			ck_assert_msg(code == (pass ? cases[i].open :
			    cases[i].closed), "%s%s %s %s token: %d",
			    pass ? "public_read = on: " : "", cases[i].method,
			    cases[i].path, cases[i].with_token ? "with the" :
			    "without", code);
		}
		res_assert_server_tok(&r, "a", "admin", "enable");
		printf("admin off loopback (0.0.0.0, reached on 127.0.0.1), "
		    "public_read %s: %zu requests answered as expected "
		    "(probes open, %s without token)\n", pass ? "on" : "off",
		    n, pass ? "GET /status and /metrics" : "nothing else");
	}
	ck_assert_int_eq(res_admin_with(&r, "POST",
	    "/upstreams/app/servers/a/drain", "", TOKEN), 200);
	res_assert_server_tok(&r, "a", "admin", "drain");
	itest_finish(&r.t);
}
END_TEST

/* --- the status page (GET /) ------------------------------------------- */

/* Requests whose answer on / must be the one on /status. */
static const struct {
	const char	*method;
	const char	*hdrs;
	int		 token;
} res_page_gate[] = {
	{ "GET", "", 0 },
	{ "GET", "", 1 },
	{ "HEAD", "", 0 },
	{ "HEAD", "", 1 },
	{ "GET", "Host: evil.example\r\n", 0 },
	{ "GET", "Host: evil.example\r\n", 1 },
	{ "GET", "Origin: http://evil.example\r\n", 0 },
	{ "POST", "", 0 },
	{ "POST", "", 1 },
	{ "POST", "Origin: http://evil.example\r\n", 1 },
};

/* 'sha256-BASE64' of len bytes at p, as a CSP source. */
static void
res_csp_hash(const char *p, size_t len, char *out, size_t outlen)
{
	unsigned char	md[32], b64[64];

	SHA256((const unsigned char *)p, len, md);
	EVP_EncodeBlock(b64, md, sizeof(md));
	snprintf(out, outlen, "'sha256-%s'", b64);
}

/* The inline element tag's text in body must be allowed by the csp. */
static void
res_page_inline(const char *body, const char *csp, const char *tag)
{
	char		 open[16], close[16], want[80];
	const char	*a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	ck_assert_msg((a = strstr(body, open)) != NULL &&
	    (b = strstr(a, close)) != NULL, "no inline %s", tag);
	a += strlen(open);
	res_csp_hash(a, (size_t)(b - a), want, sizeof(want));
	ck_assert_msg(strstr(csp, want) != NULL, "the CSP does not allow "
	    "the inline %s (%s): %s", tag, want, csp);
	ck_assert_msg(strstr(b + 1, open) == NULL, "a second %s", tag);
}

/* The page's own content: nothing from elsewhere. */
static void
res_page_body(const char *body, const char *csp)
{
	static const char *const never[] = { "http://", "https://", "<link",
	    "@import", "url(", "<iframe", "<img", "innerHTML",
	    "outerHTML", "insertAdjacentHTML", "document.write", "eval(" };
	static const char *const attrs[] = { "src=", "href=", "action=" };
	const char	*p, *colon, *end;
	size_t		 i;

	ck_assert_msg(strncmp(body, "<!DOCTYPE html>", 15) == 0 &&
	    strstr(body, "fetch('/status'") != NULL, "not the page: %.200s",
	    body);
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		ck_assert_msg(strstr(body, never[i]) == NULL, "the page "
		    "has \"%s\"", never[i]);
	/* any src or href would have to stay on the admin's own origin */
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		for (p = body; (p = strstr(p, attrs[i])) != NULL; p++) {
			p += strlen(attrs[i]);
			p += *p == '"' || *p == '\'';
			colon = strchr(p, ':');
			end = strpbrk(p, "\"' >");
			ck_assert_msg(strncmp(p, "//", 2) != 0 &&
			    (colon == NULL || (end != NULL && colon > end)),
			    "%s with another origin: %.40s", attrs[i], p);
		}
	res_page_inline(body, csp, "script");
	res_page_inline(body, csp, "style");
}

/* GET / with the token: 200, its type, its headers, its content. */
static void
res_page_get(struct res *r)
{
	struct itest_resp	 resp;
	const char		*csp, *v;
	static const char *const parts[] = { "default-src 'none'",
	    "connect-src 'self'", "frame-ancestors 'none'",
	    "script-src 'sha256-", "style-src 'sha256-" };
	size_t			 i;

	itest_admin_request(r->admin, "GET", "/", TOKEN, &resp);
	ck_assert_msg(resp.status == 200, "GET /: %d", resp.status);
	v = itest_resp_header(&resp, "Content-Type");
	ck_assert_msg(v != NULL && strncmp(v, "text/html", 9) == 0,
	    "Content-Type: %s", v != NULL ? v : "(none)");
	csp = itest_resp_header(&resp, "Content-Security-Policy");
	ck_assert_msg(csp != NULL, "no Content-Security-Policy");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		ck_assert_msg(strstr(csp, parts[i]) != NULL, "CSP without "
		    "%s: %s", parts[i], csp);
	ck_assert_msg(strstr(csp, "unsafe") == NULL && strstr(csp, "*") ==
	    NULL && strstr(csp, "http") == NULL, "CSP: %s", csp);
	v = itest_resp_header(&resp, "X-Content-Type-Options");
	ck_assert_msg(v != NULL && strcmp(v, "nosniff") == 0, "nosniff");
	v = itest_resp_header(&resp, "Cache-Control");
	ck_assert_msg(v != NULL && strcmp(v, "no-store") == 0, "no-store");
	v = itest_resp_header(&resp, "Referrer-Policy");
	ck_assert_msg(v != NULL && strcmp(v, "no-referrer") == 0,
	    "Referrer-Policy");
	res_page_body((const char *)resp.body, csp);
	printf("status page: 200 text/html, %zu bytes, CSP %s\n",
	    resp.bodylen, csp);
	fflush(stdout);
	itest_resp_free(&resp);
}

/* Every request of res_page_gate gets on / what it gets on /status. */
static void
res_page_gates(struct res *r, const char *what)
{
	size_t	 i, n = sizeof(res_page_gate) / sizeof(res_page_gate[0]);
	int	 page, status;

	for (i = 0; i < n; i++) {
		page = res_admin_with(r, res_page_gate[i].method, "/",
		    res_page_gate[i].hdrs, res_page_gate[i].token ? TOKEN :
		    NULL);
		status = res_admin_with(r, res_page_gate[i].method, "/status",
		    res_page_gate[i].hdrs, res_page_gate[i].token ? TOKEN :
		    NULL);
		ck_assert_msg(page == status && page > 0, "%s: %s / %s%s "
		    "token: %d, /status %d", what, res_page_gate[i].method,
		    res_page_gate[i].hdrs, res_page_gate[i].token ? "with" :
		    "without", page, status);
		printf("status page, %s: %s %s token%s: / %d, /status %d\n",
		    what, res_page_gate[i].method, res_page_gate[i].token ?
		    "with" : "without", res_page_gate[i].hdrs[0] != '\0' ?
		    " (evil Host or Origin)" : "", page, status);
	}
	fflush(stdout);
}

/*
 * GET / serves the status page: HTML whose style and script are inline
 * and allowed by hash alone, no reference to another origin, the
 * confining headers; and it is refused exactly when /status is: off
 * loopback without and with public_read, a rebinding Host, POST.
 */
START_TEST(test_admin_page)
{
	struct res	r;

	res_world(&r, TOKEN, "a", NULL);
	r.admin_host = "0.0.0.0";
	res_conf_app(&r, RES_A, 1, 0, "");
	res_launch(&r);
	res_page_get(&r);
	res_page_gates(&r, "off loopback");
	r.admin_extra = "public_read = on\n";
	res_conf_app(&r, RES_A, 1, 0, "");
	res_reload(&r);
	ck_assert_int_eq(res_admin_with(&r, "GET", "/", "", NULL), 200);
	res_page_gates(&r, "public_read");
	itest_finish(&r.t);
}
END_TEST

/* The "drain" object of server name in json (NULL: the document's top
 * level one, after the servers' own), copied into buf; "null" or {...}. */
static const char *
res_drain_of(const char *json, const char *name, char *buf, size_t len)
{
	const char	*p;

	p = name != NULL ? itest_status_server(json, name) : json;
	ck_assert_msg(p != NULL && (p = strstr(p, "\"drain\":")) != NULL,
	    "no drain for %s: %s", name != NULL ? name : "sluice", json);
	p += 8;
	snprintf(buf, len, "%.*s", *p == '{' ? (int)strcspn(p, "}") + 1 :
	    (int)strcspn(p, ",}"), p);
	return buf;
}

/*
 * The drains in /status that the page shows: an admin drain (since, no
 * deadline), a server a reload removed with a request in flight (its
 * drain_timeout deadline and the ms left), and the process after SIGTERM
 * (since, the shutdown_timeout hard stop).
 */
START_TEST(test_status_drains)
{
	struct res	 r;
	struct itest_conn c;
	char		*json, d[256];
	long long	 left, since, deadline, now = (long long)time(NULL);

	res_world(&r, NULL, "a", "b");
	r.global = "shutdown_timeout = 20s\n";
	res_conf_app(&r, RES_B, 1, 1, "drain_timeout = 30s\n");
	res_launch(&r);
	itest_connect(&c, r.t.sluice.port, WAIT_MS);
	itest_send_str(&c, "GET /delay/8000 HTTP/1.1\r\nHost: d\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert(itest_wait_status_int(r.admin, "b", "in_flight", 1,
	    WAIT_MS, NULL));
	json = itest_admin_status(r.admin);
	ck_assert_str_eq(res_drain_of(json, "b", d, sizeof(d)), "null");
	ck_assert_str_eq(res_drain_of(strstr(json, "\"last_reload\""), NULL,
	    d, sizeof(d)), "null");
	free(json);
	free(itest_admin_post(r.admin, "/upstreams/app/servers/b/drain",
	    NULL));
	json = itest_admin_status(r.admin);
	res_drain_of(json, "b", d, sizeof(d));
	since = itest_json_int(d, "since");
	printf("status drains: admin drain of b: %s\n", d);
	ck_assert_msg(since >= now - 2 && since <= now + 2 &&
	    strstr(d, "\"deadline\":null") != NULL, "admin drain: %s", d);
	free(json);
	free(itest_admin_post(r.admin, "/upstreams/app/servers/b/enable",
	    NULL));
	res_conf_app(&r, RES_A, 1, 1, "drain_timeout = 30s\n");
	res_reload(&r);
	now = (long long)time(NULL);
	json = itest_admin_status(r.admin);
	res_drain_of(json, "b", d, sizeof(d));
	printf("status drains: b removed by a reload: %s\n", d);
	left = itest_json_int(d, "left_ms");
	deadline = itest_json_int(d, "deadline");
	ck_assert_msg(left > 28000 && left <= 30000 && deadline >= now + 28 &&
	    deadline <= now + 31 && itest_json_int(d, "since") ==
	    deadline - 30, "removed: %s", d);
	free(json);
	ck_assert(kill(r.t.sluice.pid, SIGTERM) == 0);
	json = NULL;
	for (left = 0; left < WAIT_MS / 50; left++) {
		free(json);
		json = itest_admin_status(r.admin);
		if (strcmp(itest_status_str(json, NULL, "state", d,
		    sizeof(d)), "running") != 0)
			break;
		itest_pause(50);
	}
	ck_assert_msg(strcmp(d, "running") != 0, "still running after "
	    "SIGTERM: %s", json);
	res_drain_of(strstr(json, "\"last_reload\""), NULL, d, sizeof(d));
	printf("status drains: the process after SIGTERM: %s\n", d);
	ck_assert_msg(strcmp(d, "null") != 0, "no drain after SIGTERM: %s",
	    json);
	fflush(stdout);
	left = itest_json_int(d, "left_ms");
	ck_assert_msg(left > 15000 && left <= 20000 &&
	    itest_json_int(d, "deadline") - itest_json_int(d, "since") >= 19 &&
	    itest_json_int(d, "deadline") - itest_json_int(d, "since") <= 21 &&
	    itest_status_int(json, NULL, "in_flight") == 1, "SIGTERM: %s",
	    json);
	free(json);
	itest_close(&c);
	itest_finish(&r.t);
}
END_TEST

/*
 * A token under 16 characters is a configuration error: sluice -t names
 * its line and length (not the token), and a reload to it fails and
 * keeps the running configuration and its token.
 */
START_TEST(test_admin_short_token)
{
	struct res	 r;
	struct itest_resp resp;
	char		 path[256], want[320], *out;
	char		*argv[] = { (char *)(uintptr_t)"./sluice",
			    (char *)(uintptr_t)"-t", (char *)(uintptr_t)"-c",
			    path, NULL };
	int		 st;

	res_world(&r, "0123456789abcde", "a", NULL);	/* 15 characters */
	res_conf_app(&r, RES_A, 1, 0, "");
	snprintf(path, sizeof(path), "%s", r.t.conf);
	snprintf(want, sizeof(want), "%s:%d: token: too short (15 "
	    "characters): use at least 16\n", path,
	    itest_line_of(path, "token = "));
	st = itest_run(argv, &out, WAIT_MS);
	printf("admin short token: sluice -t: exit %d: %s", st, out);
	fflush(stdout);
	ck_assert_msg(st == 1 && strstr(out, want) != NULL &&
	    strstr(out, "0123456789abcde") == NULL, "sluice -t with a 15 "
	    "character token: exit %d: %s", st, out);
	free(out);
	r.token = TOKEN;
	res_conf_app(&r, RES_A, 1, 0, "");
	res_launch(&r);
	r.token = "0123456789abcde";
	res_conf_app(&r, RES_A, 1, 0, "");
	itest_admin_request(r.admin, "POST", "/reload", TOKEN, &resp);
	printf("admin short token: POST /reload: %d %s", resp.status,
	    resp.body != NULL ? (char *)resp.body : "");
	ck_assert_msg(resp.status == 422 && resp.body != NULL &&
	    strstr((char *)resp.body, "token: too short (15 characters)") !=
	    NULL, "reload to a short token: %d", resp.status);
	itest_resp_free(&resp);
	ck_assert_int_eq(itest_admin_status_int(r.admin, NULL, "generation"),
	    1);
	ck_assert_int_eq(res_admin_with(&r, "POST", "/upstreams/app/servers/"
	    "a/drain", "", "0123456789abcde"), 401);
	ck_assert_int_eq(res_admin_with(&r, "POST", "/upstreams/app/servers/"
	    "a/drain", "", TOKEN), 200);
	printf("admin short token: generation 1 kept; the old token acts, "
	    "the short one gets 401\n");
	itest_finish(&r.t);
}
END_TEST

/* --- metrics ----------------------------------------------------------- */

/*
 * A port whose listener never accepts and whose queue is full, so that a
 * connect to it hangs (the SYN is dropped) until the connector gives up.
 * The sockets stay open until the test process ends.
 */
static int
res_black_hole(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct pollfd		 pfd;
	int			 fd, c, i;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(fd != -1 && bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && listen(fd, 0) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	for (i = 0; i < 16; i++) {
		c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		ck_assert(c != -1);
		if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			continue;
		ck_assert_int_eq(errno, EINPROGRESS);
		pfd.fd = c;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 200) == 0)
			return ntohs(sin.sin_port);	/* it hangs */
	}
	ck_abort_msg("the listen queue of the black hole never filled");
	return -1;
}

/*
 * Config of the metrics test: listener load -> app {a}; listener web ->
 * edge {hole, a}, the black hole first so that round robin sends it
 * every other request; no passive health, so that it stays in.
 */
static void
res_conf_metrics(struct res *r, int web, int hole)
{
	res_config(r, "[listener load]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = edge\n\n[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "read_timeout = 500ms\nmax_fails = 0\n\n[upstream edge]\n"
	    "server = 127.0.0.1:%d name=hole\nserver = 127.0.0.1:%d name=a\n"
	    "connect_timeout = 300ms\nmax_fails = 0\n", r->t.sluice.port, web,
	    r->t.origin[0].port, hole, r->t.origin[0].port);
}

/* The metrics of the load client's run agree with its counts. */
static void
res_assert_load_metrics(struct res *r, const struct itest_load *l)
{
	struct res_prom	 p;
	char		*page = res_metrics(r, &p), *json;
	long long	 ok = itest_load_value(l, "ok"), all, c2;

	all = res_metric_ll(page, "sluice_requests_total",
	    "listener=\"load\"");
	c2 = res_metric_ll(page, "sluice_requests_total",
	    "listener=\"load\",upstream=\"app\",server=\"a\",code=\"2xx\"");
	printf("metrics: %d families, %d samples; load client %lld ok, "
	    "sluice_requests_total{listener=\"load\"} %lld (2xx from app/a "
	    "%lld)\n", p.nfam, p.nsamples, ok, all, c2);
	fflush(stdout);
	ck_assert_msg(all == ok && c2 == ok, "requests_total %lld (2xx %lld), "
	    "the load client %lld", all, c2, ok);
	ck_assert_int_eq(res_assert_histogram(page,
	    "sluice_request_duration_seconds", "listener=\"load\""), ok);
	ck_assert_int_eq(res_metric_ll(page, "sluice_in_flight", ""), 0);
	json = itest_admin_status(r->admin);
	ck_assert_int_eq(res_metric_ll(page,
	    "sluice_upstream_connections_opened_total",
	    "upstream=\"app\",server=\"a\""),
	    itest_status_int(json, "a", "connects"));
	ck_assert_int_eq(res_metric_ll(page,
	    "sluice_upstream_connections_reused_total",
	    "upstream=\"app\",server=\"a\""),
	    itest_status_int(json, "a", "reuses"));
	free(json);
	free(page);
}

/* Provoke connect timeouts (retried) and one read timeout; assert the
 * counters. */
static void
res_assert_timeout_metrics(struct res *r, int web)
{
	struct itest_resp	 resp;
	struct res_prom		 p;
	char			*page;
	long long		 conn, rd, wr, retries;
	int			 i, want = MET_EDGE_N / 2;

	for (i = 0; i < MET_EDGE_N; i++) {
		itest_get(web, "/bytes/16", &resp);
		ck_assert_msg(resp.status == 200, "GET %d on web: %d", i,
		    resp.status);
		itest_resp_free(&resp);
	}
	itest_get(r->t.sluice.port, "/delay/2000", &resp);
	ck_assert_int_eq(resp.status, 504);
	itest_resp_free(&resp);
	page = res_metrics(r, &p);
	conn = res_metric_ll(page, "sluice_upstream_timeouts_total",
	    "kind=\"connect\"");
	rd = res_metric_ll(page, "sluice_upstream_timeouts_total",
	    "kind=\"read\"");
	wr = res_metric_ll(page, "sluice_upstream_timeouts_total",
	    "kind=\"write\"");
	retries = res_metric_ll(page, "sluice_retries_total", "");
	printf("metrics: %d GETs, %d of them to the black hole: timeouts "
	    "connect %lld, read %lld (one provoked), write %lld; retries "
	    "%lld\n", MET_EDGE_N, want, conn, rd, wr, retries);
	fflush(stdout);
	ck_assert_msg(conn == want && rd == 1 && wr == 0 && retries == want,
	    "timeouts connect %lld, read %lld, write %lld, retries %lld; want "
	    "%d, 1, 0, %d", conn, rd, wr, retries, want, want);
	ck_assert_int_eq(retries, itest_lines_with(r->t.error_log,
	    "retrying on edge/a", NULL));
	ck_assert_int_eq(res_metric_ll(page, "sluice_requests_total",
	    "listener=\"web\",code=\"2xx\""), MET_EDGE_N);
	ck_assert_int_eq(res_metric_ll(page, "sluice_requests_total",
	    "listener=\"load\",code=\"5xx\""), 1);
	free(page);
}

/* A reload that works and one that fails: the reload counters and the
 * generation. */
static void
res_assert_reload_metrics(struct res *r)
{
	struct res_prom	 p;
	char		*page;
	int		 code;

	res_reload(r);
	itest_write_file(r->t.conf, "[nonsense\n");
	code = itest_admin_code(r->admin, "POST", "/reload", r->token);
	ck_assert_int_eq(code, 422);
	page = res_metrics(r, &p);
	printf("metrics: after a good and a bad reload: reloads ok %lld, "
	    "failed %lld, generation %lld\n", res_metric_ll(page,
	    "sluice_reloads_total", "result=\"ok\""), res_metric_ll(page,
	    "sluice_reloads_total", "result=\"failed\""),
	    res_metric_ll(page, "sluice_generation", ""));
	fflush(stdout);
	ck_assert_int_eq(res_metric_ll(page, "sluice_reloads_total",
	    "result=\"ok\""), 1);
	ck_assert_int_eq(res_metric_ll(page, "sluice_reloads_total",
	    "result=\"failed\""), 1);
	ck_assert_int_eq(res_metric_ll(page, "sluice_generation", ""), 2);
	ck_assert_int_eq(res_metric_ll(page,
	    "sluice_health_transitions_total", ""), 0);
	free(page);
}

/* /metrics parses, and its counters agree with what the test did. */
START_TEST(test_metrics)
{
	struct res		 r;
	struct itest_load	 l;
	struct res_prom		 p;
	char			*page;
	int			 web, hole;

	res_world(&r, NULL, "a", NULL);
	web = itest_free_port();
	hole = res_black_hole();
	res_conf_metrics(&r, web, hole);
	res_launch(&r);
	page = res_metrics(&r, &p);
	ck_assert_int_eq(res_metric_ll(page, "sluice_generation", ""), 1);
	ck_assert_int_eq(res_metric_ll(page, "sluice_requests_total", ""), 0);
	free(page);
	itest_load_start(&r.t, &l, "metrics", r.t.sluice.port, "-q -c 10 "
	    "-n %d -d 0 -p /bytes/16 -t 5000", MET_LOAD_N);
	res_load_wait(&l, LOAD_STOP_MS);
	itest_load_assert_clean(&l, "metrics");
	ck_assert_int_eq(itest_load_value(&l, "ok"), MET_LOAD_N);
	res_assert_load_metrics(&r, &l);
	res_assert_timeout_metrics(&r, web);
	res_assert_reload_metrics(&r);
	itest_finish(&r.t);
}
END_TEST

/* A test case with a generous timeout (ASan, a loaded CI machine). */
static TCase *
res_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 90);
	return tc;
}

/* The suite: health, retries, control, metrics. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("resilience");
	TCase	*tc;

	tc = res_tcase("health");
	tcase_add_test(tc, test_flapping_origin);
	tcase_add_test(tc, test_all_down_passive);
	tcase_add_test(tc, test_all_down_active);
	tcase_add_test(tc, test_invalid_no_outage);
	tcase_add_test(tc, test_fail_on_invalid);
	tcase_add_test(tc, test_max_ejected);
	tcase_add_test(tc, test_health_checks);
	tcase_add_test(tc, test_health_ends_passive);
	suite_add_tcase(s, tc);

	tc = res_tcase("retries");
	tcase_add_test(tc, test_keepalive_race);
	tcase_add_test(tc, test_keepalive_mixed);
	tcase_add_test(tc, test_retry_rules);
	suite_add_tcase(s, tc);

	tc = res_tcase("control");
	tcase_add_test(tc, test_canary);
	tcase_add_test(tc, test_runtime_drain);
	tcase_add_test(tc, test_weight_zero);
	tcase_add_test(tc, test_weight_zero_retry);
	tcase_add_test(tc, test_admin_security);
	tcase_add_test(tc, test_admin_move);
	tcase_add_test(tc, test_admin_browser);
	tcase_add_test(tc, test_admin_off_loopback);
	tcase_add_test(tc, test_admin_page);
	tcase_add_test(tc, test_status_drains);
	tcase_add_test(tc, test_admin_short_token);
	suite_add_tcase(s, tc);

	tc = res_tcase("metrics");
	tcase_add_test(tc, test_metrics);
	suite_add_tcase(s, tc);
	return s;
}
