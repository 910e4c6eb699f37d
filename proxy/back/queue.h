/*
 * queue: the requests waiting for a slot under max_conns, one FIFO per
 * upstream name.
 *
 * A queue belongs to a name, not to a generation: every generation's
 * upstream of that name and every server of it refer to the same one, so
 * a reload keeps the waiting requests and their order. This module is the
 * data and its lock; the door (upstream.c) decides who waits and who is
 * granted a slot. Lock order: a queue, then an upstream's pick lock, then
 * a server's.
 */
#ifndef SLUICE_BACK_QUEUE_H
#define SLUICE_BACK_QUEUE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#define UPQUEUE_MAGIC	0x51554555u	/* "QUEU" */

struct upstream_wait;
TAILQ_HEAD(upstream_wait_list, upstream_wait);

struct upqueue {
	unsigned		 magic;
	char			*name;		/* the upstream's */
	int			 refs;		/* main thread: upstreams and
						 * servers */
	pthread_mutex_t		 mu;		/* guards waiters and every
						 * wait's state */
	struct upstream_wait_list waiters;	/* oldest first */
	unsigned		 n;		/* atomic (sequentially
						 * consistent): waiting */
	uint64_t		 queued;	/* atomic: requests that
						 * waited */
	uint64_t		 overflows;	/* atomic: refused, full */
	uint64_t		 timeouts;	/* atomic: queue_timeout */
	TAILQ_ENTRY(upqueue)	 entry;		/* the registry */
};

TAILQ_HEAD(upqueue_list, upqueue);

/*
 * The queue of upstream name, found or made (main thread), with one more
 * reference; NULL when out of memory.
 */
struct upqueue	*upqueue_get(const char *name);

/* Drop a reference (main thread); the last one frees the queue. */
void		 upqueue_unref(struct upqueue *);

/* Every queue, for /status and /metrics (main thread). */
struct upqueue_list *upqueue_registry(void);

/* The queue's lock, taken only with worker threads. */
void		 upqueue_lock(struct upqueue *);
void		 upqueue_unlock(struct upqueue *);

/* Waiting requests now. */
unsigned	 upqueue_depth(const struct upqueue *);

#endif
