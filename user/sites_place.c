// SPDX-License-Identifier: MIT
/*
 * Decoding functions with Capstone, finding basic-block leaders, and
 * placing each probe on the cheapest instruction of its straight-line run.
 *
 * Why placement pays: a uprobe on most x86 instructions traps, copies the
 * instruction out of line and single-steps it (~11-15 us a hit on 6.18),
 * while the kernel emulates jumps, calls, pushes and NOPs (~0.6 us) and
 * turns a 5-byte NOP into a call of its trampoline (~0.4 us).  Every
 * instruction of a straight-line run executes exactly as often as the
 * first, so the count is the same wherever in the run the probe sits.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <capstone/capstone.h>
#endif

#include "array.h"
#include "parallel.h"
#include "sites_place.h"

/* ---- what the kernel does with an instruction -------------------------- */

/*
 * The opcode tables of arch/x86/kernel/uprobes.c (good_insns_64 and
 * good_2byte_insns), one row of 16 opcodes per string: '1' = the kernel
 * accepts it.  The kernel in fact accepts every 0x0f opcode through the
 * first table; refusing what its second table lists is the conservative
 * reading (syscall, ud2, sysenter, fences/xsave...).
 */
static const char good_1byte[16][17] = {
	"1111110011111101", "1111110011111100", "1111111011111110", "1111111011111110",
	"1111111111111111", "1111111111111111", "0001111111110000", "1111111111111111",
	"1101111111111111", "1111111111011111", "1111111111111111", "1111111111111111",
	"1111111111110000", "1111000111111111", "1111000011010000", "1011011111001111",
};

static const char good_2byte[16][17] = {
	"0011100000101111", "1111111111111111", "1111111111111111", "0111001011111111",
	"1111111111111111", "1111111111111111", "1111111111111111", "1111111100111111",
	"1111111111111111", "1111111111111111", "1111111111111101", "1111111111111111",
	"1111111111111111", "1111111111111111", "1111111111111111", "1111111111111111",
};

static bool table_ok(const char table[16][17], uint8_t op)
{
	return table[op >> 4][op & 15] == '1';
}

static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

enum probe_cost probe_cost_x86(const uint8_t *b, size_t len, uint64_t offset)
{
	bool has66 = false, bad = false;
	uint8_t rex = 0, op, op2 = 0, modrm = 0;
	size_t i = 0, nmodrm;

	/* Legacy prefixes, then at most one REX right before the opcode. */
	for (; i < len; i++) {
		switch (b[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			/* is_prefix_bad(): segment overrides and lock */
			bad = true;
			continue;
		case 0x66:
			has66 = true;
			continue;
		case 0x64: case 0x65: case 0x67: case 0xf2: case 0xf3:
			continue;
		}
		break;
	}
	if (i < len && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (bad || i >= len)
		return PROBE_REFUSED;
	op = b[i];

	/*
	 * VEX (c4, c5) and EVEX (62): the kernel's decoder takes the byte
	 * after the prefix as the opcode and checks it against the one-byte
	 * table, so e.g. a VEX opcode 0x6f is refused like outs.
	 */
	if (op == 0xc4 || op == 0xc5 || op == 0x62) {
		size_t skip = op == 0xc5 ? 2 : op == 0xc4 ? 3 : 4;

		if (i + skip >= len)
			return PROBE_REFUSED;
		return table_ok(good_1byte, b[i + skip]) ? PROBE_SINGLE_STEP : PROBE_REFUSED;
	}
	if (op == 0x0f) {
		if (i + 1 >= len)
			return PROBE_REFUSED;
		op2 = b[i + 1];
		/* Three-byte maps 0f 38 / 0f 3a: plain SSE/AES/..., accepted. */
		if (op2 != 0x38 && op2 != 0x3a && !table_ok(good_2byte, op2))
			return PROBE_REFUSED;
		nmodrm = i + 2;
	} else {
		if (!table_ok(good_1byte, op))
			return PROBE_REFUSED;
		nmodrm = i + 1;
	}
	if (nmodrm < len)
		modrm = b[nmodrm];
	/* insn_masking_exception(): mov to %ss */
	if (op == 0x8e && ((modrm >> 3) & 7) == 2)
		return PROBE_REFUSED;
	/* 8f /1-7 is AMD XOP, which the kernel's decoder does not know. */
	if (op == 0x8f && ((modrm >> 3) & 7) != 0)
		return PROBE_REFUSED;

	/* NOPs are emulated (measured on 6.18, 66 90 included). */
	if (op == 0x0f && op2 == 0x1f && nmodrm < len && ((modrm >> 3) & 7) == 0) {
		/* The trampoline call is written atomically only within a page. */
		if (len == 5 && !memcmp(b, nop5, 5) && (offset & 0xfff) <= 0x1000 - 5)
			return PROBE_NOP5;
		return PROBE_EMULATED;
	}
	/* 41 90 is xchg %eax,%r8d, not a NOP: never let it be emulated as one. */
	if (op == 0x90)
		return rex & 1 ? PROBE_REFUSED : PROBE_EMULATED;

	/* branch_setup_xol_ops(): jmp, jcc, call rel; a 0x66 prefix is refused. */
	if (op == 0xe8 || op == 0xe9 || op == 0xeb || (op >= 0x70 && op <= 0x7f) ||
	    (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f))
		return has66 ? PROBE_REFUSED : PROBE_EMULATED;

	/* push_setup_xol_ops(): push reg, alone or with REX.B = 41 only. */
	if (op >= 0x50 && op <= 0x57 &&
	    (len == 1 || (len == 2 && b[0] == 0x41)))
		return PROBE_EMULATED;
	return PROBE_SINGLE_STEP;
}

/* ---- decoding ------------------------------------------------------------ */

#if defined(__x86_64__)

/*
 * Whether the instruction at @b (of @len bytes) is a NOP of any length,
 * as compilers pad with: 90 with any prefixes but REX.B (41 90 is an
 * xchg), 0f 1f /0 with any prefixes (66 2e 0f 1f 84 ...), and int3.
 */
static bool insn_is_filler(const uint8_t *b, size_t len)
{
	size_t i = 0;
	uint8_t rex = 0;

	while (i < len && (b[i] == 0x66 || b[i] == 0x2e || b[i] == 0x3e ||
			   b[i] == 0xf2 || b[i] == 0xf3))
		i++;
	if (i < len && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= len)
		return false;
	if (b[i] == 0x90)
		return !(rex & 1);
	if (b[i] == 0xcc)
		return true;
	return b[i] == 0x0f && i + 2 < len && b[i + 1] == 0x1f && ((b[i + 2] >> 3) & 7) == 0;
}

struct disasm {
	csh handle;
	cs_insn *insn;
};

struct disasm *disasm_new(void)
{
	struct disasm *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->handle) != CS_ERR_OK) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	cs_option(d->handle, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->handle);
	if (!d->insn) {
		cs_close(&d->handle);
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void disasm_free(struct disasm *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->handle);
	free(d);
}

static bool in_group(const cs_insn *insn, uint8_t group)
{
	const cs_detail *det = insn->detail;

	for (uint8_t i = 0; det && i < det->groups_count; i++)
		if (det->groups[i] == group)
			return true;
	return false;
}

static void classify(const cs_insn *ci, struct insn *in)
{
	const cs_x86 *x = &ci->detail->x86;

	switch (ci->id) {
	case X86_INS_JMP:
	case X86_INS_LJMP:
		in->flow = FLOW_JUMP;
		break;
	case X86_INS_CALL:
	case X86_INS_LCALL:
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
		in->flow = FLOW_CALL;
		break;
	case X86_INS_UD2:
	case X86_INS_UD2B:
	case X86_INS_UD0:
	case X86_INS_HLT:
	case X86_INS_INT3:
		in->flow = FLOW_STOP;
		break;
	default:
		if (in_group(ci, CS_GRP_JUMP))
			in->flow = FLOW_COND;
		else if (in_group(ci, CS_GRP_RET) || in_group(ci, CS_GRP_IRET))
			in->flow = FLOW_RET;
		else if (in_group(ci, CS_GRP_INT))
			in->flow = FLOW_CALL;
		else
			in->flow = FLOW_NEXT;
	}
	if (in->flow != FLOW_NEXT && in->flow != FLOW_RET && x->op_count == 1 &&
	    x->operands[0].type == X86_OP_IMM) {
		in->target = (uint64_t)x->operands[0].imm;
		in->flags |= INSN_TARGET;
	}
	if (ci->id == X86_INS_LEA && x->op_count == 2 && x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.base == X86_REG_RIP && x->operands[1].mem.index == X86_REG_INVALID) {
		in->target = ci->address + ci->size + (uint64_t)x->operands[1].mem.disp;
		in->flags |= INSN_REF_RIP;
	}
	if (in->flow == FLOW_JUMP && x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
	    x->operands[0].mem.base == X86_REG_INVALID &&
	    x->operands[0].mem.index != X86_REG_INVALID && x->operands[0].mem.scale == 8) {
		in->target = (uint64_t)x->operands[0].mem.disp;
		in->flags |= INSN_REF_TABLE8;
	}
	if (insn_is_filler(ci->bytes, ci->size))
		in->flags |= INSN_PADDING;
}

static int insn_push(struct func_code *fc, const struct insn *in)
{
	if (ARRAY_GROW(fc->v, fc->cap, fc->n + 1, 256))
		return -ENOMEM;
	fc->v[fc->n++] = *in;
	return 0;
}

int func_code_decode(struct disasm *d, const uint8_t *code, uint64_t vaddr,
		     uint64_t offset, uint64_t size, struct func_code *fc)
{
	size_t left = size;
	uint64_t addr = vaddr;
	int err;

	fc->n = 0;
	fc->start = vaddr;
	fc->end = vaddr + size;
	fc->offset = offset;
	while (left && cs_disasm_iter(d->handle, &code, &left, &addr, d->insn)) {
		const cs_insn *ci = d->insn;
		struct insn in = {
			.vaddr = ci->address,
			.len = ci->size,
			.cost = probe_cost_x86(ci->bytes, ci->size,
					       offset + (ci->address - vaddr)),
		};

		classify(ci, &in);
		err = insn_push(fc, &in);
		if (err)
			return err;
	}
	return 0;
}

#else /* !__x86_64__ */

struct disasm *disasm_new(void)
{
	errno = EOPNOTSUPP;
	return NULL;
}

void disasm_free(struct disasm *d)
{
	(void)d;
}

int func_code_decode(struct disasm *d, const uint8_t *code, uint64_t vaddr,
		     uint64_t offset, uint64_t size, struct func_code *fc)
{
	(void)d, (void)code, (void)vaddr, (void)offset, (void)size;
	fc->n = 0;
	return -EOPNOTSUPP;
}

#endif

void func_code_release(struct func_code *fc)
{
	free(fc->v);
	*fc = (struct func_code){};
}

size_t func_code_find(const struct func_code *fc, uint64_t vaddr)
{
	size_t lo = lower_bound_u64(fc->v, fc->n, sizeof(*fc->v), offsetof(struct insn, vaddr),
				    vaddr);

	return lo < fc->n && fc->v[lo].vaddr == vaddr ? lo : SIZE_MAX;
}

static void mark_leader(struct func_code *fc, uint64_t vaddr)
{
	size_t i;

	if (vaddr < fc->start || vaddr >= fc->end)
		return;
	/* A jump into the middle of an instruction: no place for a probe. */
	i = func_code_find(fc, vaddr);
	if (i != SIZE_MAX)
		fc->v[i].flags |= INSN_LEADER;
}

void func_code_mark_leaders(struct func_code *fc)
{
	size_t i, j;

	if (!fc->n)
		return;
	fc->v[0].flags |= INSN_LEADER;
	for (i = 0; i < fc->n; i++) {
		const struct insn *in = &fc->v[i];

		if (in->flags & INSN_TARGET)
			mark_leader(fc, in->target);
		switch (in->flow) {
		case FLOW_COND:
			if (i + 1 < fc->n)
				fc->v[i + 1].flags |= INSN_LEADER;
			break;
		case FLOW_JUMP:
		case FLOW_RET:
		case FLOW_STOP:
			/*
			 * What follows is reached only through a jump (a
			 * jump table when no direct jump names it): a
			 * block of its own, unless it is alignment filler.
			 */
			for (j = i + 1; j < fc->n && (fc->v[j].flags & INSN_PADDING); j++)
				;
			if (j < fc->n)
				fc->v[j].flags |= INSN_LEADER;
			break;
		default:
			break;
		}
	}
}

size_t func_code_block_end(const struct func_code *fc, size_t first, unsigned stop_flags)
{
	size_t j;

	for (j = first; j < fc->n; j++) {
		if (j > first && (fc->v[j].flags & stop_flags))
			break;
		if (fc->v[j].flow == FLOW_JUMP || fc->v[j].flow == FLOW_RET ||
		    fc->v[j].flow == FLOW_STOP)
			return j + 1;
	}
	return j;
}

size_t func_code_place(const struct func_code *fc, size_t first, enum probe_cost *cost)
{
	size_t best = first, j;

	*cost = fc->v[first].cost;
	for (j = first; j < fc->n; j++) {
		const struct insn *in = &fc->v[j];

		if (j > first && (in->flags & (INSN_LEADER | INSN_SITE)))
			break;
		if (in->cost < *cost) {
			*cost = in->cost;
			best = j;
		}
		/* The branch or call itself runs as often; what follows may not. */
		if (in->flow != FLOW_NEXT)
			break;
	}
	return best;
}

static void count_placement(enum probe_cost cost, struct site_module *m)
{
	switch (cost) {
	case PROBE_NOP5:
		m->nplace_nop5++;
		break;
	case PROBE_EMULATED:
		m->nplace_emulated++;
		break;
	default:
		m->nplace_single_step++;
		break;
	}
}

void site_place_at(struct site *s, const struct func_code *fc, size_t index,
		   enum probe_cost cost, struct site_module *m)
{
	s->probe_offset = fc->offset + (fc->v[index].vaddr - fc->start);
	count_placement(cost, m);
}

void func_code_choose(struct func_code *fc, struct func_choice *c)
{
	enum probe_cost cost;
	size_t at;

	*c = (struct func_choice){};
	if (!fc->n)
		return;
	func_code_mark_leaders(fc);
	at = func_code_place(fc, 0, &cost);
	*c = (struct func_choice){ .probe = fc->v[at].vaddr, .cost = cost, .decoded = true };
}

/* ---- the module ------------------------------------------------------------ */

/* Index of the first entry at or after @vaddr. */
static size_t entries_from(const struct code_ctx *ctx, uint64_t vaddr)
{
	return lower_bound_u64(ctx->entries, ctx->nentries, sizeof(*ctx->entries), 0, vaddr);
}

int code_ctx_decode(const struct code_ctx *ctx, size_t i, struct func_code *fc)
{
	const struct site *f = &ctx->funcs[i];
	uint64_t size = f->size;

	if (i + 1 < ctx->nfuncs && ctx->funcs[i + 1].vaddr - f->vaddr < size)
		size = ctx->funcs[i + 1].vaddr - f->vaddr;
	size_t k;
	int err;

	/* sites_elf.c checked this; a second look costs nothing. */
	if (f->offset > ctx->image_size || size > ctx->image_size - f->offset) {
		fc->n = 0;
		return 0;
	}
	err = func_code_decode(ctx->d, ctx->image + f->offset, f->vaddr, f->offset, size, fc);
	if (err || !ctx->nentries)
		return err;
	k = entries_from(ctx, fc->start);
	for (; k < ctx->nentries && ctx->entries[k] < fc->end; k++)
		mark_leader(fc, ctx->entries[k]);
	return 0;
}

/* ---- workers: the passes over every function, on several threads -------- */

/*
 * Functions a worker must have for its thread to pay: starting one costs
 * tens of microseconds, decoding a small function a few.
 */
#define FUNCS_PER_WORKER 256

struct code_workers {
	pthread_mutex_t strings_lock;
	unsigned n;
	struct disasm *d[PARALLEL_MAX_WORKERS];	/* d[0] is ctx->d */
};

int code_ctx_open(struct code_ctx *ctx)
{
	unsigned want = parallel_workers(ctx->nfuncs, FUNCS_PER_WORKER);
	struct code_workers *w;

	ctx->workers = NULL;
	ctx->d = disasm_new();
	if (!ctx->d)
		return -errno;
	if (want < 2)
		return 0;
	/* Without memory for more, one worker gives the same sites. */
	w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	pthread_mutex_init(&w->strings_lock, NULL);
	w->d[0] = ctx->d;
	for (w->n = 1; w->n < want; w->n++) {
		w->d[w->n] = disasm_new();
		if (!w->d[w->n])
			break;
	}
	ctx->workers = w;
	return 0;
}

void code_ctx_close(struct code_ctx *ctx)
{
	struct code_workers *w = ctx->workers;

	free(ctx->sections);
	ctx->sections = NULL;
	ctx->nsections = 0;
	if (w) {
		for (unsigned i = 1; i < w->n; i++)
			disasm_free(w->d[i]);
		pthread_mutex_destroy(&w->strings_lock);
		free(w);
	}
	disasm_free(ctx->d);
	ctx->workers = NULL;
	ctx->d = NULL;
}

unsigned code_ctx_nworkers(const struct code_ctx *ctx)
{
	return ctx->workers ? ctx->workers->n : 1;
}

int code_ctx_run(const struct code_ctx *ctx,
		 int (*fn)(void *arg, unsigned worker, size_t lo, size_t hi), void *arg,
		 struct parallel_job *job)
{
	return parallel_run(code_ctx_nworkers(ctx), ctx->nfuncs, fn, arg, job);
}

void code_ctx_worker(const struct code_ctx *ctx, unsigned worker, struct code_ctx *out)
{
	*out = *ctx;
	if (ctx->workers)
		out->d = ctx->workers->d[worker];
}

int code_ctx_row_source(const struct code_ctx *ctx, const struct line_row *row,
			const char **file, uint32_t *line)
{
	int err;

	if (ctx->workers)
		pthread_mutex_lock(&ctx->workers->strings_lock);
	err = line_row_source(row, ctx->strings, file, line);
	if (ctx->workers)
		pthread_mutex_unlock(&ctx->workers->strings_lock);
	return err;
}

void *code_ctx_alloc(const struct code_ctx *ctx, size_t size)
{
	void *p;

	if (ctx->workers)
		pthread_mutex_lock(&ctx->workers->strings_lock);
	p = site_strings_alloc(ctx->strings, size);
	if (ctx->workers)
		pthread_mutex_unlock(&ctx->workers->strings_lock);
	return p;
}

/* One worker's share of code_ctx_build_sites(). */
struct build_worker {
	struct func_code fc;
	struct site *v;
	size_t n, cap;
	struct site_module m;	/* placement counts only */
};

struct build_pass {
	const struct code_ctx *ctx;
	code_func_sites_fn *fn;
	struct build_worker w[PARALLEL_MAX_WORKERS];
	/*
	 * Per function: the worker that built its sites, and that worker's
	 * site count after them.  A worker takes functions in increasing
	 * order, so its sites are in function order too.
	 */
	struct build_span {
		unsigned worker;
		size_t end;
	} *spans;
};

static int build_slice(void *arg, unsigned worker, size_t lo, size_t hi)
{
	struct build_pass *p = arg;
	struct build_worker *w = &p->w[worker];
	struct code_ctx ctx;
	size_t i;
	int err;

	code_ctx_worker(p->ctx, worker, &ctx);
	for (i = lo; i < hi; i++) {
		err = p->fn(&ctx, i, &w->fc, &w->v, &w->n, &w->cap, &w->m);
		if (err)
			return err;
		p->spans[i] = (struct build_span){ worker, w->n };
	}
	return 0;
}

/* The workers' sites in function order, in *@out (NULL when none). */
static int build_merge(struct build_pass *p, unsigned nworkers, struct site **out, size_t *n)
{
	size_t from[PARALLEL_MAX_WORKERS] = {}, total = 0, k = 0, i;
	struct site *v;
	unsigned w;

	for (w = 0; w < nworkers; w++)
		total += p->w[w].n;
	if (total > SITES_MAX_PER_MODULE)
		return -E2BIG;
	/* One worker built them in order already. */
	if (nworkers == 1 || !total) {
		*out = p->w[0].v;
		*n = p->w[0].n;
		p->w[0].v = NULL;
		return 0;
	}
	v = reallocarray(NULL, total, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < p->ctx->nfuncs; i++) {
		const struct build_span *s = &p->spans[i];
		size_t c = s->end - from[s->worker];

		if (c)
			memcpy(v + k, p->w[s->worker].v + from[s->worker], c * sizeof(*v));
		k += c;
		from[s->worker] = s->end;
	}
	*out = v;
	*n = total;
	return 0;
}

static void add_placement_counts(struct site_module *to, const struct site_module *from)
{
	to->nplace_nop5 += from->nplace_nop5;
	to->nplace_emulated += from->nplace_emulated;
	to->nplace_single_step += from->nplace_single_step;
	to->nrefused += from->nrefused;
}

int code_ctx_build_sites(const struct code_ctx *ctx, code_func_sites_fn *fn,
			 struct site **out, size_t *n, struct site_module *m)
{
	struct build_pass p = { .ctx = ctx, .fn = fn };
	unsigned nworkers = code_ctx_nworkers(ctx), w;
	int err;

	p.spans = calloc(ctx->nfuncs ?: 1, sizeof(*p.spans));
	if (!p.spans)
		return -ENOMEM;
	err = code_ctx_run(ctx, build_slice, &p, NULL);
	if (!err)
		err = build_merge(&p, nworkers, out, n);
	for (w = 0; w < nworkers; w++) {
		if (!err)
			add_placement_counts(m, &p.w[w].m);
		func_code_release(&p.w[w].fc);
		free(p.w[w].v);
	}
	free(p.spans);
	return err;
}

/* ---- function sites ----------------------------------------------------------- */

/*
 * Whether an entry of @ctx lies in (@f's start, @probe]: then the run
 * from the function's start ends at or before @probe, which a choice made
 * without the entries did not know.
 */
static bool entry_before(const struct code_ctx *ctx, const struct site *f, uint64_t probe)
{
	size_t k = entries_from(ctx, f->vaddr + 1);

	return k < ctx->nentries && ctx->entries[k] <= probe;
}

int sites_place_funcs(const struct code_ctx *ctx, const struct func_choice *choices,
		      struct site *sites, size_t *n, struct site_module *m)
{
	struct func_code fc = {};
	size_t i, kept = 0, total = *n;
	int err = 0;

	for (i = 0; i < total; i++) {
		struct func_choice c = choices[i];
		struct site s = sites[i];

		/* Rare: another function jumps into this one's first run. */
		if (c.decoded && entry_before(ctx, &s, c.probe)) {
			err = code_ctx_decode(ctx, i, &fc);
			if (err)
				goto out;
			func_code_choose(&fc, &c);
		}
		if (!c.decoded) {
			/* Not decodable: keep the entry, the kernel decides. */
			m->nplace_single_step++;
		} else if (c.cost == PROBE_REFUSED) {
			m->nrefused++;
			continue;
		} else {
			s.probe_offset = s.offset + (c.probe - s.vaddr);
			count_placement(c.cost, m);
		}
		sites[kept++] = s;
	}
	*n = kept;
out:
	func_code_release(&fc);
	return err;
}

int site_vec_push(struct site **v, size_t *n, size_t *cap, const struct site *s)
{
	if (*n >= SITES_MAX_PER_MODULE)
		return -E2BIG;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		void *p = reallocarray(*v, c, sizeof(**v));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

/*
 * What sites_build_kind() reads from DWARF: file:line and func_line of
 * the function sites.  No code and no decoder: it runs as a job beside
 * the entries pass, which needs none of it.
 */
struct dwarf_job {
	Elf *elf;		/* NULL: no line table (--no-dwarf) */
	bool need_lines;	/* line sites: an empty line table ends the build */
	struct line_table *lt;
	struct site_strings *strings;
	struct site *sites;
	size_t n;
	bool has_dwarf;		/* the line table has rows */
	bool failed;		/* atomic: the entries pass can stop (code_ctx.cancel) */
};

static int dwarf_job_read(struct dwarf_job *j)
{
	size_t i;
	int err;

	if (j->elf) {
		err = line_table_read(j->elf, j->lt);
		if (err)
			return err;
		j->has_dwarf = j->lt->n > 0;
		err = line_table_fill(j->lt, j->strings, j->sites, j->n);
		if (err)
			return err;
	}
	for (i = 0; i < j->n; i++)
		j->sites[i].func_line = j->sites[i].line;
	return line_table_func_lines(j->lt, j->sites, j->n);
}

/* parallel_job: dwarf_job_read(), and stop the entries pass when it failed. */
static int dwarf_job_run(void *arg)
{
	struct dwarf_job *j = arg;
	int err = dwarf_job_read(j);

	if (err || (j->need_lines && !j->lt->n))
		__atomic_store_n(&j->failed, true, __ATOMIC_RELAXED);
	return err;
}

/*
 * Opens @ctx on the code of @elf: its decoders and the sections tables
 * can be in, the last libelf calls before the passes.  *@no_code gets
 * why there is no decoder (the caller decides whether that is an error).
 * Returns 0 or -ENOMEM.
 */
static int open_code(struct code_ctx *ctx, Elf *elf, int *no_code)
{
	size_t size;

	ctx->image = (const uint8_t *)elf_rawfile(elf, &size);
	ctx->image_size = size;
	*no_code = ctx->image ? code_ctx_open(ctx) : -ENOEXEC;
	return *no_code ? 0 : code_ctx_read_sections(ctx, elf);
}

/* The sites of @kind from the entries and choices in @ctx (see below). */
static int build_kind(enum site_kind kind, const struct code_ctx *ctx,
		      const struct func_choice *choices, struct site **sites, size_t *n,
		      struct site_module *m, const char **why)
{
	struct site *built = NULL;
	size_t nbuilt = 0;
	int err;

	switch (kind) {
	case SITE_KIND_FUNC:
		err = sites_place_funcs(ctx, choices, *sites, n, m);
		if (!err && !*n) {
			*why = "the kernel cannot probe any function's entry";
			err = -ENODATA;
		}
		return err;
	case SITE_KIND_LINE:
		err = sites_line_build(ctx, &built, &nbuilt, m);
		if (err == -ENODATA)
			*why = "no DWARF line table row lies in a function";
		break;
	case SITE_KIND_BB:
		err = sites_bb_build(ctx, &built, &nbuilt, m);
		if (!err && !nbuilt) {
			*why = "no basic block the kernel can probe";
			err = -ENODATA;
		}
		break;
	default:
		err = -EINVAL;
		break;
	}
	if (err == -E2BIG)
		*why = "too many sites";
	if (err) {
		free(built);
		return err;
	}
	free(*sites);
	*sites = built;
	*n = nbuilt;
	return 0;
}

int sites_build_kind(enum site_kind kind, bool no_dwarf, Elf *elf, Elf *dwarf_elf,
		     struct site_strings *strings, struct site **sites, size_t *n,
		     struct site_module *m, const char **why)
{
	struct line_table lt = {};
	struct code_ctx ctx = { .strings = strings, .lines = &lt, .funcs = *sites, .nfuncs = *n };
	struct dwarf_job dwarf = {
		/* Line sites are the line table: --no-dwarf cannot apply to them. */
		.elf = !no_dwarf || kind == SITE_KIND_LINE ? dwarf_elf ?: elf : NULL,
		.need_lines = kind == SITE_KIND_LINE,
		.lt = &lt, .strings = strings, .sites = *sites, .n = *n,
	};
	struct parallel_job job = { .fn = dwarf_job_run, .arg = &dwarf };
	struct func_choice *choices = NULL;
	int err, no_code, entries_err = 0;

	if (kind == SITE_KIND_FUNC) {
		choices = calloc(*n ?: 1, sizeof(*choices));
		if (!choices)
			return -ENOMEM;
	}
	err = open_code(&ctx, elf, &no_code);
	if (err)
		goto out;
	/*
	 * DWARF (the line table, the subprograms: a third of libc's time
	 * with its debug file) needs no code, and the entries pass needs no
	 * DWARF: one worker reads it while the others decode, then decodes
	 * too.  Each writes its own fields of the function sites; the pass
	 * calls no libelf (open_code() did), so only DWARF uses the Elf
	 * handles meanwhile.
	 */
	ctx.cancel = &dwarf.failed;
	if (no_code)
		job.err = dwarf_job_run(&dwarf);
	else
		entries_err = code_ctx_find_entries(&ctx, choices, &job);
	err = job.err;
	m->has_dwarf = dwarf.has_dwarf;
	if (err)
		goto out;
	if (kind == SITE_KIND_LINE && !lt.n) {
		*why = "no DWARF line table (build with -g, or use --sites func)";
		err = -ENODATA;
		goto out;
	}
	if (no_code) {
		/* Function entries need no decoder: they stay where they are. */
		if (kind != SITE_KIND_FUNC) {
			*why = "line and bb sites need an x86-64 binary and host";
			err = no_code;
		}
		goto out;
	}
	err = entries_err;
	if (!err)
		err = build_kind(kind, &ctx, choices, sites, n, m, why);
out:
	free(choices);
	free(ctx.entries);
	code_ctx_close(&ctx);
	line_table_release(&lt);
	return err;
}
