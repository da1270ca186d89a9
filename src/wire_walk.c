/*
 * The MessagePack bounds walker (see wire_walk.h).
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"
#include "wire_walk.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * For each lead byte, the whole size of an object whose size the lead
 * byte alone determines (fixint, nil, bool, fixstr, numbers, fixext);
 * 0 for the rest: containers, variable-length str/bin/ext, and 0xc1.
 */
static unsigned char fixed_size[256];

/*
 * The size of an integer that fits int64 by its lead byte; 0 for anything
 * else, and for uint64 (0xcf), whose value may not fit.
 */
static unsigned char int_size[256];

void
wire_walk_init(void)
{
	for (int b = 0; b < 256; b++) {
		if (b <= 0x7f || b >= 0xe0)
			int_size[b] = 1;
		else if (b >= 0xcc && b <= 0xd3 && b != 0xcf)
			int_size[b] = (unsigned char)(1 + (1 << (b & 3)));
	}
	for (int b = 0; b < 256; b++) {
		unsigned char s = 0;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3)
			s = 1;
		else if (b >= 0xa0 && b <= 0xbf)
			s = (unsigned char)(1 + (b & 0x1f));
		else switch (b) {
		case 0xca: s = 5; break;
		case 0xcb: s = 9; break;
		case 0xcc: case 0xd0: s = 2; break;
		case 0xcd: case 0xd1: s = 3; break;
		case 0xce: case 0xd2: s = 5; break;
		case 0xcf: case 0xd3: s = 9; break;
		case 0xd4: s = 3; break;	/* fixext: type + data */
		case 0xd5: s = 4; break;
		case 0xd6: s = 6; break;
		case 0xd7: s = 10; break;
		case 0xd8: s = 18; break;
		}
		fixed_size[b] = s;
	}
}

/*
 * Whether the 24 bytes at p are eight uint16 (0xcd, 3 bytes each: the ids
 * of a vocabulary under 65536, the usual case), by their lead bytes at
 * 0, 3, ..., 21: three loads and three masked compares. Little-endian
 * words: byte k of a word is at bits 8k.
 */
static inline bool
eight_u16(const unsigned char *p)
{
	uint64_t w0, w1, w2;

	memcpy(&w0, p, 8);
	memcpy(&w1, p + 8, 8);
	memcpy(&w2, p + 16, 8);
	w0 = le64toh(w0);
	w1 = le64toh(w1);
	w2 = le64toh(w2);
	/* leads at bytes 0, 3, 6 | 9, 12, 15 | 18, 21 */
	return (w0 & 0x00ff0000ff0000ffull) == 0x00cd0000cd0000cdull &&
	    (w1 & 0xff0000ff0000ff00ull) == 0xcd0000cd0000cd00ull &&
	    (w2 & 0x0000ff0000ff0000ull) == 0x0000cd0000cd0000ull;
}

#ifdef __SSE2__
/*
 * eight_u16 twice, for the 48 bytes at p: their 16 lead bytes (at 0, 3,
 * ..., 45) all 0xcd, compared 16 bytes at a time.
 */
static inline bool
sixteen_u16(const unsigned char *p)
{
	const __m128i cd = _mm_set1_epi8((char)0xcd);
	const uint64_t lead = 0x249249249249ull;	/* bits 0, 3, ..., 45 */
	uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_loadu_si128((const __m128i *)p), cd));
	uint64_t m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_loadu_si128((const __m128i *)(p + 16)), cd));
	uint64_t m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_loadu_si128((const __m128i *)(p + 32)), cd));

	return ((m0 | m1 << 16 | m2 << 32) & lead) == lead;
}
#endif

/*
 * Step over the leading integers of an array whose count elements start
 * at p[*off]: in one tight loop, since token ids are most of a record.
 * Only integers get_int accepts count (a uint64 only if it fits int64),
 * so an array fully stepped over holds nothing else. Returns how many
 * were stepped over; *off is then just past the last.
 */
static inline uint64_t
int_run(const unsigned char *p, size_t len, size_t *offp, uint64_t count)
{
	/* While 9 bytes (the largest integer) remain, no element can run
	 * past the end. */
	size_t safe = len > 8 ? len - 8 : 0;
	size_t off = *offp;
	uint64_t i = 0;

	for (;;) {
		/* Four at a time while 36 bytes are left. */
		while (count - i >= 4 && off < safe && safe - off > 27) {
			unsigned c = p[off];
			size_t o = off, s = int_size[c];

			/* Eight 16-bit ids at a time; 27 bytes left past
			 * safe means 35 past off, so all 24 are there. The
			 * steps the count and the bytes allow are counted
			 * first (this loop holds safe - off > 27): each
			 * step then only checks its lead bytes. */
			if (c == 0xcd) {
				uint64_t k;
#ifdef __SSE2__
				/* Sixteen at a time first, while the count
				 * and the bytes allow. */
				size_t kb = (len - off) / 48;

				k = (count - i) / 16;
				if (k > kb)
					k = kb;
				for (; k > 0 && sixteen_u16(p + off); k--) {
					off += 48;
					i += 16;
				}
				if (off != o)
					continue;	/* the conditions again */
#endif
				k = (count - i) / 8;
				if (k > (safe - off - 28) / 24 + 1)
					k = (safe - off - 28) / 24 + 1;
				for (; k > 0 && eight_u16(p + off); k--) {
					off += 24;
					i += 8;
				}
				if (off != o)
					continue;	/* the conditions again */
			}

			/* A run of one width (ids of a 16-bit vocabulary
			 * are all 0xcd): the next lead bytes are at known
			 * offsets, so the loads do not wait on each other,
			 * and the cursor only on s. */
			while (s > 1 && p[off] == c && p[off + s] == c &&
			    p[off + 2 * s] == c && p[off + 3 * s] == c) {
				off += 4 * s;
				i += 4;
				if (count - i < 4 || off >= safe ||
				    safe - off <= 27)
					break;
			}
			if (off != o)
				continue;
			/* Mixed: a non-integer stops the cursor (its size
			 * is 0), so the last step is 0 if any is. */
			o += int_size[p[o]];
			o += int_size[p[o]];
			o += int_size[p[o]];
			s = int_size[p[o]];
			if (s == 0)
				break;
			off = o + s;
			i += 4;
		}
		while (i < count && off < len) {
			size_t s = int_size[p[off]];

			if (s == 0 || s > len - off)
				break;
			off += s;
			i++;
		}
		/* A uint64 that fits int64 goes on. */
		if (i == count || len - off < 9 || p[off] != 0xcf ||
		    p[off + 1] >= 0x80)
			break;
		off += 9;
		i++;
	}
	*offp = off;
	return i;
}

/*
 * The lead byte b of a container, or of a variable-length str, bin or
 * ext, at p[0..room): its child count (key and value count apart in a
 * map) or byte length in *count, the size of its length field in
 * *lenbytes, the ext type byte in *extra. False for 0xc1 or a truncated
 * length field.
 */
static inline bool
lead(unsigned b, const unsigned char *p, size_t room, uint64_t *count,
    int *lenbytes, size_t *extra, bool *container)
{
	*container = true;
	*extra = 0;
	if ((b & 0xf0) == 0x80) {
		*count = 2 * (uint64_t)(b & 0x0f);
		*lenbytes = 0;
		return true;
	}
	if ((b & 0xf0) == 0x90) {
		*count = b & 0x0f;
		*lenbytes = 0;
		return true;
	}
	*container = false;
	switch (b) {
	case 0xc4: case 0xd9: *lenbytes = 1; break;	/* bin8 str8 */
	case 0xc5: case 0xda: *lenbytes = 2; break;
	case 0xc6: case 0xdb: *lenbytes = 4; break;
	case 0xc7: *lenbytes = 1; *extra = 1; break;	/* ext */
	case 0xc8: *lenbytes = 2; *extra = 1; break;
	case 0xc9: *lenbytes = 4; *extra = 1; break;
	case 0xdc: *lenbytes = 2; *container = true; break;
	case 0xdd: *lenbytes = 4; *container = true; break;
	case 0xde: *lenbytes = 2; *container = true; break;
	case 0xdf: *lenbytes = 4; *container = true; break;
	default: return false;	/* 0xc1 is never used */
	}
	if (room < 1 + (size_t)*lenbytes)
		return false;
	*count = wire_be(p + 1, *lenbytes);
	if (b == 0xde || b == 0xdf)
		*count *= 2;	/* map: key and value */
	return true;
}

/*
 * This runs on every record, so the common case (a scalar whose size the
 * lead byte gives) is one table load and one bounds check.
 */
enum wire_walk_result
wire_walk(const unsigned char *p, size_t len, size_t *used,
    struct wire_elide *el)
{
	uint64_t todo[WIRE_DEPTH_MAX + 1];
	uint64_t left = 1;	/* objects still to read at this level */
	int depth = 0;
	size_t off = 0;

	for (;;) {
		while (left == 0) {
			if (depth == 0) {
				*used = off;
				return WALK_OK;
			}
			left = todo[--depth];
		}
		left--;
		if (off >= len)
			return WALK_BAD;

		unsigned b = p[off];
		size_t sz = fixed_size[b];

		if (sz) {
			if (sz > len - off)
				return WALK_BAD;
			off += sz;
			continue;
		}

		uint64_t count;		/* children, or bytes */
		int lenbytes;		/* size of the length field */
		size_t extra;		/* ext type byte */
		bool container;

		if (!lead(b, p + off, len - off, &count, &lenbytes, &extra,
		    &container))
			return WALK_BAD;
		off += 1 + (size_t)lenbytes;
		if (!container) {
			/* count is a byte length here */
			if (extra + count > len - off)
				return WALK_BAD;
			off += extra + (size_t)count;
			continue;
		}
		if (count == 0)
			continue;
		if (count > len - off)
			return WALK_HUGE;
		if (depth == WIRE_DEPTH_MAX)
			return WALK_DEEP;
		if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
			size_t start = off - 1 - (size_t)lenbytes;
			uint64_t i = int_run(p, len, &off, count);

			if (i == count) {
				if (el && depth > 0 && count >= WIRE_ELIDE_MIN &&
				    el->n < WIRE_ELIDE_MAX) {
					el->el[el->n].off = start;
					el->el[el->n].len = off - start;
					el->el[el->n].count = (uint32_t)count;
					el->n++;
				}
				continue;
			}
			count -= i;
		}
		todo[depth++] = left;
		left = count;
	}
}

uint64_t
wire_int_run(const unsigned char *p, size_t len, size_t *off, uint64_t count)
{
	return int_run(p, len, off, count);
}

size_t
wire_walk_scalar(const unsigned char *p, size_t len)
{
	uint64_t count;
	int lenbytes;
	size_t extra, sz, off;
	bool container;

	if (len == 0)
		return 0;
	if ((sz = fixed_size[p[0]]) != 0)
		return sz <= len ? sz : 0;
	if (!lead(p[0], p, len, &count, &lenbytes, &extra, &container) ||
	    container)
		return 0;
	off = 1 + (size_t)lenbytes;
	if (extra + count > len - off)
		return 0;
	return off + extra + (size_t)count;
}
