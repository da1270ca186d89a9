/*
 * Unicode 16.0 general categories as code point ranges: the classes that
 * Hugging Face tokenizers' own regex engine (its bundled Oniguruma)
 * matches for \p{L}, \p{N}, \p{P} and the rest. The system Oniguruma is
 * older, and a letter it does not know would cut a word where HF does
 * not; so patterns are rewritten to these ranges (tok_regex.c), and the
 * Digits pre-tokenizer and single_word test use them too.
 *
 * The tables are generated (scripts/gen-unicode-tables.mjs) from the
 * Unicode Character Database; checked against HF's engine code point by
 * code point for L, N, P, S and M.
 */
#ifndef METRICSD_TOK_UNICODE_H
#define METRICSD_TOK_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tok_urange {
	uint32_t lo, hi;	/* inclusive */
};

struct tok_uclass {
	const char *name;	/* "L", "Lu", ... */
	const char *long_name;	/* "Letter", "Uppercase_Letter", ... */
	const struct tok_urange *r;	/* sorted, disjoint */
	size_t n;
};

/* The class of a short or long category name, or NULL. */
const struct tok_uclass *tok_unicode_class(const char *name, size_t len);

/* Is cp in the class? Binary search. */
static inline bool
tok_unicode_in(const struct tok_uclass *c, uint32_t cp)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp > c->r[mid].hi)
			lo = mid + 1;
		else if (cp < c->r[mid].lo)
			hi = mid;
		else
			return true;
	}
	return false;
}

#endif
