// SPDX-License-Identifier: MIT
/*
 * file:line of each site from the DWARF line tables.
 *
 * Asking libdw per address (dwarf_addrdie) walks the CU list each time;
 * with ~100k functions it is much cheaper to read every line table once
 * into one array sorted by address and binary-search it per site.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "sites_dwarf.h"

/* One line table row; the Dwarf_Line stays owned by the Dwarf handle. */
struct line_row {
	uint64_t addr;
	Dwarf_Line *line;	/* NULL: the end of a sequence, a gap follows */
	const char *comp_dir;	/* the CU's DW_AT_comp_dir, or NULL */
	size_t seq;		/* read order: ties sort like the table did */
};

struct line_vec {
	struct line_row *v;
	size_t n, cap;
};

static int line_vec_push(struct line_vec *vec, uint64_t addr, Dwarf_Line *line,
			 const char *comp_dir)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 4096;
		void *p = reallocarray(vec->v, cap, sizeof(*vec->v));

		if (!p)
			return -ENOMEM;
		vec->v = p;
		vec->cap = cap;
	}
	vec->v[vec->n] = (struct line_row){ addr, line, comp_dir, vec->n };
	vec->n++;
	return 0;
}

/*
 * Ends of sequences sort before rows at the same address, so a sequence
 * starting where another ends is found; otherwise rows keep table order,
 * so the first row at a function's entry (the line of its opening) wins.
 */
static int line_row_cmp(const void *pa, const void *pb)
{
	const struct line_row *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (!a->line != !b->line)
		return a->line ? 1 : -1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int read_cu_lines(Dwarf_Die *cudie, struct line_vec *vec)
{
	Dwarf_Attribute attr;
	const char *comp_dir;
	Dwarf_Lines *lines;
	size_t n, i;
	int err;

	/* A CU without a line table (e.g. a type unit) adds nothing. */
	if (dwarf_getsrclines(cudie, &lines, &n))
		return 0;
	comp_dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
	for (i = 0; i < n; i++) {
		Dwarf_Line *line = dwarf_onesrcline(lines, i);
		Dwarf_Addr addr;
		bool end;

		if (!line || dwarf_lineaddr(line, &addr) ||
		    dwarf_lineendsequence(line, &end))
			continue;
		err = line_vec_push(vec, addr, end ? NULL : line, comp_dir);
		if (err)
			return err;
	}
	return 0;
}

static int read_all_lines(Dwarf *dw, struct line_vec *vec)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	int err;

	while (!dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &cudie, NULL)) {
		err = read_cu_lines(&cudie, vec);
		if (err)
			return err;
	}
	if (vec->n)
		qsort(vec->v, vec->n, sizeof(*vec->v), line_row_cmp);
	return 0;
}

/* The row that covers @addr, or NULL when @addr lies in no sequence. */
static const struct line_row *find_line(const struct line_vec *vec, uint64_t addr)
{
	size_t lo = 0, hi = vec->n, first;

	/* lo = number of rows with row.addr <= addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vec->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	first = lo - 1;
	while (first > 0 && vec->v[first - 1].addr == vec->v[lo - 1].addr)
		first--;
	for (; first < lo; first++)
		if (vec->v[first].line)
			return &vec->v[first];
	return NULL;
}

/*
 * libdw leaves a name relative when the line table's directory is (gcc
 * writes the directory as given on its command line): complete it with
 * the CU's compilation directory, so readers need not know where the
 * build ran.  Returns the interned name or NULL and sets errno.
 */
static const char *intern_file(struct site_strings *strings, const char *file,
			       const char *comp_dir)
{
	const char *ret;
	char *full;

	if (file[0] == '/' || !comp_dir || comp_dir[0] != '/')
		return site_strings_intern(strings, file);
	if (asprintf(&full, "%s/%s", comp_dir, file) < 0)
		return NULL;
	ret = site_strings_intern(strings, full);
	free(full);
	return ret;
}

static int set_site_line(struct site *s, const struct line_row *row,
			 struct site_strings *strings)
{
	const char *file = dwarf_linesrc(row->line, NULL, NULL);
	int lineno;

	if (!file || !*file || dwarf_lineno(row->line, &lineno) || lineno <= 0)
		return 0;
	s->file = intern_file(strings, file, row->comp_dir);
	if (!s->file)
		return -ENOMEM;
	s->line = lineno;
	return 0;
}

int sites_dwarf_lines(Elf *elf, struct site_strings *strings,
		      struct site *sites, size_t n, bool *has_dwarf)
{
	struct line_vec vec = {};
	Dwarf *dw;
	size_t i;
	int err = 0;

	*has_dwarf = false;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return 0;
	err = read_all_lines(dw, &vec);
	if (err)
		goto out;
	*has_dwarf = vec.n > 0;
	for (i = 0; i < n; i++) {
		const struct line_row *row = find_line(&vec, sites[i].vaddr);

		if (row) {
			err = set_site_line(&sites[i], row, strings);
			if (err)
				goto out;
		}
	}
out:
	free(vec.v);
	dwarf_end(dw);
	return err;
}
