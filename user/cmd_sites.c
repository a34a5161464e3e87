// SPDX-License-Identifier: MIT
/* ukcov sites: print the site table, the map from synthetic PC to code. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "cmd.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "session.h"
#include "sites.h"
#include "sites_libs.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ukcov sites [OPTIONS] BINARY\n"
"\n"
"Lists the sites ukcov probes in BINARY: one line per site,\n"
"  PC MODULE 0xOFFSET FUNCTION FILE:LINE\n"
"after '#' header lines.  PC is the synthetic PC that `ukcov run` and\n"
"`ukcov attach` report for that site (0xffffffff80000000 + index, in module\n"
"then address order); OFFSET is the site's file offset (its uprobe goes\n"
"on the cheapest instruction of the straight-line run starting there).\n"
"The table is the same whichever command builds it, so a PC means one thing.\n"
"Needs no privileges.\n"
"\n"
"Options:\n"
"  -o, --output FILE     write the table to FILE ('-' = stdout, the default)\n"
"      --sites KIND      func (function entries, the default), line or bb\n"
"      --no-dwarf        do not look up file:line\n"
MODULE_OPTIONS_HELP
"  -h, --help            show this help\n"
"\n"
"Examples:\n"
"  ukcov sites /usr/bin/true\n"
"  ukcov sites --sites line ./prog   source lines (needs -g)\n"
"  ukcov sites -o prog.sites ./prog\n"
"  ukcov sites --libs --exclude '*libc.so*' ./prog   with its libraries\n");
}

static int print_table(const struct site_table *t, FILE *f)
{
	fprintf(f, "# ukcov %s sites\n", UKCOV_VERSION);
	site_table_print_modules(t, f);
	fprintf(f, "# sites: %zu\n", t->nsites);
	fprintf(f, "# PC MODULE OFFSET FUNCTION FILE:LINE\n");
	for (size_t i = 0; i < t->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);

		fprintf(f, "0x%016llx ", (unsigned long long)site_pc(t, i));
		escape_fputs(t->modules[s.module].path, f);
		fprintf(f, " 0x%llx ", (unsigned long long)s.offset);
		escape_fputs(s.func, f);
		fputc(' ', f);
		escape_fputs(s.file ? s.file : "??", f);
		fprintf(f, ":%u\n", s.line);
	}
	return ferror(f) ? -EIO : 0;
}

int cmd_sites(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "no-dwarf", no_argument, NULL, 'N' },
		{ "sites", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		MODULE_LONG_OPTIONS,
		{}
	};
	struct site_options so = {};
	struct module_selection sel = {};
	struct module_source src = {};
	const char *path = "-";
	struct site_table *t = NULL;
	struct output *out = NULL;
	char *display = NULL;
	int opt, err, ret = EXIT_FAIL;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			path = optarg;
			break;
		case 'N':
			so.no_dwarf = true;
			break;
		case 'S':
			if (site_kind_parse(optarg, &so.kind)) {
				error("sites: unknown site kind '%s' (known: func, line, bb)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			/* The same module options as run and attach: the same table. */
			err = module_opts_parse(&sel, &so, opt, optarg);
			if (!err)
				break;
			if (err > 0)
				option_error("sites", opt, argv);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		error("sites: expected one BINARY (see ukcov sites --help)");
		return EXIT_USAGE;
	}

	out = session_open_output(path);
	if (!out)
		goto out;
	display = realpath(argv[optind], NULL);
	if (!display) {
		error("%s: %s", argv[optind], strerror(errno));
		goto out;
	}
	t = site_table_new();
	if (!t) {
		error("out of memory");
		goto out;
	}
	src.exe_open = argv[optind];
	src.exe_display = display;
	if (sites_libs_load(t, &sel, &so, &src, NULL))
		goto out;
	err = print_table(t, output_file(out));
	if (!err) {
		err = output_commit(out);
		out = NULL;
	}
	if (err) {
		error("writing %s: %s", path, strerror(-err));
		goto out;
	}
	ret = EXIT_OK;
out:
	output_abort(out);
	site_table_free(t);
	free(display);
	return ret;
}
