/*
 * promtext: the Prometheus text exposition format (version 0.0.4), written
 * into an evbuffer: family heads, sample lines with escaped label values,
 * and values as Prometheus parses them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/base/promtext.h"

/* Append len bytes of s. */
static void
promtext_add(struct promtext *o, const char *s, size_t len)
{
	if (!o->failed && evbuffer_add(o->buf, s, len) == -1)
		o->failed = 1;
}

/* Append a NUL-terminated string. */
void
promtext_puts(struct promtext *o, const char *s)
{
	promtext_add(o, s, strlen(s));
}

/* Append a label value with backslash, double quote and newline escaped. */
void
promtext_escaped(struct promtext *o, const char *s)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, "\\\"\n");
		promtext_add(o, s, n);
		s += n;
		if (*s == '\0')
			return;
		promtext_add(o, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
		    "\\n", 2);
		s++;
	}
}

/* Append "# HELP" and "# TYPE" for a family. */
void
promtext_head(struct promtext *o, const char *name, const char *type,
    const char *help)
{
	promtext_puts(o, "# HELP ");
	promtext_puts(o, name);
	promtext_puts(o, " ");
	promtext_puts(o, help);
	promtext_puts(o, "\n# TYPE ");
	promtext_puts(o, name);
	promtext_puts(o, " ");
	promtext_puts(o, type);
	promtext_puts(o, "\n");
}

/*
 * Append one sample line: name and suffix, the n labels (names[i] =
 * "values[i]", none when n is 0) and the value's text.
 */
void
promtext_line(struct promtext *o, const char *name, const char *suffix,
    int n, const char *const *names, const char *const *values,
    const char *value)
{
	int	 i;

	promtext_puts(o, name);
	promtext_puts(o, suffix);
	for (i = 0; i < n; i++) {
		promtext_puts(o, i == 0 ? "{" : ",");
		promtext_puts(o, names[i]);
		promtext_puts(o, "=\"");
		promtext_escaped(o, values[i]);
		promtext_puts(o, "\"");
	}
	promtext_puts(o, n > 0 ? "} " : " ");
	promtext_puts(o, value);
	promtext_puts(o, "\n");
}

/* A sample line with an integer value. */
void
promtext_line_u64(struct promtext *o, const char *name, const char *suffix,
    int n, const char *const *names, const char *const *values, uint64_t v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	promtext_line(o, name, suffix, n, names, values, buf);
}

/* A double as Go's ParseFloat reads it, in the fewest digits that do. */
static void
promtext_format_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%cInf", v > 0 ? '+' : '-');
	else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

/* A sample line with a floating-point value. */
void
promtext_line_double(struct promtext *o, const char *name,
    const char *suffix, int n, const char *const *names,
    const char *const *values, double v)
{
	char	 buf[32];

	promtext_format_double(buf, sizeof(buf), v);
	promtext_line(o, name, suffix, n, names, values, buf);
}

/* Append a counter with one label over a fixed set of values. */
void
promtext_enum(struct promtext *o, const char *name,
    const char *help, const char *label, const char *const *values,
    const uint64_t *counts, int n)
{
	int	 i;

	promtext_head(o, name, "counter", help);
	for (i = 0; i < n; i++)
		promtext_line_u64(o, name, "", 1, &label, &values[i],
		    counts[i]);
}

/* Append an unlabelled gauge or counter. */
void
promtext_scalar(struct promtext *o, const char *name,
    const char *type, const char *help, uint64_t v)
{
	promtext_head(o, name, type, help);
	promtext_line_u64(o, name, "", 0, NULL, NULL, v);
}

