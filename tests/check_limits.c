/*
 * check_limits: protecting fragile backends (sluice.ini(5): max_conns,
 * backup, queue, queue_timeout), with the real binary and real origins.
 *
 * The origins count the requests they answer at once (GET /conc, asked
 * directly), so "at most N" is what a server with a pool of N threads
 * sees, not what sluice believes. Each test says what a user would check:
 * the concurrency each origin saw, how many requests failed (loadgen
 * counts every outcome), the 503s and their termination codes in the
 * access log, and the times a client waited.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define WAIT_MS		10000

/* One test's world: up to three origins, sluice with an admin port. */
struct lim {
	struct itest	 t;
	int		 admin;
	long long	 gen;
};

/* Origins named a (, b (, c)): NULL ends the list. */
static void
lim_init(struct lim *l, const char *a, const char *b, const char *c)
{
	memset(l, 0, sizeof(*l));
	itest_init(&l->t);
	itest_origin_start(&l->t, 0, a);
	if (b != NULL)
		itest_origin_start(&l->t, 1, b);
	if (c != NULL)
		itest_origin_start(&l->t, 2, c);
	l->admin = itest_free_port();
	itest_sluice_port(&l->t);
}

/* Write the config: global lines (NULL: the harness's), [admin], rest. */
static void
lim_config(struct lim *l, const char *global, const char *fmt, ...)
{
	char	*rest = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	va_end(ap);
	itest_sluice_config(&l->t, global,
	    "[admin]\nlisten = 127.0.0.1:%d\n\n%s", l->admin, rest);
	free(rest);
}

/* Start sluice on the config written. */
static void
lim_launch(struct lim *l)
{
	itest_sluice_launch(&l->t);
	l->gen = 1;
}

/* Reload through the admin endpoint (the config rewritten before). */
static void
lim_reload(struct lim *l)
{
	l->gen = itest_admin_reload(l->admin, NULL, l->gen);
}

/*
 * What origin i saw: the most requests it answered at once (since the
 * start or the last reset), and how many it answers now.
 */
static int
lim_conc(struct lim *l, int i, int *busy)
{
	struct itest_resp	 r;
	int			 b = -1, max = -1;

	itest_get(l->t.origin[i].port, "/conc", &r);
	ck_assert_msg(r.status == 200 && r.body != NULL &&
	    sscanf((const char *)r.body, "busy %d max %d", &b, &max) == 2,
	    "origin %d: GET /conc: status %d", i, r.status);
	itest_resp_free(&r);
	if (busy != NULL)
		*busy = b;
	return max;
}

/*
 * Wait until at least n requests wait in the (one) upstream's queue, as
 * /status shows it: 1, or 0 when WAIT_MS passed.
 */
static int
lim_wait_depth(struct lim *l, long long n)
{
	double	end = itest_now() + WAIT_MS / 1000.0;

	while (itest_admin_status_int(l->admin, NULL, "queue_depth") < n)
		if (itest_now() > end)
			return 0;
		else
			itest_pause(5);
	return 1;
}

/* Access-log lines with termination code term. */
static int
lim_terms(struct lim *l, const char *term)
{
	char	*log = itest_read_file(l->t.access_log, NULL);
	char	*line, *save = NULL, got[64];
	int	 n = 0;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		n += strcmp(itest_access_term(line, got, sizeof(got)),
		    term) == 0;
	free(log);
	return n;
}

/* A sample of a /metrics family with a label text in it; -1: none. */
static long long
lim_metric(struct lim *l, const char *family, const char *label)
{
	struct itest_resp	 r;
	const char		*p;
	long long		 v = -1;
	char			 pat[256];

	itest_get(l->admin, "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(pat, sizeof(pat), "\n%s{%s} ", family, label);
	if ((p = strstr((const char *)r.body, pat)) != NULL)
		v = strtoll(p + strlen(pat), NULL, 10);
	itest_resp_free(&r);
	return v;
}

/* Send "GET path" on a new connection of c (not waiting for an answer). */
static void
lim_send_get(struct lim *l, struct itest_conn *c, const char *path)
{
	char	req[256];

	itest_connect(c, l->t.sluice.port, WAIT_MS);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
	    path);
	itest_send_str(c, req);
}

/*
 * 200 clients on two servers with max_conns = 5 and a queue big enough:
 * neither origin ever answers more than 5 at once, both reach 5, no
 * request fails, and the waits show in the access log.
 */
START_TEST(test_max_conns)
{
	struct itest_load	 load;
	struct lim		 l;
	int			 ma, mb, busy;
	long long		 sent, queued;

	lim_init(&l, "a", "b", NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=5\n"
	    "server = 127.0.0.1:%d name=b max_conns=5\n"
	    "queue = 1000\nqueue_timeout = 30s\n", l.t.sluice.port,
	    l.t.origin[0].port, l.t.origin[1].port);
	lim_launch(&l);
	itest_load_start(&l.t, &load, "conc", l.t.sluice.port,
	    "-c 200 -d 2000 -t 20000 -p /delay/20");
	ck_assert_int_eq(itest_proc_wait(&load.proc, 30000), 0);
	ma = lim_conc(&l, 0, &busy);
	mb = lim_conc(&l, 1, NULL);
	sent = itest_load_value(&load, "sent");
	queued = lim_metric(&l, "sluice_queue_requests_total",
	    "upstream=\"app\"");
	printf("max_conns 5 x 2, 200 clients, /delay/20: %lld requests, "
	    "origins saw at most %d and %d at once, %lld waited\n", sent, ma,
	    mb, queued);
	fflush(stdout);
	itest_load_assert_clean(&load, "200 clients, max_conns 5");
	ck_assert_msg(ma == 5 && mb == 5, "origins saw %d and %d at once, "
	    "want 5 and 5", ma, mb);
	ck_assert_int_eq(busy, 0);
	/* 10 slots for 200 clients: nearly every request waited */
	ck_assert_msg(queued >= sent / 2, "%lld of %lld requests waited",
	    queued, sent);
	ck_assert(itest_wait_lines(l.t.access_log, (int)sent, WAIT_MS));
	ck_assert_int_eq(lim_terms(&l, "ok"), (int)sent);
	itest_finish(&l.t);
}
END_TEST

/*
 * Health checks are requests too: with checks every 10 ms under a load
 * that keeps both slots busy, the origin still never answers more than
 * max_conns at once, and the server stays up.
 */
START_TEST(test_max_conns_checks)
{
	struct itest_load	 load;
	struct lim		 l;
	char			 health[16];
	int			 max, checks;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=2\n"
	    "queue = 1000\nqueue_timeout = 30s\nhealth_check = /health\n"
	    "health_interval = 10ms\n", l.t.sluice.port, l.t.origin[0].port);
	lim_launch(&l);
	itest_load_start(&l.t, &load, "checks", l.t.sluice.port,
	    "-c 20 -d 1500 -t 20000 -p /delay/15");
	ck_assert_int_eq(itest_proc_wait(&load.proc, 30000), 0);
	max = lim_conc(&l, 0, NULL);
	checks = itest_count_file(l.t.origin_log[0], "/health");
	printf("max_conns 2 with checks every 10 ms: origin saw at most %d "
	    "at once, %d checks ran\n", max, checks);
	fflush(stdout);
	itest_load_assert_clean(&load, "max_conns with health checks");
	ck_assert_int_eq(max, 2);
	ck_assert_int_gt(checks, 0);
	ck_assert_str_eq(itest_admin_status_str(l.admin, "a", "health",
	    health, sizeof(health)), "up");
	itest_finish(&l.t);
}
END_TEST

/*
 * max_conns = 2 and queue = 3, 20 requests at once for a slow page: 2
 * are served, 3 wait and are served after them, 15 get 503 at once with
 * proxy_queue, counted as overflows.
 */
START_TEST(test_queue_full)
{
	struct itest_load	 load;
	struct lim		 l;
	long long		 s2, s5, over;
	int			 max;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=2\n"
	    "queue = 3\nqueue_timeout = 20s\n", l.t.sluice.port,
	    l.t.origin[0].port);
	lim_launch(&l);
	itest_load_start(&l.t, &load, "burst", l.t.sluice.port,
	    "-c 20 -n 20 -d 0 -t 20000 -p /delay/1000");
	ck_assert_int_eq(itest_proc_wait(&load.proc, 30000), 0);
	s2 = itest_load_value(&load, "s2xx");
	s5 = itest_load_value(&load, "s5xx");
	over = lim_metric(&l, "sluice_queue_overflows_total",
	    "upstream=\"app\"");
	max = lim_conc(&l, 0, NULL);
	printf("max_conns 2, queue 3, 20 at once: %lld x 200, %lld x 503, "
	    "%lld overflows, origin saw %d at once\n", s2, s5, over, max);
	fflush(stdout);
	ck_assert_int_eq(itest_load_value(&load, "failed"), 0);
	ck_assert_int_eq(s2, 5);
	ck_assert_int_eq(s5, 15);
	ck_assert_int_eq(over, 15);
	ck_assert(itest_wait_lines(l.t.access_log, 20, WAIT_MS));
	ck_assert_int_eq(lim_terms(&l, "proxy_queue"), 15);
	ck_assert_int_eq(lim_terms(&l, "ok"), 5);
	ck_assert_int_eq(max, 2);
	itest_finish(&l.t);
}
END_TEST

/*
 * queue_timeout = 400ms behind a request that takes 3 s: the waiting
 * requests get 503 after 400 ms (plus a small margin), timeout_queue.
 */
START_TEST(test_queue_timeout)
{
	struct itest_conn	 slow, w[3];
	struct itest_resp	 r;
	struct lim		 l;
	double			 t0, took[3];
	int			 i;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=1\n"
	    "queue = 10\nqueue_timeout = 400ms\n", l.t.sluice.port,
	    l.t.origin[0].port);
	lim_launch(&l);
	lim_send_get(&l, &slow, "/delay/3000");
	ck_assert(itest_wait_file(l.t.origin_log[0], "/delay/3000", WAIT_MS));
	t0 = itest_now();
	for (i = 0; i < 3; i++)
		lim_send_get(&l, &w[i], "/delay/10");
	for (i = 0; i < 3; i++) {
		itest_read_response(&w[i], &r, 0, WAIT_MS);
		took[i] = (itest_now() - t0) * 1000;
		ck_assert_int_eq(r.status, 503);
		itest_resp_free(&r);
		itest_close(&w[i]);
	}
	printf("queue_timeout 400ms: 503 after %.0f, %.0f, %.0f ms\n",
	    took[0], took[1], took[2]);
	fflush(stdout);
	for (i = 0; i < 3; i++)
		ck_assert_msg(took[i] >= 390 && took[i] < 1400, "request %d: "
		    "503 after %.0f ms, want 400 ms and a margin", i, took[i]);
	itest_read_response(&slow, &r, 0, WAIT_MS);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_close(&slow);
	ck_assert(itest_wait_lines(l.t.access_log, 4, WAIT_MS));
	ck_assert_int_eq(lim_terms(&l, "timeout_queue"), 3);
	ck_assert_int_eq(lim_metric(&l, "sluice_queue_timeouts_total",
	    "upstream=\"app\""), 3);
	/* the origin never saw them */
	ck_assert_int_eq(itest_count_file(l.t.origin_log[0], "/delay/10"), 0);
	itest_finish(&l.t);
}
END_TEST

/*
 * An upgraded connection (a WebSocket) holds its slot while it is open:
 * with max_conns = 1, a request waits behind it until queue_timeout, and
 * gets the slot once the tunnel closes.
 */
START_TEST(test_tunnel_slot)
{
	struct itest_conn	 ws, c;
	struct itest_resp	 r;
	struct lim		 l;
	int			 busy;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=1\n"
	    "queue = 5\nqueue_timeout = 300ms\n", l.t.sluice.port,
	    l.t.origin[0].port);
	lim_launch(&l);
	itest_connect(&ws, l.t.sluice.port, WAIT_MS);
	itest_send_str(&ws, "GET /ws HTTP/1.1\r\nHost: t\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n");
	itest_read_head(&ws, &r, WAIT_MS);
	ck_assert_int_eq(r.status, 101);
	itest_resp_free(&r);
	ck_assert_int_eq(itest_admin_status_int(l.admin, "a", "slots"), 1);
	lim_send_get(&l, &c, "/bytes/3");
	itest_read_response(&c, &r, 0, WAIT_MS);
	ck_assert_int_eq(r.status, 503);
	itest_resp_free(&r);
	itest_close(&c);
	ck_assert(itest_wait_file(l.t.access_log, "timeout_queue", WAIT_MS));
	ck_assert_int_eq(lim_terms(&l, "timeout_queue"), 1);
	/* the tunnel closes: its slot frees */
	itest_close(&ws);
	ck_assert(itest_wait_status_int(l.admin, "a", "slots", 0, WAIT_MS,
	    NULL));
	(void)lim_conc(&l, 0, &busy);
	ck_assert_int_eq(busy, 0);
	lim_send_get(&l, &c, "/bytes/3");
	itest_read_response(&c, &r, 0, WAIT_MS);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_close(&c);
	itest_finish(&l.t);
}
END_TEST

/*
 * A server an active health check brings back takes the waiting
 * requests at once: a is busy at max_conns=1 for 3 s, b (no limit, so
 * its checks free no slot) is down by its check; when b's check passes,
 * the request waiting goes to b well before a would free.
 */
START_TEST(test_queue_server_back)
{
	struct itest_conn	 slow, c;
	struct itest_resp	 r;
	struct lim		 l;
	char			 down[256], health[16];
	const char		*o;
	double			 t0, took;

	memset(&l, 0, sizeof(l));
	itest_init(&l.t);
	snprintf(down, sizeof(down), "%s/b-down", l.t.dir);
	itest_write_file(down, "down\n");
	itest_origin_start(&l.t, 0, "a");
	itest_origin_start_opts(&l.t, 1, "b", "-f %s", down);
	l.admin = itest_free_port();
	itest_sluice_port(&l.t);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=1\n"
	    "server = 127.0.0.1:%d name=b\n"
	    "queue = 10\nqueue_timeout = 20s\nhealth_check = /health\n"
	    "health_interval = 100ms\nhealth_rise = 1\nhealth_fall = 1\n",
	    l.t.sluice.port, l.t.origin[0].port, l.t.origin[1].port);
	lim_launch(&l);
	for (t0 = itest_now(); strcmp(itest_admin_status_str(l.admin, "b",
	    "health", health, sizeof(health)), "down") != 0 &&
	    itest_now() - t0 < 5; )
		itest_pause(20);
	ck_assert_str_eq(health, "down");
	lim_send_get(&l, &slow, "/delay/3000");
	ck_assert(itest_wait_file(l.t.origin_log[0], "/delay/3000", WAIT_MS));
	lim_send_get(&l, &c, "/bytes/3");
	ck_assert(lim_wait_depth(&l, 1));
	t0 = itest_now();
	ck_assert_int_eq(unlink(down), 0);
	itest_read_response(&c, &r, 0, WAIT_MS);
	took = itest_now() - t0;
	o = itest_resp_header(&r, "X-Origin");
	printf("queue: b back by its check, the waiting request served by %s "
	    "after %.2f s (a busy for 3 s)\n", o != NULL ? o : "-", took);
	fflush(stdout);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(o, "b");
	ck_assert_msg(took < 1.5, "served after %.2f s", took);
	itest_resp_free(&r);
	itest_read_response(&slow, &r, 0, WAIT_MS);
	itest_resp_free(&r);
	itest_close(&c);
	itest_close(&slow);
	itest_finish(&l.t);
}
END_TEST

/*
 * A client that goes away leaves the queue at once: the slot it would
 * have had goes to the one behind it, and the origin never sees it.
 */
START_TEST(test_queue_client_gone)
{
	struct itest_conn	 slow, gone, next;
	struct itest_resp	 r;
	struct lim		 l;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=1\n"
	    "queue = 10\nqueue_timeout = 20s\n", l.t.sluice.port,
	    l.t.origin[0].port);
	lim_launch(&l);
	lim_send_get(&l, &slow, "/delay/600");
	ck_assert(itest_wait_file(l.t.origin_log[0], "/delay/600", WAIT_MS));
	lim_send_get(&l, &gone, "/gone");
	ck_assert(lim_wait_depth(&l, 1));
	itest_close(&gone);
	ck_assert(itest_wait_file(l.t.access_log, "client_queue", WAIT_MS));
	ck_assert_int_eq(itest_admin_status_int(l.admin, NULL,
	    "queue_depth"), 0);
	lim_send_get(&l, &next, "/bytes/5");
	itest_read_response(&slow, &r, 0, WAIT_MS);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_read_response(&next, &r, 0, WAIT_MS);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	itest_close(&slow);
	itest_close(&next);
	ck_assert_int_eq(itest_count_file(l.t.origin_log[0], "/gone"), 0);
	ck_assert_int_eq(itest_count_lines(l.t.origin_log[0]), 2);
	itest_finish(&l.t);
}
END_TEST

/*
 * Under load with every slot busy, b is drained through the admin
 * endpoint, then a reload removes b and adds c: the waiting requests go
 * to the servers left, none fails, none waits for b, and no origin ever
 * answers more than its max_conns.
 */
START_TEST(test_queue_drain)
{
	struct itest_load	 load;
	struct lim		 l;
	char			*body;
	int			 ma, mb, mc, port_c, i, busy = -1;
	long long		 after;

	lim_init(&l, "a", "b", "c");
	port_c = l.t.origin[2].port;
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=3\n"
	    "server = 127.0.0.1:%d name=b max_conns=3\n"
	    "queue = 1000\nqueue_timeout = 30s\n", l.t.sluice.port,
	    l.t.origin[0].port, l.t.origin[1].port);
	lim_launch(&l);
	itest_load_start(&l.t, &load, "drain", l.t.sluice.port,
	    "-c 40 -d 3000 -t 20000 -p /delay/20");
	ck_assert(lim_wait_depth(&l, 10));
	body = itest_admin_post(l.admin, "/upstreams/app/servers/b/drain",
	    NULL);
	free(body);
	/* what b had in hand finishes; then a window of the load */
	for (i = 0; i < 2000; i++) {
		(void)lim_conc(&l, 1, &busy);
		if (busy == 0)
			break;
		itest_pause(5);
	}
	ck_assert_int_eq(busy, 0);
	after = itest_count_lines(l.t.origin_log[1]);
	itest_pause(500);
	/* b drained: it gets nothing new, however long the queue */
	ck_assert_int_eq(itest_count_lines(l.t.origin_log[1]), after);
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=3\n"
	    "server = 127.0.0.1:%d name=c max_conns=3\n"
	    "queue = 1000\nqueue_timeout = 30s\n", l.t.sluice.port,
	    l.t.origin[0].port, port_c);
	lim_reload(&l);
	ck_assert_int_eq(itest_proc_wait(&load.proc, 30000), 0);
	ma = lim_conc(&l, 0, NULL);
	mb = lim_conc(&l, 1, NULL);
	mc = lim_conc(&l, 2, NULL);
	printf("queue under drain and removal: %lld requests, origins saw "
	    "at most %d, %d, %d at once; c served %d\n",
	    itest_load_value(&load, "sent"), ma, mb, mc,
	    itest_count_lines(l.t.origin_log[2]));
	fflush(stdout);
	itest_load_assert_clean(&load, "drain and removal under a queue");
	ck_assert_msg(ma <= 3 && mb <= 3 && mc <= 3, "at once: %d %d %d",
	    ma, mb, mc);
	ck_assert_int_eq(ma, 3);
	ck_assert_int_eq(mc, 3);
	ck_assert_int_eq(itest_count_lines(l.t.origin_log[1]), after);
	itest_finish(&l.t);
}
END_TEST

/*
 * SIGTERM with requests waiting: the drain waits for them like for any
 * exchange (all 200); with a short shutdown_timeout, every request still
 * waiting at the hard stop gets a 503, never a reset.
 */
START_TEST(test_queue_shutdown)
{
	struct itest_conn	 c[4];
	struct itest_resp	 r;
	struct lim		 l;
	int			 i, pass = _i;

	lim_init(&l, "a", NULL, NULL);
	lim_config(&l, pass == 0 ? "shutdown_timeout = 20s\n" :
	    "shutdown_timeout = 500ms\n",
	    "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a max_conns=1\n"
	    "queue = 10\nqueue_timeout = 30s\n", l.t.sluice.port,
	    l.t.origin[0].port);
	lim_launch(&l);
	for (i = 0; i < 4; i++)
		lim_send_get(&l, &c[i], pass == 0 ? "/delay/200" :
		    "/delay/5000");
	ck_assert(lim_wait_depth(&l, 3));
	kill(l.t.sluice.pid, SIGTERM);
	for (i = 0; i < 4; i++) {
		itest_read_response(&c[i], &r, 0, 15000);
		ck_assert_msg(r.status == (pass == 0 ? 200 : 503) &&
		    !r.reset, "pass %d, request %d: status %d, reset %d",
		    pass, i, r.status, r.reset);
		itest_resp_free(&r);
		itest_close(&c[i]);
	}
	ck_assert_int_eq(itest_proc_wait(&l.t.sluice, 15000), 0);
	if (pass == 1)
		ck_assert_int_eq(lim_terms(&l, "killed_queue"), 3);
	itest_finish(&l.t);
}
END_TEST

/*
 * A backup server gets nothing while a primary is usable; with both
 * primaries gone it serves the very first request (the retries reach
 * it); when they are back, it gets no new request.
 */
START_TEST(test_backup)
{
	struct itest_resp	 r;
	struct lim		 l;
	const char		*o;
	int			 i, pa, pb, from_c, n;
	char			 opt[32];

	lim_init(&l, "a", "b", "c");
	pa = l.t.origin[0].port;
	pb = l.t.origin[1].port;
	lim_config(&l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n"
	    "server = 127.0.0.1:%d name=b\n"
	    "server = 127.0.0.1:%d name=c backup\n"
	    "retries = 2\nmax_ejected = 100%%\nfail_timeout = 1s\n"
	    "keepalive = 0\n", l.t.sluice.port, pa, pb, l.t.origin[2].port);
	lim_launch(&l);
	for (i = 0; i < 20; i++) {
		itest_get(l.t.sluice.port, "/bytes/3", &r);
		ck_assert_int_eq(r.status, 200);
		o = itest_resp_header(&r, "X-Origin");
		ck_assert_msg(o != NULL && strcmp(o, "c") != 0,
		    "request %d went to %s with both primaries up", i, o);
		itest_resp_free(&r);
	}
	ck_assert_int_eq(itest_proc_stop(&l.t.origin[0], 5000), 0);
	ck_assert_int_eq(itest_proc_stop(&l.t.origin[1], 5000), 0);
	for (i = 0; i < 10; i++) {
		itest_get(l.t.sluice.port, "/bytes/3", &r);
		o = itest_resp_header(&r, "X-Origin");
		ck_assert_msg(r.status == 200 && o != NULL &&
		    strcmp(o, "c") == 0, "request %d with the primaries "
		    "down: %d from %s", i, r.status, o != NULL ? o : "-");
		itest_resp_free(&r);
	}
	snprintf(opt, sizeof(opt), "-p %d", pa);
	itest_origin_start_opts(&l.t, 0, "a", "%s", opt);
	snprintf(opt, sizeof(opt), "-p %d", pb);
	itest_origin_start_opts(&l.t, 1, "b", "%s", opt);
	/* back after fail_timeout, by a trial request each */
	for (i = 0, n = 0; i < 400 && n < 2; i++) {
		itest_get(l.t.sluice.port, "/bytes/3", &r);
		ck_assert_int_eq(r.status, 200);
		o = itest_resp_header(&r, "X-Origin");
		n = o != NULL && strcmp(o, "c") != 0 ? n + 1 : 0;
		itest_resp_free(&r);
		if (n == 0)
			itest_pause(10);
	}
	ck_assert_msg(n == 2, "the primaries did not come back");
	from_c = itest_count_lines(l.t.origin_log[2]);
	for (i = 0; i < 40; i++) {
		itest_get(l.t.sluice.port, "/bytes/3", &r);
		ck_assert_int_eq(r.status, 200);
		itest_resp_free(&r);
	}
	ck_assert_int_eq(itest_count_lines(l.t.origin_log[2]), from_c);
	/* both primaries drained by the admin: the backup again */
	free(itest_admin_post(l.admin, "/upstreams/app/servers/a/drain",
	    NULL));
	free(itest_admin_post(l.admin, "/upstreams/app/servers/b/drain",
	    NULL));
	itest_get(l.t.sluice.port, "/bytes/3", &r);
	o = itest_resp_header(&r, "X-Origin");
	ck_assert_msg(r.status == 200 && o != NULL && strcmp(o, "c") == 0,
	    "primaries drained: %d from %s", r.status, o != NULL ? o : "-");
	itest_resp_free(&r);
	itest_finish(&l.t);
}
END_TEST

/* --- sticky sessions --------------------------------------------------- */

#define STICKY_CLIENTS	100

/*
 * GET /bytes/3 with "Cookie: cookie" (NULL: none) on a new connection:
 * the origin that answered into origin, the value of the sticky cookie
 * SLUICE_APP the response set into set ("" when none), and the whole
 * Set-Cookie into line when not NULL. Fails the test unless 200.
 */
static void
lim_sticky_get(struct lim *l, const char *cookie, char *origin, char *set,
    char *line, size_t linelen)
{
	struct itest_conn	 c;
	struct itest_resp	 r;
	const char		*o, *sc;
	char			 req[512];

	itest_connect(&c, l->t.sluice.port, WAIT_MS);
	snprintf(req, sizeof(req), "GET /bytes/3 HTTP/1.1\r\nHost: t\r\n"
	    "%s%s%sConnection: close\r\n\r\n", cookie != NULL ? "Cookie: " :
	    "", cookie != NULL ? cookie : "", cookie != NULL ? "\r\n" : "");
	itest_send_str(&c, req);
	itest_read_response(&c, &r, 0, WAIT_MS);
	ck_assert_msg(r.status == 200, "GET with cookie %s: status %d",
	    cookie != NULL ? cookie : "(none)", r.status);
	o = itest_resp_header(&r, "X-Origin");
	snprintf(origin, 16, "%s", o != NULL ? o : "-");
	sc = itest_resp_header(&r, "Set-Cookie");
	ck_assert_int_le(itest_resp_header_count(&r, "Set-Cookie"), 1);
	set[0] = '\0';
	if (sc != NULL && strncmp(sc, "SLUICE_APP=", 11) == 0)
		snprintf(set, 32, "%.*s", (int)strcspn(sc + 11, ";"), sc + 11);
	if (line != NULL)
		snprintf(line, linelen, "%s", sc != NULL ? sc : "");
	itest_resp_free(&r);
	itest_close(&c);
}

/* The sticky world: app = blue (origin 0), green (origin 1). */
static void
lim_sticky_config(struct lim *l, const char *servers, const char *extra)
{
	lim_config(l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n\n[upstream app]\n%s"
	    "sticky = cookie SLUICE_APP max_age=8h secure httponly "
	    "samesite=lax\ndrain_timeout = 1500ms\n%s", l->t.sluice.port,
	    servers, extra);
}

/* Clients and what they hold. */
struct lim_clients {
	char	 cookie[STICKY_CLIENTS][64];
	char	 pinned[STICKY_CLIENTS][16];	/* the origin */
	char	 id[2][32];			/* blue's, green's */
};

/*
 * n clients come without a cookie: each gets one, half of them for blue,
 * half for green (round robin).
 */
static void
lim_sticky_first(struct lim *l, struct lim_clients *cl, int n)
{
	char	 set[32], line[256];
	int	 i, blue = 0, k;

	for (i = 0; i < n; i++) {
		lim_sticky_get(l, NULL, cl->pinned[i], set, line,
		    sizeof(line));
		ck_assert_msg(strlen(set) == 16 && strspn(set,
		    "0123456789abcdef") == 16, "client %d: Set-Cookie %s", i,
		    line);
		ck_assert_msg(strcmp(line + 11 + 16, "; Path=/; Max-Age=28800; "
		    "Secure; HttpOnly; SameSite=Lax") == 0, "Set-Cookie: %s",
		    line);
		snprintf(cl->cookie[i], sizeof(cl->cookie[i]),
		    "a=1; SLUICE_APP=%s; z=2", set);
		k = strcmp(cl->pinned[i], "blue") == 0 ? 0 : 1;
		blue += k == 0;
		if (cl->id[k][0] == '\0')
			snprintf(cl->id[k], sizeof(cl->id[k]), "%s", set);
		ck_assert_str_eq(cl->id[k], set);
	}
	ck_assert_int_eq(blue, n / 2);
	ck_assert_str_ne(cl->id[0], cl->id[1]);
}

/*
 * Every client sends its cookie: how many reached their pinned server
 * (want) and the other one, and how many were given a new cookie; with
 * repin, a client given one holds it from then on.
 */
static void
lim_sticky_round(struct lim *l, struct lim_clients *cl, int n,
    int *kept, int *moved, int *repinned, int repin)
{
	char	 origin[16], set[32];
	int	 i;

	*kept = *moved = *repinned = 0;
	for (i = 0; i < n; i++) {
		lim_sticky_get(l, cl->cookie[i], origin, set, NULL, 0);
		if (strcmp(origin, cl->pinned[i]) == 0)
			(*kept)++;
		else
			(*moved)++;
		if (set[0] != '\0') {
			(*repinned)++;
			ck_assert_str_eq(set, cl->id[strcmp(origin, "blue") ==
			    0 ? 0 : 1]);
			if (repin) {
				snprintf(cl->cookie[i], sizeof(cl->cookie[i]),
				    "SLUICE_APP=%s", set);
				snprintf(cl->pinned[i], sizeof(cl->pinned[i]),
				    "%s", origin);
			}
		}
	}
}

/*
 * 100 clients keep their server across a reload that changes nothing for
 * it; after an admin drain of blue (loop 1: weight 0), blue's clients keep reaching blue
 * until drain_timeout while every new client goes to green; then they
 * move to green with a new cookie. The ids survive a restart.
 */
START_TEST(test_sticky_drain)
{
	struct lim_clients	*cl = calloc(1, sizeof(*cl));
	struct lim		 l;
	char			 servers[256], origin[16], set[32];
	char			*body;
	int			 i, kept, moved, repinned, green, n_blue = 0;
	double			 drained;

	ck_assert_ptr_nonnull(cl);
	lim_init(&l, "blue", "green", NULL);
	snprintf(servers, sizeof(servers), "server = 127.0.0.1:%d name=blue\n"
	    "server = 127.0.0.1:%d name=green\n", l.t.origin[0].port,
	    l.t.origin[1].port);
	lim_sticky_config(&l, servers, "");
	lim_launch(&l);
	lim_sticky_first(&l, cl, STICKY_CLIENTS);
	/* the ids are the names' (FNV-1a of "app\0blue"): a new release
	 * that changed them would log everyone out */
	ck_assert_str_eq(cl->id[0], "45ffd3ee573e2f88");
	ck_assert_str_eq(cl->id[1], "1720a5ba9cb3808f");
	for (i = 0; i < 3; i++) {
		lim_sticky_round(&l, cl, STICKY_CLIENTS, &kept, &moved,
		    &repinned, 0);
		ck_assert_int_eq(kept, STICKY_CLIENTS);
		ck_assert_int_eq(repinned, 0);
	}
	/* a reload that changes nothing for the servers */
	lim_sticky_config(&l, servers, "read_timeout = 30s\n");
	lim_reload(&l);
	lim_sticky_round(&l, cl, STICKY_CLIENTS, &kept, &moved, &repinned, 0);
	ck_assert_int_eq(kept, STICKY_CLIENTS);
	for (i = 0; i < STICKY_CLIENTS; i++)
		n_blue += strcmp(cl->pinned[i], "blue") == 0;
	/* drain blue (or weight 0): its sessions stay, new ones go green */
	body = itest_admin_post(l.admin, _i == 0 ?
	    "/upstreams/app/servers/blue/drain" :
	    "/upstreams/app/servers/blue/weight?value=0", NULL);
	free(body);
	drained = itest_now();
	lim_sticky_round(&l, cl, STICKY_CLIENTS, &kept, &moved, &repinned, 0);
	ck_assert_msg(itest_now() - drained < 1.2, "the round took too long "
	    "to stay within drain_timeout");
	ck_assert_int_eq(kept, STICKY_CLIENTS);
	ck_assert_int_eq(repinned, 0);
	for (i = 0, green = 0; i < 20; i++) {
		lim_sticky_get(&l, NULL, origin, set, NULL, 0);
		green += strcmp(origin, "green") == 0;
		ck_assert_str_eq(set, cl->id[1]);
	}
	ck_assert_int_eq(green, 20);
	ck_assert_int_ge(itest_admin_status_int(l.admin, "blue",
	    "sticky_recent"), n_blue);
	ck_assert_int_ge(itest_admin_status_int(l.admin, "blue",
	    "sticky_requests"), 5 * n_blue);
	/* drain_timeout passed: blue's clients move and are re-pinned */
	while (itest_now() - drained < 1.6)
		itest_pause(20);
	lim_sticky_round(&l, cl, STICKY_CLIENTS, &kept, &moved, &repinned, 1);
	printf("sticky (%s): %d clients, %d on blue; after blue's "
	    "drain_timeout %d kept, %d moved, %d re-pinned\n", _i == 0 ?
	    "drain" : "weight 0", STICKY_CLIENTS, n_blue, kept, moved,
	    repinned);
	fflush(stdout);
	ck_assert_int_eq(moved, n_blue);
	ck_assert_int_eq(repinned, n_blue);
	lim_sticky_round(&l, cl, STICKY_CLIENTS, &kept, &moved, &repinned, 0);
	ck_assert_int_eq(kept, STICKY_CLIENTS);
	ck_assert_int_eq(repinned, 0);
	/* the same ids after a restart: enable blue, restart sluice */
	ck_assert_int_eq(itest_proc_stop(&l.t.sluice, WAIT_MS), 0);
	lim_launch(&l);
	snprintf(cl->cookie[0], sizeof(cl->cookie[0]), "SLUICE_APP=%s",
	    cl->id[0]);
	lim_sticky_get(&l, cl->cookie[0], origin, set, NULL, 0);
	ck_assert_str_eq(origin, "blue");
	ck_assert_str_eq(set, "");
	free(cl);
	itest_finish(&l.t);
}
END_TEST

/*
 * A reload that removes blue moves its sessions at once; a forged or old
 * cookie is balanced as if there were none, and replaced.
 */
START_TEST(test_sticky_removed)
{
	struct lim_clients	*cl = calloc(1, sizeof(*cl));
	struct lim		 l;
	char			 servers[256], origin[16], set[32];
	int			 kept, moved, repinned, i, blue;

	ck_assert_ptr_nonnull(cl);
	lim_init(&l, "blue", "green", NULL);
	snprintf(servers, sizeof(servers), "server = 127.0.0.1:%d name=blue\n"
	    "server = 127.0.0.1:%d name=green\n", l.t.origin[0].port,
	    l.t.origin[1].port);
	lim_sticky_config(&l, servers, "");
	lim_launch(&l);
	lim_sticky_first(&l, cl, 20);
	for (i = 0, blue = 0; i < 20; i++) {
		lim_sticky_get(&l, "SLUICE_APP=0123456789abcdef", origin, set,
		    NULL, 0);
		blue += strcmp(origin, "blue") == 0;
		ck_assert_str_eq(set, cl->id[strcmp(origin, "blue") == 0 ?
		    0 : 1]);
	}
	ck_assert_int_eq(blue, 10);
	snprintf(servers, sizeof(servers), "server = 127.0.0.1:%d "
	    "name=green\n", l.t.origin[1].port);
	lim_sticky_config(&l, servers, "");
	lim_reload(&l);
	lim_sticky_round(&l, cl, 20, &kept, &moved, &repinned, 1);
	ck_assert_int_eq(moved, 10);
	ck_assert_int_eq(repinned, 10);
	lim_sticky_round(&l, cl, 20, &kept, &moved, &repinned, 0);
	ck_assert_int_eq(kept, 20);
	free(cl);
	itest_finish(&l.t);
}
END_TEST

/*
 * max_conns and the queue apply to sticky requests: one pinned to a busy
 * blue waits for blue though green is free; once blue drains, one pinned
 * to a busy blue goes to green at once (never waiting for a draining
 * server) and is re-pinned there.
 */
START_TEST(test_sticky_limit)
{
	struct lim_clients	*cl = calloc(1, sizeof(*cl));
	struct itest_conn	 slow, c;
	struct itest_resp	 r;
	struct lim		 l;
	char			 servers[256], req[256];
	const char		*o, *sc;
	double			 t0, took;

	ck_assert_ptr_nonnull(cl);
	lim_init(&l, "blue", "green", NULL);
	snprintf(servers, sizeof(servers), "server = 127.0.0.1:%d name=blue "
	    "max_conns=1\nserver = 127.0.0.1:%d name=green max_conns=1\n",
	    l.t.origin[0].port, l.t.origin[1].port);
	lim_sticky_config(&l, servers, "queue = 10\nqueue_timeout = 10s\n");
	lim_launch(&l);
	lim_sticky_first(&l, cl, 2);
	itest_connect(&slow, l.t.sluice.port, WAIT_MS);
	snprintf(req, sizeof(req), "GET /delay/800 HTTP/1.1\r\nHost: t\r\n"
	    "Cookie: SLUICE_APP=%s\r\n\r\n", cl->id[0]);
	itest_send_str(&slow, req);
	ck_assert(itest_wait_file(l.t.origin_log[0], "/delay/800", WAIT_MS));
	t0 = itest_now();
	itest_connect(&c, l.t.sluice.port, WAIT_MS);
	snprintf(req, sizeof(req), "GET /bytes/3 HTTP/1.1\r\nHost: t\r\n"
	    "Cookie: SLUICE_APP=%s\r\n\r\n", cl->id[0]);
	itest_send_str(&c, req);
	itest_read_response(&c, &r, 0, WAIT_MS);
	took = (itest_now() - t0) * 1000;
	o = itest_resp_header(&r, "X-Origin");
	ck_assert_msg(r.status == 200 && o != NULL && strcmp(o, "blue") == 0,
	    "pinned to a busy blue: %d from %s", r.status, o);
	ck_assert_msg(took > 500, "answered after %.0f ms: it did not wait "
	    "for blue", took);
	itest_resp_free(&r);
	itest_read_response(&slow, &r, 0, WAIT_MS);
	itest_resp_free(&r);
	/* blue drains; busy again; a pinned request goes to green now */
	free(itest_admin_post(l.admin, "/upstreams/app/servers/blue/drain",
	    NULL));
	snprintf(req, sizeof(req), "GET /delay/800 HTTP/1.1\r\nHost: t\r\n"
	    "Cookie: SLUICE_APP=%s\r\n\r\n", cl->id[0]);
	itest_send_str(&slow, req);
	ck_assert(itest_wait_count(l.t.origin_log[0], "/delay/800", 2,
	    WAIT_MS));
	t0 = itest_now();
	snprintf(req, sizeof(req), "GET /bytes/3 HTTP/1.1\r\nHost: t\r\n"
	    "Cookie: SLUICE_APP=%s\r\n\r\n", cl->id[0]);
	itest_send_str(&c, req);
	itest_read_response(&c, &r, 0, WAIT_MS);
	took = (itest_now() - t0) * 1000;
	o = itest_resp_header(&r, "X-Origin");
	sc = itest_resp_header(&r, "Set-Cookie");
	ck_assert_msg(r.status == 200 && o != NULL && strcmp(o, "green") == 0,
	    "pinned to a busy draining blue: %d from %s", r.status, o);
	ck_assert_msg(took < 500, "answered after %.0f ms: it waited", took);
	ck_assert_msg(sc != NULL && strstr(sc, cl->id[1]) != NULL,
	    "not re-pinned: %s", sc != NULL ? sc : "(none)");
	itest_resp_free(&r);
	itest_close(&c);
	itest_close(&slow);
	free(cl);
	itest_finish(&l.t);
}
END_TEST

/*
 * sticky_strip removes the sticky cookie from what the server gets, and
 * nothing else; without it the server sees the cookie.
 */
START_TEST(test_sticky_strip)
{
	struct lim	 l;
	char		 servers[128], origin[16], set[32], *log;
	int		 strip = _i;

	memset(&l, 0, sizeof(l));
	itest_init(&l.t);
	itest_origin_start_opts(&l.t, 0, "a", "-L Cookie");
	l.admin = itest_free_port();
	itest_sluice_port(&l.t);
	snprintf(servers, sizeof(servers), "server = 127.0.0.1:%d name=a\n",
	    l.t.origin[0].port);
	lim_sticky_config(&l, servers, strip ? "sticky_strip = on\n" : "");
	lim_launch(&l);
	lim_sticky_get(&l, NULL, origin, set, NULL, 0);
	ck_assert_str_ne(set, "");
	{
		char	c1[64], c2[64];

		snprintf(c1, sizeof(c1), "a=1; SLUICE_APP=%s; b=2", set);
		snprintf(c2, sizeof(c2), "SLUICE_APP=%s", set);
		lim_sticky_get(&l, c1, origin, set, NULL, 0);
		lim_sticky_get(&l, c2, origin, set, NULL, 0);
		ck_assert(itest_wait_lines(l.t.origin_log[0], 3, WAIT_MS));
		log = itest_read_file(l.t.origin_log[0], NULL);
		if (strip) {
			ck_assert_msg(strstr(log, " a=1;\\x20b=2\n") != NULL &&
			    strstr(log, "SLUICE_APP") == NULL, "log:\n%s",
			    log);
			/* nothing left: no Cookie header at all */
			ck_assert_int_eq(itest_count_file(l.t.origin_log[0],
			    " -\n"), 2);
		} else
			ck_assert_msg(strstr(log, c2) != NULL &&
			    itest_count_file(l.t.origin_log[0],
			    "SLUICE_APP") == 2, "log:\n%s", log);
		free(log);
	}
	itest_finish(&l.t);
}
END_TEST

/* --- header and cookie routes ------------------------------------------ */

#define ROUTE_REQUESTS	10000

/* One kind of request of test_routes and where it must go. */
static const struct {
	const char	*headers;
	int		 green;		/* before the reload */
} route_kinds[] = {
	{ "", 0 },
	{ "Cookie: preview=green\r\n", 1 },
	{ "X-Preview: 1\r\n", 1 },
	{ "Cookie: a=1; preview=green\r\nx-preview: 1\r\n", 1 },
	{ "Cookie: preview=blue\r\n", 0 },
	{ "X-Preview: 0\r\n", 0 },
	{ "Cookie: xpreview=green\r\n", 0 },
};

/* The routes: the plain one to to, the conditioned ones to other. */
static void
lim_routes_config(struct lim *l, const char *to, const char *other)
{
	lim_config(l, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "route = / %s\nroute = / %s cookie=preview:green\n"
	    "route = / %s header=X-Preview:1\n\n"
	    "[upstream blue]\nserver = 127.0.0.1:%d name=blue\n\n"
	    "[upstream green]\nserver = 127.0.0.1:%d name=green\n",
	    l->t.sluice.port, to, other, other, l->t.origin[0].port,
	    l->t.origin[1].port);
}

/*
 * Send request i of test_routes on c and return 1 when it reached green.
 */
static int
lim_route_one(struct itest_conn *c, int i)
{
	struct itest_resp	 r;
	const char		*o;
	char			 req[256];
	int			 green;

	snprintf(req, sizeof(req), "GET /bytes/1?i=%d HTTP/1.1\r\nHost: t\r\n"
	    "%s\r\n", i, route_kinds[i % 7].headers);
	itest_send_str(c, req);
	ck_assert_int_eq(itest_read_response(c, &r, 0, WAIT_MS), 0);
	o = itest_resp_header(&r, "X-Origin");
	ck_assert_msg(r.status == 200 && o != NULL, "request %d: %d", i,
	    r.status);
	green = strcmp(o, "green") == 0;
	itest_resp_free(&r);
	return green;
}

/*
 * 10,000 requests of seven kinds on one connection, none misrouted; a
 * reload that swaps the upstreams flips them from the next request on,
 * on the same connection.
 */
START_TEST(test_routes)
{
	struct itest_conn	 c;
	struct lim		 l;
	int			 i, wrong = 0;

	lim_init(&l, "blue", "green", NULL);
	lim_routes_config(&l, "blue", "green");
	lim_launch(&l);
	itest_connect(&c, l.t.sluice.port, WAIT_MS);
	for (i = 0; i < ROUTE_REQUESTS; i++)
		wrong += lim_route_one(&c, i) != route_kinds[i % 7].green;
	printf("routes with conditions: %d requests, %d misrouted\n",
	    ROUTE_REQUESTS, wrong);
	fflush(stdout);
	ck_assert_int_eq(wrong, 0);
	lim_routes_config(&l, "green", "blue");
	lim_reload(&l);
	for (i = 0; i < 70; i++)
		ck_assert_int_eq(lim_route_one(&c, i),
		    !route_kinds[i % 7].green);
	itest_close(&c);
	itest_finish(&l.t);
}
END_TEST

/* The suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("limits");
	TCase	*tc = tcase_create("queue");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_max_conns);
	tcase_add_test(tc, test_max_conns_checks);
	tcase_add_test(tc, test_queue_full);
	tcase_add_test(tc, test_queue_timeout);
	tcase_add_test(tc, test_queue_client_gone);
	tcase_add_test(tc, test_tunnel_slot);
	tcase_add_test(tc, test_queue_server_back);
	tcase_add_test(tc, test_queue_drain);
	tcase_add_loop_test(tc, test_queue_shutdown, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("sticky");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_sticky_drain, 0, 2);
	tcase_add_test(tc, test_sticky_removed);
	tcase_add_test(tc, test_sticky_limit);
	tcase_add_loop_test(tc, test_sticky_strip, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("routes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_routes);
	suite_add_tcase(s, tc);
	tc = tcase_create("backup");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backup);
	suite_add_tcase(s, tc);
	return s;
}
