/*
 * A small HTTP server inside a libuv loop: it accepts connections itself
 * and enforces its connection limits (by eviction, see http.c), and
 * libmicrohttpd does the HTTP (parsing, memory limits, idle timeouts) with
 * no thread of its own; its epoll descriptor is watched by a uv_poll and
 * its timeouts by a uv_timer.
 *
 * Routes are exact paths answering GET (and HEAD, which HTTP requires
 * wherever GET is allowed); any other path is 404 and any other method
 * on a known path is 405 with an Allow header.
 *
 * Every answer says Cache-Control: no-store (figures are live),
 * X-Content-Type-Options: nosniff (the type given is the type meant) and
 * HTTP_CSP as its Content-Security-Policy: the dashboard page loads its
 * script, style and data from this server only, and nothing may frame it.
 *
 * Library code: nothing here prints or exits; libmicrohttpd's own
 * messages go to the log callback given at start.
 */
#ifndef METRICSD_HTTP_H
#define METRICSD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* The Content-Security-Policy of every answer (see above). */
#define HTTP_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

/* A request whose answer is being made elsewhere (see http_route.start). */
struct http_pending;

/*
 * A route handler: fill *body (malloc'd; the server frees it) and *len,
 * return the HTTP status (200, or 500 with an explanation in the body).
 *
 * Or, for an answer that takes long to make, start instead of get: the
 * request is suspended (the loop goes on serving everyone else), start
 * returns 0 at once, and the answer is given later, on the loop's thread,
 * with http_pending_done (exactly once per started request, even if the
 * server was closed meanwhile). start returning < 0 answers 500 at once.
 */
struct http_route {
	const char *path;
	const char *content_type;
	int (*get)(void *arg, char **body, size_t *len);
	void *arg;
	int (*start)(void *arg, struct http_pending *p);
	/* Or neither: a fixed body (200), not copied; it must outlive the
	 * server (an asset embedded in the binary). */
	const void *body;
	size_t body_len;
};

/*
 * Answer a started request with status and body b, which may answer
 * several (kept once however many connections are sending it): the
 * request takes a reference to b; NULL answers 500. If its connection is
 * gone (the client left, or the server was closed), it takes none.
 * http_body_new takes data (malloc'd; freed with the last reference, or
 * at once if it fails, which returns NULL); http_body_unref drops the
 * caller's reference.
 */
struct http_body;
struct http_body *http_body_new(char *data, size_t len);
void http_body_unref(struct http_body *b);
void http_pending_done(struct http_pending *p, int status,
    struct http_body *b);

/*
 * Limits that keep slow or hostile clients from blocking the others. At
 * either connection limit a newcomer is not refused: the connection that
 * has gone longest without a complete request is closed to make room
 * (from the newcomer's own address at the per-address limit), or if none
 * waits, the one whose answer has stalled longest (200 ms at least); if
 * none can be closed yet, the newcomer waits its turn, up to
 * head_timeout_ms. See the top comment of http.c for the whole policy.
 */
struct http_limits {
	unsigned max_conns;		/* all clients together */
	unsigned max_conns_per_ip;	/* one client address */
	unsigned timeout_s;		/* idle timeout, and request deadline */
	size_t conn_memory;		/* per connection: headers and buffers */
	unsigned head_timeout_ms;	/* first request deadline; 0: default */
};

/* A new connection's first request must be in within this (or timeout_s
 * if shorter). */
#define HTTP_HEAD_TIMEOUT_MS 1000

#define HTTP_LIMITS_DEFAULT { 64, 8, 5, 32 * 1024, HTTP_HEAD_TIMEOUT_MS }

struct http_server;

/*
 * Load libmicrohttpd the first time (http_mhd.h: -ELIBACC or -ELIBBAD
 * when it cannot be), parse "ADDR:PORT" ("[v6]:PORT" for IPv6; ADDR may
 * be a host name), bind and listen, and start serving in loop. Raises
 * the process's soft RLIMIT_NOFILE to its hard limit, and lowers
 * max_conns (saying so through log) if even that cannot hold the
 * connections the limits allow. Returns 0 or a negative errno with err
 * set ("bind 127.0.0.1:80: Permission denied").
 */
int http_server_start(struct http_server **out, uv_loop_t *loop,
    const char *addr, const struct http_limits *lim,
    const struct http_route *routes, size_t nroutes,
    void (*log)(const char *msg), char *err, size_t errlen);

/* The bound address as "ADDR:PORT" (the real port when 0 was asked). */
const char *http_server_address(const struct http_server *s);

/*
 * Stop accepting, close every connection, release the loop handles; the
 * memory is freed once the loop has run their close callbacks.
 */
void http_server_close(struct http_server *s);

#endif
