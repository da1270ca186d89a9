/*
 * Recordings: a run's event stream kept in a file, frame for frame, so
 * that it can be replayed (metricsd publish --replay) or aggregated again
 * later. The bytes are described in metricsd-recording(5); rec_format.h
 * has them for this code.
 *
 * Writer. One file, created 0600 without following a symlink. Frames are
 * appended to a large buffer and written out whole: the file on disk
 * always ends on a frame boundary (a line boundary in JSON lines mode).
 * When a write fails (a full disk: ENOSPC, a file size limit: EFBIG, an
 * I/O error) the file is cut back with ftruncate to the last whole frame
 * that reached it, the error names the file, and the writer refuses
 * everything after that. A writer killed with SIGKILL may leave part of
 * one frame at the end; readers report that as a truncated tail.
 *
 * Reader. Any file: a bad magic, a newer format version, an impossible
 * header or a frame longer than REC_FRAME_MAX are errors that name the
 * file (and the byte offset); a file that ends inside a frame gives every
 * whole frame before the cut and then reports the cut as a warning. Memory
 * is bounded: a frame's length is checked against REC_FRAME_MAX and
 * against the bytes the file still holds before anything is allocated.
 *
 * Library code: nothing here prints or exits. Functions return 0 (or a
 * count) or a negative errno and fill err with "FILE: what failed: why".
 */
#ifndef METRICSD_REC_H
#define METRICSD_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest frame a recording holds (and a reader accepts): 256 MiB. */
#define REC_FRAME_MAX (256u << 20)

/* The wire field of the header: what the frames are. */
enum rec_wire {
	REC_WIRE_UNKNOWN = 0,	/* not said */
	REC_WIRE_V1 = 1		/* metricsd-wire(5): 40-byte topic + msgpack */
};

#define REC_ERR_MAX 512		/* a comfortable size for err buffers */
#define REC_BUFFER_DEFAULT (8u << 20)	/* the writer's buffer */

/* ---- Writer ---- */

enum rec_writer_mode {
	REC_RAW = 0,		/* the recording format, with its header */
	REC_JSONL		/* text: whole lines, no header */
};

struct rec_writer_opts {
	enum rec_writer_mode mode;
	bool force;		/* replace an existing regular file */
	size_t buffer;		/* bytes; 0: REC_BUFFER_DEFAULT */
	enum rec_wire wire;	/* written into the header */
};

struct rec_writer;

/*
 * Create path for writing: O_CREAT|O_EXCL (an existing file is -EEXIST)
 * unless force, in which case an existing regular file is truncated and
 * made 0600. Never follows a symlink at path (-ELOOP), refuses anything
 * but a regular file. Raw mode writes the header right away, with the
 * start time read from the clocks now. Returns 0 or a negative errno
 * with err filled; on failure nothing is created (a new file made before
 * the failure is removed).
 */
int rec_writer_open(struct rec_writer **out, const char *path,
    const struct rec_writer_opts *o, char *err, size_t errlen);

/*
 * Append one frame received at recv_mono_ns (CLOCK_MONOTONIC, see
 * clock.h; stored relative to the start, 0 if earlier). Raw mode only.
 * Returns 0, -EMSGSIZE for a frame over REC_FRAME_MAX (nothing written, the
 * writer stays usable), or the error of a failed write (see above): the
 * writer is then broken and every later call returns that error.
 */
int rec_writer_frame(struct rec_writer *w, uint64_t recv_mono_ns,
    const void *frame, size_t len);

/* Append one line (the newline is added; text must not contain one).
 * JSON lines mode only. Same errors. */
int rec_writer_line(struct rec_writer *w, const char *text, size_t len);

/*
 * Write out the buffer (whole frames). Returns 0 or the write error; on
 * error the file was cut back to its last whole frame.
 */
int rec_writer_flush(struct rec_writer *w);

/* The message of the error that broke the writer ("" if none). */
const char *rec_writer_error(const struct rec_writer *w);

/* Frames (or lines) and bytes in the file so far, header excluded. */
uint64_t rec_writer_frames(const struct rec_writer *w);
uint64_t rec_writer_bytes(const struct rec_writer *w);

/*
 * Flush, fsync when sync is set (so the recording survives a crash of
 * the machine once close has returned), close and free. Returns 0 or the
 * first error (the writer's own, or the flush's, fsync's, close's), with
 * err filled. w is freed either way.
 */
int rec_writer_close(struct rec_writer *w, bool sync, char *err,
    size_t errlen);

/* ---- Reader ---- */

struct rec_header {
	uint32_t version;
	enum rec_wire wire;
	uint64_t start_realtime_ns;	/* wall clock at the start */
	uint64_t start_monotonic_ns;	/* the writer's monotonic clock then */
};

/* One frame, valid until the next rec_reader_next() or close. */
struct rec_frame {
	uint64_t recv_ns;		/* since the recording started */
	const unsigned char *data;
	size_t len;
	uint64_t offset;		/* of its record in the file */
};

struct rec_reader;

/*
 * Open a recording and check its header. Errors (-EINVAL unless a system
 * call failed), with err naming the file:
 *   "FILE: not a metricsd recording (bad magic)", also for a file shorter
 *   than a header; "FILE: recording format version N is newer than this
 *   metricsd reads (1)"; "FILE: bad header size N".
 */
int rec_reader_open(struct rec_reader **out, const char *path,
    char *err, size_t errlen);

const struct rec_header *rec_reader_header(const struct rec_reader *r);

/*
 * The next frame: returns 1 with *f set, 0 at the end of the recording,
 * or a negative errno with err filled: -EINVAL for a frame longer than
 * REC_FRAME_MAX ("FILE: byte OFFSET: frame of N bytes is over the
 * recording limit of 268435456"), -errno for a read error. At the end, a
 * tail cut inside a frame is not an error: rec_reader_truncated() says so.
 */
int rec_reader_next(struct rec_reader *r, struct rec_frame *f,
    char *err, size_t errlen);

/*
 * After rec_reader_next() returned 0: whether the file ended inside a
 * frame. If so, returns true and fills msg with the warning: "FILE:
 * truncated at byte N (the last frame record, at byte O, is cut); the
 * K whole frames before it were read".
 */
bool rec_reader_truncated(const struct rec_reader *r, char *msg,
    size_t msglen);

/* Whole frames returned so far. */
uint64_t rec_reader_frames(const struct rec_reader *r);

void rec_reader_close(struct rec_reader *r);

#endif
