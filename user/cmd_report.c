// SPDX-License-Identifier: MIT
/*
 * ukcov report: turn recorded kcov streams into any output format, with the
 * site table `--save-sites` saved.  No target, no probes, no privileges:
 * the streams go through the same outputs and sinks as a live run
 * (session_open_outputs, session_emit, session_write_outputs).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kcov_reader.h"
#include "log.h"
#include "options.h"
#include "session.h"
#include "sites.h"
#include "sites_file.h"

#define OPT_SITES_FILE 0x5302

/* What report_record() tells the text header about its counts. */
#define REPORT_MODE "drains (counts are drains-with-hits, not hits)"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ukcov report --sites-file FILE [OPTIONS] STREAM...\n"
"\n"
"Turns kcov streams recorded by `ukcov run` or `ukcov attach` with\n"
"--format kcov --save-sites FILE into a report in any format, from the site\n"
"table saved in FILE.  Needs neither the target nor privileges.  A STREAM\n"
"of '-' is standard input.\n"
"\n"
"Several streams are merged.  A kcov stream says which sites ran in each\n"
"drain, not how often they ran, so a site's COUNT in the report is the\n"
"number of drains (records) in which it ran, summed over all streams:\n"
"counts are drains-with-hits, not hits.  A site that never ran has none.\n"
"\n"
"Every stream must belong to FILE: a stream whose table-id record names\n"
"another site table is refused, as is any PC outside the table; a stream\n"
"without a table-id record (recorded without --save-sites) is read with a\n"
"warning, since nothing proves it belongs to FILE.\n"
"\n"
"Options:\n"
"      --sites-file FILE the site table saved by --save-sites (required)\n"
"  -o, --output FILE     write the report to FILE ('-' = stdout, the default);\n"
"                        repeat to write several formats\n"
"  -f, --format FORMAT   without it, each -o FILE's format follows its\n"
"                        extension; text when it has none of these\n"
"      --sites KIND      fail unless FILE holds sites of KIND (func, line, bb)\n"
"  -v, --verbose         say what ukcov does\n"
"  -h, --help            show this help\n"
"\n"
"Formats:\n");
	for (size_t i = 0; sink_formats[i]; i++)
		fprintf(f, "  %-10s %-7s %s\n", sink_formats[i]->name,
			sink_formats[i]->extension ? sink_formats[i]->extension : "",
			sink_formats[i]->summary);
	fprintf(f,
"\n"
"Exit status: 0 on success, 1 on a failure (unreadable, malformed or\n"
"mismatched input, a write error), 2 on a bad command line.\n"
"\n"
"Examples:\n"
"  ukcov run -f kcov -o cov.kcov --save-sites prog.sites -- ./prog\n"
"  ukcov report --sites-file prog.sites -o cov.info cov.kcov\n"
"  ukcov report --sites-file prog.sites -o cov.txt -o cov.xml run1.kcov run2.kcov\n"
"  consumer < cov.kcov | ukcov report --sites-file prog.sites -f lcov -\n");
}

struct report {
	struct session *s;
	const struct site_table *t;
	uint64_t *totals;	/* totals[i]: records naming site i */
	uint64_t *prefix_ids;	/* [k]: site_table_prefix_id(t, k + 1) */
	size_t limit;		/* PCs the current table-id allows */
	const char *sites_path;
	const char *stream;	/* for messages */
	bool paired;		/* a matching table-id record was seen */
	bool warned;
	uint64_t records;	/* over all streams */
};

/* A callback's error, already printed. */
#define REPORT_STOP (-ECANCELED)

static int report_table_id(void *arg, uint64_t id, uint64_t offset)
{
	struct report *r = arg;
	const struct site_table *t = r->t;

	/* A run whose table grew names each table; the file has the last. */
	for (size_t k = t->nmodules; k-- > 0;)
		if (r->prefix_ids[k] == id) {
			r->limit = t->modules[k].first_site + t->modules[k].nsites;
			r->paired = true;
			return 0;
		}
	error("%s: kcov stream of another site table: its table-id %016" PRIx64
	      " (byte %" PRIu64 ") is not %s's %016" PRIx64, r->stream, id, offset,
	      r->sites_path, t->nmodules ? r->prefix_ids[t->nmodules - 1] : 0);
	return REPORT_STOP;
}

static int report_record(void *arg, const uint64_t *pcs, size_t n, uint64_t offset)
{
	struct report *r = arg;

	if (!r->paired && !r->warned) {
		warning("%s has no table-id record: nothing shows it belongs to %s "
			"(record with --save-sites to pair them)", r->stream, r->sites_path);
		r->warned = true;
	}
	/* The reader checked every PC against the whole table. */
	for (size_t i = 0; i < n; i++) {
		if (pcs[i] - r->t->pc_base >= r->limit) {
			error("%s: record at byte %" PRIu64 " has PC 0x%" PRIx64
			      ", beyond the %zu sites its table-id names", r->stream, offset,
			      pcs[i], r->limit);
			return REPORT_STOP;
		}
		r->totals[pcs[i] - r->t->pc_base]++;
	}
	r->records++;
	return session_emit(r->s, pcs, n) ? REPORT_STOP : 0;
}

/* Reads stream @path ('-' = stdin) into @r.  Returns 0 or -1 after printing. */
static int read_stream(struct report *r, const char *path)
{
	struct kcov_reader kr = {
		.pc_base = r->t->pc_base,
		.nsites = r->t->nsites,
		.on_record = report_record,
		.on_table_id = report_table_id,
		.arg = r,
	};
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	int err;

	if (!f)
		return error("cannot read %s: %s", path, strerror(errno));
	r->stream = is_stdin ? "standard input" : path;
	r->paired = r->warned = false;
	r->limit = r->t->nsites;
	err = kcov_read_file(&kr, f);
	if (!is_stdin)
		fclose(f);
	if (err == REPORT_STOP)
		return -1;
	if (err == -EPROTO)
		return error("%s: malformed kcov stream at byte %" PRIu64 ": %s", r->stream,
			     kr.err_offset, kr.why);
	if (err)
		return error("reading %s: %s", r->stream, strerror(-err));
	info("%s: %" PRIu64 " records%s", r->stream, kr.nrecords,
	     kr.ntable_ids ? "" : ", no table-id record");
	return 0;
}

/* Reads the sites file at @path.  Returns the table, or NULL after printing. */
static struct site_table *load_sites(const char *path)
{
	struct sites_file_error e = {};
	struct site_table *t = NULL;
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	err = sites_file_read(f, &t, &e);
	fclose(f);
	if (err == -ENOMEM)
		error("out of memory reading %s", path);
	else if (err && e.line)
		error("%s:%zu: %s", path, e.line, e.why ? e.why : strerror(-err));
	else if (err)
		error("%s: %s", path, e.why ? e.why : strerror(-err));
	return err ? NULL : t;
}

/* "kcov streams: A B C" for the report header; truncated, never fails. */
static void join_streams(char *buf, size_t size, char **paths, int n)
{
	size_t used = snprintf(buf, size, "kcov stream%s:", n == 1 ? "" : "s");

	for (int i = 0; i < n && used + 1 < size; i++)
		used += snprintf(buf + used, size - used, " %s", paths[i]);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "sites", required_argument, NULL, 'S' },
		{ "sites-file", required_argument, NULL, OPT_SITES_FILE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct session s = { .sigfd = -1 };
	struct report r = {};
	struct collect_opts o;
	struct run_info ri = { .exit_status = -1 };
	struct site_table *t = NULL;
	const char *sites_path = NULL;
	enum site_kind want_kind = SITE_KIND_FUNC;
	bool check_kind = false;
	char target[1024];
	int opt, nstdin = 0, ret = EXIT_FAIL;

	collect_opts_init(&o);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:f:vh", longopts, NULL)) != -1) {
		int err;

		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case OPT_SITES_FILE:
			sites_path = optarg;
			break;
		case 'S':
			if (site_kind_parse(optarg, &want_kind)) {
				error("report: unknown site kind '%s' (known: func, line, bb)", optarg);
				return EXIT_USAGE;
			}
			check_kind = true;
			break;
		case 'o':
		case 'f':
		case 'v':
			err = collect_opts_parse(&o, opt, optarg);
			if (err)
				return EXIT_USAGE;
			break;
		default:
			option_error("report", opt, argv);
			return EXIT_USAGE;
		}
	}
	if (!sites_path) {
		error("report: --sites-file FILE is required (see ukcov report --help)");
		return EXIT_USAGE;
	}
	if (optind == argc) {
		error("report: no kcov stream given (see ukcov report --help)");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		nstdin += !strcmp(argv[i], "-");
	if (nstdin > 1) {
		error("report: standard input ('-') given more than once");
		return EXIT_USAGE;
	}

	t = load_sites(sites_path);
	if (!t)
		return EXIT_FAIL;
	if (check_kind && want_kind != t->kind) {
		error("%s holds %s sites, not %s (--sites)", sites_path, site_kind_name(t->kind),
		      site_kind_name(want_kind));
		site_table_free(t);
		return EXIT_FAIL;
	}
	/* Formats check what they need of the table's kind (collect_opts_finish). */
	o.sites.kind = t->kind;
	if (collect_opts_finish(&o)) {
		site_table_free(t);
		return EXIT_USAGE;
	}

	session_init_offline(&s, &o, t);	/* s owns t from here */
	if (session_open_outputs(&s))
		goto out;
	r.s = &s;
	r.t = t;
	r.sites_path = sites_path;
	r.prefix_ids = calloc(t->nmodules ? t->nmodules : 1, sizeof(*r.prefix_ids));
	if (!r.prefix_ids) {
		error("out of memory");
		goto out;
	}
	for (size_t k = 0; k < t->nmodules; k++)
		r.prefix_ids[k] = site_table_prefix_id(t, k + 1);
	/* A kcov output of the report stays paired with the same sites file. */
	for (size_t i = 0; i < s.noutputs; i++) {
		s.sinks[i].table_id = site_table_id(t);
		s.sinks[i].emit_table_id = true;
	}
	r.totals = calloc(t->nsites ? t->nsites : 1, sizeof(*r.totals));
	if (!r.totals) {
		error("out of memory");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (read_stream(&r, argv[i]))
			goto out;

	join_streams(target, sizeof(target), argv + optind, argc - optind);
	ri.target = target;
	ri.mode = REPORT_MODE;
	ri.site_kind = site_kind_name(t->kind);
	/* Each record is one drain that found hits; idle drains left no trace. */
	ri.drains = r.records;
	ri.drains_with_hits = r.records;
	if (session_write_outputs(&s, r.totals, &ri))
		goto out;
	ret = EXIT_OK;
out:
	free(r.totals);
	free(r.prefix_ids);
	session_close(&s);
	return ret;
}
