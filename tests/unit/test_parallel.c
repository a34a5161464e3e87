// SPDX-License-Identifier: MIT
/*
 * Unit tests of user/parallel.c and of the site discovery passes that run
 * on it (user/sites_place.c, sites_entries.c, sites_line.c, sites_bb.c).
 *
 * Truth: for the loop, counts kept here of what each call was given; for
 * discovery, the table the single-threaded path builds
 * (parallel_set_workers(1): one worker, no thread, the passes in function
 * order), which every other worker count must reproduce field by field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "parallel.h"
#include "sites.h"

/* ---- the loop ------------------------------------------------------------ */

struct count_ctx {
	unsigned *hits;		/* per item: how many calls covered it */
	size_t calls;		/* atomic */
	unsigned max_worker;	/* atomic max */
	size_t fail_at;		/* the slice holding it fails with -EIO; SIZE_MAX: none */
};

static int count_items(void *arg, unsigned worker, size_t lo, size_t hi)
{
	struct count_ctx *c = arg;
	unsigned seen = __atomic_load_n(&c->max_worker, __ATOMIC_RELAXED);

	while (worker > seen &&
	       !__atomic_compare_exchange_n(&c->max_worker, &seen, worker, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
	for (size_t i = lo; i < hi; i++)
		__atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
	if (c->fail_at != SIZE_MAX && lo <= c->fail_at && c->fail_at < hi)
		return -EIO;
	/* Every slice after the failing one fails otherwise: it must not win. */
	if (c->fail_at != SIZE_MAX && lo > c->fail_at)
		return -ENOMEM;
	return 0;
}

static void test_each_item_once(void **state)
{
	const size_t n = 10007;
	struct count_ctx c = { .fail_at = SIZE_MAX };

	(void)state;
	c.hits = calloc(n, sizeof(*c.hits));
	assert_non_null(c.hits);
	assert_int_equal(parallel_run(4, n, count_items, &c, NULL), 0);
	for (size_t i = 0; i < n; i++)
		if (c.hits[i] != 1)
			fail_msg("item %zu done %u times", i, c.hits[i]);
	assert_true(c.max_worker < 4);
	/* Sliced: more calls than workers, so the workers share the items. */
	assert_true(c.calls > 4);
	free(c.hits);
}

static void test_one_worker_one_call(void **state)
{
	const size_t n = 1000;
	struct count_ctx c = { .fail_at = SIZE_MAX };

	(void)state;
	c.hits = calloc(n, sizeof(*c.hits));
	assert_non_null(c.hits);
	assert_int_equal(parallel_run(1, n, count_items, &c, NULL), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.max_worker, 0);
	assert_int_equal(c.hits[0], 1);
	assert_int_equal(c.hits[n - 1], 1);
	free(c.hits);
}

static void test_no_items_no_call(void **state)
{
	struct count_ctx c = { .fail_at = SIZE_MAX };

	(void)state;
	assert_int_equal(parallel_run(4, 0, count_items, &c, NULL), 0);
	assert_int_equal(c.calls, 0);
}

static void test_first_error_in_item_order(void **state)
{
	const size_t n = 10000;

	(void)state;
	for (int round = 0; round < 20; round++) {
		struct count_ctx c = { .fail_at = 5000 };

		c.hits = calloc(n, sizeof(*c.hits));
		assert_non_null(c.hits);
		assert_int_equal(parallel_run(4, n, count_items, &c, NULL), -EIO);
		/* Everything before the failing slice was done, once. */
		for (size_t i = 0; i < 5000; i++)
			assert_int_equal(c.hits[i], 1);
		free(c.hits);
	}
}

static void test_workers_knob(void **state)
{
	(void)state;
	parallel_set_workers(3);
	assert_int_equal(parallel_workers(1, 1000), 3);
	parallel_set_workers(1000);
	assert_int_equal(parallel_workers(1, 1000), PARALLEL_MAX_WORKERS);
	parallel_set_workers(0);
	/* Too few items for a second thread to pay. */
	assert_int_equal(parallel_workers(10, 256), 1);
	assert_true(parallel_workers(1u << 20, 1) >= 1);
	assert_true(parallel_workers(1u << 20, 1) <= PARALLEL_MAX_WORKERS);
}

struct job_ctx {
	int ran;		/* atomic */
	struct count_ctx *loop;
	size_t done_before;	/* items of the loop already done when the job ran */
};

static int job_fn(void *arg)
{
	struct job_ctx *j = arg;

	__atomic_add_fetch(&j->ran, 1, __ATOMIC_RELAXED);
	j->done_before = __atomic_load_n(&j->loop->calls, __ATOMIC_RELAXED);
	return -EPERM;
}

/* The job runs once, on any worker count, and its error is its own. */
static void test_job_once_beside_the_loop(void **state)
{
	const size_t n = 5000;

	(void)state;
	for (unsigned workers = 1; workers <= 4; workers++) {
		struct count_ctx c = { .fail_at = SIZE_MAX };
		struct job_ctx j = { .loop = &c };
		struct parallel_job job = { .fn = job_fn, .arg = &j };

		c.hits = calloc(n, sizeof(*c.hits));
		assert_non_null(c.hits);
		assert_int_equal(parallel_run(workers, n, count_items, &c, &job), 0);
		assert_int_equal(j.ran, 1);
		assert_int_equal(job.err, -EPERM);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(c.hits[i], 1);
		/* On one worker the job comes first. */
		if (workers == 1)
			assert_int_equal(j.done_before, 0);
		free(c.hits);
	}
}

static void test_job_without_items(void **state)
{
	struct count_ctx c = { .fail_at = SIZE_MAX };
	struct job_ctx j = { .loop = &c };
	struct parallel_job job = { .fn = job_fn, .arg = &j };

	(void)state;
	assert_int_equal(parallel_run(4, 0, count_items, &c, &job), 0);
	assert_int_equal(j.ran, 1);
	assert_int_equal(job.err, -EPERM);
	assert_int_equal(c.calls, 0);
}

/* ---- discovery on several threads builds the one-thread table -------------- */

/* The table of @path's @kind sites on @workers workers, or NULL and *@err. */
static struct site_table *build(const char *path, enum site_kind kind, unsigned workers,
				int *err)
{
	struct site_options o = { .kind = kind };
	struct site_table *t = site_table_new();

	assert_non_null(t);
	parallel_set_workers(workers);
	*err = site_table_add_elf(t, path, NULL, &o, NULL);
	parallel_set_workers(0);
	if (*err) {
		site_table_free(t);
		return NULL;
	}
	site_table_finish(t);
	return t;
}

static void assert_same_string(const char *a, const char *b, const char *what, size_t i)
{
	if (!a != !b || (a && strcmp(a, b)))
		fail_msg("site %zu: %s %s vs %s", i, what, a ? a : "(null)", b ? b : "(null)");
}

static void assert_same_site(const struct site *a, const struct site *b, size_t i)
{
	if (a->flags != b->flags || a->vaddr != b->vaddr || a->offset != b->offset ||
	    a->probe_offset != b->probe_offset || a->size != b->size || a->line != b->line ||
	    a->func_line != b->func_line || a->nrows != b->nrows)
		fail_msg("site %zu (%s at 0x%llx) differs", i, a->func,
			 (unsigned long long)a->vaddr);
	assert_same_string(a->func, b->func, "func", i);
	assert_same_string(a->file, b->file, "file", i);
	for (uint32_t k = 0; k < a->nrows; k++) {
		assert_same_string(a->rows[k].file, b->rows[k].file, "row file", i);
		if (a->rows[k].line != b->rows[k].line || a->rows[k].entries != b->rows[k].entries)
			fail_msg("site %zu: row %u differs", i, k);
	}
}

static void assert_same_table(const struct site_table *a, const struct site_table *b)
{
	const struct site_module *ma = &a->modules[0], *mb = &b->modules[0];

	assert_int_equal(a->nmodules, 1);
	assert_int_equal(b->nmodules, 1);
	assert_int_equal(a->nsites, b->nsites);
	assert_int_equal(ma->has_dwarf, mb->has_dwarf);
	assert_int_equal(ma->nplace_nop5, mb->nplace_nop5);
	assert_int_equal(ma->nplace_emulated, mb->nplace_emulated);
	assert_int_equal(ma->nplace_single_step, mb->nplace_single_step);
	assert_int_equal(ma->nrefused, mb->nrefused);
	for (size_t i = 0; i < a->nsites; i++) {
		struct site x = test_site(a, i), y = test_site(b, i);

		assert_same_site(&x, &y, i);
	}
}

/* Every kind of @path on 2, 3 and 8 workers gives the one-worker table (or error). */
static void check_same_on_threads(const char *path, size_t min_sites)
{
	static const enum site_kind kinds[] = { SITE_KIND_FUNC, SITE_KIND_LINE, SITE_KIND_BB };
	static const unsigned workers[] = { 2, 3, 8 };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int err1, errn;
		struct site_table *one = build(path, kinds[k], 1, &err1);

		/* A fixture without DWARF has no line sites: the same error on any count. */
		if (one)
			assert_true(one->nsites >= min_sites);
		for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
			struct site_table *many = build(path, kinds[k], workers[w], &errn);

			if (errn != err1)
				fail_msg("%s kind %d: error %d on %u workers, %d on one", path,
					 kinds[k], errn, workers[w], err1);
			if (one)
				assert_same_table(one, many);
			site_table_free(many);
		}
		site_table_free(one);
	}
}

static void test_same_table_self(void **state)
{
	(void)state;
	/*
	 * This program: the sites*.c code it links is over a hundred
	 * functions built -O2 -g, with jump tables; on 8 workers each slice
	 * is a function or two.
	 */
	check_same_on_threads("/proc/self/exe", 100);
}

static void test_same_table_fixtures(void **state)
{
	(void)state;
	check_same_on_threads(FIX("lines-O2"), 1);
	check_same_on_threads(FIX("bb-blocks"), 1);
	/* .dynsym and .eh_frame functions, no DWARF. */
	check_same_on_threads(FIX("sites-stripped"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_item_once),
		cmocka_unit_test(test_one_worker_one_call),
		cmocka_unit_test(test_no_items_no_call),
		cmocka_unit_test(test_first_error_in_item_order),
		cmocka_unit_test(test_workers_knob),
		cmocka_unit_test(test_job_once_beside_the_loop),
		cmocka_unit_test(test_job_without_items),
		cmocka_unit_test(test_same_table_self),
		cmocka_unit_test(test_same_table_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
