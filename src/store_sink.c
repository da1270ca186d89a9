/* The aggregator's sink on a metric store (see store_sink.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aggregator.h"
#include "store.h"
#include "store_sink.h"

int
store_sink_open(struct store_sink *s, const char *dir,
    const struct aggregator_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_writer_open(&s->w, dir, err, errlen)) < 0)
		return rc;
	for (int k = 0; k < METRIC_KEY_COUNT; k++) {
		const struct metric_key_info *ki = metric_key_info(k);

		if (!aggregator_key_enabled(k, cfg))
			continue;
		rc = ki->kind == STORE_COUNTER
		    ? store_counter_create(s->w, ki->name, ki->type,
		    &s->keys[k], err, errlen)
		    : store_series_create(s->w, ki->name, ki->type,
		    &s->keys[k], err, errlen);
		if (rc < 0) {
			store_writer_close(s->w, STORE_INTERRUPTED);
			memset(s, 0, sizeof(*s));
			return rc;
		}
		s->nkeys++;
	}
	return 0;
}

uint64_t
store_sink_lost(const struct store_sink *s)
{
	return s->append_errors + s->engine_lost[0] + s->engine_lost[1];
}

/*
 * Readers must see at once that the run lost data; the count is
 * refreshed when it reaches 1, 2, 4, 8... (a full file system fails every
 * append) and exactly at close.
 */
static void
lost_grew(struct store_sink *s)
{
	uint64_t n = store_sink_lost(s);

	if ((n & (n - 1)) == 0)
		(void)store_writer_mark_incomplete(s->w, n);
}

static void
counter_set(void *arg, enum metric_key k, union store_value v)
{
	struct store_sink *s = arg;

	if (s->keys[k])
		store_counter_set(s->keys[k], v);
	/* Counts the engine could not make: values missing from the run. */
	if (k == METRIC_TOKENIZER_ERRORS || k == METRIC_IN_FLIGHT_OVERFLOW) {
		uint64_t *slot = &s->engine_lost[k == METRIC_IN_FLIGHT_OVERFLOW];

		if (v.u > *slot) {
			*slot = v.u;
			lost_grew(s);
		}
	}
}

/* An append failed: count it, say so. Apart from series_append, which
 * runs for most events, so that its few instructions stay few. */
static __attribute__((noinline)) void
append_failed(struct store_sink *s, enum metric_key k, int rc)
{
	s->append_errors++;
	lost_grew(s);
	if (s->on_error)
		s->on_error(s->on_error_arg, store_key_name(s->keys[k]), rc,
		    store_key_error(s->keys[k]));
}

static int
series_append(void *arg, enum metric_key k, union store_value v)
{
	struct store_sink *s = arg;
	int rc;

	if (!s->keys[k])
		return -ENOENT;
	if ((rc = store_series_append(s->keys[k], v)) < 0)
		append_failed(s, k, rc);
	return rc;
}

/* A counter named at run time: created at its first value. */
static int
named_counter_set(void *arg, unsigned slot, const char *name, uint64_t v)
{
	struct store_sink *s = arg;
	char err[STORE_ERR_MAX];
	int rc;

	if (slot >= AGGREGATOR_MAX_FINISH_REASONS || s->w == NULL)
		return -EINVAL;
	if (s->named[slot] == NULL) {
		rc = store_counter_create(s->w, name, STORE_U64,
		    &s->named[slot], err, sizeof(err));
		if (rc < 0) {
			s->append_errors++;
			lost_grew(s);
			if (s->on_error)
				s->on_error(s->on_error_arg, name, rc, err);
			return rc;
		}
	}
	store_counter_set(s->named[slot], (union store_value){ .u = v });
	return 0;
}

struct aggregator_sink
store_sink_iface(struct store_sink *s)
{
	struct aggregator_sink sink = { s, counter_set, series_append,
	    named_counter_set };

	return sink;
}

int
store_sink_close(struct store_sink *s, enum store_state end)
{
	int rc = 0;

	if (s->w && store_sink_lost(s) > 0)
		rc = store_writer_mark_incomplete(s->w, store_sink_lost(s));
	if (s->w) {
		int r = store_writer_close(s->w, end);

		rc = rc < 0 ? rc : r;
	}
	memset(s->keys, 0, sizeof(s->keys));
	memset(s->named, 0, sizeof(s->named));
	s->w = NULL;
	return rc;
}
