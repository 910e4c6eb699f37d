/*
 * table.c: the keyword table, the sections it names, and one setter per
 * type of value.
 *
 * Every key sluice knows is one entry of conf_keywords: its section, type,
 * default, bounds, the field it is stored in and a line of help, written
 * with one macro per type. The defaults are applied by running the same
 * setters over the default text, so a default is checked like a value in
 * the file. Keys with a syntax of their own have their setters in custom.c.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

#define CONF_DAY_MS		(24ULL * 60 * 60 * 1000)
/* Enum keys are stored through an int lvalue. */
_Static_assert(sizeof(enum conf_balance) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_format) == sizeof(int), "enum size");

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

/* Section kinds as written in the file, and where each keeps its lines. */
#define CONF_SECT(s, named)						\
	[CONF_SECT_##s] = { CONF_##s##_NAME, (named),			\
	    offsetof(CONF_##s##_STRUCT, lines) }
const struct conf_sect_def conf_sect_defs[CONF_SECT_NKINDS] = {
	CONF_SECT(GLOBAL, 0),
	CONF_SECT(ADMIN, 0),
	CONF_SECT(LISTENER, 1),
	CONF_SECT(UPSTREAM, 1),
};

static const char *const conf_balance_names[] = {
	"round_robin", "least_conn", "random_two", NULL
};

/* In the order of enum conf_verify_client. */
static const char *const conf_verify_names[] = {
	"off", "optional", "on", NULL
};

static const char *const conf_log_format_names[] = {
	"text", "json", NULL
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
	CONF_LIST(GLOBAL, "include", conf_set_include, includes,
	    "read other files in place: a path or glob, sorted"),
	CONF_DURATION(GLOBAL, "shutdown_timeout", "30s", 1, CONF_DAY_MS,
	    shutdown_timeout_ms, "hard deadline after SIGTERM"),
	CONF_DURATION(GLOBAL, "drain_notice", "0s", 0, CONF_DAY_MS,
	    drain_notice_ms, "lame-duck time before listeners close"),
	CONF_DURATION(GLOBAL, "drain_idle_timeout", "2s", 1, CONF_DAY_MS,
	    drain_idle_timeout_ms,
	    "idle keep-alive connections close after this once draining"),
	CONF_CUSTOM(GLOBAL, "access_log", "-", 0, 0, conf_set_log, access_log,
	    "path, \"-\" for stdout, \"off\", or syslog:FACILITY"),
	CONF_ENUM(GLOBAL, "access_log_format", "text", conf_log_format_names,
	    access_log_format, "text | json (one JSON object a line)"),
	CONF_CUSTOM(GLOBAL, "error_log", "-", 0, 0, conf_set_log, error_log,
	    "path, \"-\" for stderr, or syslog:FACILITY"),
	CONF_ENUM(GLOBAL, "log_level", "info", conf_log_level_names, log_level,
	    "error | warn | info | debug"),
	CONF_STRING(GLOBAL, "pid_file", "", pid_file,
	    "write the process id to this file (optional)"),
	CONF_CUSTOM(GLOBAL, "workers", "1", 1, CONF_WORKERS_MAX,
	    conf_set_auto_int, workers, "threads serving connections: 1..64, "
	    "or auto (one per CPU); read at start"),
	CONF_SIZE(GLOBAL, "max_buffered_bodies", "512m", 0, 1ULL << 40,
	    max_buffered_bodies, "request body bytes held at once, all "
	    "connections; past it bodies wait (0: no limit)"),
	CONF_CUSTOM(GLOBAL, "max_connections", "auto", 1, 10000000,
	    conf_set_auto_int, max_connections, "client connections open at "
	    "once, all listeners; auto: half the descriptors left after a "
	    "reserve"),
	CONF_DURATION(GLOBAL, "tls_ticket_rotation", "1h", 1000, CONF_DAY_MS,
	    tls_ticket_rotation_ms, "TLS session-ticket keys change this "
	    "often; a ticket resumes for one to two of these"),

	CONF_ADDR(ADMIN, "listen", listen,
	    "/healthz /readyz /status /metrics, runtime drain"),
	CONF_CUSTOM(ADMIN, "token", "", CONF_ADMIN_TOKEN_MIN, 0,
	    conf_set_token, token, "Authorization: Bearer TOKEN for POSTs, "
	    "off loopback for all; 16+ chars"),
	CONF_LIST(ADMIN, "server_name", conf_set_admin_names, server_names,
	    "NAME...: Host and Origin names besides the listen address"),
	CONF_BOOL(ADMIN, "public_read", "off", public_read,
	    "off loopback, GET /, /status, /metrics need no token"),
	CONF_LIST(ADMIN, "tls_certificate", conf_set_admin_cert, certs,
	    "CERT KEY: serve the admin over TLS, as a listener"),

	CONF_ADDR(LISTENER, "listen", listen,
	    "address to accept clients on (required)"),
	CONF_STRING(LISTENER, "upstream", "", upstream,
	    "default route: the upstream when no route matches"),
	CONF_LIST(LISTENER, "route", conf_set_route, routes,
	    "[HOST]/PREFIX UPSTREAM [strip] [header=N:V] [cookie=N:V]"),
	CONF_BOOL(LISTENER, "proxy_protocol", "off", proxy_protocol,
	    "every connection starts with a PROXY header (v1 or v2)"),
	CONF_STRING(LISTENER, "tls_client_ca", "", tls_client_ca,
	    "CA file or directory client certificates are verified with"),
	CONF_ENUM(LISTENER, "tls_verify_client", "off", conf_verify_names,
	    tls_verify_client, "off | optional | on"),
	CONF_LIST(LISTENER, "error_page", conf_set_error_page, error_pages,
	    "CODE... FILE: the body of sluice's own answers with those codes"),
	CONF_CUSTOM(LISTENER, "redirect", "off", 0, 0, conf_set_redirect,
	    redirect_port, "off, or https [PORT]: this listener only "
	    "redirects to HTTPS"),
	CONF_LIST(LISTENER, "trusted_proxies", conf_set_cidrs,
	    trusted_proxies, "CIDRs or addresses whose X-Forwarded-* count"),
	CONF_LIST(LISTENER, "tls_certificate", conf_set_cert, certs,
	    "CERT KEY; SNI by the certs' names; first is default"),
	CONF_DURATION(LISTENER, "keepalive_timeout", "60s", 1, CONF_DAY_MS,
	    keepalive_timeout_ms,
	    "an idle client connection closes after this"),
	CONF_DURATION(LISTENER, "client_timeout", "60s", 1, CONF_DAY_MS,
	    client_timeout_ms,
	    "time allowed between two reads of a request from the client"),
	CONF_DURATION(LISTENER, "client_header_timeout", "10s", 1,
	    CONF_DAY_MS, client_header_timeout_ms,
	    "a request head must be whole this long after its first byte"),
	CONF_DURATION(LISTENER, "client_body_timeout", "60s", 1, CONF_DAY_MS,
	    client_body_timeout_ms,
	    "a request body must be whole this long after its head"),
	CONF_INT(LISTENER, "max_connections", "0", 0, 10000000,
	    max_connections,
	    "client connections open at once on this listener (0: no limit "
	    "of its own)"),
	CONF_SIZE(LISTENER, "max_body_size", "16m", 0, 64ULL << 30,
	    max_body_size, "largest request body accepted"),
	CONF_SIZE(LISTENER, "max_header_size", "64k", 1 << 10, 1 << 20,
	    max_header_size, "largest request line and headers accepted"),
	CONF_INT(LISTENER, "max_headers", "100", 1, 10000, max_headers,
	    "most header lines a request may have (more: 431)"),
	CONF_BOOL(LISTENER, "http2", "on", http2,
	    "a TLS listener offers HTTP/2 by ALPN (h2, then http/1.1)"),
	CONF_INT(LISTENER, "http2_max_concurrent_streams", "100", 1, 10000,
	    http2_max_concurrent_streams,
	    "HTTP/2 requests one connection may have open at once"),
	CONF_SIZE(LISTENER, "http2_max_header_list_size", "64k", 1 << 10,
	    1 << 20, http2_max_header_list_size,
	    "largest HTTP/2 request header list, as RFC 9113 counts it "
	    "(more: 431)"),
	CONF_CUSTOM(LISTENER, "tls_protocols", "TLSv1.2 TLSv1.3", 0, 0,
	    conf_set_protocols, tls_protocols,
	    "TLS versions accepted: TLSv1.2 and/or TLSv1.3"),
	CONF_STRING(LISTENER, "tls_ciphers", CONF_TLS_CIPHERS, tls_ciphers,
	    "TLS 1.2 ciphers, OpenSSL syntax (TLS 1.3 keeps its own)"),
	CONF_CUSTOM(LISTENER, "request_id", "", 0, 0, conf_set_request_id,
	    request_id, "HEADER that carries each request's ID, or off"),
	CONF_BOOL(LISTENER, "request_id_trust", "off", request_id_trust,
	    "keep a valid ID the client sent instead of making one"),
	CONF_LIST(LISTENER, "request_header", conf_set_hdr_rule,
	    request_headers, "set NAME VALUE | add NAME VALUE | remove NAME, "
	    "on requests"),
	CONF_LIST(LISTENER, "response_header", conf_set_hdr_rule,
	    response_headers, "the same on responses (sluice's own too)"),

	CONF_LIST(UPSTREAM, "server", conf_set_server, servers,
	    "HOST:PORT [name=NAME] [weight=1..1000] [max_conns=N] [backup]"),
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
	CONF_SIZE(UPSTREAM, "max_response_header_size", "64k", 1 << 10,
	    1 << 20, max_response_header_size,
	    "largest response head, and trailer section, from a server"),
	CONF_INT(UPSTREAM, "max_response_headers", "100", 1,
	    CONF_RESP_HEADERS_MAX, max_response_headers,
	    "most header lines in a response head, and in its trailers"),
	CONF_INT(UPSTREAM, "max_interim_responses", "8", 0, 100,
	    max_interim_responses,
	    "most 1xx responses (100, 102, 103) before the final one"),
	CONF_SIZE(UPSTREAM, "max_chunk_extension", "1k", 0, 4 << 10,
	    max_chunk_extension,
	    "longest chunk extension (\";...\" after a chunk size)"),
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
	CONF_BOOL(UPSTREAM, "tls_allow_truncation", "off",
	    tls_allow_truncation, "a close-delimited response ended without "
	    "close_notify is complete (off: truncated, the client cut)"),
	CONF_INT(UPSTREAM, "queue", "0", 0, 100000, queue,
	    "requests that may wait for a slot under max_conns (0: none)"),
	CONF_DURATION(UPSTREAM, "queue_timeout", "5s", 1, CONF_DAY_MS,
	    queue_timeout_ms, "how long a request may wait in the queue"),
	CONF_CUSTOM(UPSTREAM, "sticky", "off", 0, 0, conf_set_sticky,
	    sticky_cookie, "off, or cookie NAME [max_age=D] [secure] "
	    "[httponly] [samesite=lax|strict|none]"),
	CONF_BOOL(UPSTREAM, "sticky_strip", "off", sticky_strip,
	    "remove the sticky cookie from requests to the servers"),
	CONF_LIST(UPSTREAM, "error_page", conf_set_error_page, error_pages,
	    "CODE... FILE: as the listener's, and wins over it"),
	CONF_CUSTOM(UPSTREAM, "host", "pass", 0, 0, conf_set_host, host_mode,
	    "Host sent: pass (the client's) | server (HOST:PORT) | NAME"),
	CONF_BOOL(UPSTREAM, "rewrite_location", "on", rewrite_location,
	    "point Location, Content-Location, Refresh at the client's side"),
	CONF_BOOL(UPSTREAM, "rewrite_cookie_path", "off", rewrite_cookie_path,
	    "put a stripped prefix back in front of Set-Cookie paths"),
	CONF_LIST(UPSTREAM, "request_header", conf_set_hdr_rule,
	    request_headers, "rules after the listener's, on requests"),
	CONF_LIST(UPSTREAM, "response_header", conf_set_hdr_rule,
	    response_headers, "rules before the listener's, on responses"),
};

_Static_assert(CONF_NITEMS(conf_keywords) <= CONF_KEYS_MAX,
    "raise CONF_KEYS_MAX in conf.h");

/*
 * Looking keys up
 */

/* The table entry for key in a section of this kind, or NULL. */
const struct conf_keyword *
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

/* Entry i of the keyword table, or NULL past the end. */
const struct conf_keyword_info *
conf_keyword_info(size_t i)
{
	if (i >= CONF_NITEMS(conf_keywords))
		return NULL;
	return &conf_keywords[i].info;
}

/* Apply the table's defaults to a new section of this kind. */
void
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

/*
 * Sections and the lines of their keys
 */

/* The struct a section's keys are stored in. */
void *
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
const char *
conf_sect_name(const struct conf *c, const struct conf_sect *s)
{
	if (s->kind == CONF_SECT_LISTENER)
		return c->listeners[s->index].name;
	if (s->kind == CONF_SECT_UPSTREAM)
		return c->upstreams[s->index].name;
	return NULL;
}

/* Where the struct of section s keeps the lines of its keys. */
struct conf_lines *
conf_sect_lines(struct conf *c, const struct conf_sect *s)
{
	return (struct conf_lines *)((char *)conf_sect_base(c, s->kind,
	    s->index) + conf_sect_defs[s->kind].lines);
}

/* Start the lines of a section of this kind whose header is at line. */
void
conf_lines_init(struct conf_lines *lines, enum conf_sect_kind kind,
    int line)
{
	memset(lines, 0, sizeof(*lines));
	lines->sect = kind;
	lines->header = line;
}

/* Where lines keeps the line kw was first set on. */
int *
conf_lines_slot(struct conf_lines *lines, const struct conf_keyword *kw)
{
	return &lines->key[kw - conf_keywords];
}

/* The line of the first "key =" in a section; 0 when it has none. */
int
conf_key_line(const struct conf_lines *lines, const char *key)
{
	const struct conf_keyword	*kw;

	if ((kw = conf_keyword_find(lines->sect, key)) == NULL)
		return 0;
	return lines->key[kw - conf_keywords];
}

/*
 * Errors about a value
 */

/* Report a problem with kw on the current line. */
int
conf_key_error(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *why)
{
	return conf_error(ld, ld->lineno, "%s: %s", kw->info.key, why);
}

/* Report a bad value of kw on the current line. */
int
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
int
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
void *
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
int
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
int
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
int
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
 * Helpers for the setters and the reader
 */

/* Split s in place at blanks into at most max words; returns the count. */
size_t
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
void *
conf_append(void *array, size_t n, size_t sz)
{
	char	*p;

	if ((p = reallocarray(array, n + 1, sz)) == NULL)
		return NULL;
	memset(p + n * sz, 0, sz);
	return p;
}

/*
 * Names of enum values
 */

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
