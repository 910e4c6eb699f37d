/*
 * conf: the INI file turned into plain, validated data.
 *
 * Depends on libc and inih only; never logs. Every problem is reported as
 * "file:line: key: reason" text, all of them in one pass, and nothing is
 * returned unless the whole file is valid. A struct conf is immutable once
 * conf_load_file() returns it.
 */
#ifndef SLUICE_CONF_H
#define SLUICE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest accepted line, newline excluded. Longer lines are an error. */
#define CONF_MAX_LINE		4096

enum conf_balance {
	CONF_BALANCE_ROUND_ROBIN = 0,
	CONF_BALANCE_LEAST_CONN,
	CONF_BALANCE_RANDOM_TWO,
};

enum conf_log_level {
	CONF_LOG_ERROR = 0,
	CONF_LOG_WARN,
	CONF_LOG_INFO,
	CONF_LOG_DEBUG,
};

/* access_log_format: today's text line, or one JSON object a line. */
enum conf_log_format {
	CONF_LOG_FORMAT_TEXT = 0,
	CONF_LOG_FORMAT_JSON,
};

/* Where syslog:FACILITY sends, unless syslog:FACILITY:PATH says. */
#define CONF_SYSLOG_PATH	"/dev/log"
#define CONF_SYSLOG_PATH_MAX	108	/* sun_path, its NUL included */

/* Forward-secret AEAD ciphers for TLS 1.2, the tls_ciphers default
 * (the admin endpoint's TLS uses it too). */
#define CONF_TLS_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
				"ECDHE-RSA-AES128-GCM-SHA256:" \
				"ECDHE-ECDSA-AES256-GCM-SHA384:" \
				"ECDHE-RSA-AES256-GCM-SHA384:" \
				"ECDHE-ECDSA-CHACHA20-POLY1305:" \
				"ECDHE-RSA-CHACHA20-POLY1305"

/* Bits of a listener's tls_protocols: the TLS versions it accepts. */
enum conf_tls_proto {
	CONF_TLS_V1_2 = 1 << 0,
	CONF_TLS_V1_3 = 1 << 1,
};

/* The sections of a file; [listener NAME] and [upstream NAME] are named. */
enum conf_sect_kind {
	CONF_SECT_GLOBAL = 0,
	CONF_SECT_ADMIN,
	CONF_SECT_LISTENER,
	CONF_SECT_UPSTREAM,
};

/*
 * A place in the configuration, one int: the file (0 the main one, then
 * each included file in the order it was read: struct conf's files[]) and
 * the line in it. Every "line" the loader keeps (struct conf_lines, the
 * line fields of entries) is one; conf_where() writes it as "file:line".
 */
#define CONF_LOC_LINE_BITS	20
#define CONF_LOC_LINE_MAX	((1 << CONF_LOC_LINE_BITS) - 1)
#define CONF_LOC_LINE(loc)	((loc) & CONF_LOC_LINE_MAX)
#define CONF_LOC_FILE(loc)	((loc) >> CONF_LOC_LINE_BITS)
#define CONF_LOC(file, line)	((int)(file) << CONF_LOC_LINE_BITS | (line))
/* Files one load may read (the main one and those it includes). */
#define CONF_MAX_FILES		1024
/* How deep includes may nest (the main file is depth 1). */
#define CONF_MAX_DEPTH		16

/* Entries of the keyword table, at most (conf/ asserts it at build time). */
#define CONF_KEYS_MAX		96

/*
 * Where one section and each of its keys were written, kept so that
 * messages about a value can point into the file. Filled by the loader;
 * read it with conf_line(), not directly (key[] is by keyword table entry).
 */
struct conf_lines {
	enum conf_sect_kind	 sect;
	int			 header;	/* of the [section] line; 0
						 * for a [global] or [admin]
						 * the file does not have */
	int			 key[CONF_KEYS_MAX]; /* the line each key was
						 * first set on; 0: unset */
};

/* A resolved socket address and the text it came from. */
struct conf_addr {
	char			*text;		/* as written: "127.0.0.1:80" */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

/*
 * One "server = HOST:PORT [name=N] [weight=N] [max_conns=N] [backup]"
 * line.
 */
struct conf_server {
	char			*name;		/* identity; HOST:PORT */
	char			*host;		/* as written (no brackets) */
	uint16_t		 port;
	struct conf_addr	 addr;		/* resolved at load time */
	int			 weight;	/* 1..1000, default 1 */
	int			 max_conns;	/* requests in flight at most;
						 * 0: no limit */
	int			 backup;	/* only while no primary is
						 * usable */
	int			 line;
};

/*
 * One "route = [HOST]/PREFIX UPSTREAM [strip] [header=NAME:VALUE]
 * [cookie=NAME:VALUE]" line.
 */
struct conf_route {
	/* NULL: any host; "*.example.com": a suffix match; else exact,
	 * lower-cased, no port */
	char			*host;
	char			*prefix;	/* starts with '/'; with strip,
						 * without its trailing '/'
						 * ("" for "/") */
	char			*upstream;	/* name of an [upstream] */
	int			 strip;		/* the prefix is removed */
	char			*hdr_name;	/* header=NAME:VALUE; NULL:
						 * none */
	char			*hdr_value;
	char			*cookie_name;	/* cookie=NAME:VALUE; NULL:
						 * none */
	char			*cookie_value;
	int			 line;
};

#define CONF_ERROR_PAGE_MAX	(64 * 1024)	/* bytes of one page */

/* One "error_page = CODE... FILE" line, the file read when loaded. */
struct conf_error_page {
	int			*codes;		/* 400..599 */
	size_t			 ncodes;
	char			*path;
	char			*body;		/* the file's bytes */
	size_t			 len;
	const char		*type;		/* Content-Type, by extension */
	int			 line;
};

struct conf_error_pages {
	struct conf_error_page	*v;
	size_t			 n;
};

/* The page of pages for code, or NULL. */
const struct conf_error_page *conf_error_page_find(
	    const struct conf_error_pages *pages, int code);

/* An address block of trusted_proxies: family, address, prefix bits. */
struct conf_cidr {
	int			 family;	/* AF_INET or AF_INET6 */
	unsigned char		 addr[16];	/* network byte order */
	int			 bits;		/* 0..32 or 0..128 */
};

struct conf_cidrs {
	struct conf_cidr	*v;
	size_t			 n;
};

/*
 * The address text s[0..len) (IPv4, IPv6, IPv6 in brackets; blanks
 * around it allowed) into *family and addr (an IPv4-mapped IPv6 address
 * as IPv4). 0, or -1 when it is not an address.
 */
int	conf_ip_parse(const char *s, size_t len, int *family,
	    unsigned char addr[16]);

/* 1 when the address (as conf_ip_parse gives it) is in one of cidrs. */
int	conf_cidrs_match(const struct conf_cidrs *cidrs, int family,
	    const unsigned char addr[16]);

/* tls_verify_client: what a listener asks of clients' certificates. */
enum conf_verify_client {
	CONF_VERIFY_CLIENT_OFF = 0,	/* none asked for */
	CONF_VERIFY_CLIENT_OPTIONAL,	/* asked; one presented must verify */
	CONF_VERIFY_CLIENT_ON,		/* required and verified */
};

/* SameSite of the sticky cookie. */
enum conf_samesite {
	CONF_SAMESITE_UNSET = 0,	/* not sent */
	CONF_SAMESITE_LAX,
	CONF_SAMESITE_STRICT,
	CONF_SAMESITE_NONE,
};

/* What a header rule does. */
enum conf_hdr_op {
	CONF_HDR_SET = 0,	/* replace every instance, or add */
	CONF_HDR_ADD,		/* append one more */
	CONF_HDR_REMOVE,	/* remove every instance */
};

/* What a piece of a rule's value is: text, or a variable. */
enum conf_var {
	CONF_VAR_TEXT = 0,
	CONF_VAR_REMOTE_ADDR,	/* the client's IP address */
	CONF_VAR_SCHEME,	/* http or https, the client's */
	CONF_VAR_HOST,		/* the client's Host, lower-cased, no port */
	CONF_VAR_REQUEST_ID,
	CONF_VAR_SERVER,	/* the chosen server's name */
	CONF_VAR_TLS_CLIENT_SUBJECT,	/* a verified client certificate's
					 * subject, RFC 2253 */
	CONF_VAR_TLS_CLIENT_FINGERPRINT, /* its SHA-256, 64 hex digits */
};

/* One piece of a value: text[0..len) when var is CONF_VAR_TEXT. */
struct conf_hdr_part {
	enum conf_var		 var;
	const char		*text;		/* in the rule's value */
	size_t			 len;
};

/* One "request_header" or "response_header" line. */
struct conf_hdr_rule {
	enum conf_hdr_op	 op;
	char			*name;
	size_t			 namelen;
	char			*value;		/* the literal text of the
						 * pieces ($$ made $); NULL
						 * for remove */
	int			 superseded;	/* a later set or remove of
						 * the same list removes what
						 * this one adds */
	struct conf_hdr_part	*parts;
	size_t			 nparts;
	int			 line;
};

/* A section's rules for one direction, in file order. */
struct conf_hdr_rules {
	struct conf_hdr_rule	*rule;
	size_t			 n;
};

/* What an upstream sends as Host. */
enum conf_host_mode {
	CONF_HOST_PASS = 0,	/* the client's */
	CONF_HOST_SERVER,	/* the server line's HOST:PORT */
	CONF_HOST_NAME,		/* host_name */
};

/*
 * One "tls_certificate = CERT KEY" line (paths; loaded by tls/), or an
 * upstream's "tls_client_certificate = CERT KEY" (cert NULL when absent).
 */
struct conf_cert {
	char			*cert;
	char			*key;
	int			 line;
};

struct conf_listener {
	char			*name;
	struct conf_addr	 listen;
	char			*upstream;	/* default route; NULL */
	struct conf_route	*routes;
	size_t			 nroutes;
	struct conf_cert	*certs;
	size_t			 ncerts;
	uint64_t		 keepalive_timeout_ms;	/* default 60s */
	uint64_t		 client_timeout_ms;	/* default 60s */
	uint64_t		 client_header_timeout_ms; /* default 10s */
	uint64_t		 client_body_timeout_ms; /* default 60s */
	int			 max_connections;	/* default 0: none */
	uint64_t		 max_body_size;		/* default 16m */
	uint64_t		 max_header_size;	/* default 64k */
	int			 max_headers;		/* default 100 */
	int			 http2;		/* offer h2 (TLS only;
						 * default on) */
	int			 http2_max_concurrent_streams; /* 100 */
	uint64_t		 http2_max_header_list_size; /* 64k */
	int			 tls_protocols;	/* CONF_TLS_V1_2 | CONF_TLS_V1_3
						 * (default both) */
	char			*tls_ciphers;	/* TLS 1.2 cipher list (OpenSSL
						 * syntax), checked by tls/ */
	char			*request_id;	/* header name; NULL: off */
	int			 request_id_trust; /* keep a valid incoming
						 * one */
	struct conf_hdr_rules	 request_headers;
	struct conf_hdr_rules	 response_headers;
	struct conf_cidrs	 trusted_proxies; /* peers whose
						 * X-Forwarded-* are believed */
	struct conf_error_pages	 error_pages;
	int			 proxy_protocol; /* connections start with a
						 * PROXY header (default
						 * off) */
	char			*tls_client_ca;	/* CA file or directory;
						 * NULL: none */
	enum conf_verify_client	 tls_verify_client; /* default off */
	int			 redirect_port;	/* redirect = https [PORT]:
						 * the port (443 by default);
						 * 0: off */
	int			 line;		/* of the [listener] header */
	struct conf_lines	 lines;		/* see conf_line() */
};

struct conf_upstream {
	char			*name;
	struct conf_server	*servers;
	size_t			 nservers;
	enum conf_balance	 balance;		/* round_robin */
	uint64_t		 connect_timeout_ms;	/* default 5s */
	uint64_t		 read_timeout_ms;	/* default 60s */
	uint64_t		 write_timeout_ms;	/* default 60s */
	int			 keepalive;		/* 32, 0..10000 */
	uint64_t		 keepalive_timeout_ms;	/* default 4s */
	uint64_t		 drain_timeout_ms;	/* default 60s */
	int			 tls;			/* default off */
	int			 tls_verify;		/* default on */
	char			*tls_ca;	/* CA file or directory; NULL:
						 * the system store */
	char			*tls_server_name; /* SNI and the name verified;
						 * NULL: each server's host */
	struct conf_cert	 tls_client_cert; /* .cert NULL when unset */
	int			 tls_allow_truncation;	/* default off */
	int			 retries;		/* default 1, 0..10 */
	int			 max_fails;		/* default 1; 0: off */
	uint64_t		 fail_timeout_ms;	/* default 10s */
	int			 fail_on_5xx;		/* default off */
	int			 fail_on_invalid;	/* default off */
	int			 max_ejected_pct;	/* default 50, 0..100 */
	char			*health_check;	/* path; NULL: none */
	uint64_t		 health_interval_ms;	/* default 2s */
	uint64_t		 health_timeout_ms;	/* default 1s */
	int			 health_rise;		/* default 2 */
	int			 health_fall;		/* default 3 */
	int			 health_status_min;	/* default 200 */
	int			 health_status_max;	/* default 399 */
	uint64_t		 slow_start_ms;		/* default 0: off */
	uint64_t		 tunnel_timeout_ms;	/* default 1h */
	uint64_t		 max_response_header_size; /* 64k; trailers
						 * too */
	int			 max_response_headers;	/* 100; trailers too */
	int			 max_interim_responses;	/* default 8 */
	uint64_t		 max_chunk_extension;	/* default 1k */
	int			 queue;			/* default 0: none */
	uint64_t		 queue_timeout_ms;	/* default 5s */
	char			*sticky_cookie;	/* sticky = cookie NAME; NULL:
						 * off */
	uint64_t		 sticky_max_age_ms;	/* 0: session cookie */
	int			 sticky_secure;
	int			 sticky_httponly;
	enum conf_samesite	 sticky_samesite;
	int			 sticky_strip;		/* default off */
	struct conf_error_pages	 error_pages;	/* win over the listener's */
	enum conf_host_mode	 host_mode;		/* default pass */
	char			*host_name;	/* CONF_HOST_NAME's Host */
	int			 rewrite_location;	/* default on */
	int			 rewrite_cookie_path;	/* default off */
	struct conf_hdr_rules	 request_headers;
	struct conf_hdr_rules	 response_headers;
	int			 line;		/* of the [upstream] header */
	struct conf_lines	 lines;		/* see conf_line() */
};

struct conf_global {
	int			 includes;	/* include lines read */
	uint64_t		 shutdown_timeout_ms;	/* default 30s */
	uint64_t		 drain_notice_ms;	/* default 0 */
	uint64_t		 drain_idle_timeout_ms;	/* default 2s */
	char			*access_log;		/* default "-" */
	char			*error_log;		/* default "-" */
	enum conf_log_level	 log_level;		/* default info */
	enum conf_log_format	 access_log_format;	/* default text */
	char			*pid_file;		/* default NULL */
	int			 workers;		/* default 1; 0: auto */
	int			 max_connections;	/* default 0: auto */
	uint64_t		 max_buffered_bodies;	/* default 512m */
	uint64_t		 tls_ticket_rotation_ms; /* default 1h */
	struct conf_lines	 lines;			/* see conf_line() */
};

#define CONF_WORKERS_MAX	64	/* = WORKER_MAX */
#define CONF_RESP_HEADERS_MAX	128	/* = HTTP1_MAX_HEADERS */

/* The admin's token is at least this long (a guessable one protects
 * nothing off loopback). */
#define CONF_ADMIN_TOKEN_MIN	16

struct conf_admin {
	int			 enabled;	/* [admin] listen set */
	struct conf_addr	 listen;
	char			*token;		/* POSTs need "Authorization:
						 * Bearer TOKEN" (off loopback
						 * every request); NULL: none;
						 * CONF_ADMIN_TOKEN_MIN chars
						 * at least */
	char			**server_names;	/* Host and Origin names it
						 * answers to besides its
						 * address; lower case */
	size_t			 nserver_names;
	int			 public_read;	/* off loopback, GET /status
						 * and /metrics need no token
						 * (default off) */
	struct conf_cert	*certs;		/* tls_certificate lines: as
						 * a listener's; none: plain */
	size_t			 ncerts;
	struct conf_lines	 lines;		/* see conf_line() */
};

struct conf {
	char			*path;		/* the main file: files[0] */
	char			**files;	/* every file read, by
						 * CONF_LOC_FILE */
	size_t			 nfiles;
	struct conf_global	 global;
	struct conf_admin	 admin;
	struct conf_listener	*listeners;
	size_t			 nlisteners;
	struct conf_upstream	*upstreams;
	size_t			 nupstreams;
};

/*
 * Read, parse and check the file at path. On success returns a new conf
 * (free with conf_free) and sets *errors to NULL. On any failure returns NULL
 * and sets *errors to a malloc'd text of one "file:line: key: reason" line
 * per problem (line 0 when no line applies), which the caller frees.
 */
struct conf	*conf_load_file(const char *path, char **errors);

/* Same as conf_load_file on in-memory text; name is used in messages. */
struct conf	*conf_load_string(const char *name, const char *text,
		    char **errors);

/* Free a conf and everything it owns. NULL is fine. */
void		 conf_free(struct conf *);

/* Look up an upstream by name; NULL if absent. */
const struct conf_upstream *conf_upstream_find(const struct conf *,
		    const char *name);

/*
 * The line to name in a message about key of the section whose lines are
 * given (e.g. &l->lines): the line it was first set on (repeatable keys
 * such as server keep each line in their own entry), or the section
 * header's line when it was left at its default. 0 when the section has no
 * such key.
 */
int		 conf_line(const struct conf_lines *lines, const char *key);

/* The name of the file loc is in ("?" if none); see CONF_LOC. */
const char	*conf_loc_file(const struct conf *, int loc);

/* Write loc as "file:line" into buf; returns buf. */
char		*conf_where(const struct conf *, int loc, char *buf,
		    size_t size);

/*
 * Value parsers, shared by the keyword table and exposed for tests. Each
 * returns 0 and stores the value, or -1 and points *why at a static reason.
 */
/* "250ms", "5s", "2m", "1h", "0": milliseconds. A bare number is seconds. */
int		 conf_parse_duration(const char *, uint64_t *ms,
		    const char **why);
/* "512", "64k", "16m", "1g": bytes (powers of 1024). */
int		 conf_parse_size(const char *, uint64_t *bytes,
		    const char **why);
/* Decimal integer within [min, max]. */
int		 conf_parse_int(const char *, long min, long max, long *out,
		    const char **why);
/* "on|off|yes|no|true|false|1|0". */
int		 conf_parse_bool(const char *, int *out, const char **why);
/*
 * "HOST:PORT", "[V6]:PORT" or "*:PORT" (any address). HOST may be a name,
 * resolved with getaddrinfo (first result). The port must be 1..65535.
 * On success fills *out (text is a malloc'd copy; free with conf_addr_clear).
 */
int		 conf_parse_addr(const char *, struct conf_addr *out,
		    const char **why);
void		 conf_addr_clear(struct conf_addr *);

/*
 * A log target: 1 when value is not a syslog one (a path, "-", "off");
 * 0 for "syslog:FACILITY" or "syslog:FACILITY:PATH", with *facility its
 * number (daemon is 3, local3 19) and *path CONF_SYSLOG_PATH or the
 * PATH (pointing into value); -1 with *why when it is not a valid one.
 */
int		 conf_syslog_parse(const char *value, int *facility,
		    const char **path, const char **why);

/* Names used in messages and the example file. */
const char	*conf_balance_name(enum conf_balance);
const char	*conf_log_level_name(enum conf_log_level);

/*
 * The keyword table, for documentation checks: section ("global", "admin",
 * "listener", "upstream"), key, default as text ("" when none) and a one-line
 * help. Returns NULL past the end.
 */
struct conf_keyword_info {
	const char	*section;
	const char	*key;
	const char	*defval;
	const char	*help;
	int		 repeatable;
};
const struct conf_keyword_info *conf_keyword_info(size_t i);

#endif
