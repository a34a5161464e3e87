// SPDX-License-Identifier: MIT
/*
 * Where control enters a module's code from elsewhere than the previous
 * instruction or a jump of the same function: what placement must not
 * move a probe past (sites_place.c), and what starts a basic block.
 *
 * A function's own jumps are seen when it is decoded; these are not:
 *   - direct jumps and calls from other functions into this one's body
 *     (a tail jump into the middle: glibc's mempcpy into memcpy);
 *   - code addresses taken with a rip-relative lea (computed goto,
 *     a handler address passed on);
 *   - the targets of jump tables, which indirect jumps read from the
 *     module's read-only data: GCC's and Clang's switch tables, either
 *     32-bit offsets from the table's own address (PIC: lea table(%rip);
 *     movslq (table, idx, 4); add; jmp *reg) or 64-bit addresses
 *     (jmp *table(, idx, 8)).  A table is read while its entries land in
 *     the function that uses it; the first that does not ends it.
 * Extra entries cost only placement freedom; a missed one costs counts.
 */
#include <endian.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "parallel.h"
#include "sites_place.h"

/* Entries one table may give: more than any switch has cases. */
#define TABLE_MAX 65536

struct entry_vec {
	uint64_t *v;
	size_t n, cap;
};

int code_ctx_read_sections(struct code_ctx *ctx, Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || sh.sh_offset > ctx->image_size ||
		    sh.sh_size > ctx->image_size - sh.sh_offset)
			continue;
		if (ARRAY_GROW(ctx->sections, cap, ctx->nsections + 1, 16))
			return -ENOMEM;
		ctx->sections[ctx->nsections++] = (struct code_section){
			.addr = sh.sh_addr, .size = sh.sh_size, .offset = sh.sh_offset,
		};
	}
	return 0;
}

/* The @len bytes at vaddr @addr, or NULL when no section holds them all. */
static const uint8_t *data_at(const struct code_ctx *ctx, uint64_t addr, size_t len)
{
	for (size_t i = 0; i < ctx->nsections; i++) {
		const struct code_section *sec = &ctx->sections[i];

		if (addr >= sec->addr && addr - sec->addr <= sec->size &&
		    len <= sec->size - (addr - sec->addr))
			return ctx->image + sec->offset + (addr - sec->addr);
	}
	return NULL;
}

static int entry_push(struct entry_vec *e, uint64_t vaddr)
{
	if (ARRAY_GROW(e->v, e->cap, e->n + 1, 1024))
		return -ENOMEM;
	e->v[e->n++] = vaddr;
	return 0;
}

/* Reads the table at @table for @fc's indirect jumps (see the top). */
static int read_table(const struct code_ctx *ctx, const struct func_code *fc, uint64_t table,
		      bool absolute, struct entry_vec *e)
{
	size_t width = absolute ? 8 : 4;
	int err;

	for (size_t k = 0; k < TABLE_MAX; k++) {
		const uint8_t *p = data_at(ctx, table + k * width, width);
		uint64_t target;

		if (!p)
			break;
		if (absolute) {
			uint64_t v;

			memcpy(&v, p, 8);
			target = le64toh(v);
		} else {
			int32_t v;

			memcpy(&v, p, 4);
			target = table + (uint64_t)(int64_t)(int32_t)le32toh((uint32_t)v);
		}
		if (target < fc->start || target >= fc->end)
			break;
		err = entry_push(e, target);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One function's contribution. */
static int scan_function(const struct code_ctx *ctx, const struct func_code *fc,
			 struct entry_vec *e)
{
	bool indirect = false;
	size_t i;
	int err;

	for (i = 0; i < fc->n; i++) {
		const struct insn *in = &fc->v[i];

		if (in->flow == FLOW_JUMP && !(in->flags & INSN_TARGET))
			indirect = true;
		/* The function's own targets are its own business. */
		if ((in->flags & (INSN_TARGET | INSN_REF_RIP)) &&
		    (in->target < fc->start || in->target >= fc->end || (in->flags & INSN_REF_RIP))) {
			err = entry_push(e, in->target);
			if (err)
				return err;
		}
	}
	if (!indirect)
		return 0;
	for (i = 0; i < fc->n; i++) {
		const struct insn *in = &fc->v[i];

		if (in->flags & (INSN_REF_RIP | INSN_REF_TABLE8)) {
			err = read_table(ctx, fc, in->target, in->flags & INSN_REF_TABLE8, e);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The entries pass, on the workers of the code_ctx (sites_place.h). */
struct entries_pass {
	const struct code_ctx *ctx;
	struct func_choice *choices;	/* NULL: no function sites to place */
	struct {
		struct func_code fc;
		struct entry_vec e;	/* unsorted, with repeats */
	} w[PARALLEL_MAX_WORKERS];
};

static int entries_slice(void *arg, unsigned worker, size_t lo, size_t hi)
{
	struct entries_pass *p = arg;
	struct func_code *fc = &p->w[worker].fc;
	struct code_ctx ctx;
	size_t i;
	int err;

	code_ctx_worker(p->ctx, worker, &ctx);
	for (i = lo; i < hi; i++) {
		if (ctx.cancel && __atomic_load_n(ctx.cancel, __ATOMIC_RELAXED))
			return -ECANCELED;
		err = code_ctx_decode(&ctx, i, fc);
		if (!err)
			err = scan_function(&ctx, fc, &p->w[worker].e);
		if (err)
			return err;
		/* Decoded anyway: function sites need not decode it again. */
		if (p->choices)
			func_code_choose(fc, &p->choices[i]);
	}
	return 0;
}

/*
 * The workers' entries in one sorted vector without repeats, in *@out:
 * the same set whichever worker found which.
 */
static int entries_merge(struct entries_pass *p, unsigned nworkers, struct entry_vec *out)
{
	struct entry_vec *e = &p->w[0].e;
	size_t i, j;
	unsigned w;

	for (w = 1; w < nworkers; w++) {
		const struct entry_vec *more = &p->w[w].e;

		if (!more->n)
			continue;
		if (ARRAY_GROW(e->v, e->cap, e->n + more->n, 1024))
			return -ENOMEM;
		memcpy(e->v + e->n, more->v, more->n * sizeof(*more->v));
		e->n += more->n;
	}
	if (e->n) {
		qsort(e->v, e->n, sizeof(*e->v), cmp_u64);
		for (i = j = 1; i < e->n; i++)
			if (e->v[i] != e->v[j - 1])
				e->v[j++] = e->v[i];
		e->n = j;
	}
	*out = *e;
	*e = (struct entry_vec){};
	return 0;
}

int code_ctx_find_entries(struct code_ctx *ctx, struct func_choice *choices,
			  struct parallel_job *beside)
{
	struct entries_pass p = { .ctx = ctx, .choices = choices };
	unsigned nworkers = code_ctx_nworkers(ctx), w;
	struct entry_vec e = {};
	int err;

	ctx->entries = NULL;
	ctx->nentries = 0;
	err = code_ctx_run(ctx, entries_slice, &p, beside);
	if (!err)
		err = entries_merge(&p, nworkers, &e);
	for (w = 0; w < nworkers; w++) {
		func_code_release(&p.w[w].fc);
		free(p.w[w].e.v);
	}
	if (err)
		return err;
	ctx->entries = e.v;
	ctx->nentries = e.n;
	return 0;
}
