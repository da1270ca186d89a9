/*
 * tokenizer.json loading and the encode pipeline (tok_hf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tok_added.h"
#include "tok_bpe.h"
#include "tok_hf.h"
#include "tok_json.h"
#include "tok_map.h"
#include "tok_norm.h"
#include "tok_pretok.h"

/*
 * What a file loads into: the components as built, read-only from then
 * on, shared by a tokenizer and all its clones and freed with the last
 * of them. Nothing encodes with these: every tok_hf encodes with clones
 * of the normalizer, pre-tokenizer and model (tok_*_clone), which share
 * their tables and patterns and hold the scratch space and word cache.
 * The added-token matchers are read-only and used as they are.
 */
struct tok_hf_tables {
	atomic_uint refs;
	struct tok_norm *norm;		/* NULL: none */
	struct tok_pretok *pretok;	/* NULL: none */
	struct tok_bpe *bpe;
	struct tok_added *raw;		/* added tokens, normalized = false */
	struct tok_added *normed;	/* added tokens, normalized = true */
};

struct tok_hf {
	struct tok_hf_tables *tab;	/* a reference */
	/* This tokenizer's own clones of tab's (NULL where tab's is). */
	struct tok_norm *norm;
	struct tok_pretok *pretok;
	struct tok_bpe *bpe;
	uint64_t repaired;
	/* Scratch for one encode. */
	struct tok_arena arena;
	struct tok_pieces p[3];
	struct tok_buf text;
};

static void
tables_free(struct tok_hf_tables *tb)
{
	tok_norm_free(tb->norm);
	tok_pretok_free(tb->pretok);
	tok_bpe_free(tb->bpe);
	tok_added_free(tb->raw);
	tok_added_free(tb->normed);
	free(tb);
}

/* Drop a reference; the last one frees the tables. */
static void
tables_unref(struct tok_hf_tables *tb)
{
	if (tb != NULL && atomic_fetch_sub(&tb->refs, 1) == 1)
		tables_free(tb);
}

void
tok_hf_free(struct tok_hf *t)
{
	if (t == NULL)
		return;
	tok_norm_free(t->norm);
	tok_pretok_free(t->pretok);
	tok_bpe_free(t->bpe);
	tok_arena_free(&t->arena);
	for (int i = 0; i < 3; i++)
		tok_pieces_free(&t->p[i]);
	tok_buf_free(&t->text);
	tables_unref(t->tab);
	free(t);
}

/*
 * A tokenizer over the tables tb (taking a reference to them), with its
 * own clones of the components that hold scratch space. Reads only tb,
 * which nothing writes once loaded: safe beside other threads encoding
 * with tokenizers over the same tables. 0 or -ENOMEM.
 */
static int
instance_new(struct tok_hf **out, struct tok_hf_tables *tb)
{
	struct tok_hf *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	atomic_fetch_add(&tb->refs, 1);
	t->tab = tb;
	if ((tb->norm != NULL && tok_norm_clone(&t->norm, tb->norm) < 0) ||
	    (tb->pretok != NULL &&
	    tok_pretok_clone(&t->pretok, tb->pretok) < 0) ||
	    tok_bpe_clone(&t->bpe, tb->bpe) < 0) {
		tok_hf_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

int
tok_hf_clone(struct tok_hf **out, const struct tok_hf *orig)
{
	return instance_new(out, orig->tab);
}

uint64_t
tok_hf_repaired(const struct tok_hf *t)
{
	return t->repaired;
}

static int
opt_string(const json_t *o, const char *key, const char **v,
    const char *where, char *err, size_t errlen)
{
	const json_t *x = json_object_get(o, key);

	*v = NULL;
	if (x == NULL || json_is_null(x))
		return 0;
	if (!json_is_string(x) || strlen(json_string_value(x)) !=
	    json_string_length(x)) {
		snprintf(err, errlen, "%s.%s: not a string", where, key);
		return -EINVAL;
	}
	*v = json_string_value(x);
	return 0;
}

static int
load_vocab(struct tok_bpe *b, const json_t *vocab, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;
	char msg[256];
	int r;

	json_object_foreach((json_t *)vocab, key, v) {
		json_int_t id = json_integer_value(v);

		if (!json_is_integer(v) || id < 0 || id > (json_int_t)UINT32_MAX) {
			snprintf(err, errlen, "model.vocab: the id of \"%.60s\" "
			    "is not an integer in 0..4294967295", key);
			return -EINVAL;
		}
		r = tok_bpe_vocab_add(b, key, strlen(key), (uint32_t)id, msg,
		    sizeof(msg));
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(err, errlen, "model.vocab: %s", msg);
			return -EINVAL;
		}
	}
	return 0;
}

static int
load_merges(struct tok_bpe *b, const json_t *merges, char *err, size_t errlen)
{
	char msg[256];
	size_t i;
	const json_t *m;
	int r;

	json_array_foreach(merges, i, m) {
		const char *a, *c;
		size_t alen, clen;

		if (json_is_string(m)) {
			/* "a b": exactly one space (HF's legacy format). */
			const char *s = json_string_value(m), *sp;

			sp = memchr(s, ' ', json_string_length(m));
			if (sp == NULL || memchr(sp + 1, ' ',
			    json_string_length(m) - (size_t)(sp + 1 - s))) {
				snprintf(err, errlen, "model.merges[%zu]: not "
				    "two tokens separated by one space", i);
				return -EINVAL;
			}
			a = s;
			alen = (size_t)(sp - s);
			c = sp + 1;
			clen = json_string_length(m) - alen - 1;
		} else if (json_is_array(m) && json_array_size(m) == 2 &&
		    json_is_string(json_array_get(m, 0)) &&
		    json_is_string(json_array_get(m, 1))) {
			a = json_string_value(json_array_get(m, 0));
			alen = json_string_length(json_array_get(m, 0));
			c = json_string_value(json_array_get(m, 1));
			clen = json_string_length(json_array_get(m, 1));
		} else {
			snprintf(err, errlen, "model.merges[%zu]: want \"a b\" "
			    "or [\"a\", \"b\"]", i);
			return -EINVAL;
		}
		r = tok_bpe_merge_add(b, a, alen, c, clen, msg, sizeof(msg));
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(err, errlen, "model.merges[%zu]: %s", i, msg);
			return -EINVAL;
		}
	}
	return 0;
}

static int
load_model(struct tok_hf_tables *t, const json_t *model, bool byte_level,
    char *err, size_t errlen)
{
	struct tok_bpe_options o = { .byte_level = byte_level };
	const json_t *vocab = json_object_get(model, "vocab");
	const json_t *merges = json_object_get(model, "merges");
	const json_t *dropout = json_object_get(model, "dropout");
	const char *type;
	char msg[256];
	int r;

	if (!json_is_object(model)) {
		snprintf(err, errlen, "model: missing or not an object");
		return -EINVAL;
	}
	if ((r = opt_string(model, "type", &type, "model", err, errlen)) < 0)
		return r;
	if (type == NULL || strcmp(type, "BPE") != 0) {
		snprintf(err, errlen, "model: unsupported: model type %s "
		    "(supported: BPE)", type ? type : "(none)");
		return -ENOTSUP;
	}
	if (dropout != NULL && !json_is_null(dropout) &&
	    !(json_is_number(dropout) && json_number_value(dropout) == 0)) {
		snprintf(err, errlen, "model.dropout: unsupported: BPE dropout "
		    "(random ids)");
		return -ENOTSUP;
	}
	if ((r = tok_json_bool(model, "byte_fallback", "model", &o.byte_fallback,
	    err, errlen)) < 0 ||
	    (r = tok_json_bool(model, "fuse_unk", "model", &o.fuse_unk, err,
	    errlen)) < 0 ||
	    (r = tok_json_bool(model, "ignore_merges", "model", &o.ignore_merges,
	    err, errlen)) < 0 ||
	    (r = opt_string(model, "unk_token", &o.unk_token, "model", err,
	    errlen)) < 0 ||
	    (r = opt_string(model, "continuing_subword_prefix", &o.prefix,
	    "model", err, errlen)) < 0 ||
	    (r = opt_string(model, "end_of_word_suffix", &o.suffix, "model",
	    err, errlen)) < 0)
		return r;
	if (!json_is_object(vocab)) {
		snprintf(err, errlen, "model.vocab: missing or not an object");
		return -EINVAL;
	}
	if (!json_is_array(merges)) {
		snprintf(err, errlen, "model.merges: missing or not an array");
		return -EINVAL;
	}
	if ((r = tok_bpe_new(&t->bpe, &o, json_object_size(vocab),
	    json_array_size(merges))) < 0 ||
	    (r = load_vocab(t->bpe, vocab, err, errlen)) < 0 ||
	    (r = load_merges(t->bpe, merges, err, errlen)) < 0)
		return r;
	if ((r = tok_bpe_finish(t->bpe, msg, sizeof(msg))) < 0) {
		snprintf(err, errlen, "model: %s", msg);
		return r == -ENOMEM ? r : -EINVAL;
	}
	return 0;
}

/*
 * Added tokens, with the ids HF gives them: a content seen before keeps
 * its id, a content in the model's vocab takes that id, any other takes
 * the next id from the vocab's size on (HF warns when the file says
 * otherwise; so do the ids here follow HF, not the file).
 */
static int
load_added(struct tok_hf_tables *t, const json_t *added, char *err,
    size_t errlen)
{
	struct tok_strmap seen;
	uint32_t next = (uint32_t)tok_bpe_vocab_size(t->bpe);
	size_t i;
	const json_t *a;
	struct tok_buf nbuf = { 0 };
	int r;

	if (added == NULL || json_is_null(added))
		return 0;
	if (!json_is_array(added)) {
		snprintf(err, errlen, "added_tokens: not an array");
		return -EINVAL;
	}
	if ((r = tok_added_new(&t->raw)) < 0 ||
	    (r = tok_added_new(&t->normed)) < 0 ||
	    (r = tok_strmap_init(&seen, json_array_size(added))) < 0)
		return r;
	json_array_foreach(added, i, a) {
		const json_t *c = json_object_get(a, "content");
		struct tok_added_flags f = { 0 };
		bool special = false, normalized;
		char where[64];
		uint32_t id;

		snprintf(where, sizeof(where), "added_tokens[%zu]", i);
		if (!json_is_object(a) || !json_is_string(c)) {
			snprintf(err, errlen, "%s: not an object with a string "
			    "\"content\"", where);
			r = -EINVAL;
			goto out;
		}
		if (json_string_length(c) > TOK_MAP_KEY_MAX) {
			snprintf(err, errlen, "%s: content too long (%zu bytes)",
			    where, json_string_length(c));
			r = -EINVAL;
			goto out;
		}
		if ((r = tok_json_bool(a, "special", where, &special, err,
		    errlen)) < 0)
			goto out;
		normalized = !special;
		if ((r = tok_json_bool(a, "lstrip", where, &f.lstrip, err,
		    errlen)) < 0 ||
		    (r = tok_json_bool(a, "rstrip", where, &f.rstrip, err,
		    errlen)) < 0 ||
		    (r = tok_json_bool(a, "single_word", where, &f.single_word, err,
		    errlen)) < 0 ||
		    (r = tok_json_bool(a, "normalized", where, &normalized, err,
		    errlen)) < 0)
			goto out;
		const char *s = json_string_value(c);
		size_t len = json_string_length(c);

		if (len == 0)
			continue;
		if (!tok_strmap_get(&seen, s, len, &id) &&
		    !tok_bpe_token_id(t->bpe, s, len, &id))
			id = next++;
		if ((r = tok_strmap_put(&seen, s, len, id, NULL)) < 0)
			goto out;
		if (normalized && t->norm != NULL) {
			if ((r = tok_norm_apply(t->norm, s, len, &nbuf)) < 0)
				goto out;
			s = nbuf.p;
			len = nbuf.len;
		}
		r = tok_added_add(normalized ? t->normed : t->raw, s, len, id,
		    f);
		if (r < 0)
			goto out;
	}
	if ((r = tok_added_finish(t->raw)) < 0 ||
	    (r = tok_added_finish(t->normed)) < 0)
		goto out;
out:
	tok_buf_free(&nbuf);
	tok_strmap_free(&seen);
	return r;
}

static int
load(struct tok_hf_tables *t, const json_t *root, char *err, size_t errlen)
{
	const json_t *x;
	bool byte_level = false;
	int r;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object");
		return -EINVAL;
	}
	if ((x = json_object_get(root, "truncation")) != NULL &&
	    !json_is_null(x)) {
		snprintf(err, errlen, "truncation: unsupported (counts would "
		    "be cut)");
		return -ENOTSUP;
	}
	if ((x = json_object_get(root, "padding")) != NULL &&
	    !json_is_null(x)) {
		snprintf(err, errlen, "padding: unsupported (counts would "
		    "include padding)");
		return -ENOTSUP;
	}
	x = json_object_get(root, "normalizer");
	if (x != NULL && !json_is_null(x) &&
	    (r = tok_norm_from_json(&t->norm, x, "normalizer", err,
	    errlen)) < 0)
		return r;
	x = json_object_get(root, "pre_tokenizer");
	if (x != NULL && !json_is_null(x) &&
	    (r = tok_pretok_from_json(&t->pretok, x, "pre_tokenizer",
	    &byte_level, err, errlen)) < 0)
		return r;
	if ((r = load_model(t, json_object_get(root, "model"), byte_level,
	    err, errlen)) < 0)
		return r;
	return load_added(t, json_object_get(root, "added_tokens"), err,
	    errlen);
}

static int
finish_load(struct tok_hf **out, json_t *root, const char *name, char *err,
    size_t errlen)
{
	struct tok_hf_tables *tb = calloc(1, sizeof(*tb));
	char msg[512];
	int r;

	if (tb == NULL) {
		json_decref(root);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	atomic_init(&tb->refs, 1);
	msg[0] = '\0';
	r = load(tb, root, msg, sizeof(msg));
	json_decref(root);
	/* The parsed JSON was several times the tables: give it back. */
	malloc_trim(0);
	if (r == 0)
		r = instance_new(out, tb);
	tables_unref(tb);	/* the tokenizer holds it now, if any */
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
		else
			snprintf(err, errlen, "%s: %s", name, msg);
		return r == -ENOMEM || r == -ENOTSUP ? r : -EINVAL;
	}
	return 0;
}

int
tok_hf_load(struct tok_hf **out, const char *path, char *err, size_t errlen)
{
	struct tok_buf b = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), e, r;
	struct stat st;
	ssize_t n;

	/* Read it whole: jansson parses a buffer much faster than a FILE. */
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (tok_buf_reserve(&b, (size_t)st.st_size + 1) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	while ((n = read(fd, b.p + b.len, b.cap - b.len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		b.len += (size_t)n;
		if (b.len == b.cap && tok_buf_reserve(&b, 65536) < 0) {
			errno = ENOMEM;
			goto fail;
		}
	}
	close(fd);
	r = tok_hf_load_text(out, b.p, b.len, path, err, errlen);
	tok_buf_free(&b);
	return r;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	tok_buf_free(&b);
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	return -e;
}

int
tok_hf_load_text(struct tok_hf **out, const char *json, size_t len,
    const char *name, char *err, size_t errlen)
{
	json_error_t je;
	/*
	 * Duplicate keys: the last one wins, as with HF's serde maps (a
	 * vocab entry given twice is one entry).
	 */
	json_t *root = json_loadb(json, len, 0, &je);

	if (root == NULL) {
		snprintf(err, errlen, "%s:%d:%d: bad JSON: %s", name, je.line,
		    je.column, je.text);
		return -EINVAL;
	}
	return finish_load(out, root, name, err, errlen);
}

int
tok_hf_encode(struct tok_hf *t, const char *text, size_t len,
    struct tok_ids *ids)
{
	struct tok_pieces *a = &t->p[0], *b = &t->p[1], *tmp;
	int r;

	tok_arena_reset(&t->arena);
	if (tok_utf8_valid(text, len) != len) {
		t->text.len = 0;
		if (tok_utf8_repair(text, len, &t->text) < 0)
			return -ENOMEM;
		text = t->text.p;
		len = t->text.len;
		t->repaired++;
	}
	if (len == 0)
		return 0;
	a->n = b->n = 0;
	if ((r = tok_pieces_push(a, text, len, -1, true)) < 0)
		return r;
	if (t->tab->raw != NULL) {
		if ((r = tok_added_split(t->tab->raw, a, b)) < 0)
			return r;
		tmp = a, a = b, b = tmp, b->n = 0;
	}
	if (t->norm != NULL) {
		if ((r = tok_norm_pieces(t->norm, &t->arena, a, b)) < 0)
			return r;
		tmp = a, a = b, b = tmp, b->n = 0;
	}
	if (t->tab->normed != NULL) {
		if ((r = tok_added_split(t->tab->normed, a, b)) < 0)
			return r;
		tmp = a, a = b, b = tmp, b->n = 0;
	}
	if (t->pretok != NULL) {
		if ((r = tok_pretok_run(t->pretok, &t->arena, a, b)) < 0)
			return r;
		tmp = a, a = b, b = tmp, b->n = 0;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct tok_piece *pc = &a->v[i];

		if (pc->id >= 0)
			r = tok_ids_push(ids, (uint32_t)pc->id);
		else
			r = tok_bpe_encode_word(t->bpe, pc->p, pc->len, ids);
		if (r < 0)
			return r;
	}
	return 0;
}
