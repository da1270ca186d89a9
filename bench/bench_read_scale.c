/*
 * bench_read_scale: `metricsd read --json` of one very long series, its
 * peak memory (RSS) and its time against a plain sort(1) of the same
 * values (issue 13, point 2).
 *
 * For each type (u64, i64, f64) a store with one series of N values is
 * written; then `metricsd read --json --metrics-dir DIR KEY` runs as a child, its
 * output thrown away, and wait4 gives its peak RSS; then `sort -n` (u64,
 * i64) or `sort -g` (f64), LC_ALL=C, sorts the same values, one per line
 * in a text file, also into /dev/null. Targets: RSS under 1 GiB for 1e8
 * u64 values; bytes per value at most 8 plus a fixed few MiB.
 *
 * Usage: bench_read_scale [N_U64 [N_OTHER]]
 *   (default 100000000 and 10000000; METRICSD_BIN names the binary)
 * Store and text files go under $TMPDIR (default /tmp) and are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "store.h"

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rng(void)
{
	return bench_rng(&rng_state);
}

/* Run argv with stdout to /dev/null; its wall time and peak RSS (KiB). */
static int
run(char *const argv[], const char *env, double *secs, long *maxrss_kib)
{
	struct rusage ru;
	uint64_t t0 = bench_now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (env)
			putenv((char *)env);
		dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	*maxrss_kib = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
one(const char *bin, const char *tmp, enum store_type type, uint64_t n)
{
	static const char *names[] = { "", "u64", "i64", "f64" };
	char dir[4096], txt[4096], err[STORE_ERR_MAX], cmd[8300];
	struct store_writer *w;
	struct store_key *k;
	double t_read, t_sort;
	long rss_read, rss_sort;
	FILE *f;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/bench_read_scale.%d", tmp, (int)getpid());
	snprintf(txt, sizeof(txt), "%s/bench_read_scale.%d.txt", tmp,
	    (int)getpid());
	if (store_writer_open(&w, dir, err, sizeof(err)) < 0 ||
	    store_series_create(w, "v", type, &k, err, sizeof(err)) < 0 ||
	    store_series_reserve(k, n) < 0) {
		fprintf(stderr, "bench_read_scale: %s\n", err);
		return -1;
	}
	if (!(f = fopen(txt, "w"))) {
		perror(txt);
		store_writer_close(w, STORE_FINAL);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		union store_value v;
		uint64_t x = rng();

		/* Latency-like values, with a spread over many digits. */
		if (type == STORE_U64) {
			v.u = 100000 + x % 4000000000u;
			fprintf(f, "%" PRIu64 "\n", v.u);
		} else if (type == STORE_I64) {
			v.i = (int64_t)(x % 4000000000u) - 2000000000;
			fprintf(f, "%" PRId64 "\n", v.i);
		} else {
			v.f = (double)(x % 4000000000u) / 1024.0 - 1e6;
			fprintf(f, "%.17g\n", v.f);
		}
		if (store_series_append(k, v) < 0) {
			fprintf(stderr, "bench_read_scale: append: %s\n",
			    store_key_error(k));
			goto out;
		}
	}
	if (fclose(f) != 0) {
		perror(txt);
		f = NULL;
		goto out;
	}
	f = NULL;
	store_writer_close(w, STORE_FINAL);
	w = NULL;
	{
		char *rargv[] = { (char *)bin, "read", "--json",
		    "--metrics-dir", dir, "v", NULL };
		char *sargv[] = { "sort", type == STORE_F64 ? "-g" : "-n", txt,
		    NULL };

		if (run(rargv, NULL, &t_read, &rss_read) < 0) {
			fprintf(stderr, "bench_read_scale: %s read failed\n", bin);
			goto out;
		}
		if (run(sargv, "LC_ALL=C", &t_sort, &rss_sort) < 0) {
			fprintf(stderr, "bench_read_scale: sort failed\n");
			goto out;
		}
	}
	printf("read --json, %s x %" PRIu64 ": %.2f s, peak RSS %.1f MiB "
	    "(%.2f bytes/value)%s\n", names[type], n, t_read,
	    (double)rss_read / 1024, (double)rss_read * 1024 / (double)n,
	    type == STORE_U64 && n >= 100000000 ?
	    (rss_read < 1024 * 1024 ? " [target < 1 GiB: met]" :
	    " [target < 1 GiB: MISSED]") : "");
	bench_report("  time vs sort(1)", t_read, "s", type == STORE_F64 ?
	    "sort -g of the same values" : "sort -n of the same values",
	    t_sort, "< 1");
	printf("  (sort peak RSS %.1f MiB)\n", (double)rss_sort / 1024);
	rc = 0;
out:
	if (f)
		fclose(f);
	if (w)
		store_writer_close(w, STORE_FINAL);
	unlink(txt);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	uint64_t nu = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000;
	uint64_t no = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;
	const char *bin = getenv("METRICSD_BIN");
	const char *tmp = getenv("TMPDIR");

	if (!bin || !*bin)
		bin = "build/metricsd";
	if (!tmp || !*tmp)
		tmp = "/tmp";
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_read_scale: one series, read --json vs sort(1)\n");
	if (one(bin, tmp, STORE_U64, nu) < 0 ||
	    one(bin, tmp, STORE_I64, no) < 0 ||
	    one(bin, tmp, STORE_F64, no) < 0)
		return 1;
	return 0;
}
