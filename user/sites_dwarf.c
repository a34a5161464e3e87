// SPDX-License-Identifier: MIT
/*
 * file:line of each site from the DWARF line tables.
 *
 * Asking libdw per address (dwarf_addrdie) walks the CU list each time;
 * with ~100k functions it is much cheaper to read every line table once
 * into one array sorted by address and binary-search it per site.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "array.h"
#include "sites_dwarf.h"

static int line_vec_push(struct line_table *vec, uint64_t addr, Dwarf_Line *line,
			 const char *comp_dir)
{
	if (ARRAY_GROW(vec->v, vec->cap, vec->n + 1, 4096))
		return -ENOMEM;
	vec->v[vec->n] = (struct line_row){ addr, line, comp_dir, vec->n, vec->n };
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

static int read_cu_lines(Dwarf_Die *cudie, struct line_table *vec)
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

/*
 * Sets the pick of each address's first row that is no end of sequence:
 * the first is_stmt row at that address, else that row itself.  Done once
 * here, in one pass: a hostile table can put tens of thousands of rows at
 * one address, and looking for the statement row per lookup would make
 * every site after that address pay for a walk over them.
 */
static void pick_rows(struct line_table *vec)
{
	size_t i, j, k;

	for (i = 0; i < vec->n; i = j) {
		size_t first = SIZE_MAX, stmt = SIZE_MAX;

		for (j = i; j < vec->n && vec->v[j].addr == vec->v[i].addr; j++) {
			if (!vec->v[j].line)
				continue;
			if (first == SIZE_MAX)
				first = j;
			if (stmt == SIZE_MAX && line_row_is_stmt(&vec->v[j]))
				stmt = j;
		}
		for (k = i; k < j; k++)
			vec->v[k].pick = k;
		if (first != SIZE_MAX && stmt != SIZE_MAX)
			vec->v[first].pick = stmt;
	}
}

static int read_all_lines(Dwarf *dw, struct line_table *vec)
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
	pick_rows(vec);
	return 0;
}

const struct line_row *line_table_find(const struct line_table *vec, uint64_t addr)
{
	/* lo = number of rows at or below @addr */
	size_t lo = addr == UINT64_MAX ? vec->n : line_table_lower_bound(vec, addr + 1), hi, first;
	uint64_t at;

	if (!lo)
		return NULL;
	/*
	 * The first row at that address that is no end of sequence (ends
	 * sort first there).  Bisected, not walked: a hostile line table can
	 * put tens of thousands of rows at one address, and a walk per site
	 * would make reading it quadratic.
	 */
	at = vec->v[lo - 1].addr;
	first = 0;
	hi = lo;
	while (first < hi) {
		size_t mid = first + (hi - first) / 2;

		if (vec->v[mid].addr < at || !vec->v[mid].line)
			first = mid + 1;
		else
			hi = mid;
	}
	return first < lo ? &vec->v[vec->v[first].pick] : NULL;
}

size_t line_table_lower_bound(const struct line_table *vec, uint64_t addr)
{
	return lower_bound_u64(vec->v, vec->n, sizeof(*vec->v), offsetof(struct line_row, addr),
			       addr);
}

const struct line_row *line_table_cover(const struct line_table *vec, uint64_t addr)
{
	/* n = number of rows at or below @addr. */
	size_t n = addr == UINT64_MAX ? vec->n : line_table_lower_bound(vec, addr + 1);

	/* Ends of sequences sort first: a last row that is one is a gap. */
	if (!n || !vec->v[n - 1].line)
		return NULL;
	return &vec->v[n - 1];
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

int line_table_read(Elf *elf, struct line_table *lt)
{
	lt->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!lt->dw)
		return 0;
	return read_all_lines(lt->dw, lt);
}

void line_table_release(struct line_table *lt)
{
	free(lt->v);
	if (lt->dw)
		dwarf_end(lt->dw);
	*lt = (struct line_table){};
}

bool line_row_is_stmt(const struct line_row *row)
{
	bool stmt;

	return row->line && !dwarf_linebeginstatement(row->line, &stmt) && stmt;
}

int line_row_source(const struct line_row *row, struct site_strings *strings,
		    const char **file, uint32_t *line)
{
	const char *name;
	int lineno;

	*file = NULL;
	*line = 0;
	if (!row->line)
		return 0;
	name = dwarf_linesrc(row->line, NULL, NULL);
	if (!name || !*name || dwarf_lineno(row->line, &lineno) || lineno <= 0)
		return 0;
	*file = intern_file(strings, name, row->comp_dir);
	if (!*file)
		return -ENOMEM;
	*line = lineno;
	return 0;
}

/* The file name of @row as line_row_source() completes it, in @buf or not. */
static const char *row_path(const struct line_row *row, const char *name, char **buf)
{
	*buf = NULL;
	if (name[0] == '/' || !row->comp_dir || row->comp_dir[0] != '/')
		return name;
	if (asprintf(buf, "%s/%s", row->comp_dir, name) < 0) {
		*buf = NULL;
		return NULL;
	}
	return *buf;
}

int line_rows_same_line(const struct line_row *a, const struct line_row *b)
{
	const char *na, *nb, *pa, *pb;
	char *ba, *bb;
	int la, lb, same;

	if (!a || !b || !a->line || !b->line)
		return 0;
	if (dwarf_lineno(a->line, &la) || dwarf_lineno(b->line, &lb) || la != lb || la <= 0)
		return 0;
	na = dwarf_linesrc(a->line, NULL, NULL);
	nb = dwarf_linesrc(b->line, NULL, NULL);
	if (!na || !nb || !*na || !*nb)
		return 0;
	/* One CU's rows share its file table and directory: the usual case. */
	if (a->comp_dir == b->comp_dir && (na == nb || !strcmp(na, nb)))
		return 1;
	pa = row_path(a, na, &ba);
	pb = row_path(b, nb, &bb);
	same = pa && pb ? !strcmp(pa, pb) : -ENOMEM;
	free(ba);
	free(bb);
	return same;
}

int line_table_fill(const struct line_table *lt, struct site_strings *strings,
		    struct site *sites, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		const struct line_row *row = line_table_find(lt, sites[i].vaddr);
		const char *file;
		uint32_t line;

		if (!row)
			continue;
		err = line_row_source(row, strings, &file, &line);
		if (err)
			return err;
		/* A row naming no line leaves what the site had. */
		if (file) {
			sites[i].file = file;
			sites[i].line = line;
		}
	}
	return 0;
}

/* Where a subprogram's code starts, and the line that names it. */
struct decl {
	uint64_t addr;
	const char *file;	/* libdw's, for the same-file check only */
	int line;
};

struct decl_vec {
	struct decl *v;
	size_t n, cap;
};

static int decl_cmp(const void *pa, const void *pb)
{
	const struct decl *a = pa, *b = pb;

	return (a->addr > b->addr) - (a->addr < b->addr);
}

/*
 * The lowest address of @die's code: DW_AT_low_pc, else the start of its
 * first range (a function split into hot and cold parts).
 */
static int die_start(Dwarf_Die *die, Dwarf_Addr *start)
{
	Dwarf_Addr base, end;
	ptrdiff_t off;

	if (!dwarf_lowpc(die, start))
		return 0;
	off = dwarf_ranges(die, 0, &base, start, &end);
	return off > 0 ? 0 : -1;
}

/*
 * The subprograms with code among the children of @die, recursing only
 * into scopes that hold function definitions (C++ namespaces and
 * classes), never into function bodies: what a CU defines is there.
 */
static int collect_decls(Dwarf_Die *die, struct decl_vec *v, unsigned int depth)
{
	Dwarf_Die child;
	int err;

	if (dwarf_child(die, &child))
		return 0;
	do {
		Dwarf_Addr start;
		int line;

		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (die_start(&child, &start) || dwarf_decl_line(&child, &line) || line <= 0)
				break;
			if (ARRAY_GROW(v->v, v->cap, v->n + 1, 1024))
				return -ENOMEM;
			v->v[v->n++] = (struct decl){ start, dwarf_decl_file(&child), line };
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			if (depth >= 16)
				break;
			err = collect_decls(&child, v, depth + 1);
			if (err)
				return err;
			break;
		default:
			break;
		}
	} while (!dwarf_siblingof(&child, &child));
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int line_table_func_lines(const struct line_table *lt, struct site *sites, size_t n)
{
	struct decl_vec v = {};
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	size_t i;
	int err = 0;

	if (!lt->dw || !n)
		return 0;
	while (!err && !dwarf_get_units(lt->dw, cu, &cu, NULL, &unit_type, &cudie, NULL))
		err = collect_decls(&cudie, &v, 0);
	if (err || !v.n)
		goto out;
	qsort(v.v, v.n, sizeof(*v.v), decl_cmp);
	for (i = 0; i < n; i++) {
		struct decl key = { .addr = sites[i].vaddr };
		const struct decl *d = bsearch(&key, v.v, v.n, sizeof(*v.v), decl_cmp);

		/* In another file than the code's (a macro's), the line means nothing there. */
		if (d && d->file && sites[i].file &&
		    !strcmp(base_name(d->file), base_name(sites[i].file)))
			sites[i].func_line = d->line;
	}
out:
	free(v.v);
	return err;
}
