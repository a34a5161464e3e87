// SPDX-License-Identifier: MIT
/*
 * What user/ldso.c reads from files: the ld.so cache (ldso_cache_parse()),
 * /proc/PID/maps text (ldso_parse_maps(): its paths are whatever names
 * the target gave its files), and the PT_INTERP and dynamic section of an
 * ELF file (ldso_interp(), through a memfd: it takes a path).
 *
 * Not fuzzed: ldso_closure(), whose DT_NEEDED/DT_RUNPATH strings name
 * files to open, which a fuzzer must not be let loose on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "ldso.h"

#define NEW_ENTRY 24	/* bytes of one new-format cache entry */

static void fuzz_cache(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"libc.so.6", "libm.so.6", "libdl.so.2", "ld-linux-x86-64.so.2", "", "x",
	};
	struct ldso_cache *c;

	errno = 0;
	c = ldso_cache_parse(data, size);
	if (!c) {
		fuzz_check(errno == EINVAL || errno == ENOMEM);
		return;
	}
	fuzz_check(ldso_cache_count(c) <= size / NEW_ENTRY);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *path = ldso_cache_lookup(c, names[i]);

		/* Only absolute paths are kept; an empty name matches nothing. */
		if (path)
			fuzz_check(path[0] == '/' && *names[i]);
	}
	ldso_cache_free(c);
}

static void fuzz_maps(const uint8_t *data, size_t size)
{
	struct ldso_mapping *m = NULL;
	size_t n = 0;
	int err;

	err = ldso_parse_maps((const char *)data, size, 4242, &m, &n);
	if (err) {
		fuzz_check(err == -ENOMEM || err == -E2BIG);
		fuzz_check(!m && !n);
		return;
	}
	fuzz_check(n <= LDSO_MAX_OBJECTS);
	for (size_t i = 0; i < n; i++) {
		fuzz_check(m[i].path && m[i].path[0] == '/');
		fuzz_check(m[i].open_path && !strncmp(m[i].open_path, "/proc/4242/map_files/", 21));
		/* The path is a piece of one line of the input. */
		fuzz_check(memmem(data, size, m[i].path, strlen(m[i].path)));
		for (size_t j = 0; j < i; j++)
			fuzz_check(m[i].dev != m[j].dev || m[i].ino != m[j].ino);
	}
	ldso_mappings_free(m, n);
}

static void fuzz_interp(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	char *interp;

	if (size < 4 || memcmp(data, "\177ELF", 4))
		return;
	if (fd < 0) {
		fd = memfd_create("fuzz-ldso", MFD_CLOEXEC);
		if (fd < 0)
			fuzz_fail("memfd_create: %s", strerror(errno));
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		fuzz_fail("memfd write: %s", strerror(errno));
	errno = 0;
	interp = ldso_interp(path);
	if (interp) {
		/* A NUL-terminated piece of the input. */
		fuzz_check(memmem(data, size, interp, strlen(interp) + 1));
		free(interp);
	} else {
		fuzz_check(errno == ENOENT || errno == ENOEXEC || errno == ENOMEM);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_cache(data, size);
	fuzz_maps(data, size);
	fuzz_interp(data, size);
	return 0;
}
