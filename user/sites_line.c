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
 *
 * Where a line is entered.  gcov counts a line once each time control
 * comes to it from another line; a line's rows can lie on one path (the
 * init, condition and increment of a for at -O0) or on several (the
 * copies of an unrolled loop's header, the init and the rotated condition
 * at -O2).  So each row says whether control can reach its line there
 * from another line's code (SITE_ENTERS_LINE), and a report adds up the
 * counts of those rows (lines.h).  A row enters its line unless something
 * says it only continues it:
 *   - a row after another row at the same address (a view) continues its
 *     line when the row before it is the same line, and enters it when
 *     not: the views run in order, with no code between them;
 *   - the first row at an address continues its line when at least one
 *     way into that instruction comes from code of the same line: the
 *     instruction before it falling through, or a direct jump to it from
 *     within the function, on an instruction whose covering row (the last
 *     row at its address, statement or not) names the same line;
 *   - the function's first instruction is always entered (its callers).
 * A row reached both from its own line and from another is counted as a
 * continuation: adding it would count the own-line arrivals twice (a
 * while loop's condition, reached from its jmp and from the body), and a
 * line's count is never less than any of its sites' counts, which covers
 * the other arrivals.
 */
#include <errno.h>
#include <stdlib.h>

#include "array.h"
#include "sites_line.h"

/* A jump inside a function: where it goes, and the jump's instruction. */
struct jump {
	uint64_t target;	/* vaddr */
	size_t from;		/* index into fc->v */
};

static int jump_cmp(const void *pa, const void *pb)
{
	const struct jump *a = pa, *b = pb;

	if (a->target != b->target)
		return a->target < b->target ? -1 : 1;
	return (a->from > b->from) - (a->from < b->from);
}

/* The direct jumps of @fc that land inside it, sorted by target. */
static int collect_jumps(const struct func_code *fc, struct jump **out, size_t *n)
{
	struct jump *v = NULL;
	size_t nv = 0, cap = 0, i;

	for (i = 0; i < fc->n; i++) {
		const struct insn *in = &fc->v[i];

		if (!(in->flags & INSN_TARGET) || (in->flow != FLOW_JUMP && in->flow != FLOW_COND))
			continue;
		if (in->target < fc->start || in->target >= fc->end)
			continue;
		if (ARRAY_GROW(v, cap, nv + 1, 64)) {
			free(v);
			return -ENOMEM;
		}
		v[nv++] = (struct jump){ in->target, i };
	}
	if (nv)
		qsort(v, nv, sizeof(*v), jump_cmp);
	*out = v;
	*n = nv;
	return 0;
}

static bool falls_through(const struct insn *in)
{
	return in->flow == FLOW_NEXT || in->flow == FLOW_COND || in->flow == FLOW_CALL;
}

/*
 * Whether @row, the first row at the address of instruction @at of @fc,
 * enters its line (see the top of this file).  Returns 1, 0 or -ENOMEM.
 */
static int first_row_enters(const struct line_table *lt, const struct func_code *fc,
			    const struct jump *jumps, size_t njumps, size_t at,
			    const struct line_row *row)
{
	const struct insn *in = &fc->v[at];
	size_t lo = 0, hi = njumps;
	int same;

	if (!at)
		return 1;
	if (falls_through(&fc->v[at - 1]) && fc->v[at - 1].vaddr + fc->v[at - 1].len == in->vaddr) {
		same = line_rows_same_line(line_table_cover(lt, fc->v[at - 1].vaddr), row);
		if (same)
			return same < 0 ? same : 0;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (jumps[mid].target < in->vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < njumps && jumps[lo].target == in->vaddr; lo++) {
		same = line_rows_same_line(line_table_cover(lt, fc->v[jumps[lo].from].vaddr), row);
		if (same)
			return same < 0 ? same : 0;
	}
	return 1;
}

int func_stmt_rows(const struct code_ctx *ctx, const struct func_code *fc,
		   struct stmt_row **out, size_t *nout)
{
	const struct line_table *lt = ctx->lines;
	struct stmt_row *v = NULL;
	struct jump *jumps = NULL;
	size_t nv = 0, cap = 0, njumps = 0, i, j, k;
	int err;

	*out = NULL;
	*nout = 0;
	if (!lt || !lt->n || !fc->n)
		return 0;
	err = collect_jumps(fc, &jumps, &njumps);
	if (err)
		return err;
	for (i = line_table_lower_bound(lt, fc->start); i < lt->n && lt->v[i].addr < fc->end; i = j) {
		const struct line_row *prev = NULL;
		size_t at = func_code_find(fc, lt->v[i].addr), first = nv;

		for (j = i + 1; j < lt->n && lt->v[j].addr == lt->v[i].addr; j++)
			;
		/* A row inside an instruction (data in code): nothing runs there. */
		if (at == SIZE_MAX)
			continue;
		for (k = i; k < j; k++) {
			const struct line_row *row = &lt->v[k];
			struct stmt_row x = { .vaddr = row->addr, .insn = at };
			int enters;
			size_t d;

			if (!row->line)
				continue;	/* an end of sequence */
			if (!line_row_is_stmt(row)) {
				prev = row;
				continue;
			}
			err = code_ctx_row_source(ctx, row, &x.file, &x.line);
			if (err)
				goto out;
			if (!x.file) {
				prev = row;
				continue;
			}
			if (prev) {
				enters = line_rows_same_line(prev, row);
				if (enters >= 0)
					enters = !enters;
			} else {
				enters = first_row_enters(lt, fc, jumps, njumps, at, row);
			}
			if (enters < 0) {
				err = enters;
				goto out;
			}
			prev = row;
			x.enters = enters;
			/* Strings are interned: equal names are equal pointers. */
			for (d = first; d < nv; d++)
				if (v[d].file == x.file && v[d].line == x.line)
					break;
			if (d < nv) {
				v[d].enters |= x.enters;
				continue;
			}
			if (nv - first == LINE_SITES_MAX_PER_ADDR)
				break;
			if (ARRAY_GROW(v, cap, nv + 1, 256)) {
				err = -ENOMEM;
				goto out;
			}
			v[nv++] = x;
		}
	}
	if (nv && v[0].vaddr == fc->start)
		v[0].func_entry = true;
	*out = v;
	*nout = nv;
	v = NULL;
out:
	free(v);
	free(jumps);
	return err;
}

/*
 * Sites of the statement rows @r[0..nr) of function @fi, decoded in @fc,
 * appended to @v.
 */
static int function_lines(const struct code_ctx *ctx, size_t fi, const struct stmt_row *r,
			  size_t nr, struct func_code *fc, struct site **v, size_t *n,
			  size_t *cap, struct site_module *m)
{
	const struct site *f = &ctx->funcs[fi];
	size_t k;
	int err = 0;

	func_code_mark_leaders(fc);
	/* Every site first, so each run stops at the next one. */
	for (k = 0; k < nr; k++)
		fc->v[r[k].insn].flags |= INSN_SITE;
	for (k = 0; k < nr; k++) {
		const struct insn *in = &fc->v[r[k].insn], *last;
		enum probe_cost cost;
		size_t place, next;
		struct site s;

		place = func_code_place(fc, r[k].insn, &cost);
		if (cost == PROBE_REFUSED) {
			m->nrefused++;
			continue;
		}
		next = func_code_block_end(fc, r[k].insn, INSN_SITE);
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
			.flags = (r[k].func_entry ? SITE_FUNC_ENTRY : 0) |
				 (r[k].enters ? SITE_ENTERS_LINE : 0),
			.file = r[k].file,
			.line = r[k].line,
		};
		site_place_at(&s, fc, place, cost, m);
		err = site_vec_push(v, n, cap, &s);
		if (err)
			break;
	}
	return err;
}

/*
 * Whether function @i of @ctx has a row of the line table in its range
 * (cut at the next function's start, as code_ctx_decode() does): only
 * those are worth decoding.
 */
static bool has_rows(const struct code_ctx *ctx, size_t i)
{
	const struct site *f = &ctx->funcs[i];
	uint64_t size = f->size;
	size_t at;

	if (i + 1 < ctx->nfuncs && ctx->funcs[i + 1].vaddr - f->vaddr < size)
		size = ctx->funcs[i + 1].vaddr - f->vaddr;
	at = line_table_lower_bound(ctx->lines, f->vaddr);
	return at < ctx->lines->n && ctx->lines->v[at].addr - f->vaddr < size;
}

/* code_func_sites_fn: the line sites of function @i, when it has rows. */
static int line_function(const struct code_ctx *ctx, size_t i, struct func_code *fc,
			 struct site **v, size_t *n, size_t *cap, struct site_module *m)
{
	struct stmt_row *r = NULL;
	size_t nr;
	int err;

	if (!has_rows(ctx, i))
		return 0;
	err = code_ctx_decode(ctx, i, fc);
	if (!err)
		err = func_stmt_rows(ctx, fc, &r, &nr);
	if (!err)
		err = function_lines(ctx, i, r, nr, fc, v, n, cap, m);
	free(r);
	return err;
}

int sites_line_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		     struct site_module *m)
{
	struct site *v = NULL;
	size_t nv = 0;
	int err;

	if (!ctx->lines || !ctx->lines->n)
		return -ENODATA;
	err = code_ctx_build_sites(ctx, line_function, &v, &nv, m);
	if (err)
		return err;
	if (!nv) {
		free(v);
		return -ENODATA;
	}
	*out = v;
	*n = nv;
	return 0;
}
