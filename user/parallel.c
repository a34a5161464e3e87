// SPDX-License-Identifier: MIT
/*
 * A loop over [0, n) on a few pthreads.  Slices are handed out from one
 * atomic counter rather than split up front: function sizes vary by
 * orders of magnitude (a module's few huge functions would otherwise keep
 * one thread busy while the others wait).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "parallel.h"

/* Slices per worker: small enough to even out, large enough to be cheap. */
#define SLICES_PER_WORKER 16

static unsigned forced_workers;

struct run {
	parallel_fn *fn;
	void *ctx;
	size_t n, slice;
	size_t next;		/* atomic: the first item not handed out yet */
	bool stop;		/* atomic: a slice failed */
	pthread_mutex_t lock;	/* guards err and err_lo */
	int err;
	size_t err_lo;		/* first item of the failed slice */
};

struct worker {
	struct run *run;
	unsigned index;
	struct parallel_job *job;	/* NULL, or to do before the loop */
	pthread_t thread;
};

void parallel_set_workers(unsigned n)
{
	forced_workers = n > PARALLEL_MAX_WORKERS ? PARALLEL_MAX_WORKERS : n;
}

/* The CPUs this process may run on (taskset, cpusets), else the online ones. */
static unsigned usable_cpus(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

unsigned parallel_workers(size_t n, size_t grain)
{
	unsigned w;

	if (forced_workers)
		return forced_workers;
	w = usable_cpus();
	if (w > PARALLEL_MAX_WORKERS)
		w = PARALLEL_MAX_WORKERS;
	if (grain && n / grain < w)
		w = n / grain;
	return w ? w : 1;
}

static void run_failed(struct run *r, size_t lo, int err)
{
	pthread_mutex_lock(&r->lock);
	if (!r->err || lo < r->err_lo) {
		r->err = err;
		r->err_lo = lo;
	}
	pthread_mutex_unlock(&r->lock);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELAXED);
}

static void run_slices(struct run *r, unsigned worker)
{
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		size_t lo = __atomic_fetch_add(&r->next, r->slice, __ATOMIC_RELAXED);
		size_t hi = r->n - lo < r->slice ? r->n : lo + r->slice;
		int err;

		if (lo >= r->n)
			break;
		err = r->fn(r->ctx, worker, lo, hi);
		if (err)
			run_failed(r, lo, err);
	}
}

static void run_job(struct parallel_job *job)
{
	if (job)
		job->err = job->fn(job->arg);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	run_job(w->job);
	run_slices(w->run, w->index);
	return NULL;
}

/*
 * Starts a thread with every signal blocked, so that signals still go to
 * the caller's thread (a signalfd, a handler that expects to interrupt
 * it).  Returns 0 or pthread_create()'s error.
 */
static int start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* Starts workers 1..@n-1.  Returns how many started. */
static unsigned start_workers(struct worker *w, unsigned n)
{
	unsigned started;

	for (started = 0; started + 1 < n; started++)
		if (start_thread(&w[started].thread, worker_main, &w[started]))
			break;
	return started;
}

int parallel_run(unsigned nworkers, size_t n, parallel_fn *fn, void *ctx,
		 struct parallel_job *job)
{
	struct worker w[PARALLEL_MAX_WORKERS - 1];
	struct run r = { .fn = fn, .ctx = ctx, .n = n };
	unsigned i, started;

	if (nworkers > PARALLEL_MAX_WORKERS)
		nworkers = PARALLEL_MAX_WORKERS;
	/* One worker: the job, then one call; no thread, no lock. */
	if (nworkers <= 1 || n <= 1) {
		run_job(job);
		return n ? fn(ctx, 0, 0, n) : 0;
	}
	r.slice = n / ((size_t)nworkers * SLICES_PER_WORKER) ?: 1;
	pthread_mutex_init(&r.lock, NULL);
	for (i = 0; i + 1 < nworkers; i++)
		w[i] = (struct worker){ .run = &r, .index = i + 1 };
	w[nworkers - 2].job = job;
	started = start_workers(w, nworkers);
	/* The job's worker did not start: the caller's does the job. */
	if (started < nworkers - 1)
		run_job(job);
	run_slices(&r, 0);
	for (i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	pthread_mutex_destroy(&r.lock);
	return r.err;
}
