/* SPDX-License-Identifier: MIT */
/*
 * Output formats.  A sink renders coverage; it never sees BPF, libelf or
 * the process being covered, only the site table, the counts and a few
 * facts about the run.  One file per format under user/sinks/.
 *
 * Life of a sink: sink_new() -> sink_drain() (or its begin, parts and end)
 * after every drain that found hits (streaming formats write here) ->
 * sink_finish() once at the end
 * (report formats write here) -> sink_free().  The FILE belongs to the
 * caller (see output.h), which decides whether what was written is kept.
 */
#ifndef UKCOV_SINK_H
#define UKCOV_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct site_table;

/* Facts about the run that report headers print. */
struct run_info {
	const char *target;	/* what was covered: a command line or "pid N (PATH)" */
	const char *mode;	/* "count" */
	const char *site_kind;	/* "func" */
	uint64_t drains;	/* drains performed */
	uint64_t drains_with_hits;
	int exit_status;	/* run: the target's status as ukcov returns it; -1 if unknown */
	/* Covered processes that exec'd another binary (procs.c), in event order. */
	const struct run_exec *execs;
	size_t nexecs;
};

struct run_exec {
	int pid;
	const char *path;	/* the binary, as /proc/PID/exe named it */
};

struct sink;

struct sink_ops {
	const char *name;	/* --format NAME */
	const char *extension;	/* ".kcov": picks the format from -o FILE */
	const char *summary;	/* one line for --help */
	bool binary;		/* refuses to write to a terminal */
	bool needs_size;	/* needs each site's byte length: refuses --sites line */
	/*
	 * Streaming, after each drain that found hits: drain_begin with
	 * how many PCs the drain found (n >= 1), drain_pcs with those PCs
	 * in one or more parts, strictly ascending, then drain_end.  All
	 * three NULL when the format does not stream.
	 */
	int (*drain_begin)(struct sink *s, size_t n);
	int (*drain_pcs)(struct sink *s, const uint64_t *pcs, size_t n);
	int (*drain_end)(struct sink *s);
	/*
	 * Called once at the end.  @totals[i] is site i's count over the run.
	 * NULL when the format has nothing to add at the end.
	 */
	int (*finish)(struct sink *s, const struct site_table *t,
		      const uint64_t *totals, const struct run_info *info);
};

struct sink {
	const struct sink_ops *ops;
	FILE *out;
	void *priv;		/* the format's own state, if it needs any */
	/*
	 * The site table's id (site_table_id(), sites_file.h).  When
	 * emit_table_id is set, the kcov sink starts its stream with a
	 * table-id record (ukcov/kcov.h) before its first record, then clears
	 * the flag.  Other formats ignore both.
	 */
	uint64_t table_id;
	bool emit_table_id;
};

/* The format named @name, or NULL. */
const struct sink_ops *sink_find(const char *name);

/* The format whose extension ends @path, or NULL. */
const struct sink_ops *sink_for_path(const char *path);

/* Comma-separated list of format names, for messages and --help. */
const char *sink_names(void);

/* Every format, NULL-terminated, in --help order. */
extern const struct sink_ops *const sink_formats[];

/*
 * The streaming and report halves.  Each returns 0 or a negative errno
 * (write errors surface here: -ENOSPC, -EIO, ...).
 */
int sink_drain_begin(struct sink *s, size_t n);
int sink_drain_pcs(struct sink *s, const uint64_t *pcs, size_t n);
int sink_drain_end(struct sink *s);
/* One drain's @n PCs in one part: begin, the PCs, end. */
int sink_drain(struct sink *s, const uint64_t *pcs, size_t n);
int sink_finish(struct sink *s, const struct site_table *t,
		const uint64_t *totals, const struct run_info *info);

extern const struct sink_ops sink_kcov;
extern const struct sink_ops sink_text;
extern const struct sink_ops sink_lcov;
extern const struct sink_ops sink_cobertura;
extern const struct sink_ops sink_drcov;

#endif /* UKCOV_SINK_H */
