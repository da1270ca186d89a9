/* The synthetic session behind `metricsd publish --synthetic`. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "event_json.h"
#include "synthetic.h"

/* What the tests record of each event. */
struct rec {
	enum event_type type;
	int64_t ts;
	char uuid[40];
	enum event_data_tag tag;
	size_t chunks;		/* output + reasoning items of a complete */
};

struct log {
	struct rec *r;
	size_t n, cap;
	uint64_t hash;		/* FNV-1a over the JSON of every event */
	int stop_after;		/* > 0: return -42 at this event */
};

static int
record(void *arg, const struct event *ev)
{
	struct log *l = arg;
	struct rec *r;
	json_t *o;
	char *s;

	if (l->stop_after && (int)l->n == l->stop_after)
		return -42;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		ck_assert_ptr_nonnull(l->r = realloc(l->r, l->cap * sizeof(*r)));
	}
	r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	r->type = ev->type;
	r->ts = ev->timestamp_ns;
	ck_assert_uint_lt(ev->sample_uuid.len, sizeof(r->uuid));
	memcpy(r->uuid, ev->sample_uuid.ptr, ev->sample_uuid.len);
	r->tag = ev->data_tag;
	if (ev->data_tag == EVENT_DATA_TEXT_OUTPUT)
		r->chunks = ev->data.output.output.n +
		    ev->data.output.reasoning.n;
	ck_assert_ptr_nonnull(o = event_json_build(ev));
	ck_assert_ptr_nonnull(s = json_dumps(o, JSON_COMPACT));
	for (char *p = s; *p; p++)
		l->hash = (l->hash ^ (unsigned char)*p) * 0x100000001b3ULL;
	free(s);
	json_decref(o);
	return 0;
}

static void
run(const struct synthetic_opts *o, struct log *l, struct synthetic_stats *st)
{
	memset(l, 0, sizeof(*l));
	l->hash = 0xcbf29ce484222325ULL;
	ck_assert_int_eq(synthetic_run(o, record, l, st), 0);
}

static size_t
count(const struct log *l, enum event_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->r[i].type == t;
	return n;
}

START_TEST(test_synthetic_run_is_deterministic)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log a, b, c;

	o.samples = 300;
	o.seed = 7;
	run(&o, &a, &st);
	run(&o, &b, &st);
	o.seed = 8;
	run(&o, &c, &st);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_ne(a.hash, c.hash);
	free(a.r);
	free(b.r);
	free(c.r);
}
END_TEST

/* The session frame, counts, and time only going forward. */
START_TEST(test_synthetic_run_session_shape)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;

	o.samples = 500;
	o.concurrency = 16;
	o.error_rate = 0.1;
	run(&o, &l, &st);
	ck_assert_uint_eq(st.events, l.n);
	ck_assert_int_eq(l.r[0].type, EVENT_SESSION_STARTED);
	ck_assert_int_eq(l.r[1].type, EVENT_SESSION_START_TRACKING);
	ck_assert_int_eq(l.r[l.n - 3].type, EVENT_SESSION_STOP_TRACKING);
	ck_assert_int_eq(l.r[l.n - 2].type, EVENT_SESSION_STOP_LOADGEN);
	ck_assert_int_eq(l.r[l.n - 1].type, EVENT_SESSION_ENDED);
	for (size_t i = 1; i < l.n; i++)
		ck_assert_int_le(l.r[i - 1].ts, l.r[i].ts);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_ISSUED), 500);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_COMPLETE), 500);
	ck_assert_uint_eq(st.issued, 500);
	ck_assert_uint_eq(st.completed, 500);
	ck_assert_uint_eq(count(&l, EVENT_ERROR_CLIENT), st.errors);
	/* 10% of 500: far from 0 and from 500 for any seed. */
	ck_assert_uint_gt(st.errors, 20);
	ck_assert_uint_lt(st.errors, 100);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_RECV_FIRST), 500 - st.errors);
	free(l.r);
}
END_TEST

/* Per sample: issued, receives, complete, in that order; never more than
 * `concurrency` samples in flight; uuids unique. */
START_TEST(test_synthetic_run_sample_lifecycle)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;
	size_t inflight = 0, peak = 0;

	o.samples = 200;
	o.concurrency = 5;
	o.error_rate = 0.2;
	run(&o, &l, &st);
	for (size_t i = 0; i < l.n; i++) {
		struct rec *r = &l.r[i];
		size_t recvs = 0;
		bool errored = false, done = false;

		if (r->type != EVENT_SAMPLE_ISSUED)
			continue;
		ck_assert_int_eq(r->tag, EVENT_DATA_PROMPT);
		for (size_t j = i + 1; j < l.n && !done; j++) {
			struct rec *q = &l.r[j];

			if (q->type == EVENT_SAMPLE_ISSUED)
				ck_assert_str_ne(q->uuid, r->uuid);
			if (strcmp(q->uuid, r->uuid) != 0)
				continue;
			switch (q->type) {
			case EVENT_SAMPLE_RECV_FIRST:
				ck_assert_uint_eq(recvs++, 0);
				break;
			case EVENT_SAMPLE_RECV_NON_FIRST:
				ck_assert_uint_gt(recvs++, 0);
				break;
			case EVENT_ERROR_CLIENT:
				ck_assert_uint_eq(recvs, 0);
				errored = true;
				break;
			case EVENT_SAMPLE_COMPLETE:
				if (errored) {
					ck_assert_int_eq(q->tag, EVENT_DATA_NONE);
				} else {
					ck_assert_int_eq(q->tag,
					    EVENT_DATA_TEXT_OUTPUT);
					ck_assert_uint_eq(q->chunks, recvs);
				}
				done = true;
				break;
			default:
				ck_abort_msg("unexpected event for a sample");
			}
		}
		ck_assert_msg(done, "sample %s never completed", r->uuid);
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.r[i].type == EVENT_SAMPLE_ISSUED && ++inflight > peak)
			peak = inflight;
		if (l.r[i].type == EVENT_SAMPLE_COMPLETE)
			inflight--;
	}
	ck_assert_uint_eq(peak, 5);
	free(l.r);
}
END_TEST

START_TEST(test_synthetic_run_warmup_and_no_complete)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;
	size_t issued_before = 0;

	o.samples = 50;
	o.warmup = 10;
	run(&o, &l, &st);
	for (size_t i = 0; l.r[i].type != EVENT_SESSION_START_TRACKING; i++)
		issued_before += l.r[i].type == EVENT_SAMPLE_ISSUED;
	ck_assert_uint_eq(issued_before, 10);
	ck_assert_uint_eq(count(&l, EVENT_SESSION_START_TRACKING), 1);
	free(l.r);

	o.warmup = 0;
	o.samples = 1000;
	o.complete = false;
	run(&o, &l, &st);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_ISSUED), 1000);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_COMPLETE), 0);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_RECV_FIRST), 0);
	ck_assert_int_eq(l.r[l.n - 1].type, EVENT_SESSION_ENDED);
	free(l.r);
}
END_TEST

START_TEST(test_synthetic_run_stops_and_checks_options)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l = { .stop_after = 5 };

	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -42);
	ck_assert_uint_eq(l.n, 5);
	free(l.r);
	o.concurrency = 0;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.concurrency = 1;
	o.error_rate = 1.5;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.error_rate = 0;
	o.max_chunks = 65;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
}
END_TEST

Suite *
synthetic_suite(void)
{
	Suite *s = suite_create("synthetic");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_synthetic_run_is_deterministic);
	tcase_add_test(tc, test_synthetic_run_session_shape);
	tcase_add_test(tc, test_synthetic_run_sample_lifecycle);
	tcase_add_test(tc, test_synthetic_run_warmup_and_no_complete);
	tcase_add_test(tc, test_synthetic_run_stops_and_checks_options);
	suite_add_tcase(s, tc);
	return s;
}
