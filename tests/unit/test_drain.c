// SPDX-License-Identifier: MIT
/* drain.c on ordinary memory: the swap-to-zero bookkeeping, and no lost increments. */
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

	(void)state;
	assert_int_equal(drain_init(&d, counters, 10, BASE), 0);
	assert_int_equal(drain_once(&d), 3);
	assert_int_equal(d.pcs[0], BASE + 1);
	assert_int_equal(d.pcs[1], BASE + 4);
	assert_int_equal(d.pcs[2], BASE + 9);
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

	(void)state;
	assert_int_equal(drain_init(&d, counters, 4, BASE), 0);
	assert_int_equal(drain_once(&d), 1);
	assert_int_equal(drain_once(&d), 0);	/* nothing new: no PCs */
	counters[2] = 2;
	counters[0] = 1;
	assert_int_equal(drain_once(&d), 2);
	assert_int_equal(d.pcs[0], BASE);
	assert_int_equal(d.pcs[1], BASE + 2);
	assert_int_equal(d.totals[2], 7);
	assert_int_equal(d.totals[0], 1);
	assert_int_equal(d.ndrains, 3);
	assert_int_equal(d.ndrains_hit, 2);
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
		cmocka_unit_test(test_no_lost_increments_under_concurrent_adds),
	};

	return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
