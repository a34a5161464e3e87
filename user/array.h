/* SPDX-License-Identifier: MIT */
/* Growable arrays, after git's ALLOC_GROW. */
#ifndef UKCOV_ARRAY_H
#define UKCOV_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Makes room for @need elements in the array @arr of capacity @cap (both
 * lvalues), doubling from @initial.  Evaluates to 0, or to -ENOMEM with
 * @arr and @cap untouched.  A macro so that @arr keeps its element type.
 */
#define ARRAY_GROW(arr, cap, need, initial) __extension__ ({			\
	int grow_err_ = 0;							\
	size_t grow_need_ = (need);						\
	if (grow_need_ > (cap)) {						\
		size_t grow_cap_ = (cap) ? (cap) : (initial);			\
		void *grow_p_;							\
		while (grow_cap_ < grow_need_)					\
			grow_cap_ = grow_cap_ > SIZE_MAX / 2 ? grow_need_ : grow_cap_ * 2; \
		grow_p_ = reallocarray((arr), grow_cap_, sizeof(*(arr)));	\
		if (grow_p_) {							\
			(arr) = grow_p_;					\
			(cap) = grow_cap_;					\
		} else {							\
			grow_err_ = -ENOMEM;					\
		}								\
	}									\
	grow_err_;								\
})

/*
 * The first index i of the @n elements at @base (@stride bytes apart,
 * sorted by the uint64_t @key_off bytes into each) whose key is >= @key;
 * @n when there is none.  The one binary search behind every lookup by
 * address (line rows, decoded instructions, branch targets).
 */
static inline size_t lower_bound_u64(const void *base, size_t n, size_t stride,
				     size_t key_off, uint64_t key)
{
	const unsigned char *p = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;

		__builtin_memcpy(&k, p + mid * stride + key_off, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif /* UKCOV_ARRAY_H */
