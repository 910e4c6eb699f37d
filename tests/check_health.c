/*
 * check_health: passive and active health transitions and slow start,
 * driven with explicit times (health.c reads no clock).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/back/health.h"
#include "tests/check_main.h"

static const struct health_conf conf = {
	.max_fails = 2, .fail_timeout_ms = 1000, .rise = 2, .fall = 3,
	.slow_start_ms = 0,
};

/* max_fails failures within fail_timeout take the server out. */
START_TEST(test_passive_out)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1, 0), HEALTH_SAME);
	ck_assert(health_usable(&h, 0));
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1,
	    100), HEALTH_WENT_DOWN);
	ck_assert(!health_usable(&h, 100));
	ck_assert(!health_up(&h, 1099));
	ck_assert(!health_usable(&h, 1099));
}
END_TEST

/* Failures further apart than fail_timeout do not add up. */
START_TEST(test_passive_window)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1,
	    1000), HEALTH_SAME);
	ck_assert(health_usable(&h, 1000));
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1,
	    1500), HEALTH_WENT_DOWN);
}
END_TEST

/* After fail_timeout exactly one trial goes through; success: back. */
START_TEST(test_passive_trial_ok)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	ck_assert(health_usable(&h, 1000));
	health_take(&h, 1000);
	ck_assert(!health_usable(&h, 1000));	/* the trial is in flight */
	ck_assert_int_eq(health_passive(&h, &conf, 1, h.trial, 1,
	    1010), HEALTH_WENT_UP);
	ck_assert(health_usable(&h, 1010));
	ck_assert(health_up(&h, 1010));
	/* its failure count starts again */
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1,
	    1020), HEALTH_SAME);
}
END_TEST

/* A failed trial takes the server out for another fail_timeout. */
START_TEST(test_passive_trial_fails)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_take(&h, 1000);
	ck_assert_int_eq(health_passive(&h, &conf, 0, h.trial, 1,
	    1200), HEALTH_SAME);
	ck_assert(!health_usable(&h, 2199));
	ck_assert(health_usable(&h, 2200));
}
END_TEST

/* While out, a request that was not the trial says nothing. */
START_TEST(test_passive_not_trial)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, 0, 1, 0);
	health_passive(&h, &conf, 0, 0, 1, 0);
	health_take(&h, 1000);
	ck_assert_int_eq(health_passive(&h, &conf, 1, 0, 1, 1001),
	    HEALTH_SAME);
	ck_assert(!health_up(&h, 1001));
	ck_assert_int_eq(health_passive(&h, &conf, 1, 1, 1, 1002),
	    HEALTH_WENT_UP);
}
END_TEST

/* A trial that ends without a verdict frees the slot for another. */
START_TEST(test_passive_untake)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_take(&h, 1000);
	health_untake(&h);
	ck_assert(health_usable(&h, 1000));
}
END_TEST

/* max_fails = 0 turns passive health off. */
START_TEST(test_passive_off)
{
	struct health_conf	c = conf;
	struct health		h;
	int			i;

	c.max_fails = 0;
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(health_passive(&h, &c, 0, h.trial, 1,
		    (uint64_t)i),
		    HEALTH_SAME);
	ck_assert(health_usable(&h, 100));
}
END_TEST

/* fall failed checks take the server out, rise passed ones back. */
START_TEST(test_active)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(health_check(&h, &conf, 0, 0), HEALTH_SAME);
	ck_assert_int_eq(health_check(&h, &conf, 0, 1), HEALTH_SAME);
	ck_assert(health_usable(&h, 1));
	ck_assert_int_eq(health_check(&h, &conf, 0, 2), HEALTH_WENT_DOWN);
	ck_assert(!health_usable(&h, 2));
	ck_assert_int_eq(health_check(&h, &conf, 1, 3), HEALTH_SAME);
	ck_assert_int_eq(health_check(&h, &conf, 0, 4), HEALTH_SAME);
	ck_assert_int_eq(health_check(&h, &conf, 1, 5), HEALTH_SAME);
	ck_assert(!health_usable(&h, 5));
	ck_assert_int_eq(health_check(&h, &conf, 1, 6), HEALTH_WENT_UP);
	ck_assert(health_usable(&h, 6));
}
END_TEST

/* Passing checks end a passive outage inside its fail_timeout. */
START_TEST(test_active_ends_passive)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	health_passive(&h, &conf, 0, h.trial, 1, 0);
	ck_assert(!health_usable(&h, 10));
	health_check(&h, &conf, 1, 10);
	ck_assert_int_eq(health_check(&h, &conf, 1, 20), HEALTH_WENT_UP);
	ck_assert(health_usable(&h, 20));
}
END_TEST

/* Slow start ramps the weight from 1 to the full weight. */
START_TEST(test_slow_start)
{
	struct health_conf	c = conf;
	struct health		h;

	c.slow_start_ms = 1000;
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(health_weight(&h, &c, 10, 5), 10);	/* from start */
	health_passive(&h, &c, 0, h.trial, 1, 0);
	health_passive(&h, &c, 0, h.trial, 1, 0);
	health_take(&h, 1000);
	health_passive(&h, &c, 1, h.trial, 1, 1000);
	ck_assert_int_eq(health_weight(&h, &c, 10, 1000), 1);
	ck_assert_int_eq(health_weight(&h, &c, 10, 1500), 5);
	ck_assert_int_eq(health_weight(&h, &c, 10, 1900), 9);
	ck_assert_int_eq(health_weight(&h, &c, 10, 2000), 10);
}
END_TEST

/* The suite. */
/* A failure that may not take the server out leaves it in, one short. */
START_TEST(test_passive_held)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(health_passive(&h, &conf, 0, 0, 0, 0), HEALTH_SAME);
	ck_assert_int_eq(health_passive(&h, &conf, 0, 0, 0, 10), HEALTH_HELD);
	ck_assert(health_up(&h, 10) && health_usable(&h, 10));
	ck_assert_int_eq(health_passive(&h, &conf, 0, 0, 0, 20), HEALTH_HELD);
	ck_assert(health_up(&h, 20));
	/* room again: the next failure takes it out */
	ck_assert_int_eq(health_passive(&h, &conf, 0, 0, 1, 30),
	    HEALTH_WENT_DOWN);
	ck_assert(!health_up(&h, 30));
}
END_TEST

/* max_ejected: the percentage rounds down, but one may always go. */
START_TEST(test_may_eject)
{
	static const struct {
		size_t	down, n;
		int	pct, want;
	} cases[] = {
		{ 0, 2, 50, 1 }, { 1, 2, 50, 0 }, { 0, 4, 50, 1 },
		{ 1, 4, 50, 1 }, { 2, 4, 50, 0 }, { 3, 4, 50, 0 },
		{ 0, 3, 50, 1 }, { 1, 3, 50, 0 }, { 0, 2, 0, 1 },
		{ 1, 2, 0, 0 }, { 1, 2, 100, 1 }, { 2, 3, 100, 1 },
		{ 9, 10, 100, 1 }, { 10, 10, 100, 0 }, { 2, 10, 25, 0 },
		{ 1, 10, 25, 1 }, { 0, 1, 0, 1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(health_may_eject(cases[i].down, cases[i].n,
		    cases[i].pct) == cases[i].want, "%zu of %zu down, %d%%: "
		    "want %d", cases[i].down, cases[i].n, cases[i].pct,
		    cases[i].want);
}
END_TEST

/* The health suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("health");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_passive_out);
	tcase_add_test(tc, test_passive_window);
	tcase_add_test(tc, test_passive_trial_ok);
	tcase_add_test(tc, test_passive_trial_fails);
	tcase_add_test(tc, test_passive_untake);
	tcase_add_test(tc, test_passive_not_trial);
	tcase_add_test(tc, test_passive_off);
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_active_ends_passive);
	tcase_add_test(tc, test_slow_start);
	tcase_add_test(tc, test_passive_held);
	tcase_add_test(tc, test_may_eject);
	suite_add_tcase(s, tc);
	return s;
}
