// SPDX-License-Identifier: MIT
/*
 * Basic-block sites: one per block leader of every function, found by
 * decoding the function (sites_place.c), each probed on the cheapest
 * instruction of its first straight-line run.
 *
 * A block here ends at a jump, a ret, or before the next leader; a call
 * does not end it.  Splitting after every call would double the probes
 * for the rare call that does not return (exit, longjmp, a throw), and
 * the code after a call to a noreturn function is reached by a jump, so
 * it is a leader anyway.  The count of a block is how often it was
 * entered; the probe never sits past its first call, so the count is
 * exact for that, whatever the call does.
 *
 * With DWARF, each block lists the lines it runs (SITE_ROWS): the
 * statement rows that begin inside it, as line sites take them
 * (func_stmt_rows()), so that a report counts a block on every line in
 * it, not only on its leader's, and gives each line what line sites on
 * the same rows would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sites_line.h"

static int row_cmp(const void *pa, const void *pb)
{
	const struct site_row *a = pa, *b = pb;
	int c = a->file == b->file ? 0 : strcmp(a->file, b->file);

	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

/*
 * Gives @s the lines of the statement rows @r[0..nr) (all inside its
 * block), each line once with the number of its rows that enter it.
 * The rows live in the table's storage.  Returns 0 or -ENOMEM.
 */
static int block_rows(const struct code_ctx *ctx, struct site *s, const struct stmt_row *r,
		      size_t nr)
{
	struct site_row *rows;
	size_t n = 0, i, j;

	s->flags |= SITE_ROWS;
	if (!nr)
		return 0;
	if (nr > UINT32_MAX)
		return -E2BIG;
	rows = code_ctx_alloc(ctx, nr * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		rows[i] = (struct site_row){ r[i].file, r[i].line, r[i].enters };
	qsort(rows, nr, sizeof(*rows), row_cmp);
	for (i = 0; i < nr; i = j) {
		uint32_t entries = 0;

		for (j = i; j < nr && !row_cmp(&rows[i], &rows[j]); j++)
			entries += rows[j].entries;
		rows[n] = rows[i];
		rows[n++].entries = entries;
	}
	s->rows = rows;
	s->nrows = n;
	return 0;
}

/* code_func_sites_fn: the sites of function @i of @ctx, decoded in @fc. */
static int function_blocks(const struct code_ctx *ctx, size_t i, struct func_code *fc,
			   struct site **v, size_t *n, size_t *cap, struct site_module *m)
{
	const struct site *f = &ctx->funcs[i];
	struct stmt_row *r = NULL;
	size_t j, nr = 0, k = 0;
	bool with_rows = ctx->lines && ctx->lines->n;
	int err;

	err = code_ctx_decode(ctx, i, fc);
	if (err)
		return err;
	if (with_rows) {
		err = func_stmt_rows(ctx, fc, &r, &nr);
		if (err)
			return err;
	}
	func_code_mark_leaders(fc);
	for (j = 0; j < fc->n; j++) {
		const struct insn *in = &fc->v[j];
		size_t end, at, first;
		enum probe_cost cost;
		struct site s;

		if (!(in->flags & INSN_LEADER))
			continue;
		end = func_code_block_end(fc, j, INSN_LEADER);
		/* The rows before this block (padding) are in none. */
		while (k < nr && r[k].insn < j)
			k++;
		first = k;
		while (k < nr && r[k].insn < end)
			k++;
		at = func_code_place(fc, j, &cost);
		if (cost == PROBE_REFUSED) {
			m->nrefused++;
			continue;
		}
		s = (struct site){
			.vaddr = in->vaddr,
			.offset = fc->offset + (in->vaddr - fc->start),
			.size = fc->v[end - 1].vaddr + fc->v[end - 1].len - in->vaddr,
			.func = f->func,
			.func_line = f->func_line,
			.flags = in->vaddr == f->vaddr ? SITE_FUNC_ENTRY : 0,
		};
		site_place_at(&s, fc, at, cost, m);
		if (with_rows)
			err = block_rows(ctx, &s, r ? r + first : NULL, k - first);
		if (!err)
			err = site_vec_push(v, n, cap, &s);
		if (err)
			break;
	}
	free(r);
	return err;
}

int sites_bb_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		   struct site_module *m)
{
	struct site *v = NULL;
	size_t nv = 0;
	int err;

	err = code_ctx_build_sites(ctx, function_blocks, &v, &nv, m);
	if (err)
		return err;
	/* The nearest row at or before each leader names its line. */
	if (ctx->lines && ctx->lines->n) {
		err = line_table_fill(ctx->lines, ctx->strings, v, nv);
		if (err)
			goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
out:
	free(v);
	return err;
}
