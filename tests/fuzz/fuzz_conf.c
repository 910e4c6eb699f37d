/*
 * fuzz_conf: a libFuzzer target for the INI loader and the value parsers
 * (conf/). README.md says how to build and run it.
 *
 * The input is loaded with conf_load_string, which runs the same reader,
 * keyword table and checks as a file. The loader must either return a
 * configuration and no errors, or no configuration and a non-empty error
 * text; whatever it returns is freed, so LeakSanitizer reports anything it
 * keeps. The same bytes, up to the first NUL or line end, are then given
 * to each value parser, which must give a value or a reason.
 *
 * Host names in the text would reach the resolver, which is slow and
 * answers differently from run to run: this file's getaddrinfo takes the
 * place of libc's and resolves numeric addresses only.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

#define FUZZ_MAX_TEXT	65536	/* longer inputs say nothing new */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libc's getaddrinfo for numeric hosts only: no lookup, no network. */
int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	static int	(*real)(const char *, const char *,
			    const struct addrinfo *, struct addrinfo **);
	struct addrinfo	 h;

	if (real == NULL &&
	    (*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo")) == NULL)
		abort();
	memset(&h, 0, sizeof(h));
	if (hints != NULL)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

/* Stop the run: the code broke a promise. */
static void
fuzz_fail(void)
{
	abort();
}

/* A parser's answer: 0 and no reason, or -1 and a reason. */
static void
fuzz_verdict(int r, const char *why)
{
	if (r != 0 && (r != -1 || why == NULL))
		fuzz_fail();
}

/* Each value parser on the first line of s. */
static void
fuzz_values(char *s)
{
	const char	*why;
	uint64_t	 u;
	long		 l;
	int		 b;

	s[strcspn(s, "\r\n")] = '\0';
	why = NULL;
	fuzz_verdict(conf_parse_duration(s, &u, &why), why);
	why = NULL;
	fuzz_verdict(conf_parse_size(s, &u, &why), why);
	why = NULL;
	fuzz_verdict(conf_parse_int(s, -1000, 1000000, &l, &why), why);
	if (why == NULL && (l < -1000 || l > 1000000))
		fuzz_fail();
	why = NULL;
	fuzz_verdict(conf_parse_bool(s, &b, &why), why);
	if (why == NULL && b != 0 && b != 1)
		fuzz_fail();
}

/* One input: load it as a configuration, then parse it as values. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c;
	char		*text, *errors = NULL;

	if (size > FUZZ_MAX_TEXT)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string("fuzz.ini", text, &errors);
	if (c != NULL && errors != NULL)
		fuzz_fail();
	if (c == NULL && (errors == NULL || errors[0] == '\0'))
		fuzz_fail();
	conf_free(c);
	free(errors);
	fuzz_values(text);
	free(text);
	return 0;
}
