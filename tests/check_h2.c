/*
 * check_h2: HTTP/2 to clients on a TLS listener (issue 19), with the real
 * sluice and origin and Debian's HTTP/2 clients (curl, nghttp, h2load):
 * bodies byte-exact both ways, headers and cookies as the origin gets
 * them, errors per stream on a connection that survives, many streams on
 * one connection, a load with no error, the two GOAWAYs of a shutdown on
 * busy and idle connections, and http2 = off. Then, with a raw client
 * of its own that writes frames byte by byte (h2raw), what a hostile
 * client costs (rapid reset, CONTINUATION and HPACK floods, too many
 * streams, a window that never opens, PING and SETTINGS floods), each
 * measured in sluice's CPU and memory against what the client sent, and
 * a table of protocol violations with the answer RFC 9113 asks for.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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
	/* under ASan, freed memory would stay in the quarantine and count
	 * in the RSS the hostile cases measure */
	t->asan_extra = "quarantine_size_mb=1:thread_local_quarantine_size_kb=64";
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

/*
 * 1 in the sanitizer pass (ASAN_OPTIONS set, as .ci/run sets it): the
 * volume cases are cut there (h2load 20,000 requests instead of 100,000,
 * bodies up to 1 MiB instead of 8): the plain pass runs them whole, and
 * the sanitizers look for memory errors, which volume adds nothing to.
 */
static int
h2_sanitized(void)
{
	const char	*a = getenv("ASAN_OPTIONS");

	return a != NULL && a[0] != '\0';
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
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) -
	    (h2_sanitized() ? 1 : 0); i++) {
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
	printf("h2 bodies: GET and POST of 0 B to %s byte-exact\n",
	    h2_sanitized() ? "1 MiB" : "8 MiB");
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
	    "route = /busy busy strip\n"
	    "http2 = on\ntls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "[upstream down]\nserver = 127.0.0.1:%d\n"
	    "[upstream slow]\nserver = 127.0.0.1:%d\nread_timeout = 300ms\n"
	    "[upstream busy]\nserver = 127.0.0.1:%d max_conns=1\n",
	    t.sluice.port, h2_certdir, h2_certdir, t.origin[0].port,
	    itest_free_port(), t.origin[0].port, t.origin[0].port);
	/* one connection, in this order: each answer its own */
	st = h2_sh(&out, 20000, "nghttp -v "
	    "https://127.0.0.1:%d/status/502 https://127.0.0.1:%d/down/x "
	    "https://127.0.0.1:%d/slow/delay/2000 "
	    "https://127.0.0.1:%d/busy/delay/1000 "
	    "https://127.0.0.1:%d/busy/bytes/1 "
	    "https://127.0.0.1:%d/bytes/5", t.sluice.port, t.sluice.port,
	    t.sluice.port, t.sluice.port, t.sluice.port, t.sluice.port);
	ck_assert_msg(st == 0, "nghttp: %s", h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 502") != NULL &&
	    strstr(strstr(out, ":status: 502") + 1, ":status: 502") != NULL,
	    "502 from the origin and for the refused connect: %s",
	    h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 504") != NULL,
	    "504 for the read timeout: %s", h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 503") != NULL,
	    "503 when the upstream has no free slot: %s", h2_tail(out));
	ck_assert_msg(strstr(out, ":status: 200") != NULL,
	    "the connection served the last stream: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "recv GOAWAY") == NULL, "no GOAWAY: %s", h2_tail(out));
	free(out);
	itest_finish(&t);
}
END_TEST

/* A server that sends its body slowly (a byte every 1.5 s, with
 * client_timeout 1s and read_timeout 5s): the stream is not the client's
 * to time out; it completes. */
START_TEST(test_slow_server)
{
	struct itest	 t;
	char		*out;
	int		 st;

	itest_init(&t);
	t.asan_extra = "quarantine_size_mb=1";
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nhttp2 = on\nclient_timeout = 1s\n"
	    "tls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "read_timeout = 5s\n", t.sluice.port, h2_certdir, h2_certdir,
	    t.origin[0].port);
	st = h2_sh(&out, 15000, "curl -sSk --http2 -o /dev/null -w "
	    "'%%{http_code} %%{size_download} %%{http_version}' "
	    "https://127.0.0.1:%d/drip/3/1500", t.sluice.port);
	ck_assert_msg(st == 0 && strcmp(out, "200 3 2") == 0,
	    "a slow server's stream: %s", h2_tail(out));
	free(out);
	itest_finish(&t);
}
END_TEST

/* 100 streams at once on one connection; then h2load with no error. */
START_TEST(test_load)
{
	struct itest	 t;
	char		*out, want[96];
	int		 st, n;

	h2_start(&t, "http2_max_concurrent_streams = 100\n", NULL);
	st = h2_sh(&out, 30000, "h2load -n 1000 -c 1 -m 100 "
	    "https://127.0.0.1:%d/delay/20", t.sluice.port);
	ck_assert_msg(st == 0 && strstr(out, "1000 succeeded, 0 failed, "
	    "0 errored, 0 timeout") != NULL, "100 streams: %s", h2_tail(out));
	ck_assert_msg(strstr(out, "Application protocol: h2") != NULL,
	    "h2: %s", h2_tail(out));
	free(out);
	n = h2_sanitized() ? 20000 : 100000;
	st = h2_sh(&out, 120000, "h2load -n %d -c 100 -m 10 "
	    "https://127.0.0.1:%d/bytes/100", n, t.sluice.port);
	snprintf(want, sizeof(want), "%d succeeded, 0 failed, 0 errored, "
	    "0 timeout", n);
	ck_assert_msg(st == 0 && strstr(out, want) != NULL, "h2load: %s",
	    h2_tail(out));
	printf("h2load -n %d -c 100 -m 10: %s", n, strstr(out,
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

/* --- h2raw: frames by hand over TLS ------------------------------------ */

#define H2R_DATA		0x0
#define H2R_HEADERS		0x1
#define H2R_RST_STREAM		0x3
#define H2R_SETTINGS		0x4
#define H2R_PING		0x6
#define H2R_GOAWAY		0x7
#define H2R_WINDOW_UPDATE	0x8
#define H2R_CONTINUATION	0x9
#define H2R_END_STREAM		0x1
#define H2R_ACK			0x1
#define H2R_END_HEADERS		0x4

#define H2R_NO_ERROR		0x0
#define H2R_PROTOCOL_ERROR	0x1
#define H2R_FLOW_CONTROL_ERROR	0x3
#define H2R_FRAME_SIZE_ERROR	0x6
#define H2R_REFUSED_STREAM	0x7
#define H2R_CANCEL		0x8
#define H2R_COMPRESSION_ERROR	0x9
#define H2R_ENHANCE_YOUR_CALM	0xb

struct h2raw {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	unsigned char	 in[1 << 17];
	size_t		 inlen;
	uint64_t	 sent;		/* bytes written */
	nghttp2_hd_inflater *hd;	/* every HEADERS read goes through */
	char		 head[4096];	/* the last HEADERS' fields, one
					 * "name: value\n" each */
};

struct h2frame {
	unsigned	 len;
	int		 type;
	int		 flags;
	uint32_t	 stream;
	unsigned char	*p;		/* in h2raw's buffer, until the next
					 * read */
	int		 status;	/* HEADERS: its :status, 0: none */
};

/* Connect over TLS with ALPN h2 and send the preface (and SETTINGS with
 * the given entries: id, value pairs). */
static void
h2raw_open(struct h2raw *r, int port, const uint32_t *set, size_t nset)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 5, 0 };
	unsigned char		 f[9 + 6 * 8];
	const unsigned char	*alpn;
	unsigned int		 alen;
	size_t			 i;
	int			 one = 1;

	memset(r, 0, sizeof(*r));
	ck_assert((r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >=
	    0);
	setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(r->fd, (struct sockaddr *)&sin, sizeof(sin)) ==
	    0, "connect: %s", strerror(errno));
	ck_assert(nghttp2_hd_inflate_new(&r->hd) == 0);
	ck_assert((r->ctx = SSL_CTX_new(TLS_client_method())) != NULL);
	SSL_CTX_set_alpn_protos(r->ctx, (const unsigned char *)"\x02h2", 3);
	ck_assert((r->ssl = SSL_new(r->ctx)) != NULL);
	SSL_set_fd(r->ssl, r->fd);
	ck_assert_msg(SSL_connect(r->ssl) == 1, "TLS handshake failed");
	SSL_get0_alpn_selected(r->ssl, &alpn, &alen);
	ck_assert_msg(alen == 2 && memcmp(alpn, "h2", 2) == 0,
	    "ALPN did not choose h2");
	ck_assert(SSL_write(r->ssl, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) ==
	    24);
	f[0] = 0;
	f[1] = (unsigned char)((nset * 6) >> 8);
	f[2] = (unsigned char)(nset * 6);
	f[3] = H2R_SETTINGS;
	memset(f + 4, 0, 5);
	for (i = 0; i < nset && i < 8; i++) {
		f[9 + 6 * i] = (unsigned char)(set[2 * i] >> 8);
		f[10 + 6 * i] = (unsigned char)set[2 * i];
		f[11 + 6 * i] = (unsigned char)(set[2 * i + 1] >> 24);
		f[12 + 6 * i] = (unsigned char)(set[2 * i + 1] >> 16);
		f[13 + 6 * i] = (unsigned char)(set[2 * i + 1] >> 8);
		f[14 + 6 * i] = (unsigned char)set[2 * i + 1];
	}
	ck_assert(SSL_write(r->ssl, f, (int)(9 + 6 * nset)) ==
	    (int)(9 + 6 * nset));
	r->sent = 24 + 9 + 6 * nset;
}

static void
h2raw_close(struct h2raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	nghttp2_hd_inflate_del(r->hd);
	close(r->fd);
}

/* Write one frame; -1 when the peer is gone (or the write timed out). */
static int
h2raw_frame(struct h2raw *r, int type, int flags, uint32_t stream,
    const void *payload, size_t len)
{
	unsigned char	 f[9 + 65536];

	ck_assert(len <= 65536);
	f[0] = (unsigned char)(len >> 16);
	f[1] = (unsigned char)(len >> 8);
	f[2] = (unsigned char)len;
	f[3] = (unsigned char)type;
	f[4] = (unsigned char)flags;
	f[5] = (unsigned char)(stream >> 24 & 0x7f);
	f[6] = (unsigned char)(stream >> 16);
	f[7] = (unsigned char)(stream >> 8);
	f[8] = (unsigned char)stream;
	if (len > 0)
		memcpy(f + 9, payload, len);
	if (SSL_write(r->ssl, f, (int)(9 + len)) != (int)(9 + len))
		return -1;
	r->sent += 9 + len;
	return 0;
}

/* The :status of a HEADERS frame (sluice sends no CONTINUATION for a
 * head this small, no padding, no priority); 0 when none. */
static int
h2raw_inflate(struct h2raw *r, const struct h2frame *f)
{
	nghttp2_nv	 nv;
	const uint8_t	*p = f->p;
	size_t		 left = f->len, hl = 0;
	ssize_t		 n;
	int		 fl, status = 0;

	r->head[0] = '\0';
	for (;;) {
		fl = 0;
		n = nghttp2_hd_inflate_hd2(r->hd, &nv, &fl, p, left,
		    (f->flags & H2R_END_HEADERS) != 0);
		ck_assert_msg(n >= 0, "HPACK from sluice: %zd", n);
		p += n;
		left -= (size_t)n;
		if (fl & NGHTTP2_HD_INFLATE_EMIT && nv.namelen == 7 &&
		    memcmp(nv.name, ":status", 7) == 0)
			status = atoi((const char *)nv.value);
		if (fl & NGHTTP2_HD_INFLATE_EMIT && hl < sizeof(r->head))
			hl += (size_t)snprintf(r->head + hl, sizeof(r->head) -
			    hl, "%.*s: %.*s\n", (int)nv.namelen, nv.name,
			    (int)nv.valuelen, nv.value);
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(r->hd);
			break;
		}
		if (n == 0 && left == 0)
			break;
	}
	return status;
}

/* Read one frame within timeout_ms: 0, -1 at EOF or an error, -2 when
 * the time passed with the connection still open. */
static int
h2raw_read(struct h2raw *r, struct h2frame *f, int timeout_ms)
{
	static __thread size_t	 consumed;
	double			 deadline = itest_now() + timeout_ms / 1e3;
	struct pollfd		 pfd;
	int			 n;

	if (consumed > 0) {
		memmove(r->in, r->in + consumed, r->inlen - consumed);
		r->inlen -= consumed;
		consumed = 0;
	}
	for (;;) {
		if (r->inlen >= 9) {
			f->len = (unsigned)r->in[0] << 16 |
			    (unsigned)r->in[1] << 8 | r->in[2];
			if (f->len + 9 > sizeof(r->in))
				return -1;
			if (r->inlen >= 9 + f->len) {
				f->type = r->in[3];
				f->flags = r->in[4];
				f->stream = (uint32_t)(r->in[5] & 0x7f) << 24 |
				    (uint32_t)r->in[6] << 16 |
				    (uint32_t)r->in[7] << 8 | r->in[8];
				f->p = r->in + 9;
				consumed = 9 + f->len;
				f->status = f->type == H2R_HEADERS ?
				    h2raw_inflate(r, f) : 0;
				return 0;
			}
		}
		if (SSL_pending(r->ssl) == 0) {
			pfd.fd = r->fd;
			pfd.events = POLLIN;
			n = (int)((deadline - itest_now()) * 1e3);
			if (n <= 0 || (n = poll(&pfd, 1, n)) == 0)
				return -2;
			if (n < 0)
				return -1;
		}
		n = SSL_read(r->ssl, r->in + r->inlen,
		    (int)(sizeof(r->in) - r->inlen));
		if (n <= 0)
			return -1;
		r->inlen += (size_t)n;
	}
}

/* A big-endian 32-bit number from p. */
static uint32_t
h2raw_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Read frames until one of type on stream (any stream for GOAWAY) or
 * the deadline; its error code (RST_STREAM, GOAWAY) or 0 in *code. 1
 * when seen. */
static int
h2raw_wait(struct h2raw *r, int type, uint32_t stream, uint32_t *code,
    int timeout_ms)
{
	struct h2frame	 f;
	double		 deadline = itest_now() + timeout_ms / 1e3;
	int		 left;

	while ((left = (int)((deadline - itest_now()) * 1e3)) > 0 &&
	    h2raw_read(r, &f, left) == 0) {
		if (f.type != type || (type != H2R_GOAWAY && f.stream != stream))
			continue;
		if (code != NULL)
			*code = type == H2R_GOAWAY && f.len >= 8 ?
			    h2raw_u32(f.p + 4) : type == H2R_RST_STREAM &&
			    f.len >= 4 ? h2raw_u32(f.p) : 0;
		return 1;
	}
	return 0;
}

/* An HPACK integer with an n-bit prefix (RFC 7541 5.1) at p; its length. */
static size_t
h2raw_int(unsigned char *p, unsigned char first, int n, size_t v)
{
	size_t	max = (1u << n) - 1, i = 0;

	if (v < max) {
		p[0] = (unsigned char)(first | v);
		return 1;
	}
	p[i++] = (unsigned char)(first | max);
	for (v -= max; v >= 128; v >>= 7)
		p[i++] = (unsigned char)(v % 128 + 128);
	p[i++] = (unsigned char)v;
	return i;
}

/* A field as a literal without indexing, new name (RFC 7541 6.2.2). */
static size_t
h2raw_field(unsigned char *p, const char *name, const char *value)
{
	size_t	n = 0, nl = strlen(name), vl = strlen(value);

	p[n++] = 0x00;
	n += h2raw_int(p + n, 0, 7, nl);
	memcpy(p + n, name, nl);
	n += nl;
	n += h2raw_int(p + n, 0, 7, vl);
	memcpy(p + n, value, vl);
	return n + vl;
}

/* A request's header block: method and path, then extra "name: value"
 * lines (NULL-terminated). Its length. */
static size_t
h2raw_block(unsigned char *p, const char *method, const char *path,
    const char *const *extra)
{
	size_t	n = 0;
	char	name[128];

	n += h2raw_field(p + n, ":method", method);
	n += h2raw_field(p + n, ":scheme", "https");
	if (path != NULL)
		n += h2raw_field(p + n, ":path", path);
	n += h2raw_field(p + n, ":authority", "a.test");
	for (; extra != NULL && *extra != NULL; extra++) {
		const char *colon = strchr(*extra, ':');

		snprintf(name, sizeof(name), "%.*s", (int)(colon - *extra),
		    *extra);
		n += h2raw_field(p + n, name, colon + 2);
	}
	return n;
}

/* A GET of path on stream, whole (END_STREAM, END_HEADERS). */
static int
h2raw_get(struct h2raw *r, uint32_t stream, const char *path)
{
	unsigned char	b[1024];

	return h2raw_frame(r, H2R_HEADERS, H2R_END_STREAM | H2R_END_HEADERS,
	    stream, b, h2raw_block(b, "GET", path, NULL));
}

/* The status of stream's response, -1 when the stream was reset or
 * nothing came in time. */
static int
h2raw_status(struct h2raw *r, uint32_t stream, int timeout_ms)
{
	struct h2frame		 f;
	double			 deadline = itest_now() + timeout_ms / 1e3;
	int			 left;

	while ((left = (int)((deadline - itest_now()) * 1e3)) > 0 &&
	    h2raw_read(r, &f, left) == 0) {
		if (f.stream != stream)
			continue;
		if (f.type == H2R_RST_STREAM)
			return -1;
		if (f.type == H2R_HEADERS && f.status != 0)
			return f.status;
	}
	return -1;
}

/* The connection still serves: a GET of /bytes/10 on stream id gets 200. */
static void
h2raw_serves(struct h2raw *r, uint32_t id, const char *what)
{
	ck_assert(h2raw_get(r, id, "/bytes/10") == 0);
	ck_assert_msg(h2raw_status(r, id, 5000) == 200,
	    "%s: the connection no longer serves", what);
}

/* --- what a hostile client costs ----------------------------------------- */

/*
 * Rapid reset (CVE-2023-44487): streams opened and reset at once, as fast
 * as the client writes. The connection is cut with ENHANCE_YOUR_CALM
 * once the reset budget (200 at once, 50 a second) is spent; sluice's CPU
 * per reset stays small, and the streams reset in the same read as their
 * HEADERS never reach the origin.
 */
START_TEST(test_rapid_reset)
{
	struct itest	 t;
	struct h2raw	 r;
	unsigned char	 rst[4] = { 0, 0, 0, H2R_CANCEL };
	uint32_t	 id, code = 0;
	double		 cpu0, cpu1;
	long		 rss0, rss1;
	int		 n = 0, seen;

	h2_start(&t, "", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	cpu0 = itest_cpu_s(t.sluice.pid);
	rss0 = itest_rss_kb(t.sluice.pid);
	for (id = 1; n < 20000; id += 2, n++)
		if (h2raw_get(&r, id, "/delay/1000") == -1 ||
		    h2raw_frame(&r, H2R_RST_STREAM, 0, id, rst, 4) == -1)
			break;
	seen = h2raw_wait(&r, H2R_GOAWAY, 0, &code, 5000);
	cpu1 = itest_cpu_s(t.sluice.pid);
	rss1 = itest_rss_kb(t.sluice.pid);
	printf("h2 rapid reset: %d streams opened and reset (%llu bytes); "
	    "GOAWAY %s; sluice %.3f s of CPU (%.1f us a reset), RSS %ld -> "
	    "%ld KiB; the origin got %d of them\n", n,
	    (unsigned long long)r.sent, seen ? "ENHANCE_YOUR_CALM" : "none",
	    cpu1 - cpu0, (cpu1 - cpu0) * 1e6 / n, rss0, rss1,
	    itest_count_file(t.origin_log[0], "/delay/"));
	ck_assert_msg(seen && code == H2R_ENHANCE_YOUR_CALM,
	    "GOAWAY(ENHANCE_YOUR_CALM) after the reset budget: seen %d code "
	    "%u after %d resets", seen, code, n);
	ck_assert_msg(cpu1 - cpu0 < 0.5 + n * 200e-6,
	    "%.3f s of CPU for %d resets", cpu1 - cpu0, n);
	ck_assert_msg(rss1 - rss0 < 8192, "RSS grew %ld KiB", rss1 - rss0);
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/* A stream reset while its request is with the origin: the upstream
 * request is cancelled at once (its exchange ends "client"), not when
 * the origin answers. */
START_TEST(test_reset_cancels)
{
	struct itest	 t;
	struct h2raw	 r;
	unsigned char	 rst[4] = { 0, 0, 0, H2R_CANCEL };
	double		 t0;
	uint32_t	 id;

	h2_start(&t, "", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	for (id = 1; id <= 5; id += 2)
		ck_assert(h2raw_get(&r, id, "/delay/5000") == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/5000", 3, 5000) >=
	    3);
	t0 = itest_now();
	for (id = 1; id <= 5; id += 2)
		ck_assert(h2raw_frame(&r, H2R_RST_STREAM, 0, id, rst, 4) == 0);
	ck_assert_msg(itest_wait_count(t.access_log, " client_", 3, 3000) >=
	    3, "3 exchanges ended by the client: %s",
	    itest_file_tail(t.access_log));
	printf("h2 reset: 3 upstream requests cancelled %.0f ms after the "
	    "resets (the origin would have answered after 5 s)\n",
	    (itest_now() - t0) * 1e3);
	ck_assert(itest_now() - t0 < 3.0);
	h2raw_serves(&r, 7, "after the resets");
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * CONTINUATION flood (CVE-2024-27316): a header block that never ends.
 * The connection is closed after a few frames (nghttp2's bound of 8
 * CONTINUATIONs), with a bounded cost to sluice.
 */
START_TEST(test_continuation)
{
	struct itest	 t;
	struct h2raw	 r;
	static unsigned char b[16384];
	size_t		 n, m;
	double		 cpu0, cpu1;
	long		 rss0, rss1;
	int		 frames = 0;

	h2_start(&t, "", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	cpu0 = itest_cpu_s(t.sluice.pid);
	rss0 = itest_rss_kb(t.sluice.pid);
	n = h2raw_block(b, "GET", "/bytes/1", NULL);
	ck_assert(h2raw_frame(&r, H2R_HEADERS, H2R_END_STREAM, 1, b, n) == 0);
	/* each CONTINUATION: fields of 1000-byte values */
	for (m = 0; m + 1100 < sizeof(b); )
		m += h2raw_field(b + m, "x-flood", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	while (frames < 10000 && h2raw_frame(&r, H2R_CONTINUATION, 0, 1, b,
	    m) == 0)
		frames++;
	/* a GOAWAY, or at least the close: not a connection left open */
	ck_assert_msg(h2raw_wait(&r, H2R_GOAWAY, 0, NULL, 5000) ||
	    h2raw_read(&r, &(struct h2frame){ 0 }, 2000) == -1,
	    "the connection is still open after %d CONTINUATIONs", frames);
	cpu1 = itest_cpu_s(t.sluice.pid);
	rss1 = itest_rss_kb(t.sluice.pid);
	printf("h2 CONTINUATION flood: cut after the client wrote %d frames "
	    "(%llu bytes; more were refused); sluice %.3f s of CPU, RSS %ld "
	    "-> %ld KiB; the origin got %d requests\n", frames,
	    (unsigned long long)r.sent, cpu1 - cpu0, rss0, rss1,
	    itest_count_file(t.origin_log[0], "/bytes/1"));
	ck_assert_msg(frames < 10000, "10000 CONTINUATIONs taken");
	ck_assert_msg(itest_count_file(t.origin_log[0], "/bytes/1") == 0,
	    "the flooding request reached the origin");
	ck_assert_msg(rss1 - rss0 < 4096, "RSS grew %ld KiB", rss1 - rss0);
	ck_assert_msg(cpu1 - cpu0 < 0.5, "%.3f s of CPU", cpu1 - cpu0);
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * HPACK bomb: one 4000-byte field put in the dynamic table, then named by
 * its one-byte index again and again: each byte the client sends costs
 * 4 KB decoded. The request is over http2_max_header_list_size: 431,
 * and it never reaches the origin; sluice's memory stays put.
 */
START_TEST(test_hpack_bomb)
{
	struct itest	 t;
	struct h2raw	 r;
	static unsigned char b[16000];
	char		 v[4001];
	size_t		 n;
	double		 cpu0, cpu1;
	long		 rss0, rss1;
	int		 st;

	h2_start(&t, "", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	memset(v, 'b', 4000);
	v[4000] = '\0';
	n = h2raw_block(b, "GET", "/bytes/1", NULL);
	/* literal with incremental indexing: becomes dynamic index 62 */
	b[n++] = 0x40;
	n += h2raw_int(b + n, 0, 7, 5);
	memcpy(b + n, "x-big", 5);
	n += 5;
	n += h2raw_int(b + n, 0, 7, 4000);
	memcpy(b + n, v, 4000);
	n += 4000;
	while (n < sizeof(b))
		b[n++] = 0x80 | 62;	/* indexed: that field again */
	cpu0 = itest_cpu_s(t.sluice.pid);
	rss0 = itest_rss_kb(t.sluice.pid);
	ck_assert(h2raw_frame(&r, H2R_HEADERS, H2R_END_STREAM |
	    H2R_END_HEADERS, 1, b, n) == 0);
	st = h2raw_status(&r, 1, 5000);
	cpu1 = itest_cpu_s(t.sluice.pid);
	rss1 = itest_rss_kb(t.sluice.pid);
	printf("h2 HPACK bomb: %zu bytes sent naming %zu KB of fields: "
	    "status %d; sluice %.3f s of CPU, RSS %ld -> %ld KiB\n", n,
	    (n - 4100) * 4, st, cpu1 - cpu0, rss0, rss1);
	ck_assert_int_eq(st, 431);
	ck_assert_msg(itest_count_file(t.origin_log[0], "/bytes/1") == 0,
	    "the request reached the origin");
	ck_assert_msg(rss1 - rss0 < 2048, "RSS grew %ld KiB", rss1 - rss0);
	h2raw_serves(&r, 3, "after the 431");
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * More streams than http2_max_concurrent_streams: the ones past it are
 * refused with REFUSED_STREAM (safe to retry), the others served.
 */
START_TEST(test_streams_limit)
{
	struct itest	 t;
	struct h2raw	 r;
	struct h2frame	 f;
	unsigned char	 b[1024];
	struct itest_resp m;
	size_t		 n;
	uint32_t	 id;
	int		 refused = 0, ok = 0, i, admin;

	admin = itest_free_port();
	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	itest_sluice_config(&t, NULL, "[admin]\nlisten = 127.0.0.1:%d\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "http2 = on\nhttp2_max_concurrent_streams = 10\n"
	    "tls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n", admin,
	    t.sluice.port, h2_certdir, h2_certdir, t.origin[0].port);
	itest_sluice_launch(&t);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	/* wait for sluice's SETTINGS, so the limit is known both ways */
	ck_assert(h2raw_wait(&r, H2R_SETTINGS, 0, NULL, 5000));
	n = h2raw_block(b, "GET", "/delay/300", NULL);
	for (id = 1; id <= 39; id += 2)
		ck_assert(h2raw_frame(&r, H2R_HEADERS, H2R_END_STREAM |
		    H2R_END_HEADERS, id, b, n) == 0);
	for (i = 0; i < 200 && refused + ok < 20 &&
	    h2raw_read(&r, &f, 5000) == 0; i++) {
		if (f.type == H2R_RST_STREAM && f.len == 4 &&
		    h2raw_u32(f.p) == H2R_REFUSED_STREAM)
			refused++;
		if (f.type == H2R_HEADERS && f.status == 200)
			ok++;
	}
	printf("h2 streams: 20 opened at once with a limit of 10: %d served, "
	    "%d refused (REFUSED_STREAM)\n", ok, refused);
	ck_assert_int_eq(ok, 10);
	ck_assert_int_eq(refused, 10);
	ck_assert_int_eq(itest_count_file(t.origin_log[0], "/delay/300"), 10);
	h2raw_close(&r);
	/* what /metrics counted */
	ck_assert_int_eq(itest_admin_request(admin, "GET", "/metrics", NULL,
	    &m), 0);
	ck_assert_msg(strstr((char *)m.body,
	    "\nsluice_http2_connections_total 1\n") != NULL &&
	    strstr((char *)m.body, "\nsluice_http2_streams_total 10\n") !=
	    NULL && strstr((char *)m.body,
	    "\nsluice_http2_streams_refused_total 10\n") != NULL,
	    "/metrics: %s", h2_tail(strstr((char *)m.body, "sluice_http2")));
	itest_resp_free(&m);
	itest_finish(&t);
}
END_TEST

/*
 * A window that never opens: the client asks for big responses with an
 * initial window of 0. sluice holds a bounded amount per stream (the
 * upstream is paused), and after client_timeout without progress the
 * streams are reset and their upstream connections released.
 */
START_TEST(test_slow_reader)
{
	struct itest	 t;
	struct h2raw	 r;
	const uint32_t	 set[] = { 0x4, 0 };	/* INITIAL_WINDOW_SIZE 0 */
	uint32_t	 id, code;
	long		 rss0, rss1;
	int		 resets = 0;

	h2_start(&t, "client_timeout = 2s\n", NULL);
	h2raw_open(&r, t.sluice.port, set, 1);
	rss0 = itest_rss_kb(t.sluice.pid);
	for (id = 1; id <= 19; id += 2)
		ck_assert(h2raw_get(&r, id, "/bytes/50000000") == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/bytes/50000000", 10,
	    5000) >= 10);
	for (id = 1; id <= 19; id += 2)
		if (h2raw_wait(&r, H2R_RST_STREAM, id, &code, 8000) &&
		    code == H2R_CANCEL)
			resets++;
	rss1 = itest_rss_kb(t.sluice.pid);
	printf("h2 window shut: 10 streams of 50 MB: %d reset after "
	    "client_timeout, RSS %ld -> %ld KiB\n", resets, rss0, rss1);
	ck_assert_int_eq(resets, 10);
	ck_assert_msg(rss1 - rss0 < 16384, "RSS grew %ld KiB for 10 shut "
	    "streams", rss1 - rss0);
	ck_assert_msg(itest_wait_count(t.access_log, "/bytes/50000000", 10,
	    3000) >= 10, "10 exchanges logged: %s",
	    itest_file_tail(t.access_log));
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * PING and SETTINGS floods from a client that never reads the answers:
 * cut once nghttp2's queue of unsent answers is full (1000), with sluice's
 * memory bounded.
 */
START_TEST(test_ack_floods)
{
	struct itest	 t;
	struct h2raw	 r;
	unsigned char	 ping[8] = { 0 };
	double		 cpu0, cpu1;
	long		 rss0, rss1;
	int		 kind, n;

	h2_start(&t, "", NULL);
	for (kind = 0; kind < 2; kind++) {
		/* a small receive buffer: the answers back up in sluice */
		h2raw_open(&r, t.sluice.port, NULL, 0);
		n = 4096;
		setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
		cpu0 = itest_cpu_s(t.sluice.pid);
		rss0 = itest_rss_kb(t.sluice.pid);
		for (n = 0; n < 500000; n++)
			if ((kind == 0 ? h2raw_frame(&r, H2R_PING, 0, 0, ping,
			    8) : h2raw_frame(&r, H2R_SETTINGS, 0, 0, NULL, 0)) ==
			    -1)
				break;
		cpu1 = itest_cpu_s(t.sluice.pid);
		rss1 = itest_rss_kb(t.sluice.pid);
		printf("h2 %s flood, answers never read: cut after %d frames "
		    "(%llu bytes); sluice %.3f s of CPU, RSS %ld -> %ld KiB\n",
		    kind == 0 ? "PING" : "SETTINGS", n,
		    (unsigned long long)r.sent, cpu1 - cpu0, rss0, rss1);
		ck_assert_msg(n < 500000, "500000 frames taken");
		ck_assert_msg(rss1 - rss0 < 8192, "RSS grew %ld KiB",
		    rss1 - rss0);
		ck_assert_msg(cpu1 - cpu0 < 2.0, "%.3f s of CPU", cpu1 - cpu0);
		h2raw_close(&r);
	}
	itest_finish(&t);
}
END_TEST

/* Peak RSS of pid in KiB (VmHWM), -1 when unknown. */
static long
h2_peak_kb(pid_t pid)
{
	char	 path[64], *st, *p;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((st = itest_read_file(path, NULL)) == NULL)
		return -1;
	if ((p = strstr(st, "VmHWM:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(st);
	return kb;
}

/*
 * Uploads on one connection are bounded by flow control, not by what the
 * client sends: 20 streams of 1 MB at once with max_body_size = 1m, to a
 * server that takes 300 ms for each, all complete (the oldest may always
 * finish), and sluice's peak memory grows by far less than the 20 MB
 * they carry (40 with the copy each exchange keeps for a retry).
 */
START_TEST(test_uploads_bounded)
{
	struct itest	 t;
	char		*out;
	long		 rss0, peak;
	int		 st;

	h2_start(&t, "max_body_size = 1m\n", NULL);
	rss0 = itest_rss_kb(t.sluice.pid);
	st = h2_sh(&out, 60000, "head -c 1000000 /dev/urandom > %s/up && "
	    "h2load -n 60 -c 1 -m 20 -d %s/up "
	    "https://127.0.0.1:%d/delay/300", t.dir, t.dir, t.sluice.port);
	peak = h2_peak_kb(t.sluice.pid);
	ck_assert_msg(st == 0 && strstr(out, "60 succeeded, 0 failed") !=
	    NULL, "uploads: %s", h2_tail(out));
	printf("h2 uploads: 60 POSTs of 1 MB to a server that answers in "
	    "300 ms, 20 at once on one connection (max_body_size 1m): all "
	    "ok; RSS %ld KiB, peak %ld KiB (+%ld)\n",
	    rss0, peak, peak - rss0);
	ck_assert_msg(peak - rss0 < 12 * 1024, "peak RSS grew %ld KiB",
	    peak - rss0);
	free(out);
	itest_finish(&t);
}
END_TEST

/* --- conformance: what RFC 9113 asks of a server -------------------------- */

/* One violation: frames sent after the preface, the answer expected. */
struct h2case {
	const char	*what;
	int		 type;		/* the frame */
	int		 flags;
	uint32_t	 stream;
	const char	*payload;	/* hex; NULL: a request block of
					 * method "GET", path and extra */
	const char	*path;
	const char	*extra[3];
	int		 expect;	/* H2R_GOAWAY or H2R_RST_STREAM */
	uint32_t	 code;		/* its error code */
};

static const struct h2case h2cases[] = {
	{ "DATA on stream 0", H2R_DATA, 0, 0, "00", NULL, { NULL },
	    H2R_GOAWAY, H2R_PROTOCOL_ERROR },
	{ "HEADERS on an even stream", H2R_HEADERS, 5, 2, NULL, "/bytes/1",
	    { NULL }, H2R_GOAWAY, H2R_PROTOCOL_ERROR },
	{ "SETTINGS of 5 bytes", H2R_SETTINGS, 0, 0, "0003000000", NULL,
	    { NULL }, H2R_GOAWAY, H2R_FRAME_SIZE_ERROR },
	{ "SETTINGS on a stream", H2R_SETTINGS, 0, 1, "", NULL, { NULL },
	    H2R_GOAWAY, H2R_PROTOCOL_ERROR },
	{ "PING of 7 bytes", H2R_PING, 0, 0, "00000000000000", NULL,
	    { NULL }, H2R_GOAWAY, H2R_FRAME_SIZE_ERROR },
	{ "WINDOW_UPDATE of 0 on the connection", H2R_WINDOW_UPDATE, 0, 0,
	    "00000000", NULL, { NULL }, H2R_GOAWAY, H2R_PROTOCOL_ERROR },
	{ "the connection window past 2^31-1", H2R_WINDOW_UPDATE, 0, 0,
	    "7fffffff", NULL, { NULL }, H2R_GOAWAY, H2R_FLOW_CONTROL_ERROR },
	{ "initial window past 2^31-1", H2R_SETTINGS, 0, 0,
	    "000480000000", NULL, { NULL }, H2R_GOAWAY,
	    H2R_FLOW_CONTROL_ERROR },
	{ "CONTINUATION without HEADERS", H2R_CONTINUATION, 4, 1, "", NULL,
	    { NULL }, H2R_GOAWAY, H2R_PROTOCOL_ERROR },
	{ "an upper-case field name", H2R_HEADERS, 5, 1, NULL, "/bytes/1",
	    { "X-Upper: 1", NULL }, H2R_RST_STREAM, H2R_PROTOCOL_ERROR },
	{ "a connection-specific field", H2R_HEADERS, 5, 1, NULL, "/bytes/1",
	    { "connection: keep-alive", NULL }, H2R_RST_STREAM,
	    H2R_PROTOCOL_ERROR },
	{ "te other than trailers", H2R_HEADERS, 5, 1, NULL, "/bytes/1",
	    { "te: gzip", NULL }, H2R_RST_STREAM, H2R_PROTOCOL_ERROR },
	{ "no :path", H2R_HEADERS, 5, 1, NULL, NULL, { NULL },
	    H2R_RST_STREAM, H2R_PROTOCOL_ERROR },
	{ "a header block that does not decode", H2R_HEADERS, 5, 1, "ff",
	    NULL, { NULL }, H2R_GOAWAY, H2R_COMPRESSION_ERROR },
};

/* hex into out; its length. */
static size_t
h2_unhex(const char *hex, unsigned char *out)
{
	size_t	n = 0;

	for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2)
		out[n++] = (unsigned char)strtoul((char[]){ hex[0], hex[1],
		    '\0' }, NULL, 16);
	return n;
}

START_TEST(test_conformance)
{
	const struct h2case	*c = &h2cases[_i];
	struct itest		 t;
	struct h2raw		 r;
	unsigned char		 b[1024];
	size_t			 n;
	uint32_t		 code = 0xffffffff;
	int			 seen;

	h2_start(&t, "", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	n = c->payload != NULL ? h2_unhex(c->payload, b) :
	    h2raw_block(b, "GET", c->path, c->extra);
	ck_assert(h2raw_frame(&r, c->type, c->flags, c->stream, b, n) == 0);
	seen = h2raw_wait(&r, c->expect, c->stream, &code, 5000);
	ck_assert_msg(seen && code == c->code, "%s: want %s %u, got %s %u",
	    c->what, c->expect == H2R_GOAWAY ? "GOAWAY" : "RST_STREAM",
	    c->code, seen ? "it with" : "nothing", seen ? code : 0);
	ck_assert_msg(itest_count_lines(t.origin_log[0]) == 0,
	    "%s: a request reached the origin", c->what);
	if (c->expect == H2R_RST_STREAM)	/* a stream error only */
		h2raw_serves(&r, 3, c->what);
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * SIGTERM under HTTP/2 load (h2load, 10 connections x 10 streams of
 * 300 ms): no stream fails; during drain_notice a new connection is still
 * served, and only once the listener is closed is one refused.
 */
START_TEST(test_sigterm_load)
{
	struct itest	 t;
	char		 path[256], *out;
	int		 st;

	h2_start(&t, "", "shutdown_timeout = 10s\ndrain_notice = 1s\n");
	snprintf(path, sizeof(path), "%s/h2load.out", t.dir);
	st = h2_sh(&out, 5000, "h2load -c 10 -m 10 -D 4 "
	    "https://127.0.0.1:%d/delay/300 > %s 2>&1 &", t.sluice.port, path);
	free(out);
	ck_assert(st == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/300", 100, 5000) >=
	    100);
	ck_assert(kill(t.sluice.pid, SIGTERM) == 0);
	st = h2_sh(&out, 5000, "curl -sSk --http2 -o /dev/null -w "
	    "'%%{http_code} %%{http_version}' https://127.0.0.1:%d/bytes/1",
	    t.sluice.port);
	ck_assert_msg(st == 0 && strcmp(out, "200 2") == 0,
	    "a new connection during the notice: %s", h2_tail(out));
	free(out);
	itest_wait_log(t.error_log, ": closed", 5000);
	st = h2_sh(&out, 5000, "curl -sSk --http2 -o /dev/null "
	    "https://127.0.0.1:%d/bytes/1", t.sluice.port);
	ck_assert_msg(st == 7, "a new connection after the listener closed: "
	    "curl exit %d (7: refused): %s", st, h2_tail(out));
	free(out);
	ck_assert_int_eq(itest_proc_wait(&t.sluice, 10000), 0);
	ck_assert(itest_wait_file(path, "requests: ", 10000) == 1);
	out = itest_read_file(path, NULL);
	ck_assert_msg(strstr(out, " 0 failed, 0 errored, 0 timeout") != NULL,
	    "h2load across SIGTERM: %s", h2_tail(out));
	ck_assert_msg(itest_count_file(t.error_log, ", 0 ended early") == 1,
	    "the drain: %s", itest_file_tail(t.error_log));
	printf("h2 SIGTERM under h2load: %s", strstr(out, "requests: "));
	free(out);
	itest_finish(&t);
}
END_TEST

/*
 * After the shutdown's final GOAWAY, a new stream on the connection is
 * refused with REFUSED_STREAM (not processed: safe to retry), while the
 * stream it named completes.
 */
START_TEST(test_refused_after_goaway)
{
	struct itest	 t;
	struct h2raw	 r;
	struct h2frame	 f;
	uint32_t	 last = 0xffffffff, code = 0;
	int		 notices = 0, i;

	h2_start(&t, "", "shutdown_timeout = 10s\ndrain_notice = 0s\n");
	h2raw_open(&r, t.sluice.port, NULL, 0);
	ck_assert(h2raw_get(&r, 1, "/delay/1500") == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/1500", 1, 5000) >=
	    1);
	ck_assert(kill(t.sluice.pid, SIGTERM) == 0);
	/* the notice, its PING (answered), then the final GOAWAY */
	for (i = 0; i < 50 && last == 0xffffffff &&
	    h2raw_read(&r, &f, 5000) == 0; i++) {
		if (f.type == H2R_PING && !(f.flags & H2R_ACK))
			ck_assert(h2raw_frame(&r, H2R_PING, H2R_ACK, 0, f.p,
			    8) == 0);
		if (f.type == H2R_GOAWAY && f.len >= 8 &&
		    h2raw_u32(f.p) == 0x7fffffff)
			notices++;
		else if (f.type == H2R_GOAWAY && f.len >= 8)
			last = h2raw_u32(f.p);
	}
	ck_assert_msg(notices == 1 && last == 1, "GOAWAYs: %d notice(s), "
	    "then last stream %u", notices, last);
	ck_assert(h2raw_get(&r, 3, "/bytes/10") == 0);
	ck_assert_msg(h2raw_wait(&r, H2R_RST_STREAM, 3, &code, 5000) &&
	    code == H2R_REFUSED_STREAM, "stream 3 after the final GOAWAY: "
	    "code %u", code);
	ck_assert_msg(h2raw_status(&r, 1, 5000) == 200,
	    "stream 1, named by the final GOAWAY, completes");
	h2raw_close(&r);
	ck_assert_int_eq(itest_count_file(t.origin_log[0], "/bytes/10"), 0);
	ck_assert_int_eq(itest_proc_wait(&t.sluice, 10000), 0);
	ck_assert_msg(itest_count_file(t.access_log, "/delay/1500") == 1 &&
	    itest_count_file(t.access_log, " 200 ") == 1,
	    "the named stream completed: %s", itest_file_tail(t.access_log));
	printf("h2 shutdown: a stream after the final GOAWAY got "
	    "REFUSED_STREAM; the one before it completed\n");
	itest_finish(&t);
}
END_TEST

/* The hard stop: a stream still open at shutdown_timeout is reset and
 * logged killed_*. */
START_TEST(test_hard_stop)
{
	struct itest	 t;
	struct h2raw	 r;
	uint32_t	 code = 0;

	h2_start(&t, "", "shutdown_timeout = 1s\ndrain_notice = 0s\n");
	h2raw_open(&r, t.sluice.port, NULL, 0);
	ck_assert(h2raw_get(&r, 1, "/delay/10000") == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/10000", 1, 5000) >=
	    1);
	ck_assert(kill(t.sluice.pid, SIGTERM) == 0);
	ck_assert_msg(h2raw_status(&r, 1, 5000) == 503 ||
	    h2raw_wait(&r, H2R_RST_STREAM, 1, &code, 5000),
	    "the stream open at the hard stop: no 503, no reset");
	ck_assert_int_eq(itest_proc_wait(&t.sluice, 10000), 0);
	ck_assert_msg(itest_count_file(t.access_log, " killed_") == 1,
	    "logged killed_*: %s", itest_file_tail(t.access_log));
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/* A server removed by a reload: its HTTP/2 stream in flight completes
 * there, the next stream on the same connection goes to its successor. */
START_TEST(test_server_removed)
{
	struct itest	 t;
	struct h2raw	 r;

	h2_start(&t, "", NULL);
	itest_origin_start(&t, 1, "b");
	h2raw_open(&r, t.sluice.port, NULL, 0);
	ck_assert(h2raw_get(&r, 1, "/delay/1500") == 0);
	ck_assert(itest_wait_count(t.origin_log[0], "/delay/1500", 1, 5000) >=
	    1);
	itest_sluice_config(&t, NULL, "[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\nhttp2 = on\n"
	    "tls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=b\n",
	    t.sluice.port, h2_certdir, h2_certdir, t.origin[1].port);
	itest_sluice_hup(&t, "reload: generation 2 in ", 5000);
	ck_assert(h2raw_get(&r, 3, "/bytes/1") == 0);
	ck_assert_int_eq(h2raw_status(&r, 3, 5000), 200);
	ck_assert_msg(strstr(r.head, "x-origin: b\n") != NULL,
	    "the new stream went to b: %s", r.head);
	ck_assert_int_eq(h2raw_status(&r, 1, 5000), 200);
	ck_assert_msg(strstr(r.head, "x-origin: a\n") != NULL,
	    "the stream in flight finished on the removed a: %s", r.head);
	h2raw_close(&r);
	itest_finish(&t);
}
END_TEST

/*
 * A reload never touches an HTTP/2 connection, and its next stream is
 * served by the new generation; 60 reloads, ten a second, under h2load
 * cost no stream.
 */
START_TEST(test_reload)
{
	struct itest	 t;
	struct h2raw	 r;
	char		 ext[64], needle[64], path[256], *out;
	int		 i, st;

	h2_start(&t, "response_header = set x-gen 1\n", NULL);
	h2raw_open(&r, t.sluice.port, NULL, 0);
	ck_assert(h2raw_get(&r, 1, "/bytes/1") == 0);
	ck_assert_int_eq(h2raw_status(&r, 1, 5000), 200);
	ck_assert_msg(strstr(r.head, "x-gen: 1\n") != NULL, "%s", r.head);
	itest_sluice_config(&t, NULL, "[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\nhttp2 = on\n"
	    "response_header = set x-gen 2\n"
	    "tls_certificate = %s/a.pem %s/a.key\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    t.sluice.port, h2_certdir, h2_certdir, t.origin[0].port);
	itest_sluice_hup(&t, "reload: generation 2 in ", 5000);
	ck_assert(h2raw_get(&r, 3, "/bytes/1") == 0);
	ck_assert_int_eq(h2raw_status(&r, 3, 5000), 200);
	ck_assert_msg(strstr(r.head, "x-gen: 2\n") != NULL,
	    "the same connection's next stream: %s", r.head);
	h2raw_close(&r);
	/* 60 reloads under load */
	st = h2_sh(&out, 5000, "h2load -c 10 -m 10 -D 9 "
	    "https://127.0.0.1:%d/bytes/100 > %s/h2load.out 2>&1 &",
	    t.sluice.port, t.dir);
	free(out);
	ck_assert(st == 0);
	for (i = 0; i < 60; i++) {
		snprintf(ext, sizeof(ext), "response_header = set x-gen %d\n",
		    i + 3);
		itest_sluice_config(&t, NULL, "[listener web]\n"
		    "listen = 127.0.0.1:%d\nupstream = app\nhttp2 = on\n%s"
		    "tls_certificate = %s/a.pem %s/a.key\n"
		    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
		    t.sluice.port, ext, h2_certdir, h2_certdir,
		    t.origin[0].port);
		snprintf(needle, sizeof(needle), "reload: generation %d in ",
		    i + 3);
		itest_sluice_hup(&t, needle, 5000);
		itest_pause(100);	/* the pace of the storm, not a wait */
	}
	snprintf(path, sizeof(path), "%s/h2load.out", t.dir);
	ck_assert(itest_wait_file(path, "requests: ", 20000) == 1);
	out = itest_read_file(path, NULL);
	ck_assert_msg(strstr(out, " 0 failed, 0 errored, 0 timeout") != NULL &&
	    strstr(out, "Application protocol: h2") != NULL,
	    "h2load across 60 reloads: %s", h2_tail(out));
	printf("h2 reloads: the next stream on a kept connection took the new "
	    "generation; 60 reloads under h2load: %s", strstr(out,
	    "requests: "));
	free(out);
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
	Suite		*s = suite_create("h2");
	TCase		*tc = tcase_create("h2");
	const char	*w;

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, h2_certs_make, h2_certs_remove);
	tcase_add_test(tc, test_bodies);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_slow_server);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_goaway);
	tcase_add_test(tc, test_refused_after_goaway);
	tcase_add_test(tc, test_sigterm_load);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_hard_stop);
	tcase_add_test(tc, test_server_removed);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_plain_refused);
	suite_add_tcase(s, tc);

	/*
	 * The hostile cases measure one connection's bounds, which the
	 * number of workers does not change: they run in the one-worker
	 * pass only (make check runs this suite again with
	 * SLUICE_TEST_WORKERS=2), which keeps CI's time down.
	 */
	w = getenv("SLUICE_TEST_WORKERS");
	if (w != NULL && atoi(w) > 1) {
		printf("h2: the hostile cases run in the one-worker pass\n");
		return s;
	}
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, h2_certs_make, h2_certs_remove);
	tcase_add_test(tc, test_rapid_reset);
	tcase_add_test(tc, test_reset_cancels);
	tcase_add_test(tc, test_continuation);
	tcase_add_test(tc, test_hpack_bomb);
	tcase_add_test(tc, test_streams_limit);
	tcase_add_test(tc, test_slow_reader);
	tcase_add_test(tc, test_ack_floods);
	tcase_add_test(tc, test_uploads_bounded);
	tcase_add_loop_test(tc, test_conformance, 0,
	    (int)(sizeof(h2cases) / sizeof(h2cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
