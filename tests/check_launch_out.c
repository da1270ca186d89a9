/*
 * Tests for launch's output queue (launch_out.c) against a real pipe
 * whose reader is this test: never blocking the caller, whole-line drops
 * counted exactly, launch's own messages kept, and a bounded exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "clock.h"
#include "launch_out.h"

#define LINE 100

/* Put a pipe's write end on fd (1 or 2); returns the read end. */
static int
pipe_on(int fd, int *saved)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_ge(*saved = dup(fd), 0);
	ck_assert_int_eq(dup2(p[1], fd), fd);
	close(p[1]);
	return p[0];
}

static void
restore(int fd, int saved)
{
	ck_assert_int_eq(dup2(saved, fd), fd);
	close(saved);
}

/* Read what the pipe holds now, without waiting. */
static size_t
drain(int rfd, char *buf, size_t cap, int wait_ms)
{
	struct pollfd p = { rfd, POLLIN, 0 };
	size_t n = 0;
	ssize_t r;

	while (n < cap && poll(&p, 1, wait_ms) == 1) {
		if ((r = read(rfd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static char big[1 << 20];

/*
 * A reader that stalls: the caller's writes return at once, at most
 * LAUNCH_OUT_CAP bytes wait, the rest is dropped in whole lines and
 * counted; launch's own message still fits (the reserve); at close the
 * service lines waiting are dropped and the own message kept; once the
 * reader reads, everything it gets is whole lines, the message last.
 */
START_TEST(test_launch_out_stalled_pipe)
{
	struct launch_out o;
	char line[LINE];
	const char *own = "metricsd launch: the summary\n";
	uint64_t t0, total = 0;
	int saved, rfd = pipe_on(1, &saved);
	size_t n;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	ck_assert_int_eq(launch_out_open(&o, 1, NULL), 0);
	ck_assert_int_eq(o.mode, OUT_QUEUED);
	t0 = clock_now_ns();
	for (int i = 0; i < 10000; i++, total += LINE)
		launch_out_write(&o, line, LINE);
	/* 1 MB against a 64 KiB pipe and a 256 KiB queue: never waited. */
	ck_assert_uint_lt(clock_now_ns() - t0, 2000000000ull);
	ck_assert_uint_gt(o.dropped, 0);
	ck_assert_uint_eq(o.dropped % LINE, 0);
	ck_assert_uint_eq(o.dropped / LINE, o.dropped_writes);
	ck_assert_uint_le(total - o.dropped, LAUNCH_OUT_CAP + 65536 + LINE);
	launch_out_log(own, strlen(own), &o);
	ck_assert_uint_eq(o.own_dropped, 0);

	launch_out_close(&o, clock_now_ns() + 20000000ull);
	ck_assert_uint_eq(o.own_dropped, 0);
	/* What the reader can still get: the pipe's content, the line being
	 * written, the message. */
	n = drain(rfd, big, sizeof(big), 0);
	ck_assert_uint_eq(launch_out_end(&o, clock_now_ns() + 5000000000ull), 0);
	n += drain(rfd, big + n, sizeof(big) - n, 100);
	ck_assert_uint_eq(n + o.dropped, total + strlen(own));
	ck_assert_uint_ge(n, strlen(own));
	ck_assert(memcmp(big + n - strlen(own), own, strlen(own)) == 0);
	for (size_t i = 0; i + strlen(own) < n; i += LINE)
		ck_assert(memcmp(big + i, line, LINE) == 0);
	restore(1, saved);
	close(rfd);
}
END_TEST

/* A reader that never reads: exit takes the deadline, not forever, and
 * says what was left unwritten. */
START_TEST(test_launch_out_end_bounded)
{
	struct launch_out o;
	int saved, rfd = pipe_on(2, &saved), queued = 0;
	uint64_t t0;

	/* One line larger than the pipe: its write blocks for good. */
	memset(big, 'y', 200000);
	big[199999] = '\n';
	ck_assert_int_eq(launch_out_open(&o, 2, NULL), 0);
	launch_out_write(&o, big, 200000);
	/* Wait (5 s at most) for the writer to be in that write. */
	t0 = clock_now_ns();
	while (ioctl(rfd, FIONREAD, &queued) == 0 && queued < 60000 &&
	    clock_now_ns() - t0 < 5000000000ull)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	ck_assert_int_ge(queued, 60000);
	launch_out_close(&o, clock_now_ns());
	ck_assert_uint_eq(o.dropped, 0);	/* the line being written */
	launch_out_log("metricsd launch: lost\n", 22, &o);
	t0 = clock_now_ns();
	ck_assert_uint_eq(launch_out_end(&o, t0 + 200000000ull), 200000 + 22);
	ck_assert_uint_ge(clock_now_ns() - t0, 200000000ull);
	ck_assert_uint_lt(clock_now_ns() - t0, 2000000000ull);
	/* Ours goes back; the abandoned writer stays blocked in its write
	 * on the pipe, which is left open (not read) for that: closed, its
	 * write would end early and the rest of the line go to the fd 2
	 * restored here. */
	restore(2, saved);
}
END_TEST

/* stdout and stderr the same pipe (2>&1): one queue, in order. */
START_TEST(test_launch_out_shared)
{
	struct launch_out o1, o2;
	int s1, s2, rfd = pipe_on(1, &s1);
	char buf[64];
	size_t n;

	ck_assert_int_ge(s2 = dup(2), 0);
	ck_assert_int_eq(dup2(1, 2), 2);
	ck_assert_int_eq(launch_out_open(&o1, 1, NULL), 0);
	ck_assert_int_eq(launch_out_open(&o2, 2, &o1), 0);
	ck_assert_ptr_eq(o1.q, o2.q);
	ck_assert(o1.q_owner && !o2.q_owner);
	launch_out_write(&o1, "a: 1\n", 5);
	launch_out_log("m: 2\n", 5, &o2);
	launch_out_write(&o2, "b: 3\n", 5);
	launch_out_close(&o1, clock_now_ns() + 2000000000ull);
	launch_out_close(&o2, clock_now_ns() + 2000000000ull);
	ck_assert_uint_eq(launch_out_end(&o2, clock_now_ns()), 0);
	ck_assert_uint_eq(launch_out_end(&o1, clock_now_ns() +
	    2000000000ull), 0);
	restore(2, s2);
	restore(1, s1);
	n = drain(rfd, buf, sizeof(buf) - 1, 100);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "a: 1\nm: 2\nb: 3\n");
	close(rfd);
}
END_TEST

/* A regular file is written at once; a closed fd drops and counts. */
START_TEST(test_launch_out_file_and_closed)
{
	struct launch_out o;
	FILE *f = tmpfile();
	int saved;
	char buf[16];

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(saved = dup(1), 0);
	ck_assert_int_eq(dup2(fileno(f), 1), 1);
	ck_assert_int_eq(launch_out_open(&o, 1, NULL), 0);
	ck_assert_int_eq(o.mode, OUT_FILE);
	launch_out_write(&o, "s: x\n", 5);
	ck_assert_int_eq(pread(fileno(f), buf, sizeof(buf), 0), 5);
	launch_out_close(&o, clock_now_ns());
	launch_out_end(&o, clock_now_ns());
	close(1);
	ck_assert_int_eq(launch_out_open(&o, 1, NULL), 0);
	ck_assert_int_eq(o.mode, OUT_BROKEN);
	launch_out_write(&o, "s: x\n", 5);
	ck_assert_uint_eq(o.dropped, 5);
	launch_out_end(&o, clock_now_ns());
	restore(1, saved);
	fclose(f);
}
END_TEST

/* Someone else (COMMAND) set O_NONBLOCK on the shared description: a
 * full pipe is a wait, not the end of the output. */
START_TEST(test_launch_out_nonblock_shared)
{
	struct launch_out o;
	int saved, rfd = pipe_on(1, &saved);
	size_t n = 0;

	memset(big, 'z', 200000);
	for (int i = 99; i < 200000; i += 100)
		big[i] = '\n';
	ck_assert_int_eq(fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK), 0);
	ck_assert_int_eq(launch_out_open(&o, 1, NULL), 0);
	for (int i = 0; i < 2000; i++)
		launch_out_write(&o, big + 100 * i, 100);
	ck_assert_uint_eq(o.dropped, 0);
	while (n < 200000) {
		size_t k = drain(rfd, big + 200000 + n, 200000 - n, 2000);
		if (k == 0)
			break;
		n += k;
	}
	launch_out_close(&o, clock_now_ns() + 2000000000ull);
	ck_assert_uint_eq(o.dropped, 0);
	ck_assert_uint_eq(n, 200000);
	launch_out_end(&o, clock_now_ns() + 2000000000ull);
	restore(1, saved);
	close(rfd);
}
END_TEST

Suite *
launch_out_suite(void)
{
	Suite *s = suite_create("launch_out");
	TCase *tc = tcase_create("queue");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_launch_out_stalled_pipe);
	tcase_add_test(tc, test_launch_out_end_bounded);
	tcase_add_test(tc, test_launch_out_shared);
	tcase_add_test(tc, test_launch_out_nonblock_shared);
	tcase_add_test(tc, test_launch_out_file_and_closed);
	suite_add_tcase(s, tc);
	return s;
}
