/*
 * check_hardening: sluice under exhausting input (sluice.ini(5):
 * max_connections, max_headers, client_header_timeout,
 * client_body_timeout), with the real binary and real origins.
 *
 * Each test measures what sluice spends while an attacker or an unlucky
 * operator pushes: CPU seconds (from /proc/PID/stat), descriptors, error-log
 * lines, and what other clients still get, not only a status code.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <sys/socket.h>

#include <dirent.h>
#include <poll.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define WAIT_MS		10000
#define FLOOD		100		/* connections held open */
#define NOFILE		"64"		/* ulimit -n in the fd tests */

/* One test's world: origin a, sluice with an admin port. */
struct hard {
	struct itest	 t;
	int		 admin;
	char		 wrapper[256];	/* runs sluice under ulimit -n */
};

/* Origin a, the ports; no config yet. */
static void
hard_init(struct hard *h)
{
	memset(h, 0, sizeof(*h));
	itest_init(&h->t);
	/* under ASan, freed memory would stay in the quarantine and count */
	h->t.asan_extra = "quarantine_size_mb=1:"
	    "thread_local_quarantine_size_kb=64";
	itest_origin_start(&h->t, 0, "a");
	h->admin = itest_free_port();
	itest_sluice_port(&h->t);
}

/* Write the config: global lines (NULL: the harness's), [admin], rest. */
static void
hard_config(struct hard *h, const char *global, const char *fmt, ...)
{
	char	*rest = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	va_end(ap);
	itest_sluice_config(&h->t, global,
	    "[admin]\nlisten = 127.0.0.1:%d\n\n%s", h->admin, rest);
	free(rest);
}

/*
 * Launch sluice the way an operator with a small descriptor limit would:
 * through sh, after `ulimit -n NOFILE` (soft and hard, so sluice cannot
 * raise it).
 */
static void
hard_launch_limited(struct hard *h)
{
	char	 cwd[PATH_MAX], text[PATH_MAX + 128];

	ck_assert(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(h->wrapper, sizeof(h->wrapper), "%s/sluice-nofile.sh",
	    h->t.dir);
	snprintf(text, sizeof(text), "#!/bin/sh\nulimit -n " NOFILE
	    " || exit 99\nexec %s/%s \"$@\"\n", cwd, "sluice");
	itest_write_file(h->wrapper, text);
	ck_assert(chmod(h->wrapper, 0700) == 0);
	h->t.binary = h->wrapper;
	itest_sluice_launch(&h->t);
}

/* Descriptors process pid has open, -1 if unknown. */
static int
hard_fds(pid_t pid)
{
	char		 path[64];
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Open n connections to port (the kernel completes them all). */
static void
hard_flood(struct itest_conn *c, int n, int port)
{
	int	i;

	for (i = 0; i < n; i++)
		ck_assert_msg(itest_connect_try(&c[i], port, 2000) == 0,
		    "connection %d of %d to 127.0.0.1:%d failed", i + 1, n,
		    port);
}

/* Close n connections. */
static void
hard_unflood(struct itest_conn *c, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		itest_close(&c[i]);
}

/* GET path on c (kept alive): the status, -1 when nothing came. */
static int
hard_get_on(struct itest_conn *c, const char *path, int timeout_ms)
{
	struct itest_resp	 r;
	char			 req[256];
	int			 st;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    path);
	if (itest_send(c, req, strlen(req), 2000) == -1)
		return -1;
	itest_read_response(c, &r, 0, timeout_ms);
	st = r.status;
	itest_resp_free(&r);
	return st;
}

/* A GET of path on a new connection within timeout_ms: its status. */
static int
hard_get_new(int port, const char *path, int timeout_ms)
{
	struct itest_conn	 c;
	int			 st;

	if (itest_connect_try(&c, port, 2000) == -1)
		return -1;
	st = hard_get_on(&c, path, timeout_ms);
	itest_close(&c);
	return st;
}

/*
 * Out of descriptors: max_connections set far above what `ulimit -n 64`
 * allows, 100 connections held. accept(2) fails with EMFILE: sluice stops
 * accepting for a moment instead of retrying at once, so it stays near
 * idle and writes a line a second at most (libevent alone wrote 590,000
 * lines in 3 s and used a whole CPU); the admin endpoint answers (it
 * keeps a spare descriptor); a connection opened before keeps being
 * served; new ones are served once descriptors free.
 */
START_TEST(test_fd_exhausted)
{
	struct hard		 h;
	struct itest_conn	 keep, flood[FLOOD];
	double			 cpu0, cpu1, t0;
	int			 lines0, lines1, st, fds, i, workers;

	hard_init(&h);
	hard_config(&h, "max_connections = 1000\n",
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, h.t.origin[0].port);
	hard_launch_limited(&h);
	/* a client already served, its server connection pooled */
	itest_connect(&keep, h.t.sluice.port, 2000);
	ck_assert_int_eq(hard_get_on(&keep, "/bytes/10", WAIT_MS), 200);

	hard_flood(flood, FLOOD, h.t.sluice.port);
	itest_wait_log(h.t.error_log, "cannot accept: Too many open files",
	    WAIT_MS);
	fds = hard_fds(h.t.sluice.pid);
	lines0 = itest_count_lines(h.t.error_log);
	cpu0 = itest_cpu_s(h.t.sluice.pid);
	t0 = itest_now();
	for (i = 0; i < 10; i++) {	/* 2 s, /healthz every 200 ms */
		st = hard_get_new(h.admin, "/healthz", WAIT_MS);
		ck_assert_msg(st == 200, "/healthz %d of 10 at the descriptor "
		    "limit: %d", i + 1, st);
		itest_pause(200);
	}
	cpu1 = itest_cpu_s(h.t.sluice.pid);
	lines1 = itest_count_lines(h.t.error_log);
	printf("out of descriptors (ulimit -n " NOFILE ", %d held): sluice "
	    "has %d descriptors; %.2f s of CPU and %d error-log line(s) "
	    "in %.1f s; /healthz 10 of 10\n", FLOOD, fds, cpu1 - cpu0, lines1 - lines0,
	    itest_now() - t0);
	/* (one more may be the test runner's, inherited above the limit) */
	ck_assert_msg(fds >= 60, "sluice holds %d descriptors: not at its "
	    "limit of " NOFILE, fds);
	ck_assert_msg(cpu1 - cpu0 < 0.2, "%.2f s of CPU in %.1f s at the "
	    "descriptor limit: spinning on accept", cpu1 - cpu0,
	    itest_now() - t0);
	/* a line a second at most per listener (the admin's too) and worker */
	workers = getenv("SLUICE_TEST_WORKERS") != NULL ?
	    atoi(getenv("SLUICE_TEST_WORKERS")) : 1;
	ck_assert_msg(lines1 - lines0 <= 3 * (workers + 1), "%d error-log "
	    "lines in %.1f s "
	    "at the descriptor limit:\n%s", lines1 - lines0, itest_now() - t0,
	    itest_file_tail(h.t.error_log));
	ck_assert_int_eq(itest_count_file(h.t.sluice_out,
	    "Error from accept"), 0);

	/* the connection from before is still served (pooled upstream) */
	st = hard_get_on(&keep, "/bytes/10", WAIT_MS);
	ck_assert_msg(st == 200, "a connection open before the flood got "
	    "%d at the descriptor limit; sluice's log:\n%s", st,
	    itest_file_tail(h.t.error_log));

	/* descriptors free: new connections are served again */
	hard_unflood(flood, FLOOD);
	st = hard_get_new(h.t.sluice.port, "/bytes/10", WAIT_MS);
	ck_assert_msg(st == 200, "a new connection after the flood: %d", st);
	itest_close(&keep);
	itest_finish(&h.t);
}
END_TEST

/* The number that follows needle in path, -1 when absent. */
static long
hard_log_number(const char *path, const char *needle)
{
	char	*text = itest_read_file(path, NULL), *p;
	long	 v = -1;

	if (text != NULL && (p = strstr(text, needle)) != NULL)
		v = strtol(p + strlen(needle), NULL, 10);
	free(text);
	return v;
}

/*
 * The same descriptor limit with max_connections left at auto: sluice
 * keeps a reserve and takes half of the rest for clients (each may need
 * a server connection too), so it never runs out: the connections past
 * the limit wait in the kernel's queue (none is reset), the admin
 * endpoint answers throughout, and each waiting one is served as the
 * others close.
 */
START_TEST(test_fd_auto_limit)
{
	struct hard		 h;
	struct itest_conn	 flood[FLOOD];
	struct itest_resp	 r;
	double			 cpu0, cpu1;
	long long		 last;
	long			 max;
	int			 i, st, conns, fds, over;

	hard_init(&h);
	hard_config(&h, NULL,
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, h.t.origin[0].port);
	hard_launch_limited(&h);
	max = hard_log_number(h.t.error_log, "max_connections = auto is ");
	ck_assert_msg(max == 16, "max_connections = auto under ulimit -n "
	    NOFILE " is %ld, want (64 - 32 reserved) / 2 = 16", max);

	hard_flood(flood, FLOOD, h.t.sluice.port);
	/* each other worker may accept one more before it hears */
	over = getenv("SLUICE_TEST_WORKERS") != NULL ?
	    atoi(getenv("SLUICE_TEST_WORKERS")) - 1 : 0;
	if (!itest_wait_status_int(h.admin, NULL, "connections",
	    (long long)max, WAIT_MS, &last))
		ck_assert_msg(last > max && last <= max + over, "/status never "
		    "showed %ld connections (last %lld)", max, last);
	cpu0 = itest_cpu_s(h.t.sluice.pid);
	for (i = 0; i < 20; i++) {	/* 2 s of /healthz every 100 ms */
		ck_assert_int_eq(itest_get(h.admin, "/healthz", &r), 0);
		ck_assert_int_eq(r.status, 200);
		itest_resp_free(&r);
		itest_pause(100);
	}
	cpu1 = itest_cpu_s(h.t.sluice.pid);
	conns = (int)itest_admin_status_int(h.admin, NULL, "connections");
	fds = hard_fds(h.t.sluice.pid);
	printf("max_connections = auto (%ld) under ulimit -n " NOFILE
	    ", %d held: %d accepted, %d descriptors, %.2f s of CPU in 2 s, "
	    "/healthz 20 of 20\n", max, FLOOD, conns, fds, cpu1 - cpu0);
	ck_assert_msg(conns >= max && conns <= max + over, "%d connections "
	    "accepted under max_connections = %ld", conns, max);
	ck_assert_msg(cpu1 - cpu0 < 0.2, "%.2f s of CPU in 2 s at the "
	    "connection limit", cpu1 - cpu0);
	ck_assert_int_eq(itest_count_file(h.t.error_log, "cannot accept"), 0);

	/* every connection is served in turn: the first ones close */
	for (i = 0; i < FLOOD; i++) {
		st = hard_get_on(&flood[i], "/bytes/10", WAIT_MS);
		ck_assert_msg(st == 200, "connection %d of %d got %d", i + 1,
		    FLOOD, st);
		itest_close(&flood[i]);
	}
	itest_finish(&h.t);
}
END_TEST

/* Other workers, each of which may accept one more before it hears. */
static int
hard_over(void)
{
	const char	*w = getenv("SLUICE_TEST_WORKERS");

	return w != NULL && atoi(w) > 1 ? atoi(w) - 1 : 0;
}

/*
 * Open n connections to port, each sending a GET of path: how many are
 * answered within 500 ms (the others wait, unanswered and neither closed
 * nor reset, or the test fails); served[] says which.
 */
static int
hard_extra(struct itest_conn *c, int *served, int n, int port,
    const char *path)
{
	struct itest_resp	 r;
	char			 req[128];
	int			 i, got = 0;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    path);
	for (i = 0; i < n; i++) {
		itest_connect(&c[i], port, 2000);
		itest_send_str(&c[i], req);
	}
	for (i = 0; i < n; i++) {
		served[i] = itest_read_response(&c[i], &r, 0, 500) == 0 &&
		    r.status == 200;
		ck_assert_msg(served[i] || (r.timeout && !r.reset && !r.eof),
		    "a connection past max_connections was closed or reset");
		got += served[i];
		itest_resp_free(&r);
	}
	return got;
}

/*
 * max_connections of the process (5) and of one listener (3), each
 * reached in turn: accepting pauses (the kernel holds the connection; a
 * request on it waits, unanswered and not reset) and resumes as soon as
 * a connection closes. With several workers, each other one may accept
 * one more before it hears of the limit (sluice.ini(5)), never more.
 * /status and /metrics show both.
 */
START_TEST(test_max_connections)
{
	struct hard		 h;
	struct itest_conn	 a[3], b[2], xa[8], xb[8];
	struct itest_resp	 r;
	char			*json, *metrics, want[128];
	int			 other = itest_free_port(), i, st, over;
	int			 sa[8], sb[8], ga, gb, nx;

	over = hard_over();
	nx = over + 1;
	ck_assert_int_le(nx, 8);
	hard_init(&h);
	hard_config(&h, "max_connections = 5\n",
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_connections = 3\n\n"
	    "[listener other]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, other, h.t.origin[0].port);
	itest_sluice_launch(&h.t);

	for (i = 0; i < 3; i++) {
		itest_connect(&a[i], h.t.sluice.port, 2000);
		ck_assert_int_eq(hard_get_on(&a[i], "/bytes/1", WAIT_MS), 200);
	}
	/* the listener's own limit: one more (per other worker) at most */
	ga = hard_extra(xa, sa, nx, h.t.sluice.port, "/bytes/2");
	ck_assert_msg(ga <= over, "%d of %d connections past a listener's "
	    "max_connections = 3 were served (%d workers)", ga, nx, over + 1);
	/* the other listener is not limited by it */
	for (i = 0; i < 2; i++) {
		itest_connect(&b[i], other, 2000);
		ck_assert_int_eq(hard_get_on(&b[i], "/bytes/1", WAIT_MS), 200);
	}
	/* 5 in all (or more, by the race above): the global limit */
	gb = hard_extra(xb, sb, nx, other, "/bytes/3");
	ck_assert_msg(ga + gb <= over, "%d connections past max_connections "
	    "= 5 were served (%d workers)", ga + gb, over + 1);

	json = itest_admin_status(h.admin);
	ck_assert_msg(itest_json_int(json, "connections") == 5 + ga + gb &&
	    itest_json_int(json, "max_connections") == 5 &&
	    itest_json_int(strstr(json, "{\"name\":\"web\","),
	    "connections") == 3 + ga && itest_json_int(strstr(json,
	    "{\"name\":\"web\","), "max_connections") == 3 &&
	    itest_json_int(strstr(json, "{\"name\":\"other\","),
	    "connections") == 2 + gb, "/status at the limits: %s", json);
	free(json);
	ck_assert_int_eq(itest_admin_request(h.admin, "GET", "/metrics", NULL,
	    &r), 0);
	metrics = (char *)r.body;
	snprintf(want, sizeof(want), "\nsluice_connections %d\n", 5 + ga + gb);
	ck_assert_msg(strstr(metrics, want) != NULL, "no \"%s\"", want + 1);
	snprintf(want, sizeof(want), "\nsluice_connections{listener=\"web\"} "
	    "%d\n", 3 + ga);
	ck_assert_msg(strstr(metrics, want) != NULL, "no \"%s\"", want + 1);
	ck_assert(strstr(metrics, "\nsluice_connections_max 5\n") != NULL);
	ck_assert(strstr(metrics,
	    "\nsluice_connections_max{listener=\"web\"} 3\n") != NULL);
	ck_assert(strstr(metrics, "sluice_connections_max{listener=\"other\""
	    ) == NULL);
	itest_resp_free(&r);

	/* connections close: every waiting one is served, once */
	itest_close(&b[0]);
	itest_close(&b[1]);
	itest_close(&a[0]);
	itest_close(&a[1]);
	for (i = 0; i < nx; i++) {
		if (!sa[i]) {
			ck_assert_int_eq(itest_read_response(&xa[i], &r, 0,
			    WAIT_MS), 0);
			st = r.status;
			itest_resp_free(&r);
			ck_assert_int_eq(st, 200);
		}
		if (!sb[i]) {
			ck_assert_int_eq(itest_read_response(&xb[i], &r, 0,
			    WAIT_MS), 0);
			st = r.status;
			itest_resp_free(&r);
			ck_assert_int_eq(st, 200);
		}
		itest_close(&xa[i]);
		itest_close(&xb[i]);
	}
	ck_assert_int_eq(itest_wait_lines_with(h.t.access_log,
	    "GET /bytes/2 ", " 200 ", nx, WAIT_MS), nx);
	ck_assert_int_eq(itest_wait_lines_with(h.t.access_log,
	    "GET /bytes/3 ", " 200 ", nx, WAIT_MS), nx);
	itest_close(&a[2]);
	itest_finish(&h.t);
}
END_TEST

/* A GET of /bytes/5 with n header lines (Host and n - 1 others). */
static char *
hard_many_headers(int n)
{
	size_t	 cap = (size_t)n * 16 + 64, len;
	char	*req = malloc(cap);
	int	 i;

	ck_assert_ptr_nonnull(req);
	len = (size_t)snprintf(req, cap, "GET /bytes/5 HTTP/1.1\r\n"
	    "Host: x\r\n");
	for (i = 1; i < n; i++)
		len += (size_t)snprintf(req + len, cap - len, "X%05d: v\r\n",
		    i);
	snprintf(req + len, cap - len, "\r\n");
	return req;
}

/* One request with n header lines: its status, and sluice's CPU for it. */
static int
hard_headers_cost(struct hard *h, int n, double *cpu)
{
	struct itest_resp	 r;
	char			*req = hard_many_headers(n);
	double			 c0 = itest_cpu_s(h->t.sluice.pid);
	int			 st;

	itest_request(h->t.sluice.port, req, &r);
	*cpu = itest_cpu_s(h->t.sluice.pid) - c0;
	st = r.status;
	itest_resp_free(&r);
	free(req);
	return st;
}

/*
 * max_headers: a request with more header lines gets 431 and never
 * reaches the server; one with as many is forwarded. Header handling is
 * linear in the head: 10,000 lines (allowed by max_headers = 10000) cost
 * well under a tenth of a second (the forwarding copy used to rescan
 * every header for Connection per header: 20,000 lines, 1.5 s).
 */
START_TEST(test_max_headers)
{
	struct hard	 h;
	double		 cpu_def, cpu_big, cpu_10k;
	int		 st, big;

	hard_init(&h);
	big = itest_free_port();
	hard_config(&h, NULL,
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_header_size = 1m\n\n"
	    "[listener big]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_header_size = 1m\nmax_headers = 10000\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, big, h.t.origin[0].port);
	itest_sluice_launch(&h.t);

	ck_assert_int_eq(hard_headers_cost(&h, 100, &cpu_def), 200);
	st = hard_headers_cost(&h, 101, &cpu_def);
	ck_assert_msg(st == 431, "101 header lines, max_headers 100: %d", st);
	st = hard_headers_cost(&h, 20000, &cpu_def);
	ck_assert_msg(st == 431, "20,000 header lines: %d", st);
	ck_assert_int_eq(itest_wait_lines_with(h.t.error_log,
	    "bad request: 20000 header lines (max_headers 100)", NULL, 1,
	    WAIT_MS), 1);
	/* the origin saw only the first one */
	ck_assert_int_eq(itest_wait_lines(h.t.origin_log[0], 1, WAIT_MS), 1);
	ck_assert_int_eq(itest_count_lines(h.t.origin_log[0]), 1);

	h.t.sluice.port = big;
	st = hard_headers_cost(&h, 10000, &cpu_10k);
	ck_assert_msg(st == 200, "10,000 header lines, max_headers 10000: "
	    "%d", st);
	st = hard_headers_cost(&h, 10001, &cpu_big);
	ck_assert_int_eq(st, 431);
	printf("max_headers: 20,000 lines refused (431) for %.3f s of CPU; "
	    "10,000 forwarded for %.3f s\n", cpu_def, cpu_10k);
	ck_assert_msg(cpu_def < 0.1 && cpu_10k < 0.1, "header handling is "
	    "not linear: %.3f s for 20,000 lines refused, %.3f s for 10,000 "
	    "forwarded", cpu_def, cpu_10k);
	itest_finish(&h.t);
}
END_TEST

#define DRIP		500		/* slow connections, half of each */
#define DRIP_TICK_MS	250

/* One drip-feeding client: what it sent, when it was closed. */
struct drip {
	struct itest_conn	 c;
	const char		*text;		/* what it sends, a byte a tick */
	size_t			 sent;
	double			 t_deadline;	/* when its deadline started */
	double			 t_closed;	/* 0: still open */
	int			 got_408;
	char			 buf[512];
	size_t			 have;
};

/* Read what came on d; note the end. */
static void
drip_poll(struct drip *d)
{
	struct pollfd	pfd = { d->c.fd, POLLIN, 0 };
	ssize_t		n;

	while (d->t_closed == 0 && poll(&pfd, 1, 0) == 1) {
		n = read(d->c.fd, d->buf + d->have, sizeof(d->buf) - 1 -
		    d->have);
		if (n > 0) {
			d->have += (size_t)n;
			d->buf[d->have] = '\0';
			if (strncmp(d->buf, "HTTP/1.1 408 ", 13) == 0)
				d->got_408 = 1;
		}
		if (n <= 0 || d->have == sizeof(d->buf) - 1) {
			d->t_closed = itest_now();
			break;
		}
	}
}

/*
 * client_header_timeout and client_body_timeout are totals, not the time
 * between two reads: 500 clients send heads (250) and bodies (250) a byte
 * every 250 ms, which client_timeout = 5s never ends, while a normal
 * client keeps asking. Every slow one gets 408 and is closed within its
 * 2 s deadline plus a margin; the normal client loses nothing; memory
 * stays bounded. A keep-alive connection idle longer than the head
 * deadline before its next request is not cut: the deadline starts at a
 * head's first byte.
 */
START_TEST(test_slow_requests)
{
	static const char	 head[] = "GET /bytes/1 HTTP/1.1\r\nHost: x\r\n"
				    "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	static const char	 body[] = "0123456789012345678901234567890123456"
				    "789012345678901234567890123456789";
	struct hard		 h;
	struct drip		*d = calloc(DRIP, sizeof(*d));
	struct itest_conn	 idle;
	char			 req[256];
	double			 t0, worst = 0, late;
	long			 rss0, rss1;
	int			 i, tick, normal = 0, normal_ok = 0, open;
	int			 closed = 0, got = 0;

	ck_assert_ptr_nonnull(d);
	hard_init(&h);
	hard_config(&h, NULL,
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "client_timeout = 5s\nclient_header_timeout = 2s\n"
	    "client_body_timeout = 2s\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, h.t.origin[0].port);
	itest_sluice_launch(&h.t);
	itest_connect(&idle, h.t.sluice.port, 2000);
	ck_assert_int_eq(hard_get_on(&idle, "/bytes/1", WAIT_MS), 200);
	rss0 = itest_rss_kb(h.t.sluice.pid);

	snprintf(req, sizeof(req), "POST /bytes/1 HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %zu\r\n\r\n", sizeof(body) - 1);
	t0 = itest_now();
	for (i = 0; i < DRIP; i++) {
		ck_assert_int_eq(itest_connect_try(&d[i].c, h.t.sluice.port,
		    2000), 0);
		if (i % 2 == 0) {
			d[i].text = head;	/* a byte at a time from now */
		} else {			/* the head at once, then drip */
			itest_send_str(&d[i].c, req);
			d[i].text = body;
			d[i].t_deadline = itest_now();
		}
	}
	for (tick = 0; tick < 40; tick++) {	/* 10 s at most */
		for (i = open = 0; i < DRIP; i++) {
			drip_poll(&d[i]);
			if (d[i].t_closed != 0)
				continue;
			open++;
			if (d[i].text[d[i].sent] == '\0')
				continue;
			if (d[i].sent == 0 && d[i].text == head)
				d[i].t_deadline = itest_now();
			if (send(d[i].c.fd, d[i].text + d[i].sent, 1,
			    MSG_NOSIGNAL) == 1)
				d[i].sent++;
		}
		normal++;
		if (hard_get_new(h.t.sluice.port, "/bytes/5", WAIT_MS) == 200)
			normal_ok++;
		if (open == 0)
			break;
		itest_pause(DRIP_TICK_MS);
	}
	rss1 = itest_rss_kb(h.t.sluice.pid);
	for (i = 0; i < DRIP; i++) {
		if (d[i].t_closed != 0) {
			closed++;
			late = d[i].t_closed - d[i].t_deadline;
			if (late > worst)
				worst = late;
		}
		got += d[i].got_408;
		itest_close(&d[i].c);
	}
	printf("slow requests: %d of %d drip-feeding clients closed (%d with "
	    "408), the last %.2f s after its deadline started (2 s); normal "
	    "client %d of %d ok; RSS %ld -> %ld KiB; %.1f s in all\n",
	    closed, DRIP, got, worst, normal_ok, normal, rss0, rss1,
	    itest_now() - t0);
	fflush(stdout);
	ck_assert_int_eq(closed, DRIP);
	ck_assert_int_eq(got, DRIP);
	ck_assert_msg(worst < 2.0 + 1.0, "a slow client was closed %.2f s "
	    "after its deadline started (2 s)", worst);
	ck_assert_int_eq(normal_ok, normal);
	ck_assert_msg(rss1 - rss0 < 16 * 1024, "RSS grew by %ld KiB",
	    rss1 - rss0);
	/* the origin never saw a slow request */
	ck_assert_int_eq(itest_lines_with(h.t.origin_log[0], "POST", NULL), 0);
	/* idle longer than the head deadline, then a request: served */
	ck_assert_int_eq(hard_get_on(&idle, "/bytes/2", WAIT_MS), 200);
	itest_close(&idle);
	free(d);
	itest_finish(&h.t);
}
END_TEST

/*
 * Send the same len bytes of p to c until total is sent or the peer stops
 * taking them (for block_ms) or closes: the bytes sent.
 */
static size_t
hard_pour(struct itest_conn *c, const char *p, size_t len, size_t total,
    int block_ms)
{
	struct pollfd	pfd = { c->fd, POLLOUT, 0 };
	size_t		sent = 0;
	ssize_t		n;

	while (sent < total) {
		if (poll(&pfd, 1, block_ms) != 1 || !(pfd.revents & POLLOUT))
			break;
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	return sent;
}

/*
 * Unbounded input before dispatch: a chunk-size line that never ends
 * (max_body_size = 1k: evhttp used to buffer all 32 MiB sent and rescan
 * them, 4.8 s of CPU, no answer), and requests pipelined behind ones
 * sluice answers itself (404) from a client that reads nothing (64 MiB:
 * RSS +65 MiB). Now the first is refused with 413 and closed once the
 * unparsed input passes max_header_size + max_body_size + 16k, the
 * second stops being read: RSS and CPU stay small.
 */
START_TEST(test_unbounded_input)
{
	static char		 ones[65536], pipe_req[65536];
	static const char	 head[] = "POST /bytes/1 HTTP/1.1\r\nHost: x\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n";
	static const char	 one[] = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
	struct hard		 h;
	struct itest_conn	 c;
	struct itest_resp	 r;
	double			 cpu0, cpu1, cpu2, mib;
	long			 rss0, rss1, rss2;
	size_t			 sent, piped, i;
	int			 tiny = itest_free_port(), own = itest_free_port();

	memset(ones, '1', sizeof(ones));
	for (i = 0; i + sizeof(one) - 1 <= sizeof(pipe_req);
	    i += sizeof(one) - 1)
		memcpy(pipe_req + i, one, sizeof(one) - 1);
	hard_init(&h);
	hard_config(&h, NULL,
	    "[listener tiny]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_body_size = 1k\n\n"
	    "[listener own]\nlisten = 127.0.0.1:%d\nroute = /api/ app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    tiny, own, h.t.origin[0].port);
	itest_sluice_launch(&h.t);
	rss0 = itest_rss_kb(h.t.sluice.pid);
	cpu0 = itest_cpu_s(h.t.sluice.pid);

	itest_connect(&c, tiny, 2000);
	itest_send_str(&c, head);
	sent = hard_pour(&c, ones, sizeof(ones), 32 << 20, 2000);
	itest_wait_log(h.t.error_log, "unparsed bytes, more than "
	    "max_header_size + max_body_size allow: 413 and closed", WAIT_MS);
	/* the 413, then the close (a reset may overtake the answer) */
	itest_read_response(&c, &r, 0, WAIT_MS);
	ck_assert_msg(r.status == 413 || r.reset, "an endless chunk-size line "
	    "got %d (eof %d)", r.status, r.eof);
	itest_resp_free(&r);
	ck_assert_int_eq(itest_wait_closed(&c, WAIT_MS), 1);
	itest_close(&c);
	cpu1 = itest_cpu_s(h.t.sluice.pid);
	rss1 = itest_rss_kb(h.t.sluice.pid);

	itest_connect(&c, own, 2000);
	i = (sizeof(pipe_req) / (sizeof(one) - 1)) * (sizeof(one) - 1);
	piped = hard_pour(&c, pipe_req, i, 64 << 20, 1000);
	cpu2 = itest_cpu_s(h.t.sluice.pid);
	rss2 = itest_rss_kb(h.t.sluice.pid);
	itest_close(&c);
	printf("unbounded input: an endless chunk-size line (max_body_size "
	    "1k) closed after %zu KiB sent, %.2f s of CPU, RSS %+ld KiB; "
	    "pipelined 404s unread: taken %zu KiB of 64 MiB, %.2f s of CPU, "
	    "RSS %+ld KiB\n", sent >> 10, cpu1 - cpu0, rss1 - rss0,
	    piped >> 10, cpu2 - cpu1, rss2 - rss1);
	ck_assert_msg(sent < (8u << 20), "%zu bytes of an endless chunk-size "
	    "line were taken", sent);
	ck_assert_msg(piped < (16u << 20), "%zu bytes of pipelined requests "
	    "were taken from a client that reads nothing", piped);
	/* what each costs: the line nothing, the pipelined requests what
	 * answering the ones taken costs (measured 0.07 s a MiB, 0.18 under
	 * AddressSanitizer, 0.22 with a soak beside it) */
	ck_assert_msg(cpu1 - cpu0 < 0.5, "%.2f s of CPU for an endless "
	    "chunk-size line", cpu1 - cpu0);
	mib = (double)piped / (1 << 20);
	ck_assert_msg(cpu2 - cpu1 < 0.5 * (mib > 1 ? mib : 1), "%.2f s of "
	    "CPU for %.1f MiB of pipelined requests taken", cpu2 - cpu1, mib);
	ck_assert_msg(rss2 - rss0 < 8 * 1024, "RSS grew by %ld KiB",
	    rss2 - rss0);
	/* the server never saw either */
	ck_assert_int_eq(itest_count_lines(h.t.origin_log[0]), 0);
	itest_finish(&h.t);
}
END_TEST

#define UPLOADS		12
#define UPLOAD_LEN	(512 * 1024)

/* sluice_request_body_bytes_buffered (or another unlabelled sample). */
static long long
hard_metric(int admin, const char *name)
{
	struct itest_resp	 r;
	char			 pat[128], *p;
	long long		 v = -1;

	if (itest_admin_request(admin, "GET", "/metrics", NULL, &r) == 0) {
		snprintf(pat, sizeof(pat), "\n%s ", name);
		if ((p = strstr((char *)r.body, pat)) != NULL)
			v = strtoll(p + strlen(pat), NULL, 10);
	}
	itest_resp_free(&r);
	return v;
}

/*
 * max_buffered_bodies: twelve clients upload 512 KiB each at once under a
 * budget of 1 MiB. evhttp reads a whole body before sluice sees it, so
 * without the budget all 6 MiB sit in memory together. With it, the
 * connections past the budget are not read until earlier bodies are
 * answered: the bytes held never pass the budget by more than a read per
 * connection, RSS stays bounded, and every upload arrives whole (the
 * origin's SHA-256 of each body).
 */
START_TEST(test_buffered_bodies)
{
	struct hard		 h;
	struct itest_conn	 c[UPLOADS];
	struct itest_resp	 r;
	unsigned char		*body = malloc(UPLOAD_LEN);
	size_t			 sent[UPLOADS];
	char			 head[256], hex[65];
	long long		 held, peak = 0, waits;
	long			 rss0, rss1;
	double			 deadline;
	int			 i, left, ok = 0;

	ck_assert_ptr_nonnull(body);
	itest_random_fill(body, UPLOAD_LEN, 16);
	itest_sha256_hex(body, UPLOAD_LEN, hex);
	hard_init(&h);
	hard_config(&h, "max_buffered_bodies = 1m\n",
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_body_size = 512k\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    h.t.sluice.port, h.t.origin[0].port);
	itest_sluice_launch(&h.t);
	rss0 = itest_rss_kb(h.t.sluice.pid);
	snprintf(head, sizeof(head), "POST /sha HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %d\r\n\r\n", UPLOAD_LEN);
	for (i = 0; i < UPLOADS; i++) {
		itest_connect(&c[i], h.t.sluice.port, 2000);
		itest_send_str(&c[i], head);
		sent[i] = 0;
	}
	deadline = itest_now() + 20;
	do {
		for (i = left = 0; i < UPLOADS; i++) {
			ssize_t	n;

			if (sent[i] == UPLOAD_LEN)
				continue;
			left++;
			n = send(c[i].fd, body + sent[i], UPLOAD_LEN -
			    sent[i] < 16384 ? UPLOAD_LEN - sent[i] : 16384,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent[i] += (size_t)n;
		}
		if ((held = hard_metric(h.admin,
		    "sluice_request_body_bytes_buffered")) > peak)
			peak = held;
		itest_pause(10);
	} while (left > 0 && itest_now() < deadline);
	ck_assert_msg(left == 0, "%d uploads could not be sent in 20 s", left);
	for (i = 0; i < UPLOADS; i++) {
		if (itest_read_response(&c[i], &r, 0, WAIT_MS) == 0 &&
		    r.status == 200 && r.bodylen == 64 &&
		    memcmp(r.body, hex, 64) == 0)
			ok++;
		itest_resp_free(&r);
		itest_close(&c[i]);
	}
	rss1 = itest_rss_kb(h.t.sluice.pid);
	waits = hard_metric(h.admin, "sluice_request_body_waits_total");
	printf("max_buffered_bodies 1m: %d uploads of 512 KiB, %d arrived "
	    "whole; at most %lld KiB held at once, %lld waits; RSS %ld -> %ld "
	    "KiB\n", UPLOADS, ok, peak >> 10, waits, rss0, rss1);
	ck_assert_int_eq(ok, UPLOADS);
	/* the budget, a body per worker let in over it, a read each */
	ck_assert_msg(peak <= (1 << 20) + (hard_over() + 1) * UPLOAD_LEN +
	    UPLOADS * 65536, "%lld bytes held under a budget of 1 MiB", peak);
	ck_assert_msg(waits > 0, "no connection waited for the budget");
	ck_assert_msg(rss1 - rss0 < 6 * 1024, "RSS grew by %ld KiB for 6 MiB "
	    "of uploads under a 1 MiB budget", rss1 - rss0);
	ck_assert_int_eq(hard_metric(h.admin,
	    "sluice_request_body_bytes_buffered"), 0);
	free(body);
	itest_finish(&h.t);
}
END_TEST

Suite *
check_suite(void)
{
	Suite	*s = suite_create("hardening");
	TCase	*fd = tcase_create("descriptors");
	TCase	*lim = tcase_create("connections");

	tcase_set_timeout(fd, 60);
	tcase_add_test(fd, test_fd_exhausted);
	tcase_add_test(fd, test_fd_auto_limit);
	suite_add_tcase(s, fd);
	tcase_set_timeout(lim, 60);
	tcase_add_test(lim, test_max_connections);
	tcase_add_test(lim, test_max_headers);
	tcase_add_test(lim, test_slow_requests);
	tcase_add_test(lim, test_unbounded_input);
	tcase_add_test(lim, test_buffered_bodies);
	suite_add_tcase(s, lim);
	return s;
}
