/*
 * rewrite: what sluice changes in the headers of one exchange beyond what
 * crosses by the HTTP rules (http/headers.c): the configured header rules
 * on requests and responses, request IDs, and the Location, Refresh and
 * Set-Cookie values of a server that must not leak its own address or lose
 * a stripped prefix.
 *
 * The rules were checked when the configuration was read (conf/rules.c):
 * here they are only applied.
 */
#ifndef SLUICE_REWRITE_H
#define SLUICE_REWRITE_H

#include <stddef.h>

#include "conf/conf.h"

struct evkeyvalq;
struct headers_sink;
struct uri_outside;

/* The longest request ID kept from a client (request_id_trust). */
#define REWRITE_ID_MAX		128

/* What the variables of a rule stand for in one exchange (by conf_var). */
struct rewrite_vars {
	const char	*val[CONF_VAR_TLS_CLIENT_FINGERPRINT + 1]; /* NULL:
							 * "" */
};

/*
 * The header rules of one exchange in one direction, in the order they
 * run: on requests the listener's then the upstream's, on responses the
 * upstream's then the listener's. A set or remove takes every instance of
 * its header away, whoever put it there; what a set or add puts in stays
 * unless a later rule takes it away. So the rules come down to two
 * questions, asked while the headers are written: does a header stay
 * (rewrite_keeps), and what do the rules add at the end (rewrite_add_*).
 */
struct rewrite_rules {
	const struct conf_hdr_rules	*list[2];
	size_t				 n;
	const struct rewrite_vars	*vars;
};

/* 1 when no rule removes or replaces a header called name[0..len). */
int	rewrite_keeps(const struct rewrite_rules *, const char *name,
	    size_t len);

/*
 * Write the headers the rules add, expanded, as "Name: value" lines; a
 * value that expands to "" adds nothing. 0 or -1.
 */
int	rewrite_add_sink(const struct rewrite_rules *,
	    const struct headers_sink *out);

/* The same into evhttp's header list. */
int	rewrite_add_q(const struct rewrite_rules *, struct evkeyvalq *);

/*
 * Apply the rules to a header list sluice wrote itself (its own answers):
 * take away what they remove or replace, then add theirs. -1 when out of
 * memory.
 */
int	rewrite_apply_q(const struct rewrite_rules *, struct evkeyvalq *);

/*
 * Point the Location, Content-Location and Refresh headers (location) and
 * the Set-Cookie paths (cookie_path, when o has a prefix) at the client's
 * side; see http/uri.h. -1 when out of memory.
 */
int	rewrite_urls(struct evkeyvalq *, const struct uri_outside *o,
	    int location, int cookie_path);

/*
 * The request ID for a request whose headers are in: the client's value of
 * header name when trust is on and it came once, 1..REWRITE_ID_MAX bytes
 * of visible ASCII; else 128 random bits as 32 lowercase hex digits. Into
 * buf (at least REWRITE_ID_MAX + 1 bytes).
 */
void	rewrite_request_id(const struct evkeyvalq *in, const char *name,
	    int trust, char *buf);

#endif
