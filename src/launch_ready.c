/*
 * metricsd launch: the readiness receivers. Each way a service says it
 * is ready ends in launch_mark_ready(), which the phase machine in
 * cmd_launch.c turns into starting what waits (after =) and, once all
 * are ready, the summary line and COMMAND:
 *   ready = zmq      one ZMQ PULL receiver (readycheck.c) for all;
 *   ready = notify   one datagram socket per service (sdnotify.c);
 *   ready = tcp/http a probe per service (launch_probe.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>
#include <zmq.h>

#include "launch_int.h"
#include "modes.h"
#include "sdnotify.h"

void
launch_ready_close(struct launcher *L)
{
	uv_timer_stop(&L->ready_timer);
	if (L->rx_open) {
		L->rx_open = false;
		readycheck_receiver_close(&L->rx, NULL);
	}
	for (size_t i = 0; i < L->n; i++)
		if (L->svc[i].cfg->ready == LAUNCH_READY_TCP ||
		    L->svc[i].cfg->ready == LAUNCH_READY_HTTP)
			launch_probe_stop(&L->svc[i].probe, NULL);
}

static void
on_notify_closed(uv_handle_t *h)
{
	struct svc *s = h->data;

	close(s->nfd);
	s->nfd = -1;
	launch_maybe_close_all(s->L);
}

void
launch_notify_close(struct svc *s)
{
	if (!s->npoll_open)
		return;
	s->npoll_open = false;
	uv_close((uv_handle_t *)&s->npoll, on_notify_closed);
}

static struct svc *
svc_by_id(struct launcher *L, int64_t id)
{
	if (id < 1 || (uint64_t)id > L->n)
		return NULL;
	return &L->svc[id - 1];
}

static void
on_readycheck(struct readycheck_receiver *r, enum readycheck_event ev,
    int64_t id, void *arg)
{
	struct launcher *L = arg;
	struct svc *s = svc_by_id(L, id);

	(void)r;
	switch (ev) {
	case READYCHECK_READY:
		if (s)
			launch_mark_ready(s, "zmq");
		break;
	case READYCHECK_DUPLICATE:
		log_ratelimited(&L->rl, "ready-check: duplicate identity %"
		    PRId64 " (service '%s', pid %d) ignored", id,
		    s ? s->cfg->name : "?", s ? (int)s->pid : 0);
		break;
	case READYCHECK_UNKNOWN:
		log_ratelimited(&L->rl, "ready-check on %s: unknown identity %"
		    PRId64 " ignored", L->ready_ep, id);
		break;
	case READYCHECK_MALFORMED:
		log_ratelimited(&L->rl, "ready-check on %s: malformed frame "
		    "ignored (want exactly one MessagePack integer)", L->ready_ep);
		break;
	case READYCHECK_ERROR:
		log_warn("ready-check on %s: %s", L->ready_ep,
		    zmq_strerror((int)-id));
		if (L->phase == PH_STARTING) {
			L->exit_code = EXIT_FAIL;
			launch_stop_all(L, SIGTERM);
		}
		break;
	case READYCHECK_DONE:
	case READYCHECK_TIMEOUT:
		break;	/* the launcher keeps its own deadline */
	}
}

/*
 * A datagram on a service's notify socket. The socket lives in our own
 * directory, but check who is talking anyway: our user, and the service
 * or a process in its group (a helper like systemd-notify). A sender
 * that has already exited cannot be looked up; its uid was checked.
 */
static bool
notify_sender_ok(struct svc *s, const struct sdnotify_msg *m)
{
	pid_t g;

	if (!m->has_cred || (m->uid != getuid() && m->uid != 0)) {
		log_ratelimited(&s->L->rl, "service '%s' (pid %d): notify "
		    "message from uid %d ignored", s->cfg->name, (int)s->pid,
		    m->has_cred ? (int)m->uid : -1);
		return false;
	}
	if (m->pid != s->pid && (g = getpgid(m->pid)) >= 0 && g != s->pid) {
		log_ratelimited(&s->L->rl, "service '%s' (pid %d): notify "
		    "message from unrelated pid %d ignored", s->cfg->name,
		    (int)s->pid, (int)m->pid);
		return false;
	}
	return true;
}

static void
on_notify(uv_poll_t *h, int status, int events)
{
	struct svc *s = h->data;
	struct sdnotify_msg m;
	const char *line;
	size_t pos;

	(void)events;
	if (status < 0) {
		log_warn("service '%s' (pid %d): notify socket: %s",
		    s->cfg->name, (int)s->pid, uv_strerror(status));
		launch_notify_close(s);
		return;
	}
	/* Level-triggered: what the budget leaves comes back next turn. */
	for (int budget = 64; budget > 0; budget--) {
		if (sdnotify_recv(s->nfd, &m) <= 0)
			return;
		if (m.truncated) {
			log_ratelimited(&s->L->rl, "service '%s' (pid %d): "
			    "notify message too long, ignored", s->cfg->name,
			    (int)s->pid);
			continue;
		}
		if (!notify_sender_ok(s, &m))
			continue;
		for (pos = 0; (line = sdnotify_next_line(&m, &pos));) {
			if (strcmp(line, "READY=1") == 0)
				launch_mark_ready(s, "notify");
			else if (strncmp(line, "STATUS=", 7) == 0)
				log_info("service '%s' (pid %d) status: %.200s",
				    s->cfg->name, (int)s->pid, line + 7);
		}
		if (s->exited || s->L->phase == PH_DONE)
			return;
	}
}

static int
notify_open(struct launcher *L, struct svc *s, size_t idx)
{
	char err[PATH_MAX + 128];
	int n;

	n = snprintf(s->npath, sizeof(s->npath), "%s/" LAUNCH_NOTIFY_NAME,
	    L->sd.path, (int)getpid(), idx);
	if (n < 0 || (size_t)n >= sizeof(s->npath)) {
		log_warn("service '%s': notify socket path in %s is too long "
		    "(limit %zu bytes)", s->cfg->name, L->sd.path,
		    sizeof(s->npath) - 1);
		return -ENAMETOOLONG;
	}
	if ((s->nfd = sdnotify_listen(s->npath, err, sizeof(err))) < 0) {
		n = s->nfd;
		s->nfd = -1;
		log_warn("service '%s': %s", s->cfg->name, err);
		return n;
	}
	uv_poll_init(&L->loop, &s->npoll, s->nfd);
	s->npoll.data = s;
	s->npoll_open = true;
	uv_poll_start(&s->npoll, UV_READABLE, on_notify);
	return 0;
}

/*
 * Resolve the host of every tcp:// and http:// readiness URL now,
 * before anything starts, so that a typo is a config error (exit 2)
 * and no lookup ever blocks the loop.
 */
int
launch_probes_init(struct launcher *L)
{
	char err[512];
	int bad = 0;

	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		if (s->cfg->ready != LAUNCH_READY_TCP &&
		    s->cfg->ready != LAUNCH_READY_HTTP)
			continue;
		if (launch_probe_init(&s->probe, s->cfg->ready, &s->cfg->url,
		    err, sizeof(err)) < 0) {
			log_warn("%s:%d: service '%s': ready: %s", L->cfg.path,
			    s->cfg->ready_line ? s->cfg->ready_line :
			    s->cfg->line, s->cfg->name, err);
			bad++;
		}
		s->probe.data = s;
	}
	return bad ? -ENOENT : 0;
}

static void
on_probe_ready(struct launch_probe *pr)
{
	struct svc *s = pr->data;

	launch_probe_stop(pr, NULL);
	launch_mark_ready(s, launch_ready_name(s->cfg->ready));
}

/* Start polling a tcp:// or http:// service, just spawned. */
int
launch_probe_begin(struct svc *s)
{
	int r = launch_probe_start(&s->probe, &s->L->loop, on_probe_ready);

	if (r < 0)
		log_warn("service '%s': start readiness probe: %s",
		    s->cfg->name, uv_strerror(r));
	return r;
}

/*
 * Open what tells us services are ready: a notify socket per notify
 * service, and the one ZMQ PULL receiver for all zmq services. Returns
 * 0 or -1 (said why).
 */
int
launch_ready_open(struct launcher *L)
{
	int64_t *ids;
	size_t nzmq = 0;
	char err[512];
	int r = -1;

	if (!(ids = calloc(L->n + 1, sizeof(*ids)))) {
		log_warn("out of memory");
		return -1;
	}
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		s->nfd = -1;
		if (s->cfg->ready == LAUNCH_READY_ZMQ)
			ids[nzmq++] = s->id;
		else if (s->cfg->ready == LAUNCH_READY_NOTIFY &&
		    notify_open(L, s, i) < 0)
			goto out;
	}
	if (nzmq > 0) {
		if (!(L->zctx = zmq_ctx_new())) {
			log_warn("zmq_ctx_new: %s", zmq_strerror(errno));
			goto out;
		}
		/* The receiver copies ids. */
		if (readycheck_receiver_open(&L->rx, &L->loop, L->zctx,
		    L->ready_ep, ids, nzmq, 0, on_readycheck, L, err,
		    sizeof(err)) < 0) {
			log_warn("ready-check receiver: %s", err);
			goto out;
		}
		L->rx_open = true;
	}
	r = 0;
out:
	free(ids);
	return r;
}

