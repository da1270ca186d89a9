/*
 * bench_read: what a reader of the store costs, each figure against a
 * baseline measured in the same run.
 *
 * 1. Catch-up throughput: refresh a store view and fold the newly
 *    appended values into a rollup (running stats + copy to the pending
 *    buffer), against memcpy of the same bytes. Target: >= 50% of memcpy.
 *    Measured warm (a reader that keeps its buffers, as --watch does)
 *    and cold (a fresh reader: allocation and page faults included, with
 *    memcpy into a fresh buffer as its baseline), and as 100 catch-ups
 *    of 1% each while the writer appends.
 * 2. The percentile grid after 1% new values on a 10M series: the
 *    incremental sort-and-merge against a full re-sort of every value
 *    (the same radix sort; qsort shown for reference).
 * 3. What the store follower (store_follow.c, behind read and serve)
 *    adds: a refresh after 1% new values (stat, refresh, fold, grid)
 *    against the same work done on a view and a rollup directly.
 *
 * Usage: bench_read [N]   (default 10000000 values)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "rollup.h"
#include "store.h"
#include "store_follow.h"

#define REPS 7

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	return bench_rng(&rng_state);
}

/* Something like request latencies in ns: 50 us .. ~20 ms, skewed. */
static union store_value
sample(enum store_type t)
{
	uint64_t a = rng() % 4000000, b = rng() % 16000000;
	union store_value v;

	v.u = 50000 + (a < b ? a : b) + (rng() % 1000 == 0 ? b : 0);
	if (t == STORE_I64)
		v.i = (int64_t)v.u - 1000000;
	else if (t == STORE_F64)
		v.f = (double)v.u / 1e6;
	return v;
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_read: %s: %s\n", what, err);
	exit(1);
}

static volatile uint64_t sink;

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static const char *
tname(enum store_type t)
{
	return t == STORE_U64 ? "u64" : t == STORE_I64 ? "i64" : "f64";
}

/* Part 1 for one type. */
static void
catch_up(const char *dir, const char *key, enum store_type t, size_t n)
{
	char err[STORE_ERR_MAX];
	struct store_view *v;
	const union store_value *vals;
	struct rollup r;
	uint64_t count;
	double best_fold = 1e9, best_cold = 1e9, best_cpy = 1e9, best_ccpy = 1e9;
	double t0, gb = (double)n * 8 / 1e9;
	void *dst;

	if (store_view_open(&v, dir, key, err, sizeof(err)) < 0)
		die("store_view_open", err);
	if (store_view_refresh(v, &count, err, sizeof(err)) < 0)
		die("store_view_refresh", err);
	if (count < n)
		die("store_view_refresh", "short series");
	vals = store_view_values(v);

	/*
	 * Each repetition times the baseline and the fold back to back, so
	 * that both see the same machine (others may be busy on it); the
	 * best of REPS is kept for each.
	 * Warm: memcpy into a buffer already written, against a reader that
	 * keeps its buffers across catch-ups (rollup_reset). Cold: memcpy
	 * into a fresh malloc, against a fresh rollup.
	 */
	if (!(dst = malloc(n * 8)))
		die("malloc", strerror(errno));
	memset(dst, 1, n * 8);
	rollup_init(&r, t);
	if (rollup_fold(&r, vals, n) < 0)
		die("rollup_fold", "out of memory");
	for (int i = 0; i < REPS; i++) {
		t0 = now();
		memcpy(dst, vals, n * 8);
		t0 = now() - t0;
		sink += ((uint64_t *)dst)[n / 2];
		best_cpy = t0 < best_cpy ? t0 : best_cpy;

		rollup_reset(&r);
		t0 = now();
		if (store_view_refresh(v, &count, err, sizeof(err)) < 0)
			die("store_view_refresh", err);
		if (rollup_fold(&r, store_view_values(v), n) < 0)
			die("rollup_fold", "out of memory");
		t0 = now() - t0;
		best_fold = t0 < best_fold ? t0 : best_fold;
	}
	sink += (uint64_t)rollup_mean(&r);
	rollup_free(&r);
	free(dst);

	for (int i = 0; i < REPS; i++) {
		void *fresh;

		t0 = now();
		if (!(fresh = malloc(n * 8)))
			die("malloc", strerror(errno));
		memcpy(fresh, vals, n * 8);
		t0 = now() - t0;
		sink += ((uint64_t *)fresh)[n / 2];
		free(fresh);
		best_ccpy = t0 < best_ccpy ? t0 : best_ccpy;

		rollup_init(&r, t);
		t0 = now();
		if (store_view_refresh(v, &count, err, sizeof(err)) < 0)
			die("store_view_refresh", err);
		if (rollup_fold(&r, store_view_values(v), n) < 0)
			die("rollup_fold", "out of memory");
		t0 = now() - t0;
		sink += (uint64_t)rollup_mean(&r);
		rollup_free(&r);
		best_cold = t0 < best_cold ? t0 : best_cold;
	}
	printf("catch-up %s, %zu values: fold %.1f M values/s (%.2f GB/s) vs "
	    "memcpy %.2f GB/s: ratio %.2f (target >= 0.50)\n", tname(t), n,
	    n / best_fold / 1e6, gb / best_fold, gb / best_cpy,
	    best_cpy / best_fold);
	printf("catch-up %s, cold reader: fold %.2f GB/s vs memcpy into a "
	    "fresh buffer %.2f GB/s: ratio %.2f\n", tname(t), gb / best_cold,
	    gb / best_ccpy, best_ccpy / best_cold);
	store_view_close(v);
}

/* 100 catch-ups of 1% each while the writer appends. */
static void
catch_up_chunks(struct store_writer *w, const char *dir, size_t n)
{
	char err[STORE_ERR_MAX];
	struct store_key *k;
	struct store_view *v;
	struct rollup r;
	uint64_t count;
	double fold = 0, cpy = 0, t0;
	size_t chunk = n / 100, done = 0;
	uint64_t *dst = malloc(n * 8);

	/* Both destinations start cold: page faults on both sides. */
	if (!dst)
		die("malloc", strerror(errno));
	if (store_series_create(w, "chunks", STORE_U64, &k, err, sizeof(err)) < 0)
		die("store_series_create", err);
	if (store_view_open(&v, dir, "chunks", err, sizeof(err)) < 0)
		die("store_view_open", err);
	rollup_init(&r, STORE_U64);
	if (rollup_reserve(&r, n) < 0)
		die("rollup_reserve", "out of memory");
	for (int round = 0; round < 100; round++) {
		const union store_value *vals;
		uint64_t touch = 0;

		for (size_t i = 0; i < chunk; i++)
			if (store_series_append(k, sample(STORE_U64)) < 0)
				die("store_series_append", store_key_error(k));
		t0 = now();
		if (store_view_refresh(v, &count, err, sizeof(err)) < 0)
			die("store_view_refresh", err);
		fold += now() - t0;
		vals = store_view_values(v);
		/*
		 * Fault the new part of the reader's mapping in first, so that
		 * neither side pays for it; both destinations start cold.
		 */
		for (size_t i = done; i < count; i += 512)
			touch += vals[i].u;
		sink += touch;
		t0 = now();
		if (rollup_fold(&r, vals + done, count - done) < 0)
			die("rollup_fold", "out of memory");
		fold += now() - t0;
		t0 = now();
		memcpy(dst + done, vals + done, (count - done) * 8);
		cpy += now() - t0;
		done = count;
	}
	sink += dst[done / 2] + (uint64_t)rollup_mean(&r);
	printf("catch-up u64 in 100 steps of 1%% (refresh + fold, cold "
	    "buffers): %.1f M values/s vs memcpy of each step: ratio %.2f\n",
	    done / fold / 1e6, cpy / fold);
	rollup_free(&r);
	store_view_close(v);
	free(dst);
}

/* Part 2: percentile grid after 1% new values vs a full re-sort. */
static void
grid_after_append(const union store_value *vals, size_t n)
{
	size_t extra = n / 100;
	double out[ROLLUP_GRID_N], t0, inc = 1e9, full = 1e9, qs, fold_new = 1e9;
	struct rollup r;
	uint64_t *copy;

	for (int rep = 0; rep < 3; rep++) {
		rollup_init(&r, STORE_U64);
		if (rollup_fold(&r, vals, n) < 0 ||
		    rollup_percentiles(&r, rollup_grid, out, ROLLUP_GRID_N) < 0)
			die("rollup", "out of memory");
		t0 = now();
		if (rollup_fold(&r, vals + n, extra) < 0)
			die("rollup_fold", "out of memory");
		t0 = now() - t0;
		fold_new = t0 < fold_new ? t0 : fold_new;
		t0 = now();
		if (rollup_percentiles(&r, rollup_grid, out, ROLLUP_GRID_N) < 0)
			die("rollup_percentiles", "out of memory");
		t0 = now() - t0;
		inc = t0 < inc ? t0 : inc;
		sink += (uint64_t)out[2];
		rollup_free(&r);

		rollup_init(&r, STORE_U64);
		if (rollup_fold(&r, vals, n + extra) < 0)
			die("rollup_fold", "out of memory");
		t0 = now();
		if (rollup_percentiles(&r, rollup_grid, out, ROLLUP_GRID_N) < 0)
			die("rollup_percentiles", "out of memory");
		t0 = now() - t0;
		full = t0 < full ? t0 : full;
		sink += (uint64_t)out[2];
		rollup_free(&r);
	}
	if (!(copy = malloc((n + extra) * 8)))
		die("malloc", strerror(errno));
	memcpy(copy, vals, (n + extra) * 8);
	t0 = now();
	qsort(copy, n + extra, 8, cmp_u64);
	qs = now() - t0;
	sink += copy[n / 2];
	free(copy);
	printf("percentile grid after +1%% (%zu new on %zu): incremental "
	    "%.2f ms (+ fold %.2f ms) vs full re-sort %.1f ms: %.0fx faster "
	    "(qsort of all: %.0f ms)\n", extra, n, inc * 1e3, fold_new * 1e3,
	    full * 1e3, full / inc, qs * 1e3);
}

/* Part 3: the follower against a bare view and rollup, +1% a round. */
static void
follow_after_append(struct store_writer *w, const char *dir, size_t n)
{
	static const char *const keys[] = { "follow" };
	char err[STORE_ERR_MAX];
	const struct store_snap *snap;
	struct store_follow *f;
	struct store_key *k;
	struct store_view *v;
	struct rollup r;
	double out[ROLLUP_GRID_N], t0, tf = 1e9, td = 1e9;
	size_t extra = n / 100;

	if (store_series_create(w, keys[0], STORE_U64, &k, err,
	    sizeof(err)) < 0)
		die("store_series_create", err);
	for (size_t i = 0; i < n; i++)
		if (store_series_append(k, sample(STORE_U64)) < 0)
			die("store_series_append", store_key_error(k));
	if (store_follow_open(&f, dir, NULL, NULL) < 0)
		die("store_follow_open", "out of memory");
	if (store_view_open(&v, dir, keys[0], err, sizeof(err)) < 0)
		die("store_view_open", err);
	rollup_init(&r, STORE_U64);
	if (store_follow_refresh(f, keys, 1, &snap) < 0 ||
	    rollup_fold_view(&r, v, NULL, err, sizeof(err)) < 0 ||
	    rollup_percentiles(&r, rollup_grid, out, ROLLUP_GRID_N) < 0)
		die("first read", "out of memory");
	for (int rep = 0; rep < REPS; rep++) {
		for (size_t i = 0; i < extra; i++)
			if (store_series_append(k, sample(STORE_U64)) < 0)
				die("store_series_append", store_key_error(k));
		/* Alternate which goes first: the second finds pages cached. */
		for (int side = 0; side < 2; side++) {
			if ((side ^ rep) & 1) {
				t0 = now();
				if (store_follow_refresh(f, keys, 1, &snap) < 0 ||
				    snap->keys[0].state != STORE_SNAP_OK)
					die("store_follow_refresh", "failed");
				t0 = now() - t0;
				tf = t0 < tf ? t0 : tf;
				sink += (uint64_t)snap->keys[0].series.q[2];
			} else {
				t0 = now();
				if (rollup_fold_view(&r, v, NULL, err,
				    sizeof(err)) < 0 ||
				    rollup_percentiles(&r, rollup_grid, out,
				    ROLLUP_GRID_N) < 0)
					die("rollup", err);
				t0 = now() - t0;
				td = t0 < td ? t0 : td;
				sink += (uint64_t)out[2];
			}
		}
	}
	printf("follower refresh after +1%% (%zu new on %zu): %.2f ms vs a "
	    "view and a rollup directly %.2f ms: ratio %.2f\n", extra, n,
	    tf * 1e3, td * 1e3, tf / td);
	rollup_free(&r);
	store_view_close(v);
	store_follow_free(f);
}

int
main(int argc, char **argv)
{
	char tmpl[BENCH_PATH_MAX], dir[BENCH_STORE_PATH_MAX];
	char err[STORE_ERR_MAX];
	static const enum store_type types[] = { STORE_U64, STORE_I64, STORE_F64 };
	static const char *const keys[] = { "lat_u64", "lat_i64", "lat_f64" };
	struct store_writer *w;
	struct store_view *v;
	uint64_t count;
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;

	if (n < 1000)
		n = 1000;
	bench_dir_make("read", tmpl, dir);
	if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
		die("store_writer_open", err);
	for (int t = 0; t < 3; t++) {
		struct store_key *k;
		size_t total = n + (t == 0 ? n / 100 : 0);

		if (store_series_create(w, keys[t], types[t], &k, err,
		    sizeof(err)) < 0)
			die("store_series_create", err);
		for (size_t i = 0; i < total; i++)
			if (store_series_append(k, sample(types[t])) < 0)
				die("store_series_append", store_key_error(k));
	}
	printf("bench_read: reader costs on %s\n", dir);
	for (int t = 0; t < 3; t++)
		catch_up(dir, keys[t], types[t], n);
	catch_up_chunks(w, dir, n);

	if (store_view_open(&v, dir, keys[0], err, sizeof(err)) < 0 ||
	    store_view_refresh(v, &count, err, sizeof(err)) < 0)
		die("store_view", err);
	grid_after_append(store_view_values(v), n);
	store_view_close(v);
	follow_after_append(w, dir, n);

	store_writer_close(w, STORE_FINAL);
	bench_dir_remove("read", tmpl);
	return sink == 42 ? 1 : 0;
}
