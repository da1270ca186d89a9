/*
 * A Hugging Face tokenizer.json, loaded and encoded in the order of HF's
 * tokenizer/mod.rs: added tokens are split out of the raw text, the rest
 * is normalized, normalized added tokens are split out of that, then the
 * pre-tokenizer cuts words and the BPE model turns each into ids. Ids are
 * those of encode(text, add_special_tokens=False): no post-processor
 * template, no truncation or padding (a file asking for either is
 * refused, so that counts never differ silently).
 *
 * Text that is not valid UTF-8 cannot reach HF (Python and JavaScript
 * hand it a decoded string): each maximal invalid byte sequence is taken
 * as U+FFFD, as bytes.decode('utf-8', errors='replace') does, and
 * tok_hf_repaired counts the texts that needed it.
 *
 * Library code: 0 or a negative errno; load errors fill err with
 * "FILE: component: what". A loaded tokenizer is used by one thread at
 * a time (caches and scratch space are inside); another thread takes a
 * clone (tok_hf_clone), which shares the tables.
 */
#ifndef METRICSD_TOK_HF_H
#define METRICSD_TOK_HF_H

#include <stddef.h>
#include <stdint.h>

#include "tok_text.h"

struct tok_hf;

/*
 * Load path. -EINVAL for a file that is not a usable tokenizer.json (bad
 * JSON with line and column, wrong types, a merge part missing from the
 * vocab, duplicate tokens or ids), -ENOTSUP for a component metricsd does
 * not implement ("unsupported: ..."), -errno when it cannot be read.
 */
int tok_hf_load(struct tok_hf **out, const char *path, char *err,
    size_t errlen);
/* The same from a JSON text in memory; name is used in messages. */
int tok_hf_load_text(struct tok_hf **out, const char *json, size_t len,
    const char *name, char *err, size_t errlen);
void tok_hf_free(struct tok_hf *t);

/*
 * Another tokenizer giving the same ids, for another thread: it shares
 * orig's tables, read-only once loaded (vocabulary, merges, added
 * tokens, normalizer and pre-tokenizer settings, compiled patterns), and
 * has its own word cache, scratch space, regex match data and repaired
 * count. The tables are reference-counted: orig and its clones may be
 * freed in any order, each by the thread that used it last. orig may be
 * encoding on another thread meanwhile (only the shared tables are
 * read). 0 or -ENOMEM.
 */
int tok_hf_clone(struct tok_hf **out, const struct tok_hf *orig);

/* Append the ids of text[0..len) to ids. 0 or -ENOMEM (-EIO on a regex
 * engine failure). */
int tok_hf_encode(struct tok_hf *t, const char *text, size_t len,
    struct tok_ids *ids);

/* Texts encoded so far that held invalid UTF-8. */
uint64_t tok_hf_repaired(const struct tok_hf *t);

#endif
