// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "ring.h"
#include "sinks/sink.h"

void collect_opts_init(struct collect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ms = DEFAULT_INTERVAL_MS;
	o->ring_mode = RING_DEFAULT_MODE;
	o->ring_words = RING_DEFAULT_WORDS;
}

int parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *suffix; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60e3 }, { "h", 3600e3 }, { "", 1000 },
	};
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;	/* no sign, no space, no "inf" */
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double total;

		if (strcmp(end, units[i].suffix))
			continue;
		total = v * units[i].ms;
		if (!isfinite(total) || total > (double)MAX_DURATION_MS)
			return -ERANGE;
		*ms = (uint64_t)llround(total);
		return 0;
	}
	return -EINVAL;
}

int parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < 1 || v > INT_MAX)
		return -ERANGE;
	*pid = (int)v;
	return 0;
}

/* Octal permission bits only: no setuid, setgid or sticky bit on a ring. */
static int parse_ring_mode(const char *s, unsigned int *mode)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -EINVAL;
	*mode = v;
	return 0;
}

/* Decimal or 0x hex, RING_MIN_WORDS..RING_MAX_WORDS. */
static int parse_ring_words(const char *s, uint64_t *words)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < RING_MIN_WORDS || v > RING_MAX_WORDS)
		return -EINVAL;
	*words = v;
	return 0;
}

int collect_opts_parse(struct collect_opts *o, int opt, const char *arg)
{
	uint64_t ms;

	switch (opt) {
	case 'o':
		if (o->noutputs == MAX_OUTPUTS)
			return error("at most %d outputs (-o)", MAX_OUTPUTS);
		if (!*arg)
			return error("-o needs a file name, or '-' for stdout");
		o->outputs[o->noutputs++].path = arg;
		return 0;
	case 'f':
		o->format = sink_find(arg);
		if (!o->format)
			return error("unknown format '%s' (known: %s)", arg, sink_names());
		return 0;
	case 'i':
		if (parse_duration_ms(arg, &ms) || ms < MIN_INTERVAL_MS)
			return error("bad interval '%s': want a duration of at least 1ms, e.g. 100ms or 2s",
				     arg);
		o->interval_ms = ms;
		return 0;
	case 'N':
		o->sites.no_dwarf = true;
		return 0;
	case 'S':
		if (site_kind_parse(arg, &o->sites.kind))
			return error("unknown site kind '%s' (known: func, line, bb)", arg);
		return 0;
	case 'v':
		log_verbosity++;
		return 0;
	case OPT_SAVE_SITES:
		if (!*arg || !strcmp(arg, "-"))
			return error("--save-sites needs a file name");
		o->save_sites = arg;
		return 0;
	case OPT_RING:
		if (!*arg)
			return error("--ring needs a file name");
		o->ring_path = arg;
		return 0;
	case OPT_RING_MODE:
		if (parse_ring_mode(arg, &o->ring_mode))
			return error("bad --ring-mode '%s': want octal permission bits, e.g. 0600 or 0660",
				     arg);
		return 0;
	case OPT_NO_FOLLOW:
		o->no_follow = true;
		return 0;
	case OPT_FOLLOW_EXEC:
		o->follow_exec = true;
		return 0;
	case OPT_DLOPEN:
		o->dlopen = true;
		return 0;
	case OPT_MAX_SITES: {
		char *end;
		unsigned long long v;

		errno = 0;
		v = isdigit((unsigned char)arg[0]) ? strtoull(arg, &end, 0) : 0;
		if (!v || errno || *end || v > UINT32_MAX)
			return error("bad --max-sites '%s': want a number of sites from 1 to %u",
				     arg, UINT32_MAX);
		o->max_sites = v;
		return 0;
	}
	case OPT_MODE:
		if (!strcmp(arg, "count"))
			o->mode = COLLECT_COUNT;
		else if (!strcmp(arg, "once"))
			o->mode = COLLECT_ONCE;
		else
			return error("unknown mode '%s' (known: count, once)", arg);
		return 0;
	case OPT_RING_SIZE:
		if (parse_ring_words(arg, &o->ring_words))
			return error("bad --ring-size '%s': want a number of u64 words from %d to %llu",
				     arg, RING_MIN_WORDS, (unsigned long long)RING_MAX_WORDS);
		return 0;
	}
	return module_opts_parse(&o->modules, &o->sites, opt, arg);
}

int module_opts_parse(struct module_selection *sel, struct site_options *so, int opt,
		      const char *arg)
{
	switch (opt) {
	case OPT_LIB:
		if (sel->nlibs == SEL_MAX_LIBS)
			return error("at most %d --lib options", SEL_MAX_LIBS);
		if (!*arg)
			return error("--lib needs the path of a shared library");
		sel->libs[sel->nlibs++] = arg;
		return 0;
	case OPT_LIBS:
		sel->all_libs = true;
		return 0;
	case OPT_INCLUDE:
	case OPT_EXCLUDE: {
		bool inc = opt == OPT_INCLUDE;
		size_t *n = inc ? &sel->ninclude : &sel->nexclude;

		if (*n == SEL_MAX_PATTERNS)
			return error("at most %d --%s patterns", SEL_MAX_PATTERNS,
				     inc ? "include" : "exclude");
		if (!*arg)
			return error("--%s needs a glob pattern", inc ? "include" : "exclude");
		(inc ? sel->include : sel->exclude)[(*n)++] = arg;
		return 0;
	}
	case OPT_DEBUG_FILE:
		if (!*arg)
			return error("--debug-file needs a file name");
		so->debug_file = arg;
		return 0;
	}
	return 1;
}

int collect_opts_finish(struct collect_opts *o)
{
	size_t nstdout = 0;

	/* A ring is an output of its own: stdout only when asked for then. */
	if (o->noutputs == 0 && !o->ring_path)
		o->outputs[o->noutputs++].path = "-";
	for (size_t i = 0; i < o->noutputs; i++) {
		struct output_spec *out = &o->outputs[i];

		out->format = o->format;
		if (!out->format)
			out->format = sink_for_path(out->path);
		if (!out->format)
			out->format = &sink_text;
		/* Refused before anything is attached, not after the run. */
		if (out->format->needs_size && o->sites.kind == SITE_KIND_LINE)
			return error("format %s needs --sites bb or func (line sites have no length)",
				     out->format->name);
		if (!strcmp(out->path, "-"))
			nstdout++;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(out->path, o->outputs[j].path))
				return error("output '%s' given twice", out->path);
		if (o->save_sites && !strcmp(out->path, o->save_sites))
			return error("'%s' is both an output and the --save-sites file", out->path);
	}
	if (nstdout > 1)
		return error("only one output can go to stdout");
	return 0;
}

int option_error(const char *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return error("%s: option '%s' needs an argument (see ukcov %s --help)", cmd, arg, cmd);
	if (optopt && strncmp(arg, "--", 2))
		return error("%s: unknown option '-%c' (see ukcov %s --help)", cmd, optopt, cmd);
	return error("%s: unknown option '%s' (see ukcov %s --help)", cmd, arg, cmd);
}
