/* report.c on snapshots built by hand (no store): the throughput rules,
 * the state line, goodput's pass/fail rules, order statistics, and the
 * JSON / text renderers. End to end against the Python model:
 * tests/integration/test_report.sh. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "report.h"
#include "rollup.h"

#define MAXK 32

struct fake {
	struct store_snap snap;
	struct store_snap_key keys[MAXK];
	struct rollup rolls[MAXK];
	union store_value *vals[MAXK];
	size_t n;
};

static void
fake_init(struct fake *f, enum store_state st, bool alive)
{
	memset(f, 0, sizeof(*f));
	f->snap.status.exists = true;
	f->snap.status.state = st;
	f->snap.status.writer_alive = alive;
	f->snap.keys = f->keys;
	f->snap.run = "run";
	f->snap.dir = "/x/run";
}

static void
counter(struct fake *f, const char *name, uint64_t v)
{
	struct store_snap_key *k = &f->keys[f->n++];

	k->name = name;
	k->state = STORE_SNAP_OK;
	k->kind = STORE_COUNTER;
	k->type = STORE_U64;
	k->counter.u = v;
	f->snap.nkeys = f->n;
}

static void
series(struct fake *f, const char *name, enum store_type t,
    const union store_value *v, size_t n)
{
	size_t i = f->n++;
	struct store_snap_key *k = &f->keys[i];
	struct rollup *r = &f->rolls[i];

	k->name = name;
	k->state = STORE_SNAP_OK;
	k->kind = STORE_SERIES;
	k->type = t;
	rollup_init(r, t);
	ck_assert_int_eq(rollup_fold(r, v, n), 0);
	f->vals[i] = malloc((n ? n : 1) * sizeof(*v));
	memcpy(f->vals[i], v, n * sizeof(*v));
	k->values = f->vals[i];
	k->roll = r;
	k->series.count = n;
	k->series.mean = rollup_mean(r);
	k->series.stddev = rollup_stddev(r);
	rollup_min(r, &k->series.min);
	rollup_max(r, &k->series.max);
	k->series.sum = rollup_sum(r);
	if (t != STORE_F64)
		k->series.isum = rollup_sum_int(r);
	rollup_percentiles(r, rollup_grid, k->series.q, ROLLUP_GRID_N);
	f->snap.nkeys = f->n;
}

static void
fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->keys[i].kind == STORE_SERIES)
			rollup_free(&f->rolls[i]);
		free(f->vals[i]);
	}
}

static void
u64s(union store_value *v, const uint64_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i].u = u[i];
}

START_TEST(test_order_stat_exact)
{
	struct rollup r;
	static union store_value v[20011];
	double out;

	for (size_t i = 0; i < 20011; i++)
		v[i].u = (uint64_t)(20010 - i) * 1000003u;	/* reversed */
	rollup_init(&r, STORE_U64);
	ck_assert_int_eq(rollup_fold(&r, v, 20011), 0);
	for (uint64_t k = 0; k < 20011; k++) {
		ck_assert_int_eq(report_order_stat(&r, 20011, k, &out), 0);
		ck_assert_msg(out == (double)(k * 1000003u), "k %llu: %f",
		    (unsigned long long)k, out);
	}
	ck_assert_int_lt(report_order_stat(&r, 20011, 20011, &out), 0);
	rollup_free(&r);
}
END_TEST

/*
 * Every rank of every size up to 64, with gaps no rounding to the value
 * grid can hide: for some (n, k) (n = 12, k = 1 is the first) no
 * percentile p in doubles has (n - 1) * p / 100 == k, and the estimate
 * must still be sorted[k] exactly, for floats and for integers.
 */
START_TEST(test_order_stat_exact_every_rank_wide_gaps)
{
	union store_value v[64];
	struct rollup r;
	double out, want;

	for (size_t n = 1; n <= 64; n++) {
		for (int t = 0; t < 2; t++) {
			enum store_type ty = t ? STORE_F64 : STORE_U64;

			/* Reversed, so the sort is exercised too. */
			for (size_t i = 0; i < n; i++) {
				size_t rank = n - 1 - i;

				if (ty == STORE_F64)
					v[i].f = (double)rank * 0.1 +
					    (double)(rank * rank);
				else
					v[i].u = (uint64_t)rank << 50;
			}
			rollup_init(&r, ty);
			ck_assert_int_eq(rollup_fold(&r, v, n), 0);
			for (uint64_t k = 0; k < n; k++) {
				want = ty == STORE_F64 ?
				    (double)k * 0.1 + (double)(k * k) :
				    (double)(k << 50);
				ck_assert_int_eq(report_order_stat(&r, n, k,
				    &out), 0);
				ck_assert_msg(out == want, "%s n %zu k %llu: "
				    "%.17g, not %.17g", ty == STORE_F64 ?
				    "f64" : "u64", n, (unsigned long long)k,
				    out, want);
			}
			rollup_free(&r);
		}
	}
}
END_TEST

START_TEST(test_p99_estimate_of_0_to_9999)
{
	struct fake f;
	static union store_value v[10000];
	struct report r;
	char err[128];

	for (int i = 0; i < 10000; i++)
		v[i].u = (uint64_t)(9999 - i);
	fake_init(&f, STORE_FINAL, false);
	series(&f, "sample_latency_ns", STORE_U64, v, 10000);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	const struct report_stats *s = &r.rows[REPORT_LATENCY];
	ck_assert(s->present && s->es[1].sufficient);
	ck_assert_uint_eq(s->es[1].t, 77);
	ck_assert(s->es[1].value == 9923);
	ck_assert_uint_eq(s->es[0].t, 930);
	ck_assert(s->es[0].value == 9070);
	ck_assert(r.complete);
	ck_assert(!r.has_goodput);
	ck_assert(!r.rows[REPORT_TTFT].present);
	fake_free(&f);
}
END_TEST

START_TEST(test_throughput_and_window)
{
	struct fake f;
	union store_value osl[3];
	struct report r;
	char err[128];

	u64s(osl, (const uint64_t[]){ 10, 20, 30 }, 3);
	fake_init(&f, STORE_LIVE, true);
	counter(&f, "tracked_samples_issued", 4);
	counter(&f, "tracked_samples_completed", 3);
	counter(&f, "total_samples_failed", 1);
	counter(&f, "tracked_duration_ns", 2000000000);
	counter(&f, "loadgen_first_issued_ts", 1000);
	counter(&f, "loadgen_last_issued_complete_ts", 500001000);
	counter(&f, "loadgen_last_issued_done", 1);
	series(&f, "osl", STORE_U64, osl, 3);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.state, REPORT_LIVE);
	ck_assert(!r.complete);
	ck_assert(r.has_qps && r.qps == 1.5);
	ck_assert(r.has_tps && r.tps == 30.0);
	ck_assert(r.has_window && r.window_ns == 500000000);
	ck_assert(r.has_legacy_qps && r.legacy_qps == 4.0);
	fake_free(&f);

	/* The last-issued sample not done yet: no window; duration 0: no
	 * QPS; no OSL values: no TPS. */
	fake_init(&f, STORE_INTERRUPTED, false);
	counter(&f, "tracked_samples_issued", 4);
	counter(&f, "tracked_samples_completed", 3);
	counter(&f, "loadgen_first_issued_ts", 1000);
	counter(&f, "loadgen_last_issued_complete_ts", 5000);
	counter(&f, "loadgen_last_issued_done", 0);
	series(&f, "osl", STORE_U64, osl, 0);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.state, REPORT_INTERRUPTED);
	ck_assert(!r.has_qps && !r.has_tps && !r.has_window &&
	    !r.has_legacy_qps);
	fake_free(&f);

	/* Abandoned; pending token work makes even a final store incomplete. */
	fake_init(&f, STORE_LIVE, false);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.state, REPORT_ABANDONED);
	fake_free(&f);
	fake_init(&f, STORE_FINAL, false);
	counter(&f, REPORT_PENDING_KEY, 3);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	ck_assert(r.tokens_pending && !r.complete);
	fake_free(&f);
}
END_TEST

START_TEST(test_goodput_rules)
{
	struct fake f;
	union store_value lat[5], ttft[5], tpot[5];
	struct report_slo slo = { 0 };
	struct report r;
	char err[128];

	/* sample:     0 ok   1 no TTFT  2 slow TPOT  3 TPOT undefined  4 slow */
	u64s(lat, (const uint64_t[]){ 100, 100, 100, 100, 1000 }, 5);
	u64s(ttft, (const uint64_t[]){ 10, AGGREGATOR_NO_VALUE, 10, 20, 10 },
	    5);
	tpot[0].f = 5;
	tpot[1].f = 5;
	tpot[2].f = 50;
	tpot[3].f = -1;
	tpot[4].f = 5;
	fake_init(&f, STORE_FINAL, false);
	counter(&f, "tracked_samples_completed", 5);
	counter(&f, "tracked_duration_ns", 500000000);
	series(&f, "sample_good_latency_ns", STORE_U64, lat, 5);
	series(&f, "sample_good_ttft_ns", STORE_U64, ttft, 5);
	series(&f, "sample_good_tpot_e2e_ns", STORE_F64, tpot, 5);

	slo.has_ttft = true;
	slo.ttft_ns = 20;		/* inclusive: sample 3 passes */
	ck_assert_int_eq(report_compute(&f.snap, &slo, &r, err, sizeof(err)),
	    0);
	ck_assert(r.has_goodput && r.goodput_known);
	ck_assert_uint_eq(r.good_samples, 4);
	ck_assert(r.goodput_fraction == 0.8 && r.goodput_qps == 8.0);
	slo.has_tpot = true;
	slo.tpot_ns = 5;
	ck_assert_int_eq(report_compute(&f.snap, &slo, &r, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(r.good_samples, 3);	/* 0, 3, 4 */
	slo.has_latency = true;
	slo.latency_ns = 100;
	ck_assert_int_eq(report_compute(&f.snap, &slo, &r, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(r.good_samples, 2);	/* 0, 3 */
	/* The JSON carries it, with the SLOs. */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ck_assert_int_eq(report_render_json(m, &r), 0);
	fclose(m);
	ck_assert_ptr_nonnull(strstr(buf, "\"goodput\":{\"slo\":{\"ttft_ns\":20,"
	    "\"tpot_ns\":5,\"latency_ns\":100},\"good_samples\":2,"
	    "\"goodput_fraction\":0.4,\"goodput_qps\":4}"));
	ck_assert_ptr_nonnull(strstr(buf, "\"state\":\"complete\","
	    "\"complete\":true"));
	ck_assert_ptr_nonnull(strstr(buf, "\"ttft\":null"));
	free(buf);
	fake_free(&f);
}
END_TEST

START_TEST(test_text_summary)
{
	struct fake f;
	union store_value lat[2];
	struct report r;
	char err[128], *buf = NULL;
	size_t len = 0;
	FILE *m;

	u64s(lat, (const uint64_t[]){ 1500000, 2500000 }, 2);
	fake_init(&f, STORE_LIVE, true);
	counter(&f, "tracked_samples_issued", 3);
	counter(&f, "tracked_samples_completed", 2);
	counter(&f, "samples_in_flight", 1);
	counter(&f, "finish_reason_stop", 2);
	counter(&f, "finish_reasons_dropped", 1);
	series(&f, "sample_latency_ns", STORE_U64, lat, 2);
	ck_assert_int_eq(report_compute(&f.snap, NULL, &r, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(r.nreasons, 1);
	m = open_memstream(&buf, &len);
	ck_assert_int_eq(report_render_text(m, &r, "/x/run"), 0);
	fclose(m);
	ck_assert_msg(strncmp(buf, "report of /x/run: live, INCOMPLETE (the "
	    "run is still going)\n", 60) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "samples: 3 issued, 2 completed, "
	    "0 failed, 1 in flight\n"));
	ck_assert_ptr_nonnull(strstr(buf, "finish reasons: stop 2 (others: 1)"));
	ck_assert_ptr_nonnull(strstr(buf, "latency (ms)           2      "
	    "2.000      1.500      2.500"));
	ck_assert_ptr_nonnull(strstr(buf, "TTFT (ms)              -  (not in "
	    "this store)"));
	free(buf);
	fake_free(&f);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_order_stat_exact);
	tcase_add_test(tc, test_order_stat_exact_every_rank_wide_gaps);
	tcase_add_test(tc, test_p99_estimate_of_0_to_9999);
	tcase_add_test(tc, test_throughput_and_window);
	tcase_add_test(tc, test_goodput_rules);
	tcase_add_test(tc, test_text_summary);
	suite_add_tcase(s, tc);
	return s;
}
