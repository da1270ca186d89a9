/*
 * The metric store: a directory of mmap'd files, one per key, written by a
 * single process and read lock-free by any number of others.
 *
 * On-disk format: see man/metricsd-store.5. Every file starts with a
 * self-describing header (magic, version, kind, value type, capacity); a
 * series publishes its count with a release store after writing the value,
 * and readers load it with acquire and read only values below it.
 *
 * Library code: nothing here prints or exits. Functions return 0 or a
 * negative errno value and, where an err buffer is given, fill it with
 * "what failed: why" naming the directory or key at fault.
 */
#ifndef METRICSD_STORE_H
#define METRICSD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum store_kind {
	STORE_COUNTER = 1,	/* one 64-bit value */
	STORE_SERIES = 2	/* append-only values with a count */
};

enum store_type {
	STORE_U64 = 1,
	STORE_I64 = 2,
	STORE_F64 = 3
};

/* A stored value; which member is meaningful depends on the key's type. */
union store_value {
	uint64_t u;
	int64_t i;
	double f;
};

/* How the writer left the store (see store_writer_close). */
enum store_state {
	STORE_LIVE = 0,		/* a writer has it open (or died with it open) */
	STORE_FINAL = 1,	/* closed cleanly at the end of the run */
	STORE_INTERRUPTED = 2	/* closed cleanly on a signal, before the end */
};

#define STORE_KEY_MAX 128	/* longest key name, in bytes */
#define STORE_ERR_MAX 512	/* a comfortable size for err buffers */

/* Environment variable that overrides the default store directory. */
#define STORE_DIR_ENV "METRICSD_METRICS_DIR"

/*
 * The default store directory: $METRICSD_METRICS_DIR if set and non-empty,
 * else /dev/shm/metricsd-<uid>. The same for every mode, so `metricsd read`
 * finds what `metricsd aggregate` writes. Returns 0 or -ENAMETOOLONG.
 */
int store_default_dir(char *buf, size_t len);

/*
 * Is name usable as a key? Refuses empty names, "." and "..", '/', control
 * characters, names starting with '.', and names longer than STORE_KEY_MAX.
 * Returns 0 or -EINVAL with the reason in err.
 */
int store_key_check(const char *name, char *err, size_t errlen);

/* ---- Writer side (one process per directory) ---- */

struct store_writer;
struct store_key;	/* the writer's handle on one key; owned by the writer */

/*
 * Open dir for writing: create it (mode 0700, parent must exist) if
 * missing, refuse it if it is a symlink, not a directory, not owned by us
 * or accessible by others, and take the writer lock. A second writer gets
 * -EBUSY and an err naming the directory and the holder's pid.
 */
int store_writer_open(struct store_writer **out, const char *dir,
    char *err, size_t errlen);

/* Create (or truncate and recreate) a key. Files are 0600, O_NOFOLLOW. */
int store_counter_create(struct store_writer *w, const char *name,
    enum store_type type, struct store_key **out, char *err, size_t errlen);
int store_series_create(struct store_writer *w, const char *name,
    enum store_type type, struct store_key **out, char *err, size_t errlen);

/* Counters: a release store of the whole 64-bit value. */
void store_counter_set(struct store_key *k, union store_value v);
/* Add to a u64 counter (i64: two's complement; f64: adds (double)delta);
 * returns the new value's bits. */
uint64_t store_counter_add(struct store_key *k, uint64_t delta);
union store_value store_counter_get(const struct store_key *k);

/*
 * Append one value. Grows the file when full (space reserved with
 * posix_fallocate first, so a full /dev/shm is -ENOSPC here, never SIGBUS
 * later); on any error the values already stored stay readable.
 */
int store_series_append(struct store_key *k, union store_value v);
/*
 * Optional: make room for n more values now (same growth as append), so
 * a full /dev/shm shows up here rather than mid-run. -ENOSPC as above.
 */
int store_series_reserve(struct store_key *k, uint64_t n);
uint64_t store_series_count(const struct store_key *k);

/* Writer's err text of the last failed append on this key (or ""). */
const char *store_key_error(const struct store_key *k);
const char *store_key_name(const struct store_key *k);

/*
 * Record that this run lost data: lost values or events so far (the
 * total, not an increment). Sets the store's "incomplete" flag, which no
 * writer clears, so every reader can tell the run is not whole, live or
 * after the end (see store_status). Call it as often as the count grows.
 * Returns 0 or -errno (the metadata's space was reserved at open, so a
 * full file system does not stop it).
 */
int store_writer_mark_incomplete(struct store_writer *w, uint64_t lost);

/*
 * Mark the store FINAL or INTERRUPTED, unmap every key, release the lock.
 * The directory and its files stay for readers. Returns 0 or -errno
 * (and still frees everything).
 */
int store_writer_close(struct store_writer *w, enum store_state end);

/* ---- Reader side (any process, no locks taken) ---- */

/*
 * State of a store directory as a reader sees it. "Abandoned" (the writer
 * died without closing) is state == STORE_LIVE && !writer_alive. A missing
 * directory or metadata file is exists == false and returns 0.
 */
struct store_status {
	bool exists;		/* the directory and its metadata are there */
	enum store_state state;
	pid_t writer_pid;	/* 0 when unknown */
	bool writer_alive;	/* a writer holds the lock right now */
	bool incomplete;	/* the writer lost data: not the whole run */
	uint64_t lost;		/* values or events lost, when incomplete */
};

int store_status_read(const char *dir, struct store_status *st,
    char *err, size_t errlen);

/*
 * The key names in dir, sorted. Files whose names are not valid keys are
 * skipped. A missing directory gives 0 names, not an error. Free with
 * store_names_free.
 */
int store_names_list(const char *dir, char ***names, size_t *n,
    char *err, size_t errlen);
void store_names_free(char **names, size_t n);

struct store_view;	/* one key mapped read-only by a reader */

/*
 * Map one key. -ENOENT: not created yet (a lazy reader retries later).
 * -EINVAL: the file is not a valid store file (bad magic, unknown version,
 * impossible sizes); err says which and why.
 */
int store_view_open(struct store_view **out, const char *dir,
    const char *name, char *err, size_t errlen);
void store_view_close(struct store_view *v);

const char *store_view_name(const struct store_view *v);
enum store_kind store_view_kind(const struct store_view *v);
enum store_type store_view_type(const struct store_view *v);

/* A counter's current value (acquire load). */
union store_value store_view_counter(const struct store_view *v);

/*
 * Load the series count (acquire) and make sure the mapping covers that
 * many values, remapping if the writer grew the file. On return
 * *count is the number of values safe to read through
 * store_view_values() until the next refresh. Counts never go backwards:
 * a file whose count drops, exceeds its capacity or its size is damaged
 * and gives -EINVAL (the view keeps its last good count). Counters give
 * *count = 0. The view holds no descriptor: growth is seen by the key's
 * name, and -ESTALE says the name no longer points to the file mapped
 * (replaced or removed; open a new view to read the new file).
 */
int store_view_refresh(struct store_view *v, uint64_t *count,
    char *err, size_t errlen);

/*
 * Values [from, to) will not be read again soon: their whole pages leave
 * this process's resident memory (the file keeps them; reading them
 * again faults them back in). A hint: it never fails.
 */
void store_view_release(struct store_view *v, uint64_t from, uint64_t to);

/* The mapped values, in append order, valid below the refreshed count.
 * The pointer may change at each refresh (remap): fetch it again after. */
const union store_value *store_view_values(const struct store_view *v);

#endif
