/*
 * The data of the dashboard page, GET /api/report (metricsd(1), serve):
 * one JSON object with, per store serve follows, the report of `metricsd
 * report --json` (report.h: the same computation on the same follower
 * snapshot, so a poll folds in only the values appended since the last)
 * and the distribution of its latencies; stores seen at an earlier poll
 * that are gone now are listed as "vanished".
 *
 *   {"polls":N,"stores":[
 *     {"run":"bench","state":"live","report":{...},
 *      "distribution":{"unit":"ns","p":[0,1,...,100],
 *                      "latency":[101 values]|null,"ttft":[...]|null,
 *                      "tpot":[...]|null}},
 *     {"run":"old","state":"vanished","report":null,"distribution":null}]}
 *
 * "state" is the report's state, or "vanished". Each distribution array
 * holds the series' percentiles at "p" (0 = min, 100 = max), exactly as
 * `metricsd read` computes percentiles; null while the series is empty
 * or absent.
 *
 * Library code: nothing here prints or exits. Not thread-safe.
 */
#ifndef METRICSD_DASHBOARD_API_H
#define METRICSD_DASHBOARD_API_H

#include <stddef.h>
#include <stdio.h>

#include "store_follow.h"

/* Vanished stores remembered, the most recent. */
#define DASHBOARD_VANISHED_MAX 64

/* Percentiles of a distribution: 0, 1, ..., 100. */
#define DASHBOARD_DIST_N 101

struct dashboard_api;

/* Returns 0 or -ENOMEM. */
int dashboard_api_new(struct dashboard_api **out);

/*
 * Write the object for snaps[0..n) (the stores present now, in the order
 * to show them; run names told apart already, see scrape.h) and a
 * newline to f, and remember their names for the next call. snaps are
 * not const in spirit: percentiles merge the values pending in their
 * rollups. Returns 0, -ENOMEM (err filled), or -EIO if f has an error.
 */
int dashboard_api_render(struct dashboard_api *d,
    const struct store_snap *snaps, size_t n, FILE *f, char *err,
    size_t errlen);

void dashboard_api_free(struct dashboard_api *d);

#endif
