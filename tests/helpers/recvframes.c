/*
 * recvframes ENDPOINT N: connect a SUB socket to ENDPOINT, subscribe to
 * everything, receive exactly N frames and print each as one line of hex
 * (the whole frame, topic included), then exit 0. Exit 1 when nothing
 * arrives for 30 s. For record/replay tests: the frames a replay sends,
 * byte for byte, when the replay has no session.ended to stop at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <zmq.h>

int
main(int argc, char **argv)
{
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_SUB);
	int zero = 0, timeout = 30000;
	unsigned long n;
	zmq_msg_t m;

	if (argc != 3) {
		fprintf(stderr, "usage: recvframes ENDPOINT N\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	if (zmq_connect(s, argv[1]) < 0) {
		fprintf(stderr, "recvframes: connect: %s\n", zmq_strerror(errno));
		return 1;
	}
	zmq_msg_init(&m);
	for (unsigned long i = 0; i < n; i++) {
		const unsigned char *p;

		if (zmq_msg_recv(&m, s, 0) < 0) {
			fprintf(stderr, "recvframes: receive (frame %lu of %lu): "
			    "%s\n", i + 1, n, zmq_strerror(errno));
			return 1;
		}
		p = zmq_msg_data(&m);
		for (size_t k = 0; k < zmq_msg_size(&m); k++)
			printf("%02x", p[k]);
		putchar('\n');
	}
	zmq_msg_close(&m);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return fflush(stdout) == EOF ? 1 : 0;
}
