/* Tests for the table renderer (src/render_table.c), on snapshots built here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "render.h"

static char *
render(const struct store_snap *s, bool waiting)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(render_table(f, s, waiting), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
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
	    { true, STORE_FINAL, 7, false }, .keys = keys, .nkeys = 6 };
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
	    { true, STORE_LIVE, 9, true }, .keys = keys, .nkeys = 2 };
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
	    { true, STORE_FINAL, 0, false }, .keys = keys, .nkeys = 1 };
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

Suite *
render_table_suite(void)
{
	Suite *s = suite_create("render_table");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_render_table_aligned_blocks);
	tcase_add_test(tc, test_render_table_numbers_for_people);
	tcase_add_test(tc, test_render_table_names_safe_for_a_terminal);
	tcase_add_test(tc, test_render_table_without_a_store);
	suite_add_tcase(s, tc);
	return s;
}
