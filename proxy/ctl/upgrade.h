/*
 * upgrade: the hitless binary upgrade (SIGUSR2). The binary at our own
 * path (the new version, installed over the old) is started with our
 * arguments and our listening sockets; once it reports ready, we drain and
 * exit. Listening sockets are never closed in between, so no queued
 * connection is lost, and exactly one sluice remains. If the new process
 * fails to start, we keep serving.
 */
#ifndef SLUICE_CTL_UPGRADE_H
#define SLUICE_CTL_UPGRADE_H

#define INHERIT_FDS_MAX		64
#define UPGRADE_READY_TIMEOUT_S	30	/* the new process gets this long */

/* Remember how we were started (call first thing in main). */
void	upgrade_init(int argc, char **argv);

/*
 * Start the new process with fds[0..n) as its inherited sockets; ready is
 * called with its pid once it serves. 0, or -1 (logged) when it could not
 * be started or an upgrade is already under way.
 */
int	upgrade_start(const int *fds, int n, void (*ready)(long pid));

/* In the new process: tell the old one we are ready (once). */
void	upgrade_report_ready(void);

/* Free the upgrade's event (at exit). */
void	upgrade_free(void);

#endif
