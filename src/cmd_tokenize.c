/*
 * metricsd tokenize: run a tokenizer over texts given one JSON string per
 * line on stdin, printing per line the token count or, with --ids, the
 * ids as a JSON array. The exactness tests compare this against Hugging
 * Face's own engine, and it is a quick way to check what a
 * --tokenizer argument resolves to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "clock.h"
#include "log.h"
#include "modes.h"
#include "tokenizer.h"

static const char usage_text[] =
    "usage: metricsd tokenize --tokenizer X [--ids]\n"
    "\n"
    "Read one JSON string per line on stdin and write, per line, its token\n"
    "count (add_special_tokens=False), or with --ids the token ids as a\n"
    "JSON array.\n"
    "\n"
    "  --tokenizer X   whitespace, a tokenizer.json file, a directory\n"
    "                  holding one, or a Hugging Face hub id (ORG/NAME)\n"
    "                  found offline in $HF_HUB_CACHE, $HF_HOME/hub or\n"
    "                  ~/.cache/huggingface/hub\n"
    "  --ids           print the ids instead of the count\n"
    "\n"
    "A line that is not a JSON string is reported as stdin:LINE and\n"
    "skipped. A summary (texts, tokens, MB/s) goes to stderr.\n"
    "Exit status: 0 success, 1 a bad line or a write error, 2 usage error\n"
    "or a tokenizer that cannot be found or loaded.\n";

static double
now(void)
{
	return (double)clock_now_ns() / 1e9;
}

static int
print_ids(const struct tok_ids *ids)
{
	putchar('[');
	for (size_t i = 0; i < ids->n; i++)
		printf(i ? ",%u" : "%u", ids->v[i]);
	return fputs("]\n", stdout) == EOF ? -EIO : 0;
}

/* Resident set size in MB, from /proc/self/statm; -1 if unknown. */
static double
rss_mb(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long size, res;
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "%lu %lu", &size, &res);
	fclose(f);
	return n == 2 ? (double)res * (double)sysconf(_SC_PAGESIZE) / 1e6 : -1;
}

struct totals {
	uint64_t texts, tokens, bytes, bad;
	double secs;
};

/* One input line: 0, 1 when it is skipped, or a negative errno. */
static int
one_line(const struct tokenizer *tok, bool want_ids, const char *line,
    size_t len, size_t lineno, struct tok_ids *ids, struct totals *t)
{
	json_error_t je;
	json_t *j = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &je);
	uint64_t count = 0;
	double t0;
	int r;

	if (j == NULL) {
		log_warn("stdin:%zu: not JSON: %s", lineno, je.text);
		return 1;
	}
	if (!json_is_string(j)) {
		log_warn("stdin:%zu: not a JSON string", lineno);
		json_decref(j);
		return 1;
	}
	const char *s = json_string_value(j);
	size_t slen = json_string_length(j);

	t0 = now();
	ids->n = 0;
	if (tok->encode != NULL) {
		r = tok->encode(tok, s, slen, ids);
		count = ids->n;
	} else {
		r = tokenizer_count_text(tok, s, slen, &count);
	}
	t->secs += now() - t0;
	json_decref(j);
	if (r < 0) {
		log_warn("stdin:%zu: %s", lineno, strerror(-r));
		return r;
	}
	t->texts++;
	t->tokens += count;
	t->bytes += slen;
	if (want_ids && tok->encode != NULL)
		return print_ids(ids);
	return printf("%llu\n", (unsigned long long)count) < 0 ? -EIO : 0;
}

/* Count (or list) the tokens of each line of standard input. */
static int
tokenize_run(const char *spec, bool want_ids)
{
	struct tokenizer *tok = NULL;
	struct tok_ids ids = { 0 };
	struct totals t = { 0 };
	char err[1024], *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	double t0;
	int r, status = EXIT_OK;

	t0 = now();
	if ((r = tokenizer_open(&tok, spec, err, sizeof(err))) < 0) {
		log_warn("%s", err);
		return EXIT_USAGE;
	}
	log_info("tokenizer %s loaded in %.3f s, resident %.0f MB", spec,
	    now() - t0, rss_mb());
	if (want_ids && tok->encode == NULL)
		log_warn("tokenizer %s counts words and has no ids: printing "
		    "counts", spec);
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		r = one_line(tok, want_ids, line, (size_t)n, lineno, &ids, &t);
		if (r == 1) {
			t.bad++;
			status = EXIT_FAIL;
		} else if (r < 0) {
			status = EXIT_FAIL;
			break;
		}
	}
	if (ferror(stdin)) {
		log_warn("stdin: read error");
		status = EXIT_FAIL;
	}
	log_info("%llu texts, %llu tokens, %llu bytes in %.3f s: %.1f MB/s, "
	    "%.0f tokens/s%s%llu skipped, %llu with invalid UTF-8",
	    (unsigned long long)t.texts, (unsigned long long)t.tokens,
	    (unsigned long long)t.bytes, t.secs,
	    t.secs > 0 ? (double)t.bytes / t.secs / 1e6 : 0.0,
	    t.secs > 0 ? (double)t.tokens / t.secs : 0.0, "; ",
	    (unsigned long long)t.bad,
	    (unsigned long long)(tok->repaired ? tok->repaired(tok) : 0));
	free(line);
	free(ids.v);
	tokenizer_close(tok);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("stdout: write error");
		status = EXIT_FAIL;
	}
	return status;
}

int
tokenize_main(int argc, char **argv)
{
	enum { O_TOKENIZER = 1, O_IDS };
	static const struct args_opt opts[] = {
		{ "tokenizer", ARGS_REQUIRED, O_TOKENIZER, 0 },
		{ "ids", ARGS_NONE, O_IDS, 0 },
		{ NULL, 0, 0, 0 }
	};
	const char *spec = NULL;
	bool want_ids = false;
	struct args a;
	int c, rc;

	args_init(&a, argc, argv, opts, 0);
	while ((c = args_next(&a)) > 0) {
		if (c == O_TOKENIZER)
			spec = a.arg;
		else
			want_ids = true;
	}
	if ((rc = args_finish(&a, c, usage_text)) != ARGS_RUN)
		return rc;
	if (spec == NULL)
		return args_usage_error("--tokenizer is required");
	return tokenize_run(spec, want_ids);
}
