/*
 * http1: strict HTTP/1.1 parsing and request validation. Pure functions:
 * no sockets, no event loop, no logging; everything comes in as arguments.
 */
#ifndef SLUICE_HTTP_HTTP1_H
#define SLUICE_HTTP_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEADERS	128

/*
 * One header field of a request as the caller holds it: NUL-terminated
 * strings.
 */
struct http1_field {
	const char	*name;
	const char	*value;
};

/* One header line inside the caller's buffer (not NUL-terminated). */
struct http1_header {
	const char	*name;
	size_t		 namelen;
	const char	*value;		/* OWS trimmed on both sides */
	size_t		 valuelen;
};

/* How the body of a response is delimited. */
enum http1_framing {
	HTTP1_FRAMING_NONE = 0,		/* no body: 1xx, 204, 304, HEAD */
	HTTP1_FRAMING_LENGTH,		/* Content-Length bytes */
	HTTP1_FRAMING_CHUNKED,		/* Transfer-Encoding: chunked */
	HTTP1_FRAMING_CLOSE,		/* until the server closes */
};

/* A parsed response head. Pointers point into the parsed buffer. */
struct http1_response {
	int			 minor;		/* HTTP/1.minor: 0 or 1 */
	int			 status;	/* 100..599 */
	const char		*reason;
	size_t			 reasonlen;
	struct http1_header	 headers[HTTP1_MAX_HEADERS];
	size_t			 nheaders;
	enum http1_framing	 framing;
	uint64_t		 content_length; /* when framing is LENGTH,
						  * or the declared value for
						  * HEAD/304 (else 0) */
	int			 has_content_length;
	int			 keep_alive;	/* connection reusable after
						 * this response's body */
	size_t			 head_len;	/* bytes of the head, final
						 * empty line included */
};

/* http1_response_parse flags. */
#define HTTP1_RESP_HEAD		0x01	/* the request was HEAD */
#define HTTP1_RESP_UPGRADE	0x02	/* it asked to upgrade: 101 is fine */

/*
 * Parse a response head from buf[0..len). flags: HTTP1_RESP_HEAD when the
 * request was HEAD (no body follows whatever the headers say),
 * HTTP1_RESP_UPGRADE when it asked for a protocol upgrade. Returns 1 when
 * a complete head was parsed into *out, 0 when more bytes are needed, -1
 * when the head is malformed (*why points at a static reason). Rejected: a
 * bad status line or a status outside 100..599, HTTP major version other
 * than 1, a 101 unless HTTP1_RESP_UPGRADE, header names that are not
 * tokens, whitespace before the colon, obs-fold, a CTL other than HTAB in
 * a value, a bare CR, more than HTTP1_MAX_HEADERS headers, differing or
 * invalid Content-Length values,
 * Content-Length together with Transfer-Encoding, a Transfer-Encoding other
 * than exactly "chunked", Transfer-Encoding on 1xx/204/304, and
 * Content-Length other than 0 on 1xx/204. Line ends may be CRLF or LF.
 * A 1xx (100, 102, 103) parses as a complete head with framing NONE: the
 * caller skips it and parses the next head.
 */
int	http1_response_parse(const char *buf, size_t len, int flags,
	    struct http1_response *out, const char **why);

/* Find a header by case-insensitive name; NULL when absent. */
const struct http1_header *http1_response_header(
	    const struct http1_response *, const char *name);

/*
 * Parse a chunk-size line (without its line end): 1*HEXDIG, then an
 * optional chunk extension starting with ';' (BWS allowed before it) which
 * is ignored. Returns 0 and stores the size, or -1 on anything else
 * (no digits, "0x", signs, spaces inside, overflow beyond 2^62).
 */
int	http1_chunk_size_parse(const char *line, size_t len, uint64_t *size);

/* 1 when c may appear in a token (RFC 9110 tchar). */
int	http1_is_tchar(unsigned char c);

/* 1 when the header value has no CTL other than HTAB (NUL included). */
int	http1_value_ok(const char *value, size_t len);

/* 1 when the comma-separated header value lists token (case-insensitive). */
int	http1_list_has(const char *value, const char *token);

/*
 * 1 when a field called name (any of its lines, case-insensitive) of the
 * n fields lists token: Connection is a list that may come in several
 * lines (RFC 9110 5.3, 7.6.1).
 */
int	http1_fields_list_has(const struct http1_field *f, size_t n,
	    const char *name, const char *token);

/* The value of the first field called name (case-insensitive), or NULL. */
const char *http1_fields_find(const struct http1_field *f, size_t n,
	    const char *name);

/*
 * Remove OWS from both ends of a header value, in place. evhttp keeps a
 * leading HTAB ("Host:<TAB>a.test"); the value checked must be the one
 * routed on, forwarded and logged.
 */
void	http1_value_trim(char *value);

/*
 * Validate a client request as it arrived, before anything is sent
 * upstream. method is the method name ("GET", ...), uri the request-target
 * as received, major/minor the version, f the n header fields, body_len
 * the number of body bytes evhttp read. Returns 0 if the request may be
 * forwarded, else -1 with *why set; the caller answers 400 and closes.
 * Rejected: a request-target that is empty, has SP, CTL, '#' or non-ASCII,
 * or is neither origin-form ("/...") nor absolute-form ("http://..." or
 * "https://...") nor "*" with OPTIONS; header names that are not tokens;
 * values with CTL (except HTAB) or NUL; a missing Host on HTTP/1.1 or more
 * than one Host; an invalid Host value; more than one Content-Length or an
 * invalid one; Content-Length with Transfer-Encoding; a Transfer-Encoding
 * other than exactly "chunked" (one header, one coding); HEAD or TRACE with
 * Content-Length other than 0 or with Transfer-Encoding.
 */
int	http1_request_check(const char *method, const char *uri, int major,
	    int minor, const struct http1_field *f, size_t n, size_t body_len,
	    const char **why);

/*
 * RFC 9110 2.5: how to treat a request of HTTP/major.*minor. A 1.x newer
 * than 1.1 is read (and answered) as 1.1: *minor becomes 1 (a negative
 * minor is a larger one evhttp's char wrapped). Returns 0, or -1 for
 * another major version, which gets 505 in HTTP/1.1.
 */
int	http1_request_version(int major, int *minor);

#endif
