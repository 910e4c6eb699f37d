/*
 * itest: processes, files and a raw HTTP/1.1 client for the integration
 * tests. See itest.h for the contracts.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>

#include "tests/itest.h"

#define ITEST_ORIGIN	"./tests/origin"
#define ITEST_SLUICE	"./sluice"
#define ITEST_LOADGEN	"./tests/loadgen"

/* The directory every test's directory goes in (made by main()). */
static char	itest_root[64];

/* Incremental state of a chunked body being decoded. */
struct itest_chunked {
	int		 phase;	/* 0 size, 1 data, 2 data CRLF,
				 * 3 trailers, 4 done */
	size_t		 left;
};

/* Monotonic clock in seconds. */
double
itest_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until deadline (an itest_now() value), at least 0. */
static int
itest_left_ms(double deadline)
{
	double	 left = (deadline - itest_now()) * 1000.0;

	return left <= 0 ? 0 : (int)left + 1;
}

/* Make the parent temporary directory. */
void
itest_global_init(void)
{
	snprintf(itest_root, sizeof(itest_root), "/tmp/sluice-itest.XXXXXX");
	if (mkdtemp(itest_root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* nftw callback removing one entry. */
static int
itest_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

/* Remove the parent temporary directory unless ITEST_KEEP is set. */
void
itest_global_done(void)
{
	if (getenv("ITEST_KEEP") != NULL) {
		fprintf(stderr, "itest: kept %s\n", itest_root);
		return;
	}
	nftw(itest_root, itest_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make t's directory and the names of its files. */
void
itest_init(struct itest *t)
{
	int	i;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/t%ld", itest_root,
	    (long)getpid());
	ck_assert_msg(mkdir(t->dir, 0700) == 0, "mkdir %s: %s", t->dir,
	    strerror(errno));
	snprintf(t->conf, sizeof(t->conf), "%s/sluice.ini", t->dir);
	snprintf(t->access_log, sizeof(t->access_log), "%s/access.log",
	    t->dir);
	snprintf(t->error_log, sizeof(t->error_log), "%s/error.log", t->dir);
	snprintf(t->sluice_out, sizeof(t->sluice_out), "%s/sluice.out",
	    t->dir);
	for (i = 0; i < ITEST_ORIGINS; i++)
		snprintf(t->origin_log[i], sizeof(t->origin_log[i]),
		    "%s/origin%d.log", t->dir, i);
}

/*
 * In a freshly forked child: die with the test process, so that a failed
 * test (which _exits) leaves nothing running.
 */
static void
itest_child_setup(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
}

/* Append extra to the ASAN_OPTIONS of this (child) process. */
static void
itest_asan_extend(const char *extra)
{
	const char	*cur = getenv("ASAN_OPTIONS");
	char		 opts[1024];

	snprintf(opts, sizeof(opts), "%s%s%s", cur != NULL ? cur : "",
	    cur != NULL && *cur != '\0' ? ":" : "", extra);
	setenv("ASAN_OPTIONS", opts, 1);
}

/*
 * Fork and exec argv with stdout on outfd and stderr on errfd (-1: keep),
 * asan_extra (or NULL) appended to ASAN_OPTIONS.
 */
static pid_t
itest_spawn(char *const argv[], int outfd, int errfd, const char *asan_extra)
{
	pid_t	 parent = getpid(), pid;

	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	itest_child_setup(parent);
	if (outfd != -1 && dup2(outfd, STDOUT_FILENO) == -1)
		_exit(127);
	if (errfd != -1 && dup2(errfd, STDERR_FILENO) == -1)
		_exit(127);
	if (asan_extra != NULL)
		itest_asan_extend(asan_extra);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Read "PORT <n>\n" from fd within the start bound; -1 if it fails. */
static int
itest_read_port(int fd)
{
	char		 buf[64];
	size_t		 len = 0;
	double		 deadline;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 n;
	int		 port;

	deadline = itest_now() + ITEST_START_TIMEOUT_MS / 1e3;
	while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL) {
		if (poll(&pfd, 1, itest_left_ms(deadline)) <= 0)
			return -1;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "PORT %d\n", &port) != 1)
		return -1;
	return port;
}

/* Start origin i and read its port. */
void
itest_origin_start(struct itest *t, int i, const char *name)
{
	struct itest_proc	*p = &t->origin[i];
	char			*argv[] = { (char *)(uintptr_t)ITEST_ORIGIN,
				    (char *)(uintptr_t)"-n",
				    (char *)(uintptr_t)name,
				    (char *)(uintptr_t)"-l", t->origin_log[i],
				    NULL };
	int			 fds[2];

	ck_assert_msg(access(ITEST_ORIGIN, X_OK) == 0,
	    "%s missing: run `make tests` and run from the top of the tree",
	    ITEST_ORIGIN);
	ck_assert_msg(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	snprintf(p->name, sizeof(p->name), "origin %s", name);
	p->pid = itest_spawn(argv, fds[1], -1, NULL);
	close(fds[1]);
	p->port = itest_read_port(fds[0]);
	close(fds[0]);
	ck_assert_msg(p->port > 0, "origin %s printed no port within %d ms",
	    name, ITEST_START_TIMEOUT_MS);
}

/* Write text to path, truncating it. */
void
itest_write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_msg(fclose(f) == 0, "write %s: %s", path, strerror(errno));
}

/* The whole file, "" when absent. */
char *
itest_read_file(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "r");
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	buf = malloc(1);
	ck_assert(buf != NULL);
	while (f != NULL) {
		if (cap - len < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			ck_assert(buf != NULL);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (f != NULL)
		fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

/* 1 when path contains needle right now. */
static int
itest_file_has(const char *path, const char *needle)
{
	char	*s = itest_read_file(path, NULL);
	int	 found = strstr(s, needle) != NULL;

	free(s);
	return found;
}

/* Wait up to timeout_ms until path contains needle. */
int
itest_wait_file(const char *path, const char *needle, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;

	for (;;) {
		if (itest_file_has(path, needle))
			return 1;
		if (itest_now() >= deadline)
			return 0;
		poll(NULL, 0, ITEST_POLL_MS);
	}
}

/* Number of newline characters in path. */
int
itest_count_lines(const char *path)
{
	char	*s = itest_read_file(path, NULL), *p;
	int	 n = 0;

	for (p = s; *p != '\0'; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* Occurrences of needle in path. */
int
itest_count_file(const char *path, const char *needle)
{
	char		*s = itest_read_file(path, NULL);
	const char	*p = s;
	int		 n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	free(s);
	return n;
}

/* A loopback port that was free a moment ago. */
int
itest_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "bind: %s", strerror(errno));
	ck_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Exit status of a waitpid() status, 128+signal when signalled. */
static int
itest_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Reap pid within timeout_ms; past it kill -9, reap, and return -2. */
static int
itest_reap(pid_t pid, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	pid_t	 r;
	int	 st;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return itest_status(st);
		if (r == -1)
			return -1;
		if (itest_now() >= deadline)
			break;
		poll(NULL, 0, 5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -2;
}

/* 1 while the process runs; once it ended, reaps it and keeps its status. */
int
itest_proc_alive(struct itest_proc *p)
{
	int	 st;

	if (p->pid <= 0)
		return 0;
	if (waitpid(p->pid, &st, WNOHANG) != p->pid)
		return 1;
	p->exited = 1;
	p->status = itest_status(st);
	p->pid = 0;
	return 0;
}

/* SIGTERM and a bounded reap. */
int
itest_proc_stop(struct itest_proc *p, int timeout_ms)
{
	int	 st;

	if (p->pid <= 0)
		return p->exited ? p->status : -1;
	kill(p->pid, SIGTERM);
	st = itest_reap(p->pid, timeout_ms);
	p->pid = 0;
	return st;
}

/* Wait for p to exit by itself, bounded. */
int
itest_proc_wait(struct itest_proc *p, int timeout_ms)
{
	int	 st;

	if (p->pid <= 0)
		return p->exited ? p->status : -1;
	st = itest_reap(p->pid, timeout_ms);
	p->pid = 0;
	p->exited = 1;
	p->status = st;
	return st;
}

/* Signal p and wait for one more needle in path. */
int
itest_signal_wait(struct itest_proc *p, int sig, const char *path,
    const char *needle, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 before = itest_count_file(path, needle);

	ck_assert_msg(p->pid > 0 && kill(p->pid, sig) == 0,
	    "cannot signal %s: %s", p->name, strerror(errno));
	for (;;) {
		if (itest_count_file(path, needle) > before)
			return 1;
		if (itest_now() >= deadline)
			return 0;
		poll(NULL, 0, ITEST_POLL_MS);
	}
}

/* The last bytes (at most 1500) of a file, for failure messages. */
static const char *
itest_tail(const char *path)
{
	static char	 tail[1501];
	size_t		 len;
	char		*s = itest_read_file(path, &len);

	snprintf(tail, sizeof(tail), "%s", len > 1500 ? s + len - 1500 : s);
	free(s);
	return tail;
}

/* The tail of a file, for the tests' failure messages. */
const char *
itest_file_tail(const char *path)
{
	return itest_tail(path);
}

/* Wait for "info: ready" in the error log while sluice runs. */
static void
itest_sluice_wait_ready(struct itest *t, int before)
{
	double	 deadline = itest_now() + ITEST_START_TIMEOUT_MS / 1e3;

	for (;;) {
		if (itest_count_file(t->error_log, "info: ready") > before)
			return;
		if (!itest_proc_alive(&t->sluice)) {
			ck_abort_msg("sluice exited before ready; output:\n%s\n"
			    "error log:\n%s", itest_tail(t->sluice_out),
			    itest_tail(t->error_log));
		}
		if (itest_now() >= deadline)
			ck_abort_msg("sluice not ready within %d ms; output:\n"
			    "%s\nerror log:\n%s", ITEST_START_TIMEOUT_MS,
			    itest_tail(t->sluice_out),
			    itest_tail(t->error_log));
		poll(NULL, 0, ITEST_POLL_MS);
	}
}

/* Write t->conf: [global] with the logs, the global lines, the rest. */
static void
itest_sluice_vconfig(struct itest *t, const char *global, const char *fmt,
    va_list ap)
{
	const char	*workers = getenv("SLUICE_TEST_WORKERS");
	char		*rest = NULL, *conf = NULL, wline[32] = "";

	/* the suites run again with workers = N (see tests/run.sh), unless
	 * the test sets workers itself */
	if (workers != NULL && *workers != '\0' &&
	    strspn(workers, "0123456789") == strlen(workers) &&
	    (global == NULL || strstr(global, "workers =") == NULL))
		snprintf(wline, sizeof(wline), "workers = %s\n", workers);
	ck_assert(vasprintf(&rest, fmt, ap) != -1);
	ck_assert(asprintf(&conf, "[global]\naccess_log = %s\n"
	    "error_log = %s\nlog_level = info\n%s%s\n%s",
	    t->access_log, t->error_log, wline,
	    global != NULL ? global : "shutdown_timeout = 5s\n", rest) != -1);
	itest_write_file(t->conf, conf);
	free(rest);
	free(conf);
}

/* Write the config without starting sluice. */
void
itest_sluice_config(struct itest *t, const char *global, const char *fmt,
    ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	itest_sluice_vconfig(t, global, fmt, ap);
	va_end(ap);
}

/* Start sluice on t->conf and wait until it is ready. */
void
itest_sluice_launch(struct itest *t)
{
	const char	*bin = t->binary != NULL ? t->binary : ITEST_SLUICE;
	char		*argv[] = { (char *)(uintptr_t)bin,
			    (char *)(uintptr_t)"-c", t->conf, NULL };
	int		 fd, before;

	ck_assert_msg(access(bin, X_OK) == 0,
	    "%s missing: build it with `make tests`", bin);
	/* a restart: the log already says ready once */
	before = access(t->error_log, F_OK) == 0 ?
	    itest_count_file(t->error_log, "info: ready") : 0;
	fd = open(t->sluice_out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	ck_assert_msg(fd != -1, "open %s: %s", t->sluice_out, strerror(errno));
	snprintf(t->sluice.name, sizeof(t->sluice.name), "sluice");
	t->sluice.pid = itest_spawn(argv, fd, fd, t->asan_extra);
	close(fd);
	itest_sluice_wait_ready(t, before);
}

/* Write the config ([global] + the caller's text) and start sluice. */
void
itest_sluice_start(struct itest *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	itest_sluice_vconfig(t, NULL, fmt, ap);
	va_end(ap);
	itest_sluice_launch(t);
}

/* The port sluice will listen on, picked on first use. */
int
itest_sluice_port(struct itest *t)
{
	if (t->sluice.port == 0)
		t->sluice.port = itest_free_port();
	return t->sluice.port;
}

/* One listener, one upstream with origin 0, the given timeouts. */
void
itest_sluice_simple(struct itest *t, int connect_s, int read_s, int write_s)
{
	itest_sluice_port(t);
	itest_sluice_start(t,
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n"
	    "max_body_size = 16m\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "connect_timeout = %ds\nread_timeout = %ds\n"
	    "write_timeout = %ds\nkeepalive = 32\n",
	    t->sluice.port, t->origin[0].port, connect_s, read_s, write_s);
}

/* Stop every process; each must exit 0 on SIGTERM within the bound. */
void
itest_finish(struct itest *t)
{
	int	 st, i;

	if (t->sluice.pid > 0) {
		st = itest_proc_stop(&t->sluice, ITEST_STOP_TIMEOUT_MS);
		ck_assert_msg(st == 0, "sluice exited with status %d on "
		    "SIGTERM (-2: still running after %d ms, killed); "
		    "output:\n%s", st, ITEST_STOP_TIMEOUT_MS,
		    itest_tail(t->sluice_out));
	}
	for (i = 0; i < ITEST_ORIGINS; i++) {
		if (t->origin[i].pid <= 0)
			continue;
		st = itest_proc_stop(&t->origin[i], ITEST_STOP_TIMEOUT_MS);
		ck_assert_msg(st == 0, "%s exited with status %d on SIGTERM",
		    t->origin[i].name, st);
	}
}

/* VmRSS of pid in KiB. */
long
itest_rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* See itest.h. */
double
itest_cpu_s(pid_t pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	FILE			*fp;
	size_t			 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the name may hold spaces: the fields start after its ')' */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* SHA-256 in hex. */
void
itest_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0, i;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* xorshift64 bytes. */
void
itest_random_fill(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t	 x = seed | 1;
	size_t		 i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
}

/* Append everything readable from fd to *out until EOF or the deadline. */
static void
itest_slurp(int fd, char **out, double deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 len = 0, cap = 4096;
	ssize_t		 n;

	*out = malloc(cap + 1);
	ck_assert(*out != NULL);
	while (poll(&pfd, 1, itest_left_ms(deadline)) > 0) {
		if (cap - len < 1024) {
			cap *= 2;
			*out = realloc(*out, cap + 1);
			ck_assert(*out != NULL);
		}
		n = read(fd, *out + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(*out)[len] = '\0';
}

/* Run argv, capturing stdout and stderr. */
int
itest_run(char *const argv[], char **out, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 fds[2];
	pid_t	 pid;

	ck_assert_msg(access(argv[0], X_OK) == 0, "%s missing", argv[0]);
	ck_assert_msg(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	pid = itest_spawn(argv, fds[1], fds[1], NULL);
	close(fds[1]);
	itest_slurp(fds[0], out, deadline);
	close(fds[0]);
	return itest_reap(pid, itest_left_ms(deadline));
}

/* Connect to 127.0.0.1:port (non-blocking socket, bounded wait). */
int
itest_connect_try(struct itest_conn *c, int port, int timeout_ms)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		err = errno;
	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	if (err == 0 && poll(&pfd, 1, timeout_ms) != 1)
		err = ETIMEDOUT;
	if (err == 0)
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		close(c->fd);
		c->fd = -1;
		errno = err;
		return -1;
	}
	return 0;
}

/* Connect or fail the test. */
void
itest_connect(struct itest_conn *c, int port, int timeout_ms)
{
	ck_assert_msg(itest_connect_try(c, port, timeout_ms) == 0,
	    "connect 127.0.0.1:%d: %s", port, strerror(errno));
}

/* Close and free. */
void
itest_close(struct itest_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Send all of buf before the deadline. */
int
itest_send(struct itest_conn *c, const void *buf, size_t len, int timeout_ms)
{
	double			 deadline;
	struct pollfd		 pfd = { .fd = c->fd, .events = POLLOUT };
	const unsigned char	*p = buf;
	ssize_t			 n;

	deadline = itest_now() + timeout_ms / 1e3;
	while (len > 0) {
		if (poll(&pfd, 1, itest_left_ms(deadline)) != 1)
			return -1;
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send a string or fail the test. */
void
itest_send_str(struct itest_conn *c, const char *s)
{
	ck_assert_msg(itest_send(c, s, strlen(s), ITEST_IO_TIMEOUT_MS) == 0,
	    "cannot send request: %s", strerror(errno));
}

/*
 * Read more bytes into c->buf before the deadline. Returns the count, 0 on
 * EOF, -1 on reset or another error, -2 on timeout.
 */
static ssize_t
itest_fill(struct itest_conn *c, double deadline)
{
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t		 n;

	if (c->cap - c->len < 65536) {
		c->cap = c->cap * 2 + 65536;
		c->buf = realloc(c->buf, c->cap + 1);
		ck_assert(c->buf != NULL);
	}
	for (;;) {
		if (poll(&pfd, 1, itest_left_ms(deadline)) != 1)
			return -2;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n > 0)
			c->len += (size_t)n;
		return n;
	}
}

/* Drop the first n buffered bytes. */
static void
itest_consume(struct itest_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Offset just past the empty line ending a head in buf, 0 if none yet. */
static size_t
itest_head_end(const unsigned char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Record how a read ended in r: EOF, reset, or timeout. */
static void
itest_note_end(struct itest_resp *r, ssize_t n)
{
	if (n == 0)
		r->eof = 1;
	else if (n == -2)
		r->timeout = 1;
	else if (errno == ECONNRESET)
		r->reset = 1, r->eof = 1;
	else
		r->eof = 1;
}

/* Split the header lines of r->hcopy into names and values. */
static void
itest_split_headers(struct itest_resp *r)
{
	char	*line = strchr(r->hcopy, '\n'), *next, *colon, *v;

	while (line != NULL && r->nheaders < ITEST_MAX_HEADERS) {
		line++;
		next = strchr(line, '\n');
		if (next == NULL)
			break;
		*next = '\0';
		if (next > line && next[-1] == '\r')
			next[-1] = '\0';
		if ((colon = strchr(line, ':')) != NULL) {
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			r->names[r->nheaders] = line;
			r->values[r->nheaders++] = v;
		}
		line = next;
	}
}

/* Parse a head of len bytes at buf into r; -1 if it is not HTTP. */
static int
itest_parse_head(struct itest_resp *r, const unsigned char *buf, size_t len)
{
	int	 major;

	free(r->head);
	free(r->hcopy);
	r->head = strndup((const char *)buf, len);
	r->hcopy = strndup((const char *)buf, len);
	ck_assert(r->head != NULL && r->hcopy != NULL);
	r->nheaders = 0;
	if (sscanf(r->head, "HTTP/%d.%d %d", &major, &r->minor,
	    &r->status) != 3 || major != 1) {
		r->status = -1;
		return -1;
	}
	itest_split_headers(r);
	return 0;
}

/* Read heads until a final one (1xx skipped) is parsed into r. */
static int
itest_read_final_head(struct itest_conn *c, struct itest_resp *r,
    double deadline)
{
	size_t	 end;
	ssize_t	 n;

	for (;;) {
		while ((end = itest_head_end(c->buf, c->len)) == 0) {
			if ((n = itest_fill(c, deadline)) <= 0) {
				itest_note_end(r, n);
				r->status = -1;
				return -1;
			}
		}
		if (itest_parse_head(r, c->buf, end) == -1)
			return -1;
		itest_consume(c, end);
		if (r->status >= 200 || r->status == 101)
			return 0;
		r->ninterim++;
	}
}

/* Append len bytes to the response body. */
static void
itest_body_add(struct itest_resp *r, const unsigned char *p, size_t len,
    size_t *cap)
{
	if (r->bodylen + len > *cap) {
		*cap = (r->bodylen + len) * 2 + 4096;
		r->body = realloc(r->body, *cap + 1);
		ck_assert(r->body != NULL);
	}
	memcpy(r->body + r->bodylen, p, len);
	r->bodylen += len;
	r->body[r->bodylen] = '\0';
}

/* Read a body of exactly want bytes (or to EOF when want is SIZE_MAX). */
static int
itest_read_plain(struct itest_conn *c, struct itest_resp *r, size_t want,
    double deadline)
{
	size_t	 cap = 0, n;
	ssize_t	 got;

	for (;;) {
		n = c->len < want - r->bodylen ? c->len : want - r->bodylen;
		itest_body_add(r, c->buf, n, &cap);
		itest_consume(c, n);
		if (r->bodylen == want)
			return 0;
		if ((got = itest_fill(c, deadline)) <= 0) {
			itest_note_end(r, got);
			/* Close-delimited: a clean EOF ends the body. */
			return want == SIZE_MAX && got == 0 ? 0 : -1;
		}
	}
}

/* One step of chunked decoding over the buffer; 1 progressed, 0 needs
 * bytes, -1 malformed. */
static int
itest_chunk_step(struct itest_conn *c, struct itest_resp *r,
    struct itest_chunked *ck, size_t *cap)
{
	unsigned char	*nl;
	size_t		 n;
	char		*end;

	if (ck->phase == 1) {
		n = c->len < ck->left ? c->len : ck->left;
		itest_body_add(r, c->buf, n, cap);
		itest_consume(c, n);
		ck->left -= n;
		if (ck->left == 0)
			ck->phase = 2;
		return n > 0 || ck->left == 0;
	}
	if ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		return 0;
	*nl = '\0';
	if (nl > c->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	if (ck->phase == 0) {
		ck->left = strtoul((char *)c->buf, &end, 16);
		if (end == (char *)c->buf)
			return -1;
		ck->phase = ck->left == 0 ? 3 : 1;
	} else if (ck->phase == 2) {
		if (c->buf[0] != '\0')
			return -1;
		ck->phase = 0;
	} else if (c->buf[0] == '\0') {
		ck->phase = 4;
	}
	itest_consume(c, (size_t)(nl - c->buf) + 1);
	return 1;
}

/* Read a chunked body, decoded, into r. */
static int
itest_read_chunked(struct itest_conn *c, struct itest_resp *r,
    double deadline)
{
	struct itest_chunked	 ck = { 0, 0 };
	size_t			 cap = 0;
	ssize_t			 got;
	int			 s;

	while (ck.phase != 4) {
		s = itest_chunk_step(c, r, &ck, &cap);
		if (s == -1)
			return -1;
		if (s == 1)
			continue;
		if ((got = itest_fill(c, deadline)) <= 0) {
			itest_note_end(r, got);
			return -1;
		}
	}
	return 0;
}

/* 1 when the Transfer-Encoding of r ends with "chunked". */
static int
itest_resp_chunked(const struct itest_resp *r)
{
	const char	*te = itest_resp_header(r, "Transfer-Encoding");
	size_t		 len;

	if (te == NULL)
		return 0;
	len = strlen(te);
	while (len > 0 && (te[len - 1] == ' ' || te[len - 1] == '\t'))
		len--;
	return len >= 7 && strncasecmp(te + len - 7, "chunked", 7) == 0;
}

/* Read one response head (1xx skipped). */
int
itest_read_head(struct itest_conn *c, struct itest_resp *r, int timeout_ms)
{
	memset(r, 0, sizeof(*r));
	return itest_read_final_head(c, r, itest_now() + timeout_ms / 1e3);
}

/* Read one whole response. */
int
itest_read_response(struct itest_conn *c, struct itest_resp *r,
    int head_request, int timeout_ms)
{
	double		 deadline = itest_now() + timeout_ms / 1e3;
	const char	*cl;
	int		 rc;

	memset(r, 0, sizeof(*r));
	r->body = calloc(1, 1);
	if (itest_read_final_head(c, r, deadline) == -1)
		return -1;
	cl = itest_resp_header(r, "Content-Length");
	if (head_request || r->status == 204 || r->status == 304) {
		r->framing = 'N';
		rc = 0;
	} else if (itest_resp_chunked(r)) {
		r->framing = 'C';
		rc = itest_read_chunked(c, r, deadline);
	} else if (cl != NULL) {
		r->framing = 'L';
		rc = itest_read_plain(c, r, strtoul(cl, NULL, 10), deadline);
	} else {
		r->framing = 'E';
		rc = itest_read_plain(c, r, SIZE_MAX, deadline);
	}
	r->complete = rc == 0;
	return rc;
}

/* Read buffered bytes first, then from the socket. */
ssize_t
itest_read_some(struct itest_conn *c, void *buf, size_t len, int timeout_ms)
{
	ssize_t	 n;

	if (c->len == 0) {
		n = itest_fill(c, itest_now() + timeout_ms / 1e3);
		if (n <= 0)
			return n == 0 ? 0 : -1;
	}
	n = (ssize_t)(c->len < len ? c->len : len);
	memcpy(buf, c->buf, (size_t)n);
	itest_consume(c, (size_t)n);
	return n;
}

/* Wait for the peer to close. */
int
itest_wait_closed(struct itest_conn *c, int timeout_ms)
{
	ssize_t	 n;

	if (c->len > 0)
		return 0;
	n = itest_fill(c, itest_now() + timeout_ms / 1e3);
	if (n == -2)
		return -1;
	return n > 0 ? 0 : 1;
}

/* Free what r holds. */
void
itest_resp_free(struct itest_resp *r)
{
	free(r->head);
	free(r->hcopy);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* First value of a header. */
const char *
itest_resp_header(const struct itest_resp *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

/* Count of header lines with that name. */
int
itest_resp_header_count(const struct itest_resp *r, const char *name)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < r->nheaders; i++)
		n += strcasecmp(r->names[i], name) == 0;
	return n;
}

/* One request on its own connection. */
int
itest_request(int port, const char *req, struct itest_resp *r)
{
	struct itest_conn	 c;
	int			 rc;

	itest_connect(&c, port, ITEST_IO_TIMEOUT_MS);
	itest_send_str(&c, req);
	rc = itest_read_response(&c, r, strncmp(req, "HEAD ", 5) == 0,
	    ITEST_IO_TIMEOUT_MS);
	itest_close(&c);
	return rc;
}

/* One request with an empty body and Connection: close. */
static int
itest_simple(int port, const char *method, const char *path,
    struct itest_resp *r)
{
	char	 req[512];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "%sConnection: close\r\n\r\n", method, path,
	    strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
	return itest_request(port, req, r);
}

/* GET on its own connection. */
int
itest_get(int port, const char *path, struct itest_resp *r)
{
	return itest_simple(port, "GET", path, r);
}

/* POST with an empty body on its own connection. */
int
itest_post(int port, const char *path, struct itest_resp *r)
{
	return itest_simple(port, "POST", path, r);
}

/* The /status JSON. */
char *
itest_admin_status(int port)
{
	struct itest_resp	 r;
	char			*json;

	itest_get(port, "/status", &r);
	ck_assert_msg(r.status == 200 && r.complete, "GET /status: status %d "
	    "(complete %d, eof %d, timeout %d)", r.status, r.complete, r.eof,
	    r.timeout);
	json = (char *)r.body;
	r.body = NULL;
	itest_resp_free(&r);
	return json;
}

/* The integer value of the first "key": in json. */
long long
itest_json_int(const char *json, const char *key)
{
	char		 pat[128];
	const char	*p;
	char		*end;
	long long	 v;

	if (json == NULL)
		return LLONG_MIN;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(json, pat)) == NULL)
		return LLONG_MIN;
	p += strlen(pat);
	v = strtoll(p, &end, 10);
	return end == p ? LLONG_MIN : v;
}

/* Split the options of the load client into argv from argv[at] on. */
static int
itest_load_args(char *opts, char **argv, int at, int max)
{
	char	*tok, *save = NULL;

	for (tok = strtok_r(opts, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		ck_assert_msg(at < max, "too many loadgen options");
		argv[at++] = tok;
	}
	return at;
}

/* Wait for "loadgen: started" while the load client runs. */
static void
itest_load_wait_started(struct itest_load *l)
{
	double	 deadline = itest_now() + ITEST_START_TIMEOUT_MS / 1e3;
	int	 alive;

	for (;;) {
		/* alive first: a short run may say "started" and exit */
		alive = itest_proc_alive(&l->proc);
		if (itest_file_has(l->notes, "loadgen: started"))
			break;
		ck_assert_msg(alive, "loadgen exited "
		    "(status %d) before starting:\n%s", l->proc.status,
		    itest_tail(l->notes));
		ck_assert_msg(itest_now() < deadline, "loadgen not started "
		    "within %d ms:\n%s", ITEST_START_TIMEOUT_MS,
		    itest_tail(l->notes));
		poll(NULL, 0, ITEST_POLL_MS);
	}
	l->started = itest_now();
}

/* Start the load client and wait until it runs. */
void
itest_load_start(struct itest *t, struct itest_load *l, const char *name,
    int port, const char *fmt, ...)
{
	char	*argv[40], *opts = NULL, target[32];
	va_list	 ap;
	int	 n = 0, out, err;

	memset(l, 0, sizeof(*l));
	snprintf(l->summary, sizeof(l->summary), "%s/%s.summary", t->dir, name);
	snprintf(l->notes, sizeof(l->notes), "%s/%s.notes", t->dir, name);
	snprintf(l->requests, sizeof(l->requests), "%s/%s.requests", t->dir,
	    name);
	snprintf(l->proc.name, sizeof(l->proc.name), "loadgen %s", name);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	ck_assert_msg(access(ITEST_LOADGEN, X_OK) == 0, "%s missing: run "
	    "`make tests`", ITEST_LOADGEN);
	va_start(ap, fmt);
	ck_assert(vasprintf(&opts, fmt, ap) != -1);
	va_end(ap);
	argv[n++] = (char *)(uintptr_t)ITEST_LOADGEN;
	argv[n++] = (char *)(uintptr_t)"-o";
	argv[n++] = l->requests;
	n = itest_load_args(opts, argv, n, 38);
	argv[n++] = target;
	argv[n] = NULL;
	out = open(l->summary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = open(l->notes, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(out != -1 && err != -1, "open %s: %s", l->summary,
	    strerror(errno));
	l->spawned = itest_now();
	l->proc.pid = itest_spawn(argv, out, err, NULL);
	close(out);
	close(err);
	free(opts);
	itest_load_wait_started(l);
}

/* SIGTERM the load client and reap it. */
int
itest_load_stop(struct itest_load *l, int timeout_ms)
{
	return itest_proc_stop(&l->proc, timeout_ms);
}

/* One summary value. */
long long
itest_load_value(const struct itest_load *l, const char *key)
{
	char		*s = itest_read_file(l->summary, NULL), *p = s;
	size_t		 klen = strlen(key);
	long long	 v = -1;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			v = strtoll(p + klen + 1, NULL, 10);
			break;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	free(s);
	return v;
}

/* Start origin i with extra options. */
void
itest_origin_start_opts(struct itest *t, int i, const char *name,
    const char *fmt, ...)
{
	struct itest_proc	*p = &t->origin[i];
	char			*argv[24], *opts = NULL;
	va_list			 ap;
	int			 fds[2], n = 0;

	ck_assert_msg(access(ITEST_ORIGIN, X_OK) == 0,
	    "%s missing: run `make tests` and run from the top of the tree",
	    ITEST_ORIGIN);
	va_start(ap, fmt);
	ck_assert(vasprintf(&opts, fmt, ap) != -1);
	va_end(ap);
	argv[n++] = (char *)(uintptr_t)ITEST_ORIGIN;
	argv[n++] = (char *)(uintptr_t)"-n";
	argv[n++] = (char *)(uintptr_t)name;
	argv[n++] = (char *)(uintptr_t)"-l";
	argv[n++] = t->origin_log[i];
	n = itest_load_args(opts, argv, n, 23);
	argv[n] = NULL;
	ck_assert_msg(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	snprintf(p->name, sizeof(p->name), "origin %s", name);
	p->exited = 0;
	p->pid = itest_spawn(argv, fds[1], -1, NULL);
	close(fds[1]);
	free(opts);
	p->port = itest_read_port(fds[0]);
	close(fds[0]);
	ck_assert_msg(p->port > 0, "origin %s printed no port within %d ms",
	    name, ITEST_START_TIMEOUT_MS);
}

/* One admin request, with a bearer token when one is given. */
int
itest_admin_request(int port, const char *method, const char *path,
    const char *token, struct itest_resp *r)
{
	char	 req[1024], auth[512] = "";

	if (token != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n",
		    token);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "%s%sConnection: close\r\n\r\n", method, path, auth,
	    strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
	return itest_request(port, req, r);
}

/* The string value of the first "key": in json. */
int
itest_json_str(const char *json, const char *key, char *buf, size_t len)
{
	char		 pat[128];
	const char	*p, *end;

	buf[0] = '\0';
	if (json == NULL)
		return -1;
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((end = strchr(p, '"')) == NULL)
		return -1;
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return 0;
}

/* See itest.h. */
int
itest_req_parse(const char *line, struct itest_req *q)
{
	char	 status[16];
	int	 at = 0, more;

	memset(q, 0, sizeof(*q));
	if (sscanf(line, "%lf %lf %23s %7s %15s %31s %31s%n", &q->start,
	    &q->end, q->conn, q->method, status, q->origin, q->outcome,
	    &at) != 7)
		return -1;
	q->status = atoi(status);
	while (q->nvalues < ITEST_REQ_VALUES && sscanf(line + at,
	    " %399s%n", q->value[q->nvalues], &more) == 1) {
		q->nvalues++;
		at += more;
	}
	return 0;
}

/* See itest.h. */
int
itest_req_ok(const struct itest_req *q)
{
	return strcmp(q->outcome, "ok") == 0 && q->status / 100 == 2;
}

/* See itest.h. */
double
itest_load_earliest(const struct itest_load *l, double ms)
{
	return l->spawned + ms / 1e3;
}

/* See itest.h. */
double
itest_load_latest(const struct itest_load *l, double ms)
{
	return l->started + ms / 1e3;
}

/* See itest.h. */
void
itest_req_describe(const struct itest_req *q, char *buf, size_t len)
{
	snprintf(buf, len, "%s started at %.0f ms, ended at %.0f ms: status "
	    "%d, origin %s, %s", q->method, q->start, q->end, q->status,
	    q->origin, q->outcome);
}

/* See itest.h. */
int
itest_reqs_each(const struct itest_load *l,
    void (*fn)(const struct itest_load *, const struct itest_req *, void *),
    void *arg)
{
	char			*s = itest_read_file(l->requests, NULL), *line;
	char			*save = NULL;
	struct itest_req	 q;
	int			 n = 0;

	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(itest_req_parse(line, &q) == 0, "bad loadgen "
		    "line: %s", line);
		fn(l, &q, arg);
		n++;
	}
	free(s);
	return n;
}

/* See itest.h. */
const char *
itest_access_term(const char *line, char *buf, size_t len)
{
	const char	*end = strrchr(line, ' '), *start;

	/* TERM #ID REQUEST_ID: the field before the last two */
	buf[0] = '\0';
	for (start = end; end != NULL && start > line && start[-1] != ' ';
	    start--)
		continue;
	end = start != NULL && start > line ? start - 1 : NULL;
	for (start = end; end != NULL && start > line && start[-1] != ' ';
	    start--)
		continue;
	if (end != NULL && start > line)
		snprintf(buf, len, "%.*s", (int)(end - start), start);
	return buf;
}

/* See itest.h. */
void
itest_certs_make(const char *who, const char *script, char *dir, size_t len)
{
	char	 lib[PATH_MAX], path[PATH_MAX];
	FILE	*fp;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "%s: the openssl command is needed to make the "
		    "test certificates; it did not run\n", who);
		exit(EXIT_FAILURE);
	}
	if (realpath(ITEST_CERTS_SH, lib) == NULL) {
		fprintf(stderr, "%s: %s: %s (run from the top of the tree)\n",
		    who, ITEST_CERTS_SH, strerror(errno));
		exit(EXIT_FAILURE);
	}
	snprintf(dir, len, "/tmp/%s.XXXXXX", who);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "%s: mkdtemp: %s\n", who, strerror(errno));
		exit(EXIT_FAILURE);
	}
	snprintf(path, sizeof(path), "%s/gen.sh", dir);
	if ((fp = fopen(path, "w")) == NULL ||
	    fprintf(fp, ". '%s'\n%s", lib, script) < 0 || fclose(fp) == EOF) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	snprintf(path, sizeof(path), "cd '%s' && sh -e gen.sh >gen.log 2>&1",
	    dir);
	if (system(path) != 0) {
		fprintf(stderr, "%s: making the test certificates failed; see "
		    "%s/gen.log\n", who, dir);
		exit(EXIT_FAILURE);
	}
}

/* See itest.h. */
void
itest_certs_remove(const char *who, const char *dir)
{
	char	 cmd[PATH_MAX];

	if (getenv("ITEST_KEEP") != NULL) {
		fprintf(stderr, "%s: kept %s\n", who, dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", who, dir);
}

/* See itest.h. */
void
itest_pause(int ms)
{
	poll(NULL, 0, ms);
}

/* See itest.h. */
double
itest_wait_log(const char *path, const char *needle, int timeout_ms)
{
	ck_assert_msg(itest_wait_file(path, needle, timeout_ms), "no \"%s\" "
	    "in %s within %d ms; its tail:\n%s", needle, path, timeout_ms,
	    itest_file_tail(path));
	return itest_now();
}

/* See itest.h. */
int
itest_wait_count(const char *path, const char *needle, int n,
    int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 got;

	while ((got = itest_count_file(path, needle)) < n &&
	    itest_now() < deadline)
		poll(NULL, 0, ITEST_POLL_MS);
	return got;
}

/* See itest.h. */
int
itest_wait_lines(const char *path, int n, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;

	while (itest_count_lines(path) < n) {
		if (itest_now() >= deadline)
			return 0;
		poll(NULL, 0, ITEST_POLL_MS);
	}
	return 1;
}

/* See itest.h. */
int
itest_lines_term(const char *path, const char *a, const char *b,
    char *term, size_t len)
{
	char	*s = itest_read_file(path, NULL), *line, *save = NULL;
	int	 n = 0;

	if (term != NULL)
		term[0] = '\0';
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, a) == NULL || (b != NULL &&
		    strstr(line, b) == NULL))
			continue;
		if (n++ == 0 && term != NULL)
			itest_access_term(line, term, len);
	}
	free(s);
	return n;
}

/* See itest.h. */
int
itest_lines_with(const char *path, const char *a, const char *b)
{
	return itest_lines_term(path, a, b, NULL, 0);
}

/* See itest.h. */
int
itest_wait_lines_with(const char *path, const char *a, const char *b,
    int n, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	int	 got;

	while ((got = itest_lines_with(path, a, b)) < n &&
	    itest_now() < deadline)
		poll(NULL, 0, ITEST_POLL_MS);
	return got;
}

/* See itest.h. */
int
itest_lines_not_ok(const char *path, const char *needle, char *first,
    size_t len)
{
	char	*s = itest_read_file(path, NULL), *line, *save = NULL;
	char	 term[64];
	int	 n = 0;

	if (first != NULL)
		first[0] = '\0';
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (needle != NULL && strstr(line, needle) == NULL)
			continue;
		if (strcmp(itest_access_term(line, term, sizeof(term)),
		    "ok") == 0)
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, len, "%s", line);
	}
	free(s);
	return n;
}

/* See itest.h. */
int
itest_line_of(const char *path, const char *needle)
{
	char	*s = itest_read_file(path, NULL), *at, *p;
	int	 line = 1;

	if ((at = strstr(s, needle)) == NULL) {
		free(s);
		return 0;
	}
	for (p = s; p < at; p++)
		line += *p == '\n';
	free(s);
	return line;
}

/* See itest.h. */
int
itest_admin_code(int port, const char *method, const char *path,
    const char *token)
{
	struct itest_resp	 r;
	int			 code;

	itest_admin_request(port, method, path, token, &r);
	code = r.status;
	itest_resp_free(&r);
	return code;
}

/* See itest.h. */
char *
itest_admin_post(int port, const char *path, const char *token)
{
	struct itest_resp	 r;
	char			*body;

	itest_admin_request(port, "POST", path, token, &r);
	ck_assert_msg(r.status == 200 && r.complete, "POST %s: status %d: %s",
	    path, r.status, r.body != NULL ? (char *)r.body : "");
	body = (char *)r.body;
	r.body = NULL;
	itest_resp_free(&r);
	return body;
}

/* See itest.h. */
long long
itest_admin_reload(int port, const char *token, long long gen)
{
	char		*body = itest_admin_post(port, "/reload", token);
	long long	 next = itest_json_int(body, "generation");

	ck_assert_msg(next == gen + 1, "POST /reload: generation %lld, want "
	    "%lld: %s", next, gen + 1, body);
	free(body);
	return next;
}

/* See itest.h. */
void
itest_sluice_hup(struct itest *t, const char *needle, int timeout_ms)
{
	ck_assert_msg(itest_signal_wait(&t->sluice, SIGHUP, t->error_log,
	    needle, timeout_ms), "no \"%s\" within %d ms of SIGHUP; error "
	    "log:\n%s", needle, timeout_ms, itest_file_tail(t->error_log));
}

/* See itest.h. */
const char *
itest_status_server(const char *json, const char *name)
{
	char	 pat[160];

	if (json == NULL)
		return NULL;
	snprintf(pat, sizeof(pat), "{\"name\":\"%s\",\"address\":", name);
	return strstr(json, pat);
}

/* See itest.h. */
long long
itest_status_int(const char *json, const char *name, const char *key)
{
	const char	*s = name != NULL ? itest_status_server(json, name) :
			    json;

	return itest_json_int(s, key);
}

/* See itest.h. */
const char *
itest_status_str(const char *json, const char *name, const char *key,
    char *buf, size_t len)
{
	const char	*s = name != NULL ? itest_status_server(json, name) :
			    json;

	itest_json_str(s, key, buf, len);
	return buf;
}

/* See itest.h. */
long long
itest_admin_status_int(int port, const char *name, const char *key)
{
	char		*json = itest_admin_status(port);
	long long	 v = itest_status_int(json, name, key);

	free(json);
	return v;
}

/* See itest.h. */
const char *
itest_admin_status_str(int port, const char *name, const char *key,
    char *buf, size_t len)
{
	char	*json = itest_admin_status(port);

	itest_status_str(json, name, key, buf, len);
	free(json);
	return buf;
}

/* See itest.h. */
int
itest_wait_status_int(int port, const char *name, const char *key,
    long long want, int timeout_ms, long long *last)
{
	double		 deadline = itest_now() + timeout_ms / 1e3;
	long long	 v;

	for (;;) {
		v = itest_admin_status_int(port, name, key);
		if (last != NULL)
			*last = v;
		if (v == want)
			return 1;
		if (itest_now() >= deadline)
			return 0;
		poll(NULL, 0, ITEST_POLL_MS);
	}
}

/* See itest.h. */
int
itest_wait_server_gone(int port, const char *name, int timeout_ms)
{
	double	 deadline = itest_now() + timeout_ms / 1e3;
	char	*json;
	int	 gone;

	for (;;) {
		json = itest_admin_status(port);
		gone = itest_status_server(json, name) == NULL;
		free(json);
		if (gone)
			return 1;
		if (itest_now() >= deadline)
			return 0;
		poll(NULL, 0, ITEST_POLL_MS);
	}
}

/* See itest.h. */
void
itest_load_assert_clean(const struct itest_load *l, const char *what)
{
	long long	 sent = itest_load_value(l, "sent");
	long long	 ok = itest_load_value(l, "ok");
	long long	 s2xx = itest_load_value(l, "s2xx");
	long long	 failed = itest_load_value(l, "failed");
	char		*summary = itest_read_file(l->summary, NULL);

	ck_assert_msg(sent > 0 && failed == 0 && ok == sent && s2xx == ok,
	    "%s: sent %lld, ok %lld, 2xx %lld, failed %lld; summary:\n%s\n"
	    "notes:\n%s", what, sent, ok, s2xx, failed, summary,
	    itest_file_tail(l->notes));
	free(summary);
}
