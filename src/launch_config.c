/*
 * services.conf parsing for metricsd launch.
 *
 * inih does the INI syntax. It does not pass line numbers to the handler
 * (Debian builds it without INI_HANDLER_LINENO) and does not report empty
 * sections, so lines are fed to it through our own reader, which counts
 * them and notes each [section] header as it goes by: the handler, called
 * synchronously right after its line was read, then knows both the line
 * and the section it belongs to.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "args.h"
#include "launch_config.h"
#include "readycheck.h"

#define LINE_MAX_BYTES 65536
/* Far more than any set of services needs; /dev/zero, /dev/urandom or a
 * stream that never ends is refused once it has given this much. */
#define FILE_MAX_BYTES (64u << 20)
#define MAX_ERRORS 20

enum section_kind { SEC_NONE, SEC_LAUNCH, SEC_SERVICE, SEC_BAD };

struct parse {
	struct launch_config *c;
	const char *path;
	FILE *f;
	char *line;		/* current line, served in pieces to inih */
	size_t linelen, lineoff;
	size_t total;		/* bytes read from f */
	bool too_large;		/* more than FILE_MAX_BYTES */
	int lineno;
	int errline_last;	/* last line we reported an error on */
	/* current section */
	enum section_kind kind;
	int sec_line;
	struct launch_service *cur;
	unsigned seen;		/* bit set of keys seen in this section */
	unsigned launch_seen;	/* the same for global keys, file-wide */
	char **after_raw;	/* per service: its after = value, or NULL */
	/* errors */
	char *err;
	size_t errlen, erroff;
	int nerr;
	bool oom;
};

static void __attribute__((format(printf, 3, 4)))
perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	p->nerr++;
	p->errline_last = line;
	if (p->nerr > MAX_ERRORS || p->erroff + 1 >= p->errlen)
		return;
	n = snprintf(p->err + p->erroff, p->errlen - p->erroff, "%s%s:%d: ",
	    p->erroff ? "\n" : "", p->path, line);
	if (n < 0 || (size_t)n >= p->errlen - p->erroff) {
		p->erroff = p->errlen - 1;
		return;
	}
	p->erroff += n;
	va_start(ap, fmt);
	n = vsnprintf(p->err + p->erroff, p->errlen - p->erroff, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= p->errlen - p->erroff)
		p->erroff = p->errlen - 1;
	else
		p->erroff += n;
}

const char *
launch_ready_name(enum launch_ready r)
{
	switch (r) {
	case LAUNCH_READY_ZMQ: return "zmq";
	case LAUNCH_READY_NOTIFY: return "notify";
	case LAUNCH_READY_NONE: return "none";
	case LAUNCH_READY_TCP: return "tcp";
	case LAUNCH_READY_HTTP: return "http";
	}
	return "?";
}

/* ---- words ------------------------------------------------------------- */

void
launch_words_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int
launch_words_split(const char *s, char ***argvp, size_t *argcp,
    char *err, size_t errlen)
{
	size_t len = strlen(s), n = 0, cap = 8, wl = 0;
	char **argv = calloc(cap, sizeof(*argv));
	char *word = malloc(len + 1);
	bool inword = false;
	char q = 0;

	if (!argv || !word) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i <= len; i++) {
		char ch = s[i];

		if (q == '\'') {
			if (ch == '\0')
				break;
			if (ch == '\'')
				q = 0;
			else
				word[wl++] = ch;
			continue;
		}
		if (q == '"') {
			if (ch == '\0')
				break;
			if (ch == '"') {
				q = 0;
			} else if (ch == '\\' && strchr("\"\\$`", s[i + 1]) &&
			    s[i + 1] != '\0') {
				word[wl++] = s[++i];
			} else {
				word[wl++] = ch;
			}
			continue;
		}
		if (ch == '\0' || ch == ' ' || ch == '\t') {
			if (!inword)
				continue;
			if (n + 2 > cap) {
				char **na = realloc(argv, (cap *= 2) * sizeof(*argv));

				if (!na) {
					snprintf(err, errlen, "out of memory");
					goto fail;
				}
				argv = na;
			}
			if (!(argv[n] = strndup(word, wl))) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			argv[++n] = NULL;
			wl = 0;
			inword = false;
			continue;
		}
		inword = true;
		if (ch == '\'' || ch == '"') {
			q = ch;
		} else if (ch == '\\') {
			if (s[i + 1] == '\0') {
				snprintf(err, errlen, "backslash at end of command");
				goto fail;
			}
			word[wl++] = s[++i];
		} else {
			word[wl++] = ch;
		}
	}
	if (q) {
		snprintf(err, errlen, "unterminated %s quote in command",
		    q == '\'' ? "single" : "double");
		goto fail;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		goto fail;
	}
	free(word);
	*argvp = argv;
	*argcp = n;
	return 0;
fail:
	free(word);
	launch_words_free(argv);
	return -EINVAL;
}

/* ---- values ------------------------------------------------------------ */

/* One week is plenty and keeps every sum far from overflow. */
#define DURATION_MAX_NS (7ull * 24 * 3600 * ARGS_NS_PER_S)

/* The option layer's duration parser (metricsd(1), DURATIONS), in ms. */
static int
duration_ms(const char *what, const char *s, uint64_t min_ns, uint64_t *ms,
    char *err, size_t errlen)
{
	uint64_t ns;

	if (args_parse_duration(what, s, min_ns, DURATION_MAX_NS, &ns, err,
	    errlen) < 0)
		return -EINVAL;
	*ms = (ns + ARGS_NS_PER_MS / 2) / ARGS_NS_PER_MS;
	return 0;
}

int
launch_duration_parse(const char *s, uint64_t *ms)
{
	return duration_ms("duration", s, 0, ms, NULL, 0);
}

static int
parse_bool(const char *s, bool *b)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1")) {
		*b = true;
		return 0;
	}
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0")) {
		*b = false;
		return 0;
	}
	return -EINVAL;
}

static bool
valid_name(const char *s)
{
	if (!*s || strlen(s) > LAUNCH_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/*
 * Variables the launcher sets for each service. A service's environment
 * would list an env = copy first, and getenv() would return that one: a
 * service could report readiness under another's identity, or to nobody.
 */
static const char *
reserved_env_key(const char *s, size_t n)
{
	static const char *const keys[] = { "NOTIFY_SOCKET",
	    READYCHECK_ENV_ENDPOINT, READYCHECK_ENV_ID, READYCHECK_ENV_PATH,
	    READYCHECK_ENV_SOCKET_DIR };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], s, n) == 0)
			return keys[i];
	return NULL;
}

static bool
valid_env_key(const char *s, size_t n)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* ---- sections ---------------------------------------------------------- */

enum {
	K_SOCKET_DIR = 1u << 0,
	K_READY_TIMEOUT = 1u << 1,
	K_EXIT_TIMEOUT = 1u << 2,
	K_KILL_GRACE = 1u << 3,
	K_COMMAND = 1u << 4,
	K_SHELL = 1u << 5,
	K_DIRECTORY = 1u << 6,
	K_READY = 1u << 7,
	K_AFTER = 1u << 8,
};

static void
section_begin(struct parse *p, const char *hdr, size_t n)
{
	char name[64];
	struct launch_service *s;

	p->kind = SEC_BAD;
	p->cur = NULL;
	p->seen = 0;
	p->sec_line = p->lineno;
	if (n == 6 && memcmp(hdr, "launch", 6) == 0) {
		p->kind = SEC_LAUNCH;
		return;
	}
	if (n > 8 && memcmp(hdr, "service ", 8) == 0) {
		hdr += 8;
		n -= 8;
		while (n > 0 && (*hdr == ' ' || *hdr == '\t')) {
			hdr++;
			n--;
		}
		if (n == 0 || n >= sizeof(name)) {
			perr(p, p->lineno, "bad service name (letters, digits, "
			    "'_', '.', '-'; at most %d)", LAUNCH_NAME_MAX);
			return;
		}
		memcpy(name, hdr, n);
		name[n] = '\0';
		if (!valid_name(name)) {
			perr(p, p->lineno, "bad service name '%s' (letters, "
			    "digits, '_', '.', '-'; at most %d)", name,
			    LAUNCH_NAME_MAX);
			return;
		}
		for (size_t i = 0; i < p->c->nsvc; i++) {
			if (strcmp(p->c->svc[i].name, name) == 0) {
				perr(p, p->lineno, "duplicate service '%s' "
				    "(first defined at line %d)", name,
				    p->c->svc[i].line);
				return;
			}
		}
		s = realloc(p->c->svc, (p->c->nsvc + 1) * sizeof(*s));
		if (!s) {
			p->oom = true;
			return;
		}
		p->c->svc = s;
		{
			char **a = realloc(p->after_raw,
			    (p->c->nsvc + 1) * sizeof(*a));

			if (!a) {
				p->oom = true;
				return;
			}
			p->after_raw = a;
			a[p->c->nsvc] = NULL;
		}
		s = &p->c->svc[p->c->nsvc++];
		memset(s, 0, sizeof(*s));
		memcpy(s->name, name, n + 1);
		s->line = p->lineno;
		s->ready = LAUNCH_READY_ZMQ;
		p->kind = SEC_SERVICE;
		p->cur = s;
		return;
	}
	perr(p, p->lineno, "unknown section [%.*s] (expected [launch] or "
	    "[service NAME])", (int)(n > 60 ? 60 : n), hdr);
}

/*
 * The next line of p->f into p->line, newline included: at most
 * LINE_MAX_BYTES of it are kept (*overlong when there was more, read
 * and dropped), so that memory stays bounded whatever the file holds.
 * Returns its length, 0 at the end of the file (or past FILE_MAX_BYTES,
 * with p->too_large set).
 */
static size_t
line_read(struct parse *p, bool *overlong)
{
	size_t len = 0;
	int ch = 0;

	*overlong = false;
	while (ch != '\n' && (ch = getc_unlocked(p->f)) != EOF) {
		if (++p->total > FILE_MAX_BYTES) {
			p->too_large = true;
			return 0;
		}
		if (len < LINE_MAX_BYTES)
			p->line[len++] = (char)ch;
		else
			*overlong = true;
	}
	p->line[len] = '\0';
	return len;
}

/*
 * Fetch the next line and serve it to inih in pieces of at most num-1
 * bytes, counting lines and noting section headers.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t take;

	if (num < 2)
		return NULL;
	if (p->lineoff >= p->linelen) {
		bool overlong;
		const char *t;

		if ((p->linelen = line_read(p, &overlong)) == 0)
			return NULL;
		p->lineoff = 0;
		p->lineno++;
		if (overlong) {
			perr(p, p->lineno, "line longer than %d bytes",
			    LINE_MAX_BYTES);
			strcpy(p->line, "\n");
			p->linelen = 1;
		}
		if (memchr(p->line, '\0', p->linelen)) {
			perr(p, p->lineno, "NUL byte in line");
			strcpy(p->line, "\n");
			p->linelen = 1;
		}
		t = p->line;
		/* inih skips a UTF-8 byte order mark on the first line. */
		if (p->lineno == 1 && strncmp(t, "\xef\xbb\xbf", 3) == 0)
			t += 3;
		t += strspn(t, " \t");
		if (*t == '[') {
			const char *e = strchr(t, ']');

			if (e)
				section_begin(p, t + 1, (size_t)(e - t - 1));
			else
				p->kind = SEC_BAD;	/* inih reports it */
		}
	}
	take = p->linelen - p->lineoff;
	if (take > (size_t)num - 1)
		take = (size_t)num - 1;
	memcpy(str, p->line + p->lineoff, take);
	str[take] = '\0';
	p->lineoff += take;
	return str;
}

static bool
once(struct parse *p, unsigned bit, const char *key)
{
	/* Global keys may be split between the top of the file and
	 * [launch], but each may be given only once. */
	unsigned *seen = p->kind == SEC_SERVICE ? &p->seen : &p->launch_seen;

	if (*seen & bit) {
		perr(p, p->lineno, "duplicate key '%s'", key);
		return false;
	}
	*seen |= bit;
	return true;
}

static int
set_string(struct parse *p, char **dst, const char *v)
{
	free(*dst);
	if (!(*dst = strdup(v)))
		p->oom = true;
	return 1;
}

static int
set_duration(struct parse *p, uint64_t *dst, const char *key, const char *v)
{
	char e[ARGS_ERR_MAX];

	/* At least 1 ms: the timers count in milliseconds. */
	if (duration_ms(key, v, ARGS_NS_PER_MS, dst, e, sizeof(e)) < 0)
		perr(p, p->lineno, "%s", e);
	return 1;
}

static int
launch_key(struct parse *p, const char *k, const char *v)
{
	struct launch_config *c = p->c;

	if (!strcmp(k, "socket_dir")) {
		if (once(p, K_SOCKET_DIR, k)) {
			if (v[0] != '/')
				perr(p, p->lineno, "socket_dir: '%s' is not an "
				    "absolute path", v);
			else
				set_string(p, &c->socket_dir, v);
		}
	} else if (!strcmp(k, "ready_timeout")) {
		if (once(p, K_READY_TIMEOUT, k))
			set_duration(p, &c->ready_timeout_ms, k, v);
	} else if (!strcmp(k, "exit_timeout")) {
		if (once(p, K_EXIT_TIMEOUT, k))
			set_duration(p, &c->exit_timeout_ms, k, v);
	} else if (!strcmp(k, "kill_grace")) {
		if (once(p, K_KILL_GRACE, k))
			set_duration(p, &c->kill_grace_ms, k, v);
	} else {
		perr(p, p->lineno, "unknown key '%s' in [launch] (expected "
		    "socket_dir, ready_timeout, exit_timeout, kill_grace)", k);
	}
	return 1;
}

static int
service_key(struct parse *p, const char *k, const char *v)
{
	struct launch_service *s = p->cur;

	if (!strcmp(k, "command")) {
		if (once(p, K_COMMAND, k)) {
			set_string(p, &s->command, v);
			if (!*v)
				perr(p, p->lineno, "service '%s': empty command",
				    s->name);
		}
	} else if (!strcmp(k, "shell")) {
		if (once(p, K_SHELL, k) && parse_bool(v, &s->shell) < 0)
			perr(p, p->lineno, "service '%s': shell: '%s' is not "
			    "yes or no", s->name, v);
	} else if (!strcmp(k, "directory")) {
		if (once(p, K_DIRECTORY, k))
			set_string(p, &s->directory, v);
	} else if (!strcmp(k, "ready")) {
		if (!once(p, K_READY, k))
			return 1;
		s->ready_line = p->lineno;
		if (!strcmp(v, "zmq"))
			s->ready = LAUNCH_READY_ZMQ;
		else if (!strcmp(v, "notify"))
			s->ready = LAUNCH_READY_NOTIFY;
		else if (!strcmp(v, "none"))
			s->ready = LAUNCH_READY_NONE;
		else if (strstr(v, "://")) {
			char e[160];

			if (launch_ready_url_parse(v, &s->ready, &s->url, e,
			    sizeof(e)) < 0)
				perr(p, p->lineno, "service '%s': ready: %s",
				    s->name, e);
		} else
			perr(p, p->lineno, "service '%s': ready: '%.64s' is not "
			    "zmq, notify, none, tcp://HOST:PORT or "
			    "http://HOST:PORT/PATH", s->name, v);
	} else if (!strcmp(k, "after")) {
		if (once(p, K_AFTER, k)) {
			s->after_line = p->lineno;
			set_string(p, &p->after_raw[s - p->c->svc], v);
		}
	} else if (!strcmp(k, "env")) {
		const char *eq = strchr(v, '='), *rk;
		char **ne;

		if (!eq || !valid_env_key(v, (size_t)(eq - v))) {
			perr(p, p->lineno, "service '%s': env: '%s' is not "
			    "NAME=VALUE", s->name, v);
			return 1;
		}
		if ((rk = reserved_env_key(v, (size_t)(eq - v)))) {
			perr(p, p->lineno, "service '%s': env: %s is set by "
			    "the launcher", s->name, rk);
			return 1;
		}
		if (!(ne = realloc(s->env, (s->nenv + 1) * sizeof(*ne)))) {
			p->oom = true;
			return 1;
		}
		s->env = ne;
		if (!(s->env[s->nenv] = strdup(v)))
			p->oom = true;
		else
			s->nenv++;
	} else {
		perr(p, p->lineno, "service '%s': unknown key '%s' (expected "
		    "command, shell, env, directory, ready, after)", s->name, k);
	}
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	(void)section;
	switch (p->kind) {
	case SEC_NONE:
	case SEC_LAUNCH:
		return launch_key(p, name, value);
	case SEC_SERVICE:
		return service_key(p, name, value);
	case SEC_BAD:
		break;	/* the header was reported */
	}
	return 1;
}

/* ---- start order ---------------------------------------------------------- */

static size_t
svc_index(const struct launch_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsvc; i++)
		if (strcmp(c->svc[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

/* Turn each after = value into service indexes. */
static void
after_resolve(struct parse *p)
{
	struct launch_config *c = p->c;

	for (size_t i = 0; i < c->nsvc; i++) {
		struct launch_service *s = &c->svc[i];
		char *v = p->after_raw ? p->after_raw[i] : NULL, *w, *save = NULL;

		if (!v)
			continue;
		if (strspn(v, " \t,") == strlen(v)) {
			perr(p, s->after_line, "service '%s': after: no service "
			    "named", s->name);
			continue;
		}
		if (!(s->after = calloc(strlen(v) / 2 + 1, sizeof(*s->after)))) {
			p->oom = true;
			return;
		}
		for (w = strtok_r(v, " \t,", &save); w;
		    w = strtok_r(NULL, " \t,", &save)) {
			size_t k = svc_index(c, w);

			if (k == SIZE_MAX) {
				perr(p, s->after_line, "service '%s': after: no "
				    "service named '%.64s'", s->name, w);
				continue;
			}
			if (k == i) {
				perr(p, s->after_line, "service '%s': after: "
				    "cycle: '%s' waits for itself", s->name,
				    s->name);
				continue;
			}
			s->after[s->nafter++] = k;
		}
	}
}

/*
 * Report one cycle through service i, which is part of or behind one,
 * and mark its services placed, so that what is behind it alone can be
 * placed and another cycle, if any, found. Returns how many it marked.
 */
static size_t
report_cycle(struct parse *p, bool *placed, size_t i)
{
	struct launch_config *c = p->c;
	char path[512];
	size_t off = 0, *seen, n = 0, start;

	if (!(seen = calloc(c->nsvc + 1, sizeof(*seen)))) {
		p->oom = true;
		return 0;
	}
	/* Walk unplaced predecessors until a service comes back. */
	for (;;) {
		size_t j, next = SIZE_MAX;

		for (j = 0; j < n && seen[j] != i; j++)
			;
		if (j < n) {
			start = j;
			break;
		}
		seen[n++] = i;
		for (size_t k = 0; k < c->svc[i].nafter; k++)
			if (!placed[c->svc[i].after[k]]) {
				next = c->svc[i].after[k];
				break;
			}
		i = next;	/* never SIZE_MAX: i is unplaced */
	}
	for (size_t j = start; j < n && off < sizeof(path); j++)
		off += (size_t)snprintf(path + off, sizeof(path) - off,
		    "'%s' -> ", c->svc[seen[j]].name);
	if (off < sizeof(path))
		snprintf(path + off, sizeof(path) - off, "'%s'",
		    c->svc[seen[start]].name);
	perr(p, c->svc[seen[start]].after_line, "service '%s': after: cycle: "
	    "%s (each waits for the next)", c->svc[seen[start]].name, path);
	for (size_t j = start; j < n; j++)
		placed[seen[j]] = true;
	free(seen);
	return n - start;
}

/*
 * A start order: repeatedly take the first service, in file order,
 * whose after = services are all placed. What cannot be placed is on or
 * behind a cycle: each cycle is reported, once.
 */
static void
order_build(struct parse *p)
{
	struct launch_config *c = p->c;
	bool *placed;
	size_t n = 0, done = 0;

	if (!(c->order = calloc(c->nsvc + 1, sizeof(*c->order))) ||
	    !(placed = calloc(c->nsvc + 1, sizeof(*placed)))) {
		p->oom = true;
		return;
	}
	while (done < c->nsvc && !p->oom) {
		size_t i, marked;

		for (i = 0; i < c->nsvc; i++) {
			bool ok = !placed[i];

			for (size_t k = 0; ok && k < c->svc[i].nafter; k++)
				ok = placed[c->svc[i].after[k]];
			if (ok)
				break;
		}
		if (i < c->nsvc) {
			placed[i] = true;
			c->order[n++] = i;
			done++;
			continue;
		}
		/* Stuck: the first unplaced service is on or behind a cycle.
		 * (The order is not used once there is an error.) */
		for (i = 0; placed[i]; i++)
			;
		if ((marked = report_cycle(p, placed, i)) == 0)
			break;
		done += marked;
	}
	free(placed);
}

static void
finish(struct parse *p)
{
	struct launch_config *c = p->c;
	char e[256];

	if (c->nsvc == 0 && p->nerr == 0)
		perr(p, p->lineno > 0 ? p->lineno : 1, "no [service NAME] "
		    "section: nothing to launch");
	for (size_t i = 0; i < c->nsvc; i++) {
		struct launch_service *s = &c->svc[i];

		if (!s->command) {
			perr(p, s->line, "service '%s': missing command", s->name);
			continue;
		}
		if (!*s->command)
			continue;	/* reported */
		if (s->shell) {
			s->argv = calloc(4, sizeof(*s->argv));
			if (!s->argv || !(s->argv[0] = strdup("/bin/sh")) ||
			    !(s->argv[1] = strdup("-c")) ||
			    !(s->argv[2] = strdup(s->command))) {
				p->oom = true;
				continue;
			}
			s->argc = 3;
		} else if (launch_words_split(s->command, &s->argv, &s->argc,
		    e, sizeof(e)) < 0) {
			perr(p, s->line, "service '%s': command: %s", s->name, e);
		}
	}
	after_resolve(p);
	if (!p->oom && p->nerr == 0)
		order_build(p);
}

int
launch_config_load(struct launch_config *c, const char *path,
    char *err, size_t errlen)
{
	struct parse p;
	int r;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	c->ready_timeout_ms = LAUNCH_READY_TIMEOUT_MS;
	c->exit_timeout_ms = LAUNCH_EXIT_TIMEOUT_MS;
	c->kill_grace_ms = LAUNCH_KILL_GRACE_MS;
	p.c = c;
	p.path = path;
	p.err = err;
	p.errlen = errlen;
	if (errlen)
		err[0] = '\0';
	if (!(c->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (!(p.f = fopen(path, "re"))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		launch_config_free(c);
		return r;
	}
	if (!(p.line = malloc(LINE_MAX_BYTES + 1))) {
		fclose(p.f);
		snprintf(err, errlen, "%s: out of memory", path);
		launch_config_free(c);
		return -ENOMEM;
	}
	/*
	 * Plain INI: no continuation lines (an indented line would silently
	 * become part of the previous value), no inline comments (';' is
	 * common in shell commands), long lines allowed.
	 */
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = LINE_MAX_BYTES + 3;
	ini_stop_on_first_error = false;
	r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	free(p.line);
	if (p.too_large)
		perr(&p, p.lineno ? p.lineno : 1, "file larger than %u MiB: "
		    "not a services file? (nothing after this line was read)",
		    FILE_MAX_BYTES >> 20);
	if (r > 0 && p.errline_last != r) {
		/* inih's own complaint: only the first syntax error. */
		perr(&p, r, "syntax error (expected [section], key = value, "
		    "or a comment starting with ';' or '#')");
	} else if (r == -2) {
		p.oom = true;
	}
	if (!p.oom)
		finish(&p);
	for (size_t i = 0; p.after_raw && i < c->nsvc; i++)
		free(p.after_raw[i]);
	free(p.after_raw);
	if (p.oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		launch_config_free(c);
		return -ENOMEM;
	}
	if (p.nerr > 0) {
		if (p.nerr > MAX_ERRORS && p.erroff + 1 < p.errlen)
			snprintf(err + p.erroff, errlen - p.erroff,
			    "\n%s: %d more errors", path, p.nerr - MAX_ERRORS);
		launch_config_free(c);
		return -EINVAL;
	}
	return 0;
}

void
launch_config_free(struct launch_config *c)
{
	for (size_t i = 0; i < c->nsvc; i++) {
		struct launch_service *s = &c->svc[i];

		free(s->command);
		launch_words_free(s->argv);
		for (size_t j = 0; j < s->nenv; j++)
			free(s->env[j]);
		free(s->env);
		free(s->directory);
		free(s->after);
	}
	free(c->order);
	free(c->svc);
	free(c->socket_dir);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
