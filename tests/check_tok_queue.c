/* The token queue (tok_queue.h): jobs come back in push order whatever
 * order the workers finish them in, the bound, stopping. A test
 * tokenizer counts bytes and holds texts that start with 'B' until the
 * test opens a gate, so every interleaving here is forced, not timed. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "aggregator.h"
#include "tok_queue.h"
#include "tokenizer.h"

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static unsigned gate_waiting;		/* workers held at the gate */
static unsigned notified;

static int
gate_count(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, uint64_t *out)
{
	uint64_t len = 0;

	(void)tok;
	if (n > 0 && chunks[0].len > 0 && chunks[0].ptr[0] == 'B') {
		pthread_mutex_lock(&gate_mu);
		gate_waiting++;
		pthread_cond_broadcast(&gate_cv);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_mu);
		gate_waiting--;
		pthread_mutex_unlock(&gate_mu);
	}
	for (size_t i = 0; i < n; i++)
		len += chunks[i].len;
	*out = len;
	return len == 3 ? -EIO : 0;	/* "bad" fails */
}

static void
gate_reset(void)
{
	gate_open = false;
	gate_waiting = 0;
	notified = 0;
}

/* Wait until k workers are held at the gate. */
static void
gate_wait_held(unsigned k)
{
	pthread_mutex_lock(&gate_mu);
	while (gate_waiting < k)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void
gate_release(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void
on_notify(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&notified, 1, __ATOMIC_SEQ_CST);
}

static struct tokenizer gate_tok = { .name = "gate", .count = gate_count };
static struct tokenizer *const toks[3] = { &gate_tok, &gate_tok, &gate_tok };

struct tjob {
	struct tokq_job j;
	struct event_str s;
	int id;
};

static void
tjob_init(struct tjob *t, int id, const char *text, unsigned want)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->s = (struct event_str){ text, strlen(text) };
	t->j.chunks = &t->s;
	t->j.n = 1;
	t->j.from = 1;	/* the suffix is empty */
	t->j.want = want;
	t->j.bytes = 100;
}

static struct tokq *
queue(unsigned threads, size_t max_bytes, size_t max_jobs)
{
	struct tokq_config c = { toks, threads, max_bytes, max_jobs, on_notify,
	    NULL };
	struct tokq *q;
	char err[128];

	ck_assert_int_eq(tokq_new(&q, &c, err, sizeof(err)), 0);
	return q;
}

/* The first job is held while later ones finish: nothing pops until it
 * is done, then all pop in push order with their own counts. */
START_TEST(test_tok_queue_pops_in_push_order)
{
	const char *texts[5] = { "Bxxxx", "a", "bad", "abcd", "" };
	struct tjob t[5];
	struct tokq *q;

	gate_reset();
	q = queue(3, 1000, 100);
	for (int i = 0; i < 5; i++) {
		tjob_init(&t[i], i, texts[i], i == 4 ? 0 :
		    TOKQ_FULL | TOKQ_SUFFIX);
		tokq_push(q, &t[i].j);
	}
	ck_assert_uint_eq(tokq_pending(q), 5);
	gate_wait_held(1);
	/* Jobs 1..3 may be done now, or not yet: either way job 0 is not,
	 * and nothing can be popped. */
	ck_assert_ptr_null(tokq_pop(q));
	ck_assert(!tokq_wait(q, 0));
	gate_release();
	ck_assert(tokq_wait(q, -1));
	for (int i = 0; i < 5; i++) {
		struct tokq_job *j;

		while ((j = tokq_pop(q)) == NULL)
			ck_assert(tokq_wait(q, -1));
		ck_assert_ptr_eq(j, &t[i].j);
		if (i == 4) {
			ck_assert_uint_eq(j->want, 0);	/* never counted */
			continue;
		}
		ck_assert_int_eq(j->rc_full, i == 2 ? -EIO : 0);
		ck_assert_uint_eq(j->full, strlen(texts[i]));
		ck_assert_int_eq(j->rc_suffix, 0);
		ck_assert_uint_eq(j->suffix, 0);
	}
	ck_assert_uint_eq(tokq_pending(q), 0);
	ck_assert_ptr_null(tokq_pop(q));
	ck_assert(tokq_wait(q, 0));	/* empty: nothing to wait for */
	/* The head's completion was notified at least once. */
	ck_assert_uint_ge(__atomic_load_n(&notified, __ATOMIC_SEQ_CST), 1);
	tokq_free(q, NULL);
}
END_TEST

/* The bound: bytes and jobs from push to pop; an empty queue takes a
 * job of any size. */
START_TEST(test_tok_queue_room_bound)
{
	struct tjob t[3];
	struct tokq *q;

	gate_reset();
	q = queue(1, 250, 2);
	ck_assert(tokq_room(q, 1000));		/* empty */
	tjob_init(&t[0], 0, "Bx", TOKQ_FULL);
	tokq_push(q, &t[0].j);
	ck_assert(tokq_room(q, 150));
	ck_assert(!tokq_room(q, 151));
	ck_assert(!tokq_room(q, (size_t)-1));	/* no overflow */
	tjob_init(&t[1], 1, "x", TOKQ_FULL);
	tokq_push(q, &t[1].j);
	ck_assert(!tokq_room(q, 1));		/* 2 jobs */
	gate_release();
	while (tokq_pending(q) > 0) {
		tokq_wait(q, -1);
		while (tokq_pop(q) != NULL)
			;
	}
	ck_assert(tokq_room(q, 250));
	tokq_free(q, NULL);
}
END_TEST

static int released[8];
static int nreleased;

static void
release(struct tokq_job *j)
{
	released[nreleased++] = ((struct tjob *)j)->id;
}

/* Stopped while a job is being counted: it finishes, the queued ones
 * are never counted, and free hands back every job not popped, oldest
 * first. */
START_TEST(test_tok_queue_stop_drops_queued)
{
	struct tjob t[3];
	struct tokq *q;

	gate_reset();
	nreleased = 0;
	q = queue(1, 1000, 100);
	tjob_init(&t[0], 0, "Bheld", TOKQ_FULL);
	tjob_init(&t[1], 1, "queued", TOKQ_FULL);
	tjob_init(&t[2], 2, "Bqueued", TOKQ_FULL);
	for (int i = 0; i < 3; i++)
		tokq_push(q, &t[i].j);
	gate_wait_held(1);
	tokq_stop(q);
	gate_release();
	ck_assert(tokq_wait(q, -1));	/* job 0 finishes */
	tokq_free(q, release);
	ck_assert_int_eq(nreleased, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(released[i], i);
	ck_assert(t[0].j.done);
	ck_assert_uint_eq(t[0].j.full, 5);
	ck_assert(!t[1].j.done);
	ck_assert(!t[2].j.done);
}
END_TEST

START_TEST(test_tok_queue_new_needs_a_thread)
{
	struct tokq_config c = { toks, 0, 1000, 10, NULL, NULL };
	struct tokq *q = NULL;
	char err[128];

	ck_assert_int_eq(tokq_new(&q, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no worker threads"));
}
END_TEST


/* ---- The engine on a token thread: values wait, in order ---- */

struct smallsink {
	uint64_t c[METRIC_KEY_COUNT];
	union store_value s[METRIC_KEY_COUNT][16];
	size_t n[METRIC_KEY_COUNT];
};

static void
small_counter(void *arg, enum metric_key k, union store_value v)
{
	((struct smallsink *)arg)->c[k] = v.u;
}

static int
small_append(void *arg, enum metric_key k, union store_value v)
{
	struct smallsink *m = arg;

	ck_assert_uint_lt(m->n[k], 16);
	m->s[k][m->n[k]++] = v;
	return 0;
}

static void
feed(struct aggregator *a, struct event e)
{
	e.has_timestamp = true;
	if (e.sample_uuid.ptr == NULL)
		e.sample_uuid = (struct event_str){ "", 0 };
	aggregator_event_feed(a, &e);
}

#define UUID(s) { s, sizeof(s) - 1 }

/*
 * Sample A's output is held at the gate. Meanwhile sample B completes
 * without text and sample C is issued with token ids: their values that
 * do not depend on a count are stored at once, but B's
 * sample_good_tpot_e2e_ns and C's isl wait behind A's, so that each
 * series is in event order. token_work_pending says how many wait.
 */
START_TEST(test_aggregator_token_values_wait_in_order)
{
	static const struct event_str out[2] = { { "Bfirst", 6 },
	    { " then", 5 } };
	static const int64_t ids[3] = { 7, 8, 9 };
	struct aggregator_config cfg = { .streaming = true, .tok = &gate_tok,
	    .token_threads = 1 };
	struct aggregator_sink sink = { NULL, small_counter, small_append,
	    NULL };
	struct smallsink *m = calloc(1, sizeof(*m));
	struct aggregator *a;
	struct event e;
	char err[128];

	gate_reset();
	sink.arg = m;
	ck_assert_int_eq(aggregator_new(&a, &cfg, &sink, err, sizeof(err)), 0);
	ck_assert(aggregator_tokens_threaded(a));
	feed(a, (struct event){ .type = EVENT_SESSION_START_TRACKING,
	    .timestamp_ns = 0 });
	feed(a, (struct event){ .type = EVENT_SAMPLE_ISSUED, .timestamp_ns = 10,
	    .sample_uuid = UUID("A") });
	feed(a, (struct event){ .type = EVENT_SAMPLE_ISSUED, .timestamp_ns = 11,
	    .sample_uuid = UUID("B") });
	feed(a, (struct event){ .type = EVENT_SAMPLE_RECV_FIRST,
	    .timestamp_ns = 20, .sample_uuid = UUID("A") });
	e = (struct event){ .type = EVENT_SAMPLE_COMPLETE, .timestamp_ns = 120,
	    .sample_uuid = UUID("A"), .data_tag = EVENT_DATA_TEXT_OUTPUT };
	e.data.output.output = (struct event_text){ EVENT_TEXT_LIST, 2, out };
	feed(a, e);
	gate_wait_held(1);
	feed(a, (struct event){ .type = EVENT_SAMPLE_COMPLETE,
	    .timestamp_ns = 130, .sample_uuid = UUID("B") });
	e = (struct event){ .type = EVENT_SAMPLE_ISSUED, .timestamp_ns = 140,
	    .sample_uuid = UUID("C"), .data_tag = EVENT_DATA_PROMPT };
	e.data.prompt.has_token_ids = true;
	e.data.prompt.token_ids = ids;
	e.data.prompt.n_token_ids = 3;
	feed(a, e);

	ck_assert_uint_eq(aggregator_tokens_pending(a), 3);
	ck_assert_uint_eq(m->c[METRIC_TOKEN_WORK_PENDING], 3);
	ck_assert_uint_eq(m->n[METRIC_SAMPLE_GOOD_LATENCY_NS], 2);
	ck_assert_uint_eq(m->n[METRIC_SAMPLE_GOOD_TTFT_NS], 2);
	ck_assert_uint_eq(m->n[METRIC_SAMPLE_LATENCY_NS], 2);
	ck_assert_uint_eq(m->n[METRIC_OSL], 0);
	ck_assert_uint_eq(m->n[METRIC_SAMPLE_GOOD_TPOT_E2E_NS], 0);
	ck_assert_uint_eq(m->n[METRIC_ISL], 0);
	ck_assert_uint_eq(aggregator_tokens_apply(a), 3);	/* still held */

	gate_release();
	while (aggregator_tokens_wait(a, -1) > 0)
		;
	ck_assert_uint_eq(m->c[METRIC_TOKEN_WORK_PENDING], 0);
	ck_assert_uint_eq(m->n[METRIC_OSL], 1);
	ck_assert_uint_eq(m->s[METRIC_OSL][0].u, 11);
	ck_assert_uint_eq(m->n[METRIC_TPOT_NS], 1);	/* 100 ns / 5 */
	ck_assert(m->s[METRIC_TPOT_NS][0].f == 20.0);
	ck_assert_uint_eq(m->n[METRIC_TPOT_E2E_NS], 1);	/* 100 / 10 */
	ck_assert(m->s[METRIC_TPOT_E2E_NS][0].f == 10.0);
	ck_assert_uint_eq(m->n[METRIC_SAMPLE_GOOD_TPOT_E2E_NS], 2);
	ck_assert(m->s[METRIC_SAMPLE_GOOD_TPOT_E2E_NS][0].f == 10.0);
	ck_assert(m->s[METRIC_SAMPLE_GOOD_TPOT_E2E_NS][1].f == -1.0);
	ck_assert_uint_eq(m->n[METRIC_ISL], 1);
	ck_assert_uint_eq(m->s[METRIC_ISL][0].u, 3);
	/* Nothing waits now: the next token-id isl is stored at once. */
	e.sample_uuid = (struct event_str)UUID("D");
	feed(a, e);
	ck_assert_uint_eq(m->n[METRIC_ISL], 2);
	aggregator_free(a);
	free(m);
}
END_TEST

/* Abandoned: what is back is applied, the rest is dropped and
 * token_work_pending keeps its count. */
START_TEST(test_aggregator_token_abandon_keeps_count)
{
	static const struct event_str out[1] = { { "Bheld", 5 } };
	struct aggregator_config cfg = { .tok = &gate_tok, .token_threads = 1 };
	struct aggregator_sink sink = { NULL, small_counter, small_append,
	    NULL };
	struct smallsink *m = calloc(1, sizeof(*m));
	struct aggregator *a;
	struct event e;
	char err[128];

	gate_reset();
	sink.arg = m;
	ck_assert_int_eq(aggregator_new(&a, &cfg, &sink, err, sizeof(err)), 0);
	feed(a, (struct event){ .type = EVENT_SESSION_START_TRACKING });
	for (int i = 0; i < 3; i++) {
		char u[2] = { (char)('A' + i), 0 };
		feed(a, (struct event){ .type = EVENT_SAMPLE_ISSUED,
		    .timestamp_ns = 10, .sample_uuid = { u, 1 } });
		e = (struct event){ .type = EVENT_SAMPLE_COMPLETE,
		    .timestamp_ns = 20, .sample_uuid = { u, 1 },
		    .data_tag = EVENT_DATA_TEXT_OUTPUT };
		e.data.output.output = (struct event_text){ EVENT_TEXT_STRING,
		    1, out };
		feed(a, e);
		if (i == 0)
			gate_wait_held(1);
	}
	ck_assert_uint_eq(m->c[METRIC_TOKEN_WORK_PENDING], 3);
	/* The worker is held on A: stop it from taking B and C first. This
	 * is what aggregator_tokens_abandon does, but with the gate opened
	 * in between, which a test cannot do from inside it. */
	gate_release();
	while (m->n[METRIC_OSL] == 0 && aggregator_tokens_wait(a, -1) > 0)
		;
	ck_assert_uint_ge(m->n[METRIC_OSL], 1);
	ck_assert_uint_eq(aggregator_tokens_abandon(a),
	    3 - m->n[METRIC_OSL]);
	ck_assert_uint_eq(m->c[METRIC_TOKEN_WORK_PENDING], 3 - m->n[METRIC_OSL]);
	ck_assert(!aggregator_tokens_threaded(a));
	aggregator_free(a);
	free(m);
}
END_TEST

Suite *
tok_queue_suite(void)
{
	Suite *s = suite_create("tok_queue");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tok_queue_pops_in_push_order);
	tcase_add_test(tc, test_tok_queue_room_bound);
	tcase_add_test(tc, test_tok_queue_stop_drops_queued);
	tcase_add_test(tc, test_tok_queue_new_needs_a_thread);
	tcase_add_test(tc, test_aggregator_token_values_wait_in_order);
	tcase_add_test(tc, test_aggregator_token_abandon_keeps_count);
	suite_add_tcase(s, tc);
	return s;
}
