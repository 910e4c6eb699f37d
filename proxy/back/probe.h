/*
 * probe: active health checks. Every health_interval each server of an
 * upstream with health_check gets "GET PATH" on a fresh connection (TLS
 * when the upstream uses it), bounded by health_timeout; a status within
 * health_status passes.
 */
#ifndef SLUICE_BACK_PROBE_H
#define SLUICE_BACK_PROBE_H

struct server;

/* Start (or keep) checking s per its settings; stop when it has none. */
void	probe_schedule(struct server *s);

/* Stop checking s and abandon a check in progress. */
void	probe_stop(struct server *s);

#endif
