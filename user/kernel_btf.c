// SPDX-License-Identifier: MIT
/*
 * Member offsets from a BTF blob: one pass over the type records finds
 * the structs by name and indexes every 64th record, so that a type id
 * is then found by skipping at most 63 records.  See kernel_btf.h for why
 * ukcov does not let libbpf do this.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/btf.h>

#include "kernel_btf.h"

/* Type records between two entries of the sparse index. */
#define INDEX_STRIDE 64
/* Typedef/qualifier chains and nested anonymous members: deeper is a loop or junk. */
#define MAX_HOPS 32
#define MAX_ANON_DEPTH 8
/*
 * Members find_member() may look at for one path component: a corrupt
 * blob could make anonymous members nest into themselves, 65535 wide.
 * The largest kernel struct, with everything nested in it, has a few
 * hundred.
 */
#define MEMBER_BUDGET 100000
/* Definitions of one struct name a blob may have (vmlinux has one per name). */
#define MAX_CANDIDATES 16
/* Larger than any kernel's BTF by far; a guard against a bogus st_size. */
#define MAX_FILE_SIZE (1u << 30)

struct view {
	const uint8_t *types;		/* the type section */
	uint32_t types_len;
	const char *strs;		/* the string section, NUL-terminated */
	uint32_t strs_len;
	uint32_t ntypes;		/* ids 1..ntypes-1 exist; 0 is void */
	uint32_t *index;		/* index[k]: offset in types of id k * INDEX_STRIDE + 1 */
};

/* A struct name the fields ask for, and the ids of the structs that have it. */
struct wanted {
	const char *name;
	uint32_t ids[MAX_CANDIDATES];
	unsigned int nids;
	bool too_many;
};

/*
 * The size of the record at @p, of which @left bytes are in the section.
 * Returns 0, or -EINVAL when it does not fit or its kind is unknown (its
 * size then is too, and so is where the next record starts).
 */
static int record_size(const uint8_t *p, size_t left, size_t *size)
{
	const struct btf_type *t = (const void *)p;
	size_t vlen, extra;

	if (left < sizeof(*t))
		return -EINVAL;
	vlen = BTF_INFO_VLEN(t->info);
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
		extra = sizeof(uint32_t);
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		extra = 0;
		break;
	case BTF_KIND_ARRAY:
		extra = sizeof(struct btf_array);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		extra = vlen * sizeof(struct btf_member);
		break;
	case BTF_KIND_ENUM:
		extra = vlen * sizeof(struct btf_enum);
		break;
	case BTF_KIND_FUNC_PROTO:
		extra = vlen * sizeof(struct btf_param);
		break;
	case BTF_KIND_VAR:
		extra = sizeof(struct btf_var);
		break;
	case BTF_KIND_DATASEC:
		extra = vlen * sizeof(struct btf_var_secinfo);
		break;
	case BTF_KIND_DECL_TAG:
		extra = sizeof(struct btf_decl_tag);
		break;
	case BTF_KIND_ENUM64:
		extra = vlen * sizeof(struct btf_enum64);
		break;
	default:
		return -EINVAL;
	}
	if (extra > left - sizeof(*t))
		return -EINVAL;
	*size = sizeof(*t) + extra;
	return 0;
}

/* The string at @off, or NULL when @off is outside the string section. */
static const char *str_at(const struct view *v, uint32_t off)
{
	return off < v->strs_len ? v->strs + off : NULL;
}

/* Type @id (not void), or NULL when there is none. */
static const struct btf_type *type_by_id(const struct view *v, uint32_t id)
{
	size_t off, size;

	if (id == 0 || id >= v->ntypes)
		return NULL;
	off = v->index[(id - 1) / INDEX_STRIDE];
	/* Every record was sized once already: these cannot fail. */
	for (uint32_t skip = (id - 1) % INDEX_STRIDE; skip; skip--) {
		if (record_size(v->types + off, v->types_len - off, &size))
			return NULL;
		off += size;
	}
	return (const void *)(v->types + off);
}

/*
 * Type @id with typedefs and qualifiers skipped, in *@out (NULL: void).
 * Returns 0, or -EINVAL for a type id that does not exist or a loop.
 */
static int resolve(const struct view *v, uint32_t id, const struct btf_type **out)
{
	for (int hops = 0; hops < MAX_HOPS; hops++) {
		const struct btf_type *t;

		if (id == 0) {
			*out = NULL;
			return 0;
		}
		t = type_by_id(v, id);
		if (!t)
			return -EINVAL;
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default:
			*out = t;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_composite(const struct btf_type *t)
{
	return t && (BTF_INFO_KIND(t->info) == BTF_KIND_STRUCT ||
		     BTF_INFO_KIND(t->info) == BTF_KIND_UNION);
}

/*
 * The size in bytes of type @id.  Returns 0, -EINVAL (bad id, loop,
 * overflow) or -EPROTO for a type without a size (void, a forward
 * declaration, a function).
 */
static int type_size(const struct view *v, uint32_t id, uint64_t *size, int depth)
{
	const struct btf_type *t;
	const struct btf_array *a;
	uint64_t elem;
	int err;

	if (depth > MAX_HOPS)
		return -EINVAL;
	err = resolve(v, id, &t);
	if (err)
		return err;
	if (!t)
		return -EPROTO;
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_FLOAT:
		*size = t->size;
		return 0;
	case BTF_KIND_PTR:
		*size = KERNEL_BTF_PTR_SIZE;
		return 0;
	case BTF_KIND_ARRAY:
		a = (const void *)(t + 1);
		err = type_size(v, a->type, &elem, depth + 1);
		if (err)
			return err;
		if (elem && a->nelems > UINT32_MAX / elem)
			return -EINVAL;
		*size = elem * a->nelems;
		return 0;
	default:
		return -EPROTO;
	}
}

/*
 * The member @name (@len bytes, not NUL-terminated) of struct or union
 * @t, looking through anonymous members: its bit offset from the start
 * of @t and its type id.  *@budget is how many more members it may look
 * at.  Returns 0, -ENOENT, -EPROTO (a bitfield) or -EINVAL (a bad string
 * or type id, or the budget spent).
 */
static int find_member(const struct view *v, const struct btf_type *t, const char *name,
		       size_t len, int depth, unsigned int *budget, uint64_t *bit_off,
		       uint32_t *type)
{
	const struct btf_member *m = (const void *)(t + 1);
	bool kflag = BTF_INFO_KFLAG(t->info);

	for (unsigned int i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		uint32_t off = kflag ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
		uint32_t bits = kflag ? BTF_MEMBER_BITFIELD_SIZE(m[i].offset) : 0;
		const struct btf_type *inner;
		uint64_t inner_off;
		int err;

		if (*budget == 0)
			return -EINVAL;
		--*budget;
		if (m[i].name_off) {
			const char *s = str_at(v, m[i].name_off);

			if (!s)
				return -EINVAL;
			if (strncmp(s, name, len) || s[len])
				continue;
			if (bits)
				return -EPROTO;
			*bit_off = off;
			*type = m[i].type;
			return 0;
		}
		if (depth >= MAX_ANON_DEPTH)
			continue;
		err = resolve(v, m[i].type, &inner);
		if (err)
			return err;
		if (!is_composite(inner))
			continue;
		err = find_member(v, inner, name, len, depth + 1, budget, &inner_off, type);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		*bit_off = off + inner_off;
		return 0;
	}
	return -ENOENT;
}

/* @f's offset and size in the struct @t.  Returns 0 or what kernel_btf_resolve() says. */
static int resolve_in(const struct view *v, const struct btf_type *t,
		      const struct kernel_btf_field *f, uint64_t *offset, uint64_t *size)
{
	const char *p = f->path;
	uint64_t off = 0, msize = 0, elem;
	uint32_t mtype = 0;
	int err;

	for (;;) {
		size_t len = strcspn(p, ".");
		unsigned int budget = MEMBER_BUDGET;
		uint64_t bit_off;

		if (len == 0)
			return -ENOENT;
		if (!is_composite(t))
			return -EPROTO;
		err = find_member(v, t, p, len, 0, &budget, &bit_off, &mtype);
		if (err)
			return err;
		if (bit_off % 8)
			return -EPROTO;
		err = type_size(v, mtype, &msize, 0);
		if (err)
			return err;
		/* A member reaching past its struct is a corrupt record. */
		if (bit_off / 8 + msize > t->size)
			return -EINVAL;
		off += bit_off / 8;
		err = resolve(v, mtype, &t);
		if (err)
			return err;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (t && BTF_INFO_KIND(t->info) == BTF_KIND_ARRAY) {
		const struct btf_array *a = (const void *)(t + 1);

		err = type_size(v, a->type, &elem, 0);
		if (err)
			return err;
		/* nelems 0: a flexible array, whose length the BTF does not know. */
		if (f->index && f->index >= a->nelems)
			return -EPROTO;
		off += (uint64_t)f->index * elem;
		msize = elem;
	} else if (f->index) {
		return -EPROTO;
	}
	if (f->size && msize != f->size)
		return -EPROTO;
	if (off > UINT32_MAX || msize > UINT32_MAX)
		return -EPROTO;
	*offset = off;
	*size = msize;
	return 0;
}

/* @f in every struct of its name: they must agree.  Returns 0 or a kernel_btf_resolve() error. */
static int resolve_field(const struct view *v, const struct wanted *w,
			 const struct kernel_btf_field *f)
{
	uint64_t off = 0, size = 0;
	bool found = false;
	int best = -ENOENT;

	if (w->too_many)
		return -EPROTO;
	for (unsigned int i = 0; i < w->nids; i++) {
		uint64_t o, s;
		int err = resolve_in(v, type_by_id(v, w->ids[i]), f, &o, &s);

		if (err == -EINVAL || err == -ENOMEM)
			return err;
		if (err) {
			if (err == -EPROTO)
				best = err;
			continue;
		}
		if (found && (o != off || s != size))
			return -EPROTO;
		found = true;
		off = o;
		size = s;
	}
	if (!found)
		return best;
	*f->offset = off;
	if (f->elem_size)
		*f->elem_size = size;
	return 0;
}

/* Checks the header; sets the sections of @v.  Returns 0 or -EINVAL. */
static int parse_header(const void *data, size_t len, struct view *v)
{
	struct btf_header h;
	uint64_t types_end, strs_end;

	if (len < sizeof(h) || (uintptr_t)data % sizeof(uint32_t))
		return -EINVAL;
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION || h.hdr_len < sizeof(h) ||
	    h.hdr_len > len)
		return -EINVAL;
	types_end = (uint64_t)h.hdr_len + h.type_off + h.type_len;
	strs_end = (uint64_t)h.hdr_len + h.str_off + h.str_len;
	/* Records are read in place: they must start 4-byte aligned. */
	if (types_end > len || strs_end > len || (h.hdr_len + (uint64_t)h.type_off) % 4)
		return -EINVAL;
	v->types = (const uint8_t *)data + h.hdr_len + h.type_off;
	v->types_len = h.type_len;
	v->strs = (const char *)data + h.hdr_len + h.str_off;
	v->strs_len = h.str_len;
	/* Then every offset inside the section names a terminated string. */
	if (v->strs_len == 0 || v->strs[v->strs_len - 1] != '\0')
		return -EINVAL;
	return 0;
}

/*
 * The one pass over the records: sizes each one, indexes every
 * INDEX_STRIDE-th, and notes the structs whose names @want has.
 */
static int scan(struct view *v, struct wanted *want, size_t nwant)
{
	size_t off = 0, size;
	uint32_t id = 1;
	int err;

	/* A record is at least a struct btf_type: this bounds the ids. */
	v->index = malloc((v->types_len / sizeof(struct btf_type) / INDEX_STRIDE + 1) *
			  sizeof(*v->index));
	if (!v->index)
		return -ENOMEM;
	for (; off < v->types_len; off += size, id++) {
		const struct btf_type *t = (const void *)(v->types + off);
		const char *name;

		err = record_size(v->types + off, v->types_len - off, &size);
		if (err)
			return err;
		if ((id - 1) % INDEX_STRIDE == 0)
			v->index[(id - 1) / INDEX_STRIDE] = off;
		if (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT || !t->name_off)
			continue;
		name = str_at(v, t->name_off);
		if (!name)
			return -EINVAL;
		for (size_t i = 0; i < nwant; i++) {
			struct wanted *w = &want[i];

			if (name[0] != w->name[0] || strcmp(name, w->name))
				continue;
			if (w->nids == MAX_CANDIDATES)
				w->too_many = true;
			else
				w->ids[w->nids++] = id;
			break;
		}
	}
	v->ntypes = id;
	return 0;
}

int kernel_btf_resolve(const void *data, size_t len, const struct kernel_btf_field *fields,
		       size_t n, size_t *failed)
{
	struct view v = {};
	struct wanted *want = NULL;
	size_t nwant = 0, *which = NULL;
	int err;

	err = parse_header(data, len, &v);
	if (err)
		return err;
	want = calloc(n ? n : 1, sizeof(*want));
	which = calloc(n ? n : 1, sizeof(*which));
	if (!want || !which) {
		err = -ENOMEM;
		goto out;
	}
	/* Each distinct struct name once; which[i] is field i's. */
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < nwant; j++)
			if (!strcmp(want[j].name, fields[i].type))
				break;
		if (j == nwant)
			want[nwant++].name = fields[i].type;
		which[i] = j;
	}
	err = scan(&v, want, nwant);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		err = resolve_field(&v, &want[which[i]], &fields[i]);
		if (err) {
			if (failed && err != -EINVAL)
				*failed = i;
			goto out;
		}
	}
out:
	free(v.index);
	free(which);
	free(want);
	return err;
}

int kernel_btf_resolve_file(const char *path, unsigned int flags,
			    const struct kernel_btf_field *fields, size_t n, size_t *failed)
{
	void *map = MAP_FAILED;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	/* sysfs gives the BTF's size as the file's. */
	if (st.st_size <= 0 || (uint64_t)st.st_size > MAX_FILE_SIZE) {
		err = -EINVAL;
		goto out;
	}
	if (!(flags & KERNEL_BTF_NO_MMAP))
		map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map != MAP_FAILED) {
		err = kernel_btf_resolve(map, st.st_size, fields, n, failed);
		goto out;
	}
	/* Kernels before 6.16 cannot map their BTF: a copy, then. */
	buf = malloc(st.st_size);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + len, st.st_size - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto out;
		}
		if (got == 0)
			break;
		len += got;
	}
	err = kernel_btf_resolve(buf, len, fields, n, failed);
out:
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	free(buf);
	close(fd);
	return err;
}
