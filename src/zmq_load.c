/*
 * libzmq, loaded at run time by the first call of one of its functions.
 *
 * Why: libzmq brings libstdc++, libsodium, libpgm, libnorm and the
 * Kerberos libraries with it; loading them and running their
 * constructors costs about 3.4 ms here, more than every other library
 * of metricsd together. read, report and tokenize, and --help and
 * --version of every mode, never speak ZeroMQ, yet each of their
 * processes (a shell loop of `metricsd read`, launch's services) paid
 * for it at exec. So metricsd is not linked with libzmq. Instead this
 * file defines the libzmq functions metricsd calls, with the very
 * prototypes of <zmq.h> (the compiler checks each against its
 * declaration), and each forwards to the function of the same name in
 * the library, loaded with dlopen() of the SONAME metricsd was built
 * against (config.mk ZMQ_SONAME, compiled in as ZMQ_LOAD_SONAME:
 * "libzmq.so.5" on Debian 12). The modes that use ZeroMQ load it when
 * they first call it (aggregate and record as they connect, publish as
 * it binds, ready as it sends, serve and aggregate as they send their
 * ready-check, launch as it opens its ready socket); the others never
 * do. The rest of metricsd calls zmq_*() as if it were
 * linked, and so do the test helpers and benchmarks linked with the
 * same objects.
 *
 * RTLD_NOW: every function is resolved at the load, so that a library
 * that lacks one fails at the first call and never in the middle of a
 * run. RTLD_LOCAL: libzmq's symbols (and libstdc++'s) stay out of the
 * global namespace. The library is never closed: its contexts, sockets
 * and I/O threads live as long as the process.
 *
 * Interposition: metricsd is linked without --export-dynamic and with
 * no library that refers to zmq_*, so the definitions below are not in
 * its dynamic symbol table, and libzmq's calls of its own functions
 * (zmq_poll calls zmq_getsockopt) bind inside libzmq. Were they
 * exported (a link with --export-dynamic), such a call would come here
 * and go straight back: dlsym() of the library's handle finds
 * libzmq's own definitions, never these.
 *
 * Threads: the load runs exactly once, under pthread_once(), whichever
 * thread calls first (a mode's loop thread, a test's thread); every
 * caller returns from pthread_once() only after the load has finished,
 * and sees the table it filled (pthread_once synchronizes memory), so
 * the table is read without a lock. libzmq's own I/O threads run inside
 * libzmq and never come back through these functions; the tokenizer's
 * worker threads do not call ZeroMQ.
 *
 * When the library cannot be loaded, every function fails the way
 * libzmq's own fail: NULL or -1 with errno set, ELIBACC when dlopen()
 * failed, ELIBBAD when a function is missing from the library;
 * zmq_msg_size() and zmq_msg_more() return 0. zmq_strerror() of that
 * errno returns a message that names the library and gives dlerror()'s
 * reason, so the existing error paths, which print zmq_strerror(errno),
 * say what is wrong ("zmq_ctx_new: cannot load the ZeroMQ library
 * libzmq.so.5: ..."). The failure is kept: later calls fail alike and
 * the load is not retried.
 *
 * Library code: nothing here prints or exits.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <zmq.h>

#include "errbuf.h"

/* The SONAME of the libzmq built against, from config.mk. */
#ifndef ZMQ_LOAD_SONAME
#error "ZMQ_LOAD_SONAME is not defined: see ZMQ_SONAME in config.mk"
#endif
_Static_assert(sizeof(ZMQ_LOAD_SONAME) > 1, "ZMQ_LOAD_SONAME is empty: "
    "config.mk found no SONAME for libzmq (pkg-config libzmq, objdump); "
    "set ZMQ_SONAME");

/* Every function metricsd calls, X(name without its zmq_ prefix). */
#define ZMQ_LOAD_FUNCS(X) \
	X(ctx_new) X(ctx_term) X(socket) X(close) X(setsockopt) \
	X(getsockopt) X(bind) X(connect) X(send) X(recv) X(poll) \
	X(msg_init) X(msg_close) X(msg_recv) X(msg_data) X(msg_size) \
	X(msg_more) X(strerror)

static struct {
#define FIELD(f) __typeof__(zmq_##f) *f;
	ZMQ_LOAD_FUNCS(FIELD)
#undef FIELD
} real;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_errno;		/* 0: loaded; ELIBACC or ELIBBAD: not */
static char load_err[512];	/* why not, for zmq_strerror(load_errno) */

static void
load(void)
{
	const char *why;
	void *h, *p;

	if (!(h = dlopen(ZMQ_LOAD_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		errbuf_fmt(load_err, sizeof(load_err), "cannot load the ZeroMQ "
		    "library %s: %s", ZMQ_LOAD_SONAME, why ? why : "dlopen failed");
		load_errno = ELIBACC;
		return;
	}
	/* A library that lacks one function is not used at all. */
#define SYM(f)								\
	dlerror();							\
	if (!(p = dlsym(h, "zmq_" #f))) {				\
		why = dlerror();					\
		errbuf_fmt(load_err, sizeof(load_err), "the ZeroMQ "	\
		    "library %s lacks zmq_" #f ": %s", ZMQ_LOAD_SONAME,	\
		    why ? why : "it is NULL");				\
		load_errno = ELIBBAD;					\
		return;							\
	}								\
	real.f = p;
	ZMQ_LOAD_FUNCS(SYM)
#undef SYM
}

/* Whether libzmq is loaded, loading it on the first call; errno if not. */
static int
loaded(void)
{
	pthread_once(&once, load);
	if (load_errno) {
		errno = load_errno;
		return 0;
	}
	return 1;
}

void *
zmq_ctx_new(void)
{
	return loaded() ? real.ctx_new() : NULL;
}

int
zmq_ctx_term(void *context_)
{
	return loaded() ? real.ctx_term(context_) : -1;
}

void *
zmq_socket(void *context_, int type_)
{
	return loaded() ? real.socket(context_, type_) : NULL;
}

int
zmq_close(void *s_)
{
	return loaded() ? real.close(s_) : -1;
}

int
zmq_setsockopt(void *s_, int option_, const void *optval_, size_t optvallen_)
{
	return loaded() ? real.setsockopt(s_, option_, optval_, optvallen_) : -1;
}

int
zmq_getsockopt(void *s_, int option_, void *optval_, size_t *optvallen_)
{
	return loaded() ? real.getsockopt(s_, option_, optval_, optvallen_) : -1;
}

int
zmq_bind(void *s_, const char *addr_)
{
	return loaded() ? real.bind(s_, addr_) : -1;
}

int
zmq_connect(void *s_, const char *addr_)
{
	return loaded() ? real.connect(s_, addr_) : -1;
}

int
zmq_send(void *s_, const void *buf_, size_t len_, int flags_)
{
	return loaded() ? real.send(s_, buf_, len_, flags_) : -1;
}

int
zmq_recv(void *s_, void *buf_, size_t len_, int flags_)
{
	return loaded() ? real.recv(s_, buf_, len_, flags_) : -1;
}

int
zmq_poll(zmq_pollitem_t *items_, int nitems_, long timeout_)
{
	return loaded() ? real.poll(items_, nitems_, timeout_) : -1;
}

int
zmq_msg_init(zmq_msg_t *msg_)
{
	return loaded() ? real.msg_init(msg_) : -1;
}

int
zmq_msg_close(zmq_msg_t *msg_)
{
	return loaded() ? real.msg_close(msg_) : -1;
}

int
zmq_msg_recv(zmq_msg_t *msg_, void *s_, int flags_)
{
	return loaded() ? real.msg_recv(msg_, s_, flags_) : -1;
}

void *
zmq_msg_data(zmq_msg_t *msg_)
{
	return loaded() ? real.msg_data(msg_) : NULL;
}

size_t
zmq_msg_size(const zmq_msg_t *msg_)
{
	return loaded() ? real.msg_size(msg_) : 0;
}

int
zmq_msg_more(const zmq_msg_t *msg_)
{
	return loaded() ? real.msg_more(msg_) : 0;
}

/*
 * The message of errnum. The load's own failure is described here;
 * every other code is libzmq's to describe (its own codes such as ETERM
 * and EFSM, the system's through strerror()), or strerror()'s when the
 * library is not there. errno is left as it was.
 */
const char *
zmq_strerror(int errnum_)
{
	int saved = errno;

	if (loaded()) {
		errno = saved;
		return real.strerror(errnum_);
	}
	errno = saved;
	if (errnum_ == load_errno)
		return load_err;
	return strerror(errnum_);
}
