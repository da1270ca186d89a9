/*
 * The services.conf file of `metricsd launch` (see metricsd.conf(5)):
 * an optional [launch] section of global settings and one
 * [service NAME] section per service. Parsed with inih.
 */
#ifndef METRICSD_LAUNCH_CONFIG_H
#define METRICSD_LAUNCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum launch_ready {
	LAUNCH_READY_ZMQ,
	LAUNCH_READY_NOTIFY,
	LAUNCH_READY_NONE,
	LAUNCH_READY_TCP,	/* ready when a TCP connect succeeds */
	LAUNCH_READY_HTTP	/* ready when GET returns 2xx */
};

#define LAUNCH_NAME_MAX 40
#define LAUNCH_HOST_MAX 255
#define LAUNCH_URL_PATH_MAX 1024

/* Where a tcp:// or http:// readiness probe goes. */
struct launch_url {
	char host[LAUNCH_HOST_MAX + 1];	/* without the [] of an IPv6 address */
	char port[6];			/* decimal, 1-65535 */
	char path[LAUNCH_URL_PATH_MAX + 1];	/* http: "/..." ("/" if none) */
};

struct launch_service {
	char name[LAUNCH_NAME_MAX + 1];
	int line;		/* of its [service NAME] header */
	char *command;		/* as written */
	bool shell;		/* run command with /bin/sh -c */
	char **argv;		/* NULL-terminated words (shell: sh -c command) */
	size_t argc;
	char **env;		/* "KEY=VALUE" strings */
	size_t nenv;
	char *directory;	/* working directory, or NULL */
	enum launch_ready ready;
	int ready_line;		/* of its ready = line (0: none) */
	struct launch_url url;	/* ready = tcp:// or http:// */
	size_t *after;		/* indexes of the services it waits for */
	size_t nafter;
	int after_line;		/* of its after = line */
};

struct launch_config {
	char *path;
	char *socket_dir;		/* NULL: a private temporary directory */
	uint64_t ready_timeout_ms;
	uint64_t exit_timeout_ms;
	uint64_t kill_grace_ms;
	struct launch_service *svc;
	size_t nsvc;
	size_t *order;		/* a start order that honours every after = */
};

#define LAUNCH_READY_TIMEOUT_MS 30000
#define LAUNCH_EXIT_TIMEOUT_MS 10000
#define LAUNCH_KILL_GRACE_MS 5000

/*
 * Load and validate path. On error returns a negative errno and fills err
 * with one "file:line: what" message per problem, newline-separated; the
 * config is then empty (nothing to free, though freeing is harmless).
 */
int launch_config_load(struct launch_config *c, const char *path,
    char *err, size_t errlen);

void launch_config_free(struct launch_config *c);

/*
 * Split a command line into words without a shell: blanks separate words;
 * '...' keeps everything literally; "..." keeps everything but lets a
 * backslash escape " \ $ `; a backslash outside quotes escapes the next
 * character. No expansion of any kind. Returns 0 with a NULL-terminated
 * malloc'd vector (free with launch_words_free), or -EINVAL with err set.
 */
int launch_words_split(const char *s, char ***argv, size_t *argc,
    char *err, size_t errlen);
void launch_words_free(char **argv);

/*
 * Parse a duration with the option layer's parser (args_parse_duration:
 * a decimal number with an optional unit ns, us, ms, s (the default), m
 * or h; at most a week) into milliseconds, rounded. Returns 0 or -EINVAL.
 */
int launch_duration_parse(const char *s, uint64_t *ms);

const char *launch_ready_name(enum launch_ready r);

/*
 * Parse a readiness URL: tcp://HOST:PORT or http://HOST:PORT[/PATH],
 * HOST a name, an IPv4 address or an [IPv6] address, PORT 1-65535, PATH
 * printable ASCII without spaces. Returns 0 with *kind and *u set, or
 * -EINVAL with err set.
 */
int launch_ready_url_parse(const char *s, enum launch_ready *kind,
    struct launch_url *u, char *err, size_t errlen);

#endif
