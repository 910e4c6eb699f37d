/*
 * cookie: the Cookie request header (see cookie.h).
 */
#include <string.h>

#include "proxy/http/cookie.h"

/* One pair of a Cookie value. */
struct cookie_pair {
	const char	*p;		/* the pair's first byte */
	size_t		 len;		/* up to the ';' or the end, without
					 * trailing whitespace */
	size_t		 namelen;	/* before '=' (trimmed); 0 without
					 * one */
	const char	*value;
	size_t		 valuelen;
};

/* 1 for the whitespace RFC 6265 allows around pairs. */
static int
cookie_ws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The pair at or after *at: 1 with *pair set and *at past it, 0 at the
 * end.
 */
static int
cookie_next(const char **at, struct cookie_pair *pair)
{
	const char	*s = *at, *end, *eq;

	while (*s == ';' || cookie_ws(*s))
		s++;
	if (*s == '\0')
		return 0;
	end = s + strcspn(s, ";");
	*at = end;
	while (end > s && cookie_ws(end[-1]))
		end--;
	pair->p = s;
	pair->len = (size_t)(end - s);
	eq = memchr(s, '=', pair->len);
	if (eq == NULL) {
		pair->namelen = 0;
		pair->value = s;
	} else {
		pair->namelen = (size_t)(eq - s);
		while (pair->namelen > 0 && cookie_ws(s[pair->namelen - 1]))
			pair->namelen--;
		pair->value = eq + 1;
		while (pair->value < end && cookie_ws(*pair->value))
			pair->value++;
	}
	pair->valuelen = (size_t)(end - pair->value);
	return 1;
}

/* 1 when pair is called name. */
static int
cookie_named(const struct cookie_pair *pair, const char *name,
    size_t namelen)
{
	return pair->namelen == namelen && namelen > 0 &&
	    memcmp(pair->p, name, namelen) == 0;
}

/* See cookie.h. */
int
cookie_find(const char *hdr, const char *name, size_t namelen,
    const char **value, size_t *valuelen)
{
	struct cookie_pair	 pair;
	const char		*at = hdr;

	while (cookie_next(&at, &pair))
		if (cookie_named(&pair, name, namelen)) {
			*value = pair.value;
			*valuelen = pair.valuelen;
			return 1;
		}
	return 0;
}

/* See cookie.h. */
size_t
cookie_remove(char *hdr, const char *name, size_t namelen)
{
	struct cookie_pair	 pair;
	const char		*at = hdr, *prev_end = NULL, *from;
	char			*out = hdr;
	size_t			 removed = 0;

	/*
	 * A kept pair is moved with the separator that came before it in
	 * the value (none for the first one kept): the result is never
	 * longer than what was read, so out stays behind the reading.
	 */
	while (cookie_next(&at, &pair)) {
		if (cookie_named(&pair, name, namelen)) {
			removed++;
			prev_end = pair.p + pair.len;
			continue;
		}
		from = out == hdr || prev_end == NULL ? pair.p : prev_end;
		memmove(out, from, (size_t)(pair.p + pair.len - from));
		out += pair.p + pair.len - from;
		prev_end = pair.p + pair.len;
	}
	*out = '\0';
	return removed;
}
