/*
 * The aggregate service, behind `metricsd aggregate` (metricsd(1),
 * "metricsd aggregate"): subscribe to a benchmark's event stream and keep its
 * metrics in a store. The mode main parses the command line into struct
 * aggregate_opts and calls aggregate_run.
 *
 * A long-running service: it logs as it runs (start-up failures, bad
 * input and store errors at a bounded rate, how it stopped) through
 * log.h, and never exits.
 */
#ifndef METRICSD_AGGREGATE_H
#define METRICSD_AGGREGATE_H

#include "aggregator.h"
#include "readycheck.h"

struct aggregate_opts {
	const char *endpoint;		/* the publisher: ipc:// or tcp:// */
	/* Or a recording (metricsd-recording(5)) to aggregate from, with no
	 * socket; endpoint is then NULL. */
	const char *replay;
	const char *dir;		/* the store directory */
	struct aggregator_config cfg;	/* --streaming, --tokenizer,
					   --token-threads, --token-queue */
	/* Whom to tell when ready (socket connected, store created, loop
	 * armed); NULL: nobody. */
	const struct readycheck_target *ready;
};

/*
 * Run until session.ended (the store is marked FINAL) or SIGTERM/SIGINT
 * (INTERRUPTED). With replay, the recorded frames go through the same
 * decoder and engine as the socket's, in file order, until session.ended
 * (FINAL) or the end of the file or a signal (INTERRUPTED); a recording
 * that cannot be read, or is cut inside a frame (its whole frames are
 * still aggregated), fails it. Either way, token counts still queued for
 * token threads are finished before the store is marked (a signal during
 * that wait abandons them: token_work_pending keeps their number).
 * Returns 0; 1 when the run ended but values were dropped (the store
 * refused them: the store is marked incomplete, see
 * store_writer_mark_incomplete; or token counts were abandoned); or -1
 * when something failed (already
 * logged): the socket, the store, the loop, signalling readiness,
 * receiving, or closing the store. Bad input never fails it: the engine
 * counts it in the decode_* keys.
 */
int aggregate_run(const struct aggregate_opts *o);

#endif
