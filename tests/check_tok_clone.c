/*
 * Unit tests of tokenizer_clone and tok_hf_clone: a clone gives exactly
 * the ids of the tokenizer it was cloned from, outlives it (the shared
 * tables are reference-counted), keeps its own repaired count, and four
 * clones encoding different texts at the same time each give what one
 * thread alone gives. The threaded cases run on Llama 3's tokenizer.json
 * (PCRE2 with JIT, the real table sizes; from $METRICSD_TOKDATA, else
 * /var/cache/metricsd/tok, written by make deps) and on a small file
 * whose pre-tokenizer pattern runs on Oniguruma and whose normalizer has
 * a Replace pattern, so that every shared object is matched from four
 * threads at once. Run under ThreadSanitizer, they show any state the
 * clones still share.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "tok_hf.h"
#include "tokenizer.h"

#define DATA "tests/data/"
#define NTHREADS 4
#define NTEXTS 48		/* per thread */
#define ROUNDS 3		/* each thread encodes its texts this often */

/* Words the texts are made of: ASCII, Latin with accents (NFC matters:
 * "e" + U+0301), CJK, emoji, digits, punctuation, runs of blanks, Llama
 * 3's special tokens, and a word longer than the word cache takes. */
static const char *const words[] = {
	"hello", "world", "the", "tokenizer", "shares", "its", "tables",
	"na\xc3\xafve", "caf\x65\xcc\x81", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa"
	"\x9e", "\xf0\x9f\x98\x80", "12345", "3.14159", "it's", "don't", "--",
	"!!", "  ", "\n\n", "\t", "<|begin_of_text|>", "<|eot_id|>",
	"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "x-y_z", "(a)",
	"\xe2\x96\x81under", "end.",
};

#define NWORDS (sizeof(words) / sizeof(words[0]))

struct text {
	char *p;
	size_t len;
};

/*
 * Text i of thread t: words picked by a fixed LCG (the same texts on
 * every run), one in five with an invalid byte, one in seven with a 400
 * byte word (past the word cache's limit).
 */
static struct text
make_text(unsigned t, unsigned i)
{
	uint32_t x = 2654435761u * (t * NTEXTS + i + 1);
	unsigned n = 10 + (t * 7 + i) % 60;
	size_t cap = 4096, len = 0;
	char *p = malloc(cap);

	ck_assert_ptr_nonnull(p);
	for (unsigned k = 0; k < n; k++) {
		const char *w;

		x = x * 1103515245u + 12345u;
		w = words[(x >> 8) % NWORDS];
		ck_assert_uint_lt(len + strlen(w) + 2, cap);
		memcpy(p + len, w, strlen(w));
		len += strlen(w);
		p[len++] = (x >> 20) % 3 ? ' ' : ',';
	}
	if (i % 5 == 0)
		p[len / 2] = (char)0xff;
	if (i % 7 == 0) {
		ck_assert_uint_lt(len + 400, cap);
		memset(p + len, 'q', 400);
		len += 400;
	}
	return (struct text){ p, len };
}

/* How one tokenizer encodes: through tokenizer.h or tok_hf.h. */
struct enc {
	struct tokenizer *tok;
	struct tok_hf *hf;
};

static int
encode(const struct enc *e, const struct text *t, struct tok_ids *ids)
{
	ids->n = 0;
	if (e->tok != NULL)
		return e->tok->encode(e->tok, t->p, t->len, ids);
	return tok_hf_encode(e->hf, t->p, t->len, ids);
}

static uint64_t
repaired(const struct enc *e)
{
	return e->tok != NULL ? tokenizer_repaired(e->tok) :
	    tok_hf_repaired(e->hf);
}

struct worker {
	pthread_t th;
	struct enc enc;
	unsigned t;
	struct text texts[NTEXTS];
	struct tok_ids want[NTEXTS];
	/* Results, read after the join. */
	unsigned mismatches, failures;
	uint64_t repaired;
	char first_bad[160];
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct tok_ids ids = { 0 };

	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < NTEXTS; i++) {
			const struct tok_ids *want = &w->want[i];

			if (encode(&w->enc, &w->texts[i], &ids) < 0) {
				w->failures++;
				continue;
			}
			if (ids.n == want->n && (ids.n == 0 || memcmp(ids.v,
			    want->v, ids.n * sizeof(*ids.v)) == 0))
				continue;
			if (w->mismatches++ == 0)
				snprintf(w->first_bad, sizeof(w->first_bad),
				    "thread %u text %u round %u: %zu ids, "
				    "want %zu", w->t, i, r, ids.n, want->n);
		}
	}
	w->repaired = repaired(&w->enc);
	free(ids.v);
	return NULL;
}

/*
 * Encode every thread's texts with orig alone, then the same texts on
 * NTHREADS clones at once (each thread its own texts, ROUNDS times), and
 * compare. The clones are made with clone(), freed with drop().
 */
static void
run_threads(const struct enc *orig, int (*clone)(struct enc *,
    const struct enc *), void (*drop)(struct enc *))
{
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	uint64_t invalid = 0;

	ck_assert_ptr_nonnull(w);
	for (unsigned t = 0; t < NTHREADS; t++) {
		w[t].t = t;
		for (unsigned i = 0; i < NTEXTS; i++) {
			w[t].texts[i] = make_text(t, i);
			ck_assert_int_eq(encode(orig, &w[t].texts[i],
			    &w[t].want[i]), 0);
			ck_assert_uint_gt(w[t].want[i].n, 0);
			invalid += i % 5 == 0;
		}
		ck_assert_int_eq(clone(&w[t].enc, orig), 0);
	}
	/* Each thread's invalid texts, once a round: its own count. */
	invalid /= NTHREADS;
	for (unsigned t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_create(&w[t].th, NULL, work, &w[t]),
		    0);
	for (unsigned t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_join(w[t].th, NULL), 0);
	for (unsigned t = 0; t < NTHREADS; t++) {
		ck_assert_msg(w[t].mismatches == 0, "%u mismatches; first: %s",
		    w[t].mismatches, w[t].first_bad);
		ck_assert_uint_eq(w[t].failures, 0);
		ck_assert_uint_eq(w[t].repaired, invalid * ROUNDS);
		drop(&w[t].enc);
		for (unsigned i = 0; i < NTEXTS; i++) {
			free(w[t].texts[i].p);
			free(w[t].want[i].v);
		}
	}
	free(w);
}

static int
clone_tok(struct enc *out, const struct enc *orig)
{
	char err[256];

	out->hf = NULL;
	return tokenizer_clone(&out->tok, orig->tok, err, sizeof(err));
}

static void
drop_tok(struct enc *e)
{
	tokenizer_close(e->tok);
}

static int
clone_hf(struct enc *out, const struct enc *orig)
{
	out->tok = NULL;
	return tok_hf_clone(&out->hf, orig->hf);
}

static void
drop_hf(struct enc *e)
{
	tok_hf_free(e->hf);
}

/* Llama 3's tokenizer.json, or NULL (with a message) when the data was
 * never installed: $METRICSD_TOKDATA unset and the default place empty. */
static const char *
llama3_path(char *buf, size_t len)
{
	const char *dir = getenv("METRICSD_TOKDATA");

	snprintf(buf, len, "%s/llama3/tokenizer.json",
	    dir && *dir ? dir : "/var/cache/metricsd/tok");
	if (access(buf, R_OK) == 0)
		return buf;
	ck_assert_msg(dir == NULL || *dir == '\0',
	    "%s: missing though METRICSD_TOKDATA is set", buf);
	fprintf(stderr, "tok_clone: %s not installed (make deps): Llama 3 "
	    "cases skipped\n", buf);
	return NULL;
}

START_TEST(test_tokenizer_clone_threads_llama3)
{
	char path[4096], err[512];
	struct enc orig = { 0 };

	if (llama3_path(path, sizeof(path)) == NULL)
		return;
	ck_assert_msg(tokenizer_open(&orig.tok, path, err, sizeof(err)) == 0,
	    "%s", err);
	run_threads(&orig, clone_tok, drop_tok);
	tokenizer_close(orig.tok);
}
END_TEST

/*
 * tok_bytelevel.json with a normalizer holding a Replace pattern that
 * PCRE2 takes, and a pre-tokenizer whose Split pattern only Oniguruma
 * takes (a named group), before the file's own ByteLevel step.
 */
static struct tok_hf *
load_onig_variant(void)
{
	json_error_t je;
	json_t *root = json_load_file(DATA "tok_bytelevel.json", 0, &je);
	json_t *pre, *norm;
	struct tok_hf *hf = NULL;
	char err[512], *text;

	ck_assert_msg(root != NULL, "%s", je.text);
	pre = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, O]}",
	    "type", "Sequence", "pretokenizers", "type", "Split", "pattern",
	    "Regex", "(?<w>\\p{L}+)|\\p{N}{1,3}|\\s+", "behavior", "Isolated",
	    "invert", 0, json_object_get(root, "pre_tokenizer"));
	norm = json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern",
	    "Regex", "[,;]+", "content", ",");
	ck_assert_ptr_nonnull(pre);
	ck_assert_ptr_nonnull(norm);
	json_object_set_new(root, "pre_tokenizer", pre);
	json_object_set_new(root, "normalizer", norm);
	text = json_dumps(root, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(tok_hf_load_text(&hf, text, strlen(text), "onig variant",
	    err, sizeof(err)) == 0, "%s", err);
	free(text);
	json_decref(root);
	return hf;
}

START_TEST(test_tok_hf_clone_threads_oniguruma)
{
	struct enc orig = { NULL, load_onig_variant() };

	run_threads(&orig, clone_hf, drop_hf);
	tok_hf_free(orig.hf);
}
END_TEST

/* The ids of text on a and b are the same. */
static void
same_ids(struct tokenizer *a, struct tokenizer *b, const struct text *t)
{
	struct tok_ids x = { 0 }, y = { 0 };

	ck_assert_int_eq(a->encode(a, t->p, t->len, &x), 0);
	ck_assert_int_eq(b->encode(b, t->p, t->len, &y), 0);
	ck_assert_uint_eq(x.n, y.n);
	ck_assert(x.n == 0 || memcmp(x.v, y.v, x.n * sizeof(*x.v)) == 0);
	free(x.v);
	free(y.v);
}

/*
 * Every fixture file: the clone encodes as the original, counts its own
 * repaired texts, and goes on working once the original is closed (and
 * so does a clone of the clone).
 */
START_TEST(test_tokenizer_clone_outlives_original)
{
	static const char *const files[] = { DATA "tok_bytelevel.json",
		DATA "tok_spm.json", DATA "tok_pieces.json" };
	const char *file = files[_i];
	struct tokenizer *orig, *c1, *c2;
	struct tok_ids want[NTEXTS] = { { 0 } };
	char err[512];
	uint64_t n;

	ck_assert_msg(tokenizer_open(&orig, file, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(tokenizer_clone(&c1, orig, err, sizeof(err)), 0);
	ck_assert_ptr_ne(c1, orig);
	ck_assert_str_eq(c1->name, orig->name);
	for (unsigned i = 0; i < NTEXTS; i++) {
		struct text t = make_text(1, i);

		same_ids(orig, c1, &t);
		free(t.p);
	}
	ck_assert_uint_eq(tokenizer_repaired(orig), tokenizer_repaired(c1));
	ck_assert_uint_gt(tokenizer_repaired(c1), 0);
	ck_assert_int_eq(tokenizer_count_text(c1, "a\xff", 2, &n), 0);
	ck_assert_uint_eq(tokenizer_repaired(c1),
	    tokenizer_repaired(orig) + 1);
	ck_assert_int_eq(tokenizer_clone(&c2, c1, err, sizeof(err)), 0);
	ck_assert_uint_eq(tokenizer_repaired(c2), 0);
	for (unsigned i = 0; i < NTEXTS; i++) {
		struct text t = make_text(2, i);

		ck_assert_int_eq(orig->encode(orig, t.p, t.len, &want[i]), 0);
		free(t.p);
	}
	tokenizer_close(orig);
	tokenizer_close(c1);
	/* Only c2 holds the tables now (ASan sees any use after free). */
	for (unsigned i = 0; i < NTEXTS; i++) {
		struct text t = make_text(2, i);
		struct tok_ids ids = { 0 };

		ck_assert_int_eq(c2->encode(c2, t.p, t.len, &ids), 0);
		ck_assert_uint_eq(ids.n, want[i].n);
		ck_assert(ids.n == 0 || memcmp(ids.v, want[i].v,
		    ids.n * sizeof(*ids.v)) == 0);
		free(ids.v);
		free(want[i].v);
		free(t.p);
	}
	tokenizer_close(c2);
}
END_TEST

START_TEST(test_tokenizer_clone_whitespace_is_itself)
{
	struct tokenizer *tok, *c;
	char err[256];
	uint64_t n;

	ck_assert_int_eq(tokenizer_open(&tok, "whitespace", err, sizeof(err)),
	    0);
	ck_assert_int_eq(tokenizer_clone(&c, tok, err, sizeof(err)), 0);
	ck_assert_ptr_eq(c, tok);
	ck_assert_int_eq(tokenizer_count_text(c, "two words", 9, &n), 0);
	ck_assert_uint_eq(n, 2);
	tokenizer_close(c);
	tokenizer_close(tok);
}
END_TEST

Suite *
tok_clone_suite(void)
{
	Suite *s = suite_create("tok_clone");
	TCase *one = tcase_create("one");
	TCase *threads = tcase_create("threads");

	tcase_add_loop_test(one, test_tokenizer_clone_outlives_original, 0, 3);
	tcase_add_test(one, test_tokenizer_clone_whitespace_is_itself);
	/* Llama 3 loads in seconds under the sanitizers. */
	tcase_set_timeout(threads, 120);
	tcase_add_test(threads, test_tokenizer_clone_threads_llama3);
	tcase_add_test(threads, test_tok_hf_clone_threads_oniguruma);
	suite_add_tcase(s, one);
	suite_add_tcase(s, threads);
	return s;
}
