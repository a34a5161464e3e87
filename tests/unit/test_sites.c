// SPDX-License-Identifier: MIT
/*
 * Unit tests of site discovery (user/sites*.c) on the fixtures of
 * tests/unit/fixtures.mk.
 *
 * Truth comes from outside the code under test: names, bindings and line
 * numbers are what the fixture sources define; offsets are checked against
 * the file's bytes and against program headers parsed here with plain
 * <elf.h> structs, never through libelf.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "sites.h"

/* ---- helpers ---------------------------------------------------------- */

/* A table holding the one module @path, finished; fails the test on error. */
static struct site_table *load(const char *path, const struct site_options *o)
{
	struct site_table *t = site_table_new();
	const char *why = NULL;
	int err;

	assert_non_null(t);
	err = site_table_add_elf(t, path, NULL, o, &why);
	if (err)
		fail_msg("%s: %d (%s)", path, err, why ? why : "");
	site_table_finish(t);
	return t;
}

/*
 * The first site named @func, or NULL.  The site is a copy in one of a
 * few slots taken in turn: good until that many more finds, which is
 * as long as any test holds one.
 */
static const struct site *find_site(const struct site_table *t, const char *func)
{
	static struct site slots[8];
	static size_t next;

	for (size_t i = 0; i < t->nsites; i++) {
		struct site *s = &slots[next % 8];

		site_table_get(t, i, s);
		if (!strcmp(s->func, func)) {
			next++;
			return s;
		}
	}
	return NULL;
}

static const struct site *must_find(const struct site_table *t, const char *func)
{
	const struct site *s = find_site(t, func);

	if (!s)
		fail_msg("no site named %s", func);
	return s;
}

/* File offset of @vaddr from the raw program headers of the ELF in @buf. */
static uint64_t raw_offset(const uint8_t *buf, size_t len, uint64_t vaddr)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	int i;

	assert_true(len >= sizeof(*eh));
	assert_true(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= len);
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(buf + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_filesz)
			return vaddr - ph->p_vaddr + ph->p_offset;
	}
	fail_msg("vaddr %#llx in no executable PT_LOAD", (unsigned long long)vaddr);
	return 0;
}

/* Every site's offset agrees with the raw headers; fx_marker's bytes match. */
static void check_offsets(const struct site_table *t, const char *path)
{
	const struct site *marker = must_find(t, "fx_marker");
	size_t len, i;
	uint8_t *buf = test_read_file(path, &len);

	for (i = 0; i < t->nsites; i++) {
		struct site site = test_site(t, i);
		const struct site *s = &site;

		assert_int_equal(s->offset, raw_offset(buf, len, s->vaddr));
		/* Placement may move the probe within the entry run only. */
		assert_true(s->probe_offset >= s->offset);
		assert_true(s->probe_offset < s->offset + s->size);
		assert_true(s->offset + s->size <= len);
	}
	assert_int_equal(marker->size, 8);
	assert_memory_equal(buf + marker->offset, "UKCOVMRK", 8);
	free(buf);
}

/* ---- vaddr_to_offset -------------------------------------------------- */

static void test_vaddr_pie_identity(void **state)
{
	const struct load_segment segs[] = {
		{ .vaddr = 0, .offset = 0, .filesz = 0x1000, .exec = false },
		{ .vaddr = 0x1000, .offset = 0x1000, .filesz = 0x800, .exec = true },
	};
	uint64_t off = 0;

	(void)state;
	assert_int_equal(vaddr_to_offset(segs, 2, 0x1139, 0x20, true, &off), 0);
	assert_int_equal(off, 0x1139);
	assert_int_equal(vaddr_to_offset(segs, 2, 0x1000, 0x800, true, &off), 0);
	assert_int_equal(off, 0x1000);
}

static void test_vaddr_nopie_base(void **state)
{
	const struct load_segment segs[] = {
		{ .vaddr = 0x400000, .offset = 0, .filesz = 0x600, .exec = false },
		{ .vaddr = 0x401000, .offset = 0x1000, .filesz = 0x2000, .exec = true },
	};
	uint64_t off = 0;

	(void)state;
	assert_int_equal(vaddr_to_offset(segs, 2, 0x401234, 16, true, &off), 0);
	assert_int_equal(off, 0x1234);
	/* Below the first segment and in the gap between the two. */
	assert_int_equal(vaddr_to_offset(segs, 2, 0x1234, 16, false, &off), -ERANGE);
	assert_int_equal(vaddr_to_offset(segs, 2, 0x400800, 1, false, &off), -ERANGE);
}

static void test_vaddr_range_crosses_segment_end(void **state)
{
	const struct load_segment seg = {
		.vaddr = 0x401000, .offset = 0x1000, .filesz = 0x100, .exec = true,
	};
	uint64_t off = 0;

	(void)state;
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x4010f0, 0x10, true, &off), 0);
	assert_int_equal(off, 0x10f0);
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x4010f0, 0x11, true, &off), -ERANGE);
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x401100, 1, true, &off), -ERANGE);
	/* Sizes that would wrap around must not pass the check. */
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x4010f0, UINT64_MAX, true, &off),
			 -ERANGE);
	assert_int_equal(vaddr_to_offset(&seg, 1, UINT64_MAX, 2, true, &off), -ERANGE);
}

static void test_vaddr_exec_only(void **state)
{
	const struct load_segment seg = {
		.vaddr = 0x3000, .offset = 0x2000, .filesz = 0x100, .exec = false,
	};
	uint64_t off = 0;

	(void)state;
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x3010, 4, true, &off), -ERANGE);
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x3010, 4, false, &off), 0);
	assert_int_equal(off, 0x2010);
}

static void test_vaddr_bss_refused(void **state)
{
	/* A data segment with memsz 0x1000 of which the file holds 0x100. */
	const struct load_segment seg = {
		.vaddr = 0x4000, .offset = 0x3000, .filesz = 0x100, .exec = true,
	};
	uint64_t off = 0;

	(void)state;
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x4100, 4, true, &off), -ERANGE);
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x40fe, 4, true, &off), -ERANGE);
	assert_int_equal(vaddr_to_offset(&seg, 1, 0x40fc, 4, true, &off), 0);
	assert_int_equal(off, 0x30fc);
}

/* ---- symbols ---------------------------------------------------------- */

static void test_pie_offsets(void **state)
{
	struct site_table *t = load(FIX("sites-pie"), NULL);

	(void)state;
	assert_int_equal(t->nmodules, 1);
	assert_true(t->modules[0].pie);
	check_offsets(t, FIX("sites-pie"));
	site_table_free(t);
}

static void test_nopie_offsets(void **state)
{
	struct site_table *t = load(FIX("sites-nopie"), NULL);

	(void)state;
	assert_int_equal(t->nmodules, 1);
	assert_false(t->modules[0].pie);
	/* Non-PIE: vaddrs are absolute, offsets are not. */
	assert_true(must_find(t, "fx_marker")->vaddr >= 0x400000);
	assert_true(must_find(t, "fx_marker")->offset < 0x400000);
	check_offsets(t, FIX("sites-nopie"));
	site_table_free(t);
}

static void test_pie_nopie_same_functions(void **state)
{
	static const char *const defined[] = {
		"fx_add", "fx_loop", "fx_marker", "fx_twice", "main",
	};
	struct site_table *pie = load(FIX("sites-pie"), NULL);
	struct site_table *nopie = load(FIX("sites-nopie"), NULL);
	size_t i, fx_pie = 0, fx_nopie = 0;

	(void)state;
	for (i = 0; i < sizeof(defined) / sizeof(defined[0]); i++) {
		const struct site *a = must_find(pie, defined[i]);
		const struct site *b = must_find(nopie, defined[i]);

		/* Code differs (PIC or not), so sizes may; flags may not. */
		assert_true(a->size > 0 && b->size > 0);
		assert_int_equal(a->flags, SITE_FUNC_ENTRY);
		assert_int_equal(b->flags, SITE_FUNC_ENTRY);
	}
	for (i = 0; i < pie->nsites; i++)
		fx_pie += !strncmp(test_site(pie, i).func, "fx_", 3);
	for (i = 0; i < nopie->nsites; i++)
		fx_nopie += !strncmp(test_site(nopie, i).func, "fx_", 3);
	assert_int_equal(fx_pie, 4);
	assert_int_equal(fx_nopie, 4);
	site_table_free(pie);
	site_table_free(nopie);
}

static void test_sites_sorted_unique(void **state)
{
	struct site_table *t = load(FIX("sites-alias"), NULL);
	size_t i;

	(void)state;
	for (i = 1; i < t->nsites; i++)
		assert_true(test_site(t, i - 1).vaddr < test_site(t, i).vaddr);
	site_table_free(t);
}

static void test_alias_global_beats_weak_and_local(void **state)
{
	struct site_table *t = load(FIX("sites-alias"), NULL);
	const struct site *s = must_find(t, "fx_c_global");

	(void)state;
	assert_true(s->flags & SITE_ALIAS);
	assert_null(find_site(t, "fx_a_local"));
	assert_null(find_site(t, "fx_b_weak"));
	site_table_free(t);
}

static void test_alias_weak_beats_local(void **state)
{
	struct site_table *t = load(FIX("sites-alias"), NULL);
	const struct site *s = must_find(t, "fx_e_weak");

	(void)state;
	assert_true(s->flags & SITE_ALIAS);
	assert_null(find_site(t, "fx_d_local"));
	site_table_free(t);
}

static void test_alias_alphabetical_among_globals(void **state)
{
	struct site_table *t = load(FIX("sites-alias"), NULL);

	(void)state;
	assert_true(must_find(t, "fx_g1")->flags & SITE_ALIAS);
	assert_null(find_site(t, "fx_g2"));
	assert_int_equal(must_find(t, "fx_single")->flags, SITE_FUNC_ENTRY);
	site_table_free(t);
}

static void test_alias_keeps_largest_size(void **state)
{
	struct site_table *t = load(FIX("sites-alias"), NULL);
	const struct site *s = must_find(t, "fx_sz_a");
	size_t len;
	uint8_t *buf = test_read_file(FIX("sites-alias"), &len);

	(void)state;
	assert_null(find_site(t, "fx_sz_b"));
	assert_true(s->flags & SITE_ALIAS);
	assert_int_equal(s->size, 16);
	assert_memory_equal(buf + s->offset, "0123456789abcdef", 16);
	free(buf);
	site_table_free(t);
}

static void test_ifunc_skipped_and_counted(void **state)
{
	struct site_table *t = load(FIX("sites-ifunc"), NULL);

	(void)state;
	assert_int_equal(t->modules[0].nifunc, 1);
	assert_null(find_site(t, "fx_ifunc"));
	/* The resolver and the implementation are ordinary functions. */
	assert_non_null(find_site(t, "fx_resolver"));
	assert_non_null(find_site(t, "fx_impl_one"));
	site_table_free(t);
}

static void test_stripped_falls_back_to_dynsym(void **state)
{
	struct site_table *t = load(FIX("sites-stripped"), NULL);

	(void)state;
	assert_non_null(find_site(t, "fx_add"));
	assert_non_null(find_site(t, "fx_loop"));
	assert_non_null(find_site(t, "main"));
	/* Static, so only in the .symtab that strip removed. */
	assert_null(find_site(t, "fx_twice"));
	assert_false(t->modules[0].has_dwarf);
	check_offsets(t, FIX("sites-stripped"));
	site_table_free(t);
}

/* ---- errors ----------------------------------------------------------- */

/* Adding @path fails with @expect and leaves the table empty. */
static void expect_add_error(const char *path, int expect)
{
	struct site_table *t = site_table_new();
	const char *why = NULL;
	int err;

	assert_non_null(t);
	err = site_table_add_elf(t, path, NULL, NULL, &why);
	if (expect)
		assert_int_equal(err, expect);
	else
		assert_true(err < 0);
	if (err == -ENOEXEC || err == -ENODATA)
		assert_non_null(why);
	assert_int_equal(t->nmodules, 0);
	assert_int_equal(t->nsites, 0);
	site_table_free(t);
}

static void test_no_symbols_enodata(void **state)
{
	(void)state;
	expect_add_error(FIX("sites-nosyms"), -ENODATA);
}

static void test_not_elf_enoexec(void **state)
{
	(void)state;
	expect_add_error(FIX("sites-not-elf"), -ENOEXEC);
}

static void test_relocatable_enoexec(void **state)
{
	(void)state;
	expect_add_error(FIX("sites-reloc.o"), -ENOEXEC);
}

static void test_truncated_is_error(void **state)
{
	(void)state;
	expect_add_error(FIX("sites-truncated"), 0);
}

static void test_truncated_after_code_is_error(void **state)
{
	(void)state;
	expect_add_error(FIX("sites-truncated-text"), 0);
}

static void test_missing_file_enoent(void **state)
{
	(void)state;
	expect_add_error(FIX("no-such-file"), -ENOENT);
}

static void test_error_leaves_table_unchanged(void **state)
{
	struct site_table *t = load(FIX("sites-pie"), NULL);
	size_t nsites = t->nsites;

	(void)state;
	assert_int_equal(site_table_add_elf(t, FIX("sites-nosyms"), NULL, NULL, NULL),
			 -ENODATA);
	assert_int_equal(t->nmodules, 1);
	assert_int_equal(t->nsites, nsites);
	site_table_free(t);
}

/* ---- corrupt files: a copy of sites-pie with one field broken ---------- */

static Elf64_Shdr *raw_section(uint8_t *buf, size_t len, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	int i;

	assert_true(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= len);
	for (i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff) + i;

		if (sh->sh_type == type)
			return sh;
	}
	fail_msg("no section of type %u", type);
	return NULL;
}

/* Writes @buf to a new temporary file and adds it; returns the error. */
static int add_buffer(const uint8_t *buf, size_t len)
{
	char path[] = "/tmp/ukcov-test-sites-XXXXXX";
	struct site_table *t = site_table_new();
	int fd = mkstemp(path), err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	err = site_table_add_elf(t, path, NULL, NULL, NULL);
	if (err)
		assert_int_equal(t->nsites, 0);
	unlink(path);
	site_table_free(t);
	return err;
}

static void test_corrupt_symtab_entsize(void **state)
{
	size_t len;
	uint8_t *buf = test_read_file(FIX("sites-pie"), &len);

	(void)state;
	raw_section(buf, len, SHT_SYMTAB)->sh_entsize = 0;
	assert_int_equal(add_buffer(buf, len), -ENOEXEC);
	raw_section(buf, len, SHT_SYMTAB)->sh_entsize = 7;
	assert_int_equal(add_buffer(buf, len), -ENOEXEC);
	free(buf);
}

static void test_corrupt_symtab_past_eof(void **state)
{
	size_t len;
	uint8_t *buf = test_read_file(FIX("sites-pie"), &len);
	Elf64_Shdr *sh = raw_section(buf, len, SHT_SYMTAB);

	(void)state;
	sh->sh_offset = len - 8;
	assert_true(add_buffer(buf, len) < 0);
	sh->sh_offset = UINT64_MAX - 16;
	assert_true(add_buffer(buf, len) < 0);
	free(buf);
}

static void test_corrupt_symtab_huge_count(void **state)
{
	size_t len;
	uint8_t *buf = test_read_file(FIX("sites-pie"), &len);

	(void)state;
	raw_section(buf, len, SHT_SYMTAB)->sh_size = (uint64_t)24 << 40;
	assert_true(add_buffer(buf, len) < 0);
	free(buf);
}

static void test_corrupt_symbol_names_skipped(void **state)
{
	size_t len, i;
	uint8_t *buf = test_read_file(FIX("sites-pie"), &len);
	Elf64_Shdr *sh = raw_section(buf, len, SHT_SYMTAB);
	Elf64_Sym *syms = (Elf64_Sym *)(buf + sh->sh_offset);

	(void)state;
	for (i = 0; i < sh->sh_size / sizeof(*syms); i++)
		syms[i].st_name = 0xfffffff0;
	/* No usable name in .symtab, and .dynsym defines no function. */
	assert_int_equal(add_buffer(buf, len), -ENODATA);
	free(buf);
}

/* ---- table order and PCs ---------------------------------------------- */

static struct site_table *two_modules(void)
{
	struct site_table *t = site_table_new();

	assert_non_null(t);
	/* Added in the reverse of path order. */
	assert_int_equal(site_table_add_elf(t, FIX("sites-pie"), "/b/pie", NULL, NULL), 0);
	assert_int_equal(site_table_add_elf(t, FIX("sites-nopie"), "/a/nopie", NULL, NULL), 0);
	site_table_finish(t);
	return t;
}

static void test_two_modules_sorted_by_path(void **state)
{
	struct site_table *t = two_modules();
	const struct site_module *a = &t->modules[0], *b = &t->modules[1];
	size_t i;

	(void)state;
	assert_int_equal(t->nmodules, 2);
	assert_string_equal(a->path, "/a/nopie");
	assert_string_equal(a->open_path, FIX("sites-nopie"));
	assert_false(a->pie);
	assert_string_equal(b->path, "/b/pie");
	assert_true(b->pie);
	assert_int_equal(a->first_site, 0);
	assert_int_equal(b->first_site, a->nsites);
	assert_int_equal(a->nsites + b->nsites, t->nsites);
	for (i = 0; i < t->nsites; i++) {
		struct site site = test_site(t, i);
		const struct site *s = &site;

		assert_int_equal(s->module, i < a->nsites ? 0 : 1);
		if (i && test_site(t, i - 1).module == s->module)
			assert_true(test_site(t, i - 1).vaddr < s->vaddr);
	}
	/* The non-PIE module's sites carry its absolute vaddrs. */
	assert_true(test_site(t, 0).vaddr >= 0x400000);
	assert_true(test_site(t, a->nsites).vaddr < 0x400000);
	site_table_free(t);
}

static void test_finish_idempotent(void **state)
{
	struct site_table *t = two_modules();
	struct site *before = test_sites(t), *after;

	(void)state;
	site_table_finish(t);
	after = test_sites(t);
	assert_memory_equal(before, after, t->nsites * sizeof(*before));
	free(before);
	free(after);
	site_table_free(t);
}

static void test_pcs_dense(void **state)
{
	struct site_table *t = two_modules();
	size_t i;

	(void)state;
	assert_int_equal(t->pc_base, 0xffffffff80000000ULL);
	for (i = 0; i < t->nsites; i++) {
		assert_int_equal(site_pc(t, i), 0xffffffff80000000ULL + i);
		assert_int_equal(site_index_of_pc(t, site_pc(t, i)), (long)i);
	}
	site_table_free(t);
}

static void test_index_of_pc_bounds(void **state)
{
	struct site_table *t = two_modules();
	uint64_t base = UKCOV_PC_BASE;

	(void)state;
	assert_int_equal(site_index_of_pc(t, base), 0);
	assert_int_equal(site_index_of_pc(t, base + t->nsites - 1), (long)t->nsites - 1);
	assert_int_equal(site_index_of_pc(t, base + t->nsites), -1);
	assert_int_equal(site_index_of_pc(t, base - 1), -1);
	assert_int_equal(site_index_of_pc(t, 0), -1);
	assert_int_equal(site_index_of_pc(t, UINT64_MAX), -1);
	site_table_free(t);
}

static void test_empty_table_pc(void **state)
{
	struct site_table *t = site_table_new();

	(void)state;
	site_table_finish(t);
	assert_int_equal(t->nsites, 0);
	assert_int_equal(site_index_of_pc(t, UKCOV_PC_BASE), -1);
	site_table_free(t);
	site_table_free(NULL);
}

/* ---- DWARF and build-id ------------------------------------------------ */

/* Line of @func's definition: the line naming it and opening its body. */
static uint32_t definition_line(const char *src, const char *func)
{
	char line[512], pattern[128];
	FILE *f = fopen(src, "r");
	uint32_t n = 0, found = 0;

	assert_non_null(f);
	snprintf(pattern, sizeof(pattern), " %s(", func);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, pattern) && strstr(line, ") {\n")) {
			assert_int_equal(found, 0);
			found = n;
		}
	}
	fclose(f);
	assert_true(found > 0);
	return found;
}

static void test_dwarf_file_line(void **state)
{
	static const char *const funcs[] = { "fx_add", "fx_twice", "fx_loop", "main" };
	struct site_table *t = load(FIX("sites-pie"), NULL);
	char *want = realpath(FIX("sites_basic.c"), NULL);
	size_t i;

	(void)state;
	assert_non_null(want);
	assert_true(t->modules[0].has_dwarf);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		const struct site *s = must_find(t, funcs[i]);
		char *got;

		assert_non_null(s->file);
		/* Absolute, so it means the same whatever the reader's cwd. */
		assert_int_equal(s->file[0], '/');
		got = realpath(s->file, NULL);
		assert_non_null(got);
		assert_string_equal(got, want);
		assert_int_equal(s->line, definition_line(want, funcs[i]));
		free(got);
	}
	/* Interned: one copy of the file name for all of them. */
	assert_ptr_equal(must_find(t, "fx_add")->file, must_find(t, "main")->file);
	free(want);
	site_table_free(t);
}

static void test_no_dwarf_option(void **state)
{
	const struct site_options o = { .no_dwarf = true };
	struct site_table *t = load(FIX("sites-pie"), &o);
	size_t i;

	(void)state;
	assert_false(t->modules[0].has_dwarf);
	for (i = 0; i < t->nsites; i++) {
		assert_null(test_site(t, i).file);
		assert_int_equal(test_site(t, i).line, 0);
	}
	site_table_free(t);
}

static void test_build_id(void **state)
{
	static const uint8_t want[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	struct site_table *t = load(FIX("sites-pie"), NULL);

	(void)state;
	assert_int_equal(t->modules[0].build_id_len, sizeof(want));
	assert_memory_equal(t->modules[0].build_id, want, sizeof(want));
	site_table_free(t);
}

static void test_no_build_id(void **state)
{
	struct site_table *t = load(FIX("sites-nopie"), NULL);

	(void)state;
	assert_int_equal(t->modules[0].build_id_len, 0);
	site_table_free(t);
}

static void test_print_modules(void **state)
{
	const struct site_options no_dwarf = { .no_dwarf = true };
	struct site_table *t = site_table_new();
	char *text = NULL, want[512];
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(site_table_add_elf(t, FIX("sites-pie"), "/m/pie", NULL, NULL), 0);
	assert_int_equal(site_table_add_elf(t, FIX("sites-ifunc"), "/m/ifunc",
					    &no_dwarf, NULL), 0);
	site_table_finish(t);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	site_table_print_modules(t, f);
	fclose(f);
	/* Every function entry gets a probe, so the placements add up. */
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(t->modules[i].nplace_nop5 + t->modules[i].nplace_emulated +
				 t->modules[i].nplace_single_step, t->modules[i].nsites);
	snprintf(want, sizeof(want),
		 "# module 0 /m/ifunc build-id none sites %zu ifunc-skipped 1 no-dwarf\n"
		 "# placement 0 nop5 %zu emulated %zu single-step %zu\n"
		 "# module 1 /m/pie build-id 0123456789abcdef sites %zu\n"
		 "# placement 1 nop5 %zu emulated %zu single-step %zu\n",
		 t->modules[0].nsites, t->modules[0].nplace_nop5,
		 t->modules[0].nplace_emulated, t->modules[0].nplace_single_step,
		 t->modules[1].nsites, t->modules[1].nplace_nop5,
		 t->modules[1].nplace_emulated, t->modules[1].nplace_single_step);
	assert_string_equal(text, want);
	free(text);
	site_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vaddr_pie_identity),
		cmocka_unit_test(test_vaddr_nopie_base),
		cmocka_unit_test(test_vaddr_range_crosses_segment_end),
		cmocka_unit_test(test_vaddr_exec_only),
		cmocka_unit_test(test_vaddr_bss_refused),
		cmocka_unit_test(test_pie_offsets),
		cmocka_unit_test(test_nopie_offsets),
		cmocka_unit_test(test_pie_nopie_same_functions),
		cmocka_unit_test(test_sites_sorted_unique),
		cmocka_unit_test(test_alias_global_beats_weak_and_local),
		cmocka_unit_test(test_alias_weak_beats_local),
		cmocka_unit_test(test_alias_alphabetical_among_globals),
		cmocka_unit_test(test_alias_keeps_largest_size),
		cmocka_unit_test(test_ifunc_skipped_and_counted),
		cmocka_unit_test(test_stripped_falls_back_to_dynsym),
		cmocka_unit_test(test_no_symbols_enodata),
		cmocka_unit_test(test_not_elf_enoexec),
		cmocka_unit_test(test_relocatable_enoexec),
		cmocka_unit_test(test_truncated_is_error),
		cmocka_unit_test(test_truncated_after_code_is_error),
		cmocka_unit_test(test_missing_file_enoent),
		cmocka_unit_test(test_error_leaves_table_unchanged),
		cmocka_unit_test(test_corrupt_symtab_entsize),
		cmocka_unit_test(test_corrupt_symtab_past_eof),
		cmocka_unit_test(test_corrupt_symtab_huge_count),
		cmocka_unit_test(test_corrupt_symbol_names_skipped),
		cmocka_unit_test(test_two_modules_sorted_by_path),
		cmocka_unit_test(test_finish_idempotent),
		cmocka_unit_test(test_pcs_dense),
		cmocka_unit_test(test_index_of_pc_bounds),
		cmocka_unit_test(test_empty_table_pc),
		cmocka_unit_test(test_dwarf_file_line),
		cmocka_unit_test(test_no_dwarf_option),
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_no_build_id),
		cmocka_unit_test(test_print_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
