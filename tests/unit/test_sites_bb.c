// SPDX-License-Identifier: MIT
/*
 * Unit tests of basic-block sites and probe placement (user/sites_place.c,
 * user/sites_bb.c).
 *
 * Truth: the costs are the x86 encodings and the kernel's rules
 * (arch/x86/kernel/uprobes.c) written out by hand; the blocks of the
 * fixture tests/fixtures/bb_blocks.S are named by labels in its source,
 * read back here with nm, never through the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "sites.h"
#include "sites_place.h"

/* ---- what the kernel does with one instruction -------------------------- */

struct cost_case {
	const char *what;
	uint8_t bytes[15];
	size_t len;
	uint64_t offset;
	enum probe_cost want;
};

static const struct cost_case cost_cases[] = {
	{ "nopl 0x0(%rax,%rax,1)", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, 0x1100, PROBE_NOP5 },
	/* Crossing a page: the kernel cannot patch it atomically. */
	{ "nop5 across a page", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, 0x1ffd, PROBE_EMULATED },
	{ "nop5 ending at a page end", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, 0x1ffb, PROBE_NOP5 },
	{ "nopl (%rax)", { 0x0f, 0x1f, 0x00 }, 3, 0, PROBE_EMULATED },
	{ "nopw 0x0(%rax,%rax,1)", { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, 0, PROBE_EMULATED },
	{ "nop", { 0x90 }, 1, 0, PROBE_EMULATED },
	{ "xchg %ax,%ax", { 0x66, 0x90 }, 2, 0, PROBE_EMULATED },
	{ "xchg %eax,%r8d", { 0x41, 0x90 }, 2, 0, PROBE_REFUSED },
	{ "cs nopw (padding)", { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 10, 0, PROBE_REFUSED },
	{ "push %rbx", { 0x53 }, 1, 0, PROBE_EMULATED },
	{ "push %r12", { 0x41, 0x54 }, 2, 0, PROBE_EMULATED },
	{ "push %rbp with REX.W", { 0x48, 0x55 }, 2, 0, PROBE_SINGLE_STEP },
	{ "pushw %bx", { 0x66, 0x53 }, 2, 0, PROBE_SINGLE_STEP },
	{ "jmp rel8", { 0xeb, 0x05 }, 2, 0, PROBE_EMULATED },
	{ "jmp rel32", { 0xe9, 1, 2, 3, 4 }, 5, 0, PROBE_EMULATED },
	{ "je rel8", { 0x74, 0x05 }, 2, 0, PROBE_EMULATED },
	{ "jne rel32", { 0x0f, 0x85, 1, 2, 3, 4 }, 6, 0, PROBE_EMULATED },
	{ "call rel32", { 0xe8, 1, 2, 3, 4 }, 5, 0, PROBE_EMULATED },
	{ "bnd jmp rel32", { 0xf2, 0xe9, 1, 2, 3, 4 }, 6, 0, PROBE_EMULATED },
	{ "callw (0x66 prefix)", { 0x66, 0xe8, 1, 2 }, 4, 0, PROBE_REFUSED },
	{ "mov %rdi,%rax", { 0x48, 0x89, 0xf8 }, 3, 0, PROBE_SINGLE_STEP },
	{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa }, 4, 0, PROBE_SINGLE_STEP },
	{ "ret", { 0xc3 }, 1, 0, PROBE_SINGLE_STEP },
	{ "call *%rax", { 0xff, 0xd0 }, 2, 0, PROBE_SINGLE_STEP },
	{ "mov %fs:0x28,%rax", { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0 }, 9, 0,
	  PROBE_SINGLE_STEP },
	{ "lock addq $1,(%rdi)", { 0xf0, 0x48, 0x83, 0x07, 0x01 }, 5, 0, PROBE_REFUSED },
	{ "notrack jmp *%rax", { 0x3e, 0xff, 0xe0 }, 3, 0, PROBE_REFUSED },
	{ "int3", { 0xcc }, 1, 0, PROBE_REFUSED },
	{ "int $0x80", { 0xcd, 0x80 }, 2, 0, PROBE_REFUSED },
	{ "hlt", { 0xf4 }, 1, 0, PROBE_REFUSED },
	{ "ud2", { 0x0f, 0x0b }, 2, 0, PROBE_REFUSED },
	{ "syscall", { 0x0f, 0x05 }, 2, 0, PROBE_REFUSED },
	{ "mov %eax,%ss", { 0x8e, 0xd0 }, 2, 0, PROBE_REFUSED },
	{ "in (%dx),%al", { 0xec }, 1, 0, PROBE_REFUSED },
	/* VEX: the kernel checks the opcode byte after the prefix (6f = outs). */
	{ "vmovdqa %xmm1,%xmm0", { 0xc5, 0xf9, 0x6f, 0xc1 }, 4, 0, PROBE_REFUSED },
	{ "vaddps %xmm2,%xmm1,%xmm0", { 0xc5, 0xf0, 0x58, 0xc2 }, 4, 0, PROBE_SINGLE_STEP },
	{ "pshufb (0f 38)", { 0x66, 0x0f, 0x38, 0x00, 0xc1 }, 5, 0, PROBE_SINGLE_STEP },
};

static void test_probe_costs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cost_cases) / sizeof(cost_cases[0]); i++) {
		const struct cost_case *c = &cost_cases[i];
		enum probe_cost got = probe_cost_x86(c->bytes, c->len, c->offset);

		if (got != c->want)
			fail_msg("%s: cost %d, want %d", c->what, got, c->want);
	}
}

/* ---- placement on hand-written runs ------------------------------------ */

/* Decodes @len bytes at vaddr/offset 0x1000 and places the run at @first. */
static size_t place(const uint8_t *code, size_t len, size_t first,
		    uint64_t leader_vaddr, enum probe_cost *cost, uint64_t *vaddr)
{
	struct disasm *d = disasm_new();
	struct func_code fc = {};
	size_t at;

	assert_non_null(d);
	assert_int_equal(func_code_decode(d, code, 0x1000, 0x1000, len, &fc), 0);
	assert_true(fc.n > first);
	if (leader_vaddr) {
		size_t i = func_code_find(&fc, leader_vaddr);

		assert_int_not_equal(i, SIZE_MAX);
		fc.v[i].flags |= INSN_LEADER;
	}
	at = func_code_place(&fc, first, cost);
	*vaddr = fc.v[at].vaddr;
	func_code_release(&fc);
	disasm_free(d);
	return at;
}

static void test_place_push_over_mov(void **state)
{
	/* mov %rdi,%rax; push %rbx; pop %rbx; ret */
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0x53, 0x5b, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	assert_int_equal(place(code, sizeof(code), 0, 0, &cost, &at), 1);
	assert_int_equal(at, 0x1003);
	assert_int_equal(cost, PROBE_EMULATED);
}

static void test_place_nop5_preferred(void **state)
{
	/* mov; push %rbx; nopl 0x0(%rax,%rax,1); pop %rbx; ret */
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0x53, 0x0f, 0x1f, 0x44, 0x00,
					0x00, 0x5b, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0, &cost, &at);
	assert_int_equal(at, 0x1004);
	assert_int_equal(cost, PROBE_NOP5);
}

static void test_place_stops_after_branch(void **state)
{
	/* mov; jmp +1; push %rbx (after the jump: not the same count); ret */
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0xeb, 0x01, 0x53, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0, &cost, &at);
	assert_int_equal(at, 0x1003);	/* the jmp itself: it runs as often */
	assert_int_equal(cost, PROBE_EMULATED);
}

static void test_place_stops_after_call(void **state)
{
	/* mov; mov; call rel32 (to itself); push %rbx; ret: push is after the call */
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf0,
					0xe8, 0x00, 0x00, 0x00, 0x00, 0x53, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0, &cost, &at);
	assert_int_equal(at, 0x1006);
	assert_int_equal(cost, PROBE_EMULATED);
}

static void test_place_stops_before_branch_target(void **state)
{
	/* mov; mov; push %rbx; ret, with a jump target at the push */
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf0, 0x53, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0x1006, &cost, &at);
	assert_int_equal(at, 0x1000);	/* nothing cheaper before the target */
	assert_int_equal(cost, PROBE_SINGLE_STEP);
}

static void test_place_skips_refused_leader(void **state)
{
	/* lock addq $1,(%rdi); ret */
	static const uint8_t code[] = { 0xf0, 0x48, 0x83, 0x07, 0x01, 0xc3 };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0, &cost, &at);
	assert_int_equal(at, 0x1005);
	assert_int_equal(cost, PROBE_SINGLE_STEP);
}

static void test_place_all_refused(void **state)
{
	/* lock incl (%rdi); ud2 */
	static const uint8_t code[] = { 0xf0, 0xff, 0x07, 0x0f, 0x0b };
	enum probe_cost cost;
	uint64_t at;

	(void)state;
	place(code, sizeof(code), 0, 0, &cost, &at);
	assert_int_equal(cost, PROBE_REFUSED);
}

/* ---- leaders of the fixture, against its labels ------------------------- */

struct label {
	uint64_t vaddr;
	char name[64];
};

static struct label labels[256];
static size_t nlabels;

/* nm's view of the fixture: every symbol, with its address. */
static void read_labels(const char *path)
{
	char cmd[512], line[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -n '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	nlabels = 0;
	while (fgets(line, sizeof(line), p) && nlabels < 256) {
		unsigned long long v;
		char type, name[64];

		if (sscanf(line, "%llx %c %63s", &v, &type, name) == 3) {
			labels[nlabels].vaddr = v;
			strcpy(labels[nlabels].name, name);
			nlabels++;
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_true(nlabels > 10);
}

/* Address of label @name, or 0 when there is none. */
static uint64_t label(const char *name)
{
	for (size_t i = 0; i < nlabels; i++)
		if (!strcmp(labels[i].name, name))
			return labels[i].vaddr;
	return 0;
}

static const char *const bb_funcs[] = {
	"bb_loop", "bb_if", "bb_call", "bb_nop5", "bb_lock", "bb_refused",
};

/* Checks the sites of function @f against its labels. */
static void check_function(const struct site_table *t, const char *f)
{
	uint64_t want[16];
	size_t nwant = 0, nsites = 0, i, n;
	char name[80];

	/* Block N's leader is FUNC.bN; block 0's is FUNC itself. */
	for (n = 0; n < 16; n++) {
		uint64_t v;

		if (n)
			snprintf(name, sizeof(name), "%s.b%zu", f, n);
		v = label(n ? name : f);
		want[n] = v;
		if (v)
			nwant = n + 1;
	}
	assert_true(nwant > 0);
	for (i = 0; i < t->nsites; i++) {
		struct site s_copy = test_site(t, i);
		const struct site *s = &s_copy;
		uint64_t p, e;

		if (strcmp(s->func, f))
			continue;
		nsites++;
		for (n = 0; n < nwant && want[n] != s->vaddr; n++)
			;
		if (n == nwant)
			fail_msg("%s: site at %#llx is no labelled leader", f,
				 (unsigned long long)s->vaddr);
		snprintf(name, sizeof(name), "%s.p%zu", f, n);
		p = label(name);
		if (!p)
			p = s->vaddr;
		if (s->probe_offset - s->offset != p - s->vaddr)
			fail_msg("%s block %zu: probe at +%#llx, want +%#llx", f, n,
				 (unsigned long long)(s->probe_offset - s->offset),
				 (unsigned long long)(p - s->vaddr));
		snprintf(name, sizeof(name), "%s.e%zu", f, n);
		e = label(name);
		if (e && s->size != e - s->vaddr)
			fail_msg("%s block %zu: size %llu, want %llu", f, n,
				 (unsigned long long)s->size, (unsigned long long)(e - s->vaddr));
		assert_int_equal(!!(s->flags & SITE_FUNC_ENTRY), n == 0);
		assert_int_equal(s->offset, s->vaddr - 0x400000);	/* static, non-PIE */
	}
	for (n = 0; n < nwant; n++)
		assert_true(want[n]);
	if (nsites != nwant)
		fail_msg("%s: %zu block sites, %zu labelled leaders", f, nsites, nwant);
}

static void test_bb_leaders(void **state)
{
	const struct site_options o = { .kind = SITE_KIND_BB };
	struct site_table *t = site_table_new();
	const char *why = NULL;
	int err;

	(void)state;
	read_labels(FIX("bb-blocks"));
	err = site_table_add_elf(t, FIX("bb-blocks"), NULL, &o, &why);
	if (err)
		fail_msg("bb-blocks: %d (%s)", err, why ? why : "");
	site_table_finish(t);
	for (size_t i = 0; i < sizeof(bb_funcs) / sizeof(bb_funcs[0]); i++)
		check_function(t, bb_funcs[i]);
	/* bb_refused's second block is all refused instructions. */
	assert_int_equal(t->modules[0].nrefused, 1);
	/* bb_nop5's entry block is the one on a 5-byte NOP. */
	assert_int_equal(t->modules[0].nplace_nop5, 1);
	assert_int_equal(t->modules[0].nplace_nop5 + t->modules[0].nplace_emulated +
			 t->modules[0].nplace_single_step, t->nsites);
	site_table_free(t);
}

/* Function sites are placed too, on the entry block's run. */
static void test_func_sites_placed(void **state)
{
	const struct site_options o = { .kind = SITE_KIND_FUNC };
	struct site_table *t = site_table_new();
	size_t i;

	(void)state;
	read_labels(FIX("bb-blocks"));
	assert_int_equal(site_table_add_elf(t, FIX("bb-blocks"), NULL, &o, NULL), 0);
	site_table_finish(t);
	assert_int_equal(t->nsites, sizeof(bb_funcs) / sizeof(bb_funcs[0]));
	for (i = 0; i < t->nsites; i++) {
		struct site s_copy = test_site(t, i);
		const struct site *s = &s_copy;
		char name[80];
		uint64_t p;

		snprintf(name, sizeof(name), "%s.p0", s->func);
		p = label(name) ?: s->vaddr;
		assert_int_equal(s->probe_offset - s->offset, p - s->vaddr);
	}
	site_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_costs),
		cmocka_unit_test(test_place_push_over_mov),
		cmocka_unit_test(test_place_nop5_preferred),
		cmocka_unit_test(test_place_stops_after_branch),
		cmocka_unit_test(test_place_stops_after_call),
		cmocka_unit_test(test_place_stops_before_branch_target),
		cmocka_unit_test(test_place_skips_refused_leader),
		cmocka_unit_test(test_place_all_refused),
		cmocka_unit_test(test_bb_leaders),
		cmocka_unit_test(test_func_sites_placed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
