/*
 * The benchmark report of `metricsd report` (shared/spec/report.md;
 * every field: metricsd(1), "metricsd report"), as a pure function of a
 * store snapshot (store_follow.h) and the SLOs a user gives: the same
 * snapshot gives the same report, live or final.
 *
 * Percentiles and the other figures of a series are the follower's
 * incremental rollups, so a report taken again after a refresh costs the
 * new values; the early-stopping estimates (estop.h) are order statistics
 * of the same rollups, found in O(log^2 n) incomplete-beta steps. Goodput
 * walks the three sample-aligned series (metricsd-store(5)) once.
 *
 * Library code: nothing here prints or exits. report_render.c draws a
 * report for people and as JSON.
 */
#ifndef METRICSD_REPORT_H
#define METRICSD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rollup.h"
#include "store_follow.h"

/* The optional counter a token-counting aggregator keeps while token
 * work is queued (read if the store has it; > 0 marks the report
 * incomplete). */
#define REPORT_PENDING_KEY "token_work_pending"

enum report_state {
	REPORT_MISSING = 0,	/* no store (yet) */
	REPORT_LIVE,		/* a writer has it open */
	REPORT_COMPLETE,	/* closed at the end of the run */
	REPORT_INTERRUPTED,	/* closed on a signal */
	REPORT_ABANDONED	/* the writer died */
};

/* The rows of the table, in order. */
enum report_row {
	REPORT_TTFT = 0,
	REPORT_TPOT,
	REPORT_TPOT_E2E,
	REPORT_ITL,
	REPORT_LATENCY,
	REPORT_ISL,
	REPORT_OSL,
	REPORT_NROWS
};

/* Early-stopping percentiles: p90 and p99. */
#define REPORT_NES 2
extern const double report_es_p[REPORT_NES];		/* 0.90, 0.99 */
extern const char *const report_es_names[REPORT_NES];	/* "p90", "p99" */

struct report_estop {
	uint64_t min_queries;	/* values needed for an estimate */
	bool sufficient;	/* count >= min_queries */
	uint64_t t;		/* the estimate is the t-th highest value */
	double value;		/* the estimate (NaN when not sufficient) */
};

struct report_stats {
	const char *name;	/* JSON field: "ttft", "input_sequence_lengths" */
	const char *label;	/* table row: "TTFT", "ISL" */
	const char *key;	/* store key: "ttft_ns", "isl" */
	bool is_ns;		/* nanoseconds (shown in ms); else tokens */
	bool latency_like;	/* has early-stopping estimates */
	bool present;		/* the store has the key */
	enum store_type type;	/* of the series */
	uint64_t count;
	/* When count > 0 (NaN otherwise): */
	double mean, min, max, std;
	double q[ROLLUP_GRID_N];	/* rollup_grid: p50 .. p99.9 */
	struct report_estop es[REPORT_NES];	/* latency_like only */
};

/* SLOs: a sample is good when every one given holds (<=, inclusive). */
struct report_slo {
	bool has_ttft, has_tpot, has_latency;
	uint64_t ttft_ns, tpot_ns, latency_ns;
};

#define REPORT_MAX_REASONS 64

struct report_reason {
	char name[STORE_KEY_MAX + 1];	/* finish_reason_NAME: NAME */
	uint64_t count;
};

struct report {
	enum report_state state;
	bool tokens_pending;	/* token work still queued */
	uint64_t values_lost;	/* the store's lost count, when incomplete */
	bool data_lost;		/* the store is marked incomplete */
	bool complete;		/* state COMPLETE, nothing pending or lost */
	uint64_t n_samples_issued;	/* tracked_samples_issued */
	uint64_t n_samples_completed;	/* tracked_samples_completed */
	uint64_t n_samples_failed;	/* total_samples_failed */
	uint64_t samples_in_flight;
	uint64_t duration_ns;	/* tracked_duration_ns */
	bool has_qps, has_tps;
	double qps, tps;
	bool has_window, has_legacy_qps;
	uint64_t window_ns;	/* legacy_loadgen_window_duration_ns */
	double legacy_qps;
	struct report_stats rows[REPORT_NROWS];

	bool has_goodput;	/* SLOs were given */
	struct report_slo slo;
	bool goodput_known;	/* the store has the aligned series */
	uint64_t good_samples;
	bool has_goodput_fraction, has_goodput_qps;
	double goodput_fraction, goodput_qps;

	struct report_reason reasons[REPORT_MAX_REASONS];
	size_t nreasons;
	uint64_t reasons_dropped;	/* finish_reasons_dropped */
};

/*
 * Compute the report of snap (slo NULL or with nothing set: no goodput).
 * Non-const snap because percentiles merge pending values in the
 * snapshot's rollups. Returns 0, or -ENOMEM with err filled.
 */
int report_compute(const struct store_snap *snap,
    const struct report_slo *slo, struct report *r, char *err,
    size_t errlen);

/* "live", "complete", "interrupted", "abandoned", "missing". */
const char *report_state_name(enum report_state s);

/*
 * The k-th smallest value (0-based) of a rollup with n values, exactly
 * (rollup_order_stat). Returns 0; -EINVAL when k >= n or the rollup
 * does not hold n values; or what rollup_order_stat returns.
 */
int report_order_stat(struct rollup *roll, uint64_t n, uint64_t k,
    double *out);

/*
 * Drawing (report_render.c). The human summary: a state line first
 * (saying "incomplete" and why when it is), counts, duration and
 * throughput, goodput and finish reasons when there are any, then the
 * table in milliseconds and tokens. dir names the store in the first
 * line. JSON: one object and a newline (metricsd(1) lists the fields).
 * Both return 0, or -EIO if f has an error.
 */
int report_render_text(FILE *f, const struct report *r, const char *dir);
int report_render_json(FILE *f, const struct report *r);

#endif
