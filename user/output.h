/* SPDX-License-Identifier: MIT */
/*
 * Output files that are either complete or absent.
 *
 * ukcov runs as root and writes where users point it, so an output is
 * opened as an unnamed file in the destination directory (O_TMPFILE, or a
 * mkostemp() name with O_EXCL where the filesystem lacks O_TMPFILE) and
 * linked into place only by output_commit().  If ukcov dies first, nothing
 * appears (with O_TMPFILE, not even a temp name).  An existing symlink, or
 * anything but a regular file, at the destination is refused, never
 * followed or replaced.  "-" means standard output, written in place; so
 * are an existing character device or FIFO (-o /dev/null, a named pipe to
 * a consumer), which cannot be replaced atomically and hold nothing to
 * protect.
 */
#ifndef UKCOV_OUTPUT_H
#define UKCOV_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct output;

/*
 * Prepares @path for writing.  Returns NULL and sets errno:
 *   ELOOP    @path is a symlink
 *   EISDIR   @path is a directory;  EINVAL a socket or block device
 *   EACCES/EROFS/ENOENT/...   the directory cannot take a new file
 * The caller opens every output before starting work, so a bad path fails
 * before any probe exists.
 */
struct output *output_open(const char *path);

/* The stream to write.  Owned by @o. */
FILE *output_file(struct output *o);

/* The path given to output_open(), for messages. */
const char *output_path(const struct output *o);

/* True when the output is written in place to a terminal. */
bool output_is_tty(const struct output *o);

/*
 * Flushes, syncs and atomically puts the file at its path, replacing a
 * regular file there.  Frees @o in all cases.  Returns 0 or a negative
 * errno (-ENOSPC when the data did not fit: nothing is left behind then).
 */
int output_commit(struct output *o);

/* Discards everything written; nothing is left behind.  Accepts NULL. */
void output_abort(struct output *o);

#endif /* UKCOV_OUTPUT_H */
