/* SPDX-License-Identifier: MIT */
/*
 * Checks shared by the fuzz targets.  A violated check calls fuzz_fail(),
 * which aborts: libFuzzer (and the replay main) report it as a crash with
 * the input that caused it.
 */
#ifndef UKCOV_FUZZ_COMMON_H
#define UKCOV_FUZZ_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"
#include "sites_file.h"

#define fuzz_fail(...)                                                   \
	do {                                                             \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);    \
		fprintf(stderr, __VA_ARGS__);                            \
		fputc('\n', stderr);                                     \
		abort();                                                 \
	} while (0)

#define fuzz_check(cond)                                                 \
	do {                                                             \
		if (!(cond))                                             \
			fuzz_fail("check failed: %s", #cond);            \
	} while (0)

static inline int fuzz_strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b);
}

/*
 * What every finished site table promises (sites.h): modules tile the
 * sites in order, sites sorted by vaddr within a module, every string
 * set where it must be, PCs and indexes map to each other.
 */
static inline void fuzz_check_table(const struct site_table *t)
{
	size_t next = 0;

	fuzz_check(t->pc_base == UKCOV_PC_BASE);
	for (size_t i = 0; i < t->nmodules; i++) {
		const struct site_module *m = &t->modules[i];

		fuzz_check(m->path && m->open_path);
		fuzz_check(m->first_site == next);
		fuzz_check(m->nsites <= t->nsites - next);
		fuzz_check(m->build_id_len <= SITE_BUILD_ID_MAX);
		next += m->nsites;
		if (i)
			fuzz_check(strcmp(t->modules[i - 1].path, m->path) <= 0);
	}
	fuzz_check(next == t->nsites);
	struct site prev = {}, s;

	for (size_t i = 0; i < t->nsites; prev = s, i++) {
		site_table_get(t, i, &s);
		fuzz_check(s.module < t->nmodules);
		fuzz_check(s.func);
		fuzz_check(i >= t->modules[s.module].first_site &&
			   i - t->modules[s.module].first_site < t->modules[s.module].nsites);
		if (i && prev.module == s.module)
			fuzz_check(prev.vaddr <= s.vaddr);
		fuzz_check(site_index_of_pc(t, site_pc(t, i)) == (long)i);
	}
	fuzz_check(site_index_of_pc(t, site_pc(t, t->nsites)) == -1);
	fuzz_check(site_index_of_pc(t, t->pc_base - 1) == -1);
}

/* sites_file_write() into a malloc'd buffer; returns its result. */
static inline int fuzz_write_table(const struct site_table *t, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		fuzz_fail("open_memstream failed");
	err = sites_file_write(t, f);
	fclose(f);
	return err;
}

/* Field by field: what a site-table file keeps of a table. */
static inline void fuzz_check_same_table(const struct site_table *a, const struct site_table *b)
{
	fuzz_check(a->kind == b->kind && a->pc_base == b->pc_base);
	fuzz_check(a->nmodules == b->nmodules && a->nsites == b->nsites);
	for (size_t i = 0; i < a->nmodules; i++) {
		const struct site_module *x = &a->modules[i], *y = &b->modules[i];

		fuzz_check(!strcmp(x->path, y->path));
		fuzz_check(x->build_id_len == y->build_id_len &&
			   !memcmp(x->build_id, y->build_id, x->build_id_len));
		fuzz_check(x->pie == y->pie && x->has_dwarf == y->has_dwarf);
		fuzz_check(x->first_site == y->first_site && x->nsites == y->nsites);
		fuzz_check(x->nifunc == y->nifunc && x->nrefused == y->nrefused);
		fuzz_check(x->nplace_nop5 == y->nplace_nop5 &&
			   x->nplace_emulated == y->nplace_emulated &&
			   x->nplace_single_step == y->nplace_single_step);
		fuzz_check(x->image_base == y->image_base);
	}
	for (size_t i = 0; i < a->nsites; i++) {
		struct site xs, ys;
		const struct site *x = &xs, *y = &ys;

		site_table_get(a, i, &xs);
		site_table_get(b, i, &ys);
		fuzz_check(x->module == y->module && x->flags == y->flags);
		fuzz_check(x->vaddr == y->vaddr && x->offset == y->offset &&
			   x->probe_offset == y->probe_offset && x->size == y->size);
		fuzz_check(x->line == y->line && x->func_line == y->func_line);
		fuzz_check(!strcmp(x->func, y->func));
		fuzz_check(!fuzz_strcmp_null(x->file, y->file));
		fuzz_check(x->nrows == y->nrows);
		for (uint32_t r = 0; r < x->nrows; r++)
			fuzz_check(!strcmp(x->rows[r].file, y->rows[r].file) &&
				   x->rows[r].line == y->rows[r].line &&
				   x->rows[r].entries == y->rows[r].entries);
	}
	fuzz_check(site_table_id(a) == site_table_id(b));
}

/* Every site of a one-module table lies in the @len bytes of its file. */
static inline void fuzz_check_sites_in_image(const struct site_table *t, size_t len)
{
	fuzz_check(t->nmodules == 1);
	for (size_t i = 0; i < t->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		/* The probe goes on a byte of the file, inside the site. */
		fuzz_check(s.size > 0);
		fuzz_check(s.offset < len && s.size <= len - s.offset);
		fuzz_check(s.probe_offset >= s.offset &&
			   s.probe_offset - s.offset < s.size);
	}
}

/*
 * A finished table survives the site-table file: written, read back equal
 * field by field, and written again byte for byte.
 */
static inline void fuzz_check_round_trip(const struct site_table *t)
{
	struct sites_file_error e = {};
	struct site_table *back = NULL;
	char *text = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int err;

	err = fuzz_write_table(t, &text, &len);
	/* A name too long for a line is refused by the writer, not truncated. */
	if (err == -E2BIG)
		goto out;
	fuzz_check(!err);
	err = sites_file_read_buffer(text, len, &back, &e);
	if (err)
		fuzz_fail("written table does not read back: line %zu: %s", e.line, e.why);
	fuzz_check_same_table(t, back);
	fuzz_check(!fuzz_write_table(back, &again, &len2));
	fuzz_check(len == len2 && !memcmp(text, again, len));
out:
	site_table_free(back);
	free(text);
	free(again);
}

#endif /* UKCOV_FUZZ_COMMON_H */
