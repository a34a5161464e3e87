// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define DELETED_NOTE " (deleted)"

bool procfs_strip_deleted(char *path)
{
	size_t len = strlen(path), note = strlen(DELETED_NOTE);

	if (len <= note || strcmp(path + len - note, DELETED_NOTE))
		return false;
	path[len - note] = '\0';
	return true;
}

char *procfs_readlink(const char *link)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	procfs_strip_deleted(buf);
	return strdup(buf);
}

int procfs_parse_maps_line(const char *line, struct procfs_mapping *m)
{
	unsigned long long start, end, offset, ino;
	char perms[5];

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu", &start, &end, perms, &offset,
		   &m->major, &m->minor, &ino) != 7 || strlen(perms) != 4 || end <= start)
		return -EINVAL;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->ino = ino;
	/* valid_vma() in kernel/events/uprobes.c: no VM_WRITE, no VM_SHARED. */
	m->private_ro = perms[1] != 'w' && perms[3] == 'p';
	return 0;
}

static bool maps_file(pid_t pid, unsigned int major, unsigned int minor, uint64_t ino)
{
	char path[64], line[PATH_MAX + 128];
	struct procfs_mapping m;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !procfs_parse_maps_line(line, &m) && m.private_ro && m.ino == ino &&
			m.major == major && m.minor == minor;
	fclose(f);
	return found;
}

long procfs_file_mappers(unsigned int major, unsigned int minor, uint64_t ino,
			 const pid_t *skip, size_t nskip, pid_t *pids, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	long n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		size_t i;

		if (*end || pid <= 0 || pid == self)
			continue;
		for (i = 0; i < nskip && skip[i] != pid; i++)
			;
		if (i < nskip || !maps_file(pid, major, minor, ino))
			continue;
		if ((size_t)n < cap)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}
