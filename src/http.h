/*
 * A small HTTP server inside a libuv loop: libmicrohttpd does the HTTP
 * (parsing, limits, timeouts) with no thread of its own; its epoll
 * descriptor is watched by a uv_poll and its timeouts by a uv_timer.
 *
 * Routes are exact paths answering GET (and HEAD, which HTTP requires
 * wherever GET is allowed); any other path is 404 and any other method
 * on a known path is 405 with an Allow header.
 *
 * Library code: nothing here prints or exits; libmicrohttpd's own
 * messages go to the log callback given at start.
 */
#ifndef METRICSD_HTTP_H
#define METRICSD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/*
 * A route handler: fill *body (malloc'd; the server frees it) and *len,
 * return the HTTP status (200, or 500 with an explanation in the body).
 */
struct http_route {
	const char *path;
	const char *content_type;
	int (*get)(void *arg, char **body, size_t *len);
	void *arg;
};

/* Limits that keep slow or hostile clients from blocking the others. */
struct http_limits {
	unsigned max_conns;		/* all clients together */
	unsigned max_conns_per_ip;	/* one client address */
	unsigned timeout_s;		/* idle timeout, and request deadline */
	size_t conn_memory;		/* per connection: headers and buffers */
};

#define HTTP_LIMITS_DEFAULT { 64, 8, 5, 32 * 1024 }

struct http_server;

/*
 * Parse "ADDR:PORT" ("[v6]:PORT" for IPv6; ADDR may be a host name),
 * bind and listen, and start serving in loop. Returns 0 or a negative
 * errno with err set ("bind 127.0.0.1:80: Permission denied").
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
