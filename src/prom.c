/*
 * Prometheus text exposition format 0.0.4: metric names, value and label
 * formatting, and the rendering of store snapshots grouped by family.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"
#include "rollup.h"
#include "text.h"

/* The percentile grid of rollup.h, as Prometheus quantile labels. */
static const char *const quantile_labels[ROLLUP_GRID_N] = {
	"0.5", "0.9", "0.95", "0.99", "0.999"
};

#define PREFIX "metricsd_"
#define STATE_FAMILY PREFIX "store_state"
#define ALIVE_FAMILY PREFIX "store_writer_alive"
#define INCOMPLETE_FAMILY PREFIX "store_incomplete"
#define LOST_FAMILY PREFIX "store_lost"

/*
 * The keys the aggregator writes (listed in metricsd(1)): HELP
 * text, and which counter keys are really gauges (they go down too, so
 * exporting them as counters would make rate() see resets).
 */
static const struct {
	const char *key;
	bool gauge;
	const char *help;
} known[] = {
	{ "total_samples_issued", false, "Samples issued (sample.issued with a uuid), tracked or not." },
	{ "total_samples_completed", false, "Samples completed (sample.complete with a uuid), tracked or not." },
	{ "total_samples_failed", false, "Error events (error.*)." },
	{ "tracked_samples_issued", false, "Samples issued while a tracking window was open." },
	{ "tracked_samples_completed", false, "Completions of samples issued inside a tracking window." },
	{ "tracked_duration_ns", false, "Sum of the durations of the tracked blocks." },
	{ "total_duration_ns", false, "Session time so far: latest event timestamp minus session start." },
	{ "decode_errors", false, "Frames or records the aggregator could not decode (all kinds)." },
	{ "decode_malformed", false, "Frames that are not MessagePack." },
	{ "decode_bad_records", false, "Records of the wrong shape." },
	{ "decode_unknown_events", false, "Records with an unknown event type." },
	{ "decode_field_types", false, "Records with a field of the wrong type." },
	{ "decode_absurd_sizes", false, "Frames over a size or nesting limit." },
	{ "events_without_timestamp", false, "Events without timestamp_ns (ignored)." },
	{ "empty_uuid_events", false, "Sample events with an empty sample_uuid." },
	{ "duplicate_issued", false, "sample.issued for a sample already in flight." },
	{ "negative_intervals", false, "Negative time differences (not stored)." },
	{ "events_after_end", false, "Events dropped after session.ended." },
	{ "in_flight_overflow", false, "Samples issued but not tracked: in-flight table full." },
	{ "tokenizer_errors", false, "Token counts that failed (values lost)." },
	{ "tokenizer_invalid_utf8", false, "Texts counted with invalid UTF-8 read as U+FFFD." },
	{ "series_append_errors", false, "Series values the store refused." },
	{ "samples_in_flight", true, "Tracked samples issued and not completed yet." },
	{ "loadgen_first_issued_ts", true, "Timestamp (ns, publisher clock) of the first tracked sample.issued." },
	{ "loadgen_last_issued_complete_ts", true, "Timestamp (ns, publisher clock) of the completion of the last-issued tracked sample." },
	{ "loadgen_last_issued_done", true, "1 once the last-issued tracked sample has completed, else 0." },
	{ "finish_reasons_dropped", false, "Completions whose finish_reason was not counted (over 16 distinct names)." },
	{ "token_work_pending", true, "Events (sample.issued, sample.complete) whose token-count values (isl, osl, tpot) are not stored yet." },
	{ "sample_latency_ns", false, "Sample latency: completion minus issue time." },
	{ "isl", false, "Input sequence length of a sample, in tokens." },
	{ "osl", false, "Output sequence length of a sample, in tokens." },
	{ "ttft_ns", false, "Time to first token: first receive minus issue time." },
	{ "chunk_delta_ns", false, "Gap between consecutive receives of a sample." },
	{ "tpot_ns", false, "Time per output token after the first chunk." },
	{ "tpot_e2e_ns", false, "Time per output token end to end: (latency - TTFT) / (osl - 1)." },
	{ "sample_good_latency_ns", false, "Per-sample latency for goodput, aligned by sample (samples without one left out)." },
	{ "sample_good_ttft_ns", false, "Per-sample TTFT for goodput, aligned by sample (samples without one left out)." },
	{ "sample_good_tpot_e2e_ns", false, "Per-sample TPOT e2e for goodput, aligned by sample (samples without one left out)." },
};

static int
known_find(const char *key)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].key, key) == 0)
			return (int)i;
	return -1;
}

bool
prom_key_is_gauge(const char *key, enum store_kind kind)
{
	int i = known_find(key);

	return kind == STORE_COUNTER && i >= 0 && known[i].gauge;
}

bool
prom_key_is_ns(const char *key)
{
	size_t n = strlen(key);

	return n > 3 && strcmp(key + n - 3, "_ns") == 0;
}

int
prom_metric_name(const char *key, enum store_kind kind, char *buf, size_t len)
{
	size_t n = strlen(key), o = 0, plen = strlen(PREFIX);
	bool ns = prom_key_is_ns(key);
	const char *unit = "", *suffix = "";

	if (ns) {
		n -= 3;
		unit = "_seconds";
	}
	if (kind == STORE_COUNTER && !prom_key_is_gauge(key, kind)) {
		/* One "_total" only, as the client libraries do. */
		if (!ns && n >= 6 && memcmp(key + n - 6, "_total", 6) == 0)
			n -= 6;
		suffix = "_total";
	}
	if (plen + n + strlen(unit) + strlen(suffix) + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, PREFIX, plen);
	o = plen;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';

		buf[o++] = ok ? (char)c : '_';
	}
	strcpy(buf + o, unit);
	strcat(buf + o, suffix);
	return 0;
}

/* ---- value and label formatting ---- */

static void
put_double(FILE *f, double v)
{
	char b[TEXT_DOUBLE_MAX];

	if (isnan(v)) {
		fputs("NaN", f);
		return;
	}
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", f);
		return;
	}
	text_double(b, v);
	fputs(b, f);
}

/* Exact decimal of ns / 1e9 for an integer ns (no rounding). */
static void
put_ns_seconds(FILE *f, bool neg, uint64_t ns)
{
	uint64_t s = ns / 1000000000u, frac = ns % 1000000000u;
	char b[16];
	int len;

	if (frac == 0) {
		fprintf(f, "%s%" PRIu64, neg ? "-" : "", s);
		return;
	}
	len = snprintf(b, sizeof(b), "%09" PRIu64, frac);
	while (len > 0 && b[len - 1] == '0')
		b[--len] = '\0';
	fprintf(f, "%s%" PRIu64 ".%s", neg ? "-" : "", s, b);
}

static void
put_value(FILE *f, enum store_type type, union store_value v, bool ns)
{
	switch (type) {
	case STORE_U64:
		if (ns)
			put_ns_seconds(f, false, v.u);
		else
			fprintf(f, "%" PRIu64, v.u);
		return;
	case STORE_I64:
		if (ns)
			put_ns_seconds(f, v.i < 0,
			    v.i < 0 ? -(uint64_t)v.i : (uint64_t)v.i);
		else
			fprintf(f, "%" PRId64, v.i);
		return;
	case STORE_F64:
	default:
		put_double(f, ns ? v.f / 1e9 : v.f);
		return;
	}
}

/*
 * Escape for a label value (quote true: \\ \" \n) or HELP text (quote
 * false: \\ \n). Invalid UTF-8 becomes U+FFFD: Prometheus rejects it.
 */
static void
put_escaped(FILE *f, const char *str, bool quote)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);

	for (size_t i = 0; i < n;) {
		size_t len = text_utf8_len(str + i, n - i);

		if (len == 0) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		if (s[i] == '\\')
			fputs("\\\\", f);
		else if (s[i] == '\n')
			fputs("\\n", f);
		else if (s[i] == '"' && quote)
			fputs("\\\"", f);
		else
			fwrite(s + i, 1, len, f);
		i += len;
	}
}

static void
put_labels(FILE *f, const char *run, const char *name, const char *value)
{
	fputs("{run=\"", f);
	put_escaped(f, run, true);
	fputc('"', f);
	if (name) {
		fprintf(f, ",%s=\"", name);
		put_escaped(f, value, true);
		fputc('"', f);
	}
	fputc('}', f);
}

/* ---- grouping into families ---- */

enum fam_type { FAM_COUNTER, FAM_GAUGE, FAM_SUMMARY };

static const char *const fam_names[] = { "counter", "gauge", "summary" };

/* One (store, key) pair and the family it goes to. */
struct entry {
	char name[PROM_NAME_MAX];
	size_t store, key;
	enum fam_type type;
	bool skip;
	const char *why;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->store != y->store)
		return x->store < y->store ? -1 : 1;
	return x->key < y->key ? -1 : (x->key > y->key);
}

/* Is there a kept summary named exactly name? (entries sorted by name) */
static bool
summary_named(const struct entry *e, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	/* Lower bound of name, then scan its run. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(e[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && strcmp(e[lo].name, name) == 0; lo++)
		if (!e[lo].skip && e[lo].type == FAM_SUMMARY)
			return true;
	return false;
}

/*
 * Decide which entries clash. Rules, all deterministic: names reserved
 * for store state lose to nothing; within one family the first store's
 * type wins and a store's second key of the same name is dropped; a
 * family named like another summary's N_sum or N_count is dropped.
 */
static void
mark_clashes(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].name, STATE_FAMILY) == 0 ||
		    strcmp(e[i].name, ALIVE_FAMILY) == 0 ||
		    strcmp(e[i].name, INCOMPLETE_FAMILY) == 0 ||
		    strcmp(e[i].name, LOST_FAMILY) == 0) {
			e[i].skip = true;
			e[i].why = "a store state family";
		}
	}
	for (size_t i = 0; i < n;) {
		size_t j = i, first = n, last = n;	/* last kept */

		while (j < n && strcmp(e[j].name, e[i].name) == 0)
			j++;
		for (size_t k = i; k < j; k++) {
			if (e[k].skip)
				continue;
			if (first == n) {
				first = k;
			} else if (e[k].type != e[first].type) {
				e[k].skip = true;
				e[k].why = "another type in another store";
				continue;
			} else if (e[k].store == e[last].store) {
				e[k].skip = true;
				e[k].why = "another key of the same store";
				continue;
			}
			last = k;
		}
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		char base[PROM_NAME_MAX];
		size_t len = strlen(e[i].name);
		const char *sfx = NULL;

		if (e[i].skip)
			continue;
		if (len > 4 && strcmp(e[i].name + len - 4, "_sum") == 0)
			sfx = "_sum";
		else if (len > 6 && strcmp(e[i].name + len - 6, "_count") == 0)
			sfx = "_count";
		if (!sfx)
			continue;
		memcpy(base, e[i].name, len - strlen(sfx));
		base[len - strlen(sfx)] = '\0';
		if (summary_named(e, n, base)) {
			e[i].skip = true;
			e[i].why = "a summary's _sum or _count";
		}
	}
}

static void
put_help(FILE *f, const char *name, const struct store_snap_key *k)
{
	int i = known_find(k->name);
	const char *h = i >= 0 ? known[i].help : NULL;

	fprintf(f, "# HELP %s ", name);
	if (h) {
		fputs(h, f);
	} else {
		fputs("metricsd store ", f);
		fputs(k->kind == STORE_COUNTER ? "counter" : "series", f);
		fputs(" key ", f);
		put_escaped(f, k->name, false);
		fputc('.', f);
	}
	if (prom_key_is_ns(k->name))
		fputs(" Seconds (stored in ns).", f);
	fputc('\n', f);
}

static void
put_summary(FILE *f, const char *name, const char *run,
    const struct store_snap_key *k)
{
	const struct store_snap_series *s = &k->series;
	double scale = prom_key_is_ns(k->name) ? 1e9 : 1;
	/* A sample-aligned series' "no value" sentinels are not observations. */
	uint64_t n = s->count - s->none;

	for (int q = 0; q < PROM_NQUANTILES; q++) {
		fputs(name, f);
		put_labels(f, run, "quantile", quantile_labels[q]);
		fputc(' ', f);
		put_double(f, n ? s->q[q] / scale : NAN);
		fputc('\n', f);
	}
	fprintf(f, "%s_sum", name);
	put_labels(f, run, NULL, NULL);
	fputc(' ', f);
	put_double(f, n ? s->sum / scale : 0);
	fprintf(f, "\n%s_count", name);
	put_labels(f, run, NULL, NULL);
	fprintf(f, " %" PRIu64 "\n", n);
}

static void
put_state(FILE *f, const struct store_snap *stores, size_t n)
{
	static const struct {
		enum store_state st;
		const char *label;
	} states[] = {
		{ STORE_LIVE, "live" },
		{ STORE_FINAL, "final" },
		{ STORE_INTERRUPTED, "interrupted" },
	};

	fputs("# HELP " STATE_FAMILY " How the writer left the store: 1 for"
	    " its state (live, final or interrupted), 0 for the others.\n"
	    "# TYPE " STATE_FAMILY " gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < 3; s++) {
			fputs(STATE_FAMILY, f);
			put_labels(f, stores[i].run, "state", states[s].label);
			fprintf(f, " %d\n",
			    stores[i].status.state == states[s].st);
		}
	}
	fputs("# HELP " ALIVE_FAMILY " 1 while a writer holds the store"
	    " open, else 0.\n"
	    "# TYPE " ALIVE_FAMILY " gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs(ALIVE_FAMILY, f);
		put_labels(f, stores[i].run, NULL, NULL);
		fprintf(f, " %d\n", stores[i].status.writer_alive ? 1 : 0);
	}
	fputs("# HELP " INCOMPLETE_FAMILY " 1 when the writer lost data (values"
	    " it could not store, events or tokens lost): the figures are not"
	    " those of the whole run. Else 0.\n"
	    "# TYPE " INCOMPLETE_FAMILY " gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs(INCOMPLETE_FAMILY, f);
		put_labels(f, stores[i].run, NULL, NULL);
		fprintf(f, " %d\n", stores[i].status.exists &&
		    stores[i].status.incomplete ? 1 : 0);
	}
	fputs("# HELP " LOST_FAMILY " Values or events the writer lost, as far"
	    " as it counted them (0 for a complete run).\n"
	    "# TYPE " LOST_FAMILY " gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs(LOST_FAMILY, f);
		put_labels(f, stores[i].run, NULL, NULL);
		fprintf(f, " %llu\n", (unsigned long long)(stores[i].status.exists ?
		    stores[i].status.lost : 0));
	}
}

int
prom_render(FILE *f, const struct store_snap *stores, size_t n,
    size_t *skipped)
{
	struct entry *e;
	size_t ne = 0, total = 0, nskip = 0;

	for (size_t i = 0; i < n; i++)
		total += stores[i].nkeys;
	if (!(e = calloc(total ? total : 1, sizeof(*e))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < stores[i].nkeys; k++) {
			const struct store_snap_key *key = &stores[i].keys[k];
			struct entry *x = &e[ne];

			if (key->state != STORE_SNAP_OK)
				continue;
			x->store = i;
			x->key = k;
			x->type = key->kind == STORE_SERIES ? FAM_SUMMARY :
			    prom_key_is_gauge(key->name, key->kind) ?
			    FAM_GAUGE : FAM_COUNTER;
			if (prom_metric_name(key->name, key->kind, x->name,
			    sizeof(x->name)) < 0) {
				/* Not reachable for valid keys: skip loudly. */
				snprintf(x->name, sizeof(x->name), "%s", PREFIX);
				x->skip = true;
				x->why = "the length limit";
			}
			ne++;
		}
	}
	qsort(e, ne, sizeof(*e), entry_cmp);
	mark_clashes(e, ne);

	put_state(f, stores, n);
	for (size_t i = 0; i < ne;) {
		size_t j = i, first = ne;

		while (j < ne && strcmp(e[j].name, e[i].name) == 0)
			j++;
		for (size_t k = i; k < j; k++) {
			const struct store_snap *st = &stores[e[k].store];
			const struct store_snap_key *key = &st->keys[e[k].key];

			if (e[k].skip)
				continue;
			if (first == ne) {
				first = k;
				put_help(f, e[k].name, key);
				fprintf(f, "# TYPE %s %s\n", e[k].name,
				    fam_names[e[k].type]);
			}
			if (e[k].type == FAM_SUMMARY) {
				put_summary(f, e[k].name, st->run, key);
				continue;
			}
			fputs(e[k].name, f);
			put_labels(f, st->run, NULL, NULL);
			fputc(' ', f);
			put_value(f, key->type, key->counter,
			    prom_key_is_ns(key->name));
			fputc('\n', f);
		}
		i = j;
	}
	for (size_t k = 0; k < ne; k++) {
		if (!e[k].skip)
			continue;
		nskip++;
		fputs("# metricsd: left out key \"", f);
		put_escaped(f, stores[e[k].store].keys[e[k].key].name, true);
		fputs("\" of run \"", f);
		put_escaped(f, stores[e[k].store].run, true);
		fprintf(f, "\": name %s clashes with %s\n", e[k].name,
		    e[k].why);
	}
	free(e);
	if (skipped)
		*skipped += nskip;
	if (ferror(f))
		return -EIO;
	return 0;
}
