/*
 * The token queue (see tok_queue.h).
 *
 * Every job is on the FIFO `head..tail` from push to pop; the jobs that
 * still need a worker are also on the run list `run_head..run_tail`, in
 * the same order. One mutex guards both lists and every job's `done`
 * flag. A worker takes the first job off the run list under the mutex,
 * counts it with the mutex released (only it touches that job's text and
 * results now), then sets `done` under the mutex. The owner reads a
 * job's results only after seeing `done` under the same mutex (tokq_pop),
 * so the mutex orders the worker's writes before the owner's reads on any
 * architecture; nothing here relies on plain loads being atomic.
 *
 * Wake-ups: a worker that finishes the oldest job signals `done_cv` (for
 * tokq_wait) and calls notify (for an event loop), still holding the
 * mutex: so once the owner has popped every job, no notify is running or
 * will run (until the next push), and the owner may then close what
 * notify touches. It need not for other
 * jobs: the owner can only pop from the head, and when the head
 * completes, the later jobs already done are popped in the same turn. A
 * job completing just after its predecessor was popped is then the head
 * itself, so no completion is ever left without a wake-up.
 *
 * The byte and job counts behind the bound change only on the owner's
 * thread (push and pop), so they need no lock.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tok_queue.h"

struct worker {
	struct tokq *q;
	struct tokenizer *tok;
	pthread_t th;
};

struct tokq {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* the run list has a job, or stop */
	pthread_cond_t done_cv;		/* the oldest job is done */
	struct tokq_job *head, *tail;
	struct tokq_job *run_head, *run_tail;
	bool stop;
	/* The owner's alone. */
	size_t bytes, njobs;
	size_t max_bytes, max_jobs;
	void (*notify)(void *arg);
	void *arg;
	unsigned nthreads, started;
	struct worker w[];
};

static void
count(struct tokenizer *tok, struct tokq_job *j)
{
	uint64_t r0 = tokenizer_repaired(tok);

	if ((j->want & (TOKQ_FULL | TOKQ_SUFFIX)) == (TOKQ_FULL | TOKQ_SUFFIX))
		tokenizer_count_both(tok, j->chunks, j->n, j->from, &j->full,
		    &j->rc_full, &j->suffix, &j->rc_suffix);
	else if (j->want & TOKQ_FULL)
		j->rc_full = tokenizer_count(tok, j->chunks, j->n, &j->full);
	else if (j->want & TOKQ_SUFFIX)
		j->rc_suffix = tokenizer_count(tok, j->chunks + j->from,
		    j->n - j->from, &j->suffix);
	j->repaired = tokenizer_repaired(tok) - r0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct tokq *q = w->q;
	struct sched_param sp = { 0 };
	struct tokq_job *j;
	bool head;

	/* Counting can wait, intake cannot: a CPU-bound batch thread yields
	 * to the owner's loop when it wakes up (same share of the CPU over
	 * time). Best effort: a failure changes nothing else. */
	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->run_head == NULL)
			pthread_cond_wait(&q->work_cv, &q->mu);
		if (q->stop)
			break;
		j = q->run_head;
		q->run_head = j->run_next;
		if (q->run_head == NULL)
			q->run_tail = NULL;
		pthread_mutex_unlock(&q->mu);

		count(w->tok, j);

		pthread_mutex_lock(&q->mu);
		j->done = true;
		head = j == q->head;
		if (head) {
			pthread_cond_signal(&q->done_cv);
			if (q->notify)
				q->notify(q->arg);
		}
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

void
tokq_stop(struct tokq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
}

static void
stop_workers(struct tokq *q)
{
	tokq_stop(q);
	for (unsigned i = 0; i < q->started; i++)
		pthread_join(q->w[i].th, NULL);
	q->started = 0;
}

int
tokq_new(struct tokq **out, const struct tokq_config *c, char *err,
    size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct tokq *q;
	int rc;

	if (c->nthreads == 0) {
		snprintf(err, errlen, "token queue: no worker threads");
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q) + c->nthreads * sizeof(q->w[0]));
	if (q == NULL) {
		snprintf(err, errlen, "token queue: out of memory");
		return -ENOMEM;
	}
	q->max_bytes = c->max_bytes;
	q->max_jobs = c->max_jobs;
	q->notify = c->notify;
	q->arg = c->arg;
	q->nthreads = c->nthreads;
	/* tokq_wait's timeout is on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if ((rc = pthread_mutex_init(&q->mu, NULL)) != 0) {
		pthread_condattr_destroy(&ca);
		free(q);
		snprintf(err, errlen, "token queue: pthread_mutex_init: %s",
		    strerror(rc));
		return -rc;
	}
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->done_cv, &ca);
	pthread_condattr_destroy(&ca);

	/* Workers take no signals: the owner's loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < c->nthreads; i++) {
		q->w[i].q = q;
		q->w[i].tok = c->toks[i];
		if ((rc = pthread_create(&q->w[i].th, NULL, worker_main,
		    &q->w[i])) != 0)
			break;
		q->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (q->started < c->nthreads) {
		snprintf(err, errlen, "token queue: starting worker thread %u "
		    "of %u: %s", q->started + 1, c->nthreads, strerror(rc));
		tokq_free(q, NULL);
		return -rc;
	}
	*out = q;
	return 0;
}

void
tokq_free(struct tokq *q, void (*release)(struct tokq_job *j))
{
	struct tokq_job *j, *next;

	if (q == NULL)
		return;
	stop_workers(q);
	for (j = q->head; j; j = next) {
		next = j->next;
		if (release)
			release(j);
	}
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->done_cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

bool
tokq_room(const struct tokq *q, size_t bytes)
{
	if (q->njobs == 0)
		return true;
	return q->njobs < q->max_jobs && bytes <= q->max_bytes &&
	    q->bytes <= q->max_bytes - bytes;
}

void
tokq_push(struct tokq *q, struct tokq_job *j)
{
	j->next = j->run_next = NULL;
	j->done = j->want == 0;
	j->rc_full = j->rc_suffix = 0;
	j->full = j->suffix = j->repaired = 0;
	q->bytes += j->bytes;
	q->njobs++;
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (!j->done) {
		if (q->run_tail)
			q->run_tail->run_next = j;
		else
			q->run_head = j;
		q->run_tail = j;
		pthread_cond_signal(&q->work_cv);
	}
	pthread_mutex_unlock(&q->mu);
}

struct tokq_job *
tokq_pop(struct tokq *q)
{
	struct tokq_job *j;

	pthread_mutex_lock(&q->mu);
	j = q->head;
	if (j != NULL && j->done) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	} else {
		j = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	if (j != NULL) {
		q->bytes -= j->bytes;
		q->njobs--;
		j->next = NULL;
	}
	return j;
}

bool
tokq_wait(struct tokq *q, int timeout_ms)
{
	struct timespec until;
	bool done;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->mu);
	while (q->head != NULL && !q->head->done) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->done_cv, &q->mu);
		else if (pthread_cond_timedwait(&q->done_cv, &q->mu,
		    &until) == ETIMEDOUT)
			break;
	}
	done = q->head == NULL || q->head->done;
	pthread_mutex_unlock(&q->mu);
	return done;
}

size_t
tokq_pending(const struct tokq *q)
{
	return q->njobs;
}
