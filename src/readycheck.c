/* The ready-check protocol: sender, target resolution and receiver. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <msgpack.h>
#include <uv.h>
#include <zmq.h>

#include "readycheck.h"

/*
 * First bytes of the MessagePack integer encodings. Checked before
 * msgpack_unpack_next() sees the frame: a hostile 5-byte frame declaring
 * an array of 2^32 elements would otherwise make msgpack-c allocate the
 * element table up front.
 */
static bool
int_lead(unsigned char b)
{
	return b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xcf) ||
	    (b >= 0xd0 && b <= 0xd3);
}

int
readycheck_frame_decode(const void *buf, size_t len, int64_t *id)
{
	msgpack_unpacked u;
	size_t off = 0;
	int r = -EBADMSG;

	/* The widest integer encoding is 9 bytes. */
	if (len == 0 || len > 9 || !int_lead(((const unsigned char *)buf)[0]))
		return -EBADMSG;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS &&
	    off == len) {
		if (u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (u.data.via.u64 > INT64_MAX) {
				r = -ERANGE;
			} else {
				*id = (int64_t)u.data.via.u64;
				r = 0;
			}
		} else if (u.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			*id = u.data.via.i64;
			r = 0;
		}
	}
	msgpack_unpacked_destroy(&u);
	return r;
}

struct fixbuf {
	unsigned char *p;
	size_t len, cap;
};

static int
fixbuf_write(void *data, const char *buf, size_t len)
{
	struct fixbuf *f = data;

	if (len > f->cap - f->len)
		return -1;
	memcpy(f->p + f->len, buf, len);
	f->len += len;
	return 0;
}

size_t
readycheck_frame_encode(int64_t id, unsigned char *buf, size_t cap)
{
	struct fixbuf f = { buf, 0, cap };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &f, fixbuf_write);
	if (msgpack_pack_int64(&pk, id) != 0)
		return 0;
	return f.len;
}

int
readycheck_send(const char *endpoint, int64_t id, int linger_ms,
    char *err, size_t errlen)
{
	unsigned char frame[16];
	size_t len = readycheck_frame_encode(id, frame, sizeof(frame));
	int one = 1, r = 0;
	void *ctx, *sock;

	if (linger_ms < 0)
		linger_ms = READYCHECK_LINGER_MS;
	if (!(ctx = zmq_ctx_new())) {
		r = -errno;
		snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(-r));
		return r;
	}
	if (!(sock = zmq_socket(ctx, ZMQ_PUSH))) {
		r = -errno;
		snprintf(err, errlen, "zmq_socket PUSH: %s", zmq_strerror(-r));
		goto out_ctx;
	}
	/*
	 * ZMQ_IMMEDIATE: queue only on completed connections, so with no
	 * receiver the send times out after SNDTIMEO (and we can say so)
	 * instead of parking the frame in a pipe nobody reads. LINGER then
	 * bounds how long closing waits for the frame to drain.
	 */
	if (zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &linger_ms, sizeof(linger_ms)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_LINGER, &linger_ms, sizeof(linger_ms)) != 0) {
		r = -errno;
		snprintf(err, errlen, "zmq_setsockopt: %s", zmq_strerror(-r));
		goto out_sock;
	}
	if (zmq_connect(sock, endpoint) != 0) {
		r = -errno;
		snprintf(err, errlen, "connect to %s: %s", endpoint, zmq_strerror(-r));
		goto out_sock;
	}
	for (;;) {
		if (zmq_send(sock, frame, len, 0) >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r = -ETIMEDOUT;
			snprintf(err, errlen, "send identity %" PRId64 " to %s: "
			    "no receiver within %d ms", id, endpoint, linger_ms);
		} else {
			r = -errno;
			snprintf(err, errlen, "send identity %" PRId64 " to %s: %s",
			    id, endpoint, zmq_strerror(-r));
		}
		break;
	}
out_sock:
	zmq_close(sock);
out_ctx:
	while (zmq_ctx_term(ctx) != 0 && errno == EINTR)
		;
	return r;
}

static int
parse_id(const char *s, int64_t *id, char *err, size_t errlen)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		snprintf(err, errlen, "readiness id '%s': not a 64-bit integer", s);
		return -EINVAL;
	}
	*id = v;
	return 0;
}

static const char *
nonempty_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int
readycheck_target_resolve(struct readycheck_target *t,
    const char *endpoint, const char *socket_dir, const char *readiness_path,
    const char *readiness_id, char *err, size_t errlen)
{
	int n;

	memset(t, 0, sizeof(*t));
	if (!readiness_id)
		readiness_id = nonempty_env(READYCHECK_ENV_ID);
	if (!endpoint && readiness_path && strstr(readiness_path, "://"))
		endpoint = readiness_path;
	if (endpoint) {
		n = snprintf(t->endpoint, sizeof(t->endpoint), "%s", endpoint);
	} else if (readiness_path) {
		if (!socket_dir)
			socket_dir = nonempty_env(READYCHECK_ENV_SOCKET_DIR);
		if (!socket_dir) {
			snprintf(err, errlen, "readiness path '%s' given but no "
			    "socket directory (--socket-dir or $%s)",
			    readiness_path, READYCHECK_ENV_SOCKET_DIR);
			return -EINVAL;
		}
		n = snprintf(t->endpoint, sizeof(t->endpoint), "ipc://%s/%s",
		    socket_dir, readiness_path);
	} else if ((endpoint = nonempty_env(READYCHECK_ENV_ENDPOINT))) {
		n = snprintf(t->endpoint, sizeof(t->endpoint), "%s", endpoint);
	} else {
		snprintf(err, errlen, "no readiness endpoint: none given and $%s "
		    "is not set", READYCHECK_ENV_ENDPOINT);
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= sizeof(t->endpoint)) {
		snprintf(err, errlen, "readiness endpoint too long (%d bytes, "
		    "limit %zu)", n, sizeof(t->endpoint) - 1);
		return -EINVAL;
	}
	if (!readiness_id) {
		snprintf(err, errlen, "no readiness id: none given and $%s is not "
		    "set", READYCHECK_ENV_ID);
		return -EINVAL;
	}
	return parse_id(readiness_id, &t->id, err, errlen);
}

int
readycheck_signal(const char *endpoint, const char *socket_dir,
    const char *readiness_path, const char *readiness_id,
    char *err, size_t errlen)
{
	struct readycheck_target t;
	int r;

	r = readycheck_target_resolve(&t, endpoint, socket_dir, readiness_path,
	    readiness_id, err, errlen);
	if (r < 0)
		return r;
	return readycheck_send(t.endpoint, t.id, READYCHECK_LINGER_MS, err, errlen);
}

/* ---- receiver ---------------------------------------------------------- */

static void
emit(struct readycheck_receiver *r, enum readycheck_event ev, int64_t id)
{
	if (r->cb)
		r->cb(r, ev, id, r->arg);
}

static void
accept_id(struct readycheck_receiver *r, int64_t id)
{
	for (size_t i = 0; i < r->nexpected; i++) {
		if (r->expected[i] != id)
			continue;
		if (r->seen[i]) {
			r->n_duplicate++;
			emit(r, READYCHECK_DUPLICATE, id);
			return;
		}
		r->seen[i] = true;
		r->arrived[r->narrived++] = id;
		emit(r, READYCHECK_READY, id);
		if (r->narrived == r->nexpected && !r->done && !r->timed_out) {
			r->done = true;
			uv_timer_stop(&r->timer);
			emit(r, READYCHECK_DONE, 0);
		}
		return;
	}
	r->n_unknown++;
	emit(r, READYCHECK_UNKNOWN, id);
}

static void
on_frame(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct readycheck_receiver *r = arg;
	bool more, was_multi;
	int64_t id;
	int rc;

	if (!msg) {
		emit(r, READYCHECK_ERROR, uvzmq_error(z));
		return;
	}
	more = zmq_msg_more(msg);
	was_multi = r->in_multipart;
	r->in_multipart = more;
	/* A multipart message is malformed as a whole: report it once, at
	 * its first part. */
	if (more || was_multi) {
		if (!was_multi) {
			r->n_malformed++;
			emit(r, READYCHECK_MALFORMED, 0);
		}
		return;
	}
	rc = readycheck_frame_decode(zmq_msg_data(msg), zmq_msg_size(msg), &id);
	if (rc == -ERANGE) {
		r->n_unknown++;
		emit(r, READYCHECK_UNKNOWN, INT64_MAX);
	} else if (rc < 0) {
		r->n_malformed++;
		emit(r, READYCHECK_MALFORMED, 0);
	} else {
		accept_id(r, id);
	}
}

static void
on_timeout(uv_timer_t *t)
{
	struct readycheck_receiver *r = t->data;

	if (r->done)
		return;
	r->timed_out = true;
	emit(r, READYCHECK_TIMEOUT, 0);
}

/* The receiver's identity tables, allocated by readycheck_receiver_open. */
static void
tables_free(struct readycheck_receiver *r)
{
	free(r->expected);
	free(r->seen);
	free(r->arrived);
	r->expected = NULL;
	r->seen = NULL;
	r->arrived = NULL;
}

int
readycheck_receiver_open(struct readycheck_receiver *r, uv_loop_t *loop,
    void *zctx, const char *endpoint, const int64_t *ids, size_t n,
    uint64_t timeout_ms, readycheck_cb cb, void *arg,
    char *err, size_t errlen)
{
	int zero = 0, rc, e;
	int64_t maxmsg = 64;
	char uverr[200];
	mode_t old;

	memset(r, 0, sizeof(*r));
	if (n == 0) {
		snprintf(err, errlen, "ready-check receiver: no identities to wait for");
		return -EINVAL;
	}
	r->cb = cb;
	r->arg = arg;
	r->nexpected = n;
	r->expected = calloc(n, sizeof(*r->expected));
	r->seen = calloc(n, sizeof(*r->seen));
	r->arrived = calloc(n, sizeof(*r->arrived));
	if (!r->expected || !r->seen || !r->arrived) {
		rc = -ENOMEM;
		snprintf(err, errlen, "ready-check receiver: out of memory");
		goto fail_mem;
	}
	memcpy(r->expected, ids, n * sizeof(*ids));
	if (!(r->zsock = zmq_socket(zctx, ZMQ_PULL))) {
		rc = -errno;
		snprintf(err, errlen, "zmq_socket PULL: %s", zmq_strerror(-rc));
		goto fail_mem;
	}
	zmq_setsockopt(r->zsock, ZMQ_LINGER, &zero, sizeof(zero));
	/* A ready-check frame is at most 9 bytes: a peer sending more than
	 * 64 is disconnected by libzmq instead of being buffered. */
	zmq_setsockopt(r->zsock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	/* An ipc:// socket is made by this call, in this thread, with the
	 * umask's mode: make it ours alone whatever the umask (a socket
	 * others can connect to takes ready frames in anyone's name). */
	old = umask(077);
	rc = zmq_bind(r->zsock, endpoint);
	e = errno;
	umask(old);
	if (rc != 0) {
		rc = -e;
		snprintf(err, errlen, "bind %s: %s", endpoint, zmq_strerror(-rc));
		goto fail_sock;
	}
	if ((rc = uvzmq_init(&r->uz, loop, r->zsock, 0, on_frame, r, uverr,
	    sizeof(uverr))) < 0) {
		snprintf(err, errlen, "watch %s: %s", endpoint, uverr);
		goto fail_sock;
	}
	r->uz.data = r;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->open_handles = 2;
	if (timeout_ms > 0)
		uv_timer_start(&r->timer, on_timeout, timeout_ms, 0);
	return 0;

fail_sock:
	zmq_close(r->zsock);
fail_mem:
	tables_free(r);
	return rc;
}

static void
closed_one(struct readycheck_receiver *r)
{
	if (--r->open_handles > 0)
		return;
	tables_free(r);
	if (r->close_cb)
		r->close_cb(r);
}

static void
on_uz_closed(struct uvzmq *z)
{
	closed_one(z->data);
}

static void
on_timer_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

void
readycheck_receiver_close(struct readycheck_receiver *r,
    readycheck_close_cb close_cb)
{
	if (!r->zsock)
		return;
	r->close_cb = close_cb;
	uvzmq_close(&r->uz, on_uz_closed);
	zmq_close(r->zsock);
	r->zsock = NULL;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

/* ---- blocking convenience ---------------------------------------------- */

struct waitstate {
	int result;
	int64_t *order;
	size_t *narrived;
};

static void
wait_event(struct readycheck_receiver *r, enum readycheck_event ev,
    int64_t id, void *arg)
{
	struct waitstate *w = arg;

	if (ev == READYCHECK_DONE || ev == READYCHECK_TIMEOUT ||
	    ev == READYCHECK_ERROR) {
		/* Closing frees the arrays: copy the arrival order now. */
		memcpy(w->order, r->arrived, r->narrived * sizeof(*r->arrived));
		*w->narrived = r->narrived;
	}
	if (ev == READYCHECK_DONE) {
		w->result = 0;
		readycheck_receiver_close(r, NULL);
	} else if (ev == READYCHECK_TIMEOUT) {
		w->result = -ETIMEDOUT;
		readycheck_receiver_close(r, NULL);
	} else if (ev == READYCHECK_ERROR) {
		w->result = (int)id;
		readycheck_receiver_close(r, NULL);
	}
}

int
readycheck_wait(const char *endpoint, const int64_t *ids, size_t n,
    uint64_t timeout_ms, int64_t *order, size_t *narrived,
    char *err, size_t errlen)
{
	struct readycheck_receiver r;
	struct waitstate w = { -EINPROGRESS, order, narrived };
	uv_loop_t loop;
	void *ctx;
	int rc;

	*narrived = 0;
	if ((rc = uv_loop_init(&loop)) < 0) {
		snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(rc));
		return rc;
	}
	if (!(ctx = zmq_ctx_new())) {
		rc = -errno;
		snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(-rc));
		uv_loop_close(&loop);
		return rc;
	}
	rc = readycheck_receiver_open(&r, &loop, ctx, endpoint, ids, n,
	    timeout_ms, wait_event, &w, err, errlen);
	if (rc == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = w.result;
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "%zu of %zu identities arrived at %s "
			    "within %" PRIu64 " ms", *narrived, n, endpoint,
			    timeout_ms);
		else if (rc < 0)
			snprintf(err, errlen, "receive on %s: %s", endpoint,
			    zmq_strerror(-rc));
	}
	zmq_ctx_term(ctx);
	uv_loop_close(&loop);
	return rc;
}
