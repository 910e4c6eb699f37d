/*
 * worker: the threads that serve connections (workers = N).
 *
 * Each worker runs its own event loop; worker 0 is the main thread, which
 * also owns signals, reloads, the listening sockets, the admin listener and
 * health checks. Every worker accepts from the same listening sockets, each
 * through a descriptor of its own: one kernel queue, so a socket that closes
 * loses nothing while the main thread, which closes last, empties it (the
 * SO_REUSEPORT trap: one queue per socket, reset when it closes).
 *
 * Workers talk only through calls queued to a worker's thread: a mutex
 * guarded list and an eventfd that wakes its loop. With one worker nothing
 * is queued between threads.
 */
#ifndef SLUICE_BASE_WORKER_H
#define SLUICE_BASE_WORKER_H

#define WORKER_MAX	64

typedef void	worker_fn(void *arg);

/*
 * Start workers 1..n-1, each with its own loop (worker 0 is the caller's).
 * init runs first in every new thread, from its loop. -1 when one cannot be
 * started (none is left running).
 */
int	worker_start(unsigned n, worker_fn *init);

/* 1 while worker threads other than the main one run. */
int	worker_threads(void);

/*
 * Run fn(arg) in worker id's thread, from its loop, in the order queued.
 * From any thread; when id is the caller's own, it still runs later, from
 * the loop. Aborts when out of memory (a lost call would leave a drain or
 * a reference count wrong).
 */
void	worker_call(unsigned id, worker_fn *fn, void *arg);

/*
 * From the main thread: run fn(arg) in every other worker; when all have,
 * run done(arg) in the main thread (done may be NULL). Without worker
 * threads, done runs at once.
 */
void	worker_each(worker_fn *fn, worker_fn *done, void *arg);

/*
 * From the main thread: run fn(arg) in every other worker and wait until
 * all have (a listening socket must be closed in every worker before the
 * call that closes it returns).
 */
void	worker_each_sync(worker_fn *fn, void *arg);

/*
 * From the main thread: stop every other worker; each runs fini(NULL) in
 * its thread after its loop ends, then exits. Returns once all have, with
 * the calls they queued to the main thread run.
 */
void	worker_stop(worker_fn *fini);

#endif
