/* SPDX-License-Identifier: MIT */
/*
 * Offsets of kernel structure members, read from the kernel's BTF
 * (/sys/kernel/btf/vmlinux) without libbpf.
 *
 * The BPF side reads the few kernel fields it needs with
 * bpf_probe_read_kernel() at offsets userspace passes in read-only data,
 * instead of CO-RE relocations: relocations make libbpf read, parse and
 * search the whole 5.5 MB vmlinux BTF on every run (~20 ms of a ~25 ms
 * load, BENCHMARKS.md section 7).  Finding ~25 members needs one pass over
 * the type records of the mapped file (~1 ms).
 *
 * The blob is kernel-provided, but nothing in it is trusted: every header
 * field, record, string and type id is checked before it is used.
 */
#ifndef UKCOV_KERNEL_BTF_H
#define UKCOV_KERNEL_BTF_H

#include <stddef.h>
#include <stdint.h>

#define KERNEL_BTF_VMLINUX "/sys/kernel/btf/vmlinux"

/* The size of a kernel pointer member: ukcov's BPF side reads 64-bit kernels only. */
#define KERNEL_BTF_PTR_SIZE 8

/*
 * One member to find.  @path names members from the struct @type down,
 * separated by dots ("f_path.dentry"); members of anonymous structs and
 * unions are found as if they were members of the enclosing one, as in C.
 */
struct kernel_btf_field {
	const char *type;	/* a struct name: "task_struct" */
	const char *path;	/* "tgid", "live.counter" */
	unsigned int index;	/* for an array member: the element wanted
				 * (offset += index * element size); else 0 */
	unsigned int size;	/* the size in bytes the reader expects (for an
				 * array, of one element); 0: any */
	uint32_t *offset;	/* out: byte offset from the start of @type */
	uint32_t *elem_size;	/* out, may be NULL: the member's size in bytes
				 * (for an array, one element's) */
};

/* kernel_btf_resolve_file() flags. */
#define KERNEL_BTF_NO_MMAP 0x1	/* read() the file even where mmap() would work */

/*
 * Finds each of the @n fields of @fields in the BTF blob @data (@len
 * bytes, native endianness) and stores its offset (and size).  A struct
 * name the BTF has more than once is fine when every definition that
 * has the member agrees on it.
 * Returns 0, or a negative errno with the index of the field that failed
 * in *@failed (when @failed is not NULL; not set for -EINVAL):
 *   -EINVAL  the blob is malformed (header, bounds, record, string, type id)
 *   -ENOENT  no struct @type, or no such member in it
 *   -EPROTO  the member is there but not as expected: a bitfield, an
 *            offset that is not whole bytes, a size other than @size, a
 *            path through a member that is not a struct or union, an
 *            index past the array, or definitions that disagree
 *   -ENOMEM
 */
int kernel_btf_resolve(const void *data, size_t len, const struct kernel_btf_field *fields,
		       size_t n, size_t *failed);

/*
 * kernel_btf_resolve() on the BTF file @path (KERNEL_BTF_VMLINUX for the
 * running kernel's).  The file is mapped read-only where the kernel allows
 * it (sysfs BTF: Linux >= 6.16), read otherwise.  Returns what
 * kernel_btf_resolve() returns, or -errno from open()/read().
 */
int kernel_btf_resolve_file(const char *path, unsigned int flags,
			    const struct kernel_btf_field *fields, size_t n, size_t *failed);

#endif /* UKCOV_KERNEL_BTF_H */
