/*
 * tls: OpenSSL contexts built from conf types.
 *
 * A struct tls_server is the certificate set of one listener: one SSL_CTX
 * per tls_certificate line and an SNI table of their DNS names. A struct
 * tls_client is the context for one upstream's TLS connections. Both are
 * built whole or not at all, so a reload can build the new ones first and
 * swap only when everything loaded.
 *
 * Depends on OpenSSL only (and the conf/ types); never logs. Errors go to
 * the caller's buffer as "FILE:LINE: key: reason" (FILE is the
 * configuration file's name, passed in), with the OpenSSL error queue
 * appended as text when it has something to say; the queue is left empty.
 * Threads: building and freeing a set or a context happens in the main
 * thread (a reload). Any worker may make SSLs from them at once:
 * tls_server_ssl_new and tls_server_ref/unref use an atomic reference
 * count (an SSL holds one on its set), and tls_client_ssl_new and the
 * session cache of a tls_client take the context's mutex. OpenSSL's own
 * SSL_CTX is safe to share.
 */
#ifndef SLUICE_TLS_H
#define SLUICE_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "conf/conf.h"

/* Warnings are given this many days before a certificate expires. */
#define TLS_EXPIRY_WARN_DAYS	7

struct tls_server;
struct tls_client;

/*
 * Server side (termination)
 */

/*
 * Build the certificate set of listener l of configuration conf (which
 * names its files in messages). Each tls_certificate line gets its own
 * SSL_CTX: CERT may hold a full chain, which is sent; KEY must match the
 * leaf. Each certificate's DNS
 * names (subjectAltName DNS entries, else the subject CN) become SNI
 * entries, exact or "*.suffix" (one label); the first certificate serves
 * clients that send no SNI or an unknown name, and the first certificate
 * naming a host wins. Settings: l->tls_protocols (TLS 1.2 and/or 1.3 only),
 * l->tls_ciphers for TLS 1.2, server cipher preference, no renegotiation,
 * no compression, session tickets sealed with the listener's ticket keys
 * (below), ALPN "h2" when l->http2 is on, else "http/1.1" (or
 * "http/1.0"; a client that offers ALPN without any of them is refused
 * with no_application_protocol, one that offers none is fine),
 * SSL_OP_IGNORE_UNEXPECTED_EOF.
 *
 * now is the time certificates are checked against. Returns a set holding
 * one reference (drop it with tls_server_unref), or NULL with err set when
 * a file cannot be read, a key does not match its certificate, a
 * certificate (or a certificate of its chain) has expired or is not valid
 * yet, a certificate has no usable DNS name while it is not the only one,
 * tls_ciphers selects nothing, or l has no tls_certificate. warn (may be
 * NULL) is always set: empty, or one line per warning ("... expires in N
 * days", a name already served by an earlier certificate), separated by
 * '\n' with no newline at the end; warnings never fail the build.
 */
struct tls_server *tls_server_new(const struct conf *conf,
		    const struct conf_listener *l, time_t now, char *err,
		    size_t errlen, char *warn, size_t warnlen);

/* Take one more reference on set. */
void		 tls_server_ref(struct tls_server *set);

/*
 * Drop one reference; the last one frees the set and its SSL_CTXs (SSLs
 * still alive keep the SSL_CTX they use). NULL is fine.
 */
void		 tls_server_unref(struct tls_server *set);

/*
 * A new server-mode SSL for one client connection, or NULL when out of
 * memory (do not fall back to plain text: libevent's bevcb serves plain
 * HTTP when it gets NULL). The SSL holds a reference on set until
 * SSL_free, so the SNI callback stays valid for the whole handshake even if
 * the caller drops set meanwhile (a reload). The caller owns the SSL; with
 * BEV_OPT_CLOSE_ON_FREE the bufferevent frees it.
 */
SSL		*tls_server_ssl_new(struct tls_server *set);

/*
 * Session-ticket keys: one store per listener name, shared by every
 * certificate set built for it (every generation, every worker), holding a
 * current key that seals new tickets and the previous one, which still
 * opens them (they are then renewed). Keys come from RAND_bytes and are
 * zeroed when dropped.
 */

/*
 * Give every listener's store a new current key; the previous one is
 * zeroed, so a ticket sealed before the last two rotations no longer
 * resumes. 0, or -1 when the random generator failed (a store then keeps
 * its keys). Any thread; the main thread's timer calls it.
 */
int		 tls_tickets_rotate(void);

/* How many rotations ran in this process (any thread). */
uint64_t	 tls_tickets_rotations(void);

/*
 * Client certificates (tls_verify_client)
 */

#define TLS_FINGERPRINT_LEN	64	/* SHA-256 in hex */

/*
 * Told, from the handshake, when a listener that verifies clients refuses
 * one: listener is its name, reason OpenSSL's ("no client certificate",
 * "certificate has expired", "unable to get local issuer certificate",
 * ...). In the thread of the connection.
 */
typedef void	tls_reject_fn(const char *listener, const SSL *ssl,
		    const char *reason);
void		 tls_server_on_reject(tls_reject_fn *fn);

/*
 * The verified client certificate of ssl: its subject (RFC 2253) into
 * subject (len bytes, cut short) and its SHA-256 in lower-case hex into
 * fp. 1, or 0 (both "") when the client sent none or it did not verify.
 */
int		 tls_peer_identity(const SSL *ssl, char *subject, size_t len,
		    char fp[TLS_FINGERPRINT_LEN + 1]);

/*
 * Client side (TLS to upstreams)
 */

/*
 * Build the client context of upstream u of configuration conf (which names
 * its files in messages): TLS 1.2 and 1.3, ALPN "http/1.1", no renegotiation,
 * without SSL_OP_IGNORE_UNEXPECTED_EOF (a close without close_notify is an
 * SSL error whose reason is SSL_R_UNEXPECTED_EOF_WHILE_READING, so that a
 * truncated close-delimited response can be told from a complete one; see
 * tls_client_unexpected_eof), peer verification when
 * u->tls_verify (against u->tls_ca, a PEM file or a hashed directory, else
 * the system store), u->tls_client_cert presented when set, and sessions
 * cached per server name for resumption. Built whatever u->tls says; the
 * caller asks only for upstreams with tls on. Returns a new client (free
 * with tls_client_free) or NULL with err set: an unreadable or unusable
 * tls_ca, client certificate or key, a key that does not match, a client
 * certificate not valid at now.
 */
struct tls_client *tls_client_new(const struct conf *conf,
		    const struct conf_upstream *u, time_t now, char *err,
		    size_t errlen);

/*
 * Drop the caller's client. SSLs made from it stay valid: the context and
 * its session cache go when the last of them is freed. NULL is fine.
 */
void		 tls_client_free(struct tls_client *c);

/*
 * A new client-mode SSL to the server called name (see
 * tls_client_server_name): SNI is name unless it is an IP literal, the
 * certificate is verified against name (as an IP address for a literal),
 * and a cached session for name is offered. NULL when name is NULL or out
 * of memory. The caller owns the SSL.
 */
SSL		*tls_client_ssl_new(struct tls_client *c, const char *name);

/*
 * After a failed handshake of an SSL from tls_client_ssl_new: OpenSSL's
 * reason the certificate was refused ("hostname mismatch", "unable to get
 * local issuer certificate", ...), or NULL when verification passed or is
 * off. The string is static.
 */
const char	*tls_client_verify_error(const SSL *ssl);

/*
 * 1 when the OpenSSL error e (as a bufferevent reports it) is the peer's
 * close without close_notify.
 */
int		 tls_client_unexpected_eof(unsigned long e);

/* The name to verify server s of u against: tls_server_name, else s's
 * host as written. */
const char	*tls_client_server_name(const struct conf_upstream *u,
		    const struct conf_server *s);

/*
 * Checks for "sluice -t" and the reload transaction
 */

/*
 * Build and free listener l's certificate set: 0 when it would load (or l
 * has no tls_certificate), -1 with err set otherwise. warn as in
 * tls_server_new.
 */
int		 tls_check_listener(const struct conf *conf,
		    const struct conf_listener *l, time_t now, char *err,
		    size_t errlen, char *warn, size_t warnlen);

/* Build and free upstream u's client context when u->tls is on: 0 when it
 * would load (or tls is off), -1 with err set otherwise. */
int		 tls_check_upstream(const struct conf *conf,
		    const struct conf_upstream *u, time_t now, char *err,
		    size_t errlen);

/*
 * Errors
 */

/*
 * The calling thread's OpenSSL error queue as text (each entry from
 * ERR_error_string_n, "; " between them), or "" when it is empty; the queue
 * is cleared. Returns buf.
 */
char		*tls_error_text(char *buf, size_t len);

#endif
