/*
 * logjson: JSON string content from any bytes, and one JSON object a line
 * built from it, for the JSON access log (exchange.c) and its fuzz target.
 * Pure: no allocation, no state but the caller's buffer.
 */
#ifndef SLUICE_BASE_LOGJSON_H
#define SLUICE_BASE_LOGJSON_H

#include <stddef.h>

/* The most bytes one input byte can become: "\ufffd" or "\u00XX". */
#define LOGJSON_ESC_MAX		6

/*
 * Write in[0..len) into out (room bytes; no NUL, no quotes) as the content
 * of a JSON string that is valid UTF-8 whatever the input: '"' and '\' as
 * \" and \\, the control bytes 0x00-0x1f and 0x7f as \u00XX, each byte
 * that does not begin a well-formed UTF-8 sequence (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF, no truncated sequence,
 * no lone continuation byte) as \ufffd; valid UTF-8 passes through.
 * Returns the bytes written. *used (may be NULL) is the input consumed:
 * less than len when out ran short. An escape or a character is never cut.
 */
size_t	logjson_escape(char *out, size_t room, const char *in, size_t len,
	    size_t *used);

/*
 * One JSON object written into a caller's buffer of fixed size. Strings
 * are cut (inside the string, which is still closed) to fit a bound the
 * caller gives each; the object is always closed, with "truncated":true
 * when anything was cut. Numbers and names that do not fit are dropped,
 * which a caller that reserves room for them never sees.
 */
struct logjson {
	char	*buf;
	size_t	 size;		/* of buf, LOGJSON_MIN at least */
	size_t	 len;		/* written so far, NUL not counted */
	int	 truncated;	/* a string was cut or a field dropped */
	int	 nfields;
};

/* Room logjson_end needs: ',"truncated":true}' and the NUL. */
#define LOGJSON_END		20
#define LOGJSON_MIN		64

/* Start an object in buf[size]. */
void	logjson_begin(struct logjson *, char *buf, size_t size);

/*
 * "key":"s" with s[0..len) escaped into at most max bytes, cut at a
 * character when longer (or when the buffer is short); s NULL: "key":null.
 */
void	logjson_str(struct logjson *, const char *key, const char *s,
	    size_t len, size_t max);

/* "key":n (an unsigned integer). */
void	logjson_uint(struct logjson *, const char *key, unsigned long long);

/* "key":n.nnn (milliseconds, say); a negative value: "key":null. */
void	logjson_ms(struct logjson *, const char *key, double);

/* "key":null. */
void	logjson_null(struct logjson *, const char *key);

/*
 * Close the object (after "truncated":true when something was cut).
 * Returns its length; buf holds it NUL-terminated.
 */
size_t	logjson_end(struct logjson *);

#endif
