/*
 * bench_report: what `metricsd report --json` costs, against
 * `metricsd read --json` on the same store (both as their modes do it:
 * a fresh store follower, one refresh of every key, then the figures
 * and the JSON to /dev/null), and what a --watch redraw costs after 1%
 * new values in every series, against that first report.
 *
 * The store: the aggregator's keys with 20 series of N values each (the
 * seven rows of the report, the three sample-aligned goodput series, ten
 * more), counters set as a finished run leaves them. Goodput SLOs on, so
 * the aligned series are walked.
 *
 * Targets (issue 10): first report <= 1.2x read --json; a redraw after
 * +1% <= 0.1x the first report. The redraw's share spent in the store
 * follower's refresh (folding the new values and merging them into each
 * series' sorted values, store_follow.c and rollup.c) is printed too:
 * the report's own work after it is the rest.
 *
 * Usage: bench_report [N]   (default 1000000 values per series)
 */
#include <errno.h>
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
#define REPS 3

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
	return bench_rng(&rng_state);
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

int
main(int argc, char **argv)
{
	char tmpl[BENCH_PATH_MAX], dir[BENCH_STORE_PATH_MAX];
	char err[STORE_ERR_MAX];
	struct store_writer *w;
	struct store_key *k[NSERIES], *c;
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	struct report_slo slo = { .has_ttft = true, .ttft_ns = 2000000,
	    .has_tpot = true, .tpot_ns = 100000, .has_latency = true,
	    .latency_ns = 3000000 };
	struct report *rep = malloc(sizeof(*rep));
	double t_read = 1e18, t_first = 1e18, t_redraw = 1e18;
	double t_refresh = 1e18;
	FILE *null = fopen("/dev/null", "w");

	if (n < 1000)
		n = 1000;
	if (!rep || !null)
		die("setup", strerror(errno));
	bench_dir_make("report", tmpl, dir);
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
	printf("bench_report: %d series x %zu values in %s\n", NSERIES, n, dir);

	/*
	 * Alternate read and report, each from a fresh follower (as a new
	 * process would), keeping the best of REPS. The store's pages are
	 * in memory for both: it lives in /dev/shm.
	 */
	for (int rep_i = 0; rep_i < REPS; rep_i++) {
		struct store_follow *f;
		const struct store_snap *snap;
		double t;

		t = read_json_once(dir, null);
		t_read = t < t_read ? t : t_read;

		uint64_t t0 = bench_now_ns();
		if (store_follow_open(&f, dir, NULL, NULL) < 0 ||
		    store_follow_refresh(f, NULL, 0, &snap) < 0 ||
		    report_compute(snap, &slo, rep, err, sizeof(err)) < 0)
			die("report", err);
		report_render_json(null, rep);
		fflush(null);
		t = (double)(bench_now_ns() - t0) / 1e6;
		t_first = t < t_first ? t : t_first;

		/* A --watch redraw: +1% in every series, refresh, report. */
		append(k, n / 100);
		t0 = bench_now_ns();
		if (store_follow_refresh(f, NULL, 0, &snap) < 0)
			die("store_follow_refresh", "out of memory");
		t = (double)(bench_now_ns() - t0) / 1e6;
		t_refresh = t < t_refresh ? t : t_refresh;
		if (report_compute(snap, &slo, rep, err, sizeof(err)) < 0)
			die("report", err);
		report_render_json(null, rep);
		fflush(null);
		t = (double)(bench_now_ns() - t0) / 1e6;
		t_redraw = t < t_redraw ? t : t_redraw;
		store_follow_free(f);
	}
	bench_report("report --json, first", t_first, "ms", "read --json",
	    t_read, "<= 1.2x");
	bench_report("report --watch redraw +1%", t_redraw, "ms",
	    "first report", t_first, "<= 0.1x");
	bench_report("  of which follower refresh", t_refresh, "ms",
	    "the whole redraw", t_redraw, NULL);

	store_writer_close(w, STORE_FINAL);
	fclose(null);
	free(rep);
	bench_dir_remove("report", tmpl);
	return 0;
}
