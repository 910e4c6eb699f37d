/*
 * ticket.c: the session-ticket keys of the listeners (struct tls_tickets).
 *
 * OpenSSL would give every SSL_CTX random ticket keys of its own, kept for
 * the context's life: a reload (new contexts) would end every client's
 * resumption, and the keys would never change while the process runs. Here
 * each listener name has one store of two keys, the current one, which
 * seals every new ticket, and the previous one, which still opens tickets
 * (they are then renewed under the current one). Every context of every
 * certificate set built for that listener, in every generation, uses the
 * same store, so a ticket resumes on any worker and across reloads;
 * another listener's store cannot open it (its client-certificate rules
 * may differ). tls_tickets_rotate makes a new current key in every store;
 * the previous one is then zeroed and forgotten, so a ticket resumes for
 * between one and two rotation intervals.
 *
 * Threads: the registry is under a mutex (stores are found and dropped by
 * the main thread's builds, rotated by its timer); each store has a mutex
 * of its own, held by the handshakes of every worker only to copy a key.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tls/tls.h"
#include "tls/tls_local.h"

#define TLS_TICKET_NAME_LEN	16	/* OpenSSL's key_name */
#define TLS_TICKET_AES_LEN	32	/* AES-256-CBC */
#define TLS_TICKET_HMAC_LEN	32	/* HMAC-SHA256 */

/* One ticket key: its name (sent in the ticket), cipher and MAC keys. */
struct tls_ticket_key {
	unsigned char	 name[TLS_TICKET_NAME_LEN];
	unsigned char	 aes[TLS_TICKET_AES_LEN];
	unsigned char	 hmac[TLS_TICKET_HMAC_LEN];
};

struct tls_tickets {
	char			*listener;
	int			 refs;		/* under tls_tickets_mu: the
						 * certificate sets of the
						 * listener */
	pthread_mutex_t		 mu;		/* the keys */
	struct tls_ticket_key	 cur;
	struct tls_ticket_key	 prev;
	int			 has_prev;
	struct tls_tickets	*next;		/* the registry */
};

static pthread_mutex_t		 tls_tickets_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tls_tickets	*tls_tickets_all;	/* under the mutex */
static uint64_t			 tls_tickets_nrotations; /* atomic */

/* Fill k with fresh random bytes; -1 when the generator fails. */
static int
tls_ticket_key_new(struct tls_ticket_key *k)
{
	if (RAND_bytes((unsigned char *)k, (int)sizeof(*k)) != 1) {
		OPENSSL_cleanse(k, sizeof(*k));
		return -1;
	}
	return 0;
}

/* See tls_local.h. */
struct tls_tickets *
tls_tickets_get(const char *listener)
{
	struct tls_tickets	*t;

	pthread_mutex_lock(&tls_tickets_mu);
	for (t = tls_tickets_all; t != NULL; t = t->next)
		if (strcmp(t->listener, listener) == 0)
			break;
	if (t != NULL) {
		t->refs++;
		pthread_mutex_unlock(&tls_tickets_mu);
		return t;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->listener = strdup(listener)) == NULL ||
	    tls_ticket_key_new(&t->cur) == -1) {
		pthread_mutex_unlock(&tls_tickets_mu);
		if (t != NULL)
			free(t->listener);
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->refs = 1;
	t->next = tls_tickets_all;
	tls_tickets_all = t;
	pthread_mutex_unlock(&tls_tickets_mu);
	return t;
}

/* See tls_local.h. */
void
tls_tickets_unref(struct tls_tickets *t)
{
	struct tls_tickets	**pp;

	if (t == NULL)
		return;
	pthread_mutex_lock(&tls_tickets_mu);
	if (--t->refs > 0) {
		pthread_mutex_unlock(&tls_tickets_mu);
		return;
	}
	for (pp = &tls_tickets_all; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	pthread_mutex_unlock(&tls_tickets_mu);
	OPENSSL_cleanse(&t->cur, sizeof(t->cur));
	OPENSSL_cleanse(&t->prev, sizeof(t->prev));
	pthread_mutex_destroy(&t->mu);
	free(t->listener);
	free(t);
}

/* A new current key for t; the previous one is zeroed. -1: no new key. */
static int
tls_tickets_rotate_one(struct tls_tickets *t)
{
	struct tls_ticket_key	 k;

	if (tls_ticket_key_new(&k) == -1)
		return -1;
	pthread_mutex_lock(&t->mu);
	t->prev = t->cur;
	t->cur = k;
	t->has_prev = 1;
	pthread_mutex_unlock(&t->mu);
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

/* See tls.h. */
int
tls_tickets_rotate(void)
{
	struct tls_tickets	*t;
	int			 r = 0;

	pthread_mutex_lock(&tls_tickets_mu);
	for (t = tls_tickets_all; t != NULL; t = t->next)
		if (tls_tickets_rotate_one(t) == -1)
			r = -1;
	pthread_mutex_unlock(&tls_tickets_mu);
	__atomic_add_fetch(&tls_tickets_nrotations, 1, __ATOMIC_RELAXED);
	return r;
}

/* See tls.h. */
uint64_t
tls_tickets_rotations(void)
{
	return __atomic_load_n(&tls_tickets_nrotations, __ATOMIC_RELAXED);
}

/* Key the HMAC of a ticket with k. 1, or -1. */
static int
tls_ticket_mac_init(EVP_MAC_CTX *hctx, struct tls_ticket_key *k)
{
	OSSL_PARAM	 params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params) == 1 ? 1 : -1;
}

/*
 * Which key of t opens a ticket named name: 1 the current one, 2 the
 * previous one (the ticket is then renewed), 0 none; a copy into *k.
 */
static int
tls_tickets_find(struct tls_tickets *t, const unsigned char *name,
    struct tls_ticket_key *k)
{
	int	 r = 0;

	pthread_mutex_lock(&t->mu);
	if (memcmp(name, t->cur.name, TLS_TICKET_NAME_LEN) == 0) {
		*k = t->cur;
		r = 1;
	} else if (t->has_prev &&
	    memcmp(name, t->prev.name, TLS_TICKET_NAME_LEN) == 0) {
		*k = t->prev;
		r = 2;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

/* Seal a new ticket with the current key. 1, or -1. */
static int
tls_ticket_seal(struct tls_tickets *t, unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	struct tls_ticket_key	 k;
	int			 r = -1;

	pthread_mutex_lock(&t->mu);
	k = t->cur;
	pthread_mutex_unlock(&t->mu);
	memcpy(name, k.name, TLS_TICKET_NAME_LEN);
	if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) ==
	    1 && EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes,
	    iv) == 1)
		r = tls_ticket_mac_init(hctx, &k);
	OPENSSL_cleanse(&k, sizeof(k));
	return r;
}

/* Open a ticket: 1 or 2 (renew it), 0 for an unknown key, -1. */
static int
tls_ticket_open(struct tls_tickets *t, const unsigned char *name,
    const unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	struct tls_ticket_key	 k;
	int			 r;

	if ((r = tls_tickets_find(t, name, &k)) == 0)
		return 0;
	if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes,
	    iv) != 1 || tls_ticket_mac_init(hctx, &k) == -1)
		r = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return r;
}

/* See tls_local.h. */
int
tls_tickets_cb(SSL *ssl, struct tls_tickets *t, unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	int	 r;

	if (t == NULL)
		return 0;	/* no ticket, or a full handshake */
	if (enc)
		return tls_ticket_seal(t, name, iv, cctx, hctx);
	r = tls_ticket_open(t, name, iv, cctx, hctx);
	/*
	 * TLS 1.3: "renew", as OpenSSL's own keys answer; with "use as is"
	 * the tickets OpenSSL 3.0 sent on the resumed connection did not
	 * resume again (check_tls's test_client_resume).
	 */
	if (r == 1 && SSL_version(ssl) == TLS1_3_VERSION)
		r = 2;
	return r;
}
