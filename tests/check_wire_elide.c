/*
 * Tests for long integer arrays in records (token ids): msgpack-c sees a
 * placeholder instead of their elements, and they are decoded only when
 * the consumer wants the ids. Everything a consumer can observe must be
 * the same as when msgpack-c decodes the array itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "wire.h"
#include "wire_walk.h"

#define NIDS 300

struct got {
	int events;
	bool has_ids;
	size_t n_ids;
	bool ids_null;
	int64_t ids[NIDS + 8];
	char out[64];
};

static int
on_event(void *arg, const struct event *ev)
{
	struct got *g = arg;

	g->events++;
	if (ev->data_tag == EVENT_DATA_PROMPT) {
		g->has_ids = ev->data.prompt.has_token_ids;
		g->n_ids = ev->data.prompt.n_token_ids;
		g->ids_null = ev->data.prompt.token_ids == NULL;
		if (!g->ids_null && g->n_ids <= NIDS + 8)
			memcpy(g->ids, ev->data.prompt.token_ids,
			    g->n_ids * sizeof(int64_t));
	}
	if (ev->data_tag == EVENT_DATA_TEXT_OUTPUT &&
	    ev->data.output.output.n > 0) {
		const struct event_str *s = &ev->data.output.output.items[0];
		snprintf(g->out, sizeof(g->out), "%.*s", (int)s->len, s->ptr);
	}
	return 0;
}

static void
str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* A mix of every integer width, as token ids. */
static int64_t
id_at(size_t i)
{
	static const int64_t v[] = { 0, 127, -1, -32, 128, 255, -33, -128,
	    256, 65535, -129, -32768, 65536, 4294967295LL, -32769,
	    INT32_MIN, 4294967296LL, INT64_MAX, INT64_MIN, 50256 };

	return v[i % (sizeof(v) / sizeof(v[0]))];
}

static void
ids(msgpack_packer *pk, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_int64(pk, id_at(i));
}

/* An int array of n elements (not necessarily token ids). */
static void
ints(msgpack_packer *pk, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_int(pk, (int)i);
}

/* A sample.issued record whose map has extra keys written by fill. */
static void
issued(msgpack_sbuffer *sb, size_t nextra,
    void (*fill)(msgpack_packer *), void (*data)(msgpack_packer *))
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4 + nextra);
	str(&pk, "event_type");
	str(&pk, "sample.issued");
	str(&pk, "timestamp_ns");
	msgpack_pack_int64(&pk, 5);
	str(&pk, "sample_uuid");
	str(&pk, "u1");
	if (fill)
		fill(&pk);
	str(&pk, "data");
	data(&pk);
}

static void
prompt_ids(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	ids(pk, NIDS);
}

/* Decode payload as a single frame and as a one-record batch. */
static void
decode(const void *payload, size_t plen, bool want_ids, bool batch,
    struct got *g, struct wire_frame_stats *st)
{
	struct wire_decoder *d;
	char err[128];
	size_t len;
	unsigned char *f;

	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(wire_decoder_new(&d, on_event, g, err, sizeof(err)), 0);
	if (!want_ids)
		wire_decoder_set_token_ids(d, false);
	/* Exactly the frame's size, so ASan sees any read past it. */
	len = WIRE_TOPIC_LEN + plen + (batch ? 6 : 0);
	f = calloc(1, len);
	ck_assert_ptr_nonnull(f);
	if (batch) {
		memcpy(f, "batch", 5);
		f[WIRE_TOPIC_LEN] = 0x91;
		f[WIRE_TOPIC_LEN + 1] = 0xc6;	/* bin32 */
		for (int i = 0; i < 4; i++)
			f[WIRE_TOPIC_LEN + 2 + i] =
			    (unsigned char)(plen >> (24 - 8 * i));
		memcpy(f + WIRE_TOPIC_LEN + 6, payload, plen);
	} else {
		memcpy(f, "sample.issued", 13);
		memcpy(f + WIRE_TOPIC_LEN, payload, plen);
	}
	wire_frame_decode(d, f, len, st);
	free(f);
	wire_decoder_free(d);
}

START_TEST(test_long_token_ids_materialised_or_counted)
{
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;

	msgpack_sbuffer_init(&sb);
	issued(&sb, 0, NULL, prompt_ids);
	for (int batch = 0; batch < 2; batch++) {
		decode(sb.data, sb.size, true, batch, &g, &st);
		ck_assert_uint_eq(st.nerrors, 0);
		ck_assert_int_eq(g.events, 1);
		ck_assert(g.has_ids);
		ck_assert_uint_eq(g.n_ids, NIDS);
		ck_assert(!g.ids_null);
		for (size_t i = 0; i < NIDS; i++)
			ck_assert_int_eq(g.ids[i], id_at(i));

		decode(sb.data, sb.size, false, batch, &g, &st);
		ck_assert_uint_eq(st.nerrors, 0);
		ck_assert_int_eq(g.events, 1);
		ck_assert(g.has_ids);
		ck_assert_uint_eq(g.n_ids, NIDS);
		ck_assert(g.ids_null);
	}
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Five int arrays under unknown keys: more than are ever elided. */
static void
fill_many_arrays(msgpack_packer *pk)
{
	for (int i = 0; i < 5; i++) {
		char k[8];
		snprintf(k, sizeof(k), "x%d", i);
		str(pk, k);
		ints(pk, 9 + (size_t)i);
	}
}

START_TEST(test_many_int_arrays_in_one_record)
{
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;

	msgpack_sbuffer_init(&sb);
	issued(&sb, 5, fill_many_arrays, prompt_ids);
	for (int want = 0; want < 2; want++) {
		decode(sb.data, sb.size, want, false, &g, &st);
		ck_assert_uint_eq(st.nerrors, 0);
		ck_assert_int_eq(g.events, 1);
		ck_assert_uint_eq(g.n_ids, NIDS);
		/* Without want, the ids may or may not be there. */
		if (want) {
			ck_assert(!g.ids_null);
			ck_assert_int_eq(g.ids[NIDS - 1], id_at(NIDS - 1));
		}
	}
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/*
 * An ext in the input shaped exactly like a placeholder (fixext1, type
 * 0, index 0) next to a real elided array must stay an ext.
 */
static void
fill_elided_extra(msgpack_packer *pk)
{
	str(pk, "extra");
	ints(pk, 20);
}

static void
prompt_fake_placeholder(msgpack_packer *pk)
{
	static const char zero = 0;

	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_ext(pk, 1, 0);
	msgpack_pack_ext_body(pk, &zero, 1);
}

START_TEST(test_input_ext_never_taken_for_a_placeholder)
{
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;

	msgpack_sbuffer_init(&sb);
	issued(&sb, 1, fill_elided_extra, prompt_fake_placeholder);
	for (int want = 0; want < 2; want++) {
		decode(sb.data, sb.size, want, false, &g, &st);
		ck_assert_int_eq(g.events, 0);
		ck_assert_uint_eq(st.errors[WIRE_ERR_FIELD_TYPE], 1);
		ck_assert_ptr_nonnull(strstr(st.err,
		    "data.token_ids: expected array or nil, got ext"));
	}
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Long int arrays where no array of ints belongs: same errors as short. */
static void data_ints(msgpack_packer *pk) { ints(pk, 12); }
static void
output_ints(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	str(pk, "TextModelOutput");
	ints(pk, 12);
}
static void
output_chunk_ints(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	str(pk, "TextModelOutput");
	msgpack_pack_array(pk, 2);
	ints(pk, 12);
	str(pk, "x");
}
static void
error_type_ints(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	str(pk, "ErrorData");
	ints(pk, 12);
}
static void
prompt_text_ints(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	str(pk, "PromptData");
	ints(pk, 12);
}
static void
fill_conv_ints(msgpack_packer *pk)
{
	str(pk, "conversation_id");
	ints(pk, 12);
}
static void
fill_turn_ints(msgpack_packer *pk)
{
	str(pk, "turn");
	ints(pk, 12);
}
static void
prompt_ids_uint64(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 10);
	for (int i = 0; i < 9; i++)
		msgpack_pack_int(pk, i);
	msgpack_pack_uint64(pk, (uint64_t)INT64_MAX + 1);
}
static void
prompt_ids_float(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 10);
	for (int i = 0; i < 9; i++)
		msgpack_pack_int(pk, i);
	msgpack_pack_double(pk, 1.5);
}
static void
prompt_ids_too_many(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	ints(pk, WIRE_TOKEN_IDS_MAX + 1);
}

static const struct {
	void (*fill)(msgpack_packer *);
	void (*data)(msgpack_packer *);
	enum wire_error why;
	const char *msg;
} misplaced[] = {
	{ NULL, data_ints, WIRE_ERR_FIELD_TYPE,
	  "data: tag: expected str, got int" },
	{ NULL, output_ints, WIRE_ERR_FIELD_TYPE,
	  "data.output[0]: expected str, got int" },
	{ NULL, output_chunk_ints, WIRE_ERR_FIELD_TYPE,
	  "data.output[0]: expected str, got array" },
	{ NULL, error_type_ints, WIRE_ERR_FIELD_TYPE,
	  "data.error_type: expected str, got array" },
	{ NULL, prompt_text_ints, WIRE_ERR_FIELD_TYPE,
	  "data.text: expected str, got array" },
	{ fill_conv_ints, prompt_ids, WIRE_ERR_FIELD_TYPE,
	  "conversation_id: expected str, got array" },
	{ fill_turn_ints, prompt_ids, WIRE_ERR_FIELD_TYPE,
	  "turn: expected int, got array" },
	{ NULL, prompt_ids_uint64, WIRE_ERR_FIELD_TYPE,
	  "does not fit int64" },
	{ NULL, prompt_ids_float, WIRE_ERR_FIELD_TYPE,
	  "data.token_ids[]: expected int, got float" },
	{ NULL, prompt_ids_too_many, WIRE_ERR_ABSURD_SIZE,
	  "data.token_ids: 4194305 ids (limit 4194304)" },
};

START_TEST(test_long_int_arrays_in_the_wrong_place)
{
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;
	int i = _i;

	msgpack_sbuffer_init(&sb);
	issued(&sb, misplaced[i].fill ? 1 : 0, misplaced[i].fill,
	    misplaced[i].data);
	for (int want = 0; want < 2; want++) {
		for (int batch = 0; batch < 2; batch++) {
			decode(sb.data, sb.size, want, batch, &g, &st);
			ck_assert_int_eq(g.events, 0);
			ck_assert_uint_eq(st.nerrors, 1);
			ck_assert_uint_eq(st.errors[misplaced[i].why], 1);
			if (strstr(st.err, misplaced[i].msg) == NULL)
				ck_abort_msg("case %d: \"%s\" lacks \"%s\"", i,
				    st.err, misplaced[i].msg);
		}
	}
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Every cut of a record inside its ids fails cleanly (ASan: no over-read). */
START_TEST(test_every_prefix_of_long_ids_fails_cleanly)
{
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;

	msgpack_sbuffer_init(&sb);
	issued(&sb, 0, NULL, prompt_ids);
	for (size_t n = 1; n < sb.size; n++) {
		/* A private copy of exactly n bytes. */
		char *cut = malloc(n);

		ck_assert_ptr_nonnull(cut);
		memcpy(cut, sb.data, n);
		decode(cut, n, _i, false, &g, &st);
		ck_assert_int_eq(g.events, 0);
		ck_assert_uint_eq(st.errors[WIRE_ERR_MALFORMED], 1);
		free(cut);
	}
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Runs of one integer width, as a real vocabulary gives. */
static int64_t run_first;
static int run_len, run_bad;	/* a float at run_bad, or -1 */

static void
prompt_run(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	str(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, (size_t)run_len);
	for (int i = 0; i < run_len; i++) {
		if (i == run_bad)
			msgpack_pack_double(pk, 0.5);
		else
			msgpack_pack_int64(pk, run_first + (i % 3));
	}
}

START_TEST(test_runs_of_one_width)
{
	/* One value per encoding: fixint, -fixint, uint8, uint16, uint32,
	 * int8, int16, int32, int64, and uint64 over INT64_MAX. */
	static const int64_t first[] = { 5, -5, 200, 1000, 100000, -100,
	    -1000, -100000, -10000000000LL, 5000000000LL };
	msgpack_sbuffer sb;
	struct wire_frame_stats st;
	struct got g;

	for (size_t f = 0; f < sizeof(first) / sizeof(first[0]); f++) {
		for (run_len = 8; run_len <= 80; run_len += 9) {
			for (run_bad = -1; run_bad < run_len; run_bad++) {
				run_first = first[f];
				msgpack_sbuffer_init(&sb);
				issued(&sb, 0, NULL, prompt_run);
				for (int want = 0; want < 2; want++) {
					decode(sb.data, sb.size, want, false,
					    &g, &st);
					if (run_bad >= 0) {
						ck_assert_int_eq(g.events, 0);
						ck_assert_uint_eq(st.errors[
						    WIRE_ERR_FIELD_TYPE], 1);
						continue;
					}
					ck_assert_int_eq(g.events, 1);
					ck_assert_uint_eq(g.n_ids,
					    (size_t)run_len);
					if (!want)
						continue;
					for (int i = 0; i < run_len; i++)
						ck_assert_int_eq(g.ids[i],
						    run_first + (i % 3));
				}
				/* Cut anywhere: never an event. */
				for (size_t n = 1; run_bad < 0 && n < sb.size;
				    n++) {
					char *cut = malloc(n);

					ck_assert_ptr_nonnull(cut);
					memcpy(cut, sb.data, n);
					decode(cut, n, false, false, &g, &st);
					ck_assert_int_eq(g.events, 0);
					ck_assert_uint_eq(st.errors[
					    WIRE_ERR_MALFORMED], 1);
					free(cut);
				}
				msgpack_sbuffer_destroy(&sb);
			}
		}
	}
}
END_TEST

/*
 * wire_int_run on a run of uint16 (0xcd) longer than the array: it steps
 * over exactly count elements, however many more follow (the eight-at-a-
 * time path must not run past the count), and stops at a non-integer
 * anywhere before it.
 */
START_TEST(test_int_run_stops_at_count)
{
	unsigned char buf[3 * 80 + 16];
	size_t off;

	wire_walk_init();
	for (size_t k = 0; k < 80; k++) {
		buf[3 * k] = 0xcd;
		buf[3 * k + 1] = (unsigned char)(k >> 8);
		buf[3 * k + 2] = (unsigned char)k;
	}
	memset(buf + 3 * 80, 0xcd, 16);
	for (uint64_t count = 0; count <= 70; count++) {
		off = 0;
		ck_assert_uint_eq(wire_int_run(buf, sizeof(buf), &off, count),
		    count);
		ck_assert_uint_eq(off, 3 * count);
		for (uint64_t bad = 0; bad < count; bad++) {
			unsigned char saved = buf[3 * bad];

			buf[3 * bad] = 0xc1;	/* never used */
			off = 0;
			ck_assert_uint_eq(wire_int_run(buf, sizeof(buf), &off,
			    count), bad);
			ck_assert_uint_eq(off, 3 * bad);
			buf[3 * bad] = saved;
		}
	}
}
END_TEST

/*
 * wire_int_run over uint16 ids with one element of another width (a
 * uint8, 2 bytes) or a non-integer at every place, with the array ending
 * exactly at the end of the bytes or followed by more: the steps of 16
 * and of 8 ids at once must hand over to the element-wise ones at the
 * right element, and never read past the bytes given.
 */
START_TEST(test_int_run_mixed_widths_every_place)
{
	enum { N = 100 };
	unsigned char buf[3 * N];

	wire_walk_init();
	for (int odd = -1; odd < N; odd++)
		for (int bad = 0; bad < 2; bad++) {
			size_t at[N + 1], o = 0;

			for (int k = 0; k < N; k++) {
				at[k] = o;
				if (k == odd && bad) {
					buf[o++] = 0xc1;	/* never used */
				} else if (k == odd) {
					buf[o++] = 0xcc;
					buf[o++] = 0xfe;
				} else {
					buf[o++] = 0xcd;
					buf[o++] = (unsigned char)(k >> 8);
					buf[o++] = (unsigned char)k;
				}
			}
			at[N] = o;
			for (uint64_t count = 0; count <= N; count++) {
				/* Exactly the array's bytes, then with more,
				 * on the heap: reading past them is an
				 * error under ASan. */
				for (size_t extra = 0; extra <= 9; extra += 9) {
					uint64_t want = bad && odd >= 0 &&
					    (uint64_t)odd < count ?
					    (uint64_t)odd : count;
					size_t off = 0, n = at[count] + extra;
					unsigned char *h = malloc(n ? n : 1);

					ck_assert_ptr_nonnull(h);
					memcpy(h, buf, at[count]);
					memset(h + at[count], 0xcd, extra);
					ck_assert_uint_eq(wire_int_run(h, n, &off,
					    count), want);
					ck_assert_uint_eq(off, at[want]);
					free(h);
				}
			}
		}
}
END_TEST

Suite *
wire_elide_suite(void)
{
	Suite *s = suite_create("wire_elide");
	TCase *tc = tcase_create("elide");

	tcase_add_test(tc, test_long_token_ids_materialised_or_counted);
	tcase_add_test(tc, test_many_int_arrays_in_one_record);
	tcase_add_test(tc, test_input_ext_never_taken_for_a_placeholder);
	tcase_add_test(tc, test_runs_of_one_width);
	tcase_add_test(tc, test_int_run_stops_at_count);
	tcase_add_test(tc, test_int_run_mixed_widths_every_place);
	tcase_add_loop_test(tc, test_every_prefix_of_long_ids_fails_cleanly, 0,
	    2);
	tcase_add_loop_test(tc, test_long_int_arrays_in_the_wrong_place, 0,
	    (int)(sizeof(misplaced) / sizeof(misplaced[0])));
	suite_add_tcase(s, tc);
	return s;
}
