// SPDX-License-Identifier: MIT
/*
 * The modules of a collection: executable, --lib, --libs, and the
 * --include/--exclude filters (semantics in sites_libs.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldso.h"
#include "log.h"
#include "sites.h"
#include "sites_libs.h"

enum path_verdict {
	PATH_EXCLUDED,		/* an --exclude matches the module */
	PATH_ALL,		/* every function, less those --exclude names */
	PATH_NAMES_ONLY,	/* only functions an --include names */
};

static bool glob_match(const char *pattern, const char *s)
{
	return !fnmatch(pattern, s, 0);
}

static bool path_matches(const char *pattern, const char *path)
{
	const char *base = strrchr(path, '/');

	return glob_match(pattern, path) || (base && glob_match(pattern, base + 1));
}

static enum path_verdict path_verdict(const struct module_selection *sel, const char *path)
{
	size_t i;

	if (!sel)
		return PATH_ALL;
	for (i = 0; i < sel->nexclude; i++)
		if (path_matches(sel->exclude[i], path))
			return PATH_EXCLUDED;
	if (!sel->ninclude)
		return PATH_ALL;
	for (i = 0; i < sel->ninclude; i++)
		if (path_matches(sel->include[i], path))
			return PATH_ALL;
	return PATH_NAMES_ONLY;
}

static bool func_wanted(const struct module_selection *sel, enum path_verdict v,
			const char *func)
{
	size_t i;

	if (!sel)
		return true;
	for (i = 0; i < sel->nexclude; i++)
		if (glob_match(sel->exclude[i], func))
			return false;
	if (v == PATH_ALL)
		return true;
	for (i = 0; i < sel->ninclude; i++)
		if (glob_match(sel->include[i], func))
			return true;
	return false;
}

struct func_filter {
	const struct module_selection *sel;
	enum path_verdict v;
};

static bool keep_func(const struct site *s, void *ctx)
{
	const struct func_filter *f = ctx;

	return func_wanted(f->sel, f->v, s->func);
}

int sites_libs_add_module(struct site_table *t, const struct module_selection *sel,
			  const struct site_options *o, const char *open_path,
			  const char *display, const char **why)
{
	enum path_verdict v = path_verdict(sel, display ? display : open_path);
	long kept;
	int err;

	*why = NULL;
	if (v == PATH_EXCLUDED) {
		*why = "excluded by --exclude";
		return -ENODATA;
	}
	err = site_table_add_elf(t, open_path, display, o, why);
	if (err)
		return err;
	if (!sel)
		return 0;
	kept = site_table_filter_last(t, keep_func, &(struct func_filter){ sel, v });
	if (kept < 0)
		return (int)kept;
	if (!kept) {
		*why = "no site left after --include/--exclude";
		return -ENODATA;
	}
	return 0;
}

/* Files already in the table, so none is read twice. */
struct seen {
	dev_t dev[LDSO_MAX_OBJECTS + SEL_MAX_LIBS + 1];
	ino_t ino[LDSO_MAX_OBJECTS + SEL_MAX_LIBS + 1];
	size_t n;
};

static bool seen_has(const struct seen *s, const struct stat *st)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->dev[i] == st->st_dev && s->ino[i] == st->st_ino)
			return true;
	return false;
}

static void seen_add(struct seen *s, const struct stat *st)
{
	if (s->n < sizeof(s->dev) / sizeof(s->dev[0])) {
		s->dev[s->n] = st->st_dev;
		s->ino[s->n] = st->st_ino;
		s->n++;
	}
}

static void print_load_error(const char *display, int err, const char *why, bool warn)
{
	char msg[PATH_MAX + 256];

	if (err == -ENODATA)
		snprintf(msg, sizeof(msg), "%s: %s", display,
			 why ? why : "no function symbols to probe");
	else if (err == -ENOEXEC)
		snprintf(msg, sizeof(msg), "%s: %s", display,
			 why ? why : "not an ELF file ukcov can probe");
	else
		snprintf(msg, sizeof(msg), "%s: %s%s%s", display, strerror(-err),
			 why ? ": " : "", why ? why : "");
	if (warn)
		warning("%s; not covered", msg);
	else
		error("%s", msg);
}

/*
 * Adds one module.  @required: a failure is an error (the executable, a
 * --lib), else a warning.  Returns 0 (added, or skipped with a warning or
 * because it is excluded), or -1 after printing with *@errp set.
 */
static int add_one(struct site_table *t, const struct module_selection *sel,
		   const struct site_options *o, const char *open_path, const char *display,
		   bool required, int *errp)
{
	const char *why = NULL;
	int err;

	if (path_verdict(sel, display) == PATH_EXCLUDED) {
		info("%s: excluded by --exclude", display);
		return 0;
	}
	err = sites_libs_add_module(t, sel, o, open_path, display, &why);
	if (!err) {
		info("%s: %zu sites", display, t->modules[t->nmodules - 1].nsites);
		return 0;
	}
	/* Filtered to nothing: what the user asked for, not a failure. */
	if (err == -ENODATA && module_selection_filters(sel) && why &&
	    !strcmp(why, "no site left after --include/--exclude")) {
		info("%s: %s", display, why);
		return 0;
	}
	print_load_error(display, err, why, !required);
	if (!required)
		return 0;
	*errp = -err;
	return -1;
}

/* realpath() of @path, or a copy of @path when it cannot be resolved. */
static char *display_path(const char *path)
{
	char *real = realpath(path, NULL);

	return real ? real : strdup(path);
}

/* The explicit --lib PATHs, each read and probed through the path given. */
static int add_named_libs(struct site_table *t, const struct module_selection *sel,
			  const struct site_options *o, struct seen *seen, int *errp)
{
	for (size_t i = 0; i < sel->nlibs; i++) {
		const char *lib = sel->libs[i];
		struct stat st;
		char *display;
		int ret;

		if (stat(lib, &st)) {
			*errp = errno;
			return error("--lib %s: %s", lib, strerror(errno));
		}
		if (seen_has(seen, &st))
			continue;
		display = display_path(lib);
		if (!display) {
			*errp = ENOMEM;
			return error("out of memory");
		}
		ret = add_one(t, sel, o, lib, display, true, errp);
		free(display);
		if (ret)
			return ret;
		seen_add(seen, &st);
	}
	return 0;
}

/* run/sites --libs: the DT_NEEDED closure, without the dynamic loader. */
static int add_closure(struct site_table *t, const struct module_selection *sel,
		       const struct site_options *o, const char *exe, struct seen *seen,
		       int *errp)
{
	struct ldso_config cfg = { .ld_library_path = getenv("LD_LIBRARY_PATH") };
	struct ldso_closure c;
	struct ldso_cache *cache;
	int err, ret = 0;

	cache = ldso_cache_load(LDSO_CACHE_PATH);
	if (!cache && errno != ENOENT)
		warning("%s: %s; resolving libraries without it", LDSO_CACHE_PATH,
			errno == EINVAL ? "not an ld.so cache this ukcov reads" : strerror(errno));
	cfg.cache = cache;
	err = ldso_closure(exe, &cfg, &c);
	if (err) {
		ldso_cache_free(cache);
		*errp = -err;
		return error("%s: finding its shared libraries: %s", exe, strerror(-err));
	}
	for (size_t i = 0; i < c.nmissing; i++)
		warning("shared library %s not found; not covered", c.missing[i]);
	for (size_t i = 1; i < c.n && !ret; i++) {
		struct stat st = { .st_dev = c.objs[i].dev, .st_ino = c.objs[i].ino };
		char *display;

		if (c.objs[i].interp) {
			info("%s: the dynamic loader, covered only when named with --lib",
			     c.objs[i].path);
			continue;
		}
		if (seen_has(seen, &st))
			continue;
		display = display_path(c.objs[i].path);
		if (!display) {
			*errp = ENOMEM;
			ret = error("out of memory");
			break;
		}
		ret = add_one(t, sel, o, c.objs[i].path, display, false, errp);
		free(display);
		seen_add(seen, &st);
	}
	ldso_closure_free(&c);
	ldso_cache_free(cache);
	return ret;
}

/* The mapped file named @path is not the one on disk at @path any more. */
static bool replaced_on_disk(const char *path, dev_t dev, ino_t ino, bool deleted)
{
	struct stat st;

	return deleted || stat(path, &st) || st.st_dev != dev || st.st_ino != ino;
}

/* attach --libs: every file the process maps executable, but the loader. */
static int add_mappings(struct site_table *t, const struct module_selection *sel,
			const struct site_options *o, pid_t pid, const char *exe_open,
			struct seen *seen, int *errp)
{
	struct ldso_mapping *maps = NULL;
	struct stat interp_st;
	bool have_interp = false;
	char *interp;
	size_t n = 0;
	int err, ret = 0;

	/* The loader, as the process sees the file system. */
	interp = ldso_interp(exe_open);
	if (interp) {
		char rooted[PATH_MAX];

		snprintf(rooted, sizeof(rooted), "/proc/%d/root%s", (int)pid, interp);
		have_interp = !stat(rooted, &interp_st) || !stat(interp, &interp_st);
		free(interp);
	}
	err = ldso_pid_mappings(pid, &maps, &n);
	if (err) {
		*errp = -err;
		return error("reading /proc/%d/maps: %s", (int)pid, strerror(-err));
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const struct ldso_mapping *m = &maps[i];
		struct stat st = { .st_dev = m->dev, .st_ino = m->ino };
		struct stat mst;

		/*
		 * maps' MAJ:MIN can differ from what stat() says (overlayfs):
		 * identify the file by what its map_files link opens.
		 */
		if (!stat(m->open_path, &mst))
			st = mst;
		if (seen_has(seen, &st))
			continue;
		if (have_interp && st.st_dev == interp_st.st_dev && st.st_ino == interp_st.st_ino) {
			info("%s: the dynamic loader, covered only when named with --lib", m->path);
			continue;
		}
		if (replaced_on_disk(m->path, st.st_dev, st.st_ino, m->deleted))
			warning("%s was replaced on disk; covering the running (deleted) file",
				m->path);
		ret = add_one(t, sel, o, m->open_path, m->path, false, errp);
		seen_add(seen, &st);
	}
	ldso_mappings_free(maps, n);
	return ret;
}

int sites_libs_load(struct site_table *t, const struct module_selection *sel,
		    const struct site_options *o, const struct module_source *src, int *errp)
{
	struct site_options lib_opts = o ? *o : (struct site_options){};
	struct seen *seen;
	struct stat st;
	int err_unused, ret = -1;

	if (!errp)
		errp = &err_unused;
	*errp = 0;
	/* --debug-file is the executable's: never try it on a library. */
	lib_opts.debug_file = NULL;
	seen = calloc(1, sizeof(*seen));
	if (!seen) {
		*errp = ENOMEM;
		return error("out of memory");
	}

	/* attach: exe_open is /proc/PID/exe, the inode the process runs. */
	if (src->pid > 0 && !stat(src->exe_open, &st) &&
	    replaced_on_disk(src->exe_display, st.st_dev, st.st_ino, false))
		warning("%s was replaced on disk; covering the running (deleted) file",
			src->exe_display);
	if (!stat(src->exe_open, &st))
		seen_add(seen, &st);
	if (add_one(t, sel, o, src->exe_open, src->exe_display, true, errp))
		goto out;
	if (sel && add_named_libs(t, sel, &lib_opts, seen, errp))
		goto out;
	if (sel && sel->all_libs) {
		if (src->pid > 0 ?
		    add_mappings(t, sel, &lib_opts, src->pid, src->exe_open, seen, errp) :
		    add_closure(t, sel, &lib_opts, src->exe_open, seen, errp))
			goto out;
	}
	if (!t->nsites) {
		*errp = ENODATA;
		error("no sites left after --include/--exclude");
		goto out;
	}
	site_table_finish(t);
	ret = 0;
out:
	free(seen);
	return ret;
}

bool module_selection_covers(const struct module_selection *sel, const char *path)
{
	struct stat st, lib;

	if (!sel || path_verdict(sel, path) == PATH_EXCLUDED)
		return false;
	if (sel->all_libs)
		return true;
	if (stat(path, &st))
		return false;
	for (size_t i = 0; i < sel->nlibs; i++)
		if (!stat(sel->libs[i], &lib) && lib.st_dev == st.st_dev && lib.st_ino == st.st_ino)
			return true;
	return false;
}
