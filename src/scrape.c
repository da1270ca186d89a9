/*
 * Scraping stores: discovery, lock-free reads with incremental rollups,
 * and the hand-off to the exposition renderer (prom.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prom.h"
#include "rollup.h"
#include "scrape.h"
#include "store.h"
#include "text.h"

/* One key of a store: its view, and for a series its rollup. */
struct skey {
	char *name;
	struct store_view *view;	/* NULL while it cannot be opened */
	struct rollup roll;
	dev_t dev;			/* the file the view maps, as */
	ino_t ino;			/* stat saw it before opening */
	char *problem;			/* last warning about it, or NULL */
	bool seen;
};

/* One store directory. */
struct sstore {
	char *path;
	const char *run;		/* basename of path */
	struct skey *keys;
	size_t nkeys;
	char *problem;
	bool seen;
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

/*
 * Report a problem once: *slot remembers the last message, so a problem
 * that persists across scrapes is not repeated; msg NULL clears it.
 */
static void
report(struct scrape *s, char **slot, const char *fmt, ...)
{
	char msg[STORE_ERR_MAX + 256];
	va_list ap;

	if (!fmt) {
		free(*slot);
		*slot = NULL;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*slot && strcmp(*slot, msg) == 0)
		return;
	free(*slot);
	*slot = strdup(msg);
	if (s->warn)
		s->warn(s->arg, msg);
}

static void
skey_clear(struct skey *k)
{
	if (k->view)
		store_view_close(k->view);
	rollup_free(&k->roll);
	free(k->name);
	free(k->problem);
	memset(k, 0, sizeof(*k));
}

static void
sstore_free(struct sstore *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nkeys; i++)
		skey_clear(&st->keys[i]);
	free(st->keys);
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
sstore_new(const char *path)
{
	struct sstore *st = calloc(1, sizeof(*st));
	size_t len;

	if (!st || !(st->path = strdup(path))) {
		free(st);
		return NULL;
	}
	/* The run label: the last path component, trailing slashes aside. */
	len = strlen(st->path);
	while (len > 1 && st->path[len - 1] == '/')
		st->path[--len] = '\0';
	st->run = strrchr(st->path, '/') ? strrchr(st->path, '/') + 1 :
	    st->path;
	return st;
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
		if (!next[i] && !(next[i] = sstore_new(f.paths[i])))
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
skey_cmp(const void *a, const void *b)
{
	return strcmp(((const struct skey *)a)->name,
	    ((const struct skey *)b)->name);
}

/* Find name among the first n keys, which are sorted by name. */
static struct skey *
skey_find(struct sstore *st, size_t n, const char *name)
{
	struct skey want = { .name = (char *)name };

	return n ? bsearch(&want, st->keys, n, sizeof(want), skey_cmp) : NULL;
}

static bool
wanted(const char *name, const char *const *keys, size_t nkeys)
{
	if (!keys)
		return true;
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i], name) == 0)
			return true;
	return false;
}

/* Bring the key list in line with the directory: add new, drop gone. */
static int
keys_update(struct scrape *s, struct sstore *st, const char *const *keys,
    size_t nkeys)
{
	char err[STORE_ERR_MAX], **names;
	size_t n, w = 0, old = st->nkeys;	/* the keys known so far */
	int r;

	if (old > 1)	/* usually sorted already: cheap */
		qsort(st->keys, old, sizeof(*st->keys), skey_cmp);

	if ((r = store_names_list(st->path, &names, &n, err,
	    sizeof(err))) < 0) {
		report(s, &st->problem, "%s", err);
		return r == -ENOMEM ? r : 0;
	}
	report(s, &st->problem, NULL);
	for (size_t i = 0; i < st->nkeys; i++)
		st->keys[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct skey *k;

		if (!wanted(names[i], keys, nkeys))
			continue;
		if ((k = skey_find(st, old, names[i]))) {
			k->seen = true;
			continue;
		}
		k = realloc(st->keys, (st->nkeys + 1) * sizeof(*k));
		if (!k) {
			r = -ENOMEM;
			break;
		}
		st->keys = k;
		k = &st->keys[st->nkeys];
		memset(k, 0, sizeof(*k));
		if (!(k->name = strdup(names[i]))) {
			r = -ENOMEM;
			break;
		}
		k->seen = true;
		st->nkeys++;
	}
	store_names_free(names, n);
	/* Drop keys that are gone, keeping the order of the rest. */
	for (size_t i = 0; i < st->nkeys; i++) {
		if (st->keys[i].seen || r < 0)
			st->keys[w++] = st->keys[i];
		else
			skey_clear(&st->keys[i]);
	}
	st->nkeys = w;
	return r;
}

/*
 * Refresh one key into out. Returns 1 if out is filled, 0 if the key is
 * left out this time (not created yet, or a problem already reported),
 * -ENOMEM.
 */
static int
key_read(struct scrape *s, struct sstore *st, struct skey *k,
    struct prom_key *out)
{
	char err[STORE_ERR_MAX], *path;
	double q[PROM_NQUANTILES];
	struct stat sb;
	int r;

	/*
	 * A writer (re)creates a key by renaming a new file into place, for
	 * instance a new run in the same directory: then the view maps a
	 * file nobody writes any more. Stat the name first and compare; the
	 * stat comes before any open, so a file replaced in between is seen
	 * as changed at the next scrape, never missed.
	 */
	if (asprintf(&path, "%s/%s", st->path, k->name) < 0)
		return -ENOMEM;
	r = fstatat(AT_FDCWD, path, &sb, AT_SYMLINK_NOFOLLOW);
	free(path);
	if (r < 0)
		return 0;	/* gone since the listing */
	if (k->view && (sb.st_dev != k->dev || sb.st_ino != k->ino)) {
		store_view_close(k->view);
		k->view = NULL;
		rollup_free(&k->roll);
	}
	if (!k->view) {
		k->dev = sb.st_dev;
		k->ino = sb.st_ino;
		r = store_view_open(&k->view, st->path, k->name, err,
		    sizeof(err));
		if (r == -ENOENT)
			return 0;
		if (r < 0) {
			k->view = NULL;
			report(s, &k->problem, "%s", err);
			return r == -ENOMEM ? r : 0;
		}
		rollup_init(&k->roll, store_view_type(k->view));
	}
	out->name = k->name;
	out->kind = store_view_kind(k->view);
	out->type = store_view_type(k->view);
	if (out->kind == STORE_COUNTER) {
		out->counter = store_view_counter(k->view);
		report(s, &k->problem, NULL);
		return 1;
	}
	/* Fold only what was appended since the last scrape. */
	if ((r = rollup_fold_view(&k->roll, k->view, NULL, err,
	    sizeof(err))) < 0) {
		report(s, &k->problem, "%s", err);
		return r == -ENOMEM ? r : 0;
	}
	out->summary.count = rollup_count(&k->roll);
	out->summary.sum = rollup_sum(&k->roll);
	r = rollup_percentiles(&k->roll, rollup_grid, q,
	    PROM_NQUANTILES);
	if (r == -ENOMEM)
		return r;
	for (int i = 0; i < PROM_NQUANTILES; i++)
		out->summary.q[i] = r < 0 ? NAN : q[i];
	report(s, &k->problem, NULL);
	return 1;
}

/* Read one store into out (keys allocated in *keys). 1 filled, 0 gone. */
static int
store_read(struct scrape *s, struct sstore *st, const char *const *want,
    size_t nwant, struct prom_store *out, struct prom_key **keys)
{
	char err[STORE_ERR_MAX];
	size_t n = 0;
	int r;

	if ((r = store_status_read(st->path, &out->status, err,
	    sizeof(err))) < 0) {
		report(s, &st->problem, "%s", err);
		return 0;
	}
	if (!out->status.exists)
		return 0;
	if ((r = keys_update(s, st, want, nwant)) < 0)
		return r;
	if (st->nkeys > 1)
		qsort(st->keys, st->nkeys, sizeof(*st->keys), skey_cmp);
	if (!(*keys = calloc(st->nkeys ? st->nkeys : 1, sizeof(**keys))))
		return -ENOMEM;
	for (size_t i = 0; i < st->nkeys; i++) {
		if ((r = key_read(s, st, &st->keys[i], &(*keys)[n])) < 0)
			return r;
		n += (size_t)r;
	}
	out->run = st->run;
	out->keys = *keys;
	out->nkeys = n;
	return 1;
}

int
scrape_render(struct scrape *s, FILE *f, const char *const *keys,
    size_t nkeys, const char **missing, struct scrape_stats *stats)
{
	struct prom_store *ps = NULL;
	struct prom_key **pk = NULL;
	char **label = NULL;		/* run labels as exported, per ps[] */
	size_t n = 0, skipped = 0, nk = 0;
	int r;

	if ((r = stores_update(s)) < 0)
		return r;
	if (s->nstores && (!(ps = calloc(s->nstores, sizeof(*ps))) ||
	    !(pk = calloc(s->nstores, sizeof(*pk))) ||
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
		if (!(label[n] = text_utf8_sanitize(st->run))) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(label[j], label[n]) == 0;
		if (dup) {
			report(s, &st->problem, "store %s: left out: its run "
			    "name '%s' is already used by another store",
			    st->path, st->run);
			skipped++;
			continue;
		}
		if ((r = store_read(s, st, keys, nkeys, &ps[n], &pk[n])) < 0)
			goto out;
		if (r == 0) {
			free(pk[n]);
			pk[n] = NULL;
			continue;
		}
		nk += ps[n].nkeys;
		n++;
	}
	if (missing) {
		*missing = NULL;
		for (size_t i = 0; keys && i < nkeys && !*missing; i++) {
			bool found = false;

			for (size_t j = 0; j < n && !found; j++)
				for (size_t k = 0; k < ps[j].nkeys && !found; k++)
					found = strcmp(ps[j].keys[k].name,
					    keys[i]) == 0;
			if (!found)
				*missing = keys[i];
		}
	}
	r = prom_render(f, ps, n, &skipped);
	if (stats) {
		stats->stores = n;
		stats->keys = nk;
		stats->skipped = skipped;
	}
out:
	for (size_t i = 0; pk && i < s->nstores; i++)
		free(pk[i]);
	for (size_t i = 0; label && i < s->nstores; i++)
		free(label[i]);
	free(label);
	free(pk);
	free(ps);
	return r;
}
