/* SPDX-License-Identifier: MIT */
/*
 * Helpers the cmocka suites share.  Include after <cmocka.h>: failures are
 * cmocka assertions, so a helper that cannot do its job fails the test.
 */
#ifndef UKCOV_TESTUTIL_H
#define UKCOV_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sites.h"
#include "sites_dwarf.h"

/* A file built by tests/unit/fixtures.mk (FIXTURE_DIR comes from the Makefile). */
#define FIX(name) FIXTURE_DIR "/" name

/* The whole of a non-empty file, malloc'd; its size in *@len. */
static inline uint8_t *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Copies @from to @to, executable, so a test may strip or corrupt the copy. */
static inline void test_copy_file(const char *from, const char *to)
{
	size_t len;
	uint8_t *buf = test_read_file(from, &len);
	FILE *f = fopen(to, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(to, 0755), 0);
	free(buf);
}

/* Site @i of @t, by value. */
static inline struct site test_site(const struct site_table *t, size_t i)
{
	struct site s;

	assert_true(i < t->nsites);
	site_table_get(t, i, &s);
	return s;
}

/*
 * Every site of @t expanded, in index order: malloc'd, free() it.  Tests
 * read sites through this rather than one site_table_get() at a time.
 */
static inline struct site *test_sites(const struct site_table *t)
{
	struct site *v = calloc(t->nsites ? t->nsites : 1, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < t->nsites; i++)
		site_table_get(t, i, &v[i]);
	return v;
}

/*
 * A table holding the @nmods modules @mods, the k-th of which has the
 * next mods[k].nsites of the @nsites sites @sites: a table written by
 * hand, as a test means it (not finished: the order is the test's).
 * Free it with site_table_free().
 */
static inline struct site_table *test_table(const struct site_module *mods, size_t nmods,
					    const struct site *sites, size_t nsites)
{
	struct site_table *t = site_table_new();
	size_t next = 0;

	assert_non_null(t);
	for (size_t k = 0; k < nmods; k++) {
		assert_true(mods[k].nsites <= nsites - next);
		assert_int_equal(site_table_append(t, &mods[k], sites + next, mods[k].nsites), 0);
		next += mods[k].nsites;
	}
	assert_int_equal(next, nsites);
	return t;
}

/*
 * A copy of @t (modules, kind, PC base) whose site @i is @s instead:
 * tables are not edited in place.  Free it with site_table_free().
 */
static inline struct site_table *test_table_edit(const struct site_table *t, size_t i,
						 const struct site *s)
{
	struct site *v = test_sites(t);
	struct site_table *u;

	assert_true(i < t->nsites);
	v[i] = *s;
	u = test_table(t->modules, t->nmodules, v, t->nsites);
	u->kind = t->kind;
	u->pc_base = t->pc_base;
	free(v);
	return u;
}

#endif /* UKCOV_TESTUTIL_H */
