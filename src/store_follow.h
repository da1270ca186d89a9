/*
 * Following one store: the reader that `metricsd read`, `metricsd serve`
 * (through scrape.h) and the coming `metricsd report` share, and the
 * snapshot every renderer takes.
 *
 * A follower keeps, for its whole life, one view and one rollup
 * (rollup.h) per key. Each refresh reads the store's status, then brings
 * every key up to date: a counter's value; for a series, the values
 * appended since the previous refresh are folded in (nothing is folded
 * twice), and the standard percentile grid is taken. The result is a
 * snapshot: plain numbers a renderer can print without a store, and that
 * a unit test can build by hand.
 *
 * One rule for every user, applied at each refresh: the key's name is
 * stat'd (not following symlinks) before its file is opened, and a view
 * whose file is no longer the one under that name (a writer that starts
 * again renames new files over the old ones) is closed, and the key is
 * read afresh, its rollup restarted. Stat'ing before opening means a file
 * replaced in between is seen as changed at the next refresh, never
 * missed.
 *
 * The aggregator's series aligned by sample, sample_good_*_ns
 * (metricsd-store(5), "Keys that go together"), hold a "no value"
 * sentinel where a sample has none: 2^64-1 in a u64 one, -1 in an f64
 * one. Their figures leave the sentinels out (rollup_skip_value) and
 * count them apart (store_snap_series.none); their values are as stored.
 *
 * A series whose count is past ROLLUP_MAX_VALUES (rollup.h) is BAD:
 * reported and skipped, nothing of it kept, so a hostile count cannot
 * exhaust a reader's memory.
 *
 * Problems (a file that is not a valid store file, a refresh that fails,
 * a store whose status cannot be read) go to the warn callback, each one
 * once: the same problem is reported again only after it went away. The
 * key is then left out of the figures for that refresh, and retried at
 * the next.
 *
 * Library code: nothing here prints or exits. Not thread-safe: one
 * follower per thread.
 */
#ifndef METRICSD_STORE_FOLLOW_H
#define METRICSD_STORE_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollup.h"
#include "store.h"

/* What a key's entry in a snapshot holds. */
enum store_snap_state {
	STORE_SNAP_OK = 0,	/* read at this refresh */
	STORE_SNAP_ABSENT,	/* a requested key with no file (yet) */
	STORE_SNAP_BAD,		/* its file cannot be opened, or its count
				 * is past the limit (reported) */
	STORE_SNAP_FAILED	/* the refresh failed (reported): the figures
				 * are those of the last good one */
};

/*
 * A series rolled up, in the key's own unit (ns for "_ns" keys). For a
 * series aligned by sample (aligned true), every figure but count and
 * none is over the count - none values that are not the sentinel.
 */
struct store_snap_series {
	uint64_t count;		/* values folded, NaNs and sentinels included */
	double sum;		/* NaN after a NaN; 0 when empty */
	double q[ROLLUP_GRID_N];	/* percentiles of rollup_grid; NaN
				 * when empty or not computable */
	__int128 isum;		/* U64/I64: the exact sum */
	union store_value min, max;	/* when count > 0 (F64: NaN after
				 * a NaN) */
	double mean, stddev;	/* NaN when empty or after a NaN */
	bool aligned;		/* a sample_good_*_ns series (see above) */
	uint64_t none;		/* aligned: values that are the sentinel */
};

/* One key of a store at one refresh. */
struct store_snap_key {
	const char *name;	/* the store key */
	enum store_snap_state state;
	enum store_kind kind;	/* OK and FAILED only */
	enum store_type type;
	union store_value counter;	/* STORE_COUNTER */
	struct store_snap_series series;	/* STORE_SERIES */
	/*
	 * STORE_SERIES, state OK: the values in append order,
	 * values[0..series.count), and the rollup itself, for figures
	 * beyond the grid (rollup_percentile). Both belong to the follower
	 * and are valid until its next refresh.
	 */
	const union store_value *values;
	struct rollup *roll;
};

/*
 * One store at one refresh. status.exists is false when there is no
 * store (yet) or its status could not be read (reported).
 * status.incomplete is true when the writer lost data (values it could
 * not store...), status.lost how many: a run can be final and
 * incomplete, and every renderer says so (see store.h).
 */
struct store_snap {
	const char *run;	/* the store's name: its last path component */
	struct store_status status;
	const struct store_snap_key *keys;
	size_t nkeys;
	const char *dir;	/* the store directory as given */
};

struct store_follow;

/*
 * Follow the store in dir (copied; it need not exist yet). warn(arg, msg)
 * receives one message per problem; warn may be NULL. Returns 0 or
 * -ENOMEM.
 */
int store_follow_open(struct store_follow **out, const char *dir,
    void (*warn)(void *arg, const char *msg), void *arg);

/*
 * Read the store again and point *snap at the result, valid until the
 * next refresh or store_follow_free. With keys NULL: every key the store
 * has, sorted by name; keys whose files are gone are dropped. Otherwise
 * keys[0..nkeys), in that order (a name given twice appears once), each
 * ABSENT while it has no file. Keys no longer asked for are forgotten.
 * When the store does not exist the keys are not looked at (none, or all
 * ABSENT). Problems with a key are in its state; the call itself fails
 * only for want of memory: -ENOMEM, *snap untouched.
 */
int store_follow_refresh(struct store_follow *f, const char *const *keys,
    size_t nkeys, const struct store_snap **snap);

/*
 * Report a problem once, as the follower does (and scrape.c for its
 * directories): *slot keeps the last message (malloc'd), so a problem
 * that persists is not repeated; warn(arg, msg) gets a new one (warn may
 * be NULL). fmt NULL clears *slot: the problem went away.
 */
void store_follow_report(char **slot, void (*warn)(void *arg, const char *msg),
    void *arg, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The store's run label: the last component of dir, trailing slashes aside. */
const char *store_follow_run(const struct store_follow *f);

void store_follow_free(struct store_follow *f);

#endif
