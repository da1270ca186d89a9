/*
 * Pre-tokenizers of a tokenizer.json: ByteLevel (add_prefix_space,
 * use_regex with GPT-2's pattern), Split (a Regex or String pattern, the
 * behaviours Isolated, Removed, MergedWithPrevious, MergedWithNext and
 * Contiguous, invert), Metaspace (replacement, prepend_scheme, split),
 * Digits (individual_digits) and Sequence, as HF's pre_tokenizers define
 * them. Any other type fails to load with "unsupported ...".
 *
 * ByteLevel's mapping of bytes to GPT-2's alphabet is left to the BPE
 * model (tok_bpe_options.byte_level): it must then be the last step, so
 * that no later pattern sees mapped characters.
 *
 * A pre-tokenizer holds scratch space: one thread at a time; another
 * thread takes a clone.
 * Library code: 0 or a negative errno, err filled on load errors.
 */
#ifndef METRICSD_TOK_PRETOK_H
#define METRICSD_TOK_PRETOK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tok_text.h"

struct tok_pretok;

/*
 * Build from the "pre_tokenizer" object; *byte_level is set when a
 * ByteLevel step ends it. -EINVAL, -ENOTSUP or -ENOMEM.
 */
int tok_pretok_from_json(struct tok_pretok **out, const json_t *j,
    const char *where, bool *byte_level, char *err, size_t errlen);
void tok_pretok_free(struct tok_pretok *p);

/*
 * A pre-tokenizer for another thread: orig's settings, its compiled
 * patterns shared (tok_regex_clone), scratch space of its own. orig must
 * outlive the clone; it may be running meanwhile. 0 or -ENOMEM.
 */
int tok_pretok_clone(struct tok_pretok **out, const struct tok_pretok *orig);

/*
 * Split every text piece of in, appending to out (new text goes in the
 * arena); token pieces pass through; empty pieces are dropped.
 */
int tok_pretok_run(struct tok_pretok *p, struct tok_arena *arena,
    const struct tok_pieces *in, struct tok_pieces *out);

#endif
