/*
 * The --watch loop of the reader modes (read, report): draw at once and
 * then every interval, on a libuv loop that also takes SIGINT and SIGTERM
 * (signal handlers do no work: the loop sees them), until a signal comes
 * or the draw callback says to stop.
 */
#ifndef METRICSD_WATCH_H
#define METRICSD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Run the loop: draw(arg) now and every interval_ms (at least 1) until
 * draw returns false or SIGINT/SIGTERM arrives. Returns 0, or a negative
 * libuv error with "what failed: why" in err (the loop could not start).
 */
int watch_loop(uint64_t interval_ms, bool (*draw)(void *arg), void *arg,
    char *err, size_t errlen);

#endif
