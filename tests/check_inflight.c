/*
 * The in-flight table on its own: lookups, growth and shrinking, removal
 * inside probe clusters (backward shift), long uuids on the heap. Forced
 * hashes (the caller passes the hash) build the worst clusters on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "inflight.h"

static size_t
name(char *buf, size_t cap, unsigned i)
{
	return (size_t)snprintf(buf, cap, "sample-%08u", i);
}

static struct inflight_row *
add(struct inflight *t, const char *uuid, uint64_t h)
{
	struct inflight_row *r = inflight_add(t, uuid, strlen(uuid), h);

	ck_assert_ptr_nonnull(r);
	return r;
}

static struct inflight_row *
find(struct inflight *t, const char *uuid, uint64_t h)
{
	return inflight_find(t, uuid, strlen(uuid), h);
}

START_TEST(test_inflight_add_find_remove)
{
	struct inflight t;
	const char *u = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
	uint64_t h;
	struct inflight_row *r;

	ck_assert_int_eq(inflight_init(&t), 0);
	h = inflight_hash(&t, u, strlen(u));
	ck_assert_ptr_null(find(&t, u, h));
	r = add(&t, u, h);
	ck_assert_uint_eq(r->hash, h);
	ck_assert_int_eq(r->issued, 0);
	ck_assert_ptr_null(r->owner);
	ck_assert_uint_eq(r->flags, 0);
	r->issued = 42;
	ck_assert_uint_eq(inflight_count(&t), 1);
	r = find(&t, u, h);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->issued, 42);
	ck_assert_mem_eq(inflight_row_uuid(r), u, strlen(u));
	/* Same hash, other uuid or other length: not found. */
	ck_assert_ptr_null(find(&t, "0f1e2d3c4b5a69788796a5b4c3d2e1f1", h));
	ck_assert_ptr_null(inflight_find(&t, u, strlen(u) - 1, h));
	inflight_remove(&t, r);
	ck_assert_uint_eq(inflight_count(&t), 0);
	ck_assert_ptr_null(find(&t, u, h));
	inflight_free(&t);
}
END_TEST

START_TEST(test_inflight_hash_is_keyed)
{
	struct inflight a, b;

	ck_assert_int_eq(inflight_init(&a), 0);
	ck_assert_int_eq(inflight_init(&b), 0);
	ck_assert(a.k0 != b.k0 || a.k1 != b.k1);
	ck_assert_uint_eq(inflight_hash(&a, "x", 1), inflight_hash(&a, "x", 1));
	ck_assert_uint_ne(inflight_hash(&a, "x", 1), inflight_hash(&b, "x", 1));
	inflight_free(&a);
	inflight_free(&b);
}
END_TEST

/* 100k rows: the index and the rows grow, then shrink back. */
START_TEST(test_inflight_grows_and_shrinks)
{
	enum { N = 100000 };
	struct inflight t;
	char u[32];

	ck_assert_int_eq(inflight_init(&t), 0);
	size_t slots0 = t.mask + 1;
	for (unsigned i = 0; i < N; i++) {
		size_t len = name(u, sizeof(u), i);
		uint64_t h = inflight_hash(&t, u, len);
		ck_assert_ptr_null(inflight_find(&t, u, len, h));
		inflight_add(&t, u, len, h)->issued = i;
	}
	ck_assert_uint_eq(inflight_count(&t), N);
	ck_assert_uint_le(inflight_count(&t) * 2, t.mask + 1);
	for (unsigned i = 0; i < N; i++) {
		size_t len = name(u, sizeof(u), i);
		struct inflight_row *r = inflight_find(&t, u, len,
		    inflight_hash(&t, u, len));
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->issued, i);
	}
	/* Remove the even ones, check the odd ones, then the rest. */
	for (unsigned i = 0; i < N; i += 2) {
		size_t len = name(u, sizeof(u), i);
		inflight_remove(&t, inflight_find(&t, u, len,
		    inflight_hash(&t, u, len)));
	}
	for (unsigned i = 0; i < N; i++) {
		size_t len = name(u, sizeof(u), i);
		struct inflight_row *r = inflight_find(&t, u, len,
		    inflight_hash(&t, u, len));
		if (i % 2)
			ck_assert(r != NULL && r->issued == i);
		else
			ck_assert_ptr_null(r);
	}
	for (unsigned i = 1; i < N; i += 2) {
		size_t len = name(u, sizeof(u), i);
		inflight_remove(&t, inflight_find(&t, u, len,
		    inflight_hash(&t, u, len)));
	}
	ck_assert_uint_eq(inflight_count(&t), 0);
	ck_assert_uint_eq(t.mask + 1, slots0);
	ck_assert_uint_le(t.cap, 64);
	inflight_free(&t);
}
END_TEST

/*
 * Removal from the middle of clusters that wrap around the end of the
 * index: every survivor must stay reachable from its home slot.
 */
START_TEST(test_inflight_remove_in_wrapping_cluster)
{
	struct inflight t;
	char u[32];
	uint64_t home[3];

	ck_assert_int_eq(inflight_init(&t), 0);
	home[0] = t.mask - 1;		/* two slots before the end */
	home[1] = t.mask;
	home[2] = 0;
	/* 18 rows homed on 3 adjacent slots: one cluster across the end. */
	for (unsigned i = 0; i < 18; i++) {
		name(u, sizeof(u), i);
		add(&t, u, home[i % 3] | (uint64_t)i << 40);
	}
	for (unsigned i = 0; i < 18; i += 3) {
		name(u, sizeof(u), i);
		inflight_remove(&t, find(&t, u, home[i % 3] | (uint64_t)i << 40));
		for (unsigned j = 0; j < 18; j++) {
			name(u, sizeof(u), j);
			struct inflight_row *r = find(&t, u,
			    home[j % 3] | (uint64_t)j << 40);
			if (j % 3 == 0 && j <= i)
				ck_assert_ptr_null(r);
			else
				ck_assert_msg(r != NULL, "row %u lost after "
				    "removing %u", j, i);
		}
	}
	ck_assert_uint_eq(inflight_count(&t), 12);
	inflight_free(&t);
}
END_TEST

/* Every row with the same hash: still correct, only slower. */
START_TEST(test_inflight_all_hashes_equal)
{
	struct inflight t;
	char u[32];

	ck_assert_int_eq(inflight_init(&t), 0);
	for (unsigned i = 0; i < 500; i++) {
		name(u, sizeof(u), i);
		add(&t, u, 7)->issued = i;
	}
	for (unsigned i = 0; i < 500; i += 7) {
		name(u, sizeof(u), i);
		inflight_remove(&t, find(&t, u, 7));
	}
	for (unsigned i = 0; i < 500; i++) {
		name(u, sizeof(u), i);
		struct inflight_row *r = find(&t, u, 7);
		if (i % 7 == 0)
			ck_assert_ptr_null(r);
		else
			ck_assert(r != NULL && r->issued == i);
	}
	inflight_free(&t);
}
END_TEST

/* Uuids longer than the inline room live on the heap (ASan: no leak). */
START_TEST(test_inflight_long_uuids)
{
	struct inflight t;
	char u[300];
	struct inflight_row *r;

	ck_assert_int_eq(inflight_init(&t), 0);
	for (size_t len = INFLIGHT_UUID_INLINE - 1;
	    len <= INFLIGHT_UUID_INLINE + 2; len++) {
		memset(u, 'a' + (int)(len % 26), len);
		add(&t, (u[len] = '\0', u), inflight_hash(&t, u, len));
	}
	memset(u, 'z', 299);
	u[299] = '\0';
	r = add(&t, u, inflight_hash(&t, u, 299));
	ck_assert_mem_eq(inflight_row_uuid(r), u, 299);
	r = find(&t, u, inflight_hash(&t, u, 299));
	ck_assert_ptr_nonnull(r);
	u[298] = 'y';
	ck_assert_ptr_null(find(&t, u, inflight_hash(&t, u, 299)));
	u[298] = 'z';
	inflight_remove(&t, r);
	ck_assert_uint_eq(inflight_count(&t), 4);
	/* The rest are freed by inflight_free. */
	inflight_free(&t);
}
END_TEST

/* Removing a row moves the last one into its place; it stays findable. */
START_TEST(test_inflight_remove_keeps_rows_dense)
{
	struct inflight t;

	ck_assert_int_eq(inflight_init(&t), 0);
	add(&t, "a", inflight_hash(&t, "a", 1))->issued = 1;
	add(&t, "b", inflight_hash(&t, "b", 1))->issued = 2;
	add(&t, "c", inflight_hash(&t, "c", 1))->issued = 3;
	inflight_remove(&t, find(&t, "a", inflight_hash(&t, "a", 1)));
	ck_assert_int_eq(t.rows[0].issued, 3);
	ck_assert_int_eq(find(&t, "c", inflight_hash(&t, "c", 1))->issued, 3);
	ck_assert_int_eq(find(&t, "b", inflight_hash(&t, "b", 1))->issued, 2);
	inflight_free(&t);
}
END_TEST

Suite *
inflight_suite(void)
{
	Suite *s = suite_create("inflight");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_inflight_add_find_remove);
	tcase_add_test(tc, test_inflight_hash_is_keyed);
	tcase_add_test(tc, test_inflight_grows_and_shrinks);
	tcase_add_test(tc, test_inflight_remove_in_wrapping_cluster);
	tcase_add_test(tc, test_inflight_all_hashes_equal);
	tcase_add_test(tc, test_inflight_long_uuids);
	tcase_add_test(tc, test_inflight_remove_keeps_rows_dense);
	suite_add_tcase(s, tc);
	return s;
}
