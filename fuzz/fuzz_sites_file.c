// SPDX-License-Identifier: MIT
/*
 * The site-table file reader behind `ukcov report --sites-file`
 * (sites_file_read_buffer(), and sites_file_read() on the same bytes).
 *
 * The format has one spelling per table (sites_file.c), so the oracle is
 * exact: an accepted file is a valid table that the writer writes back
 * byte for byte (but for the table-id, which fuzz builds do not check);
 * a refused one says why, with a line number inside the file.  Both entry
 * points must agree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sites.h"
#include "sites_file.h"

/*
 * The fuzz build does not check the table-id (it cannot be forged by
 * mutation; sites_file.c): give the written text the input's id, so the
 * rest is compared byte for byte.  The header is fixed, so the first
 * "\ntable-id " is its sixth line in both.
 */
static void same_id(char *text, size_t len, const uint8_t *data, size_t size)
{
	static const char key[] = "\ntable-id ";
	const char *in = memmem(data, size, key, sizeof(key) - 1);
	char *out = memmem(text, len, key, sizeof(key) - 1);
	size_t at;

	fuzz_check(in && out);
	at = (size_t)(in - (const char *)data) + sizeof(key) - 1;
	fuzz_check(at + 16 <= size);
	if ((size_t)(out - text) + sizeof(key) - 1 + 16 <= len)
		memcpy(out + sizeof(key) - 1, data + at, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sites_file_error e = { .line = 12345 }, fe = { .line = 12345 };
	struct site_table *t = NULL, *ft = NULL;
	char *text = NULL;
	size_t len = 0, nlines = 1;
	FILE *f;
	int err, ferr;

	err = sites_file_read_buffer((const char *)data, size, &t, &e);
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	if (err) {
		fuzz_check(err == -EPROTO || err == -EINVAL || err == -ENOMEM);
		fuzz_check(e.why && *e.why);
		fuzz_check(e.line <= nlines);
		fuzz_check(!t);
	} else {
		fuzz_check(t && e.why == NULL && e.line == 0);
		fuzz_check_table(t);
		for (size_t i = 0; i < t->nmodules; i++)
			fuzz_check(t->modules[i].open_path == t->modules[i].path);
		fuzz_check(!fuzz_write_table(t, &text, &len));
		same_id(text, len, data, size);
		if (len != size || memcmp(text, data, size))
			fuzz_fail("accepted file is not written back byte for byte "
				  "(%zu bytes in, %zu out)", size, len);
	}

	/* The FILE reader: same verdict, same table. */
	f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	if (!f)
		fuzz_fail("fmemopen failed");
	ferr = sites_file_read(f, &ft, &fe);
	fclose(f);
	fuzz_check(ferr == err);
	if (err) {
		fuzz_check(fe.line == e.line && !strcmp(fe.why, e.why));
	} else {
		fuzz_check_same_table(t, ft);
	}
	site_table_free(ft);
	site_table_free(t);
	free(text);
	return 0;
}
