/*
 * Unit tests of the Hugging Face tokenizer engine: ids on small
 * hand-made tokenizer.json files (tests/data, written by
 * gen_tok_fixtures.py) against the ids Hugging Face tokenizers 0.23.2
 * gives on the same files and strings; chunked counting; invalid UTF-8;
 * hub id resolution; and a clear error, never a crash, for every kind
 * of bad file.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "testutil.h"
#include "tok_hf.h"
#include "tok_hub.h"
#include "tok_regex.h"
#include "tokenizer.h"

#define DATA "tests/data/"

struct fixture_case {
	const char *text;
	size_t n;
	uint32_t ids[40];
};

/* Expected ids: Hugging Face tokenizers 0.23.2, encode(text,
 * add_special_tokens=False), on the fixture files. */
static const struct fixture_case tok_bytelevel_cases[] = {
	{ "", 0, {
	    0
	} },
	{ "the thin 123 12345 it's  on  ", 18, {
	    116, 257, 256, 104, 259, 32, 262, 32, 262, 52, 53, 32, 105, 116,
	    264, 32, 266, 263
	} },
	{ "the<|end|>the", 5, {
	    116, 257, 268, 116, 257
	} },
	{ "a [X] b", 3, {
	    97, 269, 98
	} },
	{ "a[X]b", 3, {
	    97, 269, 98
	} },
	{ "word words sword word", 15, {
	    270, 32, 119, 111, 114, 100, 115, 32, 115, 119, 111, 114, 100,
	    32, 270
	} },
	{ "h\xc3""\xa9""llo w\xc3""\xb6""rld \xc3""\xbc", 16, {
	    104, 195, 169, 108, 108, 111, 32, 119, 195, 182, 114, 108, 100,
	    32, 195, 188
	} },
	{ "hello world", 10, {
	    257, 108, 108, 111, 32, 119, 111, 114, 108, 100
	} },
	{ " hello  world", 12, {
	    32, 257, 108, 108, 111, 32, 32, 119, 111, 114, 108, 100
	} },
	{ "hello</s>world", 13, {
	    257, 108, 108, 111, 60, 47, 115, 62, 119, 111, 114, 108, 100
	} },
	{ "zz w\xc3""\xa9"" ab", 9, {
	    122, 122, 32, 119, 195, 169, 32, 97, 98
	} },
	{ "ab12-ab,cd 123 e\xcc""\x81"".", 16, {
	    97, 98, 261, 45, 97, 98, 44, 99, 100, 32, 262, 32, 101, 204,
	    129, 46
	} },
	{ "-ab-12!!ab", 9, {
	    45, 97, 98, 45, 261, 33, 33, 97, 98
	} },
	{ "\xc3""\xa9"". \xc3""\xa9", 6, {
	    195, 169, 46, 32, 195, 169
	} },
};

static const struct fixture_case tok_spm_cases[] = {
	{ "", 0, {
	    0
	} },
	{ "the thin 123 12345 it's  on  ", 30, {
	    259, 119, 260, 261, 259, 119, 260, 108, 113, 259, 52, 53, 54,
	    259, 52, 53, 54, 55, 56, 259, 108, 119, 42, 118, 259, 259, 263,
	    113, 259, 259
	} },
	{ "the<|end|>the", 14, {
	    259, 119, 260, 261, 63, 127, 261, 113, 266, 127, 65, 119, 260,
	    261
	} },
	{ "a [X] b", 8, {
	    259, 267, 259, 94, 91, 96, 259, 268
	} },
	{ "a[X]b", 6, {
	    259, 267, 94, 91, 96, 268
	} },
	{ "word words sword word", 12, {
	    277, 266, 277, 266, 118, 259, 118, 264, 276, 266, 277, 266
	} },
	{ "h\xc3""\xa9""llo w\xc3""\xb6""rld \xc3""\xbc", 12, {
	    270, 269, 262, 273, 275, 198, 185, 265, 278, 259, 198, 191
	} },
	{ "hello world", 2, {
	    274, 279
	} },
	{ " hello  world", 4, {
	    259, 274, 259, 279
	} },
	{ "hello</s>world", 3, {
	    274, 2, 279
	} },
	{ "zz w\xc3""\xa9"" ab", 8, {
	    259, 125, 125, 275, 269, 259, 267, 268
	} },
	{ "ab12-ab,cd 123 e\xcc""\x81"".", 20, {
	    259, 267, 268, 52, 53, 48, 267, 268, 47, 102, 266, 259, 52, 53,
	    54, 259, 261, 207, 132, 49
	} },
	{ "-ab-12!!ab", 11, {
	    259, 48, 267, 268, 48, 52, 53, 36, 36, 267, 268
	} },
	{ "\xc3""\xa9"". \xc3""\xa9", 5, {
	    259, 269, 49, 259, 269
	} },
};

static const struct fixture_case tok_pieces_cases[] = {
	{ "", 0, {
	    0
	} },
	{ "the thin 123 12345 it's  on  ", 29, {
	    37, 19, 7, 4, 37, 19, 7, 8, 13, 37, 27, 28, 29, 37, 27, 28, 29,
	    30, 31, 37, 8, 19, 18, 37, 37, 14, 13, 37, 37
	} },
	{ "the<|end|>the", 10, {
	    37, 19, 7, 4, 4, 13, 3, 19, 7, 4
	} },
	{ "a [X] b", 4, {
	    47, 37, 37, 1
	} },
	{ "a[X]b", 2, {
	    47, 1
	} },
	{ "word words sword word", 22, {
	    37, 22, 14, 17, 3, 37, 22, 14, 17, 3, 18, 37, 18, 22, 14, 17, 3,
	    37, 22, 14, 17, 3
	} },
	{ "h\xc3""\xa9""llo w\xc3""\xb6""rld \xc3""\xbc", 12, {
	    37, 7, 42, 11, 11, 14, 37, 22, 17, 11, 3, 37
	} },
	{ "hello world", 12, {
	    37, 7, 4, 11, 11, 14, 37, 22, 14, 17, 11, 3
	} },
	{ " hello  world", 13, {
	    37, 7, 4, 11, 11, 14, 37, 37, 22, 14, 17, 11, 3
	} },
	{ "hello</s>world", 12, {
	    37, 7, 4, 11, 11, 14, 18, 22, 14, 17, 11, 3
	} },
	{ "zz w\xc3""\xa9"" ab", 7, {
	    37, 25, 25, 37, 22, 42, 44
	} },
	{ "ab12-ab,cd 123 e\xcc""\x81"".", 14, {
	    44, 45, 38, 43, 40, 2, 3, 37, 27, 28, 29, 37, 42, 39
	} },
	{ "-ab-12!!ab", 9, {
	    37, 38, 43, 38, 45, 41, 41, 0, 1
	} },
	{ "\xc3""\xa9"". \xc3""\xa9", 4, {
	    42, 39, 37, 42
	} },
};
static void
check_cases(const char *file, const struct fixture_case *c, size_t n)
{
	struct tokenizer *tok = NULL;
	struct tok_ids ids = { 0 };
	char err[512];

	ck_assert_msg(tokenizer_open(&tok, file, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_ptr_nonnull(tok->encode);
	for (size_t i = 0; i < n; i++) {
		uint64_t count;

		ids.n = 0;
		ck_assert_int_eq(tok->encode(tok, c[i].text, strlen(c[i].text),
		    &ids), 0);
		ck_assert_msg(ids.n == c[i].n, "%s: \"%s\": %zu ids, want %zu",
		    file, c[i].text, ids.n, c[i].n);
		for (size_t k = 0; k < ids.n; k++)
			ck_assert_msg(ids.v[k] == c[i].ids[k],
			    "%s: \"%s\": id %zu is %u, want %u", file,
			    c[i].text, k, ids.v[k], c[i].ids[k]);
		ck_assert_int_eq(tokenizer_count_text(tok, c[i].text,
		    strlen(c[i].text), &count), 0);
		ck_assert_uint_eq(count, c[i].n);
	}
	free(ids.v);
	tokenizer_close(tok);
}

#define NCASES(a) (sizeof(a) / sizeof(a[0]))

START_TEST(test_tok_bytelevel_ids_match_hf)
{
	check_cases(DATA "tok_bytelevel.json", tok_bytelevel_cases,
	    NCASES(tok_bytelevel_cases));
}
END_TEST

START_TEST(test_tok_sentencepiece_ids_match_hf)
{
	check_cases(DATA "tok_spm.json", tok_spm_cases, NCASES(tok_spm_cases));
}
END_TEST

START_TEST(test_tok_pretokenizers_ids_match_hf)
{
	check_cases(DATA "tok_pieces.json", tok_pieces_cases,
	    NCASES(tok_pieces_cases));
}
END_TEST

START_TEST(test_tok_count_joins_chunks)
{
	struct tokenizer *tok;
	char err[512];
	/* "hello world" cut inside words: merges cross the cuts. */
	struct event_str chunks[] = { { "hel", 3 }, { "lo wo", 5 },
	    { "rld", 3 } };
	uint64_t n;

	ck_assert_msg(tokenizer_open(&tok, DATA "tok_spm.json", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tokenizer_count(tok, chunks, 3, &n), 0);
	ck_assert_uint_eq(n, 2);	/* ▁hello ▁world, as one text */
	ck_assert_int_eq(tokenizer_count(tok, chunks, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	tokenizer_close(tok);
}
END_TEST

START_TEST(test_tok_invalid_utf8_is_replacement_char)
{
	struct tokenizer *tok;
	struct tok_ids a = { 0 }, b = { 0 };
	char err[512];

	ck_assert_msg(tokenizer_open(&tok, DATA "tok_bytelevel.json", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(tok->repaired(tok), 0);
	/* \xff alone, and \xe2\x82 (a truncated 3-byte sequence) are one
	 * maximal invalid subpart each: one U+FFFD each, as in Python. */
	ck_assert_int_eq(tok->encode(tok, "a\xff" "b\xe2\x82" "c", 6, &a), 0);
	ck_assert_int_eq(tok->encode(tok, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c",
	    9, &b), 0);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert_mem_eq(a.v, b.v, a.n * sizeof(*a.v));
	ck_assert_uint_eq(tok->repaired(tok), 1);
	free(a.v);
	free(b.v);
	tokenizer_close(tok);
}
END_TEST

START_TEST(test_tok_whitespace_has_no_ids)
{
	struct tokenizer *tok;
	char err[128];

	ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err, sizeof(err)),
	    0);
	ck_assert_ptr_null(tok->encode);
	tokenizer_close(tok);
}
END_TEST

/* The whitespace count, one byte at a time as Python's str.split() sees
 * it: the reference for the 8-bytes-at-once path. */
static size_t
ref_space_len(const unsigned char *s, size_t len)
{
	static const char *const uni[] = { "\xc2\x85", "\xc2\xa0",
	    "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x83", "\xe2\x80\x8a",
	    "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
	    "\xe3\x80\x80" };

	if (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0d) ||
	    (s[0] >= 0x1c && s[0] <= 0x1f))
		return 1;
	for (size_t i = 0; i < sizeof(uni) / sizeof(uni[0]); i++) {
		size_t n = strlen(uni[i]);

		if (n <= len && memcmp(s, uni[i], n) == 0)
			return n;
	}
	return 0;
}

static uint64_t
ref_words(const struct event_str *ch, size_t n)
{
	uint64_t words = 0;
	bool space = true;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ch[i].len;) {
			const unsigned char *p = (const unsigned char *)ch[i].ptr;
			size_t l = ref_space_len(p + j, ch[i].len - j);

			words += space && l == 0;
			space = l != 0;
			j += l ? l : 1;
		}
	return words;
}

START_TEST(test_tok_whitespace_blocks_match_bytewise)
{
	/* Pieces: every ASCII byte, Unicode spaces, other multibyte
	 * characters, a stray byte. */
	static const char *const multi[] = { "\xc2\xa0", "\xe3\x80\x80",
	    "\xe2\x80\x83", "\xc2\x85", "\xc3\xa9", "\xe2\x80\x99", "\xff",
	    "\xe2\x80" };
	struct tokenizer *tok;
	struct event_str ch[4];
	char err[128], text[200];
	uint64_t rng = 0x9e3779b97f4a7c15ull, n;

	ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err, sizeof(err)),
	    0);
	/* Each ASCII byte at each place of a 17-byte text of words and
	 * spaces, so that it falls in every lane of an 8-byte block and in
	 * the bytes left after the blocks. */
	for (int b = 0; b < 128; b++)
		for (size_t at = 0; at < 17; at++) {
			memcpy(text, "ab cd\tef  gh ij k", 17);
			text[at] = (char)b;
			ch[0] = (struct event_str){ text, 17 };
			ck_assert_int_eq(tokenizer_count(tok, ch, 1, &n), 0);
			ck_assert_uint_eq(n, ref_words(ch, 1));
		}
	/* Random texts cut into up to four chunks (a word may go on from
	 * one chunk into the next). */
	for (int round = 0; round < 3000; round++) {
		size_t len = 0, want = (size_t)(rng % 90), nch, cut[3];

		while (len < want) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			if (rng % 8 == 0) {
				const char *m = multi[(rng >> 8) % 8];

				memcpy(text + len, m, strlen(m));
				len += strlen(m);
			} else {
				unsigned r = (unsigned)(rng >> 16) % 4;

				text[len++] = r == 0 ? ' ' : r == 1 ?
				    (char)((rng >> 24) & 0x7f) : 'w';
			}
		}
		nch = 1 + (size_t)(rng >> 40) % 4;
		for (size_t k = 0; k < 3; k++)
			cut[k] = len ? (size_t)(rng >> (20 + 8 * k)) % (len + 1)
			    : 0;
		/* sorted cut points */
		for (size_t a = 0; a < 3; a++)
			for (size_t c = a + 1; c < 3; c++)
				if (cut[c] < cut[a]) {
					size_t t = cut[a];

					cut[a] = cut[c];
					cut[c] = t;
				}
		for (size_t k = 0, from = 0; k < nch; k++) {
			size_t to = k + 1 == nch ? len : cut[k];

			ch[k] = (struct event_str){ text + from, to - from };
			from = to;
		}
		ck_assert_int_eq(tokenizer_count(tok, ch, nch, &n), 0);
		ck_assert_uint_eq(n, ref_words(ch, nch));
	}
	tokenizer_close(tok);
}
END_TEST

/* count_split against two direct counts, at every cut of chunks[0..n). */
static void
split_check(const struct tokenizer *tok, const struct event_str *ch, size_t n)
{
	for (size_t from = 0; from <= n; from++) {
		uint64_t full = 99, suffix = 99, want_full, want_suffix;

		ck_assert_int_eq(tokenizer_count(tok, ch, n, &want_full), 0);
		ck_assert_int_eq(tokenizer_count(tok, ch + from, n - from,
		    &want_suffix), 0);
		ck_assert_int_eq(tok->count_split(tok, ch, n, from, &full,
		    &suffix), 0);
		ck_assert_msg(full == want_full && suffix == want_suffix,
		    "n %zu from %zu: full %" PRIu64 " want %" PRIu64
		    ", suffix %" PRIu64 " want %" PRIu64, n, from, full,
		    want_full, suffix, want_suffix);
		ck_assert_uint_eq(want_full, ref_words(ch, n));
	}
}

START_TEST(test_tok_whitespace_split_matches_two_counts)
{
	/* Chunk lists whose cuts fall inside a word, on ASCII and Unicode
	 * whitespace, next to empty chunks, on an invalid or cut-short
	 * multi-byte sequence, and on 8-byte block edges. */
	static const char *const edge[][6] = {
		{ "", NULL }, { "", "", NULL }, { "word", NULL },
		{ "hel", "lo world", NULL }, { "hello ", "world", NULL },
		{ "hello", " world", NULL }, { "a", "", "b", NULL },
		{ "a", "", "", " b", NULL }, { "", "", "abc", NULL },
		{ " ", " ", NULL }, { "x\xc2\xa0", "y", NULL },
		{ "x", "\xc2\xa0y", NULL }, { "x", "\xe3\x80\x80", "y", NULL },
		{ "x", "\xc3\xa9y", NULL }, { "x", "\xe2\x80", "y", NULL },
		{ "x", "\xff", NULL }, { "abcdefgh", "ijklmnop q", NULL },
		{ "abcdefg ", "hijklmno", NULL }, { "abcdefgh ", "", "\t", NULL },
		{ "one two three four", "", "five", " six seven", "8", NULL },
	};
	static const char *const piece[] = { "w", "ab", " ", "\t\n",
	    "\xc2\xa0", "\xe2\x80\xaf", "\xc3\xa9", "\xe2\x80", "\xff",
	    "", "abcdefghij", "\x1f" };
	struct tokenizer *tok;
	struct event_str ch[6];
	char err[128], text[6][64];
	uint64_t rng = 0x2545f4914f6cdd1dull;

	ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err, sizeof(err)),
	    0);
	ck_assert_ptr_nonnull(tok->count_split);
	for (size_t e = 0; e < sizeof(edge) / sizeof(edge[0]); e++) {
		size_t n = 0;

		for (; edge[e][n] != NULL; n++)
			ch[n] = (struct event_str){ edge[e][n],
			    strlen(edge[e][n]) };
		split_check(tok, ch, n);
	}
	/* Random lists of up to 6 chunks, each of up to 5 pieces. */
	for (int round = 0; round < 3000; round++) {
		size_t n;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		n = (size_t)(rng % 7);
		for (size_t k = 0; k < n; k++) {
			size_t len = 0, np = (size_t)(rng >> (8 + 4 * k)) % 6;

			for (size_t q = 0; q < np; q++) {
				const char *pc;

				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				pc = piece[rng % (sizeof(piece) / sizeof(piece[0]))];
				memcpy(text[k] + len, pc, strlen(pc));
				len += strlen(pc);
			}
			ch[k] = (struct event_str){ text[k], len };
		}
		split_check(tok, ch, n);
	}
	tokenizer_close(tok);
}
END_TEST

/* ---- Patterns read as Oniguruma (HF's engine) reads them ---- */

/* Split s with pattern; return the matches as "start-end," text. */
static void
splits(const char *pattern, bool literal, const char *s, const char *want)
{
	struct tok_regex *re;
	struct tok_matches m = { 0 };
	char err[256], got[256] = "";

	ck_assert_msg(tok_regex_new(&re, pattern, strlen(pattern), literal,
	    err, sizeof(err)) == 0, "%s: %s", pattern, err);
	ck_assert_int_eq(tok_regex_split(re, s, strlen(s), &m), 0);
	for (size_t i = 0; i < m.n; i++)
		if (m.v[i].is_match)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%zu-%zu,", m.v[i].start, m.v[i].end);
	ck_assert_msg(strcmp(got, want) == 0, "%s on \"%s\": %s, want %s",
	    pattern, s, got, want);
	tok_matches_free(&m);
	tok_regex_free(re);
}

START_TEST(test_tok_regex_unicode16_letters)
{
	/* U+10D4A, a Garay letter (Unicode 16.0): \p{L} as in HF. */
	splits("\\p{L}+", false, "ab\xf0\x90\xb5\x8a" "cd 1", "0-8,");
	splits("[^\\s\\p{L}]+", false, "ab\xf0\x90\xb5\x8a" "cd 1", "9-10,");
	/* U+1FABD WING (Unicode 15.0) is a symbol. */
	splits("\\p{S}", false, "x\xf0\x9f\xaa\xbd", "1-5,");
	splits("\\P{L}", false, "a1", "1-2,");
}
END_TEST

START_TEST(test_tok_regex_space_is_white_space)
{
	/* Oniguruma's \s includes U+0085 NEL; PCRE2's would not. */
	splits("\\s", false, "a\xc2\x85" "b c", "1-3,4-5,");
	splits("[^\\s]+", false, "a\xc2\x85" "b", "0-1,3-4,");
	splits("\\S+", false, "a\xc2\x85" "b", "0-1,3-4,");
}
END_TEST

START_TEST(test_tok_regex_oniguruma_meanings_kept)
{
	/* ^ starts every line in Oniguruma. */
	splits("^a", false, "ab\nab", "0-1,3-4,");
	/* Case-insensitive contractions as in Llama 3's pattern. */
	splits("(?i:'s|'t)", false, "it'S don'T", "2-4,8-10,");
	/* Empty matches: each position once, none right after a match. */
	splits("x*", false, "ab", "0-0,1-1,2-2,");
	/* A literal is a literal. */
	splits(".", true, "a.b", "1-2,");
	splits("a", true, "aaa", "0-1,1-2,2-3,");
}
END_TEST

/* ---- Hub ids and directories ---- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	char buf[4096];
	size_t n;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

/* ROOT/models--org--tiny/{refs/main,snapshots/abc123/tokenizer.json} */
static void
make_hub(const char *root)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/models--org--tiny", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs/main", root);
	write_file(p, "abc123\n");
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots/abc123", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p),
	    "%s/models--org--tiny/snapshots/abc123/tokenizer.json", root);
	copy_file(DATA "tok_spm.json", p);
}

START_TEST(test_tok_hub_id_resolves_in_hf_hub_cache)
{
	char *dir = testutil_tmpdir(), path[4096], want[4096], err[1024];
	struct tokenizer *tok;
	uint64_t n;

	make_hub(dir);
	setenv("HF_HUB_CACHE", dir, 1);
	unsetenv("HF_HOME");
	ck_assert_msg(tok_hub_resolve("org/tiny", path, sizeof(path), err,
	    sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want),
	    "%s/models--org--tiny/snapshots/abc123/tokenizer.json", dir);
	ck_assert_str_eq(path, want);
	ck_assert_msg(tokenizer_open(&tok, "org/tiny", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(tokenizer_count_text(tok, "hello world", 11, &n), 0);
	ck_assert_uint_eq(n, 2);
	tokenizer_close(tok);
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_tok_hub_id_uses_hf_home)
{
	char *dir = testutil_tmpdir(), hub[4096], path[4096], err[1024];

	snprintf(hub, sizeof(hub), "%s/hub", dir);
	ck_assert_int_eq(mkdir(hub, 0700), 0);
	make_hub(hub);
	unsetenv("HF_HUB_CACHE");
	setenv("HF_HOME", dir, 1);
	ck_assert_msg(tok_hub_resolve("org/tiny", path, sizeof(path), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(path, "/hub/models--org--tiny/"));
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_tok_hub_id_missing_lists_places)
{
	char *dir = testutil_tmpdir(), path[4096], err[1024], ref[4096];
	struct tokenizer *tok = NULL;

	setenv("HF_HUB_CACHE", dir, 1);
	ck_assert_int_eq(tok_hub_resolve("org/absent", path, sizeof(path),
	    err, sizeof(err)), -ENOENT);
	snprintf(ref, sizeof(ref), "%s/models--org--absent/refs/main", dir);
	ck_assert_msg(strstr(err, ref) != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "./org/absent"));
	ck_assert_int_eq(tokenizer_open(&tok, "org/absent", err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_null(tok);
	/* A ref pointing at a snapshot without tokenizer.json. */
	make_hub(dir);
	snprintf(ref, sizeof(ref), "%s/models--org--tiny/refs/main", dir);
	write_file(ref, "other\n");
	ck_assert_int_eq(tok_hub_resolve("org/tiny", path, sizeof(path),
	    err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "snapshots/other/tokenizer.json"));
	/* Ids that could climb out of the cache are not ids. */
	ck_assert_int_eq(tok_hub_resolve("../etc", path, sizeof(path), err,
	    sizeof(err)), -ENOENT);
	ck_assert_int_eq(tok_hub_resolve("a/..", path, sizeof(path), err,
	    sizeof(err)), -ENOENT);
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_tok_directory_needs_tokenizer_json)
{
	char *dir = testutil_tmpdir(), p[4096], err[1024];
	struct tokenizer *tok = NULL;

	ck_assert_int_eq(tokenizer_open(&tok, dir, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "tokenizer.json"));
	snprintf(p, sizeof(p), "%s/tokenizer.json", dir);
	copy_file(DATA "tok_bytelevel.json", p);
	ck_assert_msg(tokenizer_open(&tok, dir, err, sizeof(err)) == 0, "%s",
	    err);
	tokenizer_close(tok);
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- Bad files ---- */

/*
 * A minimal valid file with one part replaced: MODEL, PRE, NORM and
 * ADDED are spliced in as JSON text.
 */
static char *
doc(const char *model, const char *pre, const char *norm, const char *added)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s, "{\"version\":\"1.0\",\"truncation\":null,"
	    "\"padding\":null,\"added_tokens\":%s,\"normalizer\":%s,"
	    "\"pre_tokenizer\":%s,\"post_processor\":null,\"decoder\":null,"
	    "\"model\":%s}", added ? added : "[]", norm ? norm : "null",
	    pre ? pre : "null", model ? model :
	    "{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},"
	    "\"merges\":[\"a b\"]}"), 0);
	return s;
}

/* Load text; expect r and an err containing want. */
static void
load_fails(const char *text, int r, const char *want)
{
	struct tok_hf *t = NULL;
	char err[1024] = "";

	ck_assert_int_eq(tok_hf_load_text(&t, text, strlen(text), "t.json",
	    err, sizeof(err)), r);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"",
	    err, want);
	ck_assert_msg(strncmp(err, "t.json", 6) == 0, "%s", err);
}

START_TEST(test_tok_load_minimal_file)
{
	char *s = doc(NULL, NULL, NULL, NULL);
	struct tok_hf *t = NULL;
	struct tok_ids ids = { 0 };
	char err[512];

	ck_assert_msg(tok_hf_load_text(&t, s, strlen(s), "t.json", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tok_hf_encode(t, "abab", 4, &ids), 0);
	ck_assert_uint_eq(ids.n, 2);	/* a b a b -> ab ab */
	ck_assert_uint_eq(ids.v[0], 2);
	ck_assert_uint_eq(ids.v[1], 2);
	free(ids.v);
	tok_hf_free(t);
	free(s);
}
END_TEST

START_TEST(test_tok_load_rejects_bad_json)
{
	char *s = doc(NULL, NULL, NULL, NULL);

	/* Truncated: the message has the line and column. */
	s[strlen(s) / 2] = '\0';
	load_fails(s, -EINVAL, "t.json:1:");
	load_fails("", -EINVAL, "bad JSON");
	load_fails("[1,2]", -EINVAL, "not a JSON object");
	free(s);
}
END_TEST

START_TEST(test_tok_load_rejects_wrong_types)
{
	static const char *const cases[][2] = {
		{ "{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}",
		  "model.vocab: missing or not an object" },
		{ "{\"type\":\"BPE\",\"vocab\":{},\"merges\":{}}",
		  "model.merges: missing or not an array" },
		{ "{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}",
		  "the id of \"a\" is not an integer" },
		{ "{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}",
		  "the id of \"a\" is not an integer" },
		{ "{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}",
		  "model.merges[0]: want" },
		{ "{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\"]}",
		  "model.merges[0]: not two tokens" },
		{ "{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a a a\"]}",
		  "model.merges[0]: not two tokens" },
		{ "{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],"
		  "\"fuse_unk\":1}", "model.fuse_unk: not a boolean" },
		{ "{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],"
		  "\"unk_token\":\"<unk>\"}", "unk_token \"<unk>\" is not in" },
		{ "{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],"
		  "\"dropout\":0.5}", "unsupported: BPE dropout" },
		{ "\"BPE\"", "model: missing or not an object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = doc(cases[i][0], NULL, NULL, NULL);

		load_fails(s, strstr(cases[i][1], "unsupported") ? -ENOTSUP :
		    -EINVAL, cases[i][1]);
		free(s);
	}
}
END_TEST

START_TEST(test_tok_load_rejects_merge_outside_vocab)
{
	char *s = doc("{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"ab\":1},"
	    "\"merges\":[[\"a\",\"b\"]]}", NULL, NULL, NULL);

	load_fails(s, -EINVAL, "model.merges[0]: merge 0: \"b\" is not in "
	    "the vocab");
	free(s);
	s = doc("{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},"
	    "\"merges\":[\"a b\"]}", NULL, NULL, NULL);
	load_fails(s, -EINVAL, "the merged token \"ab\" is not in the vocab");
	free(s);
}
END_TEST

START_TEST(test_tok_load_rejects_duplicate_ids)
{
	char *s = doc("{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},"
	    "\"merges\":[]}", NULL, NULL, NULL);

	load_fails(s, -EINVAL, "duplicate id 0");
	free(s);
}
END_TEST

START_TEST(test_tok_load_rejects_10mb_token)
{
	size_t big = 10u << 20;
	char *tokn = malloc(big + 1), *model, *s;

	ck_assert_ptr_nonnull(tokn);
	memset(tokn, 'x', big);
	tokn[big] = '\0';
	ck_assert_int_ge(asprintf(&model, "{\"type\":\"BPE\",\"vocab\":"
	    "{\"%s\":0},\"merges\":[]}", tokn), 0);
	s = doc(model, NULL, NULL, NULL);
	load_fails(s, -EINVAL, "too long");
	free(s);
	free(model);
	/* The same as an added token. */
	ck_assert_int_ge(asprintf(&model, "[{\"id\":5,\"content\":\"%s\"}]",
	    tokn), 0);
	s = doc(NULL, NULL, NULL, model);
	load_fails(s, -EINVAL, "added_tokens[0]: content too long");
	free(s);
	free(model);
	free(tokn);
}
END_TEST

START_TEST(test_tok_load_rejects_bad_regex)
{
	char *s = doc(NULL, "{\"type\":\"Split\",\"pattern\":{\"Regex\":"
	    "\"(?<x\"},\"behavior\":\"Isolated\",\"invert\":false}", NULL,
	    NULL);

	load_fails(s, -EINVAL, "pre_tokenizer.pattern: bad regex");
	free(s);
	s = doc(NULL, NULL, "{\"type\":\"Replace\",\"pattern\":{\"Regex\":"
	    "\"[a\"},\"content\":\"b\"}", NULL);
	load_fails(s, -EINVAL, "normalizer.pattern: bad regex");
	free(s);
}
END_TEST

START_TEST(test_tok_load_rejects_unsupported_components)
{
	char *s;

	s = doc("{\"type\":\"WordPiece\",\"vocab\":{}}", NULL, NULL, NULL);
	load_fails(s, -ENOTSUP, "unsupported: model type WordPiece");
	free(s);
	s = doc(NULL, "{\"type\":\"Whitespace\"}", NULL, NULL);
	load_fails(s, -ENOTSUP, "unsupported: pre-tokenizer type Whitespace");
	free(s);
	s = doc(NULL, "{\"type\":\"Sequence\",\"pretokenizers\":["
	    "{\"type\":\"Digits\"},{\"type\":\"BertPreTokenizer\"}]}", NULL,
	    NULL);
	load_fails(s, -ENOTSUP, "pre_tokenizer.pretokenizers[1]: "
	    "unsupported");
	free(s);
	s = doc(NULL, NULL, "{\"type\":\"Lowercase\"}", NULL);
	load_fails(s, -ENOTSUP, "unsupported: normalizer type Lowercase");
	free(s);
	s = doc(NULL, "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},"
	    "\"behavior\":\"Sideways\"}", NULL, NULL);
	load_fails(s, -ENOTSUP, "behavior: unsupported: Sideways");
	free(s);
	s = doc(NULL, "{\"type\":\"Sequence\",\"pretokenizers\":["
	    "{\"type\":\"ByteLevel\"},{\"type\":\"Digits\"}]}", NULL, NULL);
	load_fails(s, -ENOTSUP, "a step after ByteLevel");
	free(s);
	load_fails("{\"truncation\":{\"max_length\":5},\"model\":{}}",
	    -ENOTSUP, "truncation: unsupported");
}
END_TEST

START_TEST(test_tok_open_bad_file_names_it)
{
	char *dir = testutil_tmpdir(), p[4096], err[1024];
	struct tokenizer *tok = NULL;
	int r;

	snprintf(p, sizeof(p), "%s/tokenizer.json", dir);
	write_file(p, "{\"model\": {\"type\": \"Unigram\"}}\n");
	r = tokenizer_open(&tok, p, err, sizeof(err));
	ck_assert_int_eq(r, -ENOTSUP);
	ck_assert_ptr_null(tok);
	ck_assert_msg(strstr(err, p) == err, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "unsupported: model type Unigram"));
	testutil_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
tok_suite(void)
{
	Suite *s = suite_create("tok");
	TCase *ids = tcase_create("ids");
	TCase *hub = tcase_create("hub");
	TCase *bad = tcase_create("bad");

	tcase_add_test(ids, test_tok_bytelevel_ids_match_hf);
	tcase_add_test(ids, test_tok_sentencepiece_ids_match_hf);
	tcase_add_test(ids, test_tok_pretokenizers_ids_match_hf);
	tcase_add_test(ids, test_tok_count_joins_chunks);
	tcase_add_test(ids, test_tok_invalid_utf8_is_replacement_char);
	tcase_add_test(ids, test_tok_whitespace_has_no_ids);
	tcase_add_test(ids, test_tok_whitespace_blocks_match_bytewise);
	tcase_add_test(ids, test_tok_whitespace_split_matches_two_counts);
	tcase_add_test(ids, test_tok_regex_unicode16_letters);
	tcase_add_test(ids, test_tok_regex_space_is_white_space);
	tcase_add_test(ids, test_tok_regex_oniguruma_meanings_kept);
	tcase_add_test(hub, test_tok_hub_id_resolves_in_hf_hub_cache);
	tcase_add_test(hub, test_tok_hub_id_uses_hf_home);
	tcase_add_test(hub, test_tok_hub_id_missing_lists_places);
	tcase_add_test(hub, test_tok_directory_needs_tokenizer_json);
	tcase_add_test(bad, test_tok_load_minimal_file);
	tcase_add_test(bad, test_tok_load_rejects_bad_json);
	tcase_add_test(bad, test_tok_load_rejects_wrong_types);
	tcase_add_test(bad, test_tok_load_rejects_merge_outside_vocab);
	tcase_add_test(bad, test_tok_load_rejects_duplicate_ids);
	tcase_add_test(bad, test_tok_load_rejects_10mb_token);
	tcase_add_test(bad, test_tok_load_rejects_bad_regex);
	tcase_add_test(bad, test_tok_load_rejects_unsupported_components);
	tcase_add_test(bad, test_tok_open_bad_file_names_it);
	suite_add_tcase(s, ids);
	suite_add_tcase(s, hub);
	suite_add_tcase(s, bad);
	return s;
}
