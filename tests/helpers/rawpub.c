/*
 * rawpub ENDPOINT: bind an XPUB socket on ENDPOINT, wait (up to 30 s) for
 * one subscription, then send one frame per stdin line and flush:
 *   T TOPIC HEX   a 40-byte NUL-padded TOPIC, then the bytes of HEX
 *   R HEX         the bytes of HEX as the whole frame
 * For sending hostile frames that `metricsd publish` would never produce.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s && *s != '\n' && n < cap && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

int
main(int argc, char **argv)
{
	void *ctx = zmq_ctx_new(), *s;
	int zero = 0, one = 1, linger = 10000, timeout = 30000;
	static unsigned char frame[1 << 20];
	char *line = NULL, topic[64];
	size_t cap = 0;
	unsigned char sub[256];

	if (argc != 2) {
		fprintf(stderr, "usage: rawpub ENDPOINT < frames\n");
		return 2;
	}
	s = zmq_socket(ctx, ZMQ_XPUB);
	zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_XPUB_VERBOSE, &one, sizeof(one));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	if (zmq_bind(s, argv[1]) < 0) {
		fprintf(stderr, "rawpub: bind %s: %s\n", argv[1],
		    zmq_strerror(errno));
		return 1;
	}
	if (zmq_recv(s, sub, sizeof(sub), 0) < 1 || sub[0] != 1) {
		fprintf(stderr, "rawpub: no subscriber within 30 s\n");
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		size_t n = 0;

		if (line[0] == 'T' && sscanf(line, "T %63s", topic) == 1) {
			memset(frame, 0, 40);
			memcpy(frame, topic, strlen(topic) < 40 ? strlen(topic) : 40);
			const char *hex = line + 2 + strlen(topic);

			if (*hex == ' ')
				hex++;
			n = 40 + unhex(hex, frame + 40, sizeof(frame) - 40);
		} else if (line[0] == 'R') {
			n = unhex(line + 2, frame, sizeof(frame));
		} else {
			continue;
		}
		if (zmq_send(s, frame, n, 0) < 0) {
			fprintf(stderr, "rawpub: send: %s\n", zmq_strerror(errno));
			return 1;
		}
	}
	free(line);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return 0;
}
