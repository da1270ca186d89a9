/* Tests for the rate-limited logger. */
#include <stdio.h>
#include <unistd.h>

#include <check.h>

#include "log.h"

START_TEST(test_log_ratelimited_suppresses_after_burst)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000000000ull, 3);
	FILE *saved = stderr;
	FILE *sink = tmpfile();

	ck_assert_ptr_nonnull(sink);
	stderr = sink;
	for (int i = 0; i < 10; i++)
		log_ratelimited(&rl, "bad frame %d", i);
	stderr = saved;
	ck_assert_uint_eq(rl.printed, 3);
	ck_assert_uint_eq(rl.suppressed, 7);
	fclose(sink);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, test_log_ratelimited_suppresses_after_burst);
	suite_add_tcase(s, tc);
	return s;
}
