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

struct evbuffer;
struct evkeyvalq;
struct uri_outside;

/* The longest request ID kept from a client (request_id_trust). */
#define REWRITE_ID_MAX		128

/* What the variables of a rule stand for in one exchange (by conf_var). */
struct rewrite_vars {
	const char	*val[CONF_VAR_SERVER + 1];	/* NULL: "" */
};

/*
 * Apply the lists of request rules in order to the request head in
 * head[0..len) (as headers_request_build wrote it) and append the result
 * to out. -1 when out of memory or the head cannot be read.
 */
int	rewrite_request(const char *head, size_t len, struct evbuffer *out,
	    const struct conf_hdr_rules *const *lists, size_t nlists,
	    const struct rewrite_vars *);

/* Apply response rules to a response's headers; -1 when out of memory. */
int	rewrite_response(struct evkeyvalq *, const struct conf_hdr_rules *,
	    const struct rewrite_vars *);

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

/* Set header name to value in q, replacing every other instance. */
int	rewrite_set_header(struct evkeyvalq *q, const char *name,
	    const char *value);

#endif
