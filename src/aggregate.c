/*
 * The aggregate service (see aggregate.h).
 *
 * Start-up order matters for readers and launchers: the tokenizer is
 * loaded by the mode main before we are called (one that does not load is
 * a usage error there, before anything exists); the SUB socket is
 * connected and the store with every key is created before readiness is
 * signalled, so a launcher that starts the benchmark on our "ready"
 * cannot publish into a socket we have not connected, and a reader never
 * sees a half-created key set. (The socket comes first so that a bad
 * endpoint leaves no store behind.) ZMQ connects asynchronously:
 * "connected" means the connect is in place; a publisher that must not
 * lose the first events waits for our subscription (metricsd publish
 * --wait-subscribers does, exactly, with XPUB).
 *
 * The loop: uvzmq delivers frames from the SUB socket; aggregator_wire
 * decodes them and the engine folds their events into the store sink.
 * session.ended, or SIGTERM/SIGINT (uv_signal, so the handler does no
 * work), stops the loop; then the final values are written and the store
 * is marked FINAL or INTERRUPTED and closed. Bad input never stops us:
 * the engine counts it in the decode_* keys and we log it at a bounded
 * rate.
 *
 * --replay: no socket and no loop. The frames of a recording (rec.h) are
 * fed in file order to the same aggregator_wire -> engine -> store sink
 * path as the socket's frames, so the store is the live run's: the
 * engine never reads a clock, and session.ended ends it the same way. A
 * signal only sets a flag, checked between frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <zmq.h>

#include "aggregate.h"
#include "aggregator.h"
#include "aggregator_wire.h"
#include "log.h"
#include "readycheck.h"
#include "rec.h"
#include "store.h"
#include "store_sink.h"
#include "uvzmq.h"

/* Frames handled per loop iteration before the loop gets a turn. */
#define FRAME_BUDGET 1024

struct agg {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct uvzmq uz;
	bool uz_open;
	void *ctx, *sub;
	const char *endpoint;
	const char *dir;
	struct store_sink sink;
	struct aggregator *engine;
	struct aggregator_wire feed;	/* decoder -> engine */
	enum store_state end;
	bool stopping;
	int status;
	uint64_t frames;
	struct log_ratelimit rl_input, rl_store;
};

static void
stop(struct agg *g, enum store_state end)
{
	if (g->stopping)
		return;
	g->stopping = true;
	g->end = end;
	if (g->uz_open)
		uvzmq_close(&g->uz, NULL);
	uv_close((uv_handle_t *)&g->sigterm, NULL);
	uv_close((uv_handle_t *)&g->sigint, NULL);
}

static void
on_frame(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct agg *g = arg;
	struct wire_frame_stats st;

	if (!msg) {
		log_warn("receiving from %s: %s", g->endpoint,
		    zmq_strerror(-uvzmq_error(z)));
		g->status = -1;
		stop(g, STORE_INTERRUPTED);
		return;
	}
	if (g->stopping)
		return;
	g->frames++;
	if (aggregator_wire_feed(&g->feed, zmq_msg_data(msg),
	    zmq_msg_size(msg), &st) == AGGREGATOR_ENDED)
		stop(g, STORE_FINAL);
	if (st.nerrors)
		log_ratelimited(&g->rl_input, "bad input from %s: %" PRIu32
		    " record(s) refused in a %zu-byte frame: %s", g->endpoint,
		    st.nerrors, zmq_msg_size(msg), st.err);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct agg *g = h->data;

	log_info("%s: stopping; the store is marked interrupted",
	    strsignal(signum));
	stop(g, STORE_INTERRUPTED);
}

static void
on_store_error(void *arg, const char *key, int err, const char *msg)
{
	struct agg *g = arg;

	/* The store's message names the directory and the key. */
	if (msg && *msg)
		log_ratelimited(&g->rl_store, "%s; value dropped", msg);
	else
		log_ratelimited(&g->rl_store, "store %s: appending to %s: %s; "
		    "value dropped", g->dir, key, strerror(-err));
}



/* 1. The socket: a bad endpoint fails here, before a store exists. What
 * arrives before the loop runs waits in the socket. 2. The store, with
 * every key, and the engine. */
static int
open_all(struct agg *g, const struct aggregate_opts *o)
{
	char err[STORE_ERR_MAX];
	struct aggregator_sink iface;

	if (!o->replay && uvzmq_sub_open(&g->ctx, &g->sub, g->endpoint, err,
	    sizeof(err)) < 0) {
		log_warn("%s", err);
		return -1;
	}
	if (store_sink_open(&g->sink, g->dir, &o->cfg, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		return -1;
	}
	g->sink.on_error = on_store_error;
	g->sink.on_error_arg = g;
	iface = store_sink_iface(&g->sink);
	if (aggregator_new(&g->engine, &o->cfg, &iface, err,
	    sizeof(err)) < 0 ||
	    aggregator_wire_init(&g->feed, g->engine, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		return -1;
	}
	return 0;
}

/* 3. The loop, armed; 4. ready. Returns -1 if the loop cannot run. */
static int
arm(struct agg *g, const struct aggregate_opts *o)
{
	char err[STORE_ERR_MAX];
	int rc;

	uv_signal_init(&g->loop, &g->sigterm);
	uv_signal_init(&g->loop, &g->sigint);
	g->sigterm.data = g->sigint.data = g;
	err[0] = '\0';
	if ((rc = uv_signal_start(&g->sigterm, on_signal, SIGTERM)) < 0 ||
	    (rc = uv_signal_start(&g->sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uvzmq_init(&g->uz, &g->loop, g->sub, FRAME_BUDGET, on_frame,
	    g, err, sizeof(err))) < 0) {
		log_warn("setting up the loop: %s", rc < 0 && err[0] ? err
		    : uv_strerror(rc));
		g->status = -1;
		stop(g, STORE_INTERRUPTED);
		uv_run(&g->loop, UV_RUN_DEFAULT);
		return -1;
	}
	g->uz_open = true;
	log_info("subscribed to %s; store %s (%zu keys%s%s%s)", g->endpoint,
	    g->dir, g->sink.nkeys, o->cfg.streaming ? ", streaming" : "",
	    o->cfg.tok ? ", tokenizer " : "", o->cfg.tok ? o->cfg.tok->name :
	    "");
	if (o->ready && readycheck_send(o->ready->endpoint, o->ready->id,
	    READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("signalling readiness: %s", err);
		g->status = -1;
		stop(g, STORE_INTERRUPTED);
	}
	return 0;
}

static volatile sig_atomic_t replay_signal;

static void
on_replay_signal(int signum)
{
	replay_signal = signum;
}

/* --replay (see the top): the store is open; feed it the recording. */
static void
replay(struct agg *g, const struct aggregate_opts *o)
{
	struct sigaction sa = { .sa_handler = on_replay_signal };
	struct wire_frame_stats st;
	struct rec_reader *r;
	struct rec_frame f;
	char err[REC_ERR_MAX];
	int rc;

	g->end = STORE_INTERRUPTED;
	if (rec_reader_open(&r, o->replay, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		g->status = -1;
		return;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_info("aggregating the recording %s; store %s (%zu keys%s%s%s)",
	    o->replay, g->dir, g->sink.nkeys, o->cfg.streaming ?
	    ", streaming" : "", o->cfg.tok ? ", tokenizer " : "", o->cfg.tok ?
	    o->cfg.tok->name : "");
	if (o->ready && readycheck_send(o->ready->endpoint, o->ready->id,
	    READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("signalling readiness: %s", err);
		g->status = -1;
		rec_reader_close(r);
		return;
	}
	while (!replay_signal && (rc = rec_reader_next(r, &f, err,
	    sizeof(err))) == 1) {
		g->frames++;
		if (aggregator_wire_feed(&g->feed, f.data, f.len, &st) ==
		    AGGREGATOR_ENDED) {
			g->end = STORE_FINAL;
			break;
		}
		if (st.nerrors)
			log_ratelimited(&g->rl_input, "bad input in %s at byte %"
			    PRIu64 ": %" PRIu32 " record(s) refused in a "
			    "%zu-byte frame: %s", o->replay, f.offset,
			    st.nerrors, f.len, st.err);
	}
	if (replay_signal) {
		log_info("%s: stopping; the store is marked interrupted",
		    strsignal(replay_signal));
	} else if (g->end != STORE_FINAL && rc < 0) {
		log_warn("%s; the store is marked interrupted", err);
		g->status = -1;
	} else if (rec_reader_truncated(r, err, sizeof(err))) {
		log_warn("%s and aggregated; the store is marked interrupted",
		    err);
		g->status = -1;
	} else if (g->end != STORE_FINAL) {
		log_info("%s: the recording ends without session.ended; the "
		    "store is marked interrupted", o->replay);
	}
	rec_reader_close(r);
}

int
aggregate_run(const struct aggregate_opts *o)
{
	static struct agg g;	/* static: big, and outlives every handle */
	bool loop_open = false;
	int rc;

	memset(&g, 0, sizeof(g));
	g.endpoint = o->endpoint;
	g.dir = o->dir;
	/* A store file growing past RLIMIT_FSIZE must be an append error
	 * (EFBIG, counted and logged), not a SIGXFSZ that kills us. */
	signal(SIGXFSZ, SIG_IGN);
	g.rl_input = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000000ULL, 5);
	g.rl_store = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000000ULL, 5);

	if (open_all(&g, o) < 0) {
		g.status = -1;
		goto out;
	}
	if (o->replay) {
		replay(&g, o);
		goto done;
	}
	if ((rc = uv_loop_init(&g.loop)) < 0) {
		log_warn("uv_loop_init: %s", uv_strerror(rc));
		g.status = -1;
		goto out;
	}
	loop_open = true;
	if (arm(&g, o) < 0)
		goto out;

	uv_run(&g.loop, UV_RUN_DEFAULT);
done:
	if (g.end == STORE_INTERRUPTED)
		aggregator_finish(g.engine);
	log_info("%s after %" PRIu64 " frames: %" PRIu64 " samples issued, %"
	    PRIu64 " completed, %" PRIu64 " decode errors; store %s",
	    g.end == STORE_FINAL ? "session ended" : "stopped", g.frames,
	    aggregator_counter(g.engine, METRIC_TOTAL_SAMPLES_ISSUED),
	    aggregator_counter(g.engine, METRIC_TOTAL_SAMPLES_COMPLETED),
	    aggregator_counter(g.engine, METRIC_DECODE_ERRORS), g.dir);
	/* Counts are inline: nothing is pending here, but say what is
	 * incomplete (the same figures are keys in the store). */
	if (aggregator_counter(g.engine, METRIC_TOKENIZER_ERRORS) ||
	    aggregator_counter(g.engine, METRIC_TOKENIZER_INVALID_UTF8))
		log_warn("token counts: %" PRIu64 " failed (those isl, osl or "
		    "tpot_ns values are missing: tokenizer_errors), %" PRIu64
		    " texts with invalid UTF-8 counted with U+FFFD "
		    "(tokenizer_invalid_utf8)",
		    aggregator_counter(g.engine, METRIC_TOKENIZER_ERRORS),
		    aggregator_counter(g.engine,
		    METRIC_TOKENIZER_INVALID_UTF8));
out:
	aggregator_wire_free(&g.feed);
	if (g.engine)
		aggregator_free(g.engine);
	if (g.sink.w && store_sink_close(&g.sink, g.end == STORE_FINAL
	    ? STORE_FINAL : STORE_INTERRUPTED) < 0) {
		log_warn("closing the store %s failed", g.dir);
		g.status = -1;
	}
	if (g.status == 0 && g.sink.append_errors > 0) {
		log_warn("store %s: %" PRIu64 " values dropped; the store is "
		    "marked incomplete", g.dir, g.sink.append_errors);
		g.status = 1;
	}
	if (g.sub)
		zmq_close(g.sub);
	if (g.ctx)
		zmq_ctx_term(g.ctx);
	if (loop_open && uv_loop_close(&g.loop) < 0)
		log_warn("closing the loop: handles still open");
	return g.status;
}
