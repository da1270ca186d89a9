/* Event type names: the topic strings of ../shared/spec/wire.md. */
#include <string.h>

#include "event.h"

static const char *const names[EVENT_TYPE_COUNT] = {
	[EVENT_SESSION_STARTED] = "session.started",
	[EVENT_SESSION_ENDED] = "session.ended",
	[EVENT_SESSION_STOP_LOADGEN] = "session.stop_loadgen",
	[EVENT_SESSION_START_TRACKING] = "session.start_performance_tracking",
	[EVENT_SESSION_STOP_TRACKING] = "session.stop_performance_tracking",
	[EVENT_ERROR_GENERIC] = "error.generic",
	[EVENT_ERROR_LOADGEN] = "error.loadgen",
	[EVENT_ERROR_SESSION] = "error.session",
	[EVENT_ERROR_CLIENT] = "error.client",
	[EVENT_SAMPLE_ISSUED] = "sample.issued",
	[EVENT_SAMPLE_COMPLETE] = "sample.complete",
	[EVENT_SAMPLE_RECV_FIRST] = "sample.recv_first",
	[EVENT_SAMPLE_RECV_NON_FIRST] = "sample.recv_non_first",
};

const char *
event_type_name(enum event_type t)
{
	if ((int)t <= EVENT_UNKNOWN || t >= EVENT_TYPE_COUNT)
		return NULL;
	return names[t];
}

enum event_type
event_type_parse(const char *s, size_t len)
{
	/* 13 names: a linear scan with a length check first is plenty. */
	for (int t = EVENT_UNKNOWN + 1; t < EVENT_TYPE_COUNT; t++) {
		if (strlen(names[t]) == len && memcmp(names[t], s, len) == 0)
			return (enum event_type)t;
	}
	return EVENT_UNKNOWN;
}
