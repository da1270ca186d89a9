/*
 * Readiness by polling, for services that speak no readiness protocol
 * (model servers: vLLM, SGLang and TGI expose GET /health):
 *   tcp://HOST:PORT        ready when a TCP connect succeeds;
 *   http://HOST:PORT/PATH  ready when GET PATH answers 2xx.
 * Everything runs on the caller's libuv loop: the first attempt at once,
 * then one every 50 ms, doubling up to 500 ms; each attempt is bounded
 * (LAUNCH_PROBE_ATTEMPT_MS); the overall deadline is the caller's.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_PROBE_H
#define METRICSD_LAUNCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <uv.h>

#include "launch_config.h"

#define LAUNCH_PROBE_ATTEMPT_MS 1000
#define LAUNCH_PROBE_BACKOFF_MIN_MS 50
#define LAUNCH_PROBE_BACKOFF_MAX_MS 500
#define LAUNCH_PROBE_ADDRS 4

struct launch_probe {
	uv_loop_t *loop;
	enum launch_ready kind;		/* LAUNCH_READY_TCP or _HTTP */
	struct sockaddr_storage addr[LAUNCH_PROBE_ADDRS];
	size_t naddr, next;		/* addresses; the one to try next */
	char req[LAUNCH_URL_PATH_MAX + LAUNCH_HOST_MAX + 128];
	size_t reqlen;
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_write_t wr;
	uv_timer_t timer;		/* attempt bound, then back-off */
	char resp[32];
	size_t resplen;
	unsigned backoff_ms;
	unsigned attempts;
	bool tcp_open, timer_open, running, done, stopped;
	char last_error[128];		/* why the last attempt failed */
	void (*on_ready)(struct launch_probe *p);
	void (*on_closed)(struct launch_probe *p);
	void *data;
};

/*
 * Resolve u (blocking getaddrinfo: call before the loop runs) into p's
 * addresses, and prepare the request. Returns 0, or a negative errno
 * with err set ("host: why").
 */
int launch_probe_init(struct launch_probe *p, enum launch_ready kind,
    const struct launch_url *u, char *err, size_t errlen);

/* Start polling on loop; on_ready is called once, when an attempt
 * succeeds, and polling stops then. Returns 0 or a negative UV error. */
int launch_probe_start(struct launch_probe *p, uv_loop_t *loop,
    void (*on_ready)(struct launch_probe *p));

/* Stop polling and close every handle; on_closed (may be NULL) is
 * called once all are closed. Calls after the first do nothing. On a
 * probe never started, on_closed is called at once. */
void launch_probe_stop(struct launch_probe *p,
    void (*on_closed)(struct launch_probe *p));

#endif
