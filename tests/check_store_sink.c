/* The aggregator's store sink: what a run lost marks the store
 * incomplete at once, for every reader (src/store_sink.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "event.h"
#include "store.h"
#include "store_sink.h"
#include "testutil.h"

struct sink_fixture {
	char *tmp;
	char dir[512];
	struct store_sink s;
	struct aggregator_sink iface;
};

static void
sink_setup(struct sink_fixture *f, const struct aggregator_config *cfg)
{
	char err[STORE_ERR_MAX];

	memset(f, 0, sizeof(*f));
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->tmp);
	ck_assert_msg(store_sink_open(&f->s, f->dir, cfg, err,
	    sizeof(err)) == 0, "%s", err);
	f->iface = store_sink_iface(&f->s);
}

static void
sink_teardown(struct sink_fixture *f)
{
	testutil_rmtree(f->tmp);
	free(f->tmp);
}

/* The store's incomplete flag and lost count, as a reader sees them. */
static uint64_t
lost_seen(const struct sink_fixture *f)
{
	struct store_status st;
	char err[STORE_ERR_MAX];

	ck_assert_msg(store_status_read(f->dir, &st, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert(st.exists);
	return st.incomplete ? st.lost : 0;
}

static void
set(struct sink_fixture *f, enum metric_key k, uint64_t v)
{
	f->iface.counter_set(f->iface.arg, k, (union store_value){ .u = v });
}

START_TEST(test_engine_losses_mark_incomplete)
{
	struct aggregator_config cfg;
	struct sink_fixture f;

	memset(&cfg, 0, sizeof(cfg));
	sink_setup(&f, &cfg);
	/* Other counters, however large, lose nothing. */
	set(&f, METRIC_TOTAL_SAMPLES_ISSUED, 1000);
	set(&f, METRIC_DECODE_ERRORS, 7);
	ck_assert_uint_eq(lost_seen(&f), 0);
	ck_assert_uint_eq(store_sink_lost(&f.s), 0);
	set(&f, METRIC_TOKENIZER_ERRORS, 1);
	ck_assert_uint_eq(lost_seen(&f), 1);
	set(&f, METRIC_IN_FLIGHT_OVERFLOW, 1);
	ck_assert_uint_eq(lost_seen(&f), 2);
	/* Refreshed at powers of two while the run goes on... */
	set(&f, METRIC_IN_FLIGHT_OVERFLOW, 2);
	ck_assert_uint_eq(store_sink_lost(&f.s), 3);
	ck_assert_uint_eq(lost_seen(&f), 2);
	set(&f, METRIC_TOKENIZER_ERRORS, 2);
	ck_assert_uint_eq(lost_seen(&f), 4);
	set(&f, METRIC_TOKENIZER_ERRORS, 3);
	/* ...and exact at close. */
	ck_assert_int_eq(store_sink_close(&f.s, STORE_FINAL), 0);
	ck_assert_uint_eq(store_sink_lost(&f.s), 5);
	ck_assert_uint_eq(lost_seen(&f), 5);
	sink_teardown(&f);
}
END_TEST

static void
feed(struct aggregator *a, enum event_type t, const char *uuid)
{
	struct event e = {
		.type = t,
		.timestamp_ns = 1,
		.has_timestamp = true,
		.sample_uuid = { uuid ? uuid : "", uuid ? strlen(uuid) : 0 },
	};

	ck_assert_int_ge(aggregator_event_feed(a, &e), 0);
}

/* A sample the in-flight table cannot track is a run that lost data,
 * seen by readers while the writer still runs. */
START_TEST(test_untracked_sample_marks_incomplete)
{
	struct aggregator_config cfg;
	struct sink_fixture f;
	struct aggregator *a;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_in_flight = 1;
	sink_setup(&f, &cfg);
	ck_assert_int_eq(aggregator_new(&a, &cfg, &f.iface, err,
	    sizeof(err)), 0);
	feed(a, EVENT_SESSION_START_TRACKING, NULL);
	feed(a, EVENT_SAMPLE_ISSUED, "a");
	ck_assert_uint_eq(lost_seen(&f), 0);
	feed(a, EVENT_SAMPLE_ISSUED, "b");
	ck_assert_uint_eq(aggregator_counter(a, METRIC_IN_FLIGHT_OVERFLOW), 1);
	ck_assert_uint_eq(lost_seen(&f), 1);
	aggregator_free(a);
	ck_assert_int_eq(store_sink_close(&f.s, STORE_FINAL), 0);
	ck_assert_uint_eq(lost_seen(&f), 1);
	sink_teardown(&f);
}
END_TEST

Suite *
store_sink_suite(void)
{
	Suite *s = suite_create("store_sink");
	TCase *tc = tcase_create("lost");

	tcase_add_test(tc, test_engine_losses_mark_incomplete);
	tcase_add_test(tc, test_untracked_sample_marks_incomplete);
	suite_add_tcase(s, tc);
	return s;
}
