/*
 * Benchmark: scrape latency and CPU of `metricsd serve` on a store of 20
 * series with 1 million values each while a writer appends, against the
 * baseline `metricsd read --json` on the same store in the same run.
 *
 * Reported: the first scrape (serve folds and sorts every value once),
 * steady-state scrapes (only the values appended since the previous
 * scrape are folded and merged), and read --json (a fresh process that
 * reads and sorts everything, every time), each as wall time and CPU,
 * with ratios against read --json.
 *
 * Environment: METRICSD_BIN (the binary), BENCH_SERIES, BENCH_VALUES,
 * BENCH_SCRAPES to change the size.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static const char *bin;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_serve: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* CPU seconds (user + system) used so far by pid, from /proc. */
static double
proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")) || !fgets(buf, sizeof(buf), f))
		die("read /proc/PID/stat");
	fclose(f);
	/* Fields after the parenthesised command name: 14 and 15 are
	 * utime and stime (man 5 proc), counted from field 3. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) != 2)
		die("parse /proc/PID/stat");
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The writer: nseries u64 series of nvalues each, then "ready" on the
 * pipe, then 500 values per series per second until killed.
 */
static pid_t
writer_start(const char *dir, int nseries, long nvalues)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		die("pipe");
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		struct store_writer *w;
		struct store_key **k = calloc((size_t)nseries, sizeof(*k));
		char err[STORE_ERR_MAX], name[32];
		uint64_t x = 88172645463325252ull;

		close(p[0]);
		if (!k || store_writer_open(&w, dir, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_serve writer: %s\n", err);
			_exit(1);
		}
		for (int s = 0; s < nseries; s++) {
			snprintf(name, sizeof(name), "latency_%02d_ns", s);
			if (store_series_create(w, name, STORE_U64, &k[s], err,
			    sizeof(err)) < 0) {
				fprintf(stderr, "bench_serve writer: %s\n", err);
				_exit(1);
			}
			for (long i = 0; i < nvalues; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				store_series_append(k[s], (union store_value){
				    .u = 1000000 + x % 1000000000 });
			}
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			struct timespec ts = { 0, 10000000 };

			for (int s = 0; s < nseries; s++)
				for (int i = 0; i < 5; i++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					store_series_append(k[s],
					    (union store_value){
					    .u = 1000000 + x % 1000000000 });
				}
			nanosleep(&ts, NULL);	/* the append rate, not sync */
		}
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "bench_serve: writer failed\n");
		exit(1);
	}
	close(p[0]);
	return pid;
}

static pid_t
serve_start(const char *dir, const char *addrfile, struct sockaddr_in *sa)
{
	pid_t pid = fork();
	char buf[64], *colon;
	int fd;
	double t0 = now();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execl(bin, bin, "serve", "--listen", "127.0.0.1:0",
		    "--address-file", addrfile, "--metrics-dir", dir,
		    (char *)NULL);
		_exit(127);
	}
	/* The address file is written atomically once serve listens. */
	while ((fd = open(addrfile, O_RDONLY)) < 0) {
		struct timespec ts = { 0, 10000000 };

		if (now() - t0 > 60 || waitpid(pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "bench_serve: serve did not start\n");
			exit(1);
		}
		nanosleep(&ts, NULL);
	}
	memset(buf, 0, sizeof(buf));
	if (read(fd, buf, sizeof(buf) - 1) <= 0 || !(colon = strrchr(buf, ':')))
		die("read address file");
	close(fd);
	*colon = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, buf, &sa->sin_addr);
	return pid;
}

/* One GET /metrics; returns the body size, checks for a 200. */
static size_t
scrape(const struct sockaddr_in *sa)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n"
	    "Connection: close\r\n\r\n";
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		die("connect");
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		die("write");
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (total == 0 && strncmp(buf, "HTTP/1.1 200", 12) != 0) {
			fprintf(stderr, "bench_serve: scrape: %.40s\n", buf);
			exit(1);
		}
		total += (size_t)n;
	}
	close(fd);
	return total;
}

/* One `metricsd read --json`; wall and CPU seconds (from wait4). */
static int
read_json(const char *dir, double *wall, double *cpu)
{
	struct rusage ru;
	int status;
	double t0 = now();
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		execl(bin, bin, "read", "--json", "--metrics-dir", dir,
		    (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		die("wait4");
	*wall = now() - t0;
	*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long
env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? atol(v) : def;
}

int
main(void)
{
	int nseries = (int)env_long("BENCH_SERIES", 20);
	long nvalues = env_long("BENCH_VALUES", 1000000);
	int nscrapes = (int)env_long("BENCH_SCRAPES", 10);
	char base[] = "/dev/shm/metricsd-bench-serve.XXXXXX", dir[128],
	    addrfile[160], cmd[300];
	double *lat = calloc((size_t)nscrapes, sizeof(double));
	double *rwall = calloc((size_t)nscrapes, sizeof(double));
	double *rcpu = calloc((size_t)nscrapes, sizeof(double));
	double t0, first_wall, first_cpu, c0, steady_cpu, rcpu_sum = 0;
	struct sockaddr_in sa;
	pid_t writer, serve;
	size_t bytes;
	int read_ok = 1;

	if (!(bin = getenv("METRICSD_BIN")))
		bin = "build/metricsd";
	if (!lat || !rwall || !rcpu)
		die("calloc");
	if (!mkdtemp(base)) {
		strcpy(base, "/tmp/metricsd-bench-serve.XXXXXX");
		if (!mkdtemp(base))
			die("mkdtemp");
	}
	snprintf(dir, sizeof(dir), "%s/run", base);
	snprintf(addrfile, sizeof(addrfile), "%s/addr", base);

	printf("bench_serve: %d series x %ld values, writer appending %d "
	    "values/s\n", nseries, nvalues, nseries * 500);
	fflush(stdout);
	writer = writer_start(dir, nseries, nvalues);
	serve = serve_start(dir, addrfile, &sa);

	c0 = proc_cpu(serve);
	t0 = now();
	bytes = scrape(&sa);
	first_wall = now() - t0;
	first_cpu = proc_cpu(serve) - c0;

	c0 = proc_cpu(serve);
	for (int i = 0; i < nscrapes; i++) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);	/* let the writer append between scrapes */
		t0 = now();
		scrape(&sa);
		lat[i] = now() - t0;
	}
	steady_cpu = (proc_cpu(serve) - c0) / nscrapes;

	for (int i = 0; i < nscrapes && read_ok; i++) {
		if (read_json(dir, &rwall[i], &rcpu[i]) < 0)
			read_ok = 0;
		rcpu_sum += rcpu[i];
	}

	kill(serve, SIGTERM);
	waitpid(serve, NULL, 0);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_serve: could not remove %s\n", base);

	qsort(lat, (size_t)nscrapes, sizeof(double), dcmp);
	printf("  serve first scrape:    %8.1f ms wall, %8.1f ms CPU "
	    "(%zu bytes)\n", first_wall * 1e3, first_cpu * 1e3, bytes);
	printf("  serve steady scrape:   %8.1f ms wall (median of %d), "
	    "%8.1f ms CPU (mean)\n", lat[nscrapes / 2] * 1e3, nscrapes,
	    steady_cpu * 1e3);
	if (!read_ok) {
		printf("  read --json baseline:  not available (metricsd read "
		    "--json failed)\n");
		return 0;
	}
	qsort(rwall, (size_t)nscrapes, sizeof(double), dcmp);
	printf("  read --json baseline:  %8.1f ms wall (median of %d), "
	    "%8.1f ms CPU (mean)\n", rwall[nscrapes / 2] * 1e3, nscrapes,
	    rcpu_sum / nscrapes * 1e3);
	printf("  ratio first scrape / read --json:  wall %.2f, CPU %.2f\n",
	    first_wall / rwall[nscrapes / 2], first_cpu / (rcpu_sum / nscrapes));
	printf("  ratio steady scrape / read --json: wall %.3f, CPU %.3f\n",
	    lat[nscrapes / 2] / rwall[nscrapes / 2],
	    steady_cpu / (rcpu_sum / nscrapes));
	return 0;
}
