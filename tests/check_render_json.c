/* Tests for the JSON renderer (src/render_json.c), on snapshots built here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "render.h"

static char warned[1024];
static int nwarn;

static void
on_warn(void *arg, const char *msg)
{
	(void)arg;
	snprintf(warned, sizeof(warned), "%s", msg);
	nwarn++;
}

static char *
render(const struct store_snap *s, bool values, size_t *skipped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	nwarn = 0;
	ck_assert_int_eq(render_json(f, s, values, on_warn, NULL, skipped), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(test_render_json_store_states)
{
	struct store_snap s = { .run = "r", .dir = "/d/r", .status =
	    { true, STORE_LIVE, 42, true, false, 0 } };
	char *out = render(&s, false, NULL);

	ck_assert_str_eq(out, "{\"_store\":{\"dir\":\"/d/r\",\"final\":false,"
	    "\"writer_pid\":42,\"state\":\"live\",\"incomplete\":false,\"lost\":0}}\n");
	free(out);
	s.status.writer_alive = false;
	out = render(&s, false, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"writer_pid\":null,\"state\":\"abandoned\""));
	free(out);
	s.status = (struct store_status){ true, STORE_FINAL, 42, false, false, 0 };
	out = render(&s, false, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"final\":true,\"writer_pid\":null,\"state\":\"final\""));
	free(out);
	s.status = (struct store_status){ false, STORE_LIVE, 0, false, false, 0 };
	out = render(&s, false, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"state\":\"missing\""));
	free(out);
	/* A run that lost data: final, and says it is incomplete. */
	s.status = (struct store_status){ true, STORE_FINAL, 42, false, true,
	    2426076 };
	out = render(&s, false, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"final\":true,\"writer_pid\":null,"
	    "\"state\":\"final\",\"incomplete\":true,\"lost\":2426076}"));
	free(out);
}
END_TEST

START_TEST(test_render_json_counters_and_series)
{
	union store_value vals[] = { { .u = 30 }, { .u = 10 }, { .u = 20 } };
	struct store_snap_key keys[] = {
		{ .name = "n", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = -7 },
		{ .name = "r", .kind = STORE_COUNTER, .type = STORE_F64,
		  .counter.f = 0.1 },
		{ .name = "inf", .kind = STORE_COUNTER, .type = STORE_F64,
		  .counter.f = INFINITY },
		{ .name = "gone", .state = STORE_SNAP_ABSENT },
		{ .name = "broken", .state = STORE_SNAP_FAILED,
		  .kind = STORE_COUNTER, .type = STORE_U64 },
		{ .name = "lat_ns", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 3, .sum = 60, .isum = 60,
		  .min.u = 10, .max.u = 30, .mean = 20, .stddev = 0.5,
		  .q = { 20, 28, 29, 29.8, 29.98 } }, .values = vals },
		{ .name = "e", .kind = STORE_SERIES, .type = STORE_F64,
		  .series = { .mean = NAN, .stddev = NAN,
		  .q = { NAN, NAN, NAN, NAN, NAN } }, .values = vals },
	};
	struct store_snap s = { .run = "r", .dir = "d", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 7 };
	const char *series = "\"lat_ns\":{\"count\":3,\"sum\":60,\"min\":10,"
	    "\"max\":30,\"mean\":20,\"stddev\":0.5,\"p50\":20,\"p90\":28,"
	    "\"p95\":29,\"p99\":29.8,\"p99.9\":29.98";
	char *out = render(&s, false, NULL), want[1024];

	snprintf(want, sizeof(want), "{\"_store\":{\"dir\":\"d\",\"final\":true,"
	    "\"writer_pid\":null,\"state\":\"final\",\"incomplete\":false,\"lost\":0},\"n\":-7,\"r\":0.1,"
	    "\"inf\":null,%s},\"e\":{\"count\":0,\"sum\":null,\"min\":null,"
	    "\"max\":null,\"mean\":null,\"stddev\":null,\"p50\":null,"
	    "\"p90\":null,\"p95\":null,\"p99\":null,\"p99.9\":null}}\n", series);
	ck_assert_str_eq(out, want);
	free(out);
	out = render(&s, true, NULL);
	snprintf(want, sizeof(want), "%s,\"values\":[30,10,20]}", series);
	ck_assert_ptr_nonnull(strstr(out, want));
	ck_assert_ptr_nonnull(strstr(out, "\"p99.9\":null,\"values\":[]}}\n"));
	free(out);
}
END_TEST

/* An exact integer sum beyond 2^64, and signed extremes. */
START_TEST(test_render_json_exact_integers)
{
	struct store_snap_key keys[] = {
		{ .name = "big", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 2, .isum = (__int128)UINT64_MAX * 2,
		  .min.u = UINT64_MAX, .max.u = UINT64_MAX } },
		{ .name = "lo", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = INT64_MIN },
	};
	struct store_snap s = { .run = "r", .dir = "d", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 2 };
	char *out = render(&s, false, NULL);

	ck_assert_ptr_nonnull(strstr(out, "\"big\":{\"count\":2,"
	    "\"sum\":36893488147419103230,\"min\":18446744073709551615,"
	    "\"max\":18446744073709551615,"));
	ck_assert_ptr_nonnull(strstr(out, "\"lo\":-9223372036854775808}"));
	free(out);
}
END_TEST

START_TEST(test_render_json_escapes_and_leaves_out_clashes)
{
	struct store_snap_key keys[] = {
		{ .name = "q\"b\\\x01\xc3\xa9", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 1 },
		{ .name = "k\xfe", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 2 },
		{ .name = "k\xff", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 3 },
		{ .name = "_store", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 4 },
	};
	struct store_snap s = { .run = "r", .dir = "d\xff", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 4 };
	size_t skipped = 0;
	char *out = render(&s, false, &skipped);

	ck_assert_str_eq(out, "{\"_store\":{\"dir\":\"d\\ufffd\",\"final\":true,"
	    "\"writer_pid\":null,\"state\":\"final\",\"incomplete\":false,\"lost\":0},"
	    "\"q\\\"b\\\\\\u0001\xc3\xa9\":1,\"k\\ufffd\":2}\n");
	ck_assert_uint_eq(skipped, 2);
	ck_assert_int_eq(nwarn, 2);
	ck_assert_msg(strstr(warned, "'_store'") != NULL, "%s", warned);
	free(out);
}
END_TEST

/* A series aligned by sample: count without its sentinels, then "none". */
START_TEST(test_render_json_aligned_series)
{
	const union store_value vals[] = { { .u = 5 }, { .u = UINT64_MAX },
	    { .u = 7 } };
	struct store_snap_key keys[] = {
		{ .name = "sample_good_latency_ns", .kind = STORE_SERIES,
		  .type = STORE_U64, .values = vals, .series = { .count = 3,
		  .none = 1, .aligned = true, .isum = 12, .sum = 12,
		  .min.u = 5, .max.u = 7, .mean = 6, .stddev = 1,
		  .q = { 6, 6.8, 6.9, 6.98, 6.998 } } },
		{ .name = "none_yet", .kind = STORE_SERIES, .type = STORE_U64,
		  .values = vals + 1, .series = { .count = 1, .none = 1,
		  .aligned = true, .mean = NAN, .stddev = NAN } },
	};
	struct store_snap s = { .run = "r", .dir = "d", .status =
	    { true, STORE_FINAL, 7, false, false, 0 }, .keys = keys, .nkeys = 2 };
	char *out = render(&s, true, NULL);

	ck_assert_ptr_nonnull(strstr(out, "\"sample_good_latency_ns\":{"
	    "\"count\":2,\"none\":1,\"sum\":12,\"min\":5,\"max\":7,\"mean\":6,"
	    "\"stddev\":1,\"p50\":6,"));
	ck_assert_ptr_nonnull(strstr(out, "\"values\":[5,18446744073709551615,"
	    "7]}"));
	ck_assert_ptr_nonnull(strstr(out, "\"none_yet\":{\"count\":0,"
	    "\"none\":1,\"sum\":null,\"min\":null,\"max\":null,\"mean\":null,"));
	ck_assert_ptr_nonnull(strstr(out, "\"values\":[18446744073709551615]}"));
	free(out);
}
END_TEST

Suite *
render_json_suite(void)
{
	Suite *s = suite_create("render_json");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_render_json_store_states);
	tcase_add_test(tc, test_render_json_counters_and_series);
	tcase_add_test(tc, test_render_json_exact_integers);
	tcase_add_test(tc, test_render_json_escapes_and_leaves_out_clashes);
	tcase_add_test(tc, test_render_json_aligned_series);
	suite_add_tcase(s, tc);
	return s;
}
