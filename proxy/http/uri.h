/*
 * uri: request paths on the way in and the URLs of response headers on the
 * way out. Pure functions: strings in, strings out.
 *
 * In: every path is routed and forwarded with its dot-segments removed, so
 * that no route can be left by "..", however it is spelled; a route that
 * strips a prefix matches it by whole segments. Out: redirects and cookies
 * from a server that thinks it lives at "/" on its own address are pointed
 * back at what the client sees.
 */
#ifndef SLUICE_HTTP_URI_H
#define SLUICE_HTTP_URI_H

#include <stddef.h>

/*
 * Remove the dot-segments of path[0..len) (which starts with '/'; no query)
 * as RFC 3986 5.2.4 does, a segment "." or ".." also when its dots are
 * spelled %2e or %2E. The result goes to out (at least len + 1 bytes;
 * out may be path), NUL-terminated, its length in *outlen; nothing else
 * changes (other percent-encodings, repeated slashes). Returns 0, or -1
 * when a ".." would climb above "/" (the request is refused).
 */
int	uri_path_normalize(const char *path, size_t len, char *out,
	    size_t *outlen);

/*
 * 1 when path (NUL-terminated, no query) is under the prefix of a route
 * that strips it: the prefix (kept without a trailing '/', "" for "/") is
 * followed by the end or by '/'. "/legacy" matches "/legacy" and
 * "/legacy/a", not "/legacyx".
 */
int	uri_strip_match(const char *prefix, size_t prefixlen, const char *path);

/* A name by which a server may point at itself in a URL. */
struct uri_self {
	const char	*host;		/* IPv6 literals in brackets */
	size_t		 hostlen;
	unsigned	 port;		/* 0: the default of the URL's
					 * scheme */
};

/*
 * Fill s from "HOST", "HOST:PORT" or "[V6]:PORT" (pointing into text). -1
 * when text is none of those.
 */
int	uri_self_parse(const char *text, struct uri_self *s);

/*
 * An RFC 3986 authority without userinfo, as a Host header carries it:
 * host[0..len) is "HOST" or "HOST:PORT" where HOST is a reg-name
 * (unreserved, pct-encoded, sub-delims; not empty), an IPv4 address, or
 * an IPv6 address in brackets, and PORT 0..65535 in digits (or none, as
 * RFC 3986 allows). Returns the
 * length of HOST (brackets included), or 0 when host is none of those.
 */
size_t	uri_authority_host(const char *host, size_t len);

/* How a server's URLs are pointed back at the client's side. */
struct uri_outside {
	const char		*scheme;	/* the client's: "http" or
						 * "https" */
	const char		*host;		/* the Host the client sent,
						 * as sent; NULL: none (the
						 * URL becomes a path) */
	const char		*prefix;	/* a stripped prefix, without
						 * trailing '/'; "" : none */
	size_t			 prefixlen;
	const struct uri_self	*self;		/* the server's names */
	size_t			 nself;
};

/*
 * Rewrite a Location or Content-Location value v[0..len). An absolute
 * http or https URL (or a network-path "//authority/...") whose authority
 * is one of o->self (same host ignoring case; a port in the URL must be
 * that one's) becomes o->scheme://o->host, then the prefix, then its path
 * ("/" when empty), query and fragment as they were. An absolute path gets
 * the prefix in front. Anything else is left: other hosts, userinfo,
 * other relative references. Returns 1 with *out a malloc'd new value, 0
 * when v stays as it is, -1 when out of memory.
 */
int	uri_rewrite_location(const struct uri_outside *o, const char *v,
	    size_t len, char **out);

/*
 * The same for the URL of a Refresh value ("5; url=http://...", with or
 * without "url=", quoted or not); the rest is kept byte for byte.
 */
int	uri_rewrite_refresh(const struct uri_outside *o, const char *v,
	    size_t len, char **out);

/*
 * Put prefix (without trailing '/', not empty) in front of the value of
 * every Path attribute of a Set-Cookie value v[0..len) that starts with
 * '/': "Path=/" becomes "Path=/legacy/". Every other byte is kept.
 * Returns 1 with *out malloc'd, 0 when there is no such attribute, -1 when
 * out of memory.
 */
int	uri_rewrite_cookie_path(const char *prefix, size_t prefixlen,
	    const char *v, size_t len, char **out);

#endif
