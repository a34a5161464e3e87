// SPDX-License-Identifier: MIT
/*
 * Attach and detach time into a process that is already running, for 1k,
 * 10k and 100k sites: ukcov's way (probe_open + probe_attach_module: one
 * uprobe.multi link for all sites), and the same sites attached with
 * bpf_program__attach_uprobe_multi directly, on one link and split over
 * SHARDS links.
 *
 *   attach_bench BIN [REPS]
 *
 * BIN must run until killed (bench/gen_funcs.sh builds one with 100k
 * functions).  Prints one line per (variant, size) with the median of REPS
 * (default 3) runs, in milliseconds:
 *   attach_bench probe_api|direct links L sites N load_ms X attach_ms Y detach_ms Z
 * and one line for discovering BIN's sites, and the kernel slab growth
 * while the largest one-link attach is live (approximate: other processes
 * allocate too).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "bench_util.h"
#include "empty.skel.h"
#include "probe.h"
#include "sites.h"
#include "target.h"

#define SHARDS 10
#define MAX_REPS 15

/* One link over the first @n sites, through ukcov's probe API. */
static int one_link(struct site_table *t, size_t n, pid_t pid, double ms[3],
		    long long *slab)
{
	size_t saved = t->nsites;
	struct probe *p;
	double t0, t1, t2, t3;
	long long s0 = 0;
	int err;

	t->nsites = t->modules[0].nsites = n;
	t0 = bench_now_ms();
	p = probe_open(t);
	if (!p) {
		err = -errno;
		goto out;
	}
	t1 = bench_now_ms();
	if (slab)
		s0 = bench_proc_bytes("/proc/meminfo", "Slab:");
	err = probe_attach_module(p, 0, NULL, pid);
	t2 = bench_now_ms();
	if (slab)
		*slab = bench_proc_bytes("/proc/meminfo", "Slab:") - s0;
	if (err) {
		probe_close(p);
		goto out;
	}
	probe_detach(p);
	t3 = bench_now_ms();
	probe_close(p);
	ms[0] = t1 - t0;
	ms[1] = t2 - t1;
	ms[2] = t3 - t2;
out:
	t->nsites = t->modules[0].nsites = saved;
	return err;
}

/*
 * The first @n sites over @nlinks links attached with
 * bpf_program__attach_uprobe_multi() directly, with the empty program:
 * what is measured is the uprobe machinery, the same for any program.
 */
static int direct(const struct site_table *t, size_t n, int nlinks, pid_t pid,
		  double ms[3])
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	struct bpf_link *links[SHARDS] = {};
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	struct empty_bpf *skel = NULL;
	size_t per = n / nlinks;
	double t0, t1, t2, t3;
	int err = 0;

	offsets = calloc(n, sizeof(*offsets));
	cookies = calloc(n, sizeof(*cookies));
	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		offsets[i] = site_probe_offset(t, i);
		cookies[i] = i;
	}
	t0 = bench_now_ms();
	skel = empty_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		goto out;
	}
	t1 = bench_now_ms();
	for (int s = 0; s < nlinks; s++) {
		opts.offsets = offsets + s * per;
		opts.cookies = cookies + s * per;
		opts.cnt = per;
		links[s] = bpf_program__attach_uprobe_multi(skel->progs.empty, pid,
							    t->modules[0].open_path,
							    NULL, &opts);
		if (!links[s]) {
			err = -errno;
			goto out;
		}
	}
	t2 = bench_now_ms();
	for (int s = 0; s < nlinks; s++) {
		bpf_link__destroy(links[s]);
		links[s] = NULL;
	}
	t3 = bench_now_ms();
	ms[0] = t1 - t0;
	ms[1] = t2 - t1;
	ms[2] = t3 - t2;
out:
	for (int s = 0; s < nlinks; s++)
		bpf_link__destroy(links[s]);
	empty_bpf__destroy(skel);
	free(offsets);
	free(cookies);
	return err;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };
	struct site_options so = { .kind = SITE_KIND_FUNC, .no_dwarf = true };
	struct target_child child = { .pid = -1, .go_fd = -1, .exec_fd = -1 };
	char *targv[2] = { NULL, NULL };
	struct site_table *t = NULL;
	const char *why = NULL;
	long long slab = 0;
	int reps = argc > 2 ? atoi(argv[2]) : 3;
	double t0, disc;
	sigset_t mask;
	int err, ret = 1;

	if (argc < 2 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: attach_bench BIN [REPS<=%d]\n", MAX_REPS);
		return 1;
	}
	targv[0] = argv[1];

	t0 = bench_now_ms();
	t = site_table_new();
	if (!t)
		goto out;
	err = site_table_add_elf(t, argv[1], NULL, &so, &why);
	if (err) {
		fprintf(stderr, "attach_bench: %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	site_table_finish(t);
	disc = bench_now_ms() - t0;
	printf("attach_bench discover sites %zu ms %.1f\n", t->nsites, disc);

	sigprocmask(SIG_SETMASK, NULL, &mask);
	err = target_spawn(argv[1], targv, &mask, NULL, &child);
	if (!err)
		err = target_release(&child);
	if (err) {
		fprintf(stderr, "attach_bench: starting %s: %s\n", argv[1], strerror(-err));
		goto out;
	}

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		/* ukcov's probe API; the empty program on 1 and SHARDS links */
		static const char *const names[3] = { "probe_api", "direct", "direct" };
		static const int links[3] = { 1, 1, SHARDS };
		double v[3][3][MAX_REPS];

		if (n > t->nsites)
			break;
		for (int r = 0; r < reps; r++) {
			for (int s = 0; s < 3; s++) {
				double ms[3] = { 0, 0, 0 };

				if (s == 0)
					err = one_link(t, n, child.pid, ms,
						       k == 2 && r == 0 ? &slab : NULL);
				else
					err = direct(t, n, links[s], child.pid, ms);
				if (err) {
					fprintf(stderr, "attach_bench: %s, %d links, %zu sites: %s\n",
						names[s], links[s], n, strerror(-err));
					goto out;
				}
				for (int i = 0; i < 3; i++)
					v[s][i][r] = ms[i];
			}
		}
		for (int s = 0; s < 3; s++)
			printf("attach_bench %s links %d sites %zu load_ms %.1f attach_ms %.1f detach_ms %.1f\n",
			       names[s], links[s], n, bench_median(v[s][0], reps),
			       bench_median(v[s][1], reps), bench_median(v[s][2], reps));
		if (k == 2)
			printf("attach_bench slab_delta_bytes %lld per_site %.0f\n",
			       slab, (double)slab / n);
	}
	ret = 0;
out:
	target_discard(&child);
	site_table_free(t);
	return ret;
}
