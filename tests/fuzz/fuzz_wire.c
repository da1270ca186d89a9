/*
 * libFuzzer harness for the frame decoder and the metric engine.
 *
 * Input: one flag byte (bit 0: --streaming, bit 1: whitespace tokenizer),
 * then frames separated by the 6 bytes "FRAME|". Every frame goes through
 * aggregator_wire_feed with a sink that stores nothing. Each event the
 * decoder accepts is also re-encoded and decoded again, and must come
 * back the same: the encoder and decoder agree on every valid record.
 * Every frame is also decoded with the decoder's fast path turned off
 * (wire_record.h), and must give the same events, counts and message.
 *
 * Build and run: make fuzz FUZZ_SECONDS=600
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "aggregator_wire.h"
#include "tokenizer.h"
#include "wire.h"
#include "wire_record.h"

#define SEP "FRAME|"
#define SEPLEN 6

static void
null_counter(void *arg, enum metric_key k, union store_value v)
{
	(void)arg;
	(void)k;
	(void)v;
}

static int
null_append(void *arg, enum metric_key k, union store_value v)
{
	(void)arg;
	(void)k;
	(void)v;
	return 0;
}

/* ---- Fast path against general path ---- */

#define MAXEV 64

struct seen {
	uint64_t digest[MAXEV];
	size_t n;
};

static struct seen fast_seen, general_seen;

static void
see(struct seen *s, const struct event *ev)
{
	if (s->n < MAXEV)
		s->digest[s->n] = event_digest(ev);
	s->n++;
}

static int
on_general(void *arg, const struct event *ev)
{
	(void)arg;
	see(&general_seen, ev);
	return 0;
}

static void
same_stats(const struct wire_frame_stats *a, const struct wire_frame_stats *b)
{
	if (a->records != b->records || a->events != b->events ||
	    a->nerrors != b->nerrors ||
	    memcmp(a->errors, b->errors, sizeof(a->errors)) != 0 ||
	    strcmp(a->err, b->err) != 0 || fast_seen.n != general_seen.n ||
	    memcmp(fast_seen.digest, general_seen.digest,
	    (fast_seen.n < MAXEV ? fast_seen.n : MAXEV) * sizeof(uint64_t)))
		abort();	/* the two paths disagree */
}

/* ---- Round trip check ---- */

struct rt {
	struct wire_decoder *again;	/* decodes the re-encoded frame */
	struct wire_buf buf;
	const struct event *orig;
	int seen;
};

static struct rt rt;

static bool
str_eq(struct event_str a, struct event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool
text_eq(const struct event_text *a, const struct event_text *b)
{
	if (a->form != b->form || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (!str_eq(a->items[i], b->items[i]))
			return false;
	}
	return true;
}

static bool
event_eq(const struct event *a, const struct event *b)
{
	if (a->type != b->type || a->timestamp_ns != b->timestamp_ns ||
	    a->has_timestamp != b->has_timestamp ||
	    !str_eq(a->sample_uuid, b->sample_uuid) ||
	    !str_eq(a->conversation_id, b->conversation_id) ||
	    a->has_turn != b->has_turn || (a->has_turn && a->turn != b->turn) ||
	    a->has_finish_reason != b->has_finish_reason ||
	    (a->has_finish_reason && !str_eq(a->finish_reason,
	    b->finish_reason)) ||
	    a->has_worker_id != b->has_worker_id ||
	    (a->has_worker_id && a->worker_id != b->worker_id) ||
	    a->data_tag != b->data_tag)
		return false;
	switch (a->data_tag) {
	case EVENT_DATA_NONE:
		return true;
	case EVENT_DATA_PROMPT:
		if (a->data.prompt.has_text != b->data.prompt.has_text ||
		    (a->data.prompt.has_text && !str_eq(a->data.prompt.text,
		    b->data.prompt.text)) ||
		    a->data.prompt.has_token_ids != b->data.prompt.has_token_ids ||
		    a->data.prompt.n_token_ids != b->data.prompt.n_token_ids)
			return false;
		return a->data.prompt.n_token_ids == 0 ||
		    memcmp(a->data.prompt.token_ids, b->data.prompt.token_ids,
		    a->data.prompt.n_token_ids * sizeof(int64_t)) == 0;
	case EVENT_DATA_TEXT_OUTPUT:
		return text_eq(&a->data.output.output, &b->data.output.output) &&
		    text_eq(&a->data.output.reasoning,
		    &b->data.output.reasoning);
	case EVENT_DATA_ERROR:
		return str_eq(a->data.error.error_type,
		    b->data.error.error_type) &&
		    str_eq(a->data.error.error_message,
		    b->data.error.error_message);
	}
	return false;
}

static int
on_again(void *arg, const struct event *ev)
{
	(void)arg;
	rt.seen++;
	if (!event_eq(rt.orig, ev))
		abort();	/* encoder and decoder disagree */
	return 0;
}

/*
 * Re-encode one decoded event and decode it again. Scratch arrays of the
 * first decoder (token ids, chunk lists) stay valid: the second decoder
 * has its own.
 */
static int
on_first(void *arg, const struct event *ev)
{
	struct wire_frame_stats st;
	char err[128];

	(void)arg;
	see(&fast_seen, ev);
	if (wire_frame_encode(ev, &rt.buf, err, sizeof(err)) < 0)
		abort();	/* every decoded event must be encodable */
	rt.orig = ev;
	rt.seen = 0;
	wire_frame_decode(rt.again, rt.buf.data, rt.buf.len, &st);
	if (rt.seen != 1 || st.nerrors != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_decoder *first, *general;
	struct aggregator_sink sink = { NULL, null_counter, null_append };
	struct aggregator_config cfg = { 0 };
	struct tokenizer *tok = NULL;
	struct aggregator *a;
	struct aggregator_wire w;
	char err[256];

	if (first == NULL) {
		if (wire_decoder_new(&first, on_first, NULL, err,
		    sizeof(err)) < 0 ||
		    wire_decoder_new(&rt.again, on_again, NULL, err,
		    sizeof(err)) < 0 ||
		    wire_decoder_new(&general, on_general, NULL, err,
		    sizeof(err)) < 0)
			abort();
		wire_decoder_set_fast(general, false);
	}
	if (size < 1)
		return 0;
	cfg.streaming = data[0] & 1;
	if (data[0] & 2) {
		if (tokenizer_open(&tok, "whitespace", err, sizeof(err)) < 0)
			abort();
		cfg.tok = tok;
	}
	cfg.max_in_flight = 1000;
	if (aggregator_new(&a, &cfg, &sink, err, sizeof(err)) < 0 ||
	    aggregator_wire_init(&w, a, err, sizeof(err)) < 0)
		abort();

	const uint8_t *p = data + 1, *end = data + size;
	while (p <= end) {
		const uint8_t *q = memmem(p, (size_t)(end - p), SEP, SEPLEN);
		size_t len = (size_t)((q ? q : end) - p);
		/* A private copy, so ASan catches reads past the frame. */
		uint8_t *frame = malloc(len ? len : 1);
		struct wire_frame_stats st, gst;

		memcpy(frame, p, len);
		fast_seen.n = general_seen.n = 0;
		wire_frame_decode(first, frame, len, &st);
		wire_frame_decode(general, frame, len, &gst);
		same_stats(&st, &gst);
		if (st.events > st.records ||
		    st.nerrors > st.records + 1)
			abort();
		aggregator_wire_feed(&w, frame, len, &st);
		free(frame);
		if (q == NULL)
			break;
		p = q + SEPLEN;
	}
	if (aggregator_in_flight(a) > 1000)
		abort();
	aggregator_finish(a);
	aggregator_wire_free(&w);
	aggregator_free(a);
	tokenizer_close(tok);
	return 0;
}
