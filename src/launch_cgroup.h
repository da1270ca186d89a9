/*
 * Containment of everything a service starts, even what leaves its
 * process group (a daemon that double-forks and calls setsid()):
 *
 * - cgroup v2, where the hierarchy is writable and has cgroup.kill
 *   (Linux 5.14): every launch gets a child cgroup of its own, which
 *   launch joins before it spawns anything, so that every service and
 *   COMMAND is born in it; teardown moves launch back out and writes
 *   cgroup.kill, as systemd does. The watchdog (never in it) creates it
 *   and kills it too, so this holds after SIGKILL of launch as well.
 * - PR_SET_CHILD_SUBREAPER, with or without the cgroup: orphaned
 *   descendants are reparented to launch instead of init, and launch
 *   stops (SIGSTOP, until no new one appears) and then kills them at
 *   teardown; with the cgroup this also takes a daemon that moved out of
 *   it. Not covered: without the cgroup, after SIGKILL of launch, an
 *   escaped process is reparented to init and survives (its group was
 *   never known).
 *
 * The cgroup2 mount is found in /proc/self/mountinfo (hybrid layouts
 * mount it at /sys/fs/cgroup/unified, not /sys/fs/cgroup).
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_CGROUP_H
#define METRICSD_LAUNCH_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Set in the environment to skip cgroups (tests of the fallback). */
#define LAUNCH_CGROUP_DISABLE_ENV "METRICSD_LAUNCH_NO_CGROUP"

/*
 * Create a cgroup for launcher pid under this process's own cgroup v2
 * directory. Returns 0 with its path in out, or a negative errno
 * (-ENOENT: no cgroup2 mount or no cgroup.kill; -EACCES/-EROFS: not
 * writable; -ECANCELED: disabled by LAUNCH_CGROUP_DISABLE_ENV).
 */
int launch_cgroup_create(pid_t launcher, char *out, size_t outlen);

/* Open path/cgroup.procs for writing (close-on-exec): writing "0" there
 * moves the writer in. Returns the fd or a negative errno. */
int launch_cgroup_procs_open(const char *path);

/* Write cgroup.kill: SIGKILL to every process in it. 0 or -errno. */
int launch_cgroup_kill(const char *path);

/* Remove it, waiting up to wait_ms for its processes to be gone.
 * 0 or -errno. */
int launch_cgroup_remove(const char *path, int wait_ms);

/* Is a process in it? (cgroup.events "populated 1") */
int launch_cgroup_populated(const char *path);

#endif
