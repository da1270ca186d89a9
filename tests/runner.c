/*
 * Runs the Check suites. Suites are found by the Makefile from the file
 * names tests/check_NAME.c, each exporting Suite *NAME_suite(void).
 *
 *   runner              every suite
 *   runner NAME...      those suites only
 *   runner --list       the suite names, one a line
 *
 * tests/integration/run.sh runs each suite as a job of its pool, so that
 * the suites run beside the integration tests and each one's time shows.
 * CK_RUN_SUITE, CK_RUN_CASE and CK_VERBOSITY work as usual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
#define SUITE(name) { #name, name##_suite },
#include "suites.h"
#undef SUITE
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NSUITES; i++)
			printf("%s\n", suites[i].name);
		return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	for (int a = 1; a < argc; a++) {
		size_t i = 0;

		while (i < NSUITES && strcmp(argv[a], suites[i].name) != 0)
			i++;
		if (i == NSUITES) {
			fprintf(stderr, "runner: no suite '%s' (runner --list "
			    "names them)\n", argv[a]);
			return 2;
		}
	}
	sr = srunner_create(NULL);
	for (size_t i = 0; i < NSUITES; i++) {
		int want = argc == 1;

		for (int a = 1; a < argc && !want; a++)
			want = strcmp(argv[a], suites[i].name) == 0;
		if (want)
			srunner_add_suite(sr, suites[i].make());
	}
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
