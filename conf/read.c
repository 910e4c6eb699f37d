/*
 * read.c: reading an INI file into a struct conf, and collecting errors.
 *
 * inih splits "key = value" and strips comments; everything else is ours.
 * Our reader hands inih one physical line at a time, so it counts lines,
 * rejects over-long ones, strips leading blanks (no continuation lines) and
 * takes the [section] headers itself, handing inih an empty line instead:
 * that way empty and duplicate sections are seen too. Every key is looked up
 * in the keyword table (table.c) and stored by its setter; the line it was
 * set on goes into its section's struct conf_lines. Errors are collected,
 * never logged, and handed out sorted by line; any error means the whole
 * load fails and nothing is returned. The checks that need the whole file
 * are in check.c.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

/*
 * Errors
 */

/*
 * Copy of body with each value taken from the environment written back as
 * ${NAME}: inside a quoted "..." any value is, elsewhere those of four
 * bytes or more (a shorter one would mostly hit digits of the message).
 */
static char *
conf_redact(const struct conf_loader *ld, const char *body)
{
	const struct conf_subst	*sub, *best;
	size_t			 i, len, blen, cap, most = 0;
	char			*out, *p;
	int			 quoted = 0;

	if (ld->nsubsts == 0)
		return strdup(body);
	for (i = 0; i < ld->nsubsts; i++)
		if ((len = strlen(ld->substs[i].name) + 3) > most)
			most = len;
	cap = strlen(body) * most + 1;	/* each byte may become a name */
	if ((out = p = malloc(cap)) == NULL)
		return NULL;
	while (*body != '\0') {
		best = NULL;
		blen = 0;
		for (i = 0; i < ld->nsubsts; i++) {
			sub = &ld->substs[i];
			len = strlen(sub->value);
			if (len > blen && (quoted || len >= 4) &&
			    strncmp(body, sub->value, len) == 0) {
				best = sub;
				blen = len;
			}
		}
		if (best != NULL) {
			p += sprintf(p, "${%s}", best->name);
			body += blen;
			continue;
		}
		if (*body == '"')
			quoted = !quoted;
		*p++ = *body++;
	}
	*p = '\0';
	return out;
}

/* Record "file:line: <fmt>"; always returns -1 so callers can return it. */
int
conf_error(struct conf_loader *ld, int line, const char *fmt, ...)
{
	struct conf_err	*e;
	va_list		 ap;
	char		*body, *clean, *text;
	int		 rc;

	ld->nerrors++;
	va_start(ap, fmt);
	rc = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	clean = conf_redact(ld, body);
	free(body);
	if (clean == NULL)
		return -1;
	rc = asprintf(&text, "%s:%d: %s\n", ld->conf != NULL &&
	    ld->conf->nfiles > 0 ? conf_loc_file(ld->conf, line) : ld->name,
	    CONF_LOC_LINE(line), clean);
	free(clean);
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

/*
 * An earlier place as a message names it: "line N" in the current file,
 * "FILE:N" in another.
 */
static const char *
conf_earlier(const struct conf_loader *ld, int loc, char *buf, size_t size)
{
	if (CONF_LOC_FILE(loc) == CONF_LOC_FILE(ld->lineno))
		snprintf(buf, size, "line %d", CONF_LOC_LINE(loc));
	else
		conf_where(ld->conf, loc, buf, size);
	return buf;
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

/*
 * Sections
 */

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
	char			 at[PATH_MAX + 16];

	for (k = 0; k < CONF_NITEMS(conf_sect_defs); k++)
		if (strcmp(kname, conf_sect_defs[k].name) == 0)
			break;
	if (k == CONF_NITEMS(conf_sect_defs))
		return conf_error(ld, ld->lineno, "[%s]: unknown section "
		    "(use global, admin, listener NAME or upstream NAME)", hdr);
	*kind = (enum conf_sect_kind)k;
	if (conf_sect_defs[k].named && name == NULL)
		return conf_error(ld, ld->lineno, "[%s]: missing name "
		    "([%s NAME])", hdr, kname);
	if (!conf_sect_defs[k].named && name != NULL)
		return conf_error(ld, ld->lineno, "[%s]: takes no name", hdr);
	if (name != NULL && strspn(name, CONF_NAME_CHARS) != strlen(name))
		return conf_error(ld, ld->lineno, "[%s]: bad name (use "
		    "letters, digits, '-', '_' and '.')", hdr);
	if ((prev = conf_sect_find(ld, *kind, name)) != NULL)
		return conf_error(ld, ld->lineno, "[%s]: duplicate section "
		    "(first at %s)", hdr, conf_earlier(ld, prev->line, at,
		    sizeof(at)));
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
	if (CONF_LOC_LINE(ld->lineno) == 1 &&
	    strncmp(line, "\xEF\xBB\xBF", 3) == 0)
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
	if (CONF_LOC_LINE(ld->lineno) == CONF_LOC_LINE_MAX) {
		conf_error(ld, ld->lineno, "too many lines (max %d)",
		    CONF_LOC_LINE_MAX - 1);
		return NULL;
	}
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

/*
 * Values from the environment
 */

/* Grow *b (of *len bytes, room for *cap) by n bytes of s; 0 or -1. */
static int
conf_buf_add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	char	*p;
	size_t	 want;

	if (*len + n + 1 > *cap) {
		want = (*len + n + 1) * 2;
		if ((p = realloc(*b, want)) == NULL)
			return -1;
		*b = p;
		*cap = want;
	}
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

/* Add text taken as it is: each '$' doubled when the key reads "$". */
static int
conf_buf_literal(char **b, size_t *len, size_t *cap, const char *s,
    size_t n, int dollars)
{
	const char	*d;

	while (dollars && (d = memchr(s, '$', n)) != NULL) {
		if (conf_buf_add(b, len, cap, s, (size_t)(d - s) + 1) == -1 ||
		    conf_buf_add(b, len, cap, "$", 1) == -1)
			return -1;
		n -= (size_t)(d - s) + 1;
		s = d + 1;
	}
	return conf_buf_add(b, len, cap, s, n);
}

/* Remember that the environment's name gave value, for conf_redact. */
static int
conf_subst_note(struct conf_loader *ld, const char *name, const char *value)
{
	struct conf_subst	*p;
	size_t			 i;

	if (*value == '\0')
		return 0;
	for (i = 0; i < ld->nsubsts; i++)
		if (strcmp(ld->substs[i].value, value) == 0)
			return 0;
	p = reallocarray(ld->substs, ld->nsubsts + 1, sizeof(*p));
	if (p == NULL)
		return -1;
	ld->substs = p;
	p += ld->nsubsts;
	p->name = strdup(name);
	p->value = strdup(value);
	if (p->name == NULL || p->value == NULL) {
		free(p->name);
		free(p->value);
		return -1;
	}
	ld->nsubsts++;
	return 0;
}

/*
 * One ${NAME} or ${NAME:-default} at s (just past "${") added to the
 * buffer; the end of it (past '}'), or NULL reported.
 */
static const char *
conf_expand_one(struct conf_loader *ld, const char *key, const char *s,
    char **b, size_t *len, size_t *cap, int dollars)
{
	const char	*end, *dflt = NULL, *env;
	char		 name[CONF_ENV_NAME_MAX + 1];
	size_t		 n;

	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_");
	end = s + n;
	if (n == 0 || (*s >= '0' && *s <= '9') || n > CONF_ENV_NAME_MAX) {
		conf_error(ld, ld->lineno, "%s: bad ${...}: a name is up to %d "
		    "letters, digits and '_', not starting with a digit", key,
		    CONF_ENV_NAME_MAX);
		return NULL;
	}
	memcpy(name, s, n);
	name[n] = '\0';
	if (end[0] == ':' && end[1] == '-') {
		dflt = end + 2;
		end = strchr(dflt, '}');
	} else if (*end != '}')
		end = NULL;
	if (end == NULL) {
		conf_error(ld, ld->lineno, "%s: ${%s: no closing '}' (use "
		    "${NAME} or ${NAME:-default})", key, name);
		return NULL;
	}
	env = getenv(name);
	if (env != NULL && (*env != '\0' || dflt == NULL)) {
		if (conf_buf_literal(b, len, cap, env, strlen(env),
		    dollars) == -1 || conf_subst_note(ld, name, env) == -1)
			goto oom;
	} else if (dflt != NULL) {
		if (conf_buf_literal(b, len, cap, dflt, (size_t)(end - dflt),
		    dollars) == -1)
			goto oom;
	} else {
		conf_error(ld, ld->lineno, "%s: ${%s} is not set in the "
		    "environment (give a default: ${%s:-VALUE})", key, name,
		    name);
		return NULL;
	}
	return end + 1;
oom:
	conf_error(ld, ld->lineno, "%s: out of memory", key);
	return NULL;
}

/*
 * value with each ${NAME} and ${NAME:-default} replaced from the
 * environment and "$$" made "$"; any other '$' stays. Keys that read "$"
 * themselves (header rules: $remote_addr, "$$") get "$$" kept and the '$'
 * of a replacement doubled, so that what came from the environment stays
 * text. *out is NULL when there was nothing to replace. 0, or -1 reported.
 */
static int
conf_expand(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *key, const char *value, char **out)
{
	const char	*s = value;
	char		*b = NULL;
	size_t		 len = 0, cap = 0;
	int		 dollars = kw != NULL && kw->parse == conf_set_hdr_rule;

	*out = NULL;
	if (strchr(value, '$') == NULL)
		return 0;
	while (*s != '\0') {
		if (s[0] == '$' && s[1] == '{') {
			s = conf_expand_one(ld, key, s + 2, &b, &len, &cap,
			    dollars);
			if (s == NULL) {
				free(b);
				return -1;
			}
			continue;
		}
		if (conf_buf_add(&b, &len, &cap, s, 1) == -1) {
			free(b);
			return conf_error(ld, ld->lineno, "%s: out of memory",
			    key);
		}
		s += s[0] == '$' && s[1] == '$' && !dollars ? 2 : 1;
	}
	if (len > CONF_MAX_VALUE) {
		free(b);
		return conf_error(ld, ld->lineno, "%s: longer than %d bytes "
		    "once ${...} are replaced", key, CONF_MAX_VALUE);
	}
	if (b == NULL && (b = strdup("")) == NULL)
		return conf_error(ld, ld->lineno, "%s: out of memory", key);
	*out = b;
	return 0;
}

/*
 * Storing a value
 */

/* Store one value of kw, its ${...} replaced first. */
static void
conf_set_expanded(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	char	*expanded;

	if (conf_expand(ld, kw, kw->info.key, value, &expanded) == -1)
		return;
	conf_set(ld, kw, base, expanded != NULL ? expanded : value);
	free(expanded);
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
	if (strcmp(key, "include") == 0 &&
	    (s == NULL || s->kind != CONF_SECT_GLOBAL)) {
		/* Anywhere: a file of conf.d may include more. */
		kw = conf_keyword_find(CONF_SECT_GLOBAL, key);
		conf_set_expanded(ld, kw, NULL, value);
		return 1;
	}
	if (s == NULL) {
		conf_error(ld, ld->lineno, "%s: not in any section", key);
		return 1;
	}
	if ((kw = conf_keyword_find(s->kind, key)) == NULL) {
		conf_error(ld, ld->lineno, "%s: unknown key in [%s]", key,
		    conf_sect_defs[s->kind].name);
		return 1;
	}
	seen = conf_lines_slot(conf_sect_lines(ld->conf, s), kw);
	if (*seen != 0 && !kw->info.repeatable) {
		conf_error(ld, ld->lineno, "%s: duplicate key (first at line "
		    "%d)", key, CONF_LOC_LINE(*seen));
		return 1;
	}
	if (*seen == 0)
		*seen = ld->lineno;
	conf_set_expanded(ld, kw, conf_sect_base(ld->conf, s->kind, s->index),
	    value);
	return 1;
}

/*
 * Includes
 */

/* Run inih over the loader's current input. */
static void
conf_read(struct conf_loader *ld)
{
	/*
	 * Debian's libinih sizes its line buffer at run time; make room for
	 * CONF_MAX_LINE plus "\r\n\0" so the reader never has to cut a line.
	 * Each call has a buffer of its own, so an include may nest a call.
	 */
	if (ini_max_line < CONF_MAX_LINE + 3)
		ini_max_line = CONF_MAX_LINE + 3;
	if (ini_parse_stream(conf_ini_reader, ld, conf_ini_handler, ld) < 0)
		conf_error(ld, ld->lineno, "out of memory");
}

/* Note fp's file as being read: -1 reported if it already is (a cycle). */
static int
conf_open_push(struct conf_loader *ld, const struct conf_keyword *kw,
    FILE *fp, const char *path)
{
	struct stat	 st;
	int		 i;

	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode))
		return conf_value_error(ld, kw, path, "not a regular file");
	for (i = 0; i < ld->depth; i++)
		if (ld->open[i].dev == st.st_dev &&
		    ld->open[i].ino == st.st_ino)
			return conf_value_error(ld, kw, path, "an include "
			    "cycle: that file is being read already");
	if (ld->depth == CONF_MAX_DEPTH)
		return conf_value_error(ld, kw, path, "includes nested too "
		    "deep");
	ld->open[ld->depth].dev = st.st_dev;
	ld->open[ld->depth++].ino = st.st_ino;
	return 0;
}

/* Add path to the conf's files; its index, or -1 reported. */
static int
conf_file_add(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *path)
{
	struct conf	*c = ld->conf;
	char		**p, *dup;

	if (c->nfiles == CONF_MAX_FILES)
		return conf_value_error(ld, kw, path, "too many files (max "
		    CONF_STR(CONF_MAX_FILES) ")");
	if ((dup = strdup(path)) == NULL ||
	    (p = reallocarray(c->files, c->nfiles + 1, sizeof(*p))) == NULL) {
		free(dup);
		return conf_value_error(ld, kw, path, "out of memory");
	}
	c->files = p;
	p[c->nfiles] = dup;
	return (int)c->nfiles++;
}

/*
 * Read the file at path where the include line is: it starts outside any
 * section, and the including file's section goes on after it.
 */
static void
conf_include_file(struct conf_loader *ld, const struct conf_keyword *kw,
    const char *path)
{
	FILE		*fp, *pfp = ld->fp;
	size_t		 cur = ld->cur != NULL ? (size_t)(ld->cur - ld->sects) :
			    SIZE_MAX;
	int		 f, lineno = ld->lineno, skip = ld->skip;

	if ((fp = fopen(path, "re")) == NULL) {
		conf_value_error(ld, kw, path, strerror(errno));
		return;
	}
	if (conf_open_push(ld, kw, fp, path) == -1) {
		fclose(fp);
		return;
	}
	if ((f = conf_file_add(ld, kw, path)) != -1) {
		ld->fp = fp;
		ld->lineno = CONF_LOC(f, 0);
		ld->cur = NULL;
		ld->skip = 0;
		conf_read(ld);
		if (ferror(fp))
			conf_error(ld, ld->lineno, "cannot read: %s",
			    strerror(errno));
	}
	ld->depth--;
	fclose(fp);
	ld->fp = pfp;
	ld->lineno = lineno;
	ld->cur = cur != SIZE_MAX ? &ld->sects[cur] : NULL;
	ld->skip = skip;
}

/* glob's error callback: a directory that is not there matches nothing. */
static int
conf_glob_error(const char *path, int err)
{
	(void)path;
	return err != ENOENT && err != ENOTDIR;
}

/*
 * include = PATTERN: every file the glob names, in sorted order, read in
 * place; a relative pattern is taken from the including file's directory.
 * A pattern that matches nothing is fine (an empty conf.d); a plain path
 * that names nothing is not.
 */
int
conf_set_include(struct conf_loader *ld, const struct conf_keyword *kw,
    void *base, const char *value)
{
	const char	*cur = conf_loc_file(ld->conf, ld->lineno), *slash;
	char		 pat[PATH_MAX];
	glob_t		 g;
	size_t		 i;
	int		 n, rc;

	(void)base;		/* also read outside [global] */
	ld->conf->global.includes++;
	if (value[0] == '/' || (slash = strrchr(cur, '/')) == NULL)
		n = snprintf(pat, sizeof(pat), "%s", value);
	else
		n = snprintf(pat, sizeof(pat), "%.*s/%s", (int)(slash - cur),
		    cur, value);
	if (n < 0 || (size_t)n >= sizeof(pat))
		return conf_value_error(ld, kw, value, "path too long");
	memset(&g, 0, sizeof(g));
	rc = glob(pat, 0, conf_glob_error, &g);
	if (rc == GLOB_NOMATCH && strpbrk(value, "*?[") == NULL)
		rc = conf_value_error(ld, kw, pat, strerror(ENOENT));
	else if (rc == GLOB_NOMATCH)
		rc = 0;
	else if (rc != 0)
		rc = conf_value_error(ld, kw, pat, rc == GLOB_NOSPACE ?
		    "out of memory" : "a directory on the way cannot be read");
	for (i = 0; rc == 0 && i < g.gl_pathc; i++)
		conf_include_file(ld, kw, g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

/*
 * Loading
 */

/* Run inih over the loader's input and check the result. */
static void
conf_parse(struct conf_loader *ld)
{
	conf_read(ld);
	conf_check(ld);
}

/* Hand back the conf, or NULL and the error text; frees the loader. */
static struct conf *
conf_finish(struct conf_loader *ld, char **errors)
{
	struct conf	*c = ld->conf;
	char		*text = NULL;
	size_t		 i;
	int		 lost;

	free(ld->sects);
	free(ld->buf);
	for (i = 0; i < ld->nsubsts; i++) {
		free(ld->substs[i].name);
		free(ld->substs[i].value);
	}
	free(ld->substs);
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
	    (ld->conf->path = strdup(name)) == NULL ||
	    (ld->conf->files = calloc(1, sizeof(char *))) == NULL ||
	    (ld->conf->files[0] = strdup(name)) == NULL) {
		conf_error(ld, 0, "out of memory");
		return;
	}
	ld->conf->nfiles = 1;
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
	struct stat		 st;
	int			 saved;

	conf_start(&ld, path);
	if (ld.nerrors == 0 && (ld.fp = fopen(path, "re")) == NULL) {
		saved = errno;
		conf_error(&ld, 0, "cannot open: %s", strerror(saved));
	}
	if (ld.fp != NULL && fstat(fileno(ld.fp), &st) == 0) {
		ld.open[0].dev = st.st_dev;
		ld.open[0].ino = st.st_ino;
		ld.depth = 1;
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
