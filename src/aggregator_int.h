/*
 * The metric engine's state, shared by its two files: aggregator.c (the
 * events, windows and keys) and aggregator_tokens.c (the values that
 * depend on token counts, counted inline or on the token queue's
 * workers). Not an interface: aggregator.h is.
 */
#ifndef METRICSD_AGGREGATOR_INT_H
#define METRICSD_AGGREGATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregator.h"
#include "inflight.h"
#include "tok_queue.h"

/* ---- Tracked blocks ---- */

/*
 * One tracking window and the samples issued in it. Its duration runs
 * from start to the latest completion of its own samples. A block lives
 * while its window is open or any of its samples is in flight; then its
 * duration can no longer change and is folded into done_ns.
 */
struct block {
	int64_t start;
	int64_t end;		/* latest completion; valid if has_end */
	bool has_end;
	bool open;
	uint64_t refs;		/* rows pointing here */
	struct block *prev, *next;
};

/* At most this many samples wait for token counts (each record holds at
 * least ~150 bytes, texts aside). */
#define TOKEN_QUEUE_JOBS (1u << 18)

/* Row flags (struct inflight_row.flags). */
enum {
	ROW_HAS_FIRST = 1,	/* recv_first seen */
	ROW_HAS_LAST = 2,	/* some receive seen */
	ROW_LAST_ISSUED = 4	/* the last-issued tracked sample */
};

struct aggregator {
	struct aggregator_config cfg;
	struct aggregator_sink sink;
	uint64_t c[METRIC_KEY_COUNT];	/* counters (series unused) */

	bool started;
	int64_t start_ts;
	bool ended;

	struct inflight t;		/* tracked samples in flight */
	struct block *current;		/* open window, or NULL */
	struct block *live;		/* every live block */
	uint64_t done_ns;		/* durations of released blocks */

	struct event_str *chunks;	/* scratch for token counting */
	size_t chunks_cap;
	uint64_t repaired;		/* the tokenizer's repaired count */

	/* Token counting on worker threads (NULL: inline), and the
	 * tokenizers the workers beyond the first opened for themselves. */
	struct tokq *q;
	struct tokenizer **wtok;
	unsigned nwtok;

	/* The LoadGen window: the uuid of the last-issued tracked sample
	 * (its row carries ROW_LAST_ISSUED while in flight). */
	char *last_uuid;
	size_t last_len, last_cap;
	uint64_t last_hash;
	bool any_tracked_issue;

	/* finish_reason names seen, by slot. */
	char reasons[AGGREGATOR_MAX_FINISH_REASONS]
	    [AGGREGATOR_FINISH_REASON_MAX_LEN + 1];
	uint64_t reason_count[AGGREGATOR_MAX_FINISH_REASONS];
	unsigned nreasons;
};

/* ---- Writing values ---- */

static inline void
counter_put(struct aggregator *a, enum metric_key k, uint64_t v)
{
	a->c[k] = v;
	a->sink.counter_set(a->sink.arg, k, (union store_value){ .u = v });
}

static inline void
counter_inc(struct aggregator *a, enum metric_key k)
{
	counter_put(a, k, a->c[k] + 1);
}

static inline void
counter_add(struct aggregator *a, enum metric_key k, uint64_t n)
{
	if (n)
		counter_put(a, k, a->c[k] + n);
}

static inline void
series_put(struct aggregator *a, enum metric_key k, union store_value v)
{
	if (a->sink.series_append(a->sink.arg, k, v) < 0)
		counter_inc(a, METRIC_SERIES_APPEND_ERRORS);
}

/* Append b - a to a nanosecond series, or count it if negative. */
static inline void
interval_put(struct aggregator *a, enum metric_key k, int64_t from, int64_t to)
{
	if (to < from) {
		counter_inc(a, METRIC_NEGATIVE_INTERVALS);
		return;
	}
	/* Unsigned subtraction: exact for to >= from, never overflows. */
	series_put(a, k, (union store_value){ .u = (uint64_t)to -
	    (uint64_t)from });
}

/* ---- Token counts (aggregator_tokens.c) ---- */

/* What a completion's count-dependent values need besides the counts. */
struct complete_vals {
	int64_t ts, first, issued;
	bool has_first;
	bool text;		/* TextModelOutput, counted with a tokenizer */
};

/* An isl value: from token ids (known), or the count of a prompt text. */
void tokens_isl_take(struct aggregator *a, bool known, uint64_t n,
    const struct event_str *text);
/* A completion's values that depend on its counts. */
void tokens_complete_take(struct aggregator *a, const struct event *ev,
    const struct complete_vals *v);
/* Start the token queue's workers (cfg.token_threads of them). */
int tokens_start(struct aggregator *a, char *err, size_t errlen);
/* Stop the workers and free what token counting holds. */
void tokens_free(struct aggregator *a);

#endif
