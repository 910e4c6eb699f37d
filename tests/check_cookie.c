/*
 * check_cookie: the Cookie request header (proxy/http/cookie.c), table
 * driven: finding a pair by name the way header and cookie routes and the
 * sticky cookie do, and removing one (sticky_strip) without touching the
 * others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/cookie.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* A Cookie value, a name, and the value found (NULL: none). */
static const struct {
	const char	*hdr;
	const char	*name;
	const char	*value;
} find_cases[] = {
	{ "a=1", "a", "1" },
	{ "a=1; b=2", "b", "2" },
	{ "a=1;b=2", "b", "2" },
	{ "a=1 ;  b=2  ", "b", "2" },
	{ "  a = 1 ", "a", "1" },
	{ "a=", "a", "" },
	{ "a", "a", NULL },		/* no '=': a value without name */
	{ "ab=1", "a", NULL },
	{ "a=1", "ab", NULL },
	{ "A=1", "a", NULL },		/* names compare exactly */
	{ "x=a=1", "a", NULL },
	{ "a=1; a=2", "a", "1" },	/* the first */
	{ "", "a", NULL },
	{ ";;; ;", "a", NULL },
	{ "a=\"quoted\"", "a", "\"quoted\"" },
	{ "s=v; preview=green; t=w", "preview", "green" },
	{ "preview=greenish", "preview", "greenish" },
	{ "=1; a=2", "a", "2" },
};

START_TEST(test_find)
{
	const char	*v = NULL, *want = find_cases[_i].value;
	size_t		 vlen = 0;
	int		 r;

	r = cookie_find(find_cases[_i].hdr, find_cases[_i].name,
	    strlen(find_cases[_i].name), &v, &vlen);
	if (want == NULL)
		ck_assert_msg(r == 0, "\"%s\" %s: want none, got \"%.*s\"",
		    find_cases[_i].hdr, find_cases[_i].name, (int)vlen, v);
	else
		ck_assert_msg(r == 1 && vlen == strlen(want) &&
		    memcmp(v, want, vlen) == 0, "\"%s\" %s: want \"%s\", got %s",
		    find_cases[_i].hdr, find_cases[_i].name, want,
		    r == 1 ? v : "none");
}
END_TEST

/* A Cookie value, a name, what is left, and how many pairs went. */
static const struct {
	const char	*hdr;
	const char	*name;
	const char	*out;
	size_t		 removed;
} remove_cases[] = {
	{ "S=1", "S", "", 1 },
	{ "S=1; a=2", "S", "a=2", 1 },
	{ "a=2; S=1", "S", "a=2", 1 },
	{ "a=2; S=1; b=3", "S", "a=2; b=3", 1 },
	{ "a=2;S=1;b=3", "S", "a=2;b=3", 1 },
	{ "a=1;b=2;c=3;d=4", "x", "a=1;b=2;c=3;d=4", 0 },
	{ "S=1;a;b;c;d;e;f", "S", "a;b;c;d;e;f", 1 },
	{ "S=1; S=2; a=3; S=4", "S", "a=3", 3 },
	{ "  a=1 ;  S=2 ;b=3  ", "S", "a=1 ;b=3", 1 },
	{ "SS=1; S=2", "S", "SS=1", 1 },
	{ "", "S", "", 0 },
};

START_TEST(test_remove)
{
	char	buf[128];
	size_t	n;

	snprintf(buf, sizeof(buf), "%s", remove_cases[_i].hdr);
	n = cookie_remove(buf, remove_cases[_i].name,
	    strlen(remove_cases[_i].name));
	ck_assert_msg(strcmp(buf, remove_cases[_i].out) == 0 &&
	    n == remove_cases[_i].removed, "\"%s\" -%s: want \"%s\" (%zu), "
	    "got \"%s\" (%zu)", remove_cases[_i].hdr, remove_cases[_i].name,
	    remove_cases[_i].out, remove_cases[_i].removed, buf, n);
}
END_TEST

/* The runner's suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("cookie");
	TCase	*tc = tcase_create("cookie");

	tcase_add_loop_test(tc, test_find, 0, NELEM(find_cases));
	tcase_add_loop_test(tc, test_remove, 0, NELEM(remove_cases));
	suite_add_tcase(s, tc);
	return s;
}
