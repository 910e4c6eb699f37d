/*
 * sluice.h: the little that every proxy/ module shares. sluice runs one
 * event loop in one thread; these are its process-wide facts.
 */
#ifndef SLUICE_SLUICE_H
#define SLUICE_SLUICE_H

#include <stdint.h>
#include <sys/time.h>

struct event_base;

/* The one event loop. Set by lifecycle_run before anything else. */
extern struct event_base	*sluice_base;

/* Milliseconds on the monotonic clock (the loop's cached time). */
uint64_t	sluice_now_ms(void);

/* A timeval from milliseconds. */
struct timeval	sluice_tv(uint64_t ms);

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
