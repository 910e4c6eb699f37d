/*
 * check_log: the error-log rate limit (log_limit_pass) on a fake clock;
 * the JSON escaper and line writer (proxy/base/logjson.h) on every byte
 * value and every class of invalid UTF-8; and the logs of the real
 * sluice: JSON access lines for hostile targets and request IDs, checked
 * by a strict JSON parser written here, a reload that changes the format,
 * syslog over a datagram socket the test binds (PRI, format, one datagram
 * a line, a socket removed and recreated), and a bad facility refused.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_log. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/base/log.h"
#include "proxy/base/logjson.h"
#include "tests/check_main.h"
#include "tests/itest.h"
#include "tests/utf8seq.h"

#define WAIT_MS		5000	/* bound of a log wait */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* One call: at now_ms, whether the line passes and the count it gets. */
struct limit_step {
	uint64_t	 now_ms;
	int		 pass;
	unsigned long	 held;		/* when it passes */
};

/* A burst, a quiet spell, a line at the very edge of the interval. */
static const struct limit_step limit_steps[] = {
	{ .now_ms = 5000, .pass = 1, .held = 0 },	/* the first passes */
	{ .now_ms = 5000, .pass = 0 },
	{ .now_ms = 5400, .pass = 0 },
	{ .now_ms = 5999, .pass = 0 },
	{ .now_ms = 6000, .pass = 1, .held = 3 },	/* a second later */
	{ .now_ms = 6001, .pass = 0 },
	{ .now_ms = 9000, .pass = 1, .held = 1 },	/* after a quiet spell */
	{ .now_ms = 12000, .pass = 1, .held = 0 },
};

/* Each step of limit_steps in order, on one zeroed limit. */
START_TEST(test_limit_steps)
{
	struct log_limit	 ll = { 0, 0 };
	unsigned long		 held;
	size_t			 i;

	for (i = 0; i < sizeof(limit_steps) / sizeof(limit_steps[0]); i++) {
		held = 999;
		ck_assert_msg(log_limit_pass(&ll, limit_steps[i].now_ms,
		    &held) == limit_steps[i].pass, "step %zu", i);
		if (limit_steps[i].pass)
			ck_assert_msg(held == limit_steps[i].held,
			    "step %zu: held %lu, want %lu", i, held,
			    limit_steps[i].held);
		else
			ck_assert_msg(held == 999, "step %zu: held written",
			    i);
	}
}
END_TEST

/* A zeroed limit lets the first line through even at time 0. */
START_TEST(test_limit_first_at_zero)
{
	struct log_limit	 ll = { 0, 0 };
	unsigned long		 held = 999;

	ck_assert_int_eq(log_limit_pass(&ll, 0, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_int_eq(log_limit_pass(&ll, LOG_LIMIT_MS - 1, &held), 0);
}
END_TEST

/*
 * A strict JSON reader, for what sluice writes: one flat object a line
 * (strings, numbers, true, false, null), its strings checked byte by byte
 * (no raw control byte, only JSON's escapes, well-formed UTF-8, no lone
 * surrogate in a \u escape) and decoded.
 */

#define JSON_FIELDS	32

struct jfield {
	char		 key[32];
	char		 type;		/* 's' string, 'n' number, 'b', '0' */
	char		*str;		/* decoded, malloc'd; a number's text */
	size_t		 len;
};

struct jobj {
	struct jfield	 f[JSON_FIELDS];
	int		 n;
	char		 err[128];
};


/* 1 when p[0..n) is well-formed UTF-8. */
static int
utf8_valid(const char *p, size_t n)
{
	size_t	i = 0, k;

	while (i < n) {
		if ((k = utf8_seq((const unsigned char *)p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Append code point cp as UTF-8 to out. */
static void
utf8_put(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Four hex digits at p into *v. -1: not that. */
static int
json_hex4(const char *p, const char *end, uint32_t *v)
{
	int	i;

	*v = 0;
	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* One escape after the backslash at *pp, decoded into out. -1: bad. */
static int
json_escape_one(const char **pp, const char *end, char *out, size_t *o)
{
	static const char	 from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*p = *pp, *k;
	uint32_t		 cp, lo;

	if (p >= end)
		return -1;
	if (*p != 'u') {
		if (*p == '\0' || (k = strchr(from, *p)) == NULL)
			return -1;
		out[(*o)++] = to[k - from];
		*pp = p + 1;
		return 0;
	}
	if (json_hex4(p + 1, end, &cp) == -1)
		return -1;
	p += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
		    json_hex4(p + 2, end, &lo) == -1 || lo < 0xdc00 ||
		    lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	utf8_put(out, o, cp);
	*pp = p;
	return 0;
}

/* A string at *pp (at its quote), decoded into a malloc'd *out. -1: bad. */
static int
json_string(const char **pp, const char *end, char **out, size_t *len)
{
	const char	*p = *pp + 1;
	char		*s;
	size_t		 o = 0, k;

	if ((s = malloc((size_t)(end - p) * 4 + 1)) == NULL)
		return -1;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			goto bad;
		if (c == '\\') {
			p++;
			if (json_escape_one(&p, end, s, &o) == -1)
				goto bad;
			continue;
		}
		if ((k = utf8_seq((const unsigned char *)p,
		    (size_t)(end - p))) == 0)
			goto bad;
		memcpy(s + o, p, k);
		o += k;
		p += k;
	}
	if (p >= end)
		goto bad;
	s[o] = '\0';
	*out = s;
	*len = o;
	*pp = p + 1;
	return 0;
bad:
	free(s);
	return -1;
}

/* A number by JSON's grammar at *pp. -1: bad. */
static int
json_number(const char **pp, const char *end)
{
	const char	*p = *pp;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (p < end && *p == '.') {
		if (++p >= end || *p < '0' || *p > '9')
			return -1;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return -1;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	*pp = p;
	return 0;
}

/* Skip JSON whitespace. */
static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* Free the fields of o. */
static void
jobj_free(struct jobj *o)
{
	int	i;

	for (i = 0; i < o->n; i++)
		free(o->f[i].str);
	o->n = 0;
}

/* One value at *pp into field f. -1: bad. */
static int
json_value(const char **pp, const char *end, struct jfield *f)
{
	const char	*p = *pp, *q = p;

	if (p < end && *p == '"') {
		f->type = 's';
		return json_string(pp, end, &f->str, &f->len);
	}
	if (end - p >= 4 && memcmp(p, "null", 4) == 0)
		f->type = '0', q = p + 4;
	else if (end - p >= 4 && memcmp(p, "true", 4) == 0)
		f->type = 'b', q = p + 4;
	else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
		f->type = 'b', q = p + 5;
	else if (json_number(&q, end) == 0)
		f->type = 'n';
	else
		return -1;
	f->len = (size_t)(q - p);
	if ((f->str = strndup(p, f->len)) == NULL)
		return -1;
	*pp = q;
	return 0;
}

/*
 * Parse s[0..len) as exactly one flat JSON object, duplicate keys refused.
 * 0, or -1 with o->err.
 */
static int
json_parse(const char *s, size_t len, struct jobj *o)
{
	const char	*p = s, *end = s + len;
	struct jfield	*f;
	char		*key;
	size_t		 klen;
	int		 i;

	memset(o, 0, sizeof(*o));
	if (!utf8_valid(s, len))
		return snprintf(o->err, sizeof(o->err), "not UTF-8"), -1;
	p = json_ws(p, end);
	if (p >= end || *p++ != '{')
		return snprintf(o->err, sizeof(o->err), "no {"), -1;
	p = json_ws(p, end);
	while (p < end && *p != '}') {
		if (o->n > 0 && (*p++ != ',' || (p = json_ws(p, end)) >= end))
			goto bad;
		if (*p != '"' || o->n == JSON_FIELDS ||
		    json_string(&p, end, &key, &klen) == -1)
			goto bad;
		f = &o->f[o->n];
		snprintf(f->key, sizeof(f->key), "%s", key);
		free(key);
		for (i = 0; i < o->n; i++)
			if (strcmp(o->f[i].key, f->key) == 0)
				goto bad;
		p = json_ws(p, end);
		if (p >= end || *p++ != ':')
			goto bad;
		p = json_ws(p, end);
		if (json_value(&p, end, f) == -1)
			goto bad;
		o->n++;
		p = json_ws(p, end);
	}
	if (p >= end || json_ws(p + 1, end) != end)
		goto bad;
	return 0;
bad:
	snprintf(o->err, sizeof(o->err), "bad JSON at byte %zu",
	    (size_t)(p - s));
	jobj_free(o);
	return -1;
}

/* The field called key, or NULL. */
static const struct jfield *
jget(const struct jobj *o, const char *key)
{
	int	i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

/* The reader itself: what it must accept and what it must refuse. */
START_TEST(test_json_reader)
{
	static const char *const good[] = {
		"{}", " {\"a\":1} ", "{\"a\":\"x\\u00e9\\ud83d\\ude00\"}",
		"{\"a\":null,\"b\":true,\"c\":-0.5e+3}",
		"{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}",
	};
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1}x",
		"{\"a\":\"\x01\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\xff\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":1,\"a\":2}",
		"{\"a\":\"x}", "{\"a\":-}", "{\"a\":1.}",
	};
	struct jobj	 o;
	size_t		 i;

	for (i = 0; i < NELEM(good); i++) {
		ck_assert_msg(json_parse(good[i], strlen(good[i]), &o) == 0,
		    "refused %s: %s", good[i], o.err);
		jobj_free(&o);
	}
	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(json_parse(bad[i], strlen(bad[i]), &o) == -1,
		    "accepted bad #%zu %s", i, bad[i]);
	ck_assert(json_parse(good[2], strlen(good[2]), &o) == 0);
	ck_assert_str_eq(jget(&o, "a")->str, "x\xc3\xa9\xf0\x9f\x98\x80");
	jobj_free(&o);
}
END_TEST

/*
 * The escaper
 */

/* What logjson_escape must make of one input. */
struct esc_case {
	const char	*in;
	size_t		 len;
	const char	*out;
};

#define ESC(i, o)	{ (i), sizeof(i) - 1, (o) }
#define FFFD		"\\ufffd"

/* Every class of invalid UTF-8, the edges of the valid ones, escapes. */
static const struct esc_case esc_cases[] = {
	ESC("", ""),
	ESC("plain /path?q=1", "plain /path?q=1"),
	ESC("a\"b\\c", "a\\\"b\\\\c"),
	ESC("\x00\x01\x1f\x7f", "\\u0000\\u0001\\u001f\\u007f"),
	ESC("\n\r\t", "\\u000a\\u000d\\u0009"),
	/* valid: the first and last of each length */
	ESC("\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf"),
	ESC("\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf"),
	ESC("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
	ESC("\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80"),
	ESC("\xe2\x80\xa8", "\xe2\x80\xa8"),		/* U+2028 */
	/* overlongs */
	ESC("\xc0\x80", FFFD FFFD),
	ESC("\xc1\xbf", FFFD FFFD),
	ESC("\xe0\x80\x80", FFFD FFFD FFFD),
	ESC("\xe0\x9f\xbf", FFFD FFFD FFFD),
	ESC("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD),
	ESC("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD),
	/* surrogates, and past U+10FFFF */
	ESC("\xed\xa0\x80", FFFD FFFD FFFD),
	ESC("\xed\xbf\xbf", FFFD FFFD FFFD),
	ESC("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD),
	ESC("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD),
	ESC("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD),
	ESC("\xfe\xff", FFFD FFFD),
	/* truncated sequences: at the end and before ASCII */
	ESC("\xc3", FFFD),
	ESC("\xe2\x82", FFFD FFFD),
	ESC("\xf0\x9f\x98", FFFD FFFD FFFD),
	ESC("\xe2\x82x", FFFD FFFD "x"),
	ESC("\xf0\x9f\x98\"", FFFD FFFD FFFD "\\\""),
	ESC("\xc3\xc3\xa9", FFFD "\xc3\xa9"),
	/* lone continuation bytes */
	ESC("\x80", FFFD),
	ESC("a\xbf" "b", "a" FFFD "b"),
};

/* Each row of esc_cases, with room to spare. */
START_TEST(test_escape_table)
{
	char	 out[256];
	size_t	 i, n, used;

	for (i = 0; i < NELEM(esc_cases); i++) {
		n = logjson_escape(out, sizeof(out), esc_cases[i].in,
		    esc_cases[i].len, &used);
		ck_assert_msg(n == strlen(esc_cases[i].out) &&
		    memcmp(out, esc_cases[i].out, n) == 0,
		    "row %zu: got \"%.*s\", want \"%s\"", i, (int)n, out,
		    esc_cases[i].out);
		ck_assert_msg(used == esc_cases[i].len, "row %zu: used", i);
	}
}
END_TEST

/* Every byte value alone: what it becomes, and valid JSON content. */
START_TEST(test_escape_every_byte)
{
	char	 in, out[16], want[16], doc[32];
	struct jobj o;
	size_t	 n;
	int	 c;

	for (c = 0; c < 256; c++) {
		in = (char)c;
		if (c < 0x20 || c == 0x7f)
			snprintf(want, sizeof(want), "\\u%04x", c);
		else if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\\%c", c);
		else if (c < 0x80)
			snprintf(want, sizeof(want), "%c", c);
		else
			snprintf(want, sizeof(want), FFFD);
		n = logjson_escape(out, sizeof(out), &in, 1, NULL);
		ck_assert_msg(n == strlen(want) && memcmp(out, want, n) == 0,
		    "byte 0x%02x: got \"%.*s\", want \"%s\"", c, (int)n, out,
		    want);
		snprintf(doc, sizeof(doc), "{\"k\":\"%.*s\"}", (int)n, out);
		ck_assert_msg(json_parse(doc, strlen(doc), &o) == 0,
		    "byte 0x%02x: %s", c, o.err);
		ck_assert(jget(&o, "k")->len == (c < 0x80 ? 1 : 3));
		jobj_free(&o);
	}
}
END_TEST

/*
 * Short of room: every output length from 0 up cuts only between whole
 * escapes and whole characters, and *used says what was written.
 */
START_TEST(test_escape_room)
{
	static const char	 in[] = "a\"\xc3\xa9\x01\xf0\x9f\x98\x80\xff"
				    "z";
	char			 out[128], full[128], again[128];
	size_t			 room, n, nfull, used, m;

	nfull = logjson_escape(full, sizeof(full), in, sizeof(in) - 1, NULL);
	for (room = 0; room <= nfull; room++) {
		n = logjson_escape(out, room, in, sizeof(in) - 1, &used);
		ck_assert_msg(n <= room, "room %zu: wrote %zu", room, n);
		m = logjson_escape(again, sizeof(again), in, used, NULL);
		ck_assert_msg(m == n && memcmp(out, again, n) == 0 &&
		    memcmp(out, full, n) == 0, "room %zu: not a clean cut",
		    room);
		ck_assert_msg(room == nfull ? used == sizeof(in) - 1 :
		    used < sizeof(in) - 1, "room %zu: used %zu", room, used);
	}
}
END_TEST

/* A line too small for its strings: cut inside one, closed, marked. */
START_TEST(test_line_cut)
{
	struct logjson	 j;
	struct jobj	 o;
	char		 buf[LOGJSON_MIN + 40], big[300];
	size_t		 n;

	memset(big, 'x', sizeof(big));
	memcpy(big + 10, "\xc3\xa9\xc3\xa9\xc3\xa9\"\"\"", 9);
	logjson_begin(&j, buf, sizeof(buf));
	logjson_uint(&j, "n", 42);
	logjson_str(&j, "big", big, sizeof(big), 1000);
	logjson_ms(&j, "ms", -1);
	logjson_str(&j, "after", "more", 4, 100);
	n = logjson_end(&j);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_msg(n < sizeof(buf), "%zu bytes in %zu", n, sizeof(buf));
	ck_assert_msg(json_parse(buf, n, &o) == 0, "%s: %s", o.err, buf);
	ck_assert_str_eq(jget(&o, "n")->str, "42");
	ck_assert(jget(&o, "truncated") != NULL &&
	    strcmp(jget(&o, "truncated")->str, "true") == 0);
	ck_assert(jget(&o, "big")->len < sizeof(big) &&
	    memcmp(jget(&o, "big")->str, big, jget(&o, "big")->len) == 0);
	jobj_free(&o);

	logjson_begin(&j, buf, sizeof(buf));
	logjson_str(&j, "s", "abc", 3, 2);
	logjson_ms(&j, "ms", 1.5);
	logjson_null(&j, "z");
	n = logjson_end(&j);
	ck_assert_str_eq(buf, "{\"s\":\"ab\",\"ms\":1.500,\"z\":null,"
	    "\"truncated\":true}");
}
END_TEST

/*
 * sluice's JSON access lines
 */

/* A request, and what its line must say. */
struct json_req {
	const char	*target;	/* sent as is */
	const char	*want;		/* the target decoded; NULL: target */
	const char	*reqid;		/* X-Request-Id sent, or NULL */
	const char	*want_id;	/* request_id decoded; NULL: reqid;
					 * "*": a generated one */
	int		 status;	/* 0: any */
};

static const struct json_req json_reqs[] = {
	{ "/bytes/5", NULL, NULL, "*", 200 },
	{ "/q\"uo\\te", NULL, NULL, "*", 0 },
	{ "/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80", NULL, NULL, "*", 0 },
	{ "/bad\xff\xc0\xafx\xed\xa0\x80", "/bad\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", NULL, "*",
	    400 },
	{ "/ctl\x01\x7f\x1b", NULL, NULL, "*", 400 },
	{ "/trunc\xe2\x82", "/trunc\xef\xbf\xbd\xef\xbf\xbd", NULL, "*",
	    400 },
	{ "/id/1", NULL, "id\"q\\x{}", NULL, 0 },
	{ "/id/2", NULL, "plain-id-2", NULL, 0 },
};

/* Send one raw GET for target, with X-Request-Id reqid if not NULL. */
static int
json_send(int port, const char *target, const char *reqid)
{
	struct itest_resp	 r;
	char			 req[8192];
	int			 status;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%s"
	    "Connection: close\r\n\r\n", target, reqid != NULL ?
	    "X-Request-Id: " : "", reqid != NULL ? reqid : "", reqid != NULL ?
	    "\r\n" : "");
	(void)itest_request(port, req, &r);
	status = r.status;
	itest_resp_free(&r);
	return status;
}

/* The line of log whose target decodes to want, parsed into *o. */
static int
json_find(char *log, const char *want, size_t wantlen, struct jobj *o)
{
	char	*line, *save = NULL;
	const struct jfield *f;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(json_parse(line, strlen(line), o) == 0,
		    "%s: %s", o->err, line);
		f = jget(o, "target");
		if (f != NULL && f->type == 's' && f->len == wantlen &&
		    memcmp(f->str, want, wantlen) == 0)
			return 0;
		jobj_free(o);
	}
	return -1;
}

/*
 * The line of log whose target is a prefix of want longer than 1000
 * bytes, parsed into *o.
 */
static int
json_find_prefix(char *log, const char *want, size_t wantlen,
    struct jobj *o)
{
	char	*line, *save = NULL;
	const struct jfield *f;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(json_parse(line, strlen(line), o) == 0,
		    "%s: %s", o->err, line);
		f = jget(o, "target");
		if (f != NULL && f->type == 's' && f->len > 1000 &&
		    f->len <= wantlen && memcmp(f->str, want, f->len) == 0)
			return 0;
		jobj_free(o);
	}
	return -1;
}

/* A string field's value, "" when it is not a string. */
static const char *
jstr(const struct jobj *o, const char *key)
{
	const struct jfield *f = jget(o, key);

	return f != NULL && f->type == 's' ? f->str : "";
}

/* Every field of a JSON line is there, with its type. */
static void
json_check_fields(const struct jobj *o)
{
	static const char *const keys[] = { "time", "client", "client_port",
	    "listener", "method", "target", "protocol", "status", "bytes",
	    "upstream", "server", "total_ms", "upstream_ms", "queue_ms",
	    "term", "id", "request_id" };
	static const char types[] = "ssnssssnnssnnnsss";
	static const char nullable[] = "00101111011011001";
	const struct jfield *f;
	size_t		 i;

	for (i = 0; i < NELEM(keys); i++) {
		f = jget(o, keys[i]);
		ck_assert_msg(f != NULL, "no field %s", keys[i]);
		ck_assert_msg(f->type == types[i] || (f->type == '0' &&
		    nullable[i] == '1'), "%s: type %c", keys[i], f->type);
	}
}

/* One JSON object a line, every field typed, hostile bytes round-trip. */
START_TEST(test_json_access)
{
	struct itest	 t;
	struct jobj	 o;
	const char	*want;
	char		*log, *copy, longt[7000];
	size_t		 i, nreq = NELEM(json_reqs), longlen, wl;
	int		 status[NELEM(json_reqs)], st;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_config(&t, "shutdown_timeout = 5s\n"
	    "access_log_format = json\n", "[listener web]\n"
	    "listen = 127.0.0.1:%d\nupstream = app\nrequest_id = X-Request-Id\n"
	    "request_id_trust = on\n\n[upstream app]\n"
	    "server = 127.0.0.1:%d name=a\n", itest_sluice_port(&t),
	    t.origin[0].port);
	itest_sluice_launch(&t);
	for (i = 0; i < nreq; i++)
		status[i] = json_send(t.sluice.port, json_reqs[i].target,
		    json_reqs[i].reqid);
	/* a target past the line, its quotes and backslashes doubled */
	longlen = (size_t)snprintf(longt, sizeof(longt), "/long/");
	while (longlen + 4 < 6006) {
		memcpy(longt + longlen, "ab\"\\", 4);
		longlen += 4;
	}
	longt[longlen] = '\0';
	st = json_send(t.sluice.port, longt, NULL);
	ck_assert_msg(itest_wait_lines(t.access_log, (int)nreq + 1, WAIT_MS),
	    "%zu lines not logged: %s", nreq + 1,
	    itest_file_tail(t.access_log));
	log = itest_read_file(t.access_log, NULL);
	printf("json: %zu requests, statuses", nreq + 1);
	for (i = 0; i < nreq; i++)
		printf(" %d", status[i]);
	printf(" %d\n", st);
	fflush(stdout);
	for (i = 0; i < nreq; i++) {
		want = json_reqs[i].want != NULL ? json_reqs[i].want :
		    json_reqs[i].target;
		copy = strdup(log);
		ck_assert_msg(json_find(copy, want, strlen(want), &o) == 0,
		    "no line for row %zu (%s):\n%s", i, json_reqs[i].target,
		    log);
		free(copy);
		json_check_fields(&o);
		ck_assert_str_eq(jstr(&o, "method"), "GET");
		ck_assert_str_eq(jstr(&o, "protocol"), "HTTP/1.1");
		ck_assert_str_eq(jstr(&o, "listener"), "web");
		ck_assert_str_eq(jstr(&o, "client"), "127.0.0.1");
		ck_assert_msg(atoi(jget(&o, "status")->str) == status[i],
		    "row %zu: status %s, the client got %d", i,
		    jget(&o, "status")->str, status[i]);
		if (json_reqs[i].status != 0)
			ck_assert_msg(status[i] == json_reqs[i].status,
			    "row %zu: status %d, want %d", i, status[i],
			    json_reqs[i].status);
		if (json_reqs[i].want_id != NULL &&
		    strcmp(json_reqs[i].want_id, "*") == 0)
			ck_assert_msg(jget(&o, "request_id")->type == '0' ||
			    strlen(jstr(&o, "request_id")) == 32,
			    "row %zu: request_id %s", i,
			    jstr(&o, "request_id"));
		else
			ck_assert_str_eq(jstr(&o, "request_id"),
			    json_reqs[i].reqid);
		if (status[i] == 200) {
			ck_assert_str_eq(jstr(&o, "upstream"), "app");
			ck_assert_str_eq(jstr(&o, "server"), "a");
			ck_assert_str_eq(jstr(&o, "term"), "ok");
			ck_assert(jget(&o, "upstream_ms")->type == 'n');
		}
		ck_assert_msg(jget(&o, "truncated") == NULL, "row %zu cut", i);
		jobj_free(&o);
	}
	/* the long one: cut inside the target, and marked */
	copy = strdup(log);
	ck_assert_msg(json_find_prefix(copy, longt, longlen, &o) == 0,
	    "no line for the long target:\n%s", log);
	free(copy);
	wl = jget(&o, "target")->len;
	printf("json: the long target: %zu of %zu bytes kept\n", wl, longlen);
	ck_assert_msg(wl > 1000 && wl < longlen, "%zu of %zu bytes kept", wl,
	    longlen);
	ck_assert(jget(&o, "truncated") != NULL &&
	    jget(&o, "truncated")->type == 'b');
	ck_assert_int_eq(atoi(jget(&o, "status")->str), st);
	json_check_fields(&o);
	jobj_free(&o);
	free(log);
	itest_finish(&t);
}
END_TEST

/*
 * A reload from text to json: exchanges after it are JSON lines, those
 * before stay text; the text line is the old format.
 */
START_TEST(test_json_reload)
{
	struct itest		 t;
	struct itest_resp	 r;
	struct jobj		 o;
	char			 line[4096], *log, *nl;
	const char		*fmt = "[listener web]\nlisten = 127.0.0.1:%d\n"
				    "upstream = app\n\n[upstream app]\n"
				    "server = 127.0.0.1:%d name=a\n";

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	itest_sluice_config(&t, NULL, fmt, itest_sluice_port(&t),
	    t.origin[0].port);
	itest_sluice_launch(&t);
	itest_get(t.sluice.port, "/bytes/3", &r);
	itest_resp_free(&r);
	ck_assert(itest_wait_lines(t.access_log, 1, WAIT_MS));
	itest_sluice_config(&t, "shutdown_timeout = 5s\n"
	    "access_log_format = json\n", fmt, t.sluice.port,
	    t.origin[0].port);
	itest_sluice_hup(&t, "reload: generation 2 in ", WAIT_MS);
	itest_get(t.sluice.port, "/bytes/4", &r);
	itest_resp_free(&r);
	ck_assert(itest_wait_lines(t.access_log, 2, WAIT_MS));
	log = itest_read_file(t.access_log, NULL);
	nl = strchr(log, '\n');
	ck_assert(nl != NULL);
	snprintf(line, sizeof(line), "%.*s", (int)(nl - log), log);
	printf("json reload: before \"%s\"\n", line);
	fflush(stdout);
	ck_assert_msg(line[0] != '{' && strstr(line, " 127.0.0.1:") != NULL &&
	    strstr(line, " web \"GET /bytes/3 HTTP/1.1\" 200 3 app a ") !=
	    NULL && strstr(line, " ok #") != NULL, "text line: %s", line);
	ck_assert_msg(json_parse(nl + 1, strcspn(nl + 1, "\n"), &o) == 0,
	    "after the reload: %s: %s", o.err, nl + 1);
	ck_assert_str_eq(jstr(&o, "target"), "/bytes/4");
	jobj_free(&o);
	free(log);
	itest_finish(&t);
}
END_TEST

/*
 * syslog: a datagram socket of the test's, read by a thread that writes
 * each datagram as one line of a file (so that the harness's waits and
 * itest_sluice_launch's "ready" work on it).
 */

struct syslog_rx {
	char		 path[192];	/* the socket */
	char		 out[192];	/* the datagrams, one a line */
	int		 fd;
	pthread_t	 th;
	int		 stop;		/* atomic */
	int		 ndgrams;	/* atomic */
	int		 nbad;		/* atomic: a newline inside */
};

/* The reader: until stop, each datagram appended to out as one line. */
static void *
rx_main(void *arg)
{
	struct syslog_rx	*rx = arg;
	struct pollfd		 pfd = { .fd = rx->fd, .events = POLLIN };
	char			 buf[16384];
	ssize_t			 n;
	int			 fd;

	/* one write a datagram, O_APPEND: a reader sees whole lines */
	fd = open(rx->out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	while (!__atomic_load_n(&rx->stop, __ATOMIC_SEQ_CST)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((n = recv(rx->fd, buf, sizeof(buf) - 1, 0)) <= 0)
			continue;
		if (memchr(buf, '\n', (size_t)n) != NULL)
			__atomic_add_fetch(&rx->nbad, 1, __ATOMIC_SEQ_CST);
		buf[n++] = '\n';
		if (fd != -1)
			(void)write(fd, buf, (size_t)n);
		__atomic_add_fetch(&rx->ndgrams, 1, __ATOMIC_SEQ_CST);
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

/* Bind the socket and start the reader. */
static void
rx_start(struct syslog_rx *rx)
{
	struct sockaddr_un	 sun;
	int			 rcv = 4 * 1024 * 1024;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert(strlen(rx->path) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, rx->path);
	rx->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(rx->fd != -1);
	(void)setsockopt(rx->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	unlink(rx->path);
	ck_assert_msg(bind(rx->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "bind %s: %s", rx->path, strerror(errno));
	rx->stop = 0;
	ck_assert(pthread_create(&rx->th, NULL, rx_main, rx) == 0);
}

/* Stop the reader, close and remove the socket. */
static void
rx_stop(struct syslog_rx *rx)
{
	__atomic_store_n(&rx->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(rx->th, NULL);
	close(rx->fd);
	unlink(rx->path);
}

/* Count the lines of path that start with prefix and hold "]: {". */
static int
count_prefix(const char *path, const char *prefix)
{
	char	*s = itest_read_file(path, NULL), *p;
	int	 n = 0;

	if (s == NULL)
		return 0;
	for (p = s; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, prefix, strlen(prefix)) == 0 &&
		    strstr(p, "]: {") != NULL &&
		    strstr(p, "]: {") < strchr(p, '\n'))
			n++;
		if (strchr(p, '\n') == NULL)
			break;
	}
	free(s);
	return n;
}

/* 1 when line is "<PRI>Mmm dd hh:mm:ss sluice[PID]: " then text. */
static int
syslog_form(const char *line, int pri, long pid)
{
	char	 head[64];
	int	 n = snprintf(head, sizeof(head), "<%d>", pri), i;

	if (strncmp(line, head, (size_t)n) != 0)
		return 0;
	line += n;
	for (i = 0; i < 15; i++) {
		char c = line[i], want = "Aaa 00 00:00:00"[i];

		if ((want == 'A' && (c < 'A' || c > 'Z')) ||
		    (want == 'a' && (c < 'a' || c > 'z')) ||
		    (want == '0' && (c < '0' || c > '9') && !(i == 4 &&
		    c == ' ')) || ((want == ' ' || want == ':') && c != want))
			return 0;
	}
	snprintf(head, sizeof(head), " sluice[%ld]: ", pid);
	return strncmp(line + 15, head, strlen(head)) == 0;
}

/* The first line of path holding needle, into buf; 0 or -1. */
static int
line_with(const char *path, const char *needle, char *buf, size_t size)
{
	char	*s = itest_read_file(path, NULL), *p, *e;
	int	 rc = -1;

	if (s == NULL || (p = strstr(s, needle)) == NULL) {
		free(s);
		return -1;
	}
	while (p > s && p[-1] != '\n')
		p--;
	e = strchr(p, '\n');
	snprintf(buf, size, "%.*s", e != NULL ? (int)(e - p) : (int)strlen(p),
	    p);
	rc = 0;
	free(s);
	return rc;
}

/* sluice_log_dropped_total{log="which"} from /metrics on the admin port. */
static long long
syslog_dropped(int admin, const char *which)
{
	struct itest_resp	 r;
	char			 needle[64];
	const char		*p;
	long long		 v = -1;

	ck_assert_int_eq(itest_admin_request(admin, "GET", "/metrics", NULL,
	    &r), 0);
	snprintf(needle, sizeof(needle), "sluice_log_dropped_total{log=\"%s\"} ",
	    which);
	if (r.status == 200 && (p = strstr((const char *)r.body, needle)) !=
	    NULL)
		v = atoll(p + strlen(needle));
	itest_resp_free(&r);
	return v;
}

#define LOCAL3_INFO	(19 * 8 + 6)
#define LOCAL3_WARN	(19 * 8 + 4)
#define SYSLOG_REQS	200	/* requests while the socket is there */
#define SYSLOG_GONE	50	/* requests while it is not */

/*
 * Both logs to syslog:local3:PATH. PRI and format of access lines (JSON,
 * info) and of error lines (info, warning), one datagram a line under
 * load; with the socket gone, requests are still answered fast and the
 * drops counted in /metrics; recreated, lines arrive again within a
 * bound; SIGUSR1 leaves it working.
 */
START_TEST(test_syslog)
{
	struct itest		 t;
	struct itest_load	 l;
	struct itest_resp	 r;
	struct syslog_rx	 rx;
	struct jobj		 o;
	char			 conf[2048], line[8192], *m;
	const char		*p;
	double			 t0, worst = 0, dt, back;
	long long		 ok, dropped, d0, d;
	long			 pid;
	int			 admin, dead, dport, i, n0, n;

	itest_init(&t);
	itest_origin_start(&t, 0, "a");
	memset(&rx, 0, sizeof(rx));
	snprintf(rx.path, sizeof(rx.path), "%s/log.sock", t.dir);
	snprintf(rx.out, sizeof(rx.out), "%s/syslog.txt", t.dir);
	rx_start(&rx);
	admin = itest_free_port();
	dead = itest_free_port();
	dport = itest_free_port();
	snprintf(conf, sizeof(conf), "[global]\naccess_log = syslog:local3:%s\n"
	    "error_log = syslog:local3:%s\naccess_log_format = json\n"
	    "shutdown_timeout = 5s\n%s%s%s\n[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[listener dead]\nlisten = 127.0.0.1:%d\nupstream = none\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n\n"
	    "[upstream none]\nserver = 127.0.0.1:%d name=gone\n"
	    "connect_timeout = 1s\n", rx.path, rx.path,
	    getenv("SLUICE_TEST_WORKERS") != NULL ? "workers = " : "",
	    getenv("SLUICE_TEST_WORKERS") != NULL ?
	    getenv("SLUICE_TEST_WORKERS") : "",
	    getenv("SLUICE_TEST_WORKERS") != NULL ? "\n" : "", admin,
	    itest_sluice_port(&t), dport, t.origin[0].port, dead);
	itest_write_file(t.conf, conf);
	/* the harness waits for "info: ready" in the datagrams */
	snprintf(t.error_log, sizeof(t.error_log), "%s", rx.out);
	snprintf(t.access_log, sizeof(t.access_log), "%s", rx.out);
	itest_sluice_launch(&t);
	pid = (long)t.sluice.pid;

	/* the ready line: an error-log line at info */
	ck_assert(line_with(rx.out, "info: ready: ", line, sizeof(line)) == 0);
	printf("syslog: ready line \"%s\"\n", line);
	ck_assert_msg(syslog_form(line, LOCAL3_INFO, pid), "form: %s", line);

	/* one access line (info, JSON after the header) */
	itest_get(t.sluice.port, "/bytes/7", &r);
	ck_assert_int_eq(r.status, 200);
	itest_resp_free(&r);
	ck_assert(itest_wait_log(rx.out, "\"target\":\"/bytes/7\"", WAIT_MS) >=
	    0);
	ck_assert(line_with(rx.out, "\"target\":\"/bytes/7\"", line,
	    sizeof(line)) == 0);
	ck_assert_msg(syslog_form(line, LOCAL3_INFO, pid), "form: %s", line);
	p = strstr(line, "]: ") + 3;
	ck_assert_msg(json_parse(p, strlen(p), &o) == 0, "%s: %s", o.err, p);
	ck_assert_str_eq(jstr(&o, "method"), "GET");
	jobj_free(&o);

	/* a warning: the dead upstream's connect is refused */
	itest_get(dport, "/", &r);
	ck_assert_int_eq(r.status, 502);
	itest_resp_free(&r);
	ck_assert_msg(itest_wait_log(rx.out, "none/gone", WAIT_MS) >= 0,
	    "no warning line:\n%s", itest_file_tail(rx.out));
	ck_assert(line_with(rx.out, "none/gone", line, sizeof(line)) == 0);
	printf("syslog: warning line \"%s\"\n", line);
	ck_assert_msg(syslog_form(line, LOCAL3_WARN, pid) &&
	    strstr(line, "]: warn: #") != NULL, "form: %s", line);

	/* under load, one datagram a line: as many as requests */
	ck_assert(itest_wait_log(rx.out, "\"status\":502", WAIT_MS) >= 0);
	n0 = count_prefix(rx.out, "<158>");
	d0 = syslog_dropped(admin, "access");
	itest_load_start(&t, &l, "syslog", t.sluice.port, "-q -c 8 -n %d "
	    "-p /bytes/10", SYSLOG_REQS);
	ck_assert_msg(itest_proc_wait(&l.proc, 30000) == 0, "loadgen: %s",
	    itest_file_tail(l.notes));
	ok = itest_load_value(&l, "ok");
	/* a datagram the queue had no room for is dropped and counted */
	t0 = itest_now();
	while ((n = count_prefix(rx.out, "<158>") - n0) +
	    (d = syslog_dropped(admin, "access") - d0) < ok &&
	    itest_now() - t0 < WAIT_MS / 1e3)
		itest_pause(20);
	printf("syslog: %lld requests, %d access datagrams, %lld dropped "
	    "(the socket's queue full), %d with a newline\n", ok, n, d,
	    __atomic_load_n(&rx.nbad, __ATOMIC_SEQ_CST));
	fflush(stdout);
	ck_assert_int_eq(ok, SYSLOG_REQS);
	ck_assert_int_eq(n + d, ok);
	ck_assert_msg(n >= 10, "only %d of %lld lines arrived", n, ok);
	ck_assert_int_eq(__atomic_load_n(&rx.nbad, __ATOMIC_SEQ_CST), 0);
	m = itest_read_file(rx.out, NULL);
	for (p = m; (p = strstr(p, "<158>")) != NULL; p++) {
		const char *e = strchr(p, '\n'), *js = strstr(p, "]: ") + 3;

		if (*js != '{')
			continue;
		ck_assert_msg(json_parse(js, (size_t)(e - js), &o) == 0,
		    "%s: %.*s", o.err, (int)(e - js), js);
		jobj_free(&o);
	}
	free(m);

	/* the socket removed: requests answered fast, lines counted */
	rx_stop(&rx);
	for (i = 0; i < SYSLOG_GONE; i++) {
		t0 = itest_now();
		itest_get(t.sluice.port, "/bytes/1", &r);
		ck_assert_int_eq(r.status, 200);
		itest_resp_free(&r);
		if ((dt = (itest_now() - t0) * 1e3) > worst)
			worst = dt;
	}
	/* the access line follows the answer: the last may come a moment
	 * after its client has the response */
	t0 = itest_now();
	while ((dropped = syslog_dropped(admin, "access")) < SYSLOG_GONE &&
	    itest_now() - t0 < 2.0)
		itest_pause(10);
	printf("syslog: socket gone, %d requests, slowest %.1f ms, %lld "
	    "dropped\n", SYSLOG_GONE, worst, dropped);
	fflush(stdout);
	ck_assert_msg(worst < 500, "a request took %.1f ms", worst);
	ck_assert_msg(dropped >= SYSLOG_GONE, "dropped %lld", dropped);

	/* recreated: lines arrive again within a bound */
	n0 = count_prefix(rx.out, "<158>");
	rx_start(&rx);
	t0 = itest_now();
	while (count_prefix(rx.out, "<158>") == n0 &&
	    itest_now() - t0 < WAIT_MS / 1e3) {
		itest_get(t.sluice.port, "/bytes/2", &r);
		itest_resp_free(&r);
		itest_pause(50);
	}
	back = (itest_now() - t0) * 1e3;
	printf("syslog: socket back, lines again after %.0f ms\n", back);
	fflush(stdout);
	ck_assert_msg(count_prefix(rx.out, "<158>") > n0,
	    "no line within %d ms of the socket's return", WAIT_MS);

	/* SIGUSR1 reopens the logs: syslog still works */
	ck_assert(itest_signal_wait(&t.sluice, SIGUSR1, rx.out,
	    "SIGUSR1: logs reopened", WAIT_MS));
	n0 = count_prefix(rx.out, "<158>");
	itest_get(t.sluice.port, "/bytes/3", &r);
	itest_resp_free(&r);
	ck_assert(itest_wait_log(rx.out, "\"target\":\"/bytes/3\"", WAIT_MS) >=
	    0);
	itest_finish(&t);
	rx_stop(&rx);
}
END_TEST

/* A bad facility: sluice -t refuses it with file:line: key: reason. */
START_TEST(test_syslog_bad_facility)
{
	struct itest	 t;
	char		*out = NULL, want[256];
	char		*argv[] = { (char *)(uintptr_t)"./sluice",
			    (char *)(uintptr_t)"-t", (char *)(uintptr_t)"-c",
			    NULL, NULL };
	int		 st;

	itest_init(&t);
	itest_write_file(t.conf, "[global]\nerror_log = -\n"
	    "access_log = syslog:local8\n\n[listener web]\n"
	    "listen = 127.0.0.1:1\nupstream = app\n\n[upstream app]\n"
	    "server = 127.0.0.1:2 name=a\n");
	argv[3] = t.conf;
	st = itest_run(argv, &out, 10000);
	snprintf(want, sizeof(want), "%s:3: access_log: unknown syslog "
	    "facility", t.conf);
	printf("syslog: -t on local8: exit %d: %s", st, out);
	fflush(stdout);
	ck_assert_msg(st == 1 && strstr(out, want) != NULL, "exit %d:\n%s", st,
	    out);
	free(out);
	itest_finish(&t);
}
END_TEST

/* The log suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("limit");
	TCase	*te = tcase_create("json");
	TCase	*ti = tcase_create("sluice");

	tcase_add_test(tc, test_limit_steps);
	tcase_add_test(tc, test_limit_first_at_zero);
	suite_add_tcase(s, tc);
	tcase_add_test(te, test_json_reader);
	tcase_add_test(te, test_escape_table);
	tcase_add_test(te, test_escape_every_byte);
	tcase_add_test(te, test_escape_room);
	tcase_add_test(te, test_line_cut);
	suite_add_tcase(s, te);
	tcase_set_timeout(ti, 60);
	tcase_add_test(ti, test_json_access);
	tcase_add_test(ti, test_json_reload);
	tcase_add_test(ti, test_syslog);
	tcase_add_test(ti, test_syslog_bad_facility);
	suite_add_tcase(s, ti);
	return s;
}
