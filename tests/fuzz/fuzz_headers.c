/*
 * fuzz_headers: a libFuzzer target for what crosses the proxy
 * (proxy/http/headers.c), with header rules the way the proxy applies
 * them (a keep hook that refuses names, an add hook that writes more).
 * README.md says how to build and run it.
 *
 * The first byte picks the direction. Responses: the rest is parsed with
 * http1_response_parse; a complete head is copied with
 * headers_response_copy, and no copied header may be hop-by-hop, one the
 * keep hook refused, or a Content-Length the framing does not allow.
 * Requests: the rest is NUL-separated method, target and name/value
 * pairs; when http1_request_check accepts them, headers_request_build
 * must write a head that starts with the request line, ends with the one
 * empty line, has no CR or LF but the line ends, no hop-by-hop header,
 * none the keep hook refused but those the add hook wrote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/http/headers.h"
#include "proxy/http/http1.h"

#define FUZZ_MAX_FIELDS	16	/* request fields built from one input */
#define FUZZ_RULE	"X-Rule"	/* the header the rules replace */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http1_response	 resp;

/* Stop the run: the code broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}

/* The rules' keep hook: FUZZ_RULE is theirs, so the client's is not kept. */
static int
fuzz_keep(void *arg, const char *name, size_t namelen)
{
	(void)arg;
	return !(namelen == strlen(FUZZ_RULE) &&
	    strncasecmp(name, FUZZ_RULE, namelen) == 0);
}

/* The rules' add hook: writes FUZZ_RULE. */
static int
fuzz_add(void *rules, const struct headers_sink *out)
{
	static const char	 line[] = FUZZ_RULE ": 1\r\n";

	(void)rules;
	return out->add(out->arg, line, sizeof(line) - 1);
}

/* A copied response header: check it may be copied. */
static int
fuzz_out_add(void *arg, const char *name, const char *value)
{
	(void)value;
	if (headers_is_hop_by_hop(name, strlen(name), NULL))
		fuzz_fail();
	if (!fuzz_keep(NULL, name, strlen(name)))
		fuzz_fail();
	if (strcasecmp(name, "Content-Length") == 0 &&
	    resp.framing != HTTP1_FRAMING_LENGTH && !resp.has_content_length)
		fuzz_fail();
	return 0;
}

/* The response direction. */
static void
fuzz_response(const uint8_t *data, size_t size, int flags)
{
	struct headers_out	 out = { fuzz_out_add, fuzz_keep, NULL };
	const char		*why;
	char			*buf;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return;
	memcpy(buf, data, size);
	if (http1_response_parse(buf, size, flags, &resp, &why) == 1)
		(void)headers_response_copy(&resp, &out);
	free(buf);
}

/* Check one line of a built request head (without its CRLF). */
static void
fuzz_line(const char *p, size_t len)
{
	const char	*colon;

	if (memchr(p, '\r', len) != NULL || memchr(p, '\n', len) != NULL)
		fuzz_fail();
	if ((colon = memchr(p, ':', len)) == NULL)
		fuzz_fail();
	if (headers_is_hop_by_hop(p, (size_t)(colon - p), NULL))
		fuzz_fail();
	if (!fuzz_keep(NULL, p, (size_t)(colon - p)) &&
	    (len != strlen(FUZZ_RULE ": 1") ||
	    memcmp(p, FUZZ_RULE ": 1", len) != 0))
		fuzz_fail();
}

/* Check a built request head: request line, header lines, empty line. */
static void
fuzz_head(const char *p, size_t len, const char *method, const char *target)
{
	const char	*eol, *end = p + len;
	size_t		 n;
	int		 first = 1;

	if (len < 4 || memcmp(end - 4, "\r\n\r\n", 4) != 0)
		fuzz_fail();
	while (p < end - 2) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    eol == p || eol[-1] != '\r')
			fuzz_fail();
		n = (size_t)(eol - 1 - p);
		if (first) {
			if (n != strlen(method) + strlen(target) + 10 ||
			    memcmp(p, method, strlen(method)) != 0 ||
			    memcmp(p + n - 9, " HTTP/1.1", 9) != 0)
				fuzz_fail();
			first = 0;
		} else
			fuzz_line(p, n);
		p = eol + 1;
	}
}

/* The request direction: NUL-separated method, target, name/value pairs. */
static void
fuzz_request(const uint8_t *data, size_t size, int flags)
{
	struct http1_field	 f[FUZZ_MAX_FIELDS];
	struct headers_forward	 fwd;
	struct headers_in	 in;
	struct headers_buf	 b;
	struct headers_sink	 sink;
	const char		*s[2 + 2 * FUZZ_MAX_FIELDS], *why;
	char			*buf, *p, *end;
	size_t			 ns = 0, n, i, body;

	if ((buf = malloc(size + 1)) == NULL)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	for (p = buf; ns < 2 + 2 * FUZZ_MAX_FIELDS && p <= end;
	    p += strlen(p) + 1)
		s[ns++] = p;
	while (ns < 2)
		s[ns++] = "";
	n = (ns - 2) / 2;
	for (i = 0; i < n; i++) {
		f[i].name = s[2 + 2 * i];
		f[i].value = s[3 + 2 * i];
	}
	body = (size_t)(flags >> 2);
	if (s[1][0] == '/' && http1_request_check(s[0], s[1], 1, flags & 1,
	    f, n, body, &why) == 0) {
		memset(&in, 0, sizeof(in));
		in.f = f;
		in.n = n;
		memset(&fwd, 0, sizeof(fwd));
		fwd.client_ip = "192.0.2.1";
		fwd.trusted = (flags >> 1) & 1;
		fwd.default_host = "default.test";
		fwd.via = "1.1 sluice";
		fwd.id_name = "X-Request-Id";
		fwd.id = "abc";
		fwd.keep = fuzz_keep;
		fwd.add = fuzz_add;
		headers_buf_init(&b, &sink);
		if (headers_request_build(&sink, s[0], s[1], &in, &fwd,
		    body) == 0)
			fuzz_head(b.p, b.len, s[0], s[1]);
		headers_buf_free(&b);
	}
	free(buf);
}

/* One input: its first byte says which direction and which flags. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_request(data + 1, size - 1, data[0] >> 1);
	else
		fuzz_response(data + 1, size - 1, (data[0] >> 1) & 3);
	return 0;
}
