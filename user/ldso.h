/* SPDX-License-Identifier: MIT */
/*
 * Which shared libraries a program uses, found without running it (the
 * DT_NEEDED closure, resolved the way glibc's ld.so resolves it) or read
 * from a running process (/proc/PID/maps).
 *
 * Every file read here is untrusted: the ld.so cache, ELF dynamic
 * sections and the maps text are bounds-checked field by field, and a
 * malformed one yields an error or is skipped, never a crash.
 */
#ifndef UKCOV_LDSO_H
#define UKCOV_LDSO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LDSO_CACHE_PATH "/etc/ld.so.cache"
/* Larger caches are refused; real ones are tens of KiB. */
#define LDSO_CACHE_MAX (64u << 20)
/* Most objects one closure may hold (glibc has no limit; a sane program has < 1000). */
#define LDSO_MAX_OBJECTS 4096

/* ---- /etc/ld.so.cache ------------------------------------------------------ */

struct ldso_cache;

/*
 * Parses @len bytes at @buf as an ld.so cache: the "glibc-ld.so.cache1.1"
 * format, alone or after the old "ld.so-1.7.0" one.  Keeps the entries for
 * this machine's ABI (x86-64: flags 0x0303) without a hwcap subdirectory,
 * in file order.  The cache copies what it keeps; @buf may go.
 * Returns NULL and sets errno: EINVAL (not a cache, or malformed headers),
 * ENOMEM.  A malformed entry (string offset out of range, unterminated
 * string) is skipped.
 */
struct ldso_cache *ldso_cache_parse(const void *buf, size_t len);

/*
 * Reads and parses the cache file @path (at most LDSO_CACHE_MAX bytes).
 * Returns NULL and sets errno: that of open/read, EFBIG, or as above.
 */
struct ldso_cache *ldso_cache_load(const char *path);

/*
 * The path the cache gives for library @soname (e.g. "libc.so.6"), or
 * NULL.  The first usable entry wins.  The string lives as long as @c.
 */
const char *ldso_cache_lookup(const struct ldso_cache *c, const char *soname);

/* Number of entries kept. */
size_t ldso_cache_count(const struct ldso_cache *c);

/* Frees @c.  Accepts NULL. */
void ldso_cache_free(struct ldso_cache *c);

/* ---- the DT_NEEDED closure ------------------------------------------------ */

struct ldso_config {
	const char *ld_library_path;	/* ':' or ';' separated, NULL: none */
	const struct ldso_cache *cache;	/* NULL: no cache */
	const char *const *default_dirs; /* NULL-terminated; NULL: LDSO_DEFAULT_DIRS */
};

/* glibc's system search path on Debian's multiarch layout (`ld.so --help`). */
#define LDSO_DEFAULT_DIRS_INIT \
	{ "/lib/" LDSO_MULTIARCH, "/usr/lib/" LDSO_MULTIARCH, "/lib", "/usr/lib", NULL }
#if defined(__x86_64__)
#define LDSO_MULTIARCH "x86_64-linux-gnu"
#define LDSO_PLATFORM "x86_64"
#elif defined(__aarch64__)
#define LDSO_MULTIARCH "aarch64-linux-gnu"
#define LDSO_PLATFORM "aarch64"
#elif defined(__riscv)
#define LDSO_MULTIARCH "riscv64-linux-gnu"
#define LDSO_PLATFORM "riscv64"
#endif

struct ldso_object {
	char *path;		/* where it was found, as ld.so would open it */
	char *needed;		/* the DT_NEEDED string that named it; NULL for the
				 * executable and the interpreter */
	char *soname;		/* DT_SONAME, NULL if none */
	size_t loader;		/* index of the object whose DT_NEEDED loaded it
				 * (0, the executable, for itself and the interpreter) */
	bool interp;		/* the executable's PT_INTERP (the dynamic loader) */
	dev_t dev;
	ino_t ino;
};

struct ldso_closure {
	struct ldso_object *objs;	/* [0] is the executable; then load order */
	size_t n;
	char **missing;			/* "NAME (needed by PATH)" for names not found */
	size_t nmissing;
};

/*
 * Resolves the DT_NEEDED closure of the executable @exe, breadth first as
 * ld.so loads it.  A name with a '/' is used as is (after $ORIGIN, $LIB
 * and $PLATFORM expansion); any other is looked up in order:
 *   1. DT_RPATH of the object that needs it and of each object that loaded
 *      that one, up to the executable; only when the needing object has no
 *      DT_RUNPATH, and an object's DT_RPATH counts only if it has no
 *      DT_RUNPATH of its own;
 *   2. @cfg->ld_library_path;
 *   3. DT_RUNPATH of the object that needs it;
 *   4. @cfg->cache, then @cfg->default_dirs, unless that object was linked
 *      with -z nodeflib.
 * A candidate that is missing, or not a 64-bit ELF shared object for this
 * machine, is passed over as ld.so does.  A name already loaded (by
 * DT_NEEDED string, by DT_SONAME, or by file identity) is not loaded
 * again.  The executable's PT_INTERP is entered as an object, flagged
 * interp, before its dependencies, so libc's DT_NEEDED of the loader finds
 * it.  Not modelled: glibc-hwcaps and legacy hwcap subdirectories,
 * LD_PRELOAD, /etc/ld.so.preload, secure-execution restrictions.
 *
 * Returns 0 and fills @out (free it with ldso_closure_free()), or a negative
 * errno: -ENOENT/-EACCES (@exe cannot be read), -ENOEXEC (@exe is not an
 * ELF file this machine runs), -E2BIG (more than LDSO_MAX_OBJECTS), -ENOMEM.
 * Libraries that cannot be found are listed in @out->missing, not errors.
 */
int ldso_closure(const char *exe, const struct ldso_config *cfg, struct ldso_closure *out);

void ldso_closure_free(struct ldso_closure *c);

/*
 * The PT_INTERP path of the ELF executable @path (malloc'd), or NULL and
 * errno: ENOENT when it has none (static), ENOEXEC, ENOMEM, open's errno.
 */
char *ldso_interp(const char *path);

/* ---- a running process ------------------------------------------------------ */

struct ldso_mapping {
	char *path;		/* the file's path as /proc/PID/maps shows it,
				 * " (deleted)" removed */
	char *open_path;	/* /proc/PID/map_files/START-END: opens the mapped
				 * inode, even when @path was replaced or deleted */
	unsigned long start;	/* address of its first executable mapping */
	dev_t dev;		/* of the mapped inode (maps' MAJ:MIN) */
	ino_t ino;
	bool deleted;		/* the kernel marked the file " (deleted)" */
};

/*
 * Parses the text of /proc/@pid/maps (@len bytes at @text) into one entry
 * per distinct file (dev, inode) that has an executable mapping, in
 * address order of their first executable mapping.  Anonymous and
 * special mappings ([vdso], [stack], ...) are left out.  Malformed lines
 * are skipped.  Returns 0 with a malloc'd array in *@out (free with
 * ldso_mappings_free()) of *@n entries, or -ENOMEM / -E2BIG.
 */
int ldso_parse_maps(const char *text, size_t len, pid_t pid,
		    struct ldso_mapping **out, size_t *n);

/* Reads /proc/@pid/maps and parses it.  Returns 0 or a negative errno. */
int ldso_pid_mappings(pid_t pid, struct ldso_mapping **out, size_t *n);

void ldso_mappings_free(struct ldso_mapping *m, size_t n);

#endif /* UKCOV_LDSO_H */
