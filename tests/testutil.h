/* Helpers shared by the unit tests. */
#ifndef METRICSD_TESTUTIL_H
#define METRICSD_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A fresh private directory under /tmp; the caller removes it. */
char *testutil_tmpdir(void);

/* rm -rf of a test directory. */
void testutil_rmtree(const char *path);

/* Path of the metricsd binary or of a test helper program (from the
 * environment the Makefile sets). The result is malloc'd. */
char *testutil_bin(void);
char *testutil_helper(const char *name);

/* Wait for pid with a deadline; returns the wait status, or -1 on timeout
 * (the child is then killed with SIGKILL and reaped). */
int testutil_wait(pid_t pid, int timeout_ms);

/* A warning hook (store_follow, scrape) that keeps the last message and
 * counts them: pass testutil_on_warn with a struct testutil_warnings *. */
struct testutil_warnings {
	char last[1024];
	int n;
};
void testutil_on_warn(void *arg, const char *msg);

/* Store fixtures that fail the test on error: a writer on dir, a u64
 * series named name, and the values from..to appended to it. */
struct store_writer;
struct store_key;
struct store_writer *testutil_writer(const char *dir);
struct store_key *testutil_series_u64(struct store_writer *w,
    const char *name);
void testutil_append_u64(struct store_key *k, uint64_t from, uint64_t to);

#endif
