/*
 * Process plumbing for metricsd launch: the watchdog that takes every
 * service's whole process group with the launcher, however it dies.
 */
#ifndef METRICSD_LAUNCH_EXEC_H
#define METRICSD_LAUNCH_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "launch_sockdir.h"

/*
 * Fork the watchdog. It first creates the socket directory
 * (launch_sockdir_create() with socket_dir, NULL for a private one) and
 * reports it in *d, so that a launcher killed at any moment leaves no
 * directory behind; and likewise a cgroup for the services, its path in
 * cgroup ("" when cgroups cannot be used; see launch_cgroup.h). Then it
 * reads process-group ids (as int32) from a
 * pipe whose write end is returned in *wfd (close-on-exec), and when
 * every write end is closed (the launcher exited, however it died)
 * without a 0 first, it sends SIGKILL to each group, removes the
 * launcher's sockets ("launch-*") from the directory, and the directory
 * itself when it made it (a private one with everything in it), kills
 * and removes the cgroup, then exits. Call before any thread exists. Returns 0, or a negative errno
 * with err set (the watchdog has then exited and been reaped).
 */
int launch_watchdog_start(pid_t *pid, int *wfd, const char *socket_dir,
    struct launch_sockdir *d, char *cgroup, size_t cglen, char *err,
    size_t errlen);

/*
 * Remove dir and everything in it, following no symbolic link (a link
 * is removed, never its target). Only for a directory that is ours
 * alone: the launcher's private socket directory. Returns 0 or -errno.
 */
int launch_dir_remove(const char *dir);

/* Close the write end and reap the watchdog (it exits at once). */
void launch_watchdog_stop(pid_t pid, int wfd);

#endif
