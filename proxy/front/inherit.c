/*
 * inherit: sockets from systemd or from the previous sluice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/util.h>

#include "proxy/front/inherit.h"
#include "proxy/base/log.h"

#define INHERIT_MAX	64
#define SD_LISTEN_FDS_START	3

static struct {
	int			 fd;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 taken;
} inherited[INHERIT_MAX];
static int	ninherited;

/* Remember fd when it is a listening stream socket. */
static void
inherit_add(int fd)
{
	int		type = 0, listening = 0;
	socklen_t	len = sizeof(type);

	if (ninherited == INHERIT_MAX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM)
		return;
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len) == -1 || !listening)
		return;
	inherited[ninherited].fd = fd;
	inherited[ninherited].sslen = sizeof(inherited[ninherited].ss);
	if (getsockname(fd, (struct sockaddr *)&inherited[ninherited].ss,
	    &inherited[ninherited].sslen) == -1)
		return;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ninherited++;
}

/* systemd: LISTEN_FDS descriptors from 3 on, when LISTEN_PID is us. */
static void
inherit_systemd(void)
{
	const char	*pid = getenv("LISTEN_PID");
	const char	*fds = getenv("LISTEN_FDS");
	int		 i, n;

	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid())
		return;
	n = atoi(fds);
	for (i = 0; i < n && i < INHERIT_MAX; i++)
		inherit_add(SD_LISTEN_FDS_START + i);
	log_info("socket activation: %d socket(s) inherited", n);
}

/* A binary upgrade: "fd,fd,..." in SLUICE_UPGRADE_FDS. */
static void
inherit_upgrade(void)
{
	const char	*list = getenv("SLUICE_UPGRADE_FDS");
	char		*end;
	long		 fd;

	if (list == NULL)
		return;
	while (*list != '\0') {
		fd = strtol(list, &end, 10);
		if (end == list)
			break;
		if (fd >= 0 && fd < 65536)
			inherit_add((int)fd);
		list = *end == ',' ? end + 1 : end;
	}
}

/* See inherit.h. */
void
inherit_init(void)
{
	inherit_systemd();
	inherit_upgrade();
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("SLUICE_UPGRADE_FDS");
}

/* 1 when a is b's address and port (family, address, port compared). */
static int
inherit_same(const struct sockaddr_storage *a, socklen_t alen,
    const struct conf_addr *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6;

	if (a->ss_family != b->ss.ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		b4 = (const void *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		b6 = (const void *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return alen == b->sslen && memcmp(a, &b->ss, alen) == 0;
}

/* See inherit.h. */
int
inherit_take(const struct conf_addr *addr)
{
	int	i;

	for (i = 0; i < ninherited; i++) {
		if (inherited[i].taken ||
		    !inherit_same(&inherited[i].ss, inherited[i].sslen, addr))
			continue;
		inherited[i].taken = 1;
		evutil_make_socket_nonblocking(inherited[i].fd);
		return inherited[i].fd;
	}
	return -1;
}

/* See inherit.h. */
void
inherit_close_unused(void)
{
	int	i;

	for (i = 0; i < ninherited; i++)
		if (!inherited[i].taken) {
			log_warn("inherited socket %d matches no listener; "
			    "closing it", inherited[i].fd);
			close(inherited[i].fd);
			inherited[i].taken = 1;
		}
}
