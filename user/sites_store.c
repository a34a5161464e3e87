// SPDX-License-Identifier: MIT
/*
 * The site table's storage (see sites_store.h for the layout and why).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "array.h"
#include "sites_store.h"

/* The small fields' escape values: the real value is an extra. */
#define SIZE_EXTRA UINT16_MAX
#define PROBE_EXTRA UINT8_MAX
#define FLAGS_MASK 0x0fu
/*
 * func_line: 0 unknown, 1-6 the site's line minus 0-5, 7 in the func_line
 * runs.  The distance fits function sites, whose line is the entry row's,
 * usually the declaration's or close; line and bb sites share their
 * function's, one run per function.
 */
#define FUNC_LINE_SHIFT 4
#define FUNC_LINE_MASK 0x7u
#define FUNC_LINE_NEAR 6u
#define FUNC_LINE_RUN 7u
/*
 * An offset of 4 GiB or more, or flags no enum site_flags has: ukcov
 * makes neither, but a sites file may say anything it can read back.
 * The whole offset and flags are extras.
 */
#define BITS_WIDE 0x80u

struct site_rec {
	uint32_t offset;	/* file offset of the site */
	uint32_t func;		/* string id */
	uint32_t line;
	uint16_t size;		/* SIZE_EXTRA: an extra */
	uint8_t probe;		/* probe_offset - offset; PROBE_EXTRA: an extra */
	uint8_t bits;		/* flags | func_line code << FUNC_LINE_SHIFT | BITS_WIDE */
};

_Static_assert(sizeof(struct site_rec) == 16, "a site record is 16 bytes");
_Static_assert((SITE_FLAGS_ALL & ~FLAGS_MASK) == 0, "ukcov's site flags fit the record");

/*
 * Values that hold from site @first to the next run's first site: the
 * source file, the function line when the record cannot say it, and
 * vaddr - offset.  @first leads both kinds, for run_find().
 */
struct site_run32 {
	uint32_t first;
	uint32_t value;
};

struct site_bias_run {
	uint32_t first;
	uint64_t bias;
};

enum extra_key {
	EXTRA_OFFSET = 1,	/* with BITS_WIDE */
	EXTRA_FLAGS,		/* with BITS_WIDE */
	EXTRA_SIZE,
	EXTRA_PROBE,		/* the probe's file offset */
	EXTRA_ROWS,		/* block id << 32 | nrows: the rows, in the pool's blocks */
};

struct site_extra {
	uint32_t index;
	uint32_t key;		/* enum extra_key; sorted by (index, key) */
	uint64_t value;
};

int site_store_reserve(struct site_store *st, size_t more)
{
	void *p;

	if (more <= st->cap - st->n)
		return 0;
	if (more > UINT32_MAX - st->n)
		return -E2BIG;
	p = reallocarray(st->recs, st->n + more, sizeof(*st->recs));
	if (!p)
		return -ENOMEM;
	st->recs = p;
	st->cap = st->n + more;
	return 0;
}

/*
 * Index of the run holding site @i among the @n runs at @runs, @stride
 * bytes apart, each starting with its first site: the last whose first
 * is <= @i.
 */
static size_t run_find(const void *runs, size_t n, size_t stride, size_t i)
{
	const unsigned char *p = runs;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t first;

		memcpy(&first, p + mid * stride, sizeof(first));
		if (first <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;	/* site 0 always starts a run */
}

/* Site @i (the next one) takes @value: a new run unless the last has it. */
static int run32_push(struct site_run32 **runs, size_t *n, size_t *cap, size_t i, uint32_t value)
{
	if (*n && (*runs)[*n - 1].value == value)
		return 0;
	if (ARRAY_GROW(*runs, *cap, *n + 1, 16))
		return -ENOMEM;
	(*runs)[(*n)++] = (struct site_run32){ (uint32_t)i, value };
	return 0;
}

static int bias_push(struct site_store *st, size_t i, uint64_t bias)
{
	if (st->nbiases && st->biases[st->nbiases - 1].bias == bias)
		return 0;
	if (ARRAY_GROW(st->biases, st->cap_biases, st->nbiases + 1, 4))
		return -ENOMEM;
	st->biases[st->nbiases++] = (struct site_bias_run){ (uint32_t)i, bias };
	return 0;
}

static int extra_push(struct site_store *st, size_t i, enum extra_key key, uint64_t value)
{
	if (ARRAY_GROW(st->extras, st->cap_extras, st->nextras + 1, 16))
		return -ENOMEM;
	st->extras[st->nextras++] = (struct site_extra){ (uint32_t)i, key, value };
	return 0;
}

static uint64_t extra_get(const struct site_store *st, size_t i, enum extra_key key)
{
	size_t lo = 0, hi = st->nextras;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct site_extra *e = &st->extras[mid];

		if (e->index < i || (e->index == i && e->key < key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->nextras && st->extras[lo].index == i && st->extras[lo].key == key ?
	       st->extras[lo].value : 0;
}

/* The block id of @rows as the pool holds them: copied, files interned, unless they are already. */
static uint32_t own_rows(struct site_strings *strs, const struct site_row *rows, uint32_t n)
{
	uint32_t id = site_strings_block_id(strs, rows);
	struct site_row *copy;

	if (id)
		return id;
	copy = site_strings_alloc(strs, (size_t)n * sizeof(*copy));
	if (!copy)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		copy[k] = rows[k];
		copy[k].file = site_strings_intern(strs, rows[k].file);
		if (!copy[k].file)
			return 0;
	}
	return site_strings_block_id(strs, copy);
}

/* The id of @str in @strs, interning it when it is not the pool's own. */
static int string_id(struct site_strings *strs, const char *str, uint32_t *id)
{
	if (!str) {
		*id = 0;
		return 0;
	}
	*id = site_strings_id(strs, str);
	if (!*id && !site_strings_intern_id(strs, str, id))
		return errno == E2BIG ? -E2BIG : -ENOMEM;
	return 0;
}

/* Everything but the record; the record is written last, so a failure leaves none. */
static int push_parts(struct site_store *st, struct site_strings *strs, const struct site *s,
		      struct site_rec *r)
{
	size_t i = st->n;
	uint32_t file;
	int err;

	err = string_id(strs, s->func, &r->func);
	if (!err)
		err = string_id(strs, s->file, &file);
	if (!err)
		err = run32_push(&st->files, &st->nfiles, &st->cap_files, i, file);
	if (!err && (r->bits >> FUNC_LINE_SHIFT & FUNC_LINE_MASK) == FUNC_LINE_RUN)
		err = run32_push(&st->func_lines, &st->nfunc_lines, &st->cap_func_lines, i,
				 s->func_line);
	if (!err)
		err = bias_push(st, i, s->vaddr - s->offset);
	if (err)
		return err;
	/* Extras in key order: extra_get() searches by (index, key). */
	if ((r->bits & BITS_WIDE) &&
	    ((err = extra_push(st, i, EXTRA_OFFSET, s->offset)) ||
	     (err = extra_push(st, i, EXTRA_FLAGS, s->flags))))
		return err;
	if (r->size == SIZE_EXTRA && (err = extra_push(st, i, EXTRA_SIZE, s->size)))
		return err;
	if (r->probe == PROBE_EXTRA && (err = extra_push(st, i, EXTRA_PROBE, s->probe_offset)))
		return err;
	if ((s->flags & SITE_ROWS) && s->nrows) {
		uint32_t rows = own_rows(strs, s->rows, s->nrows);

		if (!rows)
			return errno == E2BIG ? -E2BIG : -ENOMEM;
		err = extra_push(st, i, EXTRA_ROWS, (uint64_t)rows << 32 | s->nrows);
	}
	return err;
}

int site_store_push(struct site_store *st, struct site_strings *strs, const struct site *s)
{
	struct site_rec r = { .offset = (uint32_t)s->offset, .line = s->line };
	uint64_t delta = s->probe_offset - s->offset;
	bool wide = s->offset > UINT32_MAX || (s->flags & ~FLAGS_MASK);
	unsigned int code;
	int err;

	if (st->n >= UINT32_MAX)
		return -E2BIG;
	r.size = s->size < SIZE_EXTRA ? (uint16_t)s->size : SIZE_EXTRA;
	r.probe = s->probe_offset >= s->offset && delta < PROBE_EXTRA ? (uint8_t)delta : PROBE_EXTRA;
	if (!s->func_line)
		code = 0;
	else if (s->func_line <= s->line && s->line - s->func_line < FUNC_LINE_NEAR)
		code = s->line - s->func_line + 1;
	else
		code = FUNC_LINE_RUN;
	r.bits = (uint8_t)((s->flags & FLAGS_MASK) | code << FUNC_LINE_SHIFT | (wide ? BITS_WIDE : 0));
	if (ARRAY_GROW(st->recs, st->cap, st->n + 1, 1024))
		return -ENOMEM;
	err = push_parts(st, strs, s, &r);
	if (err) {
		site_store_truncate(st, st->n);
		return err;
	}
	st->recs[st->n++] = r;
	return 0;
}

/* The file offset of site @i. */
static uint64_t rec_offset(const struct site_store *st, size_t i)
{
	const struct site_rec *r = &st->recs[i];

	return r->bits & BITS_WIDE ? extra_get(st, i, EXTRA_OFFSET) : r->offset;
}

uint64_t site_store_probe_offset(const struct site_store *st, size_t i)
{
	const struct site_rec *r = &st->recs[i];

	return r->probe == PROBE_EXTRA ? extra_get(st, i, EXTRA_PROBE) : rec_offset(st, i) + r->probe;
}

const char *site_store_func(const struct site_store *st, const struct site_strings *strs,
			    size_t i)
{
	return site_strings_at(strs, st->recs[i].func);
}

void site_store_get(const struct site_store *st, const struct site_strings *strs,
		    size_t i, struct site *out)
{
	const struct site_rec *r = &st->recs[i];
	unsigned int code = r->bits >> FUNC_LINE_SHIFT & FUNC_LINE_MASK;

	/* Padding too: tables are compared byte for byte in tests. */
	memset(out, 0, sizeof(*out));
	out->flags = r->bits & BITS_WIDE ? (uint32_t)extra_get(st, i, EXTRA_FLAGS) : r->bits & FLAGS_MASK;
	out->offset = rec_offset(st, i);
	out->vaddr = out->offset +
		     st->biases[run_find(st->biases, st->nbiases, sizeof(*st->biases), i)].bias;
	out->probe_offset = site_store_probe_offset(st, i);
	out->size = r->size == SIZE_EXTRA ? extra_get(st, i, EXTRA_SIZE) : r->size;
	out->func = site_strings_at(strs, r->func);
	out->file = site_strings_at(strs,
				    st->files[run_find(st->files, st->nfiles, sizeof(*st->files), i)].value);
	out->line = r->line;
	out->func_line = !code ? 0 : code != FUNC_LINE_RUN ? r->line - (code - 1) :
			 st->func_lines[run_find(st->func_lines, st->nfunc_lines,
						 sizeof(*st->func_lines), i)].value;
	if (out->flags & SITE_ROWS) {
		uint64_t rows = extra_get(st, i, EXTRA_ROWS);

		out->rows = site_strings_block_at(strs, (uint32_t)(rows >> 32));
		out->nrows = (uint32_t)rows;
	}
}

void site_store_truncate(struct site_store *st, size_t n)
{
	if (n < st->n)
		st->n = n;
	while (st->nfiles && st->files[st->nfiles - 1].first >= n)
		st->nfiles--;
	while (st->nfunc_lines && st->func_lines[st->nfunc_lines - 1].first >= n)
		st->nfunc_lines--;
	while (st->nbiases && st->biases[st->nbiases - 1].first >= n)
		st->nbiases--;
	while (st->nextras && st->extras[st->nextras - 1].index >= n)
		st->nextras--;
}

void site_store_release(struct site_store *st)
{
	free(st->recs);
	free(st->biases);
	free(st->files);
	free(st->func_lines);
	free(st->extras);
	*st = (struct site_store){};
}

size_t site_store_bytes(const struct site_store *st)
{
	return st->cap * sizeof(*st->recs) + st->cap_biases * sizeof(*st->biases) +
	       st->cap_files * sizeof(*st->files) + st->cap_func_lines * sizeof(*st->func_lines) +
	       st->cap_extras * sizeof(*st->extras);
}
