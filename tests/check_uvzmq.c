/* Tests for the ZeroMQ / libuv glue. */
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <uv.h>
#include <zmq.h>

#include "uvzmq.h"

struct pairs {
	void *ctx;
	void *a, *b;
};

static void
pairs_open(struct pairs *p, int ta, int tb, const char *ep)
{
	int zero = 0, hwm = 0;

	p->ctx = zmq_ctx_new();
	ck_assert_ptr_nonnull(p->ctx);
	p->a = zmq_socket(p->ctx, ta);
	p->b = zmq_socket(p->ctx, tb);
	ck_assert_ptr_nonnull(p->a);
	ck_assert_ptr_nonnull(p->b);
	zmq_setsockopt(p->a, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(p->b, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(p->a, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(p->b, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	ck_assert_int_eq(zmq_bind(p->a, ep), 0);
	ck_assert_int_eq(zmq_connect(p->b, ep), 0);
}

static void
pairs_close(struct pairs *p)
{
	zmq_close(p->a);
	zmq_close(p->b);
	zmq_ctx_term(p->ctx);
}

/* ---- a burst queued before the loop runs is delivered in full ---------- */

#define BURST 5000

struct burst {
	struct uvzmq z;
	unsigned got;
	unsigned max_in_drain, in_iteration;
	unsigned iterations;
	int order_ok;
	int closed;
	uv_prepare_t prep;
	uv_check_t check;
};

static void
burst_closed(struct uvzmq *z)
{
	struct burst *b = z->data;

	b->closed++;
}

static void
burst_msg(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct burst *b = arg;
	unsigned v;

	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_eq(zmq_msg_size(msg), sizeof(v));
	memcpy(&v, zmq_msg_data(msg), sizeof(v));
	if (v != b->got)
		b->order_ok = 0;
	b->got++;
	if (++b->in_iteration > b->max_in_drain)
		b->max_in_drain = b->in_iteration;
	if (b->got == BURST) {
		uvzmq_close(z, burst_closed);
		uv_close((uv_handle_t *)&b->prep, NULL);
		uv_close((uv_handle_t *)&b->check, NULL);
	}
}

/*
 * Idle callbacks run before prepare, poll callbacks between prepare and
 * check: resetting the count in both brackets exactly one drain.
 */
static void
burst_prepare(uv_prepare_t *h)
{
	struct burst *b = h->data;

	b->iterations++;
	b->in_iteration = 0;
}

static void
burst_check(uv_check_t *h)
{
	struct burst *b = h->data;

	b->in_iteration = 0;
}

static void
burst_handles(struct burst *b, uv_loop_t *loop)
{
	uv_prepare_init(loop, &b->prep);
	b->prep.data = b;
	uv_prepare_start(&b->prep, burst_prepare);
	uv_check_init(loop, &b->check);
	b->check.data = b;
	uv_check_start(&b->check, burst_check);
}

START_TEST(test_uvzmq_burst_all_delivered_within_budget)
{
	struct pairs p;
	struct burst b = { .order_ok = 1 };
	uv_loop_t loop;
	char err[256];

	pairs_open(&p, ZMQ_PULL, ZMQ_PUSH, "inproc://burst");
	/* Everything is queued before the watcher exists: the edge of
	 * ZMQ_FD has long been raised and nobody will raise it again. */
	for (unsigned i = 0; i < BURST; i++)
		ck_assert_int_eq(zmq_send(p.b, &i, sizeof(i), 0), sizeof(i));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	burst_handles(&b, &loop);
	ck_assert_int_eq(uvzmq_init(&b.z, &loop, p.a, 64, burst_msg, &b, err,
	    sizeof(err)), 0);
	b.z.data = &b;
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(b.got, BURST);
	ck_assert_int_eq(b.order_ok, 1);
	ck_assert_int_eq(b.closed, 1);
	/* The budget was honoured: the loop went round between batches. */
	ck_assert_uint_le(b.max_in_drain, 64);
	ck_assert_uint_ge(b.iterations, BURST / 64);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	pairs_close(&p);
}
END_TEST

/* ---- a burst sent while the loop runs (from another thread) ------------ */

struct sender_arg {
	void *sock;
	unsigned n;
};

static void
sender_thread(void *arg)
{
	struct sender_arg *s = arg;

	for (unsigned i = 0; i < s->n; i++)
		zmq_send(s->sock, &i, sizeof(i), 0);
}

START_TEST(test_uvzmq_live_burst_all_delivered)
{
	struct pairs p;
	struct burst b = { .order_ok = 1 };
	struct sender_arg s;
	uv_thread_t t;
	uv_loop_t loop;
	char err[256];

	pairs_open(&p, ZMQ_PULL, ZMQ_PUSH, "inproc://live");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	burst_handles(&b, &loop);
	ck_assert_int_eq(uvzmq_init(&b.z, &loop, p.a, 7, burst_msg, &b, err,
	    sizeof(err)), 0);
	b.z.data = &b;
	s.sock = p.b;
	s.n = BURST;
	ck_assert_int_eq(uv_thread_create(&t, sender_thread, &s), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	uv_thread_join(&t);
	ck_assert_uint_eq(b.got, BURST);
	ck_assert_int_eq(b.order_ok, 1);
	ck_assert_uint_le(b.max_in_drain, 7);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	pairs_close(&p);
}
END_TEST

/* ---- ping-pong: every message is answered from inside the callback ----- */

#define ROUNDS 2000

struct pingpong {
	struct uvzmq za, zb;
	unsigned last;
	unsigned calls;
	int closed;
};

static void
pp_closed(struct uvzmq *z)
{
	struct pingpong *pp = z->data;

	pp->closed++;
}

static void
pp_msg(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct pingpong *pp = arg;
	unsigned v;

	ck_assert_ptr_nonnull(msg);
	memcpy(&v, zmq_msg_data(msg), sizeof(v));
	pp->calls++;
	pp->last = v;
	if (v >= ROUNDS) {
		uvzmq_close(&pp->za, pp_closed);
		uvzmq_close(&pp->zb, pp_closed);
		return;
	}
	v++;
	/* Sending on the socket being drained: its edge may be swallowed by
	 * this very send, which is what the re-check is for. */
	ck_assert_int_eq(uvzmq_send(z, &v, sizeof(v), 0), sizeof(v));
}

START_TEST(test_uvzmq_send_from_callback_keeps_flowing)
{
	struct pairs p;
	struct pingpong pp = { 0 };
	uv_loop_t loop;
	char err[256];
	unsigned v = 0;

	pairs_open(&p, ZMQ_PAIR, ZMQ_PAIR, "inproc://pingpong");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(uvzmq_init(&pp.za, &loop, p.a, 0, pp_msg, &pp, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(uvzmq_init(&pp.zb, &loop, p.b, 0, pp_msg, &pp, err,
	    sizeof(err)), 0);
	pp.za.data = pp.zb.data = &pp;
	/* A send from outside any callback: uvzmq_send re-arms. */
	ck_assert_int_eq(uvzmq_send(&pp.zb, &v, sizeof(v), 0), sizeof(v));
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(pp.last, ROUNDS);
	ck_assert_uint_eq(pp.calls, ROUNDS + 1);
	ck_assert_int_eq(pp.closed, 2);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	pairs_close(&p);
}
END_TEST

/* ---- closing from the callback stops delivery at once ------------------ */

struct closer {
	struct uvzmq z;
	unsigned got;
	int closed;
	void *zsock;
};

static void
closer_closed(struct uvzmq *z)
{
	struct closer *c = z->data;

	c->closed++;
}

static void
closer_msg(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct closer *c = arg;

	ck_assert_ptr_nonnull(msg);
	if (++c->got == 3) {
		uvzmq_close(z, closer_closed);
		/* Closing twice is harmless. */
		uvzmq_close(z, closer_closed);
		/* Rearming a closed watcher does nothing. */
		uvzmq_rearm(z);
	}
}

START_TEST(test_uvzmq_close_in_callback_stops_delivery)
{
	struct pairs p;
	struct closer c = { 0 };
	uv_loop_t loop;
	char err[256];
	int left = 0;

	pairs_open(&p, ZMQ_PULL, ZMQ_PUSH, "inproc://close");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(zmq_send(p.b, "x", 1, 0), 1);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(uvzmq_init(&c.z, &loop, p.a, 0, closer_msg, &c, err,
	    sizeof(err)), 0);
	c.z.data = &c;
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_uint_eq(c.got, 3);
	ck_assert_int_eq(c.closed, 1);
	/* The other 7 are still queued on the ZMQ socket, untouched. */
	while (zmq_recv(p.a, err, sizeof(err), ZMQ_DONTWAIT) == 1)
		left++;
	ck_assert_int_eq(left, 7);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	pairs_close(&p);
}
END_TEST

/* ---- closing before anything ran --------------------------------------- */

/* The SUB socket aggregate and record receive on: connected, subscribed to
 * everything, never dropping (RCVHWM 0); a bad endpoint named. */
START_TEST(test_uvzmq_sub_open)
{
	void *ctx = NULL, *sub = NULL, *pub;
	char err[256] = "", buf[8];
	int hwm = -1;
	size_t sz = sizeof(hwm);

	ck_assert_int_eq(uvzmq_sub_open(&ctx, &sub, "inproc://sub-open", err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(zmq_getsockopt(sub, ZMQ_RCVHWM, &hwm, &sz), 0);
	ck_assert_int_eq(hwm, 0);
	/* subscribed to every topic: a frame sent after the subscription
	 * reached the publisher arrives (XPUB tells when it has) */
	pub = zmq_socket(ctx, ZMQ_XPUB);
	ck_assert_int_eq(zmq_bind(pub, "inproc://sub-open2"), 0);
	ck_assert_int_eq(zmq_connect(sub, "inproc://sub-open2"), 0);
	ck_assert_int_eq(zmq_recv(pub, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 1);
	ck_assert_int_eq(zmq_send(pub, "any", 3, 0), 3);
	ck_assert_int_eq(zmq_recv(sub, buf, sizeof(buf), 0), 3);
	ck_assert_int_eq(memcmp(buf, "any", 3), 0);
	zmq_close(pub);
	zmq_close(sub);
	zmq_ctx_term(ctx);

	ck_assert_int_lt(uvzmq_sub_open(&ctx, &sub, "bogus://x", err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "cannot connect to bogus://x: "));
	ck_assert_ptr_nonnull(sub);	/* the owner closes what exists */
	zmq_close(sub);
	zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_uvzmq_close_idle_watcher)
{
	struct pairs p;
	struct closer c = { 0 };
	uv_loop_t loop;
	char err[256];

	pairs_open(&p, ZMQ_PULL, ZMQ_PUSH, "inproc://idle");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(uvzmq_init(&c.z, &loop, p.a, 0, closer_msg, &c, err,
	    sizeof(err)), 0);
	c.z.data = &c;
	uvzmq_close(&c.z, closer_closed);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(c.closed, 1);
	ck_assert_uint_eq(c.got, 0);
	ck_assert_int_eq(uvzmq_error(&c.z), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	pairs_close(&p);
}
END_TEST

Suite *
uvzmq_suite(void)
{
	Suite *s = suite_create("uvzmq");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, test_uvzmq_burst_all_delivered_within_budget);
	tcase_add_test(tc, test_uvzmq_live_burst_all_delivered);
	tcase_add_test(tc, test_uvzmq_send_from_callback_keeps_flowing);
	tcase_add_test(tc, test_uvzmq_close_in_callback_stops_delivery);
	tcase_add_test(tc, test_uvzmq_close_idle_watcher);
	tcase_add_test(tc, test_uvzmq_sub_open);
	suite_add_tcase(s, tc);
	return s;
}
