/*
 * The BPE model of a Hugging Face tokenizer.json: a vocabulary, ranked
 * merges, and the merge loop of HF's models/bpe (word.rs), for both
 * byte-level vocabularies (GPT-2, Llama 3, Qwen, DeepSeek: every byte is
 * a character of the vocabulary's alphabet) and SentencePiece-style ones
 * (Llama 2, Mistral: byte_fallback to <0xXX> tokens, fused unknowns).
 *
 * Words are encoded with a cache keyed by the word's bytes, so that the
 * common words of a text cost one hash lookup.
 *
 * Building: tok_bpe_new, then tok_bpe_vocab_add for every entry, then
 * tok_bpe_merge_add in rank order, then tok_bpe_finish. Errors fill err
 * naming the token at fault. A finished model is used by one thread at a
 * time (the cache and scratch space are inside); another thread takes a
 * clone, which shares the tables.
 */
#ifndef METRICSD_TOK_BPE_H
#define METRICSD_TOK_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tok_text.h"

struct tok_bpe;

struct tok_bpe_options {
	bool byte_level;	/* a ByteLevel pre-tokenizer maps bytes to
				   the GPT-2 alphabet before the model */
	bool byte_fallback;
	bool fuse_unk;
	bool ignore_merges;
	const char *unk_token;	/* NULL: unknown characters are dropped */
	const char *prefix;	/* continuing_subword_prefix, or NULL */
	const char *suffix;	/* end_of_word_suffix, or NULL */
};

/* The sizes are hints for the tables. */
int tok_bpe_new(struct tok_bpe **out, const struct tok_bpe_options *o,
    size_t vocab_size, size_t merges_size);
void tok_bpe_free(struct tok_bpe *b);

/* -EEXIST on a duplicate token or id (err names both). */
int tok_bpe_vocab_add(struct tok_bpe *b, const char *tok, size_t len,
    uint32_t id, char *err, size_t errlen);
/* -ENOENT when a part or the merged token is not in the vocabulary. */
int tok_bpe_merge_add(struct tok_bpe *b, const char *a, size_t alen,
    const char *c, size_t clen, char *err, size_t errlen);
int tok_bpe_finish(struct tok_bpe *b, char *err, size_t errlen);

/*
 * A finished model for another thread: it shares orig's vocabulary,
 * merges and byte tables (read-only once finished) and has its own word
 * cache and scratch space. orig must outlive the clone; it may be
 * encoding meanwhile. 0 or -ENOMEM.
 */
int tok_bpe_clone(struct tok_bpe **out, const struct tok_bpe *orig);

/* Number of vocabulary entries; id lookup of a token. */
size_t tok_bpe_vocab_size(const struct tok_bpe *b);
bool tok_bpe_token_id(const struct tok_bpe *b, const char *tok, size_t len,
    uint32_t *id);

/*
 * Append the ids of one pre-tokenized word (raw bytes: the byte-level
 * mapping is applied inside). 0 or -ENOMEM.
 */
int tok_bpe_encode_word(struct tok_bpe *b, const char *w, size_t len,
    struct tok_ids *ids);

#endif
