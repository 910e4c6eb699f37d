/*
 * check_docs.c: the operator documentation and packaging files agree with
 * the code. Every key of the keyword table is in sluice.ini(5) under its
 * section, with its default; every signal and option is in sluice(8); the
 * Kubernetes manifests parse (yamllint) and carry a configuration sluice
 * loads; the systemd unit is Type=notify and checks the file before a
 * reload; the socket unit matches the man page's example.
 *
 * Run from the top of the tree. Uses conf/ only (conf_keyword_info and the
 * loader); yamllint comes from contrib/deps.sh.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "proxy/base/version.h"
#include "tests/check_main.h"

#define DOC_SLUICE_8	"doc/sluice.8"
#define DOC_SLUICE_INI	"doc/sluice.ini.5"
#define UNIT_SERVICE	"contrib/systemd/sluice.service.in"
#define UNIT_SOCKET	"contrib/systemd/sluice.socket"
#define LOGROTATE	"contrib/logrotate/sluice"
#define K8S_DIR		"contrib/kubernetes"
#define K8S_CONFIGMAP	K8S_DIR "/configmap.yaml"
#define K8S_DEPLOYMENT	K8S_DIR "/deployment.yaml"
#define REPORT_MAX	4096

/*
 * Helpers
 */

/* The whole file at path as a string; fails the test when unreadable. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0, n;
	char	 chunk[4096];

	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot read %s (run from the top of the "
	    "tree)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf = realloc(buf, len + n + 1);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(fp);
	if (buf == NULL)
		buf = calloc(1, 1);
	ck_assert_ptr_nonnull(buf);
	buf[len] = '\0';
	return buf;
}

/* The next line of text after p, or NULL at the end. */
static const char *
next_line(const char *p)
{
	const char	*nl = strchr(p, '\n');

	return nl != NULL ? nl + 1 : NULL;
}

/* Whether the line at p starts with prefix. */
static int
line_starts(const char *p, const char *prefix)
{
	return strncmp(p, prefix, strlen(prefix)) == 0;
}

/* A malloc'd copy of [from, to); to NULL means up to the end. */
static char *
copy_range(const char *from, const char *to)
{
	size_t	 n = to != NULL ? (size_t)(to - from) : strlen(from);
	char	*s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, from, n);
	s[n] = '\0';
	return s;
}

/*
 * The lines after the first line starting with head, up to the next line
 * starting with stop1 or stop2 (NULL: none), malloc'd; NULL when no line
 * starts with head.
 */
static char *
block_after(const char *text, const char *head, const char *stop1,
    const char *stop2)
{
	const char	*p, *start;

	for (p = text; p != NULL && !line_starts(p, head); p = next_line(p))
		continue;
	if (p == NULL)
		return NULL;
	if ((start = next_line(p)) == NULL)
		return copy_range(p + strlen(p), NULL);
	for (p = start; p != NULL; p = next_line(p))
		if (line_starts(p, stop1) ||
		    (stop2 != NULL && line_starts(p, stop2)))
			return copy_range(start, p);
	return copy_range(start, NULL);
}

/* roff text as a reader sees it: "\&" dropped; "\-", "\(dq", "\e" plain. */
static char *
roff_plain(const char *s)
{
	char	*out = malloc(strlen(s) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	while (*s != '\0') {
		if (strncmp(s, "\\&", 2) == 0)
			s += 2;
		else if (strncmp(s, "\\-", 2) == 0) {
			*o++ = '-';
			s += 2;
		} else if (strncmp(s, "\\(dq", 4) == 0) {
			*o++ = '"';
			s += 4;
		} else if (strncmp(s, "\\e", 2) == 0) {
			*o++ = '\\';
			s += 2;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* Whether the line at p is ".It Ic KEY" followed by a blank or its end. */
static int
is_key_item(const char *p, const char *key)
{
	size_t	n = strlen(key);

	if (!line_starts(p, ".It Ic "))
		return 0;
	p += strlen(".It Ic ");
	return strncmp(p, key, n) == 0 &&
	    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0');
}

/*
 * The text of the ".It Ic KEY" item in block, malloc'd, or NULL. It ends at
 * the next key item or at the end of the list, nested lists included.
 */
static char *
key_item(const char *block, const char *key)
{
	const char	*p, *q;
	int		 depth = 0;

	for (p = block; p != NULL && !is_key_item(p, key); p = next_line(p))
		continue;
	if (p == NULL)
		return NULL;
	for (q = next_line(p); q != NULL; q = next_line(q)) {
		if (line_starts(q, ".Bl "))
			depth++;
		else if (line_starts(q, ".El") && depth-- == 0)
			break;
		else if (line_starts(q, ".It Ic ") && depth == 0)
			break;
	}
	return copy_range(p, q);
}

/* The roff text of sluice.ini(5)'s subsection for a section, or NULL. */
static char *
ini_section_block(const char *man, const char *section)
{
	char	 head[64];

	snprintf(head, sizeof(head), ".Ss \"[%s", section);
	return block_after(man, head, ".Ss ", ".Sh ");
}

/* Append a formatted line to a fixed report buffer. */
static void
report(char *buf, const char *fmt, const char *a, const char *b)
{
	size_t	 len = strlen(buf);

	if (len < REPORT_MAX - 1)
		snprintf(buf + len, REPORT_MAX - len, fmt, a, b);
}

/*
 * The value of the first "key=" line of a unit file, malloc'd, or NULL;
 * with after, of the first one below the first line starting with after.
 */
static char *
unit_value(const char *unit, const char *key, const char *after)
{
	const char	*p = unit;
	char		 prefix[64];

	if (after != NULL) {
		while (p != NULL && !line_starts(p, after))
			p = next_line(p);
		if (p != NULL)
			p = next_line(p);
	}
	snprintf(prefix, sizeof(prefix), "%s=", key);
	for (; p != NULL; p = next_line(p))
		if (line_starts(p, prefix))
			return copy_range(p + strlen(prefix), strchr(p, '\n'));
	return NULL;
}

/* Whether two resolved addresses are the same family, address and port. */
static int
addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
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
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* A default from the keyword table, in milliseconds. */
static uint64_t
default_ms(const char *section, const char *key)
{
	const struct conf_keyword_info	*kw;
	const char			*why;
	uint64_t			 ms;
	size_t				 i;

	for (i = 0; (kw = conf_keyword_info(i)) != NULL; i++) {
		if (strcmp(kw->section, section) != 0 ||
		    strcmp(kw->key, key) != 0)
			continue;
		ck_assert_msg(conf_parse_duration(kw->defval, &ms, &why) == 0,
		    "%s: %s", key, why);
		return ms;
	}
	ck_abort_msg("no [%s] %s in the keyword table", section, key);
	return 0;
}

/*
 * The ConfigMap's sluice.ini (a YAML block scalar), with the token
 * placeholder filled in and cluster-only host names (*.svc.cluster.local,
 * longer than the address put in their place) replaced by 127.0.0.1, so
 * that it loads outside a cluster.
 */
static char *
configmap_ini(const char *yaml)
{
	const char	*p, *end, *port;
	char		*ini, *o, *h;
	size_t		 indent, n;

	p = strstr(yaml, "sluice.ini: |");
	ck_assert_msg(p != NULL, K8S_CONFIGMAP ": no \"sluice.ini: |\"");
	ck_assert_ptr_nonnull(p = next_line(p));
	ck_assert_uint_gt(indent = strspn(p, " "), 0);
	ini = o = calloc(1, strlen(yaml) + 1);
	ck_assert_ptr_nonnull(ini);
	for (; p != NULL; p = next_line(p)) {
		end = strchr(p, '\n');
		n = end != NULL ? (size_t)(end + 1 - p) : strlen(p);
		if (*p == '\n')
			*o++ = '\n';
		else if (strspn(p, " ") >= indent) {
			memcpy(o, p + indent, n - indent);
			o += n - indent;
		} else
			break;
	}
	while ((h = strstr(ini, "@ADMIN_TOKEN@")) != NULL) {
		/* a token of the shortest length sluice takes (16) */
		*h = '\0';
		ck_assert(asprintf(&o, "%stest-token-00016%s", ini,
		    h + 13) != -1);
		free(ini);
		ini = o;
	}
	while ((h = strstr(ini, ".svc.cluster.local")) != NULL) {
		while (h > ini && !isspace((unsigned char)h[-1]) &&
		    h[-1] != '=')
			h--;
		ck_assert_ptr_nonnull(port = strchr(h, ':'));
		memmove(h + 9, port, strlen(port) + 1);
		memcpy(h, "127.0.0.1", 9);
	}
	return ini;
}

/*
 * sluice.ini(5)
 */

/* Every key of the table has an item under its section, with its default. */
START_TEST(test_ini_keys_documented)
{
	const struct conf_keyword_info	*kw;
	char				*man, *block, *item, *plain, *def, *d;
	char				*piece, *save, missing[REPORT_MAX] = "";
	size_t				 i;

	man = slurp(DOC_SLUICE_INI);
	for (i = 0; (kw = conf_keyword_info(i)) != NULL; i++) {
		if ((block = ini_section_block(man, kw->section)) == NULL) {
			report(missing, "  section [%s] (no .Ss \"[%s...\")\n",
			    kw->section, kw->section);
			continue;
		}
		if ((item = key_item(block, kw->key)) == NULL) {
			report(missing, "  [%s] %s: no \".It Ic\" item\n",
			    kw->section, kw->key);
			free(block);
			continue;
		}
		plain = roff_plain(item);
		if ((def = strstr(plain, "Default:")) == NULL)
			report(missing, "  [%s] %s: no \"Default:\"\n",
			    kw->section, kw->key);
		else if (kw->defval[0] != '\0') {
			/* a colon list may be shown one element a line */
			d = strdup(kw->defval);
			ck_assert_ptr_nonnull(d);
			for (piece = strtok_r(d, ":", &save); piece != NULL;
			    piece = strtok_r(NULL, ":", &save))
				if (strstr(def, piece) == NULL)
					report(missing, "  [%s] %s: default "
					    "not shown\n", kw->section,
					    kw->key);
			free(d);
		}
		if (kw->repeatable && strstr(plain, "Repeatable") == NULL)
			report(missing, "  [%s] %s: not said to be "
			    "repeatable\n", kw->section, kw->key);
		free(plain);
		free(item);
		free(block);
	}
	free(man);
	ck_assert_msg(missing[0] == '\0', DOC_SLUICE_INI
	    " lacks keys of the keyword table (conf/table.c):\n%s", missing);
}
END_TEST

/* Every key item in sluice.ini(5) is a key of the table (nothing stale). */
START_TEST(test_ini_no_stale_keys)
{
	static const char *const	 sections[] = {
		"global", "admin", "listener", "upstream"
	};
	const struct conf_keyword_info	*kw;
	const char			*p;
	char				*man, *block, key[64];
	char				 stale[REPORT_MAX] = "";
	size_t				 i, j, n;

	man = slurp(DOC_SLUICE_INI);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		block = ini_section_block(man, sections[i]);
		ck_assert_msg(block != NULL, "no [%s] in " DOC_SLUICE_INI,
		    sections[i]);
		for (p = block; p != NULL; p = next_line(p)) {
			if (!line_starts(p, ".It Ic "))
				continue;
			p += strlen(".It Ic ");
			n = strcspn(p, " \n");
			snprintf(key, sizeof(key), "%.*s", (int)n, p);
			for (j = 0; (kw = conf_keyword_info(j)) != NULL; j++)
				if (strcmp(kw->section, sections[i]) == 0 &&
				    strcmp(kw->key, key) == 0)
					break;
			if (kw == NULL)
				report(stale, "  [%s] %s\n", sections[i], key);
		}
		free(block);
	}
	free(man);
	ck_assert_msg(stale[0] == '\0', DOC_SLUICE_INI " documents keys the "
	    "keyword table does not have:\n%s", stale);
}
END_TEST

/*
 * sluice(8)
 */

/* Every signal sluice handles has an entry under SIGNALS. */
START_TEST(test_man_signals)
{
	static const char *const	 sigs[] = {
		"SIGHUP", "SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2"
	};
	char				*man, *block, want[32];
	size_t				 i;

	man = slurp(DOC_SLUICE_8);
	block = block_after(man, ".Sh SIGNALS", ".Sh ", NULL);
	ck_assert_msg(block != NULL, DOC_SLUICE_8 ": no SIGNALS section");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(want, sizeof(want), "Dv %s", sigs[i]);
		ck_assert_msg(strstr(block, want) != NULL,
		    DOC_SLUICE_8 ": %s is not under SIGNALS", sigs[i]);
	}
	free(block);
	free(man);
}
END_TEST

/* Every option of main()'s getopt string is under OPTIONS. */
START_TEST(test_man_options)
{
	char		*src, *man, *block, want[16];
	const char	*opts;

	src = slurp("proxy/main.c");
	opts = strstr(src, "getopt(argc, argv, \"");
	ck_assert_msg(opts != NULL, "proxy/main.c: no getopt call found");
	opts += strlen("getopt(argc, argv, \"");
	man = slurp(DOC_SLUICE_8);
	block = block_after(man, ".Sh OPTIONS", ".Sh ", NULL);
	ck_assert_msg(block != NULL, DOC_SLUICE_8 ": no OPTIONS section");
	for (; *opts != '"' && *opts != '\0'; opts++) {
		if (*opts == ':')
			continue;
		snprintf(want, sizeof(want), ".It Fl %c", *opts);
		ck_assert_msg(strstr(block, want) != NULL,
		    DOC_SLUICE_8 ": option -%c is not under OPTIONS", *opts);
	}
	free(block);
	free(man);
	free(src);
}
END_TEST

/* The sections an operator looks for, and the variables sluice reads. */
START_TEST(test_man_sections)
{
	static const char *const	 want[] = {
		".Sh NAME", ".Sh SYNOPSIS", ".Sh DESCRIPTION", ".Sh OPTIONS",
		".Sh SIGNALS", ".Sh ENVIRONMENT", ".Sh FILES",
		".Sh EXIT STATUS", ".Sh EXAMPLES", ".Sh SEE ALSO",
		"Ev NOTIFY_SOCKET", "Ev LISTEN_FDS", "Ev LISTEN_PID",
		"@sysconfdir@/sluice/sluice.ini"
	};
	char				*man;
	size_t				 i;

	man = slurp(DOC_SLUICE_8);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(man, want[i]) != NULL,
		    DOC_SLUICE_8 ": no \"%s\"", want[i]);
	free(man);
}
END_TEST

/* make install installs both pages. */
START_TEST(test_man_installed)
{
	char	*mk = slurp("Makefile.in");

	ck_assert_msg(strstr(mk, DOC_SLUICE_8) != NULL,
	    "Makefile.in does not install " DOC_SLUICE_8);
	ck_assert_msg(strstr(mk, DOC_SLUICE_INI) != NULL,
	    "Makefile.in does not install " DOC_SLUICE_INI);
	ck_assert_msg(strstr(mk, UNIT_SERVICE) != NULL,
	    "Makefile.in does not install " UNIT_SERVICE);
	free(mk);
}
END_TEST

/*
 * systemd and logrotate
 */

/* Type=notify, a check before every start and reload, a long stop. */
START_TEST(test_systemd_service)
{
	const char	*why;
	char		*unit, *v;
	uint64_t	 stop_ms, need_ms;

	unit = slurp(UNIT_SERVICE);
	ck_assert_msg((v = unit_value(unit, "Type", NULL)) != NULL &&
	    strcmp(v, "notify") == 0, UNIT_SERVICE ": not Type=notify");
	free(v);
	v = unit_value(unit, "NotifyAccess", NULL);
	ck_assert_msg(v == NULL || strcmp(v, "all") != 0, UNIT_SERVICE
	    ": NotifyAccess=all would let the draining old process of a "
	    "binary upgrade stop the service");
	free(v);
	ck_assert_msg((v = unit_value(unit, "ExecStartPre", NULL)) != NULL &&
	    strstr(v, "sluice -t -c ") != NULL,
	    UNIT_SERVICE ": ExecStartPre does not run sluice -t");
	free(v);
	ck_assert_msg((v = unit_value(unit, "ExecStart", NULL)) != NULL &&
	    strstr(v, "@bindir@/sluice -c @sysconfdir@/") != NULL,
	    UNIT_SERVICE ": ExecStart is not @bindir@/sluice -c ...");
	free(v);
	ck_assert_msg((v = unit_value(unit, "ExecReload", NULL)) != NULL &&
	    strstr(v, "sluice -t -c ") != NULL,
	    UNIT_SERVICE ": the first ExecReload does not run sluice -t");
	free(v);
	ck_assert_msg((v = unit_value(unit, "ExecReload", "ExecReload=")) !=
	    NULL && strstr(v, "-HUP $MAINPID") != NULL,
	    UNIT_SERVICE ": no ExecReload sending SIGHUP after the check");
	free(v);
	ck_assert_msg((v = unit_value(unit, "KillSignal", NULL)) != NULL &&
	    strcmp(v, "SIGTERM") == 0, UNIT_SERVICE ": KillSignal not SIGTERM");
	free(v);
	ck_assert_msg((v = unit_value(unit, "TimeoutStopSec", NULL)) != NULL,
	    UNIT_SERVICE ": no TimeoutStopSec");
	ck_assert_msg(conf_parse_duration(v, &stop_ms, &why) == 0,
	    UNIT_SERVICE ": TimeoutStopSec=%s: %s", v, why);
	need_ms = default_ms("global", "drain_notice") +
	    default_ms("global", "shutdown_timeout");
	ck_assert_msg(stop_ms > need_ms, UNIT_SERVICE ": TimeoutStopSec=%s is "
	    "not above drain_notice + shutdown_timeout (%llu ms)", v,
	    (unsigned long long)need_ms);
	free(v);
	free(unit);
}
END_TEST

/* Each ListenStream= is the address of a listener in sluice.ini(5)'s
 * example, which loads. */
START_TEST(test_systemd_socket)
{
	struct conf		*c;
	struct conf_addr	 a;
	const char		*p, *why;
	char			*man, *ex, *ini, *unit, *v, *errors;
	size_t			 i, n = 0;

	man = slurp(DOC_SLUICE_INI);
	ex = block_after(man, ".Sh EXAMPLES", ".Ed", NULL);
	ck_assert_msg(ex != NULL && (p = strstr(ex, ".Bd -literal")) != NULL,
	    DOC_SLUICE_INI ": no literal example under EXAMPLES");
	ini = roff_plain(next_line(p));
	c = conf_load_string(DOC_SLUICE_INI " (EXAMPLES)", ini, &errors);
	ck_assert_msg(c != NULL, "%s", errors);
	unit = slurp(UNIT_SOCKET);
	for (p = unit; p != NULL; p = next_line(p)) {
		if (!line_starts(p, "ListenStream="))
			continue;
		v = copy_range(p + strlen("ListenStream="), strchr(p, '\n'));
		ck_assert_msg(conf_parse_addr(v, &a, &why) == 0,
		    UNIT_SOCKET ": ListenStream=%s: %s", v, why);
		for (i = 0; i < c->nlisteners; i++)
			if (addr_same(&c->listeners[i].listen, &a))
				break;
		ck_assert_msg(i < c->nlisteners, UNIT_SOCKET
		    ": ListenStream=%s matches no listener of the example in "
		    DOC_SLUICE_INI, v);
		conf_addr_clear(&a);
		free(v);
		n++;
	}
	ck_assert_msg(n > 0, UNIT_SOCKET ": no ListenStream=");
	conf_free(c);
	free(unit);
	free(ini);
	free(ex);
	free(man);
}
END_TEST

/* Daily, 14 kept, compressed, and SIGUSR1 to reopen. */
START_TEST(test_logrotate)
{
	static const char *const	 want[] = {
		"\tdaily\n", "\trotate 14\n", "\tcompress\n",
		"\tdelaycompress\n", "postrotate", "kill -USR1 "
	};
	char				*conf;
	size_t				 i;

	conf = slurp(LOGROTATE);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(conf, want[i]) != NULL,
		    LOGROTATE ": no \"%s\"", want[i]);
	free(conf);
}
END_TEST

/*
 * Kubernetes
 */

/* yamllint accepts every manifest; without yamllint this fails. */
START_TEST(test_k8s_yamllint)
{
	char	 out[REPORT_MAX] = "";
	FILE	*fp;
	size_t	 n;
	int	 status;

	status = system("command -v yamllint >/dev/null 2>&1");
	ck_assert_msg(status == 0, "yamllint not found: contrib/deps.sh "
	    "installs it");
	fp = popen("yamllint -d relaxed -f parsable " K8S_DIR "/*.yaml 2>&1",
	    "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	status = pclose(fp);
	ck_assert_msg(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "yamllint -d relaxed " K8S_DIR
	    "/*.yaml failed:\n%s", out);
}
END_TEST

/* The ConfigMap's file loads, and the Deployment fits its timings. */
START_TEST(test_k8s_config)
{
	struct conf	*c;
	uint64_t	 need_ms;
	const char	*p;
	char		*yaml, *ini, *dep, *errors, want[64];
	long		 grace;

	yaml = slurp(K8S_CONFIGMAP);
	ini = configmap_ini(yaml);
	c = conf_load_string(K8S_CONFIGMAP, ini, &errors);
	ck_assert_msg(c != NULL, "%s", errors);
	ck_assert_msg(c->admin.enabled && c->admin.token != NULL,
	    K8S_CONFIGMAP ": no admin endpoint with a token");
	ck_assert_msg(c->global.drain_notice_ms > 0, K8S_CONFIGMAP
	    ": drain_notice is 0, so pods would need a preStop sleep");

	dep = slurp(K8S_DEPLOYMENT);
	p = strstr(dep, "terminationGracePeriodSeconds:");
	ck_assert_msg(p != NULL, K8S_DEPLOYMENT
	    ": no terminationGracePeriodSeconds");
	grace = strtol(p + strlen("terminationGracePeriodSeconds:"), NULL, 10);
	need_ms = c->global.drain_notice_ms + c->global.shutdown_timeout_ms;
	ck_assert_msg((uint64_t)grace * 1000 > need_ms, K8S_DEPLOYMENT
	    ": terminationGracePeriodSeconds %ld is not above drain_notice + "
	    "shutdown_timeout (%llu ms)", grace, (unsigned long long)need_ms);
	ck_assert_msg(strstr(dep, "path: /readyz") != NULL,
	    K8S_DEPLOYMENT ": no probe on /readyz");
	ck_assert_msg(strstr(dep, "path: /healthz") != NULL,
	    K8S_DEPLOYMENT ": no probe on /healthz");
	ck_assert_msg(strstr(dep, "preStop:") == NULL,
	    K8S_DEPLOYMENT ": drain_notice makes a preStop hook unneeded");
	snprintf(want, sizeof(want), "containerPort: %s",
	    strrchr(c->admin.listen.text, ':') + 1);
	ck_assert_msg(strstr(dep, want) != NULL, K8S_DEPLOYMENT ": no \"%s\" "
	    "for the admin listener", want);
	conf_free(c);
	free(dep);
	free(ini);
	free(yaml);
}
END_TEST

/* The suite: one test case per group above. */
/* debian/changelog's newest entry is the version the binary says. */
START_TEST(test_deb_version)
{
	char	*log = slurp("debian/changelog");
	char	 want[64];

	snprintf(want, sizeof(want), "sluice (%s) ", SLUICE_VERSION);
	ck_assert_msg(strncmp(log, want, strlen(want)) == 0, "debian/changelog"
	    " starts \"%.40s\", want \"%s\" (proxy/base/version.h)", log,
	    want);
	free(log);
}
END_TEST


Suite *
check_suite(void)
{
	Suite	*s = suite_create("docs");
	TCase	*tc;

	tc = tcase_create("man");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ini_keys_documented);
	tcase_add_test(tc, test_ini_no_stale_keys);
	tcase_add_test(tc, test_man_signals);
	tcase_add_test(tc, test_man_options);
	tcase_add_test(tc, test_man_sections);
	tcase_add_test(tc, test_man_installed);
	suite_add_tcase(s, tc);

	tc = tcase_create("contrib");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_systemd_service);
	tcase_add_test(tc, test_systemd_socket);
	tcase_add_test(tc, test_logrotate);
	tcase_add_test(tc, test_deb_version);
	tcase_add_test(tc, test_k8s_yamllint);
	tcase_add_test(tc, test_k8s_config);
	suite_add_tcase(s, tc);
	return s;
}
