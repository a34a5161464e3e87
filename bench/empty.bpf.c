// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The baseline of the per-hit benchmark: a uprobe.multi program that does
 * nothing, so a hit costs only the trap, the uprobe dispatch and the BPF
 * entry.  What ukcov's counter program costs on top of this is the cookie
 * read, the array lookup and one atomic add (bpf/counter.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe.multi")
int empty(struct pt_regs *ctx)
{
	return 0;
}
