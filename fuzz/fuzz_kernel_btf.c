// SPDX-License-Identifier: MIT
/*
 * The kernel BTF reader (kernel_btf_resolve()) on the members ukcov asks
 * the running kernel for (fuzz_kernel_btf.h: several structs, dotted
 * paths, array elements, a member in an anonymous union).
 *
 * The oracle is a second, deliberately naive reading of the BTF format
 * (linux/btf.h, the kernel's Documentation/bpf/btf.rst): one linear walk
 * gives every type id its record's offset, and records are read word by
 * word.  On it, the rules of kernel_btf.h (and the limits of
 * kernel_btf.c, which decide verdicts too).  For every field alone, both
 * must agree on the verdict, the offset and the size, and a resolved
 * member lies inside the struct the BTF names (but for a flexible array,
 * whose elements start at most at the struct's end).
 *
 * Then the whole list in one call: the error of the first field that
 * fails alone, with its index (none for -EINVAL), the fields before it
 * written as they were alone, the ones after it untouched.  The same call
 * on a copy at another 4-byte-aligned address gives the same; on a copy
 * at a misaligned one it is refused (records are read in place;
 * test_misaligned_blob in tests/unit/test_kernel_btf.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>

#include "fuzz_common.h"
#include "fuzz_kernel_btf.h"
#include "kernel_btf.h"

/*
 * kernel_btf.c's limits (private there, a copy here): a longer typedef or
 * qualifier chain is a loop; deeper anonymous members are not looked into;
 * a path component may look at this many members; a struct name may have
 * this many definitions.
 */
#define KB_MAX_HOPS 32
#define KB_MAX_ANON_DEPTH 8
#define KB_MEMBER_BUDGET 100000
#define KB_MAX_CANDIDATES 16

/* What no output holds until the reader writes it. */
#define UNSET 0xdeadbeefu

#define N FUZZ_BTF_NFIELDS

/* Grown, never shrunk: no allocation per input once the largest was seen. */
static void *grow(void *buf, size_t *cap, size_t want)
{
	if (want <= *cap)
		return buf;
	free(buf);
	buf = malloc(want);
	if (!buf)
		fuzz_fail("out of memory for %zu bytes", want);
	*cap = want;
	return buf;
}

/* ---- the naive reading ---------------------------------------------------- */

struct naive {
	const uint8_t *types;
	const char *strs;
	uint32_t types_len, strs_len;
	uint32_t ntypes;	/* ids 1..ntypes-1 exist */
	uint32_t *at;		/* at[id]: where record id starts in types */
};

/* One field's verdict; on success its offset and size, and the struct's. */
struct answer {
	int err;
	uint64_t off, size;
	uint64_t struct_size;
	bool flexible;		/* the member is an array of 0 elements */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Word @w (0: name_off, 1: info, 2: size or type, 3...: what follows) of record @id. */
static uint32_t word(const struct naive *nv, uint32_t id, uint32_t w)
{
	return rd32(nv->types + nv->at[id] + 4 * w);
}

static unsigned int kind_of(const struct naive *nv, uint32_t id)
{
	return (word(nv, id, 1) >> 24) & 0x1f;
}

static unsigned int vlen_of(const struct naive *nv, uint32_t id)
{
	return word(nv, id, 1) & 0xffff;
}

/* The bytes after the 12-byte header of a record of @kind, or -1: not a kind. */
static long extra_bytes(unsigned int kind, unsigned int vlen)
{
	switch (kind) {
	case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return 12;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_DATASEC: case BTF_KIND_ENUM64:
		return 12L * vlen;
	case BTF_KIND_ENUM: case BTF_KIND_FUNC_PROTO:
		return 8L * vlen;
	default:
		return -1;
	}
}

/*
 * The header, then every record once: 0, or -EINVAL as kernel_btf.h
 * defines it (a struct's name is checked here, a member's when it is
 * looked at).  @data is 4-byte aligned.
 */
static int naive_open(const uint8_t *data, size_t size, struct naive *nv)
{
	static uint32_t *at;
	static size_t cap;
	uint32_t hdr_len, type_off, type_len, str_off, str_len, off = 0, id = 1;

	if (size < 24 || data[0] != 0x9f || data[1] != 0xeb || data[2] != 1)
		return -EINVAL;
	hdr_len = rd32(data + 4);
	type_off = rd32(data + 8);
	type_len = rd32(data + 12);
	str_off = rd32(data + 16);
	str_len = rd32(data + 20);
	if (hdr_len < 24 || hdr_len > size ||
	    (uint64_t)hdr_len + type_off + type_len > size ||
	    (uint64_t)hdr_len + str_off + str_len > size || ((uint64_t)hdr_len + type_off) % 4)
		return -EINVAL;
	nv->types = data + hdr_len + type_off;
	nv->types_len = type_len;
	nv->strs = (const char *)data + hdr_len + str_off;
	nv->strs_len = str_len;
	if (!str_len || nv->strs[str_len - 1])
		return -EINVAL;
	at = grow(at, &cap, (type_len / 12 + 2) * sizeof(*at));
	nv->at = at;
	while (off < type_len) {
		uint32_t info;
		long extra;

		if (type_len - off < 12)
			return -EINVAL;
		info = rd32(nv->types + off + 4);
		extra = extra_bytes((info >> 24) & 0x1f, info & 0xffff);
		if (extra < 0 || (uint64_t)extra > type_len - off - 12)
			return -EINVAL;
		if (((info >> 24) & 0x1f) == BTF_KIND_STRUCT && rd32(nv->types + off) >= str_len &&
		    rd32(nv->types + off))
			return -EINVAL;
		at[id++] = off;
		off += 12 + extra;
	}
	nv->ntypes = id;
	return 0;
}

static bool is_qualifier(unsigned int kind)
{
	return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

/* @id past typedefs and qualifiers, in *@out (0: void); 0 or -EINVAL. */
static int strip(const struct naive *nv, uint32_t id, uint32_t *out)
{
	for (int hop = 0; hop < KB_MAX_HOPS; hop++) {
		if (!id) {
			*out = 0;
			return 0;
		}
		if (id >= nv->ntypes)
			return -EINVAL;
		if (!is_qualifier(kind_of(nv, id))) {
			*out = id;
			return 0;
		}
		id = word(nv, id, 2);
	}
	return -EINVAL;
}

static bool is_composite(const struct naive *nv, uint32_t id)
{
	return id && (kind_of(nv, id) == BTF_KIND_STRUCT || kind_of(nv, id) == BTF_KIND_UNION);
}

/* Bytes of type @id: 0, -EINVAL (bad id, loop, more than 4 GiB) or -EPROTO (no size). */
static int size_of(const struct naive *nv, uint32_t id, int depth, uint64_t *size)
{
	uint64_t elem;
	int err;

	if (depth > KB_MAX_HOPS)
		return -EINVAL;
	err = strip(nv, id, &id);
	if (err)
		return err;
	if (!id)
		return -EPROTO;
	switch (kind_of(nv, id)) {
	case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: case BTF_KIND_FLOAT:
		*size = word(nv, id, 2);
		return 0;
	case BTF_KIND_PTR:
		*size = KERNEL_BTF_PTR_SIZE;
		return 0;
	case BTF_KIND_ARRAY:
		/* struct btf_array: type, index_type, nelems. */
		err = size_of(nv, word(nv, id, 3), depth + 1, &elem);
		if (err)
			return err;
		*size = elem * word(nv, id, 5);
		return *size > UINT32_MAX ? -EINVAL : 0;
	default:
		return -EPROTO;
	}
}

/*
 * The first member named @name (@len bytes) of struct or union @id, in C's
 * order, anonymous members looked into: its bit offset and type.
 */
static int find(const struct naive *nv, uint32_t id, const char *name, size_t len, int depth,
		unsigned int *budget, uint64_t *bits, uint32_t *type)
{
	bool kflag = word(nv, id, 1) >> 31;

	for (unsigned int i = 0; i < vlen_of(nv, id); i++) {
		/* struct btf_member: name_off, type, offset. */
		uint32_t name_off = word(nv, id, 3 + 3 * i), mtype = word(nv, id, 4 + 3 * i);
		uint32_t where = word(nv, id, 5 + 3 * i);
		uint64_t at = kflag ? where & 0xffffff : where, inner_bits;
		uint32_t inner;
		int err;

		if (!(*budget)--)
			return -EINVAL;
		if (name_off) {
			if (name_off >= nv->strs_len)
				return -EINVAL;
			if (strlen(nv->strs + name_off) != len || memcmp(nv->strs + name_off, name, len))
				continue;
			if (kflag && where >> 24)
				return -EPROTO;	/* a bitfield */
			*bits = at;
			*type = mtype;
			return 0;
		}
		if (depth >= KB_MAX_ANON_DEPTH)
			continue;
		err = strip(nv, mtype, &inner);
		if (err)
			return err;
		if (!is_composite(nv, inner))
			continue;
		err = find(nv, inner, name, len, depth + 1, budget, &inner_bits, type);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		*bits = at + inner_bits;
		return 0;
	}
	return -ENOENT;
}

/* @f in the struct @id. */
static struct answer find_in(const struct naive *nv, uint32_t id, const struct fuzz_btf_field *f)
{
	struct answer a = { .struct_size = word(nv, id, 2) };
	const char *p = f->path;
	uint64_t msize = 0, elem;

	for (;;) {
		size_t len = strcspn(p, ".");
		unsigned int budget = KB_MEMBER_BUDGET;
		uint64_t bits;
		uint32_t type;

		if (!len)
			return a.err = -ENOENT, a;
		if (!is_composite(nv, id))
			return a.err = -EPROTO, a;
		a.err = find(nv, id, p, len, 0, &budget, &bits, &type);
		if (!a.err && bits % 8)
			a.err = -EPROTO;
		if (!a.err)
			a.err = size_of(nv, type, 0, &msize);
		if (!a.err && bits / 8 + msize > word(nv, id, 2))
			a.err = -EINVAL;	/* past the end of its struct */
		if (!a.err)
			a.err = strip(nv, type, &id);
		if (a.err)
			return a;
		a.off += bits / 8;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (id && kind_of(nv, id) == BTF_KIND_ARRAY) {
		uint32_t nelems = word(nv, id, 5);

		a.err = size_of(nv, word(nv, id, 3), 0, &elem);
		if (a.err)
			return a;
		if (f->index && f->index >= nelems)
			return a.err = -EPROTO, a;
		a.off += f->index * elem;
		msize = elem;
		a.flexible = !nelems;
	} else if (f->index) {
		return a.err = -EPROTO, a;
	}
	if ((f->size && msize != f->size) || a.off > UINT32_MAX || msize > UINT32_MAX)
		return a.err = -EPROTO, a;
	a.size = msize;
	return a;
}

/* @f in every struct of its name, which must agree (kernel_btf.h). */
static struct answer naive_field(const struct naive *nv, const struct fuzz_btf_field *f)
{
	struct answer got = { .err = -ENOENT }, a;
	unsigned int ncand = 0;
	bool found = false;

	for (uint32_t id = 1; id < nv->ntypes; id++) {
		uint32_t name = word(nv, id, 0);

		if (kind_of(nv, id) == BTF_KIND_STRUCT && name && !strcmp(nv->strs + name, f->type))
			ncand++;
	}
	if (ncand > KB_MAX_CANDIDATES)
		return got.err = -EPROTO, got;
	for (uint32_t id = 1; id < nv->ntypes; id++) {
		uint32_t name = word(nv, id, 0);

		if (kind_of(nv, id) != BTF_KIND_STRUCT || !name || strcmp(nv->strs + name, f->type))
			continue;
		a = find_in(nv, id, f);
		if (a.err == -EINVAL)
			return a;
		if (a.err == -EPROTO && !found)
			got.err = -EPROTO;
		if (a.err)
			continue;
		if (found && (a.off != got.off || a.size != got.size))
			return got.err = -EPROTO, got;
		if (!found)
			got = a;
		found = true;
	}
	return got;
}

/* ---- the checks ------------------------------------------------------------ */

static void set_up(struct kernel_btf_field *kf, uint32_t *off, uint32_t *esize)
{
	for (size_t i = 0; i < N; i++) {
		const struct fuzz_btf_field *f = &fuzz_btf_fields[i];

		off[i] = esize[i] = UNSET;
		kf[i] = (struct kernel_btf_field){ f->type, f->path, f->index, f->size, &off[i],
						   f->elem_size ? &esize[i] : NULL };
	}
}

/* One call over the whole list. */
struct whole {
	int err;
	size_t failed;
	uint32_t off[N], esize[N];
};

static struct whole resolve_all(const uint8_t *data, size_t size)
{
	struct kernel_btf_field kf[N];
	struct whole w = { .failed = N };

	set_up(kf, w.off, w.esize);
	w.err = kernel_btf_resolve(data, size, kf, N, &w.failed);
	return w;
}

static bool is_documented(int err)
{
	return !err || err == -EINVAL || err == -ENOENT || err == -EPROTO || err == -ENOMEM;
}

/* FUZZ_VERBOSE=1: one line per input, to see what a seed reaches. */
static int verbose = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *copy;
	static size_t cap;
	struct kernel_btf_field kf[N];
	uint32_t off[N], esize[N];
	struct answer alone[N] = {};
	struct whole all, again;
	struct naive nv;
	bool nomem = false;
	size_t first = N, nresolved = 0;
	int open_err;

	/* libFuzzer and the replay hand over heap copies: 4-byte aligned at least. */
	fuzz_check((uintptr_t)data % 4 == 0);
	open_err = naive_open(data, size, &nv);

	/* Each field alone against the naive reading. */
	set_up(kf, off, esize);
	for (size_t i = 0; i < N; i++) {
		const struct fuzz_btf_field *f = &fuzz_btf_fields[i];
		size_t failed = 1;
		struct answer want;
		int err;

		err = kernel_btf_resolve(data, size, &kf[i], 1, &failed);
		fuzz_check(is_documented(err));
		if (err == -ENOMEM) {
			nomem = true;
			continue;
		}
		want = open_err ? (struct answer){ .err = open_err } : naive_field(&nv, f);
		if (err != want.err)
			fuzz_fail("%s.%s[%u]: reader says %d, the format says %d", f->type, f->path,
				  f->index, err, want.err);
		alone[i] = want;
		if (err) {
			fuzz_check(off[i] == UNSET && esize[i] == UNSET);
			fuzz_check(failed == (err == -EINVAL ? 1u : 0u));
			if (first == N)
				first = i;
			continue;
		}
		nresolved++;
		fuzz_check(failed == 1);
		if (off[i] != want.off || (f->elem_size && esize[i] != want.size))
			fuzz_fail("%s.%s[%u]: reader says %u (%u bytes), the format says %llu (%llu)",
				  f->type, f->path, f->index, off[i], esize[i],
				  (unsigned long long)want.off, (unsigned long long)want.size);
		if (!f->elem_size)
			fuzz_check(esize[i] == UNSET);
		/* Inside its struct; a flexible array's first element may start at its end. */
		fuzz_check(want.off + want.size <= want.struct_size ||
			   (want.flexible && want.off <= want.struct_size));
	}

	/* The whole list: stopped by the first field that fails alone, with its error. */
	all = resolve_all(data, size);
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz_kernel_btf: %zu bytes: %d (field %zu), %zu of %zu alone\n",
			size, all.err, all.failed, nresolved, N);
	fuzz_check(is_documented(all.err));
	if (!nomem && all.err != -ENOMEM) {
		fuzz_check(all.err == (first < N ? alone[first].err : 0));
		fuzz_check(all.failed == (first == N || all.err == -EINVAL ? N : first));
		for (size_t i = 0; i < N; i++) {
			const struct fuzz_btf_field *f = &fuzz_btf_fields[i];

			if (i < first) {
				fuzz_check(all.off[i] == alone[i].off);
				fuzz_check(all.esize[i] == (f->elem_size ? alone[i].size : UNSET));
			} else {
				fuzz_check(all.off[i] == UNSET && all.esize[i] == UNSET);
			}
		}
	}

	/* Another aligned address (4 mod 8): the same answers. */
	copy = grow(copy, &cap, size + 8);
	memcpy(copy + 4, data, size);
	again = resolve_all(copy + 4, size);
	if (all.err != -ENOMEM && again.err != -ENOMEM) {
		fuzz_check(again.err == all.err && again.failed == all.failed);
		fuzz_check(!memcmp(again.off, all.off, sizeof(all.off)));
		fuzz_check(!memcmp(again.esize, all.esize, sizeof(all.esize)));
	}
	/* Misaligned ones: refused before anything is read or written. */
	for (size_t shift = 1; shift < 4; shift++) {
		memcpy(copy + shift, data, size);
		again = resolve_all(copy + shift, size);
		fuzz_check(again.err == -EINVAL && again.failed == N);
		for (size_t i = 0; i < N; i++)
			fuzz_check(again.off[i] == UNSET && again.esize[i] == UNSET);
	}
	return 0;
}
