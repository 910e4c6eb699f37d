/*
 * admin: /healthz, /readyz, /status and /reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "proxy/ctl/admin.h"
#include "proxy/front/clientconn.h"
#include "proxy/exchange.h"
#include "proxy/front/listener.h"
#include "proxy/ctl/prom.h"
#include "proxy/base/runtime.h"
#include "proxy/back/upconn.h"
#include "proxy/back/queue.h"
#include "proxy/back/server.h"
#include "proxy/back/upstream.h"
#include "proxy/base/log.h"
#include "tls/tls.h"

#define ADMIN_MAGIC	0x41444d4eu	/* "ADMN" */

struct admin {
	unsigned			 magic;
	struct conf_addr		 addr;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	const struct admin_hooks	*hooks;
	struct event			*retire_ev;	/* admin_free_later */
	struct admin			*next;		/* retiring list */
};

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
	    "\"sticky_requests\":%llu,\"sticky_recent\":%llu}",
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

/* The /status document. */
static void
admin_status(struct admin *a, struct evbuffer *b)
{
	struct admin_info	i;

	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	evbuffer_add_printf(b, "{\"pid\":%ld,\"generation\":%llu,"
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
	evbuffer_add(b, "},\"upstreams\":", 14);
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
    struct evbuffer *b, const char *path, const char *token)
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
	if (!admin_authorized(req, token)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		admin_json_error(req, b, 401, "Unauthorized", "bad token");
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
	g.ticket_rotations = tls_tickets_rotations();
	if (prom_render(b, &g) == -1) {
		admin_text(req, b, 500, "Internal Server Error",
		    "out of memory");
		return;
	}
	admin_reply(req, 200, "OK", "text/plain; version=0.0.4", b);
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
	    !post)
		return 0;
	if (post ? cmd != EVHTTP_REQ_POST : !get) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", post ? "POST" : "GET, HEAD");
		admin_text(req, b, 405, "Method Not Allowed",
		    "method not allowed");
	} else if (post && !admin_authorized(req, i->token)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		admin_json_error(req, b, 401, "Unauthorized", "bad token");
	} else if (post)
		admin_reload(a, req, b);
	else if (strcmp(path, "/healthz") == 0)
		admin_text(req, b, 200, "OK", "ok");
	else if (strcmp(path, "/readyz") == 0)
		admin_text(req, b, i->ready ? 200 : 503, i->ready ? "OK" :
		    "Service Unavailable", i->ready ? "ready" : i->state);
	else if (strcmp(path, "/metrics") == 0)
		admin_metrics(req, b, i);
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

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	if (!admin_fixed(a, req, b, path, &i)) {
		if (strncmp(path, "/upstreams/", 11) == 0)
			admin_servers(a, req, b, path, i.token);
		else
			admin_text(req, b, 404, "Not Found", "not found");
	}
	evbuffer_free(b);
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
	if ((el = listener_socket(&a->addr, 64)) == NULL)
		goto fail;
	if ((a->bound = evhttp_bind_listener(a->http, el)) == NULL) {
		evconnlistener_free(el);
		goto fail;
	}
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
	if (a == NULL)
		return;
	if (a->retire_ev != NULL) {
		admin_unretire(a);
		event_free(a->retire_ev);
	}
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a->addr.text);
	a->magic = 0;
	free(a);
}
