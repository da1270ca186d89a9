/* The benchmark report as a pure function of a snapshot (see report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "estop.h"
#include "report.h"

const double report_es_p[REPORT_NES] = { 0.90, 0.99 };
const char *const report_es_names[REPORT_NES] = { "p90", "p99" };

static const struct {
	const char *name, *label, *key;
	bool is_ns, latency_like;
} rows[REPORT_NROWS] = {
	[REPORT_TTFT] = { "ttft", "TTFT", "ttft_ns", true, true },
	[REPORT_TPOT] = { "tpot", "TPOT", "tpot_ns", true, true },
	[REPORT_TPOT_E2E] = { "tpot_e2e", "TPOT e2e", "tpot_e2e_ns", true,
	    true },
	[REPORT_ITL] = { "itl", "ITL", "chunk_delta_ns", true, true },
	[REPORT_LATENCY] = { "latency", "latency", "sample_latency_ns", true,
	    true },
	[REPORT_ISL] = { "input_sequence_lengths", "ISL", "isl", false,
	    false },
	[REPORT_OSL] = { "output_sequence_lengths", "OSL", "osl", false,
	    false },
};

const char *
report_state_name(enum report_state s)
{
	switch (s) {
	case REPORT_LIVE: return "live";
	case REPORT_COMPLETE: return "complete";
	case REPORT_INTERRUPTED: return "interrupted";
	case REPORT_ABANDONED: return "abandoned";
	case REPORT_MISSING: break;
	}
	return "missing";
}

/* The snapshot's key called name, read at this refresh, or NULL. */
static const struct store_snap_key *
find(const struct store_snap *snap, const char *name)
{
	for (size_t i = 0; i < snap->nkeys; i++)
		if (strcmp(snap->keys[i].name, name) == 0)
			return snap->keys[i].state == STORE_SNAP_OK ||
			    snap->keys[i].state == STORE_SNAP_FAILED ?
			    &snap->keys[i] : NULL;
	return NULL;
}

static uint64_t
counter(const struct store_snap *snap, const char *name, bool *present)
{
	const struct store_snap_key *k = find(snap, name);

	if (present)
		*present = k && k->kind == STORE_COUNTER;
	return k && k->kind == STORE_COUNTER ? k->counter.u : 0;
}

static double
value_double(enum store_type t, union store_value v)
{
	return t == STORE_F64 ? v.f : t == STORE_I64 ? (double)v.i :
	    (double)v.u;
}

/*
 * sorted[k], exactly: rollup_order_stat selects the rank itself. (Going
 * through rollup_percentile cannot: for many (n, k), n = 12 and k = 1
 * the first, no double p makes (n-1) * p / 100 exactly k, and an
 * interpolation next to k is not sorted[k].)
 */
int
report_order_stat(struct rollup *roll, uint64_t n, uint64_t k, double *out)
{
	if (n == 0 || k >= n || n != rollup_count(roll))
		return -EINVAL;
	return rollup_order_stat(roll, k, out);
}

static int
row_fill(struct report_stats *s, const struct store_snap_key *k)
{
	const struct store_snap_series *se = &k->series;
	int rc;

	s->present = true;
	s->type = k->type;
	s->count = se->count;
	if (se->count == 0)
		return 0;
	s->mean = se->mean;
	s->std = se->stddev;
	s->min = value_double(k->type, se->min);
	s->max = value_double(k->type, se->max);
	memcpy(s->q, se->q, sizeof(s->q));
	if (!s->latency_like || k->roll == NULL || k->state != STORE_SNAP_OK)
		return 0;
	for (int i = 0; i < REPORT_NES; i++) {
		struct report_estop *e = &s->es[i];

		e->min_queries = estop_min_queries(report_es_p[i]);
		e->sufficient = estop_discards(se->count, report_es_p[i], &e->t);
		if (!e->sufficient)
			continue;
		if ((rc = report_order_stat(k->roll, se->count,
		    se->count - e->t, &e->value)) == -ENOMEM)
			return rc;
	}
	return 0;
}

static void
rows_init(struct report *r)
{
	for (int i = 0; i < REPORT_NROWS; i++) {
		struct report_stats *s = &r->rows[i];

		s->name = rows[i].name;
		s->label = rows[i].label;
		s->key = rows[i].key;
		s->is_ns = rows[i].is_ns;
		s->latency_like = rows[i].latency_like;
		s->mean = s->min = s->max = s->std = NAN;
		for (int j = 0; j < ROLLUP_GRID_N; j++)
			s->q[j] = NAN;
		for (int j = 0; j < REPORT_NES; j++) {
			s->es[j].min_queries = estop_min_queries(report_es_p[j]);
			s->es[j].value = NAN;
		}
	}
}

/* A series key usable for goodput: read, of the type the engine writes. */
static const struct store_snap_key *
aligned(const struct store_snap *snap, enum metric_key mk)
{
	const struct metric_key_info *ki = metric_key_info(mk);
	const struct store_snap_key *k = find(snap, ki->name);

	if (k == NULL || k->state != STORE_SNAP_OK ||
	    k->kind != STORE_SERIES || k->type != ki->type ||
	    (k->series.count > 0 && k->values == NULL))
		return NULL;
	return k;
}

static void
goodput(const struct store_snap *snap, struct report *r)
{
	const struct store_snap_key *lat, *ttft, *tpot;
	uint64_t n, good = 0;
	double dur_s = (double)r->duration_ns / 1e9;

	lat = aligned(snap, METRIC_SAMPLE_GOOD_LATENCY_NS);
	ttft = aligned(snap, METRIC_SAMPLE_GOOD_TTFT_NS);
	tpot = aligned(snap, METRIC_SAMPLE_GOOD_TPOT_E2E_NS);
	if (lat == NULL)
		return;		/* a store from before these keys */
	r->goodput_known = true;
	/* Live, the three may differ by the sample being written. */
	n = lat->series.count;
	if (ttft && ttft->series.count < n)
		n = ttft->series.count;
	if (tpot && tpot->series.count < n)
		n = tpot->series.count;
	for (uint64_t i = 0; i < n; i++) {
		if (r->slo.has_latency && (lat->values[i].u ==
		    AGGREGATOR_NO_VALUE || lat->values[i].u >
		    r->slo.latency_ns))
			continue;
		/* No TTFT (or a store without them): fails a TTFT SLO. */
		if (r->slo.has_ttft && (ttft == NULL ||
		    ttft->values[i].u == AGGREGATOR_NO_VALUE ||
		    ttft->values[i].u > r->slo.ttft_ns))
			continue;
		/* An undefined TPOT (< 0) passes, as vLLM counts it 0. */
		if (r->slo.has_tpot && tpot != NULL &&
		    tpot->values[i].f >= 0 &&
		    !(tpot->values[i].f <= (double)r->slo.tpot_ns))
			continue;
		good++;
	}
	r->good_samples = good;
	if (r->n_samples_completed > 0) {
		r->has_goodput_fraction = true;
		r->goodput_fraction = (double)good /
		    (double)r->n_samples_completed;
	}
	if (r->duration_ns > 0) {
		r->has_goodput_qps = true;
		r->goodput_qps = (double)good / dur_s;
	}
}

static int
reason_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_reason *)a)->name,
	    ((const struct report_reason *)b)->name);
}

static void
reasons(const struct store_snap *snap, struct report *r)
{
	size_t plen = strlen(AGGREGATOR_FINISH_REASON_PREFIX);

	for (size_t i = 0; i < snap->nkeys; i++) {
		const struct store_snap_key *k = &snap->keys[i];

		if (strncmp(k->name, AGGREGATOR_FINISH_REASON_PREFIX,
		    plen) != 0 || k->name[plen] == '\0' ||
		    (k->state != STORE_SNAP_OK &&
		    k->state != STORE_SNAP_FAILED) ||
		    k->kind != STORE_COUNTER ||
		    r->nreasons == REPORT_MAX_REASONS)
			continue;
		snprintf(r->reasons[r->nreasons].name,
		    sizeof(r->reasons[0].name), "%s", k->name + plen);
		r->reasons[r->nreasons].count = k->counter.u;
		r->nreasons++;
	}
	qsort(r->reasons, r->nreasons, sizeof(r->reasons[0]), reason_cmp);
	r->reasons_dropped = counter(snap, "finish_reasons_dropped", NULL);
}

static void
throughput(const struct store_snap *snap, struct report *r)
{
	double dur_s = (double)r->duration_ns / 1e9;
	const struct store_snap_key *osl = find(snap, "osl");
	bool has_first, has_end;
	uint64_t first, end, done;

	if (r->duration_ns > 0) {
		r->has_qps = true;
		r->qps = (double)r->n_samples_completed / dur_s;
	}
	if (r->duration_ns > 0 && osl && osl->kind == STORE_SERIES &&
	    osl->series.count > 0) {
		double sum = osl->type == STORE_F64 ? osl->series.sum :
		    (double)osl->series.isum;
		r->has_tps = true;
		r->tps = sum / dur_s;
	}
	first = counter(snap, "loadgen_first_issued_ts", &has_first);
	end = counter(snap, "loadgen_last_issued_complete_ts", &has_end);
	done = counter(snap, "loadgen_last_issued_done", NULL);
	if (has_first && has_end && done == 1 && r->n_samples_issued > 0 &&
	    (int64_t)end >= (int64_t)first) {
		r->has_window = true;
		r->window_ns = (uint64_t)(int64_t)end - (uint64_t)(int64_t)first;
	}
	if (r->has_window && r->window_ns > 0 && r->n_samples_completed >= 2) {
		r->has_legacy_qps = true;
		r->legacy_qps = (double)(r->n_samples_completed - 1) /
		    ((double)r->window_ns / 1e9);
	}
}

int
report_compute(const struct store_snap *snap, const struct report_slo *slo,
    struct report *r, char *err, size_t errlen)
{
	const struct store_status *st = &snap->status;

	memset(r, 0, sizeof(*r));
	rows_init(r);
	if (!st->exists)
		r->state = REPORT_MISSING;
	else if (st->state == STORE_FINAL)
		r->state = REPORT_COMPLETE;
	else if (st->state == STORE_INTERRUPTED)
		r->state = REPORT_INTERRUPTED;
	else
		r->state = st->writer_alive ? REPORT_LIVE : REPORT_ABANDONED;
	r->tokens_pending = counter(snap, REPORT_PENDING_KEY, NULL) > 0;
	r->data_lost = st->exists && st->incomplete;
	r->values_lost = r->data_lost ? st->lost : 0;
	r->complete = r->state == REPORT_COMPLETE && !r->tokens_pending &&
	    !r->data_lost;

	r->n_samples_issued = counter(snap, "tracked_samples_issued", NULL);
	r->n_samples_completed = counter(snap, "tracked_samples_completed",
	    NULL);
	r->n_samples_failed = counter(snap, "total_samples_failed", NULL);
	r->samples_in_flight = counter(snap, "samples_in_flight", NULL);
	r->duration_ns = counter(snap, "tracked_duration_ns", NULL);
	throughput(snap, r);

	for (int i = 0; i < REPORT_NROWS; i++) {
		const struct store_snap_key *k = find(snap, r->rows[i].key);

		if (k == NULL || k->kind != STORE_SERIES)
			continue;
		if (row_fill(&r->rows[i], k) < 0) {
			snprintf(err, errlen, "report: out of memory sorting "
			    "'%s'", k->name);
			return -ENOMEM;
		}
	}
	if (slo && (slo->has_ttft || slo->has_tpot || slo->has_latency)) {
		r->has_goodput = true;
		r->slo = *slo;
		goodput(snap, r);
	}
	reasons(snap, r);
	return 0;
}
