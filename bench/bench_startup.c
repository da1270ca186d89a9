/*
 * bench_startup: what starting a metricsd process costs, mode by mode,
 * against /bin/true in the same run: the price of loading metricsd's
 * shared libraries, paid by every process that runs it (launch's
 * services, a shell loop of `metricsd read`).
 *
 * Each row is one command line, run to its exit with stdout and stderr
 * on /dev/null: /bin/true, `metricsd --version`, and `metricsd MODE
 * --help` for every mode of src/modes.def (the mode's whole start-up:
 * the libraries, main's dispatch, the mode's option parsing, its usage).
 * The last row is `metricsd serve` from its spawn to its READY=1 on
 * $NOTIFY_SOCKET (bound, listening, libmicrohttpd loaded; an empty store
 * directory), then stopped with SIGTERM: the HTTP server's start-up,
 * which --help does not reach.
 *
 * Rounds: each round runs every row once, starting from a different row
 * each time, so that a change in the machine's load touches every row
 * alike. Every figure is the median over RUNS rounds of the wall time
 * from posix_spawn to the reaped exit (to READY=1 for serve), and its
 * ratio to /bin/true's median. The load average is printed before and
 * after: on a shared machine compare ratios, not times.
 *
 * Usage: bench_startup [RUNS]   (200; $METRICSD_BIN is the binary)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "sdnotify.h"

extern char **environ;

#define MAX_ROWS 32
#define MAX_ARGS 8

static const char *const modes[] = {
#define MODE(name, usage) #name,
#include "modes.def"
#undef MODE
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

struct row {
	char name[48];
	const char *argv[MAX_ARGS];
	int serve;		/* wait for READY=1, then SIGTERM */
	uint64_t *ns;		/* one per round */
};

static char notify_path[BENCH_PATH_MAX + 16];
static char notify_env[BENCH_PATH_MAX + 32];
static char **serve_env;
static int notify_fd = -1;
static int devnull = -1;

static void
die(const char *what)
{
	fprintf(stderr, "bench_startup: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The environment with NOTIFY_SOCKET replaced by ours, for serve. */
static void
make_serve_env(void)
{
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	if (!(serve_env = calloc(n + 2, sizeof(*serve_env))))
		die("calloc");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], SDNOTIFY_ENV "=",
		    sizeof(SDNOTIFY_ENV)) != 0)
			serve_env[k++] = environ[i];
	snprintf(notify_env, sizeof(notify_env), SDNOTIFY_ENV "=%s",
	    notify_path);
	serve_env[k] = notify_env;
}

/* READY=1 from the serve just started, within 10 s. */
static void
await_ready(void)
{
	struct sdnotify_msg m;
	struct pollfd p = { .fd = notify_fd, .events = POLLIN };

	for (;;) {
		int r = poll(&p, 1, 10000);

		if (r == 0) {
			fprintf(stderr, "bench_startup: serve: no READY=1 "
			    "in 10 s\n");
			exit(1);
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((r = sdnotify_recv(notify_fd, &m)) < 0) {
			errno = -r;
			die(notify_path);
		}
		if (r > 0 && strstr(m.data, "READY=1"))
			return;
	}
}

static uint64_t
run_once(const struct row *rw)
{
	posix_spawn_file_actions_t fa;
	uint64_t t0, t = 0;
	pid_t pid;
	int st, r;

	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, devnull, 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, devnull, 2) != 0)
		die("posix_spawn_file_actions");
	t0 = bench_now_ns();
	r = posix_spawn(&pid, rw->argv[0], &fa, NULL, (char **)rw->argv,
	    rw->serve ? serve_env : environ);
	if (r != 0) {
		errno = r;
		die(rw->argv[0]);
	}
	if (rw->serve) {
		await_ready();
		t = bench_now_ns() - t0;
		kill(pid, SIGTERM);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (!rw->serve)
		t = bench_now_ns() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_startup: %s failed (status 0x%x)\n",
		    rw->name, st);
		exit(1);
	}
	return t;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median_ms(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (n % 2 ? (double)v[n / 2] :
	    ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1e6;
}

static void
print_load(const char *when)
{
	char buf[64] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			strcpy(buf, "?");
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	printf("bench_startup: load %s: %s (%ld CPUs)\n", when, buf,
	    sysconf(_SC_NPROCESSORS_ONLN));
}

int
main(int argc, char **argv)
{
	const char *bin = getenv("METRICSD_BIN");
	long runs = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	struct row rows[MAX_ROWS];
	char tmpl[BENCH_PATH_MAX], dir[BENCH_STORE_PATH_MAX], err[256];
	size_t nrows = 0;
	double base;

	if (!bin || !*bin || runs < 1 || runs > 100000) {
		fprintf(stderr, "usage: METRICSD_BIN=BIN bench_startup "
		    "[RUNS]\n");
		return 2;
	}
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		die("/dev/null");
	bench_dir_make("startup", tmpl, dir);
	snprintf(notify_path, sizeof(notify_path), "%s/notify", tmpl);
	if ((notify_fd = sdnotify_listen(notify_path, err, sizeof(err))) < 0) {
		fprintf(stderr, "bench_startup: %s\n", err);
		return 1;
	}
	make_serve_env();

	memset(rows, 0, sizeof(rows));
	rows[nrows++] = (struct row){ "/bin/true", { "/bin/true" }, 0, NULL };
	rows[nrows++] = (struct row){ "metricsd --version",
	    { bin, "--version" }, 0, NULL };
	for (size_t m = 0; m < NMODES; m++) {
		struct row *rw = &rows[nrows++];

		snprintf(rw->name, sizeof(rw->name), "metricsd %s --help",
		    modes[m]);
		rw->argv[0] = bin;
		rw->argv[1] = modes[m];
		rw->argv[2] = "--help";
	}
	rows[nrows++] = (struct row){ "metricsd serve, to READY=1",
	    { bin, "serve", "--listen", "127.0.0.1:0", "--metrics-dir", dir },
	    1, NULL };
	for (size_t i = 0; i < nrows; i++)
		if (!(rows[i].ns = calloc((size_t)runs, sizeof(uint64_t))))
			die("calloc");

	print_load("before");
	for (long r = 0; r < runs; r++)
		for (size_t k = 0; k < nrows; k++) {
			size_t i = (k + (size_t)r) % nrows;

			rows[i].ns[r] = run_once(&rows[i]);
		}
	print_load("after");

	printf("bench_startup: median of %ld rounds, ms, and ratio to "
	    "/bin/true\n", runs);
	base = median_ms(rows[0].ns, (size_t)runs);
	for (size_t i = 0; i < nrows; i++) {
		double ms = median_ms(rows[i].ns, (size_t)runs);

		printf("  %-30s %7.2f ms  %5.2fx\n", rows[i].name, ms,
		    base > 0 ? ms / base : 0.0);
		free(rows[i].ns);
	}
	close(notify_fd);
	unlink(notify_path);
	bench_dir_remove("startup", tmpl);
	free(serve_env);
	return 0;
}
