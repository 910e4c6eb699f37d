/*
 * lifecycle: start, reload, drain and stop. Signals only mark; the loop
 * acts (libevent signal events).
 */
#ifndef SLUICE_CTL_LIFECYCLE_H
#define SLUICE_CTL_LIFECYCLE_H

/* Load path, serve until stopped. Returns the process exit status. */
int	lifecycle_run(const char *path);

/*
 * Check the file at path like a reload would, print every error to stderr
 * or "configuration ok" to stdout. Returns the exit status (0 or 1).
 */
int	lifecycle_check(const char *path);

#endif
