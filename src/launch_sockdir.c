/* launch's socket directory: creation and policy (see launch_sockdir.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch_sockdir.h"

int
launch_sockdir_create(struct launch_sockdir *d, const char *configured,
    char *err, size_t errlen)
{
	int n, e;

	memset(d, 0, sizeof(*d));
	if (!configured) {
		const char *tmp = getenv("TMPDIR");

		if (!tmp || tmp[0] != '/')
			tmp = "/tmp";
		n = snprintf(d->path, sizeof(d->path),
		    "%s/metricsd-launch.XXXXXX", tmp);
		if (n < 0 || (size_t)n >= sizeof(d->path)) {
			snprintf(err, errlen, "create private socket directory "
			    "in %.200s: path too long", tmp);
			return -ENAMETOOLONG;
		}
		if (!mkdtemp(d->path)) {
			e = errno;
			snprintf(err, errlen, "create private socket directory "
			    "in %.200s: %s", tmp, strerror(e));
			d->path[0] = '\0';
			return -e;
		}
		d->private = d->made = true;
		return 0;
	}
	n = snprintf(d->path, sizeof(d->path), "%s", configured);
	if (n < 0 || (size_t)n >= sizeof(d->path)) {
		snprintf(err, errlen, "socket directory %.200s...: too long",
		    configured);
		d->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (mkdir(d->path, 0700) == 0) {
		d->made = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	e = errno;
	snprintf(err, errlen, "create socket directory %s: %s", d->path,
	    strerror(e));
	d->path[0] = '\0';
	return -e;
}

int
launch_sockdir_check(const char *path, char *err, size_t errlen)
{
	struct stat st;

	/* lstat: an existing symlink is refused, never followed. */
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "socket directory %s exists and is not a "
		    "directory", path);
		return -ENOTDIR;
	}
	/*
	 * Our sockets go in by name: whoever else may rename or delete
	 * entries here could swap them for theirs. The sticky bit stops
	 * that for a shared directory like /tmp.
	 */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "socket directory %s: owned by uid %u, "
		    "not by us (uid %u); refusing it", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "socket directory %s: writable by group "
		    "or others (mode %04o) and not sticky; refusing it", path,
		    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}
