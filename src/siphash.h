/*
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash of a byte string. The in-flight table hashes
 * sample uuids with SipHash-1-3 under a random per-process key, so uuids
 * chosen to collide cannot degrade its lookups; SipHash-2-4, the paper's
 * recommended variant, is here too so that the shared code is checked
 * against the paper's reference vectors.
 *
 * The key is two little-endian 64-bit words: bytes 0-7 of the 16-byte key
 * are k0, bytes 8-15 are k1.
 */
#ifndef METRICSD_SIPHASH_H
#define METRICSD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 (one compression round, three finalisation rounds). */
uint64_t siphash13(uint64_t k0, uint64_t k1, const void *p, size_t len);

/* SipHash-2-4. */
uint64_t siphash24(uint64_t k0, uint64_t k1, const void *p, size_t len);

#endif
