/* SPDX-License-Identifier: MIT */
/*
 * The BPF side, seen from userspace: loads bpf/counter.bpf.c, owns its
 * counters map and every uprobe.multi link.  The only file that includes
 * the skeleton.
 *
 * One link per module, covering all of the module's sites, because
 * destroying a link costs an RCU grace period (tens of ms) whatever its
 * size: many small links would make detaching take minutes.
 */
#ifndef UKCOV_PROBE_H
#define UKCOV_PROBE_H

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

/*
 * Loads the counting program with one counter per site of @t and maps the
 * counters.  Returns NULL and sets errno:
 *   EPERM       not privileged enough
 *   EOPNOTSUPP  the kernel cannot load uprobe.multi programs (Linux < 6.6)
 */
struct probe *probe_open(const struct site_table *t);

/*
 * Attaches to every site of module @module of @t: uprobes at each site's
 * probe_offset in the file the module was read from (or @path_override,
 * e.g. /proc/PID/exe, when non-NULL), cookie = site index.  Only threads of
 * process @pid count hits; -1 counts every process.
 * Returns 0 or a negative errno (-EOPNOTSUPP: no uprobe_multi in the kernel;
 * -ESRCH: @pid is gone).
 */
int probe_attach_module(struct probe *p, size_t module, const char *path_override,
			pid_t pid);

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
