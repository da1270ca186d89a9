/*
 * The directory of launch's sockets (the ready-check endpoint, the
 * notify sockets): a fresh private one, or the configured socket_dir,
 * and the policy that says whether an existing directory may be used.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_SOCKDIR_H
#define METRICSD_LAUNCH_SOCKDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct launch_sockdir {
	char path[PATH_MAX];
	bool private;		/* ours alone: removed with everything in it */
	bool made;		/* we created it (so we remove it) */
};

/*
 * Without configured (NULL): create a private directory
 * $TMPDIR/metricsd-launch.XXXXXX (or under /tmp), mode 0700. With it:
 * mkdir it with mode 0700, or use it as it is if it exists (made false:
 * the caller must then run launch_sockdir_check()). Returns 0 or a
 * negative errno with err set.
 */
int launch_sockdir_create(struct launch_sockdir *d, const char *configured,
    char *err, size_t errlen);

/*
 * May launch put its sockets in the existing directory path? It must be
 * a directory (a symbolic link is refused, never followed), owned by us
 * or root, and not writable by group or others unless sticky. Returns 0,
 * or -ENOTDIR / -EPERM / another negative errno with err set.
 */
int launch_sockdir_check(const char *path, char *err, size_t errlen);

#endif
