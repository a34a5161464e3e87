/* SPDX-License-Identifier: MIT */
/* Paths the kernel shows under /proc. */
#ifndef UKCOV_PROCFS_H
#define UKCOV_PROCFS_H

#include <stdbool.h>

/*
 * Strips the " (deleted)" the kernel appends to the path of a file that was
 * unlinked or replaced while mapped (in /proc/PID/exe, maps, map_files).
 * Returns true when it was there.  The note is not part of the name.
 */
bool procfs_strip_deleted(char *path);

/*
 * readlink() of a /proc magic link into a malloc'd string, without the
 * " (deleted)" note.  Returns NULL and sets errno on failure.
 */
char *procfs_readlink(const char *link);

#endif /* UKCOV_PROCFS_H */
