/* Tests for the rate-limited logger. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "log.h"

START_TEST(test_log_ratelimited_suppresses_after_burst)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000000000ull, 3);
	FILE *saved = stderr;
	FILE *sink = tmpfile();

	ck_assert_ptr_nonnull(sink);
	stderr = sink;
	for (int i = 0; i < 10; i++)
		log_ratelimited(&rl, "bad frame %d", i);
	stderr = saved;
	ck_assert_uint_eq(rl.printed, 3);
	ck_assert_uint_eq(rl.suppressed, 7);
	fclose(sink);
}
END_TEST

/* stdout into f, err into the returned text; log_stdout_close's result. */
static int
close_into(FILE *f, struct log_stdout *o, char *err, size_t errlen)
{
	FILE *saved_out = stdout, *saved_err = stderr, *sink = tmpfile();
	size_t n;
	int rc;

	ck_assert_ptr_nonnull(sink);
	stdout = f;
	stderr = sink;
	rc = log_stdout_close(o);
	stdout = saved_out;
	stderr = saved_err;
	rewind(sink);
	n = fread(err, 1, errlen - 1, sink);
	err[n] = '\0';
	fclose(sink);
	return rc;
}

/* A full disk at the final flush, or a write that failed earlier, is
 * said once and fails; a good close says nothing. */
START_TEST(test_log_stdout_close)
{
	struct log_stdout o = { 0 };
	char err[256];
	FILE *f;

	ck_assert_ptr_nonnull(f = tmpfile());
	fputs("fine\n", f);
	ck_assert_int_eq(close_into(f, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");

	ck_assert_ptr_nonnull(f = fopen("/dev/full", "w"));
	fputs("lost\n", f);
	ck_assert_int_eq(close_into(f, &o, err, sizeof(err)), -1);
	ck_assert(o.failed);
	ck_assert_ptr_nonnull(strstr(err, "writing to standard output: "
	    "No space left on device\n"));

	/* an earlier failure is the one reported */
	o = (struct log_stdout){ true, 32 /* EPIPE */ };
	ck_assert_ptr_nonnull(f = tmpfile());
	ck_assert_int_eq(close_into(f, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writing to standard output: "
	    "Broken pipe\n"));
}
END_TEST

struct captured {
	char text[512];
	size_t len;
	unsigned calls;
};

static void
capture(const char *line, size_t len, void *arg)
{
	struct captured *c = arg;

	ck_assert_uint_lt(c->len + len, sizeof(c->text));
	memcpy(c->text + c->len, line, len);
	c->len += len;
	c->text[c->len] = '\0';
	c->calls++;
	errno = EBADF;		/* the hook's errno is not the caller's */
}

/* With a writer installed (launch's queue), each message reaches it
 * whole, prefix and newline included, one call per line; errno is kept;
 * removing it writes fd 2 again. */
START_TEST(test_log_set_writer)
{
	struct captured c = { .len = 0 };

	log_set_writer(capture, &c);
	log_warn("service '%s' exited", "a");
	errno = ENOENT;
	log_warn("open %s:", "/x");
	ck_assert_int_eq(errno, ENOENT);
	log_info("done");
	log_set_writer(NULL, NULL);
	ck_assert_uint_eq(c.calls, 3);
	ck_assert_str_eq(c.text, "metricsd: service 'a' exited\n"
	    "metricsd: open /x: No such file or directory\n"
	    "metricsd: done\n");
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, test_log_ratelimited_suppresses_after_burst);
	tcase_add_test(tc, test_log_stdout_close);
	tcase_add_test(tc, test_log_set_writer);
	suite_add_tcase(s, tc);
	return s;
}
