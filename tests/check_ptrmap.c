/*
 * check_ptrmap: the pointer map against a plain array, through growth and
 * backward-shift deletion.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "proxy/base/ptrmap.h"
#include "tests/check_main.h"

#define N	5000

/* A deterministic sequence of keys (never NULL), also used as values. */
static void *
key(unsigned i)
{
	return (void *)(uintptr_t)(0x1000 + (uintptr_t)i * 48);
}

/* Insert, look up, delete every other, look up again, reinsert. */
START_TEST(test_against_array)
{
	struct ptrmap	 m = { NULL, 0, 0 };
	static int	 present[N];
	unsigned	 i, k, x = 12345;

	for (i = 0; i < N; i++) {
		ck_assert_int_eq(ptrmap_put(&m, key(i), key(i + 1)),
		    0);
		present[i] = 1;
	}
	ck_assert_uint_eq(m.count, N);
	for (i = 0; i < 3 * N; i++) {	/* random deletions and inserts */
		x = x * 1103515245u + 12345u;
		k = (x >> 8) % N;
		if (present[k]) {
			ck_assert_ptr_eq(ptrmap_del(&m, key(k)), key(k + 1));
			present[k] = 0;
		} else {
			ck_assert_int_eq(ptrmap_put(&m, key(k),
			    key(k + 1)), 0);
			present[k] = 1;
		}
	}
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(ptrmap_get(&m, key(i)),
		    present[i] ? key(i + 1) : NULL);
	ck_assert_ptr_null(ptrmap_del(&m, key(N + 7)));
	ptrmap_free(&m);
	ck_assert_ptr_null(ptrmap_get(&m, key(1)));
}
END_TEST

/* Putting a key twice replaces its value. */
START_TEST(test_replace)
{
	struct ptrmap	m = { NULL, 0, 0 };

	ck_assert_int_eq(ptrmap_put(&m, key(1), key(2)), 0);
	ck_assert_int_eq(ptrmap_put(&m, key(1), key(3)), 0);
	ck_assert_uint_eq(m.count, 1);
	ck_assert_ptr_eq(ptrmap_get(&m, key(1)), key(3));
	ptrmap_free(&m);
}
END_TEST

/* The ptrmap suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("ptrmap");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_against_array);
	tcase_add_test(tc, test_replace);
	suite_add_tcase(s, tc);
	return s;
}
