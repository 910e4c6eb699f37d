/*
 * exchange: one request through the proxy.
 *
 * It reads the request and answers the client only through its front
 * (front/front.h), HTTP/1.1 on evhttp or HTTP/2.
 *
 * Re-entrancy rule: the front's end and cut may call back into
 * exchange_finish() before they return, so in every function here such a
 * call is the last thing that touches the exchange.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/rewrite.h"
#include "proxy/tunnel.h"
#include "proxy/back/server.h"
#include "proxy/back/upconn.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "proxy/base/logjson.h"
#include "proxy/base/metrics.h"
#include "proxy/base/runtime.h"
#include "proxy/base/version.h"
#include "proxy/base/worker.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/front.h"
#include "proxy/front/nulscan.h"
#include "proxy/http/cookie.h"
#include "proxy/http/headers.h"
#include "proxy/http/http1.h"
#include "proxy/http/uri.h"

#define EXCHANGE_MAGIC		0x45584348u	/* "EXCH" */
#define EXCHANGE_MAX_REASON	128
#define EXCHANGE_HOST_MAX	256		/* a routing host, NUL too */
#define EXCHANGE_STICKY_MAX	24		/* a sticky value, NUL too */
#define EXCHANGE_LOG_LINE	4096		/* an access-log line, NUL in */
#define EXCHANGE_LOG_TARGET_MAX	EXCHANGE_LOG_LINE /* a target kept for it */
#define EXCHANGE_REQLINE_TARGET	512		/* of it, in the text line */
/* The text request line: a method, the target escaped, " HTTP/x.y". */
#define EXCHANGE_REQLINE_MAX	(4 * EXCHANGE_REQLINE_TARGET + 32)
#define EXCHANGE_JSON_NAME	256		/* a name in a JSON line */
/* What the JSON line keeps for the fields after the target. */
#define EXCHANGE_JSON_TAIL	(2 * EXCHANGE_JSON_NAME + \
				LOGJSON_ESC_MAX * REWRITE_ID_MAX + 400)

struct exchange {
	unsigned		 magic;
	struct front		 fr;		/* the client side */
	struct gen		*gen;		/* referenced */
	const struct gen_listener *gl;		/* its listener (in gen) */
	const char		*lname;		/* listener name (in gen) */
	uint64_t		 client_timeout_ms;
	struct upstream_hold	 hold;		/* its server, while busy */
	struct upstream_wait	*wait;		/* in the queue; NULL: not */
	struct event		*queue_ev;	/* queue_timeout */
	struct gen		*upgen;		/* referenced: up's, when a
						 * reload moved it in the
						 * queue; NULL: gen's */
	struct server		*srv;		/* hold.srv, for short */
	struct upconn		*uc;
	struct upstream		*up;		/* routed to (in gen) */
	const struct gen_route	*route;		/* routed by (in gen) */
	const char		*method;	/* static; NULL: not one we
						 * forward */
	char			*target;	/* the normalised target
						 * (malloc'd) */
	const char		*fwd_target;	/* what the server gets: in
						 * target, the prefix
						 * stripped */
	struct evbuffer		*reqbuf;	/* the upstream request, kept
						 * while a retry may need it */
	size_t			 headlen;	/* its head's bytes */
	int			 tries_left;
	int			 retried;	/* this is a retry */
	int			 idempotent;
	const char		*upgrade;	/* Upgrade asked for (in req) */
	struct tunnel		*tun;		/* after a 101 */
	uint64_t		 id;		/* in its log lines */
	enum exchange_state	 state;
	enum exchange_phase	 phase;		/* where it is now */
	enum exchange_who	 term_who;	/* how it ended: the first */
	enum exchange_phase	 term_phase;	/* termination recorded */
	int			 paused;
	int			 head_request;
	int			 status;
	uint64_t		 bytes;		/* response body bytes */
	struct timespec		 t_start;
	struct timespec		 t_queue_start;	/* zero: never queued */
	struct timespec		 t_queue_end;
	struct timespec		 t_up_start;
	struct timespec		 t_up_end;
	char			*logtarget;	/* the target as received, for
						 * the logs (malloc'd; at most
						 * EXCHANGE_LOG_TARGET_MAX) */
	size_t			 logtargetlen;
	int			 logtargetcut;	/* longer than that */
	unsigned char		 http_major;	/* the request's version */
	unsigned char		 http_minor;
	char			 host[EXCHANGE_HOST_MAX]; /* routing host,
						 * lower-case, no port; ""
						 * none */
	char			 reqid[REWRITE_ID_MAX + 1]; /* "": none */
	char			 addr[INET6_ADDRSTRLEN]; /* the client's
						 * address: the peer's, or
						 * from X-Forwarded-For
						 * after trusted proxies */
	int			 trusted;	/* the peer is a trusted
						 * proxy */
	int			 redirected;	/* a redirect listener's
						 * answer: TERM "redirect" */
	char			 sticky[EXCHANGE_STICKY_MAX]; /* the sticky
						 * cookie's value sent; "" */
	TAILQ_ENTRY(exchange)	 entry;
};

TAILQ_HEAD(exchange_list, exchange);

#define EXCHANGE_FIELDS		64	/* header fields viewed on the stack */

/* A request's header fields as the pure http/ code reads them. */
struct exchange_fields {
	struct http1_field	 buf[EXCHANGE_FIELDS];
	struct http1_field	*f;		/* buf, or malloc'd */
	size_t			 n;
};

static const char *state_names[] = {
	"routing", "queued", "upstream", "streaming", "tunnel", "answered",
	"closing",
};

/* The phase of the termination code an exchange in each state gets. */
static const enum exchange_phase state_phase[] = {
	EXCHANGE_PHASE_REQUEST, EXCHANGE_PHASE_QUEUE, EXCHANGE_PHASE_HEADERS,
	EXCHANGE_PHASE_BODY, EXCHANGE_PHASE_BODY, EXCHANGE_PHASE_REQUEST,
	EXCHANGE_PHASE_BODY,
};

/* This worker's exchanges; the counts are over every worker. */
static __thread struct exchange_list	 exchanges;
static unsigned				 nexchanges;		/* atomic */
static uint64_t				 next_id;		/* atomic */
static uint64_t				 nfinished, nkilled;	/* atomic */
static int				 closing;		/* atomic */
static void				(*idle_cb)(void);

static void	exchange_up_head(void *, const struct http1_response *);
static void	exchange_up_body(void *, struct evbuffer *);
static void	exchange_up_done(void *, int);
static void	exchange_up_error(void *, enum upconn_error, const char *);
static void	exchange_up_upgraded(void *);
static void	exchange_tunnel_done(void *, enum tunnel_end);
static void	exchange_cut(struct exchange *, enum exchange_who);
static int	exchange_send(struct exchange *);
static int	exchange_rebuild(struct exchange *);

static const struct upconn_cbs exchange_up_cbs = {
	exchange_up_head, exchange_up_body, exchange_up_done,
	exchange_up_error, exchange_up_upgraded,
};

static const char *who_names[] = {
	"ok", "client", "server", "proxy", "timeout", "drain", "killed",
};
static const char *phase_names[] = {
	"request", "queue", "connect", "headers", "body",
};

/*
 * View the header fields of q as an array (into x->buf, or a malloc'd
 * array past its size). -1 when out of memory. Valid until q changes.
 */
static int
exchange_fields(const struct evkeyvalq *q, struct exchange_fields *x)
{
	const struct evkeyval	*kv;
	size_t			 n = 0;

	TAILQ_FOREACH(kv, q, next)
		n++;
	x->f = x->buf;
	if (n > EXCHANGE_FIELDS && (x->f = calloc(n, sizeof(*x->f))) == NULL)
		return -1;
	x->n = 0;
	TAILQ_FOREACH(kv, q, next) {
		x->f[x->n].name = kv->key;
		x->f[x->n++].value = kv->value;
	}
	return 0;
}

/* Free what exchange_fields allocated. */
static void
exchange_fields_free(struct exchange_fields *x)
{
	if (x->f != x->buf)
		free(x->f);
	x->f = NULL;
}

/* 1 when a header called name of q (any of its lines) lists token. */
static int
exchange_list_has(const struct evkeyvalq *q, const char *name,
    const char *token)
{
	const struct evkeyval	*kv;

	TAILQ_FOREACH(kv, q, next)
		if (strcasecmp(kv->key, name) == 0 &&
		    http1_list_has(kv->value, token))
			return 1;
	return 0;
}

/* What the variables of header rules stand for in ex. */
static void
exchange_vars(const struct exchange *ex, struct rewrite_vars *vars)
{
	vars->val[CONF_VAR_TEXT] = NULL;
	vars->val[CONF_VAR_REMOTE_ADDR] = ex->addr;
	vars->val[CONF_VAR_SCHEME] = clientconn_tls(ex->fr.client) ? "https" :
	    "http";
	vars->val[CONF_VAR_HOST] = ex->host;
	vars->val[CONF_VAR_REQUEST_ID] = ex->reqid;
	vars->val[CONF_VAR_SERVER] = ex->srv != NULL ? ex->srv->name : NULL;
	vars->val[CONF_VAR_TLS_CLIENT_SUBJECT] =
	    clientconn_tls_subject(ex->fr.client);
	vars->val[CONF_VAR_TLS_CLIENT_FINGERPRINT] =
	    clientconn_tls_fp(ex->fr.client) != NULL ?
	    clientconn_tls_fp(ex->fr.client) : "";
}

/*
 * The Host sent to ex's server instead of the client's (host = server or
 * NAME), in buf when it is made; NULL for host = pass.
 */
static const char *
exchange_host_out(const struct exchange *ex, char *buf, size_t size)
{
	const struct conf_upstream	*cu = ex->up->conf;
	const char			*a = ex->srv->addrtext, *colon;

	if (cu->host_mode == CONF_HOST_NAME)
		return cu->host_name;
	if (cu->host_mode != CONF_HOST_SERVER)
		return NULL;
	/* the port a client leaves out for this scheme */
	colon = strrchr(a, ':');
	if (colon != NULL && strcmp(colon + 1, cu->tls ? "443" : "80") == 0) {
		snprintf(buf, size, "%.*s", (int)(colon - a), a);
		return buf;
	}
	return a;
}

/* The response rules of ex: the upstream's (when routed), the listener's. */
static void
exchange_response_rules(const struct exchange *ex, struct rewrite_rules *rr,
    struct rewrite_vars *vars)
{
	rr->n = 0;
	if (ex->up != NULL && ex->up->conf->response_headers.n > 0)
		rr->list[rr->n++] = &ex->up->conf->response_headers;
	if (ex->gl->conf->response_headers.n > 0)
		rr->list[rr->n++] = &ex->gl->conf->response_headers;
	rr->vars = vars;
	if (rr->n > 0)
		exchange_vars(ex, vars);
}

/*
 * What sluice puts on an answer of its own (an error, the OPTIONS answer):
 * the request ID, then the response rules. -1 when out of memory.
 */
static int
exchange_answer_edit(struct exchange *ex)
{
	struct evkeyvalq	*out = ex->fr.out;
	struct rewrite_rules	 rr;
	struct rewrite_vars	 vars;

	if (ex->reqid[0] != '\0' && evhttp_add_header(out,
	    ex->gl->conf->request_id, ex->reqid) == -1)
		return -1;
	exchange_response_rules(ex, &rr, &vars);
	return rr.n > 0 ? rewrite_apply_q(&rr, out) : 0;
}

/*
 * A server's response headers reach the client through evhttp, which
 * keeps each in a list entry of three allocations and writes each with a
 * printf of its own: most of what a response head cost sluice. The
 * headers evhttp never looks for are packed instead into one entry:
 * key "Name1", value "v1\r\nName2: v2\r\n...NameN: vN", which evhttp
 * writes as it writes any ("%s: %s\r\n"), so the client gets the same
 * lines. evhttp looks for Content-Length, Transfer-Encoding, Connection
 * and Proxy-Connection (framing) and Date (it adds one when there is
 * none); Content-Type is not looked for (no default content type is set).
 * Content-Length stays an entry of its own, the framing ones never come
 * from a server (hop-by-hop), and Date, when it comes, leads the pack so
 * that the pack's key is "Date". A value holds no CR or LF
 * (http1_response_parse refuses them), so nothing can be smuggled into
 * the head. Not used when the server's URLs are rewritten (rewrite_urls
 * edits the entries it finds). libevent frees an entry's key, value and
 * the entry itself with free(): sluice sets no event_set_mem_functions.
 */
struct exchange_pack {
	char	*key;		/* NULL: nothing packed yet */
	char	*val;		/* room for the whole head */
	size_t	 len;		/* of val */
};

/* What a server's response copied to the client leaves out. */
struct exchange_keep {
	const struct exchange		*ex;
	const struct rewrite_rules	*rr;
	struct evkeyvalq		*out;
	struct exchange_pack		*pk;	/* NULL: an entry each */
};

/* Append n bytes of p to pk's value (it has room: exchange_pack_start). */
static void
exchange_pack_put(struct exchange_pack *pk, const char *p, size_t n)
{
	memcpy(pk->val + pk->len, p, n);
	pk->len += n;
	pk->val[pk->len] = '\0';
}

/* Pack one header; 0, or -1 when out of memory. */
static int
exchange_pack_add(struct exchange_pack *pk, const char *name,
    const char *value)
{
	size_t	 vl = strlen(value), kl;
	char	*key;

	if (pk->key == NULL) {
		if ((pk->key = strdup(name)) == NULL)
			return -1;
		exchange_pack_put(pk, value, vl);
		return 0;
	}
	if (strcasecmp(name, "Date") != 0 || strcasecmp(pk->key, "Date") == 0) {
		exchange_pack_put(pk, "\r\n", 2);
		exchange_pack_put(pk, name, strlen(name));
		exchange_pack_put(pk, ": ", 2);
		exchange_pack_put(pk, value, vl);
		return 0;
	}
	/* Date leads: "vDate\r\nKey: val" */
	if ((key = strdup(name)) == NULL)
		return -1;
	kl = strlen(pk->key);
	memmove(pk->val + vl + 2 + kl + 2, pk->val, pk->len + 1);
	memcpy(pk->val, value, vl);
	memcpy(pk->val + vl, "\r\n", 2);
	memcpy(pk->val + vl + 2, pk->key, kl);
	memcpy(pk->val + vl + 2 + kl, ": ", 2);
	pk->len += vl + 2 + kl + 2;
	free(pk->key);
	pk->key = key;
	return 0;
}

/*
 * Room for every header of r packed ("\r\n", ": " and a NUL each);
 * -1 when out of memory.
 */
static int
exchange_pack_start(struct exchange_pack *pk, const struct http1_response *r)
{
	size_t	i, n = 1;

	for (i = 0; i < r->nheaders; i++)
		n += r->headers[i].namelen + r->headers[i].valuelen + 4;
	pk->key = NULL;
	pk->len = 0;
	if ((pk->val = malloc(n)) == NULL)
		return -1;
	pk->val[0] = '\0';
	return 0;
}

/*
 * Put the pack into q as one entry, ahead of the entries made so far
 * (Content-Length), or free it (an error, or nothing in it).
 */
static int
exchange_pack_end(struct exchange_pack *pk, struct evkeyvalq *q, int ok)
{
	struct evkeyval	*kv = NULL;
	int		 rc;

	if (!ok || pk->key == NULL || (kv = calloc(1, sizeof(*kv))) == NULL) {
		rc = ok && pk->key != NULL ? -1 : 0;
		free(pk->key);
		free(pk->val);
		return rc;
	}
	kv->key = pk->key;
	kv->value = pk->val;
	TAILQ_INSERT_HEAD(q, kv, next);	/* where the server's headers were */
	return 0;
}

/*
 * A headers_out's keep: the server's request ID header (sluice puts its
 * own) and what the response rules remove or replace stay out.
 */
static int
exchange_keep(void *arg, const char *name, size_t len)
{
	const struct exchange_keep	*k = arg;
	const char			*id = k->ex->gl->conf->request_id;

	if (k->ex->reqid[0] != '\0' && strlen(id) == len &&
	    strncasecmp(id, name, len) == 0)
		return 0;
	return k->rr->n == 0 || rewrite_keeps(k->rr, name, len);
}

/* A headers_out's add, into evhttp's output headers. */
static int
exchange_keep_add(void *arg, const char *name, const char *value)
{
	struct exchange_keep	*k = arg;

	if (k->pk != NULL && strcasecmp(name, "Content-Length") != 0)
		return exchange_pack_add(k->pk, name, value);
	return evhttp_add_header(k->out, name, value);
}

/* 1 when Set-Cookie paths are rewritten (a stripped route prefix). */
static int
exchange_cookie_paths(const struct exchange *ex)
{
	return ex->up->conf->rewrite_cookie_path && ex->route->strip &&
	    ex->route->prefixlen > 0;
}

/* 1 when the response has a header rewrite_urls may change. */
static int
exchange_has_urls(const struct http1_response *r, int location, int cookie)
{
	const struct http1_header	*h;
	size_t				 i;

	for (i = 0; i < r->nheaders; i++) {
		h = &r->headers[i];
		switch (h->namelen) {
		case 7:
		case 8:
		case 16:
			if (location && (strncasecmp(h->name, "Location",
			    h->namelen) == 0 || strncasecmp(h->name,
			    "Content-Location", h->namelen) == 0 ||
			    strncasecmp(h->name, "Refresh", h->namelen) == 0))
				return 1;
			break;
		case 10:
			if (cookie && strncasecmp(h->name, "Set-Cookie",
			    10) == 0)
				return 1;
			break;
		}
	}
	return 0;
}

/*
 * Point the server's Location, Content-Location, Refresh and Set-Cookie
 * paths at the client's side (rewrite_location, rewrite_cookie_path). The
 * names the server goes by: its address, the host on its server line, the
 * upstream's host = NAME, and the Host sent to it. Only for a response
 * that has one of them (exchange_has_urls). -1 when out of memory.
 */
static int
exchange_response_urls(struct exchange *ex)
{
	const struct conf_upstream	*cu = ex->up->conf;
	struct evkeyvalq		*in;
	struct uri_outside		 o;
	struct uri_self			 self[4];
	char				 ip[INET6_ADDRSTRLEN + 2];
	char				 hostbuf[EXCHANGE_HOST_MAX];
	const char			*sent;
	int				 cookie;

	cookie = exchange_cookie_paths(ex);
	in = ex->fr.in;
	o.scheme = clientconn_tls(ex->fr.client) ? "https" : "http";
	o.host = evhttp_find_header(in, "Host");
	o.prefix = ex->route->strip ? ex->route->prefix : "";
	o.prefixlen = ex->route->strip ? ex->route->prefixlen : 0;
	o.self = self;
	o.nself = 0;
	if (uri_self_parse(ex->srv->addrtext, &self[1]) == 0) {
		const void *a = ex->srv->ss.ss_family == AF_INET6 ?
		    (const void *)&((const struct sockaddr_in6 *)
		    &ex->srv->ss)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)
		    &ex->srv->ss)->sin_addr;
		int	 v6 = ex->srv->ss.ss_family == AF_INET6;

		ip[0] = '[';
		if (inet_ntop(ex->srv->ss.ss_family, a, ip + 1,
		    sizeof(ip) - 2) != NULL) {
			if (v6)
				strcat(ip, "]");
			self[0].host = v6 ? ip : ip + 1;
			self[0].hostlen = strlen(self[0].host);
			self[0].port = self[1].port;
			o.nself = 2;
		} else {
			self[0] = self[1];
			o.nself = 1;
		}
	}
	if (cu->host_mode == CONF_HOST_NAME &&
	    uri_self_parse(cu->host_name, &self[o.nself]) == 0)
		o.nself++;
	if ((sent = exchange_host_out(ex, hostbuf, sizeof(hostbuf))) == NULL)
		sent = o.host != NULL ? o.host : ex->srv->addrtext;
	if (uri_self_parse(sent, &self[o.nself]) == 0)
		o.nself++;
	return rewrite_urls(ex->fr.out, &o,
	    cu->rewrite_location, cookie);
}

/*
 * Sticky sessions: a response to a request without a valid cookie for
 * the server that answered (none, an old or forged one, or one whose
 * server its sessions left) pins the client to that server. -1 when out
 * of memory.
 */
static int
exchange_sticky_set(struct exchange *ex, struct evkeyvalq *q,
    const struct rewrite_rules *rr)
{
	static const char *const	 samesite[] = { "", "; SameSite=Lax",
					    "; SameSite=Strict",
					    "; SameSite=None" };
	const struct conf_upstream	*cu = ex->up->conf;
	const char			*id;
	char				 v[512], age[40] = "";

	if (cu->sticky_cookie == NULL)
		return 0;
	id = upstream_sticky_id(&ex->hold);
	if (strcmp(ex->sticky, id) == 0 ||
	    (rr->n > 0 && !rewrite_keeps(rr, "Set-Cookie", 10)))
		return 0;
	if (cu->sticky_max_age_ms > 0)
		snprintf(age, sizeof(age), "; Max-Age=%llu",
		    (unsigned long long)((cu->sticky_max_age_ms + 999) / 1000));
	snprintf(v, sizeof(v), "%s=%s; Path=/%s%s%s%s", cu->sticky_cookie, id,
	    age, cu->sticky_secure ? "; Secure" : "",
	    cu->sticky_httponly ? "; HttpOnly" : "",
	    samesite[cu->sticky_samesite]);
	return evhttp_add_header(q, "Set-Cookie", v);
}

/*
 * Copy the end-to-end headers of r into the client's response, with the
 * server's URLs pointed back at the client, then the request ID and what
 * the response rules add; what the rules remove or replace is never
 * copied.
 */
static int
exchange_response_headers(struct exchange *ex, const struct http1_response *r)
{
	struct evkeyvalq	*q = ex->fr.out;
	struct headers_out	 out;
	struct exchange_keep	 k;
	struct exchange_pack	 pk;
	struct rewrite_rules	 rr;
	struct rewrite_vars	 vars;
	int			 rc, urls;

	exchange_response_rules(ex, &rr, &vars);
	k.ex = ex;
	k.rr = &rr;
	k.out = q;
	k.pk = NULL;
	urls = exchange_has_urls(r, ex->up->conf->rewrite_location,
	    exchange_cookie_paths(ex));
	/* (HTTP/2 writes each header as a field of its own) */
	if (!urls && !ex->fr.ops->multiplexed &&
	    exchange_pack_start(&pk, r) == 0)
		k.pk = &pk;
	out.add = exchange_keep_add;
	out.keep = rr.n > 0 || ex->reqid[0] != '\0' ? exchange_keep : NULL;
	out.arg = &k;
	rc = headers_response_copy(r, &out);
	if (k.pk != NULL && exchange_pack_end(&pk, q, rc == 0) == -1)
		rc = -1;
	if (rc == -1 || (urls && exchange_response_urls(ex) == -1))
		return -1;
	if (ex->reqid[0] != '\0' && (rr.n == 0 || rewrite_keeps(&rr,
	    ex->gl->conf->request_id, strlen(ex->gl->conf->request_id))) &&
	    evhttp_add_header(q, ex->gl->conf->request_id, ex->reqid) == -1)
		return -1;
	if (exchange_sticky_set(ex, q, &rr) == -1)
		return -1;
	return rr.n > 0 ? rewrite_add_q(&rr, q) : 0;
}

/* Exchanges in flight. */
unsigned
exchange_count(void)
{
	return SLUICE_LOAD(&nexchanges);
}

/* Exchanges finished since start, and how many of them were cut short. */
void
exchange_totals(uint64_t *finished, uint64_t *killed)
{
	*finished = SLUICE_LOAD(&nfinished);
	*killed = SLUICE_LOAD(&nkilled);
}

/* Responses carry Connection: close from now on. */
void
exchange_set_closing(int on)
{
	SLUICE_STORE(&closing, on);
}

/* Register the hook run when the last exchange ends. */
void
exchange_set_idle_cb(void (*cb)(void))
{
	idle_cb = cb;
}

/* Milliseconds from a to b. */
static double
exchange_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/*
 * Keep the request's target as received and its version, for the logs:
 * one copy, from which the text line's request line is written when
 * needed and the JSON line takes method, target and protocol apart.
 */
static void
exchange_keep_target(struct exchange *ex)
{
	const char	*uri = ex->fr.uri;
	size_t		 n = uri != NULL ? strlen(uri) : 0;

	if (n > EXCHANGE_LOG_TARGET_MAX) {
		n = EXCHANGE_LOG_TARGET_MAX;
		ex->logtargetcut = 1;
	}
	if (uri != NULL && (ex->logtarget = malloc(n + 1)) != NULL) {
		memcpy(ex->logtarget, uri, n);
		ex->logtarget[n] = '\0';
		ex->logtargetlen = n;
	}
	ex->http_major = (unsigned char)(ex->fr.major % 10);
	ex->http_minor = (unsigned char)(ex->fr.minor % 10);
}

/*
 * "METHOD TARGET HTTP/x.y" into buf[EXCHANGE_REQLINE_MAX], the target's
 * first EXCHANGE_REQLINE_TARGET bytes with unsafe ones as \xHH; "-" when
 * the target could not be kept.
 */
static const char *
exchange_reqline(const struct exchange *ex, char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*method = ex->method != NULL ? ex->method : "-";
	size_t			 i, n = ex->logtargetlen, mlen = strlen(method);
	char			*p = buf;

	if (ex->logtarget == NULL)
		return "-";
	if (n > EXCHANGE_REQLINE_TARGET)
		n = EXCHANGE_REQLINE_TARGET;
	/* by hand: two printfs per request showed in profiles */
	memcpy(p, method, mlen);
	p += mlen;
	*p++ = ' ';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ex->logtarget[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		} else
			*p++ = (char)c;
	}
	memcpy(p, " HTTP/", 6);
	p += 6;
	*p++ = (char)('0' + ex->http_major);
	if (ex->http_major != 2) {	/* RFC 9113 names it "HTTP/2" */
		*p++ = '.';
		*p++ = (char)('0' + ex->http_minor);
	}
	*p = '\0';
	return buf;
}

/*
 * The request ID as logged: "-" when none, a byte that would break the
 * line's fields (a quote, a backslash) as \xHH.
 */
static const char *
exchange_log_id(const struct exchange *ex, char *buf, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*p;
	size_t			 n = 0;

	if (ex->reqid[0] == '\0')
		return "-";
	for (p = ex->reqid; *p != '\0' && n + 5 < size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[(unsigned char)*p >> 4];
			buf[n++] = hex[*p & 0xf];
		} else
			buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

/* The exchange's times in ms: total, upstream (-1: none), queue (-1). */
static void
exchange_log_times(const struct exchange *ex, double *total, double *up,
    double *queue)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	*total = exchange_ms(&ex->t_start, &now);
	*up = *queue = -1;
	if (ex->t_up_start.tv_sec != 0)
		*up = exchange_ms(&ex->t_up_start, ex->t_up_end.tv_sec != 0 ?
		    &ex->t_up_end : &now);
	if (ex->t_queue_start.tv_sec != 0)
		*queue = exchange_ms(&ex->t_queue_start,
		    ex->t_queue_end.tv_sec != 0 ? &ex->t_queue_end : &now);
}

/* The termination code, "ok", "redirect" or WHO_PHASE, into buf[32]. */
static const char *
exchange_log_term(const struct exchange *ex, char *buf, size_t size)
{
	if (ex->term_who == EXCHANGE_WHO_NONE)
		return ex->redirected ? "redirect" : "ok";
	snprintf(buf, size, "%s_%s", who_names[ex->term_who],
	    phase_names[ex->term_phase]);
	return buf;
}

/* The access-log line as text (access_log_format = text). */
static void
exchange_log_text(struct exchange *ex)
{
	char		 ts[40], termbuf[32], line[EXCHANGE_LOG_LINE];
	char		 id[4 * REWRITE_ID_MAX + 1], rl[EXCHANGE_REQLINE_MAX];
	double		 total, up_ms, queue_ms;
	int		 n;

	exchange_log_times(ex, &total, &up_ms, &queue_ms);
	log_timestamp(ts, sizeof(ts));
	n = snprintf(line, sizeof(line),
	    "%s %s:%u %s \"%s\" %d %llu %s %s %.3f %.3f %.3f %s #%llx %s", ts,
	    ex->addr[0] != '\0' ? ex->addr : "-",
	    ex->fr.client != NULL ? clientconn_port(ex->fr.client) : 0,
	    ex->lname,
	    exchange_reqline(ex, rl), ex->status,
	    (unsigned long long)ex->bytes,
	    ex->srv != NULL ? ex->srv->upstream : "-",
	    ex->srv != NULL ? ex->srv->name : "-",
	    total, up_ms < 0 ? 0 : up_ms, queue_ms < 0 ? 0 : queue_ms,
	    exchange_log_term(ex, termbuf, sizeof(termbuf)),
	    (unsigned long long)ex->id, exchange_log_id(ex, id, sizeof(id)));
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	log_access(line, (size_t)n);
}

/* A string field of the JSON line, null when s is NULL or empty. */
static void
exchange_json_name(struct logjson *j, const char *key, const char *s)
{
	logjson_str(j, key, s != NULL && *s != '\0' ? s : NULL,
	    s != NULL ? strlen(s) : 0, EXCHANGE_JSON_NAME);
}

/*
 * The access-log line as one JSON object (access_log_format = json): the
 * text line's fields by name, absent ones null, cut to the line's size
 * inside the target (then "truncated":true).
 */
static void
exchange_log_json(struct exchange *ex)
{
	struct logjson	 j;
	char		 ts[40], termbuf[32], line[EXCHANGE_LOG_LINE], v[9];
	char		 idhex[24];
	double		 total, up_ms, queue_ms;
	size_t		 n;

	exchange_log_times(ex, &total, &up_ms, &queue_ms);
	log_timestamp(ts, sizeof(ts));
	logjson_begin(&j, line, sizeof(line));
	exchange_json_name(&j, "time", ts);
	exchange_json_name(&j, "client", ex->addr);
	if (ex->fr.client != NULL)
		logjson_uint(&j, "client_port", clientconn_port(ex->fr.client));
	else
		logjson_null(&j, "client_port");
	exchange_json_name(&j, "listener", ex->lname);
	exchange_json_name(&j, "method", ex->method);
	logjson_str(&j, "target", ex->logtarget, ex->logtargetlen,
	    sizeof(line) - j.len - EXCHANGE_JSON_TAIL);
	if (ex->logtargetcut)
		j.truncated = 1;
	memcpy(v, "HTTP/x.y", 9);
	v[5] = (char)('0' + ex->http_major);
	v[7] = (char)('0' + ex->http_minor);
	if (ex->http_major == 2)
		v[6] = '\0';		/* "HTTP/2" */
	exchange_json_name(&j, "protocol", ex->logtarget != NULL ? v : NULL);
	if (ex->status != 0)
		logjson_uint(&j, "status", (unsigned)ex->status);
	else
		logjson_null(&j, "status");
	logjson_uint(&j, "bytes", (unsigned long long)ex->bytes);
	exchange_json_name(&j, "upstream", ex->srv != NULL ?
	    ex->srv->upstream : NULL);
	exchange_json_name(&j, "server", ex->srv != NULL ? ex->srv->name :
	    NULL);
	logjson_ms(&j, "total_ms", total);
	logjson_ms(&j, "upstream_ms", up_ms);
	logjson_ms(&j, "queue_ms", queue_ms);
	exchange_json_name(&j, "term", exchange_log_term(ex, termbuf,
	    sizeof(termbuf)));
	snprintf(idhex, sizeof(idhex), "%llx", (unsigned long long)ex->id);
	exchange_json_name(&j, "id", idhex);
	logjson_str(&j, "request_id", ex->reqid[0] != '\0' ? ex->reqid : NULL,
	    strlen(ex->reqid), LOGJSON_ESC_MAX * REWRITE_ID_MAX);
	n = logjson_end(&j);
	log_access(line, n);
}

/*
 * Write the access-log line, in the format of the exchange's generation:
 * a reload changes it for the exchanges that start after it.
 */
static void
exchange_log(struct exchange *ex)
{
	if (!log_access_enabled())
		return;
	if (ex->gen->conf->global.access_log_format == CONF_LOG_FORMAT_JSON)
		exchange_log_json(ex);
	else
		exchange_log_text(ex);
}

/*
 * Release the upstream connection, if any, and note the time; the
 * server's max_conns slot goes to the next waiting request.
 */
static void
exchange_server_done(struct exchange *ex, int reusable)
{
	if (ex->uc == NULL)
		return;
	upconn_release(ex->uc, reusable);
	ex->uc = NULL;
	upstream_release(&ex->hold);
	clock_gettime(CLOCK_MONOTONIC, &ex->t_up_end);
}

/* The exchange left the queue: note the time and count the wait. */
static void
exchange_queue_left(struct exchange *ex)
{
	ex->wait = NULL;
	if (ex->queue_ev != NULL)
		evtimer_del(ex->queue_ev);
	clock_gettime(CLOCK_MONOTONIC, &ex->t_queue_end);
	metrics_queue_wait(ex->up->conf->name, exchange_ms(&ex->t_queue_start,
	    &ex->t_queue_end) / 1e3);
}

/*
 * The exchange leaves the queue, if it is in it (it ends: a grant on the
 * way is given back).
 */
static void
exchange_unqueue(struct exchange *ex)
{
	if (ex->wait == NULL)
		return;
	(void)upstream_wait_cancel(ex->wait, 1);
	exchange_queue_left(ex);
}

/* Count the exchange in the metrics. */
static void
exchange_metrics(struct exchange *ex)
{
	struct timespec	now;
	double		up = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ex->t_up_start.tv_sec != 0)
		up = exchange_ms(&ex->t_up_start, ex->t_up_end.tv_sec != 0 ?
		    &ex->t_up_end : &now) / 1e3;
	metrics_exchange(ex->lname, ex->srv != NULL ? ex->srv->upstream :
	    NULL, ex->srv != NULL ? ex->srv->name : NULL, ex->status,
	    exchange_ms(&ex->t_start, &now) / 1e3, up);
	if (ex->term_who == EXCHANGE_WHO_KILLED)
		metrics_ended(METRICS_ENDED_KILLED);
	else if (ex->term_who == EXCHANGE_WHO_DRAIN)
		metrics_ended(METRICS_ENDED_DRAIN_TIMEOUT);
}

/*
 * The one state setter; logs old -> new at debug level. The phase of the
 * termination code follows the state, except that an answer of sluice's
 * own keeps the phase it was given in.
 */
static void
exchange_set_state(struct exchange *ex, enum exchange_state st)
{
	char	rl[EXCHANGE_REQLINE_MAX];

	if (ex->state == st)
		return;
	log_debug("#%llx %s: %s -> %s", (unsigned long long)ex->id,
	    exchange_reqline(ex, rl), state_names[ex->state],
	    state_names[st]);
	ex->state = st;
	if (st != EXCHANGE_ANSWERED)
		ex->phase = state_phase[st];
}

/* 1 when the client has an answer's head: no error page any more. */
static int
exchange_replied(const struct exchange *ex)
{
	return ex->state >= EXCHANGE_STREAMING;
}

/* Record how the exchange ended; the first termination code stays. */
static void
exchange_term(struct exchange *ex, enum exchange_who who,
    enum exchange_phase phase)
{
	if (ex->term_who != EXCHANGE_WHO_NONE || who == EXCHANGE_WHO_NONE)
		return;
	ex->term_who = who;
	ex->term_phase = phase;
}

/* Leave the server (the door gives back a trial without verdict). */
static void
exchange_detach(struct exchange *ex)
{
	upstream_drop(&ex->hold);
	ex->srv = NULL;
}

/*
 * The one teardown, with the termination code (who EXCHANGE_WHO_NONE: the
 * one recorded before, or "ok"): release the server and its connection,
 * write the access-log line, count it, free.
 */
static void
exchange_finish(struct exchange *ex, enum exchange_who who,
    enum exchange_phase phase)
{
	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_term(ex, who, phase);
	exchange_unqueue(ex);
	exchange_server_done(ex, 0);
	exchange_log(ex);
	exchange_metrics(ex);
	tunnel_free(ex->tun);
	ex->tun = NULL;
	exchange_detach(ex);
	if (ex->reqbuf != NULL)
		evbuffer_free(ex->reqbuf);
	ex->fr.ops->release(&ex->fr);
	if (ex->queue_ev != NULL)
		event_free(ex->queue_ev);
	if (ex->upgen != NULL)
		gen_unref(ex->upgen);
	gen_unref(ex->gen);
	TAILQ_REMOVE(&exchanges, ex, entry);
	SLUICE_INC(&nfinished);
	if (ex->term_who == EXCHANGE_WHO_KILLED ||
	    ex->term_who == EXCHANGE_WHO_DRAIN)
		SLUICE_INC(&nkilled);
	ex->magic = 0;
	free(ex->logtarget);
	free(ex->target);
	free(ex);
	if (SLUICE_DEC(&nexchanges) == 0 && idle_cb != NULL)
		idle_cb();
}

/* See exchange.h. */
void
exchange_sent(struct exchange *ex)
{
	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_finish(ex, EXCHANGE_WHO_NONE, ex->phase);
}

/* See exchange.h. */
void
exchange_client_gone(struct exchange *ex)
{
	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	/* the client left, unless a tunnel ended and closed it */
	exchange_finish(ex, ex->state == EXCHANGE_CLOSING ? EXCHANGE_WHO_NONE :
	    EXCHANGE_WHO_CLIENT, ex->phase);
}

/*
 * Decide whether the client connection stays open after this response,
 * and make evhttp do it. Connection is a list of tokens over any number
 * of lines (RFC 9110 7.6.1): "close" anywhere ends the connection; an
 * HTTP/1.0 client keeps it only with "keep-alive" in the list. evhttp
 * compares the first Connection line whole for "close" (and takes any
 * value that starts with "keep-alive"), so the decision goes into the
 * output headers, and for HTTP/1.0 into an input Connection it reads
 * right. The upstream request was built from the input already.
 */
static void
exchange_close_header(struct exchange *ex, int force)
{
	struct evkeyvalq	*in = ex->fr.in;
	struct evkeyvalq	*out;
	int			 close;

	out = ex->fr.out;
	if (ex->fr.ops->multiplexed)	/* the connection is not one
					 * request's to close */
		return;
	close = force || SLUICE_LOAD(&closing) ||
	    exchange_list_has(in, "Connection", "close") ||
	    (ex->fr.minor == 0 &&
	    !exchange_list_has(in, "Connection", "keep-alive"));
	if (ex->fr.minor == 0) {
		while (evhttp_remove_header(in, "Connection") == 0)
			continue;
		if (!close)
			evhttp_add_header(in, "Connection", "keep-alive");
	}
	if (close && evhttp_find_header(out, "Connection") == NULL)
		evhttp_add_header(out, "Connection", "close");
}

/*
 * The error_page for code: the upstream's (once the request is routed),
 * else the listener's; NULL for the built-in text.
 */
static const struct conf_error_page *
exchange_error_page(const struct exchange *ex, int code)
{
	const struct conf_error_page	*p = NULL;

	if (ex->up != NULL)
		p = conf_error_page_find(&ex->up->conf->error_pages, code);
	if (p == NULL)
		p = conf_error_page_find(&ex->gl->conf->error_pages, code);
	return p;
}

/*
 * Answer with an error of sluice's own (its error_page, or a short plain
 * text) and record the termination.
 */
static void
exchange_error(struct exchange *ex, int code, const char *reason,
    enum exchange_who who, int close)
{
	const struct conf_error_page	*pg = exchange_error_page(ex, code);
	struct evkeyvalq		*out;
	struct evbuffer			*body = evbuffer_new();
	char				 len[24];

	out = ex->fr.out;
	exchange_unqueue(ex);
	exchange_term(ex, who, ex->phase);
	exchange_set_state(ex, EXCHANGE_ANSWERED);
	ex->status = code;
	evhttp_clear_headers(out);
	evhttp_add_header(out, "Content-Type", pg != NULL ? pg->type :
	    "text/plain; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-store");
	exchange_close_header(ex, close);
	if (body != NULL && !ex->head_request) {
		if (pg != NULL)
			evbuffer_add(body, pg->body, pg->len);
		else
			evbuffer_add_printf(body, "%d %s\n", code, reason);
	}
	if (body != NULL && ex->head_request) {
		snprintf(len, sizeof(len), "%zu", pg != NULL ? pg->len : 0);
		evhttp_add_header(out, "Content-Length", len);
	}
	if (body != NULL && !ex->head_request) {
		/* framed even where evhttp would not (CONNECT) */
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(out, "Content-Length", len);
	}
	if (body != NULL)
		ex->bytes = evbuffer_get_length(body);
	(void)exchange_answer_edit(ex);	/* out of memory: without them */
	ex->fr.ops->reply(&ex->fr, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

/* The response had started: cut it so that the client sees it. */
static void
exchange_cut(struct exchange *ex, enum exchange_who who)
{
	exchange_term(ex, who, ex->phase);
	ex->fr.ops->cut(&ex->fr);	/* exchange_client_gone finishes ex */
}

/* Map an upstream failure to (status, who). */
static void
exchange_up_error_map(enum upconn_error err, int *code,
    enum exchange_who *who)
{
	switch (err) {
	case UPCONN_ERR_CONNECT_TIMEOUT:
	case UPCONN_ERR_WRITE_TIMEOUT:
	case UPCONN_ERR_READ_TIMEOUT:
		*code = 504;
		*who = EXCHANGE_WHO_TIMEOUT;
		break;
	default:
		*code = 502;
		*who = EXCHANGE_WHO_SERVER;
	}
}

/*
 * 1 when the request can go to a server again: nothing can have been acted
 * on. A connect failure sent nothing; a write that failed on a pooled
 * connection found it already reset; an idempotent request on a pooled
 * connection closed before any response byte may be repeated.
 */
static int
exchange_retryable(struct exchange *ex, enum upconn_error err)
{
	if (ex->tries_left == 0 || exchange_replied(ex) || ex->reqbuf == NULL ||
	    upconn_response_started(ex->uc))
		return 0;
	switch (err) {
	case UPCONN_ERR_CONNECT:
	case UPCONN_ERR_CONNECT_TIMEOUT:
		return 1;
	case UPCONN_ERR_WRITE:
		return upconn_reused(ex->uc);
	case UPCONN_ERR_READ:
		return upconn_reused(ex->uc) && ex->idempotent;
	default:
		return 0;
	}
}

/* Count an upstream timeout by kind. */
static void
exchange_timeout_metric(enum upconn_error err)
{
	if (err == UPCONN_ERR_CONNECT_TIMEOUT)
		metrics_timeout(METRICS_TIMEOUT_CONNECT);
	else if (err == UPCONN_ERR_READ_TIMEOUT)
		metrics_timeout(METRICS_TIMEOUT_READ);
	else if (err == UPCONN_ERR_WRITE_TIMEOUT)
		metrics_timeout(METRICS_TIMEOUT_WRITE);
}

/*
 * Send the request again, to another server where one is usable, else on
 * a fresh connection to the same one, unless other_only (after a connect
 * timeout the same server would only double the wait). -1: not retried.
 */
static int
exchange_retry(struct exchange *ex, int other_only)
{
	struct server	*before = ex->srv;
	char		 rl[EXCHANGE_REQLINE_MAX];

	if (upstream_retake(ex->up, &ex->hold, other_only) == -1)
		return -1;
	ex->srv = ex->hold.srv;
	if (ex->srv != before && exchange_rebuild(ex) == -1)
		return -1;
	ex->tries_left--;
	ex->retried = 1;
	metrics_retry();
	log_info("#%llx %s: retrying on %s/%s", (unsigned long long)ex->id,
	    exchange_reqline(ex, rl), ex->srv->upstream, ex->srv->name);
	return exchange_send(ex);
}

/* The tunnel ended: close the client connection (which finishes ex). */
static void
exchange_tunnel_done(void *arg, enum tunnel_end end)
{
	struct exchange	*ex = arg;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_set_state(ex, EXCHANGE_CLOSING);
	clock_gettime(CLOCK_MONOTONIC, &ex->t_up_end);
	exchange_term(ex, end == TUNNEL_TIMEOUT ? EXCHANGE_WHO_TIMEOUT :
	    end == TUNNEL_CLIENT_ERROR ? EXCHANGE_WHO_CLIENT :
	    end == TUNNEL_SERVER_ERROR ? EXCHANGE_WHO_SERVER :
	    EXCHANGE_WHO_NONE, ex->phase);
	ex->fr.ops->close(&ex->fr);	/* exchange_client_gone finishes ex */
}

/* The upstream exchange failed. */
static void
exchange_up_error(void *arg, enum upconn_error err, const char *why)
{
	struct exchange		*ex = arg;
	enum exchange_who	 who;
	int			 code, retry;
	char			 rl[EXCHANGE_REQLINE_MAX];

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_up_error_map(err, &code, &who);
	exchange_timeout_metric(err);
	log_warn("#%llx %s %s/%s (%s): %s%s", (unsigned long long)ex->id,
	    exchange_reqline(ex, rl), ex->srv->upstream,
	    ex->srv->name, ex->srv->addrtext, err == UPCONN_ERR_PROTOCOL ?
	    "invalid response: " : "", why);
	retry = exchange_retryable(ex, err);
	upstream_settle_error(ex->up, &ex->hold, err, upconn_reused(ex->uc));
	exchange_server_done(ex, 0);
	if (retry && exchange_retry(ex,
	    err == UPCONN_ERR_CONNECT_TIMEOUT) == 0)
		return;
	exchange_term(ex, who, err == UPCONN_ERR_CONNECT ||
	    err == UPCONN_ERR_CONNECT_TIMEOUT ? EXCHANGE_PHASE_CONNECT :
	    ex->phase);
	if (exchange_replied(ex))
		exchange_cut(ex, who);
	else
		exchange_error(ex, code, code == 504 ? "Gateway Timeout" :
		    "Bad Gateway", who, 0);
}

/* Copy a reason phrase into buf, NUL-terminated and bounded. */
static const char *
exchange_reason(const struct http1_response *r, char *buf, size_t size)
{
	size_t	n = r->reasonlen < size - 1 ? r->reasonlen : size - 1;

	memcpy(buf, r->reason, n);
	buf[n] = '\0';
	return buf;
}

/*
 * A 101 from the server: answer the client with it (the hop-by-hop
 * Connection and Upgrade put back); the tunnel starts in
 * exchange_up_upgraded once the head is off the server's connection.
 */
static void
exchange_switch(struct exchange *ex, const struct http1_response *r)
{
	struct evkeyvalq		*out;
	const struct http1_header	*u = http1_response_header(r,
					    "Upgrade");
	char				 proto[256];

	if (ex->reqbuf != NULL) {
		evbuffer_free(ex->reqbuf);
		ex->reqbuf = NULL;
	}
	out = ex->fr.out;
	if (u == NULL || u->valuelen >= sizeof(proto) ||
	    exchange_response_headers(ex, r) == -1) {
		exchange_up_error(ex, UPCONN_ERR_PROTOCOL,
		    "101 without a usable Upgrade header");
		return;
	}
	upstream_settle_head(ex->up, &ex->hold, r->status);
	memcpy(proto, u->value, u->valuelen);
	proto[u->valuelen] = '\0';
	evhttp_add_header(out, "Connection", "upgrade");
	evhttp_add_header(out, "Upgrade", proto);
	exchange_set_state(ex, EXCHANGE_TUNNEL);
	ex->fr.ops->start(&ex->fr, 101, "Switching Protocols",
	    ex->client_timeout_ms);
}

/* The connection switched protocols: join the two sides. */
static void
exchange_up_upgraded(void *arg)
{
	struct exchange		*ex = arg;
	struct bufferevent	*server, *client;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	if (ex->state != EXCHANGE_TUNNEL || ex->uc == NULL)
		return;
	server = upconn_detach(ex->uc);
	ex->uc = NULL;
	if ((client = ex->fr.ops->takeover(&ex->fr)) == NULL) {
		exchange_cut(ex, EXCHANGE_WHO_PROXY);
		return;
	}
	ex->tun = tunnel_new(client, server, upstream_tunnel_timeout(&ex->hold),
	    exchange_tunnel_done, ex);
	if (ex->tun == NULL)
		exchange_cut(ex, EXCHANGE_WHO_PROXY);
}

/* The upstream response head: start the client response. */
static void
exchange_up_head(void *arg, const struct http1_response *r)
{
	struct exchange		*ex = arg;
	struct evkeyvalq	*out;
	char			 reason[EXCHANGE_MAX_REASON];

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	out = ex->fr.out;
	ex->status = r->status;
	if (r->status == 101) {
		exchange_switch(ex, r);
		return;
	}
	upstream_settle_head(ex->up, &ex->hold, r->status);
	/* no retry once a response has begun */
	if (ex->reqbuf != NULL) {
		evbuffer_free(ex->reqbuf);
		ex->reqbuf = NULL;
	}
	if (exchange_response_headers(ex, r) == -1) {
		exchange_server_done(ex, 0);
		exchange_error(ex, 502, "Bad Gateway", EXCHANGE_WHO_SERVER, 0);
		return;
	}
	exchange_close_header(ex, 0);
	/* HTTP/1.0 keep-alive + unknown length: evhttp would send CL 0 */
	if (!ex->fr.ops->multiplexed && ex->fr.minor == 0 &&
	    evhttp_find_header(out, "Content-Length") == NULL)
		evhttp_remove_header(ex->fr.in, "Connection");
	exchange_set_state(ex, EXCHANGE_STREAMING);
	ex->fr.ops->start(&ex->fr, r->status,
	    exchange_reason(r, reason, sizeof(reason)), ex->client_timeout_ms);
}

/* See exchange.h: read from the upstream again. */
void
exchange_drained(struct exchange *ex)
{
	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	if (ex->paused && ex->uc != NULL) {
		ex->paused = 0;
		upconn_resume(ex->uc);
	}
}

/* Upstream body bytes: pass them on, pausing when the client lags. */
static void
exchange_up_body(void *arg, struct evbuffer *data)
{
	struct exchange	*ex = arg;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	ex->bytes += evbuffer_get_length(data);
	if (ex->fr.ops->body(&ex->fr, data) && !ex->paused) {
		ex->paused = 1;
		upconn_pause(ex->uc);
	}
}

/* The upstream response is complete. */
static void
exchange_up_done(void *arg, int reusable)
{
	struct exchange	*ex = arg;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_server_done(ex, reusable);
	ex->fr.ops->end(&ex->fr);		/* may finish ex */
}

/* The name of the method cmd, whatever it is. */
static const char *
exchange_command(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:		return "GET";
	case EVHTTP_REQ_HEAD:		return "HEAD";
	case EVHTTP_REQ_POST:		return "POST";
	case EVHTTP_REQ_PUT:		return "PUT";
	case EVHTTP_REQ_DELETE:		return "DELETE";
	case EVHTTP_REQ_OPTIONS:	return "OPTIONS";
	case EVHTTP_REQ_PATCH:		return "PATCH";
	case EVHTTP_REQ_TRACE:		return "TRACE";
	case EVHTTP_REQ_CONNECT:	return "CONNECT";
	}
	return "-";
}

/* The method's name, or NULL for one we do not forward. */
static const char *
exchange_method(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_TRACE:
	case EVHTTP_REQ_CONNECT:
		return NULL;
	default:
		return exchange_command(cmd)[0] == '-' ? NULL :
		    exchange_command(cmd);
	}
}

/*
 * RFC 9112 3.2.2: with an absolute-form target the Host header is replaced
 * by the target's authority. -1 when out of memory.
 */
static int
exchange_host_replace(struct evkeyvalq *in, const struct evhttp_uri *u)
{
	char			 auth[300];
	int			 port = evhttp_uri_get_port(u);

	if (port == -1)
		snprintf(auth, sizeof(auth), "%s", evhttp_uri_get_host(u));
	else
		snprintf(auth, sizeof(auth), "%s:%d", evhttp_uri_get_host(u),
		    port);
	while (evhttp_remove_header(in, "Host") == 0)
		continue;
	return evhttp_add_header(in, "Host", auth);
}

/*
 * The routing host (lower-case, no port) into buf and the origin-form
 * target into *target (malloc'd). -1 when out of memory.
 */
static int
exchange_target(struct front *f, char *host, size_t hostsize, char **target)
{
	const struct evhttp_uri	*u = f->u;
	const char		*h, *path, *query, *uri = f->uri;
	size_t			 i;

	host[0] = '\0';
	if (uri[0] != '/' && u != NULL && evhttp_uri_get_host(u) != NULL) {
		h = evhttp_uri_get_host(u);	/* absolute-form */
		if (exchange_host_replace(f->in, u) == -1)
			return -1;
		path = evhttp_uri_get_path(u);
		query = evhttp_uri_get_query(u);
		if (asprintf(target, "%s%s%s", path != NULL && *path != '\0' ?
		    path : "/", query != NULL ? "?" : "",
		    query != NULL ? query : "") == -1) {
			*target = NULL;		/* undefined after a failure */
			return -1;
		}
	} else {
		h = evhttp_find_header(f->in, "Host");
		if ((*target = strdup(uri)) == NULL)
			return -1;
	}
	if (h != NULL) {
		for (i = 0; h[i] != '\0' && h[i] != ':' && i + 1 < hostsize;
		    i++)
			host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ?
			    h[i] + 32 : h[i]);
		host[i] = '\0';
		if (h[0] == '[')	/* IPv6 literal: keep it whole */
			snprintf(host, hostsize, "%.*s",
			    (int)(strcspn(h, "]") + 1), h);
	}
	return 0;
}

/* headers_forward's keep and add: the request rules (rewrite.c). */
static int
exchange_rules_keep(void *rules, const char *name, size_t len)
{
	return rewrite_keeps(rules, name, len);
}

static int
exchange_rules_add(void *rules, const struct headers_sink *out)
{
	return rewrite_add_sink(rules, out);
}

/*
 * Write the head of the request for ex's server into out: what crosses
 * (http/headers.c), less what the request rules of the listener and of
 * the upstream take away, plus what they add. It is written into a flat
 * buffer, then added to out at once. -1 when out of memory.
 */
static int
exchange_build_head(struct exchange *ex, struct evbuffer *out,
    size_t body_len)
{
	struct headers_forward		 fwd;
	struct headers_sink		 sink;
	struct headers_buf		 head;
	struct headers_in		 in;
	struct exchange_fields		 x;
	struct rewrite_rules		 rr;
	struct rewrite_vars		 vars;
	char				 host[EXCHANGE_HOST_MAX];
	int				 r;

	if (exchange_fields(ex->fr.in, &x) == -1)
		return -1;
	memset(&fwd, 0, sizeof(fwd));
	fwd.client_ip = clientconn_ip(ex->fr.client);
	fwd.trusted = ex->trusted;
	fwd.tls = clientconn_tls(ex->fr.client);
	fwd.default_host = ex->srv->addrtext;
	fwd.upgrade = ex->upgrade;
	/* Via names the protocol the request came in (RFC 9110 7.6.3) */
	fwd.via = ex->fr.major == 2 ? "2 sluice (sluice/" SLUICE_VERSION ")" :
	    ex->fr.minor == 0 ? "1.0 sluice (sluice/" SLUICE_VERSION ")" :
	    "1.1 sluice (sluice/" SLUICE_VERSION ")";
	fwd.host = exchange_host_out(ex, host, sizeof(host));
	if (ex->reqid[0] != '\0') {
		fwd.id_name = ex->gl->conf->request_id;
		fwd.id = ex->reqid;
	}
	rr.n = 0;
	if (ex->gl->conf->request_headers.n > 0)
		rr.list[rr.n++] = &ex->gl->conf->request_headers;
	if (ex->up->conf->request_headers.n > 0)
		rr.list[rr.n++] = &ex->up->conf->request_headers;
	if (rr.n > 0) {
		exchange_vars(ex, &vars);
		rr.vars = &vars;
		fwd.keep = exchange_rules_keep;
		fwd.add = exchange_rules_add;
		fwd.rules = &rr;
	}
	in.f = x.f;
	in.n = x.n;
	headers_buf_init(&head, &sink);
	r = headers_request_build(&sink, ex->method, ex->fwd_target, &in, &fwd,
	    body_len);
	exchange_fields_free(&x);
	if (r == 0)
		r = evbuffer_add(out, head.p, head.len);
	headers_buf_free(&head);
	return r;
}

/* Build the upstream request into ex->reqbuf. -1 when out of memory. */
static int
exchange_build(struct exchange *ex)
{
	struct evbuffer	*body = ex->fr.body;

	if ((ex->reqbuf = evbuffer_new()) == NULL ||
	    exchange_build_head(ex, ex->reqbuf,
	    evbuffer_get_length(body)) == -1)
		return -1;
	ex->headlen = evbuffer_get_length(ex->reqbuf);
	return evbuffer_add_buffer(ex->reqbuf, body);
}

/*
 * A retry goes to another server: the head may name it (host = server,
 * $server, the Host of an HTTP/1.0 request): write it again in front of
 * the body. -1 when out of memory.
 */
static int
exchange_rebuild(struct exchange *ex)
{
	struct evbuffer	*head;
	int		 r = -1;

	if ((head = evbuffer_new()) == NULL)
		return -1;
	if (exchange_build_head(ex, head, evbuffer_get_length(ex->reqbuf) -
	    ex->headlen) == 0 &&
	    evbuffer_drain(ex->reqbuf, ex->headlen) == 0) {
		ex->headlen = evbuffer_get_length(head);
		r = evbuffer_prepend_buffer(ex->reqbuf, head);
	}
	evbuffer_free(head);
	return r;
}

/*
 * Send ex->reqbuf to ex->srv on a pooled or new connection. While a retry
 * is possible the request is kept (referenced, not copied); the last try
 * hands it over. -1: nothing was sent.
 */
static int
exchange_send(struct exchange *ex)
{
	int	flags = ex->head_request ? UPCONN_REQ_HEAD : 0;
	int	r;

	/* a retry goes on a fresh connection: a pooled one may race too */
	ex->uc = ex->retried ? upconn_get_fresh(ex->srv) :
	    upconn_get(ex->srv, ex->idempotent ? 0 : UPCONN_GET_SAFE);
	if (ex->uc == NULL)
		return -1;
	if (ex->tries_left > 0)
		flags |= UPCONN_REQ_KEEP;
	if (ex->upgrade != NULL)
		flags |= UPCONN_REQ_UPGRADE;
	if (ex->t_up_start.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &ex->t_up_start);
	exchange_set_state(ex, EXCHANGE_UPSTREAM);
	r = upconn_request(ex->uc, ex->reqbuf, flags, &exchange_up_cbs, ex);
	if (ex->tries_left == 0) {
		evbuffer_free(ex->reqbuf);
		ex->reqbuf = NULL;
	}
	return r;
}

/*
 * The protocol a request asks to upgrade to (Upgrade, named in
 * Connection, on an HTTP/1.1 GET), or NULL. h2c is not offered: the
 * request then goes on as plain HTTP/1.1, which RFC 9110 7.8 allows.
 */
static const char *
exchange_upgrade(const struct front *f, const char *method)
{
	struct evkeyvalq	*in = f->in;
	const char		*u = evhttp_find_header(in, "Upgrade");

	if (u == NULL || strcmp(method, "GET") != 0 ||
	    f->major != 1 || f->minor != 1 ||
	    !exchange_list_has(in, "Connection", "upgrade") ||
	    http1_list_has(u, "h2c"))
		return NULL;
	return u;
}

/* 1 for methods that may be repeated (RFC 9110 9.2.2). */
static int
exchange_idempotent(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	    strcmp(method, "OPTIONS") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "DELETE") == 0;
}

/*
 * Remove the dot-segments of the path of target (malloc'd, origin-form),
 * in place: the query moves up behind the shorter path. -1 when the path
 * climbs above "/".
 */
static int
exchange_normalize(char *target)
{
	size_t	 pathlen = strcspn(target, "?"), n;
	char	 end = target[pathlen];

	if (target[0] != '/')		/* "*" of OPTIONS */
		return 0;
	if (uri_path_normalize(target, pathlen, target, &n) == -1)
		return -1;
	target[pathlen] = end;		/* the NUL may have gone there */
	if (n < pathlen)
		memmove(target + n, target + pathlen,
		    strlen(target + pathlen) + 1);
	return 0;
}

/*
 * What the server gets of target under route r: with strip, the path
 * without the prefix ("/" when nothing is left), the query kept. Points
 * into target, which it may change.
 */
static const char *
exchange_strip(const struct gen_route *r, char *target)
{
	char	*rest;

	if (!r->strip || r->prefixlen == 0)
		return target;
	rest = target + r->prefixlen;
	if (rest[0] == '/')
		return rest;
	rest[-1] = '/';		/* "/legacy?x" -> "/?x" */
	return rest - 1;
}

/*
 * The checks every request passes (a NUL in the head, RFC 9112 framing
 * and target, http1_request_check) for method: 0, or -1 with *code set
 * (400; 500 when out of memory).
 */
static int
exchange_request_ok(struct exchange *ex, const char *method, int *code)
{
	struct exchange_fields	 x;
	const char		*why = NULL;
	int			 bad;

	*code = 400;
	if (nulscan_found(&ex->fr.client->scan)) {
		log_info("#%llx %s:%u: bad request: NUL in the request head",
		    (unsigned long long)ex->id, clientconn_ip(ex->fr.client),
		    clientconn_port(ex->fr.client));
		return -1;
	}
	if (exchange_fields(ex->fr.in, &x) == -1) {
		*code = 500;
		return -1;
	}
	if (x.n > (size_t)ex->gl->conf->max_headers) {
		log_info("#%llx %s:%u: bad request: %zu header lines "
		    "(max_headers %d)", (unsigned long long)ex->id,
		    clientconn_ip(ex->fr.client),
		    clientconn_port(ex->fr.client), x.n,
		    ex->gl->conf->max_headers);
		exchange_fields_free(&x);
		*code = 431;
		return -1;
	}
	/* HTTP/2's framing is the stream's: its fields are checked as an
	 * HTTP/1.1 request's, which is what the server gets */
	bad = http1_request_check(method, ex->fr.uri,
	    ex->fr.ops->multiplexed ? 1 : ex->fr.major,
	    ex->fr.ops->multiplexed ? 1 : ex->fr.minor, x.f, x.n,
	    evbuffer_get_length(ex->fr.body), &why);
	exchange_fields_free(&x);
	if (bad == -1) {
		log_info("#%llx %s:%u: bad request: %s",
		    (unsigned long long)ex->id, clientconn_ip(ex->fr.client),
		    clientconn_port(ex->fr.client), why);
		return -1;
	}
	return 0;
}

/* The route for the request, or NULL with *code set. */
static const struct gen_route *
exchange_route(struct exchange *ex, struct gen_listener *gl, int *code)
{
	const struct gen_route	*r;
	char			*q;

	if (exchange_request_ok(ex, ex->method, code) == -1)
		return NULL;
	*code = 500;
	if (exchange_target(&ex->fr, ex->host, sizeof(ex->host),
	    &ex->target) == -1)
		return NULL;
	if (exchange_normalize(ex->target) == -1) {
		*code = 400;
		log_info("#%llx %s:%u: bad request: the path climbs above /",
		    (unsigned long long)ex->id, clientconn_ip(ex->fr.client),
		    clientconn_port(ex->fr.client));
		return NULL;
	}
	if ((q = strchr(ex->target, '?')) != NULL)
		*q = '\0';
	r = gen_route(gl, ex->host[0] != '\0' ? ex->host : NULL, ex->target,
	    ex->fr.in);
	if (q != NULL)
		*q = '?';
	*code = 404;
	if (r != NULL)
		ex->fwd_target = exchange_strip(r, ex->target);
	return r;
}

/* The reason phrase of the errors we send. */
static const char *
exchange_reason_phrase(int code)
{
	switch (code) {
	case 400:	return "Bad Request";
	case 404:	return "Not Found";
	case 431:	return "Request Header Fields Too Large";
	case 501:	return "Not Implemented";
	case 502:	return "Bad Gateway";
	case 503:	return "Service Unavailable";
	case 504:	return "Gateway Timeout";
	case 505:	return "HTTP Version Not Supported";
	default:	return "Internal Server Error";
	}
}

/*
 * RFC 9110 2.5: a request of HTTP/1.x newer than 1.1 is read as 1.1, and
 * any other major version gets 505 and a close. evhttp writes the status
 * line with the request's version, so the version is set to 1.1 either
 * way: never "HTTP/1.9 200" or "HTTP/0.1 400" back. -1 when answered.
 */
static int
exchange_version(struct exchange *ex)
{
	int	minor = ex->fr.minor;

	if (ex->fr.ops->multiplexed)	/* HTTP/2: the front checked it */
		return 0;
	if (http1_request_version(ex->fr.major, &minor) == 0) {
		ex->fr.minor = minor;
		return 0;
	}
	log_info("#%llx %s:%u: bad request: HTTP/%d.%d is not supported",
	    (unsigned long long)ex->id, clientconn_ip(ex->fr.client),
	    clientconn_port(ex->fr.client), ex->fr.major, ex->fr.minor);
	ex->fr.major = 1;
	ex->fr.minor = 1;
	exchange_error(ex, 505, exchange_reason_phrase(505),
	    EXCHANGE_WHO_PROXY, 1);
	return -1;
}

/*
 * RFC 9110 7.6.2: an OPTIONS with Max-Forwards 0 is answered here, as the
 * final recipient; a larger value is decremented on the way. 1 when the
 * request was answered.
 */
static int
exchange_max_forwards(struct exchange *ex, const char *method)
{
	struct evkeyvalq	*in = ex->fr.in;
	struct evkeyvalq	*out;
	const char		*v = evhttp_find_header(in, "Max-Forwards");
	char			*end, buf[24];
	unsigned long		 n;

	if (v == NULL || strcmp(method, "OPTIONS") != 0)
		return 0;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || end == v || v[0] == '-')
		return 0;		/* not a number: left alone */
	if (n > 0) {
		snprintf(buf, sizeof(buf), "%lu", n - 1);
		evhttp_remove_header(in, "Max-Forwards");
		evhttp_add_header(in, "Max-Forwards", buf);
		return 0;
	}
	out = ex->fr.out;
	evhttp_add_header(out, "Allow",
	    "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
	evhttp_add_header(out, "Content-Length", "0");
	exchange_close_header(ex, 0);
	ex->status = 200;
	exchange_set_state(ex, EXCHANGE_ANSWERED);
	(void)exchange_answer_edit(ex);
	ex->fr.ops->reply(&ex->fr, 200, "OK", NULL);
	return 1;
}

/* Trim the optional whitespace off every request header value. */
static void
exchange_trim(struct evkeyvalq *in)
{
	struct evkeyval	*kv;

	TAILQ_FOREACH(kv, in, next)
		http1_value_trim(kv->value);
}

/* ex holds a server (ex->hold): build the request and send it. */
static void
exchange_forward(struct exchange *ex)
{
	ex->srv = ex->hold.srv;
	ex->idempotent = exchange_idempotent(ex->method);
	ex->upgrade = exchange_upgrade(&ex->fr, ex->method);
	ex->tries_left = ex->up->conf->retries;
	if (exchange_build(ex) == -1 || exchange_send(ex) == -1) {
		exchange_server_done(ex, 0);
		exchange_term(ex, EXCHANGE_WHO_SERVER, EXCHANGE_PHASE_CONNECT);
		exchange_error(ex, 502, "Bad Gateway", EXCHANGE_WHO_SERVER, 0);
	} else
		ex->fr.ops->watch(&ex->fr);
}

/* The exchange waited queue_timeout in the queue. */
static void
exchange_queue_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exchange	*ex = arg;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	/* 0: its grant is on the way, and wins */
	if (ex->wait == NULL || upstream_wait_cancel(ex->wait, 0) == 0)
		return;
	exchange_queue_left(ex);
	exchange_error(ex, 503, "Service Unavailable", EXCHANGE_WHO_TIMEOUT,
	    0);
}

/* Its turn in the queue came (see upstream_granted_fn). */
static void
exchange_granted(void *arg, struct upstream_hold *h)
{
	struct exchange	*ex = arg;

	SLUICE_MAGIC_CHECK(ex, EXCHANGE_MAGIC);
	exchange_queue_left(ex);
	if (h->srv == NULL) {		/* no usable server any more */
		exchange_error(ex, 503, "Service Unavailable",
		    EXCHANGE_WHO_PROXY, 0);
		return;
	}
	ex->hold = *h;
	memset(h, 0, sizeof(*h));
	exchange_forward(ex);
}

/*
 * The exchange waits in its upstream's queue (ex->wait): for its grant,
 * queue_timeout, or the client to leave.
 */
static void
exchange_queue(struct exchange *ex)
{
	struct timeval	tv;

	clock_gettime(CLOCK_MONOTONIC, &ex->t_queue_start);
	exchange_set_state(ex, EXCHANGE_QUEUED);
	ex->queue_ev = evtimer_new(sluice_base, exchange_queue_timeout_cb, ex);
	tv = sluice_tv(ex->up->conf->queue_timeout_ms);
	if (ex->queue_ev == NULL || evtimer_add(ex->queue_ev, &tv) == -1) {
		exchange_error(ex, 503, "Service Unavailable",
		    EXCHANGE_WHO_PROXY, 0);
		return;
	}
	ex->fr.ops->watch(&ex->fr);
}

/*
 * The server a sticky upstream's cookie pins the request to (its index in
 * ex->up, -1: none), its value kept in ex->sticky; with sticky_strip the
 * cookie is taken off the request.
 */
static int
exchange_sticky(struct exchange *ex)
{
	const struct conf_upstream	*cu = ex->up->conf;
	struct evkeyvalq		*in;
	struct evkeyval			*kv, *next;
	const char			*v;
	size_t				 n, vlen;
	int				 found = 0;

	if (cu->sticky_cookie == NULL)
		return -1;
	n = strlen(cu->sticky_cookie);
	in = ex->fr.in;
	for (kv = TAILQ_FIRST(in); kv != NULL; kv = next) {
		next = TAILQ_NEXT(kv, next);
		if (strcasecmp(kv->key, "Cookie") != 0)
			continue;
		if (!found && cookie_find(kv->value, cu->sticky_cookie, n, &v,
		    &vlen)) {
			found = 1;
			if (vlen < sizeof(ex->sticky)) {
				memcpy(ex->sticky, v, vlen);
				ex->sticky[vlen] = '\0';
			}
		}
		if (cu->sticky_strip &&
		    cookie_remove(kv->value, cu->sticky_cookie, n) > 0 &&
		    kv->value[0] == '\0') {
			TAILQ_REMOVE(in, kv, next);
			free(kv->key);
			free(kv->value);
			free(kv);
		}
	}
	return upstream_sticky_find(ex->up, ex->sticky, strlen(ex->sticky));
}

/*
 * A listener with redirect = https [PORT]: GET and HEAD get 301, other
 * methods 308, to https://HOST[:PORT] and the target's path and query as
 * sent (an absolute-form target's, whose authority is then the host);
 * HOST is the Host without its port. A request without a valid Host, or
 * with a target that is no path ("*", CONNECT's), gets 400.
 */
static void
exchange_redirect(struct exchange *ex, int port)
{
	struct evkeyvalq	*out = ex->fr.out;
	const char		*uri = ex->fr.uri, *host;
	const char		*path = NULL, *method;
	struct evbuffer		*body;
	size_t			 hostlen = 0, hlen;
	char			*loc = NULL, ports[8] = "", len[24];
	int			 code;

	method = exchange_command(ex->fr.cmd);
	if (exchange_request_ok(ex, method, &code) == -1) {
		exchange_error(ex, code, exchange_reason_phrase(code),
		    EXCHANGE_WHO_PROXY, 1);
		return;
	}
	host = evhttp_find_header(ex->fr.in, "Host");
	hostlen = host != NULL ? strlen(host) : 0;
	if (uri[0] == '/')
		path = uri;
	else if (strncasecmp(uri, "http://", 7) == 0 ||
	    strncasecmp(uri, "https://", 8) == 0) {
		host = strstr(uri, "//") + 2;	/* RFC 9112 3.2.2 */
		hostlen = strcspn(host, "/?#");
		path = host + hostlen;
	}
	if (path == NULL || host == NULL ||
	    (hlen = uri_authority_host(host, hostlen)) == 0) {
		log_info("#%llx %s:%u: bad request: redirect: %s",
		    (unsigned long long)ex->id, clientconn_ip(ex->fr.client),
		    clientconn_port(ex->fr.client), path == NULL ?
		    "the target is no path" : host == NULL ? "no Host" :
		    "the Host is not a valid host");
		exchange_error(ex, 400, "Bad Request", EXCHANGE_WHO_PROXY, 1);
		return;
	}
	if (port != 443)
		snprintf(ports, sizeof(ports), ":%d", port);
	code = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
	    301 : 308;
	body = evbuffer_new();
	if (body == NULL || asprintf(&loc, "https://%.*s%s%s%s", (int)hlen,
	    host, ports, path[0] == '/' ? "" : "/", path) == -1) {
		if (body != NULL)
			evbuffer_free(body);
		exchange_error(ex, 500, "Internal Server Error",
		    EXCHANGE_WHO_PROXY, 1);
		return;
	}
	ex->redirected = 1;
	ex->status = code;
	exchange_set_state(ex, EXCHANGE_ANSWERED);
	evhttp_add_header(out, "Location", loc);
	evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(body, "%d: see %s\n", code, loc);
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
	evhttp_add_header(out, "Content-Length", len);
	if (!ex->head_request)
		ex->bytes = evbuffer_get_length(body);
	exchange_close_header(ex, 0);
	(void)exchange_answer_edit(ex);	/* out of memory: without them */
	free(loc);
	ex->fr.ops->reply(&ex->fr, code, code == 301 ? "Moved Permanently" :
	    "Permanent Redirect", ex->head_request ? NULL : body);
	evbuffer_free(body);
}

/* Validate, route, pick a server and forward; or answer the error. */
static void
exchange_dispatch(struct exchange *ex, struct gen_listener *gl)
{
	const struct gen_route	*route = NULL;
	int			 code = 501;

	if (exchange_version(ex) == -1)
		return;
	exchange_trim(ex->fr.in);
	if (gl->conf->request_id != NULL)
		rewrite_request_id(ex->fr.in,
		    gl->conf->request_id, gl->conf->request_id_trust,
		    ex->reqid);
	if (gl->conf->redirect_port != 0) {
		exchange_redirect(ex, gl->conf->redirect_port);
		return;
	}
	if (ex->method != NULL && exchange_max_forwards(ex, ex->method))
		return;
	if (ex->method != NULL)
		route = exchange_route(ex, gl, &code);
	if (route != NULL) {
		/* from here the errors belong to the upstream too */
		ex->route = route;
		ex->up = route->up;
		code = 503;
		switch (upstream_take(ex->up, &ex->hold, exchange_sticky(ex),
		    exchange_granted, ex, &ex->wait)) {
		case UPSTREAM_QUEUED:
			exchange_queue(ex);
			return;
		case UPSTREAM_FULL:
			ex->phase = EXCHANGE_PHASE_QUEUE; /* proxy_queue */
			break;
		default:
			break;
		}
	}
	if (ex->hold.srv == NULL) {
		exchange_error(ex, code, exchange_reason_phrase(code),
		    EXCHANGE_WHO_PROXY, code != 404 && code != 503);
		return;
	}
	exchange_forward(ex);
}

#define EXCHANGE_XFF_MAX	64	/* X-Forwarded-For entries read */

/* One entry of an X-Forwarded-For list. */
struct exchange_xff {
	const char	*p;
	size_t		 len;
};

/*
 * The client's address: the peer's, unless the peer is one of the
 * listener's trusted_proxies; then the rightmost X-Forwarded-For entry
 * that is not itself trusted (the leftmost when all are), as nginx's
 * real_ip_recursive. An entry that is not an address ends the walk. Only
 * the last EXCHANGE_XFF_MAX entries are read: those are the ones a walk
 * from the right can reach past trusted hops.
 */
static void
exchange_client_addr(struct exchange *ex)
{
	const struct conf_cidrs	*tp = &ex->gl->conf->trusted_proxies;
	struct exchange_xff	 e[EXCHANGE_XFF_MAX];
	const struct evkeyval	*kv;
	const char		*v, *comma;
	const char		*peer = clientconn_ip(ex->fr.client);
	unsigned char		 a[16];
	size_t			 n = 0, i;
	int			 fam;

	snprintf(ex->addr, sizeof(ex->addr), "%s", peer);
	if (tp->n == 0 || conf_ip_parse(peer, strlen(peer), &fam, a) == -1 ||
	    !conf_cidrs_match(tp, fam, a))
		return;
	ex->trusted = 1;
	TAILQ_FOREACH(kv, ex->fr.in, next) {
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		for (v = kv->value; ; v = comma + 1) {
			comma = strchr(v, ',');
			e[n % EXCHANGE_XFF_MAX].p = v;
			e[n % EXCHANGE_XFF_MAX].len = comma != NULL ?
			    (size_t)(comma - v) : strlen(v);
			n++;
			if (comma == NULL)
				break;
		}
	}
	for (i = 0; i < n && i < EXCHANGE_XFF_MAX; i++) {
		const struct exchange_xff *x = &e[(n - 1 - i) %
		    EXCHANGE_XFF_MAX];

		if (conf_ip_parse(x->p, x->len, &fam, a) == -1 ||
		    inet_ntop(fam, a, ex->addr, sizeof(ex->addr)) == NULL)
			break;
		if (!conf_cidrs_match(tp, fam, a))
			break;
	}
}

/* See exchange.h. */
int
exchange_start(const struct front *f, struct gen *g, struct gen_listener *gl)
{
	struct exchange	*ex;

	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return -1;
	ex->fr = *f;
	ex->fr.ex = ex;
	ex->magic = EXCHANGE_MAGIC;
	ex->id = SLUICE_INC(&next_id);
	ex->gen = gen_ref(g);
	ex->gl = gl;
	ex->lname = gl->conf->name;
	ex->method = exchange_method(f->cmd);
	ex->client_timeout_ms = gl->conf->client_timeout_ms;
	ex->head_request = f->cmd == EVHTTP_REQ_HEAD;
	exchange_keep_target(ex);
	clock_gettime(CLOCK_MONOTONIC, &ex->t_start);
	exchange_client_addr(ex);
	if (exchanges.tqh_last == NULL)
		TAILQ_INIT(&exchanges);
	TAILQ_INSERT_TAIL(&exchanges, ex, entry);
	SLUICE_INC(&nexchanges);
	ex->fr.ops->begin(&ex->fr);
	/* (what the client pipelines meanwhile is bounded: nulscan.h) */
	exchange_dispatch(ex, gl);
	return 0;
}

/* End one exchange for shutdown or drain. */
static void
exchange_kill(struct exchange *ex, enum exchange_who who)
{
	exchange_server_done(ex, 0);
	if (exchange_replied(ex))
		exchange_cut(ex, who);
	else
		exchange_error(ex, 503, "Service Unavailable", who, 1);
}

/* End this worker's exchanges on srv (NULL: all of them). */
static void
exchange_kill_local(struct server *srv, enum exchange_who who)
{
	struct exchange	*ex, *next;

	if (exchanges.tqh_last == NULL)
		return;
	for (ex = TAILQ_FIRST(&exchanges); ex != NULL; ex = next) {
		next = TAILQ_NEXT(ex, entry);
		if (srv == NULL || (ex->srv == srv &&
		    (ex->uc != NULL || ex->tun != NULL)))
			exchange_kill(ex, who);
	}
}

/* What exchange_kill_server asks of the other workers. */
struct exchange_kill_req {
	struct server		*srv;		/* referenced; NULL: all */
	enum exchange_who	 who;
};

/* In a worker. */
static void
exchange_kill_cb(void *arg)
{
	struct exchange_kill_req	*k = arg;

	exchange_kill_local(k->srv, k->who);
}

/* Back in the main thread once every worker has. */
static void
exchange_kill_done(void *arg)
{
	struct exchange_kill_req	*k = arg;

	if (k->srv != NULL)
		server_unref(k->srv);
	free(k);
}

/* Ask every other worker to end its exchanges on srv (NULL: all). */
static void
exchange_kill_everywhere(struct server *srv, enum exchange_who who)
{
	struct exchange_kill_req	*k;

	if (!worker_threads())
		return;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		log_error("out of memory ending exchanges in other workers");
		return;
	}
	k->srv = srv;
	k->who = who;
	if (srv != NULL)
		server_ref(srv);
	worker_each(exchange_kill_cb, exchange_kill_done, k);
}

/* See exchange.h. */
void
exchange_kill_all(enum exchange_who who)
{
	exchange_kill_everywhere(NULL, who);
	exchange_kill_local(NULL, who);
}

/* See exchange.h. */
void
exchange_requeue(struct gen *g)
{
	struct exchange	*ex;
	struct upstream	*up;
	size_t		 i;

	if (exchanges.tqh_last == NULL)
		return;
	TAILQ_FOREACH(ex, &exchanges, entry) {
		if (ex->wait == NULL)
			continue;
		for (i = 0, up = NULL; i < g->nups && up == NULL; i++)
			if (strcmp(g->ups[i].conf->name,
			    ex->up->conf->name) == 0)
				up = &g->ups[i];
		if (up == NULL || up == ex->up)
			continue;
		gen_ref(g);
		if (upstream_wait_move(ex->wait, up) == -1) {
			gen_unref(g);
			continue;
		}
		if (ex->upgen != NULL)
			gen_unref(ex->upgen);
		ex->upgen = g;
		ex->up = up;
	}
}

/* See exchange.h. */
void
exchange_kill_server(struct server *srv, enum exchange_who who)
{
	exchange_kill_everywhere(srv, who);
	exchange_kill_local(srv, who);
}
