/*
 * The listening socket of serve's HTTP server: parse ADDR:PORT or
 * [IPV6]:PORT, bind and listen (non-blocking, close-on-exec, with
 * TCP_DEFER_ACCEPT where the kernel has it), and say where it listens.
 */
#ifndef METRICSD_HTTP_LISTEN_H
#define METRICSD_HTTP_LISTEN_H

#include <stddef.h>

/*
 * Listen on addr with the given backlog; *fd is the socket. 0, or
 * -EINVAL (a bad address) or a negative errno (socket, bind, listen)
 * with "what failed: why" in err.
 */
int http_listen_open(const char *addr, int backlog, int *fd, char *err,
    size_t errlen);

/* The address fd listens on, as ADDR:PORT or [IPV6]:PORT ("?" if unknown). */
void http_listen_address(int fd, char *buf, size_t len);

#endif
