/*
 * The token queue: token counting off the event loop. The loop thread
 * pushes texts (jobs) into a bounded FIFO; worker threads count them,
 * each with its own tokenizer; the loop thread takes the jobs back in the
 * order it pushed them, whatever order the workers finished them in, so
 * that what it does with the counts is what counting inline would have
 * done, value for value and in the same order.
 *
 * Threads: tokq_push, tokq_pop, tokq_room, tokq_wait, tokq_pending and
 * tokq_free are for one thread only (the owner: the event loop). Workers
 * only count: they read a job's text and write its results, and call the
 * notify hook (which must be safe from any thread: uv_async_send is).
 * A job belongs to the queue from tokq_push until tokq_pop returns it.
 *
 * The bound is the owner's to keep: before pushing, it asks tokq_room and,
 * while there is none, pops and waits (tokq_wait) for the oldest job.
 * Jobs are counted against it from push to pop. An empty queue always has
 * room, so one job larger than the bound still goes through, alone.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_TOK_QUEUE_H
#define METRICSD_TOK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tokenizer.h"

/* What a job asks for (tokq_job.want). */
enum {
	TOKQ_FULL = 1,		/* count chunks[0..n) */
	TOKQ_SUFFIX = 2		/* count chunks[from..n) */
};

struct tokq_job {
	/* The owner's, set before tokq_push and left alone until popped.
	 * want == 0: nothing to count; the job only keeps its place in
	 * the order (done as soon as pushed). */
	const struct event_str *chunks;
	size_t n, from;
	unsigned want;
	size_t bytes;		/* what the job holds, for the bound */
	/* Results, valid once popped: each count's 0 or negative errno
	 * and its value, and how many of those counts repaired invalid
	 * UTF-8 (tokenizer_repaired's increase). */
	int rc_full, rc_suffix;
	uint64_t full, suffix;
	uint64_t repaired;
	/* The queue's. */
	struct tokq_job *next, *run_next;
	bool done;
};

struct tokq_config {
	/* toks[i] is used by worker i alone, and only between its
	 * tokq_new and tokq_free. */
	struct tokenizer *const *toks;
	unsigned nthreads;		/* >= 1 */
	size_t max_bytes;		/* tokq_room's bound on bytes */
	size_t max_jobs;		/* and on jobs */
	/* From a worker, holding the queue's lock: the oldest job may be
	 * done. It must not call tokq functions; NULL: none. No call runs
	 * or starts while no job is pending. */
	void (*notify)(void *arg);
	void *arg;
};

struct tokq;

/* Start the workers. 0, or a negative errno with err filled. */
int tokq_new(struct tokq **out, const struct tokq_config *c, char *err,
    size_t errlen);

/* From now on, workers take no further job (those being counted are
 * finished); does not wait for them. */
void tokq_stop(struct tokq *q);

/*
 * Stop the workers (a job being counted is finished first) and free the
 * queue; release, when not NULL, gets every job pushed and not popped,
 * oldest first.
 */
void tokq_free(struct tokq *q, void (*release)(struct tokq_job *j));

/* May a job of `bytes` be pushed now? */
bool tokq_room(const struct tokq *q, size_t bytes);

void tokq_push(struct tokq *q, struct tokq_job *j);

/* The oldest job if it is done (it leaves the queue), else NULL. */
struct tokq_job *tokq_pop(struct tokq *q);

/*
 * Block until the oldest job is done (true; also when the queue is
 * empty), or for at most timeout_ms when that is >= 0 (false if it is
 * still not done).
 */
bool tokq_wait(struct tokq *q, int timeout_ms);

/* Jobs pushed and not popped. */
size_t tokq_pending(const struct tokq *q);

#endif
