/*
 * check_ops: sluice run by a service manager. Integration tests of the
 * systemd notify protocol, socket activation, the hitless binary upgrade
 * (SIGUSR2) and what it leaves behind, the log reopen (SIGUSR1) and worker
 * threads. The test plays systemd's part itself: it
 * owns the NOTIFY_SOCKET datagram socket (each sender's pid comes with
 * SCM_CREDENTIALS) and passes listening sockets as LISTEN_FDS does.
 *
 * sluice runs from a copy of ./sluice in the test's directory, so that a
 * test may replace "the binary at its path" and so that the sluices of a
 * test are told apart from any other by /proc/PID/exe. Each test process
 * is a child subreaper (PR_SET_CHILD_SUBREAPER): a sluice started by an
 * upgrade is reparented to the test when the sluice that started it
 * exits, so every sluice is reaped here and its exit status checked.
 * Upgraded sluices do not die with the test (PR_SET_PDEATHSIG is not
 * inherited): OPS_ASSERT kills every sluice the test knows of by pid
 * before it fails, and check kills the test's process group after each
 * test, which catches a failure inside an itest helper too.
 *
 * Run from the top of the tree after `make sluice tests`:
 * ./tests/check_ops. ITEST_KEEP=1 keeps the temporary directories.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define IO_MS		ITEST_IO_TIMEOUT_MS
#define WAIT_MS		10000	/* bound of a start, an upgrade, a message */
#define EXIT_MS		15000	/* bound of a sluice exit we wait for */
#define LOAD_STOP_MS	15000	/* bound of a load client's stop */
#define POLL_MS		5	/* step of a polled wait */
#define OPS_MAX_PIDS	64
#define OPS_MAX_FDS	8
#define OPS_MAX_SOCKS	4096	/* TCP sockets looked at in /proc/net/tcp */
#define PROBE_PATH	"/bytes/64"
#define PROBE_LEN	64
#define PROBE_REQ	"GET " PROBE_PATH " HTTP/1.1\r\nHost: ops\r\n" \
			"Connection: close\r\n\r\n"

#define UPGRADES	10	/* upgrade under load: upgrades in a row */
#define NQUEUED		8	/* socket activation: queued connections */
#define READYZ_SAMPLES	20	/* admin requests during an old drain */
#define LEAK_UPGRADES	3	/* upgrades before the descriptor census */

/* Fail the test, killing every sluice it knows of first. */
#define OPS_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		ops_kill_tracked();					\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/* The load client's summary keys a test adds up. */
enum ops_key {
	OPS_SENT = 0,
	OPS_OK,
	OPS_2XX,
	OPS_RECONNECTS,		/* not failures: the ones after it are */
	OPS_REFUSED,
	OPS_EOF,
	OPS_RESET,
	OPS_TRUNC,
	OPS_TIMEOUT,
	OPS_BAD,
	OPS_FAILED,
	OPS_NKEYS
};

static const char *const ops_keys[OPS_NKEYS] = {
	"sent", "ok", "s2xx", "reconnects", "refused", "eof_after_write",
	"reset_after_write", "truncated", "timeout", "bad_response", "failed",
};

/* One test's world. */
struct ops {
	struct itest	 t;		/* t.sluice is the sluice serving now */
	int		 admin;		/* admin listener port */
	char		 bin[192];	/* the binary sluice runs from */
	char		 notify[160];	/* NOTIFY_SOCKET, "" for none */
	int		 notify_fd;	/* our end of it, or -1 */
	int		 nmessages;	/* notify messages received */
	int		 lfds[OPS_MAX_FDS];	/* passed as LISTEN_FDS */
	int		 nlfds;
};

/*
 * Requests on new connections while sluices come and go: short load-client
 * runs one after another, and the test's own one-request connections.
 */
struct ops_fresh {
	struct itest_load	 l;
	int			 running;
	int			 runs;
	long long		 sum[OPS_NKEYS];
	int			 probes;
};

/* One upgrade's figures. */
struct ops_up {
	pid_t		 old;
	pid_t		 new;
	double		 handover;	/* s from SIGUSR2 to "is ready" */
	double		 drain;		/* s from then to the old one's exit */
};

/* Descriptors a process holds. */
struct ops_fds {
	int		 total;
	int		 error_log;	/* open on the error log */
	int		 access_log;
	int		 upstream;	/* TCP connections to origin 0 */
	int		 other;		/* open on a file asked for */
};

/* Sluices started or learned of, and not reaped yet. */
static pid_t	ops_pids[OPS_MAX_PIDS];

/* --- processes --------------------------------------------------------- */

/* Remember pid as a sluice to kill should the test fail. */
static void
ops_track(pid_t pid)
{
	int	 i;

	for (i = 0; i < OPS_MAX_PIDS; i++)
		if (ops_pids[i] == 0 || ops_pids[i] == pid) {
			ops_pids[i] = pid;
			return;
		}
}

/* Forget pid: it has been reaped. */
static void
ops_untrack(pid_t pid)
{
	int	 i;

	for (i = 0; i < OPS_MAX_PIDS; i++)
		if (ops_pids[i] == pid)
			ops_pids[i] = 0;
}

/*
 * Kill every sluice still known (a failure path). None has been reaped, so
 * none of these pids can belong to another process yet.
 */
static void
ops_kill_tracked(void)
{
	int	 i;

	for (i = 0; i < OPS_MAX_PIDS; i++)
		if (ops_pids[i] > 0)
			kill(ops_pids[i], SIGKILL);
}

/* Wait for p to exit by itself (bounded) and forget it. Its status. */
static int
ops_reap(struct itest_proc *p, int timeout_ms)
{
	pid_t	 pid = p->pid;
	int	 st;

	st = itest_proc_wait(p, timeout_ms);
	ops_untrack(pid);
	return st;
}

/* 1 while the sluice p runs; once it has exited, reaped and forgotten. */
static int
ops_alive(struct itest_proc *p)
{
	pid_t	 pid = p->pid;

	if (itest_proc_alive(p))
		return 1;
	ops_untrack(pid);
	return 0;
}

/* 1 when pid (a child) has exited; it is left to be reaped. */
static int
ops_exited(pid_t pid)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == pid;
}

/* How many processes run o->bin (replaced since or not). */
static int
ops_count_sluices(const struct ops *o)
{
	DIR		*d = opendir("/proc");
	struct dirent	*e;
	char		 path[300], exe[PATH_MAX];
	size_t		 blen = strlen(o->bin);
	ssize_t		 n;
	int		 count = 0;

	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
			continue;	/* gone, or a zombie */
		exe[n] = '\0';
		if (strncmp(exe, o->bin, blen) == 0 && (exe[blen] == '\0' ||
		    strcmp(exe + blen, " (deleted)") == 0))
			count++;
	}
	closedir(d);
	return count;
}

/* --- the world --------------------------------------------------------- */

/* Copy src to dst with mode. */
static void
ops_copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t	 len;
	char	*buf = itest_read_file(src, &len);
	int	 fd;

	ck_assert_msg(len > 0, "%s is empty or missing", src);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_msg(fd != -1, "open %s: %s", dst, strerror(errno));
	ck_assert_msg(write(fd, buf, len) == (ssize_t)len, "write %s: %s",
	    dst, strerror(errno));
	ck_assert_int_eq(close(fd), 0);
	free(buf);
}

/* Make the world: origin 0 "a", the ports, sluice's copy, the reaper. */
static void
ops_init(struct ops *o)
{
	memset(o, 0, sizeof(*o));
	memset(ops_pids, 0, sizeof(ops_pids));
	o->notify_fd = -1;
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0,
	    "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	ck_assert_msg(access("./sluice", X_OK) == 0, "./sluice missing: "
	    "run `make sluice tests` and run from the top of the tree");
	itest_init(&o->t);
	itest_origin_start(&o->t, 0, "a");
	o->admin = itest_free_port();
	itest_sluice_port(&o->t);
	snprintf(o->bin, sizeof(o->bin), "%s/sluice", o->t.dir);
	ops_copy_file("./sluice", o->bin, 0755);
}

/*
 * Write the config: global lines (NULL: itest's), [admin], listener web
 * -> upstream app with origin 0 as "a", then extra lines for app.
 */
static void
ops_config(struct ops *o, const char *global, const char *extra)
{
	itest_sluice_config(&o->t, global, "[admin]\nlisten = 127.0.0.1:%d\n\n"
	    "[listener web]\nlisten = 127.0.0.1:%d\nupstream = app\n\n"
	    "[upstream app]\nserver = 127.0.0.1:%d name=a\n"
	    "read_timeout = 30s\n%s", o->admin, o->t.sluice.port,
	    o->t.origin[0].port, extra != NULL ? extra : "");
}

/* Stop what is left (SIGTERM, each must exit 0) and close our sockets. */
static void
ops_finish(struct ops *o)
{
	int	 i;

	ops_untrack(o->t.sluice.pid);
	itest_finish(&o->t);
	for (i = 0; i < o->nlfds; i++)
		close(o->lfds[i]);
	o->nlfds = 0;
	if (o->notify_fd != -1)
		close(o->notify_fd);
	o->notify_fd = -1;
	ck_assert_msg(ops_count_sluices(o) == 0, "a sluice is still running");
}

/* --- starting sluice --------------------------------------------------- */

/* In the child: o's listening sockets at 3, 4, ... as systemd passes them. */
static void
ops_child_fds(const struct ops *o)
{
	int	 tmp[OPS_MAX_FDS], i;
	char	 num[24];

	/* first out of the way: a socket may sit where another goes */
	for (i = 0; i < o->nlfds; i++)
		if ((tmp[i] = fcntl(o->lfds[i], F_DUPFD_CLOEXEC, 64)) == -1)
			_exit(127);
	for (i = 0; i < o->nlfds; i++)
		if (dup2(tmp[i], 3 + i) == -1)
			_exit(127);
	snprintf(num, sizeof(num), "%d", o->nlfds);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	setenv("LISTEN_PID", num, 1);
}

/* In the child: output to out, the systemd variables o asks for, exec. */
static void
ops_child_exec(const struct ops *o, pid_t parent, int out)
{
	char	*argv[] = { (char *)(uintptr_t)o->bin, (char *)(uintptr_t)"-c",
		    (char *)(uintptr_t)o->t.conf, NULL };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(out, STDOUT_FILENO) == -1 || dup2(out, STDERR_FILENO) == -1)
		_exit(127);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("NOTIFY_SOCKET");
	if (o->nlfds > 0)
		ops_child_fds(o);
	if (o->notify[0] != '\0')
		setenv("NOTIFY_SOCKET", o->notify, 1);
	execv(o->bin, argv);
	fprintf(stderr, "exec %s: %s\n", o->bin, strerror(errno));
	_exit(127);
}

/* Wait until the error log holds more than before "info: ready" lines. */
static void
ops_wait_ready(struct ops *o, int before)
{
	double	 deadline = itest_now() + WAIT_MS / 1e3;

	for (;;) {
		if (itest_count_file(o->t.error_log, "info: ready") > before)
			return;
		OPS_ASSERT(ops_alive(&o->t.sluice), "sluice exited "
		    "(status %d) before ready; output:\n%s\nerror log:\n%s",
		    o->t.sluice.status, itest_file_tail(o->t.sluice_out),
		    itest_file_tail(o->t.error_log));
		OPS_ASSERT(itest_now() < deadline, "sluice not ready within "
		    "%d ms; error log:\n%s", WAIT_MS,
		    itest_file_tail(o->t.error_log));
		poll(NULL, 0, POLL_MS);
	}
}

/* Start sluice from o->bin on t.conf, as o says; wait until ready. */
static void
ops_launch(struct ops *o)
{
	int	 before = itest_count_file(o->t.error_log, "info: ready");
	pid_t	 parent = getpid(), pid;
	int	 out;

	out = open(o->t.sluice_out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	ck_assert_msg(out != -1, "open %s: %s", o->t.sluice_out,
	    strerror(errno));
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0)
		ops_child_exec(o, parent, out);
	close(out);
	o->t.sluice.pid = pid;
	o->t.sluice.exited = 0;
	snprintf(o->t.sluice.name, sizeof(o->t.sluice.name), "sluice");
	ops_track(pid);
	ops_wait_ready(o, before);
}

/* --- requests, logs, /status ------------------------------------------- */

/* The pid in /status. */
static long long
ops_status_pid(const struct ops *o)
{
	return itest_admin_status_int(o->admin, NULL, "pid");
}

/* GET PROBE_PATH on a connection of its own: 0 when 200 arrived whole. */
static int
ops_probe_try(int port, struct itest_resp *r)
{
	struct itest_conn	 c;
	int			 rc;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (itest_connect_try(&c, port, IO_MS) == -1)
		return -1;
	if (itest_send(&c, PROBE_REQ, sizeof(PROBE_REQ) - 1, IO_MS) == -1) {
		itest_close(&c);
		return -1;
	}
	rc = itest_read_response(&c, r, 0, IO_MS);
	itest_close(&c);
	return rc == 0 && r->status == 200 && r->bodylen == PROBE_LEN ? 0 :
	    -1;
}

/* One probe that must succeed; what says when. */
static void
ops_probe(const struct ops *o, const char *what)
{
	struct itest_resp	 r;
	int			 rc;

	errno = 0;
	rc = ops_probe_try(o->t.sluice.port, &r);
	OPS_ASSERT(rc == 0, "%s: GET " PROBE_PATH " on a new connection: "
	    "status %d (eof %d, reset %d, timeout %d, %s)", what, r.status,
	    r.eof, r.reset, r.timeout, strerror(errno));
	itest_resp_free(&r);
}

/*
 * The pid in the last error-log line "upgrade: pid N" followed by suffix,
 * or -1.
 */
static long
ops_log_pid(const struct ops *o, const char *suffix)
{
	char		*s = itest_read_file(o->t.error_log, NULL), *end;
	const char	*p = s;
	long		 pid = -1, v;

	while ((p = strstr(p, "upgrade: pid ")) != NULL) {
		p += strlen("upgrade: pid ");
		v = strtol(p, &end, 10);
		if (end != p && strncmp(end, suffix, strlen(suffix)) == 0)
			pid = v;
	}
	free(s);
	return pid;
}

/* Wait until /status says in_flight is n. */
static void
ops_wait_inflight(const struct ops *o, long long n)
{
	long long	 got;

	OPS_ASSERT(itest_wait_status_int(o->admin, NULL, "in_flight", n,
	    WAIT_MS, &got), "in_flight %lld, want %lld, after %d ms", got, n,
	    WAIT_MS);
}

/* Open a connection and send GET path on it (the answer is read later). */
static void
ops_send_get(struct itest_conn *c, int port, const char *path)
{
	char	 req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: ops\r\n"
	    "Connection: close\r\n\r\n", path);
	itest_connect(c, port, IO_MS);
	itest_send_str(c, req);
}

/* --- the load ---------------------------------------------------------- */

/* Add the summary of a finished load-client run to sum. */
static void
ops_load_add(const struct itest_load *l, long long sum[OPS_NKEYS])
{
	int	 i;

	for (i = 0; i < OPS_NKEYS; i++)
		sum[i] += itest_load_value(l, ops_keys[i]);
}

/* The figures of a load in buf. */
static const char *
ops_load_text(const long long sum[OPS_NKEYS], char *buf, size_t len)
{
	snprintf(buf, len, "%lld sent, %lld ok (%lld 2xx), %lld failed "
	    "(refused %lld, eof_after_write %lld, reset_after_write %lld, "
	    "truncated %lld, timeout %lld, bad_response %lld), %lld "
	    "reconnects", sum[OPS_SENT], sum[OPS_OK], sum[OPS_2XX],
	    sum[OPS_FAILED], sum[OPS_REFUSED], sum[OPS_EOF], sum[OPS_RESET],
	    sum[OPS_TRUNC], sum[OPS_TIMEOUT], sum[OPS_BAD],
	    sum[OPS_RECONNECTS]);
	return buf;
}

/* Every request of a load answered 2xx, none failed in any way. */
static void
ops_load_assert(const long long sum[OPS_NKEYS], const char *what)
{
	char	 text[320];
	int	 i, bad = 0;

	for (i = OPS_REFUSED; i < OPS_NKEYS; i++)
		bad += sum[i] != 0;
	OPS_ASSERT(bad == 0 && sum[OPS_SENT] > 0 &&
	    sum[OPS_OK] == sum[OPS_SENT] && sum[OPS_2XX] == sum[OPS_OK],
	    "%s: %s", what, ops_load_text(sum, text, sizeof(text)));
}

/* Stop a load client; it must exit 0. Its summary is added to sum. */
static void
ops_load_stop(struct itest_load *l, long long sum[OPS_NKEYS])
{
	int	 st = itest_load_stop(l, LOAD_STOP_MS);

	OPS_ASSERT(st == 0, "%s exited %d:\n%s", l->proc.name, st,
	    itest_file_tail(l->notes));
	ops_load_add(l, sum);
}

/* Collect a finished short run, and start the next one. */
static void
ops_fresh_step(struct ops *o, struct ops_fresh *f)
{
	if (f->running && !itest_proc_alive(&f->l.proc)) {
		OPS_ASSERT(f->l.proc.status == 0, "short load run exited "
		    "%d:\n%s", f->l.proc.status, itest_file_tail(f->l.notes));
		ops_load_add(&f->l, f->sum);
		f->running = 0;
	}
	if (!f->running) {
		itest_load_start(&o->t, &f->l, "fresh", o->t.sluice.port,
		    "-q -c 4 -n 8 -d 0 -p /bytes/256 -t %d", IO_MS);
		f->running = 1;
		f->runs++;
	}
}

/* Wait for the short run under way, if any, and collect it. */
static void
ops_fresh_stop(struct ops_fresh *f)
{
	int	 st;

	if (!f->running)
		return;
	st = itest_proc_wait(&f->l.proc, LOAD_STOP_MS);
	OPS_ASSERT(st == 0, "short load run exited %d:\n%s", st,
	    itest_file_tail(f->l.notes));
	ops_load_add(&f->l, f->sum);
	f->running = 0;
}

/* One step of a polled wait: new connections (when f is not NULL). */
static void
ops_tick(struct ops *o, struct ops_fresh *f, const char *what)
{
	if (f != NULL) {
		ops_fresh_step(o, f);
		ops_probe(o, what);
		f->probes++;
	}
	poll(NULL, 0, POLL_MS);
}

/* --- systemd's side of NOTIFY_SOCKET ----------------------------------- */

/*
 * Bind our end of NOTIFY_SOCKET: a file in the test's directory, or an
 * abstract name ("@..."). SO_PASSCRED gives each sender's pid.
 */
static void
ops_notify_open(struct ops *o, int abstract)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 on = 1;

	if (abstract)
		snprintf(o->notify, sizeof(o->notify), "@sluice-itest-ops-%ld",
		    (long)getpid());
	else
		snprintf(o->notify, sizeof(o->notify), "%s/notify", o->t.dir);
	ck_assert(strlen(o->notify) < sizeof(sun.sun_path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, o->notify, strlen(o->notify));
	if (abstract)
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(o->notify));
	o->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(o->notify_fd != -1 &&
	    bind(o->notify_fd, (struct sockaddr *)&sun, len) == 0 &&
	    setsockopt(o->notify_fd, SOL_SOCKET, SO_PASSCRED, &on,
	    sizeof(on)) == 0, "notify socket %s: %s", o->notify,
	    strerror(errno));
}

/* The next message within timeout_ms into buf, its sender in *pid. */
static int
ops_notify_recv(struct ops *o, char *buf, size_t len, pid_t *pid,
    int timeout_ms)
{
	struct pollfd	 pfd = { .fd = o->notify_fd, .events = POLLIN };
	struct iovec	 iov = { .iov_base = buf, .iov_len = len - 1 };
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(struct ucred))];
	}		 cm;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct ucred	 cred;
	ssize_t		 n;

	*pid = 0;
	buf[0] = '\0';
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof(cm.b);
	if ((n = recvmsg(o->notify_fd, &msg, MSG_DONTWAIT)) == -1)
		return -1;
	buf[n] = '\0';
	o->nmessages++;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*pid = cred.pid;
		}
	return 0;
}

/*
 * The next message must be want (exactly, or starting with it when
 * prefix) and come from pid from. The message is left in got.
 */
static void
ops_notify_expect(struct ops *o, const char *want, int prefix, pid_t from,
    char *got, size_t len)
{
	pid_t	 pid;
	int	 rc = ops_notify_recv(o, got, len, &pid, WAIT_MS);

	OPS_ASSERT(rc == 0, "no notify message within %d ms; want \"%s\"",
	    WAIT_MS, want);
	OPS_ASSERT((prefix ? strncmp(got, want, strlen(want)) :
	    strcmp(got, want)) == 0 && pid == from, "notify: got \"%s\" from "
	    "pid %ld, want \"%s\"%s from pid %ld", got, (long)pid, want,
	    prefix ? "..." : "", (long)from);
}

/* No message is waiting. */
static void
ops_notify_none(struct ops *o, const char *when)
{
	char	 got[512];
	pid_t	 pid;

	OPS_ASSERT(ops_notify_recv(o, got, sizeof(got), &pid, 0) == -1,
	    "%s: unexpected notify message \"%s\" from pid %ld", when, got,
	    (long)pid);
}

/* CLOCK_MONOTONIC in microseconds, as MONOTONIC_USEC counts. */
static unsigned long long
ops_mono_usec(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
}

/*
 * SIGHUP; then RELOADING=1 with a MONOTONIC_USEC taken between the signal
 * and the message's arrival, then ready (READY=1 and STATUS). Returns
 * MONOTONIC_USEC minus the time of the signal, in µs.
 */
static long long
ops_notify_reload(struct ops *o, const char *ready)
{
	pid_t			 pid = o->t.sluice.pid;
	unsigned long long	 t0, t1, usec = 0;
	char			 got[512];
	int			 end = 0;

	t0 = ops_mono_usec();
	OPS_ASSERT(kill(pid, SIGHUP) == 0, "SIGHUP: %s", strerror(errno));
	ops_notify_expect(o, "RELOADING=1\nMONOTONIC_USEC=", 1, pid, got,
	    sizeof(got));
	t1 = ops_mono_usec();
	sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading%n",
	    &usec, &end);
	OPS_ASSERT(end > 0 && got[end] == '\0', "malformed: \"%s\"", got);
	OPS_ASSERT(usec >= t0 && usec <= t1, "MONOTONIC_USEC %llu is not "
	    "between the signal (%llu) and the message's arrival (%llu)",
	    usec, t0, t1);
	ops_notify_expect(o, ready, 0, pid, got, sizeof(got));
	return (long long)(usec - t0);
}

/* --- socket activation ------------------------------------------------- */

/* A listening TCP socket on 127.0.0.1 and a free port, put in *port. */
static int
ops_listen(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(fd, 128) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
	    "listen: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Open n connections, each with a request sent, before anyone accepts. */
static void
ops_queue(struct itest_conn *c, int n, int port)
{
	int	 i;

	for (i = 0; i < n; i++)
		ops_send_get(&c[i], port, PROBE_PATH);
}

/* Read the answers of ops_queue(): the count of whole 200s. */
static int
ops_queue_answers(struct itest_conn *c, int n)
{
	struct itest_resp	 r;
	int			 i, ok = 0;

	for (i = 0; i < n; i++) {
		if (itest_read_response(&c[i], &r, 0, IO_MS) == 0 &&
		    r.status == 200 && r.bodylen == PROBE_LEN)
			ok++;
		itest_resp_free(&r);
		itest_close(&c[i]);
	}
	return ok;
}

/* --- the upgrade ------------------------------------------------------- */

/* SIGUSR2 and wait for "upgrade: pid N is ready", f running meanwhile. */
static pid_t
ops_upgrade_signal(struct ops *o, struct ops_fresh *f)
{
	const char	*needle = " is ready; draining";
	double		 deadline = itest_now() + WAIT_MS / 1e3;
	int		 before = itest_count_file(o->t.error_log, needle);
	long		 pid;

	OPS_ASSERT(kill(o->t.sluice.pid, SIGUSR2) == 0, "SIGUSR2: %s",
	    strerror(errno));
	while (itest_count_file(o->t.error_log, needle) == before) {
		OPS_ASSERT(itest_now() < deadline, "no \"upgrade: pid N%s\" "
		    "within %d ms; error log:\n%s", needle, WAIT_MS,
		    itest_file_tail(o->t.error_log));
		ops_tick(o, f, "waiting for the new process");
	}
	pid = ops_log_pid(o, needle);
	OPS_ASSERT(pid > 0 && pid != o->t.sluice.pid, "ready pid %ld", pid);
	ops_track((pid_t)pid);
	return (pid_t)pid;
}

/* Wait for old to exit by itself, f running meanwhile: it must exit 0. */
static void
ops_upgrade_reap(struct ops *o, struct itest_proc *old, struct ops_fresh *f)
{
	double	 deadline = itest_now() + EXIT_MS / 1e3;
	pid_t	 pid = old->pid;

	while (ops_alive(old)) {
		OPS_ASSERT(itest_now() < deadline, "old sluice %ld still "
		    "running %d ms after the new one was ready", (long)pid,
		    EXIT_MS);
		ops_tick(o, f, "old process draining");
	}
	OPS_ASSERT(old->status == 0, "old sluice %ld exited with status %d; "
	    "output:\n%s", (long)pid, old->status,
	    itest_file_tail(o->t.sluice_out));
}

/*
 * One upgrade: the new process is ready, the old one exits 0, /status
 * names the new pid and one sluice remains.
 */
static void
ops_upgrade(struct ops *o, struct ops_fresh *f, struct ops_up *up)
{
	struct itest_proc	 old = o->t.sluice;
	double			 t0 = itest_now(), t1;
	long long		 spid;
	int			 n;

	up->old = old.pid;
	up->new = ops_upgrade_signal(o, f);
	t1 = itest_now();
	o->t.sluice.pid = up->new;
	ops_upgrade_reap(o, &old, f);
	up->handover = t1 - t0;
	up->drain = itest_now() - t1;
	spid = ops_status_pid(o);
	n = ops_count_sluices(o);
	OPS_ASSERT(spid == (long long)up->new && n == 1 &&
	    kill(up->new, 0) == 0, "after upgrading %ld: /status pid %lld, "
	    "want %ld; %d sluice process(es)", (long)up->old, spid,
	    (long)up->new, n);
}

/* The notify messages of one upgrade, in their causal order. */
static void
ops_notify_upgrade(struct ops *o, const struct ops_up *up)
{
	char	 want[64], got[512];

	snprintf(want, sizeof(want), "MAINPID=%ld", (long)up->new);
	ops_notify_expect(o, want, 0, up->new, got, sizeof(got));
	/* under load (and with workers = N) it may already be serving */
	ops_notify_expect(o, "READY=1\nSTATUS=generation 1, ", 1, up->new, got,
	    sizeof(got));
	ops_notify_expect(o, want, 0, up->old, got, sizeof(got));
	ops_notify_expect(o, "STOPPING=1\nSTATUS=draining ", 1, up->old, got,
	    sizeof(got));
	ops_notify_none(o, "after an upgrade");
}

/*
 * SIGUSR2 that must fail: the old sluice logs why, reaps the new process
 * and keeps serving alone. Returns the failed pid.
 */
static long
ops_upgrade_fail(struct ops *o, struct ops_fresh *f)
{
	const char	*needle = " exited before it was ready "
			    "(exit status 1); still serving";
	double		 deadline = itest_now() + WAIT_MS / 1e3;
	int		 before = itest_count_file(o->t.error_log, needle);
	long		 pid;

	OPS_ASSERT(kill(o->t.sluice.pid, SIGUSR2) == 0, "SIGUSR2: %s",
	    strerror(errno));
	while (itest_count_file(o->t.error_log, needle) == before) {
		OPS_ASSERT(itest_now() < deadline && ops_alive(&o->t.sluice),
		    "no \"upgrade: pid N%s\" within %d ms; "
		    "error log:\n%s", needle, WAIT_MS,
		    itest_file_tail(o->t.error_log));
		ops_tick(o, f, "failed upgrade");
	}
	pid = ops_log_pid(o, needle);
	OPS_ASSERT(pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH,
	    "the failed process %ld is not gone", pid);
	OPS_ASSERT(ops_status_pid(o) == (long long)o->t.sluice.pid &&
	    ops_count_sluices(o) == 1, "after a failed upgrade: /status pid "
	    "%lld, want %ld; %d sluice process(es)", ops_status_pid(o),
	    (long)o->t.sluice.pid, ops_count_sluices(o));
	ops_probe(o, "after a failed upgrade");
	return pid;
}

/* Summary figures of a series of upgrades, printed. */
static void
ops_upgrade_print(const struct ops_up *up, int n)
{
	double	 hsum = 0, hmax = 0, dsum = 0, dmax = 0;
	int	 i;

	printf("  pids:");
	for (i = 0; i < n; i++) {
		printf(" %ld ->", (long)up[i].old);
		hsum += up[i].handover;
		dsum += up[i].drain;
		hmax = up[i].handover > hmax ? up[i].handover : hmax;
		dmax = up[i].drain > dmax ? up[i].drain : dmax;
	}
	printf(" %ld\n  hand-over (SIGUSR2 to new ready) %.1f ms mean, %.1f "
	    "max; old drain %.1f ms mean, %.1f max\n", (long)up[n - 1].new,
	    hsum * 1e3 / n, hmax * 1e3, dsum * 1e3 / n, dmax * 1e3);
}

/* --- descriptors ------------------------------------------------------- */

/* Inodes of established TCP connections to port (from /proc/net/tcp). */
static int
ops_tcp_inodes(int port, unsigned long *ino, int max)
{
	FILE		*f = fopen("/proc/net/tcp", "r");
	char		 line[512];
	unsigned	 lport, rport, st;
	unsigned long	 inode;
	int		 n = 0;

	ck_assert_msg(f != NULL, "/proc/net/tcp: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL && n < max) {
		if (sscanf(line, " %*d: %*x:%x %*x:%x %x %*x:%*x %*x:%*x %*x "
		    "%*u %*u %lu", &lport, &rport, &st, &inode) != 4)
			continue;
		if (rport == (unsigned)port && st == 1)
			ino[n++] = inode;
	}
	fclose(f);
	return n;
}

/* 1 when link names one of the n socket inodes. */
static int
ops_is_socket(const char *link, const unsigned long *ino, int n)
{
	unsigned long	 v;
	int		 i;

	if (sscanf(link, "socket:[%lu]", &v) != 1)
		return 0;
	for (i = 0; i < n; i++)
		if (ino[i] == v)
			return 1;
	return 0;
}

/*
 * Count what pid's descriptors are open on; c->other counts those open on
 * other (NULL: none).
 */
static void
ops_fds_count(const struct ops *o, pid_t pid, const char *other,
    struct ops_fds *c)
{
	static unsigned long	 ino[OPS_MAX_SOCKS];
	char			 dir[64], path[320], link[PATH_MAX];
	struct dirent		*e;
	DIR			*d;
	ssize_t			 len;
	int			 n;

	memset(c, 0, sizeof(*c));
	n = ops_tcp_inodes(o->t.origin[0].port, ino, OPS_MAX_SOCKS);
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	OPS_ASSERT((d = opendir(dir)) != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' ||
		    (len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		c->total++;
		c->error_log += strcmp(link, o->t.error_log) == 0;
		c->access_log += strcmp(link, o->t.access_log) == 0;
		c->other += other != NULL && strcmp(link, other) == 0;
		c->upstream += ops_is_socket(link, ino, n);
	}
	closedir(d);
}

/* --- notify ------------------------------------------------------------ */

/*
 * Start, a good reload, a bad reload and SIGTERM, with one exchange in
 * flight throughout (to /stall, ended by stopping the origin): each sends
 * what systemd expects, from sluice's pid, with the generation and the
 * in-flight count in STATUS.
 */
START_TEST(test_notify)
{
	struct ops		 o;
	struct itest_conn	 held;
	struct itest_resp	 r;
	char			 got[512], want[64];
	long long		 good_us, bad_us;
	pid_t			 pid;
	int			 st;

	ops_init(&o);
	ops_notify_open(&o, 0);
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	pid = o.t.sluice.pid;
	snprintf(want, sizeof(want), "MAINPID=%ld", (long)pid);
	ops_notify_expect(&o, want, 0, pid, got, sizeof(got));
	ops_notify_expect(&o, "READY=1\nSTATUS=generation 1, 0 exchange(s) "
	    "in flight", 0, pid, got, sizeof(got));
	ops_send_get(&held, o.t.sluice.port, "/stall");
	ops_wait_inflight(&o, 1);

	ops_config(&o, NULL, "keepalive = 16\n");
	good_us = ops_notify_reload(&o, "READY=1\nSTATUS=generation 2, "
	    "1 exchange(s) in flight");
	ops_config(&o, NULL, "no_such_key = 1\n");
	bad_us = ops_notify_reload(&o, "READY=1\nSTATUS=generation 2, "
	    "1 exchange(s) in flight");
	OPS_ASSERT(itest_wait_file(o.t.error_log, "reload failed; still "
	    "serving generation 2", WAIT_MS), "the bad reload was not "
	    "refused:\n%s", itest_file_tail(o.t.error_log));

	OPS_ASSERT(kill(pid, SIGTERM) == 0, "SIGTERM: %s", strerror(errno));
	ops_notify_expect(&o, "STOPPING=1\nSTATUS=draining 1 exchange(s)", 0,
	    pid, got, sizeof(got));
	/* end the held exchange: the origin goes, sluice answers 502 */
	ck_assert_int_eq(itest_proc_stop(&o.t.origin[0], EXIT_MS), 0);
	itest_read_response(&held, &r, 0, IO_MS);
	OPS_ASSERT(r.status == 502, "held exchange: status %d", r.status);
	itest_resp_free(&r);
	itest_close(&held);
	st = ops_reap(&o.t.sluice, EXIT_MS);
	OPS_ASSERT(st == 0, "sluice exit status %d", st);
	ops_notify_none(&o, "after the exit");
	printf("notify: start MAINPID + READY=1 (generation 1); good reload "
	    "RELOADING=1 (MONOTONIC_USEC %lld us after the signal) then "
	    "READY=1 generation 2; bad reload RELOADING=1 (+%lld us) then "
	    "READY=1 generation 2; SIGTERM STOPPING=1 draining 1 exchange(s); "
	    "%d messages, all from pid %ld; exit %d\n", good_us, bad_us,
	    o.nmessages, (long)pid, st);
	fflush(stdout);
	ops_finish(&o);
}
END_TEST

/* --- socket activation ------------------------------------------------- */

/*
 * sluice started with LISTEN_FDS: connections queued before it started
 * are answered, an inherited socket no listener names is closed, and a
 * restart on the same sockets (kept open here, as systemd does) loses
 * nothing, neither connections made while no sluice ran nor a load.
 */
START_TEST(test_socket_activation)
{
	struct ops		 o;
	struct itest_conn	 q[NQUEUED], c;
	struct itest_load	 l;
	long long		 sum[OPS_NKEYS] = { 0 };
	char			 text[320];
	int			 stray_port, early, late, st, lines;
	double			 stopped, gap;

	ops_init(&o);
	o.lfds[0] = ops_listen(&o.t.sluice.port);
	o.lfds[1] = ops_listen(&o.admin);
	o.lfds[2] = ops_listen(&stray_port);
	o.nlfds = 3;
	ops_config(&o, NULL, NULL);
	ops_queue(q, NQUEUED, o.t.sluice.port);
	ops_launch(&o);
	early = ops_queue_answers(q, NQUEUED);
	OPS_ASSERT(early == NQUEUED, "%d of %d connections queued before the "
	    "start were answered", early, NQUEUED);
	OPS_ASSERT(ops_status_pid(&o) == (long long)o.t.sluice.pid, "admin");
	OPS_ASSERT(itest_count_file(o.t.error_log, "socket activation: 3 "
	    "socket(s) inherited") == 1 && itest_count_file(o.t.error_log,
	    "inherited socket 5 matches no listener; closing it") == 1,
	    "error log:\n%s", itest_file_tail(o.t.error_log));
	close(o.lfds[2]);
	o.nlfds = 2;
	OPS_ASSERT(itest_connect_try(&c, stray_port, IO_MS) == -1 &&
	    errno == ECONNREFUSED, "the stray inherited socket still "
	    "accepts connections");

	itest_load_start(&o.t, &l, "restart", o.t.sluice.port, "-c 8 -r 400 "
	    "-m mix -p /bytes/256 -b 256 -d 600000 -t %d", IO_MS);
	OPS_ASSERT(itest_wait_lines(o.t.access_log, NQUEUED + 100, WAIT_MS),
	    "no load served");
	OPS_ASSERT(kill(o.t.sluice.pid, SIGTERM) == 0, "SIGTERM");
	st = ops_reap(&o.t.sluice, EXIT_MS);
	stopped = itest_now();
	OPS_ASSERT(st == 0, "first sluice exit status %d", st);
	ops_queue(q, NQUEUED, o.t.sluice.port);
	ops_launch(&o);
	gap = itest_now() - stopped;
	late = ops_queue_answers(q, NQUEUED);
	lines = itest_count_lines(o.t.access_log);
	OPS_ASSERT(itest_wait_lines(o.t.access_log, lines + 100, WAIT_MS),
	    "the load stopped after the restart");
	ops_load_stop(&l, sum);
	printf("socket activation: %d/%d connections queued before the start "
	    "answered; stray socket closed; restart: %d/%d connections made "
	    "while no sluice ran answered (%.0f ms without a sluice); load "
	    "across the restart: %s\n", early, NQUEUED, late, NQUEUED,
	    gap * 1e3, ops_load_text(sum, text, sizeof(text)));
	fflush(stdout);
	OPS_ASSERT(late == NQUEUED, "%d of %d connections queued during the "
	    "restart were answered", late, NQUEUED);
	ops_load_assert(sum, "load across the restart");
	ops_finish(&o);
}
END_TEST

/* --- upgrade under load ------------------------------------------------ */

/*
 * UPGRADES upgrades in a row under keep-alive load (plain and slow
 * requests) and new connections (short load runs and the test's own):
 * nothing fails, each old process exits 0, one sluice remains, /status
 * names the new pid, systemd hears of each hand-over, and the access log
 * has one line per request answered.
 */
START_TEST(test_upgrade_load)
{
	struct ops		 o;
	struct ops_fresh	 f;
	struct ops_up		 up[UPGRADES];
	struct itest_load	 ka, slow;
	long long		 kasum[OPS_NKEYS] = { 0 };
	long long		 slowsum[OPS_NKEYS] = { 0 };
	char			 text[320], got[512], want[64];
	long long		 total;
	int			 i, lines;

	ops_init(&o);
	memset(&f, 0, sizeof(f));
	ops_notify_open(&o, 1);
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	snprintf(want, sizeof(want), "MAINPID=%ld", (long)o.t.sluice.pid);
	ops_notify_expect(&o, want, 0, o.t.sluice.pid, got, sizeof(got));
	ops_notify_expect(&o, "READY=1\n", 1, o.t.sluice.pid, got,
	    sizeof(got));
	itest_load_start(&o.t, &ka, "ka", o.t.sluice.port, "-c 16 -r 800 "
	    "-m mix -p /bytes/512 -b 512 -d 600000 -t %d", IO_MS);
	itest_load_start(&o.t, &slow, "slow", o.t.sluice.port, "-c 8 "
	    "-p /delay/50 -d 600000 -t %d", IO_MS);
	for (i = 0; i < UPGRADES; i++) {
		ops_upgrade(&o, &f, &up[i]);
		ops_notify_upgrade(&o, &up[i]);
	}
	ops_fresh_stop(&f);
	ops_load_stop(&ka, kasum);
	ops_load_stop(&slow, slowsum);
	total = kasum[OPS_OK] + slowsum[OPS_OK] + f.sum[OPS_OK] + f.probes;
	itest_wait_lines(o.t.access_log, (int)total, WAIT_MS);
	lines = itest_count_lines(o.t.access_log);
	printf("upgrade: %d SIGUSR2 upgrades under load, one sluice after "
	    "each, every old one exited 0\n", UPGRADES);
	ops_upgrade_print(up, UPGRADES);
	printf("  keep-alive: %s\n", ops_load_text(kasum, text, sizeof(text)));
	printf("  keep-alive /delay/50: %s\n", ops_load_text(slowsum, text,
	    sizeof(text)));
	printf("  new connections: %d short runs, %s; %d single requests "
	    "ok\n", f.runs, ops_load_text(f.sum, text, sizeof(text)),
	    f.probes);
	printf("  access log: %d lines for %lld requests answered\n", lines,
	    total);
	fflush(stdout);
	ops_load_assert(kasum, "keep-alive load");
	ops_load_assert(slowsum, "slow keep-alive load");
	ops_load_assert(f.sum, "new connections");
	OPS_ASSERT(lines == total, "access log: %d lines, %lld requests",
	    lines, total);
	ops_finish(&o);
}
END_TEST

/* --- upgrade failures -------------------------------------------------- */

/*
 * A new process that cannot start (invalid config, then a binary that
 * exits 1) leaves the old one serving alone with the reason logged; once
 * both are fixed the upgrade succeeds. A keep-alive load runs throughout.
 */
START_TEST(test_upgrade_failure)
{
	struct ops		 o;
	struct ops_fresh	 f;
	struct ops_up		 up;
	struct itest_load	 ka;
	long long		 sum[OPS_NKEYS] = { 0 };
	char			 text[320], text2[320];
	char			 orig[224], script[224];
	long			 bad_conf, bad_bin;

	ops_init(&o);
	memset(&f, 0, sizeof(f));
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	itest_load_start(&o.t, &ka, "ka", o.t.sluice.port, "-c 8 -r 400 "
	    "-m mix -p /bytes/512 -b 512 -d 600000 -t %d", IO_MS);

	ops_config(&o, NULL, "no_such_key = 1\n");
	bad_conf = ops_upgrade_fail(&o, &f);

	ops_config(&o, NULL, NULL);
	snprintf(orig, sizeof(orig), "%s.orig", o.bin);
	snprintf(script, sizeof(script), "%s.script", o.bin);
	itest_write_file(script, "#!/bin/sh\nexit 1\n");
	ck_assert_int_eq(chmod(script, 0755), 0);
	ck_assert_int_eq(link(o.bin, orig), 0);
	ck_assert_int_eq(rename(script, o.bin), 0);
	bad_bin = ops_upgrade_fail(&o, &f);

	ck_assert_int_eq(rename(orig, o.bin), 0);
	ops_upgrade(&o, &f, &up);
	ops_fresh_stop(&f);
	ops_load_stop(&ka, sum);
	printf("upgrade failure: invalid config (pid %ld) and a binary that "
	    "exits 1 (pid %ld): \"exited before it was ready\" logged, pid "
	    "%ld kept serving alone; fixed: upgraded to %ld in %.1f ms; "
	    "keep-alive load %s; %d short runs %s; %d single requests ok\n",
	    bad_conf, bad_bin, (long)up.old, (long)up.new, up.handover * 1e3,
	    ops_load_text(sum, text, sizeof(text)), f.runs,
	    ops_load_text(f.sum, text2, sizeof(text2)), f.probes);
	fflush(stdout);
	ops_load_assert(sum, "keep-alive load");
	ops_load_assert(f.sum, "new connections");
	OPS_ASSERT(itest_count_file(o.t.sluice_out, "no_such_key") >= 1,
	    "the new process did not say why it failed:\n%s",
	    itest_file_tail(o.t.sluice_out));
	ops_finish(&o);
}
END_TEST

/* --- SIGUSR1 ----------------------------------------------------------- */

/* Send n probes. */
static void
ops_probes(const struct ops *o, int n, const char *what)
{
	int	 i;

	for (i = 0; i < n; i++)
		ops_probe(o, what);
}

/*
 * logrotate's way: rename the logs, SIGUSR1; new lines go to new files at
 * the configured paths and the old files are closed. A path that cannot
 * be opened keeps the old files in use.
 */
START_TEST(test_log_reopen)
{
	struct ops	 o;
	struct ops_fds	 fa, fe;
	char		 acc1[224], err1[224];
	int		 kept;

	ops_init(&o);
	snprintf(acc1, sizeof(acc1), "%s.1", o.t.access_log);
	snprintf(err1, sizeof(err1), "%s.1", o.t.error_log);
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	ops_probes(&o, 5, "before the rotation");
	OPS_ASSERT(itest_wait_lines(o.t.access_log, 5, WAIT_MS), "access log");
	ck_assert_int_eq(rename(o.t.access_log, acc1), 0);
	ck_assert_int_eq(rename(o.t.error_log, err1), 0);
	ops_probes(&o, 3, "after the rename");
	OPS_ASSERT(itest_wait_lines(acc1, 8, WAIT_MS), "renamed access log");
	OPS_ASSERT(access(o.t.access_log, F_OK) == -1, "access log reopened "
	    "before SIGUSR1");
	OPS_ASSERT(itest_signal_wait(&o.t.sluice, SIGUSR1, o.t.error_log,
	    "info: SIGUSR1: logs reopened", WAIT_MS), "no \"logs reopened\" "
	    "in a new error log; old one:\n%s", itest_file_tail(err1));
	ops_probes(&o, 4, "after SIGUSR1");
	OPS_ASSERT(itest_wait_lines(o.t.access_log, 4, WAIT_MS), "new access "
	    "log: %d lines", itest_count_lines(o.t.access_log));
	OPS_ASSERT(itest_count_lines(acc1) == 8 &&
	    itest_count_lines(o.t.access_log) == 4, "lines: old %d, new %d",
	    itest_count_lines(acc1), itest_count_lines(o.t.access_log));
	ops_fds_count(&o, o.t.sluice.pid, acc1, &fa);
	ops_fds_count(&o, o.t.sluice.pid, err1, &fe);
	OPS_ASSERT(fa.other == 0 && fe.other == 0, "the rotated logs are "
	    "still open: %d and %d descriptors", fa.other, fe.other);

	/* the access log cannot be opened: the current files stay */
	ck_assert_int_eq(rename(o.t.access_log, acc1), 0);
	ck_assert_int_eq(mkdir(o.t.access_log, 0700), 0);
	OPS_ASSERT(itest_signal_wait(&o.t.sluice, SIGUSR1, o.t.error_log,
	    "SIGUSR1: cannot reopen the logs; keeping the old ones", WAIT_MS),
	    "error log:\n%s", itest_file_tail(o.t.error_log));
	ops_probes(&o, 2, "after a failed reopen");
	OPS_ASSERT(itest_wait_lines(acc1, 6, WAIT_MS), "lines after a failed "
	    "reopen: %d", itest_count_lines(acc1));
	kept = itest_count_lines(acc1);
	ck_assert_int_eq(rmdir(o.t.access_log), 0);
	printf("log reopen: 5 lines before the rename, 3 after it in the "
	    "renamed file, SIGUSR1, 4 in the new file, rotated files closed; "
	    "reopen onto a directory: refused, %d lines kept going to the "
	    "open file\n", kept - 4);
	fflush(stdout);
	OPS_ASSERT(kept == 6, "lines after a failed reopen: %d", kept);
	ops_finish(&o);
}
END_TEST

/* --- what an upgrade leaves behind ------------------------------------- */

/* With pid_file set, the file names the new process after an upgrade. */
START_TEST(test_upgrade_pid_file)
{
	struct ops	 o;
	struct ops_up	 up;
	char		 path[224], global[320], *s;
	long		 before, after;

	ops_init(&o);
	snprintf(path, sizeof(path), "%s/sluice.pid", o.t.dir);
	snprintf(global, sizeof(global), "shutdown_timeout = 5s\n"
	    "pid_file = %s\n", path);
	ops_config(&o, global, NULL);
	ops_launch(&o);
	s = itest_read_file(path, NULL);
	before = strtol(s, NULL, 10);
	free(s);
	OPS_ASSERT(before == (long)o.t.sluice.pid, "pid_file says %ld, pid "
	    "%ld", before, (long)o.t.sluice.pid);
	ops_upgrade(&o, NULL, &up);
	s = itest_read_file(path, NULL);
	after = strtol(s, NULL, 10);
	printf("pid_file: %ld before the upgrade; after it (pid %ld -> %ld) "
	    "the file %s \"%.*s\"\n", before, (long)up.old, (long)up.new,
	    access(path, F_OK) == 0 ? "holds" : "is gone:",
	    (int)strcspn(s, "\n"), s);
	fflush(stdout);
	free(s);
	OPS_ASSERT(after == (long)up.new, "after the upgrade pid_file %s "
	    "says %ld, want the new pid %ld", path, after, (long)up.new);
	ops_finish(&o);
}
END_TEST

/*
 * Once the new process is ready, the admin endpoint is the new one's:
 * while the old one drains (an exchange keeps it for a second), /readyz
 * answers 200 and /status names the new pid.
 */
START_TEST(test_upgrade_admin)
{
	struct ops		 o;
	struct itest_proc	 old;
	struct itest_conn	 held;
	struct itest_resp	 r;
	long long		 pid;
	pid_t			 new, oldpid;
	int			 n = 0, from_old = 0, not_ready = 0;

	ops_init(&o);
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	ops_send_get(&held, o.t.sluice.port, "/delay/1000");
	ops_wait_inflight(&o, 1);
	old = o.t.sluice;
	oldpid = old.pid;
	new = ops_upgrade_signal(&o, NULL);
	o.t.sluice.pid = new;
	while (n < READYZ_SAMPLES && !ops_exited(old.pid)) {
		itest_get(o.admin, "/readyz", &r);
		not_ready += r.status != 200;
		itest_resp_free(&r);
		pid = ops_status_pid(&o);
		from_old += pid == (long long)oldpid;
		n++;
	}
	itest_read_response(&held, &r, 0, IO_MS);
	OPS_ASSERT(r.status == 200 && r.complete, "the exchange in flight "
	    "across the upgrade: status %d", r.status);
	itest_resp_free(&r);
	itest_close(&held);
	ops_upgrade_reap(&o, &old, NULL);
	printf("admin during the old process's drain: %d samples, %d /readyz "
	    "not 200, %d /status from the old pid %ld (new %ld)\n", n,
	    not_ready, from_old, (long)oldpid, (long)new);
	fflush(stdout);
	OPS_ASSERT(n > 0, "the old process exited before any sample");
	OPS_ASSERT(not_ready == 0 && from_old == 0, "after the hand-over the "
	    "old, draining process still answers the admin port: %d of %d "
	    "/readyz not 200, %d of %d /status from it", not_ready, n,
	    from_old, n);
	ops_finish(&o);
}
END_TEST

/*
 * After upgrades under load, the new process holds what it opened itself:
 * one descriptor per log file, and no upstream connection beyond its own
 * pool (/status idle + busy).
 */
START_TEST(test_upgrade_descriptors)
{
	struct ops		 o;
	struct ops_up		 up;
	struct ops_fds		 first, last;
	struct itest_load	 ka;
	long long		 sum[OPS_NKEYS] = { 0 }, idle, busy;
	char			*json;
	int			 i;

	ops_init(&o);
	ops_config(&o, NULL, NULL);
	ops_launch(&o);
	ops_fds_count(&o, o.t.sluice.pid, NULL, &first);
	itest_load_start(&o.t, &ka, "ka", o.t.sluice.port, "-c 8 -r 400 "
	    "-p /bytes/512 -d 600000 -t %d", IO_MS);
	for (i = 0; i < LEAK_UPGRADES; i++)
		ops_upgrade(&o, NULL, &up);
	ops_load_stop(&ka, sum);
	ops_load_assert(sum, "keep-alive load");
	ops_wait_inflight(&o, 0);
	ops_fds_count(&o, o.t.sluice.pid, NULL, &last);
	json = itest_admin_status(o.admin);
	idle = itest_status_int(json, "a", "idle");
	busy = itest_status_int(json, "a", "busy");
	free(json);
	printf("descriptors: first sluice %d at rest; after %d upgrades "
	    "under load the last one (pid %ld) has %d: %d on the error log, "
	    "%d on the access log, %d connections to the origin for a pool "
	    "of %lld idle + %lld busy\n", first.total, LEAK_UPGRADES,
	    (long)up.new, last.total, last.error_log, last.access_log,
	    last.upstream, idle, busy);
	fflush(stdout);
	OPS_ASSERT(last.error_log == 1 && last.access_log == 1, "the new "
	    "process holds %d descriptors on the error log and %d on the "
	    "access log (its predecessors' leaked across exec)",
	    last.error_log, last.access_log);
	OPS_ASSERT(last.upstream == idle + busy, "the new process holds %d "
	    "connections to the origin, its pool %lld: its predecessors' "
	    "upstream sockets leaked across exec", last.upstream,
	    idle + busy);
	ops_finish(&o);
}
END_TEST

/* A test case with a generous timeout (ASan, a loaded CI machine). */
static TCase *
ops_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 90);
	return tc;
}

/* --- worker threads ---------------------------------------------------- */

/* Threads of pid: the entries of /proc/PID/task; -1 when it is gone. */
static int
ops_threads(pid_t pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* /status's worker count and the threads of the process agree on want. */
static void
ops_workers_expect(const struct ops *o, int want, const char *when)
{
	char		*json = itest_admin_status(o->admin);
	long long	 n = itest_json_int(json, "workers");
	int		 threads = ops_threads(o->t.sluice.pid);

	free(json);
	OPS_ASSERT(n == want && threads == want, "%s: /status says %lld "
	    "worker(s), pid %ld has %d thread(s); want %d", when, n,
	    (long)o->t.sluice.pid, threads, want);
}

/*
 * workers = 2: two threads serve and /status says so. A reload asking for
 * 3 is applied but warns that the count is read at start; the binary
 * upgrade that follows starts 3. A keep-alive load runs throughout and new
 * connections are opened during the upgrade: nothing fails.
 */
START_TEST(test_workers)
{
	struct ops		 o;
	struct ops_fresh	 f;
	struct ops_up		 up;
	struct itest_load	 ka;
	long long		 kasum[OPS_NKEYS] = { 0 };
	char			 text[320];

	ops_init(&o);
	memset(&f, 0, sizeof(f));
	ops_config(&o, "shutdown_timeout = 5s\nworkers = 2\n", NULL);
	ops_launch(&o);
	ops_workers_expect(&o, 2, "at start");
	itest_load_start(&o.t, &ka, "ka", o.t.sluice.port, "-c 16 -r 800 "
	    "-m mix -p /bytes/512 -b 512 -d 600000 -t %d", IO_MS);
	ops_config(&o, "shutdown_timeout = 5s\nworkers = 3\n", NULL);
	OPS_ASSERT(itest_signal_wait(&o.t.sluice, SIGHUP, o.t.error_log,
	    "reload: generation 2 in", WAIT_MS), "no reload; error log:\n%s",
	    itest_file_tail(o.t.error_log));
	OPS_ASSERT(itest_count_file(o.t.error_log, "warn: workers: 2 "
	    "worker(s) serve until the next start") == 1, "no warning that "
	    "workers is read at start; error log:\n%s",
	    itest_file_tail(o.t.error_log));
	ops_workers_expect(&o, 2, "after a reload asking for 3");
	ops_upgrade(&o, &f, &up);
	ops_workers_expect(&o, 3, "after the upgrade");
	ops_fresh_stop(&f);
	ops_load_stop(&ka, kasum);
	printf("workers: 2 threads at start, still 2 after a reload asking "
	    "for 3 (warned), 3 after a binary upgrade (pid %ld -> %ld); "
	    "keep-alive %s; new connections: %s\n", (long)up.old,
	    (long)up.new, ops_load_text(kasum, text, sizeof(text)),
	    ops_load_text(f.sum, text + 160, sizeof(text) - 160));
	fflush(stdout);
	ops_load_assert(kasum, "keep-alive load");
	ops_load_assert(f.sum, "new connections");
	ops_finish(&o);
}
END_TEST

/* The suite: systemd, upgrades, logs, workers. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("ops");
	TCase	*tc;

	tc = ops_tcase("systemd");
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_socket_activation);
	suite_add_tcase(s, tc);

	tc = ops_tcase("upgrade");
	tcase_add_test(tc, test_upgrade_load);
	tcase_add_test(tc, test_upgrade_failure);
	tcase_add_test(tc, test_upgrade_pid_file);
	tcase_add_test(tc, test_upgrade_admin);
	tcase_add_test(tc, test_upgrade_descriptors);
	suite_add_tcase(s, tc);

	tc = ops_tcase("logs");
	tcase_add_test(tc, test_log_reopen);
	suite_add_tcase(s, tc);

	tc = ops_tcase("workers");
	tcase_add_test(tc, test_workers);
	suite_add_tcase(s, tc);
	return s;
}
