/* SPDX-License-Identifier: MIT */
/*
 * Which modules a collection covers: the main executable, the libraries
 * named with --lib, all of its shared libraries with --libs, narrowed by
 * --include/--exclude.  Shared by `run`, `attach` and `sites`, so the three
 * build the same site table from the same options.
 *
 * --include/--exclude semantics (fnmatch(3) globs, flags 0, so '*' also
 * matches '/'):
 *   - a pattern matches a module when it matches the module's path (as
 *     reports show it) or that path's last component; it matches a site
 *     when it matches the site's function name (the name ukcov reports);
 *   - a module that an --exclude pattern matches is not read at all, and
 *     a site whose function an --exclude pattern matches is dropped;
 *     exclusion always wins over inclusion;
 *   - with no --include, every other site stays; with --include, a site
 *     stays when an --include pattern matches its module or its function;
 *   - a module left without sites is dropped from the table.
 *
 * sites_libs_load() is part of the command layer's shared half (like
 * session.c): it prints its own one-line errors and warnings.
 */
#ifndef UKCOV_SITES_LIBS_H
#define UKCOV_SITES_LIBS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sites.h"

#define SEL_MAX_LIBS 64
#define SEL_MAX_PATTERNS 64

struct module_selection {
	const char *libs[SEL_MAX_LIBS];		/* --lib PATH, as given */
	size_t nlibs;
	bool all_libs;				/* --libs */
	const char *include[SEL_MAX_PATTERNS];	/* --include GLOB */
	size_t ninclude;
	const char *exclude[SEL_MAX_PATTERNS];	/* --exclude GLOB */
	size_t nexclude;
};

/* Long-only option codes ('L' << 8 | n); parsed by module_opts_parse() (options.h). */
#define OPT_LIB        0x4c01
#define OPT_LIBS       0x4c02
#define OPT_INCLUDE    0x4c03
#define OPT_EXCLUDE    0x4c04
#define OPT_DEBUG_FILE 0x4c05

#define MODULE_LONG_OPTIONS						\
	{ "lib",        required_argument, NULL, OPT_LIB },		\
	{ "libs",       no_argument,       NULL, OPT_LIBS },		\
	{ "include",    required_argument, NULL, OPT_INCLUDE },		\
	{ "exclude",    required_argument, NULL, OPT_EXCLUDE },		\
	{ "debug-file", required_argument, NULL, OPT_DEBUG_FILE }

#define MODULE_OPTIONS_HELP						\
"      --lib PATH        also cover the shared library PATH (repeatable)\n" \
"      --libs            also cover every shared library of the program\n" \
"                        (run, sites: its DT_NEEDED closure as ld.so finds\n" \
"                        it; attach: every file it maps executable); the\n" \
"                        dynamic loader itself only when named with --lib\n" \
"      --include GLOB    keep only sites whose module path (or its file\n"	\
"                        name) or function name matches GLOB (repeatable)\n" \
"      --exclude GLOB    drop modules and functions GLOB matches (repeatable;\n" \
"                        wins over --include)\n"			\
"      --debug-file PATH separate debug info (symbols, file:line) of the\n"	\
"                        executable, instead of searching for it\n"

/* Where the main module comes from. */
struct module_source {
	const char *exe_open;		/* path the executable is read from and
					 * probed through (attach: /proc/PID/exe) */
	const char *exe_display;	/* its path in reports */
	pid_t pid;			/* attach: the process, whose mappings are its
					 * libraries; 0: run/sites, the DT_NEEDED closure */
};

/*
 * Builds @t (empty) from @src and @sel: the executable, each --lib, then
 * with --libs each library, with the filters applied; finishes the table.
 * A failure to read the executable or a --lib PATH is an error; a library
 * found through --libs that cannot be read or has no sites is a warning.
 * @o->debug_file applies to the executable only.  Returns 0, or -1 after
 * printing; *@errp (when non-NULL) gets the positive errno of the failure.
 */
int sites_libs_load(struct site_table *t, const struct module_selection *sel,
		    const struct site_options *o, const struct module_source *src, int *errp);

/*
 * For a library a process maps later (dlopen), at path @path (as reports
 * show it): whether @sel covers it, i.e. --libs was given, or @path names
 * the same file as a --lib PATH; and no --exclude matches its path.
 */
bool module_selection_covers(const struct module_selection *sel, const char *path);

/*
 * Reads module @open_path (shown as @display) into @t as its last module
 * with @sel's filters applied, without re-sorting the table: the sites of
 * the modules already in it keep their indexes, and the new module's are
 * appended in vaddr order.  For modules found after the table was
 * finished (dlopen).  Returns 0, -ENODATA when the filters (or the file)
 * leave no site (@t unchanged), or an error of site_table_add_elf() with
 * *@why set as it sets it.  Prints nothing.
 */
int sites_libs_add_module(struct site_table *t, const struct module_selection *sel,
			  const struct site_options *o, const char *open_path,
			  const char *display, const char **why);

/* Whether @sel narrows sites at all (any --include or --exclude). */
static inline bool module_selection_filters(const struct module_selection *sel)
{
	return sel && (sel->ninclude || sel->nexclude);
}

#endif /* UKCOV_SITES_LIBS_H */
