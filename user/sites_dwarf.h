/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces shared by sites.c, sites_elf.c and sites_dwarf.c.
 * Nothing outside user/sites*.c includes this header.
 */
#ifndef UKCOV_SITES_DWARF_H
#define UKCOV_SITES_DWARF_H

#include <stdbool.h>
#include <stddef.h>

#include <libelf.h>

#include "sites.h"

/*
 * The table's string storage: an arena that never moves a string once
 * stored, plus a hash set so each distinct string is stored once (a
 * module's thousands of sites share a few hundred file names).
 */
struct site_strings *site_strings_new(void);
void site_strings_free(struct site_strings *s);

/*
 * Returns the stored copy of @str, storing it on first use.  The copy
 * lives as long as @s.  Returns NULL and sets errno on allocation failure.
 */
char *site_strings_intern(struct site_strings *s, const char *str);

/*
 * Appends module @m and its @n sites, whose strings @t already owns, as the
 * table's last module (first_site, nsites and each site's module index are
 * set here).  Returns 0, -ENOMEM or -E2BIG; @t is unchanged on failure.
 */
int site_table_append(struct site_table *t, const struct site_module *m,
		      const struct site *sites, size_t n);

/*
 * Fills in file and line of @sites (@n sites of one module, sorted by
 * vaddr) from the DWARF line tables of @elf.  File names are interned in
 * @strings.  Sites without line information keep file NULL, line 0.
 * Sets *@has_dwarf to whether any line table was found; a file without
 * DWARF is not an error.  Returns 0 or -ENOMEM.
 */
int sites_dwarf_lines(Elf *elf, struct site_strings *strings,
		      struct site *sites, size_t n, bool *has_dwarf);

#endif /* UKCOV_SITES_DWARF_H */
