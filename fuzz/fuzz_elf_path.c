// SPDX-License-Identifier: MIT
/*
 * Site discovery from an ELF *file* and its separate debug file: the
 * path-based open of site_table_add_elf(), and the search of
 * sites_debuginfo.c - the .gnu_debuglink name next to the binary and in
 * its .debug/, the build-id tree under the debug root, --debug-file -
 * which fuzz_elf's in-memory images never reach.
 *
 * Each input (fuzz_elf_path.h) is two images: the binary, written to
 * DIR/bin/prog, and a debug file (or a FIFO, a directory, a symlink to the
 * binary) put where the mode says, all in a fresh directory under a
 * private temp directory that is emptied after every input.  The debug
 * root is redirected there ($UKCOV_DEBUG_ROOT) and debuginfod is off, so
 * nothing outside is read.
 *
 * Beyond "does not crash" (and "does not hang": a FIFO must never be
 * waited on, libFuzzer's -timeout catches that): every error comes with a
 * reason; a table that was built satisfies the table's invariants, every
 * site's bytes lie in the binary's file, and it survives the site-table
 * file; the binary's file is not written to.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>
#include <gelf.h>

#include "fuzz_common.h"
#include "fuzz_elf_path.h"
#include "sites.h"

static char base[PATH_MAX];	/* the private temp directory */
static int verbose;		/* FUZZ_VERBOSE=1: one line per input */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes @dir and everything under it; never follows a symlink. */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_base(void)
{
	if (base[0])
		rm_tree(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	char root[PATH_MAX + 16];

	(void)argc;
	(void)argv;
	snprintf(base, sizeof(base), "%s/ukcov-fuzz-elf-path.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		fuzz_fail("mkdtemp %s: %s", base, strerror(errno));
	atexit(remove_base);
	snprintf(root, sizeof(root), "%s/run/root", base);
	/* The global debug directory and debuginfod are outside: not searched. */
	setenv("UKCOV_DEBUG_ROOT", root, 1);
	unsetenv("DEBUGINFOD_URLS");
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return 0;
}

static void write_all(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		fuzz_fail("create %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			fuzz_fail("write %s: %s", path, strerror(errno));
		buf += n;
		len -= n;
	}
	close(fd);
}

/* mkdir -p of the directory part of @path (which it changes back). */
static void make_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fuzz_fail("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

/* Puts @what at @path: B's bytes, or one of the traps. */
static void place(char *path, enum elf_pair_what what, const uint8_t *b, size_t blen,
		  const char *binary)
{
	make_parents(path);
	switch (what) {
	case PAIR_FILE:
		write_all(path, b, blen);
		break;
	case PAIR_FIFO:
		if (mkfifo(path, 0644))
			fuzz_fail("mkfifo %s: %s", path, strerror(errno));
		break;
	case PAIR_DIRECTORY:
		if (mkdir(path, 0755))
			fuzz_fail("mkdir %s: %s", path, strerror(errno));
		break;
	case PAIR_LINK_TO_BINARY:
		if (symlink(binary, path))
			fuzz_fail("symlink %s: %s", path, strerror(errno));
		break;
	}
}

/* A's .gnu_debuglink name, when it is one file name; else NULL. */
static const char *debuglink_name(Elf *elf)
{
	GElf_Word crc;
	const char *name = elf ? dwelf_elf_gnu_debuglink(elf, &crc) : NULL;

	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) > NAME_MAX)
		return NULL;
	return name;
}

/*
 * Where B goes, into @path (of PATH_MAX bytes): 0, or -1 when A has no
 * debuglink name or build-id to put it under.
 */
static int where_path(enum elf_pair_where where, Elf *elf, const char *dir, char *path)
{
	const uint8_t *id = NULL;
	const char *name;
	ssize_t idlen;
	int used;

	switch (where) {
	case PAIR_DEBUGLINK:
	case PAIR_DEBUGLINK_SUBDIR:
		name = debuglink_name(elf);
		if (!name)
			return -1;
		snprintf(path, PATH_MAX, "%s/bin/%s%s", dir,
			 where == PAIR_DEBUGLINK_SUBDIR ? ".debug/" : "", name);
		return 0;
	case PAIR_BUILD_ID:
		idlen = elf ? dwelf_elf_gnu_build_id(elf, (const void **)&id) : -1;
		if (idlen < 2 || idlen > 64)
			return -1;
		used = snprintf(path, PATH_MAX, "%s/root/.build-id/%02x/", dir, id[0]);
		for (ssize_t i = 1; i < idlen; i++)
			used += snprintf(path + used, PATH_MAX - used, "%02x", id[i]);
		snprintf(path + used, PATH_MAX - used, ".debug");
		return 0;
	case PAIR_DEBUG_FILE:
		snprintf(path, PATH_MAX, "%s/debug", dir);
		return 0;
	}
	return -1;
}

/* The binary's file holds exactly @len bytes of @a still. */
static void check_unchanged(const char *path, const uint8_t *a, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0)
		fuzz_fail("reopen %s: %s", path, strerror(errno));
	while ((n = read(fd, buf + got, len + 1 - got)) > 0)
		got += n;
	close(fd);
	fuzz_check(got == len && !memcmp(buf, a, len));
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum site_kind kinds[] = {
		SITE_KIND_FUNC, SITE_KIND_LINE, SITE_KIND_BB, SITE_KIND_FUNC,
	};
	char dir[PATH_MAX], prog[PATH_MAX + 16], where[PATH_MAX];
	enum elf_pair_where w;
	enum elf_pair_what what;
	enum elf_pair_kind kind;
	struct site_options o = {};
	struct site_table *t;
	const uint8_t *a, *b;
	size_t alen, blen;
	const char *why = NULL;
	uint8_t *copy;
	Elf *elf;
	int err;

	if (size < ELF_PAIR_HEADER + 1)
		return 0;
	w = data[0] & 3;
	what = (data[0] >> 2) & 3;
	kind = (data[0] >> 4) & 3;
	alen = data[1] | data[2] << 8 | data[3] << 16 | (size_t)data[4] << 24;
	a = data + ELF_PAIR_HEADER;
	if (alen > size - ELF_PAIR_HEADER)
		alen = size - ELF_PAIR_HEADER;
	b = a + alen;
	blen = size - ELF_PAIR_HEADER - alen;
	if (!alen)
		return 0;

	snprintf(dir, sizeof(dir), "%s/run", base);
	snprintf(prog, sizeof(prog), "%s/bin/prog", dir);
	make_parents(prog);
	write_all(prog, a, alen);

	/* Where the lookup would look: from A's own debuglink and build-id. */
	elf_version(EV_CURRENT);
	copy = malloc(alen);
	if (!copy)
		goto out;
	memcpy(copy, a, alen);
	elf = elf_memory((char *)copy, alen);
	/* Nowhere to put B (no debuglink, no build-id): the lookup finds nothing. */
	if (where_path(w, elf, dir, where) == 0)
		place(where, what, b, blen, prog);
	elf_end(elf);
	free(copy);

	o.kind = kinds[kind];
	o.no_dwarf = kind == PAIR_FUNC_NO_DWARF;
	o.debug_file = w == PAIR_DEBUG_FILE ? where : NULL;
	t = site_table_new();
	if (!t)
		goto out;
	t->kind = o.kind;
	err = site_table_add_elf(t, prog, NULL, &o, &why);
	if (verbose)
		fprintf(stderr, "fuzz_elf_path: %zu+%zu bytes, where %d what %d %s: %d %s, %zu sites\n",
			alen, blen, w, what, site_kind_name(o.kind), err, why ? why : "",
			t->nsites);
	switch (err) {
	case 0:
		site_table_finish(t);
		fuzz_check_table(t);
		fuzz_check_sites_in_image(t, alen);
		fuzz_check_round_trip(t);
		break;
	case -ENOMEM:
		break;
	case -ENOEXEC:
	case -ENODATA:
	case -E2BIG:
	case -EIO:
		fuzz_check(why && *why);
		break;
	default:
		/* A --debug-file that cannot be used is the user's to hear about. */
		if (w != PAIR_DEBUG_FILE)
			fuzz_fail("unexpected error %d (%s)", err, why ? why : "no reason");
		fuzz_check(why && *why);
	}
	fuzz_check(t->nmodules == (err ? 0u : 1u));
	site_table_free(t);
	check_unchanged(prog, a, alen);
out:
	rm_tree(dir);
	return 0;
}
