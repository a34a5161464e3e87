/* SPDX-License-Identifier: MIT */
/* Paths the kernel shows under /proc. */
#ifndef UKCOV_PROCFS_H
#define UKCOV_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* One line of /proc/PID/maps, as far as ukcov needs it. */
struct procfs_mapping {
	uint64_t start, end;	/* process vaddrs, [start, end) */
	uint64_t offset;	/* file offset of start */
	unsigned int major, minor;
	uint64_t ino;
	bool private_ro;	/* "r?xp"-like: private and not writable, where
				 * the kernel puts uprobes */
};

/* Parses @line.  Returns 0, or -EINVAL for a malformed line. */
int procfs_parse_maps_line(const char *line, struct procfs_mapping *m);

/*
 * The processes that map the file @major:@minor inode @ino where the
 * kernel puts uprobes (private, not writable), other than ukcov itself and
 * the @nskip pids at @skip: stores the first @cap of their pids at @pids
 * and returns how many there are.  Processes that exit or cannot be read
 * meanwhile are not counted.  Returns -errno when /proc cannot be listed.
 */
long procfs_file_mappers(unsigned int major, unsigned int minor, uint64_t ino,
			 const pid_t *skip, size_t nskip, pid_t *pids, size_t cap);

#endif /* UKCOV_PROCFS_H */
