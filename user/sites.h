/* SPDX-License-Identifier: MIT */
/*
 * The site table: every code location ukcov probes, in synthetic-PC order.
 *
 * Units, because they are easy to mix up:
 *   vaddr   - an ELF virtual address as the link editor assigned it
 *             (st_value, DWARF addresses).  Not what the process sees for PIE.
 *   offset  - a byte offset in the module's file.  This is what the kernel's
 *             uprobe API takes and what MODULE+0xOFFSET prints.
 *   index   - a site's position in the table, 0..nsites-1; the BPF cookie.
 *   PC      - synthetic PC, UKCOV_PC_BASE + index (see include/ukcov/kcov.h).
 *
 * The table owns every string it points to.  Sites are sorted by module
 * (modules by path) and then by vaddr, so indexes and PCs are deterministic:
 * the same binary and options always give the same table, whichever command
 * builds it.
 */
#ifndef UKCOV_SITES_H
#define UKCOV_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ukcov/kcov.h"

#define SITE_BUILD_ID_MAX 64

/*
 * Hard limits on what discovery accepts from a file: a hostile or corrupt
 * ELF must not make ukcov allocate without bound.
 */
#define SITES_MAX_PER_MODULE (4u << 20)

struct site_module {
	char *path;		/* path as the user named it (or /proc/PID/exe target) */
	char *open_path;	/* path the ELF was read from and probes attach to */
	uint8_t build_id[SITE_BUILD_ID_MAX];
	size_t build_id_len;	/* 0 when the module has no NT_GNU_BUILD_ID */
	bool pie;		/* ET_DYN: vaddrs are relative to the load base */
	bool has_dwarf;		/* file:line came from DWARF */
	size_t first_site;	/* index of the module's first site */
	size_t nsites;
	size_t nifunc;		/* IFUNC resolvers skipped */
	/*
	 * Where the probes went (sites_place.c): how many sites sit on a
	 * 5-byte NOP the kernel turns into a call, on an instruction it
	 * emulates, or on one it single-steps; and how many candidate sites
	 * were dropped because the kernel refuses every instruction they
	 * could be probed on.  All 0 for a table built by hand.
	 */
	size_t nplace_nop5, nplace_emulated, nplace_single_step;
	size_t nrefused;
	uint64_t image_base;	/* vaddr of the lowest PT_LOAD, page-aligned: the
				 * image base that drcov-style RVAs count from */
};

enum site_flags {
	SITE_ALIAS = 1u << 0,	/* other symbols name the same address */
	SITE_FUNC_ENTRY = 1u << 1,	/* the function's entry site: one per function,
					 * at its first instruction */
	/*
	 * Line sites: control can reach the site's line here from code of
	 * another line, so each execution is one more of the line
	 * (sites_line.c says when; sinks/lines.h how reports use it).
	 */
	SITE_ENTERS_LINE = 1u << 2,
	/*
	 * bb sites with DWARF: the block runs exactly the lines in rows[]
	 * (possibly none); reports count it on those, not on file:line.
	 */
	SITE_ROWS = 1u << 3,
};

#define SITE_FLAGS_ALL (SITE_ALIAS | SITE_FUNC_ENTRY | SITE_ENTERS_LINE | SITE_ROWS)

/*
 * A source line a basic block runs: a statement row that begins inside
 * it.  @entries is how many of the block's rows on this line enter it
 * (what SITE_ENTERS_LINE says of a line site), so that a block counts on
 * its lines exactly as line sites on the same rows would.
 */
struct site_row {
	const char *file;	/* owned by the table */
	uint32_t line;		/* >= 1 */
	uint32_t entries;
};

/* What a site stands for; one kind per table (--sites). */
enum site_kind {
	SITE_KIND_FUNC,		/* function entries, from symbols */
	SITE_KIND_LINE,		/* DWARF line-table statement rows */
	SITE_KIND_BB,		/* basic-block leaders, from disassembly */
};

struct site {
	uint32_t module;	/* index into site_table.modules */
	uint32_t flags;		/* enum site_flags */
	uint64_t vaddr;		/* ELF vaddr of the site (function start) */
	uint64_t offset;	/* file offset of the site (vaddr via PT_LOAD) */
	uint64_t probe_offset;	/* file offset the uprobe goes on; == offset
				 * unless placement moved it within the block */
	uint64_t size;		/* bytes covered: the function's st_size */
	const char *func;	/* symbol name, never NULL */
	const char *file;	/* source file from DWARF, NULL if unknown */
	uint32_t line;		/* source line, 0 if unknown */
	uint32_t func_line;	/* line naming the function (DW_AT_decl_line),
				 * else of its entry row; 0 if unknown */
	/*
	 * With SITE_ROWS: the lines the site's code runs, sorted by (file
	 * (strcmp), line), each once; owned by the table.  NULL otherwise.
	 */
	const struct site_row *rows;
	uint32_t nrows;
};

/*
 * The table.  Sites are stored compactly (sites_store.h): read them with
 * site_table_get() or the single-field accessors below, never in place.
 */
struct site_table {
	struct site_module *modules;
	size_t nmodules;
	size_t nsites;
	uint64_t pc_base;
	enum site_kind kind;	/* what the sites are; set by whoever builds the
				 * table (SITE_KIND_FUNC after site_table_new()) */
	/* private: storage */
	struct site_strings *strings;
	struct site_store *store;
	size_t cap_modules;
};

/* Options that select and shape sites; shared by every command. */
struct site_options {
	enum site_kind kind;	/* SITE_KIND_FUNC unless --sites says otherwise */
	bool no_dwarf;		/* skip file:line lookup (faster on huge binaries) */
	const char *debug_file;	/* --debug-file: separate debug info of the main
				 * module (site_table_add_elf uses it for the file
				 * it is given); NULL: search (sites_debuginfo.h) */
};

/* "func", "line", "bb". */
const char *site_kind_name(enum site_kind kind);

/* Parses a --sites value.  Returns 0 or -EINVAL. */
int site_kind_parse(const char *name, enum site_kind *kind);

/* An empty table.  Returns NULL and sets errno on allocation failure. */
struct site_table *site_table_new(void);

/* Frees the table and everything it owns.  Accepts NULL. */
void site_table_free(struct site_table *t);

/*
 * Reads function sites of the ELF file at @open_path into @t as a new module
 * named @display_path (NULL: same as @open_path).  Reads .symtab, falling
 * back to .dynsym; keeps defined STT_FUNC symbols of non-zero size whose
 * whole range lies in an executable PT_LOAD segment; skips STT_GNU_IFUNC;
 * merges symbols at the same vaddr into one site (the first name in
 * preference order global > weak > local, then alphabetical, marked
 * SITE_ALIAS).  Looks up file:line in DWARF when present.
 *
 * Call site_table_finish() after the last module.
 * Returns 0, or a negative errno:
 *   -ENOENT/-EACCES/...  the file could not be opened
 *   -ENOEXEC             not an ELF file, or not one ukcov can probe
 *                        (wrong class/machine, no executable segment)
 *   -ENODATA             an ELF with no function symbols
 *   -E2BIG               more than SITES_MAX_PER_MODULE sites
 * On error @t is unchanged.  *@why, when non-NULL, receives a static string
 * refining the error (e.g. "no executable PT_LOAD segment").
 */
int site_table_add_elf(struct site_table *t, const char *open_path,
		       const char *display_path, const struct site_options *o,
		       const char **why);

/*
 * site_table_add_elf() on an ELF image in memory: the @len bytes at @buf,
 * which must stay valid and unchanged until the call returns (nothing
 * keeps a pointer into it).  The module's path and open_path are
 * @display_path (NULL: "(memory)").  No separate debug file is looked for
 * (o->debug_file is ignored): an image in memory has no directory.  The
 * entry point for fuzzers: it opens no file.
 */
int site_table_add_elf_memory(struct site_table *t, void *buf, size_t len,
			      const char *display_path, const struct site_options *o,
			      const char **why);

/*
 * Sorts modules by path and sites by (module, vaddr), fixes up first_site
 * and the module indexes, and numbers the sites.  Idempotent.
 */
void site_table_finish(struct site_table *t);

/*
 * Drops modules @nmodules.. of @t and their sites, which must be the last
 * sites: undoes modules appended to a finished table (site_table_add_elf()
 * after site_table_finish() appends without renumbering; sites_libs.h).
 * Their strings stay in the table's storage until it is freed.
 */
void site_table_truncate(struct site_table *t, size_t nmodules);

/* Synthetic PC of site @index. */
static inline uint64_t site_pc(const struct site_table *t, size_t index)
{
	return t->pc_base + index;
}

/*
 * Site @index (< t->nsites), expanded into @out.  Its strings and rows
 * belong to @t and live as long as it does.
 */
void site_table_get(const struct site_table *t, size_t index, struct site *out);

/* Site @index's module, probe file offset and function name, without the rest. */
uint32_t site_module_of(const struct site_table *t, size_t index);
uint64_t site_probe_offset(const struct site_table *t, size_t index);
const char *site_func(const struct site_table *t, size_t index);

/*
 * Keeps the sites of @t's last module (just appended, sites_libs.h) for
 * which @keep returns true, in order; drops the module when none is left.
 * Returns the number kept, or a negative errno (-ENOMEM) with the module
 * as it was.
 */
long site_table_filter_last(struct site_table *t,
			    bool (*keep)(const struct site *s, void *ctx), void *ctx);

/* Heap bytes the table holds: sites, modules and strings. */
size_t site_table_bytes(const struct site_table *t);

/*
 * Site index of synthetic PC @pc, or -1 when @pc names no site of @t.
 */
long site_index_of_pc(const struct site_table *t, uint64_t pc);

/*
 * Prints one header line per module of @t to @f:
 *   # module INDEX PATH build-id HEX|none sites N[ ifunc-skipped K][ refused K][ no-dwarf]
 * followed, when placement ran for the module, by
 *   # placement INDEX nop5 N emulated N single-step N
 * Shared by `ukcov sites` and the text report so both describe modules alike.
 */
void site_table_print_modules(const struct site_table *t, FILE *f);

/*
 * Translates ELF vaddr @vaddr to a file offset through the PT_LOAD program
 * headers @phdrs (of count @n).  Only segments with PF_X count when @exec is
 * true.  The whole range [vaddr, vaddr+size) must lie in one segment's
 * file-backed part.  Returns 0 and sets *@offset, or -ERANGE.
 * Exposed for unit tests; takes plain values so it needs no libelf.
 */
struct load_segment {
	uint64_t vaddr, offset, filesz;
	bool exec;
};
int vaddr_to_offset(const struct load_segment *segs, size_t n,
		    uint64_t vaddr, uint64_t size, bool exec, uint64_t *offset);

#endif /* UKCOV_SITES_H */
