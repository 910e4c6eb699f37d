/*
 * runtime: this thread's loop, the clock, randomness and magic checks.
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "proxy/base/runtime.h"

__thread struct event_base	*sluice_base;
__thread unsigned		 sluice_worker_id;
unsigned			 sluice_nworkers = 1;
unsigned long			 sluice_nofile;

#define RUNTIME_RESERVE_MIN	32	/* descriptors */
#define RUNTIME_RESERVE_MAX	1024
#define RUNTIME_CONNS_UNKNOWN	10000	/* auto when the limit is unknown */

/*
 * An event loop. With the epoll changelist, the enable/disable pairs that
 * evhttp and the bufferevents make within one callback run collapse into
 * at most one epoll_ctl per descriptor per loop turn.
 */
struct event_base *
sluice_base_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* See runtime.h. */
unsigned long
sluice_nofile_raise(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return sluice_nofile = 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	sluice_nofile = rl.rlim_cur == RLIM_INFINITY ? 0 :
	    (unsigned long)rl.rlim_cur;
	return sluice_nofile;
}

/* See runtime.h: a tenth of the limit, within 32..1024. */
unsigned long
sluice_fd_reserve(void)
{
	unsigned long	r = sluice_nofile / 10;

	if (r < RUNTIME_RESERVE_MIN)
		r = RUNTIME_RESERVE_MIN;
	if (r > RUNTIME_RESERVE_MAX)
		r = RUNTIME_RESERVE_MAX;
	return r;
}

/* See runtime.h. At least 1: a tiny limit still serves someone. */
unsigned long
sluice_conns_auto(void)
{
	unsigned long	r = sluice_fd_reserve();

	if (sluice_nofile == 0)
		return RUNTIME_CONNS_UNKNOWN;
	return sluice_nofile > r + 2 ? (sluice_nofile - r) / 2 : 1;
}

/* Milliseconds on the monotonic clock. */
uint64_t
sluice_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A timeval from milliseconds. */
struct timeval
sluice_tv(uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/*
 * xorshift32 per thread, seeded from the clock: balancing needs speed, not
 * secrecy.
 */
uint32_t
sluice_random(void)
{
	static __thread uint32_t x;
	struct timespec	ts;

	if (x == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ 0x9e3779b9u ^
		    (sluice_worker_id * 0x85ebca6bu);
		if (x == 0)
			x = 1;
	}
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* A struct with a wrong magic number: memory is corrupt; stop now. */
void
sluice_magic_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "sluice: %s:%d: bad magic on %s\n", file, line, what);
	abort();
}
