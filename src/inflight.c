/*
 * The in-flight table (see inflight.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "inflight.h"

_Static_assert(sizeof(struct inflight_row) == 80,
    "one in-flight sample: 80 bytes");

#define MIN_SLOTS 64
#define MIN_ROWS 64

static char *
row_heap(const struct inflight_row *r)
{
	char *p;

	memcpy(&p, r->uuid, sizeof(p));
	return p;
}

const char *
inflight_row_uuid(const struct inflight_row *r)
{
	return r->len <= INFLIGHT_UUID_INLINE ? r->uuid : row_heap(r);
}

int
inflight_init(struct inflight *t)
{
	uint64_t key[2];

	memset(t, 0, sizeof(*t));
	if (getrandom(key, sizeof(key), GRND_NONBLOCK) != sizeof(key)) {
		/* No entropy yet (early boot): still distinct per process. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)getpid();
		key[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ull ^
		    (uint64_t)(uintptr_t)t;
	}
	t->k0 = key[0];
	t->k1 = key[1];
	t->slots = calloc(MIN_SLOTS, sizeof(*t->slots));
	if (t->slots == NULL)
		return -ENOMEM;
	t->mask = MIN_SLOTS - 1;
	return 0;
}

void
inflight_free(struct inflight *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->rows[i].len > INFLIGHT_UUID_INLINE)
			free(row_heap(&t->rows[i]));
	}
	free(t->rows);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Slot holding row index ri (whose hash is h). */
static size_t
slot_of(const struct inflight *t, uint64_t h, size_t ri)
{
	size_t i = h & t->mask;

	while (t->slots[i] != ri + 1)
		i = (i + 1) & t->mask;
	return i;
}

struct inflight_row *
inflight_find(struct inflight *t, const char *uuid, size_t len, uint64_t h)
{
	size_t i = h & t->mask;

	for (;;) {
		uint32_t s = t->slots[i];
		if (s == 0)
			return NULL;
		struct inflight_row *r = &t->rows[s - 1];
		if (r->hash == h && r->len == len &&
		    memcmp(inflight_row_uuid(r), uuid, len) == 0)
			return r;
		i = (i + 1) & t->mask;
	}
}

/* Rebuild the index with nslots slots (a power of two). */
static int
resize(struct inflight *t, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	free(t->slots);
	t->slots = s;
	t->mask = nslots - 1;
	for (size_t ri = 0; ri < t->n; ri++) {
		size_t i = t->rows[ri].hash & t->mask;
		while (s[i] != 0)
			i = (i + 1) & t->mask;
		s[i] = (uint32_t)(ri + 1);
	}
	return 0;
}

struct inflight_row *
inflight_add(struct inflight *t, const char *uuid, size_t len, uint64_t h)
{
	struct inflight_row *r;
	size_t i;

	if ((t->n + 1) * 2 > t->mask + 1 && resize(t, (t->mask + 1) * 2) < 0)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : MIN_ROWS;
		struct inflight_row *rows = realloc(t->rows,
		    cap * sizeof(*rows));
		if (rows == NULL)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	if (len > INFLIGHT_UUID_INLINE) {
		char *p = malloc(len);
		if (p == NULL)
			return NULL;
		memcpy(p, uuid, len);
		memcpy(r->uuid, &p, sizeof(p));
	} else {
		memcpy(r->uuid, uuid, len);
	}
	r->hash = h;
	r->len = (uint16_t)len;
	i = h & t->mask;
	while (t->slots[i] != 0)
		i = (i + 1) & t->mask;
	t->slots[i] = (uint32_t)(t->n + 1);
	t->n++;
	return r;
}

/* Empty slot i and pull later entries of its cluster into the hole. */
static void
slot_clear(struct inflight *t, size_t i)
{
	size_t j = i;

	t->slots[i] = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slots[j] == 0)
			break;
		size_t home = t->rows[t->slots[j] - 1].hash & t->mask;
		/* Stay if home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j] = 0;
		i = j;
	}
}

void
inflight_remove(struct inflight *t, struct inflight_row *r)
{
	size_t ri = (size_t)(r - t->rows);
	size_t last = t->n - 1;

	if (r->len > INFLIGHT_UUID_INLINE)
		free(row_heap(r));
	slot_clear(t, slot_of(t, r->hash, ri));
	/* Keep rows dense: move the last row into the freed place. */
	if (ri != last) {
		t->slots[slot_of(t, t->rows[last].hash, last)] =
		    (uint32_t)(ri + 1);
		t->rows[ri] = t->rows[last];
	}
	t->n--;
	/* Give memory back once the table is mostly empty. */
	if (t->mask + 1 > MIN_SLOTS && t->n * 8 < t->mask + 1)
		(void)resize(t, (t->mask + 1) / 2);	/* may fail: fine */
	if (t->cap > MIN_ROWS && t->n * 4 < t->cap) {
		struct inflight_row *rows = realloc(t->rows,
		    t->cap / 2 * sizeof(*rows));
		if (rows != NULL) {
			t->rows = rows;
			t->cap /= 2;
		}
	}
}
