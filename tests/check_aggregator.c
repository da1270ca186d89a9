/* Semantic tests for the metric engine: one or more per rule of the
 * reference aggregator (metricsd(1), "metricsd aggregate"). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "aggregator_wire.h"
#include "store.h"
#include "tokenizer.h"
#include "wire.h"

/* ---- An in-memory sink ---- */

struct memsink {
	uint64_t counter[METRIC_KEY_COUNT];
	uint64_t sets[METRIC_KEY_COUNT];	/* counter_set calls */
	union store_value *series[METRIC_KEY_COUNT];
	size_t n[METRIC_KEY_COUNT];
	size_t cap[METRIC_KEY_COUNT];
	struct aggregator_config cfg;
	int fail_appends;			/* refuse this many */
	/* named counters (finish_reason_*), by slot */
	char named[AGGREGATOR_MAX_FINISH_REASONS][64];
	uint64_t named_v[AGGREGATOR_MAX_FINISH_REASONS];
};

static void
mem_counter_set(void *arg, enum metric_key k, union store_value v)
{
	struct memsink *m = arg;

	ck_assert_int_eq(metric_key_info(k)->kind, STORE_COUNTER);
	m->counter[k] = v.u;
	m->sets[k]++;
}

static int
mem_series_append(void *arg, enum metric_key k, union store_value v)
{
	struct memsink *m = arg;

	ck_assert_int_eq(metric_key_info(k)->kind, STORE_SERIES);
	ck_assert_msg(aggregator_key_enabled(k, &m->cfg),
	    "append to disabled key %s", metric_key_info(k)->name);
	if (m->fail_appends > 0) {
		m->fail_appends--;
		return -ENOSPC;
	}
	if (m->n[k] == m->cap[k]) {
		m->cap[k] = m->cap[k] ? m->cap[k] * 2 : 16;
		m->series[k] = realloc(m->series[k],
		    m->cap[k] * sizeof(*m->series[k]));
		ck_assert_ptr_nonnull(m->series[k]);
	}
	m->series[k][m->n[k]++] = v;
	return 0;
}

static int
mem_named_set(void *arg, unsigned slot, const char *name, uint64_t v)
{
	struct memsink *m = arg;
	char err[128];

	ck_assert_uint_lt(slot, AGGREGATOR_MAX_FINISH_REASONS);
	ck_assert_int_eq(store_key_check(name, err, sizeof(err)), 0);
	if (m->named[slot][0] != '\0')
		ck_assert_str_eq(m->named[slot], name);
	snprintf(m->named[slot], sizeof(m->named[slot]), "%s", name);
	m->named_v[slot] = v;
	return 0;
}

struct fixture {
	struct memsink m;
	struct aggregator *a;
	struct aggregator_wire w;	/* frames into a */
};

static void
setup(struct fixture *f, bool streaming, bool whitespace)
{
	struct aggregator_sink sink = { NULL, mem_counter_set,
	    mem_series_append, mem_named_set };
	struct tokenizer *tok = NULL;
	char err[256];

	memset(f, 0, sizeof(*f));
	if (whitespace)
		ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err,
		    sizeof(err)), 0);
	f->m.cfg.streaming = streaming;
	f->m.cfg.tok = tok;
	sink.arg = &f->m;
	ck_assert_int_eq(aggregator_new(&f->a, &f->m.cfg, &sink, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(aggregator_wire_init(&f->w, f->a, err, sizeof(err)),
	    0);
}

static void
teardown(struct fixture *f)
{
	aggregator_wire_free(&f->w);
	aggregator_free(f->a);
	for (int k = 0; k < METRIC_KEY_COUNT; k++)
		free(f->m.series[k]);
}

#define C(f, key) ((f)->m.counter[METRIC_##key])
#define N(f, key) ((f)->m.n[METRIC_##key])
#define U(f, key, i) ((f)->m.series[METRIC_##key][i].u)
#define F(fx, key, i) ((fx)->m.series[METRIC_##key][i].f)

/* ---- Event builders ---- */

static struct event
ev(enum event_type t, int64_t ts, const char *uuid)
{
	struct event e = {
		.type = t,
		.timestamp_ns = ts,
		.has_timestamp = true,
		.sample_uuid = { uuid ? uuid : "", uuid ? strlen(uuid) : 0 },
	};
	return e;
}

static int
feed(struct fixture *f, enum event_type t, int64_t ts, const char *uuid)
{
	struct event e = ev(t, ts, uuid);

	return aggregator_event_feed(f->a, &e);
}

#define START(f, ts) feed((f), EVENT_SESSION_STARTED, (ts), NULL)
#define TRACK_ON(f, ts) feed((f), EVENT_SESSION_START_TRACKING, (ts), NULL)
#define TRACK_OFF(f, ts) feed((f), EVENT_SESSION_STOP_TRACKING, (ts), NULL)
#define ISSUE(f, ts, u) feed((f), EVENT_SAMPLE_ISSUED, (ts), (u))
#define DONE(f, ts, u) feed((f), EVENT_SAMPLE_COMPLETE, (ts), (u))
#define FIRST(f, ts, u) feed((f), EVENT_SAMPLE_RECV_FIRST, (ts), (u))
#define NEXT(f, ts, u) feed((f), EVENT_SAMPLE_RECV_NON_FIRST, (ts), (u))
#define END(f, ts) feed((f), EVENT_SESSION_ENDED, (ts), NULL)

/* A complete event with TextModelOutput data. */
static int
done_text(struct fixture *f, int64_t ts, const char *uuid,
    enum event_text_form ofm, const struct event_str *out, size_t on,
    enum event_text_form rfm, const struct event_str *rsn, size_t rn)
{
	struct event e = ev(EVENT_SAMPLE_COMPLETE, ts, uuid);

	e.data_tag = EVENT_DATA_TEXT_OUTPUT;
	e.data.output.output = (struct event_text){ ofm, on, out };
	e.data.output.reasoning = (struct event_text){ rfm, rn, rsn };
	return aggregator_event_feed(f->a, &e);
}

static int
issue_prompt(struct fixture *f, int64_t ts, const char *uuid,
    const char *text, const int64_t *ids, size_t nids, bool has_ids)
{
	struct event e = ev(EVENT_SAMPLE_ISSUED, ts, uuid);

	e.data_tag = EVENT_DATA_PROMPT;
	e.data.prompt.has_text = text != NULL;
	if (text)
		e.data.prompt.text = (struct event_str){ text, strlen(text) };
	e.data.prompt.has_token_ids = has_ids;
	e.data.prompt.token_ids = ids;
	e.data.prompt.n_token_ids = nids;
	return aggregator_event_feed(f->a, &e);
}

/* ---- Keys ---- */

START_TEST(test_metric_key_table_complete)
{
	struct aggregator_config on = { .streaming = true };
	struct aggregator_config off = { .streaming = false };
	int series = 0;

	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		const struct metric_key_info *ki = metric_key_info(k);
		ck_assert_ptr_nonnull(ki);
		ck_assert_ptr_nonnull(ki->name);
		ck_assert(strlen(ki->name) > 0 && strlen(ki->name) < 64);
		ck_assert(strchr("abcdefghijklmnopqrstuvwxyz", ki->name[0]));
		for (const char *p = ki->name; *p; p++)
			ck_assert(strchr("abcdefghijklmnopqrstuvwxyz0123456789_",
			    *p));
		for (int j = 0; j < k; j++)
			ck_assert_str_ne(ki->name, metric_key_info(j)->name);
		ck_assert(aggregator_key_enabled(k, &on));
		ck_assert(aggregator_key_enabled(k, &off) == !ki->streaming_only);
		if (ki->kind == STORE_SERIES)
			series++;
		ck_assert_int_eq(ki->type, k == METRIC_TPOT_NS ||
		    k == METRIC_TPOT_E2E_NS ||
		    k == METRIC_SAMPLE_GOOD_TPOT_E2E_NS ? STORE_F64 :
		    k == METRIC_LOADGEN_FIRST_ISSUED_TS ||
		    k == METRIC_LOADGEN_LAST_ISSUED_COMPLETE_TS ? STORE_I64 :
		    STORE_U64);
	}
	ck_assert_int_eq(series, 10);
	ck_assert_str_eq(metric_key_info(METRIC_TPOT_NS)->name, "tpot_ns");
	ck_assert_str_eq(metric_key_info(METRIC_TOTAL_SAMPLES_ISSUED)->name,
	    "total_samples_issued");
	ck_assert(metric_key_info(METRIC_TTFT_NS)->streaming_only);
	ck_assert(metric_key_info(METRIC_CHUNK_DELTA_NS)->streaming_only);
	ck_assert(!metric_key_info(METRIC_ISL)->streaming_only);
	ck_assert_ptr_null(metric_key_info(METRIC_KEY_COUNT));
}
END_TEST

/* ---- Tracking windows ---- */

START_TEST(test_only_samples_issued_in_window_are_tracked)
{
	struct fixture f;

	setup(&f, false, false);
	START(&f, 0);
	ISSUE(&f, 10, "before");
	TRACK_ON(&f, 20);
	ISSUE(&f, 30, "inside");
	TRACK_OFF(&f, 40);
	ISSUE(&f, 50, "after");
	DONE(&f, 100, "before");
	DONE(&f, 130, "inside");
	DONE(&f, 150, "after");
	DONE(&f, 160, "never-issued");

	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 3);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_ISSUED), 1);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 4);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_COMPLETED), 1);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 1);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 100);
	ck_assert_uint_eq(aggregator_in_flight(f.a), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_in_flight_sample_keeps_producing_after_stop)
{
	struct fixture f;

	setup(&f, true, false);
	START(&f, 0);
	TRACK_ON(&f, 0);
	ISSUE(&f, 10, "s");
	TRACK_OFF(&f, 20);
	ck_assert_uint_eq(aggregator_in_flight(f.a), 1);
	FIRST(&f, 25, "s");
	NEXT(&f, 28, "s");
	DONE(&f, 40, "s");
	ck_assert_uint_eq(N(&f, TTFT_NS), 1);
	ck_assert_uint_eq(U(&f, TTFT_NS, 0), 15);
	ck_assert_uint_eq(N(&f, CHUNK_DELTA_NS), 1);
	ck_assert_uint_eq(U(&f, CHUNK_DELTA_NS, 0), 3);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 30);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_COMPLETED), 1);
	/* Written at the stop (0: nothing completed yet), then at the end. */
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 0);
	END(&f, 50);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 40);
	teardown(&f);
}
END_TEST

START_TEST(test_block_duration_runs_to_latest_own_completion)
{
	struct fixture f;

	setup(&f, false, false);
	START(&f, 0);
	TRACK_ON(&f, 100);		/* block 0 */
	ISSUE(&f, 110, "a");
	ISSUE(&f, 120, "b");
	DONE(&f, 150, "a");
	TRACK_OFF(&f, 200);
	/* Stop is not the end: latest completion so far is 150. */
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 50);
	TRACK_ON(&f, 1000);		/* block 1 */
	ISSUE(&f, 1010, "c");
	DONE(&f, 1500, "b");		/* block 0 now ends at 1500 */
	DONE(&f, 1100, "c");		/* block 1 ends at 1100 */
	/* Not rewritten until the next stop or the end. */
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 50);
	TRACK_OFF(&f, 2000);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 1400 + 100);
	END(&f, 3000);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 1500);
	teardown(&f);
}
END_TEST

START_TEST(test_reopened_window_and_empty_blocks)
{
	struct fixture f;

	setup(&f, false, false);
	START(&f, 0);
	TRACK_ON(&f, 10);		/* empty block: 0 */
	TRACK_OFF(&f, 20);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 0);
	ck_assert_uint_eq(f.m.sets[METRIC_TRACKED_DURATION_NS], 1);
	ISSUE(&f, 25, "out");		/* between windows: untracked */
	TRACK_ON(&f, 30);
	TRACK_ON(&f, 35);		/* already open: ignored */
	ISSUE(&f, 40, "in");
	DONE(&f, 90, "in");
	DONE(&f, 95, "out");
	TRACK_OFF(&f, 100);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 60);	/* 90 - 30 */
	TRACK_OFF(&f, 110);		/* stop without a window */
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 60);
	TRACK_ON(&f, 200);		/* block with a sample never done */
	ISSUE(&f, 210, "stuck");
	END(&f, 300);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 60);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_ISSUED), 2);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 3);
	teardown(&f);
}
END_TEST

START_TEST(test_many_windows_release_their_blocks)
{
	/* 10000 windows, each with a sample completed after its stop. */
	struct fixture f;
	uint64_t want = 0;

	setup(&f, false, false);
	START(&f, 0);
	for (int i = 0; i < 10000; i++) {
		char u[16];
		int64_t t0 = (int64_t)i * 1000;
		snprintf(u, sizeof(u), "s%d", i);
		TRACK_ON(&f, t0);
		ISSUE(&f, t0 + 1, u);
		TRACK_OFF(&f, t0 + 2);
		DONE(&f, t0 + 3 + i % 7, u);
		want += 3 + (uint64_t)(i % 7);
	}
	END(&f, 20000000);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), want);
	ck_assert_uint_eq(aggregator_in_flight(f.a), 0);
	ck_assert_uint_eq(C(&f, SAMPLES_IN_FLIGHT), 0);
	teardown(&f);
}
END_TEST

/* ---- Session ---- */

START_TEST(test_total_duration_is_max_since_started)
{
	struct fixture f;

	setup(&f, false, false);
	feed(&f, EVENT_ERROR_GENERIC, 5000, NULL);	/* before started */
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 0);
	ck_assert_uint_eq(f.m.sets[METRIC_TOTAL_DURATION_NS], 0);
	START(&f, 1000);
	ISSUE(&f, 1500, "x");			/* untracked still counts */
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 500);
	feed(&f, EVENT_SESSION_STOP_LOADGEN, 1400, NULL);	/* earlier */
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 500);
	feed(&f, EVENT_ERROR_CLIENT, 900, NULL);	/* before start */
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 500);
	END(&f, 4000);
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 3000);
	teardown(&f);
}
END_TEST

START_TEST(test_ended_stops_processing_rest_of_batch)
{
	struct fixture f;
	struct wire_batch b = { 0 };
	struct wire_frame_stats st;
	char err[128];
	const void *fp;
	size_t len;
	struct event evs[5] = {
		ev(EVENT_SESSION_STARTED, 0, NULL),
		ev(EVENT_SESSION_START_TRACKING, 0, NULL),
		ev(EVENT_SAMPLE_ISSUED, 10, "a"),
		ev(EVENT_SESSION_ENDED, 20, NULL),
		ev(EVENT_SAMPLE_COMPLETE, 30, "a"),
	};

	setup(&f, false, false);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(wire_batch_add(&b, &evs[i], err, sizeof(err)),
		    0);
	wire_batch_finish(&b, &fp, &len);
	ck_assert_int_eq(aggregator_wire_feed(&f.w, fp, len, &st),
	    AGGREGATOR_ENDED);
	ck_assert(st.stopped);
	ck_assert_uint_eq(st.events, 4);
	ck_assert(aggregator_ended(f.a));
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 0);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 0);
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), 20);
	ck_assert_uint_eq(f.m.sets[METRIC_TRACKED_DURATION_NS], 1);
	/* Later frames and events are dropped too, and counted. */
	ck_assert_int_eq(aggregator_wire_feed(&f.w, fp, len, &st),
	    AGGREGATOR_ENDED);
	ck_assert_int_eq(DONE(&f, 40, "a"), AGGREGATOR_ENDED);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 0);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 1);
	ck_assert_uint_eq(C(&f, EVENTS_AFTER_END), 2);
	wire_batch_free(&b);
	teardown(&f);
}
END_TEST

START_TEST(test_error_events_count_as_failed)
{
	struct fixture f;
	struct event e;

	setup(&f, false, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "s");
	feed(&f, EVENT_ERROR_GENERIC, 2, NULL);
	feed(&f, EVENT_ERROR_LOADGEN, 3, "");
	feed(&f, EVENT_ERROR_SESSION, 4, NULL);
	e = ev(EVENT_ERROR_CLIENT, 5, "s");
	e.data_tag = EVENT_DATA_ERROR;
	e.data.error.error_type = (struct event_str){ "Timeout", 7 };
	aggregator_event_feed(f.a, &e);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_FAILED), 4);
	/* An error does not complete the sample. */
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 0);
	ck_assert_uint_eq(aggregator_in_flight(f.a), 1);
	DONE(&f, 9, "s");
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 8);
	teardown(&f);
}
END_TEST

START_TEST(test_stop_loadgen_changes_nothing)
{
	struct fixture f;

	setup(&f, false, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "s");
	feed(&f, EVENT_SESSION_STOP_LOADGEN, 2, NULL);
	ISSUE(&f, 3, "t");		/* window still open */
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_ISSUED), 2);
	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		if (k != METRIC_TOTAL_SAMPLES_ISSUED &&
		    k != METRIC_TRACKED_SAMPLES_ISSUED &&
		    k != METRIC_SAMPLES_IN_FLIGHT &&
		    k != METRIC_LOADGEN_FIRST_ISSUED_TS)
			ck_assert_msg(f.m.counter[k] == 0, "%s",
			    metric_key_info(k)->name);
	}
	teardown(&f);
}
END_TEST

/* ---- Samples ---- */

START_TEST(test_duplicate_issued_keeps_existing_row)
{
	struct fixture f;
	static const int64_t ids[3] = { 1, 2, 3 };

	setup(&f, true, false);
	TRACK_ON(&f, 0);
	issue_prompt(&f, 10, "d", NULL, ids, 3, true);
	FIRST(&f, 15, "d");
	issue_prompt(&f, 20, "d", NULL, ids, 2, true);	/* duplicate */
	TRACK_OFF(&f, 25);
	ISSUE(&f, 30, "d");				/* and again, outside */
	DONE(&f, 50, "d");
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 3);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_ISSUED), 2);
	ck_assert_uint_eq(C(&f, DUPLICATE_ISSUED), 2);
	ck_assert_uint_eq(N(&f, ISL), 1);
	ck_assert_uint_eq(U(&f, ISL, 0), 3);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 1);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 40);	/* from 10 */
	ck_assert_uint_eq(U(&f, TTFT_NS, 0), 5);		/* kept */
	/* Completed: the row is gone, a second complete is untracked. */
	DONE(&f, 60, "d");
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 2);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_COMPLETED), 1);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 1);
	teardown(&f);
}
END_TEST

START_TEST(test_untracked_samples_produce_no_series)
{
	struct fixture f;
	static const struct event_str out[] = { { "a b c", 5 } };

	setup(&f, true, true);
	issue_prompt(&f, 1, "u", "one two", NULL, 0, false);	/* no window */
	FIRST(&f, 2, "u");
	NEXT(&f, 3, "u");
	done_text(&f, 4, "u", EVENT_TEXT_STRING, out, 1, EVENT_TEXT_ABSENT,
	    NULL, 0);
	FIRST(&f, 5, "ghost");
	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		if (metric_key_info(k)->kind == STORE_SERIES)
			ck_assert_uint_eq(f.m.n[k], 0);
	}
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 1);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 1);
	teardown(&f);
}
END_TEST

START_TEST(test_empty_uuid_sample_events_ignored)
{
	struct fixture f;

	setup(&f, true, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "");
	FIRST(&f, 2, "");
	DONE(&f, 3, "");
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 0);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_ISSUED), 0);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_COMPLETED), 0);
	ck_assert_uint_eq(C(&f, EMPTY_UUID_EVENTS), 3);
	ck_assert_uint_eq(aggregator_in_flight(f.a), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_chunk_deltas_between_consecutive_receives)
{
	struct fixture f;

	setup(&f, true, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 100, "s");
	NEXT(&f, 105, "s");	/* before any first: no previous receive */
	FIRST(&f, 110, "s");
	NEXT(&f, 117, "s");
	NEXT(&f, 130, "s");
	FIRST(&f, 131, "s");	/* a repeated first: just another chunk */
	DONE(&f, 140, "s");
	ck_assert_uint_eq(N(&f, CHUNK_DELTA_NS), 4);
	ck_assert_uint_eq(U(&f, CHUNK_DELTA_NS, 0), 5);
	ck_assert_uint_eq(U(&f, CHUNK_DELTA_NS, 1), 7);
	ck_assert_uint_eq(U(&f, CHUNK_DELTA_NS, 2), 13);
	ck_assert_uint_eq(U(&f, CHUNK_DELTA_NS, 3), 1);
	ck_assert_uint_eq(N(&f, TTFT_NS), 1);
	ck_assert_uint_eq(U(&f, TTFT_NS, 0), 10);
	teardown(&f);
}
END_TEST

START_TEST(test_streaming_off_produces_no_streaming_series)
{
	struct fixture f;
	static const struct event_str out[] = { { "a", 1 }, { " b c", 4 } };

	setup(&f, false, true);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "s");
	FIRST(&f, 2, "s");
	NEXT(&f, 3, "s");
	done_text(&f, 10, "s", EVENT_TEXT_LIST, out, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);
	/* The sink asserts no disabled key is appended to. */
	ck_assert_uint_eq(N(&f, TTFT_NS) + N(&f, CHUNK_DELTA_NS) +
	    N(&f, TPOT_NS), 0);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 9);
	ck_assert_uint_eq(U(&f, OSL, 0), 3);
	teardown(&f);
}
END_TEST

/* ---- Tokens ---- */

START_TEST(test_isl_from_token_ids_or_text)
{
	struct fixture f;
	static const int64_t ids[4] = { 5, 6, 7, 8 };

	setup(&f, false, true);
	TRACK_ON(&f, 0);
	issue_prompt(&f, 1, "a", "ignored words here", ids, 4, true);
	issue_prompt(&f, 2, "b", "  three  words\there\n", NULL, 0, false);
	issue_prompt(&f, 3, "c", NULL, ids, 0, true);	/* [] counts 0 */
	issue_prompt(&f, 4, "d", NULL, NULL, 0, false);	/* nothing */
	ISSUE(&f, 5, "e");				/* no data */
	ck_assert_uint_eq(N(&f, ISL), 3);
	ck_assert_uint_eq(U(&f, ISL, 0), 4);
	ck_assert_uint_eq(U(&f, ISL, 1), 3);
	ck_assert_uint_eq(U(&f, ISL, 2), 0);
	teardown(&f);

	/* Without a tokenizer only token ids give ISL. */
	setup(&f, false, false);
	TRACK_ON(&f, 0);
	issue_prompt(&f, 1, "a", "x y", ids, 2, true);
	issue_prompt(&f, 2, "b", "x y", NULL, 0, false);
	ck_assert_uint_eq(N(&f, ISL), 1);
	ck_assert_uint_eq(U(&f, ISL, 0), 2);
	teardown(&f);
}
END_TEST

START_TEST(test_osl_counts_full_output_text)
{
	struct fixture f;
	/* Concatenated with no separator: "hellowor" + "ld x" = 2 words... */
	static const struct event_str rsn[] = { { "hel", 3 }, { "lo", 2 } };
	static const struct event_str out[] = { { "wor", 3 }, { "ld x", 4 } };
	static const struct event_str one[] = { { "just four words here", 20 } };

	setup(&f, false, true);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "a");
	ISSUE(&f, 2, "b");
	ISSUE(&f, 3, "c");
	ISSUE(&f, 4, "d");
	done_text(&f, 10, "a", EVENT_TEXT_LIST, out, 2, EVENT_TEXT_LIST, rsn,
	    2);
	done_text(&f, 11, "b", EVENT_TEXT_STRING, one, 1, EVENT_TEXT_ABSENT,
	    NULL, 0);
	done_text(&f, 12, "c", EVENT_TEXT_STRING, one, 1, EVENT_TEXT_STRING,
	    out + 1, 1);		/* "ld x" + "just four words here" */
	DONE(&f, 13, "d");		/* no data: no OSL */
	ck_assert_uint_eq(N(&f, OSL), 3);
	ck_assert_uint_eq(U(&f, OSL, 0), 2);
	ck_assert_uint_eq(U(&f, OSL, 1), 4);
	ck_assert_uint_eq(U(&f, OSL, 2), 5);	/* "ld", "xjust", ... */
	teardown(&f);

	/* No tokenizer: no OSL at all. */
	setup(&f, false, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "a");
	done_text(&f, 10, "a", EVENT_TEXT_LIST, out, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, OSL), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_tpot_value_and_skip_rules)
{
	struct fixture f;
	static const struct event_str out[] = { { "first", 5 },
	    { " a b", 4 }, { " c", 2 } };

	setup(&f, true, true);
	TRACK_ON(&f, 0);
	ISSUE(&f, 0, "ok");
	FIRST(&f, 100, "ok");
	done_text(&f, 1100, "ok", EVENT_TEXT_LIST, out, 3, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, TPOT_NS), 1);
	ck_assert(fabs(F(&f, TPOT_NS, 0) - 1000.0 / 3.0) < 1e-9);

	/* No recv_first seen: skipped. */
	ISSUE(&f, 0, "nofirst");
	NEXT(&f, 50, "nofirst");
	done_text(&f, 900, "nofirst", EVENT_TEXT_LIST, out, 3,
	    EVENT_TEXT_ABSENT, NULL, 0);
	/* Nothing after the first chunk: count 0, skipped. */
	ISSUE(&f, 0, "zero");
	FIRST(&f, 10, "zero");
	done_text(&f, 90, "zero", EVENT_TEXT_LIST, out, 1, EVENT_TEXT_ABSENT,
	    NULL, 0);
	/* Whitespace-only text after the first chunk: 0 words, skipped. */
	static const struct event_str ws[] = { { "w", 1 }, { "  \n", 3 } };
	ISSUE(&f, 0, "blank");
	FIRST(&f, 10, "blank");
	done_text(&f, 90, "blank", EVENT_TEXT_LIST, ws, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, TPOT_NS), 1);
	ck_assert_uint_eq(N(&f, OSL), 4);
	teardown(&f);

	/* Streaming without a tokenizer: TTFT yes, TPOT no. */
	setup(&f, true, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 0, "s");
	FIRST(&f, 100, "s");
	done_text(&f, 1100, "s", EVENT_TEXT_LIST, out, 3, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, TTFT_NS), 1);
	ck_assert_uint_eq(N(&f, TPOT_NS), 0);
	teardown(&f);
}
END_TEST

/*
 * Text after the first chunk, for every reasoning form x output form.
 * Words are chosen so each chunk's contribution is visible in the count;
 * output chunks start with a space so they do not merge with the word
 * that ends the reasoning (the texts are joined with no separator).
 */
START_TEST(test_tpot_text_after_first_chunk_variants)
{
	static const struct event_str rl[] = { { "r1", 2 }, { " r2 r2", 6 },
	    { " r3", 3 } };				/* list: 1 + 2 + 1 */
	static const struct event_str rs[] = { { "rs rs", 5 } };
	static const struct event_str ol[] = { { " o1", 3 }, { " o2 o2 o2", 9 },
	    { " o3", 3 } };				/* list: 1 + 3 + 1 */
	static const struct event_str os[] = { { " os os os os", 12 } };
	static const struct {
		enum event_text_form rf;
		const struct event_str *r;
		size_t rn;
		enum event_text_form of;
		const struct event_str *o;
		size_t on;
		uint64_t want;	/* 0: skipped */
	} cases[] = {
		/* Reasoning absent: output chunks after the first. */
		{ EVENT_TEXT_ABSENT, NULL, 0, EVENT_TEXT_LIST, ol, 3, 4 },
		{ EVENT_TEXT_ABSENT, NULL, 0, EVENT_TEXT_STRING, os, 1, 0 },
		/* Reasoning list: its chunks after the first, plus all output. */
		{ EVENT_TEXT_LIST, rl, 3, EVENT_TEXT_LIST, ol, 3, 3 + 5 },
		{ EVENT_TEXT_LIST, rl, 3, EVENT_TEXT_STRING, os, 1, 3 + 4 },
		/* Reasoning string: all output chunks; a string output: none. */
		{ EVENT_TEXT_STRING, rs, 1, EVENT_TEXT_LIST, ol, 3, 5 },
		{ EVENT_TEXT_STRING, rs, 1, EVENT_TEXT_STRING, os, 1, 0 },
		/* A one-chunk reasoning list: nothing of it, all output. */
		{ EVENT_TEXT_LIST, rl, 1, EVENT_TEXT_LIST, ol, 3, 5 },
		/* An empty reasoning list still counts as present. */
		{ EVENT_TEXT_LIST, rl, 0, EVENT_TEXT_STRING, os, 1, 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;

		setup(&f, true, true);
		TRACK_ON(&f, 0);
		ISSUE(&f, 0, "s");
		FIRST(&f, 1000, "s");
		done_text(&f, 1000 + 840, "s", cases[i].of, cases[i].o,
		    cases[i].on, cases[i].rf, cases[i].r, cases[i].rn);
		if (cases[i].want == 0) {
			ck_assert_msg(N(&f, TPOT_NS) == 0, "case %zu", i);
		} else {
			ck_assert_msg(N(&f, TPOT_NS) == 1, "case %zu", i);
			ck_assert_msg(F(&f, TPOT_NS, 0) ==
			    840.0 / (double)cases[i].want, "case %zu: %g", i,
			    F(&f, TPOT_NS, 0));
		}
		teardown(&f);
	}
}
END_TEST

/* ---- Hostile and odd input ---- */

START_TEST(test_negative_intervals_counted_not_stored)
{
	struct fixture f;
	static const struct event_str out[] = { { "a", 1 }, { " b", 2 } };

	setup(&f, true, true);
	START(&f, 1000);
	TRACK_ON(&f, 1000);
	ISSUE(&f, 1000, "s");
	FIRST(&f, 900, "s");		/* ttft < 0 */
	NEXT(&f, 800, "s");		/* delta < 0 */
	done_text(&f, 700, "s", EVENT_TEXT_LIST, out, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);			/* latency < 0, tpot < 0 */
	ck_assert_uint_eq(C(&f, NEGATIVE_INTERVALS), 4);
	ck_assert_uint_eq(N(&f, TTFT_NS) + N(&f, CHUNK_DELTA_NS) +
	    N(&f, SAMPLE_LATENCY_NS) + N(&f, TPOT_NS), 0);
	ck_assert_uint_eq(N(&f, OSL), 1);
	/* The block ended before it started: it lasts 0, not forever. */
	END(&f, 2000);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_extreme_timestamps_do_not_overflow)
{
	struct fixture f;

	setup(&f, false, false);
	START(&f, INT64_MIN);
	TRACK_ON(&f, INT64_MIN);
	ISSUE(&f, INT64_MIN, "s");
	DONE(&f, INT64_MAX, "s");
	END(&f, INT64_MAX);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), UINT64_MAX);
	ck_assert_uint_eq(C(&f, TOTAL_DURATION_NS), UINT64_MAX);
	ck_assert_uint_eq(C(&f, TRACKED_DURATION_NS), UINT64_MAX);
	teardown(&f);
}
END_TEST

START_TEST(test_event_without_timestamp_dropped_but_end_honoured)
{
	struct fixture f;
	struct event e = ev(EVENT_SAMPLE_ISSUED, 0, "s");

	setup(&f, false, false);
	TRACK_ON(&f, 0);
	e.has_timestamp = false;
	ck_assert_int_eq(aggregator_event_feed(f.a, &e), 0);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 0);
	ck_assert_uint_eq(C(&f, EVENTS_WITHOUT_TIMESTAMP), 1);
	e = ev(EVENT_SESSION_ENDED, 0, NULL);
	e.has_timestamp = false;
	ck_assert_int_eq(aggregator_event_feed(f.a, &e), AGGREGATOR_ENDED);
	ck_assert(aggregator_ended(f.a));
	teardown(&f);
}
END_TEST

START_TEST(test_in_flight_table_many_samples_any_order)
{
	/* 50000 samples of assorted uuid lengths, completed shuffled. */
	enum { NS = 50000 };
	struct fixture f;
	static char uuids[NS][64];
	static int order[NS];
	uint64_t x = 88172645463325252ull;

	setup(&f, false, false);
	TRACK_ON(&f, 0);
	for (int i = 0; i < NS; i++) {
		int pad = i % 5 == 0 ? 40 : 0;	/* some need a heap copy */
		snprintf(uuids[i], sizeof(uuids[i]), "%0*d-%d", pad, i, i * 7);
		ISSUE(&f, i, uuids[i]);
		order[i] = i;
	}
	ck_assert_uint_eq(aggregator_in_flight(f.a), NS);
	ck_assert_uint_eq(C(&f, SAMPLES_IN_FLIGHT), NS);
	for (int i = NS - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int j = (int)(x % (uint64_t)(i + 1));
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < NS; k++) {
		int i = order[k];
		/* latency i+1000 proves the right row was found */
		DONE(&f, 2 * (int64_t)i + 1000, uuids[i]);
		ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), (size_t)k + 1);
		ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, k), (uint64_t)i + 1000);
		if (k % 997 == 0) {
			/* A completed sample is gone for good. */
			DONE(&f, 1, uuids[i]);
			ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), (size_t)k + 1);
		}
	}
	ck_assert_uint_eq(aggregator_in_flight(f.a), 0);
	ck_assert_uint_eq(C(&f, TRACKED_SAMPLES_COMPLETED), NS);
	teardown(&f);
}
END_TEST

START_TEST(test_in_flight_limit_counts_overflow)
{
	struct fixture f;
	struct aggregator_sink sink = { NULL, mem_counter_set,
	    mem_series_append, mem_named_set };
	char err[128];

	memset(&f, 0, sizeof(f));
	f.m.cfg.max_in_flight = 2;
	sink.arg = &f.m;
	ck_assert_int_eq(aggregator_new(&f.a, &f.m.cfg, &sink, err,
	    sizeof(err)), 0);
	TRACK_ON(&f, 0);
	ISSUE(&f, 1, "a");
	ISSUE(&f, 2, "b");
	ISSUE(&f, 3, "c");
	ck_assert_uint_eq(aggregator_in_flight(f.a), 2);
	ck_assert_uint_eq(C(&f, IN_FLIGHT_OVERFLOW), 1);
	DONE(&f, 4, "c");
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 0);
	DONE(&f, 5, "a");
	ISSUE(&f, 6, "c");
	ck_assert_uint_eq(aggregator_in_flight(f.a), 2);
	teardown(&f);
}
END_TEST

START_TEST(test_series_append_failures_counted)
{
	struct fixture f;

	setup(&f, false, false);
	TRACK_ON(&f, 0);
	ISSUE(&f, 0, "a");
	ISSUE(&f, 0, "b");
	f.m.fail_appends = 1;
	DONE(&f, 5, "a");
	DONE(&f, 6, "b");
	ck_assert_uint_eq(C(&f, SERIES_APPEND_ERRORS), 1);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 1);
	ck_assert_uint_eq(U(&f, SAMPLE_LATENCY_NS, 0), 6);
	teardown(&f);
}
END_TEST

START_TEST(test_frame_feed_counts_decode_errors_by_class)
{
	struct fixture f;
	struct wire_frame_stats st;
	unsigned char frame[WIRE_TOPIC_LEN + 8] = "batch";
	struct wire_buf b = { 0 };
	char err[128];
	struct event e = ev(EVENT_SAMPLE_ISSUED, 5, "s");

	setup(&f, false, false);
	/* Batch of: int (bad record), bin of a reserved byte (bad record). */
	frame[WIRE_TOPIC_LEN] = 0x92;
	frame[WIRE_TOPIC_LEN + 1] = 0x01;
	frame[WIRE_TOPIC_LEN + 2] = 0xc4;
	frame[WIRE_TOPIC_LEN + 3] = 0x01;
	frame[WIRE_TOPIC_LEN + 4] = 0xc1;
	ck_assert_int_eq(aggregator_wire_feed(&f.w, frame, WIRE_TOPIC_LEN + 5,
	    &st), 0);
	ck_assert_uint_eq(C(&f, DECODE_BAD_RECORDS), 2);
	ck_assert_uint_eq(C(&f, DECODE_ERRORS), 2);
	/* A truncated single frame. */
	memcpy(frame, "sample.issued\0", 14);
	frame[WIRE_TOPIC_LEN] = 0x82;
	ck_assert_int_eq(aggregator_wire_feed(&f.w, frame, WIRE_TOPIC_LEN + 1,
	    NULL), 0);
	ck_assert_uint_eq(C(&f, DECODE_MALFORMED), 1);
	ck_assert_uint_eq(C(&f, DECODE_ERRORS), 3);
	/* A good frame still goes through. */
	ck_assert_int_eq(wire_frame_encode(&e, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(aggregator_wire_feed(&f.w, b.data, b.len, &st), 0);
	ck_assert_uint_eq(C(&f, TOTAL_SAMPLES_ISSUED), 1);
	/* A short frame is ignored, not an error. */
	ck_assert_int_eq(aggregator_wire_feed(&f.w, b.data, WIRE_TOPIC_LEN,
	    &st), 0);
	ck_assert(st.ignored);
	ck_assert_uint_eq(C(&f, DECODE_ERRORS), 3);
	wire_buf_free(&b);
	teardown(&f);
}
END_TEST

/* ---- Tokenizer ---- */

static uint64_t
words(const struct tokenizer *tok, const char *s)
{
	uint64_t n = 99;

	ck_assert_int_eq(tokenizer_count_text(tok, s, strlen(s), &n), 0);
	return n;
}

START_TEST(test_tokenizer_whitespace_counts_like_str_split)
{
	struct tokenizer *tok;
	char err[128];

	ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err, sizeof(err)),
	    0);
	ck_assert_str_eq(tok->name, "whitespace");
	ck_assert_uint_eq(words(tok, ""), 0);
	ck_assert_uint_eq(words(tok, "   \t\n"), 0);
	ck_assert_uint_eq(words(tok, "one"), 1);
	ck_assert_uint_eq(words(tok, " one  two\tthree\nfour\r\n"), 4);
	ck_assert_uint_eq(words(tok, "a\vb\fc\x1c" "d\x1f" "e"), 5);
	/* Unicode spaces: NBSP, EM SPACE, IDEOGRAPHIC SPACE, NEL. */
	ck_assert_uint_eq(words(tok, "a\xc2\xa0" "b\xe2\x80\x83" "c\xe3\x80\x80"
	    "d\xc2\x85" "e"), 5);
	/* Non-space multibyte and invalid bytes are word characters. */
	ck_assert_uint_eq(words(tok, "h\xc3\xa9llo w\xff\xfe"), 2);
	ck_assert_uint_eq(words(tok, "\xe2\x80"), 1);	/* truncated */

	/* Across chunks: a word split over chunks counts once. */
	struct event_str ch[] = { { "hel", 3 }, { "lo wor", 6 }, { "", 0 },
	    { "ld ", 3 }, { " x", 2 } };
	uint64_t n;
	ck_assert_int_eq(tokenizer_count(tok, ch, 5, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(tokenizer_count(tok, ch, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	tokenizer_close(tok);
}
END_TEST

START_TEST(test_tokenizer_unknown_name_lists_available)
{
	struct tokenizer *tok = NULL;
	char err[256];

	/* Two slashes: neither a path that exists nor a hub id. */
	ck_assert_int_eq(tokenizer_open(&tok, "no/such/tok", err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_null(tok);
	ck_assert_str_eq(err, "tokenizer no/such/tok: no such file or "
	    "directory, and not a hub model id; available built-in: "
	    "whitespace");
}
END_TEST

/*
 * A Hugging Face tokenizer (a small fixture): texts with invalid UTF-8 are
 * still counted (each maximal invalid sequence as U+FFFD) and counted
 * again in tokenizer_invalid_utf8, for prompts and outputs alike; valid
 * text leaves that key alone.
 */
START_TEST(test_invalid_utf8_counted_and_reported)
{
	struct aggregator_sink sink = { NULL, mem_counter_set,
	    mem_series_append, mem_named_set };
	struct event_str good[] = { { "hello ", 6 }, { "world", 5 } };
	struct event_str bad[] = { { "caf\xc3", 4 }, { "\xff x", 3 } };
	struct tokenizer *tok = NULL;
	struct fixture f;
	char err[512];

	ck_assert_msg(tokenizer_open(&tok, "tests/data/tok_bytelevel.json",
	    err, sizeof(err)) == 0, "%s", err);
	memset(&f, 0, sizeof(f));
	f.m.cfg.streaming = true;
	f.m.cfg.tok = tok;
	sink.arg = &f.m;
	ck_assert_int_eq(aggregator_new(&f.a, &f.m.cfg, &sink, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(aggregator_wire_init(&f.w, f.a, err, sizeof(err)), 0);

	START(&f, 0);
	TRACK_ON(&f, 0);
	issue_prompt(&f, 1, "a", "plain prompt", NULL, 0, false);
	done_text(&f, 5, "a", EVENT_TEXT_LIST, good, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, ISL), 1);
	ck_assert_uint_eq(N(&f, OSL), 1);
	ck_assert_uint_eq(C(&f, TOKENIZER_INVALID_UTF8), 0);

	issue_prompt(&f, 6, "b", "bad \xe2\x82 prompt", NULL, 0, false);
	ck_assert_uint_eq(N(&f, ISL), 2);
	ck_assert_uint_eq(C(&f, TOKENIZER_INVALID_UTF8), 1);
	done_text(&f, 9, "b", EVENT_TEXT_LIST, bad, 2, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, OSL), 2);
	ck_assert(U(&f, OSL, 1) > 0);
	ck_assert_uint_eq(C(&f, TOKENIZER_INVALID_UTF8), 2);
	ck_assert_uint_eq(C(&f, TOKENIZER_ERRORS), 0);
	teardown(&f);
	tokenizer_close(tok);
}
END_TEST


/* ---- Token threads: the same values as inline ---- */

static void
setup_cfg(struct fixture *f, const struct aggregator_config *cfg)
{
	struct aggregator_sink sink = { NULL, mem_counter_set,
	    mem_series_append, mem_named_set };
	char err[256];

	memset(f, 0, sizeof(*f));
	f->m.cfg = *cfg;
	sink.arg = &f->m;
	ck_assert_msg(aggregator_new(&f->a, &f->m.cfg, &sink, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(aggregator_wire_init(&f->w, f->a, err, sizeof(err)),
	    0);
}

/*
 * A streaming session with every kind of value that depends on a count,
 * mixed with values that do not: prompts as text (some with invalid
 * UTF-8), as token ids or absent; outputs as chunk lists, strings, with
 * reasoning as a list or a string, or no text at all; samples without a
 * first chunk, and completions before their first chunk (a negative
 * tpot interval); several in flight at once, completing out of order.
 */
static void
token_session(struct fixture *f)
{
	static const struct event_str out[4] = { { "Hello", 5 },
	    { " big wide", 9 }, { " world of\xff text", 15 }, { " !", 2 } };
	static const struct event_str rsn[2] = { { "think ", 6 },
	    { "caf\xc3 more", 9 } };
	static const struct event_str str[1] = { { "a single answer", 15 } };
	static const int64_t ids[5] = { 1, 2, 3, 4, 5 };
	static const char *prompts[3] = { "a short prompt", "bad \xe2\x82 one",
	    "" };
	char u[8][16];

	START(f, 0);
	TRACK_ON(f, 0);
	for (int i = 0; i < 240; i++) {
		int64_t t = 1000 + (int64_t)i * 100;
		int k = i % 8;	/* 8 samples in flight */

		if (i >= 8) {
			/* Complete the sample issued 8 steps ago. */
			int j = i - 8;
			int64_t c = j % 7 == 3 ? t - 790 : t;	/* < first */

			switch (j % 6) {
			case 0:
				done_text(f, c, u[k], EVENT_TEXT_LIST, out, 4,
				    EVENT_TEXT_ABSENT, NULL, 0);
				break;
			case 1:
				done_text(f, c, u[k], EVENT_TEXT_LIST, out, 2,
				    EVENT_TEXT_LIST, rsn, 2);
				break;
			case 2:
				done_text(f, c, u[k], EVENT_TEXT_STRING, str, 1,
				    EVENT_TEXT_STRING, rsn, 1);
				break;
			case 3:
				done_text(f, c, u[k], EVENT_TEXT_STRING, str, 1,
				    EVENT_TEXT_ABSENT, NULL, 0);
				break;
			case 4:
				DONE(f, c, u[k]);	/* no text */
				break;
			default:
				done_text(f, c, u[k], EVENT_TEXT_LIST, out + 1,
				    j % 2 ? 1 : 0, EVENT_TEXT_LIST, rsn, 1);
				break;
			}
		}
		snprintf(u[k], sizeof(u[k]), "s%d", i);
		if (i % 3 == 0)
			issue_prompt(f, t, u[k], prompts[i % 9 / 3], NULL, 0,
			    false);
		else if (i % 3 == 1)
			issue_prompt(f, t, u[k], NULL, ids, 5, true);
		else
			ISSUE(f, t, u[k]);
		if (i % 5 != 0)
			FIRST(f, t + 20, u[k]);
		NEXT(f, t + 40, u[k]);
	}
	END(f, 1000000);
	while (aggregator_tokens_wait(f->a, -1) > 0)
		;
}

static void
same_values(const struct memsink *a, const struct memsink *b,
    const char *what)
{
	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		const char *name = metric_key_info(k)->name;

		ck_assert_msg(a->counter[k] == b->counter[k], "%s: counter %s: "
		    "%ju != %ju", what, name, (uintmax_t)a->counter[k],
		    (uintmax_t)b->counter[k]);
		ck_assert_msg(a->n[k] == b->n[k], "%s: series %s: %zu values, "
		    "%zu inline", what, name, b->n[k], a->n[k]);
		ck_assert_msg(a->n[k] == 0 || memcmp(a->series[k],
		    b->series[k], a->n[k] * sizeof(a->series[k][0])) == 0,
		    "%s: series %s differs", what, name);
	}
}

/*
 * Inline, on 1 and 3 threads, and on 2 threads with a queue that holds
 * one text at a time (every push waits for room): the same counters and
 * the same series, bit for bit, with the built-in counter and with a
 * tokenizer.json (whose repairs of invalid UTF-8 are counted too).
 */
START_TEST(test_token_threads_store_what_inline_stores)
{
	static const char *toks[2] = { "whitespace",
	    "tests/data/tok_bytelevel.json" };
	static const struct { unsigned threads; size_t queue; } runs[3] = {
	    { 1, 0 }, { 3, 0 }, { 2, 1 } };

	for (int t = 0; t < 2; t++) {
		struct aggregator_config cfg = { .streaming = true };
		struct tokenizer *tok;
		struct fixture in, th;
		char err[512], what[64];

		ck_assert_msg(tokenizer_open(&tok, toks[t], err,
		    sizeof(err)) == 0, "%s", err);
		cfg.tok = tok;
		setup_cfg(&in, &cfg);
		ck_assert(!aggregator_tokens_threaded(in.a));
		token_session(&in);
		ck_assert_uint_gt(in.m.n[METRIC_OSL], 100);
		ck_assert_uint_gt(in.m.n[METRIC_TPOT_NS], 50);
		ck_assert_uint_gt(in.m.n[METRIC_ISL], 100);
		ck_assert_uint_gt(in.m.counter[METRIC_NEGATIVE_INTERVALS], 0);
		if (t == 1)
			ck_assert_uint_gt(
			    in.m.counter[METRIC_TOKENIZER_INVALID_UTF8], 0);
		for (int r = 0; r < 3; r++) {
			cfg.token_threads = runs[r].threads;
			cfg.token_queue_bytes = runs[r].queue;
			setup_cfg(&th, &cfg);
			ck_assert(aggregator_tokens_threaded(th.a));
			token_session(&th);
			snprintf(what, sizeof(what), "%s, %u threads%s", toks[t],
			    runs[r].threads, runs[r].queue ? ", tiny queue" : "");
			same_values(&in.m, &th.m, what);
			ck_assert_uint_gt(th.m.sets[METRIC_TOKEN_WORK_PENDING],
			    0);
			teardown(&th);
		}
		cfg.token_threads = 0;
		teardown(&in);
		tokenizer_close(tok);
	}
}
END_TEST

/* A tokenizer that cannot be cloned (as when memory runs out). */
static int
clone_fails(struct tokenizer **out, const struct tokenizer *tok, char *err,
    size_t errlen)
{
	(void)out;
	snprintf(err, errlen, "tokenizer %s: out of memory", tok->name);
	return -ENOMEM;
}

/* A worker whose tokenizer cannot be cloned fails aggregator_new, naming
 * the thread and the tokenizer. */
START_TEST(test_token_threads_need_clonable_tokenizer)
{
	struct tokenizer odd = { .name = "/nonexistent/tokenizer.json",
	    .count = NULL, .clone = clone_fails };
	struct aggregator_config cfg = { .tok = &odd, .token_threads = 2 };
	struct aggregator_sink sink = { NULL, mem_counter_set,
	    mem_series_append, mem_named_set };
	struct memsink m;
	struct aggregator *a = NULL;
	char err[512];

	memset(&m, 0, sizeof(m));
	sink.arg = &m;
	ck_assert_int_eq(aggregator_new(&a, &cfg, &sink, err, sizeof(err)),
	    -ENOMEM);
	ck_assert_msg(strstr(err, "token thread 2") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "/nonexistent/tokenizer.json") != NULL, "%s",
	    err);
	cfg.token_threads = AGGREGATOR_MAX_TOKEN_THREADS + 1;
	ck_assert_int_eq(aggregator_new(&a, &cfg, &sink, err, sizeof(err)),
	    -EINVAL);
}
END_TEST

/* ---- Keys for `metricsd report` ---- */

START_TEST(test_tpot_e2e_and_aligned_series)
{
	struct fixture f;
	static const struct event_str out[] = { { "first", 5 },
	    { " a b", 4 }, { " c", 2 } };	/* osl 4 */
	static const struct event_str one[] = { { "one", 3 } };	/* osl 1 */

	setup(&f, true, true);
	TRACK_ON(&f, 0);
	ISSUE(&f, 0, "ok");
	FIRST(&f, 100, "ok");
	done_text(&f, 1000, "ok", EVENT_TEXT_LIST, out, 3, EVENT_TEXT_ABSENT,
	    NULL, 0);
	/* (latency - ttft) / (osl - 1) = (1000 - 100) / 3 */
	ck_assert_uint_eq(N(&f, TPOT_E2E_NS), 1);
	ck_assert(F(&f, TPOT_E2E_NS, 0) == 300.0);
	/* osl 1: undefined. */
	ISSUE(&f, 0, "one");
	FIRST(&f, 10, "one");
	done_text(&f, 50, "one", EVENT_TEXT_LIST, one, 1, EVENT_TEXT_ABSENT,
	    NULL, 0);
	/* No TTFT: undefined, and no TTFT in the aligned series. */
	ISSUE(&f, 0, "nofirst");
	done_text(&f, 70, "nofirst", EVENT_TEXT_LIST, out, 3,
	    EVENT_TEXT_ABSENT, NULL, 0);
	/* No text output at all: no osl. */
	ISSUE(&f, 5, "plain");
	FIRST(&f, 6, "plain");
	DONE(&f, 9, "plain");
	ck_assert_uint_eq(N(&f, TPOT_E2E_NS), 1);
	ck_assert_uint_eq(N(&f, SAMPLE_GOOD_LATENCY_NS), 4);
	ck_assert_uint_eq(N(&f, SAMPLE_GOOD_TTFT_NS), 4);
	ck_assert_uint_eq(N(&f, SAMPLE_GOOD_TPOT_E2E_NS), 4);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_LATENCY_NS, 0), 1000);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_TTFT_NS, 0), 100);
	ck_assert(F(&f, SAMPLE_GOOD_TPOT_E2E_NS, 0) == 300.0);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_LATENCY_NS, 1), 50);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_TTFT_NS, 1), 10);
	ck_assert(F(&f, SAMPLE_GOOD_TPOT_E2E_NS, 1) == -1.0);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_TTFT_NS, 2), AGGREGATOR_NO_VALUE);
	ck_assert(F(&f, SAMPLE_GOOD_TPOT_E2E_NS, 2) == -1.0);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_LATENCY_NS, 3), 4);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_TTFT_NS, 3), 1);
	ck_assert(F(&f, SAMPLE_GOOD_TPOT_E2E_NS, 3) == -1.0);
	/* The existing keys keep their meaning. */
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 4);
	ck_assert_uint_eq(N(&f, TTFT_NS), 3);
	teardown(&f);

	/* Not streaming: latency only; untracked samples write nothing. */
	setup(&f, false, true);
	ISSUE(&f, 0, "untracked");
	DONE(&f, 5, "untracked");
	TRACK_ON(&f, 10);
	ISSUE(&f, 10, "a");
	DONE(&f, 5, "a");		/* negative: no latency value */
	ISSUE(&f, 20, "b");
	done_text(&f, 70, "b", EVENT_TEXT_LIST, out, 3, EVENT_TEXT_ABSENT,
	    NULL, 0);
	ck_assert_uint_eq(N(&f, SAMPLE_GOOD_LATENCY_NS), 2);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_LATENCY_NS, 0),
	    AGGREGATOR_NO_VALUE);
	ck_assert_uint_eq(U(&f, SAMPLE_GOOD_LATENCY_NS, 1), 50);
	ck_assert_uint_eq(N(&f, SAMPLE_LATENCY_NS), 1);
	ck_assert_uint_eq(N(&f, TPOT_E2E_NS), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_loadgen_window_timestamps)
{
	struct fixture f;

	setup(&f, false, false);
	START(&f, 0);
	ISSUE(&f, 5, "untracked");
	ck_assert_uint_eq(C(&f, LOADGEN_FIRST_ISSUED_TS), 0);
	TRACK_ON(&f, 10);
	ISSUE(&f, 100, "a");
	ISSUE(&f, 200, "b");
	ck_assert_int_eq((int64_t)C(&f, LOADGEN_FIRST_ISSUED_TS), 100);
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 0);
	DONE(&f, 900, "a");		/* not the last issued */
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 0);
	DONE(&f, 700, "b");
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 1);
	ck_assert_int_eq((int64_t)C(&f, LOADGEN_LAST_ISSUED_COMPLETE_TS),
	    700);
	/* A new issue reopens the window's end; a duplicate does not. */
	ISSUE(&f, 1000, "c");
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 0);
	ISSUE(&f, 1100, "d");
	ISSUE(&f, 1150, "c");		/* duplicate of c in flight */
	DONE(&f, 1200, "c");
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 0);
	TRACK_OFF(&f, 1300);
	ISSUE(&f, 1400, "untracked2");	/* not tracked: no effect */
	DONE(&f, 1500, "d");
	ck_assert_uint_eq(C(&f, LOADGEN_LAST_ISSUED_DONE), 1);
	ck_assert_int_eq((int64_t)C(&f, LOADGEN_LAST_ISSUED_COMPLETE_TS),
	    1500);
	ck_assert_int_eq((int64_t)C(&f, LOADGEN_FIRST_ISSUED_TS), 100);
	/* Negative timestamps are kept as they are (I64). */
	TRACK_ON(&f, 1600);
	ISSUE(&f, 1700, "e");
	DONE(&f, -5, "e");
	ck_assert_int_eq((int64_t)C(&f, LOADGEN_LAST_ISSUED_COMPLETE_TS), -5);
	teardown(&f);
}
END_TEST

static int
done_reason(struct fixture *f, int64_t ts, const char *uuid,
    const char *reason)
{
	struct event e = ev(EVENT_SAMPLE_COMPLETE, ts, uuid);

	e.has_finish_reason = true;
	e.finish_reason = (struct event_str){ reason, strlen(reason) };
	return aggregator_event_feed(f->a, &e);
}

START_TEST(test_finish_reason_counts_bounded_and_sanitized)
{
	struct fixture f;
	char uuid[32], reason[64];
	char name[AGGREGATOR_FINISH_REASON_MAX_LEN + 1];

	aggregator_finish_reason_name("Stop", 4, name);
	ck_assert_str_eq(name, "stop");
	aggregator_finish_reason_name("a/../b\n\xff", 8, name);
	ck_assert_str_eq(name, "a____b__");
	aggregator_finish_reason_name("", 0, name);
	ck_assert_str_eq(name, "empty");
	memset(reason, 'x', 60);
	aggregator_finish_reason_name(reason, 60, name);
	ck_assert_uint_eq(strlen(name), AGGREGATOR_FINISH_REASON_MAX_LEN);

	setup(&f, false, false);
	DONE(&f, 1, "not-tracked");
	TRACK_ON(&f, 0);
	ISSUE(&f, 0, "u0");
	done_reason(&f, 5, "u0", "stop");
	ISSUE(&f, 0, "u1");
	done_reason(&f, 5, "u1", "STOP");
	ISSUE(&f, 0, "u2");
	done_reason(&f, 5, "u2", "length");
	ck_assert_str_eq(f.m.named[0], "finish_reason_stop");
	ck_assert_uint_eq(f.m.named_v[0], 2);
	ck_assert_str_eq(f.m.named[1], "finish_reason_length");
	ck_assert_uint_eq(f.m.named_v[1], 1);
	/* A hostile stream: 100 distinct reasons, 16 names at most. */
	for (int i = 0; i < 100; i++) {
		snprintf(uuid, sizeof(uuid), "h%d", i);
		snprintf(reason, sizeof(reason), "r%d", i);
		ISSUE(&f, 0, uuid);
		done_reason(&f, 5, uuid, reason);
	}
	ck_assert_str_eq(f.m.named[15], "finish_reason_r13");
	ck_assert_uint_eq(C(&f, FINISH_REASONS_DROPPED), 86);
	/* Known names are still counted after the cap. */
	ISSUE(&f, 0, "last");
	done_reason(&f, 5, "last", "stop");
	ck_assert_uint_eq(f.m.named_v[0], 3);
	teardown(&f);
}
END_TEST

Suite *
aggregator_suite(void)
{
	Suite *s = suite_create("aggregator");
	TCase *win = tcase_create("windows");
	TCase *ses = tcase_create("session");
	TCase *smp = tcase_create("samples");
	TCase *tok = tcase_create("tokens");
	TCase *bad = tcase_create("hostile");

	tcase_add_test(win, test_metric_key_table_complete);
	tcase_add_test(win, test_only_samples_issued_in_window_are_tracked);
	tcase_add_test(win, test_in_flight_sample_keeps_producing_after_stop);
	tcase_add_test(win, test_block_duration_runs_to_latest_own_completion);
	tcase_add_test(win, test_reopened_window_and_empty_blocks);
	tcase_add_test(win, test_many_windows_release_their_blocks);
	suite_add_tcase(s, win);

	tcase_add_test(ses, test_total_duration_is_max_since_started);
	tcase_add_test(ses, test_ended_stops_processing_rest_of_batch);
	tcase_add_test(ses, test_error_events_count_as_failed);
	tcase_add_test(ses, test_stop_loadgen_changes_nothing);
	suite_add_tcase(s, ses);

	tcase_add_test(smp, test_duplicate_issued_keeps_existing_row);
	tcase_add_test(smp, test_untracked_samples_produce_no_series);
	tcase_add_test(smp, test_empty_uuid_sample_events_ignored);
	tcase_add_test(smp, test_chunk_deltas_between_consecutive_receives);
	tcase_add_test(smp, test_streaming_off_produces_no_streaming_series);
	suite_add_tcase(s, smp);

	tcase_add_test(tok, test_isl_from_token_ids_or_text);
	tcase_add_test(tok, test_osl_counts_full_output_text);
	tcase_add_test(tok, test_tpot_value_and_skip_rules);
	tcase_add_test(tok, test_tpot_e2e_and_aligned_series);
	tcase_add_test(tok, test_loadgen_window_timestamps);
	tcase_add_test(tok, test_finish_reason_counts_bounded_and_sanitized);
	tcase_add_test(tok, test_tpot_text_after_first_chunk_variants);
	tcase_add_test(tok, test_tokenizer_whitespace_counts_like_str_split);
	tcase_add_test(tok, test_tokenizer_unknown_name_lists_available);
	tcase_add_test(tok, test_invalid_utf8_counted_and_reported);
	tcase_add_test(tok, test_token_threads_store_what_inline_stores);
	tcase_add_test(tok, test_token_threads_need_clonable_tokenizer);
	suite_add_tcase(s, tok);

	tcase_add_test(bad, test_negative_intervals_counted_not_stored);
	tcase_add_test(bad, test_extreme_timestamps_do_not_overflow);
	tcase_add_test(bad, test_event_without_timestamp_dropped_but_end_honoured);
	tcase_add_test(bad, test_in_flight_table_many_samples_any_order);
	tcase_add_test(bad, test_in_flight_limit_counts_overflow);
	tcase_add_test(bad, test_series_append_failures_counted);
	tcase_add_test(bad, test_frame_feed_counts_decode_errors_by_class);
	suite_add_tcase(s, bad);
	return s;
}
