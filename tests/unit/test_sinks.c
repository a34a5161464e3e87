// SPDX-License-Identifier: MIT
/*
 * The kcov and text sinks and the format table.  The expected bytes are
 * written out by hand from include/ukcov/kcov.h and the text format's
 * documentation, not produced by the code under test.
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

#include "sinks/sink.h"
#include "sites.h"
#include "testutil.h"

/* ---- a hand-built table: two modules, five sites -------------------------- */

static struct site_module hand_modules[] = {
	{ .path = "/tmp/branchy", .open_path = "/tmp/branchy",
	  .build_id = { 0x01, 0x23, 0xab, 0xcd }, .build_id_len = 4,
	  .pie = true, .has_dwarf = true, .first_site = 0, .nsites = 3 },
	{ .path = "/usr/lib/libz.so", .open_path = "/usr/lib/libz.so",
	  .first_site = 3, .nsites = 2 },
};

static struct site hand_sites[] = {
	{ .module = 0, .vaddr = 0x1139, .offset = 0x1139, .probe_offset = 0x1139,
	  .size = 16, .func = "main", .file = "branchy.c", .line = 3 },
	{ .module = 0, .vaddr = 0x1150, .offset = 0x1150, .probe_offset = 0x1150,
	  .size = 32, .func = "f_1", .file = "branchy.c", .line = 9 },
	{ .module = 0, .vaddr = 0x11a9, .offset = 0x11a9, .probe_offset = 0x11a9,
	  .size = 8, .func = "f_3", .file = "branchy.c", .line = 14 },
	/* no DWARF for this module: file NULL */
	{ .module = 1, .vaddr = 0x402000, .offset = 0x2000, .probe_offset = 0x2000,
	  .size = 64, .func = "inflate", .file = NULL, .line = 0 },
	{ .module = 1, .vaddr = 0x403abc, .offset = 0x3abc, .probe_offset = 0x3abc,
	  .size = 64, .func = "deflate", .file = NULL, .line = 0 },
};

/* Built from hand_modules and hand_sites by the group setup. */
static struct site_table *hand_table;

static int build_table(void **state)
{
	(void)state;
	hand_table = test_table(hand_modules, 2, hand_sites, 5);
	return 0;
}

static int free_table(void **state)
{
	(void)state;
	site_table_free(hand_table);
	return 0;
}

static const struct run_info test_info = {
	.target = "/tmp/branchy 5000",
	.mode = "count",
	.site_kind = "func",
	.drains = 7,
	.drains_with_hits = 3,
	.exit_status = 0,
};

/* ---- helpers ------------------------------------------------------------- */

struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

static void memout_open(struct memout *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

/* Closes the stream; m->buf/m->len hold everything written. */
static void memout_close(struct memout *m)
{
	assert_int_equal(fclose(m->f), 0);
	m->f = NULL;
}

static void memout_free(struct memout *m)
{
	free(m->buf);
}

/* Appends @v as 8 little-endian bytes, by shifting: independent of endian.h. */
static size_t put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return 8;
}

static char *run_text(const struct site_table *t, const uint64_t *totals,
		      const struct run_info *info)
{
	struct memout m;
	struct sink s = { .ops = &sink_text };

	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_finish(&s, t, totals, info), 0);
	memout_close(&m);
	return m.buf;
}

/* ---- kcov ---------------------------------------------------------------- */

static void test_kcov_record_bytes(void **state)
{
	const uint64_t pcs[] = { UKCOV_PC_BASE + 0, UKCOV_PC_BASE + 2,
				 UKCOV_PC_BASE + 0x1234 };
	static const unsigned char expect[] = {
		3, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff,
		0x34, 0x12, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff,
	};
	struct sink s = { .ops = &sink_kcov };
	struct memout m;

	(void)state;
	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_drain(&s, pcs, 3), 0);
	memout_close(&m);
	assert_int_equal(m.len, sizeof(expect));
	assert_memory_equal(m.buf, expect, sizeof(expect));
	memout_free(&m);
}

static void test_kcov_drains_append(void **state)
{
	const uint64_t a[] = { UKCOV_PC_BASE + 1, UKCOV_PC_BASE + 4 };
	const uint64_t b[] = { UKCOV_PC_BASE + 3 };
	unsigned char expect[6 * 8], *p = expect;
	struct sink s = { .ops = &sink_kcov };
	struct memout m;

	(void)state;
	p += put_le64(p, 2);
	p += put_le64(p, UKCOV_PC_BASE + 1);
	p += put_le64(p, UKCOV_PC_BASE + 4);
	p += put_le64(p, 1);
	p += put_le64(p, UKCOV_PC_BASE + 3);

	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_drain(&s, a, 2), 0);
	assert_int_equal(sink_drain(&s, b, 1), 0);
	memout_close(&m);
	assert_int_equal(m.len, (size_t)(p - expect));
	assert_memory_equal(m.buf, expect, m.len);
	memout_free(&m);
}

/* A drain handed over in parts is still one record. */
static void test_kcov_record_in_parts(void **state)
{
	const uint64_t pcs[] = { UKCOV_PC_BASE + 1, UKCOV_PC_BASE + 4, UKCOV_PC_BASE + 9 };
	unsigned char expect[4 * 8], *p = expect;
	struct sink s = { .ops = &sink_kcov };
	struct memout m;

	(void)state;
	p += put_le64(p, 3);
	for (size_t i = 0; i < 3; i++)
		p += put_le64(p, pcs[i]);

	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_drain_begin(&s, 3), 0);
	assert_int_equal(sink_drain_pcs(&s, pcs, 2), 0);
	assert_int_equal(sink_drain_pcs(&s, pcs + 2, 1), 0);
	assert_int_equal(sink_drain_end(&s), 0);
	memout_close(&m);
	assert_int_equal(m.len, sizeof(expect));
	assert_memory_equal(m.buf, expect, sizeof(expect));
	memout_free(&m);
}

/* A record longer than the sink's conversion buffer stays one record. */
static void test_kcov_long_record(void **state)
{
	const size_t n = 1500;
	uint64_t *pcs = calloc(n, sizeof(*pcs));
	unsigned char *expect = calloc(n + 1, 8), *p = expect;
	struct sink s = { .ops = &sink_kcov };
	struct memout m;
	size_t i;

	(void)state;
	assert_non_null(pcs);
	assert_non_null(expect);
	p += put_le64(p, n);
	for (i = 0; i < n; i++) {
		pcs[i] = UKCOV_PC_BASE + 3 * i;
		p += put_le64(p, pcs[i]);
	}

	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_drain(&s, pcs, n), 0);
	memout_close(&m);
	assert_int_equal(m.len, (n + 1) * 8);
	assert_memory_equal(m.buf, expect, m.len);
	memout_free(&m);
	free(expect);
	free(pcs);
}

static void test_kcov_write_error(void **state)
{
	const uint64_t pcs[] = { UKCOV_PC_BASE };
	struct sink s = { .ops = &sink_kcov };

	(void)state;
	s.out = fopen("/dev/full", "w");
	assert_non_null(s.out);
	assert_int_equal(sink_drain(&s, pcs, 1), -ENOSPC);
	fclose(s.out);
}

static void test_kcov_finish_writes_nothing(void **state)
{
	const uint64_t totals[5] = { 1, 1, 1, 1, 1 };
	struct sink s = { .ops = &sink_kcov };
	struct memout m;

	(void)state;
	assert_null(sink_kcov.finish);
	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_finish(&s, hand_table, totals, &test_info), 0);
	memout_close(&m);
	assert_int_equal(m.len, 0);
	memout_free(&m);
}

/* ---- text ---------------------------------------------------------------- */

static void test_text_report_exact(void **state)
{
	const uint64_t totals[5] = { 1, 0, 5000, 2, 0 };
	/* Module lines as sites.h documents them (site_table_print_modules). */
	const char *expect =
		"# ukcov " UKCOV_VERSION " text coverage\n"
		"# target: /tmp/branchy 5000\n"
		"# mode: count, sites: func\n"
		"# module 0 /tmp/branchy build-id 0123abcd sites 3\n"
		"# module 1 /usr/lib/libz.so build-id none sites 2 no-dwarf\n"
		"# sites: 5 total, 3 hit, 5003 hits, 7 drains\n"
		"# exit: 0\n"
		"# PC COUNT FUNCTION FILE:LINE MODULE+0xOFFSET\n"
		"0xffffffff80000000 1 main branchy.c:3 /tmp/branchy+0x1139\n"
		"0xffffffff80000002 5000 f_3 branchy.c:14 /tmp/branchy+0x11a9\n"
		"0xffffffff80000003 2 inflate ??:0 /usr/lib/libz.so+0x2000\n";
	char *got;

	(void)state;
	got = run_text(hand_table, totals, &test_info);
	assert_string_equal(got, expect);
	free(got);
}

/* Sites without DWARF say ??:0 even if a stray line number is set. */
static void test_text_unknown_file(void **state)
{
	const uint64_t totals[5] = { 0, 0, 0, 0, 9 };
	struct site sites[5];
	struct site_table *t;
	char *got;

	(void)state;
	memcpy(sites, hand_sites, sizeof(sites));
	sites[4].line = 77;
	t = test_table(hand_modules, 2, sites, 5);
	got = run_text(t, totals, &test_info);
	assert_non_null(strstr(got,
		"\n0xffffffff80000004 9 deflate ??:0 /usr/lib/libz.so+0x3abc\n"));
	free(got);
	site_table_free(t);
}

static void test_text_nothing_hit(void **state)
{
	const uint64_t totals[5] = { 0 };
	const char *last = "# PC COUNT FUNCTION FILE:LINE MODULE+0xOFFSET\n";
	char *got;
	size_t len;

	(void)state;
	got = run_text(hand_table, totals, &test_info);
	assert_non_null(strstr(got,
		"\n# sites: 5 total, 0 hit, 0 hits, 7 drains\n"));
	/* The column header is the last line: no data lines follow. */
	len = strlen(got);
	assert_true(len > strlen(last));
	assert_string_equal(got + len - strlen(last), last);
	free(got);
}

static void test_text_no_exit_when_unknown(void **state)
{
	const uint64_t totals[5] = { 1, 0, 0, 0, 0 };
	struct run_info info = test_info;
	char *got;

	(void)state;
	info.exit_status = -1;
	got = run_text(hand_table, totals, &info);
	assert_null(strstr(got, "# exit"));
	assert_non_null(strstr(got, "7 drains\n# PC COUNT"));
	free(got);

	info.exit_status = 130;
	got = run_text(hand_table, totals, &info);
	assert_non_null(strstr(got, "7 drains\n# exit: 130\n# PC COUNT"));
	free(got);
}

/* Every site hit: data lines are exactly the sites, in ascending PC order. */
static void test_text_sorted_by_pc(void **state)
{
	const uint64_t totals[5] = { 5, 4, 3, 2, 1 };
	char *got, *line, *save = NULL;
	unsigned long long prev = 0, pc;
	size_t nlines = 0;

	(void)state;
	got = run_text(hand_table, totals, &test_info);
	for (line = strtok_r(got, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%llx", &pc), 1);
		assert_int_equal(pc, UKCOV_PC_BASE + nlines);
		assert_true(pc > prev);
		prev = pc;
		nlines++;
	}
	assert_int_equal(nlines, 5);
	free(got);
}

static void test_text_write_error(void **state)
{
	const uint64_t totals[5] = { 1, 1, 1, 1, 1 };
	struct sink s = { .ops = &sink_text };

	(void)state;
	s.out = fopen("/dev/full", "w");
	assert_non_null(s.out);
	assert_int_equal(sink_finish(&s, hand_table, totals, &test_info),
			 -ENOSPC);
	fclose(s.out);
}

static void test_text_drain_writes_nothing(void **state)
{
	const uint64_t pcs[] = { UKCOV_PC_BASE };
	struct sink s = { .ops = &sink_text };
	struct memout m;

	(void)state;
	assert_null(sink_text.drain_begin);
	memout_open(&m);
	s.out = m.f;
	assert_int_equal(sink_drain(&s, pcs, 1), 0);
	memout_close(&m);
	assert_int_equal(m.len, 0);
	memout_free(&m);
}

/* ---- the format table ---------------------------------------------------- */

static void test_sink_find(void **state)
{
	(void)state;
	assert_ptr_equal(sink_find("text"), &sink_text);
	assert_ptr_equal(sink_find("kcov"), &sink_kcov);
	assert_null(sink_find("gcov"));
	assert_null(sink_find(""));
	assert_null(sink_find("KCOV"));
	assert_null(sink_find("kcov "));
	assert_null(sink_find(".kcov"));
}

static void test_sink_for_path(void **state)
{
	(void)state;
	assert_ptr_equal(sink_for_path("cov.kcov"), &sink_kcov);
	assert_ptr_equal(sink_for_path("/tmp/out/cov.kcov"), &sink_kcov);
	assert_ptr_equal(sink_for_path("cov.txt"), &sink_text);
	assert_ptr_equal(sink_for_path("a.kcov.txt"), &sink_text);
	assert_ptr_equal(sink_for_path("a.txt.kcov"), &sink_kcov);
	/* No extension, or one that belongs to no format. */
	assert_null(sink_for_path("cov"));
	assert_null(sink_for_path(""));
	assert_null(sink_for_path("-"));
	assert_null(sink_for_path("cov.txt.gz"));
	assert_null(sink_for_path("cov.TXT"));
	assert_null(sink_for_path("covtxt"));
	assert_null(sink_for_path("dir.kcov/cov"));
	/* A name that is all extension is a dot file. */
	assert_null(sink_for_path(".kcov"));
	assert_null(sink_for_path("dir/.txt"));
}

static void test_sink_names(void **state)
{
	char buf[256] = "";
	size_t i;

	(void)state;
	for (i = 0; sink_formats[i]; i++) {
		if (i)
			strcat(buf, ", ");
		strcat(buf, sink_formats[i]->name);
		assert_non_null(sink_formats[i]->summary);
	}
	assert_int_equal(i, 5);
	assert_string_equal(sink_names(), buf);
	assert_string_equal(sink_names(), "text, kcov, lcov, cobertura, drcov");
	assert_true(sink_kcov.binary);
	assert_false(sink_text.binary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kcov_record_bytes),
		cmocka_unit_test(test_kcov_drains_append),
		cmocka_unit_test(test_kcov_record_in_parts),
		cmocka_unit_test(test_kcov_long_record),
		cmocka_unit_test(test_kcov_write_error),
		cmocka_unit_test(test_kcov_finish_writes_nothing),
		cmocka_unit_test(test_text_report_exact),
		cmocka_unit_test(test_text_unknown_file),
		cmocka_unit_test(test_text_nothing_hit),
		cmocka_unit_test(test_text_no_exit_when_unknown),
		cmocka_unit_test(test_text_sorted_by_pc),
		cmocka_unit_test(test_text_write_error),
		cmocka_unit_test(test_text_drain_writes_nothing),
		cmocka_unit_test(test_sink_find),
		cmocka_unit_test(test_sink_for_path),
		cmocka_unit_test(test_sink_names),
	};

	return cmocka_run_group_tests(tests, build_table, free_table);
}
