/*
 * rules.c: the keys that change what crosses the proxy: request_header and
 * response_header (set, add, remove; values with variables), request_id,
 * an upstream's host, and its sticky cookie. Every rule is checked here,
 * once, so that the proxy applies them without a second look: a rule can
 * never name a header that frames the message or belongs to one
 * connection, nor put a line break into one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/* RFC 9110 5.6.2 tchar, besides letters and digits. */
#define CONF_TCHAR_EXTRA	"!#$%&'*+-.^_`|~"

/* Headers no rule may touch: sluice frames messages and owns hops. */
static const char *const conf_hdr_refused[] = {
	"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
	"Proxy-Connection", "TE", "Trailer", "Upgrade",
};

/* The variables a value may use, by their name after '$'. */
static const struct {
	const char	*name;
	enum conf_var	 var;
} conf_vars[] = {
	{ "remote_addr",	CONF_VAR_REMOTE_ADDR },
	{ "scheme",		CONF_VAR_SCHEME },
	{ "host",		CONF_VAR_HOST },
	{ "request_id",		CONF_VAR_REQUEST_ID },
	{ "server",		CONF_VAR_SERVER },
	{ "tls_client_subject",	CONF_VAR_TLS_CLIENT_SUBJECT },
	{ "tls_client_fingerprint", CONF_VAR_TLS_CLIENT_FINGERPRINT },
};

/* 1 when s[0..len) is a token (RFC 9110 5.6.2). */
int
conf_is_token(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' &&
		    strchr(CONF_TCHAR_EXTRA, c) != NULL)))
			return 0;
	}
	return 1;
}

/*
 * Why a header called name may not be named by kw (a rule, or request_id);
 * NULL when it may.
 */
static const char *
conf_hdr_name_why(const struct conf_keyword *kw, const char *name)
{
	size_t	 i;

	if (!conf_is_token(name, strlen(name)))
		return "not a header name (a token)";
	for (i = 0; i < CONF_NITEMS(conf_hdr_refused); i++)
		if (strcasecmp(name, conf_hdr_refused[i]) == 0)
			return "sluice writes this header itself "
			    "(it frames the message or ends at a hop)";
	if (strcasecmp(name, "Host") == 0)
		return "use the upstream's host = pass | server | NAME";
	if (strcasecmp(name, "Expect") == 0 &&
	    strcmp(kw->info.key, "response_header") != 0)
		return "sluice answers Expect itself";
	return NULL;
}

/* The variable called name[0..len), or CONF_VAR_TEXT when none is. */
static enum conf_var
conf_var_find(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < CONF_NITEMS(conf_vars); i++)
		if (strlen(conf_vars[i].name) == len &&
		    strncmp(conf_vars[i].name, name, len) == 0)
			return conf_vars[i].var;
	return CONF_VAR_TEXT;
}

/* Length of the variable name at s ([A-Za-z0-9_]*). */
static size_t
conf_var_len(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_");
}

/* Add a piece to r; -1 when out of memory. */
static int
conf_part_add(struct conf_hdr_rule *r, enum conf_var var, const char *text,
    size_t len)
{
	struct conf_hdr_part	*p;

	if (var == CONF_VAR_TEXT && len == 0)
		return 0;
	if (var == CONF_VAR_TEXT && r->nparts > 0 &&
	    r->parts[r->nparts - 1].var == CONF_VAR_TEXT &&
	    r->parts[r->nparts - 1].text + r->parts[r->nparts - 1].len ==
	    text) {
		r->parts[r->nparts - 1].len += len;
		return 0;
	}
	if ((p = conf_append(r->parts, r->nparts, sizeof(*p))) == NULL)
		return -1;
	r->parts = p;
	p[r->nparts].var = var;
	p[r->nparts].text = text;
	p[r->nparts++].len = len;
	return 0;
}

/*
 * Split value into r's pieces: text is copied into r->value with "$$"
 * made "$", and each variable becomes a piece of its own. 0, or -1 with
 * the error recorded.
 */
static int
conf_hdr_value(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_hdr_rule *r, const char *value)
{
	const char	*s;
	char		*out;
	size_t		 n, start;
	enum conf_var	 var;

	for (s = value; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return conf_value_error(ld, kw, value, *s == '\r' ?
			    "a value cannot hold a CR, LF or NUL" :
			    "a value cannot hold a control character");
	if ((r->value = out = malloc(strlen(value) + 1)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	for (s = value, start = 0; *s != '\0'; ) {
		if (*s != '$') {
			*out++ = *s++;
			continue;
		}
		if (s[1] == '$') {
			*out++ = '$';
			s += 2;
			continue;
		}
		n = conf_var_len(s + 1);
		if ((var = conf_var_find(s + 1, n)) == CONF_VAR_TEXT) {
			char	 bad[64];

			snprintf(bad, sizeof(bad), "$%.*s", (int)(n > 40 ? 40 :
			    n), s + 1);
			return conf_error(ld, ld->lineno, "%s: \"%s\": unknown "
			    "variable (use $remote_addr, $scheme, $host, "
			    "$request_id, $server, $tls_client_subject, "
			    "$tls_client_fingerprint or $$)", kw->info.key,
			    bad);
		}
		if (conf_part_add(r, CONF_VAR_TEXT, r->value + start,
		    (size_t)(out - r->value) - start) == -1 ||
		    conf_part_add(r, var, NULL, 0) == -1)
			return conf_value_error(ld, kw, value, "out of memory");
		start = (size_t)(out - r->value);
		s += 1 + n;
	}
	*out = '\0';
	if (conf_part_add(r, CONF_VAR_TEXT, r->value + start,
	    (size_t)(out - r->value) - start) == -1)
		return conf_value_error(ld, kw, value, "out of memory");
	return 0;
}

/* Free what a header rule owns. */
static void
conf_hdr_rule_clear(struct conf_hdr_rule *r)
{
	free(r->name);
	free(r->value);
	free(r->parts);
	memset(r, 0, sizeof(*r));
}

/* Free a list of rules. */
void
conf_hdr_rules_clear(struct conf_hdr_rules *rs)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		conf_hdr_rule_clear(&rs->rule[i]);
	free(rs->rule);
	rs->rule = NULL;
	rs->n = 0;
}

/* Fill r from "OP NAME [VALUE]"; r is left for the caller to clear. */
static int
conf_hdr_parse(struct conf_loader *ld, const struct conf_keyword *kw,
    struct conf_hdr_rule *r, const char *value)
{
	static const char *const ops[] = { "set", "add", "remove" };
	const char	*p = value, *name, *rest, *why;
	size_t		 oplen, namelen, i;

	r->line = ld->lineno;
	oplen = strcspn(p, " \t");
	for (i = 0; i < CONF_NITEMS(ops); i++)
		if (strlen(ops[i]) == oplen && strncmp(p, ops[i], oplen) == 0)
			break;
	if (i == CONF_NITEMS(ops))
		return conf_key_error(ld, kw, "expected set NAME VALUE, "
		    "add NAME VALUE or remove NAME");
	r->op = (enum conf_hdr_op)i;
	name = p + oplen + strspn(p + oplen, " \t");
	namelen = strcspn(name, " \t");
	rest = name + namelen + strspn(name + namelen, " \t");
	if (namelen == 0 || (r->op == CONF_HDR_REMOVE) != (*rest == '\0'))
		return conf_key_error(ld, kw, r->op == CONF_HDR_REMOVE ?
		    "expected remove NAME (no value)" :
		    "expected set NAME VALUE or add NAME VALUE");
	if ((r->name = strndup(name, namelen)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	r->namelen = namelen;
	if ((why = conf_hdr_name_why(kw, r->name)) != NULL)
		return conf_value_error(ld, kw, r->name, why);
	if (r->op == CONF_HDR_REMOVE)
		return 0;
	return conf_hdr_value(ld, kw, r, rest);
}

/* request_header / response_header = set|add NAME VALUE | remove NAME. */
int
conf_set_hdr_rule(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_hdr_rules	*rs = conf_field(base, kw);
	struct conf_hdr_rule	 r, *p;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	if (conf_hdr_parse(ld, kw, &r, value) == -1) {
		conf_hdr_rule_clear(&r);
		return -1;
	}
	/* settled here, so that the proxy need not replay the list */
	for (i = 0; r.op != CONF_HDR_ADD && i < rs->n; i++)
		if (strcasecmp(rs->rule[i].name, r.name) == 0)
			rs->rule[i].superseded = 1;
	if ((p = conf_append(rs->rule, rs->n, sizeof(*p))) == NULL) {
		conf_hdr_rule_clear(&r);
		return conf_value_error(ld, kw, value, "out of memory");
	}
	rs->rule = p;
	rs->rule[rs->n++] = r;
	return 0;
}

/* request_id = HEADER | off. */
int
conf_set_request_id(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_listener	*l = base;
	const char		*why;

	if (strcmp(value, "off") == 0) {
		free(l->request_id);
		l->request_id = NULL;
		return 0;
	}
	if ((why = conf_hdr_name_why(kw, value)) != NULL)
		return conf_value_error(ld, kw, value, why);
	return conf_set_string(ld, kw, base, value);
}

/*
 * 1 when s is a Host value: a name or IPv4 address, or a bracketed IPv6
 * literal, with an optional :PORT.
 */
static int
conf_host_value_ok(const char *s)
{
	const char	*port;
	size_t		 n;

	if (s[0] == '[') {
		n = strspn(s + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || s[1 + n] != ']')
			return 0;
		port = s + 2 + n;
	} else {
		n = strspn(s, CONF_NAME_CHARS);
		if (n == 0)
			return 0;
		port = s + n;
	}
	if (*port == '\0')
		return 1;
	if (*port != ':' || port[1] == '\0' || strlen(port + 1) > 5)
		return 0;
	return strspn(port + 1, "0123456789") == strlen(port + 1) &&
	    atoi(port + 1) >= 1 && atoi(port + 1) <= 65535;
}

/*
 * sticky = off | cookie NAME [max_age=D] [secure] [httponly]
 * [samesite=lax|strict|none].
 */
int
conf_set_sticky(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	static const char *const samesite[] = { "lax", "strict", "none" };
	struct conf_upstream	*u = base;
	char			*copy, *w[8];
	const char		*why;
	uint64_t		 ms;
	size_t			 i, j, n;
	int			 rc = 0;

	free(u->sticky_cookie);
	u->sticky_cookie = NULL;
	u->sticky_max_age_ms = 0;
	u->sticky_secure = u->sticky_httponly = 0;
	u->sticky_samesite = CONF_SAMESITE_UNSET;
	if (strcmp(value, "off") == 0)
		return 0;
	if ((copy = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	n = conf_words(copy, w, 7);
	if (n < 2 || n > 7 || strcmp(w[0], "cookie") != 0 ||
	    !conf_is_token(w[1], strlen(w[1]))) {
		free(copy);
		return conf_key_error(ld, kw, "expected off, or cookie NAME "
		    "[max_age=D] [secure] [httponly] "
		    "[samesite=lax|strict|none]");
	}
	for (i = 2; i < n && rc == 0; i++) {
		if (strncmp(w[i], "max_age=", 8) == 0 &&
		    u->sticky_max_age_ms == 0) {
			if (conf_parse_duration(w[i] + 8, &ms, &why) == -1 ||
			    ms < 1000)
				rc = conf_value_error(ld, kw, w[i],
				    "max_age must be a duration of 1s or more");
			u->sticky_max_age_ms = ms;
		} else if (strcmp(w[i], "secure") == 0 && !u->sticky_secure)
			u->sticky_secure = 1;
		else if (strcmp(w[i], "httponly") == 0 && !u->sticky_httponly)
			u->sticky_httponly = 1;
		else if (strncmp(w[i], "samesite=", 9) == 0 &&
		    u->sticky_samesite == CONF_SAMESITE_UNSET) {
			for (j = 0; j < CONF_NITEMS(samesite); j++)
				if (strcmp(w[i] + 9, samesite[j]) == 0)
					break;
			if (j == CONF_NITEMS(samesite))
				rc = conf_value_error(ld, kw, w[i],
				    "samesite is lax, strict or none");
			else
				u->sticky_samesite =
				    (enum conf_samesite)(j + 1);
		} else
			rc = conf_value_error(ld, kw, w[i], "unknown or "
			    "repeated option (use max_age=, secure, httponly, "
			    "samesite=)");
	}
	if (rc == 0 && (u->sticky_cookie = strdup(w[1])) == NULL)
		rc = conf_value_error(ld, kw, value, "out of memory");
	free(copy);
	return rc;
}

/* host = pass | server | NAME[:PORT]. */
int
conf_set_host(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	struct conf_upstream	*u = base;
	char			*name = NULL;

	if (strcmp(value, "pass") == 0)
		u->host_mode = CONF_HOST_PASS;
	else if (strcmp(value, "server") == 0)
		u->host_mode = CONF_HOST_SERVER;
	else if (!conf_host_value_ok(value))
		return conf_value_error(ld, kw, value, "expected pass, server, "
		    "or a host name or address with an optional :PORT");
	else if ((name = strdup(value)) == NULL)
		return conf_value_error(ld, kw, value, "out of memory");
	else
		u->host_mode = CONF_HOST_NAME;
	free(u->host_name);
	u->host_name = name;
	return 0;
}
