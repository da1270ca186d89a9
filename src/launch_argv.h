/*
 * What a service is started with, computed before anything is forked:
 * its argument vector, its environment, and the program file to exec.
 * Pure functions of their arguments (the program lookup reads the file
 * system, nothing else), with unit tests in tests/check_launch_argv.c.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_LAUNCH_ARGV_H
#define METRICSD_LAUNCH_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "launch_config.h"

/*
 * The argument vector of service s: its words; with shell = yes, the
 * service name as $0 of the script; for ready = zmq, then
 * --readiness-path READY_PATH --readiness-id ID. NULL-terminated, every
 * string malloc'd; free with launch_vec_free(). NULL when out of memory.
 */
char **launch_argv_build(const struct launch_service *s,
    const char *ready_path, int64_t id);

/*
 * An environment: every entry of base, minus those whose key is in
 * drop (NULL-terminated list of names) or set by an entry of set or
 * extra, then the entries of set (n_set of them), then those of extra
 * (NULL-terminated). Every string malloc'd; free with launch_vec_free().
 * NULL when out of memory.
 */
char **launch_env_build(char *const *base, const char *const *drop,
    char *const *set, size_t n_set, char *const *extra);

/* Free a vector from launch_argv_build() or launch_env_build(). */
void launch_vec_free(char **v);

/* Is e ("KEY=VALUE") an entry for key? */
bool launch_env_key_is(const char *e, const char *key);

/* The value of key in env (n entries, or up to a NULL entry), or NULL;
 * the last entry for key wins. */
const char *launch_env_get(char *const *env, size_t n, const char *key);

/*
 * Find prog as execvp(3) would: a name containing '/' is taken as a
 * path (relative to dir when given and the path is relative), otherwise
 * each entry of path (colon-separated; NULL means the default
 * "/usr/local/bin:/usr/bin:/bin"; an empty entry means ".") is tried in
 * turn. Writes the first regular executable file found to out. Returns
 * 0, -ENOENT when there is none, -ENAMETOOLONG when a path-qualified prog
 * does not fit in out (a PATH candidate that does not fit is skipped).
 */
int launch_program_find(const char *prog, const char *dir, const char *path,
    char *out, size_t outlen);

#endif
