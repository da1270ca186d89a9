/* A store snapshot as a table for people: see render.h. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "rollup.h"
#include "text.h"

enum {
	COL_NAME, COL_COUNT, COL_MEAN, COL_MIN, COL_MAX, COL_P0,
	NCOL = COL_P0 + ROLLUP_GRID_N
};

#define CELL 48

struct row {
	char *name;		/* made safe for a terminal */
	size_t name_w;		/* its width in characters */
	char cell[NCOL][CELL];
};

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

static void
print_rows(FILE *f, struct row *rows, size_t n, const char *const *head,
    int ncol)
{
	size_t w[NCOL] = { 0 };
	int c;

	for (c = 0; c < ncol; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].name_w > w[0])
			w[0] = rows[i].name_w;
		for (c = 1; c < ncol; c++)
			if (strlen(rows[i].cell[c]) > w[c])
				w[c] = strlen(rows[i].cell[c]);
	}
	fprintf(f, "%-*s", (int)w[0], head[0]);
	for (c = 1; c < ncol; c++)
		fprintf(f, "  %*s", (int)w[c], head[c]);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		int last = ncol - 1;

		/* No trailing blanks after a short row ("no data yet"). */
		while (last > 0 && !rows[i].cell[last][0])
			last--;
		fputs(rows[i].name ? rows[i].name : "?", f);
		if (last > 0)
			for (size_t pad = rows[i].name_w; pad < w[0]; pad++)
				fputc(' ', f);
		for (c = 1; c <= last; c++)
			fprintf(f, "  %*s", (int)w[c], rows[i].cell[c]);
		fputc('\n', f);
	}
}

static void
fill_series_row(const struct store_snap_key *k, struct row *row)
{
	const struct store_snap_series *s = &k->series;

	snprintf(row->cell[COL_COUNT], CELL, "%llu",
	    (unsigned long long)s->count);
	if (s->count == 0) {
		for (int c = COL_MEAN; c < NCOL; c++)
			strcpy(row->cell[c], "-");
		return;
	}
	fmt_double(row->cell[COL_MEAN], s->mean);
	fmt_value(row->cell[COL_MIN], k->type, s->min);
	fmt_value(row->cell[COL_MAX], k->type, s->max);
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		fmt_double(row->cell[COL_P0 + i], s->q[i]);
}

/* "store DIR: STATE", and the writer's pid while it is news. */
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
	fputc('\n', f);
}

/* Split the keys into counter rows and series rows. */
static void
fill_rows(const struct store_snap *snap, bool waiting, struct row *crows,
    size_t *nc, struct row *srows, size_t *ns)
{
	for (size_t i = 0; i < snap->nkeys; i++) {
		const struct store_snap_key *k = &snap->keys[i];
		struct row *row;

		if (k->state == STORE_SNAP_BAD ||
		    (k->state == STORE_SNAP_ABSENT && !waiting))
			continue;
		row = k->state != STORE_SNAP_ABSENT &&
		    k->kind == STORE_COUNTER ? &crows[(*nc)++] : &srows[(*ns)++];
		row->name = text_display(k->name, &row->name_w);
		if (k->state == STORE_SNAP_ABSENT)
			strcpy(row->cell[COL_COUNT], "no data yet");
		else if (k->kind == STORE_COUNTER)
			fmt_value(row->cell[1], k->type, k->counter);
		else
			fill_series_row(k, row);
	}
}

int
render_table(FILE *f, const struct store_snap *snap, bool waiting)
{
	static const char *const chead[] = { "COUNTER", "VALUE" };
	static const char *const shead[NCOL] = { "SERIES", "COUNT", "MEAN",
		"MIN", "MAX", "P50", "P90", "P95", "P99", "P99.9" };
	size_t n = snap->nkeys ? snap->nkeys : 1, nc = 0, ns = 0;
	struct row *crows, *srows;

	if (!snap->status.exists) {
		if (waiting)
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
	fill_rows(snap, waiting, crows, &nc, srows, &ns);
	if (nc > 0) {
		fputc('\n', f);
		print_rows(f, crows, nc, chead, 2);
	}
	if (ns > 0) {
		fputc('\n', f);
		print_rows(f, srows, ns, shead, NCOL);
	}
	if (nc == 0 && ns == 0)
		fputs("(no keys yet)\n", f);
	for (size_t i = 0; i < nc; i++)
		free(crows[i].name);
	for (size_t i = 0; i < ns; i++)
		free(srows[i].name);
	free(crows);
	free(srows);
	return ferror(f) ? -EIO : 0;
}
