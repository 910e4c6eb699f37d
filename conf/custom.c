/*
 * custom.c: the keys with a syntax of their own, each read by its own
 * setter (CONF_CUSTOM and CONF_LIST entries of the table): server, route
 * and tls_certificate, which repeat, and the TLS, health-check, percentage
 * and worker keys. Also what frees the entries they make.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/* Names on one server_name line, at most: more lines may follow. */
#define CONF_ADMIN_NAMES_LINE	16

/*
 * Repeatable keys: server, route, tls_certificate.
 */

/* The host part of a "HOST:PORT" or "[V6]:PORT" text, brackets removed. */
static char *
conf_addr_host(const char *text)
{
	if (text[0] == '[')
		return strndup(text + 1, strcspn(text + 1, "]"));
	return strndup(text, (size_t)(strrchr(text, ':') - text));
}

/* The port of a resolved address. */
static uint16_t
conf_addr_port(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* Parse the options of a server line (the words after HOST:PORT) into s. */
static int
conf_server_options(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_server *s, char **words, size_t n)
{
	const char	*why;
	long		 v;
	size_t		 i;
	int		 rc = 0, seen_weight = 0, seen_max = 0;

	for (i = 1; i < n; i++) {
		if (strncmp(words[i], "name=", 5) == 0 && s->name == NULL) {
			if (words[i][5] == '\0')
				rc = conf_value_error(ld, kw, words[i],
				    "empty name");
			else if ((s->name = strdup(words[i] + 5)) == NULL)
				rc = conf_value_error(ld, kw, words[i],
				    "out of memory");
		} else if (strncmp(words[i], "weight=", 7) == 0 &&
		    !seen_weight) {
			seen_weight = 1;
			if (conf_parse_int(words[i] + 7, 1, 1000, &v,
			    &why) == -1)
				rc = conf_value_error(ld, kw, words[i],
				    "weight must be 1..1000");
			else
				s->weight = (int)v;
		} else if (strncmp(words[i], "max_conns=", 10) == 0 &&
		    !seen_max) {
			seen_max = 1;
			if (conf_parse_int(words[i] + 10, 0, 100000, &v,
			    &why) == -1)
				rc = conf_value_error(ld, kw, words[i],
				    "max_conns must be 0..100000 "
				    "(0: no limit)");
			else
				s->max_conns = (int)v;
		} else if (strcmp(words[i], "backup") == 0 && !s->backup)
			s->backup = 1;
		else
			rc = conf_value_error(ld, kw, words[i],
			    "unknown or repeated option (use name=, weight=, "
			    "max_conns=, backup)");
	}
	return rc;
}

/* Free what a conf_server owns. */
void
conf_server_clear(struct conf_server *s)
{
	free(s->name);
	free(s->host);
	conf_addr_clear(&s->addr);
}

/* Fill s from the words of a server line; s is cleared on failure. */
static int
conf_server_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_server *s, char **words, size_t n)
{
	const char	*why;

	s->weight = 1;
	s->line = ld->lineno;
	if (n == 0 || n > 5)
		return conf_key_error(ld, kw, "expected HOST:PORT [name=NAME] "
		    "[weight=N] [max_conns=N] [backup]");
	if (strncmp(words[0], "*:", 2) == 0)
		return conf_value_error(ld, kw, words[0],
		    "a server needs a host, not *");
	if (conf_parse_addr(words[0], &s->addr, &why) == -1)
		return conf_value_error(ld, kw, words[0], why);
	if (conf_server_options(ld, kw, s, words, n) == -1) {
		conf_server_clear(s);
		return -1;
	}
	if (s->name == NULL)
		s->name = strdup(words[0]);
	s->host = conf_addr_host(words[0]);
	if (s->name == NULL || s->host == NULL) {
		conf_server_clear(s);
		return conf_key_error(ld, kw, "out of memory");
	}
	s->port = conf_addr_port(&s->addr);
	return 0;
}

/* server = HOST:PORT [name=N] [weight=N]; names are unique per upstream. */
int
conf_set_server(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_upstream	*up = base;
	struct conf_server	 s, *p;
	char			*copy, *words[6];
	size_t			 i, n;
	int			 rc;

	memset(&s, 0, sizeof(s));
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 5);
	rc = conf_server_parse(ld, kw, &s, words, n);
	free(copy);
	if (rc == -1)
		return -1;
	for (i = 0; i < up->nservers; i++) {
		if (strcmp(up->servers[i].name, s.name) == 0) {
			conf_error(ld, ld->lineno, "%s: duplicate server name "
			    "\"%s\" (first at line %d)", kw->info.key, s.name,
			    CONF_LOC_LINE(up->servers[i].line));
			conf_server_clear(&s);
			return -1;
		}
	}
	if ((p = conf_append(up->servers, up->nservers, sizeof(*p))) == NULL) {
		conf_server_clear(&s);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	up->servers = p;
	up->servers[up->nservers++] = s;
	return 0;
}

/* A route host: NAME or *.SUFFIX, no port; lower-cased in place. */
static int
conf_route_host_ok(char *host)
{
	char	*p = host;

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0' || *p == '.' || strspn(p, CONF_NAME_CHARS) != strlen(p))
		return 0;
	for (p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 1;
}

/*
 * A route condition's "NAME:VALUE" (the text after "header=" or
 * "cookie=" in word) into *name and *value: NAME a token, VALUE not empty.
 */
static int
conf_route_cond(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *word, const char *text, char **name, char **value)
{
	const char	*colon = strchr(text, ':');

	if (colon == NULL || colon == text || colon[1] == '\0' ||
	    !conf_is_token(text, (size_t)(colon - text)))
		return conf_value_error(ld, kw, word, "expected NAME:VALUE "
		    "(NAME a header or cookie name, VALUE not empty)");
	if ((*name = strndup(text, (size_t)(colon - text))) == NULL ||
	    (*value = strdup(colon + 1)) == NULL)
		return conf_value_error(ld, kw, word, "out of memory");
	return 0;
}

/* The words of a route line after UPSTREAM: strip and the conditions. */
static int
conf_route_options(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_route *r, char **words, size_t n)
{
	size_t	 i;

	for (i = 2; i < n; i++) {
		if (strcmp(words[i], "strip") == 0 && !r->strip)
			r->strip = 1;
		else if (strncmp(words[i], "header=", 7) == 0 &&
		    r->hdr_name == NULL) {
			if (conf_route_cond(ld, kw, words[i], words[i] + 7,
			    &r->hdr_name, &r->hdr_value) == -1)
				return -1;
		} else if (strncmp(words[i], "cookie=", 7) == 0 &&
		    r->cookie_name == NULL) {
			if (conf_route_cond(ld, kw, words[i], words[i] + 7,
			    &r->cookie_name, &r->cookie_value) == -1)
				return -1;
		} else
			return conf_value_error(ld, kw, words[i], "unknown or "
			    "repeated option (use strip, header=NAME:VALUE, "
			    "cookie=NAME:VALUE)");
	}
	return 0;
}

/* Fill r from the words of a route line; r is left for the caller to free. */
static int
conf_route_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_route *r, char **words, size_t n)
{
	char	*slash;

	r->line = ld->lineno;
	if (n < 2 || n > 5)
		return conf_key_error(ld, kw, "expected [HOST]/PREFIX UPSTREAM "
		    "[strip] [header=NAME:VALUE] [cookie=NAME:VALUE]");
	if ((slash = strchr(words[0], '/')) == NULL)
		return conf_value_error(ld, kw, words[0],
		    "expected [HOST]/PREFIX (the prefix starts with '/')");
	if (conf_route_options(ld, kw, r, words, n) == -1)
		return -1;
	r->prefix = strdup(slash);
	/* a stripped prefix matches whole segments: kept without its '/' */
	if (r->strip && r->prefix != NULL && r->prefix[strlen(r->prefix) -
	    1] == '/')
		r->prefix[strlen(r->prefix) - 1] = '\0';
	*slash = '\0';
	if (words[0][0] != '\0') {
		if (!conf_route_host_ok(words[0]))
			return conf_value_error(ld, kw, words[0],
			    "bad host (use NAME or *.SUFFIX, without port)");
		r->host = strdup(words[0]);
	}
	r->upstream = strdup(words[1]);
	if (r->prefix == NULL || r->upstream == NULL ||
	    (words[0][0] != '\0' && r->host == NULL))
		return conf_value_error(ld, kw, words[1], "out of memory");
	return 0;
}

/* Free what a conf_route owns. */
void
conf_route_clear(struct conf_route *r)
{
	free(r->host);
	free(r->prefix);
	free(r->upstream);
	free(r->hdr_name);
	free(r->hdr_value);
	free(r->cookie_name);
	free(r->cookie_value);
}

/* Whether two optional strings are equal (ignoring case: icase). */
static int
conf_same_str(const char *a, const char *b, int icase)
{
	if (a == NULL || b == NULL)
		return a == b;
	return icase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* Whether two routes match the same requests. */
static int
conf_route_same(const struct conf_route *a, const struct conf_route *b)
{
	return conf_same_str(a->host, b->host, 0) &&
	    strcmp(a->prefix, b->prefix) == 0 &&
	    conf_same_str(a->hdr_name, b->hdr_name, 1) &&
	    conf_same_str(a->hdr_value, b->hdr_value, 0) &&
	    conf_same_str(a->cookie_name, b->cookie_name, 0) &&
	    conf_same_str(a->cookie_value, b->cookie_value, 0);
}

/*
 * route = [HOST]/PREFIX UPSTREAM [strip] [header=N:V] [cookie=N:V]; the
 * upstream is checked at the end.
 */
int
conf_set_route(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_listener	*l = base;
	struct conf_route	 r, *p = NULL;
	char			*copy, *words[6];
	size_t			 i, n;
	int			 rc;

	memset(&r, 0, sizeof(r));
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 5);
	rc = conf_route_parse(ld, kw, &r, words, n);
	free(copy);
	for (i = 0; rc == 0 && i < l->nroutes; i++) {
		if (conf_route_same(&l->routes[i], &r))
			rc = conf_error(ld, ld->lineno, "%s: duplicate route "
			    "\"%s\" (first at line %d)", kw->info.key, value,
			    CONF_LOC_LINE(l->routes[i].line));
	}
	if (rc == 0 &&
	    (p = conf_append(l->routes, l->nroutes, sizeof(*p))) == NULL)
		rc = conf_value_error(ld, kw, value, "out of memory");
	if (rc == -1) {
		conf_route_clear(&r);
		return -1;
	}
	l->routes = p;
	l->routes[l->nroutes++] = r;
	return 0;
}

/* Free what a conf_cert owns. */
void
conf_cert_clear(struct conf_cert *c)
{
	free(c->cert);
	free(c->key);
	c->cert = c->key = NULL;
}

/* Fill c from "CERT KEY" (two paths, opened later by tls/). */
static int
conf_cert_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *value, struct conf_cert *c)
{
	char	*copy, *words[3];

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	if (conf_words(copy, words, 2) != 2) {
		free(copy);
		return conf_key_error(ld, kw, "expected CERT KEY (two paths)");
	}
	c->cert = strdup(words[0]);
	c->key = strdup(words[1]);
	c->line = ld->lineno;
	free(copy);
	if (c->cert == NULL || c->key == NULL) {
		conf_cert_clear(c);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	return 0;
}

/* See conf.h. */
int
conf_ip_parse(const char *s, size_t len, int *family, unsigned char addr[16])
{
	static const unsigned char	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	char				 buf[INET6_ADDRSTRLEN + 2];

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		s++, len -= 2;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -1;
	*family = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

/* See conf.h. */
int
conf_cidrs_match(const struct conf_cidrs *cidrs, int family,
    const unsigned char addr[16])
{
	const struct conf_cidr	*c;
	size_t			 i;
	int			 full, rest;

	for (i = 0; i < cidrs->n; i++) {
		c = &cidrs->v[i];
		if (c->family != family)
			continue;
		full = c->bits / 8;
		rest = c->bits % 8;
		if (memcmp(c->addr, addr, (size_t)full) != 0)
			continue;
		if (rest == 0 || ((c->addr[full] ^ addr[full]) &
		    (0xff << (8 - rest))) == 0)
			return 1;
	}
	return 0;
}

/*
 * trusted_proxies = ADDRESS|CIDR..., repeatable: IPv4 and IPv6, a bare
 * address being a /32 or /128. The bits past the prefix must be 0.
 */
int
conf_set_cidrs(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_cidrs	*cs = conf_field(base, kw);
	struct conf_cidr	 c, *p;
	char			*copy, *words[65], *slash, *end;
	size_t			 i, n;
	long			 bits;
	int			 rc = 0, max, b;

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 64);
	if (n == 0 || n > 64) {
		free(copy);
		return conf_value_error(ld, kw, value, n == 0 ?
		    "expected addresses or CIDRs" :
		    "at most 64 on a line (repeat the key)");
	}
	for (i = 0; i < n && rc == 0; i++) {
		memset(&c, 0, sizeof(c));
		slash = strchr(words[i], '/');
		if (conf_ip_parse(words[i], slash != NULL ?
		    (size_t)(slash - words[i]) : strlen(words[i]), &c.family,
		    c.addr) == -1 || (slash != NULL && words[i][0] == '[')) {
			rc = conf_value_error(ld, kw, words[i],
			    "expected an IPv4 or IPv6 address or CIDR");
			break;
		}
		max = c.family == AF_INET ? 32 : 128;
		bits = max;
		if (slash != NULL) {
			bits = strtol(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
			    bits > max) {
				rc = conf_value_error(ld, kw, words[i],
				    max == 32 ? "the prefix must be 0..32" :
				    "the prefix must be 0..128");
				break;
			}
		}
		c.bits = (int)bits;
		for (b = c.bits; b < max; b++)
			if (c.addr[b / 8] & (0x80 >> (b % 8)))
				break;
		if (b < max) {
			rc = conf_value_error(ld, kw, words[i],
			    "bits set past the prefix (a host address "
			    "with a prefix?)");
			break;
		}
		if ((p = conf_append(cs->v, cs->n, sizeof(*p))) == NULL) {
			rc = conf_value_error(ld, kw, value, "out of memory");
			break;
		}
		cs->v = p;
		cs->v[cs->n++] = c;
	}
	free(copy);
	return rc;
}

/* redirect = off | https [PORT]: the port, 0 for off. */
int
conf_set_redirect(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		*copy, *words[3], *end;
	size_t		 n;
	long		 port = 443;
	int		 rc = 0;

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 2);
	if (n == 1 && strcmp(words[0], "off") == 0)
		port = 0;
	else if (n < 1 || n > 2 || strcmp(words[0], "https") != 0)
		rc = conf_value_error(ld, kw, value,
		    "expected off, https or https PORT");
	else if (n == 2) {
		port = strtol(words[1], &end, 10);
		if (words[1][0] < '0' || words[1][0] > '9' || *end != '\0' ||
		    port < 1 || port > 65535)
			rc = conf_value_error(ld, kw, words[1],
			    "the port must be 1..65535");
	}
	free(copy);
	if (rc == 0)
		*(int *)conf_field(base, kw) = (int)port;
	return rc;
}

/* tls_certificate = CERT KEY, repeatable. */
int
conf_set_cert(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_listener	*l = base;
	struct conf_cert	 c, *p;

	if (conf_cert_parse(ld, kw, value, &c) == -1)
		return -1;
	if ((p = conf_append(l->certs, l->ncerts, sizeof(*p))) == NULL) {
		conf_cert_clear(&c);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	l->certs = p;
	l->certs[l->ncerts++] = c;
	return 0;
}

/* [admin] tls_certificate = CERT KEY: as a listener's, repeatable. */
int
conf_set_admin_cert(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_admin	*a = base;
	struct conf_cert	 c, *p;

	if (conf_cert_parse(ld, kw, value, &c) == -1)
		return -1;
	if ((p = conf_append(a->certs, a->ncerts, sizeof(*p))) == NULL) {
		conf_cert_clear(&c);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	a->certs = p;
	a->certs[a->ncerts++] = c;
	return 0;
}

/*
 * The admin token: at least kw->min characters, visible ASCII (it travels
 * in a header). The messages never quote it: they end up in logs and in
 * /status.
 */
int
conf_set_token(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		**field = conf_field(base, kw);
	const char	 *p;

	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return conf_key_error(ld, kw, "only visible ASCII "
			    "characters, no spaces");
	if (strlen(value) < (size_t)kw->min)
		return conf_error(ld, ld->lineno, "%s: too short (%zu "
		    "characters): use at least %llu", kw->info.key,
		    strlen(value), (unsigned long long)kw->min);
	free(*field);
	if ((*field = strdup(value)) == NULL)
		return conf_key_error(ld, kw, "out of memory");
	return 0;
}

/* One name of server_name, lower-cased onto the admin's list. */
static int
conf_admin_name_add(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_admin *a, const char *name)
{
	unsigned char	 a6[16];
	char		**p, *s;
	size_t		 i;

	if (strlen(name) > 253 || (strchr(name, ':') != NULL ?
	    inet_pton(AF_INET6, name, a6) != 1 :
	    strspn(name, CONF_NAME_CHARS) != strlen(name)))
		return conf_value_error(ld, kw, name, "expected host names "
		    "or IP addresses, without port or brackets");
	if ((s = strdup(name)) == NULL ||
	    (p = conf_append(a->server_names, a->nserver_names,
	    sizeof(*p))) == NULL) {
		free(s);
		return conf_value_error(ld, kw, name, "out of memory");
	}
	for (i = 0; s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	a->server_names = p;
	a->server_names[a->nserver_names++] = s;
	return 0;
}

/* server_name = NAME...: names the admin answers to besides its address. */
int
conf_set_admin_names(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char	*copy, *words[CONF_ADMIN_NAMES_LINE + 1];
	size_t	 i, n;
	int	 rc = 0;

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, CONF_ADMIN_NAMES_LINE);
	if (n == 0 || n > CONF_ADMIN_NAMES_LINE)
		rc = conf_key_error(ld, kw, "expected 1 to 16 names on a "
		    "line");
	for (i = 0; i < n && i < CONF_ADMIN_NAMES_LINE && rc == 0; i++)
		rc = conf_admin_name_add(ld, kw, base, words[i]);
	free(copy);
	return rc;
}

/*
 * TLS keys other than tls_certificate (tls/ opens and checks the files).
 */

/* tls_protocols = TLSv1.2 TLSv1.3: a set of CONF_TLS_* bits. */
int
conf_set_protocols(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	static const struct {
		const char	*name;
		int		 bit;
	} protos[] = {
		{ "TLSv1.2", CONF_TLS_V1_2 },
		{ "TLSv1.3", CONF_TLS_V1_3 },
	};
	char	*copy, *words[CONF_NITEMS(protos) + 1];
	size_t	 i, j, n;
	int	 bits = 0, rc = 0;

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, CONF_NITEMS(protos));
	for (i = 0; i < n && i < CONF_NITEMS(protos) && rc == 0; i++) {
		for (j = 0; j < CONF_NITEMS(protos); j++)
			if (strcmp(words[i], protos[j].name) == 0)
				break;
		if (j == CONF_NITEMS(protos) || (bits & protos[j].bit))
			rc = -1;
		else
			bits |= protos[j].bit;
	}
	free(copy);
	if (n == 0 || n > CONF_NITEMS(protos) || rc == -1)
		return conf_value_error(ld, kw, value,
		    "expected TLSv1.2, TLSv1.3 or both");
	*(int *)conf_field(base, kw) = bits;
	return 0;
}

/* tls_server_name = NAME: a DNS name or an IP address, no port. */
int
conf_set_server_name(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct in6_addr	 a6;

	if (strlen(value) > 253 || (strchr(value, ':') != NULL ?
	    inet_pton(AF_INET6, value, &a6) != 1 :
	    strspn(value, CONF_NAME_CHARS) != strlen(value)))
		return conf_value_error(ld, kw, value, "expected a host name "
		    "or an IP address, without port");
	return conf_set_string(ld, kw, base, value);
}

/* tls_client_certificate = CERT KEY, at most once. */
int
conf_set_client_cert(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_cert	*field = conf_field(base, kw), c;

	if (conf_cert_parse(ld, kw, value, &c) == -1)
		return -1;
	conf_cert_clear(field);
	*field = c;
	return 0;
}

/*
 * Health checks, percentages, workers
 */

/* A request path: starts with '/', no spaces or control characters. */
int
conf_set_path(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		**field = (char **)((char *)base + kw->offset);
	const char	 *p;

	if (value[0] != '/')
		return conf_key_error(ld, kw, "a path must start with /");
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return conf_key_error(ld, kw, "a path cannot hold "
			    "spaces or control characters");
	free(*field);
	if ((*field = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	return 0;
}

/*
 * access_log, error_log: a path, "-", "off" (the access log) or a syslog
 * target, checked here so that a bad facility is refused at load.
 */
int
conf_set_log(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		**field = (char **)((char *)base + kw->offset);
	const char	 *why, *path;
	int		  fac;

	if (value[0] == '\0')
		return conf_value_error(ld, kw, value, "empty value");
	if (conf_syslog_parse(value, &fac, &path, &why) == -1)
		return conf_key_error(ld, kw, why);
	free(*field);
	if ((*field = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	return 0;
}

/* health_status = CODE or LOW-HIGH, within 100..599. */
int
conf_set_status_range(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_upstream	*u = base;
	const char		*why = NULL;
	char			 lo[8], hi[8], extra;
	long			 a, b;
	int			 n;

	n = sscanf(value, "%7[0-9]-%7[0-9]%c", lo, hi, &extra);
	if (n == 1 && strspn(value, "0123456789") == strlen(value))
		snprintf(hi, sizeof(hi), "%s", lo);
	else if (n != 2)
		return conf_key_error(ld, kw, "expected CODE or LOW-HIGH");
	if (conf_parse_int(lo, 100, 599, &a, &why) == -1 ||
	    conf_parse_int(hi, 100, 599, &b, &why) == -1)
		return conf_key_error(ld, kw, "status out of 100..599");
	if (a > b)
		return conf_key_error(ld, kw, "LOW is above HIGH");
	u->health_status_min = (int)a;
	u->health_status_max = (int)b;
	return 0;
}

/* N% (or N): an int percentage within the keyword's bounds. */
int
conf_set_percent(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		 buf[16];
	const char	*why;
	size_t		 n = strlen(value);
	long		 v;

	if (n > 0 && value[n - 1] == '%')
		n--;
	if (n >= sizeof(buf))
		return conf_value_error(ld, kw, value, "not a percentage");
	memcpy(buf, value, n);
	buf[n] = '\0';
	if (conf_parse_int(buf, LONG_MIN, LONG_MAX, &v, &why) == -1)
		return conf_value_error(ld, kw, value, why);
	if (v < 0 || (uint64_t)v < kw->min || (uint64_t)v > kw->max)
		return conf_range_error(ld, kw, value);
	*(int *)conf_field(base, kw) = (int)v;
	return 0;
}

/*
 * N | auto (workers, max_connections): auto is stored as 0 and resolved at
 * start.
 */
int
conf_set_auto_int(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	if (strcmp(value, "auto") == 0) {
		*(int *)conf_field(base, kw) = 0;
		return 0;
	}
	return conf_set_int(ld, kw, base, value);
}
