/*
 * SipHash with c compression and d finalisation rounds (see siphash.h).
 * One body, instantiated for 1-3 and 2-4 with constant round counts so
 * that the compiler unrolls the round loops.
 */
#include <endian.h>
#include <string.h>

#include "siphash.h"

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void
sipround(struct sip *s)
{
	s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void
compress(struct sip *s, uint64_t m, int c)
{
	s->v3 ^= m;
	for (int r = 0; r < c; r++)
		sipround(s);
	s->v0 ^= m;
}

static inline uint64_t
sip(int c, int d, uint64_t k0, uint64_t k1, const void *in, size_t len)
{
	const unsigned char *p = in;
	struct sip s = {
		0x736f6d6570736575ull ^ k0, 0x646f72616e646f6dull ^ k1,
		0x6c7967656e657261ull ^ k0, 0x7465646279746573ull ^ k1,
	};
	uint64_t last = (uint64_t)len << 56;
	size_t i;

	/* Unrolled: the uuid of every event is hashed, 4 or 5 blocks. */
#pragma GCC unroll 4
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t m;

		/* One load, not eight: the uuid of every event is hashed. */
		memcpy(&m, p + i, sizeof(m));
		compress(&s, le64toh(m), c);
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	compress(&s, last, c);
	s.v2 ^= 0xff;
#pragma GCC unroll 4
	for (int r = 0; r < d; r++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t
siphash13(uint64_t k0, uint64_t k1, const void *p, size_t len)
{
	return sip(1, 3, k0, k1, p, len);
}

uint64_t
siphash24(uint64_t k0, uint64_t k1, const void *p, size_t len)
{
	return sip(2, 4, k0, k1, p, len);
}
