/* SPDX-License-Identifier: MIT */
/*
 * Coverage per source line and per function, for the formats that speak in
 * source terms (lcov, cobertura).  Built once from the site table and the
 * run's totals, so the rules for turning sites into lines live in one place:
 *
 *   copy            the sites of one function in one place of one module:
 *                   a function has one copy per module that holds it, and
 *                   a static function in a header one per translation unit
 *                   that includes it.  A copy is a run of sites in table
 *                   order with one module and function name, and begins
 *                   anew at every entry site (SITE_FUNC_ENTRY).
 *   line count      per copy, how often control entered the line: the
 *                   sum of the counts of its sites that enter it
 *                   (SITE_ENTERS_LINE: reached from another line's code,
 *                   sites_line.c), or the largest count among its sites on
 *                   that (file, line) when that is more (a line entered
 *                   where no statement row begins).  Sites that only
 *                   continue a line (its for's condition after its init)
 *                   add nothing: they are the same execution.  Summed over
 *                   the copies, since each copy (and each function a macro
 *                   puts on one line) runs the line separately.  gcov
 *                   counts a line's entries the same way, and lcov adds up
 *                   the records gcov writes for each translation unit.
 *   copy count      its entry site's count (the largest, if a table flags
 *                   several at one address); with no entry site, the
 *                   largest count among its sites.
 *   function        the copies with one name and one file, summed; its
 *                   file is where its entry site is (the file that defines
 *                   it, as gcov lists it), else the file of its site on
 *                   its func_line, else that of its first site with one.
 *                   Code inlined from other files counts on those files'
 *                   lines but makes no function there.
 *   function line   the smallest func_line of its sites, else its smallest
 *                   line in its file; a function with neither is left out.
 *   function's lines  its lines in its own file, counted as above from
 *                   its own copies only.
 *
 * A basic block with rows (SITE_ROWS) counts on each line it holds a
 * statement row of, as the line sites of those rows would (a row's
 * entries stand for its SITE_ENTERS_LINE), and not on its own file:line.
 *
 * Sites without a source file are in no file; sites with a file but line
 * 0 count toward their function only.  Everything is sorted: files by path
 * (strcmp), lines ascending, functions by line then name.
 */
#ifndef UKCOV_SINKS_LINES_H
#define UKCOV_SINKS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct site_table;

struct line_count {
	uint32_t line;		/* source line, >= 1 */
	uint64_t count;
};

struct line_func {
	const char *name;	/* the sites' func; owned by the site table */
	uint32_t line;		/* where the function starts, >= 1 */
	uint64_t count;
	/*
	 * Its own lines, ascending, counted from its own sites only: a line
	 * it shares with another function (a macro defining several) says
	 * how often this function ran it.
	 */
	const struct line_count *lines;
	size_t nlines;
};

struct line_file {
	const char *path;	/* as the site table has it (DWARF's name) */
	struct line_count *lines;
	size_t nlines;
	struct line_func *funcs;
	size_t nfuncs;
	size_t lines_hit;	/* lines with count > 0 */
	size_t funcs_hit;	/* functions with count > 0 */
};

struct line_report {
	struct line_file *files;
	size_t nfiles;
	size_t lines_found, lines_hit;	/* over all files */
	size_t funcs_found, funcs_hit;
	size_t sites_without_file;	/* sites in no file's figures */
	/* private: the storage the arrays above point into */
	void *mem[4];
};

/*
 * Aggregates @t with @totals (totals[i] is site i's count over the run).
 * @runs says the totals count executions; when they do not (once mode: 1
 * for a site that ran; `ukcov report`: drains that saw the site), adding
 * up a line's entering sites means nothing, and a line's count per copy
 * is its largest site count.  The report points into @t's strings: free
 * it before @t.  Returns NULL and sets errno (ENOMEM) on failure.
 */
struct line_report *line_report_new(const struct site_table *t,
				     const uint64_t *totals, bool runs);

/* Whether the totals of a run of run_info mode @mode count executions. */
static inline bool line_totals_are_runs(const char *mode)
{
	return !mode || !strcmp(mode, "count");
}

/* Frees @r.  Accepts NULL. */
void line_report_free(struct line_report *r);

#endif /* UKCOV_SINKS_LINES_H */
