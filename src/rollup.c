/*
 * Incremental rollups: see rollup.h for the contract.
 *
 * Folding works in blocks of BLOCK values that stay in L1: one pass for
 * min/max/sum (and the copy into the pending buffer), one for the sum of
 * squared deviations about the block's own mean (the stable two-pass
 * formula), then the block is combined into the running totals with the
 * pairwise update of Chan, Golub and LeVeque. Integer blocks work on
 * deviations from the block minimum, which are exact in uint64_t, and the
 * running mean is kept relative to the first value folded, so large
 * values with a small spread (timestamps) keep their precision.
 *
 * Sorting works on "order keys": 64-bit unsigned integers that sort like
 * the values (u64 as is, i64 with the sign bit flipped, f64 with the
 * usual sign-magnitude flip). Pending values are turned into keys, radix
 * sorted, and merged back to front into the sorted array in place, so
 * only the sorted values larger than the smallest new one move.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rollup.h"

const double rollup_grid[ROLLUP_GRID_N] = { 50, 90, 95, 99, 99.9 };
const char *const rollup_grid_names[ROLLUP_GRID_N] = {
	"p50", "p90", "p95", "p99", "p99.9"
};

#define BLOCK 512
#define SIGN (UINT64_C(1) << 63)
#define SMALL_SORT 48
/* After a merge, give back a pending buffer larger than this (values). */
#define PENDING_KEEP 65536

void
rollup_init(struct rollup *r, enum store_type type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
}

void
rollup_reset(struct rollup *r)
{
	uint64_t *sorted = r->sorted, *pending = r->pending;
	size_t scap = r->sorted_cap, pcap = r->pending_cap;

	rollup_init(r, r->type);
	r->sorted = sorted;
	r->sorted_cap = scap;
	r->pending = pending;
	r->pending_cap = pcap;
}

void
rollup_free(struct rollup *r)
{
	free(r->sorted);
	free(r->pending);
	rollup_init(r, r->type);
}

int
rollup_reserve(struct rollup *r, size_t n)
{
	size_t need, cap;
	uint64_t *p;

	if (n > SIZE_MAX / sizeof(uint64_t) - r->npending)
		return -ENOMEM;
	need = r->npending + n;
	if (need <= r->pending_cap)
		return 0;
	cap = r->pending_cap < 1024 ? 1024 : r->pending_cap;
	while (cap < need)
		cap = cap > SIZE_MAX / sizeof(uint64_t) / 2 ? need : cap * 2;
	if (!(p = realloc(r->pending, cap * sizeof(uint64_t))))
		return -ENOMEM;
	r->pending = p;
	r->pending_cap = cap;
	return 0;
}

/* Fold one block's summary into the running mean and m2 (Chan et al.). */
static void
combine(struct rollup *r, uint64_t na, size_t nb, double bmean, double bm2)
{
	double delta, n;

	if (na == 0) {
		r->mean = bmean;
		r->m2 = bm2;
		return;
	}
	n = (double)na + (double)nb;
	delta = bmean - r->mean;
	r->mean += delta * ((double)nb / n);
	r->m2 += bm2 + delta * delta * ((double)na * (double)nb / n);
}

/*
 * Sum of uint64 deviations as an exact 128-bit integer: two 64-bit
 * accumulators for the halves, which cannot overflow within a block.
 */
static __int128
block_dev_stats(const union store_value *v, size_t bn, uint64_t base,
    double *m2)
{
	uint64_t lo = 0, hi = 0;
	double a0 = 0, a1 = 0, a2 = 0, a3 = 0, mean;
	__int128 sum;
	size_t i;

	for (i = 0; i < bn; i++) {
		uint64_t y = v[i].u - base;

		lo += y & 0xffffffffu;
		hi += y >> 32;
	}
	sum = ((__int128)hi << 32) + lo;
	mean = (double)sum / (double)bn;
	/* Four accumulators: independent chains the CPU can overlap. */
	for (i = 0; i + 4 <= bn; i += 4) {
		double d0 = (double)(v[i].u - base) - mean;
		double d1 = (double)(v[i + 1].u - base) - mean;
		double d2 = (double)(v[i + 2].u - base) - mean;
		double d3 = (double)(v[i + 3].u - base) - mean;

		a0 += d0 * d0;
		a1 += d1 * d1;
		a2 += d2 * d2;
		a3 += d3 * d3;
	}
	for (; i < bn; i++) {
		double d = (double)(v[i].u - base) - mean;

		a0 += d * d;
	}
	*m2 = (a0 + a1) + (a2 + a3);
	return sum;
}

static void
fold_int_block(struct rollup *r, const union store_value *v, size_t bn)
{
	union store_value mn, mx;
	uint64_t base;
	__int128 dsum, bsum, bmin;
	double m2, bmean;
	size_t i;

	mn = mx = v[0];
	if (r->type == STORE_U64) {
		for (i = 1; i < bn; i++) {
			mn.u = v[i].u < mn.u ? v[i].u : mn.u;
			mx.u = v[i].u > mx.u ? v[i].u : mx.u;
		}
		bmin = mn.u;
	} else {
		for (i = 1; i < bn; i++) {
			mn.i = v[i].i < mn.i ? v[i].i : mn.i;
			mx.i = v[i].i > mx.i ? v[i].i : mx.i;
		}
		bmin = mn.i;
	}
	memcpy(r->pending + r->npending, v, bn * sizeof(*v));
	r->npending += bn;

	/* Every value minus the block minimum is exact in uint64_t. */
	base = mn.u;
	dsum = block_dev_stats(v, bn, base, &m2);
	bsum = dsum + bmin * (__int128)bn;

	if (r->count == 0) {
		r->ishift = bmin + dsum / (__int128)bn;
		r->min = mn;
		r->max = mx;
	} else if (r->type == STORE_U64) {
		r->min.u = mn.u < r->min.u ? mn.u : r->min.u;
		r->max.u = mx.u > r->max.u ? mx.u : r->max.u;
	} else {
		r->min.i = mn.i < r->min.i ? mn.i : r->min.i;
		r->max.i = mx.i > r->max.i ? mx.i : r->max.i;
	}
	/* The block mean relative to ishift, from exact integers. */
	bmean = (double)(bsum - r->ishift * (__int128)bn) / (double)bn;
	combine(r, r->count, bn, bmean, m2);
	r->isum += bsum;
	r->count += bn;
}

/* Neumaier's compensated addition of one block sum. */
static void
fsum_add(struct rollup *r, double b)
{
	double t = r->fsum + b;

	if (fabs(r->fsum) >= fabs(b))
		r->fcomp += (r->fsum - t) + b;
	else
		r->fcomp += (b - t) + r->fsum;
	r->fsum = t;
	r->fnaive += b;
}

static void
fold_f64_block(struct rollup *r, const union store_value *v, size_t bn)
{
	double mn = INFINITY, mx = -INFINITY, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	double bmean, m2 = 0;
	size_t i, nans = 0, nb;

	for (i = 0; i + 4 <= bn; i += 4) {
		s0 += v[i].f;
		s1 += v[i + 1].f;
		s2 += v[i + 2].f;
		s3 += v[i + 3].f;
	}
	for (; i < bn; i++)
		s0 += v[i].f;
	for (i = 0; i < bn; i++) {
		double x = v[i].f;

		/* NaN compares false everywhere: it moves neither bound. */
		mn = x < mn ? x : mn;
		mx = x > mx ? x : mx;
		nans += x != x;
	}
	if (nans == 0) {
		memcpy(r->pending + r->npending, v, bn * sizeof(*v));
		r->npending += bn;
	} else {
		for (i = 0; i < bn; i++)
			if (v[i].f == v[i].f)
				memcpy(&r->pending[r->npending++], &v[i], sizeof(*v));
	}
	nb = bn - nans;
	if (nb > 0) {
		uint64_t had = r->count - r->nan_count;

		if (had == 0) {
			r->min.f = mn;
			r->max.f = mx;
		} else {
			r->min.f = mn < r->min.f ? mn : r->min.f;
			r->max.f = mx > r->max.f ? mx : r->max.f;
		}
		/* Once poisoned by a NaN the spread is never reported. */
		if (nans == 0 && r->nan_count == 0) {
			double a0 = 0, a1 = 0;

			bmean = ((s0 + s1) + (s2 + s3)) / (double)bn;
			for (i = 0; i + 2 <= bn; i += 2) {
				double d0 = v[i].f - bmean, d1 = v[i + 1].f - bmean;

				a0 += d0 * d0;
				a1 += d1 * d1;
			}
			if (i < bn) {
				double d = v[i].f - bmean;

				a0 += d * d;
			}
			m2 = a0 + a1;
			combine(r, had, nb, bmean, m2);
		}
	}
	fsum_add(r, (s0 + s1) + (s2 + s3));
	r->nan_count += nans;
	r->count += bn;
}

int
rollup_fold(struct rollup *r, const union store_value *v, size_t n)
{
	size_t off;

	if (n == 0)
		return 0;
	if (rollup_reserve(r, n) < 0)
		return -ENOMEM;
	for (off = 0; off < n; off += BLOCK) {
		size_t bn = n - off < BLOCK ? n - off : BLOCK;

		if (r->type == STORE_F64)
			fold_f64_block(r, v + off, bn);
		else
			fold_int_block(r, v + off, bn);
	}
	return 0;
}

enum store_type
rollup_type(const struct rollup *r)
{
	return r->type;
}

uint64_t
rollup_count(const struct rollup *r)
{
	return r->count;
}

uint64_t
rollup_nan_count(const struct rollup *r)
{
	return r->nan_count;
}

bool
rollup_min(const struct rollup *r, union store_value *out)
{
	if (r->count == 0)
		return false;
	if (r->nan_count > 0)
		out->f = NAN;
	else
		*out = r->min;
	return true;
}

bool
rollup_max(const struct rollup *r, union store_value *out)
{
	if (r->count == 0)
		return false;
	if (r->nan_count > 0)
		out->f = NAN;
	else
		*out = r->max;
	return true;
}

__int128
rollup_sum_int(const struct rollup *r)
{
	return r->type == STORE_F64 ? 0 : r->isum;
}

double
rollup_sum(const struct rollup *r)
{
	if (r->type != STORE_F64)
		return (double)r->isum;
	if (r->nan_count > 0)
		return NAN;
	/* Compensation is meaningless once an infinity entered the sum. */
	if (!isfinite(r->fnaive))
		return r->fnaive;
	return r->fsum + r->fcomp;
}

double
rollup_mean(const struct rollup *r)
{
	if (r->count == 0 || r->nan_count > 0)
		return NAN;
	if (r->type != STORE_F64)
		return (double)((long double)r->isum / (long double)r->count);
	return rollup_sum(r) / (double)r->count;
}

double
rollup_stddev(const struct rollup *r)
{
	if (r->count == 0 || r->nan_count > 0)
		return NAN;
	if (isnan(r->m2))
		return NAN;
	return sqrt((r->m2 > 0 ? r->m2 : 0) / (double)r->count);
}

/* ---- sorting and percentiles ---- */

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
 * LSD radix sort, 8 bits a pass, skipping the passes whose digit is the
 * same in every key (the high bytes of nanosecond latencies).
 */
static void
radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
	static const unsigned nd = 8;
	size_t (*cnt)[256], i, d;
	uint64_t *src = a, *dst = tmp, *t;

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
			cnt[d][(k >> (8 * d)) & 0xff]++;
	}
	for (d = 0; d < nd; d++) {
		size_t sum = 0, *c = cnt[d];
		unsigned shift = 8 * d;

		if (c[(src[0] >> shift) & 0xff] == n)
			continue;
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

size_t
rollup_int128_format(__int128 v, char *buf, size_t len)
{
	char tmp[48];
	size_t n = 0, i;
	unsigned __int128 m = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

	do {
		tmp[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m > 0);
	if (v < 0)
		tmp[n++] = '-';
	if (len < n + 1)
		return 0;
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}
