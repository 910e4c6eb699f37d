/*
 * conf.c: a loaded struct conf: freeing it and looking things up in it.
 *
 * Loading is in read.c (the file) and check.c (the whole), the keyword
 * table and its setters in table.c and custom.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/* Free one listener's contents. */
static void
conf_listener_clear(struct conf_listener *l)
{
	size_t	 i;

	free(l->name);
	conf_addr_clear(&l->listen);
	free(l->upstream);
	for (i = 0; i < l->nroutes; i++)
		conf_route_clear(&l->routes[i]);
	free(l->routes);
	for (i = 0; i < l->ncerts; i++)
		conf_cert_clear(&l->certs[i]);
	free(l->certs);
	free(l->tls_ciphers);
	free(l->request_id);
	conf_hdr_rules_clear(&l->request_headers);
	conf_hdr_rules_clear(&l->response_headers);
	free(l->trusted_proxies.v);
	free(l->tls_client_ca);
	conf_error_pages_clear(&l->error_pages);
}

/* Free one upstream's contents. */
static void
conf_upstream_clear(struct conf_upstream *u)
{
	size_t	 i;

	free(u->name);
	for (i = 0; i < u->nservers; i++)
		conf_server_clear(&u->servers[i]);
	free(u->servers);
	free(u->tls_ca);
	free(u->tls_server_name);
	free(u->health_check);
	conf_cert_clear(&u->tls_client_cert);
	free(u->host_name);
	free(u->sticky_cookie);
	conf_hdr_rules_clear(&u->request_headers);
	conf_hdr_rules_clear(&u->response_headers);
	conf_error_pages_clear(&u->error_pages);
}

/* Free a conf and all it owns; NULL is fine. */
void
conf_free(struct conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c->global.access_log);
	free(c->global.error_log);
	free(c->global.pid_file);
	conf_addr_clear(&c->admin.listen);
	free(c->admin.token);
	for (i = 0; i < c->admin.nserver_names; i++)
		free(c->admin.server_names[i]);
	free(c->admin.server_names);
	for (i = 0; i < c->admin.ncerts; i++)
		conf_cert_clear(&c->admin.certs[i]);
	free(c->admin.certs);
	for (i = 0; i < c->nlisteners; i++)
		conf_listener_clear(&c->listeners[i]);
	free(c->listeners);
	for (i = 0; i < c->nupstreams; i++)
		conf_upstream_clear(&c->upstreams[i]);
	free(c->upstreams);
	free(c);
}

/* The upstream called name, or NULL. */
const struct conf_upstream *
conf_upstream_find(const struct conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, name) == 0)
			return &c->upstreams[i];
	return NULL;
}

/* The line of key in a section, else of its header; see conf.h. */
int
conf_line(const struct conf_lines *lines, const char *key)
{
	int	 line;

	if (conf_keyword_find(lines->sect, key) == NULL)
		return 0;
	if ((line = conf_key_line(lines, key)) != 0)
		return line;
	return lines->header;
}

/* The file of loc; see conf.h. */
const char *
conf_loc_file(const struct conf *c, int loc)
{
	size_t	 f = (size_t)CONF_LOC_FILE(loc);

	if (c == NULL || loc < 0 || f >= c->nfiles)
		return c != NULL && c->path != NULL ? c->path : "?";
	return c->files[f];
}

/* "file:line" of loc; see conf.h. */
char *
conf_where(const struct conf *c, int loc, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d", conf_loc_file(c, loc),
	    loc < 0 ? 0 : CONF_LOC_LINE(loc));
	return buf;
}
