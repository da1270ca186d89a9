/* Following one store: see store_follow.h for the contract. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rollup.h"
#include "store.h"
#include "store_follow.h"

/* One key: its view, and for a series its rollup. */
struct fkey {
	char *name;
	struct store_view *view;	/* NULL while it cannot be opened */
	struct rollup roll;
	dev_t dev;			/* the file the view maps, as */
	ino_t ino;			/* stat saw it before opening */
	char *problem;			/* last warning about it, or NULL */
	bool wanted;			/* asked for at this refresh */
	bool listed;			/* already in this snapshot */
};

struct store_follow {
	char *dir;		/* as given */
	char *runbuf;		/* dir without trailing slashes */
	char *path;		/* "dir/" and room for a key, for stat */
	size_t dirlen;		/* strlen("dir/") */
	struct fkey *keys;	/* sorted by name */
	size_t nkeys;
	struct store_snap_key *out;	/* the snapshot's keys */
	size_t outcap;
	struct store_snap snap;
	char *problem;		/* last warning about the store's status */
	char *list_problem;	/* last warning about listing its keys */
	void (*warn)(void *arg, const char *msg);
	void *arg;
};

int
store_follow_open(struct store_follow **out, const char *dir,
    void (*warn)(void *arg, const char *msg), void *arg)
{
	struct store_follow *f = calloc(1, sizeof(*f));
	size_t len = strlen(dir);

	if (!f || !(f->dir = strdup(dir)) || !(f->runbuf = strdup(dir)) ||
	    !(f->path = malloc(len + STORE_KEY_MAX + 2)))
		goto nomem;
	/* The run label: the last path component, trailing slashes aside. */
	while (len > 1 && f->runbuf[len - 1] == '/')
		f->runbuf[--len] = '\0';
	f->snap.run = strrchr(f->runbuf, '/') ? strrchr(f->runbuf, '/') + 1 :
	    f->runbuf;
	f->snap.dir = f->dir;
	f->dirlen = (size_t)sprintf(f->path, "%s/", f->dir);
	f->warn = warn;
	f->arg = arg;
	*out = f;
	return 0;
nomem:
	store_follow_free(f);
	return -ENOMEM;
}

const char *
store_follow_run(const struct store_follow *f)
{
	return f->snap.run;
}

static void
fkey_clear(struct fkey *k)
{
	if (k->view)
		store_view_close(k->view);
	rollup_free(&k->roll);
	free(k->name);
	free(k->problem);
	memset(k, 0, sizeof(*k));
}

void
store_follow_free(struct store_follow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nkeys; i++)
		fkey_clear(&f->keys[i]);
	free(f->keys);
	free(f->out);
	free(f->path);
	free(f->problem);
	free(f->list_problem);
	free(f->dir);
	free(f->runbuf);
	free(f);
}

void
store_follow_report(char **slot, void (*warn)(void *arg, const char *msg),
    void *arg, const char *fmt, ...)
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
	if (warn)
		warn(arg, msg);
}

/* A problem of this follower's store or keys, reported once. */
#define report(f, slot, ...) \
	store_follow_report((slot), (f)->warn, (f)->arg, __VA_ARGS__)

/* ---- the key table ---- */

static int
fkey_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fkey *)a)->name,
	    ((const struct fkey *)b)->name);
}

static struct fkey *
fkey_find(struct store_follow *f, size_t n, const char *name)
{
	struct fkey want = { .name = (char *)name };

	return n ? bsearch(&want, f->keys, n, sizeof(want), fkey_cmp) : NULL;
}

/*
 * Make the table hold exactly the names wanted: keep the state of those
 * known, add the new ones, forget the rest. The table stays sorted.
 */
static int
keys_update(struct store_follow *f, const char *const *names, size_t n,
    bool unique)
{
	size_t old = f->nkeys, w = 0;
	int r = 0;

	for (size_t i = 0; i < f->nkeys; i++)
		f->keys[i].wanted = f->keys[i].listed = false;
	for (size_t i = 0; i < n; i++) {
		struct fkey *k;

		if ((k = fkey_find(f, old, names[i]))) {
			k->wanted = true;
			continue;
		}
		/* Not in the sorted part: new, unless given twice. */
		for (size_t j = old; !unique && j < f->nkeys && !k; j++)
			if (strcmp(f->keys[j].name, names[i]) == 0)
				k = &f->keys[j];
		if (k)
			continue;
		if (!(k = realloc(f->keys, (f->nkeys + 1) * sizeof(*k)))) {
			r = -ENOMEM;
			break;
		}
		f->keys = k;
		k = &f->keys[f->nkeys];
		memset(k, 0, sizeof(*k));
		if (!(k->name = strdup(names[i]))) {
			r = -ENOMEM;
			break;
		}
		k->wanted = true;
		f->nkeys++;
	}
	/* Forget keys no longer wanted (all kept when out of memory). */
	for (size_t i = 0; i < f->nkeys; i++) {
		if (f->keys[i].wanted || r < 0)
			f->keys[w++] = f->keys[i];
		else
			fkey_clear(&f->keys[i]);
	}
	f->nkeys = w;
	if (f->nkeys > 1)
		qsort(f->keys, f->nkeys, sizeof(*f->keys), fkey_cmp);
	return r;
}

/* ---- reading one key ---- */

/*
 * A series aligned by sample (store_follow.h): its name and the sentinel
 * of its type, or false.
 */
static bool
aligned_sentinel(const char *name, enum store_type t, union store_value *v)
{
	static const char pre[] = "sample_good_", suf[] = "_ns";
	size_t n = strlen(name);

	if (n < sizeof(pre) + sizeof(suf) - 2 ||
	    strncmp(name, pre, sizeof(pre) - 1) != 0 ||
	    strcmp(name + n - (sizeof(suf) - 1), suf) != 0)
		return false;
	if (t == STORE_U64)
		v->u = UINT64_MAX;
	else if (t == STORE_F64)
		v->f = -1.0;
	else
		return false;
	return true;
}

/* Fill the series figures from the rollup. */
static void
series_fill(struct store_follow *f, struct fkey *k, struct store_snap_key *o)
{
	struct store_snap_series *s = &o->series;
	struct rollup *r = &k->roll;
	union store_value sentinel;
	int rc;

	s->aligned = aligned_sentinel(k->name, rollup_type(r), &sentinel);
	s->none = rollup_skipped(r);
	s->count = rollup_count(r) + s->none;
	s->sum = rollup_sum(r);
	s->isum = rollup_sum_int(r);
	rollup_min(r, &s->min);
	rollup_max(r, &s->max);
	s->mean = rollup_mean(r);
	s->stddev = rollup_stddev(r);
	for (int i = 0; i < ROLLUP_GRID_N; i++)
		s->q[i] = NAN;
	if (rollup_count(r) == 0)
		return;
	rc = rollup_percentiles(r, rollup_grid, s->q, ROLLUP_GRID_N);
	if (rc < 0) {
		for (int i = 0; i < ROLLUP_GRID_N; i++)
			s->q[i] = NAN;
		report(f, &k->problem, "key '%s': out of memory sorting "
		    "values", k->name);
		o->state = STORE_SNAP_FAILED;
	}
}

/* Open the key's file, noting first which file the name points to. */
static enum store_snap_state
key_open(struct store_follow *f, struct fkey *k, const struct stat *sb)
{
	char err[STORE_ERR_MAX];
	union store_value sentinel;
	int r;

	k->dev = sb->st_dev;
	k->ino = sb->st_ino;
	r = store_view_open(&k->view, f->dir, k->name, err, sizeof(err));
	if (r == -ENOENT) {
		k->view = NULL;
		return STORE_SNAP_ABSENT;
	}
	if (r < 0) {
		k->view = NULL;
		report(f, &k->problem, "%s", err);
		return STORE_SNAP_BAD;
	}
	rollup_init(&k->roll, store_view_type(k->view));
	if (aligned_sentinel(k->name, store_view_type(k->view), &sentinel))
		rollup_skip_value(&k->roll, sentinel);
	return STORE_SNAP_OK;
}

/* Bring one key up to date into o. */
static void
key_read(struct store_follow *f, struct fkey *k, struct store_snap_key *o)
{
	char err[STORE_ERR_MAX];
	struct stat sb;
	int rc;

	memset(o, 0, sizeof(*o));
	o->name = k->name;
	strcpy(f->path + f->dirlen, k->name);
	if (fstatat(AT_FDCWD, f->path, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		o->state = STORE_SNAP_ABSENT;
		return;
	}
	if (k->view && (sb.st_dev != k->dev || sb.st_ino != k->ino)) {
		/* Replaced: the view maps a file nobody writes any more. */
		store_view_close(k->view);
		k->view = NULL;
		rollup_free(&k->roll);
	}
	if (!k->view && (o->state = key_open(f, k, &sb)) != STORE_SNAP_OK)
		return;
	o->kind = store_view_kind(k->view);
	o->type = store_view_type(k->view);
	if (o->kind == STORE_COUNTER) {
		o->counter = store_view_counter(k->view);
		report(f, &k->problem, NULL);
		return;
	}
	/* Fold only what was appended since the last refresh. */
	if ((rc = rollup_fold_view(&k->roll, k->view, NULL, err,
	    sizeof(err))) < 0) {
		report(f, &k->problem, "%s", err);
		if (rc == -EFBIG) {
			/* Past the limit: skipped, its memory given back. */
			rollup_free(&k->roll);
			o->state = STORE_SNAP_BAD;
			return;
		}
		o->state = STORE_SNAP_FAILED;
		series_fill(f, k, o);
		return;
	}
	series_fill(f, k, o);
	if (o->state != STORE_SNAP_OK)
		return;
	o->values = store_view_values(k->view);
	o->roll = &k->roll;
	report(f, &k->problem, NULL);
}

/* ---- one refresh ---- */

static int
out_reserve(struct store_follow *f, size_t n)
{
	struct store_snap_key *o;

	if (n <= f->outcap)
		return 0;
	if (!(o = realloc(f->out, n * sizeof(*o))))
		return -ENOMEM;
	f->out = o;
	f->outcap = n;
	return 0;
}

int
store_follow_refresh(struct store_follow *f, const char *const *keys,
    size_t nkeys, const struct store_snap **snap)
{
	char err[STORE_ERR_MAX], **names;
	struct store_snap *s = &f->snap;
	size_t n, no = 0;
	bool listed = false;	/* names is a listing to free */
	int r;

	/*
	 * Status first: if the store was already final, every value read
	 * afterwards is final too.
	 */
	memset(&s->status, 0, sizeof(s->status));
	if (store_status_read(f->dir, &s->status, err, sizeof(err)) < 0) {
		memset(&s->status, 0, sizeof(s->status));
		report(f, &f->problem, "%s", err);
	} else {
		report(f, &f->problem, NULL);
	}
	if (!s->status.exists && !keys) {
		s->keys = NULL;
		s->nkeys = 0;
		*snap = s;
		return 0;
	}
	if (keys) {
		names = (char **)keys;
		n = nkeys;
	} else if ((r = store_names_list(f->dir, &names, &n, err,
	    sizeof(err))) == 0) {
		report(f, &f->list_problem, NULL);
		listed = true;
	} else {
		/* Cannot list: go on with the keys known so far. */
		report(f, &f->list_problem, "%s", err);
		if (r == -ENOMEM || !(names = malloc((f->nkeys ? f->nkeys :
		    1) * sizeof(*names))))
			return -ENOMEM;
		for (n = 0; n < f->nkeys; n++)
			names[n] = f->keys[n].name;
	}
	r = keys_update(f, (const char *const *)names, n, !keys);
	if (r == 0)
		r = out_reserve(f, n);
	if (r < 0)
		goto out;
	/* In the order asked for; the table itself is sorted by name. */
	for (size_t i = 0; i < n; i++) {
		struct fkey *k = fkey_find(f, f->nkeys, names[i]);

		if (!k || k->listed)
			continue;
		k->listed = true;
		if (!s->status.exists) {
			memset(&f->out[no], 0, sizeof(f->out[no]));
			f->out[no].name = k->name;
			f->out[no++].state = STORE_SNAP_ABSENT;
			continue;
		}
		key_read(f, k, &f->out[no]);
		/* Every key the store has: one gone since the listing is out. */
		if (!keys && f->out[no].state == STORE_SNAP_ABSENT)
			continue;
		no++;
	}
	s->keys = f->out;
	s->nkeys = no;
	*snap = s;
out:
	if (listed)
		store_names_free(names, n);
	else if (!keys)
		free(names);
	return r;
}
