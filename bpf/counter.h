/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What bpf/counter.bpf.c and user/probe.c share: the layout of the events
 * the BPF side reports through its ring buffer.  Plain fixed-size types
 * only, so that both compilers lay it out alike.
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

#endif /* UKCOV_BPF_COUNTER_H */
