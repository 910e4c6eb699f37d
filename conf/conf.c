/*
 * conf.c: load an INI file into a struct conf.
 *
 * inih splits "key = value" and strips comments; everything else is ours.
 * Our reader hands inih one physical line at a time, so it counts lines,
 * rejects over-long ones, strips leading blanks (no continuation lines) and
 * takes the [section] headers itself, handing inih an empty line instead:
 * that way empty and duplicate sections are seen too. Every key is looked up
 * in one table (conf_keywords) that holds its type, field offset, default,
 * bounds and help. Errors are collected, never logged; any error means the
 * whole load fails and nothing is returned.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf/conf.h"

#define CONF_NITEMS(a)		(sizeof(a) / sizeof((a)[0]))
#define CONF_DAY_MS		(24ULL * 60 * 60 * 1000)
#define CONF_NAME_CHARS		"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
/* Forward-secret AEAD ciphers for TLS 1.2, the tls_ciphers default. */
#define CONF_TLS_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
				"ECDHE-RSA-AES128-GCM-SHA256:" \
				"ECDHE-ECDSA-AES256-GCM-SHA384:" \
				"ECDHE-RSA-AES256-GCM-SHA384:" \
				"ECDHE-ECDSA-CHACHA20-POLY1305:" \
				"ECDHE-RSA-CHACHA20-POLY1305"

/* Enum keys are stored through an int lvalue. */
_Static_assert(sizeof(enum conf_balance) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum size");

/*
 * What a section token of the table (GLOBAL, ADMIN, LISTENER, UPSTREAM)
 * stands for besides its CONF_SECT_ value: its name as written in the file
 * and the struct its keys are stored in.
 */
#define CONF_GLOBAL_NAME	"global"
#define CONF_GLOBAL_STRUCT	struct conf_global
#define CONF_ADMIN_NAME		"admin"
#define CONF_ADMIN_STRUCT	struct conf_admin
#define CONF_LISTENER_NAME	"listener"
#define CONF_LISTENER_STRUCT	struct conf_listener
#define CONF_UPSTREAM_NAME	"upstream"
#define CONF_UPSTREAM_STRUCT	struct conf_upstream

/*
 * Section kinds as written in the file (named ones take "[kind NAME]"),
 * and where each kind's struct keeps its struct conf_lines.
 */
#define CONF_SECT(s, named)						\
	[CONF_SECT_##s] = { CONF_##s##_NAME, (named),			\
	    offsetof(CONF_##s##_STRUCT, lines) }
static const struct {
	const char	*name;
	int		 named;
	size_t		 lines;
} conf_sect_kinds[] = {
	CONF_SECT(GLOBAL, 0),
	CONF_SECT(ADMIN, 0),
	CONF_SECT(LISTENER, 1),
	CONF_SECT(UPSTREAM, 1),
};

enum conf_type {
	CONF_T_DURATION = 0,	/* uint64_t milliseconds */
	CONF_T_SIZE,		/* uint64_t bytes */
	CONF_T_INT,		/* int */
	CONF_T_BOOL,		/* int, 0 or 1 */
	CONF_T_STRING,		/* char *, malloc'd, not empty */
	CONF_T_ENUM,		/* an enum, by its names */
	CONF_T_ADDR,		/* struct conf_addr */
	CONF_T_CUSTOM,		/* the keyword's own parse function */
};

/*
 * One section met in the file: what it is and where. The lines of its keys
 * are in its struct (conf_sect_lines), to be read after the load.
 */
struct conf_sect {
	enum conf_sect_kind	 kind;
	size_t			 index;		/* in listeners/upstreams */
	int			 line;		/* of the header */
};

/* The state of one load: the conf being built, the input, the errors. */
struct conf_loader {
	struct conf		*conf;
	const char		*name;		/* file name for messages */
	FILE			*fp;		/* input is a file, or */
	const char		*text;		/* the rest of a string */
	char			*buf;		/* the current physical line */
	size_t			 bufsz;
	int			 lineno;
	struct conf_sect	*sects;
	size_t			 nsects;
	struct conf_sect	*cur;		/* NULL before any section */
	int			 skip;		/* in a rejected section */
	struct conf_err		*errs;
	size_t			 nerrs;
	int			 nerrors;	/* nerrs + those lost to OOM */
};

/* One error: "file:line: what", sorted by line before it is handed out. */
struct conf_err {
	int		 line;
	size_t		 seq;		/* keeps the order within a line */
	char		*text;
};

/* One key of one section kind: how to read it, where to store it. */
struct conf_keyword {
	enum conf_sect_kind	 sect;
	struct conf_keyword_info info;	/* section, key, default, help */
	enum conf_type		 type;
	size_t			 offset;	/* of the field in the section
						 * struct */
	uint64_t		 min;		/* bounds: duration, size, int
						 * and some custom keys */
	uint64_t		 max;
	const char *const	*names;		/* CONF_T_ENUM, NULL-ended */
	/* CONF_T_CUSTOM: store value into the section at base. */
	int			(*parse)(struct conf_loader *,
				    const struct conf_keyword *, void *base,
				    const char *value);
};

static int	conf_error(struct conf_loader *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	conf_set_status_range(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_path(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_server(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_route(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_cert(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_protocols(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_server_name(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_client_cert(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_percent(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);
static int	conf_set_workers(struct conf_loader *,
		    const struct conf_keyword *, void *, const char *);

static const char *const conf_balance_names[] = {
	"round_robin", "least_conn", "random_two", NULL
};

static const char *const conf_log_level_names[] = {
	"error", "warn", "info", "debug", NULL
};

/*
 * One table entry: key k of section token s, type t, default d ("" for
 * none), bounds lo..hi, enum names nm, custom setter fn, repeatable rep,
 * stored in field f of the section's struct, documented by help h. The
 * macros after it say only what their type needs.
 */
#define CONF_KEY(s, k, t, d, lo, hi, nm, fn, rep, f, h)		\
	{ .sect = CONF_SECT_##s,					\
	  .info = { .section = CONF_##s##_NAME, .key = (k),		\
	      .defval = (d), .help = (h), .repeatable = (rep) },	\
	  .type = (t), .offset = offsetof(CONF_##s##_STRUCT, f),	\
	  .min = (lo), .max = (hi), .names = (nm), .parse = (fn) }

/* Milliseconds within lo..hi ("250ms", "5s", "2m", "1h"). */
#define CONF_DURATION(s, k, d, lo, hi, f, h)				\
	CONF_KEY(s, k, CONF_T_DURATION, d, lo, hi, NULL, NULL, 0, f, h)
/* Bytes within lo..hi ("512", "64k", "16m", "1g"). */
#define CONF_SIZE(s, k, d, lo, hi, f, h)				\
	CONF_KEY(s, k, CONF_T_SIZE, d, lo, hi, NULL, NULL, 0, f, h)
/* An int within lo..hi. */
#define CONF_INT(s, k, d, lo, hi, f, h)				\
	CONF_KEY(s, k, CONF_T_INT, d, lo, hi, NULL, NULL, 0, f, h)
/* An int, 0 or 1 ("on", "off", ...). */
#define CONF_BOOL(s, k, d, f, h)					\
	CONF_KEY(s, k, CONF_T_BOOL, d, 0, 0, NULL, NULL, 0, f, h)
/* A char *, any text but the empty one. */
#define CONF_STRING(s, k, d, f, h)					\
	CONF_KEY(s, k, CONF_T_STRING, d, 0, 0, NULL, NULL, 0, f, h)
/* An enum: the index of the value in nm. */
#define CONF_ENUM(s, k, d, nm, f, h)					\
	CONF_KEY(s, k, CONF_T_ENUM, d, 0, 0, nm, NULL, 0, f, h)
/* A struct conf_addr, resolved at load; no default. */
#define CONF_ADDR(s, k, f, h)						\
	CONF_KEY(s, k, CONF_T_ADDR, "", 0, 0, NULL, NULL, 0, f, h)
/* Read by fn, which may use the bounds lo..hi. */
#define CONF_CUSTOM(s, k, d, lo, hi, fn, f, h)				\
	CONF_KEY(s, k, CONF_T_CUSTOM, d, lo, hi, NULL, fn, 0, f, h)
/* A key that may be repeated, each line appended by fn; no default. */
#define CONF_LIST(s, k, fn, f, h)					\
	CONF_KEY(s, k, CONF_T_CUSTOM, "", 0, 0, NULL, fn, 1, f, h)

/* Every key sluice knows. conf/sluice.ini documents each of them. */
static const struct conf_keyword conf_keywords[] = {
	CONF_DURATION(GLOBAL, "shutdown_timeout", "30s", 1, CONF_DAY_MS,
	    shutdown_timeout_ms, "hard deadline after SIGTERM"),
	CONF_DURATION(GLOBAL, "drain_notice", "0s", 0, CONF_DAY_MS,
	    drain_notice_ms, "lame-duck time before listeners close"),
	CONF_DURATION(GLOBAL, "drain_idle_timeout", "2s", 1, CONF_DAY_MS,
	    drain_idle_timeout_ms,
	    "idle keep-alive connections close after this once draining"),
	CONF_STRING(GLOBAL, "access_log", "-", access_log,
	    "path, \"-\" for stdout, or \"off\""),
	CONF_STRING(GLOBAL, "error_log", "-", error_log,
	    "path or \"-\" for stderr"),
	CONF_ENUM(GLOBAL, "log_level", "info", conf_log_level_names, log_level,
	    "error | warn | info | debug"),
	CONF_STRING(GLOBAL, "pid_file", "", pid_file,
	    "write the process id to this file (optional)"),
	CONF_CUSTOM(GLOBAL, "workers", "1", 1, CONF_WORKERS_MAX,
	    conf_set_workers, workers, "threads serving connections: 1..64, "
	    "or auto (one per CPU); read at start"),

	CONF_ADDR(ADMIN, "listen", listen,
	    "/healthz /readyz /status /metrics, runtime drain"),
	CONF_STRING(ADMIN, "token", "", token,
	    "POSTs need Authorization: Bearer TOKEN (required off loopback)"),

	CONF_ADDR(LISTENER, "listen", listen,
	    "address to accept clients on (required)"),
	CONF_STRING(LISTENER, "upstream", "", upstream,
	    "default route: the upstream when no route matches"),
	CONF_LIST(LISTENER, "route", conf_set_route, routes,
	    "[HOST]/PREFIX UPSTREAM; the longest prefix wins"),
	CONF_LIST(LISTENER, "tls_certificate", conf_set_cert, certs,
	    "CERT KEY; SNI by the certs' names; first is default"),
	CONF_DURATION(LISTENER, "keepalive_timeout", "60s", 1, CONF_DAY_MS,
	    keepalive_timeout_ms,
	    "an idle client connection closes after this"),
	CONF_DURATION(LISTENER, "client_timeout", "60s", 1, CONF_DAY_MS,
	    client_timeout_ms,
	    "time allowed to read a request from the client"),
	CONF_SIZE(LISTENER, "max_body_size", "16m", 0, 64ULL << 30,
	    max_body_size, "largest request body accepted"),
	CONF_SIZE(LISTENER, "max_header_size", "64k", 1 << 10, 1 << 20,
	    max_header_size, "largest request line and headers accepted"),
	CONF_CUSTOM(LISTENER, "tls_protocols", "TLSv1.2 TLSv1.3", 0, 0,
	    conf_set_protocols, tls_protocols,
	    "TLS versions accepted: TLSv1.2 and/or TLSv1.3"),
	CONF_STRING(LISTENER, "tls_ciphers", CONF_TLS_CIPHERS, tls_ciphers,
	    "TLS 1.2 ciphers, OpenSSL syntax (TLS 1.3 keeps its own)"),

	CONF_LIST(UPSTREAM, "server", conf_set_server, servers,
	    "HOST:PORT [name=NAME] [weight=1..1000]"),
	CONF_ENUM(UPSTREAM, "balance", "round_robin", conf_balance_names,
	    balance, "round_robin | least_conn | random_two"),
	CONF_DURATION(UPSTREAM, "connect_timeout", "5s", 1, CONF_DAY_MS,
	    connect_timeout_ms, "time allowed to connect to a server"),
	CONF_DURATION(UPSTREAM, "read_timeout", "60s", 1, CONF_DAY_MS,
	    read_timeout_ms, "time allowed between two reads from a server"),
	CONF_DURATION(UPSTREAM, "write_timeout", "60s", 1, CONF_DAY_MS,
	    write_timeout_ms, "time allowed between two writes to a server"),
	CONF_INT(UPSTREAM, "keepalive", "32", 0, 10000, keepalive,
	    "idle connections kept per server and worker (0: none)"),
	CONF_DURATION(UPSTREAM, "keepalive_timeout", "4s", 1, CONF_DAY_MS,
	    keepalive_timeout_ms,
	    "an idle server connection closes after this"),
	CONF_DURATION(UPSTREAM, "drain_timeout", "60s", 1, CONF_DAY_MS,
	    drain_timeout_ms,
	    "how long a removed server's exchanges may run"),
	CONF_INT(UPSTREAM, "retries", "1", 0, 10, retries,
	    "tries on another server when nothing can have been acted on"),
	CONF_INT(UPSTREAM, "max_fails", "1", 0, 1000, max_fails,
	    "failures within fail_timeout that take a server out (0: never)"),
	CONF_DURATION(UPSTREAM, "fail_timeout", "10s", 1, CONF_DAY_MS,
	    fail_timeout_ms,
	    "window for max_fails, and how long a failed server stays out"),
	CONF_BOOL(UPSTREAM, "fail_on_5xx", "off", fail_on_5xx,
	    "count 5xx responses as failures"),
	CONF_BOOL(UPSTREAM, "fail_on_invalid", "off", fail_on_invalid,
	    "count malformed responses as failures"),
	CONF_CUSTOM(UPSTREAM, "max_ejected", "50%", 0, 100, conf_set_percent,
	    max_ejected_pct,
	    "most servers failures may take out at once (at least one)"),
	CONF_CUSTOM(UPSTREAM, "health_check", "", 0, 0, conf_set_path,
	    health_check,
	    "PATH to GET on every server each health_interval (optional)"),
	CONF_DURATION(UPSTREAM, "health_interval", "2s", 10, CONF_DAY_MS,
	    health_interval_ms, "time between two health checks of a server"),
	CONF_DURATION(UPSTREAM, "health_timeout", "1s", 1, CONF_DAY_MS,
	    health_timeout_ms, "time allowed for one health check"),
	CONF_INT(UPSTREAM, "health_rise", "2", 1, 100, health_rise,
	    "passed checks in a row that bring a server back"),
	CONF_INT(UPSTREAM, "health_fall", "3", 1, 100, health_fall,
	    "failed checks in a row that take a server out"),
	CONF_CUSTOM(UPSTREAM, "health_status", "200-399", 0, 0,
	    conf_set_status_range, health_status_min,
	    "statuses a health check accepts: CODE or LOW-HIGH"),
	CONF_DURATION(UPSTREAM, "tunnel_timeout", "1h", 1, CONF_DAY_MS,
	    tunnel_timeout_ms,
	    "an upgraded connection (WebSocket) idle this long closes"),
	CONF_DURATION(UPSTREAM, "slow_start", "0s", 0, CONF_DAY_MS,
	    slow_start_ms,
	    "a server back in service ramps its weight up over this"),
	CONF_BOOL(UPSTREAM, "tls", "off", tls,
	    "speak TLS to the servers"),
	CONF_BOOL(UPSTREAM, "tls_verify", "on", tls_verify,
	    "verify the server's certificate and name (with tls = on)"),
	CONF_STRING(UPSTREAM, "tls_ca", "", tls_ca,
	    "CA file or directory to verify with (default: the system "
	    "store)"),
	CONF_CUSTOM(UPSTREAM, "tls_server_name", "", 0, 0,
	    conf_set_server_name, tls_server_name,
	    "SNI and the name verified (default: the server's host)"),
	CONF_CUSTOM(UPSTREAM, "tls_client_certificate", "", 0, 0,
	    conf_set_client_cert, tls_client_cert,
	    "CERT KEY presented to the servers (mutual TLS)"),
};

_Static_assert(CONF_NITEMS(conf_keywords) <= CONF_KEYS_MAX,
    "raise CONF_KEYS_MAX in conf.h");

/*
 * Errors
 */

/* Record "name:line: <fmt>"; always returns -1 so callers can return it. */
static int
conf_error(struct conf_loader *ld, int line, const char *fmt, ...)
{
	struct conf_err	*e;
	va_list		 ap;
	char		*body, *text;
	int		 rc;

	ld->nerrors++;
	va_start(ap, fmt);
	rc = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	rc = asprintf(&text, "%s:%d: %s\n", ld->name, line, body);
	free(body);
	if (rc == -1)
		return -1;
	e = reallocarray(ld->errs, ld->nerrs + 1, sizeof(*e));
	if (e == NULL) {
		free(text);
		return -1;
	}
	ld->errs = e;
	e[ld->nerrs].line = line;
	e[ld->nerrs].seq = ld->nerrs;
	e[ld->nerrs++].text = text;
	return -1;
}

/* qsort order for errors: by line, then as they were found. */
static int
conf_err_cmp(const void *a, const void *b)
{
	const struct conf_err	*ea = a, *eb = b;

	if (ea->line != eb->line)
		return ea->line < eb->line ? -1 : 1;
	return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

/* All errors as one text in line order; frees them. NULL when out of
 * memory. */
static char *
conf_err_join(struct conf_loader *ld)
{
	size_t	 i, len = 0;
	char	*text, *p;

	qsort(ld->errs, ld->nerrs, sizeof(*ld->errs), conf_err_cmp);
	for (i = 0; i < ld->nerrs; i++)
		len += strlen(ld->errs[i].text);
	if ((text = p = malloc(len + 1)) != NULL) {
		for (i = 0; i < ld->nerrs; i++)
			p = stpcpy(p, ld->errs[i].text);
		*p = '\0';
	}
	for (i = 0; i < ld->nerrs; i++)
		free(ld->errs[i].text);
	free(ld->errs);
	ld->errs = NULL;
	ld->nerrs = 0;
	return text;
}

/* Report a problem with kw on the current line. */
static int
conf_key_error(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *why)
{
	return conf_error(ld, ld->lineno, "%s: %s", kw->info.key, why);
}

/* Report a bad value of kw on the current line. */
static int
conf_value_error(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *value, const char *why)
{
	return conf_error(ld, ld->lineno, "%s: \"%s\": %s", kw->info.key,
	    value, why);
}

/* Write v the way the key would be written: "5s", "64k", "32". */
static void
conf_fmt_bound(enum conf_type type, uint64_t v, char *buf, size_t sz)
{
	static const struct {
		enum conf_type	 type;
		uint64_t	 mult;
		const char	*unit;
	} units[] = {
		{ CONF_T_DURATION, 60 * 60 * 1000, "h" },
		{ CONF_T_DURATION, 60 * 1000, "m" },
		{ CONF_T_DURATION, 1000, "s" },
		{ CONF_T_DURATION, 1, "ms" },
		{ CONF_T_SIZE, 1 << 30, "g" },
		{ CONF_T_SIZE, 1 << 20, "m" },
		{ CONF_T_SIZE, 1 << 10, "k" },
	};
	size_t	 i;

	for (i = 0; i < CONF_NITEMS(units); i++) {
		if (units[i].type == type && v % units[i].mult == 0 &&
		    (v != 0 || type == CONF_T_SIZE)) {
			snprintf(buf, sz, "%llu%s",
			    (unsigned long long)(v / units[i].mult),
			    v == 0 ? "" : units[i].unit);
			return;
		}
	}
	snprintf(buf, sz, "%llu%s", (unsigned long long)v,
	    type == CONF_T_DURATION ? "s" : "");
}

/* Report a value outside the bounds of kw. */
static int
conf_range_error(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *value)
{
	char	 lo[32], hi[32], why[80];

	conf_fmt_bound(kw->type, kw->min, lo, sizeof(lo));
	conf_fmt_bound(kw->type, kw->max, hi, sizeof(hi));
	snprintf(why, sizeof(why), "out of range (%s..%s)", lo, hi);
	return conf_value_error(ld, kw, value, why);
}

/*
 * Setters: one per type, each stores into base + kw->offset.
 */

/* The field kw describes inside the section struct at base. */
static void *
conf_field(void *base, const struct conf_keyword *kw)
{
	return (char *)base + kw->offset;
}

/* CONF_T_DURATION and CONF_T_SIZE: a uint64_t within the bounds of kw. */
static int
conf_set_u64(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	const char	*why;
	uint64_t	 v;
	int		 rc;

	if (kw->type == CONF_T_DURATION)
		rc = conf_parse_duration(value, &v, &why);
	else
		rc = conf_parse_size(value, &v, &why);
	if (rc == -1)
		return conf_value_error(ld, kw, value, why);
	if (v < kw->min || v > kw->max)
		return conf_range_error(ld, kw, value);
	*(uint64_t *)conf_field(base, kw) = v;
	return 0;
}

/* CONF_T_INT */
static int
conf_set_int(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	const char	*why;
	long		 v;

	if (conf_parse_int(value, LONG_MIN, LONG_MAX, &v, &why) == -1)
		return conf_value_error(ld, kw, value, why);
	if (v < 0 || (uint64_t)v < kw->min || (uint64_t)v > kw->max)
		return conf_range_error(ld, kw, value);
	*(int *)conf_field(base, kw) = (int)v;
	return 0;
}

/* CONF_T_BOOL */
static int
conf_set_bool(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	const char	*why;
	int		 v;

	if (conf_parse_bool(value, &v, &why) == -1)
		return conf_value_error(ld, kw, value, why);
	*(int *)conf_field(base, kw) = v;
	return 0;
}

/* CONF_T_STRING: any text but the empty one. */
static int
conf_set_string(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char	**field = conf_field(base, kw), *s;

	if (*value == '\0')
		return conf_value_error(ld, kw, value, "empty value");
	if ((s = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	free(*field);
	*field = s;
	return 0;
}

/* CONF_T_ENUM: one of kw->names, stored as its index. */
static int
conf_set_enum(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char	 why[128] = "must be one of ";
	size_t	 i;

	for (i = 0; kw->names[i] != NULL; i++) {
		if (strcmp(value, kw->names[i]) == 0) {
			*(int *)conf_field(base, kw) = (int)i;
			return 0;
		}
	}
	for (i = 0; kw->names[i] != NULL; i++) {
		if (i > 0)
			strncat(why, ", ", sizeof(why) - strlen(why) - 1);
		strncat(why, kw->names[i], sizeof(why) - strlen(why) - 1);
	}
	return conf_value_error(ld, kw, value, why);
}

/* CONF_T_ADDR: resolved now, so a bad name fails the load. */
static int
conf_set_addr(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_addr	*field = conf_field(base, kw), a;
	const char		*why;

	if (conf_parse_addr(value, &a, &why) == -1)
		return conf_value_error(ld, kw, value, why);
	conf_addr_clear(field);
	*field = a;
	return 0;
}

/* Store value into the section at base, by the type of kw. */
static int
conf_set(struct conf_loader *ld, const struct conf_keyword *kw, void *base,
    const char *value)
{
	static int (*const setters[])(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *) = {
		[CONF_T_DURATION] = conf_set_u64,
		[CONF_T_SIZE] = conf_set_u64,
		[CONF_T_INT] = conf_set_int,
		[CONF_T_BOOL] = conf_set_bool,
		[CONF_T_STRING] = conf_set_string,
		[CONF_T_ENUM] = conf_set_enum,
		[CONF_T_ADDR] = conf_set_addr,
	};

	if (kw->type == CONF_T_CUSTOM)
		return kw->parse(ld, kw, base, value);
	return setters[kw->type](ld, kw, base, value);
}

/*
 * Repeatable keys: server, route, tls_certificate.
 */

/* Split s in place at blanks into at most max words; returns the count. */
static size_t
conf_words(char *s, char **words, size_t max)
{
	size_t	 n = 0;
	char	*save, *w;

	for (w = strtok_r(s, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

/* Grow array (of n elements of size sz) by one zeroed element. */
static void *
conf_append(void *array, size_t n, size_t sz)
{
	char	*p;

	if ((p = reallocarray(array, n + 1, sz)) == NULL)
		return NULL;
	memset(p + n * sz, 0, sz);
	return p;
}

/* The host part of a "HOST:PORT" or "[V6]:PORT" text, brackets removed. */
static char *
conf_addr_host(const char *text)
{
	if (text[0] == '[')
		return strndup(text + 1, strcspn(text + 1, "]"));
	return strndup(text, (size_t)(strrchr(text, ':') - text));
}

/* The port of a resolved address. */
static uint16_t
conf_addr_port(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* Parse the name= and weight= words of a server line into s. */
static int
conf_server_options(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_server *s, char **words, size_t n)
{
	const char	*why;
	long		 w;
	size_t		 i;
	int		 rc = 0, seen_weight = 0;

	for (i = 1; i < n; i++) {
		if (strncmp(words[i], "name=", 5) == 0 && s->name == NULL) {
			if (words[i][5] == '\0')
				rc = conf_value_error(ld, kw, words[i],
				    "empty name");
			else if ((s->name = strdup(words[i] + 5)) == NULL)
				rc = conf_value_error(ld, kw, words[i],
				    "out of memory");
		} else if (strncmp(words[i], "weight=", 7) == 0 &&
		    !seen_weight) {
			seen_weight = 1;
			if (conf_parse_int(words[i] + 7, 1, 1000, &w,
			    &why) == -1)
				rc = conf_value_error(ld, kw, words[i],
				    "weight must be 1..1000");
			else
				s->weight = (int)w;
		} else
			rc = conf_value_error(ld, kw, words[i],
			    "unknown or repeated option (use name=, weight=)");
	}
	return rc;
}

/* Free what a conf_server owns. */
static void
conf_server_clear(struct conf_server *s)
{
	free(s->name);
	free(s->host);
	conf_addr_clear(&s->addr);
}

/* Fill s from the words of a server line; s is cleared on failure. */
static int
conf_server_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_server *s, char **words, size_t n)
{
	const char	*why;

	s->weight = 1;
	s->line = ld->lineno;
	if (n == 0 || n > 3)
		return conf_key_error(ld, kw,
		    "expected HOST:PORT [name=NAME] [weight=N]");
	if (strncmp(words[0], "*:", 2) == 0)
		return conf_value_error(ld, kw, words[0],
		    "a server needs a host, not *");
	if (conf_parse_addr(words[0], &s->addr, &why) == -1)
		return conf_value_error(ld, kw, words[0], why);
	if (conf_server_options(ld, kw, s, words, n) == -1) {
		conf_server_clear(s);
		return -1;
	}
	if (s->name == NULL)
		s->name = strdup(words[0]);
	s->host = conf_addr_host(words[0]);
	if (s->name == NULL || s->host == NULL) {
		conf_server_clear(s);
		return conf_key_error(ld, kw, "out of memory");
	}
	s->port = conf_addr_port(&s->addr);
	return 0;
}

/* server = HOST:PORT [name=N] [weight=N]; names are unique per upstream. */
static int
conf_set_server(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_upstream	*up = base;
	struct conf_server	 s, *p;
	char			*copy, *words[4];
	size_t			 i, n;
	int			 rc;

	memset(&s, 0, sizeof(s));
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 3);
	rc = conf_server_parse(ld, kw, &s, words, n);
	free(copy);
	if (rc == -1)
		return -1;
	for (i = 0; i < up->nservers; i++) {
		if (strcmp(up->servers[i].name, s.name) == 0) {
			conf_error(ld, ld->lineno, "%s: duplicate server name "
			    "\"%s\" (first at line %d)", kw->info.key, s.name,
			    up->servers[i].line);
			conf_server_clear(&s);
			return -1;
		}
	}
	if ((p = conf_append(up->servers, up->nservers, sizeof(*p))) == NULL) {
		conf_server_clear(&s);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	up->servers = p;
	up->servers[up->nservers++] = s;
	return 0;
}

/* A route host: NAME or *.SUFFIX, no port; lower-cased in place. */
static int
conf_route_host_ok(char *host)
{
	char	*p = host;

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0' || *p == '.' || strspn(p, CONF_NAME_CHARS) != strlen(p))
		return 0;
	for (p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 1;
}

/* Fill r from the words of a route line; r is left for the caller to free. */
static int
conf_route_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_route *r, char **words, size_t n)
{
	char	*slash;

	r->line = ld->lineno;
	if (n != 2)
		return conf_key_error(ld, kw,
		    "expected [HOST]/PREFIX UPSTREAM");
	if ((slash = strchr(words[0], '/')) == NULL)
		return conf_value_error(ld, kw, words[0],
		    "expected [HOST]/PREFIX (the prefix starts with '/')");
	r->prefix = strdup(slash);
	*slash = '\0';
	if (words[0][0] != '\0') {
		if (!conf_route_host_ok(words[0]))
			return conf_value_error(ld, kw, words[0],
			    "bad host (use NAME or *.SUFFIX, without port)");
		r->host = strdup(words[0]);
	}
	r->upstream = strdup(words[1]);
	if (r->prefix == NULL || r->upstream == NULL ||
	    (words[0][0] != '\0' && r->host == NULL))
		return conf_value_error(ld, kw, words[1], "out of memory");
	return 0;
}

/* Free what a conf_route owns. */
static void
conf_route_clear(struct conf_route *r)
{
	free(r->host);
	free(r->prefix);
	free(r->upstream);
}

/* Whether two routes match the same requests. */
static int
conf_route_same(const struct conf_route *a, const struct conf_route *b)
{
	if ((a->host == NULL) != (b->host == NULL))
		return 0;
	if (a->host != NULL && strcmp(a->host, b->host) != 0)
		return 0;
	return strcmp(a->prefix, b->prefix) == 0;
}

/* route = [HOST]/PREFIX UPSTREAM; the upstream is checked at the end. */
static int
conf_set_route(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_listener	*l = base;
	struct conf_route	 r, *p = NULL;
	char			*copy, *words[3];
	size_t			 i, n;
	int			 rc;

	memset(&r, 0, sizeof(r));
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, 2);
	rc = conf_route_parse(ld, kw, &r, words, n);
	free(copy);
	for (i = 0; rc == 0 && i < l->nroutes; i++) {
		if (conf_route_same(&l->routes[i], &r))
			rc = conf_error(ld, ld->lineno, "%s: duplicate route "
			    "\"%s\" (first at line %d)", kw->info.key, value,
			    l->routes[i].line);
	}
	if (rc == 0 &&
	    (p = conf_append(l->routes, l->nroutes, sizeof(*p))) == NULL)
		rc = conf_value_error(ld, kw, value, "out of memory");
	if (rc == -1) {
		conf_route_clear(&r);
		return -1;
	}
	l->routes = p;
	l->routes[l->nroutes++] = r;
	return 0;
}

/* Free what a conf_cert owns. */
static void
conf_cert_clear(struct conf_cert *c)
{
	free(c->cert);
	free(c->key);
	c->cert = c->key = NULL;
}

/* Fill c from "CERT KEY" (two paths, opened later by tls/). */
static int
conf_cert_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *value, struct conf_cert *c)
{
	char	*copy, *words[3];

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	if (conf_words(copy, words, 2) != 2) {
		free(copy);
		return conf_key_error(ld, kw, "expected CERT KEY (two paths)");
	}
	c->cert = strdup(words[0]);
	c->key = strdup(words[1]);
	c->line = ld->lineno;
	free(copy);
	if (c->cert == NULL || c->key == NULL) {
		conf_cert_clear(c);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	return 0;
}

/* health_status = CODE or LOW-HIGH, within 100..599. */
static int
conf_set_status_range(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_upstream	*u = base;
	const char		*why = NULL;
	char			 lo[8], hi[8], extra;
	long			 a, b;
	int			 n;

	n = sscanf(value, "%7[0-9]-%7[0-9]%c", lo, hi, &extra);
	if (n == 1 && strspn(value, "0123456789") == strlen(value))
		snprintf(hi, sizeof(hi), "%s", lo);
	else if (n != 2)
		return conf_key_error(ld, kw, "expected CODE or LOW-HIGH");
	if (conf_parse_int(lo, 100, 599, &a, &why) == -1 ||
	    conf_parse_int(hi, 100, 599, &b, &why) == -1)
		return conf_key_error(ld, kw, "status out of 100..599");
	if (a > b)
		return conf_key_error(ld, kw, "LOW is above HIGH");
	u->health_status_min = (int)a;
	u->health_status_max = (int)b;
	return 0;
}

/* A request path: starts with '/', no spaces or control characters. */
static int
conf_set_path(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		**field = (char **)((char *)base + kw->offset);
	const char	 *p;

	if (value[0] != '/')
		return conf_key_error(ld, kw, "a path must start with /");
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return conf_key_error(ld, kw, "a path cannot hold "
			    "spaces or control characters");
	free(*field);
	if ((*field = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	return 0;
}

/* tls_certificate = CERT KEY, repeatable. */
static int
conf_set_cert(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_listener	*l = base;
	struct conf_cert	 c, *p;

	if (conf_cert_parse(ld, kw, value, &c) == -1)
		return -1;
	if ((p = conf_append(l->certs, l->ncerts, sizeof(*p))) == NULL) {
		conf_cert_clear(&c);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	l->certs = p;
	l->certs[l->ncerts++] = c;
	return 0;
}

/*
 * TLS keys other than tls_certificate (tls/ opens and checks the files).
 */

/* tls_protocols = TLSv1.2 TLSv1.3: a set of CONF_TLS_* bits. */
static int
conf_set_protocols(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	static const struct {
		const char	*name;
		int		 bit;
	} protos[] = {
		{ "TLSv1.2", CONF_TLS_V1_2 },
		{ "TLSv1.3", CONF_TLS_V1_3 },
	};
	char	*copy, *words[CONF_NITEMS(protos) + 1];
	size_t	 i, j, n;
	int	 bits = 0, rc = 0;

	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, words, CONF_NITEMS(protos));
	for (i = 0; i < n && i < CONF_NITEMS(protos) && rc == 0; i++) {
		for (j = 0; j < CONF_NITEMS(protos); j++)
			if (strcmp(words[i], protos[j].name) == 0)
				break;
		if (j == CONF_NITEMS(protos) || (bits & protos[j].bit))
			rc = -1;
		else
			bits |= protos[j].bit;
	}
	free(copy);
	if (n == 0 || n > CONF_NITEMS(protos) || rc == -1)
		return conf_value_error(ld, kw, value,
		    "expected TLSv1.2, TLSv1.3 or both");
	*(int *)conf_field(base, kw) = bits;
	return 0;
}

/* workers = N | auto: auto is stored as 0 and resolved at start. */
static int
conf_set_workers(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_global	*g = base;

	if (strcmp(value, "auto") == 0) {
		g->workers = 0;
		return 0;
	}
	return conf_set_int(ld, kw, base, value);
}

/* N% (or N): an int percentage within the keyword's bounds. */
static int
conf_set_percent(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char		 buf[16];
	const char	*why;
	size_t		 n = strlen(value);
	long		 v;

	if (n > 0 && value[n - 1] == '%')
		n--;
	if (n >= sizeof(buf))
		return conf_value_error(ld, kw, value, "not a percentage");
	memcpy(buf, value, n);
	buf[n] = '\0';
	if (conf_parse_int(buf, LONG_MIN, LONG_MAX, &v, &why) == -1)
		return conf_value_error(ld, kw, value, why);
	if (v < 0 || (uint64_t)v < kw->min || (uint64_t)v > kw->max)
		return conf_range_error(ld, kw, value);
	*(int *)conf_field(base, kw) = (int)v;
	return 0;
}

/* tls_server_name = NAME: a DNS name or an IP address, no port. */
static int
conf_set_server_name(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct in6_addr	 a6;

	if (strlen(value) > 253 || (strchr(value, ':') != NULL ?
	    inet_pton(AF_INET6, value, &a6) != 1 :
	    strspn(value, CONF_NAME_CHARS) != strlen(value)))
		return conf_value_error(ld, kw, value, "expected a host name "
		    "or an IP address, without port");
	return conf_set_string(ld, kw, base, value);
}

/* tls_client_certificate = CERT KEY, at most once. */
static int
conf_set_client_cert(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_cert	*field = conf_field(base, kw), c;

	if (conf_cert_parse(ld, kw, value, &c) == -1)
		return -1;
	conf_cert_clear(field);
	*field = c;
	return 0;
}

/*
 * Sections
 */

/* The struct a section's keys are stored in. */
static void *
conf_sect_base(struct conf *c, enum conf_sect_kind kind, size_t index)
{
	switch (kind) {
	case CONF_SECT_GLOBAL:
		return &c->global;
	case CONF_SECT_ADMIN:
		return &c->admin;
	case CONF_SECT_LISTENER:
		return &c->listeners[index];
	case CONF_SECT_UPSTREAM:
		return &c->upstreams[index];
	}
	return NULL;
}

/* The name of a listener or upstream section; NULL for the others. */
static const char *
conf_sect_name(const struct conf *c, const struct conf_sect *s)
{
	if (s->kind == CONF_SECT_LISTENER)
		return c->listeners[s->index].name;
	if (s->kind == CONF_SECT_UPSTREAM)
		return c->upstreams[s->index].name;
	return NULL;
}

/* The table entry for key in a section of this kind, or NULL. */
static const struct conf_keyword *
conf_keyword_find(enum conf_sect_kind kind, const char *key)
{
	size_t	 i;

	for (i = 0; i < CONF_NITEMS(conf_keywords); i++) {
		if (conf_keywords[i].sect == kind &&
		    strcmp(conf_keywords[i].info.key, key) == 0)
			return &conf_keywords[i];
	}
	return NULL;
}

/* Where the struct of section s keeps the lines of its keys. */
static struct conf_lines *
conf_sect_lines(struct conf *c, const struct conf_sect *s)
{
	return (struct conf_lines *)((char *)conf_sect_base(c, s->kind,
	    s->index) + conf_sect_kinds[s->kind].lines);
}

/* Start the lines of a section of this kind whose header is at line. */
static void
conf_lines_init(struct conf_lines *lines, enum conf_sect_kind kind,
    int line)
{
	memset(lines, 0, sizeof(*lines));
	lines->sect = kind;
	lines->header = line;
}

/* The line of the first "key =" in a section; 0 when it has none. */
static int
conf_key_line(const struct conf_lines *lines, const char *key)
{
	const struct conf_keyword	*kw;

	if ((kw = conf_keyword_find(lines->sect, key)) == NULL)
		return 0;
	return lines->key[kw - conf_keywords];
}

/* Apply the table's defaults to a new section of this kind. */
static void
conf_defaults(struct conf_loader *ld, enum conf_sect_kind kind, void *base)
{
	size_t	 i;

	for (i = 0; i < CONF_NITEMS(conf_keywords); i++) {
		if (conf_keywords[i].sect == kind &&
		    conf_keywords[i].info.defval[0] != '\0')
			conf_set(ld, &conf_keywords[i], base,
			    conf_keywords[i].info.defval);
	}
}

/* Add a listener or upstream called name; its index, or -1. */
static int
conf_sect_add_named(struct conf_loader *ld, enum conf_sect_kind kind,
    const char *name, size_t *index)
{
	struct conf	*c = ld->conf;
	void		*p;
	char		*dup;

	if ((dup = strdup(name)) == NULL)
		return -1;
	if (kind == CONF_SECT_LISTENER) {
		p = conf_append(c->listeners, c->nlisteners,
		    sizeof(*c->listeners));
		if (p != NULL) {
			c->listeners = p;
			c->listeners[c->nlisteners].name = dup;
			c->listeners[c->nlisteners].line = ld->lineno;
			*index = c->nlisteners++;
		}
	} else {
		p = conf_append(c->upstreams, c->nupstreams,
		    sizeof(*c->upstreams));
		if (p != NULL) {
			c->upstreams = p;
			c->upstreams[c->nupstreams].name = dup;
			c->upstreams[c->nupstreams].line = ld->lineno;
			*index = c->nupstreams++;
		}
	}
	if (p == NULL)
		free(dup);
	return p == NULL ? -1 : 0;
}

/* Start a section of this kind; ld->cur points at it after. */
static int
conf_sect_open(struct conf_loader *ld, enum conf_sect_kind kind,
    const char *name)
{
	struct conf_sect	*s;
	size_t			 index = 0;

	s = conf_append(ld->sects, ld->nsects, sizeof(*ld->sects));
	if (s == NULL)
		return -1;
	ld->sects = s;
	if (name != NULL && conf_sect_add_named(ld, kind, name, &index) == -1)
		return -1;
	s = &ld->sects[ld->nsects++];
	s->kind = kind;
	s->index = index;
	s->line = ld->lineno;
	conf_lines_init(conf_sect_lines(ld->conf, s), kind, ld->lineno);
	ld->cur = s;
	ld->skip = 0;
	if (name != NULL)
		conf_defaults(ld, kind, conf_sect_base(ld->conf, kind, index));
	return 0;
}

/* The earlier section of this kind and name, or NULL. */
static const struct conf_sect *
conf_sect_find(const struct conf_loader *ld, enum conf_sect_kind kind,
    const char *name)
{
	const char	*other;
	size_t		 i;

	for (i = 0; i < ld->nsects; i++) {
		if (ld->sects[i].kind != kind)
			continue;
		other = conf_sect_name(ld->conf, &ld->sects[i]);
		if (name == NULL || strcmp(other, name) == 0)
			return &ld->sects[i];
	}
	return NULL;
}

/* Check a header's kind and name; 0 and *kind set, or -1 reported. */
static int
conf_sect_check(struct conf_loader *ld, const char *hdr, const char *kname,
    const char *name, enum conf_sect_kind *kind)
{
	const struct conf_sect	*prev;
	size_t			 k;

	for (k = 0; k < CONF_NITEMS(conf_sect_kinds); k++)
		if (strcmp(kname, conf_sect_kinds[k].name) == 0)
			break;
	if (k == CONF_NITEMS(conf_sect_kinds))
		return conf_error(ld, ld->lineno, "[%s]: unknown section "
		    "(use global, admin, listener NAME or upstream NAME)", hdr);
	*kind = (enum conf_sect_kind)k;
	if (conf_sect_kinds[k].named && name == NULL)
		return conf_error(ld, ld->lineno, "[%s]: missing name "
		    "([%s NAME])", hdr, kname);
	if (!conf_sect_kinds[k].named && name != NULL)
		return conf_error(ld, ld->lineno, "[%s]: takes no name", hdr);
	if (name != NULL && strspn(name, CONF_NAME_CHARS) != strlen(name))
		return conf_error(ld, ld->lineno, "[%s]: bad name (use "
		    "letters, digits, '-', '_' and '.')", hdr);
	if ((prev = conf_sect_find(ld, *kind, name)) != NULL)
		return conf_error(ld, ld->lineno, "[%s]: duplicate section "
		    "(first at line %d)", hdr, prev->line);
	return 0;
}

/* Handle a "[kind name]" line (leading blanks gone); bad ones are skipped. */
static void
conf_sect_header(struct conf_loader *ld, char *line)
{
	enum conf_sect_kind	 kind = CONF_SECT_GLOBAL;
	char			*end, *rest = NULL, *words[3];
	char			 hdr[CONF_MAX_LINE + 1];
	const char		*name;
	size_t			 n;

	ld->skip = 1;
	if ((end = strchr(line, ']')) != NULL)
		rest = end + 1 + strspn(end + 1, " \t");
	if (end == NULL || (*rest != '\0' && *rest != ';' && *rest != '#')) {
		conf_error(ld, ld->lineno, "%s: bad section header (expected "
		    "[kind] or [kind NAME], then nothing but a comment)", line);
		return;
	}
	*end = '\0';
	snprintf(hdr, sizeof(hdr), "%s", line + 1);
	if ((n = conf_words(line + 1, words, 2)) == 0 || n > 2) {
		conf_error(ld, ld->lineno, "[%s]: bad section header "
		    "(expected [kind] or [kind NAME])", hdr);
		return;
	}
	name = n == 2 ? words[1] : NULL;
	snprintf(hdr, sizeof(hdr), "%s%s%s", words[0], name ? " " : "",
	    name ? name : "");
	if (conf_sect_check(ld, hdr, words[0], name, &kind) == -1)
		return;
	if (conf_sect_open(ld, kind, name) == -1)
		conf_error(ld, ld->lineno, "[%s]: out of memory", hdr);
}

/*
 * The reader and the handler inih calls.
 */

/* Read the next physical line into ld->buf; its length, or -1 at the end. */
static ssize_t
conf_next_line(struct conf_loader *ld)
{
	size_t	 n;
	char	*p;

	ssize_t	 rc;

	if (ld->fp != NULL) {
		if ((rc = getline(&ld->buf, &ld->bufsz, ld->fp)) == -1 &&
		    ferror(ld->fp))
			conf_error(ld, ld->lineno, "cannot read: %s",
			    strerror(errno));
		return rc;
	}
	if (*ld->text == '\0')
		return -1;
	p = strchr(ld->text, '\n');
	n = p != NULL ? (size_t)(p - ld->text) + 1 : strlen(ld->text);
	if (n + 1 > ld->bufsz) {
		if ((p = realloc(ld->buf, n + 1)) == NULL)
			return conf_error(ld, ld->lineno, "out of memory");
		ld->buf = p;
		ld->bufsz = n + 1;
	}
	memcpy(ld->buf, ld->text, n);
	ld->buf[n] = '\0';
	ld->text += n;
	return (ssize_t)n;
}

/* Whether inih will see "key = value" here (its inline-comment rule). */
static int
conf_line_has_value(const char *s)
{
	int	 was_space = 0;

	for (; *s != '\0' && *s != '=' && *s != ':'; s++) {
		if (was_space && *s == ';')
			return 0;
		was_space = isspace((unsigned char)*s);
	}
	return *s == '=';
}

/* Check one physical line of n bytes; what inih should see, "" if nothing. */
static char *
conf_line_prepare(struct conf_loader *ld, size_t n)
{
	char	*line = ld->buf;

	if (strlen(line) != n) {
		conf_error(ld, ld->lineno, "line contains a NUL byte");
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n > CONF_MAX_LINE) {
		conf_error(ld, ld->lineno, "line too long (max %d)",
		    CONF_MAX_LINE);
		return NULL;
	}
	if (ld->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	line += strspn(line, " \t\f\v");
	if (*line == '[') {
		conf_sect_header(ld, line);
		return NULL;
	}
	if (*line == '\0' || *line == ';' || *line == '#')
		return line;
	if (*line == '=' || !conf_line_has_value(line)) {
		conf_error(ld, ld->lineno, "syntax error (expected key = value "
		    "or [section])");
		return NULL;
	}
	return line;
}

/* inih's reader: hand it one prepared line per call, counting lines. */
static char *
conf_ini_reader(char *str, int num, void *stream)
{
	struct conf_loader	*ld = stream;
	ssize_t			 n;
	char			*line;

	if ((n = conf_next_line(ld)) == -1)
		return NULL;
	ld->lineno++;
	str[0] = '\0';
	if ((line = conf_line_prepare(ld, (size_t)n)) == NULL)
		return str;
	if (strlen(line) >= (size_t)num) {
		/* Cannot happen while ini_max_line > CONF_MAX_LINE. */
		conf_error(ld, ld->lineno, "line too long (max %d)", num - 1);
		return str;
	}
	strcpy(str, line);
	return str;
}

/* inih's handler: one "key = value" of the current section. */
static int
conf_ini_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct conf_loader		*ld = user;
	const struct conf_keyword	*kw;
	struct conf_sect		*s = ld->cur;
	int				*seen;

	(void)section;		/* ours is ld->cur, set by the reader */
	if (ld->skip)
		return 1;
	if (s == NULL) {
		conf_error(ld, ld->lineno, "%s: not in any section", key);
		return 1;
	}
	if ((kw = conf_keyword_find(s->kind, key)) == NULL) {
		conf_error(ld, ld->lineno, "%s: unknown key in [%s]", key,
		    conf_sect_kinds[s->kind].name);
		return 1;
	}
	seen = &conf_sect_lines(ld->conf, s)->key[kw - conf_keywords];
	if (*seen != 0 && !kw->info.repeatable) {
		conf_error(ld, ld->lineno, "%s: duplicate key (first at line "
		    "%d)", key, *seen);
		return 1;
	}
	if (*seen == 0)
		*seen = ld->lineno;
	conf_set(ld, kw, conf_sect_base(ld->conf, s->kind, s->index), value);
	return 1;
}

/*
 * Checks across sections, once the whole file is read.
 */

/* Whether two resolved addresses are the same address and port. */
static int
conf_addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->text == NULL || b->text == NULL ||
	    a->ss.ss_family != b->ss.ss_family)
		return 0;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&a->ss;
	b6 = (const struct sockaddr_in6 *)&b->ss;
	return a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* The listen address of an admin or listener section, or NULL. */
static const struct conf_addr *
conf_sect_listen(const struct conf *c, const struct conf_sect *s)
{
	if (s->kind == CONF_SECT_ADMIN)
		return &c->admin.listen;
	if (s->kind == CONF_SECT_LISTENER)
		return &c->listeners[s->index].listen;
	return NULL;
}

/* No two listening sections (admin included) may share an address. */
static void
conf_check_addrs(struct conf_loader *ld)
{
	const struct conf_sect	*a, *b;
	const struct conf_addr	*aa, *ba;
	const char		*name;
	size_t			 i, j;
	int			 line;

	for (i = 0; i < ld->nsects; i++) {
		b = &ld->sects[i];
		if ((ba = conf_sect_listen(ld->conf, b)) == NULL)
			continue;
		for (j = 0; j < i; j++) {
			a = &ld->sects[j];
			aa = conf_sect_listen(ld->conf, a);
			if (aa == NULL || !conf_addr_same(aa, ba))
				continue;
			name = conf_sect_name(ld->conf, a);
			line = conf_key_line(conf_sect_lines(ld->conf, b),
			    "listen");
			conf_error(ld, line,
			    "listen: %s is already used by [%s%s%s]", ba->text,
			    conf_sect_kinds[a->kind].name, name ? " " : "",
			    name ? name : "");
			break;
		}
	}
}

/* A listener needs an address, somewhere to send requests, and upstreams
 * that exist. */
static void
conf_check_listener(struct conf_loader *ld, const struct conf_sect *s)
{
	const struct conf_listener	*l = &ld->conf->listeners[s->index];
	size_t				 i;

	if (conf_key_line(&l->lines, "listen") == 0)
		conf_error(ld, s->line, "[listener %s]: missing listen",
		    l->name);
	if (l->upstream == NULL && l->nroutes == 0 &&
	    conf_key_line(&l->lines, "upstream") == 0 &&
	    conf_key_line(&l->lines, "route") == 0)
		conf_error(ld, s->line, "[listener %s]: no upstream and no "
		    "route", l->name);
	if (l->upstream != NULL &&
	    conf_upstream_find(ld->conf, l->upstream) == NULL)
		conf_error(ld, conf_key_line(&l->lines, "upstream"),
		    "upstream: no [upstream %s]", l->upstream);
	for (i = 0; i < l->nroutes; i++) {
		if (conf_upstream_find(ld->conf, l->routes[i].upstream) == NULL)
			conf_error(ld, l->routes[i].line, "route: no "
			    "[upstream %s]", l->routes[i].upstream);
	}
}

/* An upstream needs a server. */
static void
conf_check_upstream(struct conf_loader *ld, const struct conf_sect *s)
{
	const struct conf_upstream	*u = &ld->conf->upstreams[s->index];

	if (u->nservers == 0 && conf_key_line(&u->lines, "server") == 0)
		conf_error(ld, s->line, "[upstream %s]: no server", u->name);
}

/* 1 when a is a loopback address (127.0.0.0/8 or ::1). */
static int
conf_addr_loopback(const struct conf_addr *a)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (a->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&a->ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)&a->ss;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return 0;
}

/* The admin endpoint can change what sluice does: off loopback it needs
 * a token. */
static void
conf_check_admin(struct conf_loader *ld)
{
	const struct conf_admin	*a = &ld->conf->admin;
	const struct conf_sect	*s;
	size_t			 i;

	if (!a->enabled || a->token != NULL || conf_addr_loopback(&a->listen))
		return;
	for (i = 0; i < ld->nsects; i++) {
		s = &ld->sects[i];
		if (s->kind == CONF_SECT_ADMIN)
			conf_error(ld, conf_key_line(&a->lines, "listen"),
			    "listen: %s is not a loopback address; set "
			    "token to protect the admin endpoint",
			    a->listen.text);
	}
}

/* Check what no single line can: references, required keys, clashes. */
static void
conf_check(struct conf_loader *ld)
{
	const struct conf_sect	*s;
	size_t			 i;

	for (i = 0; i < ld->nsects; i++) {
		s = &ld->sects[i];
		if (s->kind == CONF_SECT_LISTENER)
			conf_check_listener(ld, s);
		if (s->kind == CONF_SECT_UPSTREAM)
			conf_check_upstream(ld, s);
	}
	conf_check_addrs(ld);
	ld->conf->admin.enabled = ld->conf->admin.listen.text != NULL;
	conf_check_admin(ld);
}

/*
 * Loading
 */

/* Run inih over the loader's input and check the result. */
static void
conf_parse(struct conf_loader *ld)
{
	/*
	 * Debian's libinih sizes its line buffer at run time; make room for
	 * CONF_MAX_LINE plus "\r\n\0" so the reader never has to cut a line.
	 */
	if (ini_max_line < CONF_MAX_LINE + 3)
		ini_max_line = CONF_MAX_LINE + 3;
	if (ini_parse_stream(conf_ini_reader, ld, conf_ini_handler, ld) < 0)
		conf_error(ld, ld->lineno, "out of memory");
	conf_check(ld);
}

/* Hand back the conf, or NULL and the error text; frees the loader. */
static struct conf *
conf_finish(struct conf_loader *ld, char **errors)
{
	struct conf	*c = ld->conf;
	char		*text = NULL;
	int		 lost;

	free(ld->sects);
	free(ld->buf);
	if (ld->nerrors != 0 || c == NULL) {
		conf_free(c);
		c = NULL;
		lost = (size_t)ld->nerrors != ld->nerrs;
		text = conf_err_join(ld);
		if (text == NULL || lost) {
			free(text);
			if (asprintf(&text, "%s:0: out of memory (%d errors)\n",
			    ld->name, ld->nerrors) == -1)
				text = NULL;
		}
	}
	if (errors != NULL)
		*errors = text;
	else
		free(text);
	return c;
}

/* Start a load: a new conf with the global defaults in place. */
static void
conf_start(struct conf_loader *ld, const char *name)
{
	memset(ld, 0, sizeof(*ld));
	ld->name = name;
	if ((ld->conf = calloc(1, sizeof(*ld->conf))) == NULL ||
	    (ld->conf->path = strdup(name)) == NULL) {
		conf_error(ld, 0, "out of memory");
		return;
	}
	conf_lines_init(&ld->conf->global.lines, CONF_SECT_GLOBAL, 0);
	conf_lines_init(&ld->conf->admin.lines, CONF_SECT_ADMIN, 0);
	conf_defaults(ld, CONF_SECT_GLOBAL, &ld->conf->global);
	conf_defaults(ld, CONF_SECT_ADMIN, &ld->conf->admin);
}

/* Load the file at path; see conf.h. */
struct conf *
conf_load_file(const char *path, char **errors)
{
	struct conf_loader	 ld;
	int			 saved;

	conf_start(&ld, path);
	if (ld.nerrors == 0 && (ld.fp = fopen(path, "re")) == NULL) {
		saved = errno;
		conf_error(&ld, 0, "cannot open: %s", strerror(saved));
	}
	if (ld.nerrors == 0)
		conf_parse(&ld);
	if (ld.fp != NULL)
		fclose(ld.fp);
	return conf_finish(&ld, errors);
}

/* Load text as if it were a file called name; see conf.h. */
struct conf *
conf_load_string(const char *name, const char *text, char **errors)
{
	struct conf_loader	 ld;

	conf_start(&ld, name);
	ld.text = text;
	if (ld.nerrors == 0)
		conf_parse(&ld);
	return conf_finish(&ld, errors);
}

/* Free one listener's contents. */
static void
conf_listener_clear(struct conf_listener *l)
{
	size_t	 i;

	free(l->name);
	conf_addr_clear(&l->listen);
	free(l->upstream);
	for (i = 0; i < l->nroutes; i++)
		conf_route_clear(&l->routes[i]);
	free(l->routes);
	for (i = 0; i < l->ncerts; i++)
		conf_cert_clear(&l->certs[i]);
	free(l->certs);
	free(l->tls_ciphers);
}

/* Free one upstream's contents. */
static void
conf_upstream_clear(struct conf_upstream *u)
{
	size_t	 i;

	free(u->name);
	for (i = 0; i < u->nservers; i++)
		conf_server_clear(&u->servers[i]);
	free(u->servers);
	free(u->tls_ca);
	free(u->tls_server_name);
	free(u->health_check);
	conf_cert_clear(&u->tls_client_cert);
}

/* Free a conf and all it owns; NULL is fine. */
void
conf_free(struct conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->global.access_log);
	free(c->global.error_log);
	free(c->global.pid_file);
	conf_addr_clear(&c->admin.listen);
	free(c->admin.token);
	for (i = 0; i < c->nlisteners; i++)
		conf_listener_clear(&c->listeners[i]);
	free(c->listeners);
	for (i = 0; i < c->nupstreams; i++)
		conf_upstream_clear(&c->upstreams[i]);
	free(c->upstreams);
	free(c);
}

/* The upstream called name, or NULL. */
const struct conf_upstream *
conf_upstream_find(const struct conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, name) == 0)
			return &c->upstreams[i];
	return NULL;
}

/* The configuration spelling of a balance method. */
const char *
conf_balance_name(enum conf_balance b)
{
	if ((size_t)b >= CONF_NITEMS(conf_balance_names) - 1)
		return "?";
	return conf_balance_names[b];
}

/* The configuration spelling of a log level. */
const char *
conf_log_level_name(enum conf_log_level l)
{
	if ((size_t)l >= CONF_NITEMS(conf_log_level_names) - 1)
		return "?";
	return conf_log_level_names[l];
}

/* The line of key in a section, else of its header; see conf.h. */
int
conf_line(const struct conf_lines *lines, const char *key)
{
	int	 line;

	if (conf_keyword_find(lines->sect, key) == NULL)
		return 0;
	if ((line = conf_key_line(lines, key)) != 0)
		return line;
	return lines->header;
}

/* Entry i of the keyword table, or NULL past the end. */
const struct conf_keyword_info *
conf_keyword_info(size_t i)
{
	if (i >= CONF_NITEMS(conf_keywords))
		return NULL;
	return &conf_keywords[i].info;
}
