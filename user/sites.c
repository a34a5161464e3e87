// SPDX-License-Identifier: MIT
/*
 * The site table itself: storage, ordering, PC lookup and the vaddr to file
 * offset translation.  Reading ELF and DWARF lives in sites_elf.c and
 * sites_dwarf.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "array.h"
#include "sites.h"
#include "sites_dwarf.h"

/* ---- string storage --------------------------------------------------- */

#define STRINGS_CHUNK (64u << 10)

struct strings_chunk {
	struct strings_chunk *next;
	size_t used, cap;
	char data[];
};

struct site_strings {
	struct strings_chunk *chunks;	/* newest first; only it has room */
	char **slots;			/* open addressing, NULL = empty */
	size_t nslots, nused;		/* nslots is a power of two */
};

struct site_strings *site_strings_new(void)
{
	return calloc(1, sizeof(struct site_strings));
}

void site_strings_free(struct site_strings *s)
{
	struct strings_chunk *c, *next;

	if (!s)
		return;
	for (c = s->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(s->slots);
	free(s);
}

/* FNV-1a: short strings, no need for anything stronger. */
static uint64_t strings_hash(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 0x100000001b3ULL;
	return h;
}

static char **strings_slot(char **slots, size_t nslots, const char *str)
{
	size_t i = strings_hash(str) & (nslots - 1);

	while (slots[i] && strcmp(slots[i], str))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int strings_grow_set(struct site_strings *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 256, i;
	char **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i])
			*strings_slot(slots, n, s->slots[i]) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

static char *strings_store(struct site_strings *s, const char *str)
{
	size_t len = strlen(str) + 1;
	struct strings_chunk *c = s->chunks;
	char *p;

	if (!c || c->cap - c->used < len) {
		size_t cap = len > STRINGS_CHUNK ? len : STRINGS_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = s->chunks;
		s->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, str, len);
	c->used += len;
	return p;
}

void *site_strings_alloc(struct site_strings *s, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct strings_chunk *c = s->chunks;
	size_t pad = 0;
	void *p;

	if (size > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	if (c)
		pad = -(uintptr_t)(c->data + c->used) & (align - 1);
	if (!c || c->cap - c->used < pad + size) {
		size_t cap = size + align > STRINGS_CHUNK ? size + align : STRINGS_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c) {
			errno = ENOMEM;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = s->chunks;
		s->chunks = c;
		pad = -(uintptr_t)c->data & (align - 1);
	}
	p = c->data + c->used + pad;
	c->used += pad + size;
	memset(p, 0, size);
	return p;
}

char *site_strings_intern(struct site_strings *s, const char *str)
{
	char **slot;

	/* Keep the load under one half so probing stays short. */
	if ((s->nused + 1) * 2 > s->nslots && strings_grow_set(s)) {
		errno = ENOMEM;
		return NULL;
	}
	slot = strings_slot(s->slots, s->nslots, str);
	if (!*slot) {
		*slot = strings_store(s, str);
		if (!*slot) {
			errno = ENOMEM;
			return NULL;
		}
		s->nused++;
	}
	return *slot;
}

/* ---- the table -------------------------------------------------------- */

struct site_table *site_table_new(void)
{
	struct site_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->strings = site_strings_new();
	if (!t->strings) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->pc_base = UKCOV_PC_BASE;
	return t;
}

void site_table_free(struct site_table *t)
{
	if (!t)
		return;
	site_strings_free(t->strings);
	free(t->modules);
	free(t->sites);
	free(t);
}

/* Orders modules by path; the rest only makes equal paths deterministic. */
static int module_cmp(const struct site_module *a, size_t ia,
		      const struct site_module *b, size_t ib)
{
	int c = strcmp(a->path, b->path);

	if (!c)
		c = strcmp(a->open_path, b->open_path);
	if (!c)
		c = (ia > ib) - (ia < ib);
	return c;
}

static int site_cmp(const void *pa, const void *pb)
{
	const struct site *a = pa, *b = pb;

	if (a->module != b->module)
		return a->module < b->module ? -1 : 1;
	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr ? -1 : 1;
	/*
	 * Line sites share an address when several statements begin there
	 * (sites_line.c): order them by line, then file, so PCs stay
	 * deterministic.
	 */
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->file != b->file)
		return !a->file ? -1 : !b->file ? 1 : strcmp(a->file, b->file);
	return 0;
}

/*
 * Sorts the modules in place and returns old index -> new index, or NULL
 * on allocation failure.  Insertion sort: a table has a handful of modules.
 */
static uint32_t *sort_modules(struct site_table *t)
{
	size_t n = t->nmodules, i, j;
	size_t *order = calloc(n ? n : 1, sizeof(*order));
	uint32_t *new_index = calloc(n ? n : 1, sizeof(*new_index));
	struct site_module *sorted = calloc(n ? n : 1, sizeof(*sorted));

	if (!order || !new_index || !sorted) {
		free(new_index);
		new_index = NULL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = i; j > 0; j--) {
			size_t k = order[j - 1];

			if (module_cmp(&t->modules[k], k, &t->modules[i], i) < 0)
				break;
			order[j] = k;
		}
		order[j] = i;
	}
	for (i = 0; i < n; i++) {
		sorted[i] = t->modules[order[i]];
		new_index[order[i]] = i;
	}
	if (n)
		memcpy(t->modules, sorted, n * sizeof(*sorted));
out:
	free(order);
	free(sorted);
	return new_index;
}

void site_table_finish(struct site_table *t)
{
	uint32_t *new_index = sort_modules(t);
	size_t i;

	/*
	 * Without memory for the permutation the modules stay as they were;
	 * sorting the sites by their current module index still keeps every
	 * module contiguous and the indexes consistent.
	 */
	if (new_index) {
		for (i = 0; i < t->nsites; i++)
			t->sites[i].module = new_index[t->sites[i].module];
		free(new_index);
	}
	if (t->nsites)
		qsort(t->sites, t->nsites, sizeof(*t->sites), site_cmp);

	for (i = 0; i < t->nmodules; i++) {
		t->modules[i].first_site = 0;
		t->modules[i].nsites = 0;
	}
	for (i = t->nsites; i-- > 0;) {
		struct site_module *m = &t->modules[t->sites[i].module];

		m->first_site = i;
		m->nsites++;
	}
	/* A module without sites starts where the next one would. */
	for (i = 0; i < t->nmodules; i++)
		if (!t->modules[i].nsites)
			t->modules[i].first_site = i ? t->modules[i - 1].first_site +
						       t->modules[i - 1].nsites : 0;
	t->pc_base = UKCOV_PC_BASE;
}

void site_table_truncate(struct site_table *t, size_t nmodules)
{
	if (nmodules >= t->nmodules)
		return;
	t->nsites = t->modules[nmodules].first_site;
	t->nmodules = nmodules;
}

long site_index_of_pc(const struct site_table *t, uint64_t pc)
{
	if (pc < t->pc_base || pc - t->pc_base >= t->nsites)
		return -1;
	return (long)(pc - t->pc_base);
}

int vaddr_to_offset(const struct load_segment *segs, size_t n,
		    uint64_t vaddr, uint64_t size, bool exec, uint64_t *offset)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct load_segment *s = &segs[i];

		if (exec && !s->exec)
			continue;
		/* Written to never overflow: every value comes from the file. */
		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		if (size > s->filesz - (vaddr - s->vaddr))
			return -ERANGE;
		if (s->offset > UINT64_MAX - (vaddr - s->vaddr))
			return -ERANGE;
		*offset = s->offset + (vaddr - s->vaddr);
		return 0;
	}
	return -ERANGE;
}

/*
 * Makes room for one more module and @nsites more sites.  Growing does not
 * change what the table holds, so a later failure leaves it as it was.
 * Sites come a module at a time, and most tables are one module: the
 * first gets exactly its size (doubling from a small start left up to
 * 80 bytes of slack per site), later ones double the array.
 */
static int table_reserve(struct site_table *t, size_t nsites)
{
	if (ARRAY_GROW(t->modules, t->cap_modules, t->nmodules + 1, 4))
		return -ENOMEM;
	if (nsites > t->cap_sites - t->nsites) {
		size_t cap = t->cap_sites, need;
		void *p;

		if (nsites > SIZE_MAX / 2 - t->nsites)
			return -ENOMEM;
		need = t->nsites + nsites;
		cap = cap && cap <= SIZE_MAX / 4 && 2 * cap > need ? 2 * cap : need;
		p = reallocarray(t->sites, cap, sizeof(*t->sites));
		if (!p)
			return -ENOMEM;
		t->sites = p;
		t->cap_sites = cap;
	}
	return 0;
}

int site_table_append(struct site_table *t, const struct site_module *m,
		      const struct site *sites, size_t n)
{
	size_t i;
	int err;

	if (t->nmodules >= UINT32_MAX)
		return -E2BIG;
	err = table_reserve(t, n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		t->sites[t->nsites + i] = sites[i];
		t->sites[t->nsites + i].module = t->nmodules;
	}
	t->modules[t->nmodules] = *m;
	t->modules[t->nmodules].first_site = t->nsites;
	t->modules[t->nmodules].nsites = n;
	t->nmodules++;
	t->nsites += n;
	return 0;
}

void site_table_print_modules(const struct site_table *t, FILE *f)
{
	size_t i, j;

	for (i = 0; i < t->nmodules; i++) {
		const struct site_module *m = &t->modules[i];

		fprintf(f, "# module %zu ", i);
		escape_fputs(m->path, f);
		fputs(" build-id ", f);
		for (j = 0; j < m->build_id_len; j++)
			fprintf(f, "%02x", m->build_id[j]);
		if (!m->build_id_len)
			fputs("none", f);
		fprintf(f, " sites %zu", m->nsites);
		if (m->nifunc)
			fprintf(f, " ifunc-skipped %zu", m->nifunc);
		if (m->nrefused)
			fprintf(f, " refused %zu", m->nrefused);
		if (!m->has_dwarf)
			fputs(" no-dwarf", f);
		fputc('\n', f);
		/*
		 * A line of its own: scripts take "sites N" as the module
		 * line's last field when nothing was skipped.
		 */
		if (m->nplace_nop5 + m->nplace_emulated + m->nplace_single_step)
			fprintf(f, "# placement %zu nop5 %zu emulated %zu single-step %zu\n",
				i, m->nplace_nop5, m->nplace_emulated, m->nplace_single_step);
	}
}

static const char *const kind_names[] = {
	[SITE_KIND_FUNC] = "func",
	[SITE_KIND_LINE] = "line",
	[SITE_KIND_BB] = "bb",
};

const char *site_kind_name(enum site_kind kind)
{
	return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

int site_kind_parse(const char *name, enum site_kind *kind)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (!strcmp(name, kind_names[i])) {
			*kind = (enum site_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}
