// SPDX-License-Identifier: MIT
/*
 * Separate debug information, found like gdb finds it: by build-id in the
 * global debug directory, then by .gnu_debuglink next to the binary, in
 * its .debug/ subdirectory and under the global directory, then (only if
 * configured) from debuginfod.
 *
 * libdwfl's dwfl_standard_find_debuginfo() does much the same, but needs
 * a Dwfl session per module and links libdebuginfod whenever elfutils was
 * built with it; a few stat()s and a CRC are simpler to own and to test.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "sites_debuginfo.h"

uint32_t debuginfo_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	/* Built on first use; idempotent, so a race only repeats the work. */
	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* CRC-32 of the whole file @fd; returns 0 or a negative errno. */
static int file_crc32(int fd, uint32_t *crc)
{
	char buf[64 << 10];
	uint32_t c = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c = debuginfo_crc32(c, buf, n);
	}
	*crc = c;
	return 0;
}

static const char *debug_root(void)
{
	const char *root = getenv("UKCOV_DEBUG_ROOT");

	return root && *root ? root : DEBUGINFO_ROOT;
}

struct want {
	const uint8_t *build_id;	/* of the binary, NULL if none */
	size_t build_id_len;
	bool check_crc;			/* a debuglink candidate: CRC must match */
	uint32_t crc;
	dev_t dev;			/* the binary itself, never a candidate */
	ino_t ino;
};

/*
 * 0 when the file at @cand is @w's debug file, -EINVAL when it is another
 * file's, or the errno of opening it.
 */
static int check_candidate(const char *cand, const struct want *w)
{
	const void *id = NULL;
	struct stat st;
	Elf *elf = NULL;
	ssize_t idlen;
	uint32_t crc;
	int fd, err;

	/* O_NONBLOCK: a FIFO planted under a debuglink name must not hang us. */
	fd = open(cand, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	err = -EINVAL;
	if (!S_ISREG(st.st_mode) || (st.st_dev == w->dev && st.st_ino == w->ino))
		goto out;
	elf = elf_begin(fd, ELF_C_READ, NULL);	/* not mmap: see elf_file_open() */
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	idlen = dwelf_elf_gnu_build_id(elf, &id);
	if (w->build_id && idlen > 0 &&
	    ((size_t)idlen != w->build_id_len || memcmp(id, w->build_id, idlen)))
		goto out;
	if (w->check_crc) {
		err = file_crc32(fd, &crc);
		if (err)
			goto out;
		if (crc != w->crc) {
			err = -EINVAL;
			goto out;
		}
	}
	err = 0;
out:
	elf_end(elf);
	close(fd);
	return err;
}

/* Returns a copy of @cand when it matches, else NULL (errno ENOENT/ENOMEM). */
static char *try_candidate(const char *cand, const struct want *w)
{
	char *ret;

	if (check_candidate(cand, w)) {
		errno = ENOENT;
		return NULL;
	}
	ret = strdup(cand);
	if (!ret)
		errno = ENOMEM;
	return ret;
}

static char *by_build_id(const struct want *w)
{
	char path[PATH_MAX];
	size_t used;

	if (!w->build_id || w->build_id_len < 2) {
		errno = ENOENT;
		return NULL;
	}
	used = snprintf(path, sizeof(path), "%s/.build-id/%02x/", debug_root(), w->build_id[0]);
	for (size_t i = 1; i < w->build_id_len && used + 3 < sizeof(path); i++)
		used += snprintf(path + used, sizeof(path) - used, "%02x", w->build_id[i]);
	if (used + sizeof(".debug") > sizeof(path)) {
		errno = ENOENT;
		return NULL;
	}
	strcpy(path + used, ".debug");
	return try_candidate(path, w);
}

static char *by_debuglink(const char *link, const char *bin_path, const struct want *w)
{
	char real[PATH_MAX], cand[PATH_MAX];
	const char *dir;
	char *slash, *ret;

	/* A link is a file name, not a path: refuse anything that climbs. */
	if (!*link || strchr(link, '/')) {
		errno = ENOENT;
		return NULL;
	}
	if (!realpath(bin_path, real)) {
		if (strlen(bin_path) >= sizeof(real)) {
			errno = ENOENT;
			return NULL;
		}
		strcpy(real, bin_path);
	}
	slash = strrchr(real, '/');
	if (slash) {
		*slash = '\0';
		dir = slash == real ? "" : real;
	} else {
		dir = ".";
	}
	const char *const fmts[] = { "%s/%s", "%s/.debug/%s" };
	for (size_t i = 0; i < 2; i++) {
		if (snprintf(cand, sizeof(cand), fmts[i], *dir ? dir : "", link) >= (int)sizeof(cand))
			continue;
		ret = try_candidate(cand, w);
		if (ret || errno != ENOENT)
			return ret;
	}
	/* ROOT/DIR/LINK: DIR is absolute whenever realpath() worked. */
	if (dir[0] == '/' &&
	    snprintf(cand, sizeof(cand), "%s%s/%s", debug_root(), dir, link) < (int)sizeof(cand))
		return try_candidate(cand, w);
	errno = ENOENT;
	return NULL;
}

/* libdebuginfod's client API, loaded at run time (see debuginfod.h). */
typedef void *(*dbgd_begin_fn)(void);
typedef int (*dbgd_find_fn)(void *client, const unsigned char *build_id,
			    int build_id_len, char **path);
typedef void (*dbgd_end_fn)(void *client);

static char *by_debuginfod(const struct want *w)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	dbgd_begin_fn begin;
	dbgd_find_fn find;
	dbgd_end_fn end;
	void *lib, *client;
	char *path = NULL;
	int fd;

	errno = ENOENT;
	if (!urls || !*urls || !w->build_id || !w->build_id_len)
		return NULL;
	lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		errno = ENOENT;
		return NULL;
	}
	begin = (dbgd_begin_fn)dlsym(lib, "debuginfod_begin");
	find = (dbgd_find_fn)dlsym(lib, "debuginfod_find_debuginfo");
	end = (dbgd_end_fn)dlsym(lib, "debuginfod_end");
	if (begin && find && end && (client = begin())) {
		fd = find(client, w->build_id, (int)w->build_id_len, &path);
		if (fd >= 0)
			close(fd);
		else
			path = NULL;
		end(client);
	}
	/* The library stays loaded: its atexit/TLS state may outlive the call. */
	if (path && check_candidate(path, w)) {
		free(path);
		path = NULL;
	}
	if (!path)
		errno = ENOENT;
	return path;
}

char *debuginfo_find(Elf *elf, const char *path, const char *override)
{
	struct want w = {};
	const void *id = NULL;
	const char *link;
	GElf_Word crc = 0;
	struct stat st;
	ssize_t idlen;
	char *ret;
	int err;

	idlen = dwelf_elf_gnu_build_id(elf, &id);
	if (idlen > 0) {
		w.build_id = id;
		w.build_id_len = idlen;
	}
	if (!stat(path, &st)) {
		w.dev = st.st_dev;
		w.ino = st.st_ino;
	}
	link = dwelf_elf_gnu_debuglink(elf, &crc);

	if (override) {
		/* The user's choice; still refuse one that belongs to another build. */
		w.check_crc = link != NULL;
		w.crc = crc;
		w.dev = 0;
		w.ino = 0;
		err = check_candidate(override, &w);
		if (err) {
			errno = -err;
			return NULL;
		}
		ret = strdup(override);
		if (!ret)
			errno = ENOMEM;
		return ret;
	}

	ret = by_build_id(&w);
	if (ret || errno != ENOENT)
		return ret;
	if (link) {
		w.check_crc = true;
		w.crc = crc;
		ret = by_debuglink(link, path, &w);
		if (ret || errno != ENOENT)
			return ret;
		w.check_crc = false;
	}
	return by_debuginfod(&w);
}
