/* Diagnostics on stderr, prefixed with the program and mode name. */
#ifndef METRICSD_LOG_H
#define METRICSD_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* Set the prefix, e.g. "metricsd read". */
void log_set_prefix(const char *prefix);

/*
 * Print "prefix: message". When fmt ends in ':' the current errno's
 * strerror is appended, as in sbase's eprintf.
 */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
