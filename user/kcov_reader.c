// SPDX-License-Identifier: MIT
/*
 * The kcov stream reader (see kcov_reader.h).  Records are read in chunks
 * into a buffer that grows with the data that actually arrives, so a count
 * word claiming millions of PCs at the end of a short stream costs nothing
 * before the stream is found truncated.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kcov_reader.h"
#include "ukcov/kcov.h"

/* Words read per call; bounds the buffer's growth step. */
#define KCOV_READ_CHUNK 65536

struct kcov_src {
	FILE *f;
	const uint8_t *buf;
	size_t len, pos;
};

/*
 * Reads up to @n words into @dst, converted to host order.  Returns the
 * number of whole words read (short only at the end of the stream) and
 * sets *@partial when a part of a word followed; -EIO on a read error.
 */
static long src_words(struct kcov_src *s, uint64_t *dst, size_t n, bool *partial)
{
	size_t bytes;

	if (s->f) {
		bytes = fread(dst, 1, n * UKCOV_KCOV_WORD, s->f);
		if (bytes < n * UKCOV_KCOV_WORD && ferror(s->f))
			return -EIO;
	} else {
		bytes = s->len - s->pos;
		if (bytes > n * UKCOV_KCOV_WORD)
			bytes = n * UKCOV_KCOV_WORD;
		if (bytes)	/* @buf may be NULL when @len is 0 */
			memcpy(dst, s->buf + s->pos, bytes);
		s->pos += bytes;
	}
	*partial = bytes % UKCOV_KCOV_WORD;
	for (size_t i = 0; i < bytes / UKCOV_KCOV_WORD; i++)
		dst[i] = le64toh(dst[i]);
	return bytes / UKCOV_KCOV_WORD;
}

static int bad(struct kcov_reader *r, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct kcov_reader *r, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	r->err_offset = offset;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* Checks a coverage record against the table; @off is its count word's offset. */
static int check_pcs(struct kcov_reader *r, const uint64_t *pcs, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t at = off + UKCOV_KCOV_WORD * (i + 1);

		if (pcs[i] < r->pc_base || pcs[i] - r->pc_base >= r->nsites)
			return bad(r, at, "PC 0x%016" PRIx64 " is outside the site table "
				   "(%zu sites from 0x%016" PRIx64 ")", pcs[i], r->nsites,
				   r->pc_base);
		if (i && pcs[i] == pcs[i - 1])
			return bad(r, at, "PC 0x%016" PRIx64 " twice in one record", pcs[i]);
		if (i && pcs[i] < pcs[i - 1])
			return bad(r, at, "PC 0x%016" PRIx64 " after 0x%016" PRIx64
				   ": PCs not ascending", pcs[i], pcs[i - 1]);
	}
	return 0;
}

static int read_stream(struct kcov_reader *r, struct kcov_src *s)
{
	uint64_t *pcs = NULL, off = 0, count;
	size_t cap = 0;
	bool partial;
	long got;
	int err = 0;

	r->nrecords = r->ntable_ids = r->bytes = r->err_offset = 0;
	r->why[0] = '\0';
	for (;;) {
		size_t n, have = 0;

		got = src_words(s, &count, 1, &partial);
		if (got < 0) {
			err = -EIO;
			snprintf(r->why, sizeof(r->why), "read error");
			r->err_offset = off;
			goto out;
		}
		if (!got) {
			if (partial)
				err = bad(r, off, "stream ends inside a record's count word");
			goto out;
		}
		if (count == 0) {
			err = bad(r, off, "record with n = 0");
			goto out;
		}
		/* n = 2 may be a table-id record, whatever the table's size. */
		if (count > r->nsites && count != 2) {
			err = bad(r, off, "record with n = %" PRIu64 ", more than the table's %zu sites",
				  count, r->nsites);
			goto out;
		}
		n = count;
		while (have < n) {
			size_t chunk = n - have < KCOV_READ_CHUNK ? n - have : KCOV_READ_CHUNK;

			if (have + chunk > cap) {
				size_t ncap = cap ? cap * 2 : KCOV_READ_CHUNK;
				void *p;

				if (ncap > n)
					ncap = n;
				if (ncap < have + chunk)
					ncap = have + chunk;
				p = reallocarray(pcs, ncap, sizeof(*pcs));
				if (!p) {
					err = -ENOMEM;
					snprintf(r->why, sizeof(r->why), "out of memory");
					goto out;
				}
				pcs = p;
				cap = ncap;
			}
			got = src_words(s, pcs + have, chunk, &partial);
			if (got < 0) {
				err = -EIO;
				snprintf(r->why, sizeof(r->why), "read error");
				r->err_offset = off;
				goto out;
			}
			have += got;
			if ((size_t)got < chunk) {
				err = bad(r, off + UKCOV_KCOV_WORD * (have + 1),
					  "truncated record: n = %zu but the stream ends after %zu PC%s",
					  n, have, have == 1 ? "" : "s");
				goto out;
			}
		}

		if (n == 2 && pcs[0] == UKCOV_KCOV_TABLE_MAGIC) {
			if (pcs[1] < UKCOV_KCOV_TABLE_ID_MIN || pcs[1] > UKCOV_KCOV_TABLE_ID_MAX) {
				err = bad(r, off + 2 * UKCOV_KCOV_WORD,
					  "table-id record with a malformed id 0x%016" PRIx64, pcs[1]);
				goto out;
			}
			r->ntable_ids++;
			if (r->on_table_id)
				err = r->on_table_id(r->arg, pcs[1], off);
		} else {
			if (n > r->nsites) {
				err = bad(r, off, "record with n = %zu, more than the table's %zu sites",
					  n, r->nsites);
				goto out;
			}
			err = check_pcs(r, pcs, n, off);
			if (err)
				goto out;
			r->nrecords++;
			if (r->on_record)
				err = r->on_record(r->arg, pcs, n, off);
		}
		off += UKCOV_KCOV_WORD * (n + 1);
		r->bytes = off;
		if (err)
			goto out;
	}
out:
	free(pcs);
	return err;
}

int kcov_read_file(struct kcov_reader *r, FILE *f)
{
	struct kcov_src s = { .f = f };

	return read_stream(r, &s);
}

int kcov_read_buffer(struct kcov_reader *r, const uint8_t *buf, size_t len)
{
	struct kcov_src s = { .buf = buf, .len = len };

	return read_stream(r, &s);
}
