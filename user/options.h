/* SPDX-License-Identifier: MIT */
/*
 * Options shared by the commands that collect coverage (run, attach).
 * Parsed into a typed struct once; combinations are checked once, after
 * parsing, by collect_opts_finish().
 */
#ifndef UKCOV_OPTIONS_H
#define UKCOV_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>

#include "sites.h"

#define MAX_OUTPUTS 8
#define DEFAULT_INTERVAL_MS 100
#define MIN_INTERVAL_MS 1
#define MAX_DURATION_MS (UINT64_C(365) * 24 * 3600 * 1000)

struct sink_ops;

struct output_spec {
	const char *path;		/* "-" = standard output */
	const struct sink_ops *format;	/* resolved by collect_opts_finish() */
};

struct collect_opts {
	struct output_spec outputs[MAX_OUTPUTS];
	size_t noutputs;
	const struct sink_ops *format;	/* --format, NULL if not given */
	uint64_t interval_ms;
	uint64_t duration_ms;		/* 0: until the target exits */
	struct site_options sites;
};

/* getopt_long() entries for the shared options; end a command's table with them. */
#define COLLECT_LONG_OPTIONS					\
	{ "output",   required_argument, NULL, 'o' },		\
	{ "format",   required_argument, NULL, 'f' },		\
	{ "interval", required_argument, NULL, 'i' },		\
	{ "no-dwarf", no_argument,       NULL, 'N' },		\
	{ "sites",    required_argument, NULL, 'S' },		\
	{ "verbose",  no_argument,       NULL, 'v' },		\
	{ "help",     no_argument,       NULL, 'h' }
#define COLLECT_SHORT_OPTIONS "+:o:f:i:vh"

/* Help text lines for the shared options. */
#define COLLECT_OPTIONS_HELP						\
"  -o, --output FILE     write coverage to FILE ('-' = stdout, the default);\n" \
"                        repeat to write several formats from one run\n"	\
"  -f, --format FORMAT   text (default) or kcov; without it, each -o FILE's\n"	\
"                        format follows its extension (.txt, .kcov)\n"		\
"  -i, --interval DUR    drain the counters every DUR (default 100ms)\n"	\
"      --sites KIND      what to probe: func (function entries, the default),\n" \
"                        line (source lines) or bb (basic blocks)\n"		\
"      --no-dwarf        do not look up file:line (faster on huge binaries)\n"	\
"  -v, --verbose         say what ukcov does; twice: libbpf's messages too\n"	\
"  -h, --help            show this help\n"

/* Sets the defaults. */
void collect_opts_init(struct collect_opts *o);

/*
 * Handles one shared option (as returned by getopt_long).  Returns 0 when
 * handled, 1 when @opt is not a shared option, -1 after printing an error.
 */
int collect_opts_parse(struct collect_opts *o, int opt, const char *arg);

/*
 * Applies defaults that depend on other options (-o - when none; each
 * output's format) and checks combinations.  Returns 0 or -1 after printing
 * an error.
 */
int collect_opts_finish(struct collect_opts *o);

/*
 * Parses a duration: "250ms", "5s", "2m", "1h", "1.5s", or a bare number of
 * seconds.  Stores milliseconds in *@ms.  Returns 0, -EINVAL (malformed) or
 * -ERANGE (above MAX_DURATION_MS).
 */
int parse_duration_ms(const char *s, uint64_t *ms);

/*
 * Parses a pid: a decimal number in 1..INT_MAX.  Returns 0, -EINVAL or -ERANGE.
 */
int parse_pid(const char *s, int *pid);



/*
 * Prints the one-line error for a '?' (unknown option) or ':' (missing
 * argument) from getopt_long() run with opterr = 0 and a "+:" optstring.
 * Returns -1.
 */
int option_error(const char *cmd, int opt, char **argv);
#endif /* UKCOV_OPTIONS_H */
