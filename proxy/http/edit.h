/*
 * edit: a request head as a list of fields that rules change before it is
 * sent. Pure: the head comes in as bytes (as headers_request_build wrote
 * it), the edited head goes out to a sink.
 *
 * Only a head that rules change goes through here; without rules the head
 * is written once, straight to the upstream's buffer.
 */
#ifndef SLUICE_HTTP_EDIT_H
#define SLUICE_HTTP_EDIT_H

#include <stddef.h>

#include "proxy/http/headers.h"

#define EDIT_FIELDS	64	/* fields held without a malloc */

/* One field: in the parsed head, or a copy the list owns. */
struct edit_field {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
	char		*own;		/* name and value, malloc'd in
					 * one block; NULL: in the head */
	int		 gone;		/* removed */
};

struct edit_head {
	const char		*line;		/* the request line, CRLF
						 * included */
	size_t			 linelen;
	struct edit_field	 buf[EDIT_FIELDS];
	struct edit_field	*f;		/* buf, or malloc'd */
	size_t			 n;
	size_t			 cap;
};

/*
 * Read a head as headers_request_build writes it (request line, "Name:
 * value" lines, the empty line; CRLF each) from head[0..len), which must
 * stay valid until edit_free. -1 when it is not such a head or out of
 * memory.
 */
int	edit_parse(struct edit_head *, const char *head, size_t len);

/* Remove every field called name (any case). */
void	edit_remove(struct edit_head *, const char *name);

/* Append a field (copied); -1 when out of memory. */
int	edit_add(struct edit_head *, const char *name, const char *value,
	    size_t valuelen);

/* Write the edited head to out, empty line included; 0 or -1. */
int	edit_write(const struct edit_head *, const struct headers_sink *out);

/* Free what the list owns. */
void	edit_free(struct edit_head *);

#endif
