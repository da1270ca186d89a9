/*
 * metricsd record: keep a run's event stream in a file, frame for frame
 * (metricsd-recording(5)), or as JSON lines. Parses the command line and
 * hands over to the record service (record.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "record.h"

#define USAGE \
"usage: metricsd record (--socket-dir DIR --socket-name NAME | --connect ENDPOINT)\n" \
"           --out FILE [--jsonl] [--force]\n" \
"           [--readiness-path P | --ready-endpoint ENDPOINT] [--readiness-id I]\n"

#define HELP \
"Subscribe to a benchmark's event stream, as aggregate does, and write every\n" \
"frame to FILE with its receive time (metricsd-recording(5)), until\n" \
"session.ended or SIGTERM/SIGINT. Replay it with metricsd publish --replay,\n" \
"or aggregate it straight from the file with metricsd aggregate --replay.\n" \
"\n" \
"  --socket-dir DIR       the publisher is at ipc://DIR/NAME; DIR is also\n" \
"  --socket-name NAME     where --readiness-path lives (default DIR:\n" \
"                         $METRICSD_SOCKET_DIR, set by metricsd launch)\n" \
"  --connect ENDPOINT     connect to ENDPOINT instead (ipc:// or tcp://)\n" \
"  --out FILE             the recording to create (0600; an existing file\n" \
"                         is refused, a symlink is never followed)\n" \
"  --force                replace FILE if it is an existing regular file\n" \
"  --jsonl                write one JSON event per line (what publish reads\n" \
"                         on stdin) instead of the raw frames\n" \
"  --readiness-path P     when ready, signal the launcher at ipc://DIR/P\n" \
"  --readiness-id I       with identity I (also read from the environment\n" \
"                         metricsd launch sets)\n" \
"  --ready-endpoint E     signal readiness to E instead\n" \
"\n" \
"On a write error (a full disk) the file is cut back to its last whole\n" \
"frame and record exits 1, naming the file.\n" \
"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"

enum { O_SOCKNAME = 1, O_CONNECT, O_OUT, O_JSONL, O_FORCE };

static const struct args_opt opts[] = {
	{ "socket-name", ARGS_REQUIRED, O_SOCKNAME, 0 },
	{ "connect", ARGS_REQUIRED, O_CONNECT, 0 },
	{ "out", ARGS_REQUIRED, O_OUT, 0 },
	{ "jsonl", ARGS_NONE, O_JSONL, 0 },
	{ "force", ARGS_NONE, O_FORCE, 0 },
	{ NULL, 0, 0, 0 }
};

int
record_main(int argc, char **argv)
{
	struct record_config cfg = { 0 };
	const char *sockname = NULL, *connect = NULL, *sockdir;
	char endpoint[4096], err[ARGS_ERR_MAX];
	struct readycheck_target target;
	struct args_ready rg;
	struct args a;
	int c, rc, have;

	args_init(&a, argc, argv, opts, 0);
	args_ready_enable(&a, &rg);
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case O_SOCKNAME: sockname = a.arg; break;
		case O_CONNECT: connect = a.arg; break;
		case O_OUT: cfg.out = a.arg; break;
		case O_JSONL: cfg.jsonl = true; break;
		case O_FORCE: cfg.force = true; break;
		}
	}
	if ((rc = args_finish(&a, c, USAGE "\n" HELP)) != ARGS_RUN)
		return rc;
	if (!cfg.out || !*cfg.out)
		return args_usage_error("--out FILE is required");
	/* Under metricsd launch, the socket directory is also in the
	 * environment: --socket-name alone then means a socket there. */
	sockdir = rg.socket_dir;
	if (!sockdir && sockname && getenv(READYCHECK_ENV_SOCKET_DIR) &&
	    *getenv(READYCHECK_ENV_SOCKET_DIR))
		sockdir = getenv(READYCHECK_ENV_SOCKET_DIR);
	if (connect && sockname)
		return args_usage_error("--connect and --socket-name exclude "
		    "each other");
	if (!connect && !(sockdir && sockname))
		return args_usage_error("say where the publisher is: "
		    "--socket-dir DIR --socket-name NAME, or --connect "
		    "ENDPOINT");
	if (connect) {
		if (!*connect)
			return args_usage_error("--connect: empty value");
		snprintf(endpoint, sizeof(endpoint), "%s", connect);
	} else if ((size_t)snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s",
	    sockdir, sockname) >= sizeof(endpoint)) {
		return args_usage_error("--socket-dir/--socket-name: endpoint "
		    "too long");
	}
	cfg.endpoint = endpoint;
	/* The readiness target now, so a bad one is a usage error before
	 * anything is created. */
	have = args_ready_resolve(&rg, ARGS_READY_SOCKET_DIR_SHARED, &target,
	    err, sizeof(err));
	if (have < 0)
		return args_usage_error("%s", err);
	cfg.ready = have ? &target : NULL;
	return record_run(&cfg);
}
