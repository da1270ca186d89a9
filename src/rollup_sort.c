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
 * Sort the pending values and merge them into the sorted keys, in the
 * one buffer (see rollup.h): a batch of up to ROLLUP_MERGE_BUF values is
 * copied aside and merged back to front, so only the sorted keys above
 * the smallest new one move; a larger batch is merged by sorting the
 * whole buffer in place, which costs no memory and is linear anyway.
 */
static int
merge_pending(struct rollup *r)
{
	size_t k = r->npending, m = r->nsorted, i, j, out;
	uint64_t *s = r->sorted, *p = s + m, *tmp;

	if (k == 0)
		return 0;
	keys_make(r->type, p, k);
	if (m == 0 || k > ROLLUP_MERGE_BUF) {
		radix_sort(s, m + k);
		goto done;
	}
	if (!(tmp = malloc(k * sizeof(uint64_t)))) {
		/* No buffer: merge by sorting in place. */
		radix_sort(s, m + k);
		goto done;
	}
	radix_sort(p, k);
	memcpy(tmp, p, k * sizeof(uint64_t));
	/* Back to front: only sorted keys above the smallest new one move. */
	i = m;
	j = k;
	out = m + k;
	while (j > 0) {
		if (i > 0 && s[i - 1] > tmp[j - 1])
			s[--out] = s[--i];
		else
			s[--out] = tmp[--j];
	}
	free(tmp);
done:
	r->nsorted = m + k;
	r->npending = 0;
	return 0;
}

int
rollup_percentile(struct rollup *r, double p, double *out)
{
	double h, fl, frac, a;
	size_t n, lo;
	int rc;

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
	if ((rc = merge_pending(r)) < 0)
		return rc;
	n = r->nsorted;
	h = (double)(n - 1) * p / 100.0;
	fl = floor(h);
	lo = (size_t)fl;
	if (lo >= n - 1) {
		*out = key_double(r->type, r->sorted[n - 1]);
		return 0;
	}
	frac = h - fl;
	a = key_double(r->type, r->sorted[lo]);
	if (frac == 0) {
		*out = a;
		return 0;
	}
	if (r->type == STORE_F64) {
		*out = a + frac * (key_double(r->type, r->sorted[lo + 1]) - a);
	} else {
		/* Order keys of integers differ exactly as the values do. */
		uint64_t diff = r->sorted[lo + 1] - r->sorted[lo];

		*out = a + frac * (double)diff;
	}
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
