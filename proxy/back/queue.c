/*
 * queue: one FIFO of waiting requests per upstream name (see queue.h).
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/back/queue.h"
#include "proxy/base/runtime.h"

static struct upqueue_list	registry = TAILQ_HEAD_INITIALIZER(registry);

/* See queue.h. */
struct upqueue *
upqueue_get(const char *name)
{
	struct upqueue	*q;

	TAILQ_FOREACH(q, &registry, entry)
		if (strcmp(q->name, name) == 0) {
			q->refs++;
			return q;
		}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->name = strdup(name)) == NULL ||
	    pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q->name);
		free(q);
		return NULL;
	}
	q->magic = UPQUEUE_MAGIC;
	q->refs = 1;
	TAILQ_INIT(&q->waiters);
	TAILQ_INSERT_TAIL(&registry, q, entry);
	return q;
}

/* See queue.h. */
void
upqueue_unref(struct upqueue *q)
{
	if (q == NULL)
		return;
	SLUICE_MAGIC_CHECK(q, UPQUEUE_MAGIC);
	if (--q->refs > 0)
		return;
	/* nothing waits: every waiter's exchange holds its upstream */
	TAILQ_REMOVE(&registry, q, entry);
	pthread_mutex_destroy(&q->mu);
	q->magic = 0;
	free(q->name);
	free(q);
}

/* See queue.h. */
struct upqueue_list *
upqueue_registry(void)
{
	return &registry;
}

/* See queue.h. */
void
upqueue_lock(struct upqueue *q)
{
	if (sluice_nworkers > 1)
		pthread_mutex_lock(&q->mu);
}

/* See queue.h. */
void
upqueue_unlock(struct upqueue *q)
{
	if (sluice_nworkers > 1)
		pthread_mutex_unlock(&q->mu);
}

/* See queue.h. */
unsigned
upqueue_depth(const struct upqueue *q)
{
	return __atomic_load_n(&q->n, __ATOMIC_SEQ_CST);
}
