// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

/* Marked PCs filtered at a time (drain_filter() keeps the buffer's). */
#define FILTER_CHUNK 512

int drain_init_chunk(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base,
		     size_t chunk)
{
	memset(d, 0, sizeof(*d));
	d->cap = nsites < chunk ? nsites : chunk;
	if (!d->cap)
		d->cap = 1;
	d->totals = calloc(nsites ? nsites : 1, sizeof(*d->totals));
	d->buf = malloc(d->cap * sizeof(*d->buf));
	if (!d->totals || !d->buf) {
		drain_fini(d);
		return -ENOMEM;
	}
	d->counters = counters;
	d->nsites = nsites;
	d->pc_base = pc_base;
	return 0;
}

int drain_init(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base)
{
	return drain_init_chunk(d, counters, nsites, pc_base, DRAIN_CHUNK);
}

/*
 * Collects up to @max marked PCs from index *@at on into @out, clearing
 * their marks, and advances *@at past the last one.  Returns how many.
 */
static size_t take_marked(struct drain *d, size_t *at, uint64_t *out, size_t max)
{
	size_t n = 0, i;

	for (i = *at; i < d->hi && n < max; i++) {
		if (!(d->totals[i] & DRAIN_FOUND))
			continue;
		d->totals[i] &= ~DRAIN_FOUND;
		out[n++] = d->pc_base + i;
	}
	*at = i;
	return n;
}

/* Drops what the last drain found, marks and all. */
static void forget(struct drain *d)
{
	for (size_t i = d->lo; i < d->hi; i++)
		d->totals[i] &= ~DRAIN_FOUND;
	d->nbuf = d->nfound = 0;
	d->lo = d->hi = 0;
}

size_t drain_once(struct drain *d)
{
	size_t n = 0;

	if (d->nfound)
		forget(d);
	for (size_t i = 0; i < d->nsites; i++) {
		uint64_t v;

		/*
		 * Load first: most counters are zero, and a plain load leaves
		 * the cache line shared, where an exchange would take it
		 * exclusive and write it back (the 1M-counter drain is ~0.4 ms
		 * this way).  A zero skipped here that the target increments
		 * right after is simply seen by the next drain.
		 */
		if (!__atomic_load_n(&d->counters[i], __ATOMIC_RELAXED))
			continue;
		/*
		 * Nothing is lost between the BPF program's add and this swap:
		 * the program increments with an atomic read-modify-write (lock
		 * xadd) on this same word, and the exchange is one too.  Atomic
		 * RMWs on one location are totally ordered, so every increment
		 * happens either before the exchange (its value is returned
		 * here) or after it (it adds to the zero we store and is
		 * returned by a later drain).  A load-then-store would lose the
		 * increments that land in between.
		 */
		v = __atomic_exchange_n(&d->counters[i], 0, __ATOMIC_ACQ_REL);
		if (!v)
			continue;
		d->hits += v;
		if (n < d->cap) {
			d->totals[i] += v;
			d->buf[n] = d->pc_base + i;
		} else {
			/* The same store as the add: marking costs nothing. */
			d->totals[i] = (d->totals[i] + v) | DRAIN_FOUND;
			if (n == d->cap)
				d->lo = i;
			d->hi = i + 1;
		}
		n++;
	}
	d->nbuf = n < d->cap ? n : d->cap;
	d->nfound = n;
	d->ndrains++;
	if (n)
		d->ndrains_hit++;
	return n;
}

int drain_filter(struct drain *d, int (*filter)(void *ctx, uint64_t *pcs, size_t *kept),
		 void *ctx, size_t *n)
{
	uint64_t chunk[FILTER_CHUNK];
	size_t kept, marked = 0, at = d->lo;
	int err = 0;

	if (d->nbuf) {
		kept = d->nbuf;
		err = filter(ctx, d->buf, &kept);
		d->nbuf = kept;
	}
	while (!err && at < d->hi) {
		size_t k = take_marked(d, &at, chunk, FILTER_CHUNK);

		kept = k;
		err = k ? filter(ctx, chunk, &kept) : 0;
		/* Marked again: the kept ones wait for drain_emit(). */
		for (size_t j = 0; !err && j < kept; j++)
			d->totals[chunk[j] - d->pc_base] |= DRAIN_FOUND;
		marked += err ? 0 : kept;
	}
	if (err) {
		forget(d);
		*n = 0;
		return err;
	}
	if (!marked)
		d->lo = d->hi = 0;
	d->nfound = d->nbuf + marked;
	*n = d->nfound;
	return 0;
}

int drain_emit(struct drain *d, int (*fn)(void *ctx, const uint64_t *pcs, size_t n), void *ctx)
{
	size_t at = d->lo, k;
	int err = 0;

	if (d->nbuf)
		err = fn(ctx, d->buf, d->nbuf);
	/* The buffer is free now: the marked ones go through it. */
	while (!err && at < d->hi) {
		k = take_marked(d, &at, d->buf, d->cap);
		if (k)
			err = fn(ctx, d->buf, k);
	}
	forget(d);
	return err;
}

void drain_fini(struct drain *d)
{
	free(d->totals);
	free(d->buf);
	d->totals = NULL;
	d->buf = NULL;
}
