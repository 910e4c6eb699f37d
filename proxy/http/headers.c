/*
 * headers: which header lines cross the proxy, in each direction, and what
 * the proxy adds. Hop-by-hop headers (RFC 9110 7.6.1) never cross; framing
 * headers are regenerated from what the proxy actually holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "proxy/http/headers.h"
#include "proxy/http/http1.h"

/* Values up to this size are NUL-terminated on the stack, not the heap. */
#define HEADERS_STACK_COPY	1024

/* Hop-by-hop in every message, whatever Connection says. */
static const char *const headers_hop_names[] = {
	"Connection",
	"Keep-Alive",
	"Proxy-Connection",
	"TE",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
};

/* A headers_buf's add: copy, growing to the heap when needed. */
static int
headers_buf_add(void *arg, const void *p, size_t len)
{
	struct headers_buf	*b = arg;
	size_t			 cap;
	char			*n;

	if (b->len + len > b->cap) {
		for (cap = b->cap * 2; cap < b->len + len; cap *= 2)
			continue;
		if (b->p == b->stack) {
			if ((n = malloc(cap)) == NULL)
				return -1;
			memcpy(n, b->p, b->len);
		} else if ((n = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = n;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

/* See headers.h. */
void
headers_buf_init(struct headers_buf *b, struct headers_sink *sink)
{
	b->p = b->stack;
	b->len = 0;
	b->cap = sizeof(b->stack);
	sink->add = headers_buf_add;
	sink->arg = b;
}

/* See headers.h. */
void
headers_buf_free(struct headers_buf *b)
{
	if (b->p != b->stack)
		free(b->p);
	b->p = b->stack;
	b->len = 0;
}

/* Append len bytes of p to out; 0 or -1. */
static int
headers_add(const struct headers_sink *out, const void *p, size_t len)
{
	return out->add(out->arg, p, len);
}

/* 1 when the len bytes at name are lit, ignoring case. */
static int
headers_name_is(const char *name, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(name, lit, len) == 0;
}

/* 1 when name is in the fixed hop-by-hop list. */
static int
headers_hop_fixed(const char *name, size_t namelen)
{
	size_t	 i;

	for (i = 0; i < sizeof(headers_hop_names) /
	    sizeof(headers_hop_names[0]); i++)
		if (headers_name_is(name, namelen, headers_hop_names[i]))
			return 1;
	return 0;
}

/*
 * The next item of the comma-separated list *list[0..*len) without the
 * OWS around it (possibly empty), in *item[0..*itemlen); the list moves
 * past it. 0 once the list is used up.
 */
static int
headers_list_next(const char **list, size_t *len, const char **item,
    size_t *itemlen)
{
	const char	*comma;

	if (*list == NULL)
		return 0;
	comma = memchr(*list, ',', *len);
	*item = *list;
	*itemlen = comma != NULL ? (size_t)(comma - *list) : *len;
	if (comma != NULL) {
		*len -= (size_t)(comma - *list) + 1;
		*list = comma + 1;
	} else
		*list = NULL;
	while (*itemlen > 0 && (**item == ' ' || **item == '\t')) {
		(*item)++;
		(*itemlen)--;
	}
	while (*itemlen > 0 && ((*item)[*itemlen - 1] == ' ' ||
	    (*item)[*itemlen - 1] == '\t'))
		(*itemlen)--;
	return 1;
}

/* 1 when the comma-separated list[0..len) names name (OWS around items). */
static int
headers_list_names(const char *list, size_t len, const char *name,
    size_t namelen)
{
	const char	*item;
	size_t		 itemlen;

	if (len == 0)
		return 0;
	while (headers_list_next(&list, &len, &item, &itemlen))
		if (itemlen > 0 && itemlen == namelen &&
		    strncasecmp(item, name, namelen) == 0)
			return 1;
	return 0;
}

/* 1 when the header name is hop-by-hop; see headers.h. */
int
headers_is_hop_by_hop(const char *name, size_t namelen,
    const char *connection)
{
	if (headers_hop_fixed(name, namelen))
		return 1;
	return connection != NULL && headers_list_names(connection,
	    strlen(connection), name, namelen);
}

/* Add the options of one Connection value v[0..len) to c. */
static void
headers_conn_add(struct headers_conn *c, const char *v, size_t len)
{
	const char	*item;
	size_t		 itemlen;

	if (len == 0)
		return;
	while (!c->over && headers_list_next(&v, &len, &item, &itemlen)) {
		if (itemlen == 0)
			continue;
		if (c->n == HEADERS_CONN_MAX)
			c->over = 1;
		else {
			c->opt[c->n].p = item;
			c->opt[c->n++].len = itemlen;
		}
	}
}

/* 1 when c lists name[0..namelen) (c not over). */
static int
headers_conn_has(const struct headers_conn *c, const char *name,
    size_t namelen)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		if (c->opt[i].len == namelen &&
		    strncasecmp(c->opt[i].p, name, namelen) == 0)
			return 1;
	return 0;
}

/* 1 when a Connection header of the request names name. */
static int
headers_request_listed(const struct headers_in *in, const char *name)
{
	const struct http1_field	*kv;
	size_t				 i;

	if (in->conn != NULL && !in->conn->over)
		return headers_conn_has(in->conn, name, strlen(name));
	for (i = 0; i < in->n; i++)
		if ((kv = &in->f[i]) != NULL &&
		    strcasecmp(kv->name, "Connection") == 0 &&
		    headers_list_names(kv->value, strlen(kv->value), name,
		    strlen(name)))
			return 1;
	return 0;
}

/*
 * 1 when the client's header stops here. Host is never removed through
 * Connection ("Connection: host" would leave the upstream without one).
 */
static int
headers_request_drops(const struct headers_in *in,
    const struct headers_forward *fwd, const char *name)
{
	static const char *const own[] = {
		"Expect", "Content-Length", "X-Forwarded-For",
		"X-Forwarded-Proto", "X-Forwarded-Host", "Via",
	};
	size_t	 i;

	if (headers_hop_fixed(name, strlen(name)))
		return 1;
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcasecmp(name, own[i]) == 0)
			return 1;
	if (fwd->id_name != NULL && strcasecmp(name, fwd->id_name) == 0)
		return 1;
	/* from anyone but a trusted proxy, a lie about the client */
	if (!fwd->trusted && strcasecmp(name, "Forwarded") == 0)
		return 1;
	if (strcasecmp(name, "Host") == 0)
		return fwd->host != NULL;
	return headers_request_listed(in, name);
}

/* Append "name: value\r\n" to out; 0 or -1. */
static int
headers_put(const struct headers_sink *out, const char *name, const char *value)
{
	/* plain copies: a printf per header showed in profiles */
	return headers_add(out, name, strlen(name)) == -1 ||
	    headers_add(out, ": ", 2) == -1 ||
	    headers_add(out, value, strlen(value)) == -1 ||
	    headers_add(out, "\r\n", 2) == -1 ?
	    -1 : 0;
}

/* 0 when the rules of fwd remove or replace the header called name. */
static int
headers_kept(const struct headers_forward *fwd, const char *name)
{
	return fwd->keep == NULL || fwd->keep(fwd->rules, name, strlen(name));
}

/* Append the client's end-to-end headers, in order; 0 or -1. */
static int
headers_request_copy(const struct headers_sink *out,
    const struct headers_in *in, const struct headers_forward *fwd)
{
	const struct http1_field	*kv;
	size_t				 i;

	if (fwd->host != NULL && headers_put(out, "Host", fwd->host) == -1)
		return -1;
	for (i = 0; i < in->n; i++) {
		kv = &in->f[i];
		if (headers_request_drops(in, fwd, kv->name) ||
		    !headers_kept(fwd, kv->name))
			continue;
		if (headers_put(out, kv->name, kv->value) == -1)
			return -1;
	}
	return 0;
}

/* v in decimal into buf (at least 21 bytes); its length. */
static size_t
headers_u64(char *buf, uint64_t v)
{
	char	 tmp[20];
	size_t	 n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* Append one value of a joined header: "name: v" first, ", v" after. */
static int
headers_join_one(const struct headers_sink *out, const char *name,
    const char *v, int *n)
{
	if ((*n)++ == 0)
		return headers_add(out, name, strlen(name)) == -1 ||
		    headers_add(out, ": ", 2) == -1 ||
		    headers_add(out, v, strlen(v)) == -1 ? -1 : 0;
	return headers_add(out, ", ", 2) == -1 ||
	    headers_add(out, v, strlen(v)) == -1 ? -1 : 0;
}

/*
 * Append "name: " with the client's values of name in order, then last
 * (X-Forwarded-For, Via); nothing when there is neither. 0 or -1.
 */
static int
headers_request_join(const struct headers_sink *out,
    const struct headers_in *in, const char *name, const char *last)
{
	const struct http1_field	*kv;
	size_t				 i;
	int				 n = 0, dropped;

	/* Named in Connection, the client's values are hop-by-hop too. */
	dropped = headers_request_listed(in, name);
	for (i = 0; i < in->n; i++) {
		kv = &in->f[i];
		if (dropped || strcasecmp(kv->name, name) != 0 ||
		    kv->value[0] == '\0')
			continue;
		if (headers_join_one(out, name, kv->value, &n) == -1)
			return -1;
	}
	if (last != NULL && headers_join_one(out, name, last, &n) == -1)
		return -1;
	if (n > 0 && headers_add(out, "\r\n", 2) == -1)
		return -1;
	return 0;
}

/* 1 when an upstream expects a Content-Length for method even at 0. */
static int
headers_method_has_body(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0;
}

/* Append what the proxy adds after the client's headers; 0 or -1. */
static int
headers_request_add(const struct headers_sink *out, const char *method,
    const struct headers_in *in, const struct headers_forward *fwd,
    size_t body_len)
{
	const char	*host;

	/*
	 * The X-Forwarded-* a client sent are believed only from a trusted
	 * proxy: from anyone else they are replaced, never appended to
	 * (whatever a client puts first in X-Forwarded-For is what many
	 * applications read as the client).
	 */
	if (headers_kept(fwd, "X-Forwarded-For") && (fwd->trusted ?
	    headers_request_join(out, in, "X-Forwarded-For",
	    fwd->client_ip) : fwd->client_ip == NULL ? 0 :
	    headers_put(out, "X-Forwarded-For", fwd->client_ip)) == -1)
		return -1;
	if (headers_kept(fwd, "Via") &&
	    headers_request_join(out, in, "Via", fwd->via) == -1)
		return -1;
	if (headers_kept(fwd, "X-Forwarded-Proto") && (fwd->trusted &&
	    http1_fields_find(in->f, in->n, "X-Forwarded-Proto") != NULL ?
	    headers_request_join(out, in, "X-Forwarded-Proto", NULL) :
	    headers_put(out, "X-Forwarded-Proto", fwd->tls ? "https" :
	    "http")) == -1)
		return -1;
	host = http1_fields_find(in->f, in->n, "Host");
	if (fwd->trusted && http1_fields_find(in->f, in->n,
	    "X-Forwarded-Host") != NULL) {
		if (headers_kept(fwd, "X-Forwarded-Host") &&
		    headers_request_join(out, in, "X-Forwarded-Host",
		    NULL) == -1)
			return -1;
	} else if (host != NULL && headers_kept(fwd, "X-Forwarded-Host") &&
	    headers_put(out, "X-Forwarded-Host", host) == -1)
		return -1;
	/* an HTTP/1.0 client may omit Host; an HTTP/1.1 request may not */
	if (host == NULL && fwd->host == NULL && fwd->default_host != NULL &&
	    headers_put(out, "Host", fwd->default_host) == -1)
		return -1;
	if (fwd->id_name != NULL && headers_kept(fwd, fwd->id_name) &&
	    headers_put(out, fwd->id_name, fwd->id) == -1)
		return -1;
	if (fwd->upgrade != NULL && (headers_put(out, "Connection",
	    "upgrade") == -1 || headers_put(out, "Upgrade",
	    fwd->upgrade) == -1))
		return -1;
	if (body_len > 0 || headers_method_has_body(method)) {
		char	 cl[24];
		size_t	 n = headers_u64(cl, body_len);

		if (headers_add(out, "Content-Length: ", 16) == -1 ||
		    headers_add(out, cl, n) == -1 ||
		    headers_add(out, "\r\n", 2) == -1)
			return -1;
	}
	return fwd->add != NULL ? fwd->add(fwd->rules, out) : 0;
}

/* Append the upstream request head to out; see headers.h. */
int
headers_request_build(const struct headers_sink *out, const char *method,
    const char *target, const struct headers_in *in,
    const struct headers_forward *fwd, size_t body_len)
{
	struct headers_conn	 conn;
	struct headers_in	 with = *in;
	size_t			 i;

	conn.n = 0;
	conn.over = 0;
	for (i = 0; i < in->n; i++)
		if (strcasecmp(in->f[i].name, "Connection") == 0)
			headers_conn_add(&conn, in->f[i].value,
			    strlen(in->f[i].value));
	with.conn = &conn;
	if (headers_add(out, method, strlen(method)) == -1 ||
	    headers_add(out, " ", 1) == -1 ||
	    headers_add(out, target, strlen(target)) == -1 ||
	    headers_add(out, " HTTP/1.1\r\n", 11) == -1)
		return -1;
	if (headers_request_copy(out, &with, fwd) == -1)
		return -1;
	if (headers_request_add(out, method, &with, fwd, body_len) == -1)
		return -1;
	return headers_add(out, "\r\n", 2);
}

/*
 * 1 when a Connection header of the response names name[0..namelen)
 * (conn: its options read once, unless over).
 */
static int
headers_response_listed(const struct http1_response *r,
    const struct headers_conn *conn, const char *name, size_t namelen)
{
	const struct http1_header	*h;
	size_t				 i;

	if (!conn->over)
		return headers_conn_has(conn, name, namelen);
	for (i = 0; i < r->nheaders; i++) {
		h = &r->headers[i];
		if (headers_name_is(h->name, h->namelen, "Connection") &&
		    headers_list_names(h->value, h->valuelen, name, namelen))
			return 1;
	}
	return 0;
}

/* Add h to out as NUL-terminated strings; 0 or -1. */
static int
headers_add_copy(const struct headers_out *out, const struct http1_header *h)
{
	char	 stack[HEADERS_STACK_COPY], *buf = stack;
	size_t	 need = h->namelen + h->valuelen + 2;
	int	 rc;

	if (need > sizeof(stack) && (buf = malloc(need)) == NULL)
		return -1;
	memcpy(buf, h->name, h->namelen);
	buf[h->namelen] = '\0';
	memcpy(buf + h->namelen + 1, h->value, h->valuelen);
	buf[need - 1] = '\0';
	rc = out->add(out->arg, buf, buf + h->namelen + 1);
	if (buf != stack)
		free(buf);
	return rc;
}

/* Copy the end-to-end headers of a parsed response; see headers.h. */
int
headers_response_copy(const struct http1_response *r,
    const struct headers_out *out)
{
	const struct http1_header	*h;
	struct headers_conn		 conn;
	char				 cl[24];
	size_t				 i;

	conn.n = 0;
	conn.over = 0;
	for (i = 0; i < r->nheaders; i++)
		if (headers_name_is(r->headers[i].name, r->headers[i].namelen,
		    "Connection"))
			headers_conn_add(&conn, r->headers[i].value,
			    r->headers[i].valuelen);
	for (i = 0; i < r->nheaders; i++) {
		h = &r->headers[i];
		/* Re-added below, once, from the parsed value ("5, 5"). */
		if (headers_name_is(h->name, h->namelen, "Content-Length"))
			continue;
		if (headers_hop_fixed(h->name, h->namelen) ||
		    headers_response_listed(r, &conn, h->name, h->namelen) ||
		    (out->keep != NULL && !out->keep(out->arg, h->name,
		    h->namelen)))
			continue;
		if (headers_add_copy(out, h) == -1)
			return -1;
	}
	if (r->framing == HTTP1_FRAMING_LENGTH ||
	    (r->framing == HTTP1_FRAMING_NONE && r->has_content_length)) {
		headers_u64(cl, r->content_length);
		if (out->add(out->arg, "Content-Length", cl) == -1)
			return -1;
	}
	return 0;
}
