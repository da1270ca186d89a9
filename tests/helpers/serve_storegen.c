/*
 * Test helper for serve and read --prometheus: write a store holding every
 * kind of key with known values.
 *
 *   serve_storegen DIR [--live [--extra N] | --stream] [--big N]
 *
 * Keys: counters total_samples_issued (u64 12345), tracked_duration_ns
 * (u64 1500000001), decode_errors (u64 3), samples_in_flight (u64 4, a
 * gauge), ratio (f64 0.25); series
 * sample_latency_ns (u64: 1..1000 ms, in ns), offset_ns (i64: -500..499),
 * score (f64: 0.5, 1.5, ..., 99.5), ttft_ns (u64, empty), and "odd.key-1"
 * (u64: 7, 8, 9; its name needs sanitising).
 *
 * --big N adds the series big_ns (u64) of N pseudo-random values in
 * 0..2^32 ns, whose first read has a lot to sort: values i = 0..N-1 are
 * a fixed permutation, (i * 2654435761) mod 2^32, so the sum is known.
 *
 * Without --live the store is closed FINAL and the helper exits. With
 * --live it prints "ready" on stdout once everything is written, then for
 * each line read on stdin appends --extra N more values (default 1000)
 * to sample_latency_ns (continuing 1001, 1002, ... ms) and answers "ok";
 * at end of input it closes the store INTERRUPTED.
 *
 * With --stream it prints "ready" and then appends to sample_latency_ns
 * without any coordination with readers (bursts of 100 values, about
 * 100000 values/s), until its standard input is closed; then it closes
 * the store INTERRUPTED.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static struct store_writer *w;
static char err[STORE_ERR_MAX];

static struct store_key *
key(const char *name, enum store_kind kind, enum store_type type)
{
	struct store_key *k;
	int r = kind == STORE_COUNTER ?
	    store_counter_create(w, name, type, &k, err, sizeof(err)) :
	    store_series_create(w, name, type, &k, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "serve_storegen: %s\n", err);
		exit(1);
	}
	return k;
}

static void
append(struct store_key *k, union store_value v)
{
	if (store_series_append(k, v) < 0) {
		fprintf(stderr, "serve_storegen: append: %s\n",
		    store_key_error(k));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct store_key *lat, *k;
	int live = 0, stream = 0;
	long extra = 1000, big = 0;
	uint64_t next = 1001;
	char line[64];

	if (argc < 2) {
		fprintf(stderr, "usage: serve_storegen DIR [--live] [--extra N]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--live") == 0)
			live = 1;
		else if (strcmp(argv[i], "--stream") == 0)
			stream = 1;
		else if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc)
			extra = atol(argv[++i]);
		else if (strcmp(argv[i], "--big") == 0 && i + 1 < argc)
			big = atol(argv[++i]);
	}
	if (store_writer_open(&w, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "serve_storegen: %s\n", err);
		return 1;
	}
	store_counter_set(key("total_samples_issued", STORE_COUNTER, STORE_U64),
	    (union store_value){ .u = 12345 });
	store_counter_set(key("tracked_duration_ns", STORE_COUNTER, STORE_U64),
	    (union store_value){ .u = 1500000001 });
	store_counter_set(key("decode_errors", STORE_COUNTER, STORE_U64),
	    (union store_value){ .u = 3 });
	store_counter_set(key("samples_in_flight", STORE_COUNTER, STORE_U64),
	    (union store_value){ .u = 4 });
	store_counter_set(key("ratio", STORE_COUNTER, STORE_F64),
	    (union store_value){ .f = 0.25 });
	lat = key("sample_latency_ns", STORE_SERIES, STORE_U64);
	for (uint64_t i = 1; i <= 1000; i++)
		append(lat, (union store_value){ .u = i * 1000000 });
	k = key("offset_ns", STORE_SERIES, STORE_I64);
	for (int64_t i = -500; i < 500; i++)
		append(k, (union store_value){ .i = i });
	k = key("score", STORE_SERIES, STORE_F64);
	for (int i = 0; i < 100; i++)
		append(k, (union store_value){ .f = i + 0.5 });
	key("ttft_ns", STORE_SERIES, STORE_U64);
	k = key("odd.key-1", STORE_SERIES, STORE_U64);
	for (uint64_t i = 7; i <= 9; i++)
		append(k, (union store_value){ .u = i });
	if (big > 0) {
		k = key("big_ns", STORE_SERIES, STORE_U64);
		if (store_series_reserve(k, (uint64_t)big) < 0) {
			fprintf(stderr, "serve_storegen: %s\n", store_key_error(k));
			return 1;
		}
		for (long i = 0; i < big; i++)
			append(k, (union store_value){ .u =
			    ((uint64_t)i * 2654435761u) & 0xffffffffu });
	}
	if (!live && !stream)
		return store_writer_close(w, STORE_FINAL) < 0;
	if (stream) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };

		printf("ready\n");
		fflush(stdout);
		/* Stdin readable (EOF) is the only way out; the 1 ms poll
		 * timeout paces the writer. */
		while (poll(&pfd, 1, 1) == 0)
			for (int i = 0; i < 100; i++)
				append(lat, (union store_value){
				    .u = next++ * 1000000 });
		return store_writer_close(w, STORE_INTERRUPTED) < 0;
	}

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		for (long i = 0; i < extra; i++)
			append(lat, (union store_value){ .u = next++ * 1000000 });
		printf("ok\n");
		fflush(stdout);
	}
	return store_writer_close(w, STORE_INTERRUPTED) < 0;
}
