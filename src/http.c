/*
 * libmicrohttpd inside a libuv loop, with connection limits that evict.
 *
 * MHD runs in "external epoll" mode: it owns an epoll descriptor holding
 * every connection, and does its work only when we call MHD_run(). That
 * descriptor becomes readable whenever one of its sockets has an event, so
 * a uv_poll on it tells us when to call MHD_run; MHD_get_timeout says when
 * MHD next needs a call without any socket event (to time out idle
 * connections, or because it still has buffered work: a 0 timeout), which
 * a one-shot uv_timer provides. Every MHD_run is followed by re-arming the
 * timer.
 *
 * Stalled answers. A client can hold a connection by sending a whole
 * request and never reading the answer: once the answer is larger than
 * the kernel's socket buffers (a few MB on loopback), the connection sits
 * with its answer half sent until MHD's idle timeout. So the progress of
 * an answer is tracked: every answer is given to MHD as a callback
 * response (body_read) that copies the body out in BODY_BLOCK pieces, and
 * MHD asks for the next piece only once the socket has taken the last
 * one; each call records the time on the connection, which moves it to
 * the tail of the sending lists (one for all, one per address), so their
 * heads are the connections that have gone longest without progress. When
 * no connection waits for a request, the victim is the head of the
 * sending list (of the address, or of all), provided it has made no
 * progress for STALL_MS: a client reading faster than BODY_BLOCK per
 * STALL_MS (320 KB/s) never counts as stalled, while one that stopped
 * reading does STALL_MS after its socket buffers filled up. BODY_BLOCK is
 * also what MHD sends per round of its loop: 16 KiB made a 6 MB answer
 * take 371 rounds, several times slower under load than 64 KiB's 93. An
 * evicted sender is reset (SO_LINGER 0) rather than closed, so that its
 * unsent answer does not hold the kernel's buffers while the kernel
 * probes a window that never opens. One answer sent to many connections
 * (a render that answers every scrape queued for it) is kept once, with
 * a reference count (struct http_body), not once per connection.
 * (The alternative, asking the kernel for the unsent bytes with
 * SIOCOUTQ when choosing a victim, needs two samples to see a stall and a
 * walk over the connections to find the most stalled; the callback costs
 * a memcpy MHD's own buffer would cost anyway, and keeps every choice
 * O(1).) A connection whose answer is still being made (a suspended
 * render) is never evicted.
 *
 * Slow answers. A route with a start handler (a /metrics render of a
 * large store can take seconds) does not answer in on_request: the
 * connection is suspended (MHD_suspend_connection, which needs
 * MHD_ALLOW_SUSPEND_RESUME), the handler starts the work elsewhere (a
 * libuv worker thread) and returns, and the loop goes on serving every
 * other connection, /healthz included. When the answer is ready,
 * http_pending_done (on the loop's thread) resumes the connection; MHD
 * calls on_request again, and the answer is queued then. A suspended
 * request has its whole request in, so it is busy: never evicted, no
 * deadline. Its record (struct http_pending, MHD's per-request context)
 * is freed at the end of the request, unless the work is still running
 * (a server closed mid-render): then http_pending_done frees it.
 *
 * Accepting connections, the limits, parked newcomers and the request
 * deadlines are http_admit.c's (http_int.h holds what both files share).
 *
 * libmicrohttpd is not linked: the first http_server_start loads it, and
 * every call goes through the table mhd (http_mhd.h), so that the modes
 * that never serve HTTP do not pay for loading it and GnuTLS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <uv.h>

#include "clock.h"
#include "http.h"
#include "http_conns.h"
#include "http_int.h"
#include "http_listen.h"
#include "http_mhd.h"

/* listen() backlog asked for; the kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG 65535
/* An answer is handed to MHD in pieces of this size. */
#define BODY_BLOCK (64 * 1024)
/* A sending connection without progress this long may be evicted. */
#define STALL_MS 200

static const char allow_methods[] = "GET, HEAD";

/* libmicrohttpd's functions, set by the first http_server_start. */
static const struct http_mhd *mhd;

static void conn_sending(struct http_server *s, struct MHD_Connection *c);
static struct http_conn *conn_of(struct MHD_Connection *c);

/* An answer made once for several requests (see http.h). */
struct http_body {
	char *p;
	size_t len;
	unsigned refs;
};

/*
 * An answer's body, which MHD reads in pieces as the socket takes them:
 * each read is progress of the connection k (see "Stalled answers").
 */
struct body {
	struct http_server *s;
	struct http_conn *k;	/* lives as long as MHD's connection */
	const char *p;
	size_t len;
	struct http_body *hold;	/* p's owner (a reference), or NULL */
};

struct http_body *
http_body_new(char *data, size_t len)
{
	struct http_body *b = malloc(sizeof(*b));

	if (!b) {
		free(data);
		return NULL;
	}
	b->p = data;
	b->len = len;
	b->refs = 1;
	return b;
}

void
http_body_unref(struct http_body *b)
{
	if (!b || --b->refs > 0)
		return;
	free(b->p);
	free(b);
}

void
http_logf(struct http_server *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(msg);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char msg[512];
	size_t n;

	if (!s->log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	s->log(msg);
}

static ssize_t
body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body *b = cls;
	size_t n;

	if (pos >= b->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = b->len - pos < max ? b->len - pos : max;
	memcpy(buf, b->p + pos, n);
	if (b->k)
		http_conns_progress(b->s->conns, b->k, clock_now_ms());
	return (ssize_t)n;
}

static void
body_free(void *cls)
{
	struct body *b = cls;

	http_body_unref(b->hold);
	free(b);
}

/*
 * Queue an answer: len bytes at data, which hold (a reference the answer
 * takes over, or NULL for data that outlives the server) owns.
 */
static enum MHD_Result
reply(struct http_server *s, struct MHD_Connection *c, unsigned status,
    struct http_body *hold, const void *data, size_t len,
    const char *ctype, bool allow)
{
	struct MHD_Response *r = NULL;
	struct body *b;
	enum MHD_Result ret;

	if ((b = malloc(sizeof(*b)))) {
		b->s = s;
		b->k = conn_of(c);
		b->p = data;
		b->len = len;
		b->hold = hold;
		r = mhd->create_response_from_callback(len, BODY_BLOCK,
		    body_read, b, body_free);
	}
	if (!r) {
		http_body_unref(hold);
		free(b);
		return MHD_NO;
	}
	/* Answered: the rest is MHD's to send, under its idle timeout, and
	 * evictable once stalled. */
	conn_sending(s, c);
	mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	mhd->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	mhd->add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd->add_response_header(r, "Content-Security-Policy", HTTP_CSP);
	if (allow)
		mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    allow_methods);
	ret = mhd->queue_response(c, status, r);
	mhd->destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct http_server *s, struct MHD_Connection *c,
    unsigned status, const char *text, bool allow)
{
	return reply(s, c, status, NULL, text, strlen(text),
	    "text/plain; charset=utf-8", allow);
}

/* ---- connection states ---- */

static struct http_conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i = mhd->get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

/* The whole request is in, its answer being made: no deadline, no
 * eviction until it is being sent. */
static void
conn_busy(struct http_server *s, struct MHD_Connection *c)
{
	struct http_conn *k = conn_of(c);

	if (k)
		http_conns_busy(s->conns, k);
}

/* A response is queued: no deadline, evictable once stalled. */
static void
conn_sending(struct http_server *s, struct MHD_Connection *c)
{
	struct http_conn *k = conn_of(c);

	if (k)
		http_conns_sending(s->conns, k, clock_now_ms());
}

/* ---- MHD's callbacks ---- */

/*
 * MHD_add_connection announces the connection here before it returns: it
 * gets the record prepared for it. At the close, the record goes.
 */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct http_conn *k = *socket_context;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = s->adding;
		s->adding = NULL;
		return;
	}
	if (k) {
		http_conns_remove(s->conns, k);
		*socket_context = NULL;
	}
}

static void
pending_unlink(struct http_pending *p)
{
	struct http_server *s = p->s;

	if (!s)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	p->s = NULL;
}

/* Its request is over: free it, or leave it to http_pending_done. */
static void
pending_end(struct http_pending *p)
{
	pending_unlink(p);
	if (p->working) {
		p->orphan = true;
		return;
	}
	http_body_unref(p->body);
	free(p);
}

/* A request is over (answered or abandoned): the next one gets a deadline. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_conn *k = conn_of(c);

	(void)toe;
	if (con_cls && *con_cls && *con_cls != (void *)s) {
		pending_end(*con_cls);
		*con_cls = NULL;
	}
	if (!k)
		return;
	http_conns_idle(s->conns, k, clock_now_ms());
	http_deadline_arm(s);
}

/*
 * A route with a start handler: the first time, suspend the request and
 * start the work; the second time (resumed by http_pending_done), queue
 * the answer. *con_cls is the pending record from then on.
 */
static enum MHD_Result
start_pending(struct http_server *s, struct MHD_Connection *c,
    const struct http_route *rt, void **con_cls)
{
	struct http_pending *p = *con_cls != (void *)s ? *con_cls : NULL;
	enum MHD_Result ret;

	if (p) {
		if (!p->done)
			return MHD_YES;
		if (!p->body)
			return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal error\n", false);
		ret = reply(s, c, (unsigned)p->status, p->body, p->body->p,
		    p->body->len, p->status == 200 ?
		    rt->content_type : "text/plain; charset=utf-8", false);
		p->body = NULL;		/* the answer's reference now */
		return ret;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n", false);
	p->s = s;
	p->c = c;
	p->rt = rt;
	p->working = true;
	if (rt->start(rt->arg, p) < 0) {
		free(p);
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error\n", false);
	}
	*con_cls = p;
	if ((p->next = s->pending))
		p->next->prev = p;
	s->pending = p;
	/* The whole request is in: busy, neither evicted nor timed. */
	conn_busy(s, c);
	mhd->suspend_connection(c);
	return MHD_YES;
}

/*
 * MHD calls this once when the headers are in (*con_cls still NULL), then
 * once per chunk of body, then once more with no data. Errors (404, 405)
 * are answered at once: MHD then closes the connection rather than read
 * a body nobody wants. A GET is answered on the last call, so that the
 * connection can be kept alive for the next scrape; any body it has is
 * read and dropped, bounded by the connection memory limit per chunk.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	const struct http_route *rt = NULL;
	struct http_body *b;
	char *body = NULL;
	size_t len = 0;
	int status;

	(void)version;
	(void)upload_data;
	for (size_t i = 0; i < s->nroutes; i++)
		if (strcmp(s->routes[i].path, url) == 0)
			rt = &s->routes[i];
	if (!rt)
		return reply_text(s, c, MHD_HTTP_NOT_FOUND, "not found\n",
		    false);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", true);
	if (!*con_cls) {
		*con_cls = s;	/* any non-NULL marker: headers seen */
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rt->start)
		return start_pending(s, c, rt, con_cls);
	if (!rt->get)
		return reply(s, c, MHD_HTTP_OK, NULL, rt->body, rt->body_len,
		    rt->content_type, false);
	status = rt->get(rt->arg, &body, &len);
	if (!body || !(b = http_body_new(body, len)))
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error\n", false);
	return reply(s, c, (unsigned)status, b, b->p, b->len,
	    status == 200 ? rt->content_type : "text/plain; charset=utf-8",
	    false);
}

/* ---- running MHD ---- */

static void on_timer(uv_timer_t *t);

/* Every MHD_run goes through here: it ends the current accept round. */
void
http_run(struct http_server *s)
{
	mhd->run(s->mhd);
	s->round++;
}

void
http_pending_done(struct http_pending *p, int status,
    struct http_body *b)
{
	struct http_server *s = p->s;

	p->working = false;
	if (p->orphan || !s) {
		free(p);
		return;
	}
	if (b)
		b->refs++;
	p->status = status;
	p->body = b;
	p->done = true;
	pending_unlink(p);
	mhd->resume_connection(p->c);
	/* Answer now rather than at the next event of MHD's descriptor. */
	http_run(s);
	http_rearm(s);
}

void
http_rearm(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (s->closing)
		return;
	/* Whatever MHD did may have made room for a parked newcomer. */
	http_unpark(s);
	if (mhd->get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&s->timer);
}

static void
on_timer(uv_timer_t *t)
{
	struct http_server *s = t->data;

	http_run(s);
	http_rearm(s);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct http_server *s = p->data;

	(void)status;
	(void)events;
	http_run(s);
	http_rearm(s);
}

/* ---- accepting ---- */

/* Give a counted connection to MHD. */
void
http_hand_over(struct http_server *s, struct http_conn *k)
{
	k->round = s->round;
	s->adding = k;
	/* MHD closes fd itself if it fails; then, if it had announced the
	 * connection, it has also announced its close, freeing k. */
	if (mhd->add_connection(s->mhd, k->fd, (struct sockaddr *)&k->addr,
	    k->addrlen) != MHD_YES && s->adding == k) {
		s->adding = NULL;
		http_conns_remove(s->conns, k);
	}
}

/* The limits, each at least 1; a first request's deadline no later than
 * a next one's. */
static void
limits_set(struct http_server *s, const struct http_limits *lim)
{
	s->max_conns = lim->max_conns ? lim->max_conns : 1;
	s->max_per_ip = lim->max_conns_per_ip ? lim->max_conns_per_ip : 1;
	if (s->max_per_ip > s->max_conns)
		s->max_per_ip = s->max_conns;
	s->idle_ms = (uint64_t)lim->timeout_s * 1000;
	s->head_ms = lim->head_timeout_ms ? lim->head_timeout_ms :
	    HTTP_HEAD_TIMEOUT_MS;
	if (s->head_ms > s->idle_ms)
		s->head_ms = s->idle_ms;
}

int
http_server_start(struct http_server **out, uv_loop_t *loop,
    const char *addr, const struct http_limits *lim,
    const struct http_route *routes, size_t nroutes,
    void (*log)(const char *msg), char *err, size_t errlen)
{
	struct http_server *s;
	const union MHD_DaemonInfo *info;
	int r;

	if ((r = http_mhd_load(&mhd, err, errlen)) < 0)
		return r;
	if (!(s = calloc(1, sizeof(*s))) ||
	    !(s->routes = calloc(nroutes ? nroutes : 1, sizeof(*routes)))) {
		free(s);
		snprintf(err, errlen, "http server: out of memory");
		return -ENOMEM;
	}
	memcpy(s->routes, routes, nroutes * sizeof(*routes));
	s->nroutes = nroutes;
	s->log = log;
	s->listen_fd = s->spare_fd = -1;
	limits_set(s, lim);
	if ((r = http_listen_open(addr, LISTEN_BACKLOG, &s->listen_fd, err,
	    errlen)) < 0)
		goto fail_alloc;
	http_listen_address(s->listen_fd, s->address, sizeof(s->address));
	http_fd_limit(s);
	if (http_conns_new(&s->conns, s->max_conns, s->max_per_ip, s->head_ms,
	    s->idle_ms, STALL_MS) < 0) {
		snprintf(err, errlen, "http server: out of memory");
		r = -ENOMEM;
		goto fail_sock;
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/*
	 * No listening socket of MHD's own (we accept), and no limit of its
	 * own below ours: it must never refuse what we hand it, counting the
	 * evicted connections it has yet to close (up to max_conns from a
	 * deadline sweep and ACCEPT_BUDGET from an accept burst before its
	 * next MHD_run). No per-address limit of its own either.
	 */
	s->mhd = mhd->start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
	    on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_CONNECTION_LIMIT,
	    2 * s->max_conns + ACCEPT_BUDGET + FD_RESERVE,
	    MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->conn_memory,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "http server on %s: libmicrohttpd "
		    "failed to start (see its message above)", s->address);
		r = -EIO;
		goto fail_sock;
	}
	info = mhd->get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, errlen, "http server: libmicrohttpd has no "
		    "epoll descriptor");
		r = -EIO;
		goto fail_mhd;
	}
	s->poll.data = s->accept.data = s->timer.data = s->deadline.data =
	    s->unpark.data = s;
	if ((r = uv_poll_init(loop, &s->poll, info->epoll_fd)) < 0) {
		snprintf(err, errlen, "http server: uv_poll_init: %s",
		    uv_strerror(r));
		goto fail_mhd;
	}
	if ((r = uv_poll_init(loop, &s->accept, s->listen_fd)) < 0) {
		snprintf(err, errlen, "http server: uv_poll_init: %s",
		    uv_strerror(r));
		/* The first handle is live: close it the normal way. */
		s->closing = 1;
		uv_close((uv_handle_t *)&s->poll, NULL);
		goto fail_mhd;
	}
	uv_timer_init(loop, &s->timer);
	uv_timer_init(loop, &s->deadline);
	uv_timer_init(loop, &s->unpark);
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	uv_poll_start(&s->accept, UV_READABLE, http_on_accept);
	http_rearm(s);
	*out = s;
	return 0;

fail_mhd:
	mhd->stop_daemon(s->mhd);
fail_sock:
	http_conns_free(s->conns);
	close(s->listen_fd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
fail_alloc:
	free(s->routes);
	free(s);
	return r;
}

const char *
http_server_address(const struct http_server *s)
{
	return s->address;
}

static void
on_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	if (--s->closing == 0) {
		http_conns_free(s->conns);
		free(s->routes);
		free(s);
	}
}

void
http_server_close(struct http_server *s)
{
	struct http_conn *k;

	if (!s)
		return;
	s->closing = 5;
	uv_poll_stop(&s->poll);
	uv_poll_stop(&s->accept);
	uv_timer_stop(&s->timer);
	uv_timer_stop(&s->deadline);
	uv_timer_stop(&s->unpark);
	close(s->listen_fd);
	/* Parked newcomers are ours, not MHD's. */
	while ((k = http_conns_parked_next(s->conns, NULL))) {
		close(k->fd);
		http_conns_remove(s->conns, k);
	}
	/*
	 * Requests still being answered elsewhere: their records outlive the
	 * server (http_pending_done frees them); their connections are
	 * resumed so that MHD_stop_daemon can close them.
	 */
	while (s->pending) {
		struct http_pending *p = s->pending;
		struct MHD_Connection *c = p->c;

		pending_unlink(p);
		p->orphan = true;
		mhd->resume_connection(c);
	}
	mhd->stop_daemon(s->mhd);	/* closes every connection */
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	uv_close((uv_handle_t *)&s->poll, on_closed);
	uv_close((uv_handle_t *)&s->accept, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
	uv_close((uv_handle_t *)&s->deadline, on_closed);
	uv_close((uv_handle_t *)&s->unpark, on_closed);
}
