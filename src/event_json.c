/* JSON <-> struct event, for `metricsd publish` (see event_json.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "event_json.h"

static struct event_str
str_of(const json_t *s)
{
	struct event_str r = { json_string_value(s), json_string_length(s) };
	return r;
}

static int
ensure(void **p, size_t *cap, size_t want, size_t size)
{
	void *np;
	size_t ncap;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < want)
		ncap *= 2;
	if (ncap > SIZE_MAX / size || !(np = realloc(*p, ncap * size)))
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* How many event_str slots a text field needs. */
static size_t
text_slots(const json_t *v)
{
	return json_is_array(v) ? json_array_size(v) : 1;
}

/*
 * A TextModelOutput field: string, array of strings, or (if nullable)
 * null. Items go to strs[*used...].
 */
static int
text_parse(const json_t *v, bool nullable, struct event_text *t,
    struct event_str *strs, size_t *used, const char *what,
    char *err, size_t errlen)
{
	size_t i;
	json_t *it;

	if (!v || json_is_null(v)) {
		if (!nullable) {
			snprintf(err, errlen, "%s: must be a string or an "
			    "array of strings, not null", what);
			return -EINVAL;
		}
		t->form = EVENT_TEXT_ABSENT;
		t->n = 0;
		t->items = NULL;
		return 0;
	}
	if (json_is_string(v)) {
		strs[*used] = str_of(v);
		t->form = EVENT_TEXT_STRING;
		t->n = 1;
		t->items = &strs[(*used)++];
		return 0;
	}
	if (!json_is_array(v)) {
		snprintf(err, errlen, "%s: must be a string or an array of "
		    "strings%s", what, nullable ? " or null" : "");
		return -EINVAL;
	}
	t->form = EVENT_TEXT_LIST;
	t->n = json_array_size(v);
	t->items = &strs[*used];
	json_array_foreach(v, i, it) {
		if (!json_is_string(it)) {
			snprintf(err, errlen, "%s[%zu]: must be a string",
			    what, i);
			return -EINVAL;
		}
		strs[(*used)++] = str_of(it);
	}
	return 0;
}

/* PromptData: text (string or null), token_ids (integers or null). */
static int
prompt_parse(const json_t *a1, const json_t *a2, struct event *ev,
    struct event_json_buf *b, char *err, size_t errlen)
{
	size_t i;
	json_t *it;

	ev->data_tag = EVENT_DATA_PROMPT;
	ev->data.prompt.has_text = a1 && !json_is_null(a1);
	if (ev->data.prompt.has_text) {
		if (!json_is_string(a1)) {
			snprintf(err, errlen, "data: PromptData text "
			    "must be a string or null");
			return -EINVAL;
		}
		ev->data.prompt.text = str_of(a1);
	}
	ev->data.prompt.has_token_ids = a2 && !json_is_null(a2);
	if (!ev->data.prompt.has_token_ids)
		return 0;
	if (!json_is_array(a2)) {
		snprintf(err, errlen, "data: PromptData token_ids must "
		    "be an array of integers or null");
		return -EINVAL;
	}
	if (ensure((void **)&b->ids, &b->ids_cap, json_array_size(a2) + 1,
	    sizeof(*b->ids)) < 0) {
		snprintf(err, errlen, "data: token_ids: out of memory");
		return -ENOMEM;
	}
	json_array_foreach(a2, i, it) {
		if (!json_is_integer(it)) {
			snprintf(err, errlen, "data: PromptData "
			    "token_ids[%zu] must be an integer", i);
			return -EINVAL;
		}
		b->ids[i] = json_integer_value(it);
	}
	ev->data.prompt.n_token_ids = json_array_size(a2);
	ev->data.prompt.token_ids = b->ids;
	return 0;
}

static int
data_parse(const json_t *d, struct event *ev, struct event_json_buf *b,
    char *err, size_t errlen)
{
	const char *tag;
	size_t n = json_array_size(d), used = 0;
	json_t *a1, *a2;
	int rc;

	if (json_is_null(d)) {
		ev->data_tag = EVENT_DATA_NONE;
		return 0;
	}
	if (!json_is_array(d) || n == 0 || !json_is_string(json_array_get(d, 0))) {
		snprintf(err, errlen, "data: must be null or an array starting "
		    "with a tag (PromptData, TextModelOutput, ErrorData)");
		return -EINVAL;
	}
	tag = json_string_value(json_array_get(d, 0));
	a1 = n > 1 ? json_array_get(d, 1) : NULL;
	a2 = n > 2 ? json_array_get(d, 2) : NULL;
	if (n > 3) {
		snprintf(err, errlen, "data: %s takes at most 2 fields, got %zu",
		    tag, n - 1);
		return -EINVAL;
	}
	if (strcmp(tag, "PromptData") == 0)
		return prompt_parse(a1, a2, ev, b, err, errlen);
	if (strcmp(tag, "TextModelOutput") == 0) {
		ev->data_tag = EVENT_DATA_TEXT_OUTPUT;
		if (ensure((void **)&b->strs, &b->strs_cap,
		    text_slots(a1) + text_slots(a2) + 1, sizeof(*b->strs)) < 0) {
			snprintf(err, errlen, "data: TextModelOutput: out of memory");
			return -ENOMEM;
		}
		if (!a1) {
			/* The wire default for a missing output is "". */
			static const struct event_str empty = { "", 0 };
			ev->data.output.output.form = EVENT_TEXT_STRING;
			ev->data.output.output.n = 1;
			ev->data.output.output.items = &empty;
		} else if ((rc = text_parse(a1, false, &ev->data.output.output,
		    b->strs, &used, "data: TextModelOutput output", err,
		    errlen)) < 0)
			return rc;
		return text_parse(a2, true, &ev->data.output.reasoning, b->strs,
		    &used, "data: TextModelOutput reasoning", err, errlen);
	}
	if (strcmp(tag, "ErrorData") == 0) {
		ev->data_tag = EVENT_DATA_ERROR;
		if (!a1 || !json_is_string(a1)) {
			snprintf(err, errlen, "data: ErrorData needs error_type "
			    "(a string)");
			return -EINVAL;
		}
		ev->data.error.error_type = str_of(a1);
		if (a2 && !json_is_string(a2)) {
			snprintf(err, errlen, "data: ErrorData error_message "
			    "must be a string");
			return -EINVAL;
		}
		ev->data.error.error_message = a2 ? str_of(a2)
		    : (struct event_str){ "", 0 };
		return 0;
	}
	snprintf(err, errlen, "data: unknown tag '%s' (expected PromptData, "
	    "TextModelOutput or ErrorData)", tag);
	return -EINVAL;
}

static int
int_field(const json_t *v, const char *name, int64_t *out, char *err,
    size_t errlen)
{
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "%s: must be an integer", name);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
str_field(const json_t *v, const char *name, struct event_str *out,
    char *err, size_t errlen)
{
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: must be a string", name);
		return -EINVAL;
	}
	*out = str_of(v);
	return 0;
}

int
event_json_parse(const json_t *obj, struct event *ev,
    struct event_json_buf *buf, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	int rc = 0;

	memset(ev, 0, sizeof(*ev));
	ev->sample_uuid.ptr = ev->conversation_id.ptr = "";
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "not a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "event_type") == 0) {
			if ((rc = str_field(v, key, &ev->type_name, err, errlen)) < 0)
				return rc;
			ev->type = event_type_parse(ev->type_name.ptr,
			    ev->type_name.len);
			if (ev->type == EVENT_UNKNOWN) {
				snprintf(err, errlen, "event_type: unknown "
				    "event type '%s'", json_string_value(v));
				return -EINVAL;
			}
		} else if (strcmp(key, "timestamp_ns") == 0) {
			rc = int_field(v, key, &ev->timestamp_ns, err, errlen);
			ev->has_timestamp = true;
		} else if (strcmp(key, "sample_uuid") == 0) {
			rc = str_field(v, key, &ev->sample_uuid, err, errlen);
		} else if (strcmp(key, "conversation_id") == 0) {
			rc = str_field(v, key, &ev->conversation_id, err, errlen);
		} else if (strcmp(key, "turn") == 0) {
			if (!json_is_null(v)) {
				rc = int_field(v, "turn (or null)", &ev->turn,
				    err, errlen);
				ev->has_turn = true;
			}
		} else if (strcmp(key, "data") == 0) {
			rc = data_parse(v, ev, buf, err, errlen);
		} else if (strcmp(key, "finish_reason") == 0) {
			if (!json_is_null(v)) {
				rc = str_field(v, "finish_reason (or null)",
				    &ev->finish_reason, err, errlen);
				ev->has_finish_reason = true;
			}
		} else if (strcmp(key, "worker_id") == 0) {
			if (!json_is_null(v)) {
				rc = int_field(v, "worker_id (or null)",
				    &ev->worker_id, err, errlen);
				ev->has_worker_id = true;
			}
		} else {
			snprintf(err, errlen, "unknown field '%s'", key);
			return -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	if (!ev->type_name.ptr) {
		snprintf(err, errlen, "event_type: missing");
		return -EINVAL;
	}
	if (!ev->has_timestamp) {
		snprintf(err, errlen, "timestamp_ns: missing");
		return -EINVAL;
	}
	return 0;
}

static json_t *
str_json(struct event_str s)
{
	return json_stringn(s.ptr ? s.ptr : "", s.len);
}

static json_t *
text_json(const struct event_text *t)
{
	json_t *a;

	if (t->form == EVENT_TEXT_ABSENT)
		return json_null();
	if (t->form == EVENT_TEXT_STRING)
		return t->n ? str_json(t->items[0]) : json_string("");
	if (!(a = json_array()))
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (json_array_append_new(a, str_json(t->items[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
data_json(const struct event *ev)
{
	json_t *a, *ids;

	switch (ev->data_tag) {
	case EVENT_DATA_PROMPT:
		if (!ev->data.prompt.has_token_ids)
			ids = json_null();
		else if ((ids = json_array()))
			for (size_t i = 0; i < ev->data.prompt.n_token_ids; i++)
				json_array_append_new(ids, json_integer(
				    ev->data.prompt.token_ids[i]));
		return json_pack("[s o o]", "PromptData",
		    ev->data.prompt.has_text ? str_json(ev->data.prompt.text)
		    : json_null(), ids);
	case EVENT_DATA_TEXT_OUTPUT:
		return json_pack("[s o o]", "TextModelOutput",
		    text_json(&ev->data.output.output),
		    text_json(&ev->data.output.reasoning));
	case EVENT_DATA_ERROR:
		return json_pack("[s o o]", "ErrorData",
		    str_json(ev->data.error.error_type),
		    str_json(ev->data.error.error_message));
	case EVENT_DATA_NONE:
		break;
	}
	a = json_null();
	return a;
}

json_t *
event_json_build(const struct event *ev)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_object_set_new(o, "event_type", ev->type_name.ptr
	    ? str_json(ev->type_name) : json_string(event_type_name(ev->type)));
	bad |= json_object_set_new(o, "timestamp_ns",
	    json_integer(ev->timestamp_ns));
	if (ev->sample_uuid.len)
		bad |= json_object_set_new(o, "sample_uuid",
		    str_json(ev->sample_uuid));
	if (ev->conversation_id.len)
		bad |= json_object_set_new(o, "conversation_id",
		    str_json(ev->conversation_id));
	if (ev->has_turn)
		bad |= json_object_set_new(o, "turn", json_integer(ev->turn));
	if (ev->data_tag != EVENT_DATA_NONE)
		bad |= json_object_set_new(o, "data", data_json(ev));
	if (ev->has_finish_reason)
		bad |= json_object_set_new(o, "finish_reason",
		    str_json(ev->finish_reason));
	if (ev->has_worker_id)
		bad |= json_object_set_new(o, "worker_id",
		    json_integer(ev->worker_id));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
event_json_buf_free(struct event_json_buf *buf)
{
	free(buf->ids);
	free(buf->strs);
	memset(buf, 0, sizeof(*buf));
}
