/*
 * Oniguruma behind tok_regex.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <oniguruma.h>
#include <pcre2.h>

#include "tok_regex.h"
#include "tok_text.h"
#include "tok_unicode.h"

/*
 * The engine interface, one function an engine (below): the leftmost
 * match in s[0..len) starting at pos or later, as [*ms, *me). 1 found,
 * 0 none, or -EIO on an engine error. find() picks by engine; a switch
 * the compiler inlines rather than a pointer, as it is called for every
 * match of every pre-tokenizer.
 */
enum engine { ENGINE_PCRE2, ENGINE_ONIG, ENGINE_LITERAL };

struct tok_regex {
	enum engine engine;
	/* The compiled pattern: read-only once compiled, and another
	 * regex's when shared (tok_regex_clone). */
	pcre2_code *pc;			/* PCRE2, when the pattern translates */
	regex_t *re;			/* else Oniguruma */
	char *lit;		/* a non-empty literal: found with memmem */
	size_t lit_len;
	bool shared;
	/* Match data: this regex's own. */
	pcre2_match_data *md;
	OnigRegion *region;
};

static inline int
pcre_find(struct tok_regex *re, const char *s, size_t len, size_t pos,
    size_t *ms, size_t *me)
{
	int r = pcre2_match(re->pc, (PCRE2_SPTR)s, len, pos,
	    PCRE2_NO_UTF_CHECK, re->md, NULL);
	PCRE2_SIZE *ov;

	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r < 0)
		return -EIO;
	ov = pcre2_get_ovector_pointer(re->md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

static inline int
onig_find(struct tok_regex *re, const char *s, size_t len, size_t pos,
    size_t *ms, size_t *me)
{
	const OnigUChar *str = (const OnigUChar *)s, *end = str + len;
	int r = onig_search(re->re, str, end, str + pos, end, re->region,
	    ONIG_OPTION_NONE);

	if (r == ONIG_MISMATCH)
		return 0;
	if (r < 0)
		return -EIO;
	*ms = (size_t)re->region->beg[0];
	*me = (size_t)re->region->end[0];
	return 1;
}

/* A literal never matches empty. */
static inline int
literal_find(struct tok_regex *re, const char *s, size_t len, size_t pos,
    size_t *ms, size_t *me)
{
	const char *m = pos < len ? memmem(s + pos, len - pos, re->lit,
	    re->lit_len) : NULL;

	if (m == NULL)
		return 0;
	*ms = (size_t)(m - s);
	*me = *ms + re->lit_len;
	return 1;
}

static inline int
find(struct tok_regex *re, const char *s, size_t len, size_t pos,
    size_t *ms, size_t *me)
{
	switch (re->engine) {
	case ENGINE_PCRE2: return pcre_find(re, s, len, pos, ms, me);
	case ENGINE_ONIG: return onig_find(re, s, len, pos, ms, me);
	case ENGINE_LITERAL: break;
	}
	return literal_find(re, s, len, pos, ms, me);
}

static int
onig_ready(void)
{
	static int done;
	OnigEncoding enc[] = { ONIG_ENCODING_UTF8 };

	if (!done) {
		if (onig_initialize(enc, 1) != ONIG_NORMAL)
			return -EIO;
		done = 1;
	}
	return 0;
}

/* Write class c as a bracket expression, negated or not. */
static int
put_class(struct tok_buf *o, const struct tok_uclass *c, bool neg)
{
	char tmp[40];

	if (tok_buf_add(o, neg ? "[^" : "[", neg ? 2 : 1) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		int n = c->r[i].lo == c->r[i].hi ?
		    snprintf(tmp, sizeof(tmp), "\\x{%x}", c->r[i].lo) :
		    snprintf(tmp, sizeof(tmp), "\\x{%x}-\\x{%x}", c->r[i].lo,
		    c->r[i].hi);

		if (tok_buf_add(o, tmp, (size_t)n) < 0)
			return -ENOMEM;
	}
	return tok_buf_add(o, "]", 1);
}

/*
 * The '[' at p[*i] that opens a class, and its '^' if negated, copied to
 * o; *i is moved past them. 0 or -ENOMEM.
 */
static int
open_class(const char *p, size_t len, size_t *i, struct tok_buf *o)
{
	if (tok_buf_add(o, "[", 1) < 0)
		return -ENOMEM;
	(*i)++;
	if (*i < len && p[*i] == '^') {
		if (tok_buf_add(o, "^", 1) < 0)
			return -ENOMEM;
		(*i)++;
	}
	return 0;
}

/*
 * The general category named by the \p or \P escape at p[i] (\p{X},
 * \pX, \p{^X}, \P{X}), with *neg set for a complement and *skip to the
 * bytes the escape takes; NULL if it is not one (no name, no closing
 * brace, or a name tok_unicode.h does not know).
 */
static const struct tok_uclass *
prop_class(const char *p, size_t len, size_t i, bool *neg, size_t *skip)
{
	const char *name = p + i + 2, *end;
	size_t nlen;

	*neg = p[i + 1] == 'P';
	if (i + 2 >= len)
		return NULL;
	if (p[i + 2] == '{') {
		end = memchr(p + i + 3, '}', len - i - 3);
		if (end == NULL)
			return NULL;
		name = p + i + 3;
		nlen = (size_t)(end - name);
		*skip = (size_t)(end + 1 - (p + i));
		if (nlen > 0 && name[0] == '^') {
			*neg = !*neg;
			name++;
			nlen--;
		}
	} else {
		nlen = 1;
		*skip = 3;
	}
	return tok_unicode_class(name, nlen);
}

/*
 * Replace every \p{X}, \pX, \p{^X} and \P{X} whose X is a general
 * category (tok_unicode.h) by a bracket expression of its Unicode 16.0
 * ranges; inside a class the bracket nests, which Oniguruma reads as a
 * union. Other escapes and properties are left to Oniguruma.
 */
static int
rewrite(const char *p, size_t len, struct tok_buf *o)
{
	size_t depth = 0;

	for (size_t i = 0; i < len;) {
		char c = p[i];

		if (c == '\\' && i + 1 < len) {
			char e = p[i + 1];

			if (e == 'p' || e == 'P') {
				const struct tok_uclass *uc;
				size_t skip;
				bool neg;

				uc = prop_class(p, len, i, &neg, &skip);
				if (uc == NULL)
					goto copy2;
				if (put_class(o, uc, neg) < 0)
					return -ENOMEM;
				i += skip;
				continue;
			}
copy2:
			if (tok_buf_add(o, p + i, 2) < 0)
				return -ENOMEM;
			i += 2;
			continue;
		}
		if (c == '[') {
			depth++;
			if (open_class(p, len, &i, o) < 0)
				return -ENOMEM;
			/* A ']' first in a class is a literal. */
			if (i < len && p[i] == ']') {
				if (tok_buf_add(o, "]", 1) < 0)
					return -ENOMEM;
				i++;
			}
			continue;
		}
		if (c == ']' && depth > 0)
			depth--;
		if (tok_buf_add(o, &c, 1) < 0)
			return -ENOMEM;
		i++;
	}
	return 0;
}

/* ---- PCRE2 translation ---- */

/* Unicode White_Space: what Oniguruma's \s matches (25 code points). */
static const struct tok_urange ws_ranges[] = {
	{ 0x9, 0xd }, { 0x20, 0x20 }, { 0x85, 0x85 }, { 0xa0, 0xa0 },
	{ 0x1680, 0x1680 }, { 0x2000, 0x200a }, { 0x2028, 0x2029 },
	{ 0x202f, 0x202f }, { 0x205f, 0x205f }, { 0x3000, 0x3000 },
};
static const struct tok_uclass ws_class = { "s", "White_Space", ws_ranges,
	sizeof(ws_ranges) / sizeof(ws_ranges[0]) };

static int
put_range(struct tok_buf *o, uint32_t lo, uint32_t hi)
{
	char tmp[40];
	int n = lo == hi ? snprintf(tmp, sizeof(tmp), "\\x{%x}", lo) :
	    snprintf(tmp, sizeof(tmp), "\\x{%x}-\\x{%x}", lo, hi);

	return tok_buf_add(o, tmp, (size_t)n);
}

/* Emit [lo, hi] minus the surrogates, which UTF mode refuses. */
static int
put_range_nosur(struct tok_buf *o, uint32_t lo, uint32_t hi)
{
	if (lo > hi)
		return 0;
	if (hi < 0xd800 || lo > 0xdfff)
		return put_range(o, lo, hi);
	if (lo < 0xd800 && put_range(o, lo, 0xd7ff) < 0)
		return -ENOMEM;
	if (hi > 0xdfff && put_range(o, 0xe000, hi) < 0)
		return -ENOMEM;
	return 0;
}

/* The ranges of c (or of its complement) without brackets. */
static int
put_ranges(struct tok_buf *o, const struct tok_uclass *c, bool neg)
{
	uint32_t next = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (!neg && put_range_nosur(o, c->r[i].lo, c->r[i].hi) < 0)
			return -ENOMEM;
		if (neg && c->r[i].lo > next &&
		    put_range_nosur(o, next, c->r[i].lo - 1) < 0)
			return -ENOMEM;
		next = c->r[i].hi + 1;
	}
	if (neg && next <= 0x10ffff && put_range_nosur(o, next, 0x10ffff) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Translate an Oniguruma pattern to PCRE2 with the same meaning, or
 * -ENOTSUP when it holds anything whose meaning could differ; the
 * pattern then stays on Oniguruma. Translated: \p{X}, \P{X} and \p{^X}
 * of a general category, \s \S \d \D (to Unicode 16.0 ranges, flattened
 * inside brackets since PCRE2 has no nested classes). Refused: nested
 * classes and && in classes, ^ and $ (line anchors in Oniguruma), inline
 * options other than i, \h \H (hex digits in Oniguruma), \R \X \K, \g,
 * \k, named groups, \p of anything but a general category, \Q.
 */
/*
 * The escape at p[i] (a backslash, with at least one byte after it):
 * the class it names, written out as ranges (inside brackets when in),
 * or the escape as is. Sets *skip to the bytes it takes; 0, -ENOTSUP
 * or -ENOMEM.
 */
static int
translate_escape(const char *p, size_t len, size_t i, bool in,
    struct tok_buf *o, size_t *skip)
{
	const struct tok_uclass *uc = NULL;
	char e = p[i + 1];
	bool neg = false;

	*skip = 2;
	switch (e) {
	case 's': uc = &ws_class; break;
	case 'S': uc = &ws_class; neg = true; break;
	case 'd': uc = tok_unicode_class("Nd", 2); break;
	case 'D': uc = tok_unicode_class("Nd", 2); neg = true; break;
	case 'p': case 'P':
		if ((uc = prop_class(p, len, i, &neg, skip)) == NULL)
			return -ENOTSUP;
		break;
	case 'h': case 'H': case 'R': case 'X': case 'K':
	case 'g': case 'k': case 'Q': case 'E': case 'G':
	case 'N': case 'O': case 'y': case 'Y':
		return -ENOTSUP;
	default:
		uc = NULL;
		break;
	}
	if (uc == NULL)		/* an escape both engines read alike */
		return tok_buf_add(o, p + i, 2) < 0 ? -ENOMEM : 0;
	if (in)
		return put_ranges(o, uc, neg) < 0 ? -ENOMEM : 0;
	if (tok_buf_add(o, neg ? "[^" : "[", neg ? 2 : 1) < 0 ||
	    put_ranges(o, uc, false) < 0 || tok_buf_add(o, "]", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* Whether p[i..] opens a group whose meaning both engines share. */
static bool
group_ok(const char *p, size_t len, size_t i)
{
	static const char *const ok[] = {
		"(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>", "(?i:", "(?i)"
	};

	for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
		if (len - i >= strlen(ok[k]) &&
		    memcmp(p + i, ok[k], strlen(ok[k])) == 0)
			return true;
	return false;
}

static int
pcre_translate(const char *p, size_t len, struct tok_buf *o)
{
	bool in = false;

	for (size_t i = 0; i < len;) {
		char c = p[i];

		if (c == '\\') {
			size_t skip;
			int r;

			if (i + 1 >= len)
				return -ENOTSUP;
			if ((r = translate_escape(p, len, i, in, o, &skip)) < 0)
				return r;
			i += skip;
			continue;
		}
		if (in) {
			if (c == '[' || (c == '&' && i + 1 < len &&
			    p[i + 1] == '&'))
				return -ENOTSUP;	/* nesting, intersection */
			if (c == ']')
				in = false;
		} else if (c == '[') {
			in = true;
			if (open_class(p, len, &i, o) < 0)
				return -ENOMEM;
			if (i < len && p[i] == ']')
				return -ENOTSUP;	/* a leading ] */
			continue;
		} else if (c == '^' || c == '$') {
			return -ENOTSUP;
		} else if (c == '(' && i + 1 < len && p[i + 1] == '?' &&
		    !group_ok(p, len, i)) {
			return -ENOTSUP;
		}
		if (tok_buf_add(o, &c, 1) < 0)
			return -ENOMEM;
		i++;
	}
	return in ? -ENOTSUP : 0;
}

/* 0 with t->pc set, -ENOTSUP to use Oniguruma instead, or -ENOMEM. */
static int
pcre_new(struct tok_regex *t, const char *pattern, size_t len)
{
	struct tok_buf tr = { 0 };
	int r = pcre_translate(pattern, len, &tr), ec;
	PCRE2_SIZE eo;

	if (r < 0) {
		tok_buf_free(&tr);
		return r;
	}
	t->pc = pcre2_compile((PCRE2_SPTR)(tr.p ? tr.p : ""), tr.len,
	    PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
	tok_buf_free(&tr);
	if (t->pc == NULL)
		return -ENOTSUP;	/* Oniguruma will judge it */
	(void)pcre2_jit_compile(t->pc, PCRE2_JIT_COMPLETE);
	t->md = pcre2_match_data_create_from_pattern(t->pc, NULL);
	if (t->md == NULL) {
		pcre2_code_free(t->pc);
		t->pc = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A literal is found with memmem: it never matches empty, so the
 * matches are those of the escaped pattern, found much faster. */
static int
literal_new(struct tok_regex **out, const char *pattern, size_t len)
{
	struct tok_regex *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->lit = malloc(len)) == NULL) {
		free(t);
		return -ENOMEM;
	}
	memcpy(t->lit, pattern, len);
	t->lit_len = len;
	t->engine = ENGINE_LITERAL;
	*out = t;
	return 0;
}

/*
 * A literal as an Oniguruma pattern (malloc'd, length in *plen): every
 * ASCII punctuation byte escaped, control bytes written as \t etc.
 * (a backslash before the byte itself is no escape Oniguruma knows),
 * UTF-8 as is.
 */
static char *
onig_escape(const char *pattern, size_t len, size_t *plen)
{
	static const char names[] = "tnrfv";
	static const char ctl[] = "\t\n\r\f\v";
	char *esc = malloc(len * 2 + 1);
	size_t n = 0;

	if (esc == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c < 0x80 && strchr("\\^$.|?*+()[]{}-&~# \t\n\r\f\v", c)
		    && c != 0)
			esc[n++] = '\\';
		if (c != 0 && strchr(ctl, c) != NULL) {
			esc[n++] = names[strchr(ctl, c) - ctl];
			continue;
		}
		esc[n++] = (char)c;
	}
	*plen = n;
	return esc;
}

/* Compile pat on Oniguruma into *out; -EINVAL with its message. */
static int
onig_compile(struct tok_regex **out, const char *pat, size_t plen,
    char *err, size_t errlen)
{
	struct tok_regex *t = calloc(1, sizeof(*t));
	OnigErrorInfo einfo;
	int r;

	if (t == NULL)
		return -ENOMEM;
	r = onig_new(&t->re, (const OnigUChar *)pat,
	    (const OnigUChar *)pat + plen, ONIG_OPTION_NONE,
	    ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &einfo);
	if (r != ONIG_NORMAL) {
		OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];

		onig_error_code_to_str(msg, r, &einfo);
		snprintf(err, errlen, "%s", (char *)msg);
		free(t);
		return -EINVAL;
	}
	t->region = onig_region_new();
	if (t->region == NULL) {
		onig_free(t->re);
		free(t);
		return -ENOMEM;
	}
	t->engine = ENGINE_ONIG;
	*out = t;
	return 0;
}

int
tok_regex_new(struct tok_regex **out, const char *pattern, size_t len,
    bool literal, char *err, size_t errlen)
{
	struct tok_regex *t;
	struct tok_buf rw = { 0 };
	char *esc;
	size_t plen;
	int r;

	if (literal && len > 0)
		return literal_new(out, pattern, len);
	if (!literal) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return -ENOMEM;
		r = pcre_new(t, pattern, len);
		if (r == 0) {
			t->engine = ENGINE_PCRE2;
			*out = t;
			return 0;
		}
		free(t);
		if (r == -ENOMEM)
			return r;
	}
	if (onig_ready() < 0) {
		snprintf(err, errlen, "cannot initialise Oniguruma");
		return -EIO;
	}
	if (literal) {
		if ((esc = onig_escape(pattern, len, &plen)) == NULL)
			return -ENOMEM;
		r = onig_compile(out, esc, plen, err, errlen);
		free(esc);
		return r;
	}
	if (rewrite(pattern, len, &rw) < 0)
		return -ENOMEM;
	r = onig_compile(out, rw.p ? rw.p : "", rw.len, err, errlen);
	tok_buf_free(&rw);
	return r;
}

void
tok_regex_free(struct tok_regex *re)
{
	if (re == NULL)
		return;
	if (re->md != NULL)
		pcre2_match_data_free(re->md);
	if (re->region != NULL)
		onig_region_free(re->region, 1);
	if (!re->shared) {
		if (re->pc != NULL)
			pcre2_code_free(re->pc);
		if (re->re != NULL)
			onig_free(re->re);
		free(re->lit);
	}
	free(re);
}

int
tok_regex_clone(struct tok_regex **out, const struct tok_regex *orig)
{
	struct tok_regex *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->engine = orig->engine;
	t->pc = orig->pc;
	t->re = orig->re;
	t->lit = orig->lit;
	t->lit_len = orig->lit_len;
	t->shared = true;
	if (t->pc != NULL &&
	    (t->md = pcre2_match_data_create_from_pattern(t->pc, NULL)) == NULL)
		goto nomem;
	if (t->re != NULL && (t->region = onig_region_new()) == NULL)
		goto nomem;
	*out = t;
	return 0;
nomem:
	tok_regex_free(t);
	return -ENOMEM;
}

int
tok_matches_push(struct tok_matches *m, size_t s, size_t e, bool is_match)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tok_match *v = realloc(m->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct tok_match){ s, e, is_match };
	return 0;
}

int
tok_regex_split(struct tok_regex *re, const char *s, size_t len,
    struct tok_matches *out)
{
	size_t pos = 0, prev = 0;
	bool have_last = false;
	size_t last_end = 0;

	out->n = 0;
	if (len == 0)
		return tok_matches_push(out, 0, 0, false);
	while (pos <= len) {
		size_t ms, me;
		int r = find(re, s, len, pos, &ms, &me);

		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (ms == me && have_last && last_end == me) {
			/* An empty match where the last one ended: step
			 * over one character and search again. */
			if (pos >= len)
				break;
			pos += tok_utf8_len((unsigned char)s[pos]);
			continue;
		}
		pos = me;
		have_last = true;
		last_end = me;
		if (prev != ms && tok_matches_push(out, prev, ms, false) < 0)
			return -ENOMEM;
		if (tok_matches_push(out, ms, me, true) < 0)
			return -ENOMEM;
		prev = me;
	}
	if (prev != len && tok_matches_push(out, prev, len, false) < 0)
		return -ENOMEM;
	return 0;
}

void
tok_matches_free(struct tok_matches *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
