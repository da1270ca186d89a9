/* A service's argv, environment and program file (see launch_argv.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch_argv.h"

void
launch_vec_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char **
launch_argv_build(const struct launch_service *s, const char *ready_path,
    int64_t id)
{
	size_t n = 0, k = 0;
	char **v;

	n = s->argc + (s->shell ? 1 : 0) + (s->ready == LAUNCH_READY_ZMQ ? 4 : 0);
	if (!(v = calloc(n + 1, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < s->argc; i++)
		if (!(v[k++] = strdup(s->argv[i])))
			goto fail;
	/* With shell = yes, the extra words become "$@" of the script;
	 * $0 is the service name. */
	if (s->shell && !(v[k++] = strdup(s->name)))
		goto fail;
	if (s->ready == LAUNCH_READY_ZMQ) {
		if (!(v[k++] = strdup("--readiness-path")) ||
		    !(v[k++] = strdup(ready_path)) ||
		    !(v[k++] = strdup("--readiness-id")) ||
		    asprintf(&v[k++], "%" PRId64, id) < 0)
			goto fail;
	}
	return v;
fail:
	/* asprintf leaves its pointer undefined on failure. */
	v[k - 1] = NULL;
	launch_vec_free(v);
	return NULL;
}

bool
launch_env_key_is(const char *e, const char *key)
{
	size_t n = strlen(key);

	return strncmp(e, key, n) == 0 && e[n] == '=';
}

const char *
launch_env_get(char *const *env, size_t n, const char *key)
{
	const char *v = NULL;

	/* The last one wins, as for the env = lines of a service. */
	for (size_t i = 0; env && i < n && env[i]; i++)
		if (launch_env_key_is(env[i], key))
			v = env[i] + strlen(key) + 1;
	return v;
}

/* Does entry e set the same key as entry f ("K=...")? */
static bool
same_key(const char *e, const char *f)
{
	const char *eq = strchr(f, '=');

	return eq && strncmp(e, f, (size_t)(eq - f) + 1) == 0;
}

static bool
dropped(const char *e, const char *const *drop, char *const *set,
    size_t n_set, char *const *extra)
{
	for (size_t i = 0; drop && drop[i]; i++)
		if (launch_env_key_is(e, drop[i]))
			return true;
	for (size_t i = 0; i < n_set; i++)
		if (same_key(e, set[i]))
			return true;
	for (size_t i = 0; extra && extra[i]; i++)
		if (same_key(e, extra[i]))
			return true;
	return false;
}

char **
launch_env_build(char *const *base, const char *const *drop,
    char *const *set, size_t n_set, char *const *extra)
{
	size_t n = n_set, k = 0;
	char **env;

	for (size_t i = 0; base && base[i]; i++)
		n++;
	for (size_t i = 0; extra && extra[i]; i++)
		n++;
	if (!(env = calloc(n + 1, sizeof(*env))))
		return NULL;
	for (size_t i = 0; base && base[i]; i++)
		if (!dropped(base[i], drop, set, n_set, extra) &&
		    !(env[k++] = strdup(base[i])))
			goto fail;
	for (size_t i = 0; i < n_set; i++)
		if (!(env[k++] = strdup(set[i])))
			goto fail;
	for (size_t i = 0; extra && extra[i]; i++)
		if (!(env[k++] = strdup(extra[i])))
			goto fail;
	return env;
fail:
	launch_vec_free(env);
	return NULL;
}

static bool
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

int
launch_program_find(const char *prog, const char *dir, const char *path,
    char *out, size_t outlen)
{
	int n;

	if (!prog[0])
		return -ENOENT;
	if (strchr(prog, '/')) {
		if (prog[0] != '/' && dir)
			n = snprintf(out, outlen, "%s/%s", dir, prog);
		else
			n = snprintf(out, outlen, "%s", prog);
		if (n < 0 || (size_t)n >= outlen)
			return -ENAMETOOLONG;
		return executable(out) ? 0 : -ENOENT;
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; p;) {
		const char *colon = strchr(p, ':');
		int len = colon ? (int)(colon - p) : (int)strlen(p);
		const char *e = len ? p : ".";

		if (!len)
			len = 1;
		/* A relative entry is relative to where the program runs. */
		if (e[0] != '/' && dir)
			n = snprintf(out, outlen, "%s/%.*s/%s", dir, len, e, prog);
		else
			n = snprintf(out, outlen, "%.*s/%s", len, e, prog);
		if (n >= 0 && (size_t)n < outlen && executable(out))
			return 0;
		p = colon ? colon + 1 : NULL;
	}
	return -ENOENT;
}
