/* SPDX-License-Identifier: MIT */
/*
 * How the site table keeps its sites: 16 bytes a site, where a struct
 * site takes 80.  Private to user/sites.c; everyone else reads sites
 * through site_table_get() and the accessors in sites.h.
 *
 * A site is a record of the fields that differ from one site to the next
 * (file offset, function, line), plus small fields that fit a byte or two
 * almost always (size, where placement moved the probe, how far the
 * function's line is from the site's).  The rest changes rarely along
 * the table, so it is kept as runs keyed by site index: the source file
 * (a new run per compilation unit or inlined file), the function's line
 * when it is far from the site's (a line or bb site's: a run per
 * function) and vaddr - offset (a new run per PT_LOAD segment).  A value that does not fit its small
 * field, and a bb site's rows, go to a side table of extras, sorted by
 * site index.  The module is not stored: it is the one whose index range
 * holds the site (site_table_get()).
 *
 * Any struct site can be stored; what ukcov never makes (an offset of
 * 4 GiB or more, flags outside enum site_flags: a sites file may say so)
 * costs extras.
 */
#ifndef UKCOV_SITES_STORE_H
#define UKCOV_SITES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sites.h"
#include "sites_strings.h"

struct site_rec;
struct site_run32;
struct site_bias_run;
struct site_extra;

struct site_store {
	struct site_rec *recs;
	size_t n, cap;
	struct site_bias_run *biases;	/* vaddr - offset */
	size_t nbiases, cap_biases;
	struct site_run32 *files;	/* string id of the source file */
	size_t nfiles, cap_files;
	struct site_run32 *func_lines;	/* func_line, where the record cannot say it */
	size_t nfunc_lines, cap_func_lines;
	struct site_extra *extras;
	size_t nextras, cap_extras;
};

/* Room for @more sites beyond the store's count, exactly.  0 or -ENOMEM. */
int site_store_reserve(struct site_store *st, size_t more);

/*
 * Appends @s (its module field is ignored), interning its strings in
 * @strs unless they are @strs's already, and copying its rows there
 * unless they are in @strs's blocks.  Returns 0, -ENOMEM, or -E2BIG
 * (the store holds UINT32_MAX sites, or the pool 4 GiB of strings).  On
 * error the store is as it was.
 */
int site_store_push(struct site_store *st, struct site_strings *strs, const struct site *s);

/* Site @i, expanded into @out; out->module is left 0. */
void site_store_get(const struct site_store *st, const struct site_strings *strs,
		    size_t i, struct site *out);

/* Just the fields the probes and once mode need, without expanding. */
uint64_t site_store_probe_offset(const struct site_store *st, size_t i);
const char *site_store_func(const struct site_store *st, const struct site_strings *strs,
			    size_t i);

/* Keeps the first @n sites. */
void site_store_truncate(struct site_store *st, size_t n);

/* Frees what @st holds and zeroes it. */
void site_store_release(struct site_store *st);

/* Heap bytes @st holds (capacities, not counts). */
size_t site_store_bytes(const struct site_store *st);

#endif /* UKCOV_SITES_STORE_H */
