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

#include "proxy/base/log.h"
#include "proxy/base/runtime.h"
#include "proxy/ctl/upgrade.h"

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

/*
 * The new process's environment: ours, with SLUICE_UPGRADE_FDS (the
 * listening sockets) and SLUICE_UPGRADE_READY (the pipe) set. Built
 * before fork: with worker threads the child may only make async-signal-
 * safe calls until it execs. NULL when out of memory; free with
 * upgrade_env_free.
 */
static char **
upgrade_env(const int *fds, int n, int ready_fd)
{
	extern char	**environ;
	char		 list[INHERIT_FDS_MAX * 12] = "", num[16];
	char		**env;
	size_t		 i, k = 0, count = 0;

	for (i = 0; i < (size_t)n; i++) {
		snprintf(num, sizeof(num), "%s%d", i ? "," : "", fds[i]);
		strncat(list, num, sizeof(list) - strlen(list) - 1);
	}
	while (environ[count] != NULL)
		count++;
	if ((env = calloc(count + 3, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < count; i++)
		if (strncmp(environ[i], "SLUICE_UPGRADE_", 15) != 0)
			env[k++] = environ[i];
	/* the two last entries are ours to free */
	if (asprintf(&env[k], "SLUICE_UPGRADE_FDS=%s", list) == -1) {
		free(env);
		return NULL;
	}
	if (asprintf(&env[k + 1], "SLUICE_UPGRADE_READY=%d", ready_fd) == -1) {
		free(env[k]);
		free(env);
		return NULL;
	}
	return env;
}

/* Free what upgrade_env made. */
static void
upgrade_env_free(char **env)
{
	size_t	k = 0;

	while (env[k] != NULL && strncmp(env[k], "SLUICE_UPGRADE_", 15) != 0)
		k++;
	free(env[k]);
	if (env[k] != NULL)
		free(env[k + 1]);
	free(env);
}

/* In the child: hand the sockets and the pipe over, then exec. */
static void
upgrade_exec(const int *fds, int n, int ready_fd, char **env)
{
	static const char	msg[] = "sluice: upgrade: cannot run the "
				    "binary\n";
	int			i;

	for (i = 0; i < n; i++)
		fcntl(fds[i], F_SETFD, 0);
	fcntl(ready_fd, F_SETFD, 0);
	execve(self, self_argv, env);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1)
		_exit(127);
	_exit(127);
}

/* See upgrade.h. */
int
upgrade_start(const int *fds, int n, void (*ready)(long pid))
{
	struct timeval	  tv = { UPGRADE_READY_TIMEOUT_S, 0 };
	char		**env;
	int		  p[2];

	if (child != 0) {
		log_warn("upgrade: pid %ld is still starting", (long)child);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_error("upgrade: pipe: %s", strerror(errno));
		return -1;
	}
	if ((env = upgrade_env(fds, n, p[1])) == NULL) {
		log_error("upgrade: out of memory");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	log_info("upgrade: starting %s with %d socket(s)", self, n);
	if ((child = fork()) == -1) {
		log_error("upgrade: fork: %s", strerror(errno));
		upgrade_env_free(env);
		close(p[0]);
		close(p[1]);
		child = 0;
		return -1;
	}
	if (child == 0)
		upgrade_exec(fds, n, p[1], env);
	upgrade_env_free(env);
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
