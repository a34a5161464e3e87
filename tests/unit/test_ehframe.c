// SPDX-License-Identifier: MIT
/*
 * Unit tests of function discovery without .symtab (user/sites_ehframe.c)
 * and of separate debug information (user/sites_debuginfo.c).
 *
 * Truth: the unstripped fixture's .symtab, parsed here with plain <elf.h>
 * structs, and the unstripped fixture's own site table (names, file:line)
 * for its stripped and split copies.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include <gelf.h>

#include "sites.h"
#include "sites_debuginfo.h"
#include "sites_ehframe.h"

/* ---- helpers ---------------------------------------------------------- */

static void run(const char *fmt, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd))
		fail_msg("command failed: %s", cmd);
}

struct rawsym {
	uint64_t vaddr, size;
	char name[64];
};

/* Defined functions of non-zero size in the .symtab of the ELF at @path. */
static size_t raw_functions(const char *path, struct rawsym *out, size_t max)
{
	size_t len, n = 0;
	uint8_t *buf = test_read_file(path, &len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	const Elf64_Shdr *sh;

	assert_true(len >= sizeof(*eh));
	assert_true(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) <= len);
	sh = (const Elf64_Shdr *)(buf + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *strs;

		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		assert_true(sh[i].sh_link < eh->e_shnum);
		strs = &sh[sh[i].sh_link];
		for (uint64_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); k++) {
			const Elf64_Sym *s = (const Elf64_Sym *)(buf + sh[i].sh_offset) + k;

			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || !s->st_size ||
			    s->st_shndx == SHN_UNDEF)
				continue;
			assert_true(n < max);
			out[n].vaddr = s->st_value;
			out[n].size = s->st_size;
			snprintf(out[n].name, sizeof(out[n].name), "%s",
				 (const char *)buf + strs->sh_offset + s->st_name);
			n++;
		}
	}
	free(buf);
	return n;
}

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

/* The site of @t at file offset @offset, in *@out; false when none is. */
static bool site_at(const struct site_table *t, uint64_t offset, struct site *out)
{
	for (size_t i = 0; i < t->nsites; i++) {
		*out = test_site(t, i);
		if (out->offset == offset)
			return true;
	}
	return false;
}

/* ---- eh_frame ----------------------------------------------------------- */

/*
 * Every FDE starts a function the .symtab names, with its size; every
 * function compiled from C has an FDE.  Symbols without one can only be
 * assembly without CFI directives: the C runtime's, and sites_basic.c's
 * fx_marker (bytes, not code).
 */
static void check_fdes_vs_symtab(const char *path)
{
	static const char *const no_fde_ok[] = { "_init", "_fini", "fx_marker", NULL };
	struct rawsym syms[256];
	size_t nsyms = raw_functions(path, syms, 256), nfdes, i, k;
	struct ehframe_func *fdes;
	Elf *elf;
	int fd;

	assert_true(nsyms >= 3);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	assert_int_equal(ehframe_functions(elf, &fdes, &nfdes), 0);
	assert_true(nfdes >= 3);
	for (i = 0; i < nfdes; i++) {
		bool named = false;

		if (i)
			assert_true(fdes[i - 1].vaddr < fdes[i].vaddr);
		for (k = 0; k < nsyms; k++) {
			if (syms[k].vaddr != fdes[i].vaddr)
				continue;
			named = true;
			if (syms[k].size != fdes[i].size)
				fail_msg("%s: %s is %llu bytes, its FDE %llu", path, syms[k].name,
					 (unsigned long long)syms[k].size,
					 (unsigned long long)fdes[i].size);
		}
		if (!named)
			fail_msg("%s: FDE at %#llx starts no function", path,
				 (unsigned long long)fdes[i].vaddr);
	}
	for (k = 0; k < nsyms; k++) {
		bool found = false, ok = false;

		for (i = 0; i < nfdes && !found; i++)
			found = fdes[i].vaddr == syms[k].vaddr;
		for (i = 0; no_fde_ok[i]; i++)
			ok |= !strcmp(no_fde_ok[i], syms[k].name);
		if (!found && !ok)
			fail_msg("%s: function %s has no FDE", path, syms[k].name);
	}
	free(fdes);
	elf_end(elf);
	close(fd);
}

static void test_fdes_are_the_functions(void **state)
{
	(void)state;
	check_fdes_vs_symtab(FIX("libfixprog"));
	check_fdes_vs_symtab(FIX("libfixprog-nopie"));
	check_fdes_vs_symtab(FIX("libfix.so"));
	check_fdes_vs_symtab(FIX("sites-pie"));
}

static void test_no_eh_frame_is_empty(void **state)
{
	struct ehframe_func *fdes = (void *)1;
	size_t n = 1;
	Elf *elf;
	int fd;

	(void)state;
	elf_version(EV_CURRENT);
	fd = open(FIX("sites-nosyms"), O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	assert_int_equal(ehframe_functions(elf, &fdes, &n), 0);
	assert_int_equal(n, 0);
	free(fdes);
	elf_end(elf);
	close(fd);
}

/* ---- corrupt .eh_frame ---------------------------------------------------- */

/* Little-endian stores into a hand-built section. */
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/*
 * A CIE at @off for FDEs with pc-relative sdata4 pointers ("zR", 0x1b), as
 * gcc writes them.  Returns its size (24 bytes).
 */
static size_t put_cie(uint8_t *sec, size_t off)
{
	static const uint8_t body[] = {
		0, 0, 0, 0,		/* CIE id */
		1,			/* version */
		'z', 'R', 0,		/* augmentation */
		1, 0x78, 16,		/* code align 1, data align -8, RA r16 */
		1, 0x1b,		/* augmentation data: FDE encoding */
		0, 0, 0, 0, 0, 0, 0,	/* DW_CFA_nop padding */
	};

	put32(sec + off, sizeof(body));
	memcpy(sec + off + 4, body, sizeof(body));
	return 4 + sizeof(body);
}

/*
 * An FDE at @off of [@start, @start + @size) for the CIE at @cie, in a
 * section at vaddr @sh_addr.  Returns its size (20 bytes).
 */
static size_t put_fde(uint8_t *sec, size_t off, size_t cie, uint64_t sh_addr,
		      uint64_t start, uint32_t size)
{
	put32(sec + off, 16);
	put32(sec + off + 4, (uint32_t)(off + 4 - cie));	/* back to the CIE */
	put32(sec + off + 8, (uint32_t)(start - (sh_addr + off + 8)));
	put32(sec + off + 12, size);
	memset(sec + off + 16, 0, 4);	/* augmentation length 0, nops */
	return 20;
}

/* The .eh_frame section header of the ELF image @buf of @len bytes. */
static Elf64_Shdr *eh_frame_shdr(uint8_t *buf, size_t len)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	const char *names;

	assert_true(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) <= len);
	names = (const char *)buf + sh[eh->e_shstrndx].sh_offset;
	for (int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, ".eh_frame"))
			return &sh[i];
	fail_msg("no .eh_frame");
	return NULL;
}

/*
 * Fills a stretch of the stack with @v and returns, so that a callee's
 * uninitialised local is likely to read @v: the walk must not depend on
 * what happens to be there.
 */
static __attribute__((noinline)) void poison_stack(uint64_t v)
{
	volatile uint64_t junk[4096];

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		junk[i] = v;
}

/*
 * Replaces the .eh_frame of a copy of sites-pie by @fill's entries and
 * returns the FDEs ehframe_functions() finds in it (*@n of them).
 */
static struct ehframe_func *corrupt_fdes(void (*fill)(uint8_t *sec, uint64_t sh_addr,
						     size_t size, uint64_t *poison),
					 size_t *n)
{
	struct ehframe_func *fdes = NULL;
	uint64_t poison = 0;
	size_t len;
	uint8_t *buf = test_read_file(FIX("sites-pie"), &len);
	Elf64_Shdr *sh = eh_frame_shdr(buf, len);
	Elf *elf;

	assert_true(sh->sh_offset + sh->sh_size <= len && sh->sh_size >= 128);
	memset(buf + sh->sh_offset, 0, sh->sh_size);
	fill(buf + sh->sh_offset, sh->sh_addr, sh->sh_size, &poison);
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)buf, len);
	assert_non_null(elf);
	poison_stack(poison);
	assert_int_equal(ehframe_functions(elf, &fdes, n), 0);
	elf_end(elf);
	free(buf);
	return fdes;
}

#define CORRUPT_START 0x1000	/* where the hand-made FDEs say functions start */

/*
 * The first entry's length runs past the section: nothing says where the
 * next entry begins, so the walk ends there, whatever follows (a good CIE
 * and FDE at offset 64, which the stack is poisoned with).
 */
static void fill_bad_first_length(uint8_t *sec, uint64_t sh_addr, size_t size,
				  uint64_t *poison)
{
	size_t off = 64;

	put32(sec, (uint32_t)size * 4);		/* far past the end */
	off += put_cie(sec, off);
	put_fde(sec, off, 64, sh_addr, CORRUPT_START, 0x40);
	*poison = 64;
}

static void test_corrupt_first_length_ends_walk(void **state)
{
	size_t n = 1;
	struct ehframe_func *fdes = corrupt_fdes(fill_bad_first_length, &n);

	(void)state;
	assert_int_equal(n, 0);
	free(fdes);
}

/*
 * An entry whose length is sound but whose CIE pointer points before the
 * section is skipped; the FDEs around it are found.
 */
static void fill_bad_middle_entry(uint8_t *sec, uint64_t sh_addr, size_t size,
				  uint64_t *poison)
{
	size_t off = 0;

	(void)size;
	off += put_cie(sec, off);
	off += put_fde(sec, off, 0, sh_addr, CORRUPT_START, 0x40);
	put32(sec + off, 16);
	put32(sec + off + 4, 0x7fffffff);	/* CIE pointer before the section */
	off += 20;
	put_fde(sec, off, 0, sh_addr, CORRUPT_START + 0x100, 0x20);
	*poison = 0;
}

static void test_corrupt_middle_entry_skipped(void **state)
{
	size_t n = 0;
	struct ehframe_func *fdes = corrupt_fdes(fill_bad_middle_entry, &n);

	(void)state;
	assert_int_equal(n, 2);
	assert_int_equal(fdes[0].vaddr, CORRUPT_START);
	assert_int_equal(fdes[0].size, 0x40);
	assert_int_equal(fdes[1].vaddr, CORRUPT_START + 0x100);
	assert_int_equal(fdes[1].size, 0x20);
	free(fdes);
}

/*
 * The stripped copy has the same sites at the same offsets; names are the
 * original's where .dynsym keeps them, else sub_OFFSET.
 */
static void check_stripped_same_offsets(const char *orig, const char *stripped)
{
	struct site_table *a = load(orig, NULL), *b = load(stripped, NULL);
	size_t nsub = 0;

	assert_int_equal(a->nsites, b->nsites);
	for (size_t i = 0; i < a->nsites; i++) {
		struct site sa = test_site(a, i), sb;
		const struct site *s = &sa, *t = site_at(b, s->offset, &sb) ? &sb : NULL;
		char sub[32];

		if (!t)
			fail_msg("%s: no site at %#llx (%s)", stripped,
				 (unsigned long long)s->offset, s->func);
		assert_int_equal(t->vaddr, s->vaddr);
		assert_int_equal(t->size, s->size);
		snprintf(sub, sizeof(sub), "sub_%llx", (unsigned long long)s->offset);
		if (strcmp(t->func, s->func)) {
			assert_string_equal(t->func, sub);
			nsub++;
		}
	}
	assert_true(nsub > 0);
	assert_false(b->modules[0].has_dwarf);
	site_table_free(a);
	site_table_free(b);
}

static void test_stripped_same_offsets(void **state)
{
	(void)state;
	check_stripped_same_offsets(FIX("libfixprog"), FIX("libfixprog-stripped"));
	check_stripped_same_offsets(FIX("libfix.so"), FIX("libfix-stripped.so"));
}

/* The library's exports keep their names; the static function gets sub_. */
static void test_stripped_library_names(void **state)
{
	struct site_table *t = load(FIX("libfix-stripped.so"), NULL);
	bool a = false, hidden = false;

	(void)state;
	for (size_t i = 0; i < t->nsites; i++) {
		a |= !strcmp(test_site(t, i).func, "lf_a");
		hidden |= !strcmp(test_site(t, i).func, "lf_hidden");
	}
	assert_true(a);
	assert_false(hidden);
	site_table_free(t);
}

/* ---- separate debug info -------------------------------------------------- */

/* Same sites, names and file:line as the unstripped original. */
static void check_same_as_original(struct site_table *b)
{
	struct site_table *a = load(FIX("libfixprog"), NULL);

	assert_int_equal(a->nsites, b->nsites);
	assert_true(b->modules[0].has_dwarf);
	for (size_t i = 0; i < a->nsites; i++) {
		struct site sa = test_site(a, i), sb = test_site(b, i);
		const struct site *s = &sa, *t = &sb;

		assert_int_equal(t->offset, s->offset);
		assert_string_equal(t->func, s->func);
		if (s->file) {
			assert_non_null(t->file);
			assert_string_equal(t->file, s->file);
		}
		assert_int_equal(t->line, s->line);
	}
	site_table_free(a);
}

static void test_debuglink_next_to_binary(void **state)
{
	struct site_table *t = load(FIX("libfixprog-split"), NULL);

	(void)state;
	check_same_as_original(t);
	site_table_free(t);
}

static char *tmpdir(void)
{
	char *dir = strdup("/tmp/ukcov-dbg.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void rmtree(char *dir)
{
	run("rm -rf '%s'", dir);
	free(dir);
}

static void test_debuglink_in_debug_subdir(void **state)
{
	char *dir = tmpdir(), path[PATH_MAX];
	struct site_table *t;

	(void)state;
	snprintf(path, sizeof(path), "%s/.debug", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.debug/libfixprog-split.debug", dir);
	test_copy_file(FIX("libfixprog-split.debug"), path);
	snprintf(path, sizeof(path), "%s/prog", dir);
	test_copy_file(FIX("libfixprog-split"), path);
	t = load(path, NULL);
	check_same_as_original(t);
	site_table_free(t);
	rmtree(dir);
}

/* ROOT/DIR/NAME, with the root moved by UKCOV_DEBUG_ROOT. */
static void test_debuglink_under_root(void **state)
{
	char *dir = tmpdir(), path[PATH_MAX], real[PATH_MAX];
	struct site_table *t;

	(void)state;
	snprintf(path, sizeof(path), "%s/bin", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_non_null(realpath(path, real));
	snprintf(path, sizeof(path), "%s/bin/prog", dir);
	test_copy_file(FIX("libfixprog-split"), path);
	run("mkdir -p '%s/root%s' && cp '%s' '%s/root%s/'", dir, real,
	    FIX("libfixprog-split.debug"), dir, real);
	snprintf(real, sizeof(real), "%s/root", dir);
	setenv("UKCOV_DEBUG_ROOT", real, 1);
	t = load(path, NULL);
	unsetenv("UKCOV_DEBUG_ROOT");
	check_same_as_original(t);
	site_table_free(t);
	rmtree(dir);
}

/* ROOT/.build-id/XX/REST.debug for a copy with no debuglink at all. */
static void test_build_id_tree(void **state)
{
	struct site_table *t = load(FIX("libfixprog"), NULL);
	const struct site_module *m = &t->modules[0];
	char *dir = tmpdir(), hex[2 * SITE_BUILD_ID_MAX + 1], path[PATH_MAX];

	(void)state;
	assert_true(m->build_id_len >= 2);
	for (size_t i = 0; i < m->build_id_len; i++)
		sprintf(hex + 2 * i, "%02x", m->build_id[i]);
	site_table_free(t);
	run("mkdir -p '%s/.build-id/%.2s' && cp '%s' '%s/.build-id/%.2s/%s.debug'", dir, hex,
	    FIX("libfixprog-split.debug"), dir, hex, hex + 2);
	setenv("UKCOV_DEBUG_ROOT", dir, 1);
	t = load(FIX("libfixprog-stripped"), NULL);
	unsetenv("UKCOV_DEBUG_ROOT");
	check_same_as_original(t);
	site_table_free(t);
	/* Without the root, the stripped copy has only sub_ names. */
	snprintf(path, sizeof(path), "%s/empty", dir);
	setenv("UKCOV_DEBUG_ROOT", path, 1);
	t = load(FIX("libfixprog-stripped"), NULL);
	unsetenv("UKCOV_DEBUG_ROOT");
	assert_false(t->modules[0].has_dwarf);
	site_table_free(t);
	rmtree(dir);
}

static void test_debug_file_option(void **state)
{
	struct site_options o = { .debug_file = FIX("libfixprog-split.debug") };
	struct site_table *t;
	const char *why = NULL;

	(void)state;
	t = load(FIX("libfixprog-stripped"), &o);
	check_same_as_original(t);
	site_table_free(t);

	/* Another build's debug file is refused, with a reason. */
	o.debug_file = FIX("libfix.so");
	t = site_table_new();
	assert_int_equal(site_table_add_elf(t, FIX("libfixprog-stripped"), NULL, &o, &why),
			 -EINVAL);
	assert_non_null(why);
	assert_int_equal(t->nmodules, 0);
	o.debug_file = FIX("no-such-file.debug");
	assert_int_equal(site_table_add_elf(t, FIX("libfixprog-stripped"), NULL, &o, &why),
			 -ENOENT);
	site_table_free(t);
}

/* A debug file whose CRC no longer matches the link is not used. */
static void test_debuglink_crc_mismatch(void **state)
{
	char *dir = tmpdir(), path[PATH_MAX];
	struct site_table *t;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/libfixprog-split.debug", dir);
	test_copy_file(FIX("libfixprog-split.debug"), path);
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc(0, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/prog", dir);
	test_copy_file(FIX("libfixprog-split"), path);
	/* No build-id tree either: nothing else may supply the names. */
	setenv("UKCOV_DEBUG_ROOT", dir, 1);
	t = load(path, NULL);
	unsetenv("UKCOV_DEBUG_ROOT");
	assert_false(t->modules[0].has_dwarf);
	for (size_t i = 0; i < t->nsites; i++)
		assert_string_not_equal(test_site(t, i).func, "f_3");
	site_table_free(t);
	rmtree(dir);
}

static void test_crc32(void **state)
{
	(void)state;
	/* The standard check value of CRC-32/ISO-HDLC (zlib's crc32). */
	assert_int_equal(debuginfo_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(debuginfo_crc32(debuginfo_crc32(0, "1234", 4), "56789", 5),
			 0xcbf43926u);
	assert_int_equal(debuginfo_crc32(0, "", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdes_are_the_functions),
		cmocka_unit_test(test_no_eh_frame_is_empty),
		cmocka_unit_test(test_corrupt_first_length_ends_walk),
		cmocka_unit_test(test_corrupt_middle_entry_skipped),
		cmocka_unit_test(test_stripped_same_offsets),
		cmocka_unit_test(test_stripped_library_names),
		cmocka_unit_test(test_debuglink_next_to_binary),
		cmocka_unit_test(test_debuglink_in_debug_subdir),
		cmocka_unit_test(test_debuglink_under_root),
		cmocka_unit_test(test_build_id_tree),
		cmocka_unit_test(test_debug_file_option),
		cmocka_unit_test(test_debuglink_crc_mismatch),
		cmocka_unit_test(test_crc32),
	};

	/* No debuginfod lookups from a unit test. */
	unsetenv("DEBUGINFOD_URLS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
