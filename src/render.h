/*
 * The text renderers of `metricsd read`: a store snapshot
 * (store_follow.h) as a table for people or as one JSON object. The
 * Prometheus exposition is prom.h.
 *
 * They take numbers already read and rolled up, so they are tested
 * without a store. Library code: they write to f and never print
 * anything else or exit; problems are returned or go to warn.
 */
#ifndef METRICSD_RENDER_H
#define METRICSD_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store_follow.h"

/*
 * The store's state as both renderers name it: "missing" (no store),
 * "final", "interrupted", "live" or "abandoned" (the writer died).
 */
const char *render_state_name(const struct store_status *st);

/*
 * One JSON object, then a newline: "_store" (dir, final, writer_pid,
 * state), then each key in state STORE_SNAP_OK in snapshot order: a
 * counter as its value, a series as an object (count, sum, min, max,
 * mean, stddev, p50..p99.9, and with values true every value in append
 * order). A series aligned by sample (store_snap_series.aligned) also has
 * "none", its values that are the "no value" sentinel: count and the
 * figures are over the others, while values lists every value as
 * stored. Numbers JSON cannot carry (NaN, infinities) are null. Invalid
 * UTF-8 in names becomes U+FFFD; a key whose name then equals an earlier
 * key's, or "_store", is left out: warn(arg, msg) says which (warn may be
 * NULL) and *skipped counts them. Returns 0, or -EIO if f has an error.
 */
int render_json(FILE *f, const struct store_snap *snap, bool values,
    void (*warn)(void *arg, const char *msg), void *arg, size_t *skipped);

/* What render_table draws (bits). */
enum {
	RENDER_WAITING = 1 << 0, /* --watch: requested keys not there yet */
	RENDER_RAW = 1 << 1,	/* raw numbers and every key, as stored */
	RENDER_ALL = 1 << 2,	/* do not fold the diagnostic counters nor
				 * hide the series aligned by sample */
};

/*
 * The table: a "store DIR: STATE" line, then the counters (name, value)
 * and the series (count, mean, min, max, p50..p99.9) in two aligned
 * blocks, in snapshot order. Names are made safe for a terminal. Keys in
 * state FAILED show their last figures; BAD keys are left out; ABSENT
 * keys are a "no data yet" row when RENDER_WAITING, else left out.
 * Without a store: "no store at DIR (no data yet)" when RENDER_WAITING,
 * else nothing.
 *
 * Unless RENDER_RAW: a key whose name ends in _ns is shown in
 * milliseconds with three decimals (the integers exactly, rounded to the
 * microsecond), and its block gets a UNIT column saying "ms" on its
 * rows; the diagnostic counters (render_is_diagnostic) that are 0 are
 * left out, and one line after the counters says how many, unless
 * RENDER_ALL; so are the series aligned by sample (report's goodput
 * data, store_snap_series.aligned), with one line after the series.
 * With RENDER_RAW the table is the raw numbers, every key. When an
 * aligned series is shown, its COUNT and figures leave its "no value"
 * sentinels out and an N/A column, after COUNT, says how many there are.
 * Returns 0, -ENOMEM, or -EIO if f has an error.
 */
int render_table(FILE *f, const struct store_snap *snap, unsigned flags);

/*
 * Whether a key is one of the aggregator's diagnostic counters (decode_*,
 * events_after_end, tokenizer_errors...): the one list is in
 * render_table.c.
 */
bool render_is_diagnostic(const char *name);

#endif
