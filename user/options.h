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
#include "sites_libs.h"

#define MAX_OUTPUTS 8
#define DEFAULT_INTERVAL_MS 100
#define MIN_INTERVAL_MS 1
#define MAX_DURATION_MS (UINT64_C(365) * 24 * 3600 * 1000)

struct sink_ops;

/* --mode: what a site's count means. */
enum collect_mode {
	COLLECT_COUNT,	/* every hit counts (the default) */
	COLLECT_ONCE,	/* a site is reported once, then retired (once.h) */
};

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
	const char *save_sites;		/* --save-sites: NULL when none */
	const char *ring_path;		/* --ring: NULL when none */
	unsigned int ring_mode;		/* --ring-mode: permission bits, 0..0777 */
	uint64_t ring_words;		/* --ring-size: area words, area[0] included */
	/* Which processes count (procs.h). */
	bool no_follow;			/* --no-follow: the first process only */
	bool follow_exec;		/* --follow-exec: cover what tracked processes exec */
	bool dlopen;			/* --dlopen: cover libraries loaded while running */
	uint64_t max_sites;		/* --max-sites: room for modules found later; 0: default */
	enum collect_mode mode;		/* --mode */
	struct site_options sites;
	struct module_selection modules;	/* --lib, --libs, --include, --exclude */
};

/* Long-only options: values outside the char range ('R' << 8 | n). */
#define OPT_RING      0x5201
#define OPT_RING_MODE 0x5202
#define OPT_RING_SIZE 0x5203
#define OPT_SAVE_SITES 0x5301
#define OPT_NO_FOLLOW   0x4601	/* 'F' << 8 | n: process following */
#define OPT_FOLLOW_EXEC 0x4602
#define OPT_DLOPEN      0x4603
#define OPT_MAX_SITES   0x4604
#define OPT_MODE        0x4d01	/* 'M' << 8 | n */
#define OPT_USER        0x5501	/* 'U' << 8 | n: run --user */

/* getopt_long() entries for the shared options; end a command's table with them. */
#define COLLECT_LONG_OPTIONS					\
	{ "output",   required_argument, NULL, 'o' },		\
	{ "format",   required_argument, NULL, 'f' },		\
	{ "interval", required_argument, NULL, 'i' },		\
	{ "no-dwarf", no_argument,       NULL, 'N' },		\
	{ "sites",    required_argument, NULL, 'S' },		\
	{ "verbose",  no_argument,       NULL, 'v' },		\
	{ "help",     no_argument,       NULL, 'h' },		\
	{ "ring",      required_argument, NULL, OPT_RING },	\
	{ "ring-mode", required_argument, NULL, OPT_RING_MODE },	\
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },	\
	{ "save-sites", required_argument, NULL, OPT_SAVE_SITES },	\
	{ "no-follow",   no_argument,       NULL, OPT_NO_FOLLOW },	\
	{ "follow-exec", no_argument,       NULL, OPT_FOLLOW_EXEC },	\
	{ "dlopen",      no_argument,       NULL, OPT_DLOPEN },		\
	{ "max-sites",   required_argument, NULL, OPT_MAX_SITES },	\
	{ "mode",        required_argument, NULL, OPT_MODE },		\
	MODULE_LONG_OPTIONS
#define COLLECT_SHORT_OPTIONS "+:o:f:i:vh"

/* Help text lines for the shared options. */
#define COLLECT_OPTIONS_HELP						\
"  -o, --output FILE     write coverage to FILE ('-' = stdout, the default);\n" \
"                        repeat to write several formats from one run\n"	\
"  -f, --format FORMAT   text (default), kcov, lcov, cobertura or drcov;\n"	\
"                        without it, each -o FILE's format follows its\n"	\
"                        extension (.txt, .kcov, .info, .xml, .drcov)\n"	\
"  -i, --interval DUR    drain the counters every DUR (default 100ms); with\n" \
"                        --mode once, at most every DUR: from 1ms while\n"	\
"                        new sites turn up\n"					\
"      --mode MODE       count (default): every hit counts; once: each site\n" \
"                        is reported the first time it runs, then its probe\n" \
"                        is removed (new coverage at near-native speed)\n" \
"      --save-sites FILE also save the site table to FILE, for a later\n"	\
"                        `ukcov report` of the kcov output (which then\n"	\
"                        starts with the table's id)\n"			\
"      --ring PATH       also share the coverage, kcov-style, in the file PATH\n" \
"                        (created; must not exist) for a live consumer that\n" \
"                        asks for drains (see <ukcov/ring.h>, -lukcov);\n" \
"                        without -o, nothing goes to stdout then\n"		\
"      --ring-mode OCTAL permission bits of the ring file (default 0600)\n" \
"      --ring-size WORDS ring area in u64 words, count included (default 65536)\n" \
"      --no-follow       count only the first process, not its children\n"	\
"      --follow-exec     also cover binaries that covered processes exec\n"	\
"      --dlopen          also cover libraries they load while running\n"	\
"      --max-sites N     room for sites found while running (default:\n"	\
"                        4x the initial sites, at least 1M)\n"		\
"      --sites KIND      what to probe: func (function entries, the default),\n" \
"                        line (source lines) or bb (basic blocks)\n"		\
"      --no-dwarf        do not look up file:line (faster on huge binaries)\n"	\
MODULE_OPTIONS_HELP								\
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
 * Handles one module option (MODULE_LONG_OPTIONS: --lib, --libs, --include,
 * --exclude, --debug-file) into @sel and @so; shared by run, attach (through
 * collect_opts_parse()) and sites.  Returns 0 when handled, 1 when @opt is
 * not one, -1 after printing an error.
 */
int module_opts_parse(struct module_selection *sel, struct site_options *so, int opt,
		      const char *arg);

/*
 * Applies defaults that depend on other options (-o - when neither -o nor
 * --ring; each
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
