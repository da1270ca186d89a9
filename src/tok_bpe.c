/*
 * BPE model (tok_bpe.h). The merge loop follows HF's word.rs: every
 * adjacent pair that is a merge goes into a min-heap ordered by (rank,
 * position); the top is applied when still current, and the new pairs it
 * forms with its neighbours go in. That is "always merge the lowest-rank
 * pair, leftmost first", in O(n log n) for long words (SentencePiece
 * models see a whole text as one word).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_bpe.h"
#include "tok_map.h"
#include "tok_text.h"

#define CACHE_WORD_MAX 256		/* longer words are not cached */
#define CACHE_ENTRIES_MAX 200000	/* then the cache starts over */
#define CACHE_POOL_MAX (8u << 20)	/* ids kept, at most */
#define IDS_BITMAP_MAX (1u << 24)	/* larger ids: a hash set */

struct sym {
	uint32_t id;
	int32_t prev, next;
	bool alive;
};

struct merge {
	uint64_t key;		/* rank << 32 | position: the heap order */
	uint32_t new_id;
};

/*
 * What encoding writes: scratch reused across words, and the word cache
 * (word -> offset into pool of [count, ids...]). Every clone has its own;
 * everything else in struct tok_bpe is read-only once finished.
 */
struct bpe_work {
	struct tok_buf mapped, key;
	struct sym *syms;
	size_t syms_cap;
	struct merge *heap;
	size_t heap_cap;
	struct tok_strmap cache;
	uint32_t *pool;
	size_t pool_len, pool_cap;
};

struct tok_bpe {
	struct tok_bpe_options o;
	char *unk, *prefix, *suffix;
	size_t prefix_len, suffix_len;
	struct tok_strmap vocab;
	uint8_t *ids_seen;		/* while loading: a bit per id */
	size_t ids_seen_len;		/* bytes */
	struct tok_u64map ids_far;	/* ids >= IDS_BITMAP_MAX */
	struct tok_u64map merges;	/* a << 32 | b -> rank << 32 | new */
	uint32_t nmerges;
	char byte_char[256][3];		/* GPT-2 byte -> character, UTF-8 */
	uint8_t byte_char_len[256];
	int64_t byte_sym[256];		/* byte-level: the byte's token */
	int64_t fallback[256];		/* <0xXX> tokens, or -1 */
	int64_t unk_id;
	bool fast_bytes;		/* byte_sym usable for every byte */
	bool meta_split;		/* words may be cut before a U+2581 */
	bool shared;			/* the tables are another model's */
	struct bpe_work w;		/* this model's own */
};

/*
 * GPT-2's byte-to-character table: printable Latin-1 bytes stand for
 * themselves, the other 68 bytes take U+0100 upwards in byte order.
 */
static void
byte_table(struct tok_bpe *b)
{
	unsigned n = 0;

	for (unsigned c = 0; c < 256; c++) {
		uint32_t cp;

		if ((c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) ||
		    (c >= 0xae && c <= 0xff))
			cp = c;
		else
			cp = 256 + n++;
		b->byte_char_len[c] =
		    (uint8_t)tok_utf8_put(cp, b->byte_char[c]);
	}
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
tok_bpe_new(struct tok_bpe **out, const struct tok_bpe_options *o,
    size_t vocab_size, size_t merges_size)
{
	struct tok_bpe *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->o = *o;
	b->unk = dup_opt(o->unk_token);
	b->prefix = dup_opt(o->prefix);
	b->suffix = dup_opt(o->suffix);
	if ((o->unk_token && !b->unk) || (o->prefix && !b->prefix) ||
	    (o->suffix && !b->suffix))
		goto nomem;
	b->o.unk_token = b->unk;
	b->o.prefix = b->prefix;
	b->o.suffix = b->suffix;
	b->prefix_len = b->prefix ? strlen(b->prefix) : 0;
	b->suffix_len = b->suffix ? strlen(b->suffix) : 0;
	if (tok_strmap_init(&b->vocab, vocab_size) < 0 ||
	    tok_u64map_init(&b->ids_far, 16) < 0 ||
	    tok_u64map_init(&b->merges, merges_size) < 0 ||
	    tok_strmap_init(&b->w.cache, 4096) < 0)
		goto nomem;
	byte_table(b);
	*out = b;
	return 0;
nomem:
	tok_bpe_free(b);
	return -ENOMEM;
}

static void
work_free(struct bpe_work *w)
{
	tok_strmap_free(&w->cache);
	tok_buf_free(&w->mapped);
	tok_buf_free(&w->key);
	free(w->syms);
	free(w->heap);
	free(w->pool);
}

void
tok_bpe_free(struct tok_bpe *b)
{
	if (b == NULL)
		return;
	if (!b->shared) {
		free(b->unk);
		free(b->prefix);
		free(b->suffix);
		tok_strmap_free(&b->vocab);
		free(b->ids_seen);
		tok_u64map_free(&b->ids_far);
		tok_u64map_free(&b->merges);
	}
	work_free(&b->w);
	free(b);
}

int
tok_bpe_clone(struct tok_bpe **out, const struct tok_bpe *orig)
{
	struct tok_bpe *b = malloc(sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	/* The tables by pointer (the vocab's and merges' slots and key
	 * blocks, the unk/prefix/suffix strings), the rest by value. */
	*b = *orig;
	b->shared = true;
	memset(&b->w, 0, sizeof(b->w));
	if (tok_strmap_init(&b->w.cache, 4096) < 0) {
		free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

size_t
tok_bpe_vocab_size(const struct tok_bpe *b)
{
	return b->vocab.n;
}

bool
tok_bpe_token_id(const struct tok_bpe *b, const char *tok, size_t len,
    uint32_t *id)
{
	return tok_strmap_get(&b->vocab, tok, len, id);
}

/* Print at most 60 bytes of a token for a message. */
static const char *
shown(const char *s, size_t len, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%.*s%s", (int)(len > 60 ? 60 : len), s,
	    len > 60 ? "..." : "");
	return buf;
}

int
tok_bpe_vocab_add(struct tok_bpe *b, const char *tok, size_t len,
    uint32_t id, char *err, size_t errlen)
{
	char s[80];
	uint32_t old;
	uint64_t seen;
	bool dup;
	int r;

	if (id < IDS_BITMAP_MAX) {
		if (id / 8 >= b->ids_seen_len) {
			size_t n = b->ids_seen_len ? b->ids_seen_len : 4096;
			uint8_t *p;

			while (n <= id / 8)
				n *= 2;
			if ((p = realloc(b->ids_seen, n)) == NULL)
				return -ENOMEM;
			memset(p + b->ids_seen_len, 0, n - b->ids_seen_len);
			b->ids_seen = p;
			b->ids_seen_len = n;
		}
		dup = b->ids_seen[id / 8] & (1u << (id % 8));
	} else {
		dup = tok_u64map_get(&b->ids_far, id, &seen);
	}
	if (dup) {
		snprintf(err, errlen, "duplicate id %u (token \"%s\")", id,
		    shown(tok, len, s, sizeof(s)));
		return -EEXIST;
	}
	r = tok_strmap_put(&b->vocab, tok, len, id, &old);
	if (r == -E2BIG) {
		snprintf(err, errlen, "token of id %u is too long (%zu bytes)",
		    id, len);
		return r;
	}
	if (r < 0)
		return r;
	if (r == 1) {
		snprintf(err, errlen, "duplicate token \"%s\" (ids %u and %u)",
		    shown(tok, len, s, sizeof(s)), old, id);
		return -EEXIST;
	}
	if (id < IDS_BITMAP_MAX) {
		b->ids_seen[id / 8] |= (uint8_t)(1u << (id % 8));
		return 0;
	}
	return tok_u64map_put(&b->ids_far, id, 1);
}

int
tok_bpe_merge_add(struct tok_bpe *b, const char *a, size_t alen,
    const char *c, size_t clen, char *err, size_t errlen)
{
	uint32_t ida, idc, idn;
	char s[80];
	int r;

	if (!tok_strmap_get(&b->vocab, a, alen, &ida)) {
		snprintf(err, errlen, "merge %u: \"%s\" is not in the vocab",
		    b->nmerges, shown(a, alen, s, sizeof(s)));
		return -ENOENT;
	}
	if (!tok_strmap_get(&b->vocab, c, clen, &idc)) {
		snprintf(err, errlen, "merge %u: \"%s\" is not in the vocab",
		    b->nmerges, shown(c, clen, s, sizeof(s)));
		return -ENOENT;
	}
	/* The result is a + c without c's continuing-subword prefix. */
	size_t skip = b->prefix_len;

	if (skip > clen)
		skip = clen;
	b->w.key.len = 0;
	if (tok_buf_add(&b->w.key, a, alen) < 0 ||
	    tok_buf_add(&b->w.key, c + skip, clen - skip) < 0)
		return -ENOMEM;
	if (!tok_strmap_get(&b->vocab, b->w.key.p, b->w.key.len, &idn)) {
		snprintf(err, errlen,
		    "merge %u: the merged token \"%s\" is not in the vocab",
		    b->nmerges, shown(b->w.key.p, b->w.key.len, s, sizeof(s)));
		return -ENOENT;
	}
	/* A pair listed twice keeps its last rank, as in HF. */
	r = tok_u64map_put(&b->merges, (uint64_t)ida << 32 | idc,
	    (uint64_t)b->nmerges << 32 | idn);
	if (r < 0)
		return r;
	b->nmerges++;
	return 0;
}

#define META "\xe2\x96\x81"	/* U+2581, SentencePiece's space */

/*
 * SentencePiece-style models see a whole text as one word. When no
 * token has a U+2581 after another character (U+2581 only ever leads a
 * token), no merge can join the text before such a U+2581 with the text
 * after it: the word then splits there into words that merge on their
 * own exactly as within the whole (BPE always merges the lowest rank
 * first, and ranks in different parts never interact), and each part
 * can come from the word cache.
 */
static bool
meta_split_ok(const struct tok_bpe *b)
{
	uint32_t id;

	if (b->o.byte_level || b->prefix_len || b->suffix_len ||
	    !tok_strmap_get(&b->vocab, META, 3, &id))
		return false;
	for (size_t i = 0; i <= b->vocab.mask; i++) {
		const struct tok_strmap_slot *sl = &b->vocab.slots[i];
		const char *k = sl->key;
		size_t j = 0;

		if (sl->hash == 0)
			continue;
		while (j + 3 <= sl->len && memcmp(k + j, META, 3) == 0)
			j += 3;
		for (; j + 3 <= sl->len; j++)
			if (memcmp(k + j, META, 3) == 0)
				return false;
	}
	return true;
}

int
tok_bpe_finish(struct tok_bpe *b, char *err, size_t errlen)
{
	char name[16];
	uint32_t id;

	free(b->ids_seen);
	b->ids_seen = NULL;
	b->ids_seen_len = 0;
	tok_u64map_free(&b->ids_far);
	b->unk_id = -1;
	if (b->unk != NULL) {
		/* HF only fails when an unknown character is met; a
		 * missing unk token is as sure an error, and earlier. */
		if (!tok_strmap_get(&b->vocab, b->unk, strlen(b->unk), &id)) {
			snprintf(err, errlen,
			    "unk_token \"%s\" is not in the vocab", b->unk);
			return -ENOENT;
		}
		b->unk_id = id;
	}
	for (unsigned c = 0; c < 256; c++) {
		snprintf(name, sizeof(name), "<0x%02X>", c);
		b->fallback[c] = tok_strmap_get(&b->vocab, name, strlen(name),
		    &id) ? (int64_t)id : -1;
	}
	b->meta_split = meta_split_ok(b);
	b->fast_bytes = b->o.byte_level && b->prefix_len == 0 &&
	    b->suffix_len == 0;
	for (unsigned c = 0; c < 256 && b->fast_bytes; c++) {
		if (tok_strmap_get(&b->vocab, b->byte_char[c],
		    b->byte_char_len[c], &id))
			b->byte_sym[c] = id;
		else
			b->fast_bytes = false;
	}
	return 0;
}

/* ---- The merge loop ---- */

static int
syms_reserve(struct tok_bpe *b, size_t n)
{
	if (n > b->w.syms_cap) {
		size_t cap = b->w.syms_cap ? b->w.syms_cap : 64;

		while (cap < n)
			cap *= 2;
		struct sym *s = realloc(b->w.syms, cap * sizeof(*s));
		struct merge *h = realloc(b->w.heap, cap * 2 * sizeof(*h));

		if (s != NULL)
			b->w.syms = s;
		if (h != NULL)
			b->w.heap = h;
		if (s == NULL || h == NULL)
			return -ENOMEM;
		b->w.syms_cap = cap;
		b->w.heap_cap = cap * 2;
	}
	return 0;
}

static int
heap_push(struct tok_bpe *b, size_t *n, uint64_t key, uint32_t new_id)
{
	if (*n == b->w.heap_cap) {
		size_t cap = b->w.heap_cap * 2;
		struct merge *h = realloc(b->w.heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		b->w.heap = h;
		b->w.heap_cap = cap;
	}
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (b->w.heap[p].key <= key)
			break;
		b->w.heap[i] = b->w.heap[p];
		i = p;
	}
	b->w.heap[i] = (struct merge){ key, new_id };
	return 0;
}

static struct merge
heap_pop(struct tok_bpe *b, size_t *n)
{
	struct merge top = b->w.heap[0], last = b->w.heap[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && b->w.heap[c + 1].key < b->w.heap[c].key)
			c++;
		if (b->w.heap[c].key >= last.key)
			break;
		b->w.heap[i] = b->w.heap[c];
		i = c;
	}
	if (*n > 0)
		b->w.heap[i] = last;
	return top;
}

static inline bool
merge_get(const struct tok_bpe *b, uint32_t l, uint32_t r, uint64_t *m)
{
	return tok_u64map_get(&b->merges, (uint64_t)l << 32 | r, m);
}

static int
merge_all(struct tok_bpe *b, size_t n)
{
	struct sym *s = b->w.syms;
	size_t hn = 0;
	uint64_t m;

	for (size_t i = 0; i + 1 < n; i++)
		if (merge_get(b, s[i].id, s[i + 1].id, &m) &&
		    heap_push(b, &hn, (m & 0xffffffff00000000ull) | i,
		    (uint32_t)m) < 0)
			return -ENOMEM;
	while (hn > 0) {
		struct merge top = heap_pop(b, &hn);
		size_t pos = (uint32_t)top.key;

		if (!s[pos].alive || s[pos].next < 0)
			continue;
		size_t nx = (size_t)s[pos].next;

		if (!merge_get(b, s[pos].id, s[nx].id, &m) ||
		    (uint32_t)m != top.new_id)
			continue;	/* stale entry */
		s[pos].id = top.new_id;
		s[pos].next = s[nx].next;
		s[nx].alive = false;
		if (s[nx].next >= 0)
			s[s[nx].next].prev = (int32_t)pos;
		if (s[pos].prev >= 0) {
			size_t pv = (size_t)s[pos].prev;

			if (merge_get(b, s[pv].id, s[pos].id, &m) &&
			    heap_push(b, &hn, (m & 0xffffffff00000000ull) |
			    pv, (uint32_t)m) < 0)
				return -ENOMEM;
		}
		if (s[pos].next >= 0 &&
		    merge_get(b, s[pos].id, s[s[pos].next].id, &m) &&
		    heap_push(b, &hn, (m & 0xffffffff00000000ull) | pos,
		    (uint32_t)m) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- Words ---- */

static inline void
sym_add(struct tok_bpe *b, size_t *n, uint32_t id)
{
	struct sym *s = &b->w.syms[*n];

	s->id = id;
	s->prev = (int32_t)*n - 1;
	s->next = (int32_t)*n + 1;
	s->alive = true;
	(*n)++;
}

/*
 * The initial symbols of a word, one per character (HF merge_word):
 * the character's token (with prefix/suffix), else its <0xXX> bytes
 * when byte_fallback holds them all, else the unk token (consecutive
 * unknowns fused into one with fuse_unk), else nothing.
 */
static int
initial_symbols(struct tok_bpe *b, const char *w, size_t len, size_t *count)
{
	size_t n = 0;
	int64_t unk = -1;
	uint32_t id;

	if (syms_reserve(b, len + 1) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		size_t cl = tok_utf8_len((unsigned char)w[i]);
		const char *k = w + i;
		size_t klen = cl;
		bool found;

		if (i + cl > len)
			cl = klen = len - i;
		if ((i > 0 && b->prefix_len) || (i + cl == len &&
		    b->suffix_len)) {
			b->w.key.len = 0;
			if ((i > 0 && tok_buf_add(&b->w.key, b->prefix,
			    b->prefix_len) < 0) ||
			    tok_buf_add(&b->w.key, w + i, cl) < 0 ||
			    (i + cl == len && tok_buf_add(&b->w.key, b->suffix,
			    b->suffix_len) < 0))
				return -ENOMEM;
			k = b->w.key.p;
			klen = b->w.key.len;
		}
		found = tok_strmap_get(&b->vocab, k, klen, &id);
		if (found) {
			if (unk >= 0) {
				sym_add(b, &n, (uint32_t)unk);
				unk = -1;
			}
			sym_add(b, &n, id);
		} else {
			bool all = b->o.byte_fallback;

			for (size_t j = 0; j < klen && all; j++)
				all = b->fallback[(unsigned char)k[j]] >= 0;
			if (all) {
				/* HF adds them without flushing a pending
				 * unk first; keep its order. */
				if (syms_reserve(b, n + klen + len - i + 1) < 0)
					return -ENOMEM;
				for (size_t j = 0; j < klen; j++)
					sym_add(b, &n, (uint32_t)b->fallback[
					    (unsigned char)k[j]]);
			} else if (b->unk_id >= 0) {
				if (unk >= 0 && !b->o.fuse_unk)
					sym_add(b, &n, (uint32_t)unk);
				if (unk < 0 || !b->o.fuse_unk)
					unk = b->unk_id;
			}
		}
		i += cl;
		if (syms_reserve(b, n + (len - i) + 2) < 0)
			return -ENOMEM;
	}
	if (unk >= 0)
		sym_add(b, &n, (uint32_t)unk);
	if (n > 0)
		b->w.syms[n - 1].next = -1;
	*count = n;
	return 0;
}

static int
cache_put(struct tok_bpe *b, const char *w, size_t len, const uint32_t *ids,
    size_t n)
{
	if (b->w.cache.n >= CACHE_ENTRIES_MAX || b->w.pool_len + n + 1 >
	    CACHE_POOL_MAX) {
		tok_strmap_clear(&b->w.cache);
		b->w.pool_len = 0;
	}
	if (b->w.pool_len + n + 1 > b->w.pool_cap) {
		size_t cap = b->w.pool_cap ? b->w.pool_cap * 2 : 65536;
		uint32_t *p;

		while (cap < b->w.pool_len + n + 1)
			cap *= 2;
		p = realloc(b->w.pool, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		b->w.pool = p;
		b->w.pool_cap = cap;
	}
	uint32_t off = (uint32_t)b->w.pool_len;

	b->w.pool[b->w.pool_len++] = (uint32_t)n;
	if (n > 0)
		memcpy(b->w.pool + b->w.pool_len, ids, n * sizeof(*ids));
	b->w.pool_len += n;
	return tok_strmap_put(&b->w.cache, w, len, off, NULL) < 0 ? -ENOMEM : 0;
}

static int encode_one(struct tok_bpe *b, const char *w, size_t len,
    struct tok_ids *ids);

int
tok_bpe_encode_word(struct tok_bpe *b, const char *w, size_t len,
    struct tok_ids *ids)
{
	size_t start = 0;
	int r;

	if (!b->meta_split || len <= 3)
		return encode_one(b, w, len, ids);
	/* Cut before every U+2581 that follows another character. */
	for (size_t i = 3; i + 3 <= len; i++) {
		if (memcmp(w + i, META, 3) != 0 ||
		    (i >= 3 && memcmp(w + i - 3, META, 3) == 0))
			continue;
		if ((r = encode_one(b, w + start, i - start, ids)) < 0)
			return r;
		start = i;
		i += 2;
	}
	return encode_one(b, w + start, len - start, ids);
}

static int
encode_one(struct tok_bpe *b, const char *w, size_t len, struct tok_ids *ids)
{
	const char *m = w;
	size_t mlen = len, n = 0, first = ids->n;
	uint32_t off, id;
	int r;

	if (len == 0)
		return 0;
	if (len <= CACHE_WORD_MAX && tok_strmap_get(&b->w.cache, w, len, &off)) {
		for (uint32_t i = 0; i < b->w.pool[off]; i++)
			if (tok_ids_push(ids, b->w.pool[off + 1 + i]) < 0)
				return -ENOMEM;
		return 0;
	}
	if (b->o.byte_level) {
		b->w.mapped.len = 0;
		if (tok_buf_reserve(&b->w.mapped, len * 2) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)w[i];

			memcpy(b->w.mapped.p + b->w.mapped.len, b->byte_char[c],
			    b->byte_char_len[c]);
			b->w.mapped.len += b->byte_char_len[c];
		}
		m = b->w.mapped.p;
		mlen = b->w.mapped.len;
	}
	if (b->o.ignore_merges && tok_strmap_get(&b->vocab, m, mlen, &id)) {
		if (tok_ids_push(ids, id) < 0)
			return -ENOMEM;
		goto cache;
	}
	if (b->fast_bytes) {
		if (syms_reserve(b, len + 1) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++)
			sym_add(b, &n, (uint32_t)b->byte_sym[(unsigned char)w[i]]);
		b->w.syms[n - 1].next = -1;
	} else if ((r = initial_symbols(b, m, mlen, &n)) < 0) {
		return r;
	}
	if (n > 1 && merge_all(b, n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (b->w.syms[i].alive && tok_ids_push(ids, b->w.syms[i].id) < 0)
			return -ENOMEM;
cache:
	if (len <= CACHE_WORD_MAX)
		return cache_put(b, w, len, ids->n > first ? ids->v + first :
		    NULL, ids->n - first);
	return 0;
}
