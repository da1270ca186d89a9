/* The synthetic session behind `metricsd publish --synthetic`. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "event_json.h"
#include "synthetic.h"
#include "synthetic_text.h"

/* What the tests record of each event. */
struct rec {
	enum event_type type;
	int64_t ts;
	char uuid[40];
	enum event_data_tag tag;
	size_t chunks;		/* output + reasoning items of a complete */
};

struct log {
	struct rec *r;
	size_t n, cap;
	uint64_t hash;		/* FNV-1a over the JSON of every event */
	int stop_after;		/* > 0: return -42 at this event */
};

static int
record(void *arg, const struct event *ev)
{
	struct log *l = arg;
	struct rec *r;
	json_t *o;
	char *s;

	if (l->stop_after && (int)l->n == l->stop_after)
		return -42;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		ck_assert_ptr_nonnull(l->r = realloc(l->r, l->cap * sizeof(*r)));
	}
	r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	r->type = ev->type;
	r->ts = ev->timestamp_ns;
	ck_assert_uint_lt(ev->sample_uuid.len, sizeof(r->uuid));
	memcpy(r->uuid, ev->sample_uuid.ptr, ev->sample_uuid.len);
	r->tag = ev->data_tag;
	if (ev->data_tag == EVENT_DATA_TEXT_OUTPUT)
		r->chunks = ev->data.output.output.n +
		    ev->data.output.reasoning.n;
	ck_assert_ptr_nonnull(o = event_json_build(ev));
	ck_assert_ptr_nonnull(s = json_dumps(o, JSON_COMPACT));
	for (char *p = s; *p; p++)
		l->hash = (l->hash ^ (unsigned char)*p) * 0x100000001b3ULL;
	free(s);
	json_decref(o);
	return 0;
}

static void
run(const struct synthetic_opts *o, struct log *l, struct synthetic_stats *st)
{
	memset(l, 0, sizeof(*l));
	l->hash = 0xcbf29ce484222325ULL;
	ck_assert_int_eq(synthetic_run(o, record, l, st), 0);
}

static size_t
count(const struct log *l, enum event_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->r[i].type == t;
	return n;
}

START_TEST(test_synthetic_run_is_deterministic)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log a, b, c;

	o.samples = 300;
	o.seed = 7;
	run(&o, &a, &st);
	run(&o, &b, &st);
	o.seed = 8;
	run(&o, &c, &st);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_ne(a.hash, c.hash);
	free(a.r);
	free(b.r);
	free(c.r);
}
END_TEST

/* The session frame, counts, and time only going forward. */
START_TEST(test_synthetic_run_session_shape)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;

	o.samples = 500;
	o.concurrency = 16;
	o.error_rate = 0.1;
	run(&o, &l, &st);
	ck_assert_uint_eq(st.events, l.n);
	ck_assert_int_eq(l.r[0].type, EVENT_SESSION_STARTED);
	ck_assert_int_eq(l.r[1].type, EVENT_SESSION_START_TRACKING);
	ck_assert_int_eq(l.r[l.n - 3].type, EVENT_SESSION_STOP_TRACKING);
	ck_assert_int_eq(l.r[l.n - 2].type, EVENT_SESSION_STOP_LOADGEN);
	ck_assert_int_eq(l.r[l.n - 1].type, EVENT_SESSION_ENDED);
	for (size_t i = 1; i < l.n; i++)
		ck_assert_int_le(l.r[i - 1].ts, l.r[i].ts);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_ISSUED), 500);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_COMPLETE), 500);
	ck_assert_uint_eq(st.issued, 500);
	ck_assert_uint_eq(st.completed, 500);
	ck_assert_uint_eq(count(&l, EVENT_ERROR_CLIENT), st.errors);
	/* 10% of 500: far from 0 and from 500 for any seed. */
	ck_assert_uint_gt(st.errors, 20);
	ck_assert_uint_lt(st.errors, 100);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_RECV_FIRST), 500 - st.errors);
	free(l.r);
}
END_TEST

/* Per sample: issued, receives, complete, in that order; never more than
 * `concurrency` samples in flight; uuids unique. */
START_TEST(test_synthetic_run_sample_lifecycle)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;
	size_t inflight = 0, peak = 0;

	o.samples = 200;
	o.concurrency = 5;
	o.error_rate = 0.2;
	run(&o, &l, &st);
	for (size_t i = 0; i < l.n; i++) {
		struct rec *r = &l.r[i];
		size_t recvs = 0;
		bool errored = false, done = false;

		if (r->type != EVENT_SAMPLE_ISSUED)
			continue;
		ck_assert_int_eq(r->tag, EVENT_DATA_PROMPT);
		for (size_t j = i + 1; j < l.n && !done; j++) {
			struct rec *q = &l.r[j];

			if (q->type == EVENT_SAMPLE_ISSUED)
				ck_assert_str_ne(q->uuid, r->uuid);
			if (strcmp(q->uuid, r->uuid) != 0)
				continue;
			switch (q->type) {
			case EVENT_SAMPLE_RECV_FIRST:
				ck_assert_uint_eq(recvs++, 0);
				break;
			case EVENT_SAMPLE_RECV_NON_FIRST:
				ck_assert_uint_gt(recvs++, 0);
				break;
			case EVENT_ERROR_CLIENT:
				ck_assert_uint_eq(recvs, 0);
				errored = true;
				break;
			case EVENT_SAMPLE_COMPLETE:
				if (errored) {
					ck_assert_int_eq(q->tag, EVENT_DATA_NONE);
				} else {
					ck_assert_int_eq(q->tag,
					    EVENT_DATA_TEXT_OUTPUT);
					ck_assert_uint_eq(q->chunks, recvs);
				}
				done = true;
				break;
			default:
				ck_abort_msg("unexpected event for a sample");
			}
		}
		ck_assert_msg(done, "sample %s never completed", r->uuid);
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.r[i].type == EVENT_SAMPLE_ISSUED && ++inflight > peak)
			peak = inflight;
		if (l.r[i].type == EVENT_SAMPLE_COMPLETE)
			inflight--;
	}
	ck_assert_uint_eq(peak, 5);
	free(l.r);
}
END_TEST

START_TEST(test_synthetic_run_warmup_and_no_complete)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l;
	size_t issued_before = 0;

	o.samples = 50;
	o.warmup = 10;
	run(&o, &l, &st);
	for (size_t i = 0; l.r[i].type != EVENT_SESSION_START_TRACKING; i++)
		issued_before += l.r[i].type == EVENT_SAMPLE_ISSUED;
	ck_assert_uint_eq(issued_before, 10);
	ck_assert_uint_eq(count(&l, EVENT_SESSION_START_TRACKING), 1);
	free(l.r);

	o.warmup = 0;
	o.samples = 1000;
	o.complete = false;
	run(&o, &l, &st);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_ISSUED), 1000);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_COMPLETE), 0);
	ck_assert_uint_eq(count(&l, EVENT_SAMPLE_RECV_FIRST), 0);
	ck_assert_int_eq(l.r[l.n - 1].type, EVENT_SESSION_ENDED);
	free(l.r);
}
END_TEST

START_TEST(test_synthetic_run_stops_and_checks_options)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l = { .stop_after = 5 };

	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -42);
	ck_assert_uint_eq(l.n, 5);
	free(l.r);
	o.concurrency = 0;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.concurrency = 1;
	o.error_rate = 1.5;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.error_rate = 0;
	o.max_chunks = 65;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
}
END_TEST

/* Strict UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
static bool
valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		unsigned c = *p, len, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if ((size_t)(e - p) < len)
			return false;
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += len;
	}
	return true;
}

static const enum synthetic_text kinds[] = {
	SYNTHETIC_TEXT_PROSE, SYNTHETIC_TEXT_CODE, SYNTHETIC_TEXT_MIXED
};

START_TEST(test_synthetic_text_make_is_deterministic_utf8)
{
	static const unsigned sizes[] = { 1, 7, 300, 5000 };
	char *a = NULL, *b = NULL;
	size_t acap = 0, bcap = 0, alen, blen;

	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < 4; i++) {
			ck_assert_int_eq(synthetic_text_make(kinds[k], sizes[i],
			    42, &a, &acap, &alen), 0);
			ck_assert_int_eq(synthetic_text_make(kinds[k], sizes[i],
			    42, &b, &bcap, &blen), 0);
			ck_assert_uint_gt(alen, 0);
			ck_assert_uint_eq(alen, blen);
			ck_assert_uint_eq(strlen(a), alen);
			ck_assert(memcmp(a, b, alen) == 0);
			ck_assert_msg(valid_utf8(a, alen), "invalid UTF-8: %s", a);
			if (sizes[i] < 300)
				continue;
			ck_assert_int_eq(synthetic_text_make(kinds[k], sizes[i],
			    43, &b, &bcap, &blen), 0);
			ck_assert(alen != blen || memcmp(a, b, alen) != 0);
		}
	}
	free(a);
	free(b);
}
END_TEST

/* About 3-5 bytes a token, as English text and code are for Llama 3 and
 * Qwen; code has lines and blocks, mixed a fenced block. */
START_TEST(test_synthetic_text_make_looks_like_its_kind)
{
	char *t = NULL;
	size_t cap = 0, len;

	for (size_t k = 0; k < 3; k++) {
		ck_assert_int_eq(synthetic_text_make(kinds[k], 4000, 9, &t,
		    &cap, &len), 0);
		ck_assert_uint_gt(len, 4000 * 2);
		ck_assert_uint_lt(len, 4000 * 7);
		if (kinds[k] == SYNTHETIC_TEXT_PROSE) {
			ck_assert_ptr_nonnull(strstr(t, ". "));
			ck_assert_ptr_nonnull(strstr(t, "\n\n"));
			ck_assert_ptr_null(strchr(t, '{'));
		} else if (kinds[k] == SYNTHETIC_TEXT_CODE) {
			ck_assert_ptr_nonnull(strstr(t, "\n    ") ?
			    strstr(t, "\n    ") : strstr(t, "\n\t"));
			ck_assert_ptr_nonnull(strstr(t, "return"));
		} else {
			ck_assert_ptr_nonnull(strstr(t, "```"));
			ck_assert_ptr_nonnull(strstr(t, ". "));
		}
	}
	free(t);
}
END_TEST

START_TEST(test_synthetic_text_make_rejects_bad_options)
{
	char *t = NULL;
	size_t cap = 0, len;

	ck_assert_int_eq(synthetic_text_make(SYNTHETIC_TEXT_PROSE, 0, 1, &t,
	    &cap, &len), -EINVAL);
	ck_assert_int_eq(synthetic_text_make(SYNTHETIC_TEXT_PROSE,
	    SYNTHETIC_OSL_MAX + 1, 1, &t, &cap, &len), -EINVAL);
	ck_assert_int_eq(synthetic_text_make(SYNTHETIC_TEXT_WORDS, 10, 1, &t,
	    &cap, &len), -EINVAL);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_synthetic_text_parse_names)
{
	enum synthetic_text k = SYNTHETIC_TEXT_WORDS;

	ck_assert_int_eq(synthetic_text_parse("prose", &k), 0);
	ck_assert_int_eq(k, SYNTHETIC_TEXT_PROSE);
	ck_assert_int_eq(synthetic_text_parse("code", &k), 0);
	ck_assert_int_eq(k, SYNTHETIC_TEXT_CODE);
	ck_assert_int_eq(synthetic_text_parse("mixed", &k), 0);
	ck_assert_int_eq(k, SYNTHETIC_TEXT_MIXED);
	ck_assert_int_eq(synthetic_text_parse("Prose", &k), -EINVAL);
	ck_assert_int_eq(synthetic_text_parse("", &k), -EINVAL);
	ck_assert_int_eq(k, SYNTHETIC_TEXT_MIXED);
}
END_TEST

/* Pieces cover the text in order, never cut a UTF-8 sequence, and are
 * empty only when there are fewer characters than pieces. */
START_TEST(test_synthetic_text_split_keeps_utf8_whole)
{
	static const char text[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 c";	/* 10 characters */
	struct event_str out[64];
	size_t n = sizeof(text) - 1;

	for (unsigned k = 1; k <= 64; k++) {
		size_t at = 0;

		synthetic_text_split(text, n, k, out);
		for (unsigned i = 0; i < k; i++) {
			ck_assert_ptr_eq(out[i].ptr, text + at);
			ck_assert(valid_utf8(out[i].ptr, out[i].len));
			if (k <= 10)
				ck_assert_uint_gt(out[i].len, 0);
			at += out[i].len;
		}
		ck_assert_uint_eq(at, n);
	}
	synthetic_text_split(text, 0, 3, out);
	ck_assert_uint_eq(out[0].len + out[1].len + out[2].len, 0);
}
END_TEST

/* What the realistic-text test records of each sample.complete. */
struct textlog {
	size_t n;
	size_t completes;
	size_t bytes;
	uint64_t hash;
	bool bad_utf8;
};

static int
record_text(void *arg, const struct event *ev)
{
	struct textlog *l = arg;
	const struct event_text *parts[2] = { &ev->data.output.reasoning,
	    &ev->data.output.output };

	l->n++;
	if (ev->data_tag != EVENT_DATA_TEXT_OUTPUT)
		return 0;
	l->completes++;
	for (int p = 0; p < 2; p++) {
		if (parts[p]->form != EVENT_TEXT_LIST)
			continue;
		for (size_t i = 0; i < parts[p]->n; i++) {
			const struct event_str *c = &parts[p]->items[i];

			l->bad_utf8 |= !valid_utf8(c->ptr, c->len);
			l->bytes += c->len;
			for (size_t j = 0; j < c->len; j++)
				l->hash = (l->hash ^ (unsigned char)c->ptr[j]) *
				    0x100000001b3ULL;
		}
	}
	return 0;
}

/* Realistic text: valid UTF-8 in every chunk, about osl tokens (2-6
 * bytes each) per sample, deterministic, and the same events as with the
 * default words. */
START_TEST(test_synthetic_run_realistic_text)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct textlog w, a, b;

	o.samples = 200;
	o.error_rate = 0;
	o.seed = 5;
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(synthetic_run(&o, record_text, &w, &st), 0);
	o.text = SYNTHETIC_TEXT_MIXED;
	o.osl = 400;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(synthetic_run(&o, record_text, &a, &st), 0);
	ck_assert_int_eq(synthetic_run(&o, record_text, &b, &st), 0);
	ck_assert(!a.bad_utf8);
	ck_assert_uint_eq(a.completes, 200);
	ck_assert_uint_gt(a.bytes, 200 * 400 * 2);
	ck_assert_uint_lt(a.bytes, 200 * 400 * 6);
	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_eq(a.n, w.n);
	ck_assert_uint_eq(w.completes, 200);
	o.seed = 6;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(synthetic_run(&o, record_text, &b, &st), 0);
	ck_assert_uint_ne(a.hash, b.hash);
}
END_TEST

START_TEST(test_synthetic_run_checks_text_options)
{
	struct synthetic_opts o = SYNTHETIC_OPTS_DEFAULT;
	struct synthetic_stats st;
	struct log l = { 0 };

	o.osl = 10;		/* --osl without a text kind */
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.text = SYNTHETIC_TEXT_CODE;
	o.osl = SYNTHETIC_OSL_MAX + 1;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	o.text = (enum synthetic_text)99;
	o.osl = 10;
	ck_assert_int_eq(synthetic_run(&o, record, &l, &st), -EINVAL);
	free(l.r);
	/* The largest --osl: a sample may draw 5/4 of it, clamped. */
	o.text = SYNTHETIC_TEXT_MIXED;
	o.osl = SYNTHETIC_OSL_MAX;
	o.samples = 4;
	o.max_chunks = 3;
	o.error_rate = 0;
	run(&o, &l, &st);
	ck_assert_uint_eq(st.completed, 4);
	free(l.r);
}
END_TEST

Suite *
synthetic_suite(void)
{
	Suite *s = suite_create("synthetic");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_synthetic_run_is_deterministic);
	tcase_add_test(tc, test_synthetic_run_session_shape);
	tcase_add_test(tc, test_synthetic_run_sample_lifecycle);
	tcase_add_test(tc, test_synthetic_run_warmup_and_no_complete);
	tcase_add_test(tc, test_synthetic_run_stops_and_checks_options);
	tcase_add_test(tc, test_synthetic_text_make_is_deterministic_utf8);
	tcase_add_test(tc, test_synthetic_text_make_looks_like_its_kind);
	tcase_add_test(tc, test_synthetic_text_make_rejects_bad_options);
	tcase_add_test(tc, test_synthetic_text_parse_names);
	tcase_add_test(tc, test_synthetic_text_split_keeps_utf8_whole);
	tcase_add_test(tc, test_synthetic_run_realistic_text);
	tcase_add_test(tc, test_synthetic_run_checks_text_options);
	suite_add_tcase(s, tc);
	return s;
}
