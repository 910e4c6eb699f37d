/*
 * fault_env: the fault points of tests/sluice-faults, set from the
 * environment. Linked before libproxy.a, it stands in for proxy/base/fault.c
 * (see proxy/base/fault.h); the production binary never reads these variables.
 *
 * SLUICE_FAULT_TLS_SETUP=N	the first N TLS setups of client
 *				connections fail (FAULT_TLS_SETUP)
 * SLUICE_FAULT_TLS_SETUP=all	every one fails
 *
 * Unset, empty or 0: nothing fails.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/fault.h"

/* The variable of each point, in enum order. */
static const char *const fault_env_names[] = {
	[FAULT_TLS_SETUP] = "SLUICE_FAULT_TLS_SETUP",
};

/* Calls so far at each point, all threads together. */
static unsigned long	 fault_env_calls[sizeof(fault_env_names) /
			    sizeof(fault_env_names[0])];

/* How many calls at p fail: ULONG_MAX for "all", 0 when unset. */
static unsigned long
fault_env_limit(enum fault_point p)
{
	const char	*v = getenv(fault_env_names[p]);

	if (v == NULL || *v == '\0')
		return 0;
	if (strcmp(v, "all") == 0)
		return ULONG_MAX;
	return strtoul(v, NULL, 10);
}

/* See proxy/base/fault.h: this call fails when it is among the first N. */
int
fault_hit(enum fault_point p)
{
	unsigned long	 n;

	n = __atomic_fetch_add(&fault_env_calls[p], 1, __ATOMIC_RELAXED);
	return n < fault_env_limit(p);
}
