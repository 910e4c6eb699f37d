/*
 * client.c: the TLS context for one upstream (struct tls_client).
 *
 * The struct hangs off its SSL_CTX's ex_data and is freed with it, so
 * pooled connections that outlive a reload (and the tls_client that made
 * them) can still hand new session tickets to a live cache. Each SSL keeps
 * the name it was made for in its own ex_data: the cache key.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"
#include "tls/tls_local.h"

#define TLS_CLIENT_MAGIC	0x534c5443U	/* "SLTC" */
#define TLS_CLIENT_SESSIONS	64		/* server names cached */

/* The last session a server gave us, offered on the next connection. */
struct tls_session {
	char		*name;
	SSL_SESSION	*sess;
};

struct tls_client {
	unsigned		 magic;		/* TLS_CLIENT_MAGIC */
	SSL_CTX			*ctx;		/* owns this struct */
	struct tls_session	 sessions[TLS_CLIENT_SESSIONS];
	size_t			 nsessions;
	size_t			 evict;		/* next to replace when full */
	pthread_mutex_t		 mu;		/* the cache: worker threads
						 * share a context */
};

static CRYPTO_ONCE	tls_client_once = CRYPTO_ONCE_STATIC_INIT;
static int		tls_client_ctx_index = -1;	/* the struct */
static int		tls_client_ssl_index = -1;	/* the name */

/*
 * The session cache
 */

/* The cache slot for name, or -1. */
static int
tls_session_find(const struct tls_client *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nsessions; i++)
		if (strcmp(c->sessions[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Empty slot i, moving the last slot into it. */
static void
tls_session_drop(struct tls_client *c, size_t i)
{
	free(c->sessions[i].name);
	SSL_SESSION_free(c->sessions[i].sess);
	c->sessions[i] = c->sessions[--c->nsessions];
	if (c->evict >= c->nsessions)
		c->evict = 0;
}

/* Keep sess (a reference handed over) for name; 1 kept, 0 not. */
static int
tls_session_put(struct tls_client *c, const char *name, SSL_SESSION *sess)
{
	struct tls_session	*s;
	int			 i;
	char			*dup;

	if ((i = tls_session_find(c, name)) != -1) {
		SSL_SESSION_free(c->sessions[i].sess);
		c->sessions[i].sess = sess;
		return 1;
	}
	if ((dup = strdup(name)) == NULL)
		return 0;
	if (c->nsessions == TLS_CLIENT_SESSIONS) {
		tls_session_drop(c, c->evict);
		c->evict = (c->evict + 1) % TLS_CLIENT_SESSIONS;
	}
	s = &c->sessions[c->nsessions++];
	s->name = dup;
	s->sess = sess;
	return 1;
}

/*
 * Offer ssl a copy of the session cached for name; a TLS 1.3 ticket is
 * offered once. A copy, because SSL_free without close_notify (the usual
 * end of a pooled connection) marks the SSL's session not resumable.
 */
static void
tls_session_offer(struct tls_client *c, SSL *ssl, const char *name)
{
	SSL_SESSION	*sess, *copy;
	int		 i;

	if ((i = tls_session_find(c, name)) == -1)
		return;
	sess = c->sessions[i].sess;
	if (SSL_SESSION_is_resumable(sess) &&
	    (copy = SSL_SESSION_dup(sess)) != NULL) {
		if (SSL_set_session(ssl, copy) != 1)
			ERR_clear_error();
		SSL_SESSION_free(copy);		/* ssl holds it */
	}
	if (!SSL_SESSION_is_resumable(sess) ||
	    SSL_SESSION_get_protocol_version(sess) == TLS1_3_VERSION)
		tls_session_drop(c, (size_t)i);
}

/* OpenSSL's new-session callback: cache a copy under the SSL's name (see
 * tls_session_offer for why a copy). */
static int
tls_client_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_client	*c;
	SSL_SESSION		*copy;
	const char		*name;

	c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_client_ctx_index);
	name = SSL_get_ex_data(ssl, tls_client_ssl_index);
	if (c == NULL || name == NULL || (copy = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	assert(c->magic == TLS_CLIENT_MAGIC);
	pthread_mutex_lock(&c->mu);
	if (!tls_session_put(c, name, copy))
		SSL_SESSION_free(copy);
	pthread_mutex_unlock(&c->mu);
	return 0;			/* OpenSSL keeps its reference */
}

/*
 * ex_data slots
 */

/* SSL_CTX_free frees the struct and its cache. */
static void
tls_client_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_client	*c = ptr;

	if (c == NULL)
		return;
	assert(c->magic == TLS_CLIENT_MAGIC);
	while (c->nsessions > 0)
		tls_session_drop(c, 0);
	pthread_mutex_destroy(&c->mu);
	c->magic = 0;
	free(c);
}

/* SSL_dup copies the name slot: the copy gets its own string. */
static int
tls_name_ex_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
    void **from_d, int idx, long argl, void *argp)
{
	if (*from_d != NULL && (*from_d = strdup(*from_d)) == NULL)
		return 0;
	return 1;
}

/* SSL_free frees the name. */
static void
tls_name_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

/* Register both slots, once per process. */
static void
tls_client_index_init(void)
{
	tls_client_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_client_ex_free);
	tls_client_ssl_index = SSL_get_ex_new_index(0, NULL, NULL,
	    tls_name_ex_dup, tls_name_ex_free);
}

/* 0 when both slots exist, else -1. */
static int
tls_client_indexes(void)
{
	if (CRYPTO_THREAD_run_once(&tls_client_once,
	    tls_client_index_init) != 1 || tls_client_ctx_index == -1 ||
	    tls_client_ssl_index == -1)
		return -1;
	return 0;
}

/*
 * Building the context
 */

/* A new context owning a new, empty struct tls_client; NULL reported. */
static struct tls_client *
tls_client_alloc(const struct tls_report *rep,
    const struct conf_upstream *u)
{
	struct tls_client	*c;
	SSL_CTX			*ctx = NULL;

	if (tls_client_indexes() == -1 ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		tls_fail(rep, u->line, "tls", "out of memory");
		return NULL;
	}
	c->magic = TLS_CLIENT_MAGIC;
	pthread_mutex_init(&c->mu, NULL);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_ex_data(ctx, tls_client_ctx_index, c) != 1) {
		SSL_CTX_free(ctx);
		pthread_mutex_destroy(&c->mu);
		free(c);
		tls_fail(rep, u->line, "tls", "cannot create a TLS context");
		return NULL;
	}
	c->ctx = ctx;
	return c;
}

/* Load the CAs to verify servers with: tls_ca, else the system store. */
static int
tls_client_load_ca(struct tls_client *c, const struct tls_report *rep,
    const struct conf_upstream *u)
{
	int	 kind, line, rc;

	if (u->tls_ca == NULL) {
		if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
			return tls_fail(rep, u->line, "tls_ca", "cannot load "
			    "the system CA store");
		return 0;
	}
	line = conf_line(&u->lines, "tls_ca");
	kind = tls_file_check(rep, line, "tls_ca", u->tls_ca, 1);
	if (kind == -1)
		return -1;
	if (kind == 1)
		rc = SSL_CTX_load_verify_dir(c->ctx, u->tls_ca);
	else
		rc = SSL_CTX_load_verify_file(c->ctx, u->tls_ca);
	if (rc != 1)
		return tls_fail(rep, line, "tls_ca", "%s: no usable "
		    "CA certificate", u->tls_ca);
	return 0;
}

/* Give c's context the upstream's settings, CAs and certificate. */
static int
tls_client_setup(struct tls_client *c, const struct tls_report *rep,
    const struct conf_upstream *u, time_t now)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";

	if (tls_ctx_setup(c->ctx, TLS1_2_VERSION, TLS1_3_VERSION) == -1 ||
	    SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1) != 0)
		return tls_fail(rep, u->line, "tls", "cannot set up the TLS "
		    "context");
	/*
	 * A close without close_notify must stay visible: the end of a
	 * close-delimited response is known by it alone (the option would
	 * make it look like close_notify). The caller decides, by
	 * tls_allow_truncation, whether to accept it.
	 */
	SSL_CTX_clear_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c->ctx, tls_client_new_session);
	SSL_CTX_set_verify(c->ctx, u->tls_verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	if ((u->tls_verify || u->tls_ca != NULL) &&
	    tls_client_load_ca(c, rep, u) == -1)
		return -1;
	if (u->tls_client_cert.cert != NULL &&
	    tls_cert_load(c->ctx, rep, "tls_client_certificate",
	    &u->tls_client_cert, now) == -1)
		return -1;
	return 0;
}

/* Build an upstream's client context; see tls.h. */
struct tls_client *
tls_client_new(const struct conf *conf, const struct conf_upstream *u,
    time_t now, char *err, size_t errlen)
{
	struct tls_report	 rep;
	struct tls_client	*c;

	tls_report_init(&rep, conf, err, errlen, NULL, 0);
	if ((c = tls_client_alloc(&rep, u)) == NULL)
		return NULL;
	if (tls_client_setup(c, &rep, u, now) == -1) {
		SSL_CTX_free(c->ctx);		/* frees c */
		return NULL;
	}
	return c;
}

/* Drop the caller's client; SSLs keep the context alive. */
void
tls_client_free(struct tls_client *c)
{
	if (c == NULL)
		return;
	assert(c->magic == TLS_CLIENT_MAGIC);
	SSL_CTX_free(c->ctx);
}

/*
 * Connections
 */

/* Whether name is an IPv4 or IPv6 literal. */
static int
tls_is_ip(const char *name)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
}

/* Set the SNI and the identity to verify: a host name or an address. */
static int
tls_client_set_name(SSL *ssl, const char *name)
{
	if (tls_is_ip(name))	/* no SNI for an address (RFC 6066) */
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1 ? 0 : -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* SSL_set_tlsext_host_name's macro casts the const away */
	if (SSL_set1_host(ssl, name) != 1 ||
	    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
	    TLSEXT_NAMETYPE_host_name, (void *)(uintptr_t)name) != 1)
		return -1;
	return 0;
}

/* A new client SSL for the server called name; see tls.h. */
SSL *
tls_client_ssl_new(struct tls_client *c, const char *name)
{
	SSL	*ssl;
	char	*dup;

	assert(c->magic == TLS_CLIENT_MAGIC);
	if (name == NULL || *name == '\0' || tls_client_indexes() == -1 ||
	    (ssl = SSL_new(c->ctx)) == NULL)
		return NULL;
	if ((dup = strdup(name)) == NULL ||
	    SSL_set_ex_data(ssl, tls_client_ssl_index, dup) != 1) {
		free(dup);
		SSL_free(ssl);
		return NULL;
	}
	if (tls_client_set_name(ssl, name) == -1) {
		SSL_free(ssl);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	tls_session_offer(c, ssl, name);
	pthread_mutex_unlock(&c->mu);
	SSL_set_connect_state(ssl);
	return ssl;
}

/* Why verification refused the server, or NULL; see tls.h. */
const char *
tls_client_verify_error(const SSL *ssl)
{
	long	 rc;

	if (ssl == NULL || SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE)
		return NULL;
	if ((rc = SSL_get_verify_result(ssl)) == X509_V_OK)
		return NULL;
	return X509_verify_cert_error_string(rc);
}

/* The peer closed without close_notify; see tls.h. */
int
tls_client_unexpected_eof(unsigned long e)
{
	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* tls_server_name, else the server's host as written. */
const char *
tls_client_server_name(const struct conf_upstream *u,
    const struct conf_server *s)
{
	return u->tls_server_name != NULL ? u->tls_server_name : s->host;
}

/* Build and free an upstream's context, for -t; see tls.h. */
int
tls_check_upstream(const struct conf *conf, const struct conf_upstream *u,
    time_t now, char *err, size_t errlen)
{
	struct tls_client	*c;

	if (!u->tls) {
		if (errlen > 0)
			err[0] = '\0';
		return 0;
	}
	if ((c = tls_client_new(conf, u, now, err, errlen)) == NULL)
		return -1;
	tls_client_free(c);
	return 0;
}
