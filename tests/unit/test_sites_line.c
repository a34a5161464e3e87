// SPDX-License-Identifier: MIT
/*
 * Unit tests of line sites (user/sites_line.c) on tests/fixtures/lines_cov.c
 * (with lines_cov2.c) built with -g at -O0 and -O2, and of line and bb
 * sites on the hand-written line tables of tests/fixtures/lines_rows.S.
 *
 * Truth: the line table as binutils decodes it (objdump
 * --dwarf=decodedline) and the function ranges nm reports, read here with
 * the rule line sites follow, written out independently: one site per
 * distinct (address, file, line) of the is_stmt rows whose address lies
 * in a function.
 */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
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

struct func {
	uint64_t start, size;
	char name[64];
};

struct row {
	uint64_t addr;
	char file[64];		/* base name */
	unsigned line;
};

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	c = strcmp(a->file, b->file);
	return c;
}

/* Functions with a size, from `nm -S`. */
static size_t read_funcs(const char *path, struct func *f, size_t max)
{
	char cmd[512], line[256];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a, s;
		char type, name[64];

		if (sscanf(line, "%llx %llx %c %63s", &a, &s, &type, name) != 4 || !s ||
		    (type != 'T' && type != 't' && type != 'W'))
			continue;
		assert_true(n < max);
		f[n].start = a;
		f[n].size = s;
		strcpy(f[n].name, name);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(n > 0);
	return n;
}

static const struct func *func_at(const struct func *f, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= f[i].start && addr - f[i].start < f[i].size)
			return &f[i];
	return NULL;
}

/*
 * The is_stmt rows of `objdump --dwarf=decodedline`, one per distinct
 * (address, file, line), inside a function.  Row lines look like
 *   FILE  LINE  0xADDR  [VIEW]  [x]
 * with LINE "-" at the end of a sequence and "x" marking is_stmt.
 */
static size_t read_rows(const char *path, const struct func *f, size_t nf,
			struct row *rows, size_t max)
{
	char cmd[512], line[512];
	size_t n = 0, i, j;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump --dwarf=decodedline '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *tok[8], *save = NULL, *t;
		unsigned long long addr;
		int nt = 0;

		for (t = strtok_r(line, " \t\n", &save); t && nt < 8;
		     t = strtok_r(NULL, " \t\n", &save))
			tok[nt++] = t;
		if (nt < 4 || strncmp(tok[2], "0x", 2) || strcmp(tok[nt - 1], "x") ||
		    !strcmp(tok[1], "-"))
			continue;
		addr = strtoull(tok[2], NULL, 16);
		if (!func_at(f, nf, addr))
			continue;
		assert_true(n < max);
		rows[n].addr = addr;
		snprintf(rows[n].file, sizeof(rows[n].file), "%s", basename(tok[0]));
		rows[n].line = strtoul(tok[1], NULL, 10);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (i = j = 0; i < n; i++)
		if (!j || row_cmp(&rows[j - 1], &rows[i]))
			rows[j++] = rows[i];
	return j;
}

static void check_lines(const char *path)
{
	static struct func funcs[512];
	static struct row want[8192], got[8192];
	const struct site_options o = { .kind = SITE_KIND_LINE };
	struct site_table *t = site_table_new();
	size_t nf, nwant, i;
	const char *why = NULL;
	int err;

	nf = read_funcs(path, funcs, 512);
	nwant = read_rows(path, funcs, nf, want, 8192);
	assert_true(nwant > 20);
	err = site_table_add_elf(t, path, NULL, &o, &why);
	if (err)
		fail_msg("%s: %d (%s)", path, err, why ? why : "");
	site_table_finish(t);
	assert_true(t->modules[0].has_dwarf);
	assert_true(t->nsites <= 8192);
	for (i = 0; i < t->nsites; i++) {
		struct site s_copy = test_site(t, i);
		const struct site *s = &s_copy;
		const struct func *f = func_at(funcs, nf, s->vaddr);
		char file[512];

		assert_non_null(s->file);
		snprintf(file, sizeof(file), "%s", s->file);
		got[i].addr = s->vaddr;
		snprintf(got[i].file, sizeof(got[i].file), "%s", basename(file));
		got[i].line = s->line;
		/* Each site knows its function and where its probe may go. */
		assert_non_null(f);
		assert_string_equal(s->func, f->name);
		/* Only at the function's start; one per function (below). */
		if (s->flags & SITE_FUNC_ENTRY)
			assert_int_equal(s->vaddr, f->start);
		assert_true(s->size > 0);
		assert_true(s->probe_offset >= s->offset);
		assert_true(s->probe_offset < s->offset + s->size);
		/* Sites at one address share one probe. */
		if (i && s->vaddr == test_site(t, i - 1).vaddr)
			assert_int_equal(s->probe_offset, test_site(t, i - 1).probe_offset);
	}
	/*
	 * A function with sites at its start has exactly one entry site:
	 * more would each count its calls (lcov's FNDA).
	 */
	for (i = 0; i < nf; i++) {
		size_t at_start = 0, entries = 0;

		for (size_t k = 0; k < t->nsites; k++) {
			if (test_site(t, k).vaddr != funcs[i].start)
				continue;
			at_start++;
			entries += !!(test_site(t, k).flags & SITE_FUNC_ENTRY);
		}
		if (entries != !!at_start)
			fail_msg("%s: %s has %zu entry sites among the %zu at its start",
				 path, funcs[i].name, entries, at_start);
	}
	qsort(got, t->nsites, sizeof(*got), row_cmp);
	for (i = 0; i < nwant && i < t->nsites; i++)
		if (row_cmp(&want[i], &got[i]))
			fail_msg("%s: row %zu: want %#llx %s:%u, got %#llx %s:%u", path, i,
				 (unsigned long long)want[i].addr, want[i].file, want[i].line,
				 (unsigned long long)got[i].addr, got[i].file, got[i].line);
	assert_int_equal(t->nsites, nwant);
	assert_int_equal(t->modules[0].nplace_nop5 + t->modules[0].nplace_emulated +
			 t->modules[0].nplace_single_step, t->nsites);
	site_table_free(t);
}

static void test_lines_O0(void **state)
{
	(void)state;
	check_lines(FIX("lines-O0"));
}

/* -O2: inlined calls and statements sharing an address (views). */
static void test_lines_O2(void **state)
{
	(void)state;
	check_lines(FIX("lines-O2"));
}

/* ---- tests/fixtures/lines_rows.S: hand-written line tables -------------- */

/* The vaddr of symbol @name in @path, from `nm`. */
static uint64_t sym(const char *path, const char *name)
{
	char cmd[512], line[256];
	uint64_t addr = 0;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a;
		char type, n[128];

		if (sscanf(line, "%llx %c %127s", &a, &type, n) == 3 && !strcmp(n, name)) {
			addr = a;
			found = true;
		}
	}
	assert_int_equal(pclose(p), 0);
	if (!found)
		fail_msg("no symbol %s in %s", name, path);
	return addr;
}

/* Sites of @kind of the lines-rows fixture, table finished. */
static struct site_table *rows_table(enum site_kind kind)
{
	const struct site_options o = { .kind = kind };
	struct site_table *t = site_table_new();
	const char *why = NULL;
	int err;

	assert_non_null(t);
	err = site_table_add_elf(t, FIX("lines-rows"), NULL, &o, &why);
	if (err)
		fail_msg("lines-rows: %d (%s)", err, why ? why : "");
	site_table_finish(t);
	return t;
}

/* The only site of @t at vaddr @addr. */
static struct site site_at(const struct site_table *t, uint64_t addr)
{
	struct site found = {};
	bool any = false;

	for (size_t i = 0; i < t->nsites; i++) {
		if (test_site(t, i).vaddr != addr)
			continue;
		if (any)
			fail_msg("several sites at %#llx", (unsigned long long)addr);
		found = test_site(t, i);
		any = true;
	}
	if (!any)
		fail_msg("no site at %#llx", (unsigned long long)addr);
	return found;
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * A block is named by the first statement row at its leader, not by a
 * non-statement row before it; with no statement row there, by the first
 * row.
 */
static void test_bb_line_prefers_statement_rows(void **state)
{
	struct site_table *t = rows_table(SITE_KIND_BB);
	static const struct {
		const char *label;
		unsigned line;
	} want[] = {
		{ "rows_pick", 10 }, { "rows_pick.b1", 12 }, { "rows_pick.b2", 13 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct site found = site_at(t, sym(FIX("lines-rows"), want[i].label));
		const struct site *s = &found;

		assert_non_null(s->file);
		assert_string_equal(base(s->file), "rows.c");
		if (s->line != want[i].line)
			fail_msg("%s: line %u, want %u", want[i].label, s->line, want[i].line);
	}
	site_table_free(t);
}

/*
 * Three statements at a function's first address (views): only the first,
 * its opening line, is the entry site.
 */
static void test_lines_one_entry_site(void **state)
{
	struct site_table *t = rows_table(SITE_KIND_LINE);
	uint64_t start = sym(FIX("lines-rows"), "rows_views");
	size_t at_start = 0;

	(void)state;
	for (size_t i = 0; i < t->nsites; i++) {
		struct site s_copy = test_site(t, i);
		const struct site *s = &s_copy;

		if (s->vaddr != start)
			continue;
		at_start++;
		if (s->flags & SITE_FUNC_ENTRY) {
			assert_string_equal(base(s->file), "rows.c");
			assert_int_equal(s->line, 40);
		} else {
			assert_true(s->line != 40);
		}
	}
	assert_int_equal(at_start, 3);
	site_table_free(t);
}

/*
 * Which line sites enter their line (SITE_ENTERS_LINE) and which only
 * continue it, as lines_rows.S documents each row, function by function
 * in address order ("F" the function's entry site, "e" enters).
 */
static void test_lines_enter_or_continue(void **state)
{
	static const struct {
		const char *func;
		const char *sites;	/* "FILE:LINE:FLAGS ..." in table order */
	} want[] = {
		{ "rows_pick", "rows.c:10:Fe rows.c:12:e rows.c:14:e" },
		{ "rows_loop", "rows.c:20:Fe rows.c:21:e rows.c:22:e rows.c:21:e rows.c:21: rows.c:23:e" },
		{ "rows_while", "rows.c:30:Fe rows.c:31:e rows.c:32:e rows.c:31: rows.c:33:e" },
		{ "rows_views", "rows.h:5:e rows.c:40:Fe rows.c:41:e rows.c:41: rows.c:42:e" },
	};
	struct site_table *t = rows_table(SITE_KIND_LINE);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char got[512] = "";
		size_t len = 0;

		for (size_t k = 0; k < t->nsites; k++) {
			struct site s_copy = test_site(t, k);
			const struct site *s = &s_copy;

			if (strcmp(s->func, want[i].func))
				continue;
			len += snprintf(got + len, sizeof(got) - len, "%s%s:%u:%s%s", len ? " " : "",
					base(s->file), s->line,
					s->flags & SITE_FUNC_ENTRY ? "F" : "",
					s->flags & SITE_ENTERS_LINE ? "e" : "");
			assert_true(len < sizeof(got));
		}
		if (strcmp(got, want[i].sites))
			fail_msg("%s: sites %s, want %s", want[i].func, got, want[i].sites);
	}
	site_table_free(t);
}

/*
 * A basic block lists the lines of the statement rows inside it, each with
 * how many of them enter the line (lines_rows.S): "FILE:LINE:ENTRIES"
 * per row, blocks in address order separated by " | ".
 */
static void test_bb_rows(void **state)
{
	static const struct {
		const char *func;
		const char *blocks;
	} want[] = {
		{ "rows_pick", "rows.c:10:1 | rows.c:12:1 | rows.c:14:1" },
		{ "rows_loop", "rows.c:20:1 rows.c:21:1 | rows.c:21:1 rows.c:22:1 | rows.c:21:0 | rows.c:23:1" },
		{ "rows_while", "rows.c:30:1 rows.c:31:1 | rows.c:32:1 | rows.c:31:0 | rows.c:33:1" },
		{ "rows_views", "rows.c:40:1 rows.c:41:1 rows.c:42:1 rows.h:5:1" },
	};
	struct site_table *t = rows_table(SITE_KIND_BB);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char got[512] = "";
		size_t len = 0;

		for (size_t k = 0; k < t->nsites; k++) {
			struct site s_copy = test_site(t, k);
			const struct site *s = &s_copy;

			if (strcmp(s->func, want[i].func))
				continue;
			assert_true(s->flags & SITE_ROWS);
			if (len)
				len += snprintf(got + len, sizeof(got) - len, " |");
			for (uint32_t r = 0; r < s->nrows; r++)
				len += snprintf(got + len, sizeof(got) - len, "%s%s:%u:%u", len ? " " : "",
						base(s->rows[r].file), s->rows[r].line,
						s->rows[r].entries);
			assert_true(len < sizeof(got));
		}
		if (strcmp(got, want[i].blocks))
			fail_msg("%s: blocks %s, want %s", want[i].func, got, want[i].blocks);
	}
	site_table_free(t);
}

/* (function, file, line) and how many of its sites or rows enter it. */
struct line_tally {
	const char *func, *file;
	uint32_t line, entries;
};

static int tally_cmp(const void *pa, const void *pb)
{
	const struct line_tally *a = pa, *b = pb;
	int c = strcmp(a->func, b->func);

	if (!c)
		c = strcmp(a->file, b->file);
	if (!c)
		c = (a->line > b->line) - (a->line < b->line);
	return c;
}

/* Folds @n tallies, sorted, into one per (function, file, line). */
static size_t tally_fold(struct line_tally *v, size_t n)
{
	size_t j = 0;

	qsort(v, n, sizeof(*v), tally_cmp);
	for (size_t i = 0; i < n; i++) {
		if (j && !tally_cmp(&v[j - 1], &v[i]))
			v[j - 1].entries += v[i].entries;
		else
			v[j++] = v[i];
	}
	return j;
}

/*
 * On compiled code (-O0 and -O2), the blocks hold exactly the rows line
 * sites are made of: every (function, file, line) of a line site is a row
 * of some block of that function, and as many of the line's sites enter
 * it as the blocks' rows say.  So bb and line sites give a report the
 * same lines with the same counts.
 */
static void check_bb_rows_are_line_sites(const char *path)
{
	static struct line_tally lt[8192], bt[8192];
	struct site_table *l = site_table_new(), *b = site_table_new();
	const struct site_options ol = { .kind = SITE_KIND_LINE }, ob = { .kind = SITE_KIND_BB };
	size_t nl = 0, nb = 0, i;

	assert_int_equal(site_table_add_elf(l, path, NULL, &ol, NULL), 0);
	assert_int_equal(site_table_add_elf(b, path, NULL, &ob, NULL), 0);
	assert_int_equal(l->modules[0].nrefused, 0);
	assert_int_equal(b->modules[0].nrefused, 0);
	for (i = 0; i < l->nsites; i++) {
		assert_true(nl < 8192);
		lt[nl++] = (struct line_tally){ test_site(l, i).func, test_site(l, i).file, test_site(l, i).line,
						!!(test_site(l, i).flags & SITE_ENTERS_LINE) };
	}
	for (i = 0; i < b->nsites; i++) {
		assert_true(test_site(b, i).flags & SITE_ROWS);
		for (uint32_t r = 0; r < test_site(b, i).nrows; r++) {
			assert_true(nb < 8192);
			bt[nb++] = (struct line_tally){ test_site(b, i).func, test_site(b, i).rows[r].file,
							test_site(b, i).rows[r].line,
							test_site(b, i).rows[r].entries };
		}
	}
	nl = tally_fold(lt, nl);
	nb = tally_fold(bt, nb);
	for (i = 0; i < nl && i < nb; i++)
		if (tally_cmp(&lt[i], &bt[i]) || lt[i].entries != bt[i].entries)
			fail_msg("%s: line sites %s %s:%u (%u entering), blocks %s %s:%u (%u)", path,
				 lt[i].func, base(lt[i].file), lt[i].line, lt[i].entries,
				 bt[i].func, base(bt[i].file), bt[i].line, bt[i].entries);
	assert_int_equal(nl, nb);
	assert_true(nl > 20);
	site_table_free(l);
	site_table_free(b);
}

static void test_bb_rows_are_line_sites(void **state)
{
	(void)state;
	check_bb_rows_are_line_sites(FIX("lines-O0"));
	check_bb_rows_are_line_sites(FIX("lines-O2"));
}

/* Line sites without DWARF: a clear error, not an empty table. */
static void test_lines_without_dwarf(void **state)
{
	const struct site_options o = { .kind = SITE_KIND_LINE };
	struct site_table *t = site_table_new();
	const char *why = NULL;

	(void)state;
	assert_int_equal(site_table_add_elf(t, FIX("sites-stripped"), NULL, &o, &why),
			 -ENODATA);
	assert_non_null(why);
	assert_non_null(strstr(why, "no DWARF line table"));
	assert_int_equal(t->nsites, 0);
	assert_int_equal(t->nmodules, 0);
	site_table_free(t);
}

/* The same binary and options give the same table, PC for PC. */
static void test_lines_deterministic(void **state)
{
	const struct site_options o = { .kind = SITE_KIND_LINE };
	struct site_table *a = site_table_new(), *b = site_table_new();

	(void)state;
	assert_int_equal(site_table_add_elf(a, FIX("lines-O2"), NULL, &o, NULL), 0);
	assert_int_equal(site_table_add_elf(b, FIX("lines-O2"), NULL, &o, NULL), 0);
	site_table_finish(a);
	site_table_finish(b);
	assert_int_equal(a->nsites, b->nsites);
	for (size_t i = 0; i < a->nsites; i++) {
		assert_int_equal(test_site(a, i).vaddr, test_site(b, i).vaddr);
		assert_int_equal(test_site(a, i).line, test_site(b, i).line);
		assert_string_equal(test_site(a, i).file, test_site(b, i).file);
	}
	site_table_free(a);
	site_table_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_O0),
		cmocka_unit_test(test_lines_O2),
		cmocka_unit_test(test_lines_without_dwarf),
		cmocka_unit_test(test_bb_line_prefers_statement_rows),
		cmocka_unit_test(test_lines_one_entry_site),
		cmocka_unit_test(test_lines_enter_or_continue),
		cmocka_unit_test(test_bb_rows),
		cmocka_unit_test(test_bb_rows_are_line_sites),
		cmocka_unit_test(test_lines_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
