/*
 * metricsd read: show the metrics in a store, as a table or as JSON, once
 * or every few seconds (--watch).
 *
 * A reader keeps one view and one rollup per key for its whole life: each
 * snapshot refreshes the views and folds in only the values appended
 * since the previous one, so --watch on a large series costs the new
 * values, not the whole series.
 *
 * Decisions the issue left open (documented in metricsd(1)):
 * - No store directory: one-shot prints "no store at DIR (no data yet)"
 *   and exits 1 (with --json it still prints the "_store" object, with
 *   "state":"missing"); --watch keeps waiting for it.
 * - A requested key that is not there: one-shot prints the keys it has,
 *   then names the missing one (and lists the known keys) and exits 1;
 *   --watch shows it as "no data yet" and picks it up when it appears.
 * - A file that is not a valid store file is reported by name, skipped,
 *   and makes the exit status of a one-shot read 1; the other keys are
 *   still shown.
 * - --watch ends with 0 on SIGINT/SIGTERM, 1 if stdout cannot be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "modes.h"
#include "rollup.h"
#include "scrape.h"
#include "store.h"
#include "text.h"

#define USAGE "usage: metricsd read [--metrics-dir DIR]" \
	" [--json [--values] | --prometheus] [--watch SECONDS] [KEY...]\n"

#define WATCH_MAX 86400.0	/* seconds; anything longer is a typo */

struct key {
	char *name;
	struct store_view *view;	/* NULL until the key appears */
	enum store_kind kind;
	enum store_type type;
	struct rollup roll;		/* series only */
	uint64_t count;			/* series: count at the last refresh */
	union store_value value;	/* counter: value at the last read */
	dev_t dev;			/* the file the view maps, as stat'd */
	ino_t ino;			/* just before opening it */
	bool bad;			/* not a valid store file (reported) */
	bool failed;			/* refresh or fold failed this round */
};

struct reader {
	char dir[4096];
	bool json, values;
	bool prom;			/* --prometheus: through scrape.c */
	struct scrape *scrape;
	const char **keynames;		/* the KEYs, for scrape_render */
	const char *prom_missing;	/* a KEY no store has, or NULL */
	size_t prom_stores;		/* stores in the last exposition */
	double watch;			/* seconds; 0 = one shot */
	bool explicit_keys;		/* KEYs were given on the command line */
	struct key *keys;
	size_t nkeys, cap;
	struct store_status st;
	bool st_ok;			/* st was read this round */
	bool tty;
	bool any_bad;			/* an invalid file, a clash...: exit 1 */
	bool write_failed;
	int write_errno;		/* errno of the failed write, or 0 */
	unsigned frames;
	uv_loop_t loop;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
};

/* ---- keys ---- */

static struct key *
key_find(struct reader *rd, const char *name)
{
	for (size_t i = 0; i < rd->nkeys; i++)
		if (strcmp(rd->keys[i].name, name) == 0)
			return &rd->keys[i];
	return NULL;
}

static int
key_add(struct reader *rd, const char *name)
{
	struct key *k;

	if (key_find(rd, name))
		return 0;
	if (rd->nkeys == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 16;

		if (!(k = realloc(rd->keys, cap * sizeof(*k))))
			return -ENOMEM;
		rd->keys = k;
		rd->cap = cap;
	}
	k = &rd->keys[rd->nkeys];
	memset(k, 0, sizeof(*k));
	if (!(k->name = strdup(name)))
		return -ENOMEM;
	rd->nkeys++;
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->name, ((const struct key *)b)->name);
}

static void
keys_free(struct reader *rd)
{
	for (size_t i = 0; i < rd->nkeys; i++) {
		struct key *k = &rd->keys[i];

		if (k->view)
			store_view_close(k->view);
		rollup_free(&k->roll);
		free(k->name);
	}
	free(rd->keys);
	rd->keys = NULL;
	rd->nkeys = rd->cap = 0;
}

/* Without KEYs on the command line, every key the store has, sorted. */
static void
keys_discover(struct reader *rd)
{
	char err[STORE_ERR_MAX], **names = NULL;
	size_t n = 0, before = rd->nkeys;
	int rc;

	if ((rc = store_names_list(rd->dir, &names, &n, err, sizeof(err))) < 0) {
		log_warn("%s", err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (key_add(rd, names[i]) < 0)
			log_warn("out of memory adding key '%s'", names[i]);
	store_names_free(names, n);
	if (rd->nkeys != before)
		qsort(rd->keys, rd->nkeys, sizeof(*rd->keys), key_cmp);
}

/* Where a key's file is, for stat; false if the path is too long. */
static bool
key_path(const struct reader *rd, const struct key *k, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", rd->dir, k->name);

	return n > 0 && (size_t)n < len;
}

/* Map a key that was not there yet. Quiet while it does not exist. */
static void
key_open(struct reader *rd, struct key *k)
{
	char err[STORE_ERR_MAX], path[sizeof(rd->dir) + STORE_KEY_MAX + 2];
	struct stat sb;
	int rc;

	if (k->view || k->bad)
		return;
	/*
	 * Note which file we are about to map, before mapping it: if it is
	 * replaced in between, the next look sees a different inode and
	 * reopens, which is harmless; noting it after could miss a
	 * replacement for good.
	 */
	k->dev = 0;
	k->ino = 0;
	if (key_path(rd, k, path, sizeof(path)) &&
	    fstatat(AT_FDCWD, path, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		k->dev = sb.st_dev;
		k->ino = sb.st_ino;
	}
	rc = store_view_open(&k->view, rd->dir, k->name, err, sizeof(err));
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		/* Reported once; in --watch mode it is not retried. */
		log_warn("skipping %s/%s: %s", rd->dir, k->name, err);
		k->bad = true;
		rd->any_bad = true;
		k->view = NULL;
		return;
	}
	k->kind = store_view_kind(k->view);
	k->type = store_view_type(k->view);
	rollup_init(&k->roll, k->type);
}

/*
 * Bring one key up to date: a counter's current value; for a series, the
 * new count and a fold of only the values appended since the last time.
 */
static void
key_update(struct key *k)
{
	char err[STORE_ERR_MAX];

	k->failed = false;
	if (!k->view)
		return;
	if (k->kind == STORE_COUNTER) {
		k->value = store_view_counter(k->view);
		return;
	}
	if (rollup_fold_view(&k->roll, k->view, NULL, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		k->failed = true;
		return;
	}
	k->count = rollup_count(&k->roll);
}

/*
 * A writer that starts again recreates its keys: new files renamed over
 * the old ones. A view keeps mapping the old file, so in --watch mode a
 * key whose file changed is closed and reopened, its rollup started
 * afresh.
 */
static void
key_check_replaced(struct reader *rd, struct key *k)
{
	char path[sizeof(rd->dir) + STORE_KEY_MAX + 2];
	struct stat sb;

	if (!k->view || !key_path(rd, k, path, sizeof(path)) ||
	    fstatat(AT_FDCWD, path, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (sb.st_dev == k->dev && sb.st_ino == k->ino)
		return;
	store_view_close(k->view);
	k->view = NULL;
	rollup_free(&k->roll);
	k->count = 0;
}

static void
snapshot(struct reader *rd)
{
	char err[STORE_ERR_MAX];

	/*
	 * Status first: if the store was already final, every value read
	 * afterwards is final too.
	 */
	memset(&rd->st, 0, sizeof(rd->st));
	rd->st_ok = store_status_read(rd->dir, &rd->st, err, sizeof(err)) == 0;
	if (!rd->st_ok && rd->frames == 0)
		log_warn("%s", err);
	if (!rd->explicit_keys)
		keys_discover(rd);
	for (size_t i = 0; i < rd->nkeys; i++) {
		if (rd->watch)
			key_check_replaced(rd, &rd->keys[i]);
		key_open(rd, &rd->keys[i]);
		key_update(&rd->keys[i]);
	}
}

static const char *
state_name(const struct reader *rd)
{
	if (!rd->st_ok || !rd->st.exists)
		return "missing";
	switch (rd->st.state) {
	case STORE_FINAL:
		return "final";
	case STORE_INTERRUPTED:
		return "interrupted";
	default:
		return rd->st.writer_alive ? "live" : "abandoned";
	}
}

/* ---- number formatting ---- */

static size_t
fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

static size_t
fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_u64(buf + 1, -(uint64_t)v);
	}
	return fmt_u64(buf, (uint64_t)v);
}

/* Shortest text that reads back as the same double; JSON null if none. */
static size_t
fmt_json_double(char *buf, size_t len, double x)
{
	if (!isfinite(x))
		return (size_t)snprintf(buf, len, "null");
	return text_double(buf, x);
}

/* A value of the given type, as JSON text. */
static size_t
fmt_json_value(char *buf, size_t len, enum store_type t, union store_value v)
{
	switch (t) {
	case STORE_U64:
		return fmt_u64(buf, v.u);
	case STORE_I64:
		return fmt_i64(buf, v.i);
	default:
		return fmt_json_double(buf, len, v.f);
	}
}

/* A double for people: integers as integers, else three decimals. */
static void
fmt_table_double(char *buf, size_t len, double x)
{
	if (isnan(x)) {
		snprintf(buf, len, "nan");
	} else if (isinf(x)) {
		snprintf(buf, len, x > 0 ? "inf" : "-inf");
	} else if (fabs(x) < 1e15 && x == trunc(x)) {
		snprintf(buf, len, "%.0f", x);
	} else if (fabs(x) >= 1e-3 && fabs(x) < 1e15) {
		char *p;

		snprintf(buf, len, "%.3f", x);
		p = buf + strlen(buf) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	} else {
		snprintf(buf, len, "%.6g", x);
	}
}

static void
fmt_table_value(char *buf, size_t len, enum store_type t, union store_value v)
{
	if (t == STORE_F64)
		fmt_table_double(buf, len, v.f);
	else
		fmt_json_value(buf, len, t, v);
}

/* ---- strings ---- */

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8. */
static void
json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = text_utf8_len((const char *)p, 4)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fputs("\\ufffd", f);
			p++;
		}
	}
	fputc('"', f);
}

/* ---- JSON output ---- */

static void
json_series(FILE *f, struct reader *rd, struct key *k)
{
	struct rollup *r = &k->roll;
	union store_value v;
	double pv[ROLLUP_GRID_N];
	char buf[64];
	bool empty = rollup_count(r) == 0;

	fputs("{\"count\":", f);
	fmt_u64(buf, rollup_count(r));
	fputs(buf, f);
	fputs(",\"sum\":", f);
	if (empty)
		snprintf(buf, sizeof(buf), "null");
	else if (k->type == STORE_F64)
		fmt_json_double(buf, sizeof(buf), rollup_sum(r));
	else
		rollup_int128_format(rollup_sum_int(r), buf, sizeof(buf));
	fputs(buf, f);
	fputs(",\"min\":", f);
	if (rollup_min(r, &v))
		fmt_json_value(buf, sizeof(buf), k->type, v);
	else
		snprintf(buf, sizeof(buf), "null");
	fputs(buf, f);
	fputs(",\"max\":", f);
	if (rollup_max(r, &v))
		fmt_json_value(buf, sizeof(buf), k->type, v);
	else
		snprintf(buf, sizeof(buf), "null");
	fputs(buf, f);
	fputs(",\"mean\":", f);
	fmt_json_double(buf, sizeof(buf), rollup_mean(r));
	fputs(buf, f);
	fputs(",\"stddev\":", f);
	fmt_json_double(buf, sizeof(buf), rollup_stddev(r));
	fputs(buf, f);
	if (!empty && rollup_percentiles(r, rollup_grid, pv, ROLLUP_GRID_N) < 0) {
		log_warn("key '%s': out of memory sorting values", k->name);
		for (int i = 0; i < ROLLUP_GRID_N; i++)
			pv[i] = NAN;
		k->failed = true;
	}
	for (int i = 0; i < ROLLUP_GRID_N; i++) {
		fprintf(f, ",\"%s\":", rollup_grid_names[i]);
		if (empty)
			snprintf(buf, sizeof(buf), "null");
		else
			fmt_json_double(buf, sizeof(buf), pv[i]);
		fputs(buf, f);
	}
	if (rd->values) {
		/*
		 * Streamed from the mapping, in chunks: a 10-million-value
		 * series never becomes an in-memory JSON tree.
		 */
		const union store_value *vals = store_view_values(k->view);
		char chunk[65536];
		size_t o = 0;

		fputs(",\"values\":[", f);
		for (uint64_t i = 0; i < k->count; i++) {
			if (o > sizeof(chunk) - 40) {
				fwrite(chunk, 1, o, f);
				o = 0;
			}
			if (i > 0)
				chunk[o++] = ',';
			o += fmt_json_value(chunk + o, sizeof(chunk) - o, k->type,
			    vals[i]);
		}
		fwrite(chunk, 1, o, f);
		fputc(']', f);
	}
	fputc('}', f);
}

/*
 * Would k print under the same JSON name as a key printed before it?
 * Only names with bytes above 0x7f can: ASCII names are distinct as they
 * are, and so are valid UTF-8 ones; two names that differ only in bytes
 * that are not UTF-8 both become U+FFFD there. The first one wins.
 */
static bool
json_name_clash(struct reader *rd, const struct key *k, size_t idx)
{
	char *mine, *other;
	bool clash = false;

	if (!text_has_high_bytes(k->name) || !(mine = text_utf8_sanitize(k->name)))
		return false;
	for (size_t j = 0; j < idx && !clash; j++) {
		const struct key *o = &rd->keys[j];

		if (!o->view || o->failed || !text_has_high_bytes(o->name) ||
		    !(other = text_utf8_sanitize(o->name)))
			continue;
		if (strcmp(mine, other) == 0) {
			clash = true;
			if (rd->frames == 0) {
				size_t w;
				char *a = text_display(k->name, &w);
				char *b = text_display(o->name, &w);

				log_warn("key '%s' clashes with key '%s' in "
				    "--json output (the same name once bytes "
				    "that are not UTF-8 become U+FFFD); "
				    "skipped", a ? a : "?", b ? b : "?");
				free(a);
				free(b);
			}
			rd->any_bad = true;
		}
		free(other);
	}
	free(mine);
	return clash;
}

static void
print_json(FILE *f, struct reader *rd)
{
	char buf[32];
	bool alive = rd->st_ok && rd->st.exists && rd->st.writer_alive &&
	    rd->st.writer_pid > 0;

	fputs("{\"_store\":{\"dir\":", f);
	json_string(f, rd->dir);
	fprintf(f, ",\"final\":%s,\"writer_pid\":",
	    rd->st_ok && rd->st.exists && rd->st.state == STORE_FINAL ?
	    "true" : "false");
	if (alive) {
		fmt_i64(buf, rd->st.writer_pid);
		fputs(buf, f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"state\":\"%s\"}", state_name(rd));
	for (size_t i = 0; i < rd->nkeys; i++) {
		struct key *k = &rd->keys[i];

		if (!k->view || k->failed)
			continue;
		if (strcmp(k->name, "_store") == 0) {
			if (rd->frames == 0)
				log_warn("key '_store' clashes with the store "
				    "status in --json output; skipped");
			rd->any_bad = true;
			continue;
		}
		if (json_name_clash(rd, k, i))
			continue;
		fputc(',', f);
		json_string(f, k->name);
		fputc(':', f);
		if (k->kind == STORE_COUNTER) {
			char vb[64];

			fmt_json_value(vb, sizeof(vb), k->type, k->value);
			fputs(vb, f);
		} else {
			json_series(f, rd, k);
		}
	}
	fputs("}\n", f);
}

/* ---- table output ---- */

enum { COL_NAME, COL_COUNT, COL_MEAN, COL_MIN, COL_MAX, COL_P0, NCOL = COL_P0 + ROLLUP_GRID_N };

struct row {
	char *name;
	size_t name_w;
	char cell[NCOL][48];
};

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
fill_series_row(struct key *k, struct row *row)
{
	struct rollup *r = &k->roll;
	union store_value v;
	double pv[ROLLUP_GRID_N];

	snprintf(row->cell[COL_COUNT], sizeof(row->cell[0]), "%llu",
	    (unsigned long long)rollup_count(r));
	if (rollup_count(r) == 0) {
		for (int c = COL_MEAN; c < NCOL; c++)
			snprintf(row->cell[c], sizeof(row->cell[0]), "-");
		return;
	}
	fmt_table_double(row->cell[COL_MEAN], sizeof(row->cell[0]), rollup_mean(r));
	if (rollup_min(r, &v))
		fmt_table_value(row->cell[COL_MIN], sizeof(row->cell[0]), k->type, v);
	if (rollup_max(r, &v))
		fmt_table_value(row->cell[COL_MAX], sizeof(row->cell[0]), k->type, v);
	if (rollup_percentiles(r, rollup_grid, pv, ROLLUP_GRID_N) < 0) {
		log_warn("key '%s': out of memory sorting values", k->name);
		for (int i = 0; i < ROLLUP_GRID_N; i++)
			pv[i] = NAN;
	}
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		fmt_table_double(row->cell[COL_P0 + i], sizeof(row->cell[0]), pv[i]);
}

static void
print_table(FILE *f, struct reader *rd)
{
	static const char *const chead[] = { "COUNTER", "VALUE" };
	static const char *const shead[NCOL] = { "SERIES", "COUNT", "MEAN",
		"MIN", "MAX", "P50", "P90", "P95", "P99", "P99.9" };
	struct row *crows, *srows;
	size_t nc = 0, ns = 0;

	fprintf(f, "store ");
	{
		size_t w;
		char *d = text_display(rd->dir, &w);

		fputs(d ? d : "?", f);
		free(d);
	}
	fprintf(f, ": %s", state_name(rd));
	/* A finished store's writer is history; a live or dead one is news. */
	if (rd->st_ok && rd->st.exists && rd->st.state == STORE_LIVE &&
	    rd->st.writer_pid > 0)
		fprintf(f, " (writer pid %ld%s)", (long)rd->st.writer_pid,
		    rd->st.writer_alive ? "" : " died");
	fputc('\n', f);

	crows = calloc(rd->nkeys ? rd->nkeys : 1, sizeof(*crows));
	srows = calloc(rd->nkeys ? rd->nkeys : 1, sizeof(*srows));
	if (!crows || !srows) {
		log_warn("out of memory drawing the table");
		free(crows);
		free(srows);
		rd->any_bad = true;
		return;
	}
	for (size_t i = 0; i < rd->nkeys; i++) {
		struct key *k = &rd->keys[i];
		struct row *row;

		if (k->bad)
			continue;
		if (!k->view) {
			/* Only requested keys get here: say we wait for it. */
			if (!rd->watch)
				continue;
			row = &srows[ns++];
			row->name = text_display(k->name, &row->name_w);
			snprintf(row->cell[COL_COUNT], sizeof(row->cell[0]),
			    "no data yet");
			for (int c = COL_MEAN; c < NCOL; c++)
				row->cell[c][0] = '\0';
			continue;
		}
		if (k->kind == STORE_COUNTER) {
			row = &crows[nc++];
			row->name = text_display(k->name, &row->name_w);
			fmt_table_value(row->cell[1], sizeof(row->cell[1]),
			    k->type, k->value);
		} else {
			row = &srows[ns++];
			row->name = text_display(k->name, &row->name_w);
			fill_series_row(k, row);
		}
	}
	if (nc > 0) {
		fputc('\n', f);
		print_rows(f, crows, nc, chead, 2);
	}
	if (ns > 0) {
		fputc('\n', f);
		print_rows(f, srows, ns, shead, NCOL);
	}
	if (nc == 0 && ns == 0 && rd->st_ok && rd->st.exists)
		fputs("(no keys yet)\n", f);
	for (size_t i = 0; i < nc; i++)
		free(crows[i].name);
	for (size_t i = 0; i < ns; i++)
		free(srows[i].name);
	free(crows);
	free(srows);
}

/* ---- one round ---- */

/* A store or key problem found while rendering --prometheus. */
static void
on_prom_warn(void *arg, const char *msg)
{
	struct reader *rd = arg;

	log_warn("%s", msg);
	rd->any_bad = true;
}

/*
 * --prometheus: the exposition of serve (scrape.c), which keeps its own
 * views and incremental rollups, so the reader's snapshot is not taken.
 */
static void
draw_prom(struct reader *rd)
{
	struct scrape_stats stats = { 0 };
	int r;

	if (rd->watch && rd->frames > 0)
		fputc('\n', stdout);
	r = scrape_render(rd->scrape, stdout,
	    rd->explicit_keys ? rd->keynames : NULL, rd->nkeys,
	    &rd->prom_missing, &stats);
	if (r < 0) {
		log_warn("prometheus output: %s", strerror(-r));
		rd->any_bad = true;
	}
	rd->prom_stores = stats.stores;
}

static void
draw(struct reader *rd)
{
	if (rd->prom) {
		draw_prom(rd);
		goto flush;
	}
	snapshot(rd);
	if (rd->watch && rd->tty && !rd->json)
		fputs("\033[H\033[2J", stdout);
	else if (rd->watch && !rd->json && rd->frames > 0)
		fputc('\n', stdout);
	if (rd->json)
		print_json(stdout, rd);
	else if (rd->st_ok && rd->st.exists)
		print_table(stdout, rd);
	else if (rd->watch)
		printf("no store at %s (no data yet)\n", rd->dir);
flush:
	rd->frames++;
	errno = 0;
	if ((fflush(stdout) == EOF || ferror(stdout)) && !rd->write_failed) {
		rd->write_failed = true;
		rd->write_errno = errno;
	}
}

/* ---- --watch: a libuv loop with a timer and the signals ---- */

static void
watch_stop(struct reader *rd)
{
	uv_close((uv_handle_t *)&rd->timer, NULL);
	uv_close((uv_handle_t *)&rd->sigint, NULL);
	uv_close((uv_handle_t *)&rd->sigterm, NULL);
}

static void
on_tick(uv_timer_t *t)
{
	struct reader *rd = t->data;

	draw(rd);
	if (rd->write_failed && !uv_is_closing((uv_handle_t *)&rd->timer))
		watch_stop(rd);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct reader *rd = s->data;

	(void)signum;
	if (!uv_is_closing((uv_handle_t *)&rd->timer))
		watch_stop(rd);
}

static int
watch_run(struct reader *rd)
{
	uint64_t ms = (uint64_t)(rd->watch * 1000.0 + 0.5);
	int rc;

	if (ms == 0)
		ms = 1;
	if ((rc = uv_loop_init(&rd->loop)) < 0) {
		log_warn("uv_loop_init: %s", uv_strerror(rc));
		return EXIT_FAIL;
	}
	rd->timer.data = rd->sigint.data = rd->sigterm.data = rd;
	uv_timer_init(&rd->loop, &rd->timer);
	uv_signal_init(&rd->loop, &rd->sigint);
	uv_signal_init(&rd->loop, &rd->sigterm);
	if ((rc = uv_signal_start(&rd->sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uv_signal_start(&rd->sigterm, on_signal, SIGTERM)) < 0 ||
	    (rc = uv_timer_start(&rd->timer, on_tick, 0, ms)) < 0) {
		log_warn("starting the watch loop: %s", uv_strerror(rc));
		watch_stop(rd);
		uv_run(&rd->loop, UV_RUN_DEFAULT);
		uv_loop_close(&rd->loop);
		return EXIT_FAIL;
	}
	uv_run(&rd->loop, UV_RUN_DEFAULT);
	if ((rc = uv_loop_close(&rd->loop)) < 0)
		log_warn("uv_loop_close: %s", uv_strerror(rc));
	return EXIT_OK;
}

/* ---- one shot ---- */

static void
report_missing(struct reader *rd)
{
	char err[STORE_ERR_MAX], **names = NULL, *list = NULL;
	size_t n = 0, len = 0;
	FILE *m;

	if (!rd->st_ok || !rd->st.exists) {
		log_warn("no store at %s (no data yet)", rd->dir);
		return;
	}
	if (store_names_list(rd->dir, &names, &n, err, sizeof(err)) < 0)
		n = 0;
	if ((m = open_memstream(&list, &len))) {
		for (size_t i = 0; i < n; i++) {
			size_t w;
			char *d = text_display(names[i], &w);

			fprintf(m, "%s%s", i ? ", " : "", d ? d : "?");
			free(d);
		}
		if (n == 0)
			fputs("none", m);
		fclose(m);
	}
	for (size_t i = 0; i < rd->nkeys; i++) {
		struct key *k = &rd->keys[i];
		size_t w;
		char *d;

		if (k->view || k->bad)
			continue;
		d = text_display(k->name, &w);
		log_warn("unknown key '%s' in %s (no data yet?); known keys: %s",
		    d ? d : "?", rd->dir, list ? list : "?");
		free(d);
	}
	free(list);
	store_names_free(names, n);
}

static int
oneshot_run(struct reader *rd)
{
	bool missing = false, failed = false;

	draw(rd);
	if (rd->prom) {
		if (rd->prom_stores == 0) {
			log_warn("no store at %s (no data yet)", rd->dir);
			return EXIT_FAIL;
		}
		if (rd->prom_missing) {
			log_warn("unknown key '%s' in %s (no data yet?)",
			    rd->prom_missing, rd->dir);
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	for (size_t i = 0; i < rd->nkeys; i++) {
		if (!rd->keys[i].view && !rd->keys[i].bad)
			missing = true;
		if (rd->keys[i].failed)
			failed = true;
	}
	if (!rd->st_ok || !rd->st.exists || missing) {
		report_missing(rd);
		return EXIT_FAIL;
	}
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
	fputs(USAGE, f);
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
	    "Show the metrics in a store: counters as their value, series as\n"
	    "count, mean, min, max, p50, p90, p95, p99 and p99.9.\n\n"
	    "  --metrics-dir DIR  the store (default: $" STORE_DIR_ENV ",\n"
	    "                     else /dev/shm/metricsd-UID)\n"
	    "  --json             one JSON object instead of the table\n"
	    "  --values           with --json: every series value too, in\n"
	    "                     append order\n"
	    "  --prometheus       Prometheus text format 0.0.4, as served by\n"
	    "                     metricsd serve (DIR may also hold stores)\n"
	    "  --watch SECONDS    redraw every SECONDS (fractions allowed) until\n"
	    "                     interrupted, folding in only new values\n"
	    "  -h, --help         this help\n\n"
	    "With no KEY, every key in the store. Numbers are raw: keys ending\n"
	    "in _ns are nanoseconds. Exit status: 0 ok, 1 runtime failure\n"
	    "(no store, unknown key, invalid store file), 2 usage error.\n"
	    "See metricsd(1).\n", stdout);
}

enum {
	OPT_METRICS_DIR = 256,
	OPT_JSON,
	OPT_VALUES,
	OPT_WATCH,
	OPT_PROMETHEUS
};

static const struct option longopts[] = {
	{ "metrics-dir", required_argument, NULL, OPT_METRICS_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "values", no_argument, NULL, OPT_VALUES },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "watch", required_argument, NULL, OPT_WATCH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
parse_watch(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0.001 && d <= WATCH_MAX))
		return -1;
	*out = d;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_args(struct reader *rd, int argc, char **argv)
{
	const char *dir = NULL;
	char err[STORE_ERR_MAX];
	int c;

	optind = 0;	/* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_METRICS_DIR:
			dir = optarg;
			break;
		case OPT_JSON:
			rd->json = true;
			break;
		case OPT_VALUES:
			rd->values = true;
			break;
		case OPT_PROMETHEUS:
			rd->prom = true;
			break;
		case OPT_WATCH:
			if (parse_watch(optarg, &rd->watch) < 0) {
				log_warn("--watch: '%s' is not a number of seconds "
				    "between 0.001 and %.0f", optarg, WATCH_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			help();
			return EXIT_OK;
		case ':':
			log_warn("option '%s' needs an argument", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			if (optopt > 0 && optopt < 256)
				log_warn("unknown option '-%c'", optopt);
			else
				log_warn("unknown option '%s'", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (rd->values && !rd->json) {
		log_warn("--values needs --json");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (rd->prom && rd->json) {
		log_warn("--prometheus and --json exclude each other");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (dir) {
		if (!*dir || strlen(dir) >= sizeof(rd->dir)) {
			log_warn("--metrics-dir: '%s' is %s", dir,
			    *dir ? "too long" : "empty");
			return EXIT_USAGE;
		}
		strcpy(rd->dir, dir);
	} else if (store_default_dir(rd->dir, sizeof(rd->dir)) < 0) {
		log_warn("the default store directory is too long (check $%s)",
		    STORE_DIR_ENV);
		return EXIT_USAGE;
	}
	for (; optind < argc; optind++) {
		if (store_key_check(argv[optind], err, sizeof(err)) < 0) {
			log_warn("%s", err);
			return EXIT_USAGE;
		}
		if (key_add(rd, argv[optind]) < 0) {
			log_warn("out of memory");
			return EXIT_FAIL;
		}
		rd->explicit_keys = true;
	}
	if (rd->prom) {
		const char *dirs[] = { rd->dir };

		if (!(rd->keynames = calloc(rd->nkeys + 1,
		    sizeof(*rd->keynames))) ||
		    scrape_open(&rd->scrape, dirs, 1, on_prom_warn, rd) < 0) {
			log_warn("out of memory");
			return EXIT_FAIL;
		}
		for (size_t i = 0; i < rd->nkeys; i++)
			rd->keynames[i] = rd->keys[i].name;
	}
	return -1;
}

int
read_main(int argc, char **argv)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int status;

	if (!rd) {
		log_warn("out of memory");
		return EXIT_FAIL;
	}
	if ((status = parse_args(rd, argc, argv)) < 0) {
		rd->tty = isatty(STDOUT_FILENO);
		status = rd->watch ? watch_run(rd) : oneshot_run(rd);
		/* --watch ends with 0 on a signal: its warnings were shown. */
		if (rd->any_bad && !rd->watch)
			status = EXIT_FAIL;
	}
	/* A full disk or a closed pipe must not pass for success. */
	errno = 0;
	if ((fflush(stdout) == EOF || ferror(stdout)) && !rd->write_failed) {
		rd->write_failed = true;
		rd->write_errno = errno;
	}
	if (fclose(stdout) == EOF && !rd->write_failed) {
		rd->write_failed = true;
		rd->write_errno = errno;
	}
	if (rd->write_failed) {
		log_warn("writing to standard output: %s", rd->write_errno ?
		    strerror(rd->write_errno) : "I/O error");
		status = EXIT_FAIL;
	}
	scrape_free(rd->scrape);
	free(rd->keynames);
	keys_free(rd);
	free(rd);
	return status;
}
