/*
 * fdtab: descriptor-indexed table in pages.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/base/fdtab.h"

#define FDTAB_PAGE	512	/* slots a page: 4 KiB */

/* See fdtab.h. */
void *
fdtab_get(const struct fdtab *t, int fd)
{
	size_t	p;

	if (fd < 0)
		return NULL;
	p = (size_t)fd / FDTAB_PAGE;
	if (p >= t->npages || t->pages[p] == NULL)
		return NULL;
	return t->pages[p][(size_t)fd % FDTAB_PAGE];
}

/* See fdtab.h. */
int
fdtab_put(struct fdtab *t, int fd, void *value)
{
	void	***pages;
	size_t	  p, n;

	if (fd < 0 || value == NULL)
		return -1;
	p = (size_t)fd / FDTAB_PAGE;
	if (p >= t->npages) {
		n = t->npages == 0 ? 8 : t->npages;
		while (n <= p)
			n *= 2;
		if ((pages = reallocarray(t->pages, n, sizeof(*pages))) ==
		    NULL)
			return -1;
		memset(pages + t->npages, 0,
		    (n - t->npages) * sizeof(*pages));
		t->pages = pages;
		t->npages = n;
	}
	if (t->pages[p] == NULL &&
	    (t->pages[p] = calloc(FDTAB_PAGE, sizeof(void *))) == NULL)
		return -1;
	if (t->pages[p][(size_t)fd % FDTAB_PAGE] == NULL)
		t->count++;
	t->pages[p][(size_t)fd % FDTAB_PAGE] = value;
	return 0;
}

/* See fdtab.h. */
void *
fdtab_del(struct fdtab *t, int fd)
{
	void	*v;

	if ((v = fdtab_get(t, fd)) == NULL)
		return NULL;
	t->pages[(size_t)fd / FDTAB_PAGE][(size_t)fd % FDTAB_PAGE] = NULL;
	t->count--;
	return v;
}

/* See fdtab.h. */
void *
fdtab_next(const struct fdtab *t, int *fd)
{
	size_t	i, p;
	void	*v;

	if (*fd < 0)
		*fd = 0;
	for (i = (size_t)*fd; (p = i / FDTAB_PAGE) < t->npages; i++) {
		if (t->pages[p] == NULL) {
			i = (p + 1) * FDTAB_PAGE - 1;	/* the next page */
			continue;
		}
		if ((v = t->pages[p][i % FDTAB_PAGE]) != NULL) {
			*fd = (int)i;
			return v;
		}
	}
	return NULL;
}

/* See fdtab.h. */
void
fdtab_free(struct fdtab *t)
{
	size_t	p;

	for (p = 0; p < t->npages; p++)
		free(t->pages[p]);
	free(t->pages);
	t->pages = NULL;
	t->npages = 0;
	t->count = 0;
}
