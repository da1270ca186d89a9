/*
 * The writer side of recordings: a file of whole frames (or whole JSON
 * lines), written through one large buffer. Layout: rec_format.h and
 * man/metricsd-recording.5; contract: rec.h.
 *
 * Why the file never ends inside a frame, even on a full disk. Frames go
 * into the buffer whole, and the buffer is written with write(2) from its
 * start. A full disk shows as a short write and then ENOSPC (a file size
 * limit as EFBIG): what reached the file is a prefix of the buffer, which
 * may end inside a frame. We then find the last frame boundary within
 * that prefix (walking the record headers, or the last newline in JSON
 * lines mode) and ftruncate the file back to it. Everything past it is
 * lost and said so; nothing after the error is written (the writer is
 * broken), so the file stays a valid recording.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "rec.h"
#include "rec_format.h"

struct rec_writer {
	char *path;
	int fd;
	enum rec_writer_mode mode;
	unsigned char *buf;
	size_t cap, len;
	uint64_t committed;	/* file bytes that are whole frames (+ header) */
	uint64_t start_mono;
	uint64_t frames;	/* appended (in the file or the buffer) */
	uint64_t nbuf;		/* of which in the buffer */
	uint64_t bytes;		/* appended, record headers included */
	int broken;		/* the error that stopped us, or 0 */
	char err[REC_ERR_MAX];
};

/* write(2) all of p; returns 0 or -errno with *done the bytes written. */
static int
write_all(int fd, const void *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t k = write(fd, (const char *)p + *done, n - *done);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -ENOSPC;	/* no progress: treat as full */
		*done += (size_t)k;
	}
	return 0;
}

/* The longest prefix of buf[0..n) made of whole frames or lines, and how
 * many there are in it. */
static size_t
whole_prefix(const struct rec_writer *w, size_t n, uint64_t *units)
{
	size_t off = 0;

	*units = 0;
	if (w->mode == REC_JSONL) {
		const unsigned char *nl = n ? memrchr(w->buf, '\n', n) : NULL;

		if (!nl)
			return 0;
		off = (size_t)(nl - w->buf) + 1;
		for (size_t i = 0; i < off; i++)
			*units += w->buf[i] == '\n';
		return off;
	}
	while (off + REC_FRAME_HEADER_SIZE <= n) {
		size_t len = rec_get32(w->buf + off);

		if (off + REC_FRAME_HEADER_SIZE + len > n)
			break;
		off += REC_FRAME_HEADER_SIZE + len;
		(*units)++;
	}
	return off;
}

/* After a failed write: cut the file back to good_end, break the writer
 * and say what happened. Returns e. */
static int
fail(struct rec_writer *w, int e, uint64_t good_end, uint64_t kept,
    uint64_t lost)
{
	const char *unit = w->mode == REC_JSONL ? "line" : "frame";
	int n;

	n = snprintf(w->err, sizeof(w->err), "%s: writing: %s; ", w->path,
	    strerror(-e));
	if (n < 0 || (size_t)n >= sizeof(w->err))
		n = 0;
	if (ftruncate(w->fd, (off_t)good_end) < 0) {
		snprintf(w->err + n, sizeof(w->err) - (size_t)n, "cutting it "
		    "back to its last whole %s at byte %" PRIu64 " failed too "
		    "(%s): its end may be cut inside a %s", unit, good_end,
		    strerror(errno), unit);
	} else {
		snprintf(w->err + n, sizeof(w->err) - (size_t)n, "the file "
		    "ends at its last whole %s, byte %" PRIu64 " (%" PRIu64
		    " %ss recorded, %" PRIu64 " not)", unit, good_end, kept,
		    unit, lost);
	}
	w->committed = good_end;
	w->broken = e;
	return e;
}

int
rec_writer_flush(struct rec_writer *w)
{
	size_t done, keep;
	uint64_t units;
	int e;

	if (w->broken)
		return w->broken;
	if (w->len == 0)
		return 0;
	if ((e = write_all(w->fd, w->buf, w->len, &done)) < 0) {
		keep = whole_prefix(w, done, &units);
		return fail(w, e, w->committed + keep,
		    w->frames - w->nbuf + units, w->nbuf - units);
	}
	w->committed += w->len;
	w->len = 0;
	w->nbuf = 0;
	return 0;
}

/*
 * Append one unit made of a head (the record header, or nothing) and a
 * body (the frame, or the line and its newline): into the buffer when it
 * fits, else written straight to the file after the buffer.
 */
static int
append(struct rec_writer *w, const void *head, size_t hlen,
    const void *body, size_t blen, const void *tail, size_t tlen)
{
	size_t need = hlen + blen + tlen, done;
	int e;

	if (w->broken)
		return w->broken;
	if (w->len + need > w->cap && (e = rec_writer_flush(w)) < 0)
		return e;
	if (need <= w->cap) {
		/* memcpy of NULL, 0 is undefined: only copy what is there */
		if (hlen)
			memcpy(w->buf + w->len, head, hlen);
		if (blen)
			memcpy(w->buf + w->len + hlen, body, blen);
		if (tlen)
			memcpy(w->buf + w->len + hlen + blen, tail, tlen);
		w->len += need;
		w->nbuf++;
	} else {
		/* Larger than the whole buffer: straight out, then the file
		 * is either one whole unit longer or cut back. */
		if ((e = write_all(w->fd, head, hlen, &done)) < 0 ||
		    (e = write_all(w->fd, body, blen, &done)) < 0 ||
		    (e = write_all(w->fd, tail, tlen, &done)) < 0)
			return fail(w, e, w->committed, w->frames, 1);
		w->committed += need;
	}
	w->frames++;
	w->bytes += need;
	return 0;
}

int
rec_writer_frame(struct rec_writer *w, uint64_t recv_mono_ns,
    const void *frame, size_t len)
{
	unsigned char h[REC_FRAME_HEADER_SIZE];

	if (w->mode != REC_RAW)
		return -EINVAL;
	if (len > REC_FRAME_MAX)
		return -EMSGSIZE;
	rec_put32(h, (uint32_t)len);
	rec_put64(h + 4, recv_mono_ns > w->start_mono
	    ? recv_mono_ns - w->start_mono : 0);
	return append(w, h, sizeof(h), frame, len, NULL, 0);
}

int
rec_writer_line(struct rec_writer *w, const char *text, size_t len)
{
	if (w->mode != REC_JSONL || memchr(text, '\n', len))
		return -EINVAL;
	return append(w, NULL, 0, text, len, "\n", 1);
}

const char *
rec_writer_error(const struct rec_writer *w)
{
	return w->broken ? w->err : "";
}

uint64_t
rec_writer_frames(const struct rec_writer *w)
{
	return w->frames;
}

uint64_t
rec_writer_bytes(const struct rec_writer *w)
{
	return w->bytes;
}

/* Open path as rec.h says; returns the fd or -errno, *created set. */
static int
file_create(const char *path, bool force, bool *created, char *err,
    size_t errlen)
{
	int base = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	struct stat st;
	int fd, e;

	*created = false;
	fd = open(path, base | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST && force)
		fd = open(path, base);	/* O_NONBLOCK: a FIFO must not hang us */
	if (fd < 0) {
		e = errno;
		if (e == EEXIST)
			errbuf_fmt(err, errlen,
			    "%s: already exists; not replacing "
			    "it", path);
		else if (e == ELOOP)
			errbuf_fmt(err, errlen, "%s: is a symlink; refusing to "
			    "follow it", path);
		else if (e == ENXIO && lstat(path, &st) == 0 &&
		    !S_ISREG(st.st_mode)) {
			/* a FIFO or socket with no reader */
			errbuf_fmt(err, errlen,
			    "%s: not a regular file; refusing "
			    "to write a recording there", path);
			return -EINVAL;
		} else
			errbuf_fmt(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "%s: fstat: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_fmt(err, errlen, "%s: not a regular file; refusing to "
		    "write a recording there", path);
		close(fd);
		return -EINVAL;
	}
	if (!*created && (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0)) {
		e = errno;
		errbuf_fmt(err, errlen,
		    "%s: replacing it: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {	/* blocking again */
		e = errno;
		errbuf_fmt(err, errlen, "%s: fcntl: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int
rec_writer_open(struct rec_writer **out, const char *path,
    const struct rec_writer_opts *o, char *err, size_t errlen)
{
	unsigned char h[REC_HEADER_SIZE] = { 0 };
	struct rec_writer *w;
	bool created = false;
	size_t done;
	int e;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))) || !(w->path = strdup(path))) {
		free(w);
		errbuf_fmt(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	w->fd = -1;
	w->mode = o->mode;
	w->cap = o->buffer ? o->buffer : REC_BUFFER_DEFAULT;
	if (w->cap < 4096)
		w->cap = 4096;
	if (!(w->buf = malloc(w->cap))) {
		errbuf_fmt(err, errlen,
		    "%s: out of memory for a %zu-byte buffer",
		    path, w->cap);
		e = -ENOMEM;
		goto fail;
	}
	if ((e = w->fd = file_create(path, o->force, &created, err,
	    errlen)) < 0)
		goto fail;
	if (w->mode == REC_RAW) {
		/* The two clocks read back to back: the same instant, give
		 * or take the call. */
		w->start_mono = clock_now_ns();
		memcpy(h + REC_OFF_MAGIC, REC_MAGIC, REC_MAGIC_LEN);
		rec_put32(h + REC_OFF_VERSION, REC_VERSION);
		rec_put32(h + REC_OFF_HEADER_SIZE, REC_HEADER_SIZE);
		rec_put32(h + REC_OFF_WIRE, (uint32_t)o->wire);
		rec_put32(h + REC_OFF_FLAGS, 0);
		rec_put64(h + REC_OFF_START_REALTIME, clock_realtime_ns());
		rec_put64(h + REC_OFF_START_MONOTONIC, w->start_mono);
		if ((e = write_all(w->fd, h, sizeof(h), &done)) < 0) {
			errbuf_fmt(err, errlen, "%s: writing the header: %s",
			    path, strerror(-e));
			goto fail;
		}
		w->committed = sizeof(h);
	}
	*out = w;
	return 0;
fail:
	if (w->fd >= 0)
		close(w->fd);
	if (created)
		unlink(path);
	free(w->buf);
	free(w->path);
	free(w);
	return e;
}

int
rec_writer_close(struct rec_writer *w, bool sync, char *err, size_t errlen)
{
	int e = rec_writer_flush(w);

	if (e < 0) {
		errbuf_fmt(err, errlen, "%s", w->err);
	} else if (sync && fsync(w->fd) < 0) {
		e = -errno;
		errbuf_fmt(err, errlen, "%s: fsync: %s", w->path, strerror(-e));
	}
	if (close(w->fd) < 0 && e == 0) {
		e = -errno;
		errbuf_fmt(err, errlen, "%s: close: %s", w->path, strerror(-e));
	}
	free(w->buf);
	free(w->path);
	free(w);
	return e;
}
