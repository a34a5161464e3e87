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
 */
#include <errno.h>
#include <stdlib.h>

#include "sites_place.h"

/* Sites of function @i of @ctx, decoded in @fc, appended to @v. */
static int function_blocks(const struct code_ctx *ctx, size_t i, struct func_code *fc,
			   struct site **v, size_t *n, size_t *cap, struct site_module *m)
{
	const struct site *f = &ctx->funcs[i];
	size_t j;
	int err;

	func_code_mark_leaders(fc);
	for (j = 0; j < fc->n; j++) {
		const struct insn *in = &fc->v[j];
		size_t end, at;
		enum probe_cost cost;
		struct site s;

		if (!(in->flags & INSN_LEADER))
			continue;
		at = func_code_place(fc, j, &cost);
		if (cost == PROBE_REFUSED) {
			m->nrefused++;
			continue;
		}
		end = func_code_block_end(fc, j, INSN_LEADER);
		s = (struct site){
			.vaddr = in->vaddr,
			.offset = fc->offset + (in->vaddr - fc->start),
			.size = fc->v[end - 1].vaddr + fc->v[end - 1].len - in->vaddr,
			.func = f->func,
			.func_line = f->func_line,
			.flags = in->vaddr == f->vaddr ? SITE_FUNC_ENTRY : 0,
		};
		site_place_at(&s, fc, at, cost, m);
		err = site_vec_push(v, n, cap, &s);
		if (err)
			return err;
	}
	return 0;
}

int sites_bb_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		   struct site_module *m)
{
	struct func_code fc = {};
	struct site *v = NULL;
	size_t nv = 0, cap = 0, i;
	int err = 0;

	for (i = 0; i < ctx->nfuncs; i++) {
		err = code_ctx_decode(ctx, i, &fc);
		if (!err)
			err = function_blocks(ctx, i, &fc, &v, &nv, &cap, m);
		if (err)
			goto out;
	}
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
	func_code_release(&fc);
	return err;
}
