/*
 * uvzmq: receive from a ZeroMQ socket on a libuv loop.
 *
 * One struct uvzmq watches one ZMQ socket. Every received frame is handed
 * to the owner's callback; at most `budget` frames per loop iteration, so
 * one busy socket cannot starve the loop. The owner keeps the ZMQ socket:
 * uvzmq never closes it.
 *
 * Rule for owners: after sending on a watched socket from outside the
 * uvzmq callback (a timer, another socket's callback...), call
 * uvzmq_rearm(). See uvzmq.c for why.
 */
#ifndef METRICSD_UVZMQ_H
#define METRICSD_UVZMQ_H

#include <stdbool.h>

#include <uv.h>
#include <zmq.h>

struct uvzmq;

/*
 * Called once per received frame. msg is valid only during the call (the
 * callee may zmq_msg_move it away). A NULL msg reports a receive error
 * (uvzmq_error() tells which); the watcher is stopped after it. The
 * callback may send on any socket, call uvzmq_rearm() or uvzmq_close().
 */
typedef void (*uvzmq_msg_cb)(struct uvzmq *z, zmq_msg_t *msg, void *arg);
typedef void (*uvzmq_close_cb)(struct uvzmq *z);

#define UVZMQ_BUDGET_DEFAULT 256

struct uvzmq {
	/* private */
	uv_poll_t poll;
	uv_idle_t idle;
	void *zsock;
	uvzmq_msg_cb cb;
	void *arg;
	unsigned budget;
	int error;
	int open_handles;
	bool closing;
	bool in_drain;
	uvzmq_close_cb close_cb;
	void *data;	/* free for the owner */
};

/*
 * Start watching zsock. budget: frames delivered per loop iteration
 * before yielding (0 means UVZMQ_BUDGET_DEFAULT). Returns 0 or a negative
 * errno / UV_E* code with err filled.
 */
int uvzmq_init(struct uvzmq *z, uv_loop_t *loop, void *zsock, unsigned budget,
    uvzmq_msg_cb cb, void *arg, char *err, size_t errlen);

/* Schedule a re-check of ZMQ_EVENTS on the next loop iteration. Call it
 * after every send on the watched socket made outside the callback. */
void uvzmq_rearm(struct uvzmq *z);

/* zmq_send on the watched socket, then uvzmq_rearm(). Returns bytes sent
 * or -errno. */
int uvzmq_send(struct uvzmq *z, const void *buf, size_t len, int flags);

/*
 * Stop watching and close the libuv handles. No callback runs after this
 * returns, and the owner may zmq_close() the socket right away; the
 * struct must stay valid until close_cb (may be NULL) runs.
 */
void uvzmq_close(struct uvzmq *z, uvzmq_close_cb close_cb);

/* The last receive error as -errno, or 0. */
int uvzmq_error(const struct uvzmq *z);

/*
 * A new ZMQ context and a SUB socket in it, subscribed to everything and
 * connecting to endpoint, as aggregate and record receive: RCVHWM 0 (never
 * drop a frame), LINGER 0 (nothing to flush on a SUB). *ctx and *sub are
 * set as soon as each exists, also on failure, for the owner to close.
 * Returns 0, or -errno with err filled ("cannot connect to ENDPOINT: ...").
 */
int uvzmq_sub_open(void **ctx, void **sub, const char *endpoint, char *err,
    size_t errlen);

#endif
