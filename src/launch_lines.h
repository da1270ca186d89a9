/*
 * Split a byte stream (a service's stdout or stderr) into lines, so the
 * launcher can pass each one on with the service's name in front.
 */
#ifndef METRICSD_LAUNCH_LINES_H
#define METRICSD_LAUNCH_LINES_H

#include <stdbool.h>
#include <stddef.h>

#define LAUNCH_LINES_CAP 4096

struct launch_lines {
	char buf[LAUNCH_LINES_CAP];
	size_t len;
};

/*
 * Called once per line, without its '\n'. `whole` is false for a piece
 * of a line longer than LAUNCH_LINES_CAP, and for the unterminated tail
 * passed on by launch_lines_flush().
 */
typedef void (*launch_line_cb)(const char *line, size_t len, bool whole,
    void *arg);

void launch_lines_feed(struct launch_lines *l, const char *data, size_t n,
    launch_line_cb cb, void *arg);

/* At end of stream: pass on a partial last line, if any. */
void launch_lines_flush(struct launch_lines *l, launch_line_cb cb, void *arg);

#endif
