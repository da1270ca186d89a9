/*
 * The event decoder (see wire.h): frames into struct event, through the
 * bounds walk (wire_walk.c) and msgpack-c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "wire.h"
#include "wire_record.h"
#include "wire_walk.h"

/*
 * Zone chunk size. msgpack_zone_clear keeps one chunk of this size between
 * frames, so records of up to ~2700 objects (24 bytes each) never malloc.
 */
#define ZONE_CHUNK (64 * 1024)


struct wire_decoder {
	wire_event_fn fn;
	void *arg;
	msgpack_zone frame_zone;	/* the frame's top-level object */
	msgpack_zone rec_zone;		/* one batch record at a time */
	struct wire_scratch s;		/* what events point into */
	bool want_ids;			/* materialise token ids */
	bool fast;			/* try wire_record_fast first */
	/* The record being decoded: where its int arrays went. */
	msgpack_zone *zone;		/* the record's zone */
	const char *src;		/* the record as received */
	const char *copy;		/* what msgpack-c saw, or src */
	struct wire_elided el[WIRE_ELIDE_MAX];
	unsigned nel;
	char *buf;			/* the copy with placeholders */
	size_t buf_cap;
};

static const char *const error_names[WIRE_ERR_COUNT] = {
	[WIRE_ERR_MALFORMED] = "malformed",
	[WIRE_ERR_BAD_RECORD] = "bad_record",
	[WIRE_ERR_UNKNOWN_TYPE] = "unknown_type",
	[WIRE_ERR_FIELD_TYPE] = "field_type",
	[WIRE_ERR_ABSURD_SIZE] = "absurd_size",
};

const char *
wire_error_name(enum wire_error e)
{
	if ((unsigned)e >= WIRE_ERR_COUNT)
		return "unknown";
	return error_names[e];
}

/* ---- Building events from msgpack objects ---- */

struct rec_err {
	enum wire_error why;
	char msg[200];
};

static bool __attribute__((format(printf, 3, 4)))
fail(struct rec_err *e, enum wire_error why, const char *fmt, ...)
{
	va_list ap;

	e->why = why;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return false;
}

static const char *
type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "str";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_BIN: return "bin";
	case MSGPACK_OBJECT_EXT: return "ext";
	}
	return "?";
}

/* Copy at most 48 bytes of untrusted text into a log-safe string. */
static const char *
printable(char *buf, size_t size, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 4 < size && i < 48; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (len > 48 && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool
get_int(const msgpack_object *o, const char *what, int64_t *v,
    struct rec_err *e)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return fail(e, WIRE_ERR_FIELD_TYPE,
			    "%s: %llu does not fit int64", what,
			    (unsigned long long)o->via.u64);
		*v = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return true;
	}
	return fail(e, WIRE_ERR_FIELD_TYPE, "%s: expected int, got %s", what,
	    type_name(o));
}

static bool
get_str(const msgpack_object *o, const char *what, size_t max,
    struct event_str *s, struct rec_err *e)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return fail(e, WIRE_ERR_FIELD_TYPE, "%s: expected str, got %s",
		    what, type_name(o));
	if (o->via.str.size > max)
		return fail(e, WIRE_ERR_ABSURD_SIZE, "%s: %u bytes (limit %zu)",
		    what, o->via.str.size, max);
	s->ptr = o->via.str.ptr;
	s->len = o->via.str.size;
	return true;
}

/* The index of the elided array o stands for, or -1 if o is not one. */
static int
placeholder(const struct wire_decoder *d, const msgpack_object *o)
{
	unsigned x;

	if (o->type != MSGPACK_OBJECT_EXT || d->nel == 0 ||
	    o->via.ext.size != 1)
		return -1;
	x = (unsigned char)o->via.ext.ptr[0];
	if (x >= d->nel || o->via.ext.ptr != d->copy + d->el[x].at + 2)
		return -1;
	return (int)x;
}

/*
 * o itself, or if it is a placeholder, the array it stands for, decoded
 * by msgpack-c into tmp and the record's zone. NULL if out of memory.
 */
static const msgpack_object *
real(struct wire_decoder *d, const msgpack_object *o, msgpack_object *tmp,
    struct rec_err *e)
{
	int x = placeholder(d, o);
	size_t off = 0;

	if (x < 0)
		return o;
	if (msgpack_unpack(d->src + d->el[x].off, d->el[x].len, &off,
	    d->zone, tmp) != MSGPACK_UNPACK_SUCCESS) {
		fail(e, WIRE_ERR_ABSURD_SIZE, "record: out of memory");
		return NULL;
	}
	return tmp;
}

/* A str, an array of str, or (when nil_ok) nil, into a text field. */
static bool
get_text(struct wire_decoder *d, const msgpack_object *o, const char *what,
    bool nil_ok, struct event_str **arr, size_t *cap, struct event_text *t,
    struct rec_err *e)
{
	msgpack_object tmp;

	if ((o = real(d, o, &tmp, e)) == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_NIL && nil_ok) {
		t->form = EVENT_TEXT_ABSENT;
		t->n = 0;
		t->items = NULL;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_STR) {
		if (!wire_scratch_reserve((void **)arr, cap, 1, sizeof(**arr)))
			return fail(e, WIRE_ERR_ABSURD_SIZE, "%s: out of memory",
			    what);
		(*arr)[0].ptr = o->via.str.ptr;
		(*arr)[0].len = o->via.str.size;
		t->form = EVENT_TEXT_STRING;
		t->n = 1;
		t->items = *arr;
		return true;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return fail(e, WIRE_ERR_FIELD_TYPE,
		    "%s: expected str or array of str%s, got %s", what,
		    nil_ok ? " or nil" : "", type_name(o));
	uint32_t n = o->via.array.size;
	if (n > WIRE_CHUNKS_MAX)
		return fail(e, WIRE_ERR_ABSURD_SIZE, "%s: %u chunks (limit %u)",
		    what, n, WIRE_CHUNKS_MAX);
	if (!wire_scratch_reserve((void **)arr, cap, n, sizeof(**arr)))
		return fail(e, WIRE_ERR_ABSURD_SIZE, "%s: out of memory", what);
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *c = &o->via.array.ptr[i];
		msgpack_object tmp;

		if (c->type != MSGPACK_OBJECT_STR) {
			if ((c = real(d, c, &tmp, e)) == NULL)
				return false;
			return fail(e, WIRE_ERR_FIELD_TYPE,
			    "%s[%u]: expected str, got %s", what, i,
			    type_name(c));
		}
		(*arr)[i].ptr = c->via.str.ptr;
		(*arr)[i].len = c->via.str.size;
	}
	t->form = EVENT_TEXT_LIST;
	t->n = n;
	t->items = *arr;
	return true;
}

static bool
tag_is(const msgpack_object *tag, const char *name)
{
	size_t n = strlen(name);

	return tag->via.str.size == n && memcmp(tag->via.str.ptr, name, n) == 0;
}

/* PromptData fields f[1..n): text, token_ids; both may be nil or absent. */
static bool
get_prompt(struct wire_decoder *d, const msgpack_object *f, uint32_t n,
    struct event *ev, struct rec_err *e)
{
	msgpack_object tmp1, tmp2;

	ev->data_tag = EVENT_DATA_PROMPT;
	memset(&ev->data.prompt, 0, sizeof(ev->data.prompt));
	if (n > 1 && f[1].type != MSGPACK_OBJECT_NIL) {
		const msgpack_object *t = real(d, &f[1], &tmp1, e);

		if (t == NULL || !get_str(t, "data.text", SIZE_MAX,
		    &ev->data.prompt.text, e))
			return false;
		ev->data.prompt.has_text = true;
	}
	if (n > 2 && f[2].type != MSGPACK_OBJECT_NIL) {
		int x = placeholder(d, &f[2]);
		const msgpack_object *ids;
		uint32_t m;

		if (x >= 0) {
			/* Elided: all ints, the count is known. */
			m = d->el[x].count;
			if (m > WIRE_TOKEN_IDS_MAX)
				return fail(e, WIRE_ERR_ABSURD_SIZE,
				    "data.token_ids: %u ids (limit %u)",
				    m, WIRE_TOKEN_IDS_MAX);
			ev->data.prompt.has_token_ids = true;
			ev->data.prompt.n_token_ids = m;
			if (!d->want_ids)
				return true;
		}
		if ((ids = real(d, &f[2], &tmp2, e)) == NULL)
			return false;
		if (ids->type != MSGPACK_OBJECT_ARRAY)
			return fail(e, WIRE_ERR_FIELD_TYPE,
			    "data.token_ids: expected array or nil, got %s",
			    type_name(ids));
		m = ids->via.array.size;
		if (m > WIRE_TOKEN_IDS_MAX)
			return fail(e, WIRE_ERR_ABSURD_SIZE,
			    "data.token_ids: %u ids (limit %u)", m,
			    WIRE_TOKEN_IDS_MAX);
		if (!wire_scratch_reserve((void **)&d->s.ids, &d->s.ids_cap, m,
		    sizeof(*d->s.ids)))
			return fail(e, WIRE_ERR_ABSURD_SIZE,
			    "data.token_ids: out of memory");
		for (uint32_t i = 0; i < m; i++) {
			if (!get_int(&ids->via.array.ptr[i],
			    "data.token_ids[]", &d->s.ids[i], e))
				return false;
		}
		ev->data.prompt.has_token_ids = true;
		ev->data.prompt.n_token_ids = m;
		ev->data.prompt.token_ids = d->s.ids;
	}
	return true;
}

/* data: nil or ["Tag", fields...]; short arrays take defaults. */
static bool
get_data(struct wire_decoder *d, const msgpack_object *o, struct event *ev,
    struct rec_err *e)
{
	msgpack_object tmp, tmp1, tmp2;

	if ((o = real(d, o, &tmp, e)) == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_NIL) {
		ev->data_tag = EVENT_DATA_NONE;
		return true;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return fail(e, WIRE_ERR_FIELD_TYPE,
		    "data: expected nil or array, got %s", type_name(o));
	uint32_t n = o->via.array.size;
	const msgpack_object *f = o->via.array.ptr;
	if (n == 0)
		return fail(e, WIRE_ERR_BAD_RECORD, "data: empty array, no tag");
	if (f[0].type != MSGPACK_OBJECT_STR)
		return fail(e, WIRE_ERR_FIELD_TYPE,
		    "data: tag: expected str, got %s", type_name(&f[0]));

	if (tag_is(&f[0], "PromptData"))
		return get_prompt(d, f, n, ev, e);
	if (tag_is(&f[0], "TextModelOutput")) {
		ev->data_tag = EVENT_DATA_TEXT_OUTPUT;
		ev->data.output.output.form = EVENT_TEXT_STRING;
		ev->data.output.output.n = 1;
		ev->data.output.output.items = &wire_empty_str;
		ev->data.output.reasoning.form = EVENT_TEXT_ABSENT;
		ev->data.output.reasoning.n = 0;
		ev->data.output.reasoning.items = NULL;
		if (n > 1 && !get_text(d, &f[1], "data.output", false, &d->s.out,
		    &d->s.out_cap, &ev->data.output.output, e))
			return false;
		if (n > 2 && !get_text(d, &f[2], "data.reasoning", true,
		    &d->s.rsn, &d->s.rsn_cap, &ev->data.output.reasoning, e))
			return false;
		return true;
	}
	if (tag_is(&f[0], "ErrorData")) {
		ev->data_tag = EVENT_DATA_ERROR;
		ev->data.error.error_message = wire_empty_str;
		if (n < 2)
			return fail(e, WIRE_ERR_BAD_RECORD,
			    "data: ErrorData without error_type");
		const msgpack_object *t = real(d, &f[1], &tmp1, e);
		if (t == NULL || !get_str(t, "data.error_type", SIZE_MAX,
		    &ev->data.error.error_type, e))
			return false;
		if (n > 2 && ((t = real(d, &f[2], &tmp2, e)) == NULL ||
		    !get_str(t, "data.error_message", SIZE_MAX,
		    &ev->data.error.error_message, e)))
			return false;
		return true;
	}
	char buf[64];
	return fail(e, WIRE_ERR_BAD_RECORD, "data: unknown tag \"%s\"",
	    printable(buf, sizeof(buf), f[0].via.str.ptr, f[0].via.str.size));
}

static bool
key_is(const msgpack_object *k, const char *name, size_t n)
{
	return k->via.str.size == n && memcmp(k->via.str.ptr, name, n) == 0;
}
#define KEY_IS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

/* One EventRecord map into ev. */
static bool
record_decode(struct wire_decoder *d, const msgpack_object *o,
    struct event *ev, struct rec_err *e)
{
	const msgpack_object *data = NULL;
	msgpack_object tmp;
	bool has_type = false;

	memset(ev, 0, sizeof(*ev));
	ev->sample_uuid.ptr = "";
	ev->conversation_id.ptr = "";
	if (o->type != MSGPACK_OBJECT_MAP)
		return fail(e, WIRE_ERR_BAD_RECORD,
		    "record: expected map, got %s", type_name(o));

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *raw = &o->via.map.ptr[i].val, *v = raw;

		if (k->type != MSGPACK_OBJECT_STR)
			continue;	/* not one of ours: ignored */
		/* An elided int array, as the type checks must see it. */
		if (v->type == MSGPACK_OBJECT_EXT &&
		    (v = real(d, v, &tmp, e)) == NULL)
			return false;
		if (KEY_IS(k, "event_type")) {
			if (!get_str(v, "event_type", SIZE_MAX, &ev->type_name,
			    e))
				return false;
			has_type = true;
		} else if (KEY_IS(k, "timestamp_ns")) {
			if (!get_int(v, "timestamp_ns", &ev->timestamp_ns, e))
				return false;
			ev->has_timestamp = true;
		} else if (KEY_IS(k, "sample_uuid")) {
			if (!get_str(v, "sample_uuid", WIRE_UUID_MAX,
			    &ev->sample_uuid, e))
				return false;
		} else if (KEY_IS(k, "conversation_id")) {
			if (!get_str(v, "conversation_id", WIRE_UUID_MAX,
			    &ev->conversation_id, e))
				return false;
		} else if (KEY_IS(k, "turn")) {
			ev->has_turn = v->type != MSGPACK_OBJECT_NIL;
			if (ev->has_turn && !get_int(v, "turn", &ev->turn, e))
				return false;
		} else if (KEY_IS(k, "data")) {
			data = raw;	/* decoded last: it may be the costly one */
		} else if (KEY_IS(k, "finish_reason")) {
			ev->has_finish_reason = v->type != MSGPACK_OBJECT_NIL;
			if (ev->has_finish_reason && !get_str(v,
			    "finish_reason", WIRE_UUID_MAX, &ev->finish_reason,
			    e))
				return false;
		} else if (KEY_IS(k, "worker_id")) {
			ev->has_worker_id = v->type != MSGPACK_OBJECT_NIL;
			if (ev->has_worker_id && !get_int(v, "worker_id",
			    &ev->worker_id, e))
				return false;
		}
	}
	if (!has_type)
		return fail(e, WIRE_ERR_BAD_RECORD, "record: no event_type");
	ev->type = event_type_parse(ev->type_name.ptr, ev->type_name.len);
	if (ev->type == EVENT_UNKNOWN) {
		char buf[64];
		return fail(e, WIRE_ERR_UNKNOWN_TYPE,
		    "unknown event type \"%s\"", printable(buf, sizeof(buf),
		    ev->type_name.ptr, ev->type_name.len));
	}
	if (data != NULL && !get_data(d, data, ev, e))
		return false;
	return true;
}

/* ---- Decoder ---- */

int
wire_decoder_new(struct wire_decoder **out, wire_event_fn fn, void *arg,
    char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct wire_decoder *d;

	pthread_once(&once, wire_walk_init);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto nomem;
	if (!msgpack_zone_init(&d->frame_zone, ZONE_CHUNK))
		goto nomem_d;
	if (!msgpack_zone_init(&d->rec_zone, ZONE_CHUNK))
		goto nomem_frame;
	d->fn = fn;
	d->arg = arg;
	d->want_ids = true;
	d->fast = true;
	*out = d;
	return 0;

nomem_frame:
	msgpack_zone_destroy(&d->frame_zone);
nomem_d:
	free(d);
nomem:
	snprintf(err, errlen, "wire decoder: out of memory");
	return -ENOMEM;
}

void
wire_decoder_free(struct wire_decoder *d)
{
	if (d == NULL)
		return;
	msgpack_zone_destroy(&d->frame_zone);
	msgpack_zone_destroy(&d->rec_zone);
	free(d->s.ids);
	free(d->s.out);
	free(d->s.rsn);
	free(d->buf);
	free(d);
}

void
wire_decoder_set_token_ids(struct wire_decoder *d, bool materialise)
{
	d->want_ids = materialise;
}

void
wire_decoder_set_fast(struct wire_decoder *d, bool on)
{
	d->fast = on;
}

static void __attribute__((format(printf, 3, 4)))
count(struct wire_frame_stats *st, enum wire_error why, const char *fmt, ...)
{
	st->errors[why]++;
	if (st->nerrors++ == 0) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(st->err, sizeof(st->err), fmt, ap);
		va_end(ap);
	}
}

/*
 * The record copy msgpack-c decodes: p[0..len) with each elided array
 * replaced by its placeholder. Returns NULL if out of memory.
 */
static const char *
elide_copy(struct wire_decoder *d, const char *p, size_t len)
{
	size_t from = 0, n = 0;

	/* Placeholders are shorter than the arrays: len bytes will do. */
	if (len > d->buf_cap) {
		size_t cap = d->buf_cap ? d->buf_cap : 1024;
		char *b;

		while (cap < len)
			cap *= 2;
		if ((b = realloc(d->buf, cap)) == NULL)
			return NULL;
		d->buf = b;
		d->buf_cap = cap;
	}
	for (unsigned i = 0; i < d->nel; i++) {
		struct wire_elided *x = &d->el[i];

		memcpy(d->buf + n, p + from, x->off - from);
		n += x->off - from;
		x->at = n;
		d->buf[n++] = (char)0xd4;	/* fixext1 */
		d->buf[n++] = 0;
		d->buf[n++] = (char)i;
		from = x->off + x->len;
	}
	memcpy(d->buf + n, p + from, len - from);
	return d->buf;
}

/*
 * Unpack the single object that must fill p[0..len) exactly into zone.
 * With elide, int arrays nested in it are elided (see WIRE_ELIDE_MIN) and d
 * remembers where they went. On failure, the class and message go to e.
 */
static bool
unpack_exact(struct wire_decoder *d, msgpack_zone *zone, bool elide,
    const char *p, size_t len, msgpack_object *o, struct rec_err *e)
{
	struct wire_elide el = { d->el, 0 };
	size_t used = 0, off = 0;
	const char *src = p;

	switch (wire_walk((const unsigned char *)p, len, &used,
	    elide ? &el : NULL)) {
	case WALK_OK:
		break;
	case WALK_DEEP:
		return fail(e, WIRE_ERR_ABSURD_SIZE,
		    "nested deeper than %d levels", WIRE_DEPTH_MAX);
	case WALK_HUGE:
		return fail(e, WIRE_ERR_MALFORMED,
		    "declared length exceeds the %zu bytes present", len);
	default:
		return fail(e, WIRE_ERR_MALFORMED,
		    "not valid MessagePack (truncated or reserved byte)");
	}
	if (used != len)
		return fail(e, WIRE_ERR_MALFORMED,
		    "%zu trailing bytes after the MessagePack object",
		    len - used);
	if (elide) {
		d->nel = el.n;
		d->zone = zone;
		d->src = src;
		d->copy = src;
		if (el.n > 0) {
			size_t shrink = 0;

			if ((p = elide_copy(d, src, len)) == NULL)
				return fail(e, WIRE_ERR_ABSURD_SIZE,
				    "record: out of memory");
			for (unsigned i = 0; i < el.n; i++)
				shrink += d->el[i].len - 3;
			len -= shrink;
			d->copy = p;
		}
	}
	msgpack_zone_clear(zone);
	if (msgpack_unpack(p, len, &off, zone, o) != MSGPACK_UNPACK_SUCCESS)
		return fail(e, WIRE_ERR_MALFORMED, "msgpack-c refused the data");
	return true;
}

/* Decode one record object and hand it to the callback. */
static int
deliver(struct wire_decoder *d, const msgpack_object *o, uint32_t index,
    struct wire_frame_stats *st)
{
	struct event ev;
	struct rec_err e;

	st->records++;
	if (!record_decode(d, o, &ev, &e)) {
		if (st->batch)
			count(st, e.why, "batch record %u: %s", index, e.msg);
		else
			count(st, e.why, "%s", e.msg);
		return 0;
	}
	st->events++;
	return d->fn(d->arg, &ev);
}

/*
 * The fast path (wire_record.h): if the record at p[0..len) is one
 * wire_record_fast takes, hand it to the callback (its return value in
 * *rc) and return true; else false, for the general path.
 */
static bool
deliver_fast(struct wire_decoder *d, const char *p, size_t len,
    struct wire_frame_stats *st, int *rc)
{
	struct event ev;

	if (!d->fast || !wire_record_fast(&d->s, d->want_ids, p, len, &ev))
		return false;
	st->records++;
	st->events++;
	*rc = d->fn(d->arg, &ev);
	return true;
}

/* Batch record i, the bin p[0..len), through the general path. Not
 * inlined: its frame (a msgpack object, an error message) would make
 * every record's call to batch_record dearer. */
static __attribute__((noinline)) int
batch_record_slow(struct wire_decoder *d, uint32_t i, const char *p,
    size_t len, struct wire_frame_stats *st)
{
	msgpack_object rec;
	struct rec_err e;

	if (!unpack_exact(d, &d->rec_zone, true, p, len, &rec, &e)) {
		st->records++;
		count(st, e.why == WIRE_ERR_ABSURD_SIZE ? e.why :
		    WIRE_ERR_BAD_RECORD, "batch record %u: %s", i, e.msg);
		return 0;
	}
	return deliver(d, &rec, i, st);
}

/* Batch record i, the bin p[0..len): decoded and delivered. */
static int
batch_record(struct wire_decoder *d, uint32_t i, const char *p, size_t len,
    struct wire_frame_stats *st)
{
	int rc;

	if (!deliver_fast(d, p, len, st, &rc))
		rc = batch_record_slow(d, i, p, len, st);
	if (rc != 0)
		st->stopped = true;
	return rc;
}

/* The header of the bin at p[*off..len): its size, or -1 if not a bin
 * that fits. Each of a batch's records is read through here twice: the
 * widths are spelled out rather than looped over. */
static inline int64_t
bin_head(const unsigned char *p, size_t len, size_t *off)
{
	size_t o = *off, left = len - o;
	uint64_t n;

	if (o >= len)
		return -1;
	switch (p[o]) {
	case 0xc4:
		if (left < 2)
			return -1;
		n = p[o + 1];
		o += 2;
		break;
	case 0xc5:
		if (left < 3)
			return -1;
		n = (uint64_t)p[o + 1] << 8 | p[o + 2];
		o += 3;
		break;
	case 0xc6:
		if (left < 5)
			return -1;
		n = wire_be(p + o + 1, 4);
		o += 5;
		break;
	default:
		return -1;
	}
	if (n > len - o)
		return -1;
	*off = o;
	return (int64_t)n;
}

/*
 * The usual batch payload, an array of bins that fills p[0..len) exactly,
 * read without msgpack-c: the records are delivered as the general path
 * would. Returns false, having delivered nothing, for any other payload.
 */
static bool
batch_fast(struct wire_decoder *d, const char *payload, size_t len,
    struct wire_frame_stats *st, int *rc)
{
	const unsigned char *p = (const unsigned char *)payload;
	size_t off = 0, first;
	uint32_t n;
	int64_t sz;

	if (!d->fast || len == 0)
		return false;
	if ((p[0] & 0xf0) == 0x90) {
		n = p[0] & 0x0f;
		off = 1;
	} else if (p[0] == 0xdc && len >= 3) {
		n = (uint32_t)p[1] << 8 | p[2];
		off = 3;
	} else {
		return false;
	}
	first = off;
	for (uint32_t i = 0; i < n; i++) {
		if ((sz = bin_head(p, len, &off)) < 0)
			return false;
		off += (size_t)sz;
	}
	if (off != len)
		return false;
	off = first;
	*rc = 0;
	for (uint32_t i = 0; i < n; i++) {
		sz = bin_head(p, len, &off);
		if ((*rc = batch_record(d, i, payload + off, (size_t)sz,
		    st)) != 0)
			break;
		off += (size_t)sz;
	}
	return true;
}

int
wire_frame_decode(struct wire_decoder *d, const void *frame, size_t len,
    struct wire_frame_stats *st)
{
	const char *p = frame;
	msgpack_object top;
	struct rec_err e;
	int rc;

	/* Not the 256-byte message: a frame per event makes that count. */
	memset(st, 0, offsetof(struct wire_frame_stats, err));
	st->err[0] = '\0';
	if (len <= WIRE_TOPIC_LEN) {
		st->ignored = true;
		return 0;
	}
	st->batch = memcmp(p, WIRE_BATCH_TOPIC, sizeof(WIRE_BATCH_TOPIC)) == 0;
	p += WIRE_TOPIC_LEN;
	len -= WIRE_TOPIC_LEN;
	if (!st->batch && deliver_fast(d, p, len, st, &rc)) {
		st->stopped = rc != 0;
		return rc;
	}

	/*
	 * Walking a batch reads each record's header first, a few cache
	 * lines apart, each address depending on the last: a chain of
	 * misses on a frame just received. Asking for every line at once
	 * lets them overlap.
	 */
	if (st->batch)
		for (size_t off = 0; off < len; off += 64)
			__builtin_prefetch(p + off);
	if (st->batch && batch_fast(d, p, len, st, &rc))
		return rc;
	if (!unpack_exact(d, &d->frame_zone, !st->batch, p, len, &top, &e)) {
		/* The whole frame is lost: count it once as malformed. */
		count(st, e.why == WIRE_ERR_ABSURD_SIZE ? e.why :
		    WIRE_ERR_MALFORMED, "%sframe: %s", st->batch ? "batch " :
		    "", e.msg);
		return 0;
	}
	if (!st->batch) {
		rc = deliver(d, &top, 0, st);
		st->stopped = rc != 0;
		return rc;
	}
	if (top.type != MSGPACK_OBJECT_ARRAY) {
		count(st, WIRE_ERR_MALFORMED,
		    "batch frame: expected array of bin, got %s",
		    type_name(&top));
		return 0;
	}
	for (uint32_t i = 0; i < top.via.array.size; i++) {
		const msgpack_object *b = &top.via.array.ptr[i];

		if (b->type != MSGPACK_OBJECT_BIN) {
			st->records++;
			count(st, WIRE_ERR_BAD_RECORD,
			    "batch record %u: expected bin, got %s", i,
			    type_name(b));
			continue;
		}
		if ((rc = batch_record(d, i, b->via.bin.ptr, b->via.bin.size,
		    st)) != 0)
			return rc;
	}
	return 0;
}
