/*
 * Tiny timing helpers shared by the benchmarks. Every figure is printed
 * next to a baseline measured in the same run, with the ratio, so numbers
 * from different machines can be compared by their ratios.
 */
#ifndef METRICSD_BENCH_H
#define METRICSD_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

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

#endif
