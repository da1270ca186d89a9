/* Non-blocking, bounded output for launch (see launch_out.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "launch_out.h"

/* One queued write: a service line, or one of launch's own messages. */
struct rec {
	struct rec *next;
	size_t len;
	int fd;			/* whose line: 1 or 2 */
	bool own;		/* launch's own message */
	char data[];
};

/*
 * The queue and its writer thread. The loop's thread appends records
 * under mu and signals `more`; the writer takes the first record out of
 * the list (it is then `busy`), writes it with mu released, and signals
 * `progress` when it is done with it. The byte counts include the busy
 * record: what waits is what the reader has not taken yet.
 */
struct launch_outq {
	pthread_mutex_t mu;
	pthread_cond_t more, progress;
	struct rec *head, **tailp, *busy;
	size_t svc_bytes, own_bytes;
	uint64_t lost[3];	/* service bytes dropped after queueing, per fd */
	uint64_t own_lost;	/* own lines dropped after queueing */
	int fd;
	bool stop, broken, done;
	pthread_t th;
	struct launch_outq *abandoned;
};

/* A queue whose thread is still blocked in a write at exit stays
 * allocated (the thread may still read it), reachable from here. */
static struct launch_outq *abandoned;

/* Write all of p[0..n), blocking; false on an error (EPIPE...). */
static bool
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* O_NONBLOCK set on the shared description by someone
			 * else (COMMAND, our caller): wait, as a blocking
			 * write would. */
			struct pollfd pfd = { fd, POLLOUT, 0 };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return false;
			continue;
		}
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void
lose(struct launch_outq *q, struct rec *r)
{
	if (r->own)
		q->own_lost++;
	else
		q->lost[r->fd] += r->len;
}

static void
account(struct launch_outq *q, const struct rec *r, bool add)
{
	size_t *c = r->own ? &q->own_bytes : &q->svc_bytes;

	if (add)
		*c += r->len;
	else
		*c -= r->len;
}

static void *
writer(void *arg)
{
	struct launch_outq *q = arg;
	struct rec *r;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->more, &q->mu);
		if (!(r = q->head))
			break;
		if (!(q->head = r->next))
			q->tailp = &q->head;
		q->busy = r;
		if (q->broken) {
			lose(q, r);
		} else {
			/* The only write that may block, with mu released:
			 * the loop goes on queueing (or dropping) meanwhile. */
			pthread_mutex_unlock(&q->mu);
			bool ok = write_all(q->fd, r->data, r->len);
			pthread_mutex_lock(&q->mu);
			if (!ok) {
				/* The output is gone for good: drop the rest. */
				q->broken = true;
				lose(q, r);
			}
		}
		account(q, r, false);
		q->busy = NULL;
		free(r);
		pthread_cond_broadcast(&q->progress);
	}
	q->done = true;
	pthread_cond_broadcast(&q->progress);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int
queue_start(struct launch_outq **qp, int fd)
{
	struct launch_outq *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (!q)
		return -ENOMEM;
	q->fd = fd;
	q->tailp = &q->head;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->more, &ca);
	pthread_cond_init(&q->progress, &ca);
	pthread_condattr_destroy(&ca);
	/* The writer takes no signal: they are the loop's (uv_signal). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&q->th, NULL, writer, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_cond_destroy(&q->more);
		pthread_cond_destroy(&q->progress);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return -r;
	}
	*qp = q;
	return 0;
}

int
launch_out_open(struct launch_out *o, int fd, struct launch_out *prev)
{
	struct stat st, pst;
	int r;

	memset(o, 0, sizeof(*o));
	o->fd = fd;
	if (fstat(fd, &st) != 0) {
		o->mode = OUT_BROKEN;	/* closed: nothing to write to */
		return 0;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		o->mode = OUT_FILE;
		return 0;
	}
	o->mode = OUT_QUEUED;
	/* The same pipe, terminal or socket (2>&1): one queue keeps the
	 * two in order, and one writer never splits the other's lines. */
	if (prev && prev->mode == OUT_QUEUED && fstat(prev->fd, &pst) == 0 &&
	    pst.st_dev == st.st_dev && pst.st_ino == st.st_ino &&
	    pst.st_rdev == st.st_rdev) {
		o->q = prev->q;
		return 0;
	}
	if ((r = queue_start(&o->q, fd)) < 0) {
		o->mode = OUT_BROKEN;
		return r;
	}
	o->q_owner = true;
	return 0;
}

/* Queue (own: one of launch's messages) or drop p[0..n). */
static void
put(struct launch_out *o, const void *p, size_t n, bool own)
{
	struct launch_outq *q = o->q;
	size_t limit = LAUNCH_OUT_CAP + (own ? LAUNCH_OUT_OWN_RESERVE : 0);
	struct rec *r;

	if (n == 0)
		return;
	if (o->mode == OUT_FILE) {
		/* Cannot stall: written at once. */
		if (!write_all(o->fd, p, n))
			goto drop;
		return;
	}
	if (o->mode != OUT_QUEUED)
		goto drop;
	pthread_mutex_lock(&q->mu);
	/* After launch_out_close(), launch's own messages (the drop counts,
	 * the exit summary) are always taken: the queue was emptied of
	 * service lines, and they are few. */
	if (q->broken || (!(own && o->closed) &&
	    q->svc_bytes + q->own_bytes + n > limit) ||
	    !(r = malloc(sizeof(*r) + n))) {
		pthread_mutex_unlock(&q->mu);
		goto drop;
	}
	r->next = NULL;
	r->len = n;
	r->fd = o->fd;
	r->own = own;
	memcpy(r->data, p, n);
	*q->tailp = r;
	q->tailp = &r->next;
	account(q, r, true);
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	return;
drop:
	if (own) {
		o->own_dropped++;
	} else {
		o->dropped += n;
		o->dropped_writes++;
	}
}

void
launch_out_write(struct launch_out *o, const void *p, size_t n)
{
	put(o, p, n, false);
}

void
launch_out_log(const char *line, size_t n, void *arg)
{
	put(arg, line, n, true);
}

/*
 * Wait under q->mu until nothing waits (own: none of launch's own
 * messages) or deadline_ns has passed; true if so.
 */
static bool
wait_empty(struct launch_outq *q, bool own, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000u),
	    (long)(deadline_ns % 1000000000u) };

	while ((own ? q->own_bytes > 0 : q->head || q->busy) && !q->done)
		if (pthread_cond_timedwait(&q->progress, &q->mu, &ts) ==
		    ETIMEDOUT)
			break;
	return own ? q->own_bytes == 0 : !q->head && !q->busy;
}

void
launch_out_close(struct launch_out *o, uint64_t deadline_ns)
{
	struct launch_outq *q = o->q;
	struct rec **pp, *r;

	if (o->closed)
		return;
	o->closed = true;
	if (o->mode != OUT_QUEUED)
		return;
	pthread_mutex_lock(&q->mu);
	if (!wait_empty(q, false, deadline_ns)) {
		/* The reader has not kept up: its service lines are dropped,
		 * whole (the busy one is being written: it is finished). */
		for (pp = &q->head; (r = *pp);) {
			if (r->own) {
				pp = &r->next;
				continue;
			}
			*pp = r->next;
			lose(q, r);
			account(q, r, false);
			free(r);
		}
		q->tailp = pp;
	}
	o->dropped += q->lost[o->fd];
	q->lost[o->fd] = 0;
	if (o->fd == 2) {
		o->own_dropped += q->own_lost;
		q->own_lost = 0;
	}
	pthread_mutex_unlock(&q->mu);
}

size_t
launch_out_end(struct launch_out *o, uint64_t deadline_ns)
{
	struct launch_outq *q = o->q;
	struct rec *r;
	size_t left;
	bool idle;

	o->mode = OUT_BROKEN;
	o->q = NULL;
	if (!q || !o->q_owner)
		return 0;
	pthread_mutex_lock(&q->mu);
	wait_empty(q, true, deadline_ns);
	left = q->svc_bytes + q->own_bytes;
	q->stop = true;
	idle = !q->busy;
	if (idle) {
		/* Nothing in the writer's hands: it exits now. What is left
		 * (only if it broke) goes with the queue. */
		while ((r = q->head)) {
			q->head = r->next;
			free(r);
		}
		q->tailp = &q->head;
	}
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	if (!idle) {
		/* Blocked in a write the reader does not take: it is left
		 * to finish, or to end with the process. */
		pthread_detach(q->th);
		q->abandoned = abandoned;
		abandoned = q;
		return left;
	}
	pthread_join(q->th, NULL);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->progress);
	pthread_mutex_destroy(&q->mu);
	free(q);
	return left;
}
