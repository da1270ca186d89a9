/*
 * Connection bookkeeping for the HTTP server's limits (see http_conns.h).
 *
 * Intrusive circular lists: every waiting connection is in the table's
 * list for its state (first request or next request, each in deadline
 * order, since both deadlines are a fixed time after `since` and records
 * are appended with a time that never decreases) and in its address's
 * waiting list (oldest first, for the same reason). Addresses are in a
 * hash table of chains; an address record lives while it has counted
 * connections.
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
};

struct http_conns {
	unsigned max_conns, max_per_ip;
	uint64_t head_ms, idle_ms;
	unsigned total;			/* counted connections */
	struct http_link first, idle, busy, shut;
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
unlink_conn(struct http_conn *k)
{
	list_remove(&k->all);
	if (k->state == HTTP_CONN_FIRST || k->state == HTTP_CONN_IDLE)
		list_remove(&k->by_peer);
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
    unsigned max_per_ip, uint64_t head_ms, uint64_t idle_ms)
{
	struct http_conns *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max_conns = max_conns ? max_conns : 1;
	t->max_per_ip = max_per_ip ? max_per_ip : 1;
	t->head_ms = head_ms;
	t->idle_ms = idle_ms;
	list_init(&t->first);
	list_init(&t->idle);
	list_init(&t->busy);
	list_init(&t->shut);
	*out = t;
	return 0;
}

void
http_conns_free(struct http_conns *t)
{
	struct http_link *lists[4];

	if (!t)
		return;
	lists[0] = &t->first;
	lists[1] = &t->idle;
	lists[2] = &t->busy;
	lists[3] = &t->shut;
	for (int i = 0; i < 4; i++)
		while (!list_empty(lists[i]))
			http_conns_remove(t, OWNER(lists[i]->next, all));
	free(t);
}

int
http_conns_room(struct http_conns *t, const struct sockaddr *sa,
    struct http_conn **victim)
{
	struct http_peer *p = peer_find(t, sa);
	struct http_conn *a = NULL, *b = NULL;

	*victim = NULL;
	if (p && p->count >= t->max_per_ip) {
		if (!list_empty(&p->waiting))
			*victim = OWNER(p->waiting.next, by_peer);
		return 0;
	}
	if (t->total < t->max_conns)
		return 1;
	if (!list_empty(&t->first))
		a = OWNER(t->first.next, all);
	if (!list_empty(&t->idle))
		b = OWNER(t->idle.next, all);
	*victim = !a || (b && b->since < a->since) ? b : a;
	return 0;
}

struct http_conn *
http_conns_add(struct http_conns *t, const struct sockaddr *sa, int fd,
    uint64_t now)
{
	unsigned char key[16];
	unsigned char len = peer_key(sa, key);
	struct http_peer **pp = peer_slot(t, key, len), *p = *pp;
	struct http_conn *k;

	if (!(k = calloc(1, sizeof(*k))))
		return NULL;
	if (!p) {
		if (!(p = calloc(1, sizeof(*p)))) {
			free(k);
			return NULL;
		}
		memcpy(p->key, key, len);
		p->keylen = len;
		list_init(&p->waiting);
		*pp = p;
	}
	p->count++;
	t->total++;
	k->fd = fd;
	k->peer = p;
	list_init(&k->all);
	list_init(&k->by_peer);
	wait_from(t, k, HTTP_CONN_FIRST, now);
	return k;
}

void
http_conns_busy(struct http_conns *t, struct http_conn *k)
{
	if (k->state != HTTP_CONN_FIRST && k->state != HTTP_CONN_IDLE)
		return;
	unlink_conn(k);
	k->state = HTTP_CONN_BUSY;
	list_append(&t->busy, &k->all);
}

void
http_conns_idle(struct http_conns *t, struct http_conn *k, uint64_t now)
{
	if (k->state == HTTP_CONN_SHUT)
		return;
	unlink_conn(k);
	wait_from(t, k, HTTP_CONN_IDLE, now);
}

void
http_conns_evict(struct http_conns *t, struct http_conn *k)
{
	if (k->state == HTTP_CONN_SHUT)
		return;
	unlink_conn(k);
	uncount(t, k);
	k->state = HTTP_CONN_SHUT;
	list_append(&t->shut, &k->all);
}

void
http_conns_remove(struct http_conns *t, struct http_conn *k)
{
	unlink_conn(k);
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
