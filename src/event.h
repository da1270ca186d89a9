/*
 * One benchmark event in memory: what the wire decoder produces, the wire
 * encoder consumes, and the aggregator folds into metrics. Field names and
 * defaults follow metricsd-wire(5), "EventRecord".
 *
 * Strings are not NUL-terminated and point into memory owned by whoever
 * filled the event (the decoded frame, the JSON document): an event is valid
 * only until its producer is called again.
 */
#ifndef METRICSD_EVENT_H
#define METRICSD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_type {
	EVENT_UNKNOWN = 0,
	EVENT_SESSION_STARTED,
	EVENT_SESSION_ENDED,
	EVENT_SESSION_STOP_LOADGEN,
	EVENT_SESSION_START_TRACKING,	/* session.start_performance_tracking */
	EVENT_SESSION_STOP_TRACKING,	/* session.stop_performance_tracking */
	EVENT_ERROR_GENERIC,
	EVENT_ERROR_LOADGEN,
	EVENT_ERROR_SESSION,
	EVENT_ERROR_CLIENT,
	EVENT_SAMPLE_ISSUED,
	EVENT_SAMPLE_COMPLETE,
	EVENT_SAMPLE_RECV_FIRST,
	EVENT_SAMPLE_RECV_NON_FIRST,
	EVENT_TYPE_COUNT
};

/* "sample.issued" etc.; NULL for EVENT_UNKNOWN or out of range. */
const char *event_type_name(enum event_type t);
/* The type named by s[0..len), or EVENT_UNKNOWN. */
enum event_type event_type_parse(const char *s, size_t len);
static inline bool
event_type_is_error(enum event_type t)
{
	return t >= EVENT_ERROR_GENERIC && t <= EVENT_ERROR_CLIENT;
}

struct event_str {
	const char *ptr;
	size_t len;
};

/*
 * A field that is nil, one string, or an array of strings (streamed
 * chunks, in order). A single string is stored as one item with
 * is_list false, so consumers can iterate items either way.
 */
enum event_text_form {
	EVENT_TEXT_ABSENT = 0,	/* nil or missing */
	EVENT_TEXT_STRING,
	EVENT_TEXT_LIST
};

struct event_text {
	enum event_text_form form;
	size_t n;			/* items (1 for a string) */
	const struct event_str *items;
};

enum event_data_tag {
	EVENT_DATA_NONE = 0,		/* data is nil or missing */
	EVENT_DATA_PROMPT,		/* PromptData */
	EVENT_DATA_TEXT_OUTPUT,		/* TextModelOutput */
	EVENT_DATA_ERROR		/* ErrorData */
};

struct event {
	enum event_type type;
	struct event_str type_name;	/* as received (for messages) */
	int64_t timestamp_ns;
	bool has_timestamp;		/* the encoder writes timestamp_ns
					   only when this is set */
	struct event_str sample_uuid;	/* "" when missing */
	struct event_str conversation_id;
	bool has_turn;
	int64_t turn;
	bool has_finish_reason;
	struct event_str finish_reason;
	bool has_worker_id;
	int64_t worker_id;

	enum event_data_tag data_tag;
	union {
		struct {
			bool has_text;
			struct event_str text;
			bool has_token_ids;
			size_t n_token_ids;
			/* NULL when the producer only counted them
			   (wire_decoder_set_token_ids) */
			const int64_t *token_ids;
		} prompt;
		struct {
			struct event_text output;	/* default "" */
			struct event_text reasoning;	/* default absent */
		} output;
		struct {
			struct event_str error_type;
			struct event_str error_message;
		} error;
	} data;
};

/*
 * A 64-bit digest of everything an event says: every field its type and
 * data tag make meaningful, strings and arrays by content (token_ids by
 * whether they are present, then by value). Two producers that should
 * agree (the decoder's fast and general paths) can be compared event by
 * event without copying events out of their callbacks.
 */
uint64_t event_digest(const struct event *ev);

#endif
