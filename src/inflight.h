/*
 * The in-flight table: samples issued and not yet completed, looked up by
 * their uuid on every sample event.
 *
 * Rows live densely in an array; an open-addressing index (linear probing,
 * kept at most half full, backward-shift deletion so there are no
 * tombstones) maps a uuid to its row. The caller hashes the uuid once
 * with inflight_hash (SipHash-1-3 under a random per-table key, so uuids
 * chosen to collide cannot degrade lookups) and passes the hash to the
 * other calls.
 *
 * A row costs 80 bytes plus a 4-byte index slot at a load of at most 1/2,
 * plus a heap copy of its uuid when that is longer than
 * INFLIGHT_UUID_INLINE bytes. Rows move: a row pointer is valid only until
 * the next inflight_add or inflight_remove.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_INFLIGHT_H
#define METRICSD_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define INFLIGHT_UUID_INLINE 37	/* "hex32" and dashed uuid forms fit */
#define INFLIGHT_UUID_MAX UINT16_MAX

/*
 * One sample in flight. hash, len and uuid belong to the table; the rest
 * is the caller's, zeroed by inflight_add.
 */
struct inflight_row {
	uint64_t hash;
	int64_t issued;		/* sample.issued timestamp */
	int64_t first;		/* recv_first timestamp */
	int64_t last;		/* latest receive timestamp */
	void *owner;		/* the caller's (the engine: its block) */
	uint16_t len;
	uint8_t flags;		/* the caller's */
	/* The uuid itself, or (len > INFLIGHT_UUID_INLINE) a pointer to a
	 * heap copy: use inflight_row_uuid. */
	char uuid[INFLIGHT_UUID_INLINE];
};

struct inflight {
	uint32_t *slots;	/* row index + 1; 0 = empty */
	size_t mask;		/* slot count - 1 */
	struct inflight_row *rows;
	size_t n, cap;		/* rows in use, rows allocated */
	uint64_t k0, k1;	/* the hash key */
};

/* An empty table with a fresh random key. 0 or -ENOMEM. */
int inflight_init(struct inflight *t);
void inflight_free(struct inflight *t);

/* The hash of uuid under the table's key (inline: every sample event). */
static inline uint64_t
inflight_hash(const struct inflight *t, const char *uuid, size_t len)
{
	return siphash13(t->k0, t->k1, uuid, len);
}

/* The row of uuid (whose hash is h), or NULL. */
struct inflight_row *inflight_find(struct inflight *t, const char *uuid,
    size_t len, uint64_t h);

/*
 * A new zeroed row for uuid, which must not be in the table, with
 * 0 < len <= INFLIGHT_UUID_MAX. NULL when out of memory (the table is
 * then unchanged).
 */
struct inflight_row *inflight_add(struct inflight *t, const char *uuid,
    size_t len, uint64_t h);

/* Remove a row (from inflight_find or inflight_add). Never fails. */
void inflight_remove(struct inflight *t, struct inflight_row *r);

const char *inflight_row_uuid(const struct inflight_row *r);

static inline size_t
inflight_count(const struct inflight *t)
{
	return t->n;
}

#endif
