/*
 * store_fill: write a small store for tests of its readers.
 *
 *   store_fill [-e final|interrupted|abandoned] [-w] DIR SPEC...
 *
 * SPEC is KIND:NAME:TYPE=VALUES, KIND "counter" or "series", TYPE "u64",
 * "i64" or "f64", VALUES one number for a counter and a comma-separated
 * list (possibly empty) for a series, e.g.
 *
 *   store_fill /tmp/s counter:done:u64=3 series:lat:u64=5,1,9 series:x:f64=
 *
 * -e: how the writer ends (default final; "abandoned" exits without
 * closing, as a killed writer would). -w: after filling, print "ready" on
 * stdout and wait until stdin reaches EOF before ending, so a test can
 * look at a live writer. Exit 0 on success, 1 on a store error, 2 on
 * usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static int
usage(void)
{
	fprintf(stderr, "usage: store_fill [-e final|interrupted|abandoned] "
	    "[-w] DIR KIND:NAME:TYPE=VALUES...\n");
	return 2;
}

static int
parse_value(const char *s, enum store_type t, union store_value *v)
{
	char *end;

	errno = 0;
	if (t == STORE_U64)
		v->u = strtoull(s, &end, 10);
	else if (t == STORE_I64)
		v->i = strtoll(s, &end, 10);
	else
		v->f = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
}

static int
fill(struct store_writer *w, char *spec)
{
	char err[STORE_ERR_MAX], *kind, *name, *type, *vals, *tok, *save;
	struct store_key *k;
	enum store_type t;
	union store_value v;
	int r;

	kind = strtok_r(spec, ":", &save);
	name = strtok_r(NULL, ":", &save);
	type = strtok_r(NULL, "=", &save);
	vals = save;
	if (!kind || !name || !type || !vals)
		return 2;
	if (strcmp(type, "u64") == 0)
		t = STORE_U64;
	else if (strcmp(type, "i64") == 0)
		t = STORE_I64;
	else if (strcmp(type, "f64") == 0)
		t = STORE_F64;
	else
		return 2;
	if (strcmp(kind, "counter") == 0) {
		r = store_counter_create(w, name, t, &k, err, sizeof(err));
		if (r == 0 && parse_value(vals, t, &v) < 0)
			return 2;
		if (r == 0)
			store_counter_set(k, v);
	} else if (strcmp(kind, "series") == 0) {
		r = store_series_create(w, name, t, &k, err, sizeof(err));
		for (tok = strtok_r(vals, ",", &save); r == 0 && tok;
		    tok = strtok_r(NULL, ",", &save)) {
			if (parse_value(tok, t, &v) < 0)
				return 2;
			r = store_series_append(k, v);
			if (r < 0)
				snprintf(err, sizeof(err), "%s",
				    store_key_error(k));
		}
	} else
		return 2;
	if (r < 0) {
		fprintf(stderr, "store_fill: %s\n", err);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	enum store_state end = STORE_FINAL;
	bool abandon = false, wait_stdin = false;
	struct store_writer *w;
	char err[STORE_ERR_MAX], buf[64];
	int c, r;

	while ((c = getopt(argc, argv, "e:w")) != -1) {
		if (c == 'e' && strcmp(optarg, "final") == 0)
			end = STORE_FINAL;
		else if (c == 'e' && strcmp(optarg, "interrupted") == 0)
			end = STORE_INTERRUPTED;
		else if (c == 'e' && strcmp(optarg, "abandoned") == 0)
			abandon = true;
		else if (c == 'w')
			wait_stdin = true;
		else
			return usage();
	}
	if (optind >= argc)
		return usage();
	if (store_writer_open(&w, argv[optind], err, sizeof(err)) < 0) {
		fprintf(stderr, "store_fill: %s\n", err);
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		r = fill(w, argv[i]);
		if (r == 2) {
			fprintf(stderr, "store_fill: bad spec '%s'\n", argv[i]);
			return usage();
		}
		if (r)
			return 1;
	}
	if (wait_stdin) {
		printf("ready\n");
		fflush(stdout);
		while (read(0, buf, sizeof(buf)) > 0)
			;
	}
	if (abandon)
		_exit(0);	/* leave the store LIVE with no writer */
	if (store_writer_close(w, end) < 0) {
		fprintf(stderr, "store_fill: closing %s failed\n",
		    argv[optind]);
		return 1;
	}
	return 0;
}
