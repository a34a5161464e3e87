// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

int drain_init(struct drain *d, uint64_t *counters, size_t nsites, uint64_t pc_base)
{
	memset(d, 0, sizeof(*d));
	d->totals = calloc(nsites ? nsites : 1, sizeof(*d->totals));
	d->pcs = malloc((nsites ? nsites : 1) * sizeof(*d->pcs));
	if (!d->totals || !d->pcs) {
		drain_fini(d);
		return -ENOMEM;
	}
	d->counters = counters;
	d->nsites = nsites;
	d->pc_base = pc_base;
	return 0;
}

size_t drain_once(struct drain *d)
{
	size_t n = 0;

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
		d->totals[i] += v;
		d->hits += v;
		d->pcs[n++] = d->pc_base + i;
	}
	d->ndrains++;
	if (n)
		d->ndrains_hit++;
	return n;
}

void drain_fini(struct drain *d)
{
	free(d->totals);
	free(d->pcs);
	d->totals = NULL;
	d->pcs = NULL;
}
