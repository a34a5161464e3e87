/* SPDX-License-Identifier: MIT */
/*
 * Runs a loop over [0, n) on a few threads, for the passes of site
 * discovery that decode every function of a module (sites_place.c): each
 * item is independent, and the caller merges what the workers made in
 * item order, so the result is the same on any number of threads.
 */
#ifndef UKCOV_PARALLEL_H
#define UKCOV_PARALLEL_H

#include <stddef.h>

/* Never more threads than this, however many CPUs there are. */
#define PARALLEL_MAX_WORKERS 8

/*
 * Does the items [@lo, @hi) on worker @worker (0..nworkers-1; one thread
 * is always the same worker, so per-worker scratch needs no lock).
 * Returns 0 or a negative errno.
 */
typedef int parallel_fn(void *ctx, unsigned worker, size_t lo, size_t hi);

/*
 * How many workers to use for @n items when each worker should have at
 * least @grain of them to pay for its thread: min(CPUs this process may
 * run on, PARALLEL_MAX_WORKERS, @n / @grain), at least 1.  What
 * parallel_set_workers() set instead, when it did.
 */
unsigned parallel_workers(size_t n, size_t grain);

/*
 * Forces parallel_workers() to return @n (at most PARALLEL_MAX_WORKERS)
 * whatever the item count and CPUs; 0 goes back to choosing.  A knob for
 * tests and benchmarks (1 = the single-threaded path), process-wide: set
 * it while no discovery runs.
 */
void parallel_set_workers(unsigned n);

/*
 * A job one worker of parallel_run() does before its share of the loop:
 * work the loop does not depend on, which then runs beside it on as
 * many CPUs as the loop leaves, and whose worker joins the loop after.
 */
struct parallel_job {
	int (*fn)(void *arg);
	void *arg;
	int err;	/* what fn returned, once parallel_run() has */
};

/*
 * Calls @fn on consecutive slices of [0, @n), each item exactly once,
 * from @nworkers threads (the caller's is worker 0; threads that cannot
 * be created only make it slower).  Slices are handed out in increasing
 * order; after a failure no new slice starts.  @job, when not NULL, runs
 * once, first thing on the last worker (on one worker: before the loop).
 * Every thread has ended when it returns.  Returns 0, or the error of the
 * failing slice that comes first in item order: the error a loop on one
 * thread would return.
 */
int parallel_run(unsigned nworkers, size_t n, parallel_fn *fn, void *ctx,
		 struct parallel_job *job);

#endif /* UKCOV_PARALLEL_H */
