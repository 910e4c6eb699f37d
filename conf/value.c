/*
 * value.c: the value parsers behind the keyword table (durations, sizes,
 * integers, booleans, socket addresses).
 *
 * Each parser takes the whole value as inih hands it (already trimmed), is
 * strict about junk, and returns 0 or -1 with a static reason in *why.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/* Longest host part of an address; a DNS name is at most 253 octets. */
#define CONF_HOST_MAX		256

/* A unit suffix and how many base units it stands for. */
struct conf_unit {
	const char	*suffix;
	uint64_t	 mult;
};

static const struct conf_unit conf_duration_units[] = {
	{ "",	1000 },			/* a bare number is seconds */
	{ "ms",	1 },
	{ "s",	1000 },
	{ "m",	60 * 1000 },
	{ "h",	60 * 60 * 1000 },
	{ NULL,	0 }
};

static const struct conf_unit conf_size_units[] = {
	{ "",	1 },
	{ "k",	1024 },
	{ "m",	1024 * 1024 },
	{ "g",	1024 * 1024 * 1024 },
	{ NULL,	0 }
};

/* Read the leading decimal digits of s into *v; *end points past them. */
static int
conf_parse_digits(const char *s, uint64_t *v, const char **end,
    const char **why)
{
	uint64_t	 n = 0;

	if (*s == '\0') {
		*why = "empty value";
		return -1;
	}
	if (*s == '-') {
		*why = "must not be negative";
		return -1;
	}
	if (!isdigit((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			*why = "number too large";
			return -1;
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*end = s;
	return 0;
}

/* Parse "NUMBER[UNIT]" against a unit table; nocase makes units A == a. */
static int
conf_parse_units(const char *s, const struct conf_unit *units, int nocase,
    uint64_t *out, const char *badunit, const char **why)
{
	const struct conf_unit	*u;
	const char		*end;
	uint64_t		 n;
	int			 same;

	if (conf_parse_digits(s, &n, &end, why) == -1)
		return -1;
	for (u = units; u->suffix != NULL; u++) {
		same = nocase ? strcasecmp(end, u->suffix) == 0 :
		    strcmp(end, u->suffix) == 0;
		if (same)
			break;
	}
	if (u->suffix == NULL) {
		*why = badunit;
		return -1;
	}
	if (n != 0 && u->mult > UINT64_MAX / n) {
		*why = "number too large";
		return -1;
	}
	*out = n * u->mult;
	return 0;
}

/* Durations are in milliseconds; units are lower case, as nginx has them. */
int
conf_parse_duration(const char *s, uint64_t *ms, const char **why)
{
	return conf_parse_units(s, conf_duration_units, 0, ms,
	    "bad unit (use ms, s, m or h)", why);
}

/* Sizes are in bytes; k, m and g are powers of 1024 in either case. */
int
conf_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	return conf_parse_units(s, conf_size_units, 1, bytes,
	    "bad unit (use k, m or g)", why);
}

/* A decimal integer within [min, max]; no spaces, no junk. */
int
conf_parse_int(const char *s, long min, long max, long *out,
    const char **why)
{
	char	*end;
	long	 v;

	if (*s == '\0') {
		*why = "empty value";
		return -1;
	}
	if (*s != '-' && !isdigit((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0') {
		*why = "not a number";
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

/* The usual spellings of yes and no, in any case. */
int
conf_parse_bool(const char *s, int *out, const char **why)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t			 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	*why = "not a boolean (use on or off)";
	return -1;
}

/* The syslog facilities by name, as <syslog.h> numbers them. */
static const struct {
	const char	*name;
	int		 code;
} conf_facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 },
	{ "auth", 4 }, { "syslog", 5 }, { "lpr", 6 }, { "news", 7 },
	{ "uucp", 8 }, { "cron", 9 }, { "authpriv", 10 }, { "ftp", 11 },
	{ "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 },
	{ "local6", 22 }, { "local7", 23 },
};

/* See conf.h. */
int
conf_syslog_parse(const char *value, int *facility, const char **path,
    const char **why)
{
	const char	*name = value + 7, *colon;
	size_t		 n, i;

	if (strncmp(value, "syslog:", 7) != 0)
		return 1;
	colon = strchr(name, ':');
	n = colon != NULL ? (size_t)(colon - name) : strlen(name);
	for (i = 0; i < sizeof(conf_facilities) / sizeof(conf_facilities[0]);
	    i++)
		if (strlen(conf_facilities[i].name) == n &&
		    strncmp(conf_facilities[i].name, name, n) == 0)
			break;
	if (i == sizeof(conf_facilities) / sizeof(conf_facilities[0])) {
		*why = "unknown syslog facility (kern, user, mail, daemon, "
		    "auth, syslog, lpr, news, uucp, cron, authpriv, ftp, "
		    "local0..local7)";
		return -1;
	}
	*facility = conf_facilities[i].code;
	*path = colon != NULL ? colon + 1 : CONF_SYSLOG_PATH;
	if (**path == '\0') {
		*why = "syslog:FACILITY:PATH needs a socket path";
		return -1;
	}
	if (strlen(*path) >= CONF_SYSLOG_PATH_MAX) {
		*why = "syslog socket path too long (107 bytes at most)";
		return -1;
	}
	return 0;
}

/* A port is 1..65535, digits only. */
static int
conf_parse_port(const char *s, uint16_t *port, const char **why)
{
	long	 v;

	if (*s == '\0') {
		*why = "missing port";
		return -1;
	}
	if (!isdigit((unsigned char)*s) ||
	    conf_parse_int(s, 1, 65535, &v, why) == -1) {
		*why = "bad port (use 1..65535)";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* Split "HOST:PORT" or "[V6]:PORT" into host (no brackets) and port. */
static int
conf_addr_split(const char *s, char *host, size_t hostsz, int *bracketed,
    uint16_t *port, const char **why)
{
	const char	*colon, *h = s, *hend;

	*bracketed = s[0] == '[';
	if (*bracketed) {
		h = s + 1;
		if ((hend = strchr(h, ']')) == NULL) {
			*why = "missing ']' after IPv6 address";
			return -1;
		}
		colon = hend + 1;
		if (*colon != ':') {
			*why = "expected ':PORT' after ']'";
			return -1;
		}
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*why = "expected HOST:PORT";
			return -1;
		}
		hend = colon;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "IPv6 addresses go in brackets: [ADDR]:PORT";
			return -1;
		}
	}
	if (hend == h) {
		*why = "missing host";
		return -1;
	}
	if ((size_t)(hend - h) >= hostsz) {
		*why = "host name too long";
		return -1;
	}
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	return conf_parse_port(colon + 1, port, why);
}

/* Host names: letters, digits, '-', '.' and '_' (seen in internal DNS). */
static int
conf_host_valid(const char *host, const char **why)
{
	const char	*p;

	for (p = host; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_') {
			*why = "bad host name";
			return 0;
		}
	}
	/* Keep getaddrinfo from reading "10.1" the inet_aton way. */
	if (strspn(host, "0123456789.") == strlen(host)) {
		*why = "bad IPv4 address";
		return 0;
	}
	return 1;
}

/* Resolve host to the first IPv4 or IPv6 address getaddrinfo gives. */
static int
conf_addr_resolve(const char *host, int flags, int family,
    struct conf_addr *out, const char **why)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = flags;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		*why = rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(out->ss))
			break;
	}
	if (ai == NULL) {
		freeaddrinfo(res);
		*why = "no IPv4 or IPv6 address for host";
		return -1;
	}
	memcpy(&out->ss, ai->ai_addr, ai->ai_addrlen);
	out->sslen = ai->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Fill the sockaddr of out from a host without port; "*" is 0.0.0.0. */
static int
conf_addr_lookup(const char *host, int bracketed, struct conf_addr *out,
    const char **why)
{
	struct sockaddr_in	 sin;

	if (bracketed) {
		if (conf_addr_resolve(host, AI_NUMERICHOST, AF_INET6, out,
		    why) == -1) {
			*why = "bad IPv6 address";
			return -1;
		}
		return 0;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (strcmp(host, "*") == 0)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		if (!conf_host_valid(host, why))
			return -1;
		return conf_addr_resolve(host, 0, AF_UNSPEC, out, why);
	}
	memcpy(&out->ss, &sin, sizeof(sin));
	out->sslen = sizeof(sin);
	return 0;
}

/* Parse and resolve "HOST:PORT", "[V6]:PORT" or "*:PORT". */
int
conf_parse_addr(const char *s, struct conf_addr *out, const char **why)
{
	struct conf_addr	 a;
	char			 host[CONF_HOST_MAX];
	uint16_t		 port;
	int			 bracketed;

	if (*s == '\0') {
		*why = "empty value";
		return -1;
	}
	memset(&a, 0, sizeof(a));
	if (conf_addr_split(s, host, sizeof(host), &bracketed, &port,
	    why) == -1)
		return -1;
	if (conf_addr_lookup(host, bracketed, &a, why) == -1)
		return -1;
	if (a.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a.ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(port);
	if ((a.text = strdup(s)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	*out = a;
	return 0;
}

/* Free the text of an address and zero it; safe on a zeroed one. */
void
conf_addr_clear(struct conf_addr *a)
{
	if (a == NULL)
		return;
	free(a->text);
	memset(a, 0, sizeof(*a));
}
