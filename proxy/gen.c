/*
 * gen: generations and routing.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <event2/keyvalq_struct.h>

#include "proxy/gen.h"
#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "proxy/base/worker.h"
#include "proxy/http/cookie.h"
#include "proxy/http/uri.h"
#include "tls/tls.h"

/* The generation's upstream called name. */
static struct upstream *
gen_upstream_find(struct gen *g, const char *name)
{
	size_t	i;

	for (i = 0; i < g->nups; i++)
		if (strcmp(g->ups[i].conf->name, name) == 0)
			return &g->ups[i];
	return NULL;
}

/*
 * Order routes: longer prefixes first; then more conditions first (a
 * route whose conditions hold beats one without); exact hosts before
 * suffixes; then the file's order.
 */
static int
gen_route_cmp(const void *a, const void *b)
{
	const struct gen_route	*ra = a, *rb = b;

	if (ra->prefixlen != rb->prefixlen)
		return ra->prefixlen > rb->prefixlen ? -1 : 1;
	if (ra->nconds != rb->nconds)
		return rb->nconds - ra->nconds;
	if (ra->suffix != rb->suffix)
		return ra->suffix - rb->suffix;
	return ra->line - rb->line;
}

/* Build one listener's routing table. -1 when out of memory. */
static int
gen_listener_build(struct gen *g, struct gen_listener *gl,
    const struct conf_listener *cl)
{
	size_t	i;

	gl->conf = cl;
	gl->dflt.prefix = "";
	if (cl->upstream != NULL)
		gl->dflt.up = gen_upstream_find(g, cl->upstream);
	if (cl->nroutes == 0)
		return 0;
	if ((gl->routes = calloc(cl->nroutes, sizeof(*gl->routes))) == NULL)
		return -1;
	for (i = 0; i < cl->nroutes; i++) {
		struct gen_route	*r = &gl->routes[i];
		const struct conf_route	*cr = &cl->routes[i];

		r->host = cr->host;
		if (r->host != NULL && strncmp(r->host, "*.", 2) == 0) {
			r->suffix = 1;
			r->host++;	/* match ".example.com" */
		}
		r->hostlen = r->host != NULL ? strlen(r->host) : 0;
		r->prefix = cr->prefix;
		r->prefixlen = strlen(cr->prefix);
		r->strip = cr->strip;
		r->hdr_name = cr->hdr_name;
		r->hdr_value = cr->hdr_value;
		r->cookie_name = cr->cookie_name;
		r->cookie_namelen = cr->cookie_name != NULL ?
		    strlen(cr->cookie_name) : 0;
		r->cookie_value = cr->cookie_value;
		r->nconds = (cr->hdr_name != NULL) + (cr->cookie_name != NULL);
		r->line = cr->line;
		r->up = gen_upstream_find(g, cr->upstream);
	}
	gl->nroutes = cl->nroutes;
	qsort(gl->routes, gl->nroutes, sizeof(*gl->routes), gen_route_cmp);
	return 0;
}

/* Free a generation now. */
static void
gen_free(struct gen *g)
{
	size_t	i;

	for (i = 0; i < g->nups; i++)
		upstream_fini(&g->ups[i]);
	for (i = 0; i < g->nlsts; i++) {
		free(g->lsts[i].routes);
		tls_server_unref(g->lsts[i].tls);
	}
	tls_server_unref(g->admin_tls);
	free(g->ups);
	free(g->lsts);
	conf_free(g->conf);
	g->magic = 0;
	free(g);
}

/* Append one line to a malloc'd error text. */
static void
gen_error(char **errors, const char *line)
{
	char	*s;

	if (asprintf(&s, "%s%s\n", *errors != NULL ? *errors : "", line) == -1)
		return;
	free(*errors);
	*errors = s;
}

/*
 * The admin's certificate set: built as a listener's with the listener
 * defaults (both TLS versions, CONF_TLS_CIPHERS), so that the admin needs
 * no TLS keys of its own but tls_certificate. 0, or -1 with err set.
 */
static int
gen_admin_tls_build(struct gen *g, time_t now, char *err, size_t errlen,
    char *warn, size_t warnlen)
{
	const struct conf_admin	*a = &g->conf->admin;
	struct conf_listener	 view;

	warn[0] = '\0';
	if (!a->enabled || a->ncerts == 0)
		return 0;
	memset(&view, 0, sizeof(view));
	view.name = (char *)(uintptr_t)"admin";
	view.certs = a->certs;
	view.ncerts = a->ncerts;
	view.tls_protocols = CONF_TLS_V1_2 | CONF_TLS_V1_3;
	view.tls_ciphers = (char *)(uintptr_t)CONF_TLS_CIPHERS;
	view.tls_verify_client = CONF_VERIFY_CLIENT_OFF;
	view.lines = a->lines;
	view.line = a->lines.header;
	g->admin_tls = tls_server_new(g->conf, &view, now, err, errlen,
	    warn, warnlen);
	return g->admin_tls != NULL ? 0 : -1;
}

/* Build the TLS contexts of g, collecting every error. -1 on any. */
static int
gen_tls_build(struct gen *g, char **errors)
{
	const struct conf	*c = g->conf;
	char			 err[1024], warn[1024];
	time_t			 now = time(NULL);
	size_t			 i;
	int			 r = 0;

	for (i = 0; i < g->nlsts; i++) {
		if (c->listeners[i].ncerts == 0)
			continue;
		g->lsts[i].tls = tls_server_new(c, &c->listeners[i], now,
		    err, sizeof(err), warn, sizeof(warn));
		if (g->lsts[i].tls == NULL) {
			gen_error(errors, err);
			r = -1;
		} else if (warn[0] != '\0')
			log_warn("%s", warn);
	}
	if (gen_admin_tls_build(g, now, err, sizeof(err), warn,
	    sizeof(warn)) == -1) {
		gen_error(errors, err);
		r = -1;
	} else if (warn[0] != '\0')
		log_warn("%s", warn);
	for (i = 0; i < g->nups; i++) {
		if (!c->upstreams[i].tls)
			continue;
		g->ups[i].tls = tls_client_new(c, &c->upstreams[i], now,
		    err, sizeof(err));
		if (g->ups[i].tls == NULL) {
			gen_error(errors, err);
			r = -1;
		}
	}
	return r;
}

/* See gen.h. */
struct gen *
gen_new(struct conf *conf, uint64_t id, char **errors)
{
	struct gen	*g;
	size_t		 i;

	*errors = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		conf_free(conf);
		gen_error(errors, "out of memory");
		return NULL;
	}
	g->magic = GEN_MAGIC;
	g->refs = 1;
	g->id = id;
	g->conf = conf;
	g->ups = calloc(conf->nupstreams + 1, sizeof(*g->ups));
	g->lsts = calloc(conf->nlisteners + 1, sizeof(*g->lsts));
	if (g->ups == NULL || g->lsts == NULL)
		goto fail;
	for (i = 0; i < conf->nupstreams; i++, g->nups++)
		if (upstream_init(&g->ups[i], &conf->upstreams[i]) == -1)
			goto fail;
	for (i = 0; i < conf->nlisteners; i++, g->nlsts++)
		if (gen_listener_build(g, &g->lsts[i],
		    &conf->listeners[i]) == -1)
			goto fail;
	if (gen_tls_build(g, errors) == -1) {
		gen_free(g);
		return NULL;
	}
	return g;
fail:
	/* the failed entry is counted so that its parts are freed too */
	if (g->ups != NULL && g->nups < conf->nupstreams)
		g->nups++;
	if (g->lsts != NULL && g->nlsts < conf->nlisteners)
		g->nlsts++;
	gen_free(g);
	gen_error(errors, "out of memory building the configuration");
	return NULL;
}

/* See gen.h. */
int
gen_activate(struct gen *g)
{
	size_t	i;

	for (i = 0; i < g->nups; i++)
		if (upstream_activate(&g->ups[i]) == -1)
			return -1;
	return 0;
}

/* See gen.h. */
void
gen_activate_local(struct gen *g)
{
	size_t	i;

	for (i = 0; i < g->nups; i++)
		upstream_activate_local(&g->ups[i]);
}

/* Take a reference. */
struct gen *
gen_ref(struct gen *g)
{
	SLUICE_MAGIC_CHECK(g, GEN_MAGIC);
	SLUICE_INC(&g->refs);
	return g;
}

/* The deferred free of a generation. */
static void
gen_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen	*g = arg;

	log_debug("generation %llu freed", (unsigned long long)g->id);
	gen_free(g);
}

/* A worker dropped the last reference: free it in the main thread. */
static void
gen_free_main(void *arg)
{
	gen_free_cb(-1, 0, arg);
}

/*
 * Drop a reference; the last one frees from the main loop, never under
 * us (a generation's servers belong to the main thread).
 */
void
gen_unref(struct gen *g)
{
	SLUICE_MAGIC_CHECK(g, GEN_MAGIC);
	if (SLUICE_UNREF(&g->refs) > 0)
		return;
	if (sluice_worker_id != 0) {
		worker_call(0, gen_free_main, g);
		return;
	}
	if (sluice_base == NULL ||
	    event_base_once(sluice_base, -1, EV_TIMEOUT, gen_free_cb, g,
	    NULL) == -1)
		gen_free(g);
}

/* See gen.h. */
struct gen_listener *
gen_listener_find(struct gen *g, const struct conf_addr *addr)
{
	size_t	i;

	for (i = 0; i < g->nlsts; i++) {
		const struct conf_addr	*a = &g->lsts[i].conf->listen;

		if (a->sslen == addr->sslen &&
		    memcmp(&a->ss, &addr->ss, a->sslen) == 0)
			return &g->lsts[i];
	}
	return NULL;
}

/* 1 when route r's host matches host (hostlen bytes). */
static int
gen_route_host_match(const struct gen_route *r, const char *host,
    size_t hostlen)
{
	if (r->host == NULL)
		return 1;
	if (host == NULL)
		return 0;
	if (!r->suffix)
		return hostlen == r->hostlen &&
		    strncasecmp(host, r->host, hostlen) == 0;
	return hostlen > r->hostlen &&
	    strncasecmp(host + hostlen - r->hostlen, r->host, r->hostlen) == 0;
}

/*
 * 1 when the conditions of r hold on hdrs: a header line called
 * r->hdr_name (in any case) whose value (trimmed) is r->hdr_value, and a
 * cookie r->cookie_name=r->cookie_value on a Cookie line.
 */
static int
gen_route_conds(const struct gen_route *r, const struct evkeyvalq *hdrs)
{
	const struct evkeyval	*kv;
	const char		*v;
	size_t			 vlen;
	int			 hdr = r->hdr_name == NULL;
	int			 cookie = r->cookie_name == NULL;

	if (hdrs == NULL)
		return 0;
	TAILQ_FOREACH(kv, hdrs, next) {
		if (!hdr && strcasecmp(kv->key, r->hdr_name) == 0 &&
		    strcmp(kv->value, r->hdr_value) == 0)
			hdr = 1;
		if (!cookie && strcasecmp(kv->key, "Cookie") == 0 &&
		    cookie_find(kv->value, r->cookie_name, r->cookie_namelen,
		    &v, &vlen) && vlen == strlen(r->cookie_value) &&
		    memcmp(v, r->cookie_value, vlen) == 0)
			cookie = 1;
	}
	return hdr && cookie;
}

/*
 * See gen.h. Like nginx's server_name then location: routes naming a
 * matching host win over routes for any host; within each, the longest
 * prefix, and among the same prefix a route whose conditions hold (routes
 * are sorted that way).
 */
const struct gen_route *
gen_route(const struct gen_listener *gl, const char *host, const char *path,
    const struct evkeyvalq *hdrs)
{
	size_t	i, hostlen = host != NULL ? strlen(host) : 0;
	int	pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < gl->nroutes; i++) {
			const struct gen_route	*r = &gl->routes[i];

			if ((r->host == NULL) != pass)
				continue;
			if ((r->strip ? uri_strip_match(r->prefix,
			    r->prefixlen, path) : strncmp(path, r->prefix,
			    r->prefixlen) == 0) &&
			    gen_route_host_match(r, host, hostlen) &&
			    (r->nconds == 0 || gen_route_conds(r, hdrs)))
				return r;
		}
	return gl->dflt.up != NULL ? &gl->dflt : NULL;
}

/* See gen.h. */
int
gen_has_server(const struct gen *g, const struct server *srv)
{
	size_t	i;

	for (i = 0; i < g->nups; i++)
		if (upstream_lists(&g->ups[i], srv))
			return 1;
	return 0;
}
