/*
 * The engine's values that depend on token counts (isl from text, osl,
 * tpot_ns, tpot_e2e_ns, sample_good_tpot_e2e_ns), counted inline or on
 * the token queue's workers, and the aggregator_tokens_* calls of
 * aggregator.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator_int.h"

/*
 * Token counts are taken inline, on the caller's thread, or (with
 * token_threads) by the token queue's workers (tok_queue.h); README,
 * "Tokenizers", says which is faster when, as measured. Either way the
 * values that depend on a count are stored by one function per event
 * kind (isl_apply, complete_apply) from the same inputs, so a store is
 * the same value for value whichever counted.
 *
 * With workers, a value that depends on a count waits in a deferred
 * record until its count is back; records are applied in the order they
 * were made. So that every series stays in event order, once one record
 * waits, every later value of those series waits behind it too, even one
 * that needs no count (an isl from token ids, a sample_good_tpot_e2e_ns
 * of a completion without text). The other series (latencies, TTFT,
 * sample_good_latency_ns...) are stored at once: each series file is in
 * event order, and index i of the aligned sample_good_* series is still
 * the same sample; only their lengths differ while counts are pending,
 * which token_work_pending says.
 */

enum { DEFER_ISL = 1, DEFER_COMPLETE };

struct deferred {
	struct tokq_job job;	/* first: the queue's view of it */
	int kind;
	bool isl_known;		/* DEFER_ISL from token ids: isl is it */
	uint64_t isl;
	struct complete_vals v;	/* DEFER_COMPLETE */
	struct event_str chunks[];	/* then the text they point into */
};

/* Chunks of text t appended to the scratch list from index `from`. */
static bool
chunks_push(struct aggregator *a, size_t *n, const struct event_text *t,
    size_t from)
{
	if (t->form == EVENT_TEXT_ABSENT || from >= t->n)
		return true;
	size_t add = t->n - from;
	if (*n + add > a->chunks_cap) {
		size_t cap = a->chunks_cap ? a->chunks_cap : 16;
		while (cap < *n + add)
			cap *= 2;
		struct event_str *c = realloc(a->chunks, cap * sizeof(*c));
		if (c == NULL)
			return false;
		a->chunks = c;
		a->chunks_cap = cap;
	}
	memcpy(a->chunks + *n, t->items + from, add * sizeof(*t->items));
	*n += add;
	return true;
}

/*
 * The full output text of a completion into the scratch list: reasoning
 * chunks, then output chunks; *from gets the index where "the text after
 * the first chunk" (metricsd-wire(5)) starts, which is always a suffix of
 * the list: reasoning chunks after the first, then all output chunks,
 * when reasoning is a chunk list; all output chunks when reasoning is a
 * string and the output a chunk list (else nothing); output chunks after
 * the first when reasoning is absent and the output a chunk list (a plain
 * output string without reasoning has nothing after its first chunk).
 */
static bool
output_chunks(struct aggregator *a, const struct event *ev, size_t *n,
    size_t *from)
{
	const struct event_text *r = &ev->data.output.reasoning;
	const struct event_text *o = &ev->data.output.output;

	*n = 0;
	if (!chunks_push(a, n, r, 0) || !chunks_push(a, n, o, 0))
		return false;
	if (r->form == EVENT_TEXT_LIST)
		*from = r->n >= 1 ? 1 : 0;
	else if (r->form == EVENT_TEXT_STRING)
		*from = o->form == EVENT_TEXT_LIST ? r->n : *n;
	else
		*from = o->form == EVENT_TEXT_LIST && o->n >= 1 ? 1 : *n;
	return true;
}

/* A count's outcome, counted: tokenizer_errors when it failed (the value
 * is lost), tokenizer_invalid_utf8 for texts read with U+FFFD. */
static bool
count_outcome(struct aggregator *a, int rc, uint64_t repaired)
{
	counter_add(a, METRIC_TOKENIZER_INVALID_UTF8, repaired);
	if (rc < 0) {
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
		return false;
	}
	return true;
}

/*
 * Count chunks[0..n) inline. A text with invalid UTF-8 is counted with
 * each maximal invalid sequence read as U+FFFD, and also counted in
 * tokenizer_invalid_utf8, since its count may differ from what a
 * reference that refused or decoded the bytes otherwise would give.
 */
static bool
count_chunks(struct aggregator *a, const struct event_str *chunks, size_t n,
    uint64_t *out)
{
	int rc = tokenizer_count(a->cfg.tok, chunks, n, out);
	uint64_t r = tokenizer_repaired(a->cfg.tok), d = r - a->repaired;

	a->repaired = r;
	return count_outcome(a, rc, d);
}

/* A completion's two counts (complete_apply), each usable if *_ok. */
struct counts {
	bool full_ok, suffix_ok;
	uint64_t full, suffix;
};

/*
 * Count the completion text in the scratch list inline: its n chunks
 * (osl) and, with want_suffix, the text after the first chunk,
 * chunks[from..n) (tpot_ns), in one pass where the tokenizer can
 * (tokenizer_count_both). A failure is counted once for each count.
 */
static void
count_output(struct aggregator *a, size_t n, size_t from, bool want_suffix,
    struct counts *c)
{
	const struct tokenizer *tok = a->cfg.tok;
	int rc_full, rc_suffix;
	uint64_t r;

	if (!want_suffix) {
		c->full_ok = count_chunks(a, a->chunks, n, &c->full);
		return;
	}
	tokenizer_count_both(tok, a->chunks, n, from, &c->full, &rc_full,
	    &c->suffix, &rc_suffix);
	r = tokenizer_repaired(tok);
	c->full_ok = count_outcome(a, rc_full, r - a->repaired);
	c->suffix_ok = count_outcome(a, rc_suffix, 0);
	a->repaired = r;
}

static void
isl_apply(struct aggregator *a, bool ok, uint64_t n)
{
	if (ok)
		series_put(a, METRIC_ISL, (union store_value){ .u = n });
}

/*
 * The values of a completion that depend on its counts: osl (full output
 * text), tpot_ns (text after the first chunk), tpot_e2e_ns =
 * (latency - ttft) / (osl - 1) = (complete - recv_first) / (osl - 1) when
 * the TTFT was stored (recv_first not before issued) and osl >= 2, and
 * the aligned sample_good_tpot_e2e_ns.
 */
static void
complete_apply(struct aggregator *a, const struct complete_vals *v,
    bool full_ok, uint64_t full, bool suffix_ok, uint64_t suffix)
{
	bool has_osl = v->text && full_ok;
	double e2e = -1.0;

	if (has_osl)
		series_put(a, METRIC_OSL, (union store_value){ .u = full });
	if (v->text && a->cfg.streaming && v->has_first && suffix_ok &&
	    suffix > 0) {
		if (v->ts < v->first) {
			counter_inc(a, METRIC_NEGATIVE_INTERVALS);
		} else {
			double d = (double)((uint64_t)v->ts -
			    (uint64_t)v->first);
			series_put(a, METRIC_TPOT_NS,
			    (union store_value){ .f = d / (double)suffix });
		}
	}
	if (!a->cfg.streaming)
		return;
	if (v->has_first && v->first >= v->issued && has_osl && full >= 2 &&
	    v->ts >= v->first) {
		e2e = (double)((uint64_t)v->ts - (uint64_t)v->first) /
		    (double)(full - 1);
		series_put(a, METRIC_TPOT_E2E_NS,
		    (union store_value){ .f = e2e });
	}
	series_put(a, METRIC_SAMPLE_GOOD_TPOT_E2E_NS,
	    (union store_value){ .f = e2e });
}

static void
deferred_apply(struct aggregator *a, struct deferred *d)
{
	const struct tokq_job *j = &d->job;
	bool full_ok = true, suffix_ok = true;

	if (j->want & TOKQ_FULL)
		full_ok = count_outcome(a, j->rc_full, j->repaired);
	if (j->want & TOKQ_SUFFIX)
		suffix_ok = count_outcome(a, j->rc_suffix, 0);
	if (d->kind == DEFER_ISL)
		isl_apply(a, full_ok, d->isl_known ? d->isl : j->full);
	else
		complete_apply(a, &d->v, full_ok && (j->want & TOKQ_FULL),
		    j->full, suffix_ok && (j->want & TOKQ_SUFFIX), j->suffix);
}

static void
deferred_release(struct tokq_job *j)
{
	free(j);	/* the job is the first member of its record */
}

static void
pending_write(struct aggregator *a)
{
	uint64_t n = tokq_pending(a->q);

	if (a->c[METRIC_TOKEN_WORK_PENDING] != n)
		counter_put(a, METRIC_TOKEN_WORK_PENDING, n);
}

/* Apply every record whose counts are back, oldest first. */
static void
deferred_apply_done(struct aggregator *a)
{
	struct tokq_job *j;

	while ((j = tokq_pop(a->q)) != NULL) {
		deferred_apply(a, (struct deferred *)j);
		deferred_release(j);
	}
	pending_write(a);
}

/* Wait for and apply every record (the queue is empty after). */
static void
deferred_drain(struct aggregator *a)
{
	for (deferred_apply_done(a); tokq_pending(a->q) > 0;
	    deferred_apply_done(a))
		tokq_wait(a->q, -1);
}

/*
 * A record holding a copy of chunks[0..n) (the event's strings live only
 * as long as its frame), or NULL when out of memory.
 */
static struct deferred *
deferred_new(int kind, const struct event_str *chunks, size_t n,
    size_t from, unsigned want)
{
	size_t text = 0, size;
	struct deferred *d;
	char *p;

	for (size_t i = 0; i < n; i++)
		text += chunks[i].len;
	size = sizeof(*d) + n * sizeof(d->chunks[0]) + text;
	if ((d = malloc(size)) == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	p = (char *)(d->chunks + n);
	for (size_t i = 0; i < n; i++) {
		if (chunks[i].len)
			memcpy(p, chunks[i].ptr, chunks[i].len);
		d->chunks[i] = (struct event_str){ p, chunks[i].len };
		p += chunks[i].len;
	}
	d->kind = kind;
	d->job.chunks = d->chunks;
	d->job.n = n;
	d->job.from = from;
	d->job.want = want;
	d->job.bytes = size;
	return d;
}

/*
 * Queue a record behind the others. When the queue is full, intake waits
 * here (back-pressure: nothing is ever dropped), applying what comes
 * back, until there is room.
 */
static void
deferred_push(struct aggregator *a, struct deferred *d)
{
	while (!tokq_room(a->q, d->job.bytes)) {
		deferred_apply_done(a);
		if (tokq_room(a->q, d->job.bytes))
			break;
		tokq_wait(a->q, -1);
	}
	tokq_push(a->q, &d->job);
	deferred_apply_done(a);
}

/*
 * A record could not be made (out of memory): apply it once everything
 * before it is applied, with its counts lost, so that the order holds.
 */
static void
deferred_failed(struct aggregator *a, int kind, bool isl_known, uint64_t isl,
    const struct complete_vals *v, unsigned want)
{
	deferred_drain(a);
	if (want & TOKQ_FULL)
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
	if (want & TOKQ_SUFFIX)
		counter_inc(a, METRIC_TOKENIZER_ERRORS);
	if (kind == DEFER_ISL)
		isl_apply(a, isl_known, isl);
	else
		complete_apply(a, v, false, 0, false, 0);
}

/* An isl value: from token ids (known), or the count of a prompt text. */
void
tokens_isl_take(struct aggregator *a, bool known, uint64_t n,
    const struct event_str *text)
{
	struct deferred *d;
	uint64_t c;

	if (a->q == NULL) {
		if (known)
			isl_apply(a, true, n);
		else if (count_chunks(a, text, 1, &c))
			isl_apply(a, true, c);
		return;
	}
	if (known && tokq_pending(a->q) == 0) {
		isl_apply(a, true, n);
		return;
	}
	d = known ? deferred_new(DEFER_ISL, NULL, 0, 0, 0) :
	    deferred_new(DEFER_ISL, text, 1, 0, TOKQ_FULL);
	if (d == NULL) {
		deferred_failed(a, DEFER_ISL, known, n, NULL,
		    known ? 0 : TOKQ_FULL);
		return;
	}
	d->isl_known = known;
	d->isl = n;
	deferred_push(a, d);
}

/* A completion's count-dependent values (see complete_apply). */
void
tokens_complete_take(struct aggregator *a, const struct event *ev,
    const struct complete_vals *v)
{
	bool want_suffix = v->text && a->cfg.streaming && v->has_first;
	struct counts c = { 0 };
	unsigned want = v->text ? TOKQ_FULL | (want_suffix ? TOKQ_SUFFIX : 0)
	    : 0;
	struct deferred *d;
	size_t n = 0, from = 0;
	bool have;

	if (!v->text && !a->cfg.streaming)
		return;		/* nothing depends on a count */
	have = !v->text || output_chunks(a, ev, &n, &from);
	if (a->q == NULL || (!v->text && tokq_pending(a->q) == 0)) {
		if (v->text && !have) {
			counter_inc(a, METRIC_TOKENIZER_ERRORS);
			if (want_suffix)
				counter_inc(a, METRIC_TOKENIZER_ERRORS);
		} else if (v->text) {
			count_output(a, n, from, want_suffix, &c);
		}
		complete_apply(a, v, c.full_ok, c.full, c.suffix_ok, c.suffix);
		return;
	}
	d = have ? deferred_new(DEFER_COMPLETE, a->chunks, n, from, want) :
	    NULL;
	if (d == NULL) {
		deferred_failed(a, DEFER_COMPLETE, false, 0, v, want);
		return;
	}
	d->v = *v;
	deferred_push(a, d);
}

size_t
aggregator_tokens_apply(struct aggregator *a)
{
	if (a->q == NULL)
		return 0;
	deferred_apply_done(a);
	return tokq_pending(a->q);
}

size_t
aggregator_tokens_wait(struct aggregator *a, int timeout_ms)
{
	if (a->q == NULL)
		return 0;
	deferred_apply_done(a);
	if (tokq_pending(a->q) > 0) {
		tokq_wait(a->q, timeout_ms);
		deferred_apply_done(a);
	}
	return tokq_pending(a->q);
}

size_t
aggregator_tokens_pending(const struct aggregator *a)
{
	return a->q ? tokq_pending(a->q) : a->c[METRIC_TOKEN_WORK_PENDING];
}

size_t
aggregator_tokens_abandon(struct aggregator *a)
{
	if (a->q == NULL)
		return aggregator_tokens_pending(a);
	deferred_apply_done(a);
	tokq_free(a->q, deferred_release);
	a->q = NULL;
	return a->c[METRIC_TOKEN_WORK_PENDING];
}

bool
aggregator_tokens_threaded(const struct aggregator *a)
{
	return a->q != NULL;
}

/*
 * The token queue's workers: each with the caller's tokenizer for it, or
 * the first with the engine's own and the others each with a clone of it
 * (a tokenizer is used by one thread at a time: it keeps caches and
 * scratch space inside; a clone shares the tables and has its own).
 */
int
tokens_start(struct aggregator *a, char *err, size_t errlen)
{
	unsigned n = a->cfg.token_threads;
	struct tokq_config qc = { 0 };
	int r;

	if (n > AGGREGATOR_MAX_TOKEN_THREADS) {
		snprintf(err, errlen, "aggregator: %u token threads: at most "
		    "%u", n, AGGREGATOR_MAX_TOKEN_THREADS);
		return -EINVAL;
	}
	if ((a->wtok = calloc(n, sizeof(*a->wtok))) == NULL) {
		snprintf(err, errlen, "aggregator: out of memory");
		return -ENOMEM;
	}
	if (a->cfg.token_toks != NULL) {
		/* The caller's: not ours to close (nwtok stays 0). */
		memcpy(a->wtok, a->cfg.token_toks, n * sizeof(*a->wtok));
	} else {
		a->wtok[0] = (struct tokenizer *)a->cfg.tok;
		a->nwtok = 1;
	}
	for (; a->nwtok > 0 && a->nwtok < n; a->nwtok++) {
		char e[256];

		if ((r = tokenizer_clone(&a->wtok[a->nwtok], a->cfg.tok, e,
		    sizeof(e))) < 0) {
			snprintf(err, errlen, "aggregator: token thread %u: %s",
			    a->nwtok + 1, e);
			return r;
		}
	}
	qc.toks = a->wtok;
	qc.nthreads = n;
	qc.max_bytes = a->cfg.token_queue_bytes ? a->cfg.token_queue_bytes :
	    AGGREGATOR_TOKEN_QUEUE_BYTES;
	qc.max_jobs = TOKEN_QUEUE_JOBS;
	qc.notify = a->cfg.token_notify;
	qc.arg = a->cfg.token_notify_arg;
	return tokq_new(&a->q, &qc, err, errlen);
}

void
tokens_free(struct aggregator *a)
{
	/* Workers first: they may still be counting with the tokenizers. */
	tokq_free(a->q, deferred_release);
	for (unsigned i = 1; i < a->nwtok; i++)
		tokenizer_close(a->wtok[i]);
	free(a->wtok);
	free(a->chunks);
}
