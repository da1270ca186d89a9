/*
 * The reader side of recordings: frames one by one from a buffer refilled
 * with read(2). Layout: rec_format.h and man/metricsd-recording.5;
 * contract: rec.h.
 *
 * Every length read from the file is hostile until checked: a frame
 * length over REC_FRAME_MAX is an error, and before the buffer grows for
 * a frame, a regular file must still hold that many bytes (else it is a
 * truncated tail, reported as such), so a 4-byte lie never costs more
 * memory than the file itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "rec.h"
#include "rec_format.h"

#define READ_CHUNK (1u << 20)

struct rec_reader {
	char *path;
	int fd;
	bool regular;
	struct rec_header h;
	unsigned char *buf;
	size_t cap, start, end;	/* unread bytes: buf[start..end) */
	uint64_t pos;		/* file offset of buf[start] */
	uint64_t frames;
	bool eof;
	bool truncated;
	uint64_t cut_record;	/* offset of the cut record */
	uint64_t cut_size;	/* where the file ended */
};

/* Make at least need bytes readable from buf[start], if the file has
 * them. Returns the bytes readable (maybe fewer, at the end of the
 * file) or -errno with err filled. */
static ssize_t
fill(struct rec_reader *r, size_t need, char *err, size_t errlen)
{
	while (r->end - r->start < need && !r->eof) {
		ssize_t k;

		if (r->start > 0 && r->start == r->end) {
			r->start = r->end = 0;
		} else if (r->start > 0 && r->cap - r->start < need) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->start < need) {
			size_t nc = need > READ_CHUNK ? need : READ_CHUNK;
			unsigned char *nb = realloc(r->buf, nc);

			if (!nb) {
				errbuf_fmt(err, errlen,
				    "%s: out of memory for a "
				    "%zu-byte frame", r->path, need);
				return -ENOMEM;
			}
			r->buf = nb;
			r->cap = nc;
		}
		k = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			errbuf_fmt(err, errlen, "%s: read: %s", r->path,
			    strerror(errno));
			return -errno;
		}
		if (k == 0)
			r->eof = true;
		r->end += (size_t)k;
	}
	return (ssize_t)(r->end - r->start < need ? r->end - r->start : need);
}

int
rec_reader_open(struct rec_reader **out, const char *path, char *err,
    size_t errlen)
{
	struct rec_reader *r;
	const unsigned char *p;
	struct stat st;
	uint32_t hsize;
	ssize_t n;
	int e;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))) || !(r->path = strdup(path))) {
		free(r);
		errbuf_fmt(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = -errno;
		errbuf_fmt(err, errlen, "%s: %s", path, strerror(-e));
		goto fail;
	}
	if (fstat(r->fd, &st) < 0) {
		e = -errno;
		errbuf_fmt(err, errlen, "%s: fstat: %s", path, strerror(-e));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		e = -EISDIR;
		errbuf_fmt(err, errlen, "%s: is a directory", path);
		goto fail;
	}
	r->regular = S_ISREG(st.st_mode);
	if ((n = fill(r, REC_HEADER_SIZE, err, errlen)) < 0) {
		e = (int)n;
		goto fail;
	}
	p = r->buf + r->start;
	e = -EINVAL;
	if (n < REC_MAGIC_LEN || memcmp(p, REC_MAGIC, REC_MAGIC_LEN) != 0) {
		errbuf_fmt(err, errlen,
		    "%s: not a metricsd recording (bad magic)",
		    path);
		goto fail;
	}
	if (n < REC_HEADER_SIZE) {
		errbuf_fmt(err, errlen,
		    "%s: truncated in its header (%zd of %u "
		    "bytes)", path, n, REC_HEADER_SIZE);
		goto fail;
	}
	r->h.version = rec_get32(p + REC_OFF_VERSION);
	if (r->h.version > REC_VERSION) {
		errbuf_fmt(err, errlen, "%s: recording format version %" PRIu32
		    " is newer than this metricsd reads (%d)", path,
		    r->h.version, REC_VERSION);
		goto fail;
	}
	if (r->h.version == 0) {
		errbuf_fmt(err, errlen, "%s: bad recording format version 0",
		    path);
		goto fail;
	}
	hsize = rec_get32(p + REC_OFF_HEADER_SIZE);
	if (hsize < REC_HEADER_SIZE || hsize > REC_HEADER_SIZE_MAX) {
		errbuf_fmt(err, errlen,
		    "%s: bad header size %" PRIu32 " (not in "
		    "%u..%u)", path, hsize, REC_HEADER_SIZE,
		    REC_HEADER_SIZE_MAX);
		goto fail;
	}
	r->h.wire = (enum rec_wire)rec_get32(p + REC_OFF_WIRE);
	r->h.start_realtime_ns = rec_get64(p + REC_OFF_START_REALTIME);
	r->h.start_monotonic_ns = rec_get64(p + REC_OFF_START_MONOTONIC);
	/* A longer header (a later writer of the same version): skip what
	 * we do not know. */
	if ((n = fill(r, hsize, err, errlen)) < 0) {
		e = (int)n;
		goto fail;
	}
	if ((size_t)n < hsize) {
		errbuf_fmt(err, errlen, "%s: truncated in its header (%zd of %"
		    PRIu32 " bytes)", path, n, hsize);
		goto fail;
	}
	r->start += hsize;
	r->pos = hsize;
	*out = r;
	return 0;
fail:
	rec_reader_close(r);
	return e;
}

const struct rec_header *
rec_reader_header(const struct rec_reader *r)
{
	return &r->h;
}

/* The file ends inside the record at r->pos: remember, report at end. */
static int
cut(struct rec_reader *r, uint64_t size)
{
	r->truncated = true;
	r->cut_record = r->pos;
	r->cut_size = size;
	r->start = r->end;
	return 0;
}

int
rec_reader_next(struct rec_reader *r, struct rec_frame *f, char *err,
    size_t errlen)
{
	const unsigned char *p;
	size_t need;
	uint32_t len;
	ssize_t n;

	if (r->truncated)
		return 0;
	if ((n = fill(r, REC_FRAME_HEADER_SIZE, err, errlen)) < 0)
		return (int)n;
	if (n == 0)
		return 0;
	if (n < REC_FRAME_HEADER_SIZE)
		return cut(r, r->pos + (uint64_t)n);
	p = r->buf + r->start;
	len = rec_get32(p);
	if (len > REC_FRAME_MAX) {
		errbuf_fmt(err, errlen,
		    "%s: byte %" PRIu64 ": frame of %" PRIu32
		    " bytes is over the recording limit of %u", r->path,
		    r->pos, len, REC_FRAME_MAX);
		return -EINVAL;
	}
	need = REC_FRAME_HEADER_SIZE + (size_t)len;
	if (need > r->cap - r->start && r->regular) {
		/* The buffer would have to grow: first make sure the file
		 * holds the frame at all. */
		struct stat st;

		if (fstat(r->fd, &st) < 0) {
			errbuf_fmt(err, errlen, "%s: fstat: %s", r->path,
			    strerror(errno));
			return -errno;
		}
		if ((uint64_t)st.st_size < r->pos + need)
			return cut(r, (uint64_t)st.st_size);
	}
	if ((n = fill(r, need, err, errlen)) < 0)
		return (int)n;
	if ((size_t)n < need)
		return cut(r, r->pos + (uint64_t)n);
	p = r->buf + r->start;
	f->len = len;
	f->recv_ns = rec_get64(p + 4);
	f->data = p + REC_FRAME_HEADER_SIZE;
	f->offset = r->pos;
	r->start += need;
	r->pos += need;
	r->frames++;
	return 1;
}

bool
rec_reader_truncated(const struct rec_reader *r, char *msg, size_t msglen)
{
	if (!r->truncated)
		return false;
	errbuf_fmt(msg, msglen, "%s: truncated at byte %" PRIu64 " (the last "
	    "frame record, at byte %" PRIu64 ", is cut); the %" PRIu64
	    " whole frames before it were read", r->path, r->cut_size,
	    r->cut_record, r->frames);
	return true;
}

uint64_t
rec_reader_frames(const struct rec_reader *r)
{
	return r->frames;
}

void
rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->path);
	free(r);
}
