/*
 * metricsd serve: an HTTP endpoint for Prometheus. GET /metrics reads
 * every store at scrape time (lock-free, while writers write) and renders
 * the text exposition; GET /healthz says the daemon is up.
 *
 * One libuv loop does everything: HTTP through libmicrohttpd's epoll
 * descriptor (http.c), SIGTERM/SIGINT through uv_signal. A scrape runs in
 * the loop; slow clients cannot hold it, since libmicrohttpd never blocks
 * on a socket and bounds connections, their memory and idle time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

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
    "                      [--max-connections-per-ip N] [--timeout SECONDS]\n"
    "                      [--ready ENDPOINT | --socket-dir DIR --readiness-path P]\n"
    "                      [--readiness-id I]\n"
    "\n"
    "Serve metric stores to Prometheus: GET /metrics (text format 0.0.4),\n"
    "GET /healthz.\n"
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
    "  --timeout SECONDS         close connections idle this long, or that\n"
    "                            take longer to send a request (5)\n"
    "  --ready ENDPOINT          ready-check endpoint of a launcher\n"
    "  --socket-dir DIR, --readiness-path P\n"
    "                            ready-check endpoint ipc://DIR/P\n"
    "  --readiness-id I          identity sent in the ready-check\n"
    "\n"
    "Readiness is also signalled to $NOTIFY_SOCKET (READY=1) when set.\n";

struct serve {
	uv_loop_t *loop;
	struct http_server *http;
	struct scrape *scrape;
	uv_signal_t sigterm, sigint;
	struct log_ratelimit warn_rl;
};

static void
usage_error(const char *fmt, const char *arg)
{
	if (fmt) {
		char msg[1024];

		snprintf(msg, sizeof(msg), fmt, arg);
		log_warn("%s", msg);
	}
	fputs(usage_text, stderr);
}

static int
parse_uint(const char *opt, const char *s, unsigned lo, unsigned hi,
    unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		log_warn("%s '%s': expected an integer in %u..%u", opt, s, lo,
		    hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

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

static int
get_metrics(void *arg, char **body, size_t *len)
{
	struct serve *sv = arg;
	FILE *f = open_memstream(body, len);
	int r;

	if (!f) {
		*body = NULL;
		return 500;
	}
	r = scrape_render(sv->scrape, f, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*body);
		*body = NULL;
		*len = 0;
		log_ratelimited(&sv->warn_rl, "scrape failed: %s",
		    strerror(-r));
		*body = strdup("scrape failed\n");
		*len = *body ? strlen(*body) : 0;
		return 500;
	}
	return 200;
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

int
serve_main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_DIR, O_ADDRFILE, O_MAXCONN, O_MAXIP,
	    O_TIMEOUT, O_READY, O_SOCKDIR, O_RPATH, O_RID };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "metrics-dir", required_argument, NULL, O_DIR },
		{ "address-file", required_argument, NULL, O_ADDRFILE },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "max-connections-per-ip", required_argument, NULL, O_MAXIP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "ready", required_argument, NULL, O_READY },
		{ "socket-dir", required_argument, NULL, O_SOCKDIR },
		{ "readiness-path", required_argument, NULL, O_RPATH },
		{ "readiness-id", required_argument, NULL, O_RID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	struct readycheck_target target;
	bool have_target;
	const char *listen_addr = DEFAULT_LISTEN, *addr_file = NULL;
	const char *ready = NULL, *sockdir = NULL, *rpath = NULL, *rid = NULL;
	const char **dirs = NULL;
	size_t ndirs = 0;
	char defdir[PATH_MAX], err[STORE_ERR_MAX];
	struct serve sv = { .warn_rl = LOG_RATELIMIT_INIT(10000000000ull, 10) };
	struct http_route routes[] = {
		{ "/metrics", PROM_CONTENT_TYPE, get_metrics, &sv },
		{ "/healthz", "text/plain; charset=utf-8", get_healthz, &sv },
	};
	int c, r, status = EXIT_FAIL;

	if (!(dirs = calloc((size_t)argc + 1, sizeof(*dirs))))
		log_fatal(EXIT_FAIL, "out of memory");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			listen_addr = optarg;
			break;
		case O_DIR:
			if (!*optarg) {
				usage_error("--metrics-dir: empty path", NULL);
				goto usage;
			}
			dirs[ndirs++] = optarg;
			break;
		case O_ADDRFILE:
			addr_file = optarg;
			break;
		case O_MAXCONN:
			if (parse_uint("--max-connections", optarg, 1, 65536,
			    &lim.max_conns) < 0)
				goto usage;
			break;
		case O_MAXIP:
			if (parse_uint("--max-connections-per-ip", optarg, 1,
			    65536, &lim.max_conns_per_ip) < 0)
				goto usage;
			break;
		case O_TIMEOUT:
			if (parse_uint("--timeout", optarg, 1, 86400,
			    &lim.timeout_s) < 0)
				goto usage;
			break;
		case O_READY:
			ready = optarg;
			break;
		case O_SOCKDIR:
			sockdir = optarg;
			break;
		case O_RPATH:
			rpath = optarg;
			break;
		case O_RID:
			rid = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(dirs);
			return EXIT_OK;
		case ':':
			usage_error("option %s needs an argument",
			    argv[optind - 1]);
			goto usage;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (ready && (sockdir || rpath)) {
		usage_error("--ready and --socket-dir/--readiness-path "
		    "exclude each other", NULL);
		goto usage;
	}
	/* Resolve the ready-check now: bad values are usage errors. */
	r = readycheck_target_resolve(&target, ready, sockdir, rpath, rid,
	    err, sizeof(err));
	if (r == -ENOENT && (rid || sockdir)) {
		usage_error("--readiness-id/--socket-dir given but no "
		    "ready-check endpoint (--ready, --readiness-path or $"
		    READYCHECK_ENV_ENDPOINT ")", NULL);
		goto usage;
	}
	if (r < 0 && r != -ENOENT) {
		usage_error("ready-check: %s", err);
		goto usage;
	}
	have_target = r == 0;
	if (lim.max_conns_per_ip > lim.max_conns)
		lim.max_conns_per_ip = lim.max_conns;
	if (ndirs == 0) {
		if (store_default_dir(defdir, sizeof(defdir)) < 0)
			log_fatal(EXIT_FAIL, "default store directory: name "
			    "too long");
		dirs[ndirs++] = defdir;
	}

	sv.loop = uv_default_loop();
	if (scrape_open(&sv.scrape, dirs, ndirs, on_scrape_warn, &sv) < 0)
		log_fatal(EXIT_FAIL, "out of memory");
	if ((r = http_server_start(&sv.http, sv.loop, listen_addr, &lim,
	    routes, 2, on_http_log, err, sizeof(err))) < 0) {
		log_warn("%s", err);
		status = r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	sv.sigterm.data = sv.sigint.data = &sv;
	uv_signal_init(sv.loop, &sv.sigterm);
	uv_signal_init(sv.loop, &sv.sigint);
	uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
	uv_signal_start(&sv.sigint, on_signal, SIGINT);

	/*
	 * Ready: the socket is bound and listening and the loop is armed;
	 * a connection made now is accepted as soon as the loop runs.
	 */
	log_info("listening on %s", http_server_address(sv.http));
	if (addr_file && address_file_write(addr_file,
	    http_server_address(sv.http)) < 0)
		goto fail_running;
	if ((r = sdnotify_send("READY=1", err, sizeof(err))) < 0)
		log_warn("readiness: %s", err);
	if (have_target && readycheck_send(target.endpoint, target.id,
	    READYCHECK_LINGER_MS, err, sizeof(err)) < 0) {
		log_warn("ready-check: %s", err);
		goto fail_running;
	}

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
	free(dirs);
	return status;
usage:
	free(dirs);
	return EXIT_USAGE;
}
