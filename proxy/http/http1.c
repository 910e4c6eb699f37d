/*
 * http1: strict HTTP/1.1 parsing (RFC 9110, RFC 9112) for what evhttp
 * 2.1.12 lets through: upstream response heads, chunk sizes, and a last
 * check of each client request before it is forwarded. Pure functions.
 */

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>


#include "proxy/http/http1.h"

/* Largest Content-Length accepted: it must fit an off_t or ev_ssize_t. */
#define HTTP1_MAX_LENGTH	((uint64_t)INT64_MAX)

/* Largest chunk size accepted. */
#define HTTP1_MAX_CHUNK		((uint64_t)1 << 62)

/* One line of a head, its line end (CRLF or LF) excluded. */
struct http1_line {
	const char	*p;
	size_t		 len;
};

/* What the headers of a response say about its framing. */
struct http1_frame {
	int		 ncl;		/* Content-Length headers seen */
	uint64_t	 cl;
	int		 nte;		/* Transfer-Encoding headers seen */
	int		 close;		/* Connection lists "close" */
	int		 keep_alive;	/* Connection lists "keep-alive" */
};

/* What the headers of a request say, for http1_request_check. */
struct http1_reqinfo {
	int		 nhost;
	const char	*host;		/* OWS trimmed, hostlen bytes */
	size_t		 hostlen;
	int		 ncl;
	uint64_t	 cl;
	int		 nte;
};

/* Store a static reason in *why and return -1. */
static int
http1_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* 1 when c is an ASCII digit (locale-independent, unlike isdigit). */
static int
http1_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Value of the hex digit c, or -1. */
static int
http1_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 when c is optional whitespace (SP or HTAB). */
static int
http1_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * RFC 9110 tchar, as a table: a header name is read a byte at a time,
 * and a lookup is a load where the ranges and the list of symbols were
 * a dozen branches.
 */
#define T1(c)	[(unsigned char)(c)] = 1
static const unsigned char http1_tchar[256] = {
	T1('!'), T1('#'), T1('$'), T1('%'), T1('&'), T1('\''), T1('*'),
	T1('+'), T1('-'), T1('.'), T1('^'), T1('_'), T1('`'), T1('|'),
	T1('~'),
	T1('0'), T1('1'), T1('2'), T1('3'), T1('4'), T1('5'), T1('6'),
	T1('7'), T1('8'), T1('9'),
	T1('A'), T1('B'), T1('C'), T1('D'), T1('E'), T1('F'), T1('G'),
	T1('H'), T1('I'), T1('J'), T1('K'), T1('L'), T1('M'), T1('N'),
	T1('O'), T1('P'), T1('Q'), T1('R'), T1('S'), T1('T'), T1('U'),
	T1('V'), T1('W'), T1('X'), T1('Y'), T1('Z'),
	T1('a'), T1('b'), T1('c'), T1('d'), T1('e'), T1('f'), T1('g'),
	T1('h'), T1('i'), T1('j'), T1('k'), T1('l'), T1('m'), T1('n'),
	T1('o'), T1('p'), T1('q'), T1('r'), T1('s'), T1('t'), T1('u'),
	T1('v'), T1('w'), T1('x'), T1('y'), T1('z'),
};
#undef T1

/* 1 when c may appear in a token (RFC 9110 tchar). */
int
http1_is_tchar(unsigned char c)
{
	return http1_tchar[c];
}

/* 1 when the header value has no CTL other than HTAB (NUL included). */
int
http1_value_ok(const char *value, size_t len)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)value[i];
		/* the common case in one test: a visible ASCII byte */
		if ((unsigned char)(c - 0x20) < 0x5f)
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Trim OWS from both ends of [*p, *p + *len). */
static void
http1_trim(const char **p, size_t *len)
{
	while (*len > 0 && http1_is_ows((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && http1_is_ows((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

/* 1 when the comma-separated list value[0..len) has token. */
static int
http1_list_has_n(const char *value, size_t len, const char *token)
{
	const char	*elem, *comma;
	size_t		 elemlen, toklen = strlen(token);

	while (len > 0) {
		comma = memchr(value, ',', len);
		elemlen = comma != NULL ? (size_t)(comma - value) : len;
		elem = value;
		http1_trim(&elem, &elemlen);
		if (elemlen == toklen && strncasecmp(elem, token, toklen) == 0)
			return 1;
		if (comma == NULL)
			break;
		len -= (size_t)(comma - value) + 1;
		value = comma + 1;
	}
	return 0;
}

/* 1 when the comma-separated header value lists token (case-insensitive). */
int
http1_list_has(const char *value, const char *token)
{
	if (value == NULL)
		return 0;
	return http1_list_has_n(value, strlen(value), token);
}

/* See http1.h. */
int
http1_fields_list_has(const struct http1_field *f, size_t n,
    const char *name, const char *token)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0 &&
		    http1_list_has(f[i].value, token))
			return 1;
	return 0;
}

/* See http1.h. */
const char *
http1_fields_find(const struct http1_field *f, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

/* See http1.h. */
void
http1_value_trim(char *value)
{
	const char	*v = value;
	size_t		 len = strlen(v);

	if (len == 0 || (!http1_is_ows((unsigned char)v[0]) &&
	    !http1_is_ows((unsigned char)v[len - 1])))
		return;
	http1_trim(&v, &len);
	memmove(value, v, len);
	value[len] = '\0';
}

/* 1 when the len bytes at p are the name lit, ignoring case. */
static int
http1_name_is(const char *p, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(p, lit, len) == 0;
}

/* Parse 1*DIGIT up to HTTP1_MAX_LENGTH; 0, or -1 on anything else. */
static int
http1_digits(const char *p, size_t len, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;
	unsigned	 d;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!http1_is_digit((unsigned char)p[i]))
			return -1;
		d = (unsigned)(p[i] - '0');
		if (n > (HTTP1_MAX_LENGTH - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/*
 * Parse a Content-Length value: one number, or a list of identical numbers
 * ("5, 5", RFC 9110 section 8.6). Returns 0, or -1 when invalid or differing.
 */
static int
http1_length_list(const char *value, size_t len, uint64_t *out)
{
	const char	*elem, *comma;
	size_t		 elemlen;
	uint64_t	 n;
	int		 first = 1;

	for (;;) {
		comma = memchr(value, ',', len);
		elemlen = comma != NULL ? (size_t)(comma - value) : len;
		elem = value;
		http1_trim(&elem, &elemlen);
		if (http1_digits(elem, elemlen, &n) == -1)
			return -1;
		if (!first && n != *out)
			return -1;
		*out = n;
		first = 0;
		if (comma == NULL)
			return 0;
		len -= (size_t)(comma - value) + 1;
		value = comma + 1;
	}
}

/* Find the end of the head (after its empty line); 1 when found, else 0. */
static int
http1_head_end(const char *buf, size_t len, size_t *end)
{
	const char	*lf;
	size_t		 pos = 0, i;

	while ((lf = memchr(buf + pos, '\n', len - pos)) != NULL) {
		i = (size_t)(lf - buf);
		if (i == pos || (i == pos + 1 && buf[pos] == '\r')) {
			*end = i + 1;
			return 1;
		}
		pos = i + 1;
	}
	return 0;
}

/* 1 when buf[0..len) has a CR that is not followed by LF. */
static int
http1_has_bare_cr(const char *buf, size_t len)
{
	const char	*cr;
	size_t		 i;

	while ((cr = memchr(buf, '\r', len)) != NULL) {
		i = (size_t)(cr - buf);
		if (i + 1 == len || buf[i + 1] != '\n')
			return 1;
		buf += i + 1;
		len -= i + 1;
	}
	return 0;
}

/* Take the next line of buf[*pos..end) (which ends with LF) into *line. */
static void
http1_line_next(const char *buf, size_t end, size_t *pos,
    struct http1_line *line)
{
	const char	*lf;

	lf = memchr(buf + *pos, '\n', end - *pos);
	line->p = buf + *pos;
	line->len = (size_t)(lf - line->p);
	if (line->len > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	*pos = (size_t)(lf - buf) + 1;
}

/* Parse "HTTP/1.x SP 3DIGIT [SP reason]"; 0 or -1. */
static int
http1_status_line(const struct http1_line *l, struct http1_response *out,
    const char **why)
{
	const char	*p = l->p;

	if (l->len < 12 || memcmp(p, "HTTP/", 5) != 0 ||
	    !http1_is_digit((unsigned char)p[5]) || p[6] != '.' ||
	    !http1_is_digit((unsigned char)p[7]) || p[8] != ' ')
		return http1_fail(why, "malformed status line");
	if (p[5] != '1')
		return http1_fail(why, "unsupported HTTP version");
	/* RFC 9110 2.5: a higher minor version is handled as 1.1. */
	out->minor = p[7] == '0' ? 0 : 1;
	if (!http1_is_digit((unsigned char)p[9]) ||
	    !http1_is_digit((unsigned char)p[10]) ||
	    !http1_is_digit((unsigned char)p[11]) ||
	    (l->len > 12 && p[12] != ' '))
		return http1_fail(why, "malformed status code");
	out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (out->status < 100 || out->status > 599)
		return http1_fail(why, "status code out of range");
	out->reason = p + (l->len > 12 ? 13 : 12);
	out->reasonlen = l->len > 12 ? l->len - 13 : 0;
	if (!http1_value_ok(out->reason, out->reasonlen))
		return http1_fail(why, "control character in reason phrase");
	return 0;
}

/* Parse one "name: value" line into the next slot of out; 0 or -1. */
static int
http1_header_line(const struct http1_line *l, struct http1_response *out,
    const char **why)
{
	struct http1_header	*h;
	size_t			 i;

	if (http1_is_ows((unsigned char)l->p[0]))
		return http1_fail(why, "obs-fold or whitespace before header");
	for (i = 0; i < l->len && http1_tchar[(unsigned char)l->p[i]]; i++)
		;
	if (i == l->len)
		return http1_fail(why, "header line without colon");
	if (l->p[i] != ':' || i == 0)
		return http1_fail(why, "invalid header name");
	if (out->nheaders == HTTP1_MAX_HEADERS)
		return http1_fail(why, "too many headers");
	h = &out->headers[out->nheaders];
	h->name = l->p;
	h->namelen = i;
	h->value = l->p + i + 1;
	h->valuelen = l->len - i - 1;
	http1_trim(&h->value, &h->valuelen);
	if (!http1_value_ok(h->value, h->valuelen))
		return http1_fail(why, "control character in header value");
	out->nheaders++;
	return 0;
}

/* Fold one framing-relevant header into *f; 0, or -1 when invalid. */
static int
http1_frame_header(const struct http1_header *h, struct http1_frame *f,
    const char **why)
{
	uint64_t	 n = 0;

	/* by length first: most headers are none of the three */
	if (h->namelen != 14 && h->namelen != 17 && h->namelen != 10)
		return 0;
	if (http1_name_is(h->name, h->namelen, "Content-Length")) {
		if (http1_length_list(h->value, h->valuelen, &n) == -1)
			return http1_fail(why, "invalid Content-Length");
		if (f->ncl > 0 && n != f->cl)
			return http1_fail(why, "differing Content-Length");
		f->cl = n;
		f->ncl++;
	} else if (http1_name_is(h->name, h->namelen, "Transfer-Encoding")) {
		if (f->nte++ > 0 ||
		    !http1_name_is(h->value, h->valuelen, "chunked"))
			return http1_fail(why, "unsupported Transfer-Encoding");
	} else if (http1_name_is(h->name, h->namelen, "Connection")) {
		f->close |= http1_list_has_n(h->value, h->valuelen, "close");
		f->keep_alive |= http1_list_has_n(h->value, h->valuelen,
		    "keep-alive");
	}
	return 0;
}

/* Reject framing headers that contradict each other or the status. */
static int
http1_frame_check(const struct http1_response *out,
    const struct http1_frame *f, const char **why)
{
	int	 nobody = out->status < 200 || out->status == 204;

	if (f->nte > 0 && f->ncl > 0)
		return http1_fail(why, "Content-Length with Transfer-Encoding");
	/* RFC 9112 6.1: Transfer-Encoding in 1.0 means faulty framing. */
	if (f->nte > 0 && out->minor == 0)
		return http1_fail(why, "Transfer-Encoding in HTTP/1.0");
	if (f->nte > 0 && (nobody || out->status == 304))
		return http1_fail(why, "Transfer-Encoding without a body");
	if (f->ncl > 0 && f->cl != 0 && nobody)
		return http1_fail(why, "Content-Length on 1xx or 204");
	return 0;
}

/* Derive framing and reuse of a parsed head; 1, or -1 when contradictory. */
static int
http1_framing(struct http1_response *out, int head_request, const char **why)
{
	struct http1_frame	 f;
	size_t			 i;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < out->nheaders; i++)
		if (http1_frame_header(&out->headers[i], &f, why) == -1)
			return -1;
	if (http1_frame_check(out, &f, why) == -1)
		return -1;
	if (out->status < 200 || out->status == 204)
		out->framing = HTTP1_FRAMING_NONE;
	else if (head_request || out->status == 304) {
		out->framing = HTTP1_FRAMING_NONE;
		out->content_length = f.cl;
		out->has_content_length = f.ncl > 0;
	} else if (f.nte > 0)
		out->framing = HTTP1_FRAMING_CHUNKED;
	else if (f.ncl > 0) {
		out->framing = HTTP1_FRAMING_LENGTH;
		out->content_length = f.cl;
		out->has_content_length = 1;
	} else
		out->framing = HTTP1_FRAMING_CLOSE;
	if (out->minor == 1)
		out->keep_alive = !f.close;
	else
		out->keep_alive = f.keep_alive && !f.close;
	if (out->framing == HTTP1_FRAMING_CLOSE)
		out->keep_alive = 0;
	return 1;
}

/*
 * The head is incomplete: fail early when what is there already cannot
 * start a valid head (not "HTTP/1.", or a bad complete status line).
 */
static int
http1_partial_check(const char *buf, size_t len, int flags,
    struct http1_response *out, const char **why)
{
	struct http1_line	 line;
	size_t			 pos = 0;

	if (memcmp(buf, "HTTP/1.", len < 7 ? len : 7) != 0)
		return http1_fail(why, "malformed status line");
	if (memchr(buf, '\n', len) == NULL)
		return 0;
	http1_line_next(buf, len, &pos, &line);
	if (http1_has_bare_cr(buf, pos))
		return http1_fail(why, "bare CR");
	if (http1_status_line(&line, out, why) == -1)
		return -1;
	if (out->status == 101 && !(flags & HTTP1_RESP_UPGRADE))
		return http1_fail(why, "unexpected 101 Switching Protocols");
	return 0;
}

/* Parse a response head from buf[0..len); see http1.h. */
int
http1_response_parse(const char *buf, size_t len, int flags,
    struct http1_response *out, const char **why)
{
	struct http1_line	 line;
	size_t			 end, pos = 0;

	/* every field but the headers (4 KiB, of which nheaders count) */
	memset(out, 0, offsetof(struct http1_response, headers));
	memset(&out->nheaders, 0, sizeof(*out) -
	    offsetof(struct http1_response, nheaders));
	*why = NULL;
	if (len == 0)
		return 0;
	if (!http1_head_end(buf, len, &end))
		return http1_partial_check(buf, len, flags, out, why);
	if (http1_has_bare_cr(buf, end))
		return http1_fail(why, "bare CR");
	http1_line_next(buf, end, &pos, &line);
	if (http1_status_line(&line, out, why) == -1)
		return -1;
	if (out->status == 101 && !(flags & HTTP1_RESP_UPGRADE))
		return http1_fail(why, "unexpected 101 Switching Protocols");
	for (;;) {
		http1_line_next(buf, end, &pos, &line);
		if (line.len == 0)
			break;
		if (http1_header_line(&line, out, why) == -1)
			return -1;
	}
	out->head_len = end;
	return http1_framing(out, flags & HTTP1_RESP_HEAD, why);
}

/* Find a header by case-insensitive name; NULL when absent. */
const struct http1_header *
http1_response_header(const struct http1_response *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nheaders; i++)
		if (http1_name_is(r->headers[i].name, r->headers[i].namelen,
		    name))
			return &r->headers[i];
	return NULL;
}

/* Parse a chunk-size line: 1*HEXDIG [BWS ";" ignored]; see http1.h. */
int
http1_chunk_size_parse(const char *line, size_t len, uint64_t *size)
{
	uint64_t	 n = 0;
	size_t		 i;
	int		 d;

	for (i = 0; i < len && (d = http1_hex_value(
	    (unsigned char)line[i])) != -1; i++) {
		if (n > (HTTP1_MAX_CHUNK - (uint64_t)d) / 16)
			return -1;
		n = n * 16 + (uint64_t)d;
	}
	if (i == 0)
		return -1;
	if (i < len) {
		while (i < len && http1_is_ows((unsigned char)line[i]))
			i++;
		if (i == len || line[i] != ';')
			return -1;
	}
	*size = n;
	return 0;
}

/* 1 when s is a non-empty token. */
static int
http1_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!http1_is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* 1 when c may appear in a reg-name (unreserved or sub-delims). */
static int
http1_is_regname(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    http1_is_digit(c))
		return 1;
	return c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL;
}

/* Length of the host part (reg-name or IP-literal) at p, or 0 if invalid. */
static size_t
http1_host_len(const char *p, size_t len)
{
	size_t	 i;

	if (len > 0 && p[0] == '[') {
		for (i = 1; i < len && p[i] != ']'; i++)
			if (http1_hex_value((unsigned char)p[i]) == -1 &&
			    p[i] != ':' && p[i] != '.')
				return 0;
		return i < len && i > 1 ? i + 1 : 0;
	}
	for (i = 0; i < len && p[i] != ':'; i++) {
		if (p[i] == '%' && i + 2 < len &&
		    http1_hex_value((unsigned char)p[i + 1]) != -1 &&
		    http1_hex_value((unsigned char)p[i + 2]) != -1)
			i += 2;
		else if (!http1_is_regname((unsigned char)p[i]))
			return 0;
	}
	return i;
}

/* 1 when p[0..len) is host [":" port] with a non-empty host, port <= 65535. */
static int
http1_authority_ok(const char *p, size_t len)
{
	size_t		 i;
	uint64_t	 port;

	if ((i = http1_host_len(p, len)) == 0)
		return 0;
	if (i == len)
		return 1;
	if (p[i] != ':')
		return 0;
	if (i + 1 == len)
		return 1;	/* port = *DIGIT may be empty */
	return len - i - 1 <= 5 &&
	    http1_digits(p + i + 1, len - i - 1, &port) == 0 && port <= 65535;
}

/* 1 when uri is "http://" or "https://" with a valid authority. */
static int
http1_absolute_ok(const char *uri)
{
	const char	*a;

	if (strncasecmp(uri, "http://", 7) == 0)
		a = uri + 7;
	else if (strncasecmp(uri, "https://", 8) == 0)
		a = uri + 8;
	else
		return 0;
	/* No '@' in a reg-name: userinfo is refused (RFC 9110 4.2.4). */
	return http1_authority_ok(a, strcspn(a, "/?"));
}

/* 1 when uri is a request-target we forward. */
static int
http1_target_ok(const char *method, const char *uri)
{
	const unsigned char	*p;

	if (uri == NULL || *uri == '\0')
		return 0;
	for (p = (const unsigned char *)uri; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '#')
			return 0;
	if (uri[0] == '/')
		return 1;
	if (strcmp(uri, "*") == 0)
		return strcmp(method, "OPTIONS") == 0;
	return http1_absolute_ok(uri);
}

/* Fold one request header into *ri; 0, or -1 when invalid. */
static int
http1_request_header(const struct http1_field *kv, struct http1_reqinfo *ri,
    const char **why)
{
	const char	*v = kv->value;
	size_t		 vlen = strlen(kv->value);

	if (!http1_is_token(kv->name))
		return http1_fail(why, "invalid header name");
	if (!http1_value_ok(v, vlen))
		return http1_fail(why, "control character in header value");
	http1_trim(&v, &vlen);
	if (strcasecmp(kv->name, "Host") == 0) {
		ri->nhost++;
		ri->host = v;
		ri->hostlen = vlen;
	} else if (strcasecmp(kv->name, "Content-Length") == 0) {
		if (ri->ncl++ > 0)
			return http1_fail(why, "more than one Content-Length");
		if (http1_digits(v, vlen, &ri->cl) == -1)
			return http1_fail(why, "invalid Content-Length");
	} else if (strcasecmp(kv->name, "Transfer-Encoding") == 0) {
		if (ri->nte++ > 0 || !http1_name_is(v, vlen, "chunked"))
			return http1_fail(why, "unsupported Transfer-Encoding");
	}
	return 0;
}

/* Check Host and body framing of a request whose headers were scanned. */
static int
http1_request_framing(const char *method, int minor,
    const struct http1_reqinfo *ri, size_t body_len, const char **why)
{
	if (ri->nhost == 0 && minor >= 1)
		return http1_fail(why, "missing Host");
	if (ri->nhost > 1)
		return http1_fail(why, "more than one Host");
	if (ri->nhost == 1 && !http1_authority_ok(ri->host, ri->hostlen))
		return http1_fail(why, "invalid Host");
	if (ri->ncl > 0 && ri->nte > 0)
		return http1_fail(why, "Content-Length with Transfer-Encoding");
	if (ri->nte > 0 && minor == 0)
		return http1_fail(why, "Transfer-Encoding in HTTP/1.0");
	if ((strcmp(method, "HEAD") == 0 || strcmp(method, "TRACE") == 0) &&
	    (ri->nte > 0 || ri->cl > 0))
		return http1_fail(why, "body on HEAD or TRACE");
	/* evhttp read exactly Content-Length bytes; anything else is a bug. */
	if (ri->ncl > 0 && ri->cl != body_len)
		return http1_fail(why, "body differs from Content-Length");
	return 0;
}

/* Validate a client request as evhttp parsed it; see http1.h. */
int
http1_request_check(const char *method, const char *uri, int major,
    int minor, const struct http1_field *f, size_t n, size_t body_len,
    const char **why)
{
	struct http1_reqinfo	 ri;
	size_t			 i;

	*why = NULL;
	if (method == NULL || !http1_is_token(method))
		return http1_fail(why, "invalid method");
	if (major != 1)
		return http1_fail(why, "unsupported HTTP version");
	if (!http1_target_ok(method, uri))
		return http1_fail(why, "invalid request-target");
	memset(&ri, 0, sizeof(ri));
	for (i = 0; i < n; i++)
		if (http1_request_header(&f[i], &ri, why) == -1)
			return -1;
	return http1_request_framing(method, minor, &ri, body_len, why);
}

/* The version a request is read and answered in; see http1.h. */
int
http1_request_version(int major, int *minor)
{
	if (major != 1)
		return -1;
	/* below 0: evhttp keeps the minor in a char, so HTTP/1.431 reads
	 * as 1.-81 */
	if (*minor > 1 || *minor < 0)
		*minor = 1;
	return 0;
}
