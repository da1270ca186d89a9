/* The listening socket of serve's HTTP server; see http_listen.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_listen.h"

/* Split "host:port" / "[v6]:port"; host and port point into buf. */
static int
split_listen(char *buf, char **host, char **port)
{
	char *colon;

	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		*host = buf + 1;
		*port = end + 2;
	} else {
		if (!(colon = strrchr(buf, ':')))
			return -EINVAL;
		*colon = '\0';
		*host = buf;
		*port = colon + 1;
	}
	if (!**host || !**port || strlen(*port) > 5 ||
	    strspn(*port, "0123456789") != strlen(*port) ||
	    strtoul(*port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

int
http_listen_open(const char *addr, int backlog, int *fd, char *err,
    size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	char buf[256], *host, *port;
	int r, e = 0, one = 1;

	if (strlen(addr) >= sizeof(buf) ||
	    split_listen(strcpy(buf, addr), &host, &port) < 0) {
		snprintf(err, errlen, "listen address '%s': expected ADDR:PORT "
		    "or [IPV6]:PORT with a port in 0..65535", addr);
		return -EINVAL;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen address '%s': %s", addr,
		    gai_strerror(r));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		*fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (*fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Only a client that has sent something is accepted at once
		 * (one that stays silent, after a second); best effort. */
		setsockopt(*fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
		    sizeof(one));
		if (bind(*fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(*fd, backlog) == 0)
			break;
		e = errno;
		close(*fd);
		*fd = -1;
	}
	freeaddrinfo(res);
	if (!ai) {
		snprintf(err, errlen, "bind %s: %s", addr, strerror(e));
		return -e;
	}
	return 0;
}

void
http_listen_address(int fd, char *buf, size_t buflen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(buf, buflen, "?");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
		snprintf(buf, buflen, "[%s]:%u", a, port);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
		snprintf(buf, buflen, "%s:%u", a, port);
	}
}
