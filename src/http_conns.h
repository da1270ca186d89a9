/*
 * The HTTP server's connection limits as bookkeeping: how many connections
 * each client address has, which connections are waiting for a request
 * and since when, which one to evict to make room for a newcomer, and
 * which are past their request deadline. Every operation is O(1) (O(k)
 * for k expired connections); no walk over all connections.
 *
 * A connection is either waiting for a complete request (HTTP_CONN_FIRST:
 * a new one; HTTP_CONN_IDLE: a kept-alive one after a request), has one
 * (HTTP_CONN_BUSY), or is evicted (HTTP_CONN_SHUT: no longer counted, the
 * server has yet to close it). Waiting connections are ordered by the time
 * they began waiting, in one list for all and one per address.
 *
 * No I/O and no clock: callers pass the time (milliseconds, monotonic and
 * never decreasing) and do the shutting down. Nothing here prints.
 */
#ifndef METRICSD_HTTP_CONNS_H
#define METRICSD_HTTP_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

enum http_conn_state {
	HTTP_CONN_FIRST,
	HTTP_CONN_IDLE,
	HTTP_CONN_BUSY,
	HTTP_CONN_SHUT,
};

struct http_link {
	struct http_link *prev, *next;
};

struct http_peer;

/* One connection. fd and round are the caller's; the rest is the table's. */
struct http_conn {
	int fd;
	uint64_t round;
	enum http_conn_state state;
	uint64_t since;			/* when it began waiting */
	struct http_peer *peer;		/* NULL once evicted */
	struct http_link all;		/* in the table's list for its state */
	struct http_link by_peer;	/* in its address's waiting list */
};

struct http_conns;

/*
 * A table for at most max_conns connections in all and max_per_ip from
 * one address (both at least 1). A new connection has head_ms to deliver
 * its first request, a kept-alive one idle_ms for each next one. Returns
 * 0 or -ENOMEM.
 */
int http_conns_new(struct http_conns **out, unsigned max_conns,
    unsigned max_per_ip, uint64_t head_ms, uint64_t idle_ms);

/* Frees the table and the records still in it. */
void http_conns_free(struct http_conns *t);

/*
 * Room for a newcomer from sa? 1 if there is; 0 if not, with *victim the
 * waiting connection to evict to make room (the one waiting longest, from
 * sa's address if that address is at its limit, else from all), or NULL
 * if every candidate has a complete request. IPv4-mapped IPv6 addresses
 * count as the IPv4 address.
 */
int http_conns_room(struct http_conns *t, const struct sockaddr *sa,
    struct http_conn **victim);

/*
 * Count a newcomer from sa (after http_conns_room said there is room),
 * waiting for its first request from now. NULL if out of memory.
 */
struct http_conn *http_conns_add(struct http_conns *t,
    const struct sockaddr *sa, int fd, uint64_t now);

/* It has a complete request: not a victim, no deadline. */
void http_conns_busy(struct http_conns *t, struct http_conn *k);

/* Its request is over: waiting for the next one from now (kept alive). */
void http_conns_idle(struct http_conns *t, struct http_conn *k,
    uint64_t now);

/* Evicted (its socket shut down by the caller): no longer counted. */
void http_conns_evict(struct http_conns *t, struct http_conn *k);

/* Closed: uncounted if it still was, and freed. */
void http_conns_remove(struct http_conns *t, struct http_conn *k);

/* The earliest deadline of a waiting connection, or UINT64_MAX. */
uint64_t http_conns_deadline(const struct http_conns *t);

/* A waiting connection whose deadline is at or before now, or NULL. */
struct http_conn *http_conns_expired(const struct http_conns *t,
    uint64_t now);

/* Connections counted (not evicted), in all and from sa's address. */
unsigned http_conns_count(const struct http_conns *t,
    const struct sockaddr *sa);
unsigned http_conns_total(const struct http_conns *t);

#endif
