/*
 * shutdown: notice, drain and hard stop (see shutdown.c).
 */
#ifndef SLUICE_CTL_SHUTDOWN_H
#define SLUICE_CTL_SHUTDOWN_H

#include <event2/util.h>

/* SIGTERM/SIGINT: notice, then drain; a second signal stops at once. */
void	shutdown_begin(void);

/* Hard stop (SIGQUIT, shutdown_timeout): end what remains. */
void	shutdown_hard(void);

/* The new binary is serving (upgrade): this process drains and exits. */
void	shutdown_upgraded(long pid);

/* Ask the main loop whether the drain is over (any worker). */
void	shutdown_poke(void);

/* The timers' callbacks, installed by lifecycle: shutdown_timeout,
 * "is the drain over?", drain_notice. */
void	shutdown_stop_cb(evutil_socket_t fd, short what, void *arg);
void	shutdown_check_cb(evutil_socket_t fd, short what, void *arg);
void	shutdown_notice_cb(evutil_socket_t fd, short what, void *arg);

#endif
