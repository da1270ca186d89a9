/* Helpers shared by the unit tests. */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "store.h"
#include "testutil.h"

char *
testutil_tmpdir(void)
{
	char tmpl[] = "/tmp/metricsd-test.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void
testutil_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
testutil_bin(void)
{
	const char *b = getenv("METRICSD_BIN");

	return strdup(b ? b : "build/metricsd");
}

char *
testutil_helper(const char *name)
{
	const char *d = getenv("METRICSD_HELPERS");
	char *p;

	if (asprintf(&p, "%s/%s", d ? d : "build/tests/helpers", name) < 0)
		return NULL;
	return p;
}

int
testutil_wait(pid_t pid, int timeout_ms)
{
	struct timespec start, now;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		/* Polling a child's exit with a short pause: there is no
		 * portable waitable event for "child exited or deadline". */
		usleep(1000);
	}
}

struct store_writer *
testutil_writer(const char *dir)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX];

	ck_assert_msg(store_writer_open(&w, dir, err, sizeof(err)) == 0,
	    "%s", err);
	return w;
}

struct store_key *
testutil_series_u64(struct store_writer *w, const char *name)
{
	struct store_key *k;
	char err[STORE_ERR_MAX];

	ck_assert_msg(store_series_create(w, name, STORE_U64, &k, err,
	    sizeof(err)) == 0, "%s", err);
	return k;
}

void
testutil_append_u64(struct store_key *k, uint64_t from, uint64_t to)
{
	for (uint64_t v = from; v <= to; v++)
		ck_assert_int_eq(store_series_append(k,
		    (union store_value){ .u = v }), 0);
}

void
testutil_on_warn(void *arg, const char *msg)
{
	struct testutil_warnings *w = arg;

	snprintf(w->last, sizeof(w->last), "%s", msg);
	w->n++;
}
