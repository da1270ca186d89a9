/* Tests for the ready-check protocol: codec, sender, receiver. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <uv.h>
#include <zmq.h>

#include "readycheck.h"
#include "testutil.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- frame codec ------------------------------------------------------- */

START_TEST(test_readycheck_frame_roundtrip_all_widths)
{
	static const int64_t v[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	    4294967295LL, 4294967296LL, INT64_MAX, -1, -32, -33, -128, -129,
	    -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN };
	unsigned char buf[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = readycheck_frame_encode(v[i], buf, sizeof(buf));
		int64_t got = 42;

		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, 9);
		ck_assert_int_eq(readycheck_frame_decode(buf, n, &got), 0);
		ck_assert(got == v[i]);
	}
	/* Too small a buffer is refused, not overrun. */
	ck_assert_uint_eq(readycheck_frame_encode(INT64_MAX, buf, 3), 0);
}
END_TEST

START_TEST(test_readycheck_frame_decode_other_widths)
{
	/* Publishers may pick any width: uint8 7, uint64 7, int16 -2. */
	static const unsigned char u8[] = { 0xcc, 0x07 };
	static const unsigned char u64[] = { 0xcf, 0, 0, 0, 0, 0, 0, 0, 7 };
	static const unsigned char i16[] = { 0xd1, 0xff, 0xfe };
	static const unsigned char big[] = { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	int64_t id;

	ck_assert_int_eq(readycheck_frame_decode(u8, sizeof(u8), &id), 0);
	ck_assert(id == 7);
	ck_assert_int_eq(readycheck_frame_decode(u64, sizeof(u64), &id), 0);
	ck_assert(id == 7);
	ck_assert_int_eq(readycheck_frame_decode(i16, sizeof(i16), &id), 0);
	ck_assert(id == -2);
	ck_assert_int_eq(readycheck_frame_decode(big, sizeof(big), &id), -ERANGE);
}
END_TEST

START_TEST(test_readycheck_frame_decode_rejects_garbage)
{
	static const struct {
		const char *what;
		unsigned char b[12];
		size_t n;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "nil", { 0xc0 }, 1 },
		{ "true", { 0xc3 }, 1 },
		{ "float", { 0xca, 0x3f, 0x80, 0, 0 }, 5 },
		{ "string", { 0xa1, 'x' }, 2 },
		{ "array of one int", { 0x91, 0x01 }, 2 },
		{ "huge array header", { 0xdd, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ "huge map header", { 0xdf, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ "two ints", { 0x01, 0x02 }, 2 },
		{ "truncated uint32", { 0xce, 0x01, 0x02 }, 3 },
		{ "trailing byte", { 0xcc, 0x07, 0x00 }, 3 },
		{ "ten bytes", { 0xcf, 0, 0, 0, 0, 0, 0, 0, 7, 0 }, 10 },
	};
	int64_t id = 99;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = readycheck_frame_decode(bad[i].b, bad[i].n, &id);

		ck_assert_msg(r == -EBADMSG, "%s: got %d", bad[i].what, r);
	}
	ck_assert(id == 99);
}
END_TEST

/* ---- target resolution ------------------------------------------------- */

static void
clear_env(void)
{
	unsetenv(READYCHECK_ENV_ENDPOINT);
	unsetenv(READYCHECK_ENV_ID);
	unsetenv(READYCHECK_ENV_PATH);
	unsetenv(READYCHECK_ENV_SOCKET_DIR);
}

START_TEST(test_readycheck_target_resolve_sources)
{
	struct readycheck_target t;
	char err[256];

	clear_env();
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, NULL, NULL, NULL,
	    err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, "/run/x", "ready",
	    "7", err, sizeof(err)), 0);
	ck_assert_str_eq(t.endpoint, "ipc:///run/x/ready");
	ck_assert(t.id == 7);
	ck_assert_int_eq(readycheck_target_resolve(&t, "tcp://127.0.0.1:9",
	    NULL, NULL, "-3", err, sizeof(err)), 0);
	ck_assert_str_eq(t.endpoint, "tcp://127.0.0.1:9");
	ck_assert(t.id == -3);
	/* A path without a socket directory is an error, naming the fix. */
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, NULL, "ready",
	    "1", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--socket-dir"));
	/* ... unless the launcher exported the directory. */
	setenv(READYCHECK_ENV_SOCKET_DIR, "/s", 1);
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, NULL, "ready",
	    "1", err, sizeof(err)), 0);
	ck_assert_str_eq(t.endpoint, "ipc:///s/ready");
	/* The environment alone is enough. */
	setenv(READYCHECK_ENV_ENDPOINT, "ipc:///e/p", 1);
	setenv(READYCHECK_ENV_ID, "12", 1);
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, NULL, NULL, NULL,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(t.endpoint, "ipc:///e/p");
	ck_assert(t.id == 12);
	clear_env();
}
END_TEST

START_TEST(test_readycheck_target_resolve_rejects_bad_values)
{
	struct readycheck_target t;
	char err[256], longdir[400];
	static const char *bad_ids[] = { "", "x", "1x", "99999999999999999999",
	    " " };

	clear_env();
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		ck_assert_int_eq(readycheck_target_resolve(&t, "ipc:///a", NULL,
		    NULL, bad_ids[i], err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(readycheck_target_resolve(&t, "ipc:///a", NULL, NULL,
	    NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "readiness id"));
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	ck_assert_int_eq(readycheck_target_resolve(&t, NULL, longdir, "r", "1",
	    err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

/* ---- receiver, driven by a raw PUSH socket ----------------------------- */

struct rx {
	unsigned ready, done, timeout, dup, unknown, malformed, error;
	int64_t last_unknown;
	uint64_t t_end;
	uv_timer_t *spam;	/* stopped at the end, if set */
};

static void
rx_event(struct readycheck_receiver *r, enum readycheck_event ev, int64_t id,
    void *arg)
{
	struct rx *x = arg;

	switch (ev) {
	case READYCHECK_READY: x->ready++; break;
	case READYCHECK_DUPLICATE: x->dup++; break;
	case READYCHECK_UNKNOWN: x->unknown++; x->last_unknown = id; break;
	case READYCHECK_MALFORMED: x->malformed++; break;
	case READYCHECK_ERROR: x->error++; break;
	case READYCHECK_DONE:
	case READYCHECK_TIMEOUT:
		if (ev == READYCHECK_DONE)
			x->done++;
		else
			x->timeout++;
		x->t_end = now_ms();
		if (x->spam)
			uv_close((uv_handle_t *)x->spam, NULL);
		readycheck_receiver_close(r, NULL);
		break;
	}
}

struct fixture {
	char *dir;
	char ep[256];
	void *ctx;
	void *push;
	uv_loop_t loop;
	struct readycheck_receiver r;
	struct rx x;
};

static void
fixture_open(struct fixture *f, const int64_t *ids, size_t n,
    uint64_t timeout_ms)
{
	char err[256];
	int zero = 0;

	memset(f, 0, sizeof(*f));
	f->dir = testutil_tmpdir();
	ck_assert_ptr_nonnull(f->dir);
	snprintf(f->ep, sizeof(f->ep), "ipc://%s/ready", f->dir);
	f->ctx = zmq_ctx_new();
	ck_assert_int_eq(uv_loop_init(&f->loop), 0);
	ck_assert_msg(readycheck_receiver_open(&f->r, &f->loop, f->ctx, f->ep,
	    ids, n, timeout_ms, rx_event, &f->x, err, sizeof(err)) == 0,
	    "open: %s", err);
	f->push = zmq_socket(f->ctx, ZMQ_PUSH);
	zmq_setsockopt(f->push, ZMQ_LINGER, &zero, sizeof(zero));
	ck_assert_int_eq(zmq_connect(f->push, f->ep), 0);
}

static void
fixture_close(struct fixture *f)
{
	zmq_close(f->push);
	ck_assert_int_eq(uv_loop_close(&f->loop), 0);
	zmq_ctx_term(f->ctx);
	testutil_rmtree(f->dir);
	free(f->dir);
}

static void
push_id(struct fixture *f, int64_t id)
{
	unsigned char b[16];
	size_t n = readycheck_frame_encode(id, b, sizeof(b));

	ck_assert_int_eq(zmq_send(f->push, b, n, 0), (int)n);
}

START_TEST(test_readycheck_receiver_n_of_n_in_arrival_order)
{
	static const int64_t ids[] = { 10, 20, 30 };
	struct fixture f;

	fixture_open(&f, ids, 3, 30000);
	/* One connection keeps the order: 30, 10, 20. */
	push_id(&f, 30);
	push_id(&f, 10);
	push_id(&f, 20);
	ck_assert_int_eq(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(f.x.ready, 3);
	ck_assert_uint_eq(f.x.done, 1);
	ck_assert_uint_eq(f.x.timeout, 0);
	fixture_close(&f);
}
END_TEST

/* Arrival order is checked inside the DONE event, before close frees it. */
static int64_t order_seen[8];
static size_t order_len;

static void
order_event(struct readycheck_receiver *r, enum readycheck_event ev,
    int64_t id, void *arg)
{
	if (ev == READYCHECK_DONE || ev == READYCHECK_TIMEOUT) {
		order_len = r->narrived;
		memcpy(order_seen, r->arrived, r->narrived * sizeof(int64_t));
	}
	rx_event(r, ev, id, arg);
}

START_TEST(test_readycheck_receiver_ignores_dups_unknown_garbage)
{
	static const int64_t ids[] = { 1, 2, 3 };
	struct fixture f;

	fixture_open(&f, ids, 3, 30000);
	f.r.cb = order_event;
	push_id(&f, 2);
	push_id(&f, 2);				/* duplicate */
	push_id(&f, 99);			/* unknown */
	ck_assert_int_eq(zmq_send(f.push, "hello", 5, 0), 5);	/* garbage */
	ck_assert_int_eq(zmq_send(f.push, "", 0, 0), 0);	/* empty */
	/* A multipart message carrying valid ids counts as one bad message
	 * and does not mark 1 or 3 ready. */
	{
		unsigned char b[16];
		size_t n = readycheck_frame_encode(1, b, sizeof(b));

		ck_assert_int_eq(zmq_send(f.push, b, n, ZMQ_SNDMORE), (int)n);
		n = readycheck_frame_encode(3, b, sizeof(b));
		ck_assert_int_eq(zmq_send(f.push, b, n, 0), (int)n);
	}
	{
		static const unsigned char big[] = { 0xcf, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff };

		ck_assert_int_eq(zmq_send(f.push, big, sizeof(big), 0), 9);
	}
	push_id(&f, 3);
	push_id(&f, 1);
	push_id(&f, 1);				/* duplicate after done */
	ck_assert_int_eq(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(f.x.done, 1);
	ck_assert_uint_eq(f.x.ready, 3);
	ck_assert_uint_ge(f.x.dup, 1);
	ck_assert_uint_eq(f.x.unknown, 2);	/* 99 and 2^64-1 */
	ck_assert_uint_eq(f.x.malformed, 3);	/* hello, empty, multipart */
	ck_assert_uint_eq(order_len, 3);
	ck_assert(order_seen[0] == 2 && order_seen[1] == 3 && order_seen[2] == 1);
	fixture_close(&f);
}
END_TEST

static void
spam_dup(uv_timer_t *t)
{
	struct fixture *f = t->data;

	push_id(f, 1);
}

START_TEST(test_readycheck_receiver_one_total_deadline)
{
	static const int64_t ids[] = { 1, 2 };
	struct fixture f;
	uv_timer_t spam;
	uint64_t t0;

	/* Before the loop exists: the deadline counts from the loop's
	 * time at set-up, which a slow set-up (ASan) puts after this. */
	t0 = now_ms();
	fixture_open(&f, ids, 2, 300);
	f.r.cb = order_event;
	/* Traffic keeps arriving (duplicates every 20 ms): a per-message
	 * timeout would never fire; the total deadline must. */
	uv_timer_init(&f.loop, &spam);
	spam.data = &f;
	uv_timer_start(&spam, spam_dup, 0, 20);
	f.x.spam = &spam;
	ck_assert_int_eq(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(f.x.timeout, 1);
	ck_assert_uint_eq(f.x.done, 0);
	ck_assert_uint_ge(f.x.t_end - t0, 290);
	/* Generous bound: the machine is shared. */
	ck_assert_uint_lt(f.x.t_end - t0, 5000);
	ck_assert_uint_ge(f.x.dup, 1);
	ck_assert_uint_eq(order_len, 1);
	ck_assert(order_seen[0] == 1);
	fixture_close(&f);
}
END_TEST

/* ---- real senders in other processes ------------------------------------ */

START_TEST(test_readycheck_send_to_wait_across_processes)
{
	static const int64_t ids[] = { 5, 6, 7, 8 };
	char *dir = testutil_tmpdir();
	char ep[256], err[256];
	int64_t order[4];
	size_t narrived, i;
	pid_t pids[4];
	int seen = 0;

	snprintf(ep, sizeof(ep), "ipc://%s/ready", dir);
	/* Senders may start before the receiver binds: they retry until
	 * their linger bound. */
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char e[256];
			int rc;

			/* Free what the child owns: valgrind checks it too. */
			free(dir);
			rc = readycheck_send(ep, ids[i], 10000, e, sizeof(e));
			_exit(rc == 0 ? 0 : 1);
		}
	}
	ck_assert_msg(readycheck_wait(ep, ids, 4, 20000, order, &narrived,
	    err, sizeof(err)) == 0, "wait: %s", err);
	ck_assert_uint_eq(narrived, 4);
	for (i = 0; i < 4; i++)
		seen |= 1 << (order[i] - 5);
	ck_assert_int_eq(seen, 0xf);
	for (i = 0; i < 4; i++) {
		int st = testutil_wait(pids[i], 20000);

		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_readycheck_wait_times_out_naming_count)
{
	static const int64_t ids[] = { 1, 2 };
	char *dir = testutil_tmpdir();
	char ep[256], err[256];
	int64_t order[2];
	size_t narrived = 9;

	snprintf(ep, sizeof(ep), "ipc://%s/ready", dir);
	ck_assert_int_eq(readycheck_wait(ep, ids, 2, 100, order, &narrived,
	    err, sizeof(err)), -ETIMEDOUT);
	ck_assert_uint_eq(narrived, 0);
	ck_assert_ptr_nonnull(strstr(err, "0 of 2"));
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_readycheck_send_without_receiver_is_bounded)
{
	char *dir = testutil_tmpdir();
	char ep[256], err[256] = "";
	uint64_t t0, dt;

	snprintf(ep, sizeof(ep), "ipc://%s/nobody", dir);
	t0 = now_ms();
	ck_assert_int_eq(readycheck_send(ep, 1, 300, err, sizeof(err)),
	    -ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_uint_ge(dt, 250);
	ck_assert_uint_lt(dt, 3000);
	ck_assert_ptr_nonnull(strstr(err, "no receiver"));
	ck_assert_ptr_nonnull(strstr(err, ep));
	/* A malformed endpoint fails at once. */
	ck_assert_int_lt(readycheck_send("bogus://x", 1, 300, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "bogus://x"));
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
readycheck_suite(void)
{
	Suite *s = suite_create("readycheck");
	TCase *codec = tcase_create("codec");
	TCase *rx = tcase_create("receiver");

	tcase_add_test(codec, test_readycheck_frame_roundtrip_all_widths);
	tcase_add_test(codec, test_readycheck_frame_decode_other_widths);
	tcase_add_test(codec, test_readycheck_frame_decode_rejects_garbage);
	tcase_add_test(codec, test_readycheck_target_resolve_sources);
	tcase_add_test(codec, test_readycheck_target_resolve_rejects_bad_values);
	suite_add_tcase(s, codec);
	tcase_add_test(rx, test_readycheck_receiver_n_of_n_in_arrival_order);
	tcase_add_test(rx, test_readycheck_receiver_ignores_dups_unknown_garbage);
	tcase_add_test(rx, test_readycheck_receiver_one_total_deadline);
	tcase_add_test(rx, test_readycheck_send_to_wait_across_processes);
	tcase_add_test(rx, test_readycheck_wait_times_out_naming_count);
	tcase_add_test(rx, test_readycheck_send_without_receiver_is_bounded);
	suite_add_tcase(s, rx);
	return s;
}
