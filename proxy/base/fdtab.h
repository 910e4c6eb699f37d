/*
 * fdtab: a table from descriptors to pointers, for finding our state for
 * a connection that carries no user pointer of ours (an evhttp
 * connection, a bufferevent) from its socket. The kernel hands out the
 * lowest free descriptor, so the table is dense: 8 bytes a descriptor up
 * to the highest one in use, in pages allocated as they are first used,
 * where a hash map of pointers takes 20 to 40 (a key, a value, and the
 * room that keeps it fast).
 */
#ifndef SLUICE_BASE_FDTAB_H
#define SLUICE_BASE_FDTAB_H

#include <stddef.h>

struct fdtab {
	void		***pages;	/* FDTAB_PAGE slots each, or NULL */
	size_t		  npages;
	size_t		  count;	/* values stored */
};

/* The value stored for fd, or NULL (also for a negative fd). */
void	*fdtab_get(const struct fdtab *, int fd);

/* Store value (not NULL) for fd, replacing one. 0, or -1 when out of
 * memory or fd is negative. */
int	 fdtab_put(struct fdtab *, int fd, void *value);

/* Remove fd's value; it, or NULL when there was none. */
void	*fdtab_del(struct fdtab *, int fd);

/*
 * The value of the lowest descriptor at or above *fd that has one, with
 * *fd set to it; NULL when there is none. A walk: for (fd = 0;
 * (v = fdtab_next(t, &fd)) != NULL; fd++). The walk may remove the
 * value it is at.
 */
void	*fdtab_next(const struct fdtab *, int *fd);

/* Free the table (not the values). */
void	 fdtab_free(struct fdtab *);

#endif
