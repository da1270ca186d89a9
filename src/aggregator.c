/*
 * The metric engine (see aggregator.h; the keys and what they mean:
 * metricsd(1), "metricsd aggregate", and README, "Wire format and
 * metrics").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator_int.h"

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
	C(METRIC_TOKENIZER_INVALID_UTF8, "tokenizer_invalid_utf8"),
	C(METRIC_SERIES_APPEND_ERRORS, "series_append_errors"),
	C(METRIC_SAMPLES_IN_FLIGHT, "samples_in_flight"),
	[METRIC_LOADGEN_FIRST_ISSUED_TS] = { "loadgen_first_issued_ts",
	    STORE_COUNTER, STORE_I64, false },
	[METRIC_LOADGEN_LAST_ISSUED_COMPLETE_TS] = {
	    "loadgen_last_issued_complete_ts", STORE_COUNTER, STORE_I64, false },
	C(METRIC_LOADGEN_LAST_ISSUED_DONE, "loadgen_last_issued_done"),
	C(METRIC_FINISH_REASONS_DROPPED, "finish_reasons_dropped"),
	C(METRIC_TOKEN_WORK_PENDING, "token_work_pending"),
#undef C
	[METRIC_SAMPLE_LATENCY_NS] = { "sample_latency_ns", STORE_SERIES,
	    STORE_U64, false },
	[METRIC_ISL] = { "isl", STORE_SERIES, STORE_U64, false },
	[METRIC_OSL] = { "osl", STORE_SERIES, STORE_U64, false },
	[METRIC_TTFT_NS] = { "ttft_ns", STORE_SERIES, STORE_U64, true },
	[METRIC_CHUNK_DELTA_NS] = { "chunk_delta_ns", STORE_SERIES, STORE_U64,
	    true },
	[METRIC_TPOT_NS] = { "tpot_ns", STORE_SERIES, STORE_F64, true },
	[METRIC_TPOT_E2E_NS] = { "tpot_e2e_ns", STORE_SERIES, STORE_F64,
	    true },
	[METRIC_SAMPLE_GOOD_LATENCY_NS] = { "sample_good_latency_ns",
	    STORE_SERIES, STORE_U64, false },
	[METRIC_SAMPLE_GOOD_TTFT_NS] = { "sample_good_ttft_ns", STORE_SERIES,
	    STORE_U64, true },
	[METRIC_SAMPLE_GOOD_TPOT_E2E_NS] = { "sample_good_tpot_e2e_ns",
	    STORE_SERIES, STORE_F64, true },
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

/* ---- The LoadGen window (metricsd-store(5), loadgen_*) ---- */

/*
 * A new tracked sample is being issued: it becomes the last-issued one,
 * so the window's end is unknown again until it completes. The previous
 * one, if still in flight, loses its mark.
 */
static void
last_issued_move(struct aggregator *a, int64_t ts)
{
	if (!a->any_tracked_issue) {
		a->any_tracked_issue = true;
		counter_put(a, METRIC_LOADGEN_FIRST_ISSUED_TS, (uint64_t)ts);
	}
	if (a->last_len > 0) {
		struct inflight_row *o = inflight_find(&a->t, a->last_uuid,
		    a->last_len, a->last_hash);
		if (o != NULL)
			o->flags &= (uint8_t)~ROW_LAST_ISSUED;
		a->last_len = 0;
	}
	if (a->c[METRIC_LOADGEN_LAST_ISSUED_DONE] != 0)
		counter_put(a, METRIC_LOADGEN_LAST_ISSUED_DONE, 0);
}

/* Mark r (just added for uuid) as the last-issued tracked sample. */
static void
last_issued_set(struct aggregator *a, struct inflight_row *r,
    const char *uuid, size_t len, uint64_t h)
{
	if (len > a->last_cap) {
		char *p = realloc(a->last_uuid, len);
		if (p == NULL)
			return;		/* the window stays undefined */
		a->last_uuid = p;
		a->last_cap = len;
	}
	memcpy(a->last_uuid, uuid, len);
	a->last_len = len;
	a->last_hash = h;
	r->flags |= ROW_LAST_ISSUED;
}

/* The last-issued tracked sample completed at ts: the window has an end. */
static void
last_issued_done(struct aggregator *a, int64_t ts)
{
	/* The timestamp first, then the flag that makes it valid. */
	counter_put(a, METRIC_LOADGEN_LAST_ISSUED_COMPLETE_TS, (uint64_t)ts);
	counter_put(a, METRIC_LOADGEN_LAST_ISSUED_DONE, 1);
	a->last_len = 0;
}

/* ---- finish_reason counts ---- */

void
aggregator_finish_reason_name(const char *reason, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < AGGREGATOR_FINISH_REASON_MAX_LEN;
	    i++) {
		unsigned char c = (unsigned char)reason[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = (char)c;
	}
	if (n == 0) {
		strcpy(out, "empty");
		return;
	}
	out[n] = '\0';
}

static void
finish_reason_count(struct aggregator *a, const struct event_str *reason)
{
	char key[sizeof(AGGREGATOR_FINISH_REASON_PREFIX) +
	    AGGREGATOR_FINISH_REASON_MAX_LEN];
	char *name = key + sizeof(AGGREGATOR_FINISH_REASON_PREFIX) - 1;
	unsigned i;

	if (a->sink.named_counter_set == NULL)
		return;
	/* The key is the prefix and the name in one buffer: no snprintf
	 * for every completion. */
	memcpy(key, AGGREGATOR_FINISH_REASON_PREFIX,
	    sizeof(AGGREGATOR_FINISH_REASON_PREFIX) - 1);
	aggregator_finish_reason_name(reason->ptr, reason->len, name);
	for (i = 0; i < a->nreasons; i++)
		if (strcmp(a->reasons[i], name) == 0)
			break;
	if (i == a->nreasons) {
		if (a->nreasons == AGGREGATOR_MAX_FINISH_REASONS) {
			counter_inc(a, METRIC_FINISH_REASONS_DROPPED);
			return;
		}
		strcpy(a->reasons[i], name);
		a->nreasons++;
	}
	a->reason_count[i]++;
	if (a->sink.named_counter_set(a->sink.arg, i, key,
	    a->reason_count[i]) < 0)
		counter_inc(a, METRIC_SERIES_APPEND_ERRORS);
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
	last_issued_move(a, ev->timestamp_ns);
	if (inflight_count(&a->t) >= a->cfg.max_in_flight ||
	    (r = inflight_add(&a->t, uuid, len, h)) == NULL) {
		counter_inc(a, METRIC_IN_FLIGHT_OVERFLOW);
		return;
	}
	r->issued = ev->timestamp_ns;
	r->owner = a->current;
	a->current->refs++;
	last_issued_set(a, r, uuid, len, h);
	counter_put(a, METRIC_SAMPLES_IN_FLIGHT, inflight_count(&a->t));

	if (ev->data_tag != EVENT_DATA_PROMPT)
		return;
	if (ev->data.prompt.has_token_ids)
		tokens_isl_take(a, true, ev->data.prompt.n_token_ids, NULL);
	else if (ev->data.prompt.has_text && a->cfg.tok != NULL)
		tokens_isl_take(a, false, 0, &ev->data.prompt.text);
}

static void
on_complete(struct aggregator *a, const struct event *ev, uint64_t h)
{
	struct inflight_row *r;
	struct complete_vals v;
	int64_t ts = ev->timestamp_ns;
	uint64_t ttft = AGGREGATOR_NO_VALUE;
	uint64_t lat = AGGREGATOR_NO_VALUE;

	counter_inc(a, METRIC_TOTAL_SAMPLES_COMPLETED);
	r = inflight_find(&a->t, ev->sample_uuid.ptr, ev->sample_uuid.len, h);
	if (r == NULL)
		return;
	counter_inc(a, METRIC_TRACKED_SAMPLES_COMPLETED);
	interval_put(a, METRIC_SAMPLE_LATENCY_NS, r->issued, ts);
	if (ts >= r->issued)
		lat = (uint64_t)ts - (uint64_t)r->issued;
	if (r->flags & ROW_LAST_ISSUED)
		last_issued_done(a, ts);
	if (ev->has_finish_reason)
		finish_reason_count(a, &ev->finish_reason);

	struct block *b = r->owner;
	if (!b->has_end || ts > b->end) {
		b->end = ts;
		b->has_end = true;
	}

	/* osl, tpot_ns, tpot_e2e_ns and sample_good_tpot_e2e_ns: now, or
	 * once the counts are back (see "Token counts"). */
	v = (struct complete_vals){ .ts = ts, .first = r->first,
	    .issued = r->issued, .has_first = (r->flags & ROW_HAS_FIRST) != 0,
	    .text = ev->data_tag == EVENT_DATA_TEXT_OUTPUT &&
	    a->cfg.tok != NULL };
	tokens_complete_take(a, ev, &v);

	/* The aligned series that need no count: one value each. */
	series_put(a, METRIC_SAMPLE_GOOD_LATENCY_NS,
	    (union store_value){ .u = lat });
	if (a->cfg.streaming) {
		if ((r->flags & ROW_HAS_FIRST) && r->first >= r->issued)
			ttft = (uint64_t)r->first - (uint64_t)r->issued;
		series_put(a, METRIC_SAMPLE_GOOD_TTFT_NS,
		    (union store_value){ .u = ttft });
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
	int r;

	if (a == NULL) {
		snprintf(err, errlen, "aggregator: out of memory");
		return -ENOMEM;
	}
	a->cfg = *cfg;
	if (a->cfg.max_in_flight == 0 ||
	    a->cfg.max_in_flight > AGGREGATOR_MAX_IN_FLIGHT)
		a->cfg.max_in_flight = AGGREGATOR_MAX_IN_FLIGHT;
	a->sink = *sink;
	/* A tokenizer may be shared by engines in turn (tests, benches):
	 * count only the repairs of this engine's texts. */
	if (a->cfg.tok)
		a->repaired = tokenizer_repaired(a->cfg.tok);
	if (inflight_init(&a->t) < 0) {
		snprintf(err, errlen, "aggregator: out of memory");
		free(a);
		return -ENOMEM;
	}
	if (a->cfg.tok && a->cfg.token_threads > 0 &&
	    (r = tokens_start(a, err, errlen)) < 0) {
		aggregator_free(a);
		return r;
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
	tokens_free(a);
	inflight_free(&a->t);
	free(a->last_uuid);
	free(a);
}
