/*
 * lifecycle: start, reload, drain and stop. Signals only mark; the loop
 * acts (libevent signal events).
 */
#ifndef SLUICE_CTL_LIFECYCLE_H
#define SLUICE_CTL_LIFECYCLE_H

/* Load path, serve until stopped. Returns the process exit status. */
int	lifecycle_run(const char *path);

/*
 * What lifecycle_run does before and after its loop, for a caller that
 * runs sluice_base's loop itself (tests/fuzz/fuzz_e2e.c): start loads path
 * and opens everything, 0 once ready, or -1 with the errors written and
 * nothing left open; stop frees everything start made.
 */
int	lifecycle_start(const char *path);
void	lifecycle_stop(void);

/*
 * Check the file at path like a reload would, print every error to stderr
 * or "configuration ok" to stdout. Returns the exit status (0 or 1).
 */
int	lifecycle_check(const char *path);

/* sluice's version (proxy/base/version.h), for the command line. */
const char *lifecycle_version(void);

#endif
