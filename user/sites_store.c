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
/* func_line: 0 unknown, 1-6 the site's line minus 0-5, 7 an extra. */
#define FUNC_LINE_SHIFT 4
#define FUNC_LINE_MASK 0x7u
#define FUNC_LINE_NEAR 6u
#define FUNC_LINE_EXTRA 7u
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

/* A value that holds from site @first to the next run's first site. */
struct site_run {
	uint64_t value;
	uint32_t first;
};

enum extra_key {
	EXTRA_OFFSET = 1,	/* with BITS_WIDE */
	EXTRA_FLAGS,		/* with BITS_WIDE */
	EXTRA_SIZE,
	EXTRA_PROBE,		/* the probe's file offset */
	EXTRA_FUNC_LINE,
	EXTRA_ROWS,		/* const struct site_row *, in the string pool's blocks */
	EXTRA_NROWS,
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

/* Index of the run holding site @i: the last whose first is <= @i. */
static size_t run_find(const struct site_run *runs, size_t n, size_t i)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].first <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;	/* site 0 always starts a run */
}

/* Site @i (the next one) takes @value: a new run unless the last has it. */
static int run_push(struct site_run **runs, size_t *n, size_t *cap, size_t i, uint64_t value)
{
	if (*n && (*runs)[*n - 1].value == value)
		return 0;
	if (ARRAY_GROW(*runs, *cap, *n + 1, 16))
		return -ENOMEM;
	(*runs)[(*n)++] = (struct site_run){ value, (uint32_t)i };
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

/* @rows as the pool holds them: copied, files interned, unless they are already. */
static const struct site_row *own_rows(struct site_strings *strs, const struct site_row *rows,
				       uint32_t n)
{
	struct site_row *copy;

	if (site_strings_owns_block(strs, rows))
		return rows;
	copy = site_strings_alloc(strs, (size_t)n * sizeof(*copy));
	if (!copy)
		return NULL;
	for (uint32_t k = 0; k < n; k++) {
		copy[k] = rows[k];
		copy[k].file = site_strings_intern(strs, rows[k].file);
		if (!copy[k].file)
			return NULL;
	}
	return copy;
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
		err = run_push(&st->files, &st->nfiles, &st->cap_files, i, file);
	if (!err)
		err = run_push(&st->biases, &st->nbiases, &st->cap_biases, i, s->vaddr - s->offset);
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
	if ((r->bits >> FUNC_LINE_SHIFT & FUNC_LINE_MASK) == FUNC_LINE_EXTRA &&
	    (err = extra_push(st, i, EXTRA_FUNC_LINE, s->func_line)))
		return err;
	if ((s->flags & SITE_ROWS) && s->nrows) {
		const struct site_row *rows = own_rows(strs, s->rows, s->nrows);

		if (!rows)
			return errno == E2BIG ? -E2BIG : -ENOMEM;
		err = extra_push(st, i, EXTRA_ROWS, (uintptr_t)rows);
		if (!err)
			err = extra_push(st, i, EXTRA_NROWS, s->nrows);
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
		code = FUNC_LINE_EXTRA;
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
	out->vaddr = out->offset + st->biases[run_find(st->biases, st->nbiases, i)].value;
	out->probe_offset = site_store_probe_offset(st, i);
	out->size = r->size == SIZE_EXTRA ? extra_get(st, i, EXTRA_SIZE) : r->size;
	out->func = site_strings_at(strs, r->func);
	out->file = site_strings_at(strs, (uint32_t)st->files[run_find(st->files, st->nfiles, i)].value);
	out->line = r->line;
	out->func_line = !code ? 0 : code == FUNC_LINE_EXTRA ?
			 (uint32_t)extra_get(st, i, EXTRA_FUNC_LINE) : r->line - (code - 1);
	if (out->flags & SITE_ROWS) {
		out->rows = (const struct site_row *)(uintptr_t)extra_get(st, i, EXTRA_ROWS);
		out->nrows = (uint32_t)extra_get(st, i, EXTRA_NROWS);
	}
}

void site_store_truncate(struct site_store *st, size_t n)
{
	if (n < st->n)
		st->n = n;
	while (st->nfiles && st->files[st->nfiles - 1].first >= n)
		st->nfiles--;
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
	free(st->extras);
	*st = (struct site_store){};
}

size_t site_store_bytes(const struct site_store *st)
{
	return st->cap * sizeof(*st->recs) + st->cap_biases * sizeof(*st->biases) +
	       st->cap_files * sizeof(*st->files) + st->cap_extras * sizeof(*st->extras);
}
