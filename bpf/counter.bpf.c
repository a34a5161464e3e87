// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The whole BPF side of ukcov: one counter per site, and the bookkeeping
 * that decides whose hits count.
 *
 * Userspace attaches count_hit to every site with one uprobe.multi link per
 * module and gives each uprobe its site index as the BPF cookie.  A hit adds
 * 1 to counters[index] atomically, so threads hitting one site on both CPUs
 * lose nothing; userspace drains the array through mmap (see user/drain.c).
 *
 * Which processes count.  A uprobe.multi link with a pid filter is wrong for
 * a target that forks: the child inherits the parent's breakpoints and traps
 * on every hit without ever counting.  So links are attached without a pid
 * filter (every process mapping the file traps) and, with filter_pids set,
 * count_hit counts only the processes in `tracked`: userspace seeds it, and
 * the sched tracepoints below add the children of tracked processes and
 * remove processes whose last thread exits.  Without filter_pids every
 * process counts (attach --all) or the kernel's pid filter decides
 * (--no-follow).
 *
 * Userspace learns about execs and new executable mappings (dlopen) of
 * tracked processes through the `events` ring buffer.  When it has to
 * attach before the process runs on (a binary or library that is not a
 * module yet), the program stops the process with SIGSTOP and says so in
 * the event (held); userspace sends SIGCONT once the probes are in place.
 * Files already covered are in `known` and cause no event.
 *
 * Only libraries mapped once the process runs covered code are reported:
 * the libraries ld.so maps at startup (libc...) are not dlopen()ed ones,
 * and probing libc without a pid filter would make every process on the
 * system trap.  A tracked process is STARTING from its exec until it first
 * hits a site, RUNNING after.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "counter.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PROT_EXEC 0x4
#define SIGSTOP 19
#define MAX_ERRNO 4095
#define VM_EXEC 0x4

/* Set by userspace before load (see user/probe.c). */
const volatile bool filter_pids;	/* count only tracked processes */
const volatile bool follow_forks;	/* children of tracked processes are tracked */
const volatile bool hold_exec;		/* stop a process that execs an unknown binary */
const volatile bool mark_running;	/* count_hit moves STARTING processes to RUNNING */
const volatile __u32 pidns_ino;		/* ukcov's pid namespace, 0 if the initial one */
/* Where the kernel fields this file reads are, in this kernel (see counter.h). */
const volatile struct ukcov_kernel_offsets koff;

enum track_state { TRACK_STARTING = 1, TRACK_RUNNING = 2 };

/* Events the ring buffer could not take; userspace warns about them. */
__u64 lost_events;
/* Children that did not fit in `tracked`. */
__u64 lost_forks;

/* max_entries is set to the number of counters (sites + reserve) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} counters SEC(".maps");

/* The tracked processes, by tgid as ukcov sees it: enum track_state. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 65536);
} tracked SEC(".maps");

/* Files that are modules already (or that userspace decided to skip). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct ukcov_file_id);
	__type(value, __u8);
	__uint(max_entries, 4096);
} known SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* The level of ukcov's pid namespace, plus one; 0 until first needed. */
__u32 pidns_level1;

/*
 * Kernel memory.  The tracepoints are raw ones, whose arguments are plain
 * u64s, and kernel structures are read at the offsets in koff rather than
 * through BTF-typed pointers or CO-RE: either would make libbpf load the
 * kernel's whole BTF at every start (see koff).  A kptr_t is a kernel
 * address, never dereferenced: read from it with kread_*(), which give 0
 * where the kernel memory cannot be read (a NULL pointer, say).
 */
typedef __u64 kptr_t;

static __always_inline __u64 kread_u64(kptr_t base, __u32 off)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

static __always_inline __u32 kread_u32(kptr_t base, __u32 off)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

static __always_inline kptr_t kread_ptr(kptr_t base, __u32 off)
{
	return kread_u64(base, off);
}

/* upid->ns->ns.inum: which pid namespace one level of a struct pid is in. */
static __always_inline __u32 upid_ns_inum(kptr_t upid)
{
	return kread_u32(kread_ptr(upid, koff.upid_ns), koff.pidns_inum);
}

/*
 * The tgid of task @t as ukcov sees it, 0 if ukcov cannot see @t.
 *
 * task->tgid is a pid of the initial namespace; ukcov running in a
 * container knows its targets by the pids of its own namespace (what
 * fork() returned, what the user gave to -p), and so do the tracked map
 * and the events.  A struct pid holds the task's number at every level
 * from the root down to the task's own namespace; ukcov's level is found
 * once, by its namespace inode, and is the same for every task it sees.
 */
static __always_inline __u32 visible_tgid(kptr_t t)
{
	kptr_t pid, upid;
	__u32 level, i;

	if (!pidns_ino)
		return kread_u32(t, koff.task_tgid);
	pid = kread_ptr(kread_ptr(t, koff.task_group_leader), koff.task_thread_pid);
	if (!pid)
		return 0;
	level = kread_u32(pid, koff.pid_level);
	if (!pidns_level1) {
		for (i = 0; i < 32 && i <= level; i++) {
			upid = pid + koff.pid_numbers + i * koff.upid_size;
			if (upid_ns_inum(upid) == pidns_ino) {
				pidns_level1 = i + 1;
				break;
			}
		}
		if (!pidns_level1)
			return 0;
	}
	i = pidns_level1 - 1;
	if (i > level || i >= 32)
		return 0;
	upid = pid + koff.pid_numbers + i * koff.upid_size;
	if (upid_ns_inum(upid) != pidns_ino)
		return 0;	/* a sibling namespace at the same level */
	return kread_u32(upid, koff.upid_nr);
}

static __always_inline __u32 current_tgid(void)
{
	if (!pidns_ino)
		return bpf_get_current_pid_tgid() >> 32;
	return visible_tgid(bpf_get_current_task());
}

static __always_inline __u8 *tracked_state(__u32 tgid)
{
	if (!tgid)
		return NULL;
	return bpf_map_lookup_elem(&tracked, &tgid);
}

SEC("uprobe.multi")
int count_hit(struct pt_regs *ctx)
{
	__u32 index = bpf_get_attach_cookie(ctx);
	__u64 *counter;

	if (filter_pids || mark_running) {
		__u8 *state = tracked_state(current_tgid());

		if (!state) {
			if (filter_pids)
				return 0;
		} else if (*state != TRACK_RUNNING) {
			*state = TRACK_RUNNING;
		}
	}
	counter = bpf_map_lookup_elem(&counters, &index);
	if (counter)
		__sync_fetch_and_add(counter, 1);
	return 0;
}

/* Fires for new threads too; only a new thread group is a new process. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(track_fork, kptr_t parent, kptr_t child)
{
	__u32 ctgid;
	__u8 *state, copy;

	if (!follow_forks ||
	    kread_u32(child, koff.task_pid) != kread_u32(child, koff.task_tgid))
		return 0;
	state = tracked_state(visible_tgid(parent));
	if (!state)
		return 0;
	ctgid = visible_tgid(child);
	if (!ctgid)
		return 0;
	copy = *state;	/* same image, same stage */
	if (bpf_map_update_elem(&tracked, &ctgid, &copy, BPF_ANY))
		__sync_fetch_and_add(&lost_forks, 1);
	return 0;
}

/*
 * Every exiting thread passes here; the process is gone when the last one
 * does.  signal->live is decremented before the tracepoint (do_exit), and
 * reading it works on kernels whose tracepoint lacks the group_dead
 * argument (before 6.16).
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(track_exit, kptr_t p)
{
	struct ukcov_event *ev;
	__u32 tgid;

	if (kread_u32(kread_ptr(p, koff.task_signal), koff.signal_live) != 0)
		return 0;
	tgid = visible_tgid(p);
	if (!tgid || bpf_map_delete_elem(&tracked, &tgid))
		return 0;	/* not ours */
	/* Tells userspace to look whether anything tracked is left. */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = UKCOV_EV_EXIT;
	ev->pid = tgid;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

static __always_inline void file_id(kptr_t file, struct ukcov_file_id *id)
{
	kptr_t inode = kread_ptr(file, koff.file_inode);

	id->dev = kread_u32(kread_ptr(inode, koff.inode_sb), koff.sb_dev);
	id->ino = kread_u64(inode, koff.inode_ino);
}

/*
 * SIGSTOP to the current process, delivered before it returns to user
 * mode: not one instruction of the new code runs before userspace has
 * attached and sent SIGCONT.
 */
static __always_inline __u32 hold_current(void)
{
	return bpf_send_signal(SIGSTOP) == 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(watch_exec, kptr_t p, pid_t old_pid, kptr_t bprm)
{
	__u32 tgid = visible_tgid(p);
	struct ukcov_event *ev;
	__u8 *state = tracked_state(tgid);

	if (!state)
		return 0;
	*state = TRACK_STARTING;	/* a new image: ld.so maps its libraries next */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = UKCOV_EV_EXEC;
	ev->pid = tgid;
	file_id(kread_ptr(bprm, koff.bprm_file), &ev->file);
	bpf_probe_read_kernel_str(ev->name, sizeof(ev->name),
				  (const void *)kread_ptr(bprm, koff.bprm_filename));
	if (hold_exec && !bpf_map_lookup_elem(&known, &ev->file))
		ev->held = hold_current();
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* What bpf_find_vma() found at the new mapping's address. */
struct mmap_ctx {
	struct ukcov_file_id file;
	__u64 pgoff;
	kptr_t name;
	bool exec_file;
};

/*
 * The verifier passes a BTF-typed vm_area_struct pointer whatever this
 * prototype says; it is read like every other kernel address here.
 */
static long inspect_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct mmap_ctx *c = data;
	kptr_t v = (kptr_t)vma;
	kptr_t file = kread_ptr(v, koff.vma_file);

	if (!file || !(kread_u64(v, koff.vma_flags) & VM_EXEC))
		return 0;
	file_id(file, &c->file);
	c->pgoff = kread_u64(v, koff.vma_pgoff);
	c->name = kread_ptr(kread_ptr(file, koff.file_dentry), koff.dentry_name);
	c->exec_file = true;
	return 0;
}

/*
 * New executable file mappings: what ld.so does for dlopen().  Seen at the
 * exit of mmap(2), where the mapping exists and the process has not
 * returned to user mode: fentry/fexit and kprobes on the mm code would be
 * more direct, but kernels locked down for integrity refuse them, and
 * raw syscall tracepoints always work.  Mappings made by execve itself are
 * left to watch_exec; ld.so's startup mmaps come before the process is
 * RUNNING.
 */
SEC("raw_tp/sys_exit")
int BPF_PROG(watch_mmap, kptr_t regs, long ret)
{
	struct mmap_ctx c = {};
	struct ukcov_event *ev;
	__u8 *state;
	__u32 tgid;
	long len;

	/* The number is the first filter: this runs at every system call's exit. */
#if defined(__TARGET_ARCH_x86)
	if (kread_u64(regs, koff.regs_nr) != 9 /* __NR_mmap */)
		return 0;
#elif defined(__TARGET_ARCH_arm64)
	if ((int)kread_u32(regs, koff.regs_nr) != 222 /* __NR_mmap */)
		return 0;
#else
	return 0;	/* no known pt_regs layout: dlopen() goes unseen */
#endif
	if (!(kread_u64(regs, koff.regs_arg2) & PROT_EXEC))
		return 0;
	len = kread_u64(regs, koff.regs_arg1);
	if ((unsigned long)ret >= (unsigned long)-MAX_ERRNO)
		return 0;
	tgid = current_tgid();
	state = tracked_state(tgid);
	if (!state || *state != TRACK_RUNNING)
		return 0;
	if (bpf_find_vma(bpf_get_current_task_btf(), ret, inspect_vma, &c, 0) || !c.exec_file)
		return 0;
	if (bpf_map_lookup_elem(&known, &c.file))
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = UKCOV_EV_MMAP;
	ev->pid = tgid;
	ev->file = c.file;
	ev->addr = ret;
	ev->len = len;
	ev->pgoff = c.pgoff;
	bpf_probe_read_kernel_str(ev->name, sizeof(ev->name), (const void *)c.name);
	ev->held = hold_current();
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
