/*
 * notify: the systemd notify protocol, spoken directly (no libsystemd):
 * one datagram to $NOTIFY_SOCKET per state change. Without NOTIFY_SOCKET
 * it does nothing.
 */
#ifndef SLUICE_CTL_NOTIFY_H
#define SLUICE_CTL_NOTIFY_H

/* Send "KEY=VALUE\n..." lines (printf format). Errors are ignored. */
void	notify_send(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Microseconds on CLOCK_MONOTONIC, for RELOADING=1's MONOTONIC_USEC. */
unsigned long long notify_monotonic_usec(void);

#endif
