/*
 * The event wire codec: ZMQ frames of a 40-byte NUL-padded topic followed
 * by a MessagePack payload, as metricsd-wire(5) describes (its section
 * "Decoding in metricsd": limits and error classes).
 * Three files: wire_walk.c (the bounds walk), wire_decode.c and
 * wire_record.c (the decoder: general and fast path), wire_encode.c
 * (the encoder and batch builder).
 *
 * Decoding uses msgpack-c. Every frame is first walked by a small bounds
 * check so that a hostile declared length (an array claiming 4 billion
 * elements in a 20-byte frame) is refused before msgpack-c allocates for
 * it; memory used per frame is then at most a few dozen bytes per element
 * actually present. Zones and scratch arrays are kept between frames, so a
 * steady stream of ordinary frames allocates nothing.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_WIRE_H
#define METRICSD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define WIRE_TOPIC_LEN 40		/* topic bytes at the start of a frame */
#define WIRE_BATCH_TOPIC "batch"

/* Limits past which a record is refused as WIRE_ERR_ABSURD_SIZE. */
#define WIRE_UUID_MAX 256		/* sample_uuid, conversation_id bytes */
#define WIRE_TOKEN_IDS_MAX (1u << 22)	/* PromptData.token_ids elements */
#define WIRE_CHUNKS_MAX (1u << 20)	/* output / reasoning chunks */
#define WIRE_DEPTH_MAX 8		/* nesting of arrays and maps */

/* Why a frame or a record was refused. */
enum wire_error {
	WIRE_ERR_MALFORMED = 0,	/* payload is not MessagePack, or a batch
				   payload is not an array */
	WIRE_ERR_BAD_RECORD,	/* record not a map, no event_type, batch
				   element not a bin, unknown data tag, ... */
	WIRE_ERR_UNKNOWN_TYPE,	/* event_type names no known event */
	WIRE_ERR_FIELD_TYPE,	/* a known key holds the wrong type, or an
				   integer out of int64 range */
	WIRE_ERR_ABSURD_SIZE,	/* over a WIRE_*_MAX limit, or nested deeper
				   than WIRE_DEPTH_MAX */
	WIRE_ERR_COUNT
};

/* Short name of an error class ("malformed", "bad_record", ...). */
const char *wire_error_name(enum wire_error e);

/* What one call of wire_frame_decode saw. */
struct wire_frame_stats {
	bool ignored;		/* frame of <= 40 bytes: no payload */
	bool batch;		/* topic was "batch" */
	bool stopped;		/* the callback asked to stop */
	uint32_t records;	/* records found (decoded or not) */
	uint32_t events;	/* events passed to the callback */
	uint32_t errors[WIRE_ERR_COUNT];
	uint32_t nerrors;	/* sum of errors[] */
	char err[256];		/* first error of the frame, for the log */
};

/*
 * Called once per decoded event, in frame order. The event and everything
 * it points to is valid only during the call: strings point into the
 * caller's frame, arrays into the decoder's scratch space. Return 0 to go
 * on, nonzero to drop the rest of the frame (session.ended does this).
 */
typedef int (*wire_event_fn)(void *arg, const struct event *ev);

struct wire_decoder;

int wire_decoder_new(struct wire_decoder **out, wire_event_fn fn, void *arg,
    char *err, size_t errlen);
void wire_decoder_free(struct wire_decoder *d);

/*
 * Whether events carry PromptData.token_ids themselves (the default) or
 * may carry only their count: with materialise false, a long token id
 * array is validated and counted but not decoded, and the event has
 * has_token_ids and n_token_ids right but token_ids NULL (short arrays
 * may still come decoded). For consumers that only count ids (the
 * aggregator: ISL); decoding prompt-heavy streams is then much faster.
 */
void wire_decoder_set_token_ids(struct wire_decoder *d, bool materialise);

/*
 * Decode one frame and call the callback for each good record. Bad
 * records are counted in st by class and skipped; the rest of a batch is
 * still decoded. Returns the callback's nonzero value if it stopped, else
 * 0. Never fails as a whole: bad input only shows in st.
 */
int wire_frame_decode(struct wire_decoder *d, const void *frame, size_t len,
    struct wire_frame_stats *st);

/* ---- Encoder (the publisher side) ---- */

/* A growable byte buffer; zero-initialise, free with wire_buf_free. */
struct wire_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

void wire_buf_free(struct wire_buf *b);

/*
 * Replace b's contents with one single-record frame for ev: the topic,
 * then the EventRecord map with keys in the reference publisher's order
 * (event_type, timestamp_ns, sample_uuid, conversation_id, turn, data,
 * finish_reason, worker_id). sample_uuid and data are always written;
 * conversation_id only when non-empty; timestamp_ns, turn, finish_reason
 * and worker_id only when their has_* flag is set -- so set
 * ev->has_timestamp, or the frame carries no timestamp (and the
 * aggregator drops it).
 * The event type written is ev->type_name if non-empty, else the name of
 * ev->type. Returns 0, -EINVAL (no type name, or longer than the topic)
 * or -ENOMEM, with err filled.
 */
int wire_frame_encode(const struct event *ev, struct wire_buf *b,
    char *err, size_t errlen);

/* Append just the EventRecord payload of ev to b. Same errors. */
int wire_record_encode(const struct event *ev, struct wire_buf *b,
    char *err, size_t errlen);

/*
 * A batch frame being built: topic "batch", payload an array of bin, each
 * bin one encoded EventRecord. Zero-initialise (or wire_batch_reset),
 * add events, then finish to get the frame. Reuse after reset.
 */
struct wire_batch {
	struct wire_buf frame;	/* reserved head room, then the bins */
	struct wire_buf rec;	/* scratch for one record */
	size_t n;		/* records added */
};

void wire_batch_reset(struct wire_batch *b);
int wire_batch_add(struct wire_batch *b, const struct event *ev,
    char *err, size_t errlen);
/* The finished frame; valid until the next add/reset/free. */
void wire_batch_finish(struct wire_batch *b, const void **frame, size_t *len);
void wire_batch_free(struct wire_batch *b);

#endif
