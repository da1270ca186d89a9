/*
 * Private to the wire decoder: the direct EventRecord reader
 * (wire_record.c), the fast path for well-formed records.
 *
 * It reads a record's MessagePack bytes straight into a struct event,
 * without the bounds walk, msgpack-c objects or elided copies, and
 * accepts exactly the records on which the general path (wire_decode.c)
 * succeeds with the same event -- but only those of the usual shapes. On
 * anything else (an error of any class, a non-string key, a container
 * where a scalar is expected, trailing bytes) it declines, and the
 * general path decodes the record and says what is wrong. It never
 * reports an error itself, so the counts and messages stay the general
 * path's.
 */
#ifndef METRICSD_WIRE_RECORD_H
#define METRICSD_WIRE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Scratch arrays events point into, kept by the decoder between frames. */
struct wire_scratch {
	int64_t *ids;			/* PromptData.token_ids */
	size_t ids_cap;
	struct event_str *out;		/* TextModelOutput.output chunks */
	size_t out_cap;
	struct event_str *rsn;		/* TextModelOutput.reasoning chunks */
	size_t rsn_cap;
};

/* The default TextModelOutput.output and ErrorData.error_message: "". */
extern const struct event_str wire_empty_str;

/* Grow a scratch array to hold n items; it never shrinks. */
bool wire_scratch_reserve(void **arr, size_t *cap, size_t n, size_t size);

/*
 * The record at p[0..len) into ev, as the general path would decode it
 * (with want_ids false, token id arrays of WIRE_ELIDE_MIN or more are
 * counted, not copied, as there). False: declined, ev is garbage.
 */
bool wire_record_fast(struct wire_scratch *s, bool want_ids, const void *p,
    size_t len, struct event *ev);

/* For tests and the fuzz target: whether d tries the fast path (the
 * default) before the general one. */
struct wire_decoder;
void wire_decoder_set_fast(struct wire_decoder *d, bool on);

#endif
