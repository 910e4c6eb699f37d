/*
 * admin: /healthz, /readyz, /status, the status page (/) and /reload, and
 * the checks in front of them (Host, Origin, Sec-Fetch-Site, the token)
 * that keep browsers and other hosts out.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/listener.h>

#include "proxy/ctl/admin.h"
#include "proxy/front/clientconn.h"
#include "proxy/exchange.h"
#include "proxy/front/listener.h"
#include "proxy/ctl/page.h"
#include "proxy/ctl/prom.h"
#include "proxy/http/http1.h"
#include "proxy/base/runtime.h"
#include "proxy/back/upconn.h"
#include "proxy/back/queue.h"
#include "proxy/back/server.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "proxy/base/version.h"
#include "tls/tls.h"

#define ADMIN_MAGIC	0x41444d4eu	/* "ADMN" */
/* Bytes of a refused header's value quoted in the log: enough to tell a
 * page's origin, too few for a client to fill the log with. */
#define ADMIN_LOG_VALUE	64

struct admin {
	unsigned			 magic;
	struct conf_addr		 addr;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	const struct admin_hooks	*hooks;
	struct event			*retire_ev;	/* admin_free_later */
	struct log_limit		 tls_log;	/* "cannot set up
							 * TLS" lines */
	struct admin			*next;		/* retiring list */
	struct admin			*open_next;	/* admins list */
	int				 spare;		/* a descriptor kept
							 * for the admin's
							 * accept; -1: none */
	struct event			*spare_ev;	/* get it back */
	struct log_limit		 accept_log;	/* "cannot accept" */
};

static struct admin	*admins;	/* every open admin, linked */

#define ADMIN_SPARE_MS	10	/* out of descriptors: retry after */

static void	admin_conn_closed(struct evhttp_connection *, void *);

/* Append s as a JSON string. */
static void
admin_json_str(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c < 0x20)
			evbuffer_add_printf(b, "\\u%04x", c);
		else
			evbuffer_add(b, s, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* Append the lines of text as a JSON array of strings. */
static void
admin_json_lines(struct evbuffer *b, const char *text)
{
	const char	*p = text, *nl;
	char		 line[1024];
	int		 first = 1;

	evbuffer_add(b, "[", 1);
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl != NULL ?
		    nl - p : (ptrdiff_t)strlen(p)), p);
		if (!first)
			evbuffer_add(b, ",", 1);
		admin_json_str(b, line);
		first = 0;
		p = nl != NULL ? nl + 1 : NULL;
	}
	evbuffer_add(b, "]", 1);
}

/*
 * Append s's "drain": null while it takes requests; else since when (Unix
 * time), and for a server a reload removed the deadline of its drain
 * (drain_timeout, after which what remains is ended) and the ms left. An
 * admin drain or weight 0 has no deadline: its exchanges run their
 * course.
 */
static void
admin_json_server_drain(struct evbuffer *b, struct server *s)
{
	struct timeval	 end, now;
	uint64_t	 ago;
	int64_t		 left;

	if (SLUICE_LOAD(&s->state) != SERVER_DRAINING) {
		if (!SLUICE_LOAD(&s->admin_drain) &&
		    server_weight(s, s->conf_weight) != 0) {
			evbuffer_add_printf(b, ",\"drain\":null");
			return;
		}
		ago = sluice_now_ms() - SLUICE_LOAD(&s->drained_at);
		evbuffer_add_printf(b, ",\"drain\":{\"since\":%lld,"
		    "\"deadline\":null,\"left_ms\":null}",
		    (long long)(time(NULL) - (time_t)(ago / 1000)));
		return;
	}
	/* the timer's expiry, as event_pending gives it: wall-clock time */
	if (s->drain_ev == NULL ||
	    !event_pending(s->drain_ev, EV_TIMEOUT, &end)) {
		evbuffer_add_printf(b, ",\"drain\":{\"since\":null,"
		    "\"deadline\":null,\"left_ms\":0}");
		return;
	}
	gettimeofday(&now, NULL);
	left = (int64_t)(end.tv_sec - now.tv_sec) * 1000 +
	    (end.tv_usec - now.tv_usec) / 1000;
	/* end comes from libevent's cached clock, a moment ahead of now */
	if (left > (int64_t)server_local(s)->set.drain_timeout_ms)
		left = (int64_t)server_local(s)->set.drain_timeout_ms;
	evbuffer_add_printf(b, ",\"drain\":{\"since\":%lld,\"deadline\":"
	    "%lld,\"left_ms\":%lld}", (long long)(end.tv_sec - (time_t)
	    (server_local(s)->set.drain_timeout_ms / 1000)),
	    (long long)end.tv_sec, (long long)(left > 0 ? left : 0));
}

/*
 * Append one server object; weight is the one in use (0: no new request),
 * configured_weight the file's.
 */
static void
admin_json_server(struct evbuffer *b, struct server *s)
{
	unsigned	idle, busy;

	server_conns(s, &idle, &busy);
	evbuffer_add(b, "{\"name\":", 8);
	admin_json_str(b, s->name);
	evbuffer_add(b, ",\"address\":", 11);
	admin_json_str(b, s->addrtext);
	evbuffer_add_printf(b, ",\"state\":\"%s\",\"health\":\"%s\","
	    "\"admin\":\"%s\",\"weight\":%d,\"configured_weight\":%d,"
	    "\"in_flight\":%u,\"idle\":%u,\"busy\":%u,\"requests\":%llu,"
	    "\"connects\":%llu,\"reuses\":%llu,\"retired\":%llu,"
	    "\"safe_fresh\":%llu,\"idle_timeout_ms\":%llu,\"invalid\":%llu,"
	    "\"held\":%llu,\"max_conns\":%d,\"slots\":%u,"
	    "\"sticky_requests\":%llu,\"sticky_recent\":%llu",
	    server_state_name(s->state),
	    server_up(s, sluice_now_ms()) ? "up" : "down",
	    s->admin_drain ? "drain" : "enable",
	    server_weight(s, s->conf_weight), s->conf_weight,
	    SLUICE_LOAD(&s->inflight), idle, busy,
	    (unsigned long long)SLUICE_LOAD(&s->requests),
	    (unsigned long long)SLUICE_LOAD(&s->connects),
	    (unsigned long long)SLUICE_LOAD(&s->reuses),
	    (unsigned long long)SLUICE_LOAD(&s->retired),
	    (unsigned long long)SLUICE_LOAD(&s->safe_fresh),
	    (unsigned long long)server_idle_timeout_ms(s),
	    (unsigned long long)SLUICE_LOAD(&s->invalid),
	    (unsigned long long)SLUICE_LOAD(&s->held),
	    SLUICE_LOAD(&s->max_conns), SLUICE_LOAD(&s->slots),
	    (unsigned long long)SLUICE_LOAD(&s->sticky_requests),
	    (unsigned long long)server_sticky_recent(s, sluice_now_ms()));
	admin_json_server_drain(b, s);
	evbuffer_add(b, "}", 1);
}

/* 1 when an upstream called name appears in the registry before s. */
static int
admin_upstream_seen(const struct server *s)
{
	const struct server	*t;

	for (t = TAILQ_PREV(s, server_list, entry); t != NULL;
	    t = TAILQ_PREV(t, server_list, entry))
		if (strcmp(t->upstream, s->upstream) == 0)
			return 1;
	return 0;
}

/* Append the upstreams of every live server, draining ones included. */
static void
admin_json_upstreams(struct evbuffer *b)
{
	struct server	*s, *t;
	struct upqueue	*q;
	int		 first = 1, firsts;

	evbuffer_add(b, "[", 1);
	TAILQ_FOREACH(s, server_registry(), entry) {
		if (admin_upstream_seen(s))
			continue;
		evbuffer_add_printf(b, "%s{\"name\":", first ? "" : ",");
		admin_json_str(b, s->upstream);
		q = s->queue;
		evbuffer_add_printf(b, ",\"queue_depth\":%u,\"queue_waited\":"
		    "%llu,\"queue_overflows\":%llu,\"queue_timeouts\":%llu",
		    upqueue_depth(q),
		    (unsigned long long)SLUICE_LOAD(&q->queued),
		    (unsigned long long)SLUICE_LOAD(&q->overflows),
		    (unsigned long long)SLUICE_LOAD(&q->timeouts));
		evbuffer_add(b, ",\"servers\":[", 12);
		firsts = 1;
		for (t = s; t != NULL; t = TAILQ_NEXT(t, entry)) {
			if (strcmp(t->upstream, s->upstream) != 0)
				continue;
			if (!firsts)
				evbuffer_add(b, ",", 1);
			admin_json_server(b, t);
			firsts = 0;
		}
		evbuffer_add(b, "]}", 2);
		first = 0;
	}
	evbuffer_add(b, "]", 1);
}

/* Where admin_json_listener writes. */
struct admin_json_ls {
	struct evbuffer	*b;
	int		 first;
};

/* One listener of /status. */
static void
admin_json_listener(void *arg, const struct prom_listener *l)
{
	struct admin_json_ls	*ls = arg;

	if (!ls->first)
		evbuffer_add(ls->b, ",", 1);
	ls->first = 0;
	evbuffer_add(ls->b, "{\"name\":", 8);
	admin_json_str(ls->b, l->name);
	evbuffer_add(ls->b, ",\"listen\":", 10);
	admin_json_str(ls->b, l->listen);
	evbuffer_add_printf(ls->b, ",\"connections\":%u,"
	    "\"max_connections\":%u}", l->connections, l->max_connections);
}

/* The /status document. */
static void
admin_status(struct admin *a, struct evbuffer *b)
{
	struct admin_info	i;
	struct admin_json_ls	ls;

	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	evbuffer_add_printf(b, "{\"version\":\"" SLUICE_VERSION "\","
	    "\"pid\":%ld,\"generation\":%llu,"
	    "\"state\":\"%s\",\"ready\":%s,\"workers\":%u,\"in_flight\":%u,"
	    "\"connections\":%u,\"tls_ticket_rotations\":%llu,"
	    "\"reloads\":{\"ok\":%llu,\"failed\":%llu},"
	    "\"last_reload\":{\"time\":%lld,\"ok\":%s,\"errors\":",
	    (long)getpid(), (unsigned long long)i.generation, i.state,
	    i.ready ? "true" : "false", i.workers, exchange_count(),
	    clientconn_count(),
	    (unsigned long long)tls_tickets_rotations(),
	    (unsigned long long)i.reloads_ok,
	    (unsigned long long)i.reloads_failed, (long long)i.last_reload,
	    i.last_reload_ok ? "true" : "false");
	admin_json_lines(b, i.last_reload_errors != NULL ?
	    i.last_reload_errors : "");
	evbuffer_add_printf(b, "},\"drain\":");
	if (i.drain_since == 0)
		evbuffer_add_printf(b, "null");
	else
		evbuffer_add_printf(b, "{\"since\":%lld,\"deadline\":%lld,"
		    "\"left_ms\":%llu}", (long long)i.drain_since,
		    (long long)i.drain_deadline,
		    (unsigned long long)i.drain_left_ms);
	evbuffer_add_printf(b, ",\"max_connections\":%lu,\"listeners\":[",
	    i.max_connections);
	ls.b = b;
	ls.first = 1;
	if (i.each_listener != NULL)
		i.each_listener(admin_json_listener, &ls);
	evbuffer_add(b, "],\"upstreams\":", 14);
	admin_json_upstreams(b);
	evbuffer_add(b, "}\n", 2);
}

/* Send body with status code and a content type. */
static void
admin_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

/* POST /reload: run the reload transaction and report it. */
static void
admin_reload(struct admin *a, struct evhttp_request *req,
    struct evbuffer *b)
{
	struct admin_info	i;
	int			ok = a->hooks->reload() == 0;

	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	evbuffer_add_printf(b, "{\"ok\":%s,\"generation\":%llu,\"errors\":",
	    ok ? "true" : "false", (unsigned long long)i.generation);
	admin_json_lines(b, ok ? "" : i.last_reload_errors);
	evbuffer_add(b, "}\n", 2);
	admin_reply(req, ok ? 200 : 422, ok ? "OK" : "Unprocessable Content",
	    "application/json", b);
}

/* Answer a short text with code. */
static void
admin_text(struct evhttp_request *req, struct evbuffer *b, int code,
    const char *reason, const char *text)
{
	evbuffer_add_printf(b, "%s\n", text);
	admin_reply(req, code, reason, "text/plain", b);
}

/* Answer a JSON error {"error":text} with code. */
static void
admin_json_error(struct evhttp_request *req, struct evbuffer *b, int code,
    const char *reason, const char *text)
{
	evbuffer_add(b, "{\"error\":", 9);
	admin_json_str(b, text);
	evbuffer_add(b, "}\n", 2);
	admin_reply(req, code, reason, "application/json", b);
}

/* Compare without an early exit, so timing does not reveal the token. */
static int
admin_token_equal(const char *given, const char *token)
{
	size_t		 i, n = strlen(token), m = strlen(given);
	unsigned char	 diff = n != m;

	for (i = 0; i < n; i++)
		diff |= (unsigned char)token[i] ^
		    (unsigned char)(i < m ? given[i] : 0);
	return diff == 0;
}

/* 1 when the request carries the token, or none is configured. */
static int
admin_authorized(struct evhttp_request *req, const char *token)
{
	const char	*h;

	if (token == NULL)
		return 1;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	/* the scheme is case-insensitive (RFC 9110 11.1) */
	return h != NULL && strncasecmp(h, "Bearer ", 7) == 0 &&
	    admin_token_equal(h + 7, token);
}

/* Where a request came in: the connection's local address and scheme. */
struct admin_conn {
	struct sockaddr_storage	 local;
	socklen_t		 locallen;	/* 0: unknown */
	int			 port;		/* local port */
	int			 tls;
	char			 peer[INET6_ADDRSTRLEN];
};

/* Fill c from req's connection. */
static void
admin_conn_get(struct evhttp_request *req, struct admin_conn *c)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	char				*peer = NULL;
	ev_uint16_t			 pport;
	evutil_socket_t			 fd;

	memset(c, 0, sizeof(*c));
	snprintf(c->peer, sizeof(c->peer), "-");
	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return;
	evhttp_connection_get_peer(evcon, &peer, &pport);
	if (peer != NULL)
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
	bev = evhttp_connection_get_bufferevent(evcon);
	c->tls = bev != NULL && bufferevent_openssl_get_ssl(bev) != NULL;
	c->locallen = sizeof(c->local);
	if (bev == NULL || (fd = bufferevent_getfd(bev)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&c->local, &c->locallen) == -1) {
		c->locallen = 0;
		return;
	}
	if (c->local.ss_family == AF_INET)
		c->port = ntohs(((struct sockaddr_in *)&c->local)->sin_port);
	else if (c->local.ss_family == AF_INET6)
		c->port = ntohs(((struct sockaddr_in6 *)&c->local)->sin6_port);
}

/* 1 when ss (an IPv4 or IPv6 address, mapped IPv4 too) is loopback. */
static int
admin_loopback(const struct sockaddr_storage *ss)
{
	const struct in6_addr	*a6;

	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr)
		    >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a6) ||
	    (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

/* 1 when the IP literal ip is the local address of c. */
static int
admin_ip_is_local(const char *ip, const struct admin_conn *c)
{
	const struct sockaddr_in	*sin = (const void *)&c->local;
	const struct sockaddr_in6	*sin6 = (const void *)&c->local;
	unsigned char			 a[16];

	if (c->local.ss_family == AF_INET)
		return inet_pton(AF_INET, ip, a) == 1 &&
		    memcmp(a, &sin->sin_addr, 4) == 0;
	if (c->local.ss_family != AF_INET6)
		return 0;
	if (inet_pton(AF_INET6, ip, a) == 1)
		return memcmp(a, &sin6->sin6_addr, 16) == 0;
	/* an IPv4 client of a [::] listener */
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    inet_pton(AF_INET, ip, a) == 1 &&
	    memcmp(a, &sin6->sin6_addr.s6_addr[12], 4) == 0;
}

/*
 * 1 when host (no port, no brackets) names the admin: the address the
 * connection came to, localhost when that is loopback, or a server_name.
 * A page that rebinds its own name to the admin's address still sends
 * its own name, so none of these can be the attacker's.
 */
static int
admin_name_ok(const char *host, const struct conf_admin *ca,
    const struct admin_conn *c)
{
	size_t	i;

	if (host[0] == '\0')
		return 0;
	if (c->locallen > 0 && admin_ip_is_local(host, c))
		return 1;
	if (strcasecmp(host, "localhost") == 0 && c->locallen > 0 &&
	    admin_loopback(&c->local))
		return 1;
	for (i = 0; i < ca->nserver_names; i++)
		if (strcasecmp(host, ca->server_names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Split "name[:port]" or "[v6][:port]" into host (no brackets) and *port
 * (-1 when absent). -1 when malformed.
 */
static int
admin_hostport(const char *hp, size_t n, char *host, size_t len, int *port)
{
	const char	*end = hp + n, *colon;
	size_t		 hl;

	*port = -1;
	if (n > 0 && hp[0] == '[') {
		if ((colon = memchr(hp, ']', n)) == NULL)
			return -1;
		hl = (size_t)(colon - hp - 1);
		hp++;
		colon++;
		if (colon != end && *colon != ':')
			return -1;
	} else {
		colon = memchr(hp, ':', n);
		hl = colon != NULL ? (size_t)(colon - hp) : n;
		if (colon == NULL)
			colon = end;
	}
	if (hl == 0 || hl >= len)
		return -1;
	memcpy(host, hp, hl);
	host[hl] = '\0';
	if (colon == end)
		return 0;
	colon++;
	if (end - colon < 1 || end - colon > 5 ||
	    strspn(colon, "0123456789") < (size_t)(end - colon))
		return -1;
	*port = atoi(colon);
	return *port >= 1 && *port <= 65535 ? 0 : -1;
}

/* 1 when the Host header names the admin (its port is not compared: port
 * forwards change it, and a rebinding page cannot choose the name). */
static int
admin_host_ok(const char *h, const struct conf_admin *ca,
    const struct admin_conn *c)
{
	char	host[256];
	int	port;

	return admin_hostport(h, strlen(h), host, sizeof(host), &port) == 0 &&
	    admin_name_ok(host, ca, c);
}

/*
 * 1 when Origin is the admin's own: the connection's scheme, a name of
 * the admin, and the port it was reached on (the scheme's default when
 * absent). "null" and anything with a path are not.
 */
static int
admin_origin_ok(const char *o, const struct conf_admin *ca,
    const struct admin_conn *c)
{
	const char	*scheme = c->tls ? "https://" : "http://";
	size_t		 sl = strlen(scheme);
	char		 host[256];
	int		 port;

	if (strncasecmp(o, scheme, sl) != 0 ||
	    admin_hostport(o + sl, strlen(o + sl), host, sizeof(host),
	    &port) == -1)
		return 0;
	if (port == -1)
		port = c->tls ? 443 : 80;
	return port == c->port && admin_name_ok(host, ca, c);
}

/*
 * Why req must be refused (403) before anything else: its Host does not
 * name the admin, or (a method other than GET and HEAD) its Origin is
 * another's or Sec-Fetch-Site is not same-origin or none. NULL when it may
 * go on; *hdr and *val then unused. A missing header refuses nothing:
 * browsers always send Host and, on a cross-site POST, Origin; scripts
 * that send neither keep working.
 */
static const char *
admin_refusal(struct evhttp_request *req, const struct conf_admin *ca,
    const struct admin_conn *c, const char **hdr, const char **val)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	*hdr = "Host";
	if ((*val = evhttp_find_header(in, *hdr)) != NULL &&
	    !admin_host_ok(*val, ca, c))
		return "Host does not name the admin endpoint";
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return NULL;
	*hdr = "Origin";
	if ((*val = evhttp_find_header(in, *hdr)) != NULL &&
	    !admin_origin_ok(*val, ca, c))
		return "cross-origin request";
	*hdr = "Sec-Fetch-Site";
	if ((*val = evhttp_find_header(in, *hdr)) != NULL &&
	    strcasecmp(*val, "same-origin") != 0 &&
	    strcasecmp(*val, "none") != 0)
		return "cross-site request";
	return NULL;
}

/* 1 when the admin listens on a loopback address (127.0.0.0/8, ::1). */
static int
admin_on_loopback(const struct admin *a)
{
	return admin_loopback(&a->addr.ss);
}

/*
 * 1 when req needs the token: a method other than GET and HEAD; off
 * loopback every request (the probes are answered before), except GET
 * /status and /metrics with public_read. The status page (/) is gated
 * exactly like /status: it is static, but it exists to show /status.
 */
static int
admin_needs_token(const struct admin *a, struct evhttp_request *req,
    const struct conf_admin *ca, const char *path)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);

	if (ca->token == NULL)
		return 0;
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
		return 1;
	if (admin_on_loopback(a))
		return 0;
	return !(ca->public_read && (strcmp(path, "/status") == 0 ||
	    strcmp(path, "/metrics") == 0 || strcmp(path, "/") == 0));
}

/* Copy s into buf for a log line: printable ASCII, cut short. */
static const char *
admin_log_value(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/*
 * Log one refused request: a warning, at most one line a second (any
 * client can send them), the next line counting those left out.
 */
static void
admin_log_refusal(struct evhttp_request *req, const struct admin_conn *c,
    int code, const char *why, const char *hdr, const char *val)
{
	static struct log_limit	 lim;	/* the admin runs in the main thread */
	unsigned long		 held;
	char			 v[ADMIN_LOG_VALUE + 1], u[ADMIN_LOG_VALUE + 1];

	if (!log_limit_pass(&lim, sluice_now_ms(), &held))
		return;
	admin_log_value(evhttp_request_get_uri(req), u, sizeof(u));
	if (hdr != NULL && val != NULL)
		log_warn("admin: %d to %s from %s: %s (%s: \"%s\")%s", code,
		    u, c->peer, why, hdr, admin_log_value(val, v, sizeof(v)),
		    held > 0 ? " (and more not logged)" : "");
	else
		log_warn("admin: %d to %s from %s: %s%s", code, u, c->peer,
		    why, held > 0 ? " (and more not logged)" : "");
}

/*
 * The checks in front of every endpoint but the probes: 1 when req may go
 * on, else 0 with a 403 or 401 sent.
 */
static int
admin_guard(struct admin *a, struct evhttp_request *req, struct evbuffer *b,
    const struct conf_admin *ca, const char *path)
{
	struct admin_conn	 c;
	const char		*why, *hdr, *val;

	admin_conn_get(req, &c);
	if ((why = admin_refusal(req, ca, &c, &hdr, &val)) != NULL) {
		admin_log_refusal(req, &c, 403, why, hdr, val);
		admin_json_error(req, b, 403, "Forbidden", why);
		return 0;
	}
	if (admin_needs_token(a, req, ca, path) &&
	    !admin_authorized(req, ca->token)) {
		admin_log_refusal(req, &c, 401, "no valid token", NULL, NULL);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		admin_json_error(req, b, 401, "Unauthorized", "bad token");
		return 0;
	}
	return 1;
}

/* The live (not removed) server S of upstream U, or NULL. */
static struct server *
admin_server_find(const char *u, size_t ulen, const char *name,
    size_t namelen)
{
	struct server	*s;

	TAILQ_FOREACH(s, server_registry(), entry)
		if (s->state == SERVER_ACTIVE &&
		    strlen(s->upstream) == ulen &&
		    strncmp(s->upstream, u, ulen) == 0 &&
		    strlen(s->name) == namelen &&
		    strncmp(s->name, name, namelen) == 0)
			return s;
	return NULL;
}

/* 1 when any live server belongs to upstream u. */
static int
admin_upstream_exists(const char *u, size_t ulen)
{
	struct server	*s;

	TAILQ_FOREACH(s, server_registry(), entry)
		if (s->state == SERVER_ACTIVE &&
		    strlen(s->upstream) == ulen &&
		    strncmp(s->upstream, u, ulen) == 0)
			return 1;
	return 0;
}

/*
 * The value= of a weight query into *w: 0..1000 (digits only), or
 * SERVER_WEIGHT_CONF for "reset". -1 when there is no valid one.
 */
static int
admin_weight_parse(const char *query, int *w)
{
	const char	*v;
	size_t		 n;

	v = query != NULL ? strstr(query, "value=") : NULL;
	if (v == NULL || (v != query && v[-1] != '&'))
		return -1;
	v += 6;
	n = strcspn(v, "&");
	if (n == 5 && strncmp(v, "reset", 5) == 0) {
		*w = SERVER_WEIGHT_CONF;
		return 0;
	}
	/* at most 4 digits: no sign, space or overflow reaches atoi */
	if (n == 0 || n > 4 || strspn(v, "0123456789") < n || atoi(v) > 1000)
		return -1;
	*w = atoi(v);
	return 0;
}

/*
 * Set the admin weight of s (SERVER_WEIGHT_CONF: back to the configured
 * one). Weight 0 is a soft drain: no new request, but s stays active and
 * enabled and keeps its idle connections (they age out) and its checks.
 */
static void
admin_server_weight(struct server *s, int w)
{
	upstream_server_weight(s, w);
	if (w == SERVER_WEIGHT_CONF)
		log_info("server %s/%s: weight reset by the admin endpoint "
		    "(back to the configured %d)", s->upstream, s->name,
		    s->conf_weight);
	else if (w == 0)
		log_info("server %s/%s: weight 0 by the admin endpoint (no "
		    "new requests; the %u in flight finish)", s->upstream,
		    s->name, SLUICE_LOAD(&s->inflight));
	else
		log_info("server %s/%s: weight %d by the admin endpoint",
		    s->upstream, s->name, w);
}

/* Apply action (drain, enable, weight) to s. NULL, or why it failed. */
static const char *
admin_server_act(struct server *s, const char *action, const char *query)
{
	int	w;

	if (strcmp(action, "weight") == 0) {
		if (admin_weight_parse(query, &w) == -1)
			return "weight needs ?value=N with N 0..1000 (0: no "
			    "new requests) or ?value=reset (the configured "
			    "weight)";
		admin_server_weight(s, w);
		return NULL;
	}
	if (strcmp(action, "drain") == 0)
		upstream_server_drain(s);
	else if (strcmp(action, "enable") == 0)
		upstream_server_enable(s);
	else
		return "";
	log_info("server %s/%s: %s%s%s by the admin endpoint", s->upstream,
	    s->name, action, query != NULL ? " " : "",
	    query != NULL ? query : "");
	return NULL;
}

/*
 * /upstreams/U/servers/S/ACTION[?query]: runtime control. The server's
 * runtime state survives reloads while it stays in the configuration.
 */
static void
admin_servers(struct admin *a, struct evhttp_request *req,
    struct evbuffer *b, const char *path)
{
	char		 buf[512], *u, *srv, *action, *query, *p;
	struct server	*s;
	const char	*why;

	snprintf(buf, sizeof(buf), "%s", path + strlen("/upstreams/"));
	if ((query = strchr(buf, '?')) != NULL)
		*query++ = '\0';
	u = buf;
	if ((p = strstr(u, "/servers/")) == NULL ||
	    (action = strrchr(p + 9, '/')) == NULL) {
		admin_json_error(req, b, 404, "Not Found", "no such path");
		return;
	}
	*p = '\0';
	srv = p + 9;
	*action++ = '\0';
	if (strcmp(action, "drain") != 0 && strcmp(action, "enable") != 0 &&
	    strcmp(action, "weight") != 0) {
		admin_json_error(req, b, 404, "Not Found", "no such action");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		admin_json_error(req, b, 405, "Method Not Allowed",
		    "use POST");
		return;
	}
	if (!admin_upstream_exists(u, strlen(u))) {
		admin_json_error(req, b, 404, "Not Found", "no such upstream");
		return;
	}
	if ((s = admin_server_find(u, strlen(u), srv, strlen(srv))) == NULL) {
		admin_json_error(req, b, 404, "Not Found", "no such server");
		return;
	}
	if ((why = admin_server_act(s, action, query)) != NULL) {
		admin_json_error(req, b, 400, "Bad Request", why);
		return;
	}
	admin_json_server(b, s);
	evbuffer_add(b, "\n", 1);
	admin_reply(req, 200, "OK", "application/json", b);
}

/* GET /metrics. */
static void
admin_metrics(struct evhttp_request *req, struct evbuffer *b,
    const struct admin_info *i)
{
	struct prom_gauges	g;

	g.generation = i->generation;
	g.state = i->state;
	g.reloads_ok = i->reloads_ok;
	g.reloads_failed = i->reloads_failed;
	g.in_flight = exchange_count();
	g.connections = clientconn_count();
	g.max_connections = i->max_connections;
	g.each_listener = i->each_listener;
	g.ticket_rotations = tls_tickets_rotations();
	if (prom_render(b, &g) == -1) {
		admin_text(req, b, 500, "Internal Server Error",
		    "out of memory");
		return;
	}
	admin_reply(req, 200, "OK", "text/plain; version=0.0.4", b);
}

/* GET /: the status page (page.h), with the headers that confine it. */
static void
admin_page(struct evhttp_request *req, struct evbuffer *b)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*csp = page_csp();

	if (csp == NULL) {
		admin_text(req, b, 500, "Internal Server Error",
		    "cannot hash the page");
		return;
	}
	evbuffer_add_reference(b, page_html(), strlen(page_html()), NULL,
	    NULL);
	evhttp_add_header(out, "Content-Security-Policy", csp);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	admin_reply(req, 200, "OK", "text/html; charset=utf-8", b);
}

/* The fixed endpoints: 1 when path is one of them (answered). */
static int
admin_fixed(struct admin *a, struct evhttp_request *req, struct evbuffer *b,
    const char *path, const struct admin_info *i)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);
	int			get = cmd == EVHTTP_REQ_GET ||
				    cmd == EVHTTP_REQ_HEAD;
	int			post = strcmp(path, "/reload") == 0;

	if (strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
	    strcmp(path, "/status") != 0 && strcmp(path, "/metrics") != 0 &&
	    strcmp(path, "/") != 0 && !post)
		return 0;
	if (post ? cmd != EVHTTP_REQ_POST : !get) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", post ? "POST" : "GET, HEAD");
		admin_text(req, b, 405, "Method Not Allowed",
		    "method not allowed");
	} else if (post)
		admin_reload(a, req, b);
	else if (strcmp(path, "/healthz") == 0)
		admin_text(req, b, 200, "OK", "ok");
	else if (strcmp(path, "/readyz") == 0)
		admin_text(req, b, i->ready ? 200 : 503, i->ready ? "OK" :
		    "Service Unavailable", i->ready ? "ready" : i->state);
	else if (strcmp(path, "/metrics") == 0)
		admin_metrics(req, b, i);
	else if (strcmp(path, "/") == 0)
		admin_page(req, b);
	else {
		admin_status(a, b);
		admin_reply(req, 200, "OK", "application/json", b);
	}
	return 1;
}

/* Route one admin request. */
static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct evbuffer		*b = evbuffer_new();
	const char		*path = evhttp_request_get_uri(req);
	struct admin_info	 i;
	int			 minor = req->minor;

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	if (a->spare == -1)	/* its descriptor comes back at the close */
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(req), admin_conn_closed, a);
	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* as an exchange: answered in a version that exists (RFC 9110 2.5) */
	if (http1_request_version(req->major, &minor) == -1) {
		req->major = 1;
		req->minor = 1;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		admin_text(req, b, 505, "HTTP Version Not Supported",
		    "HTTP/1.0 or HTTP/1.1 only");
		evbuffer_free(b);
		return;
	}
	req->minor = (char)minor;
	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	/* the probes say only up or ready: open to every load balancer */
	if (strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
	    i.conf != NULL && !admin_guard(a, req, b, i.conf, path)) {
		evbuffer_free(b);
		return;
	}
	if (!admin_fixed(a, req, b, path, &i)) {
		if (strncmp(path, "/upstreams/", 11) == 0)
			admin_servers(a, req, b, path);
		else
			admin_text(req, b, 404, "Not Found", "not found");
	}
	evbuffer_free(b);
}

/*
 * evhttp asks for the bufferevent of a new connection: TLS when the
 * current generation gives the admin certificates, so a reload's new ones
 * serve the next handshake.
 */
static struct bufferevent *
admin_bevcb(struct event_base *base, void *arg)
{
	struct admin		*a = arg;
	struct admin_info	 i;
	struct bufferevent	*bev = NULL;
	unsigned long		 held;
	SSL			*ssl;

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	if (i.tls == NULL)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = tls_server_ssl_new(i.tls)) != NULL &&
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		SSL_free(ssl);
	if (bev == NULL) {
		if (log_limit_pass(&a->tls_log, sluice_now_ms(), &held))
			log_error("admin: cannot set up TLS for a connection%s",
			    held > 0 ? " (and more not logged)" : "");
		/* NULL would serve plain text */
		return listener_bev_refuse(base);
	}
	return bev;
}

/*
 * Keep a spare descriptor again, and accept again when paused for want of
 * one; while the descriptors are all taken, try again later.
 */
static void
admin_spare_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;
	struct timeval	 tv = sluice_tv(ADMIN_SPARE_MS);

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	if (a->spare == -1)
		a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a->bound != NULL)
		evconnlistener_enable(evhttp_bound_socket_get_listener(
		    a->bound));
	if (a->spare == -1)
		evtimer_add(a->spare_ev, &tv);
}

/*
 * An admin connection that took the spare descriptor's place closes: take
 * the spare back as soon as its descriptor is closed (after this
 * callback), before a client listener can.
 */
static void
admin_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct admin	*a = arg;

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	if (a->spare == -1 && a->spare_ev != NULL)
		event_active(a->spare_ev, EV_TIMEOUT, 0);
}

/*
 * accept(2) failed on the admin's socket (the argument is evhttp's). Out
 * of descriptors, the spare one is given up so that the next try takes
 * its place: /healthz and /status answer while the client listeners are
 * full. Without a spare, accepting pauses for ADMIN_SPARE_MS instead of
 * failing again at once, every loop turn.
 */
static void
admin_accept_error_cb(struct evconnlistener *el, void *arg)
{
	struct admin	*a;
	struct timeval	 tv = sluice_tv(ADMIN_SPARE_MS);
	unsigned long	 held;
	int		 err = EVUTIL_SOCKET_ERROR();

	for (a = admins; a != NULL; a = a->open_next)
		if (a->http == arg)
			break;
	if (a == NULL || a->spare_ev == NULL)
		return;
	if (a->spare != -1) {
		close(a->spare);
		a->spare = -1;
	} else
		evconnlistener_disable(el);
	evtimer_add(a->spare_ev, &tv);
	if (log_limit_pass(&a->accept_log, sluice_now_ms(), &held))
		log_warn("admin: cannot accept on %s: %s%s", a->addr.text,
		    evutil_socket_error_to_string(err),
		    held > 0 ? " (and more not logged)" : "");
}

/* See admin.h. */
struct admin *
admin_open(const struct conf_addr *addr, const struct admin_hooks *hooks,
    char **err)
{
	struct admin		*a;
	struct evconnlistener	*el;
	struct timeval		 tv = { 10, 0 };

	*err = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->addr.text = strdup(addr->text)) == NULL ||
	    (a->http = evhttp_new(sluice_base)) == NULL)
		goto fail;
	a->magic = ADMIN_MAGIC;
	a->hooks = hooks;
	a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((a->spare_ev = evtimer_new(sluice_base, admin_spare_cb, a)) ==
	    NULL)
		goto fail;
	memcpy(&a->addr.ss, &addr->ss, addr->sslen);
	a->addr.sslen = addr->sslen;
	evhttp_set_timeout_tv(a->http, &tv);
	evhttp_set_max_body_size(a->http, 4096);
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_default_content_type(a->http, NULL);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(a->http, admin_request_cb, a);
	evhttp_set_bevcb(a->http, admin_bevcb, a);
	if ((el = listener_socket(&a->addr, 64)) == NULL)
		goto fail;
	if ((a->bound = evhttp_bind_listener(a->http, el)) == NULL) {
		evconnlistener_free(el);
		goto fail;
	}
	evconnlistener_set_error_cb(el, admin_accept_error_cb);
	a->open_next = admins;
	admins = a;
	return a;
fail:
	if (asprintf(err, "admin: cannot listen on %s: %s", addr->text,
	    strerror(errno)) == -1)
		*err = NULL;
	admin_free(a);
	return NULL;
}

/* See admin.h. */
int
admin_is_on(const struct admin *a, const struct conf_addr *addr)
{
	return a->addr.sslen == addr->sslen &&
	    memcmp(&a->addr.ss, &addr->ss, addr->sslen) == 0;
}

/* See admin.h. */
int
admin_fd(const struct admin *a)
{
	return a != NULL && a->bound != NULL ?
	    evhttp_bound_socket_get_fd(a->bound) : -1;
}

static struct admin	*retiring;	/* admin_free_later's, linked */

/* Unlink a from the retiring list. */
static void
admin_unretire(struct admin *a)
{
	struct admin	**pp;

	for (pp = &retiring; *pp != NULL; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			return;
		}
}

/* The deferred free of admin_free_later. */
static void
admin_free_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_free(arg);
}

/* See admin.h. */
void
admin_free_later(struct admin *a)
{
	struct timeval	tv = { 1, 0 };	/* its last answer goes out first */

	if (a == NULL)
		return;
	if (a->bound != NULL) {		/* stop accepting at once */
		evhttp_del_accept_socket(a->http, a->bound);
		a->bound = NULL;
	}
	if ((a->retire_ev = evtimer_new(sluice_base, admin_free_cb, a)) ==
	    NULL) {
		admin_free(a);
		return;
	}
	a->next = retiring;
	retiring = a;
	evtimer_add(a->retire_ev, &tv);
}

/* See admin.h. */
void
admin_free_retiring(void)
{
	while (retiring != NULL)
		admin_free(retiring);
}

/* See admin.h. */
void
admin_free(struct admin *a)
{
	struct admin	**pp;

	if (a == NULL)
		return;
	if (a->retire_ev != NULL) {
		admin_unretire(a);
		event_free(a->retire_ev);
	}
	for (pp = &admins; *pp != NULL; pp = &(*pp)->open_next)
		if (*pp == a) {
			*pp = a->open_next;
			break;
		}
	if (a->http != NULL)
		evhttp_free(a->http);
	if (a->spare_ev != NULL)
		event_free(a->spare_ev);
	if (a->magic == ADMIN_MAGIC && a->spare != -1)	/* opened */
		close(a->spare);
	free(a->addr.text);
	a->magic = 0;
	free(a);
}
