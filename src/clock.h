/*
 * The clocks, read now (not a loop's cached time). One place for what
 * used to be a private now_ms() or realtime_ns() in several files.
 * CLOCK_MONOTONIC is also what uv_hrtime() reads, so those values compare
 * with libuv's.
 */
#ifndef METRICSD_CLOCK_H
#define METRICSD_CLOCK_H

#include <stdint.h>

/* Nanoseconds and milliseconds since an arbitrary fixed point. */
uint64_t clock_now_ns(void);
uint64_t clock_now_ms(void);
/* Nanoseconds since the Unix epoch (wall-clock time, for people). */
uint64_t clock_realtime_ns(void);

#endif
