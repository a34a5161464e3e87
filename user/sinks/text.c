// SPDX-License-Identifier: MIT
/*
 * The text report: '#' header lines, then one line per site that ran,
 *   PC COUNT FUNCTION FILE:LINE MODULE+0xOFFSET
 * in PC order.  PC is the synthetic PC, OFFSET the site's file offset in
 * MODULE (what `ukcov sites` prints and what a disassembler takes).
 * Names are escaped (escape.h): one site, one line, five fields.
 */
#include <errno.h>
#include <inttypes.h>

#include "escape.h"
#include "sinks/sink.h"
#include "sites.h"

/* The header fields are documented as set; a missing one must not crash. */
static const char *str_or_unknown(const char *s)
{
	return s ? s : "?";
}

/* Each write is checked where it fails, while errno still says why. */
#define TRY_PRINT(...)						\
	do {							\
		if (fprintf(__VA_ARGS__) < 0) {			\
			err = errno ? -errno : -EIO;		\
			goto out;				\
		}						\
	} while (0)

#define TRY_ESCAPE(str, f)					\
	do {							\
		if (escape_fputs((str), (f))) {			\
			err = errno ? -errno : -EIO;		\
			goto out;				\
		}						\
	} while (0)

static int text_finish(struct sink *s, const struct site_table *t,
		       const uint64_t *totals, const struct run_info *info)
{
	FILE *out = s->out;
	uint64_t hits = 0;
	size_t nhit = 0, i;
	int err = 0;

	for (i = 0; i < t->nsites; i++) {
		if (totals[i]) {
			nhit++;
			hits += totals[i];
		}
	}

	errno = 0;
	TRY_PRINT(out, "# ukcov %s text coverage\n", UKCOV_VERSION);
	TRY_PRINT(out, "# target: %s\n", str_or_unknown(info->target));
	TRY_PRINT(out, "# mode: %s, sites: %s\n", str_or_unknown(info->mode),
		  str_or_unknown(info->site_kind));
	/* Shared with `ukcov sites`, so both describe modules alike. */
	site_table_print_modules(t, out);
	if (ferror(out)) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	TRY_PRINT(out, "# sites: %zu total, %zu hit, %" PRIu64 " hits, %" PRIu64
		  " drains\n", t->nsites, nhit, hits, info->drains);
	if (info->exit_status >= 0)
		TRY_PRINT(out, "# exit: %d\n", info->exit_status);
	for (i = 0; i < info->nexecs; i++) {
		TRY_PRINT(out, "# exec: %d ", info->execs[i].pid);
		TRY_ESCAPE(info->execs[i].path, out);
		TRY_PRINT(out, "\n");
	}
	TRY_PRINT(out, "# PC COUNT FUNCTION FILE:LINE MODULE+0xOFFSET\n");

	/* Index order is PC order: PC = pc_base + index. */
	for (i = 0; i < t->nsites; i++) {
		struct site site;

		if (!totals[i])
			continue;
		site_table_get(t, i, &site);
		TRY_PRINT(out, "0x%016" PRIx64 " %" PRIu64 " ", site_pc(t, i), totals[i]);
		TRY_ESCAPE(site.func, out);
		TRY_PRINT(out, " ");
		TRY_ESCAPE(site.file ? site.file : "??", out);
		TRY_PRINT(out, ":%" PRIu32 " ", site.file ? site.line : 0);
		TRY_ESCAPE(t->modules[site.module].path, out);
		TRY_PRINT(out, "+0x%" PRIx64 "\n", site.offset);
	}

	if (fflush(out) == EOF)
		err = errno ? -errno : -EIO;
	else if (ferror(out))
		err = -EIO;
out:
	return err;
}

const struct sink_ops sink_text = {
	.name = "text",
	.extension = ".txt",
	.summary = "a report: one line per site that ran, with its count",
	.finish = text_finish,
};
