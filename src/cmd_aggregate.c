/*
 * metricsd aggregate: subscribe to a benchmark's event stream and keep its
 * metrics (../shared/spec/metrics.md) in a store, as a drop-in for the
 * reference Python aggregator service (same flags, same sockets).
 *
 * Start-up order matters for readers and launchers: the SUB socket is
 * connected and the store with every key is created before readiness is
 * signalled, so a launcher that starts the benchmark on our "ready"
 * cannot publish into a socket we have not connected, and a reader never
 * sees a half-created key set. (The socket comes first so that a bad
 * endpoint leaves no store behind.) ZMQ connects asynchronously:
 * "connected" means the connect is in place; a publisher that must not
 * lose the first events waits for our subscription (metricsd publish
 * --wait-subscribers does, exactly, with XPUB).
 *
 * The loop: uvzmq delivers frames from the SUB socket; the engine decodes
 * and folds them. session.ended, or SIGTERM/SIGINT (uv_signal, so the
 * handler does no work), stops the loop; then the final values are
 * written and the store is marked FINAL or INTERRUPTED and closed. Bad
 * input never stops us: the engine counts it in the decode_* keys and we
 * log it at a bounded rate.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <zmq.h>

#include "aggregator.h"
#include "aggregator_wire.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "store.h"
#include "store_sink.h"
#include "tokenizer.h"
#include "uvzmq.h"

#define USAGE \
"usage: metricsd aggregate (--socket-dir DIR --socket-name NAME | --connect ENDPOINT)\n" \
"           [--metrics-dir DIR] [--streaming] [--tokenizer NAME]\n" \
"           [--readiness-path P | --ready ENDPOINT] [--readiness-id I]\n"

#define HELP \
"Subscribe to a benchmark's event stream and write its metrics to a store.\n" \
"\n" \
"  --socket-dir DIR       the publisher is at ipc://DIR/NAME; DIR is also\n" \
"  --socket-name NAME     where --readiness-path lives (default DIR:\n" \
"                         $METRICSD_SOCKET_DIR, set by metricsd launch)\n" \
"  --connect ENDPOINT     connect to ENDPOINT instead (ipc:// or tcp://)\n" \
"  --metrics-dir DIR      the store directory (default $METRICSD_METRICS_DIR,\n" \
"                         else /dev/shm/metricsd-UID)\n" \
"  --streaming            also compute ttft_ns, chunk_delta_ns, tpot_ns\n" \
"  --tokenizer NAME       count text tokens with NAME (available: %s);\n" \
"                         without it osl, tpot_ns and isl from text are not\n" \
"                         produced\n" \
"  --readiness-path P     when ready, signal the launcher at ipc://DIR/P\n" \
"  --readiness-id I       with identity I (also read from the environment\n" \
"                         metricsd launch sets)\n" \
"  --ready ENDPOINT       signal readiness to ENDPOINT instead (identity\n" \
"                         from --readiness-id or the environment)\n" \
"\n" \
"Runs until session.ended (store FINAL) or SIGTERM/SIGINT (store\n" \
"INTERRUPTED). Exit status: 0 success, 1 runtime failure, 2 usage error.\n"

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
		g->status = EXIT_FAIL;
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

static int
sub_open(struct agg *g)
{
	int zero = 0;

	if (!(g->ctx = zmq_ctx_new())) {
		log_warn("zmq_ctx_new:");
		return -1;
	}
	if (!(g->sub = zmq_socket(g->ctx, ZMQ_SUB))) {
		log_warn("zmq_socket(SUB):");
		return -1;
	}
	/* RCVHWM 0: never drop; LINGER 0: nothing to flush on a SUB. */
	if (zmq_setsockopt(g->sub, ZMQ_RCVHWM, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(g->sub, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(g->sub, ZMQ_SUBSCRIBE, "", 0) < 0) {
		log_warn("setting SUB socket options:");
		return -1;
	}
	if (zmq_connect(g->sub, g->endpoint) < 0) {
		log_warn("cannot connect to %s:", g->endpoint);
		return -1;
	}
	return 0;
}

int
aggregate_main(int argc, char **argv)
{
	enum { O_SOCKDIR = 256, O_SOCKNAME, O_CONNECT, O_METRICS, O_STREAM,
	    O_TOK, O_RPATH, O_RID, O_READY };
	static const struct option opts[] = {
		{ "socket-dir", required_argument, NULL, O_SOCKDIR },
		{ "socket-name", required_argument, NULL, O_SOCKNAME },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "metrics-dir", required_argument, NULL, O_METRICS },
		{ "streaming", no_argument, NULL, O_STREAM },
		{ "tokenizer", required_argument, NULL, O_TOK },
		{ "readiness-path", required_argument, NULL, O_RPATH },
		{ "readiness-id", required_argument, NULL, O_RID },
		{ "ready", required_argument, NULL, O_READY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct agg g;	/* static: big, and outlives every handle */
	const char *sockdir = NULL, *sockname = NULL, *connect = NULL;
	const char *metrics = NULL, *tokname = NULL;
	const char *rpath = NULL, *rid = NULL, *ready = NULL;
	char endpoint[4096], dirbuf[4096], err[STORE_ERR_MAX];
	struct aggregator_config cfg = { 0 };
	struct aggregator_sink iface;
	struct tokenizer *tok = NULL;
	struct readycheck_target target;
	bool loop_open = false, have_target;
	int c, rc;

	memset(&g, 0, sizeof(g));
	g.status = EXIT_OK;
	/* A store file growing past RLIMIT_FSIZE must be an append error
	 * (EFBIG, counted and logged), not a SIGXFSZ that kills us. */
	signal(SIGXFSZ, SIG_IGN);
	g.rl_input = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000000ULL, 5);
	g.rl_store = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000000ULL, 5);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKDIR: sockdir = optarg; break;
		case O_SOCKNAME: sockname = optarg; break;
		case O_CONNECT: connect = optarg; break;
		case O_METRICS: metrics = optarg; break;
		case O_STREAM: cfg.streaming = true; break;
		case O_TOK: tokname = optarg; break;
		case O_RPATH: rpath = optarg; break;
		case O_RID: rid = optarg; break;
		case O_READY: ready = optarg; break;
		case 'h':
			printf(USAGE "\n" HELP, tokenizer_names());
			return EXIT_OK;
		default:
			log_warn("unknown or incomplete option '%s'",
			    argv[optind - 1]);
			fputs(USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_warn("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	/* Under metricsd launch, the socket directory is also in the
	 * environment: --socket-name alone then means a socket there. */
	if (!sockdir && sockname && getenv(READYCHECK_ENV_SOCKET_DIR) &&
	    *getenv(READYCHECK_ENV_SOCKET_DIR))
		sockdir = getenv(READYCHECK_ENV_SOCKET_DIR);
	if (connect && sockname) {
		log_warn("--connect and --socket-name exclude each other");
		return EXIT_USAGE;
	}
	if (!connect && !(sockdir && sockname)) {
		log_warn("say where the publisher is: --socket-dir DIR "
		    "--socket-name NAME, or --connect ENDPOINT");
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if (ready && rpath) {
		log_warn("--ready and --readiness-path exclude each other");
		return EXIT_USAGE;
	}
	if (connect) {
		snprintf(endpoint, sizeof(endpoint), "%s", connect);
	} else if ((size_t)snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s",
	    sockdir, sockname) >= sizeof(endpoint)) {
		log_warn("--socket-dir/--socket-name: endpoint too long");
		return EXIT_USAGE;
	}
	g.endpoint = endpoint;
	/* Resolve the readiness target now, so a bad --readiness-id is a
	 * usage error before anything is created. */
	rc = readycheck_target_resolve(&target, ready, sockdir, rpath, rid,
	    err, sizeof(err));
	have_target = rc == 0;
	if (rc < 0 && rc != -ENOENT) {
		log_warn("%s", err);
		return EXIT_USAGE;
	}
	if (metrics) {
		g.dir = metrics;
	} else if (store_default_dir(dirbuf, sizeof(dirbuf)) < 0) {
		log_warn("default store directory: name too long");
		return EXIT_FAIL;
	} else {
		g.dir = dirbuf;
	}
	if (tokname) {
		if (tokenizer_open(&tok, tokname, err, sizeof(err)) < 0)
			/* Keep running: the reference takes any Hugging Face
			 * name, and a benchmark must not fail for a metric we
			 * can skip. Say loudly what is skipped. */
			log_warn("%s; osl, tpot_ns and isl from text will not "
			    "be produced", err);
		cfg.tok = tok;
	}

	/* 1. The socket: a bad endpoint fails here, before a store exists.
	 * What arrives before the loop runs waits in the socket. */
	if (sub_open(&g) < 0) {
		g.status = EXIT_FAIL;
		goto out;
	}
	/* 2. The store, with every key, and the engine. */
	if ((rc = store_sink_open(&g.sink, g.dir, &cfg, err, sizeof(err))) < 0) {
		log_warn("%s", err);
		g.status = EXIT_FAIL;
		goto out;
	}
	g.sink.on_error = on_store_error;
	g.sink.on_error_arg = &g;
	iface = store_sink_iface(&g.sink);
	if ((rc = aggregator_new(&g.engine, &cfg, &iface, err,
	    sizeof(err))) < 0 ||
	    (rc = aggregator_wire_init(&g.feed, g.engine, err,
	    sizeof(err))) < 0) {
		log_warn("%s", err);
		g.status = EXIT_FAIL;
		goto out;
	}

	/* 3. The loop. */
	if ((rc = uv_loop_init(&g.loop)) < 0) {
		log_warn("uv_loop_init: %s", uv_strerror(rc));
		g.status = EXIT_FAIL;
		goto out;
	}
	loop_open = true;
	uv_signal_init(&g.loop, &g.sigterm);
	uv_signal_init(&g.loop, &g.sigint);
	g.sigterm.data = g.sigint.data = &g;
	err[0] = '\0';
	if ((rc = uv_signal_start(&g.sigterm, on_signal, SIGTERM)) < 0 ||
	    (rc = uv_signal_start(&g.sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uvzmq_init(&g.uz, &g.loop, g.sub, FRAME_BUDGET, on_frame, &g,
	    err, sizeof(err))) < 0) {
		log_warn("setting up the loop: %s", rc < 0 && err[0] ? err
		    : uv_strerror(rc));
		g.status = EXIT_FAIL;
		stop(&g, STORE_INTERRUPTED);
		uv_run(&g.loop, UV_RUN_DEFAULT);
		goto out;
	}
	g.uz_open = true;
	log_info("subscribed to %s; store %s (%zu keys%s%s%s)", endpoint,
	    g.dir, g.sink.nkeys, cfg.streaming ? ", streaming" : "",
	    cfg.tok ? ", tokenizer " : "", cfg.tok ? cfg.tok->name : "");

	/* 4. Ready: socket connected, store created, loop armed. */
	if (have_target) {
		if ((rc = readycheck_send(target.endpoint, target.id,
		    READYCHECK_LINGER_MS, err, sizeof(err))) < 0) {
			log_warn("signalling readiness: %s", err);
			g.status = EXIT_FAIL;
			stop(&g, STORE_INTERRUPTED);
		}
	}

	uv_run(&g.loop, UV_RUN_DEFAULT);
	if (g.end == STORE_INTERRUPTED)
		aggregator_finish(g.engine);
	log_info("%s after %" PRIu64 " frames: %" PRIu64 " samples issued, %"
	    PRIu64 " completed, %" PRIu64 " decode errors; store %s",
	    g.end == STORE_FINAL ? "session ended" : "stopped", g.frames,
	    aggregator_counter(g.engine, METRIC_TOTAL_SAMPLES_ISSUED),
	    aggregator_counter(g.engine, METRIC_TOTAL_SAMPLES_COMPLETED),
	    aggregator_counter(g.engine, METRIC_DECODE_ERRORS), g.dir);
out:
	aggregator_wire_free(&g.feed);
	if (g.engine)
		aggregator_free(g.engine);
	if (g.sink.w && store_sink_close(&g.sink, g.end == STORE_FINAL
	    ? STORE_FINAL : STORE_INTERRUPTED) < 0) {
		log_warn("closing the store %s failed", g.dir);
		g.status = EXIT_FAIL;
	}
	if (g.sub)
		zmq_close(g.sub);
	if (g.ctx)
		zmq_ctx_term(g.ctx);
	if (loop_open && uv_loop_close(&g.loop) < 0)
		log_warn("closing the loop: handles still open");
	if (tok)
		tokenizer_close(tok);
	return g.status;
}
