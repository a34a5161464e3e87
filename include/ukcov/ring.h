/* SPDX-License-Identifier: MIT */
/*
 * ukcov/ring.h - coverage of a running target, in Linux kcov's layout, in
 * shared memory.
 *
 * `ukcov run --ring PATH -- TARGET` (or `ukcov attach -p PID --ring PATH`)
 * creates PATH (mode 0600 unless --ring-mode says otherwise; an existing
 * file or symlink is refused), maps it shared, and keeps appending the
 * synthetic PCs of the sites the target runs.  A consumer maps the same file
 * and reads it the way it reads /sys/kernel/debug/kcov:
 *
 *     area[0] = 0;                       reset, before an input
 *     ...run one input...
 *     ukcov_ring_collect(ring, 1000);    make the collector drain now
 *     n = area[0];                       PCs area[1..n], u64 each
 *
 * The file is one header page (struct ukcov_ring_header) followed by the
 * area, area_words u64 words: area[0] is the number of PCs that follow,
 * area[1..area[0]] the PCs.  Each drain appends the PCs of every site hit
 * since the previous drain, ascending within that drain, then publishes the
 * new count with a release store.  When the area is full the collector
 * stops writing and adds what did not fit to `dropped`.
 *
 * This header is all a consumer needs to read the layout.  The functions
 * below are implemented by libukcov (-lukcov); they are a convenience, not
 * a requirement: the protocol is the layout plus the two futex words.
 *
 * Protocol for a synchronous drain (what ukcov_ring_collect() does):
 *   1. the consumer increments request_seq and FUTEX_WAKEs it;
 *   2. the collector, waiting on request_seq, drains the BPF counters,
 *      appends to the area, stores done_seq = the request it served and
 *      FUTEX_WAKEs done_seq;
 *   3. the consumer waits on done_seq until it reaches its request.
 * The collector also drains every --interval without a request.  When it
 * exits it sets state to UKCOV_RING_CLOSED and wakes done_seq's waiters.
 *
 * Threads: one consumer at a time per ring.  A fork server may call these
 * functions from the parent; no call allocates after ukcov_ring_open().
 */
#ifndef UKCOV_RING_H
#define UKCOV_RING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UKCOV_RING_MAGIC   0x474e4952766f636bULL	/* "kcovRING", little-endian */
#define UKCOV_RING_VERSION 1

/* Values of ukcov_ring_header.state. */
#define UKCOV_RING_LIVE    1	/* a collector serves this ring */
#define UKCOV_RING_CLOSED  2	/* the collector has finished; no more drains */

/*
 * The first page of the file.  Fields are naturally aligned and never move
 * within a version; words are in the host's byte order (the ring never
 * leaves the machine).
 */
struct ukcov_ring_header {
	uint64_t magic;		/* UKCOV_RING_MAGIC */
	uint32_t version;	/* UKCOV_RING_VERSION */
	uint32_t page_size;	/* the area starts at this byte offset */
	uint64_t area_words;	/* capacity of the area in u64 words, area[0] included */
	uint64_t nsites;	/* sites in the table: PCs are pc_base .. pc_base+nsites-1 */
	uint64_t pc_base;	/* synthetic PC of site 0 (0xffffffff80000000) */
	int32_t collector_pid;	/* the ukcov process serving the ring */
	uint32_t state;		/* UKCOV_RING_LIVE or UKCOV_RING_CLOSED */
	uint32_t request_seq;	/* futex word: written by the consumer */
	uint32_t done_seq;	/* futex word: written by the collector */
	uint64_t dropped;	/* PCs not written because the area was full */
	uint64_t drains;	/* drains performed by the collector */
};

/* Opaque handle of libukcov. */
struct ukcov_ring;

/* Library version, for code that links libukcov dynamically. */
#define UKCOV_LIB_VERSION_MAJOR 1
#define UKCOV_LIB_VERSION_MINOR 0
const char *ukcov_lib_version(void);

/*
 * Maps the ring at @path, checking magic, version and sizes.  Returns NULL
 * and sets errno (ENOENT, EACCES, EPROTO: not a ukcov ring or another
 * version, EINVAL: sizes inconsistent with the file).  The only call that
 * allocates.
 */
struct ukcov_ring *ukcov_ring_open(const char *path);

/* The kcov area: area[0] = count, area[1..count] = PCs.  Valid until close. */
uint64_t *ukcov_ring_area(struct ukcov_ring *r);

/* The header page, for the fields above.  Valid until close. */
const struct ukcov_ring_header *ukcov_ring_header(struct ukcov_ring *r);

/* area[0] = 0, as a kcov user does before an input. */
void ukcov_ring_reset(struct ukcov_ring *r);

/*
 * Asks the collector to drain now and waits until it has, at most
 * @timeout_ms (negative: no limit).  Returns the number of PCs in the area
 * (area[0]) or a negative errno: -ETIMEDOUT, or -EPIPE when the collector
 * has finished or died.
 */
long ukcov_ring_collect(struct ukcov_ring *r, int timeout_ms);

/* PCs dropped because the area was full, since the collector started. */
uint64_t ukcov_ring_dropped(const struct ukcov_ring *r);

/* Unmaps and frees.  Accepts NULL. */
void ukcov_ring_close(struct ukcov_ring *r);

#ifdef __cplusplus
}
#endif

#endif /* UKCOV_RING_H */
