/*
 * libmicrohttpd inside a libuv loop.
 *
 * MHD runs in "external epoll" mode: it owns an epoll descriptor holding
 * the listening socket and every connection, and does its work only when
 * we call MHD_run(). That descriptor becomes readable whenever one of its
 * sockets has an event, so a uv_poll on it tells us when to call MHD_run;
 * MHD_get_timeout says when MHD next needs a call without any socket
 * event (to time out idle connections, or because it still has buffered
 * work: a 0 timeout), which a one-shot uv_timer provides. Every MHD_run,
 * from either watcher, is followed by re-arming the timer.
 *
 * MHD's own timeout is an idle timeout: a client that trickles its request
 * headers a byte at a time is never idle and would hold its connection,
 * and with a few of them the per-address or global limit, for ever. So a
 * connection also gets a request deadline: from its start, and again from
 * the end of each request, it has timeout_s to deliver a whole request
 * (head and any body) and get it answered. A second timer sweeps the connections waiting for one and shuts
 * down the socket of those past the deadline; MHD then sees the end of
 * the stream and closes the connection itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

/* A connection, while MHD has it: for the request deadline. */
struct conn {
	struct conn *prev, *next;
	int fd;
	uint64_t since;		/* clock_now_ms() when it began waiting for a request */
	bool busy;		/* a request head arrived, not completed yet */
	bool shut;		/* past the deadline, socket shut down */
};

struct http_server {
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_timer_t deadline;	/* the request deadline sweep */
	uint64_t deadline_ms;
	struct conn conns;	/* list head */
	int listen_fd;
	int closing;		/* handles still to be closed */
	void (*log)(const char *msg);
	struct http_route *routes;
	size_t nroutes;
	char address[INET6_ADDRSTRLEN + 16];
};

static const char allow_methods[] = "GET, HEAD";

static void conn_busy(struct MHD_Connection *c);

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

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, void *body, size_t len,
    enum MHD_ResponseMemoryMode mode, const char *ctype, bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!(r = MHD_create_response_from_buffer(len, body, mode))) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	/* Answered: the rest is MHD's to send, under its idle timeout. */
	conn_busy(c);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    allow_methods);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned status, const char *text,
    bool allow)
{
	return reply(c, status, (void *)text, strlen(text),
	    MHD_RESPMEM_PERSISTENT, "text/plain; charset=utf-8", allow);
}

/* ---- request deadline ---- */

static void on_deadline(uv_timer_t *t);

/*
 * Deadlines read clock_now_ms(), the time now, not the loop's cached time:
 * a connection accepted at the end of a long scrape would otherwise start
 * its deadline in the past.
 */

/* Sweep soon enough after the earliest deadline, if the timer is idle. */
static void
deadline_arm(struct http_server *s)
{
	if (!s->closing && !uv_is_active((uv_handle_t *)&s->deadline))
		uv_timer_start(&s->deadline, on_deadline, s->deadline_ms, 0);
}

static void
on_deadline(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = clock_now_ms(), next = UINT64_MAX;

	for (struct conn *k = s->conns.next; k != &s->conns; k = k->next) {
		if (k->busy || k->shut)
			continue;
		if (now - k->since >= s->deadline_ms) {
			/* MHD owns the fd and closes it on the end of stream. */
			shutdown(k->fd, SHUT_RDWR);
			k->shut = true;
		} else if (k->since + s->deadline_ms - now < next) {
			next = k->since + s->deadline_ms - now;
		}
	}
	if (next != UINT64_MAX && !s->closing)
		uv_timer_start(&s->deadline, on_deadline, next, 0);
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

/* A response is queued: no deadline until the request completes. */
static void
conn_busy(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k)
		k->busy = true;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct conn *k = *socket_context;
	const union MHD_ConnectionInfo *i;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k) {
			k->prev->next = k->next;
			k->next->prev = k->prev;
			free(k);
			*socket_context = NULL;
		}
		return;
	}
	i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!i || !(k = calloc(1, sizeof(*k))))
		return;		/* no deadline then: MHD's idle timeout only */
	k->fd = i->connect_fd;
	k->since = clock_now_ms();
	k->next = s->conns.next;
	k->prev = &s->conns;
	s->conns.next->prev = k;
	s->conns.next = k;
	*socket_context = k;
	deadline_arm(s);
}

/* A request is over (answered or abandoned): the next one gets a deadline. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn *k = conn_of(c);

	(void)con_cls;
	(void)toe;
	if (!k)
		return;
	k->busy = false;
	k->since = clock_now_ms();
	deadline_arm(s);
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
	char *body = NULL;
	size_t len = 0;
	int status;

	(void)version;
	(void)upload_data;
	for (size_t i = 0; i < s->nroutes; i++)
		if (strcmp(s->routes[i].path, url) == 0)
			rt = &s->routes[i];
	if (!rt)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n", false);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", true);
	if (!*con_cls) {
		*con_cls = s;	/* any non-NULL marker: headers seen */
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	status = rt->get(rt->arg, &body, &len);
	if (!body)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error\n", false);
	return reply(c, (unsigned)status, body, len, MHD_RESPMEM_MUST_FREE,
	    status == 200 ? rt->content_type : "text/plain; charset=utf-8",
	    false);
}

static void on_timer(uv_timer_t *t);

static unsigned
conns(struct http_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->mhd,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i ? i->num_connections : 0;
}

/*
 * At the connection limit MHD takes the listening socket out of its
 * epoll set, and puts it back only at the start of a later MHD_run once
 * connections have closed. Nothing would call that MHD_run (no socket
 * event, no timeout left), leaving new clients in the backlog for good:
 * so run once more whenever a run closed connections.
 */
static void
run(struct http_server *s)
{
	unsigned before = conns(s);

	MHD_run(s->mhd);
	if (conns(s) < before)
		MHD_run(s->mhd);
}

static void
rearm(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (s->closing)
		return;
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&s->timer);
}

static void
on_timer(uv_timer_t *t)
{
	struct http_server *s = t->data;

	run(s);
	rearm(s);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct http_server *s = p->data;

	(void)status;
	(void)events;
	run(s);
	rearm(s);
}

/* Split "host:port" / "[v6]:port"; host and port point into buf. */
static int
split_listen(char *buf, char **host, char **port)
{
	char *colon;

	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		*host = buf + 1;
		*port = end + 2;
	} else {
		if (!(colon = strrchr(buf, ':')))
			return -EINVAL;
		*colon = '\0';
		*host = buf;
		*port = colon + 1;
	}
	if (!**host || !**port || strlen(*port) > 5 ||
	    strspn(*port, "0123456789") != strlen(*port) ||
	    strtoul(*port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static int
bind_listen(const char *addr, int *fd, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	char buf[256], *host, *port;
	int r, e = 0, one = 1;

	if (strlen(addr) >= sizeof(buf) ||
	    split_listen(strcpy(buf, addr), &host, &port) < 0) {
		snprintf(err, errlen, "listen address '%s': expected ADDR:PORT "
		    "or [IPV6]:PORT with a port in 0..65535", addr);
		return -EINVAL;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen address '%s': %s", addr,
		    gai_strerror(r));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		*fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (*fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(*fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(*fd, 128) == 0)
			break;
		e = errno;
		close(*fd);
		*fd = -1;
	}
	freeaddrinfo(res);
	if (!ai) {
		snprintf(err, errlen, "bind %s: %s", addr, strerror(e));
		return -e;
	}
	return 0;
}

static void
format_address(struct http_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(s->address, sizeof(s->address), "?");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
		snprintf(s->address, sizeof(s->address), "[%s]:%u", a, port);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
		snprintf(s->address, sizeof(s->address), "%s:%u", a, port);
	}
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

	if (!(s = calloc(1, sizeof(*s))) ||
	    !(s->routes = calloc(nroutes ? nroutes : 1, sizeof(*routes)))) {
		free(s);
		snprintf(err, errlen, "http server: out of memory");
		return -ENOMEM;
	}
	memcpy(s->routes, routes, nroutes * sizeof(*routes));
	s->nroutes = nroutes;
	s->log = log;
	s->conns.next = s->conns.prev = &s->conns;
	s->deadline_ms = (uint64_t)lim->timeout_s * 1000;
	if ((r = bind_listen(addr, &s->listen_fd, err, errlen)) < 0)
		goto fail_alloc;
	format_address(s);
	/* The logger first, so start-up messages go through it too. */
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
	    NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, lim->max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_conns_per_ip,
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
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, errlen, "http server: libmicrohttpd has no "
		    "epoll descriptor");
		r = -EIO;
		goto fail_mhd;
	}
	s->poll.data = s->timer.data = s->deadline.data = s;
	if ((r = uv_poll_init(loop, &s->poll, info->epoll_fd)) < 0) {
		snprintf(err, errlen, "http server: uv_poll_init: %s",
		    uv_strerror(r));
		goto fail_mhd;
	}
	uv_timer_init(loop, &s->timer);
	uv_timer_init(loop, &s->deadline);
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	rearm(s);
	*out = s;
	return 0;

fail_mhd:
	MHD_stop_daemon(s->mhd);	/* closes the listening socket */
	goto fail_alloc;
fail_sock:
	/* Whether a failed start closed it is not documented: only close
	 * it if it is still open (single-threaded here, so no reuse race). */
	if (fcntl(s->listen_fd, F_GETFD) >= 0)
		close(s->listen_fd);
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
		free(s->routes);
		free(s);
	}
}

void
http_server_close(struct http_server *s)
{
	if (!s)
		return;
	s->closing = 3;
	uv_poll_stop(&s->poll);
	uv_timer_stop(&s->timer);
	uv_timer_stop(&s->deadline);
	MHD_stop_daemon(s->mhd);	/* also closes the listening socket */
	uv_close((uv_handle_t *)&s->poll, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
	uv_close((uv_handle_t *)&s->deadline, on_closed);
}
