/*
 * On-disk layout of a recording (format version 1). Private to
 * src/rec_*.c; man/metricsd-recording.5 describes the same bytes for
 * anyone reading a recording without this code.
 *
 * Unlike the store (shared memory read on the machine that wrote it), a
 * recording is meant to be copied and replayed elsewhere, so every
 * integer is little-endian whatever the writer's byte order, and is read
 * and written through the helpers below, never through a struct cast.
 *
 *   header (REC_HEADER_SIZE bytes, see the offsets below)
 *   frame record, frame record, ... to the end of the file
 *
 * A frame record is
 *
 *   u32 length   bytes of the frame, at most REC_FRAME_MAX
 *   u64 recv_ns  receive time: nanoseconds since the recording started,
 *                on CLOCK_MONOTONIC (the header has the wall-clock start)
 *   length bytes the ZMQ frame exactly as received (metricsd-wire(5):
 *                40-byte topic, then the MessagePack payload)
 */
#ifndef METRICSD_REC_FORMAT_H
#define METRICSD_REC_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REC_MAGIC "MTRDRECD"
#define REC_MAGIC_LEN 8
#define REC_VERSION 1

/* Header fields, by byte offset. */
#define REC_OFF_MAGIC 0			/* 8 bytes, REC_MAGIC */
#define REC_OFF_VERSION 8		/* u32: REC_VERSION */
#define REC_OFF_HEADER_SIZE 12		/* u32: offset of the first frame */
#define REC_OFF_WIRE 16			/* u32: REC_WIRE_* */
#define REC_OFF_FLAGS 20		/* u32: 0 (none defined) */
#define REC_OFF_START_REALTIME 24	/* u64: CLOCK_REALTIME ns at start */
#define REC_OFF_START_MONOTONIC 32	/* u64: CLOCK_MONOTONIC ns, same instant */
/* 40..63: zero, reserved */
#define REC_HEADER_SIZE 64u

/* Readers accept a larger header_size (fields added later within the
 * same version) up to this, and skip what they do not know. */
#define REC_HEADER_SIZE_MAX 4096u

/* Per-frame record header: u32 length, then u64 recv_ns. */
#define REC_FRAME_HEADER_SIZE 12u

/* Shared by rec_write.c and rec_read.c; not part of the API. */

static inline void
rec_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
rec_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t
rec_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
rec_get64(const unsigned char *p)
{
	return (uint64_t)rec_get32(p) | (uint64_t)rec_get32(p + 4) << 32;
}

#endif
