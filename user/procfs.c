// SPDX-License-Identifier: MIT
#include <limits.h>
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
