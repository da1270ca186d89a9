/*
 * Realistic completion text for the synthetic session (synthetic.h): what
 * `metricsd publish --synthetic N --synthetic-text KIND --osl T` streams
 * as each sample's output, so that real tokenizers have real work.
 *
 * The text is English-like prose (sentences and paragraphs from a small
 * grammar, with punctuation, numbers, contractions and a few accented
 * words), source code (C, Python and JavaScript functions with nested
 * blocks, comments and indentation), or mixed (an assistant-style answer:
 * prose with a fenced code block). It is valid UTF-8, deterministic for a
 * seed, and about T tokens long as the byte-level BPE tokenizers of Llama 3
 * and Qwen count it: over many texts the mean lands within about 10% of T
 * (tests/integration/test_synthetic_text.sh measures it).
 */
#ifndef METRICSD_SYNTHETIC_TEXT_H
#define METRICSD_SYNTHETIC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum synthetic_text {
	SYNTHETIC_TEXT_WORDS,	/* the default: 1-3 words of a 16-word list
				   per chunk (no generated text) */
	SYNTHETIC_TEXT_PROSE,
	SYNTHETIC_TEXT_CODE,
	SYNTHETIC_TEXT_MIXED
};

#define SYNTHETIC_OSL_MAX 131072	/* tokens per sample */

/* "prose", "code" or "mixed" to the kind: 0, or -EINVAL. */
int synthetic_text_parse(const char *name, enum synthetic_text *kind);

/* Generate about `tokens` tokens (1..SYNTHETIC_OSL_MAX) of text of a
 * PROSE, CODE or MIXED kind from `seed` into *buf, which is grown with
 * realloc as needed (*buf may be NULL with *cap 0; the caller frees it).
 * The text is NUL-terminated; *len excludes the NUL. Returns 0, -EINVAL
 * (bad kind or tokens) or -ENOMEM (*buf stays valid). */
int synthetic_text_make(enum synthetic_text kind, unsigned tokens,
    uint64_t seed, char **buf, size_t *cap, size_t *len);

/* Cut text[0..len) into k >= 1 consecutive pieces of about equal size,
 * never inside a UTF-8 sequence, into out[0..k). Pieces are empty only
 * when the text has fewer than k characters. */
void synthetic_text_split(const char *text, size_t len, unsigned k,
    struct event_str *out);

#endif
