/*
 * The metric engine (see aggregator.h; the keys and what they mean:
 * metricsd(1), "metricsd aggregate", and README, "Wire format and
 * metrics").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "inflight.h"

static const struct metric_key_info keys[METRIC_KEY_COUNT] = {
#define C(id, name) [id] = { name, STORE_COUNTER, STORE_U64, false }
	C(METRIC_TOTAL_SAMPLES_ISSUED, "total_samples_issued"),
	C(METRIC_TOTAL_SAMPLES_COMPLETED, "total_samples_completed"),
	C(METRIC_TOTAL_SAMPLES_FAILED, "total_samples_failed"),
	C(METRIC_TRACKED_SAMPLES_ISSUED, "tracked_samples_issued"),
	C(METRIC_TRACKED_SAMPLES_COMPLETED, "tracked_samples_completed"),
	C(METRIC_TRACKED_DURATION_NS, "tracked_duration_ns"),
	C(METRIC_TOTAL_DURATION_NS, "total_duration_ns"),
	C(METRIC_DECODE_ERRORS, "decode_errors"),
	C(METRIC_DECODE_MALFORMED, "decode_malformed"),
	C(METRIC_DECODE_BAD_RECORDS, "decode_bad_records"),
	C(METRIC_DECODE_UNKNOWN_EVENTS, "decode_unknown_events"),
	C(METRIC_DECODE_FIELD_TYPES, "decode_field_types"),
	C(METRIC_DECODE_ABSURD_SIZES, "decode_absurd_sizes"),
	C(METRIC_EVENTS_WITHOUT_TIMESTAMP, "events_without_timestamp"),
	C(METRIC_EMPTY_UUID_EVENTS, "empty_uuid_events"),
	C(METRIC_DUPLICATE_ISSUED, "duplicate_issued"),
	C(METRIC_NEGATIVE_INTERVALS, "negative_intervals"),
	C(METRIC_EVENTS_AFTER_END, "events_after_end"),
	C(METRIC_IN_FLIGHT_OVERFLOW, "in_flight_overflow"),
	C(METRIC_TOKENIZER_ERRORS, "tokenizer_errors"),
	C(METRIC_SERIES_APPEND_ERRORS, "series_append_errors"),
	C(METRIC_SAMPLES_IN_FLIGHT, "samples_in_flight"),
#undef C
	[METRIC_SAMPLE_LATENCY_NS] = { "sample_latency_ns", STORE_SERIES,
	    STORE_U64, false },
	[METRIC_ISL] = { "isl", STORE_SERIES, STORE_U64, false },
	[METRIC_OSL] = { "osl", STORE_SERIES, STORE_U64, false },
	[METRIC_TTFT_NS] = { "ttft_ns", STORE_SERIES, STORE_U64, true },
	[METRIC_CHUNK_DELTA_NS] = { "chunk_delta_ns", STORE_SERIES, STORE_U64,
	    true },
	[METRIC_TPOT_NS] = { "tpot_ns", STORE_SERIES, STORE_F64, true },
};

const struct metric_key_info *
metric_key_info(enum metric_key k)
{
	if ((unsigned)k >= METRIC_KEY_COUNT)
		return NULL;
	return &keys[k];
}

bool
aggregator_key_enabled(enum metric_key k, const struct aggregator_config *cfg)
{
	if ((unsigned)k >= METRIC_KEY_COUNT)
		return false;
	return !keys[k].streaming_only || cfg->streaming;
}

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

/* Row flags (struct inflight_row.flags). */
enum {
	ROW_HAS_FIRST = 1,	/* recv_first seen */
	ROW_HAS_LAST = 2	/* some receive seen */
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
};

/* ---- Writing values ---- */

static void
counter_put(struct aggregator *a, enum metric_key k, uint64_t v)
{
	a->c[k] = v;
	a->sink.counter_set(a->sink.arg, k, (union store_value){ .u = v });
}

static void
counter_inc(struct aggregator *a, enum metric_key k)
{
	counter_put(a, k, a->c[k] + 1);
}

static void
counter_add(struct aggregator *a, enum metric_key k, uint64_t n)
{
	if (n)
		counter_put(a, k, a->c[k] + n);
}

static void
series_put(struct aggregator *a, enum metric_key k, union store_value v)
{
	if (a->sink.series_append(a->sink.arg, k, v) < 0)
		counter_inc(a, METRIC_SERIES_APPEND_ERRORS);
}

/* Append b - a to a nanosecond series, or count it if negative. */
static void
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

/* ---- Blocks ---- */

static uint64_t
block_duration(const struct block *b)
{
	if (!b->has_end || b->end <= b->start)
		return 0;
	return (uint64_t)b->end - (uint64_t)b->start;
}

static uint64_t
sat_add(uint64_t x, uint64_t y)
{
	return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}

/* Fold a closed block without samples in flight into done_ns. */
static void
block_release_if_done(struct aggregator *a, struct block *b)
{
	if (b->open || b->refs > 0)
		return;
	a->done_ns = sat_add(a->done_ns, block_duration(b));
	if (b->prev)
		b->prev->next = b->next;
	else
		a->live = b->next;
	if (b->next)
		b->next->prev = b->prev;
	free(b);
}

static void
tracked_duration_write(struct aggregator *a)
{
	uint64_t sum = a->done_ns;

	for (const struct block *b = a->live; b; b = b->next)
		sum = sat_add(sum, block_duration(b));
	counter_put(a, METRIC_TRACKED_DURATION_NS, sum);
}

/* ---- Token counts ---- */

/* Chunks of text t appended to the scratch list from index `from`. */
static bool
chunks_push(struct aggregator *a, size_t *n, const struct event_text *t,
    size_t from)
{
	if (t->form == EVENT_TEXT_ABSENT || from >= t->n)
		return true;
	size_t add = t->n - from;
	if (*n + add > a->chunks_cap) {
		size_t cap = a->chunks_cap ? a->chunks_cap : 16;
		while (cap < *n + add)
			cap *= 2;
		struct event_str *c = realloc(a->chunks, cap * sizeof(*c));
		if (c == NULL)
			return false;
		a->chunks = c;
		a->chunks_cap = cap;
	}
	memcpy(a->chunks + *n, t->items + from, add * sizeof(*t->items));
	*n += add;
	return true;
}

static bool
tokens(struct aggregator *a, size_t n, uint64_t *out)
{
	if (tokenizer_count(a->cfg.tok, a->chunks, n, out) < 0) {
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
		return false;
	}
	return true;
}

/* Full output text: reasoning chunks, then output chunks. */
static bool
full_output_tokens(struct aggregator *a, const struct event *ev,
    uint64_t *out)
{
	size_t n = 0;

	if (!chunks_push(a, &n, &ev->data.output.reasoning, 0) ||
	    !chunks_push(a, &n, &ev->data.output.output, 0)) {
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
		return false;
	}
	return tokens(a, n, out);
}

/*
 * "Text after the first chunk" (metricsd-wire(5)): reasoning
 * chunks after the first; then, if reasoning was present, all output
 * chunks when the output is a chunk list, or the whole output string only
 * when reasoning was a chunk list; if reasoning was absent, output chunks
 * after the first. A plain output string without reasoning has nothing after its
 * first chunk.
 */
static bool
after_first_tokens(struct aggregator *a, const struct event *ev,
    uint64_t *out)
{
	const struct event_text *r = &ev->data.output.reasoning;
	const struct event_text *o = &ev->data.output.output;
	size_t n = 0;
	bool ok = true;

	if (r->form == EVENT_TEXT_LIST) {
		ok = chunks_push(a, &n, r, 1) && chunks_push(a, &n, o, 0);
	} else if (r->form == EVENT_TEXT_STRING) {
		if (o->form == EVENT_TEXT_LIST)
			ok = chunks_push(a, &n, o, 0);
	} else if (o->form == EVENT_TEXT_LIST) {
		ok = chunks_push(a, &n, o, 1);
	}
	if (!ok) {
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
		return false;
	}
	return tokens(a, n, out);
}

/* ---- Events ---- */

static void
on_issued(struct aggregator *a, const struct event *ev, uint64_t h)
{
	const char *uuid = ev->sample_uuid.ptr;
	size_t len = ev->sample_uuid.len;
	struct inflight_row *r;

	counter_inc(a, METRIC_TOTAL_SAMPLES_ISSUED);
	if (a->current == NULL) {
		/* Untracked, unless an earlier tracked issue is in flight. */
		if (inflight_find(&a->t, uuid, len, h) != NULL)
			counter_inc(a, METRIC_DUPLICATE_ISSUED);
		return;
	}
	counter_inc(a, METRIC_TRACKED_SAMPLES_ISSUED);
	if (inflight_find(&a->t, uuid, len, h) != NULL) {
		counter_inc(a, METRIC_DUPLICATE_ISSUED);	/* keep the row */
		return;
	}
	if (inflight_count(&a->t) >= a->cfg.max_in_flight ||
	    (r = inflight_add(&a->t, uuid, len, h)) == NULL) {
		counter_inc(a, METRIC_IN_FLIGHT_OVERFLOW);
		return;
	}
	r->issued = ev->timestamp_ns;
	r->owner = a->current;
	a->current->refs++;
	counter_put(a, METRIC_SAMPLES_IN_FLIGHT, inflight_count(&a->t));

	if (ev->data_tag != EVENT_DATA_PROMPT)
		return;
	if (ev->data.prompt.has_token_ids) {
		series_put(a, METRIC_ISL, (union store_value){
		    .u = ev->data.prompt.n_token_ids });
	} else if (ev->data.prompt.has_text && a->cfg.tok != NULL) {
		uint64_t n;
		if (tokenizer_count_text(a->cfg.tok, ev->data.prompt.text.ptr,
		    ev->data.prompt.text.len, &n) < 0)
			counter_inc(a, METRIC_TOKENIZER_ERRORS);
		else
			series_put(a, METRIC_ISL, (union store_value){ .u = n });
	}
}

static void
on_complete(struct aggregator *a, const struct event *ev, uint64_t h)
{
	struct inflight_row *r;
	int64_t ts = ev->timestamp_ns;

	counter_inc(a, METRIC_TOTAL_SAMPLES_COMPLETED);
	r = inflight_find(&a->t, ev->sample_uuid.ptr, ev->sample_uuid.len, h);
	if (r == NULL)
		return;
	counter_inc(a, METRIC_TRACKED_SAMPLES_COMPLETED);
	interval_put(a, METRIC_SAMPLE_LATENCY_NS, r->issued, ts);

	struct block *b = r->owner;
	if (!b->has_end || ts > b->end) {
		b->end = ts;
		b->has_end = true;
	}

	if (ev->data_tag == EVENT_DATA_TEXT_OUTPUT && a->cfg.tok != NULL) {
		uint64_t n;
		if (full_output_tokens(a, ev, &n))
			series_put(a, METRIC_OSL, (union store_value){ .u = n });
		if (a->cfg.streaming && (r->flags & ROW_HAS_FIRST) &&
		    after_first_tokens(a, ev, &n) && n > 0) {
			if (ts < r->first) {
				counter_inc(a, METRIC_NEGATIVE_INTERVALS);
			} else {
				double d = (double)((uint64_t)ts -
				    (uint64_t)r->first);
				series_put(a, METRIC_TPOT_NS,
				    (union store_value){ .f = d / (double)n });
			}
		}
	}

	inflight_remove(&a->t, r);
	b->refs--;
	block_release_if_done(a, b);
	counter_put(a, METRIC_SAMPLES_IN_FLIGHT, inflight_count(&a->t));
}

/*
 * recv_first / recv_non_first. A second recv_first for the same sample
 * is taken as a further chunk: TTFT stays the first one's.
 */
static void
on_recv(struct aggregator *a, const struct event *ev, uint64_t h)
{
	struct inflight_row *r;
	int64_t ts = ev->timestamp_ns;

	if (!a->cfg.streaming)
		return;
	r = inflight_find(&a->t, ev->sample_uuid.ptr, ev->sample_uuid.len, h);
	if (r == NULL)
		return;
	if (ev->type == EVENT_SAMPLE_RECV_FIRST && !(r->flags & ROW_HAS_FIRST)) {
		r->flags |= ROW_HAS_FIRST;
		r->first = ts;
		interval_put(a, METRIC_TTFT_NS, r->issued, ts);
	}
	if (r->flags & ROW_HAS_LAST)
		interval_put(a, METRIC_CHUNK_DELTA_NS, r->last, ts);
	r->flags |= ROW_HAS_LAST;
	r->last = ts;
}

static int
start_tracking(struct aggregator *a, int64_t ts)
{
	struct block *b;

	if (a->current != NULL)
		return 0;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->start = ts;
	b->open = true;
	b->next = a->live;
	if (a->live)
		a->live->prev = b;
	a->live = b;
	a->current = b;
	return 0;
}

static void
stop_tracking(struct aggregator *a)
{
	struct block *b = a->current;

	if (b != NULL) {
		a->current = NULL;
		b->open = false;
		block_release_if_done(a, b);
	}
	tracked_duration_write(a);
}

int
aggregator_event_feed(struct aggregator *a, const struct event *ev)
{
	uint64_t h = 0;

	if (a->ended) {
		counter_inc(a, METRIC_EVENTS_AFTER_END);
		return AGGREGATOR_ENDED;
	}
	if (!ev->has_timestamp) {
		/* Never invent a time: drop it, but still honour the end. */
		counter_inc(a, METRIC_EVENTS_WITHOUT_TIMESTAMP);
		if (ev->type != EVENT_SESSION_ENDED)
			return 0;
		a->ended = true;
		tracked_duration_write(a);
		return AGGREGATOR_ENDED;
	}
	if (ev->type == EVENT_SESSION_STARTED) {
		a->started = true;
		a->start_ts = ev->timestamp_ns;
	}
	if (a->started && ev->timestamp_ns >= a->start_ts) {
		uint64_t d = (uint64_t)ev->timestamp_ns - (uint64_t)a->start_ts;
		if (d > a->c[METRIC_TOTAL_DURATION_NS])
			counter_put(a, METRIC_TOTAL_DURATION_NS, d);
	}

	switch (ev->type) {
	case EVENT_SAMPLE_ISSUED:
	case EVENT_SAMPLE_COMPLETE:
	case EVENT_SAMPLE_RECV_FIRST:
	case EVENT_SAMPLE_RECV_NON_FIRST:
		if (ev->sample_uuid.len == 0) {
			counter_inc(a, METRIC_EMPTY_UUID_EVENTS);
			return 0;
		}
		h = inflight_hash(&a->t, ev->sample_uuid.ptr,
		    ev->sample_uuid.len);
		if (ev->type == EVENT_SAMPLE_ISSUED)
			on_issued(a, ev, h);
		else if (ev->type == EVENT_SAMPLE_COMPLETE)
			on_complete(a, ev, h);
		else
			on_recv(a, ev, h);
		return 0;
	case EVENT_ERROR_GENERIC:
	case EVENT_ERROR_LOADGEN:
	case EVENT_ERROR_SESSION:
	case EVENT_ERROR_CLIENT:
		counter_inc(a, METRIC_TOTAL_SAMPLES_FAILED);
		return 0;
	case EVENT_SESSION_START_TRACKING:
		if (start_tracking(a, ev->timestamp_ns) < 0)
			counter_inc(a, METRIC_IN_FLIGHT_OVERFLOW);
		return 0;
	case EVENT_SESSION_STOP_TRACKING:
		stop_tracking(a);
		return 0;
	case EVENT_SESSION_ENDED:
		a->ended = true;
		tracked_duration_write(a);
		return AGGREGATOR_ENDED;
	case EVENT_SESSION_STARTED:
	case EVENT_SESSION_STOP_LOADGEN:
	case EVENT_UNKNOWN:
	case EVENT_TYPE_COUNT:
		return 0;
	}
	return 0;
}

int
aggregator_frame_begin(struct aggregator *a)
{
	if (!a->ended)
		return 0;
	counter_inc(a, METRIC_EVENTS_AFTER_END);
	return AGGREGATOR_ENDED;
}

void
aggregator_decode_errors_count(struct aggregator *a,
    const struct aggregator_decode_errors *e)
{
	uint64_t sum = 0;

	sum += e->malformed;
	sum += e->bad_records;
	sum += e->unknown_events;
	sum += e->field_types;
	sum += e->absurd_sizes;
	if (sum == 0)
		return;
	counter_add(a, METRIC_DECODE_MALFORMED, e->malformed);
	counter_add(a, METRIC_DECODE_BAD_RECORDS, e->bad_records);
	counter_add(a, METRIC_DECODE_UNKNOWN_EVENTS, e->unknown_events);
	counter_add(a, METRIC_DECODE_FIELD_TYPES, e->field_types);
	counter_add(a, METRIC_DECODE_ABSURD_SIZES, e->absurd_sizes);
	counter_add(a, METRIC_DECODE_ERRORS, sum);
}

void
aggregator_finish(struct aggregator *a)
{
	tracked_duration_write(a);
}

bool
aggregator_ended(const struct aggregator *a)
{
	return a->ended;
}

uint64_t
aggregator_counter(const struct aggregator *a, enum metric_key k)
{
	if ((unsigned)k >= METRIC_KEY_COUNT)
		return 0;
	return a->c[k];
}

size_t
aggregator_in_flight(const struct aggregator *a)
{
	return inflight_count(&a->t);
}

int
aggregator_new(struct aggregator **out, const struct aggregator_config *cfg,
    const struct aggregator_sink *sink, char *err, size_t errlen)
{
	struct aggregator *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "aggregator: out of memory");
		return -ENOMEM;
	}
	a->cfg = *cfg;
	if (a->cfg.max_in_flight == 0 ||
	    a->cfg.max_in_flight > AGGREGATOR_MAX_IN_FLIGHT)
		a->cfg.max_in_flight = AGGREGATOR_MAX_IN_FLIGHT;
	a->sink = *sink;
	if (inflight_init(&a->t) < 0) {
		snprintf(err, errlen, "aggregator: out of memory");
		free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

void
aggregator_free(struct aggregator *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->live; b; b = next) {
		next = b->next;
		free(b);
	}
	inflight_free(&a->t);
	free(a->chunks);
	free(a);
}
