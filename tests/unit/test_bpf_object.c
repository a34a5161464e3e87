// SPDX-License-Identifier: MIT
/*
 * The BPF object ukcov embeds has no CO-RE relocations and no program
 * that needs the kernel's BTF to attach: either would make libbpf load
 * and search the whole vmlinux BTF (5.5 MB, ~20 ms) at every start
 * (BENCHMARKS.md section 7, user/kernel_btf.h).  A typed kernel access
 * slipped into bpf/counter.bpf.c still loads and works; only this test
 * sees what it costs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>

#include "testutil.h"

/* Before the skeleton: its read-only data has a struct ukcov_kernel_offsets. */
#include "../bpf/counter.h"
#include "counter.skel.h"

/* The .BTF.ext header (libbpf's struct btf_ext_header), CO-RE part included. */
struct btf_ext_hdr {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;
};

/* The contents of section @name of the embedded object, or NULL. */
static Elf_Data *section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		assert_non_null(gelf_getshdr(scn, &sh));
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

static Elf *open_object(void **copy)
{
	size_t sz;
	const void *bytes = counter_bpf__elf_bytes(&sz);
	Elf *elf;

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	*copy = malloc(sz);
	assert_non_null(*copy);
	memcpy(*copy, bytes, sz);
	elf = elf_memory(*copy, sz);
	assert_non_null(elf);
	return elf;
}

static void test_no_core_relocations(void **state)
{
	void *copy;
	Elf *elf = open_object(&copy);
	Elf_Data *d = section(elf, ".BTF.ext");
	struct btf_ext_hdr h = {};

	(void)state;
	/* No .BTF.ext at all would mean no relocations either. */
	if (d) {
		assert_true(d->d_size >= offsetof(struct btf_ext_hdr, core_relo_off));
		memcpy(&h, d->d_buf, d->d_size < sizeof(h) ? d->d_size : sizeof(h));
		assert_int_equal(h.magic, 0xeB9F);
		if (h.hdr_len >= sizeof(h))
			assert_int_equal(h.core_relo_len, 0);
	}
	elf_end(elf);
	free(copy);
}

/* tp_btf, fentry and the like need the BTF id of their target: libbpf finds it in vmlinux. */
static void test_no_btf_typed_attach(void **state)
{
	static const char *const needs_btf[] = {
		"tp_btf/", "fentry/", "fexit/", "fmod_ret/", "lsm/", "iter/", "struct_ops",
	};
	void *copy;
	Elf *elf = open_object(&copy);
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	(void)state;
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		assert_non_null(gelf_getshdr(scn, &sh));
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		for (size_t i = 0; n && i < sizeof(needs_btf) / sizeof(needs_btf[0]); i++)
			if (!strncmp(n, needs_btf[i], strlen(needs_btf[i])))
				fail_msg("section %s needs the kernel's BTF at load", n);
	}
	elf_end(elf);
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_core_relocations),
		cmocka_unit_test(test_no_btf_typed_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
