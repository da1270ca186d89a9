/*
 * metricsd read: show the metrics in a store, as a table or as JSON, once
 * or every few seconds (--watch).
 *
 * The reading is store_follow.c's, the drawing render_table.c's,
 * render_json.c's or (--prometheus) scrape.c's: this file decides when to
 * draw and what ends the run. The follower keeps one view and one rollup
 * per key for the reader's whole life, so --watch on a large series
 * costs the new values, not the whole series.
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
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "args.h"
#include "log.h"
#include "modes.h"
#include "render.h"
#include "scrape.h"
#include "store.h"
#include "store_follow.h"
#include "text.h"
#include "watch.h"

#define USAGE "usage: metricsd read [--metrics-dir DIR]" \
	" [--json [--values] | --prometheus | --raw | --all]\n" \
	"       [--watch DURATION] [KEY...]\n"

/* --watch: from 1 ms to a day; anything longer is a typo. */
#define WATCH_MIN_NS ARGS_NS_PER_MS
#define WATCH_MAX_NS (86400 * ARGS_NS_PER_S)

struct reader {
	char dir[4096];
	bool json, values;
	bool prom;			/* --prometheus: through scrape.c */
	unsigned table;			/* RENDER_RAW, RENDER_ALL */
	uint64_t watch_ns;		/* 0: one shot */
	const char **keys;		/* the KEYs, or NULL for every key */
	size_t nkeys;
	struct store_follow *follow;	/* table and JSON */
	const struct store_snap *snap;	/* its last snapshot */
	struct scrape *scrape;		/* --prometheus */
	const char *prom_missing;	/* a KEY no store has, or NULL */
	size_t prom_stores;		/* stores in the last exposition */
	bool tty;
	bool any_bad;			/* an invalid file, a clash...: exit 1 */
	struct log_stdout out;	/* the first write error */
	unsigned frames;
};

/* A store or key problem: warned, and a one-shot read exits 1. */
static void
on_warn(void *arg, const char *msg)
{
	struct reader *rd = arg;

	log_warn("%s", msg);
	rd->any_bad = true;
}

/* Warnings of a renderer: shown for the first frame only. */
static void
on_render_warn(void *arg, const char *msg)
{
	struct reader *rd = arg;

	if (rd->frames == 0)
		log_warn("%s", msg);
}

/* ---- one round ---- */

/*
 * --prometheus: the exposition of serve (scrape.c), which keeps its own
 * followers, so the reader's snapshot is not taken.
 */
static void
draw_prom(struct reader *rd)
{
	struct scrape_stats stats = { 0 };
	int r;

	if (rd->watch_ns && rd->frames > 0)
		fputc('\n', stdout);
	r = scrape_render(rd->scrape, stdout, rd->keys, rd->nkeys,
	    &rd->prom_missing, &stats);
	if (r < 0) {
		log_warn("prometheus output: %s", strerror(-r));
		rd->any_bad = true;
	}
	rd->prom_stores = stats.stores;
}

static void
draw_snapshot(struct reader *rd)
{
	size_t skipped = 0;
	int r;

	if ((r = store_follow_refresh(rd->follow, rd->keys, rd->nkeys,
	    &rd->snap)) < 0) {
		log_warn("reading %s: %s", rd->dir, strerror(-r));
		rd->any_bad = true;
		return;
	}
	if (rd->watch_ns && rd->tty && !rd->json)
		fputs("\033[H\033[2J", stdout);
	else if (rd->watch_ns && !rd->json && rd->frames > 0)
		fputc('\n', stdout);
	if (rd->json) {
		render_json(stdout, rd->snap, rd->values, on_render_warn, rd,
		    &skipped);
		if (skipped)
			rd->any_bad = true;
	} else if ((r = render_table(stdout, rd->snap, rd->table |
	    (rd->watch_ns ? RENDER_WAITING : 0))) == -ENOMEM) {
		log_warn("out of memory drawing the table");
		rd->any_bad = true;
	}
}

static void
draw(struct reader *rd)
{
	if (rd->prom)
		draw_prom(rd);
	else
		draw_snapshot(rd);
	rd->frames++;
	log_stdout_flush(&rd->out);
}

/* ---- --watch: a libuv loop with a timer and the signals ---- */

static bool
watch_draw(void *arg)
{
	struct reader *rd = arg;

	draw(rd);
	return !(rd->out.failed);
}

static int
watch_run(struct reader *rd)
{
	char err[128];

	if (watch_loop(rd->watch_ns / ARGS_NS_PER_MS, watch_draw, rd,
	    err, sizeof(err)) < 0) {
		log_warn("%s", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- one shot ---- */

/* The keys the store has, for a message: "a, b, c" (malloc'd). */
static char *
known_keys(const char *dir)
{
	char err[STORE_ERR_MAX], **names = NULL, *list = NULL;
	size_t n = 0, len = 0;
	FILE *m;

	if (store_names_list(dir, &names, &n, err, sizeof(err)) < 0)
		n = 0;
	if ((m = open_memstream(&list, &len))) {
		for (size_t i = 0; i < n; i++) {
			char *d = text_display(names[i], NULL);

			fprintf(m, "%s%s", i ? ", " : "", d ? d : "?");
			free(d);
		}
		if (n == 0)
			fputs("none", m);
		fclose(m);
	}
	store_names_free(names, n);
	return list;
}

static void
report_missing(struct reader *rd)
{
	const struct store_snap *snap = rd->snap;
	char *list;

	if (!snap->status.exists) {
		log_warn("no store at %s (no data yet)", rd->dir);
		return;
	}
	list = known_keys(rd->dir);
	for (size_t i = 0; i < snap->nkeys; i++) {
		char *d;

		if (snap->keys[i].state != STORE_SNAP_ABSENT)
			continue;
		d = text_display(snap->keys[i].name, NULL);
		log_warn("unknown key '%s' in %s (no data yet?); known keys: %s",
		    d ? d : "?", rd->dir, list ? list : "?");
		free(d);
	}
	free(list);
}

static int
oneshot_run(struct reader *rd)
{
	bool missing = false;

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
	if (!rd->snap)
		return EXIT_FAIL;
	for (size_t i = 0; i < rd->snap->nkeys; i++)
		if (rd->snap->keys[i].state == STORE_SNAP_ABSENT)
			missing = true;
	if (!rd->snap->status.exists || missing) {
		report_missing(rd);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- the run ---- */

/* What the command line asks for. */
struct read_opts {
	const char *dir;	/* NULL: the default store */
	bool json, values, prom;
	bool raw, all;		/* the table: --raw, --all */
	uint64_t watch_ns;	/* 0: one shot */
	const char **keys;	/* the KEYs, or NULL for every key */
	size_t nkeys;
};

/* Set up the reader from the options. Returns -1 to go on, else a status. */
static int
reader_init(struct reader *rd, const struct read_opts *o)
{
	int rc;

	rd->json = o->json;
	rd->values = o->values;
	rd->prom = o->prom;
	/* Keys named on the command line are always shown. */
	rd->table = (o->raw ? RENDER_RAW : 0) |
	    (o->all || o->nkeys ? RENDER_ALL : 0);
	rd->watch_ns = o->watch_ns;
	rd->keys = o->keys;
	rd->nkeys = o->nkeys;
	if ((rc = args_store_dir(o->dir, rd->dir, sizeof(rd->dir))) != ARGS_RUN)
		return rc;
	if (rd->prom) {
		const char *dirs[] = { rd->dir };

		if (scrape_open(&rd->scrape, dirs, 1, on_warn, rd) < 0) {
			log_warn("out of memory");
			return EXIT_FAIL;
		}
	} else if (store_follow_open(&rd->follow, rd->dir, on_warn, rd) < 0) {
		log_warn("out of memory");
		return EXIT_FAIL;
	}
	return -1;
}

/* The library entry of the mode: read, draw, and say how it went. */
static int
read_run(const struct read_opts *o)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int status;

	if (!rd) {
		log_warn("out of memory");
		return EXIT_FAIL;
	}
	if ((status = reader_init(rd, o)) < 0) {
		rd->tty = isatty(STDOUT_FILENO);
		status = rd->watch_ns ? watch_run(rd) : oneshot_run(rd);
		/* --watch ends with 0 on a signal: its warnings were shown. */
		if (rd->any_bad && !rd->watch_ns)
			status = EXIT_FAIL;
	}
	/* A full disk or a closed pipe must not pass for success. */
	if (log_stdout_close(&rd->out) < 0)
		status = EXIT_FAIL;
	scrape_free(rd->scrape);
	store_follow_free(rd->follow);
	free(rd);
	return status;
}

/* ---- command line ---- */

static const char help_text[] = USAGE "\n"
	    "Show the metrics in a store: counters as their value, series as\n"
	    "count, mean, min, max, p50, p90, p95, p99 and p99.9.\n\n"
	    "  --metrics-dir DIR  the store (default: $" STORE_DIR_ENV ",\n"
	    "                     else /dev/shm/metricsd-UID)\n"
	    "  --json             one JSON object instead of the table\n"
	    "  --values           with --json: every series value too, in\n"
	    "                     append order\n"
	    "  --prometheus       Prometheus text format 0.0.4, as served by\n"
	    "                     metricsd serve (DIR may also hold stores)\n"
	    "  --raw              the table with raw numbers (keys ending in _ns\n"
	    "                     in nanoseconds) and every counter\n"
	    "  --all              the table with every diagnostic counter, even\n"
	    "                     when 0\n"
	    "  --watch DURATION   redraw every DURATION (seconds, or with a unit:\n"
	    "                     250ms, 2.5, 1m) until interrupted, folding in\n"
	    "                     only new values\n"
	    "  -h, --help         this help\n\n"
	    "With no KEY, every key in the store. The table shows keys ending\n"
	    "in _ns in milliseconds (UNIT ms) and folds the diagnostic counters\n"
	    "that are 0 into one line; --json and --prometheus are raw.\n"
	    "Exit status: 0 ok, 1 runtime failure (no store, unknown key,\n"
	    "invalid store file), 2 usage error.\n"
	    "See metricsd(1).\n";

int
read_main(int argc, char **argv)
{
	enum { O_DIR = 1, O_JSON, O_VALUES, O_PROM, O_WATCH, O_RAW, O_ALL };
	static const struct args_opt opts[] = {
		{ "metrics-dir", ARGS_NONEMPTY, O_DIR, 0 },
		{ "json", ARGS_NONE, O_JSON, 0 },
		{ "values", ARGS_NONE, O_VALUES, 0 },
		{ "prometheus", ARGS_NONE, O_PROM, 0 },
		{ "watch", ARGS_REQUIRED, O_WATCH, 0 },
		{ "raw", ARGS_NONE, O_RAW, 0 },
		{ "all", ARGS_NONE, O_ALL, 0 },
		{ NULL, 0, 0, 0 }
	};
	struct read_opts o = { 0 };
	char err[STORE_ERR_MAX];
	struct args a;
	int c, rc;

	args_init(&a, argc, argv, opts, ARGS_OPERANDS);
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case O_DIR:
			o.dir = a.arg;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_VALUES:
			o.values = true;
			break;
		case O_PROM:
			o.prom = true;
			break;
		case O_RAW:
			o.raw = true;
			break;
		case O_ALL:
			o.all = true;
			break;
		case O_WATCH:
			if (args_duration(&a, WATCH_MIN_NS, WATCH_MAX_NS,
			    &o.watch_ns) < 0)
				return args_fail(&a);
			break;
		}
	}
	if ((rc = args_finish(&a, c, help_text)) != ARGS_RUN)
		return rc;
	if (o.values && !o.json)
		return args_usage_error("--values needs --json");
	if (o.prom && o.json)
		return args_usage_error("--prometheus and --json exclude each "
		    "other");
	if ((o.raw || o.all) && (o.json || o.prom))
		return args_usage_error("--%s is for the table, not with --%s",
		    o.raw ? "raw" : "all", o.json ? "json" : "prometheus");
	for (int i = a.ind; i < argc; i++)
		if (store_key_check(argv[i], err, sizeof(err)) < 0)
			return args_usage_error("%s", err);
	if (a.ind < argc) {
		o.keys = (const char **)argv + a.ind;
		o.nkeys = (size_t)(argc - a.ind);
	}
	return read_run(&o);
}
