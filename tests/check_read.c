/*
 * metricsd read --watch, as a real process reading a store this test
 * writes: new values are folded in between redraws, keys and the store
 * itself are picked up when they appear, signals end it with status 0 and
 * a closed stdout with status 1. Every wait is on the reader's output
 * (one JSON object per line in --watch --json), with generous deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "rollup.h"
#include "store.h"
#include "testutil.h"

#define DEADLINE_MS 20000

struct child {
	pid_t pid;
	int out;		/* read end of its stdout */
	char *buf;		/* bytes read, not yet returned as lines */
	size_t len, cap;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run build/metricsd-read (the symlink) with args, stdout on a pipe. */
static void
reader_spawn(struct child *c, char *const args[])
{
	char *bin = testutil_bin(), *link, *slash;
	char *argv[32];
	int p[2], n = 0;

	slash = strrchr(bin, '/');
	ck_assert_ptr_nonnull(slash);
	ck_assert_int_ge(asprintf(&link, "%.*s/metricsd-read",
	    (int)(slash - bin), bin), 0);
	argv[n++] = link;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	memset(c, 0, sizeof(*c));
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execv(link, argv);
		_exit(127);
	}
	close(p[1]);
	c->out = p[0];
	free(link);
	free(bin);
}

/* The next line of output (malloc'd), or NULL at EOF; fails on timeout. */
static char *
reader_line(struct child *c, uint64_t deadline)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = { .fd = c->out, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t got;

		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, n);

			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		ck_assert_msg(now < deadline, "reader output timed out");
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = realloc(c->buf, c->cap);
			ck_assert_ptr_nonnull(c->buf);
		}
		got = read(c->out, c->buf + c->len, c->cap - c->len);
		if (got < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(got, 0);
		if (got == 0)
			return NULL;
		c->len += (size_t)got;
	}
}

/* Read frames until pred accepts one; return it (caller json_decref). */
static json_t *
reader_wait(struct child *c, bool (*pred)(json_t *, void *), void *arg,
    int64_t *last_count, const char *series)
{
	uint64_t deadline = now_ms() + DEADLINE_MS;
	char *line;

	while ((line = reader_line(c, deadline))) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);

		ck_assert_msg(j != NULL, "bad JSON from reader: %s: %.200s",
		    e.text, line);
		free(line);
		/* Counts a reader reports never go backwards. */
		if (last_count && series) {
			json_t *s = json_object_get(j, series);

			if (s) {
				int64_t n = json_integer_value(
				    json_object_get(s, "count"));

				ck_assert_int_ge(n, *last_count);
				*last_count = n;
			}
		}
		if (pred(j, arg))
			return j;
		json_decref(j);
	}
	ck_abort_msg("reader exited before the expected frame");
	return NULL;
}

static void
reader_end(struct child *c, int sig, int want_status)
{
	int st;

	if (sig)
		ck_assert_int_eq(kill(c->pid, sig), 0);
	st = testutil_wait(c->pid, DEADLINE_MS);
	ck_assert_msg(st != -1, "reader did not exit");
	ck_assert_msg(WIFEXITED(st), "reader died of signal %d", WTERMSIG(st));
	ck_assert_int_eq(WEXITSTATUS(st), want_status);
	if (c->out >= 0)
		close(c->out);
	free(c->buf);
}

static bool
has_count(json_t *j, void *arg)
{
	json_t *s = json_object_get(j, "lat");

	return s && json_integer_value(json_object_get(s, "count")) ==
	    *(int64_t *)arg;
}

static bool
has_count_and_late(json_t *j, void *arg)
{
	return has_count(j, arg) && json_object_get(j, "late");
}

static double
num(json_t *o, const char *series, const char *field)
{
	json_t *v = json_object_get(json_object_get(o, series), field);

	ck_assert_msg(json_is_number(v), "%s.%s is not a number", series, field);
	return json_number_value(v);
}

static void
append_u(struct store_key *k, uint64_t x)
{
	union store_value v = { .u = x };

	ck_assert_int_eq(store_series_append(k, v), 0);
}

START_TEST(test_read_watch_folds_new_values)
{
	char *tmp = testutil_tmpdir(), *dir, err[STORE_ERR_MAX];
	struct store_writer *w;
	struct store_key *lat, *late;
	struct child c;
	int64_t want, last = 0;
	json_t *j;

	ck_assert_int_ge(asprintf(&dir, "%s/store", tmp), 0);
	ck_assert_msg(store_writer_open(&w, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &lat, err,
	    sizeof(err)), 0);
	append_u(lat, 1);
	append_u(lat, 2);
	append_u(lat, 3);

	reader_spawn(&c, (char *[]){ "--metrics-dir", dir, "--json", "--watch",
	    "0.02", "lat", "late", NULL });
	want = 3;
	j = reader_wait(&c, has_count, &want, &last, "lat");
	ck_assert_ptr_null(json_object_get(j, "late"));
	ck_assert_double_eq(num(j, "lat", "p50"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "_store"), "state")), "live");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "_store"), "writer_pid")), getpid());
	json_decref(j);

	/* New values and a key that did not exist: both picked up. */
	append_u(lat, 4);
	append_u(lat, 5);
	ck_assert_int_eq(store_counter_create(w, "late", STORE_U64, &late, err,
	    sizeof(err)), 0);
	store_counter_set(late, (union store_value){ .u = 9 });
	want = 5;
	j = reader_wait(&c, has_count_and_late, &want, &last, "lat");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "late")), 9);
	ck_assert_double_eq(num(j, "lat", "mean"), 3);
	ck_assert_double_eq(num(j, "lat", "p50"), 3);
	ck_assert_double_eq_tol(num(j, "lat", "p90"), 4.6, 1e-12);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "lat"), "sum")), 15);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "lat"), "min")), 1);
	json_decref(j);

	/* Many small growths: still every value, still in order. */
	for (uint64_t i = 6; i <= 20000; i++)
		append_u(lat, i);
	want = 20000;
	j = reader_wait(&c, has_count, &want, &last, "lat");
	ck_assert_double_eq(num(j, "lat", "p50"), 10000.5);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "lat"), "max")), 20000);
	json_decref(j);

	reader_end(&c, SIGTERM, 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	testutil_rmtree(tmp);
	free(dir);
	free(tmp);
}
END_TEST

static bool
is_missing(json_t *j, void *arg)
{
	const char *s = json_string_value(json_object_get(json_object_get(j,
	    "_store"), "state"));

	(void)arg;
	return s && strcmp(s, "missing") == 0 && json_object_size(j) == 1;
}

static bool
has_key_s(json_t *j, void *arg)
{
	(void)arg;
	return json_object_get(j, "s") != NULL;
}

START_TEST(test_read_watch_waits_for_store)
{
	char *tmp = testutil_tmpdir(), *dir, err[STORE_ERR_MAX];
	struct store_writer *w;
	struct store_key *s;
	struct child c;
	json_t *j;

	ck_assert_int_ge(asprintf(&dir, "%s/later", tmp), 0);
	reader_spawn(&c, (char *[]){ "--metrics-dir", dir, "--json", "--watch",
	    "0.02", NULL });
	j = reader_wait(&c, is_missing, NULL, NULL, NULL);
	json_decref(j);

	ck_assert_msg(store_writer_open(&w, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_series_create(w, "s", STORE_I64, &s, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_series_append(s, (union store_value){ .i = -7 }), 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	j = reader_wait(&c, has_key_s, NULL, NULL, NULL);
	/* The key may show up before its value: wait for the final frame. */
	while (json_integer_value(json_object_get(json_object_get(j, "s"),
	    "count")) != 1 || !json_is_true(json_object_get(json_object_get(j,
	    "_store"), "final"))) {
		json_decref(j);
		j = reader_wait(&c, has_key_s, NULL, NULL, NULL);
	}
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "s"), "min")), -7);
	ck_assert(json_is_null(json_object_get(json_object_get(j, "_store"),
	    "writer_pid")));
	json_decref(j);
	reader_end(&c, SIGINT, 0);
	testutil_rmtree(tmp);
	free(dir);
	free(tmp);
}
END_TEST

static bool
any_frame(json_t *j, void *arg)
{
	(void)j;
	(void)arg;
	return true;
}

/* A reader whose output goes nowhere must stop and say so: exit 1. */
START_TEST(test_read_watch_closed_stdout_exits_1)
{
	char *tmp = testutil_tmpdir();
	struct child c;
	json_t *j;

	reader_spawn(&c, (char *[]){ "--metrics-dir", tmp, "--json", "--watch",
	    "0.01", NULL });
	j = reader_wait(&c, any_frame, NULL, NULL, NULL);
	json_decref(j);
	close(c.out);
	c.out = -1;
	reader_end(&c, 0, 1);
	testutil_rmtree(tmp);
	free(tmp);
}
END_TEST

static bool
has_min_10(json_t *j, void *arg)
{
	json_t *s = json_object_get(j, "lat");

	(void)arg;
	return s && json_integer_value(json_object_get(s, "min")) == 10;
}

/* Run a helper program to the end; it must exit 0. */
static void
run_helper(char *const argv[])
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	st = testutil_wait(pid, DEADLINE_MS);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s failed", argv[0]);
}

/* A writer that runs again replaces the keys: the watcher follows. */
START_TEST(test_read_watch_follows_a_new_run)
{
	char *tmp = testutil_tmpdir(), *dir, *fill = testutil_helper("read_fill");
	struct child c;
	int64_t want = 3;
	json_t *j;

	ck_assert_int_ge(asprintf(&dir, "%s/store", tmp), 0);
	run_helper((char *[]){ fill, dir, "series:lat:u64:1,2,3", NULL });
	reader_spawn(&c, (char *[]){ "--metrics-dir", dir, "--json", "--watch",
	    "0.02", NULL });
	j = reader_wait(&c, has_count, &want, NULL, NULL);
	json_decref(j);
	run_helper((char *[]){ fill, dir, "series:lat:u64:10,20", NULL });
	j = reader_wait(&c, has_min_10, NULL, NULL, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "lat"), "count")), 2);
	ck_assert_double_eq(num(j, "lat", "mean"), 15);
	json_decref(j);
	reader_end(&c, SIGTERM, 0);
	testutil_rmtree(tmp);
	free(fill);
	free(dir);
	free(tmp);
}
END_TEST

/* Next line starting with prefix (the table has one row per key). */
static char *
reader_wait_line(struct child *c, const char *prefix)
{
	uint64_t deadline = now_ms() + DEADLINE_MS;
	char *line;

	while ((line = reader_line(c, deadline))) {
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return line;
		free(line);
	}
	ck_abort_msg("reader exited before a line starting '%s'", prefix);
	return NULL;
}

/* The table, redrawn into a pipe: frames one after another. */
START_TEST(test_read_watch_table)
{
	char *tmp = testutil_tmpdir(), *dir, err[STORE_ERR_MAX], *line;
	struct store_writer *w;
	struct store_key *lat;
	struct child c;

	ck_assert_int_ge(asprintf(&dir, "%s/store", tmp), 0);
	ck_assert_msg(store_writer_open(&w, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &lat, err,
	    sizeof(err)), 0);
	reader_spawn(&c, (char *[]){ "--metrics-dir", dir, "--watch", "0.02",
	    "lat", "soon", NULL });
	line = reader_wait_line(&c, "soon ");
	ck_assert_msg(strstr(line, "no data yet"), "%s", line);
	free(line);
	line = reader_wait_line(&c, "lat ");
	ck_assert_msg(strstr(line, " 0 ") && strstr(line, " - "), "%s", line);
	free(line);
	append_u(lat, 10);
	append_u(lat, 30);
	for (;;) {
		char name[16], cells[9][16];

		line = reader_wait_line(&c, "lat ");
		if (sscanf(line, "%15s %15s %15s %15s %15s %15s %15s %15s %15s "
		    "%15s", name, cells[0], cells[1], cells[2], cells[3],
		    cells[4], cells[5], cells[6], cells[7], cells[8]) == 10 &&
		    strcmp(cells[0], "2") == 0) {
			/* count mean min max p50 p90 p95 p99 p99.9 */
			static const char *const want[9] = { "2", "20", "10",
				"30", "20", "28", "29", "29.8", "29.98" };

			for (int i = 0; i < 9; i++)
				ck_assert_str_eq(cells[i], want[i]);
			free(line);
			break;
		}
		free(line);
	}
	reader_end(&c, SIGINT, 0);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	testutil_rmtree(tmp);
	free(dir);
	free(tmp);
}
END_TEST

/* rollup_fold_view: each call folds exactly what was appended since. */
START_TEST(test_rollup_fold_view_catches_up)
{
	char *tmp = testutil_tmpdir(), *dir, err[STORE_ERR_MAX];
	struct store_writer *w;
	struct store_key *k;
	struct store_view *v;
	struct rollup r;
	uint64_t count = 99, n = 0;
	__int128 want = 0;
	double p;

	ck_assert_int_ge(asprintf(&dir, "%s/store", tmp), 0);
	ck_assert_msg(store_writer_open(&w, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_series_create(w, "x", STORE_I64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&v, dir, "x", err, sizeof(err)), 0);
	rollup_init(&r, STORE_I64);
	ck_assert_int_eq(rollup_fold_view(&r, v, &count, err, sizeof(err)), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(rollup_count(&r), 0);
	/* Growing steps, across several growths of the file. */
	for (uint64_t step = 1; step <= 300000; step *= 3) {
		for (uint64_t i = 0; i < step; i++, n++) {
			int64_t x = (int64_t)(n * 7919 % 100003) - 50000;

			ck_assert_int_eq(store_series_append(k,
			    (union store_value){ .i = x }), 0);
			want += x;
		}
		ck_assert_int_eq(rollup_fold_view(&r, v, &count, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(count, n);
		ck_assert_uint_eq(rollup_count(&r), n);
		ck_assert(rollup_sum_int(&r) == want);
		ck_assert_int_eq(rollup_percentile(&r, 50, &p), 0);
	}
	/* Nothing new: nothing folded twice. */
	ck_assert_int_eq(rollup_fold_view(&r, v, &count, err, sizeof(err)), 0);
	ck_assert_uint_eq(rollup_count(&r), n);
	ck_assert(rollup_sum_int(&r) == want);
	rollup_free(&r);
	store_view_close(v);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	testutil_rmtree(tmp);
	free(dir);
	free(tmp);
}
END_TEST

Suite *
read_suite(void)
{
	Suite *s = suite_create("read");
	TCase *tc = tcase_create("watch");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_read_watch_folds_new_values);
	tcase_add_test(tc, test_read_watch_waits_for_store);
	tcase_add_test(tc, test_read_watch_closed_stdout_exits_1);
	tcase_add_test(tc, test_read_watch_follows_a_new_run);
	tcase_add_test(tc, test_read_watch_table);
	tcase_add_test(tc, test_rollup_fold_view_catches_up);
	suite_add_tcase(s, tc);
	return s;
}
