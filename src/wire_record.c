/*
 * The direct EventRecord reader (see wire_record.h). Every read checks
 * its bounds; anything unexpected returns false (declined).
 */
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_record.h"
#include "wire_walk.h"

const struct event_str wire_empty_str = { "", 0 };

bool
wire_scratch_reserve(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (n <= *cap)
		return true;
	while (c < n)
		c *= 2;
	p = realloc(*arr, c * size);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = c;
	return true;
}

/* A cursor over one record's bytes. */
struct rd {
	const unsigned char *p;
	size_t len, off;
};

/* n bytes of big-endian length after the lead byte, if present. */
static inline bool
len_field(struct rd *r, int n, uint64_t *v)
{
	if (r->len - r->off < 1 + (size_t)n)
		return false;
	*v = wire_be(r->p + r->off + 1, n);
	r->off += 1 + (size_t)n;
	return true;
}

static inline bool
rd_nil(struct rd *r)
{
	if (r->off < r->len && r->p[r->off] == 0xc0) {
		r->off++;
		return true;
	}
	return false;
}

static inline bool
rd_str(struct rd *r, struct event_str *s)
{
	uint64_t n;
	unsigned b;

	if (r->off >= r->len)
		return false;
	b = r->p[r->off];
	if (b >= 0xa0 && b <= 0xbf) {
		n = b & 0x1f;
		r->off++;
	} else if (b < 0xd9 || b > 0xdb || !len_field(r, 1 << (b - 0xd9), &n)) {
		return false;
	}
	if (n > r->len - r->off)
		return false;
	s->ptr = (const char *)r->p + r->off;
	s->len = (size_t)n;
	r->off += (size_t)n;
	return true;
}

/* An integer that fits int64, as get_int takes it. */
static inline bool
rd_int(struct rd *r, int64_t *v)
{
	uint64_t u;
	unsigned b;

	if (r->off >= r->len)
		return false;
	b = r->p[r->off];
	if (b <= 0x7f || b >= 0xe0) {
		*v = (int8_t)b;
		r->off++;
		return true;
	}
	if (b < 0xcc || b > 0xd3 || !len_field(r, 1 << (b & 3), &u))
		return false;
	if (b <= 0xcf) {		/* unsigned */
		if (u > INT64_MAX)
			return false;
		*v = (int64_t)u;
	} else switch (b) {		/* signed: sign-extend */
	case 0xd0: *v = (int8_t)u; break;
	case 0xd1: *v = (int16_t)u; break;
	case 0xd2: *v = (int32_t)u; break;
	default: *v = (int64_t)u; break;
	}
	return true;
}

/* An array or map header; n counts entries (a map's pairs). Each entry
 * takes at least one byte, so n beyond the bytes left is declined. */
static inline bool
rd_container(struct rd *r, bool map, uint32_t *n)
{
	unsigned b, fix = map ? 0x80 : 0x90, x16 = map ? 0xde : 0xdc;
	uint64_t v;

	if (r->off >= r->len)
		return false;
	b = r->p[r->off];
	if ((b & 0xf0) == fix) {
		v = b & 0x0f;
		r->off++;
	} else if ((b != x16 && b != x16 + 1) ||
	    !len_field(r, b == x16 ? 2 : 4, &v)) {
		return false;
	}
	if (v > r->len - r->off)
		return false;
	*n = (uint32_t)v;
	return true;
}

static inline bool
rd_skip_scalar(struct rd *r)
{
	size_t n = wire_walk_scalar(r->p + r->off, r->len - r->off);

	r->off += n;
	return n > 0;
}

static inline bool
is(const struct event_str *s, const char *lit, size_t n)
{
	return s->len == n && memcmp(s->ptr, lit, n) == 0;
}
#define IS(s, lit) is((s), (lit), sizeof(lit) - 1)

/* str, array of str, or (nil_ok) nil, as get_text. */
static bool
rd_text(struct rd *r, bool nil_ok, struct event_str **arr, size_t *cap,
    struct event_text *t)
{
	uint32_t n;

	if (nil_ok && rd_nil(r)) {
		t->form = EVENT_TEXT_ABSENT;
		t->n = 0;
		t->items = NULL;
		return true;
	}
	if (r->off < r->len && (r->p[r->off] & 0xf0) != 0x90 &&
	    r->p[r->off] != 0xdc && r->p[r->off] != 0xdd) {
		if (!wire_scratch_reserve((void **)arr, cap, 1, sizeof(**arr)) ||
		    !rd_str(r, &(*arr)[0]))
			return false;
		t->form = EVENT_TEXT_STRING;
		t->n = 1;
		t->items = *arr;
		return true;
	}
	if (!rd_container(r, false, &n) || n > WIRE_CHUNKS_MAX ||
	    !wire_scratch_reserve((void **)arr, cap, n, sizeof(**arr)))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!rd_str(r, &(*arr)[i]))
			return false;
	t->form = EVENT_TEXT_LIST;
	t->n = n;
	t->items = *arr;
	return true;
}

/* PromptData.token_ids (not nil): counted, or copied as get_data does. */
static bool
rd_ids(struct rd *r, struct wire_scratch *s, bool want_ids, struct event *ev)
{
	uint32_t m;

	if (!rd_container(r, false, &m) || m > WIRE_TOKEN_IDS_MAX)
		return false;
	ev->data.prompt.has_token_ids = true;
	ev->data.prompt.n_token_ids = m;
	if (!want_ids && m >= WIRE_ELIDE_MIN) {
		/* Not &r->off: see wire_record_fast. */
		size_t off = r->off;
		bool ok = wire_int_run(r->p, r->len, &off, m) == m;

		r->off = off;
		return ok;
	}
	if (!wire_scratch_reserve((void **)&s->ids, &s->ids_cap, m,
	    sizeof(*s->ids)))
		return false;
	for (uint32_t i = 0; i < m; i++)
		if (!rd_int(r, &s->ids[i]))
			return false;
	ev->data.prompt.token_ids = s->ids;
	return true;
}

/* The fields of data after its tag; n is the array's size. */
static bool
rd_fields(struct rd *r, struct wire_scratch *s, bool want_ids,
    const struct event_str *tag, uint32_t n, struct event *ev)
{
	uint32_t used = 1;

	if (IS(tag, "PromptData")) {
		ev->data_tag = EVENT_DATA_PROMPT;
		memset(&ev->data.prompt, 0, sizeof(ev->data.prompt));
		if (n > 1 && !rd_nil(r)) {
			if (!rd_str(r, &ev->data.prompt.text))
				return false;
			ev->data.prompt.has_text = true;
		}
		if (n > 2 && !rd_nil(r) && !rd_ids(r, s, want_ids, ev))
			return false;
		used = 3;
	} else if (IS(tag, "TextModelOutput")) {
		struct event_text *o = &ev->data.output.output;
		struct event_text *rs = &ev->data.output.reasoning;
		struct rd t = *r;	/* not r itself: see wire_record_fast */

		ev->data_tag = EVENT_DATA_TEXT_OUTPUT;
		*o = (struct event_text){ EVENT_TEXT_STRING, 1, &wire_empty_str };
		*rs = (struct event_text){ EVENT_TEXT_ABSENT, 0, NULL };
		if (n > 1 && !rd_text(&t, false, &s->out, &s->out_cap, o))
			return false;
		if (n > 2 && !rd_text(&t, true, &s->rsn, &s->rsn_cap, rs))
			return false;
		r->off = t.off;
		used = 3;
	} else if (IS(tag, "ErrorData")) {
		ev->data_tag = EVENT_DATA_ERROR;
		ev->data.error.error_message = wire_empty_str;
		if (n < 2 || !rd_str(r, &ev->data.error.error_type))
			return false;
		if (n > 2 && !rd_str(r, &ev->data.error.error_message))
			return false;
		used = 3;
	} else {
		return false;
	}
	/* Fields past the known ones: ignored, if scalars. */
	for (uint32_t i = used; i < n; i++)
		if (!rd_skip_scalar(r))
			return false;
	return true;
}

static bool
rd_data(struct rd *r, struct wire_scratch *s, bool want_ids, struct event *ev)
{
	struct event_str tag;
	uint32_t n;

	if (rd_nil(r)) {
		ev->data_tag = EVENT_DATA_NONE;
		return true;
	}
	if (!rd_container(r, false, &n) || n == 0 || !rd_str(r, &tag))
		return false;
	return rd_fields(r, s, want_ids, &tag, n, ev);
}

/* An optional (nil: absent) int or str field, as record_decode. */
static inline bool
opt_int(struct rd *r, bool *has, int64_t *v)
{
	*has = !rd_nil(r);
	return !*has || rd_int(r, v);
}

static inline bool
opt_str(struct rd *r, bool *has, struct event_str *v)
{
	*has = !rd_nil(r);
	return !*has || (rd_str(r, v) && v->len <= WIRE_UUID_MAX);
}

/* One key's value into ev; false to decline. Keys are told apart by
 * their length first: one comparison per key of ours. */
static bool
rd_field(struct rd *r, struct wire_scratch *s, bool want_ids,
    const struct event_str *k, struct event *ev, bool *has_type,
    bool *has_data)
{
	switch (k->len) {
	case 4:
		if (IS(k, "turn"))
			return opt_int(r, &ev->has_turn, &ev->turn);
		if (!IS(k, "data"))
			break;
		/* A second data: the general path's elision may differ. */
		if (*has_data)
			return false;
		*has_data = true;
		return rd_data(r, s, want_ids, ev);
	case 9:
		if (IS(k, "worker_id"))
			return opt_int(r, &ev->has_worker_id, &ev->worker_id);
		break;
	case 10:
		if (IS(k, "event_type"))
			return (*has_type = rd_str(r, &ev->type_name));
		break;
	case 11:
		if (IS(k, "sample_uuid"))
			return rd_str(r, &ev->sample_uuid) &&
			    ev->sample_uuid.len <= WIRE_UUID_MAX;
		break;
	case 12:
		if (IS(k, "timestamp_ns"))
			return (ev->has_timestamp = rd_int(r,
			    &ev->timestamp_ns));
		break;
	case 13:
		if (IS(k, "finish_reason"))
			return opt_str(r, &ev->has_finish_reason,
			    &ev->finish_reason);
		break;
	case 15:
		if (IS(k, "conversation_id"))
			return rd_str(r, &ev->conversation_id) &&
			    ev->conversation_id.len <= WIRE_UUID_MAX;
		break;
	}
	return rd_skip_scalar(r);	/* not one of ours */
}

/*
 * memset(ev, 0, sizeof(*ev)) in pieces of at most 64 bytes, which the
 * compiler writes as a few vector stores: a memset of the whole is a rep
 * stos, slow to start, for every record.
 */
_Static_assert(sizeof(struct event) > 128 && sizeof(struct event) <= 192,
    "event_zero: three pieces");

static inline void
event_zero(struct event *ev)
{
	unsigned char *b = (unsigned char *)ev;

	memset(b, 0, 64);
	memset(b + 64, 0, 64);
	memset(b + 128, 0, sizeof(*ev) - 128);
}

/*
 * The cursor r lives in registers only while its address goes to no
 * function that is not inlined here: rd_text and wire_int_run get a copy
 * of it, written back after. (With its address taken, every read of a
 * byte reloaded and stored it.)
 */
bool
wire_record_fast(struct wire_scratch *s, bool want_ids, const void *p,
    size_t len, struct event *ev)
{
	struct rd r = { p, len, 0 };
	bool has_type = false, has_data = false;
	uint32_t n;

	event_zero(ev);
	ev->sample_uuid.ptr = "";
	ev->conversation_id.ptr = "";
	if (!rd_container(&r, true, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct event_str k;

		if (!rd_str(&r, &k) || !rd_field(&r, s, want_ids, &k, ev,
		    &has_type, &has_data))
			return false;
	}
	if (r.off != len || !has_type)
		return false;
	ev->type = event_type_parse(ev->type_name.ptr, ev->type_name.len);
	return ev->type != EVENT_UNKNOWN;
}
