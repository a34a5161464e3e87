// SPDX-License-Identifier: MIT
/*
 * Function sites from an ELF file's symbol table.
 *
 * Everything read from the file is treated as hostile: offsets and sizes
 * are checked against the file size before use, and a symbol that does not
 * make sense is skipped rather than trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "sites.h"
#include "sites_debuginfo.h"
#include "sites_dwarf.h"
#include "sites_ehframe.h"
#include "sites_place.h"

/* Only the host's own machine: its processes are what we probe. */
#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MACHINE EM_RISCV
#else
#error "ukcov: unsupported host architecture"
#endif

struct elf_file {
	int fd;
	Elf *elf;
	uint64_t size;			/* file size in bytes */
	uint16_t type;			/* e_type */
	struct load_segment *segs;	/* PT_LOAD, clamped to the file */
	size_t nsegs;
	/*
	 * The separate debug file (sites_debuginfo.c), NULL if none: its
	 * .symtab stands in for a stripped one, its DWARF for missing DWARF.
	 * Its segs are borrowed from the binary: the symbols' vaddrs are the
	 * binary's, and only the binary's PT_LOADs say where they are in it.
	 */
	struct elf_file *debug;
	Elf *dwarf_elf;			/* where file:line comes from: elf or debug->elf */
	bool from_symtab;		/* the symbols came from a .symtab */
};

/* A function symbol that passed every check, before merging aliases. */
struct sym {
	uint64_t vaddr, size, offset;
	const char *name;		/* in the Elf's string table */
	int rank;			/* binding preference, lower wins */
};

struct sym_vec {
	struct sym *v;
	size_t n, cap;
};

static void elf_file_close(struct elf_file *ef)
{
	if (ef->debug) {
		ef->debug->segs = NULL;
		elf_file_close(ef->debug);
		free(ef->debug);
	}
	elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->segs);
}

/* The checks of elf_file_open() once ef->elf is set (NULL: libelf failed). */
static int elf_file_check(struct elf_file *ef, const char **why)
{
	GElf_Ehdr ehdr;

	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		*why = ef->elf ? "not an ELF file" : "corrupt or truncated ELF file";
		return -ENOEXEC;
	}
	if (gelf_getclass(ef->elf) != ELFCLASS64 || !gelf_getehdr(ef->elf, &ehdr)) {
		*why = "not a 64-bit ELF file";
		return -ENOEXEC;
	}
	if (ehdr.e_machine != HOST_MACHINE) {
		*why = "ELF file for another machine";
		return -ENOEXEC;
	}
	if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN) {
		*why = "not an executable or shared object";
		return -ENOEXEC;
	}
	ef->type = ehdr.e_type;
	return 0;
}

static int elf_file_open(struct elf_file *ef, const char *path,
			 const char **why)
{
	struct stat st;

	/* O_NONBLOCK: a FIFO in the file's place must not hang us (fstat refuses it). */
	ef->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (ef->fd < 0)
		return -errno;
	if (fstat(ef->fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return -ENOEXEC;
	}
	ef->size = st.st_size;
	/* libelf's only global; setting it again is harmless. */
	if (elf_version(EV_CURRENT) == EV_NONE) {
		*why = "libelf version mismatch";
		return -ENOEXEC;
	}
	/*
	 * Read, never mmap: a uprobe link without a pid filter (following
	 * forks, attach --all) plants its int3s in every private executable
	 * mapping of the file, ukcov's own included, and the disassembly for
	 * bb sites and placement would then decode 0xcc instead of the code.
	 * pread() goes through the page cache, which uprobes never touch.
	 */
	ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
	return elf_file_check(ef, why);
}

/* Like elf_file_open() on the @len bytes at @buf (see site_table_add_elf_memory()). */
static int elf_file_open_memory(struct elf_file *ef, void *buf, size_t len,
				const char **why)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		*why = "libelf version mismatch";
		return -ENOEXEC;
	}
	ef->size = len;
	ef->elf = elf_memory(buf, len);
	return elf_file_check(ef, why);
}

/* True when [off, off+len) lies inside the file. */
static bool in_file(const struct elf_file *ef, uint64_t off, uint64_t len)
{
	return off <= ef->size && len <= ef->size - off;
}

static int read_segments(struct elf_file *ef, const char **why)
{
	size_t n, i;
	bool exec = false;

	if (elf_getphdrnum(ef->elf, &n)) {
		*why = "corrupt program headers";
		return -ENOEXEC;
	}
	ef->segs = calloc(n ? n : 1, sizeof(*ef->segs));
	if (!ef->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct load_segment *s = &ef->segs[ef->nsegs];
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, i, &ph)) {
			*why = "corrupt program headers";
			return -ENOEXEC;
		}
		if (ph.p_type != PT_LOAD || ph.p_offset > ef->size)
			continue;
		s->vaddr = ph.p_vaddr;
		s->offset = ph.p_offset;
		/* A truncated file backs less than the header claims. */
		s->filesz = in_file(ef, ph.p_offset, ph.p_filesz) ?
			    ph.p_filesz : ef->size - ph.p_offset;
		s->exec = ph.p_flags & PF_X;
		exec |= s->exec && s->filesz;
		ef->nsegs++;
	}
	if (!exec) {
		*why = "no executable PT_LOAD segment";
		return -ENOEXEC;
	}
	return 0;
}

static int sym_vec_push(struct sym_vec *vec, const struct sym *s)
{
	if (ARRAY_GROW(vec->v, vec->cap, vec->n + 1, 256))
		return -ENOMEM;
	vec->v[vec->n++] = *s;
	return 0;
}

static int bind_rank(unsigned char bind)
{
	switch (bind) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	case STB_LOCAL:
		return 2;
	default:
		return 3;
	}
}

/*
 * Adds @sym to @vec when it is a defined function whose whole body lies in
 * an executable segment's file-backed part; counts IFUNCs in *@nifunc.
 */
static int consider_symbol(const struct elf_file *ef, const GElf_Sym *sym,
			   size_t strndx, struct sym_vec *vec, size_t *nifunc)
{
	unsigned char type = GELF_ST_TYPE(sym->st_info);
	struct sym s;

	if (sym->st_shndx == SHN_UNDEF)
		return 0;
	if (type == STT_GNU_IFUNC) {
		/* Its body is the resolver, run once by ld.so: not a site. */
		(*nifunc)++;
		return 0;
	}
	if (type != STT_FUNC || !sym->st_size)
		return 0;
	if (vaddr_to_offset(ef->segs, ef->nsegs, sym->st_value, sym->st_size,
			    true, &s.offset))
		return 0;
	/* elf_strptr checks the offset against the string section. */
	s.name = elf_strptr(ef->elf, strndx, sym->st_name);
	if (!s.name || !*s.name)
		return 0;
	s.vaddr = sym->st_value;
	s.size = sym->st_size;
	s.rank = bind_rank(GELF_ST_BIND(sym->st_info));
	return sym_vec_push(vec, &s);
}

/* Reads the function symbols of symbol table section @scn into @vec. */
static int read_symtab(const struct elf_file *ef, Elf_Scn *scn,
		       struct sym_vec *vec, size_t *nifunc, const char **why)
{
	size_t entsize = gelf_fsize(ef->elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Data *data;
	GElf_Shdr sh;
	size_t i, n;
	int err;

	if (!gelf_getshdr(scn, &sh) || sh.sh_entsize != entsize ||
	    !in_file(ef, sh.sh_offset, sh.sh_size) ||
	    !elf_getscn(ef->elf, sh.sh_link)) {
		*why = "corrupt symbol table";
		return -ENOEXEC;
	}
	data = elf_getdata(scn, NULL);
	if (!data || data->d_size > sh.sh_size) {
		*why = "corrupt symbol table";
		return -ENOEXEC;
	}
	n = data->d_size / entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(data, i, &sym))
			continue;
		err = consider_symbol(ef, &sym, sh.sh_link, vec, nifunc);
		if (err)
			return err;
	}
	return 0;
}

static Elf_Scn *find_section(Elf *elf, uint32_t type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

/*
 * .symtab names static functions too; .dynsym is what a stripped file
 * keeps.  Prefer the first (the binary's, else the separate debug file's)
 * and fall back when it has no functions.  A corrupt debug file is
 * ignored: it is a hint, the binary is what runs.
 */
static int read_symbols(struct elf_file *ef, struct sym_vec *vec,
			size_t *nifunc, const char **why)
{
	Elf_Scn *symtab = find_section(ef->elf, SHT_SYMTAB);
	Elf_Scn *dynsym = find_section(ef->elf, SHT_DYNSYM);
	size_t nifunc0 = *nifunc;
	int err;

	/* A .symtab is the whole truth, even an empty one: no guessing from FDEs. */
	ef->from_symtab = symtab != NULL;
	if (symtab) {
		err = read_symtab(ef, symtab, vec, nifunc, why);
		if (err || vec->n || *nifunc)
			return err;
	}
	if (ef->debug && (symtab = find_section(ef->debug->elf, SHT_SYMTAB))) {
		const char *ignored;

		err = read_symtab(ef->debug, symtab, vec, nifunc, &ignored);
		if (err == -ENOMEM)
			return err;
		if (!err && (vec->n || *nifunc)) {
			ef->from_symtab = true;
			return 0;
		}
		vec->n = 0;
		*nifunc = nifunc0;
	}
	if (dynsym)
		return read_symtab(ef, dynsym, vec, nifunc, why);
	return 0;
}

static int vaddr_cmp(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	return (a->vaddr > b->vaddr) - (a->vaddr < b->vaddr);
}

/*
 * Without any .symtab, .dynsym names only the exported functions: adds a
 * site for every other function start an .eh_frame FDE gives, named
 * sub_OFFSET (OFFSET: its file offset, in hex) and interned in @strings.
 */
static int add_unwind_functions(const struct elf_file *ef, struct site_strings *strings,
				struct sym_vec *vec)
{
	struct ehframe_func *fdes = NULL;
	size_t nfdes = 0, nsyms = vec->n;
	int err;

	err = ehframe_functions(ef->elf, &fdes, &nfdes);
	if (err)
		return err;
	/* Sorted, so a symbol's start is found by bsearch; pushes go after. */
	if (nsyms)
		qsort(vec->v, nsyms, sizeof(*vec->v), vaddr_cmp);
	for (size_t i = 0; i < nfdes; i++) {
		struct sym s = { .vaddr = fdes[i].vaddr, .size = fdes[i].size, .rank = 4 };
		char name[32];

		if (nsyms && bsearch(&s, vec->v, nsyms, sizeof(*vec->v), vaddr_cmp))
			continue;
		if (vaddr_to_offset(ef->segs, ef->nsegs, s.vaddr, s.size, true, &s.offset))
			continue;
		snprintf(name, sizeof(name), "sub_%llx", (unsigned long long)s.offset);
		s.name = site_strings_intern(strings, name);
		if (!s.name) {
			err = -ENOMEM;
			break;
		}
		err = sym_vec_push(vec, &s);
		if (err)
			break;
	}
	free(fdes);
	return err;
}

static bool has_section_named(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) && !strcmp(name, want))
			return true;
	}
	return false;
}

/*
 * Opens the separate debug file when the binary lacks a .symtab, or DWARF
 * that is wanted, or the user named one (--debug-file).  Not finding one
 * is not an error; a --debug-file that cannot be used is.
 */
static int open_debug_file(struct elf_file *ef, const char *path,
			   const struct site_options *o, const char **why)
{
	const char *override = o ? o->debug_file : NULL;
	bool want_dwarf = !o || !o->no_dwarf;
	bool has_dwarf = has_section_named(ef->elf, ".debug_info");
	struct elf_file *dbg = NULL;
	const char *dbg_why = NULL;
	char *dpath;
	int err;

	ef->dwarf_elf = ef->elf;
	if (!override && find_section(ef->elf, SHT_SYMTAB) && (has_dwarf || !want_dwarf))
		return 0;
	dpath = debuginfo_find(ef->elf, path, override);
	if (!dpath) {
		err = -errno;
		if (!override)
			return err == -ENOMEM ? err : 0;
		*why = err == -EINVAL ? "the --debug-file belongs to another build (build-id or CRC differs)" :
		       "cannot read the --debug-file";
		return err;
	}
	dbg = calloc(1, sizeof(*dbg));
	if (!dbg) {
		free(dpath);
		return -ENOMEM;
	}
	dbg->fd = -1;
	err = elf_file_open(dbg, dpath, &dbg_why);
	free(dpath);
	if (err) {
		elf_file_close(dbg);
		free(dbg);
		if (!override)
			return err == -ENOMEM ? err : 0;
		*why = "the --debug-file is not an ELF file for this machine";
		return -EINVAL;
	}
	dbg->segs = ef->segs;
	dbg->nsegs = ef->nsegs;
	ef->debug = dbg;
	if (!has_dwarf)
		ef->dwarf_elf = dbg->elf;
	return 0;
}

static int sym_cmp(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	return strcmp(a->name, b->name);
}

/*
 * Merges symbols at one vaddr into one site each.  Returns the sites
 * (sorted by vaddr, names interned in @strings) in *@out, their count in
 * *@n.  Returns 0 or a negative errno.
 */
static int merge_symbols(struct sym_vec *vec, struct site_strings *strings,
			 struct site **out, size_t *n)
{
	struct site *sites;
	size_t i, j;

	qsort(vec->v, vec->n, sizeof(*vec->v), sym_cmp);
	sites = calloc(vec->n ? vec->n : 1, sizeof(*sites));
	if (!sites)
		return -ENOMEM;
	*n = 0;
	for (i = 0; i < vec->n; i = j) {
		const struct sym *best = &vec->v[i];
		struct site *s = &sites[(*n)++];

		s->vaddr = best->vaddr;
		s->offset = best->offset;
		s->probe_offset = best->offset;
		s->size = best->size;
		s->flags = SITE_FUNC_ENTRY;
		for (j = i + 1; j < vec->n && vec->v[j].vaddr == best->vaddr; j++) {
			if (strcmp(vec->v[j].name, best->name))
				s->flags |= SITE_ALIAS;
			if (vec->v[j].size > s->size)
				s->size = vec->v[j].size;
		}
		s->func = site_strings_intern(strings, best->name);
		if (!s->func) {
			free(sites);
			return -ENOMEM;
		}
	}
	*out = sites;
	return 0;
}

/* Copies an NT_GNU_BUILD_ID note of @data to @m; true when found. */
static bool note_build_id(Elf_Data *data, struct site_module *m)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
		const char *name = (const char *)data->d_buf + name_off;

		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(name, "GNU", 4) && nh.n_descsz) {
			m->build_id_len = nh.n_descsz < SITE_BUILD_ID_MAX ?
					  nh.n_descsz : SITE_BUILD_ID_MAX;
			memcpy(m->build_id, (const char *)data->d_buf + desc_off,
			       m->build_id_len);
			return true;
		}
		off = next;
	}
	return false;
}

/* Section headers first; PT_NOTE for files stripped of them. */
static void read_build_id(const struct elf_file *ef, struct site_module *m)
{
	Elf_Scn *scn = NULL;
	size_t n, i;
	GElf_Shdr sh;
	GElf_Phdr ph;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    !in_file(ef, sh.sh_offset, sh.sh_size))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && note_build_id(data, m))
			return;
	}
	if (elf_getphdrnum(ef->elf, &n))
		return;
	for (i = 0; i < n; i++) {
		Elf_Data *data;

		if (!gelf_getphdr(ef->elf, i, &ph) || ph.p_type != PT_NOTE ||
		    !in_file(ef, ph.p_offset, ph.p_filesz))
			continue;
		data = elf_getdata_rawchunk(ef->elf, ph.p_offset, ph.p_filesz,
					    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (data && note_build_id(data, m))
			return;
	}
}

/* Everything but the symbols: paths, kind, build-id, line info. */
static int describe_module(struct site_table *t, const struct elf_file *ef,
			   const char *open_path, const char *display_path,
			   struct site_module *m)
{
	m->pie = ef->type == ET_DYN;
	/* The lowest segment's page: where a loader maps the image. */
	m->image_base = UINT64_MAX;
	for (size_t i = 0; i < ef->nsegs; i++)
		if (ef->segs[i].vaddr < m->image_base)
			m->image_base = ef->segs[i].vaddr & ~(uint64_t)0xfff;
	read_build_id(ef, m);
	m->open_path = site_strings_intern(t->strings, open_path);
	m->path = site_strings_intern(t->strings, display_path ?: open_path);
	return m->open_path && m->path ? 0 : -ENOMEM;
}

/*
 * Reads the sites of the ELF image into @t: the @len bytes at @buf, or the
 * file @open_path when @buf is NULL.  An image in memory has no directory
 * to look for a separate debug file in, so it gets none.
 */
static int add_elf(struct site_table *t, void *buf, size_t len,
		   const char *open_path, const char *display_path,
		   const struct site_options *o, const char **why)
{
	struct elf_file ef = { .fd = -1 };
	struct sym_vec syms = {};
	struct site_module m = {};
	struct site *sites = NULL;
	const char *why_unused;
	size_t n = 0;
	int err;

	if (!why)
		why = &why_unused;
	*why = NULL;
	err = buf ? elf_file_open_memory(&ef, buf, len, why) :
		    elf_file_open(&ef, open_path, why);
	/*
	 * The whole image now, before any section is read: sites_build_kind()
	 * wants it for the code anyway, and libelf 0.192 leaks every section
	 * an ELF_C_READ handle read before elf_rawfile() loaded the rest
	 * (elf_end() then takes them for parts of the image).
	 */
	if (!err && !buf && !elf_rawfile(ef.elf, NULL)) {
		*why = "cannot read the file";
		err = -EIO;
	}
	if (err)
		goto out;
	err = read_segments(&ef, why);
	if (err)
		goto out;
	if (buf)
		ef.dwarf_elf = ef.elf;
	else
		err = open_debug_file(&ef, display_path ?: open_path, o, why);
	if (err)
		goto out;
	err = read_symbols(&ef, &syms, &m.nifunc, why);
	if (!err && !ef.from_symtab) {
		err = add_unwind_functions(&ef, t->strings, &syms);
		/* The command layer prints *why for -E2BIG: never leave it NULL. */
		if (err == -E2BIG)
			*why = "too many .eh_frame entries";
	}
	if (err)
		goto out;
	if (!syms.n) {
		/* A .symtab is trusted whole: its size-0 symbols (assembly without .size) name no range. */
		*why = ef.from_symtab ?
		       "no function symbols with a size in .symtab (assembly needs .size directives)" :
		       "no function symbols, and no .eh_frame entries to find functions by";
		err = -ENODATA;
		goto out;
	}
	err = merge_symbols(&syms, t->strings, &sites, &n);
	if (err)
		goto out;
	if (n > SITES_MAX_PER_MODULE) {
		*why = "too many function symbols";
		err = -E2BIG;
		goto out;
	}
	/* file:line, then the sites of the kind asked for, each placed. */
	err = sites_build_kind(o ? o->kind : SITE_KIND_FUNC, o && o->no_dwarf,
			       ef.elf, ef.dwarf_elf, t->strings, &sites, &n, &m, why);
	if (err)
		goto out;
	err = describe_module(t, &ef, open_path, display_path, &m);
	if (err)
		goto out;
	sites_sort(sites, n);
	err = site_table_append(t, &m, sites, n);
out:
	free(sites);
	free(syms.v);
	elf_file_close(&ef);
	return err;
}

int site_table_add_elf(struct site_table *t, const char *open_path,
		       const char *display_path, const struct site_options *o,
		       const char **why)
{
	return add_elf(t, NULL, 0, open_path, display_path, o, why);
}

int site_table_add_elf_memory(struct site_table *t, void *buf, size_t len,
			      const char *display_path, const struct site_options *o,
			      const char **why)
{
	if (!buf || !len) {
		if (why)
			*why = "not an ELF file";
		return -ENOEXEC;
	}
	display_path = display_path ?: "(memory)";
	return add_elf(t, buf, len, display_path, display_path, o, why);
}
