/*
 * rewrite: header rules, request IDs, and a server's URLs pointed back at
 * the client's side.
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/rewrite.h"
#include "proxy/base/log.h"
#include "proxy/http/headers.h"
#include "proxy/http/uri.h"

/* Values up to this size are expanded on the stack. */
#define REWRITE_STACK		1024

/*
 * Expanding values
 */

/* The bytes rule r's value expands to, in vars. */
static size_t
rewrite_expand_len(const struct conf_hdr_rule *r,
    const struct rewrite_vars *vars)
{
	const char	*v;
	size_t		 i, n = 0;

	for (i = 0; i < r->nparts; i++) {
		if (r->parts[i].var == CONF_VAR_TEXT)
			n += r->parts[i].len;
		else if ((v = vars->val[r->parts[i].var]) != NULL)
			n += strlen(v);
	}
	return n;
}

/* Expand rule r's value into buf (room for its length + 1). */
static void
rewrite_expand_into(const struct conf_hdr_rule *r,
    const struct rewrite_vars *vars, char *buf)
{
	const char	*v;
	size_t		 i, n;

	for (i = 0; i < r->nparts; i++) {
		if (r->parts[i].var == CONF_VAR_TEXT) {
			memcpy(buf, r->parts[i].text, r->parts[i].len);
			buf += r->parts[i].len;
		} else if ((v = vars->val[r->parts[i].var]) != NULL) {
			n = strlen(v);
			memcpy(buf, v, n);
			buf += n;
		}
	}
	*buf = '\0';
}

/*
 * Expand rule r's value: into stack (REWRITE_STACK bytes) when it fits,
 * else into *heap (malloc'd; the caller frees it). NULL when out of
 * memory; *len is its length.
 */
static char *
rewrite_expand(const struct conf_hdr_rule *r, const struct rewrite_vars *vars,
    char *stack, char **heap, size_t *len)
{
	char	*buf = stack;

	*heap = NULL;
	*len = rewrite_expand_len(r, vars);
	if (*len >= REWRITE_STACK && (buf = *heap = malloc(*len + 1)) == NULL)
		return NULL;
	rewrite_expand_into(r, vars, buf);
	return buf;
}

/*
 * Rules
 */

/* 1 when some set or remove of the lists from list[from] on names name. */
static int
rewrite_taken(const struct rewrite_rules *rr, size_t from, const char *name,
    size_t len)
{
	const struct conf_hdr_rule	*r;
	size_t				 l, i;

	for (l = from; l < rr->n; l++)
		for (i = 0; i < rr->list[l]->n; i++) {
			r = &rr->list[l]->rule[i];
			if (r->op != CONF_HDR_ADD && r->namelen == len &&
			    strncasecmp(r->name, name, len) == 0)
				return 1;
		}
	return 0;
}

/* See rewrite.h. */
int
rewrite_keeps(const struct rewrite_rules *rr, const char *name, size_t len)
{
	return !rewrite_taken(rr, 0, name, len);
}

/*
 * Call fn(arg, name, value, len) for each header the rules add and no
 * later rule takes away, its value expanded (not for one that expands to
 * ""). 0, or -1 when fn or a malloc fails.
 */
static int
rewrite_each_add(const struct rewrite_rules *rr,
    int (*fn)(void *, const char *, const char *, size_t), void *arg)
{
	const struct conf_hdr_rule	*r;
	char				 stack[REWRITE_STACK], *heap, *v;
	size_t				 l, i, len;
	int				 rc;

	for (l = 0; l < rr->n; l++)
		for (i = 0; i < rr->list[l]->n; i++) {
			r = &rr->list[l]->rule[i];
			if (r->op == CONF_HDR_REMOVE || r->superseded ||
			    rewrite_taken(rr, l + 1, r->name, r->namelen))
				continue;
			if ((v = rewrite_expand(r, rr->vars, stack, &heap,
			    &len)) == NULL)
				return -1;
			rc = len > 0 ? fn(arg, r->name, v, len) : 0;
			free(heap);
			if (rc == -1)
				return -1;
		}
	return 0;
}

/* A header line into a headers_sink. */
static int
rewrite_sink_one(void *arg, const char *name, const char *value, size_t len)
{
	const struct headers_sink	*out = arg;

	return out->add(out->arg, name, strlen(name)) == -1 ||
	    out->add(out->arg, ": ", 2) == -1 ||
	    out->add(out->arg, value, len) == -1 ||
	    out->add(out->arg, "\r\n", 2) == -1 ? -1 : 0;
}

/* See rewrite.h. */
int
rewrite_add_sink(const struct rewrite_rules *rr,
    const struct headers_sink *out)
{
	return rewrite_each_add(rr, rewrite_sink_one, (void *)(uintptr_t)out);
}

/* A header into evhttp's list. */
static int
rewrite_q_one(void *arg, const char *name, const char *value, size_t len)
{
	(void)len;
	return evhttp_add_header(arg, name, value);
}

/* See rewrite.h. */
int
rewrite_add_q(const struct rewrite_rules *rr, struct evkeyvalq *q)
{
	return rewrite_each_add(rr, rewrite_q_one, q);
}

/* 1 when q has a header called name (any case). */
static int
rewrite_q_has(const struct evkeyvalq *q, const char *name)
{
	const struct evkeyval	*kv;
	int			 c = name[0] | 0x20;

	/* the first letter first: evhttp compares whole names, slowly */
	TAILQ_FOREACH(kv, q, next)
		if ((kv->key[0] | 0x20) == c && strcasecmp(kv->key, name) == 0)
			return 1;
	return 0;
}

/* Remove every header called name from q. */
static void
rewrite_q_remove(struct evkeyvalq *q, const char *name)
{
	while (rewrite_q_has(q, name) && evhttp_remove_header(q, name) == 0)
		continue;
}

/* See rewrite.h. */
int
rewrite_apply_q(const struct rewrite_rules *rr, struct evkeyvalq *q)
{
	const struct conf_hdr_rule	*r;
	size_t				 l, i;

	for (l = 0; l < rr->n; l++)
		for (i = 0; i < rr->list[l]->n; i++) {
			r = &rr->list[l]->rule[i];
			if (r->op != CONF_HDR_ADD)
				rewrite_q_remove(q, r->name);
		}
	return rewrite_add_q(rr, q);
}

/*
 * URLs and cookies
 */

/* Which header a value came from. */
enum rewrite_kind {
	REWRITE_LOCATION = 0,
	REWRITE_REFRESH,
	REWRITE_COOKIE,
};

/* The kind of header kv->key is, or -1 for one left alone. */
static int
rewrite_kind(const char *key, int location, int cookie_path)
{
	if (location && (strcasecmp(key, "Location") == 0 ||
	    strcasecmp(key, "Content-Location") == 0))
		return REWRITE_LOCATION;
	if (location && strcasecmp(key, "Refresh") == 0)
		return REWRITE_REFRESH;
	if (cookie_path && strcasecmp(key, "Set-Cookie") == 0)
		return REWRITE_COOKIE;
	return -1;
}

/*
 * See rewrite.h. The values are changed in place: a rewritten header
 * keeps its position among the others, and each Set-Cookie stays one.
 * evhttp frees header values with free() (no custom allocator is set).
 */
int
rewrite_urls(struct evkeyvalq *q, const struct uri_outside *o, int location,
    int cookie_path)
{
	struct evkeyval	*kv;
	char		*v;
	int		 kind, r;

	cookie_path = cookie_path && o->prefixlen > 0;
	if (!location && !cookie_path)
		return 0;
	TAILQ_FOREACH(kv, q, next) {
		if ((kind = rewrite_kind(kv->key, location, cookie_path)) == -1)
			continue;
		if (kind == REWRITE_LOCATION)
			r = uri_rewrite_location(o, kv->value,
			    strlen(kv->value), &v);
		else if (kind == REWRITE_REFRESH)
			r = uri_rewrite_refresh(o, kv->value,
			    strlen(kv->value), &v);
		else
			r = uri_rewrite_cookie_path(o->prefix, o->prefixlen,
			    kv->value, strlen(kv->value), &v);
		if (r == -1)
			return -1;
		if (r == 1) {
			free(kv->value);
			kv->value = v;
		}
	}
	return 0;
}

/*
 * Request IDs
 */

/* This thread's generator: xoshiro256**, seeded from the kernel. */
static __thread uint64_t	rewrite_rng[4];
static __thread int		rewrite_rng_ready;

/* x rotated left by k. */
static inline uint64_t
rewrite_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static uint64_t
rewrite_random(void)
{
	uint64_t	*s = rewrite_rng;
	uint64_t	 r, t;

	if (!rewrite_rng_ready) {
		if (getrandom(s, sizeof(rewrite_rng), 0) !=
		    (ssize_t)sizeof(rewrite_rng)) {
			struct timespec	 ts;

			/* not expected on Linux 3.17+; IDs stay distinct */
			log_error("getrandom: %s; request IDs seeded from the "
			    "clock", strerror(errno));
			clock_gettime(CLOCK_REALTIME, &ts);
			s[0] = (uint64_t)ts.tv_sec * 1000000000ULL +
			    (uint64_t)ts.tv_nsec;
			s[1] = (uint64_t)getpid() << 32 ^
			    (uint64_t)(uintptr_t)s;
			s[2] = 0x9e3779b97f4a7c15ULL ^ s[0];
			s[3] = 0xbf58476d1ce4e5b9ULL ^ s[1];
		}
		rewrite_rng_ready = 1;
		if ((s[0] | s[1] | s[2] | s[3]) == 0)
			s[0] = 1;
	}
	r = rewrite_rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rewrite_rotl(s[3], 45);
	return r;
}

/* 1 when v is an ID worth keeping: 1..REWRITE_ID_MAX visible bytes. */
static int
rewrite_id_ok(const char *v)
{
	size_t	 i;

	for (i = 0; v[i] != '\0'; i++)
		if (i >= REWRITE_ID_MAX || (unsigned char)v[i] <= 0x20 ||
		    (unsigned char)v[i] >= 0x7f)
			return 0;
	return i > 0;
}

/* See rewrite.h. */
void
rewrite_request_id(const struct evkeyvalq *in, const char *name, int trust,
    char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	const struct evkeyval	*kv, *found = NULL;
	uint64_t		 w = 0;
	int			 i, n = 0;

	if (trust) {
		TAILQ_FOREACH(kv, in, next)
			if (strcasecmp(kv->key, name) == 0 && n++ == 0)
				found = kv;
		if (n == 1 && rewrite_id_ok(found->value)) {
			strcpy(buf, found->value);
			return;
		}
	}
	for (i = 0; i < 32; i++) {
		if (i % 16 == 0)
			w = rewrite_random();
		buf[i] = hex[w & 0xf];
		w >>= 4;
	}
	buf[32] = '\0';
}
