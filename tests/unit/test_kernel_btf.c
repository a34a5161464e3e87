// SPDX-License-Identifier: MIT
/*
 * Unit tests for user/kernel_btf.c: member offsets from BTF blobs that
 * libbpf's BTF writer builds (so the layout is the format's, not ours),
 * blobs cut short or corrupted, and the running kernel's BTF against
 * libbpf's own reading of it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/btf.h>
#include <linux/btf.h>

#include "testutil.h"

#include "kernel_btf.h"

/* A malloc'd copy of @btf's raw blob, of exactly its size (ASan sees overruns). */
static uint8_t *raw_copy(const struct btf *btf, size_t *len)
{
	__u32 size;
	const void *raw = btf__raw_data(btf, &size);
	uint8_t *copy;

	assert_non_null(raw);
	copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, raw, size);
	*len = size;
	return copy;
}

/*
 * The kernel's shapes in small:
 *   struct path { void *mnt; struct dentry *dentry; };            16
 *   struct file { int a; union { long x; struct { int y; int f_flags; }; };
 *                 struct path f_path; const struct inode *f_inode;
 *                 unsigned int bits:3; };                          40
 *   struct upid { int nr; void *ns; };                             16
 *   struct pid { int count; unsigned int level; struct upid numbers[]; }  8
 *   struct regs { long regs[31]; long sp; };                      256
 *   typedef int pid_t;  struct task { pid_t pid; pid_t tgid; struct task *leader; }  16
 */
static struct btf *sample_btf(void)
{
	struct btf *b = btf__new_empty();
	int i_int, i_uint, i_long, p_void, s_dentry, p_dentry, s_path, s_inode, c_inode, p_inode;
	int u_anon, s_anon, s_file, s_upid, s_pid, a_upid, a_long, s_regs, t_pid, s_task, p_task;

	assert_non_null(b);
	i_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	i_uint = btf__add_int(b, "unsigned int", 4, 0);
	i_long = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	p_void = btf__add_ptr(b, 0);
	s_dentry = btf__add_fwd(b, "dentry", BTF_FWD_STRUCT);
	p_dentry = btf__add_ptr(b, s_dentry);
	s_path = btf__add_struct(b, "path", 16);
	assert_int_equal(btf__add_field(b, "mnt", p_void, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "dentry", p_dentry, 64, 0), 0);
	s_inode = btf__add_fwd(b, "inode", BTF_FWD_STRUCT);
	c_inode = btf__add_const(b, s_inode);
	p_inode = btf__add_ptr(b, c_inode);
	s_anon = btf__add_struct(b, NULL, 8);
	assert_int_equal(btf__add_field(b, "y", i_int, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "f_flags", i_int, 32, 0), 0);
	u_anon = btf__add_union(b, NULL, 8);
	assert_int_equal(btf__add_field(b, "x", i_long, 0, 0), 0);
	assert_int_equal(btf__add_field(b, NULL, s_anon, 0, 0), 0);
	s_file = btf__add_struct(b, "file", 40);
	assert_int_equal(btf__add_field(b, "a", i_int, 0, 0), 0);
	assert_int_equal(btf__add_field(b, NULL, u_anon, 64, 0), 0);
	assert_int_equal(btf__add_field(b, "f_path", s_path, 128, 0), 0);
	assert_int_equal(btf__add_field(b, "f_inode", p_inode, 256, 0), 0);
	assert_int_equal(btf__add_field(b, "bits", i_uint, 288, 3), 0);
	s_upid = btf__add_struct(b, "upid", 16);
	assert_int_equal(btf__add_field(b, "nr", i_int, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "ns", p_void, 64, 0), 0);
	a_upid = btf__add_array(b, i_int, s_upid, 0);
	s_pid = btf__add_struct(b, "pid", 8);
	assert_int_equal(btf__add_field(b, "count", i_int, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "level", i_uint, 32, 0), 0);
	assert_int_equal(btf__add_field(b, "numbers", a_upid, 64, 0), 0);
	a_long = btf__add_array(b, i_int, i_long, 31);
	s_regs = btf__add_struct(b, "regs", 256);
	assert_int_equal(btf__add_field(b, "regs", a_long, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "sp", i_long, 31 * 64, 0), 0);
	t_pid = btf__add_typedef(b, "pid_t", i_int);
	/* The pointer first: fields go to the type added last. */
	p_task = btf__add_ptr(b, btf__type_cnt(b) + 1);
	s_task = btf__add_struct(b, "task", 16);
	assert_int_equal(p_task, s_task - 1);
	assert_int_equal(btf__add_field(b, "pid", t_pid, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "tgid", t_pid, 32, 0), 0);
	assert_int_equal(btf__add_field(b, "leader", p_task, 64, 0), 0);
	assert_true(s_regs > 0 && s_file > 0 && s_pid > 0);
	return b;
}

/* kernel_btf_resolve() of one field on @btf's blob; its offset and size in *@off, *@size. */
static int resolve_one(const struct btf *btf, const char *type, const char *path,
		       unsigned int index, unsigned int size, uint32_t *off, uint32_t *esize)
{
	struct kernel_btf_field f = { type, path, index, size, off, esize };
	size_t len, failed = 99;
	uint8_t *raw = raw_copy(btf, &len);
	int err = kernel_btf_resolve(raw, len, &f, 1, &failed);

	if (err && err != -EINVAL)
		assert_int_equal(failed, 0);
	free(raw);
	return err;
}

static void test_plain_and_typedef_members(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 1, size = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "task", "pid", 0, 4, &off, &size), 0);
	assert_int_equal(off, 0);
	assert_int_equal(size, 4);
	assert_int_equal(resolve_one(b, "task", "tgid", 0, 4, &off, NULL), 0);
	assert_int_equal(off, 4);
	assert_int_equal(resolve_one(b, "task", "leader", 0, KERNEL_BTF_PTR_SIZE, &off, NULL), 0);
	assert_int_equal(off, 8);
	/* A pointer to a const struct is still a pointer. */
	assert_int_equal(resolve_one(b, "file", "f_inode", 0, 8, &off, NULL), 0);
	assert_int_equal(off, 32);
	btf__free(b);
}

static void test_nested_path(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "file", "f_path.dentry", 0, 8, &off, NULL), 0);
	assert_int_equal(off, 16 + 8);
	assert_int_equal(resolve_one(b, "file", "f_path.mnt", 0, 8, &off, NULL), 0);
	assert_int_equal(off, 16);
	btf__free(b);
}

/* f_flags sits in an anonymous struct in an anonymous union, as vm_flags does in 6.18. */
static void test_anonymous_members_looked_through(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "file", "f_flags", 0, 4, &off, NULL), 0);
	assert_int_equal(off, 8 + 4);
	assert_int_equal(resolve_one(b, "file", "x", 0, 8, &off, NULL), 0);
	assert_int_equal(off, 8);
	btf__free(b);
}

static void test_array_elements(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 0, size = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "regs", "regs", 2, 8, &off, &size), 0);
	assert_int_equal(off, 16);
	assert_int_equal(size, 8);
	assert_int_equal(resolve_one(b, "regs", "regs", 30, 8, &off, NULL), 0);
	assert_int_equal(off, 240);
	assert_int_equal(resolve_one(b, "regs", "regs", 31, 8, &off, NULL), -EPROTO);
	/* A flexible array: element 0, and the element's size for stepping. */
	assert_int_equal(resolve_one(b, "pid", "numbers", 0, 0, &off, &size), 0);
	assert_int_equal(off, 8);
	assert_int_equal(size, 16);
	assert_int_equal(resolve_one(b, "task", "pid", 1, 0, &off, NULL), -EPROTO);
	btf__free(b);
}

static void test_missing_type_or_member(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "task_struct", "pid", 0, 0, &off, NULL), -ENOENT);
	assert_int_equal(resolve_one(b, "task", "ppid", 0, 0, &off, NULL), -ENOENT);
	assert_int_equal(resolve_one(b, "file", "f_path.nothing", 0, 0, &off, NULL), -ENOENT);
	assert_int_equal(resolve_one(b, "file", "", 0, 0, &off, NULL), -ENOENT);
	assert_int_equal(resolve_one(b, "file", "f_path.", 0, 0, &off, NULL), -ENOENT);
	/* A forward declaration is not a struct with members. */
	assert_int_equal(resolve_one(b, "dentry", "d_name", 0, 0, &off, NULL), -ENOENT);
	btf__free(b);
}

static void test_member_not_as_expected(void **state)
{
	struct btf *b = sample_btf();
	uint32_t off = 0;

	(void)state;
	assert_int_equal(resolve_one(b, "task", "pid", 0, 8, &off, NULL), -EPROTO);
	assert_int_equal(resolve_one(b, "file", "bits", 0, 0, &off, NULL), -EPROTO);
	/* Through a pointer is two reads, not one offset. */
	assert_int_equal(resolve_one(b, "task", "leader.pid", 0, 0, &off, NULL), -EPROTO);
	btf__free(b);
}

/* Reports which field failed, and stops there. */
static void test_failed_index(void **state)
{
	struct btf *b = sample_btf();
	uint32_t o1 = 7, o2 = 7, o3 = 7;
	struct kernel_btf_field f[] = {
		{ "task", "tgid", 0, 4, &o1, NULL },
		{ "task", "nope", 0, 4, &o2, NULL },
		{ "file", "f_inode", 0, 8, &o3, NULL },
	};
	size_t len, failed = 99;
	uint8_t *raw = raw_copy(b, &len);

	(void)state;
	assert_int_equal(kernel_btf_resolve(raw, len, f, 3, &failed), -ENOENT);
	assert_int_equal(failed, 1);
	assert_int_equal(o1, 4);
	assert_int_equal(o2, 7);
	f[1].path = "pid";
	assert_int_equal(kernel_btf_resolve(raw, len, f, 3, &failed), 0);
	assert_int_equal(o2, 0);
	assert_int_equal(o3, 32);
	free(raw);
	btf__free(b);
}

/* Two structs of one name: fine while every one that has the member agrees. */
static void test_duplicate_struct_names(void **state)
{
	struct btf *b = btf__new_empty();
	int i_int;
	uint32_t off = 0;

	(void)state;
	i_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	btf__add_struct(b, "dup", 8);
	btf__add_field(b, "a", i_int, 0, 0);
	btf__add_field(b, "b", i_int, 32, 0);
	btf__add_struct(b, "dup", 4);
	btf__add_field(b, "c", i_int, 0, 0);
	assert_int_equal(resolve_one(b, "dup", "b", 0, 4, &off, NULL), 0);
	assert_int_equal(off, 4);
	assert_int_equal(resolve_one(b, "dup", "c", 0, 4, &off, NULL), 0);
	assert_int_equal(off, 0);
	btf__add_struct(b, "dup", 12);
	btf__add_field(b, "z", i_int, 0, 0);
	btf__add_field(b, "b", i_int, 64, 0);
	assert_int_equal(resolve_one(b, "dup", "b", 0, 4, &off, NULL), -EPROTO);
	assert_int_equal(resolve_one(b, "dup", "a", 0, 4, &off, NULL), 0);
	btf__free(b);
}

/* Type ids that lead nowhere or in circles are a malformed blob. */
static void test_bad_type_ids(void **state)
{
	struct btf *b = btf__new_empty();
	uint32_t off = 0;
	int t1;

	(void)state;
	t1 = btf__add_typedef(b, "loop_a", 2);
	assert_int_equal(btf__add_typedef(b, "loop_b", t1), 2);
	btf__add_struct(b, "s", 16);
	btf__add_field(b, "looped", t1, 0, 0);
	btf__add_field(b, "dangling", 1000, 64, 0);
	assert_int_equal(resolve_one(b, "s", "looped", 0, 0, &off, NULL), -EINVAL);
	assert_int_equal(resolve_one(b, "s", "dangling", 0, 0, &off, NULL), -EINVAL);
	btf__free(b);
}

/* A member that reaches past its struct is a corrupt record. */
static void test_member_past_struct(void **state)
{
	struct btf *b = btf__new_empty();
	uint32_t off = 0;
	int i_long;

	(void)state;
	i_long = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	btf__add_struct(b, "small", 8);
	btf__add_field(b, "far", i_long, 64, 0);
	assert_int_equal(resolve_one(b, "small", "far", 0, 8, &off, NULL), -EINVAL);
	btf__free(b);
}

static void test_every_truncation_refused(void **state)
{
	struct btf *b = sample_btf();
	size_t len;
	uint8_t *raw = raw_copy(b, &len);
	uint32_t off = 0;
	struct kernel_btf_field f = { "file", "f_path.dentry", 0, 8, &off, NULL };

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		assert_non_null(p);
		memcpy(p, raw, cut);
		assert_int_equal(kernel_btf_resolve(p, cut, &f, 1, NULL), -EINVAL);
		free(p);
	}
	assert_int_equal(kernel_btf_resolve(raw, len, &f, 1, NULL), 0);
	free(raw);
	btf__free(b);
}

/* Applies @edit to a copy of the sample blob and resolves f_path.dentry in it. */
static int resolve_edited(void (*edit)(uint8_t *raw, struct btf_header *h))
{
	struct btf *b = sample_btf();
	size_t len;
	uint8_t *raw = raw_copy(b, &len);
	uint32_t off = 0;
	struct kernel_btf_field f = { "file", "f_path.dentry", 0, 8, &off, NULL };
	struct btf_header h;
	int err;

	memcpy(&h, raw, sizeof(h));
	edit(raw, &h);
	memcpy(raw, &h, sizeof(h));
	err = kernel_btf_resolve(raw, len, &f, 1, NULL);
	free(raw);
	btf__free(b);
	return err;
}

static void bad_magic(uint8_t *raw, struct btf_header *h) { (void)raw; h->magic = 0x9FeB; }
static void bad_version(uint8_t *raw, struct btf_header *h) { (void)raw; h->version = 2; }
static void short_hdr(uint8_t *raw, struct btf_header *h) { (void)raw; h->hdr_len = 16; }
static void huge_hdr(uint8_t *raw, struct btf_header *h) { (void)raw; h->hdr_len = 0xfffffff0; }
static void huge_types(uint8_t *raw, struct btf_header *h) { (void)raw; h->type_len = 0xfffffff0; }
static void huge_str_off(uint8_t *raw, struct btf_header *h) { (void)raw; h->str_off = 0xfffffff0; }
static void odd_type_off(uint8_t *raw, struct btf_header *h) { (void)raw; h->type_off += 2; h->type_len -= 2; }
static void cut_record(uint8_t *raw, struct btf_header *h) { (void)raw; h->type_len -= 4; }
static void no_strings(uint8_t *raw, struct btf_header *h) { (void)raw; h->str_len = 0; }

static void unterminated_strings(uint8_t *raw, struct btf_header *h)
{
	raw[h->hdr_len + h->str_off + h->str_len - 1] = 'x';
}

/* The first record (int) gets kind 31, which no BTF version has. */
static void unknown_kind(uint8_t *raw, struct btf_header *h)
{
	struct btf_type t;
	uint8_t *p = raw + h->hdr_len + h->type_off;

	memcpy(&t, p, sizeof(t));
	t.info |= 0x1fu << 24;
	memcpy(p, &t, sizeof(t));
}

/* Every struct's name offset points past the strings. */
static void bad_name_offsets(uint8_t *raw, struct btf_header *h)
{
	size_t off = 0;

	while (off + sizeof(struct btf_type) <= h->type_len) {
		struct btf_type t;
		uint8_t *p = raw + h->hdr_len + h->type_off + off;
		size_t extra = 0;

		memcpy(&t, p, sizeof(t));
		switch (BTF_INFO_KIND(t.info)) {
		case BTF_KIND_INT: extra = 4; break;
		case BTF_KIND_ARRAY: extra = sizeof(struct btf_array); break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			extra = BTF_INFO_VLEN(t.info) * sizeof(struct btf_member);
			t.name_off = h->str_len + 100;
			memcpy(p, &t, sizeof(t));
			break;
		default: break;
		}
		off += sizeof(t) + extra;
	}
}

static void test_corrupt_headers_and_records(void **state)
{
	(void)state;
	assert_int_equal(resolve_edited(bad_magic), -EINVAL);
	assert_int_equal(resolve_edited(bad_version), -EINVAL);
	assert_int_equal(resolve_edited(short_hdr), -EINVAL);
	assert_int_equal(resolve_edited(huge_hdr), -EINVAL);
	assert_int_equal(resolve_edited(huge_types), -EINVAL);
	assert_int_equal(resolve_edited(huge_str_off), -EINVAL);
	assert_int_equal(resolve_edited(odd_type_off), -EINVAL);
	assert_int_equal(resolve_edited(cut_record), -EINVAL);
	assert_int_equal(resolve_edited(no_strings), -EINVAL);
	assert_int_equal(resolve_edited(unterminated_strings), -EINVAL);
	assert_int_equal(resolve_edited(unknown_kind), -EINVAL);
	assert_int_equal(resolve_edited(bad_name_offsets), -EINVAL);
}

/* Records are read in place: a blob that is not 4-byte aligned is refused, not misread. */
static void test_misaligned_blob(void **state)
{
	struct btf *b = sample_btf();
	size_t len;
	uint8_t *raw = raw_copy(b, &len), *shifted = malloc(len + 1);
	uint32_t off = 0;
	struct kernel_btf_field f = { "task", "tgid", 0, 4, &off, NULL };

	(void)state;
	assert_non_null(shifted);
	memcpy(shifted + 1, raw, len);
	assert_int_equal(kernel_btf_resolve(shifted + 1, len, &f, 1, NULL), -EINVAL);
	free(shifted);
	free(raw);
	btf__free(b);
}

/* Random damage: any answer but a crash or an out-of-bounds read (ASan) is fine. */
static void test_random_corruption(void **state)
{
	struct btf *b = sample_btf();
	size_t len;
	uint8_t *raw = raw_copy(b, &len), *p = malloc(len);
	uint32_t o[4];
	struct kernel_btf_field f[] = {
		{ "file", "f_path.dentry", 0, 8, &o[0], NULL },
		{ "file", "f_flags", 0, 4, &o[1], NULL },
		{ "pid", "numbers", 0, 0, &o[2], &o[3] },
		{ "regs", "regs", 2, 8, &o[3], NULL },
	};

	(void)state;
	assert_non_null(p);
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		int err;

		memcpy(p, raw, len);
		for (int k = rand() % 4 + 1; k; k--)
			p[rand() % len] ^= 1u << (rand() % 8);
		err = kernel_btf_resolve(p, len, f, 4, NULL);
		assert_true(err == 0 || err == -EINVAL || err == -ENOENT || err == -EPROTO);
	}
	free(p);
	free(raw);
	btf__free(b);
}

/* The same answers from a mapped file and a read one; errors from the file's side. */
static void test_file_mapped_and_read(void **state)
{
	struct btf *b = sample_btf();
	char path[] = "/tmp/ukcov-btf-XXXXXX";
	size_t len;
	uint8_t *raw = raw_copy(b, &len);
	uint32_t o1 = 0, o2 = 0;
	struct kernel_btf_field f = { "file", "f_path.dentry", 0, 8, &o1, NULL };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, raw, len), (ssize_t)len);
	assert_int_equal(kernel_btf_resolve_file(path, 0, &f, 1, NULL), 0);
	f.offset = &o2;
	assert_int_equal(kernel_btf_resolve_file(path, KERNEL_BTF_NO_MMAP, &f, 1, NULL), 0);
	assert_int_equal(o1, 24);
	assert_int_equal(o2, 24);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(kernel_btf_resolve_file(path, 0, &f, 1, NULL), -EINVAL);
	close(fd);
	unlink(path);
	assert_int_equal(kernel_btf_resolve_file(path, 0, &f, 1, NULL), -ENOENT);
	free(raw);
	btf__free(b);
}

/*
 * libbpf's reading of the same path, for the running kernel: the member
 * @name of @t (looking through anonymous members), its bit offset and type.
 */
static bool lib_member(const struct btf *btf, const struct btf_type *t, const char *name,
		       __u32 *bits, __u32 *type)
{
	const struct btf_member *m = btf_members(t);

	for (unsigned int i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *inner;
		__u32 ib;

		if (n && n[0]) {
			if (strcmp(n, name))
				continue;
			*bits = btf_member_bit_offset(t, i);
			*type = m->type;
			return true;
		}
		inner = btf__type_by_id(btf, btf__resolve_type(btf, m->type));
		if (inner && (btf_is_struct(inner) || btf_is_union(inner)) &&
		    lib_member(btf, inner, name, &ib, type)) {
			*bits = btf_member_bit_offset(t, i) + ib;
			return true;
		}
	}
	return false;
}

static long lib_offset(const struct btf *btf, const char *type, const char *path)
{
	char buf[128], *save = NULL;
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t;
	long off = 0;

	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = strtok_r(buf, ".", &save); c; c = strtok_r(NULL, ".", &save)) {
		__u32 bits, mtype;

		if (!lib_member(btf, t, c, &bits, &mtype))
			return -1;
		off += bits / 8;
		t = btf__type_by_id(btf, btf__resolve_type(btf, mtype));
	}
	return off;
}

/* What user/probe.c asks of the running kernel, checked against libbpf. */
static void test_running_kernel_matches_libbpf(void **state)
{
	static const char *const fields[][2] = {
		{ "task_struct", "tgid" }, { "task_struct", "pid" },
		{ "task_struct", "group_leader" }, { "task_struct", "thread_pid" },
		{ "task_struct", "signal" }, { "signal_struct", "live.counter" },
		{ "pid", "level" }, { "pid", "numbers" }, { "upid", "nr" }, { "upid", "ns" },
		{ "pid_namespace", "ns.inum" }, { "linux_binprm", "file" },
		{ "linux_binprm", "filename" }, { "file", "f_inode" },
		{ "file", "f_path.dentry" }, { "inode", "i_sb" }, { "inode", "i_ino" },
		{ "super_block", "s_dev" }, { "dentry", "d_name.name" },
		{ "vm_area_struct", "vm_file" }, { "vm_area_struct", "vm_flags" },
		{ "vm_area_struct", "vm_pgoff" },
	};
	size_t n = sizeof(fields) / sizeof(fields[0]);
	struct kernel_btf_field f[sizeof(fields) / sizeof(fields[0])];
	uint32_t off[sizeof(fields) / sizeof(fields[0])];
	struct btf *btf;

	(void)state;
	if (access(KERNEL_BTF_VMLINUX, R_OK))
		skip();
	for (size_t i = 0; i < n; i++)
		f[i] = (struct kernel_btf_field){ fields[i][0], fields[i][1], 0, 0, &off[i], NULL };
	assert_int_equal(kernel_btf_resolve_file(KERNEL_BTF_VMLINUX, 0, f, n, NULL), 0);
	btf = btf__load_vmlinux_btf();
	assert_non_null(btf);
	for (size_t i = 0; i < n; i++) {
		long want = lib_offset(btf, fields[i][0], fields[i][1]);

		if (want != (long)off[i])
			fail_msg("%s.%s: %u, libbpf says %ld", fields[i][0], fields[i][1], off[i], want);
	}
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_typedef_members),
		cmocka_unit_test(test_nested_path),
		cmocka_unit_test(test_anonymous_members_looked_through),
		cmocka_unit_test(test_array_elements),
		cmocka_unit_test(test_missing_type_or_member),
		cmocka_unit_test(test_member_not_as_expected),
		cmocka_unit_test(test_failed_index),
		cmocka_unit_test(test_duplicate_struct_names),
		cmocka_unit_test(test_bad_type_ids),
		cmocka_unit_test(test_member_past_struct),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_corrupt_headers_and_records),
		cmocka_unit_test(test_misaligned_blob),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_file_mapped_and_read),
		cmocka_unit_test(test_running_kernel_matches_libbpf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
