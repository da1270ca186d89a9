/*
 * Tests for recordings (src/rec_*.c): round trips, refusing to clobber or
 * follow a symlink, bad and hostile files, a tail cut at every offset,
 * and write errors (a file size limit, and as root a full tmpfs in a
 * private mount namespace) that must leave whole frames only. The write
 * error tests run in forked children (they change rlimits and mounts).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "rec.h"
#include "rec_format.h"
#include "testutil.h"

#define WAIT_MS 60000

static char *tmp;
static char path[600];

static void
setup(void)
{
	tmp = testutil_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	snprintf(path, sizeof(path), "%s/run.rec", tmp);
}

static void
teardown(void)
{
	testutil_rmtree(tmp);
	free(tmp);
}

/* Frame i: its length and contents, reproducible. */
static size_t
frame_len(unsigned i)
{
	return i % 7 == 3 ? 0 : 40 + (i * 37) % 300;
}

static void
frame_fill(unsigned char *p, unsigned i)
{
	for (size_t k = 0; k < frame_len(i); k++)
		p[k] = (unsigned char)(i * 31 + k);
}

static const struct rec_writer_opts raw_opts = { .mode = REC_RAW,
    .wire = REC_WIRE_V1 };

/* Write n frames with receive times 1000 * i after the start. */
static void
write_frames(const char *p, unsigned n, size_t bufsize)
{
	struct rec_writer_opts o = raw_opts;
	struct rec_writer *w;
	unsigned char f[400];
	char err[REC_ERR_MAX];

	o.buffer = bufsize;
	ck_assert_int_eq(rec_writer_open(&w, p, &o, err, sizeof(err)), 0);
	for (unsigned i = 0; i < n; i++) {
		frame_fill(f, i);
		ck_assert_int_eq(rec_writer_frame(w, 0, f, frame_len(i)), 0);
	}
	ck_assert_uint_eq(rec_writer_frames(w), n);
	ck_assert_int_eq(rec_writer_close(w, true, err, sizeof(err)), 0);
}

/* Read p back; the frames must be write_frames' first ones. Returns the
 * count, and whether the tail was cut. */
static unsigned
read_frames(const char *p, bool *cut, char *msg, size_t msglen)
{
	struct rec_reader *r;
	struct rec_frame f;
	unsigned char want[400];
	char err[REC_ERR_MAX];
	unsigned n = 0;
	int rc;

	ck_assert_msg(rec_reader_open(&r, p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(rec_reader_header(r)->version, REC_VERSION);
	ck_assert_int_eq(rec_reader_header(r)->wire, REC_WIRE_V1);
	while ((rc = rec_reader_next(r, &f, err, sizeof(err))) == 1) {
		ck_assert_uint_eq(f.len, frame_len(n));
		frame_fill(want, n);
		ck_assert(f.len == 0 || memcmp(f.data, want, f.len) == 0);
		n++;
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(rec_reader_frames(r), n);
	*cut = rec_reader_truncated(r, msg, msglen);
	rec_reader_close(r);
	return n;
}

START_TEST(test_rec_roundtrip)
{
	struct stat st;
	bool cut;

	/* A 4 KiB buffer: many flushes, frames straddle every boundary. */
	write_frames(path, 500, 4096);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(read_frames(path, &cut, NULL, 0), 500);
	ck_assert(!cut);
}
END_TEST

START_TEST(test_rec_frame_larger_than_buffer)
{
	struct rec_writer_opts o = raw_opts;
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec_frame f;
	static unsigned char big[100000];
	char err[REC_ERR_MAX];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	o.buffer = 4096;
	ck_assert_int_eq(rec_writer_open(&w, path, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_writer_frame(w, 0, "small", 5), 0);
	ck_assert_int_eq(rec_writer_frame(w, 0, big, sizeof(big)), 0);
	ck_assert_int_eq(rec_writer_frame(w, 0, "after", 5), 0);
	ck_assert_int_eq(rec_writer_close(w, false, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_reader_open(&r, path, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert(f.len == 5 && memcmp(f.data, "small", 5) == 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert(f.len == sizeof(big) && memcmp(f.data, big, f.len) == 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert(f.len == 5 && memcmp(f.data, "after", 5) == 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 0);
	ck_assert(!rec_reader_truncated(r, NULL, 0));
	rec_reader_close(r);
}
END_TEST

START_TEST(test_rec_header_times)
{
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec_frame f;
	struct timespec ts;
	char err[REC_ERR_MAX];
	uint64_t mono;

	ck_assert_int_eq(rec_writer_open(&w, path, &raw_opts, err,
	    sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ck_assert_int_eq(rec_writer_frame(w, mono + 5000000, "x", 1), 0);
	ck_assert_int_eq(rec_writer_frame(w, 1, "y", 1), 0);	/* before start */
	ck_assert_int_eq(rec_writer_close(w, false, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_reader_open(&r, path, err, sizeof(err)), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ck_assert_uint_le(rec_reader_header(r)->start_realtime_ns,
	    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	ck_assert_uint_gt(rec_reader_header(r)->start_realtime_ns, 0);
	ck_assert_uint_le(rec_reader_header(r)->start_monotonic_ns, mono);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert_uint_ge(f.recv_ns, 5000000);
	ck_assert_uint_eq(f.offset, REC_HEADER_SIZE);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert_uint_eq(f.recv_ns, 0);
	rec_reader_close(r);
}
END_TEST

START_TEST(test_rec_writer_refuses_existing_and_symlink)
{
	struct rec_writer_opts o = raw_opts;
	struct rec_writer *w;
	char err[REC_ERR_MAX], link[700], other[700];
	unsigned char f[400];
	struct stat st;
	bool cut;
	int fd;

	fd = open(path, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_int_eq(rec_writer_open(&w, path, &o, err, sizeof(err)),
	    -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "already exists"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	/* force replaces it, 0600 */
	o.force = true;
	ck_assert_int_eq(rec_writer_open(&w, path, &o, err, sizeof(err)), 0);
	frame_fill(f, 0);
	ck_assert_int_eq(rec_writer_frame(w, 0, f, frame_len(0)), 0);
	ck_assert_int_eq(rec_writer_close(w, false, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(read_frames(path, &cut, NULL, 0), 1);
	/* a symlink is never followed, even with force */
	snprintf(link, sizeof(link), "%s/link.rec", tmp);
	snprintf(other, sizeof(other), "%s/target", tmp);
	ck_assert_int_eq(symlink(other, link), 0);
	ck_assert_int_eq(rec_writer_open(&w, link, &o, err, sizeof(err)),
	    -ELOOP);
	ck_assert_ptr_nonnull(strstr(err, "symlink"));
	ck_assert_int_eq(access(other, F_OK), -1);
	/* nor anything but a regular file */
	ck_assert_int_eq(mkfifo(other, 0600), 0);
	ck_assert_int_eq(rec_writer_open(&w, other, &o, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	/* a missing directory: the error names the file */
	snprintf(other, sizeof(other), "%s/no/such.rec", tmp);
	ck_assert_int_eq(rec_writer_open(&w, other, &o, err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, other));
}
END_TEST

static void
put_file(const void *p, size_t n)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* A valid header, for tampering. */
static void
header(unsigned char *h)
{
	memset(h, 0, REC_HEADER_SIZE);
	memcpy(h, REC_MAGIC, REC_MAGIC_LEN);
	rec_put32(h + REC_OFF_VERSION, REC_VERSION);
	rec_put32(h + REC_OFF_HEADER_SIZE, REC_HEADER_SIZE);
	rec_put32(h + REC_OFF_WIRE, REC_WIRE_V1);
}

static int
open_err(char *err, size_t errlen)
{
	struct rec_reader *r;
	int rc = rec_reader_open(&r, path, err, errlen);

	if (rc == 0)
		rec_reader_close(r);
	return rc;
}

START_TEST(test_rec_reader_bad_headers)
{
	unsigned char h[REC_HEADER_SIZE + 16];
	char err[REC_ERR_MAX];

	put_file("", 0);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad magic"));
	ck_assert_ptr_nonnull(strstr(err, path));
	put_file("{\"event_type\": \"session.started\"}\n", 35);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a metricsd recording"));
	header(h);
	put_file(h, 20);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated in its header"));
	rec_put32(h + REC_OFF_VERSION, 2);
	put_file(h, REC_HEADER_SIZE);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "version 2 is newer than this metricsd "
	    "reads (1)") != NULL, "%s", err);
	rec_put32(h + REC_OFF_VERSION, 0);
	put_file(h, REC_HEADER_SIZE);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "version 0"));
	header(h);
	rec_put32(h + REC_OFF_HEADER_SIZE, 0xffffffffu);
	put_file(h, REC_HEADER_SIZE);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad header size 4294967295"));
	/* A longer header of a later writer: the extra bytes are skipped. */
	header(h);
	rec_put32(h + REC_OFF_HEADER_SIZE, REC_HEADER_SIZE + 16);
	memset(h + REC_HEADER_SIZE, 0xee, 16);
	put_file(h, sizeof(h));
	ck_assert_int_eq(open_err(err, sizeof(err)), 0);
	rec_put32(h + REC_OFF_HEADER_SIZE, REC_HEADER_SIZE + 17);
	put_file(h, sizeof(h));
	ck_assert_int_eq(open_err(err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s", tmp);
	ck_assert_int_eq(open_err(err, sizeof(err)), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing", tmp);
	ck_assert_int_eq(open_err(err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(test_rec_reader_hostile_length)
{
	unsigned char b[REC_HEADER_SIZE + 2 * REC_FRAME_HEADER_SIZE + 3];
	struct rec_reader *r;
	struct rec_frame f;
	char err[REC_ERR_MAX];

	/* One good 3-byte frame, then a length of 4 GiB - 1. */
	header(b);
	rec_put32(b + REC_HEADER_SIZE, 3);
	rec_put64(b + REC_HEADER_SIZE + 4, 7);
	memcpy(b + REC_HEADER_SIZE + REC_FRAME_HEADER_SIZE, "abc", 3);
	rec_put32(b + REC_HEADER_SIZE + REC_FRAME_HEADER_SIZE + 3, 0xffffffffu);
	rec_put64(b + REC_HEADER_SIZE + REC_FRAME_HEADER_SIZE + 7, 0);
	put_file(b, sizeof(b));
	ck_assert_int_eq(rec_reader_open(&r, path, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert_uint_eq(f.recv_ns, 7);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "byte 79: frame of 4294967295 bytes is over "
	    "the recording limit") != NULL, "%s", err);
	rec_reader_close(r);
	/* Just under the limit in a tiny file: a cut tail, found without
	 * allocating the 256 MiB. */
	rec_put32(b + REC_HEADER_SIZE + REC_FRAME_HEADER_SIZE + 3,
	    REC_FRAME_MAX);
	put_file(b, sizeof(b));
	ck_assert_int_eq(rec_reader_open(&r, path, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 1);
	ck_assert_int_eq(rec_reader_next(r, &f, err, sizeof(err)), 0);
	ck_assert(rec_reader_truncated(r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "truncated at byte 91"));
	rec_reader_close(r);
}
END_TEST

/* Cut a recording at every offset: the whole frames before the cut come
 * back, and a cut inside a frame is reported with its offset. */
START_TEST(test_rec_reader_truncated_everywhere)
{
	char full[700], msg[REC_ERR_MAX], want[64];
	size_t ends[40], n = 0;
	unsigned char *all;
	struct stat st;
	bool cut;
	FILE *f;

	snprintf(full, sizeof(full), "%s/full.rec", tmp);
	write_frames(full, 30, 0);
	ck_assert_int_eq(stat(full, &st), 0);
	all = malloc((size_t)st.st_size);
	f = fopen(full, "rb");
	ck_assert_uint_eq(fread(all, 1, (size_t)st.st_size, f),
	    (size_t)st.st_size);
	fclose(f);
	ends[n++] = REC_HEADER_SIZE;
	for (unsigned i = 0; i < 30; i++) {
		ends[n] = ends[n - 1] + REC_FRAME_HEADER_SIZE + frame_len(i);
		n++;
	}
	ck_assert_uint_eq(ends[30], (size_t)st.st_size);
	for (size_t len = REC_HEADER_SIZE; len <= (size_t)st.st_size; len++) {
		unsigned whole = 0;

		while (whole < 30 && ends[whole + 1] <= len)
			whole++;
		put_file(all, len);
		ck_assert_uint_eq(read_frames(path, &cut, msg, sizeof(msg)),
		    whole);
		ck_assert_int_eq(cut, ends[whole] != len);
		if (cut) {
			snprintf(want, sizeof(want), "truncated at byte %zu "
			    "(the last frame record, at byte %zu", len,
			    ends[whole]);
			ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
		}
	}
	free(all);
}
END_TEST

START_TEST(test_rec_jsonl_lines)
{
	struct rec_writer_opts o = { .mode = REC_JSONL, .buffer = 4096 };
	struct rec_writer *w;
	char err[REC_ERR_MAX], buf[64];
	FILE *f;

	ck_assert_int_eq(rec_writer_open(&w, path, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(rec_writer_line(w, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(rec_writer_line(w, "x\ny", 3), -EINVAL);
	ck_assert_int_eq(rec_writer_frame(w, 0, "x", 1), -EINVAL);
	ck_assert_int_eq(rec_writer_line(w, "{}", 2), 0);
	ck_assert_uint_eq(rec_writer_frames(w), 2);
	ck_assert_int_eq(rec_writer_close(w, false, err, sizeof(err)), 0);
	f = fopen(path, "r");
	ck_assert_uint_eq(fread(buf, 1, sizeof(buf), f), 11);
	fclose(f);
	ck_assert(memcmp(buf, "{\"a\":1}\n{}\n", 11) == 0);
}
END_TEST

/*
 * Write until the file is refused (by the caller's limit), in a child.
 * The error must name the file and say what failed, and the file must
 * hold exactly the frames the writer says it recorded, all whole.
 */
static void
fill_until_error(const char *p, int want_errno, int jsonl)
{
	struct rec_writer_opts o = { .mode = jsonl ? REC_JSONL : REC_RAW,
	    .wire = REC_WIRE_V1, .buffer = 10000 };
	struct rec_writer *w;
	unsigned char f[400];
	char err[REC_ERR_MAX], want[64];
	unsigned i;
	int rc = 0;

#define CHILD(c) do { if (!(c)) { fprintf(stderr, "child: %s failed (i=%u rc=%d): " \
    "%s\n", #c, i, rc, err); _exit(1); } } while (0)
	i = 0;
	err[0] = '\0';
	CHILD(rec_writer_open(&w, p, &o, err, sizeof(err)) == 0);
	for (i = 0; i < 1000000; i++) {
		frame_fill(f, i);
		if (jsonl) {
			memset(f, 'j', frame_len(i));
			rc = rec_writer_line(w, (char *)f, frame_len(i));
		} else {
			rc = rec_writer_frame(w, 0, f, frame_len(i));
		}
		if (rc < 0)
			break;
	}
	CHILD(rc == -want_errno);
	snprintf(err, sizeof(err), "%s", rec_writer_error(w));
	CHILD(strstr(err, p) != NULL);
	CHILD(strstr(err, strerror(want_errno)) != NULL);
	CHILD(strstr(err, "recorded") != NULL);
	/* Later frames are refused with the same error. */
	CHILD(rec_writer_frame(w, 0, f, 1) == -want_errno || jsonl);
	CHILD(rec_writer_close(w, true, err, sizeof(err)) == -want_errno);
	CHILD(strstr(err, p) != NULL);
	/* The file: only whole frames, no cut tail. */
	if (jsonl) {
		struct stat st;
		FILE *fp = fopen(p, "r");
		int c, last = '\n';
		unsigned lines = 0;

		CHILD(fp && stat(p, &st) == 0 && st.st_size > 0);
		while ((c = getc(fp)) != EOF) {
			lines += c == '\n';
			last = c;
		}
		fclose(fp);
		CHILD(last == '\n');
		snprintf(want, sizeof(want), "(%u lines recorded", lines);
		CHILD(strstr(err, want) != NULL);
	} else {
		struct rec_reader *r;
		struct rec_frame fr;
		unsigned n = 0;

		CHILD(rec_reader_open(&r, p, err, sizeof(err)) == 0);
		while ((rc = rec_reader_next(r, &fr, err, sizeof(err))) == 1) {
			CHILD(fr.len == frame_len(n));
			n++;
		}
		CHILD(rc == 0 && !rec_reader_truncated(r, NULL, 0));
		CHILD(n > 0 && n < i);
		rec_reader_close(r);
	}
#undef CHILD
	_exit(0);
}

static void
run_child(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		fn(arg);
	st = testutil_wait(pid, WAIT_MS);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child failed, status %d", st);
}

static void
efbig_child(void *arg)
{
	struct rlimit rl = { 100000, 100000 };

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		_exit(2);
	fill_until_error(path, EFBIG, arg != NULL);
}

/* A file size limit (EFBIG) stops the writer cleanly: raw and jsonl. */
START_TEST(test_rec_writer_efbig_whole_frames)
{
	run_child(efbig_child, NULL);
	unlink(path);
	run_child(efbig_child, "jsonl");
}
END_TEST

static void
enospc_child(void *arg)
{
	char p[700];

	(void)arg;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", tmp, "tmpfs", 0, "size=256k,mode=0700") < 0) {
		fprintf(stderr, "enospc child: mount: %s\n", strerror(errno));
		_exit(3);
	}
	snprintf(p, sizeof(p), "%s/full.rec", tmp);
	fill_until_error(p, ENOSPC, 0);
}

/* A full tmpfs (ENOSPC), as root in a private mount namespace. */
START_TEST(test_rec_writer_enospc_whole_frames)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_rec_writer_enospc_whole_frames: skipped: "
		    "not root (mounting a tmpfs needs CAP_SYS_ADMIN)\n");
		return;
	}
	run_child(enospc_child, NULL);
}
END_TEST

Suite *
rec_suite(void)
{
	Suite *s = suite_create("rec");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rec_roundtrip);
	tcase_add_test(tc, test_rec_frame_larger_than_buffer);
	tcase_add_test(tc, test_rec_header_times);
	tcase_add_test(tc, test_rec_writer_refuses_existing_and_symlink);
	tcase_add_test(tc, test_rec_reader_bad_headers);
	tcase_add_test(tc, test_rec_reader_hostile_length);
	tcase_add_test(tc, test_rec_reader_truncated_everywhere);
	tcase_add_test(tc, test_rec_jsonl_lines);
	tcase_add_test(tc, test_rec_writer_efbig_whole_frames);
	tcase_add_test(tc, test_rec_writer_enospc_whole_frames);
	suite_add_tcase(s, tc);
	return s;
}
