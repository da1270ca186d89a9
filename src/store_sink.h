/*
 * The aggregator's sink on a metric store: every key the engine can write
 * is created in the store when the sink opens (so readers can tell "no
 * data yet" from "unknown key"), and values go straight to the mapped
 * files.
 *
 * Library code: nothing here prints. A failed append is reported through
 * the optional on_error hook (the mode logs it, rate-limited) and returned
 * to the engine, which counts it in series_append_errors.
 */
#ifndef METRICSD_STORE_SINK_H
#define METRICSD_STORE_SINK_H

#include <stddef.h>

#include "aggregator.h"
#include "store.h"

struct store_sink {
	struct store_writer *w;
	struct store_key *keys[METRIC_KEY_COUNT];
	/* Counters named at run time (finish_reason_*), by slot. */
	struct store_key *named[AGGREGATOR_MAX_FINISH_REASONS];
	size_t nkeys;			/* keys created */
	uint64_t append_errors;
	/* The engine's tokenizer_errors and in_flight_overflow: token
	 * counts that failed and samples it could not track. */
	uint64_t engine_lost[2];
	/* Called on every failed append with the key and the store's error
	 * text; may be NULL. */
	void (*on_error)(void *arg, const char *key, int err, const char *msg);
	void *on_error_arg;
};

/*
 * Open (and take the writer lock on) the store in dir and create every key
 * enabled under cfg: counters at 0, series empty. A second writer on the
 * same dir gets -EBUSY. Returns 0 or a negative errno with err filled;
 * on failure nothing is left open.
 */
int store_sink_open(struct store_sink *s, const char *dir,
    const struct aggregator_config *cfg, char *err, size_t errlen);

/* The engine-facing interface writing into s. */
struct aggregator_sink store_sink_iface(struct store_sink *s);

/*
 * Values lost so far: appends the store refused, token counts that failed
 * and samples the engine could not track (each counted once).
 */
uint64_t store_sink_lost(const struct store_sink *s);

/*
 * Mark the store FINAL or INTERRUPTED and close it; the files stay. A sink
 * that lost values (store_sink_lost > 0) has marked the store incomplete
 * since the first one (store_writer_mark_incomplete), and records the
 * final count here.
 */
int store_sink_close(struct store_sink *s, enum store_state end);

#endif
