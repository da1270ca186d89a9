/*
 * metricsd launch: containment of what leaves a service's process group
 * (a daemon that double-forks and calls setsid): launch's own cgroup v2,
 * else launch as child subreaper. launch_cgroup.h says what each covers.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_cgroup.h"
#include "launch_int.h"
#include "launch_spawn.h"

/*
 * launch joins its cgroup itself (one migration), and every child it
 * forks afterwards is born in it, at no cost per spawn: moving each
 * child in before its exec cost up to milliseconds each (a migration
 * takes the cgroup threadgroup lock). The watchdog, forked before, stays
 * out. At teardown launch moves back out before writing cgroup.kill.
 * Where joining fails, or there is no cgroup, we are the child
 * subreaper of what the services orphan instead (launch_cgroup.h says
 * what each covers); the subreaper is also set with the cgroup, for the
 * case where moving back out fails.
 *
 * Each of those two migrations (in, and back out at teardown) may wait
 * for an RCU grace period in the kernel (the cgroup threadgroup lock):
 * measured from nothing to 12 ms on a busy 2-CPU machine, before the
 * first spawn and again at teardown; the spawns themselves pay nothing.
 * clone3(CLONE_INTO_CGROUP) would start each child in the cgroup with
 * no migration at all, but glibc (2.36) has no clone3(), and a raw
 * clone3 behaves like vfork() only with assembly of our own for each
 * architecture (a child on a stack of its own that calls into C and
 * never returns), which the sanitizers do not know about; without
 * CLONE_VM the child copies our page tables instead, measured at 0.35
 * to 0.6 ms more per spawn than vfork(), which is more than the two
 * migrations from a few dozen services on. So: one migration each way.
 */
void
launch_contain_setup(struct launcher *L)
{
	int fd;

	L->subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
	if (!L->cgroup[0])
		return;
	if ((fd = launch_cgroup_procs_open(L->cgroup)) >= 0) {
		bool ok = write(fd, "0", 1) == 1;

		close(fd);
		if (ok)
			return;
	}
	launch_cgroup_remove(L->cgroup, 0);
	L->cgroup[0] = '\0';
}

/* Leave our cgroup for the one we came from (its parent), so that
 * cgroup.kill spares us. Returns 0 or a negative errno. */
static int
cgroup_leave(struct launcher *L)
{
	char parent[PATH_MAX];
	char *slash;
	int fd, r = 0;

	snprintf(parent, sizeof(parent), "%s", L->cgroup);
	if (!(slash = strrchr(parent, '/')))
		return -EINVAL;
	*slash = '\0';
	if ((fd = launch_cgroup_procs_open(parent)) < 0)
		return fd;
	if (write(fd, "0", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

/* One of the processes launch started (or its watchdog)? */
static bool
launch_own(const struct launcher *L, pid_t pid)
{
	if (pid == L->wd.pid || (L->cmdproc.started && pid == L->cmdproc.pid))
		return true;
	for (size_t j = 0; j < L->n; j++)
		if (L->svc[j].proc.started && pid == L->svc[j].proc.pid)
			return true;
	return false;
}

/* Processes stopped on their way to being killed. */
#define FROZEN_MAX 4096
struct frozen {
	pid_t pid[FROZEN_MAX];
	size_t n;
	size_t live;		/* of them, not yet exited when found */
};

/* Stop each of pids[] not already in f, and add it. Returns how many
 * were new. */
static size_t
freeze(struct frozen *f, const pid_t *pids, size_t n)
{
	size_t added = 0;

	for (size_t i = 0; i < n && f->n < FROZEN_MAX; i++) {
		size_t j = 0;

		while (j < f->n && f->pid[j] != pids[i])
			j++;
		if (j < f->n)
			continue;
		kill(pids[i], SIGSTOP);
		f->live += !launch_proc_dead(pids[i]);
		f->pid[f->n++] = pids[i];
		added++;
	}
	return added;
}

/* Reap whatever has come back to us that we did not start; killed, it
 * exits at once. Killing a parent hands its children to us: go round
 * until none is left (bounded). */
static void
orphans_reap(struct launcher *L)
{
	for (int round = 0; round < 64; round++) {
		pid_t kids[256];
		size_t n = launch_children_list(0, kids, 256), k = 0;

		for (size_t i = 0; i < n; i++) {
			if (launch_own(L, kids[i]))
				continue;
			kill(kids[i], SIGKILL);
			while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
				;
			k++;
		}
		if (k == 0)
			return;
	}
}

/*
 * At teardown, as child subreaper: whatever was orphaned to us and is not
 * a process we started left its service's group. Stop it and everything
 * below it first, going round until a pass finds no new process (a
 * stopped process cannot fork, so a daemon that keeps forking cannot
 * outrun us), then kill them all and reap.
 */
static void
orphans_kill(struct launcher *L)
{
	static struct frozen f;	/* 16 KiB: not on the stack */
	pid_t kids[256];

	f.n = f.live = 0;
	for (int pass = 0; pass < 64; pass++) {
		size_t n = launch_children_list(0, kids, 256), m = 0, added;

		for (size_t i = 0; i < n; i++)
			if (!launch_own(L, kids[i]))
				kids[m++] = kids[i];
		added = freeze(&f, kids, m);
		for (size_t i = 0; i < f.n; i++) {
			n = launch_children_list(f.pid[i], kids, 256);
			added += freeze(&f, kids, n);
		}
		if (added == 0)
			break;
	}
	for (size_t i = 0; i < f.n; i++) {
		if (getpgid(f.pid[i]) == f.pid[i])
			kill(-f.pid[i], SIGKILL);
		kill(f.pid[i], SIGKILL);
	}
	orphans_reap(L);
	if (f.live > 0)
		log_warn("killed %zu process%s that had left their service's "
		    "process group", f.live, f.live == 1 ? "" : "es");
}

/* At teardown: kill what left its service's group. */
void
launch_contain_kill(struct launcher *L)
{
	if (L->cgroup[0] && cgroup_leave(L) < 0) {
		log_warn("cannot leave cgroup %s:", L->cgroup);
		L->cgroup[0] = '\0';	/* cgroup.kill would take us too */
	}
	/* Both, where both are there: the subreaper also takes a daemon
	 * moved out of the cgroup (root can), and reaps what cgroup.kill
	 * killed and handed to us. */
	if (L->subreaper)
		orphans_kill(L);
	if (L->cgroup[0])
		launch_cgroup_kill(L->cgroup);
	if (L->subreaper)
		orphans_reap(L);
}
