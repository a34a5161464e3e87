// SPDX-License-Identifier: MIT
/*
 * Sites -> source lines and functions (see lines.h for the rules).
 *
 * Three passes over the table.  The sites are split into copies of
 * functions (one per function per module, or per translation unit for a
 * static function in a header); every site on a source line becomes a
 * hit of that line in its copy; the hits, sorted by (file, line, copy),
 * give each line the sum over copies of the copy's count.  Functions are
 * the copies grouped by (their file, name).  Every array is sized by the
 * number of sites or hits, so no step can outgrow its allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/lines.h"
#include "sites.h"

/* One copy of a function: its sites, contiguous in the table. */
struct copy {
	const char *name;	/* the sites' func */
	const char *file;	/* the function's file (see lines.h), or NULL */
	uint32_t module;
	uint32_t func_line;	/* smallest non-zero func_line of its sites */
	uint64_t count;		/* how often it ran (see lines.h) */
	size_t func;		/* index into the report's functions, or SIZE_MAX */
};

/* A site on a source line, in its copy. */
struct hit {
	const char *file;
	uint32_t line;
	uint32_t entries;	/* how often each run of the site enters the line */
	size_t copy;
	uint64_t count;
};

/*
 * The table's strings are interned, but the rules must not depend on it.
 * NULL (a copy in no file) sorts first.
 */
static int str_cmp(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return !a ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Saturating: a sum of u64 counters can overflow. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static int cmp_hits(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;
	int c = str_cmp(a->file, b->file);

	if (!c)
		c = cmp_u64(a->line, b->line);
	return c ? c : cmp_u64(a->copy, b->copy);
}

/* Copies by (file, name, module, index), through an index array. */
static int cmp_copies(const void *pa, const void *pb, void *ctx)
{
	const struct copy *copies = ctx;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct copy *a = &copies[ia], *b = &copies[ib];
	int c = str_cmp(a->file, b->file);

	if (!c)
		c = str_cmp(a->name, b->name);
	if (!c)
		c = cmp_u64(a->module, b->module);
	return c ? c : cmp_u64(ia, ib);
}

/* Hits of one file by (function, line, copy). */
static int cmp_hits_by_func(const void *pa, const void *pb, void *ctx)
{
	const struct copy *copies = ctx;
	const struct hit *a = pa, *b = pb;
	int c = cmp_u64(copies[a->copy].func, copies[b->copy].func);

	if (!c)
		c = cmp_u64(a->line, b->line);
	return c ? c : cmp_u64(a->copy, b->copy);
}

/* Functions in the order reports list them: by line, then name. */
static int cmp_funcs(const void *pa, const void *pb)
{
	const struct line_func *a = pa, *b = pb;
	int c = cmp_u64(a->line, b->line);

	return c ? c : strcmp(a->name, b->name);
}

/*
 * Splits the sites into copies; writes each site's copy at @site_copy and
 * the copies at @copies.  A copy ends where the module or the function
 * name changes, or where another entry site begins one (two copies of a
 * header's static function can be neighbours).  Returns how many.
 */
static size_t split_copies(const struct site_table *t, const uint64_t *totals,
			   size_t *site_copy, struct copy *copies)
{
	size_t n = 0, i, j, k;

	for (i = 0; i < t->nsites; i = j) {
		struct site s, o;
		bool entry;

		site_table_get(t, i, &s);
		entry = s.flags & SITE_FUNC_ENTRY;
		/* The sites at one address: an entry site makes a new copy. */
		for (j = i + 1; j < t->nsites; j++) {
			site_table_get(t, j, &o);
			if (o.module != s.module || o.vaddr != s.vaddr || str_cmp(o.func, s.func))
				break;
			entry |= !!(o.flags & SITE_FUNC_ENTRY);
		}
		if (!n || entry || copies[n - 1].module != s.module ||
		    str_cmp(copies[n - 1].name, s.func))
			copies[n++] = (struct copy){ .name = s.func, .module = s.module,
						     .func = SIZE_MAX };
		for (k = i; k < j; k++)
			site_copy[k] = n - 1;
	}

	for (i = 0; i < n; i++)
		copies[i].count = 0;
	/* Count and func_line; the file of an entry site first. */
	for (i = 0; i < t->nsites; i++) {
		struct site s;
		struct copy *c = &copies[site_copy[i]];

		site_table_get(t, i, &s);

		if (s.func_line && (!c->func_line || s.func_line < c->func_line))
			c->func_line = s.func_line;
		if ((s.flags & SITE_FUNC_ENTRY) && s.file && !c->file)
			c->file = s.file;
	}
	/*
	 * A copy's count is its entry site's (the largest, if a table has
	 * several at its start); without one, its largest site count.
	 */
	for (i = 0; i < t->nsites; i = j) {
		size_t ci = site_copy[i];
		uint64_t entries = 0, max = 0;
		bool has_entry = false;
		const char *at_line = NULL, *any = NULL;

		for (j = i; j < t->nsites && site_copy[j] == ci; j++) {
			struct site s;

			site_table_get(t, j, &s);

			if (s.flags & SITE_FUNC_ENTRY) {
				has_entry = true;
				if (totals[j] > entries)
					entries = totals[j];
			}
			if (totals[j] > max)
				max = totals[j];
			if (s.file && !any)
				any = s.file;
			if (s.file && !at_line && s.line && s.line == copies[ci].func_line)
				at_line = s.file;
		}
		copies[ci].count = has_entry ? entries : max;
		/* No entry site with a file: where its first line is, else any. */
		if (!copies[ci].file)
			copies[ci].file = at_line ? at_line : any;
	}
	return n;
}

/* Saturating, like add_sat(). */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/*
 * The lines of @h[0..n), sorted by (line, copy): per copy the entries into
 * the line its hits saw, or its hits' largest count when that is more
 * (only the latter unless @runs); summed over the copies.  Writes them at
 * @out and returns how many.
 */
static size_t count_lines(const struct hit *h, size_t n, bool runs, struct line_count *out)
{
	size_t nout = 0, i = 0;

	while (i < n) {
		uint32_t line = h[i].line;
		uint64_t sum = 0;

		while (i < n && h[i].line == line) {
			size_t copy = h[i].copy;
			uint64_t max = 0, entered = 0;

			for (; i < n && h[i].line == line && h[i].copy == copy; i++) {
				if (h[i].count > max)
					max = h[i].count;
				entered = add_sat(entered, mul_sat(h[i].count, h[i].entries));
			}
			sum = add_sat(sum, runs && entered > max ? entered : max);
		}
		out[nout++] = (struct line_count){ line, sum };
	}
	return nout;
}

/* Scratch storage of line_report_new(), all sized up front. */
struct build {
	size_t *site_copy;	/* nsites: each site's copy */
	struct copy *copies;	/* nsites at most */
	size_t *order;		/* copies sorted by (file, name) */
	struct line_func *funcs; /* copies at most: functions in (file, name) order */
	const char **func_file;	/* each function's file */
	struct hit *hits;	/* hits at most */
	struct hit *scratch;	/* hits at most */
	bool runs;		/* the totals count executions */
};

/*
 * Groups the copies into functions (same file and name) at b->funcs, in
 * (file, name) order, and sets each copy's func.  Copies without a file
 * are in no function.  Returns how many.
 */
static size_t group_funcs(struct build *b, size_t ncopies)
{
	size_t n = 0, i, j, k;

	for (i = 0; i < ncopies; i++)
		b->order[i] = i;
	qsort_r(b->order, ncopies, sizeof(*b->order), cmp_copies, b->copies);
	for (i = 0; i < ncopies; i = j) {
		const struct copy *c = &b->copies[b->order[i]];
		struct line_func *f = &b->funcs[n];

		for (j = i + 1; j < ncopies && !str_cmp(b->copies[b->order[j]].file, c->file) &&
				!str_cmp(b->copies[b->order[j]].name, c->name); j++)
			;
		if (!c->file)
			continue;
		*f = (struct line_func){ .name = c->name };
		b->func_file[n] = c->file;
		for (k = i; k < j; k++) {
			struct copy *ck = &b->copies[b->order[k]];

			ck->func = n;
			f->count = add_sat(f->count, ck->count);
			if (ck->func_line && (!f->line || ck->func_line < f->line))
				f->line = ck->func_line;
		}
		n++;
	}
	return n;
}

/*
 * Functions b->funcs[first..last) of file @f, whose hits are @h[0..nh):
 * written at f->funcs with their own lines (from the hits of their own
 * copies, stored at *@flines, which is advanced), sorted as reports list
 * them.  A function with neither a line nor hits is left out.
 */
static void file_funcs(struct build *b, struct line_file *f, size_t first, size_t last,
		       const struct hit *h, size_t nh, struct line_count **flines)
{
	size_t ns = 0, i, j, n = 0;

	for (i = 0; i < nh; i++) {
		size_t fn = b->copies[h[i].copy].func;

		if (fn != SIZE_MAX && fn >= first && fn < last)
			b->scratch[ns++] = h[i];
	}
	qsort_r(b->scratch, ns, sizeof(*b->scratch), cmp_hits_by_func, b->copies);
	for (i = first, j = 0; i < last; i++) {
		struct line_func fn = b->funcs[i];
		size_t k = j;

		while (j < ns && b->copies[b->scratch[j].copy].func == i)
			j++;
		fn.lines = *flines;
		fn.nlines = count_lines(b->scratch + k, j - k, b->runs, *flines);
		*flines += fn.nlines;
		/* Ascending: the first is the function's smallest line. */
		if (!fn.line && fn.nlines)
			fn.line = fn.lines[0].line;
		if (fn.line)
			f->funcs[n++] = fn;
	}
	f->nfuncs = n;
	qsort(f->funcs, n, sizeof(*f->funcs), cmp_funcs);
}

static void build_free(struct build *b)
{
	free(b->site_copy);
	free(b->copies);
	free(b->order);
	free(b->funcs);
	free(b->func_file);
	free(b->hits);
	free(b->scratch);
}

struct line_report *line_report_new(const struct site_table *t,
				    const uint64_t *totals, bool runs)
{
	size_t nsites = t->nsites, ncopies, nfuncs, nhits = 0, hi, fi, i;
	struct line_report *r;
	struct build b = { .runs = runs };
	struct line_count *lines, *flines;
	struct line_func *funcs;
	int err = -ENOMEM;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	for (i = 0; i < nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);

		if (s.flags & SITE_ROWS)
			nhits += s.nrows;
		else
			nhits += s.file && s.line;
		r->sites_without_file += !s.file;
	}
	/* calloc(0) may return NULL: ask for at least one of each. */
	b.site_copy = calloc(nsites ?: 1, sizeof(*b.site_copy));
	b.copies = calloc(nsites ?: 1, sizeof(*b.copies));
	b.order = calloc(nsites ?: 1, sizeof(*b.order));
	b.funcs = calloc(nsites ?: 1, sizeof(*b.funcs));
	b.func_file = calloc(nsites ?: 1, sizeof(*b.func_file));
	b.hits = calloc(nhits ?: 1, sizeof(*b.hits));
	b.scratch = calloc(nhits ?: 1, sizeof(*b.scratch));
	/* Files: each has a hit or a function. */
	r->mem[0] = r->files = calloc(nhits + nsites ?: 1, sizeof(*r->files));
	r->mem[1] = lines = calloc(nhits ?: 1, sizeof(*lines));
	r->mem[2] = funcs = calloc(nsites ?: 1, sizeof(*funcs));
	r->mem[3] = flines = calloc(nhits ?: 1, sizeof(*flines));
	if (!b.site_copy || !b.copies || !b.order || !b.funcs || !b.func_file || !b.hits ||
	    !b.scratch || !r->files || !lines || !funcs || !flines)
		goto out;

	ncopies = split_copies(t, totals, b.site_copy, b.copies);
	nfuncs = group_funcs(&b, ncopies);
	for (i = 0, nhits = 0; i < nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);

		/* A block counts on the lines it runs, not on its leader's. */
		if (s.flags & SITE_ROWS) {
			for (uint32_t k = 0; k < s.nrows; k++)
				b.hits[nhits++] = (struct hit){
					.file = s.rows[k].file,
					.line = s.rows[k].line,
					.entries = s.rows[k].entries,
					.copy = b.site_copy[i],
					.count = totals[i],
				};
		} else if (s.file && s.line) {
			b.hits[nhits++] = (struct hit){
				.file = s.file,
				.line = s.line,
				.entries = !!(s.flags & SITE_ENTERS_LINE),
				.copy = b.site_copy[i],
				.count = totals[i],
			};
		}
	}
	qsort(b.hits, nhits, sizeof(*b.hits), cmp_hits);

	/* Files in path order: the hits' and the functions' files, merged. */
	for (hi = 0, fi = 0; hi < nhits || fi < nfuncs;) {
		struct line_file *f = &r->files[r->nfiles];
		size_t hj, fj, k;

		if (hi == nhits)
			f->path = b.func_file[fi];
		else if (fi == nfuncs)
			f->path = b.hits[hi].file;
		else
			f->path = str_cmp(b.hits[hi].file, b.func_file[fi]) <= 0 ?
				  b.hits[hi].file : b.func_file[fi];
		for (hj = hi; hj < nhits && !str_cmp(b.hits[hj].file, f->path); hj++)
			;
		for (fj = fi; fj < nfuncs && !str_cmp(b.func_file[fj], f->path); fj++)
			;
		f->lines = lines;
		f->nlines = count_lines(b.hits + hi, hj - hi, runs, lines);
		lines += f->nlines;
		f->funcs = funcs;
		file_funcs(&b, f, fi, fj, b.hits + hi, hj - hi, &flines);
		funcs += f->nfuncs;
		hi = hj;
		fi = fj;
		/* Only functions without a line: nothing a report could show. */
		if (!f->nlines && !f->nfuncs)
			continue;

		for (k = 0; k < f->nlines; k++)
			f->lines_hit += f->lines[k].count > 0;
		for (k = 0; k < f->nfuncs; k++)
			f->funcs_hit += f->funcs[k].count > 0;
		r->lines_found += f->nlines;
		r->lines_hit += f->lines_hit;
		r->funcs_found += f->nfuncs;
		r->funcs_hit += f->funcs_hit;
		r->nfiles++;
	}
	err = 0;
out:
	build_free(&b);
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
