/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces shared by user/sites*.c (table, ELF, DWARF, placement).
 * Nothing outside user/sites*.c includes this header.
 */
#ifndef UKCOV_SITES_DWARF_H
#define UKCOV_SITES_DWARF_H

#include <stdbool.h>
#include <stddef.h>

#include <elfutils/libdw.h>
#include <libelf.h>

#include "sites.h"
#include "sites_strings.h"

/*
 * Appends module @m and its @n sites as the table's last module, in the
 * order given (first_site and nsites are set here; the sites' module
 * fields are ignored).  Strings and rows @t does not own yet are copied
 * in.  Returns 0, -ENOMEM or -E2BIG (see site_store_push()); @t is
 * unchanged on failure.
 */
int site_table_append(struct site_table *t, const struct site_module *m,
		      const struct site *sites, size_t n);

/* Sorts one module's sites the way site_table_finish() orders them. */
void sites_sort(struct site *v, size_t n);

/*
 * Every CU's line table read once into one array sorted by address, so a
 * lookup is a binary search, not a walk over the CU list.  Shared by every
 * site kind: func and bb sites look their file:line up in it, line sites
 * are made from its rows.
 */
struct line_row {
	uint64_t addr;		/* ELF vaddr of the row */
	Dwarf_Line *line;	/* NULL: the end of a sequence, a gap follows */
	const char *comp_dir;	/* the CU's DW_AT_comp_dir, or NULL */
	size_t seq;		/* read order: ties sort like the table did */
	/*
	 * Index of the row line_table_find() returns for this row's address:
	 * set on the address's first row that is no end of sequence (the
	 * first is_stmt row there, else itself); the index of the row itself
	 * on every other row.
	 */
	size_t pick;
};

struct line_table {
	Dwarf *dw;		/* owns every Dwarf_Line the rows point to */
	struct line_row *v;	/* sorted by addr; at one addr, ends first */
	size_t n, cap;
};

/*
 * Reads the line tables of every CU of @elf into @lt (zeroed by the
 * caller).  A file without DWARF leaves @lt->n 0 and is not an error.
 * Returns 0 or -ENOMEM; release @lt with line_table_release() either way.
 */
int line_table_read(Elf *elf, struct line_table *lt);

/* Frees what line_table_read() allocated.  Accepts a zeroed table. */
void line_table_release(struct line_table *lt);

/*
 * The line of the code at vaddr @addr, as a debugger would name it: of the
 * rows at the greatest address <= @addr, the first is_stmt row in table
 * order (at a function's entry, the line of its opening), or the first
 * row when none there is a statement.  A row that is not a statement
 * often belongs to code the compiler moved or merged (a hoisted load, a
 * shared epilogue); it names the line only when nothing better starts
 * there.  NULL when @addr lies in no sequence.
 */
const struct line_row *line_table_find(const struct line_table *lt, uint64_t addr);

/* Index of the first row of @lt at a vaddr >= @addr (lt->n if none). */
size_t line_table_lower_bound(const struct line_table *lt, uint64_t addr);

/*
 * The row whose line the instruction at vaddr @addr belongs to: the last
 * row in table order at the greatest address <= @addr (rows before it at
 * that address are statements with no code of their own, DWARF 5 views),
 * statement or not.  NULL when @addr lies in no sequence.
 */
const struct line_row *line_table_cover(const struct line_table *lt, uint64_t addr);

/*
 * 1 when rows @a and @b (either may be NULL) name the same source line of
 * the same file (compared as line_row_source() names them), 0 when not,
 * -ENOMEM.
 */
int line_rows_same_line(const struct line_row *a, const struct line_row *b);

/* Whether @row (not an end of sequence) begins a statement. */
bool line_row_is_stmt(const struct line_row *row);

/*
 * Source file (absolute when the CU says where it was compiled, interned
 * in @strings) and line of @row.  Leaves *@file NULL and *@line 0 when
 * the row names none.  Returns 0 or -ENOMEM.
 */
int line_row_source(const struct line_row *row, struct site_strings *strings,
		    const char **file, uint32_t *line);

/*
 * Fills in file and line of @n sites (vaddrs in any order) from the rows
 * of @lt covering their vaddrs; file names are interned in @strings.
 * Sites without a covering row keep what they had.  Returns 0 or -ENOMEM.
 */
int line_table_fill(const struct line_table *lt, struct site_strings *strings,
		    struct site *sites, size_t n);

/*
 * Sets func_line of each of @n function sites (vaddr: the function's
 * start) to the line naming the function, DW_AT_decl_line of the
 * subprogram whose code starts there: what gcov reports as the
 * function's line, where the line table's entry row gives the line of
 * its "{".  Sites without such a subprogram in the same file keep their
 * func_line.  Returns 0 or -ENOMEM.
 */
int line_table_func_lines(const struct line_table *lt, struct site *sites, size_t n);

#endif /* UKCOV_SITES_DWARF_H */
