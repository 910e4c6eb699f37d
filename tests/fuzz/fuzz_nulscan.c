/*
 * fuzz_nulscan: a libFuzzer target for the NUL scanner's pure part,
 * nulscan_bytes (proxy/front/nulscan.c, included here because it is
 * static). README.md says how to build and run it.
 *
 * The input is scanned three ways: at once, one byte at a time, and in
 * pieces whose lengths come from the input itself. All three must agree
 * with each other and with a plain model of the head: the scan stops at
 * the first empty line (LF, optional CRs, LF) and has found a NUL when
 * one comes before that line's end; once the first line has ended, its
 * version is judged bad unless the line ends (one CR aside) in
 * " HTTP/" DIGIT "." DIGIT.
 */
#include "proxy/front/nulscan.c"

#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the run: the scanner broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}

/* A fresh state, as nulscan_run_take makes it. */
static void
fuzz_start(struct nulscan_run *n)
{
	memset(n, 0, sizeof(*n));
	n->scanning = 1;
}

/* The model: 1 when a NUL comes before the head's end; *end its length. */
static int
fuzz_model(const uint8_t *p, size_t len, size_t *end, int *done)
{
	size_t	i, j;
	int	nul = 0;

	*done = 0;
	for (i = 0; i < len; i++) {
		if (p[i] == '\0')
			nul = 1;
		if (p[i] != '\n')
			continue;
		for (j = i + 1; j < len && p[j] == '\r'; j++)
			;
		if (j < len && p[j] == '\n') {
			*done = 1;
			*end = j + 1;
			return nul;
		}
	}
	*end = len;
	return nul;
}

/* The model of the version: -1 before the first LF, else 1 when bad. */
static int
fuzz_model_version(const uint8_t *p, size_t len)
{
	const uint8_t	*lf = memchr(p, '\n', len);
	size_t		 n;

	if (lf == NULL)
		return -1;
	n = (size_t)(lf - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n < 9)
		return 1;
	p += n - 9;
	return !(p[0] == ' ' && p[1] == 'H' && p[2] == 'T' && p[3] == 'T' &&
	    p[4] == 'P' && p[5] == '/' && p[6] >= '0' && p[6] <= '9' &&
	    p[7] == '.' && p[8] >= '0' && p[8] <= '9');
}

/* Two states agree. */
static int
fuzz_same(const struct nulscan_run *a, const struct nulscan_run *b)
{
	return a->scanning == b->scanning && a->found == b->found &&
	    a->line1 == b->line1 && a->badver == b->badver;
}

/* One input: three ways of feeding it, and the model. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nulscan_run all, one, pieces;
	size_t		 i, k, end;
	int		 nul, done, ver;

	fuzz_start(&all);
	nulscan_bytes(&all, data, size);

	fuzz_start(&one);
	for (i = 0; i < size; i++)
		nulscan_bytes(&one, data + i, 1);

	fuzz_start(&pieces);
	for (i = 0; i < size; i += k) {
		k = 1 + data[i] % 7;
		if (k > size - i)
			k = size - i;
		nulscan_bytes(&pieces, data + i, k);
	}

	if (!fuzz_same(&all, &one) || !fuzz_same(&all, &pieces))
		fuzz_fail();
	nul = fuzz_model(data, size, &end, &done);
	if (all.found != nul || all.scanning != !done)
		fuzz_fail();
	ver = fuzz_model_version(data, size);
	if (all.line1 != (ver != -1) || all.badver != (ver == 1))
		fuzz_fail();
	/* Bytes after the head's end change nothing. */
	if (done) {
		fuzz_start(&one);
		nulscan_bytes(&one, data, end);
		if (!fuzz_same(&all, &one))
			fuzz_fail();
	}
	return 0;
}
