/*
 * LD_PRELOAD shim for wrk, used by tls.sh: sees every TLS handshake wrk makes.
 *
 * wrk keeps each connection's SSL object across reconnects (SSL_shutdown,
 * SSL_clear, SSL_connect), and SSL_clear keeps the session of a cleanly
 * closed connection, so with "Connection: close" every new connection
 * resumes the previous one's session (a TLS 1.3 ticket or a TLS 1.2 ticket or
 * session id). wrk has no switch for that; this shim adds one and counts.
 *
 * Environment:
 *   WRK_TLS_NO_RESUME=1   drop the kept session before each handshake: every
 *                         connection makes a full handshake
 *   WRK_TLS_MAX=1.2       offer TLS 1.2 at most (default: what wrk offers)
 *   WRK_TLS_STATS=FILE    at exit, append one line to FILE:
 *     TLS handshakes=N resumed=N failed=N proto=P cipher=C group=G sig=S
 *   (proto .. sig: those of the last completed handshake; sig is the
 *   server's signature, none on a resumption)
 *
 * Build: cc -shared -fPIC -O2 -o wrk-tls.so wrk-tls.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/ssl.h>

static int		(*real_connect)(SSL *);
static unsigned long	 n_done, n_resumed, n_failed;
static int		 no_resume = -1, max_version;
static char		 proto[32] = "-", cipher[64] = "-", group[32] = "-",
			 sig[48] = "-";

static void
setup(void)
{
	const char	*s;

	real_connect = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
	s = getenv("WRK_TLS_NO_RESUME");
	no_resume = s != NULL && *s != '\0' && strcmp(s, "0") != 0;
	s = getenv("WRK_TLS_MAX");
	if (s != NULL && strcmp(s, "1.2") == 0)
		max_version = TLS1_2_VERSION;
	else if (s != NULL && strcmp(s, "1.3") == 0)
		max_version = TLS1_3_VERSION;
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL && *src != '\0' ? src : "-");
}

int
SSL_connect(SSL *s)
{
	int	r, nid, hash;

	if (no_resume == -1)
		setup();
	if (real_connect == NULL)
		return -1;
	/* wrk calls SSL_connect again after each WANT_READ/WRITE: touch the
	 * object only before its handshake starts. */
	if (SSL_in_before(s)) {
		if (no_resume)
			SSL_set_session(s, NULL);
		if (max_version != 0)
			SSL_set_max_proto_version(s, max_version);
	}
	r = real_connect(s);
	if (r == 1) {
		n_done++;
		if (SSL_session_reused(s))
			n_resumed++;
		copy(proto, sizeof(proto), SSL_get_version(s));
		copy(cipher, sizeof(cipher),
		    SSL_CIPHER_get_name(SSL_get_current_cipher(s)));
		nid = SSL_get_negotiated_group(s);
		copy(group, sizeof(group), nid > 0 &&
		    (nid & TLSEXT_nid_unknown) == 0 ? OBJ_nid2sn(nid) : NULL);
		if (SSL_session_reused(s))
			copy(sig, sizeof(sig), "none(resumed)");
		else if (SSL_get_peer_signature_type_nid(s, &nid) == 1 &&
		    SSL_get_peer_signature_nid(s, &hash) == 1)
			snprintf(sig, sizeof(sig), "%s+%s", OBJ_nid2sn(nid),
			    OBJ_nid2sn(hash));
	} else {
		switch (SSL_get_error(s, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			break;
		default:
			n_failed++;
		}
	}
	return r;
}

__attribute__((destructor)) static void
report(void)
{
	const char	*path = getenv("WRK_TLS_STATS");
	FILE		*fp;

	if (path == NULL || *path == '\0' || (fp = fopen(path, "a")) == NULL)
		return;
	fprintf(fp, "TLS handshakes=%lu resumed=%lu failed=%lu proto=%s "
	    "cipher=%s group=%s sig=%s\n", n_done, n_resumed, n_failed, proto,
	    cipher, group, sig);
	fclose(fp);
}
