/*
 * tcp:// and http:// readiness probes on the libuv loop (see
 * launch_probe.h). One attempt at a time: a fresh TCP handle connects
 * (to the next of the host's addresses, in turn, so that "localhost"
 * works whether the server listens on 127.0.0.1 or ::1); for http, the
 * request is written and the status line read. The timer bounds the
 * attempt; after a failure the handle is closed, and its close callback
 * arms the same timer for the back-off. So at any time at most one of
 * the TCP handle and the timer is doing something, and stopping is:
 * stop the timer, close both, count the close callbacks.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "launch_probe.h"

int
launch_probe_init(struct launch_probe *p, enum launch_ready kind,
    const struct launch_url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int r, n;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "host '%s': %s", u->host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return r == EAI_MEMORY ? -ENOMEM : -ENOENT;
	}
	for (ai = res; ai && p->naddr < LAUNCH_PROBE_ADDRS; ai = ai->ai_next)
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(p->addr[0]))
			memcpy(&p->addr[p->naddr++], ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	if (p->naddr == 0) {
		snprintf(err, errlen, "host '%s': no IPv4 or IPv6 address",
		    u->host);
		return -ENOENT;
	}
	if (kind == LAUNCH_READY_HTTP) {
		bool v6 = strchr(u->host, ':') != NULL;
		/* An IPv6 zone (%lo) names a link of this host: not for the
		 * server's Host header. */
		int hostlen = (int)strcspn(u->host, "%");

		n = snprintf(p->req, sizeof(p->req), "GET %s HTTP/1.0\r\n"
		    "Host: %s%.*s%s:%s\r\nUser-Agent: metricsd-launch\r\n"
		    "Connection: close\r\n\r\n", u->path, v6 ? "[" : "",
		    hostlen, u->host, v6 ? "]" : "", u->port);
		if (n < 0 || (size_t)n >= sizeof(p->req)) {
			snprintf(err, errlen, "request too long");
			return -ENAMETOOLONG;
		}
		p->reqlen = (size_t)n;
	}
	return 0;
}

static void attempt(struct launch_probe *p);

static void
on_backoff(uv_timer_t *t)
{
	attempt(t->data);
}

static void
on_tcp_closed(uv_handle_t *h)
{
	struct launch_probe *p = h->data;
	unsigned d;

	p->tcp_open = false;
	if (!p->running) {
		if (!p->timer_open && p->on_closed)
			p->on_closed(p);
		return;
	}
	/* Back-off before the next attempt: 50 ms, doubling to 500 ms. */
	d = p->backoff_ms;
	p->backoff_ms = d * 2 > LAUNCH_PROBE_BACKOFF_MAX_MS ?
	    LAUNCH_PROBE_BACKOFF_MAX_MS : d * 2;
	uv_timer_start(&p->timer, on_backoff, d, 0);
}

/* End the current attempt: success, or a failure saying why. */
static void
attempt_end(struct launch_probe *p, bool ok, const char *why)
{
	uv_timer_stop(&p->timer);
	if (ok) {
		p->running = false;
		p->done = true;
		if (p->tcp_open)
			uv_close((uv_handle_t *)&p->tcp, on_tcp_closed);
		p->on_ready(p);
		return;
	}
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	if (p->tcp_open && !uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, on_tcp_closed);
}

static void
on_attempt_timeout(uv_timer_t *t)
{
	struct launch_probe *p = t->data;
	char why[64];

	snprintf(why, sizeof(why), "no answer within %d ms",
	    LAUNCH_PROBE_ATTEMPT_MS);
	attempt_end(p, false, why);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct launch_probe *p = h->data;

	(void)suggested;
	buf->base = p->resp + p->resplen;
	buf->len = sizeof(p->resp) - 1 - p->resplen;
}

/* "HTTP/1.x NNN": decided as soon as the status code has arrived. */
static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct launch_probe *p = s->data;
	char why[80];

	(void)buf;
	if (!p->running || uv_is_closing((uv_handle_t *)s))
		return;
	if (n > 0)
		p->resplen += (size_t)n;
	if (p->resplen >= 12) {
		p->resp[p->resplen] = '\0';
		if (strncmp(p->resp, "HTTP/1.", 7) != 0 || p->resp[8] != ' ') {
			attempt_end(p, false, "not an HTTP/1 answer");
		} else if (p->resp[9] == '2' && p->resp[10] >= '0' &&
		    p->resp[10] <= '9' && p->resp[11] >= '0' &&
		    p->resp[11] <= '9') {
			attempt_end(p, true, NULL);
		} else {
			snprintf(why, sizeof(why), "HTTP status %.3s",
			    p->resp + 9);
			attempt_end(p, false, why);
		}
		return;
	}
	if (n < 0 || p->resplen >= sizeof(p->resp) - 1) {
		snprintf(why, sizeof(why), "connection closed before the "
		    "status line%s%s", n < 0 && n != UV_EOF ? ": " : "",
		    n < 0 && n != UV_EOF ? uv_strerror((int)n) : "");
		attempt_end(p, false, why);
	}
}

static void
on_write(uv_write_t *w, int status)
{
	struct launch_probe *p = w->data;
	char why[96];

	if (status < 0 && p->running && !uv_is_closing((uv_handle_t *)&p->tcp)) {
		snprintf(why, sizeof(why), "send request: %s",
		    uv_strerror(status));
		attempt_end(p, false, why);
	}
}

static void
on_connect(uv_connect_t *c, int status)
{
	struct launch_probe *p = c->data;
	uv_buf_t b;
	char why[96];
	int r;

	if (!p->running || uv_is_closing((uv_handle_t *)&p->tcp))
		return;
	if (status < 0) {
		snprintf(why, sizeof(why), "connect: %s", uv_strerror(status));
		attempt_end(p, false, why);
		return;
	}
	if (p->kind == LAUNCH_READY_TCP) {
		attempt_end(p, true, NULL);
		return;
	}
	b = uv_buf_init(p->req, (unsigned)p->reqlen);
	p->wr.data = p;
	p->resplen = 0;
	if ((r = uv_write(&p->wr, (uv_stream_t *)&p->tcp, &b, 1, on_write)) < 0 ||
	    (r = uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, on_read)) < 0) {
		snprintf(why, sizeof(why), "send request: %s", uv_strerror(r));
		attempt_end(p, false, why);
	}
}

static void
attempt(struct launch_probe *p)
{
	const struct sockaddr *a = (const struct sockaddr *)&p->addr[p->next];
	char why[96];
	int r;

	if (!p->running)
		return;
	p->next = (p->next + 1) % p->naddr;
	p->attempts++;
	if ((r = uv_tcp_init(p->loop, &p->tcp)) < 0) {
		snprintf(why, sizeof(why), "socket: %s", uv_strerror(r));
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
		uv_timer_start(&p->timer, on_backoff, LAUNCH_PROBE_BACKOFF_MAX_MS, 0);
		return;
	}
	p->tcp_open = true;
	p->tcp.data = p;
	p->conn.data = p;
	uv_timer_start(&p->timer, on_attempt_timeout, LAUNCH_PROBE_ATTEMPT_MS, 0);
	if ((r = uv_tcp_connect(&p->conn, &p->tcp, a, on_connect)) < 0) {
		snprintf(why, sizeof(why), "connect: %s", uv_strerror(r));
		attempt_end(p, false, why);
	}
}

int
launch_probe_start(struct launch_probe *p, uv_loop_t *loop,
    void (*on_ready)(struct launch_probe *p))
{
	int r;

	p->loop = loop;
	p->on_ready = on_ready;
	p->backoff_ms = LAUNCH_PROBE_BACKOFF_MIN_MS;
	if ((r = uv_timer_init(loop, &p->timer)) < 0)
		return r;
	p->timer.data = p;
	p->timer_open = true;
	p->running = true;
	attempt(p);	/* the first try at once */
	return 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct launch_probe *p = h->data;

	p->timer_open = false;
	if (!p->tcp_open && p->on_closed)
		p->on_closed(p);
}

void
launch_probe_stop(struct launch_probe *p,
    void (*on_closed)(struct launch_probe *p))
{
	bool any = p->timer_open || p->tcp_open;

	if (p->stopped)
		return;
	p->stopped = true;
	p->running = false;
	p->on_closed = on_closed;
	if (p->timer_open && !uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, on_timer_closed);
	if (p->tcp_open && !uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, on_tcp_closed);
	if (!any && on_closed)
		on_closed(p);
}
