/*
 * worker: worker threads and the calls queued between them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "proxy/base/worker.h"

/* One queued call. */
struct worker_call {
	worker_fn		*fn;
	void			*arg;
	struct worker_call	*next;
};

struct worker {
	unsigned		 id;
	pthread_t		 thread;
	struct event_base	*base;
	int			 efd;		/* eventfd: "calls queued" */
	struct event		*wake_ev;
	pthread_mutex_t		 mu;		/* guards the queue */
	struct worker_call	*head, **tail;
	worker_fn		*init;
	worker_fn		*fini;
	int			 started;	/* thread created */
};

/* worker_each's shared state: how many workers have still to run fn. */
struct worker_each {
	worker_fn	*fn;
	worker_fn	*done;
	void		*arg;
	unsigned	 left;			/* atomic */
};

static struct worker	 workers[WORKER_MAX];
static unsigned		 nthreads;		/* started, main included */

/* Take every queued call of w, in order. */
static struct worker_call *
worker_take(struct worker *w)
{
	struct worker_call	*c;

	pthread_mutex_lock(&w->mu);
	c = w->head;
	w->head = NULL;
	w->tail = &w->head;
	pthread_mutex_unlock(&w->mu);
	return c;
}

/* Run the calls queued to w (from w's thread). */
static void
worker_run_queue(struct worker *w)
{
	struct worker_call	*c, *next;

	while ((c = worker_take(w)) != NULL)
		for (; c != NULL; c = next) {
			next = c->next;
			c->fn(c->arg);
			free(c);
		}
}

/* The eventfd woke the loop: run what was queued. */
static void
worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 n;

	while (read(fd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
	worker_run_queue(w);
}

/* Set up w's queue; its loop event comes with its thread. -1 on failure. */
static int
worker_queue_init(struct worker *w, unsigned id)
{
	w->id = id;
	w->head = NULL;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		close(w->efd);
		return -1;
	}
	w->tail = &w->head;		/* made */
	return 0;
}

/* Watch w's eventfd from its loop. -1 on failure. */
static int
worker_wake_init(struct worker *w)
{
	w->wake_ev = event_new(w->base, w->efd, EV_READ | EV_PERSIST,
	    worker_wake_cb, w);
	return w->wake_ev != NULL && event_add(w->wake_ev, NULL) == 0 ? 0 : -1;
}

/* Free what worker_queue_init and worker_wake_init made. */
static void
worker_queue_free(struct worker *w)
{
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	w->wake_ev = NULL;
	if (w->tail == NULL)
		return;
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	w->tail = NULL;
}

/* The loop of worker 1..n-1. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	sluice_worker_id = w->id;
	sluice_base = w->base;
	if (w->init != NULL)
		w->init(NULL);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	worker_run_queue(w);
	if (w->fini != NULL)
		w->fini(NULL);
	/* the deferred frees the cleanup made */
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	worker_run_queue(w);
	event_free(w->wake_ev);
	w->wake_ev = NULL;
	event_base_free(w->base);
	sluice_base = NULL;
	return NULL;
}

/* See worker.h. */
int
worker_start(unsigned n, worker_fn *init)
{
	sigset_t	 all, old;
	unsigned	 i;
	int		 r = 0, err;

	if (n < 1 || n > WORKER_MAX)
		return -1;
	if (worker_queue_init(&workers[0], 0) == -1)
		return -1;
	workers[0].base = sluice_base;
	if (worker_wake_init(&workers[0]) == -1) {
		worker_queue_free(&workers[0]);
		return -1;
	}
	sluice_nworkers = n;
	nthreads = 1;
	/* signals are the main loop's: no worker thread takes one */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 1; i < n && r == 0; i++) {
		struct worker	*w = &workers[i];

		w->init = init;
		if (worker_queue_init(w, i) == -1 ||
		    (w->base = sluice_base_new()) == NULL ||
		    worker_wake_init(w) == -1) {
			log_error("cannot start worker %u: %s", i,
			    strerror(errno));
			r = -1;
			break;
		}
		/* pthread_create returns its error; errno is not set */
		if ((err = pthread_create(&w->thread, NULL, worker_main,
		    w)) != 0) {
			log_error("cannot start worker %u: %s", i,
			    strerror(err));
			r = -1;
			break;
		}
		w->started = 1;
		nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == -1) {
		worker_queue_free(&workers[i]);	/* the one not started */
		if (workers[i].base != NULL)
			event_base_free(workers[i].base);
		workers[i].base = NULL;
		worker_stop(NULL);
		sluice_nworkers = 1;
	}
	return r;
}

/* See worker.h. */
int
worker_threads(void)
{
	return nthreads > 1;
}

/* See worker.h. */
void
worker_call(unsigned id, worker_fn *fn, void *arg)
{
	struct worker		*w = &workers[id];
	struct worker_call	*c;
	uint64_t		 one = 1;

	if ((c = malloc(sizeof(*c))) == NULL) {
		log_error("out of memory queueing a call to worker %u", id);
		abort();
	}
	c->fn = fn;
	c->arg = arg;
	c->next = NULL;
	pthread_mutex_lock(&w->mu);
	*w->tail = c;
	w->tail = &c->next;
	pthread_mutex_unlock(&w->mu);
	while (write(w->efd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

/* worker_each, back in the main thread: every worker has run fn. */
static void
worker_each_done(void *arg)
{
	struct worker_each	*e = arg;

	if (e->done != NULL)
		e->done(e->arg);
	free(e);
}

/* worker_each, in one worker: run fn; the last one tells the main thread. */
static void
worker_each_one(void *arg)
{
	struct worker_each	*e = arg;

	e->fn(e->arg);
	if (SLUICE_UNREF(&e->left) == 0)
		worker_call(0, worker_each_done, e);
}

/* See worker.h. */
void
worker_each(worker_fn *fn, worker_fn *done, void *arg)
{
	struct worker_each	*e;
	unsigned		 i;

	if (nthreads <= 1) {
		if (done != NULL)
			done(arg);
		return;
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		log_error("out of memory queueing a call to the workers");
		abort();
	}
	e->fn = fn;
	e->done = done;
	e->arg = arg;
	e->left = nthreads - 1;
	for (i = 1; i < nthreads; i++)
		worker_call(i, worker_each_one, e);
}

/* worker_each_sync's shared state, on the main thread's stack. */
struct worker_sync {
	worker_fn	*fn;
	void		*arg;
	unsigned	 left;		/* under mu */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
};

/* worker_each_sync, in one worker. */
static void
worker_sync_one(void *arg)
{
	struct worker_sync	*ws = arg;

	ws->fn(ws->arg);
	pthread_mutex_lock(&ws->mu);
	if (--ws->left == 0)
		pthread_cond_signal(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
}

/*
 * See worker.h. Safe to block on: a worker never waits for the main
 * thread, so each one reaches the call after the events it is running.
 */
void
worker_each_sync(worker_fn *fn, void *arg)
{
	struct worker_sync	ws;
	unsigned		i;

	if (nthreads <= 1)
		return;
	ws.fn = fn;
	ws.arg = arg;
	ws.left = nthreads - 1;
	pthread_mutex_init(&ws.mu, NULL);
	pthread_cond_init(&ws.cv, NULL);
	for (i = 1; i < nthreads; i++)
		worker_call(i, worker_sync_one, &ws);
	pthread_mutex_lock(&ws.mu);
	while (ws.left > 0)
		pthread_cond_wait(&ws.cv, &ws.mu);
	pthread_mutex_unlock(&ws.mu);
	pthread_cond_destroy(&ws.cv);
	pthread_mutex_destroy(&ws.mu);
}

/* Leave the loop (a call queued by worker_stop). */
static void
worker_exit_cb(void *arg)
{
	event_base_loopbreak(sluice_base);
}

/* See worker.h. */
void
worker_stop(worker_fn *fini)
{
	unsigned	i;

	for (i = 1; i < WORKER_MAX; i++) {
		if (!workers[i].started)
			continue;
		workers[i].fini = fini;
		worker_call(i, worker_exit_cb, NULL);
	}
	for (i = 1; i < WORKER_MAX; i++) {
		if (!workers[i].started)
			continue;
		pthread_join(workers[i].thread, NULL);
		workers[i].started = 0;
		workers[i].base = NULL;
		worker_queue_free(&workers[i]);
	}
	nthreads = 1;
	if (workers[0].tail != NULL) {
		worker_run_queue(&workers[0]);
		worker_queue_free(&workers[0]);
	}
}
