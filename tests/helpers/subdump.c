/*
 * subdump [--hex] ENDPOINT: connect a SUB socket to ENDPOINT, subscribe to
 * everything and print each received frame until a session.ended event:
 *   default  each decoded event as a JSON line (the publish input format)
 *   --hex    one line per frame: TOPIC HEX-OF-PAYLOAD
 * Stops with exit 1 when nothing arrives for 30 s. For publish tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zmq.h>

#include "event.h"
#include "event_json.h"
#include "wire.h"

static int
print_event(void *arg, const struct event *ev)
{
	json_t *o = event_json_build(ev);

	(void)arg;
	json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
	return ev->type == EVENT_SESSION_ENDED;
}

int
main(int argc, char **argv)
{
	bool hex = argc == 3 && strcmp(argv[1], "--hex") == 0;
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_SUB);
	int zero = 0, timeout = 30000;
	struct wire_decoder *d;
	char err[256];
	zmq_msg_t m;

	if (argc != 2 + hex) {
		fprintf(stderr, "usage: subdump [--hex] ENDPOINT\n");
		return 2;
	}
	if (wire_decoder_new(&d, print_event, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "subdump: %s\n", err);
		return 1;
	}
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	if (zmq_connect(s, argv[argc - 1]) < 0) {
		fprintf(stderr, "subdump: connect: %s\n", zmq_strerror(errno));
		return 1;
	}
	zmq_msg_init(&m);
	for (;;) {
		const unsigned char *p;
		size_t n;

		if (zmq_msg_recv(&m, s, 0) < 0) {
			fprintf(stderr, "subdump: receive: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		p = zmq_msg_data(&m);
		n = zmq_msg_size(&m);
		if (hex) {
			printf("%.40s ", (const char *)p);
			for (size_t i = 40; i < n; i++)
				printf("%02x", p[i]);
			putchar('\n');
			if (n >= 13 && memcmp(p, "session.ended", 13) == 0)
				break;
		} else {
			struct wire_frame_stats st;

			if (wire_frame_decode(d, p, n, &st))
				break;
			if (st.nerrors)
				fprintf(stderr, "subdump: bad frame: %s\n", st.err);
		}
		fflush(stdout);
	}
	zmq_msg_close(&m);
	wire_decoder_free(d);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return fflush(stdout) == EOF ? 1 : 0;
}
