/*
 * promtext: writing the Prometheus text exposition format (0.0.4). The
 * first failure to append sticks in o->failed; later calls do nothing.
 */
#ifndef SLUICE_BASE_PROMTEXT_H
#define SLUICE_BASE_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* A page being written. */
struct promtext {
	struct evbuffer	*buf;
	int		 failed;
};

/* Append a NUL-terminated string as it is. */
void	promtext_puts(struct promtext *o, const char *s);

/* Append a label value with backslash, double quote and newline escaped. */
void	promtext_escaped(struct promtext *o, const char *s);

/* Append "# HELP" and "# TYPE" for a family. */
void	promtext_head(struct promtext *o, const char *name, const char *type,
	    const char *help);

/*
 * Append one sample line: name and suffix, the n labels (names[i] =
 * "values[i]", none when n is 0) and the value's text.
 */
void	promtext_line(struct promtext *o, const char *name,
	    const char *suffix, int n, const char *const *names,
	    const char *const *values, const char *value);

/* The same with an integer or a floating-point value. */
void	promtext_line_u64(struct promtext *o, const char *name,
	    const char *suffix, int n, const char *const *names,
	    const char *const *values, uint64_t v);
void	promtext_line_double(struct promtext *o, const char *name,
	    const char *suffix, int n, const char *const *names,
	    const char *const *values, double v);

/* A counter with one label over a fixed set of n values. */
void	promtext_enum(struct promtext *o, const char *name, const char *help,
	    const char *label, const char *const *values,
	    const uint64_t *counts, int n);

/* An unlabelled gauge or counter. */
void	promtext_scalar(struct promtext *o, const char *name,
	    const char *type, const char *help, uint64_t v);

#endif
