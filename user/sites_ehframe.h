/* SPDX-License-Identifier: MIT */
/*
 * Function ranges from the unwind tables (.eh_frame), for binaries
 * stripped of .symtab.  gcc and clang emit an FDE for every function
 * compiled with unwind tables, which is the default on x86-64 and arm64
 * Linux, so the FDEs name the start of (nearly) every function even when
 * no symbol does.  Private to user/sites*.c.
 */
#ifndef UKCOV_SITES_EHFRAME_H
#define UKCOV_SITES_EHFRAME_H

#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

/* One FDE: the code range [vaddr, vaddr + size) it describes. */
struct ehframe_func {
	uint64_t vaddr;		/* ELF vaddr of the FDE's initial_location */
	uint64_t size;		/* its address_range, in bytes; never 0 */
};

/*
 * Reads the FDEs of @elf's .eh_frame section (found through the section
 * headers) and returns their ranges, sorted by vaddr with duplicates
 * removed, in a malloc'd array *@out (the caller frees it) of *@n entries.
 * FDEs that start in a PLT section (.plt, .plt.got, .plt.sec, .iplt) are
 * left out: they describe linker stubs, not functions.  Entries that are
 * malformed, use a pointer encoding other than absolute or pc-relative,
 * or have an empty range are skipped; the data is untrusted and every
 * read is bounds-checked.
 * Returns 0 (*@n is 0 when there is no .eh_frame), -ENOMEM, or -E2BIG
 * when there are more than SITES_MAX_PER_MODULE FDEs.
 */
int ehframe_functions(Elf *elf, struct ehframe_func **out, size_t *n);

#endif /* UKCOV_SITES_EHFRAME_H */
