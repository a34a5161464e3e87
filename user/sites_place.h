/* SPDX-License-Identifier: MIT */
/*
 * Disassembly for the sites module: decoding a function, its basic-block
 * leaders, what the kernel's uprobe does with each instruction, and where
 * in a straight-line run a probe is cheapest.  Private to user/sites*.c.
 *
 * Units: every address here is an ELF vaddr unless it says offset (a byte
 * offset in the module's file, what the uprobe API takes).
 */
#ifndef UKCOV_SITES_PLACE_H
#define UKCOV_SITES_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sites.h"
#include "sites_dwarf.h"

/*
 * What a uprobe on one instruction costs on x86-64, cheapest first (the
 * order is used: lower is better).  Measured on Linux 6.18 per hit:
 * a 5-byte NOP ~0.4-0.5 us (the kernel patches it into a call of its
 * uprobe trampoline), an emulated instruction ~0.6 us, a single-stepped
 * one ~11-15 us (a trap, an out-of-line copy, a second trap).
 */
enum probe_cost {
	PROBE_NOP5,		/* nopl 0x0(%rax,%rax,1) within one page */
	PROBE_EMULATED,		/* nops, jmp/jcc/call rel, push reg */
	PROBE_SINGLE_STEP,	/* everything else the kernel accepts */
	PROBE_REFUSED,		/* arch_uprobe_analyze_insn() would fail */
};

/*
 * The cost of probing the @len-byte x86-64 instruction at @bytes, which
 * lies at file offset @offset (only its page offset matters: the kernel
 * cannot patch a NOP that crosses a page).  @len comes from a decoder;
 * the prefixes and opcode are read here, following the tables and
 * special cases of arch/x86/kernel/uprobes.c, and refusing more than the
 * kernel does where it is unsure (a refused instruction only moves the
 * probe or drops a site; a wrongly accepted one loses counts silently).
 */
enum probe_cost probe_cost_x86(const uint8_t *bytes, size_t len, uint64_t offset);

/* How control leaves an instruction. */
enum insn_flow {
	FLOW_NEXT,	/* falls through to the next instruction */
	FLOW_COND,	/* conditional branch: the target or the next one */
	FLOW_JUMP,	/* unconditional jump (direct when it has a target) */
	FLOW_CALL,	/* call, syscall, int N: normally comes back */
	FLOW_RET,	/* ret, iret */
	FLOW_STOP,	/* never falls through: ud2, hlt, int3 */
};

enum insn_flags {
	INSN_TARGET = 1u << 0,	/* target holds a direct branch/call target */
	INSN_LEADER = 1u << 1,	/* first instruction of a basic block */
	INSN_SITE = 1u << 2,	/* a site begins here (set by the caller) */
	INSN_PADDING = 1u << 3,	/* a NOP or int3 (alignment filler if unreached) */
	INSN_REF_RIP = 1u << 4,	/* target holds the address a rip-relative lea takes */
	INSN_REF_TABLE8 = 1u << 5,	/* an indirect jmp *disp(,%reg,8): target holds disp */
};

struct insn {
	uint64_t vaddr;
	uint64_t target;	/* vaddr; valid with INSN_TARGET */
	uint8_t len;		/* bytes */
	uint8_t cost;		/* enum probe_cost */
	uint8_t flow;		/* enum insn_flow */
	uint8_t flags;		/* enum insn_flags */
};

/* One function's instructions, in address order. */
struct func_code {
	struct insn *v;
	size_t n, cap;
	uint64_t start, end;	/* vaddrs: [start, end) was to be decoded */
	uint64_t offset;	/* file offset of start */
};

struct disasm;

/*
 * A decoder for the host's machine code (x86-64 only, through Capstone).
 * Returns NULL and sets errno: EOPNOTSUPP on other machines, ENOMEM.
 */
struct disasm *disasm_new(void);
void disasm_free(struct disasm *d);

/*
 * Decodes @size bytes of code at @code, which lie at vaddr @vaddr and
 * file offset @offset, into @fc (its vector is reused; release it with
 * func_code_release()).  Decoding stops early at the first byte sequence
 * that is no instruction: what follows is unknown and gets no sites.
 * Marks no leaders.  Returns 0 or -ENOMEM.
 */
int func_code_decode(struct disasm *d, const uint8_t *code, uint64_t vaddr,
		     uint64_t offset, uint64_t size, struct func_code *fc);
void func_code_release(struct func_code *fc);

/*
 * Marks the basic-block leaders of @fc with INSN_LEADER: the entry; the
 * direct jump, conditional jump and call targets inside the function
 * that are instruction starts; the instruction after a conditional jump;
 * and the first instruction that is not padding after a jump, ret, or
 * ud2/hlt/int3.  The instruction after a call is no leader (see
 * /tmp/readme-sites.md: a block that calls counts its entries).
 */
void func_code_mark_leaders(struct func_code *fc);

/* Index of the instruction starting at vaddr @vaddr, or SIZE_MAX. */
size_t func_code_find(const struct func_code *fc, uint64_t vaddr);

/*
 * Index of the byte after the basic block or run that begins at
 * instruction @first: the end is before the next instruction marked with
 * any of @stop_flags, or right after the first instruction that does not
 * fall through (FLOW_JUMP, FLOW_RET, FLOW_STOP).  Returns an index into
 * fc->v, one past the block's last instruction.
 */
size_t func_code_block_end(const struct func_code *fc, size_t first, unsigned stop_flags);

/*
 * Chooses where to probe the straight-line run that begins at
 * instruction @first: every instruction up to and including the first
 * branch, call or ret, and before the next one marked INSN_LEADER or
 * INSN_SITE, executes exactly as often as @first.  Returns the index of
 * the cheapest of them (the earliest among equals), and its cost in
 * *@cost; PROBE_REFUSED when the kernel refuses them all.
 */
size_t func_code_place(const struct func_code *fc, size_t first, enum probe_cost *cost);

/*
 * Moves @s->probe_offset to instruction @index of @fc and counts the
 * choice in @m.  @cost must not be PROBE_REFUSED.
 */
void site_place_at(struct site *s, const struct func_code *fc, size_t index,
		   enum probe_cost cost, struct site_module *m);

struct code_workers;

/* An allocated section with file contents: where jump tables can be. */
struct code_section {
	uint64_t addr, size;	/* vaddr and bytes */
	uint64_t offset;	/* file offset */
};

/*
 * What the site builders need about the module's code.  Every function
 * site of @funcs (sorted by vaddr, one per address, as sites_elf.c makes
 * them) lies with all its bytes in @image, the whole file.
 */
struct code_ctx {
	struct disasm *d;		/* worker 0's decoder; in a pass, the worker's */
	const uint8_t *image;		/* the file's bytes */
	uint64_t image_size;
	const struct site *funcs;	/* function sites, sorted by vaddr */
	size_t nfuncs;
	/*
	 * NULL or empty without DWARF.  sites_build_kind() reads it beside
	 * code_ctx_find_entries(), which must not look at it (nor at the
	 * file:line of @funcs); the passes after may.
	 */
	const struct line_table *lines;
	struct site_strings *strings;	/* workers: through code_ctx_row_source()... */
	/*
	 * Where control may enter the module's code other than by falling
	 * through or by a jump of the same function: sorted vaddrs
	 * (code_ctx_find_entries()); code_ctx_decode() marks them leaders.
	 */
	uint64_t *entries;
	size_t nentries;
	/*
	 * The module's sections a jump table can be in
	 * (code_ctx_read_sections()): the passes call no libelf, so that
	 * DWARF can be read from the same Elf beside them.
	 */
	struct code_section *sections;
	size_t nsections;
	/*
	 * NULL, or set from another thread to end code_ctx_find_entries()
	 * early (it then fails with -ECANCELED): the job beside it failed.
	 */
	const bool *cancel;
	/*
	 * What the passes over every function need to run on several
	 * threads (code_ctx_open()): a decoder per worker, and a lock on
	 * @strings.  NULL: one worker, @d.
	 */
	struct code_workers *workers;
};

/*
 * Opens the decoders of @ctx: ctx->d, and one more per other worker the
 * passes over its ctx->nfuncs functions will run on (parallel.h).
 * Returns 0 or a negative errno (-EOPNOTSUPP on other machines than
 * x86-64, -ENOMEM); call code_ctx_close() either way.
 */
int code_ctx_open(struct code_ctx *ctx);
void code_ctx_close(struct code_ctx *ctx);

/*
 * Fills ctx->sections from the section headers of @elf, which ctx->image
 * is the file of (code_ctx_close() frees them).  Returns 0 or -ENOMEM.
 */
int code_ctx_read_sections(struct code_ctx *ctx, Elf *elf);

struct parallel_job;

/*
 * Runs @fn(@arg, worker, lo, hi) over the functions [0, ctx->nfuncs) on
 * the workers of @ctx, and @job (NULL: none) on one of them first
 * (parallel_run()); code_ctx_worker() gives each its view of @ctx.
 * Returns 0 or the first error in function order.
 */
int code_ctx_run(const struct code_ctx *ctx,
		 int (*fn)(void *arg, unsigned worker, size_t lo, size_t hi), void *arg,
		 struct parallel_job *job);

/* How many workers code_ctx_run() uses (>= 1): the size of per-worker scratch. */
unsigned code_ctx_nworkers(const struct code_ctx *ctx);

/* @ctx as worker @worker uses it, in *@out: with that worker's decoder. */
void code_ctx_worker(const struct code_ctx *ctx, unsigned worker, struct code_ctx *out);

/*
 * line_row_source() and site_strings_alloc() on ctx->strings, which the
 * workers share: safe from any of them.
 */
int code_ctx_row_source(const struct code_ctx *ctx, const struct line_row *row,
			const char **file, uint32_t *line);
void *code_ctx_alloc(const struct code_ctx *ctx, size_t size);

/*
 * Appends the sites of function @i of @ctx to the vector (@*v, @*n, @*cap:
 * site_vec_push()), using @fc as scratch, and counts their placement in
 * @m (nplace_*, nrefused).  Returns 0 or a negative errno.
 */
typedef int code_func_sites_fn(const struct code_ctx *ctx, size_t i, struct func_code *fc,
			       struct site **v, size_t *n, size_t *cap, struct site_module *m);

/*
 * Calls @fn for every function of @ctx on its workers and concatenates
 * the sites in function order: the same array whatever the number of
 * workers.  Returns 0 with a malloc'd array in *@out (NULL when *@n is
 * 0) and the placement counts added to @m, or a negative errno (-E2BIG
 * past SITES_MAX_PER_MODULE sites in all).
 */
int code_ctx_build_sites(const struct code_ctx *ctx, code_func_sites_fn *fn,
			 struct site **out, size_t *n, struct site_module *m);

/*
 * Where the probe of a function site goes, chosen from the function's own
 * leaders only (func_code_choose()): while the module's entries are being
 * found, so that function sites need not decode every function twice.
 * sites_place_funcs() keeps the choice unless an entry falls between.
 */
struct func_choice {
	uint64_t probe;		/* vaddr of the chosen instruction */
	uint8_t cost;		/* enum probe_cost; PROBE_REFUSED: drop the site */
	bool decoded;		/* false: no instruction, keep the entry */
};

/*
 * Marks @fc's leaders and chooses where its function site's probe goes:
 * the cheapest instruction of its first straight-line run.
 */
void func_code_choose(struct func_code *fc, struct func_choice *c);

/*
 * Fills @ctx->entries from every function of @ctx and the module's
 * read-only data (ctx->sections): direct jump and call targets (a tail
 * jump from another function into this one's body), code addresses taken
 * by rip-relative lea, and the targets of the jump tables indirect jumps
 * read (a switch case reached by falling through from the previous one is
 * still entered through the table).  More entries than real ones only
 * split blocks and keep probes where they are; a missing one would let a
 * probe move past an entry and count it.  With @choices (NULL or
 * ctx->nfuncs of them), also chooses each function's probe while it is
 * decoded.  @beside (NULL: none) runs on one of the workers before it
 * decodes (code_ctx_run()).  Returns 0, -ENOMEM or -ECANCELED
 * (ctx->cancel).
 */
int code_ctx_find_entries(struct code_ctx *ctx, struct func_choice *choices,
			  struct parallel_job *beside);

/*
 * Decodes function @i of @ctx into @fc: its range ends at the next
 * function's start when the symbols overlap, so no byte belongs to two
 * functions.  Returns 0 or -ENOMEM.
 */
int code_ctx_decode(const struct code_ctx *ctx, size_t i, struct func_code *fc);

/*
 * Places the probe of each function site of @sites (@*n of them, the
 * function list of @ctx) on the cheapest instruction of the function's
 * first straight-line run, as @choices (code_ctx_find_entries()) says,
 * or decoding the function again when one of ctx->entries cuts that run
 * before the choice.  Sites the kernel cannot probe anywhere in that run
 * are removed (compacting @sites, updating *@n) and counted in
 * @m->nrefused; a function that does not decode keeps its entry.
 * Returns 0 or -ENOMEM.
 */
int sites_place_funcs(const struct code_ctx *ctx, const struct func_choice *choices,
		      struct site *sites, size_t *n, struct site_module *m);

/*
 * Basic-block sites of every function of @ctx (sites_bb.c): one per
 * leader, size = the block's bytes, file:line of the covering line row.
 * Returns a malloc'd array in *@out (sorted by vaddr) of *@n sites, or a
 * negative errno (-ENOMEM, -E2BIG).  Fills @m's placement counts.
 */
int sites_bb_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		   struct site_module *m);

/*
 * Line sites of @ctx (sites_line.c): one per distinct address where an
 * is_stmt row of ctx->lines begins, inside a function.  Same contract as
 * sites_bb_build(); -ENODATA when no row falls in any function.
 */
int sites_line_build(const struct code_ctx *ctx, struct site **out, size_t *n,
		     struct site_module *m);

/*
 * Turns the function sites @*sites (@*n of them, sorted by vaddr, malloc'd)
 * into the sites of @kind, in place: fills file:line from the DWARF of
 * @dwarf_elf (NULL: @elf) unless @no_dwarf (line sites read it anyway),
 * sets func_line, and for SITE_KIND_LINE / SITE_KIND_BB replaces the array
 * with the new sites (freeing the old one).  Code bytes come from @elf's
 * file image.  Places every probe and fills @m's counts and has_dwarf.
 * Returns 0 or a negative errno with *@why set for the user:
 *   -ENODATA  no line table for line sites, or no site left
 *   -E2BIG    more than SITES_MAX_PER_MODULE sites
 *   -ENOMEM, -EOPNOTSUPP (no decoder for this machine)
 * On error *@sites is still the caller's to free.
 */
int sites_build_kind(enum site_kind kind, bool no_dwarf, Elf *elf, Elf *dwarf_elf,
		     struct site_strings *strings, struct site **sites, size_t *n,
		     struct site_module *m, const char **why);

/* Appends @s to a growing site array; returns 0 or -ENOMEM / -E2BIG. */
int site_vec_push(struct site **v, size_t *n, size_t *cap, const struct site *s);

#endif /* UKCOV_SITES_PLACE_H */
