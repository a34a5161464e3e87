// SPDX-License-Identifier: MIT
/*
 * Sites -> source lines and functions (see lines.h for the rules).  Two
 * sorts of the indexes of the sites that have a file: by (file, line,
 * module) for the lines, and each file's slice again by (function, line)
 * for the functions.  Every array is sized by the number of such sites, so
 * no step can outgrow its allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/lines.h"
#include "sites.h"

/* The table's strings are interned, but the rules must not depend on it. */
static int str_cmp(const char *a, const char *b)
{
	return a == b ? 0 : strcmp(a, b);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* (file, line, module, index): index last keeps the order total. */
static int cmp_by_line(const void *pa, const void *pb, void *ctx)
{
	const struct site_table *t = ctx;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct site *a = &t->sites[ia], *b = &t->sites[ib];
	int c;

	c = str_cmp(a->file, b->file);
	if (!c)
		c = cmp_u64(a->line, b->line);
	if (!c)
		c = cmp_u64(a->module, b->module);
	return c ? c : cmp_u64(ia, ib);
}

/* (function name, line, module, index), within one file. */
static int cmp_by_func(const void *pa, const void *pb, void *ctx)
{
	const struct site_table *t = ctx;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct site *a = &t->sites[ia], *b = &t->sites[ib];
	int c;

	c = str_cmp(a->func, b->func);
	if (!c)
		c = cmp_u64(a->line, b->line);
	if (!c)
		c = cmp_u64(a->module, b->module);
	return c ? c : cmp_u64(ia, ib);
}

/* Functions in the order reports list them: by line, then name. */
static int cmp_funcs(const void *pa, const void *pb)
{
	const struct line_func *a = pa, *b = pb;
	int c = cmp_u64(a->line, b->line);

	return c ? c : strcmp(a->name, b->name);
}

/*
 * The lines of @idx[0..n) (sites of one file, or of one function in it),
 * sorted by (line, module).  Writes them at @out and returns how many.
 */
static size_t count_lines(const struct site_table *t, const uint64_t *totals,
			  const size_t *idx, size_t n, struct line_count *out)
{
	size_t nout = 0, i = 0;

	while (i < n) {
		uint32_t line = t->sites[idx[i]].line;
		uint64_t sum = 0;

		while (i < n && t->sites[idx[i]].line == line) {
			uint32_t mod = t->sites[idx[i]].module;
			uint64_t max = 0;

			for (; i < n && t->sites[idx[i]].line == line &&
			       t->sites[idx[i]].module == mod; i++)
				if (totals[idx[i]] > max)
					max = totals[idx[i]];
			/* Saturate: a sum of u64 counters can overflow. */
			sum = sum + max < sum ? UINT64_MAX : sum + max;
		}
		if (line)
			out[nout++] = (struct line_count){ line, sum };
	}
	return nout;
}

/*
 * The functions of one file, from @idx[0..n) sorted by (function, line,
 * module).  Writes them at @out, their own lines at *@flines (advanced past
 * what was used) and returns how many.
 */
static size_t file_funcs(const struct site_table *t, const uint64_t *totals,
			 const size_t *idx, size_t n, struct line_func *out,
			 struct line_count **flines)
{
	size_t nout = 0, i = 0, j;

	for (i = 0; i < n; i = j) {
		const char *name = t->sites[idx[i]].func;
		uint64_t entries = 0, max = 0;
		uint32_t func_line = 0;
		bool has_entry = false;
		size_t nlines;

		for (j = i; j < n && !str_cmp(t->sites[idx[j]].func, name); j++) {
			const struct site *s = &t->sites[idx[j]];
			uint64_t c = totals[idx[j]];

			if (s->flags & SITE_FUNC_ENTRY) {
				has_entry = true;
				entries = entries + c < entries ? UINT64_MAX : entries + c;
			}
			if (c > max)
				max = c;
			if (s->func_line && (!func_line || s->func_line < func_line))
				func_line = s->func_line;
		}
		nlines = count_lines(t, totals, idx + i, j - i, *flines);
		/* Ascending: the first is the function's smallest line. */
		if (!func_line && nlines)
			func_line = (*flines)[0].line;
		if (!func_line)
			continue;	/* nowhere to put it */
		out[nout++] = (struct line_func){
			.name = name,
			.line = func_line,
			.count = has_entry ? entries : max,
			.lines = *flines,
			.nlines = nlines,
		};
		*flines += nlines;
	}
	qsort(out, nout, sizeof(*out), cmp_funcs);
	return nout;
}

struct line_report *line_report_new(const struct site_table *t,
				    const uint64_t *totals)
{
	struct line_report *r;
	size_t *idx = NULL, *scratch = NULL, n = 0, i, j;
	struct line_count *lines;
	struct line_func *funcs;
	struct line_count *flines;
	int err = -ENOMEM;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	for (i = 0; i < t->nsites; i++)
		n += t->sites[i].file != NULL;
	r->sites_without_file = t->nsites - n;
	/* calloc(0) may return NULL: ask for at least one of each. */
	idx = calloc(n ?: 1, sizeof(*idx));
	scratch = calloc(n ?: 1, sizeof(*scratch));
	r->mem[0] = r->files = calloc(n ?: 1, sizeof(*r->files));
	r->mem[1] = lines = calloc(n ?: 1, sizeof(*lines));
	r->mem[2] = funcs = calloc(n ?: 1, sizeof(*funcs));
	r->mem[3] = flines = calloc(n ?: 1, sizeof(*flines));
	if (!idx || !scratch || !r->files || !lines || !funcs || !flines)
		goto out;

	for (i = 0, j = 0; i < t->nsites; i++)
		if (t->sites[i].file)
			idx[j++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_by_line, (void *)t);

	for (i = 0; i < n; i = j) {
		struct line_file *f = &r->files[r->nfiles++];
		size_t k;

		f->path = t->sites[idx[i]].file;
		for (j = i; j < n && !str_cmp(t->sites[idx[j]].file, f->path); j++)
			;
		f->lines = lines;
		f->nlines = count_lines(t, totals, idx + i, j - i, lines);
		lines += f->nlines;

		memcpy(scratch, idx + i, (j - i) * sizeof(*idx));
		qsort_r(scratch, j - i, sizeof(*scratch), cmp_by_func, (void *)t);
		f->funcs = funcs;
		f->nfuncs = file_funcs(t, totals, scratch, j - i, funcs, &flines);
		funcs += f->nfuncs;
		/* Only sites without a line: nothing a report could show. */
		if (!f->nlines && !f->nfuncs) {
			r->nfiles--;
			continue;
		}

		for (k = 0; k < f->nlines; k++)
			f->lines_hit += f->lines[k].count > 0;
		for (k = 0; k < f->nfuncs; k++)
			f->funcs_hit += f->funcs[k].count > 0;
		r->lines_found += f->nlines;
		r->lines_hit += f->lines_hit;
		r->funcs_found += f->nfuncs;
		r->funcs_hit += f->funcs_hit;
	}
	err = 0;
out:
	free(scratch);
	free(idx);
	if (err) {
		line_report_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void line_report_free(struct line_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < sizeof(r->mem) / sizeof(r->mem[0]); i++)
		free(r->mem[i]);
	free(r);
}
