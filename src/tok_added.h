/*
 * Added tokens of a tokenizer.json (special or not), found in text before
 * the model sees it, with the semantics of HF's added_vocabulary.rs:
 * leftmost-longest matching; single_word requires no word character on
 * either side; lstrip and rstrip take the whitespace next to the token
 * into it. One matcher holds the tokens of one kind: those with
 * normalized = false are searched in the raw text, those with
 * normalized = true in each normalized piece, written as normalized.
 *
 * Library code: 0 or a negative errno. A matcher is read-only once
 * finished (tok_added_split only reads it, so several threads may split
 * with it at once); tokens added after tok_added_finish need another
 * call.
 */
#ifndef METRICSD_TOK_ADDED_H
#define METRICSD_TOK_ADDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tok_text.h"

struct tok_added;

struct tok_added_flags {
	bool lstrip, rstrip, single_word;
};

int tok_added_new(struct tok_added **out);
void tok_added_free(struct tok_added *a);
/* Number of tokens held. */
size_t tok_added_count(const struct tok_added *a);

/*
 * Add a token. A content already present keeps its first id and flags
 * (HF maps a content to one id). -ENOMEM.
 */
int tok_added_add(struct tok_added *a, const char *content, size_t len,
    uint32_t id, struct tok_added_flags f);

/* Build the matcher once every token is added; 0 or -ENOMEM. */
int tok_added_finish(struct tok_added *a);

/*
 * Split each text piece of in into text and token pieces, appending to
 * out; token pieces of in pass through, empty pieces are dropped.
 */
int tok_added_split(const struct tok_added *a, const struct tok_pieces *in,
    struct tok_pieces *out);

#endif
