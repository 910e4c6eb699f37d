/*
 * check_legacy: fronting a legacy application. Integration tests of the
 * header rules (request_header, response_header: set, add, remove, their
 * order between a listener and an upstream, their variables, the lines
 * `sluice -t` refuses), the Host sent upstream (host = pass, server or a
 * name, plain and over TLS), request IDs (unique over 10,000 requests and
 * two workers, the same upstream, in the response and in the access log;
 * trusted or replaced), the prefix a strip route removes and the path
 * normalisation every route gets, the Location, Content-Location, Refresh
 * and Set-Cookie rewriting that puts the prefix and the client's host
 * back, and reloads that change the rules (refused, and under keep-alive
 * load).
 *
 * The origin (tests/origin) answers any request that carries "X-Reply:
 * Name: value" headers with those response headers and the request head
 * it received as the body, so a test sees both what went upstream and
 * what sluice made of the origin's response.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_legacy. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define IO_MS		ITEST_IO_TIMEOUT_MS
#define WAIT_MS		10000		/* bound of a log or load wait */
#define LOAD_MS		60000		/* bound of the 10,000-request run */
#define FRONT		"front.example:8080"	/* the Host clients send */
/* Makes the origin answer whatever the path: the request head as body. */
#define ECHO		"X-Reply: X-Echo: 1\r\n"
#define NIDS		10000		/* requests of the ID run */
#define NIDS_AGAIN	200		/* ... after a restart */
#define ID_MAX		400		/* an ID as recorded, NUL too */
#define VAL_MAX		2048		/* joined header values */
#define LEG_BODY	100000		/* bytes of a POST body */
/* A string constant as an argv element (execvp does not write it). */
#define LEG_ARG(s)	((char *)(uintptr_t)(s))

/* The certificates of the TLS tests, made before their test cases. */
static char	leg_certdir[64];

/* --- helpers ----------------------------------------------------------- */

/*
 * The header lines called name (case-insensitive) of head, which is a
 * status or request line and header lines up to an empty line: their
 * values, without surrounding whitespace, joined with "|" into out (""
 * when none). Returns how many; *first (unless NULL) gets the position of
 * the first among the header lines, from 1, 0 when none.
 */
static int
leg_values(const char *head, const char *name, char *out, size_t len,
    int *first)
{
	const char	*line, *eol, *end, *v;
	size_t		 nlen = strlen(name), at = 0;
	int		 n = 0, pos = 0;

	out[0] = '\0';
	if (first != NULL)
		*first = 0;
	for (line = strchr(head, '\n'); line != NULL; line = eol) {
		line++;
		if (*line == '\r' || *line == '\n' || *line == '\0')
			break;
		pos++;
		eol = strchr(line, '\n');
		end = eol != NULL ? eol : line + strlen(line);
		if (end > line && end[-1] == '\r')
			end--;
		if ((size_t)(end - line) <= nlen ||
		    strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		for (v = line + nlen + 1; v < end && (*v == ' ' ||
		    *v == '\t'); v++)
			;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (n++ == 0 && first != NULL)
			*first = pos;
		if (at < len)
			at += (size_t)snprintf(out + at, len - at, "%s%.*s",
			    n > 1 ? "|" : "", (int)(end - v), v);
	}
	return n;
}

/* Static buffers of leg_v(), used in turn: more than one printf takes. */
#define LEG_V_BUFS	16

/* The values of header name in head joined with "|", in a static buffer
 * of its own (one of LEG_V_BUFS), for messages and comparisons. */
static const char *
leg_v(const char *head, const char *name)
{
	static char	 buf[LEG_V_BUFS][VAL_MAX];
	static int	 next;
	char		*out = buf[next++ % LEG_V_BUFS];

	leg_values(head != NULL ? head : "", name, out, VAL_MAX, NULL);
	return out;
}

/* The first line of text (without its line end) into out. */
static const char *
leg_first_line(const char *text, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(text, "\r\n"), text);
	return out;
}

/* The target of a request line "METHOD TARGET VERSION" into out. */
static const char *
leg_target(const char *head, char *out, size_t len)
{
	const char	*sp = strchr(head, ' '), *sp2;

	out[0] = '\0';
	if (sp != NULL && (sp2 = strchr(sp + 1, ' ')) != NULL &&
	    sp2 < head + strcspn(head, "\r\n"))
		snprintf(out, len, "%.*s", (int)(sp2 - sp - 1), sp + 1);
	return out;
}

/*
 * GET target on a new connection to port with Host host (NULL: an
 * HTTP/1.0 request without one), the header lines extra (each ending in
 * CRLF, NULL: none) and Connection: close. Returns as itest_request.
 */
static int
leg_get(int port, const char *target, const char *host, const char *extra,
    struct itest_resp *r)
{
	char	*req;
	int	 rc;

	ck_assert(asprintf(&req, "GET %s HTTP/1.%d\r\n%s%s%s%s"
	    "Connection: close\r\n\r\n", target, host != NULL,
	    host != NULL ? "Host: " : "", host != NULL ? host : "",
	    host != NULL ? "\r\n" : "", extra != NULL ? extra : "") != -1);
	rc = itest_request(port, req, r);
	free(req);
	return rc;
}

/* Assert that r is the origin's complete 200 (what: the request). */
static void
leg_assert_origin(const struct itest_resp *r, const char *what)
{
	ck_assert_msg(r->status == 200 && r->complete &&
	    itest_resp_header(r, "X-Origin") != NULL, "%s: status %d%s "
	    "(eof %d reset %d timeout %d), want the origin's 200:\n%s", what,
	    r->status, itest_resp_header(r, "X-Origin") != NULL ? "" :
	    " not from the origin", r->eof, r->reset, r->timeout,
	    r->head != NULL ? r->head : "");
}

/* 1 when s is 32 lowercase hex digits: an ID sluice made. */
static int
leg_is_id(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* The last space-separated field of s (a log line) into out. */
static const char *
leg_last_field(const char *s, char *out, size_t len)
{
	size_t		 n = strcspn(s, "\r\n");
	const char	*p = s + n;

	while (p > s && p[-1] == ' ')
		p--;
	n = (size_t)(p - s);
	while (p > s && p[-1] != ' ')
		p--;
	snprintf(out, len, "%.*s", (int)(s + n - p), p);
	return out;
}

/*
 * The last field (the request ID) of the access-log line of path that
 * holds needle, waiting for the line up to WAIT_MS, into out; fails the
 * test when there is no such line.
 */
static const char *
leg_access_id(const char *path, const char *needle, char *out, size_t len)
{
	char	*log, *line;

	ck_assert_msg(itest_wait_lines_with(path, needle, NULL, 1,
	    WAIT_MS) >= 1, "no access-log line with %s:\n%s", needle,
	    itest_file_tail(path));
	log = itest_read_file(path, NULL);
	line = strstr(log, needle);
	while (line > log && line[-1] != '\n')
		line--;
	leg_last_field(line, out, len);
	free(log);
	return out;
}

/* Replace every "{P}" of s by port, into out. */
static const char *
leg_port(const char *s, int port, char *out, size_t len)
{
	const char	*p;
	size_t		 at = 0;

	out[0] = '\0';
	while ((p = strstr(s, "{P}")) != NULL && at < len) {
		at += (size_t)snprintf(out + at, len - at, "%.*s%d",
		    (int)(p - s), s, port);
		s = p + 3;
	}
	if (at < len)
		snprintf(out + at, len - at, "%s", s);
	return out;
}

/* --- TLS: certificates and a small client ------------------------------ */

/* What the TLS tests need, made with tests/certs.sh (sh -e). */
static const char leg_cert_script[] =
	"ca ca '/CN=sluice legacy test CA'\n"
	"leaf a /CN=a.test DNS:a.test 30 ca\n";

/* Make the certificates in a new leg_certdir (an unchecked fixture). */
static void
leg_certs_make(void)
{
	itest_certs_make("check_legacy", leg_cert_script, leg_certdir,
	    sizeof(leg_certdir));
}

/* Remove leg_certdir and the keys in it (kept with ITEST_KEEP). */
static void
leg_certs_remove(void)
{
	itest_certs_remove("check_legacy", leg_certdir);
}

/*
 * Send req (it asks for Connection: close) over TLS to 127.0.0.1:port
 * with SNI a.test, verifying nothing, and read until the server closes,
 * each wait bounded by IO_MS and the whole by twice that. Returns what
 * arrived, malloc'd (the caller frees); fails the test when the
 * connection or the handshake fails.
 */
static char *
leg_tls_request(int port, const char *req)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { IO_MS / 1000, 0 };
	double			 deadline = itest_now() + 2 * IO_MS / 1e3;
	SSL_CTX			*ctx;
	SSL			*ssl;
	char			*buf;
	size_t			 len = 0, cap = 65536;
	int			 fd, n;

	ck_assert_ptr_nonnull(ctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ck_assert((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect to the TLS listener: %s", strerror(errno));
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	ck_assert(SSL_set_fd(ssl, fd) == 1 &&
	    SSL_set_tlsext_host_name(ssl, "a.test") == 1);
	ck_assert_msg(SSL_connect(ssl) == 1, "TLS handshake with the "
	    "listener failed: %s", ERR_error_string(ERR_get_error(), NULL));
	ck_assert_msg(SSL_write(ssl, req, (int)strlen(req)) ==
	    (int)strlen(req), "TLS write failed");
	ck_assert_ptr_nonnull(buf = malloc(cap));
	while (len + 1 < cap && itest_now() < deadline) {
		n = SSL_read(ssl, buf + len, (int)(cap - len - 1));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return buf;
}

/* The status of a raw response, -1 when it is not one. */
static int
leg_raw_status(const char *raw)
{
	int	 status;

	return sscanf(raw, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

/* The body of a raw response (after its head), "" when none. */
static const char *
leg_raw_body(const char *raw)
{
	const char	*p = strstr(raw, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/* --- header rules ------------------------------------------------------ */

/* A POST of LEG_BODY random bytes to path (a strip route to the origin's
 * /sha), with the rules in force: the body arrives whole. */
static void
leg_post_sha(int port, const char *path)
{
	static unsigned char	 body[LEG_BODY];
	struct itest_conn	 c;
	struct itest_resp	 r;
	char			 head[256], hex[65];

	itest_random_fill(body, sizeof(body), 13);
	itest_sha256_hex(body, sizeof(body), hex);
	itest_connect(&c, port, IO_MS);
	snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: " FRONT
	    "\r\nContent-Length: %d\r\n\r\n", path, LEG_BODY);
	itest_send_str(&c, head);
	ck_assert(itest_send(&c, body, sizeof(body), IO_MS) == 0);
	itest_read_response(&c, &r, 0, IO_MS);
	printf("request rules, POST %s with %d bytes: status %d, SHA-256 "
	    "%s\n", path, LEG_BODY, r.status, r.body != NULL &&
	    strcmp((char *)r.body, hex) == 0 ? "the same" : "differs");
	fflush(stdout);
	ck_assert_msg(r.status == 200 && r.body != NULL &&
	    strcmp((char *)r.body, hex) == 0, "POST %s: status %d, body %s, "
	    "want %s", path, r.status, r.body != NULL ? (char *)r.body : "",
	    hex);
	itest_resp_free(&r);
	itest_close(&c);
}

/*
 * Request rules: set removes every instance and adds one at the end (as
 * HAProxy's set-header), add appends, remove drops every instance in any case;
 * the listener's rules run before the upstream's, each section's in file
 * order; VALUE is the rest of the line, trimmed, up to " ;"; a rule
 * wins over what sluice adds itself (X-Forwarded-Proto); a value that
 * expands to nothing removes (set) or adds nothing (add).
 */
START_TEST(test_request_rules)
{
	struct itest		 t;
	struct itest_resp	 r;
	const char		*b;
	int			 dup, pos, note, via;
	char			 v[VAL_MAX];

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /legacy/ app strip\n"
	    "request_header = set X-Env prod\n"
	    "request_header = add X-Seq L1\n"
	    "request_header = set X-Order listener\n"
	    "request_header = add X-Tmp listener\n"
	    "request_header = remove x-SECRET\n"
	    "request_header = add X-Seq L2\n"
	    "request_header = set X-Note  a b  c   ; a comment\n"
	    "request_header = set X-Forwarded-Proto https\n"
	    "request_header = set X-Tab a\tb\n"
	    "request_header = set x-dup one\n"
	    "request_header = remove X-Absent\n"
	    "request_header = add X-Hop rule\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "request_header = add X-Seq U1\n"
	    "request_header = set X-Order upstream\n"
	    "request_header = remove X-Tmp\n"
	    "request_header = set X-Empty $request_id\n"
	    "request_header = add X-Empty-Add $request_id\n",
	    itest_sluice_port(&t), t.origin[0].port);
	leg_get(t.sluice.port, "/rules", FRONT, ECHO "X-Env: dev\r\n"
	    "X-Env: test\r\nX-Seq: C0\r\nX-Secret: s1\r\nx-secret: s2\r\n"
	    "X-Dup: a\r\nX-Pos: p\r\nX-DUP: b\r\nX-Empty: client\r\n"
	    "Connection: X-Hop\r\nX-Hop: client\r\n", &r);
	leg_assert_origin(&r, "GET /rules");
	b = (const char *)r.body;
	leg_values(b, "X-Dup", v, sizeof(v), &dup);
	leg_values(b, "X-Pos", v, sizeof(v), &pos);
	leg_values(b, "X-Note", v, sizeof(v), &note);
	leg_values(b, "Via", v, sizeof(v), &via);
	printf("request rules: X-Env [%s], X-Seq [%s], X-Order [%s], X-Tmp "
	    "[%s], X-Secret [%s], X-Dup [%s] at %d (X-Pos at %d), X-Note [%s] "
	    "at %d (Via at %d), X-Forwarded-Proto [%s], X-Empty [%s], X-Hop "
	    "[%s]\n",
	    leg_v(b, "X-Env"), leg_v(b, "X-Seq"), leg_v(b, "X-Order"),
	    leg_v(b, "X-Tmp"), leg_v(b, "X-Secret"), leg_v(b, "X-Dup"), dup,
	    pos, leg_v(b, "X-Note"), note, via,
	    leg_v(b, "X-Forwarded-Proto"), leg_v(b, "X-Empty"),
	    leg_v(b, "X-Hop"));
	fflush(stdout);
	ck_assert_str_eq(leg_v(b, "X-Env"), "prod");
	ck_assert_str_eq(leg_v(b, "X-Seq"), "C0|L1|L2|U1");
	ck_assert_str_eq(leg_v(b, "X-Order"), "upstream");
	ck_assert_msg(leg_values(b, "X-Tmp", v, sizeof(v), NULL) == 0,
	    "the upstream's remove ran before the listener's add:\n%s", b);
	ck_assert_msg(leg_values(b, "X-Secret", v, sizeof(v), NULL) == 0,
	    "remove left X-Secret [%s]:\n%s", v, b);
	ck_assert_str_eq(leg_v(b, "X-Dup"), "one");
	ck_assert_str_eq(leg_v(b, "X-Note"), "a b  c");
	ck_assert_msg(note > via && via > 0, "a header set anew is not at "
	    "the end, after Via:\n%s", b);
	ck_assert_str_eq(leg_v(b, "X-Forwarded-Proto"), "https");
	ck_assert_str_eq(leg_v(b, "X-Hop"), "rule");
	ck_assert_str_eq(leg_v(b, "X-Tab"), "a\tb");
	ck_assert_msg(leg_values(b, "X-Empty", v, sizeof(v), NULL) == 0 &&
	    leg_values(b, "X-Empty-Add", v, sizeof(v), NULL) == 0 &&
	    leg_values(b, "X-Absent", v, sizeof(v), NULL) == 0, "an empty "
	    "value set or added something:\n%s", b);
	leg_post_sha(t.sluice.port, "/legacy/sha");
	/* last, so that a failure here leaves the rest checked */
	ck_assert_msg(dup > pos, "set did not remove every X-Dup and add "
	    "one at the end (line %d, X-Pos at %d):\n%s", dup, pos, b);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * Response rules: the same three kinds, the upstream's before the
 * listener's (backend, then frontend), each section's in file order.
 */
START_TEST(test_response_rules)
{
	struct itest		 t;
	struct itest_resp	 r;
	const char		*h;
	int			 dup, pos;
	char			 v[VAL_MAX];

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n"
	    "response_header = add X-Layer listener\n"
	    "response_header = remove x-powered-by\n"
	    "response_header = set X-Frame-Options DENY\n"
	    "response_header = set X-Both listener\n"
	    "response_header = remove X-Up-Tmp\n"
	    "response_header = set X-Cache-Note  hit  or  miss  ; comment\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "response_header = remove Server\n"
	    "response_header = set X-Dup one\n"
	    "response_header = add X-Layer upstream\n"
	    "response_header = set X-Both upstream\n"
	    "response_header = add X-Up-Tmp 1\n"
	    "response_header = set X-Empty $request_id\n"
	    "response_header = add X-Hop-R rule\n",
	    itest_sluice_port(&t), t.origin[0].port);
	leg_get(t.sluice.port, "/rules", FRONT, ECHO
	    "X-Reply: Server: legacy/1.0\r\nX-Reply: X-Powered-By: PHP/5.2\r\n"
	    "X-Reply: X-Dup: 1\r\nX-Reply: X-Pos: p\r\nX-Reply: X-Dup: 2\r\n"
	    "X-Reply: x-dup: 3\r\nX-Reply: X-Frame-Options: SAMEORIGIN\r\n"
	    "X-Reply: X-Layer: origin\r\nX-Reply: X-Empty: e\r\n"
	    "X-Reply: Connection: X-Hop-R\r\nX-Reply: X-Hop-R: origin\r\n",
	    &r);
	leg_assert_origin(&r, "GET /rules");
	h = r.head;
	leg_values(h, "X-Dup", v, sizeof(v), &dup);
	leg_values(h, "X-Pos", v, sizeof(v), &pos);
	printf("response rules: Server [%s], X-Powered-By [%s], X-Dup [%s] "
	    "at %d (X-Pos at %d), X-Layer [%s], X-Frame-Options [%s], X-Both "
	    "[%s], X-Up-Tmp [%s], X-Cache-Note [%s], X-Empty [%s], X-Hop-R "
	    "[%s]\n",
	    leg_v(h, "Server"), leg_v(h, "X-Powered-By"), leg_v(h, "X-Dup"),
	    dup, pos, leg_v(h, "X-Layer"), leg_v(h, "X-Frame-Options"),
	    leg_v(h, "X-Both"), leg_v(h, "X-Up-Tmp"), leg_v(h,
	    "X-Cache-Note"), leg_v(h, "X-Empty"), leg_v(h, "X-Hop-R"));
	fflush(stdout);
	ck_assert_msg(itest_resp_header_count(&r, "Server") == 0 &&
	    itest_resp_header_count(&r, "X-Powered-By") == 0, "remove left "
	    "a header:\n%s", h);
	ck_assert_str_eq(leg_v(h, "X-Dup"), "one");
	ck_assert_str_eq(leg_v(h, "X-Layer"), "origin|upstream|listener");
	ck_assert_str_eq(leg_v(h, "X-Frame-Options"), "DENY");
	ck_assert_str_eq(leg_v(h, "X-Both"), "listener");
	ck_assert_msg(itest_resp_header_count(&r, "X-Up-Tmp") == 0,
	    "the listener's remove ran before the upstream's add:\n%s", h);
	ck_assert_str_eq(leg_v(h, "X-Cache-Note"), "hit  or  miss");
	ck_assert_str_eq(leg_v(h, "X-Hop-R"), "rule");
	ck_assert_msg(itest_resp_header_count(&r, "X-Empty") == 0,
	    "set to an empty value left X-Empty:\n%s", h);
	/* last, so that a failure here leaves the rest checked */
	ck_assert_msg(dup > pos, "set did not remove every X-Dup and add "
	    "one at the end (line %d, X-Pos at %d):\n%s", dup, pos, h);
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/*
 * Every variable: $remote_addr, $scheme, $host (lower-cased, no port; an
 * absolute-form target's host; empty without a Host), $request_id (the
 * ID that goes upstream and comes back), $server (the server's name, or
 * HOST:PORT without one, in the listener's rules as in the upstream's,
 * on requests and responses) and $$.
 */
START_TEST(test_variables)
{
	struct itest		 t;
	struct itest_resp	 r;
	const char		*b, *h;
	char			 id[ID_MAX], unnamed[64], v[VAL_MAX];

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nroute = /unnamed/ unnamed\n"
	    "request_id = X-Request-Id\n"
	    "request_header = set X-V-Addr $remote_addr\n"
	    "request_header = set X-V-Scheme $scheme\n"
	    "request_header = set X-V-Host $host\n"
	    "request_header = set X-V-Id $request_id\n"
	    "request_header = set X-V-Server $server\n"
	    "request_header = set X-V-Dollar cost: $$5 $$$$ $$host\n"
	    "request_header = set X-V-Mix <$host|$scheme|$remote_addr>\n"
	    "response_header = set X-R-Id $request_id\n"
	    "response_header = set X-R-Server $server\n"
	    "response_header = set X-R-Host $host\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "request_header = set X-U-Server $server\n\n"
	    "[upstream unnamed]\nserver = 127.0.0.1:%d\n"
	    "request_header = set X-U-Server $server\n",
	    itest_sluice_port(&t), t.origin[0].port, t.origin[0].port);
	leg_get(t.sluice.port, "/vars", "WWW.Example.COM:8080", ECHO, &r);
	leg_assert_origin(&r, "GET /vars");
	b = (const char *)r.body;
	h = r.head;
	snprintf(id, sizeof(id), "%s", leg_v(h, "X-Request-Id"));
	printf("variables: $remote_addr [%s] $scheme [%s] $host [%s] "
	    "$request_id [%s] (upstream [%s], response [%s]) $server [%s] "
	    "[%s] $$ [%s] mixed [%s]\n", leg_v(b, "X-V-Addr"), leg_v(b,
	    "X-V-Scheme"), leg_v(b, "X-V-Host"), leg_v(b, "X-V-Id"),
	    leg_v(b, "X-Request-Id"), id, leg_v(b, "X-V-Server"),
	    leg_v(b, "X-U-Server"), leg_v(b, "X-V-Dollar"),
	    leg_v(b, "X-V-Mix"));
	ck_assert_str_eq(leg_v(b, "X-V-Addr"), "127.0.0.1");
	ck_assert_str_eq(leg_v(b, "X-V-Scheme"), "http");
	ck_assert_str_eq(leg_v(b, "X-V-Host"), "www.example.com");
	ck_assert_msg(leg_is_id(id), "response X-Request-Id [%s]", id);
	ck_assert_str_eq(leg_v(b, "X-V-Id"), id);
	ck_assert_str_eq(leg_v(b, "X-Request-Id"), id);
	ck_assert_str_eq(leg_v(h, "X-R-Id"), id);
	ck_assert_str_eq(leg_v(b, "X-V-Server"), "a");
	ck_assert_str_eq(leg_v(b, "X-U-Server"), "a");
	ck_assert_str_eq(leg_v(h, "X-R-Server"), "a");
	ck_assert_str_eq(leg_v(h, "X-R-Host"), "www.example.com");
	ck_assert_str_eq(leg_v(b, "X-V-Dollar"), "cost: $5 $$ $host");
	ck_assert_str_eq(leg_v(b, "X-V-Mix"),
	    "<www.example.com|http|127.0.0.1>");
	itest_resp_free(&r);

	/* a server without a name is HOST:PORT */
	snprintf(unnamed, sizeof(unnamed), "127.0.0.1:%d", t.origin[0].port);
	leg_get(t.sluice.port, "/unnamed/x", FRONT, ECHO, &r);
	leg_assert_origin(&r, "GET /unnamed/x");
	b = (const char *)r.body;
	printf("variables: $server of a server without name= [%s] [%s], in "
	    "the response [%s]\n", leg_v(b, "X-V-Server"), leg_v(b,
	    "X-U-Server"), leg_v(r.head, "X-R-Server"));
	ck_assert_str_eq(leg_v(b, "X-U-Server"), unnamed);
	ck_assert_str_eq(leg_v(b, "X-V-Server"), unnamed);
	ck_assert_str_eq(leg_v(r.head, "X-R-Server"), unnamed);
	itest_resp_free(&r);

	/* absolute form: the target's host */
	itest_request(t.sluice.port, "GET http://Abs.Example:81/vars "
	    "HTTP/1.1\r\nHost: other.example\r\n" ECHO
	    "Connection: close\r\n\r\n", &r);
	leg_assert_origin(&r, "GET http://Abs.Example:81/vars");
	b = (const char *)r.body;
	printf("variables: $host of an absolute-form request [%s]\n",
	    leg_v(b, "X-V-Host"));
	ck_assert_str_eq(leg_v(b, "X-V-Host"), "abs.example");
	itest_resp_free(&r);

	/* HTTP/1.0 without Host: $host is empty, so set adds nothing */
	leg_get(t.sluice.port, "/vars", NULL, ECHO, &r);
	leg_assert_origin(&r, "GET /vars HTTP/1.0 without Host");
	b = (const char *)r.body;
	printf("variables: without Host, X-V-Host [%s] (%d), X-V-Mix [%s], "
	    "X-R-Host [%s]\n", leg_v(b, "X-V-Host"), leg_values(b,
	    "X-V-Host", v, sizeof(v), NULL), leg_v(b, "X-V-Mix"),
	    leg_v(r.head, "X-R-Host"));
	fflush(stdout);
	ck_assert_msg(leg_values(b, "X-V-Host", v, sizeof(v), NULL) == 0 &&
	    itest_resp_header_count(&r, "X-R-Host") == 0, "an empty $host "
	    "was set:\n%s\n%s", b, r.head);
	ck_assert_str_eq(leg_v(b, "X-V-Mix"), "<|http|127.0.0.1>");
	itest_resp_free(&r);
	itest_finish(&t);
}
END_TEST

/* One of sluice's own responses and the rules it must carry. */
struct leg_own {
	const char	*what;
	const char	*req;		/* the raw request */
	int		 status;
	const char	*up;		/* X-U (the upstream's rule), "": none,
					 * NULL: not checked */
	const char	*server;	/* X-LS: "[$server]" */
};

static const struct leg_own leg_owns[] = {
	{ "the origin's 200", "GET /app/x HTTP/1.1\r\nHost: " FRONT "\r\n"
	    ECHO "Connection: close\r\n\r\n", 200, "app", "[a]" },
	{ "404, no route", "GET /nothing HTTP/1.1\r\nHost: " FRONT "\r\n"
	    "Connection: close\r\n\r\n", 404, "", "[]" },
	{ "400, a control byte", "GET /app/x HTTP/1.1\r\nHost: " FRONT
	    "\r\nX-Bad: a\001b\r\n\r\n", 400, "", "[]" },
	{ "400, a path above /", "GET /app/../.. HTTP/1.1\r\nHost: " FRONT
	    "\r\nConnection: close\r\n\r\n", 400, "", "[]" },
	{ "501, CONNECT", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443"
	    "\r\n\r\n", 501, "", "[]" },
	{ "501, TRACE", "TRACE /app/x HTTP/1.1\r\nHost: " FRONT "\r\n\r\n",
	    501, "", "[]" },
	{ "OPTIONS with Max-Forwards: 0", "OPTIONS /app/x HTTP/1.1\r\n"
	    "Host: " FRONT "\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n",
	    200, NULL, NULL },
	{ "502, the server refuses", "GET /dead/x HTTP/1.1\r\nHost: " FRONT
	    "\r\nConnection: close\r\n\r\n", 502, "dead", "[d]" },
	{ "504, the server is slow", "GET /slow/delay/3000 HTTP/1.1\r\n"
	    "Host: " FRONT "\r\nConnection: close\r\n\r\n", 504, "slow",
	    "[s]" },
};

/* Check the rules on one of sluice's own responses. */
static void
leg_own_check(int port, const struct leg_own *o)
{
	struct itest_resp	 r;

	itest_request(port, o->req, &r);
	printf("own responses, %s: status %d, X-L [%s], X-U [%s], X-LS "
	    "[%s]\n", o->what, r.status, leg_v(r.head, "X-L"),
	    leg_v(r.head, "X-U"), leg_v(r.head, "X-LS"));
	fflush(stdout);
	ck_assert_msg(r.status == o->status, "%s: status %d, want %d",
	    o->what, r.status, o->status);
	ck_assert_msg(strcmp(leg_v(r.head, "X-L"), "listener") == 0,
	    "%s: no listener rule:\n%s", o->what, r.head);
	ck_assert_msg(leg_is_id(leg_v(r.head, "X-Request-Id")), "%s: not one "
	    "request ID:\n%s", o->what, r.head);
	if (o->up != NULL)
		ck_assert_msg(strcmp(leg_v(r.head, "X-U"), o->up) == 0,
		    "%s: X-U [%s], want [%s]:\n%s", o->what, leg_v(r.head,
		    "X-U"), o->up, r.head);
	if (o->server != NULL)
		ck_assert_msg(strcmp(leg_v(r.head, "X-LS"), o->server) == 0,
		    "%s: X-LS [%s], want [%s]", o->what, leg_v(r.head,
		    "X-LS"), o->server);
	itest_resp_free(&r);
}

/* A WebSocket upgrade through route /ws: the 101 has both sections'
 * rules and the request ID. */
static void
leg_own_101(int port)
{
	struct itest_conn	 c;
	struct itest_resp	 r;

	itest_connect(&c, port, IO_MS);
	itest_send_str(&c, "GET /ws HTTP/1.1\r\nHost: " FRONT "\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n");
	itest_read_head(&c, &r, IO_MS);
	printf("own responses, 101 from the server: status %d, X-L [%s], X-U "
	    "[%s], X-LS [%s], X-Request-Id [%s]\n", r.status, leg_v(r.head,
	    "X-L"), leg_v(r.head, "X-U"), leg_v(r.head, "X-LS"),
	    leg_v(r.head, "X-Request-Id"));
	fflush(stdout);
	ck_assert_msg(r.status == 101 && strcmp(leg_v(r.head, "X-L"),
	    "listener") == 0 && strcmp(leg_v(r.head, "X-U"), "app") == 0 &&
	    strcmp(leg_v(r.head, "X-LS"), "[a]") == 0 &&
	    leg_is_id(leg_v(r.head, "X-Request-Id")), "the 101 lacks a rule "
	    "or the ID:\n%s", r.head != NULL ? r.head : "");
	itest_resp_free(&r);
	itest_close(&c);
}

/*
 * Response rules on sluice's own responses: the listener's always; the
 * upstream's only when the error belongs to it (502, 503, 504), not on a
 * 400, 404 or 501; $server is empty before a server was chosen. Each has
 * one request ID; so has a 101 that switches to a tunnel.
 */
START_TEST(test_own_responses)
{
	struct itest	 t;
	char		*body;
	size_t		 i;
	int		 admin = itest_free_port();

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_start(&t, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "route = /app/ app\nroute = /dead/ dead\n"
	    "route = /slow/ slow strip\nroute = /ws app\n"
	    "request_id = X-Request-Id\n"
	    "response_header = add X-L listener\n"
	    "response_header = set X-LS [$server]\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "response_header = add X-U app\n\n"
	    "[upstream dead]\nserver = 127.0.0.1:%d name=d\nretries = 0\n"
	    "response_header = add X-U dead\n\n"
	    "[upstream slow]\nserver = 127.0.0.1:%d name=s\n"
	    "read_timeout = 1s\nresponse_header = add X-U slow\n", admin,
	    itest_sluice_port(&t), t.origin[0].port, itest_free_port(),
	    t.origin[0].port);
	for (i = 0; i < sizeof(leg_owns) / sizeof(leg_owns[0]); i++)
		leg_own_check(t.sluice.port, &leg_owns[i]);
	leg_own_101(t.sluice.port);
	body = itest_admin_post(admin, "/upstreams/app/servers/a/weight"
	    "?value=0", NULL);
	free(body);
	leg_own_check(t.sluice.port, &(struct leg_own){ "503, weight 0",
	    "GET /app/x HTTP/1.1\r\nHost: " FRONT "\r\nConnection: close"
	    "\r\n\r\n", 503, "app", "[]" });
	itest_finish(&t);
}
END_TEST

/* --- what sluice -t refuses -------------------------------------------- */

/* One line put in a config that is valid without it. */
struct leg_line {
	int		 upstream;	/* in [upstream app], else in the
					 * listener */
	const char	*line;
	const char	*key;		/* the key named, NULL: accepted */
	const char	*why;		/* in the message too, or NULL */
};

/* The line of a leg_line in leg_conf_line()'s file. */
#define LEG_LISTENER_LINE	4
#define LEG_UPSTREAM_LINE	8

static const struct leg_line leg_lines[] = {
	/* accepted: the same file but for these lines must pass */
	{ 0, "request_header = set X-A a\tb", NULL, NULL },
	{ 0, "request_header = add X-A v ; a comment", NULL, NULL },
	{ 0, "request_header = remove X-A", NULL, NULL },
	{ 0, "request_header = set X-A "
	    "$remote_addr$scheme$host$request_id$server$$", NULL, NULL },
	{ 0, "response_header = set Expect x", NULL, NULL },
	{ 0, "response_header = add X-A $server $$", NULL, NULL },
	{ 0, "request_id = X-Request-Id", NULL, NULL },
	{ 0, "route = /legacy/ app strip", NULL, NULL },
	{ 0, "route = /legacy app strip", NULL, NULL },
	{ 1, "host = pass", NULL, NULL },
	{ 1, "host = server", NULL, NULL },
	{ 1, "host = intranet.local", NULL, NULL },
	{ 1, "host = intranet.local:8080", NULL, NULL },
	{ 1, "host = [::1]:8080", NULL, NULL },
	{ 1, "rewrite_location = off", NULL, NULL },
	{ 1, "rewrite_cookie_path = on", NULL, NULL },
	{ 1, "request_header = set X-A $server", NULL, NULL },
	/* framing and hop-by-hop headers, any op, any case */
	{ 0, "request_header = set Content-Length 5", "request_header", NULL },
	{ 0, "request_header = add Transfer-Encoding chunked",
	    "request_header", NULL },
	{ 0, "request_header = remove Connection", "request_header", NULL },
	{ 0, "request_header = set keep-alive 1", "request_header", NULL },
	{ 0, "request_header = remove PROXY-CONNECTION", "request_header",
	    NULL },
	{ 0, "request_header = set TE trailers", "request_header", NULL },
	{ 0, "request_header = add Trailer X-T", "request_header", NULL },
	{ 0, "request_header = remove upgrade", "request_header", NULL },
	{ 0, "request_header = set Expect 100-continue", "request_header",
	    NULL },
	{ 0, "request_header = remove Host", "request_header", NULL },
	{ 0, "request_header = set host x", "request_header", NULL },
	{ 0, "response_header = remove Content-Length", "response_header",
	    NULL },
	{ 0, "response_header = set transfer-encoding chunked",
	    "response_header", NULL },
	{ 0, "response_header = add Connection close", "response_header",
	    NULL },
	{ 0, "response_header = remove Keep-Alive", "response_header", NULL },
	{ 0, "response_header = set Proxy-Connection x", "response_header",
	    NULL },
	{ 0, "response_header = remove TE", "response_header", NULL },
	{ 0, "response_header = add Trailer x", "response_header", NULL },
	{ 0, "response_header = set Upgrade h2c", "response_header", NULL },
	{ 0, "response_header = set Host x", "response_header", NULL },
	{ 1, "request_header = set Connection x", "request_header", NULL },
	{ 1, "request_header = add Expect x", "request_header", NULL },
	{ 1, "response_header = remove Transfer-Encoding", "response_header",
	    NULL },
	/* names that are not tokens */
	{ 0, "request_header = set X(A) v", "request_header", NULL },
	{ 0, "request_header = set X:A v", "request_header", NULL },
	{ 0, "request_header = remove X/A", "request_header", NULL },
	{ 0, "response_header = add X@A v", "response_header", NULL },
	/* values with control bytes */
	{ 0, "request_header = set X-A a\001b", "request_header", NULL },
	{ 0, "request_header = set X-A a\rb", "request_header", NULL },
	{ 0, "response_header = set X-A a\177b", "response_header", NULL },
	/* variables */
	{ 0, "request_header = set X-A $hostx", "request_header", "hostx" },
	{ 0, "request_header = set X-A ${host}", "request_header", NULL },
	{ 0, "request_header = set X-A cost $", "request_header", NULL },
	{ 0, "request_header = set X-A $-", "request_header", NULL },
	{ 0, "response_header = set X-A $nope", "response_header", "nope" },
	{ 1, "request_header = set X-A $unknown", "request_header",
	    "unknown" },
	/* ops and their operands */
	{ 0, "request_header = replace X-A v", "request_header", NULL },
	{ 0, "request_header = set X-A", "request_header", NULL },
	{ 0, "request_header = add X-A", "request_header", NULL },
	{ 0, "request_header = remove X-A v", "request_header", NULL },
	{ 0, "request_header = set", "request_header", NULL },
	{ 1, "response_header = delete X-A", "response_header", NULL },
	/* the ID's header name */
	{ 0, "request_id = Content-Length", "request_id", NULL },
	{ 0, "request_id = Host", "request_id", NULL },
	{ 0, "request_id = Connection", "request_id", NULL },
	{ 0, "request_id = X Bad", "request_id", NULL },
	{ 0, "request_id = X(Bad)", "request_id", NULL },
};

/*
 * Write path: a config that is valid as it is, with the line l in the
 * listener (line LEG_LISTENER_LINE) or the upstream (LEG_UPSTREAM_LINE).
 */
static void
leg_conf_line(const char *path, const struct leg_line *l, int port,
    int server)
{
	char	*text;

	ck_assert(asprintf(&text, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n%s\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d\n%s\n", port,
	    l->upstream ? "; nothing" : l->line, server,
	    l->upstream ? l->line : "; nothing") != -1);
	itest_write_file(path, text);
	free(text);
}

/* A line for messages: control bytes as \xHH. */
static const char *
leg_printable(const char *s, char *out, size_t len)
{
	size_t	 at = 0;

	for (; *s != '\0' && at + 5 < len; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			at += (size_t)snprintf(out + at, len - at, "\\x%02x",
			    (unsigned char)*s);
		else
			out[at++] = *s;
	out[at] = '\0';
	return out;
}

/*
 * `sluice -t` on each line of leg_lines: the accepted ones pass, every
 * refused one exits 1 with "FILE:LINE: KEY: " and its reason on stderr.
 */
START_TEST(test_refusals)
{
	const struct leg_line	*l;
	struct itest		 t;
	char			*argv[] = { LEG_ARG("./sluice"), LEG_ARG("-t"),
				    LEG_ARG("-c"), NULL, NULL };
	char			*out, want[512], shown[256];
	size_t			 i, n = sizeof(leg_lines) /
				    sizeof(leg_lines[0]);
	int			 st, ok = 0, refused = 0;
	int			 port = itest_free_port();

	itest_init(&t);
	argv[3] = t.conf;
	for (i = 0; i < n; i++) {
		l = &leg_lines[i];
		leg_printable(l->line, shown, sizeof(shown));
		leg_conf_line(t.conf, l, port, itest_free_port());
		st = itest_run(argv, &out, 10000);
		if (l->key == NULL) {
			ck_assert_msg(st == 0, "[%s] \"%s\": sluice -t exited "
			    "%d, want 0:\n%s", l->upstream ? "upstream" :
			    "listener", shown, st, out);
			ok++;
			free(out);
			continue;
		}
		snprintf(want, sizeof(want), "%s:%d: %s: ", t.conf,
		    l->upstream ? LEG_UPSTREAM_LINE : LEG_LISTENER_LINE,
		    l->key);
		ck_assert_msg(st == 1 && strstr(out, want) != NULL, "[%s] "
		    "\"%s\": sluice -t exited %d, want 1 with \"%s\":\n%s",
		    l->upstream ? "upstream" : "listener", shown, st, want,
		    out);
		ck_assert_msg(l->why == NULL || strstr(strstr(out, want),
		    l->why) != NULL, "\"%s\": the message does not name %s:"
		    "\n%s", shown, l->why, out);
		refused++;
		free(out);
	}
	printf("sluice -t: %d lines accepted, %d refused, each with its "
	    "file:line: key:\n", ok, refused);
	fflush(stdout);
}
END_TEST

/* --- the Host sent upstream -------------------------------------------- */

/* One request and the Host and X-Forwarded-Host it must arrive with. */
struct leg_host_row {
	const char	*req;		/* the request line and Host, CRLF
					 * each; {P}: the origin's port */
	const char	*host;		/* Host upstream */
	const char	*xfh;		/* X-Forwarded-Host, "": none */
};

static const struct leg_host_row leg_host_rows[] = {
	{ "GET /p HTTP/1.1\r\nHost: Front.Example:8080\r\n",
	    "Front.Example:8080", "Front.Example:8080" },
	{ "GET /server/x HTTP/1.1\r\nHost: Front.Example:8080\r\n",
	    "127.0.0.1:{P}", "Front.Example:8080" },
	{ "GET /server-name/x HTTP/1.1\r\nHost: Front.Example:8080\r\n",
	    "localhost:{P}", "Front.Example:8080" },
	{ "GET /name/x HTTP/1.1\r\nHost: Front.Example:8080\r\n",
	    "intranet.local", "Front.Example:8080" },
	{ "GET /name-port/x HTTP/1.1\r\nHost: front.example\r\n",
	    "Intranet.Local:8080", "front.example" },
	{ "GET http://abs.example/name/x HTTP/1.1\r\nHost: abs.example\r\n",
	    "intranet.local", "abs.example" },
	{ "GET http://abs.example/server/x HTTP/1.1\r\nHost: abs.example\r\n",
	    "127.0.0.1:{P}", "abs.example" },
	{ "GET /name/x HTTP/1.0\r\n", "intranet.local", "" },
	{ "GET /server/x HTTP/1.0\r\n", "127.0.0.1:{P}", "" },
};

/*
 * The listener and upstreams of the host tests, on a server at port;
 * tls: the lines that make the upstreams speak TLS ("" for plain).
 */
static void
leg_host_config(struct itest *t, int port, const char *tls)
{
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = pass\nroute = /server/ server\n"
	    "route = /server-name/ servername\nroute = /name/ name\n"
	    "route = /name-port/ nameport\n\n"
	    "[upstream pass]\nserver = 127.0.0.1:%d name=a\n%s\n"
	    "[upstream server]\nserver = 127.0.0.1:%d name=a\n"
	    "host = server\n%s\n"
	    "[upstream servername]\nserver = localhost:%d name=a\n"
	    "host = server\n%s\n"
	    "[upstream name]\nserver = 127.0.0.1:%d name=a\n"
	    "host = intranet.local\n%s\n"
	    "[upstream nameport]\nserver = 127.0.0.1:%d name=a\n"
	    "host = Intranet.Local:8080\n%s\n", itest_sluice_port(t),
	    port, tls, port, tls, port, tls, port, tls, port, tls);
}

/* Send every row of leg_host_rows and check what the origin got. */
static void
leg_host_rows_check(struct itest *t, int port, const char *what)
{
	const struct leg_host_row	*row;
	struct itest_resp		 r;
	char				 req[512], want[128], v[VAL_MAX];
	char				 line[256];
	const char			*b;
	size_t				 i;
	int				 n;

	for (i = 0; i < sizeof(leg_host_rows) / sizeof(leg_host_rows[0]);
	    i++) {
		row = &leg_host_rows[i];
		snprintf(req, sizeof(req), "%s" ECHO "Connection: close"
		    "\r\n\r\n", row->req);
		itest_request(t->sluice.port, req, &r);
		leg_first_line(row->req, line, sizeof(line));
		leg_assert_origin(&r, line);
		b = (const char *)r.body;
		leg_port(row->host, port, want, sizeof(want));
		n = leg_values(b, "Host", v, sizeof(v), NULL);
		printf("host, %s: %s: Host [%s], X-Forwarded-Host [%s]\n", what,
		    line, v, leg_v(b, "X-Forwarded-Host"));
		fflush(stdout);
		ck_assert_msg(n == 1 && strcmp(v, want) == 0, "%s, %s: Host "
		    "upstream [%s] (%d), want [%s]", what, line, v, n, want);
		ck_assert_msg(strcmp(leg_v(b, "X-Forwarded-Host"), row->xfh) ==
		    0, "%s, %s: X-Forwarded-Host [%s], want [%s]", what, line,
		    leg_v(b, "X-Forwarded-Host"), row->xfh);
		itest_resp_free(&r);
	}
}

/* host = pass, server (an address and a name) and NAME, with and without
 * a port; X-Forwarded-Host is the client's Host all the same. */
START_TEST(test_host)
{
	struct itest	 t;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	leg_host_config(&t, t.origin[0].port, "");
	leg_host_rows_check(&t, t.origin[0].port, "plain upstream");
	itest_finish(&t);
}
END_TEST

/* The same rows to an upstream over TLS (the origin speaks only TLS, so
 * a 200 is a request that went over it). */
START_TEST(test_host_tls)
{
	struct itest	 t;
	char		*tls;

	itest_init(&t);
	itest_origin_start_opts(&t, 0, "tls", "-T %s/a", leg_certdir);
	ck_assert(asprintf(&tls, "tls = on\ntls_ca = %s/ca.pem\n"
	    "tls_server_name = a.test\n", leg_certdir) != -1);
	leg_host_config(&t, t.origin[0].port, tls);
	leg_host_rows_check(&t, t.origin[0].port, "TLS upstream");
	free(tls);
	itest_finish(&t);
}
END_TEST

/* --- request IDs ------------------------------------------------------- */

/* One request ID as recorded (at most ID_MAX - 1 bytes). */
struct leg_id {
	char	 s[ID_MAX];
};

/* The IDs of one run, as each place recorded them. */
struct leg_ids {
	struct leg_id	*resp;		/* the responses' X-Request-Id */
	int	 nresp;
	int	 mismatch;	/* responses whose X-Origin-Saw differs */
	char	 first_bad[2 * ID_MAX + 64];
	int	 max;
};

/* The order of two struct leg_id, for qsort and bsearch. */
static int
leg_id_cmp(const void *a, const void *b)
{
	const struct leg_id	*x = a, *y = b;

	return strcmp(x->s, y->s);
}

/* One request of the load client: keep its ID; it must be one ID sluice
 * made and the same the origin saw. */
static void
leg_ids_take(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct leg_ids	*ids = arg;

	if (q->nvalues < 2 || !leg_is_id(q->value[0]) ||
	    strcmp(q->value[0], q->value[1]) != 0) {
		if (ids->mismatch++ == 0)
			snprintf(ids->first_bad, sizeof(ids->first_bad),
			    "status %d, X-Request-Id [%s], X-Origin-Saw [%s]",
			    q->status, q->nvalues > 0 ? q->value[0] : "",
			    q->nvalues > 1 ? q->value[1] : "");
	}
	if (ids->nresp < ids->max)
		snprintf(ids->resp[ids->nresp++].s, ID_MAX, "%s",
		    q->nvalues > 0 ? q->value[0] : "");
}

/* The last field of every line of path, sorted, into a malloc'd array of
 * *n (at most max). */
static struct leg_id *
leg_file_ids(const char *path, int max, int *n)
{
	char		*s = itest_read_file(path, NULL), *line, *save = NULL;
	struct leg_id	*out = calloc((size_t)max, sizeof(*out));

	ck_assert_ptr_nonnull(out);
	*n = 0;
	for (line = strtok_r(s, "\n", &save); line != NULL && *n < max;
	    line = strtok_r(NULL, "\n", &save))
		leg_last_field(line, out[(*n)++].s, ID_MAX);
	free(s);
	qsort(out, (size_t)*n, sizeof(*out), leg_id_cmp);
	return out;
}

/* How many IDs of a sorted array repeat one before them. */
static int
leg_id_repeats(struct leg_id *ids, int n)
{
	int	 i, rep = 0;

	for (i = 1; i < n; i++)
		rep += strcmp(ids[i - 1].s, ids[i].s) == 0;
	return rep;
}

/*
 * Of the 32 hex digit positions of n IDs, how many do not take all 16
 * values: 0 for random IDs (with 10,000 of them a digit is missing from a
 * position with probability near 16 * (15/16)^10000), not for IDs that
 * count, or that carry a fixed part.
 */
static int
leg_id_fixed_positions(struct leg_id *ids, int n)
{
	int	 pos, i, seen, fixed = 0;

	for (pos = 0; pos < 32; pos++) {
		seen = 0;
		for (i = 0; i < n; i++)
			if (leg_is_id(ids[i].s))
				seen |= 1 << (ids[i].s[pos] <= '9' ?
				    ids[i].s[pos] - '0' :
				    ids[i].s[pos] - 'a' + 10);
		fixed += seen != 0xffff;
	}
	return fixed;
}

/* The index of the first difference of two sorted arrays of n, -1. */
static int
leg_id_diff(struct leg_id *a, struct leg_id *b, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].s, b[i].s) != 0)
			return i;
	return -1;
}

/* Run the load client for n requests on t's sluice and take their IDs. */
static void
leg_ids_run(struct itest *t, const char *name, int n, struct leg_ids *ids)
{
	struct itest_load	 l;
	int			 st;

	memset(ids, 0, sizeof(*ids));
	ids->max = n;
	ids->resp = calloc((size_t)n, sizeof(*ids->resp));
	ck_assert_ptr_nonnull(ids->resp);
	itest_load_start(t, &l, name, t->sluice.port, "-q -c 8 -d 0 -n %d "
	    "-p /bytes/16 -H X-Request-Id -H X-Origin-Saw", n);
	st = itest_proc_wait(&l.proc, LOAD_MS);
	ck_assert_msg(st == 0, "loadgen %s exited %d (-2: still running "
	    "after %d ms):\n%s", name, st, LOAD_MS, itest_file_tail(l.notes));
	itest_load_assert_clean(&l, name);
	ck_assert_int_eq(itest_reqs_each(&l, leg_ids_take, ids), n);
	qsort(ids->resp, (size_t)ids->nresp, sizeof(*ids->resp),
	    leg_id_cmp);
}

/*
 * 10,000 requests over workers = 2: 10,000 distinct IDs, each one ID in
 * the response, the same the origin got (X-Origin-Saw, request by
 * request), and the same set in the origin's log and in the access log;
 * after a restart, none comes again.
 */
START_TEST(test_ids_unique)
{
	struct itest	 t;
	struct leg_ids	 ids, again;
	struct leg_id	*up, *logged;
	char		 old[256];
	int		 nup, nlog, dup, i, seen = 0, fixed;
	double		 t0;

	itest_init(&t);
	itest_origin_start_opts(&t, 0, "a", "-L X-Request-Id");
	itest_sluice_port(&t);
	itest_sluice_config(&t, "workers = 2\nshutdown_timeout = 5s\n",
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "request_id = X-Request-Id\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n", t.sluice.port,
	    t.origin[0].port);
	itest_sluice_launch(&t);
	t0 = itest_now();
	leg_ids_run(&t, "ids", NIDS, &ids);
	ck_assert_msg(itest_wait_lines(t.access_log, NIDS, WAIT_MS),
	    "%d access-log lines for %d requests", itest_count_lines(
	    t.access_log), NIDS);
	up = leg_file_ids(t.origin_log[0], 2 * NIDS, &nup);
	logged = leg_file_ids(t.access_log, 2 * NIDS, &nlog);
	dup = leg_id_repeats(ids.resp, ids.nresp);
	fixed = leg_id_fixed_positions(ids.resp, ids.nresp);
	printf("ids: %d requests (workers = 2) in %.1f s: %d IDs in the "
	    "responses, %d repeated, %d digit positions not taking all 16 "
	    "values, %d not one sluice-made ID the same as upstream; %d in "
	    "the origin's log, %d in the access log%s%s\n", NIDS,
	    itest_now() - t0, ids.nresp, dup, fixed, ids.mismatch, nup, nlog,
	    ids.mismatch > 0 ? ", first: " : "", ids.first_bad);
	fflush(stdout);
	ck_assert_msg(ids.mismatch == 0, "%d responses: %s", ids.mismatch,
	    ids.first_bad);
	ck_assert_msg(dup == 0, "%d IDs repeat", dup);
	ck_assert_msg(fixed == 0, "%d of the 32 hex digits of the IDs do not "
	    "vary as 128 random bits do", fixed);
	ck_assert_int_eq(nup, NIDS);
	ck_assert_int_eq(nlog, NIDS);
	i = leg_id_diff(ids.resp, up, NIDS);
	ck_assert_msg(i == -1, "the origin's log and the responses differ: "
	    "[%s] and [%s]", i >= 0 ? up[i].s : "",
	    i >= 0 ? ids.resp[i].s : "");
	i = leg_id_diff(ids.resp, logged, NIDS);
	ck_assert_msg(i == -1, "the access log and the responses differ: "
	    "[%s] and [%s]", i >= 0 ? logged[i].s : "",
	    i >= 0 ? ids.resp[i].s : "");

	/* a new process makes new IDs (the old error log moves aside: the
	 * launch waits for a "ready" in it) */
	ck_assert_int_eq(itest_proc_stop(&t.sluice, ITEST_STOP_TIMEOUT_MS), 0);
	snprintf(old, sizeof(old), "%s.1", t.error_log);
	ck_assert(rename(t.error_log, old) == 0);
	itest_sluice_launch(&t);
	leg_ids_run(&t, "again", NIDS_AGAIN, &again);
	for (i = 0; i < again.nresp; i++)
		seen += bsearch(&again.resp[i], ids.resp, (size_t)ids.nresp,
		    sizeof(*ids.resp), leg_id_cmp) != NULL;
	printf("ids: after a restart, %d requests: %d IDs seen before, %d "
	    "repeated, %d not as upstream\n", again.nresp, seen,
	    leg_id_repeats(again.resp, again.nresp), again.mismatch);
	fflush(stdout);
	ck_assert_msg(seen == 0 && again.mismatch == 0 &&
	    leg_id_repeats(again.resp, again.nresp) == 0, "after a restart: "
	    "%d IDs seen before, %d bad (%s)", seen, again.mismatch,
	    again.first_bad);
	free(up);
	free(logged);
	free(ids.resp);
	free(again.resp);
	itest_finish(&t);
}
END_TEST

/* One request of the ID table and what must become of its ID. */
struct leg_id_row {
	const char	*what;
	int		 listener;	/* index into the test's ports */
	const char	*headers;	/* the client's ID lines, CRLF each */
	const char	*kept;		/* the ID kept, NULL: a new one */
	const char	*logged;	/* in the access log, NULL: kept */
};

/* The listeners of test_ids_trust. */
enum { LEG_TRUST = 0, LEG_NOTRUST, LEG_HIDE, LEG_NOID, LEG_NLISTENERS };

static const char *const leg_listener_names[LEG_NLISTENERS] = {
	"trust", "notrust", "hide", "noid"
};

/* 128 bytes: the longest ID trusted */
#define LEG_X32		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LEG_X128	LEG_X32 LEG_X32 LEG_X32 LEG_X32

static const struct leg_id_row leg_id_rows[] = {
	{ "trusted, valid", LEG_TRUST, "X-Request-Id: abc-123\r\n",
	    "abc-123", NULL },
	{ "trusted, 128 bytes", LEG_TRUST, "X-Request-Id: " LEG_X128 "\r\n",
	    LEG_X128, NULL },
	{ "trusted, punctuation", LEG_TRUST,
	    "X-Request-Id: ~!#$%&'*+-.^_`|:/=?@[]{}\r\n",
	    "~!#$%&'*+-.^_`|:/=?@[]{}", NULL },
	{ "trusted, a quote and backslashes", LEG_TRUST,
	    "X-Request-Id: q\"u\\o\\te\r\n", "q\"u\\o\\te",
	    "q\\x22u\\x5co\\x5cte" },
	{ "trusted, 129 bytes", LEG_TRUST, "X-Request-Id: " LEG_X128 "y\r\n",
	    NULL, NULL },
	{ "trusted, sent twice", LEG_TRUST, "X-Request-Id: one\r\n"
	    "x-request-id: two\r\n", NULL, NULL },
	{ "trusted, a space", LEG_TRUST, "X-Request-Id: abc def\r\n", NULL,
	    NULL },
	{ "trusted, a tab", LEG_TRUST, "X-Request-Id: abc\tdef\r\n", NULL,
	    NULL },
	{ "trusted, empty", LEG_TRUST, "X-Request-Id:\r\n", NULL, NULL },
	{ "trusted, none", LEG_TRUST, "", NULL, NULL },
	{ "not trusted, valid", LEG_NOTRUST, "X-Request-Id: abc-123\r\n",
	    NULL, NULL },
	{ "not trusted, twice", LEG_NOTRUST, "X-Request-Id: one\r\n"
	    "X-Request-Id: two\r\n", NULL, NULL },
	{ "not trusted, the origin sends two", LEG_NOTRUST,
	    "X-Reply: X-Request-Id: from-origin\r\n"
	    "X-Reply: x-request-id: again\r\n", NULL, NULL },
	{ "removed from the response", LEG_HIDE, "X-Request-Id: abc\r\n",
	    NULL, NULL },
	{ "request_id off", LEG_NOID, "X-Request-Id: abc\r\n", "abc", "-" },
};

/* Check one row of leg_id_rows (number i) on the listener's port. */
static void
leg_id_row_check(struct itest *t, const int *ports, size_t i)
{
	const struct leg_id_row	*row = &leg_id_rows[i];
	struct itest_resp	 r;
	char			 target[32], needle[64], extra[512];
	char			 resp[ID_MAX], up[ID_MAX], logged[ID_MAX];
	const char		*want;

	snprintf(target, sizeof(target), "/row/%zu", i);
	snprintf(extra, sizeof(extra), ECHO "%s", row->headers);
	leg_get(ports[row->listener], target, FRONT, extra, &r);
	leg_assert_origin(&r, row->what);
	leg_values(r.head, "X-Request-Id", resp, sizeof(resp), NULL);
	leg_values((const char *)r.body, "X-Request-Id", up, sizeof(up),
	    NULL);
	snprintf(needle, sizeof(needle), "\"GET %s HTTP/1.1\"", target);
	leg_access_id(t->access_log, needle, logged, sizeof(logged));
	printf("ids, %s (%s): upstream [%s] (%d), response [%s] (%d), "
	    "logged [%s]\n", row->what, leg_listener_names[row->listener],
	    up, leg_values((const char *)r.body, "X-Request-Id", extra,
	    sizeof(extra), NULL), resp, itest_resp_header_count(&r,
	    "X-Request-Id"), logged);
	fflush(stdout);
	if (row->listener == LEG_NOID) {
		ck_assert_msg(strcmp(up, row->kept) == 0 && strcmp(resp, "") ==
		    0 && strcmp(logged, row->logged) == 0, "%s: upstream [%s] "
		    "response [%s] logged [%s]", row->what, up, resp, logged);
		itest_resp_free(&r);
		return;
	}
	ck_assert_msg(row->kept != NULL ? strcmp(up, row->kept) == 0 :
	    leg_is_id(up), "%s: upstream got [%s], want %s", row->what, up,
	    row->kept != NULL ? row->kept : "one new ID");
	want = row->logged != NULL ? row->logged : up;
	ck_assert_msg(strcmp(logged, want) == 0, "%s: logged [%s], want "
	    "[%s]", row->what, logged, want);
	if (row->listener == LEG_HIDE)
		ck_assert_msg(itest_resp_header_count(&r, "X-Request-Id") == 0,
		    "%s: the response has X-Request-Id [%s]", row->what, resp);
	else
		ck_assert_msg(strcmp(resp, up) == 0, "%s: the response has "
		    "[%s], upstream got [%s]", row->what, resp, up);
	itest_resp_free(&r);
}

/* Check that one of sluice's own responses (req on port, status) has
 * one new ID, the one in its access-log line (needle). */
static void
leg_id_own(struct itest *t, int port, const char *req, int status,
    const char *needle)
{
	struct itest_resp	 r;
	char			 resp[ID_MAX], logged[ID_MAX];

	itest_request(port, req, &r);
	leg_values(r.head != NULL ? r.head : "", "X-Request-Id", resp,
	    sizeof(resp), NULL);
	leg_access_id(t->access_log, needle, logged, sizeof(logged));
	printf("ids, sluice's own %d: response [%s] (%d), logged [%s]\n",
	    r.status, resp, itest_resp_header_count(&r, "X-Request-Id"),
	    logged);
	fflush(stdout);
	ck_assert_int_eq(r.status, status);
	ck_assert_msg(leg_is_id(resp) && strcmp(resp, logged) == 0,
	    "own %d: response [%s], logged [%s]", status, resp, logged);
	itest_resp_free(&r);
}

/*
 * A trusted valid ID is kept, one sent twice, too long, with a space or
 * a tab, or empty is replaced; untrusted, every one is; the origin's own
 * are replaced; one that is removed from the response still goes
 * upstream and to the log; without request_id the log has "-"; sluice's
 * own 400, 404 and 502 carry an ID too.
 */
START_TEST(test_ids_trust)
{
	struct itest	 t;
	int		 ports[LEG_NLISTENERS], i;
	size_t		 n;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	ports[0] = itest_sluice_port(&t);
	for (i = 1; i < LEG_NLISTENERS; i++)
		ports[i] = itest_free_port();
	itest_sluice_start(&t, "[listener trust]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nrequest_id = X-Request-Id\n"
	    "request_id_trust = on\n\n"
	    "[listener notrust]\nlisten = 127.0.0.1:%d\n"
	    "route = /row/ app\nroute = /dead/ dead\n"
	    "request_id = X-Request-Id\n\n"
	    "[listener hide]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "request_id = X-Request-Id\n"
	    "response_header = remove X-Request-Id\n\n"
	    "[listener noid]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream dead]\nserver = 127.0.0.1:%d name=d\nretries = 0\n",
	    ports[0], ports[1], ports[2], ports[3], t.origin[0].port,
	    itest_free_port());
	n = sizeof(leg_id_rows) / sizeof(leg_id_rows[0]);
	for (i = 0; i < (int)n; i++)
		leg_id_row_check(&t, ports, (size_t)i);
	leg_id_own(&t, ports[LEG_NOTRUST], "GET /nothing HTTP/1.1\r\nHost: "
	    FRONT "\r\nConnection: close\r\n\r\n", 404,
	    "\"GET /nothing HTTP/1.1\" 404");
	leg_id_own(&t, ports[LEG_NOTRUST], "GET /row/bad HTTP/1.1\r\nHost: "
	    FRONT "\r\nX-Bad: a\001b\r\n\r\n", 400,
	    "\"GET /row/bad HTTP/1.1\" 400");
	leg_id_own(&t, ports[LEG_NOTRUST], "GET /dead/x HTTP/1.1\r\nHost: "
	    FRONT "\r\nConnection: close\r\n\r\n", 502,
	    "\"GET /dead/x HTTP/1.1\" 502");
	printf("ids: %zu rows and 3 of sluice's own responses\n", n);
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/* --- prefix strip and path normalisation -------------------------------- */

/* One request target and what reaches which origin, or the refusal. */
struct leg_strip_row {
	const char	*sent;		/* the request target */
	const char	*origin;	/* "a" (old, strip), "b" (admin and
					 * internal), "c" (the default);
					 * NULL: refused */
	const char	*got;		/* the target the origin gets, or the
					 * status when refused */
};

static const struct leg_strip_row leg_strip_rows[] = {
	/* the prefix, with and without a trailing slash, and a query */
	{ "/legacy/a/b?x=1",		"a", "/a/b?x=1" },
	{ "/legacy",			"a", "/" },
	{ "/legacy/",			"a", "/" },
	{ "/legacy?x=1",		"a", "/?x=1" },
	{ "/legacy/?x=1",		"a", "/?x=1" },
	{ "/legacy/a",			"a", "/a" },
	{ "/legacy/a/",			"a", "/a/" },
	{ "/legacyx",			"c", "/legacyx" },
	{ "/legacyx/a",			"c", "/legacyx/a" },
	{ "/nos",			"a", "/" },
	{ "/nos/",			"a", "/" },
	{ "/nos/x?q=1",			"a", "/x?q=1" },
	{ "/nosx",			"c", "/nosx" },
	/* repeated slashes are forwarded as sent */
	{ "/legacy//a",			"a", "//a" },
	{ "/legacy/a//b",		"a", "/a//b" },
	{ "/legacy//",			"a", "//" },
	{ "//legacy/a",			"c", "//legacy/a" },
	{ "/admin//x",			"b", "/admin//x" },
	/* dot-segments, removed before routing */
	{ "/legacy/./a",		"a", "/a" },
	{ "/legacy/a/./b",		"a", "/a/b" },
	{ "/legacy/a/../b",		"a", "/b" },
	{ "/legacy/a/..",		"a", "/" },
	{ "/legacy/a/b/..",		"a", "/a/" },
	{ "/legacy/.",			"a", "/" },
	{ "/legacy/./",			"a", "/" },
	{ "/./legacy/a",		"a", "/a" },
	{ "/legacy/a/./../b/.",		"a", "/b/" },
	{ "/legacy/..",			"c", "/" },
	{ "/legacy/../admin/x",		"b", "/admin/x" },
	{ "/legacy/../admin",		"c", "/admin" },
	{ "/admin/../legacy/a",		"a", "/a" },
	{ "/admin/./x",			"b", "/admin/x" },
	{ "/legacy/a/b/../../..",	"c", "/" },
	{ "/legacy/.../a",		"a", "/.../a" },
	/* %2e counts as a dot; other encodings are forwarded as sent */
	{ "/legacy/%2e%2e/internal/x",	"b", "/internal/x" },
	{ "/legacy/%2E%2E/internal/x",	"b", "/internal/x" },
	{ "/legacy/.%2e/internal/x",	"b", "/internal/x" },
	{ "/legacy/%2E./internal/y",	"b", "/internal/y" },
	{ "/legacy/%2e/a",		"a", "/a" },
	{ "/legacy/%2e%2e",		"c", "/" },
	{ "/legacy/.%2E",		"c", "/" },
	{ "/legacy/a%2eb",		"a", "/a%2eb" },
	{ "/legacy/a%2Fb",		"a", "/a%2Fb" },
	{ "/legacy%2Fa",		"c", "/legacy%2Fa" },
	{ "/legacy/%2e%2e%2fadmin",	"a", "/%2e%2e%2fadmin" },
	{ "/legacy/a/..%2f",		"a", "/a/..%2f" },
	{ "/legacy/a%2F../b",		"a", "/a%2F../b" },
	{ "/legacy/a%3Fb",		"a", "/a%3Fb" },
	{ "/legacy/a;v=1/b",		"a", "/a;v=1/b" },
	{ "/legacy/%2e%2E/",		"c", "/" },
	/* the query is never normalised */
	{ "/legacy/a?x=/../y",		"a", "/a?x=/../y" },
	{ "/legacy?x=../..",		"a", "/?x=../.." },
	{ "/legacy/a?%2e%2e",		"a", "/a?%2e%2e" },
	/* climbing above / */
	{ "/..",			NULL, "400" },
	{ "/../legacy/a",		NULL, "400" },
	{ "/legacy/../..",		NULL, "400" },
	{ "/%2e%2e/x",			NULL, "400" },
	{ "/legacy/%2e%2e/%2E%2E/x",	NULL, "400" },
	{ "/legacy/../../etc/passwd",	NULL, "400" },
	{ "/legacy/a/b/../../../..",	NULL, "400" },
	{ "/admin/../..",		NULL, "400" },
};

/* The last line of path (without its newline) into out. */
static const char *
leg_last_line(const char *path, char *out, size_t len)
{
	char	*s = itest_read_file(path, NULL), *p;
	size_t	 n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	p = strrchr(s, '\n');
	snprintf(out, len, "%s", p != NULL ? p + 1 : s);
	free(s);
	return out;
}

/* The number of lines the three origins have logged. */
static int
leg_origin_lines(const struct itest *t, int *each)
{
	int	 i, n = 0;

	for (i = 0; i < 3; i++)
		n += each[i] = itest_count_lines(t->origin_log[i]);
	return n;
}

/* Send one row of leg_strip_rows (its target as the request line, or in
 * absolute form when absolute) and check where it went. */
static void
leg_strip_check(struct itest *t, const struct leg_strip_row *row,
    int absolute)
{
	struct itest_resp	 r;
	const char		*o;
	char			 req[512], got[512], last[512];
	int			 nb[3], na[3], i;

	leg_origin_lines(t, nb);
	snprintf(req, sizeof(req), "GET %s%s HTTP/1.1\r\nHost: legacy.test"
	    "\r\n" ECHO "Connection: close\r\n\r\n", absolute ?
	    "http://legacy.test" : "", row->sent);
	itest_request(t->sluice.port, req, &r);
	leg_origin_lines(t, na);
	o = itest_resp_header(&r, "X-Origin");
	if (row->origin == NULL) {
		ck_assert_msg(r.status == atoi(row->got) && o == NULL &&
		    nb[0] + nb[1] + nb[2] == na[0] + na[1] + na[2], "%s: "
		    "status %d from %s, want %s from sluice", row->sent,
		    r.status, o != NULL ? o : "sluice", row->got);
		itest_resp_free(&r);
		return;
	}
	leg_assert_origin(&r, row->sent);
	leg_target((const char *)r.body, got, sizeof(got));
	ck_assert_msg(strcmp(o, row->origin) == 0 && strcmp(got, row->got) ==
	    0, "%s: origin %s got %s, want origin %s to get %s", row->sent, o,
	    got, row->origin, row->got);
	/* and its log agrees: one more line, with that target */
	i = row->origin[0] - 'a';
	snprintf(req, sizeof(req), "GET %s 0", got);
	leg_last_line(t->origin_log[i], last, sizeof(last));
	ck_assert_msg(na[i] == nb[i] + 1 && strcmp(last, req) == 0, "%s: "
	    "origin %s logged %d line(s) for it, the last [%s]", row->sent,
	    row->origin, na[i] - nb[i], last);
	itest_resp_free(&r);
}

/*
 * The strip table: each row states what the origin receives or the 4xx.
 * route = /legacy/ old strip (and /nos, without the slash) on origin a,
 * /admin/ and /internal/ on origin b, the default upstream on origin c.
 * Every row is sent once as it is and once in absolute form.
 */
START_TEST(test_strip_table)
{
	struct itest	 t;
	size_t		 i, n = sizeof(leg_strip_rows) /
			    sizeof(leg_strip_rows[0]);
	int		 refused = 0;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_origin_start(&t, 1, "b");
	itest_origin_start(&t, 2, "c");
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = root\nroute = /legacy/ old strip\n"
	    "route = /nos old strip\nroute = /admin/ admin\n"
	    "route = /internal/ internal\n\n"
	    "[upstream old]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream admin]\nserver = 127.0.0.1:%d name=b\n\n"
	    "[upstream internal]\nserver = 127.0.0.1:%d name=b\n\n"
	    "[upstream root]\nserver = 127.0.0.1:%d name=c\n",
	    itest_sluice_port(&t), t.origin[0].port, t.origin[1].port,
	    t.origin[1].port, t.origin[2].port);
	for (i = 0; i < n; i++) {
		leg_strip_check(&t, &leg_strip_rows[i], 0);
		leg_strip_check(&t, &leg_strip_rows[i], 1);
		refused += leg_strip_rows[i].origin == NULL;
	}
	printf("strip: %zu rows, each as sent and in absolute form: %zu "
	    "forwarded as the table says, %d refused with 400\n", n,
	    n - (size_t)refused, refused);
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/* --- Location, Content-Location, Refresh and Set-Cookie ----------------- */

/* One response header the origin sends and what the client must see. */
struct leg_loc_row {
	const char	*path;		/* the request path: its route */
	const char	*host;		/* the client's Host, NULL: HTTP/1.0
					 * without one */
	const char	*name;		/* the response header */
	const char	*sent;		/* its value ({P}: the origin's port) */
	const char	*want;		/* at the client */
};

/*
 * The routes of the Location tests: /x is upstream app (server
 * 127.0.0.1:{P}), /legacy/ old (strip, server localhost:{P}), /named/
 * (host = intranet.local:8080), /named80/ (host = intranet.local), /off/
 * and /offstrip/ (rewrite_location = off, the second with strip), /ruled/
 * (a response rule sets Content-Location to http://127.0.0.1:{P}/rule).
 */
static const struct leg_loc_row leg_loc_rows[] = {
	/* the server's address, no strip */
	{ "/x", FRONT, "Location", "http://127.0.0.1:{P}/x?y=1#f",
	    "http://" FRONT "/x?y=1#f" },
	{ "/x", FRONT, "Location", "https://127.0.0.1:{P}/x",
	    "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://127.0.0.1/x", "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://127.0.0.1:{P}",
	    "http://" FRONT "/" },
	{ "/x", FRONT, "Location", "//127.0.0.1:{P}/x", "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://127.0.0.1:1/x",
	    "http://127.0.0.1:1/x" },
	{ "/x", FRONT, "Location", "http://127.0.0.10:{P}/x",
	    "http://127.0.0.10:{P}/x" },
	{ "/x", FRONT, "Location", "http://user@127.0.0.1:{P}/x",
	    "http://user@127.0.0.1:{P}/x" },
	{ "/x", FRONT, "Location", "ftp://127.0.0.1:{P}/x",
	    "ftp://127.0.0.1:{P}/x" },
	/* the Host sent upstream (host = pass: the client's) */
	{ "/x", FRONT, "Location", "https://" FRONT "/x",
	    "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://FRONT.EXAMPLE:8080/x",
	    "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://front.example/x",
	    "http://" FRONT "/x" },
	{ "/x", FRONT, "Location", "http://front.example:9999/x",
	    "http://front.example:9999/x" },
	{ "/x", "Mixed.Example", "Location", "http://127.0.0.1:{P}/x",
	    "http://Mixed.Example/x" },
	{ "/x", NULL, "Location", "http://127.0.0.1:{P}/x?q", "/x?q" },
	/* other hosts and relative references */
	{ "/x", FRONT, "Location", "http://other.example/x",
	    "http://other.example/x" },
	{ "/x", FRONT, "Location", "/login", "/login" },
	{ "/x", FRONT, "Location", "login", "login" },
	/* Content-Location and Refresh */
	{ "/x", FRONT, "Content-Location", "http://127.0.0.1:{P}/c",
	    "http://" FRONT "/c" },
	{ "/x", FRONT, "Refresh", "5; url=http://127.0.0.1:{P}/r",
	    "5; url=http://" FRONT "/r" },
	{ "/x", FRONT, "Refresh", "0;URL='http://127.0.0.1:{P}/r'",
	    "0;URL='http://" FRONT "/r'" },
	{ "/x", FRONT, "Refresh", "3", "3" },
	{ "/x", FRONT, "Refresh", "1; url=http://other.example/r",
	    "1; url=http://other.example/r" },
	/* a strip route: the prefix goes back in front */
	{ "/legacy/a", FRONT, "Location", "http://localhost:{P}/a",
	    "http://" FRONT "/legacy/a" },
	{ "/legacy/a", FRONT, "Location", "http://127.0.0.1:{P}/a",
	    "http://" FRONT "/legacy/a" },
	{ "/legacy/a", FRONT, "Location", "http://LOCALHOST:{P}/a?b#c",
	    "http://" FRONT "/legacy/a?b#c" },
	{ "/legacy/a", FRONT, "Location", "http://localhost:{P}",
	    "http://" FRONT "/legacy/" },
	{ "/legacy/a", FRONT, "Location", "http://localhost:{P}?q",
	    "http://" FRONT "/legacy/?q" },
	{ "/legacy/a", FRONT, "Location", "http://localhost:{P}#f",
	    "http://" FRONT "/legacy/#f" },
	{ "/legacy/a", FRONT, "Location", "//localhost:{P}/a",
	    "http://" FRONT "/legacy/a" },
	{ "/legacy/a", FRONT, "Location", "https://" FRONT "/a",
	    "http://" FRONT "/legacy/a" },
	{ "/legacy/a", FRONT, "Location", "/", "/legacy/" },
	{ "/legacy/a", FRONT, "Location", "/login?x=1", "/legacy/login?x=1" },
	{ "/legacy/a", FRONT, "Location", "login", "login" },
	{ "/legacy/a", FRONT, "Location", "../x", "../x" },
	{ "/legacy/a", FRONT, "Location", "?q", "?q" },
	{ "/legacy/a", FRONT, "Location", "http://other.example/a",
	    "http://other.example/a" },
	{ "/legacy/a", FRONT, "Content-Location", "/c", "/legacy/c" },
	{ "/legacy/a", FRONT, "Refresh", "5; url=/a", "5; url=/legacy/a" },
	{ "/legacy/a", FRONT, "Refresh", "1; URL=http://localhost:{P}/a",
	    "1; URL=http://" FRONT "/legacy/a" },
	{ "/legacy/a", NULL, "Location", "http://localhost:{P}/a",
	    "/legacy/a" },
	/* host = NAME: that name is the server's */
	{ "/named/x", FRONT, "Location", "http://intranet.local:8080/x",
	    "http://" FRONT "/x" },
	{ "/named/x", FRONT, "Location", "http://INTRANET.local:8080/x",
	    "http://" FRONT "/x" },
	{ "/named/x", FRONT, "Location", "http://intranet.local/x",
	    "http://" FRONT "/x" },
	{ "/named/x", FRONT, "Location", "http://intranet.local:9999/x",
	    "http://intranet.local:9999/x" },
	{ "/named/x", FRONT, "Location", "https://" FRONT "/x",
	    "https://" FRONT "/x" },
	{ "/named80/x", FRONT, "Location", "http://intranet.local:80/x",
	    "http://" FRONT "/x" },
	{ "/named80/x", FRONT, "Location", "https://intranet.local:443/x",
	    "http://" FRONT "/x" },
	{ "/named80/x", FRONT, "Location", "https://intranet.local/x",
	    "http://" FRONT "/x" },
	{ "/named80/x", FRONT, "Location", "http://intranet.local:8080/x",
	    "http://intranet.local:8080/x" },
	/* rewrite_location = off */
	{ "/off/x", FRONT, "Location", "http://127.0.0.1:{P}/x",
	    "http://127.0.0.1:{P}/x" },
	{ "/offstrip/x", FRONT, "Location", "/", "/" },
	{ "/offstrip/x", FRONT, "Location", "http://127.0.0.1:{P}/x",
	    "http://127.0.0.1:{P}/x" },
	/* rules run after the rewriting: what a rule sets stays */
	{ "/ruled/x", FRONT, "Content-Location", "http://127.0.0.1:{P}/c",
	    "http://127.0.0.1:{P}/rule" },
	{ "/ruled/x", FRONT, "Location", "http://127.0.0.1:{P}/l",
	    "http://" FRONT "/l" },
};

/* The upstreams of the Location and cookie tests on the origin's port
 * (the listener comes first, from the caller). */
static char *
leg_loc_upstreams(int port)
{
	char	*s;

	ck_assert(asprintf(&s, "route = /legacy/ old strip\n"
	    "route = /named/ named\nroute = /named80/ named80\n"
	    "route = /off/ off\nroute = /offstrip/ offs strip\n"
	    "route = /plain/ plain\nroute = /nocookie/ nocookie strip\n"
	    "route = /ruled/ ruled\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream old]\nserver = localhost:%d name=a\n"
	    "rewrite_cookie_path = on\n\n"
	    "[upstream named]\nserver = 127.0.0.1:%d name=a\n"
	    "host = intranet.local:8080\n\n"
	    "[upstream named80]\nserver = 127.0.0.1:%d name=a\n"
	    "host = intranet.local\n\n"
	    "[upstream off]\nserver = 127.0.0.1:%d name=a\n"
	    "rewrite_location = off\n\n"
	    "[upstream offs]\nserver = 127.0.0.1:%d name=a\n"
	    "rewrite_location = off\n\n"
	    "[upstream plain]\nserver = 127.0.0.1:%d name=a\n"
	    "rewrite_cookie_path = on\n\n"
	    "[upstream nocookie]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream ruled]\nserver = 127.0.0.1:%d name=a\n"
	    "response_header = set Content-Location "
	    "http://127.0.0.1:%d/rule\n", port, port, port, port, port, port,
	    port, port, port, port) != -1);
	return s;
}

/* Start sluice with a plain listener in front of leg_loc_upstreams(). */
static void
leg_loc_start(struct itest *t)
{
	char	*ups;

	itest_origin_start(t, 0, "a");
	ups = leg_loc_upstreams(t->origin[0].port);
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n%s", itest_sluice_port(t), ups);
	free(ups);
}

/* Make the X-Reply line of header name with value into out. */
static const char *
leg_reply(const char *name, const char *value, char *out, size_t len)
{
	snprintf(out, len, "X-Reply: %s: %s\r\nX-Reply-Status: 302\r\n",
	    name, value);
	return out;
}

/* The Location table (leg_loc_rows), each row one request. */
START_TEST(test_location_table)
{
	const struct leg_loc_row	*row;
	struct itest			 t;
	struct itest_resp		 r;
	char				 sent[256], want[256], extra[512];
	char				 got[VAL_MAX];
	size_t				 i, n = sizeof(leg_loc_rows) /
					    sizeof(leg_loc_rows[0]);
	int				 port, changed = 0;

	itest_init(&t);
	leg_loc_start(&t);
	port = t.origin[0].port;
	for (i = 0; i < n; i++) {
		row = &leg_loc_rows[i];
		leg_port(row->sent, port, sent, sizeof(sent));
		leg_port(row->want, port, want, sizeof(want));
		leg_reply(row->name, sent, extra, sizeof(extra));
		leg_get(t.sluice.port, row->path, row->host, extra, &r);
		ck_assert_msg(r.status == 302 && itest_resp_header(&r,
		    "X-Origin") != NULL, "%s %s: status %d", row->path, sent,
		    r.status);
		leg_values(r.head, row->name, got, sizeof(got), NULL);
		ck_assert_msg(strcmp(got, want) == 0, "GET %s (Host %s), %s: "
		    "%s: got [%s], want [%s]", row->path, row->host != NULL ?
		    row->host : "none", row->name, sent, got, want);
		changed += strcmp(sent, want) != 0;
		itest_resp_free(&r);
	}
	printf("location: %zu rows as the table says: %d changed, %zu left "
	    "as they were\n", n, changed, n - (size_t)changed);
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/* A TLS listener: rewritten URLs are https; $scheme and
 * X-Forwarded-Proto say so. */
START_TEST(test_location_tls)
{
	static const struct leg_loc_row	 rows[] = {
		{ "/x", "front.example:8443", "Location",
		    "http://127.0.0.1:{P}/x", "https://front.example:8443/x" },
		{ "/x", "front.example:8443", "Location",
		    "https://127.0.0.1:{P}/x?q",
		    "https://front.example:8443/x?q" },
		{ "/x", "front.example:8443", "Location",
		    "http://front.example:8443/x",
		    "https://front.example:8443/x" },
		{ "/legacy/a", "front.example:8443", "Location",
		    "http://localhost:{P}/a",
		    "https://front.example:8443/legacy/a" },
		{ "/legacy/a", "front.example:8443", "Location", "/",
		    "/legacy/" },
		{ "/legacy/a", "front.example:8443", "Refresh",
		    "0; url=http://localhost:{P}/",
		    "0; url=https://front.example:8443/legacy/" },
		{ "/x", "front.example:8443", "Location",
		    "http://other.example/x", "http://other.example/x" },
	};
	struct itest	 t;
	char		*ups, *raw, req[1024], sent[256], want[256];
	char		 extra[512], got[VAL_MAX];
	const char	*body;
	size_t		 i, n = sizeof(rows) / sizeof(rows[0]);

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	ups = leg_loc_upstreams(t.origin[0].port);
	itest_sluice_start(&t, "[listener tls]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\ntls_certificate = %s/a.pem %s/a.key\n"
	    "request_header = set X-V-Scheme $scheme\n%s",
	    itest_sluice_port(&t), leg_certdir, leg_certdir, ups);
	free(ups);
	for (i = 0; i < n; i++) {
		leg_port(rows[i].sent, t.origin[0].port, sent, sizeof(sent));
		leg_port(rows[i].want, t.origin[0].port, want, sizeof(want));
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
		    "%sConnection: close\r\n\r\n", rows[i].path, rows[i].host,
		    leg_reply(rows[i].name, sent, extra, sizeof(extra)));
		raw = leg_tls_request(t.sluice.port, req);
		leg_values(raw, rows[i].name, got, sizeof(got), NULL);
		body = leg_raw_body(raw);
		ck_assert_msg(leg_raw_status(raw) == 302, "TLS %s: %.300s",
		    rows[i].path, raw);
		ck_assert_msg(strcmp(got, want) == 0, "TLS listener, GET %s, "
		    "%s: %s: got [%s], want [%s]", rows[i].path, rows[i].name,
		    sent, got, want);
		ck_assert_str_eq(leg_v(body, "X-V-Scheme"), "https");
		ck_assert_str_eq(leg_v(body, "X-Forwarded-Proto"), "https");
		free(raw);
	}
	printf("location, TLS listener: %zu rows as the table says "
	    "(https), $scheme and X-Forwarded-Proto https\n", n);
	fflush(stdout);
	itest_finish(&t);
}
END_TEST

/* The cookies the origin sets, and what the client gets on a strip route
 * with rewrite_cookie_path = on. */
static const char *const leg_cookies[][2] = {
	{ "a=1; Path=/", "a=1; Path=/legacy/" },
	{ "b=2; path=/app; HttpOnly", "b=2; path=/legacy/app; HttpOnly" },
	{ "c=3;Path=/x;Secure", "c=3;Path=/legacy/x;Secure" },
	{ "d=4; Domain=example.com; Max-Age=60",
	    "d=4; Domain=example.com; Max-Age=60" },
	{ "e=5 ;  PATH=/y  ; SameSite=Lax",
	    "e=5 ;  PATH=/legacy/y  ; SameSite=Lax" },
	{ "f=Path=/; Path=/z", "f=Path=/; Path=/legacy/z" },
	{ "g=7; Path=relative", "g=7; Path=relative" },
	{ "h=8; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/",
	    "h=8; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/legacy/" },
};

/* GET path with the cookies of leg_cookies set by the origin; check
 * each Set-Cookie, in order, against column col (0: unchanged). */
static void
leg_cookie_check(struct itest *t, const char *path, int col)
{
	struct itest_resp	 r;
	char			 extra[2048], want[VAL_MAX], got[VAL_MAX];
	size_t			 i, at = 0, atw = 0;
	size_t			 n = sizeof(leg_cookies) /
				    sizeof(leg_cookies[0]);

	want[0] = '\0';
	for (i = 0; i < n; i++) {
		at += (size_t)snprintf(extra + at, sizeof(extra) - at,
		    "X-Reply: Set-Cookie: %s\r\n", leg_cookies[i][0]);
		atw += (size_t)snprintf(want + atw, sizeof(want) - atw,
		    "%s%s", i > 0 ? "|" : "", leg_cookies[i][col]);
	}
	leg_get(t->sluice.port, path, FRONT, extra, &r);
	leg_assert_origin(&r, path);
	leg_values(r.head, "Set-Cookie", got, sizeof(got), NULL);
	printf("cookies, GET %s: %d Set-Cookie headers, %s\n", path,
	    itest_resp_header_count(&r, "Set-Cookie"), strcmp(got, want) ==
	    0 ? "as they should be" : "wrong");
	fflush(stdout);
	ck_assert_int_eq(itest_resp_header_count(&r, "Set-Cookie"), (int)n);
	ck_assert_msg(strcmp(got, want) == 0, "GET %s: Set-Cookie\n got "
	    "[%s]\nwant [%s]", path, got, want);
	itest_resp_free(&r);
}

/*
 * rewrite_cookie_path = on puts the stripped prefix back in every Path=
 * that starts with "/", keeps every other byte and every header; off (the
 * default) or on a route without strip, the cookies pass as they are.
 */
START_TEST(test_cookie_path)
{
	struct itest	 t;

	itest_init(&t);
	leg_loc_start(&t);
	leg_cookie_check(&t, "/legacy/a", 1);
	leg_cookie_check(&t, "/plain/a", 0);
	leg_cookie_check(&t, "/nocookie/a", 0);
	itest_finish(&t);
}
END_TEST

/* --- reloads ----------------------------------------------------------- */

/* The config of generation gen of the reload tests: every rule says gen;
 * bad, when not NULL, is one more line in the listener. */
static void
leg_gen_config(struct itest *t, int admin, int gen, const char *bad)
{
	itest_sluice_config(t, NULL, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "route = /legacy/ app strip\n"
	    "request_header = set X-Reply X-Req-Gen: %d\n"
	    "response_header = set X-Resp-Gen %d\n%s%s\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "response_header = set X-Up-Gen %d\n", admin, t->sluice.port, gen,
	    gen, bad != NULL ? bad : "", bad != NULL ? "\n" : "",
	    t->origin[0].port, gen);
}

/* One request on c: the three generation marks it came back with must
 * all be gen. */
static void
leg_gen_assert(struct itest_conn *c, int gen, const char *what)
{
	struct itest_resp	 r;
	char			 want[16];

	itest_send_str(c, "GET /legacy/x HTTP/1.1\r\nHost: " FRONT
	    "\r\n\r\n");
	itest_read_response(c, &r, 0, IO_MS);
	snprintf(want, sizeof(want), "%d", gen);
	printf("reload, %s: status %d, X-Req-Gen [%s] X-Resp-Gen [%s] "
	    "X-Up-Gen [%s]\n", what, r.status, leg_v(r.head, "X-Req-Gen"),
	    leg_v(r.head, "X-Resp-Gen"), leg_v(r.head, "X-Up-Gen"));
	fflush(stdout);
	ck_assert_msg(r.status == 200 && strcmp(leg_v(r.head, "X-Req-Gen"),
	    want) == 0 && strcmp(leg_v(r.head, "X-Resp-Gen"), want) == 0 &&
	    strcmp(leg_v(r.head, "X-Up-Gen"), want) == 0, "%s: want "
	    "generation %d's rules:\n%s", what, gen, r.head);
	itest_resp_free(&r);
}

/*
 * A reload with a bad rule is refused with its file:line and keeps the
 * old rules working, on the same keep-alive connection; the next good
 * reload applies its rules from the next request on that connection.
 */
START_TEST(test_reload_refused)
{
	struct itest		 t;
	struct itest_conn	 c;
	char			 want[512];
	int			 admin = itest_free_port();

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	leg_gen_config(&t, admin, 1, NULL);
	itest_sluice_launch(&t);
	itest_connect(&c, t.sluice.port, IO_MS);
	leg_gen_assert(&c, 1, "generation 1");
	leg_gen_config(&t, admin, 2, "request_header = set Connection x");
	snprintf(want, sizeof(want), "%s:%d: request_header: ", t.conf,
	    itest_line_of(t.conf, "request_header = set Connection x"));
	itest_sluice_hup(&t, "reload failed; still serving generation 1",
	    WAIT_MS);
	ck_assert_msg(itest_wait_file(t.error_log, want, WAIT_MS), "no \"%s\""
	    " in the error log:\n%s", want, itest_file_tail(t.error_log));
	printf("reload with a bad rule: refused, \"%s\" in the error log\n",
	    want);
	leg_gen_assert(&c, 1, "after the refused reload, same connection");
	leg_gen_config(&t, admin, 2, NULL);
	ck_assert_int_eq(itest_admin_reload(admin, NULL, 1), 2);
	leg_gen_assert(&c, 2, "after a good reload, same connection");
	itest_close(&c);
	itest_finish(&t);
}
END_TEST

/* What the requests of a load told about the reload. */
struct leg_reload_count {
	double	 mark0;		/* itest_now() just before the reload */
	double	 mark1;		/* ... once it was acknowledged */
	int	 before, after, between;
	int	 mixed;		/* marks of two generations in one */
	int	 wrong;		/* placed, with the other generation */
	int	 after_reused;	/* after, on a connection used before */
	char	 first[1536];
	char	 conns[64];	/* connections seen before the reload */
};

/* The generation all of q's marks agree on, 0 when they do not. */
static int
leg_req_gen(const struct itest_req *q)
{
	if (q->nvalues < 3 || strcmp(q->value[0], q->value[1]) != 0 ||
	    strcmp(q->value[1], q->value[2]) != 0)
		return 0;
	return atoi(q->value[0]);
}

/* Place one request of the load before, after or around the reload. */
static void
leg_reload_take(const struct itest_load *l, const struct itest_req *q,
    void *arg)
{
	struct leg_reload_count	*c = arg;
	int			 gen = leg_req_gen(q), want = 0;
	unsigned		 conn = (unsigned)atoi(q->conn);

	if (gen == 0 && c->mixed++ == 0)
		itest_req_describe(q, c->first, sizeof(c->first));
	if (itest_load_latest(l, q->end) < c->mark0) {
		c->before++;
		want = 1;
		if (conn > 0 && conn < sizeof(c->conns))
			c->conns[conn] = 1;
	} else if (itest_load_earliest(l, q->start) > c->mark1) {
		c->after++;
		want = 2;
		c->after_reused += conn > 0 && conn < sizeof(c->conns) &&
		    c->conns[conn];
	} else
		c->between++;
	if (want != 0 && gen != want && c->wrong++ == 0)
		snprintf(c->first, sizeof(c->first), "%s request with "
		    "generation %d's marks: %s %s %s",
		    want == 1 ? "a before" : "an after", gen,
		    q->nvalues > 0 ? q->value[0] : "-",
		    q->nvalues > 1 ? q->value[1] : "-",
		    q->nvalues > 2 ? q->value[2] : "-");
}

/*
 * A reload that changes the request and response rules (the listener's
 * and the upstream's) under keep-alive load: no request fails, each
 * request has one generation's rules, every request that ended before
 * the reload has the old ones and every request that started after it
 * was acknowledged has the new ones, on connections opened before it.
 */
START_TEST(test_reload_under_load)
{
	struct itest		 t;
	struct itest_load	 l;
	struct leg_reload_count	 c;
	int			 admin = itest_free_port(), n;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	leg_gen_config(&t, admin, 1, NULL);
	itest_sluice_launch(&t);
	itest_load_start(&t, &l, "reload", t.sluice.port, "-q -c 8 -d 30000 "
	    "-w 0-2 -p /legacy/x -H X-Req-Gen -H X-Resp-Gen -H X-Up-Gen");
	itest_pause(1000);
	memset(&c, 0, sizeof(c));
	leg_gen_config(&t, admin, 2, NULL);
	c.mark0 = itest_now();
	ck_assert_int_eq(itest_admin_reload(admin, NULL, 1), 2);
	c.mark1 = itest_now();
	itest_pause(1000);
	ck_assert_int_eq(itest_load_stop(&l, ITEST_STOP_TIMEOUT_MS), 0);
	n = itest_reqs_each(&l, leg_reload_take, &c);
	printf("reload under load: %d requests, %lld failed, %lld "
	    "connections; %d before the reload (generation 1), %d after it "
	    "(generation 2; %d on connections used before), %d around it; "
	    "%d with marks of two generations, %d with the wrong one%s%s\n",
	    n, itest_load_value(&l, "failed"), itest_load_value(&l,
	    "connections_opened"), c.before, c.after, c.after_reused,
	    c.between, c.mixed, c.wrong, c.first[0] != '\0' ? "; first: " :
	    "", c.first);
	fflush(stdout);
	itest_load_assert_clean(&l, "the reload load");
	ck_assert_msg(c.before > 0 && c.after > 0 && c.after_reused > 0,
	    "the scenario did not run: %d requests before, %d after (%d on "
	    "old connections)", c.before, c.after, c.after_reused);
	ck_assert_msg(c.mixed == 0 && c.wrong == 0, "%d requests mixed two "
	    "generations, %d had the wrong one; first: %s", c.mixed, c.wrong,
	    c.first);
	itest_finish(&t);
}
END_TEST

/* --- the suite --------------------------------------------------------- */

/* A test case with a timeout for a loaded machine; certs: with the
 * certificates made before it and removed after. */
static TCase *
leg_tcase(const char *name, int certs)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 90);
	if (certs)
		tcase_add_unchecked_fixture(tc, leg_certs_make,
		    leg_certs_remove);
	return tc;
}

/* The suite: rules, host, ids, strip, location, reload. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("legacy");
	TCase	*tc;

	tc = leg_tcase("rules", 0);
	tcase_add_test(tc, test_request_rules);
	tcase_add_test(tc, test_response_rules);
	tcase_add_test(tc, test_variables);
	tcase_add_test(tc, test_own_responses);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);

	tc = leg_tcase("host", 1);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_host_tls);
	suite_add_tcase(s, tc);

	tc = leg_tcase("ids", 0);
	tcase_add_test(tc, test_ids_unique);
	tcase_add_test(tc, test_ids_trust);
	suite_add_tcase(s, tc);

	tc = leg_tcase("strip", 0);
	tcase_add_test(tc, test_strip_table);
	suite_add_tcase(s, tc);

	tc = leg_tcase("location", 1);
	tcase_add_test(tc, test_location_table);
	tcase_add_test(tc, test_location_tls);
	tcase_add_test(tc, test_cookie_path);
	suite_add_tcase(s, tc);

	tc = leg_tcase("reload", 0);
	tcase_add_test(tc, test_reload_refused);
	tcase_add_test(tc, test_reload_under_load);
	suite_add_tcase(s, tc);
	return s;
}
