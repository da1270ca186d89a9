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
 * Token threads (aggregator.h): the workers tell the loop that counts are
 * back through a uv_async handle, and the loop thread applies them (the
 * engine and the store have one writer: the loop thread). When the run
 * stops (session.ended or a first signal) with counts still queued, the
 * loop keeps running, with the socket closed, until they are all applied;
 * only then is the store marked FINAL or INTERRUPTED. A signal during that
 * drain abandons the rest: token_work_pending keeps their number in the
 * store (so `metricsd report` calls it incomplete) and the run counts as
 * one that dropped values (aggregate_run returns 1: exit 3). The
 * async handle is closed only once no job is pending, or after the
 * workers are stopped, so no worker ever touches a closed handle.
 *
 * --replay: no socket and no loop. The frames of a recording (rec.h) are
 * fed in file order to the same aggregator_wire -> engine -> store sink
 * path as the socket's frames, so the store is the live run's: the
 * engine never reads a clock, and session.ended ends it the same way. A
 * signal only sets a flag, checked between frames; the token queue is
 * drained after the last frame the same way (waiting on it, a signal
 * abandoning it).
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
	uv_async_t tokens;		/* token counts are back */
	bool tokens_open;
	bool draining;			/* stopped; token counts still queued */
	size_t abandoned;		/* token counts given up on */
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

static const char *
end_name(enum store_state end)
{
	return end == STORE_FINAL ? "final" : "interrupted";
}

/*
 * Close what keeps the loop running once the socket is closed. Closing
 * the last watcher of a signal gives it back its default action, which
 * would let a SIGTERM or SIGINT landing while the store is being finished
 * kill us (status 143, the store maybe never closed): the run is stopping
 * already, so from now on they are ignored.
 */
static void
handles_close(struct agg *g)
{
	uv_close((uv_handle_t *)&g->sigterm, NULL);
	uv_close((uv_handle_t *)&g->sigint, NULL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (g->tokens_open) {
		g->tokens_open = false;
		uv_close((uv_handle_t *)&g->tokens, NULL);
	}
}

static void
stop(struct agg *g, enum store_state end)
{
	size_t pending;

	if (g->stopping)
		return;
	g->stopping = true;
	g->end = end;
	if (g->uz_open)
		uvzmq_close(&g->uz, NULL);
	/* Closed, not only unwatched: a long token drain must not queue a
	 * new publisher's frames in memory. */
	if (g->sub) {
		zmq_close(g->sub);
		g->sub = NULL;
	}
	if ((pending = aggregator_tokens_apply(g->engine)) > 0) {
		log_info("waiting for %zu queued token counts before the store "
		    "is marked %s (a signal abandons them)", pending,
		    end_name(end));
		g->draining = true;
		return;
	}
	handles_close(g);
}

/* A worker thread: counts are back (uv_async_send is thread-safe). */
static void
tokens_notify(void *arg)
{
	struct agg *g = arg;

	uv_async_send(&g->tokens);
}

static void
on_tokens(uv_async_t *h)
{
	struct agg *g = h->data;

	if (aggregator_tokens_apply(g->engine) == 0 && g->draining) {
		g->draining = false;
		handles_close(g);
	}
}

/* Give up on the queued token counts: the workers stop first. */
static void
tokens_abandon(struct agg *g, const char *why)
{
	if ((g->abandoned = aggregator_tokens_abandon(g->engine)) > 0)
		log_warn("%s: %zu queued token counts abandoned; their isl, "
		    "osl and tpot values are missing (token_work_pending = %zu "
		    "in the store)", why, g->abandoned, g->abandoned);
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

	if (g->draining) {
		g->draining = false;
		tokens_abandon(g, strsignal(signum));
		handles_close(g);
		return;
	}
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
	struct aggregator_config cfg = o->cfg;

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
	if (!o->replay) {
		/* Armed before the loop feeds the first event (arm()). */
		cfg.token_notify = tokens_notify;
		cfg.token_notify_arg = g;
	}
	if (aggregator_new(&g->engine, &cfg, &iface, err,
	    sizeof(err)) < 0 ||
	    aggregator_wire_init(&g->feed, g->engine, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		return -1;
	}
	return 0;
}

/* ", N token threads" for the start-up line, or "". */
static const char *
token_threads_text(struct agg *g, const struct aggregate_opts *o)
{
	static char buf[48];

	if (!aggregator_tokens_threaded(g->engine))
		return "";
	snprintf(buf, sizeof(buf), ", %u token thread%s", o->cfg.token_threads,
	    o->cfg.token_threads == 1 ? "" : "s");
	return buf;
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
	if ((rc = uv_async_init(&g->loop, &g->tokens, on_tokens)) == 0) {
		g->tokens_open = true;
		g->tokens.data = g;
	}
	if (rc < 0 ||
	    (rc = uv_signal_start(&g->sigterm, on_signal, SIGTERM)) < 0 ||
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
	log_info("subscribed to %s; store %s (%zu keys%s%s%s%s)", g->endpoint,
	    g->dir, g->sink.nkeys, o->cfg.streaming ? ", streaming" : "",
	    o->cfg.tok ? ", tokenizer " : "", o->cfg.tok ? o->cfg.tok->name :
	    "", token_threads_text(g, o));
	if (o->ready && readycheck_send(o->ready->endpoint, o->ready->id,
	    READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("signalling readiness: %s", err);
		g->status = -1;
		stop(g, STORE_INTERRUPTED);
	}
	return 0;
}

static volatile sig_atomic_t replay_signal, replay_signals;

static void
on_replay_signal(int signum)
{
	replay_signal = signum;
	replay_signals++;
}

/*
 * The queued token counts of a replay, waited for after its last frame.
 * The wait wakes up now and then to see whether a signal came (a handler
 * cannot wake a condition variable): one beyond the `stops` signals that
 * stopped the reading abandons the rest (as live: after session.ended,
 * the first signal does).
 */
static void
replay_drain(struct agg *g, sig_atomic_t stops)
{
	sig_atomic_t seen = stops;
	size_t pending;

	if ((pending = aggregator_tokens_apply(g->engine)) == 0)
		return;
	log_info("waiting for %zu queued token counts before the store is "
	    "marked %s (a signal abandons them)", pending, end_name(g->end));
	while (aggregator_tokens_wait(g->engine, 100) > 0) {
		if (replay_signals != seen) {
			tokens_abandon(g, strsignal(replay_signal));
			return;
		}
	}
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
	bool stopped;
	int rc = 0;

	g->end = STORE_INTERRUPTED;
	if (rec_reader_open(&r, o->replay, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		g->status = -1;
		return;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_info("aggregating the recording %s; store %s (%zu keys%s%s%s%s)",
	    o->replay, g->dir, g->sink.nkeys, o->cfg.streaming ?
	    ", streaming" : "", o->cfg.tok ? ", tokenizer " : "", o->cfg.tok ?
	    o->cfg.tok->name : "", token_threads_text(g, o));
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
	/* A signal that came while the frame with session.ended was fed
	 * did not stop the reading: it is one during the drain. */
	stopped = replay_signal && g->end != STORE_FINAL;
	if (stopped) {
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
	replay_drain(g, stopped ? 1 : 0);
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
	/* Every queued count was applied or abandoned (and said so): say
	 * what else is incomplete (the same figures are keys in the
	 * store). */
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
	if (g.status == 0 && store_sink_lost(&g.sink) > 0) {
		log_warn("store %s: %" PRIu64 " values lost (%" PRIu64
		    " refused by the store, %" PRIu64 " token counts failed, %"
		    PRIu64 " samples not tracked); the store is marked "
		    "incomplete", g.dir, store_sink_lost(&g.sink),
		    g.sink.append_errors, g.sink.engine_lost[0],
		    g.sink.engine_lost[1]);
		g.status = 1;
	}
	if (g.status == 0 && g.abandoned > 0)
		g.status = 1;	/* token counts missing: said above */
	if (g.sub)
		zmq_close(g.sub);
	if (g.ctx)
		zmq_ctx_term(g.ctx);
	if (loop_open && uv_loop_close(&g.loop) < 0)
		log_warn("closing the loop: handles still open");
	return g.status;
}
