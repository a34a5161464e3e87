/* SPDX-License-Identifier: MIT */
/*
 * The site-table file: a site table saved as text (`ukcov run --save-sites`)
 * so that `ukcov report` can turn kcov streams into any format later,
 * without the target, its binary or privileges.  The format is documented
 * at the top of sites_file.c.
 *
 * The file is untrusted input: the reader checks every line and every
 * field, bounds every count before it allocates, and rebuilds the table-id
 * from what it read to catch a table that was edited by hand.
 */
#ifndef UKCOV_SITES_FILE_H
#define UKCOV_SITES_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sites.h"

/* First line of every site-table file this version reads and writes. */
#define SITES_FILE_MAGIC "ukcov-sites"
#define SITES_FILE_VERSION 2

/* Longest line, newline excluded, in bytes; the writer never exceeds it. */
#define SITES_FILE_LINE_MAX 65536
/* Most modules and sites a file may declare. */
#define SITES_FILE_MAX_MODULES 4096u
#define SITES_FILE_MAX_SITES ((size_t)SITES_MAX_PER_MODULE * 64)

/*
 * The table's identity: what every synthetic PC of @t means.  FNV-1a over
 * the site kind, pc_base, each module's build-id, path and site count, and
 * each site's file offset (function names and file:line are left out: they
 * describe a PC, they do not change which code it is).  The hash keeps 62
 * bits and sets bit 62, so the id lies in [UKCOV_KCOV_TABLE_ID_MIN,
 * UKCOV_KCOV_TABLE_ID_MAX] as the kcov table-id record needs (ukcov/kcov.h).
 */
uint64_t site_table_id(const struct site_table *t);

/*
 * The id @t had when it held only its first @nmodules modules: a table that
 * grows during a run (libraries, execs) appends modules, and the kcov stream
 * names each table it was recorded against.
 */
uint64_t site_table_prefix_id(const struct site_table *t, size_t nmodules);

/*
 * Writes @t, finished (site_table_finish()), to @f.  open_path is not
 * written: the file records what the module is, not where it was read.
 * Returns 0, -E2BIG when a line would exceed SITES_FILE_LINE_MAX (a name
 * too long to save), or the write error (-ENOSPC, -EIO, ...).
 */
int sites_file_write(const struct site_table *t, FILE *f);

/* Where and why reading failed; @why is a static string. */
struct sites_file_error {
	size_t line;		/* 1-based line number, 0 when not about a line */
	const char *why;
};

/*
 * Reads a site-table file from @f (or @len bytes at @buf) and returns the
 * table in *@out, owned by the caller (site_table_free()).  Each module's
 * open_path is its path.  Returns 0, or a negative errno with *@e filled:
 *   -EPROTO   not a site-table file, or a version this ukcov cannot read
 *   -EINVAL   malformed: a bad line, field, count, index or table-id
 *   -ENOMEM   out of memory;  -EIO  the read failed
 * *@out is untouched on error.  @e may be NULL.
 */
int sites_file_read(FILE *f, struct site_table **out, struct sites_file_error *e);
int sites_file_read_buffer(const char *buf, size_t len, struct site_table **out,
			   struct sites_file_error *e);

#endif /* UKCOV_SITES_FILE_H */
