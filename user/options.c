// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "sinks/sink.h"

void collect_opts_init(struct collect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ms = DEFAULT_INTERVAL_MS;
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
	}
	return 1;
}

int collect_opts_finish(struct collect_opts *o)
{
	size_t nstdout = 0;

	if (o->noutputs == 0)
		o->outputs[o->noutputs++].path = "-";
	for (size_t i = 0; i < o->noutputs; i++) {
		struct output_spec *out = &o->outputs[i];

		out->format = o->format;
		if (!out->format)
			out->format = sink_for_path(out->path);
		if (!out->format)
			out->format = &sink_text;
		if (!strcmp(out->path, "-"))
			nstdout++;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(out->path, o->outputs[j].path))
				return error("output '%s' given twice", out->path);
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
