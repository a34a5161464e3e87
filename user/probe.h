/* SPDX-License-Identifier: MIT */
/*
 * The BPF side, seen from userspace: loads bpf/counter.bpf.c, owns its
 * counters map and every uprobe.multi link.  The only file that includes
 * the skeleton.
 *
 * One link per module, covering all of the module's sites, because
 * destroying a link costs an RCU grace period (tens of ms) whatever its
 * size: many small links would make detaching take minutes.
 *
 * Process following (see bpf/counter.bpf.c): the BPF side keeps a set of
 * tracked processes (by tgid) that its fork/exit tracepoints maintain, and
 * reports execs and new executable mappings of tracked processes as
 * events.  Modules can be added after the probe is loaded: the counters are
 * preallocated for probe_config.max_sites sites.
 */
#ifndef UKCOV_PROBE_H
#define UKCOV_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct probe;
struct site_table;

/*
 * Checks for the capabilities that loading and attaching need (CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN).  Returns 0, or -EPERM when one is missing
 * and sets *@missing to a human-readable list ("CAP_BPF and CAP_PERFMON").
 */
int probe_check_privileges(const char **missing);

/* What the BPF side does besides counting; all false: count what the links see. */
struct probe_config {
	size_t max_sites;	/* counters to preallocate (site indexes); 0 or less
				 * than the table's sites: exactly the table's sites */
	bool filter_pids;	/* count only tracked processes (probe_track()) */
	bool follow_forks;	/* a new process forked by a tracked one is tracked */
	bool watch_exec;	/* report execs of tracked processes (PROBE_EV_EXEC) */
	bool hold_exec;		/* ... and stop those that exec an unknown file */
	bool watch_mmap;	/* report (and stop) tracked processes that map an
				 * unknown file executable once they have hit a
				 * site since their exec: dlopen(), not ld.so's
				 * startup mappings (PROBE_EV_MMAP) */
};

/*
 * Loads the counting program with one counter per site of @t and maps the
 * counters.  Same as probe_open_config(@t, NULL).
 */
struct probe *probe_open(const struct site_table *t);

/*
 * Loads the counting program as @cfg says (NULL: all defaults) and maps the
 * counters.  @t must outlive the probe; modules appended to it later can be
 * attached while their sites fit in max_sites.  Returns NULL and sets errno:
 *   EPERM       not privileged enough
 *   EOPNOTSUPP  the kernel cannot load uprobe.multi programs (Linux < 6.6),
 *               has no BTF (/sys/kernel/btf/vmlinux), or its BTF lacks a
 *               structure member the BPF side reads (-v names it)
 */
struct probe *probe_open_config(const struct site_table *t, const struct probe_config *cfg);

/*
 * Attaches to every site of module @module of @t: uprobes at each site's
 * probe_offset in the file the module was read from (or @path_override,
 * e.g. /proc/PID/exe, when non-NULL), cookie = site index.  Only threads of
 * process @pid count hits; -1 counts every process.
 * Returns 0 or a negative errno (-EOPNOTSUPP: no uprobe_multi in the kernel;
 * -ESRCH: @pid is gone; -ENOSPC: the module's site indexes do not fit in the
 * preallocated counters, see probe_capacity()).
 */
int probe_attach_module(struct probe *p, size_t module, const char *path_override,
			pid_t pid);

/*
 * Replaces module @module's link by one over only the @n sites @sites (site
 * indexes of that module, in any order), attached with the same path and
 * pid filter as probe_attach_module() used; @n == 0 just destroys the link.
 * The new link exists before the old one goes, so no hit of a kept site is
 * lost (one landing in between may count twice).  Sites left out lose their
 * breakpoints in every process.  Costs an RCU grace period (tens of ms)
 * whatever @n.  Returns 0, or a negative errno with the old link kept
 * (-ENOENT: the module has no link; -EINVAL: a site of another module).
 */
int probe_replace_module(struct probe *p, size_t module, const size_t *sites, size_t n);

/* How many site indexes the counters can hold (probe_config.max_sites). */
size_t probe_capacity(const struct probe *p);

/*
 * The tracked-process set, by process id (tgid, initial pid namespace).
 * probe_track() adds @pid (-E2BIG when the set is full), probe_untrack()
 * removes it (-ENOENT when absent).  probe_tracked() stores up to @cap
 * tracked pids in @pids and returns how many there are in all, or a
 * negative errno.
 */
int probe_track(struct probe *p, pid_t pid);
int probe_untrack(struct probe *p, pid_t pid);
long probe_tracked(struct probe *p, pid_t *pids, size_t cap);

/*
 * Marks a file as known: executing or mapping it causes no event.  @dev is
 * the kernel's encoding (major << 20 | minor, as in struct probe_event),
 * @ino the inode number.  Returns 0 or a negative errno.
 */
int probe_mark_known(struct probe *p, uint64_t dev, uint64_t ino);

/* The kernel's dev_t encoding of a userspace st_dev, for probe_mark_known(). */
uint64_t probe_kdev(dev_t st_dev);

enum probe_event_type {
	PROBE_EV_EXIT = 1,	/* the tracked process @pid is gone (all threads) */
	PROBE_EV_EXEC,		/* the tracked process @pid exec'd @name */
	PROBE_EV_MMAP,		/* @pid mapped an unknown file executable */
};

struct probe_event {
	enum probe_event_type type;
	pid_t pid;
	bool held;		/* @pid was stopped with SIGSTOP: send SIGCONT when done */
	uint64_t dev, ino;	/* EXEC, MMAP: the file (dev in kernel encoding) */
	uint64_t addr;		/* MMAP: start of the mapping (process vaddr) */
	uint64_t len;		/* MMAP: its length in bytes */
	uint64_t pgoff;		/* MMAP: file offset of its start, in pages */
	const char *name;	/* EXEC: the path given to execve; MMAP: the file's
				 * base name.  Valid during the callback only. */
};

/* Returns 0, or a negative errno that stops probe_events_consume(). */
typedef int (*probe_event_fn)(void *ctx, const struct probe_event *ev);

/*
 * Sets up event delivery to @fn.  Returns 0 or a negative errno.
 * probe_events_fd() is then an fd to poll for POLLIN (-1 before), and
 * probe_events_consume() calls @fn for every pending event and returns how
 * many it handled, or @fn's negative errno.
 */
int probe_events_open(struct probe *p, probe_event_fn fn, void *ctx);
int probe_events_fd(const struct probe *p);
int probe_events_consume(struct probe *p);

/* Events the BPF side had to drop (ring buffer full), children it could not track. */
uint64_t probe_lost_events(const struct probe *p);
uint64_t probe_lost_forks(const struct probe *p);

/*
 * Destroys every link (the counters stay mapped and keep what was counted).
 * Returns after the kernel has removed the breakpoints.
 */
void probe_detach(struct probe *p);

/*
 * The counters, one u64 per site index, shared with the BPF program: it adds
 * with atomic instructions, so userspace may only read them or swap them
 * atomically (see drain.c).  Valid until probe_close().
 */
uint64_t *probe_counters(struct probe *p);

/* Detaches, unmaps and unloads.  Accepts NULL. */
void probe_close(struct probe *p);

#endif /* UKCOV_PROBE_H */
