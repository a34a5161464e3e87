// SPDX-License-Identifier: MIT
/*
 * A main() for the fuzz targets without libFuzzer: feeds every file named
 * on the command line (directories: every regular file in them, in name
 * order) to LLVMFuzzerTestOneInput() once.  Built with ASan and UBSan, so
 * `make check` replays the regression inputs and seeds with the same
 * checks the fuzzer ran them under; a finding aborts the program.
 *
 * A path that does not exist is an error: a mistyped or missing corpus
 * directory must not turn the replay into a pass that checked nothing.
 * An empty directory is fine (a target with no regression input yet).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Larger files are refused: no seed or regression input comes near it. */
#define REPLAY_MAX (64u << 20)

static int replay_file(const char *path, size_t *count)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t got;
	FILE *f;
	int err = 0;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		err = -errno;
		goto out;
	}
	if (st.st_size > REPLAY_MAX) {
		err = -EFBIG;
		goto out;
	}
	/* An exact-size copy: ASan sees a read past the input's end. */
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	got = fread(buf, 1, st.st_size, f);
	if (got != (size_t)st.st_size) {
		err = -EIO;
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, got);
	(*count)++;
out:
	if (err)
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-err));
	free(buf);
	if (f)
		fclose(f);
	return err;
}

static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **names = NULL;
	int n, err = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		err = -errno;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(-err));
		return err;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (names[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int)sizeof(path) &&
		    !stat(path, &st) && S_ISREG(st.st_mode) && replay_file(path, count))
			err = -EIO;
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int err = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			err = -1;
		} else if (S_ISDIR(st.st_mode)) {
			err |= replay_dir(argv[i], &count);
		} else {
			err |= replay_file(argv[i], &count);
		}
	}
	printf("  REPLAY   %s: %zu inputs\n", argv[0], count);
	return err ? 1 : 0;
}
