/* The synthetic benchmark session (see synthetic.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "synthetic.h"

#define MS 1000000LL
#define US 1000LL
#define T0 (1000 * MS)		/* the fake clock starts at 1 s */
#define MAX_PROMPT 512
#define MAX_CHUNKS 64
#define CHUNK_MAX 48		/* bytes of one chunk's text, NUL included */

enum phase {
	PH_ISSUE,		/* next: sample.issued of a new sample */
	PH_RECV,		/* next: recv_first / recv_non_first */
	PH_COMPLETE,		/* next: sample.complete with the text */
	PH_ERROR,		/* next: error.client */
	PH_COMPLETE_ERROR	/* next: sample.complete without data */
};

/* One worker of the closed loop and the sample it is working on. */
struct slot {
	int64_t next_ts;
	uint64_t seq;		/* push order: breaks timestamp ties */
	enum phase phase;
	uint64_t idx;		/* sample index in issue order */
	uint64_t rng;
	unsigned chunks;	/* K chunks streamed */
	unsigned reasoning;	/* the first R of them are reasoning */
	unsigned recvs;		/* receives sent so far */
	char uuid[33];
};

struct gen {
	const struct synthetic_opts *o;
	synthetic_emit_fn emit;
	void *arg;
	struct synthetic_stats *st;
	struct slot **heap;
	size_t nheap;
	uint64_t seq;
	uint64_t issued;
	bool tracking;
	int64_t last_ts;
	int64_t ids[MAX_PROMPT];
	char text[MAX_CHUNKS][CHUNK_MAX];
	struct event_str strs[MAX_CHUNKS];
	char *tbuf;		/* realistic text of the sample completing */
	size_t tcap;
};

static const char *const words[] = {
	"the", "model", "answers", "with", "a", "short", "and", "plausible",
	"sentence", "about", "metrics", "latency", "tokens", "per", "second",
	"throughput",
};

static const struct { const char *type, *msg; } errors[] = {
	{ "TimeoutError", "request timed out after 30 s" },
	{ "ConnectionResetError", "connection reset by peer" },
	{ "HTTPError", "503 Service Unavailable" },
};

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
synthetic_rand(uint64_t *s)
{
	return splitmix(s);
}

/* Uniform in [lo, hi]. The tiny modulo bias does not matter here. */
static int64_t
uniform(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(splitmix(s) % (uint64_t)(hi - lo + 1));
}

static bool
before(const struct slot *a, const struct slot *b)
{
	return a->next_ts < b->next_ts ||
	    (a->next_ts == b->next_ts && a->seq < b->seq);
}

static void
heap_push(struct gen *g, struct slot *s, int64_t ts, enum phase ph)
{
	size_t i = g->nheap++;

	s->next_ts = ts;
	s->phase = ph;
	s->seq = g->seq++;
	while (i > 0 && before(s, g->heap[(i - 1) / 2])) {
		g->heap[i] = g->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	g->heap[i] = s;
}

static struct slot *
heap_pop(struct gen *g)
{
	struct slot *top = g->heap[0], *last = g->heap[--g->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < g->nheap) {
		if (c + 1 < g->nheap && before(g->heap[c + 1], g->heap[c]))
			c++;
		if (!before(g->heap[c], last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (g->nheap)
		g->heap[i] = last;
	return top;
}

static int
emit(struct gen *g, struct event *ev)
{
	ev->type_name.ptr = event_type_name(ev->type);
	ev->type_name.len = strlen(ev->type_name.ptr);
	if (!ev->sample_uuid.ptr)
		ev->sample_uuid.ptr = "";
	if (!ev->conversation_id.ptr)
		ev->conversation_id.ptr = "";
	ev->has_timestamp = true;
	if (ev->timestamp_ns > g->last_ts)
		g->last_ts = ev->timestamp_ns;
	g->st->events++;
	return g->emit(g->arg, ev);
}

static int
emit_plain(struct gen *g, enum event_type t, int64_t ts, const char *uuid)
{
	struct event ev = { .type = t, .timestamp_ns = ts };

	if (uuid) {
		ev.sample_uuid.ptr = uuid;
		ev.sample_uuid.len = strlen(uuid);
	}
	return emit(g, &ev);
}

/* sample.issued for the next sample, with its per-sample parameters. */
static int
issue(struct gen *g, struct slot *s)
{
	struct event ev = { .type = EVENT_SAMPLE_ISSUED };
	uint64_t h;
	int64_t n;
	int rc;

	s->idx = g->issued++;
	s->rng = g->o->seed ^ (s->idx * 0xd1b54a32d192ed03ULL);
	h = splitmix(&s->rng);
	snprintf(s->uuid, sizeof(s->uuid), "%016" PRIx64 "%016" PRIx64, h,
	    splitmix(&s->rng));
	if (s->idx == g->o->warmup && !g->tracking) {
		g->tracking = true;
		if ((rc = emit_plain(g, EVENT_SESSION_START_TRACKING,
		    s->next_ts, NULL)) < 0)
			return rc;
	}
	n = uniform(&s->rng, g->o->prompt_min, g->o->prompt_max);
	for (int64_t i = 0; i < n; i++)
		g->ids[i] = uniform(&s->rng, 0, 49999);
	ev.timestamp_ns = s->next_ts;
	ev.sample_uuid.ptr = s->uuid;
	ev.sample_uuid.len = strlen(s->uuid);
	ev.data_tag = EVENT_DATA_PROMPT;
	ev.data.prompt.has_token_ids = true;
	ev.data.prompt.n_token_ids = (size_t)n;
	ev.data.prompt.token_ids = g->ids;
	s->chunks = (unsigned)uniform(&s->rng, 1, g->o->max_chunks);
	s->reasoning = s->chunks >= 2 && uniform(&s->rng, 0, 3) == 0
	    ? (unsigned)uniform(&s->rng, 1, s->chunks - 1) : 0;
	s->recvs = 0;
	g->st->issued++;
	return emit(g, &ev);
}

static int
complete(struct gen *g, struct slot *s)
{
	struct event ev = { .type = EVENT_SAMPLE_COMPLETE };
	struct event_text *out = &ev.data.output.output;
	struct event_text *rsn = &ev.data.output.reasoning;

	if (g->o->text != SYNTHETIC_TEXT_WORDS) {
		/* The text has its own generator, seeded per sample. */
		uint64_t r = g->o->seed ^ (s->idx * 0x9e6c63d0676a9a99ULL);
		int64_t osl = g->o->osl ? g->o->osl : 256;
		size_t len;
		int rc;

		osl = uniform(&r, osl - osl / 4, osl + osl / 4);
		if (osl > SYNTHETIC_OSL_MAX)
			osl = SYNTHETIC_OSL_MAX;
		if ((rc = synthetic_text_make(g->o->text, (unsigned)osl,
		    splitmix(&r), &g->tbuf, &g->tcap, &len)) < 0)
			return rc;
		synthetic_text_split(g->tbuf, len, s->chunks, g->strs);
	} else for (unsigned c = 0; c < s->chunks; c++) {
		char *p = g->text[c];
		int nw = (int)uniform(&s->rng, 1, 3), len = 0;

		for (int w = 0; w < nw; w++)
			len += snprintf(p + len, CHUNK_MAX - (size_t)len, "%s ",
			    words[uniform(&s->rng, 0, 15)]);
		g->strs[c].ptr = p;
		g->strs[c].len = (size_t)len;
	}
	ev.timestamp_ns = s->next_ts;
	ev.sample_uuid.ptr = s->uuid;
	ev.sample_uuid.len = strlen(s->uuid);
	ev.data_tag = EVENT_DATA_TEXT_OUTPUT;
	rsn->form = s->reasoning ? EVENT_TEXT_LIST : EVENT_TEXT_ABSENT;
	rsn->n = s->reasoning;
	rsn->items = s->reasoning ? g->strs : NULL;
	out->form = EVENT_TEXT_LIST;
	out->n = s->chunks - s->reasoning;
	out->items = g->strs + s->reasoning;
	ev.has_finish_reason = true;
	ev.finish_reason.ptr = "stop";
	ev.finish_reason.len = 4;
	g->st->completed++;
	return emit(g, &ev);
}

static int
error(struct gen *g, struct slot *s)
{
	struct event ev = { .type = EVENT_ERROR_CLIENT };
	int64_t e = uniform(&s->rng, 0, 2);

	ev.timestamp_ns = s->next_ts;
	ev.sample_uuid.ptr = s->uuid;
	ev.sample_uuid.len = strlen(s->uuid);
	ev.data_tag = EVENT_DATA_ERROR;
	ev.data.error.error_type.ptr = errors[e].type;
	ev.data.error.error_type.len = strlen(errors[e].type);
	ev.data.error.error_message.ptr = errors[e].msg;
	ev.data.error.error_message.len = strlen(errors[e].msg);
	g->st->errors++;
	return emit(g, &ev);
}

/* Run one event of the slot at the top of the heap and reschedule it. */
static int
step(struct gen *g)
{
	struct slot *s = heap_pop(g);
	int64_t ts = s->next_ts;
	enum event_type t;
	int rc = 0;

	switch (s->phase) {
	case PH_ISSUE:
		if ((rc = issue(g, s)) < 0)
			return rc;
		/* error_rate is a probability; compare in 2^-32 units. */
		if ((double)(splitmix(&s->rng) >> 32) <
		    g->o->error_rate * 4294967296.0)
			heap_push(g, s, ts + uniform(&s->rng, 1 * MS, 50 * MS),
			    PH_ERROR);
		else
			heap_push(g, s, ts + uniform(&s->rng, 20 * MS, 120 * MS),
			    PH_RECV);
		return 0;
	case PH_RECV:
		t = s->recvs ? EVENT_SAMPLE_RECV_NON_FIRST
		    : EVENT_SAMPLE_RECV_FIRST;
		if ((rc = emit_plain(g, t, ts, s->uuid)) < 0)
			return rc;
		if (++s->recvs < s->chunks)
			heap_push(g, s, ts + uniform(&s->rng, 5 * MS, 30 * MS),
			    PH_RECV);
		else
			heap_push(g, s, ts + uniform(&s->rng, 50 * US, 1 * MS),
			    PH_COMPLETE);
		return 0;
	case PH_ERROR:
		if ((rc = error(g, s)) < 0)
			return rc;
		heap_push(g, s, ts + 1 * US, PH_COMPLETE_ERROR);
		return 0;
	case PH_COMPLETE:
		rc = complete(g, s);
		break;
	case PH_COMPLETE_ERROR:
		g->st->completed++;
		rc = emit_plain(g, EVENT_SAMPLE_COMPLETE, ts, s->uuid);
		break;
	}
	if (rc < 0)
		return rc;
	if (g->issued < g->o->samples)
		heap_push(g, s, ts + uniform(&s->rng, 10 * US, 500 * US),
		    PH_ISSUE);
	return 0;
}

/* --no-complete: every sample issued 10 us apart, none completed. */
static int
run_in_flight(struct gen *g, struct slot *s, int64_t ts)
{
	int rc;

	for (uint64_t i = 0; i < g->o->samples; i++) {
		s->next_ts = ts + (int64_t)i * 10 * US;
		if ((rc = issue(g, s)) < 0)
			return rc;
	}
	return 0;
}

int
synthetic_run(const struct synthetic_opts *o, synthetic_emit_fn emit_fn,
    void *arg, struct synthetic_stats *st)
{
	struct gen *g;
	struct slot *slots = NULL;
	size_t n;
	int64_t ts = T0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (o->concurrency < 1 || o->max_chunks < 1 ||
	    o->max_chunks > MAX_CHUNKS || o->prompt_min > o->prompt_max ||
	    o->prompt_max > MAX_PROMPT || !(o->error_rate >= 0) ||
	    o->error_rate > 1 || o->osl > SYNTHETIC_OSL_MAX ||
	    o->text > SYNTHETIC_TEXT_MIXED ||
	    (o->text == SYNTHETIC_TEXT_WORDS && o->osl))
		return -EINVAL;
	n = o->complete ? (o->concurrency < o->samples ? o->concurrency
	    : (size_t)o->samples) : 1;
	if (!(g = calloc(1, sizeof(*g))) ||
	    !(slots = calloc(n ? n : 1, sizeof(*slots))) ||
	    !(g->heap = calloc(n ? n : 1, sizeof(*g->heap)))) {
		rc = -ENOMEM;
		goto out;
	}
	g->o = o;
	g->emit = emit_fn;
	g->arg = arg;
	g->st = st;

	if ((rc = emit_plain(g, EVENT_SESSION_STARTED, ts, NULL)) < 0)
		goto out;
	ts += 1 * MS;
	if (o->warmup == 0) {
		g->tracking = true;
		if ((rc = emit_plain(g, EVENT_SESSION_START_TRACKING, ts,
		    NULL)) < 0)
			goto out;
	}
	ts += 1 * MS;
	if (!o->complete) {
		if ((rc = run_in_flight(g, slots, ts)) < 0)
			goto out;
	} else {
		/* The workers start staggered by 0-1 ms. */
		for (size_t i = 0; i < n; i++) {
			uint64_t r = o->seed + i;
			heap_push(g, &slots[i], ts + uniform(&r, 0, 1 * MS),
			    PH_ISSUE);
		}
		while (g->nheap)
			if ((rc = step(g)) < 0)
				goto out;
	}
	ts = (g->last_ts > ts ? g->last_ts : ts) + 1 * MS;
	if (!g->tracking && (rc = emit_plain(g, EVENT_SESSION_START_TRACKING,
	    ts, NULL)) < 0)
		goto out;
	if ((rc = emit_plain(g, EVENT_SESSION_STOP_TRACKING, ts, NULL)) < 0 ||
	    (rc = emit_plain(g, EVENT_SESSION_STOP_LOADGEN, ts + 1 * MS,
	    NULL)) < 0 ||
	    (rc = emit_plain(g, EVENT_SESSION_ENDED, ts + 2 * MS, NULL)) < 0)
		goto out;
	rc = 0;
out:
	if (g) {
		free(g->heap);
		free(g->tbuf);
	}
	free(slots);
	free(g);
	return rc;
}
