/*
 * A synthetic benchmark session, deterministic for a given seed: what
 * `metricsd publish --synthetic N` sends, and what the benchmarks replay.
 *
 * The session is: session.started, (warm-up samples,)
 * start_performance_tracking, N samples issued by a closed loop of
 * `concurrency` workers (each sample: sample.issued with (by default)
 * 16-512 prompt token ids, sample.recv_first after a TTFT of 20-120 ms, 0-15 sample.recv_non_first
 * 5-30 ms apart, sample.complete with the chunks as a TextModelOutput; a
 * quarter of them stream some reasoning chunks first; a fraction
 * error_rate fail instead with error.client then a data-less
 * sample.complete), stop_performance_tracking, stop_loadgen,
 * session.ended. Timestamps start at 1 s on a fake monotonic clock and
 * only go forward.
 */
#ifndef METRICSD_SYNTHETIC_H
#define METRICSD_SYNTHETIC_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "synthetic_text.h"

struct synthetic_opts {
	uint64_t samples;	/* N */
	uint64_t warmup;	/* issued before tracking starts (of N) */
	unsigned concurrency;	/* >= 1 */
	uint64_t seed;
	double error_rate;	/* 0..1 */
	unsigned max_chunks;	/* 1..64 streamed chunks per sample */
	unsigned prompt_min;	/* prompt token ids per sample: uniform in */
	unsigned prompt_max;	/* prompt_min..prompt_max (at most 512) */
	/* false: issue all N samples and never complete them (an in-flight
	 * load for memory measurements), then end the session. */
	bool complete;
	/* The completion text: WORDS (a few words per chunk), or realistic
	 * text of about osl tokens per sample (uniform in 3/4..5/4 of it;
	 * 0 means 256), cut across the sample's chunks (synthetic_text.h). */
	enum synthetic_text text;
	unsigned osl;		/* 0..SYNTHETIC_OSL_MAX; 0 with WORDS */
};

#define SYNTHETIC_OPTS_DEFAULT { .samples = 100, .warmup = 0, \
	.concurrency = 8, .seed = 1, .error_rate = 0.02, .max_chunks = 16, \
	.prompt_min = 16, .prompt_max = 512, .complete = true }

struct synthetic_stats {
	uint64_t events;
	uint64_t issued;
	uint64_t completed;
	uint64_t errors;
};

/* Called once per event, in timestamp order; ev is valid during the call.
 * A negative return stops the run and is returned by synthetic_run. */
typedef int (*synthetic_emit_fn)(void *arg, const struct event *ev);

/* The session's random number generator (splitmix64): the next value of
 * the sequence whose state is *s. */
uint64_t synthetic_rand(uint64_t *s);

/* Generate the whole session. Returns 0, a callback's negative return, or
 * -ENOMEM / -EINVAL (bad options). */
int synthetic_run(const struct synthetic_opts *o, synthetic_emit_fn emit,
    void *arg, struct synthetic_stats *st);

#endif
