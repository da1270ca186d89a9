/* Non-blocking, bounded output for launch (see launch_out.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch_out.h"

int
launch_out_open(struct launch_out *o, uv_loop_t *loop, int fd)
{
	struct stat st;
	char path[64];
	int nfd;

	memset(o, 0, sizeof(*o));
	o->fd = o->orig = fd;
	o->saved = -1;
	o->mode = OUT_BLOCKING;
	if (!(o->buf = malloc(LAUNCH_OUT_CAP)))
		return -ENOMEM;
	if (fstat(fd, &st) != 0) {
		o->broken = true;
		return 0;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		o->mode = OUT_FILE;
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		o->mode = OUT_SOCKET;
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (nfd < 0)
			return 0;	/* OUT_BLOCKING */
		/* The original stays available (for COMMAND); ours takes its
		 * number, so every write of ours to fd, logging included,
		 * is non-blocking. */
		if ((o->saved = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
		    dup2(nfd, fd) < 0) {
			if (o->saved >= 0)
				close(o->saved);
			o->saved = -1;
			close(nfd);
			return 0;	/* OUT_BLOCKING */
		}
		close(nfd);
		o->mode = OUT_REOPENED;
	}
	if (uv_poll_init(loop, &o->poll, o->fd) == 0) {
		o->poll.data = o;
		o->poll_open = true;
	}
	return 0;
}

/* One non-blocking write attempt: bytes written, or -errno. */
static ssize_t
try_write(struct launch_out *o, const char *p, size_t n)
{
	ssize_t w;

	do {
		if (o->mode == OUT_SOCKET)
			w = send(o->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(o->fd, p, n);
	} while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : w;
}

static void on_writable(uv_poll_t *h, int status, int events);

static void
flush(struct launch_out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t w = try_write(o, o->buf + off, o->len - off);

		if (w == -EAGAIN)
			break;
		if (w <= 0) {
			/* Our output is gone for good (EPIPE...): drop all. */
			o->broken = true;
			o->dropped += o->len - off;
			off = o->len;
			break;
		}
		off += (size_t)w;
	}
	memmove(o->buf, o->buf + off, o->len - off);
	o->len -= off;
	if (o->len > 0 && !o->polling && o->poll_open) {
		o->polling = true;
		uv_poll_start(&o->poll, UV_WRITABLE, on_writable);
	} else if (o->len == 0 && o->polling) {
		o->polling = false;
		uv_poll_stop(&o->poll);
	}
}

static void
on_writable(uv_poll_t *h, int status, int events)
{
	struct launch_out *o = h->data;

	(void)events;
	if (status < 0) {
		o->broken = true;
		o->dropped += o->len;
		o->len = 0;
	}
	flush(o);
}

void
launch_out_write(struct launch_out *o, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w = 0;

	if (o->broken) {
		o->dropped += n;
		o->dropped_writes++;
		return;
	}
	if (o->mode == OUT_FILE || o->mode == OUT_BLOCKING) {
		/* Cannot stall (a file), or cannot be helped: plain writes. */
		while (n > 0 && (w = try_write(o, c, n)) > 0) {
			c += w;
			n -= (size_t)w;
		}
		if (n > 0) {
			o->broken = w != -EAGAIN;
			o->dropped += n;
			o->dropped_writes++;
		}
		return;
	}
	/* Keep order: nothing goes out before what is pending. */
	if (o->len == 0) {
		w = try_write(o, c, n);
		if (w > 0) {
			c += w;
			n -= (size_t)w;
		} else if (w < 0 && w != -EAGAIN) {
			o->broken = true;
			o->dropped += n;
			o->dropped_writes++;
			return;
		}
		if (n == 0)
			return;
		/* A partly written line must be finished, so its rest is
		 * kept even past the cap (at most one line). */
		if (w > 0 || n <= LAUNCH_OUT_CAP) {
			memcpy(o->buf, c, n < LAUNCH_OUT_CAP ? n : LAUNCH_OUT_CAP);
			o->len = n < LAUNCH_OUT_CAP ? n : LAUNCH_OUT_CAP;
			o->dropped += n - o->len;
			flush(o);
			return;
		}
	}
	if (o->len + n > LAUNCH_OUT_CAP) {
		o->dropped += n;
		o->dropped_writes++;
		return;
	}
	memcpy(o->buf + o->len, c, n);
	o->len += n;
	flush(o);
}

void
launch_out_close(struct launch_out *o)
{
	if (!o->buf)
		return;
	if (o->len > 0 && !o->broken)
		flush(o);
	o->dropped += o->len;
	o->len = 0;
	if (o->poll_open) {
		o->poll_open = false;
		o->polling = false;
		uv_close((uv_handle_t *)&o->poll, NULL);
	}
	free(o->buf);
	o->buf = NULL;
}
