/*
 * fuzz_proxyproto: a libFuzzer target for the PROXY protocol parser
 * (proxy/http/proxyproto.c); how to build and run it is in README.md.
 *
 * Besides what the sanitizers catch, it checks the parser's promises
 * (proxy/http/proxyproto.h): on OK the header fits in the input, says
 * version 1 or 2 and a family it may say; *out and *used are written on
 * OK only; BAD gives a reason; MORE only below PROXYPROTO_V2_MAX bytes;
 * and a verdict never changes as bytes are added: every prefix of the
 * input is MORE until the first that is not, and all longer ones say the
 * same. Each prefix is parsed from the end of a heap buffer, so a read
 * past its length is an overflow AddressSanitizer reports.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/proxyproto.h"

/* What *used holds when the parser must not have written it. */
#define FUZZ_UNSET	((size_t)-1)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the run: the parser broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}

/* The fields of two headers are the same. */
static int
fuzz_same(const struct proxyproto *a, const struct proxyproto *b)
{
	return a->version == b->version && a->local == b->local &&
	    a->family == b->family &&
	    memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
	    memcmp(a->dst, b->dst, sizeof(a->dst)) == 0 &&
	    a->sport == b->sport && a->dport == b->dport;
}

/* Parse buf[0..len) and check what holds for any one call. */
static enum proxyproto_status
fuzz_parse(const unsigned char *buf, size_t len, struct proxyproto *pp,
    size_t *used)
{
	struct proxyproto	 before;
	enum proxyproto_status	 r;
	const char		*why = NULL;

	memset(pp, 0x5a, sizeof(*pp));
	before = *pp;
	*used = FUZZ_UNSET;
	r = proxyproto_parse(buf, len, pp, used, &why);
	switch (r) {
	case PROXYPROTO_OK:
		if (*used > len || *used == 0)
			fuzz_fail();
		if (pp->version != 1 && pp->version != 2)
			fuzz_fail();
		if (pp->family != AF_INET && pp->family != AF_INET6 &&
		    pp->family != AF_UNSPEC)
			fuzz_fail();
		if (pp->local && pp->family != AF_UNSPEC)
			fuzz_fail();
		if (*used > (pp->version == 1 ? PROXYPROTO_V1_MAX :
		    PROXYPROTO_V2_MAX))
			fuzz_fail();
		break;
	case PROXYPROTO_MORE:
		if (len >= PROXYPROTO_V2_MAX)
			fuzz_fail();
		/* FALLTHROUGH */
	case PROXYPROTO_BAD:
		if (*used != FUZZ_UNSET || !fuzz_same(pp, &before))
			fuzz_fail();
		if (r == PROXYPROTO_BAD && why == NULL)
			fuzz_fail();
		break;
	default:
		fuzz_fail();
	}
	return r;
}

/* One input: the whole of it, then each prefix, which must agree. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto	 full, pp, first;
	enum proxyproto_status	 r, fr, verdict = PROXYPROTO_MORE;
	unsigned char		*buf;
	size_t			 n, k, used, fullused, firstused = 0;

	/* The whole input, from a buffer of exactly its size. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	fr = fuzz_parse(buf, size, &full, &fullused);
	free(buf);

	/*
	 * The prefixes: past PROXYPROTO_V2_MAX bytes every verdict has been
	 * given, so one more than that is enough.
	 */
	n = size < PROXYPROTO_V2_MAX + 1 ? size : PROXYPROTO_V2_MAX + 1;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return 0;
	memset(&first, 0, sizeof(first));
	for (k = 0; k <= n; k++) {
		memcpy(buf + n - k, data, k);
		r = fuzz_parse(buf + n - k, k, &pp, &used);
		if (verdict == PROXYPROTO_MORE) {
			verdict = r;
			first = pp;
			firstused = used;
		} else if (r != verdict || (r == PROXYPROTO_OK &&
		    (used != firstused || !fuzz_same(&pp, &first))))
			fuzz_fail();
	}
	free(buf);
	if (fr != verdict || (fr == PROXYPROTO_OK &&
	    (fullused != firstused || !fuzz_same(&full, &first))))
		fuzz_fail();
	return 0;
}
