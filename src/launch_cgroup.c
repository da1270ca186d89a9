/* cgroup v2 containment for metricsd launch (see launch_cgroup.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launch_cgroup.h"

/*
 * The cgroup2 mount: in /proc/self/mountinfo, the line whose filesystem
 * type (after " - ") is cgroup2. Fields 4 and 5 are the mount's root
 * within the hierarchy and its mount point. (Octal escapes in paths,
 * such as \040 for a space, are not decoded: such mounts are refused.)
 */
static int
cgroup2_mount(char *root, size_t rootlen, char *mnt, size_t mntlen)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), r4[PATH_MAX], m5[PATH_MAX];
		char fstype[32];

		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", r4, m5) != 2 ||
		    strchr(r4, '\\') || strchr(m5, '\\'))
			continue;
		if (snprintf(root, rootlen, "%s", r4) >= (int)rootlen ||
		    snprintf(mnt, mntlen, "%s", m5) >= (int)mntlen)
			continue;
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/* Our cgroup v2 path, "0::/path" in /proc/self/cgroup. */
static int
self_cgroup(char *out, size_t outlen)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (snprintf(out, outlen, "%s", line + 3) < (int)outlen)
			r = 0;
		break;
	}
	fclose(f);
	return r;
}

int
launch_cgroup_create(pid_t launcher, char *out, size_t outlen)
{
	char root[PATH_MAX], mnt[PATH_MAX], self[PATH_MAX], kill[PATH_MAX + 16];
	const char *rel;
	size_t rl;
	int r, n;

	if (getenv(LAUNCH_CGROUP_DISABLE_ENV))
		return -ECANCELED;
	if ((r = cgroup2_mount(root, sizeof(root), mnt, sizeof(mnt))) < 0 ||
	    (r = self_cgroup(self, sizeof(self))) < 0)
		return r;
	/* Our path is relative to the hierarchy's root; the mount shows
	 * the part under its own root. */
	rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (rl && (strncmp(self, root, rl) != 0 || (self[rl] && self[rl] != '/')))
		return -ENOENT;
	rel = self + rl;
	if (!*rel || strcmp(rel, "/") == 0)
		n = snprintf(out, outlen, "%s/metricsd-launch-%d", mnt,
		    (int)launcher);
	else
		n = snprintf(out, outlen, "%s%s/metricsd-launch-%d", mnt, rel,
		    (int)launcher);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) != 0)
		return -errno;
	snprintf(kill, sizeof(kill), "%s/cgroup.kill", out);
	if (access(kill, W_OK) != 0) {
		r = -errno;
		rmdir(out);
		return r == -ENOENT ? -ENOENT : r;
	}
	return 0;
}

int
launch_cgroup_procs_open(const char *path)
{
	char p[PATH_MAX + 16];
	int fd;

	snprintf(p, sizeof(p), "%s/cgroup.procs", path);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
launch_cgroup_kill(const char *path)
{
	char p[PATH_MAX + 16];
	int fd, r = 0;

	snprintf(p, sizeof(p), "%s/cgroup.kill", path);
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

int
launch_cgroup_populated(const char *path)
{
	char p[PATH_MAX + 16], buf[256];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/cgroup.events", path);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return strstr(buf, "populated 1") != NULL;
}

int
launch_cgroup_remove(const char *path, int wait_ms)
{
	struct timespec ts = { 0, 5 * 1000000 };

	for (int waited = 0;; waited += 5) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || waited >= wait_ms)
			return -errno;
		/* Killed processes take a moment to leave. */
		nanosleep(&ts, NULL);
	}
}
