/*
 * check_idleclose: learning a server's idle timeout from its connections,
 * driven with explicit times (idleclose.c reads no clock).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/back/idleclose.h"
#include "tests/check_main.h"

/* Nothing known: no retirement, the default safe age. */
START_TEST(test_unknown)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	ck_assert(idleclose_retire_ms(&k, 0) == UINT64_MAX);
	ck_assert_uint_eq(idleclose_safe_ms(&k), IDLECLOSE_SAFE_MS);
}
END_TEST

/* Two closes that agree, apart in time, make the estimate. */
START_TEST(test_learn)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(idleclose_closed(&k, 1003, 5000), IDLECLOSE_SAME);
	ck_assert(idleclose_retire_ms(&k, 5000) == UINT64_MAX);
	/* one close says nothing sure yet: the default safe age */
	ck_assert_uint_eq(idleclose_safe_ms(&k), IDLECLOSE_SAFE_MS);
	/* with a reuse known to work, the candidate bounds it */
	idleclose_alive(&k, 700, 5100);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 700 - 50);
	idleclose_alive(&k, 990, 5200);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 1003 - 250);
	ck_assert_int_eq(idleclose_closed(&k, 998, 6500),
	    IDLECLOSE_LEARNED);
	ck_assert_uint_eq(k.close_ms, 998);
	ck_assert_uint_eq(idleclose_retire_ms(&k, 6500), 998 - 249);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 998 - 249);
	/* seen again: the same estimate, nothing to log */
	ck_assert_int_eq(idleclose_closed(&k, 1001, 9000), IDLECLOSE_SAME);
}
END_TEST

/* A crash closes every connection at one moment, whatever their age:
 * that is no timeout. */
START_TEST(test_crash)
{
	struct idleclose	k;
	uint64_t		age;

	memset(&k, 0, sizeof(k));
	for (age = 40; age < 4000; age += 130)
		ck_assert_int_eq(idleclose_closed(&k, age, 7000),
		    IDLECLOSE_SAME);
	for (age = 40; age < 4000; age += 3)
		ck_assert_int_eq(idleclose_closed(&k, 300, 7000 + age / 100),
		    IDLECLOSE_SAME);
	ck_assert(idleclose_retire_ms(&k, 8000) == UINT64_MAX);
	/* a reuse just past the candidate is jitter; well past clears it */
	idleclose_alive(&k, 320, 8000);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 300 - 75);
	idleclose_alive(&k, 500, 8000);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 500 - 50);
}
END_TEST

/* Observations that disagree only replace the candidate. */
START_TEST(test_disagree)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 1000, 0);
	ck_assert_int_eq(idleclose_closed(&k, 2000, 1000), IDLECLOSE_SAME);
	ck_assert_int_eq(idleclose_closed(&k, 1000, 2000), IDLECLOSE_SAME);
	ck_assert_int_eq(idleclose_closed(&k, 1010, 3000),
	    IDLECLOSE_LEARNED);
	ck_assert_uint_eq(k.close_ms, 1000);
}
END_TEST

/* Short timeouts keep a 50 ms margin; long ones at most 1 s. */
START_TEST(test_margins)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 300, 0);
	idleclose_closed(&k, 300, 200);
	ck_assert_uint_eq(idleclose_retire_ms(&k, 200), 225);
	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 100, 0);
	idleclose_closed(&k, 100, 200);
	ck_assert_uint_eq(idleclose_retire_ms(&k, 200), 50);
	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 30, 0);
	idleclose_closed(&k, 30, 200);
	ck_assert_uint_eq(idleclose_retire_ms(&k, 200), 0);
	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 60000, 0);
	idleclose_closed(&k, 60000, 200);
	ck_assert_uint_eq(idleclose_retire_ms(&k, 200), 59000);
}
END_TEST

/* The estimate creeps up by its margin per RELEARN; a close seen again
 * sets it back. */
START_TEST(test_relearn_creep)
{
	struct idleclose	k;
	uint64_t		t0 = 1000;

	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 1000, 0);
	idleclose_closed(&k, 1000, t0);
	ck_assert_uint_eq(idleclose_retire_ms(&k, t0), 750);
	/* after RELEARN the estimate is 1250: retire at 1250 - 312 */
	ck_assert_uint_eq(idleclose_retire_ms(&k, t0 + IDLECLOSE_RELEARN_MS),
	    1250 - 312);
	ck_assert_uint_gt(idleclose_retire_ms(&k,
	    t0 + 2 * IDLECLOSE_RELEARN_MS), 1000);
	/* the safe age does not creep */
	ck_assert_uint_eq(idleclose_safe_ms(&k), 750);
	idleclose_closed(&k, 1000, t0 + 2 * IDLECLOSE_RELEARN_MS);
	ck_assert_uint_eq(idleclose_retire_ms(&k,
	    t0 + 2 * IDLECLOSE_RELEARN_MS), 750);
}
END_TEST

/* A connection that outlives the estimate: the server waits longer now. */
START_TEST(test_forget)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	idleclose_closed(&k, 1000, 0);
	idleclose_closed(&k, 1000, 500);
	/* within the agreement: no news */
	ck_assert_int_eq(idleclose_alive(&k, 1100, 600), IDLECLOSE_SAME);
	ck_assert_int_eq(idleclose_alive(&k, 1500, 700), IDLECLOSE_FORGOT);
	ck_assert(idleclose_retire_ms(&k, 700) == UINT64_MAX);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 1500 - 93);
}
END_TEST

/* Known alive longer: requests that must not repeat may use it, less the
 * margin; a close below it makes that knowledge void. */
START_TEST(test_alive)
{
	struct idleclose	k;

	memset(&k, 0, sizeof(k));
	idleclose_alive(&k, 100, 0);
	ck_assert_uint_eq(idleclose_safe_ms(&k), IDLECLOSE_SAFE_MS);
	idleclose_alive(&k, 4000, 10);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 3750);
	idleclose_alive(&k, 2000, 20);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 3750);
	/* a close within the agreement of it: jitter, nothing forgotten */
	idleclose_closed(&k, 3900, 25);
	ck_assert_uint_eq(k.alive_ms, 4000);
	idleclose_closed(&k, 1000, 30);
	ck_assert_uint_eq(k.alive_ms, 0);
	ck_assert_uint_eq(idleclose_safe_ms(&k), IDLECLOSE_SAFE_MS);
	idleclose_closed(&k, 1000, 300);
	ck_assert_uint_eq(idleclose_safe_ms(&k), 750);
}
END_TEST

/* The idleclose suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("idleclose");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_learn);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_disagree);
	tcase_add_test(tc, test_margins);
	tcase_add_test(tc, test_relearn_creep);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_alive);
	suite_add_tcase(s, tc);
	return s;
}
