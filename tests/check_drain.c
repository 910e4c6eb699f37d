/*
 * check_drain: reloads, backend removals and shutdowns fail no request.
 * Integration tests: each runs the real sluice in front of test origins,
 * mostly under load from tests/loadgen, and checks what sluice promises
 * and a user would check: storms of reloads (and RSS across thousands of
 * them), a backend removed by a reload while requests are in flight on
 * it, a blue->green switch by one edited line, SIGTERM with a notice, the
 * hard stop (shutdown_timeout passed, a second SIGTERM, SIGQUIT), reloads
 * of invalid files under load, and idle keep-alive connections racing a
 * shutdown. Every test prints its figures on stdout.
 *
 * A load client's request times count from its own start, which lies
 * between the moment it was spawned and the moment it said "started"; a
 * request is placed before or after an event only when both bounds agree.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_drain. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define IO_MS		ITEST_IO_TIMEOUT_MS
#define HOST		"Host: test.local\r\n"
#define WAIT_MS		5000	/* bound of a reload or a state change */
#define LOAD_STOP_MS	15000	/* bound of a load client's stop */
#define EXIT_MS		15000	/* bound of a sluice exit we wait for */
#define POLL_MS		10	/* step of a polled wait */
#define MARGIN		0.5	/* s an event may come after its moment */
#define EXIT_MARGIN	1.0	/* s an exit may come after its moment */
#define EARLY		0.02	/* s it may come before (clock steps) */

#define STORM_RELOADS	100
#define STORM_WARMUP	30	/* reloads before the first RSS figure */
#define STORM_GROWTH_KB	512	/* RSS margin across the storm */
#define RSS_WARMUP	500	/* under ASan the quarantine fills first */
#define RSS_RELOADS	2000
#define RSS_GROWTH_KB	1024
#define NSLOW		30	/* backend removal: requests in flight */
#define SLOW_MS		2000	/* and their length */
#define BG_BEFORE_MS	1000	/* blue->green: load before the switch */
#define NOTICE_S	1.0	/* SIGTERM notice: drain_notice */
#define NOTICE_DELAY_MS	200	/* and its requests' length */
#define NHARD		4	/* hard stop: exchanges awaiting a head */
#define HARD_S		1.0	/* and its shutdown_timeout */
#define RACE_RELOADS	20	/* idle race: reloads before SIGTERM */
#define RACE_PACE_MS	50	/* time between two of its reloads */
#define IDLE_S		2.0	/* drain_idle_timeout */

/* One test's world: the itest processes and the admin port. */
struct drain {
	struct itest	 t;
	int		 admin;		/* admin listener port */
	int		 side;		/* second listener of config B */
	long long	 gen;		/* the generation sluice serves */
};


/* Requests of a shutdown run, placed around the signal. */
struct drain_shut {
	double		 signal;	/* itest_now() at the signal */
	double		 closed;	/* when the listeners closed */
	int		 before, before_ok;	/* sent before the signal */
	int		 notice, notice_ok;	/* sent during the notice */
	int		 across, across_ok;	/* in flight at closed */
	int		 late_ok;	/* answered, sent after closed */
	int		 refused;	/* refused, not surely before closed */
	int		 bad;		/* every other failure */
	double		 first_refused;	/* s after the signal, or -1 */
	double		 first_refused_hi;	/* its latest bound */
	char		 first_bad[160];
};

/* Requests of a blue->green run, placed around the switch. */
struct drain_switch {
	double		 sent;		/* POST /reload sent */
	double		 done;		/* and answered */
	int		 before, before_blue;
	int		 after, after_green;
	int		 across, across_blue;
	int		 bad;
	char		 first_bad[160];
};

/* How test_hard_stop asks for the hard stop. */
enum drain_stop_how {
	DRAIN_STOP_DEADLINE = 0,	/* SIGTERM; shutdown_timeout passes */
	DRAIN_STOP_TWICE,		/* SIGTERM, then a second one */
	DRAIN_STOP_QUIT,		/* SIGQUIT */
};

/* One variant of test_hard_stop. */
struct drain_stop {
	const char		*what;
	const char		*global;
	enum drain_stop_how	 how;
};

static const struct drain_stop drain_stops[] = {
	{ "shutdown_timeout 1s", "shutdown_timeout = 1s\n",
	    DRAIN_STOP_DEADLINE },
	{ "second SIGTERM", "shutdown_timeout = 30s\n", DRAIN_STOP_TWICE },
	{ "SIGQUIT", "shutdown_timeout = 30s\n", DRAIN_STOP_QUIT },
};

static void	drain_config(struct drain *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* --- the world and its configurations ---------------------------------- */

/* Make the world: origin a, origin b when b is not NULL, the ports. */
static void
drain_init(struct drain *d, const char *a, const char *b)
{
	memset(d, 0, sizeof(*d));
	itest_init(&d->t);
	itest_origin_start(&d->t, 0, a);
	if (b != NULL)
		itest_origin_start(&d->t, 1, b);
	d->admin = itest_free_port();
	d->side = itest_free_port();
	itest_sluice_port(&d->t);
}

/* Write the config: global lines, [admin], then the formatted rest. */
static void
drain_config(struct drain *d, const char *global, const char *fmt, ...)
{
	char	*rest = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	va_end(ap);
	itest_sluice_config(&d->t, global,
	    "[admin]\nlisten = 127.0.0.1:%d\n\n%s", d->admin, rest);
	free(rest);
}

/* Config: listener web -> app with origin 0 as "a" and, when weight_b is
 * not 0, origin 1 as "b" of that weight. */
static void
drain_conf_app(struct drain *d, const char *global, int weight_b)
{
	char	 b[96] = "";

	if (weight_b > 0)
		snprintf(b, sizeof(b), "server = 127.0.0.1:%d name=b "
		    "weight=%d\n", d->t.origin[1].port, weight_b);
	drain_config(d, global, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n%sread_timeout = 30s\n",
	    d->t.sluice.port, d->t.origin[0].port, b);
}

/*
 * The two configs of the reload storms. A: web -> app {a, b}. B: app's
 * weights change, web gets a route to a second upstream, and a second
 * listener opens; so each reload opens or closes a listener, adds or drops
 * an upstream and a route, and changes weights.
 */
static void
drain_conf_storm(struct drain *d, int b)
{
	if (b == 0) {
		drain_conf_app(d, NULL, 1);
		return;
	}
	drain_config(d, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /alt/ alt\n\n"
	    "[listener side]\nlisten = 127.0.0.1:%d\nupstream = alt\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a weight=3\n"
	    "server = 127.0.0.1:%d name=b\nread_timeout = 30s\n\n"
	    "[upstream alt]\nserver = 127.0.0.1:%d name=b2\n",
	    d->t.sluice.port, d->side, d->t.origin[0].port,
	    d->t.origin[1].port, d->t.origin[1].port);
}

/* Config of test_blue_green: web -> upstream to; blue and green both
 * defined. */
static void
drain_conf_bg(struct drain *d, const char *to)
{
	drain_config(d, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = %s\n\n"
	    "[upstream blue]\nserver = 127.0.0.1:%d name=blue\n\n"
	    "[upstream green]\nserver = 127.0.0.1:%d name=green\n",
	    d->t.sluice.port, to, d->t.origin[0].port, d->t.origin[1].port);
}

/* Start sluice on the config written; it serves generation 1. */
static void
drain_launch(struct drain *d)
{
	itest_sluice_launch(&d->t);
	d->gen = 1;
}

/* --- admin, signals, logs ---------------------------------------------- */

/* POST /reload: assert 200 and the next generation. */
static void
drain_reload(struct drain *d)
{
	d->gen = itest_admin_reload(d->admin, NULL, d->gen);
}

/* SIGHUP: wait for the next generation's line in the error log. */
static void
drain_hup(struct drain *d)
{
	char	 needle[64];

	snprintf(needle, sizeof(needle), "reload: generation %lld in ",
	    d->gen + 1);
	itest_sluice_hup(&d->t, needle, WAIT_MS);
	d->gen++;
}

/* 1 when server name is listed in /status with that state. */
static int
drain_server_is(const char *json, const char *name, const char *state)
{
	char	 buf[32];

	return strcmp(itest_status_str(json, name, "state", buf,
	    sizeof(buf)), state) == 0;
}

/* A number under "reloads" in /status. */
static long long
drain_reloads(const char *json, const char *key)
{
	return itest_json_int(strstr(json, "\"reloads\":"), key);
}

/* Wait until the admin /readyz answers code; the time it did, or -1. */
static double
drain_wait_readyz(struct drain *d, int code, int timeout_ms)
{
	double			 deadline = itest_now() + timeout_ms / 1e3;
	struct itest_resp	 r;
	int			 st;

	for (;;) {
		itest_get(d->admin, "/readyz", &r);
		st = r.status;
		itest_resp_free(&r);
		if (st == code)
			return itest_now();
		if (itest_now() >= deadline)
			return -1;
		poll(NULL, 0, POLL_MS);
	}
}

/* Wait until the origin logs hold n request lines together. */
static void
drain_wait_origin_lines(struct drain *d, int n)
{
	double	 deadline = itest_now() + WAIT_MS / 1e3;
	int	 got;

	for (;;) {
		got = itest_count_lines(d->t.origin_log[0]) +
		    itest_count_lines(d->t.origin_log[1]);
		if (got >= n)
			return;
		ck_assert_msg(itest_now() < deadline, "origins received %d "
		    "requests within %d ms, want %d", got, WAIT_MS, n);
		poll(NULL, 0, POLL_MS);
	}
}

/* The first error-log line holding needle (without its time stamp) in
 * buf; 1, or 0 when there is none. */
static int
drain_log_line(const struct itest *t, const char *needle, char *buf,
    size_t len)
{
	char	*log = itest_read_file(t->error_log, NULL), *p, *nl;
	int	 found = 0;

	buf[0] = '\0';
	if ((p = strstr(log, needle)) != NULL) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		snprintf(buf, len, "%s", p);
		found = 1;
	}
	free(log);
	return found;
}

/* Assert that the access log has a line for every exchange, all "ok". */
static void
drain_assert_log_ok(const struct itest *t, const char *what)
{
	char	 first[512];
	int	 n = itest_lines_not_ok(t->access_log, NULL, first,
	    sizeof(first));

	ck_assert_msg(n == 0, "%s: %d access-log line(s) not ok, the first:"
	    "\n%s", what, n, first);
}

/* --- the load client's results ----------------------------------------- */


/* Place one request of a shutdown run. */
static void
drain_shut_add(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct drain_shut	*sh = arg;
	double			 lo = itest_load_earliest(l, q->start);
	double			 hi = itest_load_latest(l, q->start);
	int			 ok = itest_req_ok(q);

	if (hi < sh->signal) {
		sh->before++;
		sh->before_ok += ok;
	} else if (lo > sh->signal && hi < sh->closed) {
		sh->notice++;
		sh->notice_ok += ok;
	}
	if (hi < sh->closed && itest_load_earliest(l, q->end) > sh->closed) {
		sh->across++;
		sh->across_ok += ok;
	}
	if (ok && lo > sh->closed)
		sh->late_ok++;
	if (ok)
		return;
	/* Listeners accept until closed: a refusal before is a loss. */
	if (strcmp(q->outcome, "refused") == 0 && hi >= sh->closed) {
		if (sh->refused++ == 0 || lo - sh->signal < sh->first_refused) {
			sh->first_refused = lo - sh->signal;
			sh->first_refused_hi = hi - sh->signal;
		}
		return;
	}
	if (sh->bad++ == 0)
		itest_req_describe(q, sh->first_bad, sizeof(sh->first_bad));
}

/* Place one request of a blue->green run. */
static void
drain_switch_add(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct drain_switch	*sw = arg;
	int			 blue = strcmp(q->origin, "blue") == 0;
	int			 green = strcmp(q->origin, "green") == 0;

	if (!itest_req_ok(q)) {
		if (sw->bad++ == 0)
			itest_req_describe(q, sw->first_bad,
			    sizeof(sw->first_bad));
		return;
	}
	if (itest_load_latest(l, q->start) < sw->sent) {
		sw->before++;
		sw->before_blue += blue;
	} else if (itest_load_earliest(l, q->start) > sw->done) {
		sw->after++;
		sw->after_green += green;
	} else {
		sw->across++;
		sw->across_blue += blue;
	}
}

/*
 * Assert that no request failed once written (refusals of the connect
 * are counted by the caller) and every response was a 2xx.
 */
static void
drain_assert_no_loss(const struct itest_load *l, const char *what)
{
	static const char	*keys[] = { "eof_after_write",
				    "reset_after_write", "truncated",
				    "timeout", "bad_response" };
	char			*summary = itest_read_file(l->summary, NULL);
	size_t			 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(itest_load_value(l, keys[i]) == 0, "%s: %s = "
		    "%lld; summary:\n%s\nnotes:\n%s", what, keys[i],
		    itest_load_value(l, keys[i]), summary,
		    itest_file_tail(l->notes));
	ck_assert_msg(itest_load_value(l, "s2xx") ==
	    itest_load_value(l, "ok"), "%s: answers that are not 2xx; "
	    "summary:\n%s", what, summary);
	free(summary);
}

/* Place every request of a shutdown run. */
static void
drain_shut_collect(const struct itest_load *l, struct drain_shut *sh)
{
	sh->first_refused = sh->first_refused_hi = -1;
	itest_reqs_each(l, drain_shut_add, sh);
}

/* Assert that a shutdown run lost nothing. */
static void
drain_assert_shut(const struct itest_load *l, const struct drain_shut *sh,
    const char *what)
{
	drain_assert_no_loss(l, what);
	ck_assert_msg(sh->bad == 0, "%s: %d request(s) failed that were not "
	    "refused connects once the listeners closed; the first: %s", what,
	    sh->bad, sh->first_bad);
	ck_assert_msg(sh->before > 0 && sh->before_ok == sh->before,
	    "%s: %d of %d requests sent before the signal answered 2xx",
	    what, sh->before_ok, sh->before);
	ck_assert_msg(sh->across_ok == sh->across, "%s: %d of %d requests "
	    "in flight when the listeners closed answered 2xx", what,
	    sh->across_ok, sh->across);
	ck_assert_msg(sh->refused == itest_load_value(l, "refused"),
	    "%s: the summary counts %lld refused, the requests %d", what,
	    itest_load_value(l, "refused"), sh->refused);
}

/* --- raw client connections -------------------------------------------- */

/* Open n connections to sluice, each sending GET path. */
static void
drain_send_each(struct drain *d, struct itest_conn *c, int n,
    const char *path)
{
	char	 req[256];
	int	 i;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n" HOST "\r\n", path);
	for (i = 0; i < n; i++) {
		itest_connect(&c[i], d->t.sluice.port, IO_MS);
		itest_send_str(&c[i], req);
	}
}

/* GET path on c and read the response into r. */
static int
drain_get_on(struct itest_conn *c, const char *path, struct itest_resp *r)
{
	char	 req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n" HOST "\r\n", path);
	itest_send_str(c, req);
	return itest_read_response(c, r, 0, IO_MS);
}

/* Assert a complete 200 from origin (any origin when NULL); 1 if the
 * origin was who. */
static int
drain_assert_200(const struct itest_resp *r, const char *who,
    const char *what)
{
	const char	*o = itest_resp_header(r, "X-Origin");

	ck_assert_msg(r->status == 200 && r->complete, "%s: status %d "
	    "(complete %d, eof %d, reset %d, timeout %d)", what, r->status,
	    r->complete, r->eof, r->reset, r->timeout);
	ck_assert_msg(o != NULL, "%s: no X-Origin", what);
	return who != NULL && strcmp(o, who) == 0;
}

/* 1 when r carries "Connection: close". */
static int
drain_resp_closes(const struct itest_resp *r)
{
	const char	*v = itest_resp_header(r, "Connection");

	return v != NULL && strcasecmp(v, "close") == 0;
}

/* Read from c until it closes; the bytes read, the moment in *when. */
static size_t
drain_read_to_close(struct itest_conn *c, double *when, int timeout_ms)
{
	double		 deadline = itest_now() + timeout_ms / 1e3;
	unsigned char	 buf[4096];
	size_t		 total = 0;
	ssize_t		 n;

	for (;;) {
		n = itest_read_some(c, buf, sizeof(buf),
		    (int)((deadline - itest_now()) * 1000) + 1);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	ck_assert_msg(n == 0 || itest_now() < deadline, "the connection "
	    "stayed open %d ms", timeout_ms);
	*when = itest_now();
	return total;
}

/* --- reload storm, and RSS across reloads ------------------------------ */

/* n reloads alternating the storm configs, by SIGHUP or POST /reload. */
static void
drain_storm(struct drain *d, int n, int hup)
{
	int	 i;

	for (i = 0; i < n; i++) {
		drain_conf_storm(d, (d->gen + 1) % 2 == 0);
		if (hup)
			drain_hup(d);
		else
			drain_reload(d);
	}
}

/* Start the storm's world: origins a and b, sluice on config A. */
static void
drain_storm_start(struct drain *d)
{
	drain_init(d, "a", "b");
	/* Under ASan freed memory sits in quarantine and counts as RSS; each
	 * thread (workers = N) also keeps a local batch of it. */
	d->t.asan_extra = "quarantine_size_mb=1:"
	    "thread_local_quarantine_size_kb=64";
	drain_conf_storm(d, 0);
	drain_launch(d);
}

/*
 * Under ASan with worker threads each thread's allocator keeps caches of
 * its own (memory one thread frees for another sits in the freeing
 * thread's lists). They fill over the first ~2,000 reloads, then RSS is
 * flat (measured: +8 KiB per 500 reloads after that): there the warm-up is
 * four times longer and the margins triple. Leaks still fail the run:
 * ASan's leak check at exit makes sluice exit non-zero.
 */
static int
drain_asan_threads(void)
{
#if defined(__SANITIZE_ADDRESS__)
	const char	*w = getenv("SLUICE_TEST_WORKERS");

	return w != NULL && atoi(w) > 1;
#else
	return 0;
#endif
}

/* The RSS margin for kb. */
static long
drain_rss_margin(long kb)
{
	return drain_asan_threads() ? 3 * kb : kb;
}

/* The reloads before the first RSS figure, for n. */
static int
drain_rss_warmup(int n)
{
	return drain_asan_threads() ? 4 * n : n;
}

/* Assert that /status counts every reload as ok. */
static void
drain_assert_reloads(struct drain *d)
{
	char	*json = itest_admin_status(d->admin);

	ck_assert_msg(itest_json_int(json, "generation") == d->gen &&
	    drain_reloads(json, "ok") == d->gen - 1 &&
	    drain_reloads(json, "failed") == 0, "/status after %lld "
	    "reloads: %s", d->gen - 1, json);
	free(json);
}

/* 50 connections under load, 100 SIGHUPs: 0 failed, RSS flat. */
START_TEST(test_reload_storm)
{
	struct drain		 d;
	struct itest_load	 l;
	long			 rss0, rss1;
	double			 t0, took;

	drain_storm_start(&d);
	itest_load_start(&d.t, &l, "storm", d.t.sluice.port, "-c 50 -r 5000 "
	    "-m mix -p /bytes/512 -b 512 -d 600000 -t 5000");
	drain_storm(&d, drain_rss_warmup(STORM_WARMUP), 1);
	rss0 = itest_rss_kb(d.t.sluice.pid);
	t0 = itest_now();
	drain_storm(&d, STORM_RELOADS, 1);
	took = itest_now() - t0;
	rss1 = itest_rss_kb(d.t.sluice.pid);
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	printf("reload storm: %d SIGHUPs (after %d to warm up) in %.2f s "
	    "under 50 connections, %lld requests, %lld failed, RSS %ld -> "
	    "%ld KiB (%+ld)\n", STORM_RELOADS, drain_rss_warmup(STORM_WARMUP),
	    took, itest_load_value(&l, "sent"), itest_load_value(&l, "failed"),
	    rss0, rss1, rss1 - rss0);
	fflush(stdout);
	itest_load_assert_clean(&l, "reload storm");
	drain_assert_reloads(&d);
	drain_assert_log_ok(&d.t, "reload storm");
	ck_assert_msg(rss0 > 0 && rss1 - rss0 <
	    drain_rss_margin(STORM_GROWTH_KB), "RSS grew "
	    "by %ld KiB across %d reloads", rss1 - rss0, STORM_RELOADS);
	itest_finish(&d.t);
}
END_TEST

/* 2000 reloads by POST /reload under light load: RSS grows < 1 MiB. */
START_TEST(test_reload_rss)
{
	struct drain		 d;
	struct itest_load	 l;
	long			 rss0, rss1, rss2;
	double			 t0, took;

	drain_storm_start(&d);
	itest_load_start(&d.t, &l, "rss", d.t.sluice.port, "-c 4 -r 200 "
	    "-m mix -p /bytes/512 -b 512 -d 600000 -t 5000");
	drain_storm(&d, drain_rss_warmup(RSS_WARMUP), 0);
	rss0 = itest_rss_kb(d.t.sluice.pid);
	t0 = itest_now();
	drain_storm(&d, RSS_RELOADS / 2, 0);
	rss1 = itest_rss_kb(d.t.sluice.pid);
	drain_storm(&d, RSS_RELOADS / 2, 0);
	took = itest_now() - t0;
	rss2 = itest_rss_kb(d.t.sluice.pid);
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	printf("RSS across %d reloads (POST /reload alternating two configs, "
	    "%.2f s): %ld -> %ld -> %ld KiB (%+ld, then %+ld), %lld "
	    "requests, %lld failed\n", RSS_RELOADS, took, rss0, rss1, rss2,
	    rss1 - rss0, rss2 - rss1, itest_load_value(&l, "sent"),
	    itest_load_value(&l, "failed"));
	fflush(stdout);
	itest_load_assert_clean(&l, "reload RSS");
	drain_assert_reloads(&d);
	ck_assert_msg(rss0 > 0 && rss2 - rss0 <
	    drain_rss_margin(RSS_GROWTH_KB), "RSS grew by "
	    "%ld KiB across %d reloads", rss2 - rss0, RSS_RELOADS);
	/* steady state: the second half must not keep growing */
	ck_assert_msg(rss2 - rss1 < drain_rss_margin(RSS_GROWTH_KB / 4),
	    "RSS grew by %ld KiB "
	    "across the last %d reloads", rss2 - rss1, RSS_RELOADS / 2);
	itest_finish(&d.t);
}
END_TEST

/* --- backend removal --------------------------------------------------- */

/*
 * Poll /status until server b is gone: b must stay listed, draining, with
 * no more than was in flight, until then. The moment it went.
 */
static double
drain_wait_b_gone(struct drain *d, long long on_b, int timeout_ms)
{
	double		 deadline = itest_now() + timeout_ms / 1e3;
	char		*json;
	long long	 n;

	for (;;) {
		json = itest_admin_status(d->admin);
		if (itest_status_server(json, "b") == NULL) {
			free(json);
			return itest_now();
		}
		n = itest_status_int(json, "b", "in_flight");
		ck_assert_msg(drain_server_is(json, "b", "draining") &&
		    n >= 0 && n <= on_b, "server b while draining: %s", json);
		free(json);
		ck_assert_msg(itest_now() < deadline, "server b still in "
		    "/status %d ms after its exchanges should have ended",
		    timeout_ms);
		poll(NULL, 0, POLL_MS);
	}
}

/* Right after the reload: b draining with its exchanges, a active. */
static void
drain_assert_b_draining(struct drain *d, long long on_b)
{
	char	*json = itest_admin_status(d->admin);

	ck_assert_msg(itest_json_int(json, "generation") == 2 &&
	    drain_server_is(json, "b", "draining") &&
	    itest_status_int(json, "b", "in_flight") == on_b &&
	    drain_server_is(json, "a", "active"), "/status right after the "
	    "reload removing b (%lld in flight on it): %s", on_b, json);
	free(json);
}

/* Read the slow responses: all 200; how many came from b. */
static int
drain_read_slow(struct itest_conn *c, int n)
{
	struct itest_resp	 r;
	int			 i, from_b = 0;

	for (i = 0; i < n; i++) {
		itest_read_response(&c[i], &r, 0, IO_MS);
		from_b += drain_assert_200(&r, "b", "slow request");
		itest_resp_free(&r);
	}
	return from_b;
}

/* The next request on each of the connections: all answered by a. */
static void
drain_next_all_a(struct itest_conn *c, int n)
{
	struct itest_resp	 r;
	int			 i;

	for (i = 0; i < n; i++) {
		drain_get_on(&c[i], "/bytes/16", &r);
		drain_assert_200(&r, NULL, "next request on a connection");
		ck_assert_msg(strcmp(itest_resp_header(&r, "X-Origin"), "a")
		    == 0, "the next request on connection %d went to %s "
		    "after b was removed", i, itest_resp_header(&r,
		    "X-Origin"));
		itest_resp_free(&r);
		itest_close(&c[i]);
	}
}

/* 30 slow requests on a and b; a reload removes b; b drains, goes. */
START_TEST(test_backend_removal)
{
	struct drain		 d;
	struct itest_conn	 c[NSLOW];
	struct itest_load	 l;
	long long		 on_b, new_a;
	double			 t0, gone;
	int			 from_b, late_b;

	drain_init(&d, "a", "b");
	drain_conf_app(&d, NULL, 1);
	drain_launch(&d);
	t0 = itest_now();
	drain_send_each(&d, c, NSLOW, "/delay/2000");
	drain_wait_origin_lines(&d, NSLOW);
	on_b = itest_count_lines(d.t.origin_log[1]);
	ck_assert_msg(on_b > 0 && on_b < NSLOW, "%lld of %d on b", on_b,
	    NSLOW);
	drain_conf_app(&d, NULL, 0);
	drain_reload(&d);
	drain_assert_b_draining(&d, on_b);
	itest_load_start(&d.t, &l, "after", d.t.sluice.port,
	    "-c 10 -d 500 -m mix -p /bytes/64 -t 5000");
	ck_assert_int_eq(itest_proc_wait(&l.proc, LOAD_STOP_MS), 0);
	itest_load_assert_clean(&l, "requests after the removal");
	new_a = itest_load_value(&l, "origin.a");
	ck_assert_msg(new_a == itest_load_value(&l, "ok") &&
	    itest_load_value(&l, "origin.b") == -1, "requests after the "
	    "removal: %lld ok, %lld by a, %lld by b", itest_load_value(&l,
	    "ok"), new_a, itest_load_value(&l, "origin.b"));
	gone = drain_wait_b_gone(&d, on_b, SLOW_MS + WAIT_MS) - t0;
	from_b = drain_read_slow(c, NSLOW);
	drain_next_all_a(c, NSLOW);
	late_b = itest_count_lines(d.t.origin_log[1]) - on_b;
	printf("backend removal: %d requests of %d ms in flight (%lld on b), "
	    "reload removing b: %d of %d answered 200 (%d by b); b got %d of "
	    "%lld later requests (%d of them on the slow requests' "
	    "connections); gone from /status %.3f s after the requests were "
	    "sent\n", NSLOW, SLOW_MS, on_b, NSLOW, NSLOW, from_b, late_b,
	    new_a + NSLOW, NSLOW, gone);
	fflush(stdout);
	ck_assert_int_eq(from_b, on_b);
	ck_assert_msg(late_b == 0, "b received %d requests after the "
	    "reload that removed it", late_b);
	ck_assert_msg(gone >= SLOW_MS / 1e3 - EARLY, "b left /status %.3f s "
	    "after its %d ms exchanges began", gone, SLOW_MS);
	ck_assert_msg(gone <= SLOW_MS / 1e3 + MARGIN + 0.5, "b left /status "
	    "only %.3f s after its %d ms exchanges began", gone, SLOW_MS);
	drain_assert_log_ok(&d.t, "backend removal");
	itest_finish(&d.t);
}
END_TEST

/* --- blue -> green ----------------------------------------------------- */

/* Load on blue, one edited line and POST /reload: new requests on green. */
START_TEST(test_blue_green)
{
	struct drain		 d;
	struct itest_load	 l;
	struct drain_switch	 sw;
	int			 blue_n, n;

	drain_init(&d, "blue", "green");
	drain_conf_bg(&d, "blue");
	drain_launch(&d);
	itest_load_start(&d.t, &l, "bg", d.t.sluice.port, "-c 40 -r 1000 "
	    "-m mix -p /delay/20 -b 256 -d 2500 -t 5000");
	itest_pause(BG_BEFORE_MS);
	memset(&sw, 0, sizeof(sw));
	drain_conf_bg(&d, "green");
	sw.sent = itest_now();
	drain_reload(&d);
	sw.done = itest_now();
	ck_assert_msg(itest_wait_status_int(d.admin, "blue", "in_flight", 0,
	    WAIT_MS, NULL), "blue still busy %d ms after the switch", WAIT_MS);
	blue_n = itest_count_lines(d.t.origin_log[0]);
	ck_assert_int_eq(itest_proc_wait(&l.proc, LOAD_STOP_MS), 0);
	n = itest_reqs_each(&l, drain_switch_add, &sw);
	printf("blue->green: %d requests, %d failed; "
	    "%d sent before the switch (%d by blue), %d after (%d by green), "
	    "%d across it (%d finished on blue)\n", n, sw.bad, sw.before,
	    sw.before_blue, sw.after, sw.after_green, sw.across,
	    sw.across_blue);
	fflush(stdout);
	itest_load_assert_clean(&l, "blue->green");
	ck_assert_msg(sw.bad == 0, "a request failed: %s", sw.first_bad);
	ck_assert_msg(sw.before > 0 && sw.before_blue == sw.before,
	    "%d of %d requests before the switch went to blue",
	    sw.before_blue, sw.before);
	ck_assert_msg(sw.after > 0 && sw.after_green == sw.after,
	    "%d of %d requests after the switch went to green",
	    sw.after_green, sw.after);
	ck_assert_msg(itest_count_lines(d.t.origin_log[0]) == blue_n,
	    "blue received %d requests after the switch",
	    itest_count_lines(d.t.origin_log[0]) - blue_n);
	drain_assert_log_ok(&d.t, "blue->green");
	itest_finish(&d.t);
}
END_TEST

/* --- SIGTERM with a notice --------------------------------------------- */

/* During the notice: a new connection and a kept one are served, each
 * answer with Connection: close. */
static void
drain_assert_notice_serves(struct drain *d, struct itest_conn *kept)
{
	struct itest_resp	 r;
	struct itest_conn	 c;

	itest_connect(&c, d->t.sluice.port, IO_MS);
	drain_get_on(&c, "/bytes/16", &r);
	drain_assert_200(&r, NULL, "new connection during the notice");
	ck_assert_msg(drain_resp_closes(&r), "no Connection: close during "
	    "the notice:\n%s", r.head);
	itest_resp_free(&r);
	itest_close(&c);
	drain_get_on(kept, "/bytes/16", &r);
	drain_assert_200(&r, NULL, "kept connection during the notice");
	ck_assert_msg(drain_resp_closes(&r), "no Connection: close on a "
	    "kept connection during the notice:\n%s", r.head);
	itest_resp_free(&r);
	ck_assert_msg(itest_wait_closed(kept, IO_MS) == 1, "the kept "
	    "connection stayed open after Connection: close");
}

/* A keep-alive connection with one request served on it. */
static void
drain_keepalive_open(struct drain *d, struct itest_conn *c)
{
	struct itest_resp	 r;

	itest_connect(c, d->t.sluice.port, IO_MS);
	drain_get_on(c, "/bytes/16", &r);
	drain_assert_200(&r, NULL, "keep-alive connection");
	ck_assert_msg(!drain_resp_closes(&r), "Connection: close before "
	    "any signal");
	itest_resp_free(&r);
}

/* SIGTERM under load, drain_notice 1s: nothing sent before it fails. */
START_TEST(test_sigterm_notice)
{
	struct drain		 d;
	struct itest_load	 l;
	struct itest_conn	 kept;
	struct drain_shut	 sh;
	char			 line[256], *json;
	double			 ready503, exited;
	int			 st;

	drain_init(&d, "a", NULL);
	drain_conf_app(&d, "shutdown_timeout = 10s\ndrain_notice = 1s\n", 0);
	drain_launch(&d);
	itest_load_start(&d.t, &l, "term", d.t.sluice.port, "-c 50 -r 1000 "
	    "-m mix -p /delay/200 -d 600000 -t 5000");
	drain_keepalive_open(&d, &kept);
	itest_pause(1000);		/* the load runs a while */
	memset(&sh, 0, sizeof(sh));
	sh.signal = itest_now();
	sh.closed = sh.signal + NOTICE_S;
	kill(d.t.sluice.pid, SIGTERM);
	ready503 = drain_wait_readyz(&d, 503, WAIT_MS);
	ck_assert_msg(ready503 > 0, "/readyz not 503 after SIGTERM");
	json = itest_admin_status(d.admin);
	ck_assert_msg(strstr(json, "\"state\":\"notice\"") != NULL,
	    "/status during the notice: %s", json);
	free(json);
	drain_assert_notice_serves(&d, &kept);
	ck_assert_msg(drain_wait_readyz(&d, 503, 0) > 0 &&
	    itest_now() < sh.closed, "the notice checks took past its end "
	    "(%.3f s after the signal)", itest_now() - sh.signal);
	itest_close(&kept);
	st = itest_proc_wait(&d.t.sluice, EXIT_MS);
	exited = itest_now() - sh.signal;
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	drain_shut_collect(&l, &sh);
	drain_log_line(&d.t, "shutdown ", line, sizeof(line));
	printf("SIGTERM (drain_notice 1s) under 50 connections: %d requests "
	    "sent before it, %d during the notice, %d in flight when the "
	    "listeners closed: %d failed; %d refused after the listeners "
	    "closed (the first %.3f-%.3f s after the signal); /readyz 503 "
	    "%.3f s after it; exit %d after %.3f s; sluice: %s\n", sh.before,
	    sh.notice, sh.across, sh.bad, sh.refused, sh.first_refused,
	    sh.first_refused_hi, ready503 - sh.signal, st, exited, line);
	fflush(stdout);
	drain_assert_shut(&l, &sh, "SIGTERM");
	ck_assert_msg(st == 0, "sluice exit status %d:\n%s", st,
	    itest_file_tail(d.t.error_log));
	ck_assert_msg(sh.notice > 0 && sh.notice_ok == sh.notice, "%d of %d "
	    "requests sent during the notice answered", sh.notice_ok,
	    sh.notice);
	ck_assert_msg(exited >= NOTICE_S - EARLY && exited <= NOTICE_S +
	    NOTICE_DELAY_MS / 1e3 + EXIT_MARGIN, "exit %.3f s after SIGTERM "
	    "(notice %.1f s, requests of %d ms)", exited, NOTICE_S,
	    NOTICE_DELAY_MS);
	ck_assert_msg(strstr(line, "shutdown complete") != NULL &&
	    strstr(line, " 0 ended early") != NULL,
	    "final log line: %s", line);
	drain_assert_log_ok(&d.t, "SIGTERM");
	itest_finish(&d.t);
}
END_TEST

/* --- hard stop --------------------------------------------------------- */

/* Ask for the hard stop as ds says; the moment it must happen. */
static double
drain_stop_signal(struct drain *d, const struct drain_stop *ds)
{
	double	 now = itest_now();

	switch (ds->how) {
	case DRAIN_STOP_DEADLINE:
		kill(d->t.sluice.pid, SIGTERM);
		return now + HARD_S;
	case DRAIN_STOP_TWICE:
		ck_assert_msg(itest_signal_wait(&d->t.sluice, SIGTERM,
		    d->t.error_log, "shutdown: draining", WAIT_MS),
		    "no drain after SIGTERM");
		now = itest_now();
		kill(d->t.sluice.pid, SIGTERM);
		return now;
	case DRAIN_STOP_QUIT:
		kill(d->t.sluice.pid, SIGQUIT);
		return now;
	}
	return now;
}

/* Read the waiting exchanges' answers: 503 each, the last one's time. */
static double
drain_read_503s(struct itest_conn *c, int n, double hard)
{
	struct itest_resp	 r;
	double			 when = 0;
	int			 i;

	for (i = 0; i < n; i++) {
		itest_read_response(&c[i], &r, 0, IO_MS);
		when = itest_now();
		ck_assert_msg(r.status == 503, "waiting exchange %d: status "
		    "%d (eof %d reset %d timeout %d)", i, r.status, r.eof,
		    r.reset, r.timeout);
		ck_assert_msg(i > 0 || when >= hard - EARLY, "a 503 came "
		    "%.3f s before the hard stop", hard - when);
		itest_resp_free(&r);
		itest_close(&c[i]);
	}
	return when;
}

/* Start a streaming response on c (head and some body read). */
static void
drain_stream_start(struct drain *d, struct itest_conn *c)
{
	struct itest_resp	 r;
	unsigned char		 buf[8];

	itest_connect(c, d->t.sluice.port, IO_MS);
	itest_send_str(c, "GET /drip/100000/20 HTTP/1.1\r\n" HOST "\r\n");
	ck_assert_int_eq(itest_read_head(c, &r, IO_MS), 0);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	ck_assert_msg(itest_read_some(c, buf, sizeof(buf), IO_MS) > 0,
	    "no body byte of the streaming response");
}

/* Exchanges longer than the deadline are ended then, logged killed_*. */
START_TEST(test_hard_stop)
{
	const struct drain_stop	*ds = &drain_stops[_i];
	struct drain		 d;
	struct itest_conn	 c[NHARD], s;
	char			 line[256], t503[32], tcut[32];
	double			 hard, last503, cut, exited;
	int			 st, n503, ncut;

	drain_init(&d, "a", NULL);
	drain_conf_app(&d, ds->global, 0);
	drain_launch(&d);
	drain_send_each(&d, c, NHARD, "/delay/30000");
	drain_stream_start(&d, &s);
	drain_wait_origin_lines(&d, NHARD + 1);
	hard = drain_stop_signal(&d, ds);
	last503 = drain_read_503s(c, NHARD, hard) - hard;
	drain_read_to_close(&s, &cut, IO_MS);
	cut -= hard;
	itest_close(&s);
	st = itest_proc_wait(&d.t.sluice, EXIT_MS);
	exited = itest_now() - hard;
	n503 = itest_lines_term(d.t.access_log, "/delay/30000 HTTP/1.1\" 503 ",
	    " killed_", t503, sizeof(t503));
	ncut = itest_lines_term(d.t.access_log, "/drip/", " killed_", tcut,
	    sizeof(tcut));
	drain_log_line(&d.t, "shutdown ", line, sizeof(line));
	printf("hard stop (%s): %d waiting exchanges answered 503 by "
	    "%+.3f s, 1 streaming response cut at %+.3f s; logged %d x %s, "
	    "%d x %s; exit %d at %+.3f s; sluice: %s\n", ds->what, NHARD,
	    last503, cut, n503, t503, ncut, tcut, st, exited, line);
	fflush(stdout);
	ck_assert_msg(last503 <= MARGIN, "503s came %.3f s after the hard "
	    "stop was due", last503);
	ck_assert_msg(cut >= -EARLY && cut <= MARGIN, "the streaming "
	    "response ended %+.3f s from the hard stop", cut);
	ck_assert_msg(n503 == NHARD && ncut == 1, "access log: %d waiting "
	    "and %d streaming exchanges logged killed_*:\n%s", n503, ncut,
	    itest_file_tail(d.t.access_log));
	ck_assert_msg(st == 0 && exited <= EXIT_MARGIN, "exit status %d at "
	    "%+.3f s from the hard stop", st, exited);
	ck_assert_msg(strstr(line, "shutdown forced") != NULL, "final log "
	    "line: %s", line);
	itest_finish(&d.t);
}
END_TEST

/* --- invalid configuration --------------------------------------------- */

/* A config with errors that would also move traffic to b; the expected
 * "file:line: key: " of its bad value in want, of its bad key in want2,
 * each of len bytes. */
static void
drain_conf_bad(struct drain *d, char *want, char *want2, size_t len)
{
	drain_config(d, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=b\nconnect_timeout = soon\n"
	    "bogus_key = 1\n", d->t.sluice.port, d->t.origin[1].port);
	snprintf(want, len, "%s:%d: connect_timeout: ", d->t.conf,
	    itest_line_of(d->t.conf, "connect_timeout = soon"));
	snprintf(want2, len, "%s:%d: bogus_key: ", d->t.conf,
	    itest_line_of(d->t.conf, "bogus_key = 1"));
}

/* A valid config whose second listener cannot bind (b's port). */
static void
drain_conf_unbindable(struct drain *d)
{
	drain_config(d, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[listener taken]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=b\n", d->t.sluice.port,
	    d->t.origin[1].port, d->t.origin[1].port);
}

/* SIGHUP that must fail: wait for the failure line. */
static void
drain_hup_fails(struct drain *d)
{
	itest_sluice_hup(&d->t, "reload failed; still serving generation 1",
	    WAIT_MS);
}

/* /status after failed reloads: generation 1, the counts, want. */
static void
drain_assert_failed_status(struct drain *d, int failed, const char *want)
{
	char	*json = itest_admin_status(d->admin);

	ck_assert_msg(itest_json_int(json, "generation") == 1 &&
	    drain_reloads(json, "ok") == 0 &&
	    drain_reloads(json, "failed") == failed &&
	    strstr(json, "\"ok\":false") != NULL &&
	    strstr(json, want) != NULL && drain_server_is(json, "a",
	    "active") && itest_status_server(json, "b") == NULL, "/status "
	    "after %d failed reload(s), want the error \"%s\": %s", failed,
	    want, json);
	free(json);
}

/* POST /reload of the bad file: 422 with the error, generation 1. */
static void
drain_assert_post_422(struct drain *d, const char *want)
{
	struct itest_resp	 r;

	itest_post(d->admin, "/reload", &r);
	ck_assert_msg(r.status == 422 && strstr((char *)r.body, want) !=
	    NULL && itest_json_int((char *)r.body, "generation") == 1,
	    "POST /reload of a bad file: status %d: %s", r.status, r.body);
	itest_resp_free(&r);
}

/* Bad configs on SIGHUP and POST under load: nothing changes. */
START_TEST(test_invalid_reload)
{
	struct drain		 d;
	struct itest_load	 l;
	char			 want[256], want2[256], bind[256];
	int			 on_b;

	drain_init(&d, "a", "b");
	drain_conf_app(&d, NULL, 0);
	drain_launch(&d);
	itest_load_start(&d.t, &l, "bad", d.t.sluice.port, "-c 20 -r 1000 "
	    "-m mix -p /bytes/256 -b 256 -d 600000 -t 5000");
	drain_conf_bad(&d, want, want2, sizeof(want));
	drain_hup_fails(&d);
	ck_assert_msg(itest_wait_file(d.t.error_log, want, 0) &&
	    itest_wait_file(d.t.error_log, want2, 0), "errors with "
	    "file:line missing; want \"%s\" and \"%s\"; error log:\n%s",
	    want, want2, itest_file_tail(d.t.error_log));
	drain_assert_failed_status(&d, 1, want);
	drain_assert_post_422(&d, want);
	drain_assert_failed_status(&d, 2, want);
	drain_conf_unbindable(&d);
	drain_hup_fails(&d);
	drain_assert_failed_status(&d, 3, "cannot listen");
	drain_log_line(&d.t, "cannot listen", bind, sizeof(bind));
	itest_pause(300);		/* the old config keeps serving */
	on_b = itest_count_lines(d.t.origin_log[1]);
	drain_conf_app(&d, NULL, 1);
	drain_hup(&d);			/* a good file still applies */
	ck_assert_msg(itest_wait_file(d.t.origin_log[1], "/bytes/", WAIT_MS),
	    "b got no request after the good reload");
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	printf("invalid config: 3 failed reloads (SIGHUP, POST /reload 422, "
	    "SIGHUP with an unbindable listener), generation stayed 1 and b "
	    "got %d requests until the good reload; %lld requests, %lld "
	    "failed; errors: \"%s...\", \"%s\"\n", on_b,
	    itest_load_value(&l, "sent"), itest_load_value(&l, "failed"),
	    want, bind);
	fflush(stdout);
	ck_assert_int_eq(on_b, 0);
	itest_load_assert_clean(&l, "invalid config");
	drain_assert_log_ok(&d.t, "invalid config");
	itest_finish(&d.t);
}
END_TEST

/*
 * SIGTERMs all through the exit: a second one is a hard stop, and one
 * that lands while sluice frees its last resources (its signal events
 * gone) must not make it die of the signal. Exit status 0 every time.
 */
START_TEST(test_sigterm_storm)
{
	struct itest	 t;
	double		 t0;
	long		 sent;
	int		 round;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	for (round = 0; round < 5; round++) {
		if (round == 0)
			itest_sluice_simple(&t, 1, 1, 1);
		else
			itest_sluice_launch(&t);
		t0 = itest_now();
		for (sent = 0; sent < 2000000 && (sent % 64 != 0 ||
		    (itest_proc_alive(&t.sluice) && itest_now() - t0 < 8));
		    sent++)
			kill(t.sluice.pid, SIGTERM);
		printf("SIGTERM storm, round %d: %ld signals, exit status %d "
		    "after %.3f s\n", round + 1, sent, t.sluice.status,
		    itest_now() - t0);
		fflush(stdout);
		ck_assert_msg(t.sluice.exited && t.sluice.status == 0,
		    "round %d: sluice %s, status %d after %ld SIGTERMs",
		    round + 1, t.sluice.exited ? "exited" : "still ran",
		    t.sluice.status, sent);
		t.sluice.exited = 0;
	}
	itest_finish(&t);
}
END_TEST

/* --- the idle keep-alive race ------------------------------------------ */

/* 200 connections POSTing every 0-500 ms; 20 reloads, then SIGTERM. */
START_TEST(test_idle_race)
{
	struct drain		 d;
	struct itest_load	 l;
	struct drain_shut	 sh;
	double			 exited;
	int			 i, st;

	drain_init(&d, "a", "b");
	drain_conf_app(&d, "shutdown_timeout = 10s\ndrain_idle_timeout = "
	    "2s\n", 1);
	drain_launch(&d);
	itest_load_start(&d.t, &l, "race", d.t.sluice.port, "-c 200 -m POST "
	    "-w 0-500 -p /sha -b 1024 -d 600000 -t 5000");
	itest_pause(500);		/* every connection busy or idle */
	for (i = 0; i < RACE_RELOADS; i++) {
		drain_conf_app(&d, "shutdown_timeout = 10s\n"
		    "drain_idle_timeout = 2s\n", 1 + (int)(d.gen % 2));
		drain_reload(&d);
		itest_pause(RACE_PACE_MS);
	}
	memset(&sh, 0, sizeof(sh));
	sh.signal = sh.closed = itest_now();
	kill(d.t.sluice.pid, SIGTERM);
	st = itest_proc_wait(&d.t.sluice, EXIT_MS);
	exited = itest_now() - sh.signal;
	ck_assert_int_eq(itest_load_stop(&l, LOAD_STOP_MS), 0);
	drain_shut_collect(&l, &sh);
	printf("idle keep-alive race: 200 connections, %lld POSTs (think "
	    "0-500 ms), %d reloads then SIGTERM: %d failed "
	    "(eof_after_write %lld, reset_after_write %lld); %d answered 200 "
	    "on kept connections after the listeners closed, %d refused "
	    "after; exit %d after %.3f s\n", itest_load_value(&l, "sent"),
	    RACE_RELOADS, sh.bad, itest_load_value(&l, "eof_after_write"),
	    itest_load_value(&l, "reset_after_write"), sh.late_ok,
	    sh.refused, st, exited);
	fflush(stdout);
	drain_assert_shut(&l, &sh, "idle race");
	ck_assert_msg(sh.late_ok > 0, "no request was sent on a kept "
	    "connection after the listeners closed: the race was not run");
	ck_assert_msg(st == 0, "sluice exit status %d:\n%s", st,
	    itest_file_tail(d.t.error_log));
	ck_assert_msg(exited <= IDLE_S + EXIT_MARGIN, "exit %.3f s after "
	    "SIGTERM (drain_idle_timeout %.0f s)", exited, IDLE_S);
	drain_assert_log_ok(&d.t, "idle race");
	itest_finish(&d.t);
}
END_TEST

/* A test case with a generous timeout (ASan, a loaded CI machine). */
static TCase *
drain_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	return tc;
}

/* The suite: reloads and removals, shutdowns, and what must not break
 * (invalid reloads, the idle race). */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("drain");
	TCase	*tc;

	tc = drain_tcase("reload");
	tcase_add_test(tc, test_reload_storm);
	tcase_add_test(tc, test_reload_rss);
	tcase_add_test(tc, test_backend_removal);
	tcase_add_test(tc, test_blue_green);
	suite_add_tcase(s, tc);

	tc = drain_tcase("shutdown");
	tcase_add_test(tc, test_sigterm_notice);
	tcase_add_test(tc, test_sigterm_storm);
	tcase_add_loop_test(tc, test_hard_stop, 0,
	    (int)(sizeof(drain_stops) / sizeof(drain_stops[0])));
	suite_add_tcase(s, tc);

	tc = drain_tcase("safety");
	tcase_add_test(tc, test_invalid_reload);
	tcase_add_test(tc, test_idle_race);
	suite_add_tcase(s, tc);
	return s;
}
