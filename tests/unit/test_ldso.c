// SPDX-License-Identifier: MIT
/*
 * Unit tests of user/ldso.c: the ld.so cache parser, DT_NEEDED resolution
 * and /proc/PID/maps parsing.
 *
 * Truth comes from outside the code under test: `ldconfig -p` for the
 * cache, `ldd` (glibc's own loader in trace mode) for resolution, and
 * stat() for the maps of this very process.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "ldso.h"

/* ---- helpers ---------------------------------------------------------- */

static char *make_tmpdir(void)
{
	char *dir = strdup("/tmp/ukcov-ldso.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_tree(char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static bool same_inode(const char *a, dev_t dev, ino_t ino)
{
	struct stat st;

	return !stat(a, &st) && st.st_dev == dev && st.st_ino == ino;
}

static const struct ldso_object *find_needed(const struct ldso_closure *c, const char *name)
{
	for (size_t i = 1; i < c->n; i++)
		if (c->objs[i].needed && !strcmp(c->objs[i].needed, name))
			return &c->objs[i];
	return NULL;
}

static bool is_missing(const struct ldso_closure *c, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < c->nmissing; i++)
		if (!strncmp(c->missing[i], name, len) && c->missing[i][len] == ' ')
			return true;
	return false;
}

/*
 * Resolves @exe with @llp as LD_LIBRARY_PATH and checks every line of
 * `ldd @exe` (run with the same LD_LIBRARY_PATH) against the closure:
 * same files, same names not found, nothing more.  Returns the number of
 * names ldd could not find.
 */
static size_t check_against_ldd(const char *exe, const char *llp)
{
	struct ldso_cache *cache = ldso_cache_load(LDSO_CACHE_PATH);
	struct ldso_config cfg = { .ld_library_path = llp, .cache = cache };
	struct ldso_closure c;
	char cmd[2 * PATH_MAX], line[2 * PATH_MAX];
	size_t nldd = 0, nmissing = 0, ninterp = 0;
	FILE *p;

	assert_int_equal(ldso_closure(exe, &cfg, &c), 0);
	if (llp)
		snprintf(cmd, sizeof(cmd), "LD_LIBRARY_PATH='%s' ldd '%s' 2>&1", llp, exe);
	else
		snprintf(cmd, sizeof(cmd), "env -u LD_LIBRARY_PATH ldd '%s' 2>&1", exe);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char name[PATH_MAX], path[PATH_MAX];
		const struct ldso_object *o;
		struct stat st;

		if (strstr(line, "linux-vdso") || strstr(line, "statically linked"))
			continue;
		if (sscanf(line, " %s => not found", name) == 1 && strstr(line, "not found")) {
			if (!is_missing(&c, name))
				fail_msg("%s: ldd cannot find %s, ukcov did", exe, name);
			nmissing++;
			continue;
		}
		if (sscanf(line, " %s => %s (", name, path) == 2) {
			o = find_needed(&c, name);
			if (!o)
				fail_msg("%s: ldd loads %s => %s, ukcov does not", exe, name, path);
			assert_int_equal(stat(path, &st), 0);
			if (st.st_dev != o->dev || st.st_ino != o->ino)
				fail_msg("%s: %s is %s for ldd, %s for ukcov", exe, name, path, o->path);
			nldd++;
			continue;
		}
		if (sscanf(line, " %s (", path) == 1 && path[0] == '/') {
			/* The interpreter. */
			for (size_t i = 0; i < c.n; i++)
				if (c.objs[i].interp && same_inode(path, c.objs[i].dev, c.objs[i].ino))
					ninterp++;
			if (ninterp != 1)
				fail_msg("%s: interpreter %s not flagged", exe, path);
			continue;
		}
		fail_msg("unexpected ldd line: %s", line);
	}
	assert_int_equal(pclose(p) >= 0, 1);
	assert_int_equal(ninterp, 1);
	/* Every object but the executable and the interpreter, once each. */
	assert_int_equal(c.n, nldd + 2);
	assert_int_equal(c.nmissing, nmissing);
	ldso_closure_free(&c);
	ldso_cache_free(cache);
	return nmissing;
}

/* ---- the cache -------------------------------------------------------- */

static void test_cache_matches_ldconfig(void **state)
{
	struct ldso_cache *c = ldso_cache_load(LDSO_CACHE_PATH);
	char line[2 * PATH_MAX], (*seen)[128] = calloc(8192, 128);
	size_t nseen = 0, ncompared = 0;
	bool libc = false;
	FILE *p;

	(void)state;
	if (!c && errno == ENOENT)
		skip();
	assert_non_null(c);
	assert_non_null(seen);
	assert_true(ldso_cache_count(c) > 0);
	p = popen("PATH=/sbin:/usr/sbin:$PATH ldconfig -p 2>/dev/null", "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char name[128], flags[128], path[PATH_MAX];
		bool dup = false;

		/* "\tNAME (FLAGS) => PATH": only this machine's, without hwcap. */
		if (sscanf(line, " %127s (%127[^)]) => %s", name, flags, path) != 3 ||
		    strcmp(flags, "libc6,x86-64"))
			continue;
		/* The first entry of a name is the one ld.so takes. */
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = !strcmp(seen[i], name);
		if (dup || nseen == 8192)
			continue;
		strcpy(seen[nseen++], name);
		if (!ldso_cache_lookup(c, name))
			fail_msg("ldconfig -p has %s => %s, the parser has nothing", name, path);
		assert_string_equal(ldso_cache_lookup(c, name), path);
		libc |= !strcmp(name, "libc.so.6");
		ncompared++;
	}
	pclose(p);
	free(seen);
#if defined(__x86_64__)
	if (!ncompared)
		skip();	/* no ldconfig to compare with */
	assert_true(libc);
#endif
	assert_null(ldso_cache_lookup(c, "libukcov-no-such-library.so.7"));
	ldso_cache_free(c);
}

/* Appends a new-format entry to @buf at entry slot @i. */
static void put_entry(uint8_t *buf, size_t i, int32_t flags, uint32_t key, uint32_t value,
		      uint64_t hwcap)
{
	uint8_t *e = buf + 48 + i * 24;

	memcpy(e, &flags, 4);
	memcpy(e + 4, &key, 4);
	memcpy(e + 8, &value, 4);
	memset(e + 12, 0, 4);
	memcpy(e + 16, &hwcap, 8);
}

/* A small cache: 5 entries, only the first is usable here. */
static size_t make_cache(uint8_t *buf, size_t size)
{
	static const char strings[] =
		"libx.so.1\0/x/libx.so.1\0liby.so\0/y/liby.so\0libz.so\0/z/libz.so\0nota";
	uint32_t nlibs = 5, slen = sizeof(strings), base = 48 + 5 * 24;
	size_t len = base + sizeof(strings) - 1;	/* "nota" left unterminated */

	assert_true(len <= size);
	memset(buf, 0, size);
	memcpy(buf, "glibc-ld.so.cache1.1", 20);
	memcpy(buf + 20, &nlibs, 4);
	memcpy(buf + 24, &slen, 4);
	buf[28] = 2;	/* little-endian */
	put_entry(buf, 0, 0x0303, base + 0, base + 10, 0);
	put_entry(buf, 1, 0x0003, base + 23, base + 31, 0);		/* 32-bit i386 */
	put_entry(buf, 2, 0x0303, base + 43, base + 51, 1ull << 62);	/* hwcap subdir */
	put_entry(buf, 3, 0x0303, base + 0, base + 61, 0);		/* unterminated value */
	put_entry(buf, 4, 0x0303, base + 0, 0xfffffff0u, 0);		/* out of range */
	memcpy(buf + base, strings, sizeof(strings) - 1);
	return len;
}

static void test_cache_handmade(void **state)
{
	uint8_t buf[512], old[1024];
	struct ldso_cache *c;
	size_t len = make_cache(buf, sizeof(buf));
	uint32_t one = 1;

	(void)state;
#if !defined(__x86_64__)
	skip();
#endif
	c = ldso_cache_parse(buf, len);
	assert_non_null(c);
	assert_int_equal(ldso_cache_count(c), 1);
	assert_string_equal(ldso_cache_lookup(c, "libx.so.1"), "/x/libx.so.1");
	assert_null(ldso_cache_lookup(c, "liby.so"));
	assert_null(ldso_cache_lookup(c, "libz.so"));
	ldso_cache_free(c);

	/* The same after an old-format part: new format at the next 8 bytes. */
	memset(old, 0, sizeof(old));
	memcpy(old, "ld.so-1.7.0", 11);
	memcpy(old + 12, &one, 4);
	memcpy(old + 32, buf, len);	/* 16 + 12 = 28, aligned up to 32 */
	c = ldso_cache_parse(old, 32 + len);
	assert_non_null(c);
	assert_string_equal(ldso_cache_lookup(c, "libx.so.1"), "/x/libx.so.1");
	ldso_cache_free(c);

	/* Written for the other byte order. */
	buf[28] = 3;
	assert_null(ldso_cache_parse(buf, len));
	assert_int_equal(errno, EINVAL);
	buf[28] = 2;
	/* More entries than bytes. */
	memset(buf + 20, 0xff, 4);
	assert_null(ldso_cache_parse(buf, len));
	assert_int_equal(errno, EINVAL);
	/* Not a cache at all. */
	assert_null(ldso_cache_parse("hello", 5));
	assert_null(ldso_cache_parse(buf, 0));
}

/* Whatever the bytes, the parser returns; lookups stay inside the copy. */
static void parse_and_probe(const uint8_t *buf, size_t len)
{
	struct ldso_cache *c = ldso_cache_parse(buf, len);
	const char *p;

	if (!c) {
		assert_true(errno == EINVAL || errno == ENOMEM);
		return;
	}
	p = ldso_cache_lookup(c, "libc.so.6");
	if (p)
		assert_true(strlen(p) < len);
	(void)ldso_cache_lookup(c, "");
	ldso_cache_free(c);
}

static void test_cache_corrupt_never_crashes(void **state)
{
	size_t len, i;
	char *real = NULL;
	uint8_t *buf, *copy;
	uint32_t rng = 12345;

	(void)state;
	if (access(LDSO_CACHE_PATH, R_OK))
		skip();
	real = (char *)test_read_file(LDSO_CACHE_PATH, &len);
	buf = (uint8_t *)real;
	copy = malloc(len);
	assert_non_null(copy);
	/* Every truncation of the headers and first entries, then a sample. */
	for (i = 0; i < len; i += i < 4096 ? 1 : 61) {
		/* A fresh allocation of exactly i bytes: ASan sees any overread. */
		uint8_t *cut = malloc(i ? i : 1);

		assert_non_null(cut);
		memcpy(cut, buf, i);
		parse_and_probe(cut, i);
		free(cut);
	}
	/* Random bytes flipped, most of them in the headers and entries. */
	for (i = 0; i < 3000; i++) {
		size_t where;

		memcpy(copy, buf, len);
		for (int k = 0; k < 4; k++) {
			rng = rng * 1103515245u + 12345u;
			where = (rng >> 8) % (i % 2 ? len : (len < 2048 ? len : 2048));
			rng = rng * 1103515245u + 12345u;
			copy[where] ^= (uint8_t)(rng >> 16) | 1;
		}
		parse_and_probe(copy, len);
	}
	/* String offsets of every entry pointed past the end. */
	memcpy(copy, buf, len);
	if (len > 48 && !memcmp(copy, "glibc-ld.so.cache1.1", 20)) {
		uint32_t n, bad = (uint32_t)len;
		struct ldso_cache *c;

		memcpy(&n, copy + 20, 4);
		for (i = 0; i < n && 48 + (i + 1) * 24 <= len; i++)
			memcpy(copy + 48 + i * 24 + 8, &bad, 4);
		c = ldso_cache_parse(copy, len);
		assert_non_null(c);
		assert_int_equal(ldso_cache_count(c), 0);
		ldso_cache_free(c);
	}
	free(copy);
	free(real);
}

/* ---- resolution --------------------------------------------------------- */

static void test_closure_runpath_origin(void **state)
{
	struct ldso_cache *cache = ldso_cache_load(LDSO_CACHE_PATH);
	struct ldso_config cfg = { .cache = cache };
	const struct ldso_object *fix, *fix2;
	struct ldso_closure c;
	struct stat st;

	(void)state;
	assert_int_equal(ldso_closure(FIX("libfixprog"), &cfg, &c), 0);
	assert_string_equal(c.objs[0].path, FIX("libfixprog"));
	fix = find_needed(&c, "libfix.so");
	fix2 = find_needed(&c, "libfix2.so");
	assert_non_null(fix);
	assert_non_null(fix2);
	/* $ORIGIN of the executable, then of libfix.so (its own DT_RUNPATH). */
	assert_int_equal(stat(FIX("libfix.so"), &st), 0);
	assert_true(st.st_dev == fix->dev && st.st_ino == fix->ino);
	assert_true(same_inode(FIX("libfix2.so"), fix2->dev, fix2->ino));
	assert_string_equal(fix->soname, "libfix.so");
	/* Loaded by whom: libfix2.so by libfix.so, libfix.so by the executable. */
	assert_int_equal(fix->loader, 0);
	assert_string_equal(c.objs[fix2->loader].needed, "libfix.so");
	assert_non_null(find_needed(&c, "libc.so.6"));
	assert_int_equal(c.nmissing, 0);
	ldso_closure_free(&c);
	ldso_cache_free(cache);
}

static void test_closure_matches_ldd(void **state)
{
	(void)state;
	assert_int_equal(check_against_ldd(FIX("libfixprog"), NULL), 0);
	assert_int_equal(check_against_ldd(FIX("libfixprog-rpath"), NULL), 0);
	assert_int_equal(check_against_ldd(FIX("libfixprog-nopie"), NULL), 0);
	if (!access("/bin/ls", R_OK))
		check_against_ldd("/bin/ls", NULL);
}

/*
 * LD_LIBRARY_PATH comes after DT_RPATH but before DT_RUNPATH: copies in
 * @dir win for the RUNPATH program and lose for the RPATH one.
 */
static void test_closure_ld_library_path_order(void **state)
{
	char *dir = make_tmpdir(), path[PATH_MAX];
	struct ldso_config cfg = { 0 };
	struct ldso_closure c;

	(void)state;
	snprintf(path, sizeof(path), "%s/libfix.so", dir);
	test_copy_file(FIX("libfix.so"), path);
	snprintf(path, sizeof(path), "%s/libfix2.so", dir);
	test_copy_file(FIX("libfix2.so"), path);
	cfg.ld_library_path = dir;

	assert_int_equal(ldso_closure(FIX("libfixprog"), &cfg, &c), 0);
	snprintf(path, sizeof(path), "%s/libfix.so", dir);
	assert_true(same_inode(path, find_needed(&c, "libfix.so")->dev,
			       find_needed(&c, "libfix.so")->ino));
	snprintf(path, sizeof(path), "%s/libfix2.so", dir);
	assert_true(same_inode(path, find_needed(&c, "libfix2.so")->dev,
			       find_needed(&c, "libfix2.so")->ino));
	ldso_closure_free(&c);

	assert_int_equal(ldso_closure(FIX("libfixprog-rpath"), &cfg, &c), 0);
	assert_true(same_inode(FIX("libfix.so"), find_needed(&c, "libfix.so")->dev,
			       find_needed(&c, "libfix.so")->ino));
	ldso_closure_free(&c);

	check_against_ldd(FIX("libfixprog"), dir);
	check_against_ldd(FIX("libfixprog-rpath"), dir);
	remove_tree(dir);
}

/*
 * A library without search paths of its own finds its dependency through
 * the executable's DT_RPATH, never through its DT_RUNPATH.
 */
static void test_closure_rpath_inherited_runpath_not(void **state)
{
	char *dir = make_tmpdir(), path[PATH_MAX];
	struct ldso_config cfg = { 0 };
	struct ldso_closure c;

	(void)state;
	snprintf(path, sizeof(path), "%s/libfix.so", dir);
	test_copy_file(FIX("libfix-plain.so"), path);
	snprintf(path, sizeof(path), "%s/libfix2.so", dir);
	test_copy_file(FIX("libfix2.so"), path);
	snprintf(path, sizeof(path), "%s/prog-rpath", dir);
	test_copy_file(FIX("libfixprog-rpath"), path);
	snprintf(path, sizeof(path), "%s/prog-runpath", dir);
	test_copy_file(FIX("libfixprog"), path);

	snprintf(path, sizeof(path), "%s/prog-rpath", dir);
	assert_int_equal(ldso_closure(path, &cfg, &c), 0);
	assert_non_null(find_needed(&c, "libfix2.so"));
	assert_int_equal(c.nmissing, 0);
	ldso_closure_free(&c);
	assert_int_equal(check_against_ldd(path, NULL), 0);

	snprintf(path, sizeof(path), "%s/prog-runpath", dir);
	assert_int_equal(ldso_closure(path, &cfg, &c), 0);
	assert_non_null(find_needed(&c, "libfix.so"));
	assert_null(find_needed(&c, "libfix2.so"));
	assert_true(is_missing(&c, "libfix2.so"));
	ldso_closure_free(&c);
	assert_int_equal(check_against_ldd(path, NULL), 1);
	remove_tree(dir);
}

/*
 * $ORIGIN of an executable reached through a symlink is the real file's:
 * ld.so reads it from /proc/self/exe.  (Not under ldd, which passes the
 * link's name to ld.so: the truth here is that the link runs.)
 */
static void test_closure_origin_through_symlink(void **state)
{
	char *dir = make_tmpdir(), path[PATH_MAX];
	struct ldso_config cfg = { 0 };
	struct ldso_closure c;

	(void)state;
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink(FIX("libfixprog"), path), 0);
	assert_int_equal(ldso_closure(path, &cfg, &c), 0);
	assert_true(same_inode(FIX("libfix.so"), find_needed(&c, "libfix.so")->dev,
			       find_needed(&c, "libfix.so")->ino));
	ldso_closure_free(&c);
	{
		char cmd[PATH_MAX + 64];

		snprintf(cmd, sizeof(cmd), "env -u LD_LIBRARY_PATH TALLY_OUT= '%s' -n 1", path);
		assert_int_equal(system(cmd), 0);
	}
	remove_tree(dir);
}

static void test_closure_errors(void **state)
{
	struct ldso_config cfg = { 0 };
	struct ldso_closure c;

	(void)state;
	assert_int_equal(ldso_closure(FIX("no-such-file"), &cfg, &c), -ENOENT);
	assert_int_equal(ldso_closure(FIX("sites-not-elf"), &cfg, &c), -ENOEXEC);
	assert_int_equal(ldso_closure(FIX("sites-reloc.o"), &cfg, &c), -ENOEXEC);
	/* Static: itself, nothing else. */
	assert_int_equal(ldso_closure(FIX("sites-nosyms"), &cfg, &c), 0);
	assert_int_equal(c.n, 1);
	ldso_closure_free(&c);
	/* Truncated: whatever it reads, it returns. */
	if (ldso_closure(FIX("sites-truncated"), &cfg, &c) == 0)
		ldso_closure_free(&c);
}

static void test_interp(void **state)
{
	char *interp;

	(void)state;
	interp = ldso_interp(FIX("libfixprog"));
	assert_non_null(interp);
	assert_int_equal(interp[0], '/');
	assert_int_equal(access(interp, R_OK), 0);
	free(interp);
	assert_null(ldso_interp(FIX("sites-nosyms")));
	assert_int_equal(errno, ENOENT);
}

/* ---- /proc/PID/maps ------------------------------------------------------ */

static void test_maps_parse_synthetic(void **state)
{
	static const char text[] =
		"55d0c0000000-55d0c0001000 r--p 00000000 08:01 100 /usr/bin/prog\n"
		"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /usr/bin/prog\n"
		"7f0000000000-7f0000001000 r-xp 00001000 08:01 200 /lib/x86_64-linux-gnu/lib with space.so (deleted)\n"
		"7f0000002000-7f0000003000 r-xp 00000000 00:00 0 \n"
		"7f0000004000-7f0000005000 r-xp 00000000 00:00 0 [vdso]\n"
		"7f0000006000-7f0000007000 r-xp 00003000 08:01 100 /usr/bin/prog\n"
		"garbage line without fields\n"
		"7f0000008000-7f0000009000 rwxp 00000000 fd:02 300 /tmp/jit\n"
		"7f000000a000-7f000000b000 r-xp 00000000 08:01 200 /lib/x86_64-linux-gnu/other-name.so";
	struct ldso_mapping *m;
	size_t n;

	(void)state;
	assert_int_equal(ldso_parse_maps(text, strlen(text), 42, &m, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].path, "/usr/bin/prog");
	assert_string_equal(m[0].open_path, "/proc/42/map_files/55d0c0001000-55d0c0002000");
	assert_int_equal(m[0].ino, 100);
	assert_false(m[0].deleted);
	assert_string_equal(m[1].path, "/lib/x86_64-linux-gnu/lib with space.so");
	assert_true(m[1].deleted);
	assert_int_equal(m[1].dev, makedev(8, 1));
	assert_string_equal(m[2].path, "/tmp/jit");
	assert_int_equal(m[2].dev, makedev(0xfd, 2));
	ldso_mappings_free(m, n);

	/* Nothing usable; an empty text. */
	assert_int_equal(ldso_parse_maps("x\n\n", 3, 1, &m, &n), 0);
	assert_int_equal(n, 0);
	ldso_mappings_free(m, n);
}

/* This test program's own maps: its executable and libc, openable. */
static void test_maps_self(void **state)
{
	struct ldso_mapping *m;
	struct stat exe, libc, st;
	bool found_exe = false, found_libc = false;
	size_t n;

	(void)state;
	assert_int_equal(stat("/proc/self/exe", &exe), 0);
	assert_int_equal(ldso_pid_mappings(getpid(), &m, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (stat(m[i].open_path, &st))
			continue;	/* map_files needs CAP_SYS_ADMIN */
		assert_true(st.st_ino == m[i].ino);
		found_exe |= st.st_dev == exe.st_dev && st.st_ino == exe.st_ino;
		if (strstr(m[i].path, "/libc.so.6") && !stat(m[i].path, &libc))
			found_libc |= libc.st_ino == m[i].ino;
	}
	if (geteuid() == 0) {
		assert_true(found_exe);
		assert_true(found_libc);
	}
	ldso_mappings_free(m, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_matches_ldconfig),
		cmocka_unit_test(test_cache_handmade),
		cmocka_unit_test(test_cache_corrupt_never_crashes),
		cmocka_unit_test(test_closure_runpath_origin),
		cmocka_unit_test(test_closure_matches_ldd),
		cmocka_unit_test(test_closure_ld_library_path_order),
		cmocka_unit_test(test_closure_rpath_inherited_runpath_not),
		cmocka_unit_test(test_closure_origin_through_symlink),
		cmocka_unit_test(test_closure_errors),
		cmocka_unit_test(test_interp),
		cmocka_unit_test(test_maps_parse_synthetic),
		cmocka_unit_test(test_maps_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
