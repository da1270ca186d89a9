/* Tests for the Prometheus exposition renderer (src/prom.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "prom.h"

/* Render stores into a malloc'd string. */
static char *
render(const struct store_snap *st, size_t n, size_t *skipped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(prom_render(f, st, n, skipped), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void
assert_name(const char *key, enum store_kind kind, const char *want)
{
	char buf[PROM_NAME_MAX];

	ck_assert_int_eq(prom_metric_name(key, kind, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_metric_name_maps_units_and_kinds)
{
	assert_name("total_samples_issued", STORE_COUNTER,
	    "metricsd_total_samples_issued_total");
	assert_name("tracked_duration_ns", STORE_COUNTER,
	    "metricsd_tracked_duration_seconds_total");
	assert_name("sample_latency_ns", STORE_SERIES,
	    "metricsd_sample_latency_seconds");
	assert_name("isl", STORE_SERIES, "metricsd_isl");
	assert_name("decode_errors", STORE_COUNTER,
	    "metricsd_decode_errors_total");
	/* One _total, never two; a bare "_ns" is not a unit suffix. */
	assert_name("frames_total", STORE_COUNTER, "metricsd_frames_total");
	assert_name("_ns", STORE_SERIES, "metricsd__ns");
	assert_name("x_total", STORE_SERIES, "metricsd_x_total");
	/* A counter key that goes down is a gauge: no _total. */
	assert_name("samples_in_flight", STORE_COUNTER,
	    "metricsd_samples_in_flight");
	ck_assert(prom_key_is_gauge("samples_in_flight", STORE_COUNTER));
	ck_assert(!prom_key_is_gauge("decode_errors", STORE_COUNTER));
	ck_assert(!prom_key_is_gauge("samples_in_flight", STORE_SERIES));
}
END_TEST

START_TEST(test_metric_name_sanitises_charset)
{
	assert_name("a.b-c:d e", STORE_SERIES, "metricsd_a_b_c_d_e");
	assert_name("\xc3\xa9t\xc3\xa9", STORE_SERIES, "metricsd___t__");
	assert_name("9lives", STORE_COUNTER, "metricsd_9lives_total");
}
END_TEST

START_TEST(test_metric_name_too_long)
{
	char buf[16];

	ck_assert_int_eq(prom_metric_name("much_too_long_key", STORE_SERIES,
	    buf, sizeof(buf)), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_render_every_kind)
{
	struct store_snap_key keys[] = {
		{ .name = "total_samples_issued", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 18446744073709551615ull },
		{ .name = "tracked_duration_ns", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 1500000001 },
		{ .name = "ratio", .kind = STORE_COUNTER,
		  .type = STORE_F64, .counter.f = 0.1 },
		{ .name = "ttft_ns", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 4, .sum = 10e9,
		      .q = { 2e9, 3e9, 3.5e9, 4e9, 4.5e9 } } },
		{ .name = "empty", .kind = STORE_SERIES, .type = STORE_F64,
		  .series = { .count = 0, .sum = 0,
		      .q = { NAN, NAN, NAN, NAN, NAN } } },
	};
	struct store_snap st = { "run1", { true, STORE_FINAL, 0, false },
	    keys, 5, NULL };
	size_t skipped = 0;
	char *out = render(&st, 1, &skipped);
	const char *want =
	    "# HELP metricsd_store_state How the writer left the store: 1 for its state (live, final or interrupted), 0 for the others.\n"
	    "# TYPE metricsd_store_state gauge\n"
	    "metricsd_store_state{run=\"run1\",state=\"live\"} 0\n"
	    "metricsd_store_state{run=\"run1\",state=\"final\"} 1\n"
	    "metricsd_store_state{run=\"run1\",state=\"interrupted\"} 0\n"
	    "# HELP metricsd_store_writer_alive 1 while a writer holds the store open, else 0.\n"
	    "# TYPE metricsd_store_writer_alive gauge\n"
	    "metricsd_store_writer_alive{run=\"run1\"} 0\n"
	    "# HELP metricsd_empty metricsd store series key empty.\n"
	    "# TYPE metricsd_empty summary\n"
	    "metricsd_empty{run=\"run1\",quantile=\"0.5\"} NaN\n"
	    "metricsd_empty{run=\"run1\",quantile=\"0.9\"} NaN\n"
	    "metricsd_empty{run=\"run1\",quantile=\"0.95\"} NaN\n"
	    "metricsd_empty{run=\"run1\",quantile=\"0.99\"} NaN\n"
	    "metricsd_empty{run=\"run1\",quantile=\"0.999\"} NaN\n"
	    "metricsd_empty_sum{run=\"run1\"} 0\n"
	    "metricsd_empty_count{run=\"run1\"} 0\n"
	    "# HELP metricsd_ratio_total metricsd store counter key ratio.\n"
	    "# TYPE metricsd_ratio_total counter\n"
	    "metricsd_ratio_total{run=\"run1\"} 0.1\n"
	    "# HELP metricsd_total_samples_issued_total Samples issued (sample.issued with a uuid), tracked or not.\n"
	    "# TYPE metricsd_total_samples_issued_total counter\n"
	    "metricsd_total_samples_issued_total{run=\"run1\"} 18446744073709551615\n"
	    "# HELP metricsd_tracked_duration_seconds_total Sum of the durations of the tracked blocks. Seconds (stored in ns).\n"
	    "# TYPE metricsd_tracked_duration_seconds_total counter\n"
	    "metricsd_tracked_duration_seconds_total{run=\"run1\"} 1.500000001\n"
	    "# HELP metricsd_ttft_seconds Time to first token: first receive minus issue time. Seconds (stored in ns).\n"
	    "# TYPE metricsd_ttft_seconds summary\n"
	    "metricsd_ttft_seconds{run=\"run1\",quantile=\"0.5\"} 2\n"
	    "metricsd_ttft_seconds{run=\"run1\",quantile=\"0.9\"} 3\n"
	    "metricsd_ttft_seconds{run=\"run1\",quantile=\"0.95\"} 3.5\n"
	    "metricsd_ttft_seconds{run=\"run1\",quantile=\"0.99\"} 4\n"
	    "metricsd_ttft_seconds{run=\"run1\",quantile=\"0.999\"} 4.5\n"
	    "metricsd_ttft_seconds_sum{run=\"run1\"} 10\n"
	    "metricsd_ttft_seconds_count{run=\"run1\"} 4\n";

	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(skipped, 0);
	free(out);
}
END_TEST

START_TEST(test_render_groups_families_across_stores)
{
	struct store_snap_key a[] = {
		{ .name = "n", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 1 },
	};
	struct store_snap_key b[] = {
		{ .name = "n", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 2 },
	};
	struct store_snap st[] = {
		{ "a", { true, STORE_LIVE, 1, true }, a, 1, NULL },
		{ "b", { true, STORE_INTERRUPTED, 0, false }, b, 1, NULL },
	};
	char *out = render(st, 2, NULL);
	const char *p;
	int types = 0;

	for (p = out; (p = strstr(p, "# TYPE metricsd_n_total")); p++)
		types++;
	ck_assert_int_eq(types, 1);
	ck_assert_ptr_nonnull(strstr(out,
	    "# TYPE metricsd_n_total counter\n"
	    "metricsd_n_total{run=\"a\"} 1\n"
	    "metricsd_n_total{run=\"b\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "metricsd_store_state{run=\"a\",state=\"live\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "metricsd_store_state{run=\"b\",state=\"interrupted\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "metricsd_store_writer_alive{run=\"a\"} 1\n"
	    "metricsd_store_writer_alive{run=\"b\"} 0\n"));
	free(out);
}
END_TEST

START_TEST(test_render_escapes_label_values)
{
	struct store_snap st = { "a\\b\"c\nd\xff" "e",
	    { true, STORE_LIVE, 0, false }, NULL, 0, NULL };
	char *out = render(&st, 1, NULL);

	ck_assert_ptr_nonnull(strstr(out,
	    "metricsd_store_writer_alive{run=\"a\\\\b\\\"c\\nd\xef\xbf\xbd" "e\"} 0\n"));
	free(out);
}
END_TEST

START_TEST(test_render_values_signed_and_float_ns)
{
	struct store_snap_key keys[] = {
		{ .name = "a_ns", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = -1 },
		{ .name = "b_ns", .kind = STORE_COUNTER, .type = STORE_F64,
		  .counter.f = 2.5e9 },
		{ .name = "c", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = -42 },
		{ .name = "d", .kind = STORE_COUNTER, .type = STORE_F64,
		  .counter.f = INFINITY },
	};
	struct store_snap st = { "r", { true, STORE_LIVE, 0, false }, keys, 4, NULL };
	char *out = render(&st, 1, NULL);

	ck_assert_ptr_nonnull(strstr(out, "metricsd_a_seconds_total{run=\"r\"} -0.000000001\n"));
	ck_assert_ptr_nonnull(strstr(out, "metricsd_b_seconds_total{run=\"r\"} 2.5\n"));
	ck_assert_ptr_nonnull(strstr(out, "metricsd_c_total{run=\"r\"} -42\n"));
	ck_assert_ptr_nonnull(strstr(out, "metricsd_d_total{run=\"r\"} +Inf\n"));
	free(out);
}
END_TEST

START_TEST(test_render_gauge_key)
{
	struct store_snap_key keys[] = {
		{ .name = "samples_in_flight", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 17 },
	};
	struct store_snap st = { "r", { true, STORE_LIVE, 0, false }, keys, 1, NULL };
	char *out = render(&st, 1, NULL);

	ck_assert_ptr_nonnull(strstr(out,
	    "# TYPE metricsd_samples_in_flight gauge\n"
	    "metricsd_samples_in_flight{run=\"r\"} 17\n"));
	free(out);
}
END_TEST

START_TEST(test_render_leaves_out_clashing_names)
{
	struct store_snap_key keys[] = {
		{ .name = "a.b", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 1 },
		{ .name = "a_b", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 2 },
		{ .name = "lat", .kind = STORE_SERIES, .type = STORE_U64 },
		{ .name = "lat_count", .kind = STORE_SERIES, .type = STORE_U64 },
		{ .name = "store_state", .kind = STORE_SERIES, .type = STORE_U64 },
		{ .name = "x", .kind = STORE_COUNTER, .type = STORE_U64 },
	};
	struct store_snap_key other[] = {
		{ .name = "x_total", .kind = STORE_SERIES, .type = STORE_U64 },
	};
	struct store_snap st[] = {
		{ "r", { true, STORE_LIVE, 0, false }, keys, 6, NULL },
		{ "s", { true, STORE_LIVE, 0, false }, other, 1, NULL },
	};
	size_t skipped = 0;
	char *out = render(st, 2, &skipped);

	ck_assert_uint_eq(skipped, 4);
	ck_assert_ptr_nonnull(strstr(out, "metricsd_a_b_total{run=\"r\"} 1\n"));
	ck_assert_ptr_null(strstr(out, "metricsd_a_b_total{run=\"r\"} 2\n"));
	ck_assert_ptr_null(strstr(out, "# TYPE metricsd_lat_count summary"));
	ck_assert_ptr_nonnull(strstr(out, "# TYPE metricsd_lat summary"));
	ck_assert_ptr_null(strstr(out, "# TYPE metricsd_store_state summary"));
	ck_assert_ptr_null(strstr(out, "# TYPE metricsd_x_total summary"));
	ck_assert_ptr_nonnull(strstr(out, "# metricsd: left out key \"a_b\" of run \"r\""));
	free(out);
}
END_TEST

/*
 * A key left out for its type must not count as the store's key of that
 * family: the store's own key of the right type is still exported.
 */
START_TEST(test_render_clash_by_type_keeps_the_stores_other_key)
{
	struct store_snap_key r[] = {
		{ .name = "a_b", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 1 },
	};
	struct store_snap_key s[] = {
		{ .name = "a-b_total", .kind = STORE_SERIES, .type = STORE_U64 },
		{ .name = "a.b", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 7 },
	};
	struct store_snap st[] = {
		{ "r", { true, STORE_LIVE, 0, false }, r, 1, NULL },
		{ "s", { true, STORE_LIVE, 0, false }, s, 2, NULL },
	};
	size_t skipped = 0;
	char *out = render(st, 2, &skipped);

	ck_assert_uint_eq(skipped, 1);
	ck_assert_ptr_nonnull(strstr(out, "metricsd_a_b_total{run=\"r\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "metricsd_a_b_total{run=\"s\"} 7\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "# metricsd: left out key \"a-b_total\" of run \"s\""));
	free(out);
}
END_TEST

/* Every key the aggregator writes has its own HELP text and a mapping. */
START_TEST(test_render_knows_every_aggregator_key)
{
	struct store_snap_key keys[METRIC_KEY_COUNT];
	struct store_snap st = { "r", { true, STORE_LIVE, 0, false }, keys,
	    METRIC_KEY_COUNT, NULL };
	char *out;

	memset(keys, 0, sizeof(keys));
	for (int i = 0; i < METRIC_KEY_COUNT; i++) {
		const struct metric_key_info *info = metric_key_info(i);

		ck_assert_ptr_nonnull(info);
		keys[i].name = info->name;
		keys[i].kind = info->kind;
		keys[i].type = info->type;
		for (int q = 0; q < PROM_NQUANTILES; q++)
			keys[i].series.q[q] = NAN;
	}
	out = render(&st, 1, NULL);
	ck_assert_msg(strstr(out, "metricsd store ") == NULL,
	    "a key without HELP text:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out,
	    "# TYPE metricsd_samples_in_flight gauge\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "# TYPE metricsd_decode_errors_total counter\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "# TYPE metricsd_tpot_seconds summary\n"));
	free(out);
}
END_TEST

Suite *
prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_metric_name_maps_units_and_kinds);
	tcase_add_test(tc, test_metric_name_sanitises_charset);
	tcase_add_test(tc, test_metric_name_too_long);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_test(tc, test_render_every_kind);
	tcase_add_test(tc, test_render_groups_families_across_stores);
	tcase_add_test(tc, test_render_escapes_label_values);
	tcase_add_test(tc, test_render_values_signed_and_float_ns);
	tcase_add_test(tc, test_render_gauge_key);
	tcase_add_test(tc, test_render_knows_every_aggregator_key);
	tcase_add_test(tc, test_render_leaves_out_clashing_names);
	tcase_add_test(tc, test_render_clash_by_type_keeps_the_stores_other_key);
	suite_add_tcase(s, tc);
	return s;
}
