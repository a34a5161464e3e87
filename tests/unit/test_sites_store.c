// SPDX-License-Identifier: MIT
/*
 * The compact site storage (user/sites_store.c) and the string pool
 * (user/sites_strings.c): every struct site comes back as it went in,
 * whichever of its fields needed the side tables; truncation and
 * filtering leave consistent tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sites_store.h"
#include "testutil.h"

static void assert_same_site(const struct site *a, const struct site *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->vaddr, b->vaddr);
	assert_int_equal(a->offset, b->offset);
	assert_int_equal(a->probe_offset, b->probe_offset);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->func, b->func);
	if (a->file || b->file)
		assert_string_equal(a->file, b->file);
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->func_line, b->func_line);
	assert_int_equal(a->nrows, b->nrows);
	for (uint32_t k = 0; k < a->nrows; k++) {
		assert_string_equal(a->rows[k].file, b->rows[k].file);
		assert_int_equal(a->rows[k].line, b->rows[k].line);
		assert_int_equal(a->rows[k].entries, b->rows[k].entries);
	}
}

static const struct site_row rows[] = {
	{ "/s/a.c", 3, 1 }, { "/s/a.c", 4, 0 }, { "/s/b.h", 9, 2 },
};

/* Sites that need every side table, and ones that need none. */
static const struct site sites[] = {
	/* Plain: everything in the record. */
	{ .flags = SITE_FUNC_ENTRY, .vaddr = 0x1100, .offset = 0x1100, .probe_offset = 0x1104,
	  .size = 40, .func = "f", .file = "/s/a.c", .line = 10, .func_line = 9 },
	/* Same file and bias: no new run. */
	{ .vaddr = 0x1128, .offset = 0x1128, .probe_offset = 0x1128, .size = 65534,
	  .func = "g", .file = "/s/a.c", .line = 20, .func_line = 15 },
	/* Size, probe distance and func_line beyond their small fields. */
	{ .vaddr = 0x2000, .offset = 0x2000, .probe_offset = 0x2000 + 300, .size = 65535,
	  .func = "h", .file = "/s/b.c", .line = 30, .func_line = 24 },
	/* func_line after the line; a probe before the site. */
	{ .vaddr = 0x3000, .offset = 0x3000, .probe_offset = 0x2fff, .size = 1,
	  .func = "k", .file = NULL, .line = 5, .func_line = 7 },
	/* Another segment: vaddr - offset changes. */
	{ .flags = SITE_ALIAS, .vaddr = 0x405000, .offset = 0x5000, .probe_offset = 0x5000,
	  .size = 8, .func = "m", .file = "/s/b.c", .line = 0, .func_line = 0 },
	/* A bb site with rows, and one flagged with none. */
	{ .flags = SITE_ROWS | SITE_ENTERS_LINE, .vaddr = 0x405010, .offset = 0x5010,
	  .probe_offset = 0x5012, .size = 6, .func = "m", .file = "/s/a.c", .line = 3,
	  .rows = rows, .nrows = 3 },
	{ .flags = SITE_ROWS, .vaddr = 0x405020, .offset = 0x5020, .probe_offset = 0x5020,
	  .size = 2, .func = "m", .file = "/s/a.c", .line = 4 },
	/* What only a sites file could say: a wide offset, unknown flags. */
	{ .flags = 0x80000001u, .vaddr = UINT64_MAX, .offset = UINT64_MAX - 7,
	  .probe_offset = 0, .size = UINT64_MAX, .func = "", .file = "-",
	  .line = UINT32_MAX, .func_line = UINT32_MAX },
};

#define NSITES (sizeof(sites) / sizeof(sites[0]))

static void test_round_trip_every_field(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = NSITES };
	struct site_table *t = test_table(&m, 1, sites, NSITES);
	struct site got;

	(void)state;
	for (size_t i = 0; i < NSITES; i++) {
		site_table_get(t, i, &got);
		assert_same_site(&got, &sites[i]);
		assert_int_equal(got.module, 0);
		assert_int_equal(site_probe_offset(t, i), sites[i].probe_offset);
		assert_string_equal(site_func(t, i), sites[i].func);
	}
	/* The rows were copied in: the caller's array is not kept. */
	site_table_get(t, 5, &got);
	assert_ptr_not_equal(got.rows, rows);
	site_table_free(t);
}

/* 16 bytes a site when nothing needs a side table. */
static void test_plain_sites_cost_a_record(void **state)
{
	struct site_store st = {};
	struct site_strings *strs = site_strings_new();
	struct site s = sites[0];
	size_t before;

	(void)state;
	assert_non_null(strs);
	assert_int_equal(site_store_reserve(&st, 1000), 0);
	before = site_store_bytes(&st);
	assert_int_equal(before, 1000 * 16);
	for (size_t i = 0; i < 1000; i++) {
		s.vaddr = s.offset = 0x1000 + 16 * i;
		s.probe_offset = s.offset + 1;
		s.line = 100 + i;
		s.func_line = s.line - 1;
		assert_int_equal(site_store_push(&st, strs, &s), 0);
	}
	assert_int_equal(st.n, 1000);
	assert_int_equal(st.nextras, 0);
	assert_int_equal(st.nfiles, 1);
	assert_int_equal(st.nbiases, 1);
	/* One run each: 16 bytes of runs in a capacity of 16 runs. */
	assert_true(site_store_bytes(&st) - before <= 2 * 16 * 32);
	site_store_release(&st);
	site_strings_free(strs);
}

static void test_truncate_drops_side_tables(void **state)
{
	struct site_store st = {};
	struct site_strings *strs = site_strings_new();
	struct site got;

	(void)state;
	for (size_t i = 0; i < NSITES; i++)
		assert_int_equal(site_store_push(&st, strs, &sites[i]), 0);
	site_store_truncate(&st, 2);
	assert_int_equal(st.n, 2);
	assert_int_equal(st.nextras, 0);
	assert_int_equal(st.nfiles, 1);
	assert_int_equal(st.nbiases, 1);
	/* What follows is stored as if the rest had never been. */
	assert_int_equal(site_store_push(&st, strs, &sites[4]), 0);
	site_store_get(&st, strs, 2, &got);
	assert_same_site(&got, &sites[4]);
	site_store_get(&st, strs, 1, &got);
	assert_same_site(&got, &sites[1]);
	site_store_release(&st);
	site_strings_free(strs);
}

static bool keep_m(const struct site *s, void *ctx)
{
	(void)ctx;
	return !strcmp(s->func, "m");
}

static bool keep_none(const struct site *s, void *ctx)
{
	(void)s, (void)ctx;
	return false;
}

static void test_filter_last_module(void **state)
{
	struct site_module m[] = {
		{ .path = "/a", .open_path = "/a", .nsites = 2 },
		{ .path = "/b", .open_path = "/b", .nsites = NSITES - 2 },
	};
	struct site_table *t = test_table(m, 2, sites, NSITES);
	struct site got;

	(void)state;
	assert_int_equal(site_table_filter_last(t, keep_m, NULL), 3);
	assert_int_equal(t->nsites, 5);
	assert_int_equal(t->modules[1].nsites, 3);
	for (size_t i = 0; i < 3; i++) {
		site_table_get(t, 2 + i, &got);
		assert_same_site(&got, &sites[4 + i]);
		assert_int_equal(got.module, 1);
	}
	site_table_get(t, 1, &got);
	assert_same_site(&got, &sites[1]);
	/* Nothing kept: the module goes. */
	assert_int_equal(site_table_filter_last(t, keep_none, NULL), 0);
	assert_int_equal(t->nmodules, 1);
	assert_int_equal(t->nsites, 2);
	site_table_free(t);
}

/* Modules appended out of order come out sorted by path, sites by vaddr. */
static void test_finish_reorders(void **state)
{
	struct site_module m[] = {
		{ .path = "/z", .open_path = "/z", .nsites = 2 },
		{ .path = "/a", .open_path = "/a", .nsites = 2 },
	};
	struct site v[] = { sites[1], sites[0], sites[4], sites[3] };
	struct site_table *t = test_table(m, 2, v, 4);
	struct site got;

	(void)state;
	site_table_finish(t);
	assert_string_equal(t->modules[0].path, "/a");
	assert_int_equal(t->modules[0].first_site, 0);
	assert_int_equal(t->modules[1].first_site, 2);
	site_table_get(t, 0, &got);
	assert_same_site(&got, &sites[3]);
	site_table_get(t, 1, &got);
	assert_same_site(&got, &sites[4]);
	site_table_get(t, 2, &got);
	assert_same_site(&got, &sites[0]);
	assert_int_equal(got.module, 1);
	site_table_get(t, 3, &got);
	assert_same_site(&got, &sites[1]);
	site_table_free(t);
}

/* Ids survive sealing; interning after it finds what was stored before. */
static void test_strings_ids_and_seal(void **state)
{
	struct site_strings *s = site_strings_new();
	char *big = malloc(100000);
	uint32_t id_a, id_b, id_big, id;
	char *a;

	(void)state;
	assert_non_null(s);
	assert_non_null(big);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	a = site_strings_intern_id(s, "alpha", &id_a);
	assert_non_null(site_strings_intern_id(s, big, &id_big));
	assert_non_null(site_strings_intern_id(s, "beta", &id_b));
	assert_int_equal(site_strings_id(s, a), id_a);
	assert_int_equal(site_strings_id(s, "alpha"), 0);	/* not the pool's */
	assert_string_equal(site_strings_at(s, id_big), big);
	assert_null(site_strings_at(s, 0));
	site_strings_seal(s);
	assert_ptr_equal(site_strings_intern_id(s, "alpha", &id), a);
	assert_int_equal(id, id_a);
	assert_ptr_equal(site_strings_intern(s, big), site_strings_at(s, id_big));
	assert_string_equal(site_strings_at(s, id_b), "beta");
	/* Many strings: ids stay distinct and stable across chunks. */
	for (int i = 0; i < 20000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "name_%d", i);
		assert_non_null(site_strings_intern_id(s, name, &id));
		assert_string_equal(site_strings_at(s, id), name);
	}
	assert_string_equal(site_strings_at(s, id_a), "alpha");
	free(big);
	site_strings_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_field),
		cmocka_unit_test(test_plain_sites_cost_a_record),
		cmocka_unit_test(test_truncate_drops_side_tables),
		cmocka_unit_test(test_filter_last_module),
		cmocka_unit_test(test_finish_reorders),
		cmocka_unit_test(test_strings_ids_and_seal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
