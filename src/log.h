/* Diagnostics on stderr, prefixed with the program and mode name. */
#ifndef METRICSD_LOG_H
#define METRICSD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set the prefix, e.g. "metricsd read". */
void log_set_prefix(const char *prefix);

/*
 * Hand every line (whole, newline included) to fn instead of writing it
 * to fd 2; fn NULL writes fd 2 again. For a mode that owns its standard
 * error (launch queues it, launch_out.h); fn must not log.
 */
void log_set_writer(void (*fn)(const char *line, size_t len, void *arg),
    void *arg);

/*
 * Print "prefix: message". When fmt ends in ':' the current errno's
 * strerror is appended, as in sbase's eprintf.
 */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * For mode mains that write their results to stdout (sbase head.c): the
 * first write error, kept across the frames of a --watch.
 */
struct log_stdout {
	bool failed;
	int errnum;		/* errno of the failed write, or 0 */
};

/* Flush stdout, noting a failure in o; returns !o->failed. */
bool log_stdout_flush(struct log_stdout *o);

/*
 * Flush and close stdout; when that or an earlier write failed, say so
 * once: "writing to standard output: No space left on device". Returns
 * 0, or -1 after a failure.
 */
int log_stdout_close(struct log_stdout *o);

/* Only mode mains call this: log, then exit(status). */
void log_fatal(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Rate limiting for messages caused by outside input (bad frames, ...):
 * at most `burst` messages per `interval_ns`; the rest are counted and
 * reported as "N similar messages suppressed" once the window reopens.
 */
struct log_ratelimit {
	uint64_t interval_ns;
	unsigned burst;
	uint64_t window_start;
	unsigned printed;
	uint64_t suppressed;
};

#define LOG_RATELIMIT_INIT(interval_ns, burst) { (interval_ns), (burst), 0, 0, 0 }

void log_ratelimited(struct log_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
