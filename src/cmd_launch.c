/*
 * metricsd launch: start the services of a services.conf, wait until all
 * of them are ready under one total deadline, then run COMMAND (or keep
 * supervising), and tear everything down without leaving a process
 * behind. The config format is in launch_config.c and metricsd.conf(5);
 * how orphans are prevented is explained in launch_spawn.c and
 * launch_exec.c. This file holds the options, the set-up and the phase
 * machine; starting processes is in launch_children.c, the readiness
 * receivers in launch_ready.c, the checks and the --dry-run plan in
 * launch_plan.c (launch_int.h lists what they share).
 *
 * Everything runs on one libuv loop: process exits (pidfds), output
 * pipes, the ready-check PULL socket (through uvzmq), the notify
 * datagram sockets, the tcp/http probes, the signals and the three
 * timers (start-up deadline, exit deadline, kill grace period). The
 * phases:
 *
 *   STARTING  spawning (those with after = once what they wait for is
 *             ready), waiting for readiness; any exit is a failure
 *   RUNNING   all ready; COMMAND runs, or we just supervise
 *   ENDING    COMMAND finished; services get exit_timeout to exit
 *   STOPPING  signals sent; SIGKILL for whoever outlives kill_grace
 *   DONE      everyone is gone; handles are being closed
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include <zmq.h>

#include "args.h"
#include "clock.h"
#include "launch_cgroup.h"
#include "launch_exec.h"
#include "launch_int.h"
#include "launch_spawn.h"
#include "log.h"
#include "modes.h"

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

/* Milliseconds since the first spawn (launcher.t_start_ns). */
static double
since_start_ms(const struct launcher *L)
{
	return (double)(clock_now_ns() - L->t_start_ns) / 1e6;
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

static void on_grace(uv_timer_t *t);
static void finish(struct launcher *L);

/* Send sig to every live service (and COMMAND), then give them
 * kill_grace before SIGKILL. */
void
launch_stop_all(struct launcher *L, int sig)
{
	L->phase = PH_STOPPING;
	launch_ready_close(L);
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
			launch_proc_release(&s->proc, false);
		}
	}
	if (L->cmd_running) {
		log_warn("command (pid %d) did not die 5 s after SIGKILL; "
		    "giving up on it", (int)L->cmdpid);
		L->cmd_running = false;
		L->cmdproc.exited = true;
		launch_proc_release(&L->cmdproc, false);
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
		launch_stream_close(&L->svc[i].out);
		launch_stream_close(&L->svc[i].err);
	}
}

/*
 * Everyone has exited: flush and wait (briefly) for the output pipes to
 * reach end of file, then close every handle so uv_run() returns.
 */
static void
finish(struct launcher *L)
{
	bool pipes = false, *live;
	pid_t *pgid;
	size_t n = 0;

	if (L->phase == PH_DONE)
		return;
	L->phase = PH_DONE;
	launch_ready_close(L);
	uv_timer_stop(&L->exit_timer);
	uv_timer_stop(&L->grace_timer);
	/*
	 * Which groups we did not signal still have live members, for the
	 * warnings below: one look for all (launch_groups_live()). Without
	 * memory for it, no warnings; the kills below are the same.
	 */
	pgid = calloc(L->n + 1, sizeof(*pgid));
	live = calloc(L->n + 1, sizeof(*live));
	if (pgid && live) {
		for (size_t i = 0; i < L->n; i++)
			if (L->svc[i].spawned && !L->svc[i].signalled)
				pgid[n++] = L->svc[i].pid;
		if (L->cmdproc.started && !L->cmd_running && !L->cmd_signalled)
			pgid[n++] = L->cmdpid;
		launch_groups_live(pgid, n, L->cgroup, live);
	}
	n = 0;
	for (size_t i = 0; i < L->n; i++) {
		struct svc *s = &L->svc[i];

		launch_notify_close(s);
		/*
		 * Children the service left behind in its group go too. Its
		 * leader is still an unreaped zombie, so the group id is
		 * still this group's: the kill comes first, the reaping
		 * after. If we signalled the group, what is left is most
		 * likely still dying of it: only say so otherwise.
		 */
		if (s->spawned) {
			if (!s->signalled && pgid && live && live[n++])
				log_warn("service '%s' (pid %d) left processes in "
				    "its process group; killing them",
				    s->cfg->name, (int)s->pid);
			kill(-s->pid, SIGKILL);
			launch_proc_release(&s->proc, true);
		}
		pipes |= s->out.open || s->err.open;
	}
	/* COMMAND leads its own group too; the watchdog is about to be told
	 * "kill nothing", so what COMMAND left in it goes now, the same way. */
	if (L->cmdproc.started && !L->cmd_running) {
		if (!L->cmd_signalled && pgid && live && live[n])
			log_warn("command (pid %d) left processes in its "
			    "process group; killing them", (int)L->cmdpid);
		kill(-L->cmdpid, SIGKILL);
		launch_proc_release(&L->cmdproc, true);
	}
	free(pgid);
	free(live);
	/* What left its group: the cgroup takes it all; else the orphans
	 * that came back to us as subreaper. */
	launch_contain_kill(L);
	if (pipes)
		uv_timer_start(&L->drain_timer, on_drain, 1000, 0);
	launch_maybe_close_all(L);
}

void
launch_maybe_close_all(struct launcher *L)
{
	if (L->phase != PH_DONE || !L->handles_open)
		return;
	for (size_t i = 0; i < L->n; i++)
		if (L->svc[i].out.open || L->svc[i].err.open)
			return;
	L->handles_open = false;
	uint64_t linger = clock_now_ns() + LAUNCH_OUT_LINGER_MS * 1000000ull;

	for (int fd = 1; fd <= 2; fd++)
		launch_out_close(&L->out[fd], linger);
	for (int fd = 1; fd <= 2; fd++) {
		struct launch_out *o = &L->out[fd];

		if (o->dropped > 0)
			log_warn("dropped %" PRIu64 " bytes of service output "
			    "to standard %s: its reader did not keep up",
			    o->dropped, fd == 1 ? "output" : "error");
		if (o->own_dropped > 0)
			log_warn("dropped %" PRIu64 " of launch's own messages "
			    "to standard error: its reader did not keep up",
			    o->own_dropped);
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
	double ms;

	if (L->phase != PH_STARTING)
		return;
	for (size_t i = 0; i < L->n; i++)
		if (!L->svc[i].ready)
			return;
	/* Read at the event, before closing the receivers and formatting
	 * the line: bench/bench_launch.sh compares this figure with a
	 * baseline that stops its clock as soon as the last frame is in. */
	ms = since_start_ms(L);
	L->phase = PH_RUNNING;
	launch_ready_close(L);
	/* To 0.01 ms: one service is ready in well under a millisecond. */
	log_info("all %zu services ready in %.2f ms: %s", L->n, ms,
	    names_with_pids(L, ALL, false, summary, sizeof(summary)));
	if (L->cmd)
		launch_cmd_spawn(L);
}

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
		if (launch_svc_spawn(L, s) < 0) {
			L->exit_code = EXIT_FAIL;
			launch_stop_all(L, SIGTERM);
			return -1;
		}
	}
	return 0;
}

void
launch_mark_ready(struct svc *s, const char *how)
{
	(void)how;
	if (s->ready || s->exited)
		return;
	s->ready = true;
	if (start_due(s->L) == 0)
		check_all_ready(s->L);
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
	launch_stop_all(L, SIGTERM);
}

/* ---- processes ---------------------------------------------------------- */

static bool
clean_exit(const struct launcher *L, const struct svc *s)
{
	return !s->sigkilled && ((s->termsig == 0 && s->status == 0) ||
	    (L->signalled && s->termsig == L->signalled) ||
	    (s->termsig == SIGTERM && L->phase == PH_STOPPING));
}

void
launch_svc_exited(struct proc *p)
{
	struct svc *s = p->arg;
	struct launcher *L = s->L;
	int64_t status = p->status;
	int termsig = p->termsig;

	/* Not reaped yet: finish() kills what is left of its group first. */
	s->exited = true;
	s->status = status;
	s->termsig = termsig;
	launch_notify_close(s);
	switch (L->phase) {
	case PH_STARTING:
		log_warn("service '%s' (pid %d) %s during start-up, after "
		    "%.2f ms; stopping all services", s->cfg->name,
		    (int)s->pid, describe_exit(status, termsig),
		    since_start_ms(L));
		L->exit_code = EXIT_FAIL;
		launch_stop_all(L, SIGTERM);
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
	launch_stop_all(L, SIGTERM);
}

void
launch_cmd_exited(struct proc *p)
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
	launch_stop_all(L, signum);
}

/* ---- set-up ------------------------------------------------------------- */

static void
launch_sockets_remove(struct launcher *L)
{
	char p[PATH_MAX + 64];

	if (!L->sd.path[0])
		return;
	/* Ours alone: services may have left their own sockets in it. */
	if (L->sd.private) {
		int r = launch_dir_remove(L->sd.path);

		if (r < 0) {
			errno = -r;
			log_warn("socket directory %s: cannot remove it, left "
			    "behind:", L->sd.path);
		}
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

static bool
hup_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/*
 * Undo signal state inherited from whoever started us that would defeat
 * launch. SIGCHLD ignored (SIG_IGN, or SA_NOCLDWAIT) makes the kernel
 * reap our children as they exit: waitid(WNOWAIT) on their pidfds then
 * finds no child, no exit status is known, and a group could no longer
 * be killed before its leader is reaped. The default disposition is also
 * what the services (and the watchdog) inherit from here. And the
 * signals launch handles (SIGINT, SIGTERM, SIGHUP) are unblocked: a mask
 * survives exec, and with them blocked nothing but SIGKILL could stop
 * launch. The other blocked signals launch does not handle stay as its
 * caller chose (the services start with none blocked: launch_spawn.c).
 * Done before the watchdog is forked and before any spawn, while we are
 * single-threaded: threads started later (libzmq's) inherit the mask.
 */
static void
signals_reset(void)
{
	struct sigaction dfl;
	sigset_t handled;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, NULL);
	sigemptyset(&handled);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &handled, NULL);
}

/*
 * Does every socket launch puts in dir fit in a unix socket address: the
 * ready socket, and the notify socket of the last service, whose name is
 * the longest (launch_ready.c)?
 */
static bool
socket_paths_fit(const struct launcher *L, const char *dir)
{
	int notify = snprintf(NULL, 0, LAUNCH_NOTIFY_NAME, (int)getpid(),
	    L->n);
	size_t name = strlen(L->ready_path);

	if (notify > 0 && (size_t)notify > name)
		name = (size_t)notify;
	return strlen(dir) + 1 + name + 1 <=
	    sizeof(((struct sockaddr_un *)0)->sun_path);
}

/* The loop and its timers and signal watchers, not started yet. */
static void
handles_init(struct launcher *L)
{
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
}

static int
run(struct launcher *L)
{
	char err[512];
	int r;

	signals_reset();
	L->devnull = -1;
	/* Fork the watchdog while we are still single-threaded (before
	 * libzmq starts its I/O threads). It creates the socket directory,
	 * so that no kill of ours, however early, leaves one behind. */
	if (launch_watchdog_start(&L->wd, L->n + 1, L->cfg.socket_dir, &L->sd,
	    L->cgroup, sizeof(L->cgroup), err, sizeof(err)) < 0) {
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
	if (r < 0 || !socket_paths_fit(L, L->sd.path)) {
		log_warn("socket directory %s is too long for unix socket paths",
		    L->sd.path);
		goto early_fail;
	}
	/* Past every early failure: from here, finish() leaves it again. */
	launch_contain_setup(L);
	handles_init(L);
	if ((r = launch_out_open(&L->out[1], 1, NULL)) < 0 ||
	    (r = launch_out_open(&L->out[2], 2, &L->out[1])) < 0) {
		/* No memory, or no thread (RLIMIT_NPROC). */
		log_warn("set up standard output and error: %s", strerror(-r));
		L->exit_code = EXIT_FAIL;
		L->phase = PH_STARTING;
		goto teardown;
	}
	/* Our own messages too go through fd 2's queue (launch_out.h). */
	log_set_writer(launch_out_log, &L->out[2]);
	/* Signals first: a SIGTERM during start-up is handled, not fatal.
	 * A SIGHUP we were started ignoring (nohup) stays ignored, for us
	 * and, inherited, for the services: libuv would otherwise install
	 * its handler over the inherited SIG_IGN. */
	uv_signal_start(&L->sigint, on_signal, SIGINT);
	uv_signal_start(&L->sigterm, on_signal, SIGTERM);
	if (!hup_ignored())
		uv_signal_start(&L->sighup, on_signal, SIGHUP);
	/* Our handlers are in place (and no other is ever installed): what
	 * each child must reset is known from here on. */
	launch_spawn_prepare(L);
	L->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000000000ull, 5);
	L->t_start_ns = clock_now_ns();	/* again below, at the first spawn */
	L->phase = PH_STARTING;
	L->exit_code = EXIT_OK;

	if (launch_ready_open(L) < 0) {
		L->exit_code = EXIT_FAIL;
		goto teardown;
	}
	/* "all ready in X ms" counts from the first spawn. The deadline
	 * covers every service, those that wait (after =) too. */
	L->t_start_ns = clock_now_ns();
	uv_timer_start(&L->ready_timer, on_ready_timeout,
	    L->cfg.ready_timeout_ms, 0);
	if (start_due(L) == 0)
		check_all_ready(L);	/* all ready = none */
	goto loop;
teardown:
	launch_stop_all(L, SIGTERM);
loop:
	uv_run(&L->loop, UV_RUN_DEFAULT);
	if (L->zctx)
		zmq_ctx_term(L->zctx);
	if ((r = uv_loop_close(&L->loop)) != 0)
		log_warn("internal: loop not empty at exit: %s", uv_strerror(r));
	launch_spawn_done(L);
	launch_sockets_remove(L);
	if (L->cgroup[0] && launch_cgroup_remove(L->cgroup, 2000) < 0)
		log_warn("remove cgroup %s:", L->cgroup);
	launch_watchdog_stop(&L->wd);
	/* The last lines (drop counts, exit summary) get a short while to
	 * go out; a reader that still does not read loses them. */
	log_set_writer(NULL, NULL);
	uint64_t final = clock_now_ns() + LAUNCH_OUT_FINAL_MS * 1000000ull;

	for (int fd = 2; fd >= 1; fd--)
		launch_out_end(&L->out[fd], final);
	return L->exit_code;
early_fail:
	if (L->cgroup[0])
		launch_cgroup_remove(L->cgroup, 0);
	launch_sockets_remove(L);
	launch_watchdog_stop(&L->wd);
	return EXIT_FAIL;
}

int
launch_main(int argc, char **argv)
{
	enum { O_DRY = 1 };
	static const struct args_opt opts[] = {
		{ "dry-run", ARGS_NONE, O_DRY, 'n' },
		{ "check", ARGS_NONE, O_DRY, 0 },
		{ NULL, 0, 0, 0 }
	};
	struct launcher L;
	struct args a;
	bool dry = false;
	char err[8192];
	int c, rc, conf;

	memset(&L, 0, sizeof(L));
	/* In order: options end at the config file; what follows "--" is
	 * COMMAND's and never parsed by us. */
	if (args_init(&a, argc, argv, opts, ARGS_IN_ORDER | ARGS_OPERANDS) < 0)
		return args_fail(&a);
	while ((c = args_next(&a)) > 0)
		if (c == O_DRY)
			dry = true;
	if ((rc = args_finish(&a, c, usage_text)) != ARGS_RUN)
		return rc;
	conf = a.ind;
	if (conf >= argc)
		return args_usage_error("missing services.conf");
	if (conf + 1 < argc) {
		if (strcmp(argv[conf + 1], "--") != 0)
			return args_usage_error("unexpected argument '%s' (put "
			    "COMMAND after --)", argv[conf + 1]);
		if (conf + 2 >= argc)
			return args_usage_error("missing COMMAND after --");
		L.cmd = argv + conf + 2;
	}
	if (launch_config_load(&L.cfg, argv[conf], err, sizeof(err)) < 0) {
		char *line, *save = NULL;

		for (line = strtok_r(err, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_warn("%s", line);
		return EXIT_USAGE;
	}
	rc = EXIT_USAGE;
	if (launch_programs_check(&L.cfg, L.cmd) < 0)
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
	if (launch_probes_init(&L) < 0)
		goto out;
	if (dry) {
		launch_plan_print(stdout, &L);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	}
	if (L.cfg.socket_dir && !socket_paths_fit(&L, L.cfg.socket_dir)) {
		log_warn("%s: socket_dir '%s' is too long for a unix socket "
		    "path", L.cfg.path, L.cfg.socket_dir);
		goto out;
	}
	rc = run(&L);
out:
	free(L.svc);
	launch_config_free(&L.cfg);
	return rc;
}
