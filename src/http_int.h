/*
 * The HTTP server's internals, shared by http.c (libmicrohttpd, requests
 * and answers) and http_admit.c (accepting, the connection limits, parked
 * newcomers, the request deadlines). Not for other files: http.h is the
 * interface.
 */
#ifndef METRICSD_HTTP_INT_H
#define METRICSD_HTTP_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "http.h"
#include "http_conns.h"

/* accept() calls per readiness of the listening socket, then the loop. */
#define ACCEPT_BUDGET 256
/* Descriptors kept free for everything else the process does. */
#define FD_RESERVE 64
/* Newcomers parked at most (see "Parked newcomers"). */
#define PARK_MAX 32

struct MHD_Connection;
struct MHD_Daemon;

/* A request suspended while its answer is made (see "Slow answers"). */
struct http_pending {
	struct http_server *s;
	struct MHD_Connection *c;
	const struct http_route *rt;
	struct http_pending *prev, *next; /* s->pending, while suspended */
	struct http_body *body;	/* a reference, once done */
	int status;
	bool working;	/* started, http_pending_done not called yet */
	bool done;	/* the answer is in body */
	bool orphan;	/* its connection is gone: done frees it */
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_pending *pending;	/* suspended requests */
	uv_poll_t poll;		/* MHD's epoll descriptor */
	uv_poll_t accept;	/* our listening socket */
	uv_timer_t timer;	/* MHD's timeouts */
	uv_timer_t deadline;	/* the request deadline sweep */
	uv_timer_t unpark;	/* when a parked newcomer may find room */
	struct http_conns *conns;	/* the limits' bookkeeping */
	unsigned max_conns, max_per_ip;
	uint64_t head_ms, idle_ms;
	uint64_t round;		/* MHD_run calls so far */
	struct http_conn *adding; /* in MHD_add_connection right now */
	int listen_fd;
	int spare_fd;		/* given up to accept-and-drop at EMFILE */
	int closing;		/* handles still to be closed */
	void (*log)(const char *msg);
	struct http_route *routes;
	size_t nroutes;
	char address[INET6_ADDRSTRLEN + 16];
};

/* http.c */

/* MHD_run, which ends the current accept round. */
void http_run(struct http_server *s);
/* After MHD did something: admit parked newcomers, set MHD's timer. */
void http_rearm(struct http_server *s);
/* A message through the server's log hook (if any). */
void http_logf(struct http_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Give a counted connection to MHD (which may close and free it). */
void http_hand_over(struct http_server *s, struct http_conn *k);

/* http_admit.c */

/* Shut a connection down to make room (reset if it was sending). */
void http_conn_evict(struct http_server *s, struct http_conn *k);
/* Run the deadline sweep at the earliest request deadline. */
void http_deadline_arm(struct http_server *s);
/* Admit the parked newcomers for which room can be made now. */
void http_unpark(struct http_server *s);
/* The listening socket is readable: accept, admit or park. */
void http_on_accept(uv_poll_t *h, int status, int events);
/* Raise RLIMIT_NOFILE, or lower max_conns to what it can hold. */
void http_fd_limit(struct http_server *s);

#endif
