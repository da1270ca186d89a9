/*
 * Incremental rollups over one series: count, sum, min, max, mean,
 * population standard deviation and exact percentiles.
 *
 * A reader folds in only the values appended since its last fold:
 * rollup_fold() updates the running statistics (blockwise, numerically
 * stable: Chan et al.'s pairwise update of the sum of squared deviations)
 * and appends the values to a pending buffer. Order statistics are
 * computed lazily: the first rollup_percentile() after a fold sorts only
 * the pending values (radix sort, in place) and merges them into a
 * second, small sorted run beside the main one; a percentile is then
 * read across the two runs by a selection (a bisection, O(log n) per
 * rank) that gives exactly the value a single sorted array would. The
 * new run is merged into the main one only once it holds more than an
 * eighth of it, so a scrape or redraw of a 10-million-value series that
 * grew by 1% moves the new values, not the whole series, and the main
 * run only every dozen or so refreshes (amortised).
 *
 * Memory: 8 bytes per value folded, in one buffer that holds the main
 * sorted run, the new run behind it and, behind them, the values
 * pending; sorting is in place. The only other memory is bounded: a
 * merge copies at most ROLLUP_MERGE_BUF values of the run merged aside
 * at a time; a run that would take more than a few such passes is
 * merged by re-sorting the whole buffer in place instead.
 *
 * Percentiles are those of metricsd(1), "read" (numpy's default
 * "linear" method): for sorted v[0..n-1] and p in 0..100,
 * h = (n-1)*p/100, result = v[floor(h)] + (h-floor(h)) *
 * (v[floor(h)+1] - v[floor(h)]). For integer series the difference is
 * taken exactly in integers before the conversion to double.
 *
 * Types: for STORE_U64/STORE_I64 series, min, max and sum stay integers
 * (the sum is exact, in an __int128: it cannot overflow, since fewer than
 * 2^63 values can ever be folded); mean, stddev and percentiles are
 * doubles. For STORE_F64 series everything is a double.
 *
 * NaN (F64 only): like numpy, a NaN poisons the rollup. It is counted in
 * rollup_count() and rollup_nan_count(), and from then on min, max, sum,
 * mean, stddev and every percentile are NaN. Infinities are ordinary
 * values (a percentile that lands exactly on one returns it).
 *
 * The struct is public only so that it can live on the stack or inside
 * another struct; use the functions, not the fields. Not thread-safe: one
 * rollup per thread (readers of the same store each keep their own).
 */
#ifndef METRICSD_ROLLUP_H
#define METRICSD_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The standard percentile grid of `metricsd read` and the exporters. */
#define ROLLUP_GRID_N 5
/*
 * A reader folds at most this many values of one series (2^27: 1 GiB of
 * sorted copy); a file whose count claims more is refused, so a hostile
 * or damaged count cannot exhaust memory. metricsd(1) documents it.
 */
#define ROLLUP_MAX_VALUES (UINT64_C(1) << 27)
/*
 * Largest merge buffer (values; 8 MiB), see above: a fixed bound, not
 * one per value, large enough that a reader catching up with 1% more of
 * a series of 10^8 values merges rather than re-sorts.
 */
#define ROLLUP_MERGE_BUF (1u << 20)
extern const double rollup_grid[ROLLUP_GRID_N];		/* 50 90 95 99 99.9 */
extern const char *const rollup_grid_names[ROLLUP_GRID_N]; /* "p50".."p99.9" */

struct rollup {
	enum store_type type;
	uint64_t count;		/* values folded, NaNs included */
	uint64_t nan_count;	/* NaNs among them (F64 only) */
	union store_value min, max;	/* over non-NaN values */
	__int128 isum;		/* U64/I64: exact sum */
	__int128 ishift;	/* U64/I64: first value, origin of mean/m2 */
	double fsum, fcomp;	/* F64: Neumaier-compensated sum */
	double fnaive;		/* F64: plain sum, used once it is not finite */
	double fshift;		/* F64: first value, origin of mean/m2 */
	double mean, m2;	/* over non-NaN values, minus ishift/fshift */
	/*
	 * One buffer: nsorted order keys (see rollup_sort.c), ascending
	 * (the main run); then nrun more, ascending (the new run); then
	 * npending raw bits folded but not sorted yet (no NaNs).
	 */
	uint64_t *sorted;
	size_t nsorted, npending, cap;
	size_t nrun;
	bool mapped;		/* sorted is an mmap'd region, not malloc'd */
	bool has_skip;		/* values equal to skip are left out */
	union store_value skip;
	uint64_t nskipped;	/* how many were */
};

/* Start an empty rollup for a series of the given type. Allocates nothing. */
void rollup_init(struct rollup *r, enum store_type type);

/*
 * Leave out every value whose bits equal v's: a series' "no value"
 * sentinel (the aggregator's sample-aligned series, metricsd-store(5)).
 * Such values are only counted, by rollup_skipped(); rollup_count() and
 * every figure are over the others. Set it before the first fold;
 * rollup_reset and rollup_free keep it.
 */
void rollup_skip_value(struct rollup *r, union store_value v);

/* Values left out as rollup_skip_value's sentinel (0 without one). */
uint64_t rollup_skipped(const struct rollup *r);

/*
 * Fold in n more values, in append order. Returns 0, or -ENOMEM with the
 * rollup unchanged (nothing of v folded).
 */
int rollup_fold(struct rollup *r, const union store_value *v, size_t n);

/*
 * Catch up with a series in the store: refresh the view (store.h) and fold
 * in only the values appended since the last call. Feed a rollup from one
 * view only: rollup_count() + rollup_skipped() is taken as the number
 * already folded. On
 * return *count (if not NULL) is the refreshed count, so the caller can
 * read store_view_values() below it (e.g. to print them). The pages of
 * the file folded are released (store_view_release) as it goes, so a
 * catch-up keeps only the rollup's copy resident. Returns 0; -EFBIG,
 * nothing folded, when the count is past ROLLUP_MAX_VALUES; or another
 * negative errno; err is filled ("key 'NAME': why").
 */
int rollup_fold_view(struct rollup *r, struct store_view *v, uint64_t *count,
    char *err, size_t errlen);

/*
 * Reserve room for n more values to be folded (optional; saves regrowing
 * the pending buffer when the caller knows how much is coming).
 * Returns 0 or -ENOMEM.
 */
int rollup_reserve(struct rollup *r, size_t n);

/* Drop every value, keep the type, the sentinel and the buffers. */
void rollup_reset(struct rollup *r);

/*
 * Free the buffers; the rollup is then empty, as after rollup_init (the
 * type and the sentinel kept).
 */
void rollup_free(struct rollup *r);

enum store_type rollup_type(const struct rollup *r);
uint64_t rollup_count(const struct rollup *r);
uint64_t rollup_nan_count(const struct rollup *r);

/*
 * min/max: false (and *out untouched) for an empty rollup. For F64 with a
 * NaN folded, out->f is NaN.
 */
bool rollup_min(const struct rollup *r, union store_value *out);
bool rollup_max(const struct rollup *r, union store_value *out);

/* U64/I64 only: the exact sum (0 when empty). */
__int128 rollup_sum_int(const struct rollup *r);

/* The sum as a double, for any type (0 when empty, NaN after a NaN). */
double rollup_sum(const struct rollup *r);

/* NaN when empty. */
double rollup_mean(const struct rollup *r);
double rollup_stddev(const struct rollup *r);	/* population (ddof=0) */

/*
 * The p-th percentile, p in [0, 100]. Sorts pending values first (the
 * reason r is not const). Returns 0; -EINVAL for p outside [0, 100] or
 * NaN; -ENODATA for an empty rollup (*out = NaN). After a NaN was
 * folded, returns 0 with *out = NaN. (-ENOMEM, which callers still
 * handle, is no longer returned: a merge without memory for its buffer
 * sorts in place instead.)
 */
int rollup_percentile(struct rollup *r, double p, double *out);

/* Same for n percentiles at once (out[i] for p[i]); first error wins. */
int rollup_percentiles(struct rollup *r, const double *p, double *out,
    size_t n);

/*
 * The k-th smallest value (0-based, k < rollup_count), exactly: the
 * value rollup_percentile returns where (n-1)*p/100 is exactly k, and
 * for every k (MLPerf early stopping's "sorted[n - t]"). Sorts pending
 * values first. Returns 0; -ENODATA for an empty rollup (*out = NaN);
 * -EINVAL for k out of range. After a NaN was folded, returns 0 with
 * *out = NaN.
 */
int rollup_order_stat(struct rollup *r, uint64_t k, double *out);

/*
 * Decimal text of an __int128 (as from rollup_sum_int) into buf. Returns
 * the length written (without the NUL), or 0 if len is too small
 * (41 bytes always suffice).
 */
size_t rollup_int128_format(__int128 v, char *buf, size_t len);

#endif
