/*
 * check_tls_proxy: integration tests of TLS in the real binary. TLS
 * termination (SNI, versions, plain text on a TLS port, the handshake
 * bounded by client_timeout, connections whose TLS cannot be set up, made
 * to fail in tests/sluice-faults), certificate rotation by SIGHUP under TLS
 * keep-alive load, bad certificates on reload, and TLS to upstreams (a
 * second sluice as the TLS upstream, `openssl s_server` for mutual TLS).
 *
 * The certificates are made at run time with the openssl command in a
 * temporary directory, removed at the end (no key is ever committed). The
 * TLS client is a small blocking OpenSSL client (tlsp_conn) whose waits are
 * bounded by socket timeouts; the rotation load runs it in threads.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_tls_proxy. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define IO_MS		ITEST_IO_TIMEOUT_MS
#define WAIT_MS		10000		/* bound of a log or load wait */
#define TLSP_BUF	(64 * 1024)	/* a TLS connection's read buffer */
#define TLSP_HEAD	8192
#define TLSP_BODY	16384
#define TLSP_LOAD_MAX	32		/* connections of a load, at most */
#define TLSP_ROTATE_CONNS 20
#define TLSP_ROUNDS	20	/* requests per connection before/after */
/* A string constant as an argv element (execvp does not write it). */
#define TLSP_ARG(s)	((char *)(uintptr_t)(s))
/* How much later than client_timeout a handshake may be cut, in s. */
#define TLSP_TIMEOUT_MARGIN 0.5
/* Connections that send a ClientHello when TLS setup fails, and the bound
 * of their close (well below client_timeout: they are not timed out). */
#define TLSP_REFUSED	3
#define TLSP_REFUSE_MS	1000
/* The ticket-key test: bound of a wait for a rotation (tls_ticket_rotation
 * 1s), and rounds redone when a rotation came in between. */
#define TLSP_TICKET_WAIT_MS 5000
#define TLSP_TICKET_TRIES 5

/* The certificates, made before each test case (tlsp_tcase). */
static char	tlsp_certdir[64];

/* A blocking TLS client connection; waits bounded by socket timeouts. */
struct tlsp_conn {
	int		 fd;
	SSL		*ssl;
	unsigned char	 buf[TLSP_BUF];	/* bytes read past a response */
	size_t		 len;
	char		 err[256];	/* why the last step failed */
};

/* One response read over TLS (Content-Length framing only). */
struct tlsp_resp {
	int		 status;	/* -1: none */
	char		 head[TLSP_HEAD];
	char		 body[TLSP_BODY];
	size_t		 bodylen;
};

/* The counters of a load connection. */
enum tlsp_counter {
	TLSP_OK = 0,		/* complete 200 responses */
	TLSP_OK_AFTER,		/* ... to requests begun after the mark */
	TLSP_FAILED,
};

/* One connection of a TLS keep-alive load, run by its own thread. */
struct tlsp_worker {
	pthread_t		 tid;
	struct tlsp_load	*load;
	char			 serial[128];	/* of its handshake */
	atomic_long		 ok;
	atomic_long		 ok_after;	/* begun after the mark */
	atomic_long		 failed;
	char			 err[320];	/* first failure */
};

/* A load: n TLS keep-alive connections sending requests until stop. */
struct tlsp_load {
	int			 port;
	const char		*sni;
	SSL_CTX			*ctx;
	int			 n;
	atomic_int		 stop;
	atomic_int		 mark;	/* requests begun from now count
					 * as "after" */
	struct tlsp_worker	 w[TLSP_LOAD_MAX];
};

/* --- certificates ------------------------------------------------------ */

/* What the tests need, made with tests/certs.sh (sh -e). */
static const char tlsp_gen_script[] =
	"ca ca '/CN=sluice test CA'\n"
	"ca other '/CN=sluice other CA'\n"
	"ca inter '/CN=sluice test intermediate' ca\n"
	"leaf a /CN=a.test DNS:a.test,DNS:www.a.test 30 ca\n"
	"leaf a2 /CN=a.test DNS:a.test,DNS:www.a.test 30 ca\n"
	"leaf b '/CN=*.b.test' 'DNS:*.b.test' 30 inter\n"
	"cat inter.pem >> b.pem\n"
	"leaf client /CN=client '' 30 ca clientAuth\n"
	"leaf oclient '/CN=other client/O=Elsewhere, Inc.' '' 30 other "
	"clientAuth\n"
	"ec mismatch.key\n"
	"dated expired 20200101000000Z 20200102000000Z\n";

/* Make the certificates in a new tlsp_certdir (an unchecked fixture). */
static void
tlsp_certs_make(void)
{
	itest_certs_make("check_tls_proxy", tlsp_gen_script, tlsp_certdir,
	    sizeof(tlsp_certdir));
}

/* Remove tlsp_certdir and the keys in it (kept with ITEST_KEEP). */
static void
tlsp_certs_remove(void)
{
	itest_certs_remove("check_tls_proxy", tlsp_certdir);
}

/* The serial of x in hex into out. */
static const char *
tlsp_x509_serial(X509 *x, char *out, size_t len)
{
	BIGNUM	*bn;
	char	*hex;

	out[0] = '\0';
	if (x == NULL)
		return out;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (bn != NULL && (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(out, len, "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	return out;
}

/* The subject CN of x into out ("" when none). */
static const char *
tlsp_x509_cn(X509 *x, char *out, size_t len)
{
	const X509_NAME		*name;
	const ASN1_STRING	*s;
	int			 i;

	out[0] = '\0';
	if (x == NULL)
		return out;
	name = X509_get_subject_name(x);
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return out;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	snprintf(out, len, "%.*s", ASN1_STRING_length(s),
	    (const char *)ASN1_STRING_get0_data(s));
	return out;
}

/* The serial of the (first) certificate in the PEM file dir/name. */
static const char *
tlsp_file_serial(const char *dir, const char *name, char *out, size_t len)
{
	char	 path[256];
	FILE	*fp;
	X509	*x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg((fp = fopen(path, "r")) != NULL, "open %s", path);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	ck_assert_msg(x != NULL, "no certificate in %s", path);
	tlsp_x509_serial(x, out, len);
	X509_free(x);
	return out;
}

/* Copy the file src to dst (whole, through a temporary and a rename). */
static void
tlsp_copy(const char *src, const char *dst)
{
	char	*text = itest_read_file(src, NULL), tmp[256];

	ck_assert_msg(text[0] != '\0', "%s is empty or missing", src);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	itest_write_file(tmp, text);
	ck_assert_msg(rename(tmp, dst) == 0, "rename %s: %s", tmp,
	    strerror(errno));
	free(text);
}

/* --- a small TLS client ------------------------------------------------ */

/* A client context offering versions min..max, verifying nothing. */
static SSL_CTX *
tlsp_ctx(int min, int max)
{
	SSL_CTX	*ctx;

	ck_assert_ptr_nonnull(ctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_security_level(ctx, 0);	/* lets it offer TLS 1.0 */
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(ctx, min), 1);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx, max), 1);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"),
	    1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* A blocking TCP connection to 127.0.0.1:port, every wait bounded by
 * IO_MS; -1 with errno set. */
static int
tlsp_tcp(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { IO_MS / 1000, 0 };
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Why an SSL call returning rc failed, into c->err. */
static void
tlsp_note(struct tlsp_conn *c, const char *what, int rc)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 ebuf[200];

	ERR_error_string_n(e, ebuf, sizeof(ebuf));
	snprintf(c->err, sizeof(c->err), "%s: SSL error %d, errno %d (%s)%s"
	    "%s", what, SSL_get_error(c->ssl, rc), errno, strerror(errno),
	    e != 0 ? ": " : "", e != 0 ? ebuf : "");
	ERR_clear_error();
}

/*
 * Connect to port and run the handshake with SNI sni (NULL: none) from
 * ctx. Returns 0, or -1 with c->err set; either way tlsp_close() frees c.
 * Never fails the test, so threads may call it.
 */
static int
tlsp_open(struct tlsp_conn *c, SSL_CTX *ctx, int port, const char *sni)
{
	int	 rc;

	c->len = 0;
	c->err[0] = '\0';
	c->ssl = NULL;
	if ((c->fd = tlsp_tcp(port)) == -1) {
		snprintf(c->err, sizeof(c->err), "connect: %s",
		    strerror(errno));
		return -1;
	}
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (sni != NULL && SSL_set_tlsext_host_name(c->ssl, sni) != 1)) {
		snprintf(c->err, sizeof(c->err), "SSL setup failed");
		return -1;
	}
	if ((rc = SSL_connect(c->ssl)) != 1) {
		tlsp_note(c, "handshake", rc);
		return -1;
	}
	return 0;
}

/* Close c (no close_notify: a client may vanish) and free its SSL. */
static void
tlsp_close(struct tlsp_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* The peer certificate's CN and serial. */
static void
tlsp_peer(const struct tlsp_conn *c, char *cn, size_t cnlen, char *serial,
    size_t seriallen)
{
	X509	*x = SSL_get0_peer_certificate(c->ssl);

	tlsp_x509_cn(x, cn, cnlen);
	tlsp_x509_serial(x, serial, seriallen);
}

/* Read more bytes into c->buf; -1 with c->err set on EOF or error. */
static int
tlsp_fill(struct tlsp_conn *c)
{
	int	 n;

	if (c->len == sizeof(c->buf)) {
		snprintf(c->err, sizeof(c->err), "response too large");
		return -1;
	}
	n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
	if (n <= 0) {
		tlsp_note(c, "read", n);
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

/* Offset past the empty line that ends a head, 0 if none yet. */
static size_t
tlsp_head_end(const unsigned char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* The Content-Length of a head, -1 when absent. */
static long
tlsp_head_clen(const char *head)
{
	const char	*p = strcasestr(head, "\r\nContent-Length:");

	return p != NULL ? strtol(p + 17, NULL, 10) : -1;
}

/*
 * Read one response framed by Content-Length into *r. Returns 0, or -1
 * with c->err set. Never fails the test.
 */
static int
tlsp_read_response(struct tlsp_conn *c, struct tlsp_resp *r)
{
	size_t	 end;
	long	 clen;

	r->status = -1;
	r->bodylen = 0;
	while ((end = tlsp_head_end(c->buf, c->len)) == 0)
		if (tlsp_fill(c) == -1)
			return -1;
	snprintf(r->head, sizeof(r->head), "%.*s", (int)end, c->buf);
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1 ||
	    (clen = tlsp_head_clen(r->head)) < 0 ||
	    (size_t)clen >= sizeof(r->body)) {
		snprintf(c->err, sizeof(c->err), "unexpected head: %.200s",
		    r->head);
		return -1;
	}
	while (c->len < end + (size_t)clen)
		if (tlsp_fill(c) == -1)
			return -1;
	memcpy(r->body, c->buf + end, (size_t)clen);
	r->body[clen] = '\0';
	r->bodylen = (size_t)clen;
	c->len -= end + (size_t)clen;
	memmove(c->buf, c->buf + end + (size_t)clen, c->len);
	return 0;
}

/* GET path with Host host on c and read the response; 0 or -1 with
 * c->err set. Never fails the test. */
static int
tlsp_get(struct tlsp_conn *c, const char *host, const char *path,
    struct tlsp_resp *r)
{
	char	 req[512];
	int	 len, rc;

	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "\r\n", path, host);
	if ((rc = SSL_write(c->ssl, req, len)) != len) {
		tlsp_note(c, "write", rc);
		return -1;
	}
	return tlsp_read_response(c, r);
}

/* GET path on c: it must be a complete 200. */
static void
tlsp_get_ok(struct tlsp_conn *c, const char *host, const char *path,
    struct tlsp_resp *r)
{
	ck_assert_msg(tlsp_get(c, host, path, r) == 0, "GET %s over TLS: %s",
	    path, c->err);
	ck_assert_msg(r->status == 200, "GET %s over TLS: status %d", path,
	    r->status);
}

/* A new connection to port with SNI sni: it must complete; the serial
 * of the certificate it sees goes to serial. */
static void
tlsp_handshake_serial(SSL_CTX *ctx, int port, const char *sni,
    char *serial, size_t len)
{
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	char			 cn[128];

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(tlsp_open(c, ctx, port, sni) == 0, "handshake with "
	    "SNI %s: %s", sni != NULL ? sni : "(none)", c->err);
	tlsp_peer(c, cn, sizeof(cn), serial, len);
	tlsp_get_ok(c, "a.test", "/bytes/10", &r);
	tlsp_close(c);
	free(c);
}

/* --- worlds: sluice, a second sluice, openssl s_server ----------------- */

/* Start origin "a" and sluice with a TLS listener: certificates certs
 * (tls_certificate lines), more listener lines extra. */
static void
tlsp_start_tls(struct itest *t, const char *certs, const char *extra)
{
	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_sluice_port(t);
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n%s%s\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n", t->sluice.port, certs, extra,
	    t->origin[0].port);
}

/* The tls_certificate lines of a.pem (default) and b.pem. */
static char *
tlsp_certs_ab(void)
{
	char	*s;

	ck_assert(asprintf(&s, "tls_certificate = %s/a.pem %s/a.key\n"
	    "tls_certificate = %s/b.pem %s/b.key\n", tlsp_certdir,
	    tlsp_certdir, tlsp_certdir, tlsp_certdir) != -1);
	return s;
}

/* A second world in the subdirectory name of t's directory (itest_init
 * names every directory after the test process). */
static void
tlsp_world_sub(const struct itest *t, struct itest *sub, const char *name)
{
	memset(sub, 0, sizeof(*sub));
	ck_assert((size_t)snprintf(sub->dir, sizeof(sub->dir), "%s/%s",
	    t->dir, name) < sizeof(sub->dir));
	ck_assert_msg(mkdir(sub->dir, 0700) == 0, "mkdir %s: %s", sub->dir,
	    strerror(errno));
	snprintf(sub->conf, sizeof(sub->conf), "%s/sluice.ini", sub->dir);
	snprintf(sub->access_log, sizeof(sub->access_log), "%s/access.log",
	    sub->dir);
	snprintf(sub->error_log, sizeof(sub->error_log), "%s/error.log",
	    sub->dir);
	snprintf(sub->sluice_out, sizeof(sub->sluice_out), "%s/sluice.out",
	    sub->dir);
	snprintf(sub->origin_log[0], sizeof(sub->origin_log[0]),
	    "%s/origin0.log", sub->dir);
	snprintf(sub->origin_log[1], sizeof(sub->origin_log[1]),
	    "%s/origin1.log", sub->dir);
}

/* Run argv (argv[0] looked up in PATH) as p, its output in out; it dies
 * with the test process. */
static void
tlsp_spawn(struct itest_proc *p, const char *name, char *const argv[],
    const char *out)
{
	pid_t	 parent = getpid();
	int	 fd, nul;

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pid = fork();
	ck_assert_msg(p->pid != -1, "fork: %s", strerror(errno));
	if (p->pid > 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	nul = open("/dev/null", O_RDONLY);
	if (fd == -1 || nul == -1 || dup2(nul, 0) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

/*
 * Start `openssl s_server` on a free loopback port with certificate a.pem,
 * answering HTTP with its status page (-www) and requiring a client
 * certificate signed by ca.pem. Waits for its ACCEPT line.
 */
static void
tlsp_s_server_start(struct itest_proc *p, const char *out)
{
	char	 accept_at[64], cert[256], key[256], ca[256];
	char	*argv[] = { TLSP_ARG("openssl"), TLSP_ARG("s_server"),
		    TLSP_ARG("-accept"), accept_at, TLSP_ARG("-cert"), cert,
		    TLSP_ARG("-key"), key, TLSP_ARG("-CAfile"), ca,
		    TLSP_ARG("-Verify"), TLSP_ARG("1"), TLSP_ARG("-www"),
		    NULL };

	p->port = itest_free_port();
	snprintf(accept_at, sizeof(accept_at), "127.0.0.1:%d", p->port);
	snprintf(cert, sizeof(cert), "%s/a.pem", tlsp_certdir);
	snprintf(key, sizeof(key), "%s/a.key", tlsp_certdir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", tlsp_certdir);
	tlsp_spawn(p, "openssl s_server", argv, out);
	ck_assert_msg(itest_wait_file(out, "ACCEPT", ITEST_START_TIMEOUT_MS),
	    "openssl s_server did not start:\n%s", itest_file_tail(out));
	ck_assert_msg(itest_proc_alive(p), "openssl s_server exited:\n%s",
	    itest_file_tail(out));
}

/* The first line of path containing needle, into out ("" if none). */
static const char *
tlsp_log_line(const char *path, const char *needle, char *out, size_t len)
{
	char		*s = itest_read_file(path, NULL), *at, *bol, *eol;

	out[0] = '\0';
	if ((at = strstr(s, needle)) != NULL) {
		for (bol = at; bol > s && bol[-1] != '\n'; bol--)
			;
		eol = strchr(at, '\n');
		snprintf(out, len, "%.*s", (int)(eol != NULL ? eol - bol :
		    (long)strlen(bol)), bol);
	}
	free(s);
	return out;
}

/* --- a TLS keep-alive load in threads ---------------------------------- */

/* One load connection: handshake, then GETs until stop or a failure. */
static void *
tlsp_worker_run(void *arg)
{
	struct tlsp_worker	*w = arg;
	struct tlsp_load	*l = w->load;
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	*r = calloc(1, sizeof(*r));
	char			 cn[128];
	int			 after;

	if (c == NULL || r == NULL || tlsp_open(c, l->ctx, l->port,
	    l->sni) == -1) {
		snprintf(w->err, sizeof(w->err), "open: %s", c != NULL ?
		    c->err : "out of memory");
		w->failed++;
	} else
		tlsp_peer(c, cn, sizeof(cn), w->serial, sizeof(w->serial));
	while (w->failed == 0 && !l->stop) {
		after = l->mark;
		if (tlsp_get(c, "a.test", "/bytes/64", r) == -1 ||
		    r->status != 200 || r->bodylen != 64) {
			snprintf(w->err, sizeof(w->err), "request: status %d "
			    "%s", r->status, c->err);
			w->failed++;
			break;
		}
		w->ok++;
		if (after)
			w->ok_after++;
	}
	if (c != NULL)
		tlsp_close(c);
	free(c);
	free(r);
	return NULL;
}

/* Start n load connections to port with SNI sni. */
static void
tlsp_load_start(struct tlsp_load *l, int port, const char *sni, int n)
{
	int	 i;

	ck_assert_int_le(n, TLSP_LOAD_MAX);
	memset(l, 0, sizeof(*l));
	l->port = port;
	l->sni = sni;
	l->n = n;
	l->ctx = tlsp_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	for (i = 0; i < n; i++) {
		l->w[i].load = l;
		ck_assert_int_eq(pthread_create(&l->w[i].tid, NULL,
		    tlsp_worker_run, &l->w[i]), 0);
	}
}

/* The least count of every connection (after: requests after the mark). */
static long
tlsp_load_min(struct tlsp_load *l, int after)
{
	long	 min = -1, v;
	int	 i;

	for (i = 0; i < l->n; i++) {
		v = after ? l->w[i].ok_after : l->w[i].ok;
		if (min == -1 || v < min)
			min = v;
	}
	return min;
}

/* The total of a counter over every connection. */
static long
tlsp_load_sum(struct tlsp_load *l, enum tlsp_counter which)
{
	long	 sum = 0;
	int	 i;

	for (i = 0; i < l->n; i++)
		sum += which == TLSP_OK ? l->w[i].ok : which == TLSP_OK_AFTER ?
		    l->w[i].ok_after : l->w[i].failed;
	return sum;
}

/* The first failure of the load, or "none". */
static const char *
tlsp_load_error(struct tlsp_load *l)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		if (l->w[i].failed != 0)
			return l->w[i].err;
	return "none";
}

/* Wait until every connection has done rounds requests (after the mark
 * when after), failing the test on a failure or past the bound. */
static void
tlsp_load_wait(struct tlsp_load *l, long rounds, int after)
{
	double	 deadline = itest_now() + WAIT_MS / 1e3;

	while (tlsp_load_min(l, after) < rounds) {
		ck_assert_msg(tlsp_load_sum(l, TLSP_FAILED) == 0,
		    "load failed: %s", tlsp_load_error(l));
		ck_assert_msg(itest_now() < deadline, "load: only %ld "
		    "requests on the slowest connection within %d ms",
		    tlsp_load_min(l, after), WAIT_MS);
		poll(NULL, 0, 5);
	}
}

/* Stop the load and join its threads (each wait is bounded by IO_MS). */
static void
tlsp_load_stop(struct tlsp_load *l)
{
	int	 i;

	l->stop = 1;
	for (i = 0; i < l->n; i++)
		pthread_join(l->w[i].tid, NULL);
	SSL_CTX_free(l->ctx);
	l->ctx = NULL;
}

/* --- termination ------------------------------------------------------- */

static const struct {
	const char	*sni;		/* NULL: none sent */
	const char	*cn;		/* of the certificate served */
	const char	*file;		/* that certificate */
} tlsp_sni_cases[] = {
	{ "a.test", "a.test", "a.pem" },
	{ "www.a.test", "a.test", "a.pem" },
	{ "x.b.test", "*.b.test", "b.pem" },
	{ NULL, "a.test", "a.pem" },
	{ "unknown.test", "a.test", "a.pem" },
};

/* SNI picks the certificate, the first one is the default; requests
 * through TLS reach the origin with X-Forwarded-Proto: https. */
START_TEST(test_sni)
{
	struct itest		 t;
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	char			*certs = tlsp_certs_ab(), cn[128];
	char			 serial[128], want[128];
	size_t			 i;

	tlsp_start_tls(&t, certs, "");
	for (i = 0; i < sizeof(tlsp_sni_cases) / sizeof(tlsp_sni_cases[0]);
	    i++) {
		ck_assert_msg(tlsp_open(c, ctx, t.sluice.port,
		    tlsp_sni_cases[i].sni) == 0, "handshake: %s", c->err);
		tlsp_peer(c, cn, sizeof(cn), serial, sizeof(serial));
		tlsp_file_serial(tlsp_certdir, tlsp_sni_cases[i].file, want,
		    sizeof(want));
		printf("sni %-12s -> CN %-8s serial %s (%s)\n",
		    tlsp_sni_cases[i].sni != NULL ? tlsp_sni_cases[i].sni :
		    "(none)", cn, serial, tlsp_sni_cases[i].file);
		ck_assert_str_eq(cn, tlsp_sni_cases[i].cn);
		ck_assert_str_eq(serial, want);
		tlsp_get_ok(c, "a.test", "/echo", &r);
		ck_assert_msg(strstr(r.body, "\r\nX-Forwarded-Proto: https\r\n")
		    != NULL, "the origin got no X-Forwarded-Proto: https:\n%s",
		    r.body);
		tlsp_get_ok(c, "a.test", "/bytes/1000", &r);
		ck_assert_uint_eq(r.bodylen, 1000);
		tlsp_close(c);
	}
	printf("sni: 5 handshakes, each 2 requests on the connection, "
	    "X-Forwarded-Proto: https at the origin\n");
	fflush(stdout);
	free(c);
	free(certs);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* A handshake offering versions min..max: 0 with the version and cipher
 * in out, or -1 with the reason in out. */
static int
tlsp_try_version(int port, int min, int max, char *out, size_t len)
{
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_CTX			*ctx = tlsp_ctx(min, max);
	int			 rc;

	ck_assert_ptr_nonnull(c);
	rc = tlsp_open(c, ctx, port, "a.test");
	if (rc == 0) {
		snprintf(out, len, "%s %s", SSL_get_version(c->ssl),
		    SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
		tlsp_get_ok(c, "a.test", "/bytes/10", &r);
	} else
		snprintf(out, len, "%s", c->err);
	tlsp_close(c);
	free(c);
	SSL_CTX_free(ctx);
	return rc;
}

/* TLS 1.0 and 1.1 are refused by the server; 1.2 and 1.3 work. */
START_TEST(test_versions)
{
	struct itest	 t;
	char		*certs = tlsp_certs_ab(), out[320];

	tlsp_start_tls(&t, certs, "");
	ck_assert_int_eq(tlsp_try_version(t.sluice.port, TLS1_VERSION,
	    TLS1_1_VERSION, out, sizeof(out)), -1);
	printf("TLS 1.0-1.1 offered: refused: %s\n", out);
	/* the server refused (its alert), not the client */
	ck_assert_msg(strstr(out, "protocol version") != NULL, "%s", out);
	ck_assert_int_eq(tlsp_try_version(t.sluice.port, TLS1_VERSION,
	    TLS1_VERSION, out, sizeof(out)), -1);
	printf("TLS 1.0 offered: refused: %s\n", out);
	ck_assert_msg(strstr(out, "protocol version") != NULL, "%s", out);
	ck_assert_int_eq(tlsp_try_version(t.sluice.port, TLS1_2_VERSION,
	    TLS1_2_VERSION, out, sizeof(out)), 0);
	printf("TLS 1.2 offered: %s, a request went through\n", out);
	ck_assert_msg(strncmp(out, "TLSv1.2 ", 8) == 0, "%s", out);
	ck_assert_int_eq(tlsp_try_version(t.sluice.port, TLS1_3_VERSION,
	    TLS1_3_VERSION, out, sizeof(out)), 0);
	printf("TLS 1.3 offered: %s, a request went through\n", out);
	ck_assert_msg(strncmp(out, "TLSv1.3 ", 8) == 0, "%s", out);
	fflush(stdout);
	free(certs);
	itest_finish(&t);
}
END_TEST

/* Read from fd until EOF or a reset, within timeout_ms, into buf (NUL
 * added). Returns the byte count, or -1 when the bound passed. */
static ssize_t
tlsp_read_to_eof(int fd, char *buf, size_t cap, int timeout_ms)
{
	double		 deadline = itest_now() + timeout_ms / 1e3;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 len = 0;
	ssize_t		 n;
	int		 left;

	for (;;) {
		left = (int)((deadline - itest_now()) * 1000);
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || (len += (size_t)n) == cap - 1)
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Plain HTTP to the TLS port: closed, never answered in plain text. */
START_TEST(test_plaintext)
{
	struct itest		 t;
	struct itest_conn	 c;
	char			*certs = tlsp_certs_ab(), buf[4096];
	double			 t0;
	ssize_t			 n;

	tlsp_start_tls(&t, certs, "");
	itest_connect(&c, t.sluice.port, IO_MS);
	t0 = itest_now();
	itest_send_str(&c, "GET /bytes/10 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	n = tlsp_read_to_eof(c.fd, buf, sizeof(buf), 5000);
	printf("plain HTTP to the TLS port: closed after %.3f s, %zd bytes "
	    "back (first byte 0x%02x)\n", itest_now() - t0, n,
	    n > 0 ? (unsigned char)buf[0] : 0);
	fflush(stdout);
	ck_assert_msg(n >= 0, "the connection was not closed within 5 s");
	ck_assert_msg(memmem(buf, (size_t)n, "HTTP/1.", 7) == NULL,
	    "answered in plain text: %s", buf);
	itest_close(&c);
	ck_assert_msg(itest_count_lines(t.origin_log[0]) == 0, "the request "
	    "reached the origin:\n%s", itest_file_tail(t.origin_log[0]));
	free(certs);
	itest_finish(&t);
}
END_TEST

/* Seconds until sluice closes a connection on which first (len bytes,
 * may be 0) was sent; -1 when it is still open after 5 s. */
static double
tlsp_time_to_close(int port, const void *first, size_t len)
{
	struct itest_conn	 c;
	char			 buf[4096];
	double			 t0, took;

	itest_connect(&c, port, IO_MS);
	t0 = itest_now();
	if (len > 0)
		ck_assert_int_eq(itest_send(&c, first, len, IO_MS), 0);
	took = tlsp_read_to_eof(c.fd, buf, sizeof(buf), 5000) >= 0 ?
	    itest_now() - t0 : -1;
	itest_close(&c);
	return took;
}

/* A real ClientHello (SNI a.test) in a malloc'd buffer, its length in
 * *len. */
static unsigned char *
tlsp_client_hello(size_t *len)
{
	SSL_CTX		*ctx = tlsp_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	SSL		*ssl = SSL_new(ctx);
	BIO		*rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	unsigned char	*hello;
	char		*data;
	long		 n;

	ck_assert(ssl != NULL && rb != NULL && wb != NULL);
	SSL_set_bio(ssl, rb, wb);
	SSL_set_tlsext_host_name(ssl, "a.test");
	ck_assert_int_eq(SSL_connect(ssl), -1);	/* wants to read */
	n = BIO_get_mem_data(wb, &data);
	ck_assert_int_gt(n, 100);
	ck_assert_ptr_nonnull(hello = malloc((size_t)n));
	memcpy(hello, data, (size_t)n);
	*len = (size_t)n;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return hello;
}

/* The TLS handshake is bounded by client_timeout (1 s here): silence and
 * half a ClientHello are both cut. */
START_TEST(test_handshake_timeout)
{
	struct itest	 t;
	char		*certs = tlsp_certs_ab();
	unsigned char	*hello;
	size_t		 len;
	double		 idle, half, full;
	SSL_CTX		*ctx = tlsp_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	char		 serial[128];

	tlsp_start_tls(&t, certs, "client_timeout = 1s\n");
	hello = tlsp_client_hello(&len);
	idle = tlsp_time_to_close(t.sluice.port, NULL, 0);
	half = tlsp_time_to_close(t.sluice.port, hello, len / 2);
	printf("handshake bounded by client_timeout 1s: silent client closed "
	    "after %.3f s, half a ClientHello (%zu of %zu bytes) after "
	    "%.3f s\n", idle, len / 2, len, half);
	full = itest_now();
	tlsp_handshake_serial(ctx, t.sluice.port, "a.test", serial,
	    sizeof(serial));
	printf("a full handshake and request still work: %.3f s\n",
	    itest_now() - full);
	fflush(stdout);
	ck_assert_msg(idle >= 0.98 && idle <= 1 + TLSP_TIMEOUT_MARGIN,
	    "silent client: closed after %.3f s, want 1 s", idle);
	ck_assert_msg(half >= 0.98 && half <= 1 + TLSP_TIMEOUT_MARGIN,
	    "half a ClientHello: closed after %.3f s, want 1 s", half);
	free(hello);
	free(certs);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/*
 * What the NUL scanner refuses before evhttp reads a request reaches a
 * TLS client as an answer too, not only a close: a head not whole within
 * client_header_timeout gets 408, a request line with a bad version 400.
 */
START_TEST(test_tls_refusals)
{
	static const struct {
		const char	*send;
		int		 status;
	} cases[] = {
		{ "GET /bytes/1 HTTP/1.1\r\nHost: a.test\r\n", 408 },
		{ "GET /bytes/1 HTTP/1.11\r\nHost: a.test\r\n\r\n", 400 },
	};
	struct itest		 t;
	struct tlsp_conn	 c;
	struct tlsp_resp	 r;
	char			*certs = tlsp_certs_ab();
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	double			 t0;
	size_t			 i;
	int			 len;

	tlsp_start_tls(&t, certs, "client_header_timeout = 1s\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(tlsp_open(&c, ctx, t.sluice.port, "a.test") == 0,
		    "%s", c.err);
		len = (int)strlen(cases[i].send);
		t0 = itest_now();
		ck_assert_int_eq(SSL_write(c.ssl, cases[i].send, len), len);
		ck_assert_msg(tlsp_read_response(&c, &r) == 0, "case %zu: %s",
		    i, c.err);
		printf("TLS: \"%.*s\" answered %d after %.3f s\n",
		    (int)strcspn(cases[i].send, "\r"), cases[i].send,
		    r.status, itest_now() - t0);
		ck_assert_int_eq(r.status, cases[i].status);
		ck_assert_msg(strncmp(r.head, "HTTP/1.1 ", 9) == 0, "%.40s",
		    r.head);
		tlsp_close(&c);
	}
	free(certs);
	SSL_CTX_free(ctx);
	itest_finish(&t);
	ck_assert_int_eq(itest_count_file(t.origin_log[0], "GET"), 0);
}
END_TEST

/* --- a connection whose TLS cannot be set up --------------------------- */

/* A file per thread of a process traced by strace -ff: its accept4 and
 * close calls, whole lines (-ff never splits a call). */
struct tlsp_strace {
	struct itest_proc	 proc;
	char			 prefix[192];	/* files prefix.TID */
	char			 out[192];	/* strace's own messages */
	int			 on;		/* attached */
};

/* What the trace shows of the accepted sockets. */
struct tlsp_closes {
	int		 accepted;
	int		 closed;	/* first successful close of one */
	int		 failed;	/* close() = -1 (EBADF: a double close) */
	int		 open;		/* accepted, never closed */
	char		 bad[160];	/* the first failed close */
};

/* The descriptors pid has open, -1 when /proc cannot tell. */
static int
tlsp_fd_count(pid_t pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait up to timeout_ms until pid has n descriptors; the count it has. */
static int
tlsp_wait_fds(pid_t pid, int n, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 have;

	while ((have = tlsp_fd_count(pid)) != n && itest_now() < deadline)
		poll(NULL, 0, 10);
	return have;
}

/*
 * pid's descriptors once start-up is over: every worker opens its own
 * descriptor of each listening socket after "ready" is logged, so the
 * count is taken when it has not changed for 300 ms (within 3 s).
 */
static int
tlsp_fds_settled(pid_t pid)
{
	double	 deadline = itest_now() + 3, since = itest_now();
	int	 have = tlsp_fd_count(pid), now;

	while (itest_now() < deadline && itest_now() - since < 0.3) {
		poll(NULL, 0, 20);
		if ((now = tlsp_fd_count(pid)) != have) {
			have = now;
			since = itest_now();
		}
	}
	return have;
}

/*
 * Attach strace to every thread of pid, tracing accept4 and close into
 * files in t's directory. s->on stays 0, with a SKIP line printed, when
 * strace is not installed or may not attach (ptrace restricted).
 */
static void
tlsp_strace_start(struct tlsp_strace *s, const struct itest *t, pid_t pid)
{
	char	 pidarg[24];
	char	*argv[] = { TLSP_ARG("strace"), TLSP_ARG("-ff"),
		    TLSP_ARG("-e"), TLSP_ARG("trace=accept4,close"),
		    TLSP_ARG("-o"), s->prefix, TLSP_ARG("-p"), pidarg, NULL };
	double	 deadline = itest_now() + ITEST_START_TIMEOUT_MS / 1e3;

	memset(s, 0, sizeof(*s));
	if (system("command -v strace >/dev/null 2>&1") != 0) {
		printf("SKIP strace: not installed; the descriptor count and "
		    "libevent's warnings are the check\n");
		return;
	}
	snprintf(s->prefix, sizeof(s->prefix), "%s/trace", t->dir);
	snprintf(s->out, sizeof(s->out), "%s/strace.out", t->dir);
	snprintf(pidarg, sizeof(pidarg), "%ld", (long)pid);
	tlsp_spawn(&s->proc, "strace", argv, s->out);
	while (!itest_wait_file(s->out, " attached", 10)) {
		if (!itest_proc_alive(&s->proc)) {
			printf("SKIP strace: cannot attach: %s\n",
			    itest_file_tail(s->out));
			return;
		}
		ck_assert_msg(itest_now() < deadline, "strace did not "
		    "attach within %d ms:\n%s", ITEST_START_TIMEOUT_MS,
		    itest_file_tail(s->out));
	}
	s->on = 1;
}

/* Count what one thread's trace file shows into *cl. */
static void
tlsp_closes_file(const char *path, struct tlsp_closes *cl)
{
	char	*s = itest_read_file(path, NULL), *line, *save, *eq, *p;
	char	 open[1024] = { 0 };
	long	 fd, rc;
	int	 i;

	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* the result follows the last " = " (padded to a column) */
		for (eq = NULL, p = line; (p = strstr(p, " = ")) != NULL; p++)
			eq = p;
		if (eq == NULL)
			continue;
		rc = strtol(eq + 3, NULL, 10);
		if (strncmp(line, "accept4(", 8) == 0 && rc >= 0 &&
		    rc < (long)sizeof(open)) {
			open[rc]++;
			cl->accepted++;
		} else if (strncmp(line, "close(", 6) == 0 && rc == -1) {
			if (cl->failed++ == 0)
				snprintf(cl->bad, sizeof(cl->bad), "%s", line);
		} else if (strncmp(line, "close(", 6) == 0 &&
		    (fd = strtol(line + 6, NULL, 10)) >= 0 &&
		    fd < (long)sizeof(open) && open[fd] > 0) {
			open[fd]--;
			cl->closed++;
		}
	}
	for (i = 0; i < (int)sizeof(open); i++)
		cl->open += open[i];
	free(s);
}

/* Detach strace and count what its files show into *cl. */
static void
tlsp_strace_stop(struct tlsp_strace *s, struct tlsp_closes *cl)
{
	char	 pattern[200];
	glob_t	 g;
	size_t	 i;

	memset(cl, 0, sizeof(*cl));
	ck_assert_msg(itest_proc_stop(&s->proc, WAIT_MS) != -2, "strace "
	    "did not detach within %d ms", WAIT_MS);
	snprintf(pattern, sizeof(pattern), "%s.*", s->prefix);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++)
		tlsp_closes_file(g.gl_pathv[i], cl);
	globfree(&g);
}

/*
 * TLS setup fails (injected into tests/sluice-faults) for the first
 * TLSP_REFUSED + 1 connections: those that send a ClientHello are closed
 * at once with not a byte back, the silent one at client_timeout; each
 * socket is closed once (strace, when it may attach), no descriptor
 * stays, the error log has at most a line each; then TLS serves again.
 */
START_TEST(test_tls_setup_fails)
{
	struct itest		 t;
	struct itest_conn	 c;
	struct tlsp_strace	 st;
	struct tlsp_closes	 cl;
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	char			*certs = tlsp_certs_ab(), buf[4096];
	char			 serial[128];
	unsigned char		*hello;
	size_t			 len;
	ssize_t			 n;
	double			 t0, took, silent;
	int			 i, fds0, fds1, lines;

	itest_init(&t);
	t.binary = ITEST_SLUICE_FAULTS;
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	snprintf(buf, sizeof(buf), "%d", TLSP_REFUSED + 1);
	ck_assert(setenv("SLUICE_FAULT_TLS_SETUP", buf, 1) == 0);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\nclient_timeout = 2s\n%s\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n", t.sluice.port, certs,
	    t.origin[0].port);
	unsetenv("SLUICE_FAULT_TLS_SETUP");
	hello = tlsp_client_hello(&len);
	fds0 = tlsp_fds_settled(t.sluice.pid);
	ck_assert_int_gt(fds0, 0);
	tlsp_strace_start(&st, &t, t.sluice.pid);

	for (i = 0; i < TLSP_REFUSED; i++) {
		itest_connect(&c, t.sluice.port, IO_MS);
		t0 = itest_now();
		ck_assert_int_eq(itest_send(&c, hello, len, IO_MS), 0);
		n = tlsp_read_to_eof(c.fd, buf, sizeof(buf), TLSP_REFUSE_MS);
		took = itest_now() - t0;
		itest_close(&c);
		printf("TLS setup fails: ClientHello %d closed after %.3f s, "
		    "%zd bytes back\n", i + 1, took, n);
		ck_assert_msg(n >= 0, "refused connection %d still open after "
		    "%d ms", i + 1, TLSP_REFUSE_MS);
		ck_assert_msg(n == 0, "refused connection %d got %zd bytes "
		    "back: %.*s", i + 1, n, (int)n, buf);
	}
	silent = tlsp_time_to_close(t.sluice.port, NULL, 0);
	printf("TLS setup fails: a silent client closed after %.3f s "
	    "(client_timeout 2s)\n", silent);
	fds1 = tlsp_wait_fds(t.sluice.pid, fds0, WAIT_MS);
	printf("TLS setup fails: sluice has %d descriptors before, %d after\n",
	    fds0, fds1);
	if (st.on) {
		tlsp_strace_stop(&st, &cl);
		printf("TLS setup fails: strace: %d accepted, %d closed, %d "
		    "failed closes, %d left open\n", cl.accepted, cl.closed,
		    cl.failed, cl.open);
	}
	tlsp_handshake_serial(ctx, t.sluice.port, "a.test", serial,
	    sizeof(serial));
	lines = itest_count_file(t.error_log,
	    "cannot set up TLS for a connection");
	printf("TLS setup fails: %d error-log line(s) for %d refused "
	    "connections; then a TLS request works\n", lines,
	    TLSP_REFUSED + 1);
	fflush(stdout);

	ck_assert_msg(silent >= 1.98 && silent <= 2 + TLSP_TIMEOUT_MARGIN,
	    "silent client: closed after %.3f s, want 2 s", silent);
	ck_assert_msg(fds1 == fds0, "sluice had %d descriptors, now %d",
	    fds0, fds1);
	if (st.on) {
		ck_assert_msg(cl.failed == 0, "a close failed: %s", cl.bad);
		ck_assert_msg(cl.accepted == TLSP_REFUSED + 1 &&
		    cl.closed == cl.accepted && cl.open == 0,
		    "strace: %d accepted, %d closed, %d open", cl.accepted,
		    cl.closed, cl.open);
	}
	/* evhttp's warning when its connection setup fails (the old refusal
	 * took that path and closed the socket twice) */
	ck_assert_msg(itest_count_file(t.sluice_out, "cannot get connection")
	    == 0, "evhttp could not set up a connection:\n%s",
	    itest_file_tail(t.sluice_out));
	ck_assert_msg(lines >= 1 && lines <= TLSP_REFUSED + 1, "%d "
	    "\"cannot set up TLS\" lines for %d failures:\n%s", lines,
	    TLSP_REFUSED + 1, itest_file_tail(t.error_log));
	free(hello);
	free(certs);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* --- certificate reload ------------------------------------------------ */

/* Copy a.pem and a.key to live.pem and live.key in t's directory and
 * start sluice serving them. */
static void
tlsp_start_live(struct itest *t)
{
	char	 src[256], dst[256], *certs;

	itest_init(t);
	snprintf(src, sizeof(src), "%s/a.pem", tlsp_certdir);
	snprintf(dst, sizeof(dst), "%s/live.pem", t->dir);
	tlsp_copy(src, dst);
	snprintf(src, sizeof(src), "%s/a.key", tlsp_certdir);
	snprintf(dst, sizeof(dst), "%s/live.key", t->dir);
	tlsp_copy(src, dst);
	ck_assert(asprintf(&certs, "tls_certificate = %s/live.pem "
	    "%s/live.key\n", t->dir, t->dir) != -1);
	itest_origin_start(t, 0, "a");
	itest_sluice_port(t);
	itest_sluice_start(t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n%s\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n", t->sluice.port, certs,
	    t->origin[0].port);
	free(certs);
}

/* Rename name.pem and name.key of the certificate directory over
 * live.pem and live.key (the key only when with_key). */
static void
tlsp_rotate_files(struct itest *t, const char *name, int with_key)
{
	char	 src[256], dst[256];

	snprintf(src, sizeof(src), "%s/%s.pem", tlsp_certdir, name);
	snprintf(dst, sizeof(dst), "%s/live.pem", t->dir);
	tlsp_copy(src, dst);
	if (!with_key)
		return;
	snprintf(src, sizeof(src), "%s/%s.key", tlsp_certdir, name);
	snprintf(dst, sizeof(dst), "%s/live.key", t->dir);
	tlsp_copy(src, dst);
}

/* Every established load connection still has the certificate old. */
static void
tlsp_load_assert_serial(struct tlsp_load *l, const char *old)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		ck_assert_msg(strcmp(l->w[i].serial, old) == 0, "connection "
		    "%d saw serial %s, want %s", i, l->w[i].serial, old);
}

/*
 * Rotation under TLS keep-alive load: 20 connections send requests while
 * the certificate files are replaced (new serial) and sluice gets SIGHUP.
 * New handshakes see the new serial at once; the established connections
 * continue on the same connection; no request fails.
 */
START_TEST(test_rotation)
{
	struct itest		 t;
	struct tlsp_load	 l;
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	char			 old[128], new[128], seen[128], line[256];
	double			 t0, reload_ms;
	long			 before;
	int			 i;

	tlsp_start_live(&t);
	tlsp_file_serial(tlsp_certdir, "a.pem", old, sizeof(old));
	tlsp_file_serial(tlsp_certdir, "a2.pem", new, sizeof(new));
	ck_assert_str_ne(old, new);
	tlsp_handshake_serial(ctx, t.sluice.port, "a.test", seen,
	    sizeof(seen));
	ck_assert_str_eq(seen, old);
	tlsp_load_start(&l, t.sluice.port, "a.test", TLSP_ROTATE_CONNS);
	tlsp_load_wait(&l, TLSP_ROUNDS, 0);
	tlsp_rotate_files(&t, "a2", 1);
	t0 = itest_now();
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	reload_ms = (itest_now() - t0) * 1e3;
	l.mark = 1;
	before = tlsp_load_sum(&l, TLSP_OK);
	for (i = 0; i < 5; i++) {
		tlsp_handshake_serial(ctx, t.sluice.port, i % 2 ? "www.a.test" :
		    NULL, seen, sizeof(seen));
		ck_assert_msg(strcmp(seen, new) == 0, "a new handshake after "
		    "the reload saw serial %s, want %s", seen, new);
	}
	tlsp_load_wait(&l, TLSP_ROUNDS, 1);
	tlsp_load_stop(&l);
	printf("rotation: %d TLS keep-alive connections, %ld requests ok, "
	    "%ld of them after the reload (at least %ld per connection, on "
	    "the same connection), %ld failed\n", l.n,
	    tlsp_load_sum(&l, TLSP_OK), tlsp_load_sum(&l, TLSP_OK_AFTER),
	    tlsp_load_min(&l, 1), tlsp_load_sum(&l, TLSP_FAILED));
	printf("rotation: SIGHUP to the generation 2 line %.0f ms (%s); "
	    "%ld requests before it\n", reload_ms, tlsp_log_line(t.error_log,
	    "reload: generation 2", line, sizeof(line)), before);
	printf("rotation: serial %s -> %s; 5/5 new handshakes saw the new "
	    "one, %d/%d established connections kept the old one\n", old, new,
	    l.n, l.n);
	fflush(stdout);
	ck_assert_msg(tlsp_load_sum(&l, TLSP_FAILED) == 0, "failed: %s",
	    tlsp_load_error(&l));
	tlsp_load_assert_serial(&l, old);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* Rewrite t's config with certificate line certs; SIGHUP must fail with
 * want (an error line naming file:line) and keep generation 1. */
static void
tlsp_bad_reload(struct itest *t, const char *certs, const char *want,
    const char *what)
{
	char	 needle[512], line[512];
	int	 at;

	if (certs != NULL)
		itest_sluice_config(t, NULL, "[listener web]\n"
		    "listen = 127.0.0.1:%d\nupstream = app\n%s\n"
		    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
		    t->sluice.port, certs, t->origin[0].port);
	at = itest_line_of(t->conf, "tls_certificate");
	ck_assert_int_gt(at, 0);
	itest_sluice_hup(t, "reload failed; still serving generation 1",
	    WAIT_MS);
	snprintf(needle, sizeof(needle), "%s:%d: tls_certificate: %s",
	    t->conf, at, want);
	ck_assert_msg(itest_wait_file(t->error_log, needle, WAIT_MS),
	    "no \"%s\" in the error log:\n%s", needle,
	    itest_file_tail(t->error_log));
	printf("bad reload (%s): %s\n", what, tlsp_log_line(t->error_log,
	    needle, line, sizeof(line)));
}

/* The new handshakes still see serial want. */
static void
tlsp_assert_serving(SSL_CTX *ctx, int port, const char *want)
{
	char	 seen[128];

	tlsp_handshake_serial(ctx, port, "a.test", seen, sizeof(seen));
	ck_assert_msg(strcmp(seen, want) == 0, "a new handshake saw serial "
	    "%s, want the old %s", seen, want);
}

/*
 * A certificate that does not match its key (renewed certificate renamed
 * over the old one, key left behind) and an expired certificate: each
 * reload is refused with file:line, the old certificate keeps serving new
 * handshakes, and traffic on 5 keep-alive connections is unaffected.
 */
START_TEST(test_bad_reload)
{
	struct itest		 t;
	struct tlsp_load	 l;
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	char			 old[128], want[512], *certs;

	tlsp_start_live(&t);
	tlsp_file_serial(tlsp_certdir, "a.pem", old, sizeof(old));
	tlsp_load_start(&l, t.sluice.port, "a.test", 5);
	tlsp_load_wait(&l, TLSP_ROUNDS, 0);
	l.mark = 1;

	tlsp_rotate_files(&t, "a2", 0);		/* the key stays a.key */
	snprintf(want, sizeof(want), "%s/live.key: key does not match the "
	    "certificate in %s/live.pem", t.dir, t.dir);
	tlsp_bad_reload(&t, NULL, want, "key does not match");
	tlsp_assert_serving(ctx, t.sluice.port, old);

	ck_assert(asprintf(&certs, "tls_certificate = %s/expired.pem "
	    "%s/expired.key\n", tlsp_certdir, tlsp_certdir) != -1);
	snprintf(want, sizeof(want), "%s/expired.pem: expired on 2020-01-02",
	    tlsp_certdir);
	tlsp_bad_reload(&t, certs, want, "expired");
	tlsp_assert_serving(ctx, t.sluice.port, old);

	tlsp_load_wait(&l, TLSP_ROUNDS, 1);
	tlsp_load_stop(&l);
	printf("bad reloads: generation 1 and serial %s still served; load: "
	    "%d connections, %ld requests ok (%ld after the first bad "
	    "reload), %ld failed\n", old, l.n, tlsp_load_sum(&l, TLSP_OK),
	    tlsp_load_sum(&l, TLSP_OK_AFTER), tlsp_load_sum(&l, TLSP_FAILED));
	fflush(stdout);
	ck_assert_msg(tlsp_load_sum(&l, TLSP_FAILED) == 0, "failed: %s",
	    tlsp_load_error(&l));
	ck_assert_int_eq(itest_count_file(t.error_log, "reload: generation"),
	    0);
	free(certs);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* --- TLS to upstreams -------------------------------------------------- */

/* An [upstream NAME] with TLS to 127.0.0.1:port and the lines given. */
static char *
tlsp_up_section(const char *name, int port, const char *lines)
{
	char	*s;

	ck_assert(asprintf(&s, "[upstream %s]\nserver = 127.0.0.1:%d "
	    "name=u\ntls = on\n%s\n", name, port, lines) != -1);
	return s;
}

/*
 * Write the front sluice's config: a plain listener routing by host to
 * upstreams good (tls_ca good_ca), wrongca, wrongname and noverify, all
 * in front of the TLS upstream on port up.
 */
static void
tlsp_front_config(struct itest *t, int up, const char *good_ca)
{
	char	*good, *wrongca, *wrongname, *noverify, *lines;
	char	*d = tlsp_certdir;

	ck_assert(asprintf(&lines, "tls_ca = %s/%s.pem\n"
	    "tls_server_name = a.test\n", d, good_ca) != -1);
	good = tlsp_up_section("good", up, lines);
	free(lines);
	ck_assert(asprintf(&lines, "tls_ca = %s/other.pem\n"
	    "tls_server_name = a.test\n", d) != -1);
	wrongca = tlsp_up_section("wrongca", up, lines);
	free(lines);
	ck_assert(asprintf(&lines, "tls_ca = %s/ca.pem\n"
	    "tls_server_name = nope.test\n", d) != -1);
	wrongname = tlsp_up_section("wrongname", up, lines);
	free(lines);
	ck_assert(asprintf(&lines, "tls_verify = off\ntls_ca = %s/other.pem\n"
	    "tls_server_name = nope.test\n", d) != -1);
	noverify = tlsp_up_section("noverify", up, lines);
	free(lines);
	itest_sluice_config(t, NULL, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = good\nroute = wrongca.test/ wrongca\n"
	    "route = wrongname.test/ wrongname\n"
	    "route = noverify.test/ noverify\n\n%s%s%s%s", t->sluice.port,
	    good, wrongca, wrongname, noverify);
	free(good);
	free(wrongca);
	free(wrongname);
	free(noverify);
}

/* GET path with Host host on c (plain HTTP); returns the status. */
static int
tlsp_plain_get(struct itest_conn *c, const char *host, const char *path,
    struct itest_resp *r)
{
	char	 req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    path, host);
	itest_send_str(c, req);
	itest_read_response(c, r, 0, IO_MS);
	return r->status;
}

/* One GET with Host host on a new connection; returns the status. */
static int
tlsp_plain_once(int port, const char *host, const char *path)
{
	struct itest_conn	 c;
	struct itest_resp	 r;
	int			 status;

	itest_connect(&c, port, IO_MS);
	status = tlsp_plain_get(&c, host, path, &r);
	itest_resp_free(&r);
	itest_close(&c);
	return status;
}

/* The number of distinct client addresses (field 2) in an access log. */
static int
tlsp_distinct_clients(const char *path, int *lines)
{
	char	*s = itest_read_file(path, NULL), *line, *save = NULL;
	char	 seen[64][48], addr[48];
	int	 n = 0, i;

	*lines = 0;
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*s %47s", addr) != 1)
			continue;
		(*lines)++;
		for (i = 0; i < n && strcmp(seen[i], addr) != 0; i++)
			;
		if (i == n && n < 64)
			snprintf(seen[n++], sizeof(seen[0]), "%s", addr);
	}
	free(s);
	return n;
}

/* A request to host must be 502 and log "TLS: certificate verify failed:
 * why" in the error log. */
static void
tlsp_assert_verify_502(struct itest *t, const char *host, const char *why)
{
	char	 needle[256], line[512];
	int	 status;

	status = tlsp_plain_once(t->sluice.port, host, "/echo");
	snprintf(needle, sizeof(needle), "TLS: certificate verify failed: %s",
	    why);
	ck_assert_msg(itest_wait_file(t->error_log, needle, WAIT_MS),
	    "no \"%s\" in the error log:\n%s", needle,
	    itest_file_tail(t->error_log));
	printf("upstream TLS, %s: status %d; %s\n", host, status,
	    tlsp_log_line(t->error_log, needle, line, sizeof(line)));
	ck_assert_int_eq(status, 502);
}

/*
 * sluice -> TLS -> a second sluice (TLS termination) -> the origin. The
 * right CA and name verify; a wrong CA or name is a 502 with OpenSSL's
 * reason logged; tls_verify = off passes. Pooled TLS connections are
 * reused; a reload that changes the TLS settings retires them.
 */
START_TEST(test_upstream_tls)
{
	struct itest		 t, u;
	struct itest_conn	 c;
	struct itest_resp	 r;
	char			*certs;
	int			 i, nclients, nlines;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	tlsp_world_sub(&t, &u, "up");
	itest_sluice_port(&u);
	ck_assert(asprintf(&certs, "tls_certificate = %s/a.pem %s/a.key\n",
	    tlsp_certdir, tlsp_certdir) != -1);
	itest_sluice_start(&u, "[listener tls]\nlisten = 127.0.0.1:%d\n"
	    "upstream = app\n%s\n[upstream app]\nserver = 127.0.0.1:%d\n",
	    u.sluice.port, certs, t.origin[0].port);
	itest_sluice_port(&t);
	tlsp_front_config(&t, u.sluice.port, "ca");
	itest_sluice_launch(&t);

	itest_connect(&c, t.sluice.port, IO_MS);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(tlsp_plain_get(&c, "good.test", "/echo", &r),
		    200);
		ck_assert_msg(strstr((char *)r.body, "\r\nX-Forwarded-Proto: "
		    "https\r\n") != NULL, "%s", r.body);
		itest_resp_free(&r);
	}
	itest_close(&c);
	ck_assert(itest_wait_lines(u.access_log, 5, WAIT_MS));
	nclients = tlsp_distinct_clients(u.access_log, &nlines);
	printf("upstream TLS, good.test (tls_ca ca.pem, name a.test): 5 x 200; "
	    "the TLS upstream saw them from %d connection(s)\n", nclients);
	ck_assert_int_eq(nlines, 5);
	ck_assert_int_eq(nclients, 1);

	tlsp_assert_verify_502(&t, "wrongca.test",
	    "unable to get local issuer certificate");
	tlsp_assert_verify_502(&t, "wrongname.test", "hostname mismatch");
	ck_assert_int_eq(tlsp_plain_once(t.sluice.port, "noverify.test",
	    "/echo"), 200);
	printf("upstream TLS, noverify.test (tls_verify off, wrong CA and "
	    "name): status 200\n");

	/* the pooled good connection must not survive a CA change */
	tlsp_front_config(&t, u.sluice.port, "other");
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	i = tlsp_plain_once(t.sluice.port, "good.test", "/echo");
	printf("reload to tls_ca other.pem: good.test %d (pooled connection "
	    "retired)\n", i);
	ck_assert_int_eq(i, 502);
	tlsp_front_config(&t, u.sluice.port, "ca");
	itest_sluice_hup(&t, "reload: generation 3 in ", WAIT_MS);
	ck_assert_int_eq(tlsp_plain_once(t.sluice.port, "good.test", "/echo"),
	    200);
	ck_assert(itest_wait_lines(u.access_log, 7, WAIT_MS));
	nclients = tlsp_distinct_clients(u.access_log, &nlines);
	printf("reload back to ca.pem: 200; the TLS upstream has seen %d "
	    "requests from %d connections (good, noverify, good after the "
	    "reloads)\n", nlines, nclients);
	fflush(stdout);
	ck_assert_int_eq(nlines, 7);
	ck_assert_int_eq(nclients, 3);
	free(certs);
	itest_finish(&t);
	itest_finish(&u);
}
END_TEST

/*
 * One GET of path through port: its framing to the client, whether it
 * came whole (and right), its termination code; the figure line says so.
 */
static int
tlsp_trunc_get(struct itest *t, int port, const char *what,
    const char *path, size_t len, char *term, size_t termlen)
{
	struct itest_resp	 r;
	unsigned char		*want;
	int			 whole;

	ck_assert((want = malloc(len)) != NULL);
	itest_pattern_fill(want, 0, len);
	itest_get(port, path, &r);
	whole = r.status == 200 && r.complete && r.bodylen == len &&
	    memcmp(r.body, want, len) == 0;
	ck_assert(itest_wait_lines_with(t->access_log, path, what, 1,
	    WAIT_MS) >= 1);
	itest_lines_term(t->access_log, path, what, term, termlen);
	printf("truncation, %s, %s: status %d, framing %c, %zu of %zu bytes, "
	    "%s, peer closed %d, term %s\n", what, path, r.status,
	    r.framing, r.bodylen, len, whole ? "complete" : "NOT complete",
	    r.eof, term);
	fflush(stdout);
	itest_resp_free(&r);
	free(want);
	return whole;
}

/*
 * A close-delimited response from a TLS origin that ends without
 * close_notify is truncated: the client's chunked response gets no last
 * chunk and its connection closes, logged server_body with "truncated (no
 * close_notify)"; with tls_allow_truncation = on it is complete. One that
 * ends with close_notify is complete either way.
 */
START_TEST(test_upstream_truncation)
{
	struct itest	 t;
	char		 term[64];
	int		 cut, allow, whole;

	itest_init(&t);
	itest_origin_start_opts(&t, 0, "a", "-T %s/a", tlsp_certdir);
	cut = itest_sluice_port(&t);
	allow = itest_free_port();
	itest_sluice_start(&t, "[listener cut]\nlisten = 127.0.0.1:%d\n"
	    "upstream = cut\n\n[listener allow]\nlisten = 127.0.0.1:%d\n"
	    "upstream = allow\n\n[upstream cut]\nserver = 127.0.0.1:%d\n"
	    "tls = on\ntls_verify = off\n\n[upstream allow]\n"
	    "server = 127.0.0.1:%d\ntls = on\ntls_verify = off\n"
	    "tls_allow_truncation = on\n", cut, allow, t.origin[0].port,
	    t.origin[0].port);

	whole = tlsp_trunc_get(&t, cut, "cut", "/closedirty/200000", 200000,
	    term, sizeof(term));
	ck_assert_msg(!whole, "a response cut without close_notify came "
	    "whole");
	ck_assert_str_eq(term, "server_body");
	ck_assert_msg(itest_wait_file(t.error_log,
	    "truncated (no close_notify)", WAIT_MS), "no reason in the error "
	    "log:\n%s", itest_file_tail(t.error_log));
	ck_assert(tlsp_trunc_get(&t, cut, "cut", "/close/200000", 200000,
	    term, sizeof(term)));
	ck_assert_str_eq(term, "ok");
	ck_assert(tlsp_trunc_get(&t, allow, "allow", "/closedirty/200001",
	    200001, term, sizeof(term)));
	ck_assert_str_eq(term, "ok");
	ck_assert(tlsp_trunc_get(&t, allow, "allow", "/close/200001", 200001,
	    term, sizeof(term)));
	ck_assert_str_eq(term, "ok");
	ck_assert_int_eq(itest_count_file(t.error_log,
	    "truncated (no close_notify)"), 1);
	itest_finish(&t);
}
END_TEST

/*
 * Mutual TLS: `openssl s_server -Verify 1` requires a client certificate
 * signed by the CA. Without tls_client_certificate sluice answers 502;
 * with it 200 (s_server's close-delimited HTTP/1.0 status page, which
 * shows the client certificate it got).
 */
START_TEST(test_upstream_mtls)
{
	struct itest		 t;
	struct itest_proc	 s;
	struct itest_resp	 r;
	char			 s_out[256], out[512], *d = tlsp_certdir;
	char			*lines, *nocert, *withcert;
	int			 status;

	itest_init(&t);
	memset(&s, 0, sizeof(s));
	snprintf(s_out, sizeof(s_out), "%s/s_server.out", t.dir);
	tlsp_s_server_start(&s, s_out);
	ck_assert(asprintf(&lines, "tls_ca = %s/ca.pem\n"
	    "tls_server_name = a.test\n", d) != -1);
	nocert = tlsp_up_section("nocert", s.port, lines);
	free(lines);
	ck_assert(asprintf(&lines, "tls_ca = %s/ca.pem\n"
	    "tls_server_name = a.test\ntls_client_certificate = "
	    "%s/client.pem %s/client.key\n", d, d, d) != -1);
	withcert = tlsp_up_section("withcert", s.port, lines);
	free(lines);
	itest_sluice_port(&t);
	itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
	    "upstream = nocert\nroute = withcert.test/ withcert\n\n%s%s",
	    t.sluice.port, nocert, withcert);

	status = tlsp_plain_once(t.sluice.port, "nocert.test", "/");
	ck_assert(itest_wait_file(t.error_log, "nocert/u", WAIT_MS));
	printf("mutual TLS, no client certificate: status %d; %s\n", status,
	    tlsp_log_line(t.error_log, "nocert/u", out, sizeof(out)));
	ck_assert_int_eq(status, 502);
	ck_assert_msg(itest_wait_file(s_out, "peer did not return a "
	    "certificate", WAIT_MS), "s_server did not refuse for want of a "
	    "client certificate:\n%s", itest_file_tail(s_out));
	ck_assert_int_eq(itest_request(t.sluice.port, "GET / HTTP/1.1\r\n"
	    "Host: withcert.test\r\nConnection: close\r\n\r\n", &r), 0);
	printf("mutual TLS, client certificate: status %d, %zu-byte body, "
	    "\"Subject: CN=client\" in it: %s\n", r.status, r.bodylen,
	    strstr((char *)r.body, "Subject: CN=client") != NULL ? "yes" :
	    "no");
	fflush(stdout);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr((char *)r.body, "Subject: CN=client") != NULL,
	    "s_server did not see the client certificate:\n%.2000s", r.body);
	itest_resp_free(&r);
	free(nocert);
	free(withcert);
	itest_finish(&t);
	itest_proc_stop(&s, ITEST_STOP_TIMEOUT_MS);
}
END_TEST

/* --- client certificates (tls_verify_client) ---------------------------- */

/* A client context presenting cert NAME.pem (NULL: none). */
static SSL_CTX *
tlsp_client_ctx(const char *name)
{
	SSL_CTX	*ctx = tlsp_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	char	 path[256];

	if (name == NULL)
		return ctx;
	snprintf(path, sizeof(path), "%s/%s.pem", tlsp_certdir, name);
	ck_assert_int_eq(SSL_CTX_use_certificate_file(ctx, path,
	    SSL_FILETYPE_PEM), 1);
	snprintf(path, sizeof(path), "%s/%s.key", tlsp_certdir, name);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, path,
	    SSL_FILETYPE_PEM), 1);
	return ctx;
}

/* The SHA-256 of certificate NAME.pem in lower-case hex. */
static void
tlsp_fingerprint(const char *name, char out[65])
{
	unsigned char	 md[32];
	unsigned int	 n = 0, i;
	char		 path[256];
	FILE		*f;
	X509		*x;

	snprintf(path, sizeof(path), "%s/%s.pem", tlsp_certdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &n), 1);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
}

/* The value of header name in an echoed head, "" when absent. */
static const char *
tlsp_echoed(const char *body, const char *name, char *out, size_t len)
{
	const char	*p = strcasestr(body, name);

	out[0] = '\0';
	if (p != NULL && p[strlen(name)] == ':')
		snprintf(out, len, "%.*s", (int)strcspn(p + strlen(name) + 2,
		    "\r\n"), p + strlen(name) + 2);
	return out;
}

/*
 * Start origin "a" and sluice with a TLS listener web (its lines: extra)
 * and an admin endpoint; returns the admin port.
 */
static int
tlsp_start_admin(struct itest *t, const char *extra)
{
	int	admin;

	itest_init(t);
	itest_origin_start(t, 0, "a");
	itest_sluice_port(t);
	admin = itest_free_port();
	itest_sluice_start(t, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n%s\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n", admin,
	    t->sluice.port, extra, t->origin[0].port);
	return admin;
}

/* The value of the /metrics sample that starts with line; -1: none. */
static long long
tlsp_metric(int admin, const char *line)
{
	struct itest_resp	 r;
	const char		*p;
	long long		 v = -1;

	itest_get(admin, "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	if ((p = strstr((const char *)r.body, line)) != NULL)
		v = strtoll(p + strlen(line), NULL, 10);
	itest_resp_free(&r);
	return v;
}

/* The clients of test_client_certs, by their certificate. */
static const char *const tlsp_clients[] = { "client", NULL, "oclient",
    "expired" };

/*
 * tls_verify_client off, optional and on (loop 0, 1, 2), against a valid
 * client certificate, none, one from another CA and an expired one: who
 * completes the handshake, what the server gets in $tls_client_subject
 * and $tls_client_fingerprint (a client's own X-Client-* never passes),
 * the refusals counted and logged with OpenSSL's reason.
 */
START_TEST(test_client_certs)
{
	static const char *const modes[] = { "off", "optional", "on" };
	/* [mode][client]: 1 when the handshake completes */
	static const int	 passes[3][4] = {
		{ 1, 1, 1, 1 }, { 1, 1, 0, 0 }, { 1, 0, 0, 0 },
	};
	struct itest		 t;
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_CTX			*ctx;
	char			 extra[512], fp[65], v[256], req[256];
	int			 i, mode = _i, refused = 0, rc, admin;
	long long		 counted;

	ck_assert_ptr_nonnull(c);
	snprintf(extra, sizeof(extra), "tls_certificate = %s/a.pem %s/a.key\n"
	    "tls_client_ca = %s/ca.pem\ntls_verify_client = %s\n"
	    "request_header = set X-Client-Subject $tls_client_subject\n"
	    "request_header = set X-Client-Fingerprint "
	    "$tls_client_fingerprint\n", tlsp_certdir, tlsp_certdir,
	    tlsp_certdir, modes[mode]);
	admin = tlsp_start_admin(&t, extra);
	tlsp_fingerprint("client", fp);
	for (i = 0; i < 4; i++) {
		ctx = tlsp_client_ctx(tlsp_clients[i]);
		rc = tlsp_open(c, ctx, t.sluice.port, "a.test");
		/* TLS 1.3: a refused certificate shows at the first read */
		if (rc == 0) {
			snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\n"
			    "Host: a.test\r\nX-Client-Subject: CN=forged\r\n"
			    "\r\n");
			rc = SSL_write(c->ssl, req, (int)strlen(req)) ==
			    (int)strlen(req) ? tlsp_read_response(c, &r) : -1;
		}
		ck_assert_msg((rc == 0) == passes[mode][i], "%s, client %s: "
		    "%s (%s)", modes[mode], tlsp_clients[i] != NULL ?
		    tlsp_clients[i] : "without certificate", rc == 0 ?
		    "served" : "refused", c->err);
		if (rc == 0) {
			ck_assert_int_eq(r.status, 200);
			tlsp_echoed(r.body, "X-Client-Subject", v, sizeof(v));
			ck_assert_msg(strcmp(v, mode > 0 && i == 0 ?
			    "CN=client" : "") == 0, "%s, client %d: "
			    "X-Client-Subject \"%s\"", modes[mode], i, v);
			tlsp_echoed(r.body, "X-Client-Fingerprint", v,
			    sizeof(v));
			ck_assert_msg(strcmp(v, mode > 0 && i == 0 ? fp : "") ==
			    0, "%s, client %d: X-Client-Fingerprint \"%s\"",
			    modes[mode], i, v);
		} else
			refused++;
		tlsp_close(c);
		SSL_CTX_free(ctx);
	}
	counted = tlsp_metric(admin, "sluice_tls_client_verify_failures_total"
	    "{listener=\"web\"} ");
	printf("tls_verify_client %s: %d of 4 clients refused, %lld "
	    "counted\n", modes[mode], refused, counted);
	fflush(stdout);
	/* a series appears with its first event */
	ck_assert_int_eq(counted, refused > 0 ? refused : -1);
	/* the first refusal of the second is logged, with its reason */
	if (refused > 0)
		ck_assert(itest_wait_file(t.error_log, mode == 2 ?
		    "client certificate of 127.0.0.1 refused: no client "
		    "certificate" : "client certificate of 127.0.0.1 refused: "
		    "unable to get local issuer certificate", WAIT_MS));
	free(c);
	itest_finish(&t);
}
END_TEST

/*
 * A reload that changes tls_client_ca: a connection made before keeps
 * its verified client; new ones are verified against the new CA. The
 * subject is RFC 2253: last RDN first, a comma in a value escaped.
 */
START_TEST(test_client_ca_reload)
{
	struct itest		 t;
	struct tlsp_conn	*old = calloc(1, sizeof(*old));
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_CTX			*mine, *theirs;
	char			 extra[512], v[256];
	const char		*fmt = "tls_certificate = %s/a.pem %s/a.key\n"
				    "tls_client_ca = %s/%s.pem\n"
				    "tls_verify_client = on\n"
				    "request_header = set X-Client-Subject "
				    "$tls_client_subject\n";

	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_nonnull(c);
	snprintf(extra, sizeof(extra), fmt, tlsp_certdir, tlsp_certdir,
	    tlsp_certdir, "ca");
	(void)tlsp_start_admin(&t, extra);
	mine = tlsp_client_ctx("client");
	theirs = tlsp_client_ctx("oclient");
	ck_assert_msg(tlsp_open(old, mine, t.sluice.port, "a.test") == 0,
	    "%s", old->err);
	tlsp_get_ok(old, "a.test", "/echo", &r);
	snprintf(extra, sizeof(extra), fmt, tlsp_certdir, tlsp_certdir,
	    tlsp_certdir, "other");
	itest_sluice_config(&t, NULL, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n%s\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n",
	    itest_free_port(), t.sluice.port, extra, t.origin[0].port);
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	/* the old connection keeps its client */
	tlsp_get_ok(old, "a.test", "/echo", &r);
	ck_assert_str_eq(tlsp_echoed(r.body, "X-Client-Subject", v,
	    sizeof(v)), "CN=client");
	tlsp_close(old);
	/* new ones: the new CA */
	ck_assert_int_ne(tlsp_open(c, mine, t.sluice.port, "a.test") == 0 &&
	    tlsp_get(c, "a.test", "/echo", &r) == 0, 1);
	tlsp_close(c);
	ck_assert_msg(tlsp_open(c, theirs, t.sluice.port, "a.test") == 0,
	    "%s", c->err);
	tlsp_get_ok(c, "a.test", "/echo", &r);
	ck_assert_str_eq(tlsp_echoed(r.body, "X-Client-Subject", v,
	    sizeof(v)), "O=Elsewhere\\, Inc.,CN=other client");
	tlsp_close(c);
	SSL_CTX_free(mine);
	SSL_CTX_free(theirs);
	free(old);
	free(c);
	itest_finish(&t);
}
END_TEST

/* --- PROXY protocol before TLS ----------------------------------------- */

/*
 * Like tlsp_open, with pre[0..len) sent on the socket before the
 * handshake (a PROXY header).
 */
static int
tlsp_open_after(struct tlsp_conn *c, SSL_CTX *ctx, int port,
    const void *pre, size_t len)
{
	int	 rc;

	c->len = 0;
	c->err[0] = '\0';
	c->ssl = NULL;
	if ((c->fd = tlsp_tcp(port)) == -1 ||
	    (len > 0 && write(c->fd, pre, len) != (ssize_t)len)) {
		snprintf(c->err, sizeof(c->err), "connect: %s",
		    strerror(errno));
		return -1;
	}
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, "a.test") != 1) {
		snprintf(c->err, sizeof(c->err), "SSL setup failed");
		return -1;
	}
	if ((rc = SSL_connect(c->ssl)) != 1) {
		tlsp_note(c, "handshake", rc);
		return -1;
	}
	return 0;
}

/*
 * proxy_protocol on a TLS listener: the header comes before the
 * ClientHello (v1 and v2), its client is what the server and the access
 * log see; no header, no handshake; client certificates still verified
 * and their refusals still counted behind the header.
 */
START_TEST(test_proxy_protocol_tls)
{
	static const char	 v1[] = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 "
				    "443\r\n";
	static const unsigned char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\0\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x11\x5c\x01\xbb";
	struct itest		 t;
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_CTX			*ctx, *cert;
	char			 extra[512], v[128];
	int			 admin;

	ck_assert_ptr_nonnull(c);
	snprintf(extra, sizeof(extra), "tls_certificate = %s/a.pem %s/a.key\n"
	    "proxy_protocol = on\ntrusted_proxies = 127.0.0.1\n"
	    "tls_client_ca = %s/ca.pem\ntls_verify_client = optional\n",
	    tlsp_certdir, tlsp_certdir, tlsp_certdir);
	admin = tlsp_start_admin(&t, extra);
	ctx = tlsp_client_ctx(NULL);
	cert = tlsp_client_ctx("oclient");
	ck_assert_msg(tlsp_open_after(c, ctx, t.sluice.port, v1,
	    sizeof(v1) - 1) == 0, "v1: %s", c->err);
	tlsp_get_ok(c, "a.test", "/echo", &r);
	ck_assert_str_eq(tlsp_echoed(r.body, "X-Forwarded-For", v,
	    sizeof(v)), "203.0.113.7");
	tlsp_close(c);
	ck_assert_msg(tlsp_open_after(c, ctx, t.sluice.port, v2,
	    sizeof(v2) - 1) == 0, "v2: %s", c->err);
	tlsp_get_ok(c, "a.test", "/echo", &r);
	ck_assert_str_eq(tlsp_echoed(r.body, "X-Forwarded-For", v,
	    sizeof(v)), "2001:db8::7");
	tlsp_close(c);
	ck_assert(itest_wait_file(t.access_log, "2001:db8::7:4444 web", WAIT_MS));
	ck_assert_int_eq(itest_count_file(t.access_log, "203.0.113.7:5555 web"),
	    1);
	/* no header: the ClientHello is no PROXY header */
	ck_assert_int_eq(tlsp_open_after(c, ctx, t.sluice.port, "", 0), -1);
	tlsp_close(c);
	ck_assert(itest_wait_file(t.error_log, "refused: PROXY header: ",
	    WAIT_MS));
	/* a certificate from another CA behind a header: refused, counted */
	ck_assert_int_ne(tlsp_open_after(c, cert, t.sluice.port, v1,
	    sizeof(v1) - 1) == 0 && tlsp_get(c, "a.test", "/echo", &r) == 0,
	    1);
	tlsp_close(c);
	ck_assert_int_eq(tlsp_metric(admin,
	    "sluice_tls_client_verify_failures_total{listener=\"web\"} "), 1);
	SSL_CTX_free(ctx);
	SSL_CTX_free(cert);
	free(c);
	itest_finish(&t);
}
END_TEST

/* The session-ticket rotations sluice has counted (/status). */
static long long
tlsp_rotations(int admin)
{
	long long	 n = itest_admin_status_int(admin, NULL,
			    "tls_ticket_rotations");

	ck_assert_msg(n != LLONG_MIN, "no tls_ticket_rotations in /status");
	return n;
}

/* Wait until the rotation count reaches n; the count then. */
static long long
tlsp_rotations_wait(int admin, long long n)
{
	double		 end = itest_now() + TLSP_TICKET_WAIT_MS;
	long long	 got;

	while ((got = tlsp_rotations(admin)) < n) {
		ck_assert_msg(itest_now() < end, "the ticket keys rotated %lld "
		    "times, not %lld, within %d ms", got, n,
		    TLSP_TICKET_WAIT_MS);
		poll(NULL, 0, 20);
	}
	return got;
}

/*
 * A TLS 1.3 connection to port offering the session in der (NULL: none),
 * one GET on it (so that the tickets arrive), closed with close_notify.
 * Returns whether the session was resumed; the newest session, DER, in
 * *out when out is not NULL (the caller frees).
 */
static int
tlsp_ticket(SSL_CTX *ctx, int port, const unsigned char *der, long derlen,
    unsigned char **out, long *outlen)
{
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	struct tlsp_resp	 r;
	SSL_SESSION		*sess;
	const unsigned char	*p = der;
	unsigned char		*q;
	int			 reused;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(c->fd = tlsp_tcp(port), -1);
	ck_assert_ptr_nonnull(c->ssl = SSL_new(ctx));
	ck_assert_int_eq(SSL_set_fd(c->ssl, c->fd), 1);
	ck_assert_int_eq(SSL_set_tlsext_host_name(c->ssl, "a.test"), 1);
	if (der != NULL) {
		ck_assert_ptr_nonnull(sess = d2i_SSL_SESSION(NULL, &p,
		    derlen));
		ck_assert_int_eq(SSL_set_session(c->ssl, sess), 1);
		SSL_SESSION_free(sess);
	}
	ck_assert_int_eq(SSL_connect(c->ssl), 1);
	tlsp_get_ok(c, "a.test", "/bytes/10", &r);
	reused = SSL_session_reused(c->ssl);
	if (out != NULL) {
		ck_assert_ptr_nonnull(sess = SSL_get1_session(c->ssl));
		ck_assert_int_gt(*outlen = i2d_SSL_SESSION(sess, NULL), 0);
		ck_assert_ptr_nonnull(*out = q = malloc((size_t)*outlen));
		ck_assert_int_eq(i2d_SSL_SESSION(sess, &q), *outlen);
		SSL_SESSION_free(sess);
	}
	(void)SSL_shutdown(c->ssl);
	tlsp_close(c);
	free(c);
	return reused;
}

/*
 * Session-ticket keys rotate every tls_ticket_rotation (1s here, waited
 * for on /status's count, never slept on): a ticket sealed before one
 * rotation still resumes, one from before two does not; a ticket survives
 * a reload (the keys are the listener's, not the generation's). With
 * SLUICE_TEST_WORKERS=2 the connections land on either worker.
 */
START_TEST(test_ticket_rotation)
{
	struct itest	 t;
	SSL_CTX		*ctx = tlsp_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
	unsigned char	*der = NULL;
	long		 derlen = 0;
	long long	 r0, r1;
	int		 admin, attempt, once = -1, twice = -1, reload = -1;
	char		*certs, *rest;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	admin = itest_free_port();
	ck_assert(asprintf(&certs, "tls_certificate = %s/a.pem %s/a.key\n",
	    tlsp_certdir, tlsp_certdir) != -1);
	ck_assert(asprintf(&rest, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n%s\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n", admin,
	    t.sluice.port, certs, t.origin[0].port) != -1);
	itest_sluice_config(&t, "shutdown_timeout = 5s\n"
	    "tls_ticket_rotation = 1s\n", "%s", rest);
	itest_sluice_launch(&t);

	/* one rotation, then two: a round that saw another one is redone */
	for (attempt = 0; attempt < TLSP_TICKET_TRIES && twice == -1;
	    attempt++) {
		free(der);
		der = NULL;
		r0 = tlsp_rotations(admin);
		(void)tlsp_ticket(ctx, t.sluice.port, NULL, 0, &der, &derlen);
		if (tlsp_rotations(admin) != r0)
			continue;
		tlsp_rotations_wait(admin, r0 + 1);
		once = tlsp_ticket(ctx, t.sluice.port, der, derlen, NULL,
		    NULL);
		if (tlsp_rotations(admin) != r0 + 1)
			continue;
		tlsp_rotations_wait(admin, r0 + 2);
		twice = tlsp_ticket(ctx, t.sluice.port, der, derlen, NULL,
		    NULL);
	}
	printf("ticket keys, tls_ticket_rotation 1s: after one rotation "
	    "resumed %d, after two resumed %d (round %d)\n", once, twice,
	    attempt);
	fflush(stdout);
	ck_assert_msg(twice != -1, "no round without an extra rotation in "
	    "%d tries", TLSP_TICKET_TRIES);
	ck_assert_int_eq(once, 1);
	ck_assert_int_eq(twice, 0);

	/* a reload keeps the keys: within one rotation the ticket resumes */
	for (attempt = 0; attempt < TLSP_TICKET_TRIES && reload == -1;
	    attempt++) {
		free(der);
		der = NULL;
		r0 = tlsp_rotations(admin);
		(void)tlsp_ticket(ctx, t.sluice.port, NULL, 0, &der, &derlen);
		if (tlsp_rotations(admin) != r0)
			continue;
		itest_sluice_hup(&t, "reload: generation ", WAIT_MS);
		r1 = itest_count_file(t.error_log, "reload: generation ");
		reload = tlsp_ticket(ctx, t.sluice.port, der, derlen, NULL,
		    NULL);
		if (tlsp_rotations(admin) > r0 + 1) {
			reload = -1;	/* two rotations: proves nothing */
			continue;
		}
		printf("ticket keys: a ticket from before reload %lld resumed "
		    "%d after it\n", r1, reload);
	}
	fflush(stdout);
	ck_assert_int_eq(reload, 1);
	free(der);
	free(certs);
	free(rest);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* --- the suite --------------------------------------------------------- */

/* --- the admin endpoint over TLS --------------------------------------- */

/* A request (raw text) on a new TLS connection to port; its status, -1
 * when none arrived (the reason in c->err). serial, when not NULL, gets
 * the serial of the certificate seen. */
static int
tlsp_admin_req(SSL_CTX *ctx, int port, const char *req, char *serial,
    size_t len, struct tlsp_resp *r)
{
	struct tlsp_conn	*c = calloc(1, sizeof(*c));
	char			 cn[128];
	int			 rc, n = (int)strlen(req);

	ck_assert_ptr_nonnull(c);
	r->status = -1;
	ck_assert_msg(tlsp_open(c, ctx, port, NULL) == 0, "TLS handshake "
	    "with the admin endpoint: %s", c->err);
	if (serial != NULL)
		tlsp_peer(c, cn, sizeof(cn), serial, len);
	if ((rc = SSL_write(c->ssl, req, n)) != n)
		tlsp_note(c, "write", rc);
	else
		tlsp_read_response(c, r);
	tlsp_close(c);
	free(c);
	return r->status;
}

/*
 * [admin] tls_certificate: the admin answers over TLS and not in plain
 * text; a POST's Origin must be https://; a SIGHUP after replacing the
 * files serves the new certificate.
 */
START_TEST(test_admin_tls)
{
	struct itest		 t;
	struct itest_conn	 pc;
	struct tlsp_resp	 r;
	SSL_CTX			*ctx = tlsp_ctx(TLS1_2_VERSION,
				    TLS1_3_VERSION);
	char			 old[128], new[128], seen[128], req[512];
	char			 buf[4096];
	int			 admin, code;
	ssize_t			 n;

	itest_init(&t);
	tlsp_rotate_files(&t, "a", 1);		/* live.pem, live.key */
	tlsp_file_serial(tlsp_certdir, "a.pem", old, sizeof(old));
	tlsp_file_serial(tlsp_certdir, "a2.pem", new, sizeof(new));
	itest_origin_start(&t, 0, "a");
	itest_sluice_port(&t);
	admin = itest_free_port();
	itest_sluice_start(&t, "[admin]\nlisten = 127.0.0.1:%d\n"
	    "tls_certificate = %s/live.pem %s/live.key\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n", admin, t.dir,
	    t.dir, t.sluice.port, t.origin[0].port);
	code = tlsp_admin_req(ctx, admin, "GET /status HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n", seen, sizeof(seen), &r);
	ck_assert_msg(code == 200 && strstr(r.body, "\"generation\":1") !=
	    NULL, "GET /status over TLS: %d %s", code, r.body);
	ck_assert_str_eq(seen, old);
	snprintf(req, sizeof(req), "POST /upstreams/app/servers/a/drain "
	    "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d"
	    "\r\nContent-Length: 0\r\n\r\n", admin, admin);
	code = tlsp_admin_req(ctx, admin, req, NULL, 0, &r);
	ck_assert_msg(code == 403, "POST with an http:// Origin over TLS: "
	    "%d", code);
	snprintf(req, sizeof(req), "POST /upstreams/app/servers/a/drain "
	    "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: https://127.0.0.1:%d"
	    "\r\nContent-Length: 0\r\n\r\n", admin, admin);
	code = tlsp_admin_req(ctx, admin, req, NULL, 0, &r);
	ck_assert_msg(code == 200 && strstr(r.body, "\"admin\":\"drain\"") !=
	    NULL, "POST with the https:// Origin over TLS: %d %s", code,
	    r.body);
	printf("admin over TLS: GET /status 200 (serial %s); POST drain with "
	    "Origin http:// 403, https:// 200\n", seen);
	itest_connect(&pc, admin, IO_MS);
	itest_send_str(&pc, "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	n = tlsp_read_to_eof(pc.fd, buf, sizeof(buf), 5000);
	itest_close(&pc);
	printf("admin over TLS: plain HTTP closed with %zd bytes back\n", n);
	fflush(stdout);
	ck_assert_msg(n >= 0, "plain HTTP: not closed within 5 s");
	ck_assert_msg(memmem(buf, (size_t)n, "HTTP/1.", 7) == NULL,
	    "the admin answered plain HTTP: %.*s", (int)n, buf);
	tlsp_rotate_files(&t, "a2", 1);
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	code = tlsp_admin_req(ctx, admin, "GET /healthz HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n", seen, sizeof(seen), &r);
	printf("admin over TLS: after SIGHUP: %d, serial %s (want %s)\n",
	    code, seen, new);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(seen, new);
	/* a key that does not match fails the reload; a2 still serves */
	itest_sluice_config(&t, NULL, "[admin]\nlisten = 127.0.0.1:%d\n"
	    "tls_certificate = %s/live.pem %s/mismatch.key\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n", admin, t.dir,
	    tlsp_certdir, t.sluice.port, t.origin[0].port);
	itest_sluice_hup(&t, "reload failed", WAIT_MS);
	ck_assert_msg(tlsp_log_line(t.error_log, "tls_certificate",
	    req, sizeof(req))[0] != '\0', "no tls_certificate error logged");
	code = tlsp_admin_req(ctx, admin, "GET /healthz HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n", seen, sizeof(seen), &r);
	printf("admin over TLS: reload with a mismatched key failed (%s); "
	    "then %d, serial %s\n", req, code, seen);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(seen, new);
	SSL_CTX_free(ctx);
	itest_finish(&t);
}
END_TEST

/* A test case with a generous timeout, the certificates made before it
 * and removed after. */
static TCase *
tlsp_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tlsp_certs_make, tlsp_certs_remove);
	return tc;
}

/* The suite: termination, reload, upstreams. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("tls_proxy");
	TCase	*tc;

	tc = tlsp_tcase("termination");
	tcase_add_test(tc, test_sni);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_plaintext);
	tcase_add_test(tc, test_handshake_timeout);
	tcase_add_test(tc, test_tls_refusals);
	tcase_add_test(tc, test_tls_setup_fails);
	suite_add_tcase(s, tc);

	tc = tlsp_tcase("reload");
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_bad_reload);
	tcase_add_test(tc, test_admin_tls);
	tcase_add_test(tc, test_ticket_rotation);
	suite_add_tcase(s, tc);

	tc = tlsp_tcase("clients");
	tcase_add_loop_test(tc, test_client_certs, 0, 3);
	tcase_add_test(tc, test_client_ca_reload);
	tcase_add_test(tc, test_proxy_protocol_tls);
	suite_add_tcase(s, tc);

	tc = tlsp_tcase("upstream");
	tcase_add_test(tc, test_upstream_tls);
	tcase_add_test(tc, test_upstream_mtls);
	tcase_add_test(tc, test_upstream_truncation);
	suite_add_tcase(s, tc);
	return s;
}
