/*
 * Events as JSON objects, one per line: what `metricsd publish` reads on
 * stdin and what `--print-json` writes. Field names are the wire's
 * (metricsd-wire(5)), with `data` as a tagged array:
 *
 *   {"event_type": "sample.issued", "timestamp_ns": 1000,
 *    "sample_uuid": "s1", "data": ["PromptData", null, [1, 2, 3]]}
 *
 * Library code: returns 0 or a negative errno and fills err.
 */
#ifndef METRICSD_EVENT_JSON_H
#define METRICSD_EVENT_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "event.h"

/* Storage for the arrays a parsed event points to; reused line after line. */
struct event_json_buf {
	int64_t *ids;
	size_t ids_cap;
	struct event_str *strs;
	size_t strs_cap;
};

/*
 * Fill ev from the JSON object obj. ev's strings point into obj and its
 * arrays into buf: ev is valid while both are. Unknown fields, wrong
 * types, unknown event types and unknown data tags are errors (-EINVAL,
 * err names the field), so a typo in hand-written input is not silently
 * published as a default.
 */
int event_json_parse(const json_t *obj, struct event *ev,
    struct event_json_buf *buf, char *err, size_t errlen);

/* The JSON object for ev (fields left at their defaults are omitted), or
 * NULL when out of memory. */
json_t *event_json_build(const struct event *ev);

void event_json_buf_free(struct event_json_buf *buf);

#endif
