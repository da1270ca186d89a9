/*
 * bench_report: what `metricsd report --json` costs, against
 * `metricsd read --json` on the same store (both as their modes do it:
 * a fresh store follower, one refresh of every key, then the figures
 * and the JSON to /dev/null), and what --watch redraws cost, each after
 * 1% new values in every series, against that first report.
 *
 * The store: the aggregator's keys with 20 series of N values each (the
 * seven rows of the report, the three sample-aligned goodput series, ten
 * more), counters set as a finished run leaves them. Goodput SLOs on, so
 * the aligned series are walked.
 *
 * Targets (issue 10): first report <= 1.2x read --json; a redraw after
 * +1% <= 0.1x the first report. A run is: read --json, the first report,
 * then REDRAWS redraws, each after +1% (of the series' current length)
 * in every series. The new values wait in a second sorted run that is
 * merged into the main one only every dozen or so redraws (rollup.h),
 * so the redraws are reported as the first one, the median, the mean
 * (the amortised cost) and the slowest (the one that merged). The
 * redraw's share spent in the store follower's refresh (folding the new
 * values, sorting them, store_follow.c and rollup*.c) is printed too:
 * the report's own work after it is the rest.
 *
 * The machine may be shared: every ratio is against a baseline measured
 * in the same run, and every run is printed, not just the best.
 *
 * Usage: bench_report [N [RUNS [REDRAWS]]]   (1000000 values, 3, 20)
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aggregator.h"
#include "bench.h"
#include "render.h"
#include "report.h"
#include "store.h"
#include "store_follow.h"

#define NSERIES 20
#define MAX_REDRAWS 200

static const char *const names[NSERIES] = {
	"sample_latency_ns", "ttft_ns", "tpot_ns", "tpot_e2e_ns",
	"chunk_delta_ns", "isl", "osl", "sample_good_latency_ns",
	"sample_good_ttft_ns", "sample_good_tpot_e2e_ns",
	"extra_00", "extra_01", "extra_02", "extra_03", "extra_04",
	"extra_05", "extra_06", "extra_07", "extra_08", "extra_09",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_report: %s: %s\n", what, err);
	exit(1);
}

static enum store_type
type_of(const char *name)
{
	return strcmp(name, "tpot_ns") == 0 ||
	    strcmp(name, "tpot_e2e_ns") == 0 ||
	    strcmp(name, "sample_good_tpot_e2e_ns") == 0 ? STORE_F64 :
	    STORE_U64;
}

static union store_value
value(enum store_type t, const char *name)
{
	union store_value v;
	uint64_t a = rng() % 4000000, b = rng() % 160000000;

	v.u = 50000 + (a < b ? a : b);
	if (name[0] == 'i' || name[0] == 'o')
		v.u = 1 + rng() % 2000;		/* token counts */
	if (t == STORE_F64)
		v.f = (double)v.u / 17.0;
	return v;
}

static void
append(struct store_key **k, size_t n)
{
	for (int s = 0; s < NSERIES; s++) {
		enum store_type t = type_of(names[s]);
		for (size_t i = 0; i < n; i++)
			if (store_series_append(k[s], value(t, names[s])) < 0)
				die("store_series_append",
				    store_key_error(k[s]));
	}
}

static double
read_json_once(const char *dir, FILE *null)
{
	struct store_follow *f;
	const struct store_snap *snap;
	size_t skipped = 0;
	uint64_t t0 = bench_now_ns();

	if (store_follow_open(&f, dir, NULL, NULL) < 0 ||
	    store_follow_refresh(f, NULL, 0, &snap) < 0)
		die("store_follow", "out of memory");
	render_json(null, snap, false, NULL, NULL, &skipped);
	fflush(null);
	t0 = bench_now_ns() - t0;
	store_follow_free(f);
	return (double)t0 / 1e6;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One report as a --watch redraw makes it: refresh, compute, render. */
static double
report_once(struct store_follow *f, const struct report_slo *slo,
    struct report *rep, FILE *null, double *t_refresh)
{
	const struct store_snap *snap;
	char err[STORE_ERR_MAX];
	uint64_t t0 = bench_now_ns(), t1;

	if (store_follow_refresh(f, NULL, 0, &snap) < 0)
		die("store_follow_refresh", "out of memory");
	t1 = bench_now_ns();
	if (report_compute(snap, slo, rep, err, sizeof(err)) < 0)
		die("report", err);
	report_render_json(null, rep);
	fflush(null);
	if (t_refresh)
		*t_refresh = (double)(t1 - t0) / 1e6;
	return (double)(bench_now_ns() - t0) / 1e6;
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/dev/shm/metricsd-bench-report.XXXXXX", dir[256];
	char err[STORE_ERR_MAX];
	struct store_writer *w;
	struct store_key *k[NSERIES], *c;
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	int redraws = argc > 3 ? atoi(argv[3]) : 20;
	struct report_slo slo = { .has_ttft = true, .ttft_ns = 2000000,
	    .has_tpot = true, .tpot_ns = 100000, .has_latency = true,
	    .latency_ns = 3000000 };
	struct report *rep = malloc(sizeof(*rep));
	double t_redraw[MAX_REDRAWS], t_sorted[MAX_REDRAWS];
	double r_first[64], r_mean[64], r_max[64];
	size_t len;
	FILE *null = fopen("/dev/null", "w");

	if (n < 1000)
		n = 1000;
	if (runs < 1 || runs > 64)
		runs = 3;
	if (redraws < 1 || redraws > MAX_REDRAWS)
		redraws = 20;
	if (!rep || !null)
		die("setup", strerror(errno));
	if (!mkdtemp(tmpl) && !mkdtemp(strcpy(tmpl,
	    "/tmp/metricsd-bench-report.XXXXXX")))
		die("mkdtemp", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/store", tmpl);
	if (store_writer_open(&w, dir, err, sizeof(err)) < 0)
		die("store_writer_open", err);
	static const char *const counters[][2] = {
		{ "tracked_samples_issued", "" }, { "tracked_samples_completed", "" },
		{ "total_samples_failed", "" }, { "tracked_duration_ns", "" },
		{ "samples_in_flight", "" },
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (store_counter_create(w, counters[i][0], STORE_U64, &c, err,
		    sizeof(err)) < 0)
			die("store_counter_create", err);
		store_counter_set(c, (union store_value){ .u = i == 3 ?
		    600000000000ull : i == 4 ? 0 : n });
	}
	for (int s = 0; s < NSERIES; s++)
		if (store_series_create(w, names[s], type_of(names[s]), &k[s],
		    err, sizeof(err)) < 0)
			die("store_series_create", err);
	append(k, n);
	len = n;
	printf("bench_report: %d series x %zu values in %s; %d runs of "
	    "read, report, %d redraws (+1%% each)\n", NSERIES, n, dir, runs,
	    redraws);
	printf("  (times from a shared, possibly loaded machine: compare "
	    "the ratios, run by run)\n");

	/*
	 * Each run from fresh followers (as a new process would). The
	 * store's pages are in memory for both: it lives in /dev/shm. The
	 * series grow by 1% at each redraw, so later runs read more.
	 */
	for (int run = 0; run < runs; run++) {
		struct store_follow *f;
		double t_read, t_first, t_ref, ref_sum = 0, sum = 0, med;
		size_t len0 = len;
		char what[64];

		t_read = read_json_once(dir, null);
		if (store_follow_open(&f, dir, NULL, NULL) < 0)
			die("store_follow_open", "out of memory");
		t_first = report_once(f, &slo, rep, null, NULL);
		for (int i = 0; i < redraws; i++) {
			append(k, len / 100);
			len += len / 100;
			t_redraw[i] = report_once(f, &slo, rep, null, &t_ref);
			ref_sum += t_ref;
			sum += t_redraw[i];
		}
		store_follow_free(f);
		memcpy(t_sorted, t_redraw, redraws * sizeof(double));
		qsort(t_sorted, redraws, sizeof(double), cmp_double);
		med = t_sorted[redraws / 2];
		r_first[run] = t_first / t_read;
		r_mean[run] = sum / redraws / t_first;
		r_max[run] = t_sorted[redraws - 1] / t_first;
		printf("run %d: %zu values a series, %zu after the redraws\n",
		    run + 1, len0, len);
		bench_report("report --json, first", t_first, "ms",
		    "read --json", t_read, "<= 1.2x");
		bench_report("redraw +1%, first", t_redraw[0], "ms",
		    "first report", t_first, "<= 0.1x");
		snprintf(what, sizeof(what), "redraw +1%%, median of %d",
		    redraws);
		bench_report(what, med, "ms", "first report", t_first,
		    "<= 0.1x");
		bench_report("redraw +1%, mean", sum / redraws, "ms",
		    "first report", t_first, "<= 0.1x");
		bench_report("redraw +1%, slowest", t_sorted[redraws - 1],
		    "ms", "first report", t_first, NULL);
		bench_report("  of which follower refresh", ref_sum / redraws,
		    "ms", "the mean redraw", sum / redraws, NULL);
	}
	printf("summary over %d runs (first/read; mean and slowest "
	    "redraw/first):", runs);
	for (int run = 0; run < runs; run++)
		printf(" [%.3gx %.3gx %.3gx]", r_first[run], r_mean[run],
		    r_max[run]);
	printf("\n");

	store_writer_close(w, STORE_FINAL);
	fclose(null);
	free(rep);
	if (nftw(tmpl, rm_entry, 8, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "bench_report: could not remove %s\n", tmpl);
	return 0;
}
