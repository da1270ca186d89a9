/*
 * Incremental rollups, the sorted side: percentiles (see rollup.h for the
 * contract).
 *
 * Sorting works on "order keys": 64-bit unsigned integers that sort like
 * the values (u64 as is, i64 with the sign bit flipped, f64 with the
 * usual sign-magnitude flip), in place in the rollup's one buffer, and
 * back again (key_double) only for the few keys a percentile reads.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup.h"

#define SIGN (UINT64_C(1) << 63)
#define SMALL_SORT 48

static void
keys_make(enum store_type t, uint64_t *a, size_t n)
{
	size_t i;

	if (t == STORE_I64) {
		for (i = 0; i < n; i++)
			a[i] ^= SIGN;
	} else if (t == STORE_F64) {
		for (i = 0; i < n; i++)
			a[i] = (a[i] & SIGN) ? ~a[i] : a[i] | SIGN;
	}
}

static double
key_double(enum store_type t, uint64_t k)
{
	double d;

	switch (t) {
	case STORE_I64:
		return (double)(int64_t)(k ^ SIGN);
	case STORE_F64:
		k = (k & SIGN) ? k ^ SIGN : ~k;
		memcpy(&d, &k, sizeof(d));
		return d;
	default:
		return (double)k;
	}
}

static void
insertion_sort(uint64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = a[i];
		size_t j = i;

		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/*
 * In-place MSD radix sort (McIlroy, Bostic and McIlroy's "American flag
 * sort"), 8 bits a level, from the highest digit that varies among the
 * keys: no second buffer, so a sort costs no memory beyond the keys and
 * one histogram per level on the stack (at most 8 levels, 4 KiB each).
 * A level whose keys all share the digit is skipped without moving
 * anything, so the constant high bytes of nanosecond latencies cost one
 * counting pass each, not a permutation.
 */
static void
flag_sort(uint64_t *a, size_t n, int shift)
{
	size_t cnt[256], head[256], tail[256], i, sum;
	unsigned b;

	for (;;) {
		if (n <= SMALL_SORT) {
			insertion_sort(a, n);
			return;
		}
		if (shift < 0)
			return;		/* all digits equal */
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 0xff]++;
		if (cnt[(a[0] >> shift) & 0xff] != n)
			break;
		shift -= 8;		/* one bucket: the next digit */
	}
	for (sum = 0, b = 0; b < 256; b++) {
		head[b] = sum;
		sum += cnt[b];
		tail[b] = sum;
	}
	/*
	 * Cycle leader permutation: each misplaced key is carried to the
	 * next free slot of its bucket, picking up the key it displaces.
	 */
	for (b = 0; b < 256; b++) {
		while (head[b] < tail[b]) {
			uint64_t k = a[head[b]];
			unsigned d = (unsigned)(k >> shift) & 0xff;

			while (d != b) {
				uint64_t t = a[head[d]];

				a[head[d]++] = k;
				k = t;
				d = (unsigned)(k >> shift) & 0xff;
			}
			a[head[b]++] = k;
		}
	}
	if (shift == 0)
		return;
	for (sum = 0, b = 0; b < 256; b++) {
		if (cnt[b] > 1)
			flag_sort(a + sum, cnt[b], shift - 8);
		sum += cnt[b];
	}
}

static void
radix_sort(uint64_t *a, size_t n)
{
	uint64_t or_all = 0, and_all = ~UINT64_C(0), varying;
	int shift;

	for (size_t i = 0; i < n; i++) {
		or_all |= a[i];
		and_all &= a[i];
	}
	varying = or_all ^ and_all;
	if (varying == 0)
		return;		/* all equal */
	for (shift = 56; ((varying >> shift) & 0xff) == 0; shift -= 8)
		;
	flag_sort(a, n, shift);
}

/*
 * Merge the adjacent sorted runs s[0..m) and s[m..m+k) in place. The
 * second run is merged in chunks of at most ROLLUP_MERGE_BUF keys, each
 * copied aside and merged back to front, so only keys above the chunk's
 * smallest move; each chunk costs one pass over what is below it. Past
 * MERGE_PASSES chunks (or without memory for one) the whole is sorted
 * again in place instead, which costs no memory.
 */
#define MERGE_PASSES 4

static void
merge_runs(uint64_t *s, size_t m, size_t k)
{
	size_t chunk = k < ROLLUP_MERGE_BUF ? k : ROLLUP_MERGE_BUF;
	uint64_t *tmp;

	if (k == 0 || m == 0 || s[m - 1] <= s[m])
		return;		/* already in order */
	if ((k + chunk - 1) / chunk > MERGE_PASSES ||
	    !(tmp = malloc(chunk * sizeof(uint64_t)))) {
		radix_sort(s, m + k);
		return;
	}
	while (k > 0) {
		size_t c = k < chunk ? k : chunk, i = m, j = c, out = m + c;

		/* s[0..m) and s[m..m+c) into s[0..m+c). */
		memcpy(tmp, s + m, c * sizeof(uint64_t));
		while (j > 0) {
			if (i > 0 && s[i - 1] > tmp[j - 1])
				s[--out] = s[--i];
			else
				s[--out] = tmp[--j];
		}
		m += c;
		k -= c;
	}
	free(tmp);
}

/*
 * Bring the buffer to two sorted runs (see rollup.h): sort the pending
 * values alone and merge them into the new run (the main run when there
 * is none yet); then, once the new run holds more than 1/2^RUN_SHIFT of
 * the main one, merge it into the main run. A reader that folds 1% more
 * at each refresh thus moves the small new run at each refresh and the
 * whole main run only every dozen or so, instead of at every one.
 */
#define RUN_SHIFT 3

static void
settle(struct rollup *r)
{
	size_t k = r->npending;
	uint64_t *p = r->sorted + r->nsorted + r->nrun;

	if (k > 0) {
		keys_make(r->type, p, k);
		radix_sort(p, k);
		merge_runs(r->sorted + r->nsorted, r->nrun, k);
		r->nrun += k;
		r->npending = 0;
	}
	if (r->nsorted == 0 || r->nrun > r->nsorted >> RUN_SHIFT) {
		merge_runs(r->sorted, r->nsorted, r->nrun);
		r->nsorted += r->nrun;
		r->nrun = 0;
	}
}

/*
 * The keys of rank k and k + 1 (0-based; *next only if k + 1 < n) among
 * the n = na + nb keys of the sorted runs a and b, as if they were
 * merged: the smallest k + 1 are a[0..i) and b[0..k+1-i) for a split i
 * with a[i-1] <= b[k+1-i] and b[k-i] <= a[i]. The test a[i] < b[k-i]
 * holds for every i below the first such split and fails from it on, so
 * a bisection on it finds that split in O(log min(k, na)) steps. Equal
 * keys are equal values, so which run a tie is taken from does not
 * matter.
 */
static void
select2(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
    size_t k, uint64_t *at, uint64_t *next)
{
	size_t lo = k + 1 > nb ? k + 1 - nb : 0, hi = k + 1 < na ? k + 1 : na;
	size_t i, j;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < b[k - mid])
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	j = k + 1 - i;
	if (i == 0)
		*at = b[j - 1];
	else if (j == 0)
		*at = a[i - 1];
	else
		*at = a[i - 1] > b[j - 1] ? a[i - 1] : b[j - 1];
	if (k + 1 >= na + nb)
		return;
	if (i == na)
		*next = b[j];
	else if (j == nb)
		*next = a[i];
	else
		*next = a[i] < b[j] ? a[i] : b[j];
}

/* The keys of rank k and k + 1 (when there is one) of the settled values. */
static void
keys_at(const struct rollup *r, size_t k, uint64_t *at, uint64_t *next)
{
	const uint64_t *s = r->sorted;

	if (r->nrun == 0) {
		*at = s[k];
		if (k + 1 < r->nsorted)
			*next = s[k + 1];
		return;
	}
	select2(s, r->nsorted, s + r->nsorted, r->nrun, k, at, next);
}

int
rollup_percentile(struct rollup *r, double p, double *out)
{
	double h, fl, frac, a;
	uint64_t klo, khi = 0;
	size_t n, lo;

	if (!(p >= 0 && p <= 100))
		return -EINVAL;
	if (r->count == 0) {
		*out = NAN;
		return -ENODATA;
	}
	if (r->nan_count > 0) {
		*out = NAN;
		return 0;
	}
	settle(r);
	n = r->nsorted + r->nrun;
	h = (double)(n - 1) * p / 100.0;
	fl = floor(h);
	lo = (size_t)fl;
	if (lo >= n - 1) {
		keys_at(r, n - 1, &klo, &khi);
		*out = key_double(r->type, klo);
		return 0;
	}
	frac = h - fl;
	keys_at(r, lo, &klo, &khi);
	a = key_double(r->type, klo);
	if (frac == 0) {
		*out = a;
		return 0;
	}
	if (r->type == STORE_F64) {
		*out = a + frac * (key_double(r->type, khi) - a);
	} else {
		/* Order keys of integers differ exactly as the values do. */
		*out = a + frac * (double)(khi - klo);
	}
	return 0;
}

int
rollup_order_stat(struct rollup *r, uint64_t k, double *out)
{
	uint64_t at, next;

	if (r->count == 0) {
		*out = NAN;
		return -ENODATA;
	}
	if (k >= r->count)
		return -EINVAL;
	if (r->nan_count > 0) {
		*out = NAN;
		return 0;
	}
	settle(r);
	keys_at(r, (size_t)k, &at, &next);
	*out = key_double(r->type, at);
	return 0;
}

int
rollup_percentiles(struct rollup *r, const double *p, double *out, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		int e = rollup_percentile(r, p[i], &out[i]);

		if (e < 0 && rc == 0)
			rc = e;
	}
	return rc;
}
