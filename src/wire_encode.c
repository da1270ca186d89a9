/*
 * The event encoder and batch builder (see wire.h): what the publisher
 * sends.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "wire.h"

void
wire_buf_free(struct wire_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int
buf_reserve(struct wire_buf *b, size_t more)
{
	size_t need, cap;
	unsigned char *p;

	if (more > SIZE_MAX - b->len)
		return -ENOMEM;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* msgpack_packer write callback. */
static int
buf_write(void *data, const char *buf, size_t len)
{
	struct wire_buf *b = data;

	if (buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

static int
pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	if (len > UINT32_MAX)
		return -1;
	if (msgpack_pack_str(pk, len) < 0)
		return -1;
	return msgpack_pack_str_body(pk, s, len);
}
#define PACK_LIT(pk, lit) pack_str((pk), (lit), sizeof(lit) - 1)

static int
pack_text(msgpack_packer *pk, const struct event_text *t, bool nil_default)
{
	if (t->form == EVENT_TEXT_ABSENT)
		return nil_default ? msgpack_pack_nil(pk) : pack_str(pk, "", 0);
	if (t->form == EVENT_TEXT_STRING)
		return t->n ? pack_str(pk, t->items[0].ptr, t->items[0].len) :
		    pack_str(pk, "", 0);
	if (t->n > UINT32_MAX || msgpack_pack_array(pk, t->n) < 0)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (pack_str(pk, t->items[i].ptr, t->items[i].len) < 0)
			return -1;
	}
	return 0;
}

static int
pack_data(msgpack_packer *pk, const struct event *ev)
{
	switch (ev->data_tag) {
	case EVENT_DATA_NONE:
		return msgpack_pack_nil(pk);
	case EVENT_DATA_PROMPT:
		if (msgpack_pack_array(pk, 3) < 0 ||
		    PACK_LIT(pk, "PromptData") < 0)
			return -1;
		if ((ev->data.prompt.has_text ? pack_str(pk,
		    ev->data.prompt.text.ptr, ev->data.prompt.text.len) :
		    msgpack_pack_nil(pk)) < 0)
			return -1;
		if (!ev->data.prompt.has_token_ids)
			return msgpack_pack_nil(pk);
		if (ev->data.prompt.n_token_ids > UINT32_MAX ||
		    msgpack_pack_array(pk, ev->data.prompt.n_token_ids) < 0)
			return -1;
		for (size_t i = 0; i < ev->data.prompt.n_token_ids; i++) {
			if (msgpack_pack_int64(pk,
			    ev->data.prompt.token_ids[i]) < 0)
				return -1;
		}
		return 0;
	case EVENT_DATA_TEXT_OUTPUT:
		if (msgpack_pack_array(pk, 3) < 0 ||
		    PACK_LIT(pk, "TextModelOutput") < 0 ||
		    pack_text(pk, &ev->data.output.output, false) < 0)
			return -1;
		return pack_text(pk, &ev->data.output.reasoning, true);
	case EVENT_DATA_ERROR:
		if (msgpack_pack_array(pk, 3) < 0 ||
		    PACK_LIT(pk, "ErrorData") < 0 ||
		    pack_str(pk, ev->data.error.error_type.ptr,
		    ev->data.error.error_type.len) < 0)
			return -1;
		return pack_str(pk, ev->data.error.error_message.ptr,
		    ev->data.error.error_message.len);
	}
	return -1;
}

/* The type string to write for ev, or NULL. */
static bool
type_string(const struct event *ev, struct event_str *s)
{
	if (ev->type_name.len > 0) {
		*s = ev->type_name;
		return true;
	}
	s->ptr = event_type_name(ev->type);
	s->len = s->ptr ? strlen(s->ptr) : 0;
	return s->ptr != NULL;
}

int
wire_record_encode(const struct event *ev, struct wire_buf *b, char *err,
    size_t errlen)
{
	msgpack_packer pk;
	struct event_str type;
	size_t start = b->len;
	size_t nkeys = 3;
	bool conv = ev->conversation_id.len > 0;

	if (!type_string(ev, &type)) {
		snprintf(err, errlen, "encode event: no event type");
		return -EINVAL;
	}
	nkeys += ev->has_timestamp + conv + ev->has_turn +
	    ev->has_finish_reason + ev->has_worker_id;
	msgpack_packer_init(&pk, b, buf_write);
	if (msgpack_pack_map(&pk, nkeys) < 0 ||
	    PACK_LIT(&pk, "event_type") < 0 ||
	    pack_str(&pk, type.ptr, type.len) < 0)
		goto nomem;
	if (ev->has_timestamp && (PACK_LIT(&pk, "timestamp_ns") < 0 ||
	    msgpack_pack_int64(&pk, ev->timestamp_ns) < 0))
		goto nomem;
	if (PACK_LIT(&pk, "sample_uuid") < 0 ||
	    pack_str(&pk, ev->sample_uuid.len ? ev->sample_uuid.ptr : "",
	    ev->sample_uuid.len) < 0)
		goto nomem;
	if (conv && (PACK_LIT(&pk, "conversation_id") < 0 ||
	    pack_str(&pk, ev->conversation_id.ptr, ev->conversation_id.len) < 0))
		goto nomem;
	if (ev->has_turn && (PACK_LIT(&pk, "turn") < 0 ||
	    msgpack_pack_int64(&pk, ev->turn) < 0))
		goto nomem;
	if (PACK_LIT(&pk, "data") < 0 || pack_data(&pk, ev) < 0)
		goto nomem;
	if (ev->has_finish_reason && (PACK_LIT(&pk, "finish_reason") < 0 ||
	    pack_str(&pk, ev->finish_reason.ptr, ev->finish_reason.len) < 0))
		goto nomem;
	if (ev->has_worker_id && (PACK_LIT(&pk, "worker_id") < 0 ||
	    msgpack_pack_int64(&pk, ev->worker_id) < 0))
		goto nomem;
	return 0;

nomem:
	b->len = start;
	snprintf(err, errlen, "encode event: out of memory");
	return -ENOMEM;
}

int
wire_frame_encode(const struct event *ev, struct wire_buf *b, char *err,
    size_t errlen)
{
	struct event_str type;

	b->len = 0;
	if (!type_string(ev, &type)) {
		snprintf(err, errlen, "encode event: no event type");
		return -EINVAL;
	}
	if (type.len > WIRE_TOPIC_LEN) {
		snprintf(err, errlen,
		    "encode event: event type of %zu bytes exceeds the %d-byte topic",
		    type.len, WIRE_TOPIC_LEN);
		return -EINVAL;
	}
	if (buf_reserve(b, WIRE_TOPIC_LEN) < 0) {
		snprintf(err, errlen, "encode event: out of memory");
		return -ENOMEM;
	}
	memset(b->data, 0, WIRE_TOPIC_LEN);
	memcpy(b->data, type.ptr, type.len);
	b->len = WIRE_TOPIC_LEN;
	return wire_record_encode(ev, b, err, errlen);
}

/* Head room before the bins: topic plus the largest array header. */
#define BATCH_HEAD (WIRE_TOPIC_LEN + 5)

void
wire_batch_reset(struct wire_batch *b)
{
	b->frame.len = 0;
	b->rec.len = 0;
	b->n = 0;
}

int
wire_batch_add(struct wire_batch *b, const struct event *ev, char *err,
    size_t errlen)
{
	msgpack_packer pk;
	int rc;

	if (b->frame.len == 0) {
		if (buf_reserve(&b->frame, BATCH_HEAD) < 0)
			goto nomem;
		b->frame.len = BATCH_HEAD;
	}
	b->rec.len = 0;
	rc = wire_record_encode(ev, &b->rec, err, errlen);
	if (rc < 0)
		return rc;
	if (b->n >= UINT32_MAX || b->rec.len > UINT32_MAX)
		goto nomem;
	msgpack_packer_init(&pk, &b->frame, buf_write);
	size_t before = b->frame.len;
	if (msgpack_pack_bin(&pk, b->rec.len) < 0 ||
	    msgpack_pack_bin_body(&pk, b->rec.data, b->rec.len) < 0) {
		b->frame.len = before;
		goto nomem;
	}
	b->n++;
	return 0;

nomem:
	snprintf(err, errlen, "encode batch: out of memory");
	return -ENOMEM;
}

void
wire_batch_finish(struct wire_batch *b, const void **frame, size_t *len)
{
	unsigned char hdr[5];
	size_t h, start;

	if (b->frame.len == 0) {
		/* Nothing added: make room for an empty batch. */
		if (buf_reserve(&b->frame, BATCH_HEAD) < 0) {
			*frame = NULL;
			*len = 0;
			return;
		}
		b->frame.len = BATCH_HEAD;
	}
	/* The smallest array header, as msgspec writes it. */
	if (b->n <= 15) {
		hdr[0] = 0x90 | (unsigned char)b->n;
		h = 1;
	} else if (b->n <= 0xffff) {
		hdr[0] = 0xdc;
		hdr[1] = (unsigned char)(b->n >> 8);
		hdr[2] = (unsigned char)b->n;
		h = 3;
	} else {
		hdr[0] = 0xdd;
		for (int i = 0; i < 4; i++)
			hdr[1 + i] = (unsigned char)(b->n >> (24 - 8 * i));
		h = 5;
	}
	start = BATCH_HEAD - h - WIRE_TOPIC_LEN;
	memset(b->frame.data + start, 0, WIRE_TOPIC_LEN);
	memcpy(b->frame.data + start, WIRE_BATCH_TOPIC,
	    sizeof(WIRE_BATCH_TOPIC) - 1);
	memcpy(b->frame.data + start + WIRE_TOPIC_LEN, hdr, h);
	*frame = b->frame.data + start;
	*len = b->frame.len - start;
}

void
wire_batch_free(struct wire_batch *b)
{
	wire_buf_free(&b->frame);
	wire_buf_free(&b->rec);
	b->n = 0;
}
