/*
 * readywait ENDPOINT ID [TIMEOUT_MS]: bind a ready-check receiver on
 * ENDPOINT, print "bound" once bound (so a test can start the service
 * only then), wait for identity ID and print "ready ID". Exit 0 when it
 * arrived, 1 on timeout (default 30 s) or error.
 */
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
	switch (ev) {
	case READYCHECK_READY:
		printf("ready %lld\n", (long long)id);
		fflush(stdout);
		break;
	case READYCHECK_DONE:
		result = 0;
		readycheck_receiver_close(r, NULL);
		break;
	case READYCHECK_TIMEOUT:
	case READYCHECK_ERROR:
		fprintf(stderr, "readywait: no ready-check before the deadline\n");
		readycheck_receiver_close(r, NULL);
		break;
	default:
		fprintf(stderr, "readywait: unexpected frame (event %d)\n", ev);
		break;
	}
}

int
main(int argc, char **argv)
{
	struct readycheck_receiver r;
	uv_loop_t loop;
	void *ctx = zmq_ctx_new();
	char err[256];
	int64_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: readywait ENDPOINT ID [TIMEOUT_MS]\n");
		return 2;
	}
	id = atoll(argv[2]);
	uv_loop_init(&loop);
	if (readycheck_receiver_open(&r, &loop, ctx, argv[1], &id, 1,
	    argc > 3 ? strtoull(argv[3], NULL, 10) : 30000, on_event, NULL,
	    err, sizeof(err)) < 0) {
		fprintf(stderr, "readywait: %s\n", err);
		return 1;
	}
	printf("bound\n");
	fflush(stdout);
	uv_run(&loop, UV_RUN_DEFAULT);
	zmq_ctx_term(ctx);
	uv_loop_close(&loop);
	return result;
}
