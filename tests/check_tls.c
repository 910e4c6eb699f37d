/*
 * check_tls.c: unit tests for tls/.
 *
 * The certificates are made at run time with the openssl command in a
 * temporary directory, removed at the end (no key is ever committed).
 * Handshakes run in memory: a client SSL and a server SSL joined by a BIO
 * pair, no sockets. Configurations go through conf_load_string, so the
 * line numbers in messages are real.
 */
#include <sys/types.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "tests/check_main.h"
#include "tests/itest.h"
#include "tls/tls.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define DAY		(24 * 60 * 60)

/* Lines 1-5; a test's listener keys start on line 6. */
#define LPRE	"[upstream app]\nserver = 127.0.0.1:9443\n" \
		"[listener web]\nlisten = 127.0.0.1:8443\nupstream = app\n"
/* Lines 1-5; a test's upstream keys start on line 6. */
#define UPRE	"[listener web]\nlisten = 127.0.0.1:8443\nupstream = app\n" \
		"[upstream app]\nserver = 127.0.0.1:9443\n"

/* The usual set: a.test + www.a.test (default), *.b.test with its
 * intermediate (chain), cn.test (CN only). */
#define SET_ABC	"tls_certificate = @/a.pem @/a.key\n" \
		"tls_certificate = @/b.pem @/b.key\n" \
		"tls_certificate = @/cn.pem @/cn.key\n"

static char	certdir[64];	/* made before each test case */

/*
 * Test certificates
 */

/* Everything the tests need, made with tests/certs.sh (sh -e). */
static const char gen_script[] =
	"ca ca '/CN=sluice test CA'\n"
	"ca other '/CN=sluice other CA'\n"
	"ca inter '/CN=sluice test intermediate' ca\n"
	"leaf a /CN=a.test DNS:a.test,DNS:www.a.test 30 ca\n"
	"leaf b '/CN=*.b.test' 'DNS:*.b.test' 30 inter\n"
	"cat inter.pem >> b.pem\n"
	"leaf cn /CN=cn.test '' 30 ca\n"
	"leaf noname /O=sluice '' 30 ca\n"
	"leaf soon /CN=soon.test DNS:soon.test 3 ca\n"
	"leaf ip /CN=ip IP:127.0.0.1 30 ca\n"
	"leaf client /CN=client '' 30 ca clientAuth\n"
	"ec mismatch.key\n"
	"openssl pkey -in a.key -aes128 -passout pass:secret -out enc.key\n"
	"dated expired 20200101000000Z 20200102000000Z\n"
	"dated future 20990101000000Z 20991231000000Z\n"
	"mkdir cadir && cp ca.pem cadir/ && openssl rehash cadir\n";

/* Make the certificates in a new certdir (an unchecked fixture: before
 * each test case, in the runner's process). */
static void
certs_make(void)
{
	itest_certs_make("check_tls", gen_script, certdir, sizeof(certdir));
}

/* Remove certdir and the keys in it (kept with ITEST_KEEP). */
static void
certs_remove(void)
{
	itest_certs_remove("check_tls", certdir);
}

/*
 * Helpers
 */

/* text with every '@' replaced by certdir; malloc'd. */
static char *
expand(const char *text)
{
	size_t		 n = 0, dl = strlen(certdir);
	const char	*p;
	char		*out, *q;

	for (p = text; *p != '\0'; p++)
		n += *p == '@' ? dl : 1;
	ck_assert_ptr_nonnull(out = malloc(n + 1));
	for (p = text, q = out; *p != '\0'; p++) {
		if (*p == '@') {
			memcpy(q, certdir, dl);
			q += dl;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return out;
}

/* Load pre + lines ('@' expanded) as "t.ini"; it must be valid. */
static struct conf *
conf_with(const char *pre, const char *lines)
{
	struct conf	*c;
	char		*full, *text, *errors;

	ck_assert_int_ne(asprintf(&full, "%s%s", pre, lines), -1);
	text = expand(full);
	c = conf_load_string("t.ini", text, &errors);
	ck_assert_msg(c != NULL, "conf: %s", errors);
	free(text);
	free(full);
	return c;
}

/* tls_server_new on a listener with these lines. */
static struct tls_server *
server_with(const char *lines, time_t now, char *err, size_t errlen,
    char *warn, size_t warnlen)
{
	struct conf		*c = conf_with(LPRE, lines);
	struct tls_server	*set;

	set = tls_server_new(c, &c->listeners[0], now, err, errlen,
	    warn, warnlen);
	conf_free(c);
	return set;
}

/* A certificate set that must load without warnings. */
static struct tls_server *
server_ok(const char *lines)
{
	struct tls_server	*set;
	char			 err[1024], warn[1024];

	set = server_with(lines, time(NULL), err, sizeof(err), warn,
	    sizeof(warn));
	ck_assert_msg(set != NULL, "tls_server_new: %s", err);
	ck_assert_msg(warn[0] == '\0', "warnings: %s", warn);
	return set;
}

/* tls_client_new on an upstream with these lines. */
static struct tls_client *
client_with(const char *lines, char *err, size_t errlen)
{
	struct conf		*c = conf_with(UPRE, lines);
	struct tls_client	*cl;

	cl = tls_client_new(c, &c->upstreams[0], time(NULL), err,
	    errlen);
	conf_free(c);
	return cl;
}

/* A client context that must load. */
static struct tls_client *
client_ok(const char *lines)
{
	struct tls_client	*cl;
	char			 err[1024];

	cl = client_with(lines, err, sizeof(err));
	ck_assert_msg(cl != NULL, "tls_client_new: %s", err);
	return cl;
}

/* A plain client SSL (no verification) offering versions min..max. */
static SSL *
raw_client(const char *sni, int min, int max, const char *ciphers)
{
	SSL_CTX	*ctx;
	SSL	*ssl;

	ck_assert_ptr_nonnull(ctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_security_level(ctx, 0);	/* let it offer TLS 1.0 */
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(ctx, min), 1);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx, max), 1);
	if (ciphers != NULL)
		ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx, ciphers), 1);
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	SSL_CTX_free(ctx);			/* the SSL holds it */
	if (sni != NULL)
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, sni), 1);
	SSL_set_connect_state(ssl);
	return ssl;
}

/* One handshake step; 1 done, 0 wants more, -1 failed. */
static int
step(SSL *ssl)
{
	int	 rc = SSL_do_handshake(ssl);

	if (rc == 1)
		return 1;
	rc = SSL_get_error(ssl, rc);
	return rc == SSL_ERROR_WANT_READ || rc == SSL_ERROR_WANT_WRITE ?
	    0 : -1;
}

/* Join cli and srv with a BIO pair and run the handshake: 0 when both
 * finish, -1 when either fails. The SSLs own the BIOs. */
static int
handshake(SSL *cli, SSL *srv)
{
	BIO	*bc, *bs;
	int	 i, c = 0, s = 0;

	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	for (i = 0; i < 100 && (c != 1 || s != 1); i++) {
		if (c != 1 && (c = step(cli)) == -1)
			break;
		if (s != 1 && (s = step(srv)) == -1)
			break;
	}
	ERR_clear_error();
	return c == 1 && s == 1 ? 0 : -1;
}

/* Send one byte from one side to the other (the client reads the
 * session tickets on the way). */
static void
transfer(SSL *from, SSL *to)
{
	char	 c = 0;

	ck_assert_int_eq(SSL_write(from, "x", 1), 1);
	ck_assert_int_eq(SSL_read(to, &c, 1), 1);
	ck_assert_int_eq(c, 'x');
}

/* The (first) subject CN of x. */
static const char *
cn_of(X509 *x, char *buf, size_t len)
{
	const X509_NAME		*name;
	const ASN1_STRING	*s;
	int			 i;

	buf[0] = '\0';
	ck_assert_ptr_nonnull(x);
	name = X509_get_subject_name(x);
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return buf;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	snprintf(buf, len, "%.*s", ASN1_STRING_length(s),
	    (const char *)ASN1_STRING_get0_data(s));
	return buf;
}

/* Whether got starts with want ('@' expanded). */
static void
assert_prefix(const char *got, const char *want)
{
	char	*w = expand(want);

	ck_assert_msg(strncmp(got, w, strlen(w)) == 0,
	    "want \"%s...\", got \"%s\"", w, got);
	free(w);
}

/*
 * Building a certificate set: errors and warnings
 */

static const struct {
	const char	*lines;
	long		 shift;		/* seconds added to now */
	const char	*want;
} server_errors[] = {
	{ "tls_certificate = @/nope.pem @/a.key\n", 0,
	    "t.ini:6: tls_certificate: @/nope.pem: cannot read: No such file "
	    "or directory" },
	{ "tls_certificate = @/a.pem @/nope.key\n", 0,
	    "t.ini:6: tls_certificate: @/nope.key: cannot read: No such "
	    "file" },
	{ "tls_certificate = @ @/a.key\n", 0,
	    "t.ini:6: tls_certificate: @: is a directory" },
	{ "tls_certificate = @/a.key @/a.key\n", 0,
	    "t.ini:6: tls_certificate: @/a.key: no usable PEM certificate: "
	    "error:" },
	{ "tls_certificate = @/a.pem @/a.pem\n", 0,
	    "t.ini:6: tls_certificate: @/a.pem: no usable PEM private key" },
	{ "tls_certificate = @/a.pem @/enc.key\n", 0,
	    "t.ini:6: tls_certificate: @/enc.key: no usable PEM private key "
	    "(encrypted keys are not supported)" },
	{ "tls_certificate = @/a.pem @/mismatch.key\n", 0,
	    "t.ini:6: tls_certificate: @/mismatch.key: key does not match "
	    "the certificate in @/a.pem" },
	{ "tls_certificate = @/expired.pem @/expired.key\n", 0,
	    "t.ini:6: tls_certificate: @/expired.pem: expired on 2020-01-02 "
	    "00:00:00 UTC" },
	{ "tls_certificate = @/future.pem @/future.key\n", 0,
	    "t.ini:6: tls_certificate: @/future.pem: not valid before "
	    "2099-01-01 00:00:00 UTC" },
	{ "tls_certificate = @/a.pem @/a.key\n", 31 * DAY,
	    "t.ini:6: tls_certificate: @/a.pem: expired on " },
	{ "tls_certificate = @/a.pem @/a.key\n", -2 * DAY,
	    "t.ini:6: tls_certificate: @/a.pem: not valid before " },
	{ "tls_certificate = @/b.pem @/b.key\n", 31 * DAY,
	    "t.ini:6: tls_certificate: @/b.pem: expired on " },
	{ "tls_certificate = @/a.pem @/a.key\n"
	    "tls_certificate = @/b.pem @/mismatch.key\n", 0,
	    "t.ini:7: tls_certificate: @/mismatch.key: key does not match" },
	{ "tls_certificate = @/a.pem @/a.key\n"
	    "tls_certificate = @/noname.pem @/noname.key\n", 0,
	    "t.ini:7: tls_certificate: @/noname.pem: no usable DNS name" },
	{ "tls_certificate = @/noname.pem @/noname.key\n"
	    "tls_certificate = @/a.pem @/a.key\n", 0,
	    "t.ini:6: tls_certificate: @/noname.pem: no usable DNS name" },
	{ "tls_certificate = @/ip.pem @/ip.key\n"
	    "tls_certificate = @/noname.pem @/noname.key\n", 0,
	    "t.ini:7: tls_certificate: @/noname.pem: no usable DNS name" },
	{ "tls_ciphers = NOPE-CIPHER\n"
	    "tls_certificate = @/a.pem @/a.key\n", 0,
	    "t.ini:6: tls_ciphers: \"NOPE-CIPHER\": no usable cipher: "
	    "error:" },
	{ "", 0, "t.ini:3: [listener web]: no tls_certificate" },
};

/* server_errors[_i] fails with its "file:line: key: reason". */
START_TEST(test_server_error)
{
	struct tls_server	*set;
	char			 err[1024], warn[1024];

	set = server_with(server_errors[_i].lines,
	    time(NULL) + server_errors[_i].shift, err, sizeof(err), warn,
	    sizeof(warn));
	ck_assert_ptr_null(set);
	assert_prefix(err, server_errors[_i].want);
	ck_assert_msg(strchr(err, '\n') == NULL, "one line: %s", err);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* A certificate expiring within 7 days loads, with a warning. */
START_TEST(test_server_warn)
{
	struct tls_server	*set;
	char			 err[1024], warn[1024];

	set = server_with("tls_certificate = @/a.pem @/a.key\n"
	    "tls_certificate = @/soon.pem @/soon.key\n", time(NULL), err,
	    sizeof(err), warn, sizeof(warn));
	ck_assert_msg(set != NULL, "%s", err);
	assert_prefix(warn, "t.ini:7: tls_certificate: @/soon.pem: expires "
	    "in 3 days (");
	ck_assert_ptr_null(strchr(warn, '\n'));
	tls_server_unref(set);

	/* now is an argument: 25 days on, a.pem has 5 left */
	set = server_with("tls_certificate = @/a.pem @/a.key\n",
	    time(NULL) + 25 * DAY, err, sizeof(err), warn, sizeof(warn));
	ck_assert_msg(set != NULL, "%s", err);
	assert_prefix(warn, "t.ini:6: tls_certificate: @/a.pem: expires in "
	    "5 days (");
	tls_server_unref(set);

	/* warn may be NULL */
	set = server_with("tls_certificate = @/soon.pem @/soon.key\n",
	    time(NULL), err, sizeof(err), NULL, 0);
	ck_assert_ptr_nonnull(set);
	tls_server_unref(set);
}
END_TEST

/* The same names twice: a warning per name, and one for the certificate
 * that is never selected. */
START_TEST(test_server_duplicate)
{
	struct tls_server	*set;
	char			 err[1024], warn[1024];

	set = server_with("tls_certificate = @/a.pem @/a.key\n"
	    "tls_certificate = @/a.pem @/a.key\n", time(NULL), err,
	    sizeof(err), warn, sizeof(warn));
	ck_assert_msg(set != NULL, "%s", err);
	assert_prefix(warn, "t.ini:7: tls_certificate: a.test is already "
	    "served by the certificate of line 6\n"
	    "t.ini:7: tls_certificate: www.a.test is already served by the "
	    "certificate of line 6\n"
	    "t.ini:7: tls_certificate: @/a.pem: never selected");
	tls_server_unref(set);
}
END_TEST

/* A sole certificate needs no name; CN-only and IP-only ones load. */
START_TEST(test_server_sole)
{
	tls_server_unref(server_ok("tls_certificate = @/noname.pem "
	    "@/noname.key\n"));
	tls_server_unref(server_ok("tls_certificate = @/ip.pem @/ip.key\n"));
	tls_server_unref(server_ok(SET_ABC));
	/* the key may sit in the same file as the certificate */
	tls_server_unref(server_ok("tls_certificate = @/a.pem @/a.key\n"));
}
END_TEST

/* tls_check_listener and tls_check_upstream: build, free, report. */
START_TEST(test_check)
{
	struct conf	*c;
	char		 err[1024], warn[1024];

	c = conf_with(LPRE, SET_ABC);
	ck_assert_int_eq(tls_check_listener(c, &c->listeners[0],
	    time(NULL), err, sizeof(err), warn, sizeof(warn)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(warn, "");
	ck_assert_int_eq(tls_check_listener(c, &c->listeners[0],
	    time(NULL) + 40 * DAY, err, sizeof(err), warn, sizeof(warn)), -1);
	assert_prefix(err, "t.ini:6: tls_certificate: @/a.pem: expired");
	conf_free(c);

	c = conf_with(LPRE, "");		/* plain listener */
	ck_assert_int_eq(tls_check_listener(c, &c->listeners[0],
	    time(NULL), err, sizeof(err), warn, sizeof(warn)), 0);
	conf_free(c);

	c = conf_with(UPRE, "tls_ca = @/nope.pem\n");	/* tls off */
	ck_assert_int_eq(tls_check_upstream(c, &c->upstreams[0],
	    time(NULL), err, sizeof(err)), 0);
	conf_free(c);
	c = conf_with(UPRE, "tls = on\ntls_ca = @/nope.pem\n");
	ck_assert_int_eq(tls_check_upstream(c, &c->upstreams[0],
	    time(NULL), err, sizeof(err)), -1);
	assert_prefix(err, "t.ini:7: tls_ca: @/nope.pem: cannot read");
	conf_free(c);
	c = conf_with(UPRE, "tls = on\ntls_ca = @/ca.pem\n");
	ck_assert_int_eq(tls_check_upstream(c, &c->upstreams[0],
	    time(NULL), err, sizeof(err)), 0);
	conf_free(c);
}
END_TEST

/*
 * Handshakes against a certificate set
 */

static const struct {
	const char	*sni;		/* NULL: none sent */
	const char	*cn;		/* of the certificate the client sees */
	int		 chain;		/* certificates the client gets */
} sni_cases[] = {
	{ "a.test", "a.test", 1 },
	{ "www.a.test", "a.test", 1 },
	{ "WWW.A.Test", "a.test", 1 },
	{ "x.b.test", "*.b.test", 2 },
	{ "X.B.TEST.", "*.b.test", 2 },
	{ "y.x.b.test", "a.test", 1 },	/* a wildcard is one label */
	{ "b.test", "a.test", 1 },
	{ "cn.test", "cn.test", 1 },	/* CN when there is no SAN */
	{ "unknown.test", "a.test", 1 },
	{ NULL, "a.test", 1 },
};

/* SNI picks the certificate; the default serves the rest. */
START_TEST(test_sni)
{
	struct tls_server	*set = server_ok(SET_ABC);
	SSL			*cli, *srv;
	char			 cn[256];

	cli = raw_client(sni_cases[_i].sni, TLS1_2_VERSION, TLS1_3_VERSION,
	    NULL);
	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	ck_assert_int_eq(handshake(cli, srv), 0);
	ck_assert_str_eq(cn_of(SSL_get0_peer_certificate(cli), cn,
	    sizeof(cn)), sni_cases[_i].cn);
	ck_assert_int_eq(sk_X509_num(SSL_get_peer_cert_chain(cli)),
	    sni_cases[_i].chain);
	ck_assert_int_eq(SSL_version(cli), TLS1_3_VERSION);
	SSL_free(cli);
	SSL_free(srv);
	tls_server_unref(set);
}
END_TEST

/* Runs a handshake with a raw client against set; 0 or -1. */
static int
try_versions(struct tls_server *set, int min, int max, const char *ciphers,
    char *cipher, size_t len)
{
	SSL	*cli, *srv;
	int	 rc;

	cli = raw_client("a.test", min, max, ciphers);
	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	rc = handshake(cli, srv);
	if (rc == 0 && cipher != NULL)
		snprintf(cipher, len, "%s",
		    SSL_CIPHER_get_name(SSL_get_current_cipher(cli)));
	SSL_free(cli);
	SSL_free(srv);
	return rc;
}

/* TLS 1.0 and 1.1 are refused; 1.2 gets forward-secret AEAD only. */
START_TEST(test_versions)
{
	struct tls_server	*set = server_ok(SET_ABC);
	char			 cipher[128];

	ck_assert_int_eq(try_versions(set, TLS1_VERSION, TLS1_1_VERSION,
	    "DEFAULT:@SECLEVEL=0", NULL, 0), -1);
	ck_assert_int_eq(try_versions(set, TLS1_VERSION, TLS1_VERSION,
	    "DEFAULT:@SECLEVEL=0", NULL, 0), -1);
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_2_VERSION,
	    NULL, cipher, sizeof(cipher)), 0);
	ck_assert_str_eq(cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
	/* no forward secrecy, or CBC: refused */
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_2_VERSION,
	    "AES128-GCM-SHA256", NULL, 0), -1);
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_2_VERSION,
	    "ECDHE-ECDSA-AES128-SHA256", NULL, 0), -1);
	/* the server's order wins */
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_2_VERSION,
	    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384",
	    cipher, sizeof(cipher)), 0);
	ck_assert_str_eq(cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
	tls_server_unref(set);
}
END_TEST

/* tls_protocols and tls_ciphers change what is accepted. */
START_TEST(test_protocols)
{
	struct tls_server	*set;
	char			 cipher[128];

	set = server_ok("tls_protocols = TLSv1.3\n" SET_ABC);
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_2_VERSION,
	    NULL, NULL, 0), -1);
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_3_VERSION,
	    NULL, NULL, 0), 0);
	tls_server_unref(set);

	set = server_ok("tls_protocols = TLSv1.2\n"
	    "tls_ciphers = ECDHE-ECDSA-CHACHA20-POLY1305\n" SET_ABC);
	ck_assert_int_eq(try_versions(set, TLS1_3_VERSION, TLS1_3_VERSION,
	    NULL, NULL, 0), -1);
	ck_assert_int_eq(try_versions(set, TLS1_2_VERSION, TLS1_3_VERSION,
	    NULL, cipher, sizeof(cipher)), 0);
	ck_assert_str_eq(cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
	tls_server_unref(set);
}
END_TEST

/* The options every server SSL carries. */
START_TEST(test_options)
{
	struct tls_server	*set = server_ok(SET_ABC);
	SSL			*srv;
	uint64_t		 o;

	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	o = SSL_get_options(srv);
	ck_assert(o & SSL_OP_NO_RENEGOTIATION);
	ck_assert(o & SSL_OP_NO_COMPRESSION);
	ck_assert(o & SSL_OP_CIPHER_SERVER_PREFERENCE);
	ck_assert(o & SSL_OP_IGNORE_UNEXPECTED_EOF);
	ck_assert(!(o & SSL_OP_NO_TICKET));
	ck_assert(!(o & SSL_OP_NO_TLSv1_2));
	ck_assert_int_eq(SSL_get_min_proto_version(srv), TLS1_2_VERSION);
	ck_assert_int_eq(SSL_is_server(srv), 1);
	SSL_free(srv);
	tls_server_unref(set);
}
END_TEST

static const struct {
	int		 h2;		/* the listener's http2 */
	const char	*offer;		/* wire format; NULL: no ALPN */
	unsigned	 len;
	const char	*selected;	/* NULL: none; "!": refused */
} alpn_cases[] = {
	{ 1, "\x02h2\x08http/1.1", 12, "h2" },
	{ 1, "\x08http/1.1\x02h2", 12, "h2" },	/* the server's order */
	{ 1, "\x02h2", 3, "h2" },
	{ 1, "\x08http/1.1", 9, "http/1.1" },
	{ 1, NULL, 0, NULL },
	{ 1, "\x03" "ftp", 4, "!" },
	{ 0, "\x02h2\x08http/1.1", 12, "http/1.1" },
	{ 0, "\x08http/1.1", 9, "http/1.1" },
	{ 0, "\x08http/1.0\x08http/1.1", 18, "http/1.1" },
	{ 0, "\x08http/1.0", 9, "http/1.0" },
	{ 0, NULL, 0, NULL },
	{ 0, "\x02h2", 3, "!" },
	{ 0, "\x03" "ftp", 4, "!" },
};

/*
 * ALPN: h2 first where http2 is on (the default), then http/1.1 (or
 * http/1.0); nothing offered is fine; anything else is refused.
 */
START_TEST(test_alpn)
{
	struct tls_server	*set = server_ok(alpn_cases[_i].h2 ? SET_ABC :
				    SET_ABC "http2 = off\n");
	const unsigned char	*sel;
	unsigned		 len;
	SSL			*cli, *srv;
	int			 rc;

	cli = raw_client("a.test", TLS1_2_VERSION, TLS1_3_VERSION, NULL);
	if (alpn_cases[_i].offer != NULL)
		ck_assert_int_eq(SSL_set_alpn_protos(cli,
		    (const unsigned char *)alpn_cases[_i].offer,
		    alpn_cases[_i].len), 0);
	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	rc = handshake(cli, srv);
	if (alpn_cases[_i].selected != NULL &&
	    strcmp(alpn_cases[_i].selected, "!") == 0)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		SSL_get0_alpn_selected(cli, &sel, &len);
		if (alpn_cases[_i].selected == NULL)
			ck_assert_uint_eq(len, 0);
		else
			ck_assert_msg(len == strlen(alpn_cases[_i].selected) &&
			    memcmp(sel, alpn_cases[_i].selected, len) == 0,
			    "selected %.*s", (int)len, sel);
	}
	SSL_free(cli);
	SSL_free(srv);
	tls_server_unref(set);
}
END_TEST

/*
 * A HelloRetryRequest makes OpenSSL call the ALPN callback once per
 * ClientHello: the client's key share is X25519, the server takes P-256
 * only, so TLS 1.3 needs a second ClientHello. h2 is still chosen.
 */
START_TEST(test_alpn_hrr)
{
	struct tls_server	*set = server_ok(SET_ABC);
	const unsigned char	*sel;
	unsigned		 len;
	SSL			*cli, *srv;

	cli = raw_client("a.test", TLS1_3_VERSION, TLS1_3_VERSION, NULL);
	ck_assert_int_eq(SSL_set1_groups_list(cli, "X25519:P-256"), 1);
	ck_assert_int_eq(SSL_set_alpn_protos(cli,
	    (const unsigned char *)"\x02h2\x08http/1.1", 12), 0);
	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	ck_assert_int_eq(SSL_set1_groups_list(srv, "P-256"), 1);
	ck_assert_int_eq(handshake(cli, srv), 0);
	/* P-256 although the first key share was X25519: a retry happened */
	ck_assert_int_eq(SSL_get_negotiated_group(cli), NID_X9_62_prime256v1);
	SSL_get0_alpn_selected(cli, &sel, &len);
	ck_assert_msg(len == 2 && memcmp(sel, "h2", 2) == 0, "selected %.*s",
	    (int)len, sel);
	SSL_free(cli);
	SSL_free(srv);
	tls_server_unref(set);
}
END_TEST

/* Session tickets resume, TLS 1.3 and 1.2, also after an SNI switch. */
START_TEST(test_resume)
{
	static const int	 vers[] = { TLS1_3_VERSION, TLS1_2_VERSION };
	struct tls_server	*set = server_ok(SET_ABC);
	SSL_SESSION		*sess;
	SSL			*cli, *srv;
	int			 round;

	for (round = 0; round < 2; round++) {
		cli = raw_client("x.b.test", vers[round], vers[round], NULL);
		srv = tls_server_ssl_new(set);
		ck_assert_int_eq(handshake(cli, srv), 0);
		transfer(srv, cli);
		ck_assert_ptr_nonnull(sess = SSL_get1_session(cli));
		ck_assert_int_eq(SSL_SESSION_is_resumable(sess), 1);
		/* without close_notify OpenSSL would drop the session */
		ck_assert_int_eq(SSL_shutdown(cli), 0);
		SSL_free(cli);
		SSL_free(srv);

		cli = raw_client("x.b.test", vers[round], vers[round], NULL);
		ck_assert_int_eq(SSL_set_session(cli, sess), 1);
		srv = tls_server_ssl_new(set);
		ck_assert_int_eq(handshake(cli, srv), 0);
		ck_assert_int_eq(SSL_session_reused(cli), 1);
		SSL_SESSION_free(sess);
		SSL_free(cli);
		SSL_free(srv);
	}
	tls_server_unref(set);
}
END_TEST

/* A handshake of a new client with set offering sess (NULL: none), data
 * both ways for the tickets; 1 when resumed; the new session in *out. */
static int
ticket_round(struct tls_server *set, int ver, SSL_SESSION *sess,
    SSL_SESSION **out)
{
	SSL	*cli = raw_client("a.test", ver, ver, NULL);
	SSL	*srv = tls_server_ssl_new(set);
	int	 reused;

	ck_assert_ptr_nonnull(srv);
	if (sess != NULL)
		ck_assert_int_eq(SSL_set_session(cli, sess), 1);
	ck_assert_int_eq(handshake(cli, srv), 0);
	transfer(srv, cli);
	reused = SSL_session_reused(cli);
	if (out != NULL)
		ck_assert_ptr_nonnull(*out = SSL_get1_session(cli));
	ck_assert_int_eq(SSL_shutdown(cli), 0);
	SSL_free(cli);
	SSL_free(srv);
	return reused;
}

/*
 * Ticket keys belong to the listener's name: a set built again for it (a
 * reload) opens the tickets of the one before, another listener's does
 * not; one rotation later a ticket still resumes, two later it does not.
 * TLS 1.3 and 1.2.
 */
START_TEST(test_ticket_keys)
{
	static const int	 vers[] = { TLS1_3_VERSION, TLS1_2_VERSION };
	struct tls_server	*a, *b, *other;
	struct conf		*c;
	SSL_SESSION		*s0;
	char			 err[1024], warn[1024];
	uint64_t		 n0;
	int			 round;

	c = conf_with("[upstream app]\nserver = 127.0.0.1:9443\n"
	    "[listener other]\nlisten = 127.0.0.1:8444\nupstream = app\n",
	    SET_ABC);
	ck_assert_ptr_nonnull(other = tls_server_new(c,
	    &c->listeners[0], time(NULL), err, sizeof(err), warn,
	    sizeof(warn)));
	conf_free(c);
	for (round = 0; round < 2; round++) {
		a = server_ok(SET_ABC);
		ck_assert_int_eq(ticket_round(a, vers[round], NULL, &s0), 0);
		b = server_ok(SET_ABC);		/* the reload's */
		tls_server_unref(a);
		ck_assert_int_eq(ticket_round(b, vers[round], s0, NULL), 1);
		ck_assert_int_eq(ticket_round(other, vers[round], s0, NULL),
		    0);
		n0 = tls_tickets_rotations();
		ck_assert_int_eq(tls_tickets_rotate(), 0);
		ck_assert_int_eq(ticket_round(b, vers[round], s0, NULL), 1);
		ck_assert_int_eq(tls_tickets_rotate(), 0);
		ck_assert_int_eq(ticket_round(b, vers[round], s0, NULL), 0);
		ck_assert_uint_eq(tls_tickets_rotations(), n0 + 2);
		SSL_SESSION_free(s0);
		tls_server_unref(b);
	}
	tls_server_unref(other);
}
END_TEST

/* Plain text sent to a TLS server fails the handshake. */
START_TEST(test_plaintext)
{
	static const char	 req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct tls_server	*set = server_ok(SET_ABC);
	BIO			*bs, *bc;
	SSL			*srv;

	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(srv, bs, bs);
	ck_assert_int_eq(BIO_write(bc, req, sizeof(req) - 1),
	    (int)sizeof(req) - 1);
	ck_assert_int_eq(step(srv), -1);
	ERR_clear_error();
	SSL_free(srv);
	BIO_free(bc);
	tls_server_unref(set);
}
END_TEST

/*
 * Reference counting
 */

/* The SSL keeps the set alive: unref first, handshake (SNI callback),
 * then SSL_free frees it (ASan and LSan watch both). */
START_TEST(test_refcount)
{
	struct tls_server	*set = server_ok(SET_ABC);
	SSL			*cli, *srv, *srv2;
	char			 cn[256];

	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	ck_assert_ptr_nonnull(srv2 = tls_server_ssl_new(set));
	tls_server_ref(set);
	tls_server_unref(set);
	tls_server_unref(set);		/* a reload drops the set */
	SSL_free(srv2);			/* one SSL still holds it */

	cli = raw_client("x.b.test", TLS1_2_VERSION, TLS1_3_VERSION, NULL);
	ck_assert_int_eq(handshake(cli, srv), 0);
	ck_assert_str_eq(cn_of(SSL_get0_peer_certificate(cli), cn,
	    sizeof(cn)), "*.b.test");
	transfer(cli, srv);
	transfer(srv, cli);
	SSL_free(srv);			/* the last reference */
	SSL_free(cli);
	tls_server_unref(NULL);
}
END_TEST

/* SSL_dup copies the reference along with the SSL. */
START_TEST(test_refcount_dup)
{
	struct tls_server	*set = server_ok(SET_ABC);
	SSL			*srv, *dup, *cli;

	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	tls_server_unref(set);
	ck_assert_ptr_nonnull(dup = SSL_dup(srv));
	SSL_free(srv);
	cli = raw_client("www.a.test", TLS1_2_VERSION, TLS1_3_VERSION, NULL);
	ck_assert_int_eq(handshake(cli, dup), 0);
	SSL_free(dup);
	SSL_free(cli);
}
END_TEST

/*
 * Client contexts
 */

/* A server SSL from a set of these lines; the set is dropped at once. */
static SSL *
server_ssl(const char *lines)
{
	struct tls_server	*set = server_ok(lines);
	SSL			*srv;

	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	tls_server_unref(set);
	return srv;
}

static const struct {
	const char	*upstream;	/* lines of [upstream app] */
	const char	*server;	/* lines of [listener web] */
	const char	*name;
	const char	*verify_error;	/* NULL: the handshake succeeds */
} client_cases[] = {
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "a.test", NULL },
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "www.a.test", NULL },
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "x.b.test", NULL },
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "cn.test", NULL },
	{ "tls = on\ntls_ca = @/cadir\n", SET_ABC, "a.test", NULL },
	{ "tls = on\ntls_ca = @/other.pem\n", SET_ABC, "a.test",
	    "unable to get local issuer certificate" },
	{ "tls = on\n", SET_ABC, "a.test",
	    "unable to get local issuer certificate" },	/* system store */
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "nope.test",
	    "hostname mismatch" },
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "a.test.evil",
	    "hostname mismatch" },
	{ "tls = on\ntls_ca = @/ca.pem\n", SET_ABC, "y.x.b.test",
	    "hostname mismatch" },
	{ "tls = on\ntls_ca = @/ca.pem\n",
	    "tls_certificate = @/ip.pem @/ip.key\n", "127.0.0.1", NULL },
	{ "tls = on\ntls_ca = @/ca.pem\n",
	    "tls_certificate = @/ip.pem @/ip.key\n", "127.0.0.2",
	    "IP address mismatch" },
	{ "tls = on\ntls_verify = off\ntls_ca = @/other.pem\n", SET_ABC,
	    "nope.test", NULL },
	{ "tls = on\ntls_verify = off\n", SET_ABC, "a.test", NULL },
};

/* Verification: a good CA and name pass; any other is refused, and
 * tls_client_verify_error says why. */
START_TEST(test_client_verify)
{
	struct tls_client	*c = client_ok(client_cases[_i].upstream);
	SSL			*cli, *srv;
	const char		*why;
	int			 rc;

	srv = server_ssl(client_cases[_i].server);
	ck_assert_ptr_nonnull(cli = tls_client_ssl_new(c,
	    client_cases[_i].name));
	rc = handshake(cli, srv);
	why = tls_client_verify_error(cli);
	if (client_cases[_i].verify_error == NULL) {
		ck_assert_msg(rc == 0, "handshake failed: %s", why);
		ck_assert_ptr_null(why);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(why, client_cases[_i].verify_error);
	}
	SSL_free(cli);
	SSL_free(srv);
	tls_client_free(c);
}
END_TEST

/* SNI is the name, except for an IP literal (none sent); ALPN http/1.1. */
START_TEST(test_client_sni)
{
	struct tls_client	*c = client_ok("tls = on\ntls_ca = @/ca.pem\n");
	const unsigned char	*sel;
	unsigned		 len;
	SSL			*cli, *srv;

	srv = server_ssl(SET_ABC);
	cli = tls_client_ssl_new(c, "www.a.test");
	ck_assert_int_eq(handshake(cli, srv), 0);
	ck_assert_str_eq(SSL_get_servername(srv, TLSEXT_NAMETYPE_host_name),
	    "www.a.test");
	SSL_get0_alpn_selected(cli, &sel, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(sel, "http/1.1", 8), 0);
	ck_assert_int_eq(SSL_get_verify_result(cli), X509_V_OK);
	SSL_free(cli);
	SSL_free(srv);

	srv = server_ssl("tls_certificate = @/ip.pem @/ip.key\n");
	cli = tls_client_ssl_new(c, "127.0.0.1");
	ck_assert_int_eq(handshake(cli, srv), 0);
	ck_assert_ptr_null(SSL_get_servername(srv, TLSEXT_NAMETYPE_host_name));
	SSL_free(cli);
	SSL_free(srv);

	ck_assert_ptr_null(tls_client_ssl_new(c, NULL));
	ck_assert_ptr_null(tls_client_ssl_new(c, ""));
	ck_assert_ptr_null(tls_client_verify_error(NULL));
	tls_client_free(c);
	tls_client_free(NULL);
}
END_TEST

/* The default name is the server's host; tls_server_name replaces it. */
START_TEST(test_client_name)
{
	struct conf	*c;

	c = conf_with(UPRE, "tls = on\n");
	ck_assert_str_eq(tls_client_server_name(&c->upstreams[0],
	    &c->upstreams[0].servers[0]), "127.0.0.1");
	conf_free(c);
	c = conf_with(UPRE, "tls = on\ntls_server_name = app.test\n");
	ck_assert_str_eq(tls_client_server_name(&c->upstreams[0],
	    &c->upstreams[0].servers[0]), "app.test");
	conf_free(c);
}
END_TEST

static const struct {
	const char	*lines;
	const char	*want;
} client_errors[] = {
	{ "tls = on\ntls_ca = @/nope.pem\n",
	    "t.ini:7: tls_ca: @/nope.pem: cannot read: No such file" },
	{ "tls = on\ntls_ca = @/a.key\n",
	    "t.ini:7: tls_ca: @/a.key: no usable CA certificate: error:" },
	{ "tls = on\ntls_verify = off\ntls_ca = @/nope\n",
	    "t.ini:8: tls_ca: @/nope: cannot read" },
	{ "tls = on\ntls_client_certificate = @/client.pem @/nope.key\n",
	    "t.ini:7: tls_client_certificate: @/nope.key: cannot read" },
	{ "tls = on\ntls_client_certificate = @/client.pem @/mismatch.key\n",
	    "t.ini:7: tls_client_certificate: @/mismatch.key: key does not "
	    "match the certificate in @/client.pem" },
	{ "tls = on\ntls_client_certificate = @/expired.pem @/expired.key\n",
	    "t.ini:7: tls_client_certificate: @/expired.pem: expired on "
	    "2020-01-02" },
	{ "tls = on\ntls_client_certificate = @/client.key @/client.key\n",
	    "t.ini:7: tls_client_certificate: @/client.key: no usable PEM "
	    "certificate" },
};

/* client_errors[_i] fails with its "file:line: key: reason". */
START_TEST(test_client_error)
{
	char	 err[1024];

	ck_assert_ptr_null(client_with(client_errors[_i].lines, err,
	    sizeof(err)));
	assert_prefix(err, client_errors[_i].want);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* A server SSL that requires a client certificate signed by the CA. */
static SSL *
mtls_server(void)
{
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	*cert, *key, *ca;

	cert = expand("@/a.pem");
	key = expand("@/a.key");
	ca = expand("@/ca.pem");
	ck_assert_ptr_nonnull(ctx = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM), 1);
	ck_assert_int_eq(SSL_CTX_load_verify_file(ctx, ca), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	SSL_CTX_free(ctx);
	SSL_set_accept_state(ssl);
	free(cert);
	free(key);
	free(ca);
	return ssl;
}

/* Mutual TLS: the client certificate is presented and accepted; without
 * it the server refuses. */
START_TEST(test_client_mtls)
{
	struct tls_client	*c;
	SSL			*cli, *srv;
	char			 cn[256];

	c = client_ok("tls = on\ntls_ca = @/ca.pem\n"
	    "tls_client_certificate = @/client.pem @/client.key\n");
	srv = mtls_server();
	cli = tls_client_ssl_new(c, "a.test");
	ck_assert_int_eq(handshake(cli, srv), 0);
	transfer(cli, srv);
	ck_assert_str_eq(cn_of(SSL_get0_peer_certificate(srv), cn,
	    sizeof(cn)), "client");
	SSL_free(cli);
	SSL_free(srv);
	tls_client_free(c);

	c = client_ok("tls = on\ntls_ca = @/ca.pem\n");
	srv = mtls_server();
	cli = tls_client_ssl_new(c, "a.test");
	ck_assert_int_eq(handshake(cli, srv), -1);
	SSL_free(cli);
	SSL_free(srv);
	tls_client_free(c);
}
END_TEST

/* One connection to the server, reading its tickets; whether the session
 * was resumed. */
static int
client_round(struct tls_client *c, const char *name, struct tls_server *set)
{
	SSL	*cli, *srv;
	int	 reused;

	ck_assert_ptr_nonnull(cli = tls_client_ssl_new(c, name));
	ck_assert_ptr_nonnull(srv = tls_server_ssl_new(set));
	ck_assert_int_eq(handshake(cli, srv), 0);
	transfer(srv, cli);
	reused = SSL_session_reused(cli);
	SSL_free(cli);
	SSL_free(srv);
	return reused;
}

/* The client resumes sessions per name, whatever the server's name. */
START_TEST(test_client_resume)
{
	struct tls_client	*c = client_ok("tls = on\ntls_ca = @/ca.pem\n");
	struct tls_server	*set = server_ok(SET_ABC);

	ck_assert_int_eq(client_round(c, "a.test", set), 0);
	ck_assert_int_eq(client_round(c, "a.test", set), 1);
	ck_assert_int_eq(client_round(c, "a.test", set), 1);
	ck_assert_int_eq(client_round(c, "x.b.test", set), 0);
	ck_assert_int_eq(client_round(c, "x.b.test", set), 1);
	ck_assert_int_eq(client_round(c, "a.test", set), 1);
	tls_server_unref(set);
	tls_client_free(c);
}
END_TEST

/* SSLs outlive tls_client_free: the context and cache go with the last
 * of them, and tickets that arrive meanwhile are safe (ASan). */
START_TEST(test_client_lifetime)
{
	struct tls_client	*c = client_ok("tls = on\ntls_ca = @/ca.pem\n");
	SSL			*cli, *srv, *dup;

	ck_assert_ptr_nonnull(cli = tls_client_ssl_new(c, "a.test"));
	ck_assert_ptr_nonnull(dup = SSL_dup(cli));
	tls_client_free(c);		/* a reload drops the client */
	SSL_free(dup);
	srv = server_ssl(SET_ABC);
	ck_assert_int_eq(handshake(cli, srv), 0);
	transfer(srv, cli);		/* tickets reach the cache */
	ck_assert_ptr_null(tls_client_verify_error(cli));
	SSL_free(srv);
	SSL_free(cli);			/* the last reference */
}
END_TEST

/* tls_error_text drains the queue into one line. */
START_TEST(test_error_text)
{
	char	 buf[512], tiny[8];

	ERR_clear_error();
	ck_assert_str_eq(tls_error_text(buf, sizeof(buf)), "");
	ck_assert_ptr_null(SSL_CTX_new(NULL));
	ck_assert_int_ne(ERR_peek_error(), 0);
	tls_error_text(buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "error:", 6) == 0, "%s", buf);
	ck_assert_int_eq(ERR_peek_error(), 0);
	ck_assert_ptr_null(SSL_CTX_new(NULL));
	ck_assert_uint_eq(strlen(tls_error_text(tiny, sizeof(tiny))), 7);
	ck_assert_int_eq(ERR_peek_error(), 0);
	ck_assert_ptr_null(SSL_CTX_new(NULL));
	tls_error_text(tiny, 0);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* The suite: one test case per group above, each with the certificates
 * made before it and removed after. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc;

	tc = tcase_create("build");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, certs_make, certs_remove);
	tcase_add_loop_test(tc, test_server_error, 0, NITEMS(server_errors));
	tcase_add_test(tc, test_server_warn);
	tcase_add_test(tc, test_server_duplicate);
	tcase_add_test(tc, test_server_sole);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_error_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, certs_make, certs_remove);
	tcase_add_loop_test(tc, test_sni, 0, NITEMS(sni_cases));
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_options);
	tcase_add_loop_test(tc, test_alpn, 0, NITEMS(alpn_cases));
	tcase_add_test(tc, test_alpn_hrr);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_ticket_keys);
	tcase_add_test(tc, test_plaintext);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_refcount_dup);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, certs_make, certs_remove);
	tcase_add_loop_test(tc, test_client_verify, 0, NITEMS(client_cases));
	tcase_add_test(tc, test_client_sni);
	tcase_add_test(tc, test_client_name);
	tcase_add_loop_test(tc, test_client_error, 0, NITEMS(client_errors));
	tcase_add_test(tc, test_client_mtls);
	tcase_add_test(tc, test_client_resume);
	tcase_add_test(tc, test_client_lifetime);
	suite_add_tcase(s, tc);
	return s;
}
