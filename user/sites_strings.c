// SPDX-License-Identifier: MIT
/*
 * The site table's string pool (see sites_strings.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "sites_strings.h"

/* A chunk's offsets fit the low 16 bits of an id. */
#define CHUNK_SIZE (1u << 16)
/* Chunk numbers fit the high 16 bits; 0 is no chunk (id 0 is NULL). */
#define MAX_CHUNKS ((1u << 16) - 1)

struct chunk {
	char *data;
	size_t used, cap;
};

/* Chunks in address order, for finding the one that holds a pointer. */
struct by_addr {
	uintptr_t start;
	size_t end;		/* bytes from start */
	uint32_t index;
};

struct chunk_set {
	struct chunk *v;	/* [0] unused: chunk numbers start at 1 */
	size_t n, cap;		/* n counts [0] */
	struct by_addr *sorted;
	size_t cap_sorted;
};

struct site_strings {
	struct chunk_set strs;	/* NUL-terminated strings, back to back */
	struct chunk_set blocks;	/* site_strings_alloc() */
	uint32_t *slots;	/* hash index: ids, 0 empty; NULL when sealed */
	size_t nslots;		/* a power of two */
	size_t nstrings;	/* distinct strings stored */
};

struct site_strings *site_strings_new(void)
{
	return calloc(1, sizeof(struct site_strings));
}

static void chunk_set_free(struct chunk_set *cs)
{
	for (size_t i = 1; i < cs->n; i++)
		free(cs->v[i].data);
	free(cs->v);
	free(cs->sorted);
}

void site_strings_free(struct site_strings *s)
{
	if (!s)
		return;
	chunk_set_free(&s->strs);
	chunk_set_free(&s->blocks);
	free(s->slots);
	free(s);
}

/* Adds a chunk of @cap bytes; returns its number or 0 (errno set). */
static uint32_t chunk_add(struct chunk_set *cs, size_t cap)
{
	size_t n = cs->n ? cs->n : 1, i;
	char *data;

	if (n > MAX_CHUNKS) {
		errno = E2BIG;
		return 0;
	}
	if (ARRAY_GROW(cs->v, cs->cap, n + 1, 8) ||
	    ARRAY_GROW(cs->sorted, cs->cap_sorted, n, 8)) {
		errno = ENOMEM;
		return 0;
	}
	data = malloc(cap);
	if (!data)
		return 0;
	cs->v[n] = (struct chunk){ data, 0, cap };
	/* Insertion into the address order: a table has tens of chunks. */
	for (i = n - 1; i > 0 && cs->sorted[i - 1].start > (uintptr_t)data; i--)
		cs->sorted[i] = cs->sorted[i - 1];
	cs->sorted[i] = (struct by_addr){ (uintptr_t)data, cap, n };
	cs->n = n + 1;
	return n;
}

/* The chunk holding the byte at @p, or 0. */
static uint32_t chunk_of(const struct chunk_set *cs, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	size_t lo = 0, hi = cs->n ? cs->n - 1 : 0;

	/* The last chunk starting at or below @a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cs->sorted[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	lo--;
	return a - cs->sorted[lo].start < cs->sorted[lo].end ? cs->sorted[lo].index : 0;
}

uint32_t site_strings_id(const struct site_strings *s, const char *p)
{
	uint32_t c = p ? chunk_of(&s->strs, p) : 0;

	if (!c || (size_t)(p - s->strs.v[c].data) >= s->strs.v[c].used)
		return 0;
	return c << 16 | (uint32_t)(p - s->strs.v[c].data);
}

const char *site_strings_at(const struct site_strings *s, uint32_t id)
{
	return id ? s->strs.v[id >> 16].data + (id & 0xffff) : NULL;
}

/* FNV-1a: short strings, no need for anything stronger. */
static uint64_t hash(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 0x100000001b3ULL;
	return h;
}

static uint32_t *slot_of(const struct site_strings *s, uint32_t *slots, size_t nslots,
			 const char *str)
{
	size_t i = hash(str) & (nslots - 1);

	while (slots[i] && strcmp(site_strings_at(s, slots[i]), str))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* An index of @nslots slots holding every stored string. */
static int index_build(struct site_strings *s, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t c = 1; c < s->strs.n; c++) {
		const struct chunk *ch = &s->strs.v[c];

		for (size_t off = 0; off < ch->used; off += strlen(ch->data + off) + 1) {
			uint32_t id = (uint32_t)c << 16 | (uint32_t)off;

			*slot_of(s, slots, nslots, site_strings_at(s, id)) = id;
		}
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	return 0;
}

void site_strings_seal(struct site_strings *s)
{
	free(s->slots);
	s->slots = NULL;
	s->nslots = 0;
}

/* Stores @str (@len bytes with its NUL); returns its id or 0 (errno set). */
static uint32_t store(struct site_strings *s, const char *str, size_t len)
{
	struct chunk_set *cs = &s->strs;
	uint32_t c = cs->n > 1 ? (uint32_t)cs->n - 1 : 0;
	size_t off;

	/* Offsets must fit 16 bits: a long string is a chunk of its own. */
	if (!c || cs->v[c].cap - cs->v[c].used < len || cs->v[c].used >= CHUNK_SIZE) {
		c = chunk_add(cs, len > CHUNK_SIZE ? len : CHUNK_SIZE);
		if (!c)
			return 0;
	}
	off = cs->v[c].used;
	memcpy(cs->v[c].data + off, str, len);
	cs->v[c].used += len;
	return c << 16 | (uint32_t)off;
}

char *site_strings_intern_id(struct site_strings *s, const char *str, uint32_t *id)
{
	size_t want = s->nslots ? s->nslots : 256;
	uint32_t *slot;

	/* Keep the load under one half so probing stays short. */
	while ((s->nstrings + 1) * 2 > want)
		want *= 2;
	if (want != s->nslots && index_build(s, want)) {
		errno = ENOMEM;
		return NULL;
	}
	slot = slot_of(s, s->slots, s->nslots, str);
	if (!*slot) {
		uint32_t new_id = store(s, str, strlen(str) + 1);

		if (!new_id)
			return NULL;
		*slot = new_id;
		s->nstrings++;
	}
	if (id)
		*id = *slot;
	return (char *)site_strings_at(s, *slot);
}

char *site_strings_intern(struct site_strings *s, const char *str)
{
	return site_strings_intern_id(s, str, NULL);
}

void *site_strings_alloc(struct site_strings *s, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct chunk_set *cs = &s->blocks;
	uint32_t c = cs->n > 1 ? (uint32_t)cs->n - 1 : 0;
	size_t pad = 0;
	void *p;

	if (size > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	if (c)
		pad = -(uintptr_t)(cs->v[c].data + cs->v[c].used) & (align - 1);
	/* Offsets must fit 16 bits, as for strings. */
	if (!c || cs->v[c].cap - cs->v[c].used < pad + size ||
	    cs->v[c].used + pad >= CHUNK_SIZE) {
		/* malloc() aligns for max_align_t: a new chunk needs no pad. */
		c = chunk_add(cs, size > CHUNK_SIZE ? size : CHUNK_SIZE);
		if (!c)
			return NULL;
		pad = 0;
	}
	p = cs->v[c].data + cs->v[c].used + pad;
	cs->v[c].used += pad + size;
	memset(p, 0, size);
	return p;
}

uint32_t site_strings_block_id(const struct site_strings *s, const void *p)
{
	uint32_t c = p ? chunk_of(&s->blocks, p) : 0;

	if (!c || (size_t)((const char *)p - s->blocks.v[c].data) >= s->blocks.v[c].used)
		return 0;
	return c << 16 | (uint32_t)((const char *)p - s->blocks.v[c].data);
}

const void *site_strings_block_at(const struct site_strings *s, uint32_t id)
{
	return id ? s->blocks.v[id >> 16].data + (id & 0xffff) : NULL;
}

size_t site_strings_bytes(const struct site_strings *s)
{
	size_t bytes = sizeof(*s) + s->nslots * sizeof(*s->slots);
	const struct chunk_set *sets[] = { &s->strs, &s->blocks };

	for (size_t k = 0; k < 2; k++) {
		bytes += sets[k]->cap * sizeof(*sets[k]->v) +
			 sets[k]->cap_sorted * sizeof(*sets[k]->sorted);
		for (size_t c = 1; c < sets[k]->n; c++)
			bytes += sets[k]->v[c].cap;
	}
	return bytes;
}
