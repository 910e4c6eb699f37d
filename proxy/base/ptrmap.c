/*
 * ptrmap: pointer-keyed open-addressing hash map.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proxy/base/ptrmap.h"

/* The home slot of key. */
static size_t
ptrmap_home(const struct ptrmap *m, const void *key)
{
	uintptr_t	p = (uintptr_t)key;

	p ^= p >> 17;
	p *= 0x9e3779b97f4a7c15ull;
	return (size_t)(p >> 20) & (m->size - 1);
}

/* The slot holding key, or the empty slot where it would go. */
static struct ptrmap_slot *
ptrmap_find(const struct ptrmap *m, const void *key)
{
	size_t	i = ptrmap_home(m, key);

	while (m->slots[i].key != NULL && m->slots[i].key != key)
		i = (i + 1) & (m->size - 1);
	return &m->slots[i];
}

/*
 * Double the table; it stays at most three quarters full (with the
 * backward-shift delete, probes stay short there: 2.5 on average for a
 * key that is in, 8.5 for one that is not). It holds an entry for every
 * client connection, twice, so its load is memory per idle connection:
 * at most half full it cost up to 64 bytes a connection. -1 when out of
 * memory.
 */
static int
ptrmap_grow(struct ptrmap *m)
{
	struct ptrmap	 old = *m;
	size_t		 i;

	m->size = old.size == 0 ? 256 : old.size * 2;
	if ((m->slots = calloc(m->size, sizeof(*m->slots))) == NULL) {
		*m = old;
		return -1;
	}
	for (i = 0; i < old.size; i++)
		if (old.slots[i].key != NULL)
			*ptrmap_find(m, old.slots[i].key) = old.slots[i];
	free(old.slots);
	return 0;
}

/* See ptrmap.h. */
void *
ptrmap_get(const struct ptrmap *m, const void *key)
{
	return m->size == 0 ? NULL : ptrmap_find(m, key)->value;
}

/* See ptrmap.h. */
int
ptrmap_put(struct ptrmap *m, const void *key, void *value)
{
	struct ptrmap_slot	*s;

	if ((m->count + 1) * 4 > m->size * 3 && ptrmap_grow(m) == -1)
		return -1;
	s = ptrmap_find(m, key);
	if (s->key == NULL)
		m->count++;
	s->key = key;
	s->value = value;
	return 0;
}

/* See ptrmap.h. Later entries of the run move back into the hole. */
void *
ptrmap_del(struct ptrmap *m, const void *key)
{
	struct ptrmap_slot	*s;
	void			*value;
	size_t			 hole, i, home, mask = m->size - 1;

	if (m->size == 0 || (s = ptrmap_find(m, key))->key == NULL)
		return NULL;
	value = s->value;
	hole = (size_t)(s - m->slots);
	for (i = (hole + 1) & mask; m->slots[i].key != NULL;
	    i = (i + 1) & mask) {
		home = ptrmap_home(m, m->slots[i].key);
		/* move it when its home is not between the hole and it */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->slots[hole] = m->slots[i];
			hole = i;
		}
	}
	m->slots[hole].key = NULL;
	m->slots[hole].value = NULL;
	m->count--;
	return value;
}

/* See ptrmap.h. */
void
ptrmap_free(struct ptrmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->size = 0;
	m->count = 0;
}
