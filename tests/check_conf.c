/*
 * check_conf.c: unit tests for conf/ (links libconf.a, inih and check only).
 *
 * Run from the top of the tree: the documentation tests read the .ini files
 * in conf/.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "tests/check_main.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* A small valid file: listener on lines 1-3, upstream on lines 4-5. */
#define LS	"[listener web]\nlisten = 127.0.0.1:8080\nupstream = app\n"
#define UP	"[upstream app]\nserver = 127.0.0.1:9000\n"
#define BASE	LS UP		/* the next line is 6, in [upstream app] */
#define BASE_L	UP LS		/* the next line is 6, in [listener web] */

/*
 * Helpers
 */

/* Load text as "t.ini"; *errors gets the error text or NULL. */
static struct conf *
load(const char *text, char **errors)
{
	return conf_load_string("t.ini", text, errors);
}

/* How many lines the error text has. */
static int
count_lines(const char *s)
{
	int	 n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Whether some line of the error text starts with prefix. */
static int
has_line(const char *errors, const char *prefix)
{
	const char	*p = errors;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/* Load text that must be valid; fail the test with its errors if not. */
static struct conf *
load_ok(const char *text)
{
	struct conf	*c;
	char		*errors;

	c = load(text, &errors);
	ck_assert_msg(c != NULL, "unexpected errors:\n%s", errors);
	ck_assert_ptr_null(errors);
	return c;
}

/* A listener's IPv4 address as text, for comparisons. */
static const char *
addr4(const struct conf_addr *a, char *buf, size_t sz)
{
	const struct sockaddr_in	*sin = (const void *)&a->ss;

	ck_assert_int_eq(a->ss.ss_family, AF_INET);
	ck_assert_uint_eq(a->sslen, sizeof(*sin));
	return inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)sz);
}

/* The port of a resolved address. */
static unsigned
port_of(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)
		    (const void *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)
	    (const void *)&a->ss)->sin_port);
}

/*
 * Value parsers, table-driven
 */

struct u64_case {
	const char	*in;
	int		 ok;
	uint64_t	 out;
};

static const struct u64_case duration_cases[] = {
	{ "250ms", 1, 250 },
	{ "5s", 1, 5000 },
	{ "2m", 1, 120000 },
	{ "1h", 1, 3600000 },
	{ "0", 1, 0 },
	{ "0ms", 1, 0 },
	{ "10", 1, 10000 },
	{ "007s", 1, 7000 },
	{ "18446744073709551615ms", 1, UINT64_MAX },
	{ "", 0, 0 },
	{ "-1s", 0, 0 },
	{ "+1s", 0, 0 },
	{ "5x", 0, 0 },
	{ "5S", 0, 0 },
	{ "5 s", 0, 0 },
	{ " 5s", 0, 0 },
	{ "5s ", 0, 0 },
	{ "1.5s", 0, 0 },
	{ "ms", 0, 0 },
	{ "s", 0, 0 },
	{ "5sm", 0, 0 },
	{ "5mss", 0, 0 },
	{ "0x10", 0, 0 },
	{ "99999999999999999999", 0, 0 },
	{ "18446744073709551615s", 0, 0 },
	{ "5124095576040h", 0, 0 },
};

/* conf_parse_duration on duration_cases[_i]. */
START_TEST(test_duration)
{
	const struct u64_case	*tc = &duration_cases[_i];
	const char		*why = NULL;
	uint64_t		 v = 12345;
	int			 rc;

	rc = conf_parse_duration(tc->in, &v, &why);
	if (tc->ok) {
		ck_assert_msg(rc == 0, "\"%s\": %s", tc->in, why);
		ck_assert_msg(v == tc->out, "\"%s\" gave %llu", tc->in,
		    (unsigned long long)v);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted", tc->in);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(v == 12345, "\"%s\": value stored", tc->in);
	}
}
END_TEST

static const struct u64_case size_cases[] = {
	{ "512", 1, 512 },
	{ "0", 1, 0 },
	{ "64k", 1, 65536 },
	{ "64K", 1, 65536 },
	{ "16m", 1, 16 << 20 },
	{ "16M", 1, 16 << 20 },
	{ "1g", 1, 1 << 30 },
	{ "64G", 1, 64ULL << 30 },
	{ "18446744073709551615", 1, UINT64_MAX },
	{ "", 0, 0 },
	{ "-1", 0, 0 },
	{ "+1", 0, 0 },
	{ "1kb", 0, 0 },
	{ "1 k", 0, 0 },
	{ "1t", 0, 0 },
	{ "k", 0, 0 },
	{ "1.5m", 0, 0 },
	{ "18446744073709551616", 0, 0 },
	{ "17179869184g", 0, 0 },
	{ "18014398509481984k", 0, 0 },
};

/* conf_parse_size on size_cases[_i]. */
START_TEST(test_size)
{
	const struct u64_case	*tc = &size_cases[_i];
	const char		*why = NULL;
	uint64_t		 v = 12345;
	int			 rc;

	rc = conf_parse_size(tc->in, &v, &why);
	if (tc->ok) {
		ck_assert_msg(rc == 0, "\"%s\": %s", tc->in, why);
		ck_assert_msg(v == tc->out, "\"%s\" gave %llu", tc->in,
		    (unsigned long long)v);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted", tc->in);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(v == 12345, "\"%s\": value stored", tc->in);
	}
}
END_TEST

static const struct {
	const char	*in;
	long		 min, max;
	int		 ok;
	long		 out;
} int_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "10", 0, 10, 1, 10 },
	{ "-5", -5, 5, 1, -5 },
	{ "0032", 0, 100, 1, 32 },
	{ "11", 0, 10, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "-6", -5, 5, 0, 0 },
	{ "", 0, 10, 0, 0 },
	{ "abc", 0, 10, 0, 0 },
	{ "1x", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ "0x1", 0, 10, 0, 0 },
	{ "99999999999999999999", 0, 10, 0, 0 },
};

/* conf_parse_int on int_cases[_i]. */
START_TEST(test_int)
{
	const char	*why = NULL;
	long		 v = 12345;
	int		 rc;

	rc = conf_parse_int(int_cases[_i].in, int_cases[_i].min,
	    int_cases[_i].max, &v, &why);
	if (int_cases[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\": %s", int_cases[_i].in, why);
		ck_assert_int_eq(v, int_cases[_i].out);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted", int_cases[_i].in);
		ck_assert_ptr_nonnull(why);
		ck_assert_int_eq(v, 12345);
	}
}
END_TEST

static const struct {
	const char	*in;
	int		 ok;
	int		 out;
} bool_cases[] = {
	{ "on", 1, 1 }, { "yes", 1, 1 }, { "true", 1, 1 }, { "1", 1, 1 },
	{ "ON", 1, 1 }, { "True", 1, 1 },
	{ "off", 1, 0 }, { "no", 1, 0 }, { "false", 1, 0 }, { "0", 1, 0 },
	{ "Off", 1, 0 }, { "NO", 1, 0 },
	{ "", 0, 0 }, { "2", 0, 0 }, { "maybe", 0, 0 }, { "o", 0, 0 },
	{ "on ", 0, 0 }, { "yess", 0, 0 },
};

/* conf_parse_bool on bool_cases[_i]. */
START_TEST(test_bool)
{
	const char	*why = NULL;
	int		 v = 7, rc;

	rc = conf_parse_bool(bool_cases[_i].in, &v, &why);
	if (bool_cases[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\": %s", bool_cases[_i].in, why);
		ck_assert_int_eq(v, bool_cases[_i].out);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted", bool_cases[_i].in);
		ck_assert_ptr_nonnull(why);
		ck_assert_int_eq(v, 7);
	}
}
END_TEST

static const struct {
	const char	*in;
	int		 family;	/* 0: must fail; -1: 4 or 6 */
	unsigned	 port;
	const char	*ip;		/* inet_ntop form, or NULL */
} addr_cases[] = {
	{ "127.0.0.1:80", AF_INET, 80, "127.0.0.1" },
	{ "0.0.0.0:65535", AF_INET, 65535, "0.0.0.0" },
	{ "*:443", AF_INET, 443, "0.0.0.0" },
	{ "10.1.2.3:1", AF_INET, 1, "10.1.2.3" },
	{ "[::1]:8080", AF_INET6, 8080, "::1" },
	{ "[::]:1", AF_INET6, 1, "::" },
	{ "[2001:db8::7]:9000", AF_INET6, 9000, "2001:db8::7" },
	{ "localhost:80", -1, 80, NULL },
	{ "", 0, 0, NULL },
	{ "127.0.0.1", 0, 0, NULL },
	{ "127.0.0.1:", 0, 0, NULL },
	{ "127.0.0.1:0", 0, 0, NULL },
	{ "127.0.0.1:65536", 0, 0, NULL },
	{ "127.0.0.1:8o", 0, 0, NULL },
	{ "127.0.0.1:-1", 0, 0, NULL },
	{ "127.0.0.1:+80", 0, 0, NULL },
	{ "127.0.0.1: 80", 0, 0, NULL },
	{ ":80", 0, 0, NULL },
	{ "::1:80", 0, 0, NULL },
	{ "[::1]", 0, 0, NULL },
	{ "[::1]80", 0, 0, NULL },
	{ "[::1:80", 0, 0, NULL },
	{ "[]:80", 0, 0, NULL },
	{ "[127.0.0.1]:80", 0, 0, NULL },
	{ "[localhost]:80", 0, 0, NULL },
	{ "1.2.3:80", 0, 0, NULL },
	{ "256.1.1.1:80", 0, 0, NULL },
	{ "bad host:80", 0, 0, NULL },
	{ "bad/host:80", 0, 0, NULL },
	{ "*:0", 0, 0, NULL },
};

/* conf_parse_addr on addr_cases[_i]; good ones are checked in full. */
START_TEST(test_addr)
{
	struct conf_addr	 a;
	const char		*why = NULL, *in = addr_cases[_i].in;
	char			 ip[INET6_ADDRSTRLEN];
	const void		*raw;
	int			 rc, fam = addr_cases[_i].family;

	memset(&a, 0, sizeof(a));
	rc = conf_parse_addr(in, &a, &why);
	if (fam == 0) {
		ck_assert_msg(rc == -1, "\"%s\" accepted", in);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(a.text);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\": %s", in, why);
	ck_assert_str_eq(a.text, in);
	ck_assert(fam == -1 || a.ss.ss_family == fam);
	ck_assert(a.ss.ss_family == AF_INET || a.ss.ss_family == AF_INET6);
	ck_assert_uint_eq(port_of(&a), addr_cases[_i].port);
	if (addr_cases[_i].ip != NULL) {
		if (a.ss.ss_family == AF_INET)
			raw = &((const struct sockaddr_in *)
			    (const void *)&a.ss)->sin_addr;
		else
			raw = &((const struct sockaddr_in6 *)
			    (const void *)&a.ss)->sin6_addr;
		ck_assert_ptr_nonnull(inet_ntop(a.ss.ss_family, raw, ip,
		    sizeof(ip)));
		ck_assert_str_eq(ip, addr_cases[_i].ip);
	}
	conf_addr_clear(&a);
	ck_assert_ptr_null(a.text);
	conf_addr_clear(&a);
}
END_TEST

/*
 * Loading valid files
 */

/* Every default in the table lands in the struct. */
START_TEST(test_defaults)
{
	struct conf			*c = load_ok(BASE);
	const struct conf_listener	*l;
	const struct conf_upstream	*u;
	const struct conf_server	*s;
	char				 buf[64];

	ck_assert_str_eq(c->path, "t.ini");
	ck_assert_uint_eq(c->global.shutdown_timeout_ms, 30000);
	ck_assert_uint_eq(c->global.drain_notice_ms, 0);
	ck_assert_uint_eq(c->global.drain_idle_timeout_ms, 2000);
	ck_assert_uint_eq(c->global.tls_ticket_rotation_ms, 3600000);
	ck_assert_str_eq(c->global.access_log, "-");
	ck_assert_str_eq(c->global.error_log, "-");
	ck_assert_int_eq(c->global.log_level, CONF_LOG_INFO);
	ck_assert_ptr_null(c->global.pid_file);
	ck_assert_int_eq(c->admin.enabled, 0);
	ck_assert_ptr_null(c->admin.listen.text);

	ck_assert_uint_eq(c->nlisteners, 1);
	l = &c->listeners[0];
	ck_assert_str_eq(l->name, "web");
	ck_assert_int_eq(l->line, 1);
	ck_assert_str_eq(l->listen.text, "127.0.0.1:8080");
	ck_assert_str_eq(addr4(&l->listen, buf, sizeof(buf)), "127.0.0.1");
	ck_assert_uint_eq(port_of(&l->listen), 8080);
	ck_assert_str_eq(l->upstream, "app");
	ck_assert_uint_eq(l->nroutes, 0);
	ck_assert_uint_eq(l->ncerts, 0);
	ck_assert_uint_eq(l->keepalive_timeout_ms, 60000);
	ck_assert_uint_eq(l->client_timeout_ms, 60000);
	ck_assert_uint_eq(l->max_body_size, 16 << 20);
	ck_assert_uint_eq(l->max_header_size, 64 << 10);
	ck_assert_int_eq(l->tls_protocols, CONF_TLS_V1_2 | CONF_TLS_V1_3);
	ck_assert_str_eq(l->tls_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:"
	    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
	    "ECDHE-RSA-CHACHA20-POLY1305");
	ck_assert_int_eq(conf_line(&l->lines, "tls_ciphers"), 1);

	ck_assert_uint_eq(c->nupstreams, 1);
	u = &c->upstreams[0];
	ck_assert_str_eq(u->name, "app");
	ck_assert_int_eq(u->line, 4);
	ck_assert_int_eq(u->balance, CONF_BALANCE_ROUND_ROBIN);
	ck_assert_uint_eq(u->connect_timeout_ms, 5000);
	ck_assert_uint_eq(u->read_timeout_ms, 60000);
	ck_assert_uint_eq(u->write_timeout_ms, 60000);
	ck_assert_int_eq(u->keepalive, 32);
	ck_assert_uint_eq(u->keepalive_timeout_ms, 4000);
	ck_assert_uint_eq(u->drain_timeout_ms, 60000);
	ck_assert_int_eq(u->tls, 0);
	ck_assert_int_eq(u->tls_verify, 1);
	ck_assert_ptr_null(u->tls_ca);
	ck_assert_int_eq(conf_line(&u->lines, "tls_ca"), u->line);
	ck_assert_ptr_null(u->tls_server_name);
	ck_assert_ptr_null(u->tls_client_cert.cert);
	ck_assert_ptr_null(u->tls_client_cert.key);

	ck_assert_uint_eq(u->nservers, 1);
	s = &u->servers[0];
	ck_assert_str_eq(s->name, "127.0.0.1:9000");
	ck_assert_str_eq(s->host, "127.0.0.1");
	ck_assert_uint_eq(s->port, 9000);
	ck_assert_int_eq(s->weight, 1);
	ck_assert_int_eq(s->line, 5);
	ck_assert_uint_eq(port_of(&s->addr), 9000);
	conf_free(c);
}
END_TEST

/* Every key set away from its default, with the syntax corners. */
static const char full_text[] =
	"\xEF\xBB\xBF# a comment\n"				/* 1 */
	"; another comment\n"
	"[global]\r\n"
	"shutdown_timeout = 10s ; inline comment\n"
	"drain_notice = 250ms\n"				/* 5 */
	"    drain_idle_timeout = 1m\n"
	"access_log = off\n"
	"error_log = /var/log/sluice;x.log\n"
	"log_level = debug\n"
	"pid_file = /run/sluice.pid\n"				/* 10 */
	"  [ admin ]  ; comment\n"
	"listen = [::1]:9901\n"
	"\n"
	"[listener web]\n"
	"listen = *:8080\n"					/* 15 */
	"upstream = app\n"
	"route = /api/ api\n"
	"route = Legacy.Example.COM/ app\n"
	"route = *.Example.com/static/ api\n"
	"route = legacy.example.com/x app\n"			/* 20 */
	"tls_certificate = /a.pem /a.key\n"
	"tls_certificate = /b.pem\t/b.key\n"
	"keepalive_timeout = 5s\n"
	"client_timeout = 1h\n"
	"max_body_size = 0\n"					/* 25 */
	"max_header_size = 1m\n"
	"[upstream app]\n"
	"server = 127.0.0.1:9001 name=blue weight=3\n"
	"server = 127.0.0.1:9002   weight=1000   name=green\n"
	"server = [::1]:9003\n"					/* 30 */
	"server = localhost:9004\n"
	"balance = least_conn\n"
	"connect_timeout = 1s\n"
	"read_timeout = 2s\n"
	"write_timeout = 3s\n"					/* 35 */
	"keepalive = 0\n"
	"keepalive_timeout = 100ms\n"
	"drain_timeout = 24h\n"
	"[upstream api]\n"
	"server = 127.0.0.1:9001\n"				/* 40 */
	"balance = random_two";

/* full_text loads with every value where it belongs. */
START_TEST(test_full)
{
	struct conf			*c = load_ok(full_text);
	const struct conf_listener	*l = &c->listeners[0];
	const struct conf_upstream	*u;
	char				 buf[64];

	ck_assert_uint_eq(c->global.shutdown_timeout_ms, 10000);
	ck_assert_uint_eq(c->global.drain_notice_ms, 250);
	ck_assert_uint_eq(c->global.drain_idle_timeout_ms, 60000);
	ck_assert_str_eq(c->global.access_log, "off");
	ck_assert_str_eq(c->global.error_log, "/var/log/sluice;x.log");
	ck_assert_int_eq(c->global.log_level, CONF_LOG_DEBUG);
	ck_assert_str_eq(c->global.pid_file, "/run/sluice.pid");
	ck_assert_int_eq(c->admin.enabled, 1);
	ck_assert_int_eq(c->admin.listen.ss.ss_family, AF_INET6);
	ck_assert_uint_eq(port_of(&c->admin.listen), 9901);

	ck_assert_int_eq(l->line, 14);
	ck_assert_str_eq(addr4(&l->listen, buf, sizeof(buf)), "0.0.0.0");
	ck_assert_uint_eq(l->nroutes, 4);
	ck_assert_ptr_null(l->routes[0].host);
	ck_assert_str_eq(l->routes[0].prefix, "/api/");
	ck_assert_str_eq(l->routes[0].upstream, "api");
	ck_assert_int_eq(l->routes[0].line, 17);
	ck_assert_str_eq(l->routes[1].host, "legacy.example.com");
	ck_assert_str_eq(l->routes[1].prefix, "/");
	ck_assert_str_eq(l->routes[2].host, "*.example.com");
	ck_assert_str_eq(l->routes[2].prefix, "/static/");
	ck_assert_str_eq(l->routes[3].prefix, "/x");
	ck_assert_uint_eq(l->ncerts, 2);
	ck_assert_str_eq(l->certs[0].cert, "/a.pem");
	ck_assert_str_eq(l->certs[0].key, "/a.key");
	ck_assert_str_eq(l->certs[1].key, "/b.key");
	ck_assert_int_eq(l->certs[1].line, 22);
	ck_assert_uint_eq(l->keepalive_timeout_ms, 5000);
	ck_assert_uint_eq(l->client_timeout_ms, 3600000);
	ck_assert_uint_eq(l->max_body_size, 0);
	ck_assert_uint_eq(l->max_header_size, 1 << 20);

	u = conf_upstream_find(c, "app");
	ck_assert_ptr_eq(u, &c->upstreams[0]);
	ck_assert_int_eq(u->balance, CONF_BALANCE_LEAST_CONN);
	ck_assert_uint_eq(u->connect_timeout_ms, 1000);
	ck_assert_uint_eq(u->read_timeout_ms, 2000);
	ck_assert_uint_eq(u->write_timeout_ms, 3000);
	ck_assert_int_eq(u->keepalive, 0);
	ck_assert_uint_eq(u->keepalive_timeout_ms, 100);
	ck_assert_uint_eq(u->drain_timeout_ms, 24 * 3600000ULL);
	ck_assert_uint_eq(u->nservers, 4);
	ck_assert_str_eq(u->servers[0].name, "blue");
	ck_assert_int_eq(u->servers[0].weight, 3);
	ck_assert_str_eq(u->servers[1].name, "green");
	ck_assert_int_eq(u->servers[1].weight, 1000);
	ck_assert_uint_eq(u->servers[1].port, 9002);
	ck_assert_str_eq(u->servers[2].name, "[::1]:9003");
	ck_assert_str_eq(u->servers[2].host, "::1");
	ck_assert_uint_eq(u->servers[2].port, 9003);
	ck_assert_str_eq(u->servers[3].host, "localhost");
	ck_assert_int_eq(u->servers[3].line, 31);

	u = conf_upstream_find(c, "api");
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->balance, CONF_BALANCE_RANDOM_TWO);
	ck_assert_ptr_null(conf_upstream_find(c, "nope"));
	conf_free(c);
}
END_TEST

/* The TLS keys of listeners and upstreams, away from their defaults. */
/* The health, retry and admin keys: defaults, then values. */
START_TEST(test_resilience)
{
	struct conf			*c = load_ok(BASE);
	const struct conf_upstream	*u = &c->upstreams[0];

	ck_assert_int_eq(u->retries, 1);
	ck_assert_int_eq(u->max_fails, 1);
	ck_assert_uint_eq(u->fail_timeout_ms, 10000);
	ck_assert_int_eq(u->fail_on_5xx, 0);
	ck_assert_int_eq(u->fail_on_invalid, 0);
	ck_assert_int_eq(u->max_ejected_pct, 50);
	ck_assert_ptr_null(u->health_check);
	ck_assert_int_eq(u->health_status_min, 200);
	ck_assert_int_eq(u->health_status_max, 399);
	ck_assert_uint_eq(u->slow_start_ms, 0);
	ck_assert_uint_eq(u->tunnel_timeout_ms, 3600000);
	ck_assert_uint_eq(u->max_response_header_size, 65536);
	ck_assert_int_eq(u->max_response_headers, 100);
	ck_assert_int_eq(u->max_interim_responses, 8);
	ck_assert_uint_eq(u->max_chunk_extension, 1024);
	ck_assert_ptr_null(c->admin.token);
	conf_free(c);
	c = load_ok(BASE "retries = 0\nmax_fails = 3\nfail_timeout = 5s\n"
	    "fail_on_5xx = on\nfail_on_invalid = on\nmax_ejected = 75%\n"
	    "health_check = /healthz?deep=1\n"
	    "health_interval = 500ms\nhealth_timeout = 200ms\n"
	    "health_rise = 1\nhealth_fall = 2\nhealth_status = 204\n"
	    "slow_start = 30s\nmax_response_header_size = 1m\n"
	    "max_response_headers = 128\nmax_interim_responses = 0\n"
	    "max_chunk_extension = 0\n[admin]\nlisten = 0.0.0.0:9901\n"
	    "token = s3cret-0123456789\n");
	u = &c->upstreams[0];
	ck_assert_int_eq(u->retries, 0);
	ck_assert_int_eq(u->max_fails, 3);
	ck_assert_uint_eq(u->fail_timeout_ms, 5000);
	ck_assert_int_eq(u->fail_on_5xx, 1);
	ck_assert_int_eq(u->fail_on_invalid, 1);
	ck_assert_int_eq(u->max_ejected_pct, 75);
	ck_assert_str_eq(u->health_check, "/healthz?deep=1");
	ck_assert_uint_eq(u->health_interval_ms, 500);
	ck_assert_uint_eq(u->health_timeout_ms, 200);
	ck_assert_int_eq(u->health_rise, 1);
	ck_assert_int_eq(u->health_fall, 2);
	ck_assert_int_eq(u->health_status_min, 204);
	ck_assert_int_eq(u->health_status_max, 204);
	ck_assert_uint_eq(u->slow_start_ms, 30000);
	ck_assert_uint_eq(u->max_response_header_size, 1 << 20);
	ck_assert_int_eq(u->max_response_headers, 128);
	ck_assert_int_eq(u->max_interim_responses, 0);
	ck_assert_uint_eq(u->max_chunk_extension, 0);
	ck_assert_str_eq(c->admin.token, "s3cret-0123456789");
	ck_assert_int_eq(c->admin.public_read, 0);
	ck_assert_uint_eq(c->admin.nserver_names, 0);
	ck_assert_uint_eq(c->admin.ncerts, 0);
	conf_free(c);
	/* server_name: several a line, repeatable, lower-cased */
	c = load_ok(BASE "[admin]\nlisten = 0.0.0.0:9901\n"
	    "token = 0123456789abcdef\npublic_read = on\n"
	    "server_name = Admin.Example.internal sluice-1\n"
	    "server_name = 203.0.113.5 ::1\n"
	    "tls_certificate = /a.pem /a.key\n"
	    "tls_certificate = /b.pem /b.key\n");
	ck_assert_int_eq(c->admin.public_read, 1);
	ck_assert_uint_eq(c->admin.nserver_names, 4);
	ck_assert_str_eq(c->admin.server_names[0], "admin.example.internal");
	ck_assert_str_eq(c->admin.server_names[1], "sluice-1");
	ck_assert_str_eq(c->admin.server_names[2], "203.0.113.5");
	ck_assert_str_eq(c->admin.server_names[3], "::1");
	ck_assert_uint_eq(c->admin.ncerts, 2);
	ck_assert_str_eq(c->admin.certs[1].key, "/b.key");
	conf_free(c);
}
END_TEST

START_TEST(test_tls)
{
	static const char text[] =
		"[listener web]\n"				/* 1 */
		"listen = 127.0.0.1:8443\n"
		"upstream = app\n"
		"tls_certificate = /a.pem /a.key\n"
		"tls_protocols = TLSv1.3\n"			/* 5 */
		"tls_ciphers = ECDHE-RSA-AES128-GCM-SHA256\n"
		"[listener old]\n"
		"listen = 127.0.0.1:8444\n"
		"upstream = app\n"
		"tls_protocols =  TLSv1.3\tTLSv1.2 \n"		/* 10 */
		"[upstream app]\n"
		"server = 127.0.0.1:9443\n"
		"tls = on\n"
		"tls_verify = off\n"
		"tls_ca = /etc/ca.pem\n"			/* 15 */
		"tls_server_name = App.Internal\n"
		"tls_client_certificate = /c.pem  /c.key\n"
		"[upstream v6]\n"
		"server = [::1]:9443\n"
		"tls = yes\n"					/* 20 */
		"tls_server_name = ::1\n"
		"tls_allow_truncation = on\n";
	struct conf			*c = load_ok(text);
	const struct conf_listener	*l = &c->listeners[0];
	const struct conf_upstream	*u = &c->upstreams[0];

	ck_assert_int_eq(l->tls_protocols, CONF_TLS_V1_3);
	ck_assert_str_eq(l->tls_ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_int_eq(conf_line(&l->lines, "tls_ciphers"), 6);
	ck_assert_uint_eq(l->ncerts, 1);
	l = &c->listeners[1];
	ck_assert_int_eq(l->tls_protocols, CONF_TLS_V1_2 | CONF_TLS_V1_3);
	ck_assert_int_eq(conf_line(&l->lines, "tls_ciphers"), 7);
	ck_assert_int_eq(u->tls, 1);
	ck_assert_int_eq(u->tls_verify, 0);
	ck_assert_str_eq(u->tls_ca, "/etc/ca.pem");
	ck_assert_int_eq(conf_line(&u->lines, "tls_ca"), 15);
	ck_assert_str_eq(u->tls_server_name, "App.Internal");
	ck_assert_str_eq(u->tls_client_cert.cert, "/c.pem");
	ck_assert_str_eq(u->tls_client_cert.key, "/c.key");
	ck_assert_int_eq(u->tls_client_cert.line, 17);
	ck_assert_int_eq(u->tls_allow_truncation, 0);
	u = &c->upstreams[1];
	ck_assert_int_eq(u->tls, 1);
	ck_assert_int_eq(u->tls_verify, 1);
	ck_assert_int_eq(u->tls_allow_truncation, 1);
	ck_assert_str_eq(u->tls_server_name, "::1");
	ck_assert_ptr_null(u->tls_client_cert.cert);
	conf_free(c);
}
END_TEST

/* A listener may route only; an [admin] without listen stays disabled. */
START_TEST(test_routes_only)
{
	struct conf	*c;

	c = load_ok("[admin]\n[global]\n[listener a]\nlisten = [::1]:8080\n"
	    "route = /x/ app\n" UP);
	ck_assert_int_eq(c->admin.enabled, 0);
	ck_assert_ptr_null(c->listeners[0].upstream);
	ck_assert_uint_eq(c->listeners[0].nroutes, 1);
	conf_free(c);
}
END_TEST

/* The pieces of a rule's value, as text: "T:abc" or "V:n" per piece. */
static void
rule_pieces(const struct conf_hdr_rule *r, char *buf, size_t size)
{
	size_t	 i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nparts && n < size; i++) {
		if (r->parts[i].var == CONF_VAR_TEXT)
			n += (size_t)snprintf(buf + n, size - n, "%sT:%.*s",
			    i > 0 ? "|" : "", (int)r->parts[i].len,
			    r->parts[i].text);
		else
			n += (size_t)snprintf(buf + n, size - n, "%sV:%d",
			    i > 0 ? "|" : "", (int)r->parts[i].var);
	}
}

/*
 * Header rules, request IDs and host: each op, values cut into text and
 * variables ($$ a dollar), comments after " ;", the defaults, and strip
 * routes keeping their prefix without the trailing slash.
 */
START_TEST(test_rules)
{
	struct conf			*c;
	const struct conf_listener	*l;
	const struct conf_upstream	*u;
	char				 p[256];

	c = load_ok("[listener web]\nlisten = 127.0.0.1:8080\n"
	    "upstream = app\n"
	    "request_id = X-Request-Id\n"
	    "request_id_trust = on\n"
	    "request_header = set X-Env prod\n"
	    "request_header = add X-Via  $scheme://$host:1$$x  ; note\n"
	    "request_header = remove Cookie\n"
	    "response_header = set X-Who $server/$remote_addr/$request_id\n"
	    "route = /legacy/ app strip\n"
	    "route = / app strip\n"
	    "route = /api app\n"
	    "[upstream app]\nserver = 127.0.0.1:9000\n"
	    "host = intranet.local:8080\n"
	    "rewrite_location = off\n"
	    "rewrite_cookie_path = on\n"
	    "response_header = remove Server\n"
	    "[upstream b]\nserver = 127.0.0.1:9001\nhost = server\n");
	l = &c->listeners[0];
	ck_assert_str_eq(l->request_id, "X-Request-Id");
	ck_assert_int_eq(l->request_id_trust, 1);
	ck_assert_uint_eq(l->request_headers.n, 3);
	ck_assert_int_eq(l->request_headers.rule[0].op, CONF_HDR_SET);
	ck_assert_str_eq(l->request_headers.rule[0].name, "X-Env");
	ck_assert_str_eq(l->request_headers.rule[0].value, "prod");
	ck_assert_int_eq(l->request_headers.rule[0].line, 6);
	rule_pieces(&l->request_headers.rule[0], p, sizeof(p));
	ck_assert_str_eq(p, "T:prod");
	ck_assert_int_eq(l->request_headers.rule[1].op, CONF_HDR_ADD);
	ck_assert_str_eq(l->request_headers.rule[1].value, "://:1$x");
	rule_pieces(&l->request_headers.rule[1], p, sizeof(p));
	ck_assert_str_eq(p, "V:2|T:://|V:3|T::1$x");
	ck_assert_int_eq(l->request_headers.rule[2].op, CONF_HDR_REMOVE);
	ck_assert_ptr_null(l->request_headers.rule[2].value);
	ck_assert_uint_eq(l->request_headers.rule[2].nparts, 0);
	ck_assert_uint_eq(l->response_headers.n, 1);
	rule_pieces(&l->response_headers.rule[0], p, sizeof(p));
	ck_assert_str_eq(p, "V:5|T:/|V:1|T:/|V:4");
	ck_assert_uint_eq(l->nroutes, 3);
	ck_assert_str_eq(l->routes[0].prefix, "/legacy");
	ck_assert_int_eq(l->routes[0].strip, 1);
	ck_assert_str_eq(l->routes[1].prefix, "");
	ck_assert_int_eq(l->routes[1].strip, 1);
	ck_assert_str_eq(l->routes[2].prefix, "/api");
	ck_assert_int_eq(l->routes[2].strip, 0);
	u = &c->upstreams[0];
	ck_assert_int_eq(u->host_mode, CONF_HOST_NAME);
	ck_assert_str_eq(u->host_name, "intranet.local:8080");
	ck_assert_int_eq(u->rewrite_location, 0);
	ck_assert_int_eq(u->rewrite_cookie_path, 1);
	ck_assert_uint_eq(u->response_headers.n, 1);
	ck_assert_uint_eq(u->request_headers.n, 0);
	ck_assert_int_eq(c->upstreams[1].host_mode, CONF_HOST_SERVER);
	ck_assert_ptr_null(c->upstreams[1].host_name);
	conf_free(c);

	/* the defaults */
	c = load_ok(LS UP);
	ck_assert_ptr_null(c->listeners[0].request_id);
	ck_assert_int_eq(c->listeners[0].request_id_trust, 0);
	ck_assert_uint_eq(c->listeners[0].request_headers.n, 0);
	ck_assert_int_eq(c->upstreams[0].host_mode, CONF_HOST_PASS);
	ck_assert_int_eq(c->upstreams[0].rewrite_location, 1);
	ck_assert_int_eq(c->upstreams[0].rewrite_cookie_path, 0);
	conf_free(c);

	/* off, IPv6 hosts, names and values with every tchar */
	c = load_ok(BASE_L "request_id = off\n"
	    "request_header = set !#$%&'*+-.^_`|~Az09 \"a\tb\" \xc3\xa9\n"
	    "[upstream v6]\nserver = 127.0.0.1:9002\nhost = [::1]:8080\n");
	ck_assert_ptr_null(c->listeners[0].request_id);
	ck_assert_str_eq(c->listeners[0].request_headers.rule[0].name,
	    "!#$%&'*+-.^_`|~Az09");
	ck_assert_str_eq(c->listeners[0].request_headers.rule[0].value,
	    "\"a\tb\" \xc3\xa9");
	ck_assert_str_eq(c->upstreams[1].host_name, "[::1]:8080");
	conf_free(c);
}
END_TEST

/*
 * Limits, queues, sticky sessions, route conditions and backups: parsed,
 * with their defaults, and routes that differ only by their conditions
 * accepted.
 */
/*
 * trusted_proxies: addresses and blocks of both families, repeatable; the
 * match is by prefix, an IPv4-mapped IPv6 address as IPv4.
 */
START_TEST(test_trusted_proxies)
{
	static const struct {
		const char	*addr;
		int		 trusted;
	} cases[] = {
		{ "10.1.2.3", 1 }, { "10.255.255.255", 1 }, { "11.0.0.0", 0 },
		{ "192.168.1.5", 1 }, { "192.168.1.6", 0 },
		{ "172.16.7.1", 1 }, { "172.17.7.1", 0 },
		{ "::ffff:10.0.0.1", 1 }, { "[::ffff:192.168.1.5]", 1 },
		{ "2001:db8:ff::1", 1 }, { "2001:db8:ff:ffff::9", 1 },
		{ "2001:db8:fe::1", 0 }, { "::1", 1 }, { "::2", 0 },
		{ " 10.0.0.1 ", 1 }, { "[2001:db8:ff::1]", 1 },
		{ "127.0.0.1", 0 }, { "0.0.0.0", 0 },
	};
	const struct conf_cidrs	*tp;
	struct conf		*c;
	unsigned char		 a[16];
	size_t			 i;
	int			 fam;

	c = load_ok("[listener web]\nlisten = 127.0.0.1:8080\n"
	    "upstream = app\n"
	    "trusted_proxies = 10.0.0.0/8 192.168.1.5\n"
	    "trusted_proxies = 172.16.0.0/16 2001:db8:ff::/48 ::1\n"
	    "[upstream app]\nserver = 127.0.0.1:9000\n");
	tp = &c->listeners[0].trusted_proxies;
	ck_assert_uint_eq(tp->n, 5);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(conf_ip_parse(cases[i].addr,
		    strlen(cases[i].addr), &fam, a), 0);
		ck_assert_msg(conf_cidrs_match(tp, fam, a) == cases[i].trusted,
		    "%s: want %s", cases[i].addr, cases[i].trusted ? "trusted" :
		    "not trusted");
	}
	ck_assert_int_eq(conf_ip_parse("unknown", 7, &fam, a), -1);
	ck_assert_int_eq(conf_ip_parse("1.2.3.4:80", 10, &fam, a), -1);
	ck_assert_int_eq(conf_ip_parse("", 0, &fam, a), -1);
	conf_free(c);
	/* /0 trusts everyone of a family */
	c = load_ok("[listener web]\nlisten = 127.0.0.1:8080\n"
	    "upstream = app\ntrusted_proxies = 0.0.0.0/0\n"
	    "[upstream app]\nserver = 127.0.0.1:9000\n");
	ck_assert_int_eq(conf_ip_parse("203.0.113.9", 11, &fam, a), 0);
	ck_assert(conf_cidrs_match(&c->listeners[0].trusted_proxies, fam, a));
	ck_assert_int_eq(conf_ip_parse("::9", 3, &fam, a), 0);
	ck_assert(!conf_cidrs_match(&c->listeners[0].trusted_proxies, fam,
	    a));
	conf_free(c);
}
END_TEST

/* Write len bytes of c into dir/name; the path into path. */
static void
page_file(const char *dir, const char *name, int c, size_t len, char *path,
    size_t size)
{
	FILE	*f;
	size_t	 i;

	snprintf(path, size, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < len; i++)
		fputc(c, f);
	fclose(f);
}

/*
 * error_page: the files are read when the configuration is; the type
 * comes from the extension; an upstream's page wins over the listener's
 * for the same code; every mistake is a file:line error.
 */
START_TEST(test_error_pages)
{
	char				 dir[] = "/tmp/sluice-pages.XXXXXX";
	char				 a[256], b[256], big[256], png[256];
	char				 text[2048], *errors = NULL;
	const struct conf_error_page	*p;
	struct conf			*c;
	size_t				 i;
	static const struct {
		const char	*line;		/* %s: a, b, big, png */
		const char	*expect;
	} bad[] = {
		{ "error_page = 503 %s/none.html", "t.ini:6: error_page: "
		    "\"%s/none.html\": No such file or directory" },
		{ "error_page = 503 %s/big.html", "t.ini:6: error_page: "
		    "\"%s/big.html\": larger than 64 KiB" },
		{ "error_page = 503 %s/x.png", "t.ini:6: error_page: "
		    "\"%s/x.png\": the file must end in .html" },
		{ "error_page = 399 %s/a.html", "t.ini:6: error_page: "
		    "\"399\": a code must be 400..599" },
		{ "error_page = 600 %s/a.html", "t.ini:6: error_page: "
		    "\"600\": a code must be 400..599" },
		{ "error_page = 5xx %s/a.html", "t.ini:6: error_page: "
		    "\"5xx\": a code must be 400..599" },
		{ "error_page = %s/a.html", "t.ini:6: error_page: expected "
		    "CODE... FILE" },
		{ "error_page = 503 503 %s/a.html", "t.ini:6: error_page: 503 "
		    "already has a page (line 6)" },
		{ "error_page = 503 %s/a.html\nerror_page = 502 503 %s/a.html",
		    "t.ini:7: error_page: 503 already has a page (line 6)" },
	};

	ck_assert_ptr_nonnull(mkdtemp(dir));
	page_file(dir, "a.html", 'a', 10, a, sizeof(a));
	page_file(dir, "b.JSON", 'b', 65536, b, sizeof(b));
	page_file(dir, "big.html", 'x', 65537, big, sizeof(big));
	page_file(dir, "x.png", 'p', 3, png, sizeof(png));
	snprintf(text, sizeof(text), "[listener web]\n"
	    "listen = 127.0.0.1:8080\nupstream = app\n"
	    "error_page = 404 400 503 %s\n"
	    "[upstream app]\nserver = 127.0.0.1:9000\n"
	    "error_page = 503 502 %s\n", a, b);
	c = load_ok(text);
	p = conf_error_page_find(&c->listeners[0].error_pages, 400);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->type, "text/html; charset=utf-8");
	ck_assert_uint_eq(p->len, 10);
	ck_assert(memcmp(p->body, "aaaaaaaaaa", 10) == 0);
	ck_assert_int_eq(p->line, 4);
	ck_assert_ptr_null(conf_error_page_find(&c->listeners[0].error_pages,
	    502));
	p = conf_error_page_find(&c->upstreams[0].error_pages, 502);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->type, "application/json");
	ck_assert_uint_eq(p->len, 65536);
	conf_free(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char	line[512], want[512];

		snprintf(line, sizeof(line), bad[i].line, dir, dir);
		snprintf(want, sizeof(want), bad[i].expect, dir);
		snprintf(text, sizeof(text), BASE_L "%s\n", line);
		ck_assert_ptr_null(load(text, &errors));
		ck_assert_msg(has_line(errors, want), "%s: want \"%s\", got:\n"
		    "%s", line, want, errors);
		free(errors);
	}
	unlink(a);
	unlink(b);
	unlink(big);
	unlink(png);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A listener that only redirects needs no upstream; the port is kept. */
START_TEST(test_redirect)
{
	struct conf	*c;

	c = load_ok("[listener http]\nlisten = 127.0.0.1:8080\n"
	    "redirect = https\n[listener alt]\nlisten = 127.0.0.1:8081\n"
	    "redirect = https 8443\n[listener web]\n"
	    "listen = 127.0.0.1:8082\nupstream = app\nredirect = off\n" UP);
	ck_assert_int_eq(c->listeners[0].redirect_port, 443);
	ck_assert_int_eq(c->listeners[1].redirect_port, 8443);
	ck_assert_int_eq(c->listeners[2].redirect_port, 0);
	conf_free(c);
	c = load_ok("[listener http]\nlisten = 127.0.0.1:8080\n"
	    "redirect = https\n");
	ck_assert_uint_eq(c->nupstreams, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_limits)
{
	struct conf			*c;
	const struct conf_upstream	*u;
	const struct conf_route		*r;

	c = load_ok("[listener web]\nlisten = 127.0.0.1:8080\n"
	    "upstream = app\n"
	    "route = / green header=X-Preview:1\n"
	    "route = / green cookie=preview:green\n"
	    "route = / green cookie=preview:green header=x-preview:1\n"
	    "route = /legacy app strip cookie=a:b\n"
	    "[upstream app]\n"
	    "server = 127.0.0.1:9000 name=blue max_conns=20\n"
	    "server = 127.0.0.1:9001 name=sorry backup max_conns=0\n"
	    "server = 127.0.0.1:9002 backup weight=3 max_conns=100000 "
	    "name=z\n"
	    "queue = 100\nqueue_timeout = 250ms\n"
	    "sticky = cookie SLUICE_APP max_age=8h secure httponly "
	    "samesite=strict\n"
	    "sticky_strip = on\n"
	    "[upstream green]\nserver = 127.0.0.1:9003\n");
	u = &c->upstreams[0];
	ck_assert_int_eq(u->servers[0].max_conns, 20);
	ck_assert_int_eq(u->servers[0].backup, 0);
	ck_assert_int_eq(u->servers[1].max_conns, 0);
	ck_assert_int_eq(u->servers[1].backup, 1);
	ck_assert_int_eq(u->servers[2].backup, 1);
	ck_assert_int_eq(u->servers[2].weight, 3);
	ck_assert_int_eq(u->servers[2].max_conns, 100000);
	ck_assert_str_eq(u->servers[2].name, "z");
	ck_assert_int_eq(u->queue, 100);
	ck_assert_uint_eq(u->queue_timeout_ms, 250);
	ck_assert_str_eq(u->sticky_cookie, "SLUICE_APP");
	ck_assert_uint_eq(u->sticky_max_age_ms, 8ULL * 3600 * 1000);
	ck_assert_int_eq(u->sticky_secure, 1);
	ck_assert_int_eq(u->sticky_httponly, 1);
	ck_assert_int_eq(u->sticky_samesite, CONF_SAMESITE_STRICT);
	ck_assert_int_eq(u->sticky_strip, 1);
	ck_assert_uint_eq(c->listeners[0].nroutes, 4);
	r = &c->listeners[0].routes[0];
	ck_assert_str_eq(r->hdr_name, "X-Preview");
	ck_assert_str_eq(r->hdr_value, "1");
	ck_assert_ptr_null(r->cookie_name);
	r = &c->listeners[0].routes[2];
	ck_assert_str_eq(r->cookie_name, "preview");
	ck_assert_str_eq(r->cookie_value, "green");
	ck_assert_str_eq(r->hdr_name, "x-preview");
	r = &c->listeners[0].routes[3];
	ck_assert_int_eq(r->strip, 1);
	ck_assert_str_eq(r->prefix, "/legacy");
	ck_assert_str_eq(r->cookie_value, "b");
	u = &c->upstreams[1];
	ck_assert_int_eq(u->queue, 0);
	ck_assert_uint_eq(u->queue_timeout_ms, 5000);
	ck_assert_ptr_null(u->sticky_cookie);
	ck_assert_int_eq(u->sticky_strip, 0);
	conf_free(c);

	/* the bare form, and off */
	c = load_ok(LS "[upstream app]\nserver = 127.0.0.1:9000\n"
	    "sticky = cookie S\n[upstream b]\nserver = 127.0.0.1:9001\n"
	    "sticky = off\n");
	ck_assert_str_eq(c->upstreams[0].sticky_cookie, "S");
	ck_assert_uint_eq(c->upstreams[0].sticky_max_age_ms, 0);
	ck_assert_int_eq(c->upstreams[0].sticky_samesite,
	    CONF_SAMESITE_UNSET);
	ck_assert_ptr_null(c->upstreams[1].sticky_cookie);
	conf_free(c);
}
END_TEST

/*
 * conf_line: a key set at line N gives N (a repeated key its first line),
 * a key left at its default gives its section header's line.
 */
START_TEST(test_lines)
{
	static const char	 text[] =
		"; sections and keys, by line\n"		/* 1 */
		"[global]\n"
		"workers = 2\n"
		"[admin]\n"
		"listen = 127.0.0.1:9901\n"			/* 5 */
		"[listener web]\n"
		"listen = 127.0.0.1:8080\n"
		"upstream = app\n"
		"route = /a app\n"
		"route = /b app\n"				/* 10 */
		"tls_ciphers = ECDHE-RSA-AES128-GCM-SHA256\n"
		"[upstream app]\n"
		"server = 127.0.0.1:9000\n"
		"\n"
		"server = 127.0.0.1:9001\n"			/* 15 */
		"keepalive_timeout = 5s\n"
		"tls_ca = /etc/ca.pem\n";
	struct conf			*c = load_ok(text);
	const struct conf_listener	*l = &c->listeners[0];
	const struct conf_upstream	*u = &c->upstreams[0];

	ck_assert_int_eq(c->global.lines.sect, CONF_SECT_GLOBAL);
	ck_assert_int_eq(conf_line(&c->global.lines, "workers"), 3);
	ck_assert_int_eq(conf_line(&c->global.lines, "shutdown_timeout"), 2);
	ck_assert_int_eq(c->admin.lines.sect, CONF_SECT_ADMIN);
	ck_assert_int_eq(conf_line(&c->admin.lines, "listen"), 5);
	ck_assert_int_eq(conf_line(&c->admin.lines, "token"), 4);

	ck_assert_int_eq(l->lines.sect, CONF_SECT_LISTENER);
	ck_assert_int_eq(l->lines.header, l->line);
	ck_assert_int_eq(conf_line(&l->lines, "listen"), 7);
	ck_assert_int_eq(conf_line(&l->lines, "upstream"), 8);
	ck_assert_int_eq(conf_line(&l->lines, "route"), 9);
	ck_assert_int_eq(l->routes[1].line, 10);
	ck_assert_int_eq(conf_line(&l->lines, "tls_ciphers"), 11);
	ck_assert_int_eq(conf_line(&l->lines, "tls_certificate"), 6);
	ck_assert_int_eq(conf_line(&l->lines, "keepalive_timeout"), 6);
	ck_assert_int_eq(conf_line(&l->lines, "tls_protocols"), 6);

	ck_assert_int_eq(u->lines.sect, CONF_SECT_UPSTREAM);
	ck_assert_int_eq(u->lines.header, u->line);
	ck_assert_int_eq(conf_line(&u->lines, "server"), 13);
	ck_assert_int_eq(u->servers[1].line, 15);
	ck_assert_int_eq(conf_line(&u->lines, "keepalive_timeout"), 16);
	ck_assert_int_eq(conf_line(&u->lines, "tls_ca"), 17);
	ck_assert_int_eq(conf_line(&u->lines, "tls_server_name"), 12);
	ck_assert_int_eq(conf_line(&u->lines, "health_status"), 12);

	/* Not a key of that section: 0, whatever other sections have. */
	ck_assert_int_eq(conf_line(&l->lines, "server"), 0);
	ck_assert_int_eq(conf_line(&u->lines, "route"), 0);
	ck_assert_int_eq(conf_line(&c->global.lines, "listen"), 0);
	ck_assert_int_eq(conf_line(&u->lines, "nope"), 0);
	ck_assert_int_eq(conf_line(&u->lines, ""), 0);
	conf_free(c);
}
END_TEST

/* Each section keeps its own lines; [global] and [admin] may be absent. */
START_TEST(test_lines_sections)
{
	struct conf	*c;

	c = load_ok(BASE "[listener api]\nlisten = 127.0.0.1:8081\n"
	    "upstream = app\n" "keepalive_timeout = 5s\n");
	ck_assert_int_eq(conf_line(&c->global.lines, "workers"), 0);
	ck_assert_int_eq(conf_line(&c->admin.lines, "listen"), 0);
	ck_assert_int_eq(conf_line(&c->listeners[0].lines, "listen"), 2);
	ck_assert_int_eq(conf_line(&c->listeners[0].lines,
	    "keepalive_timeout"), 1);
	ck_assert_int_eq(conf_line(&c->listeners[1].lines, "listen"), 7);
	ck_assert_int_eq(conf_line(&c->listeners[1].lines,
	    "keepalive_timeout"), 9);
	ck_assert_int_eq(conf_line(&c->listeners[1].lines, "tls_ciphers"), 6);
	ck_assert_int_eq(conf_line(&c->upstreams[0].lines, "server"), 5);
	conf_free(c);

	/* A [global] after other sections: its keys and header lines. */
	c = load_ok(BASE "[global]\n; x\nworkers = auto\n");
	ck_assert_int_eq(conf_line(&c->global.lines, "workers"), 8);
	ck_assert_int_eq(conf_line(&c->global.lines, "pid_file"), 6);
	conf_free(c);
}
END_TEST

/* Lines up to CONF_MAX_LINE are fine, longer ones are errors. */
START_TEST(test_long_line)
{
	size_t		 pre = strlen("[global]\naccess_log = ");
	char		*text, *errors;
	struct conf	*c;

	text = malloc(pre + CONF_MAX_LINE + 256);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "[global]\naccess_log = ");
	memset(text + pre, 'a', CONF_MAX_LINE - 13);
	strcpy(text + pre + CONF_MAX_LINE - 13, "\n" BASE);
	c = load_ok(text);
	ck_assert_uint_eq(strlen(c->global.access_log), CONF_MAX_LINE - 13);
	conf_free(c);

	memset(text + pre, 'a', CONF_MAX_LINE - 12);
	strcpy(text + pre + CONF_MAX_LINE - 12, "\n[bogus]\n" BASE);
	ck_assert_ptr_null(load(text, &errors));
	ck_assert_str_eq(errors, "t.ini:2: line too long (max 4096)\n"
	    "t.ini:3: [bogus]: unknown section (use global, admin, "
	    "listener NAME or upstream NAME)\n");
	free(errors);
	free(text);
}
END_TEST

/* workers: 1 by default, a number, or auto (0, resolved at start). */
START_TEST(test_workers)
{
	struct conf	*c;

	c = load_ok(BASE);
	ck_assert_int_eq(c->global.workers, 1);
	conf_free(c);
	c = load_ok("[global]\nworkers = 4\n" BASE);
	ck_assert_int_eq(c->global.workers, 4);
	conf_free(c);
	c = load_ok("[global]\nworkers = auto\n" BASE);
	ck_assert_int_eq(c->global.workers, 0);
	conf_free(c);
}
END_TEST

/* Leading blanks never make a continuation line. */
START_TEST(test_no_continuation)
{
	struct conf	*c;

	c = load_ok("[global]\nlog_level = warn\n\tdrain_notice = 3s\n"
	    "  error_log = /e.log\n" BASE);
	ck_assert_int_eq(c->global.log_level, CONF_LOG_WARN);
	ck_assert_uint_eq(c->global.drain_notice_ms, 3000);
	ck_assert_str_eq(c->global.error_log, "/e.log");
	conf_free(c);
}
END_TEST

/*
 * Errors: each case must give exactly nerrors errors, one of them starting
 * with expect.
 */

static const struct {
	const char	*text;
	int		 nerrors;
	const char	*expect;
} error_cases[] = {
	/* sections */
	{ BASE "[bogus]\n", 1, "t.ini:6: [bogus]: unknown section" },
	{ BASE "[bogus x]\nfoo = 1\nbar = 2\n", 1,
	    "t.ini:6: [bogus x]: unknown section" },
	{ "[listener]\nlisten = 127.0.0.1:80\n" BASE, 1,
	    "t.ini:1: [listener]: missing name" },
	{ BASE "[upstream]\nserver = 127.0.0.1:1\n", 1,
	    "t.ini:6: [upstream]: missing name" },
	{ BASE "[global main]\n", 1, "t.ini:6: [global main]: takes no name" },
	{ BASE "[admin x]\nlisten = 127.0.0.1:9901\n", 1,
	    "t.ini:6: [admin x]: takes no name" },
	{ BASE "[listener a b]\n", 1, "t.ini:6: [listener a b]: bad section" },
	{ BASE "[upstream a/b]\n", 1, "t.ini:6: [upstream a/b]: bad name" },
	{ BASE "[global\n", 1, "t.ini:6: [global: bad section header" },
	{ BASE "[global] x\n", 1, "t.ini:6: [global] x: bad section header" },
	{ BASE "[]\n", 1, "t.ini:6: []: bad section header" },
	{ BASE "[global]\n[global]\nlog_level = info\n", 1,
	    "t.ini:7: [global]: duplicate section (first at line 6)" },
	{ BASE "[admin]\n[admin]\n", 1, "t.ini:7: [admin]: duplicate section" },
	{ BASE "[upstream app]\nserver = 127.0.0.1:1\n", 1,
	    "t.ini:6: [upstream app]: duplicate section (first at line 4)" },
	{ BASE "[listener web]\nlisten = 127.0.0.1:1\n", 1,
	    "t.ini:6: [listener web]: duplicate section (first at line 1)" },
	/* keys */
	{ "shutdown_timeout = 1s\n" BASE, 1,
	    "t.ini:1: shutdown_timeout: not in any section" },
	{ BASE "[global]\nfoo = 1\n", 1,
	    "t.ini:7: foo: unknown key in [global]" },
	{ BASE "server_name = x\n", 1,
	    "t.ini:6: server_name: unknown key in [upstream]" },
	{ BASE "[admin]\nupstream = app\n", 1,
	    "t.ini:7: upstream: unknown key in [admin]" },
	{ BASE "[global]\nlog_level = info\nlog_level = debug\n", 1,
	    "t.ini:8: log_level: duplicate key (first at line 7)" },
	{ BASE_L "listen = 127.0.0.1:1\n", 1,
	    "t.ini:6: listen: duplicate key (first at line 4)" },
	{ BASE "balance = least_conn\nbalance = random_two\n", 1,
	    "t.ini:7: balance: duplicate key" },
	{ BASE "[global]\njust words\n", 1, "t.ini:7: syntax error" },
	{ BASE "[global]\nlog_level: info\n", 1, "t.ini:7: syntax error" },
	{ BASE "[global]\n= info\n", 1, "t.ini:7: syntax error" },
	{ BASE "[global]\nlog_level ; = info\n", 1, "t.ini:7: syntax error" },
	/* values */
	{ BASE "[global]\nshutdown_timeout = 5x\n", 1,
	    "t.ini:7: shutdown_timeout: \"5x\": bad unit" },
	{ BASE "[global]\nshutdown_timeout = -1s\n", 1,
	    "t.ini:7: shutdown_timeout: \"-1s\": must not be negative" },
	{ BASE "[global]\nshutdown_timeout =\n", 1,
	    "t.ini:7: shutdown_timeout: \"\": empty value" },
	{ BASE "[global]\nshutdown_timeout = 0\n", 1,
	    "t.ini:7: shutdown_timeout: \"0\": out of range (1ms..24h)" },
	{ BASE "[global]\ntls_ticket_rotation = 999ms\n", 1,
	    "t.ini:7: tls_ticket_rotation: \"999ms\": out of range "
	    "(1s..24h)" },
	{ BASE "[global]\ndrain_notice = 25h\n", 1,
	    "t.ini:7: drain_notice: \"25h\": out of range (0s..24h)" },
	{ BASE "[global]\nworkers = 0\n", 1,
	    "t.ini:7: workers: \"0\": out of range (1..64)" },
	{ BASE "[global]\nworkers = 65\n", 1,
	    "t.ini:7: workers: \"65\": out of range (1..64)" },
	{ BASE "[global]\nworkers = all\n", 1, "t.ini:7: workers: \"all\": " },
	{ BASE "[global]\nlog_level = verbose\n", 1,
	    "t.ini:7: log_level: \"verbose\": must be one of error, warn, "
	    "info, debug" },
	{ BASE "[global]\naccess_log =\n", 1,
	    "t.ini:7: access_log: \"\": empty value" },
	{ BASE "[admin]\nlisten = 127.0.0.1\n", 1,
	    "t.ini:7: listen: \"127.0.0.1\": expected HOST:PORT" },
	{ BASE "[admin]\nlisten = 127.0.0.1:0\n", 1,
	    "t.ini:7: listen: \"127.0.0.1:0\": bad port" },
	{ BASE_L "max_body_size = 1t\n", 1, "t.ini:6: max_body_size: \"1t\": "
	    "bad unit" },
	{ BASE_L "max_body_size = 65g\n", 1, "t.ini:6: max_body_size: "
	    "\"65g\": out of range (0..64g)" },
	{ BASE_L "max_header_size = 512\n", 1, "t.ini:6: max_header_size: "
	    "\"512\": out of range (1k..1m)" },
	{ BASE_L "keepalive_timeout = 0ms\n", 1,
	    "t.ini:6: keepalive_timeout: \"0ms\": out of range" },
	{ BASE "keepalive = abc\n", 1, "t.ini:6: keepalive: \"abc\": not a "
	    "number" },
	{ BASE "keepalive = 10001\n", 1, "t.ini:6: keepalive: \"10001\": out "
	    "of range (0..10000)" },
	{ BASE "keepalive = -1\n", 1, "t.ini:6: keepalive: \"-1\": out of "
	    "range" },
	{ BASE "max_ejected = 101%\n", 1, "t.ini:6: max_ejected: \"101%\": "
	    "out of range (0..100)" },
	{ BASE "max_ejected = half\n", 1, "t.ini:6: max_ejected: \"half\": "
	    "not a number" },
	{ BASE "max_ejected = 50%%\n", 1, "t.ini:6: max_ejected: \"50%%\": "
	    "not a number" },
	{ BASE "max_response_headers = 129\n", 1,
	    "t.ini:6: max_response_headers: \"129\": out of range (1..128)" },
	{ BASE "max_response_header_size = 512\n", 1,
	    "t.ini:6: max_response_header_size: \"512\": out of range" },
	{ BASE "fail_on_invalid = maybe\n", 1,
	    "t.ini:6: fail_on_invalid: \"maybe\": " },
	{ BASE "balance = fastest\n", 1, "t.ini:6: balance: \"fastest\": "
	    "must be one of round_robin, least_conn, random_two" },
	{ BASE "connect_timeout = 1.5s\n", 1, "t.ini:6: connect_timeout: " },
	{ BASE "drain_timeout = 99999999999999999999h\n", 1,
	    "t.ini:6: drain_timeout: " },
	/* server */
	{ BASE "server = 127.0.0.1:9001 weight=0\n", 1,
	    "t.ini:6: server: \"weight=0\": weight must be 1..1000" },
	{ BASE "server = 127.0.0.1:9001 weight=1001\n", 1,
	    "t.ini:6: server: \"weight=1001\"" },
	{ BASE "server = 127.0.0.1:9001 name=\n", 1,
	    "t.ini:6: server: \"name=\": empty name" },
	{ BASE "server = 127.0.0.1:9001 color=red\n", 1,
	    "t.ini:6: server: \"color=red\": unknown" },
	{ BASE "server = 127.0.0.1:9001 name=a name=b\n", 1,
	    "t.ini:6: server: \"name=b\": unknown or repeated option" },
	{ BASE "server = 127.0.0.1:9001 name=a weight=1 x\n", 1,
	    "t.ini:6: server: \"x\": unknown or repeated option" },
	{ BASE "server =\n", 1, "t.ini:6: server: expected HOST:PORT" },
	{ BASE "server = *:9001\n", 1, "t.ini:6: server: \"*:9001\": "
	    "a server needs a host" },
	{ BASE "server = 127.0.0.1:9000\n", 1,
	    "t.ini:6: server: duplicate server name \"127.0.0.1:9000\" "
	    "(first at line 5)" },
	{ BASE "server = 127.0.0.1:9001 name=x\nserver = 127.0.0.2:9001 "
	    "name=x\n", 1, "t.ini:7: server: duplicate server name \"x\"" },
	/* route and tls_certificate */
	{ BASE_L "route = api\n" "[upstream api]\nserver = 127.0.0.1:1\n", 1,
	    "t.ini:6: route: expected [HOST]/PREFIX UPSTREAM" },
	{ BASE_L "route = api app\n", 1, "t.ini:6: route: \"api\": expected "
	    "[HOST]/PREFIX" },
	{ BASE_L "route = ex.com:80/ app\n", 1,
	    "t.ini:6: route: \"ex.com:80\": bad host" },
	{ BASE_L "route = a*.com/ app\n", 1, "t.ini:6: route: \"a*.com\"" },
	{ BASE_L "route = /a/ app\nroute = /a/ app\n", 1,
	    "t.ini:7: route: duplicate route \"/a/ app\" (first at line 6)" },
	{ BASE_L "route = EX.com/a app\nroute = ex.com/a app\n", 1,
	    "t.ini:7: route: duplicate route" },
	{ BASE_L "tls_certificate = /only.pem\n", 1,
	    "t.ini:6: tls_certificate: expected CERT KEY" },
	{ BASE_L "tls_certificate = /a /b /c\n", 1,
	    "t.ini:6: tls_certificate: expected CERT KEY" },
	/* the other TLS keys */
	{ BASE_L "tls_protocols = TLSv1.1\n", 1,
	    "t.ini:6: tls_protocols: \"TLSv1.1\": expected TLSv1.2, TLSv1.3 "
	    "or both" },
	{ BASE_L "tls_protocols = TLSv1.3 TLSv1.3\n", 1,
	    "t.ini:6: tls_protocols: \"TLSv1.3 TLSv1.3\": expected" },
	{ BASE_L "tls_protocols = TLSv1.2 TLSv1.3 TLSv1.2\n", 1,
	    "t.ini:6: tls_protocols: \"TLSv1.2 TLSv1.3 TLSv1.2\": expected" },
	{ BASE_L "tls_protocols = tlsv1.2\n", 1,
	    "t.ini:6: tls_protocols: \"tlsv1.2\": expected" },
	{ BASE_L "tls_protocols =\n", 1, "t.ini:6: tls_protocols: \"\": "
	    "expected" },
	{ BASE_L "tls_ciphers =\n", 1, "t.ini:6: tls_ciphers: \"\": empty "
	    "value" },
	{ BASE_L "tls_protocols = TLSv1.2\ntls_protocols = TLSv1.3\n", 1,
	    "t.ini:7: tls_protocols: duplicate key (first at line 6)" },
	{ BASE "tls = maybe\n", 1, "t.ini:6: tls: \"maybe\": " },
	{ BASE "tls_verify = 2\n", 1, "t.ini:6: tls_verify: \"2\": " },
	{ BASE "tls_ca =\n", 1, "t.ini:6: tls_ca: \"\": empty value" },
	{ BASE "tls_server_name = a.example:443\n", 1,
	    "t.ini:6: tls_server_name: \"a.example:443\"" },
	{ BASE "tls_server_name = a b\n", 1,
	    "t.ini:6: tls_server_name: \"a b\": expected a host name" },
	{ BASE "tls_server_name =\n", 1, "t.ini:6: tls_server_name: " },
	{ BASE "tls_client_certificate = /c.pem\n", 1,
	    "t.ini:6: tls_client_certificate: expected CERT KEY" },
	{ BASE "tls_client_certificate = /c.pem /c.key\n"
	    "tls_client_certificate = /d.pem /d.key\n", 1,
	    "t.ini:7: tls_client_certificate: duplicate key (first at "
	    "line 6)" },
	{ BASE_L "tls = on\n", 1, "t.ini:6: tls: unknown key in [listener]" },
	{ BASE "tls_ciphers = HIGH\n", 1,
	    "t.ini:6: tls_ciphers: unknown key in [upstream]" },
	/* resilience keys */
	{ BASE "health_status = 600\n", 1,
	    "t.ini:6: health_status: status out of 100..599" },
	{ BASE "health_status = 300-200\n", 1,
	    "t.ini:6: health_status: LOW is above HIGH" },
	{ BASE "health_status = 2xx\n", 1,
	    "t.ini:6: health_status: expected CODE or LOW-HIGH" },
	{ BASE "health_check = health\n", 1,
	    "t.ini:6: health_check: a path must start with /" },
	{ BASE "health_check = /a b\n", 1,
	    "t.ini:6: health_check: a path cannot hold spaces" },
	{ BASE "retries = 11\n", 1, "t.ini:6: retries: " },
	{ BASE "max_fails = -1\n", 1, "t.ini:6: max_fails: " },
	{ BASE "[admin]\nlisten = 0.0.0.0:9901\n", 1,
	    "t.ini:7: listen: 0.0.0.0:9901 is not a loopback address; set "
	    "token" },
	/* admin hardening (issue 16): the short token is not quoted */
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\ntoken = 0123456789abcde\n",
	    1, "t.ini:8: token: too short (15 characters): use at least 16" },
	{ BASE "[admin]\nlisten = 0.0.0.0:9901\ntoken = short\n", 1,
	    "t.ini:8: token: too short (5 characters): use at least 16" },
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\n"
	    "token = 0123456789 abcdef\n", 1,
	    "t.ini:8: token: only visible ASCII characters, no spaces" },
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\n"
	    "server_name = admin.example:9901\n", 1,
	    "t.ini:8: server_name: \"admin.example:9901\": expected host "
	    "names" },
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\nserver_name =\n", 1,
	    "t.ini:8: server_name: expected 1 to 16 names on a line" },
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\npublic_read = maybe\n", 1,
	    "t.ini:8: public_read: \"maybe\": " },
	{ BASE "[admin]\nlisten = 127.0.0.1:9901\n"
	    "tls_certificate = /a.pem\n", 1,
	    "t.ini:8: tls_certificate: expected CERT KEY (two paths)" },
	/* checks across sections */
	{ "[listener web]\nupstream = app\n" UP, 1,
	    "t.ini:1: [listener web]: missing listen" },
	{ BASE "[listener api]\nlisten = 127.0.0.1:8081\n", 1,
	    "t.ini:6: [listener api]: no upstream and no route" },
	{ "[listener web]\nlisten = 127.0.0.1:8080\nupstream = nope\n" UP, 1,
	    "t.ini:3: upstream: no [upstream nope]" },
	{ BASE_L "route = /x/ nope\n", 1,
	    "t.ini:6: route: no [upstream nope]" },
	{ BASE "[upstream empty]\nbalance = least_conn\n", 1,
	    "t.ini:6: [upstream empty]: no server" },
	{ BASE "[listener b]\nupstream = app\nlisten = 127.0.0.1:8080\n", 1,
	    "t.ini:8: listen: 127.0.0.1:8080 is already used by "
	    "[listener web]" },
	{ "[listener a]\nlisten = *:80\nupstream = app\n"
	    "[listener b]\nlisten = 0.0.0.0:80\nupstream = app\n" UP, 1,
	    "t.ini:5: listen: 0.0.0.0:80 is already used by [listener a]" },
	{ BASE "[admin]\nlisten = 127.0.0.1:8080\n", 1,
	    "t.ini:7: listen: 127.0.0.1:8080 is already used by "
	    "[listener web]" },
	/* header rules, request IDs, host (issue 13) */
	{ BASE_L "request_header = set Content-Length 5\n", 1,
	    "t.ini:6: request_header: \"Content-Length\": sluice writes" },
	{ BASE_L "response_header = remove transfer-encoding\n", 1,
	    "t.ini:6: response_header: \"transfer-encoding\": sluice" },
	{ BASE_L "request_header = add Connection close\n", 1,
	    "t.ini:6: request_header: \"Connection\": sluice writes" },
	{ BASE "request_header = remove Keep-Alive\n", 1,
	    "t.ini:6: request_header: \"Keep-Alive\": sluice writes" },
	{ BASE "response_header = set Proxy-Connection x\n", 1,
	    "t.ini:6: response_header: \"Proxy-Connection\": sluice" },
	{ BASE_L "request_header = remove TE\n", 1,
	    "t.ini:6: request_header: \"TE\": sluice writes" },
	{ BASE_L "response_header = add Trailer x\n", 1,
	    "t.ini:6: response_header: \"Trailer\": sluice writes" },
	{ BASE "response_header = remove UPGRADE\n", 1,
	    "t.ini:6: response_header: \"UPGRADE\": sluice writes" },
	{ BASE_L "request_header = set Host a.test\n", 1,
	    "t.ini:6: request_header: \"Host\": use the upstream's host" },
	{ BASE "response_header = remove host\n", 1,
	    "t.ini:6: response_header: \"host\": use the upstream's host" },
	{ BASE_L "request_header = remove Expect\n", 1,
	    "t.ini:6: request_header: \"Expect\": sluice answers Expect" },
	{ BASE_L "request_header = set X(Y) 1\n", 1,
	    "t.ini:6: request_header: \"X(Y)\": not a header name" },
	{ BASE_L "request_header = set X:Y 1\n", 1,
	    "t.ini:6: request_header: \"X:Y\": not a header name" },
	{ BASE_L "request_header = set X-A a\rb\n", 1,
	    "t.ini:6: request_header: \"a\rb\": a value cannot hold a CR" },
	{ BASE_L "response_header = set X-A a\x01b\n", 1,
	    "t.ini:6: response_header: \"a\x01b\": a value cannot hold a "
	    "control" },
	{ BASE_L "request_header = set X-A $hostname\n", 1,
	    "t.ini:6: request_header: \"$hostname\": unknown variable" },
	{ BASE_L "request_header = set X-A ${host}\n", 1,
	    "t.ini:6: request_header: ${host} is not set in the environment "
	    "(give a default: ${host:-VALUE})" },
	{ BASE_L "request_header = set X-A cost$\n", 1,
	    "t.ini:6: request_header: \"$\": unknown variable" },
	{ BASE "response_header = add X-A $uri\n", 1,
	    "t.ini:6: response_header: \"$uri\": unknown variable" },
	{ BASE_L "request_header = replace X-A 1\n", 1,
	    "t.ini:6: request_header: expected set NAME VALUE" },
	{ BASE_L "request_header = set X-A\n", 1,
	    "t.ini:6: request_header: expected set NAME VALUE or add" },
	{ BASE_L "response_header = add X-A ; a comment\n", 1,
	    "t.ini:6: response_header: expected set NAME VALUE or add" },
	{ BASE_L "response_header = remove X-A 1\n", 1,
	    "t.ini:6: response_header: expected remove NAME (no value)" },
	{ BASE_L "request_header = \n", 1,
	    "t.ini:6: request_header: " },
	{ BASE_L "request_id = X Y\n", 1,
	    "t.ini:6: request_id: \"X Y\": not a header name" },
	{ BASE_L "request_id = Content-Length\n", 1,
	    "t.ini:6: request_id: \"Content-Length\": sluice writes" },
	{ BASE_L "request_id = Host\n", 1,
	    "t.ini:6: request_id: \"Host\": use the upstream's host" },
	{ BASE_L "request_id_trust = maybe\n", 1,
	    "t.ini:6: request_id_trust: " },
	{ BASE "host = a b\n", 1, "t.ini:6: host: \"a b\": expected pass, "
	    "server, or a host name" },
	{ BASE "host = a.test:99999\n", 1, "t.ini:6: host: \"a.test:99999\"" },
	{ BASE "host = a.test:\n", 1, "t.ini:6: host: \"a.test:\"" },
	{ BASE "host = [::1\n", 1, "t.ini:6: host: \"[::1\"" },
	{ BASE "host = a/b\n", 1, "t.ini:6: host: \"a/b\"" },
	{ BASE "rewrite_location = sometimes\n", 1,
	    "t.ini:6: rewrite_location: " },
	{ BASE "rewrite_cookie_path = 2\n", 1,
	    "t.ini:6: rewrite_cookie_path: " },
	{ BASE_L "route = /x/ app strp\n", 1,
	    "t.ini:6: route: \"strp\": unknown or repeated option" },
	{ BASE_L "route = /x/ app strip more\n", 1,
	    "t.ini:6: route: \"more\": unknown or repeated option" },
	{ BASE_L "max_body_size = 1g\n", 1,
	    "t.ini:6: max_body_size: larger than [global] max_buffered_bodies "
	    "(such a body would wait for ever)" },
	{ BASE_L "proxy_protocol = on\n", 1,
	    "t.ini:6: proxy_protocol: needs trusted_proxies (the peers that "
	    "may send it)" },
	{ BASE_L "tls_verify_client = on\n", 2,
	    "t.ini:6: tls_verify_client: needs tls_client_ca" },
	{ BASE_L "tls_verify_client = optional\ntls_client_ca = /x.pem\n", 1,
	    "t.ini:6: tls_verify_client: needs a TLS listener "
	    "(tls_certificate)" },
	{ BASE_L "tls_verify_client = maybe\n", 1,
	    "t.ini:6: tls_verify_client: \"maybe\": " },
	{ BASE_L "redirect = https\n", 1,
	    "t.ini:5: upstream: a listener with redirect forwards nothing" },
	{ UP "[listener r]\nlisten = 127.0.0.1:8080\nredirect = https\n"
	    "route = /x/ app\n", 1,
	    "t.ini:6: route: a listener with redirect forwards nothing" },
	{ BASE_L "redirect = http\n", 1,
	    "t.ini:6: redirect: \"http\": expected off, https or https PORT" },
	{ BASE_L "redirect = https 443 x\n", 1,
	    "t.ini:6: redirect: \"https 443 x\": expected off, https or" },
	{ BASE_L "redirect = https 0\n", 1,
	    "t.ini:6: redirect: \"0\": the port must be 1..65535" },
	{ BASE_L "redirect = https 65536\n", 1,
	    "t.ini:6: redirect: \"65536\": the port must be 1..65535" },
	{ BASE_L "redirect = https +8443\n", 1,
	    "t.ini:6: redirect: \"+8443\": the port must be 1..65535" },
	{ BASE_L "trusted_proxies =\n", 1,
	    "t.ini:6: trusted_proxies: \"\": expected addresses or CIDRs" },
	{ BASE_L "trusted_proxies = 10.0.0.0/8 lb.example\n", 1,
	    "t.ini:6: trusted_proxies: \"lb.example\": expected an IPv4 or "
	    "IPv6 address or CIDR" },
	{ BASE_L "trusted_proxies = 10.0.0.0/33\n", 1,
	    "t.ini:6: trusted_proxies: \"10.0.0.0/33\": the prefix must be "
	    "0..32" },
	{ BASE_L "trusted_proxies = ::/129\n", 1,
	    "t.ini:6: trusted_proxies: \"::/129\": the prefix must be "
	    "0..128" },
	{ BASE_L "trusted_proxies = 10.0.0.1/8\n", 1,
	    "t.ini:6: trusted_proxies: \"10.0.0.1/8\": bits set past the "
	    "prefix" },
	{ BASE_L "trusted_proxies = 10.0.0.0/\n", 1,
	    "t.ini:6: trusted_proxies: \"10.0.0.0/\": the prefix must be" },
	{ BASE_L "trusted_proxies = 10.0.0.0/-1\n", 1,
	    "t.ini:6: trusted_proxies: \"10.0.0.0/-1\": the prefix must be" },
	{ BASE_L "trusted_proxies = [::1]/128\n", 1,
	    "t.ini:6: trusted_proxies: \"[::1]/128\": expected an IPv4" },
	{ BASE_L "trusted_proxies = 1.2.3.4:80\n", 1,
	    "t.ini:6: trusted_proxies: \"1.2.3.4:80\": expected an IPv4" },
	{ BASE_L "route = /x/ app strip\nroute = /x app\n", 1,
	    "t.ini:7: route: duplicate route \"/x app\" (first at line 6)" },
	/* limits, queues, sticky sessions, conditions, backups (issue 14) */
	{ BASE "server = 127.0.0.1:9001 max_conns=100001\n", 1,
	    "t.ini:6: server: \"max_conns=100001\": max_conns must be "
	    "0..100000 (0: no limit)" },
	{ BASE "server = 127.0.0.1:9001 max_conns=-1\n", 1,
	    "t.ini:6: server: \"max_conns=-1\": max_conns must be" },
	{ BASE "server = 127.0.0.1:9001 max_conns=x\n", 1,
	    "t.ini:6: server: \"max_conns=x\": max_conns must be" },
	{ BASE "server = 127.0.0.1:9001 max_conns=1 max_conns=2\n", 1,
	    "t.ini:6: server: \"max_conns=2\": unknown or repeated option" },
	{ BASE "server = 127.0.0.1:9001 backup backup\n", 1,
	    "t.ini:6: server: \"backup\": unknown or repeated option" },
	{ BASE "server = 127.0.0.1:9001 backups\n", 1,
	    "t.ini:6: server: \"backups\": unknown or repeated option (use "
	    "name=, weight=, max_conns=, backup)" },
	{ BASE "server = 127.0.0.1:9001 name=a weight=1 max_conns=1 backup x\n",
	    1, "t.ini:6: server: expected HOST:PORT [name=NAME] [weight=N] "
	    "[max_conns=N] [backup]" },
	{ BASE "queue = -1\n", 1, "t.ini:6: queue: " },
	{ BASE "queue = 100001\n", 1, "t.ini:6: queue: \"100001\": out of "
	    "range" },
	{ BASE "queue_timeout = 0\n", 1, "t.ini:6: queue_timeout: " },
	{ BASE "sticky = on\n", 1, "t.ini:6: sticky: expected off, or cookie "
	    "NAME" },
	{ BASE "sticky = cookie\n", 1, "t.ini:6: sticky: expected off" },
	{ BASE "sticky = cookie a=b\n", 1, "t.ini:6: sticky: expected off" },
	{ BASE "sticky = cookie S max_age=0\n", 1,
	    "t.ini:6: sticky: \"max_age=0\": max_age must be a duration" },
	{ BASE "sticky = cookie S samesite=maybe\n", 1,
	    "t.ini:6: sticky: \"samesite=maybe\": samesite is lax, strict" },
	{ BASE "sticky = cookie S secure secure\n", 1,
	    "t.ini:6: sticky: \"secure\": unknown or repeated option" },
	{ BASE "sticky = cookie S path=/\n", 1,
	    "t.ini:6: sticky: \"path=/\": unknown or repeated option" },
	{ BASE "sticky_strip = sometimes\n", 1, "t.ini:6: sticky_strip: " },
	{ BASE_L "route = /x/ app header=X-P\n", 1,
	    "t.ini:6: route: \"header=X-P\": expected NAME:VALUE" },
	{ BASE_L "route = /x/ app header=:1\n", 1,
	    "t.ini:6: route: \"header=:1\": expected NAME:VALUE" },
	{ BASE_L "route = /x/ app cookie=p:\n", 1,
	    "t.ini:6: route: \"cookie=p:\": expected NAME:VALUE" },
	{ BASE_L "route = /x/ app header=X(P):1\n", 1,
	    "t.ini:6: route: \"header=X(P):1\": expected NAME:VALUE" },
	{ BASE_L "route = /x/ app header=A:1 header=B:2\n", 1,
	    "t.ini:6: route: \"header=B:2\": unknown or repeated option" },
	{ BASE_L "route = /x/ app query=a:b\n", 1,
	    "t.ini:6: route: \"query=a:b\": unknown or repeated option (use "
	    "strip, header=NAME:VALUE, cookie=NAME:VALUE)" },
	{ BASE_L "route = /x/ app header=X-P:1\nroute = /x/ app "
	    "header=x-p:1\n", 1, "t.ini:7: route: duplicate route" },
	{ BASE_L "route = /x/ app cookie=p:g header=X-P:1\nroute = /x/ app "
	    "header=X-P:1 cookie=p:g\n", 1, "t.ini:7: route: duplicate route" },
	{ BASE_L "route = /x/ app strip header=A:1 cookie=b:2 extra\n", 1,
	    "t.ini:6: route: expected [HOST]/PREFIX UPSTREAM [strip] "
	    "[header=NAME:VALUE] [cookie=NAME:VALUE]" },
};

/* error_cases[_i] fails with exactly the errors it expects. */
START_TEST(test_error)
{
	const char	*text = error_cases[_i].text;
	const char	*p;
	char		*errors = NULL;

	ck_assert_ptr_null(load(text, &errors));
	ck_assert_ptr_nonnull(errors);
	ck_assert_msg(has_line(errors, error_cases[_i].expect),
	    "case %d: want \"%s\", got:\n%s", _i, error_cases[_i].expect,
	    errors);
	ck_assert_msg(count_lines(errors) == error_cases[_i].nerrors,
	    "case %d: want %d errors, got:\n%s", _i, error_cases[_i].nerrors,
	    errors);
	for (p = errors; *p != '\0'; p = strchr(p, '\n') + 1)
		ck_assert_msg(strncmp(p, "t.ini:", 6) == 0, "bad line: %s", p);
	free(errors);
}
END_TEST

/* One pass reports every error in the file, sorted by line (the checks
 * across sections run last but land in place). */
START_TEST(test_many_errors)
{
	static const char text[] =
		"log_level = info\n"				/* 1 */
		"[global]\n"
		"shutdown_timeout = soon\n"
		"colour = blue\n"
		"[listener web]\n"				/* 5 */
		"upstream = nope\n"
		"max_header_size = 1g\n"
		"[upstream app]\n"
		"server = 127.0.0.1:9000 weight=0\n"		/* 9 */
		"[upstream app]\n"
		"[frobnicate]\n";
	static const char want[] =
		"t.ini:1: log_level: not in any section\n"
		"t.ini:3: shutdown_timeout: \"soon\": not a number\n"
		"t.ini:4: colour: unknown key in [global]\n"
		"t.ini:5: [listener web]: missing listen\n"
		"t.ini:6: upstream: no [upstream nope]\n"
		"t.ini:7: max_header_size: \"1g\": out of range (1k..1m)\n"
		"t.ini:9: server: \"weight=0\": weight must be 1..1000\n"
		"t.ini:10: [upstream app]: duplicate section (first at "
		    "line 8)\n"
		"t.ini:11: [frobnicate]: unknown section (use global, admin, "
		    "listener NAME or upstream NAME)\n";
	char		*errors;

	ck_assert_ptr_null(load(text, &errors));
	ck_assert_str_eq(errors, want);
	free(errors);
}
END_TEST

/* Files: a missing one, a directory, and one read with getline. */
START_TEST(test_files)
{
	char		 path[] = "/tmp/check_conf.XXXXXX", *errors, want[128];
	struct conf	*c;
	FILE		*fp;
	int		 fd;

	ck_assert_ptr_null(conf_load_file("/nonexistent/s.ini", &errors));
	ck_assert_str_eq(errors, "/nonexistent/s.ini:0: cannot open: "
	    "No such file or directory\n");
	free(errors);
	ck_assert_ptr_null(conf_load_file("/", &errors));
	ck_assert_ptr_nonnull(strstr(errors, "/:0: cannot read: "));
	free(errors);

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "%s[global]\r\n;%*s\r\nlog_level = loud", BASE,
	    CONF_MAX_LINE, "x");
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_null(conf_load_file(path, &errors));
	snprintf(want, sizeof(want), "%s:7: line too long (max 4096)\n"
	    "%s:8: log_level: \"loud\": must be one of", path, path);
	ck_assert_msg(strncmp(errors, want, strlen(want)) == 0, "got %s",
	    errors);
	free(errors);

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fprintf(fp, "%s[global]\n;%*s\nlog_level = warn\n", BASE,
	    CONF_MAX_LINE - 1, "x");
	ck_assert_int_eq(fclose(fp), 0);
	c = conf_load_file(path, &errors);
	ck_assert_msg(c != NULL, "%s", errors);
	ck_assert_str_eq(c->path, path);
	ck_assert_int_eq(c->global.log_level, CONF_LOG_WARN);
	conf_free(c);
	unlink(path);
}
END_TEST

/*
 * The keyword table and the example files
 */

/* A section kind the table may name. */
static int
is_kind(const char *s)
{
	return strcmp(s, "global") == 0 || strcmp(s, "admin") == 0 ||
	    strcmp(s, "listener") == 0 || strcmp(s, "upstream") == 0;
}

/* The table is complete and well formed; names round-trip. */
START_TEST(test_keyword_table)
{
	const struct conf_keyword_info	*k;
	size_t				 i, n = 0;

	for (i = 0; (k = conf_keyword_info(i)) != NULL; i++, n++) {
		ck_assert_msg(is_kind(k->section), "%s", k->section);
		ck_assert_msg(k->key[0] != '\0' && k->help[0] != '\0', "%s",
		    k->key);
		ck_assert_ptr_nonnull(k->defval);
		ck_assert_msg(!k->repeatable || k->defval[0] == '\0',
		    "repeatable %s has a default", k->key);
	}
	ck_assert_uint_eq(n, 87);
	ck_assert_ptr_null(conf_keyword_info(n + 100));
	ck_assert_str_eq(conf_balance_name(CONF_BALANCE_ROUND_ROBIN),
	    "round_robin");
	ck_assert_str_eq(conf_balance_name(CONF_BALANCE_RANDOM_TWO),
	    "random_two");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_ERROR), "error");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_DEBUG), "debug");
	ck_assert_str_eq(conf_balance_name((enum conf_balance)7), "?");
	ck_assert_str_eq(conf_log_level_name((enum conf_log_level)7), "?");
	conf_free(NULL);
}
END_TEST

/* Whether line (in a section of kind) documents key, maybe commented. */
static int
doc_line_has(const char *line, const char *kind, const char *sect,
    const char *key, const char *val)
{
	size_t	 n = strlen(key);

	if (strcmp(kind, sect) != 0)
		return 0;
	line += strspn(line, " \t");
	if (line[0] == ';')
		line += 1 + strspn(line + 1, " \t");
	if (strncmp(line, key, n) != 0 || strncmp(line + n, " = ", 3) != 0)
		return 0;
	line += n + 3;
	return val == NULL || (strncmp(line, val, strlen(val)) == 0 &&
	    strchr(" \t\n", line[strlen(val)]) != NULL);
}

/* Whether conf/sluice.ini has "key = val" (or "; key = ...") in a section
 * of kind; val NULL matches any value. */
static int
doc_has(const char *kind, const char *key, const char *val)
{
	char	 line[1024], sect[64] = "";
	FILE	*fp;
	int	 found = 0;

	fp = fopen("conf/sluice.ini", "r");
	ck_assert_msg(fp != NULL, "conf/sluice.ini: run from the top dir");
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '[')
			sscanf(line + 1, "%63[a-z]", sect);
		else
			found = doc_line_has(line, kind, sect, key, val);
	}
	fclose(fp);
	return found;
}

/* conf/sluice.ini shows every key of the table, with its default. */
START_TEST(test_doc_complete)
{
	const struct conf_keyword_info	*k;
	size_t				 i;

	for (i = 0; (k = conf_keyword_info(i)) != NULL; i++) {
		ck_assert_msg(doc_has(k->section, k->key, NULL),
		    "conf/sluice.ini lacks [%s] %s =", k->section, k->key);
		if (k->defval[0] != '\0')
			ck_assert_msg(doc_has(k->section, k->key, k->defval),
			    "conf/sluice.ini: [%s] %s = %s (the default)",
			    k->section, k->key, k->defval);
	}
}
END_TEST

/* Every example configuration loads. */
START_TEST(test_examples_load)
{
	struct conf	*c;
	glob_t		 g;
	char		*errors;
	size_t		 i;

	ck_assert_int_eq(glob("conf/*.ini", 0, NULL, &g), 0);
	ck_assert_uint_ge(g.gl_pathc, 2);
	for (i = 0; i < g.gl_pathc; i++) {
		c = conf_load_file(g.gl_pathv[i], &errors);
		ck_assert_msg(c != NULL, "%s", errors);
		ck_assert_ptr_null(errors);
		ck_assert_uint_ge(c->nlisteners, 1);
		conf_free(c);
	}
	globfree(&g);
}
END_TEST

/* The whole of a file, NUL-terminated; the test fails if it cannot. */
static char *
slurp(const char *path)
{
	FILE	*fp = fopen(path, "r");
	char	*buf;
	long	 n;

	ck_assert_msg(fp != NULL, "%s: run from the top dir", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/*
 * README.md's worked example of "Fronting a legacy application" is
 * conf/legacy.ini (below its comment lines), which loads (above) with the
 * rules it shows.
 */
START_TEST(test_legacy_example)
{
	char			*readme = slurp("README.md");
	char			*file = slurp("conf/legacy.ini"), *body, *p, *end;
	struct conf		*c;
	const struct conf_upstream *u;
	char			*errors;

	for (body = file; *body == ';'; body = strchr(body, '\n') + 1)
		continue;
	p = strstr(readme, "## Fronting a legacy application");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "```ini\n");
	ck_assert_ptr_nonnull(p);
	p += 7;
	end = strstr(p, "```\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_msg((size_t)(end - p) == strlen(body) &&
	    strncmp(p, body, strlen(body)) == 0,
	    "README.md's example differs from conf/legacy.ini");
	c = conf_load_file("conf/legacy.ini", &errors);
	ck_assert_msg(c != NULL, "%s", errors);
	ck_assert_int_eq(c->listeners[0].routes[0].strip, 1);
	ck_assert_str_eq(c->listeners[0].request_id, "X-Request-Id");
	u = conf_upstream_find(c, "old");
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->host_mode, CONF_HOST_NAME);
	ck_assert_int_eq(u->rewrite_cookie_path, 1);
	conf_free(c);
	free(readme);
	free(file);
}
END_TEST

/* The demo is what contrib/ and the docs say it is. */
START_TEST(test_demo)
{
	const struct conf_upstream	*u;
	struct conf			*c;
	char				*errors;

	c = conf_load_file("conf/demo.ini", &errors);
	ck_assert_msg(c != NULL, "%s", errors);
	ck_assert_uint_eq(c->nlisteners, 1);
	ck_assert_str_eq(c->listeners[0].name, "web");
	ck_assert_str_eq(c->listeners[0].listen.text, "127.0.0.1:8080");
	ck_assert_str_eq(c->listeners[0].upstream, "app");
	ck_assert_int_eq(c->admin.enabled, 1);
	ck_assert_str_eq(c->admin.listen.text, "127.0.0.1:9901");
	ck_assert_ptr_nonnull(u = conf_upstream_find(c, "app"));
	ck_assert_uint_eq(u->nservers, 2);
	ck_assert_str_eq(u->servers[0].name, "blue");
	ck_assert_uint_eq(u->servers[0].port, 9001);
	ck_assert_str_eq(u->servers[1].name, "green");
	ck_assert_uint_eq(u->servers[1].port, 9002);
	ck_assert_uint_eq(u->connect_timeout_ms, 1000);
	ck_assert_uint_eq(u->read_timeout_ms, 5000);
	ck_assert_uint_eq(c->global.shutdown_timeout_ms, 10000);
	conf_free(c);
}
END_TEST

/* The suite: one test case per group above. */
/*
 * Includes and environment values
 */

/* A scratch directory for a test's files, and what was written in it. */
struct tree {
	char	 dir[64];
	char	 made[24][96];		/* relative names, in order */
	int	 n;
};

/* Make the scratch directory. */
static void
tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/sluice-incl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

/* Write text to DIR/name, which tree_put made before. */
static void
tree_write(const struct tree *t, const char *name, const char *text)
{
	char	 path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Make DIR/name with text (a name ending in '/' is a directory). */
static void
tree_put(struct tree *t, const char *name, const char *text)
{
	char	 path[256];

	ck_assert_int_lt(t->n, 24);
	snprintf(t->made[t->n++], sizeof(t->made[0]), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	if (name[strlen(name) - 1] == '/')
		ck_assert_int_eq(mkdir(path, 0700), 0);
	else
		tree_write(t, name, text);
}

/* Load DIR/name: the conf, or NULL and *errors. */
static struct conf *
tree_load(const struct tree *t, const char *name, char **errors)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	return conf_load_file(path, errors);
}

/* Remove what was written, last first, then the directory. */
static void
tree_free(struct tree *t)
{
	char	 path[256];

	while (t->n > 0) {
		snprintf(path, sizeof(path), "%s/%s", t->dir,
		    t->made[--t->n]);
		ck_assert_int_eq(remove(path), 0);
	}
	ck_assert_int_eq(rmdir(t->dir), 0);
}

/*
 * include: a glob's files in sorted order, from the including file's
 * directory, each starting outside any section; the including section goes
 * on after the line; nested includes; lines point into the right file.
 */
START_TEST(test_include)
{
	struct tree		 t;
	struct conf		*c;
	char			*errors = NULL, at[256], want[256];

	tree_init(&t);
	tree_put(&t, "conf.d/", NULL);
	tree_put(&t, "more/", NULL);
	tree_put(&t, "main.ini", "[global]\n"
	    "include = conf.d/*.ini\n"
	    "workers = 3\n"			/* after the include: global */
	    "[listener web]\nlisten = 127.0.0.1:8080\nupstream = b\n");
	tree_put(&t, "conf.d/b.ini", "[upstream b]\nserver = 127.0.0.1:9002\n"
	    "include = ../more/*.ini\n"
	    "connect_timeout = 7s\n");		/* after it: still [upstream b] */
	tree_put(&t, "conf.d/a.ini", "; comment only\n"
	    "[upstream a]\nserver = 127.0.0.1:9001\n");
	tree_put(&t, "conf.d/skip.conf", "[upstream skip]\n");
	tree_put(&t, "more/c.ini", "\n\n[upstream c]\nserver = 127.0.0.1:9003\n");
	c = tree_load(&t, "main.ini", &errors);
	ck_assert_msg(c != NULL, "errors:\n%s", errors);
	ck_assert_uint_eq(c->nupstreams, 3);
	ck_assert_str_eq(c->upstreams[0].name, "a");	/* a.ini before b.ini */
	ck_assert_str_eq(c->upstreams[1].name, "b");
	ck_assert_str_eq(c->upstreams[2].name, "c");
	ck_assert_int_eq(c->global.workers, 3);
	ck_assert_int_eq(c->global.includes, 2);
	ck_assert_uint_eq(c->upstreams[1].connect_timeout_ms, 7000);
	ck_assert_uint_eq(c->nfiles, 4);
	snprintf(want, sizeof(want), "%s/conf.d/../more/c.ini:4", t.dir);
	ck_assert_str_eq(conf_where(c, c->upstreams[2].servers[0].line, at,
	    sizeof(at)), want);
	snprintf(want, sizeof(want), "%s/main.ini:4", t.dir);
	ck_assert_str_eq(conf_where(c, c->listeners[0].line, at, sizeof(at)),
	    want);
	conf_free(c);
	tree_free(&t);
}
END_TEST

/* One bad tree: main.ini as given, the error line expected (after DIR/). */
struct include_case {
	const char	*main;
	const char	*other;		/* conf.d/x.ini, or NULL */
	const char	*expect;	/* %s: DIR */
};

static const struct include_case include_cases[] = {
	/* an error in an included file names it and its line */
	{ "include = conf.d/*.ini\n", "[upstream a]\nnope = 1\n",
	    "%s/conf.d/x.ini:2: nope: unknown key in [upstream]" },
	{ "include = conf.d/*.ini\n", "server = 127.0.0.1:1\n",
	    "%s/conf.d/x.ini:1: server: not in any section" },
	/* a section in two files: both places named */
	{ "[upstream a]\nserver = 127.0.0.1:1\ninclude = conf.d/x.ini\n",
	    "[upstream a]\n", "%s/conf.d/x.ini:1: [upstream a]: duplicate "
	    "section (first at %s/main.ini:1)" },
	{ "include = conf.d/x.ini\n[global]\n", "\n[global]\n",
	    "%s/main.ini:2: [global]: duplicate section (first at "
	    "%s/conf.d/x.ini:2)" },
	/* cycles, direct or not */
	{ "include = main.ini\n", NULL, "%s/main.ini:1: include: "
	    "\"%s/main.ini\": an include cycle: that file is being read "
	    "already" },
	{ "include = conf.d/x.ini\n", "include = ../main.ini\n",
	    "%s/conf.d/x.ini:1: include: \"%s/conf.d/../main.ini\": an "
	    "include cycle" },
	/* a plain path must exist; only a regular file is read */
	{ "include = none.ini\n", NULL,
	    "%s/main.ini:1: include: \"%s/none.ini\": No such file" },
	{ "include = conf.d\n", NULL,
	    "%s/main.ini:1: include: \"%s/conf.d\": not a regular file" },
	{ "include = /dev/null\n", NULL,
	    "%s/main.ini:1: include: \"/dev/null\": not a regular file" },
};

/* Each include mistake is an error at the right file and line. */
START_TEST(test_include_error)
{
	const struct include_case	*ic = &include_cases[_i];
	struct tree			 t;
	char				*errors = NULL, want[512];

	tree_init(&t);
	tree_put(&t, "conf.d/", NULL);
	tree_put(&t, "main.ini", ic->main);
	if (ic->other != NULL)
		tree_put(&t, "conf.d/x.ini", ic->other);
	ck_assert_ptr_null(tree_load(&t, "main.ini", &errors));
	snprintf(want, sizeof(want), ic->expect, t.dir, t.dir);
	ck_assert_msg(has_line(errors, want), "case %d: want \"%s\", got:\n"
	    "%s", _i, want, errors);
	free(errors);
	tree_free(&t);
}
END_TEST

/*
 * A glob that matches nothing is an empty conf.d, not an error; includes
 * nest up to CONF_MAX_DEPTH files and no deeper.
 */
START_TEST(test_include_depth)
{
	struct tree	 t;
	struct conf	*c;
	char		*errors = NULL, name[32], text[256];
	int		 i;

	tree_init(&t);
	tree_put(&t, "main.ini", "include = none.d/*.ini\n"
	    "include = f1.ini\n" UP LS);
	for (i = 1; i < CONF_MAX_DEPTH; i++) {
		snprintf(name, sizeof(name), "f%d.ini", i);
		snprintf(text, sizeof(text), i < CONF_MAX_DEPTH - 1 ?
		    "include = f%d.ini\n" : "\n", i + 1);
		tree_put(&t, name, text);
	}
	c = tree_load(&t, "main.ini", &errors);
	ck_assert_msg(c != NULL, "errors:\n%s", errors);
	ck_assert_uint_eq(c->nfiles, CONF_MAX_DEPTH);
	conf_free(c);
	/* one more level is refused */
	snprintf(name, sizeof(name), "f%d.ini", CONF_MAX_DEPTH - 1);
	tree_write(&t, name, "include = last.ini\n");
	tree_put(&t, "last.ini", "\n");
	ck_assert_ptr_null(tree_load(&t, "main.ini", &errors));
	snprintf(text, sizeof(text), "%s/%s:1: include: ", t.dir, name);
	ck_assert_msg(has_line(errors, text) &&
	    strstr(errors, "nested too deep") != NULL, "got:\n%s", errors);
	free(errors);
	tree_free(&t);
}
END_TEST

/* ${NAME}, ${NAME:-default}, "$$" and a lone '$' in values. */
START_TEST(test_env)
{
	const struct conf_hdr_rule	*r;
	struct conf			*c;

	ck_assert_int_eq(setenv("SLUICE_T_HOST", "127.0.0.2", 1), 0);
	ck_assert_int_eq(setenv("SLUICE_T_EMPTY", "", 1), 0);
	ck_assert_int_eq(setenv("SLUICE_T_RULE", "$remote_addr$$", 1), 0);
	unsetenv("SLUICE_T_PORT");
	c = load_ok("[upstream app]\n"
	    "server = ${SLUICE_T_HOST}:${SLUICE_T_PORT:-9100}\n"
	    "tls_server_name = x${SLUICE_T_EMPTY:-dflt}y${SLUICE_T_EMPTY}z\n"
	    LS "request_header = set X-A ${SLUICE_T_RULE}\n"
	    "request_header = set X-B a$$b$remote_addr\n"
	    "[admin]\nlisten = 127.0.0.1:9901\n"
	    "token = a$b$$c${SLUICE_T_EMPTY}0123456789abcdef\n");
	ck_assert_uint_eq(port_of(&c->upstreams[0].servers[0].addr), 9100);
	ck_assert_str_eq(c->upstreams[0].servers[0].addr.text,
	    "127.0.0.2:9100");
	ck_assert_str_eq(c->upstreams[0].tls_server_name, "xdflt" "yz");
	/* what came from the environment stays text in a header rule */
	r = &c->listeners[0].request_headers.rule[0];
	ck_assert_uint_eq(r->nparts, 1);
	ck_assert_int_eq(r->parts[0].var, CONF_VAR_TEXT);
	ck_assert_str_eq(r->value, "$remote_addr$$");
	/* "$$" is '$' to the rule parser, $remote_addr still a variable */
	r = &c->listeners[0].request_headers.rule[1];
	ck_assert_str_eq(r->value, "a$b");
	ck_assert_uint_eq(r->nparts, 2);
	ck_assert_int_eq(r->parts[1].var, CONF_VAR_REMOTE_ADDR);
	ck_assert_str_eq(c->admin.token, "a$b$c0123456789abcdef");
	conf_free(c);
}
END_TEST

/* Mistakes in ${...}; no message shows a value from the environment. */
START_TEST(test_env_error)
{
	char	*errors = NULL;

	unsetenv("SLUICE_T_NONE");
	ck_assert_int_eq(setenv("SLUICE_T_DUR", "5x", 1), 0);
	ck_assert_int_eq(setenv("SLUICE_T_SECRET", "hunter2-hunter2", 1), 0);
	ck_assert_ptr_null(load(BASE
	    "connect_timeout = ${SLUICE_T_NONE}\n"	/* 6 */
	    "read_timeout = ${1X}\n"
	    "write_timeout = ${SLUICE_T_DUR\n"
	    "keepalive_timeout = ${SLUICE_T_DUR}\n"
	    "tls_server_name = ${}\n"			/* 10 */
	    "[admin]\nlisten = 127.0.0.1:9901\n"
	    "token = ${SLUICE_T_SECRET}\n", &errors));	/* 13 */
	ck_assert_msg(has_line(errors, "t.ini:6: connect_timeout: "
	    "${SLUICE_T_NONE} is not set in the environment (give a default: "
	    "${SLUICE_T_NONE:-VALUE})"), "got:\n%s", errors);
	ck_assert_msg(has_line(errors, "t.ini:7: read_timeout: bad ${...}: "
	    "a name is up to 128 letters, digits and '_', not starting with "
	    "a digit"), "got:\n%s", errors);
	ck_assert_msg(has_line(errors, "t.ini:8: write_timeout: "
	    "${SLUICE_T_DUR: no closing '}'"), "got:\n%s", errors);
	ck_assert_msg(has_line(errors, "t.ini:9: keepalive_timeout: "
	    "\"${SLUICE_T_DUR}\": bad unit"), "got:\n%s", errors);
	ck_assert_msg(has_line(errors, "t.ini:10: tls_server_name: bad "),
	    "got:\n%s", errors);
	ck_assert_msg(has_line(errors, "t.ini:13: token: "), "got:\n%s",
	    errors);
	ck_assert_msg(strstr(errors, "5x") == NULL &&
	    strstr(errors, "hunter2") == NULL, "a value shows:\n%s", errors);
	free(errors);
}
END_TEST

Suite *
check_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_duration, 0, NITEMS(duration_cases));
	tcase_add_loop_test(tc, test_size, 0, NITEMS(size_cases));
	tcase_add_loop_test(tc, test_int, 0, NITEMS(int_cases));
	tcase_add_loop_test(tc, test_bool, 0, NITEMS(bool_cases));
	tcase_add_loop_test(tc, test_addr, 0, NITEMS(addr_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_routes_only);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_trusted_proxies);
	tcase_add_test(tc, test_redirect);
	tcase_add_test(tc, test_error_pages);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_lines_sections);
	tcase_add_test(tc, test_tls);
	tcase_add_test(tc, test_resilience);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_no_continuation);
	tcase_add_test(tc, test_workers);
	tcase_add_test(tc, test_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_include);
	tcase_add_loop_test(tc, test_include_error, 0,
	    NITEMS(include_cases));
	tcase_add_test(tc, test_include_depth);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_env_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_error, 0, NITEMS(error_cases));
	tcase_add_test(tc, test_many_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_keyword_table);
	tcase_add_test(tc, test_doc_complete);
	tcase_add_test(tc, test_examples_load);
	tcase_add_test(tc, test_legacy_example);
	tcase_add_test(tc, test_demo);
	suite_add_tcase(s, tc);
	return s;
}
