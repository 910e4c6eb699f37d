/*
 * itest: the harness of the integration tests. It runs the real sluice
 * binary and the test origin (tests/origin) as child processes on loopback
 * ephemeral ports, writes their configuration into a temporary directory and
 * talks HTTP/1.1 to them over raw blocking sockets.
 *
 * Every wait is bounded in time: the helpers that must succeed end the
 * running check test with a failure message when a bound passes. Children
 * get SIGKILL when the test process dies, so a failed test leaves nothing
 * running. Only 127.0.0.1 is used.
 *
 * This header does not include <check.h>: tests/origin.c includes it for
 * itest_pattern_fill() alone.
 */
#ifndef SLUICE_ITEST_H
#define SLUICE_ITEST_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* Default bound of one network wait (connect, send, one response), in ms. */
#define ITEST_IO_TIMEOUT_MS	10000
/* Bound of a process start (PORT line, "ready" in the error log), in ms. */
#define ITEST_START_TIMEOUT_MS	10000
/* Bound of a process exit after SIGTERM, in ms (sluice shutdown_timeout 5s
 * plus a margin). */
#define ITEST_STOP_TIMEOUT_MS	8000
#define ITEST_MAX_HEADERS	64
/* Step of a bounded wait that polls, in ms. */
#define ITEST_POLL_MS		10

/*
 * The deterministic body the origin sends for /bytes/N, /chunked/N,
 * /close/N and /drip/N: 16-byte records, each the record number (offset / 16)
 * in 15 hex digits and a newline, so a lost, repeated or shifted block shows.
 * buf receives the len bytes that start at offset off. Shared by the origin
 * and the tests so the two agree.
 */
static inline void
itest_pattern_fill(unsigned char *buf, uint64_t off, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 at;
	unsigned		 col;
	size_t			 i;

	for (i = 0; i < len; i++) {
		at = off + i;
		col = (unsigned)(at % 16);
		if (col == 15)
			buf[i] = '\n';
		else
			buf[i] = (unsigned char)hex[((at / 16) >>
			    (4 * (14 - col))) & 0xf];
	}
}

/* A running child process. */
struct itest_proc {
	pid_t		 pid;		/* 0 when not running */
	int		 port;		/* the port it listens on */
	int		 exited;	/* reaped by itest_proc_alive() */
	int		 status;	/* its exit status then */
	char		 name[32];
};

/* Origins one test may run. */
#define ITEST_ORIGINS		3

/*
 * One test's world: a temporary directory holding the config and logs, up
 * to ITEST_ORIGINS origins and one sluice.
 */
struct itest {
	char			 dir[128];
	char			 conf[192];
	char			 access_log[192];
	char			 error_log[192];
	char			 sluice_out[192];	/* its stdout+stderr */
	char			 origin_log[ITEST_ORIGINS][192];
	struct itest_proc	 origin[ITEST_ORIGINS];
	struct itest_proc	 sluice;
	const char		*asan_extra;	/* appended to sluice's
						 * ASAN_OPTIONS, or NULL */
	const char		*binary;	/* the sluice to launch, set
						 * after itest_init: NULL is
						 * ./sluice */
};

/* sluice with fault points set from the environment (proxy/fault.h,
 * tests/fault_env.c), for struct itest's binary. */
#define ITEST_SLUICE_FAULTS	"./tests/sluice-faults"

/* A parsed response (one final response; 1xx heads are skipped). */
struct itest_resp {
	int		 status;	/* -1: nothing or garbage arrived */
	int		 minor;		/* HTTP/1.minor */
	int		 ninterim;	/* 1xx heads skipped before it */
	char		*head;		/* the raw head, NUL added */
	char		*hcopy;		/* names and values point here */
	size_t		 nheaders;
	char		*names[ITEST_MAX_HEADERS];
	char		*values[ITEST_MAX_HEADERS];
	unsigned char	*body;		/* NUL added for convenience */
	size_t		 bodylen;
	int		 framing;	/* 'L' length, 'C' chunked, 'E' EOF,
					 * 'N' no body */
	int		 complete;	/* the body arrived whole */
	int		 eof;		/* the peer closed */
	int		 reset;		/* ECONNRESET */
	int		 timeout;	/* a wait passed its bound */
};

/* A client connection with its read buffer (bytes past one response). */
struct itest_conn {
	int		 fd;
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
};

/* Called once by main() before the suite runs: makes the parent temporary
 * directory that every test's directory goes in. */
void	itest_global_init(void);
/* Called once by main() after the suite: removes that directory unless the
 * environment has ITEST_KEEP set. */
void	itest_global_done(void);

/* Monotonic clock in seconds. */
double	itest_now(void);

/* Make t's directory and file names; start nothing. Fails the test on
 * error. */
void	itest_init(struct itest *t);

/* Start origin number i (below ITEST_ORIGINS) named name, logging requests to
 * t->origin_log[i]. Fails the test when it does not print its port in time. */
void	itest_origin_start(struct itest *t, int i, const char *name);

/* The port sluice listens on: picked (free) on the first call. Call it
 * before itest_sluice_start() to put the port in the config text. */
int	itest_sluice_port(struct itest *t);

/*
 * Start sluice with a config made of a [global] section (logs in t->dir,
 * log_level info, shutdown_timeout 5s) followed by the printf-formatted
 * rest. The arguments are evaluated before the call, so a config that
 * names the listening port passes itest_sluice_port(t). Waits for
 * "info: ready" in the error log; fails the test with the log's tail when
 * sluice exits or the bound passes.
 */
void	itest_sluice_start(struct itest *t, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Write t->conf as itest_sluice_start() does, without starting anything:
 * the [global] section (logs in t->dir, log_level info), then the global
 * lines (NULL: "shutdown_timeout = 5s\n"), then the printf-formatted rest.
 * Use it to start with other global settings and to rewrite the file
 * before a reload.
 */
void	itest_sluice_config(struct itest *t, const char *global,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Start sluice on t->conf as written and wait for "info: ready", failing
 * the test as itest_sluice_start() does. */
void	itest_sluice_launch(struct itest *t);

/*
 * Start sluice with one listener "web" on t->sluice.port whose default
 * upstream "app" has origin 0 as server "a", and the given upstream
 * timeouts in seconds.
 */
void	itest_sluice_simple(struct itest *t, int connect_s, int read_s,
	    int write_s);

/* Stop everything t started (SIGTERM, bounded reap) and fail the test
 * unless every process exited with status 0. Removes nothing. */
void	itest_finish(struct itest *t);

/* Wait up to timeout_ms for p to exit by itself; past it kill -9 and
 * return -2. Returns the exit status, 128+signal when signalled, -1 if not
 * running. */
int	itest_proc_wait(struct itest_proc *p, int timeout_ms);

/*
 * Send sig to p and wait up to timeout_ms until path holds one more
 * occurrence of needle than it did before the signal. Returns 1, or 0 when
 * the bound passed.
 */
int	itest_signal_wait(struct itest_proc *p, int sig, const char *path,
	    const char *needle, int timeout_ms);

/* Send SIGTERM and reap within timeout_ms; past it kill -9 and return -2.
 * Returns the exit status, 128+signal when signalled, -1 if not running. */
int	itest_proc_stop(struct itest_proc *p, int timeout_ms);

/* 1 while the process has not exited (it is reaped if it has). */
int	itest_proc_alive(struct itest_proc *p);

/* A loopback port that was free a moment ago (bind port 0, read, close). */
int	itest_free_port(void);

/* Write text to path (truncating). Fails the test on error. */
void	itest_write_file(const char *path, const char *text);

/* The whole file in a malloc'd NUL-terminated string ("" when absent);
 * *len gets its length when len is not NULL. The caller frees. */
char	*itest_read_file(const char *path, size_t *len);

/* Wait up to timeout_ms until path contains needle. Returns 1 or 0 (see
 * itest_wait_log() for one that fails the test). */
int	itest_wait_file(const char *path, const char *needle,
	    int timeout_ms);

/* The last bytes (at most 1500) of path, for failure messages, in a
 * static buffer that the next call overwrites. */
const char *itest_file_tail(const char *path);

/*
 * The termination code (TERM) of an access-log line: the field before the
 * last two, the exchange's id and the request ID. Copied into buf; "" when
 * the line has fewer fields.
 */
const char *itest_access_term(const char *line, char *buf, size_t len);

/* Number of occurrences of needle in path. */
int	itest_count_file(const char *path, const char *needle);

/* Number of lines in path. */
int	itest_count_lines(const char *path);

/* VmRSS of pid in KiB, -1 if unknown. */
long	itest_rss_kb(pid_t pid);

/* CPU seconds (user + system) process pid has used, -1 if unknown. */
double	itest_cpu_s(pid_t pid);

/* SHA-256 of buf as 64 lowercase hex digits and a NUL in out[65]. */
void	itest_sha256_hex(const void *buf, size_t len, char out[65]);

/* Run argv (argv[0] a path), capturing stdout and stderr together into a
 * malloc'd string *out. Returns the exit status, -2 on timeout. */
int	itest_run(char *const argv[], char **out, int timeout_ms);

/* Connect to 127.0.0.1:port within timeout_ms. Fails the test on error. */
void	itest_connect(struct itest_conn *c, int port, int timeout_ms);

/* Connect, returning -1 with errno set instead of failing the test. */
int	itest_connect_try(struct itest_conn *c, int port, int timeout_ms);

/* Close the connection and free its buffer. */
void	itest_close(struct itest_conn *c);

/* Send len bytes within timeout_ms. Returns 0, or -1 (peer gone, timeout). */
int	itest_send(struct itest_conn *c, const void *buf, size_t len,
	    int timeout_ms);

/* Send a NUL-terminated string; fails the test when it cannot. */
void	itest_send_str(struct itest_conn *c, const char *s);

/*
 * Read one response from c within timeout_ms (the whole response, not per
 * read). head_request: the request was HEAD, so no body follows. Bytes after
 * the response stay in c's buffer for the next call. Fills *r (free it with
 * itest_resp_free). Returns 0 when a complete response arrived, else -1 with
 * r->status, eof, reset and timeout telling what happened.
 */
int	itest_read_response(struct itest_conn *c, struct itest_resp *r,
	    int head_request, int timeout_ms);

/* Read one response head only (the body stays unread). Returns 0 or -1. */
int	itest_read_head(struct itest_conn *c, struct itest_resp *r,
	    int timeout_ms);

/* Read up to len bytes (whatever is buffered first) within timeout_ms.
 * Returns the count, 0 on EOF, -1 on error or timeout. */
ssize_t	itest_read_some(struct itest_conn *c, void *buf, size_t len,
	    int timeout_ms);

/* Wait up to timeout_ms for EOF or a reset. Returns 1 for EOF or reset,
 * 0 when bytes arrived instead, -1 on timeout. */
int	itest_wait_closed(struct itest_conn *c, int timeout_ms);

/* Free what *r holds and zero it. */
void	itest_resp_free(struct itest_resp *r);

/* The first value of header name (case-insensitive), NULL when absent. */
const char *itest_resp_header(const struct itest_resp *r, const char *name);

/* How many header lines are called name (case-insensitive). */
int	itest_resp_header_count(const struct itest_resp *r,
	    const char *name);

/*
 * One request on a new connection to port: send req (a NUL-terminated raw
 * request), read the response into *r. Fails the test if it cannot connect
 * or send; the response outcome is in the return value as for
 * itest_read_response.
 */
int	itest_request(int port, const char *req, struct itest_resp *r);

/*
 * GET (itest_get) or POST with an empty body (itest_post) path on a new
 * connection to 127.0.0.1:port, with Connection: close. Fails the test if
 * it cannot connect or send; returns as itest_read_response.
 */
int	itest_get(int port, const char *path, struct itest_resp *r);
int	itest_post(int port, const char *path, struct itest_resp *r);

/* The body of GET /status on the admin port, malloc'd; fails the test
 * unless a complete 200 arrives. The caller frees. */
char	*itest_admin_status(int port);

/* The integer after the first "key": at or after json; LLONG_MIN when the
 * key is absent or json is NULL. */
long long itest_json_int(const char *json, const char *key);

/*
 * The load client (tests/loadgen) as a child process. Its files are in
 * t->dir: summary (stdout, "key=value" lines), notes (stderr) and requests
 * (-o: "START_MS END_MS CONN METHOD STATUS ORIGIN OUTCOME", the times in
 * ms since its own start, which lies between spawned and started).
 */
struct itest_load {
	struct itest_proc	 proc;
	char			 summary[192];
	char			 notes[192];
	char			 requests[192];
	double			 spawned;	/* itest_now() before fork */
	double			 started;	/* when "started" was seen */
};

/*
 * Start tests/loadgen against 127.0.0.1:port with the printf-formatted
 * options (split at spaces; -o is added), its files named after name.
 * Waits for "loadgen: started"; fails the test when it exits first or the
 * start bound passes.
 */
void	itest_load_start(struct itest *t, struct itest_load *l,
	    const char *name, int port, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Stop the load client (SIGTERM: it finishes the requests in flight and
 * prints its summary) and reap it within timeout_ms. Returns its status,
 * -2 when it had to be killed. */
int	itest_load_stop(struct itest_load *l, int timeout_ms);

/* A value of the load client's summary, -1 when the key is absent. */
long long itest_load_value(const struct itest_load *l, const char *key);

/* Fill buf with len pseudo-random bytes from seed (xorshift64). */
void	itest_random_fill(unsigned char *buf, size_t len, uint64_t seed);

/*
 * Start origin number i (below ITEST_ORIGINS) named name as
 * itest_origin_start() does,
 * with the printf-formatted extra options of tests/origin (split at
 * spaces, e.g. "-p 4242 -k 1000 -K"). Restarting a killed origin on its
 * port: pass "-p PORT"; the log file is appended to.
 */
void	itest_origin_start_opts(struct itest *t, int i, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * method path on a new connection to 127.0.0.1:port with Connection:
 * close, a Content-Length of 0 for POST, and "Authorization: Bearer token"
 * when token is not NULL. Fails the test if it cannot connect or send;
 * returns as itest_read_response.
 */
int	itest_admin_request(int port, const char *method, const char *path,
	    const char *token, struct itest_resp *r);

/* The string value of the first "key": at or after json, copied into buf
 * as is (no unescaping: enough for names and states); 0, or -1 when the
 * key is absent or json is NULL. */
int	itest_json_str(const char *json, const char *key, char *buf,
	    size_t len);


/* Response headers the load client records (loadgen -H), at most. */
#define ITEST_REQ_VALUES	4

/* One line of the load client's -o file. */
struct itest_req {
	double		 start;		/* ms since the client started */
	double		 end;
	char		 conn[24];	/* the TCP connection's number, "-" */
	char		 method[8];
	int		 status;	/* 0 when none arrived */
	char		 origin[32];
	char		 outcome[32];
	int		 nvalues;	/* fields after OUTCOME (-H) */
	char		 value[ITEST_REQ_VALUES][400];	/* "-": absent */
};

/* Parse one -o line, with the values of loadgen -H after OUTCOME (up to
 * ITEST_REQ_VALUES); 0, or -1 when it is not one. */
int	itest_req_parse(const char *line, struct itest_req *);

/* 1 when the request got a complete 2xx. */
int	itest_req_ok(const struct itest_req *);

/* The earliest and the latest itest_now() a load-client time ms can be. */
double	itest_load_earliest(const struct itest_load *, double ms);
double	itest_load_latest(const struct itest_load *, double ms);

/* Describe q in buf (a failure, for the messages). */
void	itest_req_describe(const struct itest_req *, char *buf, size_t len);

/* Call fn on each request of l's -o file; returns the count. */
int	itest_reqs_each(const struct itest_load *,
	    void (*fn)(const struct itest_load *, const struct itest_req *,
	    void *), void *arg);


/*
 * Files and logs. Counts read the whole file at the moment of the call;
 * the waits poll it every ITEST_POLL_MS up to their bound.
 */

/* A pause that is part of a scenario (load runs meanwhile), never a wait
 * for something to happen: use a bounded wait for that. */
void	itest_pause(int ms);

/* Wait up to timeout_ms until path contains needle; fails the test with
 * the file's tail past the bound. Returns the itest_now() it was seen. */
double	itest_wait_log(const char *path, const char *needle, int timeout_ms);

/* Wait up to timeout_ms until path holds needle at least n times; returns
 * the count then (below n when the bound passed). */
int	itest_wait_count(const char *path, const char *needle, int n,
	    int timeout_ms);

/* Wait up to timeout_ms until path has at least n lines; 1, or 0 when the
 * bound passed. */
int	itest_wait_lines(const char *path, int n, int timeout_ms);

/* Lines of path holding a and, unless b is NULL, b too. */
int	itest_lines_with(const char *path, const char *a, const char *b);

/* The same count; term gets the termination code of the first such
 * access-log line (itest_access_term), "" when there is none. */
int	itest_lines_term(const char *path, const char *a, const char *b,
	    char *term, size_t len);

/* Wait up to timeout_ms until path has at least n lines holding a and b
 * (b may be NULL); returns the count then. */
int	itest_wait_lines_with(const char *path, const char *a, const char *b,
	    int n, int timeout_ms);

/* Lines of an access log (path), among those holding needle (NULL: all),
 * whose termination code (itest_access_term) is not "ok"; the first
 * of them goes to first when it is not NULL. */
int	itest_lines_not_ok(const char *path, const char *needle, char *first,
	    size_t len);

/* The number of the first line of path holding needle, 0 when none. */
int	itest_line_of(const char *path, const char *needle);

/*
 * The admin endpoint (port) and its /status document. A server is found
 * by its name: what follows is its object, {"name":"N","address":...}.
 */

/* method path with "Authorization: Bearer token" unless token is NULL;
 * the status (-1: no response). */
int	itest_admin_code(int port, const char *method, const char *path,
	    const char *token);

/* POST path with token (NULL: none); fails the test unless a complete 200
 * arrives. The body, malloc'd: the caller frees. */
char	*itest_admin_post(int port, const char *path, const char *token);

/* POST /reload with token (NULL: none) to sluice serving generation gen;
 * fails the test unless it answers 200 with generation gen + 1, which it
 * returns. */
long long itest_admin_reload(int port, const char *token, long long gen);

/* SIGHUP t's sluice and wait up to timeout_ms for one more needle in its
 * error log ("reload: generation 2 in ", "reload failed"); fails the test
 * with the log's tail past the bound. */
void	itest_sluice_hup(struct itest *t, const char *needle, int timeout_ms);

/* Where server name's object begins in a /status document, or NULL (json
 * NULL, or no such server). */
const char *itest_status_server(const char *json, const char *name);

/* The integer key of server name in json, or of the document when name is
 * NULL (its first "key"); LLONG_MIN when absent. */
long long itest_status_int(const char *json, const char *name,
	    const char *key);

/* The string key of server name (NULL: of the document) in json into buf
 * ("" when absent); returns buf. */
const char *itest_status_str(const char *json, const char *name,
	    const char *key, char *buf, size_t len);

/* itest_status_int() of a fresh GET /status on port. */
long long itest_admin_status_int(int port, const char *name,
	    const char *key);

/* itest_status_str() of a fresh GET /status on port. */
const char *itest_admin_status_str(int port, const char *name,
	    const char *key, char *buf, size_t len);

/*
 * Wait up to timeout_ms until the integer key of server name (NULL: of
 * the document) in /status on port is want: 1, or 0 when the bound passed.
 * *last (when not NULL) gets the value read last.
 */
int	itest_wait_status_int(int port, const char *name, const char *key,
	    long long want, int timeout_ms, long long *last);

/* Wait up to timeout_ms until server name is no longer listed in /status
 * on port: 1, or 0 when the bound passed. */
int	itest_wait_server_gone(int port, const char *name, int timeout_ms);

/* Fail the test unless every request the load client sent got a complete
 * 2xx (sent > 0, failed 0, ok and s2xx equal to sent), with its summary
 * and notes; what names the load in the message. */
void	itest_load_assert_clean(const struct itest_load *l, const char *what);

/* The shell functions that make test certificates with the openssl
 * command (ec, ca, leaf, dated: see the script), from the top of the tree,
 * where the runners run. */
#define ITEST_CERTS_SH		"tests/certs.sh"

/*
 * Make test certificates for the runner who: a new directory
 * /tmp/WHO.XXXXXX, whose name goes to dir (len bytes), in which script runs
 * with sh -e once ITEST_CERTS_SH is sourced (its output goes to gen.log
 * there). Exits the runner with a message when the openssl command is
 * missing or the script fails: for unchecked fixtures, which run in the
 * runner's process before the tests.
 */
void	itest_certs_make(const char *who, const char *script, char *dir,
	    size_t len);

/* Remove a directory of itest_certs_make() and the keys in it, unless the
 * environment has ITEST_KEEP set. */
void	itest_certs_remove(const char *who, const char *dir);

#endif
