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

#endif /* UKCOV_TESTUTIL_H */
