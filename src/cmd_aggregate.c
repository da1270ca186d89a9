/*
 * metricsd aggregate: subscribe to a benchmark's event stream and keep
 * its metrics in a store (metricsd(1), "metricsd aggregate"), as a
 * drop-in for the reference Python aggregator service (same flags, same
 * sockets). This file parses the command line; aggregate.c runs the
 * service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "args.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "store.h"
#include "tokenizer.h"

#define USAGE \
"usage: metricsd aggregate (--socket-dir DIR --socket-name NAME | --connect ENDPOINT)\n" \
"           [--metrics-dir DIR] [--streaming] [--tokenizer NAME]\n" \
"           [--token-threads N] [--token-queue MB]\n" \
"           [--readiness-path P | --ready ENDPOINT] [--readiness-id I]\n" \
"       metricsd aggregate --replay FILE [--metrics-dir DIR] [--streaming]\n" \
"           [--tokenizer NAME] [--token-threads N] [--token-queue MB]\n" \
"           [--readiness-path P | --ready ENDPOINT]\n"

#define HELP \
"Subscribe to a benchmark's event stream and write its metrics to a store.\n" \
"\n" \
"  --socket-dir DIR       the publisher is at ipc://DIR/NAME; DIR is also\n" \
"  --socket-name NAME     where --readiness-path lives (default DIR:\n" \
"                         $METRICSD_SOCKET_DIR, set by metricsd launch)\n" \
"  --connect ENDPOINT     connect to ENDPOINT instead (ipc:// or tcp://)\n" \
"  --replay FILE          aggregate the recording FILE (metricsd record)\n" \
"                         instead, with no socket: the store of the live run\n" \
"  --metrics-dir DIR      the store directory (default $METRICSD_METRICS_DIR,\n" \
"                         else /dev/shm/metricsd-UID)\n" \
"  --streaming            also compute ttft_ns, chunk_delta_ns, tpot_ns\n" \
"  --tokenizer NAME       count text tokens with NAME: %s;\n" \
"                         without it osl, tpot_ns and isl from text are not\n" \
"                         produced; one that does not load is a usage error\n" \
"  --token-threads N      count tokens on N worker threads, off the event\n" \
"                         path (0: inline; default 1 with a tokenizer.json,\n" \
"                         0 with whitespace); counts are applied in event\n" \
"                         order and finished before the store is final\n" \
"  --token-queue MB       texts queued for the workers, at most (default\n" \
"                         256); when full, intake waits\n" \
"  --readiness-path P     when ready, signal the launcher at ipc://DIR/P\n" \
"  --readiness-id I       with identity I (also read from the environment\n" \
"                         metricsd launch sets)\n" \
"  --ready ENDPOINT       signal readiness to ENDPOINT instead (identity\n" \
"                         from --readiness-id or the environment)\n" \
"\n" \
"Runs until session.ended (store FINAL) or SIGTERM/SIGINT (store\n" \
"INTERRUPTED). Exit status: 0 success, 1 runtime failure, 2 usage error,\n" \
"3 values lost (refused by the store, token counts failed, samples not\n" \
"tracked) or token counts abandoned (the store says which).\n"

enum { O_SOCKNAME = 1, O_CONNECT, O_METRICS, O_STREAM, O_TOK, O_REPLAY,
	O_TTHREADS, O_TQUEUE };

/* --token-threads when not given: a worker for a real tokenizer (README,
 * "Tokenizers": measured), none for the cheap built-in word count. */
#define TOKEN_THREADS_DEFAULT 1

static const struct args_opt opts[] = {
	{ "socket-name", ARGS_REQUIRED, O_SOCKNAME, 0 },
	{ "connect", ARGS_REQUIRED, O_CONNECT, 0 },
	{ "metrics-dir", ARGS_REQUIRED, O_METRICS, 0 },
	{ "streaming", ARGS_NONE, O_STREAM, 0 },
	{ "tokenizer", ARGS_REQUIRED, O_TOK, 0 },
	{ "replay", ARGS_REQUIRED, O_REPLAY, 0 },
	{ "token-threads", ARGS_REQUIRED, O_TTHREADS, 0 },
	{ "token-queue", ARGS_REQUIRED, O_TQUEUE, 0 },
	{ NULL, 0, 0, 0 }
};

/* The command line as given; the readiness group (with --socket-dir)
 * is args.h's. */
struct cmdline {
	struct args_ready rg;
	const char *sockname, *connect, *metrics, *tokname, *replay;
	bool streaming;
	bool threads_set, queue_set;
	unsigned threads, queue_mb;
};

/* EXIT_OK to go on, -1 after --help (exit 0), or EXIT_USAGE. */
static int
parse(struct cmdline *c, int argc, char **argv)
{
	char help[sizeof(USAGE "\n" HELP) + 512];
	struct args a;
	int id, rc;

	memset(c, 0, sizeof(*c));
	args_init(&a, argc, argv, opts, 0);
	args_ready_enable(&a, &c->rg);
	while ((id = args_next(&a)) > 0) {
		switch (id) {
		case O_SOCKNAME: c->sockname = a.arg; break;
		case O_CONNECT: c->connect = a.arg; break;
		case O_METRICS: c->metrics = a.arg; break;
		case O_STREAM: c->streaming = true; break;
		case O_TOK: c->tokname = a.arg; break;
		case O_REPLAY: c->replay = a.arg; break;
		case O_TTHREADS:
			if (args_unsigned(&a, 0, AGGREGATOR_MAX_TOKEN_THREADS,
			    &c->threads) < 0)
				return args_fail(&a);
			c->threads_set = true;
			break;
		case O_TQUEUE:
			if (args_unsigned(&a, 1, 1u << 20, &c->queue_mb) < 0)
				return args_fail(&a);
			c->queue_set = true;
			break;
		}
	}
	snprintf(help, sizeof(help), USAGE "\n" HELP, tokenizer_names());
	if ((rc = args_finish(&a, id, help)) != ARGS_RUN)
		return rc == EXIT_OK ? -1 : rc;
	if ((c->threads_set || c->queue_set) && !c->tokname)
		return args_usage_error("%s without --tokenizer: there are no "
		    "tokens to count", c->threads_set ? "--token-threads" :
		    "--token-queue");
	if (c->queue_set && c->threads_set && c->threads == 0)
		return args_usage_error("--token-queue with --token-threads 0: "
		    "counting is inline, there is no queue");
	return EXIT_OK;
}

/*
 * Where the publisher is, where the store goes and whom to tell when
 * ready, from the command line and the environment. EXIT_OK, or the
 * exit status of the error (already printed).
 */
static int
resolve(struct cmdline *c, struct aggregate_opts *o, char *endpoint,
    size_t endlen, char *dir, size_t dirlen, struct readycheck_target *t)
{
	struct args_ready rg = c->rg;
	const char *env = getenv(READYCHECK_ENV_SOCKET_DIR);
	char err[ARGS_ERR_MAX];
	int rc;

	/* Under metricsd launch, the socket directory is also in the
	 * environment: --socket-name alone then means a socket there. */
	if (!rg.socket_dir && c->sockname && env && *env)
		rg.socket_dir = env;
	if (c->connect && c->sockname)
		return args_usage_error("--connect and --socket-name exclude "
		    "each other");
	if (c->replay && (c->connect || c->sockname))
		return args_usage_error("--replay and %s exclude each other",
		    c->connect ? "--connect" : "--socket-name");
	if (c->replay && !*c->replay)
		return args_usage_error("--replay: empty value");
	if (c->replay) {
		o->replay = c->replay;
	} else if (!c->connect && !(rg.socket_dir && c->sockname))
		return args_usage_error("say where the publisher is: "
		    "--socket-dir DIR --socket-name NAME, or --connect "
		    "ENDPOINT (or a recording: --replay FILE)");
	if (c->replay) {
		/* no socket */
	} else if (c->connect) {
		snprintf(endpoint, endlen, "%s", c->connect);
	} else if ((size_t)snprintf(endpoint, endlen, "ipc://%s/%s",
	    rg.socket_dir, c->sockname) >= endlen) {
		return args_usage_error("--socket-dir/--socket-name: endpoint "
		    "too long");
	}
	o->endpoint = c->replay ? NULL : endpoint;
	/* Resolve the readiness target now, so a bad --readiness-id is a
	 * usage error before anything is created. */
	rc = args_ready_resolve(&rg, ARGS_READY_SOCKET_DIR_SHARED, t, err,
	    sizeof(err));
	if (rc < 0)
		return args_usage_error("%s", err);
	o->ready = rc > 0 ? t : NULL;
	if (c->metrics) {
		o->dir = c->metrics;
	} else if (store_default_dir(dir, dirlen) < 0) {
		log_warn("default store directory: name too long");
		return EXIT_FAIL;
	} else {
		o->dir = dir;
	}
	return EXIT_OK;
}

int
aggregate_main(int argc, char **argv)
{
	char endpoint[4096], dir[4096], err[STORE_ERR_MAX];
	struct aggregate_opts o = { 0 };
	struct readycheck_target target;
	struct tokenizer *tok = NULL;
	struct tokenizer *wtok[AGGREGATOR_MAX_TOKEN_THREADS] = { NULL };
	struct cmdline c;
	unsigned i;
	int rc;

	if ((rc = parse(&c, argc, argv)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = resolve(&c, &o, endpoint, sizeof(endpoint), dir, sizeof(dir),
	    &target)) != EXIT_OK)
		return rc;
	o.cfg.streaming = c.streaming;
	/* The tokenizer before anything is created: one that resolves nowhere
	 * or does not load is a usage error, with its own message (where it
	 * looked, or the file and the component), never a silent fallback. */
	if (c.tokname) {
		if ((rc = tokenizer_open(&tok, c.tokname, err, sizeof(err))) < 0) {
			if (rc == -ENOMEM) {
				log_warn("%s", err);
				return EXIT_FAIL;
			}
			return args_usage_error("--tokenizer: %s", err);
		}
		o.cfg.tok = tok;
		o.cfg.token_threads = c.threads_set ? c.threads :
		    tok->encode != NULL ? TOKEN_THREADS_DEFAULT : 0;
		o.cfg.token_queue_bytes = (size_t)c.queue_mb << 20;
		/* A tokenizer per further worker (one keeps its caches
		 * inside): clones, sharing the tables of the first, all
		 * made before anything exists. */
		wtok[0] = tok;
		for (i = 1; i < o.cfg.token_threads; i++) {
			if ((rc = tokenizer_clone(&wtok[i], tok, err,
			    sizeof(err))) < 0) {
				log_warn("--tokenizer for token thread %u: %s",
				    i + 1, err);
				rc = EXIT_FAIL;
				goto out;
			}
		}
		o.cfg.token_toks = wtok;
	}
	rc = aggregate_run(&o);
	rc = rc < 0 ? EXIT_FAIL : rc > 0 ? EXIT_INCOMPLETE : EXIT_OK;
out:
	for (i = 1; i < AGGREGATOR_MAX_TOKEN_THREADS && wtok[i]; i++)
		tokenizer_close(wtok[i]);
	if (tok)
		tokenizer_close(tok);
	return rc;
}
