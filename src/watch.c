/* The --watch loop of the reader modes; see watch.h. */
#include <signal.h>
#include <stdio.h>

#include <uv.h>

#include "watch.h"

struct watch {
	uv_loop_t loop;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
	bool (*draw)(void *arg);
	void *arg;
};

static void
watch_stop(struct watch *w)
{
	if (uv_is_closing((uv_handle_t *)&w->timer))
		return;
	uv_close((uv_handle_t *)&w->timer, NULL);
	uv_close((uv_handle_t *)&w->sigint, NULL);
	uv_close((uv_handle_t *)&w->sigterm, NULL);
}

static void
on_tick(uv_timer_t *t)
{
	struct watch *w = t->data;

	if (!w->draw(w->arg))
		watch_stop(w);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	watch_stop(s->data);
}

int
watch_loop(uint64_t interval_ms, bool (*draw)(void *arg), void *arg,
    char *err, size_t errlen)
{
	struct watch w = { .draw = draw, .arg = arg };
	int rc;

	if (interval_ms == 0)
		interval_ms = 1;
	if ((rc = uv_loop_init(&w.loop)) < 0) {
		snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(rc));
		return rc;
	}
	w.timer.data = w.sigint.data = w.sigterm.data = &w;
	uv_timer_init(&w.loop, &w.timer);
	uv_signal_init(&w.loop, &w.sigint);
	uv_signal_init(&w.loop, &w.sigterm);
	if ((rc = uv_signal_start(&w.sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uv_signal_start(&w.sigterm, on_signal, SIGTERM)) < 0 ||
	    (rc = uv_timer_start(&w.timer, on_tick, 0, interval_ms)) < 0) {
		snprintf(err, errlen, "starting the watch loop: %s",
		    uv_strerror(rc));
		watch_stop(&w);
		uv_run(&w.loop, UV_RUN_DEFAULT);
		uv_loop_close(&w.loop);
		return rc;
	}
	uv_run(&w.loop, UV_RUN_DEFAULT);
	/* Every handle is closed once the loop has run dry. */
	uv_loop_close(&w.loop);
	return 0;
}
