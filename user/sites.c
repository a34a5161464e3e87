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
#include "sites_store.h"

/* ---- the table -------------------------------------------------------- */

struct site_table *site_table_new(void)
{
	struct site_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->strings = site_strings_new();
	t->store = calloc(1, sizeof(*t->store));
	if (!t->strings || !t->store) {
		site_strings_free(t->strings);
		free(t->store);
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
	if (t->store)
		site_store_release(t->store);
	free(t->store);
	free(t->modules);
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

/* Sites of one module, in the order that makes PCs deterministic. */
static int site_cmp(const void *pa, const void *pb)
{
	const struct site *a = pa, *b = pb;

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

void sites_sort(struct site *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), site_cmp);
}

/*
 * The modules' order by path: order[k] is the module that goes k-th.
 * Insertion sort: a table has a handful of modules.  NULL on allocation
 * failure.
 */
static size_t *module_order(const struct site_table *t)
{
	size_t n = t->nmodules, i, j;
	size_t *order = calloc(n ? n : 1, sizeof(*order));

	if (!order)
		return NULL;
	for (i = 0; i < n; i++) {
		for (j = i; j > 0; j--) {
			size_t k = order[j - 1];

			if (module_cmp(&t->modules[k], k, &t->modules[i], i) < 0)
				break;
			order[j] = k;
		}
		order[j] = i;
	}
	return order;
}

/* Whether the modules are in @order already, each with its sites sorted. */
static bool in_order(const struct site_table *t, const size_t *order)
{
	struct site prev, cur;

	for (size_t k = 0; k < t->nmodules; k++) {
		const struct site_module *m = &t->modules[order[k]];

		if (order[k] != k)
			return false;
		for (size_t i = m->first_site; i < m->first_site + m->nsites; i++) {
			site_store_get(t->store, t->strings, i, &cur);
			if (i > m->first_site && site_cmp(&prev, &cur) > 0)
				return false;
			prev = cur;
		}
	}
	return true;
}

/*
 * Rewrites the sites module by module in @order, each module's sorted,
 * into a new store, and puts the modules in that order.  Returns 0 or
 * -ENOMEM with @t unchanged.
 */
static int reorder(struct site_table *t, const size_t *order)
{
	struct site_store st = {};
	struct site_module *mods = calloc(t->nmodules ? t->nmodules : 1, sizeof(*mods));
	struct site *v = NULL;
	size_t cap = 0;
	int err = mods ? site_store_reserve(&st, t->nsites) : -ENOMEM;

	for (size_t k = 0; !err && k < t->nmodules; k++) {
		const struct site_module *m = &t->modules[order[k]];

		if (ARRAY_GROW(v, cap, m->nsites, 1)) {
			err = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < m->nsites; i++)
			site_store_get(t->store, t->strings, m->first_site + i, &v[i]);
		sites_sort(v, m->nsites);
		mods[k] = *m;
		mods[k].first_site = st.n;
		for (size_t i = 0; !err && i < m->nsites; i++)
			err = site_store_push(&st, t->strings, &v[i]);
	}
	free(v);
	if (err) {
		site_store_release(&st);
		free(mods);
		return err;
	}
	site_store_release(t->store);
	*t->store = st;
	if (t->nmodules)
		memcpy(t->modules, mods, t->nmodules * sizeof(*mods));
	free(mods);
	return 0;
}

void site_table_finish(struct site_table *t)
{
	size_t *order = module_order(t);

	/*
	 * Without memory to reorder, the table stays as it was: still
	 * consistent, only not in the canonical order.
	 */
	if (order && !in_order(t, order))
		reorder(t, order);
	free(order);
	/* A module without sites starts where the next one would. */
	for (size_t i = 0; i < t->nmodules; i++)
		if (!t->modules[i].nsites)
			t->modules[i].first_site = i ? t->modules[i - 1].first_site +
						       t->modules[i - 1].nsites : 0;
	t->pc_base = UKCOV_PC_BASE;
	site_strings_seal(t->strings);
}

void site_table_truncate(struct site_table *t, size_t nmodules)
{
	if (nmodules >= t->nmodules)
		return;
	t->nsites = t->modules[nmodules].first_site;
	t->nmodules = nmodules;
	site_store_truncate(t->store, t->nsites);
}

uint32_t site_module_of(const struct site_table *t, size_t index)
{
	size_t lo = 0, hi = t->nmodules;

	/* The last module starting at or before @index holds it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->modules[mid].first_site <= index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (uint32_t)(lo - 1) : 0;
}

void site_table_get(const struct site_table *t, size_t index, struct site *out)
{
	site_store_get(t->store, t->strings, index, out);
	out->module = site_module_of(t, index);
}

uint64_t site_probe_offset(const struct site_table *t, size_t index)
{
	return site_store_probe_offset(t->store, index);
}

const char *site_func(const struct site_table *t, size_t index)
{
	return site_store_func(t->store, t->strings, index);
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

int site_table_append(struct site_table *t, const struct site_module *m,
		      const struct site *sites, size_t n)
{
	struct site_store *st = t->store;
	size_t first = t->nsites, more = n;
	int err = 0;

	if (t->nmodules >= UINT32_MAX)
		return -E2BIG;
	if (ARRAY_GROW(t->modules, t->cap_modules, t->nmodules + 1, 4))
		return -ENOMEM;
	/*
	 * Sites come a module at a time, and most tables are one module:
	 * the first gets exactly its size, later ones double the array.
	 */
	if (st->cap && n > st->cap - st->n)
		more = st->cap > n ? st->cap : n;
	err = site_store_reserve(st, more);
	for (size_t i = 0; !err && i < n; i++)
		err = site_store_push(st, t->strings, &sites[i]);
	if (err) {
		site_store_truncate(st, first);
		return err;
	}
	t->modules[t->nmodules] = *m;
	t->modules[t->nmodules].first_site = first;
	t->modules[t->nmodules].nsites = n;
	t->nmodules++;
	t->nsites += n;
	return 0;
}

long site_table_filter_last(struct site_table *t,
			    bool (*keep)(const struct site *s, void *ctx), void *ctx)
{
	struct site_module *m = &t->modules[t->nmodules - 1];
	size_t first = m->first_site, kept = 0;
	struct site *v = calloc(m->nsites ? m->nsites : 1, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->nsites; i++) {
		site_table_get(t, first + i, &v[kept]);
		kept += keep(&v[kept], ctx);
	}
	if (kept < m->nsites) {
		/* Strings and rows stay in the pool: pushing them back copies nothing. */
		site_store_truncate(t->store, first);
		for (size_t i = 0; !err && i < kept; i++)
			err = site_store_push(t->store, t->strings, &v[i]);
		if (err)
			kept = 0;
		site_store_truncate(t->store, first + kept);
		m->nsites = kept;
		t->nsites = first + kept;
	}
	free(v);
	if (!m->nsites)
		t->nmodules--;
	return err ? err : (long)kept;
}

size_t site_table_bytes(const struct site_table *t)
{
	return sizeof(*t) + sizeof(*t->store) + t->cap_modules * sizeof(*t->modules) +
	       site_store_bytes(t->store) + site_strings_bytes(t->strings);
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
