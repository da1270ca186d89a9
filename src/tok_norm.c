/*
 * Normalizers (tok_norm.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tok_norm.h"
#include "tok_regex.h"

enum kind { NFC, PREPEND, REPLACE, SEQUENCE };

struct tok_norm {
	/* Settings, read-only once built. */
	enum kind kind;
	char *str;		/* Prepend: the prefix; Replace: content */
	size_t len;
	struct tok_regex *re;	/* Replace */
	struct tok_norm **items;	/* Sequence */
	size_t nitems;
	/* Scratch: each clone's own. */
	struct tok_buf a, b, c;
	struct tok_matches m;
};

void
tok_norm_free(struct tok_norm *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nitems; i++)
		tok_norm_free(n->items[i]);
	free(n->items);
	free(n->str);
	tok_regex_free(n->re);
	tok_buf_free(&n->a);
	tok_buf_free(&n->b);
	tok_buf_free(&n->c);
	tok_matches_free(&n->m);
	free(n);
}

static int
get_string(const json_t *j, const char *key, const char *where,
    const char **s, size_t *len, char *err, size_t errlen)
{
	const json_t *v = json_object_get(j, key);

	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s.%s: missing or not a string", where,
		    key);
		return -EINVAL;
	}
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

static char *
memdup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

int
tok_norm_clone(struct tok_norm **out, const struct tok_norm *orig)
{
	struct tok_norm *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return -ENOMEM;
	n->kind = orig->kind;
	n->len = orig->len;
	if (orig->str != NULL && (n->str = memdup(orig->str, orig->len)) == NULL)
		goto nomem;
	if (orig->re != NULL && tok_regex_clone(&n->re, orig->re) < 0)
		goto nomem;
	if (orig->items != NULL &&
	    (n->items = calloc(orig->nitems + 1, sizeof(*n->items))) == NULL)
		goto nomem;
	for (; n->nitems < orig->nitems; n->nitems++)
		if (tok_norm_clone(&n->items[n->nitems],
		    orig->items[n->nitems]) < 0)
			goto nomem;
	*out = n;
	return 0;
nomem:
	tok_norm_free(n);
	return -ENOMEM;
}

int
tok_norm_from_json(struct tok_norm **out, const json_t *j, const char *where,
    char *err, size_t errlen)
{
	const char *type, *s;
	size_t len;
	struct tok_norm *n;
	int r;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -EINVAL;
	}
	if ((r = get_string(j, "type", where, &type, &len, err, errlen)) < 0)
		return r;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	if (strcmp(type, "NFC") == 0) {
		n->kind = NFC;
	} else if (strcmp(type, "Prepend") == 0) {
		n->kind = PREPEND;
		if ((r = get_string(j, "prepend", where, &s, &len, err,
		    errlen)) < 0)
			goto fail;
		if ((n->str = memdup(s, len)) == NULL)
			goto nomem;
		n->len = len;
	} else if (strcmp(type, "Replace") == 0) {
		const json_t *pat = json_object_get(j, "pattern");
		const json_t *ps = json_object_get(pat, "String");
		const json_t *pr = json_object_get(pat, "Regex");
		const json_t *p = ps ? ps : pr;
		char rerr[256];

		n->kind = REPLACE;
		if ((r = get_string(j, "content", where, &s, &len, err,
		    errlen)) < 0)
			goto fail;
		if ((n->str = memdup(s, len)) == NULL)
			goto nomem;
		n->len = len;
		if (!json_is_string(p)) {
			snprintf(err, errlen, "%s.pattern: want {\"String\": "
			    "...} or {\"Regex\": ...}", where);
			r = -EINVAL;
			goto fail;
		}
		r = tok_regex_new(&n->re, json_string_value(p),
		    json_string_length(p), ps != NULL, rerr, sizeof(rerr));
		if (r == -EINVAL)
			snprintf(err, errlen, "%s.pattern: bad regex: %s",
			    where, rerr);
		if (r < 0)
			goto fail;
	} else if (strcmp(type, "Sequence") == 0) {
		const json_t *items = json_object_get(j, "normalizers");

		n->kind = SEQUENCE;
		if (!json_is_array(items)) {
			snprintf(err, errlen,
			    "%s.normalizers: missing or not an array", where);
			r = -EINVAL;
			goto fail;
		}
		n->items = calloc(json_array_size(items) + 1,
		    sizeof(*n->items));
		if (n->items == NULL)
			goto nomem;
		for (size_t i = 0; i < json_array_size(items); i++) {
			char sub[256];

			snprintf(sub, sizeof(sub), "%s.normalizers[%zu]",
			    where, i);
			r = tok_norm_from_json(&n->items[i],
			    json_array_get(items, i), sub, err, errlen);
			if (r < 0)
				goto fail;
			n->nitems++;
		}
	} else {
		snprintf(err, errlen, "%s: unsupported: normalizer type %s "
		    "(supported: NFC, Prepend, Replace, Sequence)", where,
		    type);
		r = -ENOTSUP;
		goto fail;
	}
	*out = n;
	return 0;
nomem:
	r = -ENOMEM;
fail:
	tok_norm_free(n);
	return r;
}

static int
nfc(const char *s, size_t len, struct tok_buf *out)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n;
	size_t i = 0;

	out->len = 0;
	/* Only text with a byte >= 0xcc can change (U+0300 upwards). */
	while (i < len && (unsigned char)s[i] < 0xcc)
		i++;
	if (i == len)
		return tok_buf_add(out, s, len);
	n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
	    &dst, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0)	/* cannot happen on valid UTF-8: keep the text */
		return tok_buf_add(out, s, len);
	int r = tok_buf_add(out, dst, (size_t)n);

	free(dst);
	return r;
}

static int
replace(struct tok_norm *n, const char *s, size_t len, struct tok_buf *out)
{
	int r = tok_regex_split(n->re, s, len, &n->m);

	out->len = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n->m.n; i++) {
		const struct tok_match *m = &n->m.v[i];

		if (m->is_match)
			r = tok_buf_add(out, n->str, n->len);
		else
			r = tok_buf_add(out, s + m->start, m->end - m->start);
		if (r < 0)
			return r;
	}
	return 0;
}

int
tok_norm_apply(struct tok_norm *n, const char *s, size_t len,
    struct tok_buf *out)
{
	int r;

	switch (n->kind) {
	case NFC:
		return nfc(s, len, out);
	case PREPEND:
		out->len = 0;
		if (len > 0 && (r = tok_buf_add(out, n->str, n->len)) < 0)
			return r;
		return tok_buf_add(out, s, len);
	case REPLACE:
		return replace(n, s, len, out);
	case SEQUENCE:
		break;
	}
	/* Sequence: ping-pong between two scratch buffers. */
	const char *cur = s;
	size_t clen = len;
	struct tok_buf *bufs[2] = { &n->a, &n->b };

	for (size_t i = 0; i < n->nitems; i++) {
		struct tok_buf *dst = bufs[i & 1];

		if ((r = tok_norm_apply(n->items[i], cur, clen, dst)) < 0)
			return r;
		cur = dst->p;
		clen = dst->len;
	}
	out->len = 0;
	return tok_buf_add(out, cur, clen);
}

int
tok_norm_pieces(struct tok_norm *n, struct tok_arena *arena,
    const struct tok_pieces *in, struct tok_pieces *out)
{
	struct tok_buf *res = &n->c;	/* apply itself uses a and b */
	int r = 0;

	for (size_t i = 0; i < in->n && r == 0; i++) {
		const struct tok_piece *pc = &in->v[i];

		if (pc->id >= 0) {
			r = tok_pieces_push(out, pc->p, pc->len, pc->id,
			    pc->first);
			continue;
		}
		if ((r = tok_norm_apply(n, pc->p, pc->len, res)) < 0)
			break;
		char *p = tok_arena_alloc(arena, res->len);

		if (p == NULL && res->len > 0) {
			r = -ENOMEM;
			break;
		}
		if (res->len > 0)
			memcpy(p, res->p, res->len);
		if (res->len > 0)
			r = tok_pieces_push(out, p, res->len, -1, pc->first);
	}
	return r;
}
