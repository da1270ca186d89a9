/*
 * metricsd serve: an HTTP endpoint for Prometheus. GET /metrics reads
 * every store at scrape time (lock-free, while writers write) and renders
 * the text exposition; GET /healthz says the daemon is up. GET / is the
 * dashboard page (its files embedded in the binary, dashboard_assets.h),
 * which polls GET /api/report: the report of every store as JSON
 * (dashboard_api.h).
 *
 * One libuv loop does everything but rendering: HTTP through
 * libmicrohttpd's epoll descriptor (http.c), SIGTERM/SIGINT through
 * uv_signal; slow clients cannot hold it, since libmicrohttpd never
 * blocks on a socket and bounds connections, their memory and idle time.
 *
 * A scrape renders on a libuv worker thread (uv_queue_work), its request
 * suspended meanwhile (http_route.start): the first scrape of a store of
 * tens of millions of values sorts them all, which takes seconds, and the
 * loop must go on answering /healthz and accepting. One render at a time
 * (the scrape state is not thread-safe, and a render is the same for
 * every scraper): the scrapes that arrive while one runs wait, and all of
 * them are answered by the next render, which starts when it ends. The
 * worker touches only the scrape state, the dashboard's state and its
 * warn callback's rate limiter, which nothing on the loop's thread uses
 * while it runs.
 *
 * /api/report renders the same way, from the same followers (a poll
 * folds in what /metrics folded, and the other way round): a render is
 * of one kind, answering every request of that kind queued when it
 * started; when both kinds wait, they take turns.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "args.h"
#include "dashboard_api.h"
#include "dashboard_assets.h"
#include "http.h"
#include "log.h"
#include "modes.h"
#include "prom.h"
#include "readycheck.h"
#include "scrape.h"
#include "sdnotify.h"
#include "store.h"

/* In the exporter range 9100-9999 that Prometheus set aside. */
#define DEFAULT_LISTEN "127.0.0.1:9715"

static const char usage_text[] =
    "usage: metricsd serve [--listen ADDR:PORT] [--metrics-dir DIR]...\n"
    "                      [--address-file FILE] [--max-connections N]\n"
    "                      [--max-connections-per-ip N] [--timeout DURATION]\n"
    "                      [--ready-endpoint ENDPOINT | --socket-dir DIR --readiness-path P]\n"
    "                      [--readiness-id I]\n"
    "\n"
    "Serve metric stores to Prometheus: GET /metrics (text format 0.0.4),\n"
    "GET /healthz; and a dashboard page, GET / (its data: GET /api/report).\n"
    "\n"
    "  --listen ADDR:PORT        address to listen on ([V6]:PORT for IPv6;\n"
    "                            default " DEFAULT_LISTEN ", loopback only;\n"
    "                            port 0 picks a free port)\n"
    "  --metrics-dir DIR         a store, or a directory whose subdirectories\n"
    "                            are stores; may be repeated; need not exist\n"
    "                            yet (default $" STORE_DIR_ENV " or\n"
    "                            /dev/shm/metricsd-UID)\n"
    "  --address-file FILE       write the bound ADDR:PORT to FILE once\n"
    "                            listening (atomically, mode 0600)\n"
    "  --max-connections N       connections at once, all clients (64)\n"
    "  --max-connections-per-ip N  connections at once from one address (8)\n"
    "  --timeout DURATION        close connections idle this long, or that\n"
    "                            take longer to send a request (5s; whole\n"
    "                            seconds, rounded up)\n"
    "  --ready-endpoint ENDPOINT ready-check endpoint of a launcher (also\n"
    "                            spelled --ready)\n"
    "  --socket-dir DIR, --readiness-path P\n"
    "                            ready-check endpoint ipc://DIR/P\n"
    "  --readiness-id I          identity sent in the ready-check\n"
    "\n"
    "Readiness is also signalled to $NOTIFY_SOCKET (READY=1) when set.\n";

/* What a render makes. */
enum render_kind { RENDER_METRICS = 0, RENDER_API, RENDER_NKINDS };

/* Requests waiting for a render, or being answered by the running one. */
struct waiter {
	struct http_pending *p;
	struct waiter *next;
};

struct serve {
	uv_loop_t *loop;
	struct http_server *http;
	struct scrape *scrape;
	struct dashboard_api *api;
	uv_signal_t sigterm, sigint;
	struct log_ratelimit warn_rl;
	uv_work_t work;
	bool rendering;			/* work is queued or running */
	enum render_kind kind;		/* of the running (or last) render */
	struct waiter *batch;		/* answered by the running render */
	/* For the next ones, per kind. */
	struct waiter *queue[RENDER_NKINDS], **qtail[RENDER_NKINDS];
	/* The render's result, from the worker to the loop. */
	char *body;
	size_t len;
	int status, err;
};

static void
on_scrape_warn(void *arg, const char *msg)
{
	struct serve *sv = arg;

	log_ratelimited(&sv->warn_rl, "%s", msg);
}

static void
on_http_log(const char *msg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10000000000ull, 5);

	log_ratelimited(&rl, "http: %s", msg);
}

/* /api/report: every store's report (dashboard_api.h). */
static int
render_api(struct serve *sv, FILE *f)
{
	struct store_snap *snaps;
	char err[256];
	size_t n;
	int r;

	if ((r = scrape_snaps(sv->scrape, &snaps, &n)) < 0)
		return r;
	if ((r = dashboard_api_render(sv->api, snaps, n, f, err,
	    sizeof(err))) < 0 && r != -EIO)
		on_scrape_warn(sv, err);
	free(snaps);
	return r;
}

/* On the worker thread: the whole exposition, or JSON, into sv->body. */
static void
render_work(uv_work_t *w)
{
	struct serve *sv = w->data;
	FILE *f = open_memstream(&sv->body, &sv->len);
	int r;

	sv->err = 0;
	if (!f) {
		sv->body = NULL;
		sv->err = -ENOMEM;
		return;
	}
	if (sv->kind == RENDER_API)
		r = render_api(sv, f);
	else
		r = scrape_render(sv->scrape, f, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(sv->body);
		sv->body = NULL;
		sv->len = 0;
		sv->err = r;
	}
}

/* Answer every request of a batch with body (NULL: 500), shared. */
static void
answer(struct waiter *batch, int code, char *body, size_t len)
{
	/* One copy for all: a render of many MB, answered to dozens of
	 * requests, is kept once while they are sent. */
	struct http_body *b = body ? http_body_new(body, len) : NULL;
	struct waiter *x, *next;

	for (x = batch; x; x = next) {
		next = x->next;
		http_pending_done(x->p, code, b);
		free(x);
	}
	http_body_unref(b);
}

static void render_done(uv_work_t *w, int status);

static bool
queued(const struct serve *sv)
{
	for (int k = 0; k < RENDER_NKINDS; k++)
		if (sv->queue[k])
			return true;
	return false;
}

/*
 * Start a render for every request of one kind queued so far: the kind
 * after the last one rendered that has requests waiting (turns).
 */
static int
render_start(struct serve *sv)
{
	enum render_kind k = sv->kind;
	int r;

	for (int i = 1; i <= RENDER_NKINDS; i++) {
		k = (enum render_kind)((sv->kind + i) % RENDER_NKINDS);
		if (sv->queue[k])
			break;
	}
	sv->kind = k;
	sv->batch = sv->queue[k];
	sv->queue[k] = NULL;
	sv->qtail[k] = &sv->queue[k];
	sv->work.data = sv;
	sv->body = NULL;
	sv->len = 0;
	if ((r = uv_queue_work(sv->loop, &sv->work, render_work,
	    render_done)) < 0)
		return r;
	sv->rendering = true;
	return 0;
}

/*
 * Back on the loop: answer the batch, then start the next render if
 * scrapes came in meanwhile. Answering runs MHD, which may take new
 * scrapes: they queue, since a render still counts as running until its
 * batch is answered.
 */
static void
render_done(uv_work_t *w, int status)
{
	struct serve *sv = w->data;
	struct waiter *batch = sv->batch;
	char *body = sv->body;
	size_t len = sv->len;
	int code = 200, err = sv->err < 0 ? sv->err : status;

	sv->batch = NULL;
	sv->body = NULL;
	if (err < 0) {
		log_ratelimited(&sv->warn_rl, "%s failed: %s",
		    sv->kind == RENDER_API ? "/api/report" : "scrape",
		    err == UV_ECANCELED ? "cancelled" : strerror(-err));
		free(body);
		body = strdup(sv->kind == RENDER_API ? "report failed\n" :
		    "scrape failed\n");
		len = body ? strlen(body) : 0;
		code = 500;
	}
	answer(batch, code, body, len);
	sv->rendering = false;
	if (!sv->http) {
		/* Shutting down: the queued requests' connections are gone. */
		for (int k = 0; k < RENDER_NKINDS; k++) {
			struct waiter *q = sv->queue[k];

			sv->queue[k] = NULL;
			sv->qtail[k] = &sv->queue[k];
			answer(q, 500, NULL, 0);
		}
		return;
	}
	while (queued(sv) && render_start(sv) < 0) {
		char *msg = strdup("scrape failed\n");

		answer(sv->batch, 500, msg, msg ? strlen(msg) : 0);
		sv->batch = NULL;
	}
}

/* Queue a request; a render of its kind answers it (see the top). */
static int
enqueue(struct serve *sv, enum render_kind k, struct http_pending *p)
{
	struct waiter *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->p = p;
	x->next = NULL;
	*sv->qtail[k] = x;
	sv->qtail[k] = &x->next;
	/* Not queued (cannot happen with valid arguments): answer 500. */
	if (!sv->rendering && render_start(sv) < 0) {
		sv->batch = NULL;
		free(x);
		return -EIO;
	}
	return 0;
}

/* GET /metrics */
static int
start_metrics(void *arg, struct http_pending *p)
{
	return enqueue(arg, RENDER_METRICS, p);
}

/* GET /api/report */
static int
start_api(void *arg, struct http_pending *p)
{
	return enqueue(arg, RENDER_API, p);
}

static int
get_healthz(void *arg, char **body, size_t *len)
{
	(void)arg;
	*body = strdup("ok\n");
	*len = *body ? 3 : 0;
	return 200;
}

/* Write "ADDR:PORT\n" to path atomically: a private temp file, renamed. */
static int
address_file_write(const char *path, const char *addr)
{
	char tmp[PATH_MAX];
	int fd, e;
	size_t len = strlen(addr);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp)) {
		log_warn("--address-file %s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		log_warn("--address-file: create %s:", tmp);
		return -1;
	}
	if (write(fd, addr, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    close(fd) != 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		log_warn("--address-file: write %s:", tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		log_warn("--address-file: rename %s to %s:", tmp, path);
		return -1;
	}
	return 0;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct serve *sv = h->data;
	char err[256];

	log_info("%s: shutting down", strsignal(signum));
	sdnotify_send("STOPPING=1", err, sizeof(err));
	http_server_close(sv->http);
	sv->http = NULL;
	uv_close((uv_handle_t *)&sv->sigterm, NULL);
	uv_close((uv_handle_t *)&sv->sigint, NULL);
}

/* What the command line asks for. */
struct serve_opts {
	const char *listen;
	const char **dirs;		/* at least one */
	size_t ndirs;
	const char *addr_file;		/* or NULL */
	struct http_limits lim;
	bool have_target;		/* send a ready-check to target */
	struct readycheck_target target;
};

/*
 * Ready: the socket is bound and listening and the loop is armed; a
 * connection made now is accepted as soon as the loop runs. Say so to
 * whoever asked. Returns 0, or -1 when the ready-check failed (logged).
 */
static int
serve_ready(struct serve *sv, const struct serve_opts *o)
{
	char err[STORE_ERR_MAX];

	log_info("listening on %s", http_server_address(sv->http));
	if (o->addr_file && address_file_write(o->addr_file,
	    http_server_address(sv->http)) < 0)
		return -1;
	if (sdnotify_send("READY=1", err, sizeof(err)) < 0)
		log_warn("readiness: %s", err);
	if (o->have_target && readycheck_send(o->target.endpoint,
	    o->target.id, READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("ready-check: %s", err);
		return -1;
	}
	return 0;
}

/* The library entry of the mode: serve until SIGTERM/SIGINT. */
static int
serve_run(const struct serve_opts *o)
{
	struct serve sv = { .warn_rl = LOG_RATELIMIT_INIT(10000000000ull, 10) };
	struct http_route *routes;
	size_t nroutes = 0;
	char err[STORE_ERR_MAX];
	int r, status = EXIT_FAIL;

	sv.loop = uv_default_loop();
	for (int k = 0; k < RENDER_NKINDS; k++)
		sv.qtail[k] = &sv.queue[k];
	if (!(routes = calloc(3 + dashboard_nassets, sizeof(*routes))) ||
	    scrape_open(&sv.scrape, o->dirs, o->ndirs, on_scrape_warn,
	    &sv) < 0 || dashboard_api_new(&sv.api) < 0)
		log_fatal(EXIT_FAIL, "out of memory");
	routes[nroutes++] = (struct http_route){ "/metrics", PROM_CONTENT_TYPE,
	    NULL, &sv, start_metrics, NULL, 0 };
	routes[nroutes++] = (struct http_route){ "/healthz",
	    "text/plain; charset=utf-8", get_healthz, &sv, NULL, NULL, 0 };
	routes[nroutes++] = (struct http_route){ "/api/report",
	    "application/json", NULL, &sv, start_api, NULL, 0 };
	for (size_t i = 0; i < dashboard_nassets; i++)
		routes[nroutes++] = (struct http_route){
		    dashboard_assets[i].path, dashboard_assets[i].content_type,
		    NULL, NULL, NULL, dashboard_assets[i].data,
		    dashboard_assets[i].len };
	r = http_server_start(&sv.http, sv.loop, o->listen, &o->lim,
	    routes, nroutes, on_http_log, err, sizeof(err));
	free(routes);
	if (r < 0) {
		log_warn("%s", err);
		status = r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	sv.sigterm.data = sv.sigint.data = &sv;
	uv_signal_init(sv.loop, &sv.sigterm);
	uv_signal_init(sv.loop, &sv.sigint);
	uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
	uv_signal_start(&sv.sigint, on_signal, SIGINT);
	if (serve_ready(&sv, o) < 0)
		goto fail_running;
	uv_run(sv.loop, UV_RUN_DEFAULT);
	status = EXIT_OK;
	goto out;

fail_running:
	http_server_close(sv.http);
	uv_close((uv_handle_t *)&sv.sigterm, NULL);
	uv_close((uv_handle_t *)&sv.sigint, NULL);
	uv_run(sv.loop, UV_RUN_DEFAULT);
out:
	if (uv_loop_close(sv.loop) != 0)
		log_warn("event loop: handles left open at exit");
	scrape_free(sv.scrape);
	dashboard_api_free(sv.api);
	return status;
}

/* After the options: the readiness group and the defaults. */
static int
opts_finish(struct serve_opts *o, const struct args_ready *rg, char *defdir,
    size_t deflen)
{
	char err[ARGS_ERR_MAX];
	int r;

	if ((r = args_ready_resolve(rg, 0, &o->target, err, sizeof(err))) < 0)
		return args_usage_error("%s", err);
	o->have_target = r == 1;
	if (o->lim.max_conns_per_ip > o->lim.max_conns)
		o->lim.max_conns_per_ip = o->lim.max_conns;
	if (o->ndirs == 0) {
		if (store_default_dir(defdir, deflen) < 0)
			log_fatal(EXIT_FAIL, "default store directory: name "
			    "too long");
		o->dirs[o->ndirs++] = defdir;
	}
	return -1;
}

/* The options into o. Returns -1 to go on, else the exit status. */
static int
serve_parse(struct serve_opts *o, struct args_ready *rg, int argc,
    char **argv)
{
	enum { O_LISTEN = 1, O_DIR, O_ADDRFILE, O_MAXCONN, O_MAXIP,
	    O_TIMEOUT };
	static const struct args_opt opts[] = {
		{ "listen", ARGS_REQUIRED, O_LISTEN, 0 },
		{ "metrics-dir", ARGS_NONEMPTY, O_DIR, 0 },
		{ "address-file", ARGS_REQUIRED, O_ADDRFILE, 0 },
		{ "max-connections", ARGS_REQUIRED, O_MAXCONN, 0 },
		{ "max-connections-per-ip", ARGS_REQUIRED, O_MAXIP, 0 },
		{ "timeout", ARGS_REQUIRED, O_TIMEOUT, 0 },
		{ NULL, 0, 0, 0 }
	};
	struct args a;
	uint64_t ns;
	int c, r = 0;

	args_init(&a, argc, argv, opts, 0);
	args_ready_enable(&a, rg);
	while (r == 0 && (c = args_next(&a)) > 0) {
		switch (c) {
		case O_LISTEN:
			o->listen = a.arg;
			break;
		case O_DIR:
			o->dirs[o->ndirs++] = a.arg;
			break;
		case O_ADDRFILE:
			o->addr_file = a.arg;
			break;
		case O_MAXCONN:
			r = args_unsigned(&a, 1, 65536, &o->lim.max_conns);
			break;
		case O_MAXIP:
			r = args_unsigned(&a, 1, 65536,
			    &o->lim.max_conns_per_ip);
			break;
		case O_TIMEOUT:
			/* libmicrohttpd counts whole seconds: round up. */
			r = args_duration(&a, ARGS_NS_PER_S,
			    86400 * ARGS_NS_PER_S, &ns);
			o->lim.timeout_s = (unsigned)((ns + ARGS_NS_PER_S - 1) /
			    ARGS_NS_PER_S);
			break;
		}
	}
	/* after r < 0, c is the option with the bad value */
	return args_finish(&a, c, usage_text);
}

int
serve_main(int argc, char **argv)
{
	struct serve_opts o = { .listen = DEFAULT_LISTEN,
	    .lim = HTTP_LIMITS_DEFAULT };
	struct args_ready rg;
	char defdir[PATH_MAX];
	int status;

	if (!(o.dirs = calloc((size_t)argc + 1, sizeof(*o.dirs))))
		log_fatal(EXIT_FAIL, "out of memory");
	if ((status = serve_parse(&o, &rg, argc, argv)) < 0 &&
	    (status = opts_finish(&o, &rg, defdir, sizeof(defdir))) < 0)
		status = serve_run(&o);
	free(o.dirs);
	return status;
}
