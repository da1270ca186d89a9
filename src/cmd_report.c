/*
 * metricsd report: the benchmark summary of a store (report.h), for
 * people or as JSON, once or redrawn every few seconds (--watch).
 *
 * The reading is store_follow.c's (one follower for the whole run, so a
 * --watch redraw folds in only the values appended since the last one),
 * the figures report.c's, the drawing report_render.c's: this file
 * parses, decides when to draw, and what ends the run.
 *
 * - No store: one-shot prints nothing and exits 1 ("no store at DIR");
 *   --watch waits for it.
 * - --watch ends by itself once the store is no longer live (complete,
 *   interrupted or abandoned) and no token work is pending, after
 *   drawing that last state; SIGINT/SIGTERM end it with 0; a failed
 *   write with 1.
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
#include "clock.h"
#include "log.h"
#include "modes.h"
#include "report.h"
#include "store.h"
#include "store_follow.h"
#include "watch.h"

#define USAGE "usage: metricsd report [--metrics-dir DIR] [--json]" \
	" [--slo ttft|tpot|latency=DURATION]... [--watch DURATION]\n"

#define WATCH_MIN_NS ARGS_NS_PER_MS
#define WATCH_MAX_NS (86400 * ARGS_NS_PER_S)
/* SLOs: up to a day. */
#define SLO_MAX_NS (86400 * ARGS_NS_PER_S)

struct report_opts {
	const char *dir;
	bool json;
	struct report_slo slo;
	uint64_t watch_ns;
};

struct reporter {
	char dir[4096];
	struct report_opts o;
	struct store_follow *follow;
	struct report rep;
	bool tty;
	bool any_bad;
	struct log_stdout out;	/* the first write error */
	bool done;		/* --watch: the store is final */
	unsigned frames;
	/* progress between two frames */
	uint64_t prev_completed;
	uint64_t prev_ns;
};

static void
on_warn(void *arg, const char *msg)
{
	struct reporter *rp = arg;

	log_warn("%s", msg);
	rp->any_bad = true;
}

static void
progress(struct reporter *rp)
{
	const struct report *r = &rp->rep;
	uint64_t now = clock_now_ns();

	fprintf(stdout, "\nprogress: %llu completed",
	    (unsigned long long)r->n_samples_completed);
	if (rp->frames > 0 && now > rp->prev_ns &&
	    r->n_samples_completed >= rp->prev_completed)
		fprintf(stdout, ", %.1f/s now",
		    (double)(r->n_samples_completed - rp->prev_completed) /
		    ((double)(now - rp->prev_ns) / 1e9));
	fprintf(stdout, ", %llu in flight%s\n",
	    (unsigned long long)r->samples_in_flight,
	    rp->done ? " (final)" : "");
	rp->prev_completed = r->n_samples_completed;
	rp->prev_ns = now;
}

/* Refresh, compute, draw. */
static void
draw(struct reporter *rp)
{
	const struct store_snap *snap;
	char err[256];
	int r;

	if ((r = store_follow_refresh(rp->follow, NULL, 0, &snap)) < 0) {
		log_warn("reading %s: %s", rp->dir, strerror(-r));
		rp->any_bad = true;
		return;
	}
	if (report_compute(snap, &rp->o.slo, &rp->rep, err, sizeof(err)) <
	    0) {
		log_warn("%s", err);
		rp->any_bad = true;
		return;
	}
	rp->done = rp->rep.state != REPORT_LIVE &&
	    rp->rep.state != REPORT_MISSING && !rp->rep.tokens_pending;
	if (rp->o.watch_ns && rp->tty && !rp->o.json)
		fputs("\033[H\033[2J", stdout);
	else if (rp->o.watch_ns && !rp->o.json && rp->frames > 0)
		fputc('\n', stdout);
	if (rp->rep.state == REPORT_MISSING && !rp->o.json) {
		if (rp->o.watch_ns)
			printf("no store at %s (no data yet)\n", rp->dir);
	} else if (rp->o.json) {
		report_render_json(stdout, &rp->rep);
	} else {
		report_render_text(stdout, &rp->rep, rp->dir);
	}
	if (rp->o.watch_ns && !rp->o.json)
		progress(rp);
	rp->frames++;
	log_stdout_flush(&rp->out);
}

/* ---- --watch ---- */

static bool
watch_draw(void *arg)
{
	struct reporter *rp = arg;

	draw(rp);
	return !(rp->out.failed || rp->done);
}

static int
watch_run(struct reporter *rp)
{
	char err[128];

	if (watch_loop(rp->o.watch_ns / ARGS_NS_PER_MS, watch_draw, rp, err,
	    sizeof(err)) < 0) {
		log_warn("%s", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- the run ---- */

static int
report_run(const struct report_opts *o)
{
	struct reporter *rp = calloc(1, sizeof(*rp));
	int status = EXIT_OK;

	if (!rp) {
		log_warn("out of memory");
		return EXIT_FAIL;
	}
	rp->o = *o;
	if ((status = args_store_dir(o->dir, rp->dir, sizeof(rp->dir))) !=
	    ARGS_RUN) {
		free(rp);
		return status;
	}
	status = EXIT_OK;
	if (store_follow_open(&rp->follow, rp->dir, on_warn, rp) < 0) {
		log_warn("out of memory");
		free(rp);
		return EXIT_FAIL;
	}
	rp->tty = isatty(STDOUT_FILENO);
	if (o->watch_ns) {
		status = watch_run(rp);
	} else {
		draw(rp);
		if (rp->frames == 0 || rp->any_bad)
			status = EXIT_FAIL;
		else if (rp->rep.state == REPORT_MISSING) {
			log_warn("no store at %s (no data yet)", rp->dir);
			status = EXIT_FAIL;
		}
	}
	if (log_stdout_close(&rp->out) < 0)
		status = EXIT_FAIL;
	store_follow_free(rp->follow);
	free(rp);
	return status;
}

/* ---- command line ---- */

static const char help_text[] = USAGE "\n"
	    "The benchmark summary of a store: state, samples, duration,\n"
	    "QPS, output TPS, LoadGen QPS, then TTFT, TPOT, TPOT (e2e), ITL,\n"
	    "latency, ISL and OSL with count, mean, min, max, std, p50, p90,\n"
	    "p95, p99, p99.9 (ms, tokens) and the MLPerf early-stopping\n"
	    "estimates at p90 and p99; goodput when SLOs are given.\n\n"
	    "  --metrics-dir DIR    the store (default: $" STORE_DIR_ENV ",\n"
	    "                       else /dev/shm/metricsd-UID)\n"
	    "  --json               one JSON object instead of the summary\n"
	    "  --slo NAME=DURATION  a goodput SLO: ttft, tpot (TPOT e2e) or\n"
	    "                       latency, e.g. --slo ttft=200ms; repeat\n"
	    "                       for several (a sample must meet all)\n"
	    "  --watch DURATION     redraw every DURATION with a progress\n"
	    "                       line, until the store is final or ^C\n"
	    "  -h, --help           this help\n\n"
	    "Exit status: 0 ok, 1 runtime failure (no store, unreadable\n"
	    "store), 2 usage error. See metricsd(1).\n";

/* --slo NAME=DURATION */
static int
slo_parse(const char *arg, struct report_slo *slo)
{
	const char *eq = strchr(arg, '=');
	char err[ARGS_ERR_MAX], what[64];
	uint64_t ns;
	size_t len;

	if (eq == NULL)
		return args_usage_error("--slo: '%s' is not NAME=DURATION "
		    "(NAME: ttft, tpot or latency)", arg);
	len = (size_t)(eq - arg);
	snprintf(what, sizeof(what), "--slo %.*s", (int)(len < 16 ? len : 16),
	    arg);
	if (args_parse_duration(what, eq + 1, 0, SLO_MAX_NS, &ns, err,
	    sizeof(err)) < 0)
		return args_usage_error("%s", err);
	if (len == 4 && strncmp(arg, "ttft", 4) == 0) {
		slo->has_ttft = true;
		slo->ttft_ns = ns;
	} else if (len == 4 && strncmp(arg, "tpot", 4) == 0) {
		slo->has_tpot = true;
		slo->tpot_ns = ns;
	} else if (len == 7 && strncmp(arg, "latency", 7) == 0) {
		slo->has_latency = true;
		slo->latency_ns = ns;
	} else {
		return args_usage_error("--slo: unknown SLO '%.*s' (ttft, "
		    "tpot or latency)", (int)(len < 64 ? len : 64), arg);
	}
	return 0;
}

int
report_main(int argc, char **argv)
{
	enum { O_DIR = 1, O_JSON, O_SLO, O_WATCH };
	static const struct args_opt opts[] = {
		{ "metrics-dir", ARGS_NONEMPTY, O_DIR, 0 },
		{ "json", ARGS_NONE, O_JSON, 0 },
		{ "slo", ARGS_REQUIRED, O_SLO, 0 },
		{ "watch", ARGS_REQUIRED, O_WATCH, 0 },
		{ NULL, 0, 0, 0 }
	};
	struct report_opts o = { 0 };
	struct args a;
	int c, rc;

	args_init(&a, argc, argv, opts, 0);
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case O_DIR:
			o.dir = a.arg;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_SLO:
			if ((rc = slo_parse(a.arg, &o.slo)) != 0)
				return rc;
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
	return report_run(&o);
}
