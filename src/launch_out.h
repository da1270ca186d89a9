/*
 * launch's own standard output and error, written without ever blocking
 * its loop: a reader of launch's output that stalls (a pipe nobody
 * reads, a paused terminal) must not freeze the timers, the signals and
 * the readiness checks. Writes that cannot go out at once wait in a
 * bounded buffer and are flushed when the descriptor is writable again;
 * what does not fit is dropped, a whole write (one prefixed line) at a
 * time, and counted.
 *
 * The descriptor launch inherited is shared with others (its parent
 * shell, COMMAND): setting O_NONBLOCK on it would change it for them
 * too. So a pipe, FIFO or terminal is reopened through /proc/self/fd,
 * which gives launch a file description of its own, non-blocking, and
 * that one takes the descriptor's number (dup2): launch's log lines
 * (log.c writes fd 2) cannot block either, and one that cannot be
 * written at once is lost. The original is kept in `saved`, for COMMAND,
 * which must get the blocking descriptor it would have had. A socket is
 * written with MSG_DONTWAIT; a regular file (which does not stall) as
 * it is. If reopening fails, writes block as before (mode OUT_BLOCKING).
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_OUT_H
#define METRICSD_LAUNCH_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define LAUNCH_OUT_CAP (256 * 1024)

enum launch_out_mode { OUT_FILE, OUT_REOPENED, OUT_SOCKET, OUT_BLOCKING };

struct launch_out {
	int fd;			/* where writes go */
	int orig;		/* the descriptor it stands for (1 or 2) */
	int saved;		/* OUT_REOPENED: the original description, or -1 */
	enum launch_out_mode mode;
	char *buf;		/* pending bytes, LAUNCH_OUT_CAP at most */
	size_t len;
	uint64_t dropped;	/* bytes dropped since open */
	uint64_t dropped_writes;
	uv_poll_t poll;
	bool poll_open, polling, broken;
};

/*
 * Set o up for descriptor fd (1 or 2) on loop. Returns 0 (the mode says
 * how), or a negative errno (out of memory) with o unusable.
 */
int launch_out_open(struct launch_out *o, uv_loop_t *loop, int fd);

/* Write p[0..n) whole, now or later, or drop it (and count it). */
void launch_out_write(struct launch_out *o, const void *p, size_t n);

/* Try once more to write what is pending (never blocks), drop the
 * rest, and close the poll handle. The descriptors stay as they are;
 * `saved` is the caller's to close. */
void launch_out_close(struct launch_out *o);

#endif
