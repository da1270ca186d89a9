/*
 * --tokenizer resolution (tok_hub.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tok_hub.h"

static bool
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A hub id: NAME or ORG/NAME of [A-Za-z0-9._-], no "..", no leading '.'. */
static bool
hub_id(const char *s)
{
	int slashes = 0;

	if (*s == '\0' || *s == '.' || *s == '-' || strstr(s, "..") != NULL)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '/') {
			if (++slashes > 1 || p == s || p[1] == '\0' ||
			    p[1] == '.')
				return false;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return false;
	}
	return true;
}

/* The hub cache root, as huggingface_hub picks it. */
static int
cache_root(char *buf, size_t len)
{
	const char *v = getenv("HF_HUB_CACHE");
	int n;

	if (v != NULL && *v != '\0')
		n = snprintf(buf, len, "%s", v);
	else if ((v = getenv("HF_HOME")) != NULL && *v != '\0')
		n = snprintf(buf, len, "%s/hub", v);
	else if ((v = getenv("HOME")) != NULL && *v != '\0')
		n = snprintf(buf, len, "%s/.cache/huggingface/hub", v);
	else
		n = snprintf(buf, len, "~/.cache/huggingface/hub");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Read refs/main: one line, a commit hash or a revision name. */
static int
read_ref(const char *path, char *rev, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, rev, len - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	rev[n] = '\0';
	rev[strcspn(rev, "\r\n \t")] = '\0';
	/* A revision is one path component. */
	if (rev[0] == '\0' || rev[0] == '.' || strchr(rev, '/') != NULL)
		return -ENOENT;
	return 0;
}

int
tok_hub_resolve(const char *spec, char *path, size_t pathlen, char *err,
    size_t errlen)
{
	char root[4096], repo[4096], ref[4200], rev[256];
	int n;

	if (is_file(spec)) {
		n = snprintf(path, pathlen, "%s", spec);
		return n < 0 || (size_t)n >= pathlen ? -ENAMETOOLONG : 0;
	}
	if (is_dir(spec)) {
		n = snprintf(path, pathlen, "%s/tokenizer.json", spec);
		if (n < 0 || (size_t)n >= pathlen)
			return -ENAMETOOLONG;
		if (is_file(path))
			return 0;
		snprintf(err, errlen, "tokenizer %s: directory without "
		    "tokenizer.json (looked at %s)", spec, path);
		return -ENOENT;
	}
	if (!hub_id(spec)) {
		snprintf(err, errlen, "tokenizer %s: no such file or directory, "
		    "and not a hub model id; available built-in: whitespace",
		    spec);
		return -ENOENT;
	}
	if (cache_root(root, sizeof(root)) < 0)
		return -ENAMETOOLONG;
	/* models--ORG--NAME: every '/' of the id becomes "--". */
	n = snprintf(repo, sizeof(repo), "%s/models--", root);
	for (const char *p = spec; *p && (size_t)n + 3 < sizeof(repo); p++) {
		if (*p == '/') {
			repo[n++] = '-';
			repo[n++] = '-';
		} else {
			repo[n++] = *p;
		}
	}
	repo[n] = '\0';
	snprintf(ref, sizeof(ref), "%s/refs/main", repo);
	if (read_ref(ref, rev, sizeof(rev)) < 0) {
		snprintf(err, errlen, "tokenizer %s: not a file or directory, "
		    "and not in the Hugging Face cache (looked at ./%s and %s; "
		    "set HF_HUB_CACHE or HF_HOME, or give a path)", spec, spec,
		    ref);
		return -ENOENT;
	}
	n = snprintf(path, pathlen, "%s/snapshots/%s/tokenizer.json", repo,
	    rev);
	if (n < 0 || (size_t)n >= pathlen)
		return -ENAMETOOLONG;
	if (!is_file(path)) {
		snprintf(err, errlen, "tokenizer %s: not a file or directory, "
		    "and the Hugging Face cache has no tokenizer.json for it "
		    "(looked at ./%s, %s and %s)", spec, spec, ref, path);
		return -ENOENT;
	}
	return 0;
}
