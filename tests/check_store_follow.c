/*
 * Tests for the store follower (src/store_follow.c): incremental folds,
 * key selection, replaced files, invalid files, a store that is not
 * there yet. The store is written by this process through store.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <check.h>

#include "store.h"
#include "store_follow.h"
#include "testutil.h"

static char *tmp, *dir;
static struct testutil_warnings warns;

static void
setup(void)
{
	tmp = testutil_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(asprintf(&dir, "%s/run7", tmp), 0);
	memset(&warns, 0, sizeof(warns));
}

static void
teardown(void)
{
	testutil_rmtree(tmp);
	free(tmp);
	free(dir);
}

static const struct store_snap *
refresh(struct store_follow *f, const char *const *keys, size_t n)
{
	const struct store_snap *s = NULL;

	ck_assert_int_eq(store_follow_refresh(f, keys, n, &s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

static struct store_follow *
follow(void)
{
	struct store_follow *f;

	ck_assert_int_eq(store_follow_open(&f, dir, testutil_on_warn, &warns),
	    0);
	return f;
}

START_TEST(test_store_follow_folds_only_new_values)
{
	struct store_writer *w = testutil_writer(dir);
	struct store_key *x = testutil_series_u64(w, "x");
	struct store_follow *f = follow();
	const struct store_snap *s;

	testutil_append_u64(x, 1, 10);
	s = refresh(f, NULL, 0);
	ck_assert(s->status.exists);
	ck_assert(s->status.writer_alive);
	ck_assert_str_eq(s->run, "run7");
	ck_assert_str_eq(s->dir, dir);
	ck_assert_uint_eq(s->nkeys, 1);
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_OK);
	ck_assert_int_eq(s->keys[0].kind, STORE_SERIES);
	ck_assert_uint_eq(s->keys[0].series.count, 10);
	ck_assert(s->keys[0].series.isum == 55);
	ck_assert_double_eq(s->keys[0].series.q[0], 5.5);
	ck_assert_uint_eq(s->keys[0].series.min.u, 1);
	ck_assert_uint_eq(s->keys[0].series.max.u, 10);
	/* The follower's own rollup: every value folded exactly once. */
	testutil_append_u64(x, 11, 20);
	s = refresh(f, NULL, 0);
	ck_assert_uint_eq(s->keys[0].series.count, 20);
	ck_assert(s->keys[0].series.isum == 210);
	ck_assert_uint_eq(rollup_count(s->keys[0].roll), 20);
	ck_assert_uint_eq(s->keys[0].values[19].u, 20);
	s = refresh(f, NULL, 0);
	ck_assert_uint_eq(s->keys[0].series.count, 20);
	ck_assert(s->keys[0].series.isum == 210);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(s->status.state, STORE_FINAL);
	ck_assert_int_eq(warns.n, 0);
	store_follow_free(f);
}
END_TEST

START_TEST(test_store_follow_keys_in_order_absent_until_created)
{
	const char *keys[] = { "y", "c", "y", "nope" };
	struct store_writer *w = testutil_writer(dir);
	struct store_key *c;
	struct store_follow *f = follow();
	const struct store_snap *s;
	char err[STORE_ERR_MAX];

	testutil_append_u64(testutil_series_u64(w, "y"), 3, 4);
	testutil_append_u64(testutil_series_u64(w, "other"), 1, 1);
	s = refresh(f, keys, 4);
	/* In the order asked for, each once; "other" was not asked for. */
	ck_assert_uint_eq(s->nkeys, 3);
	ck_assert_str_eq(s->keys[0].name, "y");
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_OK);
	ck_assert_str_eq(s->keys[1].name, "c");
	ck_assert_int_eq(s->keys[1].state, STORE_SNAP_ABSENT);
	ck_assert_str_eq(s->keys[2].name, "nope");
	ck_assert_int_eq(s->keys[2].state, STORE_SNAP_ABSENT);
	ck_assert_int_eq(store_counter_create(w, "c", STORE_I64, &c, err,
	    sizeof(err)), 0);
	store_counter_set(c, (union store_value){ .i = -3 });
	s = refresh(f, keys, 4);
	ck_assert_int_eq(s->keys[1].state, STORE_SNAP_OK);
	ck_assert_int_eq(s->keys[1].kind, STORE_COUNTER);
	ck_assert_int_eq(s->keys[1].counter.i, -3);
	ck_assert_int_eq(warns.n, 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(f);
}
END_TEST

/* One rule for every user: a file renamed over the old one is re-read. */
START_TEST(test_store_follow_rereads_a_replaced_file)
{
	const char *keys[] = { "x" };
	struct store_writer *w = testutil_writer(dir);
	struct store_follow *all = follow(), *some = follow();
	const struct store_snap *s;

	testutil_append_u64(testutil_series_u64(w, "x"), 1, 10);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_uint_eq(refresh(all, NULL, 0)->keys[0].series.count, 10);
	ck_assert_uint_eq(refresh(some, keys, 1)->keys[0].series.count, 10);
	/* A new run in the same directory, same process, fewer values. */
	w = testutil_writer(dir);
	testutil_append_u64(testutil_series_u64(w, "x"), 100, 101);
	s = refresh(all, NULL, 0);
	ck_assert_uint_eq(s->keys[0].series.count, 2);
	ck_assert(s->keys[0].series.isum == 201);
	s = refresh(some, keys, 1);
	ck_assert_uint_eq(s->keys[0].series.count, 2);
	ck_assert(s->keys[0].series.isum == 201);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(all);
	store_follow_free(some);
}
END_TEST

START_TEST(test_store_follow_bad_file_warned_once_then_picked_up)
{
	struct store_writer *w = testutil_writer(dir);
	struct store_follow *f = follow();
	const struct store_snap *s;
	char *bad;
	int fd;

	testutil_append_u64(testutil_series_u64(w, "good"), 1, 1);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_int_ge(asprintf(&bad, "%s/bad", dir), 0);
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a store file", 16), 16);
	close(fd);
	s = refresh(f, NULL, 0);
	ck_assert_uint_eq(s->nkeys, 2);
	ck_assert_str_eq(s->keys[0].name, "bad");
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_BAD);
	ck_assert_int_eq(s->keys[1].state, STORE_SNAP_OK);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_msg(strstr(warns.last, "'bad'") != NULL, "%s", warns.last);
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_BAD);
	ck_assert_int_eq(warns.n, 1);
	/* A writer replaces it with a valid file: retried, read. */
	ck_assert_int_eq(unlink(bad), 0);
	w = testutil_writer(dir);
	testutil_append_u64(testutil_series_u64(w, "bad"), 5, 6);
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_OK);
	ck_assert_uint_eq(s->keys[0].series.count, 2);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(f);
	free(bad);
}
END_TEST

/*
 * A hostile file: a sparse series whose count claims 2^28 values, past
 * ROLLUP_MAX_VALUES. It is reported and skipped at once, without memory
 * spent on it; the store's other keys are read as usual.
 */
START_TEST(test_store_follow_count_past_limit_skipped)
{
	struct store_writer *w = testutil_writer(dir);
	struct store_follow *f = follow();
	const struct store_snap *s;
	const uint64_t claim = UINT64_C(1) << 28;
	struct rusage ru0, ru1;
	char *path;
	int fd;

	testutil_append_u64(testutil_series_u64(w, "fine"), 1, 3);
	testutil_append_u64(testutil_series_u64(w, "huge"), 1, 3);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_int_ge(asprintf(&path, "%s/huge", dir), 0);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(256 + claim * 8)), 0);
	ck_assert_int_eq(pwrite(fd, &claim, 8, 32), 8);	/* capacity */
	ck_assert_int_eq(pwrite(fd, &claim, 8, 128), 8);	/* count */
	close(fd);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru0), 0);
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru1), 0);
	ck_assert_uint_eq(s->nkeys, 2);
	ck_assert_str_eq(s->keys[0].name, "fine");
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_OK);
	ck_assert_uint_eq(s->keys[0].series.count, 3);
	ck_assert_str_eq(s->keys[1].name, "huge");
	ck_assert_int_eq(s->keys[1].state, STORE_SNAP_BAD);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_msg(strstr(warns.last, "'huge'") &&
	    strstr(warns.last, "more than a reader handles"), "%s", warns.last);
	/* Nothing of it was read: the peak grew by far less than 2 GiB. */
	ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 64 * 1024);
	/* Reported once, still skipped. */
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(s->keys[1].state, STORE_SNAP_BAD);
	ck_assert_int_eq(warns.n, 1);
	store_follow_free(f);
	free(path);
}
END_TEST

/*
 * A writer that lost data marks the store incomplete: followers see it
 * while the run goes on and after it ends, with the count lost; a store
 * never marked reads as complete.
 */
START_TEST(test_store_follow_sees_incomplete_run)
{
	struct store_writer *w = testutil_writer(dir);
	struct store_follow *f = follow();
	const struct store_snap *s;

	testutil_append_u64(testutil_series_u64(w, "lat"), 1, 3);
	s = refresh(f, NULL, 0);
	ck_assert(s->status.exists && !s->status.incomplete);
	ck_assert_uint_eq(s->status.lost, 0);
	ck_assert_int_eq(store_writer_mark_incomplete(w, 5), 0);
	s = refresh(f, NULL, 0);
	ck_assert(s->status.incomplete);
	ck_assert_int_eq(s->status.state, STORE_LIVE);
	ck_assert_uint_eq(s->status.lost, 5);
	ck_assert_int_eq(store_writer_mark_incomplete(w, 2426076), 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	s = refresh(f, NULL, 0);
	ck_assert_int_eq(s->status.state, STORE_FINAL);
	ck_assert(s->status.incomplete);
	ck_assert_uint_eq(s->status.lost, 2426076);
	ck_assert_uint_eq(s->keys[0].series.count, 3);
	/* A new run in the same directory starts complete again. */
	w = testutil_writer(dir);
	s = refresh(f, NULL, 0);
	ck_assert(!s->status.incomplete);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(f);
}
END_TEST

START_TEST(test_store_follow_store_not_there_yet)
{
	const char *keys[] = { "x" };
	struct store_follow *f = follow();
	const struct store_snap *s;
	struct store_writer *w;

	s = refresh(f, NULL, 0);
	ck_assert(!s->status.exists);
	ck_assert_uint_eq(s->nkeys, 0);
	s = refresh(f, keys, 1);
	ck_assert(!s->status.exists);
	ck_assert_uint_eq(s->nkeys, 1);
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_ABSENT);
	w = testutil_writer(dir);
	testutil_append_u64(testutil_series_u64(w, "x"), 7, 7);
	s = refresh(f, keys, 1);
	ck_assert(s->status.exists);
	ck_assert_int_eq(s->keys[0].state, STORE_SNAP_OK);
	ck_assert_uint_eq(s->keys[0].series.count, 1);
	ck_assert_int_eq(warns.n, 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(f);
}
END_TEST

/* Keys whose files are gone drop out of an all-keys snapshot. */
START_TEST(test_store_follow_drops_keys_that_are_gone)
{
	struct store_writer *w = testutil_writer(dir);
	struct store_follow *f = follow();
	char *p;

	testutil_append_u64(testutil_series_u64(w, "a"), 1, 1);
	testutil_append_u64(testutil_series_u64(w, "b"), 1, 1);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	ck_assert_uint_eq(refresh(f, NULL, 0)->nkeys, 2);
	ck_assert_int_ge(asprintf(&p, "%s/a", dir), 0);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_uint_eq(refresh(f, NULL, 0)->nkeys, 1);
	ck_assert_str_eq(refresh(f, NULL, 0)->keys[0].name, "b");
	free(p);
	store_follow_free(f);
}
END_TEST

static void
put(struct store_key *k, union store_value v)
{
	ck_assert_int_eq(store_series_append(k, v), 0);
}

/*
 * The series aligned by sample (sample_good_*_ns): their sentinels are
 * counted apart (none) and left out of the figures, at every refresh of
 * a growing series, while values[] and count keep every value as
 * stored. Another key holding 2^64-1, or an i64 sample_good_*, is an
 * ordinary series.
 */
START_TEST(test_store_follow_aligned_series_leave_sentinels_out)
{
	const union store_value none_u = { .u = UINT64_MAX };
	const union store_value none_f = { .f = -1.0 };
	struct store_writer *w = testutil_writer(dir);
	struct store_key *lat = testutil_series_u64(w, "sample_good_latency_ns");
	struct store_key *big = testutil_series_u64(w, "big_ns");
	struct store_key *tpot, *odd;
	struct store_follow *f = follow();
	const struct store_snap *s;
	const struct store_snap_series *sl, *sb, *st, *so;
	char err[STORE_ERR_MAX];

	ck_assert_int_eq(store_series_create(w, "sample_good_tpot_e2e_ns",
	    STORE_F64, &tpot, err, sizeof(err)), 0);
	ck_assert_int_eq(store_series_create(w, "sample_good_x_ns",
	    STORE_I64, &odd, err, sizeof(err)), 0);
	put(lat, none_u);
	put(lat, (union store_value){ .u = 10 });
	put(big, none_u);
	put(big, (union store_value){ .u = 10 });
	put(tpot, none_f);
	put(odd, (union store_value){ .i = -1 });
	s = refresh(f, NULL, 0);
	ck_assert_uint_eq(s->nkeys, 4);
	/* Sorted by name: big_ns, sample_good_latency_ns, _tpot_e2e, _x. */
	sb = &s->keys[0].series;
	sl = &s->keys[1].series;
	st = &s->keys[2].series;
	so = &s->keys[3].series;
	ck_assert_str_eq(s->keys[1].name, "sample_good_latency_ns");
	ck_assert(sl->aligned && st->aligned);
	ck_assert(!sb->aligned && !so->aligned);
	ck_assert_uint_eq(sl->count, 2);
	ck_assert_uint_eq(sl->none, 1);
	ck_assert(sl->isum == 10);
	ck_assert_uint_eq(sl->min.u, 10);
	ck_assert_uint_eq(sl->max.u, 10);
	ck_assert_double_eq(sl->q[4], 10);
	ck_assert_uint_eq(s->keys[1].values[0].u, UINT64_MAX);
	ck_assert_uint_eq(sb->count, 2);
	ck_assert_uint_eq(sb->none, 0);
	ck_assert_uint_eq(sb->max.u, UINT64_MAX);
	ck_assert_uint_eq(st->count, 1);
	ck_assert_uint_eq(st->none, 1);
	ck_assert(isnan(st->q[0]) && isnan(st->mean));
	ck_assert_int_eq(s->keys[2].state, STORE_SNAP_OK);
	ck_assert_uint_eq(so->count, 1);
	ck_assert_int_eq(so->min.i, -1);
	/* Growing: only the new values folded, sentinels among them. */
	put(lat, (union store_value){ .u = 30 });
	put(lat, none_u);
	put(lat, none_u);
	put(tpot, (union store_value){ .f = 2.5 });
	put(tpot, (union store_value){ .f = -0.5 });
	s = refresh(f, NULL, 0);
	sl = &s->keys[1].series;
	st = &s->keys[2].series;
	ck_assert_uint_eq(sl->count, 5);
	ck_assert_uint_eq(sl->none, 3);
	ck_assert(sl->isum == 40);
	ck_assert_double_eq(sl->mean, 20);
	ck_assert_double_eq(sl->q[0], 20);
	ck_assert_uint_eq(sl->max.u, 30);
	ck_assert_uint_eq(rollup_count(s->keys[1].roll), 2);
	ck_assert_uint_eq(s->keys[1].values[4].u, UINT64_MAX);
	/* Only -1 exactly is the f64 sentinel. */
	ck_assert_uint_eq(st->count, 3);
	ck_assert_uint_eq(st->none, 1);
	ck_assert_double_eq(st->min.f, -0.5);
	ck_assert_double_eq(st->q[0], 1);
	s = refresh(f, NULL, 0);
	ck_assert_uint_eq(s->keys[1].series.count, 5);
	ck_assert_uint_eq(s->keys[1].series.none, 3);
	ck_assert_int_eq(warns.n, 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	store_follow_free(f);
}
END_TEST

Suite *
store_follow_suite(void)
{
	Suite *s = suite_create("store_follow");
	TCase *tc = tcase_create("follow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_follow_folds_only_new_values);
	tcase_add_test(tc, test_store_follow_keys_in_order_absent_until_created);
	tcase_add_test(tc, test_store_follow_rereads_a_replaced_file);
	tcase_add_test(tc, test_store_follow_bad_file_warned_once_then_picked_up);
	tcase_add_test(tc, test_store_follow_store_not_there_yet);
	tcase_add_test(tc, test_store_follow_sees_incomplete_run);
	tcase_add_test(tc, test_store_follow_count_past_limit_skipped);
	tcase_add_test(tc, test_store_follow_drops_keys_that_are_gone);
	tcase_add_test(tc, test_store_follow_aligned_series_leave_sentinels_out);
	suite_add_tcase(s, tc);
	return s;
}
