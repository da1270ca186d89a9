/*
 * Tiny timing helpers shared by the benchmarks. Every figure is printed
 * next to a baseline measured in the same run, with the ratio, so numbers
 * from different machines can be compared by their ratios.
 */
#ifndef METRICSD_BENCH_H
#define METRICSD_BENCH_H

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

/* Monotonic clock in nanoseconds. */
static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keep the compiler from optimising away a value or memory writes. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

/*
 * Print one figure against its baseline:
 *   name  1.23 ns/value vs 0.80 ns/value (baseline: what) = 1.54x [target]
 * ratio is value / baseline; target is free text (may be NULL).
 */
static inline void
bench_report(const char *name, double value, const char *unit,
    const char *baseline_what, double baseline, const char *target)
{
	printf("%-28s %10.2f %s vs %10.2f %s (baseline: %s) = %.3gx%s%s%s\n",
	    name, value, unit, baseline, unit, baseline_what,
	    baseline > 0 ? value / baseline : 0.0,
	    target ? " [target " : "", target ? target : "",
	    target ? "]" : "");
}

/* xorshift64: the same values in every run, from the seed in *state. */
static inline uint64_t
bench_rng(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#define BENCH_PATH_MAX 256
#define BENCH_STORE_PATH_MAX (BENCH_PATH_MAX + 8)	/* + "/store" */

/*
 * A fresh directory for a benchmark's store, /dev/shm/metricsd-bench-NAME.*
 * (else under /tmp): its path in tmpl, and "TMPL/store", the store
 * directory for store_writer_open(), in dir. Exits when neither can be
 * made. bench_dir_remove() removes it with everything in it.
 */
static inline void
bench_dir_make(const char *name, char tmpl[BENCH_PATH_MAX],
    char dir[BENCH_STORE_PATH_MAX])
{
	snprintf(tmpl, BENCH_PATH_MAX, "/dev/shm/metricsd-bench-%s.XXXXXX",
	    name);
	if (!mkdtemp(tmpl)) {
		snprintf(tmpl, BENCH_PATH_MAX, "/tmp/metricsd-bench-%s.XXXXXX",
		    name);
		if (!mkdtemp(tmpl)) {
			fprintf(stderr, "bench_%s: mkdtemp: %s\n", name,
			    strerror(errno));
			exit(1);
		}
	}
	snprintf(dir, BENCH_STORE_PATH_MAX, "%s/store", tmpl);
}

static inline int
bench_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
bench_dir_remove(const char *name, const char *tmpl)
{
	if (nftw(tmpl, bench_rm_entry, 8, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "bench_%s: could not remove %s\n", name, tmpl);
}

#endif
