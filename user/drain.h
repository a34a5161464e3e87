/* SPDX-License-Identifier: MIT */
/*
 * Draining the shared counters: swap each to zero, keep running totals,
 * report which sites ran since the previous drain.
 *
 * Knows nothing about BPF: it takes the counter array as plain memory, so
 * it can be tested (and benchmarked) on ordinary memory.
 */
#ifndef UKCOV_DRAIN_H
#define UKCOV_DRAIN_H

#include <stddef.h>
#include <stdint.h>

struct drain {
	uint64_t *counters;	/* shared, written concurrently with atomic adds */
	size_t nsites;
	uint64_t pc_base;
	uint64_t *totals;	/* totals[i]: hits of site i over all drains */
	uint64_t *pcs;		/* PCs found by the last drain, ascending */
	uint64_t ndrains;	/* drains performed */
	uint64_t ndrains_hit;	/* drains that found at least one hit */
	uint64_t hits;		/* sum of totals */
};

/*
 * Prepares @d to drain @nsites counters at @counters.  Site i reports PC
 * @pc_base + i.  Returns 0 or -ENOMEM.
 */
int drain_init(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base);

/*
 * Swaps every non-zero counter to zero, adds what it held to the totals and
 * stores the synthetic PCs of those sites in d->pcs, ascending.  Returns
 * how many PCs it stored.  Safe while the BPF program keeps counting: every
 * increment lands in exactly one drain.
 */
size_t drain_once(struct drain *d);

/* Frees the totals and scratch space (not the counters).  Accepts zeroed @d. */
void drain_fini(struct drain *d);

#endif /* UKCOV_DRAIN_H */
