/*
 * Tests for launch's own fork and exec (launch_spawn.c), in both of the
 * ways a child reports to its parent: in the memory a vfork() child
 * shares, and through the pipe used where vfork() is really fork().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "launch_spawn.h"

/* Run argv with fds 0-2 on /dev/null; its exit status, or -errno. */
static int
run(char *const argv[], bool shares, bool close_others, _Atomic int32_t *slot,
    pid_t *pidout, char *err, size_t errlen)
{
	static char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	struct launch_spawn sp = { .path = argv[0], .argv = argv, .env = env,
	    .fd = { -1, -1, -1 }, .watchdog_slot = slot,
	    .close_others = close_others, .vfork_shares = shares };
	struct pollfd p;
	int pidfd, status, termsig, r;
	pid_t pid;

	err[0] = '\0';
	if ((r = launch_spawn_start(&sp, &pid, &pidfd, err, errlen)) < 0)
		return r;
	if (pidout)
		*pidout = pid;
	/* Readable when it has exited: no polling loop, no sleep. */
	p.fd = pidfd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_eq(launch_spawn_status(pidfd, &status, &termsig), 1);
	ck_assert_int_eq(termsig, 0);
	/* WNOWAIT: still a zombie, its pid reserved until reaped. */
	ck_assert_int_eq(kill(pid, 0), 0);
	ck_assert_int_eq(launch_spawn_reap(pidfd), 0);
	close(pidfd);
	return status;
}

START_TEST(test_spawn_vfork_shares_on_linux)
{
	/* Not run under valgrind, whose vfork() is a fork() and which has
	 * no pidfd_open (make check-valgrind leaves this suite out). */
	ck_assert(launch_spawn_vfork_shares());
}
END_TEST

START_TEST(test_spawn_exit_status_and_group)
{
	/* Fields 5 and 6 of /proc/PID/stat: its process group and session. */
	char *const argv[] = { "/bin/sh", "-c",
	    "read -r pid comm state ppid pgrp sid rest </proc/$$/stat && "
	    "[ \"$pgrp\" = $$ ] && [ \"$sid\" = $$ ] && exit 7", NULL };
	char err[256];
	_Atomic int32_t slot = 0;
	pid_t pid = 0;

	/* _i: 1 reports in shared memory, 0 through the pipe. */
	ck_assert_int_eq(run(argv, _i == 1, true, &slot, &pid, err,
	    sizeof(err)), 7);
	/* The child stored its pid, its group id, before exec. */
	ck_assert_int_eq(atomic_load(&slot), pid);
}
END_TEST

START_TEST(test_spawn_missing_program_fails_at_once)
{
	char *const argv[] = { "/nonexistent/metricsd-test", NULL };
	char err[256];

	ck_assert_int_eq(run(argv, _i == 1, true, NULL, NULL, err,
	    sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "exec /nonexistent/metricsd-test: ") == err,
	    "err: %s", err);
	/* The failed child was reaped: no child of ours is left. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_spawn_bad_directory_names_the_step)
{
	char *const argv[] = { "/bin/true", NULL };
	static char *const env[] = { NULL };
	struct launch_spawn sp = { .path = "/bin/true", .argv = argv,
	    .env = env, .fd = { -1, -1, -1 }, .cwd = "/nonexistent/dir",
	    .vfork_shares = _i == 1 };
	char err[256];
	pid_t pid;
	int pidfd;

	ck_assert_int_eq(launch_spawn_start(&sp, &pid, &pidfd, err,
	    sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "change to the working directory: ") == err,
	    "err: %s", err);
}
END_TEST

START_TEST(test_spawn_close_others)
{
	char check[64], err[256];
	char *const argv[] = { "/bin/sh", "-c", check, NULL };
	/* Not close-on-exec: as if launch's caller had given it. */
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 3);
	snprintf(check, sizeof(check), "test -e /proc/self/fd/%d", fd);
	/* A service: closed at its exec. */
	ck_assert_int_eq(run(argv, _i == 1, true, NULL, NULL, err,
	    sizeof(err)), 1);
	/* COMMAND: kept. */
	ck_assert_int_eq(run(argv, _i == 1, false, NULL, NULL, err,
	    sizeof(err)), 0);
	close(fd);
}
END_TEST

Suite *
launch_spawn_suite(void)
{
	Suite *s = suite_create("launch_spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_test(tc, test_spawn_vfork_shares_on_linux);
	/* Loop index 0: the report through the pipe; 1: shared memory. */
	tcase_add_loop_test(tc, test_spawn_exit_status_and_group, 0, 2);
	tcase_add_loop_test(tc, test_spawn_missing_program_fails_at_once, 0, 2);
	tcase_add_loop_test(tc, test_spawn_bad_directory_names_the_step, 0, 2);
	tcase_add_loop_test(tc, test_spawn_close_others, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
