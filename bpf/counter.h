/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What bpf/counter.bpf.c and user/probe.c share: the layout of the events
 * the BPF side reports through its ring buffer, and of the kernel offsets
 * userspace gives it.  Plain fixed-size types only, so that both compilers
 * lay them out alike.
 */
#ifndef UKCOV_BPF_COUNTER_H
#define UKCOV_BPF_COUNTER_H

#define UKCOV_EV_PATH_MAX 256

enum ukcov_ev_type {
	UKCOV_EV_EXIT = 1,	/* a tracked process (whole thread group) exited */
	UKCOV_EV_EXEC = 2,	/* a tracked process exec'd */
	UKCOV_EV_MMAP = 3,	/* a tracked process mapped an unknown file executable */
};

/* A file as the kernel names it: its superblock's dev_t (major << 20 | minor). */
struct ukcov_file_id {
	__u64 dev;
	__u64 ino;
};

struct ukcov_event {
	__u32 type;		/* enum ukcov_ev_type */
	__u32 pid;		/* tgid, in ukcov's pid namespace */
	__u32 held;		/* 1: the process was sent SIGSTOP and waits for SIGCONT */
	__u32 pad;
	struct ukcov_file_id file;	/* EXEC, MMAP: the executable file */
	__u64 addr;		/* MMAP: start of the mapping (process vaddr) */
	__u64 len;		/* MMAP: bytes asked for */
	__u64 pgoff;		/* MMAP: file offset of the mapping, in pages */
	char name[UKCOV_EV_PATH_MAX];	/* EXEC: path given to execve;
					 * MMAP: the file's base name */
};

/*
 * Byte offsets of the kernel structure members the BPF side reads, found
 * by userspace in the running kernel's BTF (user/probe.c) and set in the
 * object's read-only data before load.  The BPF side reads each one with
 * bpf_probe_read_kernel(), at the size given here, which userspace checks
 * against the BTF.  No CO-RE relocations: they would make libbpf load the
 * whole vmlinux BTF on every run (user/kernel_btf.h).
 */
struct ukcov_kernel_offsets {
	__u32 task_tgid;		/* task_struct.tgid (4) */
	__u32 task_pid;			/* task_struct.pid (4) */
	__u32 task_group_leader;	/* task_struct.group_leader (pointer) */
	__u32 task_thread_pid;		/* task_struct.thread_pid (pointer) */
	__u32 task_signal;		/* task_struct.signal (pointer) */
	__u32 signal_live;		/* signal_struct.live.counter (4) */
	__u32 pid_level;		/* pid.level (4) */
	__u32 pid_numbers;		/* pid.numbers (struct upid[]) */
	__u32 upid_size;		/* sizeof(struct upid): numbers[] stride */
	__u32 upid_nr;			/* upid.nr (4) */
	__u32 upid_ns;			/* upid.ns (pointer) */
	__u32 pidns_inum;		/* pid_namespace.ns.inum (4) */
	__u32 bprm_file;		/* linux_binprm.file (pointer) */
	__u32 bprm_filename;		/* linux_binprm.filename (pointer) */
	__u32 file_inode;		/* file.f_inode (pointer) */
	__u32 file_dentry;		/* file.f_path.dentry (pointer) */
	__u32 inode_sb;			/* inode.i_sb (pointer) */
	__u32 inode_ino;		/* inode.i_ino (8) */
	__u32 sb_dev;			/* super_block.s_dev (4) */
	__u32 dentry_name;		/* dentry.d_name.name (pointer) */
	__u32 vma_file;			/* vm_area_struct.vm_file (pointer) */
	__u32 vma_flags;		/* vm_area_struct.vm_flags (8) */
	__u32 vma_pgoff;		/* vm_area_struct.vm_pgoff (8) */
	/* At sys_exit, in struct pt_regs: the system call's number and its
	 * 2nd and 3rd arguments (x86-64: orig_ax (8), si, dx; arm64:
	 * syscallno (4), regs[1], regs[2]). */
	__u32 regs_nr;
	__u32 regs_arg1;
	__u32 regs_arg2;
};

#endif /* UKCOV_BPF_COUNTER_H */
