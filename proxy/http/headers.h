/*
 * headers: what crosses the proxy in each direction. Pure functions: the
 * caller hands header fields in and says where the results go (a sink);
 * no sockets, no event loop, no logging.
 */
#ifndef SLUICE_HTTP_HEADERS_H
#define SLUICE_HTTP_HEADERS_H

#include <stddef.h>

struct http1_field;
struct http1_response;

/* Where a request head is written: add(arg, p, len) appends; 0 or -1. */
struct headers_sink {
	int		(*add)(void *arg, const void *p, size_t len);
	void		*arg;
};

/*
 * A sink into one flat buffer: the array inside first, the heap once it
 * is outgrown. A head written piece by piece into an evbuffer costs an
 * evbuffer_add per piece; here a memcpy, then one add of the whole.
 */
#define HEADERS_BUF_STACK	4096

struct headers_buf {
	char		*p;		/* stack, or malloc'd */
	size_t		 len;
	size_t		 cap;
	char		 stack[HEADERS_BUF_STACK];
};

/* Start b empty and point sink at it. */
void	headers_buf_init(struct headers_buf *b, struct headers_sink *sink);

/* Free what b allocated. */
void	headers_buf_free(struct headers_buf *b);

#define HEADERS_CONN_MAX	32	/* Connection options read at once */

/*
 * The options a message's Connection headers list, read once so that
 * asking about each header is linear in the head, not quadratic.
 */
struct headers_conn {
	struct {
		const char	*p;
		size_t		 len;
	}		 opt[HEADERS_CONN_MAX];
	size_t		 n;
	int		 over;		/* more than HEADERS_CONN_MAX: the
					 * headers are scanned instead */
};

/* The client's request header fields, in order. */
struct headers_in {
	const struct http1_field	*f;
	size_t				 n;
	const struct headers_conn	*conn;	/* headers_request_build
						 * sets it; NULL: scan */
};

/*
 * Where response headers go: add(arg, name, value), NUL-terminated; keep
 * (NULL: all are kept) is 0 for a header not to copy (namelen bytes).
 */
struct headers_out {
	int		(*add)(void *arg, const char *name, const char *value);
	int		(*keep)(void *arg, const char *name, size_t namelen);
	void		*arg;
};

/* What the proxy adds to a forwarded request. */
struct headers_forward {
	const char	*client_ip;	/* the peer: X-Forwarded-For */
	int		 trusted;	/* the peer is a trusted proxy: the
					 * client's X-Forwarded-* and
					 * Forwarded are kept (client_ip
					 * appended to X-Forwarded-For) */
	int		 tls;		/* X-Forwarded-Proto: https or http */
	const char	*default_host;	/* Host when the client sent none
					 * (HTTP/1.0); NULL: none */
	const char	*via;		/* appended to Via, e.g. "1.1 sluice"
					 * (RFC 9110 7.6.3); NULL: none */
	const char	*upgrade;	/* the Upgrade value to pass on
					 * (with Connection: upgrade); NULL:
					 * not an upgrade */
	const char	*host;		/* the Host to send instead of the
					 * client's; NULL: the client's */
	const char	*id_name;	/* the request ID's header; NULL:
					 * none */
	const char	*id;		/* its value */
	/*
	 * Header rules (NULL: none): keep(rules, name, namelen) is 0 for a
	 * header they remove or replace, which is then not written, be it
	 * the client's or the proxy's; add(rules, out) writes theirs last.
	 */
	int		(*keep)(void *rules, const char *name, size_t namelen);
	int		(*add)(void *rules, const struct headers_sink *out);
	void		*rules;
};

/*
 * 1 when the header name (namelen bytes) is hop-by-hop: one of Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, or
 * a name listed in connection (the message's Connection header values joined
 * with ",", NULL when it has none). Case-insensitive.
 */
int	headers_is_hop_by_hop(const char *name, size_t namelen,
	    const char *connection);

/*
 * Append the upstream request head to out: "METHOD TARGET HTTP/1.1\r\n",
 * then every end-to-end header of in (in order, duplicates kept), without
 * hop-by-hop headers, Expect, Content-Length, the client's X-Forwarded-*
 * and, unless fwd->trusted, its Forwarded; then X-Forwarded-For
 * (client_ip; with fwd->trusted, the client's values joined with ", " and
 * client_ip appended), X-Forwarded-Proto and X-Forwarded-Host (with
 * fwd->trusted, the client's when it sent them; else the scheme, and the
 * client's Host when it sent one), Via (the
 * client's values joined, then fwd->via), the request ID (fwd->id_name:
 * fwd->id, the client's removed), and "Content-Length: body_len" when
 * body_len > 0 or the method is POST, PUT or PATCH; then the headers of
 * the rules (fwd->add), and the empty line. A header fwd->keep refuses is
 * not written. Host is kept as the client sent it, or is fwd->host, first
 * after the request line; when the client sent none (HTTP/1.0), Host is
 * fwd->default_host.
 * target must already be in origin-form. Returns 0, or -1 if out of memory.
 */
int	headers_request_build(const struct headers_sink *out,
	    const char *method, const char *target, const struct headers_in *in,
	    const struct headers_forward *fwd, size_t body_len);

/*
 * Copy the end-to-end headers of a parsed upstream response into out (the
 * client request's output headers), dropping hop-by-hop headers (the fixed
 * list and those named in the response's Connection) and those out->keep
 * refuses. Content-Length is
 * copied only when the response is framed by length, or is a HEAD or 304
 * response that declared one. Repeated headers (Set-Cookie) stay separate.
 * Returns 0, or -1 if a header could not be added.
 */
int	headers_response_copy(const struct http1_response *,
	    const struct headers_out *out);

#endif
