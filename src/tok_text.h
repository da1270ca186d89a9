/*
 * Text plumbing shared by the tokenizer's stages: a scratch arena whose
 * allocations never move until it is reset, the list of pieces that flows
 * from added-token splitting through normalizers and pre-tokenizers to
 * the model, a growable byte buffer, and UTF-8 helpers.
 *
 * A piece is a slice of text (owned by the caller's input or by the
 * arena) or, once an added token matched, a finished token id. Stages read
 * one list and write another; pieces that hold an id pass through.
 *
 * Library code: 0 or -ENOMEM, nothing printed.
 */
#ifndef METRICSD_TOK_TEXT_H
#define METRICSD_TOK_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tok_arena {
	struct tok_arena_block *head;
};

/* Allocate len bytes (unaligned), valid until tok_arena_reset. */
char *tok_arena_alloc(struct tok_arena *a, size_t len);
/* Forget every allocation; keeps one block for reuse. */
void tok_arena_reset(struct tok_arena *a);
void tok_arena_free(struct tok_arena *a);

struct tok_piece {
	const char *p;
	size_t len;
	int64_t id;		/* >= 0: an added token; -1: text */
	bool first;		/* starts at offset 0 of the original text */
};

struct tok_pieces {
	struct tok_piece *v;
	size_t n, cap;
};

int tok_pieces_push(struct tok_pieces *l, const char *p, size_t len,
    int64_t id, bool first);
void tok_pieces_free(struct tok_pieces *l);

/* A growable list of token ids; the owner frees v. */
struct tok_ids {
	uint32_t *v;
	size_t n, cap;
};

int tok_ids_push(struct tok_ids *ids, uint32_t id);

struct tok_buf {
	char *p;
	size_t len, cap;
};

int tok_buf_reserve(struct tok_buf *b, size_t extra);
int tok_buf_add(struct tok_buf *b, const void *p, size_t len);
void tok_buf_free(struct tok_buf *b);

/*
 * Decode the UTF-8 character at s[0..len) (len > 0) of text known to be
 * valid; sets *cp, returns its length.
 */
size_t tok_utf8_next(const char *s, size_t len, uint32_t *cp);
/* Encode cp into out (4 bytes room); returns the length. */
size_t tok_utf8_put(uint32_t cp, char *out);
/* Length of the character starting at lead byte c (valid UTF-8). */
static inline size_t
tok_utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/*
 * Length of the longest valid UTF-8 prefix of s[0..len): len when the
 * whole text is valid.
 */
size_t tok_utf8_valid(const char *s, size_t len);
/*
 * Copy s[0..len) into out with every maximal invalid subsequence replaced
 * by U+FFFD, as Python's bytes.decode('utf-8', errors='replace') does.
 * Returns the number of replacements, or -ENOMEM.
 */
long tok_utf8_repair(const char *s, size_t len, struct tok_buf *out);

/* Character classes, as Rust's char methods define them. */
bool tok_is_whitespace(uint32_t cp);	/* char::is_whitespace */
bool tok_is_numeric(uint32_t cp);	/* char::is_numeric: Nd Nl No */
bool tok_is_word(uint32_t cp);		/* regex \w */

#endif
