/*
 * log: the error log (levels, one line per event) and the access log (one
 * line per exchange). Each is a file, a standard stream, or a syslog
 * socket (syslog:FACILITY[:PATH], one datagram a line, never blocking).
 */
#ifndef SLUICE_BASE_LOG_H
#define SLUICE_BASE_LOG_H

#include <stdint.h>

#include "conf/conf.h"

/*
 * Open the logs named in the global section ("-" is stderr for the error
 * log and stdout for the access log; "off" disables the access log;
 * syslog:FACILITY[:PATH] a datagram socket, /dev/log by default, whose
 * absence is only a warning on stderr: it is connected again later).
 * Returns 0, or -1 with a message on stderr; on failure the previous logs
 * stay open. Reopening (SIGUSR1, reload) connects syslog sockets anew.
 */
int	log_open(const struct conf_global *);

/* Flush and close both logs. */
void	log_close(void);

/* Change the level at which error-log lines are written. */
void	log_set_level(enum conf_log_level);

/* 1 when a message at this level would be written. */
int	log_enabled(enum conf_log_level);

/* Write one error-log line: "TIME LEVEL: message". */
void	log_msg(enum conf_log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(CONF_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(CONF_LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(CONF_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (log_enabled(CONF_LOG_DEBUG)) \
		log_msg(CONF_LOG_DEBUG, __VA_ARGS__); } while (0)

/*
 * A bound on one kind of error-log line that a client can cause again and
 * again: at most one line per LOG_LIMIT_MS. Zeroed, it lets the first one
 * through. Not locked: keep one per thread.
 */
#define LOG_LIMIT_MS	1000

struct log_limit {
	uint64_t	 next_ms;	/* no line before this time */
	unsigned long	 held;		/* lines held back since the last */
};

/*
 * At now_ms (monotonic): 1 when the line may be written, with *held set to
 * the number held back since the last one written (the count restarts);
 * 0 when this one is held back (it is counted).
 */
int	log_limit_pass(struct log_limit *, uint64_t now_ms,
	    unsigned long *held);

/*
 * Route libevent's own messages into the error log, with their levels and
 * at most one line a second per thread.
 */
void	log_capture_libevent(void);

/* 1 when the access log is on (skip formatting lines otherwise). */
int	log_access_enabled(void);

/* Write one access-log line (already formatted, without newline). */
void	log_access(const char *line, size_t len);

/* Which log, for log_dropped. */
enum log_which {
	LOG_ACCESS = 0,
	LOG_ERROR,
};

/*
 * Lines a syslog log dropped since start: its socket was full or gone
 * (sluice_log_dropped_total). Any thread.
 */
uint64_t	log_dropped(enum log_which);

struct event_base;

/* Flush access-log lines once per loop turn that wrote some. 0 or -1. */
int	log_attach(struct event_base *);

/* Flush and stop the deferred flush; call before freeing the base. */
void	log_detach(void);

/* Write pending access-log lines to the kernel. */
void	log_flush(void);

/* Format the wall-clock time as "2026-11-29T16:30:00.123Z" into buf[32]. */
void	log_timestamp(char *buf, size_t size);

#endif
