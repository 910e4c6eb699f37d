/*
 * cookie: the Cookie request header, read and trimmed. Pure functions.
 *
 * A Cookie value is pairs NAME=VALUE separated by ";" and optional
 * whitespace (RFC 6265 4.2.1, read leniently as 5.4 does: a pair without
 * "=" is a value with an empty name). Names compare exactly.
 */
#ifndef SLUICE_HTTP_COOKIE_H
#define SLUICE_HTTP_COOKIE_H

#include <stddef.h>

/*
 * The value of the first pair called name[0..namelen) in the Cookie value
 * hdr: 1 with *value and *valuelen set (into hdr, not NUL-terminated), or
 * 0 when there is none.
 */
int	cookie_find(const char *hdr, const char *name, size_t namelen,
	    const char **value, size_t *valuelen);

/*
 * Remove every pair called name[0..namelen) from the Cookie value hdr, in
 * place; the others keep their order, joined by "; ". Returns how many
 * pairs were removed.
 */
size_t	cookie_remove(char *hdr, const char *name, size_t namelen);

#endif
