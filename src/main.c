/*
 * metricsd: one executable, several modes. The mode comes from the name the
 * program was called by (metricsd-read, installed as a symlink) or else from
 * the first argument (metricsd read). This is the only place that dispatches.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "modes.h"

struct mode {
	const char *name;
	int (*main)(int, char **);
	const char *usage;	/* one line, matching the man page SYNOPSIS */
};

/* The table, from the one list of modes (modes.def). */
static const struct mode modes[] = {
#define MODE(name, usage) { #name, name##_main, usage },
#include "modes.def"
#undef MODE
};

#define NMODES (sizeof(modes) / sizeof(modes[0]))

static const struct mode *
mode_find(const char *name)
{
	for (size_t i = 0; i < NMODES; i++)
		if (strcmp(modes[i].name, name) == 0)
			return &modes[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: metricsd MODE [ARG...]\n"
	    "       metricsd help MODE | --help | --version\n\nmodes:\n");
	for (size_t i = 0; i < NMODES; i++)
		fprintf(f, "  metricsd %s\n", modes[i].usage);
	fprintf(f, "\nEach mode is also reachable as metricsd-MODE (a symlink).\n"
	    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
	    "See metricsd(1).\n");
}

/*
 * Started with fd 0, 1 or 2 closed, the next descriptor we open would
 * take its place: log lines would go into a store file or the launcher's
 * watchdog pipe, and libuv aborts when asked to close fd 0-2. Fill the
 * gaps with /dev/null before anything else is opened.
 */
static void
stdio_fill(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* open returns the lowest free descriptor: this one. Without
		 * /dev/null there is nothing better to do than go on. */
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
			return;
	}
}

static int
run(const struct mode *m, int argc, char **argv)
{
	static char prefix[64];

	snprintf(prefix, sizeof(prefix), "metricsd %s", m->name);
	log_set_prefix(prefix);
	return m->main(argc, argv);
}

int
main(int argc, char **argv)
{
	const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	const struct mode *m;

	stdio_fill();
	/* A closed reader must give EPIPE, never kill a daemon. */
	signal(SIGPIPE, SIG_IGN);

	base = base ? base + 1 : (argc > 0 && argv[0] ? argv[0] : "metricsd");
	if (strncmp(base, "metricsd-", 9) == 0) {
		if (!(m = mode_find(base + 9))) {
			log_warn("unknown mode '%s' (called as %s)", base + 9, base);
			return EXIT_USAGE;
		}
		return run(m, argc, argv);
	}

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("metricsd %s\n", VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!(m = mode_find(argv[2]))) {
			log_warn("unknown mode '%s'; try 'metricsd --help'", argv[2]);
			return EXIT_USAGE;
		}
		char *hargv[] = { argv[2], "--help", NULL };
		return run(m, 2, hargv);
	}
	if (!(m = mode_find(argv[1]))) {
		log_warn("unknown mode '%s'; try 'metricsd --help'", argv[1]);
		return EXIT_USAGE;
	}
	return run(m, argc - 1, argv + 1);
}
