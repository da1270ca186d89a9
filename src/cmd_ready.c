/*
 * metricsd ready: send one ready-check frame to a launcher and exit.
 * For shell-script services run by `metricsd launch` with ready = zmq:
 * the launcher's environment says where and as whom.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "modes.h"
#include "readycheck.h"

static const char usage_text[] =
    "usage: metricsd ready [--endpoint ENDPOINT | --socket-dir DIR "
    "--readiness-path P] [--readiness-id I]\n"
    "\n"
    "Tell the launcher this service is ready: connect a ZMQ PUSH socket to\n"
    "the endpoint and send the identity as one MessagePack integer.\n"
    "\n"
    "  --endpoint ENDPOINT   full ZMQ endpoint (ipc://..., tcp://...)\n"
    "  --socket-dir DIR      directory of the launcher's sockets\n"
    "                        (default $" READYCHECK_ENV_SOCKET_DIR ")\n"
    "  --readiness-path P    socket name in DIR: ipc://DIR/P\n"
    "  --readiness-id I      identity to send (default $" READYCHECK_ENV_ID ")\n"
    "\n"
    "Without options the endpoint is $" READYCHECK_ENV_ENDPOINT ", as set by\n"
    "metricsd launch. Gives up after about 3 s when nobody receives.\n"
    "Exit status: 0 sent, 1 not delivered, 2 usage error.\n";

int
ready_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "socket-dir", required_argument, NULL, 'd' },
		{ "readiness-path", required_argument, NULL, 'p' },
		{ "readiness-id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *endpoint = NULL, *dir = NULL, *path = NULL, *id = NULL;
	struct readycheck_target t;
	char err[512];
	int c, r;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': endpoint = optarg; break;
		case 'd': dir = optarg; break;
		case 'p': path = optarg; break;
		case 'i': id = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_warn("unexpected argument '%s'", argv[optind]);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (endpoint && path) {
		log_warn("--endpoint and --readiness-path exclude each other");
		return EXIT_USAGE;
	}
	if (dir && !path) {
		log_warn("--socket-dir needs --readiness-path");
		return EXIT_USAGE;
	}
	r = readycheck_target_resolve(&t, endpoint, dir, path, id, err,
	    sizeof(err));
	if (r < 0) {
		log_warn("%s", err);
		return EXIT_USAGE;
	}
	r = readycheck_send(t.endpoint, t.id, READYCHECK_LINGER_MS, err,
	    sizeof(err));
	if (r < 0) {
		log_warn("%s", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
