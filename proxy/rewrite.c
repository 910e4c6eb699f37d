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

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/rewrite.h"
#include "proxy/base/log.h"
#include "proxy/http/edit.h"
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
 * Rules over either kind of header list
 */

/* What a list of headers offers the rules. */
struct rewrite_target {
	void	(*remove)(void *arg, const char *name);
	int	(*add)(void *arg, const char *name, const char *value,
		    size_t len);
	void	*arg;
};

/*
 * Apply rules to t: set removes every instance and adds one, add appends,
 * remove removes; a value that expands to "" adds nothing. 0 or -1.
 */
static int
rewrite_apply(const struct conf_hdr_rules *rs, const struct rewrite_vars *vars,
    const struct rewrite_target *t)
{
	const struct conf_hdr_rule	*r;
	char				 stack[REWRITE_STACK], *heap, *v;
	size_t				 i, len;
	int				 rc;

	for (i = 0; i < rs->n; i++) {
		r = &rs->rule[i];
		if (r->op != CONF_HDR_ADD)
			t->remove(t->arg, r->name);
		if (r->op == CONF_HDR_REMOVE)
			continue;
		if ((v = rewrite_expand(r, vars, stack, &heap, &len)) == NULL)
			return -1;
		rc = len > 0 ? t->add(t->arg, r->name, v, len) : 0;
		free(heap);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* A request head's field list as a target. */
static void
rewrite_edit_remove(void *arg, const char *name)
{
	edit_remove(arg, name);
}

static int
rewrite_edit_add(void *arg, const char *name, const char *value, size_t len)
{
	return edit_add(arg, name, value, len);
}

/* A headers_sink appending to an evbuffer. */
static int
rewrite_sink_add(void *arg, const void *p, size_t len)
{
	return evbuffer_add(arg, p, len);
}

/* See rewrite.h. */
int
rewrite_request(const char *head, size_t len, struct evbuffer *out,
    const struct conf_hdr_rules *const *lists, size_t nlists,
    const struct rewrite_vars *vars)
{
	struct edit_head	 h;
	struct rewrite_target	 t;
	struct headers_sink	 sink;
	size_t			 i;
	int			 rc = -1;

	if (edit_parse(&h, head, len) == -1)
		goto done;
	t.remove = rewrite_edit_remove;
	t.add = rewrite_edit_add;
	t.arg = &h;
	for (i = 0; i < nlists; i++)
		if (rewrite_apply(lists[i], vars, &t) == -1)
			goto done;
	sink.add = rewrite_sink_add;
	sink.arg = out;
	rc = edit_write(&h, &sink);
done:
	edit_free(&h);
	return rc;
}

/* evhttp's header list as a target. */
static void
rewrite_q_remove(void *arg, const char *name)
{
	while (evhttp_remove_header(arg, name) == 0)
		continue;
}

static int
rewrite_q_add(void *arg, const char *name, const char *value, size_t len)
{
	(void)len;
	return evhttp_add_header(arg, name, value);
}

/* See rewrite.h. */
int
rewrite_response(struct evkeyvalq *q, const struct conf_hdr_rules *rs,
    const struct rewrite_vars *vars)
{
	struct rewrite_target	 t;

	if (rs->n == 0)
		return 0;
	t.remove = rewrite_q_remove;
	t.add = rewrite_q_add;
	t.arg = q;
	return rewrite_apply(rs, vars, &t);
}

/* See rewrite.h. */
int
rewrite_set_header(struct evkeyvalq *q, const char *name, const char *value)
{
	rewrite_q_remove(q, name);
	return evhttp_add_header(q, name, value);
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
