/* Realistic completion text for the synthetic session (see synthetic_text.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic.h"
#include "synthetic_text.h"

/*
 * The text grows piece by piece while an estimate of its tokens is kept:
 * a common short word with its leading space is one token in Llama 3 and
 * Qwen, a long or accented word two or three, a punctuation mark or a
 * line break one, a number one per three digits plus its space, a run of
 * indentation one. Generation stops as soon as the estimate reaches the
 * target, possibly mid-sentence, as a completion cut by max_tokens is.
 * The weights were checked against Hugging Face tokenizers on generated
 * text (tests/integration/test_synthetic_text.sh); the mean lands within
 * about 10%.
 */
struct gen {
	char **buf;
	size_t *cap;
	size_t len;
	int err;
	unsigned target;
	unsigned est;
	uint64_t rng;
	bool cap_next;		/* prose: capitalize the next word */
};

static const char *const nouns[] = {
	"model", "server", "request", "response", "token", "batch", "queue",
	"latency", "throughput", "kernel", "thread", "buffer", "cache",
	"network", "result", "system", "user", "answer", "question", "value",
	"function", "process", "memory", "window", "layer", "benchmark",
	"dataset", "prompt", "sequence", "decoder", "scheduler", "budget",
	"deadline", "client", "session", "metric", "sample", "file", "table",
	"design", "problem", "solution", "approach", "reason", "example",
	"team", "report", "change", "version", "library", "interface", "city",
	"river", "garden", "journey", "morning", "history", "language",
	"teacher", "student", "market", "village", "letter", "story", "idea",
	"algorithm", "configuration", "measurement", "implementation",
	"distribution", "performance", "environment", "architecture",
	"café", "façade", "résumé",
};

static const char *const adjectives[] = {
	"small", "large", "fast", "slow", "simple", "careful", "new", "old",
	"clear", "common", "useful", "stable", "early", "late", "single",
	"shared", "local", "remote", "quiet", "busy", "bright", "honest",
	"important", "efficient", "reliable", "consistent", "reasonable",
	"different", "particular", "additional", "significant", "naïve",
	"well-known", "open-source", "real-time",
};

static const char *const verbs[] = {	/* base forms */
	"reduce", "measure", "improve", "handle", "return", "process", "read",
	"write", "send", "receive", "count", "explain", "show", "describe",
	"compare", "follow", "change", "keep", "need", "use", "build", "run",
	"check", "update", "store", "load", "match", "affect", "support",
	"replace", "require", "produce", "allow", "include", "consider",
	"schedule", "stream", "encode", "decode", "cache", "reach", "watch",
	"teach", "fix", "try", "carry", "apply",
};

static const char *const adverbs[] = {
	"quickly", "slowly", "carefully", "usually", "often", "rarely",
	"always", "sometimes", "clearly", "simply", "probably", "exactly",
	"again", "later", "together", "immediately", "eventually",
};

static const char *const preps[] = {
	"in", "on", "with", "for", "from", "into", "under", "over", "after",
	"before", "during", "without", "between", "across", "through",
};

static const char *const dets[] = {
	"the", "the", "the", "a", "this", "each", "every", "our", "their",
	"its", "another", "one",
};

static const char *const subjects[] = {	/* + "going to" VERB */
	"it's", "we're", "they're", "you're", "I'm", "that's", "she's",
	"he's",
};

static const char *const modals[] = {	/* + VERB */
	"we'll", "you'd", "they'll", "I'd", "she'll", "it'll", "we'd",
	"you'll", "I'll", "they'd",
};

static const char *const openers[] = {
	"However,", "In practice,", "For example,", "First,", "Then", "Finally,",
	"In short,", "As a result,", "Note that", "Of course,", "Still,",
};

static const char *const conjunctions[] = {
	"and", "but", "so", "because", "while",
};

static const char *const units[] = {
	"ms", "seconds", "tokens", "requests", "MB", "GB", "percent", "users",
	"times", "lines", "%",
};

static uint64_t
rnd(struct gen *g, uint64_t n)
{
	return synthetic_rand(&g->rng) % n;
}

#define PICK(g, a) ((a)[rnd((g), sizeof(a) / sizeof((a)[0]))])

static bool
done(const struct gen *g)
{
	return g->err || g->est >= g->target;
}

static void
put(struct gen *g, const char *s, size_t n, unsigned tokens)
{
	if (g->err)
		return;
	if (g->len + n + 1 > *g->cap) {
		size_t c = *g->cap ? *g->cap : 256;
		char *p;

		while (c < g->len + n + 1)
			c *= 2;
		if (!(p = realloc(*g->buf, c))) {
			g->err = -ENOMEM;
			return;
		}
		*g->buf = p;
		*g->cap = c;
	}
	memcpy(*g->buf + g->len, s, n);
	g->len += n;
	(*g->buf)[g->len] = '\0';
	g->est += tokens;
}

static void
puts_tok(struct gen *g, const char *s, unsigned tokens)
{
	put(g, s, strlen(s), tokens);
}

/* A word with its leading space: ASCII letters are one byte each, so a
 * word longer than 7 bytes or with a multi-byte letter costs more. */
static unsigned
word_cost(const char *w)
{
	size_t n = strlen(w);
	bool ascii = true;

	for (const char *p = w; *p; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	return 1 + (n > 9) + (n > 13) + !ascii;
}

/* Prose ------------------------------------------------------------ */

static void
word(struct gen *g, const char *w)
{
	char tmp[64];

	if (done(g))
		return;
	if (g->len && !strchr("\n(\"", (*g->buf)[g->len - 1]))
		put(g, " ", 1, 0);
	if (g->cap_next && w[0] >= 'a' && w[0] <= 'z') {
		snprintf(tmp, sizeof(tmp), "%c%s", w[0] - 'a' + 'A', w + 1);
		w = tmp;
	}
	g->cap_next = false;
	puts_tok(g, w, word_cost(w));
}

static void
verb3(struct gen *g, const char *v)
{
	char tmp[64];
	size_t n = strlen(v);
	const char *suf = "s";

	if (n >= 2 && v[n - 1] == 'y' && !strchr("aeiou", v[n - 2])) {
		n--;
		suf = "ies";
	} else if (v[n - 1] == 's' || v[n - 1] == 'x' || v[n - 1] == 'h' ||
	    v[n - 1] == 'z' || (v[n - 1] == 'o' && n >= 2))
		suf = "es";
	snprintf(tmp, sizeof(tmp), "%.*s%s", (int)n, v, suf);
	word(g, tmp);
}

static void
mark(struct gen *g, const char *s)
{
	if (!done(g))
		puts_tok(g, s, 1);
}

static void
number(struct gen *g)
{
	char tmp[32];
	unsigned digits = 1 + (unsigned)rnd(g, 5);
	uint64_t v = 1 + rnd(g, 9);

	for (unsigned i = 1; i < digits; i++)
		v = v * 10 + rnd(g, 10);
	if (rnd(g, 4) == 0)
		snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%u", v,
		    (unsigned)rnd(g, 100));
	else
		snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	if (done(g))
		return;
	put(g, " ", 1, 1);
	puts_tok(g, tmp, (unsigned)(strlen(tmp) + 2) / 3);
	g->cap_next = false;
}

static void
noun_phrase(struct gen *g)
{
	const char *d = PICK(g, dets);
	const char *a = rnd(g, 2) ? PICK(g, adjectives) : NULL;
	const char *n = PICK(g, nouns);

	if (strcmp(d, "a") == 0 && strchr("aeio", a ? a[0] : n[0]))
		d = "an";
	word(g, d);
	if (a)
		word(g, a);
	word(g, n);
}

static void
sentence(struct gen *g)
{
	bool question = rnd(g, 12) == 0;

	g->cap_next = true;
	if (rnd(g, 5) == 0)
		word(g, PICK(g, openers));
	if (question) {
		word(g, "does");
		noun_phrase(g);
		word(g, PICK(g, verbs));
	} else if (rnd(g, 4) == 0) {
		if (rnd(g, 2)) {
			word(g, PICK(g, subjects));
			word(g, rnd(g, 2) ? "going to" : "able to");
		} else
			word(g, PICK(g, modals));
		word(g, PICK(g, verbs));
	} else {
		noun_phrase(g);
		if (rnd(g, 4) == 0)
			word(g, PICK(g, adverbs));
		verb3(g, PICK(g, verbs));
	}
	noun_phrase(g);
	if (rnd(g, 2)) {
		word(g, PICK(g, preps));
		noun_phrase(g);
	}
	if (rnd(g, 4) == 0) {
		word(g, rnd(g, 2) ? "in about" : "by");
		number(g);
		word(g, PICK(g, units));
	}
	if (rnd(g, 5) == 0) {
		mark(g, ",");
		word(g, PICK(g, conjunctions));
		noun_phrase(g);
		verb3(g, PICK(g, verbs));
		if (rnd(g, 3) == 0) {
			word(g, "(");
			word(g, PICK(g, adverbs));
			mark(g, ")");
		}
	}
	mark(g, question ? "?" : rnd(g, 20) == 0 ? "!" : ".");
}

static void
paragraph(struct gen *g)
{
	unsigned n = 2 + (unsigned)rnd(g, 5);
	bool list = rnd(g, 6) == 0;

	for (unsigned i = 0; i < n && !done(g); i++) {
		if (list) {
			char tmp[16];

			snprintf(tmp, sizeof(tmp), "%u.", i + 1);
			if (g->len && (*g->buf)[g->len - 1] != '\n')
				mark(g, "\n");
			mark(g, tmp);
		}
		sentence(g);
	}
	mark(g, "\n\n");
}

/* Code ------------------------------------------------------------- */

enum lang { LANG_C, LANG_PY, LANG_JS };

static const char *const idents[] = {
	"count", "total", "value", "index", "buf", "len", "size", "node",
	"next", "key", "item", "result", "rc", "err", "state", "config",
	"name", "offset", "limit", "tokens", "batch", "queue", "cache",
	"start", "end", "data", "line", "path", "entry", "stats",
};

static const char *const calls[] = {
	"read_input", "parse_line", "encode", "decode", "update_stats",
	"lookup", "insert", "flush", "compute_hash", "send_batch",
	"free_node", "check_limit", "load_config", "emit", "merge",
};

static void
indent(struct gen *g, enum lang l, unsigned depth)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t";
	static const char spaces[] = "                                ";

	if (l == LANG_C)
		put(g, tabs, depth > 8 ? 8 : depth, 0);
	else
		put(g, spaces, (depth > 8 ? 8 : depth) * (l == LANG_PY ? 4 : 2),
		    0);
	g->est += depth > 0;
}

static void
line(struct gen *g, enum lang l, unsigned depth, const char *text,
    unsigned tokens)
{
	if (done(g))
		return;
	indent(g, l, depth);
	puts_tok(g, text, tokens);
	puts_tok(g, "\n", 1);
}

static void
statement(struct gen *g, enum lang l, unsigned depth)
{
	char tmp[160];
	const char *a = PICK(g, idents), *b = PICK(g, idents),
	    *f = PICK(g, calls);
	unsigned k = (unsigned)rnd(g, 100);
	static const char *const ops[] = { "+", "-", "*", "<<", "&", "|" };
	static const char *const cmps[] = { "<", ">", "==", "!=", "<=" };

	if (depth < 3 && k < 18) {
		/* a nested block */
		const char *c = PICK(g, cmps);
		unsigned n = 1 + (unsigned)rnd(g, 3);

		if (l == LANG_PY)
			snprintf(tmp, sizeof(tmp), "if %s %s %s:", a, c, b);
		else
			snprintf(tmp, sizeof(tmp), "if (%s %s %s) {", a, c, b);
		line(g, l, depth, tmp, 6);
		for (unsigned i = 0; i < n && !done(g); i++)
			statement(g, l, depth + 1);
		if (l != LANG_PY)
			line(g, l, depth, "}", 1);
		return;
	}
	if (depth < 3 && k < 28) {
		unsigned n = 1 + (unsigned)rnd(g, 3);

		if (l == LANG_PY)
			snprintf(tmp, sizeof(tmp), "for i in range(%s):", a);
		else if (l == LANG_C)
			snprintf(tmp, sizeof(tmp),
			    "for (size_t i = 0; i < %s; i++) {", a);
		else
			snprintf(tmp, sizeof(tmp),
			    "for (let i = 0; i < %s.length; i++) {", a);
		line(g, l, depth, tmp, l == LANG_PY ? 7 : 16);
		for (unsigned i = 0; i < n && !done(g); i++)
			statement(g, l, depth + 1);
		if (l != LANG_PY)
			line(g, l, depth, "}", 1);
		return;
	}
	if (k < 36) {
		char cm[96] = "";
		size_t n = 0;

		while (n < 60 && !done(g)) {
			const char *w = PICK(g, nouns);
			int r = snprintf(cm + n, sizeof(cm) - n, "%s%s",
			    n ? " " : "", w);
			if (r < 0 || (size_t)r >= sizeof(cm) - n)
				break;
			n += (size_t)r;
			if (rnd(g, 3) == 0)
				break;
		}
		snprintf(tmp, sizeof(tmp), l == LANG_PY ? "# %s" : "/* %s */", cm);
		line(g, l, depth, tmp, 3 + (unsigned)n / 6);
		return;
	}
	if (k < 60)
		snprintf(tmp, sizeof(tmp), "%s%s = %s(%s, %u)%s",
		    l == LANG_JS ? "const " : "", a, f, b,
		    (unsigned)rnd(g, 4096), l == LANG_PY ? "" : ";");
	else if (k < 80)
		snprintf(tmp, sizeof(tmp), "%s %s= %s %s %u%s", a,
		    PICK(g, ops), b, PICK(g, ops), (unsigned)rnd(g, 100),
		    l == LANG_PY ? "" : ";");
	else if (k < 90)
		snprintf(tmp, sizeof(tmp), l == LANG_C ? "%s->%s[i] = %s;"
		    : l == LANG_PY ? "%s.%s[i] = %s" : "%s.%s[i] = %s;",
		    a, b, PICK(g, idents));
	else
		snprintf(tmp, sizeof(tmp), "%s %s%s", "return", a,
		    l == LANG_PY ? "" : ";");
	line(g, l, depth, tmp, 1 + (unsigned)strlen(tmp) / 5);
}

static void
function(struct gen *g, enum lang l)
{
	char tmp[160];
	const char *f = PICK(g, calls), *a = PICK(g, idents),
	    *b = PICK(g, idents);
	unsigned n = 3 + (unsigned)rnd(g, 6);

	if (l == LANG_C) {
		line(g, l, 0, rnd(g, 2) ? "static int" : "int", 2);
		snprintf(tmp, sizeof(tmp), "%s(struct %s *%s, size_t %s)", f,
		    PICK(g, nouns), a, b);
		line(g, l, 0, tmp, 12);
		line(g, l, 0, "{", 1);
	} else if (l == LANG_PY) {
		snprintf(tmp, sizeof(tmp), "def %s(%s, %s=None):", f, a, b);
		line(g, l, 0, tmp, 10);
		if (!done(g)) {
			indent(g, l, 1);
			mark(g, "\"\"\"");
			g->cap_next = true;
			noun_phrase(g);
			verb3(g, PICK(g, verbs));
			noun_phrase(g);
			mark(g, ".\"\"\"\n");
		}
	} else {
		snprintf(tmp, sizeof(tmp), "export function %s(%s, %s) {", f,
		    a, b);
		line(g, l, 0, tmp, 10);
	}
	for (unsigned i = 0; i < n && !done(g); i++)
		statement(g, l, 1);
	if (l != LANG_PY)
		line(g, l, 0, "}", 1);
	mark(g, "\n");
}

static void
code(struct gen *g, enum lang l)
{
	while (!done(g))
		function(g, l);
}

/* ------------------------------------------------------------------ */

int
synthetic_text_parse(const char *name, enum synthetic_text *kind)
{
	if (strcmp(name, "prose") == 0)
		*kind = SYNTHETIC_TEXT_PROSE;
	else if (strcmp(name, "code") == 0)
		*kind = SYNTHETIC_TEXT_CODE;
	else if (strcmp(name, "mixed") == 0)
		*kind = SYNTHETIC_TEXT_MIXED;
	else
		return -EINVAL;
	return 0;
}

int
synthetic_text_make(enum synthetic_text kind, unsigned tokens, uint64_t seed,
    char **buf, size_t *cap, size_t *len)
{
	struct gen g = { .buf = buf, .cap = cap, .target = tokens,
	    .rng = seed };
	enum lang l;

	if (tokens < 1 || tokens > SYNTHETIC_OSL_MAX ||
	    (kind != SYNTHETIC_TEXT_PROSE && kind != SYNTHETIC_TEXT_CODE &&
	    kind != SYNTHETIC_TEXT_MIXED))
		return -EINVAL;
	put(&g, "", 0, 0);	/* a NUL-terminated buffer even if empty */
	l = (enum lang)rnd(&g, 3);
	switch (kind) {
	case SYNTHETIC_TEXT_PROSE:
		while (!done(&g))
			paragraph(&g);
		break;
	case SYNTHETIC_TEXT_CODE:
		code(&g, l);
		break;
	default:
		/* An answer: whole sentences for about a third of the budget,
		 * whole functions in a fenced block for the next third, then
		 * prose cut where the budget ends. Too short for a code block,
		 * it is prose. */
		while (!done(&g) && (tokens < 48 || g.est < tokens / 3))
			sentence(&g);
		mark(&g, "\n\n");
		if (!done(&g) && tokens >= 48) {
			mark(&g, l == LANG_C ? "```c\n" : l == LANG_PY
			    ? "```python\n" : "```javascript\n");
			while (!done(&g) && g.est < tokens - tokens / 3)
				function(&g, l);
			put(&g, "```\n\n", 5, 2);
		}
		while (!done(&g))
			paragraph(&g);
		break;
	}
	*len = g.len;
	return g.err;
}

void
synthetic_text_split(const char *text, size_t len, unsigned k,
    struct event_str *out)
{
	size_t chars = 0, at = 0, seen = 0;

	/* Cut by characters (UTF-8 lead bytes), so that no sequence is
	 * split and no piece is empty while characters remain. */
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)text[i] & 0xc0) != 0x80;
	for (unsigned i = 0; i < k; i++) {
		size_t want = i + 1 == k ? chars
		    : (size_t)((double)chars * (i + 1) / k), end = at;

		while (end < len && seen < want) {
			end++;
			while (end < len && ((unsigned char)text[end] & 0xc0)
			    == 0x80)
				end++;
			seen++;
		}
		if (i + 1 == k)
			end = len;
		out[i].ptr = text + at;
		out[i].len = end - at;
		at = end;
	}
}
