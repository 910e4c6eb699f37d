/*
 * fault: points where a test build makes a call fail that cannot be made
 * to fail from outside (an allocation inside OpenSSL, say).
 *
 * The production binary links proxy/fault.c, whose fault_hit() always
 * returns 0 and reads nothing. tests/sluice-faults links tests/fault_env.o
 * before libproxy.a instead: the linker then has fault_hit() already and
 * does not take fault.o from the archive, so the test build's fault_hit()
 * answers from the environment (see tests/fault_env.c). Keep fault_hit()
 * the only symbol of fault.c, or the two would clash.
 */
#ifndef SLUICE_BASE_FAULT_H
#define SLUICE_BASE_FAULT_H

enum fault_point {
	FAULT_TLS_SETUP = 0,	/* the SSL or TLS bufferevent of a client
				 * connection cannot be made */
};

/*
 * 1 when the call at point p should fail this time, else 0. Safe from any
 * thread. Always 0 in the production binary.
 */
int	fault_hit(enum fault_point p);

#endif
