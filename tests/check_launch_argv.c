/* Tests for a service's argv, environment and program lookup. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "launch_argv.h"
#include "testutil.h"

static char *
join(char **v)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (; v && *v; v++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "[%s]", *v);
	return buf;
}

START_TEST(test_argv_build_plain_words)
{
	char *words[] = { "prog", "a b", NULL };
	struct launch_service s = { .name = "x", .argv = words, .argc = 2,
	    .ready = LAUNCH_READY_NONE };
	char **v = launch_argv_build(&s, "rp", 7);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(join(v), "[prog][a b]");
	launch_vec_free(v);
}
END_TEST

START_TEST(test_argv_build_shell_zmq_appends_name_and_readiness)
{
	char *words[] = { "/bin/sh", "-c", "exec x \"$@\"", NULL };
	struct launch_service s = { .name = "web", .argv = words, .argc = 3,
	    .shell = true, .ready = LAUNCH_READY_ZMQ };
	char **v = launch_argv_build(&s, "launch-ready-9", 12);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(join(v), "[/bin/sh][-c][exec x \"$@\"][web]"
	    "[--readiness-path][launch-ready-9][--readiness-id][12]");
	launch_vec_free(v);
}
END_TEST

START_TEST(test_env_build_drops_ours_and_overrides)
{
	char *base[] = { "HOME=/h", "NOTIFY_SOCKET=/x", "PATH=/bin",
	    "METRICSD_READY_ID=3", "FOO=old", NULL };
	const char *drop[] = { "NOTIFY_SOCKET", "METRICSD_READY_ID", NULL };
	char *set[] = { "FOO=new", "PATH=/opt/bin" };
	char *extra[] = { "METRICSD_SOCKET_DIR=/s", NULL };
	char **e = launch_env_build(base, drop, set, 2, extra);

	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(join(e), "[HOME=/h][FOO=new][PATH=/opt/bin]"
	    "[METRICSD_SOCKET_DIR=/s]");
	ck_assert_str_eq(launch_env_get(e, SIZE_MAX, "PATH"), "/opt/bin");
	ck_assert_ptr_null(launch_env_get(e, SIZE_MAX, "NOTIFY_SOCKET"));
	launch_vec_free(e);
}
END_TEST

START_TEST(test_env_key_is_needs_the_equals_sign)
{
	ck_assert(launch_env_key_is("PATH=/bin", "PATH"));
	ck_assert(!launch_env_key_is("PATHX=/bin", "PATH"));
	ck_assert(!launch_env_key_is("PAT=/bin", "PATH"));
	ck_assert(!launch_env_key_is("PATH", "PATH"));
}
END_TEST

START_TEST(test_env_get_last_entry_wins)
{
	char *env[] = { "A=1", "B=2", "A=3" };

	ck_assert_str_eq(launch_env_get(env, 3, "A"), "3");
	ck_assert_str_eq(launch_env_get(env, 2, "A"), "1");
	ck_assert_ptr_null(launch_env_get(env, 3, "C"));
}
END_TEST

static void
make_file(const char *dir, const char *name, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	close(fd);
	chmod(p, mode);
}

START_TEST(test_program_find_path_order_and_exec_bit)
{
	char *d = testutil_tmpdir(), a[PATH_MAX / 2], b[PATH_MAX / 2], path[PATH_MAX + 2];
	char out[PATH_MAX], want[PATH_MAX + 16];

	snprintf(a, sizeof(a), "%s/a", d);
	snprintf(b, sizeof(b), "%s/b", d);
	ck_assert_int_eq(mkdir(a, 0700), 0);
	ck_assert_int_eq(mkdir(b, 0700), 0);
	make_file(a, "prog", 0600);	/* not executable: skipped */
	make_file(b, "prog", 0700);
	snprintf(path, sizeof(path), "%s:%s", a, b);
	ck_assert_int_eq(launch_program_find("prog", NULL, path, out,
	    sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/prog", b);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(launch_program_find("nope", NULL, path, out,
	    sizeof(out)), -ENOENT);
	/* A directory is not a program. */
	ck_assert_int_eq(launch_program_find("b", NULL, d, out, sizeof(out)),
	    -ENOENT);
	/* Relative with a slash: relative to the service's directory. */
	ck_assert_int_eq(launch_program_find("./prog", b, NULL, out,
	    sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/./prog", b);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(launch_program_find("", NULL, path, out, sizeof(out)),
	    -ENOENT);
	ck_assert_int_eq(launch_program_find("/bin/sh", NULL, NULL, out, 4),
	    -ENAMETOOLONG);
	testutil_rmtree(d);
	free(d);
}
END_TEST

Suite *
launch_argv_suite(void)
{
	Suite *s = suite_create("launch_argv");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_argv_build_plain_words);
	tcase_add_test(tc, test_argv_build_shell_zmq_appends_name_and_readiness);
	tcase_add_test(tc, test_env_build_drops_ours_and_overrides);
	tcase_add_test(tc, test_env_key_is_needs_the_equals_sign);
	tcase_add_test(tc, test_env_get_last_entry_wins);
	tcase_add_test(tc, test_program_find_path_order_and_exec_bit);
	suite_add_tcase(s, tc);
	return s;
}
