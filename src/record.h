/*
 * The record service: subscribe to a benchmark's event stream exactly as
 * `metricsd aggregate` does and keep every frame in a file (rec.h), with
 * its receive time, until session.ended or SIGTERM/SIGINT.
 *
 * This is a service body, called by the mode main once the command line
 * is parsed: it logs what it does (with the mode's prefix) and returns
 * the exit status.
 */
#ifndef METRICSD_RECORD_H
#define METRICSD_RECORD_H

#include <stdbool.h>

struct readycheck_target;

struct record_config {
	const char *endpoint;	/* the publisher: ipc://... or tcp://... */
	const char *out;	/* the file to create */
	bool jsonl;		/* JSON lines instead of the recording format */
	bool force;		/* replace an existing regular file */
	/* where to signal readiness, or NULL */
	const struct readycheck_target *ready;
};

/*
 * Connect, create the file, signal readiness, record. Returns EXIT_OK
 * when the session ended or a signal stopped us and the file is
 * complete, EXIT_FAIL when the socket, the file or a write failed (the
 * file then still ends on a whole frame; the log says where).
 */
int record_run(const struct record_config *c);

#endif
