/* Tests for the output line splitter. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "launch_lines.h"

struct got {
	char text[16384];
	size_t len;
	int whole, partial;
};

static void
collect(const char *line, size_t len, bool whole, void *arg)
{
	struct got *g = arg;

	memcpy(g->text + g->len, line, len);
	g->len += len;
	g->text[g->len++] = whole ? '|' : '~';
	g->text[g->len] = '\0';
	if (whole)
		g->whole++;
	else
		g->partial++;
}

START_TEST(test_lines_split_across_reads)
{
	struct launch_lines l = { .len = 0 };
	struct got g = { .len = 0 };

	launch_lines_feed(&l, "ab", 2, collect, &g);
	launch_lines_feed(&l, "c\nd\n\ne", 6, collect, &g);
	ck_assert_str_eq(g.text, "abc|d||");
	launch_lines_feed(&l, "f", 1, collect, &g);
	launch_lines_flush(&l, collect, &g);
	ck_assert_str_eq(g.text, "abc|d||ef~");
	/* Flushing an empty buffer emits nothing. */
	launch_lines_flush(&l, collect, &g);
	ck_assert_int_eq(g.whole, 3);
	ck_assert_int_eq(g.partial, 1);
}
END_TEST

START_TEST(test_lines_overlong_line_is_split_not_lost)
{
	struct launch_lines l = { .len = 0 };
	struct got g = { .len = 0 };
	size_t n = LAUNCH_LINES_CAP * 2 + 10;
	char *big = malloc(n + 1);

	memset(big, 'x', n);
	big[n] = '\n';
	launch_lines_feed(&l, big, n + 1, collect, &g);
	ck_assert_int_eq(g.partial, 2);
	ck_assert_int_eq(g.whole, 1);
	/* Every byte arrived, plus one marker per piece. */
	ck_assert_uint_eq(g.len, n + 3);
	free(big);
}
END_TEST

Suite *
launch_lines_suite(void)
{
	Suite *s = suite_create("launch_lines");
	TCase *tc = tcase_create("split");

	tcase_add_test(tc, test_lines_split_across_reads);
	tcase_add_test(tc, test_lines_overlong_line_is_split_not_lost);
	suite_add_tcase(s, tc);
	return s;
}
