/*
 * The writer side of the metric store: one process per directory creates
 * key files, maps them read-write and publishes values that readers (see
 * store_reader.c) pick up without locks. Layout: store_format.h and
 * man/metricsd-store.5.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "store.h"
#include "store_format.h"

struct store_key {
	struct store_writer *w;
	char name[STORE_KEY_MAX + 1];
	int fd;
	enum store_kind kind;
	enum store_type type;
	struct store_header *hdr;	/* the whole file, read-write */
	size_t maplen;
	uint64_t *values;		/* series values, after the header */
	uint64_t count;			/* our copy of the published count */
	uint64_t cap;			/* values that fit in maplen */
	char err[STORE_ERR_MAX];
};

struct store_writer {
	char *dir;
	int dirfd;
	int metafd;			/* holds the writer lock */
	struct store_key **keys;
	size_t nkeys;
	size_t keycap;
};

/*
 * Publish protocol (the ordering argument; readers: store_reader.c).
 *
 * A series append writes the value into slot `count` with a plain store,
 * then publishes count + 1 with a release store to the header word. A
 * reader loads the word with an acquire load and reads only slots below
 * what it loaded. Release/acquire makes every store the writer did before
 * the release (the value, and any growth below) visible to a reader whose
 * acquire load returned that count, on every CPU, whatever its native
 * ordering. Values are written once and never again, so a reader can copy
 * them without further synchronisation. No msync is needed: the file's
 * pages are shared memory that every mapping sees directly.
 *
 * Growth: when the file is full, the writer first extends the file with
 * posix_fallocate (so the new pages are backed: no SIGBUS later on a full
 * tmpfs; failure is -ENOSPC and nothing changes), then remaps its own
 * view, then release-stores the new capacity, and only after that
 * publishes a count beyond the old capacity. A reader that acquires such
 * a count therefore also sees the new capacity, and an fstat after that
 * sees a file at least that long; it remaps before reading past its old
 * mapping. The file only ever grows while a writer has it open.
 *
 * Counters are one 64-bit word written with a release store and read with
 * an acquire load: a reader sees some value the writer stored, never a
 * torn mix (64-bit atomics are single-copy atomic on the platforms we
 * build for; store_format.h asserts their size).
 *
 * If the writer is killed at any instant, a reader sees the last
 * published count and the values below it, all of which were fully
 * written before that count was published; a half-written value sits
 * above the count and is never read.
 */

int
store_default_dir(char *buf, size_t len)
{
	const char *env = getenv(STORE_DIR_ENV);
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else
		n = snprintf(buf, len, "/dev/shm/metricsd-%u",
		    (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
store_key_check(const char *name, char *err, size_t errlen)
{
	size_t len;

	if (!name || !*name) {
		errbuf_fmt(err, errlen, "key name is empty");
		return -EINVAL;
	}
	len = strnlen(name, STORE_KEY_MAX + 1);
	if (len > STORE_KEY_MAX) {
		errbuf_fmt(err, errlen,
		    "key name '%.32s...' is longer than %d bytes",
		    name, STORE_KEY_MAX);
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		errbuf_fmt(err, errlen, "key name '%s' is not allowed", name);
		return -EINVAL;
	}
	if (name[0] == '.') {
		errbuf_fmt(err, errlen,
		    "key name '%s' starts with '.' (reserved for the store)",
		    name);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/') {
			errbuf_fmt(err, errlen, "key name '%s' contains '/'",
			    name);
			return -EINVAL;
		}
		if (c < 0x20 || c == 0x7f) {
			errbuf_fmt(err, errlen,
			    "key name contains control character 0x%02x "
			    "at byte %zu", c, i);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Open dir for writing without following a symlink, and make sure only we
 * can get at it: owned by our effective uid, no group or other bits.
 */
static int
dir_open_private(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	bool created = false;
	int fd, e;

	if (mkdir(dir, 0700) == 0)
		created = true;
	else if (errno != EEXIST) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: mkdir: %s", dir,
		    strerror(e));
		return -e;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP || (e == ENOTDIR && lstat(dir, &st) == 0 &&
		    S_ISLNK(st.st_mode))) {
			errbuf_fmt(err, errlen,
			    "store %s: is a symlink; refusing to follow it",
			    dir);
			return -ELOOP;
		}
		errbuf_fmt(err, errlen, "store %s: %s", dir, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: fstat: %s", dir,
		    strerror(e));
		close(fd);
		return -e;
	}
	/* mkdir honours the umask; make sure a fresh directory is 0700. */
	if (created && (st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == 0)
		st.st_mode = (st.st_mode & ~07777u) | 0700;
	if (!S_ISDIR(st.st_mode)) {
		errbuf_fmt(err, errlen, "store %s: not a directory", dir);
		close(fd);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		errbuf_fmt(err, errlen,
		    "store %s: owned by uid %u, not by us (uid %u); "
		    "refusing it", dir, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		errbuf_fmt(err, errlen,
		    "store %s: has mode %04o; it must not be accessible "
		    "to group or others (0700)", dir,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * Take the writer lock: an open file description lock on ".store", held
 * for the writer's whole life and dropped by the kernel when the writer
 * exits, however it exits. Readers test it with F_OFD_GETLK, which never
 * takes it, so no reader can make a writer's open fail.
 */
static int
meta_lock(struct store_writer *w, char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct store_meta m;
	struct stat st;
	int e;

	w->metafd = openat(w->dirfd, STORE_META_NAME,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->metafd < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: open %s: %s", w->dir,
		    STORE_META_NAME, strerror(e));
		return -e;
	}
	if (fstat(w->metafd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		errbuf_fmt(err, errlen,
		    "store %s: %s is not a regular file of ours", w->dir,
		    STORE_META_NAME);
		return -EPERM;
	}
	if (fcntl(w->metafd, F_OFD_SETLK, &fl) < 0) {
		e = errno;
		if (e == EAGAIN || e == EACCES) {
			long pid = 0;

			if (pread(w->metafd, &m, sizeof(m), 0) ==
			    (ssize_t)sizeof(m) &&
			    memcmp(m.magic, STORE_META_MAGIC,
			    STORE_MAGIC_LEN) == 0)
				pid = m.writer_pid;
			errbuf_fmt(err, errlen,
			    "store %s: already open for writing by pid %ld",
			    w->dir, pid);
			return -EBUSY;
		}
		errbuf_fmt(err, errlen, "store %s: locking %s: %s", w->dir,
		    STORE_META_NAME, strerror(e));
		return -e;
	}
	e = posix_fallocate(w->metafd, 0, sizeof(m));
	if (e) {
		errbuf_fmt(err, errlen, "store %s: reserving %s: %s", w->dir,
		    STORE_META_NAME, strerror(e));
		return -e;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.magic, STORE_META_MAGIC, STORE_MAGIC_LEN);
	m.version = STORE_VERSION;
	m.size = sizeof(m);
	m.state = STORE_LIVE;
	m.writer_pid = (int32_t)getpid();
	m.opened_ns = clock_realtime_ns();
	m.byte_order = STORE_BYTE_ORDER;
	if (pwrite(w->metafd, &m, sizeof(m), 0) != (ssize_t)sizeof(m)) {
		e = errno ? errno : EIO;
		errbuf_fmt(err, errlen, "store %s: writing %s: %s", w->dir,
		    STORE_META_NAME, strerror(e));
		return -e;
	}
	return 0;
}

int
store_writer_open(struct store_writer **out, const char *dir,
    char *err, size_t errlen)
{
	struct store_writer *w;
	int r;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir))) {
		free(w);
		errbuf_fmt(err, errlen, "store %s: out of memory", dir);
		return -ENOMEM;
	}
	w->metafd = -1;
	w->dirfd = dir_open_private(dir, err, errlen);
	if (w->dirfd < 0) {
		r = w->dirfd;
		goto fail;
	}
	r = meta_lock(w, err, errlen);
	if (r < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	if (w->metafd >= 0)
		close(w->metafd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->dir);
	free(w);
	return r;
}

static void
key_free(struct store_key *k)
{
	if (k->hdr)
		munmap(k->hdr, k->maplen);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

/*
 * Create a key file under a temporary dot-name (which readers and
 * store_names_list ignore), reserve its space, write the header, and only
 * then rename it into place: a reader that finds the name always finds a
 * complete header, and a stale file of the same name is replaced
 * atomically.
 */
static int
key_create(struct store_writer *w, const char *name, enum store_kind kind,
    enum store_type type, struct store_key **out, char *err, size_t errlen)
{
	char tmp[sizeof(STORE_TMP_PREFIX) + STORE_KEY_MAX];
	struct store_key *k;
	size_t size;
	void *p;
	int r, e;

	*out = NULL;
	r = store_key_check(name, err, errlen);
	if (r < 0)
		return r;
	if (type != STORE_U64 && type != STORE_I64 && type != STORE_F64) {
		errbuf_fmt(err, errlen, "store %s: key '%s': bad value type %d",
		    w->dir, name, (int)type);
		return -EINVAL;
	}
	for (size_t i = 0; i < w->nkeys; i++) {
		if (strcmp(w->keys[i]->name, name) == 0) {
			errbuf_fmt(err, errlen,
			    "store %s: key '%s' already created", w->dir,
			    name);
			return -EEXIST;
		}
	}
	if (w->nkeys == w->keycap) {
		size_t n = w->keycap ? w->keycap * 2 : 16;
		struct store_key **nk = realloc(w->keys, n * sizeof(*nk));

		if (!nk) {
			errbuf_fmt(err, errlen, "store %s: out of memory",
			    w->dir);
			return -ENOMEM;
		}
		w->keys = nk;
		w->keycap = n;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		errbuf_fmt(err, errlen, "store %s: out of memory", w->dir);
		return -ENOMEM;
	}
	k->w = w;
	k->fd = -1;
	k->kind = kind;
	k->type = type;
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(tmp, sizeof(tmp), "%s%s", STORE_TMP_PREFIX, name);
	size = kind == STORE_SERIES ? STORE_SERIES_INITIAL_SIZE :
	    STORE_HEADER_SIZE;

	if (unlinkat(w->dirfd, tmp, 0) < 0 && errno != ENOENT) {
		e = errno;
		errbuf_fmt(err, errlen,
		    "store %s: key '%s': removing stale %s: %s", w->dir,
		    name, tmp, strerror(e));
		r = -e;
		goto fail;
	}
	k->fd = openat(w->dirfd, tmp,
	    O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (k->fd < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: key '%s': create: %s",
		    w->dir, name, strerror(e));
		r = -e;
		goto fail;
	}
	e = posix_fallocate(k->fd, 0, (off_t)size);
	if (e) {
		errbuf_fmt(err, errlen,
		    "store %s: key '%s': reserving %zu bytes: %s", w->dir,
		    name, size, strerror(e));
		r = -e;
		goto fail_unlink;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: key '%s': mmap: %s", w->dir,
		    name, strerror(e));
		r = -e;
		goto fail_unlink;
	}
	k->hdr = p;
	k->maplen = size;
	memcpy(k->hdr->magic, STORE_KEY_MAGIC, STORE_MAGIC_LEN);
	k->hdr->version = STORE_VERSION;
	k->hdr->header_size = STORE_HEADER_SIZE;
	k->hdr->kind = kind;
	k->hdr->type = type;
	k->hdr->value_size = STORE_VALUE_SIZE;
	k->hdr->byte_order = STORE_BYTE_ORDER;
	if (kind == STORE_SERIES) {
		k->values = (uint64_t *)((char *)p + STORE_HEADER_SIZE);
		k->cap = (size - STORE_HEADER_SIZE) / STORE_VALUE_SIZE;
	}
	atomic_store_explicit(&k->hdr->capacity, k->cap,
	    memory_order_relaxed);
	atomic_store_explicit(&k->hdr->word, 0, memory_order_relaxed);
	/* The header stores above must be visible before the name is. */
	atomic_thread_fence(memory_order_seq_cst);
	if (renameat(w->dirfd, tmp, w->dirfd, name) < 0) {
		e = errno;
		errbuf_fmt(err, errlen,
		    "store %s: key '%s': rename into place: %s", w->dir,
		    name, strerror(e));
		r = -e;
		goto fail_unlink;
	}
	w->keys[w->nkeys++] = k;
	*out = k;
	return 0;
fail_unlink:
	unlinkat(w->dirfd, tmp, 0);
fail:
	key_free(k);
	return r;
}

int
store_counter_create(struct store_writer *w, const char *name,
    enum store_type type, struct store_key **out, char *err, size_t errlen)
{
	return key_create(w, name, STORE_COUNTER, type, out, err, errlen);
}

int
store_series_create(struct store_writer *w, const char *name,
    enum store_type type, struct store_key **out, char *err, size_t errlen)
{
	return key_create(w, name, STORE_SERIES, type, out, err, errlen);
}

void
store_counter_set(struct store_key *k, union store_value v)
{
	atomic_store_explicit(&k->hdr->word, v.u, memory_order_release);
}

uint64_t
store_counter_add(struct store_key *k, uint64_t delta)
{
	/* One writer: a load and a store suffice, no read-modify-write. */
	union store_value v;

	v.u = atomic_load_explicit(&k->hdr->word, memory_order_relaxed);
	if (k->type == STORE_F64)
		v.f += (double)delta;
	else
		v.u += delta;
	atomic_store_explicit(&k->hdr->word, v.u, memory_order_release);
	return v.u;
}

union store_value
store_counter_get(const struct store_key *k)
{
	union store_value v;

	v.u = atomic_load_explicit(&k->hdr->word, memory_order_relaxed);
	return v;
}

/* See "Growth" in the publish protocol comment above. */
static int
series_grow(struct store_key *k, uint64_t values)
{
	struct store_writer *w = k->w;
	size_t newlen = k->maplen;
	void *p;
	int e;

	/* Double until `values` more fit: geometric, so appends stay O(1). */
	while ((newlen - STORE_HEADER_SIZE) / STORE_VALUE_SIZE - k->count <
	    values) {
		if (newlen > SIZE_MAX / 2 || newlen > (size_t)INT64_MAX / 2) {
			snprintf(k->err, sizeof(k->err),
			    "store %s: key '%s': series is too large to grow",
			    w->dir, k->name);
			return -EFBIG;
		}
		newlen *= 2;
	}
	if (newlen == k->maplen)
		return 0;
	e = posix_fallocate(k->fd, (off_t)k->maplen,
	    (off_t)(newlen - k->maplen));
	if (e) {
		snprintf(k->err, sizeof(k->err),
		    "store %s: key '%s': growing to %zu bytes: %s", w->dir,
		    k->name, newlen, strerror(e));
		return -e;
	}
	p = mremap(k->hdr, k->maplen, newlen, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		e = errno;
		snprintf(k->err, sizeof(k->err),
		    "store %s: key '%s': mremap to %zu bytes: %s", w->dir,
		    k->name, newlen, strerror(e));
		return -e;
	}
#ifdef MADV_POPULATE_WRITE
	/*
	 * Map the new half's pages in one call instead of one fault per
	 * page during the appends that follow. Only a speed-up: the space
	 * is already reserved, so failure (old kernel) changes nothing.
	 */
	madvise((char *)p + k->maplen, newlen - k->maplen,
	    MADV_POPULATE_WRITE);
#endif
	k->hdr = p;
	k->maplen = newlen;
	k->values = (uint64_t *)((char *)p + STORE_HEADER_SIZE);
	k->cap = (newlen - STORE_HEADER_SIZE) / STORE_VALUE_SIZE;
	atomic_store_explicit(&k->hdr->capacity, k->cap,
	    memory_order_release);
	return 0;
}

/* The rare part of an append, kept out of line so the common path
 * stays a handful of instructions with no register saves. */
__attribute__((noinline)) static int
append_full(struct store_key *k)
{
	if (k->kind != STORE_SERIES) {
		snprintf(k->err, sizeof(k->err),
		    "store %s: key '%s': not a series", k->w->dir, k->name);
		return -EINVAL;
	}
	return series_grow(k, 1);
}

int
store_series_append(struct store_key *k, union store_value v)
{
	uint64_t n = k->count;

	if (__builtin_expect(n == k->cap, 0)) {
		int r = append_full(k);

		if (r < 0)
			return r;
	}
	k->values[n] = v.u;
	k->count = n + 1;
	atomic_store_explicit(&k->hdr->word, n + 1, memory_order_release);
	return 0;
}

int
store_series_reserve(struct store_key *k, uint64_t n)
{
	if (k->kind != STORE_SERIES) {
		snprintf(k->err, sizeof(k->err),
		    "store %s: key '%s': not a series", k->w->dir, k->name);
		return -EINVAL;
	}
	return series_grow(k, n);
}

uint64_t
store_series_count(const struct store_key *k)
{
	return k->count;
}

const char *
store_key_error(const struct store_key *k)
{
	return k->err;
}

const char *
store_key_name(const struct store_key *k)
{
	return k->name;
}

int
store_writer_mark_incomplete(struct store_writer *w, uint64_t lost)
{
	const uint32_t flags = STORE_META_INCOMPLETE;
	char buf[12];

	/* flags (at 36) and lost (at 40) in one write. */
	static_assert(offsetof(struct store_meta, lost) ==
	    offsetof(struct store_meta, flags) + 4, "lost follows flags");
	memcpy(buf, &flags, 4);
	memcpy(buf + 4, &lost, 8);
	if (pwrite(w->metafd, buf, sizeof(buf),
	    offsetof(struct store_meta, flags)) != (ssize_t)sizeof(buf))
		return errno ? -errno : -EIO;
	return 0;
}

int
store_writer_close(struct store_writer *w, enum store_state end)
{
	uint32_t state = (uint32_t)end;
	int r = 0;

	if (!w)
		return 0;
	for (size_t i = 0; i < w->nkeys; i++)
		key_free(w->keys[i]);
	free(w->keys);
	if (end != STORE_FINAL && end != STORE_INTERRUPTED)
		r = -EINVAL;
	else if (pwrite(w->metafd, &state, sizeof(state),
	    offsetof(struct store_meta, state)) != (ssize_t)sizeof(state))
		r = errno ? -errno : -EIO;
	/* Closing the descriptor releases the writer lock. */
	close(w->metafd);
	close(w->dirfd);
	free(w->dir);
	free(w);
	return r;
}
