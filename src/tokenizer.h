/*
 * Token counting behind a small interface, so that a real tokenizer (a
 * BPE vocabulary loaded from a file, say) can be added here without the
 * event path changing: the aggregator only ever calls tokenizer_count.
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

struct tokenizer {
	const char *name;
	/*
	 * Tokens in the concatenation of chunks[0..n). Returns 0 or a
	 * negative errno (the count is then not to be used).
	 */
	int (*count)(const struct tokenizer *tok, const struct event_str *chunks,
	    size_t n, uint64_t *out);
	/* Release what open allocated; NULL for built-ins. */
	void (*close)(struct tokenizer *tok);
	void *state;		/* the implementation's own data */
};

/*
 * Find a tokenizer by name. Built in: "whitespace" (count of
 * whitespace-separated words, as Python's str.split() counts them).
 * Unknown names fail with -ENOENT and
 * "unknown tokenizer NAME; available: whitespace".
 */
int tokenizer_open(struct tokenizer **out, const char *name,
    char *err, size_t errlen);
void tokenizer_close(struct tokenizer *tok);

/* Convenience wrappers. */
static inline int
tokenizer_count(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, uint64_t *out)
{
	return tok->count(tok, chunks, n, out);
}

int tokenizer_count_text(const struct tokenizer *tok, const char *text,
    size_t len, uint64_t *out);

/* Names of the available tokenizers, comma separated (for --help). */
const char *tokenizer_names(void);

#endif
