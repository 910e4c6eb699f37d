/*
 * edit: the fields of a request head, changed in place and written again.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/http/edit.h"

/* Room for one more field; -1 when out of memory. */
static int
edit_grow(struct edit_head *h)
{
	struct edit_field	*f;
	size_t			 cap;

	if (h->n < h->cap)
		return 0;
	cap = h->cap * 2;
	if (h->f == h->buf) {
		if ((f = calloc(cap, sizeof(*f))) == NULL)
			return -1;
		memcpy(f, h->buf, h->n * sizeof(*f));
	} else if ((f = reallocarray(h->f, cap, sizeof(*f))) == NULL)
		return -1;
	h->f = f;
	h->cap = cap;
	return 0;
}

/* See edit.h. */
int
edit_parse(struct edit_head *h, const char *head, size_t len)
{
	const char	*p = head, *end = head + len, *eol, *colon;

	h->f = h->buf;
	h->n = 0;
	h->cap = EDIT_FIELDS;
	if ((eol = memchr(p, '\n', len)) == NULL)
		return -1;
	h->line = head;
	h->linelen = (size_t)(eol - head) + 1;
	for (p = eol + 1; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    eol == p || eol[-1] != '\r')
			return -1;
		if (eol == p + 1)		/* the empty line */
			return 0;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon + 2 > eol || colon[1] != ' ' || edit_grow(h) == -1)
			return -1;
		h->f[h->n].name = p;
		h->f[h->n].namelen = (size_t)(colon - p);
		h->f[h->n].value = colon + 2;
		h->f[h->n].valuelen = (size_t)(eol - 1 - (colon + 2));
		h->f[h->n].own = NULL;
		h->f[h->n++].gone = 0;
	}
	return -1;
}

/* See edit.h. */
void
edit_remove(struct edit_head *h, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < h->n; i++)
		if (!h->f[i].gone && h->f[i].namelen == n &&
		    strncasecmp(h->f[i].name, name, n) == 0)
			h->f[i].gone = 1;
}

/* See edit.h. */
int
edit_add(struct edit_head *h, const char *name, const char *value,
    size_t valuelen)
{
	size_t	 namelen = strlen(name);
	char	*copy;

	if (edit_grow(h) == -1 ||
	    (copy = malloc(namelen + valuelen + 1)) == NULL)
		return -1;
	memcpy(copy, name, namelen);
	memcpy(copy + namelen, value, valuelen);
	copy[namelen + valuelen] = '\0';
	h->f[h->n].name = copy;
	h->f[h->n].namelen = namelen;
	h->f[h->n].value = copy + namelen;
	h->f[h->n].valuelen = valuelen;
	h->f[h->n].own = copy;
	h->f[h->n++].gone = 0;
	return 0;
}

/* See edit.h. */
int
edit_write(const struct edit_head *h, const struct headers_sink *out)
{
	const struct edit_field	*f;
	size_t			 i;

	if (out->add(out->arg, h->line, h->linelen) == -1)
		return -1;
	for (i = 0; i < h->n; i++) {
		f = &h->f[i];
		if (f->gone)
			continue;
		if (out->add(out->arg, f->name, f->namelen) == -1 ||
		    out->add(out->arg, ": ", 2) == -1 ||
		    out->add(out->arg, f->value, f->valuelen) == -1 ||
		    out->add(out->arg, "\r\n", 2) == -1)
			return -1;
	}
	return out->add(out->arg, "\r\n", 2);
}

/* See edit.h. */
void
edit_free(struct edit_head *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free(h->f[i].own);
	if (h->f != h->buf)
		free(h->f);
	h->f = NULL;
	h->n = 0;
}
