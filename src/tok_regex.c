/*
 * Oniguruma behind tok_regex.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oniguruma.h>

#include "tok_regex.h"
#include "tok_text.h"
#include "tok_unicode.h"

struct tok_regex {
	regex_t *re;
	OnigRegion *region;
	char *lit;		/* a non-empty literal: found with memmem */
	size_t lit_len;
};

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
				const char *name = p + i + 2;
				size_t nlen = 0, skip;
				bool neg = e == 'P';

				if (i + 2 < len && p[i + 2] == '{') {
					const char *end = memchr(p + i + 3, '}',
					    len - i - 3);

					if (end == NULL)
						goto copy2;
					name = p + i + 3;
					nlen = (size_t)(end - name);
					skip = (size_t)(end + 1 - (p + i));
					if (nlen > 0 && name[0] == '^') {
						neg = !neg;
						name++;
						nlen--;
					}
				} else if (i + 2 < len) {
					nlen = 1;
					skip = 3;
				} else {
					goto copy2;
				}
				const struct tok_uclass *uc =
				    tok_unicode_class(name, nlen);

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
			if (tok_buf_add(o, "[", 1) < 0)
				return -ENOMEM;
			i++;
			/* A ']' first in a class is a literal. */
			if (i < len && p[i] == '^') {
				if (tok_buf_add(o, "^", 1) < 0)
					return -ENOMEM;
				i++;
			}
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

int
tok_regex_new(struct tok_regex **out, const char *pattern, size_t len,
    bool literal, char *err, size_t errlen)
{
	struct tok_regex *t;
	struct tok_buf rw = { 0 };
	char *esc = NULL;
	const char *pat = pattern;
	size_t plen = len;
	OnigErrorInfo einfo;
	int r;

	/*
	 * A literal is found with memmem, much faster than a regex search
	 * per match; it never matches empty, so the matches are the same.
	 */
	if (literal && len > 0) {
		if ((t = calloc(1, sizeof(*t))) == NULL ||
		    (t->lit = malloc(len)) == NULL) {
			free(t);
			return -ENOMEM;
		}
		memcpy(t->lit, pattern, len);
		t->lit_len = len;
		*out = t;
		return 0;
	}
	if (onig_ready() < 0) {
		snprintf(err, errlen, "cannot initialise Oniguruma");
		return -EIO;
	}
	if (literal) {
		/* Escape every ASCII punctuation byte; UTF-8 passes as is. */
		esc = malloc(len * 2 + 1);
		if (esc == NULL)
			return -ENOMEM;
		plen = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)pattern[i];

			if (c < 0x80 && strchr("\\^$.|?*+()[]{}-&~# \t\n\r\f\v", c)
			    && c != 0)
				esc[plen++] = '\\';
			if (c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			    c == '\v') {
				/* \ followed by a control byte is not an
				 * escape Oniguruma knows: write \t etc. */
				static const char names[] = "tnrfv";
				static const char ctl[] = "\t\n\r\f\v";

				esc[plen++] = names[strchr(ctl, c) - ctl];
				continue;
			}
			esc[plen++] = (char)c;
		}
		pat = esc;
	} else {
		if (rewrite(pattern, len, &rw) < 0)
			return -ENOMEM;
		pat = rw.p ? rw.p : "";
		plen = rw.len;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		free(esc);
		tok_buf_free(&rw);
		return -ENOMEM;
	}
	r = onig_new(&t->re, (const OnigUChar *)pat,
	    (const OnigUChar *)pat + plen, ONIG_OPTION_NONE,
	    ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &einfo);
	free(esc);
	tok_buf_free(&rw);
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
	*out = t;
	return 0;
}

void
tok_regex_free(struct tok_regex *re)
{
	if (re == NULL)
		return;
	if (re->region != NULL)
		onig_region_free(re->region, 1);
	if (re->re != NULL)
		onig_free(re->re);
	free(re->lit);
	free(re);
}

static int
push(struct tok_matches *m, size_t s, size_t e, bool is_match)
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
	const OnigUChar *str = (const OnigUChar *)s, *end = str + len;
	size_t pos = 0, prev = 0;
	bool have_last = false;
	size_t last_end = 0;

	out->n = 0;
	if (len == 0)
		return push(out, 0, 0, false);
	if (re->lit != NULL) {
		const char *m;

		while (pos < len && (m = memmem(s + pos, len - pos, re->lit,
		    re->lit_len)) != NULL) {
			size_t ms = (size_t)(m - s);

			if (ms > prev && push(out, prev, ms, false) < 0)
				return -ENOMEM;
			if (push(out, ms, ms + re->lit_len, true) < 0)
				return -ENOMEM;
			pos = prev = ms + re->lit_len;
		}
		if (prev != len && push(out, prev, len, false) < 0)
			return -ENOMEM;
		return 0;
	}
	while (pos <= len) {
		int r = onig_search(re->re, str, end, str + pos, end,
		    re->region, ONIG_OPTION_NONE);

		if (r == ONIG_MISMATCH)
			break;
		if (r < 0)
			return -EIO;
		size_t ms = (size_t)re->region->beg[0];
		size_t me = (size_t)re->region->end[0];

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
		if (prev != ms && push(out, prev, ms, false) < 0)
			return -ENOMEM;
		if (push(out, ms, me, true) < 0)
			return -ENOMEM;
		prev = me;
	}
	if (prev != len && push(out, prev, len, false) < 0)
		return -ENOMEM;
	return 0;
}

void
tok_matches_free(struct tok_matches *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
