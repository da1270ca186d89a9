/*
 * Prometheus text exposition format 0.0.4 for metricsd stores.
 *
 * The renderer works on snapshots (struct store_snap, store_follow.h):
 * numbers already read from a store and rolled up, so it can be tested
 * without a store and shared by `metricsd read --prometheus` and
 * `metricsd serve`.
 *
 * Mapping of a store key to a metric family (documented in metricsd(1)):
 *   - name = "metricsd_" + key, every byte outside [A-Za-z0-9_] replaced
 *     by '_' (colons are left to recording rules, as Prometheus asks);
 *   - a key ending in "_ns" ends in "_seconds" instead and its values
 *     (and quantiles, sums) are divided by 1e9;
 *   - a counter key is a `counter` whose name ends in "_total" (added
 *     once: a key already ending in "_total" keeps a single one), except
 *     the counter keys known to go down (samples_in_flight), which are
 *     gauges and keep their name;
 *   - a series key is a `summary`: quantiles 0.5 0.9 0.95 0.99 0.999,
 *     then _sum and _count; an empty series has NaN quantiles, 0 sum and
 *     0 count;
 *   - every sample carries run="<store name>".
 * Store state adds two gauge families: metricsd_store_state{state=...}
 * (1 for the store's state among live/final/interrupted, 0 for the
 * others) and metricsd_store_writer_alive.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_PROM_H
#define METRICSD_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rollup.h"
#include "store.h"
#include "store_follow.h"

#define PROM_NQUANTILES ROLLUP_GRID_N	/* the grid of rollup.h */
#define PROM_NAME_MAX (STORE_KEY_MAX + 32)	/* longest metric name */

/* The content type of the exposition, for HTTP responses. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The metric family name of a key: see the mapping above. Returns 0, or
 * -ENAMETOOLONG if buf is too small (PROM_NAME_MAX always suffices for a
 * valid key).
 */
int prom_metric_name(const char *key, enum store_kind kind, char *buf,
    size_t len);

/* Is this (counter) key a gauge: a value that can go down? */
bool prom_key_is_gauge(const char *key, enum store_kind kind);

/* Does the key hold nanoseconds (values exported divided by 1e9)? */
bool prom_key_is_ns(const char *key);

/*
 * Write stores[0..n) to f, each family once with # HELP and # TYPE and
 * one sample (set) per store; only keys in state STORE_SNAP_OK are
 * exported. Keys whose metric names clash (within a
 * store after sanitising, or with a family of another type or with a
 * summary's _sum/_count) are left out, each with a comment line; their
 * number is added to *skipped when skipped is not NULL. Returns 0 or a
 * negative errno (-ENOMEM, or the write error of f).
 */
int prom_render(FILE *f, const struct store_snap *stores, size_t n,
    size_t *skipped);

#endif
