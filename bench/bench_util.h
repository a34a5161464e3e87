/* SPDX-License-Identifier: MIT */
/* What the C benchmark tools share: a clock, a median, a /proc reading. */
#ifndef UKCOV_BENCH_UTIL_H
#define UKCOV_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the @n values at @v (sorted in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The "KEY: N kB" line of the /proc file @path (/proc/meminfo,
 * /proc/self/status), in bytes; 0 when unreadable.  @key includes the
 * colon: "Slab:".
 */
static inline long long bench_proc_bytes(const char *path, const char *key)
{
	char line[256], fmt[64];
	long long kb = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	snprintf(fmt, sizeof(fmt), "%s %%lld kB", key);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

#endif /* UKCOV_BENCH_UTIL_H */
