// SPDX-License-Identifier: MIT
/*
 * Line sites: one per distinct (address, source line) of the is_stmt rows
 * of the DWARF line table that lie inside a function, for the rows of
 * every CU.  A line whose code was duplicated (loop headers, inlined
 * functions, unrolled bodies) has several addresses and so several sites:
 * each is counted, and a report folds them into one count per line.
 *
 * Optimised code often puts several statements at one address, as
 * "views" (DWARF 5 location views): an inlined function's lines, a loop
 * header and its body.  Each of those lines runs whenever the address
 * does, so each gets a site of its own there: the kernel installs one
 * breakpoint and runs one consumer per site, so the extra lines cost a
 * BPF program run each, not a trap.  Keeping only one row per address
 * would report lines that ran as never run.
 *
 * Each site is probed on the cheapest instruction between its address
 * and the next site address, branch target, branch, call or ret.  The
 * first row at a function's first address is its entry site
 * (SITE_FUNC_ENTRY), and no other.
 */
#include <errno.h>
#include <stdlib.h>

#include "sites_place.h"

/*
 * Most line sites at one address.  Real code has a handful (the views of
 * inlined calls); a hostile line table can put tens of thousands of rows
 * at one address, and both the duplicate check in collect() and each
 * site's placement walk would then be quadratic.  Rows beyond it are
 * ignored.
 */
#define LINE_SITES_MAX_PER_ADDR 256

/* A site to be, before its function is decoded. */
struct cand {
	uint64_t addr;			/* vaddr */
	const char *file;		/* interned */
	uint32_t line;
	size_t func;			/* index into ctx->funcs */
};

/*
 * Index of the function whose range holds @addr, or SIZE_MAX.  Ranges are
 * clipped at the next function's start, as code_ctx_decode() does.
 */
static size_t func_of(const struct code_ctx *ctx, uint64_t addr)
{
	size_t lo = 0, hi = ctx->nfuncs, i;
	const struct site *f;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ctx->funcs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return SIZE_MAX;
	i = lo - 1;
	f = &ctx->funcs[i];
	return addr - f->vaddr < f->size ? i : SIZE_MAX;
}

static int cand_push(struct cand **c, size_t *n, size_t *cap, const struct cand *x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		void *p = reallocarray(*c, nc, sizeof(**c));

		if (!p)
			return -ENOMEM;
		*c = p;
		*cap = nc;
	}
	(*c)[(*n)++] = *x;
	return 0;
}

/*
 * The candidates of every row address inside a function: one per
 * distinct file:line among the is_stmt rows at the address, in table
 * order, sorted by address.
 */
static int collect(const struct code_ctx *ctx, struct cand **out, size_t *nout)
{
	const struct line_table *lt = ctx->lines;
	struct cand *c = NULL;
	size_t n = 0, cap = 0, i, j, k, first;
	int err = 0;

	for (i = 0; i < lt->n; i = j) {
		size_t f = func_of(ctx, lt->v[i].addr);

		for (j = i + 1; j < lt->n && lt->v[j].addr == lt->v[i].addr; j++)
			;
		if (f == SIZE_MAX)
			continue;
		first = n;
		for (k = i; k < j; k++) {
			struct cand x = { .addr = lt->v[k].addr, .func = f };
			size_t d;

			if (!line_row_is_stmt(&lt->v[k]))
				continue;
			err = line_row_source(&lt->v[k], ctx->strings, &x.file, &x.line);
			if (err)
				goto out;
			if (!x.file)
				continue;
			/* Strings are interned: equal names are equal pointers. */
			for (d = first; d < n; d++)
				if (c[d].file == x.file && c[d].line == x.line)
					break;
			if (d < n)
				continue;
			if (n - first == LINE_SITES_MAX_PER_ADDR)
				break;
			err = cand_push(&c, &n, &cap, &x);
			if (err)
				goto out;
		}
	}
	*out = c;
	*nout = n;
	c = NULL;
out:
	free(c);
	return err;
}

/*
 * Sites of the candidates [@c, @c + @nc), all in function @c->func,
 * decoded into @fc, appended to @v.
 */
static int function_lines(const struct code_ctx *ctx, const struct cand *c, size_t nc,
			  struct func_code *fc, struct site **v, size_t *n, size_t *cap,
			  struct site_module *m)
{
	const struct site *f = &ctx->funcs[c->func];
	size_t k, *at;
	int err = 0;

	at = calloc(nc, sizeof(*at));
	if (!at)
		return -ENOMEM;
	func_code_mark_leaders(fc);
	/* Every site first, so each run stops at the next one. */
	for (k = 0; k < nc; k++) {
		at[k] = func_code_find(fc, c[k].addr);
		if (at[k] != SIZE_MAX)
			fc->v[at[k]].flags |= INSN_SITE;
	}
	for (k = 0; k < nc; k++) {
		const struct insn *in, *last;
		enum probe_cost cost;
		size_t place, next;
		struct site s;

		/* A row inside an instruction (data in code): no probe there. */
		if (at[k] == SIZE_MAX)
			continue;
		place = func_code_place(fc, at[k], &cost);
		if (cost == PROBE_REFUSED) {
			m->nrefused++;
			continue;
		}
		in = &fc->v[at[k]];
		next = func_code_block_end(fc, at[k], INSN_SITE);
		last = &fc->v[next - 1];
		s = (struct site){
			.vaddr = in->vaddr,
			.offset = fc->offset + (in->vaddr - fc->start),
			.size = last->vaddr + last->len - in->vaddr,
			.func = f->func,
			.func_line = f->func_line,
			/*
			 * One entry site per function: the first row at its
			 * first address, its opening line.  The other rows
			 * there (views: inlined lines, a loop header) run as
			 * often, and counting each as an entry would multiply
			 * the function's calls.
			 */
			.flags = !k && c[0].addr == f->vaddr ? SITE_FUNC_ENTRY : 0,
		};
		s.file = c[k].file;
		s.line = c[k].line;
		site_place_at(&s, fc, place, cost, m);
		err = site_vec_push(v, n, cap, &s);
		if (err)
			break;
	}
	free(at);
	return err;
}

int sites_line_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		     struct site_module *m)
{
	struct func_code fc = {};
	struct site *v = NULL;
	struct cand *c = NULL;
	size_t nc = 0, nv = 0, cap = 0, i, j;
	int err;

	if (!ctx->lines || !ctx->lines->n)
		return -ENODATA;
	err = collect(ctx, &c, &nc);
	if (err)
		return err;
	/* Rows are sorted by address, so each function's rows are adjacent. */
	for (i = 0; i < nc; i = j) {
		for (j = i + 1; j < nc && c[j].func == c[i].func; j++)
			;
		err = code_ctx_decode(ctx, c[i].func, &fc);
		if (!err)
			err = function_lines(ctx, &c[i], j - i, &fc, &v, &nv, &cap, m);
		if (err)
			goto out;
	}
	if (!nv) {
		err = -ENODATA;
		goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
out:
	free(v);
	free(c);
	func_code_release(&fc);
	return err;
}
