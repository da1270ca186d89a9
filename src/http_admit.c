/*
 * The HTTP server's admission: accepting connections, the limits, parked
 * newcomers and the request deadlines (http.c runs libmicrohttpd).
 *
 * Connection limits. MHD's own limits refuse the newcomer: at the global
 * limit it stops accepting (new clients wait in the backlog until an idle
 * connection times out), and at the per-address limit it closes the new
 * connection. Either way a few idle sockets, or one local user holding 8
 * connections from 127.0.0.1, blind the scraper. So we accept connections
 * ourselves, on our own listening socket, and hand each one to MHD with
 * MHD_add_connection (MHD has no listening socket and limits high enough
 * never to refuse). Before handing a newcomer over, if its address holds
 * max_conns_per_ip connections, or all addresses hold max_conns, the
 * connection that has gone longest without a complete request (from the
 * newcomer's address in the first case) is evicted: its socket is shut
 * down, MHD sees the end of the stream and closes it. The bookkeeping
 * (http_conns.c) keeps the waiting connections in lists ordered by the
 * time they began waiting, one for all and one per address, so choosing
 * the victim costs O(1) per accept, whatever the number of connections.
 *
 * Parked newcomers. If no connection may be evicted (every candidate is
 * busy, or sending and not stalled long enough), the newcomer is not
 * closed but parked: accepted, kept outside MHD and uncounted, in a list
 * in arrival order, at most PARK_MAX of them. Each change of state (a
 * connection closed, an answer started) and a timer at the time the
 * first sender would count as stalled go over the list and admit every
 * parked newcomer for which room can then be made, oldest first; one
 * still parked after the first-request deadline (head_timeout_ms) is
 * closed. Without this, a client that reopens each connection the moment
 * it is closed would always be the first to see a sender cross the stall
 * threshold, and would take every slot before a scraper could.
 *
 * A newcomer could evict a connection whose request has arrived but that
 * MHD has not read yet (accepted in the same burst, or data that came
 * after the last MHD_run). So a victim accepted since the last MHD_run,
 * or with unread bytes in its socket, first gets an MHD_run, which reads
 * its request and, if the request is complete, takes it out of the
 * waiting lists; then the oldest waiting connection is evicted.
 * TCP_DEFER_ACCEPT on the listening socket (1 s) helps the same way: a
 * client that connects and sends nothing reaches accept() only after a
 * second, while one that sends its request at once is accepted with it.
 *
 * Deadlines. MHD's own timeout is an idle timeout: a client that trickles
 * its request headers a byte at a time is never idle. So a connection also
 * has request deadlines: head_timeout_ms (1 s) from its accept to deliver
 * its first whole request (head and any body), and timeout_s from the end
 * of each request for the next one (keep-alive). A timer sweeps the
 * waiting lists, which are in deadline order, and evicts what is past its
 * deadline: O(1) per eviction, never a walk over every connection.
 *
 * The kernel side: the listening backlog is as large as the kernel allows
 * (net.core.somaxconn; a flood beyond it relies on SYN cookies, on by
 * default), each readiness of the listening socket is drained
 * with up to ACCEPT_BUDGET accept()s, and the soft RLIMIT_NOFILE is raised
 * to its hard limit at start, so that a flood of thousands of connections
 * neither fills the backlog (dropping the scraper's SYN, which costs it a
 * 1 s retransmission) nor runs out of descriptors.
 *
 * Deadlines read clock_now_ms(), the time now, not the loop's cached time:
 * a connection accepted at the end of a long scrape would otherwise start
 * its deadline in the past.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "clock.h"
#include "http_conns.h"
#include "http_int.h"

static void on_deadline(uv_timer_t *t);

/*
 * Evict: shut the socket down. MHD owns the descriptor; it sees the end
 * of the stream at its next MHD_run and closes the connection itself.
 */
void
http_conn_evict(struct http_server *s, struct http_conn *k)
{
	static const struct linger reset = { 1, 0 };

	if (k->state == HTTP_CONN_SENDING)
		setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &reset,
		    sizeof(reset));
	shutdown(k->fd, SHUT_RDWR);
	http_conns_evict(s->conns, k);
}

/*
 * Run the sweep at the earliest deadline. A newcomer's deadline is never
 * earlier than that of the list head it joins, but a first-request
 * deadline can be earlier than a next-request one the timer waits for: so
 * only an idle timer, or one due later than the earliest deadline, is
 * (re)started.
 */
void
http_deadline_arm(struct http_server *s)
{
	uint64_t next = http_conns_deadline(s->conns), now = clock_now_ms();
	uint64_t due = next > now ? next - now : 0;

	if (s->closing || next == UINT64_MAX)
		return;
	if (uv_is_active((uv_handle_t *)&s->deadline) &&
	    uv_timer_get_due_in(&s->deadline) <= due)
		return;
	uv_timer_start(&s->deadline, on_deadline, due, 0);
}

/* Waiting past its deadline: evicted; parked past it: refused. */
static void
on_deadline(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = clock_now_ms();
	struct http_conn *k;

	while ((k = http_conns_expired(s->conns, now))) {
		if (k->state == HTTP_CONN_PARKED) {
			close(k->fd);
			http_conns_remove(s->conns, k);
		} else {
			http_conn_evict(s, k);
		}
	}
	http_unpark(s);
	http_deadline_arm(s);
}

/* Has bytes MHD has not read yet: a request may be complete in them. */
static bool
unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/*
 * Make room for a newcomer from sa under both limits: false if there is
 * none, no candidate being one that may be evicted, with *retry the time
 * from which one may be (UINT64_MAX: only a change of state can).
 */
static bool
make_room(struct http_server *s, const struct sockaddr *sa, uint64_t *retry)
{
	struct http_conn *v;
	bool ran = false;

	while (!http_conns_room(s->conns, sa, clock_now_ms(), &v, retry)) {
		if (!v)
			return false;
		if (v->state != HTTP_CONN_SENDING && !ran &&
		    (v->round == s->round || unread(v->fd))) {
			/* Its request may be in: let MHD read it first. */
			http_run(s);
			ran = true;
			continue;
		}
		http_conn_evict(s, v);
	}
	return true;
}

static void
on_unpark(uv_timer_t *t)
{
	http_unpark(t->data);
}

/*
 * Admit every parked newcomer for which room can be made now, oldest
 * first (one from an address at its limit does not hold back one from
 * another address), and set the timer for the earliest time room may be
 * made for one of the others.
 */
void
http_unpark(struct http_server *s)
{
	struct http_conn *k, *next;
	uint64_t retry, when = UINT64_MAX, now;

	if (s->closing || http_conns_parked(s->conns) == 0)
		return;
	for (k = http_conns_parked_next(s->conns, NULL); k; k = next) {
		next = http_conns_parked_next(s->conns, k);
		if (!make_room(s, (struct sockaddr *)&k->addr, &retry)) {
			if (retry < when)
				when = retry;
			continue;
		}
		http_conns_unpark(s->conns, k, clock_now_ms());
		if (k->state == HTTP_CONN_FIRST)
			http_hand_over(s, k);
	}
	now = clock_now_ms();
	if (when == UINT64_MAX || http_conns_parked(s->conns) == 0)
		uv_timer_stop(&s->unpark);
	else	/* +1: the loop's clock may run behind clock_now_ms */
		uv_timer_start(&s->unpark, on_unpark,
		    when > now ? when - now + 1 : 1, 0);
	http_deadline_arm(s);
}

/*
 * A newcomer: admitted at once if room can be made and nobody is parked,
 * else parked (then admitted in turn, maybe at once), or refused if
 * PARK_MAX are parked already.
 */
static void
admit(struct http_server *s, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	struct http_conn *k;
	uint64_t retry;

	if (http_conns_parked(s->conns) == 0 && make_room(s, sa, &retry)) {
		if (!(k = http_conns_add(s->conns, sa, salen, fd,
		    clock_now_ms()))) {
			close(fd);
			return;
		}
		http_hand_over(s, k);
		http_deadline_arm(s);
		return;
	}
	if (http_conns_parked(s->conns) >= PARK_MAX ||
	    !http_conns_park(s->conns, sa, salen, fd, clock_now_ms())) {
		close(fd);
		return;
	}
	http_unpark(s);
}

/*
 * Out of descriptors (a --max-connections above what the process may
 * open): drop the oldest pending connection with the spare descriptor, so
 * that the backlog keeps moving instead of the listening socket staying
 * readable for ever.
 */
static void
shed(struct http_server *s)
{
	int fd;

	close(s->spare_fd);
	if ((fd = accept(s->listen_fd, NULL, NULL)) >= 0)
		close(fd);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void
http_on_accept(uv_poll_t *h, int status, int events)
{
	struct http_server *s = h->data;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, n;

	(void)status;
	(void)events;
	for (n = 0; n < ACCEPT_BUDGET; n++) {
		len = sizeof(ss);
		fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(s, fd, (struct sockaddr *)&ss, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			http_logf(s, "accept on %s: %s: dropping a connection",
			    s->address, strerror(errno));
			if (s->spare_fd < 0)
				break;
			shed(s);
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			http_logf(s, "accept on %s: %s", s->address,
			    strerror(errno));
		break;
	}
	/* The newcomers' requests are usually in already: answer them now
	 * rather than at the next loop iteration. */
	http_run(s);
	http_rearm(s);
}

/*
 * Raise the soft descriptor limit to the hard one, and lower max_conns if
 * even that cannot hold what the limits allow: max_conns live connections,
 * as many evicted ones MHD has yet to close, an accept burst, a reserve,
 * the parked newcomers.
 */
void
http_fd_limit(struct http_server *s)
{
	struct rlimit rl;
	uint64_t need, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	need = 2 * (uint64_t)s->max_conns + ACCEPT_BUDGET + FD_RESERVE +
	    PARK_MAX;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return;
	fit = rl.rlim_cur > ACCEPT_BUDGET + FD_RESERVE + PARK_MAX + 2 ?
	    (rl.rlim_cur - ACCEPT_BUDGET - FD_RESERVE - PARK_MAX) / 2 : 1;
	http_logf(s, "connection limit %u lowered to %u: RLIMIT_NOFILE is %llu",
	    s->max_conns, (unsigned)fit, (unsigned long long)rl.rlim_cur);
	s->max_conns = (unsigned)fit;
	if (s->max_per_ip > s->max_conns)
		s->max_per_ip = s->max_conns;
}
