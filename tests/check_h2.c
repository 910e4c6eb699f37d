/*
 * check_h2: HTTP/2 to clients on a TLS listener (issue 19), with the real
 * sluice and origin and Debian's HTTP/2 clients (curl, nghttp, h2load):
 * bodies byte-exact both ways, headers and cookies as the origin gets
 * them, errors per stream on a connection that survives, many streams on
 * one connection, a load with no error, the two GOAWAYs of a shutdown on
 * busy and idle connections, and http2 = off.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_main.h"
#include "tests/itest.h"

static char	h2_certdir[64];

static const char h2_gen_script[] =
	"ca ca '/CN=sluice test CA'\n"
	"leaf a /CN=a.test DNS:a.test 30 ca\n";

static void
h2_certs_make(void)
{
	itest_certs_make("check_h2", h2_gen_script, h2_certdir,
	    sizeof(h2_certdir));
}

static void
h2_certs_remove(void)
{
	itest_certs_remove("check_h2", h2_certdir);
}

/*
 * Origin "a" and sluice with a TLS listener offering h2, more listener
 * lines extra, global lines global (NULL: the harness's).
 */
static void
h2_start(struct itest *t, const char *extra, const char *global)
{
	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_sluice_port(t);
	itest_sluice_config(t, global, "[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\n%s"
	    "tls_certificate = %s/a.pem %s/a.key\n%s\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    t->sluice.port, strstr(extra, "http2 =") != NULL ? "" :
	    "http2 = on\n", h2_certdir, h2_certdir, extra, t->origin[0].port);
	itest_sluice_launch(t);
}

/* Run a shell command line; its status, its output in *out. */
static int
h2_sh(char **out, int timeout_ms, const char *fmt, ...)
{
	char	 sh[] = "/bin/sh", dashc[] = "-c";
	char	*cmd, *argv[4];
	va_list	 ap;
	int	 st;

	va_start(ap, fmt);
	ck_assert(vasprintf(&cmd, fmt, ap) != -1);
	va_end(ap);
	argv[0] = sh;
	argv[1] = dashc;
	argv[2] = cmd;
	argv[3] = NULL;
	st = itest_run(argv, out, timeout_ms);
	free(cmd);
	return st;
}

/* The last 1500 bytes of s: check's messages are bounded. */
static const char *
h2_tail(const char *s)
{
	size_t	n = s != NULL ? strlen(s) : 0;

	return s == NULL ? "(nothing)" : n > 1500 ? s + n - 1500 : s;
}

/* GET and POST bodies byte-exact up to 8 MiB; what the origin is sent. */
START_TEST(test_bodies)
{
	struct itest	 t;
	char		*out, path[256];
	const char	*sizes[] = { "0", "1", "16384", "1048576", "8388608" };
	size_t		 i;
	int		 st;

	h2_start(&t, "", NULL);
	snprintf(path, sizeof(path), "%s/body", t.dir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* POST: the origin's SHA-256 of what it got is the file's */
		st = h2_sh(&out, 30000, "head -c %s /dev/urandom > %s && "
		    "a=$(sha256sum < %s | cut -c1-64) && "
		    "b=$(curl -sSk --http2 --data-binary @%s "
		    "-w ' %%{http_version}' https://127.0.0.1:%d/sha) && "
		    "echo \"$a $b\"", sizes[i], path, path, path,
		    t.sluice.port);
		ck_assert_msg(st == 0, "POST %s: %s", sizes[i], h2_tail(out));
		ck_assert_msg(strlen(out) > 130 && strncmp(out, out + 65, 64)
		    == 0 && strstr(out, " 2\n") != NULL,
		    "POST %s bytes: sha and HTTP version: %s", sizes[i], h2_tail(out));
		free(out);
		/* GET: the origin's pattern, byte for byte, as over HTTP/1.1 */
		st = h2_sh(&out, 30000, "a=$(curl -sSk --http2 "
		    "https://127.0.0.1:%d/bytes/%s | sha256sum) && "
		    "b=$(curl -sSk --http1.1 https://127.0.0.1:%d/bytes/%s | "
		    "sha256sum) && n=$(curl -sSk --http2 -o /dev/null -w "
		    "'%%{size_download} %%{http_version}' "
		    "https://127.0.0.1:%d/bytes/%s) && echo \"$a|$b|$n\"",
		    t.sluice.port, sizes[i], t.sluice.port, sizes[i],
		    t.sluice.port, sizes[i]);
		ck_assert_msg(st == 0, "GET %s: %s", sizes[i], h2_tail(out));
		ck_assert_msg(strncmp(out, strchr(out, '|') + 1, 64) == 0,
		    "GET %s: HTTP/2 and HTTP/1.1 bodies differ: %s", sizes[i],
		    out);
		ck_assert_msg(strtoull(strrchr(out, '|') + 1, NULL, 10) ==
		    strtoull(sizes[i], NULL, 10) && strstr(out, " 2\n"),
		    "GET %s: size and version: %s", sizes[i], h2_tail(out));
		free(out);
	}
	printf("h2 bodies: GET and POST of 0 B to 8 MiB byte-exact\n");
	itest_finish(&t);
}
END_TEST

/* What the origin receives: the request line, Host, cookies joined. */
START_TEST(test_headers)
{
	struct itest	 t;
	char		*out;
	int		 st;

	h2_start(&t, "", NULL);
	st = h2_sh(&out, 10000, "nghttp -H 'cookie: a=1' -H 'cookie: b=2' "
	    "-H 'x-one: 1' https://127.0.0.1:%d/echo?q=1", t.sluice.port);
	ck_assert_msg(st == 0, "nghttp: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "GET /echo?q=1 HTTP/1.1\r\n") != NULL,
	    "request line: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "Cookie: a=1; b=2\r\n") != NULL,
	    "cookie crumbs joined with \"; \" (RFC 9113 8.2.3): %s", out);
	ck_assert_msg(strstr(out, "Host: 127.0.0.1:") != NULL,
	    "Host from :authority: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "x-one: 1\r\n") != NULL, "x-one: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "Via: 2 sluice") != NULL, "Via: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "X-Forwarded-Proto: https") != NULL,
	    "X-Forwarded-Proto: %s", h2_tail(out));
	free(out);
	/* a connection-specific field is refused (RFC 9113 8.2.2) and
	 * never reaches the origin */
	st = h2_sh(&out, 10000, "nghttp -v -H 'connection: close' "
	    "https://127.0.0.1:%d/echo?refused", t.sluice.port);
	ck_assert_msg(strstr(out, "RST_STREAM") != NULL ||
	    strstr(out, ":status: 400") != NULL,
	    "connection: close refused: %s", h2_tail(out));
	ck_assert_msg(itest_count_file(t.origin_log[0], "refused") == 0,
	    "the refused request reached the origin");
	free(out);
	itest_finish(&t);
}
END_TEST

/* Errors per stream on one connection: 502, 503, 404; it survives. */
START_TEST(test_errors)
{
	struct itest	 t;
	char		*out;
	int		 st;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /down down strip\nroute = /slow slow strip\n"
	    "http2 = on\ntls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "[upstream down]\nserver = 127.0.0.1:%d\n"
	    "[upstream slow]\nserver = 127.0.0.1:%d\nread_timeout = 300ms\n",
	    t.sluice.port, h2_certdir, h2_certdir, t.origin[0].port,
	    itest_free_port(), t.origin[0].port);
	/* one connection, in this order: each answer its own */
	st = h2_sh(&out, 20000, "nghttp -v "
	    "https://127.0.0.1:%d/status/502 https://127.0.0.1:%d/down/x "
	    "https://127.0.0.1:%d/slow/delay/2000 "
	    "https://127.0.0.1:%d/bytes/5", t.sluice.port, t.sluice.port,
	    t.sluice.port, t.sluice.port);
	ck_assert_msg(st == 0, "nghttp: %s", h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 502") != NULL &&
	    strstr(strstr(out, ":status: 502") + 1, ":status: 502") != NULL,
	    "502 from the origin and for the refused connect: %s",
	    h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 504") != NULL,
	    "504 for the read timeout: %s", h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 200") != NULL,
	    "the connection served the last stream: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "recv GOAWAY") == NULL, "no GOAWAY: %s", h2_tail(out));
	free(out);
	itest_finish(&t);
}
END_TEST

/* 100 streams at once on one connection; then h2load with no error. */
START_TEST(test_load)
{
	struct itest	 t;
	char		*out;
	int		 st;

	h2_start(&t, "http2_max_concurrent_streams = 100\n", NULL);
	st = h2_sh(&out, 30000, "h2load -n 1000 -c 1 -m 100 "
	    "https://127.0.0.1:%d/delay/20", t.sluice.port);
	ck_assert_msg(st == 0 && strstr(out, "1000 succeeded, 0 failed, "
	    "0 errored, 0 timeout") != NULL, "100 streams: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "Application protocol: h2") != NULL,
	    "h2: %s", h2_tail(out));
	free(out);
	st = h2_sh(&out, 120000, "h2load -n 100000 -c 100 -m 10 "
	    "https://127.0.0.1:%d/bytes/100", t.sluice.port);
	ck_assert_msg(st == 0 && strstr(out, "100000 succeeded, 0 failed, "
	    "0 errored, 0 timeout") != NULL, "h2load: %s", h2_tail(out));
	printf("h2load -n 100000 -c 100 -m 10: %s", strstr(out,
	    "finished in"));
	free(out);
	itest_finish(&t);
}
END_TEST

/* Where the hex dump s holds a GOAWAY frame with last stream id last
 * (8 hex digits) and NO_ERROR; NULL: nowhere. */
static const char *
h2_hex_goaway(const char *s, const char *last)
{
	char	frame[64];

	snprintf(frame, sizeof(frame), "000008070000000000%s00000000", last);
	return strstr(s, frame);
}

/* The shutdown's two GOAWAYs, in order, on a busy and an idle connection;
 * the busy stream completes. */
START_TEST(test_goaway)
{
	struct itest	 t;
	char		 busy[256], idle[256];
	char		*b, *i, *g1, *g2;
	int		 st;

	h2_start(&t, "", "shutdown_timeout = 10s\ndrain_notice = 0s\n");
	snprintf(busy, sizeof(busy), "%s/busy.out", t.dir);
	snprintf(idle, sizeof(idle), "%s/idle.bin", t.dir);
	/* busy: one stream of 1.5 s; idle: the preface and SETTINGS, no
	 * stream, held open 4 s (what it receives is kept raw) */
	/* idle: the preface and SETTINGS, no stream (what it receives is
	 * kept raw; s_client writes it out once its input ends) */
	st = h2_sh(&b, 15000, "((printf 'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"
	    "\\000\\000\\000\\004\\000\\000\\000\\000\\000'; sleep 1) | "
	    "openssl s_client -quiet -alpn h2 -connect 127.0.0.1:%d "
	    "> %s 2>/dev/null &) ; "
	    "for n in $(seq 500); do [ -s %s ] && exit 0; sleep 0.02; done; "
	    "exit 1", t.sluice.port, idle, idle);
	ck_assert_msg(st == 0, "the idle connection got no SETTINGS: %s", b);
	free(b);
	/* busy: one stream of 1.5 s */
	ck_assert(h2_sh(&b, 5000, "nghttp -v https://127.0.0.1:%d/delay/1500 "
	    "> %s 2>&1 &", t.sluice.port, busy) == 0);
	free(b);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/", 1, 5000) >=
	    1);
	ck_assert(kill(t.sluice.pid, SIGTERM) == 0);
	st = itest_proc_wait(&t.sluice, 10000);
	ck_assert_msg(st == 0, "sluice exit %d", st);
	ck_assert(itest_wait_file(busy, ":status: 200", 5000) == 1);
	b = itest_read_file(busy, NULL);
	ck_assert_msg(b != NULL && strstr(b, ":status: 200") != NULL,
	    "the long stream completed: %s", h2_tail(b));
	g1 = strstr(b, "last_stream_id=2147483647");
	g2 = g1 != NULL ? strstr(g1 + 1, "recv GOAWAY") : NULL;
	ck_assert_msg(g1 != NULL && g2 != NULL &&
	    strstr(g2, "last_stream_id=13") != NULL,
	    "busy: GOAWAY(2^31-1) then GOAWAY(its stream): %s", h2_tail(b));
	free(b);
	st = h2_sh(&i, 10000, "od -An -tx1 -v %s | tr -d ' \\n'", idle);
	ck_assert_msg(h2_hex_goaway(i, "7fffffff") != NULL &&
	    h2_hex_goaway(i, "00000000") > h2_hex_goaway(i, "7fffffff"),
	    "idle: GOAWAY(2^31-1) then GOAWAY(0): %s", h2_tail(i));
	free(i);
	printf("h2 shutdown: busy and idle connections got both GOAWAYs in "
	    "order; the busy stream completed\n");
	itest_finish(&t);
}
END_TEST

/* http2 = off: ALPN gives http/1.1. */
START_TEST(test_off)
{
	struct itest	 t;
	char		*out;
	int		 st;

	h2_start(&t, "http2 = off\n", NULL);
	st = h2_sh(&out, 10000, "curl -sSk --http2 -o /dev/null -w "
	    "'%%{http_version}' https://127.0.0.1:%d/bytes/1", t.sluice.port);
	ck_assert_msg(st == 0 && strcmp(out, "1.1") == 0, "off: %s", h2_tail(out));
	free(out);
	itest_finish(&t);
}
END_TEST

/* http2 = on where there is no TLS: refused, file:line: key: reason. */
START_TEST(test_plain_refused)
{
	struct itest	 t;
	char		*out;
	int		 st;

	itest_init(&t);
	itest_write_file(t.conf, "[listener web]\nlisten = 127.0.0.1:1\n"
	    "upstream = app\nhttp2 = on\n[upstream app]\n"
	    "server = 127.0.0.1:2\n");
	st = h2_sh(&out, 10000, "./sluice -t -c %s", t.conf);
	ck_assert_msg(st != 0 && strstr(out, ":4: http2: needs a TLS "
	    "listener") != NULL, "plain listener: %s", h2_tail(out));
	free(out);
	itest_finish(&t);
}
END_TEST

Suite *
check_suite(void)
{
	Suite	*s = suite_create("h2");
	TCase	*tc = tcase_create("h2");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, h2_certs_make, h2_certs_remove);
	tcase_add_test(tc, test_bodies);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_goaway);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_plain_refused);
	suite_add_tcase(s, tc);
	return s;
}
