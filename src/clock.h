/*
 * The monotonic clock, read now (not a loop's cached time). One place for
 * what used to be a private now_ms() in several files. CLOCK_MONOTONIC is
 * also what uv_hrtime() reads, so these values compare with libuv's.
 */
#ifndef METRICSD_CLOCK_H
#define METRICSD_CLOCK_H

#include <stdint.h>

/* Nanoseconds and milliseconds since an arbitrary fixed point. */
uint64_t clock_now_ns(void);
uint64_t clock_now_ms(void);

#endif
