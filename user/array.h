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

#endif /* UKCOV_ARRAY_H */
