// SPDX-License-Identifier: MIT
/*
 * Drain time for NSITES counters (default 1M) with 0%, 1% and 100% of them
 * hit, through a whole drain (drain_once(), then drain_emit() handing the
 * PCs to a callback that counts them): once on plain memory (the same code path, no
 * privileges needed) and once on a real mmapped BPF array from probe_open()
 * with a synthetic table (skipped, with a note, when that fails).
 *
 *   drain_bench [NSITES] [REPS]
 *
 * Each timed drain starts with cold caches (a 64 MiB scratch buffer is
 * written first), which is the steady state: between two drains, 100 ms
 * apart, the target has run.  Prints medians of REPS (default 11):
 *   drain_bench MEM hit P% sites N found K cold_ms X warm_ms Y
 * K is the number of PCs emitted, checked against the number of counters set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "drain.h"
#include "probe.h"
#include "sites.h"

#define MAX_REPS 51
#define SCRATCH (64u << 20)

static char *scratch;

static int count_pcs(void *ctx, const uint64_t *pcs, size_t n)
{
	(void)pcs;
	*(size_t *)ctx += n;
	return 0;
}

/* One drain as the session does it: swap, then hand the PCs on. */
static size_t drain_all(struct drain *d)
{
	size_t n = 0;

	drain_once(d);
	drain_emit(d, count_pcs, &n);
	return n;
}

/* Sets every (100/pct)-th counter to 1; returns how many it set. */
static size_t fill(uint64_t *c, size_t n, int pct)
{
	size_t set = 0;

	memset(c, 0, n * sizeof(*c));
	if (!pct)
		return 0;
	for (size_t i = 0; i < n; i += 100 / pct, set++)
		c[i] = 1;
	return set;
}

static int bench(const char *mem, uint64_t *counters, size_t n, int reps)
{
	static const int pcts[] = { 0, 1, 100 };
	struct drain d;
	int err;

	err = drain_init(&d, counters, n, UKCOV_PC_BASE);
	if (err)
		return err;
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		double cold[MAX_REPS], warm[MAX_REPS];
		size_t set = 0, found = 0;

		for (int r = 0; r < reps; r++) {
			double t0;

			set = fill(counters, n, pcts[k]);
			memset(scratch, r, SCRATCH);
			t0 = bench_now_ms();
			found = drain_all(&d);
			cold[r] = bench_now_ms() - t0;

			fill(counters, n, pcts[k]);
			drain_all(&d);		/* warms the caches */
			fill(counters, n, pcts[k]);
			t0 = bench_now_ms();
			drain_all(&d);
			warm[r] = bench_now_ms() - t0;
			if (found != set) {
				fprintf(stderr, "drain_bench: drained %zu of %zu counters\n",
					found, set);
				drain_fini(&d);
				return -EIO;
			}
		}
		printf("drain_bench %s hit %d%% sites %zu found %zu cold_ms %.3f warm_ms %.3f\n",
		       mem, pcts[k], n, found, bench_median(cold, reps), bench_median(warm, reps));
	}
	drain_fini(&d);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	int reps = argc > 2 ? atoi(argv[2]) : 11;
	struct site_module m = { .path = "synthetic", .open_path = "synthetic" };
	struct site_table ft = { .modules = &m, .nmodules = 1, .pc_base = UKCOV_PC_BASE };
	uint64_t *plain = NULL;
	struct probe *p = NULL;
	int err, ret = 1;

	if (n < 100 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: drain_bench [NSITES>=100] [REPS<=%d]\n", MAX_REPS);
		return 1;
	}
	scratch = malloc(SCRATCH);
	plain = calloc(n, sizeof(*plain));
	if (!scratch || !plain)
		goto out;
	err = bench("plain", plain, n, reps);
	if (err)
		goto out;

	/*
	 * probe_open() needs only the site count: the counters map is sized
	 * from it, and no site is attached here.
	 */
	ft.nsites = n;
	m.nsites = n;
	p = probe_open(&ft);
	if (!p)
		printf("drain_bench bpf skipped: probe_open: %s\n", strerror(errno));
	else if (bench("bpf", probe_counters(p), n, reps))
		goto out;
	ret = 0;
out:
	probe_close(p);
	free(plain);
	free(scratch);
	return ret;
}
