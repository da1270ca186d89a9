/*
 * Test helper: the launcher's side of a ready-check, for serve's tests.
 *
 *   serve_readywait ENDPOINT ID TIMEOUT_MS
 *
 * Binds ENDPOINT, prints "bound" (so the test starts the service only
 * then), waits for identity ID and prints "ready ID". Exits 0 when it
 * arrived, 1 on timeout or error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>
#include <zmq.h>

#include "readycheck.h"

static int result = 1;

static void
on_event(struct readycheck_receiver *r, enum readycheck_event ev, int64_t id,
    void *arg)
{
	(void)arg;
	if (ev == READYCHECK_READY)
		printf("ready %" PRId64 "\n", id);
	if (ev == READYCHECK_DONE)
		result = 0;
	if (ev == READYCHECK_DONE || ev == READYCHECK_TIMEOUT ||
	    ev == READYCHECK_ERROR)
		readycheck_receiver_close(r, NULL);
}

int
main(int argc, char **argv)
{
	struct readycheck_receiver r;
	char err[512];
	int64_t id;
	void *ctx;

	if (argc != 4) {
		fprintf(stderr, "usage: serve_readywait ENDPOINT ID TIMEOUT_MS\n");
		return 2;
	}
	id = strtoll(argv[2], NULL, 10);
	ctx = zmq_ctx_new();
	if (readycheck_receiver_open(&r, uv_default_loop(), ctx, argv[1], &id,
	    1, strtoull(argv[3], NULL, 10), on_event, NULL, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "serve_readywait: %s\n", err);
		return 1;
	}
	printf("bound\n");
	fflush(stdout);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	fflush(stdout);
	zmq_ctx_term(ctx);
	uv_loop_close(uv_default_loop());
	if (result)
		fprintf(stderr, "serve_readywait: identity %" PRId64
		    " did not arrive\n", id);
	return result;
}
