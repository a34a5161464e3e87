/* SPDX-License-Identifier: MIT */
/*
 * Which processes a collection covers, and what they load while it runs.
 *
 * `run` and `attach -p` follow process trees: the BPF side tracks the
 * covered processes by tgid (bpf/counter.bpf.c), adds every process a
 * tracked one forks and drops those that exit; the links have no kernel
 * pid filter and count_hit counts only tracked processes.  --no-follow
 * keeps the kernel's pid filter on the first process instead (cheapest:
 * nobody else traps).  `attach --all` counts every process mapping the
 * binary and tracks nothing.
 *
 * The BPF side also reports execs and new executable file mappings of
 * tracked processes.  procs notes execs of other binaries for the report
 * (`# exec: PID PATH`), and with --follow-exec / --dlopen appends the new
 * binary or library to the site table as a new last module (existing PCs
 * keep their values), grows the drain and attaches it.  The process is
 * held (SIGSTOP from BPF) until then, so none of its calls are missed.
 *
 * Everything runs on the session's thread, from session_collect()'s loop.
 */
#ifndef UKCOV_PROCS_H
#define UKCOV_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct collect_opts;
struct probe_config;
struct run_exec;
struct session;

enum procs_mode {
	PROCS_NONE,	/* only the links' pid filter (the session's default) */
	PROCS_RUN,	/* run: a command and, unless --no-follow, its descendants */
	PROCS_ATTACH,	/* attach -p: a process and, unless --no-follow, its descendants */
	PROCS_ALL,	/* attach --all: every process mapping the binary */
};

/* Default room for sites found while running: 4x the initial sites, at least this. */
#define PROCS_MIN_RESERVE_SITES (1u << 20)

struct procs;

/*
 * Fills @cfg for probe_open_config() from the options @o and @mode, for a
 * table of @nsites initial sites.
 */
void procs_probe_config(const struct collect_opts *o, enum procs_mode mode, size_t nsites,
			struct probe_config *cfg);

/*
 * Starts following for session @s, whose table and probe (opened with
 * procs_probe_config()) are loaded: marks every module of the table known
 * to the BPF side and opens its event stream.  Returns NULL and sets errno.
 * The session owns the result (procs_free()).
 */
struct procs *procs_new(struct session *s, enum procs_mode mode);

void procs_free(struct procs *pr);

/*
 * Starts tracking process @pid and, with @descendants (attach -p), the
 * processes already forked below it (found through /proc, best effort).
 * Returns 0 or a negative errno.
 */
int procs_seed(struct procs *pr, pid_t pid, bool descendants);

/* The pid filter for the kernel's uprobe.multi links: @pid, or -1 when BPF filters. */
pid_t procs_link_pid(const struct procs *pr, pid_t pid);

/* An fd to poll for POLLIN, or -1 when there are no events to wait for. */
int procs_events_fd(const struct procs *pr);

/*
 * Handles every pending event: attaches new modules, releases held
 * processes.  Returns 0, or -1 after printing when ukcov cannot go on.
 */
int procs_handle_events(struct procs *pr);

/*
 * True when the collection ends with the last tracked process rather than
 * with the first one (run and attach -p, unless --no-follow).
 */
bool procs_following(const struct procs *pr);

/* True when no tracked process is left (dead entries are pruned first). */
bool procs_done(struct procs *pr);

/*
 * Continues every process still held, reports what the BPF side dropped.
 * Call once the links are gone, before the report.
 */
void procs_finish(struct procs *pr);

/* The execs of other binaries seen so far; valid until procs_free(). */
const struct run_exec *procs_execs(const struct procs *pr, size_t *n);

#endif /* UKCOV_PROCS_H */
