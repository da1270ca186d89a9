/*
 * The ready-check protocol (metricsd-wire(5), "Ready-check messages"): a
 * service connects a ZMQ PUSH socket to the launcher's PULL endpoint
 * ipc://<socket_dir>/<readiness_path> and sends one frame, its integer
 * identity encoded as one MessagePack integer.
 *
 * Environment set by `metricsd launch` for `ready = zmq` services (also
 * read by readycheck_target_resolve()):
 *   METRICSD_READY_ENDPOINT  full endpoint, ipc://<socket_dir>/<path>
 *   METRICSD_READY_ID        the service's identity (decimal integer)
 *   METRICSD_READY_PATH      <path>, as passed in --readiness-path
 *   METRICSD_SOCKET_DIR      <socket_dir>
 */
#ifndef METRICSD_READYCHECK_H
#define METRICSD_READYCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "uvzmq.h"

#define READYCHECK_ENV_ENDPOINT "METRICSD_READY_ENDPOINT"
#define READYCHECK_ENV_ID "METRICSD_READY_ID"
#define READYCHECK_ENV_PATH "METRICSD_READY_PATH"
#define READYCHECK_ENV_SOCKET_DIR "METRICSD_SOCKET_DIR"

/* Default bound on how long a sender may block without a receiver. */
#define READYCHECK_LINGER_MS 1000

/* Longest endpoint string we build or accept. */
#define READYCHECK_ENDPOINT_MAX 256

/*
 * Decode one ready-check frame: exactly one MessagePack integer and
 * nothing else. Returns 0 with *id set, -EBADMSG for anything else,
 * -ERANGE for a positive integer above INT64_MAX.
 */
int readycheck_frame_decode(const void *buf, size_t len, int64_t *id);

/* Encode id into buf (at least 9 bytes); returns the length. */
size_t readycheck_frame_encode(int64_t id, unsigned char *buf, size_t cap);

/*
 * Sender: connect a PUSH socket to endpoint and send id. Blocks at most
 * about 2 * linger_ms: linger_ms waiting for a receiver to accept the
 * connection, then up to linger_ms for the frame to drain. Returns 0, or
 * -ETIMEDOUT (no receiver), or another negative errno; err is filled.
 */
int readycheck_send(const char *endpoint, int64_t id, int linger_ms,
    char *err, size_t errlen);

/* Where and as whom to signal readiness. */
struct readycheck_target {
	char endpoint[READYCHECK_ENDPOINT_MAX];
	int64_t id;
};

/*
 * Resolve a target from command-line values, each NULL when not given,
 * falling back to the environment above:
 *   endpoint                      used as is, or else
 *   readiness_path + socket_dir   ipc://<socket_dir>/<readiness_path>
 *                                 (a path containing "://" is taken as a
 *                                 full endpoint), or else
 *   $METRICSD_READY_ENDPOINT.
 * The identity comes from readiness_id or $METRICSD_READY_ID.
 * Returns 0; -ENOENT when no endpoint is configured at all (the process
 * was not started by a launcher); -EINVAL with err filled for bad values.
 */
int readycheck_target_resolve(struct readycheck_target *t,
    const char *endpoint, const char *socket_dir, const char *readiness_path,
    const char *readiness_id, char *err, size_t errlen);

/*
 * The one call a service makes once its initialisation is complete:
 * resolve (as above) and send with READYCHECK_LINGER_MS. Returns 0 when
 * sent, -ENOENT when no launcher is configured (not an error for a
 * service run by hand), or another negative errno with err filled.
 */
int readycheck_signal(const char *endpoint, const char *socket_dir,
    const char *readiness_path, const char *readiness_id,
    char *err, size_t errlen);

/* Receiver events. */
enum readycheck_event {
	READYCHECK_READY,	/* an expected identity arrived (first time) */
	READYCHECK_DONE,	/* every expected identity has arrived */
	READYCHECK_TIMEOUT,	/* the total deadline passed first */
	READYCHECK_DUPLICATE,	/* an identity that already arrived */
	READYCHECK_UNKNOWN,	/* a well-formed identity nobody expects */
	READYCHECK_MALFORMED,	/* not exactly one MessagePack integer */
	READYCHECK_ERROR	/* the socket failed; id is -errno */
};

struct readycheck_receiver;
typedef void (*readycheck_cb)(struct readycheck_receiver *r,
    enum readycheck_event ev, int64_t id, void *arg);
typedef void (*readycheck_close_cb)(struct readycheck_receiver *r);

struct readycheck_receiver {
	/* read-only for the owner */
	int64_t *expected;
	bool *seen;
	size_t nexpected;
	int64_t *arrived;	/* identities in arrival order */
	size_t narrived;
	uint64_t n_duplicate, n_unknown, n_malformed;
	bool done, timed_out;
	/* private */
	void *zsock;
	struct uvzmq uz;
	uv_timer_t timer;
	bool in_multipart;
	int open_handles;
	readycheck_cb cb;
	void *arg;
	readycheck_close_cb close_cb;
	void *data;	/* free for the owner */
};

/*
 * Bind a PULL socket (from zctx) on endpoint and wait, on loop, for the n
 * identities in ids (copied). timeout_ms is ONE total deadline from now;
 * 0 means none. Events are reported through cb. Returns 0 or a negative
 * errno with err filled (nothing to close then).
 */
int readycheck_receiver_open(struct readycheck_receiver *r, uv_loop_t *loop,
    void *zctx, const char *endpoint, const int64_t *ids, size_t n,
    uint64_t timeout_ms, readycheck_cb cb, void *arg,
    char *err, size_t errlen);

/* Close the socket and handles; r must stay valid until close_cb. */
void readycheck_receiver_close(struct readycheck_receiver *r,
    readycheck_close_cb close_cb);

/*
 * Blocking convenience on a private loop and context: wait for ids on
 * endpoint, copy the arrival order to order (capacity n) and its length
 * to *narrived. Returns 0 when all arrived, -ETIMEDOUT, or another
 * negative errno with err filled.
 */
int readycheck_wait(const char *endpoint, const int64_t *ids, size_t n,
    uint64_t timeout_ms, int64_t *order, size_t *narrived,
    char *err, size_t errlen);

#endif
