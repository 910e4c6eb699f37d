/*
 * check_main: the one main() of every check runner. It runs the suite of
 * the file it is linked with (check_suite(), tests/check_main.h) in
 * check's default mode: each test in a process of its own, CK_RUN_SUITE
 * and CK_RUN_CASE honoured, a summary line at the end.
 *
 * Built twice (Makefile.in): check_main.o for the unit runners, and
 * check_main-itest.o, with CHECK_MAIN_ITEST defined, for the integration
 * runners, whose main() also makes the harness's temporary directory
 * before the run and removes it after (itest_global_init and
 * itest_global_done, tests/itest.h).
 */
#include <stdlib.h>

#include <check.h>

#include "tests/check_main.h"
#ifdef CHECK_MAIN_ITEST
#include "tests/itest.h"
#endif

/* Run the suite; exit status 1 when a test failed. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

#ifdef CHECK_MAIN_ITEST
	itest_global_init();
#endif
	sr = srunner_create(check_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
#ifdef CHECK_MAIN_ITEST
	itest_global_done();
#endif
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
