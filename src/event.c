/* Event type names: the topic strings of metricsd-wire(5). */
#include <string.h>

#include "event.h"
#include "siphash.h"

#define NAME(s) { s, sizeof(s) - 1 }

static const struct {
	const char *s;
	size_t len;
} names[EVENT_TYPE_COUNT] = {
	[EVENT_SESSION_STARTED] = NAME("session.started"),
	[EVENT_SESSION_ENDED] = NAME("session.ended"),
	[EVENT_SESSION_STOP_LOADGEN] = NAME("session.stop_loadgen"),
	[EVENT_SESSION_START_TRACKING] =
	    NAME("session.start_performance_tracking"),
	[EVENT_SESSION_STOP_TRACKING] =
	    NAME("session.stop_performance_tracking"),
	[EVENT_ERROR_GENERIC] = NAME("error.generic"),
	[EVENT_ERROR_LOADGEN] = NAME("error.loadgen"),
	[EVENT_ERROR_SESSION] = NAME("error.session"),
	[EVENT_ERROR_CLIENT] = NAME("error.client"),
	[EVENT_SAMPLE_ISSUED] = NAME("sample.issued"),
	[EVENT_SAMPLE_COMPLETE] = NAME("sample.complete"),
	[EVENT_SAMPLE_RECV_FIRST] = NAME("sample.recv_first"),
	[EVENT_SAMPLE_RECV_NON_FIRST] = NAME("sample.recv_non_first"),
};

const char *
event_type_name(enum event_type t)
{
	if ((int)t <= EVENT_UNKNOWN || t >= EVENT_TYPE_COUNT)
		return NULL;
	return names[t].s;
}

/* a[0..n) == b[0..n) for n >= 8, in 8-byte words (the last one may
 * overlap the one before): every event's type is compared here, and a
 * call to memcmp costs more than the comparison. */
static inline bool
eq8(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	size_t i;

	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

enum event_type
event_type_parse(const char *s, size_t len)
{
	/* 13 names: a linear scan, comparing lengths first, is plenty. From
	 * the end: the sample.* types, most of every stream, are last. Every
	 * name has 8 bytes or more (eq8). */
	for (int t = EVENT_TYPE_COUNT - 1; t > EVENT_UNKNOWN; t--) {
		if (names[t].len == len && eq8(names[t].s, s, len))
			return (enum event_type)t;
	}
	return EVENT_UNKNOWN;
}

/* Fold len bytes at p into the digest h. */
static uint64_t
mix(uint64_t h, const void *p, size_t len)
{
	return siphash13(h, len, p, len);
}

static uint64_t
mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof(v));
}

static uint64_t
mix_str(uint64_t h, const struct event_str *s)
{
	return mix(mix_u64(h, s->len), s->ptr, s->len);
}

static uint64_t
mix_text(uint64_t h, const struct event_text *t)
{
	h = mix_u64(mix_u64(h, t->form), t->form ? t->n : 0);
	for (size_t i = 0; t->form && i < t->n; i++)
		h = mix_str(h, &t->items[i]);
	return h;
}

static uint64_t
mix_data(uint64_t h, const struct event *ev)
{
	h = mix_u64(h, ev->data_tag);
	switch (ev->data_tag) {
	case EVENT_DATA_PROMPT:
		h = mix_u64(h, ev->data.prompt.has_text);
		if (ev->data.prompt.has_text)
			h = mix_str(h, &ev->data.prompt.text);
		h = mix_u64(h, ev->data.prompt.has_token_ids);
		if (!ev->data.prompt.has_token_ids)
			return h;
		h = mix_u64(h, ev->data.prompt.n_token_ids);
		h = mix_u64(h, ev->data.prompt.token_ids != NULL);
		if (ev->data.prompt.token_ids != NULL)
			h = mix(h, ev->data.prompt.token_ids,
			    ev->data.prompt.n_token_ids * sizeof(int64_t));
		return h;
	case EVENT_DATA_TEXT_OUTPUT:
		h = mix_text(h, &ev->data.output.output);
		return mix_text(h, &ev->data.output.reasoning);
	case EVENT_DATA_ERROR:
		h = mix_str(h, &ev->data.error.error_type);
		return mix_str(h, &ev->data.error.error_message);
	case EVENT_DATA_NONE:
		break;
	}
	return h;
}

uint64_t
event_digest(const struct event *ev)
{
	uint64_t h = 0x6576656e74ull;	/* "event" */

	h = mix_u64(h, ev->type);
	h = mix_str(h, &ev->type_name);
	h = mix_u64(h, ev->has_timestamp);
	h = mix_u64(h, ev->has_timestamp ? (uint64_t)ev->timestamp_ns : 0);
	h = mix_str(h, &ev->sample_uuid);
	h = mix_str(h, &ev->conversation_id);
	h = mix_u64(h, ev->has_turn);
	h = mix_u64(h, ev->has_turn ? (uint64_t)ev->turn : 0);
	h = mix_u64(h, ev->has_finish_reason);
	if (ev->has_finish_reason)
		h = mix_str(h, &ev->finish_reason);
	h = mix_u64(h, ev->has_worker_id);
	h = mix_u64(h, ev->has_worker_id ? (uint64_t)ev->worker_id : 0);
	return mix_data(h, ev);
}
