/* SPDX-License-Identifier: MIT */
/*
 * The members fuzz_kernel_btf asks kernel_btf_resolve() for, shared with
 * gen_seeds (whose seed BTF has every one of them, so that the fuzzer
 * starts from inputs that resolve).
 *
 * The list is user/probe.c's find_kernel_offsets() (a copy: probe.c owns
 * the skeleton, which no fuzz build links), with both architectures'
 * pt_regs members: x86-64's by name, arm64's as elements of regs[].  In
 * 6.18, vm_flags sits in an anonymous union; pid.numbers is a flexible
 * array whose element size the caller wants.
 */
#ifndef UKCOV_FUZZ_KERNEL_BTF_H
#define UKCOV_FUZZ_KERNEL_BTF_H

#include <stdbool.h>

#include "kernel_btf.h"

struct fuzz_btf_field {
	const char *type;
	const char *path;
	unsigned int index;
	unsigned int size;	/* 0: any */
	bool elem_size;		/* the caller wants the size out */
};

#define FZ_PTR KERNEL_BTF_PTR_SIZE

static const struct fuzz_btf_field fuzz_btf_fields[] = {
	{ "task_struct", "tgid", 0, 4, false },
	{ "task_struct", "pid", 0, 4, false },
	{ "task_struct", "group_leader", 0, FZ_PTR, false },
	{ "task_struct", "thread_pid", 0, FZ_PTR, false },
	{ "task_struct", "signal", 0, FZ_PTR, false },
	{ "signal_struct", "live.counter", 0, 4, false },
	{ "pid", "level", 0, 4, false },
	{ "pid", "numbers", 0, 0, true },
	{ "upid", "nr", 0, 4, false },
	{ "upid", "ns", 0, FZ_PTR, false },
	{ "pid_namespace", "ns.inum", 0, 4, false },
	{ "linux_binprm", "file", 0, FZ_PTR, false },
	{ "linux_binprm", "filename", 0, FZ_PTR, false },
	{ "file", "f_inode", 0, FZ_PTR, false },
	{ "file", "f_path.dentry", 0, FZ_PTR, false },
	{ "inode", "i_sb", 0, FZ_PTR, false },
	{ "inode", "i_ino", 0, 8, false },
	{ "super_block", "s_dev", 0, 4, false },
	{ "dentry", "d_name.name", 0, FZ_PTR, false },
	{ "vm_area_struct", "vm_file", 0, FZ_PTR, false },
	{ "vm_area_struct", "vm_flags", 0, 8, false },
	{ "vm_area_struct", "vm_pgoff", 0, 8, false },
	{ "pt_regs", "orig_ax", 0, 8, false },
	{ "pt_regs", "si", 0, 8, false },
	{ "pt_regs", "dx", 0, 8, false },
	{ "pt_regs", "syscallno", 0, 4, false },
	{ "pt_regs", "regs", 1, 8, true },
	{ "pt_regs", "regs", 2, 8, false },
};

#define FUZZ_BTF_NFIELDS (sizeof(fuzz_btf_fields) / sizeof(fuzz_btf_fields[0]))

#undef FZ_PTR

#endif /* UKCOV_FUZZ_KERNEL_BTF_H */
