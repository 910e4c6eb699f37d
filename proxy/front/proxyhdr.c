/*
 * proxyhdr: the PROXY protocol header in front of client connections (see
 * proxyhdr.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

#include "proxy/base/log.h"
#include "proxy/base/ptrmap.h"
#include "proxy/base/runtime.h"
#include "proxy/front/proxyhdr.h"
#include "proxy/http/proxyproto.h"

#define PROXYHDR_MAGIC	0x50524f58u	/* "PROX" */
#define PROXYHDR_MAX	65536		/* states kept, at most */
#define PROXYHDR_SWEEP_MS 200		/* how often deadlines are looked at */

/* One connection's header. */
struct proxyhdr {
	unsigned		 magic;
	struct bufferevent	*bev;		/* while the header is read */
	struct conf_cidrs	 trusted;	/* a copy: a reload may free
						 * the listener's */
	struct timeval		 timeout;	/* client_timeout */
	uint64_t		 deadline;	/* ms: client_timeout from the
						 * accept */
	int			 fd;		/* the socket, once seen
						 * (-1 before) ... */
	ino_t			 ino;		/* ... and its inode: the same
						 * fd with another inode is
						 * another connection */
	const void		*key;		/* in the map under it */
	char			 listener[64];
	char			 peer[INET6_ADDRSTRLEN];
	int			 checked;	/* the peer was looked at */
	int			 done;		/* the header was read */
	int			 failed;
	int			 busy;		/* inside our own callback */
	int			 named;		/* it named a client */
	char			 ip[INET6_ADDRSTRLEN];
	uint16_t		 port;
	unsigned long		 seq;		/* age, for reclaiming */
	/* plain: */
	struct evbuffer		*stash;		/* a partial header */
	struct evbuffer_cb_entry *cb;
	void			(*on_done)(struct bufferevent *,
				    const struct nulscan_limits *);
	struct nulscan_limits	 lim;		/* for on_done: a copy */
	/* TLS: the bytes read off the socket, header and beyond */
	unsigned char		 buf[PROXYPROTO_V2_MAX];
	size_t			 len, off;	/* buf[off..len) not given
						 * to TLS yet */
};

static __thread struct ptrmap	 map;	/* bufferevent -> state */
static __thread unsigned long	 seq;
static __thread struct log_limit lim;	/* refusals logged */
static __thread struct event	*sweep;	/* deadlines, while states live */

static void	proxyhdr_sweep_arm(void);

/* A state for a connection of l; NULL when out of memory. */
static struct proxyhdr *
proxyhdr_new(const struct conf_listener *l, struct bufferevent *bev)
{
	struct proxyhdr	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->magic = PROXYHDR_MAGIC;
	p->bev = bev;
	p->fd = -1;
	p->timeout = sluice_tv(l->client_timeout_ms);
	nulscan_limits_of(l, &p->lim);
	p->deadline = sluice_now_ms() + l->client_timeout_ms;
	snprintf(p->listener, sizeof(p->listener), "%s", l->name);
	if (l->trusted_proxies.n > 0) {
		p->trusted.v = calloc(l->trusted_proxies.n,
		    sizeof(*p->trusted.v));
		if (p->trusted.v == NULL) {
			free(p);
			return NULL;
		}
		memcpy(p->trusted.v, l->trusted_proxies.v,
		    l->trusted_proxies.n * sizeof(*p->trusted.v));
		p->trusted.n = l->trusted_proxies.n;
	}
	p->seq = ++seq;
	return p;
}

/* Free a state. */
static void
proxyhdr_free(struct proxyhdr *p)
{
	if (p == NULL)
		return;
	SLUICE_MAGIC_CHECK(p, PROXYHDR_MAGIC);
	if (p->key != NULL && ptrmap_get(&map, p->key) == p)
		ptrmap_del(&map, p->key);
	if (p->stash != NULL)
		evbuffer_free(p->stash);
	free(p->trusted.v);
	p->magic = 0;
	free(p);
}

/* Log a refusal: at most one line a second in each worker. */
static void
proxyhdr_log(struct proxyhdr *p, const char *why)
{
	unsigned long	held;

	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_warn("listener %s: connection from %s refused: PROXY "
		    "header: %s%s", p->listener, p->peer[0] != '\0' ?
		    p->peer : "-", why, held > 0 ? " (and more not logged)" :
		    "");
}

/* 1 when the peer on fd is one of the trusted proxies (noted in p). */
static int
proxyhdr_trusted(struct proxyhdr *p, int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	unsigned char		 a[16];
	const void		*src;
	int			 fam;
	struct stat		 st;

	p->checked = 1;
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
		return 0;
	if (fstat(fd, &st) == 0) {
		p->fd = fd;
		p->ino = st.st_ino;
	}
	src = ss.ss_family == AF_INET6 ?
	    (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
	    (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	if (inet_ntop(ss.ss_family, src, p->peer, sizeof(p->peer)) == NULL ||
	    conf_ip_parse(p->peer, strlen(p->peer), &fam, a) == -1)
		return 0;
	return conf_cidrs_match(&p->trusted, fam, a);
}

/* Keep what the header says of the client. */
static void
proxyhdr_take(struct proxyhdr *p, const struct proxyproto *pp)
{
	p->done = 1;
	if (pp->local || (pp->family != AF_INET && pp->family != AF_INET6))
		return;
	if (inet_ntop(pp->family, pp->src, p->ip, sizeof(p->ip)) == NULL)
		return;
	p->port = pp->sport;
	p->named = 1;
}

/*
 * The header must be whole by its deadline: the read timeout of the
 * connection's bufferevent becomes what is left of client_timeout (it
 * would restart at every byte otherwise); the sweep logs and closes
 * what is late.
 */
static void
proxyhdr_deadline(struct proxyhdr *p)
{
	uint64_t	now = sluice_now_ms();
	struct timeval	tv;

	tv = sluice_tv(p->deadline > now ? p->deadline - now +
	    PROXYHDR_SWEEP_MS : PROXYHDR_SWEEP_MS);
	bufferevent_set_timeouts(p->bev, &tv, &tv);
}

/* 1 when p's socket is still the one it saw (open, same inode). */
static int
proxyhdr_alive(const struct proxyhdr *p)
{
	struct stat	st;

	return p->fd >= 0 && fstat(p->fd, &st) == 0 && st.st_ino == p->ino;
}

/*
 * Every PROXYHDR_SWEEP_MS while states live: a header not complete by
 * its deadline is logged and its connection shut down (evhttp, or TLS,
 * then frees it); the states of connections gone are dropped.
 */
static void
proxyhdr_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxyhdr	*p;
	uint64_t	 now = sluice_now_ms();
	size_t		 i;
	int		 alive;

	for (i = 0; i < map.size; i++) {
		if ((p = map.slots[i].value) == NULL || now < p->deadline)
			continue;
		alive = proxyhdr_alive(p);
		if (!p->done && !p->failed && alive) {
			p->failed = 1;
			proxyhdr_log(p, "not complete within client_timeout");
			shutdown(p->fd, SHUT_RDWR);
		} else if (!alive && p->on_done != NULL) {
			/* a plain connection gone, or never heard from
			 * (evhttp's client_timeout ends those) */
			proxyhdr_free(p);
			i = (size_t)-1;		/* the table moved: again */
		}
		/* a TLS state goes with its SSL */
	}
	proxyhdr_sweep_arm();
}

/* Keep the sweep running while there are states. */
static void
proxyhdr_sweep_arm(void)
{
	struct timeval	tv = sluice_tv(PROXYHDR_SWEEP_MS);

	if (map.count == 0) {
		if (sweep != NULL)
			evtimer_del(sweep);
		return;
	}
	if (sweep == NULL && (sweep = evtimer_new(sluice_base,
	    proxyhdr_sweep_cb, NULL)) == NULL)
		return;
	if (!evtimer_pending(sweep, NULL))
		evtimer_add(sweep, &tv);
}

/*
 * Plain connections
 */

/* Refuse a plain connection: drained, shut down; evhttp sees EOF. */
static void
proxyhdr_plain_fail(struct proxyhdr *p, struct evbuffer *in,
    const char *why)
{
	evutil_socket_t	fd = bufferevent_getfd(p->bev);

	p->failed = 1;
	proxyhdr_log(p, why);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (fd != -1)
		shutdown(fd, SHUT_RDWR);
}

/*
 * Bytes arrived on a plain connection, before evhttp reads them: hold a
 * partial header back, drop a complete one.
 */
static void
proxyhdr_input_cb(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct bufferevent	*bev = arg;
	struct proxyhdr		*p = ptrmap_get(&map, bev);
	struct proxyproto	 pp;
	const unsigned char	*b;
	const char		*why = NULL;
	size_t			 n, used = 0;

	if (info->n_added == 0 || (p != NULL && (p->busy || p->done)))
		return;
	if (p == NULL || p->failed) {	/* reclaimed: never unchecked */
		evbuffer_drain(in, evbuffer_get_length(in));
		if (bufferevent_getfd(bev) != -1)
			shutdown(bufferevent_getfd(bev), SHUT_RDWR);
		return;
	}
	p->busy = 1;
	if (!p->checked && !proxyhdr_trusted(p, bufferevent_getfd(bev))) {
		proxyhdr_plain_fail(p, in, "the peer is not in "
		    "trusted_proxies");
		goto out;
	}
	if (p->stash != NULL && evbuffer_get_length(p->stash) > 0)
		evbuffer_prepend_buffer(in, p->stash);
	n = evbuffer_get_length(in);
	if (n > PROXYPROTO_V2_MAX)
		n = PROXYPROTO_V2_MAX;
	b = evbuffer_pullup(in, (ev_ssize_t)n);
	switch (proxyproto_parse(b, n, &pp, &used, &why)) {
	case PROXYPROTO_MORE:
		if ((p->stash == NULL && (p->stash = evbuffer_new()) ==
		    NULL) || evbuffer_add_buffer(p->stash, in) == -1) {
			proxyhdr_plain_fail(p, in, "out of memory");
			goto out;
		}
		proxyhdr_deadline(p);
		goto out;
	case PROXYPROTO_BAD:
		proxyhdr_plain_fail(p, in, why != NULL ? why : "malformed");
		goto out;
	case PROXYPROTO_OK:
		break;
	}
	evbuffer_drain(in, used);
	proxyhdr_take(p, &pp);
	/* evhttp's own timeouts again (what it set at the accept) */
	bufferevent_set_timeouts(bev, &p->timeout, &p->timeout);
	evbuffer_remove_cb_entry(in, p->cb);
	p->cb = NULL;
	p->bev = NULL;
	if (p->on_done != NULL)
		p->on_done(bev, &p->lim);
out:
	p->busy = 0;
}

/* Drop the oldest plain state (of a connection long gone, most likely). */
static void
proxyhdr_reclaim(void)
{
	struct proxyhdr	*p, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < map.size; i++)
		if ((p = map.slots[i].value) != NULL && p->on_done != NULL &&
		    (oldest == NULL || p->seq < oldest->seq))
			oldest = p;
	if (oldest != NULL)
		proxyhdr_free(oldest);	/* it leaves the map */
}

/* See proxyhdr.h. */
int
proxyhdr_plain(struct bufferevent *bev, const struct conf_listener *l,
    void (*done)(struct bufferevent *, const struct nulscan_limits *))
{
	struct proxyhdr	*p;

	/* a dead connection's bufferevent had this address */
	if ((p = ptrmap_del(&map, bev)) != NULL)
		proxyhdr_free(p);
	if (map.count >= PROXYHDR_MAX)
		proxyhdr_reclaim();
	if ((p = proxyhdr_new(l, bev)) == NULL)
		return -1;
	p->on_done = done;
	if (ptrmap_put(&map, bev, p) == -1) {
		proxyhdr_free(p);
		return -1;
	}
	p->key = bev;
	proxyhdr_sweep_arm();
	if ((p->cb = evbuffer_add_cb(bufferevent_get_input(bev),
	    proxyhdr_input_cb, bev)) == NULL) {
		ptrmap_del(&map, bev);
		proxyhdr_free(p);
		return -1;
	}
	return 0;
}

/*
 * TLS connections: a BIO under the SSL
 */

static CRYPTO_ONCE	 proxyhdr_once = CRYPTO_ONCE_STATIC_INIT;
static BIO_METHOD	*proxyhdr_method;
static int		 proxyhdr_type;
static int		 proxyhdr_ex = -1;	/* SSL ex_data: the state
						 * until the BIO has it */

/* Read the header off the next BIO, then pass the TLS bytes on. */
static int
proxyhdr_bio_read(BIO *bio, char *out, int outlen)
{
	struct proxyhdr		*p = BIO_get_data(bio);
	BIO			*next = BIO_next(bio);
	struct proxyproto	 pp;
	const char		*why = NULL;
	size_t			 used = 0, n;
	int			 r;

	BIO_clear_retry_flags(bio);
	if (p == NULL || next == NULL || outlen <= 0)
		return -1;
	while (!p->done) {
		if (p->failed)
			return -1;
		if (!p->checked && !proxyhdr_trusted(p, BIO_get_fd(next,
		    NULL))) {
			p->failed = 1;
			proxyhdr_log(p, "the peer is not in trusted_proxies");
			return -1;
		}
		switch (proxyproto_parse(p->buf, p->len, &pp, &used, &why)) {
		case PROXYPROTO_OK:
			proxyhdr_take(p, &pp);
			p->off = used;
			if (p->bev != NULL)
				bufferevent_set_timeouts(p->bev, &p->timeout,
				    &p->timeout);
			/* no deadline any more; the BIO keeps the state */
			if (ptrmap_get(&map, p->key) == p)
				ptrmap_del(&map, p->key);
			p->key = NULL;
			p->bev = NULL;
			continue;
		case PROXYPROTO_BAD:
			p->failed = 1;
			proxyhdr_log(p, why != NULL ? why : "malformed");
			return -1;
		case PROXYPROTO_MORE:
			break;
		}
		/* one byte past what it can be: the parser decides */
		r = BIO_read(next, p->buf + p->len,
		    (int)(sizeof(p->buf) - p->len));
		if (r <= 0) {
			BIO_copy_next_retry(bio);
			if (!BIO_should_retry(bio)) {
				p->failed = 1;
				proxyhdr_log(p, "the connection closed before "
				    "it was complete");
			} else if (p->bev != NULL)
				proxyhdr_deadline(p);
			return r;
		}
		p->len += (size_t)r;
	}
	if (p->off < p->len) {		/* TLS bytes read with the header */
		n = p->len - p->off;
		if (n > (size_t)outlen)
			n = (size_t)outlen;
		memcpy(out, p->buf + p->off, n);
		p->off += n;
		return (int)n;
	}
	r = BIO_read(next, out, outlen);
	BIO_copy_next_retry(bio);
	return r;
}

/* Writes go to the socket as they are. */
static int
proxyhdr_bio_write(BIO *bio, const char *in, int inlen)
{
	int	r;

	BIO_clear_retry_flags(bio);
	r = BIO_write(BIO_next(bio), in, inlen);
	BIO_copy_next_retry(bio);
	return r;
}

/* Controls are the socket's, but for what is buffered here. */
static long
proxyhdr_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct proxyhdr	*p = BIO_get_data(bio);
	BIO		*next = BIO_next(bio);

	if (next == NULL)
		return 0;
	if (cmd == BIO_CTRL_PENDING && p != NULL && p->done)
		return (long)(p->len - p->off) + BIO_ctrl(next, cmd, num,
		    ptr);
	return BIO_ctrl(next, cmd, num, ptr);
}

/* The state goes with the BIO. */
static int
proxyhdr_bio_destroy(BIO *bio)
{
	proxyhdr_free(BIO_get_data(bio));
	BIO_set_data(bio, NULL);
	return 1;
}

/* An SSL freed before its handshake started: its state goes too. */
static void
proxyhdr_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	proxyhdr_free(ptr);
}

/* Register the BIO method and the SSL slot, once per process. */
static void
proxyhdr_init(void)
{
	BIO_METHOD	*m;
	int		 type = BIO_get_new_index();

	proxyhdr_ex = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    proxyhdr_ex_free);
	if (type == -1 || (m = BIO_meth_new(type | BIO_TYPE_FILTER,
	    "sluice PROXY header")) == NULL)
		return;
	BIO_meth_set_read(m, proxyhdr_bio_read);
	BIO_meth_set_write(m, proxyhdr_bio_write);
	BIO_meth_set_ctrl(m, proxyhdr_bio_ctrl);
	BIO_meth_set_destroy(m, proxyhdr_bio_destroy);
	proxyhdr_type = type | BIO_TYPE_FILTER;
	proxyhdr_method = m;
}

/*
 * The handshake starts: push the header's BIO over the socket BIO the
 * bufferevent gave the SSL, on the read side only.
 */
static void
proxyhdr_info_cb(const SSL *cssl, int where, int ret)
{
	SSL		*ssl = (SSL *)(uintptr_t)cssl;
	struct proxyhdr	*p;
	BIO		*sock, *f;
	void		(*ctx_cb)(const SSL *, int, int);

	/* the context's own callback (client certificates) still runs */
	if ((ctx_cb = SSL_CTX_get_info_callback(SSL_get_SSL_CTX(ssl))) !=
	    NULL)
		ctx_cb(cssl, where, ret);
	if (!(where & SSL_CB_HANDSHAKE_START) ||
	    (p = SSL_get_ex_data(ssl, proxyhdr_ex)) == NULL)
		return;
	SSL_set_ex_data(ssl, proxyhdr_ex, NULL);
	if ((sock = SSL_get_rbio(ssl)) == NULL ||
	    (f = BIO_new(proxyhdr_method)) == NULL) {
		proxyhdr_free(p);	/* the handshake then reads TLS */
		return;
	}
	BIO_set_data(f, p);
	BIO_set_init(f, 1);
	/* the read side's reference goes to the chain */
	BIO_up_ref(sock);
	BIO_push(f, sock);
	SSL_set0_rbio(ssl, f);
}

/* See proxyhdr.h. */
int
proxyhdr_tls(SSL *ssl, struct bufferevent *bev, const struct conf_listener *l)
{
	struct proxyhdr	*p;

	if (CRYPTO_THREAD_run_once(&proxyhdr_once, proxyhdr_init) != 1 ||
	    proxyhdr_method == NULL || proxyhdr_ex == -1)
		return -1;
	if ((p = ptrmap_del(&map, bev)) != NULL)
		proxyhdr_free(p);	/* a dead one's address */
	if (map.count >= PROXYHDR_MAX)
		proxyhdr_reclaim();
	if ((p = proxyhdr_new(l, bev)) == NULL)
		return -1;
	if (SSL_set_ex_data(ssl, proxyhdr_ex, p) != 1 ||
	    ptrmap_put(&map, bev, p) == -1) {
		SSL_set_ex_data(ssl, proxyhdr_ex, NULL);
		proxyhdr_free(p);
		return -1;
	}
	p->key = bev;
	proxyhdr_sweep_arm();
	SSL_set_info_callback(ssl, proxyhdr_info_cb);
	return 0;
}

/* See proxyhdr.h. */
int
proxyhdr_client(struct bufferevent *bev, char ip[INET6_ADDRSTRLEN],
    uint16_t *port)
{
	struct proxyhdr	*p;
	SSL		*ssl;
	BIO		*rbio;
	int		 named = 0;

	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL) {
		rbio = SSL_get_rbio(ssl);
		if (rbio == NULL || proxyhdr_method == NULL ||
		    BIO_method_type(rbio) != proxyhdr_type ||
		    (p = BIO_get_data(rbio)) == NULL)
			return 0;
	} else if ((p = ptrmap_get(&map, bev)) == NULL || p->on_done == NULL)
		return 0;
	if (p->done && p->named) {
		memcpy(ip, p->ip, INET6_ADDRSTRLEN);
		*port = p->port;
		named = 1;
	}
	if (ssl == NULL)
		proxyhdr_free(p);
	return named;
}

/* See proxyhdr.h. */
void
proxyhdr_map_free(void)
{
	size_t	i;

	struct proxyhdr	*p;

	for (i = 0; i < map.size; i++)
		if ((p = map.slots[i].value) != NULL) {
			p->key = NULL;
			if (p->on_done != NULL)
				proxyhdr_free(p);
		}
	ptrmap_free(&map);
	if (sweep != NULL) {
		event_free(sweep);
		sweep = NULL;
	}
}
