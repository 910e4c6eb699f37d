/*
 * tls.c: what the server and client sides share: error text, the settings
 * every context gets, and loading a certificate with its key and chain.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls.h"
#include "tls/tls_local.h"

#define TLS_DAY		(24 * 60 * 60)

/*
 * Errors and warnings
 */

/* The OpenSSL error queue as text, oldest first; see tls.h. */
char *
tls_error_text(char *buf, size_t len)
{
	unsigned long	 e;
	const char	*data;
	char		 one[256];
	size_t		 n;
	int		 flags;

	if (len == 0) {
		ERR_clear_error();
		return buf;
	}
	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data,
	    &flags)) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if ((flags & ERR_TXT_STRING) == 0 || data == NULL)
			data = "";
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s%s%s%s", n > 0 ? "; " : "",
		    one, *data != '\0' ? " (" : "", data,
		    *data != '\0' ? ")" : "");
	}
	return buf;
}

/* Start a report; see tls_local.h. */
void
tls_report_init(struct tls_report *rep, const struct conf *conf, char *err,
    size_t errlen, char *warn, size_t warnlen)
{
	rep->conf = conf;
	rep->err = errlen > 0 ? err : NULL;
	rep->errlen = errlen;
	rep->warn = warnlen > 0 ? warn : NULL;
	rep->warnlen = warnlen;
	if (rep->err != NULL)
		rep->err[0] = '\0';
	if (rep->warn != NULL)
		rep->warn[0] = '\0';
	ERR_clear_error();
}

/* Set the error, with the OpenSSL queue appended; always -1. */
int
tls_fail(const struct tls_report *rep, int line, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512], ssl[512], at[PATH_MAX + 16];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tls_error_text(ssl, sizeof(ssl));
	if (rep->err != NULL)
		snprintf(rep->err, rep->errlen, "%s: %s: %s%s%s",
		    conf_where(rep->conf, line, at, sizeof(at)), key, msg,
		    ssl[0] != '\0' ? ": " : "", ssl);
	return -1;
}

/* Append one warning line. */
void
tls_warn(const struct tls_report *rep, int line, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512], at[PATH_MAX + 16];
	size_t	 n;

	if (rep->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(rep->warn);
	snprintf(rep->warn + n, rep->warnlen - n, "%s%s: %s: %s",
	    n > 0 ? "\n" : "", conf_where(rep->conf, line, at, sizeof(at)),
	    key, msg);
}

/*
 * Contexts
 */

/* A passphrase callback that never prompts: encrypted keys fail. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

/* The settings every context gets; see tls_local.h. */
int
tls_ctx_setup(SSL_CTX *ctx, int min, int max)
{
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* libevent may retry a write from a moved buffer; idle keep-alive
	 * connections should not hold 34k of buffers each. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, max) != 1)
		return -1;
	return 0;
}

/*
 * Certificates and keys
 */

/* Whether path can be read; see tls_local.h. */
int
tls_file_check(const struct tls_report *rep, int line, const char *key,
    const char *path, int dir_ok)
{
	struct stat	 st;
	FILE		*fp;
	int		 saved;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!dir_ok)
			return tls_fail(rep, line, key, "%s: is a directory",
			    path);
		if (access(path, R_OK | X_OK) == -1) {
			saved = errno;
			return tls_fail(rep, line, key, "%s: cannot read: %s",
			    path, strerror(saved));
		}
		return 1;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		saved = errno;
		return tls_fail(rep, line, key, "%s: cannot read: %s", path,
		    strerror(saved));
	}
	fclose(fp);
	return 0;
}

/* Read the first private key of a PEM file; NULL with the queue set. */
static EVP_PKEY *
tls_key_read(const char *path)
{
	EVP_PKEY	*pkey;
	BIO		*bio;

	if ((bio = BIO_new_file(path, "r")) == NULL)
		return NULL;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	BIO_free(bio);
	return pkey;
}

/* Load cc->key into ctx, whose certificate is loaded and must match it. */
static int
tls_key_load(SSL_CTX *ctx, const struct tls_report *rep, const char *key,
    const struct conf_cert *cc)
{
	EVP_PKEY	*pkey;
	int		 rc = 0;

	if ((pkey = tls_key_read(cc->key)) == NULL)
		return tls_fail(rep, cc->line, key, "%s: no usable PEM "
		    "private key (encrypted keys are not supported)", cc->key);
	if (X509_check_private_key(SSL_CTX_get0_certificate(ctx),
	    pkey) != 1) {
		ERR_clear_error();
		rc = tls_fail(rep, cc->line, key, "%s: key does not match "
		    "the certificate in %s", cc->key, cc->cert);
	} else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1)
		rc = tls_fail(rep, cc->line, key, "%s: cannot use the key",
		    cc->key);
	EVP_PKEY_free(pkey);
	return rc;
}

/* An ASN1 time as a time_t; -1 when it cannot be read. */
static int
tls_asn1_time(const ASN1_TIME *at, time_t *out)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Write t as "2020-01-02 00:00:00 UTC". */
static const char *
tls_date(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* Check that x (what names it in messages) is valid at now. */
static int
tls_cert_dates(const struct tls_report *rep, const char *key,
    const struct conf_cert *cc, X509 *x, const char *what, time_t now)
{
	time_t		 from, until;
	long long	 days;
	char		 date[64];

	if (tls_asn1_time(X509_get0_notBefore(x), &from) == -1 ||
	    tls_asn1_time(X509_get0_notAfter(x), &until) == -1)
		return tls_fail(rep, cc->line, key, "%s: %sunreadable "
		    "validity dates", cc->cert, what);
	if (now < from)
		return tls_fail(rep, cc->line, key, "%s: %snot valid before "
		    "%s", cc->cert, what, tls_date(from, date, sizeof(date)));
	if (now > until)
		return tls_fail(rep, cc->line, key, "%s: %sexpired on %s",
		    cc->cert, what, tls_date(until, date, sizeof(date)));
	if (until - now < (time_t)TLS_EXPIRY_WARN_DAYS * TLS_DAY) {
		days = ((long long)(until - now) + TLS_DAY - 1) / TLS_DAY;
		tls_warn(rep, cc->line, key, "%s: %sexpires in %lld day%s "
		    "(%s)", cc->cert, what, days, days == 1 ? "" : "s",
		    tls_date(until, date, sizeof(date)));
	}
	return 0;
}

/* Check the leaf of ctx and every certificate of its chain at now. */
static int
tls_chain_dates(SSL_CTX *ctx, const struct tls_report *rep,
    const char *key, const struct conf_cert *cc, time_t now)
{
	STACK_OF(X509)	*chain = NULL;
	char		 what[64];
	int		 i;

	if (tls_cert_dates(rep, key, cc, SSL_CTX_get0_certificate(ctx), "",
	    now) == -1)
		return -1;
	if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || chain == NULL)
		return 0;
	for (i = 0; i < sk_X509_num(chain); i++) {
		snprintf(what, sizeof(what), "chain certificate %d: ", i + 1);
		if (tls_cert_dates(rep, key, cc, sk_X509_value(chain, i),
		    what, now) == -1)
			return -1;
	}
	return 0;
}

/* Load a certificate, its chain and its key into ctx; see tls_local.h. */
int
tls_cert_load(SSL_CTX *ctx, const struct tls_report *rep, const char *key,
    const struct conf_cert *cc, time_t now)
{
	if (tls_file_check(rep, cc->line, key, cc->cert, 0) == -1 ||
	    tls_file_check(rep, cc->line, key, cc->key, 0) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cc->cert) != 1)
		return tls_fail(rep, cc->line, key, "%s: no usable PEM "
		    "certificate", cc->cert);
	if (tls_key_load(ctx, rep, key, cc) == -1)
		return -1;
	return tls_chain_dates(ctx, rep, key, cc, now);
}
