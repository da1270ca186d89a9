/*
 * Starting one process for metricsd launch, without re-executing
 * metricsd: fork, set the child up, exec. What the child is given, and
 * why each step is where it is, is explained in launch_spawn.c.
 *
 * Library code: nothing here prints or exits (the forked child, before
 * exec, reports a failure to the parent in memory they share, or through
 * a pipe where vfork() is really fork()).
 */
#ifndef METRICSD_LAUNCH_SPAWN_H
#define METRICSD_LAUNCH_SPAWN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct launch_spawn {
	const char *path;	/* program to exec: already resolved, no PATH search */
	char *const *argv;	/* NULL-terminated */
	char *const *env;	/* NULL-terminated */
	const char *cwd;	/* or NULL */
	int fd[3];		/* become fds 0, 1, 2 in the child; -1: /dev/null */
	/* The child stores its pid here before exec (launch_exec.h), or
	 * NULL. */
	_Atomic int32_t *watchdog_slot;
	/* Close every other descriptor (3 and up) at exec: for services,
	 * which must not hold what launch's caller gave it (a pipe that
	 * its $(...) waits on, say). COMMAND keeps them, as it would run
	 * without launch. */
	bool close_others;
	/* From launch_spawn_vfork_shares(): the child's report can be read
	 * from shared memory alone, without a pipe. */
	bool vfork_shares;
	/* The signals the child resets to their default before exec: those
	 * this process catches, from launch_spawn_caught(). NULL: the child
	 * looks at every signal itself (some 60 more system calls while the
	 * parent is suspended). */
	const sigset_t *reset;
};

/*
 * The signals whose disposition in this process is a handler, plus
 * SIGPIPE (ignored by metricsd, default for what it starts), into set:
 * for launch_spawn.reset. Valid until a handler is installed or removed;
 * launch calls it once its own handlers are in place.
 */
void launch_spawn_caught(sigset_t *set);

/*
 * Does a vfork() child share this process's memory? Yes on Linux; no
 * under valgrind, which runs vfork() as fork(). Found by one child that
 * sets a flag and exits; ask once, before the first spawn.
 */
bool launch_spawn_vfork_shares(void);

/*
 * Start sp->path in a new session (so its own process group, pgid ==
 * pid), with PR_SET_PDEATHSIG(SIGKILL), registered with the watchdog and
 * exec'd by the time this returns. On success returns 0 with *pid and a
 * pidfd (close-on-exec) for it in *pidfd; the child is left unreaped, for
 * the caller to collect with launch_spawn_status() and launch_spawn_reap().
 * On failure (fork, pidfd_open, or the child's set-up or exec failing)
 * returns a negative errno with err set as "what: why"; a child that
 * was forked has then been reaped.
 */
int launch_spawn_start(const struct launch_spawn *sp, pid_t *pid, int *pidfd,
    char *err, size_t errlen);

/*
 * The exit of the process behind pidfd, without reaping it (WNOWAIT):
 * the zombie keeps its pid and process group id reserved, so the group
 * can still be signalled safely. Returns 1 with *status (exit status) and
 * *termsig (or 0) set, 0 when it is still running, or a negative errno.
 */
int launch_spawn_status(int pidfd, int *status, int *termsig);

/* Reap the (exited) process behind pidfd. Returns 0 or a negative errno. */
int launch_spawn_reap(int pidfd);

/*
 * Which of the n process groups pgid[] have a live member (not a
 * zombie)? Sets live[i] for each. One pass for all of them, over the
 * processes of cgroup (its cgroup.procs) when it is not NULL or "",
 * else over every process in /proc; with neither readable, falls back
 * to kill(-pgid, 0), which also counts zombies.
 */
void launch_groups_live(const pid_t *pgid, size_t n, const char *cgroup,
    bool *live);

/* The child processes of pid (ours when pid is 0), from
 * /proc/PID/task/.../children: at most max into out. Returns how many
 * (0 when pid is gone). */
size_t launch_children_list(pid_t pid, pid_t *out, size_t max);

/*
 * The state, process group and session of process pid (a decimal
 * string), from /proc/PID/stat. Returns 0, or -1 when it cannot be read
 * (gone).
 */
int launch_proc_stat(const char *pid, char *state, int *pgrp, int *sid);

/* Has process pid exited (a zombie, or gone)? */
bool launch_proc_dead(pid_t pid);

#endif
