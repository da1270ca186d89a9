/*
 * Scraping stores: discovery, one follower per store (store_follow.c),
 * and the hand-off to the exposition renderer (prom.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prom.h"
#include "scrape.h"
#include "store.h"
#include "store_follow.h"
#include "text.h"

/* One store directory and its follower. */
struct sstore {
	char *path;
	struct store_follow *follow;
	char *problem;
};

struct scrape {
	char **dirs;
	size_t ndirs;
	struct sstore **stores;
	size_t nstores;
	char **root_problem;		/* per dir */
	void (*warn)(void *arg, const char *msg);
	void *arg;
};

int
scrape_open(struct scrape **out, const char *const *dirs, size_t n,
    void (*warn)(void *arg, const char *msg), void *arg)
{
	struct scrape *s = calloc(1, sizeof(*s));

	if (!s || !(s->dirs = calloc(n ? n : 1, sizeof(char *))) ||
	    !(s->root_problem = calloc(n ? n : 1, sizeof(char *))))
		goto nomem;
	s->warn = warn;
	s->arg = arg;
	for (; s->ndirs < n; s->ndirs++)
		if (!(s->dirs[s->ndirs] = strdup(dirs[s->ndirs])))
			goto nomem;
	*out = s;
	return 0;
nomem:
	scrape_free(s);
	return -ENOMEM;
}

/* A problem of a directory or a store, reported once. */
#define report(s, slot, ...) \
	store_follow_report((slot), (s)->warn, (s)->arg, __VA_ARGS__)

static void
sstore_free(struct sstore *st)
{
	if (!st)
		return;
	store_follow_free(st->follow);
	free(st->path);
	free(st->problem);
	free(st);
}

void
scrape_free(struct scrape *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstores; i++)
		sstore_free(s->stores[i]);
	free(s->stores);
	for (size_t i = 0; i < s->ndirs; i++) {
		free(s->dirs[i]);
		free(s->root_problem[i]);
	}
	free(s->dirs);
	free(s->root_problem);
	free(s);
}

/* ---- discovery ---- */

struct found {
	char **paths;
	size_t n, cap;
};

static int
found_add(struct found *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->paths[i], path) == 0)
			return 0;
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 8;
		char **np = realloc(f->paths, nc * sizeof(*np));

		if (!np)
			return -ENOMEM;
		f->paths = np;
		f->cap = nc;
	}
	if (!(f->paths[f->n] = strdup(path)))
		return -ENOMEM;
	f->n++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * dir is a store, or a parent of stores (its subdirectories, not
 * following symlinks, in name order), or does not exist (yet): nothing.
 */
static int
discover(struct scrape *s, size_t idx, struct found *f)
{
	const char *dir = s->dirs[idx];
	char err[STORE_ERR_MAX], **subs = NULL;
	size_t nsubs = 0, cap = 0;
	struct store_status st;
	struct dirent *de;
	DIR *d;
	int r, fd;

	if ((r = store_status_read(dir, &st, err, sizeof(err))) < 0) {
		report(s, &s->root_problem[idx], "%s", err);
		return 0;
	}
	if (st.exists) {
		report(s, &s->root_problem[idx], NULL);
		return found_add(f, dir);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (e == ENOENT)
			report(s, &s->root_problem[idx], NULL);
		else
			report(s, &s->root_problem[idx], "metrics dir %s: %s",
			    dir, strerror(e));
		return 0;
	}
	report(s, &s->root_problem[idx], NULL);
	r = 0;
	while ((de = readdir(d))) {
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		if (nsubs == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **np = realloc(subs, nc * sizeof(*np));

			if (!np) {
				r = -ENOMEM;
				break;
			}
			subs = np;
			cap = nc;
		}
		if (asprintf(&subs[nsubs], "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		nsubs++;
	}
	closedir(d);
	if (nsubs > 1)
		qsort(subs, nsubs, sizeof(*subs), name_cmp);
	for (size_t i = 0; i < nsubs; i++) {
		if (r == 0 && store_status_read(subs[i], &st, err,
		    sizeof(err)) == 0 && st.exists)
			r = found_add(f, subs[i]);
		free(subs[i]);
	}
	free(subs);
	return r;
}

static struct sstore *
sstore_new(struct scrape *s, const char *path)
{
	struct sstore *st = calloc(1, sizeof(*st));
	size_t len;

	if (!st || !(st->path = strdup(path)))
		goto nomem;
	/* Trailing slashes aside, so that messages name it one way. */
	len = strlen(st->path);
	while (len > 1 && st->path[len - 1] == '/')
		st->path[--len] = '\0';
	if (store_follow_open(&st->follow, st->path, s->warn, s->arg) < 0)
		goto nomem;
	return st;
nomem:
	sstore_free(st);
	return NULL;
}

/*
 * Make s->stores the stores found, in discovery order: existing state is
 * kept for stores still there, new ones start empty, the rest is freed.
 */
static int
stores_update(struct scrape *s)
{
	struct found f = { 0 };
	struct sstore **next = NULL;
	int r = 0;

	for (size_t i = 0; i < s->ndirs && r == 0; i++)
		r = discover(s, i, &f);
	if (r == 0 && f.n && !(next = calloc(f.n, sizeof(*next))))
		r = -ENOMEM;
	for (size_t i = 0; i < f.n && r == 0; i++) {
		for (size_t j = 0; j < s->nstores; j++) {
			if (s->stores[j] &&
			    strcmp(s->stores[j]->path, f.paths[i]) == 0) {
				next[i] = s->stores[j];
				s->stores[j] = NULL;
				break;
			}
		}
		if (!next[i] && !(next[i] = sstore_new(s, f.paths[i])))
			r = -ENOMEM;
	}
	for (size_t i = 0; i < f.n; i++)
		free(f.paths[i]);
	free(f.paths);
	if (r < 0) {
		/* Put back what was taken; nothing is lost. */
		for (size_t i = 0; next && i < f.n; i++) {
			if (!next[i])
				continue;
			for (size_t j = 0; j < s->nstores; j++) {
				if (!s->stores[j]) {
					s->stores[j] = next[i];
					next[i] = NULL;
					break;
				}
			}
			sstore_free(next[i]);
		}
		free(next);
		return r;
	}
	for (size_t j = 0; j < s->nstores; j++)
		sstore_free(s->stores[j]);
	free(s->stores);
	s->stores = next;
	s->nstores = f.n;
	return 0;
}

/* ---- reading one store ---- */

static int
name_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The keys asked for, sorted and each once, as a listing would give
 * them: which of two clashing keys of a store is exported must not
 * depend on the order they were asked for. NULL in, NULL out.
 */
static int
wanted_sorted(const char *const *keys, size_t nkeys, const char ***out,
    size_t *n)
{
	const char **w;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (!keys)
		return 0;
	if (!(w = malloc((nkeys ? nkeys : 1) * sizeof(*w))))
		return -ENOMEM;
	memcpy(w, keys, nkeys * sizeof(*w));
	if (nkeys > 1)
		qsort(w, nkeys, sizeof(*w), name_cmp_str);
	for (size_t i = 0; i < nkeys; i++)
		if (m == 0 || strcmp(w[m - 1], w[i]) != 0)
			w[m++] = w[i];
	*out = w;
	*n = m;
	return 0;
}

/* Refresh one store into out: 1 filled, 0 left out (no store), -ENOMEM. */
static int
store_read(struct sstore *st, const char *const *want, size_t nwant,
    struct store_snap *out)
{
	const struct store_snap *snap;
	int r;

	if ((r = store_follow_refresh(st->follow, want, nwant, &snap)) < 0)
		return r;
	if (!snap->status.exists)
		return 0;
	*out = *snap;
	return 1;
}

/* The first of keys[0..nkeys) that no store exports, or NULL. */
static const char *
first_missing(const struct store_snap *ps, size_t n, const char *const *keys,
    size_t nkeys)
{
	for (size_t i = 0; keys && i < nkeys; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++)
			for (size_t k = 0; k < ps[j].nkeys && !found; k++)
				found = ps[j].keys[k].state == STORE_SNAP_OK &&
				    strcmp(ps[j].keys[k].name, keys[i]) == 0;
		if (!found)
			return keys[i];
	}
	return NULL;
}

/*
 * Refresh every store (discovery first) into *out, a malloc'd array of
 * *n snapshots in discovery order, stores whose run label is taken
 * already left out (counted in *skipped) and stores that do not exist
 * skipped silently; *nk counts the keys read.
 */
static int
collect(struct scrape *s, const char *const *want, size_t nwant,
    struct store_snap **out, size_t *n_out, size_t *nk_out, size_t *skipped)
{
	struct store_snap *ps = NULL;
	char **label = NULL;		/* run labels as exported, per ps[] */
	size_t n = 0, nk = 0;
	int r;

	*out = NULL;
	*n_out = *nk_out = 0;
	if ((r = stores_update(s)) < 0)
		return r;
	if (s->nstores && (!(ps = calloc(s->nstores, sizeof(*ps))) ||
	    !(label = calloc(s->nstores, sizeof(*label))))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nstores; i++) {
		struct sstore *st = s->stores[i];
		bool dup = false;

		/*
		 * The run label must tell stores apart: first one wins. Compare
		 * the labels as exported: names that differ only in bytes that
		 * are not UTF-8 come out the same.
		 */
		free(label[n]);
		if (!(label[n] = text_utf8_sanitize(store_follow_run(st->follow)))) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(label[j], label[n]) == 0;
		if (dup) {
			report(s, &st->problem, "store %s: left out: its run "
			    "name '%s' is already used by another store",
			    st->path, store_follow_run(st->follow));
			(*skipped)++;
			continue;
		}
		if ((r = store_read(st, want, nwant, &ps[n])) < 0)
			goto out;
		if (r == 0)
			continue;
		for (size_t k = 0; k < ps[n].nkeys; k++)
			nk += ps[n].keys[k].state == STORE_SNAP_OK;
		n++;
	}
	r = 0;
	*out = ps;
	ps = NULL;
	*n_out = n;
	*nk_out = nk;
out:
	for (size_t i = 0; label && i < s->nstores; i++)
		free(label[i]);
	free(label);
	free(ps);
	return r;
}

int
scrape_render(struct scrape *s, FILE *f, const char *const *keys,
    size_t nkeys, const char **missing, struct scrape_stats *stats)
{
	struct store_snap *ps = NULL;
	const char **want = NULL;
	size_t n = 0, skipped = 0, nk = 0, nwant;
	int r;

	if ((r = wanted_sorted(keys, nkeys, &want, &nwant)) < 0 ||
	    (r = collect(s, want, nwant, &ps, &n, &nk, &skipped)) < 0)
		goto out;
	if (missing)
		*missing = first_missing(ps, n, keys, nkeys);
	r = prom_render(f, ps, n, &skipped);
	if (stats) {
		stats->stores = n;
		stats->keys = nk;
		stats->skipped = skipped;
	}
out:
	free(ps);
	free(want);
	return r;
}

int
scrape_snaps(struct scrape *s, struct store_snap **snaps, size_t *n)
{
	size_t nk, skipped = 0;

	return collect(s, NULL, 0, snaps, n, &nk, &skipped);
}
