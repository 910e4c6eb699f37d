/*
 * conf_int.h: what the files of conf/ share. Not for use outside conf/.
 *
 * table.c	the keyword table, sections, one setter per type
 * custom.c	the keys with a syntax of their own
 * rules.c	header rules, request IDs, an upstream's Host
 * read.c	reading the file through inih, collecting errors
 * check.c	the checks across sections, once the file is read
 * conf.c	a loaded conf: freeing it, looking things up
 * value.c	the value parsers (conf_parse_*, in conf.h)
 */
#ifndef SLUICE_CONF_INT_H
#define SLUICE_CONF_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"

#define CONF_NITEMS(a)		(sizeof(a) / sizeof((a)[0]))
#define CONF_NAME_CHARS		"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
#define CONF_SECT_NKINDS	(CONF_SECT_UPSTREAM + 1)
#define CONF_STR_(x)		#x
#define CONF_STR(x)		CONF_STR_(x)
/* The longest name in ${NAME}, and a value once they are replaced. */
#define CONF_ENV_NAME_MAX	128
#define CONF_MAX_VALUE		(16 * CONF_MAX_LINE)

/* A section kind as written in the file (named ones take "[kind NAME]"). */
struct conf_sect_def {
	const char	*name;
	int		 named;
	size_t		 lines;		/* offset of its struct conf_lines */
};

/* By enum conf_sect_kind (table.c). */
extern const struct conf_sect_def conf_sect_defs[CONF_SECT_NKINDS];

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

/* A file being read (the main one, then includes): to find a cycle. */
struct conf_open {
	dev_t		 dev;
	ino_t		 ino;
};

/* A value taken from the environment: error texts never show it. */
struct conf_subst {
	char		*name;
	char		*value;
};

/* The state of one load: the conf being built, the input, the errors. */
struct conf_loader {
	struct conf		*conf;
	const char		*name;		/* main file, for messages */
	FILE			*fp;		/* input is a file, or */
	const char		*text;		/* the rest of a string */
	char			*buf;		/* the current physical line */
	size_t			 bufsz;
	int			 lineno;	/* a CONF_LOC: file and line */
	struct conf_open	 open[CONF_MAX_DEPTH];
	int			 depth;		/* files in open[] */
	struct conf_subst	*substs;
	size_t			 nsubsts;
	struct conf_sect	*sects;
	size_t			 nsects;
	struct conf_sect	*cur;		/* NULL before any section */
	int			 skip;		/* in a rejected section */
	struct conf_err		*errs;
	size_t			 nerrs;
	int			 nerrors;	/* nerrs + those lost to OOM */
};

/* One error: "file:line: what", sorted by place before it is handed out. */
struct conf_err {
	int		 line;		/* a CONF_LOC */
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

/*
 * Errors (read.c)
 */

/*
 * Record "file:line: <fmt>" for ld at line (a CONF_LOC); the load will
 * fail. Values taken from the environment are written back as ${NAME}.
 * Always returns -1, so that a setter can return it.
 */
int	conf_error(struct conf_loader *ld, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * The same on the current line, about key kw (table.c): "key: why",
 * "key: \"value\": why", and "key: \"value\": out of range (LO..HI)" with
 * kw's bounds written the way the key is. Each returns -1.
 */
int	conf_key_error(struct conf_loader *ld, const struct conf_keyword *kw,
	    const char *why);
int	conf_value_error(struct conf_loader *ld, const struct conf_keyword *kw,
	    const char *value, const char *why);
int	conf_range_error(struct conf_loader *ld, const struct conf_keyword *kw,
	    const char *value);

/*
 * The table (table.c)
 */

/* The entry for key in a section of this kind, or NULL. */
const struct conf_keyword *conf_keyword_find(enum conf_sect_kind kind,
	    const char *key);

/*
 * Store value into the section struct at base, by kw's type or setter: 0,
 * or -1 with the error recorded (the load will fail).
 */
int	conf_set(struct conf_loader *ld, const struct conf_keyword *kw,
	    void *base, const char *value);

/* Set every key of a new section of this kind that has a default. */
void	conf_defaults(struct conf_loader *ld, enum conf_sect_kind kind,
	    void *base);

/* The field kw describes inside the section struct at base. */
void	*conf_field(void *base, const struct conf_keyword *kw);

/* The setters of CONF_T_INT and CONF_T_STRING, for custom setters. */
int	conf_set_int(struct conf_loader *ld, const struct conf_keyword *kw,
	    void *base, const char *value);
int	conf_set_string(struct conf_loader *ld, const struct conf_keyword *kw,
	    void *base, const char *value);

/*
 * Sections and the lines of their keys (table.c)
 */

/* The struct a section's keys are stored in. */
void	*conf_sect_base(struct conf *c, enum conf_sect_kind kind,
	    size_t index);

/* The name of a listener or upstream section; NULL for the others. */
const char *conf_sect_name(const struct conf *c, const struct conf_sect *s);

/* The lines of section s, in its struct: valid until a section is added. */
struct conf_lines *conf_sect_lines(struct conf *c, const struct conf_sect *s);

/* Empty lines for a section of this kind whose header is at line (0:
 * none). */
void	conf_lines_init(struct conf_lines *lines, enum conf_sect_kind kind,
	    int line);

/* Where lines keeps the line kw was first set on (0 until then). */
int	*conf_lines_slot(struct conf_lines *lines,
	    const struct conf_keyword *kw);

/* The line key was first set on; 0 if it was not, or is not a key here. */
int	conf_key_line(const struct conf_lines *lines, const char *key);

/*
 * Helpers (table.c)
 */

/*
 * Split s in place at blanks into at most max words; returns the count, or
 * max + 1 when there are more.
 */
size_t	conf_words(char *s, char **words, size_t max);

/*
 * Grow array (of n elements of size sz) by one zeroed element: the new
 * array, or NULL with array left as it was.
 */
void	*conf_append(void *array, size_t n, size_t sz);

/*
 * Setters of keys with their own syntax (custom.c), as the table's parse:
 * 0, or -1 with the error recorded.
 */
int	conf_set_server(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_route(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_cidrs(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_redirect(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_error_page(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);

/* Free what an error_page list holds (pages.c). */
void	conf_error_pages_clear(struct conf_error_pages *);
int	conf_set_cert(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_admin_cert(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_token(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_admin_names(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_protocols(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_server_name(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_client_cert(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_path(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_log(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_status_range(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_percent(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_auto_int(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);

/* 1 when s[0..len) is a token, a header name (rules.c). */
int	conf_is_token(const char *s, size_t len);

/* Setters of the rule keys (rules.c). */
int	conf_set_hdr_rule(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_request_id(struct conf_loader *,
	    const struct conf_keyword *, void *, const char *);
int	conf_set_host(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);
int	conf_set_sticky(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);

/* include = PATTERN: read the files it names in place (read.c). */
int	conf_set_include(struct conf_loader *, const struct conf_keyword *,
	    void *, const char *);

/* Free what an entry made by those setters owns (custom.c). */
void	conf_server_clear(struct conf_server *);
void	conf_route_clear(struct conf_route *);
void	conf_cert_clear(struct conf_cert *);
void	conf_hdr_rules_clear(struct conf_hdr_rules *);

/*
 * After reading (check.c)
 */

/*
 * Check what no single line can: required keys, references, listening
 * addresses used twice, the admin endpoint's token. Sets admin.enabled.
 */
void	conf_check(struct conf_loader *ld);

#endif
