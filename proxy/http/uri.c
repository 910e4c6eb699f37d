/*
 * uri: dot-segments, strip prefixes, and the URLs servers send back.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/http/uri.h"

/* A value being built: grows as needed. */
struct uri_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

/* Append n bytes of s to b (a failure is remembered). */
static void
uri_put(struct uri_buf *b, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Hand the value over: 1 with *out set, or -1 when out of memory. */
static int
uri_done(struct uri_buf *b, char **out)
{
	if (b->failed || b->p == NULL) {
		free(b->p);
		return -1;
	}
	*out = b->p;
	return 1;
}

/*
 * Dot-segments
 */

/*
 * How many dots the segment s[0..n) is made of, each "." or "%2e": 1 or 2
 * for "." and ".." however spelled, 0 for any other segment.
 */
static int
uri_dots(const char *s, size_t n)
{
	int	 dots = 0;

	while (n > 0 && dots < 3) {
		if (s[0] == '.') {
			s++;
			n--;
		} else if (n >= 3 && s[0] == '%' && s[1] == '2' &&
		    (s[2] == 'e' || s[2] == 'E')) {
			s += 3;
			n -= 3;
		} else
			return 0;
		dots++;
	}
	return n == 0 && dots <= 2 ? dots : 0;
}

/* See uri.h. */
int
uri_path_normalize(const char *path, size_t len, char *out, size_t *outlen)
{
	const char	*seg, *end = path + len, *slash;
	size_t		 o = 0, n, depth = 0;
	int		 dots, trailing = 0;

	/* nearly every path has no dot-segment: copy it as it is */
	if (memchr(path, '.', len) == NULL && memchr(path, '%', len) == NULL) {
		memmove(out, path, len);
		out[len] = '\0';
		*outlen = len;
		return 0;
	}
	for (seg = path + 1; seg <= end; seg = slash + 1) {
		if ((slash = memchr(seg, '/', (size_t)(end - seg))) == NULL)
			slash = end;
		n = (size_t)(slash - seg);
		trailing = 0;
		if ((dots = uri_dots(seg, n)) == 1) {
			trailing = 1;
		} else if (dots == 2) {
			if (depth == 0)
				return -1;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--;		/* the '/' before the segment */
			depth--;
			trailing = 1;
		} else {
			out[o++] = '/';
			memmove(out + o, seg, n);
			o += n;
			depth++;
		}
		if (slash == end)
			break;
	}
	if (o == 0 || trailing)
		out[o++] = '/';
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* See uri.h. */
int
uri_strip_match(const char *prefix, size_t prefixlen, const char *path)
{
	return strncmp(path, prefix, prefixlen) == 0 &&
	    (path[prefixlen] == '\0' || path[prefixlen] == '/');
}

/*
 * URLs
 */

/* The default port of a scheme ("http" or "https", any case). */
static unsigned
uri_default_port(const char *scheme, size_t n)
{
	return n == 5 && strncasecmp(scheme, "https", 5) == 0 ? 443 : 80;
}

/*
 * Split the authority a[0..n) into host and port (0: none). -1 when it is
 * not one sluice would rewrite: userinfo, a bad port, no host.
 */
static int
uri_authority(const char *a, size_t n, size_t *hostlen, unsigned *port)
{
	const char	*colon = NULL;
	size_t		 i;

	*port = 0;
	if (n == 0 || memchr(a, '@', n) != NULL)
		return -1;
	if (a[0] == '[') {
		const char *rb = memchr(a, ']', n);

		if (rb == NULL)
			return -1;
		*hostlen = (size_t)(rb - a) + 1;
		if (*hostlen < n && a[*hostlen] != ':')
			return -1;
		if (*hostlen < n)
			colon = a + *hostlen;
	} else {
		colon = memchr(a, ':', n);
		*hostlen = colon != NULL ? (size_t)(colon - a) : n;
	}
	if (*hostlen == 0)
		return -1;
	if (colon == NULL)
		return 0;
	for (i = (size_t)(colon - a) + 1; i < n; i++) {
		if (a[i] < '0' || a[i] > '9' || *port > 65535)
			return -1;
		*port = *port * 10 + (unsigned)(a[i] - '0');
	}
	return *port > 65535 ? -1 : 0;
}

/* See uri.h. */
int
uri_self_parse(const char *text, struct uri_self *s)
{
	s->host = text;
	return uri_authority(text, strlen(text), &s->hostlen, &s->port);
}

/* 1 when the URL authority (host, port; scheme default dport) is o's. */
static int
uri_is_self(const struct uri_outside *o, const char *host, size_t hostlen,
    unsigned port, unsigned dport)
{
	size_t	 i;

	for (i = 0; i < o->nself; i++) {
		const struct uri_self	*s = &o->self[i];

		if (s->hostlen != hostlen ||
		    strncasecmp(s->host, host, hostlen) != 0)
			continue;
		if (port == 0 || port == (s->port != 0 ? s->port : dport))
			return 1;
	}
	return 0;
}

/* Append the prefix, then rest (path, query, fragment; "/" if no path). */
static void
uri_put_path(struct uri_buf *b, const struct uri_outside *o,
    const char *rest, size_t n)
{
	uri_put(b, o->prefix, o->prefixlen);
	if (n == 0 || rest[0] != '/')
		uri_put(b, "/", 1);
	uri_put(b, rest, n);
}

/* See uri.h. */
int
uri_rewrite_location(const struct uri_outside *o, const char *v, size_t len,
    char **out)
{
	struct uri_buf	 b = { NULL, 0, 0, 0 };
	const char	*auth;
	size_t		 schemelen = 0, authlen, hostlen;
	unsigned	 port, dport;

	if (len >= 7 && strncasecmp(v, "http://", 7) == 0)
		schemelen = 4;
	else if (len >= 8 && strncasecmp(v, "https://", 8) == 0)
		schemelen = 5;
	if (schemelen == 0 && !(len >= 2 && v[0] == '/' && v[1] == '/')) {
		/* relative: only an absolute path, and only for a prefix */
		if (o->prefixlen == 0 || len == 0 || v[0] != '/')
			return 0;
		uri_put_path(&b, o, v, len);
		return uri_done(&b, out);
	}
	auth = v + (schemelen > 0 ? schemelen + 3 : 2);
	for (authlen = 0; auth + authlen < v + len; authlen++)
		if (strchr("/?#", auth[authlen]) != NULL)
			break;
	dport = schemelen > 0 ? uri_default_port(v, schemelen) :
	    uri_default_port(o->scheme, strlen(o->scheme));
	if (uri_authority(auth, authlen, &hostlen, &port) == -1 ||
	    !uri_is_self(o, auth, hostlen, port, dport))
		return 0;
	if (o->host != NULL) {
		uri_put(&b, o->scheme, strlen(o->scheme));
		uri_put(&b, "://", 3);
		uri_put(&b, o->host, strlen(o->host));
	}
	uri_put_path(&b, o, auth + authlen, (size_t)(v + len -
	    (auth + authlen)));
	return uri_done(&b, out);
}

/* The length of the blanks (SP, HTAB) at s[0..n). */
static size_t
uri_blanks(const char *s, size_t n)
{
	size_t	 i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* See uri.h. */
int
uri_rewrite_refresh(const struct uri_outside *o, const char *v, size_t len,
    char **out)
{
	struct uri_buf	 b = { NULL, 0, 0, 0 };
	char		*url;
	size_t		 i, start, end;
	int		 r;

	/* the delay, then ';' or ',' */
	for (i = 0; i < len && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.');
	    i++)
		continue;
	i += uri_blanks(v + i, len - i);
	if (i >= len || (v[i] != ';' && v[i] != ','))
		return 0;
	i++;
	i += uri_blanks(v + i, len - i);
	if (len - i >= 3 && strncasecmp(v + i, "url", 3) == 0) {
		size_t	 j = i + 3 + uri_blanks(v + i + 3, len - i - 3);

		if (j < len && v[j] == '=') {
			i = j + 1;
			i += uri_blanks(v + i, len - i);
		}
	}
	start = i;
	end = len;
	if (start < len && (v[start] == '\'' || v[start] == '"')) {
		const char *q = memchr(v + start + 1, v[start], len - start -
		    1);

		start++;
		if (q != NULL)
			end = (size_t)(q - v);
	}
	while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	if ((r = uri_rewrite_location(o, v + start, end - start,
	    &url)) != 1)
		return r;
	uri_put(&b, v, start);
	uri_put(&b, url, strlen(url));
	uri_put(&b, v + end, len - end);
	free(url);
	return uri_done(&b, out);
}

/* See uri.h. */
int
uri_rewrite_cookie_path(const char *prefix, size_t prefixlen, const char *v,
    size_t len, char **out)
{
	struct uri_buf	 b = { NULL, 0, 0, 0 };
	const char	*semi, *attr, *eq, *end = v + len, *from = v;
	size_t		 namelen;
	int		 changed = 0;

	/* the first pair is the cookie itself; attributes follow ';' */
	for (semi = memchr(v, ';', len); semi != NULL;
	    semi = memchr(attr, ';', (size_t)(end - attr))) {
		attr = semi + 1;
		attr += uri_blanks(attr, (size_t)(end - attr));
		eq = attr;
		while (eq < end && *eq != '=' && *eq != ';')
			eq++;
		namelen = (size_t)(eq - attr);
		while (namelen > 0 && (attr[namelen - 1] == ' ' ||
		    attr[namelen - 1] == '\t'))
			namelen--;
		if (eq == end || *eq != '=' || namelen != 4 ||
		    strncasecmp(attr, "path", 4) != 0)
			continue;
		eq++;
		eq += uri_blanks(eq, (size_t)(end - eq));
		if (eq == end || *eq != '/')
			continue;
		uri_put(&b, from, (size_t)(eq - from));
		uri_put(&b, prefix, prefixlen);
		from = eq;
		changed = 1;
	}
	if (!changed)
		return 0;
	uri_put(&b, from, (size_t)(end - from));
	return uri_done(&b, out);
}

/* 1 for an RFC 3986 unreserved or sub-delims byte. */
static int
uri_regname_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=", c) != NULL;
}

/* 1 for a hex digit. */
static int
uri_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* 1 when s[0..len) is an IPv6 address (RFC 3986 IPv6address). */
static int
uri_ipv6(const char *s, size_t len)
{
	char		buf[64];
	unsigned char	a[16];

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* inet_pton takes exactly the RFC's forms, the IPv4 tail included */
	return inet_pton(AF_INET6, buf, a) == 1;
}

/* See uri.h. */
size_t
uri_authority_host(const char *host, size_t len)
{
	size_t		 hlen, i;
	const char	*colon;
	unsigned long	 port = 0;

	if (len == 0)
		return 0;
	if (host[0] == '[') {
		const char *close = memchr(host, ']', len);

		if (close == NULL || !uri_ipv6(host + 1,
		    (size_t)(close - host) - 1))
			return 0;
		hlen = (size_t)(close - host) + 1;
		if (hlen < len && host[hlen] != ':')
			return 0;
	} else {
		colon = memchr(host, ':', len);
		hlen = colon != NULL ? (size_t)(colon - host) : len;
		if (hlen == 0)
			return 0;
		/* a reg-name covers IPv4's digits and dots too */
		for (i = 0; i < hlen; i++) {
			unsigned char c = (unsigned char)host[i];

			if (c == '%') {
				if (i + 2 >= hlen || !uri_hex((unsigned char)
				    host[i + 1]) || !uri_hex((unsigned char)
				    host[i + 2]))
					return 0;
				i += 2;
			} else if (!uri_regname_byte(c))
				return 0;
		}
	}
	if (hlen == len)
		return hlen;
	/* ":PORT": digits (none is allowed: port = *DIGIT), at most 65535 */
	if (len - hlen - 1 > 5)
		return 0;
	for (i = hlen + 1; i < len; i++) {
		if (host[i] < '0' || host[i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(host[i] - '0');
	}
	return port <= 65535 ? hlen : 0;
}
