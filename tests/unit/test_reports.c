// SPDX-License-Identifier: MIT
/*
 * The report formats: lcov, cobertura, drcov, and the per-line aggregation
 * (sinks/lines.h) the first two share.  Expected output is written out by
 * hand from each format's documentation (geninfo(1)'s tracefile format,
 * coverage-04.dtd, the drcov layout in Lighthouse's parser) and from the
 * rules in lines.h, never produced by the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "options.h"
#include "sinks/lines.h"
#include "sinks/sink.h"
#include "sites.h"
#include "testutil.h"

#define E SITE_FUNC_ENTRY

/* ---- table A: function sites, two files, a module without DWARF ---------- */

static struct site_module a_modules[] = {
	{ .path = "/bin/app", .open_path = "/bin/app", .pie = true,
	  .has_dwarf = true, .first_site = 0, .nsites = 4, .image_base = 0 },
	/* A fixed-address executable: RVAs count from 0x400000. */
	{ .path = "/opt/static-app", .open_path = "/opt/static-app",
	  .first_site = 4, .nsites = 1, .image_base = 0x400000 },
};

static struct site a_sites[] = {
	{ .module = 0, .flags = E, .vaddr = 0x1139, .offset = 0x1139, .size = 16,
	  .func = "main", .file = "/src/app/main.c", .line = 3, .func_line = 3 },
	{ .module = 0, .flags = E, .vaddr = 0x1150, .offset = 0x1150, .size = 32,
	  .func = "helper", .file = "/src/app/util.c", .line = 10, .func_line = 10 },
	{ .module = 0, .flags = E, .vaddr = 0x1170, .offset = 0x1170, .size = 8,
	  .func = "unused", .file = "/src/app/util.c", .line = 4, .func_line = 4 },
	{ .module = 0, .flags = E, .vaddr = 0x1180, .offset = 0x1180, .size = 8,
	  .func = "alpha", .file = "/src/app/main.c", .line = 20, .func_line = 20 },
	/* No DWARF: in no source file; longer than a u16. */
	{ .module = 1, .flags = E, .vaddr = 0x402000, .offset = 0x2000, .size = 70000,
	  .func = "inflate" },
};

/* Built from a_modules and a_sites (and b_...) by the group setup. */
static struct site_table *a_table, *b_table;

static const uint64_t a_totals[5] = { 1, 5, 0, 2, 9 };

static const struct run_info func_info = {
	.target = "/bin/app", .mode = "count", .site_kind = "func",
	.drains = 3, .drains_with_hits = 2, .exit_status = 0,
};

/*
 * ---- table B: line sites ---------------------------------------------------
 * f has rows on lines 5, 6 (twice), 7 in /bin/app and on 5, 6 in a shared
 * library built from the same file; g has only a line-0 row; h has no
 * func_line; k has no file; z's file has nothing with a line.
 */
static struct site_module b_modules[] = {
	{ .path = "/bin/app", .open_path = "/bin/app", .first_site = 0, .nsites = 7 },
	{ .path = "/lib/libshared.so", .open_path = "/lib/libshared.so",
	  .first_site = 7, .nsites = 3 },
};

static struct site b_sites[] = {
	{ .module = 0, .flags = E, .vaddr = 0x1000, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 5, .func_line = 5 },
	{ .module = 0, .vaddr = 0x1004, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 6, .func_line = 5 },
	{ .module = 0, .vaddr = 0x1008, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 6, .func_line = 5 },
	{ .module = 0, .vaddr = 0x100c, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 7, .func_line = 5 },
	{ .module = 0, .vaddr = 0x1010, .size = 4, .func = "g",
	  .file = "/s/a.c", .line = 0, .func_line = 12 },
	{ .module = 0, .vaddr = 0x1020, .size = 4, .func = "h",
	  .file = "/s/a.c", .line = 15, .func_line = 0 },
	{ .module = 0, .vaddr = 0x1030, .size = 4, .func = "z",
	  .file = "/s/b.c", .line = 0, .func_line = 0 },
	{ .module = 1, .flags = E, .vaddr = 0x500, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 5, .func_line = 5 },
	{ .module = 1, .vaddr = 0x504, .size = 4, .func = "f",
	  .file = "/s/a.c", .line = 6, .func_line = 5 },
	{ .module = 1, .vaddr = 0x600, .size = 4, .func = "k" },
};

static const uint64_t b_totals[10] = { 3, 10, 7, 0, 4, 0, 1, 2, 1, 8 };

static const struct run_info line_info = {
	.target = "/bin/app", .mode = "count", .site_kind = "line",
	.drains = 1, .exit_status = 0,
};

/* ---- helpers ------------------------------------------------------------- */

static int build_tables(void **state)
{
	(void)state;
	a_table = test_table(a_modules, 2, a_sites, 5);
	b_table = test_table(b_modules, 2, b_sites, 10);
	return 0;
}

static int free_tables(void **state)
{
	(void)state;
	site_table_free(a_table);
	site_table_free(b_table);
	return 0;
}

struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

/*
 * Runs @ops' finish into memory; returns what it wrote (NUL-terminated,
 * caller frees), its length in *@len, and checks the return value.
 */
static char *run_sink(const struct sink_ops *ops, const struct site_table *t,
		      const uint64_t *totals, const struct run_info *info,
		      int want_err, size_t *len)
{
	struct memout m = {};
	struct sink s = { .ops = ops };

	m.f = open_memstream(&m.buf, &m.len);
	assert_non_null(m.f);
	s.out = m.f;
	assert_int_equal(sink_finish(&s, t, totals, info), want_err);
	assert_int_equal(fclose(m.f), 0);
	if (len)
		*len = m.len;
	return m.buf;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* An entity reference at @p ('&'): one of XML's five or a numeric one. */
static size_t entity_len(const char *p)
{
	static const char *const named[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	size_t i, n;

	for (i = 0; i < 5; i++)
		if (!strncmp(p, named[i], strlen(named[i])))
			return strlen(named[i]);
	if (p[1] != '#')
		return 0;
	for (n = 2; p[n] >= '0' && p[n] <= '9'; n++)
		;
	return n > 2 && p[n] == ';' ? n + 1 : 0;
}

/*
 * A small well-formedness check, enough for what the writer emits: the
 * declaration and DOCTYPE, then one element tree whose tags nest, whose
 * attributes are quoted, and where '&' only starts a reference and '<'
 * only a tag.  Returns the number of elements, or -1 with a message.
 */
static int xml_check(const char *doc)
{
	const char *stack[64], *p = doc;
	size_t lens[64], depth = 0;
	int elements = 0, roots = 0;

	if (strncmp(p, "<?xml ", 6))
		return fprintf(stderr, "no XML declaration\n"), -1;
	p = strstr(p, "?>") + 2;
	p = skip_space(p);
	if (!strncmp(p, "<!DOCTYPE ", 10))
		p = skip_space(strchr(p, '>') + 1);
	while (*p) {
		if (*p == '&') {
			size_t n = entity_len(p);

			if (!n)
				return fprintf(stderr, "bare & at %td\n", p - doc), -1;
			p += n;
			continue;
		}
		if (*p != '<') {
			if (!depth && *p != ' ' && *p != '\t' && *p != '\n')
				return fprintf(stderr, "text outside the root at %td\n", p - doc), -1;
			if (*p == '>')
				return fprintf(stderr, "bare > at %td\n", p - doc), -1;
			p++;
			continue;
		}
		if (p[1] == '/') {
			size_t n = strcspn(p + 2, ">");

			if (!depth || n != lens[depth - 1] || strncmp(p + 2, stack[depth - 1], n))
				return fprintf(stderr, "mismatched close tag at %td\n", p - doc), -1;
			depth--;
			p += 2 + n + 1;
			continue;
		}
		/* A start tag: name, then name="value" pairs, then > or />. */
		{
			const char *name = ++p;
			size_t n = strcspn(p, " \t\n/>");

			if (!n)
				return fprintf(stderr, "empty tag name at %td\n", p - doc), -1;
			if (!depth && roots++)
				return fprintf(stderr, "second root at %td\n", p - doc), -1;
			elements++;
			p = skip_space(p + n);
			while (*p && *p != '>' && *p != '/') {
				size_t an = strcspn(p, "= \t\n>");
				const char *v;

				if (!an || p[an] != '=' || p[an + 1] != '"')
					return fprintf(stderr, "bad attribute at %td\n", p - doc), -1;
				for (v = p + an + 2; *v && *v != '"'; v++) {
					if (*v == '<' || (*v == '&' && !entity_len(v)))
						return fprintf(stderr, "bad attribute value at %td\n", v - doc), -1;
				}
				if (!*v)
					return fprintf(stderr, "unterminated attribute\n"), -1;
				p = skip_space(v + 1);
			}
			if (*p == '/' && p[1] == '>') {
				p += 2;
				continue;
			}
			if (*p != '>' || depth == 64)
				return fprintf(stderr, "bad start tag at %td\n", p - doc), -1;
			stack[depth] = name;
			lens[depth++] = n;
			p++;
		}
	}
	if (depth || roots != 1)
		return fprintf(stderr, "unclosed elements or no root\n"), -1;
	return elements;
}

/* Position of @needle in @hay, failing the test when absent. */
static size_t pos_of(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	if (!p)
		fail_msg("'%s' not found in:\n%s", needle, hay);
	return (size_t)(p - hay);
}

/* How often @needle occurs in @hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The checker itself must catch what it claims to. */
static void test_xml_check_rejects(void **state)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?>\n<a><b></a></b>\n",
		"<?xml version=\"1.0\"?>\n<a x=\"1&2\"/>\n",
		"<?xml version=\"1.0\"?>\n<a x=\"<\"/>\n",
		"<?xml version=\"1.0\"?>\n<a x=1/>\n",
		"<?xml version=\"1.0\"?>\n<a>\n",
		"<?xml version=\"1.0\"?>\n<a/><b/>\n",
		"<?xml version=\"1.0\"?>\n<a>x & y</a>\n",
		"<a/>\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xml_check(bad[i]) >= 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(xml_check("<?xml version=\"1.0\"?>\n<a x=\"&amp;&#10;\"><b/>t&lt;</a>\n"), 2);
}

/* Cobertura's timestamp, fixed so its output can be compared. */
static void set_epoch(void)
{
	assert_int_equal(setenv("SOURCE_DATE_EPOCH", "1700000000", 1), 0);
}

/* ---- the format table ------------------------------------------------------ */

static void test_formats_registered(void **state)
{
	(void)state;
	assert_ptr_equal(sink_find("lcov"), &sink_lcov);
	assert_ptr_equal(sink_find("cobertura"), &sink_cobertura);
	assert_ptr_equal(sink_find("drcov"), &sink_drcov);
	assert_ptr_equal(sink_for_path("out/cov.info"), &sink_lcov);
	assert_ptr_equal(sink_for_path("cov.xml"), &sink_cobertura);
	assert_ptr_equal(sink_for_path("/tmp/x.drcov"), &sink_drcov);
	assert_null(sink_for_path("cov.lcov"));
	/* drcov is mostly binary; the source-line reports are text. */
	assert_true(sink_drcov.binary);
	assert_false(sink_lcov.binary);
	assert_false(sink_cobertura.binary);
	assert_true(sink_drcov.needs_size);
	assert_false(sink_lcov.needs_size);
	assert_false(sink_cobertura.needs_size);
	assert_null(sink_drcov.drain_begin);
	assert_null(sink_lcov.drain_begin);
	assert_null(sink_cobertura.drain_begin);
	assert_non_null(strstr(sink_names(), "lcov"));
}

/* drcov with line sites is refused when options are checked, not after the run. */
static void test_options_refuse_drcov_line(void **state)
{
	struct collect_opts o;

	(void)state;
	collect_opts_init(&o);
	o.sites.kind = SITE_KIND_LINE;
	o.outputs[o.noutputs++].path = "cov.info";
	o.outputs[o.noutputs++].path = "cov.drcov";
	assert_int_equal(collect_opts_finish(&o), -1);

	collect_opts_init(&o);
	o.sites.kind = SITE_KIND_BB;
	o.outputs[o.noutputs++].path = "cov.drcov";
	assert_int_equal(collect_opts_finish(&o), 0);
	assert_ptr_equal(o.outputs[0].format, &sink_drcov);

	collect_opts_init(&o);
	o.sites.kind = SITE_KIND_LINE;
	o.format = &sink_drcov;
	assert_int_equal(collect_opts_finish(&o), -1);

	collect_opts_init(&o);
	o.sites.kind = SITE_KIND_LINE;
	o.outputs[o.noutputs++].path = "cov.xml";
	assert_int_equal(collect_opts_finish(&o), 0);
}

/* ---- lines.h ------------------------------------------------------------- */

static void test_lines_rules(void **state)
{
	struct line_report *r;
	const struct line_file *f;

	(void)state;
	r = line_report_new(b_table, b_totals, true);
	assert_non_null(r);
	/* /s/b.c has only a line-0 site of a function without a line. */
	assert_int_equal(r->nfiles, 1);
	assert_int_equal(r->sites_without_file, 1);
	f = &r->files[0];
	assert_string_equal(f->path, "/s/a.c");

	/* Lines: per module the max, summed over the two modules. */
	assert_int_equal(f->nlines, 4);
	assert_int_equal(f->lines[0].line, 5);
	assert_int_equal(f->lines[0].count, 3 + 2);
	assert_int_equal(f->lines[1].line, 6);
	assert_int_equal(f->lines[1].count, 10 + 1);
	assert_int_equal(f->lines[2].line, 7);
	assert_int_equal(f->lines[2].count, 0);
	assert_int_equal(f->lines[3].line, 15);
	assert_int_equal(f->lines[3].count, 0);
	assert_int_equal(f->lines_hit, 2);

	/* Functions by line: f (entries 3 + 2), g (no entry: max 4, from its
	 * func_line alone), h (no func_line: its first line). */
	assert_int_equal(f->nfuncs, 3);
	assert_string_equal(f->funcs[0].name, "f");
	assert_int_equal(f->funcs[0].line, 5);
	assert_int_equal(f->funcs[0].count, 5);
	assert_int_equal(f->funcs[0].nlines, 3);
	assert_int_equal(f->funcs[0].lines[0].line, 5);
	assert_int_equal(f->funcs[0].lines[0].count, 5);
	assert_int_equal(f->funcs[0].lines[1].line, 6);
	assert_int_equal(f->funcs[0].lines[1].count, 11);
	assert_int_equal(f->funcs[0].lines[2].line, 7);
	assert_int_equal(f->funcs[0].lines[2].count, 0);
	assert_string_equal(f->funcs[1].name, "g");
	assert_int_equal(f->funcs[1].line, 12);
	assert_int_equal(f->funcs[1].count, 4);
	assert_int_equal(f->funcs[1].nlines, 0);
	assert_string_equal(f->funcs[2].name, "h");
	assert_int_equal(f->funcs[2].line, 15);
	assert_int_equal(f->funcs[2].count, 0);
	assert_int_equal(f->funcs[2].nlines, 1);
	assert_int_equal(f->funcs[2].lines[0].line, 15);
	assert_int_equal(f->funcs[2].lines[0].count, 0);
	assert_int_equal(f->funcs_hit, 2);

	assert_int_equal(r->lines_found, 4);
	assert_int_equal(r->lines_hit, 2);
	assert_int_equal(r->funcs_found, 3);
	assert_int_equal(r->funcs_hit, 2);
	line_report_free(r);
	line_report_free(NULL);
}

/*
 * Two functions a macro defines on one line: the line ran as often as both
 * together (gcov: 3 + 5 calls on one line count 8), one of them did not.
 */
static void test_lines_shared_line(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 3 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "f_5", .file = "/t.h", .line = 58, .func_line = 58 },
		{ .flags = E, .vaddr = 0x20, .func = "f_6", .file = "/t.h", .line = 58, .func_line = 58 },
		{ .flags = E, .vaddr = 0x30, .func = "f_7", .file = "/t.h", .line = 58, .func_line = 58 },
	};
	struct site_table *t = test_table(&m, 1, s, 3);
	const uint64_t totals[3] = { 60, 0, 5 };
	struct line_report *r;
	const struct line_file *f;
	char *got;

	(void)state;
	r = line_report_new(t, totals, true);
	assert_non_null(r);
	f = &r->files[0];
	assert_int_equal(f->nlines, 1);
	assert_int_equal(f->lines[0].count, 65);
	assert_int_equal(f->nfuncs, 3);
	assert_string_equal(f->funcs[0].name, "f_5");
	assert_int_equal(f->funcs[0].lines[0].count, 60);
	assert_string_equal(f->funcs[1].name, "f_6");
	assert_int_equal(f->funcs[1].count, 0);
	assert_int_equal(f->funcs[1].lines[0].count, 0);
	line_report_free(r);

	set_epoch();
	got = run_sink(&sink_cobertura, t, totals, &func_info, 0, NULL);
	assert_non_null(strstr(got,
		"<method name=\"f_6\" signature=\"\" line-rate=\"0.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"58\" hits=\"0\"/>\n"));
	assert_non_null(strstr(got, "\t\t\t\t\t\t<line number=\"58\" hits=\"65\"/>\n\t\t\t\t\t</lines>\n\t\t\t\t</class>"));
	free(got);
	site_table_free(t);
}

/*
 * A static function in a header that two translation units include: two
 * copies in one module, the second right after the first (nothing between
 * them but its entry site tells them apart).  Its calls and each of its
 * lines are summed over the copies, as lcov sums the two SF records gcov
 * writes for the header: FNDA and DA of its lines agree.
 */
static void test_lines_header_copies(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 7 };
	struct site s[] = {
		/* lines_cov.c's copy: called 7 times, v < lo twice. */
		{ .flags = E, .vaddr = 0x100, .func = "clamp", .file = "/h.h", .line = 12, .func_line = 12 },
		{ .vaddr = 0x104, .func = "clamp", .file = "/h.h", .line = 13, .func_line = 12 },
		{ .vaddr = 0x108, .func = "clamp", .file = "/h.h", .line = 14, .func_line = 12 },
		/* lines_cov2.c's copy, its neighbour: called 12 times. */
		{ .flags = E, .vaddr = 0x110, .func = "clamp", .file = "/h.h", .line = 12, .func_line = 12 },
		{ .vaddr = 0x114, .func = "clamp", .file = "/h.h", .line = 13, .func_line = 12 },
		{ .vaddr = 0x118, .func = "clamp", .file = "/h.h", .line = 14, .func_line = 12 },
		{ .flags = E, .vaddr = 0x200, .func = "main", .file = "/a.c", .line = 3, .func_line = 3 },
	};
	struct site_table *t = test_table(&m, 1, s, 7);
	const uint64_t totals[7] = { 7, 7, 2, 12, 12, 2, 1 };
	struct line_report *r;
	const struct line_file *f;
	char *got;

	(void)state;
	r = line_report_new(t, totals, true);
	assert_non_null(r);
	assert_int_equal(r->nfiles, 2);
	f = &r->files[1];
	assert_string_equal(f->path, "/h.h");
	assert_int_equal(f->nlines, 3);
	assert_int_equal(f->lines[0].count, 19);
	assert_int_equal(f->lines[1].count, 19);
	assert_int_equal(f->lines[2].count, 4);
	assert_int_equal(f->nfuncs, 1);
	assert_int_equal(f->funcs[0].count, 19);
	assert_int_equal(f->funcs[0].nlines, 3);
	assert_int_equal(f->funcs[0].lines[0].count, 19);
	assert_int_equal(f->funcs[0].lines[2].count, 4);
	line_report_free(r);

	got = run_sink(&sink_lcov, t, totals, &func_info, 0, NULL);
	assert_non_null(strstr(got, "SF:/h.h\nFN:12,clamp\nFNDA:19,clamp\nFNF:1\nFNH:1\n"
				    "DA:12,19\nDA:13,19\nDA:14,4\nLF:3\nLH:3\nend_of_record\n"));
	free(got);
	site_table_free(t);
}

/*
 * A function is listed in the file that defines it (where its entry site
 * is), as gcov and lcov list it, not in every file it has code from:
 * main's inlined atoi() puts lines of stdlib.h in main, and stdlib.h gets
 * those lines but no function.  Its method in Cobertura holds its lines
 * of its own file.
 */
static void test_lines_function_file(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 4 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "main", .file = "/a.c", .line = 5, .func_line = 5 },
		{ .vaddr = 0x14, .func = "main", .file = "/usr/include/stdlib.h", .line = 364, .func_line = 5 },
		{ .vaddr = 0x18, .func = "main", .file = "/a.c", .line = 6, .func_line = 5 },
		/* No entry site (refused): the file of its first line, then any. */
		{ .vaddr = 0x30, .func = "g", .file = "/b.h", .line = 2, .func_line = 9 },
	};
	struct site_table *t = test_table(&m, 1, s, 4);
	const uint64_t totals[4] = { 1, 1, 1, 3 };
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, t, totals, &func_info, 0, NULL);
	assert_string_equal(got,
		"TN:\n"
		"SF:/a.c\nFN:5,main\nFNDA:1,main\nFNF:1\nFNH:1\n"
		"DA:5,1\nDA:6,1\nLF:2\nLH:2\nend_of_record\n"
		"SF:/b.h\nFN:9,g\nFNDA:3,g\nFNF:1\nFNH:1\n"
		"DA:2,3\nLF:1\nLH:1\nend_of_record\n"
		"SF:/usr/include/stdlib.h\nFNF:0\nFNH:0\n"
		"DA:364,1\nLF:1\nLH:1\nend_of_record\n");
	free(got);

	set_epoch();
	got = run_sink(&sink_cobertura, t, totals, &func_info, 0, NULL);
	assert_non_null(strstr(got,
		"<method name=\"main\" signature=\"\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"5\" hits=\"1\"/>\n"
		"\t\t\t\t\t\t\t\t<line number=\"6\" hits=\"1\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"));
	assert_int_equal(count_of(got, "<method name=\"main\""), 1);
	free(got);
	site_table_free(t);
}

/*
 * A table that flags several sites at one function start as entries (site
 * files of earlier versions, line sites at -O2): they are one call each
 * time, not several.
 */
static void test_lines_entries_at_one_address(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 3 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "f", .file = "/a.c", .line = 5, .func_line = 5 },
		{ .flags = E, .vaddr = 0x10, .func = "f", .file = "/a.c", .line = 6, .func_line = 5 },
		{ .vaddr = 0x18, .func = "f", .file = "/a.c", .line = 7, .func_line = 5 },
	};
	struct site_table *t = test_table(&m, 1, s, 3);
	const uint64_t totals[3] = { 10, 10, 30 };
	struct line_report *r;

	(void)state;
	r = line_report_new(t, totals, true);
	assert_non_null(r);
	assert_int_equal(r->files[0].nfuncs, 1);
	assert_int_equal(r->files[0].funcs[0].count, 10);
	line_report_free(r);
	site_table_free(t);
}

/*
 * A line's count is how often control entered it (sites that enter it,
 * SITE_ENTERS_LINE, added up), or its largest site count when that is
 * more.  A for at -O0 (line 2): its init and increment enter it, its
 * condition continues it, so it ran 1 + 5 times as gcov counts, not 6 + 5
 * + 1 and not 5.  An unrolled loop's header (line 3): each copy enters it.
 * Line 4 is entered where no statement row begins: its largest count.
 */
static void test_lines_entries(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 9 };
	struct site s[] = {
		{ .flags = E | SITE_ENTERS_LINE, .vaddr = 0x10, .func = "f", .file = "/a.c", .line = 1, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x14, .func = "f", .file = "/a.c", .line = 2, .func_line = 1 },
		{ .vaddr = 0x18, .func = "f", .file = "/a.c", .line = 2, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x1c, .func = "f", .file = "/a.c", .line = 2, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x20, .func = "f", .file = "/a.c", .line = 3, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x24, .func = "f", .file = "/a.c", .line = 3, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x28, .func = "f", .file = "/a.c", .line = 3, .func_line = 1 },
		{ .flags = SITE_ENTERS_LINE, .vaddr = 0x30, .func = "f", .file = "/a.c", .line = 4, .func_line = 1 },
		{ .vaddr = 0x34, .func = "f", .file = "/a.c", .line = 4, .func_line = 1 },
	};
	struct site_table *t = test_table(&m, 1, s, 9);
	const uint64_t totals[9] = { 1, 1, 6, 5, 7, 6, 5, 2, 9 };
	struct line_report *r;
	const struct line_file *f;

	(void)state;
	r = line_report_new(t, totals, true);
	assert_non_null(r);
	f = &r->files[0];
	assert_int_equal(f->nlines, 4);
	assert_int_equal(f->lines[0].count, 1);
	assert_int_equal(f->lines[1].count, 1 + 5);
	assert_int_equal(f->lines[2].count, 7 + 6 + 5);
	assert_int_equal(f->lines[3].count, 9);
	assert_int_equal(f->funcs[0].count, 1);
	assert_int_equal(f->funcs[0].lines[1].count, 6);
	line_report_free(r);

	/*
	 * Counts that are not executions (once mode: 1 per site that ran;
	 * ukcov report: drains with hits) do not add up: a line gets the
	 * largest.  lcov and cobertura tell from the run's mode.
	 */
	r = line_report_new(t, totals, false);
	assert_non_null(r);
	f = &r->files[0];
	assert_int_equal(f->lines[1].count, 6);
	assert_int_equal(f->lines[2].count, 7);
	line_report_free(r);
	assert_true(line_totals_are_runs("count"));
	assert_false(line_totals_are_runs("once"));
	assert_false(line_totals_are_runs("drains (counts are drains-with-hits, not hits)"));
	site_table_free(t);
}

/* Files sorted by path whatever the table's (module, vaddr) order. */
static void test_lines_file_order(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 4 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "c", .file = "/z.c", .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x20, .func = "a", .file = "/a/b.c", .line = 9, .func_line = 9 },
		{ .flags = E, .vaddr = 0x30, .func = "b", .file = "/a.c", .line = 2, .func_line = 2 },
		{ .flags = E, .vaddr = 0x40, .func = "d", .file = "/a/b.c", .line = 3, .func_line = 3 },
	};
	struct site_table *t = test_table(&m, 1, s, 4);
	const uint64_t totals[4] = { 1, 2, 3, 4 };
	struct line_report *r;

	(void)state;
	r = line_report_new(t, totals, true);
	assert_non_null(r);
	assert_int_equal(r->nfiles, 3);
	assert_string_equal(r->files[0].path, "/a.c");
	assert_string_equal(r->files[1].path, "/a/b.c");
	assert_string_equal(r->files[2].path, "/z.c");
	assert_string_equal(r->files[1].funcs[0].name, "d");
	assert_string_equal(r->files[1].funcs[1].name, "a");
	line_report_free(r);
	site_table_free(t);
}

/* ---- lcov ------------------------------------------------------------------ */

static void test_lcov_func_sites_exact(void **state)
{
	const char *expect =
		"TN:\n"
		"SF:/src/app/main.c\n"
		"FN:3,main\n"
		"FN:20,alpha\n"
		"FNDA:1,main\n"
		"FNDA:2,alpha\n"
		"FNF:2\n"
		"FNH:2\n"
		"DA:3,1\n"
		"DA:20,2\n"
		"LF:2\n"
		"LH:2\n"
		"end_of_record\n"
		"SF:/src/app/util.c\n"
		"FN:4,unused\n"
		"FN:10,helper\n"
		"FNDA:0,unused\n"
		"FNDA:5,helper\n"
		"FNF:2\n"
		"FNH:1\n"
		"DA:4,0\n"
		"DA:10,5\n"
		"LF:2\n"
		"LH:1\n"
		"end_of_record\n";
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, a_table, a_totals, &func_info, 0, NULL);
	assert_string_equal(got, expect);
	free(got);
}

static void test_lcov_line_sites_exact(void **state)
{
	const char *expect =
		"TN:\n"
		"SF:/s/a.c\n"
		"FN:5,f\n"
		"FN:12,g\n"
		"FN:15,h\n"
		"FNDA:5,f\n"
		"FNDA:4,g\n"
		"FNDA:0,h\n"
		"FNF:3\n"
		"FNH:2\n"
		"DA:5,5\n"
		"DA:6,11\n"
		"DA:7,0\n"
		"DA:15,0\n"
		"LF:4\n"
		"LH:2\n"
		"end_of_record\n";
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, b_table, b_totals, &line_info, 0, NULL);
	assert_string_equal(got, expect);
	free(got);
}

/* Basic blocks: a line gets its hottest block; the function its entry block. */
static void test_lcov_bb_sites(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 4 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .size = 6, .func = "loop", .file = "/l.c", .line = 3, .func_line = 3 },
		{ .vaddr = 0x16, .size = 9, .func = "loop", .file = "/l.c", .line = 4, .func_line = 3 },
		{ .vaddr = 0x1f, .size = 4, .func = "loop", .file = "/l.c", .line = 4, .func_line = 3 },
		{ .vaddr = 0x23, .size = 2, .func = "loop", .file = "/l.c", .line = 6, .func_line = 3 },
	};
	struct site_table *t = test_table(&m, 1, s, 4);
	const uint64_t totals[4] = { 1, 100, 99, 1 };
	const struct run_info info = { .site_kind = "bb", .exit_status = -1 };
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, t, totals, &info, 0, NULL);
	assert_string_equal(got,
		"TN:\nSF:/l.c\nFN:3,loop\nFNDA:1,loop\nFNF:1\nFNH:1\n"
		"DA:3,1\nDA:4,100\nDA:6,1\nLF:3\nLH:3\nend_of_record\n");
	free(got);
	site_table_free(t);
}

static void test_lcov_no_hits(void **state)
{
	const uint64_t totals[5] = { 0 };
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, a_table, totals, &func_info, 0, NULL);
	assert_non_null(strstr(got, "FNDA:0,main\nFNDA:0,alpha\nFNF:2\nFNH:0\n"
				    "DA:3,0\nDA:20,0\nLF:2\nLH:0\n"));
	assert_null(strstr(got, "LH:1"));
	assert_null(strstr(got, "FNH:1"));
	free(got);
}

/* No site has a file: a tracefile with a test name and no record. */
static void test_lcov_no_files(void **state)
{
	struct site_table *t = test_table(&a_modules[1], 1, a_sites + 4, 1);
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, t, a_totals + 4, &func_info, 0, NULL);
	assert_string_equal(got, "TN:\n");
	free(got);
	site_table_free(t);

	t = test_table(NULL, 0, NULL, 0);
	got = run_sink(&sink_lcov, t, a_totals, &func_info, 0, NULL);
	assert_string_equal(got, "TN:\n");
	free(got);
	site_table_free(t);
}

/* lcov reads FN:(\d+),([^,]+): commas and line breaks must not reach it. */
static void test_lcov_names_sanitized(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 2 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "operator,(a, b)", .file = "/odd\ndir/x.c",
		  .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x20, .func = "", .file = "/odd\ndir/x.c",
		  .line = 2, .func_line = 2 },
	};
	struct site_table *t = test_table(&m, 1, s, 2);
	const uint64_t totals[2] = { 7, 0 };
	char *got;

	(void)state;
	got = run_sink(&sink_lcov, t, totals, &func_info, 0, NULL);
	assert_string_equal(got,
		"TN:\nSF:/odd?dir/x.c\nFN:1,operator;(a; b)\nFN:2,?\n"
		"FNDA:7,operator;(a; b)\nFNDA:0,?\nFNF:2\nFNH:1\n"
		"DA:1,7\nDA:2,0\nLF:2\nLH:1\nend_of_record\n");
	free(got);
	site_table_free(t);
}

static void test_lcov_write_error(void **state)
{
	struct sink s = { .ops = &sink_lcov };

	(void)state;
	s.out = fopen("/dev/full", "w");
	assert_non_null(s.out);
	assert_int_equal(sink_finish(&s, a_table, a_totals, &func_info), -ENOSPC);
	fclose(s.out);
}

/* ---- cobertura ------------------------------------------------------------- */

static void test_cobertura_exact(void **state)
{
	const char *expect =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n"
		"<coverage line-rate=\"0.7500\" branch-rate=\"0\" lines-covered=\"3\" lines-valid=\"4\""
		" branches-covered=\"0\" branches-valid=\"0\" complexity=\"0\""
		" version=\"ukcov " UKCOV_VERSION "\" timestamp=\"1700000000000\">\n"
		"\t<sources>\n"
		"\t\t<source>/</source>\n"
		"\t</sources>\n"
		"\t<packages>\n"
		"\t\t<package name=\"/src/app\" line-rate=\"0.7500\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t<classes>\n"
		"\t\t\t\t<class name=\"main.c\" filename=\"src/app/main.c\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t<methods>\n"
		"\t\t\t\t\t\t<method name=\"main\" signature=\"\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"3\" hits=\"1\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"
		"\t\t\t\t\t\t</method>\n"
		"\t\t\t\t\t\t<method name=\"alpha\" signature=\"\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"20\" hits=\"2\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"
		"\t\t\t\t\t\t</method>\n"
		"\t\t\t\t\t</methods>\n"
		"\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t<line number=\"3\" hits=\"1\"/>\n"
		"\t\t\t\t\t\t<line number=\"20\" hits=\"2\"/>\n"
		"\t\t\t\t\t</lines>\n"
		"\t\t\t\t</class>\n"
		"\t\t\t\t<class name=\"util.c\" filename=\"src/app/util.c\" line-rate=\"0.5000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t<methods>\n"
		"\t\t\t\t\t\t<method name=\"unused\" signature=\"\" line-rate=\"0.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"4\" hits=\"0\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"
		"\t\t\t\t\t\t</method>\n"
		"\t\t\t\t\t\t<method name=\"helper\" signature=\"\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"10\" hits=\"5\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"
		"\t\t\t\t\t\t</method>\n"
		"\t\t\t\t\t</methods>\n"
		"\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t<line number=\"4\" hits=\"0\"/>\n"
		"\t\t\t\t\t\t<line number=\"10\" hits=\"5\"/>\n"
		"\t\t\t\t\t</lines>\n"
		"\t\t\t\t</class>\n"
		"\t\t\t</classes>\n"
		"\t\t</package>\n"
		"\t</packages>\n"
		"</coverage>\n";
	char *got;

	(void)state;
	set_epoch();
	got = run_sink(&sink_cobertura, a_table, a_totals, &func_info, 0, NULL);
	assert_string_equal(got, expect);
	/* coverage, sources, source, packages, package, classes, 2 x (class,
	 * methods, 2 x (method, lines, line), lines, 2 x line). */
	assert_int_equal(xml_check(got), 6 + 2 * (1 + 1 + 2 * 3 + 1 + 2));
	free(got);
}

/* Line sites: a method's lines are its own, with the file's counts. */
static void test_cobertura_line_sites(void **state)
{
	char *got;

	(void)state;
	set_epoch();
	got = run_sink(&sink_cobertura, b_table, b_totals, &line_info, 0, NULL);
	assert_true(xml_check(got) > 0);
	assert_non_null(strstr(got, "lines-covered=\"2\" lines-valid=\"4\""));
	assert_non_null(strstr(got,
		"<method name=\"f\" signature=\"\" line-rate=\"0.6667\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t\t<line number=\"5\" hits=\"5\"/>\n"
		"\t\t\t\t\t\t\t\t<line number=\"6\" hits=\"11\"/>\n"
		"\t\t\t\t\t\t\t\t<line number=\"7\" hits=\"0\"/>\n"
		"\t\t\t\t\t\t\t</lines>\n"));
	/* g ran but has no line of its own. */
	assert_non_null(strstr(got,
		"<method name=\"g\" signature=\"\" line-rate=\"1.0000\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t\t\t\t\t<lines>\n"
		"\t\t\t\t\t\t\t</lines>\n"));
	assert_null(strstr(got, "b.c"));
	free(got);
}

/* A package per directory, even where path order interleaves them. */
static void test_cobertura_packages(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 5 };
	struct site s[] = {
		{ .flags = E, .vaddr = 0x10, .func = "a", .file = "/a/b.c", .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x20, .func = "b", .file = "/a/b/c.c", .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x30, .func = "c", .file = "/a/c.c", .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x40, .func = "d", .file = "rel.c", .line = 1, .func_line = 1 },
		{ .flags = E, .vaddr = 0x50, .func = "e", .file = "/top.c", .line = 1, .func_line = 1 },
	};
	struct site_table *t = test_table(&m, 1, s, 5);
	const uint64_t totals[5] = { 1, 0, 1, 1, 0 };
	size_t p_rel, p_root, p_a, p_ab;
	char *got;

	(void)state;
	set_epoch();
	got = run_sink(&sink_cobertura, t, totals, &func_info, 0, NULL);
	assert_true(xml_check(got) > 0);
	p_rel = pos_of(got, "<package name=\".\"");
	p_root = pos_of(got, "<package name=\"/\"");
	p_a = pos_of(got, "<package name=\"/a\"");
	p_ab = pos_of(got, "<package name=\"/a/b\"");
	assert_true(p_rel < p_root && p_root < p_a && p_a < p_ab);
	/* Exactly four packages; /a holds b.c and c.c. */
	assert_null(strstr(got + p_ab + 1, "<package "));
	assert_true(pos_of(got, "filename=\"a/b.c\"") > p_a);
	assert_true(pos_of(got, "filename=\"a/c.c\"") < p_ab);
	assert_true(pos_of(got, "filename=\"a/b/c.c\"") > p_ab);
	assert_true(pos_of(got, "<class name=\"rel.c\" filename=\"rel.c\"") < p_root);
	assert_true(pos_of(got, "<class name=\"top.c\" filename=\"top.c\"") < p_a);
	assert_non_null(strstr(got, "<package name=\"/a\" line-rate=\"1.0000\""));
	assert_non_null(strstr(got, "<package name=\"/a/b\" line-rate=\"0.0000\""));
	free(got);
	site_table_free(t);
}

static void test_cobertura_escaping(void **state)
{
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = 1 };
	struct site s[] = {
		/* & < > " ' tab, a control byte, a malformed byte, then é. */
		{ .flags = E, .vaddr = 0x10, .func = "q\"u'o\tt\x01" "e\xff\xc3\xa9<T>&",
		  .file = "/src/a&b/x<y>'.c", .line = 1, .func_line = 1 },
	};
	struct site_table *t = test_table(&m, 1, s, 1);
	const uint64_t totals[1] = { 1 };
	char *got;

	(void)state;
	set_epoch();
	got = run_sink(&sink_cobertura, t, totals, &func_info, 0, NULL);
	assert_int_equal(xml_check(got), 6 + 1 + 1 + 3 + 1 + 1);
	assert_non_null(strstr(got, "<package name=\"/src/a&amp;b\""));
	assert_non_null(strstr(got,
		"<class name=\"x&lt;y&gt;&apos;.c\" filename=\"src/a&amp;b/x&lt;y&gt;&apos;.c\""));
	assert_non_null(strstr(got,
		"<method name=\"q&quot;u&apos;o&#9;t?e?\xc3\xa9&lt;T&gt;&amp;\" signature=\"\""));
	free(got);
	site_table_free(t);
}

/* CLOCK_REALTIME in milliseconds: time() runs on a coarser clock. */
static unsigned long long now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* The timestamp attribute's value in @xml. */
static unsigned long long xml_timestamp(const char *xml)
{
	const char *p = strstr(xml, " timestamp=\"");

	assert_non_null(p);
	return strtoull(p + strlen(" timestamp=\""), NULL, 10);
}

/*
 * Milliseconds since the epoch, as Cobertura (Date.getTime()) and
 * coverage.py write it: the time of writing without SOURCE_DATE_EPOCH, or
 * when its value would not fit once scaled.
 */
static void test_cobertura_timestamp_ms(void **state)
{
	static const char *const env[] = { NULL, "18446744073709552", "12x" };
	unsigned long long before, after, got;
	char *xml;

	(void)state;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		if (env[i])
			assert_int_equal(setenv("SOURCE_DATE_EPOCH", env[i], 1), 0);
		else
			assert_int_equal(unsetenv("SOURCE_DATE_EPOCH"), 0);
		before = now_ms();
		xml = run_sink(&sink_cobertura, a_table, a_totals, &func_info, 0, NULL);
		after = now_ms();
		got = xml_timestamp(xml);
		if (got < before || got > after)
			fail_msg("SOURCE_DATE_EPOCH=%s: timestamp %llu not in [%llu, %llu]",
				 env[i] ? env[i] : "(unset)", got, before, after);
		free(xml);
	}
	set_epoch();
	xml = run_sink(&sink_cobertura, a_table, a_totals, &func_info, 0, NULL);
	assert_int_equal(xml_timestamp(xml), 1700000000000ULL);
	free(xml);
}

static void test_cobertura_no_hits_and_empty(void **state)
{
	const uint64_t zero[5] = { 0 };
	struct site_table *t;
	char *got;

	(void)state;
	set_epoch();
	got = run_sink(&sink_cobertura, a_table, zero, &func_info, 0, NULL);
	assert_true(xml_check(got) > 0);
	assert_non_null(strstr(got, "<coverage line-rate=\"0.0000\" branch-rate=\"0\""
				    " lines-covered=\"0\" lines-valid=\"4\""));
	assert_null(strstr(got, "hits=\"1"));
	free(got);

	/* Nothing with a source file: still a document, with no package. */
	t = test_table(&a_modules[1], 1, a_sites + 4, 1);
	got = run_sink(&sink_cobertura, t, a_totals + 4, &func_info, 0, NULL);
	assert_int_equal(xml_check(got), 4);
	assert_non_null(strstr(got, "lines-covered=\"0\" lines-valid=\"0\""));
	assert_non_null(strstr(got, "\t<packages>\n\t</packages>\n</coverage>\n"));
	free(got);
	site_table_free(t);
}

static void test_cobertura_write_error(void **state)
{
	struct sink s = { .ops = &sink_cobertura };

	(void)state;
	s.out = fopen("/dev/full", "w");
	assert_non_null(s.out);
	assert_int_equal(sink_finish(&s, a_table, a_totals, &func_info), -ENOSPC);
	fclose(s.out);
}

/* ---- drcov ----------------------------------------------------------------- */

/* The bb_entry_t layout, by shifts: independent of the writer's endian.h. */
static unsigned char *put_bb(unsigned char *p, uint32_t start, uint16_t size, uint16_t mod)
{
	int i;

	for (i = 0; i < 4; i++)
		*p++ = (unsigned char)(start >> (8 * i));
	*p++ = (unsigned char)size;
	*p++ = (unsigned char)(size >> 8);
	*p++ = (unsigned char)mod;
	*p++ = (unsigned char)(mod >> 8);
	return p;
}

static void test_drcov_exact(void **state)
{
	const char *header =
		"DRCOV VERSION: 2\n"
		"DRCOV FLAVOR: drcov\n"
		"Module Table: version 2, count 2\n"
		"Columns: id, base, end, entry, checksum, timestamp, path\n"
		" 0, 0x0000000000000000, 0x0000000000002000, 0x0000000000000000, 0x00000000, 0x00000000, /bin/app\n"
		" 1, 0x0000000000400000, 0x0000000000414000, 0x0000000000000000, 0x00000000, 0x00000000, /opt/static-app\n"
		"BB Table: 4 bbs\n";
	unsigned char bbs[4 * 8], *p = bbs;
	size_t hlen = strlen(header), len;
	char *got;

	(void)state;
	/* Sites 0, 1, 3 and 4 ran, 2 did not; 4's 70000 bytes clamp to 65535;
	 * its RVA is 0x402000 - 0x400000. */
	p = put_bb(p, 0x1139, 16, 0);
	p = put_bb(p, 0x1150, 32, 0);
	p = put_bb(p, 0x1180, 8, 0);
	p = put_bb(p, 0x2000, 0xffff, 1);
	assert_int_equal(p - bbs, sizeof(bbs));
	got = run_sink(&sink_drcov, a_table, a_totals, &func_info, 0, &len);
	assert_int_equal(len, hlen + sizeof(bbs));
	assert_memory_equal(got, header, hlen);
	assert_memory_equal(got + hlen, bbs, sizeof(bbs));
	free(got);
}

static void test_drcov_no_hits(void **state)
{
	const uint64_t zero[5] = { 0 };
	const char *tail = "BB Table: 0 bbs\n";
	size_t len;
	char *got;

	(void)state;
	got = run_sink(&sink_drcov, a_table, zero, &func_info, 0, &len);
	/* Every module is listed; the table ends the file. */
	assert_non_null(strstr(got, "Module Table: version 2, count 2\n"));
	assert_true(len > strlen(tail));
	assert_string_equal(got + len - strlen(tail), tail);
	free(got);
}

/* More than one chunk of entries, each in site order. */
static void test_drcov_many_blocks(void **state)
{
	enum { N = 1500 };
	struct site_module m = { .path = "/m", .open_path = "/m", .nsites = N };
	struct site *s = calloc(N, sizeof(*s));
	uint64_t *totals = calloc(N, sizeof(*totals));
	struct site_table *t;
	const char *bbt = "BB Table: 1000 bbs\n";
	size_t len, i, k = 0;
	const unsigned char *e;
	char *got;

	(void)state;
	assert_non_null(s);
	assert_non_null(totals);
	for (i = 0; i < N; i++) {
		s[i] = (struct site){ .vaddr = 0x1000 + 4 * i, .size = 4, .func = "f" };
		totals[i] = i % 3 != 0;		/* 1000 of 1500 ran */
	}
	t = test_table(&m, 1, s, N);
	got = run_sink(&sink_drcov, t, totals, &func_info, 0, &len);
	e = (const unsigned char *)strstr(got, bbt);
	assert_non_null(e);
	e += strlen(bbt);
	assert_int_equal(len - (size_t)(e - (const unsigned char *)got), 1000 * 8);
	for (i = 0; i < N; i++) {
		unsigned char want[8];

		if (!totals[i])
			continue;
		put_bb(want, 0x1000 + 4 * i, 4, 0);
		assert_memory_equal(e + 8 * k++, want, 8);
	}
	free(got);
	free(s);
	free(totals);
	site_table_free(t);
}

static void test_drcov_refusals(void **state)
{
	struct site sites[5];
	struct site_table *t;
	size_t len;
	char *got;

	(void)state;
	/* Line sites have no length. */
	got = run_sink(&sink_drcov, a_table, a_totals, &line_info, -EINVAL, &len);
	assert_int_equal(len, 0);
	free(got);

	/* An RVA past u32 cannot be written: refused before any byte. */
	memcpy(sites, a_sites, sizeof(sites));
	sites[4].vaddr = 0x400000 + 0x100000000ull;
	t = test_table(a_modules, 2, sites, 5);
	got = run_sink(&sink_drcov, t, a_totals, &func_info, -ERANGE, &len);
	assert_int_equal(len, 0);
	free(got);

	/* ... but a site that did not run does not matter. */
	{
		const uint64_t totals[5] = { 1, 0, 0, 0, 0 };

		got = run_sink(&sink_drcov, t, totals, &func_info, 0, &len);
		assert_non_null(strstr(got, "BB Table: 1 bbs\n"));
		free(got);
	}
	site_table_free(t);
}

static void test_drcov_write_error(void **state)
{
	struct sink s = { .ops = &sink_drcov };

	(void)state;
	s.out = fopen("/dev/full", "w");
	assert_non_null(s.out);
	assert_int_equal(sink_finish(&s, a_table, a_totals, &func_info), -ENOSPC);
	fclose(s.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_check_rejects),
		cmocka_unit_test(test_formats_registered),
		cmocka_unit_test(test_options_refuse_drcov_line),
		cmocka_unit_test(test_lines_rules),
		cmocka_unit_test(test_lines_shared_line),
		cmocka_unit_test(test_lines_header_copies),
		cmocka_unit_test(test_lines_function_file),
		cmocka_unit_test(test_lines_entries_at_one_address),
		cmocka_unit_test(test_lines_entries),
		cmocka_unit_test(test_lines_file_order),
		cmocka_unit_test(test_lcov_func_sites_exact),
		cmocka_unit_test(test_lcov_line_sites_exact),
		cmocka_unit_test(test_lcov_bb_sites),
		cmocka_unit_test(test_lcov_no_hits),
		cmocka_unit_test(test_lcov_no_files),
		cmocka_unit_test(test_lcov_names_sanitized),
		cmocka_unit_test(test_lcov_write_error),
		cmocka_unit_test(test_cobertura_exact),
		cmocka_unit_test(test_cobertura_line_sites),
		cmocka_unit_test(test_cobertura_packages),
		cmocka_unit_test(test_cobertura_escaping),
		cmocka_unit_test(test_cobertura_timestamp_ms),
		cmocka_unit_test(test_cobertura_no_hits_and_empty),
		cmocka_unit_test(test_cobertura_write_error),
		cmocka_unit_test(test_drcov_exact),
		cmocka_unit_test(test_drcov_no_hits),
		cmocka_unit_test(test_drcov_many_blocks),
		cmocka_unit_test(test_drcov_refusals),
		cmocka_unit_test(test_drcov_write_error),
	};

	return cmocka_run_group_tests(tests, build_tables, free_tables);
}
