/* Rollups: statistics, percentile definition, incremental folding. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rollup.h"

static void
fold_u(struct rollup *r, const uint64_t *x, size_t n)
{
	union store_value *v = calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i].u = x[i];
	ck_assert_int_eq(rollup_fold(r, v, n), 0);
	free(v);
}

static void
fold_i(struct rollup *r, const int64_t *x, size_t n)
{
	union store_value *v = calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i].i = x[i];
	ck_assert_int_eq(rollup_fold(r, v, n), 0);
	free(v);
}

static void
fold_f(struct rollup *r, const double *x, size_t n)
{
	union store_value *v = calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i].f = x[i];
	ck_assert_int_eq(rollup_fold(r, v, n), 0);
	free(v);
}

static double
pct(struct rollup *r, double p)
{
	double out = -12345;

	ck_assert_int_eq(rollup_percentile(r, p, &out), 0);
	return out;
}

static const char *
sum_text(const struct rollup *r, char *buf, size_t len)
{
	ck_assert_uint_gt(rollup_int128_format(rollup_sum_int(r), buf, len), 0);
	return buf;
}

START_TEST(test_percentile_single_value)
{
	struct rollup r;
	uint64_t x[] = { 7 };
	union store_value v;

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 1);
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		ck_assert_double_eq(pct(&r, rollup_grid[i]), 7);
	ck_assert_double_eq(pct(&r, 0), 7);
	ck_assert_double_eq(pct(&r, 100), 7);
	ck_assert_double_eq(rollup_mean(&r), 7);
	ck_assert_double_eq(rollup_stddev(&r), 0);
	ck_assert(rollup_min(&r, &v));
	ck_assert_uint_eq(v.u, 7);
	ck_assert(rollup_max(&r, &v));
	ck_assert_uint_eq(v.u, 7);
	ck_assert_uint_eq(rollup_count(&r), 1);
	rollup_free(&r);
}
END_TEST

START_TEST(test_percentile_two_values_interpolates)
{
	struct rollup r;
	uint64_t x[] = { 20, 10 };

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 2);
	/* h = (n-1)*p/100 = p/100; result = 10 + h*10 */
	ck_assert_double_eq_tol(pct(&r, 50), 15, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 90), 19, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 95), 19.5, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 99), 19.9, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 99.9), 19.99, 1e-12);
	ck_assert_double_eq(pct(&r, 0), 10);
	ck_assert_double_eq(pct(&r, 100), 20);
	rollup_free(&r);
}
END_TEST

START_TEST(test_percentile_four_values_numpy)
{
	struct rollup r;
	uint64_t x[] = { 4, 1, 3, 2 };

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 4);
	/* numpy.percentile([1,2,3,4], [25,50,90]) == [1.75, 2.5, 3.7] */
	ck_assert_double_eq_tol(pct(&r, 25), 1.75, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 50), 2.5, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 90), 3.7, 1e-12);
	rollup_free(&r);
}
END_TEST

START_TEST(test_percentile_duplicates)
{
	struct rollup r;
	uint64_t x[] = { 5, 5, 5, 1, 1 };

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 5);
	/* sorted 1 1 5 5 5 */
	ck_assert_double_eq(pct(&r, 50), 5);
	ck_assert_double_eq(pct(&r, 25), 1);
	ck_assert_double_eq_tol(pct(&r, 30), 1.8, 1e-12);
	ck_assert_double_eq(pct(&r, 90), 5);
	ck_assert_double_eq_tol(rollup_mean(&r), 3.4, 1e-12);
	rollup_free(&r);
}
END_TEST

START_TEST(test_negative_i64)
{
	struct rollup r;
	int64_t x[] = { -10, -20, 30, 0 };
	union store_value v;
	char buf[64];

	rollup_init(&r, STORE_I64);
	fold_i(&r, x, 4);
	ck_assert_double_eq_tol(pct(&r, 50), -5, 1e-12);
	ck_assert_double_eq_tol(pct(&r, 90), 21, 1e-12);
	ck_assert_double_eq(pct(&r, 0), -20);
	ck_assert_double_eq(rollup_mean(&r), 0);
	ck_assert_double_eq_tol(rollup_stddev(&r), 18.708286933869708, 1e-12);
	ck_assert(rollup_min(&r, &v));
	ck_assert_int_eq(v.i, -20);
	ck_assert(rollup_max(&r, &v));
	ck_assert_int_eq(v.i, 30);
	ck_assert_str_eq(sum_text(&r, buf, sizeof(buf)), "0");
	rollup_free(&r);
}
END_TEST

START_TEST(test_i64_extremes)
{
	struct rollup r;
	int64_t x[] = { INT64_MAX, INT64_MIN };
	union store_value v;
	char buf[64];

	rollup_init(&r, STORE_I64);
	fold_i(&r, x, 2);
	ck_assert_str_eq(sum_text(&r, buf, sizeof(buf)), "-1");
	ck_assert_double_eq(rollup_mean(&r), -0.5);
	ck_assert_double_eq(pct(&r, 0), (double)INT64_MIN);
	ck_assert_double_eq(pct(&r, 100), (double)INT64_MAX);
	ck_assert_double_eq_tol(pct(&r, 50), 0, 1e3);
	ck_assert(rollup_min(&r, &v));
	ck_assert_int_eq(v.i, INT64_MIN);
	ck_assert_double_eq_tol(rollup_stddev(&r), 9.223372036854775807e18, 1e4);
	rollup_free(&r);
}
END_TEST

START_TEST(test_sum_exact_beyond_2_53)
{
	struct rollup r;
	uint64_t x[] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
	uint64_t y[1000];
	char buf[64];

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 3);
	ck_assert_str_eq(sum_text(&r, buf, sizeof(buf)), "55340232221128654845");
	rollup_free(&r);

	/* 2^53 + 1 is not a double: a float sum would lose the ones. */
	for (size_t i = 0; i < 1000; i++)
		y[i] = (UINT64_C(1) << 53) + 1;
	rollup_init(&r, STORE_U64);
	fold_u(&r, y, 1000);
	ck_assert_str_eq(sum_text(&r, buf, sizeof(buf)), "9007199254740993000");
	ck_assert_double_eq(rollup_stddev(&r), 0);
	rollup_free(&r);
}
END_TEST

START_TEST(test_float_series)
{
	struct rollup r;
	double x[] = { 0.5, 1.5, -2.25, 4.0 };
	union store_value v;

	rollup_init(&r, STORE_F64);
	fold_f(&r, x, 4);
	ck_assert_double_eq(pct(&r, 50), 1.0);
	ck_assert_double_eq(pct(&r, 0), -2.25);
	ck_assert_double_eq_tol(pct(&r, 90), 1.5 + 0.7 * 2.5, 1e-12);
	ck_assert_double_eq(rollup_mean(&r), 0.9375);
	ck_assert_double_eq(rollup_sum(&r), 3.75);
	ck_assert_double_eq_tol(rollup_stddev(&r), 2.2386868360715395, 1e-12);
	ck_assert(rollup_min(&r, &v));
	ck_assert_double_eq(v.f, -2.25);
	ck_assert(rollup_max(&r, &v));
	ck_assert_double_eq(v.f, 4.0);
	rollup_free(&r);
}
END_TEST

START_TEST(test_float_negative_zero_and_infinity)
{
	struct rollup r;
	double x[] = { INFINITY, 1.0, -0.0, -INFINITY };
	union store_value v;

	rollup_init(&r, STORE_F64);
	fold_f(&r, x, 4);
	ck_assert(isinf(pct(&r, 0)) && pct(&r, 0) < 0);
	ck_assert(isinf(pct(&r, 100)) && pct(&r, 100) > 0);
	ck_assert_double_eq(pct(&r, 100.0 / 3), 0.0);	/* lands on -0.0 */
	ck_assert(rollup_max(&r, &v));
	ck_assert(isinf(v.f));
	ck_assert(isnan(rollup_mean(&r)));	/* inf + -inf */
	rollup_free(&r);
}
END_TEST

START_TEST(test_float_nan_poisons)
{
	struct rollup r;
	double x[] = { 1.0, NAN, 3.0 };
	union store_value v;
	double out;

	rollup_init(&r, STORE_F64);
	fold_f(&r, x, 3);
	ck_assert_uint_eq(rollup_count(&r), 3);
	ck_assert_uint_eq(rollup_nan_count(&r), 1);
	ck_assert_int_eq(rollup_percentile(&r, 50, &out), 0);
	ck_assert(isnan(out));
	ck_assert(isnan(rollup_mean(&r)));
	ck_assert(isnan(rollup_stddev(&r)));
	ck_assert(isnan(rollup_sum(&r)));
	ck_assert(rollup_min(&r, &v));
	ck_assert(isnan(v.f));
	rollup_free(&r);
}
END_TEST

START_TEST(test_empty_and_bad_percentiles)
{
	struct rollup r;
	union store_value v;
	uint64_t x[] = { 1 };
	double out = 0;

	rollup_init(&r, STORE_U64);
	ck_assert_uint_eq(rollup_count(&r), 0);
	ck_assert(!rollup_min(&r, &v));
	ck_assert(!rollup_max(&r, &v));
	ck_assert(isnan(rollup_mean(&r)));
	ck_assert(isnan(rollup_stddev(&r)));
	ck_assert_int_eq(rollup_percentile(&r, 50, &out), -ENODATA);
	ck_assert(isnan(out));
	fold_u(&r, x, 1);
	ck_assert_int_eq(rollup_percentile(&r, -1, &out), -EINVAL);
	ck_assert_int_eq(rollup_percentile(&r, 100.5, &out), -EINVAL);
	ck_assert_int_eq(rollup_percentile(&r, NAN, &out), -EINVAL);
	ck_assert_int_eq(rollup_fold(&r, NULL, 0), 0);
	rollup_free(&r);
}
END_TEST

START_TEST(test_reset_forgets_values)
{
	struct rollup r;
	uint64_t x[] = { 100, 200, 300 }, y[] = { 1, 2 };

	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 3);
	ck_assert_double_eq(pct(&r, 50), 200);
	rollup_reset(&r);
	ck_assert_uint_eq(rollup_count(&r), 0);
	fold_u(&r, y, 2);
	ck_assert_double_eq(pct(&r, 50), 1.5);
	ck_assert_double_eq(rollup_mean(&r), 1.5);
	rollup_free(&r);
}
END_TEST

/* Large offset, small spread: the naive sum-of-squares formula fails. */
START_TEST(test_stddev_stable_large_offset)
{
	struct rollup r;
	uint64_t *x = malloc(1000 * sizeof(*x));
	double f[] = { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 };

	for (size_t i = 0; i < 1000; i++)
		x[i] = UINT64_C(1000000000000000000) + i;
	rollup_init(&r, STORE_U64);
	fold_u(&r, x, 1000);
	ck_assert_double_eq_tol(rollup_stddev(&r), 288.6749902572095, 1e-9);
	rollup_free(&r);
	free(x);

	rollup_init(&r, STORE_F64);
	fold_f(&r, f, 4);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrt(22.5), 1e-9);
	rollup_free(&r);
}
END_TEST

/*
 * A full block of small values far from zero (i64 near 0, u64 near 1e18):
 * the vector path sees them as offsets around 2^51 from its window base,
 * where a double cannot hold the block mean to better than 0.5; the
 * spread must still be that of the values themselves.
 */
START_TEST(test_stddev_full_block_small_spread)
{
	enum { N = 512 };
	int64_t x[N];
	uint64_t u[N];
	long double mean = 0, m2 = 0;
	struct rollup r;

	for (size_t i = 0; i < N; i++) {
		x[i] = (int64_t)((i * 7919) % 201) - 100;
		u[i] = UINT64_C(1000000000000000000) + (uint64_t)(x[i] + 100);
		mean += x[i];
	}
	mean /= N;
	for (size_t i = 0; i < N; i++)
		m2 += (x[i] - mean) * (x[i] - mean);
	rollup_init(&r, STORE_I64);
	fold_i(&r, x, N);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrtl(m2 / N), 1e-9);
	rollup_free(&r);
	rollup_init(&r, STORE_U64);
	fold_u(&r, u, N);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrtl(m2 / N), 1e-9);
	rollup_free(&r);
}
END_TEST

/*
 * The mean of small integers is the correctly rounded quotient: 247/100
 * is 2.47, not 2 + 0.47 rounded twice (2.4699999999999998).
 */
START_TEST(test_mean_small_integers_correctly_rounded)
{
	int64_t x[100];
	uint64_t u[100];
	struct rollup r;

	for (size_t i = 0; i < 100; i++) {
		x[i] = i < 47 ? 3 : 2;
		u[i] = (uint64_t)x[i];
	}
	rollup_init(&r, STORE_I64);
	fold_i(&r, x, 100);
	ck_assert(rollup_mean(&r) == 2.47);
	rollup_free(&r);
	rollup_init(&r, STORE_U64);
	fold_u(&r, u, 100);
	ck_assert(rollup_mean(&r) == 2.47);
	rollup_free(&r);
}
END_TEST

/*
 * Floats far from zero with a small spread (1e12 + 0..100): combining
 * blocks must not lose the spread to the rounding of their means.
 */
START_TEST(test_stddev_float_large_offset_blocks)
{
	enum { N = 2048 };
	double *x = malloc(N * sizeof(*x));
	long double mean = 0, m2 = 0;
	struct rollup r;

	for (size_t i = 0; i < N; i++) {
		x[i] = 1e12 + (double)((i * 7919) % 401) * 0.25;
		mean += x[i];
	}
	mean /= N;
	for (size_t i = 0; i < N; i++)
		m2 += (x[i] - mean) * (x[i] - mean);
	rollup_init(&r, STORE_F64);
	fold_f(&r, x, N);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrtl(m2 / N), 1e-9);
	rollup_free(&r);
	/* The scalar path too: blocks that are not whole. */
	rollup_init(&r, STORE_F64);
	for (size_t i = 0; i < N; i += 100)
		fold_f(&r, x + i, N - i < 100 ? N - i : 100);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrtl(m2 / N), 1e-9);
	rollup_free(&r);
	free(x);
}
END_TEST

/* Full blocks whose spread is too wide for the vector path's trick. */
START_TEST(test_wide_spread_blocks_exact)
{
	enum { N = 2048 };
	uint64_t *x = malloc(N * sizeof(*x));
	double *f = malloc(N * sizeof(*f));
	struct rollup r;
	union store_value v;
	char buf[64];

	for (size_t i = 0; i < N; i++)
		x[i] = i % 2 ? UINT64_MAX - i : i;
	rollup_init(&r, STORE_U64);
	fold_u(&r, x, N);
	ck_assert(rollup_min(&r, &v));
	ck_assert_uint_eq(v.u, 0);
	ck_assert(rollup_max(&r, &v));
	ck_assert_uint_eq(v.u, UINT64_MAX - 1);
	/* sum = 1024 * (2^64 - 1) - sum of odd i + sum of even i = ... */
	{
		__int128 want = 0;

		for (size_t i = 0; i < N; i++)
			want += x[i];
		ck_assert(rollup_sum_int(&r) == want);
		rollup_int128_format(want, buf, sizeof(buf));
	}
	ck_assert_double_eq_tol(rollup_stddev(&r), 9.223372036854775e18, 1e6);
	rollup_free(&r);

	/* A NaN deep inside a full float block: the scalar path takes it. */
	for (size_t i = 0; i < N; i++)
		f[i] = (double)i;
	f[700] = NAN;
	rollup_init(&r, STORE_F64);
	fold_f(&r, f, 600);
	ck_assert_double_eq_tol(rollup_stddev(&r), sqrt((600.0 * 600 - 1) / 12),
	    1e-9);
	fold_f(&r, f + 600, N - 600);
	ck_assert_uint_eq(rollup_nan_count(&r), 1);
	ck_assert(isnan(rollup_mean(&r)));
	rollup_free(&r);
	free(x);
	free(f);
}
END_TEST

/* Full blocks at the ends of the ranges: the vector path's window. */
START_TEST(test_block_edges_exact)
{
	enum { N = 1536 };
	uint64_t *x = malloc(N * sizeof(*x));
	int64_t *y = malloc(N * sizeof(*y));
	struct rollup r;
	union store_value v;
	__int128 want;

	for (int pass = 0; pass < 3; pass++) {
		want = 0;
		for (size_t i = 0; i < N; i++) {
			x[i] = pass == 0 ? UINT64_MAX - i : pass == 1 ? i :
			    (UINT64_C(1) << 63) + i - N / 2;
			want += x[i];
		}
		rollup_init(&r, STORE_U64);
		fold_u(&r, x, N);
		ck_assert(rollup_sum_int(&r) == want);
		ck_assert(rollup_min(&r, &v));
		ck_assert_uint_eq(v.u, pass == 0 ? UINT64_MAX - (N - 1) :
		    pass == 1 ? 0 : (UINT64_C(1) << 63) - N / 2);
		ck_assert(rollup_max(&r, &v));
		ck_assert_uint_eq(v.u, pass == 0 ? UINT64_MAX : pass == 1 ? N - 1 :
		    (UINT64_C(1) << 63) + N / 2 - 1);
		ck_assert_double_eq_tol(rollup_stddev(&r),
		    sqrt(((double)N * N - 1) / 12), 1e-9);
		rollup_free(&r);
	}
	for (int pass = 0; pass < 3; pass++) {
		want = 0;
		for (size_t i = 0; i < N; i++) {
			y[i] = pass == 0 ? INT64_MIN + (int64_t)i : pass == 1 ?
			    INT64_MAX - (int64_t)i : (int64_t)i - N / 2;
			want += y[i];
		}
		rollup_init(&r, STORE_I64);
		fold_i(&r, y, N);
		ck_assert(rollup_sum_int(&r) == want);
		ck_assert(rollup_min(&r, &v));
		ck_assert_int_eq(v.i, pass == 0 ? INT64_MIN : pass == 1 ?
		    INT64_MAX - (N - 1) : -N / 2);
		ck_assert(rollup_max(&r, &v));
		ck_assert_int_eq(v.i, pass == 0 ? INT64_MIN + N - 1 : pass == 1 ?
		    INT64_MAX : N / 2 - 1);
		ck_assert_double_eq_tol(rollup_stddev(&r),
		    sqrt(((double)N * N - 1) / 12), 1e-9);
		rollup_free(&r);
	}
	free(x);
	free(y);
}
END_TEST

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The definition, straight from the spec, on a sorted copy. */
static double
ref_percentile(const int64_t *s, size_t n, double p)
{
	double h = (double)(n - 1) * p / 100, fl = floor(h);
	size_t lo = (size_t)fl;

	if (lo >= n - 1)
		return (double)s[n - 1];
	return (double)s[lo] + (h - fl) * (double)(s[lo + 1] - s[lo]);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_f64(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Every type, folded in batches below and above ROLLUP_MERGE_BUF (merged
 * through the buffer, or by re-sorting in place), with percentiles taken
 * in between: every percentile equals that of a qsort'ed copy, and the
 * rollup holds one buffer of exactly one slot per value (8 bytes each).
 */
START_TEST(test_in_place_sort_all_types_exact)
{
	enum { N = 2300000 };
	static const enum store_type types[] = { STORE_U64, STORE_I64,
	    STORE_F64 };
	union store_value *v = malloc(N * sizeof(*v));
	union store_value *ref = malloc(N * sizeof(*ref));

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(ref);
	for (size_t t = 0; t < 3; t++) {
		struct rollup r;
		size_t off = 0, batch = 0;

		for (size_t i = 0; i < N; i++) {
			uint64_t x = rng() ^ (rng() << 32);

			switch (types[t]) {
			case STORE_U64:
				/* Wide and narrow spreads, duplicates. */
				v[i].u = i % 3 ? x : x % 1000;
				break;
			case STORE_I64:
				v[i].i = i % 5 == 0 ? INT64_MIN + (int64_t)(x % 7) :
				    i % 5 == 1 ? INT64_MAX - (int64_t)(x % 7) :
				    (int64_t)x;
				break;
			default:
				v[i].f = i % 7 == 0 ? -0.0 : i % 11 == 0 ?
				    -INFINITY : ((double)(int64_t)x) * 1e-9;
				break;
			}
			ref[i] = v[i];
		}
		if (types[t] == STORE_U64)
			qsort(ref, N, sizeof(*ref), cmp_u64);
		else if (types[t] == STORE_I64)
			qsort(ref, N, sizeof(*ref), cmp_i64);
		else
			qsort(ref, N, sizeof(*ref), cmp_f64);
		rollup_init(&r, types[t]);
		ck_assert_int_eq(rollup_reserve(&r, N), 0);
		while (off < N) {
			/* Small, just-fitting and too-large merge batches. */
			static const size_t steps[] = { 1000, ROLLUP_MERGE_BUF,
			    7, ROLLUP_MERGE_BUF + 1, 90000 };
			size_t step = steps[batch++ % 5];
			double p50;

			if (step > N - off)
				step = N - off;
			ck_assert_int_eq(rollup_fold(&r, v + off, step), 0);
			off += step;
			ck_assert_int_eq(rollup_percentile(&r, 50, &p50), 0);
		}
		ck_assert_uint_eq(r.cap, N);
		ck_assert_uint_eq(r.nsorted + r.nrun, N);
		for (double p = 0; p <= 100; p += 0.5) {
			double h = (double)(N - 1) * p / 100, want, lo, hi;
			size_t k = (size_t)h;

			if (types[t] == STORE_U64) {
				lo = (double)ref[k].u;
				hi = k + 1 < N ? (double)ref[k + 1].u : lo;
				want = lo + (h - (double)k) *
				    (k + 1 < N ? (double)(ref[k + 1].u - ref[k].u) : 0);
			} else if (types[t] == STORE_I64) {
				lo = (double)ref[k].i;
				want = lo + (h - (double)k) * (k + 1 < N ?
				    (double)((uint64_t)ref[k + 1].i -
				    (uint64_t)ref[k].i) : 0);
			} else {
				lo = ref[k].f;
				hi = k + 1 < N ? ref[k + 1].f : lo;
				want = h == (double)k ? lo : lo + (h - (double)k) *
				    (hi - lo);
			}
			(void)hi;
			ck_assert_msg(pct(&r, p) == want ||
			    (isnan(want) && isnan(pct(&r, p))),
			    "type %d p%g: %.17g != %.17g", (int)types[t], p,
			    pct(&r, p), want);
		}
		rollup_free(&r);
	}
	free(v);
	free(ref);
}
END_TEST

START_TEST(test_incremental_equals_one_shot)
{
	enum { N = 200000 };
	union store_value *v = malloc(N * sizeof(*v));
	int64_t *sorted = malloc(N * sizeof(*sorted));
	struct rollup inc, one;
	double a, b;
	size_t off = 0;
	union store_value m1, m2;

	for (size_t i = 0; i < N; i++) {
		/* Mix of small latencies, negatives and duplicates. */
		v[i].i = (int64_t)(rng() % 2000000) - 1000;
		if (i % 97 == 0)
			v[i].i = 42;
		sorted[i] = v[i].i;
	}
	qsort(sorted, N, sizeof(*sorted), cmp_i64);
	rollup_init(&inc, STORE_I64);
	rollup_init(&one, STORE_I64);
	ck_assert_int_eq(rollup_fold(&one, v, N), 0);
	while (off < N) {
		size_t step = 1 + rng() % 3000;

		if (step > N - off)
			step = N - off;
		ck_assert_int_eq(rollup_fold(&inc, v + off, step), 0);
		off += step;
		/* Ask for percentiles now and then: merges at odd moments. */
		if (rng() % 4 == 0)
			ck_assert_int_eq(rollup_percentile(&inc, 50, &a), 0);
	}
	ck_assert_uint_eq(rollup_count(&inc), N);
	ck_assert(rollup_sum_int(&inc) == rollup_sum_int(&one));
	ck_assert(rollup_min(&inc, &m1) && rollup_min(&one, &m2));
	ck_assert_int_eq(m1.i, m2.i);
	ck_assert_int_eq(m1.i, sorted[0]);
	ck_assert(rollup_max(&inc, &m1) && rollup_max(&one, &m2));
	ck_assert_int_eq(m1.i, sorted[N - 1]);
	ck_assert_double_eq_tol(rollup_mean(&inc), rollup_mean(&one), 1e-9);
	ck_assert_double_eq_tol(rollup_stddev(&inc), rollup_stddev(&one),
	    1e-9 * rollup_stddev(&one));
	for (double p = 0; p <= 100; p += 0.1) {
		double want = ref_percentile(sorted, N, p);

		a = pct(&inc, p);
		b = pct(&one, p);
		ck_assert_double_eq(a, b);
		ck_assert_double_eq(a, want);
	}
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		ck_assert_double_eq(pct(&inc, rollup_grid[i]),
		    ref_percentile(sorted, N, rollup_grid[i]));
	rollup_free(&inc);
	rollup_free(&one);
	free(v);
	free(sorted);
}
END_TEST

START_TEST(test_incremental_float_one_at_a_time)
{
	enum { N = 5000 };
	struct rollup inc, one;
	union store_value *v = malloc(N * sizeof(*v));
	double a, b;

	for (size_t i = 0; i < N; i++)
		v[i].f = ((double)(rng() % 1000000) - 500000) / 7.0;
	rollup_init(&inc, STORE_F64);
	rollup_init(&one, STORE_F64);
	for (size_t i = 0; i < N; i++) {
		ck_assert_int_eq(rollup_fold(&inc, v + i, 1), 0);
		if (i % 500 == 0)
			pct(&inc, 99);
	}
	ck_assert_int_eq(rollup_fold(&one, v, N), 0);
	for (int i = 0; i < ROLLUP_GRID_N; i++) {
		a = pct(&inc, rollup_grid[i]);
		b = pct(&one, rollup_grid[i]);
		ck_assert_double_eq(a, b);
	}
	ck_assert_double_eq_tol(rollup_mean(&inc), rollup_mean(&one), 1e-9);
	ck_assert_double_eq_tol(rollup_stddev(&inc), rollup_stddev(&one), 1e-6);
	rollup_free(&inc);
	rollup_free(&one);
	free(v);
}
END_TEST

START_TEST(test_int128_format)
{
	char buf[64];

	ck_assert_uint_eq(rollup_int128_format(0, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "0");
	rollup_int128_format(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-1");
	rollup_int128_format(-((__int128)1 << 126) * 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-170141183460469231731687303715884105728");
	ck_assert_uint_eq(rollup_int128_format(12345, buf, 5), 0);
	ck_assert_uint_eq(rollup_int128_format(12345, buf, 6), 5);
	ck_assert_str_eq(buf, "12345");
}
END_TEST

/* ---- two sorted runs: order statistics across them ---- */

/* The result's bits: equal means bit-identical, NaN and -0.0 included. */
static uint64_t
bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

/*
 * Assertions only on failure: Check reports every passing one to its
 * parent process, which would dominate these loops.
 */
static double
ostat(struct rollup *r, uint64_t k)
{
	double out = -12345;

	if (rollup_order_stat(r, k, &out) != 0)
		ck_abort_msg("rollup_order_stat rank %llu failed",
		    (unsigned long long)k);
	return out;
}

static double
pct_q(struct rollup *r, double p)
{
	double out = -12345;

	if (rollup_percentile(r, p, &out) != 0)
		ck_abort_msg("rollup_percentile p%g failed", p);
	return out;
}

static int
cmp_value(enum store_type t, const union store_value *a,
    const union store_value *b)
{
	switch (t) {
	case STORE_U64:
		return (a->u > b->u) - (a->u < b->u);
	case STORE_I64:
		return (a->i > b->i) - (a->i < b->i);
	default:
		return (a->f > b->f) - (a->f < b->f);
	}
}

static enum store_type sort_type;

static int
cmp_sort(const void *a, const void *b)
{
	return cmp_value(sort_type, a, b);
}

static double
as_double(enum store_type t, union store_value v)
{
	return t == STORE_U64 ? (double)v.u : t == STORE_I64 ? (double)v.i :
	    v.f;
}

/* Value shapes: how the new run's values sit against the main run's. */
enum shape { WIDE, DUPS, BELOW, ABOVE, EQUAL, SPECIAL, NSHAPES };

static union store_value
gen(enum store_type t, enum shape sh, bool second)
{
	uint64_t x = rng();
	union store_value v;

	switch (sh) {
	case DUPS:
		x %= 5;
		break;
	case BELOW:
	case ABOVE:
		/* Disjoint ranges: the run wholly below or above the main. */
		x = (x % 1000) + ((second == (sh == ABOVE)) ? 2000 : 0);
		break;
	case EQUAL:
		x = 42;
		break;
	default:
		break;
	}
	switch (t) {
	case STORE_U64:
		v.u = sh == WIDE && x % 4 == 0 ? UINT64_MAX - x % 3 : x;
		break;
	case STORE_I64:
		v.i = sh == WIDE ? (int64_t)x : sh == SPECIAL ?
		    (x % 3 == 0 ? INT64_MIN : x % 3 == 1 ? INT64_MAX : -1) :
		    (int64_t)x - 1000;
		break;
	default:
		if (sh == SPECIAL) {
			static const double sp[] = { -INFINITY, INFINITY, -0.0,
			    0.0, -1e308, 1e308, 5e-324, -5e-324 };

			v.f = sp[x % 8];
		} else {
			v.f = sh == WIDE ? ((double)(int64_t)x) * 1e-9 :
			    (double)x - 1000.5;
		}
		break;
	}
	return v;
}

/*
 * Fold n values, settle them as the main run, fold m more and settle
 * them as the new run (m <= n / 8 keeps them apart): every order
 * statistic and percentile of the two runs must be bit-identical to
 * those of one rollup that sorted all n + m values as one array (the
 * single-run code of before), and every order statistic must equal the
 * qsort'ed values.
 */
static void
check_two_runs(enum store_type t, enum shape sh, size_t n, size_t m)
{
	union store_value *v = malloc((n + m + 1) * sizeof(*v));
	union store_value *ref = malloc((n + m + 1) * sizeof(*ref));
	struct rollup two, one;
	double d;

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(ref);
	for (size_t i = 0; i < n + m; i++)
		ref[i] = v[i] = gen(t, sh, i >= n);
	sort_type = t;
	qsort(ref, n + m, sizeof(*ref), cmp_sort);
	rollup_init(&two, t);
	rollup_init(&one, t);
	ck_assert_int_eq(rollup_fold(&two, v, n), 0);
	if (n > 0)
		ck_assert_int_eq(rollup_percentile(&two, 50, &d), 0);
	ck_assert_int_eq(rollup_fold(&two, v + n, m), 0);
	ck_assert_int_eq(rollup_fold(&one, v, n + m), 0);
	if (n + m == 0) {
		ck_assert_int_eq(rollup_order_stat(&two, 0, &d), -ENODATA);
		ck_assert(isnan(d));
		goto out;
	}
	ck_assert_int_eq(rollup_percentile(&two, 50, &d), 0);
	ck_assert_int_eq(rollup_percentile(&one, 50, &d), 0);
	/* The layout this test is about: n settled, m in the new run. */
	ck_assert_uint_eq(two.nsorted, n);
	ck_assert_uint_eq(two.nrun, m);
	ck_assert_uint_eq(one.nrun, 0);
	for (size_t k = 0; k < n + m; k++) {
		double a = ostat(&two, k), b = ostat(&one, k);

		if (bits(a) != bits(b))
			ck_abort_msg("type %d shape %d n %zu m %zu rank %zu: "
			    "%.17g != %.17g", (int)t, (int)sh, n, m, k, a, b);
		if (a != as_double(t, ref[k]))
			ck_abort_msg("rank %zu: %.17g != %.17g", k, a,
			    as_double(t, ref[k]));
	}
	ck_assert_int_eq(rollup_order_stat(&two, n + m, &d), -EINVAL);
	for (int i = 0; i <= 400; i++) {
		double p = i / 4.0;

		if (bits(pct_q(&two, p)) != bits(pct_q(&one, p)))
			ck_abort_msg("type %d shape %d n %zu m %zu p%g: %.17g "
			    "!= %.17g", (int)t, (int)sh, n, m, p,
			    pct_q(&two, p), pct_q(&one, p));
	}
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		ck_assert(bits(pct(&two, rollup_grid[i])) ==
		    bits(pct(&one, rollup_grid[i])));
	/* Percentiles that land on each rank, and just beside it. */
	for (size_t k = 0; n + m > 1 && k < n + m; k++) {
		double p = 100.0 * (double)k / (double)(n + m - 1);

		if (bits(pct_q(&two, p)) != bits(pct_q(&one, p)))
			ck_abort_msg("n %zu m %zu p%.17g", n, m, p);
		p = nextafter(p, 0);
		if (bits(pct_q(&two, p)) != bits(pct_q(&one, p)))
			ck_abort_msg("n %zu m %zu p%.17g", n, m, p);
	}
	/* Nothing moved: asking settled nothing new. */
	ck_assert_uint_eq(two.nsorted, n);
	ck_assert_uint_eq(two.nrun, m);
out:
	rollup_free(&two);
	rollup_free(&one);
	free(v);
	free(ref);
}

START_TEST(test_two_runs_equal_one_sorted_array)
{
	static const enum store_type types[] = { STORE_U64, STORE_I64,
	    STORE_F64 };
	/* Empty runs, one value, tiny and larger, the 1/8 bound itself. */
	static const size_t sizes[][2] = { { 0, 0 }, { 1, 0 }, { 8, 1 },
	    { 9, 1 }, { 16, 2 }, { 40, 5 }, { 100, 0 }, { 100, 12 },
	    { 513, 64 }, { 1000, 125 }, { 4096, 1 }, { 4096, 512 } };

	for (size_t t = 0; t < 3; t++)
		for (int sh = 0; sh < NSHAPES; sh++)
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]);
			    s++)
				check_two_runs(types[t], (enum shape)sh,
				    sizes[s][0], sizes[s][1]);
	/* Random sizes. */
	for (int i = 0; i < 30; i++) {
		size_t n = 1 + rng() % 3000, m = rng() % (n / 8 + 1);

		check_two_runs(types[i % 3], (enum shape)(i % NSHAPES), n, m);
	}
}
END_TEST

/* A NaN in the new run poisons every order statistic, as in the main. */
START_TEST(test_two_runs_nan_poisons)
{
	double x[64], y[3] = { 1.5, NAN, -2 }, d;
	struct rollup r;

	for (int i = 0; i < 64; i++)
		x[i] = i * 0.5;
	rollup_init(&r, STORE_F64);
	fold_f(&r, x, 64);
	ck_assert(pct(&r, 50) == 15.75);
	ck_assert(ostat(&r, 0) == 0 && ostat(&r, 63) == 31.5);
	fold_f(&r, y, 3);
	ck_assert_uint_eq(rollup_count(&r), 67);
	ck_assert(isnan(pct(&r, 50)));
	ck_assert(isnan(ostat(&r, 0)));
	ck_assert(isnan(ostat(&r, 66)));
	ck_assert_int_eq(rollup_order_stat(&r, 67, &d), -EINVAL);
	rollup_reset(&r);
	ck_assert_int_eq(rollup_order_stat(&r, 0, &d), -ENODATA);
	ck_assert(isnan(d));
	fold_f(&r, x, 1);
	ck_assert(ostat(&r, 0) == 0);
	rollup_free(&r);
}
END_TEST

/*
 * A reader that folds 1% more at each refresh: the new run stays at most
 * an eighth of the main one and is merged into it from time to time, the
 * buffer stays one slot per value, and every figure at every step is
 * that of a single sorted array.
 */
START_TEST(test_two_runs_amortised_merge)
{
	enum { N0 = 20000, STEP = 200, STEPS = 60 };
	static const enum store_type types[] = { STORE_U64, STORE_F64 };
	union store_value *v = malloc((N0 + STEP * STEPS) * sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t t = 0; t < 2; t++) {
		struct rollup r;
		size_t n = N0, merges = 0, runs = 0, last_main;

		for (size_t i = 0; i < N0 + STEP * STEPS; i++)
			v[i] = gen(types[t], i % 3 ? WIDE : DUPS, false);
		rollup_init(&r, types[t]);
		ck_assert_int_eq(rollup_fold(&r, v, N0), 0);
		(void)pct(&r, 99);
		ck_assert_uint_eq(r.nsorted, N0);
		last_main = r.nsorted;
		for (int s = 0; s < STEPS; s++) {
			struct rollup one;

			ck_assert_int_eq(rollup_fold(&r, v + n, STEP), 0);
			n += STEP;
			(void)pct(&r, 90);
			ck_assert_uint_eq(r.nsorted + r.nrun, n);
			ck_assert_uint_le(r.nrun, r.nsorted / 8);
			ck_assert_uint_eq(r.npending, 0);
			merges += r.nsorted != last_main;
			runs += r.nrun > STEP;
			last_main = r.nsorted;
			if (s % 7 != 0 && s != STEPS - 1)
				continue;
			rollup_init(&one, types[t]);
			ck_assert_int_eq(rollup_fold(&one, v, n), 0);
			for (int i = 0; i < ROLLUP_GRID_N; i++)
				ck_assert(bits(pct(&r, rollup_grid[i])) ==
				    bits(pct(&one, rollup_grid[i])));
			for (size_t k = 0; k < n; k += 97)
				if (bits(ostat(&r, k)) != bits(ostat(&one, k)))
					ck_abort_msg("rank %zu", k);
			ck_assert(bits(ostat(&r, n - 1)) ==
			    bits(ostat(&one, n - 1)));
			rollup_free(&one);
		}
		/* Both happened: runs that grew, and merges into the main. */
		ck_assert_uint_gt(merges, 2);
		ck_assert_uint_gt(runs, 10);
		rollup_free(&r);
	}
	free(v);
}
END_TEST

/*
 * A sentinel (rollup_skip_value) is counted apart and left out of every
 * figure: the rollup equals one of the other values alone, bit for bit,
 * folded in any pieces; runs of sentinels at the start, middle and end;
 * a rollup of sentinels only is empty. reset and free keep the sentinel.
 */
START_TEST(test_skip_value_left_out)
{
	enum { N = 3000 };
	static const enum store_type types[] = { STORE_U64, STORE_F64 };
	union store_value *v = malloc(N * sizeof(*v));
	union store_value *kept = malloc(N * sizeof(*kept));

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(kept);
	for (size_t t = 0; t < 2; t++) {
		union store_value sent = { .u = UINT64_MAX };
		struct rollup r, one;
		size_t nk = 0, nsent = 0, off = 0;
		double d;

		if (types[t] == STORE_F64)
			sent.f = -1.0;
		for (size_t i = 0; i < N; i++) {
			/* Sentinel runs: 0..9, every 7th, a block, the end. */
			bool is_sent = i < 10 || i % 7 == 0 ||
			    (i >= 1024 && i < 1536) || i >= N - 3;

			if (is_sent) {
				v[i] = sent;
				nsent++;
				continue;
			}
			if (types[t] == STORE_U64)
				v[i].u = UINT64_MAX - 1 - rng() % 100000;
			else
				v[i].f = i % 5 == 0 ? -1.0000000000000002 :
				    (double)(rng() % 100000) / 8;
			kept[nk++] = v[i];
		}
		rollup_init(&r, types[t]);
		rollup_skip_value(&r, sent);
		rollup_init(&one, types[t]);
		ck_assert_int_eq(rollup_fold(&one, kept, nk), 0);
		while (off < N) {
			size_t step = 1 + rng() % 700;

			if (step > N - off)
				step = N - off;
			ck_assert_int_eq(rollup_fold(&r, v + off, step), 0);
			off += step;
			(void)pct(&r, 50);
		}
		ck_assert_uint_eq(rollup_count(&r), nk);
		ck_assert_uint_eq(rollup_skipped(&r), nsent);
		/* Exact for integers; compensated (not order-free) for f64. */
		ck_assert(rollup_sum_int(&r) == rollup_sum_int(&one));
		ck_assert_double_eq_tol(rollup_sum(&r), rollup_sum(&one),
		    1e-12 * fabs(rollup_sum(&one)));
		/* The mean and spread: the same up to block boundaries. */
		ck_assert_double_eq_tol(rollup_mean(&r), rollup_mean(&one),
		    1e-9 * fabs(rollup_mean(&one)));
		ck_assert_double_eq_tol(rollup_stddev(&r), rollup_stddev(&one),
		    1e-6 * rollup_stddev(&one));
		{
			union store_value a, b;

			ck_assert(rollup_min(&r, &a) && rollup_min(&one, &b));
			ck_assert_uint_eq(a.u, b.u);
			ck_assert(rollup_max(&r, &a) && rollup_max(&one, &b));
			ck_assert_uint_eq(a.u, b.u);
		}
		for (int i = 0; i <= 1000; i++)
			if (bits(pct_q(&r, i / 10.0)) != bits(pct_q(&one, i / 10.0)))
				ck_abort_msg("type %d p%g", (int)types[t], i / 10.0);
		for (size_t k = 0; k < nk; k++)
			if (bits(ostat(&r, k)) != bits(ostat(&one, k)))
				ck_abort_msg("type %d rank %zu", (int)types[t], k);
		/* Reset keeps the sentinel; sentinels only: empty. */
		rollup_reset(&r);
		ck_assert_int_eq(rollup_fold(&r, v, 10), 0);
		ck_assert_uint_eq(rollup_count(&r), 0);
		ck_assert_uint_eq(rollup_skipped(&r), 10);
		ck_assert_int_eq(rollup_percentile(&r, 50, &d), -ENODATA);
		ck_assert(!rollup_min(&r, &sent));
		rollup_free(&r);
		ck_assert_int_eq(rollup_fold(&r, v, 11), 0);
		ck_assert_uint_eq(rollup_count(&r), 1);
		ck_assert_uint_eq(rollup_skipped(&r), 10);
		rollup_free(&r);
		rollup_free(&one);
	}
	free(v);
	free(kept);
}
END_TEST

Suite *
rollup_suite(void)
{
	Suite *s = suite_create("rollup");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_percentile_single_value);
	tcase_add_test(tc, test_percentile_two_values_interpolates);
	tcase_add_test(tc, test_percentile_four_values_numpy);
	tcase_add_test(tc, test_percentile_duplicates);
	tcase_add_test(tc, test_negative_i64);
	tcase_add_test(tc, test_i64_extremes);
	tcase_add_test(tc, test_sum_exact_beyond_2_53);
	tcase_add_test(tc, test_float_series);
	tcase_add_test(tc, test_float_negative_zero_and_infinity);
	tcase_add_test(tc, test_float_nan_poisons);
	tcase_add_test(tc, test_empty_and_bad_percentiles);
	tcase_add_test(tc, test_reset_forgets_values);
	tcase_add_test(tc, test_stddev_stable_large_offset);
	tcase_add_test(tc, test_stddev_full_block_small_spread);
	tcase_add_test(tc, test_mean_small_integers_correctly_rounded);
	tcase_add_test(tc, test_stddev_float_large_offset_blocks);
	tcase_add_test(tc, test_wide_spread_blocks_exact);
	tcase_add_test(tc, test_block_edges_exact);
	tcase_add_test(tc, test_incremental_equals_one_shot);
	tcase_add_test(tc, test_in_place_sort_all_types_exact);
	tcase_add_test(tc, test_incremental_float_one_at_a_time);
	tcase_add_test(tc, test_int128_format);
	tcase_add_test(tc, test_two_runs_equal_one_sorted_array);
	tcase_add_test(tc, test_two_runs_nan_poisons);
	tcase_add_test(tc, test_two_runs_amortised_merge);
	tcase_add_test(tc, test_skip_value_left_out);
	suite_add_tcase(s, tc);
	return s;
}
