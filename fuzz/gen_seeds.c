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

#include "fuzz_elf_path.h"
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
	fprintf(stderr, "usage: gen_seeds sites DIR ELF... | kcov DIR | ldso DIR | "
		"elf_path DIR BIN DEBUG...\n");
	return 2;
}
