/*
 * process: the process state, in one struct (see process.c). The control
 * plane's modules (lifecycle, reload, shutdown) share it; nothing outside
 * ctl/ includes this header.
 */
#ifndef SLUICE_CTL_PROCESS_H
#define SLUICE_CTL_PROCESS_H

#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "proxy/front/listener.h"

struct admin;
struct event;
struct gen;

/* Where the process is in its life. */
enum process_state {
	PROCESS_RUNNING = 0,
	PROCESS_NOTICE,		/* still accepting; /readyz says 503 */
	PROCESS_DRAINING,	/* not accepting; in-flight finishing */
	PROCESS_STOPPING,	/* leaving the loop */
};

struct process {
	const char		*conf_path;
	struct gen		*current;	/* referenced */
	uint64_t		 gen_id;
	struct listener_list	 listeners;	/* serving */
	struct listener_list	 retired;	/* removed by a reload, with
						 * client connections left */
	enum process_state	 state;		/* atomic: workers read */
	unsigned		 nretired;	/* atomic: workers read */
	struct event		*sig_ev[8];
	struct event		*stop_ev;	/* shutdown_timeout */
	struct event		*check_ev;	/* "is the drain over?" */
	struct event		*notice_ev;	/* drain_notice */
	struct event		*retire_ev;	/* free retired listeners */
	struct event		*tickets_ev;	/* tls_ticket_rotation */
	uint64_t		 tickets_ms;	/* its period; 0: not armed */
	uint64_t		 drain_start_ms;
	uint64_t		 drain_finished;	/* exchange totals */
	uint64_t		 drain_killed;		/* at the signal */
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
	time_t			 last_reload;
	int			 last_reload_ok;
	char			*last_reload_errors;
	struct admin		*admin;		/* NULL: none */
	char			 conf_error_log[512];
};

extern struct process	process;

/* The state's name for /status and /metrics. */
const char	*process_state_name(enum process_state);

/* Change the state; logs old -> new at debug level. */
void		 process_set_state(enum process_state);

/* Log every line of a multi-line error text at error level. */
void		 process_log_lines(const char *prefix, const char *text);

/* Tell systemd we are ready, with the generation and the load. */
void		 process_notify_status(void);

/* Write (create) or remove (ours only) the pid file; path NULL: none. */
void		 process_pid_file(const char *path, int create);

/* What /status and /readyz report (the admin endpoint's hook). */
struct admin_info;
void		 process_admin_info(struct admin_info *);

/* How many workers conf asks for: auto is one per CPU. */
unsigned	 process_workers(const struct conf *conf);

#endif
