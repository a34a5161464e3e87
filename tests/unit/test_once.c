// SPDX-License-Identifier: MIT
/*
 * once.c's pure parts: the filter that emits each PC once, what may be
 * written back over a breakpoint, /proc/PID/maps lines, the replacement
 * budget; and --mode parsing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "once.h"
#include "procfs.h"
#include "options.h"
#include "sites.h"

#define BASE 0xffffffff80000000ULL

/* A table with @nsites sites and no module: all the filter looks at. */
static struct once *filter_only(struct site_table *t, size_t nsites)
{
	memset(t, 0, sizeof(*t));
	t->nsites = nsites;
	t->pc_base = BASE;
	return once_new(t, NULL, false);
}

static void test_filter_keeps_first_sighting_only(void **state)
{
	uint64_t a[] = { BASE + 1, BASE + 4, BASE + 9 };
	uint64_t b[] = { BASE + 0, BASE + 4, BASE + 9, BASE + 10 };
	struct once_stats st;
	struct site_table t;
	struct once *o = filter_only(&t, 16);
	size_t n;

	(void)state;
	assert_non_null(o);
	n = 3;
	assert_int_equal(once_filter(o, BASE, a, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(a[0], BASE + 1);
	assert_int_equal(a[2], BASE + 9);
	/* 4 and 9 again: only 0 and 10 are new, in order. */
	n = 4;
	assert_int_equal(once_filter(o, BASE, b, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], BASE + 0);
	assert_int_equal(b[1], BASE + 10);
	/* A drain of old sites only emits nothing. */
	b[0] = BASE + 1;
	n = 1;
	assert_int_equal(once_filter(o, BASE, b, &n), 0);
	assert_int_equal(n, 0);
	once_get_stats(o, &st);
	assert_int_equal(st.reported, 5);
	once_free(o);
}

static void test_filter_grows_past_initial_sites(void **state)
{
	/* Modules appended while running (--dlopen) have higher indexes. */
	uint64_t pcs[] = { BASE + 3, BASE + 5000, BASE + 70000 };
	struct site_table t;
	struct once *o = filter_only(&t, 8);
	size_t n = 3;

	(void)state;
	assert_non_null(o);
	assert_int_equal(once_filter(o, BASE, pcs, &n), 0);
	assert_int_equal(n, 3);
	n = 3;
	assert_int_equal(once_filter(o, BASE, pcs, &n), 0);
	assert_int_equal(n, 0);
	once_free(o);
}

static void test_filter_empty_drain(void **state)
{
	struct site_table t;
	struct once *o = filter_only(&t, 4);
	uint64_t dummy = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(once_filter(o, BASE, &dummy, &n), 0);
	assert_int_equal(n, 0);
	once_free(o);
}

#define RACE_SITES 4096
#define RACE_ROUNDS 64

struct racer {
	struct once *o;
	size_t emitted[RACE_SITES];	/* times each site was kept */
	unsigned int seed;
};

/* Drains of random subsets, as the ring's thread and the loop both do. */
static void *race(void *arg)
{
	struct racer *r = arg;
	uint64_t *pcs = malloc(RACE_SITES * sizeof(*pcs));

	for (int round = 0; pcs && round < RACE_ROUNDS; round++) {
		size_t n = 0;

		for (size_t i = 0; i < RACE_SITES; i++)
			if (rand_r(&r->seed) % 8 == 0)
				pcs[n++] = BASE + i;
		if (once_filter(r->o, BASE, pcs, &n))
			break;
		for (size_t i = 0; i < n; i++)
			r->emitted[pcs[i] - BASE]++;
	}
	free(pcs);
	return NULL;
}

static void test_filter_two_threads_emit_each_site_once(void **state)
{
	static struct racer r[2];
	struct site_table t;
	struct once *o = filter_only(&t, RACE_SITES);
	pthread_t tid[2];
	size_t total = 0;

	(void)state;
	assert_non_null(o);
	for (int i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].o = o;
		r[i].seed = 1234 + i;
		assert_int_equal(pthread_create(&tid[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	for (size_t i = 0; i < RACE_SITES; i++) {
		size_t e = r[0].emitted[i] + r[1].emitted[i];

		assert_true(e <= 1);
		total += e;
	}
	/* 2 x 64 rounds at 1/8 each: every site shows up with near certainty. */
	assert_true(total > RACE_SITES - 8);
	once_free(o);
}

static void test_classify(void **state)
{
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t mov[] = { 0xc7, 0x05, 0xcd, 0x2e, 0x00 };
	uint8_t mem[5];

	(void)state;
	/* The uprobe's int3 over the first byte: put it back. */
	memcpy(mem, mov, 5);
	mem[0] = 0xcc;
	assert_int_equal(once_classify(mov, mem, 5), ONCE_FIX_RESTORE);
	memcpy(mem, nop5, 5);
	mem[0] = 0xcc;
	assert_int_equal(once_classify(nop5, mem, 5), ONCE_FIX_RESTORE);
	/* Restored already (by us, or inherited through fork). */
	assert_int_equal(once_classify(mov, mov, 5), ONCE_FIX_DONE);
	/* The kernel's optimised nop5: a call of its trampoline. */
	mem[0] = 0xe8;
	mem[1] = 0x12;
	mem[2] = 0x34;
	mem[3] = 0x56;
	mem[4] = 0x78;
	assert_int_equal(once_classify(nop5, mem, 5), ONCE_FIX_UNSAFE);
	/* An int3 followed by bytes the file does not have: someone else's. */
	memcpy(mem, mov, 5);
	mem[0] = 0xcc;
	mem[3] = 0x90;
	assert_int_equal(once_classify(mov, mem, 5), ONCE_FIX_UNSAFE);
	/* Any other first byte. */
	memcpy(mem, mov, 5);
	mem[0] = 0x90;
	assert_int_equal(once_classify(mov, mem, 5), ONCE_FIX_UNSAFE);
	/* At the end of a mapping only the first byte is known. */
	mem[0] = 0xcc;
	assert_int_equal(once_classify(mov, mem, 1), ONCE_FIX_RESTORE);
	assert_int_equal(once_classify(mov, mem, 0), ONCE_FIX_UNSAFE);
}

static void test_parse_maps_line(void **state)
{
	struct procfs_mapping m;

	(void)state;
	assert_int_equal(procfs_parse_maps_line(
		"555e6591c000-555e6591d000 r-xp 00001000 fe:00 5308473                    /x/server\n",
		&m), 0);
	assert_int_equal(m.start, 0x555e6591c000ULL);
	assert_int_equal(m.end, 0x555e6591d000ULL);
	assert_int_equal(m.offset, 0x1000);
	assert_int_equal(m.major, 0xfe);
	assert_int_equal(m.minor, 0);
	assert_int_equal(m.ino, 5308473);
	assert_true(m.private_ro);
	/* Writable or shared mappings never carry uprobes. */
	assert_int_equal(procfs_parse_maps_line(
		"555e6591f000-555e65920000 rw-p 00003000 fe:00 5308473 /x/server", &m), 0);
	assert_false(m.private_ro);
	assert_int_equal(procfs_parse_maps_line(
		"7f0000000000-7f0000001000 r-xs 00000000 08:01 12 /dev/shm/x", &m), 0);
	assert_false(m.private_ro);
	/* Anonymous: inode 0, no path. */
	assert_int_equal(procfs_parse_maps_line(
		"7ffd1000-7ffd2000 r-xp 00000000 00:00 0 ", &m), 0);
	assert_int_equal(m.ino, 0);
	assert_int_equal(procfs_parse_maps_line("garbage\n", &m), -EINVAL);
	assert_int_equal(procfs_parse_maps_line("2000-1000 r-xp 0 00:00 0", &m), -EINVAL);
}

static void test_replace_budget(void **state)
{
	(void)state;
	/* At most 1/ONCE_REPLACE_DUTY of the time: 3x the cost after the end. */
	assert_int_equal(once_next_replace_ns(1000, 100), 1000 + 100 * (ONCE_REPLACE_DUTY - 1));
	assert_int_equal(once_next_replace_ns(1000, 0), 1000);
}

static void test_drain_pace(void **state)
{
	const uint64_t max = 100000;	/* -i 100ms */

	(void)state;
	assert_int_equal(once_first_wait_us(max), ONCE_FIRST_WAIT_US);
	assert_int_equal(once_first_wait_us(500), 500);	/* -i below the start */
	/* Nothing new: the wait doubles up to --interval, and stays there. */
	assert_int_equal(once_next_wait_us(1000, max, false, 10), 2000);
	assert_int_equal(once_next_wait_us(64000, max, false, 10), max);
	assert_int_equal(once_next_wait_us(max, max, false, 10), max);
	/* New sites: back to the start. */
	assert_int_equal(once_next_wait_us(max, max, true, 10), ONCE_FIRST_WAIT_US);
	/* A drain that took 2 ms makes the next wait at least 20x that... */
	assert_int_equal(once_next_wait_us(1000, max, true, 2000), 2000 * ONCE_COST_RATIO);
	/* ...but never past --interval, however long it took. */
	assert_int_equal(once_next_wait_us(1000, max, true, UINT64_MAX / 2), max);
	assert_int_equal(once_next_wait_us(UINT64_MAX, UINT64_MAX, false, 0), UINT64_MAX);
}

static void test_mode_option(void **state)
{
	struct collect_opts o;

	(void)state;
	collect_opts_init(&o);
	assert_int_equal(o.mode, COLLECT_COUNT);
	assert_int_equal(collect_opts_parse(&o, OPT_MODE, "once"), 0);
	assert_int_equal(o.mode, COLLECT_ONCE);
	assert_int_equal(collect_opts_parse(&o, OPT_MODE, "count"), 0);
	assert_int_equal(o.mode, COLLECT_COUNT);
	assert_int_equal(collect_opts_parse(&o, OPT_MODE, "twice"), -1);
	assert_int_equal(collect_opts_parse(&o, OPT_MODE, ""), -1);
	assert_int_equal(o.mode, COLLECT_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_keeps_first_sighting_only),
		cmocka_unit_test(test_filter_grows_past_initial_sites),
		cmocka_unit_test(test_filter_empty_drain),
		cmocka_unit_test(test_filter_two_threads_emit_each_site_once),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse_maps_line),
		cmocka_unit_test(test_replace_budget),
		cmocka_unit_test(test_drain_pace),
		cmocka_unit_test(test_mode_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
