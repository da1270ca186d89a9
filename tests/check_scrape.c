/* Tests for scraping stores into the exposition (src/scrape.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "scrape.h"
#include "store.h"
#include "testutil.h"

static char *tmp;
static struct testutil_warnings warns;

static void
setup(void)
{
	tmp = testutil_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	memset(&warns, 0, sizeof(warns));
}

static void
teardown(void)
{
	testutil_rmtree(tmp);
	free(tmp);
}

static char *
path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", tmp, name), 0);
	return p;
}

static char *
render(struct scrape *s, const char *const *keys, size_t nkeys,
    const char **missing)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(scrape_render(s, f, keys, nkeys, missing, NULL), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void
assert_has(const char *out, const char *line)
{
	ck_assert_msg(strstr(out, line) != NULL, "'%s' not in:\n%s", line, out);
}

START_TEST(test_scrape_missing_dir_gives_no_samples)
{
	char *d = path("nope");
	const char *dirs[] = { d };
	struct scrape *s;
	char *out;

	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, NULL, 0, NULL);
	ck_assert_ptr_null(strstr(out, "run="));
	assert_has(out, "# TYPE metricsd_store_state gauge\n");
	ck_assert_int_eq(warns.n, 0);
	free(out);
	scrape_free(s);
	free(d);
}
END_TEST

START_TEST(test_scrape_folds_appended_values_between_scrapes)
{
	char *d = path("run1");
	const char *dirs[] = { d };
	struct store_writer *w = testutil_writer(d);
	struct store_key *k = testutil_series_u64(w, "v");
	struct scrape *s;
	char *out;

	testutil_append_u64(k, 1, 3);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "metricsd_v_count{run=\"run1\"} 3\n");
	assert_has(out, "metricsd_v{run=\"run1\",quantile=\"0.5\"} 2\n");
	assert_has(out, "metricsd_store_writer_alive{run=\"run1\"} 1\n");
	free(out);
	testutil_append_u64(k, 4, 101);
	out = render(s, NULL, 0, NULL);
	/* 1..101: median 51, p90 = 1 + 0.9 * 100 = 91, sum 5151. */
	assert_has(out, "metricsd_v_count{run=\"run1\"} 101\n");
	assert_has(out, "metricsd_v{run=\"run1\",quantile=\"0.5\"} 51\n");
	assert_has(out, "metricsd_v{run=\"run1\",quantile=\"0.9\"} 91\n");
	assert_has(out, "metricsd_v_sum{run=\"run1\"} 5151\n");
	free(out);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "metricsd_store_writer_alive{run=\"run1\"} 0\n");
	assert_has(out, "metricsd_store_state{run=\"run1\",state=\"final\"} 1\n");
	free(out);
	scrape_free(s);
	free(d);
}
END_TEST

START_TEST(test_scrape_parent_dir_picks_up_and_drops_stores)
{
	char *d = path("runs"), *a = path("runs/a"), *b = path("runs/b");
	const char *dirs[] = { d };
	struct store_writer *w;
	struct scrape *s;
	char *out;

	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	w = testutil_writer(a);
	testutil_append_u64(testutil_series_u64(w, "x"), 5, 5);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	w = testutil_writer(b);
	testutil_append_u64(testutil_series_u64(w, "x"), 7, 8);
	ck_assert_int_eq(store_writer_close(w, STORE_INTERRUPTED), 0);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "# TYPE metricsd_x summary\n"
	    "metricsd_x{run=\"a\",quantile=\"0.5\"} 5\n");
	assert_has(out, "metricsd_x_count{run=\"a\"} 1\n"
	    "metricsd_x{run=\"b\",quantile=\"0.5\"} 7.5\n");
	assert_has(out, "metricsd_store_state{run=\"b\",state=\"interrupted\"} 1\n");
	free(out);
	testutil_rmtree(a);
	out = render(s, NULL, 0, NULL);
	ck_assert_ptr_null(strstr(out, "run=\"a\""));
	assert_has(out, "metricsd_x_count{run=\"b\"} 2\n");
	free(out);
	scrape_free(s);
	free(d);
	free(a);
	free(b);
}
END_TEST

/*
 * Run names that differ only in bytes that are not UTF-8 are exported
 * with the same label (U+FFFD): the second store must be left out, not
 * exported as duplicate series nobody can tell apart.
 */
START_TEST(test_scrape_run_labels_equal_after_replacement_are_dups)
{
	char *d = path("runs"), *a = path("runs/r\xfe"), *b = path("runs/r\xff");
	const char *dirs[] = { d };
	struct store_writer *w;
	struct scrape *s;
	char *out, *first;

	ck_assert_int_eq(mkdir(d, 0700), 0);
	w = testutil_writer(a);
	testutil_append_u64(testutil_series_u64(w, "x"), 5, 5);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	w = testutil_writer(b);
	testutil_append_u64(testutil_series_u64(w, "x"), 7, 7);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, NULL, 0, NULL);
	first = strstr(out, "metricsd_x_count{run=\"r\xef\xbf\xbd\"}");
	ck_assert_msg(first != NULL, "no sample for the run:\n%s", out);
	ck_assert_msg(strstr(first + 1, "metricsd_x_count{run=") == NULL,
	    "two stores with one run label:\n%s", out);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_ptr_nonnull(strstr(warns.last,
	    "is already used by another store"));
	free(out);
	scrape_free(s);
	free(d);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_scrape_rereads_a_key_recreated_by_a_new_run)
{
	char *d = path("run");
	const char *dirs[] = { d };
	struct store_writer *w = testutil_writer(d);
	struct scrape *s;
	char *out;

	testutil_append_u64(testutil_series_u64(w, "x"), 1, 10);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "metricsd_x_count{run=\"run\"} 10\n");
	free(out);
	/* Same directory, same process: only the file tells it apart. */
	w = testutil_writer(d);
	testutil_append_u64(testutil_series_u64(w, "x"), 100, 101);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "metricsd_x_count{run=\"run\"} 2\n");
	assert_has(out, "metricsd_x_sum{run=\"run\"} 201\n");
	free(out);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	scrape_free(s);
	free(d);
}
END_TEST

START_TEST(test_scrape_key_filter_and_missing_key)
{
	char *d = path("run");
	const char *dirs[] = { d };
	const char *keys[] = { "y", "nope" };
	const char *missing = "unset";
	struct store_writer *w = testutil_writer(d);
	struct scrape *s;
	char *out;

	testutil_append_u64(testutil_series_u64(w, "x"), 1, 2);
	testutil_append_u64(testutil_series_u64(w, "y"), 3, 4);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, keys, 2, &missing);
	ck_assert_str_eq(missing, "nope");
	ck_assert_ptr_null(strstr(out, "metricsd_x"));
	assert_has(out, "metricsd_y_count{run=\"run\"} 2\n");
	assert_has(out, "metricsd_store_state{run=\"run\",state=\"final\"} 1\n");
	free(out);
	out = render(s, keys, 1, &missing);
	ck_assert_ptr_null(missing);
	free(out);
	scrape_free(s);
	free(d);
}
END_TEST

START_TEST(test_scrape_corrupt_key_warns_once_and_keeps_the_rest)
{
	char *d = path("run"), *bad = path("run/bad");
	const char *dirs[] = { d };
	struct store_writer *w = testutil_writer(d);
	struct scrape *s;
	char *out;
	int fd;

	testutil_append_u64(testutil_series_u64(w, "good"), 1, 1);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "garbage, not a store file at all........"
	    "................................................................"
	    "................................................................",
	    168), 168);
	close(fd);
	ck_assert_int_eq(scrape_open(&s, dirs, 1, testutil_on_warn, &warns),
	    0);
	out = render(s, NULL, 0, NULL);
	assert_has(out, "metricsd_good_count{run=\"run\"} 1\n");
	ck_assert_ptr_null(strstr(out, "metricsd_bad"));
	free(out);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_msg(strstr(warns.last, "bad") != NULL, "warning: %s",
	    warns.last);
	out = render(s, NULL, 0, NULL);
	free(out);
	ck_assert_int_eq(warns.n, 1);
	scrape_free(s);
	free(d);
	free(bad);
}
END_TEST

Suite *
scrape_suite(void)
{
	Suite *s = suite_create("scrape");
	TCase *tc = tcase_create("stores");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_scrape_missing_dir_gives_no_samples);
	tcase_add_test(tc, test_scrape_folds_appended_values_between_scrapes);
	tcase_add_test(tc, test_scrape_parent_dir_picks_up_and_drops_stores);
	tcase_add_test(tc, test_scrape_run_labels_equal_after_replacement_are_dups);
	tcase_add_test(tc, test_scrape_rereads_a_key_recreated_by_a_new_run);
	tcase_add_test(tc, test_scrape_key_filter_and_missing_key);
	tcase_add_test(tc, test_scrape_corrupt_key_warns_once_and_keeps_the_rest);
	suite_add_tcase(s, tc);
	return s;
}
