/*
 * upgrade: fork, exec, and wait for "ready" on a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy/log.h"
#include "proxy/sluice.h"
#include "proxy/upgrade.h"

static char		 self[PATH_MAX];
static char		**self_argv;
static pid_t		 child;
static struct event	*pipe_ev;
static void		(*ready_cb)(long);

/* See upgrade.h. The path is read now: later it may be replaced. */
void
upgrade_init(int argc, char **argv)
{
	ssize_t	n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0)
		self[n] = '\0';
	else
		snprintf(self, sizeof(self), "%s", argv[0]);
	self_argv = argv;
}

/* Forget the upgrade under way. */
static void
upgrade_end(void)
{
	if (pipe_ev != NULL) {
		close(event_get_fd(pipe_ev));
		event_free(pipe_ev);
		pipe_ev = NULL;
	}
	child = 0;
}

/* The new process failed: reap it and keep serving. */
static void
upgrade_failed(const char *why)
{
	int	status = 0;

	if (waitpid(child, &status, 0) == child && WIFEXITED(status))
		log_error("upgrade: pid %ld %s (exit status %d); still "
		    "serving", (long)child, why, WEXITSTATUS(status));
	else
		log_error("upgrade: pid %ld %s; still serving", (long)child,
		    why);
	upgrade_end();
}

/* The pipe from the new process: "R" when it is ready, EOF when it died. */
static void
upgrade_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	char	c = 0;
	long	pid = (long)child;

	if (what & EV_TIMEOUT) {
		kill(child, SIGKILL);
		upgrade_failed("was not ready in time and was killed");
		return;
	}
	if (read(fd, &c, 1) != 1 || c != 'R') {
		upgrade_failed("exited before it was ready");
		return;
	}
	upgrade_end();
	ready_cb(pid);
}

/* In the child: hand the sockets and the pipe over, then exec. */
static void
upgrade_exec(const int *fds, int n, int ready_fd)
{
	char	list[INHERIT_FDS_MAX * 12] = "", num[16];
	int	i;

	for (i = 0; i < n; i++) {
		fcntl(fds[i], F_SETFD, 0);
		snprintf(num, sizeof(num), "%s%d", i ? "," : "", fds[i]);
		strncat(list, num, sizeof(list) - strlen(list) - 1);
	}
	fcntl(ready_fd, F_SETFD, 0);
	snprintf(num, sizeof(num), "%d", ready_fd);
	setenv("SLUICE_UPGRADE_FDS", list, 1);
	setenv("SLUICE_UPGRADE_READY", num, 1);
	execv(self, self_argv);
	fprintf(stderr, "sluice: upgrade: cannot run %s: %s\n", self,
	    strerror(errno));
	_exit(127);
}

/* See upgrade.h. */
int
upgrade_start(const int *fds, int n, void (*ready)(long pid))
{
	struct timeval	tv = { UPGRADE_READY_TIMEOUT_S, 0 };
	int		p[2];

	if (child != 0) {
		log_warn("upgrade: pid %ld is still starting", (long)child);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_error("upgrade: pipe: %s", strerror(errno));
		return -1;
	}
	log_info("upgrade: starting %s with %d socket(s)", self, n);
	if ((child = fork()) == -1) {
		log_error("upgrade: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		child = 0;
		return -1;
	}
	if (child == 0)
		upgrade_exec(fds, n, p[1]);
	close(p[1]);
	ready_cb = ready;
	pipe_ev = event_new(sluice_base, p[0], EV_READ, upgrade_pipe_cb, NULL);
	if (pipe_ev == NULL || event_add(pipe_ev, &tv) == -1) {
		kill(child, SIGKILL);
		upgrade_failed("could not be watched");
		return -1;
	}
	return 0;
}

/* See upgrade.h. */
void
upgrade_report_ready(void)
{
	const char	*v = getenv("SLUICE_UPGRADE_READY");
	int		 fd;

	if (v == NULL)
		return;
	fd = atoi(v);
	unsetenv("SLUICE_UPGRADE_READY");
	if (fd < 3)
		return;
	if (write(fd, "R", 1) != 1)
		log_warn("upgrade: cannot tell the old process: %s",
		    strerror(errno));
	close(fd);
}

/* See upgrade.h. */
void
upgrade_free(void)
{
	if (pipe_ev != NULL && child != 0)
		kill(child, SIGTERM);
	upgrade_end();
}
