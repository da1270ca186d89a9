/*
 * The reader side of the metric store: any process maps key files
 * read-only and follows the writer's publish protocol (see the block
 * comment in store.c). Nothing read from the directory is trusted: every
 * header field is checked before it is used to size a mapping or an
 * access.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "store.h"
#include "store_format.h"

/*
 * No descriptor is kept once the file is mapped (a reader following
 * hundreds of stores would hold one per key): the file's size is read
 * again by its path, and only while the name still points to the file
 * mapped (dev, ino).
 */
struct store_view {
	char name[STORE_KEY_MAX + 1];
	int fd;				/* while opening only, else -1 */
	char *path;
	dev_t dev;
	ino_t ino;
	enum store_kind kind;
	enum store_type type;
	const struct store_header *hdr;	/* the file, mapped read-only */
	size_t maplen;
	uint64_t count;			/* last count handed out */
};

/* Bytes a series of n values needs, or 0 when that overflows. */
static uint64_t
series_bytes(uint64_t n)
{
	if (n > (UINT64_MAX - STORE_HEADER_SIZE) / STORE_VALUE_SIZE)
		return 0;
	return STORE_HEADER_SIZE + n * STORE_VALUE_SIZE;
}

int
store_header_check(const struct store_header *h, uint64_t file_size,
    const char *key, char *err, size_t errlen)
{
	if (file_size < STORE_HEADER_SIZE) {
		errbuf_fmt(err, errlen,
		    "key '%s': file is %llu bytes, shorter than a store "
		    "header (%u)", key, (unsigned long long)file_size,
		    STORE_HEADER_SIZE);
		return -EINVAL;
	}
	if (memcmp(h->magic, STORE_KEY_MAGIC, STORE_MAGIC_LEN) != 0) {
		errbuf_fmt(err, errlen,
		    "key '%s': bad magic, not a metricsd store file", key);
		return -EINVAL;
	}
	if (h->byte_order != STORE_BYTE_ORDER) {
		errbuf_fmt(err, errlen,
		    "key '%s': written with a different byte order", key);
		return -EINVAL;
	}
	if (h->version != STORE_VERSION) {
		errbuf_fmt(err, errlen,
		    "key '%s': unknown format version %u (this metricsd "
		    "reads version %u)", key, h->version, STORE_VERSION);
		return -EINVAL;
	}
	if (h->header_size != STORE_HEADER_SIZE ||
	    h->value_size != STORE_VALUE_SIZE) {
		errbuf_fmt(err, errlen,
		    "key '%s': impossible header size %u or value size %u",
		    key, h->header_size, h->value_size);
		return -EINVAL;
	}
	if (h->kind != STORE_COUNTER && h->kind != STORE_SERIES) {
		errbuf_fmt(err, errlen, "key '%s': unknown kind %u", key,
		    h->kind);
		return -EINVAL;
	}
	if (h->type != STORE_U64 && h->type != STORE_I64 &&
	    h->type != STORE_F64) {
		errbuf_fmt(err, errlen, "key '%s': unknown value type %u",
		    key, h->type);
		return -EINVAL;
	}
	return 0;
}

/*
 * The sizes a reader relies on, loaded in the order the writer's protocol
 * needs: count (acquire), then capacity (acquire), then the file size.
 * The writer extends the file, then stores the capacity, then publishes
 * a count within it, so for an honest writer count <= capacity and the
 * file holds capacity values; anything else is a damaged or hostile file.
 */
static int
sizes_check(struct store_view *v, uint64_t *count, uint64_t *file_size,
    char *err, size_t errlen)
{
	uint64_t n, cap, need;
	struct stat st;

	n = atomic_load_explicit(&v->hdr->word, memory_order_acquire);
	cap = atomic_load_explicit(&v->hdr->capacity, memory_order_acquire);
	if (v->fd >= 0 ? fstat(v->fd, &st) < 0 :
	    fstatat(AT_FDCWD, v->path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int e = errno;

		if (v->fd < 0 && e == ENOENT) {
			errbuf_fmt(err, errlen, "key '%s': its file was "
			    "removed", v->name);
			return -ESTALE;
		}
		errbuf_fmt(err, errlen, "key '%s': %s: %s", v->name,
		    v->fd >= 0 ? "fstat" : "stat", strerror(e));
		return -e;
	}
	if (st.st_dev != v->dev || st.st_ino != v->ino) {
		/* Its size is not the size of the file mapped. */
		errbuf_fmt(err, errlen, "key '%s': its file was replaced",
		    v->name);
		return -ESTALE;
	}
	*file_size = (uint64_t)st.st_size;
	if (v->kind == STORE_COUNTER) {
		if (cap != 0) {
			errbuf_fmt(err, errlen,
			    "key '%s': counter with capacity %llu", v->name,
			    (unsigned long long)cap);
			return -EINVAL;
		}
		*count = 0;
		return 0;
	}
	need = series_bytes(cap);
	if (need == 0 || need > *file_size) {
		errbuf_fmt(err, errlen,
		    "key '%s': capacity %llu does not fit in a file of "
		    "%llu bytes", v->name, (unsigned long long)cap,
		    (unsigned long long)*file_size);
		return -EINVAL;
	}
	if (n > cap) {
		errbuf_fmt(err, errlen,
		    "key '%s': count %llu exceeds capacity %llu", v->name,
		    (unsigned long long)n, (unsigned long long)cap);
		return -EINVAL;
	}
	*count = n;
	return 0;
}

/* Put "store DIR: " in front of a message that names only the key. */
static void
err_add_dir(char *err, size_t errlen, const char *dir)
{
	char msg[STORE_ERR_MAX];

	if (!err || errlen == 0)
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	errbuf_fmt(err, errlen, "store %s: %s", dir, msg);
}

/*
 * Open the key's file for v and fstat it: a regular file, never through
 * a symlink. Returns 0, or a negative errno with err filled.
 */
static int
view_fd_open(struct store_view *v, const char *path, const char *dir,
    struct stat *st, char *err, size_t errlen)
{
	const char *name = v->name;
	int e;

	/*
	 * The key name has no '/', so O_NOFOLLOW covers the only component
	 * the store controls. O_NONBLOCK: a FIFO planted under a key's name
	 * must not hang us.
	 */
	v->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (v->fd < 0) {
		e = errno;
		if (e == ENOENT)
			errbuf_fmt(err, errlen,
			    "store %s: key '%s': no data yet", dir, name);
		else if (e == ELOOP) {
			errbuf_fmt(err, errlen,
			    "store %s: key '%s': is a symlink; not followed",
			    dir, name);
			e = EINVAL;
		} else
			errbuf_fmt(err, errlen, "store %s: key '%s': %s", dir,
			    name, strerror(e));
		return -e;
	}
	if (fstat(v->fd, st) < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: key '%s': fstat: %s", dir,
		    name, strerror(e));
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		errbuf_fmt(err, errlen,
		    "store %s: key '%s': not a regular file", dir, name);
		return -EINVAL;
	}
	v->dev = st->st_dev;
	v->ino = st->st_ino;
	return 0;
}

/*
 * The header of a mapped file: a private copy is checked, so the file
 * cannot change under the check (the fields read here are written once,
 * before the file is named). Returns 0 or a negative errno with err
 * filled (naming the key only).
 */
static int
view_header_check(struct store_view *v, uint64_t size, char *err,
    size_t errlen)
{
	struct store_header h;
	uint64_t n;
	int r;

	memcpy(&h, v->hdr, offsetof(struct store_header, capacity));
	r = store_header_check(&h, size, v->name, err, errlen);
	if (r < 0)
		return r;
	v->kind = h.kind;
	v->type = h.type;
	if (v->kind != STORE_COUNTER)
		return sizes_check(v, &n, &size, err, errlen);
	if (atomic_load_explicit(&v->hdr->capacity,
	    memory_order_relaxed) != 0) {
		errbuf_fmt(err, errlen, "key '%s': counter with capacity",
		    v->name);
		return -EINVAL;
	}
	return 0;
}

int
store_view_open(struct store_view **out, const char *dir, const char *name,
    char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct store_header h;
	struct store_view *v;
	struct stat st;
	uint64_t size;
	void *p;
	int r, e;

	*out = NULL;
	r = store_key_check(name, err, errlen);
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		errbuf_fmt(err, errlen, "store %s: key '%s': path too long",
		    dir, name);
		return -ENAMETOOLONG;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		errbuf_fmt(err, errlen, "store %s: out of memory", dir);
		return -ENOMEM;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->fd = -1;
	if (!(v->path = strdup(path))) {
		errbuf_fmt(err, errlen, "store %s: out of memory", dir);
		r = -ENOMEM;
		goto fail;
	}
	if ((r = view_fd_open(v, path, dir, &st, err, errlen)) < 0)
		goto fail;
	size = (uint64_t)st.st_size;
	if (size < STORE_HEADER_SIZE) {
		memset(&h, 0, sizeof(h));
		r = store_header_check(&h, size, name, err, errlen);
		goto fail_dir;
	}
	if (size > SIZE_MAX) {
		errbuf_fmt(err, errlen, "store %s: key '%s': file too large "
		    "to map", dir, name);
		r = -EFBIG;
		goto fail;
	}
	/*
	 * Map only what fstat saw (at least a header); we never read past
	 * the mapping, nor past a count checked against it.
	 */
	v->maplen = (size_t)size;
	p = mmap(NULL, v->maplen, PROT_READ, MAP_SHARED, v->fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: key '%s': mmap: %s", dir,
		    name, strerror(e));
		r = -e;
		goto fail;
	}
	v->hdr = p;
	if ((r = view_header_check(v, size, err, errlen)) < 0)
		goto fail_dir;
	/* The mapping keeps the file; the descriptor is not needed. */
	close(v->fd);
	v->fd = -1;
	*out = v;
	return 0;
fail_dir:
	err_add_dir(err, errlen, dir);
fail:
	store_view_close(v);
	return r;
}

void
store_view_close(struct store_view *v)
{
	if (!v)
		return;
	if (v->hdr)
		munmap((void *)v->hdr, v->maplen);
	if (v->fd >= 0)
		close(v->fd);
	free(v->path);
	free(v);
}

const char *
store_view_name(const struct store_view *v)
{
	return v->name;
}

enum store_kind
store_view_kind(const struct store_view *v)
{
	return v->kind;
}

enum store_type
store_view_type(const struct store_view *v)
{
	return v->type;
}

union store_value
store_view_counter(const struct store_view *v)
{
	union store_value x;

	x.u = atomic_load_explicit(&v->hdr->word, memory_order_acquire);
	return x;
}

/*
 * The growth rule: when the count we acquired needs more bytes than we
 * mapped, the writer has grown the file. Check the count against the
 * capacity and the file size (loaded after the count, see sizes_check)
 * and remap to the file's current size before reading anything past the
 * old mapping.
 */
int
store_view_refresh(struct store_view *v, uint64_t *count, char *err,
    size_t errlen)
{
	uint64_t n, need, size;
	void *p;
	int r;

	*count = v->count;
	if (v->kind != STORE_SERIES)
		return 0;
	n = atomic_load_explicit(&v->hdr->word, memory_order_acquire);
	if (n < v->count) {
		errbuf_fmt(err, errlen,
		    "key '%s': count went backwards from %llu to %llu",
		    v->name, (unsigned long long)v->count,
		    (unsigned long long)n);
		return -EINVAL;
	}
	need = series_bytes(n);
	if (need != 0 && need <= v->maplen) {
		v->count = n;
		*count = n;
		return 0;
	}
	r = sizes_check(v, &n, &size, err, errlen);
	if (r < 0)
		return r;
	if (n < v->count) {
		errbuf_fmt(err, errlen,
		    "key '%s': count went backwards from %llu to %llu",
		    v->name, (unsigned long long)v->count,
		    (unsigned long long)n);
		return -EINVAL;
	}
	if (size > SIZE_MAX) {
		errbuf_fmt(err, errlen, "key '%s': file too large to map",
		    v->name);
		return -EFBIG;
	}
	if (size > v->maplen) {
		p = mremap((void *)v->hdr, v->maplen, (size_t)size,
		    MREMAP_MAYMOVE);
		if (p == MAP_FAILED) {
			int e = errno;

			errbuf_fmt(err, errlen, "key '%s': mremap to %llu "
			    "bytes: %s", v->name, (unsigned long long)size,
			    strerror(e));
			return -e;
		}
		v->hdr = p;
		v->maplen = (size_t)size;
	}
	/* sizes_check proved series_bytes(n) <= size == maplen. */
	v->count = n;
	*count = n;
	return 0;
}

void
store_view_release(struct store_view *v, uint64_t from, uint64_t to)
{
	uintptr_t base = (uintptr_t)v->hdr, pg = (uintptr_t)getpagesize();
	uintptr_t lo, hi;

	if (v->kind != STORE_SERIES || from >= to || to > v->count)
		return;
	/* Whole pages only: the header's page and partial ones stay. */
	lo = base + STORE_HEADER_SIZE + (uintptr_t)from * STORE_VALUE_SIZE;
	hi = base + STORE_HEADER_SIZE + (uintptr_t)to * STORE_VALUE_SIZE;
	lo = (lo + pg - 1) & ~(pg - 1);
	hi &= ~(pg - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

const union store_value *
store_view_values(const struct store_view *v)
{
	return (const union store_value *)((const char *)v->hdr +
	    STORE_HEADER_SIZE);
}

int
store_status_read(const char *dir, struct store_status *st, char *err,
    size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	static const char zero[STORE_MAGIC_LEN];
	struct store_meta m;
	struct stat sb;
	ssize_t got;
	int dirfd, fd, e, r = 0;

	memset(st, 0, sizeof(*st));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		e = errno;
		if (e == ENOENT)
			return 0;
		errbuf_fmt(err, errlen, "store %s: %s", dir, strerror(e));
		return -e;
	}
	fd = openat(dirfd, STORE_META_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	close(dirfd);
	if (fd < 0) {
		if (e == ENOENT)
			return 0;
		errbuf_fmt(err, errlen, "store %s: open %s: %s", dir,
		    STORE_META_NAME, strerror(e == ELOOP ? EINVAL : e));
		return e == ELOOP ? -EINVAL : -e;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		errbuf_fmt(err, errlen, "store %s: %s is not a regular file",
		    dir, STORE_META_NAME);
		r = -EINVAL;
		goto out;
	}
	memset(&m, 0, sizeof(m));
	got = pread(fd, &m, sizeof(m), 0);
	/* A writer that just created the file has not filled it yet. */
	if (got == 0 || (got > 0 && memcmp(m.magic, zero,
	    STORE_MAGIC_LEN) == 0))
		goto out;
	if (got != (ssize_t)sizeof(m)) {
		errbuf_fmt(err, errlen, "store %s: %s is too short", dir,
		    STORE_META_NAME);
		r = -EINVAL;
		goto out;
	}
	if (memcmp(m.magic, STORE_META_MAGIC, STORE_MAGIC_LEN) != 0 ||
	    m.version != STORE_VERSION || m.size != sizeof(m) ||
	    m.byte_order != STORE_BYTE_ORDER || m.state > STORE_INTERRUPTED) {
		errbuf_fmt(err, errlen, "store %s: %s: bad magic, version, "
		    "size or state", dir, STORE_META_NAME);
		r = -EINVAL;
		goto out;
	}
	/* F_OFD_GETLK only asks; it never takes or disturbs the lock. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
		e = errno;
		errbuf_fmt(err, errlen, "store %s: testing the writer lock: %s",
		    dir, strerror(e));
		r = -e;
		goto out;
	}
	st->exists = true;
	st->state = (enum store_state)m.state;
	st->writer_pid = m.writer_pid > 0 ? (pid_t)m.writer_pid : 0;
	st->writer_alive = fl.l_type != F_UNLCK;
	st->incomplete = (m.flags & STORE_META_INCOMPLETE) != 0;
	st->lost = st->incomplete ? m.lost : 0;
out:
	close(fd);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
store_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
store_names_list(const char *dir, char ***names, size_t *n, char *err,
    size_t errlen)
{
	char **list = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, e;

	*names = NULL;
	*n = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			return 0;
		errbuf_fmt(err, errlen, "store %s: %s", dir, strerror(e));
		return -e;
	}
	d = fdopendir(fd);
	if (!d) {
		e = errno;
		close(fd);
		errbuf_fmt(err, errlen, "store %s: %s", dir, strerror(e));
		return -e;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;

		if (store_key_check(de->d_name, NULL, 0) < 0)
			continue;
		if (de->d_type != DT_REG) {
			if (de->d_type != DT_UNKNOWN ||
			    fstatat(fd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
				continue;
		}
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nl = realloc(list, nc * sizeof(*nl));

			if (!nl)
				goto nomem;
			list = nl;
			cap = nc;
		}
		if (!(list[len] = strdup(de->d_name)))
			goto nomem;
		len++;
	}
	e = errno;
	closedir(d);
	if (e) {
		store_names_free(list, len);
		errbuf_fmt(err, errlen, "store %s: readdir: %s", dir,
		    strerror(e));
		return -e;
	}
	if (len > 1)
		qsort(list, len, sizeof(*list), name_cmp);
	*names = list;
	*n = len;
	return 0;
nomem:
	closedir(d);
	store_names_free(list, len);
	errbuf_fmt(err, errlen, "store %s: out of memory", dir);
	return -ENOMEM;
}
