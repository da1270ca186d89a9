/*
 * Spawning a service (or COMMAND) for metricsd launch.
 *
 * Until now every service went through `/proc/self/exe launch
 * --exec-service ...`, a re-exec of metricsd whose only job was to call
 * prctl() between fork and exec, because libuv's uv_spawn() has no hook
 * there. That second exec loaded all of metricsd's libraries and cost
 * about 13 ms per service. Here we fork and exec ourselves, and do in
 * the child, in this order, what the trampoline did:
 *
 * 1. Signals. The parent blocks every signal around vfork(), so that no
 *    handler of the parent (libuv's, which writes into the parent's
 *    signal pipe) can run in the child. The child resets every caught
 *    signal to its default, and SIGPIPE too (metricsd ignores it; a
 *    service must get the default an exec would normally give it), then
 *    unblocks. A signal the parent inherited as ignored (SIGHUP under
 *    nohup, say) stays ignored, as exec would keep it. Which signals are
 *    caught is found once by the parent (launch_spawn_caught()), not by
 *    each child asking about all 64 while the parent waits: launch
 *    installs its handlers before its first spawn and none after.
 * 2. setsid(): the child leads a new session, so its own process group
 *    (pgid == pid), away from the terminal: teardown signals the whole
 *    group, and Ctrl-C at the terminal reaches the services only through
 *    launch. It happens before exec, so before the service can fork
 *    anything: every descendant starts inside the group.
 * 3. prctl(PR_SET_PDEATHSIG, SIGKILL), then getppid() compared with the
 *    launcher's pid read before fork: if the launcher died between fork
 *    and prctl(), no signal will ever come, and the child exits instead
 *    of starting the service. (The parent-death signal is tied to the
 *    thread that forked; launch forks from its loop thread, which lives
 *    as long as the process.)
 *    (Where launch has a cgroup, launch_cgroup.h, the child is born in
 *    it: launch joined it before spawning anything.)
 * 4. The child stores its pid (its group id) in its watchdog slot, memory
 *    shared with the watchdog, itself, before exec, so the group is
 *    registered before the service can fork (see launch_exec.c for the
 *    watchdog).
 * 5. fds 0, 1, 2; for a service, every other descriptor marked close-on-
 *    exec (launch's own are already; this is for those launch was given
 *    by its caller); then the working directory, then execve() of a path
 *    the parent already resolved: between fork and exec a child of a
 *    multi-threaded process may only make async-signal-safe calls, so
 *    nothing here allocates or searches PATH.
 *
 * The child comes from vfork(), not fork(): launch has some 30 shared
 * libraries mapped, and copying its page tables cost more than the rest
 * of a spawn; with vfork the parent is suspended until the child execs
 * or exits, and the child shares its memory meanwhile, so the child
 * only makes system calls and writes to its own stack. (It shares our
 * errno too: the parent reads errno only for a failed vfork.) Python's
 * subprocess does the same since 3.10. A vfork child's signal handlers
 * are its own (no CLONE_SIGHAND), so resetting them does not touch ours.
 *
 * The parent learns how that went when vfork() returns, which is when
 * the child's execve() has passed its point of no return or the child
 * has exited: a child that failed has left which step failed and its
 * errno in memory we share (and exits 127); one that did not got to the
 * exec. (Where vfork() is really a fork(), under valgrind, which
 * launch_spawn_vfork_shares() finds out once, the same report goes
 * through a close-on-exec pipe instead, whose end of file means the exec
 * happened: see child_report().) Each spawn thus waits for the child's
 * exec (a fraction of a millisecond), and gets two things in return: a
 * clear error at once instead of an exit 127 later, and the guarantee
 * that when launch_spawn_start() returns, the session, the process
 * group and the watchdog registration all exist, so any signal launch
 * sends to the group afterwards reaches it. (This is why there is no
 * setpgid() in the parent as well: after setsid() the child is in
 * another session, where the parent cannot move it, and the wait
 * already orders the two.)
 *
 * Exits are watched through a pidfd (pidfd_open(2), Linux 5.3; waitid
 * P_PIDFD, Linux 5.4) polled on the libuv loop, not through SIGCHLD: a
 * pidfd names one process for good, so there is no reaping of children
 * that are not ours (the watchdog is our child too) and no process-wide
 * signal disposition to share; and its exit status can be read with
 * WNOWAIT, leaving the zombie unreaped until its process group has been
 * signalled, so launch never signals a pid that was reused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum step { ST_SETSID = 1, ST_PDEATHSIG, ST_STDIO, ST_CLOSE, ST_CHDIR,
	ST_EXEC };

static const char *const step_name[] = {
	[ST_SETSID] = "setsid",
	[ST_PDEATHSIG] = "prctl PR_SET_PDEATHSIG",
	[ST_STDIO] = "set up fds 0-2",
	[ST_CLOSE] = "close the other fds",
	[ST_CHDIR] = "change to the working directory",
	[ST_EXEC] = "exec",
};

struct report {
	int32_t step;
	int32_t err;
};

/*
 * How the child reports to the parent: in the parent's memory, which a
 * vfork() child shares (done, then step and err on a failure), or,
 * for a vfork() that is really a fork() (valgrind runs it as one),
 * through a close-on-exec pipe, wfd (-1 when there is none).
 */
struct chan {
	volatile int32_t done;	/* the child got to execve() or failed */
	volatile int32_t step;
	volatile int32_t err;
	int wfd;
};

static void __attribute__((noreturn))
child_fail(struct chan *ch, enum step st)
{
	struct report r = { (int32_t)st, errno };

	ch->step = r.step;
	ch->err = r.err;
	ch->done = 1;
	if (ch->wfd >= 0 &&
	    write(ch->wfd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		/* The parent reads end of file and an exit status of 127. */
	}
	_exit(127);
}

/* With a NULL reset set, every signal's disposition is read here. */
static void
child_signals(const sigset_t *reset)
{
	struct sigaction dfl, cur;
	sigset_t none;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (reset) {
			if (sigismember(reset, sig) == 1)
				sigaction(sig, &dfl, NULL);
			continue;
		}
		if (sigaction(sig, NULL, &cur) != 0)
			continue;	/* a glibc-reserved real-time signal */
		if (cur.sa_handler == SIG_IGN && sig != SIGPIPE)
			continue;
		if (cur.sa_handler != SIG_DFL || sig == SIGPIPE)
			sigaction(sig, &dfl, NULL);
	}
	/* Blocked signals stay blocked across exec: start with none. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
launch_spawn_caught(sigset_t *set)
{
	struct sigaction cur;

	sigemptyset(set);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &cur) != 0)
			continue;
		if (sig == SIGPIPE || (cur.sa_handler != SIG_DFL &&
		    cur.sa_handler != SIG_IGN))
			sigaddset(set, sig);
	}
}

static int
child_stdio(const int want[3])
{
	int fd[3];

	for (int i = 0; i < 3; i++) {
		fd[i] = want[i];
		if (fd[i] < 0 && (fd[i] = open("/dev/null",
		    (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)) < 0)
			return -1;
	}
	/* Move a source out of 0-2 first when it sits on another target. */
	for (int i = 0; i < 3; i++)
		if (fd[i] < 3 && fd[i] != i &&
		    (fd[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, 3)) < 0)
			return -1;
	for (int i = 0; i < 3; i++) {
		if (fd[i] == i) {
			if (fcntl(i, F_SETFD, 0) != 0)
				return -1;
		} else if (dup2(fd[i], i) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * Mark every descriptor from 3 up close-on-exec, but keep: flags only,
 * so the closing itself happens in the exec, after the parent has been
 * let go. Before Linux 5.11 (no CLOSE_RANGE_CLOEXEC) they are closed
 * now, all but keep (the report pipe, or -1).
 */
static int
child_close_others(int keep)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (keep < 3)
		return close_range(3, ~0U, 0);
	if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) != 0)
		return -1;
	return close_range((unsigned)keep + 1, ~0U, 0);
}

static void __attribute__((noreturn))
child(const struct launch_spawn *sp, pid_t parent, struct chan *ch)
{
	child_signals(sp->reset);
	if (setsid() < 0)
		child_fail(ch, ST_SETSID);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		child_fail(ch, ST_PDEATHSIG);
	/* Checked after prctl(): see the comment at the top. */
	if (getppid() != parent)
		_exit(127);
	if (sp->watchdog_slot)
		atomic_store_explicit(sp->watchdog_slot, (int32_t)getpid(),
		    memory_order_release);
	if (child_stdio(sp->fd) < 0)
		child_fail(ch, ST_STDIO);
	if (sp->close_others && child_close_others(ch->wfd) < 0)
		child_fail(ch, ST_CLOSE);
	if (sp->cwd && chdir(sp->cwd) != 0)
		child_fail(ch, ST_CHDIR);
	ch->done = 1;
	execve(sp->path, sp->argv, sp->env);
	child_fail(ch, ST_EXEC);
}

/*
 * vfork() in a function of its own, which the child never returns from:
 * it shares our memory and stack until it execs or exits, and writes
 * only into its own frames below this one and into *ch.
 */
static pid_t __attribute__((noinline))
start_child(const struct launch_spawn *sp, pid_t parent, struct chan *ch)
{
	pid_t c = vfork();

	if (c == 0)
		child(sp, parent, ch);
	return c;
}

/* The probe's child: sets the flag, in our memory if it shares it. */
static pid_t __attribute__((noinline))
probe_child(volatile int *flag)
{
	pid_t c = vfork();

	if (c == 0) {
		*flag = 1;
		_exit(0);
	}
	return c;
}

bool
launch_spawn_vfork_shares(void)
{
	volatile int flag = 0;
	sigset_t all, old;
	pid_t c;

	/* As for a spawn: no handler of ours may run in the child. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	c = probe_child(&flag);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (c < 0)
		return false;	/* the pipe, then: it works either way */
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	return flag == 1;
}

/*
 * The child's report, once vfork() has returned. A real vfork() resumes
 * us only when the child has exited or its execve() has passed the
 * point of no return (the kernel releases us as it replaces the
 * memory), and the child set ch->done before either: then its report is
 * in *ch already, with nothing to wait for. Reading a pipe instead would
 * wait for its end of file, which comes a little later in the exec
 * (when the close-on-exec descriptors are closed): a sleep and a
 * wake-up per spawn, 0.1 to 0.4 ms on a busy 2-CPU machine. So the pipe
 * (rfd) is there, and read, only where vfork() does not share memory.
 * Returns 1 with *rep filled when the child failed, else 0.
 */
static int
child_report(struct chan *ch, int rfd, struct report *rep)
{
	ssize_t n;

	if (rfd >= 0) {
		do
			n = read(rfd, rep, sizeof(*rep));
		while (n < 0 && errno == EINTR);
		return n == (ssize_t)sizeof(*rep);
	}
	if (!ch->done) {
		/* It exited before any report: only when its parent was
		 * gone, which we are not. */
		rep->step = 0;
		rep->err = EIO;
		return 1;
	}
	rep->step = ch->step;
	rep->err = ch->err;
	return rep->step != 0;
}

int
launch_spawn_start(const struct launch_spawn *sp, pid_t *pid, int *pidfd,
    char *err, size_t errlen)
{
	sigset_t all, old;
	struct chan ch = { .done = 0 };
	struct report rep;
	pid_t parent = getpid(), c;
	int p[2] = { -1, -1 }, e, fd, failed;

	if (!sp->vfork_shares && pipe2(p, O_CLOEXEC) != 0) {
		e = errno;
		snprintf(err, errlen, "pipe: %s", strerror(e));
		return -e;
	}
	ch.wfd = p[1];
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	c = start_child(sp, parent, &ch);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p[1] >= 0)
		close(p[1]);
	if (c < 0) {
		if (p[0] >= 0)
			close(p[0]);
		snprintf(err, errlen, "vfork: %s", strerror(e));
		return -e;
	}
	failed = child_report(&ch, p[0], &rep);
	if (p[0] >= 0)
		close(p[0]);
	if (failed) {
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		e = rep.err > 0 ? rep.err : EIO;
		snprintf(err, errlen, "%s%s%s: %s",
		    rep.step > 0 && rep.step <= ST_EXEC ? step_name[rep.step] : "?",
		    rep.step == ST_EXEC ? " " : "",
		    rep.step == ST_EXEC ? sp->path : "", strerror(e));
		return -e;
	}
	fd = (int)syscall(SYS_pidfd_open, c, 0);
	if (fd < 0) {
		e = errno;
		/* We cannot watch it: it must not run unwatched. */
		kill(-c, SIGKILL);
		kill(c, SIGKILL);
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		snprintf(err, errlen, "pidfd_open: %s", strerror(e));
		return -e;
	}
	/* pidfd_open() sets close-on-exec itself. */
	*pid = c;
	*pidfd = fd;
	return 0;
}

int
launch_spawn_status(int pidfd, int *status, int *termsig)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si,
	    WEXITED | WNOHANG | WNOWAIT) != 0)
		return -errno;
	if (si.si_pid == 0)
		return 0;
	*status = si.si_code == CLD_EXITED ? si.si_status : 0;
	*termsig = si.si_code == CLD_EXITED ? 0 : si.si_status;
	return 1;
}

int
launch_spawn_reap(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) != 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int
launch_proc_stat(const char *pid, char *state, int *pgrp, int *sid)
{
	char path[300], buf[256], *rp;
	int ppid, fd;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	/* "pid (comm) state ppid pgrp session ...": comm may hold
	 * anything, ')' and spaces too: the fields count from the last ')'. */
	if (!(rp = strrchr(buf, ')')) ||
	    sscanf(rp + 1, " %c %d %d %d", state, &ppid, pgrp, sid) != 4)
		return -1;
	return 0;
}

bool
launch_proc_dead(pid_t pid)
{
	char name[24], state;
	int pgrp, sid;

	snprintf(name, sizeof(name), "%ld", (long)pid);
	return launch_proc_stat(name, &state, &pgrp, &sid) < 0 ||
	    state == 'Z' || state == 'X';
}

/* Mark the group of process pid (a decimal string) in live[], if it is
 * one of pgid[] and the process is not a zombie. */
static void
mark_group(const char *pid, const pid_t *pgid, size_t n, bool *live)
{
	char state;
	int pgrp, sid;

	if (launch_proc_stat(pid, &state, &pgrp, &sid) < 0 || state == 'Z' ||
	    state == 'X')
		return;
	for (size_t i = 0; i < n; i++)
		if (pgid[i] == pgrp)
			live[i] = true;
}

/*
 * At teardown launch asks this for every service, to say whether one
 * left processes behind. A pass over /proc reads the stat file of every
 * process on the machine (milliseconds on a busy one), so it is done
 * once for all groups, and over launch's cgroup alone when there is one:
 * every process a service started is in it.
 */
void
launch_groups_live(const pid_t *pgid, size_t n, const char *cgroup,
    bool *live)
{
	struct dirent *e;
	char path[PATH_MAX + 16];
	DIR *d;
	FILE *f;
	int pid;

	memset(live, 0, n * sizeof(*live));
	if (n == 0)
		return;
	if (cgroup && cgroup[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		if ((f = fopen(path, "re"))) {
			while (fscanf(f, "%d", &pid) == 1) {
				char num[16];

				snprintf(num, sizeof(num), "%d", pid);
				mark_group(num, pgid, n, live);
			}
			fclose(f);
			return;
		}
	}
	if (!(d = opendir("/proc"))) {
		for (size_t i = 0; i < n; i++)
			live[i] = kill(-pgid[i], 0) == 0;
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			mark_group(e->d_name, pgid, n, live);
	closedir(d);
}

size_t
launch_children_list(pid_t pid, pid_t *out, size_t max)
{
	char dir[64];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	/* A child belongs to the thread that forked it (orphans to the
	 * thread they were reparented to): ask every thread. */
	if (pid > 0)
		snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self/task");
	if (!(d = opendir(dir)))
		return 0;
	while (n < max && (e = readdir(d))) {
		char path[400], buf[4096], *p, *end;
		ssize_t r;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/children", dir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		for (p = buf; n < max; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (v > 0)
				out[n++] = (pid_t)v;
		}
	}
	closedir(d);
	return n;
}
