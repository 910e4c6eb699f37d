/*
 * fault: the production fault points, which never fire. tests/fault_env.c
 * replaces this file in the test binary tests/sluice-faults (see fault.h).
 */
#include "proxy/base/fault.h"

/* See fault.h. Nothing fails on purpose here. */
int
fault_hit(enum fault_point p)
{
	(void)p;
	return 0;
}
