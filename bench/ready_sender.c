/*
 * The tiny ready sender of bench_launch.sh: connect a ZMQ PUSH to
 * $METRICSD_READY_ENDPOINT and send $METRICSD_READY_ID as one
 * MessagePack integer (wire.md, "Ready-check messages"). Linked with
 * libzmq alone, so that both sides of the benchmark (metricsd launch and
 * Python Popen) pay the same for it. Arguments are ignored.
 */
#include <stdio.h>
#include <stdlib.h>

#include <zmq.h>

int
main(void)
{
	const char *ep = getenv("METRICSD_READY_ENDPOINT");
	const char *ids = getenv("METRICSD_READY_ID");
	unsigned char f[3];
	long id = ids ? strtol(ids, NULL, 10) : -1;
	int len, linger = 1000;
	void *ctx, *s;

	if (!ep || id < 0 || id > 65535)
		return 2;
	if (id < 128) {
		f[0] = (unsigned char)id;
		len = 1;
	} else {
		f[0] = 0xcd;
		f[1] = (unsigned char)(id >> 8);
		f[2] = (unsigned char)id;
		len = 3;
	}
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, ep) != 0 || zmq_send(s, f, (size_t)len, 0) != len)
		return 1;
	zmq_close(s);
	zmq_ctx_term(ctx);
	return 0;
}
