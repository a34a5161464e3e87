// SPDX-License-Identifier: MIT
/*
 * The kcov stream reader (kcov_read_buffer(), and kcov_read_file() on the
 * same bytes) against tables of several sizes.
 *
 * The oracle is a second, deliberately naive reading of the format of
 * include/ukcov/kcov.h over the whole buffer at once: both must agree on
 * the verdict, the records and table-ids seen, and the bytes consumed.
 * The callbacks check that every record they are given is what the header
 * promises, and one run stops the reader from a callback midway.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "kcov_reader.h"
#include "ukcov/kcov.h"

#define STOP_VALUE 77

struct seen {
	const uint8_t *data;
	size_t size;
	uint64_t pc_base;
	size_t nsites;
	uint64_t records, ids, stop_at;	/* stop_at: 1-based callback, 0 never */
	uint64_t calls;
};

static uint64_t word(const uint8_t *data, uint64_t off)
{
	uint64_t v;

	memcpy(&v, data + off, sizeof(v));
	return le64toh(v);
}

static int on_record(void *arg, const uint64_t *pcs, size_t n, uint64_t offset)
{
	struct seen *s = arg;

	fuzz_check(n >= 1 && n <= s->nsites);
	fuzz_check(offset % UKCOV_KCOV_WORD == 0);
	fuzz_check(offset < s->size && (n + 1) * UKCOV_KCOV_WORD <= s->size - offset);
	fuzz_check(word(s->data, offset) == n);
	for (size_t i = 0; i < n; i++) {
		fuzz_check(pcs[i] == word(s->data, offset + UKCOV_KCOV_WORD * (i + 1)));
		fuzz_check(pcs[i] >= s->pc_base && pcs[i] - s->pc_base < s->nsites);
		if (i)
			fuzz_check(pcs[i] > pcs[i - 1]);
	}
	s->records++;
	return ++s->calls == s->stop_at ? STOP_VALUE : 0;
}

static int on_table_id(void *arg, uint64_t id, uint64_t offset)
{
	struct seen *s = arg;

	fuzz_check(id >= UKCOV_KCOV_TABLE_ID_MIN && id <= UKCOV_KCOV_TABLE_ID_MAX);
	fuzz_check(offset % UKCOV_KCOV_WORD == 0 && 3 * UKCOV_KCOV_WORD <= s->size - offset);
	fuzz_check(word(s->data, offset) == 2);
	fuzz_check(word(s->data, offset + UKCOV_KCOV_WORD) == UKCOV_KCOV_TABLE_MAGIC);
	fuzz_check(word(s->data, offset + 2 * UKCOV_KCOV_WORD) == id);
	s->ids++;
	return ++s->calls == s->stop_at ? STOP_VALUE : 0;
}

/* The naive reading: what kcov.h says, with everything in memory. */
struct verdict {
	int err;
	uint64_t records, ids, bytes;
};

static struct verdict naive(const uint8_t *data, size_t size, uint64_t pc_base,
			    size_t nsites, uint64_t stop_at)
{
	struct verdict v = {};
	uint64_t off = 0, calls = 0;

	while (off < size) {
		uint64_t n, i;

		if (size - off < UKCOV_KCOV_WORD)
			return v.err = -EPROTO, v;
		n = word(data, off);
		if (!n || (size - off) / UKCOV_KCOV_WORD - 1 < n)
			return v.err = -EPROTO, v;
		if (n == 2 && word(data, off + 8) == UKCOV_KCOV_TABLE_MAGIC) {
			uint64_t id = word(data, off + 16);

			if (id < UKCOV_KCOV_TABLE_ID_MIN || id > UKCOV_KCOV_TABLE_ID_MAX)
				return v.err = -EPROTO, v;
			v.ids++;
		} else {
			if (n > nsites)
				return v.err = -EPROTO, v;
			for (i = 0; i < n; i++) {
				uint64_t pc = word(data, off + 8 * (i + 1));

				if (pc < pc_base || pc - pc_base >= nsites)
					return v.err = -EPROTO, v;
				if (i && pc <= word(data, off + 8 * i))
					return v.err = -EPROTO, v;
			}
			v.records++;
		}
		off += 8 * (n + 1);
		v.bytes = off;
		if (++calls == stop_at)
			return v.err = STOP_VALUE, v;
	}
	return v;
}

static void run(const uint8_t *data, size_t size, size_t nsites, uint64_t stop_at)
{
	struct seen s = { data, size, UKCOV_PC_BASE, nsites, 0, 0, stop_at, 0 };
	struct kcov_reader r = {
		.pc_base = UKCOV_PC_BASE, .nsites = nsites,
		.on_record = on_record, .on_table_id = on_table_id, .arg = &s,
	};
	struct verdict want = naive(data, size, UKCOV_PC_BASE, nsites, stop_at);
	struct kcov_reader fr;
	uint64_t records, ids;
	FILE *f;
	int err;

	err = kcov_read_buffer(&r, data, size);
	if (err != want.err)
		fuzz_fail("reader says %d (%s at %llu), the format says %d", err, r.why,
			  (unsigned long long)r.err_offset, want.err);
	fuzz_check(r.nrecords == want.records && s.records == want.records);
	fuzz_check(r.ntable_ids == want.ids && s.ids == want.ids);
	fuzz_check(r.bytes == want.bytes);
	if (err == -EPROTO) {
		fuzz_check(r.why[0] && memchr(r.why, '\0', sizeof(r.why)));
		fuzz_check(r.err_offset >= r.bytes && r.err_offset <= size);
	} else if (!err) {
		fuzz_check(!r.why[0] && r.bytes == size);
	}

	/* The FILE reader on the same bytes: same verdict and counts. */
	if (!size)
		return;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		fuzz_fail("fmemopen failed");
	records = s.records;
	ids = s.ids;
	s.records = s.ids = s.calls = 0;
	fr = r;
	err = kcov_read_file(&fr, f);
	fclose(f);
	fuzz_check(err == want.err && fr.bytes == r.bytes && fr.err_offset == r.err_offset);
	fuzz_check(fr.nrecords == r.nrecords && fr.ntable_ids == r.ntable_ids);
	fuzz_check(s.records == records && s.ids == ids && !strcmp(fr.why, r.why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A real table, a tiny one (most records too long), none at all. */
	run(data, size, 4096, 0);
	run(data, size, 3, 0);
	run(data, size, 0, 0);
	/* Stopped by the callback at the second record. */
	run(data, size, 4096, 2);
	return 0;
}
