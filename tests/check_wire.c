/* Tests for the frame codec: byte vectors, batches, hostile input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "wire.h"
#include "wire_walk.h"

/* The payload of the reference example: {"event_type": "sample.issued",
 * "timestamp_ns": 1000, "sample_uuid": "s1", "data": ["PromptData", nil,
 * [101, 202]]}. */
static const char spec_hex[] =
    "84 aa 65 76 65 6e 74 5f 74 79 70 65 ad 73 61 6d 70 6c 65 2e 69 73 73 75 65"
    "64 ac 74 69 6d 65 73 74 61 6d 70 5f 6e 73 cd 03 e8 ab 73 61 6d 70 6c 65 5f"
    "75 75 69 64 a2 73 31 a4 64 61 74 61 93 aa 50 72 6f 6d 70 74 44 61 74 61 c0"
    "92 65 cc ca";

/* ---- Helpers ---- */

/* Topic (NUL padded) + bytes parsed from hex; returns malloc'd frame. */
static unsigned char *
frame_hex(const char *topic, const char *hex, size_t *len)
{
	size_t cap = WIRE_TOPIC_LEN + strlen(hex) / 2 + 1;
	unsigned char *f = calloc(1, cap);
	size_t n = WIRE_TOPIC_LEN;

	memcpy(f, topic, strlen(topic));
	for (const char *p = hex; *p;) {
		unsigned v;
		if (*p == ' ') {
			p++;
			continue;
		}
		ck_assert(sscanf(p, "%2x", &v) == 1);
		f[n++] = (unsigned char)v;
		p += 2;
	}
	*len = n;
	return f;
}

/* Topic + raw payload bytes. */
static unsigned char *
frame_raw(const char *topic, const void *payload, size_t plen, size_t *len)
{
	unsigned char *f = calloc(1, WIRE_TOPIC_LEN + plen + 1);

	memcpy(f, topic, strlen(topic));
	memcpy(f + WIRE_TOPIC_LEN, payload, plen);
	*len = WIRE_TOPIC_LEN + plen;
	return f;
}

/* What the tests look at, copied out of the callback. */
struct seen {
	enum event_type type;
	int64_t ts;
	bool has_ts;
	char uuid[300];
	char conv[300];
	bool has_turn;
	int64_t turn;
	bool has_finish;
	char finish[64];
	bool has_worker;
	int64_t worker;
	enum event_data_tag tag;
	bool has_text;
	char text[128];
	bool has_ids;
	size_t n_ids;
	int64_t ids[8];
	enum event_text_form out_form, rsn_form;
	char out[256];		/* chunks joined with '|' */
	char rsn[256];
	char etype[64], emsg[64];
};

struct collect {
	struct seen ev[64];
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static void
copy_str(char *dst, size_t size, struct event_str s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, s.ptr, n);
	dst[n] = '\0';
}

static void
join(char *dst, size_t size, const struct event_text *t)
{
	size_t n = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		n += (size_t)snprintf(dst + n, size - n, "%s%.*s", i ? "|" : "",
		    (int)t->items[i].len, t->items[i].ptr);
		ck_assert_uint_lt(n, size);
	}
}

static int
on_event(void *arg, const struct event *ev)
{
	struct collect *c = arg;
	struct seen *s;

	if (c->n == 64)
		return 0;
	s = &c->ev[c->n++];
	memset(s, 0, sizeof(*s));
	s->type = ev->type;
	s->ts = ev->timestamp_ns;
	s->has_ts = ev->has_timestamp;
	copy_str(s->uuid, sizeof(s->uuid), ev->sample_uuid);
	copy_str(s->conv, sizeof(s->conv), ev->conversation_id);
	s->has_turn = ev->has_turn;
	s->turn = ev->turn;
	s->has_finish = ev->has_finish_reason;
	if (s->has_finish)
		copy_str(s->finish, sizeof(s->finish), ev->finish_reason);
	s->has_worker = ev->has_worker_id;
	s->worker = ev->worker_id;
	s->tag = ev->data_tag;
	switch (ev->data_tag) {
	case EVENT_DATA_PROMPT:
		s->has_text = ev->data.prompt.has_text;
		if (s->has_text)
			copy_str(s->text, sizeof(s->text), ev->data.prompt.text);
		s->has_ids = ev->data.prompt.has_token_ids;
		s->n_ids = ev->data.prompt.n_token_ids;
		for (size_t i = 0; i < s->n_ids && i < 8; i++)
			s->ids[i] = ev->data.prompt.token_ids[i];
		break;
	case EVENT_DATA_TEXT_OUTPUT:
		s->out_form = ev->data.output.output.form;
		s->rsn_form = ev->data.output.reasoning.form;
		join(s->out, sizeof(s->out), &ev->data.output.output);
		join(s->rsn, sizeof(s->rsn), &ev->data.output.reasoning);
		break;
	case EVENT_DATA_ERROR:
		copy_str(s->etype, sizeof(s->etype), ev->data.error.error_type);
		copy_str(s->emsg, sizeof(s->emsg),
		    ev->data.error.error_message);
		break;
	case EVENT_DATA_NONE:
		break;
	}
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static struct wire_decoder *
decoder(struct collect *c)
{
	struct wire_decoder *d;
	char err[128];

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(wire_decoder_new(&d, on_event, c, err, sizeof(err)), 0);
	return d;
}

/* Decode one frame with a fresh decoder and collector. */
static void
decode1(const void *f, size_t len, struct collect *c,
    struct wire_frame_stats *st)
{
	struct wire_decoder *d = decoder(c);

	wire_frame_decode(d, f, len, st);
	wire_decoder_free(d);
}

/* A packer over a fresh sbuffer. */
struct mp {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
mp_init(struct mp *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

static void
mp_str(struct mp *m, const char *s)
{
	msgpack_pack_str_with_body(&m->pk, s, strlen(s));
}

/* Frame from a packed payload; frees the sbuffer. */
static unsigned char *
mp_frame(struct mp *m, const char *topic, size_t *len)
{
	unsigned char *f = frame_raw(topic, m->sb.data, m->sb.size, len);

	msgpack_sbuffer_destroy(&m->sb);
	return f;
}

/* ---- Spec example ---- */

START_TEST(test_frame_decode_spec_example)
{
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f = frame_hex("sample.issued", spec_hex, &len);

	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_uint_eq(st.events, 1);
	ck_assert(!st.batch);
	ck_assert_int_eq(c.ev[0].type, EVENT_SAMPLE_ISSUED);
	ck_assert(c.ev[0].has_ts);
	ck_assert_int_eq(c.ev[0].ts, 1000);
	ck_assert_str_eq(c.ev[0].uuid, "s1");
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_PROMPT);
	ck_assert(!c.ev[0].has_text);
	ck_assert(c.ev[0].has_ids);
	ck_assert_uint_eq(c.ev[0].n_ids, 2);
	ck_assert_int_eq(c.ev[0].ids[0], 101);
	ck_assert_int_eq(c.ev[0].ids[1], 202);
	ck_assert(!c.ev[0].has_turn && !c.ev[0].has_finish &&
	    !c.ev[0].has_worker);
	free(f);
}
END_TEST

START_TEST(test_frame_encode_spec_example_byte_exact)
{
	static const int64_t ids[] = { 101, 202 };
	struct event ev = {
		.type = EVENT_SAMPLE_ISSUED,
		.timestamp_ns = 1000,
		.has_timestamp = true,
		.sample_uuid = { "s1", 2 },
		.data_tag = EVENT_DATA_PROMPT,
	};
	struct wire_buf b = { 0 };
	char err[128];
	size_t len;
	unsigned char *want = frame_hex("sample.issued", spec_hex, &len);

	ev.data.prompt.has_token_ids = true;
	ev.data.prompt.n_token_ids = 2;
	ev.data.prompt.token_ids = ids;
	ck_assert_int_eq(wire_frame_encode(&ev, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, len);
	ck_assert_mem_eq(b.data, want, len);

	/* The record alone is the spec payload. */
	b.len = 0;
	ck_assert_int_eq(wire_record_encode(&ev, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, len - WIRE_TOPIC_LEN);
	ck_assert_mem_eq(b.data, want + WIRE_TOPIC_LEN, b.len);
	wire_buf_free(&b);
	free(want);
}
END_TEST

/* ---- Keys ---- */

START_TEST(test_frame_decode_any_key_order_and_unknown_keys)
{
	struct mp m;
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 8);
	mp_str(&m, "data");
	msgpack_pack_array(&m.pk, 2);
	mp_str(&m, "TextModelOutput");
	mp_str(&m, "hello world");
	mp_str(&m, "future_key");		/* unknown, nested value */
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "x");
	msgpack_pack_array(&m.pk, 2);
	msgpack_pack_nil(&m.pk);
	msgpack_pack_double(&m.pk, 1.5);
	msgpack_pack_int(&m.pk, 7);		/* non-string key: ignored */
	msgpack_pack_true(&m.pk);
	mp_str(&m, "sample_uuid");
	mp_str(&m, "abc");
	mp_str(&m, "worker_id");
	msgpack_pack_int(&m.pk, 3);
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int64(&m.pk, 123456789012345LL);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.complete");
	mp_str(&m, "finish_reason");
	mp_str(&m, "stop");
	f = mp_frame(&m, "whatever", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_int_eq(c.ev[0].type, EVENT_SAMPLE_COMPLETE);
	ck_assert_int_eq(c.ev[0].ts, 123456789012345LL);
	ck_assert_str_eq(c.ev[0].uuid, "abc");
	ck_assert(c.ev[0].has_worker);
	ck_assert_int_eq(c.ev[0].worker, 3);
	ck_assert(c.ev[0].has_finish);
	ck_assert_str_eq(c.ev[0].finish, "stop");
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_TEXT_OUTPUT);
	ck_assert_int_eq(c.ev[0].out_form, EVENT_TEXT_STRING);
	ck_assert_str_eq(c.ev[0].out, "hello world");
	ck_assert_int_eq(c.ev[0].rsn_form, EVENT_TEXT_ABSENT);
	free(f);
}
END_TEST

START_TEST(test_frame_decode_missing_keys_take_defaults)
{
	struct mp m;
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "event_type");
	mp_str(&m, "session.started");
	f = mp_frame(&m, "session.started", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_int_eq(c.ev[0].type, EVENT_SESSION_STARTED);
	ck_assert(!c.ev[0].has_ts);
	ck_assert_str_eq(c.ev[0].uuid, "");
	ck_assert_str_eq(c.ev[0].conv, "");
	ck_assert(!c.ev[0].has_turn && !c.ev[0].has_worker &&
	    !c.ev[0].has_finish);
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_NONE);
	free(f);

	/* Without event_type the record is bad. */
	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 1);
	f = mp_frame(&m, "sample.issued", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.errors[WIRE_ERR_BAD_RECORD], 1);
	ck_assert_ptr_nonnull(strstr(st.err, "event_type"));
	free(f);
}
END_TEST

START_TEST(test_frame_decode_nil_optional_keys)
{
	/* turn, finish_reason and worker_id may be nil: same as absent. */
	struct mp m;
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 6);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.issued");
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 5);
	mp_str(&m, "turn");
	msgpack_pack_nil(&m.pk);
	mp_str(&m, "finish_reason");
	msgpack_pack_nil(&m.pk);
	mp_str(&m, "worker_id");
	msgpack_pack_nil(&m.pk);
	mp_str(&m, "conversation_id");
	mp_str(&m, "conv-9");
	f = mp_frame(&m, "sample.issued", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert(!c.ev[0].has_turn && !c.ev[0].has_finish &&
	    !c.ev[0].has_worker);
	ck_assert_str_eq(c.ev[0].conv, "conv-9");
	free(f);
}
END_TEST

/* ---- Integers ---- */

/* {"event_type": "session.started", "timestamp_ns": <int bytes>} */
static void
decode_ts(const char *int_hex, struct collect *c, struct wire_frame_stats *st)
{
	char hex[256];
	size_t len;
	unsigned char *f;

	snprintf(hex, sizeof(hex),
	    "82 aa 65 76 65 6e 74 5f 74 79 70 65"
	    " af 73 65 73 73 69 6f 6e 2e 73 74 61 72 74 65 64"
	    " ac 74 69 6d 65 73 74 61 6d 70 5f 6e 73 %s", int_hex);
	f = frame_hex("session.started", hex, &len);
	decode1(f, len, c, st);
	free(f);
}

START_TEST(test_frame_decode_every_int_width)
{
	static const struct {
		const char *hex;
		int64_t want;
	} cases[] = {
		{ "00", 0 },
		{ "7f", 127 },
		{ "cc ff", 255 },
		{ "cd ff ff", 65535 },
		{ "ce ff ff ff ff", 4294967295LL },
		{ "cf 00 00 00 01 00 00 00 00", 4294967296LL },
		{ "cf 7f ff ff ff ff ff ff ff", INT64_MAX },
		{ "ff", -1 },
		{ "e0", -32 },
		{ "d0 80", -128 },
		{ "d0 05", 5 },		/* non-minimal signed forms too */
		{ "d1 80 00", -32768 },
		{ "d2 80 00 00 00", -2147483648LL },
		{ "d3 80 00 00 00 00 00 00 00", INT64_MIN },
		{ "d3 00 00 00 00 00 00 03 e8", 1000 },
		{ "cc 05", 5 },
	};
	struct collect c;
	struct wire_frame_stats st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode_ts(cases[i].hex, &c, &st);
		ck_assert_msg(st.nerrors == 0, "case %s: %s", cases[i].hex,
		    st.err);
		ck_assert_uint_eq(st.events, 1);
		ck_assert_msg(c.ev[0].ts == cases[i].want, "case %s: got %lld",
		    cases[i].hex, (long long)c.ev[0].ts);
	}
}
END_TEST

/* wire_be, every width, against the byte-at-a-time reading. */
START_TEST(test_wire_be_every_width)
{
	const unsigned char p[8] = { 0xfe, 0x01, 0x80, 0x7f, 0x00, 0xff,
	    0x12, 0xab };

	for (int n = 0; n <= 8; n++) {
		uint64_t want = 0;

		for (int i = 0; i < n; i++)
			want = want << 8 | p[i];
		ck_assert_uint_eq(wire_be(p, n), want);
	}
}
END_TEST

START_TEST(test_frame_decode_timestamp_beyond_int64_is_error)
{
	struct collect c;
	struct wire_frame_stats st;

	decode_ts("cf 80 00 00 00 00 00 00 00", &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.errors[WIRE_ERR_FIELD_TYPE], 1);
	ck_assert_ptr_nonnull(strstr(st.err, "timestamp_ns"));
	decode_ts("cf ff ff ff ff ff ff ff ff", &c, &st);
	ck_assert_uint_eq(st.errors[WIRE_ERR_FIELD_TYPE], 1);
	/* A float or a string is not an int. */
	decode_ts("cb 40 8f 40 00 00 00 00 00", &c, &st);
	ck_assert_uint_eq(st.errors[WIRE_ERR_FIELD_TYPE], 1);
	decode_ts("a1 31", &c, &st);
	ck_assert_uint_eq(st.errors[WIRE_ERR_FIELD_TYPE], 1);
	ck_assert_ptr_nonnull(strstr(st.err, "expected int, got str"));
}
END_TEST

/* ---- data variants ---- */

/* A record with the given data value packed by fill(). */
static unsigned char *
data_frame(void (*fill)(msgpack_packer *), size_t *len)
{
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 4);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.complete");
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 9);
	mp_str(&m, "sample_uuid");
	mp_str(&m, "u");
	mp_str(&m, "data");
	fill(&m.pk);
	return mp_frame(&m, "sample.complete", len);
}

static void
pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void fill_prompt_tag_only(msgpack_packer *pk)
{ msgpack_pack_array(pk, 1); pstr(pk, "PromptData"); }
static void fill_prompt_text_extra(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 5);
	pstr(pk, "PromptData");
	pstr(pk, "a prompt");
	msgpack_pack_nil(pk);
	msgpack_pack_int(pk, 42);		/* extra: ignored */
	msgpack_pack_map(pk, 0);
}
static void fill_output_tag_only(msgpack_packer *pk)
{ msgpack_pack_array(pk, 1); pstr(pk, "TextModelOutput"); }
static void fill_output_chunks(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	pstr(pk, "TextModelOutput");
	msgpack_pack_array(pk, 3);
	pstr(pk, "a");
	pstr(pk, "b c");
	pstr(pk, "");
	msgpack_pack_array(pk, 2);
	pstr(pk, "think");
	pstr(pk, "ing");
}
static void fill_output_reasoning_str(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 4);
	pstr(pk, "TextModelOutput");
	pstr(pk, "out");
	pstr(pk, "why");
	msgpack_pack_true(pk);
}
static void fill_error_full(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	pstr(pk, "ErrorData");
	pstr(pk, "Timeout");
	pstr(pk, "took too long");
}
static void fill_error_short(msgpack_packer *pk)
{ msgpack_pack_array(pk, 2); pstr(pk, "ErrorData"); pstr(pk, "E"); }
static void fill_nil(msgpack_packer *pk) { msgpack_pack_nil(pk); }

START_TEST(test_frame_decode_data_defaults_and_extras)
{
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	f = data_frame(fill_prompt_tag_only, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_PROMPT);
	ck_assert(!c.ev[0].has_text && !c.ev[0].has_ids);
	free(f);

	f = data_frame(fill_prompt_text_extra, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert(c.ev[0].has_text && !c.ev[0].has_ids);
	ck_assert_str_eq(c.ev[0].text, "a prompt");
	free(f);

	f = data_frame(fill_output_tag_only, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_TEXT_OUTPUT);
	ck_assert_int_eq(c.ev[0].out_form, EVENT_TEXT_STRING);
	ck_assert_str_eq(c.ev[0].out, "");
	ck_assert_int_eq(c.ev[0].rsn_form, EVENT_TEXT_ABSENT);
	free(f);

	f = data_frame(fill_output_chunks, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].out_form, EVENT_TEXT_LIST);
	ck_assert_str_eq(c.ev[0].out, "a|b c|");
	ck_assert_int_eq(c.ev[0].rsn_form, EVENT_TEXT_LIST);
	ck_assert_str_eq(c.ev[0].rsn, "think|ing");
	free(f);

	f = data_frame(fill_output_reasoning_str, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].out_form, EVENT_TEXT_STRING);
	ck_assert_int_eq(c.ev[0].rsn_form, EVENT_TEXT_STRING);
	ck_assert_str_eq(c.ev[0].rsn, "why");
	free(f);

	f = data_frame(fill_error_full, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_ERROR);
	ck_assert_str_eq(c.ev[0].etype, "Timeout");
	ck_assert_str_eq(c.ev[0].emsg, "took too long");
	free(f);

	f = data_frame(fill_error_short, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_str_eq(c.ev[0].etype, "E");
	ck_assert_str_eq(c.ev[0].emsg, "");
	free(f);

	f = data_frame(fill_nil, &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.nerrors, 0);
	ck_assert_int_eq(c.ev[0].tag, EVENT_DATA_NONE);
	free(f);
}
END_TEST

static void fill_empty_array(msgpack_packer *pk) { msgpack_pack_array(pk, 0); }
static void fill_unknown_tag(msgpack_packer *pk)
{ msgpack_pack_array(pk, 2); pstr(pk, "ImageOutput"); pstr(pk, "x"); }
static void fill_tag_not_str(msgpack_packer *pk)
{ msgpack_pack_array(pk, 1); msgpack_pack_int(pk, 1); }
static void fill_error_no_type(msgpack_packer *pk)
{ msgpack_pack_array(pk, 1); pstr(pk, "ErrorData"); }
static void fill_data_map(msgpack_packer *pk) { msgpack_pack_map(pk, 0); }
static void fill_ids_not_ints(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	pstr(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, 1);
	pstr(pk, "2");
}
static void fill_ids_too_big(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	pstr(pk, "PromptData");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 1);
	msgpack_pack_uint64(pk, UINT64_MAX);
}
static void fill_text_int(msgpack_packer *pk)
{ msgpack_pack_array(pk, 2); pstr(pk, "PromptData"); msgpack_pack_int(pk, 3); }
static void fill_output_nil(msgpack_packer *pk)
{ msgpack_pack_array(pk, 2); pstr(pk, "TextModelOutput"); msgpack_pack_nil(pk); }
static void fill_chunk_not_str(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	pstr(pk, "TextModelOutput");
	pstr(pk, "ok");
	msgpack_pack_array(pk, 2);
	pstr(pk, "a");
	msgpack_pack_bin_with_body(pk, "b", 1);
}

START_TEST(test_frame_decode_data_errors)
{
	static const struct {
		void (*fill)(msgpack_packer *);
		enum wire_error want;
		const char *msg;
	} cases[] = {
		{ fill_empty_array, WIRE_ERR_BAD_RECORD, "no tag" },
		{ fill_unknown_tag, WIRE_ERR_BAD_RECORD, "ImageOutput" },
		{ fill_tag_not_str, WIRE_ERR_FIELD_TYPE, "tag" },
		{ fill_error_no_type, WIRE_ERR_BAD_RECORD, "error_type" },
		{ fill_data_map, WIRE_ERR_FIELD_TYPE, "data" },
		{ fill_ids_not_ints, WIRE_ERR_FIELD_TYPE, "token_ids" },
		{ fill_ids_too_big, WIRE_ERR_FIELD_TYPE, "int64" },
		{ fill_text_int, WIRE_ERR_FIELD_TYPE, "data.text" },
		{ fill_output_nil, WIRE_ERR_FIELD_TYPE, "data.output" },
		{ fill_chunk_not_str, WIRE_ERR_FIELD_TYPE, "reasoning[1]" },
	};
	struct collect c;
	struct wire_frame_stats st;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *f = data_frame(cases[i].fill, &len);
		decode1(f, len, &c, &st);
		ck_assert_uint_eq(st.events, 0);
		ck_assert_uint_eq(st.nerrors, 1);
		ck_assert_msg(st.errors[cases[i].want] == 1,
		    "case %zu: %s", i, st.err);
		ck_assert_msg(strstr(st.err, cases[i].msg) != NULL,
		    "case %zu: \"%s\" lacks \"%s\"", i, st.err, cases[i].msg);
		free(f);
	}
}
END_TEST

START_TEST(test_frame_decode_wrong_field_types)
{
	static const char *keys[] = { "event_type", "sample_uuid",
	    "conversation_id", "turn", "finish_reason", "worker_id" };
	struct collect c;
	struct wire_frame_stats st;
	size_t len;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct mp m;
		mp_init(&m);
		msgpack_pack_map(&m.pk, 3);
		mp_str(&m, "event_type");
		mp_str(&m, "sample.issued");
		mp_str(&m, "timestamp_ns");
		msgpack_pack_int(&m.pk, 1);
		mp_str(&m, keys[i]);	/* later keys win; all get a float */
		msgpack_pack_double(&m.pk, 2.5);
		unsigned char *f = mp_frame(&m, "sample.issued", &len);
		decode1(f, len, &c, &st);
		ck_assert_uint_eq(st.events, 0);
		ck_assert_msg(st.errors[WIRE_ERR_FIELD_TYPE] == 1, "%s: %s",
		    keys[i], st.err);
		ck_assert_ptr_nonnull(strstr(st.err, keys[i]));
		free(f);
	}
}
END_TEST

START_TEST(test_frame_decode_unknown_event_type_counted)
{
	struct mp m;
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.teleported\n");
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 1);
	f = mp_frame(&m, "sample.teleported", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.errors[WIRE_ERR_UNKNOWN_TYPE], 1);
	/* Named, with the control character made printable. */
	ck_assert_ptr_nonnull(strstr(st.err, "\"sample.teleported?\""));
	free(f);
}
END_TEST

START_TEST(test_frame_decode_absurd_uuid)
{
	char big[WIRE_UUID_MAX + 2];
	struct mp m;
	struct collect c;
	struct wire_frame_stats st;
	size_t len;
	unsigned char *f;

	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mp_init(&m);
	msgpack_pack_map(&m.pk, 3);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.issued");
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 1);
	mp_str(&m, "sample_uuid");
	mp_str(&m, big);
	f = mp_frame(&m, "sample.issued", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.errors[WIRE_ERR_ABSURD_SIZE], 1);
	free(f);

	/* Exactly at the limit is fine. */
	big[WIRE_UUID_MAX] = '\0';
	mp_init(&m);
	msgpack_pack_map(&m.pk, 3);
	mp_str(&m, "event_type");
	mp_str(&m, "sample.issued");
	mp_str(&m, "timestamp_ns");
	msgpack_pack_int(&m.pk, 1);
	mp_str(&m, "sample_uuid");
	mp_str(&m, big);
	f = mp_frame(&m, "sample.issued", &len);
	decode1(f, len, &c, &st);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_uint_eq(strlen(c.ev[0].uuid), WIRE_UUID_MAX);
	free(f);
}
END_TEST

/* ---- Frames ---- */

START_TEST(test_frame_decode_short_frames_ignored)
{
	unsigned char f[WIRE_TOPIC_LEN] = "sample.issued";
	struct collect c;
	struct wire_frame_stats st;

	for (size_t len = 0; len <= WIRE_TOPIC_LEN; len++) {
		decode1(f, len, &c, &st);
		ck_assert(st.ignored);
		ck_assert_uint_eq(st.events + st.nerrors, 0);
	}
}
END_TEST

START_TEST(test_frame_decode_every_prefix_fails_cleanly)
{
	struct collect c;
	struct wire_frame_stats st;
	struct wire_decoder *d = decoder(&c);
	size_t len;
	unsigned char *f = frame_hex("sample.issued", spec_hex, &len);

	for (size_t n = WIRE_TOPIC_LEN + 1; n < len; n++) {
		/* A private copy so ASan sees any read past the prefix. */
		unsigned char *p = malloc(n);
		memcpy(p, f, n);
		wire_frame_decode(d, p, n, &st);
		ck_assert_uint_eq(st.events, 0);
		ck_assert_uint_eq(st.errors[WIRE_ERR_MALFORMED], 1);
		free(p);
	}
	/* And the decoder still works afterwards. */
	wire_frame_decode(d, f, len, &st);
	ck_assert_uint_eq(st.events, 1);
	/* Trailing bytes are refused too. */
	unsigned char *g = malloc(len + 1);
	memcpy(g, f, len);
	g[len] = 0xc0;
	wire_frame_decode(d, g, len + 1, &st);
	ck_assert_uint_eq(st.errors[WIRE_ERR_MALFORMED], 1);
	ck_assert_ptr_nonnull(strstr(st.err, "trailing"));
	free(g);
	wire_decoder_free(d);
	free(f);
}
END_TEST

START_TEST(test_frame_decode_random_bytes)
{
	struct collect c;
	struct wire_frame_stats st;
	struct wire_decoder *d = decoder(&c);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t len;
	unsigned char *spec = frame_hex("batch", spec_hex, &len);

	for (int i = 0; i < 20000; i++) {
		size_t n = WIRE_TOPIC_LEN + 1 + i % 200;
		unsigned char *p = malloc(n);
		for (size_t j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[j] = (unsigned char)x;
		}
		/* Half of them are mutations of a valid record. */
		if (i % 2 && n >= len) {
			memcpy(p, spec, len);
			p[WIRE_TOPIC_LEN + x % (len - WIRE_TOPIC_LEN)] ^=
			    (unsigned char)(x >> 8);
			n = len;
		}
		if (i % 3 == 0)
			memcpy(p, "batch\0", 6);
		c.n = 0;
		wire_frame_decode(d, p, n, &st);
		ck_assert_uint_le(st.events, st.records);
		ck_assert_uint_eq(st.events, c.n);
		free(p);
	}
	wire_decoder_free(d);
	free(spec);
}
END_TEST

START_TEST(test_frame_decode_depth_bomb)
{
	struct collect c;
	struct wire_frame_stats st;
	size_t n = 100000;
	unsigned char *f = calloc(1, WIRE_TOPIC_LEN + n + 1);

	memset(f + WIRE_TOPIC_LEN, 0x91, n);	/* [[[[...nil...]]]] */
	f[WIRE_TOPIC_LEN + n] = 0xc0;
	decode1(f, WIRE_TOPIC_LEN + n + 1, &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.errors[WIRE_ERR_ABSURD_SIZE], 1);
	ck_assert_ptr_nonnull(strstr(st.err, "nested"));
	/* Maps nested the same way, inside a batch bin. */
	memcpy(f, "batch\0", 6);
	f[WIRE_TOPIC_LEN] = 0x91;
	f[WIRE_TOPIC_LEN + 1] = 0xc6;
	uint32_t bl = (uint32_t)(n - 6);
	f[WIRE_TOPIC_LEN + 2] = (unsigned char)(bl >> 24);
	f[WIRE_TOPIC_LEN + 3] = (unsigned char)(bl >> 16);
	f[WIRE_TOPIC_LEN + 4] = (unsigned char)(bl >> 8);
	f[WIRE_TOPIC_LEN + 5] = (unsigned char)bl;
	for (size_t i = 6; i + 1 < n; i += 2) {
		f[WIRE_TOPIC_LEN + i] = 0x81;	/* {nil: {nil: ...}} */
		f[WIRE_TOPIC_LEN + i + 1] = 0xc0;
	}
	f[WIRE_TOPIC_LEN + n - 1] = 0xc0;
	decode1(f, WIRE_TOPIC_LEN + n, &c, &st);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.records, 1);
	ck_assert_uint_eq(st.nerrors, 1);
	free(f);
}
END_TEST

START_TEST(test_frame_decode_huge_declared_lengths)
{
	static const char *payloads[] = {
		"dd ff ff ff ff c0",		/* array32 */
		"df ff ff ff ff c0 c0",		/* map32 */
		"db ff ff ff ff 61",		/* str32 */
		"c6 ff ff ff ff 00",		/* bin32 */
		"c9 ff ff ff ff 01 00",		/* ext32 */
		"dc ff ff c0",			/* array16 */
		"93 dd 7f ff ff ff",		/* nested */
		"84 aa 65 76 65 6e 74 5f 74 79 70 65 dd 10 00 00 00",
	};
	struct collect c;
	struct wire_frame_stats st;
	size_t len;

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		for (int batch = 0; batch < 2; batch++) {
			char hex[200];
			/* In a batch, the same bytes wrapped in one bin8. */
			if (batch)
				snprintf(hex, sizeof(hex), "91 c4 %02zx %s",
				    (strlen(payloads[i]) + 1) / 3, payloads[i]);
			else
				snprintf(hex, sizeof(hex), "%s", payloads[i]);
			unsigned char *f = frame_hex(batch ? "batch" : "x",
			    hex, &len);
			decode1(f, len, &c, &st);
			ck_assert_uint_eq(st.events, 0);
			ck_assert_msg(st.nerrors == 1, "%s: %u errors",
			    hex, st.nerrors);
			free(f);
		}
	}
}
END_TEST

/* ---- Batches ---- */

static struct event
simple_event(enum event_type t, int64_t ts, const char *uuid)
{
	struct event ev = {
		.type = t,
		.timestamp_ns = ts,
		.has_timestamp = true,
		.sample_uuid = { uuid, strlen(uuid) },
	};
	return ev;
}

START_TEST(test_frame_decode_batch_keeps_going_after_bad_records)
{
	struct wire_batch b = { 0 };
	struct event ev;
	char err[128];
	const void *fp;
	size_t len;
	struct collect c;
	struct wire_frame_stats st;

	ev = simple_event(EVENT_SAMPLE_ISSUED, 1, "a");
	ck_assert_int_eq(wire_batch_add(&b, &ev, err, sizeof(err)), 0);
	ev = simple_event(EVENT_SAMPLE_COMPLETE, 2, "a");
	ck_assert_int_eq(wire_batch_add(&b, &ev, err, sizeof(err)), 0);
	wire_batch_finish(&b, &fp, &len);

	/* Splice in bad elements: an int, a garbage bin, an unknown type. */
	static const unsigned char bad_int[] = { 0x05 };
	static const unsigned char bad_bin[] = { 0xc4, 0x02, 0xc1, 0xc1 };
	static const unsigned char unk_bin[] = { 0xc4, 0x10, 0x81, 0xaa,
	    'e', 'v', 'e', 'n', 't', '_', 't', 'y', 'p', 'e', 0xa3, 'x', '.',
	    'y' };
	const unsigned char *body = (const unsigned char *)fp +
	    WIRE_TOPIC_LEN + 1;
	size_t blen = len - WIRE_TOPIC_LEN - 1;
	unsigned char *f = calloc(1, len + 64);
	size_t n = WIRE_TOPIC_LEN;
	memcpy(f, "batch", 5);
	f[n++] = 0x95;
	memcpy(f + n, bad_int, sizeof(bad_int));
	n += sizeof(bad_int);
	memcpy(f + n, body, blen);
	n += blen;
	memcpy(f + n, bad_bin, sizeof(bad_bin));
	n += sizeof(bad_bin);
	memcpy(f + n, unk_bin, sizeof(unk_bin));
	n += sizeof(unk_bin);

	decode1(f, n, &c, &st);
	ck_assert(st.batch);
	ck_assert_uint_eq(st.records, 5);
	ck_assert_uint_eq(st.events, 2);
	ck_assert_uint_eq(st.errors[WIRE_ERR_BAD_RECORD], 2);
	ck_assert_uint_eq(st.errors[WIRE_ERR_UNKNOWN_TYPE], 1);
	ck_assert_uint_eq(st.nerrors, 3);
	ck_assert_ptr_nonnull(strstr(st.err, "batch record 0"));
	ck_assert_int_eq(c.ev[0].type, EVENT_SAMPLE_ISSUED);
	ck_assert_int_eq(c.ev[1].type, EVENT_SAMPLE_COMPLETE);
	ck_assert_str_eq(c.ev[1].uuid, "a");

	/* A batch payload that is not an array is a malformed frame. */
	static const char *not_array = "81 a1 61 c0";
	unsigned char *g = frame_hex("batch", not_array, &len);
	decode1(g, len, &c, &st);
	ck_assert_uint_eq(st.errors[WIRE_ERR_MALFORMED], 1);
	free(g);
	free(f);
	wire_batch_free(&b);
}
END_TEST

START_TEST(test_frame_decode_callback_stops_batch)
{
	struct wire_batch b = { 0 };
	struct collect c;
	struct wire_frame_stats st;
	struct wire_decoder *d = decoder(&c);
	char err[128];
	const void *fp;
	size_t len;

	for (int i = 0; i < 5; i++) {
		struct event ev = simple_event(EVENT_SAMPLE_ISSUED, i, "x");
		ck_assert_int_eq(wire_batch_add(&b, &ev, err, sizeof(err)), 0);
	}
	wire_batch_finish(&b, &fp, &len);
	c.stop_after = 2;
	ck_assert_int_eq(wire_frame_decode(d, fp, len, &st), 7);
	ck_assert(st.stopped);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(st.events, 2);
	wire_decoder_free(d);
	wire_batch_free(&b);
}
END_TEST

START_TEST(test_batch_encode_header_sizes)
{
	static const size_t counts[] = { 0, 1, 15, 16, 65535, 65536 };
	static const unsigned char first[] = { 0x90, 0x91, 0x9f, 0xdc, 0xdc,
	    0xdd };
	struct wire_batch b = { 0 };
	struct collect c;
	struct wire_frame_stats st;
	struct wire_decoder *d = decoder(&c);
	char err[128];

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		const void *fp;
		size_t len;

		wire_batch_reset(&b);
		for (size_t i = 0; i < counts[k]; i++) {
			struct event ev = simple_event(EVENT_SAMPLE_RECV_FIRST,
			    (int64_t)i, "s");
			ck_assert_int_eq(wire_batch_add(&b, &ev, err,
			    sizeof(err)), 0);
		}
		wire_batch_finish(&b, &fp, &len);
		ck_assert_mem_eq(fp, "batch\0\0\0", 8);
		ck_assert_uint_eq(((const unsigned char *)fp)[WIRE_TOPIC_LEN],
		    first[k]);
		c.n = 0;
		wire_frame_decode(d, fp, len, &st);
		ck_assert_uint_eq(st.nerrors, 0);
		ck_assert_uint_eq(st.events, counts[k]);
	}
	wire_decoder_free(d);
	wire_batch_free(&b);
}
END_TEST

/* ---- Encoder ---- */

START_TEST(test_frame_encode_roundtrip_all_fields)
{
	static const struct event_str out[] = { { "he", 2 }, { "llo", 3 } };
	static const struct event_str rsn[] = { { "hmm", 3 } };
	static const int64_t ids[] = { -5, 0, INT64_MAX, INT64_MIN };
	struct event evs[4];
	struct wire_buf b = { 0 };
	struct wire_batch batch = { 0 };
	struct collect c;
	struct wire_frame_stats st;
	struct wire_decoder *d = decoder(&c);
	char err[128];

	evs[0] = simple_event(EVENT_SAMPLE_COMPLETE, -77, "uuid-1");
	evs[0].conversation_id = (struct event_str){ "conv", 4 };
	evs[0].has_turn = true;
	evs[0].turn = 3;
	evs[0].has_finish_reason = true;
	evs[0].finish_reason = (struct event_str){ "length", 6 };
	evs[0].has_worker_id = true;
	evs[0].worker_id = 12;
	evs[0].data_tag = EVENT_DATA_TEXT_OUTPUT;
	evs[0].data.output.output = (struct event_text){ EVENT_TEXT_LIST, 2,
	    out };
	evs[0].data.output.reasoning = (struct event_text){ EVENT_TEXT_STRING,
	    1, rsn };
	evs[1] = simple_event(EVENT_SAMPLE_ISSUED, INT64_MAX, "u2");
	evs[1].data_tag = EVENT_DATA_PROMPT;
	evs[1].data.prompt.has_text = true;
	evs[1].data.prompt.text = (struct event_str){ "prompt text", 11 };
	evs[1].data.prompt.has_token_ids = true;
	evs[1].data.prompt.n_token_ids = 4;
	evs[1].data.prompt.token_ids = ids;
	evs[2] = simple_event(EVENT_ERROR_CLIENT, 5, "");
	evs[2].data_tag = EVENT_DATA_ERROR;
	evs[2].data.error.error_type = (struct event_str){ "Boom", 4 };
	evs[2].data.error.error_message = (struct event_str){ "", 0 };
	evs[3] = simple_event(EVENT_SESSION_ENDED, INT64_MIN, "");

	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(wire_frame_encode(&evs[i], &b, err,
		    sizeof(err)), 0);
		ck_assert_str_eq((char *)b.data, event_type_name(evs[i].type));
		wire_frame_decode(d, b.data, b.len, &st);
		ck_assert_msg(st.nerrors == 0, "%s", st.err);
		ck_assert_int_eq(wire_batch_add(&batch, &evs[i], err,
		    sizeof(err)), 0);
	}
	const void *fp;
	size_t len;
	wire_batch_finish(&batch, &fp, &len);
	wire_frame_decode(d, fp, len, &st);
	ck_assert_uint_eq(st.events, 4);
	ck_assert_uint_eq(c.n, 8);
	for (int k = 0; k < 2; k++) {
		struct seen *s = &c.ev[k * 4];
		ck_assert_int_eq(s[0].type, EVENT_SAMPLE_COMPLETE);
		ck_assert_int_eq(s[0].ts, -77);
		ck_assert_str_eq(s[0].uuid, "uuid-1");
		ck_assert_str_eq(s[0].conv, "conv");
		ck_assert(s[0].has_turn && s[0].turn == 3);
		ck_assert(s[0].has_finish);
		ck_assert_str_eq(s[0].finish, "length");
		ck_assert(s[0].has_worker && s[0].worker == 12);
		ck_assert_int_eq(s[0].out_form, EVENT_TEXT_LIST);
		ck_assert_str_eq(s[0].out, "he|llo");
		ck_assert_int_eq(s[0].rsn_form, EVENT_TEXT_STRING);
		ck_assert_str_eq(s[0].rsn, "hmm");
		ck_assert_int_eq(s[1].ts, INT64_MAX);
		ck_assert_str_eq(s[1].text, "prompt text");
		ck_assert_uint_eq(s[1].n_ids, 4);
		ck_assert_mem_eq(s[1].ids, ids, sizeof(ids));
		ck_assert_int_eq(s[2].type, EVENT_ERROR_CLIENT);
		ck_assert_str_eq(s[2].etype, "Boom");
		ck_assert_str_eq(s[2].emsg, "");
		ck_assert_int_eq(s[3].type, EVENT_SESSION_ENDED);
		ck_assert_int_eq(s[3].ts, INT64_MIN);
		ck_assert_int_eq(s[3].tag, EVENT_DATA_NONE);
	}
	wire_decoder_free(d);
	wire_buf_free(&b);
	wire_batch_free(&batch);
}
END_TEST

START_TEST(test_frame_encode_key_order)
{
	/* Optional keys go after sample_uuid / data in the spec's order. */
	struct event ev = simple_event(EVENT_SAMPLE_ISSUED, 1, "s");
	struct wire_buf b = { 0 };
	char err[128];
	const char *order[] = { "event_type", "timestamp_ns", "sample_uuid",
	    "conversation_id", "turn", "data", "finish_reason", "worker_id" };
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;

	ev.conversation_id = (struct event_str){ "c", 1 };
	ev.has_turn = true;
	ev.has_finish_reason = true;
	ev.finish_reason = (struct event_str){ "stop", 4 };
	ev.has_worker_id = true;
	ck_assert_int_eq(wire_record_encode(&ev, &b, err, sizeof(err)), 0);
	msgpack_zone_init(&z, 1024);
	ck_assert_int_eq(msgpack_unpack((char *)b.data, b.len, &off, &z, &o),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(o.via.map.size, 8);
	for (int i = 0; i < 8; i++) {
		msgpack_object_str k = o.via.map.ptr[i].key.via.str;
		ck_assert_uint_eq(k.size, strlen(order[i]));
		ck_assert_mem_eq(k.ptr, order[i], k.size);
	}
	msgpack_zone_destroy(&z);

	/* Without has_timestamp the key is left out, not written as 0. */
	struct collect c;
	struct wire_frame_stats st;
	ev.has_timestamp = false;
	ck_assert_int_eq(wire_frame_encode(&ev, &b, err, sizeof(err)), 0);
	decode1(b.data, b.len, &c, &st);
	ck_assert_uint_eq(st.events, 1);
	ck_assert(!c.ev[0].has_ts);
	wire_buf_free(&b);
}
END_TEST

START_TEST(test_frame_encode_rejects_bad_types)
{
	struct event ev = simple_event(EVENT_UNKNOWN, 1, "");
	struct wire_buf b = { 0 };
	char err[128];
	static const char longname[] = "sample.a_name_that_is_longer_than_forty_bytes";

	ck_assert_int_eq(wire_frame_encode(&ev, &b, err, sizeof(err)), -EINVAL);
	ev.type_name = (struct event_str){ longname, sizeof(longname) - 1 };
	ck_assert_int_eq(wire_frame_encode(&ev, &b, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "topic"));
	/* An unknown but short name is written as given (for tests). */
	ev.type_name = (struct event_str){ "x.y", 3 };
	ck_assert_int_eq(wire_frame_encode(&ev, &b, err, sizeof(err)), 0);
	wire_buf_free(&b);
}
END_TEST

START_TEST(test_event_type_names_roundtrip)
{
	for (int t = EVENT_UNKNOWN + 1; t < EVENT_TYPE_COUNT; t++) {
		const char *n = event_type_name((enum event_type)t);
		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(event_type_parse(n, strlen(n)), t);
		ck_assert_int_eq(event_type_parse(n, strlen(n) - 1),
		    EVENT_UNKNOWN);
	}
	ck_assert_ptr_null(event_type_name(EVENT_UNKNOWN));
	ck_assert_ptr_null(event_type_name(EVENT_TYPE_COUNT));
	ck_assert_int_eq(event_type_parse("", 0), EVENT_UNKNOWN);
	ck_assert_int_eq(event_type_parse("session.started\0", 16),
	    EVENT_UNKNOWN);
	/* A name with any one byte changed is no name (the comparison goes
	 * by words: every position, the overlapping last word included). */
	for (int t = EVENT_UNKNOWN + 1; t < EVENT_TYPE_COUNT; t++) {
		const char *n = event_type_name((enum event_type)t);
		char buf[64];
		size_t len = strlen(n);

		for (size_t i = 0; i < len; i++) {
			memcpy(buf, n, len);
			buf[i] ^= 0x20;
			ck_assert_int_eq(event_type_parse(buf, len),
			    EVENT_UNKNOWN);
		}
	}
	ck_assert(event_type_is_error(EVENT_ERROR_CLIENT));
	ck_assert(!event_type_is_error(EVENT_SAMPLE_ISSUED));
}
END_TEST

Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *dec = tcase_create("decode");
	TCase *hostile = tcase_create("hostile");
	TCase *enc = tcase_create("encode");

	tcase_add_test(dec, test_frame_decode_spec_example);
	tcase_add_test(dec, test_frame_decode_any_key_order_and_unknown_keys);
	tcase_add_test(dec, test_frame_decode_missing_keys_take_defaults);
	tcase_add_test(dec, test_frame_decode_nil_optional_keys);
	tcase_add_test(dec, test_frame_decode_every_int_width);
	tcase_add_test(dec, test_wire_be_every_width);
	tcase_add_test(dec, test_frame_decode_timestamp_beyond_int64_is_error);
	tcase_add_test(dec, test_frame_decode_data_defaults_and_extras);
	tcase_add_test(dec, test_frame_decode_data_errors);
	tcase_add_test(dec, test_frame_decode_wrong_field_types);
	tcase_add_test(dec, test_frame_decode_unknown_event_type_counted);
	tcase_add_test(dec, test_frame_decode_batch_keeps_going_after_bad_records);
	tcase_add_test(dec, test_frame_decode_callback_stops_batch);
	tcase_add_test(dec, test_event_type_names_roundtrip);
	suite_add_tcase(s, dec);

	tcase_add_test(hostile, test_frame_decode_short_frames_ignored);
	tcase_add_test(hostile, test_frame_decode_every_prefix_fails_cleanly);
	tcase_add_test(hostile, test_frame_decode_random_bytes);
	tcase_add_test(hostile, test_frame_decode_depth_bomb);
	tcase_add_test(hostile, test_frame_decode_huge_declared_lengths);
	tcase_add_test(hostile, test_frame_decode_absurd_uuid);
	suite_add_tcase(s, hostile);

	tcase_add_test(enc, test_frame_encode_spec_example_byte_exact);
	tcase_add_test(enc, test_frame_encode_roundtrip_all_fields);
	tcase_add_test(enc, test_frame_encode_key_order);
	tcase_add_test(enc, test_frame_encode_rejects_bad_types);
	tcase_add_test(enc, test_batch_encode_header_sizes);
	suite_add_tcase(s, enc);
	return s;
}
