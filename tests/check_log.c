/*
 * check_log: the error-log rate limit (log_limit_pass), driven by a fake
 * clock.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "proxy/base/log.h"
#include "tests/check_main.h"

/* One call: at now_ms, whether the line passes and the count it gets. */
struct limit_step {
	uint64_t	 now_ms;
	int		 pass;
	unsigned long	 held;		/* when it passes */
};

/* A burst, a quiet spell, a line at the very edge of the interval. */
static const struct limit_step limit_steps[] = {
	{ .now_ms = 5000, .pass = 1, .held = 0 },	/* the first passes */
	{ .now_ms = 5000, .pass = 0 },
	{ .now_ms = 5400, .pass = 0 },
	{ .now_ms = 5999, .pass = 0 },
	{ .now_ms = 6000, .pass = 1, .held = 3 },	/* a second later */
	{ .now_ms = 6001, .pass = 0 },
	{ .now_ms = 9000, .pass = 1, .held = 1 },	/* after a quiet spell */
	{ .now_ms = 12000, .pass = 1, .held = 0 },
};

/* Each step of limit_steps in order, on one zeroed limit. */
START_TEST(test_limit_steps)
{
	struct log_limit	 ll = { 0, 0 };
	unsigned long		 held;
	size_t			 i;

	for (i = 0; i < sizeof(limit_steps) / sizeof(limit_steps[0]); i++) {
		held = 999;
		ck_assert_msg(log_limit_pass(&ll, limit_steps[i].now_ms,
		    &held) == limit_steps[i].pass, "step %zu", i);
		if (limit_steps[i].pass)
			ck_assert_msg(held == limit_steps[i].held,
			    "step %zu: held %lu, want %lu", i, held,
			    limit_steps[i].held);
		else
			ck_assert_msg(held == 999, "step %zu: held written",
			    i);
	}
}
END_TEST

/* A zeroed limit lets the first line through even at time 0. */
START_TEST(test_limit_first_at_zero)
{
	struct log_limit	 ll = { 0, 0 };
	unsigned long		 held = 999;

	ck_assert_int_eq(log_limit_pass(&ll, 0, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_int_eq(log_limit_pass(&ll, LOG_LIMIT_MS - 1, &held), 0);
}
END_TEST

/* The log suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("limit");

	tcase_add_test(tc, test_limit_steps);
	tcase_add_test(tc, test_limit_first_at_zero);
	suite_add_tcase(s, tc);
	return s;
}
