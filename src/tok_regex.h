/*
 * Regular expressions for pre-tokenizers and normalizers, with the
 * meaning Hugging Face tokenizers gives them: HF compiles patterns with
 * Oniguruma (its Rust `onig` crate bundles a build implementing Unicode
 * 16.0), so every pattern is read as Oniguruma reads it.
 *
 * For speed, a pattern runs on PCRE2 with JIT when it can be translated
 * without a change of meaning: \p{..} of a general category, \s, \d
 * and their negations become explicit Unicode 16.0 ranges (tok_unicode.h;
 * Debian's PCRE2 and Oniguruma both have older tables, and Oniguruma's
 * \s is White_Space, which PCRE2's is not quite), flattened inside
 * brackets. Anything whose meaning could differ between the two engines
 * (nested classes, ^ and $, inline options other than i, \h, ...) keeps
 * the pattern on Oniguruma, with its \p{..} classes rewritten to the same
 * ranges. String patterns are found with memmem.
 *
 * Matches are enumerated as the onig crate's find_iter does: left to
 * right, an empty match right after the previous match is skipped by
 * advancing one character.
 *
 * Library code: 0 or a negative errno; compile errors fill err.
 * A compiled regex holds match data: use it from one thread at a time;
 * other threads each take a clone (tok_regex_clone), which shares the
 * compiled pattern.
 */
#ifndef METRICSD_TOK_REGEX_H
#define METRICSD_TOK_REGEX_H

#include <stdbool.h>
#include <stddef.h>

struct tok_regex;

struct tok_match {
	size_t start, end;	/* byte offsets */
	bool is_match;		/* false: the text between two matches */
};

struct tok_matches {
	struct tok_match *v;
	size_t n, cap;
};

/*
 * Compile pattern[0..len); with literal, the pattern is matched as plain
 * text (Split and Replace with a String pattern). -EINVAL with the
 * engine's message in err when the pattern is rejected.
 */
int tok_regex_new(struct tok_regex **out, const char *pattern, size_t len,
    bool literal, char *err, size_t errlen);
void tok_regex_free(struct tok_regex *re);

/*
 * A regex for another thread: it shares orig's compiled pattern and has
 * match data of its own. Sharing is safe because matching only reads the
 * pattern: a PCRE2 pattern and its JIT code may be matched from several
 * threads at once (pcre2api(3), "Multithreading"; without a JIT stack of
 * ours, JIT matching uses the calling thread's machine stack), and
 * Oniguruma 6.9's onig_search keeps its match state in a per-call
 * MatchArg and its results in the region, never in the regex_t. orig
 * must outlive its clones and stay unchanged; tok_regex_free frees only
 * what the clone owns. 0 or -ENOMEM.
 */
int tok_regex_clone(struct tok_regex **out, const struct tok_regex *orig);

/*
 * Cut s[0..len) into matches and the gaps between them, in order, as
 * HF's Pattern::find_matches does (an empty text gives one empty gap).
 * Replaces the contents of out. 0 or -ENOMEM (-EIO on an engine error).
 */
int tok_regex_split(struct tok_regex *re, const char *s, size_t len,
    struct tok_matches *out);
void tok_matches_free(struct tok_matches *m);

/* Append [s, e) to m, growing it; 0 or -ENOMEM. */
int tok_matches_push(struct tok_matches *m, size_t s, size_t e,
    bool is_match);

#endif
