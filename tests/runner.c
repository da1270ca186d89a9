/*
 * Runs every Check suite. Suites are found by the Makefile from the file
 * names tests/check_NAME.c, each exporting Suite *NAME_suite(void).
 * CK_RUN_SUITE, CK_RUN_CASE and CK_VERBOSITY work as usual.
 */
#include <stdlib.h>

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

int
main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
