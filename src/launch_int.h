/*
 * The parts of metricsd launch, shared between cmd_launch.c (the mode:
 * options, set-up, and the phase machine) and the files it is split
 * into by concern:
 *   launch_children.c  starting services and COMMAND, watching their
 *                      exits (pidfds), passing their output on;
 *   launch_ready.c     the readiness receivers (ZMQ ready-check, notify
 *                      sockets, tcp/http probes) feeding the phase machine;
 *   launch_plan.c      what is checked and printed before anything starts;
 *   launch_contain.c   the cgroup or subreaper that holds what escapes.
 * A private header, like store_format.h: nothing outside launch uses it.
 */
#ifndef METRICSD_LAUNCH_INT_H
#define METRICSD_LAUNCH_INT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include <uv.h>

#include "launch_config.h"
#include "launch_exec.h"
#include "launch_lines.h"
#include "launch_out.h"
#include "launch_probe.h"
#include "launch_sockdir.h"
#include "log.h"
#include "readycheck.h"

enum phase { PH_STARTING, PH_RUNNING, PH_ENDING, PH_STOPPING, PH_DONE };

struct launcher;
struct svc;

/*
 * A process we started (a service or COMMAND): watched through its pidfd
 * on the loop (see launch_spawn.c for why). Once it has exited it stays
 * an unreaped zombie, keeping its pid and process group id reserved,
 * until launch_proc_release(): so signalling its group is always safe.
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

/* The name of service IDX's notify socket in the socket directory, for
 * launcher PID (the watchdog's cleanup matches its prefix). */
#define LAUNCH_NOTIFY_NAME "launch-notify-%d-%zu"

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
	char cgroup[PATH_MAX];		/* likewise, joined; "" when not used */
	bool subreaper;			/* the fallback (launch_cgroup.h) */
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
	uint64_t t_start_ns;	/* CLOCK_MONOTONIC (clock.h) at the first spawn */
	struct launch_watchdog wd;	/* slots: services, then COMMAND */
	/* Spawning (launch_children.c), set up once: the signals a child
	 * resets before exec; /dev/null for the services' stdin; whether a
	 * vfork() child shares our memory; the last program lookup. */
	sigset_t caught;
	int devnull;
	bool vfork_shares;
	struct launch_lookup {
		char *prog, *dir, *path;	/* the question (dir, path: or NULL) */
		char found[PATH_MAX];		/* the answer */
	} lookup;
	struct log_ratelimit rl;
};

static inline double
secs(uint64_t ms)
{
	return (double)ms / 1000.0;
}

/* cmd_launch.c: the phase machine. */
void launch_maybe_close_all(struct launcher *L);
void launch_stop_all(struct launcher *L, int sig);
void launch_mark_ready(struct svc *s, const char *how);
void launch_svc_exited(struct proc *p);
void launch_cmd_exited(struct proc *p);

/* launch_children.c */
int launch_svc_spawn(struct launcher *L, struct svc *s);
void launch_cmd_spawn(struct launcher *L);
void launch_proc_release(struct proc *p, bool reap);
void launch_stream_close(struct stream *st);
void launch_spawn_prepare(struct launcher *L);
void launch_spawn_done(struct launcher *L);

/* launch_ready.c */
int launch_probes_init(struct launcher *L);
int launch_ready_open(struct launcher *L);
void launch_ready_close(struct launcher *L);
int launch_probe_begin(struct svc *s);
void launch_notify_close(struct svc *s);

/* launch_contain.c */
void launch_contain_setup(struct launcher *L);
void launch_contain_kill(struct launcher *L);

/* launch_plan.c */
int launch_programs_check(const struct launch_config *c, char **cmd);
void launch_plan_print(FILE *f, const struct launcher *L);

#endif
