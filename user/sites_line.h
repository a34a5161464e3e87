/* SPDX-License-Identifier: MIT */
/*
 * The statement rows of one decoded function, as line sites and basic
 * blocks take them (sites_line.c).  Private to user/sites*.c.
 */
#ifndef UKCOV_SITES_LINE_H
#define UKCOV_SITES_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sites_place.h"

struct stmt_row {
	uint64_t vaddr;		/* ELF vaddr where the row begins */
	size_t insn;		/* its instruction: index into the func_code */
	const char *file;	/* interned in the code_ctx's strings */
	uint32_t line;
	/*
	 * Control can reach the row's line here from code of another line,
	 * so an execution of the row is an execution of the line that no
	 * earlier row of it saw (the rule is at func_stmt_rows()).
	 */
	bool enters;
	/* The function's entry row: the first row at its first address. */
	bool func_entry;
};

/*
 * The statement rows of the function decoded in @fc (code_ctx_decode()):
 * one per distinct (address, file, line) of the is_stmt rows of
 * ctx->lines that begin on an instruction of @fc, at most
 * LINE_SITES_MAX_PER_ADDR per address, sorted by address and, at one
 * address, in table order.  Returns 0 and a malloc'd array in *@out
 * (NULL when *@n is 0), or -ENOMEM.
 */
int func_stmt_rows(const struct code_ctx *ctx, const struct func_code *fc,
		   struct stmt_row **out, size_t *n);

/*
 * Most line sites at one address.  Real code has a handful (the views of
 * inlined calls); a hostile line table can put tens of thousands of rows
 * at one address, and both the duplicate check and each site's placement
 * walk would then be quadratic.  Rows beyond it are ignored.
 */
#define LINE_SITES_MAX_PER_ADDR 256

#endif /* UKCOV_SITES_LINE_H */
