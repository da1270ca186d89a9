/* The systemd notification protocol, sender side. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

int
sdnotify_send(const char *state, char *err, size_t errlen)
{
	const char *path = getenv(SDNOTIFY_ENV);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;
	ssize_t sent;
	int fd, e;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s '%s': not an absolute path or "
		    "@abstract name that fits a socket address", SDNOTIFY_ENV,
		    path);
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, len);
	/* Abstract names start with a NUL byte and are not NUL-terminated. */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: socket: %s", SDNOTIFY_ENV,
		    strerror(e));
		return -e;
	}
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, salen);
	e = errno;
	close(fd);
	if (sent < 0) {
		snprintf(err, errlen, "%s %s: sending '%s': %s", SDNOTIFY_ENV,
		    path, state, strerror(e));
		return -e;
	}
	return 1;
}
