/*
 * Wire frames into the metric engine (see aggregator_wire.h).
 */
#include <string.h>

#include "aggregator_wire.h"

_Static_assert(WIRE_ERR_COUNT == 5, "every decoder error class has a key");

static int
on_event(void *arg, const struct event *ev)
{
	return aggregator_event_feed(arg, ev);
}

int
aggregator_wire_init(struct aggregator_wire *w, struct aggregator *engine,
    char *err, size_t errlen)
{
	int rc;

	w->engine = engine;
	rc = wire_decoder_new(&w->dec, on_event, engine, err, errlen);
	if (rc < 0)
		return rc;
	wire_decoder_set_token_ids(w->dec, false);
	return 0;
}

void
aggregator_wire_free(struct aggregator_wire *w)
{
	wire_decoder_free(w->dec);
	w->dec = NULL;
}

int
aggregator_wire_feed(struct aggregator_wire *w, const void *frame,
    size_t len, struct wire_frame_stats *st)
{
	struct wire_frame_stats local;

	if (st == NULL)
		st = &local;
	if (aggregator_frame_begin(w->engine) == AGGREGATOR_ENDED) {
		memset(st, 0, sizeof(*st));
		return AGGREGATOR_ENDED;
	}
	wire_frame_decode(w->dec, frame, len, st);
	if (st->nerrors) {
		struct aggregator_decode_errors e = {
			.malformed = st->errors[WIRE_ERR_MALFORMED],
			.bad_records = st->errors[WIRE_ERR_BAD_RECORD],
			.unknown_events = st->errors[WIRE_ERR_UNKNOWN_TYPE],
			.field_types = st->errors[WIRE_ERR_FIELD_TYPE],
			.absurd_sizes = st->errors[WIRE_ERR_ABSURD_SIZE],
		};
		aggregator_decode_errors_count(w->engine, &e);
	}
	return aggregator_ended(w->engine) ? AGGREGATOR_ENDED : 0;
}
