// SPDX-License-Identifier: MIT
/*
 * Unit tests of the kcov stream reader (user/kcov_reader.c).  Streams are
 * built here word by word from the layout in include/ukcov/kcov.h, and
 * what the callbacks receive is compared with what was built.  The last
 * tests feed the reader what the kcov sink writes, table-id record
 * included.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kcov_reader.h"
#include "sinks/sink.h"
#include "ukcov/kcov.h"

#define B UKCOV_PC_BASE
#define ID (UKCOV_KCOV_TABLE_ID_MIN | 0x1234567890abcdefULL)

/* ---- building streams ------------------------------------------------- */

struct stream {
	uint8_t *buf;
	size_t len;
};

static void put(struct stream *s, uint64_t w)
{
	uint64_t le = htole64(w);

	s->buf = realloc(s->buf, s->len + 8);
	assert_non_null(s->buf);
	memcpy(s->buf + s->len, &le, 8);
	s->len += 8;
}

/* A record: n, then the n words given. */
static void rec(struct stream *s, size_t n, ...)
{
	va_list ap;

	put(s, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		put(s, va_arg(ap, uint64_t));
	va_end(ap);
}

/* ---- what the callbacks saw --------------------------------------------- */

struct seen {
	uint64_t pcs[64];
	size_t npcs;
	size_t sizes[16], nrec;
	uint64_t offsets[16];
	uint64_t ids[4], id_offsets[4];
	size_t nids;
	int stop_after;		/* non-zero: fail the call after this many records */
};

static int on_record(void *arg, const uint64_t *pcs, size_t n, uint64_t offset)
{
	struct seen *s = arg;

	assert_true(s->nrec < 16 && s->npcs + n <= 64);
	memcpy(s->pcs + s->npcs, pcs, n * sizeof(*pcs));
	s->npcs += n;
	s->offsets[s->nrec] = offset;
	s->sizes[s->nrec++] = n;
	if (s->stop_after && (int)s->nrec == s->stop_after)
		return -ECANCELED;
	return 0;
}

static int on_table_id(void *arg, uint64_t id, uint64_t offset)
{
	struct seen *s = arg;

	assert_true(s->nids < 4);
	s->id_offsets[s->nids] = offset;
	s->ids[s->nids++] = id;
	return 0;
}

static struct kcov_reader reader(struct seen *seen, size_t nsites)
{
	return (struct kcov_reader){
		.pc_base = B,
		.nsites = nsites,
		.on_record = on_record,
		.on_table_id = on_table_id,
		.arg = seen,
	};
}

/* Reads @s as a buffer and, through a FILE, again: both must agree. */
static int read_both(const struct stream *s, size_t nsites, struct seen *seen,
		     struct kcov_reader *out)
{
	struct seen seen2 = { .stop_after = seen->stop_after };
	struct kcov_reader r1 = reader(seen, nsites), r2 = reader(&seen2, nsites);
	FILE *f = s->len ? fmemopen(s->buf, s->len, "r") : fopen("/dev/null", "r");
	int e1, e2;

	assert_non_null(f);
	e1 = kcov_read_buffer(&r1, s->buf, s->len);
	e2 = kcov_read_file(&r2, f);
	fclose(f);
	assert_int_equal(e1, e2);
	assert_int_equal(r1.nrecords, r2.nrecords);
	assert_int_equal(r1.ntable_ids, r2.ntable_ids);
	assert_int_equal(r1.err_offset, r2.err_offset);
	assert_string_equal(r1.why, r2.why);
	assert_int_equal(seen->npcs, seen2.npcs);
	assert_memory_equal(seen->pcs, seen2.pcs, seen->npcs * sizeof(uint64_t));
	*out = r1;
	return e1;
}

static void expect_bad(const struct stream *s, size_t nsites, uint64_t offset,
		       const char *why)
{
	struct seen seen = {};
	struct kcov_reader r;

	assert_int_equal(read_both(s, nsites, &seen, &r), -EPROTO);
	assert_int_equal(r.err_offset, offset);
	if (!strstr(r.why, why))
		fail_msg("reason '%s' does not mention '%s'", r.why, why);
}

/* ---- good streams --------------------------------------------------------- */

static void test_good_stream(void **state)
{
	struct stream s = {};
	struct seen seen = {};
	struct kcov_reader r;

	(void)state;
	rec(&s, 3, B + 0, B + 5, B + 9);
	rec(&s, 1, B + 9);
	rec(&s, 2, B + 1, B + 2);
	assert_int_equal(read_both(&s, 10, &seen, &r), 0);
	assert_int_equal(r.nrecords, 3);
	assert_int_equal(r.ntable_ids, 0);
	assert_int_equal(r.bytes, s.len);
	assert_string_equal(r.why, "");
	assert_int_equal(seen.nrec, 3);
	assert_int_equal(seen.sizes[0], 3);
	assert_int_equal(seen.sizes[1], 1);
	assert_int_equal(seen.sizes[2], 2);
	assert_int_equal(seen.offsets[0], 0);
	assert_int_equal(seen.offsets[1], 32);
	assert_int_equal(seen.offsets[2], 48);
	{
		const uint64_t want[] = { B, B + 5, B + 9, B + 9, B + 1, B + 2 };

		assert_int_equal(seen.npcs, 6);
		assert_memory_equal(seen.pcs, want, sizeof(want));
	}
	free(s.buf);
}

static void test_empty_stream(void **state)
{
	struct stream s = {};
	struct seen seen = {};
	struct kcov_reader r;

	(void)state;
	assert_int_equal(read_both(&s, 10, &seen, &r), 0);
	assert_int_equal(r.nrecords, 0);
	assert_int_equal(seen.nrec, 0);
	/* A NULL buffer of length 0 is an empty stream too (fuzzers pass it). */
	r = reader(&seen, 10);
	assert_int_equal(kcov_read_buffer(&r, NULL, 0), 0);
}

static void test_no_callbacks(void **state)
{
	struct stream s = {};
	struct kcov_reader r = { .pc_base = B, .nsites = 4 };

	(void)state;
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, ID);
	rec(&s, 2, B + 1, B + 3);
	assert_int_equal(kcov_read_buffer(&r, s.buf, s.len), 0);
	assert_int_equal(r.nrecords, 1);
	assert_int_equal(r.ntable_ids, 1);
	free(s.buf);
}

static void test_callback_error_stops(void **state)
{
	struct stream s = {};
	struct seen seen = { .stop_after = 2 };
	struct kcov_reader r;

	(void)state;
	rec(&s, 1, B + 1);
	rec(&s, 1, B + 2);
	rec(&s, 1, B + 3);
	assert_int_equal(read_both(&s, 4, &seen, &r), -ECANCELED);
	assert_int_equal(seen.nrec, 2);
	free(s.buf);
}

/* A record bigger than the reader's chunk, through both paths. */
static void test_long_record(void **state)
{
	const size_t n = 200000;
	struct stream s = {};
	struct kcov_reader r = { .pc_base = B, .nsites = n };
	uint64_t *le = malloc((n + 1) * 8);
	FILE *f;

	(void)state;
	assert_non_null(le);
	le[0] = htole64(n);
	for (size_t i = 0; i < n; i++)
		le[i + 1] = htole64(B + i);
	s.buf = (uint8_t *)le;
	s.len = (n + 1) * 8;
	assert_int_equal(kcov_read_buffer(&r, s.buf, s.len), 0);
	assert_int_equal(r.nrecords, 1);
	f = fmemopen(s.buf, s.len, "r");
	assert_int_equal(kcov_read_file(&r, f), 0);
	assert_int_equal(r.nrecords, 1);
	fclose(f);
	/* The same record with its last PC cut off. */
	assert_int_equal(kcov_read_buffer(&r, s.buf, s.len - 8), -EPROTO);
	assert_int_equal(r.err_offset, s.len - 8);
	free(le);
}

/* ---- malformed streams --------------------------------------------------------- */

static void test_n_zero(void **state)
{
	struct stream s = {};

	(void)state;
	rec(&s, 1, B);
	put(&s, 0);
	expect_bad(&s, 10, 16, "n = 0");
	free(s.buf);
}

static void test_truncated(void **state)
{
	struct stream s = {};

	(void)state;
	rec(&s, 1, B);
	put(&s, 3);
	put(&s, B + 1);
	put(&s, B + 2);
	/* The missing third PC would be at byte 16 + 8 + 16. */
	expect_bad(&s, 10, 40, "truncated");
	/* Half a word at the end. */
	s.len = 16 + 4;
	expect_bad(&s, 10, 16, "count word");
	s.len = 16 + 8 + 3;
	expect_bad(&s, 10, 24, "truncated");
	free(s.buf);
}

static void test_huge_n_costs_nothing(void **state)
{
	struct stream s = {};
	struct kcov_reader r = { .pc_base = B, .nsites = (size_t)1 << 40 };

	(void)state;
	/* Far beyond the table: refused before any allocation. */
	put(&s, UINT64_MAX);
	expect_bad(&s, 10, 0, "more than the table");
	/* Within a huge table but beyond the stream: refused, no huge buffer. */
	free(s.buf);
	s = (struct stream){};
	put(&s, (uint64_t)1 << 39);
	put(&s, B);
	assert_int_equal(kcov_read_buffer(&r, s.buf, s.len), -EPROTO);
	assert_non_null(strstr(r.why, "truncated"));
	free(s.buf);
}

static void test_unsorted(void **state)
{
	struct stream s = {};

	(void)state;
	rec(&s, 3, B + 1, B + 4, B + 2);
	expect_bad(&s, 10, 24, "not ascending");
	free(s.buf);
}

static void test_duplicate(void **state)
{
	struct stream s = {};

	(void)state;
	rec(&s, 1, B + 7);
	rec(&s, 3, B + 1, B + 1, B + 2);
	expect_bad(&s, 10, 16 + 16, "twice");
	free(s.buf);
}

static void test_out_of_range(void **state)
{
	struct stream s = {};

	(void)state;
	rec(&s, 2, B + 8, B + 10);	/* site 10 of a 10-site table */
	expect_bad(&s, 10, 16, "outside");
	free(s.buf);
	s = (struct stream){};
	rec(&s, 1, B - 1);
	expect_bad(&s, 10, 8, "outside");
	free(s.buf);
	s = (struct stream){};
	rec(&s, 1, 0x401000);	/* a real user-space address: a foreign stream */
	expect_bad(&s, 10, 8, "outside");
	free(s.buf);
	s = (struct stream){};
	rec(&s, 1, B);
	expect_bad(&s, 0, 0, "more than the table");	/* an empty table takes nothing */
	free(s.buf);
}

/* ---- table-id records ---------------------------------------------------------- */

static void test_table_id_record(void **state)
{
	struct stream s = {};
	struct seen seen = {};
	struct kcov_reader r;

	(void)state;
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, ID);
	rec(&s, 1, B);
	/* Concatenated streams: a second table-id record later on. */
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, ID + 1);
	rec(&s, 1, B);
	/* The table has one site, yet the n = 2 record is fine. */
	assert_int_equal(read_both(&s, 1, &seen, &r), 0);
	assert_int_equal(r.ntable_ids, 2);
	assert_int_equal(r.nrecords, 2);
	assert_int_equal(seen.nids, 2);
	assert_int_equal(seen.ids[0], ID);
	assert_int_equal(seen.ids[1], ID + 1);
	assert_int_equal(seen.id_offsets[0], 0);
	assert_int_equal(seen.id_offsets[1], 24 + 16);
	/* Not counted as coverage. */
	assert_int_equal(seen.nrec, 2);
	assert_int_equal(seen.npcs, 2);
	free(s.buf);
}

static void test_table_id_malformed(void **state)
{
	struct stream s = {};

	(void)state;
	/* Top bits not 01. */
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, 0x1234ULL);
	expect_bad(&s, 10, 16, "table-id");
	free(s.buf);
	s = (struct stream){};
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, B + 1);
	expect_bad(&s, 10, 16, "table-id");
	free(s.buf);
	/* The magic in a record of another size is just an out-of-range PC. */
	s = (struct stream){};
	rec(&s, 3, UKCOV_KCOV_TABLE_MAGIC, ID, ID + 1);
	expect_bad(&s, 10, 8, "outside");
	free(s.buf);
	s = (struct stream){};
	rec(&s, 1, UKCOV_KCOV_TABLE_MAGIC);
	expect_bad(&s, 10, 8, "outside");
	free(s.buf);
}

/* What the kcov sink writes with emit_table_id is what the reader expects. */
static void test_sink_writes_table_id_once(void **state)
{
	const uint64_t a[] = { B + 1, B + 3 }, b[] = { B + 2 };
	struct sink snk = { .ops = &sink_kcov, .table_id = ID, .emit_table_id = true };
	struct stream s = {};
	struct seen seen = {};
	struct kcov_reader r;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	snk.out = open_memstream(&buf, &len);
	assert_non_null(snk.out);
	assert_int_equal(sink_drain(&snk, a, 2), 0);
	assert_false(snk.emit_table_id);
	assert_int_equal(sink_drain(&snk, b, 1), 0);
	assert_int_equal(fclose(snk.out), 0);

	/* Byte for byte: [2, MAGIC, ID] then the two records. */
	rec(&s, 2, UKCOV_KCOV_TABLE_MAGIC, ID);
	rec(&s, 2, B + 1, B + 3);
	rec(&s, 1, B + 2);
	assert_int_equal(len, s.len);
	assert_memory_equal(buf, s.buf, len);
	assert_memory_equal(buf + 8, "ukcovid", 8);

	assert_int_equal(read_both(&s, 4, &seen, &r), 0);
	assert_int_equal(seen.nids, 1);
	assert_int_equal(seen.ids[0], ID);
	assert_int_equal(seen.nrec, 2);
	free(buf);
	free(s.buf);
}

static void test_sink_without_table_id(void **state)
{
	const uint64_t a[] = { B + 1 };
	struct sink snk = { .ops = &sink_kcov };
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	snk.out = open_memstream(&buf, &len);
	assert_int_equal(sink_drain(&snk, a, 1), 0);
	assert_int_equal(fclose(snk.out), 0);
	assert_int_equal(len, 16);	/* the record alone, as issue 4 promised */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_stream),
		cmocka_unit_test(test_empty_stream),
		cmocka_unit_test(test_no_callbacks),
		cmocka_unit_test(test_callback_error_stops),
		cmocka_unit_test(test_long_record),
		cmocka_unit_test(test_n_zero),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_huge_n_costs_nothing),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_table_id_record),
		cmocka_unit_test(test_table_id_malformed),
		cmocka_unit_test(test_sink_writes_table_id_once),
		cmocka_unit_test(test_sink_without_table_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
