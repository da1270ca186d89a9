/*
 * uvzmq: ZeroMQ sockets on a libuv loop.
 *
 * Why this is more than a uv_poll_t on ZMQ_FD. The descriptor libzmq hands
 * out (ZMQ_FD) is not the socket's data channel: it is the socket's
 * internal command mailbox, and it behaves as an edge-triggered signal.
 * It becomes readable when "something changed" (a message arrived, the
 * socket became writable, a peer connected) and libzmq itself clears it
 * whenever it processes its commands, which happens inside zmq_getsockopt
 * (ZMQ_EVENTS), zmq_recv and zmq_send. Two consequences:
 *
 *  1. A wakeup says nothing about how many messages are queued. If we read
 *     one message and go back to sleep, the descriptor may already have
 *     been cleared while more messages wait: nothing will ever wake us
 *     again for them. So after every wakeup we receive until a
 *     non-blocking receive says EAGAIN: that receive has processed the
 *     pending commands and retried (what ZMQ_EVENTS would do), so the
 *     socket is then known to be empty and ZMQ_FD will signal new input.
 *     Not asking ZMQ_EVENTS before every frame saves two system calls per
 *     frame (libzmq's fork check and mailbox poll), the largest cost of a
 *     busy subscriber after decoding.
 *
 *  2. Any zmq_send or zmq_recv on the socket, including ones made from
 *     other callbacks, may clear the descriptor and swallow the edge for
 *     newly arrived input. So after every send or receive the owner must
 *     re-check ZMQ_EVENTS. Inside our own drain loop that happens
 *     naturally (we receive until EAGAIN); elsewhere the
 *     owner calls uvzmq_rearm(), which schedules a drain on the next loop
 *     iteration.
 *
 * The descriptor also fires for writability, so a wakeup with no
 * ZMQ_POLLIN is normal and simply ignored.
 *
 * Fairness: one drain delivers at most `budget` frames. After that, a
 * uv_idle_t is started so the loop
 * polls its other handles without blocking and calls us again next
 * iteration; the idle handle is stopped as soon as the socket is empty,
 * so an idle socket costs nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uvzmq.h"

static void
fail(struct uvzmq *z, int e)
{
	z->error = -e;
	uv_poll_stop(&z->poll);
	uv_idle_stop(&z->idle);
	z->cb(z, NULL, z->arg);
}

static void
drain(struct uvzmq *z)
{
	unsigned n = 0;
	zmq_msg_t m;

	/* A callback calling uvzmq_rearm() must not recurse into us. */
	if (z->closing || z->in_drain)
		return;
	z->in_drain = true;
	/* One message for the whole drain: zmq_msg_recv releases what it
	 * held before it receives into it. */
	zmq_msg_init(&m);
	while (!z->closing) {
		if (n == z->budget) {
			/* Yield to the loop; the idle handle brings us back. */
			uvzmq_rearm(z);
			break;
		}
		if (zmq_msg_recv(&m, z->zsock, ZMQ_DONTWAIT) < 0) {
			int e = errno;

			if (e == EAGAIN) {
				/*
				 * A non-blocking receive that finds nothing has
				 * processed the socket's pending commands and
				 * retried, just as ZMQ_EVENTS would: the socket
				 * is empty and ZMQ_FD will signal new input.
				 */
				uv_idle_stop(&z->idle);
				break;
			}
			if (e == EINTR) {
				uvzmq_rearm(z);
				break;
			}
			fail(z, e);
			break;
		}
		n++;
		z->cb(z, &m, z->arg);
	}
	zmq_msg_close(&m);
	z->in_drain = false;
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct uvzmq *z = h->data;

	(void)events;
	if (status < 0) {
		fail(z, -status);
		return;
	}
	/* A pending idle drain comes first in the next iteration anyway;
	 * skipping here keeps it to one batch per loop iteration. */
	if (uv_is_active((uv_handle_t *)&z->idle))
		return;
	drain(z);
}

static void
on_idle(uv_idle_t *h)
{
	drain(h->data);
}

int
uvzmq_init(struct uvzmq *z, uv_loop_t *loop, void *zsock, unsigned budget,
    uvzmq_msg_cb cb, void *arg, char *err, size_t errlen)
{
	int fd = -1, r;
	size_t sz = sizeof(fd);

	memset(z, 0, sizeof(*z));
	z->zsock = zsock;
	z->cb = cb;
	z->arg = arg;
	z->budget = budget ? budget : UVZMQ_BUDGET_DEFAULT;
	if (zmq_getsockopt(zsock, ZMQ_FD, &fd, &sz) != 0) {
		r = -errno;
		snprintf(err, errlen, "zmq_getsockopt ZMQ_FD: %s", zmq_strerror(-r));
		return r;
	}
	if ((r = uv_poll_init(loop, &z->poll, fd)) < 0) {
		snprintf(err, errlen, "uv_poll_init fd %d: %s", fd, uv_strerror(r));
		return r;
	}
	z->poll.data = z;
	uv_idle_init(loop, &z->idle);
	z->idle.data = z;
	z->open_handles = 2;
	if ((r = uv_poll_start(&z->poll, UV_READABLE, on_poll)) < 0) {
		snprintf(err, errlen, "uv_poll_start fd %d: %s", fd, uv_strerror(r));
		uvzmq_close(z, NULL);
		return r;
	}
	/* Messages queued before we started watching raised their edge
	 * already: drain once on the first iteration. */
	uvzmq_rearm(z);
	return 0;
}

void
uvzmq_rearm(struct uvzmq *z)
{
	if (!z->closing)
		uv_idle_start(&z->idle, on_idle);
}

int
uvzmq_send(struct uvzmq *z, const void *buf, size_t len, int flags)
{
	int n = zmq_send(z->zsock, buf, len, flags);
	int e = errno;

	uvzmq_rearm(z);
	return n < 0 ? -e : n;
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct uvzmq *z = h->data;

	if (--z->open_handles == 0 && z->close_cb)
		z->close_cb(z);
}

void
uvzmq_close(struct uvzmq *z, uvzmq_close_cb close_cb)
{
	if (z->closing)
		return;
	z->closing = true;
	z->close_cb = close_cb;
	uv_poll_stop(&z->poll);
	uv_idle_stop(&z->idle);
	uv_close((uv_handle_t *)&z->poll, on_handle_closed);
	uv_close((uv_handle_t *)&z->idle, on_handle_closed);
}

int
uvzmq_error(const struct uvzmq *z)
{
	return z->error;
}

int
uvzmq_sub_open(void **ctx, void **sub, const char *endpoint, char *err,
    size_t errlen)
{
	const char *what;
	int zero = 0, e;

	*sub = NULL;
	if (!(*ctx = zmq_ctx_new())) {
		what = "zmq_ctx_new";
		goto fail;
	}
	if (!(*sub = zmq_socket(*ctx, ZMQ_SUB))) {
		what = "zmq_socket(SUB)";
		goto fail;
	}
	if (zmq_setsockopt(*sub, ZMQ_RCVHWM, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(*sub, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(*sub, ZMQ_SUBSCRIBE, "", 0) < 0) {
		what = "setting SUB socket options";
		goto fail;
	}
	if (zmq_connect(*sub, endpoint) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot connect to %s: %s", endpoint,
		    zmq_strerror(e));
		return -e;
	}
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "%s: %s", what, zmq_strerror(e));
	return -e;
}
