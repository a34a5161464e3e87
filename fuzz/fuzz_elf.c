// SPDX-License-Identifier: MIT
/*
 * Site discovery from an ELF image: program headers, .symtab/.dynsym,
 * .eh_frame, notes, the DWARF line table and the disassembly behind line
 * and bb sites, for each site kind, on the input as an in-memory image
 * (site_table_add_elf_memory()).  Opening a file and finding its separate
 * debug file: fuzz_elf_path.
 *
 * Beyond "does not crash": a table that was built satisfies the table's
 * invariants, every site's bytes lie in the image, the image is not
 * written to, and the table survives the site-table file (written, read
 * back, equal field by field, written again byte for byte).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sites.h"
#include "sites_file.h"

/* FUZZ_VERBOSE=1: one line per input and kind, to see what a seed reaches. */
static int verbose = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum site_kind kinds[] = { SITE_KIND_FUNC, SITE_KIND_LINE, SITE_KIND_BB };
	uint8_t *image;

	if (!size)
		return 0;
	/* libelf's API takes a writable buffer; the input must not change. */
	image = malloc(size);
	if (!image)
		return 0;
	memcpy(image, data, size);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct site_options o = { .kind = kinds[k] };
		struct site_table *t = site_table_new();
		const char *why = NULL;
		int err;

		if (!t)
			break;
		t->kind = kinds[k];
		err = site_table_add_elf_memory(t, image, size, "/fuzz/input", &o, &why);
		if (verbose < 0)
			verbose = getenv("FUZZ_VERBOSE") != NULL;
		if (verbose)
			fprintf(stderr, "fuzz_elf: %zu bytes, %s: %d %s, %zu sites\n", size,
				site_kind_name(kinds[k]), err, why ? why : "", t->nsites);
		switch (err) {
		case 0:
			site_table_finish(t);
			fuzz_check_table(t);
			fuzz_check_sites_in_image(t, size);
			fuzz_check_round_trip(t);
			break;
		case -ENOEXEC:
		case -ENODATA:
		case -E2BIG:
			/* The command layer prints why: it must say something. */
			fuzz_check(why && *why);
			break;
		case -ENOMEM:
			break;
		default:
			fuzz_fail("unexpected error %d (%s)", err, why ? why : "no reason");
		}
		fuzz_check(t->nmodules == (err ? 0u : 1u));
		site_table_free(t);
		fuzz_check(!memcmp(image, data, size));
	}
	free(image);
	return 0;
}
