/*
 * fuzz_http1: a libFuzzer target for the pure HTTP/1 checks
 * (proxy/http/http1.c): the response head parser, the chunk-size parser
 * and the request check. README.md says how to build and run it.
 *
 * The first input byte picks the surface and the flags; the rest is fed
 * to it. Besides what the sanitizers catch, it checks the promises of
 * proxy/http/http1.h: a complete head ends within the input, its status
 * is in 100..599, it has at most HTTP1_MAX_HEADERS headers whose names
 * are tokens and whose values pass http1_value_ok; a verdict never
 * changes as bytes are added after it (every prefix is "more" until the
 * first that is not; every longer one says the same, with the same
 * head_len); a rejection gives a reason; the chunk-size parser agrees
 * with a plain reference of its grammar; the request check gives a
 * reason when it refuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/http1.h"

#define FUZZ_MAX_HEAD	4096	/* prefixes checked, at most: keeps it fast */
#define FUZZ_MAX_FIELDS	16	/* request fields built from one input */
#define FUZZ_MAX_CHUNK	((uint64_t)1 << 62)	/* http1.h: the largest size */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http1_response	 resp, first;

/* Stop the run: the code broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}

/* Parse buf[0..len) as a response head; check one call's promises. */
static int
fuzz_response_one(const char *buf, size_t len, int flags,
    struct http1_response *out)
{
	const char	*why = NULL;
	size_t		 i;
	int		 r;

	r = http1_response_parse(buf, len, flags, out, &why);
	if (r == -1 && why == NULL)
		fuzz_fail();
	if (r != 1)
		return r;
	if (out->head_len == 0 || out->head_len > len)
		fuzz_fail();
	if (out->status < 100 || out->status > 599 || out->minor < 0 ||
	    out->minor > 1 || out->nheaders > HTTP1_MAX_HEADERS)
		fuzz_fail();
	if (out->status == 101 && !(flags & HTTP1_RESP_UPGRADE))
		fuzz_fail();
	for (i = 0; i < out->nheaders; i++) {
		const struct http1_header *h = &out->headers[i];
		size_t	j;

		if (h->namelen == 0)
			fuzz_fail();
		for (j = 0; j < h->namelen; j++)
			if (!http1_is_tchar((unsigned char)h->name[j]))
				fuzz_fail();
		if (!http1_value_ok(h->value, h->valuelen))
			fuzz_fail();
	}
	return r;
}

/* The response parser on every prefix of the input, from a heap buffer. */
static void
fuzz_response(const uint8_t *data, size_t size, int flags)
{
	char	*buf;
	size_t	 n, k, firstlen = 0;
	int	 r, verdict = 0;

	n = size < FUZZ_MAX_HEAD ? size : FUZZ_MAX_HEAD;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return;
	for (k = 0; k <= n; k++) {
		/* Each prefix ends where the buffer does: ASan sees overreads. */
		memcpy(buf + n - k, data, k);
		r = fuzz_response_one(buf + n - k, k, flags, &resp);
		if (verdict == 0) {
			verdict = r;
			if (r == 1) {
				firstlen = resp.head_len;
				first = resp;
			}
		} else if (r != verdict || (r == 1 &&
		    (resp.head_len != firstlen ||
		    resp.status != first.status ||
		    resp.nheaders != first.nheaders ||
		    resp.framing != first.framing ||
		    resp.content_length != first.content_length)))
			fuzz_fail();
	}
	free(buf);
}

/* A plain reading of the chunk-size grammar of proxy/http/http1.h. */
static int
fuzz_chunk_reference(const char *s, size_t len, uint64_t *size)
{
	uint64_t	v = 0;
	size_t		i = 0;
	int		d;

	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			break;
		if (v > FUZZ_MAX_CHUNK / 16)
			return -1;
		v = v * 16 + (uint64_t)d;
		if (v > FUZZ_MAX_CHUNK)
			return -1;
	}
	if (i == 0)
		return -1;
	if (i < len) {
		/* An extension, after optional BWS: nothing else. */
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len || s[i] != ';')
			return -1;
	}
	*size = v;
	return 0;
}

/* The chunk-size parser, compared with the reference. */
static void
fuzz_chunk(const uint8_t *data, size_t size)
{
	uint64_t	 a = 0, b = 0;
	char		*buf;
	int		 ra, rb;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return;
	memcpy(buf, data, size);
	ra = http1_chunk_size_parse(buf, size, &a);
	rb = fuzz_chunk_reference(buf, size, &b);
	free(buf);
	if (ra != 0 && ra != -1)
		fuzz_fail();
	if (ra != rb || (ra == 0 && a != b))
		fuzz_fail();
}

/*
 * The request check: the input is NUL-separated strings, method, URI,
 * then name and value pairs; the flags byte gives the version.
 */
static void
fuzz_request(const uint8_t *data, size_t size, int flags)
{
	struct http1_field	 f[FUZZ_MAX_FIELDS];
	const char		*s[2 + 2 * FUZZ_MAX_FIELDS], *why = NULL;
	char			*buf, *p, *end;
	size_t			 ns = 0, n, i;
	int			 r;

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
	r = http1_request_check(s[0], s[1], 1, flags & 1, f, n,
	    (size_t)(flags >> 1), &why);
	if (r != 0 && (r != -1 || why == NULL))
		fuzz_fail();
	(void)http1_fields_list_has(f, n, "Connection", "close");
	(void)http1_fields_find(f, n, "Host");
	free(buf);
}

/* One input: its first byte says which surface and which flags. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned	sel;

	if (size == 0)
		return 0;
	sel = data[0];
	switch (sel % 3) {
	case 0:
		fuzz_response(data + 1, size - 1, (int)((sel / 3) & 3));
		break;
	case 1:
		fuzz_chunk(data + 1, size - 1);
		break;
	default:
		fuzz_request(data + 1, size - 1, (int)(sel / 3));
		break;
	}
	return 0;
}
