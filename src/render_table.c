/* A store snapshot as a table for people: see render.h. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "rollup.h"
#include "text.h"

enum {
	COL_NAME, COL_COUNT, COL_NA, COL_MEAN, COL_MIN, COL_MAX, COL_P0,
	NCOL = COL_P0 + ROLLUP_GRID_N
};

#define CELL 48

struct row {
	char *name;		/* made safe for a terminal */
	size_t name_w;		/* its width in characters */
	const char *unit;	/* "ms" for an _ns key shown in ms, or "" */
	char cell[NCOL][CELL];
};

/*
 * The diagnostic counters: the aggregator's (src/aggregator.c, key
 * table; metricsd(1), "Keys") counts of events it could not use or of
 * its own trouble. They are 0 in a healthy run, so the table folds the
 * ones that are 0 into one line unless RENDER_ALL; one that is not 0 is
 * always shown. This list is the one place that says which they are
 * (check_render_table.c checks each is a key of the aggregator).
 */
static const char *const diagnostic_keys[] = {
	"decode_errors",
	"decode_malformed",
	"decode_bad_records",
	"decode_unknown_events",
	"decode_field_types",
	"decode_absurd_sizes",
	"events_without_timestamp",
	"empty_uuid_events",
	"duplicate_issued",
	"negative_intervals",
	"events_after_end",
	"in_flight_overflow",
	"tokenizer_errors",
	"tokenizer_invalid_utf8",
	"series_append_errors",
	"finish_reasons_dropped",
	"token_work_pending",
	NULL
};

bool
render_is_diagnostic(const char *name)
{
	for (size_t i = 0; name && diagnostic_keys[i]; i++)
		if (strcmp(name, diagnostic_keys[i]) == 0)
			return true;
	return false;
}

/* A key in nanoseconds: its name ends in "_ns". */
static bool
is_ns_key(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 3 && strcmp(name + n - 3, "_ns") == 0;
}

/* A double for people: integers as integers, else three decimals. */
static void
fmt_double(char *buf, double x)
{
	if (isnan(x)) {
		strcpy(buf, "nan");
	} else if (isinf(x)) {
		strcpy(buf, x > 0 ? "inf" : "-inf");
	} else if (fabs(x) < 1e15 && x == trunc(x)) {
		snprintf(buf, CELL, "%.0f", x);
	} else if (fabs(x) >= 1e-3 && fabs(x) < 1e15) {
		char *p;

		snprintf(buf, CELL, "%.3f", x);
		p = buf + strlen(buf) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	} else {
		snprintf(buf, CELL, "%.6g", x);
	}
}

/*
 * Nanoseconds as milliseconds with three decimals (microseconds), fixed
 * so that a column lines up on the point. A nonzero value under half a
 * microsecond is shown to the nanosecond rather than as 0.000 (and one
 * under half a nanosecond with three significant digits).
 */
static void
fmt_ms_double(char *buf, double ns)
{
	double ms = ns / 1e6;

	if (isnan(ms) || isinf(ms))
		fmt_double(buf, ms);
	else if (fabs(ms) >= 1e15)
		snprintf(buf, CELL, "%.6g", ms);
	else if (ms != 0 && fabs(ms) < 5e-7)
		snprintf(buf, CELL, "%.3g", ms);
	else if (ms != 0 && fabs(ms) < 0.0005)
		snprintf(buf, CELL, "%.6f", ms);	/* to the ns */
	else
		snprintf(buf, CELL, "%.3f", ms);
}

/*
 * An integer number of nanoseconds as milliseconds, exactly: rounded
 * to the microsecond, half away from zero, in integer arithmetic (a
 * double would lose digits above 2^53 ns).
 */
static void
fmt_ms_u64(char *buf, uint64_t ns, bool neg)
{
	uint64_t us = ns / 1000 + (ns % 1000 >= 500);

	if (us == 0 && ns != 0) {
		/* under half a microsecond: to the nanosecond */
		snprintf(buf, CELL, "%s0.%06llu", neg ? "-" : "",
		    (unsigned long long)ns);
		return;
	}
	snprintf(buf, CELL, "%s%llu.%03llu", neg ? "-" : "",
	    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
}

static void
fmt_ms_value(char *buf, enum store_type t, union store_value v)
{
	if (t == STORE_F64)
		fmt_ms_double(buf, v.f);
	else if (t == STORE_I64)
		fmt_ms_u64(buf, v.i < 0 ? (uint64_t)0 - (uint64_t)v.i :
		    (uint64_t)v.i, v.i < 0);
	else
		fmt_ms_u64(buf, v.u, false);
}

static void
fmt_value(char *buf, enum store_type t, union store_value v)
{
	if (t == STORE_F64)
		fmt_double(buf, v.f);
	else if (t == STORE_I64)
		text_i64(buf, v.i);
	else
		text_u64(buf, v.u);
}

/*
 * An aligned block: the names, then (when unit) a UNIT column, then the
 * other cells right-aligned, but for column hide (0: none).
 */
static void
print_rows(FILE *f, struct row *rows, size_t n, const char *const *head,
    int ncol, bool unit, int hide)
{
	size_t w[NCOL] = { 0 }, uw = strlen("UNIT");
	int c;

	for (c = 0; c < ncol; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].name_w > w[0])
			w[0] = rows[i].name_w;
		if (rows[i].unit && strlen(rows[i].unit) > uw)
			uw = strlen(rows[i].unit);
		for (c = 1; c < ncol; c++)
			if (strlen(rows[i].cell[c]) > w[c])
				w[c] = strlen(rows[i].cell[c]);
	}
	fprintf(f, "%-*s", (int)w[0], head[0]);
	if (unit)
		fprintf(f, "  %-*s", (int)uw, "UNIT");
	for (c = 1; c < ncol; c++)
		if (c != hide)
			fprintf(f, "  %*s", (int)w[c], head[c]);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		int last = ncol - 1;

		/* No trailing blanks after a short row ("no data yet"). */
		while (last > 0 && !rows[i].cell[last][0])
			last--;
		fputs(rows[i].name ? rows[i].name : "?", f);
		if (last > 0) {
			for (size_t pad = rows[i].name_w; pad < w[0]; pad++)
				fputc(' ', f);
			if (unit)
				fprintf(f, "  %-*s", (int)uw,
				    rows[i].unit ? rows[i].unit : "");
		}
		for (c = 1; c <= last; c++)
			if (c != hide)
				fprintf(f, "  %*s", (int)w[c], rows[i].cell[c]);
		fputc('\n', f);
	}
}

static void
fill_series_row(const struct store_snap_key *k, struct row *row, bool ms)
{
	const struct store_snap_series *s = &k->series;

	/* An aligned series: its sentinels counted apart, under N/A. */
	snprintf(row->cell[COL_COUNT], CELL, "%llu",
	    (unsigned long long)(s->count - s->none));
	if (s->aligned)
		snprintf(row->cell[COL_NA], CELL, "%llu",
		    (unsigned long long)s->none);
	if (s->count - s->none == 0) {
		for (int c = COL_MEAN; c < NCOL; c++)
			strcpy(row->cell[c], "-");
		return;
	}
	if (ms) {
		fmt_ms_double(row->cell[COL_MEAN], s->mean);
		fmt_ms_value(row->cell[COL_MIN], k->type, s->min);
		fmt_ms_value(row->cell[COL_MAX], k->type, s->max);
		for (int i = 0; i < ROLLUP_GRID_N; i++)
			fmt_ms_double(row->cell[COL_P0 + i], s->q[i]);
		return;
	}
	fmt_double(row->cell[COL_MEAN], s->mean);
	fmt_value(row->cell[COL_MIN], k->type, s->min);
	fmt_value(row->cell[COL_MAX], k->type, s->max);
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		fmt_double(row->cell[COL_P0 + i], s->q[i]);
}

static bool
is_zero(enum store_type t, union store_value v)
{
	if (t == STORE_F64)
		return v.f == 0;
	if (t == STORE_I64)
		return v.i == 0;
	return v.u == 0;
}

/*
 * "store DIR: STATE", the writer's pid while it is news, and
 * ", INCOMPLETE: N values lost" for a run that lost data.
 */
static void
print_header(FILE *f, const struct store_snap *snap)
{
	const struct store_status *st = &snap->status;
	char *d = text_display(snap->dir, NULL);

	fprintf(f, "store %s: %s", d ? d : "?", render_state_name(st));
	free(d);
	/* A finished store's writer is history; a live or dead one is news. */
	if (st->state == STORE_LIVE && st->writer_pid > 0)
		fprintf(f, " (writer pid %ld%s)", (long)st->writer_pid,
		    st->writer_alive ? "" : " died");
	/* A run that lost data says so on the line that names its state. */
	if (st->exists && st->incomplete)
		fprintf(f, ", INCOMPLETE: %llu values lost",
		    (unsigned long long)st->lost);
	fputc('\n', f);
}

/* What fill_rows found besides the rows. */
struct fill {
	size_t nc, ns;		/* counter and series rows */
	size_t ndiag;		/* diagnostic counters in the snapshot */
	size_t folded;		/* of them, left out as 0 */
	size_t hidden;		/* series aligned by sample left out */
	bool na;		/* an aligned series is shown: N/A column */
	bool cunit, sunit;	/* a block has a row in ms */
};

/*
 * Split the keys into counter rows and series rows; _ns keys in ms
 * unless RENDER_RAW; diagnostic counters that are 0, and the series
 * aligned by sample, left out unless RENDER_RAW or RENDER_ALL.
 */
static void
fill_rows(const struct store_snap *snap, unsigned flags, struct row *crows,
    struct row *srows, struct fill *fl)
{
	bool waiting = flags & RENDER_WAITING, raw = flags & RENDER_RAW;
	bool fold = !raw && !(flags & RENDER_ALL);

	for (size_t i = 0; i < snap->nkeys; i++) {
		const struct store_snap_key *k = &snap->keys[i];
		bool counter, ms;
		struct row *row;

		if (k->state == STORE_SNAP_BAD ||
		    (k->state == STORE_SNAP_ABSENT && !waiting))
			continue;
		counter = k->state != STORE_SNAP_ABSENT &&
		    k->kind == STORE_COUNTER;
		if (counter && render_is_diagnostic(k->name)) {
			fl->ndiag++;
			if (fold && is_zero(k->type, k->counter)) {
				fl->folded++;
				continue;
			}
		}
		if (!counter && k->state != STORE_SNAP_ABSENT &&
		    k->series.aligned) {
			if (fold) {
				fl->hidden++;
				continue;
			}
			fl->na = true;
		}
		ms = !raw && k->state != STORE_SNAP_ABSENT &&
		    is_ns_key(k->name);
		row = counter ? &crows[fl->nc++] : &srows[fl->ns++];
		row->name = text_display(k->name, &row->name_w);
		row->unit = ms ? "ms" : "";
		if (ms && counter)
			fl->cunit = true;
		else if (ms)
			fl->sunit = true;
		if (k->state == STORE_SNAP_ABSENT)
			strcpy(row->cell[COL_COUNT], "no data yet");
		else if (counter && ms)
			fmt_ms_value(row->cell[1], k->type, k->counter);
		else if (counter)
			fmt_value(row->cell[1], k->type, k->counter);
		else
			fill_series_row(k, row, ms);
	}
}

/* The line that stands for the folded diagnostic counters. */
static void
print_folded(FILE *f, const struct fill *fl)
{
	const char *them = fl->folded == 1 ? "it" : "them";

	if (fl->folded == fl->ndiag && fl->folded > 1)
		fprintf(f, "all %zu diagnostic counters are 0", fl->folded);
	else
		fprintf(f, "%zu%s diagnostic counter%s 0", fl->folded,
		    fl->folded == fl->ndiag ? "" : " other",
		    fl->folded == 1 ? " is" : "s are");
	fprintf(f, " (--all shows %s)\n", them);
}

/* The line that stands for the hidden series aligned by sample. */
static void
print_hidden(FILE *f, const struct fill *fl)
{
	fprintf(f, "%zu series aligned by sample for report's goodput "
	    "(sample_good_*) not shown (--all shows %s)\n", fl->hidden,
	    fl->hidden == 1 ? "it" : "them");
}

int
render_table(FILE *f, const struct store_snap *snap, unsigned flags)
{
	static const char *const chead[] = { "COUNTER", "VALUE" };
	static const char *const shead[NCOL] = { "SERIES", "COUNT", "N/A",
		"MEAN", "MIN", "MAX", "P50", "P90", "P95", "P99", "P99.9" };
	size_t n = snap->nkeys ? snap->nkeys : 1;
	struct fill fl = { 0 };
	struct row *crows, *srows;

	if (!snap->status.exists) {
		if (flags & RENDER_WAITING)
			fprintf(f, "no store at %s (no data yet)\n", snap->dir);
		return ferror(f) ? -EIO : 0;
	}
	crows = calloc(n, sizeof(*crows));
	srows = calloc(n, sizeof(*srows));
	if (!crows || !srows) {
		free(crows);
		free(srows);
		return -ENOMEM;
	}
	print_header(f, snap);
	fill_rows(snap, flags, crows, srows, &fl);
	if (fl.nc > 0) {
		fputc('\n', f);
		print_rows(f, crows, fl.nc, chead, 2, fl.cunit, 0);
	}
	if (fl.folded > 0) {
		if (fl.nc == 0)
			fputc('\n', f);
		print_folded(f, &fl);
	}
	if (fl.ns > 0) {
		fputc('\n', f);
		print_rows(f, srows, fl.ns, shead, NCOL, fl.sunit,
		    fl.na ? 0 : COL_NA);
	}
	if (fl.hidden > 0) {
		if (fl.ns == 0)
			fputc('\n', f);
		print_hidden(f, &fl);
	}
	if (fl.nc == 0 && fl.ns == 0 && fl.folded == 0 && fl.hidden == 0)
		fputs("(no keys yet)\n", f);
	for (size_t i = 0; i < fl.nc; i++)
		free(crows[i].name);
	for (size_t i = 0; i < fl.ns; i++)
		free(srows[i].name);
	free(crows);
	free(srows);
	return ferror(f) ? -EIO : 0;
}
