/* Tests for the monotonic clock helpers. */
#include <time.h>

#include <check.h>

#include "clock.h"

START_TEST(test_clock_now_monotonic_and_consistent)
{
	struct timespec d = { 0, 2000000 };	/* 2 ms */
	uint64_t ns0 = clock_now_ns(), ms0 = clock_now_ms(), ns1, ms1;

	nanosleep(&d, NULL);
	ns1 = clock_now_ns();
	ms1 = clock_now_ms();
	ck_assert_uint_ge(ns1 - ns0, 2000000);
	ck_assert_uint_ge(ms1 - ms0, 1);
	/* the two read the same clock */
	ck_assert_uint_le(ms0, ns1 / 1000000);
	ck_assert_uint_le(ns0 / 1000000, ms1);
}
END_TEST

Suite *
clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("now");

	tcase_add_test(tc, test_clock_now_monotonic_and_consistent);
	suite_add_tcase(s, tc);
	return s;
}
