/* SPDX-License-Identifier: MIT */
/*
 * Separate debug information: where a stripped binary's .symtab and DWARF
 * went.  Looked up the way gdb does.  Private to user/sites*.c.
 */
#ifndef UKCOV_SITES_DEBUGINFO_H
#define UKCOV_SITES_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

/* The default root of the global debug directory; UKCOV_DEBUG_ROOT overrides it. */
#define DEBUGINFO_ROOT "/usr/lib/debug"

/*
 * Finds the separate debug file of the ELF @elf, which the user knows as
 * @path (its directory, symlinks resolved, is where .gnu_debuglink names
 * are looked up; pass the real file's path, not /proc/PID/map_files/...).
 * Candidates, first match wins:
 *   1. @override (--debug-file), when non-NULL: it is the only candidate;
 *   2. ROOT/.build-id/XX/REST.debug for build-id XXREST (hex);
 *   3. the .gnu_debuglink name in DIR, in DIR/.debug/, in ROOT/DIR/;
 *   4. the debuginfod servers of $DEBUGINFOD_URLS, by build-id, when that
 *      variable is set and libdebuginfod.so.1 can be loaded (at run time:
 *      ukcov does not link against it).
 * ROOT is DEBUGINFO_ROOT, or $UKCOV_DEBUG_ROOT when set (for tests).  A
 * candidate matches when its build-id equals @elf's (if both have one)
 * and, for a debuglink name, its CRC-32 equals the one the link records.
 * The candidate is never @path itself.
 *
 * Returns a malloc'd path (the caller frees it), or NULL and sets errno:
 *   ENOENT   no separate debug information found
 *   EINVAL   @override does not match @elf (build-id or CRC differs)
 *   ENOMEM
 * Any other errno comes from opening @override.
 */
char *debuginfo_find(Elf *elf, const char *path, const char *override);

/* The CRC-32 .gnu_debuglink records (zlib's): continue @crc over @buf. */
uint32_t debuginfo_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* UKCOV_SITES_DEBUGINFO_H */
