/*
 * The frame path of `metricsd aggregate`: wire frames through the event
 * decoder into the metric engine. The engine knows no wire format; this
 * adapter feeds it the decoded events and maps the decoder's error
 * classes onto the engine's decode_* counters.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_AGGREGATOR_WIRE_H
#define METRICSD_AGGREGATOR_WIRE_H

#include <stddef.h>

#include "aggregator.h"
#include "wire.h"

struct aggregator_wire {
	struct wire_decoder *dec;
	struct aggregator *engine;	/* not owned */
};

/*
 * A decoder feeding engine (which must outlive it). Token id arrays are
 * counted, not decoded: the engine needs only their count (isl).
 * Returns 0 or a negative errno with err filled.
 */
int aggregator_wire_init(struct aggregator_wire *w, struct aggregator *engine,
    char *err, size_t errlen);
void aggregator_wire_free(struct aggregator_wire *w);

/*
 * Decode one ZMQ frame and feed its events to the engine. Decode errors
 * are counted in the engine's decode_* keys; st (may be NULL) says what
 * the frame held, with st->err for a rate-limited log line. A frame that
 * arrives after session.ended is not decoded (st is then zeroed) but
 * counted once in events_after_end. Returns AGGREGATOR_ENDED once the
 * session has ended (the rest of the ending batch is dropped), else 0.
 */
int aggregator_wire_feed(struct aggregator_wire *w, const void *frame,
    size_t len, struct wire_frame_stats *st);

#endif
