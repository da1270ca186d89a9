/*
 * Normalizers of a tokenizer.json: NFC, Prepend, Replace (String or
 * Regex pattern) and Sequence, as HF's normalizers define them. Any
 * other type fails to load with "unsupported normalizer type ...".
 *
 * A normalizer holds scratch buffers: one thread at a time; another
 * thread takes a clone.
 * Library code: 0 or a negative errno, err filled on load errors.
 */
#ifndef METRICSD_TOK_NORM_H
#define METRICSD_TOK_NORM_H

#include <stddef.h>

#include <jansson.h>

#include "tok_text.h"

struct tok_norm;

/*
 * Build from the "normalizer" object. -EINVAL (err says what, with the
 * path of the component, e.g. "normalizer.normalizers[1]"), -ENOTSUP for
 * an unsupported type, -ENOMEM.
 */
int tok_norm_from_json(struct tok_norm **out, const json_t *j,
    const char *where, char *err, size_t errlen);
void tok_norm_free(struct tok_norm *n);

/*
 * A normalizer for another thread: orig's settings, its compiled
 * patterns shared (tok_regex_clone), scratch buffers of its own. orig
 * must outlive the clone; it may be running meanwhile. 0 or -ENOMEM.
 */
int tok_norm_clone(struct tok_norm **out, const struct tok_norm *orig);

/* Normalize s[0..len) into out (replacing its contents). */
int tok_norm_apply(struct tok_norm *n, const char *s, size_t len,
    struct tok_buf *out);

/*
 * Normalize every text piece of in into arena memory, appending to out;
 * token pieces pass through.
 */
int tok_norm_pieces(struct tok_norm *n, struct tok_arena *arena,
    const struct tok_pieces *in, struct tok_pieces *out);

#endif
