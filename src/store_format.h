/*
 * On-disk layout of a metric store (format version 1). Private to
 * src/store*.c; man/metricsd-store.5 describes the same bytes for anyone
 * reading a store without this code. All integers are in the writer's
 * native byte order; byte_order lets a reader detect a foreign one.
 */
#ifndef METRICSD_STORE_FORMAT_H
#define METRICSD_STORE_FORMAT_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_VERSION 1
#define STORE_BYTE_ORDER 0x01020304u

/* Every key file: magic, then the header, then (series) the values. */
#define STORE_KEY_MAGIC "MTRDKEY1"
#define STORE_MAGIC_LEN 8

/*
 * Bytes 0..127 are written once before the file gets its name (capacity
 * excepted); bytes 128..255 hold the one word the writer keeps changing,
 * alone on its cache line (128 bytes: the largest line size in use, e.g.
 * Apple M-series and POWER), so readers polling it do not share a line
 * with anything else the writer touches.
 */
struct store_header {
	char magic[STORE_MAGIC_LEN];	/*   0 */
	uint32_t version;		/*   8 */
	uint32_t header_size;		/*  12: offset of first value */
	uint32_t kind;			/*  16: enum store_kind */
	uint32_t type;			/*  20: enum store_type */
	uint32_t value_size;		/*  24: 8 */
	uint32_t byte_order;		/*  28: STORE_BYTE_ORDER, native */
	_Atomic uint64_t capacity;	/*  32: values the file holds */
	uint8_t reserved1[88];		/*  40 */
	_Atomic uint64_t word;		/* 128: count or counter value */
	uint8_t reserved2[120];		/* 136 */
};

#define STORE_HEADER_SIZE 256u
#define STORE_VALUE_SIZE 8u

static_assert(sizeof(struct store_header) == STORE_HEADER_SIZE,
    "store header is 256 bytes");
static_assert(offsetof(struct store_header, capacity) == 32,
    "capacity at 32");
static_assert(offsetof(struct store_header, word) == 128,
    "published word on its own 128-byte line");
static_assert(sizeof(_Atomic uint64_t) == 8, "64-bit atomics are 8 bytes");
/* A lock-based atomic would lock in one process only: useless in shared
 * memory. Refuse to build where 64-bit atomics are not lock-free. */
static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
    "64-bit atomics must be lock-free to work across processes");

/* The store-level metadata file, ".store" in the store directory. */
#define STORE_META_NAME ".store"
#define STORE_META_MAGIC "MTRDMETA"

struct store_meta {
	char magic[STORE_MAGIC_LEN];	/*  0 */
	uint32_t version;		/*  8 */
	uint32_t size;			/* 12: 64 */
	uint32_t state;			/* 16: enum store_state */
	int32_t writer_pid;		/* 20 */
	uint64_t opened_ns;		/* 24: CLOCK_REALTIME at open */
	uint32_t byte_order;		/* 32: STORE_BYTE_ORDER */
	uint32_t flags;			/* 36: STORE_META_* bits, 0 before */
	uint64_t lost;			/* 40: values the run lost */
	uint8_t reserved[16];		/* 48 */
};

/*
 * flags: STORE_META_INCOMPLETE, set by the writer as soon as it knows it
 * lost data (values it could not append, events or tokens lost), kept
 * through close: the state then says how the run ended (final,
 * interrupted), the flag that it is not the whole run. lost holds how
 * many values or events were lost, as far as the writer counted them.
 * Both were reserved (zero) before, so a store written earlier reads as
 * complete, and a reader that predates the flag still reads the store
 * (it shows it as plainly final: the reason the flag is not a new state,
 * which such a reader would refuse as damage and then show nothing).
 */
#define STORE_META_INCOMPLETE 0x1u

static_assert(sizeof(struct store_meta) == 64, "metadata is 64 bytes");
static_assert(offsetof(struct store_meta, state) == 16, "state at 16");
static_assert(offsetof(struct store_meta, flags) == 36, "flags at 36");
static_assert(offsetof(struct store_meta, lost) == 40, "lost at 40");

/* A series file starts one page long and doubles when it fills. */
#define STORE_SERIES_INITIAL_SIZE 4096u

/* Key files are created under this prefix, then renamed into place. */
#define STORE_TMP_PREFIX ".tmp."

/* Shared by store.c and store_reader.c; not part of the API. */

/*
 * Validate a key file header read from a file of file_size bytes.
 * Returns 0 or -EINVAL with the reason (naming key) in err.
 */
int store_header_check(const struct store_header *h, uint64_t file_size,
    const char *key, char *err, size_t errlen);

#endif
