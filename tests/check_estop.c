/* The early-stopping estimate against shared/spec/report.md's table.
 * The comparison with an independent implementation for random (n, p)
 * up to 1e8 is tests/integration/test_report_estop.sh. */
#include <math.h>
#include <stdint.h>

#include <check.h>

#include "estop.h"

START_TEST(test_betainc_known_values)
{
	/* I_0.4(2, 3) = P(Bin(4, 0.4) >= 2) = 0.5248 */
	ck_assert(fabs(estop_betainc(2, 3, 0.4) - 0.5248) < 1e-14);
	/* I_x(1, 1) = x; I_x(a, 1) = x^a; symmetry */
	ck_assert(fabs(estop_betainc(1, 1, 0.3) - 0.3) < 1e-15);
	ck_assert(fabs(estop_betainc(459, 1, 0.99) / pow(0.99, 459) - 1) <
	    1e-12);
	ck_assert(fabs(estop_betainc(7.5, 3.25, 0.6) + estop_betainc(3.25,
	    7.5, 0.4) - 1.0) < 1e-14);
	/* Large arguments stay in [0, 1] and are monotone in x. */
	double lo = estop_betainc(1e8, 1e6, 0.9899);
	double mid = estop_betainc(1e8, 1e6, 0.99);
	double hi = estop_betainc(1e8, 1e6, 0.9901);
	ck_assert(lo >= 0 && lo <= mid && mid <= hi && hi <= 1);
	ck_assert_double_eq(estop_betainc(2, 3, 0), 0);
	ck_assert_double_eq(estop_betainc(2, 3, 1), 1);
	ck_assert(isnan(estop_betainc(0, 3, 0.5)));
	ck_assert(isnan(estop_betainc(2, 3, 1.5)));
	ck_assert(isnan(estop_betainc(2, 3, NAN)));
}
END_TEST

START_TEST(test_min_passing_reference_table)
{
	static const double p[] = { 0.90, 0.95, 0.99, 0.999 };
	static const uint64_t t[] = { 0, 1, 2, 10 };
	static const uint64_t want[4][4] = {
		{ 44, 63, 79, 187 },
		{ 90, 129, 163, 388 },
		{ 459, 661, 836, 2000 },
		{ 4603, 6635, 8401, 20130 },
	};

	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			ck_assert_msg(estop_min_passing(p[i], t[j], 0.99, 0) ==
			    want[i][j], "p %g t %d: %llu", p[i], (int)t[j],
			    (unsigned long long)estop_min_passing(p[i], t[j],
			    0.99, 0));
	/* t = 0 is the closed form ceil(ln(1 - c) / ln(p)). */
	ck_assert_uint_eq(estop_min_passing(0.99, 0, 0.99, 0),
	    (uint64_t)ceil(log(0.01) / log(0.99)));
	ck_assert_uint_eq(estop_min_queries(0.99), 662);
	ck_assert_uint_eq(estop_min_queries(0.90), 64);
	ck_assert_uint_eq(estop_min_passing(1.5, 0, 0.99, 0), 0);
}
END_TEST

START_TEST(test_discards_reference_values)
{
	uint64_t t;

	ck_assert(estop_discards(10000, 0.90, &t));
	ck_assert_uint_eq(t, 930);
	ck_assert(estop_discards(10000, 0.99, &t));
	ck_assert_uint_eq(t, 77);
	ck_assert(estop_discards(1000000, 0.90, &t));
	ck_assert_uint_eq(t, 99302);
	ck_assert(estop_discards(1000000, 0.99, &t));
	ck_assert_uint_eq(t, 9768);
	/* For 0..9999 the p99 estimate is sorted[n - t] = 9923. */
	ck_assert_uint_eq(10000 - 77, 9923);
	/* The threshold: min_queries values give t = 1, one less none. */
	ck_assert(estop_discards(662, 0.99, &t));
	ck_assert_uint_eq(t, 1);
	ck_assert(!estop_discards(661, 0.99, &t));
	ck_assert(!estop_discards(0, 0.99, &t));
	ck_assert(estop_discards(64, 0.90, &t));
	ck_assert(!estop_discards(63, 0.90, &t));
	/* t is the largest with min_passing(t) + t <= n. */
	for (uint64_t n = 662; n < 5000; n += 97) {
		ck_assert(estop_discards(n, 0.99, &t));
		ck_assert_uint_le(estop_min_passing(0.99, t, 0.99, 0) + t, n);
		ck_assert_uint_gt(estop_min_passing(0.99, t + 1, 0.99, 0) +
		    t + 1, n);
	}
}
END_TEST

Suite *
estop_suite(void)
{
	Suite *s = suite_create("estop");
	TCase *tc = tcase_create("estop");

	tcase_add_test(tc, test_betainc_known_values);
	tcase_add_test(tc, test_min_passing_reference_table);
	tcase_add_test(tc, test_discards_reference_values);
	suite_add_tcase(s, tc);
	return s;
}
