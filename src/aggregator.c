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
#include "tok_queue.h"

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

/*
 * Token counts are taken inline, on the caller's thread, or (with
 * token_threads) by the token queue's workers (tok_queue.h); README,
 * "Tokenizers", says which is faster when, as measured. Either way the
 * values that depend on a count are stored by one function per event
 * kind (isl_apply, complete_apply) from the same inputs, so a store is
 * the same value for value whichever counted.
 *
 * With workers, a value that depends on a count waits in a deferred
 * record until its count is back; records are applied in the order they
 * were made. So that every series stays in event order, once one record
 * waits, every later value of those series waits behind it too, even one
 * that needs no count (an isl from token ids, a sample_good_tpot_e2e_ns
 * of a completion without text). The other series (latencies, TTFT,
 * sample_good_latency_ns...) are stored at once: each series file is in
 * event order, and index i of the aligned sample_good_* series is still
 * the same sample; only their lengths differ while counts are pending,
 * which token_work_pending says.
 */

/* What a completion's count-dependent values need besides the counts. */
struct complete_vals {
	int64_t ts, first, issued;
	bool has_first;
	bool text;		/* TextModelOutput, counted with a tokenizer */
};

enum { DEFER_ISL = 1, DEFER_COMPLETE };

struct deferred {
	struct tokq_job job;	/* first: the queue's view of it */
	int kind;
	bool isl_known;		/* DEFER_ISL from token ids: isl is it */
	uint64_t isl;
	struct complete_vals v;	/* DEFER_COMPLETE */
	struct event_str chunks[];	/* then the text they point into */
};

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

/*
 * The full output text of a completion into the scratch list: reasoning
 * chunks, then output chunks; *from gets the index where "the text after
 * the first chunk" (metricsd-wire(5)) starts, which is always a suffix of
 * the list: reasoning chunks after the first, then all output chunks,
 * when reasoning is a chunk list; all output chunks when reasoning is a
 * string and the output a chunk list (else nothing); output chunks after
 * the first when reasoning is absent and the output a chunk list (a plain
 * output string without reasoning has nothing after its first chunk).
 */
static bool
output_chunks(struct aggregator *a, const struct event *ev, size_t *n,
    size_t *from)
{
	const struct event_text *r = &ev->data.output.reasoning;
	const struct event_text *o = &ev->data.output.output;

	*n = 0;
	if (!chunks_push(a, n, r, 0) || !chunks_push(a, n, o, 0))
		return false;
	if (r->form == EVENT_TEXT_LIST)
		*from = r->n >= 1 ? 1 : 0;
	else if (r->form == EVENT_TEXT_STRING)
		*from = o->form == EVENT_TEXT_LIST ? r->n : *n;
	else
		*from = o->form == EVENT_TEXT_LIST && o->n >= 1 ? 1 : *n;
	return true;
}

/* A count's outcome, counted: tokenizer_errors when it failed (the value
 * is lost), tokenizer_invalid_utf8 for texts read with U+FFFD. */
static bool
count_outcome(struct aggregator *a, int rc, uint64_t repaired)
{
	counter_add(a, METRIC_TOKENIZER_INVALID_UTF8, repaired);
	if (rc < 0) {
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
		return false;
	}
	return true;
}

/*
 * Count chunks[0..n) inline. A text with invalid UTF-8 is counted with
 * each maximal invalid sequence read as U+FFFD, and also counted in
 * tokenizer_invalid_utf8, since its count may differ from what a
 * reference that refused or decoded the bytes otherwise would give.
 */
static bool
count_chunks(struct aggregator *a, const struct event_str *chunks, size_t n,
    uint64_t *out)
{
	int rc = tokenizer_count(a->cfg.tok, chunks, n, out);
	uint64_t r = tokenizer_repaired(a->cfg.tok), d = r - a->repaired;

	a->repaired = r;
	return count_outcome(a, rc, d);
}

static void
isl_apply(struct aggregator *a, bool ok, uint64_t n)
{
	if (ok)
		series_put(a, METRIC_ISL, (union store_value){ .u = n });
}

/*
 * The values of a completion that depend on its counts: osl (full output
 * text), tpot_ns (text after the first chunk), tpot_e2e_ns =
 * (latency - ttft) / (osl - 1) = (complete - recv_first) / (osl - 1) when
 * the TTFT was stored (recv_first not before issued) and osl >= 2, and
 * the aligned sample_good_tpot_e2e_ns.
 */
static void
complete_apply(struct aggregator *a, const struct complete_vals *v,
    bool full_ok, uint64_t full, bool suffix_ok, uint64_t suffix)
{
	bool has_osl = v->text && full_ok;
	double e2e = -1.0;

	if (has_osl)
		series_put(a, METRIC_OSL, (union store_value){ .u = full });
	if (v->text && a->cfg.streaming && v->has_first && suffix_ok &&
	    suffix > 0) {
		if (v->ts < v->first) {
			counter_inc(a, METRIC_NEGATIVE_INTERVALS);
		} else {
			double d = (double)((uint64_t)v->ts -
			    (uint64_t)v->first);
			series_put(a, METRIC_TPOT_NS,
			    (union store_value){ .f = d / (double)suffix });
		}
	}
	if (!a->cfg.streaming)
		return;
	if (v->has_first && v->first >= v->issued && has_osl && full >= 2 &&
	    v->ts >= v->first) {
		e2e = (double)((uint64_t)v->ts - (uint64_t)v->first) /
		    (double)(full - 1);
		series_put(a, METRIC_TPOT_E2E_NS,
		    (union store_value){ .f = e2e });
	}
	series_put(a, METRIC_SAMPLE_GOOD_TPOT_E2E_NS,
	    (union store_value){ .f = e2e });
}

static void
deferred_apply(struct aggregator *a, struct deferred *d)
{
	const struct tokq_job *j = &d->job;
	bool full_ok = true, suffix_ok = true;

	if (j->want & TOKQ_FULL)
		full_ok = count_outcome(a, j->rc_full, j->repaired);
	if (j->want & TOKQ_SUFFIX)
		suffix_ok = count_outcome(a, j->rc_suffix, 0);
	if (d->kind == DEFER_ISL)
		isl_apply(a, full_ok, d->isl_known ? d->isl : j->full);
	else
		complete_apply(a, &d->v, full_ok && (j->want & TOKQ_FULL),
		    j->full, suffix_ok && (j->want & TOKQ_SUFFIX), j->suffix);
}

static void
deferred_release(struct tokq_job *j)
{
	free(j);	/* the job is the first member of its record */
}

static void
pending_write(struct aggregator *a)
{
	uint64_t n = tokq_pending(a->q);

	if (a->c[METRIC_TOKEN_WORK_PENDING] != n)
		counter_put(a, METRIC_TOKEN_WORK_PENDING, n);
}

/* Apply every record whose counts are back, oldest first. */
static void
deferred_apply_done(struct aggregator *a)
{
	struct tokq_job *j;

	while ((j = tokq_pop(a->q)) != NULL) {
		deferred_apply(a, (struct deferred *)j);
		deferred_release(j);
	}
	pending_write(a);
}

/* Wait for and apply every record (the queue is empty after). */
static void
deferred_drain(struct aggregator *a)
{
	for (deferred_apply_done(a); tokq_pending(a->q) > 0;
	    deferred_apply_done(a))
		tokq_wait(a->q, -1);
}

/*
 * A record holding a copy of chunks[0..n) (the event's strings live only
 * as long as its frame), or NULL when out of memory.
 */
static struct deferred *
deferred_new(int kind, const struct event_str *chunks, size_t n,
    size_t from, unsigned want)
{
	size_t text = 0, size;
	struct deferred *d;
	char *p;

	for (size_t i = 0; i < n; i++)
		text += chunks[i].len;
	size = sizeof(*d) + n * sizeof(d->chunks[0]) + text;
	if ((d = malloc(size)) == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	p = (char *)(d->chunks + n);
	for (size_t i = 0; i < n; i++) {
		if (chunks[i].len)
			memcpy(p, chunks[i].ptr, chunks[i].len);
		d->chunks[i] = (struct event_str){ p, chunks[i].len };
		p += chunks[i].len;
	}
	d->kind = kind;
	d->job.chunks = d->chunks;
	d->job.n = n;
	d->job.from = from;
	d->job.want = want;
	d->job.bytes = size;
	return d;
}

/*
 * Queue a record behind the others. When the queue is full, intake waits
 * here (back-pressure: nothing is ever dropped), applying what comes
 * back, until there is room.
 */
static void
deferred_push(struct aggregator *a, struct deferred *d)
{
	while (!tokq_room(a->q, d->job.bytes)) {
		deferred_apply_done(a);
		if (tokq_room(a->q, d->job.bytes))
			break;
		tokq_wait(a->q, -1);
	}
	tokq_push(a->q, &d->job);
	deferred_apply_done(a);
}

/*
 * A record could not be made (out of memory): apply it once everything
 * before it is applied, with its counts lost, so that the order holds.
 */
static void
deferred_failed(struct aggregator *a, int kind, bool isl_known, uint64_t isl,
    const struct complete_vals *v, unsigned want)
{
	deferred_drain(a);
	if (want & TOKQ_FULL)
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
	if (want & TOKQ_SUFFIX)
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
	if (kind == DEFER_ISL)
		isl_apply(a, isl_known, isl);
	else
		complete_apply(a, v, false, 0, false, 0);
}

/* An isl value: from token ids (known), or the count of a prompt text. */
static void
isl_take(struct aggregator *a, bool known, uint64_t n,
    const struct event_str *text)
{
	struct deferred *d;
	uint64_t c;

	if (a->q == NULL) {
		if (known)
			isl_apply(a, true, n);
		else if (count_chunks(a, text, 1, &c))
			isl_apply(a, true, c);
		return;
	}
	if (known && tokq_pending(a->q) == 0) {
		isl_apply(a, true, n);
		return;
	}
	d = known ? deferred_new(DEFER_ISL, NULL, 0, 0, 0) :
	    deferred_new(DEFER_ISL, text, 1, 0, TOKQ_FULL);
	if (d == NULL) {
		deferred_failed(a, DEFER_ISL, known, n, NULL,
		    known ? 0 : TOKQ_FULL);
		return;
	}
	d->isl_known = known;
	d->isl = n;
	deferred_push(a, d);
}

/* A completion's count-dependent values (see complete_apply). */
static void
complete_take(struct aggregator *a, const struct event *ev,
    const struct complete_vals *v)
{
	bool want_suffix = v->text && a->cfg.streaming && v->has_first;
	bool full_ok = false, suffix_ok = false;
	uint64_t full = 0, suffix = 0;
	unsigned want = v->text ? TOKQ_FULL | (want_suffix ? TOKQ_SUFFIX : 0)
	    : 0;
	struct deferred *d;
	size_t n = 0, from = 0;
	bool have;

	if (!v->text && !a->cfg.streaming)
		return;		/* nothing depends on a count */
	have = !v->text || output_chunks(a, ev, &n, &from);
	if (a->q == NULL || (!v->text && tokq_pending(a->q) == 0)) {
		if (v->text && !have) {
			counter_inc(a, METRIC_TOKENIZER_ERRORS);
			if (want_suffix)
				counter_inc(a, METRIC_TOKENIZER_ERRORS);
		} else if (v->text) {
			full_ok = count_chunks(a, a->chunks, n, &full);
			if (want_suffix)
				suffix_ok = count_chunks(a, a->chunks + from,
				    n - from, &suffix);
		}
		complete_apply(a, v, full_ok, full, suffix_ok, suffix);
		return;
	}
	d = have ? deferred_new(DEFER_COMPLETE, a->chunks, n, from, want) :
	    NULL;
	if (d == NULL) {
		deferred_failed(a, DEFER_COMPLETE, false, 0, v, want);
		return;
	}
	d->v = *v;
	deferred_push(a, d);
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
	char name[AGGREGATOR_FINISH_REASON_MAX_LEN + 1];
	char key[sizeof(AGGREGATOR_FINISH_REASON_PREFIX) +
	    AGGREGATOR_FINISH_REASON_MAX_LEN];
	unsigned i;

	if (a->sink.named_counter_set == NULL)
		return;
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
	snprintf(key, sizeof(key), "%s%s", AGGREGATOR_FINISH_REASON_PREFIX,
	    name);
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
		isl_take(a, true, ev->data.prompt.n_token_ids, NULL);
	else if (ev->data.prompt.has_text && a->cfg.tok != NULL)
		isl_take(a, false, 0, &ev->data.prompt.text);
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
	complete_take(a, ev, &v);

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

size_t
aggregator_tokens_apply(struct aggregator *a)
{
	if (a->q == NULL)
		return 0;
	deferred_apply_done(a);
	return tokq_pending(a->q);
}

size_t
aggregator_tokens_wait(struct aggregator *a, int timeout_ms)
{
	if (a->q == NULL)
		return 0;
	deferred_apply_done(a);
	if (tokq_pending(a->q) > 0) {
		tokq_wait(a->q, timeout_ms);
		deferred_apply_done(a);
	}
	return tokq_pending(a->q);
}

size_t
aggregator_tokens_pending(const struct aggregator *a)
{
	return a->q ? tokq_pending(a->q) : a->c[METRIC_TOKEN_WORK_PENDING];
}

size_t
aggregator_tokens_abandon(struct aggregator *a)
{
	if (a->q == NULL)
		return aggregator_tokens_pending(a);
	deferred_apply_done(a);
	tokq_free(a->q, deferred_release);
	a->q = NULL;
	return a->c[METRIC_TOKEN_WORK_PENDING];
}

bool
aggregator_tokens_threaded(const struct aggregator *a)
{
	return a->q != NULL;
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

/*
 * The token queue's workers: each with the caller's tokenizer for it, or
 * the first with the engine's own and the others each with one opened
 * from the same name (a tokenizer is used by one thread at a time: it
 * keeps caches and scratch space inside).
 */
static int
workers_start(struct aggregator *a, char *err, size_t errlen)
{
	unsigned n = a->cfg.token_threads;
	struct tokq_config qc = { 0 };
	int r;

	if (n > AGGREGATOR_MAX_TOKEN_THREADS) {
		snprintf(err, errlen, "aggregator: %u token threads: at most "
		    "%u", n, AGGREGATOR_MAX_TOKEN_THREADS);
		return -EINVAL;
	}
	if ((a->wtok = calloc(n, sizeof(*a->wtok))) == NULL) {
		snprintf(err, errlen, "aggregator: out of memory");
		return -ENOMEM;
	}
	if (a->cfg.token_toks != NULL) {
		/* The caller's: not ours to close (nwtok stays 0). */
		memcpy(a->wtok, a->cfg.token_toks, n * sizeof(*a->wtok));
	} else {
		a->wtok[0] = (struct tokenizer *)a->cfg.tok;
		a->nwtok = 1;
	}
	for (; a->nwtok > 0 && a->nwtok < n; a->nwtok++) {
		char e[256];

		if ((r = tokenizer_open(&a->wtok[a->nwtok], a->cfg.tok->name,
		    e, sizeof(e))) < 0) {
			snprintf(err, errlen, "aggregator: token thread %u: %s",
			    a->nwtok + 1, e);
			return r;
		}
	}
	qc.toks = a->wtok;
	qc.nthreads = n;
	qc.max_bytes = a->cfg.token_queue_bytes ? a->cfg.token_queue_bytes :
	    AGGREGATOR_TOKEN_QUEUE_BYTES;
	qc.max_jobs = TOKEN_QUEUE_JOBS;
	qc.notify = a->cfg.token_notify;
	qc.arg = a->cfg.token_notify_arg;
	return tokq_new(&a->q, &qc, err, errlen);
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
	    (r = workers_start(a, err, errlen)) < 0) {
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
	/* Workers first: they may still be counting with the tokenizers. */
	tokq_free(a->q, deferred_release);
	for (unsigned i = 1; i < a->nwtok; i++)
		tokenizer_close(a->wtok[i]);
	free(a->wtok);
	inflight_free(&a->t);
	free(a->chunks);
	free(a->last_uuid);
	free(a);
}
