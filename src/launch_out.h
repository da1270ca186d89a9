/*
 * launch's own standard output and error, written without ever blocking
 * its loop: a reader of launch's output that stalls (a pipe nobody
 * reads, a paused terminal, a socket whose peer does not read) must not
 * freeze the timers, the signals and the readiness checks.
 *
 * How. A regular file or block device (which does not stall) is written
 * at once, as before. Anything else (pipe, FIFO, terminal, socket, other
 * character device) is written by a thread of launch's own, which does
 * the blocking writes; the loop only appends lines to a queue in memory
 * and never waits for it. The queue holds at most LAUNCH_OUT_CAP bytes of
 * service output; a line that does not fit is dropped whole and counted.
 * Launch's own messages (log.c, through log_set_writer) go through the
 * same queue, so that they are never spliced into a half-written service
 * line; they may use LAUNCH_OUT_OWN_RESERVE bytes more, and are counted
 * apart when even that is full. When standard output and error are the
 * same file (2>&1), both go through one queue and one thread, in order.
 *
 * Why a thread, and not a non-blocking file description: O_NONBLOCK on
 * the descriptor launch inherited would change it for everyone sharing
 * it (the caller's shell, COMMAND). Reopening it through /proc/self/fd
 * gives a description of one's own, but fails with EACCES for a pipe or
 * terminal owned by another user (sudo -u, setpriv, runuser) and with
 * ENXIO for a socket. pwritev2(RWF_NOWAIT) works on a pipe but not on a
 * terminal (EOPNOTSUPP); send(MSG_DONTWAIT) only on a socket, and
 * libuv's uv_poll_init() itself sets O_NONBLOCK on the descriptor it
 * watches. A thread that may block is the one design that covers every
 * kind of file with the descriptor left exactly as it was.
 *
 * At exit. launch_out_close() gives the reader LAUNCH_OUT_LINGER_MS to
 * take what is queued; the service lines still queued after that are
 * dropped and counted (a line being written is finished first), launch's
 * own messages are kept. Messages logged after that (the drop counts and
 * the exit summary) are never refused. launch_out_end() then waits at
 * most LAUNCH_OUT_FINAL_MS for the thread to write them (not for service
 * lines: a line being written is left to finish alone); if the reader
 * still does not read, the thread is left blocked in its write and the
 * process exits with it: whatever it still held is lost, and launch has
 * exited on time.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_OUT_H
#define METRICSD_LAUNCH_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAUNCH_OUT_CAP (256 * 1024)
#define LAUNCH_OUT_OWN_RESERVE (16 * 1024)
#define LAUNCH_OUT_LINGER_MS 250
#define LAUNCH_OUT_FINAL_MS 1000

enum launch_out_mode { OUT_BROKEN, OUT_FILE, OUT_QUEUED };

struct launch_outq;		/* the queue and its thread (launch_out.c) */

struct launch_out {
	int fd;			/* 1 or 2 */
	enum launch_out_mode mode;
	struct launch_outq *q;	/* OUT_QUEUED; maybe shared with fd 1 */
	bool q_owner;		/* q is ours to end */
	bool closed;		/* launch_out_close() done */
	uint64_t dropped;	/* bytes of service output dropped */
	uint64_t dropped_writes;
	uint64_t own_dropped;	/* launch's own messages dropped (lines) */
};

/*
 * Set o up for descriptor fd (1 or 2). `prev`, if not NULL, is the other
 * descriptor's launch_out, already open: when both are the same file,
 * they share its queue. Returns 0 (the mode says how), or a negative
 * errno (out of memory, no thread) with o unusable. Call it before
 * starting anything that must not inherit a half-made state, after any
 * fork that must stay single-threaded.
 */
int launch_out_open(struct launch_out *o, int fd, struct launch_out *prev);

/* A service line: queue p[0..n) whole, or drop it (and count it). */
void launch_out_write(struct launch_out *o, const void *p, size_t n);

/*
 * One of launch's own messages (a log line): as launch_out_write() but
 * with LAUNCH_OUT_OWN_RESERVE more room, and after launch_out_close()
 * always queued. A log_set_writer() hook: arg is the struct launch_out.
 */
void launch_out_log(const char *line, size_t n, void *arg);

/*
 * Exit, first step: wait until the queue is empty or deadline_ns
 * (CLOCK_MONOTONIC, clock.h) has passed, then drop the service lines
 * still queued (counted in o->dropped). o->dropped and o->own_dropped are
 * final after this.
 */
void launch_out_close(struct launch_out *o, uint64_t deadline_ns);

/*
 * Exit, last step: wait until launch's own messages are written or
 * deadline_ns, then
 * stop the thread (joined when idle, else left blocked in its write and
 * its queue with it). Returns the bytes still queued (a line being
 * written counted whole). o is unusable
 * afterwards.
 */
size_t launch_out_end(struct launch_out *o, uint64_t deadline_ns);

#endif
