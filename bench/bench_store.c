/*
 * Store benchmarks, each against a baseline measured in the same run:
 *
 *  (a) series append, per value, including every growth of the file,
 *      vs appending to a private malloc'd array of the same final size
 *      through a non-inlined function (the same call, bounds check and
 *      count update a private buffer would need, minus the sharing);
 *      and the same with the space reserved first (store_series_reserve
 *      vs a pre-touched array), which isolates the append path itself.
 *  (b) a reader's snapshot of 100 keys (list the directory, open a view
 *      per key, refresh, read the counter or count, close) vs listing the
 *      directory and calling stat() on the same 100 files: the cheapest
 *      way to learn anything about each file through the kernel. Also the
 *      steady-state cost of refreshing 100 views kept open vs the same.
 *
 * Reader catch-up (fold) throughput vs memcpy is benchmarked with the
 * read mode (bench/bench_read.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "store.h"

#define APPEND_VALUES (16u << 20)	/* 128 MiB of values */
#define REPEATS 5
#define SNAP_KEYS 100
#define SNAP_ROUNDS 200

struct array {
	uint64_t *v;
	size_t n;
	size_t cap;
};

__attribute__((noinline)) static int
array_append(struct array *a, uint64_t x)
{
	if (a->n == a->cap)
		return -1;
	a->v[a->n++] = x;
	return 0;
}

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, err);
	exit(1);
}

/*
 * Steady state: space reserved up front (store_series_reserve) vs a
 * pre-touched private array, so both sides only store and publish.
 */
static double
bench_append_reserved(const char *dir, double *base)
{
	char err[STORE_ERR_MAX];
	uint64_t best = UINT64_MAX, best_base = UINT64_MAX;

	for (int r = 0; r < REPEATS; r++) {
		struct store_writer *w;
		struct store_key *k;
		struct array a;
		char name[32], p[1024];
		uint64_t t0, t1;

		a.cap = APPEND_VALUES;
		a.n = 0;
		a.v = malloc(a.cap * sizeof(*a.v));
		if (!a.v)
			die("malloc", "out of memory");
		/* Non-zero, or malloc+memset may become a lazy calloc. */
		memset(a.v, 0xff, a.cap * sizeof(*a.v));
		BENCH_KEEP(a.v);
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < APPEND_VALUES; i++)
			if (array_append(&a, i) < 0)
				die("array", "full");
		t1 = bench_now_ns();
		BENCH_KEEP(a.v);
		if (t1 - t0 < best_base)
			best_base = t1 - t0;
		free(a.v);

		if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
			die("store_writer_open", err);
		snprintf(name, sizeof(name), "reserved%d", r);
		if (store_series_create(w, name, STORE_U64, &k, err,
		    sizeof(err)) < 0)
			die("store_series_create", err);
		if (store_series_reserve(k, APPEND_VALUES) < 0)
			die("reserve", store_key_error(k));
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < APPEND_VALUES; i++)
			if (store_series_append(k,
			    (union store_value){ .u = i }) < 0)
				die("append", store_key_error(k));
		t1 = bench_now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
		store_writer_close(w, STORE_FINAL);
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		unlink(p);
	}
	*base = (double)best_base / APPEND_VALUES;
	return (double)best / APPEND_VALUES;
}

static double
bench_append(const char *dir, double *base)
{
	char err[STORE_ERR_MAX];
	uint64_t best = UINT64_MAX, best_base = UINT64_MAX;

	for (int r = 0; r < REPEATS; r++) {
		struct store_writer *w;
		struct store_key *k;
		struct array a;
		char name[32];
		uint64_t t0, t1;

		/* Baseline: fresh pages, as the store gets. */
		a.cap = APPEND_VALUES;
		a.n = 0;
		a.v = malloc(a.cap * sizeof(*a.v));
		if (!a.v)
			die("malloc", "out of memory");
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < APPEND_VALUES; i++)
			if (array_append(&a, i) < 0)
				die("array", "full");
		t1 = bench_now_ns();
		BENCH_KEEP(a.v);
		if (t1 - t0 < best_base)
			best_base = t1 - t0;
		free(a.v);

		if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
			die("store_writer_open", err);
		snprintf(name, sizeof(name), "append%d", r);
		if (store_series_create(w, name, STORE_U64, &k, err,
		    sizeof(err)) < 0)
			die("store_series_create", err);
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < APPEND_VALUES; i++)
			if (store_series_append(k,
			    (union store_value){ .u = i }) < 0)
				die("append", store_key_error(k));
		t1 = bench_now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
		store_writer_close(w, STORE_FINAL);
		/* Free the 128 MiB before the next round. */
		{
			char p[1024];

			snprintf(p, sizeof(p), "%s/%s", dir, name);
			unlink(p);
		}
	}
	*base = (double)best_base / APPEND_VALUES;
	return (double)best / APPEND_VALUES;
}

static void
snap_setup(const char *dir)
{
	struct store_writer *w;
	struct store_key *k;
	char err[STORE_ERR_MAX], name[32];

	if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
		die("store_writer_open", err);
	for (int i = 0; i < SNAP_KEYS; i++) {
		if (i % 2) {
			snprintf(name, sizeof(name), "counter_%03d", i);
			if (store_counter_create(w, name, STORE_U64, &k, err,
			    sizeof(err)) < 0)
				die("create", err);
			store_counter_add(k, (uint64_t)i);
		} else {
			snprintf(name, sizeof(name), "series_%03d", i);
			if (store_series_create(w, name, STORE_U64, &k, err,
			    sizeof(err)) < 0)
				die("create", err);
			for (int j = 0; j < 1000; j++)
				store_series_append(k,
				    (union store_value){ .u = (uint64_t)j });
		}
	}
	store_writer_close(w, STORE_FINAL);
}

/* One full snapshot: list, open, refresh, read, close. */
static uint64_t
snap_cold(const char *dir)
{
	char err[STORE_ERR_MAX], **names;
	uint64_t sum = 0, n;
	size_t nn;

	if (store_names_list(dir, &names, &nn, err, sizeof(err)) < 0)
		die("store_names_list", err);
	if (nn != SNAP_KEYS)
		die("store_names_list", "wrong number of keys");
	for (size_t i = 0; i < nn; i++) {
		struct store_view *v;

		if (store_view_open(&v, dir, names[i], err, sizeof(err)) < 0)
			die("store_view_open", err);
		if (store_view_kind(v) == STORE_COUNTER)
			sum += store_view_counter(v).u;
		else {
			if (store_view_refresh(v, &n, err, sizeof(err)) < 0)
				die("refresh", err);
			sum += n;
		}
		store_view_close(v);
	}
	store_names_free(names, nn);
	return sum;
}

/* Baseline: list the directory and stat() every entry. */
static uint64_t
stat_all(const char *dir)
{
	uint64_t sum = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		die("opendir", dir);
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			sum += (uint64_t)st.st_size;
	}
	closedir(d);
	return sum;
}

/* Baseline for warm refreshes: stat() the 100 files by name. */
static uint64_t
stat_names(const char *dir, char **names, size_t n)
{
	uint64_t sum = 0;
	char p[1024];

	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (stat(p, &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

static void
bench_snapshot(const char *dir)
{
	char err[STORE_ERR_MAX], **names;
	struct store_view *views[SNAP_KEYS];
	uint64_t t0, cold = UINT64_MAX, base = UINT64_MAX, warm = UINT64_MAX,
	    wbase = UINT64_MAX, sum = 0, n;
	size_t nn;

	snap_setup(dir);
	for (int r = 0; r < SNAP_ROUNDS; r++) {
		t0 = bench_now_ns();
		sum += snap_cold(dir);
		t0 = bench_now_ns() - t0;
		if (t0 < cold)
			cold = t0;
		t0 = bench_now_ns();
		sum += stat_all(dir);
		t0 = bench_now_ns() - t0;
		if (t0 < base)
			base = t0;
	}

	if (store_names_list(dir, &names, &nn, err, sizeof(err)) < 0)
		die("store_names_list", err);
	for (size_t i = 0; i < nn; i++)
		if (store_view_open(&views[i], dir, names[i], err,
		    sizeof(err)) < 0)
			die("store_view_open", err);
	for (int r = 0; r < SNAP_ROUNDS; r++) {
		t0 = bench_now_ns();
		for (size_t i = 0; i < nn; i++) {
			if (store_view_kind(views[i]) == STORE_COUNTER)
				sum += store_view_counter(views[i]).u;
			else if (store_view_refresh(views[i], &n, err,
			    sizeof(err)) == 0)
				sum += n;
		}
		t0 = bench_now_ns() - t0;
		if (t0 < warm)
			warm = t0;
		t0 = bench_now_ns();
		sum += stat_names(dir, names, nn);
		t0 = bench_now_ns() - t0;
		if (t0 < wbase)
			wbase = t0;
	}
	for (size_t i = 0; i < nn; i++)
		store_view_close(views[i]);
	store_names_free(names, nn);
	BENCH_KEEP(sum);

	bench_report("snapshot 100 keys (cold)", (double)cold / 1000, "us",
	    "readdir + 100 stat()", (double)base / 1000, NULL);
	bench_report("snapshot 100 keys (open)", (double)warm / 1000, "us",
	    "100 stat() by path", (double)wbase / 1000, NULL);
}

int
main(void)
{
	char tmpl[] = "/dev/shm/metricsd-bench.XXXXXX";
	char tmpl2[] = "/tmp/metricsd-bench.XXXXXX";
	char *root = mkdtemp(tmpl);
	char dir[600];
	double per, base;

	if (!root)
		root = mkdtemp(tmpl2);
	if (!root)
		die("mkdtemp", "cannot make a directory");
	printf("bench_store (store in %s)\n", root);
	snprintf(dir, sizeof(dir), "%s/append", root);
	per = bench_append(dir, &base);
	bench_report("series append (growing)", per, "ns/value",
	    "noinline append to fresh malloc'd array", base, "<= 2x");
	per = bench_append_reserved(dir, &base);
	bench_report("series append (reserved)", per, "ns/value",
	    "same, array pre-touched", base, "<= 2x");
	snprintf(dir, sizeof(dir), "%s/snap", root);
	bench_snapshot(dir);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
