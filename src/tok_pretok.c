/*
 * Pre-tokenizers (tok_pretok.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_json.h"
#include "tok_pretok.h"
#include "tok_regex.h"

enum kind { BYTE_LEVEL, SPLIT, METASPACE, DIGITS, SEQUENCE };

enum behavior {
	ISOLATED, REMOVED, MERGED_PREV, MERGED_NEXT, CONTIGUOUS
};

enum prepend { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };

struct tok_pretok {
	/* Settings, read-only once built. */
	enum kind kind;
	struct tok_regex *re;		/* Split; ByteLevel with use_regex */
	enum behavior behavior;
	bool invert;
	bool add_prefix_space;		/* ByteLevel */
	char rep[5];			/* Metaspace replacement, UTF-8 */
	size_t rep_len;
	uint32_t rep_cp;
	enum prepend prepend;
	bool split;			/* Metaspace */
	bool individual;		/* Digits */
	struct tok_pretok **items;	/* Sequence */
	size_t nitems;
	/* Scratch: each clone's own. */
	struct tok_matches m;
	struct tok_pieces a, b;		/* Sequence scratch */
};

/* GPT-2's pattern, which ByteLevel uses when use_regex is true. */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
    "|\\s+(?!\\S)|\\s+";

void
tok_pretok_free(struct tok_pretok *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nitems; i++)
		tok_pretok_free(p->items[i]);
	free(p->items);
	tok_regex_free(p->re);
	tok_matches_free(&p->m);
	tok_pieces_free(&p->a);
	tok_pieces_free(&p->b);
	free(p);
}

int
tok_pretok_clone(struct tok_pretok **out, const struct tok_pretok *orig)
{
	struct tok_pretok *p = malloc(sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	/* The settings as they are; what is owned or scratch, afresh. */
	*p = *orig;
	p->re = NULL;
	p->items = NULL;
	p->nitems = 0;
	memset(&p->m, 0, sizeof(p->m));
	memset(&p->a, 0, sizeof(p->a));
	memset(&p->b, 0, sizeof(p->b));
	if (orig->re != NULL && tok_regex_clone(&p->re, orig->re) < 0)
		goto nomem;
	if (orig->items != NULL &&
	    (p->items = calloc(orig->nitems + 1, sizeof(*p->items))) == NULL)
		goto nomem;
	for (; p->nitems < orig->nitems; p->nitems++)
		if (tok_pretok_clone(&p->items[p->nitems],
		    orig->items[p->nitems]) < 0)
			goto nomem;
	*out = p;
	return 0;
nomem:
	tok_pretok_free(p);
	return -ENOMEM;
}

static int
compile(struct tok_regex **re, const char *pat, size_t len, bool literal,
    const char *where, char *err, size_t errlen)
{
	char rerr[256];
	int r = tok_regex_new(re, pat, len, literal, rerr, sizeof(rerr));

	if (r == -EINVAL)
		snprintf(err, errlen, "%s.pattern: bad regex: %s", where, rerr);
	return r;
}

static int
parse_split(struct tok_pretok *p, const json_t *j, const char *where,
    char *err, size_t errlen)
{
	static const char *const names[] = {
		"Isolated", "Removed", "MergedWithPrevious", "MergedWithNext",
		"Contiguous"
	};
	const json_t *pat = json_object_get(j, "pattern");
	const json_t *ps = json_object_get(pat, "String");
	const json_t *pr = json_object_get(pat, "Regex");
	const json_t *x = ps ? ps : pr;
	const char *b = json_string_value(json_object_get(j, "behavior"));
	size_t i;
	int r;

	if (!json_is_string(x)) {
		snprintf(err, errlen, "%s.pattern: want {\"String\": ...} or "
		    "{\"Regex\": ...}", where);
		return -EINVAL;
	}
	if (b == NULL) {
		snprintf(err, errlen, "%s.behavior: missing or not a string",
		    where);
		return -EINVAL;
	}
	for (i = 0; i < 5 && strcmp(names[i], b) != 0; i++)
		;
	if (i == 5) {
		snprintf(err, errlen, "%s.behavior: unsupported: %s", where, b);
		return -ENOTSUP;
	}
	p->behavior = (enum behavior)i;
	if ((r = tok_json_bool(j, "invert", where, &p->invert, err, errlen)) < 0)
		return r;
	return compile(&p->re, json_string_value(x), json_string_length(x),
	    ps != NULL, where, err, errlen);
}

static int
parse_metaspace(struct tok_pretok *p, const json_t *j, const char *where,
    char *err, size_t errlen)
{
	const json_t *rep = json_object_get(j, "replacement");
	const char *scheme = json_string_value(json_object_get(j,
	    "prepend_scheme"));
	bool add_prefix = true;
	int r;

	if (!json_is_string(rep) || json_string_length(rep) == 0 ||
	    json_string_length(rep) > 4 ||
	    tok_utf8_len((unsigned char)json_string_value(rep)[0]) !=
	    json_string_length(rep)) {
		snprintf(err, errlen, "%s.replacement: want one character",
		    where);
		return -EINVAL;
	}
	p->rep_len = json_string_length(rep);
	memcpy(p->rep, json_string_value(rep), p->rep_len);
	tok_utf8_next(p->rep, p->rep_len, &p->rep_cp);
	p->split = true;
	p->prepend = PREPEND_ALWAYS;
	if ((r = tok_json_bool(j, "split", where, &p->split, err, errlen)) < 0 ||
	    (r = tok_json_bool(j, "add_prefix_space", where, &add_prefix, err,
	    errlen)) < 0)
		return r;
	if (scheme != NULL) {
		if (strcmp(scheme, "always") == 0)
			p->prepend = PREPEND_ALWAYS;
		else if (strcmp(scheme, "first") == 0)
			p->prepend = PREPEND_FIRST;
		else if (strcmp(scheme, "never") == 0)
			p->prepend = PREPEND_NEVER;
		else {
			snprintf(err, errlen, "%s.prepend_scheme: unsupported: "
			    "%s", where, scheme);
			return -ENOTSUP;
		}
	}
	/* Older files: add_prefix_space false means never. */
	if (!add_prefix)
		p->prepend = PREPEND_NEVER;
	return 0;
}

int
tok_pretok_from_json(struct tok_pretok **out, const json_t *j,
    const char *where, bool *byte_level, char *err, size_t errlen)
{
	const char *type;
	struct tok_pretok *p;
	int r = 0;

	*byte_level = false;
	if (!json_is_object(j) ||
	    (type = json_string_value(json_object_get(j, "type"))) == NULL) {
		snprintf(err, errlen, "%s: not an object with a string \"type\"",
		    where);
		return -EINVAL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	if (strcmp(type, "ByteLevel") == 0) {
		bool use_regex = true;

		p->kind = BYTE_LEVEL;
		p->add_prefix_space = true;
		if ((r = tok_json_bool(j, "add_prefix_space", where,
		    &p->add_prefix_space, err, errlen)) < 0 ||
		    (r = tok_json_bool(j, "use_regex", where, &use_regex, err,
		    errlen)) < 0)
			goto fail;
		if (use_regex && (r = compile(&p->re, gpt2_pattern,
		    sizeof(gpt2_pattern) - 1, false, where, err, errlen)) < 0)
			goto fail;
		*byte_level = true;
	} else if (strcmp(type, "Split") == 0) {
		p->kind = SPLIT;
		if ((r = parse_split(p, j, where, err, errlen)) < 0)
			goto fail;
	} else if (strcmp(type, "Metaspace") == 0) {
		p->kind = METASPACE;
		if ((r = parse_metaspace(p, j, where, err, errlen)) < 0)
			goto fail;
	} else if (strcmp(type, "Digits") == 0) {
		p->kind = DIGITS;
		if ((r = tok_json_bool(j, "individual_digits", where,
		    &p->individual, err, errlen)) < 0)
			goto fail;
	} else if (strcmp(type, "Sequence") == 0) {
		const json_t *items = json_object_get(j, "pretokenizers");

		p->kind = SEQUENCE;
		if (!json_is_array(items)) {
			snprintf(err, errlen,
			    "%s.pretokenizers: missing or not an array", where);
			r = -EINVAL;
			goto fail;
		}
		p->items = calloc(json_array_size(items) + 1,
		    sizeof(*p->items));
		if (p->items == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < json_array_size(items); i++) {
			char sub[256];

			if (*byte_level) {
				snprintf(err, errlen, "%s.pretokenizers[%zu]: "
				    "unsupported: a step after ByteLevel", where,
				    i);
				r = -ENOTSUP;
				goto fail;
			}
			snprintf(sub, sizeof(sub), "%s.pretokenizers[%zu]",
			    where, i);
			r = tok_pretok_from_json(&p->items[i],
			    json_array_get(items, i), sub, byte_level, err,
			    errlen);
			if (r < 0)
				goto fail;
			p->nitems++;
		}
	} else {
		snprintf(err, errlen, "%s: unsupported: pre-tokenizer type %s "
		    "(supported: ByteLevel, Split, Metaspace, Digits, "
		    "Sequence)", where, type);
		r = -ENOTSUP;
		goto fail;
	}
	*out = p;
	return 0;
fail:
	tok_pretok_free(p);
	return r;
}

/* ---- Running ---- */

/* HF's find_matches for a character predicate: each char its own match. */
static int
char_matches(struct tok_pretok *p, const char *s, size_t len,
    bool (*pred)(const struct tok_pretok *, uint32_t))
{
	size_t last = 0;

	p->m.n = 0;
	if (len == 0)
		return tok_matches_push(&p->m, 0, 0, false);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t cl = tok_utf8_next(s + i, len - i, &cp);

		if (pred(p, cp)) {
			if (last < i && tok_matches_push(&p->m, last, i, false) < 0)
				return -ENOMEM;
			if (tok_matches_push(&p->m, i, i + cl, true) < 0)
				return -ENOMEM;
			last = i + cl;
		}
		i += cl;
	}
	if (last < len && tok_matches_push(&p->m, last, len, false) < 0)
		return -ENOMEM;
	return 0;
}

static bool
is_rep(const struct tok_pretok *p, uint32_t cp)
{
	return cp == p->rep_cp;
}

static bool
is_digit(const struct tok_pretok *p, uint32_t cp)
{
	(void)p;
	return tok_is_numeric(cp);
}

/*
 * Turn p->m into pieces of s by behaviour b (HF NormalizedString::split),
 * appending the non-empty ones to out.
 */
static int
emit(struct tok_pretok *p, enum behavior b, const char *s, bool first,
    struct tok_pieces *out)
{
	struct tok_match *m = p->m.v;
	size_t n = p->m.n, k = 0;
	bool prev = false;

	switch (b) {
	case ISOLATED:
		k = n;
		break;
	case REMOVED:
		for (size_t i = 0; i < n; i++)
			if (!m[i].is_match)
				m[k++] = m[i];
		break;
	case CONTIGUOUS:
		for (size_t i = 0; i < n; i++) {
			bool im = m[i].is_match;

			if (im == prev && k > 0)
				m[k - 1].end = m[i].end;
			else
				m[k++] = m[i];
			prev = im;
		}
		break;
	case MERGED_PREV:
		for (size_t i = 0; i < n; i++) {
			bool im = m[i].is_match;

			if (im && !prev && k > 0)
				m[k - 1].end = m[i].end;
			else
				m[k++] = m[i];
			prev = im;
		}
		break;
	case MERGED_NEXT:
		/* Right to left, building the list from its end. */
		k = n;
		for (size_t i = n; i-- > 0;) {
			bool im = m[i].is_match;

			if (im && !prev && k < n)
				m[k].start = m[i].start;
			else
				m[--k] = m[i];
			prev = im;
		}
		memmove(m, m + k, (n - k) * sizeof(*m));
		k = n - k;
		break;
	}
	for (size_t i = 0; i < k; i++) {
		if (m[i].end == m[i].start)
			continue;
		if (tok_pieces_push(out, s + m[i].start, m[i].end - m[i].start,
		    -1, first && m[i].start == 0) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
one(struct tok_pretok *p, struct tok_arena *arena, const struct tok_piece *pc,
    struct tok_pieces *out)
{
	const char *s = pc->p;
	size_t len = pc->len;
	int r;

	switch (p->kind) {
	case BYTE_LEVEL:
		if (p->add_prefix_space && s[0] != ' ') {
			char *t = tok_arena_alloc(arena, len + 1);

			if (t == NULL)
				return -ENOMEM;
			t[0] = ' ';
			memcpy(t + 1, s, len);
			s = t;
			len++;
		}
		if (p->re == NULL)
			return tok_pieces_push(out, s, len, -1, pc->first);
		if ((r = tok_regex_split(p->re, s, len, &p->m)) < 0)
			return r;
		return emit(p, ISOLATED, s, pc->first, out);
	case SPLIT:
		if ((r = tok_regex_split(p->re, s, len, &p->m)) < 0)
			return r;
		if (p->invert)
			for (size_t i = 0; i < p->m.n; i++)
				p->m.v[i].is_match = !p->m.v[i].is_match;
		return emit(p, p->behavior, s, pc->first, out);
	case DIGITS:
		if ((r = char_matches(p, s, len, is_digit)) < 0)
			return r;
		return emit(p, p->individual ? ISOLATED : CONTIGUOUS, s,
		    pc->first, out);
	case METASPACE: {
		size_t spaces = 0, n = 0;

		for (size_t i = 0; i < len; i++)
			spaces += s[i] == ' ';
		bool pre = false;

		if (p->prepend != PREPEND_NEVER && (p->prepend ==
		    PREPEND_ALWAYS || pc->first))
			pre = true;
		char *t = tok_arena_alloc(arena, len + (spaces + 1) *
		    p->rep_len);

		if (t == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++) {
			if (s[i] == ' ') {
				memcpy(t + n, p->rep, p->rep_len);
				n += p->rep_len;
			} else {
				t[n++] = s[i];
			}
		}
		/* Prepend unless it already starts with the replacement. */
		if (pre && !(n >= p->rep_len && memcmp(t, p->rep,
		    p->rep_len) == 0)) {
			memmove(t + p->rep_len, t, n);
			memcpy(t, p->rep, p->rep_len);
			n += p->rep_len;
		}
		if (!p->split)
			return tok_pieces_push(out, t, n, -1, pc->first);
		if ((r = char_matches(p, t, n, is_rep)) < 0)
			return r;
		return emit(p, MERGED_NEXT, t, pc->first, out);
	}
	case SEQUENCE:
		break;
	}
	return 0;
}

int
tok_pretok_run(struct tok_pretok *p, struct tok_arena *arena,
    const struct tok_pieces *in, struct tok_pieces *out)
{
	int r;

	if (p->kind == SEQUENCE) {
		const struct tok_pieces *cur = in;
		struct tok_pieces *bufs[2] = { &p->a, &p->b };

		if (p->nitems == 0) {
			for (size_t i = 0; i < in->n; i++)
				if ((r = tok_pieces_push(out, in->v[i].p,
				    in->v[i].len, in->v[i].id,
				    in->v[i].first)) < 0)
					return r;
			return 0;
		}
		for (size_t i = 0; i < p->nitems; i++) {
			struct tok_pieces *dst = i + 1 == p->nitems ? out :
			    bufs[i & 1];

			if (dst != out)
				dst->n = 0;
			if ((r = tok_pretok_run(p->items[i], arena, cur,
			    dst)) < 0)
				return r;
			cur = dst;
		}
		return 0;
	}
	for (size_t i = 0; i < in->n; i++) {
		const struct tok_piece *pc = &in->v[i];

		if (pc->id >= 0 || pc->len == 0) {
			if (pc->len > 0 && (r = tok_pieces_push(out, pc->p,
			    pc->len, pc->id, pc->first)) < 0)
				return r;
			continue;
		}
		if ((r = one(p, arena, pc, out)) < 0)
			return r;
	}
	return 0;
}
