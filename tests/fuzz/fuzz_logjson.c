/*
 * fuzz_logjson: a libFuzzer target for the JSON access log's escaper and
 * line writer (proxy/base/logjson.c). README.md says how to build and run
 * it.
 *
 * The first input byte is the room given (0..255, and 255 meaning more
 * than enough); the rest is escaped. Whatever the input, the output must
 * be JSON string content (no raw quote, backslash or control byte; only
 * \" \\ \u00XX \ufffd escapes) and well-formed UTF-8, no longer than the
 * room, and a cut one must be the same bytes as escaping the part of the
 * input it says it used. The same input in a line must make one object
 * that ends with '}'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/logjson.h"
#include "tests/utf8seq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the run: the escaper broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}


/* out[0..n) is JSON string content of the escaper's kind, in UTF-8. */
static void
fuzz_check(const unsigned char *out, size_t n)
{
	size_t	i = 0, k;

	while (i < n) {
		if (out[i] == '"' || out[i] < 0x20 || out[i] == 0x7f)
			fuzz_fail();
		if (out[i] == '\\') {
			if (i + 1 >= n)
				fuzz_fail();
			if (out[i + 1] == '"' || out[i + 1] == '\\') {
				i += 2;
				continue;
			}
			if (i + 6 > n || (memcmp(out + i, "\\u00", 4) != 0 &&
			    memcmp(out + i, "\\ufffd", 6) != 0))
				fuzz_fail();
			i += 6;
			continue;
		}
		if ((k = utf8_seq(out + i, n - i)) == 0)
			fuzz_fail();
		i += k;
	}
}

/* See the top of the file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logjson	 j;
	char		*out, *again, line[LOGJSON_MIN + 256];
	size_t		 room, n, m, used, len;

	if (size < 1)
		return 0;
	room = data[0] == 255 ? (size - 1) * LOGJSON_ESC_MAX : data[0];
	if ((out = malloc(room + 1)) == NULL)
		fuzz_fail();
	if ((again = malloc(room + 1)) == NULL)
		fuzz_fail();
	n = logjson_escape(out, room, (const char *)data + 1, size - 1, &used);
	if (n > room || used > size - 1 || (data[0] == 255 && used != size - 1))
		fuzz_fail();
	fuzz_check((const unsigned char *)out, n);
	m = logjson_escape(again, room, (const char *)data + 1, used, NULL);
	if (m != n || memcmp(out, again, n) != 0)
		fuzz_fail();
	free(out);
	free(again);

	logjson_begin(&j, line, LOGJSON_MIN + data[0]);
	logjson_str(&j, "a", (const char *)data + 1, size - 1, 1u << 20);
	logjson_uint(&j, "n", size);
	logjson_str(&j, "b", (const char *)data + 1, size - 1, 7);
	len = logjson_end(&j);
	if (len >= LOGJSON_MIN + (size_t)data[0] || line[0] != '{' ||
	    line[len - 1] != '}' || strlen(line) != len)
		fuzz_fail();
	return 0;
}
