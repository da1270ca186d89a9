/*
 * Scratch arena, piece lists, buffers and UTF-8 helpers (tok_text.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok_text.h"
#include "tok_unicode.h"

struct tok_arena_block {
	struct tok_arena_block *next;
	size_t used, cap;
	char data[];
};

#define ARENA_MIN (64u * 1024)

char *
tok_arena_alloc(struct tok_arena *a, size_t len)
{
	struct tok_arena_block *b = a->head;

	if (b == NULL || b->cap - b->used < len) {
		size_t cap = ARENA_MIN;

		if (b != NULL && b->cap * 2 > cap)
			cap = b->cap * 2;
		if (cap < len)
			cap = len;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	char *p = b->data + b->used;

	b->used += len;
	return p;
}

void
tok_arena_reset(struct tok_arena *a)
{
	struct tok_arena_block *b = a->head;

	if (b == NULL)
		return;
	/* The newest block is the biggest: keep it. */
	struct tok_arena_block *rest = b->next;

	b->next = NULL;
	b->used = 0;
	while (rest != NULL) {
		struct tok_arena_block *next = rest->next;

		free(rest);
		rest = next;
	}
}

void
tok_arena_free(struct tok_arena *a)
{
	tok_arena_reset(a);
	free(a->head);
	a->head = NULL;
}

int
tok_pieces_push(struct tok_pieces *l, const char *p, size_t len, int64_t id,
    bool first)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct tok_piece *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct tok_piece){ p, len, id, first };
	return 0;
}

void
tok_pieces_free(struct tok_pieces *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
tok_ids_push(struct tok_ids *ids, uint32_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 256;
		uint32_t *v = realloc(ids->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

int
tok_buf_reserve(struct tok_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	size_t cap = b->cap ? b->cap : 256;

	while (cap - b->len < extra)
		cap *= 2;
	char *p = realloc(b->p, cap);

	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
tok_buf_add(struct tok_buf *b, const void *p, size_t len)
{
	int r = tok_buf_reserve(b, len);

	if (r < 0)
		return r;
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

void
tok_buf_free(struct tok_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

size_t
tok_utf8_next(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = tok_utf8_len(s[0]);

	if (n > len)
		n = len;	/* cannot happen on valid text */
	switch (n) {
	case 1: *cp = s[0]; break;
	case 2: *cp = (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu); break;
	case 3: *cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 |
		    (s[2] & 0x3fu); break;
	default: *cp = (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 |
		    (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu); break;
	}
	return n;
}

size_t
tok_utf8_put(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Length of the valid character at s[0..len), or 0 if it is invalid; then
 * *bad is the length of its maximal invalid subpart (at least 1), the
 * unit Unicode (and Python) replace with one U+FFFD.
 */
static size_t
char_check(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned c = s[0];
	unsigned lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;

		if (i >= len || s[i] < l || s[i] > h) {
			*bad = i;
			return 0;
		}
	}
	return n;
}

size_t
tok_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, bad;

	while (i < len) {
		/* ASCII runs 8 bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		size_t n = char_check(s + i, len - i, &bad);

		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

long
tok_utf8_repair(const char *str, size_t len, struct tok_buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	long repl = 0;

	while (i < len) {
		size_t ok = tok_utf8_valid(str + i, len - i), bad = 1;

		if (tok_buf_add(out, str + i, ok) < 0)
			return -ENOMEM;
		i += ok;
		if (i >= len)
			break;
		(void)char_check(s + i, len - i, &bad);
		if (tok_buf_add(out, "\xef\xbf\xbd", 3) < 0)
			return -ENOMEM;
		repl++;
		i += bad;
	}
	return repl;
}

bool
tok_is_whitespace(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20;
	switch (cp) {
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

bool
tok_is_numeric(uint32_t cp)
{
	static const struct tok_uclass *n;

	if (cp < 0x80)
		return cp >= '0' && cp <= '9';
	if (n == NULL)
		n = tok_unicode_class("N", 1);
	return tok_unicode_in(n, cp);
}

bool
tok_is_word(uint32_t cp)
{
	static const struct tok_uclass *l, *m, *nd, *pc;

	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		    (cp >= 'A' && cp <= 'Z') || cp == '_';
	if (l == NULL) {
		l = tok_unicode_class("L", 1);
		m = tok_unicode_class("M", 1);
		nd = tok_unicode_class("Nd", 2);
		pc = tok_unicode_class("Pc", 2);
	}
	return tok_unicode_in(l, cp) || tok_unicode_in(m, cp) ||
	    tok_unicode_in(nd, cp) || tok_unicode_in(pc, cp) ||
	    cp == 0x200c || cp == 0x200d;	/* Join_Control */
}
