/*
 * The HTTP server's connection limits as bookkeeping: how many connections
 * each client address has, which connections are waiting for a request
 * and since when, which are sending an answer and when they last made
 * progress, which one to evict to make room for a newcomer, which
 * newcomers wait for room, and which are past their deadline. Every
 * operation is O(1) (O(k) for k expired connections); no walk over all
 * connections.
 *
 * A connection is either waiting for a complete request (HTTP_CONN_FIRST:
 * a new one; HTTP_CONN_IDLE: a kept-alive one after a request), has one
 * whose answer is being made (HTTP_CONN_BUSY), is sending its answer
 * (HTTP_CONN_SENDING), or is evicted (HTTP_CONN_SHUT: no longer counted,
 * the server has yet to close it). A newcomer for which no room could be
 * made waits, accepted but not yet counted nor served (HTTP_CONN_PARKED).
 * Waiting connections are ordered by the time they began waiting, sending
 * ones by the time of their last progress (the last time the client took
 * in part of the answer), each in one list for all and one per address;
 * parked ones by the time they were accepted, in one list.
 *
 * A waiting connection may be evicted at once; a sending one only once it
 * has made no progress for stall_ms (a stalled client); a busy one never.
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
	HTTP_CONN_SENDING,
	HTTP_CONN_SHUT,
	HTTP_CONN_PARKED,
};

struct http_link {
	struct http_link *prev, *next;
};

struct http_peer;

/*
 * One connection. fd and round are the caller's; the rest is the table's
 * (addr: the client's address as given to http_conns_add or _park).
 */
struct http_conn {
	int fd;
	uint64_t round;
	enum http_conn_state state;
	uint64_t since;			/* began waiting; last progress; parked */
	struct http_peer *peer;		/* NULL while not counted */
	struct http_link all;		/* in the table's list for its state */
	struct http_link by_peer;	/* its address's waiting or sending list */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct http_conns;

/*
 * A table for at most max_conns connections in all and max_per_ip from
 * one address (both at least 1). A new connection has head_ms to deliver
 * its first request, a kept-alive one idle_ms for each next one; a parked
 * newcomer waits at most head_ms for room. A sending connection that has
 * made no progress for stall_ms may be evicted. Returns 0 or -ENOMEM.
 */
int http_conns_new(struct http_conns **out, unsigned max_conns,
    unsigned max_per_ip, uint64_t head_ms, uint64_t idle_ms,
    uint64_t stall_ms);

/* Frees the table and the records still in it. */
void http_conns_free(struct http_conns *t);

/*
 * Room for a newcomer from sa at now? 1 if there is; 0 if not, with
 * *victim the connection to evict to make room, from sa's address if that
 * address is at its limit, else from all: the one waiting longest; if none
 * waits, the sending one that has gone longest without progress, provided
 * that is stall_ms or more. Else *victim is NULL, and *retry (if retry is
 * not NULL) the time from which a sending connection may be a victim, or
 * UINT64_MAX if only a change of state can make room. IPv4-mapped IPv6
 * addresses count as the IPv4 address.
 */
int http_conns_room(struct http_conns *t, const struct sockaddr *sa,
    uint64_t now, struct http_conn **victim, uint64_t *retry);

/*
 * Count a newcomer from sa (salen bytes; after http_conns_room said there
 * is room), waiting for its first request from now. NULL if out of
 * memory.
 */
struct http_conn *http_conns_add(struct http_conns *t,
    const struct sockaddr *sa, socklen_t salen, int fd, uint64_t now);

/*
 * Park a newcomer from sa for which there is no room yet: kept, not
 * counted, until http_conns_unpark or its deadline (head_ms from now).
 * NULL if out of memory.
 */
struct http_conn *http_conns_park(struct http_conns *t,
    const struct sockaddr *sa, socklen_t salen, int fd, uint64_t now);

/* A parked newcomer for which there is room now: counted, as _add. */
void http_conns_unpark(struct http_conns *t, struct http_conn *k,
    uint64_t now);

/* The parked newcomers, oldest first: the first (after NULL) or the one
 * after k; NULL after the last. And how many there are. */
struct http_conn *http_conns_parked_next(const struct http_conns *t,
    const struct http_conn *k);
unsigned http_conns_parked(const struct http_conns *t);

/* It has a complete request: not a victim, no deadline. */
void http_conns_busy(struct http_conns *t, struct http_conn *k);

/* Its answer is being sent: progress from now (a victim once stalled). */
void http_conns_sending(struct http_conns *t, struct http_conn *k,
    uint64_t now);

/* A sending connection made progress at now (no-op in any other state). */
void http_conns_progress(struct http_conns *t, struct http_conn *k,
    uint64_t now);

/* Its request is over: waiting for the next one from now (kept alive). */
void http_conns_idle(struct http_conns *t, struct http_conn *k,
    uint64_t now);

/* Evicted (its socket shut down by the caller): no longer counted. */
void http_conns_evict(struct http_conns *t, struct http_conn *k);

/* Closed: uncounted if it still was, and freed. */
void http_conns_remove(struct http_conns *t, struct http_conn *k);

/* The earliest deadline of a waiting or parked connection, or
 * UINT64_MAX. */
uint64_t http_conns_deadline(const struct http_conns *t);

/* A waiting or parked connection whose deadline is at or before now, or
 * NULL. */
struct http_conn *http_conns_expired(const struct http_conns *t,
    uint64_t now);

/* Connections counted (not evicted), in all and from sa's address. */
unsigned http_conns_count(const struct http_conns *t,
    const struct sockaddr *sa);
unsigned http_conns_total(const struct http_conns *t);

#endif
