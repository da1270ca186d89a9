/* The systemd notification protocol, sender and receiver. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

int
sdnotify_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int one = 1, fd, r, e;
	mode_t old;

	if (n >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "notify socket path %s is too long "
		    "(limit %zu bytes)", path, sizeof(a.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, path, n + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		e = errno;
		snprintf(err, errlen, "notify socket: %s", strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	unlink(path);
	old = umask(077);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	e = errno;
	umask(old);
	if (r != 0) {
		snprintf(err, errlen, "bind notify socket %s: %s", path,
		    strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int
sdnotify_recv(int fd, struct sdnotify_msg *m)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(16 * sizeof(int))];
	} ctl;
	struct iovec iov = { m->data, sizeof(m->data) - 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	ssize_t n;

	m->len = 0;
	m->has_cred = m->truncated = false;
	do
		n = recvmsg(fd, &h, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred u;

			memcpy(&u, CMSG_DATA(c), sizeof(u));
			m->has_cred = true;
			m->pid = u.pid;
			m->uid = u.uid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t j = 0; j < nfd; j++) {
				int pfd;

				memcpy(&pfd, CMSG_DATA(c) + j * sizeof(int),
				    sizeof(pfd));
				close(pfd);
			}
		}
	}
	m->truncated = (h.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	m->len = (size_t)n;
	m->data[m->len] = '\0';
	return 1;
}

const char *
sdnotify_next_line(struct sdnotify_msg *m, size_t *pos)
{
	while (*pos < m->len) {
		char *line = m->data + *pos, *nl = memchr(line, '\n',
		    m->len - *pos);
		size_t l = nl ? (size_t)(nl - line) : m->len - *pos;

		if (nl)
			*nl = '\0';
		*pos += l + 1;
		if (l > 0)
			return line;
	}
	return NULL;
}
