/*
 * log: error log and access log.
 *
 * The access log is written with stdio and flushed once per event-loop
 * turn that produced lines (log_flush from the loop), so a burst of
 * exchanges costs one write(2), not one per line. Every worker thread
 * writes through the same streams under one lock; each flushes from its
 * own loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "proxy/base/log.h"
#include "proxy/base/runtime.h"

static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
static FILE			*error_fp;	/* under mu */
static FILE			*access_fp;	/* under mu */
static int			 access_on;	/* atomic */
static enum conf_log_level	 level = CONF_LOG_INFO;
static __thread int		 access_dirty;
static __thread struct event	*flush_ev;

static const char *level_names[] = { "error", "warn", "info", "debug" };

/*
 * Format the current UTC time with milliseconds. The part up to the
 * seconds is formatted once per second and reused (one line per exchange
 * would otherwise cost a strftime each).
 */
void
log_timestamp(char *buf, size_t size)
{
	static __thread time_t	cached_sec = -1;
	static __thread char	cached[32];
	struct timeval	 tv;
	struct tm	 tm;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != cached_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = tv.tv_sec;
	}
	snprintf(buf, size, "%s.%03dZ", cached, (int)(tv.tv_usec / 1000));
}

/* 1 when access-log lines are written. */
int
log_access_enabled(void)
{
	return SLUICE_LOAD(&access_on);
}

/* Open path for appending, or return the given standard stream for "-". */
static FILE *
log_open_one(const char *path, FILE *std)
{
	FILE	*fp;

	if (strcmp(path, "-") == 0)
		return std;
	/* "e": close-on-exec, or a binary upgrade inherits every log */
	if ((fp = fopen(path, "ae")) == NULL) {
		fprintf(stderr, "sluice: cannot open log %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	setvbuf(fp, NULL, _IOFBF, 64 * 1024);
	return fp;
}

/* Close a log stream unless it is a standard stream. */
static void
log_close_one(FILE *fp)
{
	if (fp == NULL)
		return;
	fflush(fp);
	if (fp != stderr && fp != stdout)
		fclose(fp);
}

/* log_close, with mu held. */
static void
log_close_locked(void)
{
	log_close_one(access_fp);
	if (error_fp != stderr)
		log_close_one(error_fp);
	access_fp = NULL;
	error_fp = NULL;
	SLUICE_STORE(&access_on, 0);
	access_dirty = 0;
}

/* Open both logs; keep the old ones when either cannot be opened. */
int
log_open(const struct conf_global *g)
{
	FILE	*efp, *afp = NULL;

	if ((efp = log_open_one(g->error_log, stderr)) == NULL)
		return -1;
	if (strcmp(g->access_log, "off") != 0 &&
	    (afp = log_open_one(g->access_log, stdout)) == NULL) {
		if (efp != stderr)
			fclose(efp);
		return -1;
	}
	pthread_mutex_lock(&mu);
	log_close_locked();
	error_fp = efp;
	access_fp = afp;
	SLUICE_STORE(&access_on, afp != NULL);
	SLUICE_STORE(&level, g->log_level);
	pthread_mutex_unlock(&mu);
	return 0;
}

/* Flush and close both logs. */
void
log_close(void)
{
	pthread_mutex_lock(&mu);
	log_close_locked();
	pthread_mutex_unlock(&mu);
}

/* Set the error-log level. */
void
log_set_level(enum conf_log_level l)
{
	SLUICE_STORE(&level, l);
}

/* 1 when lines at l are written. */
int
log_enabled(enum conf_log_level l)
{
	return l <= SLUICE_LOAD(&level);
}

/* Write one error-log line, flushed at once (errors are rare and urgent). */
void
log_msg(enum conf_log_level l, const char *fmt, ...)
{
	FILE	*fp;
	char	 ts[40];
	va_list	 ap;

	if (!log_enabled(l))
		return;
	log_timestamp(ts, sizeof(ts));
	pthread_mutex_lock(&mu);
	fp = error_fp != NULL ? error_fp : stderr;
	fprintf(fp, "%s %s: ", ts, level_names[l]);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	fflush(fp);
	pthread_mutex_unlock(&mu);
}

/* See log.h. */
int
log_limit_pass(struct log_limit *ll, uint64_t now_ms, unsigned long *held)
{
	if (now_ms < ll->next_ms) {
		ll->held++;
		return 0;
	}
	*held = ll->held;
	ll->held = 0;
	ll->next_ms = now_ms + LOG_LIMIT_MS;
	return 1;
}

/*
 * libevent's own messages (a failed accept, a bad descriptor): into the
 * error log at their level, at most one line a second per thread with a
 * count of those held back, since a condition that fails once per loop
 * turn would otherwise write thousands of lines a second.
 */
static void
log_libevent(int severity, const char *msg)
{
	static __thread struct log_limit	 lim;
	enum conf_log_level			 l;
	unsigned long				 held;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		l = CONF_LOG_DEBUG;
		break;
	case EVENT_LOG_MSG:
		l = CONF_LOG_INFO;
		break;
	case EVENT_LOG_WARN:
		l = CONF_LOG_WARN;
		break;
	default:
		l = CONF_LOG_ERROR;
		break;
	}
	if (!log_enabled(l) || !log_limit_pass(&lim, sluice_now_ms(), &held))
		return;
	if (held > 0)
		log_msg(l, "libevent: %s (%lu more since the last line)", msg,
		    held);
	else
		log_msg(l, "libevent: %s", msg);
}

/* See log.h. */
void
log_capture_libevent(void)
{
	event_set_log_callback(log_libevent);
}

/* Queue one access-log line; log_flush writes it. */
void
log_access(const char *line, size_t len)
{
	pthread_mutex_lock(&mu);
	if (access_fp != NULL) {
		fwrite(line, 1, len, access_fp);
		fputc('\n', access_fp);
	}
	pthread_mutex_unlock(&mu);
	if (!access_dirty && flush_ev != NULL)
		event_active(flush_ev, EV_TIMEOUT, 0);
	access_dirty = 1;
}

/* Write queued access-log lines. */
void
log_flush(void)
{
	if (access_dirty) {
		pthread_mutex_lock(&mu);
		if (access_fp != NULL)
			fflush(access_fp);
		pthread_mutex_unlock(&mu);
	}
	access_dirty = 0;
}

/* The deferred flush: runs once per loop turn that wrote lines. */
static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	log_flush();
}

/* Flush the access log from the loop, once per turn that wrote lines. */
int
log_attach(struct event_base *base)
{
	if (flush_ev == NULL &&
	    (flush_ev = event_new(base, -1, 0, log_flush_cb, NULL)) == NULL)
		return -1;
	return 0;
}

/* Stop deferred flushing (before the base is freed). */
void
log_detach(void)
{
	log_flush();
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
}
