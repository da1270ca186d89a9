/*
 * read_fill: write a store for the `metricsd read` tests.
 *
 *   read_fill DIR [--end final|interrupted|none] SPEC...
 *
 * SPEC is one of (NAME may itself contain ':'; TYPE is u64, i64 or f64):
 *   counter:NAME:TYPE:VALUE
 *   series:NAME:TYPE:V1,V2,...     (nothing after the last ':' = empty)
 *   seq:NAME:TYPE:N                a series holding 1, 2, ..., N
 *
 * --end says how the writer leaves: closed FINAL (the default), closed
 * INTERRUPTED, or "none": the process exits without closing, as a killed
 * writer would (the store then reads as abandoned).
 * Exit status 0, or 1 with a message on any error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static int
parse_type(const char *s, enum store_type *t)
{
	if (strcmp(s, "u64") == 0)
		*t = STORE_U64;
	else if (strcmp(s, "i64") == 0)
		*t = STORE_I64;
	else if (strcmp(s, "f64") == 0)
		*t = STORE_F64;
	else
		return -1;
	return 0;
}

static int
parse_value(const char *s, size_t len, enum store_type t, union store_value *v)
{
	char buf[128], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (t == STORE_U64)
		v->u = strtoull(buf, &end, 10);
	else if (t == STORE_I64)
		v->i = strtoll(buf, &end, 10);
	else
		v->f = strtod(buf, &end);
	return errno || *end ? -1 : 0;
}

static int
fill(struct store_writer *w, char *spec)
{
	char err[STORE_ERR_MAX], *kind = spec, *name, *type, *vals;
	struct store_key *k;
	enum store_type t;
	union store_value v;

	if (!(name = strchr(spec, ':')) || !(vals = strrchr(spec, ':')) ||
	    vals == name)
		return fprintf(stderr, "read_fill: bad spec '%s'\n", spec), -1;
	*name++ = '\0';
	*vals++ = '\0';
	if (!(type = strrchr(name, ':')))
		return fprintf(stderr, "read_fill: no type in '%s'\n", name), -1;
	*type++ = '\0';
	if (parse_type(type, &t) < 0)
		return fprintf(stderr, "read_fill: bad type '%s'\n", type), -1;

	if (strcmp(kind, "counter") == 0) {
		if (parse_value(vals, strlen(vals), t, &v) < 0)
			return fprintf(stderr, "read_fill: bad value '%s'\n",
			    vals), -1;
		if (store_counter_create(w, name, t, &k, err, sizeof(err)) < 0)
			return fprintf(stderr, "read_fill: %s\n", err), -1;
		store_counter_set(k, v);
		return 0;
	}
	if (store_series_create(w, name, t, &k, err, sizeof(err)) < 0)
		return fprintf(stderr, "read_fill: %s\n", err), -1;
	if (strcmp(kind, "seq") == 0) {
		unsigned long long n = strtoull(vals, NULL, 10);

		for (unsigned long long i = 1; i <= n; i++) {
			if (t == STORE_F64)
				v.f = (double)i;
			else
				v.u = i;
			if (store_series_append(k, v) < 0)
				return fprintf(stderr, "read_fill: %s\n",
				    store_key_error(k)), -1;
		}
		return 0;
	}
	if (strcmp(kind, "series") != 0)
		return fprintf(stderr, "read_fill: bad kind '%s'\n", kind), -1;
	while (*vals) {
		size_t len = strcspn(vals, ",");

		if (parse_value(vals, len, t, &v) < 0)
			return fprintf(stderr, "read_fill: bad value in '%s'\n",
			    vals), -1;
		if (store_series_append(k, v) < 0)
			return fprintf(stderr, "read_fill: %s\n",
			    store_key_error(k)), -1;
		vals += len;
		if (*vals == ',')
			vals++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[STORE_ERR_MAX];
	struct store_writer *w;
	enum store_state end = STORE_FINAL;
	bool close_it = true;
	int i = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: read_fill DIR [--end final|interrupted|none] SPEC...\n");
		return 2;
	}
	if (argc > 3 && strcmp(argv[2], "--end") == 0) {
		if (strcmp(argv[3], "interrupted") == 0)
			end = STORE_INTERRUPTED;
		else if (strcmp(argv[3], "none") == 0)
			close_it = false;
		else if (strcmp(argv[3], "final") != 0)
			return fprintf(stderr, "read_fill: bad --end\n"), 2;
		i = 4;
	}
	if (store_writer_open(&w, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "read_fill: %s\n", err);
		return 1;
	}
	for (; i < argc; i++)
		if (fill(w, argv[i]) < 0)
			return 1;
	if (!close_it)
		_exit(0);	/* like a killed writer: no final mark */
	if (store_writer_close(w, end) < 0) {
		fprintf(stderr, "read_fill: closing the store failed\n");
		return 1;
	}
	return 0;
}
