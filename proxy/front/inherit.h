/*
 * inherit: listening sockets handed to us by systemd socket activation
 * (LISTEN_PID, LISTEN_FDS) or by the sluice we replace in a binary upgrade
 * (SLUICE_UPGRADE_FDS). A listener whose address matches an inherited
 * socket uses it instead of binding, so no connection queued on it is lost.
 */
#ifndef SLUICE_FRONT_INHERIT_H
#define SLUICE_FRONT_INHERIT_H

#include "conf/conf.h"

/* Take note of inherited sockets and clear the variables. */
void	inherit_init(void);

/*
 * The inherited listening socket bound to addr, made non-blocking, or -1.
 * A socket is handed out once.
 */
int	inherit_take(const struct conf_addr *addr);

/* Close inherited sockets no listener took (after startup). */
void	inherit_close_unused(void);

#endif
