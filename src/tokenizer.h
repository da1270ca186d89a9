/*
 * Token counting behind a small interface: the aggregator only ever calls
 * tokenizer_count, whether the tokenizer is the built-in word counter or
 * a Hugging Face tokenizer.json (tok_hf.h) giving ids exactly as HF's
 * tokenizers library does with add_special_tokens=False.
 *
 * Text arrives as a list of chunks (streamed pieces, or reasoning chunks
 * followed by output chunks) meaning their concatenation with no
 * separator. Implementations count across chunk boundaries themselves, so
 * callers never have to concatenate.
 */
#ifndef METRICSD_TOKENIZER_H
#define METRICSD_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tok_text.h"

struct tokenizer {
	const char *name;
	/*
	 * Tokens in the concatenation of chunks[0..n). Returns 0 or a
	 * negative errno (the count is then not to be used).
	 */
	int (*count)(const struct tokenizer *tok, const struct event_str *chunks,
	    size_t n, uint64_t *out);
	/*
	 * Optional (NULL: call count twice): the tokens of chunks[0..n)
	 * into *full and of chunks[from..n) into *suffix, with from <= n,
	 * exactly as count gives each, in one pass over the text. Returns
	 * 0 or a negative errno (neither count is then to be used).
	 */
	int (*count_split)(const struct tokenizer *tok,
	    const struct event_str *chunks, size_t n, size_t from,
	    uint64_t *full, uint64_t *suffix);
	/*
	 * Append the token ids of text[0..len) to ids (the caller owns and
	 * frees ids->v). NULL for counters without ids (whitespace).
	 * Returns 0 or a negative errno.
	 */
	int (*encode)(const struct tokenizer *tok, const char *text,
	    size_t len, struct tok_ids *ids);
	/*
	 * Texts so far that held invalid UTF-8 (taken as U+FFFD per
	 * maximal invalid sequence); NULL when not applicable.
	 */
	uint64_t (*repaired)(const struct tokenizer *tok);
	/* Release what open allocated; NULL for built-ins. */
	void (*close)(struct tokenizer *tok);
	/*
	 * Optional: a tokenizer for another thread (tokenizer_clone).
	 * NULL: tok has no state a thread could change (a built-in), and
	 * is its own clone.
	 */
	int (*clone)(struct tokenizer **out, const struct tokenizer *tok,
	    char *err, size_t errlen);
	void *state;		/* the implementation's own data */
};

/*
 * Open a tokenizer. spec is "whitespace" (built in: the count of
 * whitespace-separated words, as Python's str.split() counts them), a
 * tokenizer.json file, a directory holding one, or a Hugging Face hub id
 * found offline in the local hub cache (see tok_hub.h).
 *
 * Returns 0, or: -ENOENT when spec resolves to nothing (err lists where
 * it looked: a usage error for callers); -EINVAL or -ENOTSUP when the file
 * is not a tokenizer.json metricsd can use (err names the file and the
 * component); -ENOMEM or another -errno. Never falls back to another
 * tokenizer. A tokenizer is used by one thread at a time; for another
 * thread, clone it (tokenizer_clone).
 */
int tokenizer_open(struct tokenizer **out, const char *name,
    char *err, size_t errlen);
void tokenizer_close(struct tokenizer *tok);

/*
 * A tokenizer for another thread, counting exactly as orig does: it
 * shares orig's tables, read-only once loaded (vocabulary, merges, added
 * tokens, normalizer and pre-tokenizer settings, compiled patterns), and
 * has its own caches, scratch space and repaired count. So each extra
 * thread costs its caches (a few MB at most), not another copy of the
 * tables. The tables are reference-counted: orig and its clones are each
 * closed with tokenizer_close, in any order. orig may be counting on
 * another thread meanwhile. A built-in (whitespace) is its own clone.
 *
 * Returns 0, or -ENOMEM (err says so). Nothing is printed.
 */
int tokenizer_clone(struct tokenizer **out, const struct tokenizer *orig,
    char *err, size_t errlen);

/* Convenience wrappers. */
static inline int
tokenizer_count(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, uint64_t *out)
{
	return tok->count(tok, chunks, n, out);
}

/* Texts so far read with invalid UTF-8 repaired; 0 without the hook. */
static inline uint64_t
tokenizer_repaired(const struct tokenizer *tok)
{
	return tok->repaired ? tok->repaired(tok) : 0;
}

int tokenizer_count_text(const struct tokenizer *tok, const char *text,
    size_t len, uint64_t *out);

/*
 * A completion's two counts: the tokens of chunks[0..n) into *full and of
 * chunks[from..n) into *suffix (from <= n), each with its result (0 or a
 * negative errno) in *rc_full and *rc_suffix. In one pass over the text
 * where the tokenizer can (count_split), else with two counts.
 */
void tokenizer_count_both(const struct tokenizer *tok,
    const struct event_str *chunks, size_t n, size_t from,
    uint64_t *full, int *rc_full, uint64_t *suffix, int *rc_suffix);

/* Names of the available tokenizers, comma separated (for --help). */
const char *tokenizer_names(void);

#endif
