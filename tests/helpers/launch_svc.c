/*
 * A small test service for metricsd launch. It records its pid, signals
 * readiness the way it is told, then waits for a signal.
 *
 *   launch_svc [--pidfile F] [--child-pidfile F] [--zmq | --notify]
 *              [--status TEXT] [--ignore-term] [--exit-before-ready N]
 *              [--say TEXT] [--readiness-path P --readiness-id I]
 *   launch_svc --print-pdeathsig     print the parent-death signal, exit
 *
 * --child-pidfile forks a child that stays in the service's process
 * group, to check that teardown reaches the whole group. Pid files are
 * written atomically (temporary file, then rename).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "readycheck.h"

static void
write_pid(const char *path, pid_t pid)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%d\n", (int)pid) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "launch_svc: pid file %s: %s\n", path,
		    strerror(errno));
		exit(111);
	}
}

static int
notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "launch_svc: NOTIFY_SOCKET unset or too long\n");
		return -1;
	}
	strcpy(a.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a,
	    sizeof(a)) < 0) {
		fprintf(stderr, "launch_svc: send to %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
on_term(int sig)
{
	static const char msg[] = "got SIGTERM, exiting\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do */
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pidfile", required_argument, NULL, 'p' },
		{ "child-pidfile", required_argument, NULL, 'c' },
		{ "zmq", no_argument, NULL, 'z' },
		{ "notify", no_argument, NULL, 'n' },
		{ "status", required_argument, NULL, 's' },
		{ "ignore-term", no_argument, NULL, 'i' },
		{ "exit-before-ready", required_argument, NULL, 'x' },
		{ "say", required_argument, NULL, 'y' },
		{ "readiness-path", required_argument, NULL, 'P' },
		{ "readiness-id", required_argument, NULL, 'I' },
		{ "print-pdeathsig", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pidfile = NULL, *childpid = NULL, *status = NULL;
	const char *rpath = NULL, *rid = NULL, *say = NULL;
	int zmq = 0, ntf = 0, ignore = 0, exit_early = -1, c;
	char err[512];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pidfile = optarg; break;
		case 'c': childpid = optarg; break;
		case 'z': zmq = 1; break;
		case 'n': ntf = 1; break;
		case 's': status = optarg; break;
		case 'i': ignore = 1; break;
		case 'x': exit_early = atoi(optarg); break;
		case 'y': say = optarg; break;
		case 'P': rpath = optarg; break;
		case 'I': rid = optarg; break;
		case 'D': {
			int sig = -1;

			if (prctl(PR_GET_PDEATHSIG, &sig) != 0)
				return 1;
			printf("pdeathsig=%d\n", sig);
			return 0;
		}
		default: return 2;
		}
	}
	if (ignore)
		signal(SIGTERM, SIG_IGN);
	else
		signal(SIGTERM, on_term);
	if (childpid) {
		pid_t k = fork();

		if (k == 0) {
			signal(SIGTERM, SIG_IGN);	/* only SIGKILL will do */
			for (;;)
				pause();
		}
		write_pid(childpid, k);
	}
	if (pidfile)
		write_pid(pidfile, getpid());
	if (say) {
		printf("%s\n", say);
		fflush(stdout);
	}
	if (exit_early >= 0) {
		fprintf(stderr, "exiting with %d before ready\n", exit_early);
		return exit_early;
	}
	if (status && ntf) {
		char m[512];

		snprintf(m, sizeof(m), "STATUS=%s", status);
		if (notify(m) < 0)
			return 1;
	}
	if (zmq && readycheck_signal(NULL, NULL, rpath, rid, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "launch_svc: %s\n", err);
		return 1;
	}
	if (ntf && notify("READY=1") < 0)
		return 1;
	for (;;)
		pause();
}
