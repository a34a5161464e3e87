/* SPDX-License-Identifier: MIT */
/*
 * Reading a kcov stream (include/ukcov/kcov.h) back: `ukcov report`'s
 * input.  The stream is untrusted: every record is checked against the site
 * table it claims to describe before anyone sees it, and the reader never
 * allocates more than twice the bytes the stream holds (or 512 KiB).
 */
#ifndef UKCOV_KCOV_READER_H
#define UKCOV_KCOV_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kcov_reader {
	/*
	 * In: the table the stream must fit.  A coverage record's PCs must
	 * lie in [pc_base, pc_base + nsites): synthetic PCs, not indexes.
	 */
	uint64_t pc_base;
	size_t nsites;
	/*
	 * In: called for each coverage record with its PCs, strictly
	 * ascending and in range, and the byte offset of its count word.
	 * @pcs is valid during the call only.  A non-zero return stops the
	 * reader, which returns it.  NULL: records are checked only.
	 */
	int (*on_record)(void *arg, const uint64_t *pcs, size_t n, uint64_t offset);
	/*
	 * In: called for each table-id record with its id (already checked to
	 * lie in UKCOV_KCOV_TABLE_ID_MIN..MAX).  NULL: accepted silently.
	 */
	int (*on_table_id)(void *arg, uint64_t id, uint64_t offset);
	void *arg;

	/* Out: what was read, and where and why reading stopped. */
	uint64_t nrecords;	/* coverage records */
	uint64_t ntable_ids;	/* table-id records */
	uint64_t bytes;		/* bytes consumed */
	uint64_t err_offset;	/* byte offset of the offending word */
	char why[160];		/* one line, "" when no error */
};

/*
 * Reads every record of the stream in @f, or in the @len bytes at @buf
 * (the entry point for fuzzers: it touches nothing but @buf and the
 * callbacks).  Returns 0 at a clean end of stream (an empty stream is
 * fine), or:
 *   -EPROTO   malformed stream: n = 0, n beyond the table, a truncated
 *             record, PCs out of order, duplicated or outside the table,
 *             a bad table-id record.  r->why and r->err_offset say which.
 *   -EIO      the read failed;  -ENOMEM
 *   the callback's non-zero return
 */
int kcov_read_file(struct kcov_reader *r, FILE *f);
int kcov_read_buffer(struct kcov_reader *r, const uint8_t *buf, size_t len);

#endif /* UKCOV_KCOV_READER_H */
