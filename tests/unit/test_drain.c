// SPDX-License-Identifier: MIT
/* drain.c on ordinary memory: the swap-to-zero bookkeeping, and no lost increments. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "drain.h"

#define BASE 0xffffffff80000000ULL

/* What drain_emit() handed on, in order, and in how many parts. */
struct seen {
	uint64_t pcs[256];
	size_t n, parts;
};

static int collect(void *ctx, const uint64_t *pcs, size_t n)
{
	struct seen *x = ctx;

	assert_true(n > 0);
	assert_true(x->n + n <= 256);
	for (size_t i = 0; i < n; i++)
		x->pcs[x->n++] = pcs[i];
	x->parts++;
	return 0;
}

static struct seen emitted(struct drain *d)
{
	struct seen x = {};

	assert_int_equal(drain_emit(d, collect, &x), 0);
	return x;
}

/* No total keeps a mark once a drain is emitted. */
static void assert_totals_clean(const struct drain *d)
{
	for (size_t i = 0; i < d->nsites; i++)
		assert_false(d->totals[i] & DRAIN_FOUND);
}

static void test_empty_drain_reports_nothing(void **state)
{
	uint64_t counters[8] = {};
	struct drain d;

	(void)state;
	assert_int_equal(drain_init(&d, counters, 8, BASE), 0);
	assert_int_equal(drain_once(&d), 0);
	assert_int_equal(d.ndrains, 1);
	assert_int_equal(d.ndrains_hit, 0);
	assert_int_equal(d.hits, 0);
	drain_fini(&d);
}

static void test_pcs_ascending_and_counters_zeroed(void **state)
{
	uint64_t counters[10] = { [1] = 3, [4] = 1, [9] = 7 };
	struct drain d;
	struct seen x;

	(void)state;
	assert_int_equal(drain_init(&d, counters, 10, BASE), 0);
	assert_int_equal(drain_once(&d), 3);
	x = emitted(&d);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.pcs[0], BASE + 1);
	assert_int_equal(x.pcs[1], BASE + 4);
	assert_int_equal(x.pcs[2], BASE + 9);
	for (int i = 0; i < 10; i++)
		assert_int_equal(counters[i], 0);
	assert_int_equal(d.totals[1], 3);
	assert_int_equal(d.totals[4], 1);
	assert_int_equal(d.totals[9], 7);
	assert_int_equal(d.hits, 11);
	drain_fini(&d);
}

static void test_totals_accumulate_across_drains(void **state)
{
	uint64_t counters[4] = { [2] = 5 };
	struct drain d;
	struct seen x;

	(void)state;
	assert_int_equal(drain_init(&d, counters, 4, BASE), 0);
	assert_int_equal(drain_once(&d), 1);
	assert_int_equal(drain_once(&d), 0);	/* nothing new: no PCs */
	counters[2] = 2;
	counters[0] = 1;
	assert_int_equal(drain_once(&d), 2);
	x = emitted(&d);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.pcs[0], BASE);
	assert_int_equal(x.pcs[1], BASE + 2);
	assert_int_equal(d.totals[2], 7);
	assert_int_equal(d.totals[0], 1);
	assert_int_equal(d.ndrains, 3);
	assert_int_equal(d.ndrains_hit, 2);
	drain_fini(&d);
}

/*
 * More sites found than the buffer holds: the rest come from the marks
 * in the totals, in order, in buffer-sized parts, and leave no mark.
 */
static void test_more_found_than_buffered(void **state)
{
	uint64_t counters[40] = {};
	struct drain d;
	struct seen x;

	(void)state;
	assert_int_equal(drain_init_chunk(&d, counters, 40, BASE, 4), 0);
	for (int i = 3; i < 40; i += 3)
		counters[i] = i;
	assert_int_equal(drain_once(&d), 13);
	x = emitted(&d);
	assert_int_equal(x.n, 13);
	assert_int_equal(x.parts, 4);	/* 4 buffered, then 4 + 4 + 1 marked */
	for (size_t k = 0; k < 13; k++)
		assert_int_equal(x.pcs[k], BASE + 3 + 3 * k);
	assert_totals_clean(&d);
	for (int i = 3; i < 40; i += 3)
		assert_int_equal(d.totals[i], (uint64_t)i);
	assert_int_equal(d.hits, 3 * (13 * 14 / 2));
	/* The next drain starts clean. */
	counters[1] = 1;
	assert_int_equal(drain_once(&d), 1);
	x = emitted(&d);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.pcs[0], BASE + 1);
	drain_fini(&d);
}

/* Drops the PCs of odd sites; fails when told to. */
static int keep_even(void *ctx, uint64_t *pcs, size_t *n)
{
	size_t k = 0;

	if (ctx)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (!((pcs[i] - BASE) & 1))
			pcs[k++] = pcs[i];
	*n = k;
	return 0;
}

static void test_filter_buffered_and_marked(void **state)
{
	uint64_t counters[30] = {};
	size_t chunk, n;
	struct drain d;
	struct seen x;

	(void)state;
	/* All in the buffer, then most of them marked. */
	for (chunk = 64; chunk >= 2; chunk /= 8) {
		assert_int_equal(drain_init_chunk(&d, counters, 30, BASE, chunk), 0);
		for (int i = 0; i < 30; i++)
			counters[i] = 1;
		assert_int_equal(drain_once(&d), 30);
		assert_int_equal(drain_filter(&d, keep_even, NULL, &n), 0);
		assert_int_equal(n, 15);
		x = emitted(&d);
		assert_int_equal(x.n, 15);
		for (size_t k = 0; k < 15; k++)
			assert_int_equal(x.pcs[k], BASE + 2 * k);
		/* Filtered out of the report, not out of the counts. */
		for (int i = 0; i < 30; i++)
			assert_int_equal(d.totals[i], 1);
		drain_fini(&d);
	}
}

/* A failing filter drops the whole drain, marks included. */
static void test_filter_error_forgets(void **state)
{
	uint64_t counters[30] = {};
	size_t n = 99;
	struct drain d;
	struct seen x;

	(void)state;
	assert_int_equal(drain_init_chunk(&d, counters, 30, BASE, 4), 0);
	for (int i = 0; i < 30; i++)
		counters[i] = 2;
	assert_int_equal(drain_once(&d), 30);
	assert_int_equal(drain_filter(&d, keep_even, (void *)1, &n), -ENOMEM);
	assert_int_equal(n, 0);
	assert_totals_clean(&d);
	x = emitted(&d);
	assert_int_equal(x.n, 0);
	assert_int_equal(d.totals[29], 2);
	drain_fini(&d);
}

static int fail_second(void *ctx, const uint64_t *pcs, size_t n)
{
	int *calls = ctx;

	(void)pcs, (void)n;
	return ++*calls == 2 ? -EIO : 0;
}

/* An emit that fails stops the parts and still leaves no mark. */
static void test_emit_error_forgets(void **state)
{
	uint64_t counters[30] = {};
	struct drain d;
	int calls = 0;

	(void)state;
	assert_int_equal(drain_init_chunk(&d, counters, 30, BASE, 4), 0);
	for (int i = 0; i < 30; i++)
		counters[i] = 1;
	assert_int_equal(drain_once(&d), 30);
	assert_int_equal(drain_emit(&d, fail_second, &calls), -EIO);
	assert_int_equal(calls, 2);
	assert_totals_clean(&d);
	drain_fini(&d);
}

/*
 * Writers add with atomic RMW, as the BPF program does, while the main
 * thread drains: every increment must be seen exactly once.
 */
#define NSITES 64
#define WRITERS 2
#define ROUNDS 40
#define ADDS_PER_ROUND 10000

static uint64_t shared[NSITES];
static volatile int writers_done;
static volatile uint64_t drains_done;

/*
 * Each round waits until the drainer has drained once more, so drains are
 * guaranteed to interleave with the adds however the threads are scheduled.
 */
static void *writer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (uint64_t round = 0; round < ROUNDS; round++) {
		while (__atomic_load_n(&drains_done, __ATOMIC_ACQUIRE) < round)
			sched_yield();
		for (int i = 0; i < ADDS_PER_ROUND; i++)
			__sync_fetch_and_add(&shared[rand_r(&seed) % NSITES], 1);
	}
	__atomic_add_fetch(&writers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_no_lost_increments_under_concurrent_adds(void **state)
{
	pthread_t th[WRITERS];
	struct drain d;

	(void)state;
	assert_int_equal(drain_init(&d, shared, NSITES, BASE), 0);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(uintptr_t)(i + 1)), 0);
	while (__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE) < WRITERS) {
		drain_once(&d);
		__atomic_add_fetch(&drains_done, 1, __ATOMIC_RELEASE);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	drain_once(&d);
	assert_true(d.ndrains > ROUNDS);
	assert_int_equal(d.hits, (uint64_t)WRITERS * ROUNDS * ADDS_PER_ROUND);
	drain_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_drain_reports_nothing),
		cmocka_unit_test(test_pcs_ascending_and_counters_zeroed),
		cmocka_unit_test(test_totals_accumulate_across_drains),
		cmocka_unit_test(test_more_found_than_buffered),
		cmocka_unit_test(test_filter_buffered_and_marked),
		cmocka_unit_test(test_filter_error_forgets),
		cmocka_unit_test(test_emit_error_forgets),
		cmocka_unit_test(test_no_lost_increments_under_concurrent_adds),
	};

	return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
