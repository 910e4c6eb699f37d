/*
 * tls_local.h: what tls/server.c and tls/client.c share (tls/tls.c).
 * Not for use outside tls/.
 */
#ifndef SLUICE_TLS_LOCAL_H
#define SLUICE_TLS_LOCAL_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "conf/conf.h"

/* Where one build reports to: the configuration and the buffers. */
struct tls_report {
	const struct conf *conf;	/* names the files in messages */
	char		*err;		/* "FILE:LINE: key: why" */
	size_t		 errlen;
	char		*warn;		/* lines appended; NULL: no warnings */
	size_t		 warnlen;
};

/* Start a report: both buffers emptied and the OpenSSL queue cleared. */
void	tls_report_init(struct tls_report *, const struct conf *, char *err,
	    size_t errlen, char *warn, size_t warnlen);

/*
 * Set rep->err to "FILE:LINE: key: <fmt>", then ": <OpenSSL queue>" when
 * the queue has anything; the queue is cleared. Always returns -1.
 */
int	tls_fail(const struct tls_report *rep, int line, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Append "FILE:LINE: key: <fmt>" as one more line of rep->warn. */
void	tls_warn(const struct tls_report *rep, int line, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * What every context gets, server or client: protocol versions min..max,
 * no renegotiation, no compression, SSL_OP_IGNORE_UNEXPECTED_EOF (a client
 * context clears it again), buffers released while idle, and never a
 * passphrase prompt. 0, or -1 with the
 * OpenSSL queue set.
 */
int	tls_ctx_setup(SSL_CTX *ctx, int min, int max);

/*
 * Check that path can be read: 0 for a file, 1 for a directory when
 * dir_ok, else -1 reported against line and key.
 */
int	tls_file_check(const struct tls_report *rep, int line,
	    const char *key, const char *path, int dir_ok);

/*
 * Load cc (CERT with its chain, and KEY) into ctx: both readable, the key
 * matching the leaf, every certificate valid at now (a warning when one
 * expires within TLS_EXPIRY_WARN_DAYS). 0, or -1 reported against
 * cc->line and key ("tls_certificate", "tls_client_certificate").
 */
int	tls_cert_load(SSL_CTX *ctx, const struct tls_report *rep,
	    const char *key, const struct conf_cert *cc, time_t now);

/*
 * Session-ticket keys (ticket.c)
 */

struct tls_tickets;

/*
 * The ticket-key store of the listener called listener, shared with every
 * other holder of that name, made (with a random current key) when there
 * is none; one more reference. NULL when out of memory or when the random
 * generator fails.
 */
struct tls_tickets *tls_tickets_get(const char *listener);

/* Drop a reference; the last one zeroes the keys and frees. NULL is fine. */
void	tls_tickets_unref(struct tls_tickets *t);

/*
 * The body of an SSL_CTX_set_tlsext_ticket_key_evp_cb callback with the
 * store t: enc, seal a ticket with the current key (1, -1 on failure);
 * else open the ticket named name with the current key (1; 2 in TLS 1.3)
 * or the previous one (2: OpenSSL renews the ticket), 0 when neither has
 * that name (a full handshake follows), -1 on failure. t NULL: 0.
 */
int	tls_tickets_cb(SSL *ssl, struct tls_tickets *t, unsigned char *name,
	    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
	    int enc);

#endif
