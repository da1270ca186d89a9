/*
 * Tests for the shared-memory metric store (src/store*.c). Cross-process
 * behaviour (one writer, liveness, crashes, growth under concurrent
 * readers, a full tmpfs) is tested with real processes made by fork();
 * they synchronise through pipes and waitpid, never by sleeping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "store.h"
#include "store_format.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define WAIT_MS 60000

static char *tmp;	/* per-test private directory */
static char sdir[512];	/* the store directory inside it */

static void
setup(void)
{
	tmp = testutil_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
}

/* The same in /dev/shm, where stores really live, when it is there. */
static void
setup_shm(void)
{
	char tmpl[] = "/dev/shm/metricsd-test.XXXXXX";

	if (!mkdtemp(tmpl)) {
		setup();
		return;
	}
	tmp = strdup(tmpl);
	ck_assert_ptr_nonnull(tmp);
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
}

static void
teardown(void)
{
	testutil_rmtree(tmp);
	free(tmp);
	tmp = NULL;
}

/* The value the test writers store at index i: unlike any other index. */
static uint64_t
pattern(uint64_t i)
{
	return i * 0x9e3779b97f4a7c15ull + 1;
}

static struct store_writer *
writer_open_ok(const char *dir)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX] = "";
	int r = store_writer_open(&w, dir, err, sizeof(err));

	ck_assert_msg(r == 0, "store_writer_open: %d %s", r, err);
	return w;
}

static void
path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Read one byte from fd (the child's "ready" signal); 1 on success. */
static int
pipe_wait(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

static void
pipe_signal(int fd)
{
	char c = 'r';

	if (write(fd, &c, 1) != 1)
		_exit(90);
}

/* ---- names and directories ---- */

START_TEST(test_key_check_rejects_bad_names)
{
	static const char *bad[] = {
		"", ".", "..", "a/b", "/abs", "../up", ".hidden", "tab\there",
		"nl\n", "del\x7f",
	};
	char err[STORE_ERR_MAX];
	char longname[STORE_KEY_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(store_key_check(bad[i], err, sizeof(err)),
		    -EINVAL);
		ck_assert_msg(err[0] != '\0', "no reason for bad name %zu", i);
	}
	memset(longname, 'k', sizeof(longname));
	longname[STORE_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(store_key_check(longname, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	longname[STORE_KEY_MAX] = '\0';
	ck_assert_int_eq(store_key_check(longname, err, sizeof(err)), 0);
	ck_assert_int_eq(store_key_check("sample_latency_ns", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_key_check("p99.9", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_default_dir_env_and_fallback)
{
	char buf[256], want[64];

	setenv(STORE_DIR_ENV, "/somewhere/else", 1);
	ck_assert_int_eq(store_default_dir(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/somewhere/else");
	ck_assert_int_eq(store_default_dir(buf, 4), -ENAMETOOLONG);
	setenv(STORE_DIR_ENV, "", 1);
	ck_assert_int_eq(store_default_dir(buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/dev/shm/metricsd-%u",
	    (unsigned)geteuid());
	ck_assert_str_eq(buf, want);
	unsetenv(STORE_DIR_ENV);
	ck_assert_int_eq(store_default_dir(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(test_writer_open_creates_private_dir)
{
	struct store_writer *w;
	struct store_key *k;
	char err[STORE_ERR_MAX], p[600];
	struct stat st;
	mode_t old = umask(0);

	w = writer_open_ok(sdir);
	umask(old);
	/* OFD locks conflict within one process too. */
	{
		struct store_writer *w2;

		ck_assert_int_eq(store_writer_open(&w2, sdir, err,
		    sizeof(err)), -EBUSY);
		ck_assert_ptr_null(w2);
	}
	ck_assert_int_eq(lstat(sdir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	path_in(p, sizeof(p), sdir, ".store");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	path_in(p, sizeof(p), sdir, "lat");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	/* The directory and files stay for readers. */
	ck_assert_int_eq(lstat(p, &st), 0);
}
END_TEST

START_TEST(test_writer_refuses_symlinked_dir)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX] = "", real[600];

	snprintf(real, sizeof(real), "%s/real", tmp);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, sdir), 0);
	ck_assert_int_eq(store_writer_open(&w, sdir, err, sizeof(err)),
	    -ELOOP);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err, sdir));
	ck_assert_ptr_nonnull(strstr(err, "symlink"));
}
END_TEST

START_TEST(test_writer_refuses_group_accessible_dir)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX] = "";

	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	ck_assert_int_eq(chmod(sdir, 0750), 0);
	ck_assert_int_eq(store_writer_open(&w, sdir, err, sizeof(err)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(err, sdir));
	ck_assert_ptr_nonnull(strstr(err, "0750"));
	ck_assert_int_eq(chmod(sdir, 0707), 0);
	ck_assert_int_eq(store_writer_open(&w, sdir, err, sizeof(err)),
	    -EPERM);
}
END_TEST

START_TEST(test_writer_refuses_foreign_owner)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX] = "";
	const char *dir = sdir;

	if (geteuid() == 0) {
		/* As root we can make a directory that belongs to nobody. */
		ck_assert_int_eq(mkdir(sdir, 0700), 0);
		ck_assert_int_eq(chown(sdir, 65534, 65534), 0);
	} else {
		/* Otherwise "/" is a directory owned by someone else. */
		dir = "/";
	}
	ck_assert_int_eq(store_writer_open(&w, dir, err, sizeof(err)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid"));
}
END_TEST

START_TEST(test_writer_refuses_missing_parent)
{
	struct store_writer *w;
	char err[STORE_ERR_MAX] = "", p[600];

	snprintf(p, sizeof(p), "%s/no/such", tmp);
	ck_assert_int_eq(store_writer_open(&w, p, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, p));
}
END_TEST

START_TEST(test_key_create_rejects_bad_name)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	char err[STORE_ERR_MAX] = "";

	ck_assert_int_eq(store_series_create(w, "../escape", STORE_U64, &k,
	    err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(k);
	ck_assert_ptr_nonnull(strstr(err, "'../escape'"));
	ck_assert_int_eq(store_counter_create(w, ".store", STORE_U64, &k,
	    err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(store_counter_create(w, "ok", (enum store_type)9,
	    &k, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(store_counter_create(w, "ok", STORE_U64, &k,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(store_series_create(w, "ok", STORE_U64, &k,
	    err, sizeof(err)), -EEXIST);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* A stale symlink under a key's name is replaced, never followed. */
START_TEST(test_key_create_replaces_symlink_without_following)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	char err[STORE_ERR_MAX] = "", victim[600], p[600];
	struct stat st;
	int fd;

	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	path_in(p, sizeof(p), sdir, "lat");
	ck_assert_int_eq(symlink(victim, p), 0);
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* ---- values through the API ---- */

START_TEST(test_counter_roundtrip)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *ku, *kf;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";
	union store_value x;
	uint64_t n;

	ck_assert_int_eq(store_counter_create(w, "done", STORE_U64, &ku, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_counter_create(w, "ratio", STORE_F64, &kf,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&v, sdir, "done", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_kind(v), STORE_COUNTER);
	ck_assert_int_eq(store_view_type(v), STORE_U64);
	ck_assert_str_eq(store_view_name(v), "done");
	ck_assert_uint_eq(store_view_counter(v).u, 0);
	ck_assert_uint_eq(store_counter_add(ku, 5), 5);
	ck_assert_uint_eq(store_counter_add(ku, 7), 12);
	ck_assert_uint_eq(store_view_counter(v).u, 12);
	x.u = UINT64_MAX - 1;
	store_counter_set(ku, x);
	ck_assert_uint_eq(store_view_counter(v).u, UINT64_MAX - 1);
	ck_assert_uint_eq(store_counter_get(ku).u, UINT64_MAX - 1);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(store_key_name(ku), "done");
	ck_assert_int_eq(store_series_append(ku, x), -EINVAL);
	store_view_close(v);

	x.f = 0.25;
	store_counter_set(kf, x);
	ck_assert_int_eq(store_view_open(&v, sdir, "ratio", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_type(v), STORE_F64);
	ck_assert(store_view_counter(v).f == 0.25);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
	/* Readable after the writer is gone. */
	ck_assert_int_eq(store_view_open(&v, sdir, "done", err, sizeof(err)),
	    0);
	ck_assert_uint_eq(store_view_counter(v).u, UINT64_MAX - 1);
	store_view_close(v);
}
END_TEST

/* A view opened early follows the writer through several growths. */
START_TEST(test_series_append_grows_and_view_remaps)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";
	const union store_value *vals;
	uint64_t n = 0, total = 100000, last = 0;

	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_kind(v), STORE_SERIES);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	for (uint64_t i = 0; i < total; i++) {
		if (store_series_append(k,
		    (union store_value){ .u = pattern(i) }) != 0)
			ck_abort_msg("append %llu: %s", (unsigned long long)i,
			    store_key_error(k));
		if (i % 997 == 0) {
			ck_assert_int_eq(store_view_refresh(v, &n, err,
			    sizeof(err)), 0);
			ck_assert_uint_eq(n, i + 1);
			vals = store_view_values(v);
			for (; last < n; last++)
				if (vals[last].u != pattern(last))
					ck_abort_msg("value %llu wrong",
					    (unsigned long long)last);
		}
	}
	ck_assert_uint_eq(store_series_count(k), total);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, total);
	vals = store_view_values(v);
	for (uint64_t i = 0; i < n; i++)
		if (vals[i].u != pattern(i))
			ck_abort_msg("value %llu wrong", (unsigned long long)i);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

START_TEST(test_series_reserve)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k, *c;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "", p[600];
	struct stat st;
	uint64_t n;

	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_counter_create(w, "done", STORE_U64, &c, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_series_append(k,
	    (union store_value){ .u = 7 }), 0);
	ck_assert_int_eq(store_series_reserve(k, 10000), 0);
	path_in(p, sizeof(p), sdir, "lat");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_ge(st.st_size, 256 + 10001 * 8);
	ck_assert_uint_eq(store_series_count(k), 1);
	ck_assert_int_eq(store_series_reserve(k, UINT64_MAX), -EFBIG);
	ck_assert_ptr_nonnull(strstr(store_key_error(k), "'lat'"));
	ck_assert_int_eq(store_series_reserve(c, 1), -EINVAL);
	/* The key is still fine after the failed reserve. */
	ck_assert_int_eq(store_series_append(k,
	    (union store_value){ .u = 8 }), 0);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(store_view_values(v)[1].u, 8);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

START_TEST(test_series_types_roundtrip)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *ki, *kf;
	struct store_view *vi, *vf;
	char err[STORE_ERR_MAX] = "";
	uint64_t n;

	ck_assert_int_eq(store_series_create(w, "delta", STORE_I64, &ki, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_series_create(w, "tpot", STORE_F64, &kf, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_series_append(ki,
	    (union store_value){ .i = -42 }), 0);
	ck_assert_int_eq(store_series_append(kf,
	    (union store_value){ .f = 1.5 }), 0);
	ck_assert_int_eq(store_view_open(&vi, sdir, "delta", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&vf, sdir, "tpot", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_type(vi), STORE_I64);
	ck_assert_int_eq(store_view_type(vf), STORE_F64);
	ck_assert_int_eq(store_view_refresh(vi, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(store_view_values(vi)[0].i, -42);
	ck_assert_int_eq(store_view_refresh(vf, &n, err, sizeof(err)), 0);
	ck_assert(store_view_values(vf)[0].f == 1.5);
	store_view_close(vi);
	store_view_close(vf);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* Recreating a key in a new run: old views keep the old file. */
START_TEST(test_key_recreate_new_run)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	struct store_view *old, *v;
	char err[STORE_ERR_MAX] = "";
	uint64_t n;

	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_series_append(k,
	    (union store_value){ .u = 1 }), 0);
	store_writer_close(w, STORE_FINAL);
	ck_assert_int_eq(store_view_open(&old, sdir, "lat", err,
	    sizeof(err)), 0);
	w = writer_open_ok(sdir);
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_view_refresh(old, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(store_view_values(old)[0].u, 1);
	store_view_close(old);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* Descriptors this process has open. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

/*
 * A view holds no descriptor: growth is seen through the key's name, and
 * only while the name still points to the file mapped.
 */
START_TEST(test_view_holds_no_fd_and_sees_replacement)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "", p[600], moved[600];
	uint64_t n, i;
	int before;

	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	before = open_fds();
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	ck_assert_int_eq(open_fds(), before);
	/* Grown past the first mapping: remapped by the name. */
	for (i = 0; i < 50000; i++)
		ck_assert_int_eq(store_series_append(k,
		    (union store_value){ .u = pattern(i) }), 0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 50000);
	ck_assert_uint_eq(store_view_values(v)[49999].u, pattern(49999));
	/* The name points elsewhere: the size seen would not be this file's. */
	path_in(p, sizeof(p), sdir, "lat");
	path_in(moved, sizeof(moved), sdir, "lat.moved");
	ck_assert_int_eq(rename(p, moved), 0);
	for (; i < 200000; i++)
		ck_assert_int_eq(store_series_append(k,
		    (union store_value){ .u = pattern(i) }), 0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)),
	    -ESTALE);
	ck_assert_ptr_nonnull(strstr(err, "'lat'"));
	ck_assert_ptr_nonnull(strstr(err, "removed"));
	/* Back under its name: followed again, nothing lost. */
	ck_assert_int_eq(rename(moved, p), 0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 200000);
	ck_assert_uint_eq(store_view_values(v)[199999].u, pattern(199999));
	ck_assert_int_eq(open_fds(), before);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* ---- lazy readers ---- */

START_TEST(test_view_open_missing_dir_is_enoent)
{
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";
	struct store_status st;
	char **names;
	size_t n = 99;

	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "no data yet"));
	ck_assert_int_eq(store_names_list(sdir, &names, &n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(n, 0);
	store_names_free(names, n);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert(!st.exists);
}
END_TEST

START_TEST(test_view_open_missing_key_then_appears)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";

	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "'lat'"));
	ck_assert_ptr_nonnull(strstr(err, "no data yet"));
	ck_assert_int_eq(store_series_create(w, "lat", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	store_view_close(v);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

START_TEST(test_names_list_sorted_and_skips_non_keys)
{
	struct store_writer *w = writer_open_ok(sdir);
	struct store_key *k;
	char err[STORE_ERR_MAX] = "", p[600];
	char **names;
	size_t n;

	ck_assert_int_eq(store_series_create(w, "zeta", STORE_U64, &k, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_counter_create(w, "alpha", STORE_U64, &k, err,
	    sizeof(err)), 0);
	path_in(p, sizeof(p), sdir, "subdir");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	path_in(p, sizeof(p), sdir, "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	path_in(p, sizeof(p), sdir, "link");
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	ck_assert_int_eq(store_names_list(sdir, &names, &n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "alpha");
	ck_assert_str_eq(names[1], "zeta");
	store_names_free(names, n);
	store_writer_close(w, STORE_FINAL);
}
END_TEST

/* ---- hostile files ---- */

/* Write a key file with header h and total size bytes. */
static void
plant(const char *name, const struct store_header *h, size_t hlen,
    size_t size)
{
	char p[600];
	int fd;

	path_in(p, sizeof(p), sdir, name);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(pwrite(fd, h, hlen, 0), (ssize_t)hlen);
	close(fd);
}

static void
good_header(struct store_header *h, enum store_kind kind, uint64_t cap)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, STORE_KEY_MAGIC, STORE_MAGIC_LEN);
	h->version = STORE_VERSION;
	h->header_size = STORE_HEADER_SIZE;
	h->kind = kind;
	h->type = STORE_U64;
	h->value_size = 8;
	h->byte_order = STORE_BYTE_ORDER;
	atomic_init(&h->capacity, cap);
	atomic_init(&h->word, 0);
}

static void
expect_invalid(const char *name, const char *why)
{
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";
	int r = store_view_open(&v, sdir, name, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "%s: got %d (%s)", name, r, err);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(err, name) != NULL, "%s: err lacks key: %s",
	    name, err);
	ck_assert_msg(strstr(err, sdir) != NULL, "%s: err lacks dir: %s",
	    name, err);
	ck_assert_msg(strstr(err, why) != NULL, "%s: err '%s' lacks '%s'",
	    name, err, why);
}

START_TEST(test_view_rejects_malformed_files)
{
	struct store_header h;
	char p[600];

	ck_assert_int_eq(mkdir(sdir, 0700), 0);

	good_header(&h, STORE_SERIES, 480);
	plant("good", &h, sizeof(h), 4096);
	{
		struct store_view *v;
		char err[STORE_ERR_MAX] = "";

		ck_assert_int_eq(store_view_open(&v, sdir, "good", err,
		    sizeof(err)), 0);
		store_view_close(v);
	}
	memcpy(h.magic, "NOTMAGIC", 8);
	plant("badmagic", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	h.version = 2;
	plant("badversion", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	plant("short", &h, 100, 100);
	plant("empty", &h, 0, 0);
	good_header(&h, STORE_SERIES, 1000);
	plant("bigcap", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, UINT64_MAX / 4);
	plant("hugecap", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	atomic_init(&h.word, 481);
	plant("overcount", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	h.kind = 7;
	plant("badkind", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	h.type = 9;
	plant("badtype", &h, sizeof(h), 4096);
	good_header(&h, STORE_SERIES, 480);
	h.header_size = 64;
	plant("badhdrsize", &h, sizeof(h), 4096);
	good_header(&h, STORE_COUNTER, 5);
	plant("countercap", &h, sizeof(h), 256);
	path_in(p, sizeof(p), sdir, "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	path_in(p, sizeof(p), sdir, "link");
	ck_assert_int_eq(symlink("good", p), 0);

	expect_invalid("badmagic", "bad magic");
	expect_invalid("badversion", "unknown format version 2");
	expect_invalid("short", "shorter than");
	expect_invalid("empty", "shorter than");
	expect_invalid("bigcap", "capacity 1000");
	expect_invalid("hugecap", "capacity");
	expect_invalid("overcount", "count 481 exceeds capacity 480");
	expect_invalid("badkind", "unknown kind");
	expect_invalid("badtype", "unknown value type");
	expect_invalid("badhdrsize", "header size");
	expect_invalid("countercap", "counter with capacity");
	expect_invalid("fifo", "not a regular file");
	expect_invalid("link", "symlink");
}
END_TEST

/* A file whose count jumps past its size after open is caught at refresh. */
START_TEST(test_view_refresh_rejects_count_past_file)
{
	struct store_header h;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "", p[600];
	uint64_t n, word = 100000;
	int fd;

	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	good_header(&h, STORE_SERIES, 480);
	plant("lat", &h, sizeof(h), 4096);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	path_in(p, sizeof(p), sdir, "lat");
	fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &word, 8, 128), 8);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "exceeds capacity"));
	/* Backwards after a good read is refused too. */
	word = 10;
	ck_assert_int_eq(pwrite(fd, &word, 8, 128), 8);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 10);
	word = 3;
	ck_assert_int_eq(pwrite(fd, &word, 8, 128), 8);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "backwards"));
	close(fd);
	store_view_close(v);
}
END_TEST

START_TEST(test_status_rejects_malformed_metadata)
{
	struct store_status st;
	char err[STORE_ERR_MAX] = "", p[600];
	int fd;

	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	path_in(p, sizeof(p), sdir, ".store");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "garbage-garbage-garbage", 23), 23);
	close(fd);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ".store"));
	ck_assert(!st.exists);
}
END_TEST

/* ---- one writer, liveness, states (real processes) ---- */

/*
 * Child: open the store, say so on `ready`, then wait until the parent
 * closes `go` and close with FINAL. Exits 0 on success.
 */
static pid_t
spawn_writer(const char *dir, int *ready_rd, int *go_wr)
{
	int ready[2], go[2];
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store_writer *w;
		char err[STORE_ERR_MAX];
		char c;

		close(ready[0]);
		close(go[1]);
		if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
			_exit(10);
		pipe_signal(ready[1]);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(store_writer_close(w, STORE_FINAL) == 0 ? 0 : 11);
	}
	close(ready[1]);
	close(go[0]);
	*ready_rd = ready[0];
	*go_wr = go[1];
	return pid;
}

START_TEST(test_second_writer_is_busy_across_processes)
{
	struct store_writer *w;
	struct store_status st;
	char err[STORE_ERR_MAX] = "", pidstr[32];
	int ready, go, status;
	pid_t pid = spawn_writer(sdir, &ready, &go);

	ck_assert(pipe_wait(ready));
	ck_assert_int_eq(store_writer_open(&w, sdir, err, sizeof(err)),
	    -EBUSY);
	ck_assert_ptr_null(w);
	snprintf(pidstr, sizeof(pidstr), "pid %ld", (long)pid);
	ck_assert_msg(strstr(err, sdir) && strstr(err, pidstr),
	    "err '%s' should name %s and %s", err, sdir, pidstr);
	/* Readers only ask; asking must not disturb the writer. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_status_read(sdir, &st, err,
		    sizeof(err)), 0);
		ck_assert(st.exists);
		ck_assert(st.writer_alive);
		ck_assert_int_eq(st.state, STORE_LIVE);
		ck_assert_int_eq(st.writer_pid, pid);
	}
	close(go);
	status = testutil_wait(pid, WAIT_MS);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert(st.exists);
	ck_assert(!st.writer_alive);
	ck_assert_int_eq(st.state, STORE_FINAL);
	w = writer_open_ok(sdir);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(st.state, STORE_LIVE);
	ck_assert_int_eq(st.writer_pid, getpid());
	ck_assert(st.writer_alive);
	ck_assert_int_eq(store_writer_close(w, STORE_INTERRUPTED), 0);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(st.state, STORE_INTERRUPTED);
	ck_assert(!st.writer_alive);
}
END_TEST

START_TEST(test_killed_writer_is_abandoned)
{
	struct store_status st;
	char err[STORE_ERR_MAX] = "";
	int ready, go, status;
	pid_t pid = spawn_writer(sdir, &ready, &go);

	ck_assert(pipe_wait(ready));
	kill(pid, SIGKILL);
	status = testutil_wait(pid, WAIT_MS);
	ck_assert(WIFSIGNALED(status));
	close(go);
	close(ready);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert(st.exists);
	ck_assert_int_eq(st.state, STORE_LIVE);
	ck_assert(!st.writer_alive);
	ck_assert_int_eq(st.writer_pid, pid);
	/* The lock died with it: a new writer can take over. */
	store_writer_close(writer_open_ok(sdir), STORE_FINAL);
}
END_TEST

/* An exec'd writer (tests/helpers/store_fill), read from this process. */
START_TEST(test_exec_writer_values_and_states)
{
	char *helper = testutil_helper("store_fill");
	char err[STORE_ERR_MAX] = "", line[16];
	int in[2], out[2], status;
	struct store_status st;
	struct store_view *v;
	uint64_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(helper);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(helper, "store_fill", "-w", sdir,
		    "counter:done:u64=42", "series:lat:i64=5,-1,9",
		    "series:empty:f64=", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ck_assert_int_eq(read(out[0], line, sizeof(line)), 6);
	ck_assert_int_eq(memcmp(line, "ready\n", 6), 0);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert(st.exists && st.writer_alive);
	ck_assert_int_eq(st.writer_pid, pid);
	ck_assert_int_eq(store_view_open(&v, sdir, "done", err, sizeof(err)),
	    0);
	ck_assert_uint_eq(store_view_counter(v).u, 42);
	store_view_close(v);
	ck_assert_int_eq(store_view_open(&v, sdir, "lat", err, sizeof(err)),
	    0);
	ck_assert_int_eq(store_view_type(v), STORE_I64);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(store_view_values(v)[1].i, -1);
	store_view_close(v);
	ck_assert_int_eq(store_view_open(&v, sdir, "empty", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_view_refresh(v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	store_view_close(v);
	close(in[1]);			/* EOF: the helper closes FINAL */
	status = testutil_wait(pid, WAIT_MS);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(out[0]);
	ck_assert_int_eq(store_status_read(sdir, &st, err, sizeof(err)), 0);
	ck_assert(st.exists && !st.writer_alive);
	ck_assert_int_eq(st.state, STORE_FINAL);
	free(helper);
}
END_TEST

/* ---- crash safety (real processes) ---- */

/*
 * Child: create series "s", write one byte on *rd's pipe once it exists
 * (first == 0) or after `first` values, and append pattern(i) for
 * i = 0..limit-1 (or until killed). With go >= 0, wait for a byte on go
 * before the first append.
 */
static pid_t
spawn_appender(const char *dir, uint64_t first, uint64_t limit, int *rd,
    int go)
{
	int pfd[2];
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store_writer *w;
		struct store_key *k;
		char err[STORE_ERR_MAX];

		close(pfd[0]);
		if (store_writer_open(&w, dir, err, sizeof(err)) < 0 ||
		    store_series_create(w, "s", STORE_U64, &k, err,
		    sizeof(err)) < 0)
			_exit(10);
		if (first == 0)
			pipe_signal(pfd[1]);
		if (go >= 0)
			pipe_wait(go);
		for (uint64_t i = 0; i < limit; i++) {
			if (store_series_append(k,
			    (union store_value){ .u = pattern(i) }) < 0)
				_exit(11);
			if (i + 1 == first)
				pipe_signal(pfd[1]);
		}
		_exit(store_writer_close(w, STORE_FINAL) == 0 ? 0 : 12);
	}
	close(pfd[1]);
	*rd = pfd[0];
	return pid;
}

/* Every visible value is the one written at its index. */
static uint64_t
verify_series(const char *dir, const char *name)
{
	struct store_view *v;
	char err[STORE_ERR_MAX] = "";
	const union store_value *vals;
	uint64_t n;

	ck_assert_msg(store_view_open(&v, dir, name, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_msg(store_view_refresh(v, &n, err, sizeof(err)) == 0,
	    "%s", err);
	vals = store_view_values(v);
	/* Not ck_assert per value: Check records every assert's location. */
	for (uint64_t i = 0; i < n; i++)
		if (vals[i].u != pattern(i))
			ck_abort_msg("value %llu is %llx",
			    (unsigned long long)i,
			    (unsigned long long)vals[i].u);
	store_view_close(v);
	return n;
}

START_TEST(test_writer_sigkill_leaves_only_written_values)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);

	for (int round = 0; round < 5; round++) {
		struct store_view *v;
		struct store_status st;
		char err[STORE_ERR_MAX] = "";
		uint64_t n = 0, first = 20000, spins;
		int rd, status;
		pid_t pid;

		testutil_rmtree(sdir);
		pid = spawn_appender(sdir, first, UINT64_C(1) << 25, &rd, -1);
		ck_assert(pipe_wait(rd));
		close(rd);
		/* Kill at a varying point while the writer is busy. */
		ck_assert_int_eq(store_view_open(&v, sdir, "s", err,
		    sizeof(err)), 0);
		spins = (uint64_t)rand_r(&seed) % 2000;
		for (uint64_t i = 0; i < spins; i++)
			ck_assert_int_eq(store_view_refresh(v, &n, err,
			    sizeof(err)), 0);
		kill(pid, SIGKILL);
		status = testutil_wait(pid, WAIT_MS);
		ck_assert(WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL);
		store_view_close(v);
		n = verify_series(sdir, "s");
		ck_assert_uint_ge(n, first);
		ck_assert_int_eq(store_status_read(sdir, &st, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(st.state, STORE_LIVE);
		ck_assert(!st.writer_alive);
	}
}
END_TEST

/* ---- stress: growth under concurrent readers ---- */

/*
 * Values the stress writer appends: 16M (128 MiB, 15 growths from one
 * page) in the plain build; fewer under ASan, or as set in the environment.
 */
static uint64_t
stress_values(void)
{
	const char *e = getenv("METRICSD_STORE_STRESS_VALUES");

	if (e && *e)
		return strtoull(e, NULL, 10);
	return UNDER_ASAN ? 2000000 : 16000000;
}

/*
 * Reader child: open "s", say so on `ready`, then follow it until it holds
 * total values, checking that the count never goes backwards and that
 * every value is the one written at its index. Writes how many refreshes
 * saw new values on `ready` and exits 0 when all was well.
 */
static void
stress_reader(const char *dir, uint64_t total, int ready)
{
	struct store_view *v;
	char err[STORE_ERR_MAX];
	uint64_t n = 0, seen = 0, refreshes = 0, progress = 0;

	if (store_view_open(&v, dir, "s", err, sizeof(err)) < 0)
		_exit(20);
	pipe_signal(ready);
	while (seen < total) {
		const union store_value *vals;

		if (store_view_refresh(v, &n, err, sizeof(err)) < 0) {
			fprintf(stderr, "reader: %s\n", err);
			_exit(21);
		}
		if (n < seen)
			_exit(22);	/* count went backwards */
		if (n > seen)
			progress++;
		vals = store_view_values(v);
		for (; seen < n; seen++) {
			if (vals[seen].u != pattern(seen)) {
				fprintf(stderr, "reader: value %llu wrong\n",
				    (unsigned long long)seen);
				_exit(23);
			}
		}
		if (++refreshes % 64 == 0)
			sched_yield();	/* share 2 cores with writer */
	}
	store_view_close(v);
	if (write(ready, &progress, sizeof(progress)) != sizeof(progress))
		_exit(25);
	_exit(seen == total ? 0 : 24);
}

START_TEST(test_stress_growth_with_concurrent_readers)
{
	uint64_t total = stress_values(), progress;
	pid_t writer, readers[2];
	int rd, go[2], ready[2], status;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	writer = spawn_appender(sdir, 0, total, &rd, go[0]);
	close(go[0]);
	ck_assert(pipe_wait(rd));	/* "s" exists */
	close(rd);
	for (int i = 0; i < 2; i++) {
		readers[i] = fork();
		ck_assert_int_ge(readers[i], 0);
		if (readers[i] == 0) {
			close(go[1]);
			close(ready[0]);
			stress_reader(sdir, total, ready[1]);
		}
	}
	close(ready[1]);
	ck_assert(pipe_wait(ready[0]));
	ck_assert(pipe_wait(ready[0]));
	pipe_signal(go[1]);		/* both readers are in: go */
	close(go[1]);
	status = testutil_wait(writer, WAIT_MS);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer status %d", status);
	for (int i = 0; i < 2; i++) {
		status = testutil_wait(readers[i], WAIT_MS);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "reader %d status %d", i, status);
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(read(ready[0], &progress, sizeof(progress)),
		    (ssize_t)sizeof(progress));
		/* Informative only: how often a reader caught the writer
		 * mid-run depends on scheduling. */
		fprintf(stderr, "store stress: %llu values, a reader saw "
		    "%llu intermediate counts\n", (unsigned long long)total,
		    (unsigned long long)progress);
	}
	close(ready[0]);
	ck_assert_uint_eq(verify_series(sdir, "s"), total);
}
END_TEST

/* ---- a full tmpfs (root, private mount namespace) ---- */

#define TINY_FS_SIZE "256k"

/* Mount a tiny tmpfs on dir in a new private mount namespace. */
static int
tiny_tmpfs(const char *dir, char *why, size_t whylen)
{
	if (unshare(CLONE_NEWNS) < 0) {
		snprintf(why, whylen, "unshare(CLONE_NEWNS): %s",
		    strerror(errno));
		return -1;
	}
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(why, whylen, "making / private: %s", strerror(errno));
		return -1;
	}
	if (mount("tmpfs", dir, "tmpfs", 0, "size=" TINY_FS_SIZE
	    ",mode=0700") < 0) {
		snprintf(why, whylen, "mount tmpfs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Why the tmpfs test cannot run here, or NULL when it can. */
static const char *
tiny_tmpfs_unavailable(void)
{
	static char why[256];
	char *d;
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0)
		return "not root (mounting a tmpfs needs CAP_SYS_ADMIN)";
	d = testutil_tmpdir();
	if (!d || pipe(pfd) < 0)
		return "cannot make a temporary directory";
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (tiny_tmpfs(d, why, sizeof(why)) < 0) {
			n = write(pfd[1], why, strlen(why));
			_exit(n > 0 ? 1 : 2);
		}
		_exit(0);
	}
	close(pfd[1]);
	n = pid > 0 ? read(pfd[0], why, sizeof(why) - 1) : -1;
	why[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	status = pid > 0 ? testutil_wait(pid, WAIT_MS) : -1;
	rmdir(d);
	free(d);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return why[0] ? why : "probe child failed";
	return NULL;
}

/* Fail the child with a message the parent prints. */
#define CHILD_CHECK(cond, code) do { \
	if (!(cond)) { \
		fprintf(stderr, "enospc child: %s failed: %s\n", #cond, err); \
		_exit(code); \
	} \
} while (0)

static void
enospc_child(const char *mnt)
{
	struct store_writer *w;
	struct store_key *lat, *more, *c;
	struct store_view *v;
	char err[STORE_ERR_MAX] = "", dir[600], filler[600], why[256];
	uint64_t n = 0, i = 0;
	int fd, r;

	if (tiny_tmpfs(mnt, why, sizeof(why)) < 0) {
		fprintf(stderr, "enospc child: %s\n", why);
		_exit(30);
	}
	snprintf(dir, sizeof(dir), "%s/store", mnt);
	CHILD_CHECK(store_writer_open(&w, dir, err, sizeof(err)) == 0, 31);
	CHILD_CHECK(store_counter_create(w, "done", STORE_U64, &c, err,
	    sizeof(err)) == 0, 32);
	CHILD_CHECK(store_series_create(w, "lat", STORE_U64, &lat, err,
	    sizeof(err)) == 0, 33);
	/* Fill half the space with a file we can delete later. */
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	fd = open(filler, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0, 34);
	CHILD_CHECK(posix_fallocate(fd, 0, 128 * 1024) == 0, 35);
	close(fd);
	/* Reserving more than the tmpfs holds: -ENOSPC up front. */
	CHILD_CHECK(store_series_reserve(lat, 1u << 20) == -ENOSPC, 56);
	CHILD_CHECK(strstr(store_key_error(lat), "'lat'") != NULL, 57);
	for (;;) {
		r = store_series_append(lat, (union store_value){
		    .u = pattern(i) });
		if (r < 0)
			break;
		i++;
		CHILD_CHECK(i < 1000000, 36);
	}
	snprintf(err, sizeof(err), "%s", store_key_error(lat));
	CHILD_CHECK(r == -ENOSPC, 37);
	CHILD_CHECK(strstr(err, "'lat'") != NULL, 38);
	CHILD_CHECK(strstr(err, "No space") != NULL, 39);
	CHILD_CHECK(i > 0, 40);
	/* Appending again fails again, cleanly, and changes nothing. */
	CHILD_CHECK(store_series_append(lat, (union store_value){ .u = 0 })
	    == -ENOSPC, 41);
	CHILD_CHECK(store_series_count(lat) == i, 42);
	/* Creating keys fails cleanly too, once the last pages are gone. */
	for (int m = 0; m < 100; m++) {
		char name[32];

		snprintf(name, sizeof(name), "more%d", m);
		r = store_series_create(w, name, STORE_U64, &more, err,
		    sizeof(err));
		if (r < 0)
			break;
	}
	CHILD_CHECK(r == -ENOSPC, 43);
	CHILD_CHECK(strstr(err, "'more") != NULL, 44);
	/* What was written stays readable, and counters still work. */
	CHILD_CHECK(store_counter_add(c, 3) == 3, 45);
	CHILD_CHECK(store_view_open(&v, dir, "lat", err, sizeof(err)) == 0,
	    46);
	CHILD_CHECK(store_view_refresh(v, &n, err, sizeof(err)) == 0, 47);
	CHILD_CHECK(n == i, 48);
	for (uint64_t j = 0; j < n; j++)
		CHILD_CHECK(store_view_values(v)[j].u == pattern(j), 49);
	/* Space freed: the same key carries on where it stopped. */
	CHILD_CHECK(unlink(filler) == 0, 50);
	for (uint64_t j = 0; j < 2000; j++, i++)
		CHILD_CHECK(store_series_append(lat, (union store_value){
		    .u = pattern(i) }) == 0, 51);
	CHILD_CHECK(store_view_refresh(v, &n, err, sizeof(err)) == 0, 52);
	CHILD_CHECK(n == i, 53);
	for (uint64_t j = 0; j < n; j++)
		CHILD_CHECK(store_view_values(v)[j].u == pattern(j), 54);
	store_view_close(v);
	CHILD_CHECK(store_writer_close(w, STORE_FINAL) == 0, 55);
	_exit(0);
}

START_TEST(test_full_tmpfs_is_enospc_not_sigbus)
{
	int status;
	pid_t pid;

	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		enospc_child(sdir);
	status = testutil_wait(pid, WAIT_MS);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x (signal %d, exit %d)", status,
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

Suite *
store_suite(void)
{
	/* Probe first: the probe forks, and the child should not inherit a
	 * half-built suite. */
	const char *why = tiny_tmpfs_unavailable();
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_check_rejects_bad_names);
	tcase_add_test(tc, test_default_dir_env_and_fallback);
	tcase_add_test(tc, test_writer_open_creates_private_dir);
	tcase_add_test(tc, test_writer_refuses_symlinked_dir);
	tcase_add_test(tc, test_writer_refuses_group_accessible_dir);
	tcase_add_test(tc, test_writer_refuses_foreign_owner);
	tcase_add_test(tc, test_writer_refuses_missing_parent);
	tcase_add_test(tc, test_key_create_rejects_bad_name);
	tcase_add_test(tc, test_key_create_replaces_symlink_without_following);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counter_roundtrip);
	tcase_add_test(tc, test_series_append_grows_and_view_remaps);
	tcase_add_test(tc, test_series_reserve);
	tcase_add_test(tc, test_series_types_roundtrip);
	tcase_add_test(tc, test_key_recreate_new_run);
	tcase_add_test(tc, test_view_holds_no_fd_and_sees_replacement);
	tcase_add_test(tc, test_view_open_missing_dir_is_enoent);
	tcase_add_test(tc, test_view_open_missing_key_then_appears);
	tcase_add_test(tc, test_names_list_sorted_and_skips_non_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_view_rejects_malformed_files);
	tcase_add_test(tc, test_view_refresh_rejects_count_past_file);
	tcase_add_test(tc, test_status_rejects_malformed_metadata);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, setup_shm, teardown);
	tcase_add_test(tc, test_second_writer_is_busy_across_processes);
	tcase_add_test(tc, test_killed_writer_is_abandoned);
	tcase_add_test(tc, test_exec_writer_values_and_states);
	tcase_add_test(tc, test_writer_sigkill_leaves_only_written_values);
	tcase_add_test(tc, test_stress_growth_with_concurrent_readers);
	suite_add_tcase(s, tc);

	if (why) {
		printf("store: SKIPPED (not run, not passed) "
		    "test_full_tmpfs_is_enospc_not_sigbus: %s\n", why);
	} else {
		tc = tcase_create("enospc");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, test_full_tmpfs_is_enospc_not_sigbus);
		suite_add_tcase(s, tc);
	}
	return s;
}
