/* SPDX-License-Identifier: MIT */
/*
 * The collector side of a ukcov ring (include/ukcov/ring.h is the
 * protocol): create the file, map it, append the PCs of every drain, and
 * serve consumers' drain requests from a thread of its own.
 *
 * Knows nothing about BPF or the session: it appends synthetic PCs it is
 * given and calls back when a consumer asks for a drain, so it is tested
 * on a plain temporary file.
 *
 * Life: ring_create() (with the outputs, before any probe) ->
 * ring_publish() (state LIVE) -> ring_serve_start() -> ring_append() after
 * every drain -> ring_serve_stop() -> ring_close() (state CLOSED) ->
 * ring_free() (unlinks the file unless told to keep it).
 */
#ifndef UKCOV_USER_RING_H
#define UKCOV_USER_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ukcov/ring.h"

/* --ring-size limits, in u64 words (area[0] included). */
#define RING_MIN_WORDS 2
#define RING_MAX_WORDS (UINT64_C(1) << 27)	/* 1 GiB */
#define RING_DEFAULT_WORDS (UINT64_C(1) << 16)
#define RING_DEFAULT_MODE 0600

struct ring;

/*
 * Creates the file @path with exactly permission bits @mode (0..0777; the
 * umask does not apply), sized for one header page plus @area_words words,
 * and maps it shared.  The header stays zero (consumers see EAGAIN) until
 * ring_publish().  Never follows or replaces anything: returns NULL with
 * errno EEXIST when @path exists, ELOOP when it is a symlink (also
 * dangling), EINVAL for a bad @mode or @area_words, or open/ftruncate/mmap's
 * errno; nothing is left at @path then.
 */
struct ring *ring_create(const char *path, unsigned int mode, uint64_t area_words);

/*
 * Fills the header for a table of @nsites sites whose site 0 has synthetic
 * PC @pc_base, sets collector_pid to this process and state LIVE, and
 * stores the magic last.
 */
void ring_publish(struct ring *r, uint64_t nsites, uint64_t pc_base);

/*
 * Appends @n synthetic PCs (ascending: one drain's, or a part of them)
 * after area[0] and publishes the new count with a CAS, redoing the
 * append from the new count when the consumer reset area[0] meanwhile.
 * What does not fit is added to header.dropped.  One appender at a time
 * (the caller's lock).
 */
void ring_append_pcs(struct ring *r, const uint64_t *pcs, size_t n);

/* Counts a drain in header.drains, once its PCs are in (empty drains too). */
void ring_drain_done(struct ring *r);

/* One drain's @n PCs in one part: ring_append_pcs(), ring_drain_done(). */
void ring_append(struct ring *r, const uint64_t *pcs, size_t n);

/* The site table grew to @nsites (modules appended during the run). */
void ring_grew(struct ring *r, uint64_t nsites);

/*
 * Starts the thread that waits for consumers' requests (futex on
 * request_seq) and answers each with @drain(@arg) followed by done_seq =
 * the request and a FUTEX_WAKE.  @drain must take whatever lock it shares
 * with other drains and append to this ring; it runs on the ring's thread.
 * Returns 0 or a negative errno.
 */
int ring_serve_start(struct ring *r, void (*drain)(void *arg), void *arg);

/* Stops and joins the serving thread, if it runs.  Accepts NULL. */
void ring_serve_stop(struct ring *r);

/*
 * Ends the ring: every request made so far counts as served (call it after
 * the last drain), state CLOSED, done_seq's waiters woken.  Accepts NULL
 * and an unpublished ring.
 */
void ring_close(struct ring *r);

/*
 * Stops the thread, closes the ring (see ring_close), unmaps it and removes
 * the file unless @keep.  Accepts NULL.
 */
void ring_free(struct ring *r, bool keep);

/* The header and area as mapped, for tests. */
struct ukcov_ring_header *ring_header(struct ring *r);
uint64_t *ring_area(struct ring *r);

#endif /* UKCOV_USER_RING_H */
