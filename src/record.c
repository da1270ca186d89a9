/*
 * The record service (record.h): a SUB socket on a libuv loop, as in
 * aggregate, feeding a recording writer (rec.h).
 *
 * Start-up order, as in aggregate and for the same reasons: the socket is
 * connected first (a bad endpoint leaves no file behind), then the file
 * is created with its header, then the loop is armed, and only then is
 * readiness signalled, so a launcher that starts the benchmark on our
 * "ready" loses nothing that reached the socket.
 *
 * Stopping. session.ended (decoded from the payload as aggregate decodes
 * it, in single and batch frames) ends the recording after the frame
 * that carries it, which is kept whole; SIGTERM/SIGINT (uv_signal: the
 * handler does no work) end it after the last frame received. Either
 * way the writer is flushed and the file fsync'ed before we exit: the
 * file is complete up to its last whole frame. A write error (full disk,
 * file size limit) stops us at once, with the file cut back to its last
 * whole frame (rec_write.c).
 *
 * The writer's buffer is large (REC_BUFFER_DEFAULT) for fast streams; a
 * timer also flushes it every FLUSH_INTERVAL_MS, so on a slow stream a
 * recorder killed with SIGKILL loses at most about a second of frames
 * (and a full disk shows within a second).
 *
 * Finding session.ended without decoding every frame. An event's type is
 * a MessagePack string inside the frame, so a frame that carries a
 * session.ended event holds the 13 bytes "session.ended" somewhere in its
 * payload. Frames without them (nearly all) are only searched, not
 * decoded; the others are decoded to be sure. That keeps recording
 * cheaper than aggregating the same frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>
#include <zmq.h>

#include "clock.h"
#include "event.h"
#include "event_json.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "rec.h"
#include "record.h"
#include "uvzmq.h"
#include "wire.h"

/* Frames handled per loop iteration before the loop gets a turn. */
#define FRAME_BUDGET 1024

#define ENDED_NAME "session.ended"

#define FLUSH_INTERVAL_MS 1000

struct rec_svc {
	const struct record_config *c;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	uv_timer_t flush;
	struct uvzmq uz;
	bool uz_open;
	void *ctx, *sub;
	struct rec_writer *w;
	struct wire_decoder *dec;
	bool ended;		/* the decoded frame holds session.ended */
	bool stopping;
	bool session_ended;
	int status;
	uint64_t frames, oversized, unconverted;
	struct log_ratelimit rl;
};

static void
stop(struct rec_svc *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	if (s->uz_open)
		uvzmq_close(&s->uz, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->flush, NULL);
}

static void
on_flush(uv_timer_t *t)
{
	struct rec_svc *s = t->data;

	if (rec_writer_flush(s->w) < 0) {
		log_warn("%s", rec_writer_error(s->w));
		s->status = EXIT_FAIL;
		stop(s);
	}
}

/* Decoder callback in raw mode: only looks for the end. */
static int
on_event_raw(void *arg, const struct event *ev)
{
	struct rec_svc *s = arg;

	if (ev->type == EVENT_SESSION_ENDED)
		s->ended = true;
	return 0;
}

/* Decoder callback in JSON lines mode: one line per event. */
static int
on_event_json(void *arg, const struct event *ev)
{
	struct rec_svc *s = arg;
	json_t *o;
	char *text;
	int rc;

	if (ev->type == EVENT_SESSION_ENDED)
		s->ended = true;
	if (!(o = event_json_build(ev)) ||
	    !(text = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		log_warn("converting an event to JSON: out of memory");
		s->status = EXIT_FAIL;
		return 1;
	}
	json_decref(o);
	rc = rec_writer_line(s->w, text, strlen(text));
	free(text);
	return rc < 0;
}

static bool
may_hold_end(const void *frame, size_t len)
{
	return len > WIRE_TOPIC_LEN && memmem((const char *)frame +
	    WIRE_TOPIC_LEN, len - WIRE_TOPIC_LEN, ENDED_NAME,
	    sizeof(ENDED_NAME) - 1) != NULL;
}

static void
on_frame(struct uvzmq *z, zmq_msg_t *msg, void *arg)
{
	struct rec_svc *s = arg;
	struct wire_frame_stats st;
	const void *data;
	size_t len;
	int rc = 0;

	if (!msg) {
		log_warn("receiving from %s: %s", s->c->endpoint,
		    zmq_strerror(-uvzmq_error(z)));
		s->status = EXIT_FAIL;
		stop(s);
		return;
	}
	if (s->stopping)
		return;
	data = zmq_msg_data(msg);
	len = zmq_msg_size(msg);
	s->frames++;
	if (s->c->jsonl) {
		wire_frame_decode(s->dec, data, len, &st);
		if (st.nerrors || st.ignored) {
			s->unconverted++;
			log_ratelimited(&s->rl, "a %zu-byte frame from %s has "
			    "no JSON form (%s); not in %s", len,
			    s->c->endpoint, st.ignored ? "no payload" : st.err,
			    s->c->out);
		}
	} else {
		rc = rec_writer_frame(s->w, clock_now_ns(), data, len);
		if (rc == -EMSGSIZE) {
			s->oversized++;
			log_ratelimited(&s->rl, "a %zu-byte frame from %s is "
			    "over the recording limit of %u bytes; not "
			    "recorded", len, s->c->endpoint, REC_FRAME_MAX);
			rc = 0;
		} else if (rc == 0 && may_hold_end(data, len)) {
			wire_frame_decode(s->dec, data, len, &st);
		}
	}
	if (rec_writer_error(s->w)[0]) {
		log_warn("%s", rec_writer_error(s->w));
		s->status = EXIT_FAIL;
		stop(s);
		return;
	}
	if (s->status == EXIT_FAIL || s->ended) {
		s->session_ended = s->ended;
		stop(s);
	}
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct rec_svc *s = h->data;

	log_info("%s: stopping; the recording ends at the last frame "
	    "received", strsignal(signum));
	stop(s);
}

/* 3. The loop, armed; 4. ready: socket connected, file created, loop
 * armed. Returns -1 if the loop cannot run (its handles are closed). */
static int
arm(struct rec_svc *s)
{
	const struct record_config *c = s->c;
	char err[REC_ERR_MAX];
	int rc;

	uv_signal_init(&s->loop, &s->sigterm);
	uv_signal_init(&s->loop, &s->sigint);
	uv_timer_init(&s->loop, &s->flush);
	s->sigterm.data = s->sigint.data = s->flush.data = s;
	err[0] = '\0';
	if ((rc = uv_signal_start(&s->sigterm, on_signal, SIGTERM)) < 0 ||
	    (rc = uv_signal_start(&s->sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uv_timer_start(&s->flush, on_flush, FLUSH_INTERVAL_MS,
	    FLUSH_INTERVAL_MS)) < 0 ||
	    (rc = uvzmq_init(&s->uz, &s->loop, s->sub, FRAME_BUDGET, on_frame,
	    s, err, sizeof(err))) < 0) {
		log_warn("setting up the loop: %s", err[0] ? err :
		    uv_strerror(rc));
		s->status = EXIT_FAIL;
		stop(s);
		uv_run(&s->loop, UV_RUN_DEFAULT);
		return -1;
	}
	s->uz_open = true;
	log_info("subscribed to %s; recording to %s%s", c->endpoint, c->out,
	    c->jsonl ? " (JSON lines)" : "");
	if (c->ready && readycheck_send(c->ready->endpoint, c->ready->id,
	    READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("signalling readiness: %s", err);
		s->status = EXIT_FAIL;
		stop(s);
	}
	return 0;
}

/* The file closed (flushed and fsync'ed), and what was recorded said. */
static void
close_file(struct rec_svc *s)
{
	const struct record_config *c = s->c;
	char err[REC_ERR_MAX];

	if (s->w) {
		uint64_t n = rec_writer_frames(s->w);
		uint64_t bytes = rec_writer_bytes(s->w);
		bool broken = rec_writer_error(s->w)[0] != '\0';

		/* The error was logged when it happened: not twice. */
		if (rec_writer_close(s->w, true, err, sizeof(err)) < 0) {
			if (!broken)
				log_warn("%s", err);
			s->status = EXIT_FAIL;
		} else if (s->status == EXIT_OK) {
			log_info("%s after %" PRIu64 " frames: %" PRIu64
			    " %s (%" PRIu64 " bytes) in %s", s->session_ended ?
			    "session ended" : "stopped", s->frames, n,
			    c->jsonl ? "lines" : "frames", bytes, c->out);
		}
		s->w = NULL;
	}
	if (s->oversized) {
		log_warn("%" PRIu64 " frame(s) over %u bytes were not "
		    "recorded", s->oversized, REC_FRAME_MAX);
		s->status = EXIT_FAIL;
	}
	if (s->unconverted) {
		log_warn("%" PRIu64 " frame(s) without a JSON form were not "
		    "recorded (the recording format keeps every frame)",
		    s->unconverted);
		s->status = EXIT_FAIL;
	}
}

int
record_run(const struct record_config *c)
{
	static struct rec_svc s;	/* outlives every handle */
	struct rec_writer_opts wo = {
		.mode = c->jsonl ? REC_JSONL : REC_RAW,
		.force = c->force,
		.wire = REC_WIRE_V1,
	};
	char err[REC_ERR_MAX];
	bool loop_open = false;
	int rc;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.status = EXIT_OK;
	s.rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000000ULL, 5);
	/* A file growing past RLIMIT_FSIZE must be a write error (EFBIG),
	 * cut back cleanly, not a SIGXFSZ that kills us mid-frame. */
	signal(SIGXFSZ, SIG_IGN);

	/* 1. The socket: a bad endpoint fails here, before the file. */
	if (uvzmq_sub_open(&s.ctx, &s.sub, c->endpoint, err,
	    sizeof(err)) < 0) {
		log_warn("%s", err);
		s.status = EXIT_FAIL;
		goto out;
	}
	if ((rc = wire_decoder_new(&s.dec, c->jsonl ? on_event_json :
	    on_event_raw, &s, err, sizeof(err))) < 0) {
		log_warn("%s", err);
		s.status = EXIT_FAIL;
		goto out;
	}
	/* Raw mode decodes only to find the end: ids are not needed. */
	wire_decoder_set_token_ids(s.dec, c->jsonl);
	/* 2. The file, with its header. */
	if ((rc = rec_writer_open(&s.w, c->out, &wo, err, sizeof(err))) < 0) {
		log_warn("%s%s", err, rc == -EEXIST ? " (--force replaces it)"
		    : "");
		s.status = EXIT_FAIL;
		goto out;
	}
	/* 3. The loop; 4. ready. */
	if ((rc = uv_loop_init(&s.loop)) < 0) {
		log_warn("uv_loop_init: %s", uv_strerror(rc));
		s.status = EXIT_FAIL;
		goto out;
	}
	loop_open = true;
	if (arm(&s) == 0)
		uv_run(&s.loop, UV_RUN_DEFAULT);
out:
	close_file(&s);
	if (s.dec)
		wire_decoder_free(s.dec);
	if (s.sub)
		zmq_close(s.sub);
	if (s.ctx)
		zmq_ctx_term(s.ctx);
	if (loop_open && uv_loop_close(&s.loop) < 0)
		log_warn("closing the loop: handles still open");
	return s.status;
}
