/*
 * Tokenizer registry, the built-in whitespace tokenizer, and the glue to
 * Hugging Face tokenizer.json files (tok_hf.h).
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_hf.h"
#include "tok_hub.h"
#include "tokenizer.h"

/*
 * Is the UTF-8 sequence at s[0..len) a whitespace character by Python's
 * str.isspace()? Returns its byte length if so, else 0. Invalid UTF-8 is
 * never whitespace.
 */
static size_t
space_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0];

	if (c < 0x80) {
		/* \t \n \v \f \r, the separators 0x1c-0x1f, and space. */
		return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
	}
	if (c == 0xc2 && len >= 2)	/* U+0085 NEL, U+00A0 NBSP */
		return (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
	if (len < 3)
		return 0;
	if (c == 0xe1 && s[1] == 0x9a && s[2] == 0x80)	/* U+1680 */
		return 3;
	if (c == 0xe2 && s[1] == 0x80) {
		/* U+2000..U+200A, U+2028, U+2029, U+202F */
		if ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
		    s[2] == 0xa9 || s[2] == 0xaf)
			return 3;
		return 0;
	}
	if (c == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)	/* U+205F */
		return 3;
	if (c == 0xe3 && s[1] == 0x80 && s[2] == 0x80)	/* U+3000 */
		return 3;
	return 0;
}

/*
 * Byte classes for the counting loop: ASCII whitespace, and the lead bytes
 * of the multi-byte characters Python also takes as whitespace (only those
 * need space_len()); every other byte, continuation bytes included, is
 * part of a word.
 */
enum { BYTE_WORD = 0, BYTE_SPACE = 1, BYTE_MAYBE_SPACE = 2 };

static const unsigned char byte_class[256] = {
	[0x09] = BYTE_SPACE, [0x0a] = BYTE_SPACE, [0x0b] = BYTE_SPACE,
	[0x0c] = BYTE_SPACE, [0x0d] = BYTE_SPACE,
	[0x1c] = BYTE_SPACE, [0x1d] = BYTE_SPACE, [0x1e] = BYTE_SPACE,
	[0x1f] = BYTE_SPACE, [0x20] = BYTE_SPACE,
	[0xc2] = BYTE_MAYBE_SPACE, [0xe1] = BYTE_MAYBE_SPACE,
	[0xe2] = BYTE_MAYBE_SPACE, [0xe3] = BYTE_MAYBE_SPACE,
};

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/*
 * The ASCII whitespace of byte_class in 8 bytes at once: for each byte of
 * x (none with its high bit set), bit 7 of that byte is set if it is
 * whitespace. With b < 0x80, b + (0x80 - k) has its high bit set exactly
 * when b >= k, and no byte carries into the next.
 */
static inline uint64_t
ascii_space8(uint64_t x)
{
	uint64_t ge09 = x + ONES * (0x80 - 0x09), ge0e = x + ONES * (0x80 - 0x0e);
	uint64_t ge1c = x + ONES * (0x80 - 0x1c), ge21 = x + ONES * (0x80 - 0x21);

	return ((ge09 & ~ge0e) | (ge1c & ~ge21)) & HIGH;
}

/*
 * Words = transitions from space to non-space, in chunks[0..n) after a
 * space (*prev_space 1) or inside a word (0); *prev_space is left as the
 * last character was. The state carries across chunks, so "hel" +
 * "lo world" counts 2. Multi-byte characters never straddle chunks: each
 * chunk was a whole string on the wire. So the only state a chunk hands
 * to the next is *prev_space, which is what lets whitespace_split count
 * a text and a suffix of it in one pass.
 *
 * This runs on the event path for every completed sample, so the common
 * bytes take a branch-free step: a word starts where a non-space byte
 * follows a space. Eight ASCII bytes go in one step (ascii_space8): the
 * word starts are the non-space bytes whose previous byte is a space,
 * counted by one multiplication.
 */
static uint64_t
whitespace_scan(const struct event_str *chunks, size_t n,
    unsigned *prev_spacep)
{
	uint64_t words = 0;
	unsigned prev_space = *prev_spacep;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)chunks[i].ptr;
		size_t len = chunks[i].len;
		size_t j = 0;

		while (j < len) {
			unsigned cls;
			unsigned sp;
			uint64_t x;

			if (len - j >= 8) {
				memcpy(&x, s + j, sizeof(x));
				x = le64toh(x);	/* byte j + i at bits 8i.. */
				if ((x & HIGH) == 0) {
					uint64_t spc = ascii_space8(x);
					uint64_t before = spc << 8 |
					    (uint64_t)prev_space << 7;

					words += ((~spc & before & HIGH) >> 7) *
					    ONES >> 56;
					prev_space = (unsigned)(spc >> 63);
					j += 8;
					continue;
				}
			}
			cls = byte_class[s[j]];
			if (cls == BYTE_MAYBE_SPACE) {
				size_t l = space_len(s + j, len - j);

				sp = l != 0;
				j += l ? l : 1;
			} else {
				sp = cls;
				j++;
			}
			words += prev_space & (sp ^ 1);
			prev_space = sp;
		}
	}
	*prev_spacep = prev_space;
	return words;
}

/* Does the concatenation of chunks[0..n) start with a non-space
 * character (as whitespace_scan classes it)? False when it is empty. */
static bool
whitespace_starts_word(const struct event_str *chunks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)chunks[i].ptr;
		unsigned cls;

		if (chunks[i].len == 0)
			continue;
		cls = byte_class[s[0]];
		if (cls == BYTE_MAYBE_SPACE)
			return space_len(s, chunks[i].len) == 0;
		return cls == BYTE_WORD;
	}
	return false;
}

static int
whitespace_count(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, uint64_t *out)
{
	unsigned prev_space = 1;	/* the text starts outside a word */

	(void)tok;
	*out = whitespace_scan(chunks, n, &prev_space);
	return 0;
}

/*
 * The counts of chunks[0..n) and of chunks[from..n), each as
 * whitespace_count gives it, reading every byte once: the prefix
 * chunks[0..from) and the suffix are counted apart, each from outside a
 * word. Counted whole, the suffix would start where the prefix ended;
 * that changes only whether its first character starts a word, and only
 * when the prefix ends inside a word and the suffix starts with one (one
 * word across the cut, counted in both parts).
 */
static int
whitespace_split(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, size_t from, uint64_t *full, uint64_t *suffix)
{
	unsigned pre_space = 1, suf_space = 1;
	uint64_t pre, suf;

	(void)tok;
	pre = whitespace_scan(chunks, from, &pre_space);
	suf = whitespace_scan(chunks + from, n - from, &suf_space);
	*suffix = suf;
	*full = pre + suf - (pre_space == 0 &&
	    whitespace_starts_word(chunks + from, n - from));
	return 0;
}

static struct tokenizer whitespace = {
	.name = "whitespace",
	.count = whitespace_count,
	.count_split = whitespace_split,
};

/* Built-in tokenizers; a file-backed one would be tried after these. */
static struct tokenizer *const builtins[] = { &whitespace };

const char *
tokenizer_names(void)
{
	return "whitespace, a tokenizer.json file or directory, a hub id";
}

/* ---- Hugging Face tokenizer.json ---- */

struct hf_state {
	struct tok_hf *hf;
	struct tok_ids ids;		/* count's scratch */
	struct tok_buf joined;		/* chunks concatenated */
};

static int
hf_encode(const struct tokenizer *tok, const char *text, size_t len,
    struct tok_ids *ids)
{
	struct hf_state *st = tok->state;

	return tok_hf_encode(st->hf, text, len, ids);
}

static int
hf_count(const struct tokenizer *tok, const struct event_str *chunks,
    size_t n, uint64_t *out)
{
	struct hf_state *st = tok->state;
	const char *text = "";
	size_t len = 0;
	int r;

	/* Merges cross chunk boundaries: encode the concatenation. */
	if (n == 1) {
		text = chunks[0].ptr;
		len = chunks[0].len;
	} else if (n > 1) {
		st->joined.len = 0;
		for (size_t i = 0; i < n; i++)
			if (tok_buf_add(&st->joined, chunks[i].ptr,
			    chunks[i].len) < 0)
				return -ENOMEM;
		text = st->joined.p;
		len = st->joined.len;
	}
	st->ids.n = 0;
	if ((r = tok_hf_encode(st->hf, text, len, &st->ids)) < 0)
		return r;
	*out = st->ids.n;
	return 0;
}

static uint64_t
hf_repaired(const struct tokenizer *tok)
{
	const struct hf_state *st = tok->state;

	return tok_hf_repaired(st->hf);
}

static void
hf_close(struct tokenizer *tok)
{
	struct hf_state *st = tok->state;

	tok_hf_free(st->hf);
	free(st->ids.v);
	tok_buf_free(&st->joined);
	free(st);
	free((char *)tok->name);
	free(tok);
}

static int hf_clone(struct tokenizer **out, const struct tokenizer *orig,
    char *err, size_t errlen);

/* A tokenizer around hf (owning it), named name; NULL if out of memory
 * (hf is then freed). */
static struct tokenizer *
hf_wrap(struct tok_hf *hf, const char *name)
{
	struct tokenizer *tok = calloc(1, sizeof(*tok));
	struct hf_state *st = calloc(1, sizeof(*st));

	if (tok == NULL || st == NULL || (tok->name = strdup(name)) == NULL) {
		free(tok);
		free(st);
		tok_hf_free(hf);
		return NULL;
	}
	st->hf = hf;
	tok->count = hf_count;
	tok->encode = hf_encode;
	tok->repaired = hf_repaired;
	tok->close = hf_close;
	tok->clone = hf_clone;
	tok->state = st;
	return tok;
}

static int
hf_clone(struct tokenizer **out, const struct tokenizer *orig, char *err,
    size_t errlen)
{
	const struct hf_state *ost = orig->state;
	struct tok_hf *hf;

	if (tok_hf_clone(&hf, ost->hf) < 0 ||
	    (*out = hf_wrap(hf, orig->name)) == NULL) {
		snprintf(err, errlen, "tokenizer %s: out of memory", orig->name);
		return -ENOMEM;
	}
	return 0;
}

static int
hf_open(struct tokenizer **out, const char *spec, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct tok_hf *hf;
	int r;

	if ((r = tok_hub_resolve(spec, path, sizeof(path), err, errlen)) < 0) {
		if (r == -ENAMETOOLONG)
			snprintf(err, errlen, "tokenizer %s: path too long",
			    spec);
		return r == -ENAMETOOLONG ? -ENOENT : r;
	}
	if ((r = tok_hf_load(&hf, path, err, errlen)) < 0) {
		/* A file that is there but unreadable is not "not found". */
		return r == -ENOENT ? -EIO : r;
	}
	if ((*out = hf_wrap(hf, spec)) == NULL) {
		snprintf(err, errlen, "tokenizer %s: out of memory", spec);
		return -ENOMEM;
	}
	return 0;
}

int
tokenizer_open(struct tokenizer **out, const char *name, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i]->name, name) == 0) {
			*out = builtins[i];
			return 0;
		}
	}
	return hf_open(out, name, err, errlen);
}

int
tokenizer_clone(struct tokenizer **out, const struct tokenizer *orig,
    char *err, size_t errlen)
{
	if (orig->clone == NULL) {
		/* A built-in: nothing in it changes while counting. */
		*out = (struct tokenizer *)orig;
		return 0;
	}
	return orig->clone(out, orig, err, errlen);
}

void
tokenizer_close(struct tokenizer *tok)
{
	if (tok != NULL && tok->close != NULL)
		tok->close(tok);
}

void
tokenizer_count_both(const struct tokenizer *tok,
    const struct event_str *chunks, size_t n, size_t from,
    uint64_t *full, int *rc_full, uint64_t *suffix, int *rc_suffix)
{
	if (tok->count_split != NULL) {
		*rc_full = *rc_suffix = tok->count_split(tok, chunks, n, from,
		    full, suffix);
		return;
	}
	*rc_full = tokenizer_count(tok, chunks, n, full);
	*rc_suffix = tokenizer_count(tok, chunks + from, n - from, suffix);
}

int
tokenizer_count_text(const struct tokenizer *tok, const char *text,
    size_t len, uint64_t *out)
{
	struct event_str s = { text, len };

	return tok->count(tok, &s, 1, out);
}
