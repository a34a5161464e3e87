// SPDX-License-Identifier: MIT
/*
 * Seed inputs the fuzzers cannot get from the system as files (run by
 * fuzz/seed.sh):
 *
 *   gen_seeds sites DIR ELF...   site-table files of each ELF, each kind,
 *                                and one table of all of them
 *   gen_seeds kcov DIR           kcov streams, well-formed and not
 *   gen_seeds ldso DIR           small ld.so caches in both layouts
 *   gen_seeds elf_path DIR BIN DEBUG...
 *                                pairs of a binary and a debug file for
 *                                fuzz_elf_path, in every place and shape
 *   gen_seeds kernel_btf DIR     small kernel BTF blobs with every struct
 *                                fuzz_kernel_btf asks for, made by libbpf's
 *                                BTF writer; cut copies
 *
 * Site tables come from the real writer (sites_file_write()), so the
 * seeds are exactly what `ukcov run --save-sites` writes.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "fuzz_elf_path.h"
#include "fuzz_kernel_btf.h"
#include "kernel_btf.h"
#include "sites.h"
#include "sites_file.h"
#include "ukcov/kcov.h"

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int save_table(const char *dir, const char *name, struct site_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return 1;
	site_table_finish(t);
	err = sites_file_write(t, f);
	fclose(f);
	if (!err)
		err = write_file(dir, name, text, len);
	free(text);
	return err ? 1 : 0;
}

static int gen_sites(const char *dir, int n, char **elfs)
{
	static const enum site_kind kinds[] = { SITE_KIND_FUNC, SITE_KIND_LINE, SITE_KIND_BB };
	struct site_table *all = site_table_new();
	int ret = 0;

	if (!all)
		return 1;
	for (int i = 0; i < n; i++) {
		const char *base = strrchr(elfs[i], '/') ? strrchr(elfs[i], '/') + 1 : elfs[i];

		for (size_t k = 0; k < 3; k++) {
			struct site_options o = { .kind = kinds[k] };
			struct site_table *t = site_table_new();
			char name[512];

			if (!t)
				return 1;
			t->kind = kinds[k];
			/* Not every ELF has every kind (no DWARF: no line sites). */
			if (!site_table_add_elf(t, elfs[i], NULL, &o, NULL)) {
				snprintf(name, sizeof(name), "%s-%s.sites", base, site_kind_name(kinds[k]));
				ret |= save_table(dir, name, t);
			}
			site_table_free(t);
		}
		site_table_add_elf(all, elfs[i], NULL, NULL, NULL);
	}
	if (all->nmodules)
		ret |= save_table(dir, "all-func.sites", all);
	site_table_free(all);
	return ret;
}

/* A stream under construction, little-endian words. */
struct words {
	uint64_t v[64];
	size_t n;
};

static void put(struct words *w, uint64_t x)
{
	if (w->n < sizeof(w->v) / sizeof(w->v[0]))
		w->v[w->n++] = htole64(x);
}

static void rec(struct words *w, size_t n, const size_t *sites)
{
	put(w, n);
	for (size_t i = 0; i < n; i++)
		put(w, UKCOV_PC_BASE + sites[i]);
}

static void table_id(struct words *w, uint64_t id)
{
	put(w, 2);
	put(w, UKCOV_KCOV_TABLE_MAGIC);
	put(w, id);
}

static int gen_kcov(const char *dir)
{
	static const size_t a[] = { 0, 1, 2, 7, 100, 4095 }, b[] = { 3 }, dup[] = { 5, 5 },
			    down[] = { 9, 4 }, big[] = { 4096 };
	struct words w;
	int ret = 0;

#define EMIT(name, bytes) ret |= write_file(dir, name, w.v, (bytes))
	w.n = 0;
	EMIT("empty", 0);
	rec(&w, 6, a);
	EMIT("one-record", w.n * 8);
	rec(&w, 1, b);
	EMIT("two-records", w.n * 8);
	EMIT("truncated-pc", w.n * 8 - 3);
	EMIT("truncated-record", w.n * 8 - 8);
	w.n = 0;
	table_id(&w, 0x4f1c0e5a9b7d3e21ULL);
	rec(&w, 6, a);
	table_id(&w, UKCOV_KCOV_TABLE_ID_MAX);
	rec(&w, 1, b);
	EMIT("table-id-concatenated", w.n * 8);
	w.n = 0;
	table_id(&w, UKCOV_KCOV_TABLE_ID_MIN - 1);
	EMIT("table-id-bad", w.n * 8);
	w.n = 0;
	rec(&w, 2, dup);
	EMIT("duplicate-pc", w.n * 8);
	w.n = 0;
	rec(&w, 2, down);
	EMIT("descending-pcs", w.n * 8);
	w.n = 0;
	rec(&w, 1, big);
	EMIT("pc-past-table", w.n * 8);
	w.n = 0;
	put(&w, 0);
	EMIT("n-zero", 8);
	w.n = 0;
	put(&w, UINT64_MAX);
	put(&w, UKCOV_PC_BASE);
	EMIT("n-huge", 16);
	w.n = 0;
	put(&w, 1u << 20);
	put(&w, UKCOV_PC_BASE);
	EMIT("n-large-short", 16);
#undef EMIT
	return ret;
}

/* glibc's dl-cache.h layouts (user/ldso.c reads them). */
static size_t new_cache(uint8_t *p, size_t off0, uint32_t flags_host)
{
	static const char *const keys[] = { "libc.so.6", "libm.so.6", "libfoo.so.1" };
	static const char *const vals[] = {
		"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6", "relative/libfoo.so.1",
	};
	uint8_t *h = p + off0;
	size_t nlibs = 3, strs = 48 + nlibs * 24, s = strs;
	uint32_t v;

	memcpy(h, "glibc-ld.so.cache1.1", 20);
	v = nlibs;
	memcpy(h + 20, &v, 4);
	h[28] = 2;	/* little-endian */
	for (size_t i = 0; i < nlibs; i++) {
		uint8_t *e = h + 48 + i * 24;
		uint32_t key, val;

		key = s;
		strcpy((char *)h + s, keys[i]);
		s += strlen(keys[i]) + 1;
		val = s;
		strcpy((char *)h + s, vals[i]);
		s += strlen(vals[i]) + 1;
		memcpy(e, &flags_host, 4);
		memcpy(e + 4, &key, 4);
		memcpy(e + 8, &val, 4);
	}
	v = s - strs;
	memcpy(h + 24, &v, 4);
	return off0 + s;
}

static int gen_ldso(const char *dir)
{
	uint8_t buf[1024] = {};
	uint32_t nold = 2;
	size_t len;
	int ret = 0;

	len = new_cache(buf, 0, 0x0303);
	ret |= write_file(dir, "cache-new", buf, len);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "ld.so-1.7.0", 11);
	memcpy(buf + 12, &nold, 4);
	/* Two old entries of 12 bytes, then the new part 8-byte aligned. */
	len = new_cache(buf, (16 + nold * 12 + 7) & ~7u, 0x0303);
	ret |= write_file(dir, "cache-old-new", buf, len);
	return ret;
}

/* The whole of @path, malloc'd, its size in *@len; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc(n ? n : 1)) && fread(buf, 1, n, f) == (size_t)n) {
		*len = n;
	} else {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/*
 * For each BIN DEBUG pair: the debug file in each of the four places,
 * then the traps (FIFO, directory, symlink to the binary) where the
 * lookup starts and at --debug-file; func and line sites.
 */
static int gen_elf_path(const char *dir, int n, char **files)
{
	static const struct { enum elf_pair_where where; enum elf_pair_what what; } places[] = {
		{ PAIR_DEBUGLINK, PAIR_FILE }, { PAIR_DEBUGLINK_SUBDIR, PAIR_FILE },
		{ PAIR_BUILD_ID, PAIR_FILE }, { PAIR_DEBUG_FILE, PAIR_FILE },
		{ PAIR_DEBUGLINK, PAIR_FIFO }, { PAIR_DEBUGLINK, PAIR_DIRECTORY },
		{ PAIR_DEBUGLINK, PAIR_LINK_TO_BINARY }, { PAIR_BUILD_ID, PAIR_FIFO },
		{ PAIR_DEBUG_FILE, PAIR_FIFO }, { PAIR_DEBUG_FILE, PAIR_DIRECTORY },
		{ PAIR_DEBUG_FILE, PAIR_LINK_TO_BINARY },
	};
	static const enum elf_pair_kind kinds[] = { PAIR_FUNC, PAIR_LINE };
	int ret = 0;

	if (n % 2)
		return 2;
	for (int i = 0; i < n; i += 2) {
		const char *name = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
		size_t alen, blen;
		uint8_t *a = slurp(files[i], &alen), *b = slurp(files[i + 1], &blen), *in = NULL;

		if (a && b && alen <= UINT32_MAX)
			in = malloc(ELF_PAIR_HEADER + alen + blen);
		if (!in) {
			ret = 1;
			goto next;
		}
		in[1] = alen;
		in[2] = alen >> 8;
		in[3] = alen >> 16;
		in[4] = alen >> 24;
		memcpy(in + ELF_PAIR_HEADER, a, alen);
		memcpy(in + ELF_PAIR_HEADER + alen, b, blen);
		for (size_t p = 0; p < sizeof(places) / sizeof(places[0]); p++) {
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
				char seed[512];

				in[0] = elf_pair_mode(places[p].where, places[p].what, kinds[k]);
				snprintf(seed, sizeof(seed), "%s-mode%02x", name, in[0]);
				ret |= write_file(dir, seed, in, ELF_PAIR_HEADER + alen + blen);
			}
		}
next:
		free(in);
		free(a);
		free(b);
	}
	return ret;
}

/*
 * The kernel's shapes in small (its nesting, not its sizes or all its
 * members): a BTF that libbpf writes, so that the layout is the format's,
 * not ours.  Pointers to other structs go to forward declarations of the
 * same name, as the scan must step over; task_struct points to itself.
 * One record of every kind is there for the fuzzer to mutate.  The
 * variants reach the rest of kernel_btf.h's rules.
 */
enum btf_seed_kind {
	BTF_SEED_PLAIN,
	BTF_SEED_DUP,	/* upid twice, agreeing; pid again without the members
			 * asked for: definitions that have a member agree */
	BTF_SEED_MANY,	/* super_block 17 times: more than kernel_btf.c takes */
	BTF_SEED_NEST,	/* an anonymous union in dentry holding itself 5 times:
			 * the member budget runs out */
};

struct btf_seed {
	struct btf *b;
	int err;	/* the first libbpf error */
};

static int ck(struct btf_seed *s, int id)
{
	if (id < 0 && !s->err)
		s->err = id;
	return id;
}

/* A member at byte @off of the struct or union added last (so: no other type in between). */
static void mem(struct btf_seed *s, const char *name, int type, unsigned int off)
{
	ck(s, btf__add_field(s->b, name, type, off * 8, 0));
}

static int fwd_ptr(struct btf_seed *s, const char *name)
{
	return ck(s, btf__add_ptr(s->b, ck(s, btf__add_fwd(s->b, name, BTF_FWD_STRUCT))));
}

static void super_block(struct btf_seed *s, int s_list, int t_dev, int i_uchar, int i_ulong)
{
	ck(s, btf__add_struct(s->b, "super_block", 32));
	mem(s, "s_list", s_list, 0);
	mem(s, "s_dev", t_dev, 16);
	mem(s, "s_blocksize_bits", i_uchar, 20);
	mem(s, "s_blocksize", i_ulong, 24);
}

static struct btf *kernel_btf_seed(enum btf_seed_kind kind, int *err)
{
	struct btf_seed s = { btf__new_empty(), 0 };
	struct btf *b = s.b;
	int i_int, i_uint, i_long, i_ulong, i_u64, i_ushort, i_uchar, i_char, t_u32, t_u64, t_pid;
	int t_dev, s_atomic, t_atomic, t_refc, p_void, p_task, s_task, p_pid, p_signal, p_pidns;
	int p_file, p_inode, p_sb, p_dentry, p_mnt, p_mm, p_vma, p_uchar, p_char, s_list, s_hlist;
	int a_hlist, s_upid, a_upid, s_nsc, s_path, u_file, s_qstr_in, u_qstr, s_qstr, s_vma_in;
	int u_vma, t_vmflags, c_vmflags, u_flags, s_pgprot, a_regs, s_uregs, s_regs_in, u_regs;
	int proto, v_task, v_state, r_task, t_fmode, r_mm, t_pgprot, t_s32, u_nest = 0;

	if (!b) {
		*err = -errno;
		return NULL;
	}
	i_int = ck(&s, btf__add_int(b, "int", 4, BTF_INT_SIGNED));
	i_uint = ck(&s, btf__add_int(b, "unsigned int", 4, 0));
	i_long = ck(&s, btf__add_int(b, "long", 8, BTF_INT_SIGNED));
	i_ulong = ck(&s, btf__add_int(b, "long unsigned int", 8, 0));
	i_u64 = ck(&s, btf__add_int(b, "long long unsigned int", 8, 0));
	i_ushort = ck(&s, btf__add_int(b, "short unsigned int", 2, 0));
	i_uchar = ck(&s, btf__add_int(b, "unsigned char", 1, 0));
	i_char = ck(&s, btf__add_int(b, "char", 1, BTF_INT_CHAR));
	ck(&s, btf__add_float(b, "double", 8));
	t_u32 = ck(&s, btf__add_typedef(b, "u32", i_uint));
	t_u64 = ck(&s, btf__add_typedef(b, "u64", i_u64));
	t_pid = ck(&s, btf__add_typedef(b, "pid_t", ck(&s, btf__add_typedef(b, "__kernel_pid_t", i_int))));
	t_dev = ck(&s, btf__add_typedef(b, "dev_t", t_u32));
	s_atomic = ck(&s, btf__add_struct(b, NULL, 4));
	mem(&s, "counter", i_int, 0);
	t_atomic = ck(&s, btf__add_typedef(b, "atomic_t", s_atomic));
	ck(&s, btf__add_struct(b, "refcount_struct", 4));
	mem(&s, "refs", t_atomic, 0);
	t_refc = ck(&s, btf__add_typedef(b, "refcount_t", btf__type_cnt(b) - 1));
	p_void = ck(&s, btf__add_ptr(b, 0));
	p_pid = fwd_ptr(&s, "pid");
	p_signal = fwd_ptr(&s, "signal_struct");
	p_pidns = fwd_ptr(&s, "pid_namespace");
	p_file = fwd_ptr(&s, "file");
	p_inode = fwd_ptr(&s, "inode");
	p_sb = fwd_ptr(&s, "super_block");
	p_dentry = fwd_ptr(&s, "dentry");
	p_mnt = fwd_ptr(&s, "vfsmount");
	p_mm = fwd_ptr(&s, "mm_struct");
	p_vma = fwd_ptr(&s, "vm_area_struct");
	p_uchar = ck(&s, btf__add_ptr(b, ck(&s, btf__add_const(b, i_uchar))));
	p_char = ck(&s, btf__add_ptr(b, ck(&s, btf__add_const(b, i_char))));
	s_list = ck(&s, btf__add_struct(b, "list_head", 16));
	mem(&s, "next", p_void, 0);
	mem(&s, "prev", p_void, 8);
	s_hlist = ck(&s, btf__add_struct(b, "hlist_head", 8));
	mem(&s, "first", p_void, 0);

	/* task_struct: volatile state, pids, __rcu pointers (type tags), a bitfield. */
	v_state = ck(&s, btf__add_volatile(b, i_uint));
	/* struct task_struct __rcu *: a pointer to a tag of the struct. */
	r_task = ck(&s, btf__add_ptr(b, ck(&s, btf__add_type_tag(b, "rcu", btf__type_cnt(b) + 3))));
	p_task = ck(&s, btf__add_ptr(b, btf__type_cnt(b) + 1));
	s_task = ck(&s, btf__add_struct(b, "task_struct", 64));
	mem(&s, "__state", v_state, 0);
	mem(&s, "stack", p_void, 8);
	mem(&s, "pid", t_pid, 16);
	mem(&s, "tgid", t_pid, 20);
	mem(&s, "real_parent", r_task, 24);
	mem(&s, "group_leader", p_task, 32);
	mem(&s, "thread_pid", p_pid, 40);
	mem(&s, "signal", p_signal, 48);
	ck(&s, btf__add_field(b, "in_execve", i_uint, 56 * 8, 1));
	ck(&s, btf__add_field(b, "in_iowait", i_uint, 56 * 8 + 1, 1));
	ck(&s, btf__add_decl_tag(b, "user", s_task, 1));

	ck(&s, btf__add_struct(b, "signal_struct", 24));
	mem(&s, "sigcnt", t_refc, 0);
	mem(&s, "live", t_atomic, 4);
	mem(&s, "nr_threads", i_int, 8);
	mem(&s, "thread_head", s_list, 8);

	s_upid = ck(&s, btf__add_struct(b, "upid", 16));
	mem(&s, "nr", i_int, 0);
	mem(&s, "ns", p_pidns, 8);
	a_hlist = ck(&s, btf__add_array(b, i_int, s_hlist, 4));
	a_upid = ck(&s, btf__add_array(b, i_int, s_upid, 0));
	ck(&s, btf__add_struct(b, "pid", 48));
	mem(&s, "count", t_refc, 0);
	mem(&s, "level", i_uint, 4);
	mem(&s, "tasks", a_hlist, 8);
	mem(&s, "stashed", p_dentry, 40);
	mem(&s, "numbers", a_upid, 48);
	ck(&s, btf__add_enum(b, "pid_type", 4));
	ck(&s, btf__add_enum_value(b, "PIDTYPE_PID", 0));
	ck(&s, btf__add_enum_value(b, "PIDTYPE_TGID", 1));
	ck(&s, btf__add_enum_value(b, "PIDTYPE_MAX", 4));

	s_nsc = ck(&s, btf__add_struct(b, "ns_common", 24));
	mem(&s, "stashed", p_void, 0);
	mem(&s, "ops", p_void, 8);
	mem(&s, "inum", i_uint, 16);
	mem(&s, "count", t_refc, 20);
	ck(&s, btf__add_struct(b, "pid_namespace", 64));
	mem(&s, "idr", p_void, 0);
	mem(&s, "pid_allocated", i_uint, 8);
	mem(&s, "child_reaper", p_task, 16);
	mem(&s, "level", i_uint, 24);
	mem(&s, "parent", p_pidns, 32);
	mem(&s, "ns", s_nsc, 40);

	ck(&s, btf__add_struct(b, "linux_binprm", 48));
	mem(&s, "vma", p_vma, 0);
	mem(&s, "p", i_ulong, 8);
	ck(&s, btf__add_field(b, "have_execfd", i_uint, 16 * 8, 1));
	mem(&s, "executable", p_file, 24);
	mem(&s, "file", p_file, 32);
	mem(&s, "filename", p_char, 40);

	s_path = ck(&s, btf__add_struct(b, "path", 16));
	mem(&s, "mnt", p_mnt, 0);
	mem(&s, "dentry", p_dentry, 8);
	t_fmode = ck(&s, btf__add_typedef(b, "fmode_t", i_uint));
	u_file = ck(&s, btf__add_union(b, NULL, 16));
	mem(&s, "f_llist", p_void, 0);
	mem(&s, "f_rcuhead", s_list, 0);
	mem(&s, "f_iocb_flags", i_uint, 0);
	ck(&s, btf__add_struct(b, "file", 64));
	mem(&s, NULL, u_file, 0);
	mem(&s, "f_mode", t_fmode, 16);
	mem(&s, "f_op", p_void, 24);
	mem(&s, "f_path", s_path, 32);
	mem(&s, "f_inode", p_inode, 48);
	mem(&s, "f_flags", i_uint, 56);

	ck(&s, btf__add_struct(b, "inode", 56));
	mem(&s, "i_mode", i_ushort, 0);
	mem(&s, "i_opflags", i_ushort, 2);
	mem(&s, "i_op", p_void, 8);
	mem(&s, "i_sb", p_sb, 16);
	mem(&s, "i_mapping", p_void, 24);
	mem(&s, "i_ino", i_ulong, 32);
	mem(&s, "i_rdev", t_dev, 40);
	mem(&s, "i_size", i_long, 48);

	for (int i = 0; i < (kind == BTF_SEED_MANY ? 17 : 1); i++)
		super_block(&s, s_list, t_dev, i_uchar, i_ulong);

	/* qstr: hash and len in an anonymous struct in an anonymous union. */
	s_qstr_in = ck(&s, btf__add_struct(b, NULL, 8));
	mem(&s, "hash", t_u32, 0);
	mem(&s, "len", t_u32, 4);
	u_qstr = ck(&s, btf__add_union(b, NULL, 8));
	mem(&s, NULL, s_qstr_in, 0);
	mem(&s, "hash_len", t_u64, 0);
	s_qstr = ck(&s, btf__add_struct(b, "qstr", 16));
	mem(&s, NULL, u_qstr, 0);
	mem(&s, "name", p_uchar, 8);
	if (kind == BTF_SEED_NEST) {
		u_nest = ck(&s, btf__add_union(b, NULL, 8));
		for (int i = 0; i < 5; i++)
			mem(&s, NULL, u_nest, 0);
	}
	ck(&s, btf__add_struct(b, "dentry", 56));
	if (u_nest)
		mem(&s, NULL, u_nest, 0);
	mem(&s, "d_flags", i_uint, 0);
	mem(&s, "d_seq", i_uint, 4);
	mem(&s, "d_hash", s_list, 8);
	mem(&s, "d_parent", p_dentry, 24);
	mem(&s, "d_name", s_qstr, 32);
	mem(&s, "d_inode", p_inode, 48);

	/* vm_area_struct: vm_flags in an anonymous union, as in 6.18. */
	s_vma_in = ck(&s, btf__add_struct(b, NULL, 16));
	mem(&s, "vm_start", i_ulong, 0);
	mem(&s, "vm_end", i_ulong, 8);
	u_vma = ck(&s, btf__add_union(b, NULL, 16));
	mem(&s, NULL, s_vma_in, 0);
	mem(&s, "vm_rcu", s_list, 0);
	s_pgprot = ck(&s, btf__add_struct(b, "pgprot", 8));
	mem(&s, "pgprot", i_ulong, 0);
	t_vmflags = ck(&s, btf__add_typedef(b, "vm_flags_t", i_ulong));
	c_vmflags = ck(&s, btf__add_const(b, t_vmflags));
	r_mm = ck(&s, btf__add_restrict(b, p_mm));
	t_pgprot = ck(&s, btf__add_typedef(b, "pgprot_t", s_pgprot));
	u_flags = ck(&s, btf__add_union(b, NULL, 8));
	mem(&s, "vm_flags", c_vmflags, 0);
	mem(&s, "__vm_flags", t_vmflags, 0);
	ck(&s, btf__add_struct(b, "vm_area_struct", 64));
	mem(&s, NULL, u_vma, 0);
	mem(&s, "vm_mm", r_mm, 16);
	mem(&s, "vm_page_prot", t_pgprot, 24);
	mem(&s, NULL, u_flags, 32);
	mem(&s, "vm_pgoff", i_ulong, 40);
	mem(&s, "vm_file", p_file, 48);
	mem(&s, "vm_private_data", p_void, 56);

	/* pt_regs: arm64's regs[31] (through an anonymous union) and x86-64's names. */
	a_regs = ck(&s, btf__add_array(b, i_int, t_u64, 31));
	t_s32 = ck(&s, btf__add_typedef(b, "s32", i_int));
	s_uregs = ck(&s, btf__add_struct(b, "user_pt_regs", 272));
	mem(&s, "regs", a_regs, 0);
	mem(&s, "sp", t_u64, 248);
	mem(&s, "pc", t_u64, 256);
	mem(&s, "pstate", t_u64, 264);
	s_regs_in = ck(&s, btf__add_struct(b, NULL, 272));
	mem(&s, "regs", a_regs, 0);
	mem(&s, "sp", t_u64, 248);
	mem(&s, "pc", t_u64, 256);
	mem(&s, "pstate", t_u64, 264);
	u_regs = ck(&s, btf__add_union(b, NULL, 272));
	mem(&s, "user_regs", s_uregs, 0);
	mem(&s, NULL, s_regs_in, 0);
	ck(&s, btf__add_struct(b, "pt_regs", 312));
	mem(&s, NULL, u_regs, 0);
	mem(&s, "orig_x0", t_u64, 272);
	mem(&s, "syscallno", t_s32, 280);
	mem(&s, "pmr", t_u32, 284);
	mem(&s, "si", i_ulong, 288);
	mem(&s, "dx", i_ulong, 296);
	mem(&s, "orig_ax", i_ulong, 304);

	/* The rest of a vmlinux BTF: functions, variables, a section, enum64. */
	proto = ck(&s, btf__add_func_proto(b, i_int));
	ck(&s, btf__add_func_param(b, "file", p_file));
	ck(&s, btf__add_func_param(b, "flags", i_uint));
	ck(&s, btf__add_func(b, "filp_close", BTF_FUNC_GLOBAL, proto));
	ck(&s, btf__add_decl_tag(b, "bpf_fastcall", btf__type_cnt(b) - 1, -1));
	ck(&s, btf__add_enum64(b, "vm_flags_bits", 8, false));
	ck(&s, btf__add_enum64_value(b, "VM_READ_BIT", 0));
	ck(&s, btf__add_enum64_value(b, "VM_HIGH_ARCH", 1ULL << 40));
	v_task = ck(&s, btf__add_var(b, "init_task", BTF_VAR_GLOBAL_ALLOCATED, s_task));
	ck(&s, btf__add_datasec(b, ".data", 64));
	ck(&s, btf__add_datasec_var_info(b, v_task, 0, 64));

	if (kind == BTF_SEED_DUP) {
		s_upid = ck(&s, btf__add_struct(b, "upid", 16));
		mem(&s, "nr", i_int, 0);
		mem(&s, "ns", p_pidns, 8);
		ck(&s, btf__add_struct(b, "pid", 8));
		mem(&s, "count", t_refc, 0);
	}
	*err = s.err;
	if (s.err) {
		btf__free(b);
		return NULL;
	}
	return b;
}

static int gen_kernel_btf(const char *dir)
{
	static const size_t cuts[] = { 0, 4, 24, 100, 1000 };
	struct kernel_btf_field f[FUZZ_BTF_NFIELDS];
	uint32_t off[FUZZ_BTF_NFIELDS], esize[FUZZ_BTF_NFIELDS];
	size_t failed = FUZZ_BTF_NFIELDS;
	struct btf *b;
	const void *raw;
	uint32_t len;
	uint8_t *copy;
	int ret = 0, err;

	for (size_t i = 0; i < FUZZ_BTF_NFIELDS; i++) {
		const struct fuzz_btf_field *ff = &fuzz_btf_fields[i];

		f[i] = (struct kernel_btf_field){ ff->type, ff->path, ff->index, ff->size, &off[i],
						  ff->elem_size ? &esize[i] : NULL };
	}
	/* What each resolves to: the whole list, or the first field that fails. */
	static const struct { enum btf_seed_kind kind; const char *name; int err; size_t failed; } seeds[] = {
		{ BTF_SEED_PLAIN, "vmlinux-small", 0, FUZZ_BTF_NFIELDS },
		{ BTF_SEED_DUP, "vmlinux-dup", 0, FUZZ_BTF_NFIELDS },
		{ BTF_SEED_MANY, "vmlinux-many", -EPROTO, 17 },	/* super_block.s_dev */
		{ BTF_SEED_NEST, "vmlinux-nest", -EINVAL, FUZZ_BTF_NFIELDS },
	};

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		const char *name = seeds[k].name;
		char cut_name[64];

		b = kernel_btf_seed(seeds[k].kind, &err);
		raw = b ? btf__raw_data(b, &len) : NULL;
		if (!raw) {
			fprintf(stderr, "gen_seeds: BTF: %s\n", strerror(b ? errno : -err));
			btf__free(b);
			return 1;
		}
		/* The seeds must resolve as meant, or the fuzzer starts from refusals only. */
		copy = malloc(len);
		if (!copy)
			return 1;
		memcpy(copy, raw, len);
		failed = FUZZ_BTF_NFIELDS;
		err = kernel_btf_resolve(copy, len, f, FUZZ_BTF_NFIELDS, &failed);
		free(copy);
		if (err != seeds[k].err || failed != seeds[k].failed) {
			fprintf(stderr, "gen_seeds: %s: %s (field %zu), not %s (field %zu)\n", name,
				strerror(-err), failed, strerror(-seeds[k].err), seeds[k].failed);
			ret = 1;
		}
		ret |= write_file(dir, name, raw, len);
		if (seeds[k].kind == BTF_SEED_PLAIN) {
			for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
				snprintf(cut_name, sizeof(cut_name), "%s.cut%zu", name, cuts[c]);
				ret |= write_file(dir, cut_name, raw, cuts[c] < len ? cuts[c] : len);
			}
			snprintf(cut_name, sizeof(cut_name), "%s.cut%u", name, len / 2);
			ret |= write_file(dir, cut_name, raw, len / 2);
			snprintf(cut_name, sizeof(cut_name), "%s.cut%u", name, len - 1);
			ret |= write_file(dir, cut_name, raw, len - 1);
		}
		btf__free(b);
	}
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "sites"))
		return gen_sites(argv[2], argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "kcov"))
		return gen_kcov(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "ldso"))
		return gen_ldso(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "elf_path"))
		return gen_elf_path(argv[2], argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "kernel_btf"))
		return gen_kernel_btf(argv[2]);
	fprintf(stderr, "usage: gen_seeds sites DIR ELF... | kcov DIR | ldso DIR | "
		"elf_path DIR BIN DEBUG... | kernel_btf DIR\n");
	return 2;
}
