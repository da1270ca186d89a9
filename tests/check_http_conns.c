/* Tests for the HTTP server's connection bookkeeping: who is evicted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "http_conns.h"

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in in;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
	return in;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

/* Room must be there; add and return the record. */
static struct http_conn *
add(struct http_conns *t, const struct sockaddr *sa, int fd, uint64_t now)
{
	struct http_conn *v, *k;

	ck_assert_int_eq(http_conns_room(t, sa, now, &v, NULL), 1);
	ck_assert_ptr_null(v);
	k = http_conns_add(t, sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), fd, now);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->fd, fd);
	return k;
}

START_TEST(test_http_conns_room_per_address_evicts_oldest_of_that_address)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("127.0.0.1"), b = v4("127.0.0.2");
	struct http_conn *a1, *a2, *v;

	ck_assert_int_eq(http_conns_new(&t, 64, 2, 1000, 5000, 200), 0);
	add(t, SA(b), 1, 0);		/* older, but another address */
	a1 = add(t, SA(a), 2, 10);
	a2 = add(t, SA(a), 3, 20);
	ck_assert_uint_eq(http_conns_count(t, SA(a)), 2);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_eq(v, a1);
	http_conns_evict(t, a1);
	ck_assert_int_eq(a1->state, HTTP_CONN_SHUT);
	ck_assert_uint_eq(http_conns_count(t, SA(a)), 1);
	ck_assert_uint_eq(http_conns_total(t), 2);
	add(t, SA(a), 4, 30);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_eq(v, a2);
	/* another address still has room */
	ck_assert_int_eq(http_conns_room(t, SA(b), 0, &v, NULL), 1);
	http_conns_free(t);
}
END_TEST

START_TEST(test_http_conns_room_global_evicts_longest_without_request)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2"),
	    c = v4("10.0.0.3");
	struct http_conn *k1, *k2, *k3, *v;

	ck_assert_int_eq(http_conns_new(&t, 3, 3, 1000, 5000, 200), 0);
	k1 = add(t, SA(a), 1, 0);
	k2 = add(t, SA(b), 2, 10);
	k3 = add(t, SA(c), 3, 20);
	/* k1 completes a request at 30: waiting since 30 (kept alive) */
	http_conns_busy(t, k1);
	http_conns_idle(t, k1, 30);
	ck_assert_int_eq(k1->state, HTTP_CONN_IDLE);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_eq(v, k2);
	/* k2 has a complete request: never a victim */
	http_conns_busy(t, k2);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_eq(v, k3);
	http_conns_busy(t, k3);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_eq(v, k1);
	http_conns_busy(t, k1);
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 0);
	ck_assert_ptr_null(v);		/* all busy: refuse the newcomer */
	http_conns_remove(t, k2);	/* closed */
	ck_assert_int_eq(http_conns_room(t, SA(a), 0, &v, NULL), 1);
	http_conns_free(t);
}
END_TEST

START_TEST(test_http_conns_expired_first_and_next_request_deadlines)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
	struct http_conn *k1, *k2, *k3;

	ck_assert_int_eq(http_conns_new(&t, 64, 8, 1000, 5000, 200), 0);
	k1 = add(t, SA(a), 1, 0);
	http_conns_busy(t, k1);
	http_conns_idle(t, k1, 100);	/* next request due by 5100 */
	k2 = add(t, SA(b), 2, 200);	/* first request due by 1200 */
	k3 = add(t, SA(b), 3, 300);	/* by 1300 */
	http_conns_busy(t, k3);		/* complete: no deadline */
	ck_assert_uint_eq(http_conns_deadline(t), 1200);
	ck_assert_ptr_null(http_conns_expired(t, 1199));
	ck_assert_ptr_eq(http_conns_expired(t, 1200), k2);
	http_conns_evict(t, k2);
	ck_assert_uint_eq(http_conns_deadline(t), 5100);
	ck_assert_ptr_null(http_conns_expired(t, 5099));
	ck_assert_ptr_eq(http_conns_expired(t, 6000), k1);
	http_conns_evict(t, k1);
	ck_assert_ptr_null(http_conns_expired(t, UINT64_MAX - 10000));
	ck_assert_uint_eq(http_conns_deadline(t), UINT64_MAX);
	/* evicted records stay until closed; free takes the rest too */
	http_conns_remove(t, k1);
	http_conns_free(t);
}
END_TEST

START_TEST(test_http_conns_v4_mapped_counts_as_v4)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("192.0.2.7");
	struct sockaddr_in6 m, o;
	struct http_conn *v;

	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.7",
	    &m.sin6_addr), 1);
	o = m;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", &o.sin6_addr), 1);
	ck_assert_int_eq(http_conns_new(&t, 64, 1, 1000, 5000, 200), 0);
	add(t, SA(a), 1, 0);
	ck_assert_uint_eq(http_conns_count(t, SA(m)), 1);
	ck_assert_int_eq(http_conns_room(t, SA(m), 0, &v, NULL), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(http_conns_room(t, SA(o), 0, &v, NULL), 1);
	add(t, SA(o), 2, 1);
	ck_assert_uint_eq(http_conns_count(t, SA(o)), 1);
	http_conns_free(t);
}
END_TEST

/* Busy, then sending from `at`. */
static void
send_from(struct http_conns *t, struct http_conn *k, uint64_t at)
{
	http_conns_busy(t, k);
	ck_assert_int_eq(k->state, HTTP_CONN_BUSY);
	http_conns_sending(t, k, at);
	ck_assert_int_eq(k->state, HTTP_CONN_SENDING);
}

/*
 * With nobody waiting, the victim is the sender that has gone longest
 * without progress, once that is stall_ms; before then, none, and retry
 * says when. Progress moves a sender to the back.
 */
START_TEST(test_http_conns_room_stalled_sender_is_victim)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("127.0.0.1");
	struct http_conn *a1, *a2, *v;
	uint64_t retry;

	ck_assert_int_eq(http_conns_new(&t, 64, 2, 1000, 5000, 200), 0);
	a1 = add(t, SA(a), 1, 0);
	a2 = add(t, SA(a), 2, 0);
	send_from(t, a1, 100);
	send_from(t, a2, 150);
	ck_assert_int_eq(http_conns_room(t, SA(a), 299, &v, &retry), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(retry, 300);
	ck_assert_int_eq(http_conns_room(t, SA(a), 300, &v, &retry), 0);
	ck_assert_ptr_eq(v, a1);
	/* a1 takes in a piece at 310: a2 is now the most stalled */
	http_conns_progress(t, a1, 310);
	ck_assert_uint_eq(a1->since, 310);
	ck_assert_int_eq(http_conns_room(t, SA(a), 320, &v, &retry), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(retry, 350);
	ck_assert_int_eq(http_conns_room(t, SA(a), 350, &v, NULL), 0);
	ck_assert_ptr_eq(v, a2);
	/* a sender keeps progressing: the other one is chosen, whenever */
	http_conns_progress(t, a2, 400);
	http_conns_progress(t, a1, 5000);
	ck_assert_int_eq(http_conns_room(t, SA(a), 5001, &v, NULL), 0);
	ck_assert_ptr_eq(v, a2);
	http_conns_evict(t, a2);
	ck_assert_int_eq(a2->state, HTTP_CONN_SHUT);
	ck_assert_uint_eq(http_conns_count(t, SA(a)), 1);
	http_conns_progress(t, a2, 5002);	/* evicted: nothing */
	ck_assert_int_eq(a2->state, HTTP_CONN_SHUT);
	ck_assert_int_eq(http_conns_room(t, SA(a), 5002, &v, NULL), 1);
	/* its answer sent, a1 waits for its next request (kept alive) */
	http_conns_idle(t, a1, 6000);
	ck_assert_int_eq(a1->state, HTTP_CONN_IDLE);
	ck_assert_uint_eq(http_conns_deadline(t), 11000);
	http_conns_free(t);
}
END_TEST

/* A waiting connection goes before any sender, however stalled; a busy
 * one (answer being made) never goes. */
START_TEST(test_http_conns_room_waiting_before_sending_busy_never)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("10.0.0.1");
	struct http_conn *k1, *k2, *k3, *k4, *v;
	uint64_t retry;

	ck_assert_int_eq(http_conns_new(&t, 3, 3, 1000, 5000, 200), 0);
	k1 = add(t, SA(a), 1, 0);
	k2 = add(t, SA(a), 2, 0);
	k3 = add(t, SA(a), 3, 0);
	send_from(t, k1, 0);		/* stalled since 0 */
	http_conns_busy(t, k2);
	http_conns_idle(t, k2, 900);	/* kept alive, waiting since 900 */
	http_conns_busy(t, k3);		/* its answer being made */
	ck_assert_int_eq(http_conns_room(t, SA(a), 1000, &v, NULL), 0);
	ck_assert_ptr_eq(v, k2);
	http_conns_busy(t, k2);
	ck_assert_int_eq(http_conns_room(t, SA(a), 1000, &v, NULL), 0);
	ck_assert_ptr_eq(v, k1);
	http_conns_evict(t, k1);
	http_conns_remove(t, k1);
	k4 = add(t, SA(a), 4, 1000);
	http_conns_busy(t, k4);
	/* all three busy: no victim, and only a change of state helps */
	ck_assert_int_eq(http_conns_room(t, SA(a), 99999, &v, &retry), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(retry, UINT64_MAX);
	http_conns_free(t);
}
END_TEST

/*
 * At its address's limit a newcomer evicts a stalled sender of that
 * address, even when another address has one stalled longer; at the
 * global limit, the one stalled longest of all.
 */
START_TEST(test_http_conns_room_stalled_sender_per_address_first)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2"),
	    c = v4("10.0.0.3");
	struct http_conn *a1, *a2, *b1, *v;
	uint64_t retry;

	ck_assert_int_eq(http_conns_new(&t, 3, 2, 1000, 5000, 200), 0);
	b1 = add(t, SA(b), 1, 0);
	a1 = add(t, SA(a), 2, 0);
	a2 = add(t, SA(a), 3, 0);
	send_from(t, b1, 0);
	send_from(t, a1, 50);
	send_from(t, a2, 60);
	ck_assert_int_eq(http_conns_room(t, SA(a), 1000, &v, NULL), 0);
	ck_assert_ptr_eq(v, a1);
	ck_assert_int_eq(http_conns_room(t, SA(c), 1000, &v, NULL), 0);
	ck_assert_ptr_eq(v, b1);
	/* b1 progresses: at the global limit, a1 is now the most stalled */
	http_conns_progress(t, b1, 1000);
	ck_assert_int_eq(http_conns_room(t, SA(c), 1000, &v, NULL), 0);
	ck_assert_ptr_eq(v, a1);
	/* a's senders progress too: a's retry is its own, not b1's */
	http_conns_progress(t, a1, 1100);
	http_conns_progress(t, a2, 1150);
	ck_assert_int_eq(http_conns_room(t, SA(a), 1200, &v, &retry), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(retry, 1300);
	ck_assert_int_eq(http_conns_room(t, SA(c), 1199, &v, &retry), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(retry, 1200);
	http_conns_free(t);
}
END_TEST

/*
 * Parked newcomers: not counted, in arrival order, counted when
 * unparked, refused at their deadline (head_ms after parking).
 */
START_TEST(test_http_conns_park_order_unpark_and_deadline)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
	struct sockaddr_in6 c;
	struct http_conn *a1, *p1, *p2, *p3, *v;

	memset(&c, 0, sizeof(c));
	c.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::9", &c.sin6_addr), 1);
	ck_assert_int_eq(http_conns_new(&t, 1, 1, 1000, 5000, 200), 0);
	a1 = add(t, SA(a), 1, 0);
	send_from(t, a1, 0);
	ck_assert_int_eq(http_conns_room(t, SA(b), 100, &v, NULL), 0);
	ck_assert_ptr_null(v);
	p1 = http_conns_park(t, SA(b), sizeof(b), 2, 100);
	p2 = http_conns_park(t, SA(c), sizeof(c), 3, 150);
	p3 = http_conns_park(t, SA(a), sizeof(a), 4, 160);
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert_ptr_nonnull(p3);
	ck_assert_int_eq(p1->state, HTTP_CONN_PARKED);
	ck_assert_uint_eq(http_conns_parked(t), 3);
	ck_assert_uint_eq(http_conns_total(t), 1);
	ck_assert_uint_eq(http_conns_count(t, SA(b)), 0);
	ck_assert_ptr_eq(http_conns_parked_next(t, NULL), p1);
	ck_assert_ptr_eq(http_conns_parked_next(t, p1), p2);
	ck_assert_ptr_eq(http_conns_parked_next(t, p2), p3);
	ck_assert_ptr_null(http_conns_parked_next(t, p3));
	ck_assert_uint_eq(http_conns_deadline(t), 1100);
	/* a1 stalled at 200: evicted, p2 gets its room (by its own address) */
	ck_assert_int_eq(http_conns_room(t, SA(c), 200, &v, NULL), 0);
	ck_assert_ptr_eq(v, a1);
	http_conns_evict(t, a1);
	http_conns_unpark(t, p2, 200);
	ck_assert_int_eq(p2->state, HTTP_CONN_FIRST);
	ck_assert_uint_eq(http_conns_parked(t), 2);
	ck_assert_uint_eq(http_conns_count(t, SA(c)), 1);
	ck_assert_ptr_eq(http_conns_parked_next(t, p1), p3);
	ck_assert_uint_eq(http_conns_deadline(t), 1100);
	ck_assert_ptr_null(http_conns_expired(t, 1099));
	ck_assert_ptr_eq(http_conns_expired(t, 1100), p1);
	http_conns_remove(t, p1);	/* refused: closed */
	ck_assert_uint_eq(http_conns_parked(t), 1);
	ck_assert_uint_eq(http_conns_deadline(t), 1160);
	/* unparking something not parked does nothing */
	http_conns_unpark(t, p2, 300);
	ck_assert_int_eq(p2->state, HTTP_CONN_FIRST);
	ck_assert_uint_eq(http_conns_total(t), 1);
	http_conns_free(t);	/* p3 still parked, a1 evicted */
}
END_TEST

/*
 * A flood from many addresses, each newcomer evicting: the counts stay at
 * the limits, the victims come in arrival order, and addresses that lost
 * their last connection are forgotten.
 */
START_TEST(test_http_conns_flood_keeps_limits_and_order)
{
	struct http_conns *t;
	struct http_conn *v, *k;
	int evicted = 0, out_of_order = 0, over = 0, none = 0;

	ck_assert_int_eq(http_conns_new(&t, 64, 8, 1000, 5000, 200), 0);
	/* plain checks in the loop: a Check assertion costs a pipe write */
	for (int i = 0; i < 100000; i++) {
		struct sockaddr_in a = v4("127.0.0.1");

		a.sin_addr.s_addr = htonl(0x7f000000u + 1 + (unsigned)i % 248);
		while (!http_conns_room(t, SA(a), (uint64_t)i, &v, NULL)) {
			if (!v) {
				none++;
				break;
			}
			out_of_order += v->fd != evicted;
			evicted++;
			http_conns_evict(t, v);
			http_conns_remove(t, v);
		}
		if (!(k = http_conns_add(t, SA(a), sizeof(a), i, (uint64_t)i)))
			break;
		over += http_conns_total(t) > 64 ||
		    http_conns_count(t, SA(a)) > 8;
	}
	ck_assert_int_eq(none, 0);
	ck_assert_int_eq(out_of_order, 0);
	ck_assert_int_eq(over, 0);
	ck_assert_uint_eq(http_conns_total(t), 64);
	ck_assert_int_eq(evicted, 100000 - 64);
	http_conns_free(t);
}
END_TEST

Suite *
http_conns_suite(void)
{
	Suite *s = suite_create("http_conns");
	TCase *tc = tcase_create("limits");

	tcase_add_test(tc,
	    test_http_conns_room_per_address_evicts_oldest_of_that_address);
	tcase_add_test(tc,
	    test_http_conns_room_global_evicts_longest_without_request);
	tcase_add_test(tc,
	    test_http_conns_expired_first_and_next_request_deadlines);
	tcase_add_test(tc, test_http_conns_v4_mapped_counts_as_v4);
	tcase_add_test(tc, test_http_conns_flood_keeps_limits_and_order);
	tcase_add_test(tc, test_http_conns_room_stalled_sender_is_victim);
	tcase_add_test(tc,
	    test_http_conns_room_waiting_before_sending_busy_never);
	tcase_add_test(tc,
	    test_http_conns_room_stalled_sender_per_address_first);
	tcase_add_test(tc, test_http_conns_park_order_unpark_and_deadline);
	suite_add_tcase(s, tc);
	return s;
}
