/*
 * Connection bookkeeping for the HTTP server's limits (see http_conns.h).
 *
 * Intrusive circular lists: every waiting connection is in the table's
 * list for its state (first request or next request, each in deadline
 * order, since both deadlines are a fixed time after `since` and records
 * are appended with a time that never decreases) and in its address's
 * waiting list (oldest first, for the same reason). Every sending
 * connection is in the table's sending list and its address's, moved to
 * the tail at each progress: so the head is the one that has gone longest
 * without progress. Parked newcomers are in one list in the order they
 * were parked (deadline order). Addresses are in a hash table of chains;
 * an address record lives while it has counted connections.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "http_conns.h"

/* Buckets of the address table (a power of two). */
#define PEER_BUCKETS 1024

#define OWNER(l, member) \
	((struct http_conn *)(void *)((char *)(l) - \
	    offsetof(struct http_conn, member)))

struct http_peer {
	struct http_peer *next;		/* hash chain */
	unsigned char key[16];
	unsigned char keylen;
	unsigned count;			/* its counted connections */
	struct http_link waiting;	/* its waiting ones, oldest first */
	struct http_link sending;	/* its sending ones, least recent
					 * progress first */
};

struct http_conns {
	unsigned max_conns, max_per_ip;
	uint64_t head_ms, idle_ms, stall_ms;
	unsigned total;			/* counted connections */
	unsigned nparked;
	struct http_link first, idle, busy, sending, shut, parked;
	struct http_peer *peers[PEER_BUCKETS];
};

static void
list_init(struct http_link *h)
{
	h->prev = h->next = h;
}

static bool
list_empty(const struct http_link *h)
{
	return h->next == h;
}

static void
list_append(struct http_link *h, struct http_link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static void
list_remove(struct http_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

/* The address a limit counts: IPv4 (also when v4-mapped) or IPv6. */
static unsigned char
peer_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(key, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(key, a->s6_addr, 16);
		return 16;
	}
	return 0;		/* anything else: one shared "address" */
}

static struct http_peer **
peer_slot(struct http_conns *t, const unsigned char *key, unsigned char len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct http_peer **pp;

	for (unsigned i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	for (pp = &t->peers[h & (PEER_BUCKETS - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->keylen == len && memcmp((*pp)->key, key, len) == 0)
			break;
	return pp;
}

static bool
waits(enum http_conn_state st)
{
	return st == HTTP_CONN_FIRST || st == HTTP_CONN_IDLE;
}

static struct http_peer *
peer_find(const struct http_conns *t, const struct sockaddr *sa)
{
	unsigned char key[16];
	unsigned char len = peer_key(sa, key);

	return *peer_slot((struct http_conns *)t, key, len);
}

/* Uncount k from its address and the table; drop an address left empty. */
static void
uncount(struct http_conns *t, struct http_conn *k)
{
	struct http_peer *p = k->peer, **pp;

	if (!p)
		return;
	k->peer = NULL;
	t->total--;
	if (--p->count > 0)
		return;
	pp = peer_slot(t, p->key, p->keylen);
	*pp = p->next;
	free(p);
}

/* Out of the lists its state puts it in. */
static void
unlink_conn(struct http_conns *t, struct http_conn *k)
{
	list_remove(&k->all);
	if (waits(k->state) || k->state == HTTP_CONN_SENDING)
		list_remove(&k->by_peer);
	if (k->state == HTTP_CONN_PARKED)
		t->nparked--;
}

static void
wait_from(struct http_conns *t, struct http_conn *k,
    enum http_conn_state st, uint64_t now)
{
	k->state = st;
	k->since = now;
	list_append(st == HTTP_CONN_FIRST ? &t->first : &t->idle, &k->all);
	list_append(&k->peer->waiting, &k->by_peer);
}

int
http_conns_new(struct http_conns **out, unsigned max_conns,
    unsigned max_per_ip, uint64_t head_ms, uint64_t idle_ms,
    uint64_t stall_ms)
{
	struct http_conns *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max_conns = max_conns ? max_conns : 1;
	t->max_per_ip = max_per_ip ? max_per_ip : 1;
	t->head_ms = head_ms;
	t->idle_ms = idle_ms;
	t->stall_ms = stall_ms;
	list_init(&t->first);
	list_init(&t->idle);
	list_init(&t->busy);
	list_init(&t->sending);
	list_init(&t->shut);
	list_init(&t->parked);
	*out = t;
	return 0;
}

void
http_conns_free(struct http_conns *t)
{
	struct http_link *lists[6];

	if (!t)
		return;
	lists[0] = &t->first;
	lists[1] = &t->idle;
	lists[2] = &t->busy;
	lists[3] = &t->sending;
	lists[4] = &t->shut;
	lists[5] = &t->parked;
	for (int i = 0; i < 6; i++)
		while (!list_empty(lists[i]))
			http_conns_remove(t, OWNER(lists[i]->next, all));
	free(t);
}

/*
 * The sending connection at the head of the table's list (p NULL) or p's
 * (least recent progress) as the victim if it is stalled at now; else
 * when it will be, in *retry.
 */
static struct http_conn *
stalled(const struct http_conns *t, const struct http_peer *p, uint64_t now,
    uint64_t *retry)
{
	const struct http_link *h = p ? &p->sending : &t->sending;
	struct http_conn *k;

	if (list_empty(h))
		return NULL;
	k = p ? OWNER(h->next, by_peer) : OWNER(h->next, all);
	if (k->since + t->stall_ms <= now)
		return k;
	if (retry && k->since + t->stall_ms < *retry)
		*retry = k->since + t->stall_ms;
	return NULL;
}

int
http_conns_room(struct http_conns *t, const struct sockaddr *sa,
    uint64_t now, struct http_conn **victim, uint64_t *retry)
{
	struct http_peer *p = peer_find(t, sa);
	struct http_conn *a = NULL, *b = NULL;

	*victim = NULL;
	if (retry)
		*retry = UINT64_MAX;
	if (p && p->count >= t->max_per_ip) {
		if (!list_empty(&p->waiting))
			*victim = OWNER(p->waiting.next, by_peer);
		else
			*victim = stalled(t, p, now, retry);
		return 0;
	}
	if (t->total < t->max_conns)
		return 1;
	if (!list_empty(&t->first))
		a = OWNER(t->first.next, all);
	if (!list_empty(&t->idle))
		b = OWNER(t->idle.next, all);
	*victim = !a || (b && b->since < a->since) ? b : a;
	if (!*victim)
		*victim = stalled(t, NULL, now, retry);
	return 0;
}

static struct http_conn *
record(const struct sockaddr *sa, socklen_t salen, int fd)
{
	struct http_conn *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->fd = fd;
	if (salen > sizeof(k->addr))
		salen = sizeof(k->addr);
	memcpy(&k->addr, sa, salen);
	k->addrlen = salen;
	list_init(&k->all);
	list_init(&k->by_peer);
	return k;
}

/* Count k at its address (k->addr); 0 or -ENOMEM. */
static int
count(struct http_conns *t, struct http_conn *k)
{
	unsigned char key[16];
	unsigned char len = peer_key((const struct sockaddr *)&k->addr, key);
	struct http_peer **pp = peer_slot(t, key, len), *p = *pp;

	if (!p) {
		if (!(p = calloc(1, sizeof(*p))))
			return -ENOMEM;
		memcpy(p->key, key, len);
		p->keylen = len;
		list_init(&p->waiting);
		list_init(&p->sending);
		*pp = p;
	}
	p->count++;
	t->total++;
	k->peer = p;
	return 0;
}

struct http_conn *
http_conns_add(struct http_conns *t, const struct sockaddr *sa,
    socklen_t salen, int fd, uint64_t now)
{
	struct http_conn *k = record(sa, salen, fd);

	if (!k)
		return NULL;
	if (count(t, k) < 0) {
		free(k);
		return NULL;
	}
	wait_from(t, k, HTTP_CONN_FIRST, now);
	return k;
}

struct http_conn *
http_conns_park(struct http_conns *t, const struct sockaddr *sa,
    socklen_t salen, int fd, uint64_t now)
{
	struct http_conn *k = record(sa, salen, fd);

	if (!k)
		return NULL;
	k->state = HTTP_CONN_PARKED;
	k->since = now;
	list_append(&t->parked, &k->all);
	t->nparked++;
	return k;
}

void
http_conns_unpark(struct http_conns *t, struct http_conn *k, uint64_t now)
{
	if (k->state != HTTP_CONN_PARKED)
		return;
	if (count(t, k) < 0)
		return;		/* stays parked, until its deadline */
	unlink_conn(t, k);
	wait_from(t, k, HTTP_CONN_FIRST, now);
}

struct http_conn *
http_conns_parked_next(const struct http_conns *t, const struct http_conn *k)
{
	const struct http_link *l = k ? k->all.next : t->parked.next;

	return l == &t->parked ? NULL : OWNER(l, all);
}

unsigned
http_conns_parked(const struct http_conns *t)
{
	return t->nparked;
}

void
http_conns_busy(struct http_conns *t, struct http_conn *k)
{
	if (!waits(k->state))
		return;
	unlink_conn(t, k);
	k->state = HTTP_CONN_BUSY;
	list_append(&t->busy, &k->all);
}

void
http_conns_sending(struct http_conns *t, struct http_conn *k, uint64_t now)
{
	if (!waits(k->state) && k->state != HTTP_CONN_BUSY)
		return;
	unlink_conn(t, k);
	k->state = HTTP_CONN_SENDING;
	k->since = now;
	list_append(&t->sending, &k->all);
	list_append(&k->peer->sending, &k->by_peer);
}

void
http_conns_progress(struct http_conns *t, struct http_conn *k, uint64_t now)
{
	if (k->state != HTTP_CONN_SENDING)
		return;
	k->since = now;
	list_remove(&k->all);
	list_remove(&k->by_peer);
	list_append(&t->sending, &k->all);
	list_append(&k->peer->sending, &k->by_peer);
}

void
http_conns_idle(struct http_conns *t, struct http_conn *k, uint64_t now)
{
	if (k->state == HTTP_CONN_SHUT || k->state == HTTP_CONN_PARKED)
		return;
	unlink_conn(t, k);
	wait_from(t, k, HTTP_CONN_IDLE, now);
}

void
http_conns_evict(struct http_conns *t, struct http_conn *k)
{
	if (k->state == HTTP_CONN_SHUT || k->state == HTTP_CONN_PARKED)
		return;
	unlink_conn(t, k);
	uncount(t, k);
	k->state = HTTP_CONN_SHUT;
	list_append(&t->shut, &k->all);
}

void
http_conns_remove(struct http_conns *t, struct http_conn *k)
{
	unlink_conn(t, k);
	uncount(t, k);
	free(k);
}

uint64_t
http_conns_deadline(const struct http_conns *t)
{
	uint64_t next = UINT64_MAX;

	if (!list_empty(&t->first))
		next = OWNER(t->first.next, all)->since + t->head_ms;
	if (!list_empty(&t->idle)) {
		uint64_t d = OWNER(t->idle.next, all)->since + t->idle_ms;

		if (d < next)
			next = d;
	}
	if (!list_empty(&t->parked)) {
		uint64_t d = OWNER(t->parked.next, all)->since + t->head_ms;

		if (d < next)
			next = d;
	}
	return next;
}

struct http_conn *
http_conns_expired(const struct http_conns *t, uint64_t now)
{
	struct http_conn *k;

	if (!list_empty(&t->first)) {
		k = OWNER(t->first.next, all);
		if (k->since + t->head_ms <= now)
			return k;
	}
	if (!list_empty(&t->idle)) {
		k = OWNER(t->idle.next, all);
		if (k->since + t->idle_ms <= now)
			return k;
	}
	if (!list_empty(&t->parked)) {
		k = OWNER(t->parked.next, all);
		if (k->since + t->head_ms <= now)
			return k;
	}
	return NULL;
}

unsigned
http_conns_count(const struct http_conns *t, const struct sockaddr *sa)
{
	const struct http_peer *p = peer_find(t, sa);

	return p ? p->count : 0;
}

unsigned
http_conns_total(const struct http_conns *t)
{
	return t->total;
}
