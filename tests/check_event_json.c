/* JSON lines -> struct event, the input format of `metricsd publish`. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "event_json.h"

static struct event_json_buf jb;
static json_t *doc;
static char err[512];

static int
parse(const char *text, struct event *ev)
{
	json_error_t je;

	json_decref(doc);
	doc = json_loads(text, 0, &je);
	ck_assert_msg(doc != NULL, "bad test JSON: %s", je.text);
	err[0] = '\0';
	return event_json_parse(doc, ev, &jb, err, sizeof(err));
}

static void
teardown(void)
{
	json_decref(doc);
	doc = NULL;
	event_json_buf_free(&jb);
}

static bool
str_is(struct event_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

START_TEST(test_event_json_parse_spec_example)
{
	struct event ev;

	ck_assert_int_eq(parse("{\"event_type\": \"sample.issued\", "
	    "\"timestamp_ns\": 1000, \"sample_uuid\": \"s1\", "
	    "\"data\": [\"PromptData\", null, [101, 202]]}", &ev), 0);
	ck_assert_int_eq(ev.type, EVENT_SAMPLE_ISSUED);
	ck_assert(str_is(ev.type_name, "sample.issued"));
	ck_assert(ev.has_timestamp);
	ck_assert_int_eq(ev.timestamp_ns, 1000);
	ck_assert(str_is(ev.sample_uuid, "s1"));
	ck_assert(str_is(ev.conversation_id, ""));
	ck_assert(!ev.has_turn && !ev.has_worker_id && !ev.has_finish_reason);
	ck_assert_int_eq(ev.data_tag, EVENT_DATA_PROMPT);
	ck_assert(!ev.data.prompt.has_text);
	ck_assert(ev.data.prompt.has_token_ids);
	ck_assert_uint_eq(ev.data.prompt.n_token_ids, 2);
	ck_assert_int_eq(ev.data.prompt.token_ids[0], 101);
	ck_assert_int_eq(ev.data.prompt.token_ids[1], 202);
}
END_TEST

START_TEST(test_event_json_parse_optional_fields)
{
	struct event ev;

	ck_assert_int_eq(parse("{\"event_type\": \"sample.complete\", "
	    "\"timestamp_ns\": -5, \"sample_uuid\": \"u\", "
	    "\"conversation_id\": \"c7\", \"turn\": 3, \"finish_reason\": "
	    "\"stop\", \"worker_id\": 9, \"data\": null}", &ev), 0);
	ck_assert_int_eq(ev.timestamp_ns, -5);
	ck_assert(str_is(ev.conversation_id, "c7"));
	ck_assert(ev.has_turn && ev.turn == 3);
	ck_assert(ev.has_finish_reason && str_is(ev.finish_reason, "stop"));
	ck_assert(ev.has_worker_id && ev.worker_id == 9);
	ck_assert_int_eq(ev.data_tag, EVENT_DATA_NONE);

	ck_assert_int_eq(parse("{\"event_type\": \"session.started\", "
	    "\"timestamp_ns\": 1, \"turn\": null, \"worker_id\": null}", &ev), 0);
	ck_assert(!ev.has_turn && !ev.has_worker_id);
}
END_TEST

START_TEST(test_event_json_parse_text_output_forms)
{
	struct event ev;
	const struct event_text *o = &ev.data.output.output;
	const struct event_text *r = &ev.data.output.reasoning;

	ck_assert_int_eq(parse("{\"event_type\": \"sample.complete\", "
	    "\"timestamp_ns\": 1, \"data\": [\"TextModelOutput\", "
	    "\"hello world\"]}", &ev), 0);
	ck_assert_int_eq(ev.data_tag, EVENT_DATA_TEXT_OUTPUT);
	ck_assert_int_eq(o->form, EVENT_TEXT_STRING);
	ck_assert_uint_eq(o->n, 1);
	ck_assert(str_is(o->items[0], "hello world"));
	ck_assert_int_eq(r->form, EVENT_TEXT_ABSENT);

	ck_assert_int_eq(parse("{\"event_type\": \"sample.complete\", "
	    "\"timestamp_ns\": 1, \"data\": [\"TextModelOutput\", "
	    "[\"a \", \"b\"], [\"think \", \"more \", \"x\"]]}", &ev), 0);
	ck_assert_int_eq(o->form, EVENT_TEXT_LIST);
	ck_assert_uint_eq(o->n, 2);
	ck_assert(str_is(o->items[0], "a ") && str_is(o->items[1], "b"));
	ck_assert_int_eq(r->form, EVENT_TEXT_LIST);
	ck_assert_uint_eq(r->n, 3);
	ck_assert(str_is(r->items[2], "x"));

	/* A missing output is the wire default "". */
	ck_assert_int_eq(parse("{\"event_type\": \"sample.complete\", "
	    "\"timestamp_ns\": 1, \"data\": [\"TextModelOutput\"]}", &ev), 0);
	ck_assert_int_eq(o->form, EVENT_TEXT_STRING);
	ck_assert(str_is(o->items[0], ""));
}
END_TEST

START_TEST(test_event_json_parse_error_data)
{
	struct event ev;

	ck_assert_int_eq(parse("{\"event_type\": \"error.client\", "
	    "\"timestamp_ns\": 1, \"data\": [\"ErrorData\", \"Timeout\", "
	    "\"took too long\"]}", &ev), 0);
	ck_assert(event_type_is_error(ev.type));
	ck_assert_int_eq(ev.data_tag, EVENT_DATA_ERROR);
	ck_assert(str_is(ev.data.error.error_type, "Timeout"));
	ck_assert(str_is(ev.data.error.error_message, "took too long"));
	ck_assert_int_eq(parse("{\"event_type\": \"error.client\", "
	    "\"timestamp_ns\": 1, \"data\": [\"ErrorData\", \"T\"]}", &ev), 0);
	ck_assert(str_is(ev.data.error.error_message, ""));
}
END_TEST

/* Each bad input is refused with a message naming what is wrong. */
START_TEST(test_event_json_parse_rejects_bad_input)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ "[1, 2]", "not a JSON object" },
		{ "{\"timestamp_ns\": 1}", "event_type: missing" },
		{ "{\"event_type\": \"sample.issued\"}", "timestamp_ns: missing" },
		{ "{\"event_type\": \"sample.bogus\", \"timestamp_ns\": 1}",
		  "unknown event type 'sample.bogus'" },
		{ "{\"event_type\": 7, \"timestamp_ns\": 1}",
		  "event_type: must be a string" },
		{ "{\"event_type\": \"session.started\", \"timestamp_ns\": 1.5}",
		  "timestamp_ns: must be an integer" },
		{ "{\"event_type\": \"session.started\", \"timestamp_ns\": 1, "
		  "\"sample_uid\": \"x\"}", "unknown field 'sample_uid'" },
		{ "{\"event_type\": \"sample.issued\", \"timestamp_ns\": 1, "
		  "\"data\": [\"PromptData\", null, [1, \"2\"]]}",
		  "token_ids[1] must be an integer" },
		{ "{\"event_type\": \"sample.issued\", \"timestamp_ns\": 1, "
		  "\"data\": [\"Prompt\", null]}", "unknown tag 'Prompt'" },
		{ "{\"event_type\": \"sample.issued\", \"timestamp_ns\": 1, "
		  "\"data\": {\"PromptData\": 1}}", "data: must be null or an array" },
		{ "{\"event_type\": \"sample.complete\", \"timestamp_ns\": 1, "
		  "\"data\": [\"TextModelOutput\", [\"a\", 3]]}", "output[1]: must be" },
		{ "{\"event_type\": \"sample.complete\", \"timestamp_ns\": 1, "
		  "\"data\": [\"TextModelOutput\", null]}", "not null" },
		{ "{\"event_type\": \"error.client\", \"timestamp_ns\": 1, "
		  "\"data\": [\"ErrorData\"]}", "needs error_type" },
		{ "{\"event_type\": \"sample.issued\", \"timestamp_ns\": 1, "
		  "\"data\": [\"PromptData\", null, [], 4]}", "at most 2 fields" },
		{ "{\"event_type\": \"sample.issued\", \"timestamp_ns\": 1, "
		  "\"turn\": \"3\"}", "turn (or null): must be an integer" },
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse(cases[i].json, &ev) == -EINVAL,
		    "accepted: %s", cases[i].json);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL,
		    "for %s: message '%s' lacks '%s'", cases[i].json, err,
		    cases[i].msg);
	}
}
END_TEST

/* build(parse(x)) == x for events using every field. */
START_TEST(test_event_json_build_round_trips)
{
	static const char *const cases[] = {
		"{\"data\":[\"PromptData\",\"hi there\",[1,2,3]],"
		"\"event_type\":\"sample.issued\",\"sample_uuid\":\"s1\","
		"\"timestamp_ns\":1000}",
		"{\"conversation_id\":\"c\",\"data\":[\"TextModelOutput\","
		"[\"a\",\"b\"],\"r\"],\"event_type\":\"sample.complete\","
		"\"finish_reason\":\"length\",\"sample_uuid\":\"s1\","
		"\"timestamp_ns\":5,\"turn\":2,\"worker_id\":4}",
		"{\"data\":[\"ErrorData\",\"E\",\"m\"],\"event_type\":"
		"\"error.loadgen\",\"timestamp_ns\":7}",
		"{\"event_type\":\"session.ended\",\"timestamp_ns\":9}",
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o;
		char *s;

		ck_assert_int_eq(parse(cases[i], &ev), 0);
		ck_assert_ptr_nonnull(o = event_json_build(&ev));
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		ck_assert_str_eq(s, cases[i]);
		free(s);
		json_decref(o);
	}
}
END_TEST

Suite *
event_json_suite(void)
{
	Suite *s = suite_create("event_json");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_event_json_parse_spec_example);
	tcase_add_test(tc, test_event_json_parse_optional_fields);
	tcase_add_test(tc, test_event_json_parse_text_output_forms);
	tcase_add_test(tc, test_event_json_parse_error_data);
	tcase_add_test(tc, test_event_json_parse_rejects_bad_input);
	tcase_add_test(tc, test_event_json_build_round_trips);
	suite_add_tcase(s, tc);
	return s;
}
