/* Helpers shared by the unit tests. */
#ifndef METRICSD_TESTUTIL_H
#define METRICSD_TESTUTIL_H

#include <stddef.h>
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

#endif
