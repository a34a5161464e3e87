// SPDX-License-Identifier: MIT
/*
 * The lcov tracefile (geninfo(1), "tracefile format"), which genhtml renders
 * and `lcov --summary` / `lcov -a` read:
 *
 *   TN:
 *   SF:<source file>                   one record per file, sorted by path
 *   FN:<line>,<function>               functions by line, then name
 *   FNDA:<count>,<function>
 *   FNF:<functions>  FNH:<functions hit>
 *   DA:<line>,<count>                  lines ascending
 *   LF:<lines>  LH:<lines hit>
 *   end_of_record
 *
 * What a line's and a function's count is comes from lines.h.  Sites
 * without a source file have no place in a tracefile and are left out.
 */
#include <errno.h>
#include <inttypes.h>

#include "sinks/lines.h"
#include "sinks/sink.h"
#include "sites.h"

/*
 * lcov reads "FN:(\d+),([^,]+)": a comma would cut the name short, and
 * any line break would end the record.  Mangled C++ names have no commas;
 * whatever else does gets ';' in their place, control bytes get '?'.
 */
static void put_field(FILE *out, const char *s, bool is_name)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p && is_name) {
		fputc('?', out);	/* lcov needs a name of one char at least */
		return;
	}
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc('?', out);
		else if (*p == ',' && is_name)
			fputc(';', out);
		else
			fputc(*p, out);
	}
}

static void put_file(FILE *out, const struct line_file *f)
{
	size_t i;

	fputs("SF:", out);
	put_field(out, f->path, false);
	fputc('\n', out);
	for (i = 0; i < f->nfuncs; i++) {
		fprintf(out, "FN:%" PRIu32 ",", f->funcs[i].line);
		put_field(out, f->funcs[i].name, true);
		fputc('\n', out);
	}
	for (i = 0; i < f->nfuncs; i++) {
		fprintf(out, "FNDA:%" PRIu64 ",", f->funcs[i].count);
		put_field(out, f->funcs[i].name, true);
		fputc('\n', out);
	}
	fprintf(out, "FNF:%zu\nFNH:%zu\n", f->nfuncs, f->funcs_hit);
	for (i = 0; i < f->nlines; i++)
		fprintf(out, "DA:%" PRIu32 ",%" PRIu64 "\n", f->lines[i].line,
			f->lines[i].count);
	fprintf(out, "LF:%zu\nLH:%zu\nend_of_record\n", f->nlines, f->lines_hit);
}

static int lcov_finish(struct sink *s, const struct site_table *t,
		       const uint64_t *totals, const struct run_info *info)
{
	struct line_report *r;
	size_t i;
	int err = 0;

	r = line_report_new(t, totals, line_totals_are_runs(info ? info->mode : NULL));
	if (!r)
		return -errno;
	errno = 0;
	/* An empty test name, as geninfo writes without --test-name. */
	fputs("TN:\n", s->out);
	for (i = 0; i < r->nfiles && !ferror(s->out); i++)
		put_file(s->out, &r->files[i]);
	/* stdio's errors are sticky: one check after the record that failed. */
	if (ferror(s->out) || fflush(s->out) == EOF)
		err = errno ? -errno : -EIO;
	line_report_free(r);
	return err;
}

const struct sink_ops sink_lcov = {
	.name = "lcov",
	.extension = ".info",
	.summary = "an lcov tracefile of source lines and functions (genhtml)",
	.finish = lcov_finish,
};
