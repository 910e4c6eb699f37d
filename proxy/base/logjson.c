/*
 * logjson: the escaper of the JSON access log. Invalid UTF-8 becomes
 * U+FFFD one byte at a time (each byte that cannot begin a well-formed
 * sequence is one replacement; the bytes after it are looked at afresh),
 * so the output is valid UTF-8 and says where the bad bytes were.
 */
#include <stdio.h>
#include <string.h>

#include "proxy/base/logjson.h"

/*
 * The length of the well-formed UTF-8 sequence at p[0..n) (RFC 3629,
 * table 3-7 of Unicode), or 0 when p does not begin one.
 */
static size_t
logjson_utf8(const unsigned char *p, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* the surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* See logjson.h. */
size_t
logjson_escape(char *out, size_t room, const char *in, size_t len,
    size_t *used)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i = 0, o = 0, n, k;

	while (i < len) {
		n = logjson_utf8(p + i, len - i);
		if (n == 0) {
			if (room - o < 6)
				break;
			for (k = 0; k < 6; k++)
				out[o++] = "\\ufffd"[k];
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			if (room - o < 2)
				break;
			out[o++] = '\\';
			out[o++] = (char)p[i++];
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			if (room - o < 6)
				break;
			for (k = 0; k < 4; k++)
				out[o++] = "\\u00"[k];
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i++] & 0xf];
		} else {
			if (room - o < n)
				break;
			for (k = 0; k < n; k++)
				out[o++] = (char)p[i++];
		}
	}
	if (used != NULL)
		*used = i;
	return o;
}

/* See logjson.h. */
void
logjson_begin(struct logjson *j, char *buf, size_t size)
{
	j->buf = buf;
	j->size = size;
	j->buf[0] = '{';
	j->len = 1;
	j->truncated = 0;
	j->nfields = 0;
}

/* Room left for fields: what logjson_end needs is kept back. */
static size_t
logjson_room(const struct logjson *j)
{
	return j->size - LOGJSON_END - j->len;
}

/*
 * Start a field: ',"key":' (no comma first), when it and more bytes after
 * it fit. 0, or -1 (nothing written, the object marked truncated).
 */
static int
logjson_key(struct logjson *j, const char *key, size_t more)
{
	size_t	n = strlen(key);

	if (n + 4 + more > logjson_room(j)) {
		j->truncated = 1;
		return -1;
	}
	if (j->nfields++ > 0)
		j->buf[j->len++] = ',';
	j->buf[j->len++] = '"';
	memcpy(j->buf + j->len, key, n);
	j->len += n;
	j->buf[j->len++] = '"';
	j->buf[j->len++] = ':';
	return 0;
}

/* A field of text that is already JSON (a number, null). */
static void
logjson_raw(struct logjson *j, const char *key, const char *v, size_t n)
{
	if (logjson_key(j, key, n) == -1)
		return;
	memcpy(j->buf + j->len, v, n);
	j->len += n;
}

/* See logjson.h. */
void
logjson_str(struct logjson *j, const char *key, const char *s, size_t len,
    size_t max)
{
	size_t	room, used, n;

	if (s == NULL) {
		logjson_null(j, key);
		return;
	}
	if (logjson_key(j, key, 2) == -1)
		return;
	room = logjson_room(j) - 2;
	if (room > max)
		room = max;
	j->buf[j->len++] = '"';
	n = logjson_escape(j->buf + j->len, room, s, len, &used);
	j->len += n;
	j->buf[j->len++] = '"';
	if (used < len)
		j->truncated = 1;
}

/* See logjson.h. */
void
logjson_uint(struct logjson *j, const char *key, unsigned long long v)
{
	char	num[24];
	int	n = snprintf(num, sizeof(num), "%llu", v);

	logjson_raw(j, key, num, (size_t)n);
}

/* See logjson.h. */
void
logjson_ms(struct logjson *j, const char *key, double v)
{
	char	num[40];
	int	n;

	if (v < 0) {
		logjson_null(j, key);
		return;
	}
	n = snprintf(num, sizeof(num), "%.3f", v);
	if (n < 0 || (size_t)n >= sizeof(num))
		logjson_null(j, key);
	else
		logjson_raw(j, key, num, (size_t)n);
}

/* See logjson.h. */
void
logjson_null(struct logjson *j, const char *key)
{
	logjson_raw(j, key, "null", 4);
}

/* See logjson.h. */
size_t
logjson_end(struct logjson *j)
{
	static const char	 cut[] = "\"truncated\":true";

	if (j->truncated) {
		if (j->nfields++ > 0)
			j->buf[j->len++] = ',';
		memcpy(j->buf + j->len, cut, sizeof(cut) - 1);
		j->len += sizeof(cut) - 1;
	}
	j->buf[j->len++] = '}';
	j->buf[j->len] = '\0';
	return j->len;
}
