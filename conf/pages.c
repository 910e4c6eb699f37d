/*
 * pages.c: error_page = CODE... FILE, the bodies of the answers sluice
 * makes itself. The file is read when the configuration is, so a reload
 * swaps the page and an unreadable or oversized one is refused with the
 * rest of the file (file:line), never at the moment a page is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/* Content-Type by the file name's extension; NULL: not one we know. */
static const char *
conf_page_type(const char *path)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char	*dot = strrchr(path, '.');
	size_t		 i;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	for (i = 0; i < CONF_NITEMS(types); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/*
 * Read path whole into *body (*len bytes), at most CONF_ERROR_PAGE_MAX.
 * 0, or -1 with *why.
 */
static int
conf_page_read(const char *path, char **body, size_t *len, const char **why)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	*body = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	if ((buf = malloc(CONF_ERROR_PAGE_MAX + 1)) == NULL) {
		fclose(f);
		*why = "out of memory";
		return -1;
	}
	n = fread(buf, 1, CONF_ERROR_PAGE_MAX + 1, f);
	if (ferror(f)) {
		*why = strerror(errno != 0 ? errno : EIO);
		n = 0;
		free(buf);
		buf = NULL;
	} else if (n > CONF_ERROR_PAGE_MAX) {
		*why = "larger than 64 KiB";
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf == NULL)
		return -1;
	*body = buf;
	*len = n;
	return 0;
}

/* Free one page. */
static void
conf_page_clear(struct conf_error_page *p)
{
	free(p->codes);
	free(p->path);
	free(p->body);
	memset(p, 0, sizeof(*p));
}

/* See conf_int.h. */
void
conf_error_pages_clear(struct conf_error_pages *pages)
{
	size_t	i;

	for (i = 0; i < pages->n; i++)
		conf_page_clear(&pages->v[i]);
	free(pages->v);
	pages->v = NULL;
	pages->n = 0;
}

/* 1 when page p is for code. */
static int
conf_page_has(const struct conf_error_page *p, int code)
{
	size_t	i;

	for (i = 0; i < p->ncodes; i++)
		if (p->codes[i] == code)
			return 1;
	return 0;
}

/* See conf.h. */
const struct conf_error_page *
conf_error_page_find(const struct conf_error_pages *pages, int code)
{
	size_t	i;

	for (i = 0; i < pages->n; i++)
		if (conf_page_has(&pages->v[i], code))
			return &pages->v[i];
	return NULL;
}

/*
 * error_page = CODE... FILE, repeatable: codes 400..599, each at most
 * once in a section; FILE .html, .htm, .json or .txt, readable, at most
 * 64 KiB.
 */
int
conf_set_error_page(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_error_pages		*pages = conf_field(base, kw);
	const struct conf_error_page	*prev;
	struct conf_error_page		 pg, *p;
	char				*copy, *words[34], *end;
	const char			*why;
	size_t				 n, i;
	long				 code;
	int				 rc = 0;

	memset(&pg, 0, sizeof(pg));
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 33);
	if (n < 2 || n > 33) {
		free(copy);
		return conf_key_error(ld, kw, n > 33 ? "at most 32 codes on a "
		    "line" : "expected CODE... FILE");
	}
	if ((pg.codes = calloc(n - 1, sizeof(*pg.codes))) == NULL ||
	    (pg.path = strdup(words[n - 1])) == NULL) {
		rc = conf_value_error(ld, kw, value, "out of memory");
		goto out;
	}
	for (i = 0; i + 1 < n; i++) {
		code = strtol(words[i], &end, 10);
		if (words[i][0] < '0' || words[i][0] > '9' || *end != '\0' ||
		    code < 400 || code > 599) {
			rc = conf_value_error(ld, kw, words[i],
			    "a code must be 400..599");
			goto out;
		}
		if ((prev = conf_error_page_find(pages, (int)code)) != NULL ||
		    conf_page_has(&pg, (int)code)) {
			rc = conf_error(ld, ld->lineno, "%s: %ld already has "
			    "a page (line %d)", kw->info.key, code,
			    CONF_LOC_LINE(prev != NULL ? prev->line :
			    ld->lineno));
			goto out;
		}
		pg.codes[pg.ncodes++] = (int)code;
	}
	if ((pg.type = conf_page_type(pg.path)) == NULL) {
		rc = conf_value_error(ld, kw, pg.path, "the file must end in "
		    ".html, .htm, .json or .txt (its Content-Type)");
		goto out;
	}
	if (conf_page_read(pg.path, &pg.body, &pg.len, &why) == -1) {
		rc = conf_value_error(ld, kw, pg.path, why);
		goto out;
	}
	pg.line = ld->lineno;
	if ((p = conf_append(pages->v, pages->n, sizeof(*p))) == NULL) {
		rc = conf_value_error(ld, kw, value, "out of memory");
		goto out;
	}
	pages->v = p;
	pages->v[pages->n++] = pg;
	free(copy);
	return 0;
out:
	conf_page_clear(&pg);
	free(copy);
	return rc;
}
