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
 * place of libc's and resolves numeric addresses only. An include could
 * name any file of the machine (a glob of every file under /): this glob
 * matches one file only, FUZZ_INCLUDE, made at the first call.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <glob.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#define FUZZ_MAX_TEXT	65536	/* longer inputs say nothing new */
#define FUZZ_INCLUDE	"fuzz-inc.ini"	/* the one name glob knows */

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

static char	fuzz_inc_path[64];

/* Remove the included file at exit. */
static void
fuzz_inc_remove(void)
{
	unlink(fuzz_inc_path);
}

/* Make the file FUZZ_INCLUDE stands for, once: an upstream section. */
static const char *
fuzz_inc_file(void)
{
	FILE	*fp;
	int	 fd;

	if (fuzz_inc_path[0] != '\0')
		return fuzz_inc_path;
	snprintf(fuzz_inc_path, sizeof(fuzz_inc_path),
	    "/tmp/sluice-fuzz-inc.XXXXXX");
	if ((fd = mkstemp(fuzz_inc_path)) == -1 ||
	    (fp = fdopen(fd, "w")) == NULL)
		abort();
	fputs("; included\n[upstream fuzzinc]\nserver = 127.0.0.1:1\n", fp);
	if (fclose(fp) != 0)
		abort();
	atexit(fuzz_inc_remove);
	return fuzz_inc_path;
}

/* glob matching FUZZ_INCLUDE (in any directory) and nothing else. */
int
glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
    glob_t *g)
{
	const char	*base = strrchr(pattern, '/');

	(void)flags;
	(void)errfunc;
	memset(g, 0, sizeof(*g));
	base = base != NULL ? base + 1 : pattern;
	if (strcmp(base, FUZZ_INCLUDE) != 0)
		return GLOB_NOMATCH;
	if ((g->gl_pathv = calloc(2, sizeof(char *))) == NULL ||
	    (g->gl_pathv[0] = strdup(fuzz_inc_file())) == NULL)
		abort();
	g->gl_pathc = 1;
	return 0;
}

/* Free what this file's glob gave. */
void
globfree(glob_t *g)
{
	size_t	 i;

	for (i = 0; g->gl_pathv != NULL && i < g->gl_pathc; i++)
		free(g->gl_pathv[i]);
	free(g->gl_pathv);
	g->gl_pathv = NULL;
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
