/* Tests for the table renderer (src/render_table.c), on snapshots built here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "render.h"

static char *
render_flags(const struct store_snap *s, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(render_table(f, s, flags), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The table before ms and folding: --raw must give exactly it. */
static char *
render(const struct store_snap *s, bool waiting)
{
	return render_flags(s, RENDER_RAW | (waiting ? RENDER_WAITING : 0));
}

START_TEST(test_render_table_aligned_blocks)
{
	struct store_snap_key keys[] = {
		{ .name = "total", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 42 },
		{ .name = "ratio", .kind = STORE_COUNTER, .type = STORE_F64,
		  .counter.f = 0.25 },
		{ .name = "lat_ns", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 3, .sum = 60, .isum = 60,
		  .min.u = 10, .max.u = 30, .mean = 20,
		  .q = { 20, 28, 29, 29.8, 29.98 } } },
		{ .name = "empty", .kind = STORE_SERIES, .type = STORE_U64 },
		{ .name = "bad", .state = STORE_SNAP_BAD },
		{ .name = "later", .state = STORE_SNAP_ABSENT },
	};
	struct store_snap s = { .run = "r", .dir = "/d/r", .status =
	    { true, STORE_FINAL, 7, false, false, 0 }, .keys = keys, .nkeys = 6 };
	char *out = render(&s, false);

	ck_assert_str_eq(out,
	    "store /d/r: final\n"
	    "\n"
	    "COUNTER  VALUE\n"
	    "total       42\n"
	    "ratio     0.25\n"
	    "\n"
	    "SERIES  COUNT  MEAN  MIN  MAX  P50  P90  P95   P99  P99.9\n"
	    "lat_ns      3    20   10   30   20   28   29  29.8  29.98\n"
	    "empty       0     -    -    -    -    -    -     -      -\n");
	free(out);
	/* Waiting (--watch): a requested key that is not there yet. */
	out = render(&s, true);
	ck_assert_ptr_nonnull(strstr(out, "\nlater   no data yet\n"));
	ck_assert_ptr_null(strstr(out, "bad"));
	free(out);
}
END_TEST

START_TEST(test_render_table_numbers_for_people)
{
	struct store_snap_key keys[] = {
		{ .name = "f", .kind = STORE_SERIES, .type = STORE_F64,
		  .series = { .count = 2, .min.f = -INFINITY, .max.f = NAN,
		  .mean = 1.23456, .q = { 1e-9, 2e20, 0.5, 3, 1.1 } } },
		{ .name = "i", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = -5 },
	};
	struct store_snap s = { .run = "r", .dir = "d", .status =
	    { true, STORE_LIVE, 9, true, false, 0 }, .keys = keys, .nkeys = 2 };
	char *out = render(&s, false);

	ck_assert_ptr_nonnull(strstr(out, "store d: live (writer pid 9)\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ni           -5\n"));
	ck_assert_msg(strstr(out, "\nf           2  1.235  -inf  nan  1e-09  "
	    "2e+20  0.5    3    1.1\n") != NULL, "%s", out);
	free(out);
	s.status.writer_alive = false;
	out = render(&s, false);
	ck_assert_ptr_nonnull(strstr(out, "store d: abandoned (writer pid 9 died)\n"));
	free(out);
}
END_TEST

START_TEST(test_render_table_names_safe_for_a_terminal)
{
	struct store_snap_key keys[] = {
		{ .name = "a\x1b[2J\xff", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 1 },
	};
	struct store_snap s = { .run = "r", .dir = "d\n", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 1 };
	char *out = render(&s, false);

	ck_assert_str_eq(out, "store d\\x0a: final\n\nCOUNTER       VALUE\n"
	    "a\\x1b[2J\\xff      1\n");
	free(out);
}
END_TEST

START_TEST(test_render_table_without_a_store)
{
	struct store_snap s = { .run = "r", .dir = "/no/where" };
	char *out = render(&s, false);

	ck_assert_str_eq(out, "");
	free(out);
	out = render(&s, true);
	ck_assert_str_eq(out, "no store at /no/where (no data yet)\n");
	free(out);
	s.status.exists = true;
	s.status.writer_alive = true;
	out = render(&s, true);
	ck_assert_str_eq(out, "store /no/where: live\n(no keys yet)\n");
	free(out);
}
END_TEST

/* A run that lost data says so in the header line. */
START_TEST(test_render_table_incomplete)
{
	struct store_snap s = { .run = "r", .dir = "/d/r", .status =
	    { true, STORE_FINAL, 7, false, true, 12 } };
	char *out = render(&s, false);

	ck_assert_msg(strncmp(out, "store /d/r: final, INCOMPLETE: 12 values "
	    "lost\n", 41) == 0, "%s", out);
	free(out);
	s.status.incomplete = false;
	s.status.lost = 0;
	out = render(&s, false);
	ck_assert_msg(strstr(out, "INCOMPLETE") == NULL, "%s", out);
	free(out);
}
END_TEST

/* _ns keys in ms, exactly: integers rounded to the microsecond. */
START_TEST(test_render_table_ms)
{
	struct store_snap_key keys[] = {
		{ .name = "total", .kind = STORE_COUNTER, .type = STORE_U64,
		  .counter.u = 42 },
		{ .name = "tracked_duration_ns", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 18446744073709551615u },
		{ .name = "neg_ns", .kind = STORE_COUNTER, .type = STORE_I64,
		  .counter.i = -1234567 },
		{ .name = "ttft_ns", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 3, .min.u = 20000000, .max.u = 119999999,
		  .mean = 70123456.5, .q = { 70000000, 110000000, 115000000.4,
		  119000500, 119999999 } } },
		{ .name = "tpot_ns", .kind = STORE_SERIES, .type = STORE_F64,
		  .series = { .count = 2, .min.f = 312.5, .max.f = 1500000.25,
		  .mean = 750156.375, .q = { 400, 1e6, 1.2e6, 1499999.5,
		  NAN } } },
		{ .name = "tiny_ns", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 1, .min.u = 0, .max.u = 499, .mean = 1,
		  .q = { 0, 500, 499, 1499, 0 } } },
		{ .name = "isl", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 1, .min.u = 7, .max.u = 7, .mean = 7,
		  .q = { 7, 7, 7, 7, 7 } } },
		{ .name = "empty_ns", .kind = STORE_SERIES, .type = STORE_U64 },
	};
	struct store_snap s = { .run = "r", .dir = "/d", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 8 };
	char *out = render_flags(&s, 0);

	ck_assert_msg(strcmp(out,
	    "store /d: final\n"
	    "\n"
	    "COUNTER              UNIT               VALUE\n"
	    "total                                      42\n"
	    "tracked_duration_ns  ms    18446744073709.552\n"
	    "neg_ns               ms                -1.235\n"
	    "\n"
	    "SERIES    UNIT  COUNT      MEAN       MIN       MAX       P50      P90       P95      P99    P99.9\n"
	    "ttft_ns   ms        3    70.123    20.000   120.000    70.000  110.000   115.000  119.001  120.000\n"
	    "tpot_ns   ms        2     0.750  0.000313     1.500  0.000400    1.000     1.200    1.500      nan\n"
	    "tiny_ns   ms        1  0.000001     0.000  0.000499     0.000    0.001  0.000499    0.001    0.000\n"
	    "isl                 1         7         7         7         7        7         7        7        7\n"
	    "empty_ns  ms        0         -         -         -         -        -         -        -        -\n")
	    == 0, "%s", out);
	free(out);
	/* --raw: the integers as stored, no UNIT column. */
	out = render_flags(&s, RENDER_RAW);
	ck_assert_ptr_null(strstr(out, "UNIT"));
	ck_assert_ptr_nonnull(strstr(out, "\ntracked_duration_ns  18446744073709551615\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nneg_ns                           -1234567\n"));
	ck_assert_msg(strstr(out, "\nttft_ns       3  70123456.5  20000000   "
	    "119999999  70000000  110000000  115000000.4  119000500  "
	    "119999999\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\ntiny_ns       1           1         0  "
	    "       499         0        500          499       1499          "
	    "0\n") != NULL, "%s", out);
	free(out);
}
END_TEST

/* The diagnostic counters that are 0 fold into one line. */
START_TEST(test_render_table_fold)
{
	struct store_snap_key keys[] = {
		{ .name = "total_samples_issued", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 5 },
		{ .name = "decode_errors", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 0 },
		{ .name = "tokenizer_errors", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 0 },
		{ .name = "events_after_end", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 0 },
		{ .name = "samples_in_flight", .kind = STORE_COUNTER,
		  .type = STORE_U64, .counter.u = 0 },
		{ .name = "isl", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 1, .min.u = 7, .max.u = 7, .mean = 7,
		  .q = { 7, 7, 7, 7, 7 } } },
	};
	struct store_snap s = { .run = "r", .dir = "/d", .status =
	    { true, STORE_FINAL, 0, false, false, 0 }, .keys = keys, .nkeys = 6 };
	char *out = render_flags(&s, 0);

	/* Not diagnostic (samples_in_flight) stays, though 0. */
	ck_assert_msg(strcmp(out,
	    "store /d: final\n"
	    "\n"
	    "COUNTER               VALUE\n"
	    "total_samples_issued      5\n"
	    "samples_in_flight         0\n"
	    "all 3 diagnostic counters are 0 (--all shows them)\n"
	    "\n"
	    "SERIES  COUNT  MEAN  MIN  MAX  P50  P90  P95  P99  P99.9\n"
	    "isl         1     7    7    7    7    7    7    7      7\n")
	    == 0, "%s", out);
	free(out);
	/* A nonzero one is shown; the count is of the others. */
	keys[3].counter.u = 2;
	out = render_flags(&s, 0);
	ck_assert_msg(strstr(out, "\nevents_after_end          2\n"
	    "samples_in_flight         0\n2 other diagnostic counters are 0 (--all shows them)\n") != NULL,
	    "%s", out);
	ck_assert_ptr_null(strstr(out, "decode_errors"));
	free(out);
	keys[2].counter.u = 1;
	out = render_flags(&s, 0);
	ck_assert_msg(strstr(out, "\n1 other diagnostic counter is 0 "
	    "(--all shows it)\n") != NULL, "%s", out);
	free(out);
	/* --all and --raw: every counter, no fold line. */
	keys[2].counter.u = keys[3].counter.u = 0;
	for (int i = 0; i < 2; i++) {
		out = render_flags(&s, i ? RENDER_RAW : RENDER_ALL);
		ck_assert_ptr_null(strstr(out, "diagnostic"));
		ck_assert_ptr_nonnull(strstr(out, "\ndecode_errors             0\n"));
		ck_assert_ptr_nonnull(strstr(out, "\ntokenizer_errors          0\n"));
		ck_assert_ptr_nonnull(strstr(out, "\nevents_after_end          0\n"));
		free(out);
	}
	/* Only diagnostic counters, all 0: the line alone stands for them. */
	s.keys = keys + 1;
	s.nkeys = 1;
	out = render_flags(&s, 0);
	ck_assert_str_eq(out, "store /d: final\n\n"
	    "1 diagnostic counter is 0 (--all shows it)\n");
	free(out);
}
END_TEST

/* The one list of diagnostic counters names keys the aggregator writes. */
START_TEST(test_render_table_diagnostic_set)
{
	size_t n = 0;

	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		const struct metric_key_info *ki = metric_key_info(k);

		if (!render_is_diagnostic(ki->name))
			continue;
		ck_assert_int_eq(ki->kind, STORE_COUNTER);
		n++;
	}
	/* decode_* (6) ... finish_reasons_dropped, token_work_pending: 17
	 * today. */
	ck_assert_uint_eq(n, 17);
	ck_assert(render_is_diagnostic("decode_errors"));
	ck_assert(render_is_diagnostic("finish_reasons_dropped"));
	ck_assert(!render_is_diagnostic("total_samples_failed"));
	ck_assert(!render_is_diagnostic("samples_in_flight"));
	ck_assert(!render_is_diagnostic(NULL));
}
END_TEST

/*
 * A series aligned by sample: hidden (one line, singular) unless
 * RENDER_ALL; shown, COUNT leaves its sentinels out and the N/A column
 * (there only then) counts them; empty for other series.
 */
START_TEST(test_render_table_aligned_series)
{
	struct store_snap_key keys[] = {
		{ .name = "isl", .kind = STORE_SERIES, .type = STORE_U64,
		  .series = { .count = 2, .isum = 6, .min.u = 2, .max.u = 4,
		  .mean = 3, .q = { 3, 3.8, 3.9, 3.98, 3.998 } } },
		{ .name = "sample_good_ttft_ns", .kind = STORE_SERIES,
		  .type = STORE_U64, .series = { .count = 3, .none = 1,
		  .aligned = true, .isum = 6, .min.u = 2, .max.u = 4,
		  .mean = 3, .q = { 3, 3.8, 3.9, 3.98, 3.998 } } },
	};
	struct store_snap s = { .run = "r", .dir = "/d/r", .status =
	    { true, STORE_FINAL, 7, false, false, 0 }, .keys = keys, .nkeys = 2 };
	char *out = render_flags(&s, 0);

	ck_assert_str_eq(out,
	    "store /d/r: final\n"
	    "\n"
	    "SERIES  COUNT  MEAN  MIN  MAX  P50  P90  P95   P99  P99.9\n"
	    "isl         2     3    2    4    3  3.8  3.9  3.98  3.998\n"
	    "1 series aligned by sample for report's goodput "
	    "(sample_good_*) not shown (--all shows it)\n");
	free(out);
	out = render_flags(&s, RENDER_RAW);
	ck_assert_str_eq(out,
	    "store /d/r: final\n"
	    "\n"
	    "SERIES               COUNT  N/A  MEAN  MIN  MAX  P50  P90  P95"
	    "   P99  P99.9\n"
	    "isl                      2          3    2    4    3  3.8  3.9"
	    "  3.98  3.998\n"
	    "sample_good_ttft_ns      2    1     3    2    4    3  3.8  3.9"
	    "  3.98  3.998\n");
	free(out);
	out = render_flags(&s, RENDER_ALL);
	ck_assert_ptr_nonnull(strstr(out, "SERIES               UNIT  COUNT  "
	    "N/A      MEAN "));
	ck_assert_ptr_nonnull(strstr(out, "\nsample_good_ttft_ns  ms        2"
	    "    1  0.000003 "));
	ck_assert_ptr_null(strstr(out, "not shown"));
	free(out);
	/* Only aligned series, all hidden: the line stands alone. */
	s.keys = &keys[1];
	s.nkeys = 1;
	out = render_flags(&s, 0);
	ck_assert_str_eq(out, "store /d/r: final\n\n1 series aligned by sample "
	    "for report's goodput (sample_good_*) not shown (--all shows it)\n");
	free(out);
}
END_TEST

Suite *
render_table_suite(void)
{
	Suite *s = suite_create("render_table");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_render_table_aligned_blocks);
	tcase_add_test(tc, test_render_table_incomplete);
	tcase_add_test(tc, test_render_table_numbers_for_people);
	tcase_add_test(tc, test_render_table_names_safe_for_a_terminal);
	tcase_add_test(tc, test_render_table_without_a_store);
	tcase_add_test(tc, test_render_table_ms);
	tcase_add_test(tc, test_render_table_fold);
	tcase_add_test(tc, test_render_table_diagnostic_set);
	tcase_add_test(tc, test_render_table_aligned_series);
	suite_add_tcase(s, tc);
	return s;
}
