/*
 * Process plumbing for metricsd launch: the watchdog that takes every
 * service's whole process group with the launcher, however it dies.
 */
#ifndef METRICSD_LAUNCH_EXEC_H
#define METRICSD_LAUNCH_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Fork the watchdog. It reads process-group ids (as int32) from a pipe
 * whose write end is returned in *wfd (close-on-exec), and when every
 * write end is closed (the launcher exited, however it died) it sends
 * SIGKILL to each group, removes the launcher's sockets ("launch-*")
 * from sockdir, and sockdir itself when rmdir_sockdir, then exits. A
 * private_sockdir is removed with everything in it (launch_dir_remove).
 * Call before any thread exists. Returns 0 or -errno.
 */
int launch_watchdog_start(pid_t *pid, int *wfd, const char *sockdir,
    bool rmdir_sockdir, bool private_sockdir);

/*
 * Remove dir and everything in it, following no symbolic link (a link
 * is removed, never its target). Only for a directory that is ours
 * alone: the launcher's private socket directory. Returns 0 or -errno.
 */
int launch_dir_remove(const char *dir);

/* Close the write end and reap the watchdog (it exits at once). */
void launch_watchdog_stop(pid_t pid, int wfd);

#endif
