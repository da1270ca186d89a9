/*
 * storedump DIR: print a store as one JSON object, read through the
 * store's reader API (independent of `metricsd read`):
 * {"state": "final"|"interrupted"|"live", "writer_alive": bool,
 *  "counters": {name: value}, "series": {name: [values...]}}
 * Exit 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "store.h"

static json_t *
value_json(enum store_type t, union store_value v)
{
	switch (t) {
	case STORE_U64: return json_integer((json_int_t)v.u);
	case STORE_I64: return json_integer(v.i);
	case STORE_F64: return json_real(v.f);
	}
	return json_null();
}

int
main(int argc, char **argv)
{
	static const char *states[] = { "live", "final", "interrupted" };
	char err[STORE_ERR_MAX], **names;
	struct store_status st;
	size_t n;
	json_t *root, *counters, *series;

	if (argc != 2) {
		fprintf(stderr, "usage: storedump DIR\n");
		return 2;
	}
	if (store_status_read(argv[1], &st, err, sizeof(err)) < 0 ||
	    store_names_list(argv[1], &names, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "storedump: %s\n", err);
		return 1;
	}
	root = json_object();
	counters = json_object();
	series = json_object();
	json_object_set_new(root, "state", json_string(st.exists &&
	    st.state <= STORE_INTERRUPTED ? states[st.state] : "missing"));
	json_object_set_new(root, "writer_alive", json_boolean(st.writer_alive));
	for (size_t i = 0; i < n; i++) {
		struct store_view *v;
		uint64_t cnt;

		if (store_view_open(&v, argv[1], names[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "storedump: %s\n", err);
			return 1;
		}
		if (store_view_kind(v) == STORE_COUNTER) {
			json_object_set_new(counters, names[i], value_json(
			    store_view_type(v), store_view_counter(v)));
		} else {
			json_t *a = json_array();
			if (store_view_refresh(v, &cnt, err, sizeof(err)) < 0) {
				fprintf(stderr, "storedump: %s\n", err);
				return 1;
			}
			for (uint64_t j = 0; j < cnt; j++)
				json_array_append_new(a, value_json(
				    store_view_type(v), store_view_values(v)[j]));
			json_object_set_new(series, names[i], a);
		}
		store_view_close(v);
	}
	store_names_free(names, n);
	json_object_set_new(root, "counters", counters);
	json_object_set_new(root, "series", series);
	json_dumpf(root, stdout, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(root);
	if (puts("") == EOF || fflush(stdout) == EOF) {
		perror("storedump: stdout");
		return 1;
	}
	return 0;
}
