/*
 * metricsd ready: send one ready-check frame to a launcher and exit.
 * For shell-script services run by `metricsd launch` with ready = zmq:
 * the launcher's environment says where and as whom.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"

static const char usage_text[] =
    "usage: metricsd ready [--ready-endpoint ENDPOINT | --socket-dir DIR "
    "--readiness-path P]\n"
    "                      [--readiness-id I]\n"
    "\n"
    "Tell the launcher this service is ready: connect a ZMQ PUSH socket to\n"
    "the endpoint and send the identity as one MessagePack integer.\n"
    "\n"
    "  --ready-endpoint ENDPOINT  full ZMQ endpoint (ipc://..., tcp://...);\n"
    "                        also spelled --endpoint or --ready\n"
    "  --socket-dir DIR      directory of the launcher's sockets\n"
    "                        (default $" READYCHECK_ENV_SOCKET_DIR ")\n"
    "  --readiness-path P    socket name in DIR: ipc://DIR/P\n"
    "  --readiness-id I      identity to send (default $" READYCHECK_ENV_ID ")\n"
    "\n"
    "Without options the endpoint is $" READYCHECK_ENV_ENDPOINT ", as set by\n"
    "metricsd launch. Gives up after about 1 s when nobody receives (2 s at most).\n"
    "Exit status: 0 sent, 1 not delivered, 2 usage error.\n";

/* Send one ready-check to t. Returns the exit status. */
static int
ready_run(const struct readycheck_target *t)
{
	char err[512];

	if (readycheck_send(t->endpoint, t->id, READYCHECK_LINGER_MS, err,
	    sizeof(err)) < 0) {
		log_warn("%s", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
ready_main(int argc, char **argv)
{
	struct readycheck_target t;
	struct args_ready rg;
	char err[ARGS_ERR_MAX];
	struct args a;
	int c, rc;

	/* In order: nothing after an operand is ours. */
	args_init(&a, argc, argv, NULL, ARGS_IN_ORDER);
	args_ready_enable(&a, &rg);
	c = args_next(&a);	/* the group takes every option there is */
	if ((rc = args_finish(&a, c, usage_text)) != ARGS_RUN)
		return rc;
	if (args_ready_resolve(&rg, ARGS_READY_REQUIRED, &t, err,
	    sizeof(err)) < 0)
		return args_usage_error("%s", err);
	return ready_run(&t);
}
