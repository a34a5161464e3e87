// SPDX-License-Identifier: MIT
/*
 * Memory per site: what ukcov holds for each site of a real binary.
 *
 *   mem_bench BIN [dwarf]
 *
 * Measures, for BIN's function sites (DWARF file:line lookup only with
 * "dwarf"):
 *   table    the site table (struct site, modules, interned strings): the
 *            heap growth (mallinfo2: exact bytes) and the RSS growth
 *   runtime  the counters (mmapped BPF array, 8 B/site), the drain's totals
 *            and PC scratch (8 + 8 B/site), every page touched as a drain
 *            that finds all sites hit touches them
 * and the structural figure, sizeof(struct site) + 24 B, strings apart.
 * Prints one line:
 *   mem_bench sites N struct_site B strings_per_site S table_heap_per_site H
 *     table_rss_per_site R runtime_rss_per_site U
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drain.h"
#include "probe.h"
#include "sites.h"

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

static long long heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
}

static int cmp_ptr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return x < y ? -1 : x > y;
}

/* Bytes of the distinct strings the sites point to (interned: shared). */
static size_t string_bytes(const struct site_table *t)
{
	const char **v = malloc(2 * t->nsites * sizeof(*v));
	size_t n = 0, bytes = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < t->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		v[n++] = s.func;
		if (s.file)
			v[n++] = s.file;
	}
	qsort(v, n, sizeof(*v), cmp_ptr);
	for (size_t i = 0; i < n; i++)
		if (!i || v[i] != v[i - 1])
			bytes += strlen(v[i]) + 1;
	free(v);
	return bytes;
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
	long long rss0, heap0, rss1, heap1, rss2, heap2;
	uint64_t *c;
	size_t n, found;
	int err, ret = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: mem_bench BIN [dwarf]\n");
		return 1;
	}
	so.no_dwarf = !(argc > 2 && !strcmp(argv[2], "dwarf"));
	/*
	 * A fixed mmap threshold and eager trimming give freed memory back
	 * at once, so that RSS follows what is live rather than glibc's
	 * high-water mark.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
	/*
	 * Loading a BPF object costs a few MiB whatever the site count (libbpf
	 * parses the kernel's BTF); load and close one first so that the RSS
	 * growth measured below is what the sites cost.
	 */
	ft.nsites = m.nsites = 1;
	probe_close(probe_open(&ft));
	rss0 = rss_bytes();
	heap0 = heap_bytes();
	t = site_table_new();
	if (!t)
		goto out;
	err = site_table_add_elf(t, argv[1], NULL, &so, &why);
	if (err) {
		fprintf(stderr, "mem_bench: %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	site_table_finish(t);
	rss1 = rss_bytes();
	heap1 = heap_bytes();
	n = t->nsites;

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
	found = drain_once(&d);
	rss2 = rss_bytes();
	heap2 = heap_bytes();
	if (found != n) {
		fprintf(stderr, "mem_bench: drained %zu of %zu\n", found, n);
		goto out;
	}
	printf("mem_bench sites %zu struct_site %zu strings_per_site %.1f "
	       "table_heap_per_site %.1f table_rss_per_site %.1f runtime_heap_per_site %.1f "
	       "runtime_rss_per_site %.1f\n",
	       n, sizeof(struct site), (double)string_bytes(t) / n,
	       (double)(heap1 - heap0) / n, (double)(rss1 - rss0) / n,
	       (double)(heap2 - heap1) / n, (double)(rss2 - rss1) / n);
	ret = 0;
out:
	drain_fini(&d);
	probe_close(p);
	site_table_free(t);
	return ret;
}
