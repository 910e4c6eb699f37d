/*
 * utf8seq: a plain reading of well-formed UTF-8 (RFC 3629, by code
 * points, not byte ranges), written independently of proxy/base/logjson.c
 * so that tests/check_log.c and tests/fuzz/fuzz_logjson.c can check the
 * escaper's output against it.
 */
#ifndef SLUICE_TESTS_UTF8SEQ_H
#define SLUICE_TESTS_UTF8SEQ_H

#include <stddef.h>
#include <stdint.h>

/* The length of the well-formed UTF-8 sequence at p[0..n); 0: none. */
static inline size_t
utf8_seq(const unsigned char *p, size_t n)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t		 cp;
	size_t			 len, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

#endif
