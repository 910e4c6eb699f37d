/*
 * check_main: the one main() of every check runner (tests/check_main.c).
 * Each tests/check_NAME.c defines check_suite() and nothing else global;
 * the runner tests/check_NAME is that file linked with check_main.o.
 *
 * What a suite needs once per run (a directory of certificates, say) is
 * an unchecked fixture of its test cases (tcase_add_unchecked_fixture):
 * it runs in the runner's process, before the first test of the case and
 * after the last.
 */
#ifndef SLUICE_CHECK_MAIN_H
#define SLUICE_CHECK_MAIN_H

#include <check.h>

/* The suite this runner runs, made before any test runs. */
Suite	*check_suite(void);

#endif
