/*
 * Incremental rollups, the sorted side: percentiles (see rollup.h for the
 * contract).
 *
 * Sorting works on "order keys": 64-bit unsigned integers that sort like
 * the values (u64 as is, i64 with the sign bit flipped, f64 with the
 * usual sign-magnitude flip). Pending values are turned into keys, radix
 * sorted, and merged back to front into the sorted array in place, so
 * only the sorted values larger than the smallest new one move.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup.h"

#define SIGN (UINT64_C(1) << 63)
#define SMALL_SORT 48
/* After a merge, give back a pending buffer larger than this (values). */
#define PENDING_KEEP 65536

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
 * LSD radix sort, 8 bits a pass. Digits that are the same in every key
 * (the high bytes of nanosecond latencies) are found first, from the OR
 * and AND of all keys, and get neither a histogram nor a pass.
 */
static void
radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t (*cnt)[256], i;
	uint64_t *src = a, *dst = tmp, *t, or_all = 0, and_all = ~UINT64_C(0);
	uint64_t varying;
	unsigned digit[8], nd = 0, d;

	for (i = 0; i < n; i++) {
		or_all |= a[i];
		and_all &= a[i];
	}
	varying = or_all ^ and_all;
	for (d = 0; d < 8; d++)
		if ((varying >> (8 * d)) & 0xff)
			digit[nd++] = 8 * d;
	if (nd == 0)
		return;		/* all equal */
	cnt = calloc(nd, sizeof(*cnt));
	if (!cnt) {
		/* Fall back to an in-place sort rather than fail. */
		for (size_t gap = n / 2; gap > 0; gap /= 2)
			for (i = gap; i < n; i++)
				for (size_t j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
					uint64_t x = a[j];

					a[j] = a[j - gap];
					a[j - gap] = x;
				}
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t k = a[i];

		for (d = 0; d < nd; d++)
			cnt[d][(k >> digit[d]) & 0xff]++;
	}
	for (d = 0; d < nd; d++) {
		size_t sum = 0, *c = cnt[d];
		unsigned shift = digit[d];

		for (unsigned b = 0; b < 256; b++) {
			size_t x = c[b];

			c[b] = sum;
			sum += x;
		}
		for (i = 0; i < n; i++) {
			uint64_t k = src[i];

			dst[c[(k >> shift) & 0xff]++] = k;
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(cnt);
}

/* Sort the pending values and merge them into the sorted keys. */
static int
merge_pending(struct rollup *r)
{
	size_t k = r->npending, need, i, j, out;
	uint64_t *s, *p = r->pending, *tmp = NULL;

	if (k == 0)
		return 0;
	if (r->nsorted > SIZE_MAX / sizeof(uint64_t) - k)
		return -ENOMEM;
	need = r->nsorted + k;
	if (need > r->sorted_cap) {
		size_t cap = r->sorted_cap * 2 > need ? r->sorted_cap * 2 : need;

		if (cap > SIZE_MAX / sizeof(uint64_t))
			cap = need;
		if (!(s = realloc(r->sorted, cap * sizeof(uint64_t))))
			return -ENOMEM;
		r->sorted = s;
		r->sorted_cap = cap;
	}
	if (k > SMALL_SORT && !(tmp = malloc(k * sizeof(uint64_t))))
		return -ENOMEM;
	keys_make(r->type, p, k);
	if (tmp) {
		radix_sort(p, tmp, k);
		free(tmp);
	} else {
		insertion_sort(p, k);
	}

	/* Back to front: only sorted keys above the smallest new one move. */
	s = r->sorted;
	i = r->nsorted;
	j = k;
	out = need;
	while (j > 0) {
		if (i > 0 && s[i - 1] > p[j - 1])
			s[--out] = s[--i];
		else
			s[--out] = p[--j];
	}
	r->nsorted = need;
	r->npending = 0;
	if (r->pending_cap > PENDING_KEEP) {
		free(r->pending);
		r->pending = NULL;
		r->pending_cap = 0;
	}
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
