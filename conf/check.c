/*
 * check.c: the checks that no single line can make, run once the whole
 * file is read: required keys, references to upstreams, listening
 * addresses used twice, and an admin endpoint off loopback without a
 * token. Errors name the line of the key at fault, else the section's
 * header.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/* Whether two resolved addresses are the same address and port. */
static int
conf_addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->text == NULL || b->text == NULL ||
	    a->ss.ss_family != b->ss.ss_family)
		return 0;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&a->ss;
	b6 = (const struct sockaddr_in6 *)&b->ss;
	return a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* The listen address of an admin or listener section, or NULL. */
static const struct conf_addr *
conf_sect_listen(const struct conf *c, const struct conf_sect *s)
{
	if (s->kind == CONF_SECT_ADMIN)
		return &c->admin.listen;
	if (s->kind == CONF_SECT_LISTENER)
		return &c->listeners[s->index].listen;
	return NULL;
}

/* No two listening sections (admin included) may share an address. */
static void
conf_check_addrs(struct conf_loader *ld)
{
	const struct conf_sect	*a, *b;
	const struct conf_addr	*aa, *ba;
	const char		*name;
	size_t			 i, j;
	int			 line;

	for (i = 0; i < ld->nsects; i++) {
		b = &ld->sects[i];
		if ((ba = conf_sect_listen(ld->conf, b)) == NULL)
			continue;
		for (j = 0; j < i; j++) {
			a = &ld->sects[j];
			aa = conf_sect_listen(ld->conf, a);
			if (aa == NULL || !conf_addr_same(aa, ba))
				continue;
			name = conf_sect_name(ld->conf, a);
			line = conf_key_line(conf_sect_lines(ld->conf, b),
			    "listen");
			conf_error(ld, line,
			    "listen: %s is already used by [%s%s%s]", ba->text,
			    conf_sect_defs[a->kind].name, name ? " " : "",
			    name ? name : "");
			break;
		}
	}
}

/* A listener needs an address, somewhere to send requests (unless it only
 * redirects), and upstreams that exist. */
static void
conf_check_listener(struct conf_loader *ld, const struct conf_sect *s)
{
	const struct conf_listener	*l = &ld->conf->listeners[s->index];
	size_t				 i;

	if (conf_key_line(&l->lines, "listen") == 0)
		conf_error(ld, s->line, "[listener %s]: missing listen",
		    l->name);
	if (ld->conf->global.max_buffered_bodies > 0 &&
	    l->max_body_size > ld->conf->global.max_buffered_bodies)
		conf_error(ld, conf_key_line(&l->lines, "max_body_size"),
		    "max_body_size: larger than [global] max_buffered_bodies "
		    "(such a body would wait for ever)");
	if (l->http2 && l->ncerts == 0 &&
	    conf_key_line(&l->lines, "http2") != 0)
		conf_error(ld, conf_key_line(&l->lines, "http2"),
		    "http2: needs a TLS listener (tls_certificate); HTTP/2 "
		    "is offered by ALPN only");
	if (l->proxy_protocol && l->trusted_proxies.n == 0)
		conf_error(ld, conf_key_line(&l->lines, "proxy_protocol"),
		    "proxy_protocol: needs trusted_proxies (the peers that "
		    "may send it)");
	if (l->tls_verify_client != CONF_VERIFY_CLIENT_OFF) {
		if (l->tls_client_ca == NULL)
			conf_error(ld, conf_key_line(&l->lines,
			    "tls_verify_client"), "tls_verify_client: needs "
			    "tls_client_ca");
		if (l->ncerts == 0)
			conf_error(ld, conf_key_line(&l->lines,
			    "tls_verify_client"), "tls_verify_client: needs "
			    "a TLS listener (tls_certificate)");
	}
	if (l->redirect_port != 0) {
		/* it forwards nothing */
		if (conf_key_line(&l->lines, "upstream") != 0)
			conf_error(ld, conf_key_line(&l->lines, "upstream"),
			    "upstream: a listener with redirect forwards "
			    "nothing");
		if (conf_key_line(&l->lines, "route") != 0)
			conf_error(ld, conf_key_line(&l->lines, "route"),
			    "route: a listener with redirect forwards "
			    "nothing");
		return;
	}
	if (l->upstream == NULL && l->nroutes == 0 &&
	    conf_key_line(&l->lines, "upstream") == 0 &&
	    conf_key_line(&l->lines, "route") == 0)
		conf_error(ld, s->line, "[listener %s]: no upstream and no "
		    "route", l->name);
	if (l->upstream != NULL &&
	    conf_upstream_find(ld->conf, l->upstream) == NULL)
		conf_error(ld, conf_key_line(&l->lines, "upstream"),
		    "upstream: no [upstream %s]", l->upstream);
	for (i = 0; i < l->nroutes; i++) {
		if (conf_upstream_find(ld->conf, l->routes[i].upstream) == NULL)
			conf_error(ld, l->routes[i].line, "route: no "
			    "[upstream %s]", l->routes[i].upstream);
	}
}

/* An upstream needs a server. */
static void
conf_check_upstream(struct conf_loader *ld, const struct conf_sect *s)
{
	const struct conf_upstream	*u = &ld->conf->upstreams[s->index];

	if (u->nservers == 0 && conf_key_line(&u->lines, "server") == 0)
		conf_error(ld, s->line, "[upstream %s]: no server", u->name);
}

/* 1 when a is a loopback address (127.0.0.0/8 or ::1). */
static int
conf_addr_loopback(const struct conf_addr *a)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (a->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&a->ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)&a->ss;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return 0;
}

/* The admin endpoint can change what sluice does: off loopback it needs
 * a token. */
static void
conf_check_admin(struct conf_loader *ld)
{
	const struct conf_admin	*a = &ld->conf->admin;
	const struct conf_sect	*s;
	size_t			 i;

	/* a token line without a token: its error is reported already */
	if (!a->enabled || a->token != NULL || conf_addr_loopback(&a->listen) ||
	    conf_key_line(&a->lines, "token") != 0)
		return;
	for (i = 0; i < ld->nsects; i++) {
		s = &ld->sects[i];
		if (s->kind == CONF_SECT_ADMIN)
			conf_error(ld, conf_key_line(&a->lines, "listen"),
			    "listen: %s is not a loopback address; set "
			    "token to protect the admin endpoint",
			    a->listen.text);
	}
}

/* Check what no single line can: references, required keys, clashes. */
void
conf_check(struct conf_loader *ld)
{
	const struct conf_sect	*s;
	size_t			 i;

	for (i = 0; i < ld->nsects; i++) {
		s = &ld->sects[i];
		if (s->kind == CONF_SECT_LISTENER)
			conf_check_listener(ld, s);
		if (s->kind == CONF_SECT_UPSTREAM)
			conf_check_upstream(ld, s);
	}
	conf_check_addrs(ld);
	ld->conf->admin.enabled = ld->conf->admin.listen.text != NULL;
	conf_check_admin(ld);
}
