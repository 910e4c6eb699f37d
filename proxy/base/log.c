/*
 * log: error log and access log.
 *
 * Each log is a sink: off, a stdio stream, or a syslog socket. The access
 * log's stream is flushed once per event-loop turn that produced lines
 * (log_flush from the loop), so a burst of exchanges costs one write(2),
 * not one per line. Every worker thread writes through the same sinks
 * under one lock; each flushes from its own loop.
 *
 * syslog is written by hand to an AF_UNIX datagram socket (libc's
 * syslog(3) may block and is process-global): one datagram a line, sent
 * with MSG_DONTWAIT under the lock, so lines never interleave and the loop
 * never waits. A full socket buffer drops the line (counted); a socket
 * that is missing or whose reader went away is connected again at the
 * next line, at most once per LOG_SYSLOG_RETRY_MS. The format is the one
 * syslog(3) writes on a local socket, "<PRI>Mmm dd hh:mm:ss sluice[PID]:
 * MSG" (RFC 3164 without the host, which the local daemon adds): journald
 * and rsyslog's imuxsock both parse it, taking the identifier and the pid
 * from "sluice[PID]:", where journald would keep an RFC 5424 header as
 * part of the message.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy/base/log.h"
#include "proxy/base/runtime.h"

#define LOG_SYSLOG_RETRY_MS	1000	/* connect attempts: once a second */
#define LOG_DGRAM_MAX		8192	/* a syslog datagram; more is cut */

enum log_kind {
	LOG_KIND_OFF = 0,
	LOG_KIND_FILE,
	LOG_KIND_SYSLOG,
};

/* Where one log goes. */
struct log_sink {
	enum log_kind	 kind;
	FILE		*fp;		/* FILE: the stream */
	int		 fd;		/* SYSLOG: -1 while not connected */
	int		 facility;	/* SYSLOG */
	uint64_t	 retry_ms;	/* SYSLOG: no connect before */
	char		 path[CONF_SYSLOG_PATH_MAX]; /* SYSLOG: its socket */
};

static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_sink		 error_sink;	/* under mu */
static struct log_sink		 access_sink;	/* under mu */
static long			 log_pid;	/* under mu */
static int			 access_on;	/* atomic */
static uint64_t			 dropped[2];	/* atomic, by enum log_which */
static enum conf_log_level	 level = CONF_LOG_INFO;
static __thread int		 access_dirty;
static __thread struct event	*flush_ev;

static const char *level_names[] = { "error", "warn", "info", "debug" };
/* The syslog severity of each level: err, warning, info, debug. */
static const int level_severity[] = { 3, 4, 6, 7 };
#define LOG_SEVERITY_INFO	6	/* access lines */

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

/* See log.h. */
uint64_t
log_dropped(enum log_which w)
{
	return SLUICE_LOAD(&dropped[w]);
}

/*
 * Connect s to its socket, unless one attempt was made less than
 * LOG_SYSLOG_RETRY_MS ago. 0, or -1 (s->fd stays -1).
 */
static int
log_syslog_connect(struct log_sink *s)
{
	struct sockaddr_un	 sun;
	uint64_t		 now = sluice_now_ms();
	int			 fd;

	if (now < s->retry_ms)
		return -1;
	s->retry_ms = now + LOG_SYSLOG_RETRY_MS;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* Close a sink's stream or socket. */
static void
log_sink_close(struct log_sink *s)
{
	if (s->kind == LOG_KIND_FILE && s->fp != NULL) {
		fflush(s->fp);
		if (s->fp != stderr && s->fp != stdout)
			fclose(s->fp);
	}
	if (s->kind == LOG_KIND_SYSLOG && s->fd != -1)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/*
 * Open the sink value names: "-" is std, "off" (when off_ok) nothing, a
 * syslog target its socket (a missing one is a warning: it is connected
 * later), anything else a file for appending. 0, or -1 with a message on
 * stderr.
 */
static int
log_sink_open(struct log_sink *s, const char *value, FILE *std, int off_ok)
{
	const char	*path, *why;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (off_ok && strcmp(value, "off") == 0)
		return 0;
	switch (conf_syslog_parse(value, &s->facility, &path, &why)) {
	case -1:
		fprintf(stderr, "sluice: log %s: %s\n", value, why);
		return -1;
	case 0:
		s->kind = LOG_KIND_SYSLOG;
		snprintf(s->path, sizeof(s->path), "%s", path);
		if (log_syslog_connect(s) == -1)
			fprintf(stderr, "sluice: warning: syslog socket %s: "
			    "%s; retrying at most once a second\n", path,
			    strerror(errno));
		return 0;
	}
	s->kind = LOG_KIND_FILE;
	if (strcmp(value, "-") == 0) {
		s->fp = std;
		return 0;
	}
	/* "e": close-on-exec, or a binary upgrade inherits every log */
	if ((s->fp = fopen(value, "ae")) == NULL) {
		fprintf(stderr, "sluice: cannot open log %s: %s\n", value,
		    strerror(errno));
		return -1;
	}
	setvbuf(s->fp, NULL, _IOFBF, 64 * 1024);
	return 0;
}

/*
 * The syslog timestamp, "Mmm dd hh:mm:ss" in local time as syslog(3)
 * writes it, into buf[16]; formatted once a second per thread.
 */
static void
log_syslog_time(char *buf, size_t size)
{
	static __thread time_t	cached_sec = -1;
	static __thread char	cached[16];
	time_t			now = time(NULL);
	struct tm		tm;

	if (now != cached_sec) {
		localtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%b %e %H:%M:%S", &tm);
		cached_sec = now;
	}
	snprintf(buf, size, "%s", cached);
}

/*
 * Send one line as one datagram at severity sev, with mu held. A full
 * socket drops it; a socket gone is connected again (at most once per
 * LOG_SYSLOG_RETRY_MS) and the line sent once more. Drops are counted.
 */
static void
log_syslog_send(struct log_sink *s, enum log_which w, int sev,
    const char *msg, size_t len)
{
	char	 dgram[LOG_DGRAM_MAX], ts[16];
	int	 n;

	log_syslog_time(ts, sizeof(ts));
	n = snprintf(dgram, sizeof(dgram), "<%d>%s sluice[%ld]: ",
	    s->facility * 8 + sev, ts, log_pid);
	if (n < 0 || (size_t)n >= sizeof(dgram))
		return;
	if (len > sizeof(dgram) - (size_t)n)
		len = sizeof(dgram) - (size_t)n;
	memcpy(dgram + n, msg, len);
	len += (size_t)n;
	if (s->fd == -1 && log_syslog_connect(s) == -1)
		goto drop;
	if (send(s->fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1)
		return;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		goto drop;
	/* the reader went away (ECONNREFUSED, ENOTCONN): connect again */
	close(s->fd);
	s->fd = -1;
	if (log_syslog_connect(s) == 0 &&
	    send(s->fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1)
		return;
drop:
	SLUICE_INC(&dropped[w]);
}

/* log_close, with mu held. */
static void
log_close_locked(void)
{
	log_sink_close(&access_sink);
	log_sink_close(&error_sink);
	SLUICE_STORE(&access_on, 0);
	access_dirty = 0;
}

/* Open both logs; keep the old ones when either cannot be opened. */
int
log_open(const struct conf_global *g)
{
	struct log_sink	 es, as;

	if (log_sink_open(&es, g->error_log, stderr, 0) == -1)
		return -1;
	if (log_sink_open(&as, g->access_log, stdout, 1) == -1) {
		log_sink_close(&es);
		return -1;
	}
	pthread_mutex_lock(&mu);
	log_close_locked();
	error_sink = es;
	access_sink = as;
	log_pid = (long)getpid();
	SLUICE_STORE(&access_on, as.kind != LOG_KIND_OFF);
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

/*
 * Write one error-log line, flushed at once (errors are rare and urgent):
 * "TIME LEVEL: message" to a file, "LEVEL: message" to syslog (which
 * dates it and carries the level as the severity too).
 */
void
log_msg(enum conf_log_level l, const char *fmt, ...)
{
	FILE	*fp;
	char	 ts[40], msg[LOG_DGRAM_MAX];
	va_list	 ap;
	int	 n, m;

	if (!log_enabled(l))
		return;
	log_timestamp(ts, sizeof(ts));
	n = snprintf(msg, sizeof(msg), "%s: ", level_names[l]);
	va_start(ap, fmt);
	m = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n = (size_t)n + (size_t)m >= sizeof(msg) ? (int)sizeof(msg) - 1 :
	    n + m;
	pthread_mutex_lock(&mu);
	if (error_sink.kind == LOG_KIND_SYSLOG)
		log_syslog_send(&error_sink, LOG_ERROR, level_severity[l], msg,
		    (size_t)n);
	else {
		fp = error_sink.fp != NULL ? error_sink.fp : stderr;
		fprintf(fp, "%s %.*s\n", ts, n, msg);
		fflush(fp);
	}
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

/*
 * Queue one access-log line, which log_flush writes; to syslog, send it
 * (one datagram, severity info).
 */
void
log_access(const char *line, size_t len)
{
	int	 file;

	pthread_mutex_lock(&mu);
	file = access_sink.kind == LOG_KIND_FILE;
	if (file) {
		fwrite(line, 1, len, access_sink.fp);
		fputc('\n', access_sink.fp);
	} else if (access_sink.kind == LOG_KIND_SYSLOG)
		log_syslog_send(&access_sink, LOG_ACCESS, LOG_SEVERITY_INFO,
		    line, len);
	pthread_mutex_unlock(&mu);
	if (!file)
		return;
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
		if (access_sink.kind == LOG_KIND_FILE)
			fflush(access_sink.fp);
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
