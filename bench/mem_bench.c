// SPDX-License-Identifier: MIT
/*
 * Memory per site: what ukcov holds for each site of a real binary.
 *
 *   mem_bench BIN [dwarf|func|line|bb]
 *
 * Measures, for BIN's function sites (DWARF file:line lookup only with
 * "dwarf"; line and bb sites read it always):
 *   table    the site table: its own count of the bytes it holds
 *            (site_table_bytes(): records, runs, extras, modules, string
 *            pool), the string pool apart, and the heap growth (mallinfo2)
 *            and RSS growth of building it
 *   runtime  the counters (mmapped BPF array, 8 B/site), the drain's totals
 *            (8 B/site) and its fixed PC buffer, after a drain that finds
 *            every site hit and hands all their PCs on
 *   passing  the peak RSS growth while discovering (ELF image, decoded
 *            code, the builders' 80-byte struct sites), and the heap the
 *            line report of the lcov and cobertura formats holds at the end
 * Prints one line:
 *   mem_bench sites N table_per_site T strings_per_site S per_site P
 *     drain_fixed_kib F table_heap_per_site H table_rss_per_site R
 *     runtime_heap_per_site U runtime_rss_per_site V
 *     discovery_peak_rss_per_site D report_heap_per_site Q
 * where P = T + 8 (counter) + 8 (total): what each site costs beyond its
 * strings, the drain's fixed buffer apart.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "drain.h"
#include "probe.h"
#include "sinks/lines.h"
#include "sites.h"
#include "sites_strings.h"

static long long rss_bytes(void)
{
	long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lld %lld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* Starts a new peak: the kernel's "5" to clear_refs resets VmHWM. */
static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static long long heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
}

static int count_pcs(void *ctx, const uint64_t *pcs, size_t n)
{
	(void)pcs;
	*(size_t *)ctx += n;
	return 0;
}

int main(int argc, char **argv)
{
	struct site_options so = { .kind = SITE_KIND_FUNC, .no_dwarf = true };
	struct site_table *t = NULL;
	struct site_module m = { .path = "synthetic", .open_path = "synthetic" };
	struct site_table ft = { .modules = &m, .nmodules = 1, .pc_base = UKCOV_PC_BASE };
	struct probe *p = NULL;
	struct drain d = {};
	const char *why = NULL;
	long long rss0, heap0, rss1, heap1, rss2, heap2, heap3, peak;
	struct line_report *r;
	uint64_t *c;
	size_t n, found = 0, table, strings;
	int err, ret = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: mem_bench BIN [dwarf|func|line|bb]\n");
		return 1;
	}
	if (argc > 2 && strcmp(argv[2], "dwarf") && site_kind_parse(argv[2], &so.kind)) {
		fprintf(stderr, "mem_bench: %s: not dwarf, func, line or bb\n", argv[2]);
		return 1;
	}
	so.no_dwarf = argc == 2 || !strcmp(argv[2], "func");
	/*
	 * A fixed mmap threshold and eager trimming give freed memory back
	 * at once, so that RSS follows what is live rather than glibc's
	 * high-water mark.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
	/*
	 * Loading a BPF object costs memory whatever the site count (libbpf's
	 * state, the mapped kernel BTF ukcov reads offsets from, the maps);
	 * load and close one first so that the RSS growth measured below is
	 * what the sites cost.
	 */
	ft.nsites = m.nsites = 1;
	probe_close(probe_open(&ft));
	rss0 = rss_bytes();
	heap0 = heap_bytes();
	reset_peak();
	t = site_table_new();
	if (!t)
		goto out;
	err = site_table_add_elf(t, argv[1], NULL, &so, &why);
	if (err) {
		fprintf(stderr, "mem_bench: %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	site_table_finish(t);
	peak = bench_proc_bytes("/proc/self/status", "VmHWM:");	/* since reset_peak() */
	rss1 = rss_bytes();
	heap1 = heap_bytes();
	n = t->nsites;
	table = site_table_bytes(t);
	strings = site_strings_bytes(t->strings);

	p = probe_open(t);
	if (!p) {
		fprintf(stderr, "mem_bench: probe_open: %s\n", strerror(errno));
		goto out;
	}
	c = probe_counters(p);
	if (drain_init(&d, c, n, t->pc_base))
		goto out;
	for (size_t i = 0; i < n; i++)
		c[i] = 1;
	drain_once(&d);
	drain_emit(&d, count_pcs, &found);
	rss2 = rss_bytes();
	heap2 = heap_bytes();
	/* What the lcov and cobertura formats build at the end, then free. */
	r = line_report_new(t, d.totals, true);
	if (!r) {
		fprintf(stderr, "mem_bench: line_report_new: %s\n", strerror(errno));
		goto out;
	}
	heap3 = heap_bytes();
	line_report_free(r);
	if (found != n) {
		fprintf(stderr, "mem_bench: drained %zu of %zu\n", found, n);
		goto out;
	}
	printf("mem_bench sites %zu table_per_site %.1f strings_per_site %.1f per_site %.1f "
	       "drain_fixed_kib %zu table_heap_per_site %.1f table_rss_per_site %.1f "
	       "runtime_heap_per_site %.1f runtime_rss_per_site %.1f "
	       "discovery_peak_rss_per_site %.1f report_heap_per_site %.1f\n",
	       n, (double)(table - strings) / n, (double)strings / n,
	       (double)(table - strings) / n + 16, d.cap * sizeof(*d.buf) / 1024,
	       (double)(heap1 - heap0) / n, (double)(rss1 - rss0) / n,
	       (double)(heap2 - heap1) / n, (double)(rss2 - rss1) / n,
	       (double)(peak - rss0) / n, (double)(heap3 - heap2) / n);
	ret = 0;
out:
	drain_fini(&d);
	probe_close(p);
	site_table_free(t);
	return ret;
}
