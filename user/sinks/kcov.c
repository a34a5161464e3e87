// SPDX-License-Identifier: MIT
/*
 * The kcov stream: one record per drain, laid out as include/ukcov/kcov.h
 * documents.  The format streams, so it has no finish.
 */
#include <endian.h>
#include <errno.h>

#include "sinks/sink.h"
#include "ukcov/kcov.h"

/* Words converted per fwrite(): bounded stack use for any n. */
#define KCOV_CHUNK 512

/* fwrite() failed: errno says why when stdio had a write(2) to blame. */
static int kcov_write_error(void)
{
	return errno ? -errno : -EIO;
}

/*
 * The table-id record (ukcov/kcov.h), once, ahead of the first record, so
 * `ukcov report` can tell which site table the stream belongs to.  Written
 * with the first drain rather than up front: the sink has no start hook,
 * and a stream without records has nothing to pair.
 */
static int kcov_table_id(struct sink *s)
{
	uint64_t rec[3] = {
		htole64(2), htole64(UKCOV_KCOV_TABLE_MAGIC), htole64(s->table_id),
	};

	if (!s->emit_table_id)
		return 0;
	if (fwrite(rec, UKCOV_KCOV_WORD, 3, s->out) != 3)
		return kcov_write_error();
	s->emit_table_id = false;
	return 0;
}

/* A record's count word; its PCs follow in one or more parts. */
static int kcov_begin(struct sink *s, size_t n)
{
	uint64_t word = htole64(n);
	int err;

	errno = 0;
	err = kcov_table_id(s);
	if (err)
		return err;
	if (fwrite(&word, UKCOV_KCOV_WORD, 1, s->out) != 1)
		return kcov_write_error();
	return 0;
}

static int kcov_pcs(struct sink *s, const uint64_t *pcs, size_t n)
{
	uint64_t buf[KCOV_CHUNK];
	size_t i, j;

	errno = 0;
	for (i = 0; i < n; i += j) {
		for (j = 0; j < KCOV_CHUNK && i + j < n; j++)
			buf[j] = htole64(pcs[i + j]);
		if (fwrite(buf, UKCOV_KCOV_WORD, j, s->out) != j)
			return kcov_write_error();
	}
	return 0;
}

static int kcov_end(struct sink *s)
{
	errno = 0;
	/*
	 * A reader of a pipe (`-o -` into a fuzzer) gets each record as its
	 * drain ends, not a buffer later; and a full disk shows at the drain
	 * that hit it.  One write per drain interval costs nothing.
	 */
	if (fflush(s->out) == EOF)
		return kcov_write_error();
	return 0;
}

const struct sink_ops sink_kcov = {
	.name = "kcov",
	.extension = ".kcov",
	.summary = "Linux kcov records, one per drain: u64 n, n u64 PCs (LE)",
	.binary = true,
	.drain_begin = kcov_begin,
	.drain_pcs = kcov_pcs,
	.drain_end = kcov_end,
};
