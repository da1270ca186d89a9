/*
 * metricsd launch: starting services and COMMAND (launch_spawn.c does
 * the fork and exec), watching them exit through their pidfds, and
 * passing service output on, prefixed with the service name, through
 * launch's non-blocking output (launch_out.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "launch_argv.h"
#include "launch_int.h"
#include "launch_spawn.h"
#include "modes.h"
#include "sdnotify.h"

extern char **environ;

/* ---- output passthrough ------------------------------------------------ */

static void
emit_line(const char *line, size_t len, bool whole, void *arg)
{
	struct stream *st = arg;
	char buf[LAUNCH_NAME_MAX + 3 + LAUNCH_LINES_CAP + 1];
	size_t nl = strlen(st->s->cfg->name);

	(void)whole;
	/* One write per line keeps lines whole on a shared pipe. */
	memcpy(buf, st->s->cfg->name, nl);
	memcpy(buf + nl, ": ", 2);
	memcpy(buf + nl + 2, line, len);
	buf[nl + 2 + len] = '\n';
	launch_out_write(&st->s->L->out[st->fd_out], buf, nl + 3 + len);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[65536];

	(void)h;
	(void)suggested;
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void
on_stream_closed(uv_handle_t *h)
{
	struct stream *st = h->data;

	launch_maybe_close_all(st->s->L);
}

void
launch_stream_close(struct stream *st)
{
	if (!st->open)
		return;
	st->open = false;
	launch_lines_flush(&st->lines, emit_line, st);
	uv_close((uv_handle_t *)&st->pipe, on_stream_closed);
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	struct stream *st = h->data;

	if (n > 0) {
		launch_lines_feed(&st->lines, buf->base, (size_t)n, emit_line, st);
	} else if (n < 0) {
		launch_stream_close(st);
	}
}

/* ---- starting processes ------------------------------------------------ */

static void
on_proc_closed(uv_handle_t *h)
{
	struct proc *p = h->data;

	close(p->pidfd);
	p->pidfd = -1;
}

/* The pidfd became readable: the process exited (it is not reaped). */
static void
on_proc_event(uv_poll_t *h, int status, int events)
{
	struct proc *p = h->data;
	int r = status;

	(void)events;
	if (p->exited)
		return;
	if (r == 0 && (r = launch_spawn_status(p->pidfd, &p->status,
	    &p->termsig)) == 0)
		return;
	uv_poll_stop(h);
	if (r < 0) {
		/* Cannot happen with a valid pidfd; count it as a failure. */
		log_warn("pid %d: waiting for its exit: %s", (int)p->pid,
		    strerror(-r));
		p->status = 1;
		p->termsig = 0;
	}
	p->exited = true;
	p->on_exit(p);
}

/*
 * Done with p: reap it if it exited (the caller has signalled its group
 * first, if need be), and close its pidfd. A process given up on (it
 * outlived SIGKILL) is not waited for.
 */
void
launch_proc_release(struct proc *p, bool reap)
{
	if (!p->started || p->released)
		return;
	p->released = true;
	if (reap)
		launch_spawn_reap(p->pidfd);
	uv_close((uv_handle_t *)&p->poll, on_proc_closed);
}

/* Environment variables of ours that no child inherits from us as they
 * are: each child gets its own values, or none. */
static const char *const env_ours[] = { SDNOTIFY_ENV,
	READYCHECK_ENV_ENDPOINT, READYCHECK_ENV_ID, READYCHECK_ENV_PATH,
	READYCHECK_ENV_SOCKET_DIR, NULL };

/* The environment of service s, or of COMMAND when s is NULL: ours,
 * minus the readiness variables meant for us, plus its env = lines,
 * plus the socket directory and its own readiness variables. */
static char **
child_env(struct launcher *L, struct svc *s)
{
	char *extra[5] = { NULL }, **env = NULL;
	size_t k = 0;
	bool ok;

	ok = asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_SOCKET_DIR,
	    L->sd.path) >= 0;
	if (ok && s && s->cfg->ready == LAUNCH_READY_ZMQ)
		ok = asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_ENDPOINT,
		    L->ready_ep) >= 0 &&
		    asprintf(&extra[k++], "%s=%" PRId64, READYCHECK_ENV_ID,
		    s->id) >= 0 &&
		    asprintf(&extra[k++], "%s=%s", READYCHECK_ENV_PATH,
		    L->ready_path) >= 0;
	else if (ok && s && s->cfg->ready == LAUNCH_READY_NOTIFY)
		ok = asprintf(&extra[k++], "%s=%s", SDNOTIFY_ENV, s->npath) >= 0;
	if (!ok)
		extra[k - 1] = NULL;	/* undefined after a failed asprintf */
	else
		env = launch_env_build(environ, env_ours,
		    s ? s->cfg->env : NULL, s ? s->cfg->nenv : 0, extra);
	for (size_t i = 0; i < k; i++)
		free(extra[i]);
	return env;
}

/*
 * Set up what every spawn shares, once its signal handlers are in
 * place: the signals a child must reset (launch_spawn_caught()),
 * whether a child's report needs a pipe, and one /dev/null for every
 * service's stdin (opened here, not by each child while we wait).
 */
void
launch_spawn_prepare(struct launcher *L)
{
	launch_spawn_caught(&L->caught);
	L->vfork_shares = launch_spawn_vfork_shares();
	L->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
lookup_forget(struct launch_lookup *c)
{
	free(c->prog);
	free(c->dir);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

void
launch_spawn_done(struct launcher *L)
{
	lookup_forget(&L->lookup);
	if (L->devnull >= 0)
		close(L->devnull);
	L->devnull = -1;
}

static bool
same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static char *
dup_or_null(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*ok = false;
	return d;
}

/*
 * launch_program_find(), remembering its last answer: N replicas of one
 * program in a run (the usual case of many services) search PATH once,
 * not N times (some dozen stat() calls each, the largest cost of a spawn
 * in launch itself). Only a found program is remembered; a file that
 * then disappears is reported by exec.
 */
static int
program_lookup(struct launcher *L, const char *prog, const char *dir,
    const char *path, char *out, size_t outlen)
{
	struct launch_lookup *c = &L->lookup;
	bool ok = true;
	int r;

	if (c->prog && strcmp(c->prog, prog) == 0 && same(c->dir, dir) &&
	    same(c->path, path)) {
		snprintf(out, outlen, "%s", c->found);
		return 0;
	}
	if ((r = launch_program_find(prog, dir, path, out, outlen)) < 0)
		return r;
	lookup_forget(c);
	c->prog = dup_or_null(prog, &ok);
	c->dir = dup_or_null(dir, &ok);
	c->path = dup_or_null(path, &ok);
	if (!ok || strlen(out) >= sizeof(c->found))
		lookup_forget(c);	/* just not remembered */
	else
		memcpy(c->found, out, strlen(out) + 1);
	return 0;
}

/*
 * Make path (found relative to our working directory) absolute: the
 * child changes to its own directory before its exec, where a relative
 * path would name another file. Returns 0 or a negative errno.
 */
static int
path_absolute(char *path, size_t len)
{
	char cwd[PATH_MAX], rel[PATH_MAX];
	int n;

	if (path[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	snprintf(rel, sizeof(rel), "%s", path);
	n = snprintf(path, len, "%s/%s", cwd, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * The one way a process is started: look its program up in its own
 * PATH, fork and exec it (launch_spawn.c), and watch its pidfd. sp
 * says what to start (argv, env, cwd, fds, close_others); slot is its
 * watchdog slot. Returns 0 or a negative errno with err set.
 */
static int
proc_start(struct launcher *L, struct proc *p, struct launch_spawn *sp,
    size_t slot, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = program_lookup(L, sp->argv[0], sp->cwd,
	    launch_env_get(sp->env, SIZE_MAX, "PATH"), path, sizeof(path));
	if (r == 0)
		r = path_absolute(path, sizeof(path));
	if (r < 0) {
		snprintf(err, errlen, "'%s': %s", sp->argv[0], r == -ENOENT ?
		    "not found or not executable" : strerror(-r));
		return r;
	}
	sp->path = path;
	sp->reset = &L->caught;
	sp->vfork_shares = L->vfork_shares;
	sp->watchdog_slot = slot < L->wd.nslots ? &L->wd.slots[slot] : NULL;
	if ((r = launch_spawn_start(sp, &p->pid, &p->pidfd, err, errlen)) < 0)
		return r;
	p->L = L;
	p->started = true;
	p->poll.data = p;
	if ((r = uv_poll_init(&L->loop, &p->poll, p->pidfd)) < 0 ||
	    (r = uv_poll_start(&p->poll, UV_READABLE, on_proc_event)) < 0) {
		/* Not watched, so not kept. */
		kill(-p->pid, SIGKILL);
		snprintf(err, errlen, "watch pid %d: %s", (int)p->pid,
		    uv_strerror(r));
		p->exited = true;
		launch_proc_release(p, true);
		return -EIO;
	}
	return 0;
}

static void
stream_open(struct launcher *L, struct stream *st, struct svc *s, int fd_out,
    int fd)
{
	st->s = s;
	st->fd_out = fd_out;
	uv_pipe_init(&L->loop, &st->pipe, 0);
	st->pipe.data = st;
	st->open = true;
	if (uv_pipe_open(&st->pipe, fd) < 0 ||
	    uv_read_start((uv_stream_t *)&st->pipe, alloc_cb, on_read) < 0) {
		/* uv_close() does not own an fd it failed to take. */
		close(fd);
		launch_stream_close(st);
	}
}

int
launch_svc_spawn(struct launcher *L, struct svc *s)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, r;
	char **argv, **env, err[PATH_MAX + 256];

	argv = launch_argv_build(s->cfg, L->ready_path, s->id);
	env = child_env(L, s);
	if (!argv || !env) {
		snprintf(err, sizeof(err), "out of memory");
		r = -ENOMEM;
	} else if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		r = -errno;
		snprintf(err, sizeof(err), "pipe: %s", strerror(-r));
	} else {
		struct launch_spawn sp = { .argv = argv, .env = env,
		    .cwd = s->cfg->directory, .fd = { L->devnull, out[1],
		    errp[1] }, .close_others = true };

		s->proc.on_exit = launch_svc_exited;
		s->proc.arg = s;
		r = proc_start(L, &s->proc, &sp, (size_t)(s - L->svc), err,
		    sizeof(err));
	}
	launch_vec_free(argv);
	launch_vec_free(env);
	if (out[1] >= 0)
		close(out[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (r < 0) {
		if (out[0] >= 0)
			close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		log_warn("service '%s': cannot start%s%s: %s", s->cfg->name,
		    s->cfg->directory ? " in " : "",
		    s->cfg->directory ? s->cfg->directory : "", err);
		return r;
	}
	s->spawned = true;
	s->pid = s->proc.pid;
	stream_open(L, &s->out, s, 1, out[0]);
	stream_open(L, &s->err, s, 2, errp[0]);
	if (s->cfg->ready == LAUNCH_READY_NONE) {
		s->ready = true;
	} else if ((s->cfg->ready == LAUNCH_READY_TCP ||
	    s->cfg->ready == LAUNCH_READY_HTTP) &&
	    (r = launch_probe_begin(s)) < 0) {
		return r;
	}
	return 0;
}

void
launch_cmd_spawn(struct launcher *L)
{
	/* COMMAND talks to our terminal directly, unprefixed, through the
	 * descriptors we were given, left as they were (launch_out.h). It
	 * gets its own process group like the services, so Ctrl-C reaches
	 * it once, through us. */
	char **env = child_env(L, NULL), err[PATH_MAX + 256];
	struct launch_spawn sp = { .argv = L->cmd, .env = env,
	    .fd = { 0, 1, 2 } };
	int r = -ENOMEM;

	snprintf(err, sizeof(err), "out of memory");
	L->cmdproc.on_exit = launch_cmd_exited;
	L->cmdproc.arg = L;
	if (env)
		r = proc_start(L, &L->cmdproc, &sp, L->n, err, sizeof(err));
	launch_vec_free(env);
	if (r < 0) {
		log_warn("cannot start command: %s", err);
		L->exit_code = EXIT_FAIL;
		launch_stop_all(L, SIGTERM);
		return;
	}
	L->cmd_running = true;
	L->cmdpid = L->cmdproc.pid;
}

