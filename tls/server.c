/*
 * server.c: a listener's certificate set (struct tls_server) and its SNI
 * table.
 *
 * One SSL_CTX per tls_certificate line, all with the same settings. Every
 * SSL starts on the first (default) context; the servername callback, set
 * on that context, moves it to the context that serves the name the client
 * asked for. The callback finds the set through the SSL's own ex_data,
 * which holds a reference, not through the callback argument: a reload may
 * drop the set while a handshake is still running.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"
#include "tls/tls_local.h"

#define TLS_SERVER_MAGIC	0x534c5453U	/* "SLTS" */
#define TLS_NAME_MAX		253		/* a DNS name, at most */

/* One SNI entry: a DNS name and the context that serves it. */
struct tls_sni {
	char		*name;		/* lower case; "*.suffix" for a
					 * wildcard */
	SSL_CTX		*ctx;		/* one of the set's, not owned */
	int		 line;		/* of its tls_certificate */
};

struct tls_server {
	unsigned	 magic;		/* TLS_SERVER_MAGIC while alive */
	int		 refs;		/* atomic: worker threads share it */
	char		*name;		/* the listener's */
	SSL_CTX		**ctxs;		/* one per tls_certificate; [0] is
					 * the default */
	size_t		 nctxs;
	struct tls_sni	*sni;
	size_t		 nsni;
	struct tls_tickets *tickets;	/* the listener's ticket keys;
					 * referenced */
	int		 h2;		/* ALPN offers h2 (http2 = on) */
};

/* What the names of one certificate gave. */
struct tls_names {
	int		 dns;		/* subjectAltName DNS entries */
	int		 usable;	/* names a client may ask for */
	int		 added;		/* of those, not served already */
};

static CRYPTO_ONCE	tls_server_once = CRYPTO_ONCE_STATIC_INIT;
static int		tls_server_index = -1;

/*
 * The SSL ex_data slot holding a reference on the set
 */

/* SSL_dup copies the slot: the copy holds its own reference. */
static int
tls_server_ex_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
    void **from_d, int idx, long argl, void *argp)
{
	if (*from_d != NULL)
		tls_server_ref(*from_d);
	return 1;
}

/* SSL_free drops the SSL's reference. */
static void
tls_server_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	tls_server_unref(ptr);
}

/* Register the slot, once per process. */
static void
tls_server_index_init(void)
{
	tls_server_index = SSL_get_ex_new_index(0, NULL, NULL,
	    tls_server_ex_dup, tls_server_ex_free);
}

/* The slot's index, or -1. */
static int
tls_server_ex_index(void)
{
	if (CRYPTO_THREAD_run_once(&tls_server_once,
	    tls_server_index_init) != 1)
		return -1;
	return tls_server_index;
}

/*
 * SNI and ALPN
 */

/* The context serving name (lower case), or NULL. */
static SSL_CTX *
tls_server_find(const struct tls_server *set, const char *name)
{
	const char	*dot;
	size_t		 i;

	for (i = 0; i < set->nsni; i++)
		if (strcmp(set->sni[i].name, name) == 0)
			return set->sni[i].ctx;
	/* "*.b.test" serves "x.b.test", not "b.test" nor "y.x.b.test". */
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return NULL;
	for (i = 0; i < set->nsni; i++)
		if (strncmp(set->sni[i].name, "*.", 2) == 0 &&
		    strcmp(set->sni[i].name + 1, dot) == 0)
			return set->sni[i].ctx;
	return NULL;
}

/* Lower-case name into buf without a trailing dot; -1 when too long. */
static int
tls_name_fold(const char *name, char *buf, size_t len)
{
	size_t	 i, n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[n] = '\0';
	return 0;
}

/* The servername callback: move the SSL to the context for its SNI. */
static int
tls_server_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_server	*set;
	const char		*name;
	char			 folded[TLS_NAME_MAX + 2];
	SSL_CTX			*ctx;

	set = SSL_get_ex_data(ssl, tls_server_ex_index());
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (set == NULL || name == NULL)
		return SSL_TLSEXT_ERR_OK;	/* the default context */
	assert(set->magic == TLS_SERVER_MAGIC);
	if (tls_name_fold(name, folded, sizeof(folded)) == -1 ||
	    (ctx = tls_server_find(set, folded)) == NULL)
		ctx = set->ctxs[0];
	if (ctx != SSL_get_SSL_CTX(ssl) && SSL_set_SSL_CTX(ssl, ctx) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* Whether the ALPN list in (wire format) offers proto (length-prefixed). */
static const unsigned char *
tls_alpn_find(const unsigned char *in, unsigned int inlen,
    const unsigned char *proto)
{
	unsigned int	 i;

	for (i = 0; i < inlen && i + 1 + in[i] <= inlen; i += 1 + in[i])
		if (in[i] == proto[0] && memcmp(in + i + 1, proto + 1,
		    proto[0]) == 0)
			return in + i + 1;
	return NULL;
}

/*
 * The ALPN callback: h2 when the listener offers it, else http/1.1, else
 * http/1.0 (the server's preference), else refuse the client. OpenSSL
 * may call it twice in one handshake (once per ClientHello, so twice
 * after a HelloRetryRequest): it decides from the offer alone.
 */
static int
tls_server_alpn_cb(SSL *ssl, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg)
{
	static const unsigned char *const protos[] = {
		(const unsigned char *)"\x02h2",
		(const unsigned char *)"\x08http/1.1",
		(const unsigned char *)"\x08http/1.0",
	};
	const struct tls_server	*set;
	const unsigned char	*p;
	size_t			 i;

	(void)arg;
	set = SSL_get_ex_data(ssl, tls_server_ex_index());
	for (i = set != NULL && set->h2 ? 0 : 1;
	    i < sizeof(protos) / sizeof(protos[0]); i++) {
		if ((p = tls_alpn_find(in, inlen, protos[i])) != NULL) {
			*out = p;
			*outlen = protos[i][0];
			return SSL_TLSEXT_ERR_OK;
		}
	}
	/* Another protocol (h2 where it is off, or not HTTP: ALPACA). */
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The ticket-key callback: the keys of the SSL's set (ticket.c). */
static int
tls_server_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_server	*set;

	set = SSL_get_ex_data(ssl, tls_server_ex_index());
	if (set == NULL)
		return enc ? -1 : 0;
	assert(set->magic == TLS_SERVER_MAGIC);
	return tls_tickets_cb(ssl, set->tickets, name, iv, cctx, hctx, enc);
}

/*
 * Client certificates
 */

static tls_reject_fn	*tls_reject_cb;

/* See tls.h. */
void
tls_server_on_reject(tls_reject_fn *fn)
{
	tls_reject_cb = fn;
}

/*
 * The info callback of listeners that verify clients: a fatal alert sent
 * because the client's certificate was missing or did not verify is told
 * to the reject hook with OpenSSL's reason. Other alerts (a version
 * mismatch, no common cipher) are no verification failures.
 */
static void
tls_server_info_cb(const SSL *ssl, int where, int ret)
{
	const struct tls_server	*set;
	unsigned long		 e;
	const char		*why;

	if (!(where & SSL_CB_ALERT) || !(where & SSL_CB_WRITE) ||
	    (ret >> 8) != SSL3_AL_FATAL || tls_reject_cb == NULL)
		return;
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return;
	if (ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		why = "no client certificate";
	else if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		why = X509_verify_cert_error_string(SSL_get_verify_result(ssl));
	else
		return;
	set = SSL_get_ex_data(ssl, tls_server_ex_index());
	tls_reject_cb(set != NULL ? set->name : "-", ssl, why);
}

/*
 * tls_verify_client: load tls_client_ca (a PEM file, whose names are also
 * sent to clients as the acceptable CAs, or a hashed directory) and ask
 * for a certificate; on: one is required.
 */
static int
tls_server_verify_setup(SSL_CTX *ctx, const struct tls_report *rep,
    const struct conf_listener *l)
{
	STACK_OF(X509_NAME)	*names;
	int			 kind, line, rc;

	line = conf_line(&l->lines, "tls_client_ca");
	if ((kind = tls_file_check(rep, line, "tls_client_ca",
	    l->tls_client_ca, 1)) == -1)
		return -1;
	rc = kind == 1 ? SSL_CTX_load_verify_dir(ctx, l->tls_client_ca) :
	    SSL_CTX_load_verify_file(ctx, l->tls_client_ca);
	if (rc != 1)
		return tls_fail(rep, line, "tls_client_ca", "%s: no usable "
		    "CA certificate", l->tls_client_ca);
	if (kind != 1) {
		if ((names = SSL_load_client_CA_file(l->tls_client_ca)) ==
		    NULL)
			return tls_fail(rep, line, "tls_client_ca", "%s: no "
			    "usable CA certificate", l->tls_client_ca);
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	SSL_CTX_set_verify(ctx, l->tls_verify_client == CONF_VERIFY_CLIENT_ON ?
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
	    SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_info_callback(ctx, tls_server_info_cb);
	return 0;
}

/* See tls.h. */
int
tls_peer_identity(const SSL *ssl, char *subject, size_t len,
    char fp[TLS_FINGERPRINT_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	X509			*x = SSL_get0_peer_certificate(ssl);
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	BIO			*b;
	int			 n;

	subject[0] = fp[0] = '\0';
	if (x == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return 0;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_read(b, subject,
	    (int)len - 1)) > 0)
		subject[n] = '\0';
	BIO_free(b);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		for (i = 0; i < mdlen; i++) {
			fp[2 * i] = hex[md[i] >> 4];
			fp[2 * i + 1] = hex[md[i] & 0xf];
		}
	fp[2 * mdlen] = '\0';
	ERR_clear_error();
	return 1;
}

/*
 * Building the set
 */

/* A context with the listener's settings and no certificate yet. */
static SSL_CTX *
tls_server_ctx_new(const struct tls_report *rep,
    const struct conf_listener *l)
{
	static const unsigned char	 sid[] = "sluice";
	SSL_CTX				*ctx;
	int				 min, max;

	min = (l->tls_protocols & CONF_TLS_V1_2) ? TLS1_2_VERSION :
	    TLS1_3_VERSION;
	max = (l->tls_protocols & CONF_TLS_V1_3) ? TLS1_3_VERSION :
	    TLS1_2_VERSION;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    tls_ctx_setup(ctx, min, max) == -1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1) {
		SSL_CTX_free(ctx);
		tls_fail(rep, l->line, "tls_certificate", "cannot create a "
		    "TLS context");
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_alpn_select_cb(ctx, tls_server_alpn_cb, NULL);
	/* OpenSSL asks the first context (the SSL's session context) */
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_server_ticket_cb);
	if (l->tls_verify_client != CONF_VERIFY_CLIENT_OFF &&
	    tls_server_verify_setup(ctx, rep, l) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (l->tls_ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, l->tls_ciphers) != 1) {
		SSL_CTX_free(ctx);
		tls_fail(rep, conf_line(&l->lines, "tls_ciphers"),
		    "tls_ciphers", "\"%s\": no usable cipher", l->tls_ciphers);
		return NULL;
	}
	return ctx;
}

/* Whether s (lower case) is a DNS name a client may ask for: LDH labels,
 * or "*." and such a name. */
static int
tls_name_usable(const char *s)
{
	const char	*p;
	size_t		 label = 0;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	if (*s == '\0' || strlen(s) > TLS_NAME_MAX)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-_",
		    *p) == NULL || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* Add name to the SNI table for ctx, counting it in *nm; -1 when out of
 * memory. */
static int
tls_server_add_name(struct tls_server *set, const struct tls_report *rep,
    SSL_CTX *ctx, int line, const unsigned char *data, int len,
    struct tls_names *nm)
{
	struct tls_sni	*p;
	char		 name[TLS_NAME_MAX + 3];
	size_t		 i;

	if (len <= 0 || (size_t)len >= sizeof(name) ||
	    memchr(data, '\0', (size_t)len) != NULL)
		return 0;
	for (i = 0; i < (size_t)len; i++)
		name[i] = (char)tolower(data[i]);
	name[len] = '\0';
	if (!tls_name_usable(name))
		return 0;
	nm->usable++;
	for (i = 0; i < set->nsni; i++) {
		if (strcmp(set->sni[i].name, name) != 0)
			continue;
		if (set->sni[i].ctx != ctx)
			tls_warn(rep, line, "tls_certificate", "%s is already "
			    "served by the certificate of line %d", name,
			    set->sni[i].line);
		return 0;
	}
	p = reallocarray(set->sni, set->nsni + 1, sizeof(*p));
	if (p == NULL)
		return -1;
	set->sni = p;
	if ((p[set->nsni].name = strdup(name)) == NULL)
		return -1;
	p[set->nsni].ctx = ctx;
	p[set->nsni++].line = line;
	nm->added++;
	return 0;
}

/* Add the subjectAltName DNS entries of x; -1 when out of memory. */
static int
tls_server_add_sans(struct tls_server *set, const struct tls_report *rep,
    SSL_CTX *ctx, int line, X509 *x, struct tls_names *nm)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	int			 i, rc = 0;

	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != GEN_DNS)
			continue;
		nm->dns++;	/* even unusable, it rules out the CN */
		rc = tls_server_add_name(set, rep, ctx, line,
		    ASN1_STRING_get0_data(gn->d.dNSName),
		    ASN1_STRING_length(gn->d.dNSName), nm);
		if (rc == -1)
			break;
	}
	GENERAL_NAMES_free(sans);
	ERR_clear_error();	/* no subjectAltName is not an error */
	return rc;
}

/* Add the last subject CN of x; -1 when out of memory. */
static int
tls_server_add_cn(struct tls_server *set, const struct tls_report *rep,
    SSL_CTX *ctx, int line, X509 *x, struct tls_names *nm)
{
	const X509_NAME	*subject = X509_get_subject_name(x);
	unsigned char	*utf8;
	int		 i, last = -1, len, rc;

	while ((i = X509_NAME_get_index_by_NID(subject, NID_commonName,
	    last)) >= 0)
		last = i;
	if (last < 0)
		return 0;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subject, last)));
	if (len < 0) {
		ERR_clear_error();
		return 0;
	}
	rc = tls_server_add_name(set, rep, ctx, line, utf8, len, nm);
	OPENSSL_free(utf8);
	return rc;
}

/* Add the DNS names of the certificate in ctx to the SNI table. */
static int
tls_server_add_names(struct tls_server *set, const struct tls_report *rep,
    SSL_CTX *ctx, const struct conf_cert *cc, size_t ncerts)
{
	struct tls_names	 nm = { 0, 0, 0 };
	X509			*x = SSL_CTX_get0_certificate(ctx);
	int			 rc;

	rc = tls_server_add_sans(set, rep, ctx, cc->line, x, &nm);
	if (rc == 0 && nm.dns == 0)
		rc = tls_server_add_cn(set, rep, ctx, cc->line, x, &nm);
	if (rc == -1)
		return tls_fail(rep, cc->line, "tls_certificate", "out of "
		    "memory");
	if (ncerts > 1 && nm.usable == 0)
		return tls_fail(rep, cc->line, "tls_certificate", "%s: no "
		    "usable DNS name (subjectAltName or CN) to select it by; "
		    "only a sole certificate may have none", cc->cert);
	if (nm.usable > 0 && nm.added == 0)
		tls_warn(rep, cc->line, "tls_certificate", "%s: never "
		    "selected: earlier certificates serve all its names",
		    cc->cert);
	return 0;
}

/* Load one tls_certificate line into a new context of the set. */
static int
tls_server_add(struct tls_server *set, const struct tls_report *rep,
    const struct conf_listener *l, size_t i, time_t now)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_server_ctx_new(rep, l)) == NULL)
		return -1;
	set->ctxs[set->nctxs++] = ctx;		/* the set frees it */
	if (tls_cert_load(ctx, rep, "tls_certificate", &l->certs[i],
	    now) == -1)
		return -1;
	return tls_server_add_names(set, rep, ctx, &l->certs[i], l->ncerts);
}

/* Build a listener's certificate set; see tls.h. */
struct tls_server *
tls_server_new(const struct conf *conf, const struct conf_listener *l,
    time_t now, char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct tls_report	 rep;
	struct tls_server	*set;
	char			 sect[128];
	size_t			 i;

	tls_report_init(&rep, conf, err, errlen, warn, warnlen);
	snprintf(sect, sizeof(sect), "[listener %s]", l->name);
	if (l->ncerts == 0) {
		tls_fail(&rep, l->line, sect, "no tls_certificate");
		return NULL;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->ctxs = calloc(l->ncerts, sizeof(*set->ctxs))) == NULL) {
		free(set);
		tls_fail(&rep, l->line, sect, "out of memory");
		return NULL;
	}
	set->magic = TLS_SERVER_MAGIC;
	set->refs = 1;
	set->h2 = l->http2;
	if ((set->name = strdup(l->name)) == NULL ||
	    (set->tickets = tls_tickets_get(l->name)) == NULL) {
		tls_server_unref(set);
		tls_fail(&rep, l->line, sect, "out of memory");
		return NULL;
	}
	for (i = 0; i < l->ncerts; i++) {
		if (tls_server_add(set, &rep, l, i, now) == -1) {
			tls_server_unref(set);
			return NULL;
		}
	}
	SSL_CTX_set_tlsext_servername_callback(set->ctxs[0],
	    tls_server_sni_cb);
	return set;
}

/* Take a reference. */
void
tls_server_ref(struct tls_server *set)
{
	assert(set->magic == TLS_SERVER_MAGIC && set->refs > 0);
	__atomic_add_fetch(&set->refs, 1, __ATOMIC_RELAXED);
}

/* Drop a reference; the last frees the set. */
void
tls_server_unref(struct tls_server *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	assert(set->magic == TLS_SERVER_MAGIC && set->refs > 0);
	if (__atomic_sub_fetch(&set->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < set->nctxs; i++)
		SSL_CTX_free(set->ctxs[i]);
	for (i = 0; i < set->nsni; i++)
		free(set->sni[i].name);
	free(set->sni);
	free(set->ctxs);
	free(set->name);
	tls_tickets_unref(set->tickets);
	set->magic = 0;
	free(set);
}

/* A new server SSL holding a reference on set; see tls.h. */
SSL *
tls_server_ssl_new(struct tls_server *set)
{
	SSL	*ssl;
	int	 idx;

	assert(set->magic == TLS_SERVER_MAGIC);
	if ((idx = tls_server_ex_index()) == -1 ||
	    (ssl = SSL_new(set->ctxs[0])) == NULL)
		return NULL;
	tls_server_ref(set);
	if (SSL_set_ex_data(ssl, idx, set) != 1) {
		set->refs--;		/* never 0: the caller holds one */
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

/* Build and free a listener's set, for -t; see tls.h. */
int
tls_check_listener(const struct conf *conf, const struct conf_listener *l,
    time_t now, char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct tls_server	*set;

	if (l->ncerts == 0) {
		if (errlen > 0)
			err[0] = '\0';
		if (warnlen > 0)
			warn[0] = '\0';
		return 0;
	}
	if ((set = tls_server_new(conf, l, now, err, errlen, warn,
	    warnlen)) == NULL)
		return -1;
	tls_server_unref(set);
	return 0;
}
