// SPDX-License-Identifier: MIT
/*
 * Unit tests for what process following needs without privileges:
 * appending a module to a finished site table without renumbering, and
 * the probe configuration each command and option asks for.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "options.h"
#include "probe.h"
#include "procs.h"
#include "sites.h"
#include "sites_libs.h"

/* Modules known at start sorted by path; "/b" first would sort after "/a". */
static struct site_table *start_table(void)
{
	struct site_table *t = site_table_new();

	assert_non_null(t);
	assert_int_equal(site_table_add_elf(t, FIX("sites-pie"), "/b/pie", NULL, NULL), 0);
	site_table_finish(t);
	return t;
}

/* What procs.c does for a library found while running. */
static int append(struct site_table *t, const char *path, const char *display)
{
	struct module_selection sel = { .all_libs = true };
	const char *why;

	return sites_libs_add_module(t, &sel, NULL, path, display, &why);
}

static void test_append_keeps_existing_indexes(void **state)
{
	struct site_table *t = start_table(), *ref = start_table();
	size_t n0 = t->nsites;

	(void)state;
	/* "/a/..." sorts before "/b/pie": appending must not sort. */
	assert_int_equal(append(t, FIX("sites-nopie"), "/a/nopie"), 0);
	assert_int_equal(t->nmodules, 2);
	assert_string_equal(t->modules[0].path, "/b/pie");
	assert_string_equal(t->modules[1].path, "/a/nopie");
	assert_int_equal(t->modules[1].first_site, n0);
	assert_true(t->nsites > n0);
	assert_int_equal(t->modules[1].nsites, t->nsites - n0);
	for (size_t i = 0; i < n0; i++) {
		assert_int_equal(test_site(t, i).module, 0);
		assert_int_equal(test_site(t, i).offset, test_site(ref, i).offset);
		assert_string_equal(test_site(t, i).func, test_site(ref, i).func);
	}
	for (size_t i = n0; i < t->nsites; i++) {
		assert_int_equal(test_site(t, i).module, 1);
		if (i > n0)
			assert_true(test_site(t, i).vaddr > test_site(t, i - 1).vaddr);
	}
	assert_int_equal(site_index_of_pc(t, site_pc(t, t->nsites - 1)), t->nsites - 1);
	site_table_free(ref);
	site_table_free(t);
}

/* A module that does not fit (--max-sites) is dropped again. */
static void test_truncate_undoes_append(void **state)
{
	struct site_table *t = start_table();
	size_t n0 = t->nsites, first;

	(void)state;
	assert_int_equal(append(t, FIX("sites-nopie"), "/a/nopie"), 0);
	first = t->modules[1].first_site;
	site_table_truncate(t, 1);
	assert_int_equal(t->nmodules, 1);
	assert_int_equal(t->nsites, n0);
	/* Truncating to what is there changes nothing. */
	site_table_truncate(t, 1);
	assert_int_equal(t->nsites, n0);
	/* Unchanged means usable: the next append gets the same indexes. */
	assert_int_equal(append(t, FIX("sites-nopie"), "/a/nopie"), 0);
	assert_int_equal(t->modules[1].first_site, first);
	assert_int_equal(t->nmodules, 2);
	site_table_free(t);
}

static void test_append_missing_file(void **state)
{
	struct site_table *t = start_table();
	size_t n0 = t->nsites;

	(void)state;
	assert_int_equal(append(t, FIX("no-such-file"), NULL), -ENOENT);
	assert_int_equal(t->nmodules, 1);
	assert_int_equal(t->nsites, n0);
	site_table_free(t);
}

static void test_config_run_follows(void **state)
{
	struct collect_opts o;
	struct probe_config cfg;

	(void)state;
	collect_opts_init(&o);
	procs_probe_config(&o, PROCS_RUN, 100, &cfg);
	assert_true(cfg.filter_pids);
	assert_true(cfg.follow_forks);
	assert_true(cfg.watch_exec);
	assert_false(cfg.hold_exec);
	assert_false(cfg.watch_mmap);
	/* Nothing can be appended: exactly the table's counters. */
	assert_int_equal(cfg.max_sites, 100);
}

static void test_config_no_follow(void **state)
{
	struct collect_opts o;
	struct probe_config cfg;

	(void)state;
	collect_opts_init(&o);
	o.no_follow = true;
	procs_probe_config(&o, PROCS_ATTACH, 100, &cfg);
	assert_false(cfg.filter_pids);
	assert_false(cfg.follow_forks);
	assert_true(cfg.watch_exec);
}

static void test_config_reserve(void **state)
{
	struct collect_opts o;
	struct probe_config cfg;

	(void)state;
	collect_opts_init(&o);
	o.follow_exec = true;
	procs_probe_config(&o, PROCS_RUN, 100, &cfg);
	assert_true(cfg.hold_exec);
	assert_int_equal(cfg.max_sites, PROCS_MIN_RESERVE_SITES);
	procs_probe_config(&o, PROCS_RUN, 1000000, &cfg);
	assert_int_equal(cfg.max_sites, 4000000);
	o.follow_exec = false;
	o.modules.all_libs = true;	/* --libs: dlopen()ed libraries too */
	procs_probe_config(&o, PROCS_RUN, 100, &cfg);
	assert_true(cfg.watch_mmap);
	assert_false(cfg.hold_exec);
	assert_int_equal(cfg.max_sites, PROCS_MIN_RESERVE_SITES);
	o.modules.all_libs = false;
	o.dlopen = true;
	o.max_sites = 5000;
	procs_probe_config(&o, PROCS_RUN, 100, &cfg);
	assert_true(cfg.watch_mmap);
	assert_int_equal(cfg.max_sites, 5000);
}

static void test_config_all_tracks_nothing(void **state)
{
	struct collect_opts o;
	struct probe_config cfg;

	(void)state;
	collect_opts_init(&o);
	procs_probe_config(&o, PROCS_ALL, 100, &cfg);
	assert_false(cfg.filter_pids || cfg.follow_forks || cfg.watch_exec || cfg.watch_mmap);
	assert_int_equal(cfg.max_sites, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_keeps_existing_indexes),
		cmocka_unit_test(test_truncate_undoes_append),
		cmocka_unit_test(test_append_missing_file),
		cmocka_unit_test(test_config_run_follows),
		cmocka_unit_test(test_config_no_follow),
		cmocka_unit_test(test_config_reserve),
		cmocka_unit_test(test_config_all_tracks_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
