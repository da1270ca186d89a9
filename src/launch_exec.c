/*
 * How metricsd launch leaves no orphans, even when it is killed with
 * SIGKILL and cannot clean up.
 *
 * 1. The service process itself gets PR_SET_PDEATHSIG(SIGKILL), set in
 *    the child between fork and exec, with the getppid() re-check that
 *    closes the race with a launcher dying before prctl(): see
 *    launch_spawn.c.
 *
 * 2. The service's children. Every service is spawned detached (its own
 *    session, so its own process group, pgid == pid), and teardown
 *    signals the whole group. PDEATHSIG only reaches the group leader, so
 *    a watchdog process, forked by the launcher at start-up, keeps a list
 *    of the groups and kills them all when the launcher goes away. It
 *    learns of that without any signal: it reads a pipe whose only write
 *    ends are held by the launcher (and, briefly, by forked children), and
 *    read() returns 0 exactly when they are all closed, which the kernel
 *    does for a process killed by SIGKILL too. The groups are in memory
 *    shared with the launcher (MAP_SHARED, mapped before the watchdog is
 *    forked): one slot per process launch starts, into which the forked
 *    child stores its own pid (its group id) itself, before exec, so a
 *    group is registered before the service can fork anything: no window
 *    where a child exists that the watchdog does not know about. The
 *    watchdog reads the slots only after that end of file, and the child
 *    holds a write end of the pipe until its exec closes it (close-on-
 *    exec), after its store: so every store is in before the watchdog
 *    looks. (A store costs the child no system call and the watchdog no
 *    wake-up; a write into the pipe per spawn cost both, on the CPUs the
 *    services are starting on.) On a clean exit the launcher writes 0
 *    first, meaning "all reaped, kill nothing".
 *
 * 3. What left its service's group but not its session (setpgid(), as
 *    timeout(1) does): the watchdog kills the registered sessions too,
 *    by a scan of /proc; see kill_sessions().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_cgroup.h"
#include "launch_exec.h"
#include "launch_sockdir.h"
#include "launch_spawn.h"

/*
 * Removing a private socket directory, with whatever the services left
 * in it. They run as we do and may have left anything: a tree of any
 * depth, directories they made unreadable or unwritable, symbolic links
 * (removed, never followed). A directory that is ours is made ours to
 * empty (0700) before it is emptied. Recursion stops TREE_DEPTH_MAX
 * levels down (a stack frame and two descriptors a level): a directory
 * found there is moved up, under a new name, into the directory being
 * removed, and emptied on a later pass, at most TREE_PASSES of them; a
 * rename within the tree is cheap and keeps every descriptor and frame
 * bounded however deep the tree is.
 */
#define TREE_DEPTH_MAX 64
#define TREE_PASSES 1024

struct tree_rm {
	int top;		/* the directory being removed */
	unsigned moved;		/* directories moved up into it this pass */
	unsigned seq;		/* for their names */
};

/* Give a directory of ours, open at fd (O_PATH will do), mode 0700. */
static void
dir_make_ours(int fd)
{
	char proc[64];
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 0700) == 0700)
		return;
	/* fchmod() refuses an O_PATH descriptor; its /proc link is the very
	 * directory we opened, never what a name might point to now. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, 0700) != 0)
		fchmod(fd, 0700);
}

/* Open the directory NAME in dfd for emptying, following no link. */
static int
dir_open(int dfd, const char *name)
{
	int fd, p;

	if ((p = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	dir_make_ours(p);
	fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(p);
	return fd;
}

/* Move the directory NAME in dfd up into the top one, to empty later. */
static void
tree_move_up(struct tree_rm *t, int dfd, const char *name)
{
	char to[64];

	for (int i = 0; i < 8; i++) {
		snprintf(to, sizeof(to), ".metricsd-rm-%d-%u", (int)getpid(),
		    t->seq++);
		if (renameat2(dfd, name, t->top, to, RENAME_NOREPLACE) == 0) {
			t->moved++;
			return;
		}
		if (errno != EEXIST)
			return;
	}
}

/* Remove everything in the directory open at dfd; dfd stays open. */
static void
tree_empty(struct tree_rm *t, int dfd, int depth)
{
	struct dirent *e;
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	/* The copy shares dfd's offset: at the end after an earlier pass. */
	rewinddir(d);
	while ((e = readdir(d))) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* A symlink is an entry like any other: unlinked, not followed. */
		if (unlinkat(dfd, e->d_name, 0) == 0 || errno != EISDIR)
			continue;
		if (depth >= TREE_DEPTH_MAX) {
			tree_move_up(t, dfd, e->d_name);
			continue;
		}
		if ((sub = dir_open(dfd, e->d_name)) < 0)
			continue;
		tree_empty(t, sub, depth + 1);
		close(sub);
		unlinkat(dfd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

int
launch_dir_remove(const char *dir)
{
	struct tree_rm t = { .top = -1 };
	int fd = dir_open(AT_FDCWD, dir);

	if (fd < 0)
		return -errno;
	t.top = fd;
	for (int pass = 0; pass < TREE_PASSES; pass++) {
		t.moved = 0;
		tree_empty(&t, fd, 0);
		if (!t.moved)
			break;
	}
	close(fd);
	return rmdir(dir) == 0 ? 0 : -errno;
}

/*
 * The launcher died without cleaning up: remove its sockets, and only
 * its own (the directory may be shared with other launchers), or all of
 * its private directory.
 */
static void
cleanup_dir(const char *dir, bool rm, bool private, pid_t launcher)
{
	char ready[64], notify[64];
	DIR *d;
	struct dirent *e;
	int dfd;

	if (dir && private) {
		launch_dir_remove(dir);
		return;
	}
	if (!dir || !(d = opendir(dir)))
		return;
	snprintf(ready, sizeof(ready), "launch-ready-%d", (int)launcher);
	snprintf(notify, sizeof(notify), "launch-notify-%d-", (int)launcher);
	dfd = dirfd(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ready) == 0 ||
		    strncmp(e->d_name, notify, strlen(notify)) == 0)
			unlinkat(dfd, e->d_name, 0);
	closedir(d);
	if (rm)
		rmdir(dir);
}

/* What the watchdog tells the launcher after creating the directory. */
struct wd_result {
	int32_t r;
	struct launch_sockdir d;
	char cgroup[PATH_MAX];	/* "" when cgroups are not used */
	char err[512];
};

/*
 * The socket directory is created here, by the process that removes it,
 * and only then reported to the launcher: killed at any moment, even
 * right at its start, the launcher leaves no directory behind. The same
 * for the cgroup (launch_cgroup.h), when there is one. Exits when the
 * launcher cannot be told, or when creating failed.
 */
static void
wd_setup(int resfd, const char *configured, pid_t launcher,
    struct wd_result *res)
{
	memset(res, 0, sizeof(*res));
	res->r = launch_sockdir_create(&res->d, configured, res->err,
	    sizeof(res->err));
	if (res->r == 0 && launch_cgroup_create(launcher, res->cgroup,
	    sizeof(res->cgroup)) < 0)
		res->cgroup[0] = '\0';
	if (write(resfd, res, sizeof(*res)) != (ssize_t)sizeof(*res) ||
	    res->r < 0) {
		if (res->r == 0 && res->d.private)
			launch_dir_remove(res->d.path);
		else if (res->r == 0 && res->d.made)
			rmdir(res->d.path);
		if (res->cgroup[0])
			rmdir(res->cgroup);
		_exit(0);
	}
	close(resfd);
}

/* Kill the group in each slot a child filled (0: not started). */
static void
kill_registered(_Atomic int32_t *slots, size_t nslots)
{
	for (size_t i = 0; i < nslots; i++) {
		int32_t g = atomic_load_explicit(&slots[i], memory_order_acquire);

		if (g > 1)
			kill(-g, SIGKILL);
	}
}

/*
 * A process can leave its service's process group without leaving its
 * session: setpgid(0, 0) is all coreutils timeout(1) does, and a shell
 * with job control (set -m) does it for every job. The group kill above
 * misses it; where there is no cgroup (launch_cgroup.h) nothing else
 * would take it. But every service and COMMAND leads a session of its
 * own (setsid() before exec), so its slot holds its session id too: the
 * watchdog also kills every process whose session (field 6 of
 * /proc/PID/stat) is one of those. A process met during a pass may fork
 * before its SIGKILL lands, and /proc may list the child where the pass
 * has already been, so passes repeat until one finds no process it has
 * not killed already (a killed process cannot fork any more; each pass
 * takes one more generation), at most SESS_PASSES passes. Only a process
 * that also calls setsid() escapes this; the cgroup, where there is one,
 * still holds it. A session id is not given to a new session while any
 * process is left in the old one, so a process found in it belongs to
 * the service. A slot whose session has emptied could have its id reused
 * by an unrelated new session leader; this pass runs right after the
 * launcher's death, as the group kill does, whose group ids bear the
 * same risk: the pid space would have had to wrap around since then.
 */
#define SESS_PASSES 8
#define SESS_KILLED_MAX 4096

/* The session id of process name (a decimal string), or -1 (gone, or a
 * zombie: dead already). */
static pid_t
stat_session(const char *name)
{
	char state;
	int pgrp, sid;

	if (launch_proc_stat(name, &state, &pgrp, &sid) < 0 || state == 'Z' ||
	    state == 'X')
		return -1;
	return sid;
}

static bool
registered(const _Atomic int32_t *slots, size_t nslots, pid_t sid)
{
	for (size_t i = 0; i < nslots; i++) {
		int32_t g = atomic_load_explicit(&slots[i], memory_order_acquire);

		if (g > 1 && g == sid)
			return true;
	}
	return false;
}

/* Kill every process of the registered sessions: see above. */
static void
kill_sessions(_Atomic int32_t *slots, size_t nslots)
{
	static pid_t killed[SESS_KILLED_MAX];
	size_t nkilled = 0;
	pid_t self = getpid();

	for (int pass = 0; pass < SESS_PASSES; pass++) {
		bool fresh = false;
		struct dirent *e;
		DIR *d;

		/* Opened again each pass: a listing from its start. */
		if (!(d = opendir("/proc")))
			break;
		while ((e = readdir(d))) {
			char *end;
			long pid = strtol(e->d_name, &end, 10);
			size_t k;

			if (*end || pid <= 1 || pid == self || !registered(slots,
			    nslots, stat_session(e->d_name)))
				continue;
			for (k = 0; k < nkilled && killed[k] != pid; k++)
				;
			if (k < nkilled)
				continue;
			kill((pid_t)pid, SIGKILL);
			/* A full list counts everything as new: more passes,
			 * never fewer. */
			if (nkilled < SESS_KILLED_MAX)
				killed[nkilled++] = (pid_t)pid;
			fresh = true;
		}
		closedir(d);
		if (!fresh)
			break;
	}
}

static void __attribute__((noreturn))
watchdog(int rfd, int resfd, const char *configured, _Atomic int32_t *slots,
    size_t nslots)
{
	pid_t launcher = getppid();
	struct wd_result res;
	const char *sockdir;
	bool rm, private;
	int devnull;

	prctl(PR_SET_NAME, "metricsd-wdog");
	/* Ctrl-C at the terminal is for the launcher to handle; a group kill
	 * aimed at the launcher must not take us out first. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	setpgid(0, 0);
	wd_setup(resfd, configured, launcher, &res);
	sockdir = res.d.path;
	rm = res.d.made;
	private = res.d.private;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (devnull > 2)
			close(devnull);
	}
	/* One call each side of rfd, not a thousand close()s racing the
	 * launcher for the CPU while it starts its services. */
	if (rfd > 3)
		close_range(3, (unsigned)rfd - 1, 0);
	close_range((unsigned)rfd + 1, ~0U, 0);
	for (;;) {
		unsigned char buf[64];
		ssize_t r = read(rfd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* The launcher writes nothing but the 0 of a clean exit: it
		 * reaped everyone (and removed the cgroup, if it could). */
		if (res.cgroup[0])
			rmdir(res.cgroup);
		_exit(0);
	}
	kill_registered(slots, nslots);
	/* Whatever left its group but not its session. */
	kill_sessions(slots, nslots);
	/* And whatever left its session too, where a cgroup holds it. */
	if (res.cgroup[0]) {
		launch_cgroup_kill(res.cgroup);
		launch_cgroup_remove(res.cgroup, 5000);
	}
	cleanup_dir(sockdir, rm, private, launcher);
	_exit(0);
}

int
launch_watchdog_start(struct launch_watchdog *wd, size_t nslots,
    const char *socket_dir, struct launch_sockdir *d, char *cgroup,
    size_t cglen, char *err, size_t errlen)
{
	struct wd_result res;
	size_t len = (nslots ? nslots : 1) * sizeof(*wd->slots);
	_Atomic int32_t *slots;
	int p[2], q[2], e, st;
	ssize_t n;
	pid_t c;

	wd->pid = 0;
	wd->wfd = -1;
	wd->slots = NULL;
	wd->nslots = 0;
	/* Anonymous memory starts zeroed: every slot empty. */
	slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (slots == MAP_FAILED) {
		e = errno;
		snprintf(err, errlen, "start watchdog: mmap: %s", strerror(e));
		return -e;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		e = errno;
		snprintf(err, errlen, "start watchdog: pipe: %s", strerror(e));
		goto fail_map;
	}
	if (pipe2(q, O_CLOEXEC) != 0) {
		e = errno;
		snprintf(err, errlen, "start watchdog: pipe: %s", strerror(e));
		goto fail_p;
	}
	fflush(NULL);
	c = fork();
	if (c < 0) {
		e = errno;
		close(q[0]);
		close(q[1]);
		snprintf(err, errlen, "start watchdog: fork: %s", strerror(e));
		goto fail_p;
	}
	if (c == 0) {
		close(p[1]);
		close(q[0]);
		watchdog(p[0], q[1], socket_dir, slots, nslots);
	}
	close(p[0]);
	close(q[1]);
	do
		n = read(q[0], &res, sizeof(res));
	while (n < 0 && errno == EINTR);
	close(q[0]);
	if (n != (ssize_t)sizeof(res) || res.r < 0) {
		close(p[1]);
		munmap(slots, len);
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof(res)) {
			snprintf(err, errlen, "start watchdog: it died at once");
			return -EIO;
		}
		res.err[sizeof(res.err) - 1] = '\0';
		snprintf(err, errlen, "%s", res.err);
		return res.r;
	}
	*d = res.d;
	snprintf(cgroup, cglen, "%s", res.cgroup);
	wd->pid = c;
	wd->wfd = p[1];
	wd->slots = slots;
	wd->nslots = nslots;
	return 0;
fail_p:
	close(p[0]);
	close(p[1]);
fail_map:
	munmap(slots, len);
	return -e;
}

void
launch_watchdog_stop(struct launch_watchdog *wd)
{
	int32_t zero = 0;
	int st;

	if (wd->wfd >= 0) {
		if (write(wd->wfd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
			/* The watchdog is gone already; nothing to tell. */
		}
		close(wd->wfd);
		wd->wfd = -1;
	}
	if (wd->pid > 0)
		while (waitpid(wd->pid, &st, 0) < 0 && errno == EINTR)
			;
	wd->pid = 0;
	if (wd->slots)
		munmap(wd->slots, (wd->nslots ? wd->nslots : 1) *
		    sizeof(*wd->slots));
	wd->slots = NULL;
}
