/*
 * metricsd launch: what is checked and printed before anything starts.
 * Every program is looked up first, so that a typo is a usage error
 * (exit 2), not a start-up failure; --dry-run prints the plan.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "launch_argv.h"
#include "launch_int.h"

/*
 * Find each service's program, and COMMAND, before anything is spawned,
 * so a typo is a usage error (exit 2) rather than a start-up failure.
 */
int
launch_programs_check(const struct launch_config *c, char **cmd)
{
	int bad = 0;

	char buf[PATH_MAX];

	for (size_t i = 0; i < c->nsvc; i++) {
		const struct launch_service *s = &c->svc[i];
		const char *path = launch_env_get(s->env, s->nenv, "PATH");
		struct stat st;

		if (s->directory && (stat(s->directory, &st) != 0 ||
		    !S_ISDIR(st.st_mode))) {
			log_warn("%s:%d: service '%s': directory '%s' is not a "
			    "directory", c->path, s->line, s->name, s->directory);
			bad++;
			continue;
		}
		if (!path)
			path = getenv("PATH");
		if (launch_program_find(s->argv[0], s->directory, path, buf,
		    sizeof(buf)) < 0) {
			log_warn("%s:%d: service '%s': command '%s' not found or "
			    "not executable", c->path, s->line, s->name,
			    s->argv[0]);
			bad++;
		}
	}
	if (cmd && launch_program_find(cmd[0], NULL, getenv("PATH"), buf,
	    sizeof(buf)) < 0) {
		log_warn("COMMAND '%s' not found or not executable", cmd[0]);
		bad++;
	}
	return bad ? -ENOENT : 0;
}

void
launch_plan_print(FILE *f, const struct launcher *L)
{
	const struct launch_config *c = &L->cfg;

	fprintf(f, "config: %s (%zu services)\n", c->path, c->nsvc);
	fprintf(f, "socket_dir: %s\n", c->socket_dir ? c->socket_dir :
	    "(a private temporary directory, removed at exit)");
	fprintf(f, "ready_timeout: %.3f s, exit_timeout: %.3f s, kill_grace: %.3f s\n",
	    secs(c->ready_timeout_ms), secs(c->exit_timeout_ms),
	    secs(c->kill_grace_ms));
	for (size_t i = 0; i < c->nsvc; i++) {
		const struct launch_service *s = &c->svc[i];

		fprintf(f, "service %s (line %d): ready = %s", s->name, s->line,
		    launch_ready_name(s->ready));
		if (s->ready == LAUNCH_READY_ZMQ)
			fprintf(f, ", identity %zu", i + 1);
		else if (s->ready == LAUNCH_READY_TCP)
			fprintf(f, " %s:%s", s->url.host, s->url.port);
		else if (s->ready == LAUNCH_READY_HTTP)
			fprintf(f, " GET %s from %s:%s", s->url.path, s->url.host,
			    s->url.port);
		for (size_t j = 0; j < s->nafter; j++)
			fprintf(f, "%s%s", j ? " " : ", after ",
			    c->svc[s->after[j]].name);
		if (s->directory)
			fprintf(f, ", directory %s", s->directory);
		fprintf(f, "\n  run:");
		for (size_t j = 0; j < s->argc; j++)
			fprintf(f, " [%s]", s->argv[j]);
		if (s->shell)
			fprintf(f, " [%s]", s->name);
		if (s->ready == LAUNCH_READY_ZMQ)
			fprintf(f, " [--readiness-path] [%s] [--readiness-id] [%zu]",
			    L->ready_path, i + 1);
		fprintf(f, "\n");
		for (size_t j = 0; j < s->nenv; j++)
			fprintf(f, "  env: %s\n", s->env[j]);
	}
	fprintf(f, "start order:");
	for (size_t k = 0; k < c->nsvc; k++)
		fprintf(f, " %s", c->svc[c->order[k]].name);
	fprintf(f, "\n");
	if (L->cmd) {
		fprintf(f, "then:");
		for (char **a = L->cmd; *a; a++)
			fprintf(f, " [%s]", *a);
		fprintf(f, "\n");
	} else {
		fprintf(f, "then: supervise until the services exit\n");
	}
}

