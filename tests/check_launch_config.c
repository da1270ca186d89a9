/* Tests for services.conf parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "launch_config.h"
#include "launch_probe.h"
#include "testutil.h"

static char *dir;

static const char *
write_conf(const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/services.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void
setup(void)
{
	dir = testutil_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	testutil_rmtree(dir);
	free(dir);
}

START_TEST(test_words_split_quotes_and_escapes)
{
	char **v, err[128];
	size_t n;

	ck_assert_int_eq(launch_words_split("  a  'b c' \"d \\\" e\" f\\ g "
	    "'x'\"y\"z \"\\n\"", &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "b c");
	ck_assert_str_eq(v[2], "d \" e");
	ck_assert_str_eq(v[3], "f g");
	ck_assert_str_eq(v[4], "xyz");
	ck_assert_str_eq(v[5], "\\n");
	ck_assert_ptr_null(v[6]);
	launch_words_free(v);
	/* An empty quoted word is still a word. */
	ck_assert_int_eq(launch_words_split("echo ''", &v, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1], "");
	launch_words_free(v);
	/* No expansion. */
	ck_assert_int_eq(launch_words_split("echo $HOME *", &v, &n, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(v[1], "$HOME");
	ck_assert_str_eq(v[2], "*");
	launch_words_free(v);
}
END_TEST

START_TEST(test_words_split_rejects_bad)
{
	char **v, err[128];
	size_t n;

	ck_assert_int_eq(launch_words_split("a 'b", &v, &n, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "single quote"));
	ck_assert_int_eq(launch_words_split("a \"b", &v, &n, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "double quote"));
	ck_assert_int_eq(launch_words_split("a \\", &v, &n, err, sizeof(err)),
	    -EINVAL);
	ck_assert_int_eq(launch_words_split("   ", &v, &n, err, sizeof(err)),
	    -EINVAL);
}
END_TEST

START_TEST(test_duration_parse_units)
{
	uint64_t ms;

	ck_assert_int_eq(launch_duration_parse("2", &ms), 0);
	ck_assert_uint_eq(ms, 2000);
	ck_assert_int_eq(launch_duration_parse("1.5s", &ms), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(launch_duration_parse("250ms", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(launch_duration_parse("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(launch_duration_parse("-1", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("x", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("5h", &ms), 0);
	ck_assert_uint_eq(ms, 5 * 3600 * 1000);
	ck_assert_int_eq(launch_duration_parse("200h", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("5d", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("nan", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("1e300", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("", &ms), -EINVAL);
	ck_assert_int_eq(launch_duration_parse("3 s", &ms), -EINVAL);
}
END_TEST

START_TEST(test_config_load_full)
{
	struct launch_config c;
	char err[2048];
	const char *p = write_conf(
	    "; a comment\n"
	    "# another\n"
	    "[launch]\n"
	    "socket_dir = /run/x\n"
	    "ready_timeout = 2.5s\n"
	    "exit_timeout = 100ms\n"
	    "kill_grace = 1\n"
	    "\n"
	    "[service agg]\n"
	    "command = metricsd aggregate --socket-dir '/run/x y'\n"
	    "env = A=1\n"
	    "env = B=two=2\n"
	    "directory = /tmp\n"
	    "\n"
	    "[service sh]\n"
	    "command = echo a; echo b\n"
	    "shell = yes\n"
	    "ready = notify\n"
	    "[service n]\n"
	    "command = true\n"
	    "ready = none\n");

	ck_assert_msg(launch_config_load(&c, p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.socket_dir, "/run/x");
	ck_assert_uint_eq(c.ready_timeout_ms, 2500);
	ck_assert_uint_eq(c.exit_timeout_ms, 100);
	ck_assert_uint_eq(c.kill_grace_ms, 1000);
	ck_assert_uint_eq(c.nsvc, 3);
	ck_assert_str_eq(c.svc[0].name, "agg");
	ck_assert_int_eq(c.svc[0].line, 9);
	ck_assert_uint_eq(c.svc[0].argc, 4);
	ck_assert_str_eq(c.svc[0].argv[3], "/run/x y");
	ck_assert_uint_eq(c.svc[0].nenv, 2);
	ck_assert_str_eq(c.svc[0].env[1], "B=two=2");
	ck_assert_str_eq(c.svc[0].directory, "/tmp");
	ck_assert_int_eq(c.svc[0].ready, LAUNCH_READY_ZMQ);
	ck_assert_str_eq(c.svc[1].argv[0], "/bin/sh");
	ck_assert_str_eq(c.svc[1].argv[2], "echo a; echo b");
	ck_assert_int_eq(c.svc[1].ready, LAUNCH_READY_NOTIFY);
	ck_assert_int_eq(c.svc[2].ready, LAUNCH_READY_NONE);
	launch_config_free(&c);
}
END_TEST

START_TEST(test_config_defaults)
{
	struct launch_config c;
	char err[1024];
	const char *p = write_conf("[service a]\ncommand=true\n");

	ck_assert_msg(launch_config_load(&c, p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(c.socket_dir);
	ck_assert_uint_eq(c.ready_timeout_ms, LAUNCH_READY_TIMEOUT_MS);
	ck_assert_uint_eq(c.exit_timeout_ms, LAUNCH_EXIT_TIMEOUT_MS);
	ck_assert_uint_eq(c.kill_grace_ms, LAUNCH_KILL_GRACE_MS);
	launch_config_free(&c);
}
END_TEST

/* A UTF-8 byte order mark before the first section header (as some
 * editors write it) is skipped, as inih itself skips it. */
START_TEST(test_config_bom_before_first_section)
{
	struct launch_config c;
	char err[1024];
	const char *p = write_conf("\xef\xbb\xbf[service a]\ncommand = true\n");

	ck_assert_msg(launch_config_load(&c, p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.nsvc, 1);
	ck_assert_str_eq(c.svc[0].name, "a");
	ck_assert_str_eq(c.svc[0].argv[0], "true");
	launch_config_free(&c);
}
END_TEST

/* Each bad config must fail naming file:line and the problem. */
static const struct {
	const char *text;
	int line;
	const char *what;
} bad[] = {
	{ "[service a]\ncommand = x\nfrobnicate = 1\n", 3, "unknown key 'frobnicate'" },
	{ "[launch]\nreadytimeout = 1\n[service a]\ncommand=x\n", 2, "unknown key 'readytimeout'" },
	{ "[service a]\nready = zmq\n", 1, "missing command" },
	{ "[service a]\ncommand = x\n\n[service a]\ncommand = y\n", 4, "duplicate service 'a' (first defined at line 1)" },
	{ "[launch]\nready_timeout = soon\n[service a]\ncommand=x\n", 2, "ready_timeout: 'soon' is not a duration" },
	{ "[launch]\nkill_grace = 0\n[service a]\ncommand=x\n", 2, "kill_grace: '0' is not a duration" },
	{ "[service a]\ncommand = x\nready = maybe\n", 3, "'maybe' is not zmq, notify, none, tcp://HOST:PORT or http://HOST:PORT/PATH" },
	{ "[services a]\ncommand = x\n", 1, "unknown section" },
	{ "[service a b]\ncommand = x\n", 1, "bad service name 'a b'" },
	{ "[service a]\ncommand = x\ncommand = y\n", 3, "duplicate key 'command'" },
	{ "[service a]\ncommand = x 'y\n", 1, "unterminated single quote" },
	{ "[service a]\ncommand = x\nenv = NOEQUALS\n", 3, "not NAME=VALUE" },
	{ "[service a]\ncommand = x\nshell = perhaps\n", 3, "is not yes or no" },
	{ "[service a]\ncommand = x\nthis line has no equals sign\n", 3, "syntax error" },
	{ "[launch]\nsocket_dir = relative\n[service a]\ncommand=x\n", 2, "not an absolute path" },
	{ "[launch]\n", 1, "nothing to launch" },
	{ "[service a]\ncommand =\n", 2, "empty command" },
	{ "kill_grace = 1\n[launch]\nkill_grace = 2\n[service a]\ncommand=x\n", 3, "duplicate key 'kill_grace'" },
	{ "[service a]\ncommand = x\nenv = NOTIFY_SOCKET=/tmp/s\n", 3, "NOTIFY_SOCKET is set by the launcher" },
	{ "[service a]\ncommand = x\nenv = METRICSD_READY_ID=2\n", 3, "METRICSD_READY_ID is set by the launcher" },
	{ "[service a]\ncommand = x\nenv = METRICSD_SOCKET_DIR=/x\n", 3, "METRICSD_SOCKET_DIR is set by the launcher" },
};

START_TEST(test_config_errors_name_file_and_line)
{
	struct launch_config c;
	char err[2048], want[512];
	const char *p = write_conf(bad[_i].text);

	ck_assert_int_eq(launch_config_load(&c, p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%d: ", p, bad[_i].line);
	ck_assert_msg(strstr(err, want) != NULL, "case %d: want '%s' in '%s'",
	    _i, want, err);
	ck_assert_msg(strstr(err, bad[_i].what) != NULL,
	    "case %d: want '%s' in '%s'", _i, bad[_i].what, err);
	ck_assert_uint_eq(c.nsvc, 0);
	launch_config_free(&c);
}
END_TEST

START_TEST(test_config_reports_every_error)
{
	struct launch_config c;
	char err[4096];
	const char *p = write_conf("[service a]\nx = 1\ny = 2\n[service b]\n");

	ck_assert_int_eq(launch_config_load(&c, p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: "));
	ck_assert_ptr_nonnull(strstr(err, ":3: "));
	ck_assert_ptr_nonnull(strstr(err, ":1: service 'a': missing command"));
	ck_assert_ptr_nonnull(strstr(err, ":4: service 'b': missing command"));
}
END_TEST

START_TEST(test_config_missing_file)
{
	struct launch_config c;
	char err[1024];

	ck_assert_int_eq(launch_config_load(&c, "/nonexistent/s.conf", err,
	    sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/s.conf"));
}
END_TEST

START_TEST(test_config_long_and_hostile_lines)
{
	struct launch_config c;
	char err[2048], path[512];
	size_t big = 70000;
	char *line = malloc(big + 1);
	FILE *f;

	/* A 2000-byte command is fine; a 70000-byte line is refused. */
	snprintf(path, sizeof(path), "%s/services.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	memset(line, 'a', 2000);
	line[2000] = '\0';
	fprintf(f, "[service a]\ncommand = %s\n", line);
	fclose(f);
	ck_assert_msg(launch_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c.svc[0].argv[0]), 2000);
	launch_config_free(&c);

	f = fopen(path, "w");
	memset(line, 'b', big);
	line[big] = '\0';
	fprintf(f, "[service a]\ncommand = x\nenv = A=%s\n", line);
	fwrite("[service b]\ncommand=\0x\n", 1, 23, f);
	fclose(f);
	ck_assert_int_eq(launch_config_load(&c, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":3: line longer than"));
	ck_assert_ptr_nonnull(strstr(err, ":5: NUL byte"));
	free(line);
}
END_TEST

START_TEST(test_ready_url_parse_forms)
{
	struct launch_url u;
	enum launch_ready k;
	char err[160];

	ck_assert_int_eq(launch_ready_url_parse("tcp://db.local:5432", &k, &u,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(k, LAUNCH_READY_TCP);
	ck_assert_str_eq(u.host, "db.local");
	ck_assert_str_eq(u.port, "5432");
	ck_assert_int_eq(launch_ready_url_parse("http://[::1]:8000/health?x=1",
	    &k, &u, err, sizeof(err)), 0);
	ck_assert_int_eq(k, LAUNCH_READY_HTTP);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.path, "/health?x=1");
	ck_assert_int_eq(launch_ready_url_parse("http://127.0.0.1:80", &k, &u,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(u.path, "/");
	/* A fragment is never sent. */
	ck_assert_int_eq(launch_ready_url_parse("http://h:80/health#top", &k,
	    &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.path, "/health");
	ck_assert_int_eq(launch_ready_url_parse("http://h:80#top", &k, &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.path, "/");
	/* A query with no path: the path is "/". */
	ck_assert_int_eq(launch_ready_url_parse("http://h:80?x=1", &k, &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.path, "/?x=1");
}
END_TEST

START_TEST(test_probe_request_host_has_no_zone)
{
	struct launch_probe p;
	struct launch_url u;
	enum launch_ready k;
	char err[160];

	/* Resolving needs no network: a link-local literal with a zone. */
	ck_assert_int_eq(launch_ready_url_parse("http://[fe80::1%lo]:8000/h",
	    &k, &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "fe80::1%lo");
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(launch_probe_init(&p, k, &u, err, sizeof(err)), 0);
	ck_assert_msg(strstr(p.req, "GET /h HTTP/1.0\r\nHost: [fe80::1]:8000\r\n"),
	    "request: %s", p.req);
}
END_TEST

START_TEST(test_ready_url_parse_rejects_bad)
{
	static const char *const bad[] = { "tcp://h", "tcp://h:0",
	    "tcp://h:65536", "tcp://:80", "tcp://h:80/x", "https://h:443/",
	    "http://[::1:80/", "http://h:80/a b", "http://h:8x/", "tcp://h;rm:1",
	    "http://h:99999999999999999999/" };
	struct launch_url u;
	enum launch_ready k;
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(launch_ready_url_parse(bad[i], &k, &u, err,
		    sizeof(err)) == -EINVAL, "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_config_after_order_and_cycles)
{
	struct launch_config c;
	char err[2048];

	ck_assert_int_eq(launch_config_load(&c, write_conf(
	    "[service c]\ncommand = x\nafter = a, b\n"
	    "[service b]\ncommand = x\nafter = a\n"
	    "[service a]\ncommand = x\n"), err, sizeof(err)), 0);
	ck_assert_uint_eq(c.order[0], 2);
	ck_assert_uint_eq(c.order[1], 1);
	ck_assert_uint_eq(c.order[2], 0);
	ck_assert_uint_eq(c.svc[0].nafter, 2);
	ck_assert_int_eq(c.svc[0].after_line, 3);
	launch_config_free(&c);
	ck_assert_int_eq(launch_config_load(&c, write_conf(
	    "[service a]\ncommand = x\nafter = b\n"
	    "[service b]\ncommand = x\nafter = a\n"), err, sizeof(err)),
	    -EINVAL);
	ck_assert_msg(strstr(err, ":3: service 'a': after: cycle: 'a' -> 'b' "
	    "-> 'a'") != NULL, "%s", err);
	ck_assert_int_eq(launch_config_load(&c, write_conf(
	    "[service a]\ncommand = x\nafter = \n"), err, sizeof(err)),
	    -EINVAL);
	ck_assert_msg(strstr(err, ":3: service 'a': after: no service named")
	    != NULL, "%s", err);
}
END_TEST

Suite *
launch_config_suite(void)
{
	Suite *s = suite_create("launch_config");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_words_split_quotes_and_escapes);
	tcase_add_test(tc, test_words_split_rejects_bad);
	tcase_add_test(tc, test_duration_parse_units);
	tcase_add_test(tc, test_config_load_full);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_bom_before_first_section);
	tcase_add_loop_test(tc, test_config_errors_name_file_and_line, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_config_reports_every_error);
	tcase_add_test(tc, test_config_missing_file);
	tcase_add_test(tc, test_config_long_and_hostile_lines);
	tcase_add_test(tc, test_ready_url_parse_forms);
	tcase_add_test(tc, test_probe_request_host_has_no_zone);
	tcase_add_test(tc, test_ready_url_parse_rejects_bad);
	tcase_add_test(tc, test_config_after_order_and_cycles);
	suite_add_tcase(s, tc);
	return s;
}
