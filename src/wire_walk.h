/*
 * Private to the wire decoder (wire_decode.c): the MessagePack bounds
 * walker (wire_walk.c), which checks a frame before msgpack-c sees it and
 * notes the long integer arrays the decoder elides. The layout it checks
 * is MessagePack's (msgpack.org spec); the frame around it is wire.h's.
 */
#ifndef METRICSD_WIRE_WALK_H
#define METRICSD_WIRE_WALK_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Arrays of at least WIRE_ELIDE_MIN integers (token ids, in practice)
 * inside a record are not given to msgpack-c element by element: building
 * one msgpack_object per id was most of the decoding time, and the engine
 * only needs their count. The bounds walk, which has to step over every
 * element anyway, notes each such array; msgpack-c then decodes a copy of
 * the record in which each is replaced by a 3-byte placeholder (a fixext1
 * whose data byte is the array's index here, recognised by its address in
 * the copy, so an ext in the input can never pass for one). When a
 * consumer needs the elements, msgpack-c decodes the original bytes of
 * the array. Up to WIRE_ELIDE_MAX arrays per record are elided; the rest
 * go to msgpack-c as they are.
 */
#define WIRE_ELIDE_MIN 8
#define WIRE_ELIDE_MAX 4

struct wire_elided {
	size_t off, len;	/* the array in the record as received */
	uint32_t count;		/* its elements, all integers in int64 */
	size_t at;		/* the placeholder's offset in the copy */
};

/* Elided arrays found by one walk. */
struct wire_elide {
	struct wire_elided *el;
	unsigned n;
};

enum wire_walk_result {
	WALK_OK = 0,
	WALK_BAD = -1,		/* truncated, reserved byte 0xc1, ... */
	WALK_DEEP = -2,		/* nested deeper than WIRE_DEPTH_MAX */
	WALK_HUGE = -3		/* a declared count cannot fit the bytes left */
};

/* The big-endian unsigned integer in p[0..n), n <= 8. The widths
 * MessagePack uses (1, 2, 4, 8) are one load each: the lengths and
 * timestamps of every record are read here. */
static inline uint64_t
wire_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	uint32_t w;
	uint16_t h;

	switch (n) {
	case 1:
		return p[0];
	case 2:
		memcpy(&h, p, sizeof(h));
		return be16toh(h);
	case 4:
		memcpy(&w, p, sizeof(w));
		return be32toh(w);
	case 8:
		memcpy(&v, p, sizeof(v));
		return be64toh(v);
	}
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Build the lookup tables; once per process, before any wire_walk. */
void wire_walk_init(void);

/*
 * Walk exactly one MessagePack object at p[0..len) without building it.
 * Checks that every declared length fits in the bytes that remain (every
 * element takes at least one byte) and that nesting is at most
 * WIRE_DEPTH_MAX, so that msgpack-c, which allocates a container's slots
 * before reading them, only ever allocates for elements that really are
 * in the frame. On WALK_OK, *used is the object's size in bytes. With el,
 * nested arrays of WIRE_ELIDE_MIN or more integers are noted there (up to
 * WIRE_ELIDE_MAX), in increasing offset order; they never overlap,
 * holding no containers.
 */
enum wire_walk_result wire_walk(const unsigned char *p, size_t len,
    size_t *used, struct wire_elide *el);

/*
 * Step over the integers that fit int64 at the start of an array of count
 * elements whose first is at p[*off] (p[0..len) in all): returns how many
 * were stepped over, with *off just past the last.
 */
uint64_t wire_int_run(const unsigned char *p, size_t len, size_t *off,
    uint64_t count);

/*
 * The size of the scalar (not an array or map) MessagePack object at
 * p[0..len), or 0 if it is a container, invalid, or runs past len.
 */
size_t wire_walk_scalar(const unsigned char *p, size_t len);

#endif
