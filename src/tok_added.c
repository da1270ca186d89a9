/*
 * Added-token matching (tok_added.h) on a byte trie: at each position
 * whose byte starts some token, walk the trie for the longest token
 * there; the first position with a match is the leftmost, as with HF's
 * LeftmostLongest Aho-Corasick automaton.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok_added.h"
#include "tok_map.h"

struct edge {
	uint32_t node;
	unsigned char byte;
};

struct node {
	uint32_t first_edge, nedges;	/* into edges, once built */
	int64_t tok;			/* index into toks, or -1 */
};

struct tok {
	char *content;
	size_t len;
	uint32_t id;
	struct tok_added_flags f;
};

struct tok_added {
	struct tok *toks;
	size_t ntoks, cap;
	struct tok_strmap seen;		/* contents held */
	/* Trie, built lazily from toks by build(). */
	struct node *nodes;
	struct edge *edges;
	size_t nnodes;
	bool starts[256];
	bool built;
};

int
tok_added_new(struct tok_added **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	if (tok_strmap_init(&(*out)->seen, 64) < 0) {
		free(*out);
		return -ENOMEM;
	}
	return 0;
}

static void
trie_free(struct tok_added *a)
{
	free(a->nodes);
	free(a->edges);
	a->nodes = NULL;
	a->edges = NULL;
	a->nnodes = 0;
	a->built = false;
}

void
tok_added_free(struct tok_added *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->ntoks; i++)
		free(a->toks[i].content);
	free(a->toks);
	tok_strmap_free(&a->seen);
	trie_free(a);
	free(a);
}

size_t
tok_added_count(const struct tok_added *a)
{
	return a->ntoks;
}

static int
cmp_tok(const void *x, const void *y)
{
	const struct tok *a = *(const struct tok *const *)x;
	const struct tok *b = *(const struct tok *const *)y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->content, b->content, n);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/*
 * Build the trie from the tokens sorted by content: every node's children
 * then come in byte order and contiguous, so each node keeps a range of a
 * single edge array.
 */
static int build_range(struct tok_added *a, struct tok **s, size_t lo,
    size_t hi, size_t depth, uint32_t node, size_t *nedges);

static int
build(struct tok_added *a)
{
	struct tok **s;
	size_t total = 1, nedges = 0;
	int r;

	trie_free(a);
	for (size_t i = 0; i < a->ntoks; i++)
		total += a->toks[i].len;
	s = malloc((a->ntoks + 1) * sizeof(*s));
	a->nodes = calloc(total, sizeof(*a->nodes));
	a->edges = calloc(total, sizeof(*a->edges));
	if (s == NULL || a->nodes == NULL || a->edges == NULL) {
		free(s);
		trie_free(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->ntoks; i++)
		s[i] = &a->toks[i];
	qsort(s, a->ntoks, sizeof(*s), cmp_tok);
	a->nnodes = 1;
	a->nodes[0].tok = -1;
	memset(a->starts, 0, sizeof(a->starts));
	for (size_t i = 0; i < a->ntoks; i++)
		a->starts[(unsigned char)a->toks[i].content[0]] = true;
	r = build_range(a, s, 0, a->ntoks, 0, 0, &nedges);
	free(s);
	if (r == 0)
		a->built = true;
	return r;
}

static int
build_range(struct tok_added *a, struct tok **s, size_t lo, size_t hi,
    size_t depth, uint32_t node, size_t *nedges)
{
	/*
	 * Recursion only at branching nodes: a chain of single children
	 * (the tail of a long token) is walked in this loop, so the depth
	 * stays below the number of tokens however long they are.
	 */
	for (;;) {
		/* The token ending here sorts first (a prefix of the rest). */
		if (lo < hi && s[lo]->len == depth) {
			a->nodes[node].tok = s[lo] - a->toks;
			lo++;
		}
		/* Children: one per distinct byte at this depth. */
		size_t first = *nedges, i = lo;

		while (i < hi) {
			unsigned char c = (unsigned char)s[i]->content[depth];
			size_t j = i;

			while (j < hi &&
			    (unsigned char)s[j]->content[depth] == c)
				j++;
			a->edges[(*nedges)++] = (struct edge){ 0, c };
			i = j;
		}
		a->nodes[node].first_edge = (uint32_t)first;
		a->nodes[node].nedges = (uint32_t)(*nedges - first);
		if (*nedges - first == 1) {
			uint32_t child = (uint32_t)a->nnodes++;

			a->nodes[child].tok = -1;
			a->edges[first].node = child;
			node = child;
			depth++;
			continue;
		}
		i = lo;
		for (size_t e = first; i < hi; e++) {
			unsigned char c = (unsigned char)s[i]->content[depth];
			size_t j = i;
			uint32_t child = (uint32_t)a->nnodes++;

			while (j < hi &&
			    (unsigned char)s[j]->content[depth] == c)
				j++;
			a->nodes[child].tok = -1;
			a->edges[e].node = child;
			if (build_range(a, s, i, j, depth + 1, child,
			    nedges) < 0)
				return -ENOMEM;
			i = j;
		}
		return 0;
	}
}

int
tok_added_add(struct tok_added *a, const char *content, size_t len,
    uint32_t id, struct tok_added_flags f)
{
	int r;

	if (len == 0)
		return 0;	/* HF ignores empty tokens */
	r = tok_strmap_put(&a->seen, content, len, (uint32_t)a->ntoks, NULL);
	if (r < 0)
		return r;
	if (r == 1)
		return 0;
	if (a->ntoks == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		struct tok *t = realloc(a->toks, cap * sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		a->toks = t;
		a->cap = cap;
	}
	char *c = malloc(len);

	if (c == NULL)
		return -ENOMEM;
	memcpy(c, content, len);
	a->toks[a->ntoks++] = (struct tok){ c, len, id, f };
	a->built = false;
	return 0;
}

int
tok_added_finish(struct tok_added *a)
{
	return a->ntoks > 0 ? build(a) : 0;
}

/* Longest token starting at s[0..len): its index, or -1. */
static int64_t
longest_at(const struct tok_added *a, const unsigned char *s, size_t len,
    size_t *mlen)
{
	uint32_t node = 0;
	int64_t best = -1;

	for (size_t i = 0; i < len; i++) {
		const struct node *nd = &a->nodes[node];
		const struct edge *e = a->edges + nd->first_edge;
		uint32_t lo = 0, hi = nd->nedges;

		/* Edges are sorted by byte: binary search. */
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (e[mid].byte < s[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == nd->nedges || e[lo].byte != s[i])
			break;
		node = e[lo].node;
		if (a->nodes[node].tok >= 0) {
			best = a->nodes[node].tok;
			*mlen = i + 1;
		}
	}
	return best;
}

/* The character ending at s[end) / starting at s[start]; valid UTF-8. */
static uint32_t
char_before(const char *s, size_t end)
{
	size_t i = end;
	uint32_t cp;

	do
		i--;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80);
	tok_utf8_next(s + i, end - i, &cp);
	return cp;
}

static uint32_t
char_at(const char *s, size_t len)
{
	uint32_t cp;

	tok_utf8_next(s, len, &cp);
	return cp;
}

static int
split_one(const struct tok_added *a, const struct tok_piece *pc,
    struct tok_pieces *out)
{
	const char *s = pc->p;
	size_t len = pc->len, pos = 0, done = 0;

	while (pos < len) {
		size_t mlen = 0;
		int64_t t;

		if (!a->starts[(unsigned char)s[pos]]) {
			pos++;
			continue;
		}
		t = longest_at(a, (const unsigned char *)s + pos, len - pos,
		    &mlen);
		if (t < 0) {
			pos++;
			continue;
		}
		const struct tok *tk = &a->toks[t];
		size_t start = pos, stop = pos + mlen;

		if (tk->f.single_word &&
		    ((start > 0 && tok_is_word(char_before(s, start))) ||
		    (stop < len && tok_is_word(char_at(s + stop, len - stop))))) {
			/*
			 * Not a whole word. The automaton moves past the
			 * whole match before looking again (matches never
			 * overlap), so resume after it.
			 */
			pos = stop;
			continue;
		}
		if (tk->f.lstrip) {
			while (start > done &&
			    tok_is_whitespace(char_before(s, start))) {
				uint32_t cp = char_before(s, start);
				char tmp[4];

				start -= tok_utf8_put(cp, tmp);
			}
		}
		if (tk->f.rstrip) {
			while (stop < len) {
				uint32_t cp;
				size_t cl = tok_utf8_next(s + stop, len - stop,
				    &cp);

				if (!tok_is_whitespace(cp))
					break;
				stop += cl;
			}
		}
		if (start > done && tok_pieces_push(out, s + done,
		    start - done, -1, pc->first && done == 0) < 0)
			return -ENOMEM;
		if (tok_pieces_push(out, s + start, stop - start, tk->id,
		    pc->first && start == 0) < 0)
			return -ENOMEM;
		done = pos = stop;
	}
	if (done < len && tok_pieces_push(out, s + done, len - done, -1,
	    pc->first && done == 0) < 0)
		return -ENOMEM;
	return 0;
}

int
tok_added_split(const struct tok_added *a, const struct tok_pieces *in,
    struct tok_pieces *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct tok_piece *pc = &in->v[i];

		if (pc->len == 0)
			continue;
		if (pc->id >= 0 || a == NULL || !a->built) {
			if (tok_pieces_push(out, pc->p, pc->len, pc->id,
			    pc->first) < 0)
				return -ENOMEM;
			continue;
		}
		if (split_one(a, pc, out) < 0)
			return -ENOMEM;
	}
	return 0;
}
