/*
 * Process plumbing for metricsd launch: the watchdog that takes every
 * service's whole process group with the launcher, however it dies.
 */
#ifndef METRICSD_LAUNCH_EXEC_H
#define METRICSD_LAUNCH_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch_sockdir.h"

/* The watchdog, as the launcher holds it. */
struct launch_watchdog {
	pid_t pid;
	int wfd;		/* closed (by any death): the launcher is gone */
	_Atomic int32_t *slots;	/* shared with it: one process group each */
	size_t nslots;
};

/*
 * Fork the watchdog. It first creates the socket directory
 * (launch_sockdir_create() with socket_dir, NULL for a private one) and
 * reports it in *d, so that a launcher killed at any moment leaves no
 * directory behind; and likewise a cgroup for the services, its path in
 * cgroup ("" when cgroups cannot be used; see launch_cgroup.h). Then it
 * waits on a pipe whose write end is wd->wfd (close-on-exec), and when
 * every write end is closed (the launcher exited, however it died)
 * without a 0 written first, it sends SIGKILL to the process group in
 * each of the nslots wd->slots, memory it shares with the launcher, in
 * which each process launch starts stores its own pid before exec
 * (launch_spawn.watchdog_slot; 0: none), and to every process whose
 * session is one of those pids (each such process leads its own
 * session: what left its group by setpgid() is still in it); removes
 * the launcher's sockets
 * ("launch-*") from the directory, and the directory itself when it
 * made it (a private one with everything in it); kills and removes the
 * cgroup; then exits. Call before any thread exists. Returns 0, or a
 * negative errno with err set (the watchdog has then exited and been
 * reaped).
 */
int launch_watchdog_start(struct launch_watchdog *wd, size_t nslots,
    const char *socket_dir, struct launch_sockdir *d, char *cgroup,
    size_t cglen, char *err, size_t errlen);

/*
 * Remove dir and everything in it, following no symbolic link (a link
 * is removed, never its target), at any depth, giving each directory of
 * our user's mode 0700 first (a service may have left one unwritable).
 * Only for a directory that is ours alone: the launcher's private
 * socket directory. Returns 0 or -errno (of the final rmdir: what could
 * not be removed is left in place).
 */
int launch_dir_remove(const char *dir);

/* Tell the watchdog all is reaped, reap it (it exits at once) and unmap
 * the slots. Safe on one that was never started. */
void launch_watchdog_stop(struct launch_watchdog *wd);

#endif
