/*
 * The metric engine: folds events into the counters and series of the
 * reference aggregator, value for value (each key is described in
 * metricsd(1), "metricsd aggregate"; the choices where the reference
 * leaves room in README, "Wire format and metrics"), and writes them
 * through a sink so that tests use memory and `metricsd aggregate` uses
 * the store. It knows no wire format: a producer feeds it events
 * (aggregator_wire.c decodes frames for it).
 *
 * Memory is bounded by the samples in flight: a tracked sample holds one
 * row from its `sample.issued` to its `sample.complete`, and a tracking
 * block is freed once it is closed and its last sample completed. One
 * in-flight sample costs an 80-byte row plus a 4-byte index slot at a load
 * of at most 1/2 (88 bytes, about 100-180 with growth slack), plus a heap
 * copy of its uuid when that is longer than 37 bytes (see inflight.h; the
 * decoder refuses uuids over 256 bytes).
 *
 * Timestamps all come from the publisher's clock; the engine never reads
 * a clock of its own. Nanosecond series are unsigned: a difference that
 * comes out negative (a publisher whose timestamps go backwards) is not
 * stored, and counted in negative_intervals instead.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_AGGREGATOR_H
#define METRICSD_AGGREGATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "store.h"
#include "tokenizer.h"

/* Every key the engine writes. Names and types: metric_key_info(). */
enum metric_key {
	/* Counters of the reference aggregator. */
	METRIC_TOTAL_SAMPLES_ISSUED = 0,
	METRIC_TOTAL_SAMPLES_COMPLETED,
	METRIC_TOTAL_SAMPLES_FAILED,
	METRIC_TRACKED_SAMPLES_ISSUED,
	METRIC_TRACKED_SAMPLES_COMPLETED,
	METRIC_TRACKED_DURATION_NS,
	METRIC_TOTAL_DURATION_NS,
	/* Counters about the input and the engine itself. */
	METRIC_DECODE_ERRORS,		/* all decode errors below, summed */
	METRIC_DECODE_MALFORMED,	/* frames that are not MessagePack */
	METRIC_DECODE_BAD_RECORDS,	/* records of the wrong shape */
	METRIC_DECODE_UNKNOWN_EVENTS,	/* unknown event_type */
	METRIC_DECODE_FIELD_TYPES,	/* a key with the wrong type */
	METRIC_DECODE_ABSURD_SIZES,	/* over a size or nesting limit */
	METRIC_EVENTS_WITHOUT_TIMESTAMP,/* no timestamp_ns: ignored */
	METRIC_EMPTY_UUID_EVENTS,	/* sample.* with sample_uuid "" */
	METRIC_DUPLICATE_ISSUED,	/* issued for a sample in flight */
	METRIC_NEGATIVE_INTERVALS,	/* differences < 0: not stored */
	METRIC_EVENTS_AFTER_END,	/* events, or whole frames, fed after
					   session.ended (the rest of the
					   ending batch is not even decoded) */
	METRIC_IN_FLIGHT_OVERFLOW,	/* issued but not tracked: table full */
	METRIC_TOKENIZER_ERRORS,	/* token counts that failed: lost */
	METRIC_TOKENIZER_INVALID_UTF8,	/* texts counted with invalid UTF-8
					   read as U+FFFD */
	METRIC_SERIES_APPEND_ERRORS,	/* the sink refused a value */
	METRIC_SAMPLES_IN_FLIGHT,	/* rows in the in-flight table now */
	/* Counters for `metricsd report` (additions; see metricsd-store(5)). */
	METRIC_LOADGEN_FIRST_ISSUED_TS,	/* I64: first tracked sample.issued */
	METRIC_LOADGEN_LAST_ISSUED_COMPLETE_TS,	/* I64: its complete ts */
	METRIC_LOADGEN_LAST_ISSUED_DONE,	/* 1: the last-issued tracked
					   sample completed (the ts above
					   is valid); 0 while it is not */
	METRIC_FINISH_REASONS_DROPPED,	/* finish reasons over the cap */
	METRIC_TOKEN_WORK_PENDING,	/* events (issued: isl; complete:
					   osl, tpot...) whose count-
					   dependent values are not stored
					   yet (token threads); in a closed
					   store: work abandoned, those
					   values missing */
	/* Series. */
	METRIC_SAMPLE_LATENCY_NS,
	METRIC_ISL,
	METRIC_OSL,
	METRIC_TTFT_NS,			/* --streaming only */
	METRIC_CHUNK_DELTA_NS,		/* --streaming only */
	METRIC_TPOT_NS,			/* --streaming only, float64 */
	METRIC_TPOT_E2E_NS,		/* --streaming only, float64 */
	/* Aligned by sample: one value each at every tracked
	 * sample.complete, index i of each is the same sample. */
	METRIC_SAMPLE_GOOD_LATENCY_NS,	/* U64; AGGREGATOR_NO_VALUE: none */
	METRIC_SAMPLE_GOOD_TTFT_NS,	/* U64, --streaming only; NO_VALUE */
	METRIC_SAMPLE_GOOD_TPOT_E2E_NS,	/* F64, --streaming only; -1: none */
	METRIC_KEY_COUNT
};

struct metric_key_info {
	const char *name;		/* the store key name */
	enum store_kind kind;
	enum store_type type;
	bool streaming_only;		/* exists only with --streaming */
};

const struct metric_key_info *metric_key_info(enum metric_key k);

/*
 * Where values go. counter_set gets the full new value of a counter;
 * series_append one new value (returns 0 or a negative errno; failures are
 * counted in series_append_errors, which is written with counter_set).
 * Keys are always ones with aggregator_key_enabled() true.
 */
struct aggregator_sink {
	void *arg;
	void (*counter_set)(void *arg, enum metric_key k, union store_value v);
	int (*series_append)(void *arg, enum metric_key k, union store_value v);
	/*
	 * Optional (NULL: finish reasons are not recorded). Set the U64
	 * counter named `name` (a valid key, AGGREGATOR_FINISH_REASON_PREFIX
	 * then a sanitized reason), creating it at its first call; slot is
	 * its index, 0..AGGREGATOR_MAX_FINISH_REASONS - 1, stable for the
	 * name. Returns 0 or a negative errno (counted in
	 * series_append_errors).
	 */
	int (*named_counter_set)(void *arg, unsigned slot, const char *name,
	    uint64_t v);
};

/* "No value" in the aligned U64 series sample_good_*_ns. */
#define AGGREGATOR_NO_VALUE UINT64_MAX

/*
 * finish_reason counts: a counter per distinct reason seen at a tracked
 * sample.complete, "finish_reason_" + the reason sanitized (bytes other
 * than a-z 0-9 _ become '_', A-Z lowered, cut to 32 bytes; "" is
 * "empty"). At most 16 distinct names; reasons beyond are counted in
 * finish_reasons_dropped.
 */
#define AGGREGATOR_FINISH_REASON_PREFIX "finish_reason_"
#define AGGREGATOR_FINISH_REASON_MAX_LEN 32
#define AGGREGATOR_MAX_FINISH_REASONS 16

/* Sanitize a reason into out (>= AGGREGATOR_FINISH_REASON_MAX_LEN + 1). */
void aggregator_finish_reason_name(const char *reason, size_t len,
    char *out);

struct aggregator_config {
	bool streaming;			/* --streaming */
	const struct tokenizer *tok;	/* NULL: no text-based token counts */
	size_t max_in_flight;		/* 0: AGGREGATOR_MAX_IN_FLIGHT */
	/*
	 * Token counting (with tok): 0 counts inline, on the caller's
	 * thread; N >= 1 on N worker threads (see "Token threads" below).
	 * Worker i counts with token_toks[i] (the caller's, used by that
	 * worker alone until aggregator_free; token_toks[0] may be tok);
	 * token_toks NULL: the first worker uses tok itself, each further
	 * one a clone of tok the engine makes (tokenizer_clone: the tables
	 * shared, the caches its own).
	 */
	unsigned token_threads;
	struct tokenizer *const *token_toks;
	size_t token_queue_bytes;	/* 0: AGGREGATOR_TOKEN_QUEUE_BYTES */
	/* Called from a worker thread when counts may be ready to apply
	 * (aggregator_tokens_apply); must be thread-safe (uv_async_send
	 * is). NULL: the caller polls. */
	void (*token_notify)(void *arg);
	void *token_notify_arg;
};

#define AGGREGATOR_MAX_IN_FLIGHT (1u << 22)
#define AGGREGATOR_MAX_TOKEN_THREADS 64
#define AGGREGATOR_TOKEN_QUEUE_BYTES ((size_t)256 << 20)

/* Does this key exist under this configuration? Create exactly these. */
bool aggregator_key_enabled(enum metric_key k,
    const struct aggregator_config *cfg);

struct aggregator;

/*
 * The sink must already have every enabled key, counters at 0. The
 * config's tokenizer must outlive the aggregator, and with token_threads
 * it belongs to the first worker until aggregator_free. Fails (err
 * filled) when a worker's tokenizer cannot be cloned or a thread does
 * not start.
 */
int aggregator_new(struct aggregator **out,
    const struct aggregator_config *cfg, const struct aggregator_sink *sink,
    char *err, size_t errlen);
void aggregator_free(struct aggregator *a);

/* Return value of the feed functions once session.ended was seen. */
#define AGGREGATOR_ENDED 1

/*
 * Process one decoded event, in input order. Returns AGGREGATOR_ENDED
 * once the session has ended (the event was session.ended, or came after
 * it and was only counted in events_after_end), else 0: a producer that
 * gets AGGREGATOR_ENDED drops the rest of its input.
 */
int aggregator_event_feed(struct aggregator *a, const struct event *ev);

/*
 * Call before the events of one input frame. Once the session has ended,
 * counts the whole frame as one in events_after_end and returns
 * AGGREGATOR_ENDED: the frame is then not to be decoded. Else 0.
 */
int aggregator_frame_begin(struct aggregator *a);

/*
 * Records the input refused, by class, as a decoder counted it (the
 * engine knows no wire format): each class is added to its decode_* key
 * and the sum to decode_errors.
 */
struct aggregator_decode_errors {
	uint64_t malformed;		/* not the format at all */
	uint64_t bad_records;		/* records of the wrong shape */
	uint64_t unknown_events;	/* unknown event_type */
	uint64_t field_types;		/* a key with the wrong type */
	uint64_t absurd_sizes;		/* over a size or nesting limit */
};

void aggregator_decode_errors_count(struct aggregator *a,
    const struct aggregator_decode_errors *e);

/*
 * Write the final tracked_duration_ns (session.ended does this itself; a
 * signal handler path calls it before closing the store).
 */
void aggregator_finish(struct aggregator *a);

/*
 * Token threads. The engine hands each text to count, with what it needs
 * to compute the values that depend on the count, to a bounded queue
 * (tok_queue.h) and goes on; the values are stored once the counts are
 * back, in event order, so the store ends up exactly as with inline
 * counting. token_work_pending tells how many events' values still wait
 * (a sample.issued's isl, a sample.complete's osl, tpot_ns...).
 * When the queue is full (token_queue_bytes of texts), the feed functions
 * wait for room: back-pressure, never loss. All of these are for the
 * caller's thread (the one that feeds events), and do nothing when
 * counting is inline.
 *
 * aggregator_tokens_apply stores the values of the counts that are back
 * (call it when token_notify fires, or now and then); it returns the
 * number of events still pending. aggregator_tokens_wait blocks until
 * the oldest pending count is back, or for at most timeout_ms when that
 * is >= 0, applies what is back and returns what is still pending: loop
 * on it to drain the queue before the store is marked final.
 * aggregator_tokens_abandon gives up (a second signal): it applies what
 * is back, stops the workers (so token_notify is never called again) and
 * drops the rest, whose count token_work_pending keeps in the store; it
 * returns that count. Feed no more events after it.
 */
size_t aggregator_tokens_apply(struct aggregator *a);
size_t aggregator_tokens_wait(struct aggregator *a, int timeout_ms);
size_t aggregator_tokens_pending(const struct aggregator *a);
size_t aggregator_tokens_abandon(struct aggregator *a);
bool aggregator_tokens_threaded(const struct aggregator *a);

bool aggregator_ended(const struct aggregator *a);
uint64_t aggregator_counter(const struct aggregator *a, enum metric_key k);
size_t aggregator_in_flight(const struct aggregator *a);

#endif
