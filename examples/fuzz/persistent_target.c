// SPDX-License-Identifier: MIT
/*
 * The target of target.c, persistent: one process serves every input, so
 * ukcov attaches once and the fuzzer pays a pipe round trip per input
 * instead of a fork, an exec and an attach.
 *
 * Protocol on stdin/stdout: writes 'R' once ready; then for each input
 * reads a u32 length (host order, at most TARGET_MAX_INPUT) and that many
 * bytes, runs target_input() and writes 'k'.  EOF ends it (exit 0).
 *
 * Why per-input coverage is exact (with `ukcov run --ring`): the only
 * functions of this executable that run for an input are those
 * target_input() calls, and they have all returned before the 'k' is
 * written; between the 'k' and the next input the loop below calls nothing
 * but libc's read() and write(), which ukcov does not probe (it probes the
 * executable).  So when the fuzzer, after reading 'k', asks for a drain,
 * every hit of this input is in the counters and none of the next one is.
 * The work is done in this process, not in forked children: ukcov follows
 * children too, so concurrent inputs in forked workers would mix.
 */
#include <stdint.h>
#include <unistd.h>

#include "target.h"

/* Inlined loops, not helper functions: see "exact" above. */
#define IO_FULL(fn, fd, p, n, ok) do {						\
	size_t done_ = 0;							\
	ok = 1;									\
	while (done_ < (n)) {							\
		ssize_t r_ = fn(fd, (char *)(p) + done_, (n) - done_);		\
		if (r_ <= 0) { ok = 0; break; }					\
		done_ += r_;							\
	}									\
} while (0)

int main(void)
{
	static unsigned char buf[TARGET_MAX_INPUT];
	uint32_t len;
	int ok;

	IO_FULL(write, STDOUT_FILENO, "R", 1, ok);
	while (ok) {
		IO_FULL(read, STDIN_FILENO, &len, sizeof(len), ok);
		if (!ok || len > sizeof(buf))
			break;
		IO_FULL(read, STDIN_FILENO, buf, len, ok);
		if (!ok)
			break;
		target_input(buf, len);
		IO_FULL(write, STDOUT_FILENO, "k", 1, ok);
	}
	return 0;
}
