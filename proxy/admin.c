/*
 * admin: /healthz, /readyz, /status and /reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "proxy/admin.h"
#include "proxy/client.h"
#include "proxy/exchange.h"
#include "proxy/sluice.h"
#include "proxy/upstream.h"

#define ADMIN_MAGIC	0x41444d4eu	/* "ADMN" */

struct admin {
	unsigned			 magic;
	struct conf_addr		 addr;
	struct evhttp			*http;
	const struct admin_hooks	*hooks;
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

/* Append one server object. */
static void
admin_json_server(struct evbuffer *b, const struct server *s)
{
	evbuffer_add(b, "{\"name\":", 8);
	admin_json_str(b, s->name);
	evbuffer_add(b, ",\"address\":", 11);
	admin_json_str(b, s->addrtext);
	evbuffer_add_printf(b, ",\"state\":\"%s\",\"in_flight\":%u,"
	    "\"idle\":%u,\"busy\":%u,\"requests\":%llu,\"connects\":%llu}",
	    server_state_name(s->state), s->inflight, s->nidle, s->nbusy,
	    (unsigned long long)s->requests,
	    (unsigned long long)s->connects);
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
	int		 first = 1, firsts;

	evbuffer_add(b, "[", 1);
	TAILQ_FOREACH(s, server_registry(), entry) {
		if (admin_upstream_seen(s))
			continue;
		evbuffer_add_printf(b, "%s{\"name\":", first ? "" : ",");
		admin_json_str(b, s->upstream);
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
	    "\"state\":\"%s\",\"ready\":%s,\"in_flight\":%u,"
	    "\"connections\":%u,\"reloads\":{\"ok\":%llu,\"failed\":%llu},"
	    "\"last_reload\":{\"time\":%lld,\"ok\":%s,\"errors\":",
	    (long)getpid(), (unsigned long long)i.generation, i.state,
	    i.ready ? "true" : "false", exchange_count(), client_count(),
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

/* Route one admin request. */
static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct evbuffer		*b = evbuffer_new();
	const char		*path = evhttp_request_get_uri(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	int			 get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	struct admin_info	 i;

	SLUICE_MAGIC_CHECK(a, ADMIN_MAGIC);
	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	memset(&i, 0, sizeof(i));
	a->hooks->info(&i);
	if (strcmp(path, "/healthz") == 0 && get) {
		evbuffer_add_printf(b, "ok\n");
		admin_reply(req, 200, "OK", "text/plain", b);
	} else if (strcmp(path, "/readyz") == 0 && get) {
		evbuffer_add_printf(b, "%s\n", i.ready ? "ready" : i.state);
		admin_reply(req, i.ready ? 200 : 503, i.ready ? "OK" :
		    "Service Unavailable", "text/plain", b);
	} else if (strcmp(path, "/status") == 0 && get) {
		admin_status(a, b);
		admin_reply(req, 200, "OK", "application/json", b);
	} else if (strcmp(path, "/reload") == 0 && cmd == EVHTTP_REQ_POST)
		admin_reload(a, req, b);
	else if (strcmp(path, "/healthz") == 0 ||
	    strcmp(path, "/readyz") == 0 || strcmp(path, "/status") == 0 ||
	    strcmp(path, "/reload") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", strcmp(path, "/reload") == 0 ? "POST" :
		    "GET, HEAD");
		evbuffer_add_printf(b, "method not allowed\n");
		admin_reply(req, 405, "Method Not Allowed", "text/plain", b);
	} else {
		evbuffer_add_printf(b, "not found\n");
		admin_reply(req, 404, "Not Found", "text/plain", b);
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
	el = evconnlistener_new_bind(sluice_base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE,
	    64, (struct sockaddr *)&a->addr.ss, (int)a->addr.sslen);
	if (el == NULL)
		goto fail;
	if (evhttp_bind_listener(a->http, el) == NULL) {
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
void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a->addr.text);
	a->magic = 0;
	free(a);
}
