/* SPDX-License-Identifier: MIT */
/*
 * One coverage collection, shared by `run` and `attach`:
 *
 *   session_init           block the ending signals, open a signalfd
 *   session_open_outputs   every -o, before any probe exists
 *   session_load_sites     ELF/DWARF -> site table
 *   session_load_probe     BPF program + counters
 *   session_attach         one uprobe.multi link per module
 *   session_collect        drain every interval until exit/signal/duration
 *   session_finish         detach, final drain, render, commit outputs
 *   session_close          release everything; uncommitted outputs vanish
 *
 * This is the command layer's shared half: its functions print their own
 * one-line errors and return -1, so the commands only choose exit codes.
 */
#ifndef UKCOV_SESSION_H
#define UKCOV_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "drain.h"
#include "options.h"
#include "sinks/sink.h"

struct output;
struct probe;
struct site_table;

struct session {
	const struct collect_opts *opts;
	struct site_table *table;
	struct output *outputs[MAX_OUTPUTS];
	struct sink sinks[MAX_OUTPUTS];
	size_t noutputs;
	struct probe *probe;
	struct drain drain;
	bool drain_ready;
	int sigfd;
	sigset_t saved_mask;	/* mask before session_init: children restore it */
};

enum session_end {
	SESSION_EXITED,		/* the target process exited */
	SESSION_SIGNALED,	/* ukcov got SIGINT, SIGTERM or SIGHUP */
	SESSION_TIMED_OUT,	/* --duration elapsed */
};

int session_init(struct session *s, const struct collect_opts *o);
int session_open_outputs(struct session *s);

/*
 * Reads the sites of the ELF at @open_path, reported as module @display.
 * Returns 0, or -1 after printing; *@err (when non-NULL) gets the errno.
 */
int session_load_sites(struct session *s, const char *open_path, const char *display,
		       int *err);
int session_load_probe(struct session *s);

/*
 * Attaches to every module, counting only process @pid (-1: all).
 * @path_override replaces the module's path for the kernel (for attach -p:
 * /proc/PID/exe, which names the mapped inode even if the file was replaced).
 */
int session_attach(struct session *s, const char *path_override, pid_t pid);

/*
 * Drains every interval until @pidfd becomes readable (the process exited),
 * a signal arrives, or @duration_ms (0: none) passes.  Stores why in *@end
 * and the signal in *@signo.  Returns 0, or -1 when an output failed.
 */
int session_collect(struct session *s, int pidfd, uint64_t duration_ms,
		    enum session_end *end, int *signo);

/* Detaches, drains a last time, renders and commits every output. */
int session_finish(struct session *s, const struct run_info *info);

void session_close(struct session *s);

#endif /* UKCOV_SESSION_H */
