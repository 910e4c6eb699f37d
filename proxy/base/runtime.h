/*
 * runtime: the little that every proxy/ module shares. sluice runs one
 * event loop per worker thread (workers = N); worker 0 is the main thread.
 * State that one worker's loop owns is thread-local; what workers share
 * (generations, servers, counters) is reference counted or updated with
 * the atomics below.
 */
#ifndef SLUICE_BASE_RUNTIME_H
#define SLUICE_BASE_RUNTIME_H

#include <stdint.h>
#include <sys/time.h>

struct event_base;

/* This thread's event loop. Set by lifecycle_run and each worker. */
extern __thread struct event_base	*sluice_base;

/* This thread's worker number; 0 is the main thread. */
extern __thread unsigned	sluice_worker_id;

/* Worker threads serving connections, the main one included (>= 1). */
extern unsigned			sluice_nworkers;

/*
 * Counters and reference counts shared by workers. Relaxed: they order
 * nothing else; a reference count's last drop is the exception (ACQ_REL,
 * so the freeing thread sees every write made before the other drops).
 */
#define SLUICE_INC(p)		__atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define SLUICE_DEC(p)		__atomic_sub_fetch((p), 1, __ATOMIC_RELAXED)
#define SLUICE_ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define SLUICE_LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define SLUICE_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define SLUICE_UNREF(p)		__atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)

/* A new event loop, set up the way every worker's is. NULL on failure. */
struct event_base *sluice_base_new(void);

/* Milliseconds on the monotonic clock. */
uint64_t	sluice_now_ms(void);

/* A timeval from milliseconds. */
struct timeval	sluice_tv(uint64_t ms);

/*
 * Raise the soft descriptor limit to the hard one (at start, before any
 * thread); returns the limit now in force, 0 when it cannot be read.
 */
unsigned long	sluice_nofile_raise(void);

/* The descriptor limit sluice_nofile_raise left (0: unknown). */
extern unsigned long		sluice_nofile;

/*
 * Descriptors kept out of the client connections' reach: listening
 * sockets, logs, the admin endpoint, health checks and the loop's own.
 */
unsigned long	sluice_fd_reserve(void);

/*
 * max_connections = auto: half of what the reserve leaves, so that every
 * client connection can have a connection to a server too.
 */
unsigned long	sluice_conns_auto(void);

/* A fast 32-bit pseudo-random number (balancing, not security). */
uint32_t	sluice_random(void);

/* Varnish-style magic numbers: every struct passed through a void *. */
#define SLUICE_MAGIC_CHECK(p, m)	do {				\
	if ((p) == NULL || (p)->magic != (m))				\
		sluice_magic_fail(#p, __FILE__, __LINE__);		\
} while (0)

void	sluice_magic_fail(const char *what, const char *file, int line)
	    __attribute__((noreturn));

#endif
