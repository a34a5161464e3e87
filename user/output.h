/* SPDX-License-Identifier: MIT */
/*
 * Output files that are either complete or absent.
 *
 * ukcov runs as root and writes where users point it, so an output is
 * opened as an unnamed file in the destination directory (O_TMPFILE, or a
 * mkostemp() name with O_EXCL where the filesystem lacks O_TMPFILE) and
 * named only by output_commit().  A new file gets its name in one linkat():
 * if ukcov dies first, even by SIGKILL, nothing appears.  Replacing an
 * existing file goes through a temp name and rename(), so a SIGKILL in the
 * instant between the two leaves that (complete) temp file; so does one at
 * any time with the mkostemp() fallback.  An existing symlink, or anything
 * but a regular file, at the destination is refused, never followed or
 * replaced; so is a file or FIFO planted by another user in a sticky
 * directory others can write (the rule of the kernel's protected_regular
 * and protected_fifos).  "-" means standard output, written in place; so
 * are an existing character device or FIFO (-o /dev/null, a named pipe to
 * a consumer), which cannot be replaced atomically and hold nothing to
 * protect.  A FIFO must already have its reader: ukcov never waits for one
 * to open it, and a write stuck on a reader that stopped reading gives up
 * (-EINTR) once SIGINT, SIGTERM or SIGHUP is pending.
 */
#ifndef UKCOV_OUTPUT_H
#define UKCOV_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct output;

/*
 * Prepares @path for writing.  Returns NULL and sets errno, and when @why
 * is non-NULL sets *@why to a static reason to print after strerror(), or
 * to NULL when strerror() says it all:
 *   ELOOP    @path is a symlink
 *   EISDIR   @path is a directory;  EINVAL a socket or block device
 *   ENXIO    @path is a FIFO that no process has open for reading
 *   EACCES   also: a file or FIFO another user planted in a sticky,
 *            world- or group-writable directory they do not own
 *   EOPNOTSUPP  the directory's filesystem takes no new files (/proc)
 *   EAGAIN   the FIFO or device at @path was replaced while being opened
 *   EROFS/ENOENT/...   the directory cannot take a new file
 * The caller opens every output before starting work, so a bad path fails
 * before any probe exists.
 */
struct output *output_open(const char *path, const char **why);

/* The stream to write.  Owned by @o. */
FILE *output_file(struct output *o);

/* The path given to output_open(), for messages. */
const char *output_path(const struct output *o);

/* True when the output is written in place to a terminal. */
bool output_is_tty(const struct output *o);

/*
 * Flushes, syncs and atomically puts the file at its path, replacing a
 * regular file there (one refused by output_open() is refused here too:
 * -ELOOP, -EISDIR, -EINVAL, -EACCES).  Frees @o in all cases.  Returns 0 or
 * a negative errno (-ENOSPC when the data did not fit: nothing is left
 * behind then).
 */
int output_commit(struct output *o);

/* Discards everything written; nothing is left behind.  Accepts NULL. */
void output_abort(struct output *o);

#endif /* UKCOV_OUTPUT_H */
