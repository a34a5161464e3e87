/* SPDX-License-Identifier: MIT */
/*
 * Draining the shared counters: swap each to zero, keep running totals,
 * report which sites ran since the previous drain.
 *
 * Knows nothing about BPF: it takes the counter array as plain memory, so
 * it can be tested (and benchmarked) on ordinary memory.
 *
 * A drain has up to three steps: drain_once() swaps and counts; with
 * drain_filter() a caller may drop some of the sites found (once mode);
 * drain_emit() hands on the synthetic PCs of the rest.  The PCs are not
 * kept in an array of one slot per site: the first DRAIN_CHUNK of them
 * are, and when a drain finds more, the sites found are marked in their
 * totals' top bit (DRAIN_FOUND) and the later steps read them from
 * there.  So the drain costs 8 bytes a site (the totals) plus a fixed
 * buffer, whatever the table's size.
 */
#ifndef UKCOV_DRAIN_H
#define UKCOV_DRAIN_H

#include <stddef.h>
#include <stdint.h>

/* PCs kept and handed on at a time: 128 KiB, a 1% drain of 1M sites. */
#define DRAIN_CHUNK 16384
/* A total's mark while a drain is in progress; counts never reach it. */
#define DRAIN_FOUND (UINT64_C(1) << 63)

struct drain {
	uint64_t *counters;	/* shared, written concurrently with atomic adds */
	size_t nsites;
	uint64_t pc_base;
	/*
	 * totals[i]: hits of site i over all drains.  DRAIN_FOUND is set
	 * only between drain_once() and drain_emit() of a drain that found
	 * more than the buffer holds.
	 */
	uint64_t *totals;
	uint64_t ndrains;	/* drains performed */
	uint64_t ndrains_hit;	/* drains that found at least one hit */
	uint64_t hits;		/* sum of totals */
	/* private: the last drain's PCs (see the top) */
	uint64_t *buf;		/* the first PCs found (nbuf of cap), ascending */
	size_t cap, nbuf;
	size_t nfound;		/* sites found (and kept by filters), buffered or marked */
	size_t lo, hi;		/* with more than cap: the indexes marked lie in [lo, hi) */
};

/*
 * Prepares @d to drain @nsites counters at @counters.  Site i reports PC
 * @pc_base + i.  drain_init_chunk() keeps @chunk PCs at a time instead of
 * DRAIN_CHUNK (tests).  Returns 0 or -ENOMEM.
 */
int drain_init(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base);
int drain_init_chunk(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base,
		     size_t chunk);

/*
 * Swaps every non-zero counter to zero and adds what it held to the
 * totals.  Returns how many sites it found; their PCs wait for
 * drain_emit(), which must come before the next drain_once().  Safe while
 * the BPF program keeps counting: every increment lands in exactly one
 * drain.
 */
size_t drain_once(struct drain *d);

/*
 * Offers the PCs the last drain found to @filter, ascending, at most
 * DRAIN_CHUNK at a time, in a buffer it compacts to those it keeps
 * (still ascending) and whose count it stores in *@kept.  Returns 0 and
 * sets *@n to the number kept in all, or the first non-zero @filter
 * returned (everything is dropped then).
 */
int drain_filter(struct drain *d, int (*filter)(void *ctx, uint64_t *pcs, size_t *kept),
		 void *ctx, size_t *n);

/*
 * Hands the PCs the last drain found (and the filters kept) to @fn,
 * ascending, at most DRAIN_CHUNK at a time, and forgets them.  Returns 0
 * or the first non-zero @fn returned (the rest are forgotten unseen).
 */
int drain_emit(struct drain *d, int (*fn)(void *ctx, const uint64_t *pcs, size_t n), void *ctx);

/* Frees the totals and scratch space (not the counters).  Accepts zeroed @d. */
void drain_fini(struct drain *d);

#endif /* UKCOV_DRAIN_H */
