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
 *     ukcov_ring_collect(ring, 1000);    once: flush what ran before
 *     area[0] = 0;                       reset, before an input
 *     ...run one input...
 *     ukcov_ring_collect(ring, 1000);    make the collector drain now
 *     n = area[0];                       PCs area[1..n], u64 each
 *
 * A drain reports the sites hit since the previous drain, whoever asked for
 * it; so the first collect also reports the target's start-up (_start,
 * main, ...) unless a collect before the first input flushes it.  A PC
 * appears once per drain, however often its site ran: the ring says which
 * sites an input ran, not how often (the -o outputs have the counts).
 *
 * The file is one header page (struct ukcov_ring_header) followed by the
 * area, area_words u64 words: area[0] is the number of PCs that follow,
 * area[1..area[0]] the PCs.  Each drain appends the PCs of every site hit
 * since the previous drain, ascending within that drain, then publishes the
 * new count (see Appending below).  When the area is full the collector
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
 * The futex words live in a shared file mapping: use the shared futex
 * operations (FUTEX_WAIT/FUTEX_WAKE, never the _PRIVATE ones).  Sequence
 * numbers wrap: compare them as (int32_t)(done_seq - request) >= 0.
 * The collector also drains every --interval without a request.  When it
 * exits it serves the requests still pending with a last drain, sets state
 * to UKCOV_RING_CLOSED and wakes done_seq's waiters.  A collector killed
 * with SIGKILL cannot say goodbye: while it lives it holds an OFD read lock
 * (fcntl F_OFD_SETLK) on the file's first byte, so a consumer whose
 * F_OFD_GETLK for a write lock there finds F_UNLCK knows it is gone.
 * (collector_pid, tested with kill(pid, 0), is the fallback where OFD
 * locks are missing; a pid can be reused, the lock cannot.)
 *
 * Appending: the collector reads area[0] = n, writes PCs at area[n+1..n+k]
 * and publishes with a compare-and-swap of area[0] from n to n+k.  If the
 * consumer reset area[0] in between, the CAS fails and the collector writes
 * the same PCs again from the new count, so a reset never brings back PCs
 * from before it.  A consumer only ever stores 0 into area[0].
 *
 * Life of the file: ukcov creates it (O_EXCL, never through a symlink),
 * sizes it, fills the header and stores magic last; until then the file may
 * be empty or zero and ukcov_ring_open() fails with EAGAIN.  Magic is
 * stored and state turns LIVE once every probe is attached, before the
 * target runs its first instruction (run): a collect on a ring that opened
 * covers everything that ran since.  After a clean end of the collection the
 * file stays, state CLOSED, holding the last area (like -o outputs, it is
 * the caller's to remove: a second ukcov refuses an existing path).  When
 * ukcov fails, it removes the file.
 *
 * Threads: one consumer at a time per ring.  A fork server may call these
 * functions from the parent; no call allocates, takes a lock or starts a
 * thread after ukcov_ring_open().
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
	uint64_t nsites;	/* sites in the table: PCs are pc_base .. pc_base+nsites-1;
				 * grows when the run adds modules (libraries, execs) */
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
 * Maps the ring at @path (read-write, shared), checking magic, version and
 * sizes against the file's size.  Returns NULL and sets errno: ENOENT,
 * EACCES, ...: open(2)'s; EAGAIN: the collector is still creating the file
 * (empty, or no magic yet): retry; EPROTO: not a ukcov ring (not a regular
 * file, wrong magic) or another version; EINVAL: page_size or area_words
 * inconsistent with the file's size.  The only call that allocates.
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
 * (area[0], never more than area_words - 1) or a negative errno: -ETIMEDOUT, or -EPIPE when the collector
 * has finished or died (looked at when 20 ms pass without an answer, so a
 * served collect costs no system call but the futex wake and wait).  After
 * -EPIPE the area still holds what the last drain appended.  After
 * -ETIMEDOUT the request stays pending: the next ukcov_ring_reset() waits
 * (up to 1 s) for its drain, so the late PCs of this input do not land in
 * the next one's area.
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
