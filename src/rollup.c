/*
 * Incremental rollups: see rollup.h for the contract.
 *
 * Folding works in blocks of BLOCK values that stay in L1: one pass for
 * min/max/sum (and the copy behind the sorted values, pending a merge), one for the sum of
 * squared deviations about the block's own mean (the stable two-pass
 * formula), then the block is combined into the running totals with the
 * pairwise update of Chan, Golub and LeVeque. Integer blocks work on
 * deviations from the block minimum, which are exact in uint64_t, and the
 * running mean is kept relative to the first value folded, so large
 * values with a small spread (timestamps) keep their precision.
 *
 * Sorting and percentiles are in rollup_sort.c.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "rollup.h"

const double rollup_grid[ROLLUP_GRID_N] = { 50, 90, 95, 99, 99.9 };
const char *const rollup_grid_names[ROLLUP_GRID_N] = {
	"p50", "p90", "p95", "p99", "p99.9"
};

#define BLOCK 512
#define SIGN (UINT64_C(1) << 63)

void
rollup_init(struct rollup *r, enum store_type type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
}

void
rollup_skip_value(struct rollup *r, union store_value v)
{
	r->has_skip = true;
	r->skip = v;
}

uint64_t
rollup_skipped(const struct rollup *r)
{
	return r->nskipped;
}

/* Empty again, keeping the type and the sentinel. */
static void
clear(struct rollup *r)
{
	bool has_skip = r->has_skip;
	union store_value skip = r->skip;

	rollup_init(r, r->type);
	r->has_skip = has_skip;
	r->skip = skip;
}

void
rollup_reset(struct rollup *r)
{
	uint64_t *sorted = r->sorted;
	size_t cap = r->cap;
	bool mapped = r->mapped;

	clear(r);
	r->sorted = sorted;
	r->cap = cap;
	r->mapped = mapped;
}

void
rollup_free(struct rollup *r)
{
	if (r->mapped)
		munmap(r->sorted, r->cap * sizeof(uint64_t));
	else
		free(r->sorted);
	clear(r);
}

/*
 * Buffers from this size on are mappings of their own, grown with
 * mremap: never copied, whatever malloc's heuristics (glibc raises its
 * mmap threshold each time a large block is freed, after which a large
 * realloc is a copy of the whole sorted array).
 */
#define MAP_MIN (UINT64_C(1) << 16)

/*
 * The buffer grows to exactly what is needed the first time (a reader
 * catching up with a whole series knows its size), then doubles: pages
 * of the slack are never touched until used, so they cost address space,
 * not memory, and a large buffer grows by mremap, not by a copy.
 */
int
rollup_reserve(struct rollup *r, size_t n)
{
	size_t have = r->nsorted + r->nrun + r->npending, need, cap;
	uint64_t *p;

	if (n > SIZE_MAX / sizeof(uint64_t) - have)
		return -ENOMEM;
	need = have + n;
	if (need <= r->cap)
		return 0;
	cap = r->cap == 0 ? need : r->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / sizeof(uint64_t) / 2 ? need : cap * 2;
	if (cap * sizeof(uint64_t) < MAP_MIN) {
		if (!(p = realloc(r->sorted, cap * sizeof(uint64_t))))
			return -ENOMEM;
	} else if (r->mapped) {
		p = mremap(r->sorted, r->cap * sizeof(uint64_t),
		    cap * sizeof(uint64_t), MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return -ENOMEM;
	} else {
		p = mmap(NULL, cap * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		if (have > 0)
			memcpy(p, r->sorted, have * sizeof(uint64_t));
		free(r->sorted);
		r->mapped = true;
	}
	r->sorted = p;
	r->cap = cap;
	return 0;
}

/* Where the next folded value goes: behind the pending ones. */
static inline uint64_t *
pend_end(struct rollup *r)
{
	return r->sorted + r->nsorted + r->nrun + r->npending;
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

/*
 * The block's contribution, once its summary is known: copy to pending,
 * bounds, exact sum, and the spread (m2 is about the block's own mean).
 */
static void
int_commit(struct rollup *r, const union store_value *v, size_t bn,
    union store_value mn, union store_value mx, __int128 bsum, double m2,
    bool copied)
{
	double bmean;

	if (!copied)
		memcpy(pend_end(r), v, bn * sizeof(*v));
	r->npending += bn;
	if (r->count == 0) {
		r->ishift = bsum / (__int128)bn;
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

/* Any block: scalar, exact for any spread of values. */
static void
fold_int_block(struct rollup *r, const union store_value *v, size_t bn)
{
	union store_value mn, mx;
	__int128 dsum, bmin;
	double m2;
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
	/* Every value minus the block minimum is exact in uint64_t. */
	dsum = block_dev_stats(v, bn, mn.u, &m2);
	int_commit(r, v, bn, mn, mx, dsum + bmin * (__int128)bn, m2, false);
}

/*
 * Fast paths for whole blocks, in GCC vector extensions (SSE2 on x86-64,
 * NEON on arm64, scalar code elsewhere): this is what keeps a reader's
 * catch-up near memory speed.
 *
 * Integers work on u = x (u64) or u = x ^ 2^63 (i64), which orders and
 * subtracts the same way. y = u - base, with base chosen from the
 * block's first value so that [base, base + 2^52) never wraps, is exact
 * as a double by the 2^52 trick while y < 2^52; OR-ing the y together
 * tells whether they all were, and if one was not the block takes the
 * scalar path instead. min and max are taken on those exact doubles and
 * mapped back; the sum of y is exact in uint64_t (512 * 2^52 < 2^64).
 */
typedef uint64_t u64v __attribute__((vector_size(16)));
typedef int64_t i64v __attribute__((vector_size(16)));
typedef double f64v __attribute__((vector_size(16)));
#define VL 2	/* lanes; loops take two vectors a step for overlap */
#define MAGIC UINT64_C(0x4330000000000000)	/* the bits of 2^52 */
#define MAGIC_F 0x1p52
#define WINDOW (UINT64_C(1) << 52)

static inline u64v
load_u(const union store_value *p)
{
	u64v x;

	memcpy(&x, p, sizeof(x));
	return x;
}

static inline f64v
load_f(const union store_value *p)
{
	f64v x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* Lane-wise min and max; callers keep NaNs away from them. */
static inline f64v
vmin(f64v a, f64v b)
{
#ifdef __SSE2__
	return _mm_min_pd(a, b);
#else
	i64v m = a < b;

	return (f64v)(((i64v)a & m) | ((i64v)b & ~m));
#endif
}

static inline f64v
vmax(f64v a, f64v b)
{
#ifdef __SSE2__
	return _mm_max_pd(a, b);
#else
	i64v m = a > b;

	return (f64v)(((i64v)a & m) | ((i64v)b & ~m));
#endif
}

/*
 * The copy into the pending buffer: streaming stores where the buffer is
 * aligned for them, so that the copy costs what memcpy's does (no
 * read-for-ownership of lines that are about to be overwritten).
 * rollup_fold ends with a fence.
 */
static inline void
put(uint64_t *dst, u64v x, bool nt)
{
#ifdef __SSE2__
	if (nt) {
		_mm_stream_si128((__m128i *)(void *)dst, (__m128i)x);
		return;
	}
#endif
	(void)nt;
	memcpy(dst, &x, sizeof(x));
}

/* y < 2^52 as an exact double. */
static inline f64v
exact_double(u64v y)
{
	return (f64v)(y | MAGIC) - MAGIC_F;
}

static inline __attribute__((always_inline)) bool
int_block_fast(struct rollup *r, const union store_value *v, size_t bn,
    const uint64_t flip)
{
	uint64_t u0 = v[0].u ^ flip, base;
	u64v ysum = { 0 }, ysum2 = { 0 }, bad = { 0 };
	f64v lo = { INFINITY, INFINITY }, hi = -lo, lo2 = lo, hi2 = hi;
	f64v a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	f64v dv[BLOCK / VL];	/* the block as exact doubles, for pass 2 */
	union store_value mn, mx;
	uint64_t ys;
	double dlo, dhi;
	size_t i;

	uint64_t *dst = pend_end(r);
	const bool nt = ((uintptr_t)dst & 15) == 0;

	/* A window of 2^52 around the first value, clamped not to wrap. */
	base = u0 < WINDOW / 2 ? 0 : u0 > UINT64_MAX - WINDOW ?
	    UINT64_MAX - WINDOW + 1 : u0 - WINDOW / 2;
	for (i = 0; i < bn; i += 2 * VL) {
		u64v p = load_u(v + i), q = load_u(v + i + VL);
		u64v y = (p ^ flip) - base, z = (q ^ flip) - base;
		f64v dy = exact_double(y), dz = exact_double(z);

		put(dst + i, p, nt);
		put(dst + i + VL, q, nt);
		bad |= y | z;
		lo = vmin(dy, lo);
		hi = vmax(dy, hi);
		lo2 = vmin(dz, lo2);
		hi2 = vmax(dz, hi2);
		ysum += y;
		ysum2 += z;
		dv[i / VL] = dy;
		dv[i / VL + 1] = dz;
	}
	if (((bad[0] | bad[1]) >> 52) != 0)
		return false;
	ysum += ysum2;
	ys = ysum[0] + ysum[1];
	lo = vmin(lo, lo2);
	hi = vmax(hi, hi2);
	dlo = lo[0] < lo[1] ? lo[0] : lo[1];
	dhi = hi[0] > hi[1] ? hi[0] : hi[1];
	mn.u = (base + (uint64_t)dlo) ^ flip;
	mx.u = (base + (uint64_t)dhi) ^ flip;
	/*
	 * Second pass, from L1: squared deviations about the block mean.
	 * The y sit near 2^51, where a double holds the mean only to 0.5:
	 * subtract its integer part first (exact, both are integers below
	 * 2^52), then its fraction.
	 */
	{
		const double bq = (double)(ys / bn);
		const double bf = (double)(ys % bn) / (double)bn;

		for (i = 0; i < bn / VL; i += 4) {
			f64v e = (dv[i] - bq) - bf, g = (dv[i + 1] - bq) - bf;
			f64v h = (dv[i + 2] - bq) - bf, k = (dv[i + 3] - bq) - bf;

			a += e * e;
			b += g * g;
			c += h * h;
			d += k * k;
		}
	}
	a = (a + b) + (c + d);
	/* The true sum: bn * base + sum(y), less bn * 2^63 for i64. */
	int_commit(r, v, bn, mn, mx, (__int128)base * (__int128)bn +
	    (__int128)ys - (flip ? (__int128)bn << 63 : 0), a[0] + a[1], true);
	return true;
}

static bool
fold_int_block_fast(struct rollup *r, const union store_value *v, size_t bn)
{
	if (r->type == STORE_I64)
		return int_block_fast(r, v, bn, SIGN);
	return int_block_fast(r, v, bn, 0);
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
		memcpy(pend_end(r), v, bn * sizeof(*v));
		r->npending += bn;
	} else {
		for (i = 0; i < bn; i++) {
			if (v[i].f == v[i].f) {
				memcpy(pend_end(r), &v[i], sizeof(*v));
				r->npending++;
			}
		}
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
			double a0 = 0, a1 = 0, sh, rs = 0;

			/* Means about the first value (see fold_f64_block_fast). */
			if (had == 0)
				r->fshift = v[0].f;
			sh = r->fshift;
			for (i = 0; i < bn; i++)
				rs += v[i].f - sh;
			bmean = rs / (double)bn;
			for (i = 0; i + 2 <= bn; i += 2) {
				double d0 = (v[i].f - sh) - bmean;
				double d1 = (v[i + 1].f - sh) - bmean;

				a0 += d0 * d0;
				a1 += d1 * d1;
			}
			if (i < bn) {
				double d = (v[i].f - sh) - bmean;

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

/*
 * Floats: one pass for bounds, sums and NaN check, one for the spread.
 * Block means are taken about the first value folded (fshift), like the
 * integers' ishift: combining blocks subtracts means, and means of values
 * near 1e12 with a spread of 100 would lose that spread to rounding.
 */
static bool
fold_f64_block_fast(struct rollup *r, const union store_value *v, size_t bn)
{
	f64v lo = { INFINITY, INFINITY }, hi = -lo, lo2 = lo, hi2 = hi;
	f64v s = { 0 }, s2 = { 0 }, s3 = { 0 }, s4 = { 0 };
	f64v rs = { 0 }, rs2 = { 0 };
	f64v a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	double dlo, dhi, sum, rsum, bm;
	uint64_t had = r->count - r->nan_count;
	uint64_t *dst = pend_end(r);
	const bool nt = ((uintptr_t)dst & 15) == 0;
	const double sh = had == 0 ? v[0].f : r->fshift;
	size_t i;

	for (i = 0; i < bn; i += 4 * VL) {
		f64v x = load_f(v + i), y = load_f(v + i + VL);
		f64v z = load_f(v + i + 2 * VL), w = load_f(v + i + 3 * VL);

		put(dst + i, (u64v)x, nt);
		put(dst + i + VL, (u64v)y, nt);
		put(dst + i + 2 * VL, (u64v)z, nt);
		put(dst + i + 3 * VL, (u64v)w, nt);
		lo = vmin(vmin(x, z), lo);
		hi = vmax(vmax(x, z), hi);
		lo2 = vmin(vmin(y, w), lo2);
		hi2 = vmax(vmax(y, w), hi2);
		s += x;
		s2 += y;
		s3 += z;
		s4 += w;
		rs += (x - sh) + (z - sh);
		rs2 += (y - sh) + (w - sh);
	}
	s = (s + s2) + (s3 + s4);
	sum = s[0] + s[1];
	rs += rs2;
	rsum = rs[0] + rs[1];
	/*
	 * A NaN makes the sum NaN (so does inf - inf): either way the
	 * scalar path, which sorts NaNs out, takes the block instead.
	 */
	if (sum != sum || rsum != rsum)
		return false;
	lo = vmin(lo, lo2);
	hi = vmax(hi, hi2);
	dlo = lo[0] < lo[1] ? lo[0] : lo[1];
	dhi = hi[0] > hi[1] ? hi[0] : hi[1];
	r->npending += bn;
	if (had == 0) {
		r->min.f = dlo;
		r->max.f = dhi;
	} else {
		r->min.f = dlo < r->min.f ? dlo : r->min.f;
		r->max.f = dhi > r->max.f ? dhi : r->max.f;
	}
	if (r->nan_count == 0) {
		if (had == 0)
			r->fshift = sh;
		bm = rsum / (double)bn;
		for (i = 0; i < bn; i += 4 * VL) {
			f64v e = (load_f(v + i) - sh) - bm;
			f64v g = (load_f(v + i + VL) - sh) - bm;
			f64v h = (load_f(v + i + 2 * VL) - sh) - bm;
			f64v k = (load_f(v + i + 3 * VL) - sh) - bm;

			a += e * e;
			b += g * g;
			c += h * h;
			d += k * k;
		}
		a = (a + b) + (c + d);
		combine(r, had, bn, bm, a[0] + a[1]);
	}
	fsum_add(r, sum);
	r->count += bn;
	return true;
}

/* Fold n values, all of them, block by block. */
static void
fold_all(struct rollup *r, const union store_value *v, size_t n)
{
	for (size_t off = 0; off < n; off += BLOCK) {
		size_t bn = n - off < BLOCK ? n - off : BLOCK;

		/* Whole blocks take the vector paths when they can. */
		if (r->type == STORE_F64) {
			if (bn != BLOCK || !fold_f64_block_fast(r, v + off, bn))
				fold_f64_block(r, v + off, bn);
		} else {
			if (bn != BLOCK || !fold_int_block_fast(r, v + off, bn))
				fold_int_block(r, v + off, bn);
		}
	}
}

int
rollup_fold(struct rollup *r, const union store_value *v, size_t n)
{
	if (n == 0)
		return 0;
	if (rollup_reserve(r, n) < 0)
		return -ENOMEM;
	if (!r->has_skip) {
		fold_all(r, v, n);
	} else {
		/* The stretches between sentinels, each folded as it is. */
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i; j < n && v[j].u != r->skip.u; j++)
				;
			fold_all(r, v + i, j - i);
			for (; j < n && v[j].u == r->skip.u; j++)
				r->nskipped++;
		}
	}
#ifdef __SSE2__
	_mm_sfence();	/* order the streaming stores before what follows */
#endif
	return 0;
}

/* Values folded between two releases of the view's pages (16 MiB). */
#define FOLD_CHUNK (UINT64_C(1) << 21)

int
rollup_fold_view(struct rollup *r, struct store_view *v, uint64_t *count,
    char *err, size_t errlen)
{
	uint64_t n, have = r->count + r->nskipped, at;
	const union store_value *vals;
	int rc;

	if ((rc = store_view_refresh(v, &n, err, errlen)) < 0)
		return rc;
	if (count)
		*count = n;
	if (n <= have)
		return 0;
	if (n > ROLLUP_MAX_VALUES) {
		snprintf(err, errlen, "key '%s': %llu values, more than a "
		    "reader handles (%llu); skipped", store_view_name(v),
		    (unsigned long long)n,
		    (unsigned long long)ROLLUP_MAX_VALUES);
		return -EFBIG;
	}
	if (rollup_reserve(r, (size_t)(n - have)) < 0)
		goto nomem;
	/*
	 * In chunks, each one's pages of the file given back once folded:
	 * the copy is all this reader keeps, so the mapping must not stay
	 * resident beside it (it would double the memory of a catch-up).
	 */
	vals = store_view_values(v);
	for (at = have; at < n; ) {
		uint64_t m = n - at < FOLD_CHUNK ? n - at : FOLD_CHUNK;

		if (rollup_fold(r, vals + at, (size_t)m) < 0)
			goto nomem;
		store_view_release(v, at, at + m);
		at += m;
	}
	return 0;
nomem:
	snprintf(err, errlen, "key '%s': out of memory folding %llu values",
	    store_view_name(v), (unsigned long long)(n - have));
	return -ENOMEM;
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
	if (r->type != STORE_F64) {
		const __int128 exact = (__int128)1 << 53;
		__int128 q, rem;

		/* Both exact as doubles: one correctly rounded division. */
		if (r->isum >= -exact && r->isum <= exact && r->count <= exact)
			return (double)r->isum / (double)r->count;
		/* Quotient and remainder: within an ulp or so. */
		q = r->isum / (__int128)r->count;
		rem = r->isum % (__int128)r->count;
		return (double)q + (double)rem / (double)r->count;
	}
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
