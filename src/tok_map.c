/*
 * Open-addressing hash tables for the tokenizer (see tok_map.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok_map.h"

/* Key storage: blocks chained from the map, never moved once written. */
struct tok_block {
	struct tok_block *next;
	size_t used, cap;
	char data[];
};

#define BLOCK_MIN (256u * 1024)

/*
 * A 64-bit hash: 8 bytes at a time, multiply and fold (in the spirit of
 * wyhash/FxHash). Never 0, so 0 marks an empty slot.
 */
uint64_t
tok_hash(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t w = 0;

		memcpy(&w, s, len);
		h = (h ^ w) * 0x100000001b3ull;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h ? h : 1;
}

static size_t
table_size(size_t expect)
{
	size_t n = 16;

	while (n < expect * 2)
		n <<= 1;
	return n;
}

int
tok_strmap_init(struct tok_strmap *m, size_t expect)
{
	size_t n = table_size(expect);

	memset(m, 0, sizeof(*m));
	m->slots = calloc(n, sizeof(*m->slots));
	if (m->slots == NULL)
		return -ENOMEM;
	m->mask = n - 1;
	return 0;
}

void
tok_strmap_free(struct tok_strmap *m)
{
	struct tok_block *b = m->blocks;

	while (b != NULL) {
		struct tok_block *next = b->next;

		free(b);
		b = next;
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

void
tok_strmap_clear(struct tok_strmap *m)
{
	struct tok_block *b = m->blocks;

	/* Keep the first (newest) block for reuse, free the rest. */
	if (b != NULL) {
		struct tok_block *rest = b->next;

		b->next = NULL;
		b->used = 0;
		while (rest != NULL) {
			struct tok_block *next = rest->next;

			free(rest);
			rest = next;
		}
	}
	memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
	m->n = 0;
}

static char *
key_store(struct tok_strmap *m, const char *key, size_t len)
{
	struct tok_block *b = m->blocks;

	if (b == NULL || b->cap - b->used < len) {
		size_t cap = len > BLOCK_MIN ? len : BLOCK_MIN;

		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = m->blocks;
		m->blocks = b;
	}
	char *p = b->data + b->used;

	if (len > 0)
		memcpy(p, key, len);
	b->used += len;
	return p;
}

static int
strmap_grow(struct tok_strmap *m)
{
	size_t n = (m->mask + 1) * 2;
	struct tok_strmap_slot *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= m->mask; i++) {
		struct tok_strmap_slot *o = &m->slots[i];

		if (o->hash == 0)
			continue;
		size_t j = o->hash & (n - 1);

		while (s[j].hash != 0)
			j = (j + 1) & (n - 1);
		s[j] = *o;
	}
	free(m->slots);
	m->slots = s;
	m->mask = n - 1;
	return 0;
}

int
tok_strmap_put(struct tok_strmap *m, const char *key, size_t len,
    uint32_t val, uint32_t *old)
{
	uint64_t h;
	size_t i;

	if (len > TOK_MAP_KEY_MAX)
		return -E2BIG;
	if ((m->n + 1) * 2 > m->mask + 1) {
		int r = strmap_grow(m);

		if (r < 0)
			return r;
	}
	h = tok_hash(key, len);
	for (i = h & m->mask; m->slots[i].hash != 0; i = (i + 1) & m->mask) {
		struct tok_strmap_slot *s = &m->slots[i];

		if (s->hash == h && s->len == len &&
		    memcmp(s->key, key, len) == 0) {
			if (old != NULL)
				*old = s->val;
			return 1;
		}
	}
	const char *k = key_store(m, key, len);

	if (k == NULL)
		return -ENOMEM;
	m->slots[i] = (struct tok_strmap_slot){ h, k, (uint32_t)len, val };
	m->n++;
	return 0;
}

bool
tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len,
    uint32_t *val)
{
	uint64_t h;

	if (m->slots == NULL || len > TOK_MAP_KEY_MAX)
		return false;
	h = tok_hash(key, len);
	for (size_t i = h & m->mask; m->slots[i].hash != 0;
	    i = (i + 1) & m->mask) {
		const struct tok_strmap_slot *s = &m->slots[i];

		if (s->hash == h && s->len == len &&
		    memcmp(s->key, key, len) == 0) {
			*val = s->val;
			return true;
		}
	}
	return false;
}

static inline size_t
u64_slot(uint64_t key, size_t mask)
{
	key ^= key >> 31;
	key *= 0x7fb5d329728ea185ull;
	key ^= key >> 27;
	return key & mask;
}

int
tok_u64map_init(struct tok_u64map *m, size_t expect)
{
	size_t n = table_size(expect);

	memset(m, 0, sizeof(*m));
	m->slots = malloc(n * sizeof(*m->slots));
	if (m->slots == NULL)
		return -ENOMEM;
	memset(m->slots, 0xff, n * sizeof(*m->slots));
	m->mask = n - 1;
	return 0;
}

void
tok_u64map_free(struct tok_u64map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static int
u64map_grow(struct tok_u64map *m)
{
	size_t n = (m->mask + 1) * 2;
	struct tok_u64map_slot *s = malloc(n * sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	memset(s, 0xff, n * sizeof(*s));
	for (size_t i = 0; i <= m->mask; i++) {
		if (m->slots[i].key == TOK_U64MAP_EMPTY)
			continue;
		size_t j = u64_slot(m->slots[i].key, n - 1);

		while (s[j].key != TOK_U64MAP_EMPTY)
			j = (j + 1) & (n - 1);
		s[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->mask = n - 1;
	return 0;
}

int
tok_u64map_put(struct tok_u64map *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (key == TOK_U64MAP_EMPTY)
		return -EINVAL;
	if ((m->n + 1) * 2 > m->mask + 1) {
		int r = u64map_grow(m);

		if (r < 0)
			return r;
	}
	for (i = u64_slot(key, m->mask); m->slots[i].key != TOK_U64MAP_EMPTY;
	    i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	m->slots[i] = (struct tok_u64map_slot){ key, val };
	m->n++;
	return 0;
}

bool
tok_u64map_get(const struct tok_u64map *m, uint64_t key, uint64_t *val)
{
	if (m->slots == NULL)
		return false;
	for (size_t i = u64_slot(key, m->mask);
	    m->slots[i].key != TOK_U64MAP_EMPTY; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			*val = m->slots[i].val;
			return true;
		}
	}
	return false;
}
