// SPDX-License-Identifier: MIT
/*
 * ukcov: kcov for user space.  main() only dispatches: global options,
 * then one subcommand from the table below.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd commands[] = {
	{ "run",    cmd_run,    "run a command and collect the coverage of its executable" },
	{ "attach", cmd_attach, "collect the coverage of a process that is already running" },
	{ "sites",  cmd_sites,  "list the sites ukcov would probe, with their synthetic PCs" },
	{ "report", cmd_report, "turn saved kcov streams into any format (no privileges)" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ukcov [-v] COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Code coverage of unmodified Linux binaries, collected with eBPF uprobes and\n"
"reported as Linux kcov PCs or as text.  No recompiling, no restart.\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
"\n"
"Options:\n"
"  -v, --verbose   say what ukcov does (repeat for more)\n"
"  -h, --help      show this help;  ukcov COMMAND --help for a command's\n"
"  -V, --version   print the version\n"
"\n"
"Examples:\n"
"  ukcov sites ./prog                          the site table of ./prog\n"
"  ukcov run -o cov.txt -- ./prog ARGS         count every function ./prog runs\n"
"  ukcov run -o cov.kcov -- ./prog ARGS        the same as kcov records\n"
"  ukcov attach -p 1234 --duration 5s          five seconds of a live process\n"
"  ukcov report --sites-file prog.sites -o cov.info cov.kcov\n"
"                                              a saved kcov stream as lcov\n"
"\n"
"Needs root (CAP_BPF and CAP_PERFMON) and Linux >= 6.6 with BTF.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_verbosity++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("ukcov %s\n", UKCOV_VERSION);
			return EXIT_OK;
		} else {
			error("unknown option '%s' (see ukcov --help)", a);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	error("unknown command '%s' (see ukcov --help)", argv[i]);
	return EXIT_USAGE;
}
