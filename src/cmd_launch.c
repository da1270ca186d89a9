/*
 * metricsd launch: start the services of a services.conf, wait until all
 * of them are ready under one total deadline, then run COMMAND (or keep
 * supervising), and tear everything down without leaving a process
 * behind. The config format is in launch_config.c and metricsd.conf(5);
 * how orphans are prevented is explained in launch_exec.c.
 *
 * Everything runs on one libuv loop: process exits, output pipes, the
 * ready-check PULL socket (through uvzmq), the notify datagram sockets,
 * the signals and the three timers (start-up deadline, exit deadline,
 * kill grace period). The phases:
 *
 *   STARTING  spawned, waiting for readiness; any exit is a failure
 *   RUNNING   all ready; COMMAND runs, or we just supervise
 *   ENDING    COMMAND finished; services get exit_timeout to exit
 *   STOPPING  signals sent; SIGKILL for whoever outlives kill_grace
 *   DONE      everyone is gone; handles are being closed
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include <zmq.h>

#include "launch_argv.h"
#include "launch_config.h"
#include "launch_exec.h"
#include "launch_lines.h"
#include "launch_out.h"
#include "launch_probe.h"
#include "launch_sockdir.h"
#include "launch_spawn.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "sdnotify.h"

extern char **environ;

static const char usage_text[] =
    "usage: metricsd launch [--dry-run] services.conf [-- COMMAND [ARG...]]\n"
    "\n"
    "Start every [service NAME] of services.conf, wait until all are ready\n"
    "(one total deadline), print a one-line summary, then run COMMAND and\n"
    "exit with its status; without COMMAND, supervise until the services\n"
    "exit or launch is signalled. SIGINT/SIGTERM are forwarded to every\n"
    "service, then stragglers are killed after the grace period.\n"
    "\n"
    "  -n, --dry-run   check services.conf, print the plan, start nothing\n"
    "  -h, --help      this text\n"
    "\n"
    "See metricsd.conf(5) for the file format.\n"
    "Exit status: COMMAND's status; else 0 when all went well, 1 when a\n"
    "service failed or was not ready in time, 2 for usage or config errors.\n";

enum phase { PH_STARTING, PH_RUNNING, PH_ENDING, PH_STOPPING, PH_DONE };

struct launcher;
struct svc;

/*
 * A process we started (a service or COMMAND): watched through its pidfd
 * on the loop (see launch_spawn.c for why). Once it has exited it stays
 * an unreaped zombie, keeping its pid and process group id reserved,
 * until proc_release(): so signalling its group is always safe.
 */
struct proc {
	struct launcher *L;
	pid_t pid;
	int pidfd;
	uv_poll_t poll;
	bool started;		/* spawned; pid and pidfd are valid */
	bool exited;		/* or given up on */
	bool released;
	int status, termsig;
	void (*on_exit)(struct proc *p);
	void *arg;
};

struct stream {
	uv_pipe_t pipe;
	struct launch_lines lines;
	struct svc *s;
	int fd_out;		/* where prefixed lines go: 1 or 2 */
	bool open;
};

struct svc {
	struct launcher *L;
	struct launch_service *cfg;
	int64_t id;		/* ready-check identity */
	struct proc proc;
	pid_t pid;
	bool spawned, exited, ready, sigkilled;
	bool signalled;		/* we sent its group a signal */
	int64_t status;
	int termsig;
	struct stream out, err;
	/* ready = notify */
	int nfd;
	uv_poll_t npoll;
	bool npoll_open;
	char npath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* ready = tcp:// or http:// */
	struct launch_probe probe;
};

struct launcher {
	uv_loop_t loop;
	void *zctx;
	struct launch_config cfg;
	struct svc *svc;
	size_t n;
	struct launch_sockdir sd;	/* created by the watchdog */
	char ready_path[64];
	char ready_ep[READYCHECK_ENDPOINT_MAX];
	struct readycheck_receiver rx;
	bool rx_open;
	uv_timer_t ready_timer, exit_timer, grace_timer, drain_timer;
	int grace_stage;	/* 1: SIGTERM sent; 2: SIGKILL sent */
	uv_signal_t sigint, sigterm, sighup;
	bool handles_open;
	struct launch_out out[3];	/* our fds 1 and 2, non-blocking */
	/* COMMAND */
	char **cmd;
	struct proc cmdproc;
	pid_t cmdpid;
	bool cmd_running;
	bool cmd_signalled;	/* we sent its group a signal */
	/* state */
	enum phase phase;
	int exit_code;
	int signalled;		/* the signal we forwarded, or 0 */
	uint64_t t_start;
	pid_t wd_pid;
	int wd_fd;
	struct log_ratelimit rl;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
sig_name(int sig)
{
	static char buf[32];
	const char *abbr = sigabbrev_np(sig);

	if (abbr) {
		snprintf(buf, sizeof(buf), "SIG%s", abbr);
		return buf;
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

/* "exited with status N" / "was killed by SIGX" */
static const char *
describe_exit(int64_t status, int termsig)
{
	static char buf[64];

	if (termsig)
		snprintf(buf, sizeof(buf), "was killed by %s", sig_name(termsig));
	else
		snprintf(buf, sizeof(buf), "exited with status %" PRId64, status);
	return buf;
}

static double
secs(uint64_t ms)
{
	return (double)ms / 1000.0;
}

/* ---- output passthrough ------------------------------------------------ */

static void
emit_line(const char *line, size_t len, bool whole, void *arg)
{
	struct stream *st = arg;
	char buf[LAUNCH_NAME_MAX + 3 + LAUNCH_LINES_CAP + 1];
	size_t nl = strlen(st->s->cfg->name);

	(void)whole;
	/* One write per line keeps lines whole on a shared pipe. */
	memcpy(buf, st->s->cfg->name, nl);
	memcpy(buf + nl, ": ", 2);
	memcpy(buf + nl + 2, line, len);
	buf[nl + 2 + len] = '\n';
	launch_out_write(&st->s->L->out[st->fd_out], buf, nl + 3 + len);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[65536];

	(void)h;
	(void)suggested;
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void maybe_close_all(struct launcher *L);

static void
on_stream_closed(uv_handle_t *h)
{
	struct stream *st = h->data;

	maybe_close_all(st->s->L);
}

static void
stream_close(struct stream *st)
{
	if (!st->open)
		return;
	st->open = false;
	launch_lines_flush(&st->lines, emit_line, st);
	uv_close((uv_handle_t *)&st->pipe, on_stream_closed);
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	struct stream *st = h->data;

	if (n > 0) {
		launch_lines_feed(&st->lines, buf->base, (size_t)n, emit_line, st);
	} else if (n < 0) {
		stream_close(st);
	}
}

/* ---- teardown ---------------------------------------------------------- */

static size_t
live_count(const struct launcher *L)
{
	size_t k = 0;

	for (size_t i = 0; i < L->n; i++)
		if (L->svc[i].spawned && !L->svc[i].exited)
			k++;
	return k;
}

static void
signal_group(struct svc *s, int sig)
{
	/* The service leads its own process group (spawned detached). */
	s->signalled = true;
	if (kill(-s->pid, sig) != 0 && errno == ESRCH)
		kill(s->pid, sig);
}

static void
close_readiness(struct launcher *L)
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

static void on_grace(uv_timer_t *t);
static void proc_release(struct proc *p, bool reap);
static void finish(struct launcher *L);

/* Send sig to every live service (and COMMAND), then give them
 * kill_grace before SIGKILL. */
static void
stop_all(struct launcher *L, int sig)
{
	L->phase = PH_STOPPING;
	close_readiness(L);
	uv_timer_stop(&L->exit_timer);
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		if (s->spawned && !s->exited)
			signal_group(s, sig);
	}
	if (L->cmd_running) {
		L->cmd_signalled = true;
		kill(-L->cmdpid, sig);
	}
	if (live_count(L) == 0 && !L->cmd_running) {
		finish(L);
		return;
	}
	L->grace_stage = 1;
	uv_timer_start(&L->grace_timer, on_grace, L->cfg.kill_grace_ms, 0);
}

static void
on_grace(uv_timer_t *t)
{
	struct launcher *L = t->data;

	if (L->grace_stage == 1) {
		for (size_t i = 0; i < L->n; i++) {
			struct svc *s = &L->svc[i];

			if (!s->spawned || s->exited)
				continue;
			log_warn("service '%s' (pid %d) still running %.1f s "
			    "after being asked to stop; killing it with SIGKILL",
			    s->cfg->name, (int)s->pid, secs(L->cfg.kill_grace_ms));
			s->sigkilled = true;
			signal_group(s, SIGKILL);
		}
		if (L->cmd_running) {
			log_warn("command (pid %d) still running %.1f s after "
			    "being asked to stop; killing it with SIGKILL",
			    (int)L->cmdpid, secs(L->cfg.kill_grace_ms));
			L->cmd_signalled = true;
			kill(-L->cmdpid, SIGKILL);
		}
		/* With COMMAND, its status stays launch's (we said what we
		 * killed); without, a kill means the stop was not clean. */
		if (!L->cmd)
			L->exit_code = EXIT_FAIL;
		/* SIGKILL cannot be ignored, but a process stuck in the
		 * kernel can outlive it: never wait forever. */
		L->grace_stage = 2;
		uv_timer_start(&L->grace_timer, on_grace, 5000, 0);
		return;
	}
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		if (s->spawned && !s->exited) {
			log_warn("service '%s' (pid %d) did not die 5 s after "
			    "SIGKILL; giving up on it", s->cfg->name, (int)s->pid);
			s->exited = true;
			s->proc.exited = true;
			proc_release(&s->proc, false);
		}
	}
	if (L->cmd_running) {
		log_warn("command (pid %d) did not die 5 s after SIGKILL; "
		    "giving up on it", (int)L->cmdpid);
		L->cmd_running = false;
		L->cmdproc.exited = true;
		proc_release(&L->cmdproc, false);
	}
	L->exit_code = EXIT_FAIL;
	finish(L);
}

static void
on_drain(uv_timer_t *t)
{
	struct launcher *L = t->data;

	/* Output of a process that outlived its service (it left the group
	 * and kept the pipe): stop waiting for it. */
	for (size_t i = 0; i < L->n; i++) {
		stream_close(&L->svc[i].out);
		stream_close(&L->svc[i].err);
	}
}

static void
on_notify_closed(uv_handle_t *h)
{
	struct svc *s = h->data;

	close(s->nfd);
	s->nfd = -1;
	maybe_close_all(s->L);
}

static void
close_notify(struct svc *s)
{
	if (!s->npoll_open)
		return;
	s->npoll_open = false;
	uv_close((uv_handle_t *)&s->npoll, on_notify_closed);
}

/*
 * Everyone has exited: flush and wait (briefly) for the output pipes to
 * reach end of file, then close every handle so uv_run() returns.
 */
static void
finish(struct launcher *L)
{
	bool pipes = false;

	if (L->phase == PH_DONE)
		return;
	L->phase = PH_DONE;
	close_readiness(L);
	uv_timer_stop(&L->exit_timer);
	uv_timer_stop(&L->grace_timer);
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		close_notify(s);
		/*
		 * Children the service left behind in its group go too. Its
		 * leader is still an unreaped zombie, so the group id is
		 * still this group's: the kill comes first, the reaping
		 * after. If we signalled the group, what is left is most
		 * likely still dying of it: only say so otherwise.
		 */
		if (s->spawned) {
			if (!s->signalled && launch_group_has_members(s->pid))
				log_warn("service '%s' (pid %d) left processes in "
				    "its process group; killing them",
				    s->cfg->name, (int)s->pid);
			kill(-s->pid, SIGKILL);
			proc_release(&s->proc, true);
		}
		pipes |= s->out.open || s->err.open;
	}
	/* COMMAND leads its own group too; the watchdog is about to be told
	 * "kill nothing", so what COMMAND left in it goes now, the same way. */
	if (L->cmdproc.started && !L->cmd_running) {
		if (!L->cmd_signalled && launch_group_has_members(L->cmdpid))
			log_warn("command (pid %d) left processes in its "
			    "process group; killing them", (int)L->cmdpid);
		kill(-L->cmdpid, SIGKILL);
		proc_release(&L->cmdproc, true);
	}
	if (pipes)
		uv_timer_start(&L->drain_timer, on_drain, 1000, 0);
	maybe_close_all(L);
}

static void
maybe_close_all(struct launcher *L)
{
	if (L->phase != PH_DONE || !L->handles_open)
		return;
	for (size_t i = 0; i < L->n; i++)
		if (L->svc[i].out.open || L->svc[i].err.open)
			return;
	L->handles_open = false;
	for (int fd = 1; fd <= 2; fd++) {
		struct launch_out *o = &L->out[fd];

		launch_out_close(o);
		if (o->dropped > 0)
			log_warn("dropped %" PRIu64 " bytes of service output "
			    "to standard %s: its reader did not keep up",
			    o->dropped, fd == 1 ? "output" : "error");
	}
	uv_close((uv_handle_t *)&L->ready_timer, NULL);
	uv_close((uv_handle_t *)&L->exit_timer, NULL);
	uv_close((uv_handle_t *)&L->grace_timer, NULL);
	uv_close((uv_handle_t *)&L->drain_timer, NULL);
	uv_close((uv_handle_t *)&L->sigint, NULL);
	uv_close((uv_handle_t *)&L->sigterm, NULL);
	uv_close((uv_handle_t *)&L->sighup, NULL);
}

/* ---- readiness --------------------------------------------------------- */

static void spawn_command(struct launcher *L);

/* Which services names_with_pids() lists. */
enum which { ALL, NOT_READY, RUNNING };

/* The name of the first service s still waits for. */
static const char *
first_waited(const struct launcher *L, const struct svc *s)
{
	for (size_t k = 0; k < s->cfg->nafter; k++)
		if (!L->svc[s->cfg->after[k]].ready)
			return L->svc[s->cfg->after[k]].cfg->name;
	return "?";
}

/*
 * "'a' (pid 1), 'b' (not started: waits for c)": the services of one
 * kind, for a log line; truncated to fit buf.
 */
static const char *
names_with_pids(const struct launcher *L, enum which w, bool quote, char *buf,
    size_t len)
{
	size_t off = 0, k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < L->n && off < len; i++) {
		const struct svc *s = &L->svc[i];
		const char *q = quote ? "'" : "";
		int n;

		if ((w == NOT_READY && s->ready) ||
		    (w == RUNNING && (!s->spawned || s->exited)))
			continue;
		if (s->spawned)
			n = snprintf(buf + off, len - off, "%s%s%s%s (pid %d)",
			    k++ ? ", " : "", q, s->cfg->name, q, (int)s->pid);
		else
			n = snprintf(buf + off, len - off, "%s%s%s%s (not "
			    "started: waits for %s)", k++ ? ", " : "", q,
			    s->cfg->name, q, first_waited(L, s));
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static void
check_all_ready(struct launcher *L)
{
	char summary[4096];

	if (L->phase != PH_STARTING)
		return;
	for (size_t i = 0; i < L->n; i++)
		if (!L->svc[i].ready)
			return;
	L->phase = PH_RUNNING;
	close_readiness(L);
	log_info("all %zu services ready in %" PRIu64 " ms: %s", L->n,
	    now_ms() - L->t_start, names_with_pids(L, ALL, false, summary,
	    sizeof(summary)));
	if (L->cmd)
		spawn_command(L);
}

static int spawn_service(struct launcher *L, struct svc *s);

/* Are all the services s waits for (after =) ready? */
static bool
deps_ready(const struct launcher *L, const struct svc *s)
{
	for (size_t k = 0; k < s->cfg->nafter; k++)
		if (!L->svc[s->cfg->after[k]].ready)
			return false;
	return true;
}

/*
 * Start every service not started yet whose after = services are all
 * ready, in the config's start order (so a chain of ready = none
 * services starts in one pass). Returns 0, or -1 when a spawn failed
 * (then everything is being stopped).
 */
static int
start_due(struct launcher *L)
{
	if (L->phase != PH_STARTING)
		return 0;
	for (size_t k = 0; k < L->n; k++) {
		struct svc *s = &L->svc[L->cfg.order[k]];

		if (s->spawned || !deps_ready(L, s))
			continue;
		if (spawn_service(L, s) < 0) {
			L->exit_code = EXIT_FAIL;
			stop_all(L, SIGTERM);
			return -1;
		}
	}
	return 0;
}

static void
mark_ready(struct svc *s, const char *how)
{
	(void)how;
	if (s->ready || s->exited)
		return;
	s->ready = true;
	if (start_due(s->L) == 0)
		check_all_ready(s->L);
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
			mark_ready(s, "zmq");
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
			stop_all(L, SIGTERM);
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
		close_notify(s);
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
				mark_ready(s, "notify");
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

	n = snprintf(s->npath, sizeof(s->npath), "%s/launch-notify-%d-%zu",
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

static void
on_ready_timeout(uv_timer_t *t)
{
	struct launcher *L = t->data;
	char names[4096];

	if (L->phase != PH_STARTING)
		return;
	log_warn("not ready within %.1f s: %s; stopping all services",
	    secs(L->cfg.ready_timeout_ms), names_with_pids(L, NOT_READY, true,
	    names, sizeof(names)));
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		if (!s->ready && s->probe.attempts > 0)
			log_warn("service '%s': %u attempts on %s, the last: %s",
			    s->cfg->name, s->probe.attempts,
			    launch_ready_name(s->cfg->ready),
			    s->probe.last_error[0] ? s->probe.last_error :
			    "still in progress");
	}
	L->exit_code = EXIT_FAIL;
	stop_all(L, SIGTERM);
}

/* ---- processes ---------------------------------------------------------- */

static bool
clean_exit(const struct launcher *L, const struct svc *s)
{
	return !s->sigkilled && ((s->termsig == 0 && s->status == 0) ||
	    (L->signalled && s->termsig == L->signalled) ||
	    (s->termsig == SIGTERM && L->phase == PH_STOPPING));
}

static void
on_svc_exit(struct proc *p)
{
	struct svc *s = p->arg;
	struct launcher *L = s->L;
	int64_t status = p->status;
	int termsig = p->termsig;

	/* Not reaped yet: finish() kills what is left of its group first. */
	s->exited = true;
	s->status = status;
	s->termsig = termsig;
	close_notify(s);
	switch (L->phase) {
	case PH_STARTING:
		log_warn("service '%s' (pid %d) %s during start-up, after %"
		    PRIu64 " ms; stopping all services", s->cfg->name,
		    (int)s->pid, describe_exit(status, termsig),
		    now_ms() - L->t_start);
		L->exit_code = EXIT_FAIL;
		stop_all(L, SIGTERM);
		return;
	case PH_RUNNING:
		if (status == 0 && termsig == 0)
			log_info("service '%s' (pid %d) exited with status 0",
			    s->cfg->name, (int)s->pid);
		else
			log_warn("service '%s' (pid %d) %s", s->cfg->name,
			    (int)s->pid, describe_exit(status, termsig));
		if (!L->cmd && !(status == 0 && termsig == 0))
			L->exit_code = EXIT_FAIL;
		break;
	case PH_ENDING:
	case PH_STOPPING:
		if (clean_exit(L, s))
			log_info("service '%s' (pid %d) %s", s->cfg->name,
			    (int)s->pid, describe_exit(status, termsig));
		else
			log_warn("service '%s' (pid %d) %s", s->cfg->name,
			    (int)s->pid, describe_exit(status, termsig));
		if (!L->cmd && !clean_exit(L, s))
			L->exit_code = EXIT_FAIL;
		break;
	case PH_DONE:
		return;
	}
	if (live_count(L) == 0 && !L->cmd_running)
		finish(L);
}

static void
on_exit_timeout(uv_timer_t *t)
{
	struct launcher *L = t->data;
	char names[4096];

	log_warn("still running %.1f s after the command finished: %s; "
	    "sending SIGTERM", secs(L->cfg.exit_timeout_ms),
	    names_with_pids(L, RUNNING, true, names, sizeof(names)));
	stop_all(L, SIGTERM);
}

static void
on_cmd_exit(struct proc *p)
{
	struct launcher *L = p->arg;
	int64_t status = p->status;
	int termsig = p->termsig;

	L->cmd_running = false;
	if (termsig) {
		log_info("command (pid %d) was killed by %s", (int)L->cmdpid,
		    sig_name(termsig));
		L->exit_code = 128 + termsig;
	} else {
		if (status != 0)
			log_info("command (pid %d) exited with status %" PRId64,
			    (int)L->cmdpid, status);
		L->exit_code = (int)(status & 0xff);
	}
	if (L->phase == PH_RUNNING) {
		L->phase = PH_ENDING;
		if (live_count(L) > 0)
			uv_timer_start(&L->exit_timer, on_exit_timeout,
			    L->cfg.exit_timeout_ms, 0);
	}
	if (live_count(L) == 0)
		finish(L);
}

/* ---- starting processes ------------------------------------------------ */

static void
on_proc_closed(uv_handle_t *h)
{
	struct proc *p = h->data;

	close(p->pidfd);
	p->pidfd = -1;
}

/* The pidfd became readable: the process exited (it is not reaped). */
static void
on_proc_event(uv_poll_t *h, int status, int events)
{
	struct proc *p = h->data;
	int r = status;

	(void)events;
	if (p->exited)
		return;
	if (r == 0 && (r = launch_spawn_status(p->pidfd, &p->status,
	    &p->termsig)) == 0)
		return;
	uv_poll_stop(h);
	if (r < 0) {
		/* Cannot happen with a valid pidfd; count it as a failure. */
		log_warn("pid %d: waiting for its exit: %s", (int)p->pid,
		    strerror(-r));
		p->status = 1;
		p->termsig = 0;
	}
	p->exited = true;
	p->on_exit(p);
}

/*
 * Done with p: reap it if it exited (the caller has signalled its group
 * first, if need be), and close its pidfd. A process given up on (it
 * outlived SIGKILL) is not waited for.
 */
static void
proc_release(struct proc *p, bool reap)
{
	if (!p->started || p->released)
		return;
	p->released = true;
	if (reap)
		launch_spawn_reap(p->pidfd);
	uv_close((uv_handle_t *)&p->poll, on_proc_closed);
}

/* Environment variables of ours that no child inherits from us as they
 * are: each child gets its own values, or none. */
static const char *const env_ours[] = { SDNOTIFY_ENV,
	READYCHECK_ENV_ENDPOINT, READYCHECK_ENV_ID, READYCHECK_ENV_PATH,
	READYCHECK_ENV_SOCKET_DIR, NULL };

/* The environment of service s, or of COMMAND when s is NULL: ours,
 * minus the readiness variables meant for us, plus its env = lines,
 * plus the socket directory and its own readiness variables. */
static char **
child_env(struct launcher *L, struct svc *s)
{
	char *extra[5] = { NULL }, **env = NULL;
	size_t k = 0;
	bool ok;

	ok = asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_SOCKET_DIR,
	    L->sd.path) >= 0;
	if (ok && s && s->cfg->ready == LAUNCH_READY_ZMQ)
		ok = asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_ENDPOINT,
		    L->ready_ep) >= 0 &&
		    asprintf(&extra[k++], "%s=%" PRId64, READYCHECK_ENV_ID,
		    s->id) >= 0 &&
		    asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_PATH,
		    L->ready_path) >= 0;
	else if (ok && s && s->cfg->ready == LAUNCH_READY_NOTIFY)
		ok = asprintf(&extra[k++], "%s=%s", SDNOTIFY_ENV, s->npath) >= 0;
	if (!ok)
		extra[k - 1] = NULL;	/* undefined after a failed asprintf */
	else
		env = launch_env_build(environ, env_ours,
		    s ? s->cfg->env : NULL, s ? s->cfg->nenv : 0, extra);
	for (size_t i = 0; i < k; i++)
		free(extra[i]);
	return env;
}

/*
 * The one way a process is started: look its program up in its own
 * PATH, fork and exec it (launch_spawn.c), and watch its pidfd. fd[]
 * are its fds 0-2 (-1: /dev/null). Returns 0 or a negative errno with
 * err set.
 */
static int
proc_start(struct launcher *L, struct proc *p, char **argv, char **env,
    const char *cwd, const int fd[3], char *err, size_t errlen)
{
	struct launch_spawn sp = { .argv = argv, .env = env, .cwd = cwd,
	    .watchdog_fd = L->wd_fd };
	char path[PATH_MAX];
	int r;

	r = launch_program_find(argv[0], cwd,
	    launch_env_get(env, SIZE_MAX, "PATH"), path, sizeof(path));
	if (r < 0) {
		snprintf(err, errlen, "'%s': %s", argv[0], r == -ENOENT ?
		    "not found or not executable" : strerror(-r));
		return r;
	}
	sp.path = path;
	memcpy(sp.fd, fd, sizeof(sp.fd));
	if ((r = launch_spawn_start(&sp, &p->pid, &p->pidfd, err, errlen)) < 0)
		return r;
	p->L = L;
	p->started = true;
	p->poll.data = p;
	if ((r = uv_poll_init(&L->loop, &p->poll, p->pidfd)) < 0 ||
	    (r = uv_poll_start(&p->poll, UV_READABLE, on_proc_event)) < 0) {
		/* Not watched, so not kept. */
		kill(-p->pid, SIGKILL);
		snprintf(err, errlen, "watch pid %d: %s", (int)p->pid,
		    uv_strerror(r));
		p->exited = true;
		proc_release(p, true);
		return -EIO;
	}
	return 0;
}

static void
stream_open(struct launcher *L, struct stream *st, struct svc *s, int fd_out,
    int fd)
{
	st->s = s;
	st->fd_out = fd_out;
	uv_pipe_init(&L->loop, &st->pipe, 0);
	st->pipe.data = st;
	st->open = true;
	if (uv_pipe_open(&st->pipe, fd) < 0 ||
	    uv_read_start((uv_stream_t *)&st->pipe, alloc_cb, on_read) < 0) {
		/* uv_close() does not own an fd it failed to take. */
		close(fd);
		stream_close(st);
	}
}

static void
on_probe_ready(struct launch_probe *pr)
{
	struct svc *s = pr->data;

	launch_probe_stop(pr, NULL);
	mark_ready(s, launch_ready_name(s->cfg->ready));
}

static int
spawn_service(struct launcher *L, struct svc *s)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, r;
	char **argv, **env, err[PATH_MAX + 256];

	argv = launch_argv_build(s->cfg, L->ready_path, s->id);
	env = child_env(L, s);
	if (!argv || !env) {
		snprintf(err, sizeof(err), "out of memory");
		r = -ENOMEM;
	} else if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		r = -errno;
		snprintf(err, sizeof(err), "pipe: %s", strerror(-r));
	} else {
		int fd[3] = { -1, out[1], errp[1] };

		s->proc.on_exit = on_svc_exit;
		s->proc.arg = s;
		r = proc_start(L, &s->proc, argv, env, s->cfg->directory, fd,
		    err, sizeof(err));
	}
	launch_vec_free(argv);
	launch_vec_free(env);
	if (out[1] >= 0)
		close(out[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (r < 0) {
		if (out[0] >= 0)
			close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		log_warn("service '%s': cannot start%s%s: %s", s->cfg->name,
		    s->cfg->directory ? " in " : "",
		    s->cfg->directory ? s->cfg->directory : "", err);
		return r;
	}
	s->spawned = true;
	s->pid = s->proc.pid;
	stream_open(L, &s->out, s, 1, out[0]);
	stream_open(L, &s->err, s, 2, errp[0]);
	if (s->cfg->ready == LAUNCH_READY_NONE) {
		s->ready = true;
	} else if ((s->cfg->ready == LAUNCH_READY_TCP ||
	    s->cfg->ready == LAUNCH_READY_HTTP) &&
	    (r = launch_probe_start(&s->probe, &L->loop, on_probe_ready)) < 0) {
		log_warn("service '%s': start readiness probe: %s",
		    s->cfg->name, uv_strerror(r));
		return r;
	}
	return 0;
}

static void
spawn_command(struct launcher *L)
{
	/* COMMAND talks to our terminal directly, unprefixed, through the
	 * descriptors we were given (not our non-blocking copies). It gets
	 * its own process group like the services, so Ctrl-C reaches it
	 * once, through us. */
	const int fd[3] = { 0, L->out[1].saved >= 0 ? L->out[1].saved : 1,
	    L->out[2].saved >= 0 ? L->out[2].saved : 2 };
	char **env = child_env(L, NULL), err[PATH_MAX + 256];
	int r = -ENOMEM;

	snprintf(err, sizeof(err), "out of memory");
	L->cmdproc.on_exit = on_cmd_exit;
	L->cmdproc.arg = L;
	if (env)
		r = proc_start(L, &L->cmdproc, L->cmd, env, NULL, fd, err,
		    sizeof(err));
	launch_vec_free(env);
	if (r < 0) {
		log_warn("cannot start command: %s", err);
		L->exit_code = EXIT_FAIL;
		stop_all(L, SIGTERM);
		return;
	}
	L->cmd_running = true;
	L->cmdpid = L->cmdproc.pid;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct launcher *L = h->data;

	if (L->phase == PH_DONE)
		return;
	if (L->signalled) {
		log_warn("%s again: killing every service now", sig_name(signum));
		for (size_t i = 0; i < L->n; i++)
			if (L->svc[i].spawned && !L->svc[i].exited) {
				L->svc[i].sigkilled = true;
				signal_group(&L->svc[i], SIGKILL);
			}
		if (L->cmd_running) {
			L->cmd_signalled = true;
			kill(-L->cmdpid, SIGKILL);
		}
		return;
	}
	/* A hangup (the terminal went away) means stop, not "reload" as
	 * many daemons read SIGHUP: they get SIGTERM. */
	if (signum == SIGHUP) {
		log_info("SIGHUP: stopping %zu services%s with SIGTERM",
		    live_count(L), L->cmd_running ? " and the command" : "");
		signum = SIGTERM;
	} else {
		log_info("%s: forwarding it to %zu services%s", sig_name(signum),
		    live_count(L), L->cmd_running ? " and the command" : "");
	}
	L->signalled = signum;
	if (L->phase == PH_STARTING)
		L->exit_code = EXIT_FAIL;
	stop_all(L, signum);
}

/* ---- set-up ------------------------------------------------------------- */

/*
 * Find each service's program, and COMMAND, before anything is spawned,
 * so a typo is a usage error (exit 2) rather than a start-up failure.
 */
static int
check_programs(const struct launch_config *c, char **cmd)
{
	int bad = 0;

	char buf[PATH_MAX];

	for (size_t i = 0; i < c->nsvc; i++) {
		const struct launch_service *s = &c->svc[i];
		const char *path = launch_env_get(s->env, s->nenv, "PATH");
		struct stat st;

		if (s->directory && (stat(s->directory, &st) != 0 ||
		    !S_ISDIR(st.st_mode))) {
			log_warn("%s:%d: service '%s': directory '%s' is not a "
			    "directory", c->path, s->line, s->name, s->directory);
			bad++;
			continue;
		}
		if (!path)
			path = getenv("PATH");
		if (launch_program_find(s->argv[0], s->directory, path, buf,
		    sizeof(buf)) < 0) {
			log_warn("%s:%d: service '%s': command '%s' not found or "
			    "not executable", c->path, s->line, s->name,
			    s->argv[0]);
			bad++;
		}
	}
	if (cmd && launch_program_find(cmd[0], NULL, getenv("PATH"), buf,
	    sizeof(buf)) < 0) {
		log_warn("COMMAND '%s' not found or not executable", cmd[0]);
		bad++;
	}
	return bad ? -ENOENT : 0;
}

static void
sockdir_cleanup(struct launcher *L)
{
	char p[PATH_MAX + 64];

	if (!L->sd.path[0])
		return;
	/* Ours alone: services may have left their own sockets in it. */
	if (L->sd.private) {
		launch_dir_remove(L->sd.path);
		return;
	}
	if (L->ready_path[0]) {
		snprintf(p, sizeof(p), "%s/%s", L->sd.path, L->ready_path);
		unlink(p);
	}
	for (size_t i = 0; i < L->n; i++)
		if (L->svc[i].npath[0])
			unlink(L->svc[i].npath);
	if (L->sd.made)
		rmdir(L->sd.path);
}

static void
print_plan(struct launcher *L)
{
	const struct launch_config *c = &L->cfg;

	printf("config: %s (%zu services)\n", c->path, c->nsvc);
	printf("socket_dir: %s\n", c->socket_dir ? c->socket_dir :
	    "(a private temporary directory, removed at exit)");
	printf("ready_timeout: %.3f s, exit_timeout: %.3f s, kill_grace: %.3f s\n",
	    secs(c->ready_timeout_ms), secs(c->exit_timeout_ms),
	    secs(c->kill_grace_ms));
	for (size_t i = 0; i < c->nsvc; i++) {
		const struct launch_service *s = &c->svc[i];

		printf("service %s (line %d): ready = %s", s->name, s->line,
		    launch_ready_name(s->ready));
		if (s->ready == LAUNCH_READY_ZMQ)
			printf(", identity %zu", i + 1);
		else if (s->ready == LAUNCH_READY_TCP)
			printf(" %s:%s", s->url.host, s->url.port);
		else if (s->ready == LAUNCH_READY_HTTP)
			printf(" GET %s from %s:%s", s->url.path, s->url.host,
			    s->url.port);
		for (size_t j = 0; j < s->nafter; j++)
			printf("%s%s", j ? " " : ", after ",
			    c->svc[s->after[j]].name);
		if (s->directory)
			printf(", directory %s", s->directory);
		printf("\n  run:");
		for (size_t j = 0; j < s->argc; j++)
			printf(" [%s]", s->argv[j]);
		if (s->shell)
			printf(" [%s]", s->name);
		if (s->ready == LAUNCH_READY_ZMQ)
			printf(" [--readiness-path] [%s] [--readiness-id] [%zu]",
			    L->ready_path, i + 1);
		printf("\n");
		for (size_t j = 0; j < s->nenv; j++)
			printf("  env: %s\n", s->env[j]);
	}
	printf("start order:");
	for (size_t k = 0; k < c->nsvc; k++)
		printf(" %s", c->svc[c->order[k]].name);
	printf("\n");
	if (L->cmd) {
		printf("then:");
		for (char **a = L->cmd; *a; a++)
			printf(" [%s]", *a);
		printf("\n");
	} else {
		printf("then: supervise until the services exit\n");
	}
}

/*
 * Resolve the host of every tcp:// and http:// readiness URL now,
 * before anything starts, so that a typo is a config error (exit 2)
 * and no lookup ever blocks the loop.
 */
static int
probes_init(struct launcher *L)
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
			    s->cfg->line, s->cfg->name, err);
			bad++;
		}
		s->probe.data = s;
	}
	return bad ? -ENOENT : 0;
}

static bool
hup_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static int
run(struct launcher *L)
{
	int64_t *ids = NULL;
	size_t nzmq = 0;
	char err[512];
	int r;

	L->wd_fd = -1;
	L->out[1].saved = L->out[2].saved = -1;
	/* Fork the watchdog while we are still single-threaded (before
	 * libzmq starts its I/O threads). It creates the socket directory,
	 * so that no kill of ours, however early, leaves one behind. */
	if (launch_watchdog_start(&L->wd_pid, &L->wd_fd, L->cfg.socket_dir,
	    &L->sd, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		return EXIT_FAIL;
	}
	if (!L->sd.made && launch_sockdir_check(L->sd.path, err,
	    sizeof(err)) < 0) {
		log_warn("%s", err);
		goto early_fail;
	}
	r = snprintf(L->ready_ep, sizeof(L->ready_ep), "ipc://%s/%s",
	    L->sd.path, L->ready_path);
	if (r < 0 || strlen(L->sd.path) + 1 + strlen(L->ready_path) + 32 >
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_warn("socket directory %s is too long for unix socket paths",
		    L->sd.path);
		goto early_fail;
	}
	uv_loop_init(&L->loop);
	L->ready_timer.data = L->exit_timer.data = L->grace_timer.data = L;
	L->drain_timer.data = L->sigint.data = L->sigterm.data = L;
	L->sighup.data = L;
	uv_timer_init(&L->loop, &L->ready_timer);
	uv_timer_init(&L->loop, &L->exit_timer);
	uv_timer_init(&L->loop, &L->grace_timer);
	uv_timer_init(&L->loop, &L->drain_timer);
	uv_signal_init(&L->loop, &L->sigint);
	uv_signal_init(&L->loop, &L->sigterm);
	uv_signal_init(&L->loop, &L->sighup);
	L->handles_open = true;
	if (launch_out_open(&L->out[1], &L->loop, 1) < 0 ||
	    launch_out_open(&L->out[2], &L->loop, 2) < 0) {
		log_warn("out of memory");
		L->exit_code = EXIT_FAIL;
		L->phase = PH_STARTING;
		goto teardown;
	}
	/* Signals first: a SIGTERM during start-up is handled, not fatal.
	 * A SIGHUP we were started ignoring (nohup) stays ignored, for us
	 * and, inherited, for the services: libuv would otherwise install
	 * its handler over the inherited SIG_IGN. */
	uv_signal_start(&L->sigint, on_signal, SIGINT);
	uv_signal_start(&L->sigterm, on_signal, SIGTERM);
	if (!hup_ignored())
		uv_signal_start(&L->sighup, on_signal, SIGHUP);
	L->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000000000ull, 5);
	L->t_start = now_ms();	/* again below, at the first spawn */
	L->phase = PH_STARTING;
	L->exit_code = EXIT_OK;

	if (!(ids = calloc(L->n, sizeof(*ids)))) {
		log_warn("out of memory");
		L->exit_code = EXIT_FAIL;
		goto teardown;
	}
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		s->nfd = -1;
		if (s->cfg->ready == LAUNCH_READY_ZMQ)
			ids[nzmq++] = s->id;
		else if (s->cfg->ready == LAUNCH_READY_NOTIFY &&
		    notify_open(L, s, i) < 0) {
			L->exit_code = EXIT_FAIL;
			goto teardown;
		}
	}
	if (nzmq > 0) {
		if (!(L->zctx = zmq_ctx_new())) {
			log_warn("zmq_ctx_new: %s", zmq_strerror(errno));
			L->exit_code = EXIT_FAIL;
			goto teardown;
		}
		if (readycheck_receiver_open(&L->rx, &L->loop, L->zctx,
		    L->ready_ep, ids, nzmq, 0, on_readycheck, L, err,
		    sizeof(err)) < 0) {
			log_warn("ready-check receiver: %s", err);
			L->exit_code = EXIT_FAIL;
			goto teardown;
		}
		L->rx_open = true;
	}
	/* "all ready in X ms" counts from the first spawn. The deadline
	 * covers every service, those that wait (after =) too. */
	L->t_start = now_ms();
	uv_timer_start(&L->ready_timer, on_ready_timeout,
	    L->cfg.ready_timeout_ms, 0);
	if (start_due(L) == 0)
		check_all_ready(L);	/* all ready = none */
	goto loop;
teardown:
	stop_all(L, SIGTERM);
loop:
	uv_run(&L->loop, UV_RUN_DEFAULT);
	free(ids);
	if (L->zctx)
		zmq_ctx_term(L->zctx);
	if ((r = uv_loop_close(&L->loop)) != 0)
		log_warn("internal: loop not empty at exit: %s", uv_strerror(r));
	sockdir_cleanup(L);
	launch_watchdog_stop(L->wd_pid, L->wd_fd);
	for (int fd = 1; fd <= 2; fd++)
		if (L->out[fd].saved >= 0)
			close(L->out[fd].saved);
	return L->exit_code;
early_fail:
	sockdir_cleanup(L);
	launch_watchdog_stop(L->wd_pid, L->wd_fd);
	return EXIT_FAIL;
}

int
launch_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct launcher L;
	bool dry = false;
	char err[8192];
	int c, rc;

	memset(&L, 0, sizeof(L));
	/* "+": options end at the config file; what follows "--" is
	 * COMMAND's and never parsed by us. */
	while ((c = getopt_long(argc, argv, "+nh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		log_warn("missing services.conf");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		if (strcmp(argv[optind + 1], "--") != 0) {
			log_warn("unexpected argument '%s' (put COMMAND after --)",
			    argv[optind + 1]);
			return EXIT_USAGE;
		}
		if (optind + 2 >= argc) {
			log_warn("missing COMMAND after --");
			return EXIT_USAGE;
		}
		L.cmd = argv + optind + 2;
	}
	if (launch_config_load(&L.cfg, argv[optind], err, sizeof(err)) < 0) {
		char *line, *save = NULL;

		for (line = strtok_r(err, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_warn("%s", line);
		return EXIT_USAGE;
	}
	rc = EXIT_USAGE;
	if (check_programs(&L.cfg, L.cmd) < 0)
		goto out;
	L.n = L.cfg.nsvc;
	snprintf(L.ready_path, sizeof(L.ready_path), "launch-ready-%d",
	    (int)getpid());
	if (!(L.svc = calloc(L.n, sizeof(*L.svc)))) {
		log_warn("out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < L.n; i++) {
		L.svc[i].L = &L;
		L.svc[i].cfg = &L.cfg.svc[i];
		L.svc[i].id = (int64_t)i + 1;
	}
	if (probes_init(&L) < 0)
		goto out;
	if (dry) {
		print_plan(&L);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	}
	{
		const char *d = L.cfg.socket_dir ? L.cfg.socket_dir : "/tmp";
		size_t need = strlen(d) + 1 + strlen(L.ready_path) + 32;

		if (need > sizeof(((struct sockaddr_un *)0)->sun_path)) {
			log_warn("%s: socket_dir '%s' is too long for a unix "
			    "socket path", L.cfg.path, d);
			goto out;
		}
	}
	rc = run(&L);
out:
	free(L.svc);
	launch_config_free(&L.cfg);
	return rc;
}
