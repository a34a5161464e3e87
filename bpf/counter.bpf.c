// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The whole BPF side of ukcov: one counter per site, nothing else.
 *
 * Userspace attaches this program to every site with one uprobe.multi link
 * and gives each uprobe its site index as the BPF cookie.  A hit adds 1 to
 * counters[index] atomically, so threads hitting one site on both CPUs lose
 * nothing; userspace drains the array through mmap (see user/drain.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* max_entries is set to the number of sites before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} counters SEC(".maps");

SEC("uprobe.multi")
int count_hit(struct pt_regs *ctx)
{
	__u32 index = bpf_get_attach_cookie(ctx);
	__u64 *counter = bpf_map_lookup_elem(&counters, &index);

	if (counter)
		__sync_fetch_and_add(counter, 1);
	return 0;
}
