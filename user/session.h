/* SPDX-License-Identifier: MIT */
/*
 * One coverage collection, shared by `run` and `attach`:
 *
 *   session_init           block the ending signals, open a signalfd
 *   session_open_outputs   every -o and the --ring file, before any probe exists
 *   session_load_sites     ELF/DWARF -> site table (and --save-sites FILE)
 *   session_load_probe     BPF program + counters; the ring goes LIVE
 *   session_attach         one uprobe.multi link per module
 *   session_drop_privileges  keep only the capabilities still needed
 *   session_collect        drain every interval until exit/signal/duration
 *   session_finish         detach, final drain, render, commit outputs
 *   session_close          release everything; uncommitted outputs vanish
 *
 * This is the command layer's shared half: its functions print their own
 * one-line errors and return -1, so the commands only choose exit codes.
 */
#ifndef UKCOV_SESSION_H
#define UKCOV_SESSION_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "drain.h"
#include "options.h"
#include "procs.h"
#include "sinks/sink.h"

struct once;
struct output;
struct probe;
struct ring;
struct site_table;

struct session {
	const struct collect_opts *opts;
	struct site_table *table;
	struct output *outputs[MAX_OUTPUTS];
	struct sink sinks[MAX_OUTPUTS];
	size_t noutputs;
	struct output *sites_out;	/* --save-sites, committed with the outputs */
	struct probe *probe;
	enum procs_mode procs_mode;	/* set by the command before session_load_probe */
	pid_t libs_pid;			/* attach: set before session_load_sites; --libs
					 * then means the process's mappings (0: run,
					 * the executable's DT_NEEDED closure) */
	struct procs *procs;		/* who is covered (procs.h) */
	struct drain drain;
	bool drain_ready;
	struct once *once;	/* --mode once (once.h); NULL: count */
	/*
	 * --ring: drains happen on the collect loop and on the ring's thread
	 * (a consumer's request); drain_lock serialises them, and a failure on
	 * the thread is left in drain_failed for the loop to report.
	 */
	struct ring *ring;
	bool ring_keep;		/* the collection ended cleanly: leave the file */
	pthread_mutex_t drain_lock;
	int drain_failed;	/* atomic */
	int sigfd;
	sigset_t saved_mask;	/* mask before session_init: children restore it */
};

enum session_end {
	SESSION_EXITED,		/* the target process exited */
	SESSION_SIGNALED,	/* ukcov got SIGINT, SIGTERM or SIGHUP */
	SESSION_TIMED_OUT,	/* --duration elapsed */
};

int session_init(struct session *s, const struct collect_opts *o);

/*
 * output_open() for the commands: on failure prints the one-line reason
 * (naming a refused symlink as such) and returns NULL.
 */
struct output *session_open_output(const char *path);
int session_open_outputs(struct session *s);

/*
 * Reads the sites of the ELF at @open_path, reported as module @display,
 * and of the libraries opts->modules selects (sites_libs.h), with its
 * filters applied.  Returns 0, or -1 after printing; *@err (when non-NULL)
 * gets the errno.
 */
int session_load_sites(struct session *s, const char *open_path, const char *display,
		       int *err);
int session_load_probe(struct session *s);

/*
 * Attaches to every module, counting only process @pid (-1: all) and, as
 * procs_mode says, the processes it forks (procs.h).
 * @path_override replaces the module's path for the kernel (for attach -p:
 * /proc/PID/exe, which names the mapped inode even if the file was replaced).
 */
int session_attach(struct session *s, const char *path_override, pid_t pid);

/*
 * Gives up every capability the rest of the collection does not need
 * (privs.h says which are kept and why), right after session_attach().
 * Returns 0, or -1 after printing: the caller must stop (fail closed).
 */
int session_drop_privileges(struct session *s);

/*
 * Drains every interval until @pidfd becomes readable (the process exited),
 * a signal arrives, or @duration_ms (0: none) passes.  Stores why in *@end
 * and the signal in *@signo.  Returns 0, or -1 when an output failed.
 */
int session_collect(struct session *s, int pidfd, uint64_t duration_ms,
		    enum session_end *end, int *signo);

/*
 * One drain under drain_lock: its PCs go to the ring (if any) and to the
 * streaming outputs.  Returns 0, or -1 after printing when an output failed.
 */
int session_drain(struct session *s);

/*
 * The site table grew (modules appended, before they are attached): the
 * next record of each kcov output is preceded by the new table's id.
 */
void session_sites_grew(struct session *s);

/*
 * Hands @n synthetic PCs (ascending, n >= 1: one drain or one recorded
 * kcov record) to every streaming output.  Returns 0, or -1 after printing.
 */
int session_emit(struct session *s, const uint64_t *pcs, size_t n);

/*
 * Renders the report formats from @totals (totals[i]: site i's count) and
 * commits every output, the --save-sites file included.  Returns 0, or -1
 * after printing.  Shared by session_finish() and `ukcov report`.
 */
int session_write_outputs(struct session *s, const uint64_t *totals,
			  const struct run_info *ri);

/*
 * A session without a process or probes, for `ukcov report`: renders the
 * saved table @t (owned by @s from now on, freed by session_close()) through
 * session_open_outputs(), session_emit() and session_write_outputs().
 */
void session_init_offline(struct session *s, const struct collect_opts *o,
			  struct site_table *t);

/* Detaches, drains a last time, renders and commits every output. */
int session_finish(struct session *s, const struct run_info *info);

void session_close(struct session *s);

#endif /* UKCOV_SESSION_H */
