/* Drawing a report for people and as JSON (see report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "text.h"

/* ---- JSON ---- */

static void
jnum(FILE *f, bool has, double x)
{
	char buf[TEXT_DOUBLE_MAX];

	if (!has || !isfinite(x)) {
		fputs("null", f);
		return;
	}
	/* Integral values print as integers: exact nanoseconds. */
	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		fprintf(f, "%.0f", x);
	else {
		text_double(buf, x);
		fputs(buf, f);
	}
}

static void
ju64(FILE *f, uint64_t v)
{
	char buf[24];

	text_u64(buf, v);
	fputs(buf, f);
}

static void
jstats(FILE *f, const struct report_stats *s)
{
	bool has = s->count > 0;

	if (!s->present) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"unit\":\"%s\",\"count\":", s->is_ns ? "ns" : "tokens");
	ju64(f, s->count);
	fputs(",\"mean\":", f);
	jnum(f, has, s->mean);
	fputs(",\"min\":", f);
	jnum(f, has, s->min);
	fputs(",\"max\":", f);
	jnum(f, has, s->max);
	fputs(",\"std\":", f);
	jnum(f, has, s->std);
	for (int i = 0; i < ROLLUP_GRID_N; i++) {
		fprintf(f, ",\"%s\":", rollup_grid_names[i]);
		jnum(f, has, s->q[i]);
	}
	fputc('}', f);
}

static void
jestop(FILE *f, const struct report *r)
{
	bool first = true;

	fputc('{', f);
	for (int i = 0; i < REPORT_NROWS; i++) {
		const struct report_stats *s = &r->rows[i];

		if (!s->latency_like)
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", s->name);
		first = false;
		if (!s->present) {
			fputs("null", f);
			continue;
		}
		fputc('{', f);
		for (int j = 0; j < REPORT_NES; j++) {
			const struct report_estop *e = &s->es[j];

			fprintf(f, "%s\"%s\":{\"n\":", j ? "," : "",
			    report_es_names[j]);
			ju64(f, s->count);
			fputs(",\"min_queries\":", f);
			ju64(f, e->min_queries);
			fprintf(f, ",\"sufficient\":%s,\"t\":",
			    e->sufficient ? "true" : "false");
			if (e->sufficient)
				ju64(f, e->t);
			else
				fputs("null", f);
			fputs(",\"estimate\":", f);
			jnum(f, e->sufficient, e->value);
			fputc('}', f);
		}
		fputc('}', f);
	}
	fputc('}', f);
}

static void
jgoodput(FILE *f, const struct report *r)
{
	bool first = true;

	if (!r->has_goodput) {
		fputs("null", f);
		return;
	}
	fputs("{\"slo\":{", f);
	if (r->slo.has_ttft) {
		fputs("\"ttft_ns\":", f);
		ju64(f, r->slo.ttft_ns);
		first = false;
	}
	if (r->slo.has_tpot) {
		fputs(first ? "\"tpot_ns\":" : ",\"tpot_ns\":", f);
		ju64(f, r->slo.tpot_ns);
		first = false;
	}
	if (r->slo.has_latency) {
		fputs(first ? "\"latency_ns\":" : ",\"latency_ns\":", f);
		ju64(f, r->slo.latency_ns);
	}
	fputs("},\"good_samples\":", f);
	if (r->goodput_known)
		ju64(f, r->good_samples);
	else
		fputs("null", f);
	fputs(",\"goodput_fraction\":", f);
	jnum(f, r->goodput_known && r->has_goodput_fraction,
	    r->goodput_fraction);
	fputs(",\"goodput_qps\":", f);
	jnum(f, r->goodput_known && r->has_goodput_qps, r->goodput_qps);
	fputc('}', f);
}

int
report_render_json(FILE *f, const struct report *r)
{
	fprintf(f, "{\"state\":\"%s\",\"complete\":%s,\"tokens_pending\":%s"
	    ",\"data_lost\":%s,\"values_lost\":%llu",
	    report_state_name(r->state), r->complete ? "true" : "false",
	    r->tokens_pending ? "true" : "false",
	    r->data_lost ? "true" : "false",
	    (unsigned long long)r->values_lost);
	fputs(",\"n_samples_issued\":", f);
	ju64(f, r->n_samples_issued);
	fputs(",\"n_samples_completed\":", f);
	ju64(f, r->n_samples_completed);
	fputs(",\"n_samples_failed\":", f);
	ju64(f, r->n_samples_failed);
	fputs(",\"samples_in_flight\":", f);
	ju64(f, r->samples_in_flight);
	fputs(",\"duration_ns\":", f);
	ju64(f, r->duration_ns);
	fputs(",\"qps\":", f);
	jnum(f, r->has_qps, r->qps);
	fputs(",\"tps\":", f);
	jnum(f, r->has_tps, r->tps);
	fputs(",\"legacy_loadgen_window_duration_ns\":", f);
	if (r->has_window)
		ju64(f, r->window_ns);
	else
		fputs("null", f);
	fputs(",\"legacy_loadgen_qps\":", f);
	jnum(f, r->has_legacy_qps, r->legacy_qps);
	for (int i = 0; i < REPORT_NROWS; i++) {
		fprintf(f, ",\"%s\":", r->rows[i].name);
		jstats(f, &r->rows[i]);
	}
	fputs(",\"early_stopping\":", f);
	jestop(f, r);
	fputs(",\"goodput\":", f);
	jgoodput(f, r);
	fputs(",\"finish_reason_counts\":{", f);
	for (size_t i = 0; i < r->nreasons; i++) {
		/* Names are [a-z0-9_] as the engine writes them; anything
		 * else a foreign writer put there is not printed raw. */
		char *d = text_utf8_sanitize(r->reasons[i].name);
		fputs(i ? ",\"" : "\"", f);
		for (const char *p = d ? d : "?"; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c < 0x20 || c == '"' || c == '\\')
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
		free(d);
		fputs("\":", f);
		ju64(f, r->reasons[i].count);
	}
	fputs("},\"finish_reasons_dropped\":", f);
	ju64(f, r->reasons_dropped);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- people ---- */

/* A figure of a row: ms for ns rows, else tokens; "-" when none. */
static void
cell(char *buf, size_t len, const struct report_stats *s, bool has,
    double x)
{
	if (!has || isnan(x))
		snprintf(buf, len, "-");
	else if (s->is_ns)
		snprintf(buf, len, "%.3f", x / 1e6);
	else
		snprintf(buf, len, "%.1f", x);
}

static const char *
why_incomplete(const struct report *r)
{
	switch (r->state) {
	case REPORT_LIVE:
		return "the run is still going";
	case REPORT_INTERRUPTED:
		return "the run was interrupted";
	case REPORT_ABANDONED:
		return "the writer died before the end";
	case REPORT_MISSING:
		return "no store yet";
	case REPORT_COMPLETE:
		break;
	}
	return r->data_lost ? "the writer lost data" :
	    "token counts are still pending";
}

int
report_render_text(FILE *f, const struct report *r, const char *dir)
{
	char *d = text_display(dir, NULL);

	if (r->complete)
		fprintf(f, "report of %s: complete\n", d ? d : "?");
	else
		fprintf(f, "report of %s: %s, INCOMPLETE (%s%s)\n",
		    d ? d : "?", report_state_name(r->state),
		    why_incomplete(r), r->tokens_pending &&
		    r->state != REPORT_COMPLETE ? "; token counts pending" :
		    "");
	if (r->data_lost)
		fprintf(f, "data lost: %llu values the store refused; every "
		    "figure below undercounts\n",
		    (unsigned long long)r->values_lost);
	free(d);
	fprintf(f, "samples: %llu issued, %llu completed, %llu failed",
	    (unsigned long long)r->n_samples_issued,
	    (unsigned long long)r->n_samples_completed,
	    (unsigned long long)r->n_samples_failed);
	if (r->samples_in_flight)
		fprintf(f, ", %llu in flight",
		    (unsigned long long)r->samples_in_flight);
	fprintf(f, "\nduration: %.3f s", (double)r->duration_ns / 1e9);
	if (r->has_qps)
		fprintf(f, "   QPS: %.2f", r->qps);
	else
		fputs("   QPS: -", f);
	if (r->has_tps)
		fprintf(f, "   output TPS: %.2f", r->tps);
	else
		fputs("   output TPS: - (no token counts)", f);
	if (r->has_legacy_qps)
		fprintf(f, "   LoadGen QPS: %.2f (window %.3f s)",
		    r->legacy_qps, (double)r->window_ns / 1e9);
	fputc('\n', f);
	if (r->has_goodput) {
		fputs("goodput:", f);
		if (r->slo.has_ttft)
			fprintf(f, " TTFT <= %.3f ms", (double)r->slo.ttft_ns /
			    1e6);
		if (r->slo.has_tpot)
			fprintf(f, "%s TPOT <= %.3f ms", r->slo.has_ttft ?
			    "," : "", (double)r->slo.tpot_ns / 1e6);
		if (r->slo.has_latency)
			fprintf(f, "%s latency <= %.3f ms", r->slo.has_ttft ||
			    r->slo.has_tpot ? "," : "",
			    (double)r->slo.latency_ns / 1e6);
		if (!r->goodput_known)
			fputs(": unknown (the store has no per-sample series)",
			    f);
		else {
			fprintf(f, ": %llu good",
			    (unsigned long long)r->good_samples);
			if (r->has_goodput_fraction)
				fprintf(f, " (%.2f%%)", 100.0 *
				    r->goodput_fraction);
			if (r->has_goodput_qps)
				fprintf(f, ", %.2f/s", r->goodput_qps);
		}
		fputc('\n', f);
	}
	if (r->nreasons || r->reasons_dropped) {
		fputs("finish reasons:", f);
		for (size_t i = 0; i < r->nreasons; i++) {
			char *n = text_display(r->reasons[i].name, NULL);
			fprintf(f, " %s %llu", n ? n : "?",
			    (unsigned long long)r->reasons[i].count);
			free(n);
		}
		if (r->reasons_dropped)
			fprintf(f, " (others: %llu)",
			    (unsigned long long)r->reasons_dropped);
		fputc('\n', f);
	}

	fprintf(f, "\n%-15s %8s", "", "count");
	static const char *const cols[] = { "mean", "min", "max", "std" };
	for (int i = 0; i < 4; i++)
		fprintf(f, " %10s", cols[i]);
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		fprintf(f, " %10s", rollup_grid_names[i]);
	for (int i = 0; i < REPORT_NES; i++) {
		char h[16];
		snprintf(h, sizeof(h), "ES %s", report_es_names[i]);
		fprintf(f, " %10s", h);
	}
	fputc('\n', f);
	for (int i = 0; i < REPORT_NROWS; i++) {
		const struct report_stats *s = &r->rows[i];
		char label[32], buf[40];
		bool has = s->count > 0;

		snprintf(label, sizeof(label), "%s (%s)", s->label,
		    s->is_ns ? "ms" : "tok");
		if (!s->present) {
			fprintf(f, "%-15s %8s  (not in this store)\n", label,
			    "-");
			continue;
		}
		fprintf(f, "%-15s %8llu", label, (unsigned long long)s->count);
		const double v[] = { s->mean, s->min, s->max, s->std };
		for (int j = 0; j < 4; j++) {
			cell(buf, sizeof(buf), s, has, v[j]);
			fprintf(f, " %10s", buf);
		}
		for (int j = 0; j < ROLLUP_GRID_N; j++) {
			cell(buf, sizeof(buf), s, has, s->q[j]);
			fprintf(f, " %10s", buf);
		}
		for (int j = 0; j < REPORT_NES && s->latency_like; j++) {
			cell(buf, sizeof(buf), s, s->es[j].sufficient,
			    s->es[j].value);
			fprintf(f, " %10s", buf);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}
