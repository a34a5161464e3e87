/* SPDX-License-Identifier: MIT */
/*
 * --mode once: every site is reported the first time it runs, and from
 * then on costs nothing (coverage-guided tracing, as UnTracer does it, but
 * without rewriting the binary).
 *
 * Three parts:
 *
 *   filter   after each drain, keeps only the PCs never reported before
 *            (a `seen` bitmap), so the kcov stream and the ring carry each
 *            PC once even when hits race with the retirement;
 *   restore  in every tracked process, writes the original first byte of
 *            each newly hit site back over the uprobe's int3 through
 *            /proc/PID/mem: immediate, ~3 us a site, but per process, only
 *            where the byte is exactly int3 + the file's bytes (a 5-byte NOP
 *            the kernel has turned into a call is left alone), and undone
 *            by a new exec or mapping of the file;
 *   replace  swaps a module's link for one over its sites never hit
 *            (probe_replace_module(): new link first, then the old one
 *            goes), which removes the hit sites' breakpoints everywhere and
 *            for good, but costs the collector an RCU grace period and a
 *            re-registration of every remaining site (each taking the
 *            mmap lock of every process mapping the file: seconds for 100k
 *            sites in a busy target).  So it runs only when restoring
 *            cannot do the job: a byte that is not a plain int3, a process
 *            whose memory cannot be written, no tracked processes, or a
 *            site hit again after it was restored everywhere (a new exec
 *            re-armed it); at most once per drain, with a duty-cycle
 *            budget.  Restoring first also makes the kernel's own removal
 *            cheap (63-98 ms instead of 0.5-4 s for 10k hit sites).
 *
 * Units: site indexes (0..nsites-1, the BPF cookie) and synthetic PCs
 * (pc_base + index) as in sites.h; /proc/PID/mem offsets are process
 * virtual addresses; probe_offset is a file offset.
 *
 * Threads: once_filter() may run on any thread that drains (the ring's
 * thread too); everything else runs on the session's thread, the one that
 * also grows the site table (procs.c), so the table is only read there.
 */
#ifndef UKCOV_ONCE_H
#define UKCOV_ONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct once;
struct probe;
struct site_table;

struct once_stats {
	uint64_t reported;	/* sites reported (each once) */
	uint64_t restored;	/* int3s overwritten with the original byte (all processes) */
	uint64_t already;	/* bytes found original already (e.g. inherited by fork) */
	uint64_t unsafe;	/* bytes that were not int3 + the file's bytes: left to replace */
	uint64_t no_access;	/* processes whose memory could not be opened */
	uint64_t replacements;	/* links replaced */
	uint64_t replace_failed;
	uint64_t restore_ns;	/* collector time spent restoring */
	uint64_t replace_ns;	/* ... and replacing links */
};

/*
 * Starts once mode for the sites of @t, attached through @p.  Both must
 * outlive the result; modules appended to @t later are handled.  With
 * @restore, sites are restored in the processes the probe tracks
 * (probe_tracked()); without (nothing is tracked: attach --all), links are
 * replaced.  Returns NULL and sets errno (ENOMEM).  Free with once_free().
 */
struct once *once_new(const struct site_table *t, struct probe *p, bool restore);

/* Accepts NULL. */
void once_free(struct once *o);

/*
 * Keeps in @pcs (synthetic PCs of one drain, ascending, *@n of them) only
 * those never kept before, in order, and stores their number in *@n.
 * Every site in @pcs, new or not, is queued for once_retire(): a site seen
 * again was re-armed (a new exec of the binary) or raced the retirement.
 * Returns 0 or -ENOMEM (then @pcs and *@n are unchanged).  Thread-safe.
 */
int once_filter(struct once *o, uint64_t pc_base, uint64_t *pcs, size_t *n);

/*
 * Retires the sites queued since the last call: restores their bytes in
 * every tracked process, then, when the budget allows, replaces the links
 * of modules that still hold hit sites.  Failures only mean a site keeps
 * its breakpoint longer (counted in the stats).  Returns 0, or -ENOMEM.
 */
int once_retire(struct once *o);

void once_get_stats(const struct once *o, struct once_stats *st);

/* ---- pure parts, exposed for the unit tests ------------------------------- */

enum once_fix {
	ONCE_FIX_RESTORE,	/* int3 + the file's tail: write the file's first byte */
	ONCE_FIX_DONE,		/* the file's first byte is there already */
	ONCE_FIX_UNSAFE,	/* anything else (e.g. a call to the uprobe trampoline) */
};

/*
 * What to do with a site whose @len file bytes are @file and whose bytes in
 * the process are @mem (1 <= len; ONCE_CHECK_BYTES when both are available).
 */
#define ONCE_CHECK_BYTES 5
enum once_fix once_classify(const uint8_t *file, const uint8_t *mem, size_t len);

/*
 * The replacement budget: after one that took @cost_ns and ended at
 * @end_ns, the next may start at the returned time (nanoseconds), which
 * keeps replacing to at most ONCE_REPLACE_DUTY of the collector's time.
 */
#define ONCE_REPLACE_DUTY 4	/* 1/4 */
uint64_t once_next_replace_ns(uint64_t end_ns, uint64_t cost_ns);

/*
 * The pace of drains.  Every armed site traps as in count mode until a
 * drain retires it, so with a fixed 100 ms interval a short run is
 * warm-up from start to end (BENCHMARKS.md, 7).  The first drain comes
 * after ONCE_FIRST_WAIT_US (capped at @max_us, the --interval); a drain
 * that reported new sites brings the next one back to that, one that
 * reported none doubles the wait, up to @max_us.  A drain and its
 * retirement cost the collector time in proportion to the table: the wait
 * is never less than ONCE_COST_RATIO times the CPU time the last one took
 * (@took_us), so they stay under 1/ONCE_COST_RATIO of a CPU.  CPU time,
 * not wall time: a link replacement sleeps through grace periods (30-50
 * ms) that cost nothing, and counting them held the next drain back by
 * the whole --interval while a site found meanwhile kept trapping.
 */
#define ONCE_FIRST_WAIT_US 1000
#define ONCE_COST_RATIO 20
uint64_t once_first_wait_us(uint64_t max_us);
uint64_t once_next_wait_us(uint64_t wait_us, uint64_t max_us, bool found, uint64_t took_us);

#endif /* UKCOV_ONCE_H */
