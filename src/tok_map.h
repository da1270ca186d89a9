/*
 * Hash tables for the tokenizer's in-memory tables: byte strings to 32-bit
 * ids (vocabularies, added tokens, the word cache) and 64-bit keys to
 * 64-bit values (BPE merges: a pair of ids to its rank and result).
 *
 * Open addressing with linear probing over a power-of-two table, grown at
 * half full. Keys of a strmap are copied into blocks the map owns, so the
 * caller's buffer may go away; a key is at most TOK_MAP_KEY_MAX bytes.
 *
 * Library code: functions return 0 or a negative errno (-ENOMEM, -E2BIG
 * for a key too long) and never print. Lookups (tok_strmap_get,
 * tok_u64map_get) only read, so a map that nothing writes any more may
 * be looked up from several threads at once (the tables tokenizer clones
 * share); a map that is written is used by one thread at a time.
 */
#ifndef METRICSD_TOK_MAP_H
#define METRICSD_TOK_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_MAP_KEY_MAX (1u << 20)	/* longest key: 1 MiB */

struct tok_strmap_slot {
	uint64_t hash;		/* 0: empty slot */
	const char *key;
	uint32_t len;
	uint32_t val;
};

struct tok_strmap {
	struct tok_strmap_slot *slots;
	size_t mask;		/* slots - 1 */
	size_t n;
	struct tok_block *blocks;	/* key storage, private */
};

struct tok_u64map_slot {
	uint64_t key;		/* TOK_U64MAP_EMPTY: empty slot */
	uint64_t val;
};

/* The one key a u64map cannot hold. */
#define TOK_U64MAP_EMPTY UINT64_MAX

struct tok_u64map {
	struct tok_u64map_slot *slots;
	size_t mask;
	size_t n;
};

uint64_t tok_hash(const void *p, size_t len);

/* Size for at least `expect` entries without growing. */
int tok_strmap_init(struct tok_strmap *m, size_t expect);
void tok_strmap_free(struct tok_strmap *m);
/* Drop every entry, keep the table's size. */
void tok_strmap_clear(struct tok_strmap *m);
/*
 * Insert key -> val. If the key is present, leaves it alone and returns 1
 * with *old set to its value; else 0 (or a negative errno).
 */
int tok_strmap_put(struct tok_strmap *m, const char *key, size_t len,
    uint32_t val, uint32_t *old);
/* Look up; true and *val set when present. */
bool tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len,
    uint32_t *val);

int tok_u64map_init(struct tok_u64map *m, size_t expect);
void tok_u64map_free(struct tok_u64map *m);
/* Insert or overwrite; -EINVAL for TOK_U64MAP_EMPTY. */
int tok_u64map_put(struct tok_u64map *m, uint64_t key, uint64_t val);
bool tok_u64map_get(const struct tok_u64map *m, uint64_t key, uint64_t *val);

#endif
