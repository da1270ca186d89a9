/*
 * The decoder's fast path (wire_record.c) against its general path: the
 * same frames through a decoder with the fast path and one without must
 * give the same events (by event_digest), the same counts and the same
 * first error. The frames: a synthetic session (single and batch), odd
 * but valid records, and every truncation and many byte changes of them,
 * so that declining is exercised as much as accepting.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "event.h"
#include "synthetic.h"
#include "wire.h"
#include "wire_record.h"

#define MAXEV 256

struct seen {
	uint64_t digest[MAXEV];
	size_t n;
};

static int
on_event(void *arg, const struct event *ev)
{
	struct seen *s = arg;

	if (s->n < MAXEV)
		s->digest[s->n] = event_digest(ev);
	s->n++;
	return 0;
}

struct pair {
	struct wire_decoder *fast, *slow;
	struct seen f, s;
	uint64_t frames;
};

static void
pair_init(struct pair *p, bool want_ids)
{
	char err[128];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(wire_decoder_new(&p->fast, on_event, &p->f, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(wire_decoder_new(&p->slow, on_event, &p->s, err,
	    sizeof(err)), 0);
	wire_decoder_set_fast(p->slow, false);
	wire_decoder_set_token_ids(p->fast, want_ids);
	wire_decoder_set_token_ids(p->slow, want_ids);
}

static void
pair_free(struct pair *p)
{
	wire_decoder_free(p->fast);
	wire_decoder_free(p->slow);
}

/* Decode one frame both ways; everything observable must agree. */
static void
same(struct pair *p, const void *frame, size_t len)
{
	struct wire_frame_stats a, b;
	char *copy = malloc(len ? len : 1);	/* ASan: no read past len */

	memcpy(copy, frame, len);
	p->f.n = p->s.n = 0;
	wire_frame_decode(p->fast, copy, len, &a);
	wire_frame_decode(p->slow, copy, len, &b);
	free(copy);
	p->frames++;
	ck_assert_uint_eq(p->f.n, p->s.n);
	for (size_t i = 0; i < p->f.n && i < MAXEV; i++)
		ck_assert_msg(p->f.digest[i] == p->s.digest[i],
		    "frame %llu event %zu differs", (unsigned long long)p->frames,
		    i);
	ck_assert_uint_eq(a.records, b.records);
	ck_assert_uint_eq(a.events, b.events);
	ck_assert_uint_eq(a.nerrors, b.nerrors);
	ck_assert_mem_eq(a.errors, b.errors, sizeof(a.errors));
	ck_assert_str_eq(a.err, b.err);
	ck_assert_int_eq(a.batch, b.batch);
	ck_assert_int_eq(a.ignored, b.ignored);
}

/* Every prefix of the frame, and each byte set to a few telling values. */
static void
mangle(struct pair *p, const unsigned char *frame, size_t len)
{
	static const unsigned char vals[] = { 0x00, 0x07, 0x7f, 0x80, 0x90,
	    0xa0, 0xc0, 0xc1, 0xc3, 0xc4, 0xcc, 0xcf, 0xd3, 0xd4, 0xd9, 0xdc,
	    0xde, 0xdf, 0xe0, 0xff };
	unsigned char *m = malloc(len);

	for (size_t n = WIRE_TOPIC_LEN; n <= len; n++)
		same(p, frame, n);
	for (size_t i = WIRE_TOPIC_LEN; i < len; i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			memcpy(m, frame, len);
			m[i] = vals[v];
			same(p, m, len);
		}
	}
	free(m);
}

/* ---- A synthetic session ---- */

struct gen {
	struct pair *p;
	struct wire_buf one;
	struct wire_batch b;
	size_t events;
	bool mangle;
	bool batch_mangled;
};

static int
emit(void *arg, const struct event *ev)
{
	struct gen *g = arg;
	char err[128];

	ck_assert_int_eq(wire_frame_encode(ev, &g->one, err, sizeof(err)), 0);
	same(g->p, g->one.data, g->one.len);
	/* The record itself takes the fast path. */
	{
		struct wire_scratch s = { 0 };
		struct event e;
		ck_assert(wire_record_fast(&s, false, g->one.data +
		    WIRE_TOPIC_LEN, g->one.len - WIRE_TOPIC_LEN, &e));
		ck_assert_int_eq(e.type, ev->type);
		free(s.ids);
		free(s.out);
		free(s.rsn);
	}
	if (g->mangle && g->events % 97 == 0)
		mangle(g->p, g->one.data, g->one.len);
	ck_assert_int_eq(wire_batch_add(&g->b, ev, err, sizeof(err)), 0);
	if (g->b.n == 16) {
		const void *f;
		size_t len;

		wire_batch_finish(&g->b, &f, &len);
		same(g->p, f, len);
		if (g->mangle && !g->batch_mangled) {
			mangle(g->p, f, len);
			g->batch_mangled = true;
		}
		wire_batch_reset(&g->b);
	}
	g->events++;
	return 0;
}

static void
session(bool want_ids, bool mangle_some, unsigned prompt_max)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct pair p;
	struct gen g = { .p = &p, .mangle = mangle_some };

	o.samples = 60;
	o.error_rate = 0.1;
	o.prompt_min = 0;
	o.prompt_max = prompt_max;
	pair_init(&p, want_ids);
	ck_assert_int_eq(synthetic_run(&o, emit, &g, &st), 0);
	ck_assert_uint_gt(g.events, 100);
	wire_buf_free(&g.one);
	wire_batch_free(&g.b);
	pair_free(&p);
}

START_TEST(test_fast_path_synthetic_session)
{
	session(false, false, 512);
	session(true, false, 512);
	session(false, false, 12);
}
END_TEST

START_TEST(test_fast_path_mangled_records)
{
	session(false, true, 20);
}
END_TEST

/* ---- Odd but valid records, built by hand ---- */

struct mp {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
mp_init(struct mp *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	msgpack_sbuffer_write(&m->sb, "sample.issued", 13);
	for (int i = 13; i < WIRE_TOPIC_LEN; i++)
		msgpack_sbuffer_write(&m->sb, "", 1);
}

static void
str(struct mp *m, const char *s)
{
	msgpack_pack_str_with_body(&m->pk, s, strlen(s));
}

/* A record with the header fields; then ndata more pairs to come. */
static void
head(struct mp *m, const char *type, unsigned more)
{
	msgpack_pack_map(&m->pk, 3 + more);
	str(m, "event_type");
	str(m, type);
	str(m, "timestamp_ns");
	msgpack_pack_int64(&m->pk, 1000);
	str(m, "sample_uuid");
	str(m, "u1");
}

static void
check(struct mp *m)
{
	struct pair p;

	pair_init(&p, false);
	same(&p, m->sb.data, m->sb.size);
	mangle(&p, (unsigned char *)m->sb.data, m->sb.size);
	pair_free(&p);
	pair_init(&p, true);
	same(&p, m->sb.data, m->sb.size);
	pair_free(&p);
	msgpack_sbuffer_destroy(&m->sb);
}

START_TEST(test_fast_path_odd_records)
{
	struct mp m;

	/* Integers of every width, nil optionals, an unknown scalar key. */
	mp_init(&m);
	head(&m, "sample.issued", 5);
	str(&m, "turn");
	msgpack_pack_int8(&m.pk, -3);
	str(&m, "worker_id");
	msgpack_pack_uint64(&m.pk, (uint64_t)INT64_MAX);
	str(&m, "finish_reason");
	msgpack_pack_nil(&m.pk);
	str(&m, "extra");
	msgpack_pack_double(&m.pk, 2.5);
	str(&m, "data");
	msgpack_pack_array(&m.pk, 4);
	str(&m, "PromptData");
	msgpack_pack_nil(&m.pk);
	msgpack_pack_array(&m.pk, 9);
	msgpack_pack_int8(&m.pk, -1);
	msgpack_pack_int16(&m.pk, -300);
	msgpack_pack_int32(&m.pk, -70000);
	msgpack_pack_int64(&m.pk, INT64_MIN);
	msgpack_pack_uint8(&m.pk, 200);
	msgpack_pack_uint16(&m.pk, 60000);
	msgpack_pack_uint32(&m.pk, 4000000000u);
	msgpack_pack_uint64(&m.pk, 5);
	msgpack_pack_fix_int8(&m.pk, 4);
	msgpack_pack_true(&m.pk);		/* an ignored extra field */
	check(&m);

	/* A uint64 id past int64, and a container in an unknown key. */
	mp_init(&m);
	head(&m, "sample.issued", 2);
	str(&m, "other");
	msgpack_pack_array(&m.pk, 1);
	msgpack_pack_nil(&m.pk);
	str(&m, "data");
	msgpack_pack_array(&m.pk, 3);
	str(&m, "PromptData");
	str(&m, "a prompt");
	msgpack_pack_array(&m.pk, 2);
	msgpack_pack_uint64(&m.pk, UINT64_MAX);
	msgpack_pack_int(&m.pk, 1);
	check(&m);

	/* Output as chunks, reasoning as a string; duplicate keys. */
	mp_init(&m);
	head(&m, "sample.complete", 3);
	str(&m, "sample_uuid");
	str(&m, "u2");
	str(&m, "turn");
	msgpack_pack_nil(&m.pk);
	str(&m, "data");
	msgpack_pack_array(&m.pk, 3);
	str(&m, "TextModelOutput");
	msgpack_pack_array(&m.pk, 3);
	str(&m, "a b");
	str(&m, "");
	str(&m, " c");
	str(&m, "think");
	check(&m);

	/* ErrorData, two data keys, a non-string key. */
	mp_init(&m);
	head(&m, "error.client", 3);
	str(&m, "data");
	msgpack_pack_array(&m.pk, 2);
	str(&m, "ErrorData");
	str(&m, "Timeout");
	msgpack_pack_int(&m.pk, 7);
	msgpack_pack_true(&m.pk);
	str(&m, "data");
	msgpack_pack_array(&m.pk, 3);
	str(&m, "ErrorData");
	str(&m, "Timeout");
	str(&m, "after 30 s");
	check(&m);
}
END_TEST

Suite *
wire_record_suite(void)
{
	Suite *s = suite_create("wire_record");
	TCase *tc = tcase_create("fast_vs_general");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fast_path_synthetic_session);
	tcase_add_test(tc, test_fast_path_mangled_records);
	tcase_add_test(tc, test_fast_path_odd_records);
	suite_add_tcase(s, tc);
	return s;
}
