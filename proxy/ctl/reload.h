/*
 * reload: the reload transaction (see reload.c).
 */
#ifndef SLUICE_CTL_RELOAD_H
#define SLUICE_CTL_RELOAD_H

#include <event2/util.h>

/*
 * Load process.conf_path and apply it: the first load at start, and each
 * reload. 0, or -1 with nothing changed and *errors set to a malloc'd
 * text of one line per error.
 */
int	reload_load(char **errors);

/* A reload (SIGHUP, POST /reload), logged and recorded. 0 or -1. */
int	reload_run(void);

/*
 * The tls_ticket_rotation timer: every listener's session-ticket keys
 * rotate (tls_tickets_rotate). Main thread.
 */
void	reload_tickets_cb(evutil_socket_t fd, short what, void *arg);

/* Free the retired listeners whose last connection has closed. */
void	reload_retire_cb(evutil_socket_t fd, short what, void *arg);

#endif
