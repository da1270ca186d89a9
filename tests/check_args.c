/* Tests for the option layer: iterator, diagnostics, parsers, readiness. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "args.h"
#include "modes.h"
#include "readycheck.h"

enum { O_BIND = 1, O_BATCH, O_FLAG, O_DRY, O_WATCH, O_NEG };

static const struct args_opt opts[] = {
	{ "bind", ARGS_REQUIRED, O_BIND, 0 },
	{ "batch", ARGS_REQUIRED, O_BATCH, 0 },
	{ "flag", ARGS_NONE, O_FLAG, 0 },
	{ "dry-run", ARGS_NONE, O_DRY, 'n' },
	{ "check", ARGS_NONE, O_DRY, 0 },	/* alias */
	{ "watch", ARGS_REQUIRED, O_WATCH, 0 },
	{ "offset", ARGS_REQUIRED, O_NEG, 0 },
	{ NULL, 0, 0, 0 }
};

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(v) argc_of(v)

static int
argc_of(char **v)
{
	int n = 0;

	while (v[n])
		n++;
	return n;
}

/* Iterate over argv; return the ids seen as a string of digits, or "E"
 * plus the error, "H" for help. */
static char result[600];

static const char *
run(int argc, char **argv, unsigned flags, struct args *a)
{
	int c;
	size_t n = 0;

	ck_assert_int_eq(args_init(a, argc, argv, opts, flags), 0);
	while ((c = args_next(a)) > 0)
		n += (size_t)snprintf(result + n, sizeof(result) - n, "%d", c);
	if (c == ARGS_HELP)
		snprintf(result + n, sizeof(result) - n, "H");
	else if (c == ARGS_ERROR)
		snprintf(result + n, sizeof(result) - n, "E%s", a->err);
	return result;
}

START_TEST(test_args_next_ids_and_arguments)
{
	char **v = ARGV("read", "--bind", "ipc://x", "--batch=8", "--flag");
	struct args a;
	int c;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_str_eq(a.mode, "read");
	ck_assert_int_eq(args_next(&a), O_BIND);
	ck_assert_str_eq(a.arg, "ipc://x");
	ck_assert_str_eq(a.name, "--bind");
	ck_assert_int_eq(args_next(&a), O_BATCH);
	ck_assert_str_eq(a.arg, "8");
	ck_assert_int_eq(args_next(&a), O_FLAG);
	ck_assert_ptr_null(a.arg);
	c = args_next(&a);
	ck_assert_int_eq(c, ARGS_END);
	ck_assert_int_eq(a.ind, ARGC(v));
}
END_TEST

START_TEST(test_args_next_permutes_operands)
{
	char **v = ARGV("read", "k1", "--flag", "k2");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "3");
	ck_assert_int_eq(a.ind, 2);
	ck_assert_str_eq(v[a.ind], "k1");
	ck_assert_str_eq(v[a.ind + 1], "k2");
}
END_TEST

START_TEST(test_args_next_in_order_stops_at_operand)
{
	char **v = ARGV("launch", "-n", "x.conf", "--", "cmd", "--flag");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, ARGS_IN_ORDER, &a), "4");
	ck_assert_int_eq(a.ind, 2);
	ck_assert_str_eq(v[a.ind], "x.conf");
	ck_assert_str_eq(v[a.ind + 1], "--");
}
END_TEST

START_TEST(test_args_next_double_dash_ends_options)
{
	char **v = ARGV("read", "--", "--flag");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "");
	ck_assert_str_eq(v[a.ind], "--flag");
}
END_TEST

START_TEST(test_args_next_alias_and_letter)
{
	char **v = ARGV("launch", "--check", "-n", "--dry-run", "--dry");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "4444");
}
END_TEST

START_TEST(test_args_next_alias_name_as_spelled)
{
	char **v = ARGV("launch", "--check");
	struct args a;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_int_eq(args_next(&a), O_DRY);
	ck_assert_str_eq(a.name, "--check");
}
END_TEST

START_TEST(test_args_next_abbreviation)
{
	char **v = ARGV("x", "--wat", "1");
	struct args a;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_int_eq(args_next(&a), O_WATCH);
	ck_assert_str_eq(a.name, "--watch");
	ck_assert_str_eq(a.arg, "1");
}
END_TEST

START_TEST(test_args_next_help)
{
	struct args a;
	char **v1 = ARGV("x", "--flag", "--help");
	char **v2 = ARGV("x", "-h");

	ck_assert_str_eq(run(ARGC(v1), v1, 0, &a), "3H");
	ck_assert_str_eq(run(ARGC(v2), v2, 0, &a), "H");
}
END_TEST

START_TEST(test_args_next_unknown_long)
{
	char **v = ARGV("read", "--bogus");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eunknown option '--bogus'");
}
END_TEST

START_TEST(test_args_next_unknown_long_with_value)
{
	char **v = ARGV("read", "--bogus=3");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eunknown option '--bogus'");
}
END_TEST

START_TEST(test_args_next_unknown_short)
{
	char **v = ARGV("read", "-q");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eunknown option '-q'");
}
END_TEST

START_TEST(test_args_next_unknown_short_in_cluster)
{
	char **v = ARGV("read", "--bind", "x", "-nq");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "14Eunknown option '-q'");
}
END_TEST

START_TEST(test_args_next_missing_argument)
{
	char **v = ARGV("read", "--flag", "--watch");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a),
	    "3Eoption '--watch' needs an argument");
}
END_TEST

START_TEST(test_args_next_missing_argument_abbreviated)
{
	char **v = ARGV("read", "--wat");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a),
	    "Eoption '--watch' needs an argument");
}
END_TEST

START_TEST(test_args_next_takes_no_argument)
{
	char **v = ARGV("read", "--flag=1");
	char **h = ARGV("read", "--help=1");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a),
	    "Eoption '--flag' takes no argument");
	ck_assert_str_eq(run(ARGC(h), h, 0, &a),
	    "Eoption '--help' takes no argument");
}
END_TEST

START_TEST(test_args_next_ambiguous)
{
	char **v = ARGV("read", "--b", "x");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eambiguous option '--b'");
}
END_TEST

START_TEST(test_args_next_alias_prefix_not_ambiguous)
{
	struct args a;
	struct args_ready r;
	char **v = ARGV("ready", "--ready-e", "ipc://x");

	args_init(&a, ARGC(v), v, NULL, 0);
	args_ready_enable(&a, &r);
	ck_assert_int_eq(args_next(&a), ARGS_END);
	ck_assert_str_eq(r.endpoint, "ipc://x");
}
END_TEST

START_TEST(test_args_init_rejects_duplicate)
{
	static const struct args_opt bad[] = {
		{ "x", ARGS_NONE, 1, 0 },
		{ "x", ARGS_NONE, 2, 0 },
		{ NULL, 0, 0, 0 }
	};
	char **v = ARGV("m");
	struct args a;

	ck_assert_int_eq(args_init(&a, ARGC(v), v, bad, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(a.err, "'--x' declared twice"));
	ck_assert_int_eq(args_next(&a), ARGS_ERROR);
}
END_TEST

START_TEST(test_args_init_rejects_help_letter_and_zero_id)
{
	static const struct args_opt bad1[] = {
		{ "x", ARGS_NONE, 1, 'h' }, { NULL, 0, 0, 0 }
	};
	static const struct args_opt bad2[] = {
		{ "x", ARGS_NONE, 0, 0 }, { NULL, 0, 0, 0 }
	};
	static const struct args_opt bad3[] = {
		{ "help", ARGS_NONE, 3, 0 }, { NULL, 0, 0, 0 }
	};
	char **v = ARGV("m");
	struct args a;

	ck_assert_int_eq(args_init(&a, ARGC(v), v, bad1, 0), -EINVAL);
	ck_assert_int_eq(args_init(&a, ARGC(v), v, bad2, 0), -EINVAL);
	ck_assert_int_eq(args_init(&a, ARGC(v), v, bad3, 0), -EINVAL);
}
END_TEST

START_TEST(test_args_init_mode_from_symlink)
{
	char **v1 = ARGV("/usr/bin/metricsd-read");
	char **v2 = ARGV("metricsd-serve");
	struct args a;

	args_init(&a, ARGC(v1), v1, opts, 0);
	ck_assert_str_eq(a.mode, "read");
	args_init(&a, ARGC(v2), v2, opts, 0);
	ck_assert_str_eq(a.mode, "serve");
}
END_TEST

START_TEST(test_args_reinit_restarts)
{
	char **v = ARGV("x", "--flag");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "3");
	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "3");
}
END_TEST

/* ---- numbers ------------------------------------------------------------ */

START_TEST(test_args_parse_u64_accepts)
{
	uint64_t v = 0;

	ck_assert_int_eq(args_parse_u64("--n", "0", 0, 10, &v, NULL, 0), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(args_parse_u64("--n", "18446744073709551615", 0,
	    UINT64_MAX, &v, NULL, 0), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(args_parse_u64("--n", "007", 0, 10, &v, NULL, 0), 0);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_args_parse_u64_rejects)
{
	const char *bad[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3",
	    "abc", "5k" };
	char err[200];
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(args_parse_u64("--n", bad[i], 0, UINT64_MAX,
		    &v, err, sizeof(err)), -EINVAL);
		ck_assert_uint_eq(v, 42);
	}
	ck_assert_int_eq(args_parse_u64("--n", "18446744073709551616", 0,
	    UINT64_MAX, &v, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(args_parse_u64("--batch", "0", 1, 65536, &v, err,
	    sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "--batch: '0' is not an integer in 1..65536");
	ck_assert_int_eq(args_parse_u64("--batch", "65537", 1, 65536, &v,
	    err, sizeof(err)), -ERANGE);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_args_parse_u64_long_value_cut)
{
	char big[1000], err[300];
	uint64_t v;

	memset(big, '7', sizeof(big) - 2);
	big[sizeof(big) - 2] = 'x';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(args_parse_u64("--n", big, 0, 10, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_uint_lt(strlen(err), sizeof(err) - 1);
	ck_assert_ptr_nonnull(strstr(err, "is not an integer in 0..10"));
}
END_TEST

START_TEST(test_args_parse_i64)
{
	int64_t v = 0;
	char err[200];

	ck_assert_int_eq(args_parse_i64("--o", "-5", -10, 10, &v, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(args_parse_i64("--o", "-9223372036854775808",
	    INT64_MIN, INT64_MAX, &v, err, sizeof(err)), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(args_parse_i64("--o", "-", -10, 10, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_i64("--o", "--1", -10, 10, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_i64("--o", "-11", -10, 10, &v, err,
	    sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "--o: '-11' is not an integer in -10..10");
	ck_assert_int_eq(args_parse_i64("--o", "9223372036854775808",
	    INT64_MIN, INT64_MAX, &v, err, sizeof(err)), -ERANGE);
}
END_TEST

START_TEST(test_args_parse_double)
{
	double v = 0;
	char err[200];

	ck_assert_int_eq(args_parse_double("--r", "0.25", 0, 1, &v, err,
	    sizeof(err)), 0);
	ck_assert(v == 0.25);
	ck_assert_int_eq(args_parse_double("--r", ".5", 0, 1, &v, err,
	    sizeof(err)), 0);
	ck_assert(v == 0.5);
	ck_assert_int_eq(args_parse_double("--r", "1e-3", 0, 1, &v, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(args_parse_double("--r", "-0.5", -1, 1, &v, err,
	    sizeof(err)), 0);
	ck_assert(v == -0.5);
	ck_assert_int_eq(args_parse_double("--r", "2", 0, 1, &v, err,
	    sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "--r: '2' is not a number in 0..1");
	ck_assert_int_eq(args_parse_double("--r", "nan", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", "inf", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", "0x1p-1", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", " 0.5", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", "0.5s", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", "", 0, 1, &v, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(args_parse_double("--r", "1e999", 0, 1e300, &v, err,
	    sizeof(err)), -EINVAL);
}
END_TEST

/* ---- durations --------------------------------------------------------- */

static uint64_t
dur(const char *s)
{
	uint64_t ns = 0;

	ck_assert_msg(args_parse_duration("d", s, 0, UINT64_MAX, &ns, NULL,
	    0) == 0, "'%s' refused", s);
	return ns;
}

START_TEST(test_args_parse_duration_units)
{
	ck_assert_uint_eq(dur("250ms"), 250 * ARGS_NS_PER_MS);
	ck_assert_uint_eq(dur("2.5"), 2500 * ARGS_NS_PER_MS);
	ck_assert_uint_eq(dur("2s"), 2 * ARGS_NS_PER_S);
	ck_assert_uint_eq(dur("1m"), 60 * ARGS_NS_PER_S);
	ck_assert_uint_eq(dur("1.5m"), 90 * ARGS_NS_PER_S);
	ck_assert_uint_eq(dur("1h"), 3600 * ARGS_NS_PER_S);
	ck_assert_uint_eq(dur("100us"), 100 * ARGS_NS_PER_US);
	ck_assert_uint_eq(dur("7ns"), 7);
	ck_assert_uint_eq(dur("0"), 0);
	ck_assert_uint_eq(dur(".5"), ARGS_NS_PER_S / 2);
	ck_assert_uint_eq(dur("3."), 3 * ARGS_NS_PER_S);
}
END_TEST

START_TEST(test_args_parse_duration_exact_decimal)
{
	/* 0.1 s is exactly 100 ms, with no binary rounding. */
	ck_assert_uint_eq(dur("0.1"), 100 * ARGS_NS_PER_MS);
	ck_assert_uint_eq(dur("0.001"), ARGS_NS_PER_MS);
	ck_assert_uint_eq(dur("0.000000001"), 1);
	/* below a nanosecond: rounded to the nearest */
	ck_assert_uint_eq(dur("0.0000000004"), 0);
	ck_assert_uint_eq(dur("0.0000000005"), 1);
	ck_assert_uint_eq(dur("1.5ns"), 2);
	ck_assert_uint_eq(dur("0.0000001h"), 360000);
	ck_assert_uint_eq(dur("1.0000000000000000000000001"), ARGS_NS_PER_S);
}
END_TEST

START_TEST(test_args_parse_duration_rejects)
{
	const char *bad[] = { "", ".", "s", "-1", "+1", " 1", "1 ", "1x",
	    "1sec", "1S", "1e3", "1.2.3", "inf", "nan", "0x10", "1m30s",
	    "ms", "1..", "1d" };
	char err[200];
	uint64_t ns = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(args_parse_duration("--t", bad[i], 0, UINT64_MAX,
		    &ns, err, sizeof(err)) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_uint_eq(ns, 42);
	}
}
END_TEST

START_TEST(test_args_parse_duration_range)
{
	char err[200];
	uint64_t ns = 42;

	ck_assert_int_eq(args_parse_duration("--wait-timeout", "0.5ms",
	    ARGS_NS_PER_MS, 86400 * ARGS_NS_PER_S, &ns, err, sizeof(err)),
	    -ERANGE);
	ck_assert_str_eq(err, "--wait-timeout: '0.5ms' is not a duration in "
	    "1ms..24h (e.g. 250ms, 2.5, 1m)");
	ck_assert_int_eq(args_parse_duration("--t", "25h", 0,
	    86400 * ARGS_NS_PER_S, &ns, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(args_parse_duration("--t", "99999999999999999999",
	    0, UINT64_MAX, &ns, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(args_parse_duration("--t", "5124096h", 0, UINT64_MAX,
	    &ns, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(args_parse_duration("--t", "18446744073.709551616",
	    0, UINT64_MAX, &ns, err, sizeof(err)), -ERANGE);
	ck_assert_uint_eq(ns, 42);
	ck_assert_int_eq(args_parse_duration("--t", "18446744073.709551615",
	    0, UINT64_MAX, &ns, err, sizeof(err)), 0);
	ck_assert_uint_eq(ns, UINT64_MAX);
	ck_assert_int_eq(args_parse_duration("--t", "24h", 0,
	    86400 * ARGS_NS_PER_S, &ns, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_args_duration_format)
{
	char buf[32];

	args_duration_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0s");
	args_duration_format(1500 * ARGS_NS_PER_MS, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1500ms");
	args_duration_format(120 * ARGS_NS_PER_S, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2m");
	args_duration_format(7200 * ARGS_NS_PER_S, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2h");
	args_duration_format(1001, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1001ns");
	args_duration_format(3 * ARGS_NS_PER_US, buf, sizeof(buf));
	ck_assert_str_eq(buf, "3us");
}
END_TEST

/* ---- option argument helpers -------------------------------------------- */

START_TEST(test_args_u64_names_option)
{
	char **v = ARGV("publish", "--batch", "0");
	struct args a;
	uint64_t n = 9;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_int_eq(args_next(&a), O_BATCH);
	ck_assert_int_eq(args_u64(&a, 1, 65536, &n), -1);
	ck_assert_str_eq(a.err, "--batch: '0' is not an integer in 1..65536");
	ck_assert_uint_eq(n, 9);
}
END_TEST

START_TEST(test_args_helpers_accept)
{
	char **v = ARGV("x", "--batch", "12", "--watch", "250ms", "--offset",
	    "-3", "--bind", "0.5");
	struct args a;
	unsigned u = 0;
	uint64_t ns = 0;
	int64_t i = 0;
	double d = 0;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_int_eq(args_next(&a), O_BATCH);
	ck_assert_int_eq(args_unsigned(&a, 1, 100, &u), 0);
	ck_assert_uint_eq(u, 12);
	ck_assert_int_eq(args_next(&a), O_WATCH);
	ck_assert_int_eq(args_duration(&a, 0, ARGS_NS_PER_S, &ns), 0);
	ck_assert_uint_eq(ns, 250 * ARGS_NS_PER_MS);
	ck_assert_int_eq(args_next(&a), O_NEG);
	ck_assert_int_eq(args_i64(&a, -5, 5, &i), 0);
	ck_assert_int_eq(i, -3);
	ck_assert_int_eq(args_next(&a), O_BIND);
	ck_assert_int_eq(args_double(&a, 0, 1, &d), 0);
	ck_assert(d == 0.5);
	ck_assert_int_eq(args_next(&a), ARGS_END);
}
END_TEST

START_TEST(test_args_unsigned_range_error)
{
	char **v = ARGV("serve", "--batch", "70000");
	struct args a;
	unsigned u = 5;

	args_init(&a, ARGC(v), v, opts, 0);
	ck_assert_int_eq(args_next(&a), O_BATCH);
	ck_assert_int_eq(args_unsigned(&a, 1, 65536, &u), -1);
	ck_assert_uint_eq(u, 5);
	ck_assert_str_eq(a.err, "--batch: '70000' is not an integer in 1..65536");
}
END_TEST

/* ---- printing ----------------------------------------------------------- */

static char *
capture_stderr(int (*fn)(void *), void *arg, int *rc)
{
	FILE *saved = stderr, *sink = tmpfile();
	static char buf[1024];
	size_t n;

	ck_assert_ptr_nonnull(sink);
	stderr = sink;
	*rc = fn(arg);
	stderr = saved;
	rewind(sink);
	n = fread(buf, 1, sizeof(buf) - 1, sink);
	buf[n] = '\0';
	fclose(sink);
	return buf;
}

static int
call_fail(void *arg)
{
	return args_fail(arg);
}

static int
call_usage_error(void *arg)
{
	return args_usage_error("unexpected argument '%s'", (char *)arg);
}

START_TEST(test_args_fail_prints_hint)
{
	char **v = ARGV("metricsd-read", "--bogus");
	struct args a;
	char *out;
	int rc;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eunknown option '--bogus'");
	out = capture_stderr(call_fail, &a, &rc);
	ck_assert_int_eq(rc, EXIT_USAGE);
	/* the log prefix is main.c's; in the test runner it is "metricsd" */
	ck_assert_ptr_nonnull(strstr(out, ": unknown option '--bogus'; try "
	    "'metricsd read --help'\n"));
	out = capture_stderr(call_usage_error, "zz", &rc);
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(out, ": unexpected argument 'zz'; try "
	    "'metricsd read --help'\n"));
}
END_TEST

/* ---- the end of the loop: args_finish() and ARGS_NONEMPTY ---------------- */

enum { O_DIR = 1, O_NAME };

static const struct args_opt nonempty_opts[] = {
	{ "metrics-dir", ARGS_NONEMPTY, O_DIR, 'd' },
	{ "name", ARGS_REQUIRED, O_NAME, 0 },
	{ NULL, 0, 0, 0 }
};

/* Parse v with nonempty_opts; the ids seen, or "E" and the error. */
static const char *
run_nonempty(char **v)
{
	struct args a;
	size_t n = 0;
	int c;

	ck_assert_int_eq(args_init(&a, ARGC(v), v, nonempty_opts, 0), 0);
	while ((c = args_next(&a)) > 0)
		n += (size_t)snprintf(result + n, sizeof(result) - n, "%d=%s;",
		    c, a.arg);
	if (c == ARGS_ERROR)
		snprintf(result + n, sizeof(result) - n, "E%s", a.err);
	return result;
}

START_TEST(test_args_nonempty)
{
	ck_assert_str_eq(run_nonempty(ARGV("read", "--metrics-dir", "x")),
	    "1=x;");
	ck_assert_str_eq(run_nonempty(ARGV("read", "-d", "y", "--name", "")),
	    "1=y;2=;");
	/* empty, however spelled: the canonical long name, or the letter */
	ck_assert_str_eq(run_nonempty(ARGV("read", "--metrics-dir=")),
	    "E--metrics-dir: empty value");
	ck_assert_str_eq(run_nonempty(ARGV("read", "--name", "n",
	    "--metrics", "")), "2=n;E--metrics-dir: empty value");
	ck_assert_str_eq(run_nonempty(ARGV("read", "-d", "")),
	    "E-d: empty value");
	/* a missing argument is still that, not an empty one */
	ck_assert_str_eq(run_nonempty(ARGV("read", "--metrics-dir")),
	    "Eoption '--metrics-dir' needs an argument");
}
END_TEST

struct finish_call {
	struct args a;
	int c;
	const char *help;
};

static int
call_finish(void *arg)
{
	struct finish_call *f = arg;

	return args_finish(&f->a, f->c, f->help);
}

/* Parse v (flags for args_init), then args_finish; its result in *rc,
 * what it printed to stderr returned, to stdout in out. */
static char *
finish(char **v, unsigned flags, struct finish_call *f, int *rc, char *out,
    size_t outlen)
{
	FILE *saved = stdout, *sink = tmpfile();
	char *err;
	size_t n;

	ck_assert_ptr_nonnull(sink);
	ck_assert_int_eq(args_init(&f->a, ARGC(v), v, opts, flags), 0);
	while ((f->c = args_next(&f->a)) > 0)
		if (f->c == O_BATCH && args_u64(&f->a, 1, 9, &(uint64_t){0}) < 0)
			break;
	stdout = sink;
	err = capture_stderr(call_finish, f, rc);
	stdout = saved;
	rewind(sink);
	n = fread(out, 1, outlen - 1, sink);
	out[n] = '\0';
	fclose(sink);
	return err;
}

START_TEST(test_args_finish)
{
	struct finish_call f = { .help = "usage: metricsd read [KEY...]\n" };
	char out[256], *err;
	int rc;

	/* nothing wrong: go on, say nothing */
	err = finish(ARGV("metricsd-read", "--flag"), 0, &f, &rc, out,
	    sizeof(out));
	ck_assert_int_eq(rc, ARGS_RUN);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(out, "");
	/* --help: the text on stdout, exit 0 */
	err = finish(ARGV("metricsd-read", "--flag", "--help"), 0, &f, &rc,
	    out, sizeof(out));
	ck_assert_int_eq(rc, EXIT_OK);
	ck_assert_str_eq(out, f.help);
	ck_assert_str_eq(err, "");
	/* an unknown option, a bad value (the loop stopped on its id) */
	err = finish(ARGV("metricsd-read", "--bogus"), 0, &f, &rc, out,
	    sizeof(out));
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, ": unknown option '--bogus'; try "
	    "'metricsd read --help'\n"));
	ck_assert_str_eq(out, "");
	err = finish(ARGV("metricsd-read", "--batch", "0", "--bogus"), 0, &f,
	    &rc, out, sizeof(out));
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, ": --batch: '0' is not an integer "
	    "in 1..9; try 'metricsd read --help'\n"));
	/* an operand: an error unless the mode takes operands */
	err = finish(ARGV("metricsd-read", "k1", "--flag", "k2"), 0, &f, &rc,
	    out, sizeof(out));
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, ": unexpected argument 'k1'; try "
	    "'metricsd read --help'\n"));
	err = finish(ARGV("metricsd-read", "k1", "--flag", "k2"),
	    ARGS_OPERANDS, &f, &rc, out, sizeof(out));
	ck_assert_int_eq(rc, ARGS_RUN);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(f.a.ind, 2);
	ck_assert_str_eq(f.a.argv[f.a.ind], "k1");
	ck_assert_str_eq(f.a.argv[f.a.ind + 1], "k2");
}
END_TEST

/* --help into a full stdout is a failure (exit 1), not silence. */
START_TEST(test_args_finish_help_write_error)
{
	char **v = ARGV("metricsd-read", "--help");
	FILE *saved = stdout, *full = fopen("/dev/full", "w");
	struct finish_call f = { .help = "usage: metricsd read\n" };
	int rc;

	ck_assert_ptr_nonnull(full);
	ck_assert_int_eq(args_init(&f.a, ARGC(v), v, opts, 0), 0);
	f.c = args_next(&f.a);
	ck_assert_int_eq(f.c, ARGS_HELP);
	stdout = full;
	rc = args_finish(&f.a, f.c, f.help);
	stdout = saved;
	fclose(full);
	ck_assert_int_eq(rc, EXIT_FAIL);
}
END_TEST

struct store_dir_call {
	const char *dir;
	char buf[32];
};

static int
call_store_dir(void *arg)
{
	struct store_dir_call *c = arg;

	return args_store_dir(c->dir, c->buf, sizeof(c->buf));
}

/* --metrics-dir as given, else the default; too long a usage error. */
START_TEST(test_args_store_dir)
{
	struct store_dir_call c = { .dir = "/some/dir" };
	char *out;
	int rc;

	out = capture_stderr(call_store_dir, &c, &rc);
	ck_assert_int_eq(rc, ARGS_RUN);
	ck_assert_str_eq(c.buf, "/some/dir");
	ck_assert_str_eq(out, "");
	c.dir = "/a/directory/name/of/more/than/31/bytes";
	out = capture_stderr(call_store_dir, &c, &rc);
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(out, ": --metrics-dir: '/a/directory/name"
	    "/of/more/than/31/bytes' is too long; try 'metricsd "));
	c.dir = NULL;
	setenv("METRICSD_METRICS_DIR", "/from/env", 1);
	out = capture_stderr(call_store_dir, &c, &rc);
	ck_assert_int_eq(rc, ARGS_RUN);
	ck_assert_str_eq(c.buf, "/from/env");
	setenv("METRICSD_METRICS_DIR", "/a/directory/name/of/more/than/31", 1);
	out = capture_stderr(call_store_dir, &c, &rc);
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(out, ": the default store directory is "
	    "too long (check $METRICSD_METRICS_DIR)"));
	unsetenv("METRICSD_METRICS_DIR");
}
END_TEST

/* ---- readiness group ------------------------------------------------------ */

static int
ready_parse(char **v, int argc, struct args_ready *r, struct args *a)
{
	int c;

	args_init(a, argc, v, opts, 0);
	args_ready_enable(a, r);
	while ((c = args_next(a)) > 0)
		;
	return c;
}

START_TEST(test_args_ready_spellings)
{
	const char *spell[] = { "--ready-endpoint", "--ready", "--endpoint" };
	struct args_ready r;
	struct args a;

	for (size_t i = 0; i < 3; i++) {
		char *v[] = { "ready", (char *)spell[i], "ipc://e", "--flag",
		    "--readiness-id", "4", NULL };

		ck_assert_int_eq(ready_parse(v, 6, &r, &a), ARGS_END);
		ck_assert_str_eq(r.endpoint, "ipc://e");
		ck_assert_str_eq(r.endpoint_opt, spell[i] + 2);
		ck_assert_str_eq(r.readiness_id, "4");
		ck_assert_ptr_null(r.socket_dir);
	}
}
END_TEST

START_TEST(test_args_ready_not_returned_to_mode)
{
	char **v = ARGV("serve", "--socket-dir", "/d", "--readiness-path", "p",
	    "--bind", "b");
	struct args_ready r;
	struct args a;

	args_init(&a, ARGC(v), v, opts, 0);
	args_ready_enable(&a, &r);
	ck_assert_int_eq(args_next(&a), O_BIND);
	ck_assert_int_eq(args_next(&a), ARGS_END);
	ck_assert_str_eq(r.socket_dir, "/d");
	ck_assert_str_eq(r.readiness_path, "p");
}
END_TEST

START_TEST(test_args_ready_unknown_without_group)
{
	char **v = ARGV("publish", "--ready", "x");
	struct args a;

	ck_assert_str_eq(run(ARGC(v), v, 0, &a), "Eunknown option '--ready'");
}
END_TEST

START_TEST(test_args_ready_missing_and_empty)
{
	char **v1 = ARGV("ready", "--endpoint");
	char **v2 = ARGV("ready", "--readiness-id", "");
	struct args_ready r;
	struct args a;

	ck_assert_int_eq(ready_parse(v1, ARGC(v1), &r, &a), ARGS_ERROR);
	ck_assert_str_eq(a.err, "option '--endpoint' needs an argument");
	ck_assert_int_eq(ready_parse(v2, ARGC(v2), &r, &a), ARGS_ERROR);
	ck_assert_str_eq(a.err, "--readiness-id: empty value");
}
END_TEST

static int
resolve(const struct args_ready *r, unsigned flags, struct readycheck_target *t,
    char *err, size_t errlen)
{
	unsetenv(READYCHECK_ENV_ENDPOINT);
	unsetenv(READYCHECK_ENV_ID);
	unsetenv(READYCHECK_ENV_SOCKET_DIR);
	unsetenv(READYCHECK_ENV_PATH);
	return args_ready_resolve(r, flags, t, err, errlen);
}

START_TEST(test_args_ready_resolve_cases)
{
	struct readycheck_target t;
	char err[512];
	struct args_ready r;

	/* nothing given: no ready-check, unless required */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(resolve(&r, ARGS_READY_REQUIRED, &t, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no readiness endpoint"));

	/* endpoint + id */
	r = (struct args_ready){ .endpoint = "ipc://e", .readiness_id = "7" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), 1);
	ck_assert_str_eq(t.endpoint, "ipc://e");
	ck_assert_int_eq(t.id, 7);

	/* dir + path */
	r = (struct args_ready){ .socket_dir = "/d", .readiness_path = "p",
	    .readiness_id = "1" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), 1);
	ck_assert_str_eq(t.endpoint, "ipc:///d/p");

	/* conflicts, named with the spelling used */
	r = (struct args_ready){ .endpoint = "ipc://e", .endpoint_opt = "ready",
	    .readiness_path = "p", .readiness_id = "1" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--ready and --readiness-path exclude each other");
	r = (struct args_ready){ .endpoint = "ipc://e", .socket_dir = "/d",
	    .readiness_id = "1" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--ready-endpoint and --socket-dir exclude each "
	    "other");
	/* ... but a shared --socket-dir is the mode's own */
	ck_assert_int_eq(resolve(&r, ARGS_READY_SOCKET_DIR_SHARED, &t, err,
	    sizeof(err)), 1);
	r = (struct args_ready){ .socket_dir = "/d" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--socket-dir needs --readiness-path");
	ck_assert_int_eq(resolve(&r, ARGS_READY_SOCKET_DIR_SHARED, &t, err,
	    sizeof(err)), 0);

	/* an identity for nobody */
	r = (struct args_ready){ .readiness_id = "3" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--readiness-id given but no "
	    "ready-check endpoint"));
	/* a path without a directory */
	r = (struct args_ready){ .readiness_path = "p", .readiness_id = "3" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	/* a bad identity */
	r = (struct args_ready){ .endpoint = "ipc://e", .readiness_id = "x" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
	/* an endpoint without identity */
	r = (struct args_ready){ .endpoint = "ipc://e" };
	ck_assert_int_eq(resolve(&r, 0, &t, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_args_ready_resolve_environment)
{
	struct readycheck_target t;
	struct args_ready r = { 0 };
	char err[512];

	setenv(READYCHECK_ENV_ENDPOINT, "ipc://from-env", 1);
	setenv(READYCHECK_ENV_ID, "12", 1);
	ck_assert_int_eq(args_ready_resolve(&r, ARGS_READY_REQUIRED, &t, err,
	    sizeof(err)), 1);
	ck_assert_str_eq(t.endpoint, "ipc://from-env");
	ck_assert_int_eq(t.id, 12);
	unsetenv(READYCHECK_ENV_ENDPOINT);
	unsetenv(READYCHECK_ENV_ID);
}
END_TEST

Suite *
args_suite(void)
{
	Suite *s = suite_create("args");
	TCase *it = tcase_create("iterator");
	TCase *num = tcase_create("numbers");
	TCase *ready = tcase_create("ready");

	tcase_add_test(it, test_args_next_ids_and_arguments);
	tcase_add_test(it, test_args_next_permutes_operands);
	tcase_add_test(it, test_args_next_in_order_stops_at_operand);
	tcase_add_test(it, test_args_next_double_dash_ends_options);
	tcase_add_test(it, test_args_next_alias_and_letter);
	tcase_add_test(it, test_args_next_alias_name_as_spelled);
	tcase_add_test(it, test_args_next_abbreviation);
	tcase_add_test(it, test_args_next_help);
	tcase_add_test(it, test_args_next_unknown_long);
	tcase_add_test(it, test_args_next_unknown_long_with_value);
	tcase_add_test(it, test_args_next_unknown_short);
	tcase_add_test(it, test_args_next_unknown_short_in_cluster);
	tcase_add_test(it, test_args_next_missing_argument);
	tcase_add_test(it, test_args_next_missing_argument_abbreviated);
	tcase_add_test(it, test_args_next_takes_no_argument);
	tcase_add_test(it, test_args_next_ambiguous);
	tcase_add_test(it, test_args_next_alias_prefix_not_ambiguous);
	tcase_add_test(it, test_args_init_rejects_duplicate);
	tcase_add_test(it, test_args_init_rejects_help_letter_and_zero_id);
	tcase_add_test(it, test_args_init_mode_from_symlink);
	tcase_add_test(it, test_args_reinit_restarts);
	tcase_add_test(it, test_args_fail_prints_hint);
	tcase_add_test(it, test_args_nonempty);
	tcase_add_test(it, test_args_finish);
	tcase_add_test(it, test_args_finish_help_write_error);
	tcase_add_test(it, test_args_store_dir);
	suite_add_tcase(s, it);

	tcase_add_test(num, test_args_parse_u64_accepts);
	tcase_add_test(num, test_args_parse_u64_rejects);
	tcase_add_test(num, test_args_parse_u64_long_value_cut);
	tcase_add_test(num, test_args_parse_i64);
	tcase_add_test(num, test_args_parse_double);
	tcase_add_test(num, test_args_parse_duration_units);
	tcase_add_test(num, test_args_parse_duration_exact_decimal);
	tcase_add_test(num, test_args_parse_duration_rejects);
	tcase_add_test(num, test_args_parse_duration_range);
	tcase_add_test(num, test_args_duration_format);
	tcase_add_test(num, test_args_u64_names_option);
	tcase_add_test(num, test_args_helpers_accept);
	tcase_add_test(num, test_args_unsigned_range_error);
	suite_add_tcase(s, num);

	tcase_add_test(ready, test_args_ready_spellings);
	tcase_add_test(ready, test_args_ready_not_returned_to_mode);
	tcase_add_test(ready, test_args_ready_unknown_without_group);
	tcase_add_test(ready, test_args_ready_missing_and_empty);
	tcase_add_test(ready, test_args_ready_resolve_cases);
	tcase_add_test(ready, test_args_ready_resolve_environment);
	suite_add_tcase(s, ready);
	return s;
}
