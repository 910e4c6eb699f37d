/*
 * ptrmap: a hash map from pointers to pointers (open addressing, linear
 * probing, deletion by backward shift). Used to find our state for an
 * evhttp connection or a bufferevent, which carry no user pointer of ours.
 */
#ifndef SLUICE_BASE_PTRMAP_H
#define SLUICE_BASE_PTRMAP_H

#include <stddef.h>

struct ptrmap_slot {
	const void	*key;		/* NULL: empty */
	void		*value;
};

struct ptrmap {
	struct ptrmap_slot	*slots;
	size_t			 size;	/* a power of two, or 0 */
	size_t			 count;
};

/* The value stored for key, or NULL. */
void	*ptrmap_get(const struct ptrmap *, const void *key);

/* Store value for key (replacing one). 0, or -1 when out of memory. */
int	 ptrmap_put(struct ptrmap *, const void *key, void *value);

/* Remove key; its value, or NULL when it was absent. */
void	*ptrmap_del(struct ptrmap *, const void *key);

/* Free the table (not the values). */
void	 ptrmap_free(struct ptrmap *);

#endif
