/* Event type names: the topic strings of metricsd-wire(5). */
#include <string.h>

#include "event.h"

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

enum event_type
event_type_parse(const char *s, size_t len)
{
	/* 13 names: a linear scan, comparing lengths first, is plenty. */
	for (int t = EVENT_UNKNOWN + 1; t < EVENT_TYPE_COUNT; t++) {
		if (names[t].len == len && memcmp(names[t].s, s, len) == 0)
			return (enum event_type)t;
	}
	return EVENT_UNKNOWN;
}
