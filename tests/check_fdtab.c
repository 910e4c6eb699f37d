/*
 * check_fdtab: the descriptor table against a plain array, through page
 * growth, sparse descriptors, removal during a walk, and bad input.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "proxy/base/fdtab.h"
#include "tests/check_main.h"

#define N	5000

/* A value for descriptor i (never NULL). */
static void *
val(unsigned i)
{
	return (void *)(uintptr_t)(0x1000 + (uintptr_t)i * 48);
}

/* Random puts and deletions, then every descriptor and a whole walk. */
START_TEST(test_against_array)
{
	struct fdtab	 t = { NULL, 0, 0 };
	static int	 present[N];
	unsigned	 i, k, x = 12345, n = 0, seen = 0;
	int		 fd;
	void		*v;

	for (i = 0; i < 3 * N; i++) {
		x = x * 1103515245u + 12345u;
		k = (x >> 8) % N;
		if (present[k]) {
			ck_assert_ptr_eq(fdtab_del(&t, (int)k), val(k));
			present[k] = 0;
			n--;
		} else {
			ck_assert_int_eq(fdtab_put(&t, (int)k, val(k)), 0);
			present[k] = 1;
			n++;
		}
	}
	ck_assert_uint_eq(t.count, n);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(fdtab_get(&t, (int)i),
		    present[i] ? val(i) : NULL);
	for (fd = 0; (v = fdtab_next(&t, &fd)) != NULL; fd++) {
		ck_assert_int_lt(fd, N);
		ck_assert_int_eq(present[fd], 1);
		ck_assert_ptr_eq(v, val((unsigned)fd));
		seen++;
	}
	ck_assert_uint_eq(seen, n);
	fdtab_free(&t);
	ck_assert_ptr_null(fdtab_get(&t, 1));
	ck_assert_uint_eq(t.count, 0);
}
END_TEST

/* Far-apart descriptors, a replaced value, removal while walking. */
START_TEST(test_sparse_and_walk)
{
	struct fdtab	 t = { NULL, 0, 0 };
	static const int fds[] = { 0, 3, 511, 512, 100000, 1048575 };
	size_t		 i;
	int		 fd;
	void		*v;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ck_assert_int_eq(fdtab_put(&t, fds[i], val(1)), 0);
	ck_assert_int_eq(fdtab_put(&t, 3, val(2)), 0);	/* replaces */
	ck_assert_uint_eq(t.count, 6);
	ck_assert_ptr_eq(fdtab_get(&t, 3), val(2));
	ck_assert_ptr_null(fdtab_get(&t, 4));
	ck_assert_ptr_null(fdtab_get(&t, 99999));
	ck_assert_ptr_null(fdtab_get(&t, 2000000));	/* past the pages */
	i = 0;
	for (fd = 0; (v = fdtab_next(&t, &fd)) != NULL; fd++) {
		ck_assert_int_eq(fd, fds[i++]);
		ck_assert_ptr_eq(fdtab_del(&t, fd), v);
	}
	ck_assert_uint_eq(i, 6);
	ck_assert_uint_eq(t.count, 0);
	fd = 0;
	ck_assert_ptr_null(fdtab_next(&t, &fd));
	fdtab_free(&t);
}
END_TEST

/* A negative descriptor or a NULL value is refused, and finds nothing. */
START_TEST(test_bad_input)
{
	struct fdtab	t = { NULL, 0, 0 };

	ck_assert_int_eq(fdtab_put(&t, -1, val(1)), -1);
	ck_assert_int_eq(fdtab_put(&t, 5, NULL), -1);
	ck_assert_ptr_null(fdtab_get(&t, -1));
	ck_assert_ptr_null(fdtab_del(&t, -1));
	ck_assert_ptr_null(fdtab_del(&t, 5));
	ck_assert_uint_eq(t.count, 0);
	fdtab_free(&t);
}
END_TEST

/* The fdtab suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("fdtab");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_against_array);
	tcase_add_test(tc, test_sparse_and_walk);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
