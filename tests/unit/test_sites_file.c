// SPDX-License-Identifier: MIT
/*
 * Unit tests of the site-table file (user/sites_file.c): round trips of
 * tables read from the fixture ELFs and of a hand-built table full of
 * awkward names, the table-id against an independent FNV-1a written here
 * from the spec in sites_file.h, and one test per kind of damage the
 * reader must refuse, each with the line it must blame.
 */
#include <errno.h>
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
#include "sites_dwarf.h"
#include "sites_file.h"

/* ---- helpers ---------------------------------------------------------- */

static struct site_table *load(const char *path)
{
	struct site_table *t = site_table_new();
	const char *why = NULL;
	int err;

	assert_non_null(t);
	err = site_table_add_elf(t, path, NULL, NULL, &why);
	if (err)
		fail_msg("%s: %d (%s)", path, err, why ? why : "");
	site_table_finish(t);
	return t;
}

/* The file text of @t, NUL-terminated; *@len without the NUL. */
static char *write_text(const struct site_table *t, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(sites_file_write(t, f), 0);
	assert_int_equal(fclose(f), 0);
	*len = n;
	return buf;
}

static struct site_table *read_text(const char *text, size_t len)
{
	struct sites_file_error e = {};
	struct site_table *t = NULL;
	int err = sites_file_read_buffer(text, len, &t, &e);

	if (err)
		fail_msg("read: %d at line %zu: %s", err, e.line, e.why ? e.why : "");
	assert_non_null(t);
	return t;
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every field that the file carries is equal (open_path is not carried). */
static void assert_tables_equal(const struct site_table *a, const struct site_table *b)
{
	size_t i;

	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->pc_base, b->pc_base);
	assert_int_equal(a->nmodules, b->nmodules);
	assert_int_equal(a->nsites, b->nsites);
	for (i = 0; i < a->nmodules; i++) {
		const struct site_module *x = &a->modules[i], *y = &b->modules[i];

		assert_string_equal(x->path, y->path);
		assert_string_equal(y->open_path, y->path);
		assert_int_equal(x->build_id_len, y->build_id_len);
		assert_memory_equal(x->build_id, y->build_id, x->build_id_len);
		assert_int_equal(x->pie, y->pie);
		assert_int_equal(x->has_dwarf, y->has_dwarf);
		assert_int_equal(x->first_site, y->first_site);
		assert_int_equal(x->nsites, y->nsites);
		assert_int_equal(x->nifunc, y->nifunc);
		assert_int_equal(x->nrefused, y->nrefused);
		assert_int_equal(x->nplace_nop5, y->nplace_nop5);
		assert_int_equal(x->nplace_emulated, y->nplace_emulated);
		assert_int_equal(x->nplace_single_step, y->nplace_single_step);
		assert_int_equal(x->image_base, y->image_base);
	}
	for (i = 0; i < a->nsites; i++) {
		struct site xs = test_site(a, i), ys = test_site(b, i);
		const struct site *x = &xs, *y = &ys;

		assert_int_equal(x->module, y->module);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->vaddr, y->vaddr);
		assert_int_equal(x->offset, y->offset);
		assert_int_equal(x->probe_offset, y->probe_offset);
		assert_int_equal(x->size, y->size);
		assert_string_equal(x->func, y->func);
		assert_str_or_null_equal(x->file, y->file);
		assert_int_equal(x->line, y->line);
		assert_int_equal(x->func_line, y->func_line);
		assert_int_equal(x->nrows, y->nrows);
		assert_true(!x->rows == !y->rows);
		for (uint32_t r = 0; r < x->nrows; r++) {
			assert_string_equal(x->rows[r].file, y->rows[r].file);
			assert_int_equal(x->rows[r].line, y->rows[r].line);
			assert_int_equal(x->rows[r].entries, y->rows[r].entries);
		}
	}
}

/* Write, read, compare, write again: the same bytes. */
static void round_trip(const struct site_table *t)
{
	size_t len, len2;
	char *text = write_text(t, &len);
	struct site_table *back = read_text(text, len);
	char *text2 = write_text(back, &len2);

	assert_tables_equal(t, back);
	assert_int_equal(site_table_id(t), site_table_id(back));
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	site_table_free(back);
	free(text2);
	free(text);
}

/* The FNV-1a of sites_file.h, written out again from its description. */
struct fnv {
	uint64_t h;
};

static void fnv_byte(struct fnv *f, uint8_t b)
{
	f->h ^= b;
	f->h *= 0x100000001b3ULL;
}

static void fnv_le64(struct fnv *f, uint64_t v)
{
	for (int i = 0; i < 64; i += 8)
		fnv_byte(f, (uint8_t)(v >> i));
}

static void fnv_cstr(struct fnv *f, const char *s)
{
	do
		fnv_byte(f, (uint8_t)*s);
	while (*s++);
}

static uint64_t expected_id(const struct site_table *t)
{
	struct fnv f = { 0xcbf29ce484222325ULL };

	fnv_cstr(&f, "ukcov-sites-id");
	fnv_cstr(&f, t->kind == SITE_KIND_FUNC ? "func" : t->kind == SITE_KIND_LINE ? "line" : "bb");
	fnv_le64(&f, t->pc_base);
	fnv_le64(&f, t->nmodules);
	for (size_t i = 0; i < t->nmodules; i++) {
		fnv_le64(&f, t->modules[i].build_id_len);
		for (size_t j = 0; j < t->modules[i].build_id_len; j++)
			fnv_byte(&f, t->modules[i].build_id[j]);
		fnv_cstr(&f, t->modules[i].path);
		fnv_le64(&f, t->modules[i].nsites);
	}
	fnv_le64(&f, t->nsites);
	for (size_t i = 0; i < t->nsites; i++)
		fnv_le64(&f, test_site(t, i).offset);
	return (f.h & ((1ULL << 62) - 1)) | (1ULL << 62);
}

static const char *intern(struct site_table *t, const char *s)
{
	const char *p = site_strings_intern(t->strings, s);

	assert_non_null(p);
	return p;
}

/*
 * Two modules whose names exercise every escape: space, tab, newline,
 * backslash, quote, DEL, UTF-8, the string "-", the empty string.
 */
static struct site_table *awkward_table(void)
{
	struct site_table *t = site_table_new();
	struct site_module m = {};
	struct site s[3] = {};

	assert_non_null(t);
	t->kind = SITE_KIND_BB;
	m.path = m.open_path = (char *)intern(t, "/opt/my dir/a\tb\\c\"d\x7f" "\xc3\xa9");
	m.build_id_len = 3;
	memcpy(m.build_id, "\x01\xab\xff", 3);
	m.pie = true;
	m.nifunc = 2;
	m.nrefused = 1;
	m.nplace_nop5 = 1;
	m.nplace_emulated = 1;
	m.image_base = 0x400000;
	s[0] = (struct site){ .vaddr = 0x401000, .offset = 0x1000, .probe_offset = 0x1004,
			      .size = 7, .flags = SITE_ALIAS | SITE_FUNC_ENTRY,
			      .func = intern(t, "-"), .file = intern(t, "x\ny.c"),
			      .line = 4294967295u, .func_line = 1 };
	s[1] = (struct site){ .vaddr = 0x401000, .offset = 0x1000, .probe_offset = 0x1000,
			      .size = 0, .func = intern(t, ""), .file = NULL };
	s[2] = (struct site){ .vaddr = UINT64_MAX, .offset = UINT64_MAX,
			      .probe_offset = 0, .size = UINT64_MAX, .flags = 0x80000000u,
			      .func = intern(t, "operator new(unsigned long)"),
			      .file = intern(t, "-") };
	assert_int_equal(site_table_append(t, &m, s, 3), 0);
	memset(&m, 0, sizeof(m));
	m.path = m.open_path = (char *)intern(t, "/usr/lib/z");
	m.has_dwarf = true;
	s[0] = (struct site){ .vaddr = 0, .offset = 0, .func = intern(t, "z"),
			      .file = intern(t, "/src/z.c"), .line = 1 };
	assert_int_equal(site_table_append(t, &m, s, 1), 0);
	return t;
}

/* ---- round trips ------------------------------------------------------- */

static void test_round_trip_pie(void **state)
{
	struct site_table *t = load(FIX("sites-pie"));

	(void)state;
	assert_true(t->nsites > 5);
	assert_true(t->modules[0].build_id_len > 0);
	assert_true(t->modules[0].has_dwarf);
	round_trip(t);
	site_table_free(t);
}

static void test_round_trip_nopie_no_build_id(void **state)
{
	struct site_table *t = load(FIX("sites-nopie"));

	(void)state;
	assert_int_equal(t->modules[0].build_id_len, 0);
	round_trip(t);
	site_table_free(t);
}

static void test_round_trip_awkward_names(void **state)
{
	struct site_table *t = awkward_table();
	size_t len;
	char *text = write_text(t, &len);

	(void)state;
	/* One line per header, module and site: no raw newline got through. */
	size_t lines = 0;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 6 + 2 + 4);
	assert_non_null(strstr(text, " /opt/my\\x20dir/a\\x09b\\\\c\\x22d\\x7f\xc3\xa9\n"));
	assert_non_null(strstr(text, " \\x2d x\\x0ay.c\n"));
	assert_non_null(strstr(text, " \"\" -\n"));
	assert_non_null(strstr(text, " operator\\x20new(unsigned\\x20long) \\x2d\n"));
	assert_non_null(strstr(text, "module 0 01abff 3 0 0x1 0x400000 2 1 1 1 0 "));
	free(text);
	round_trip(t);
	site_table_free(t);
}

static void test_read_from_file(void **state)
{
	struct site_table *t = load(FIX("sites-pie")), *back = NULL;
	size_t len;
	char *text = write_text(t, &len);
	FILE *f = fmemopen(text, len, "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(sites_file_read(f, &back, NULL), 0);
	fclose(f);
	assert_tables_equal(t, back);
	site_table_free(back);
	site_table_free(t);
	free(text);
}

/* ---- the table id ------------------------------------------------------------ */

static void test_table_id_matches_spec(void **state)
{
	struct site_table *t = load(FIX("sites-pie")), *a = awkward_table();
	uint64_t id = site_table_id(t);
	char hex[32];
	size_t len;
	char *text = write_text(t, &len);

	(void)state;
	assert_int_equal(id, expected_id(t));
	assert_int_equal(site_table_id(a), expected_id(a));
	assert_true(id >= UKCOV_KCOV_TABLE_ID_MIN && id <= UKCOV_KCOV_TABLE_ID_MAX);
	assert_true(id < UKCOV_PC_BASE && UKCOV_KCOV_TABLE_MAGIC < UKCOV_KCOV_TABLE_ID_MIN);
	snprintf(hex, sizeof(hex), "\ntable-id %016llx\n", (unsigned long long)id);
	assert_non_null(strstr(text, hex));
	free(text);
	site_table_free(a);
	site_table_free(t);
}

static void test_table_id_what_counts(void **state)
{
	struct site_table *t = load(FIX("sites-pie"));
	uint64_t id = site_table_id(t);

	struct site s = test_site(t, 1);
	struct site_table *u;

	(void)state;
	/* Names and lines describe a PC; they do not change what it is. */
	s.func = "renamed";
	s.line = 999;
	u = test_table_edit(t, 1, &s);
	assert_int_equal(site_table_id(u), id);
	site_table_free(u);
	/* Offsets, paths, build-ids and the kind do. */
	s = test_site(t, 1);
	s.offset++;
	u = test_table_edit(t, 1, &s);
	assert_int_not_equal(site_table_id(u), id);
	site_table_free(u);
	t->modules[0].path = "/elsewhere";
	assert_int_not_equal(site_table_id(t), id);
	t->modules[0].path = t->modules[0].open_path;
	assert_int_equal(site_table_id(t), id);
	t->modules[0].build_id[0] ^= 1;
	assert_int_not_equal(site_table_id(t), id);
	t->modules[0].build_id[0] ^= 1;
	t->kind = SITE_KIND_BB;
	assert_int_not_equal(site_table_id(t), id);
	site_table_free(t);
}

/* ---- damage ----------------------------------------------------------------- */

/* @text with line @lineno (1-based) replaced by @repl (without newline). */
static char *replace_line(const char *text, size_t lineno, const char *repl)
{
	const char *start = text, *end;
	char *out;
	size_t i;

	for (i = 1; i < lineno; i++) {
		start = strchr(start, '\n');
		assert_non_null(start);
		start++;
	}
	end = strchr(start, '\n');
	assert_non_null(end);
	out = malloc(strlen(text) + strlen(repl) + 1);
	assert_non_null(out);
	memcpy(out, text, start - text);
	strcpy(out + (start - text), repl);
	strcat(out, end);
	return out;
}

/* A copy of line @lineno of @text. */
static char *get_line(const char *text, size_t lineno)
{
	const char *start = text, *end;

	for (size_t i = 1; i < lineno; i++)
		start = strchr(start, '\n') + 1;
	end = strchr(start, '\n');
	return strndup(start, end - start);
}

static void expect_error(const char *text, size_t len, int err, size_t line, const char *why)
{
	struct sites_file_error e = {};
	struct site_table *t = (struct site_table *)&e;	/* must stay untouched */
	int got = sites_file_read_buffer(text, len, &t, &e);

	if (got != err || e.line != line)
		fail_msg("want %d at line %zu, got %d at line %zu (%s)", err, line, got,
			 e.line, e.why ? e.why : "no reason");
	assert_ptr_equal(t, (struct site_table *)&e);
	assert_non_null(e.why);
	if (why && !strstr(e.why, why))
		fail_msg("reason '%s' does not mention '%s'", e.why, why);
}

/* The text of sites-pie; header is lines 1-6, module line 7, sites from 8. */
static char *pie_text(size_t *len, size_t *nsites)
{
	struct site_table *t = load(FIX("sites-pie"));
	char *text = write_text(t, len);

	*nsites = t->nsites;
	site_table_free(t);
	return text;
}

static void expect_line_error(const char *text, size_t lineno, const char *repl,
			      int err, const char *why)
{
	char *bad = replace_line(text, lineno, repl);

	expect_error(bad, strlen(bad), err, lineno, why);
	free(bad);
}

static void test_truncated(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);
	const char *cut = strstr(text, "\nsite 3 ");

	(void)state;
	/* At a line boundary: the site lines run out. */
	expect_error(text, cut + 1 - text, -EINVAL, 7 + 3 + 1, "ends before the last site");
	/* Inside a line. */
	expect_error(text, cut + 6 - text, -EINVAL, 7 + 3 + 1, "no newline");
	/* Inside the header and the module lines. */
	expect_error(text, strstr(text, "nsites") - text, -EINVAL, 5, "header");
	expect_error(text, strstr(text, "\nmodule") + 1 - text, -EINVAL, 7, "module");
	expect_error(text, 0, -EPROTO, 1, NULL);
	free(text);
}

static void test_bad_magic_and_version(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);

	(void)state;
	assert_int_equal(strncmp(text, "ukcov-sites 2\n", 14), 0);
	expect_line_error(text, 1, "ukcov-site 2", -EPROTO, "not a ukcov site table");
	/* Version 1 had no rows: its bb tables would lose every block's lines. */
	expect_line_error(text, 1, "ukcov-sites 1", -EPROTO, "reads 2");
	expect_line_error(text, 1, "ukcov-sites 3", -EPROTO, "version");
	expect_line_error(text, 1, "ukcov-sites 02", -EPROTO, "version");
	expect_line_error(text, 1, "ukcov-sites  2", -EPROTO, NULL);
	free(text);
}

static void test_bad_header(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);

	(void)state;
	expect_line_error(text, 2, "kind nope", -EINVAL, "kind");
	expect_line_error(text, 2, "pc-base 0xffffffff80000000", -EINVAL, "kind");
	expect_line_error(text, 3, "pc-base 0xffffffff80001000", -EINVAL, "pc-base");
	expect_line_error(text, 4, "nmodules 4097", -EINVAL, "nmodules");
	expect_line_error(text, 5, "nsites 268435457", -EINVAL, "nsites");
	expect_line_error(text, 5, "nsites -1", -EINVAL, "nsites");
	expect_line_error(text, 6, "table-id 0123456789abcdef", -EINVAL, "table-id");
	expect_line_error(text, 6, "table-id 4123", -EINVAL, "table-id");
	/* A well-formed id that is not this table's: blamed on its line. */
	expect_line_error(text, 6, "table-id 4123456789abcdef", -EINVAL, "does not match");
	free(text);
}

static void test_nsites_mismatch(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);
	char repl[64];

	(void)state;
	/* More sites declared than the module holds. */
	snprintf(repl, sizeof(repl), "nsites %zu", n + 1);
	{
		char *bad = replace_line(text, 5, repl);

		expect_error(bad, strlen(bad), -EINVAL, 7, "add up");
		free(bad);
	}
	/* Fewer: the module holds more than nsites. */
	snprintf(repl, sizeof(repl), "nsites %zu", n - 1);
	{
		char *bad = replace_line(text, 5, repl);

		expect_error(bad, strlen(bad), -EINVAL, 7, "more sites than nsites");
		free(bad);
	}
	/* A line after the last site. */
	{
		char *bad = malloc(len + 64);

		memcpy(bad, text, len);
		strcpy(bad + len, "site 99 0 0x0 0x0 0x0 0 0x0 0 0 x -\n");
		expect_error(bad, strlen(bad), -EINVAL, 7 + n + 1, "after the last site");
		free(bad);
	}
	free(text);
}

/* Line @lineno of @text with field @field (0-based) replaced by @value. */
static char *with_field(const char *text, size_t lineno, int field, const char *value)
{
	char *line = get_line(text, lineno), *out, *p = line, *end, *buf;
	int i;

	for (i = 0; i < field; i++)
		p = strchr(p, ' ') + 1;
	end = strchr(p, ' ');
	assert_true(asprintf(&buf, "%.*s%s%s", (int)(p - line), line, value,
			     end ? end : "") > 0);
	out = replace_line(text, lineno, buf);
	free(buf);
	free(line);
	return out;
}

static void expect_field_error(const char *text, size_t lineno, int field, const char *value,
			       const char *why)
{
	char *bad = with_field(text, lineno, field, value);

	expect_error(bad, strlen(bad), -EINVAL, lineno, why);
	free(bad);
}

static void test_index_gap(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);
	char *bad;

	(void)state;
	/* Site 1's line gone: site 2 comes where 1 should. */
	bad = replace_line(text, 9, "");
	{
		/* replace_line leaves an empty line; drop it to make a gap. */
		char *nl = strstr(bad, "\n\n");

		memmove(nl, nl + 1, strlen(nl + 1) + 1);
	}
	expect_error(bad, strlen(bad), -EINVAL, 9, "index out of order");
	free(bad);
	expect_field_error(text, 9, 1, "2", "index out of order");
	expect_field_error(text, 9, 1, "01", "index out of order");
	expect_field_error(text, 7, 1, "1", "module index");
	free(text);
}

static void test_module_out_of_range(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);

	(void)state;
	expect_field_error(text, 8, 2, "1", "module");
	expect_field_error(text, 8, 2, "4294967296", "module");
	/* The module's site range must start where the previous one ended. */
	expect_field_error(text, 7, 4, "1", "first-site");
	expect_field_error(text, 7, 5, "0x4", "flags");
	free(text);
}

static void test_overflowing_hex(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);

	(void)state;
	expect_field_error(text, 8, 3, "0x10000000000000000", "vaddr");
	expect_field_error(text, 8, 4, "0xfffffffffffffffff", "offset");
	expect_field_error(text, 8, 5, "0x", "probe-offset");
	expect_field_error(text, 8, 6, "18446744073709551616", "size");
	expect_field_error(text, 8, 7, "0x100000000", "flags");
	expect_field_error(text, 8, 8, "4294967296", "line");
	/* One spelling only: uppercase, leading zeros, no prefix. */
	expect_field_error(text, 8, 3, "0X10", "vaddr");
	expect_field_error(text, 8, 3, "0xABC", "vaddr");
	expect_field_error(text, 8, 3, "0x0abc", "vaddr");
	expect_field_error(text, 8, 3, "1234", "vaddr");
	expect_field_error(text, 8, 8, "+1", "line");
	free(text);
}

static void test_bad_strings(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);

	(void)state;
	expect_field_error(text, 8, 10, "a\\x41", "function");	/* 'A' needs no escape */
	expect_field_error(text, 8, 10, "a\\x00b", "function");
	expect_field_error(text, 8, 10, "a\\n", "function");
	expect_field_error(text, 8, 10, "a\\x4", "function");
	expect_field_error(text, 8, 10, "a\\", "function");
	expect_field_error(text, 8, 10, "a\"b", "function");
	expect_field_error(text, 8, 10, "-", "function");		/* never NULL */
	expect_field_error(text, 8, 10, "a\\x2d", "function");	/* only for "-" */
	expect_field_error(text, 8, 10, "a\tb", "function");
	expect_field_error(text, 8, 10, "a\rb", "function");
	expect_field_error(text, 7, 12, "-", "path");
	expect_field_error(text, 7, 2, "abc", "build-id");
	expect_field_error(text, 7, 2, "ABCD", "build-id");
	/* Field counts. */
	expect_line_error(text, 8, "site 0 0", -EINVAL, "expected 'site");
	expect_line_error(text, 8, "", -EINVAL, "expected 'site");
	free(text);
}

static void test_sites_unsorted(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);
	char *a = get_line(text, 8), *bad;

	(void)state;
	/* Site 1 gets a vaddr below site 0's (which is not 0). */
	assert_null(strstr(a, " 0x0 "));
	bad = with_field(text, 9, 3, "0x0");
	expect_error(bad, strlen(bad), -EINVAL, 9, "sorted");
	free(bad);
	free(a);
	free(text);
}

static void test_overlong_line(void **state)
{
	size_t len, n;
	char *text = pie_text(&len, &n);
	char *name = malloc(SITES_FILE_LINE_MAX + 2), *bad;

	(void)state;
	memset(name, 'a', SITES_FILE_LINE_MAX + 1);
	name[SITES_FILE_LINE_MAX + 1] = '\0';
	bad = with_field(text, 8, 10, name);
	expect_error(bad, strlen(bad), -EINVAL, 8, "too long");
	free(bad);
	free(name);
	free(text);
}

static void test_writer_refuses_overlong_name(void **state)
{
	struct site_table *t = load(FIX("sites-pie")), *u;
	char *name = malloc(SITES_FILE_LINE_MAX);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	struct site s = test_site(t, 0);

	(void)state;
	/* Each space is written as four bytes: well past the limit. */
	memset(name, ' ', SITES_FILE_LINE_MAX / 2);
	name[SITES_FILE_LINE_MAX / 2] = '\0';
	s.func = name;
	u = test_table_edit(t, 0, &s);
	assert_int_equal(sites_file_write(u, f), -E2BIG);
	fclose(f);
	free(buf);
	free(name);
	site_table_free(u);
	site_table_free(t);
}

static void test_binary_garbage(void **state)
{
	static const unsigned char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\n";
	size_t len, n;
	char *text = pie_text(&len, &n);
	char *bad = strdup(text);
	unsigned char noise[4096];

	(void)state;
	expect_error((const char *)elf, sizeof(elf) - 1, -EPROTO, 1, NULL);
	/* A NUL inside a site line. */
	bad[strstr(bad, "\nsite 2 ") - bad + 3] = '\0';
	expect_error(bad, len, -EINVAL, 10, "NUL");
	/* Pseudo-random bytes: refused, whatever they are, without a crash. */
	srand(42);
	for (int round = 0; round < 64; round++) {
		struct site_table *t = NULL;

		for (size_t i = 0; i < sizeof(noise); i++)
			noise[i] = rand();
		assert_true(sites_file_read_buffer((const char *)noise, sizeof(noise), &t, NULL) < 0);
		assert_null(t);
	}
	free(bad);
	free(text);
}

/* bb sites of the hand-written line tables: every block has rows. */
static struct site_table *load_bb_rows(void)
{
	const struct site_options o = { .kind = SITE_KIND_BB };
	struct site_table *t = site_table_new();

	assert_non_null(t);
	assert_int_equal(site_table_add_elf(t, FIX("lines-rows"), NULL, &o, NULL), 0);
	site_table_finish(t);
	return t;
}

/* Line @lineno's number (1-based) of the first line of @text starting with @prefix. */
static size_t line_of(const char *text, const char *prefix)
{
	size_t n = 1, len = strlen(prefix);

	for (const char *p = text; *p; p = strchr(p, '\n') + 1, n++)
		if (!strncmp(p, prefix, len))
			return n;
	fail_msg("no line starting with '%s'", prefix);
	return 0;
}

/* A block's rows travel with it: report needs them without the binary. */
static void test_round_trip_bb_rows(void **state)
{
	struct site_table *t = load_bb_rows();
	size_t len, with = 0;
	char *text;

	(void)state;
	for (size_t i = 0; i < t->nsites; i++)
		with += (test_site(t, i).flags & SITE_ROWS) && test_site(t, i).nrows;
	assert_true(with > 10);
	round_trip(t);
	text = write_text(t, &len);
	/* rows_loop's first block: lines 20 and 21, each entered once. */
	assert_non_null(strstr(text, "\nrows 2\nrow 20 1 /"));
	assert_non_null(strstr(text, "rows.c\nrow 21 1 /"));
	free(text);
	site_table_free(t);
}

static void test_bad_rows(void **state)
{
	struct site_table *t = load_bb_rows();
	size_t len, rows, row;
	char *text = write_text(t, &len), *first, *second, *bad;

	(void)state;
	rows = line_of(text, "rows 2");
	row = rows + 1;
	expect_line_error(text, rows, "rows x", -EINVAL, "rows count");
	expect_line_error(text, rows, "site 1", -EINVAL, "expected 'rows COUNT'");
	expect_line_error(text, row, "row 0 1 /a.c", -EINVAL, "row line");
	expect_line_error(text, row, "row 20 x /a.c", -EINVAL, "row entries");
	expect_line_error(text, row, "row 20 1 -", -EINVAL, "row file");
	expect_line_error(text, row, "row 20 1", -EINVAL, "expected 'row");
	/* Out of order, and twice. */
	first = get_line(text, row);
	second = get_line(text, row + 1);
	bad = replace_line(text, row, second);
	expect_line_error(bad, row + 1, first, -EINVAL, "not sorted");
	expect_line_error(text, row + 1, first, -EINVAL, "not sorted");
	/* A rows line after a site without rows is no site line. */
	expect_line_error(text, rows + 3, "rows 0", -EINVAL, NULL);
	/* The file ends among the rows. */
	expect_error(text, strstr(text, "\nrows 2\n") + 8 - text, -EINVAL, rows + 1, "last row");
	free(bad);
	free(first);
	free(second);
	free(text);
	site_table_free(t);
}

/* Every prefix and every one-byte flip of a small file is read or refused cleanly. */
static void test_every_prefix_and_flip(void **state)
{
	struct site_table *a = awkward_table(), *t;
	size_t len, ok = 0;
	char *text = write_text(a, &len);
	char *copy = malloc(len);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		t = NULL;
		assert_true(sites_file_read_buffer(text, i, &t, NULL) < 0);
		assert_null(t);
	}
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, text, len);
		copy[i] ^= 0x01;
		t = NULL;
		if (sites_file_read_buffer(copy, len, &t, NULL) == 0) {
			/* Only fields the table-id leaves out can change unseen. */
			ok++;
			site_table_free(t);
		}
	}
	/* Most flips break the syntax, an index or the table-id. */
	assert_true(ok < len / 2);
	free(copy);
	free(text);
	site_table_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_pie),
		cmocka_unit_test(test_round_trip_nopie_no_build_id),
		cmocka_unit_test(test_round_trip_awkward_names),
		cmocka_unit_test(test_read_from_file),
		cmocka_unit_test(test_table_id_matches_spec),
		cmocka_unit_test(test_table_id_what_counts),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_nsites_mismatch),
		cmocka_unit_test(test_index_gap),
		cmocka_unit_test(test_module_out_of_range),
		cmocka_unit_test(test_overflowing_hex),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_sites_unsorted),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_writer_refuses_overlong_name),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_every_prefix_and_flip),
		cmocka_unit_test(test_round_trip_bb_rows),
		cmocka_unit_test(test_bad_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
